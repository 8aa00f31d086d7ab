//! Errors of the persistence layer.

/// An error of the store. Handlers map `UniqueViolation` to `EntityAlreadyExists`, `NotFound` to `NoSuchEntity`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A UNIQUE constraint failed (a name or ID that already exists). Carries SQLite's message.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// The row the operation addresses does not exist.
    #[error("entity not found")]
    NotFound,
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The batch this call was committed with could not be written: nothing of it is visible.
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// The store is closed (the server is shutting down).
    #[error("the store is closed")]
    Closed,
    /// A record of the database could not be read into the model.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::UniqueViolation(db.message().to_string())
            }
            other => StoreError::Other(other),
        }
    }
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;

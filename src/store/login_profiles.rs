//! Login profiles (console passwords). The store keeps the hash string the caller made (e.g. argon2 PHC).

use sqlx::SqliteConnection;

use super::{StoreError, StoreResult};

/// A row of `login_profiles`.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginProfileRow {
    pub user_id: String,
    pub account_id: String,
    pub password_hash: String,
    pub password_reset_required: bool,
    pub create_date: i64,
    /// When the password was last set (create or update), for MaxPasswordAge.
    pub password_changed: Option<i64>,
}

impl std::fmt::Debug for LoginProfileRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProfileRow")
            .field("user_id", &self.user_id)
            .field("password_reset_required", &self.password_reset_required)
            .field("create_date", &self.create_date)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "user_id, account_id, password_hash, password_reset_required, create_date, password_changed";

/// Creates the user's login profile. `UniqueViolation` when it already has one (→ EntityAlreadyExists).
pub async fn create(conn: &mut SqliteConnection, profile: &LoginProfileRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO login_profiles (user_id, account_id, password_hash, password_reset_required, create_date, \
         password_changed) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&profile.user_id)
    .bind(&profile.account_id)
    .bind(&profile.password_hash)
    .bind(profile.password_reset_required)
    .bind(profile.create_date)
    .bind(profile.password_changed)
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's login profile.
pub async fn get(
    conn: &mut SqliteConnection,
    user_id: &str,
) -> StoreResult<Option<LoginProfileRow>> {
    let sql = format!("SELECT {COLUMNS} FROM login_profiles WHERE user_id = ?");
    Ok(sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(conn)
        .await?)
}

/// Updates the password hash and/or the reset flag (`None` = unchanged). A new hash also sets
/// `password_changed = now` and goes to the password history. `NotFound` when the user has no profile.
pub async fn update(
    conn: &mut SqliteConnection,
    user_id: &str,
    password_hash: Option<&str>,
    password_reset_required: Option<bool>,
    now: i64,
) -> StoreResult<()> {
    let old: Option<(String, String)> =
        sqlx::query_as("SELECT password_hash, account_id FROM login_profiles WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((old_hash, account_id)) = old else {
        return Err(StoreError::NotFound);
    };
    if let Some(hash) = password_hash {
        sqlx::query(
            "INSERT INTO password_history (account_id, user_id, password_hash, create_date) VALUES (?, ?, ?, ?)",
        )
        .bind(&account_id)
        .bind(user_id)
        .bind(&old_hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE login_profiles SET password_hash = ?, password_changed = ? WHERE user_id = ?",
        )
        .bind(hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(flag) = password_reset_required {
        sqlx::query("UPDATE login_profiles SET password_reset_required = ? WHERE user_id = ?")
            .bind(flag)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The user's previous password hashes, newest first (at most `limit`), for PasswordReusePrevention.
pub async fn password_history(
    conn: &mut SqliteConnection,
    user_id: &str,
    limit: i64,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT password_hash FROM password_history WHERE user_id = ? ORDER BY seq DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Deletes the user's login profile (and its password history). `NotFound` when it has none.
pub async fn delete(conn: &mut SqliteConnection, user_id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM login_profiles WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM password_history WHERE user_id = ?")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

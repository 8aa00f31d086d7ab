//! SQLite persistence of localiam.
//!
//! * [`Store::open`] opens (and migrates) the database: `:memory:` is one in-memory database shared by every
//!   connection of the process (a single-connection pool that is never recycled); a file path is created if
//!   missing and opened in WAL mode with `synchronous=FULL`, writes going through a dedicated single-connection
//!   writer pool (`BEGIN IMMEDIATE`, so writers queue in the pool instead of failing with "database is locked") and
//!   reads through a small reader pool.
//! * Each API call is one write transaction: `let mut tx = store.begin_write().await?; ...; tx.commit().await?`.
//!   The data-access functions take `&mut SqliteConnection`, so pass `&mut tx` (or `&mut *tx`) or a reader
//!   connection (`let mut c = store.reader().acquire().await?;`).
//! * Never hold a write transaction while acquiring a reader connection: with `:memory:` both are the same single
//!   connection and that would wait for itself (until the acquire timeout). Do the reads inside the transaction.
//! * Timestamps are `i64` unix seconds (UTC); see [`ids::now`].
//! * Names are compared case-insensitively (the store lowercases with `str::to_lowercase`).
//! * Pagination: list functions take an opaque `marker: Option<&str>` produced by the previous page
//!   ([`Page::marker`]) and `max_items`; handlers hand the marker to clients as AWS's `Marker` unchanged.

pub mod access_keys;
pub mod conflicts;
pub mod error;
pub mod groups;
pub mod ids;
pub mod inline_policies;
pub mod login_profiles;
pub mod policies;
pub mod tags;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

pub use error::{StoreError, StoreResult};

/// The embedded migrations (`migrations/*.sql` at the crate root).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for the single writer connection (and SQLite for a lock) before failing.
const WAIT: Duration = Duration::from_secs(30);
/// Page cache per connection, in KiB (negative `cache_size` = KiB).
const CACHE_KIB: i64 = 1024;
/// Connections in the reader pool of a file database.
const READERS: u32 = 4;

/// One page of a list: the items and, when more follow, the marker that continues after the last item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `Some` when the list is truncated: pass it back as `marker` for the next page.
    pub marker: Option<String>,
}

impl<T> Page<T> {
    /// Whether more items follow (AWS's `IsTruncated`).
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }

    /// Builds a page from up to `max_items + 1` rows fetched in order: the extra row only tells that more follow.
    pub(crate) fn from_rows(mut rows: Vec<T>, max_items: i64, key: impl Fn(&T) -> String) -> Self {
        let max = usize::try_from(max_items.max(1)).unwrap_or(usize::MAX);
        if rows.len() > max {
            rows.truncate(max);
            let marker = rows.last().map(key);
            Page {
                items: rows,
                marker,
            }
        } else {
            Page {
                items: rows,
                marker: None,
            }
        }
    }
}

/// The database of localiam.
#[derive(Debug, Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    in_memory: bool,
}

/// A write transaction: one API call. Commit with `tx.commit().await`; dropping it rolls back.
pub type WriteTx = Transaction<'static, Sqlite>;

impl Store {
    /// Opens the database and applies the migrations. `db` is `:memory:` or a file path.
    pub async fn open(db: &str) -> StoreResult<Store> {
        let store = if db == ":memory:" || db.is_empty() {
            Self::open_memory().await?
        } else {
            Self::open_file(db).await?
        };
        MIGRATOR.run(&store.writer).await?;
        Ok(store)
    }

    async fn open_memory() -> StoreResult<Store> {
        // One connection, never closed by the pool: the database lives exactly as long as the process
        // (or until `close`). Every caller queues for it, so there is no locking at all.
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?
            .shared_cache(false)
            .foreign_keys(true)
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            // No ping round trip to the connection's worker thread on every acquire.
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(WAIT)
            .connect_with(opts)
            .await?;
        Ok(Store {
            writer: pool.clone(),
            reader: pool,
            in_memory: true,
        })
    }

    async fn open_file(path: &str) -> StoreResult<Store> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(WAIT)
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let writer = SqlitePoolOptions::new()
            // No ping round trip to the connection's worker thread on every acquire.
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(WAIT)
            .connect_with(base.clone().create_if_missing(true))
            .await?;
        let reader = SqlitePoolOptions::new()
            // No ping round trip to the connection's worker thread on every acquire.
            .test_before_acquire(false)
            .max_connections(READERS)
            .min_connections(0)
            .idle_timeout(Some(Duration::from_secs(60)))
            .acquire_timeout(WAIT)
            .connect_lazy_with(base.read_only(true));
        Ok(Store {
            writer,
            reader,
            in_memory: false,
        })
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on the single writer connection).
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The pool for read-only queries (`store.reader().acquire().await?`, or pass `store.reader()` directly to
    /// sqlx). Do not use it while holding a write transaction (see the module docs).
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Whether this is the process-wide in-memory database.
    pub fn is_in_memory(&self) -> bool {
        self.in_memory
    }

    /// Back to the freshly migrated, empty state: deletes every row of every table in one transaction.
    pub async fn reset(&self) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
        )
        .fetch_all(&mut *tx)
        .await?;
        // Children and parents in any order: foreign keys are checked at commit.
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await?;
        for (table,) in &tables {
            let sql = format!("DELETE FROM \"{}\"", table.replace('"', "\"\""));
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Graceful shutdown: checkpoints the WAL into the database file and closes every connection. Infallible:
    /// a failed checkpoint is logged and harmless (every committed write is already durable in the WAL, which
    /// SQLite replays at the next open). Using the store after `close` fails with `StoreError::Other`.
    pub async fn close(&self) {
        if !self.in_memory {
            self.reader.close().await;
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.writer)
                .await
            {
                tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
            }
        }
        self.writer.close().await;
    }
}

/// Lowercases a name for the `name_lower` columns.
pub(crate) fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Clamps AWS's `MaxItems` to the number of rows to fetch (one more than a page, to detect truncation).
pub(crate) fn fetch_limit(max_items: i64) -> i64 {
    max_items.clamp(1, 100_000) + 1
}

/// The ARN of an IAM entity: `arn:aws:iam::ACCOUNT:KIND` + `PATH` + `NAME` (the path starts and ends with `/`).
pub fn iam_arn(account_id: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:{kind}{path}{name}")
}

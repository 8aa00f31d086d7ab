//! The state of localiam: the in-memory [`Model`] every call reads, and SQLite as its durable record.
//!
//! * Reads: [`Store::read`] hands out the current snapshot (an `Arc<Model>`); nothing touches SQLite.
//! * Writes: [`Store::write`] sends a closure to the single writer task. The writer takes every call
//!   waiting in its queue, applies each to a working copy of the model (a call that fails leaves no
//!   trace: the copy is rolled back to before it), commits the records the batch changed to SQLite in
//!   one transaction (group commit), and only then publishes the new snapshot and answers the calls.
//!   So a write is durable before it is acknowledged or visible, each call is all-or-nothing, and
//!   concurrent calls behave as if they ran one after another. If the commit fails, every call of the
//!   batch fails and the published state stays as it was.
//! * The record: one row per entity in `records (account, kind, id, body)`, the entity as JSON
//!   (see [`model::Entity`]). At start every row is loaded into the model.
//! * `:memory:` is an in-memory SQLite database (the memdb VFS) with the same code path; a file is opened in WAL mode
//!   with `synchronous=FULL`.

pub mod aws_managed;
pub mod error;
pub mod ids;
pub mod model;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot, Mutex};

pub use error::{StoreError, StoreResult};
pub use model::{Model, Op, Tx};

/// The embedded migrations (`migrations/*.sql` at the crate root).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long SQLite waits for a lock before failing.
const WAIT: Duration = Duration::from_secs(30);
/// Calls waiting for the writer before callers wait to enqueue.
const QUEUE: usize = 4096;
/// The most calls one batch (one SQLite transaction) takes.
const MAX_BATCH: usize = 512;

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

    /// The first `max_items` of `items` (at least one), with the marker of the last one taken when
    /// more follow.
    pub fn take(
        items: impl Iterator<Item = T>,
        max_items: i64,
        key: impl Fn(&T) -> String,
    ) -> Page<T> {
        let max = usize::try_from(max_items.max(1)).unwrap_or(usize::MAX);
        let mut items = items.peekable();
        let mut out = Vec::new();
        while out.len() < max {
            match items.next() {
                Some(i) => out.push(i),
                None => break,
            }
        }
        let marker = if items.peek().is_some() {
            out.last().map(key)
        } else {
            None
        };
        Page { items: out, marker }
    }
}

/// A call waiting for the writer: applies itself to the working model and says whether it
/// succeeded; the returned function answers the caller once the batch's commit is known.
type Job = Box<dyn FnOnce(&mut Tx<'_>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// The state of localiam: cheap to clone (every handler holds one).
#[derive(Clone)]
pub struct Store {
    current: Arc<ArcSwap<Model>>,
    jobs: mpsc::Sender<Job>,
    pool: SqlitePool,
    in_memory: bool,
    writer: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("in_memory", &self.in_memory)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (and migrates) the database, loads the model from it and starts the writer.
    /// `db` is `:memory:` or a file path.
    pub async fn open(db: &str) -> StoreResult<Store> {
        let in_memory = db == ":memory:" || db.is_empty();
        let opts = if in_memory {
            // SQLite's memdb VFS: the database is one buffer in memory, private to this connection
            // (a name without `/`), its journal in memory too. A plain `:memory:` database keeps
            // its pages in the page cache, and there every commit scanned the whole cache: a write
            // cost 12 µs at 20,000 records and 110 µs at 120,000.
            SqliteConnectOptions::new()
                .filename("localiam")
                .vfs("memdb")
                .create_if_missing(true)
        } else {
            SqliteConnectOptions::new()
                .filename(db)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
        }
        .busy_timeout(WAIT);
        // One connection, never recycled: the writer is its only user after the load (and an
        // in-memory database lives exactly as long as it).
        let pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(WAIT)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        if in_memory {
            // The migrations leave a new database with ~107 free pages (438 KB: the tables of
            // the first schema, dropped by the second), which an in-memory database would keep
            // for its whole life. Rebuilt, it holds two; but the memdb buffer stays as large as
            // the migrations made it, so a copy of exactly the rebuilt database replaces it
            // (a copy without the VACUUM would carry the free pages along).
            sqlx::query("VACUUM").execute(&pool).await?;
            let mut conn = pool.acquire().await?;
            let image = conn.serialize(None).await?;
            conn.deserialize(None, image, false).await?;
        }
        let model = load(&pool).await?;
        let current = Arc::new(ArcSwap::from_pointee(model));
        let (jobs, queue) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(run_writer(queue, current.clone(), pool.clone()));
        Ok(Store {
            current,
            jobs,
            pool,
            in_memory,
            writer: Arc::new(Mutex::new(Some(writer))),
        })
    }

    /// The current state: every write acknowledged so far, and nothing that is not committed.
    pub fn read(&self) -> Arc<Model> {
        self.current.load_full()
    }

    /// [`Store::read`] for a short synchronous look (not across an `.await`): arc_swap lends the
    /// model through the thread's own slots, without the shared reference count that every
    /// worker thread would otherwise increment and decrement on every request.
    pub fn peek(&self) -> arc_swap::Guard<Arc<Model>> {
        self.current.load()
    }

    /// Runs `f` as one all-or-nothing call on the model: its changes are committed to SQLite
    /// (with those of the calls that wait with it) before this returns and before anyone can see
    /// them. When `f` fails nothing of it stays; when the commit fails the call fails with
    /// `E::from(StoreError)`.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |tx: &mut Tx<'_>| {
            let result = f(tx);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit: Result<(), StoreError>| {
                let out = match (result, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Ok(_), Err(e)) => Err(E::from(e)),
                    (Err(e), _) => Err(e),
                };
                let _ = answer.send(out);
            });
            (ok, reply)
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| E::from(StoreError::Closed))?;
        answered.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Replaces the whole state with `state` (the seed of `--init` for a reset, an imported file's
    /// state, or nothing: empty), in one transaction.
    pub async fn replace(&self, state: Option<Arc<Model>>) -> StoreResult<()> {
        self.write(move |tx| {
            tx.clear();
            if let Some(s) = state {
                tx.put_all(&s);
            }
            Ok(())
        })
        .await
    }

    /// Graceful shutdown: lets the writer finish what is queued, checkpoints the WAL into the
    /// database file and closes the connection. Writes after `close` fail with `StoreError::Closed`.
    pub async fn close(&self) {
        let handle = self.writer.lock().await.take();
        if let Some(handle) = handle {
            // The writer stops when every sender is gone; other clones may still exist, so ask it
            // to stop explicitly after the queue drains.
            let (done, stopped) = oneshot::channel::<()>();
            let stop: Job = Box::new(move |_| {
                (
                    true,
                    Box::new(move |_| {
                        let _ = done.send(());
                    }),
                )
            });
            if self.jobs.send(stop).await.is_ok() {
                let _ = stopped.await;
            }
            handle.abort();
            let _ = handle.await;
        }
        if !self.in_memory {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await
            {
                tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
            }
        }
        self.pool.close().await;
    }
}

/// Records per round trip to SQLite while loading.
const LOAD_CHUNK: i64 = 8192;
/// Separates the records of a chunk, and the fields of a record (neither can occur in a JSON text,
/// an account, a kind or an ID).
const RECORD_SEP: char = '\x1e';
const FIELD_SEP: char = '\x1f';

/// Reads every record into a model. The records come a few thousand per round trip to SQLite,
/// each chunk as one string (rows do not cross threads one by one), and three stages overlap:
/// SQLite reads chunk n+1 on its thread while chunk n is decoded (JSON) on a blocking thread and
/// chunk n-1 is put into the model here.
async fn load(pool: &SqlitePool) -> StoreResult<Model> {
    let mut model = Model::default();
    let mut sink = Vec::new();
    let mut tx = Tx::new(&mut model, &mut sink);
    let started = std::time::Instant::now();
    let mut records = 0usize;
    let mut fetching = tokio::spawn(fetch_chunk(
        pool.clone(),
        [String::new(), String::new(), String::new()],
    ));
    let mut decoding: Option<tokio::task::JoinHandle<Result<Vec<model::Loaded>, String>>> = None;
    loop {
        let chunk = (&mut fetching)
            .await
            .map_err(|e| StoreError::Corrupt(e.to_string()))??;
        let next = match chunk.rsplit(RECORD_SEP).next().filter(|r| !r.is_empty()) {
            Some(last) => {
                let mut f = last.splitn(4, FIELD_SEP).map(str::to_string);
                let mut field = || {
                    f.next()
                        .ok_or_else(|| StoreError::Corrupt("a truncated record".into()))
                };
                let after = [field()?, field()?, field()?];
                fetching = tokio::spawn(fetch_chunk(pool.clone(), after));
                Some(tokio::task::spawn_blocking(move || decode_chunk(&chunk)))
            }
            None => None,
        };
        if let Some(d) = decoding.take() {
            let loaded = d
                .await
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                .map_err(StoreError::Corrupt)?;
            records += loaded.len();
            for l in loaded {
                l(&mut tx);
            }
        }
        match next {
            Some(d) => decoding = Some(d),
            None => break,
        }
    }
    release_free_memory();
    tracing::debug!(
        records,
        ms = started.elapsed().as_millis() as u64,
        "model loaded"
    );
    Ok(model)
}

/// Gives the memory the load used and freed (chunks, decoding on other threads' malloc arenas)
/// back to the system, so that the resident size is what the model holds.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: glibc's malloc_trim only returns free pages of the malloc heaps to the kernel;
        // it takes the arenas' locks itself and touches no memory in use.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// The records after `after` (account, kind, ID), at most [`LOAD_CHUNK`] of them, in key order:
/// `account FIELD kind FIELD id FIELD body`, separated by [`RECORD_SEP`]; empty after the last.
async fn fetch_chunk(pool: SqlitePool, after: [String; 3]) -> StoreResult<String> {
    let chunk: Option<String> = sqlx::query_scalar(
        "SELECT group_concat(account || char(31) || kind || char(31) || id || char(31) || body, \
         char(30)) FROM (SELECT account, kind, id, body FROM records \
         WHERE (account, kind, id) > (?1, ?2, ?3) ORDER BY account, kind, id LIMIT ?4)",
    )
    .bind(&after[0])
    .bind(&after[1])
    .bind(&after[2])
    .bind(LOAD_CHUNK)
    .fetch_one(&pool)
    .await?;
    Ok(chunk.unwrap_or_default())
}

/// Decodes the records of a chunk.
fn decode_chunk(chunk: &str) -> Result<Vec<model::Loaded>, String> {
    chunk
        .split(RECORD_SEP)
        .map(|record| {
            let mut f = record.splitn(4, FIELD_SEP);
            let (_, kind, _, body) = (f.next(), f.next(), f.next(), f.next());
            match (kind, body) {
                (Some(kind), Some(body)) => model::decode_record(kind, body),
                _ => Err("a truncated record".to_string()),
            }
        })
        .collect()
}

/// The writer: batches of waiting calls, applied, committed, published.
async fn run_writer(
    mut queue: mpsc::Receiver<Job>,
    current: Arc<ArcSwap<Model>>,
    pool: SqlitePool,
) {
    let mut batch: Vec<Job> = Vec::new();
    while let Some(first) = queue.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let published = current.load_full();
        let mut working: Model = (*published).clone();
        let mut ops: Vec<Op> = Vec::new();
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            let mark = ops.len();
            // A call that panics is a failed call (its caller gets `Closed`); the writer goes on.
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                job(&mut Tx::new(&mut working, &mut ops))
            }));
            let (ok, reply, panicked) = match run {
                Ok((ok, reply)) => (ok, Some(reply), false),
                Err(_) => {
                    tracing::error!("a write call panicked; it is undone");
                    (false, None, true)
                }
            };
            if !ok && (ops.len() > mark || panicked) {
                // The call failed after it changed something: rebuild the working model from
                // the published one and what the batch's earlier calls did. (No copy is kept
                // per call: that would make every change copy the nodes it touches.)
                ops.truncate(mark);
                working = (*published).clone();
                if let Err(e) = model::replay(&mut working, &ops) {
                    tracing::error!(error = %e, "could not rebuild the working model");
                }
            }
            replies.extend(reply);
        }
        let outcome = if ops.is_empty() {
            Ok(())
        } else {
            match persist(&pool, &ops).await {
                Ok(()) => {
                    current.store(Arc::new(working));
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e, calls = replies.len(), "commit failed; the batch's calls fail");
                    Err(e)
                }
            }
        };
        for reply in replies {
            reply(match &outcome {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::CommitFailed(e.to_string())),
            });
        }
    }
}

/// Writes a batch's changes in one transaction. Changes to the same record are coalesced (the
/// last one wins); a `Clear` drops everything before it.
async fn persist(pool: &SqlitePool, ops: &[Op]) -> StoreResult<()> {
    let start = ops
        .iter()
        .rposition(|o| matches!(o, Op::Clear))
        .map_or(0, |i| i + 1);
    let clear = start > 0;
    let mut last: std::collections::HashMap<(&str, &str, &str), Option<&str>> =
        std::collections::HashMap::new();
    for op in &ops[start..] {
        match op {
            Op::Put {
                account,
                kind,
                id,
                body,
            } => {
                last.insert((account, kind, id), Some(body));
            }
            Op::Delete { account, kind, id } => {
                last.insert((account, kind, id), None);
            }
            Op::Clear => {}
        }
    }
    let mut puts = Vec::new();
    let mut deletes = Vec::new();
    for ((account, kind, id), body) in last {
        match body {
            Some(b) => puts.push([account, kind, id, b]),
            None => deletes.push([account, kind, id]),
        }
    }
    let mut statements: Vec<(String, Vec<&str>)> = Vec::new();
    if clear {
        statements.push(("DELETE FROM records".into(), Vec::new()));
    }
    for rows in puts.chunks(ROWS_PER_STATEMENT) {
        statements.push((
            rows_sql(UPSERT, "(?,?,?,?)", rows.len(), UPSERT_END),
            rows.iter().flatten().copied().collect(),
        ));
    }
    for rows in deletes.chunks(ROWS_PER_STATEMENT) {
        statements.push((
            rows_sql(DELETE, "(?,?,?)", rows.len(), ")"),
            rows.iter().flatten().copied().collect(),
        ));
    }
    // One statement is a transaction of its own (one round trip to SQLite's thread); several are
    // wrapped in one. The transaction is driven with plain statements on the one connection:
    // after a failed COMMIT (disk full, read-only file) a ROLLBACK leaves the connection clean.
    let wrap = statements.len() > 1;
    let mut conn = pool.acquire().await?;
    let result = async {
        if wrap {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        }
        for (sql, args) in statements {
            let mut q = sqlx::query(&sql);
            for a in args {
                q = q.bind(a);
            }
            q.execute(&mut *conn).await?;
        }
        if wrap {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    if result.is_err() && wrap {
        // SQLite may have rolled back already; a second ROLLBACK only says so.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    result
}

/// The most rows one statement writes (4 parameters each; SQLite allows 32,766). A batch of more
/// takes several statements in one transaction.
const ROWS_PER_STATEMENT: usize = 128;
const UPSERT: &str = "INSERT INTO records (account, kind, id, body) VALUES ";
const UPSERT_END: &str = " ON CONFLICT (account, kind, id) DO UPDATE SET body = excluded.body";
const DELETE: &str = "DELETE FROM records WHERE (account, kind, id) IN (VALUES ";

/// The SQL of a statement for `n` rows: `head`, `n` times `row` separated by commas, `tail`. The
/// rows are bound as parameters (no encoding of the bodies into another text for SQLite to parse),
/// and the statement of each `n` is prepared once and cached by the connection.
fn rows_sql(head: &str, row: &str, n: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + n * (row.len() + 1) + tail.len());
    sql.push_str(head);
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql.push_str(tail);
    sql
}

/// Lowercases a name (names compare case-insensitively).
pub(crate) fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// The ARN of an IAM entity: `arn:aws:iam::ACCOUNT:KIND` + `PATH` + `NAME` (the path starts and ends with `/`).
pub fn iam_arn(account_id: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:{kind}{path}{name}")
}

#[cfg(test)]
mod tests {
    use super::model::User;
    use super::*;

    #[tokio::test]
    async fn an_in_memory_store_is_a_private_memdb_with_its_journal_in_memory() {
        let a = Store::open(":memory:").await.unwrap();
        let b = Store::open(":memory:").await.unwrap();
        a.write(|tx| tx.insert(User::new("1", "only-in-a", "/")))
            .await
            .unwrap();
        let count = |s: &Store| {
            let pool = s.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM records")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        // Each store its own database, though both have the memdb name `localiam`.
        assert_eq!(count(&a).await, 1);
        assert_eq!(count(&b).await, 0);
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&a.pool)
            .await
            .unwrap();
        assert_eq!(journal, "memory");
        // Nothing on disk: not the database, not a journal.
        for name in ["localiam", "localiam-journal", "localiam-wal"] {
            assert!(!std::path::Path::new(name).exists(), "{name} was created");
        }
        a.close().await;
        b.close().await;
    }

    #[tokio::test]
    async fn a_batch_larger_than_one_statement_is_written_whole() {
        // More puts and deletes than one statement takes (ROWS_PER_STATEMENT), in one call each,
        // then read back from the file by a new store.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let db = db.to_str().unwrap();
        let n = ROWS_PER_STATEMENT * 2 + 7;
        let store = Store::open(db).await.unwrap();
        let ids = store
            .write(move |tx| {
                (0..n)
                    .map(|i| {
                        Ok(tx
                            .insert(User::new("1", &format!("u{i}"), "/"))?
                            .user_id
                            .clone())
                    })
                    .collect::<StoreResult<Vec<_>>>()
            })
            .await
            .unwrap();
        let gone = ROWS_PER_STATEMENT + 3;
        store
            .write(move |tx| {
                for id in &ids[..gone] {
                    tx.remove::<User>("1", id)?;
                }
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        store.close().await;
        let again = Store::open(db).await.unwrap();
        let model = again.read();
        let users = &model.account("1").users;
        assert_eq!(users.len(), n - gone);
        assert!(users.get("u0").is_none());
        assert!(users.get(&format!("u{}", n - 1)).is_some());
        again.close().await;
    }

    #[tokio::test]
    async fn a_call_that_panics_is_undone_and_the_writer_goes_on() {
        let store = Store::open(":memory:").await.unwrap();
        let r = store
            .write(|tx| {
                tx.insert(User::new("1", "half", "/"))?;
                if tx.account("1").users.len() == 1 {
                    panic!("a bug in a handler");
                }
                Ok::<_, StoreError>(())
            })
            .await;
        assert!(matches!(r, Err(StoreError::Closed)));
        store
            .write(|tx| tx.insert(User::new("1", "whole", "/")).map(|_| ()))
            .await
            .unwrap();
        let names: Vec<_> = store
            .read()
            .account("1")
            .users
            .iter()
            .map(|u| u.name.clone())
            .collect();
        assert_eq!(names, ["whole"]);
        store.close().await;
    }

    #[tokio::test]
    async fn a_failed_call_after_changes_leaves_nothing_and_others_in_its_batch_stay() {
        let store = Store::open(":memory:").await.unwrap();
        let (a, b, c) = tokio::join!(
            store.write(|tx| tx.insert(User::new("1", "before", "/")).map(|_| ())),
            store.write(|tx| {
                tx.insert(User::new("1", "partial", "/"))?;
                Err::<(), _>(StoreError::NotFound)
            }),
            store.write(|tx| tx.insert(User::new("1", "after", "/")).map(|_| ())),
        );
        assert!(a.is_ok() && b.is_err() && c.is_ok());
        let model = store.read();
        let names: Vec<_> = model
            .account("1")
            .users
            .iter()
            .map(|u| u.name.clone())
            .collect();
        assert_eq!(names, ["after", "before"]);
        store.close().await;
    }
}

//! Long-term access keys (`AKIA…`) of IAM users and of account roots.

use sqlx::SqliteConnection;

use super::{iam_arn, ids, StoreError, StoreResult};

/// A row of `access_keys`. `user_id` is `None` for a root user's key.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessKeyRow {
    pub access_key_id: String,
    pub account_id: String,
    pub user_id: Option<String>,
    pub secret_access_key: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: i64,
    pub last_used_date: Option<i64>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
}

// The secret never reaches logs.
impl std::fmt::Debug for AccessKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRow")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("create_date", &self.create_date)
            .finish_non_exhaustive()
    }
}

impl AccessKeyRow {
    /// A new active key with fresh `AKIA…` ID and secret, created now.
    pub fn new(account_id: &str, user_id: Option<&str>) -> AccessKeyRow {
        AccessKeyRow {
            access_key_id: ids::access_key_id(ids::prefix::ACCESS_KEY),
            account_id: account_id.to_string(),
            user_id: user_id.map(str::to_string),
            secret_access_key: ids::secret_access_key(),
            status: "Active".to_string(),
            create_date: ids::now(),
            last_used_date: None,
            last_used_service: None,
            last_used_region: None,
        }
    }
}

/// What the signature check needs for a key ID: the secret, the status and the owner.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyOwner {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub status: String,
    pub account_id: String,
    /// `None` for a root key.
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub user_path: Option<String>,
}

impl std::fmt::Debug for KeyOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyOwner")
            .field("access_key_id", &self.access_key_id)
            .field("status", &self.status)
            .field("account_id", &self.account_id)
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

impl KeyOwner {
    /// The owner's ARN: `arn:aws:iam::ACCOUNT:user/PATH/NAME`, or `arn:aws:iam::ACCOUNT:root`.
    pub fn arn(&self) -> String {
        match (&self.user_name, &self.user_path) {
            (Some(name), Some(path)) => iam_arn(&self.account_id, "user", path, name),
            _ => format!("arn:aws:iam::{}:root", self.account_id),
        }
    }

    /// Whether the key may sign requests.
    pub fn is_active(&self) -> bool {
        self.status == "Active"
    }
}

const COLUMNS: &str =
    "k.access_key_id, k.account_id, k.user_id, k.secret_access_key, k.status, k.create_date, \
     k.last_used_date, k.last_used_service, k.last_used_region";

/// Inserts a key (for `--init`/state import with given IDs and secrets).
pub async fn insert(conn: &mut SqliteConnection, key: &AccessKeyRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, account_id, user_id, secret_access_key, status, create_date, \
         last_used_date, last_used_service, last_used_region) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&key.access_key_id)
    .bind(&key.account_id)
    .bind(&key.user_id)
    .bind(&key.secret_access_key)
    .bind(&key.status)
    .bind(key.create_date)
    .bind(key.last_used_date)
    .bind(&key.last_used_service)
    .bind(&key.last_used_region)
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates an active key with fresh ID and secret for the user (`None` = the account's root) and returns it.
/// The caller checks the two-keys-per-user limit with [`count_for_user`] first.
pub async fn create(
    conn: &mut SqliteConnection,
    account_id: &str,
    user_id: Option<&str>,
) -> StoreResult<AccessKeyRow> {
    let key = AccessKeyRow::new(account_id, user_id);
    insert(conn, &key).await?;
    Ok(key)
}

/// Keys of an IAM user, oldest first.
pub async fn list_for_user(
    conn: &mut SqliteConnection,
    user_id: &str,
) -> StoreResult<Vec<AccessKeyRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_keys k WHERE k.user_id = ? ORDER BY k.create_date, k.access_key_id"
    );
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

/// Keys of the account's root user, oldest first.
pub async fn list_for_root(
    conn: &mut SqliteConnection,
    account_id: &str,
) -> StoreResult<Vec<AccessKeyRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_keys k WHERE k.account_id = ? AND k.user_id IS NULL \
         ORDER BY k.create_date, k.access_key_id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(account_id)
        .fetch_all(conn)
        .await?)
}

/// The key row of that ID.
pub async fn get(
    conn: &mut SqliteConnection,
    access_key_id: &str,
) -> StoreResult<Option<AccessKeyRow>> {
    let sql = format!("SELECT {COLUMNS} FROM access_keys k WHERE k.access_key_id = ?");
    Ok(sqlx::query_as(&sql)
        .bind(access_key_id)
        .fetch_optional(conn)
        .await?)
}

/// The signature hot path: key ID → secret, status and owner (one primary-key lookup and one join).
pub async fn lookup(
    conn: &mut SqliteConnection,
    access_key_id: &str,
) -> StoreResult<Option<KeyOwner>> {
    Ok(sqlx::query_as(
        "SELECT k.access_key_id, k.secret_access_key, k.status, k.account_id, k.user_id, \
         u.name AS user_name, u.path AS user_path \
         FROM access_keys k LEFT JOIN users u ON u.user_id = k.user_id WHERE k.access_key_id = ?",
    )
    .bind(access_key_id)
    .fetch_optional(conn)
    .await?)
}

/// Sets `Active`/`Inactive`. `NotFound` when the key does not exist.
pub async fn update_status(
    conn: &mut SqliteConnection,
    access_key_id: &str,
    status: &str,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE access_keys SET status = ? WHERE access_key_id = ?")
        .bind(status)
        .bind(access_key_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a key. `NotFound` when it does not exist.
pub async fn delete(conn: &mut SqliteConnection, access_key_id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM access_keys WHERE access_key_id = ?")
        .bind(access_key_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records a use of the key (GetAccessKeyLastUsed). A missing key is ignored (it may have been deleted meanwhile).
pub async fn record_last_used(
    conn: &mut SqliteConnection,
    access_key_id: &str,
    when: i64,
    service: &str,
    region: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE access_keys SET last_used_date = ?, last_used_service = ?, last_used_region = ? \
         WHERE access_key_id = ?",
    )
    .bind(when)
    .bind(service)
    .bind(region)
    .bind(access_key_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Number of keys of an IAM user (AWS allows two).
pub async fn count_for_user(conn: &mut SqliteConnection, user_id: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM access_keys WHERE user_id = ?")
            .bind(user_id)
            .fetch_one(conn)
            .await?,
    )
}

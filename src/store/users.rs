//! IAM users.

use sqlx::SqliteConnection;

use super::{fetch_limit, iam_arn, ids, lower, Page, StoreError, StoreResult};

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub create_date: i64,
    pub password_last_used: Option<i64>,
    pub permissions_boundary_arn: Option<String>,
}

impl UserRow {
    /// A new user with a fresh `AIDA…` ID, created now.
    pub fn new(account_id: &str, name: &str, path: &str) -> UserRow {
        UserRow {
            user_id: ids::unique_id(ids::prefix::USER),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            create_date: ids::now(),
            password_last_used: None,
            permissions_boundary_arn: None,
        }
    }

    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "user", &self.path, &self.name)
    }
}

pub(crate) const COLUMNS: &str = "u.user_id, u.account_id, u.name, u.path, u.create_date, \
     u.password_last_used, u.permissions_boundary_arn";

/// Inserts a user. `UniqueViolation` when the name (case-insensitively) or the ID exists.
pub async fn insert(conn: &mut SqliteConnection, user: &UserRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (user_id, account_id, name, name_lower, path, create_date, password_last_used, \
         permissions_boundary_arn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&user.user_id)
    .bind(&user.account_id)
    .bind(&user.name)
    .bind(lower(&user.name))
    .bind(&user.path)
    .bind(user.create_date)
    .bind(user.password_last_used)
    .bind(&user.permissions_boundary_arn)
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates a user with a fresh ID (see [`UserRow::new`]) and returns it.
pub async fn create(
    conn: &mut SqliteConnection,
    account_id: &str,
    name: &str,
    path: &str,
) -> StoreResult<UserRow> {
    let user = UserRow::new(account_id, name, path);
    insert(conn, &user).await?;
    Ok(user)
}

/// The user of that name (case-insensitive) in the account.
pub async fn get_by_name(
    conn: &mut SqliteConnection,
    account_id: &str,
    name: &str,
) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.account_id = ? AND u.name_lower = ?");
    Ok(sqlx::query_as(&sql)
        .bind(account_id)
        .bind(lower(name))
        .fetch_optional(conn)
        .await?)
}

/// The user with that unique ID.
pub async fn get_by_id(conn: &mut SqliteConnection, user_id: &str) -> StoreResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.user_id = ?");
    Ok(sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(conn)
        .await?)
}

/// Users of the account whose path starts with `path_prefix` (case-sensitive, `None` = all), ordered by name
/// (case-insensitively). `marker` continues after the previous page (it is the last name, lowercased).
pub async fn list(
    conn: &mut SqliteConnection,
    account_id: &str,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max_items: i64,
) -> StoreResult<Page<UserRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users u WHERE u.account_id = ?1 \
         AND (?2 IS NULL OR substr(u.path, 1, length(?2)) = ?2) \
         AND (?3 IS NULL OR u.name_lower > ?3) \
         ORDER BY u.name_lower LIMIT ?4"
    );
    let rows: Vec<UserRow> = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(path_prefix)
        .bind(marker)
        .bind(fetch_limit(max_items))
        .fetch_all(conn)
        .await?;
    Ok(Page::from_rows(rows, max_items, |u| lower(&u.name)))
}

/// Number of users in the account (for GetAccountSummary).
pub async fn count(conn: &mut SqliteConnection, account_id: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE account_id = ?")
            .bind(account_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Renames and/or moves a user. `NotFound` when the ID does not exist, `UniqueViolation` when the new name is taken.
/// Memberships, keys, policies and tags follow (they reference the user ID).
pub async fn update(
    conn: &mut SqliteConnection,
    user_id: &str,
    new_name: Option<&str>,
    new_path: Option<&str>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE users SET name = COALESCE(?2, name), name_lower = COALESCE(?3, name_lower), \
         path = COALESCE(?4, path) WHERE user_id = ?1",
    )
    .bind(user_id)
    .bind(new_name)
    .bind(new_name.map(lower))
    .bind(new_path)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Sets (`Some(arn)`) or clears (`None`) the user's permissions boundary. `NotFound` when the user does not exist.
pub async fn set_permissions_boundary(
    conn: &mut SqliteConnection,
    user_id: &str,
    policy_arn: Option<&str>,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE users SET permissions_boundary_arn = ? WHERE user_id = ?")
        .bind(policy_arn)
        .bind(user_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Records a console sign-in (PasswordLastUsed).
pub async fn set_password_last_used(
    conn: &mut SqliteConnection,
    user_id: &str,
    when: i64,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE users SET password_last_used = ? WHERE user_id = ?")
        .bind(when)
        .bind(user_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes the user and, by cascade, everything that hangs off it. Check [`super::conflicts`] first to answer
/// AWS's `DeleteConflict`. `NotFound` when the user does not exist.
pub async fn delete(conn: &mut SqliteConnection, user_id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM users WHERE user_id = ?")
        .bind(user_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

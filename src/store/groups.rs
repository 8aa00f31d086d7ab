//! IAM groups and group membership.

use sqlx::SqliteConnection;

use super::users::{UserRow, COLUMNS as USER_COLUMNS};
use super::{fetch_limit, iam_arn, ids, lower, Page, StoreError, StoreResult};

/// A row of `iam_groups`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupRow {
    pub group_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub create_date: i64,
}

impl GroupRow {
    /// A new group with a fresh `AGPA…` ID, created now.
    pub fn new(account_id: &str, name: &str, path: &str) -> GroupRow {
        GroupRow {
            group_id: ids::unique_id(ids::prefix::GROUP),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            create_date: ids::now(),
        }
    }

    /// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "group", &self.path, &self.name)
    }
}

const COLUMNS: &str = "g.group_id, g.account_id, g.name, g.path, g.create_date";

/// Inserts a group. `UniqueViolation` when the name (case-insensitively) or the ID exists.
pub async fn insert(conn: &mut SqliteConnection, group: &GroupRow) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO iam_groups (group_id, account_id, name, name_lower, path, create_date) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&group.group_id)
    .bind(&group.account_id)
    .bind(&group.name)
    .bind(lower(&group.name))
    .bind(&group.path)
    .bind(group.create_date)
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates a group with a fresh ID and returns it.
pub async fn create(
    conn: &mut SqliteConnection,
    account_id: &str,
    name: &str,
    path: &str,
) -> StoreResult<GroupRow> {
    let group = GroupRow::new(account_id, name, path);
    insert(conn, &group).await?;
    Ok(group)
}

/// The group of that name (case-insensitive) in the account.
pub async fn get_by_name(
    conn: &mut SqliteConnection,
    account_id: &str,
    name: &str,
) -> StoreResult<Option<GroupRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM iam_groups g WHERE g.account_id = ? AND g.name_lower = ?");
    Ok(sqlx::query_as(&sql)
        .bind(account_id)
        .bind(lower(name))
        .fetch_optional(conn)
        .await?)
}

/// The group with that unique ID.
pub async fn get_by_id(
    conn: &mut SqliteConnection,
    group_id: &str,
) -> StoreResult<Option<GroupRow>> {
    let sql = format!("SELECT {COLUMNS} FROM iam_groups g WHERE g.group_id = ?");
    Ok(sqlx::query_as(&sql)
        .bind(group_id)
        .fetch_optional(conn)
        .await?)
}

/// Groups of the account by path prefix (case-sensitive, `None` = all), ordered by name; marker = last name
/// lowercased.
pub async fn list(
    conn: &mut SqliteConnection,
    account_id: &str,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max_items: i64,
) -> StoreResult<Page<GroupRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM iam_groups g WHERE g.account_id = ?1 \
         AND (?2 IS NULL OR substr(g.path, 1, length(?2)) = ?2) \
         AND (?3 IS NULL OR g.name_lower > ?3) \
         ORDER BY g.name_lower LIMIT ?4"
    );
    let rows: Vec<GroupRow> = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(path_prefix)
        .bind(marker)
        .bind(fetch_limit(max_items))
        .fetch_all(conn)
        .await?;
    Ok(Page::from_rows(rows, max_items, |g| lower(&g.name)))
}

/// Number of groups in the account.
pub async fn count(conn: &mut SqliteConnection, account_id: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM iam_groups WHERE account_id = ?")
            .bind(account_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Renames and/or moves a group. `NotFound` / `UniqueViolation` as for users.
pub async fn update(
    conn: &mut SqliteConnection,
    group_id: &str,
    new_name: Option<&str>,
    new_path: Option<&str>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE iam_groups SET name = COALESCE(?2, name), name_lower = COALESCE(?3, name_lower), \
         path = COALESCE(?4, path) WHERE group_id = ?1",
    )
    .bind(group_id)
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

/// Deletes the group (memberships, attachments and inline policies cascade). Check [`super::conflicts`] first.
pub async fn delete(conn: &mut SqliteConnection, group_id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM iam_groups WHERE group_id = ?")
        .bind(group_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Adds the user to the group. Returns `false` when it was already a member (AWS answers success either way).
pub async fn add_member(
    conn: &mut SqliteConnection,
    account_id: &str,
    group_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO group_members (account_id, group_id, user_id) VALUES (?, ?, ?) \
         ON CONFLICT (group_id, user_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(group_id)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the user from the group. Returns `false` when it was not a member.
pub async fn remove_member(
    conn: &mut SqliteConnection,
    group_id: &str,
    user_id: &str,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM group_members WHERE group_id = ? AND user_id = ?")
        .bind(group_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Members of the group (GetGroup), ordered by user name; marker = last user name lowercased.
pub async fn list_members(
    conn: &mut SqliteConnection,
    group_id: &str,
    marker: Option<&str>,
    max_items: i64,
) -> StoreResult<Page<UserRow>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM group_members m JOIN users u ON u.user_id = m.user_id \
         WHERE m.group_id = ?1 AND (?2 IS NULL OR u.name_lower > ?2) ORDER BY u.name_lower LIMIT ?3"
    );
    let rows: Vec<UserRow> = sqlx::query_as(&sql)
        .bind(group_id)
        .bind(marker)
        .bind(fetch_limit(max_items))
        .fetch_all(conn)
        .await?;
    Ok(Page::from_rows(rows, max_items, |u| lower(&u.name)))
}

/// Groups the user belongs to (ListGroupsForUser), ordered by group name; marker = last group name lowercased.
pub async fn groups_for_user(
    conn: &mut SqliteConnection,
    user_id: &str,
    marker: Option<&str>,
    max_items: i64,
) -> StoreResult<Page<GroupRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM group_members m JOIN iam_groups g ON g.group_id = m.group_id \
         WHERE m.user_id = ?1 AND (?2 IS NULL OR g.name_lower > ?2) ORDER BY g.name_lower LIMIT ?3"
    );
    let rows: Vec<GroupRow> = sqlx::query_as(&sql)
        .bind(user_id)
        .bind(marker)
        .bind(fetch_limit(max_items))
        .fetch_all(conn)
        .await?;
    Ok(Page::from_rows(rows, max_items, |g| lower(&g.name)))
}

/// All groups of the user, unpaginated (for policy evaluation).
pub async fn all_groups_for_user(
    conn: &mut SqliteConnection,
    user_id: &str,
) -> StoreResult<Vec<GroupRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM group_members m JOIN iam_groups g ON g.group_id = m.group_id \
         WHERE m.user_id = ? ORDER BY g.name_lower"
    );
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

//! Inline policies of users, groups and roles. Names are unique case-insensitively per owner; documents are
//! stored decoded (the handler URL-encodes on output).

use sqlx::SqliteConnection;

use super::{lower, StoreError, StoreResult};

/// The kind of principal that owns an inline policy or a managed-policy attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Group,
    Role,
}

impl PrincipalKind {
    pub(crate) fn inline_table(self) -> &'static str {
        match self {
            PrincipalKind::User => "user_inline_policies",
            PrincipalKind::Group => "group_inline_policies",
            PrincipalKind::Role => "role_inline_policies",
        }
    }

    pub(crate) fn attachment_table(self) -> &'static str {
        match self {
            PrincipalKind::User => "user_policy_attachments",
            PrincipalKind::Group => "group_policy_attachments",
            PrincipalKind::Role => "role_policy_attachments",
        }
    }

    /// The owner ID column (`user_id`, `group_id`, `role_id`).
    pub(crate) fn id_column(self) -> &'static str {
        match self {
            PrincipalKind::User => "user_id",
            PrincipalKind::Group => "group_id",
            PrincipalKind::Role => "role_id",
        }
    }
}

/// One inline policy.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
}

/// Creates or replaces the owner's inline policy of that name (PutUserPolicy, …). The owner must exist
/// (`ForeignKeyViolation` otherwise).
pub async fn put(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    account_id: &str,
    owner_id: &str,
    name: &str,
    document: &str,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (account_id, {}, name, name_lower, document) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT ({}, name_lower) DO UPDATE SET name = excluded.name, document = excluded.document",
        kind.inline_table(),
        kind.id_column(),
        kind.id_column()
    );
    sqlx::query(&sql)
        .bind(account_id)
        .bind(owner_id)
        .bind(name)
        .bind(lower(name))
        .bind(document)
        .execute(conn)
        .await?;
    Ok(())
}

/// The owner's inline policy of that name (case-insensitive).
pub async fn get(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    owner_id: &str,
    name: &str,
) -> StoreResult<Option<InlinePolicy>> {
    let sql = format!(
        "SELECT name, document FROM {} WHERE {} = ? AND name_lower = ?",
        kind.inline_table(),
        kind.id_column()
    );
    Ok(sqlx::query_as(&sql)
        .bind(owner_id)
        .bind(lower(name))
        .fetch_optional(conn)
        .await?)
}

/// Names of the owner's inline policies, ordered by name (ListUserPolicies, …; paginate in the handler, AWS caps
/// the total size of inline policies so the list is short).
pub async fn list_names(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    owner_id: &str,
) -> StoreResult<Vec<String>> {
    let sql = format!(
        "SELECT name FROM {} WHERE {} = ? ORDER BY name_lower",
        kind.inline_table(),
        kind.id_column()
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(owner_id)
        .fetch_all(conn)
        .await?)
}

/// All inline policies of the owner with their documents, ordered by name (for evaluation and
/// GetAccountAuthorizationDetails).
pub async fn list(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    owner_id: &str,
) -> StoreResult<Vec<InlinePolicy>> {
    let sql = format!(
        "SELECT name, document FROM {} WHERE {} = ? ORDER BY name_lower",
        kind.inline_table(),
        kind.id_column()
    );
    Ok(sqlx::query_as(&sql).bind(owner_id).fetch_all(conn).await?)
}

/// Deletes the owner's inline policy of that name. `NotFound` when there is none.
pub async fn delete(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    owner_id: &str,
    name: &str,
) -> StoreResult<()> {
    let sql = format!(
        "DELETE FROM {} WHERE {} = ? AND name_lower = ?",
        kind.inline_table(),
        kind.id_column()
    );
    let done = sqlx::query(&sql)
        .bind(owner_id)
        .bind(lower(name))
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Number of inline policies of the owner.
pub async fn count(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    owner_id: &str,
) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE {} = ?",
        kind.inline_table(),
        kind.id_column()
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(owner_id)
        .fetch_one(conn)
        .await?)
}

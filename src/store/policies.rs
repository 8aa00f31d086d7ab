//! Managed policies, their versions, attachments to users/groups/roles and permissions-boundary usage.
//!
//! AWS managed policies live in the same table with `account_id = 'aws'`; they are attached from any account, so
//! attachment and boundary-usage counts are always computed for a *viewer* account.

use sqlx::SqliteConnection;

use super::inline_policies::PrincipalKind;
use super::{fetch_limit, iam_arn, ids, lower, Page, StoreError, StoreResult};

/// The `account_id` of AWS managed policies.
pub const AWS_ACCOUNT: &str = "aws";

/// A managed policy, with its counts for the viewer account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    pub policy_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub default_version_id: String,
    pub is_attachable: bool,
    pub description: Option<String>,
    pub create_date: i64,
    pub update_date: i64,
    /// Users, groups and roles of the viewer account it is attached to (0 on insert).
    pub attachment_count: i64,
    /// Users and roles of the viewer account using it as permissions boundary (0 on insert).
    pub permissions_boundary_usage_count: i64,
}

impl PolicyRow {
    /// A new customer managed policy with a fresh `ANPA…` ID, created now.
    pub fn new(account_id: &str, name: &str, path: &str, description: Option<&str>) -> PolicyRow {
        let now = ids::now();
        PolicyRow {
            policy_id: ids::unique_id(ids::prefix::POLICY),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            default_version_id: "v1".to_string(),
            is_attachable: true,
            description: description.map(str::to_string),
            create_date: now,
            update_date: now,
            attachment_count: 0,
            permissions_boundary_usage_count: 0,
        }
    }

    /// `arn:aws:iam::ACCOUNT:policy/PATH/NAME` (`arn:aws:iam::aws:policy/…` for AWS managed policies).
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "policy", &self.path, &self.name)
    }

    /// Whether this is an AWS managed policy.
    pub fn is_aws_managed(&self) -> bool {
        self.account_id == AWS_ACCOUNT
    }
}

/// Splits a policy ARN into (account, path, name). `None` when it is not a policy ARN.
pub fn parse_policy_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("policy")?;
    if !rest.starts_with('/') {
        return None;
    }
    let cut = rest.rfind('/')?;
    let (path, name) = (&rest[..=cut], &rest[cut + 1..]);
    if account.is_empty() || name.is_empty() {
        return None;
    }
    Some((account, path, name))
}

/// A policy version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyVersionRow {
    pub policy_id: String,
    pub version_id: String,
    pub document: String,
    pub create_date: i64,
    pub is_default_version: bool,
}

/// A policy attached to a principal (ListAttachedUserPolicies, …).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttachedPolicy {
    pub policy_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
}

impl AttachedPolicy {
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "policy", &self.path, &self.name)
    }
}

/// A user, group or role a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntityRef {
    pub id: String,
    pub name: String,
    pub path: String,
}

/// ListEntitiesForPolicy: attached users, groups and roles of the viewer account, each ordered by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyEntities {
    pub users: Vec<EntityRef>,
    pub groups: Vec<EntityRef>,
    pub roles: Vec<EntityRef>,
}

/// ListPolicies `Scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyScope {
    #[default]
    All,
    Aws,
    Local,
}

/// ListPolicies `PolicyUsageFilter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyUsage {
    PermissionsPolicy,
    PermissionsBoundary,
}

/// Filters of ListPolicies.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyFilter<'a> {
    pub scope: PolicyScope,
    /// Case-sensitive path prefix; `None` = all.
    pub path_prefix: Option<&'a str>,
    /// Only policies attached in the viewer account (as permissions policy; as boundary when
    /// `usage == Some(PermissionsBoundary)`).
    pub only_attached: bool,
    pub usage: Option<PolicyUsage>,
}

/// The SELECT of a policy with its counts for the viewer account bound as `?1`.
const SELECT: &str = "SELECT p.policy_id, p.account_id, p.name, p.name_lower, p.path, p.default_version_id, \
     p.is_attachable, p.description, p.create_date, p.update_date, \
     ((SELECT COUNT(*) FROM user_policy_attachments a WHERE a.policy_id = p.policy_id AND a.account_id = ?1) \
      + (SELECT COUNT(*) FROM group_policy_attachments a WHERE a.policy_id = p.policy_id AND a.account_id = ?1) \
      + (SELECT COUNT(*) FROM role_policy_attachments a WHERE a.policy_id = p.policy_id AND a.account_id = ?1) \
     ) AS attachment_count, \
     ((SELECT COUNT(*) FROM users x WHERE x.account_id = ?1 \
         AND x.permissions_boundary_arn = 'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name) \
      + (SELECT COUNT(*) FROM roles x WHERE x.account_id = ?1 \
         AND x.permissions_boundary_arn = 'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name) \
     ) AS permissions_boundary_usage_count \
     FROM policies p";

/// Creates a managed policy with `document` as its default version `v1` (created at `policy.create_date`).
/// `UniqueViolation` when the account already has a policy of that name (case-insensitively).
pub async fn create(
    conn: &mut SqliteConnection,
    policy: &PolicyRow,
    document: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policies (policy_id, account_id, name, name_lower, path, default_version_id, next_version, \
         is_attachable, description, create_date, update_date) VALUES (?, ?, ?, ?, ?, 'v1', 2, ?, ?, ?, ?)",
    )
    .bind(&policy.policy_id)
    .bind(&policy.account_id)
    .bind(&policy.name)
    .bind(lower(&policy.name))
    .bind(&policy.path)
    .bind(policy.is_attachable)
    .bind(&policy.description)
    .bind(policy.create_date)
    .bind(policy.update_date)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO policy_versions (policy_id, version_id, version_num, document, create_date, account_id) \
         VALUES (?, 'v1', 1, ?, ?, ?)",
    )
    .bind(&policy.policy_id)
    .bind(document)
    .bind(policy.create_date)
    .bind(&policy.account_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The policy of that ARN (exact path and name), with counts for `viewer_account`.
pub async fn get_by_arn(
    conn: &mut SqliteConnection,
    viewer_account: &str,
    arn: &str,
) -> StoreResult<Option<PolicyRow>> {
    let Some((account, path, name)) = parse_policy_arn(arn) else {
        return Ok(None);
    };
    let sql = format!("{SELECT} WHERE p.account_id = ?2 AND p.path = ?3 AND p.name = ?4");
    Ok(sqlx::query_as(&sql)
        .bind(viewer_account)
        .bind(account)
        .bind(path)
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// The policy with that unique ID, with counts for `viewer_account`.
pub async fn get_by_id(
    conn: &mut SqliteConnection,
    viewer_account: &str,
    policy_id: &str,
) -> StoreResult<Option<PolicyRow>> {
    let sql = format!("{SELECT} WHERE p.policy_id = ?2");
    Ok(sqlx::query_as(&sql)
        .bind(viewer_account)
        .bind(policy_id)
        .fetch_optional(conn)
        .await?)
}

/// ListPolicies for `viewer_account`, ordered by name then ID. The marker is `POLICY_ID:name_lower` of the last
/// item of the previous page.
pub async fn list(
    conn: &mut SqliteConnection,
    viewer_account: &str,
    filter: &PolicyFilter<'_>,
    marker: Option<&str>,
    max_items: i64,
) -> StoreResult<Page<PolicyRow>> {
    let (aws, local) = match filter.scope {
        PolicyScope::All => (true, true),
        PolicyScope::Aws => (true, false),
        PolicyScope::Local => (false, true),
    };
    let attached_column = match filter.usage {
        Some(PolicyUsage::PermissionsBoundary) => "permissions_boundary_usage_count",
        _ => "attachment_count",
    };
    let (marker_id, marker_name) = match marker.and_then(|m| m.split_once(':')) {
        Some((id, name)) => (Some(id), Some(name)),
        None => (None, None),
    };
    let sql = format!(
        "SELECT * FROM ({SELECT} WHERE (?2 AND p.account_id = 'aws') OR (?3 AND p.account_id = ?1)) q \
         WHERE (?4 IS NULL OR substr(q.path, 1, length(?4)) = ?4) \
         AND (NOT ?5 OR q.{attached_column} > 0) \
         AND (?6 IS NULL OR q.name_lower > ?6 OR (q.name_lower = ?6 AND q.policy_id > ?7)) \
         ORDER BY q.name_lower, q.policy_id LIMIT ?8"
    );
    let rows: Vec<PolicyRow> = sqlx::query_as(&sql)
        .bind(viewer_account)
        .bind(aws)
        .bind(local)
        .bind(filter.path_prefix)
        .bind(filter.only_attached)
        .bind(marker_name)
        .bind(marker_id)
        .bind(fetch_limit(max_items))
        .fetch_all(conn)
        .await?;
    Ok(Page::from_rows(rows, max_items, |p| {
        format!("{}:{}", p.policy_id, lower(&p.name))
    }))
}

/// Deletes the policy with its versions and tags; attachments cascade too, so check [`attachment_count`] first
/// (AWS's DeleteConflict). `NotFound` when it does not exist.
pub async fn delete(conn: &mut SqliteConnection, policy_id: &str) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM policies WHERE policy_id = ?")
        .bind(policy_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Number of policies the account created (for GetAccountSummary).
pub async fn count_local(conn: &mut SqliteConnection, account_id: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM policies WHERE account_id = ?")
            .bind(account_id)
            .fetch_one(conn)
            .await?,
    )
}

// ------------------------------------------------------------------------------------------------------------
// Versions
// ------------------------------------------------------------------------------------------------------------

const VERSION_SELECT: &str = "SELECT v.policy_id, v.version_id, v.document, v.create_date, \
     (v.version_id = p.default_version_id) AS is_default_version \
     FROM policy_versions v JOIN policies p ON p.policy_id = v.policy_id";

/// CreatePolicyVersion: adds version `vN` (N = one more than any version ever created) and makes it the default
/// when asked. The caller enforces the five-version limit with [`count_versions`]. `NotFound` when the policy
/// does not exist.
pub async fn create_version(
    conn: &mut SqliteConnection,
    policy_id: &str,
    document: &str,
    set_as_default: bool,
    now: i64,
) -> StoreResult<PolicyVersionRow> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT next_version, account_id FROM policies WHERE policy_id = ?")
            .bind(policy_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((num, account_id)) = row else {
        return Err(StoreError::NotFound);
    };
    let version_id = format!("v{num}");
    sqlx::query(
        "INSERT INTO policy_versions (policy_id, version_id, version_num, document, create_date, account_id) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(policy_id)
    .bind(&version_id)
    .bind(num)
    .bind(document)
    .bind(now)
    .bind(&account_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE policies SET next_version = next_version + 1, \
         default_version_id = CASE WHEN ?2 THEN ?3 ELSE default_version_id END, \
         update_date = CASE WHEN ?2 THEN ?4 ELSE update_date END WHERE policy_id = ?1",
    )
    .bind(policy_id)
    .bind(set_as_default)
    .bind(&version_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(PolicyVersionRow {
        policy_id: policy_id.to_string(),
        version_id,
        document: document.to_string(),
        create_date: now,
        is_default_version: set_as_default,
    })
}

/// One version of the policy.
pub async fn get_version(
    conn: &mut SqliteConnection,
    policy_id: &str,
    version_id: &str,
) -> StoreResult<Option<PolicyVersionRow>> {
    let sql = format!("{VERSION_SELECT} WHERE v.policy_id = ? AND v.version_id = ?");
    Ok(sqlx::query_as(&sql)
        .bind(policy_id)
        .bind(version_id)
        .fetch_optional(conn)
        .await?)
}

/// The default version of the policy (its effective document).
pub async fn get_default_version(
    conn: &mut SqliteConnection,
    policy_id: &str,
) -> StoreResult<Option<PolicyVersionRow>> {
    let sql =
        format!("{VERSION_SELECT} WHERE v.policy_id = ? AND v.version_id = p.default_version_id");
    Ok(sqlx::query_as(&sql)
        .bind(policy_id)
        .fetch_optional(conn)
        .await?)
}

/// All versions of the policy, newest first (as AWS lists them).
pub async fn list_versions(
    conn: &mut SqliteConnection,
    policy_id: &str,
) -> StoreResult<Vec<PolicyVersionRow>> {
    let sql = format!("{VERSION_SELECT} WHERE v.policy_id = ? ORDER BY v.version_num DESC");
    Ok(sqlx::query_as(&sql).bind(policy_id).fetch_all(conn).await?)
}

/// Number of versions of the policy.
pub async fn count_versions(conn: &mut SqliteConnection, policy_id: &str) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM policy_versions WHERE policy_id = ?")
            .bind(policy_id)
            .fetch_one(conn)
            .await?,
    )
}

/// Deletes a version (the caller refuses the default version first). `NotFound` when it does not exist.
pub async fn delete_version(
    conn: &mut SqliteConnection,
    policy_id: &str,
    version_id: &str,
) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM policy_versions WHERE policy_id = ? AND version_id = ?")
        .bind(policy_id)
        .bind(version_id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// SetDefaultPolicyVersion. `NotFound` when the policy has no such version.
pub async fn set_default_version(
    conn: &mut SqliteConnection,
    policy_id: &str,
    version_id: &str,
    now: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE policies SET default_version_id = ?2, update_date = ?3 WHERE policy_id = ?1 \
         AND EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_id = ?1 AND v.version_id = ?2)",
    )
    .bind(policy_id)
    .bind(version_id)
    .bind(now)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------------------
// Attachments
// ------------------------------------------------------------------------------------------------------------

/// Attaches the policy to a user/group/role of `account_id`. Returns `false` when it was already attached
/// (AWS answers success). `ForeignKeyViolation` when the principal or the policy does not exist.
pub async fn attach(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    account_id: &str,
    principal_id: &str,
    policy_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "INSERT INTO {} (account_id, {}, policy_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        kind.attachment_table(),
        kind.id_column()
    );
    let done = sqlx::query(&sql)
        .bind(account_id)
        .bind(principal_id)
        .bind(policy_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Detaches the policy. Returns `false` when it was not attached (AWS: NoSuchEntity).
pub async fn detach(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    principal_id: &str,
    policy_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE {} = ? AND policy_id = ?",
        kind.attachment_table(),
        kind.id_column()
    );
    let done = sqlx::query(&sql)
        .bind(principal_id)
        .bind(policy_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Policies attached to the principal whose path starts with `path_prefix`, ordered by name (AWS allows at most
/// 20 per principal, so the handler paginates in memory).
pub async fn list_attached(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    principal_id: &str,
    path_prefix: Option<&str>,
) -> StoreResult<Vec<AttachedPolicy>> {
    let sql = format!(
        "SELECT p.policy_id, p.account_id, p.name, p.path FROM {} a JOIN policies p ON p.policy_id = a.policy_id \
         WHERE a.{} = ?1 AND (?2 IS NULL OR substr(p.path, 1, length(?2)) = ?2) ORDER BY p.name_lower, p.policy_id",
        kind.attachment_table(),
        kind.id_column()
    );
    Ok(sqlx::query_as(&sql)
        .bind(principal_id)
        .bind(path_prefix)
        .fetch_all(conn)
        .await?)
}

/// Number of managed policies attached to the principal.
pub async fn count_attached(
    conn: &mut SqliteConnection,
    kind: PrincipalKind,
    principal_id: &str,
) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE {} = ?",
        kind.attachment_table(),
        kind.id_column()
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(principal_id)
        .fetch_one(conn)
        .await?)
}

/// ListEntitiesForPolicy: the users, groups and roles of `account_id` the policy is attached to.
pub async fn entities_for_policy(
    conn: &mut SqliteConnection,
    account_id: &str,
    policy_id: &str,
) -> StoreResult<PolicyEntities> {
    let users = sqlx::query_as(
        "SELECT e.user_id AS id, e.name, e.path FROM user_policy_attachments a JOIN users e ON e.user_id = a.user_id \
         WHERE a.policy_id = ? AND a.account_id = ? ORDER BY e.name_lower",
    )
    .bind(policy_id)
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let groups = sqlx::query_as(
        "SELECT e.group_id AS id, e.name, e.path FROM group_policy_attachments a \
         JOIN iam_groups e ON e.group_id = a.group_id WHERE a.policy_id = ? AND a.account_id = ? ORDER BY e.name_lower",
    )
    .bind(policy_id)
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let roles = sqlx::query_as(
        "SELECT e.role_id AS id, e.name, e.path FROM role_policy_attachments a JOIN roles e ON e.role_id = a.role_id \
         WHERE a.policy_id = ? AND a.account_id = ? ORDER BY e.name_lower",
    )
    .bind(policy_id)
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    Ok(PolicyEntities {
        users,
        groups,
        roles,
    })
}

/// Number of users, groups and roles of `account_id` the policy is attached to.
pub async fn attachment_count(
    conn: &mut SqliteConnection,
    account_id: &str,
    policy_id: &str,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM user_policy_attachments WHERE policy_id = ?1 AND account_id = ?2) \
         + (SELECT COUNT(*) FROM group_policy_attachments WHERE policy_id = ?1 AND account_id = ?2) \
         + (SELECT COUNT(*) FROM role_policy_attachments WHERE policy_id = ?1 AND account_id = ?2)",
    )
    .bind(policy_id)
    .bind(account_id)
    .fetch_one(conn)
    .await?)
}

/// Number of users and roles of `account_id` using the policy ARN as permissions boundary.
pub async fn boundary_usage_count(
    conn: &mut SqliteConnection,
    account_id: &str,
    policy_arn: &str,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM users WHERE permissions_boundary_arn = ?1 AND account_id = ?2) \
         + (SELECT COUNT(*) FROM roles WHERE permissions_boundary_arn = ?1 AND account_id = ?2)",
    )
    .bind(policy_arn)
    .bind(account_id)
    .fetch_one(conn)
    .await?)
}

//! The policies that apply to a principal, gathered from the store with the identifiers and
//! types the IAM policy simulator reports (`SourcePolicyId` / `SourcePolicyType`):
//!
//! | policy | `SourcePolicyId` | `SourcePolicyType` |
//! | --- | --- | --- |
//! | user inline | policy name | `user` |
//! | group inline (every group of the user) | policy name | `group` |
//! | role inline | policy name | `role` |
//! | attached customer managed | policy name | `user-managed` |
//! | attached AWS managed | policy name | `aws-managed` |
//! | permissions boundary (default version of the boundary policy) | policy name | `user-managed` / `aws-managed` |
//!
//! Enforcement, the simulator and `/_localiam/authorize` all take their policies from here.

use std::sync::Arc;

use sqlx::SqliteConnection;

use crate::authz::{policy_evaluation_error, PolicyCache};
use crate::error::ApiError;
use crate::policy::{Policy, PolicyRef, SourceType};
use crate::store::groups::{self, GroupRow};
use crate::store::inline_policies::{self, PrincipalKind};
use crate::store::policies::{self, AWS_ACCOUNT};
use crate::store::users::UserRow;

/// One policy that applies, with where it comes from.
#[derive(Debug, Clone)]
pub struct AppliedPolicy {
    /// The simulator's `SourcePolicyId` (policy name, `PolicyInputList.1`, …); also the id the
    /// evaluator reports in matched statements.
    pub id: String,
    /// Where the evaluator files it (`PermissionsBoundary` for boundary policies).
    pub source: SourceType,
    /// The simulator's `SourcePolicyType`: `user`, `group`, `role`, `aws-managed`, `user-managed`,
    /// `resource` or `none`.
    pub simulator_type: &'static str,
    /// The ARN of a managed policy.
    pub arn: Option<String>,
    pub policy: Arc<Policy>,
}

impl AppliedPolicy {
    /// A policy given as input to a call (the simulator's `PolicyInputList.N`, …).
    pub fn input(id: String, source: SourceType, policy: Arc<Policy>) -> AppliedPolicy {
        AppliedPolicy {
            id,
            source,
            simulator_type: match source {
                SourceType::ResourcePolicy => "resource",
                _ => "none",
            },
            arn: None,
            policy,
        }
    }

    /// The evaluator's view of it.
    pub fn as_ref(&self) -> PolicyRef<'_> {
        PolicyRef {
            id: &self.id,
            source: self.source,
            policy: &self.policy,
        }
    }
}

/// Everything identity-side that applies to a principal.
#[derive(Debug, Clone, Default)]
pub struct AppliedPolicies {
    /// Identity-based policies: inline, attached managed, and (for users) those of their groups.
    pub identity: Vec<AppliedPolicy>,
    /// The permissions boundary, when the principal has one. Empty when the boundary policy no
    /// longer exists: then nothing is allowed.
    pub boundary: Option<Vec<AppliedPolicy>>,
}

impl AppliedPolicies {
    /// The identity-based policies as the evaluator takes them.
    pub fn identity_refs(&self) -> Vec<PolicyRef<'_>> {
        self.identity.iter().map(AppliedPolicy::as_ref).collect()
    }

    /// The boundary as the evaluator takes it.
    pub fn boundary_refs(&self) -> Option<Vec<PolicyRef<'_>>> {
        self.boundary
            .as_ref()
            .map(|b| b.iter().map(AppliedPolicy::as_ref).collect())
    }

    /// Every policy (identity, then boundary).
    pub fn all(&self) -> impl Iterator<Item = &AppliedPolicy> {
        self.identity
            .iter()
            .chain(self.boundary.iter().flat_map(|b| b.iter()))
    }

    /// The policy a matched statement came from.
    pub fn find(&self, id: &str, source: SourceType) -> Option<&AppliedPolicy> {
        self.all().find(|p| p.id == id && p.source == source)
    }
}

/// A user's policies: inline, attached, those of every group of the user, and the boundary.
pub async fn user_policies(
    conn: &mut SqliteConnection,
    cache: &PolicyCache,
    account: &str,
    user: &UserRow,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    inline(conn, cache, PrincipalKind::User, &user.user_id, &mut out).await?;
    attached(conn, cache, PrincipalKind::User, &user.user_id, &mut out).await?;
    for g in groups::all_groups_for_user(conn, &user.user_id).await? {
        inline(conn, cache, PrincipalKind::Group, &g.group_id, &mut out).await?;
        attached(conn, cache, PrincipalKind::Group, &g.group_id, &mut out).await?;
    }
    if let Some(arn) = &user.permissions_boundary_arn {
        out.boundary = Some(boundary(conn, cache, account, arn).await?);
    }
    Ok(out)
}

/// A group's policies: inline and attached (groups have no boundary).
pub async fn group_policies(
    conn: &mut SqliteConnection,
    cache: &PolicyCache,
    group: &GroupRow,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    inline(conn, cache, PrincipalKind::Group, &group.group_id, &mut out).await?;
    attached(conn, cache, PrincipalKind::Group, &group.group_id, &mut out).await?;
    Ok(out)
}

/// The role of that name in the account, as policy evaluation needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleRef {
    pub role_id: String,
    pub name: String,
    pub path: String,
    pub permissions_boundary_arn: Option<String>,
}

/// Looks a role up by name (case-insensitive).
// The store has no role module yet; this is the one read evaluation needs.
pub async fn find_role(
    conn: &mut SqliteConnection,
    account: &str,
    name: &str,
) -> Result<Option<RoleRef>, ApiError> {
    let row = sqlx::query_as(
        "SELECT role_id, name, path, permissions_boundary_arn FROM roles \
         WHERE account_id = ? AND name_lower = ?",
    )
    .bind(account)
    .bind(name.to_lowercase())
    .fetch_optional(conn)
    .await
    .map_err(crate::store::StoreError::from)?;
    Ok(row)
}

/// A role's policies: inline, attached and the boundary (the trust policy is not among them).
pub async fn role_policies(
    conn: &mut SqliteConnection,
    cache: &PolicyCache,
    account: &str,
    role: &RoleRef,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    inline(conn, cache, PrincipalKind::Role, &role.role_id, &mut out).await?;
    attached(conn, cache, PrincipalKind::Role, &role.role_id, &mut out).await?;
    if let Some(arn) = &role.permissions_boundary_arn {
        out.boundary = Some(boundary(conn, cache, account, arn).await?);
    }
    Ok(out)
}

fn compile(cache: &PolicyCache, name: &str, document: &str) -> Result<Arc<Policy>, ApiError> {
    cache.get_or_parse(document).map_err(|e| {
        tracing::error!(policy = name, error = %e, "stored policy does not parse");
        policy_evaluation_error(name)
    })
}

async fn inline(
    conn: &mut SqliteConnection,
    cache: &PolicyCache,
    kind: PrincipalKind,
    owner_id: &str,
    out: &mut AppliedPolicies,
) -> Result<(), ApiError> {
    let (source, simulator_type) = match kind {
        PrincipalKind::User => (SourceType::UserInline, "user"),
        PrincipalKind::Group => (SourceType::GroupInline, "group"),
        PrincipalKind::Role => (SourceType::RoleInline, "role"),
    };
    for p in inline_policies::list(conn, kind, owner_id).await? {
        let policy = compile(cache, &p.name, &p.document)?;
        out.identity.push(AppliedPolicy {
            id: p.name,
            source,
            simulator_type,
            arn: None,
            policy,
        });
    }
    Ok(())
}

fn managed_types(policy_account: &str) -> (SourceType, &'static str) {
    if policy_account == AWS_ACCOUNT {
        (SourceType::AwsManaged, "aws-managed")
    } else {
        (SourceType::CustomerManaged, "user-managed")
    }
}

async fn attached(
    conn: &mut SqliteConnection,
    cache: &PolicyCache,
    kind: PrincipalKind,
    owner_id: &str,
    out: &mut AppliedPolicies,
) -> Result<(), ApiError> {
    for a in policies::list_attached(conn, kind, owner_id, None).await? {
        let Some(version) = policies::get_default_version(conn, &a.policy_id).await? else {
            continue;
        };
        let policy = compile(cache, &a.name, &version.document)?;
        let (source, simulator_type) = managed_types(&a.account_id);
        out.identity.push(AppliedPolicy {
            arn: Some(a.arn()),
            id: a.name,
            source,
            simulator_type,
            policy,
        });
    }
    Ok(())
}

async fn boundary(
    conn: &mut SqliteConnection,
    cache: &PolicyCache,
    account: &str,
    arn: &str,
) -> Result<Vec<AppliedPolicy>, ApiError> {
    let Some(row) = policies::get_by_arn(conn, account, arn).await? else {
        tracing::warn!(boundary = arn, "permissions boundary policy not found");
        return Ok(Vec::new());
    };
    let Some(version) = policies::get_default_version(conn, &row.policy_id).await? else {
        return Ok(Vec::new());
    };
    let policy = compile(cache, &row.name, &version.document)?;
    let (_, simulator_type) = managed_types(&row.account_id);
    Ok(vec![AppliedPolicy {
        arn: Some(row.arn()),
        id: row.name,
        source: SourceType::PermissionsBoundary,
        simulator_type,
        policy,
    }])
}

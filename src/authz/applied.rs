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

use crate::authz::{policy_evaluation_error, PolicyCache};
use crate::error::ApiError;
use crate::policy::{Policy, PolicyRef, SourceType};
use crate::store::model::{
    Account, Group, InlinePolicies, ManagedPolicy, PrincipalKind, Role, User, AWS_ACCOUNT,
};

/// One policy that applies, with where it comes from.
#[derive(Debug, Clone)]
pub struct AppliedPolicy {
    /// The simulator's `SourcePolicyId` (policy name, `PolicyInputList.1`, …); also the id the
    /// evaluator reports in matched statements.
    pub id: Arc<str>,
    /// Where the evaluator files it (`PermissionsBoundary` for boundary policies).
    pub source: SourceType,
    /// The simulator's `SourcePolicyType`: `user`, `group`, `role`, `aws-managed`, `user-managed`,
    /// `resource` or `none`.
    pub simulator_type: &'static str,
    /// The ARN of a managed policy.
    pub arn: Option<String>,
    pub policy: Arc<Policy>,
    /// The document's text, for a stored policy (shared with the policy cache).
    pub document: Option<Arc<str>>,
}

impl AppliedPolicy {
    /// A policy given as input to a call (the simulator's `PolicyInputList.N`, …).
    pub fn input(id: String, source: SourceType, policy: Arc<Policy>) -> AppliedPolicy {
        AppliedPolicy {
            id: id.into(),
            source,
            simulator_type: match source {
                SourceType::ResourcePolicy => "resource",
                _ => "none",
            },
            arn: None,
            policy,
            document: None,
        }
    }

    /// The evaluator's view of it.
    pub fn as_ref(&self) -> PolicyRef<'_> {
        PolicyRef::new(&self.id, self.source, &self.policy)
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

/// Policies as the evaluator takes them, on the stack (a principal has a few).
pub type PolicyRefs<'a> = smallvec::SmallVec<[PolicyRef<'a>; 8]>;

impl AppliedPolicies {
    /// The identity-based policies as the evaluator takes them.
    pub fn identity_refs(&self) -> PolicyRefs<'_> {
        self.identity.iter().map(AppliedPolicy::as_ref).collect()
    }

    /// The boundary as the evaluator takes it.
    pub fn boundary_refs(&self) -> Option<PolicyRefs<'_>> {
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
        self.all().find(|p| &*p.id == id && p.source == source)
    }
}

/// A user's policies: inline, attached, those of every group of the user, and the boundary.
pub fn user_policies(
    account: &Account,
    cache: &PolicyCache,
    user: &User,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    inline(cache, PrincipalKind::User, &user.inline, &mut out)?;
    attached(account, cache, &user.attached, &mut out)?;
    for g in account.groups_of(user) {
        inline(cache, PrincipalKind::Group, &g.inline, &mut out)?;
        attached(account, cache, &g.attached, &mut out)?;
    }
    if let Some(arn) = &user.permissions_boundary_arn {
        out.boundary = Some(boundary(account, cache, arn)?);
    }
    Ok(out)
}

/// A role's policies: inline, attached and its permissions boundary.
pub fn role_policies(
    account: &Account,
    cache: &PolicyCache,
    role: &Role,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    inline(cache, PrincipalKind::Role, &role.inline, &mut out)?;
    attached(account, cache, &role.attached, &mut out)?;
    if let Some(arn) = &role.permissions_boundary_arn {
        out.boundary = Some(boundary(account, cache, arn)?);
    }
    Ok(out)
}

/// A session's own policies (the inline `Policy` and the managed `PolicyArns` it was created with),
/// which narrow what its principal may do.
pub fn session_policies(
    account: &Account,
    cache: &PolicyCache,
    session: &crate::store::model::Session,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    if let Some(doc) = &session.session_policy {
        let (document, policy) = compile(cache, "SessionPolicy", doc)?;
        out.identity.push(AppliedPolicy {
            id: "SessionPolicy".into(),
            source: SourceType::SessionPolicy,
            simulator_type: "session",
            arn: None,
            policy,
            document: Some(document),
        });
    }
    for arn in &session.policy_arns {
        let Some(p) = account.policy_by_arn(arn) else {
            continue;
        };
        let Some(version) = p.default_version() else {
            continue;
        };
        let (document, policy) = compile(cache, &p.name, &version.document)?;
        out.identity.push(AppliedPolicy {
            id: p.name.as_str().into(),
            source: SourceType::SessionPolicy,
            simulator_type: "session",
            arn: Some(arn.clone()),
            policy,
            document: Some(document),
        });
    }
    Ok(out)
}

/// A group's policies: inline and attached (groups have no boundary).
pub fn group_policies(
    account: &Account,
    cache: &PolicyCache,
    group: &Group,
) -> Result<AppliedPolicies, ApiError> {
    let mut out = AppliedPolicies::default();
    inline(cache, PrincipalKind::Group, &group.inline, &mut out)?;
    attached(account, cache, &group.attached, &mut out)?;
    Ok(out)
}

/// A stored policy compiled (through the cache), with its text.
fn compile(
    cache: &PolicyCache,
    name: &str,
    document: &str,
) -> Result<(Arc<str>, Arc<Policy>), ApiError> {
    cache.get_or_parse_shared(document).map_err(|e| {
        tracing::error!(policy = name, error = %e, "stored policy does not parse");
        policy_evaluation_error(name)
    })
}

fn inline(
    cache: &PolicyCache,
    kind: PrincipalKind,
    policies: &InlinePolicies,
    out: &mut AppliedPolicies,
) -> Result<(), ApiError> {
    let (source, simulator_type) = match kind {
        PrincipalKind::User => (SourceType::UserInline, "user"),
        PrincipalKind::Group => (SourceType::GroupInline, "group"),
        PrincipalKind::Role => (SourceType::RoleInline, "role"),
    };
    for p in policies.iter() {
        let (document, policy) = compile(cache, &p.name, &p.document)?;
        out.identity.push(AppliedPolicy {
            id: p.name.as_str().into(),
            source,
            simulator_type,
            arn: None,
            policy,
            document: Some(document),
        });
    }
    Ok(())
}

/// The attached managed policies, ordered by name (as ListAttached*Policies lists them).
fn attached(
    account: &Account,
    cache: &PolicyCache,
    policy_ids: &[String],
    out: &mut AppliedPolicies,
) -> Result<(), ApiError> {
    let mut policies: Vec<_> = policy_ids
        .iter()
        .filter_map(|id| account.policy_by_id(id))
        .collect();
    policies.sort_by_cached_key(|p| (p.name.to_lowercase(), p.policy_id.clone()));
    for p in policies {
        let Some(version) = p.default_version() else {
            continue;
        };
        let (document, policy) = compile(cache, &p.name, &version.document)?;
        let (source, simulator_type) = if is_aws_managed(p) {
            (SourceType::AwsManaged, "aws-managed")
        } else {
            (SourceType::CustomerManaged, "user-managed")
        };
        out.identity.push(AppliedPolicy {
            arn: Some(p.arn()),
            id: p.name.as_str().into(),
            source,
            simulator_type,
            policy,
            document: Some(document),
        });
    }
    Ok(())
}

fn boundary(
    account: &Account,
    cache: &PolicyCache,
    arn: &str,
) -> Result<Vec<AppliedPolicy>, ApiError> {
    let Some(p) = account.policy_by_arn(arn) else {
        tracing::warn!(boundary = arn, "permissions boundary policy not found");
        return Ok(Vec::new());
    };
    let Some(version) = p.default_version() else {
        return Ok(Vec::new());
    };
    let (document, policy) = compile(cache, &p.name, &version.document)?;
    Ok(vec![AppliedPolicy {
        arn: Some(p.arn()),
        id: p.name.as_str().into(),
        source: SourceType::PermissionsBoundary,
        simulator_type: if is_aws_managed(p) {
            "aws-managed"
        } else {
            "user-managed"
        },
        policy,
        document: Some(document),
    }])
}

fn is_aws_managed(p: &ManagedPolicy) -> bool {
    p.account_id == AWS_ACCOUNT
}

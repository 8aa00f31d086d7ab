//! The decision procedure (AWS IAM User Guide, "Policy evaluation logic"):
//!
//! 1. An explicit `Deny` in any applicable policy (identity-based, resource-based, permissions
//!    boundary, session policy) denies.
//! 2. The root user of the account that owns the resource is allowed (only an explicit deny
//!    in a resource-based policy can stop it).
//! 3. Same account: the request is allowed when
//!    - the resource-based policy names the principal itself (an IAM user ARN, a role session
//!      ARN, a federated user session ARN, `*`): neither identity policies nor a boundary nor
//!      session policies limit that grant; or
//!    - the resource-based policy names the role ARN of a role session: the permissions
//!      boundary and session policies still have to allow, identity policies need not; or
//!    - identity-based policies allow, and the permissions boundary (if any) allows, and the
//!      session policies (if any) allow. A resource-based policy that names only the account
//!      delegates to the identity-based policies.
//! 4. Cross-account (the resource belongs to another account): the identity side
//!    (identity ∩ boundary ∩ session) *and* the resource-based policy must both allow.
//! 5. Service, web-identity and anonymous principals have no identity policies: only the
//!    resource-based (trust) policy can allow them.
//!
//! Quirks kept from AWS: a `Deny` statement with `NotPrincipal` in a resource-based policy
//! denies every principal that has a permissions boundary, whatever `NotPrincipal` lists; and
//! `NotPrincipal` exempts an IAM principal only when its account is listed too (AWS checks the
//! account first, then the user / role / session).
//!
//! Choices where the documentation is silent (each has corpus cases): `Principal: "*"` counts
//! as naming the principal itself; when several policy types deny explicitly, the reason
//! reported is the first of identity-based, resource-based, permissions boundary, session
//! policy; every statement whose action, resource, principal and conditions match is
//! reported in `matched` (allows and denies alike); all conditions of a statement are
//! evaluated (no short-circuit) so that every missing context key is reported.

use std::borrow::Cow;

use crate::arn::SplitArn;
use crate::policy::{
    ActionSpec, AwsPrincipal, Effect, Policy, PrincipalSpec, Principals, ResPat, ResourceSpec,
    Statement,
};
use crate::position::Position;
use crate::request::{Context, Principal, PrincipalKind, Request};

/// Where a policy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceType {
    UserInline,
    GroupInline,
    RoleInline,
    AwsManaged,
    CustomerManaged,
    ResourcePolicy,
    PermissionsBoundary,
    SessionPolicy,
    /// A policy given as input to the simulator.
    Custom,
}

impl SourceType {
    /// The value of the simulator's `SourcePolicyType` (`Statement.SourcePolicyType`).
    pub fn simulator_name(self) -> &'static str {
        match self {
            SourceType::UserInline => "user",
            SourceType::GroupInline => "group",
            SourceType::RoleInline => "role",
            SourceType::AwsManaged => "aws-managed",
            SourceType::CustomerManaged => "user-managed",
            SourceType::ResourcePolicy => "resource",
            SourceType::PermissionsBoundary => "permissions-boundary",
            SourceType::SessionPolicy => "session",
            SourceType::Custom => "none",
        }
    }
}

/// A policy together with where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRef<'a> {
    /// An identifier reported back in matched statements (policy name or ARN, …).
    pub id: &'a str,
    pub source: SourceType,
    pub policy: &'a Policy,
    /// When given, only these statements (indices into the policy's statements, from
    /// [`Policy::statements_for`] for the request's action) are considered, and their actions
    /// are taken as matching: a caller that decides many requests for one action finds the
    /// statements that can apply once. `None`: every statement, actions compared.
    pub only: Option<&'a [u32]>,
}

impl<'a> PolicyRef<'a> {
    /// A policy, every statement considered.
    pub fn new(id: &'a str, source: SourceType, policy: &'a Policy) -> PolicyRef<'a> {
        PolicyRef {
            id,
            source,
            policy,
            only: None,
        }
    }
}

/// Everything that applies to one request.
#[derive(Debug, Clone, Copy)]
pub struct EvalInput<'a> {
    pub request: Request<'a>,
    /// Identity-based policies (user/group/role inline and attached managed policies).
    pub identity: &'a [PolicyRef<'a>],
    /// The permissions boundary, when the principal has one.
    pub boundary: Option<&'a [PolicyRef<'a>]>,
    /// Session policies, when the session was created with some.
    pub session: Option<&'a [PolicyRef<'a>]>,
    /// The resource-based (or trust) policy.
    pub resource_policy: Option<PolicyRef<'a>>,
    /// The account owning the resource; `None` = the principal's account.
    pub resource_account: Option<&'a str>,
}

impl<'a> EvalInput<'a> {
    /// Input with identity-based policies only.
    pub fn new(request: Request<'a>, identity: &'a [PolicyRef<'a>]) -> EvalInput<'a> {
        EvalInput {
            request,
            identity,
            boundary: None,
            session: None,
            resource_policy: None,
            resource_account: None,
        }
    }
}

/// The final (or a per-source) decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

impl Decision {
    /// `"Allow"`, `"ExplicitDeny"`, `"ImplicitDeny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
    /// The simulator's `EvalDecision` spelling: `allowed`, `explicitDeny`, `implicitDeny`.
    pub fn simulator_name(self) -> &'static str {
        match self {
            Decision::Allow => "allowed",
            Decision::ExplicitDeny => "explicitDeny",
            Decision::ImplicitDeny => "implicitDeny",
        }
    }
}

/// Why the decision came out as it did; maps to AWS's `AccessDenied` message tails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Allowed,
    ExplicitDenyIdentity,
    ExplicitDenyResource,
    ExplicitDenyBoundary,
    ExplicitDenySession,
    NoIdentityAllow,
    NoBoundaryAllow,
    NoSessionAllow,
    NoResourceAllow,
}

impl Reason {
    /// The tail of AWS's `AccessDenied` message, e.g.
    /// `because no identity-based policy allows the iam:CreateUser action` or
    /// `with an explicit deny in an identity-based policy`. Empty for `Allowed`.
    pub fn message_tail(self, action: &str) -> String {
        match self {
            Reason::Allowed => String::new(),
            Reason::ExplicitDenyIdentity => {
                "with an explicit deny in an identity-based policy".into()
            }
            Reason::ExplicitDenyResource => {
                "with an explicit deny in a resource-based policy".into()
            }
            Reason::ExplicitDenyBoundary => {
                "with an explicit deny in a permissions boundary".into()
            }
            Reason::ExplicitDenySession => "with an explicit deny in a session policy".into(),
            Reason::NoIdentityAllow => {
                format!("because no identity-based policy allows the {action} action")
            }
            Reason::NoBoundaryAllow => {
                format!("because no permissions boundary allows the {action} action")
            }
            Reason::NoSessionAllow => {
                format!("because no session policy allows the {action} action")
            }
            Reason::NoResourceAllow => {
                format!("because no resource-based policy allows the {action} action")
            }
        }
    }

    /// A stable name (`"NoIdentityAllow"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Allowed => "Allowed",
            Reason::ExplicitDenyIdentity => "ExplicitDenyIdentity",
            Reason::ExplicitDenyResource => "ExplicitDenyResource",
            Reason::ExplicitDenyBoundary => "ExplicitDenyBoundary",
            Reason::ExplicitDenySession => "ExplicitDenySession",
            Reason::NoIdentityAllow => "NoIdentityAllow",
            Reason::NoBoundaryAllow => "NoBoundaryAllow",
            Reason::NoSessionAllow => "NoSessionAllow",
            Reason::NoResourceAllow => "NoResourceAllow",
        }
    }
}

/// AWS's full `AccessDenied` message:
/// `User: ARN is not authorized to perform: ACTION on resource: RESOURCE <tail>`.
pub fn access_denied_message(
    principal_arn: &str,
    action: &str,
    resource: &str,
    reason: Reason,
) -> String {
    format!(
        "User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {}",
        reason.message_tail(action)
    )
}

/// A statement that applied to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedStatement<'a> {
    pub source_id: &'a str,
    pub source: SourceType,
    pub sid: Option<&'a str>,
    pub effect: Effect,
    /// Index of the statement in its policy.
    pub index: usize,
    pub start: Position,
    pub end: Position,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation<'a> {
    pub decision: Decision,
    pub reason: Reason,
    /// Every statement whose action, resource, principal and conditions matched.
    pub matched: Vec<MatchedStatement<'a>>,
    /// Context keys that matched statements needed but the request did not carry, as written
    /// in the policies, without case-insensitive duplicates.
    pub missing_context_keys: Vec<String>,
    /// Identity-based policies alone.
    pub identity: Decision,
    /// The permissions boundary alone (`None`: no boundary).
    pub boundary: Option<Decision>,
    /// Session policies alone (`None`: none).
    pub session: Option<Decision>,
    /// The resource-based policy alone (`None`: none).
    pub resource: Option<Decision>,
}

impl Evaluation<'_> {
    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// How specifically a resource-based policy named the principal (weakest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// The principal's account (`"123456789012"` / `arn:aws:iam::123456789012:root`):
    /// delegates to the account's identity-based policies.
    Account,
    /// The role of a role session.
    Role,
    /// The principal itself (user ARN, session ARN, service, federated provider, `*`).
    Direct,
}

#[derive(Debug, Default, Clone, Copy)]
struct SetResult {
    allow: bool,
    deny: bool,
    grant: Option<Grant>,
}

impl SetResult {
    fn decision(self) -> Decision {
        if self.deny {
            Decision::ExplicitDeny
        } else if self.allow {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

struct Collector<'a> {
    matched: Vec<MatchedStatement<'a>>,
    missing: Vec<&'a str>,
}

impl<'s> Statement<'s> {
    /// Actions match ASCII-case-insensitively.
    pub(crate) fn matches_action(&self, action: &str) -> bool {
        match &self.actions {
            ActionSpec::Action(a) => a.iter().any(|g| g.matches_ci(action)),
            ActionSpec::NotAction(a) => !a.iter().any(|g| g.matches_ci(action)),
            ActionSpec::Absent => false,
        }
    }

    /// `action` must be ASCII-lower-cased (see [`lower_action`]): the action patterns are
    /// stored lower-cased, as actions match ASCII-case-insensitively.
    fn matches_action_lower(&self, action: &str) -> bool {
        match &self.actions {
            ActionSpec::Action(a) => a.iter().any(|g| g.matches(action)),
            ActionSpec::NotAction(a) => !a.iter().any(|g| g.matches(action)),
            ActionSpec::Absent => false,
        }
    }

    fn matches_resource<'p>(
        &'p self,
        resource: &SplitArn<'_>,
        ctx: &Context,
        missing: &mut Vec<&'p str>,
    ) -> bool {
        let any = |pats: &'p [ResPat], missing: &mut Vec<&'p str>| {
            pats.iter().any(|p| match p {
                ResPat::Static(a) => a.matches_split(resource),
                ResPat::Tmpl(t) => t.matches_split(resource, ctx, missing),
            })
        };
        match &self.resources {
            ResourceSpec::Resource(r) => any(r, missing),
            ResourceSpec::NotResource(r) => !any(r, missing),
            ResourceSpec::Absent => true,
        }
    }

    /// How this statement's `Principal`/`NotPrincipal` names `p`; `None`: it does not apply.
    fn principal_grant(&self, p: &Principal, has_boundary: bool) -> Option<Grant> {
        match &self.principal {
            PrincipalSpec::Principal(list) => principal_match(list, p),
            PrincipalSpec::NotPrincipal(list) => {
                if self.effect == Effect::Deny && has_boundary {
                    return Some(Grant::Direct);
                }
                if not_principal_excludes(list, p) {
                    None
                } else {
                    Some(Grant::Direct)
                }
            }
            PrincipalSpec::Absent => None,
        }
    }
}

/// Whether `NotPrincipal` exempts `p`. AWS checks the account first, then the principal
/// (and for role sessions the role): an IAM principal is exempt only when both its account
/// and itself (its user ARN, its role ARN or its session ARN) are listed.
fn not_principal_excludes(list: &Principals, p: &Principal) -> bool {
    if list.any {
        return true;
    }
    match p.kind {
        PrincipalKind::Root
        | PrincipalKind::User
        | PrincipalKind::AssumedRole
        | PrincipalKind::FederatedUser => {
            let account_listed = list.aws.iter().any(|a| match a {
                AwsPrincipal::Any => true,
                AwsPrincipal::Account(acct) => **acct == *p.account,
                AwsPrincipal::Arn(_) => false,
            });
            account_listed
                && (p.kind == PrincipalKind::Root
                    || list.aws.iter().any(|a| match a {
                        AwsPrincipal::Any => true,
                        AwsPrincipal::Arn(arn) => {
                            **arn == *p.arn || p.role_arn.as_deref() == Some(&**arn)
                        }
                        AwsPrincipal::Account(_) => false,
                    }))
        }
        _ => principal_match(list, p).is_some(),
    }
}

fn principal_match(list: &Principals, p: &Principal) -> Option<Grant> {
    if list.any {
        return Some(Grant::Direct);
    }
    match p.kind {
        PrincipalKind::Service => list
            .service
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&p.arn))
            .then_some(Grant::Direct),
        PrincipalKind::Federated => list
            .federated
            .iter()
            .any(|s| **s == *p.arn)
            .then_some(Grant::Direct),
        PrincipalKind::Anonymous => list
            .aws
            .iter()
            .any(|a| matches!(a, AwsPrincipal::Any))
            .then_some(Grant::Direct),
        PrincipalKind::Root
        | PrincipalKind::User
        | PrincipalKind::AssumedRole
        | PrincipalKind::FederatedUser => {
            let mut best: Option<Grant> = None;
            for a in list.aws {
                let g = match a {
                    AwsPrincipal::Any => Some(Grant::Direct),
                    AwsPrincipal::Account(acct) if *acct == p.account => {
                        if p.kind == PrincipalKind::Root {
                            Some(Grant::Direct)
                        } else {
                            Some(Grant::Account)
                        }
                    }
                    AwsPrincipal::Account(_) => None,
                    AwsPrincipal::Arn(arn) if *arn == p.arn => Some(Grant::Direct),
                    AwsPrincipal::Arn(arn) if p.role_arn.as_deref() == Some(*arn) => {
                        Some(Grant::Role)
                    }
                    AwsPrincipal::Arn(_) => None,
                };
                best = best.max(g);
            }
            if best.is_none() && list.canonical.iter().any(|c| **c == *p.arn) {
                best = Some(Grant::Direct);
            }
            best
        }
    }
}

/// From how many statements [`scan`] lower-cases the action first.
const LOWER_ACTION_FROM: usize = 4;

/// `action` ASCII-lower-cased, in `buf` when it fits (no allocation per request).
fn lower_action<'b>(action: &'b str, buf: &'b mut [u8; 64]) -> Cow<'b, str> {
    if !action.bytes().any(|b| b.is_ascii_uppercase()) {
        return Cow::Borrowed(action);
    }
    if let Some(dst) = buf.get_mut(..action.len()) {
        dst.copy_from_slice(action.as_bytes());
        dst.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(dst) {
            return Cow::Borrowed(lower);
        }
    }
    Cow::Owned(action.to_ascii_lowercase())
}

/// Evaluates one set of policies.
fn scan<'a>(
    policies: &[PolicyRef<'a>],
    req: &Request<'_>,
    principal_check: Option<bool>,
    out: &mut Collector<'a>,
) -> SetResult {
    // Lower-casing the action once pays from a few statements on (the patterns are stored
    // lower-cased); below that, comparing case-insensitively is cheaper. Statements given by
    // `only` are not compared at all.
    let statements: usize = policies
        .iter()
        .filter(|p| p.only.is_none())
        .map(|p| p.policy.statements().len())
        .sum();
    if statements < LOWER_ACTION_FROM {
        return scan_with(policies, req, principal_check, out, |st| {
            st.matches_action(req.action)
        });
    }
    let mut buf = [0u8; 64];
    let action = lower_action(req.action, &mut buf);
    scan_with(policies, req, principal_check, out, |st| {
        st.matches_action_lower(&action)
    })
}

/// [`scan`], with `action_matches` telling whether a statement's action element matches.
fn scan_with<'a>(
    policies: &[PolicyRef<'a>],
    req: &Request<'_>,
    principal_check: Option<bool>,
    out: &mut Collector<'a>,
    action_matches: impl Fn(&Statement) -> bool,
) -> SetResult {
    let mut r = SetResult::default();
    // Split the resource ARN once, when a statement first needs it.
    let mut resource: Option<SplitArn<'_>> = None;
    for pref in policies {
        let policy: &'a Policy = pref.policy;
        let (source_id, source) = (pref.id, pref.source);
        // A statement whose action matches.
        let mut consider = |index: usize, st: &'a Statement<'a>| {
            let grant = match principal_check {
                Some(has_boundary) => match st.principal_grant(req.principal, has_boundary) {
                    Some(g) => Some(g),
                    None => return,
                },
                None => None,
            };
            // Keys of unresolvable variables stay reported even when the resource then
            // does not match: the statement needed them.
            let resource = resource.get_or_insert_with(|| SplitArn::new(req.resource));
            if !st.matches_resource(resource, req.context, &mut out.missing) {
                return;
            }
            let mut ok = true;
            for c in st.conditions.iter() {
                ok &= c.evaluate(req.context, &mut out.missing);
            }
            if !ok {
                return;
            }
            match st.effect {
                Effect::Allow => {
                    r.allow = true;
                    r.grant = r.grant.max(grant);
                }
                Effect::Deny => r.deny = true,
            }
            out.matched.push(MatchedStatement {
                source_id,
                source,
                sid: st.sid(),
                effect: st.effect,
                index,
                start: st.start,
                end: st.end,
            });
        };
        let statements = policy.statements();
        match pref.only {
            Some(only) => {
                for &i in only {
                    let i = i as usize;
                    if let Some(st) = statements.get(i) {
                        consider(i, st);
                    }
                }
            }
            None => {
                for (i, st) in statements.iter().enumerate() {
                    if action_matches(st) {
                        consider(i, st);
                    }
                }
            }
        }
    }
    r
}

/// Decides a request. See the module documentation for the procedure.
pub fn evaluate<'a>(input: &EvalInput<'a>) -> Evaluation<'a> {
    let req = &input.request;
    let p = req.principal;
    let mut out = Collector {
        matched: Vec::new(),
        missing: Vec::new(),
    };
    let id = scan(input.identity, req, None, &mut out);
    let boundary = input.boundary.map(|b| scan(b, req, None, &mut out));
    let session = input.session.map(|s| scan(s, req, None, &mut out));
    let resource = input.resource_policy.as_ref().map(|rp| {
        scan(
            std::slice::from_ref(rp),
            req,
            Some(input.boundary.is_some()),
            &mut out,
        )
    });

    let explicit = if id.deny {
        Some(Reason::ExplicitDenyIdentity)
    } else if resource.is_some_and(|r| r.deny) {
        Some(Reason::ExplicitDenyResource)
    } else if boundary.is_some_and(|b| b.deny) {
        Some(Reason::ExplicitDenyBoundary)
    } else if session.is_some_and(|s| s.deny) {
        Some(Reason::ExplicitDenySession)
    } else {
        None
    };

    let boundary_ok = boundary.is_none_or(|b| b.allow);
    let session_ok = session.is_none_or(|s| s.allow);
    let grant = resource.and_then(|r| r.grant);
    let same_account = input.resource_account.is_none_or(|a| a == p.account);

    let identity_side = || -> Result<(), Reason> {
        // The root user is not limited by identity policies; only session policies (of its
        // delegated or task-scoped sessions) narrow what it may do.
        if p.kind == PrincipalKind::Root {
            return if session_ok {
                Ok(())
            } else {
                Err(Reason::NoSessionAllow)
            };
        }
        if !p.kind.has_identity_policies() || !id.allow {
            return Err(Reason::NoIdentityAllow);
        }
        if !boundary_ok {
            return Err(Reason::NoBoundaryAllow);
        }
        if !session_ok {
            return Err(Reason::NoSessionAllow);
        }
        Ok(())
    };

    let outcome: Result<(), Reason> = if let Some(reason) = explicit {
        Err(reason)
    } else if !p.kind.has_identity_policies() && p.kind != PrincipalKind::Root {
        // Services, web identities, anonymous callers: only a resource policy can allow.
        if grant == Some(Grant::Direct) {
            Ok(())
        } else {
            Err(Reason::NoResourceAllow)
        }
    } else if same_account {
        match grant {
            _ if p.kind == PrincipalKind::Root => identity_side(),
            Some(Grant::Direct) => Ok(()),
            Some(Grant::Role) if !boundary_ok => Err(Reason::NoBoundaryAllow),
            Some(Grant::Role) if !session_ok => Err(Reason::NoSessionAllow),
            Some(Grant::Role) => Ok(()),
            Some(Grant::Account) | None => identity_side(),
        }
    } else {
        match identity_side() {
            Err(r) => Err(r),
            Ok(()) if grant.is_some() => Ok(()),
            Ok(()) => Err(Reason::NoResourceAllow),
        }
    };

    let (decision, reason) = match outcome {
        Ok(()) => (Decision::Allow, Reason::Allowed),
        Err(r) if explicit.is_some() => (Decision::ExplicitDeny, r),
        Err(r) => (Decision::ImplicitDeny, r),
    };

    let mut missing_context_keys: Vec<String> = Vec::new();
    for k in out.missing {
        if !missing_context_keys
            .iter()
            .any(|e| e.eq_ignore_ascii_case(k))
        {
            missing_context_keys.push(k.to_string());
        }
    }

    Evaluation {
        decision,
        reason,
        matched: out.matched,
        missing_context_keys,
        identity: id.decision(),
        boundary: boundary.map(SetResult::decision),
        session: session.map(SetResult::decision),
        resource: resource.map(SetResult::decision),
    }
}

/// What a trust (or other resource-based) policy says about a principal, by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustDecision {
    /// An explicit `Deny` applies.
    Denied,
    /// No statement allows the principal.
    NotAllowed,
    /// Allowed through the principal's account: the principal's own identity-based policies
    /// must also allow the action (always the case cross-account).
    AllowedForAccount,
    /// The principal (or its role) is named directly.
    Allowed,
}

/// Checks a trust policy for `request` (typically `sts:AssumeRole` on the role's ARN).
/// For the full decision, including the caller's identity policies and cross-account rules,
/// use [`evaluate`] with the trust policy as `resource_policy` and the role's account as
/// `resource_account`.
pub fn trust_check(trust: &Policy, request: &Request<'_>) -> TrustDecision {
    let refs = [PolicyRef::new("trust", SourceType::ResourcePolicy, trust)];
    let mut out = Collector {
        matched: Vec::new(),
        missing: Vec::new(),
    };
    let r = scan(&refs, request, Some(false), &mut out);
    if r.deny {
        TrustDecision::Denied
    } else {
        match r.grant {
            None => TrustDecision::NotAllowed,
            Some(Grant::Account) => TrustDecision::AllowedForAccount,
            Some(_) => TrustDecision::Allowed,
        }
    }
}

/// The context keys used by `policies` (condition keys and policy-variable keys), as
/// `GetContextKeysForCustomPolicy` lists them: as written, in order of first appearance,
/// without case-insensitive duplicates.
pub fn context_keys<'p>(policies: impl IntoIterator<Item = &'p Policy>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in policies {
        for k in p.context_keys() {
            if !out.iter().any(|e| e.eq_ignore_ascii_case(k)) {
                out.push(k.to_string());
            }
        }
    }
    out
}

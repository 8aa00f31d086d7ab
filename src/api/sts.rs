//! STS temporary credentials: AssumeRole, GetSessionToken, GetFederationToken.
//!
//! Every session is a [`Session`] of the model (its `ASIA…` key, secret, token, expiry and what it
//! acts as), written like any other entity, so it survives a restart; the signature layer finds
//! it by key ID (`access_keys::load_known_key`) and [`prune_expired`] forgets it once expired.
//!
//! Authorization (design notes §3): in `open` and `strict`, AssumeRole of an existing role
//! succeeds whatever its trust policy says; in `audit` and `enforce` the trust policy is decided
//! by the policy evaluator, and STS's caller rules apply (the root user cannot assume a role).

use std::io::Write as _;

use base64::Engine as _;
use time::OffsetDateTime;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind as CallerKind;
use crate::authz::AppliedPolicy;
use crate::config::AuthMode;
use crate::error::ApiError;
use crate::policy::validate::{validate, PolicyKind};
use crate::policy::{trust_check, Context, Principal as PolicyPrincipal, Request, TrustDecision};
use crate::protocol::sts;
use crate::state::App;
use crate::store::model::{Role, Session, SessionKind, Tag};
use crate::store::{ids, StoreError};

/// The longest session of a role assumed with another role's session credentials.
const CHAINED_MAX_SECONDS: i32 = 3600;
/// GetSessionToken and GetFederationToken: default and longest durations.
const TOKEN_DEFAULT_SECONDS: i32 = 43_200;
const TOKEN_MAX_SECONDS: i32 = 129_600;
/// The root user's GetSessionToken and GetFederationToken are limited to an hour.
const ROOT_MAX_SECONDS: i32 = 3600;
/// The most session tags.
const MAX_SESSION_TAGS: usize = 50;
/// The packed (compressed) size the session policies and tags may take, in bytes. AWS does not
/// publish its packing; this approximation puts a typical one-statement policy near AWS's
/// reported percentage and refuses what AWS refuses by a wide margin.
const PACKED_LIMIT: usize = 450;

pub fn register(r: &mut Registry) {
    r.sts::<sts::AssumeRole, _, _>(assume_role);
    r.sts::<sts::GetSessionToken, _, _>(get_session_token);
    r.sts::<sts::GetFederationToken, _, _>(get_federation_token);
    r.sts::<sts::DecodeAuthorizationMessage, _, _>(decode_authorization_message);
    r.sts::<sts::AssumeRoot, _, _>(assume_root);
    r.sts::<sts::GetDelegatedAccessToken, _, _>(get_delegated_access_token);
}

async fn decode_authorization_message(
    _app: App,
    _ctx: Ctx,
    input: sts::DecodeAuthorizationMessageRequest,
) -> Result<sts::DecodeAuthorizationMessageResponse, ApiError> {
    let decoded =
        crate::authz::decode_authorization_message(&input.encoded_message).ok_or_else(|| {
            ApiError::new(
                "InvalidAuthorizationMessageException",
                http::StatusCode::BAD_REQUEST,
                "The encoded authorization message is invalid.",
            )
        })?;
    Ok(sts::DecodeAuthorizationMessageResponse {
        decoded_message: Some(decoded),
    })
}

/// AssumeRoot needs an AWS Organizations management account with centralized root access: a
/// standalone account (what localiam's accounts are) is refused, as AWS refuses it.
async fn assume_root(
    _app: App,
    ctx: Ctx,
    input: sts::AssumeRootRequest,
) -> Result<sts::AssumeRootResponse, ApiError> {
    let target = input.target_principal;
    let resource = if target.starts_with("arn:") {
        target
    } else {
        format!("arn:aws:iam::{target}:root")
    };
    Err(ApiError::access_denied(format!(
        "User: {} is not authorized to perform: sts:AssumeRoot on resource: {resource} because the account is not a member of an organization with centralized root access",
        ctx.principal.arn
    )))
}

/// The exchange token of a finalized delegation request, redeemed by the account that created the
/// request ([`crate::api::delegation::redeem`]).
async fn get_delegated_access_token(
    app: App,
    ctx: Ctx,
    input: sts::GetDelegatedAccessTokenRequest,
) -> Result<sts::GetDelegatedAccessTokenResponse, ApiError> {
    let (session, principal) =
        crate::api::delegation::redeem(&app, &ctx, &input.trade_in_token).await?;
    Ok(sts::GetDelegatedAccessTokenResponse {
        credentials: Some(credentials_shape(&session)),
        // Not populated by AWS for this operation (the SDKs mark it deprecated).
        packed_policy_size: None,
        assumed_principal: Some(principal),
    })
}

/// A new session's credentials: `ASIA…` key, 40-character secret, an opaque token.
pub(crate) fn new_credentials() -> (String, String, String) {
    let mut raw = [0u8; 96];
    rand::Rng::fill(&mut rand::thread_rng(), &mut raw[..]);
    let token = format!(
        "IQoJb3JpZ2luX2VjE{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    (
        ids::access_key_id(ids::prefix::TEMPORARY_ACCESS_KEY),
        ids::secret_access_key(),
        token,
    )
}

pub(crate) fn credentials_shape(s: &Session) -> sts::Credentials {
    sts::Credentials {
        access_key_id: s.access_key_id.clone(),
        secret_access_key: s.secret_access_key.clone(),
        session_token: s.session_token.clone(),
        expiration: ts(s.expiration),
    }
}

/// The session the request was signed with, if it was signed with temporary credentials.
pub(crate) fn calling_session(app: &App, ctx: &Ctx) -> Option<std::sync::Arc<Session>> {
    let key = ctx.principal.access_key_id.as_deref()?;
    let model = app.store.read();
    let loc = model.key(key)?;
    if !loc.session {
        return None;
    }
    model
        .account(&loc.account_id)
        .sessions
        .get_by_id(key)
        .cloned()
}

/// `ValidationError` "X is invalid" for a RoleArn that is not an ARN (as recorded).
pub(crate) fn check_arn_syntax(arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty();
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(format!("{arn} is invalid")))
    }
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, path, name).
pub(crate) fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_name = resource.strip_prefix("role")?;
    if !path_name.starts_with('/') {
        return None;
    }
    let cut = path_name.rfind('/')?;
    let (path, name) = (&path_name[..=cut], &path_name[cut + 1..]);
    (!name.is_empty()).then_some((account, path, name))
}

fn not_authorized(ctx: &Ctx, action: &str, resource: &str) -> ApiError {
    ApiError::access_denied(format!(
        "User: {} is not authorized to perform: {action} on resource: {resource}",
        ctx.principal.arn
    ))
}

/// Session tags: AWS's duplicate-key rule (`InvalidParameterValue`), the 50-tag limit, and the
/// transitive keys, which must name requested tags.
pub(crate) fn check_session_tags(tags: &[sts::Tag], transitive: &[String]) -> Result<(), ApiError> {
    let invalid = |m: &str| {
        ApiError::new(
            "InvalidParameterValue",
            http::StatusCode::BAD_REQUEST,
            m.to_string(),
        )
    };
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        if !seen.insert(t.key.to_lowercase()) {
            return Err(invalid(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    if tags.len() > MAX_SESSION_TAGS {
        return Err(invalid("The number of tags exceeds the limit of 50 tags."));
    }
    for k in transitive {
        if !seen.contains(&k.to_lowercase()) {
            return Err(invalid(
                "The specified transitive tag key must be included in the requested tags.",
            ));
        }
    }
    Ok(())
}

/// Validates the session policies and returns AWS's `PackedPolicySize` (a percentage of the
/// packed limit); `PackedPolicyTooLarge` beyond 100%.
pub(crate) fn packed_policy_size(
    policy: Option<&str>,
    policy_arns: &[String],
    tags: &[Tag],
) -> Result<i32, ApiError> {
    if let Some(doc) = policy {
        validate(doc, PolicyKind::Identity).map_err(|e| ApiError::malformed_policy(e.message))?;
    }
    for arn in policy_arns {
        if crate::store::model::parse_policy_arn(arn).is_none() {
            return Err(ApiError::validation(format!("{arn} is invalid")));
        }
    }
    let mut packed = Vec::new();
    if let Some(doc) = policy {
        let minified = serde_json::from_str::<serde_json::Value>(doc)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| doc.to_string());
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = z.write_all(minified.as_bytes());
        packed = z.finish().unwrap_or_default();
    }
    let size = packed.len()
        + policy_arns.iter().map(String::len).sum::<usize>()
        + tags
            .iter()
            .map(|t| t.key.len() + t.value.len() + 2)
            .sum::<usize>();
    let percent = (size * 100).div_ceil(PACKED_LIMIT);
    if percent > 100 {
        return Err(ApiError::new(
            "PackedPolicyTooLarge",
            http::StatusCode::BAD_REQUEST,
            format!(
                "Packed policy consumes {percent}% of allotted space, please use smaller policy."
            ),
        ));
    }
    Ok(i32::try_from(percent).unwrap_or(100))
}

pub(crate) fn policy_arn_list(arns: Option<Vec<sts::PolicyDescriptorType>>) -> Vec<String> {
    arns.unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.arn)
        .collect()
}

/// The caller as the policy evaluator sees it.
fn caller_principal(ctx: &Ctx, session: Option<&Session>) -> PolicyPrincipal {
    let p = &ctx.principal;
    let mut out = match p.kind {
        CallerKind::Root => PolicyPrincipal::root(&p.account_id),
        CallerKind::User => {
            let mut u = PolicyPrincipal::user(&p.arn, &p.user_id);
            u.username = Some(p.name.clone());
            u
        }
        CallerKind::AssumedRole => PolicyPrincipal::assumed_role(
            &p.arn,
            session
                .and_then(|s| s.role_arn.as_deref())
                .unwrap_or_default(),
            &p.user_id,
        ),
        CallerKind::FederatedUser => PolicyPrincipal::from_arn(&p.arn)
            .unwrap_or_else(|| PolicyPrincipal::root(&p.account_id)),
    };
    if let Some(s) = session {
        out.tags = s
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
    }
    out
}

/// The `sts:` context keys of an AssumeRole request.
fn sts_keys(input: &sts::AssumeRoleRequest) -> Vec<(String, String)> {
    let mut out = vec![(
        "sts:RoleSessionName".to_string(),
        input.role_session_name.clone(),
    )];
    if let Some(e) = &input.external_id {
        out.push(("sts:ExternalId".to_string(), e.clone()));
    }
    if let Some(s) = &input.source_identity {
        out.push(("sts:SourceIdentity".to_string(), s.clone()));
    }
    out
}

/// In `audit`/`enforce`: STS's caller rules and the role's trust policy (design notes §3). The
/// caller's own identity-based permission comes with enforcement of every call.
fn authorize_assume_role(
    app: &App,
    ctx: &Ctx,
    session: Option<&Session>,
    role: &Role,
    input: &sts::AssumeRoleRequest,
) -> Result<(), ApiError> {
    if !matches!(app.config.auth, AuthMode::Audit | AuthMode::Enforce) {
        return Ok(());
    }
    let decision = (|| {
        if ctx.principal.is_root() {
            return Err(ApiError::access_denied(
                "Roles may not be assumed by root accounts.",
            ));
        }
        let trust = app
            .policies
            .get_or_parse(&role.assume_role_policy)
            .map_err(|_| not_authorized(ctx, "sts:AssumeRole", &role.arn()))?;
        let principal = caller_principal(ctx, session);
        let mut c = Context::new();
        c.add_principal_keys(&principal);
        for (k, v) in sts_keys(input) {
            c.insert(&k, v);
        }
        let tags = input.tags.as_deref().unwrap_or_default();
        for t in tags {
            c.insert(&format!("aws:RequestTag/{}", t.key), t.value.clone());
        }
        if !tags.is_empty() {
            c.insert_many("aws:TagKeys", tags.iter().map(|t| t.key.clone()).collect());
        }
        // A code given with this call is checked when the session is stored: a wrong one fails
        // the call, so here it counts as present.
        let mfa_at = if input.serial_number.is_some() && input.token_code.is_some() {
            Some(ids::now())
        } else {
            session.and_then(|s| s.mfa_authenticated_at)
        };
        c.insert("aws:MultiFactorAuthPresent", mfa_at.is_some().to_string());
        if let Some(at) = mfa_at {
            c.insert(
                "aws:MultiFactorAuthAge",
                (ids::now() - at).max(0).to_string(),
            );
        }
        let arn = role.arn();
        let mut actions = vec!["sts:AssumeRole"];
        if !tags.is_empty() {
            actions.push("sts:TagSession");
        }
        if input.source_identity.is_some() {
            actions.push("sts:SetSourceIdentity");
        }
        for action in actions {
            let req = Request {
                principal: &principal,
                action,
                resource: &arn,
                context: &c,
            };
            let cross_account = role.account_id != ctx.principal.account_id;
            match trust_check(&trust, &req) {
                // Named directly, in the same account: the trust policy is enough.
                TrustDecision::Allowed if !cross_account => {}
                // Through the account, or from another account: the caller's own policies must
                // allow it too.
                TrustDecision::Allowed | TrustDecision::AllowedForAccount => {
                    crate::authz::enforce::identity_allows(app, ctx, action, &arn, |ctx_keys| {
                        for (k, v) in sts_keys(input) {
                            ctx_keys.insert(&k, v);
                        }
                    })?;
                }
                TrustDecision::Denied | TrustDecision::NotAllowed => {
                    return Err(not_authorized(ctx, action, &arn));
                }
            }
        }
        Ok(())
    })();
    settle(app, ctx, role, "AssumeRole", decision)
}

/// A trust decision as the mode settles it: a denial is kept in the decision log; in `audit` it
/// is logged and the call goes on, in `enforce` it stands.
pub(crate) fn settle(
    app: &App,
    ctx: &Ctx,
    role: &Role,
    operation: &str,
    decision: Result<(), ApiError>,
) -> Result<(), ApiError> {
    let role_arn = role.arn();
    if let Err(e) = &decision {
        // The policy considered: the role's trust policy, as it was.
        let considered = app
            .policies
            .get_or_parse_shared(&role.assume_role_policy)
            .ok()
            .map(|(document, policy)| AppliedPolicy {
                id: format!("{} trust policy", role.name).into(),
                source: crate::policy::SourceType::ResourcePolicy,
                simulator_type: "resource",
                arn: Some(role_arn.clone()),
                policy,
                document: Some(document),
            });
        app.decisions.record(crate::authz::decisions::Record {
            time_ns: crate::authz::decisions::Record::time_of(ctx.now),
            request_id: crate::authz::decisions::RequestId::parse(&ctx.request_id),
            caller: std::sync::Arc::new(crate::authz::decisions::Caller {
                principal: ctx.principal.arn.clone(),
                considered: considered.into_iter().collect(),
                context_keys: Default::default(),
            }),
            action: format!("sts:{operation}").into(),
            packed: std::sync::Arc::new(crate::authz::decisions::Packed::new(
                &role_arn,
                &Default::default(),
            )),
            decision: "ImplicitDeny",
            reason: Some(e.message.clone()),
            enforced: app.config.auth == AuthMode::Enforce,
            hits: Default::default(),
        });
    }
    match (decision, app.config.auth) {
        (Err(e), AuthMode::Audit) => {
            tracing::warn!(
                request_id = %ctx.request_id,
                caller = %ctx.principal.arn,
                role = %role_arn,
                operation,
                error = %e,
                "audit: the role's trust policy would deny this"
            );
            Ok(())
        }
        (d, _) => d,
    }
}

/// What a role's trust policy is asked on `AssumeRole*`.
pub(crate) struct TrustRequest<'a> {
    pub principal: &'a PolicyPrincipal,
    pub role_arn: &'a str,
    /// `sts:AssumeRole`, `sts:AssumeRoleWithSAML`, …
    pub action: &'static str,
    /// The session tags requested (`sts:TagSession` is then needed too).
    pub tags: &'a [Tag],
    /// Whether a source identity is set (`sts:SetSourceIdentity` is then needed too).
    pub source_identity: bool,
}

/// The first action the trust policy does not allow (with the request tags added to `context`),
/// or `None` when it allows them all.
pub(crate) fn trust_denial(
    trust: &crate::policy::Policy,
    req: &TrustRequest<'_>,
    mut context: Context,
) -> Option<&'static str> {
    for t in req.tags {
        context.insert(&format!("aws:RequestTag/{}", t.key), t.value.clone());
    }
    if !req.tags.is_empty() {
        context.insert_many(
            "aws:TagKeys",
            req.tags.iter().map(|t| t.key.clone()).collect(),
        );
    }
    let mut actions = vec![req.action];
    if !req.tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if req.source_identity {
        actions.push("sts:SetSourceIdentity");
    }
    actions.into_iter().find(|&action| {
        let r = Request {
            principal: req.principal,
            action,
            resource: req.role_arn,
            context: &context,
        };
        matches!(
            trust_check(trust, &r),
            TrustDecision::Denied | TrustDecision::NotAllowed
        )
    })
}

/// A new session of `role` named `name`, created now and expiring after `duration` seconds, with
/// nothing else (tags, policies, source identity) set.
pub(crate) fn role_session(role: &Role, name: &str, duration: i32) -> Session {
    let (key, secret, token) = new_credentials();
    let now = ids::now();
    Session {
        access_key_id: key,
        account_id: role.account_id.clone(),
        secret_access_key: secret,
        session_token: token,
        kind: SessionKind::AssumedRole,
        arn: format!(
            "arn:aws:sts::{}:assumed-role/{}/{name}",
            role.account_id, role.name
        ),
        principal_id: format!("{}:{name}", role.role_id),
        entity_id: Some(role.role_id.clone()),
        role_arn: Some(role.arn()),
        session_name: Some(name.to_string()),
        source_identity: None,
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        session_policy: None,
        policy_arns: Vec::new(),
        mfa_authenticated_at: None,
        chained: false,
        created: now,
        expiration: now + i64::from(duration),
    }
}

async fn assume_role(
    app: App,
    ctx: Ctx,
    input: sts::AssumeRoleRequest,
) -> Result<sts::AssumeRoleResponse, ApiError> {
    check_arn_syntax(&input.role_arn)?;
    let caller = calling_session(&app, &ctx);
    let tags = input.tags.clone().unwrap_or_default();
    let transitive = input.transitive_tag_keys.clone().unwrap_or_default();
    check_session_tags(&tags, &transitive)?;

    // A role that does not exist is AWS's AccessDenied, in every mode.
    let denied = || not_authorized(&ctx, "sts:AssumeRole", &input.role_arn);
    let (account, path, name) = parse_role_arn(&input.role_arn).ok_or_else(denied)?;
    let role = {
        let model = app.store.read();
        model
            .account(account)
            .roles
            .get(name)
            .filter(|r| r.path == path)
            .cloned()
            .ok_or_else(denied)?
    };
    authorize_assume_role(&app, &ctx, caller.as_deref(), &role, &input)?;

    let chained = ctx.principal.kind == CallerKind::AssumedRole;
    let duration = input.duration_seconds.unwrap_or(3600);
    if chained && duration > CHAINED_MAX_SECONDS {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > role.max_session_duration {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }

    // Transitive tags of the calling session carry over and cannot be set again.
    let mut session_tags: Vec<Tag> = tags.iter().map(|t| Tag::new(&t.key, &t.value)).collect();
    let mut transitive_keys = transitive.clone();
    let mut source_identity = input.source_identity.clone();
    if let Some(parent) = caller.as_deref() {
        for k in &parent.transitive_tag_keys {
            let conflicts = tags.iter().any(|t| t.key.eq_ignore_ascii_case(k))
                || transitive.iter().any(|t| t.eq_ignore_ascii_case(k));
            if conflicts {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    http::StatusCode::BAD_REQUEST,
                    "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
                ));
            }
            if let Some(t) = parent.tags.iter().find(|t| t.key.eq_ignore_ascii_case(k)) {
                session_tags.push(t.clone());
                transitive_keys.push(t.key.clone());
            }
        }
        if let Some(parent_source) = &parent.source_identity {
            if source_identity.as_ref().is_some_and(|s| s != parent_source) {
                return Err(ApiError::access_denied(
                    "SourceIdentity cannot be changed once set: it is kept across role chaining.",
                ));
            }
            source_identity = Some(parent_source.clone());
        }
    }
    let policy_arns = policy_arn_list(input.policy_arns.clone());
    let packed = packed_policy_size(input.policy.as_deref(), &policy_arns, &session_tags)?;

    let session = Session {
        source_identity: source_identity.clone(),
        tags: session_tags,
        transitive_tag_keys: transitive_keys,
        session_policy: input.policy.clone(),
        policy_arns,
        mfa_authenticated_at: caller.as_deref().and_then(|s| s.mfa_authenticated_at),
        chained,
        ..role_session(&role, &input.role_session_name, duration)
    };
    let mfa = MfaCode::of(&ctx, input.serial_number.clone(), input.token_code.clone())?;
    let session = insert_session(&app, session, mfa).await?;
    let with_packed = input.policy.is_some()
        || input.policy_arns.is_some()
        || input.tags.as_ref().is_some_and(|t| !t.is_empty());
    Ok(sts::AssumeRoleResponse {
        credentials: Some(credentials_shape(&session)),
        assumed_role_user: Some(sts::AssumedRoleUser {
            assumed_role_id: session.principal_id.clone(),
            arn: session.arn.clone(),
        }),
        packed_policy_size: with_packed.then_some(packed),
        source_identity,
    })
}

/// An MFA code given with a request: checked against the calling user's device.
pub(crate) struct MfaCode {
    account: String,
    user_id: Option<String>,
    serial: String,
    code: String,
}

impl MfaCode {
    /// `SerialNumber` + `TokenCode` of a request, for the caller.
    fn of(
        ctx: &Ctx,
        serial: Option<String>,
        code: Option<String>,
    ) -> Result<Option<MfaCode>, ApiError> {
        match (serial, code) {
            (None, None) => Ok(None),
            (Some(serial), Some(code)) => Ok(Some(MfaCode {
                account: ctx.account().to_string(),
                user_id: (ctx.principal.kind == CallerKind::User)
                    .then(|| ctx.principal.entity_id.clone())
                    .flatten(),
                serial,
                code,
            })),
            _ => Err(ApiError::access_denied(
                "MultiFactorAuthentication failed, unable to validate MFA code.",
            )),
        }
    }
}

/// Stores a new session; with an MFA code, checks and consumes it in the same write, and marks
/// the session as MFA-authenticated.
pub(crate) async fn insert_session(
    app: &App,
    mut session: Session,
    mfa: Option<MfaCode>,
) -> Result<std::sync::Arc<Session>, ApiError> {
    app.store
        .write(move |tx| {
            if let Some(m) = mfa {
                let user_id = m.user_id.ok_or_else(|| {
                    ApiError::access_denied(
                        "MultiFactorAuthentication failed, unable to validate MFA code.",
                    )
                })?;
                crate::api::mfa::verify_code(tx, &m.account, &user_id, &m.serial, &m.code)?;
                session.mfa_authenticated_at = Some(ids::now());
            }
            tx.insert(session).map_err(|e| match e {
                StoreError::UniqueViolation(_) => {
                    ApiError::internal("temporary access key ID collision")
                }
                other => other.into(),
            })
        })
        .await
}

/// GetSessionToken and GetFederationToken may not be called with temporary credentials.
fn require_long_term(ctx: &Ctx, operation: &str) -> Result<(), ApiError> {
    if matches!(
        ctx.principal.kind,
        CallerKind::AssumedRole | CallerKind::FederatedUser
    ) || ctx
        .principal
        .access_key_id
        .as_deref()
        .is_some_and(|k| k.starts_with(ids::prefix::TEMPORARY_ACCESS_KEY))
    {
        return Err(ApiError::access_denied(format!(
            "Cannot call {operation} with session credentials"
        )));
    }
    Ok(())
}

/// A token's duration: the default, at most the longest, an hour for the root user.
fn token_duration(ctx: &Ctx, requested: Option<i32>) -> Result<i32, ApiError> {
    let max = if ctx.principal.is_root() {
        ROOT_MAX_SECONDS
    } else {
        TOKEN_MAX_SECONDS
    };
    let d = requested.unwrap_or(TOKEN_DEFAULT_SECONDS.min(max));
    Ok(d.min(max))
}

async fn get_session_token(
    app: App,
    ctx: Ctx,
    input: sts::GetSessionTokenRequest,
) -> Result<sts::GetSessionTokenResponse, ApiError> {
    require_long_term(&ctx, "GetSessionToken")?;
    let duration = token_duration(&ctx, input.duration_seconds)?;
    let p = &ctx.principal;
    let (kind, entity_id) = match p.kind {
        CallerKind::User => (SessionKind::User, p.entity_id.clone()),
        _ => (SessionKind::Root, None),
    };
    let (key, secret, token) = new_credentials();
    let now = ids::now();
    let session = Session {
        access_key_id: key,
        account_id: p.account_id.clone(),
        secret_access_key: secret,
        session_token: token,
        kind,
        arn: p.arn.clone(),
        principal_id: p.user_id.clone(),
        entity_id,
        role_arn: None,
        session_name: None,
        source_identity: None,
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        session_policy: None,
        policy_arns: Vec::new(),
        mfa_authenticated_at: None,
        chained: false,
        created: now,
        expiration: now + i64::from(duration),
    };
    let mfa = MfaCode::of(&ctx, input.serial_number, input.token_code)?;
    let session = insert_session(&app, session, mfa).await?;
    Ok(sts::GetSessionTokenResponse {
        credentials: Some(credentials_shape(&session)),
    })
}

async fn get_federation_token(
    app: App,
    ctx: Ctx,
    input: sts::GetFederationTokenRequest,
) -> Result<sts::GetFederationTokenResponse, ApiError> {
    require_long_term(&ctx, "GetFederationToken")?;
    let tags = input.tags.clone().unwrap_or_default();
    check_session_tags(&tags, &[])?;
    let duration = token_duration(&ctx, input.duration_seconds)?;
    let session_tags: Vec<Tag> = tags.iter().map(|t| Tag::new(&t.key, &t.value)).collect();
    let policy_arns = policy_arn_list(input.policy_arns.clone());
    let packed = packed_policy_size(input.policy.as_deref(), &policy_arns, &session_tags)?;
    let account = ctx.account().to_string();
    let arn = format!("arn:aws:sts::{account}:federated-user/{}", input.name);
    let federated_id = format!("{account}:{}", input.name);
    let (key, secret, token) = new_credentials();
    let now = ids::now();
    let session = Session {
        access_key_id: key,
        account_id: account,
        secret_access_key: secret,
        session_token: token,
        kind: SessionKind::FederatedUser,
        arn: arn.clone(),
        principal_id: federated_id.clone(),
        entity_id: ctx.principal.entity_id.clone(),
        role_arn: None,
        session_name: Some(input.name.clone()),
        source_identity: None,
        tags: session_tags,
        transitive_tag_keys: Vec::new(),
        session_policy: input.policy.clone(),
        policy_arns,
        mfa_authenticated_at: None,
        chained: false,
        created: now,
        expiration: now + i64::from(duration),
    };
    let session = insert_session(&app, session, None).await?;
    Ok(sts::GetFederationTokenResponse {
        credentials: Some(credentials_shape(&session)),
        federated_user: Some(sts::FederatedUser {
            federated_user_id: federated_id,
            arn,
        }),
        packed_policy_size: Some(packed),
    })
}

/// How long an expired session is kept, so that its credentials are refused with `ExpiredToken`
/// (as AWS does) rather than as unknown.
const EXPIRED_GRACE_SECONDS: i64 = 3600;

/// Forgets every session expired for longer than the grace period (run every minute).
pub async fn prune_expired(app: &App, now: OffsetDateTime) {
    let now = now.unix_timestamp() - EXPIRED_GRACE_SECONDS;
    let expired: Vec<(String, String)> = {
        let model = app.store.read();
        model
            .accounts()
            .flat_map(|(id, a)| {
                a.sessions
                    .iter()
                    .filter(|s| s.expiration <= now)
                    .map(move |s| (id.to_string(), s.access_key_id.clone()))
            })
            .collect()
    };
    if expired.is_empty() {
        return;
    }
    let n = expired.len();
    let result = app
        .store
        .write(move |tx| {
            for (account, key) in &expired {
                // Gone already (a reset, say): nothing to do.
                let _ = tx.remove::<Session>(account, key);
            }
            Ok::<_, StoreError>(())
        })
        .await;
    match result {
        Ok(()) => tracing::debug!(sessions = n, "pruned expired sessions"),
        Err(e) => tracing::warn!(error = %e, "could not prune expired sessions"),
    }
}

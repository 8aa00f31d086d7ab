//! Web identity federation in STS: AssumeRoleWithWebIdentity (an OpenID Connect ID token for
//! temporary credentials of a role) and GetWebIdentityToken (a JWT of the caller, signed by its
//! account's own issuer).
//!
//! The token is verified for real: its issuer must be an OpenID Connect provider of the role's
//! account, its audience (`aud`, else `azp`) one of the provider's client IDs, its signature must
//! verify with the issuer's keys and its time claims hold. localiam cannot fetch an issuer's
//! JWKS: the keys are given to it (`POST /_localiam/oidc-keys`), and the tokens of a localiam
//! account's own issuer verify with that account's keys.
//!
//! Authorization (design notes §3): the role's trust policy is decided in `audit`/`enforce` only,
//! with the provider as the federated principal and the token's claims as condition keys.

use jsonwebtoken::jwk::JwkSet;
use serde_json::{json, Value};

use crate::api::oidc_providers::{outbound, provider_name};
use crate::api::sts::{
    check_arn_syntax, credentials_shape, insert_session, packed_policy_size, parse_role_arn,
    policy_arn_list, role_session, settle,
};
use crate::api::{Ctx, Registry};
use crate::config::AuthMode;
use crate::error::ApiError;
use crate::jwt::{self, VerifyError};
use crate::policy::{trust_check, Context, Principal as PolicyPrincipal, Request, TrustDecision};
use crate::protocol::sts;
use crate::state::App;
use crate::store::model::{Model, OidcProvider, Role, Session, SHARED_ACCOUNT};

/// GetWebIdentityToken's default token lifetime.
const TOKEN_DEFAULT_SECONDS: i32 = 300;

pub fn register(r: &mut Registry) {
    r.sts::<sts::AssumeRoleWithWebIdentity, _, _>(assume_role_with_web_identity);
    r.sts::<sts::GetWebIdentityToken, _, _>(get_web_identity_token);
}

fn invalid_token(message: impl Into<String>) -> ApiError {
    ApiError::new(
        "InvalidIdentityToken",
        http::StatusCode::BAD_REQUEST,
        message,
    )
}

fn no_key() -> ApiError {
    invalid_token(
        "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
    )
}

fn not_authorized() -> ApiError {
    ApiError::access_denied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
}

/// AWS's error for a token that did not verify.
fn verify_error(e: VerifyError) -> ApiError {
    match e {
        VerifyError::Malformed => invalid_token(
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        ),
        VerifyError::NoKey => no_key(),
        VerifyError::BadSignature => {
            invalid_token("The token's signature does not verify with the identity provider's keys.")
        }
        VerifyError::Expired { now, exp } => ApiError::new(
            "ExpiredTokenException",
            http::StatusCode::BAD_REQUEST,
            format!("Token expired: current date/time {now} must be before the expiration date/time {exp}"),
        ),
        VerifyError::NotYetValid => invalid_token("Token used before issued"),
        VerifyError::MissingExp => invalid_token("Missing claim 'exp' in the token"),
    }
}

/// The keys of an issuer (named `HOST/PATH`): a localiam account's own issuer (enabled or not:
/// its tokens outlive the feature), else the keys given to localiam.
pub fn issuer_keys(model: &Model, issuer: &str) -> Option<JwkSet> {
    for (_, account) in model.accounts() {
        if let Some(o) = outbound(account) {
            if provider_name(&o.issuer).as_deref() == Some(issuer) {
                return jwt::public_jwks(&o.keys)
                    .map_err(
                        |e| tracing::error!(error = %e, "an account's issuer keys are unusable"),
                    )
                    .ok();
            }
        }
    }
    let given = model.account(SHARED_ACCOUNT).issuer_keys.get(issuer)?;
    jwt::parse_jwks(&given.jwks)
        .map_err(
            |e| tracing::warn!(issuer, error = %e, "the JWKS given for an issuer does not parse"),
        )
        .ok()
}

/// The token's audiences: `aud` (a string or a list), and `azp`.
fn audiences(claims: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        out.push(azp.to_string());
    }
    out
}

/// A claim as the condition keys see it: strings as they are, lists as their strings.
fn claim_values(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.to_string()],
    }
}

/// In `audit`/`enforce`: the role's trust policy, with the provider as the principal and the
/// token's claims as `<issuer>:aud`, `:sub`, `:amr`, `:azp`… (design notes §3).
fn authorize(
    app: &App,
    ctx: &Ctx,
    role: &Role,
    provider: &OidcProvider,
    claims: &serde_json::Map<String, Value>,
    audience: &str,
    session_name: &str,
) -> Result<(), ApiError> {
    if !matches!(app.config.auth, AuthMode::Audit | AuthMode::Enforce) {
        return Ok(());
    }
    let decision = (|| {
        let trust = app
            .policies
            .get_or_parse(&role.assume_role_policy)
            .map_err(|_| not_authorized())?;
        let principal = PolicyPrincipal::federated(&provider.arn());
        let mut c = Context::new();
        c.add_principal_keys(&principal);
        c.insert("aws:FederatedProvider", provider.arn());
        c.insert("sts:RoleSessionName", session_name.to_string());
        let prefix = &provider.url;
        c.insert(&format!("{prefix}:aud"), audience.to_string());
        for claim in ["sub", "amr", "azp", "email", "oaud"] {
            let values = claim_values(claims.get(claim));
            if !values.is_empty() {
                c.insert_many(&format!("{prefix}:{claim}"), values);
            }
        }
        if let Some(aud) = claims.get("aud") {
            c.insert_many(&format!("{prefix}:oaud"), claim_values(Some(aud)));
        }
        let arn = role.arn();
        let req = Request {
            principal: &principal,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: &arn,
            context: &c,
        };
        match trust_check(&trust, &req) {
            TrustDecision::Allowed | TrustDecision::AllowedForAccount => Ok(()),
            TrustDecision::Denied | TrustDecision::NotAllowed => Err(not_authorized()),
        }
    })();
    settle(app, ctx, role, "AssumeRoleWithWebIdentity", decision)
}

async fn assume_role_with_web_identity(
    app: App,
    ctx: Ctx,
    input: sts::AssumeRoleWithWebIdentityRequest,
) -> Result<sts::AssumeRoleWithWebIdentityResponse, ApiError> {
    check_arn_syntax(&input.role_arn)?;
    let token = input.web_identity_token.as_str();
    let unverified = jwt::peek_claims(token).map_err(verify_error)?;
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| verify_error(VerifyError::Malformed))?
        .to_string();
    let (account, role_path, role_name) =
        parse_role_arn(&input.role_arn).ok_or_else(not_authorized)?;
    let issuer = provider_name(&iss).unwrap_or_else(|| iss.trim_end_matches('/').to_string());
    let (provider, keys, role) = {
        let model = app.store.read();
        let acct = model.account(account);
        let provider = acct.oidc_providers.get(&issuer).cloned().ok_or_else(|| {
            invalid_token(format!(
                "No OpenIDConnect provider found in your account for {iss}"
            ))
        })?;
        let role = acct
            .roles
            .get(role_name)
            .filter(|r| r.path == role_path)
            .cloned();
        (provider, issuer_keys(&model, &issuer), role)
    };
    let keys = keys.ok_or_else(no_key)?;
    let claims = jwt::verify(token, &keys, ctx.now.unix_timestamp()).map_err(|e| {
        tracing::info!(request_id = %ctx.request_id, issuer = %issuer, reason = %e, "web identity token refused");
        verify_error(e)
    })?;
    let audience = audiences(&claims)
        .into_iter()
        .find(|a| provider.client_ids.contains(a))
        .ok_or_else(|| invalid_token("Incorrect token audience"))?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::new(
                "IDPRejectedClaim",
                http::StatusCode::FORBIDDEN,
                "The token has no subject (sub) claim.",
            )
        })?;
    // A role that does not exist is AccessDenied, in every mode.
    let role = role.ok_or_else(not_authorized)?;
    authorize(
        &app,
        &ctx,
        &role,
        &provider,
        &claims,
        &audience,
        &input.role_session_name,
    )?;

    let duration = input.duration_seconds.unwrap_or(3600);
    if duration > role.max_session_duration {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let policy_arns = policy_arn_list(input.policy_arns.clone());
    let packed = packed_policy_size(input.policy.as_deref(), &policy_arns, &[])?;
    let session = Session {
        session_policy: input.policy.clone(),
        policy_arns,
        ..role_session(&role, &input.role_session_name, duration)
    };
    let session_arn = session.arn.clone();
    let session = insert_session(&app, session, None).await?;
    tracing::info!(
        request_id = %ctx.request_id,
        provider = %provider.arn(),
        role = %role.arn(),
        "web identity session issued"
    );
    let with_packed = input.policy.is_some() || input.policy_arns.is_some();
    Ok(sts::AssumeRoleWithWebIdentityResponse {
        credentials: Some(credentials_shape(&session)),
        subject_from_web_identity_token: Some(subject),
        assumed_role_user: Some(sts::AssumedRoleUser {
            assumed_role_id: session.principal_id.clone(),
            arn: session_arn,
        }),
        packed_policy_size: with_packed.then_some(packed),
        provider: Some(iss),
        audience: Some(audience),
        source_identity: None,
    })
}

async fn get_web_identity_token(
    app: App,
    ctx: Ctx,
    input: sts::GetWebIdentityTokenRequest,
) -> Result<sts::GetWebIdentityTokenResponse, ApiError> {
    let alg = input.signing_algorithm.as_str();
    if !matches!(alg, "RS256" | "ES384") {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{alg}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RS256, ES384]"
        )));
    }
    let account = ctx.account().to_string();
    let (federation, session) = {
        let model = app.store.read();
        let session = ctx
            .principal
            .access_key_id
            .as_deref()
            .and_then(|k| model.key(k).filter(|l| l.session).map(|_| k.to_string()))
            .and_then(|k| model.account(&account).sessions.get_by_id(&k).cloned());
        (outbound(model.account(&account)), session)
    };
    let federation = federation.filter(|o| o.enabled).ok_or_else(|| {
        ApiError::new(
            "OutboundWebIdentityFederationDisabledException",
            http::StatusCode::FORBIDDEN,
            "Outbound web identity federation is not enabled for this account.",
        )
    })?;
    let key = federation
        .keys
        .iter()
        .find(|k| k.alg == alg)
        .ok_or_else(|| ApiError::internal("The issuer has no key for this algorithm."))?;
    let now = ctx.now.unix_timestamp();
    let exp = now + i64::from(input.duration_seconds.unwrap_or(TOKEN_DEFAULT_SECONDS));
    if session.as_ref().is_some_and(|s| exp > s.expiration) {
        return Err(ApiError::new(
            "SessionDurationEscalationException",
            http::StatusCode::FORBIDDEN,
            "The requested token duration would extend the session beyond its original expiration time.",
        ));
    }
    // The subject is the caller: a role session is named by its role.
    let subject = session
        .as_ref()
        .and_then(|s| s.role_arn.clone())
        .unwrap_or_else(|| ctx.principal.arn.clone());
    let aud = match input.audience.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    let tags: serde_json::Map<String, Value> = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, Value::String(t.value)))
        .collect();
    let mut aws = json!({
        "aws_account": account,
        "source_region": ctx.region,
        "principal_id": ctx.principal.arn,
    });
    if !tags.is_empty() {
        aws["request_tags"] = Value::Object(tags);
    }
    let claims = json!({
        "iss": federation.issuer,
        "sub": subject,
        "aud": aud,
        "iat": now,
        "nbf": now,
        "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string(),
        "https://sts.amazonaws.com/": aws,
    });
    let token = jwt::sign(key, &claims).map_err(|e| {
        tracing::error!(error = %e, "could not sign a web identity token");
        ApiError::internal("The token could not be signed.")
    })?;
    Ok(sts::GetWebIdentityTokenResponse {
        web_identity_token: Some(token),
        expiration: Some(crate::api::common::ts(exp)),
    })
}

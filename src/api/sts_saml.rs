//! AssumeRoleWithSAML: temporary credentials of a role for a SAML response of an identity provider
//! registered as a SAML provider (`saml_providers.rs`). The call is unsigned, as on AWS: what
//! authenticates it is the response's XML signature, verified against the provider's metadata
//! certificates ([`crate::saml`]).
//!
//! Checked in every auth mode (design notes §3): the provider exists, the response is signed by it
//! and issued by its entity ID, it is meant for AWS (audience), it is within its validity window,
//! its `Role` attribute offers the requested role/provider pair, and its session name is valid.
//! The role's trust policy (principal `Federated: <provider ARN>`, `saml:*` condition keys) is
//! decided only in `audit` and `enforce`.

use base64::Engine as _;
use sha1::Digest as _;
use time::OffsetDateTime;

use crate::api::saml_providers::parse_provider_arn;
use crate::api::sts::{
    check_arn_syntax, check_session_tags, credentials_shape, insert_session, packed_policy_size,
    parse_role_arn, policy_arn_list, role_session, settle, trust_denial, TrustRequest,
};
use crate::api::{Ctx, Registry};
use crate::config::AuthMode;
use crate::error::ApiError;
use crate::policy::{Context, Principal as PolicyPrincipal};
use crate::protocol::sts;
use crate::saml::dsig::DsigError;
use crate::saml::{certificate_key, read_response, Assertion, ResponseError};
use crate::state::App;
use crate::store::model::{Role, SamlProvider, Session, Tag};

const ROLE_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SOURCE_IDENTITY_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";
const PRINCIPAL_TAG_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:";
const TRANSITIVE_TAGS_ATTRIBUTE: &str = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys";
const NAMEID_FORMAT_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:";
/// How far a `NotBefore` may be ahead of localiam's clock (clock skew).
const NOT_BEFORE_SKEW_SECONDS: i64 = 300;

/// The attributes AWS offers as `saml:` condition keys, by the OID they are sent under.
const SAML_KEYS: &[(&str, &str)] = &[
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.1",
        "saml:edupersonaffiliation",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.2", "saml:edupersonnickname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.3", "saml:edupersonorgdn"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.4",
        "saml:edupersonorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.5",
        "saml:edupersonprimaryaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
        "saml:edupersonprincipalname",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.7",
        "saml:edupersonentitlement",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.8",
        "saml:edupersonprimaryorgunitdn",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.9",
        "saml:edupersonscopedaffiliation",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.10",
        "saml:edupersontargetedid",
    ),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.1.1.11",
        "saml:edupersonassurance",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.2", "saml:eduorghomepageuri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.3",
        "saml:eduorgidentityauthnpolicyuri",
    ),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.4", "saml:eduorglegalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.5", "saml:eduorgsuperioruri"),
    (
        "urn:oid:1.3.6.1.4.1.5923.1.2.1.6",
        "saml:eduorgwhitepagesuri",
    ),
    ("urn:oid:2.5.4.3", "saml:cn"),
    ("urn:oid:2.5.4.4", "saml:sn"),
    ("urn:oid:2.5.4.42", "saml:givenname"),
    ("urn:oid:0.9.2342.19200300.100.1.1", "saml:uid"),
    ("urn:oid:0.9.2342.19200300.100.1.3", "saml:mail"),
    (
        "urn:oid:0.9.2342.19200300.100.1.45",
        "saml:organizationstatus",
    ),
    (
        "urn:oid:1.3.6.1.4.1.25178.1.2.9",
        "saml:x500uniqueidentifier",
    ),
];

pub fn register(r: &mut Registry) {
    r.sts::<sts::AssumeRoleWithSAML, _, _>(assume_role_with_saml);
}

fn invalid_token(message: impl Into<String>) -> ApiError {
    ApiError::new(
        "InvalidIdentityToken",
        http::StatusCode::BAD_REQUEST,
        message,
    )
}

fn not_authorized() -> ApiError {
    ApiError::access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
}

/// An audience meant for AWS sign-in (global or regional endpoint) or `urn:amazon:webservices`.
fn is_aws_audience(a: &str) -> bool {
    a == "urn:amazon:webservices"
        || a.strip_prefix("https://")
            .and_then(|r| r.strip_suffix("signin.aws.amazon.com/saml"))
            .is_some_and(|region| region.is_empty() || region.ends_with('.'))
}

/// `[a-zA-Z_0-9+=,.@-]{2,64}`, the rule for the session name and the source identity.
fn valid_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// Whether the `Role` attribute offers the pair (`role-arn,provider-arn`, in either order).
fn offers_pair(a: &Assertion, role_arn: &str, provider_arn: &str) -> bool {
    a.attribute(ROLE_ATTRIBUTE).is_some_and(|values| {
        values.iter().any(|v| {
            let parts: Vec<&str> = v.split(',').map(str::trim).collect();
            matches!(parts.as_slice(), [x, y]
                if (*x == role_arn && *y == provider_arn) || (*x == provider_arn && *y == role_arn))
        })
    })
}

/// AWS's `NameQualifier`: `BASE64(SHA1(issuer + account + "/" + provider name))`.
fn name_qualifier(issuer: &str, provider: &SamlProvider) -> String {
    let digest =
        sha1::Sha1::digest(format!("{issuer}{}/{}", provider.account_id, provider.name).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// The response, decoded, verified and read, with AWS's errors.
fn verified_assertion(
    provider: &SamlProvider,
    saml: &str,
    now: OffsetDateTime,
) -> Result<Assertion, ApiError> {
    let compact: String = saml.split_whitespace().collect();
    let text = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid_token("Invalid base64 SAMLResponse"))?;
    let keys: Vec<_> = provider
        .certificates
        .iter()
        .filter_map(|c| certificate_key(c))
        .collect();
    let assertion = read_response(&text, &keys).map_err(|e| {
        tracing::debug!(provider = %provider.arn(), error = %e, "SAML response refused");
        match e {
            ResponseError::Signature(DsigError::Unsigned) => {
                invalid_token("Response signature invalid")
            }
            ResponseError::Signature(_) => invalid_token("Response signature invalid"),
            ResponseError::Encrypted => {
                invalid_token("Encrypted assertions are not supported by localiam")
            }
            ResponseError::NotSuccess => invalid_token("SAML response status is not Success"),
            ResponseError::Xml(_) | ResponseError::Invalid(_) => {
                invalid_token("Invalid SAML response")
            }
        }
    })?;
    if assertion.issuer != provider.entity_id {
        return Err(invalid_token("Issuer not present in specified provider"));
    }
    if !assertion.audiences.iter().any(|a| is_aws_audience(a)) {
        return Err(invalid_token(
            "SAML Assertion doesn't contain the requested audience",
        ));
    }
    if assertion
        .not_before
        .is_some_and(|t| t.unix_timestamp() > now.unix_timestamp() + NOT_BEFORE_SKEW_SECONDS)
    {
        return Err(invalid_token("SAML Assertion is not yet valid"));
    }
    let expired = [
        assertion.not_on_or_after,
        assertion.confirmation_not_on_or_after,
    ]
    .into_iter()
    .flatten()
    .any(|t| t <= now);
    if expired {
        return Err(ApiError::new(
            "ExpiredTokenException",
            http::StatusCode::BAD_REQUEST,
            "Token must be redeemed within 5 minutes of issuance",
        ));
    }
    Ok(assertion)
}

/// The `saml:` condition keys of an assertion.
fn saml_context(a: &Assertion, provider: &SamlProvider, audience: &str) -> Context {
    let mut c = Context::new();
    c.insert("saml:aud", audience.to_string());
    c.insert("saml:iss", a.issuer.clone());
    c.insert("saml:namequalifier", name_qualifier(&a.issuer, provider));
    c.insert(
        "saml:doc",
        format!("{}/{}", provider.account_id, provider.name),
    );
    if let Some(s) = &a.subject {
        c.insert("saml:sub", s.clone());
    }
    if let Some(t) = subject_type(a) {
        c.insert("saml:sub_type", t);
    }
    for (oid, key) in SAML_KEYS {
        if let Some(values) = a.attribute(oid) {
            c.insert_many(key, values.to_vec());
        }
    }
    c
}

fn subject_type(a: &Assertion) -> Option<String> {
    a.subject_format.as_deref().map(|f| {
        f.strip_prefix(NAMEID_FORMAT_PREFIX)
            .unwrap_or(f)
            .to_string()
    })
}

/// In `audit`/`enforce`: the role's trust policy for the federated principal.
fn authorize(
    app: &App,
    ctx: &Ctx,
    role: &Role,
    provider_arn: &str,
    context: Context,
    tags: &[Tag],
    source_identity: bool,
) -> Result<(), ApiError> {
    if !matches!(app.config.auth, AuthMode::Audit | AuthMode::Enforce) {
        return Ok(());
    }
    let role_arn = role.arn();
    let decision = app
        .policies
        .get_or_parse(&role.assume_role_policy)
        .map_err(|_| not_authorized())
        .and_then(|trust| {
            let req = TrustRequest {
                principal: &PolicyPrincipal::federated(provider_arn),
                role_arn: &role_arn,
                action: "sts:AssumeRoleWithSAML",
                tags,
                source_identity,
            };
            match trust_denial(&trust, &req, context) {
                Some(_) => Err(not_authorized()),
                None => Ok(()),
            }
        });
    settle(app, ctx, role, "AssumeRoleWithSAML", decision)
}

async fn assume_role_with_saml(
    app: App,
    ctx: Ctx,
    input: sts::AssumeRoleWithSAMLRequest,
) -> Result<sts::AssumeRoleWithSAMLResponse, ApiError> {
    check_arn_syntax(&input.role_arn)?;
    check_arn_syntax(&input.principal_arn)?;
    let (provider, role) = {
        let model = app.store.read();
        let provider = parse_provider_arn(&input.principal_arn)
            .and_then(|(account, name)| model.account(account).saml_providers.get(name).cloned())
            .ok_or_else(|| invalid_token("Specified provider doesn't exist"))?;
        // A role that does not exist is AccessDenied, in every mode.
        let role = parse_role_arn(&input.role_arn).and_then(|(account, path, name)| {
            model
                .account(account)
                .roles
                .get(name)
                .filter(|r| r.path == path)
                .cloned()
        });
        (provider, role)
    };
    let assertion = verified_assertion(&provider, &input.saml_assertion, ctx.now)?;
    if !offers_pair(&assertion, &input.role_arn, &input.principal_arn) {
        return Err(not_authorized());
    }
    let role = role
        .filter(|r| r.account_id == provider.account_id)
        .ok_or_else(not_authorized)?;
    let session_name = assertion
        .attribute(SESSION_NAME_ATTRIBUTE)
        .and_then(|v| v.first())
        .cloned()
        .ok_or_else(|| invalid_token("RoleSessionName is required in AuthnResponse"))?;
    if !valid_name(&session_name) {
        return Err(invalid_token(
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}",
        ));
    }
    let source_identity = assertion
        .attribute(SOURCE_IDENTITY_ATTRIBUTE)
        .and_then(|v| v.first())
        .cloned();
    if source_identity.as_deref().is_some_and(|s| !valid_name(s)) {
        return Err(invalid_token(
            "Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64}",
        ));
    }
    let tags: Vec<Tag> = assertion
        .attributes
        .iter()
        .filter_map(|(name, values)| {
            let key = name.strip_prefix(PRINCIPAL_TAG_ATTRIBUTE)?;
            Some(Tag::new(
                key,
                values.first().map(String::as_str).unwrap_or_default(),
            ))
        })
        .collect();
    let transitive: Vec<String> = assertion
        .attribute(TRANSITIVE_TAGS_ATTRIBUTE)
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let api_tags: Vec<sts::Tag> = tags
        .iter()
        .map(|t| sts::Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect();
    check_session_tags(&api_tags, &transitive)?;

    let audience = assertion
        .recipient
        .clone()
        .or_else(|| {
            assertion
                .audiences
                .iter()
                .find(|a| is_aws_audience(a))
                .cloned()
        })
        .unwrap_or_default();
    let context = saml_context(&assertion, &provider, &audience);
    authorize(
        &app,
        &ctx,
        &role,
        &provider.arn(),
        context,
        &tags,
        source_identity.is_some(),
    )?;

    let duration = input.duration_seconds.unwrap_or(3600);
    if duration > role.max_session_duration {
        return Err(ApiError::validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let policy_arns = policy_arn_list(input.policy_arns.clone());
    let packed = packed_policy_size(input.policy.as_deref(), &policy_arns, &tags)?;
    let with_packed = input.policy.is_some() || input.policy_arns.is_some() || !tags.is_empty();
    let mut session = Session {
        source_identity: source_identity.clone(),
        tags,
        transitive_tag_keys: transitive,
        session_policy: input.policy.clone(),
        policy_arns,
        ..role_session(&role, &session_name, duration)
    };
    // The session ends with the IdP's session, when that comes first.
    if let Some(limit) = assertion.session_not_on_or_after {
        session.expiration = session.expiration.min(limit.unix_timestamp());
    }
    let session = insert_session(&app, session, None).await?;
    Ok(sts::AssumeRoleWithSAMLResponse {
        credentials: Some(credentials_shape(&session)),
        assumed_role_user: Some(sts::AssumedRoleUser {
            assumed_role_id: session.principal_id.clone(),
            arn: session.arn.clone(),
        }),
        packed_policy_size: with_packed.then_some(packed),
        subject: assertion.subject.clone(),
        subject_type: subject_type(&assertion),
        name_qualifier: Some(name_qualifier(&assertion.issuer, &provider)),
        issuer: Some(assertion.issuer),
        audience: Some(audience),
        source_identity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_meant_for_aws() {
        assert!(is_aws_audience("https://signin.aws.amazon.com/saml"));
        assert!(is_aws_audience(
            "https://eu-west-1.signin.aws.amazon.com/saml"
        ));
        assert!(is_aws_audience("urn:amazon:webservices"));
        assert!(!is_aws_audience("https://evilsignin.aws.amazon.com/saml"));
        assert!(!is_aws_audience("https://example.com/saml"));
    }

    #[test]
    fn role_pairs_in_either_order() {
        let a = Assertion {
            attributes: vec![(
                ROLE_ATTRIBUTE.to_string(),
                vec!["arn:p, arn:r".to_string(), "x".to_string()],
            )],
            ..Assertion::default()
        };
        assert!(offers_pair(&a, "arn:r", "arn:p"));
        assert!(!offers_pair(&a, "arn:p", "arn:x"));
    }
}

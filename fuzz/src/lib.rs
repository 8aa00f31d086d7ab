//! The fuzzed entry points: each takes arbitrary bytes and must return, whatever they hold,
//! without a panic, an overflow or unbounded work. Shared, as this one file, by the cargo-fuzz
//! targets (`fuzz/fuzz_targets/*.rs`, nightly) and by the stable-toolchain property tests
//! (`tests/fuzz_stable.rs`, which includes it with `#[path]`), so that both drive exactly the
//! same code: the server's own parsers, made public where they live, never copies of them.
//!
//! Inputs with several parts separate them with line feeds (the seeds in `fuzz/seeds.py` are
//! written that way).

use std::sync::LazyLock;

use localiam::api::registry::check_input;
use localiam::api::Service;
use localiam::auth::sigv4::{self, Auth, RequestParts, SigningKeyCache};
use localiam::policy::validate::{policy_size, validate, validate_and_parse, PolicyKind};
use localiam::policy::{
    context_keys, evaluate, trust_check, Context, EvalInput, Policy, PolicyRef, Principal, Request,
    SourceType,
};
use localiam::protocol::query::Params;
use localiam::protocol::{iam, sts};

/// Splits `data` at its first `n - 1` line feeds (missing parts are empty).
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == b'\n').collect();
    out.resize(n, &[]);
    out
}

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

// ---------------------------------------------------------------------------------------------
// The Query decoder

/// A form body or query string, parsed and decoded as the input of the operation it names (when
/// it names one) and of the operation its first byte picks: every generated decoder and the
/// validator behind it.
pub fn query(data: &[u8]) {
    let params = Params::parse(data);
    let action = params.get("Action").unwrap_or_default();
    for service in [Service::Iam, Service::Sts] {
        let _ = check_input(service, action, &params);
    }
    if let Some(&b) = data.first() {
        let n = iam::OPERATIONS.len() + sts::OPERATIONS.len();
        let i = usize::from(b) * 7 % n;
        let (service, op) = match iam::OPERATIONS.get(i) {
            Some(op) => (Service::Iam, *op),
            None => (Service::Sts, sts::OPERATIONS[i - iam::OPERATIONS.len()]),
        };
        let _ = check_input(service, op, &params);
    }
    let mut merged = Params::parse(data);
    merged.merge_missing(params);
    let _ = merged.has_prefix("Tags.member.");
}

// ---------------------------------------------------------------------------------------------
// SigV4

static KEYS: LazyLock<SigningKeyCache> = LazyLock::new(|| SigningKeyCache::new(4));

/// Everything done with a request's signature once it parsed: canonical request, string to sign,
/// clock window and verification.
fn check_signed(req: &RequestParts<'_>) {
    if let Ok(Auth::Signed(auth)) = sigv4::parse_auth(req) {
        let _ = sigv4::canonical_request(req, &auth);
        let _ = sigv4::string_to_sign(req, &auth);
        let _ = sigv4::check_clock(&auth, time::OffsetDateTime::now_utc());
        let _ = sigv4::check_service(&auth, "iam");
        let _ = sigv4::verify(req, &auth, "test", &KEYS);
    }
}

fn headers(list: &[(&'static str, &[u8])]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        http::header::HOST,
        http::HeaderValue::from_static("localhost:4566"),
    );
    for (name, value) in list {
        if let Ok(v) = http::HeaderValue::from_bytes(value) {
            h.append(*name, v);
        }
    }
    h
}

/// An `Authorization` header (line 1), `X-Amz-Date` (line 2), the query string (line 3), a
/// session token (line 4) and the body (the rest).
pub fn sigv4_header(data: &[u8]) {
    let p = parts(data, 5);
    let h = headers(&[
        ("authorization", p[0]),
        ("x-amz-date", p[1]),
        ("x-amz-security-token", p[3]),
    ]);
    let query = text(p[2]);
    check_signed(&RequestParts {
        method: "POST",
        path: "/",
        query: &query,
        headers: &h,
        body: p[4],
    });
}

/// A presigned query string (line 1), the path (line 2), a `Date` header (line 3) and the body.
pub fn sigv4_presigned(data: &[u8]) {
    let p = parts(data, 4);
    let h = headers(&[("date", p[2])]);
    let query = text(p[0]);
    let path = text(p[1]);
    let path = if path.is_empty() { "/".into() } else { path };
    check_signed(&RequestParts {
        method: "GET",
        path: &path,
        query: &query,
        headers: &h,
        body: p[3],
    });
}

// ---------------------------------------------------------------------------------------------
// Policies

/// The policy reader: validation (AWS's grammar and messages) and compilation, as every kind.
pub fn policy_read(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Policy::parse(text);
    let _ = policy_size(text);
    for kind in [
        PolicyKind::Identity,
        PolicyKind::Trust,
        PolicyKind::Resource,
    ] {
        let _ = validate(text, kind);
        let _ = validate_and_parse(text, kind);
    }
}

/// The evaluator: the action (line 1), the resource (line 2), context entries `key=value`
/// separated by `;` (line 3) and the policy (the rest), decided as identity, boundary, session,
/// resource and trust policy for a user, a role session and an anonymous caller.
pub fn policy_eval(data: &[u8]) {
    let p = parts(data, 4);
    let Ok(policy) = Policy::parse(&text(p[3])) else {
        return;
    };
    let (action, resource) = (text(p[0]), text(p[1]));
    let principals = [
        Principal::user("arn:aws:iam::111122223333:user/alice", "AIDAEXAMPLE"),
        Principal::assumed_role(
            "arn:aws:sts::111122223333:assumed-role/r/s",
            "arn:aws:iam::111122223333:role/r",
            "AROAEXAMPLE:s",
        ),
        Principal::anonymous(),
    ];
    for principal in &principals {
        let mut ctx = Context::new();
        ctx.add_principal_keys(principal);
        for entry in text(p[2]).split(';') {
            if let Some((k, v)) = entry.split_once('=') {
                ctx.push(k, v);
            }
        }
        let request = Request {
            principal,
            action: &action,
            resource: &resource,
            context: &ctx,
        };
        let refs = [PolicyRef::new("fuzzed", SourceType::UserInline, &policy)];
        let mut input = EvalInput::new(request, &refs);
        let _ = evaluate(&input);
        input.boundary = Some(&refs);
        input.session = Some(&refs);
        input.resource_policy = Some(refs[0]);
        input.resource_account = Some("444455556666");
        let eval = evaluate(&input);
        let _ = eval.reason.message_tail(&action);
        let _ = trust_check(&policy, &request);
    }
    let _ = context_keys([&policy]);
}

// ---------------------------------------------------------------------------------------------
// JWT

/// An RSA key of the fuzzed issuer (generated once per process) and its JWKS.
static JWKS: LazyLock<jsonwebtoken::jwk::JwkSet> = LazyLock::new(|| {
    let key = localiam::jwt::generate_key("RS256").expect("key");
    localiam::jwt::public_jwks(std::slice::from_ref(&key)).expect("jwks")
});

/// A web identity token: its claims read unverified (to find the issuer), then verified against
/// a JWKS; and the same bytes read as a JWKS document.
pub fn jwt(data: &[u8]) {
    let token = text(data);
    let _ = localiam::jwt::peek_claims(&token);
    let _ = localiam::jwt::verify(
        &token,
        &JWKS,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    );
    let _ = localiam::jwt::parse_jwks(&token);
}

// ---------------------------------------------------------------------------------------------
// SAML

/// The test identity provider's key (`tests/data/saml`), as a provider's metadata gives it.
static SAML_KEYS: LazyLock<Vec<rsa::RsaPublicKey>> = LazyLock::new(|| {
    let pem = include_str!("../../tests/data/saml/idp-cert.pem");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    localiam::saml::certificate_key(&b64).into_iter().collect()
});

/// A SAML document read as a provider's metadata, as a response (signature checked against the
/// test identity provider's key), and as XML canonicalized whole.
pub fn saml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = localiam::saml::parse_metadata(text);
    let _ = localiam::saml::read_response(text, &SAML_KEYS);
    if let Ok(doc) = localiam::saml::xml::Document::parse(text) {
        let root = 0; // the root element is the first
        let _ = doc.exc_c14n(root, None, &[]);
        let _ = doc.text(root);
    }
}

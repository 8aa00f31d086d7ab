//! Admin endpoints (JSON), never shadowing an AWS path.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::state::App;
use crate::store::model::{IssuerKeys, SHARED_ACCOUNT};

pub async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// The admin routes that answer anyone in every mode: nothing they show is secret (the
/// issuers' documents are public keys, fetched by relying parties).
pub const PUBLIC: [&str; 4] = [
    "/_localiam/health",
    "/_localiam/metrics",
    "/_localiam/oidc/{account}/.well-known/jwks.json",
    "/_localiam/oidc/{account}/.well-known/openid-configuration",
];

/// `GET /_localiam/metrics`: Prometheus text (requests by action and status, latency, policy
/// decisions, entity counts).
pub async fn metrics(State(app): State<App>) -> impl IntoResponse {
    let text = app
        .metrics
        .render(app.decisions.tallies(), &app.store.read());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        text,
    )
}

/// Back to the freshly started state: the seed of `--init`, or nothing.
pub async fn reset(State(app): State<App>) -> impl IntoResponse {
    replace_state(&app, app.seed.clone()).await
}

/// Puts `state` in place of the whole state (one transaction) and forgets what was recorded of
/// the old one in memory.
async fn replace_state(
    app: &App,
    state: Option<std::sync::Arc<crate::store::Model>>,
) -> axum::response::Response {
    match app.store.replace(state).await {
        Ok(()) => {
            app.last_used.clear();
            app.activity.clear();
            app.decisions.clear();
            (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "replacing the state failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": "error", "message": e.to_string()})),
            )
                .into_response()
        }
    }
}

/// `GET /_localiam/state[?format=yaml]`: every account's state in the seed format, secrets
/// included (JSON; YAML with `?format=yaml` or `Accept: application/yaml`).
pub async fn export_state(
    State(app): State<App>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let accept = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let yaml = q
        .get("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("yaml"))
        || (accept.contains("yaml") && !accept.contains("json"));
    let (syntax, content_type) = if yaml {
        (crate::seed::Syntax::Yaml, "application/yaml")
    } else {
        (crate::seed::Syntax::Json, "application/json")
    };
    let seed = crate::seed::export(&app.store.read());
    match crate::seed::render(&seed, syntax) {
        Ok(text) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, content_type)],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the state could not be written out");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": "error", "message": e})),
            )
                .into_response()
        }
    }
}

/// `POST /_localiam/state`: replaces the whole state with a seed's (JSON, or YAML by
/// `Content-Type`), checked as `--init` checks it; an invalid one changes nothing (400, with the
/// path inside it and the reason).
pub async fn import_state(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let refused = |e: crate::seed::SeedError| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "error", "message": e.to_string(), "path": e.path, "reason": e.reason})),
        )
            .into_response()
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refused(crate::seed::SeedError {
            file: None,
            path: String::new(),
            reason: "the body is not UTF-8 text".into(),
        });
    };
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok());
    let syntax = crate::seed::Syntax::of_content_type(content_type, text);
    let seed = match crate::seed::parse(text, syntax) {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    match crate::seed::build(&app.config, &seed).await {
        Ok(state) => replace_state(&app, Some(state)).await,
        Err(e) => refused(e),
    }
}

/// `POST /_localiam/oidc-keys` `{"url": ISSUER, "jwks": {"keys": [...]}}`: the public keys of an
/// OpenID Connect issuer, which localiam cannot fetch itself. AssumeRoleWithWebIdentity verifies
/// that issuer's tokens with them (replacing keys given before for the same issuer).
pub async fn put_oidc_keys(
    State(app): State<App>,
    Json(body): Json<serde_json::Value>,
) -> impl IntoResponse {
    let bad = |m: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "error", "message": m})),
        )
    };
    let Some(url) = body.get("url").and_then(|u| u.as_str()) else {
        return bad("\"url\" (the issuer, https://…) is required");
    };
    let Some(jwks) = body.get("jwks") else {
        return bad("\"jwks\" (a JWKS document: {\"keys\": [...]}) is required");
    };
    let (entity, keys) = match crate::api::oidc_providers::issuer_keys(url, jwks) {
        Ok(k) => k,
        Err(m) => return bad(&m),
    };
    let issuer = entity.issuer.clone();
    let result = app
        .store
        .write(move |tx| {
            let id = entity.issuer.clone();
            tx.upsert(
                SHARED_ACCOUNT,
                &id,
                || entity.clone(),
                |e: &mut IssuerKeys| e.jwks = entity.jwks.clone(),
            )
            .map(|_| ())
        })
        .await;
    match result {
        Ok(()) => {
            tracing::info!(issuer = %issuer, keys, "issuer keys given");
            (
                StatusCode::OK,
                Json(json!({"status": "ok", "issuer": issuer, "keys": keys})),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store issuer keys");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": "error", "message": e.to_string()})),
            )
        }
    }
}

/// `GET /_localiam/notifications[?topic=ARN]`: what IAM would have published to the SNS topics of
/// delegation requests (state changes, and the exchange token when a request is finalized), oldest
/// first, as SNS delivers them. localiam publishes nothing: a partner's test reads its exchange
/// token here.
pub async fn notifications(
    State(app): State<App>,
    axum::extract::Query(filter): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> impl IntoResponse {
    let model = app.store.read();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let list =
        crate::api::delegation::notifications(&model, filter.get("topic").map(String::as_str), now);
    Json(json!({"notifications": list}))
}

/// The account's own issuer, if outbound web identity federation was ever enabled.
fn own_issuer(app: &App, account: &str) -> Option<crate::store::model::OutboundFederation> {
    crate::api::oidc_providers::outbound(app.store.read().account(account))
}

fn no_issuer() -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::NOT_FOUND,
        Json(
            json!({"status": "error", "message": "outbound web identity federation was never enabled for this account"}),
        ),
    )
}

/// `GET /_localiam/oidc/{account}/.well-known/jwks.json`: the public keys of the account's issuer.
pub async fn own_jwks(State(app): State<App>, Path(account): Path<String>) -> impl IntoResponse {
    let Some(o) = own_issuer(&app, &account) else {
        return no_issuer();
    };
    match crate::jwt::public_jwks(&o.keys) {
        Ok(set) => (StatusCode::OK, Json(json!(set))),
        Err(e) => {
            tracing::error!(error = %e, "an account's issuer keys are unusable");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": "error", "message": "the issuer keys are unusable"})),
            )
        }
    }
}

/// `GET /_localiam/oidc/{account}/.well-known/openid-configuration`: the discovery document of the
/// account's issuer, pointing at the JWKS above.
pub async fn own_openid_configuration(
    State(app): State<App>,
    Path(account): Path<String>,
    headers: axum::http::HeaderMap,
) -> impl IntoResponse {
    let Some(o) = own_issuer(&app, &account) else {
        return no_issuer();
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| app.config.listen.to_string(), str::to_string);
    (
        StatusCode::OK,
        Json(json!({
            "issuer": o.issuer,
            "jwks_uri": format!("http://{host}/_localiam/oidc/{account}/.well-known/jwks.json"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES384"],
        })),
    )
}
/// `POST /_localiam/authorize`: the policy evaluator for any action (see `authz::endpoint`).
pub async fn authorize(State(app): State<App>, body: axum::body::Bytes) -> impl IntoResponse {
    let req: crate::authz::endpoint::AuthorizeRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("the body must be a JSON object: {e}")})),
            )
        }
    };
    match crate::authz::endpoint::authorize(&app, &req) {
        Ok(answer) => (StatusCode::OK, Json(answer)),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e.0}))),
    }
}

/// `GET /_localiam/decisions`: the recent decisions of `audit`/`enforce`, newest first (filters
/// `principal`, `action`, `decision` (`Allow`, `ExplicitDeny`, `ImplicitDeny` or `deny`), `since`
/// (Unix seconds), `limit`).
pub async fn decisions(
    State(app): State<App>,
    axum::extract::Query(filter): axum::extract::Query<crate::authz::decisions::Filter>,
) -> impl IntoResponse {
    let records = app.decisions.query(&filter);
    Json(json!({"decisions": records}))
}

/// `GET /_localiam/decisions/policy?principal=ARN[&include_denied=true]`: a least-privilege
/// policy that allows exactly what the principal did (and, with `include_denied`, what it was
/// refused).
pub async fn decisions_policy(
    State(app): State<App>,
    axum::extract::Query(filter): axum::extract::Query<crate::authz::decisions::Filter>,
) -> impl IntoResponse {
    let Some(principal) = filter.principal.as_deref() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "give the principal's ARN: ?principal=arn:aws:iam::…"})),
        );
    };
    let (calls, policy) = crate::authz::decisions::proposal(
        &app.decisions,
        principal,
        filter.since,
        filter.include_denied,
    );
    match policy {
        Some(policy) => (
            StatusCode::OK,
            Json(json!({"principal": principal, "calls": calls, "policy": policy})),
        ),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no recorded calls of this principal to allow"})),
        ),
    }
}

/// Outside `open`, only requests signed (SigV4, service `iam`) with the default account's root
/// credentials reach the admin endpoints, but for the [`PUBLIC`] ones; others get 403.
pub async fn require_root(
    State(app): State<App>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let public = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .is_some_and(|p| PUBLIC.contains(&p.as_str()));
    if public || !app.config.auth.is_strict() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match super::conn::read_body(body).await {
        Ok(bytes) => bytes,
        Err(e) => return (e.status, Json(json!({"error": e.message}))).into_response(),
    };
    let request = crate::auth::sigv4::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &bytes,
    };
    let verdict = match crate::auth::sigv4::parse_auth(&request) {
        Ok(crate::auth::sigv4::Auth::Signed(auth))
            if auth.access_key_id == app.config.root_access_key && auth.service == "iam" =>
        {
            crate::auth::sigv4::verify(
                &request,
                &auth,
                &app.config.root_secret_key,
                &app.signing_keys,
            )
            .and_then(|()| crate::auth::sigv4::check_clock(&auth, time::OffsetDateTime::now_utc()))
            .map_err(|e| e.message)
        }
        Ok(_) => Err(
            "sign the request (SigV4, service iam) with the default account's root credentials"
                .to_string(),
        ),
        Err(e) => Err(e.message),
    };
    match verdict {
        Ok(()) => {
            let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            next.run(req).await
        }
        Err(m) => forbidden(&m),
    }
}

fn forbidden(message: &str) -> axum::response::Response {
    (StatusCode::FORBIDDEN, Json(json!({"error": message}))).into_response()
}

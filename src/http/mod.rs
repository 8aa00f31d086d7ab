//! HTTP surface (design notes §2): the Query API on `/` and the admin endpoints under `/_localiam/`.

mod admin;
pub mod conn;

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use time::OffsetDateTime;

use crate::api::{Ctx, Service};
use crate::auth::sigv4::RequestParts;
use crate::auth::{authenticate, Principal};
use crate::error::ApiError;
use crate::ids;
use crate::protocol::query::Params;
use crate::protocol::xml::error_envelope;
use crate::state::App;

pub fn router(app: App) -> Router {
    // Every admin route is behind `require_root`: outside `open`, only requests signed with the
    // default account's root credentials reach it, except the public ones of `admin::PUBLIC`
    // (health, metrics, the OpenID documents of the accounts' own issuers), so a new route is
    // guarded unless it is named there (design notes §2).
    let guarded = Router::new()
        .route("/_localiam/health", get(admin::health))
        .route("/_localiam/metrics", get(admin::metrics))
        .route("/_localiam/reset", post(admin::reset))
        .route("/moto-api/reset", post(admin::reset))
        .route(
            "/_localiam/state",
            get(admin::export_state).post(admin::import_state),
        )
        .route("/_localiam/authorize", post(admin::authorize))
        .route("/_localiam/decisions", get(admin::decisions))
        .route("/_localiam/decisions/policy", get(admin::decisions_policy))
        .route("/_localiam/oidc-keys", post(admin::put_oidc_keys))
        .route("/_localiam/notifications", get(admin::notifications))
        .route("/_localiam/findings", get(crate::console::findings::json))
        .route(
            "/_localiam/oidc/{account}/.well-known/jwks.json",
            get(admin::own_jwks),
        )
        .route(
            "/_localiam/oidc/{account}/.well-known/openid-configuration",
            get(admin::own_openid_configuration),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            admin::require_root,
        ));
    Router::new()
        .merge(guarded)
        // The console is its own authentication (a session cookie, see `console::session`).
        .merge(crate::console::router(app.clone()))
        .fallback(query)
        // The body limit is `--max-body-bytes`, enforced as the body is read (`conn::GuardedBody`).
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}

/// One Query API request: authenticate, decode, dispatch, render.
async fn query(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let request_id = ids::request_id();
    let body = match conn::read_body(body).await {
        Ok(body) => body,
        Err(e) => return refused(&e, &request_id, started),
    };
    // Counted before parsing: `&` separates parameters (a cheap scan, no allocation).
    let count = count_params(uri.query().unwrap_or("").as_bytes())
        + if method == Method::POST {
            count_params(&body)
        } else {
            0
        };
    if count > app.config.limits.max_parameters {
        let e = ApiError::new(
            "InvalidQueryParameter",
            StatusCode::BAD_REQUEST,
            format!(
                "The request has more than {} parameters.",
                app.config.limits.max_parameters
            ),
        );
        return refused(&e, &request_id, started);
    }
    let mut params = Params::parse(uri.query().unwrap_or("").as_bytes());
    if method == Method::POST {
        let mut from_body = Params::parse(&body);
        from_body.merge_missing(params);
        params = from_body;
    }
    let action = params.get("Action").unwrap_or_default().to_string();
    let parts = RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let now = OffsetDateTime::now_utc();
    let mut principal_arn = String::new();
    // The policies' decision in audit/enforce (none for the root user and calls needing none).
    let mut decision: Option<&'static str> = None;
    let mut service = Service::of_action(&action).unwrap_or(Service::Iam);
    let result = async {
        let auth = authenticate(&app, &parts, &action, now).await?;
        principal_arn.clone_from(&auth.principal.arn);
        service = match auth.scope_service.as_deref() {
            Some("sts") => Service::Sts,
            Some("iam") => Service::Iam,
            _ => service,
        };
        if action.is_empty() {
            return Err(ApiError::new(
                "MissingAction",
                StatusCode::BAD_REQUEST,
                "Missing Action",
            ));
        }
        let ctx = Ctx {
            request_id: request_id.clone(),
            principal: auth.principal,
            region: auth.region.unwrap_or_else(|| "us-east-1".to_string()),
            source_ip: peer.ip(),
            now,
        };
        // Every authenticated attempt counts for the access advisor, as on AWS.
        crate::activity::record_call(&app, &ctx, service, &action);
        // The input is decoded and validated first (AWS answers a malformed request with its
        // ValidationError before deciding it); in audit/enforce the policy evaluator then decides
        // the call before any of its work runs (the handler's future has not been polled yet).
        let work = app.registry.dispatch_checked(
            app.clone(),
            ctx,
            service,
            &action,
            &params,
            &mut |ctx| {
                let (decided, verdict) =
                    crate::authz::enforce::authorize(&app, ctx, service, &action, &params);
                decision = decided;
                verdict
            },
        )?;
        let body = work.await?;
        Ok::<_, ApiError>(body)
    }
    .await;
    // The action as logged: a known one, or a placeholder (a client's text may hold line breaks or
    // be megabytes long).
    let logged_action = if Service::of_action(&action).is_some() {
        action.as_str()
    } else {
        "<unknown>"
    };
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            if e.status.is_server_error() && e.status != StatusCode::NOT_IMPLEMENTED {
                tracing::error!(request_id = %request_id, action = %logged_action, error = %e, "request failed");
            }
            (
                e.status,
                error_envelope(
                    service.xmlns(),
                    e.sender_fault,
                    &e.code,
                    &e.message,
                    &request_id,
                ),
            )
        }
    };
    let elapsed = started.elapsed();
    app.metrics
        .observe(service, &action, status.as_u16(), elapsed);
    tracing::info!(
        request_id = %request_id,
        action = %logged_action,
        principal = %principal_arn,
        decision,
        status = status.as_u16(),
        latency_us = elapsed.as_micros() as u64,
        "request"
    );
    xml_response(status, body, &request_id)
}

/// How many `&`-separated parameters a query string or form body holds (an upper bound: empty
/// pieces count too).
fn count_params(input: &[u8]) -> usize {
    if input.is_empty() {
        0
    } else {
        1 + input.iter().filter(|&&b| b == b'&').count()
    }
}

/// A request refused before it was decoded (its body or its parameters over a limit): logged
/// like any request, answered in AWS's envelope.
fn refused(e: &ApiError, request_id: &str, started: Instant) -> Response {
    tracing::info!(
        request_id = %request_id,
        action = "<unknown>",
        principal = "",
        status = e.status.as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
    conn::error_response(e, request_id)
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    resp
}

/// The principal of the default account's root, for admin operations.
pub fn default_root(app: &App) -> Principal {
    Principal::root(&app.config.account_id, None)
}

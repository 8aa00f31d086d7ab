//! Admin endpoints (JSON), never shadowing an AWS path.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::state::App;

pub async fn health() -> impl IntoResponse {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// Back to the freshly started state.
pub async fn reset(State(app): State<App>) -> impl IntoResponse {
    match app.store.reset().await {
        Ok(()) => {
            app.last_used.clear();
            app.decisions.clear();
            (StatusCode::OK, Json(json!({"status": "ok"})))
        }
        Err(e) => {
            tracing::error!(error = %e, "reset failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": "error", "message": e.to_string()})),
            )
        }
    }
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
    if filter.principal.is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "give the principal's ARN: ?principal=arn:aws:iam::…"})),
        );
    }
    let records = app.decisions.query(&crate::authz::decisions::Filter {
        principal: filter.principal.clone(),
        since: filter.since,
        ..Default::default()
    });
    match crate::authz::decisions::least_privilege(&records, filter.include_denied) {
        Some(policy) => (
            StatusCode::OK,
            Json(json!({"principal": filter.principal, "calls": records.len(), "policy": policy})),
        ),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no recorded calls of this principal to allow"})),
        ),
    }
}

/// Outside `open`, only requests signed (SigV4, service `iam`) with the default account's root
/// credentials reach the endpoints that reveal or change state; others get 403.
pub async fn require_root(
    State(app): State<App>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !app.config.auth.is_strict() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::MAX_BODY).await else {
        return forbidden("the request body could not be read");
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

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

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

//! The built-in web console at `/_localiam/console` (issue 14): accounts, entities, policies,
//! the decision log with the deciding statement highlighted, least-privilege proposals, the
//! simulator, who can assume what, and AWS's IAM security best-practice findings (also served as
//! JSON by `GET /_localiam/findings`, an admin route).
//!
//! The console is its own authentication: its routes sit outside the SigV4 admin guard and
//! behind [`session::guard`] instead (no login in `open`; elsewhere the default account's root
//! credentials, then a session cookie). Pages render from the model snapshot on request; nothing
//! runs at start-up.

pub mod findings;
pub mod pages;
pub mod session;
pub mod sim;
pub mod trust;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

use crate::state::App;

/// The console's home.
pub const HOME: &str = "/_localiam/console";
pub const LOGIN: &str = "/_localiam/console/login";
/// The stylesheet and script (embedded), reachable before login.
pub const ASSETS: &str = "/_localiam/console/assets/";

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        JS,
    )
}

/// The console's routes, each behind [`session::guard`].
pub fn router(app: App) -> Router<App> {
    Router::new()
        .route(HOME, get(pages::accounts))
        .route("/_localiam/console/", get(pages::accounts))
        .route(LOGIN, get(pages::login_form).post(session::login))
        .route("/_localiam/console/logout", post(session::logout))
        .route("/_localiam/console/assets/console.css", get(css))
        .route("/_localiam/console/assets/console.js", get(js))
        .route("/_localiam/console/decisions", get(pages::decisions))
        .route("/_localiam/console/proposal", get(pages::proposal))
        .route("/_localiam/console/simulate", get(sim::simulate))
        .route("/_localiam/console/a/{account}", get(pages::account))
        .route(
            "/_localiam/console/a/{account}/findings",
            get(pages::findings_page),
        )
        .route("/_localiam/console/a/{account}/trust", get(trust::trust))
        .route("/_localiam/console/a/{account}/{kind}", get(pages::list))
        .route(
            "/_localiam/console/a/{account}/{kind}/{name}",
            get(pages::entity),
        )
        .route_layer(axum::middleware::from_fn_with_state(app, session::guard))
}

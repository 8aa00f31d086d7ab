//! The console's own authentication: outside `open`, a login form asking for the default
//! account's root access key and secret (compared in constant time), then an HttpOnly,
//! SameSite=Strict session cookie holding a random token kept in memory (a bounded set). Each
//! session has a CSRF token that state-changing forms carry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::state::App;

/// The session cookie's name.
pub const COOKIE: &str = "localiam_console";
/// How many sessions are kept (the oldest goes first).
const MAX_SESSIONS: usize = 64;
/// How long a session lasts.
const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The console's sessions, in memory (a restart logs everyone out).
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

#[derive(Clone)]
struct Session {
    csrf: String,
    created: Instant,
}

/// What a page needs of the caller's session: the CSRF token its forms carry (`None` in `open`,
/// where the console has no login).
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub csrf: Option<String>,
    token: Option<String>,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl Sessions {
    /// A new session: its token (for the cookie).
    fn open(&self) -> Option<String> {
        let token = random_token();
        let mut map = self.map.lock().ok()?;
        map.retain(|_, s| s.created.elapsed() < LIFETIME);
        while map.len() >= MAX_SESSIONS {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())?;
            map.remove(&oldest);
        }
        map.insert(
            token.clone(),
            Session {
                csrf: random_token(),
                created: Instant::now(),
            },
        );
        Some(token)
    }

    /// The live session of that token.
    fn get(&self, token: &str) -> Option<Session> {
        let map = self.map.lock().ok()?;
        // Looked up by the token (a HashMap probe), then compared in constant time.
        let (k, s) = map.get_key_value(token)?;
        (ct_eq(k, token) && s.created.elapsed() < LIFETIME).then(|| s.clone())
    }

    fn close(&self, token: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(token);
        }
    }
}

/// The session token of the request's cookie.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Whether the console needs a login (every mode but `open`).
pub fn needs_login(app: &App) -> bool {
    app.config.auth.is_strict()
}

/// The console's guard: in `open` everyone passes; otherwise a live session cookie is needed
/// (the login page and the stylesheet and script excepted), else the login page.
pub async fn guard(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let exempt = path == super::LOGIN || path.starts_with(super::ASSETS);
    let caller = if !needs_login(&app) {
        Some(Caller::default())
    } else {
        cookie_token(req.headers()).and_then(|t| {
            app.console.get(&t).map(|s| Caller {
                csrf: Some(s.csrf),
                token: Some(t),
            })
        })
    };
    let mut resp = match caller {
        Some(c) => {
            req.extensions_mut().insert(c);
            next.run(req).await
        }
        None if exempt => next.run(req).await,
        None => Redirect::to(super::LOGIN).into_response(),
    };
    let h = resp.headers_mut();
    for (k, v) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The login form's fields.
#[derive(serde::Deserialize)]
pub struct Login {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// `POST …/login`: the root's access key and secret, checked like a SigV4 credential (the
/// default account's root key); a session cookie on success.
pub async fn login(State(app): State<App>, axum::Form(f): axum::Form<Login>) -> Response {
    if !needs_login(&app) {
        return Redirect::to(super::HOME).into_response();
    }
    let key_ok = ct_eq(&f.access_key_id, &app.config.root_access_key);
    let secret_ok = ct_eq(&f.secret_access_key, &app.config.root_secret_key);
    if !(key_ok & secret_ok) {
        tracing::warn!("console login refused");
        return (
            StatusCode::UNAUTHORIZED,
            super::pages::login_page(Some(
                "Those are not the default account's root credentials.",
            )),
        )
            .into_response();
    }
    let Some(token) = app.console.open() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // A use of the root user: the credential report's `password_last_used` (a login is rare
    // enough to be written at once).
    let account = app.config.account_id.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let recorded = app
        .store
        .write(move |tx| {
            tx.update_settings(&account, |s: &mut crate::store::model::AccountSettings| {
                s.root_console_last_used = Some(now)
            })
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "could not record the root user's console login");
    }
    let cookie = format!(
        "{COOKIE}={token}; Path={}; HttpOnly; SameSite=Strict; Max-Age={}",
        super::HOME,
        LIFETIME.as_secs()
    );
    let mut resp = Redirect::to(super::HOME).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// A form that changes state: its `csrf` field.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Whether a state-changing form carries the session's CSRF token (always so in `open`, where
/// there is no session and nothing to steal).
pub fn csrf_ok(caller: &Caller, given: &str) -> bool {
    caller.csrf.as_deref().is_none_or(|c| ct_eq(c, given))
}

/// `POST …/logout` (with the CSRF token): ends the session.
pub async fn logout(
    State(app): State<App>,
    axum::Extension(caller): axum::Extension<Caller>,
    axum::Form(f): axum::Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&caller, &f.csrf) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
    }
    if let Some(t) = &caller.token {
        app.console.close(t);
    }
    let mut resp = Redirect::to(super::LOGIN).into_response();
    let expired = format!(
        "{COOKIE}=; Path={}; HttpOnly; SameSite=Strict; Max-Age=0",
        super::HOME
    );
    if let Ok(v) = HeaderValue::from_str(&expired) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

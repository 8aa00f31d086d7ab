//! Shared server state: configuration, store, caches.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::api::Registry;
use crate::auth::sigv4::SigningKeyCache;
use crate::auth::Principal;
use crate::config::Config;
use crate::store::Store;

/// A key localiam issued (or the root key), as the signature check needs it.
#[derive(Clone)]
pub struct KnownKey {
    pub secret: String,
    pub active: bool,
    pub principal: Principal,
    /// For temporary (`ASIA…`) credentials: the session token and expiry.
    pub session_token: Option<String>,
    pub expiration: Option<OffsetDateTime>,
}

impl std::fmt::Debug for KnownKey {
    /// Everything but the secret and the session token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownKey")
            .field("secret", &"<redacted>")
            .field("active", &self.active)
            .field("principal", &self.principal)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// When, where and for what service an access key was last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUsed {
    pub date: OffsetDateTime,
    pub service: String,
    pub region: String,
}

/// Access-key usage recorded in memory on the request path and written to the store in the
/// background (AWS itself reports last use with a delay), so signed reads never write.
#[derive(Default)]
pub struct LastUsedTracker {
    pending: Mutex<HashMap<String, LastUsed>>,
    /// The second (Unix) of the last recorded use of the default account's configured root key.
    root_second: AtomicI64,
}

impl LastUsedTracker {
    /// Whether a use of the default account's configured root key at `now` (Unix seconds) is to
    /// be recorded: only the first of each second is. That key signs most calls of most tools, so
    /// the others cost one atomic load, not the lock (AWS itself records one use per 15 minutes).
    pub fn root_key_due(&self, now: i64) -> bool {
        self.root_second.load(Ordering::Relaxed) < now
            && self.root_second.fetch_max(now, Ordering::Relaxed) < now
    }
    pub fn record(&self, key_id: &str, used: LastUsed) {
        if let Ok(mut m) = self.pending.lock() {
            m.insert(key_id.to_string(), used);
        }
    }
    /// The not-yet-flushed use of a key, newer than what the store has.
    pub fn pending(&self, key_id: &str) -> Option<LastUsed> {
        self.pending.lock().ok()?.get(key_id).cloned()
    }
    /// A copy of every not-yet-flushed use (they stay pending until [`LastUsedTracker::forget`]).
    pub fn snapshot(&self) -> HashMap<String, LastUsed> {
        self.pending.lock().map(|m| m.clone()).unwrap_or_default()
    }
    /// Forgets the uses that were written to the store, unless a newer one came meanwhile.
    pub fn forget(&self, written: &HashMap<String, LastUsed>) {
        if let Ok(mut m) = self.pending.lock() {
            m.retain(|k, v| written.get(k) != Some(v));
        }
    }
    pub fn clear(&self) {
        if let Ok(mut m) = self.pending.lock() {
            m.clear();
        }
        self.root_second.store(0, Ordering::Relaxed);
    }
}

pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub registry: Registry,
    pub signing_keys: SigningKeyCache,
    pub last_used: LastUsedTracker,
    /// What users and roles used, not written to the store yet (the access advisor's data).
    pub activity: crate::activity::ActivityTracker,
    /// The default account's root key, prebuilt for the signature hot path.
    pub root_key: Arc<KnownKey>,
    /// When the server started (the root user's CreateDate).
    pub started: OffsetDateTime,
    /// Compiled policies, shared by enforcement and the simulator.
    pub policies: crate::authz::PolicyCache,
    /// Per caller, what authorizing its calls needs from the current model snapshot.
    pub plans: crate::authz::PlanCache<crate::authz::enforce::Plan>,
    /// The recent authorization decisions of `audit`/`enforce`.
    pub decisions: crate::authz::decisions::DecisionLog,
    /// Request counters for `GET /_localiam/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The state built from the `--init` seed file: what a reset returns to.
    pub seed: Option<Arc<crate::store::Model>>,
    /// The web console's login sessions.
    pub console: crate::console::session::Sessions,
}

/// Cheaply clonable handle on the shared state.
#[derive(Clone)]
pub struct App(Arc<AppState>);

impl App {
    pub fn new(state: AppState) -> Self {
        App(Arc::new(state))
    }
}

impl Deref for App {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let key = KnownKey {
            secret: "wJalrXUtnFEMI-secret".into(),
            active: true,
            principal: Principal::root("000000000000", None),
            session_token: Some("FQoGZXIvYXdz-token".into()),
            expiration: None,
        };
        let shown = format!("{key:?}");
        assert!(
            !shown.contains("wJalrXUtnFEMI") && !shown.contains("FQoGZXIvYXdz"),
            "{shown}"
        );
        let mut config = Config::default_for_tests();
        config.root_secret_key = "root-secret-value".into();
        assert!(!format!("{config:?}").contains("root-secret-value"));
    }
}

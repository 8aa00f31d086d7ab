//! What users and roles use: the access advisor's data.
//!
//! Every authenticated IAM or STS call of a user (its long-term keys, its GetSessionToken and
//! GetFederationToken sessions) or of a role (its sessions) is recorded as a use of the service and
//! of the action, at the call's time and from the signature's Region; so is every `Allow` of
//! `POST /_localiam/authorize` for such a principal. AWS counts every authenticated attempt,
//! denied ones included; the root user is not an IAM entity and is not recorded.
//!
//! The request path only updates a small map in memory (one lock, a few hash lookups, no
//! allocation once an entity has used a service); the background chores write it to the
//! users' and roles' records every couple of seconds, like access-key last use, so it survives a
//! restart. Reports read the stored use merged with what is not written yet.

/// Maps looked up on every authenticated call: foldhash, not SipHash (the keys are ours or IDs).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Mutex;

use crate::api::{Ctx, Service};
use crate::auth::{Principal, PrincipalKind};
use crate::state::App;
use crate::store::model::{Activity, LastAccess, Role, User};
use crate::store::StoreError;

/// The services whose actions the access advisor tracks (action-level reports list their actions):
/// IAM, EC2, Lambda and S3 as AWS documents them, and STS, which localiam serves itself.
pub const TRACKED_SERVICES: &[&str] = &["ec2", "iam", "lambda", "s3", "sts"];

/// Whether the actions of `namespace` are tracked.
pub fn is_tracked(namespace: &str) -> bool {
    TRACKED_SERVICES.contains(&namespace)
}

/// Whose use it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    User,
    Role,
}

/// A use not written to the store yet.
#[derive(Debug, Clone)]
struct PendingUse {
    date: i64,
    region: String,
}

impl PendingUse {
    fn update(&mut self, date: i64, region: &str) {
        if date >= self.date {
            self.date = date;
            if self.region != region {
                self.region = region.to_string();
            }
        }
    }
    fn access(&self) -> LastAccess {
        LastAccess {
            date: self.date,
            region: self.region.clone(),
        }
    }
}

#[derive(Debug)]
struct PendingService {
    last: PendingUse,
    actions: HashMap<&'static str, PendingUse>,
}

#[derive(Debug)]
struct Pending {
    account: String,
    kind: EntityKind,
    /// Bumped by every use: what was written is forgotten only if nothing came since.
    seq: u64,
    services: HashMap<&'static str, PendingService>,
}

impl Pending {
    fn activity(&self) -> Activity {
        let mut a = Activity::default();
        for (ns, s) in &self.services {
            a.record(ns, None, &s.last.access());
            for (action, u) in &s.actions {
                a.record(ns, Some(action), &u.access());
            }
        }
        a
    }
}

/// The not-yet-written use of one entity, as the flush takes it.
pub struct Snapshot {
    pub entity_id: String,
    pub account: String,
    pub kind: EntityKind,
    pub activity: Activity,
    seq: u64,
}

/// Uses recorded on the request path, by entity unique ID (`AIDA…`, `AROA…`).
#[derive(Default)]
pub struct ActivityTracker {
    pending: Mutex<HashMap<String, Pending>>,
}

impl ActivityTracker {
    /// Records a use of `namespace` (and of `action`, for the services whose actions are tracked)
    /// by the user or role `entity_id` of `account`.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        account: &str,
        kind: EntityKind,
        entity_id: &str,
        namespace: &'static str,
        action: &'static str,
        date: i64,
        region: &str,
    ) {
        let Ok(mut m) = self.pending.lock() else {
            return;
        };
        if !m.contains_key(entity_id) {
            m.insert(
                entity_id.to_string(),
                Pending {
                    account: account.to_string(),
                    kind,
                    seq: 0,
                    services: HashMap::default(),
                },
            );
        }
        let Some(p) = m.get_mut(entity_id) else {
            return;
        };
        p.seq += 1;
        let fresh = || PendingUse {
            date,
            region: region.to_string(),
        };
        let s = p
            .services
            .entry(namespace)
            .or_insert_with(|| PendingService {
                last: fresh(),
                actions: HashMap::default(),
            });
        s.last.update(date, region);
        if is_tracked(namespace) {
            s.actions
                .entry(action)
                .or_insert_with(fresh)
                .update(date, region);
        }
    }

    /// The not-yet-written use of an entity.
    pub fn pending(&self, entity_id: &str) -> Option<Activity> {
        self.pending
            .lock()
            .ok()?
            .get(entity_id)
            .map(Pending::activity)
    }

    /// A copy of every not-yet-written use (it stays pending until [`ActivityTracker::forget`]).
    pub fn snapshot(&self) -> Vec<Snapshot> {
        let Ok(m) = self.pending.lock() else {
            return Vec::new();
        };
        m.iter()
            .map(|(id, p)| Snapshot {
                entity_id: id.clone(),
                account: p.account.clone(),
                kind: p.kind,
                activity: p.activity(),
                seq: p.seq,
            })
            .collect()
    }

    /// Forgets what was written, unless a newer use came meanwhile.
    pub fn forget(&self, written: &[(String, u64)]) {
        if let Ok(mut m) = self.pending.lock() {
            for (id, seq) in written {
                if m.get(id).is_some_and(|p| p.seq == *seq) {
                    m.remove(id);
                }
            }
        }
    }

    pub fn clear(&self) {
        if let Ok(mut m) = self.pending.lock() {
            m.clear();
        }
    }
}

/// The user or role a principal's use is recorded for: a user for its long-term keys and its
/// GetSessionToken and GetFederationToken sessions, a role for its sessions; `None` for the root
/// user.
pub fn entity_of(p: &Principal) -> Option<(EntityKind, &str)> {
    let kind = match p.kind {
        PrincipalKind::User | PrincipalKind::FederatedUser => EntityKind::User,
        PrincipalKind::AssumedRole => EntityKind::Role,
        PrincipalKind::Root => return None,
    };
    Some((kind, p.entity_id.as_deref()?))
}

/// Records an authenticated IAM or STS call (the request path: see the module's notes).
pub fn record_call(app: &App, ctx: &Ctx, service: Service, action: &str) {
    let Some((kind, id)) = entity_of(&ctx.principal) else {
        return;
    };
    let Some(op) = service.operation(action) else {
        return;
    };
    app.activity.record(
        &ctx.principal.account_id,
        kind,
        id,
        service.action_prefix(),
        op,
        ctx.now.unix_timestamp(),
        &ctx.region,
    );
}

/// What an entity used: its stored use merged with the use not written yet.
pub fn activity_of(app: &App, entity_id: &str, stored: Option<&Activity>) -> Activity {
    let mut a = stored.cloned().unwrap_or_default();
    if let Some(p) = app.activity.pending(entity_id) {
        a.merge(&p);
    }
    a
}

/// Writes the use recorded in memory to the users' and roles' records.
pub async fn flush(app: &App) {
    let pending = app.activity.snapshot();
    if pending.is_empty() {
        return;
    }
    let written: Vec<(String, u64)> = pending
        .iter()
        .map(|s| (s.entity_id.clone(), s.seq))
        .collect();
    let result = app
        .store
        .write(move |tx| {
            for s in pending {
                let merge = |stored: &mut Option<Box<Activity>>| {
                    stored.get_or_insert_with(Box::default).merge(&s.activity)
                };
                let r = match s.kind {
                    EntityKind::User => tx
                        .update(&s.account, &s.entity_id, |u: &mut User| {
                            merge(&mut u.activity)
                        })
                        .map(|_| ()),
                    EntityKind::Role => tx
                        .update(&s.account, &s.entity_id, |r: &mut Role| {
                            merge(&mut r.activity)
                        })
                        .map(|_| ()),
                };
                match r {
                    // An entity deleted since: its use goes with it.
                    Ok(()) | Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, StoreError>(())
        })
        .await;
    match result {
        Ok(()) => app.activity.forget(&written),
        Err(e) => tracing::warn!(error = %e, "could not record the access advisor's data"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_merge_and_only_tracked_services_keep_actions() {
        let t = ActivityTracker::default();
        let used = |ns, action, date, region| {
            t.record("1", EntityKind::User, "AIDA1", ns, action, date, region)
        };
        used("iam", "GetUser", 100, "us-east-1");
        used("iam", "ListUsers", 90, "eu-west-1");
        used("kms", "Decrypt", 80, "us-east-1");
        let a = t.pending("AIDA1").unwrap();
        let iam = &a.0["iam"];
        assert_eq!(
            (iam.last.date, iam.last.region.as_str()),
            (100, "us-east-1")
        );
        assert_eq!(iam.actions.len(), 2);
        assert!(a.0["kms"].actions.is_empty());
        let written = |t: &ActivityTracker| -> Vec<(String, u64)> {
            t.snapshot()
                .iter()
                .map(|s| (s.entity_id.clone(), s.seq))
                .collect()
        };
        let snap = written(&t);
        used("iam", "GetUser", 120, "us-east-1");
        t.forget(&snap);
        assert_eq!(t.pending("AIDA1").unwrap().0["iam"].last.date, 120);
        let snap = written(&t);
        t.forget(&snap);
        assert!(t.pending("AIDA1").is_none());
    }
}

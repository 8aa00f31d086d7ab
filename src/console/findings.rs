//! AWS's IAM security best practices (IAM User Guide, "Security best practices in IAM") checked
//! against the model: each finding names the practice it breaks and the entity. Served as JSON by
//! `GET /_localiam/findings` (a CI job can fail on them) and as the console's findings page.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::access_keys::{configured_root_key_last_used, key_last_used};
use crate::state::App;
use crate::store::model::{Account, InlinePolicies, KeyLastUsed, SHARED_ACCOUNT};

/// Credentials and identities idle for longer than this count as unused (AWS's guidance speaks
/// of 90 days for key rotation and unused credentials).
pub const DAYS: i64 = 90;
const SECS: i64 = DAYS * 24 * 3600;
/// A root user used within this many days is reported (`root-recently-used`): AWS asks not to
/// use the root user for everyday tasks; the CIS AWS Foundations Benchmark's check of it
/// ("Eliminate use of the 'root' user for administrative and daily tasks") looks at the
/// credential report's root row over the same 90 days as the other checks.
pub const RECENT_ROOT_DAYS: i64 = DAYS;
const RECENT_ROOT_SECS: i64 = RECENT_ROOT_DAYS * 24 * 3600;

pub const ROOT: &str = "Safeguard your root user credentials and don't use them for everyday tasks";
pub const MFA: &str = "Require multi-factor authentication (MFA)";
pub const ROTATE: &str =
    "Update access keys when needed for use cases that require long-term credentials";
pub const LEAST: &str = "Apply least-privilege permissions";
pub const EXTERNAL: &str =
    "Verify public and cross-account access to resources with IAM Access Analyzer";
pub const MANAGED: &str = "Use customer managed policies instead of inline policies";
pub const UNUSED: &str =
    "Regularly review and remove unused users, roles, permissions, policies, and credentials";

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// A stable identifier of the check (`password-without-mfa`, …).
    pub check: &'static str,
    /// The best practice it breaks, in the IAM User Guide's words.
    pub practice: &'static str,
    /// `root`, `user`, `group`, `role` or `policy`.
    pub kind: &'static str,
    /// The entity's name (`root` for the root user).
    pub name: String,
    pub arn: String,
    pub detail: String,
}

/// The accounts a report covers: the default one and every other holding state.
pub fn account_ids(app: &App) -> Vec<String> {
    let model = app.store.read();
    let mut ids: Vec<String> = std::iter::once(app.config.account_id.clone())
        .chain(
            model
                .accounts()
                .map(|(id, _)| id.to_string())
                .filter(|id| id != SHARED_ACCOUNT),
        )
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The findings of one account at `now` (Unix seconds).
pub fn findings(app: &App, account_id: &str, now: i64) -> Vec<Finding> {
    let model = app.store.read();
    let account = model.account(account_id);
    let mut out = Vec::new();
    let mut add = |check, practice, kind, name: &str, arn: String, detail: String| {
        out.push(Finding {
            check,
            practice,
            kind,
            name: name.to_string(),
            arn,
            detail,
        });
    };
    let root_arn = format!("arn:aws:iam::{account_id}:root");
    if let Some(s) = account.settings() {
        for k in &s.root_access_keys {
            add(
                "root-access-key",
                ROOT,
                "root",
                "root",
                root_arn.clone(),
                format!(
                    "the root user has the access key {} ({})",
                    k.access_key_id, k.status
                ),
            );
        }
    }
    if let Some((when, how)) = root_last_used(app, account, account_id) {
        if now - when <= RECENT_ROOT_SECS {
            add(
                "root-recently-used",
                ROOT,
                "root",
                "root",
                root_arn.clone(),
                format!(
                    "the root user {how} {} (within the last {RECENT_ROOT_DAYS} days)",
                    ago(now - when)
                ),
            );
        }
    }
    // The latest use of a key: the store's, or a newer one not flushed yet.
    let key_used = |id: &str, stored: Option<i64>| {
        let pending = app.last_used.pending(id).map(|u| u.date.unix_timestamp());
        stored.max(pending)
    };
    for u in account.users.iter() {
        let arn = u.arn();
        if u.login_profile.is_some() && account.mfa_serials_of(&u.user_id).next().is_none() {
            add(
                "password-without-mfa",
                MFA,
                "user",
                &u.name,
                arn.clone(),
                "the user has a console password and no MFA device".into(),
            );
        }
        let mut active = 0;
        let mut last_use = u.password_last_used;
        for k in &u.access_keys {
            let used = key_used(&k.access_key_id, k.last_used.as_ref().map(|l| l.date));
            last_use = last_use.max(used);
            if !k.is_active() {
                continue;
            }
            active += 1;
            if now - k.create_date > SECS {
                add(
                    "old-access-key",
                    ROTATE,
                    "user",
                    &u.name,
                    arn.clone(),
                    format!(
                        "the active access key {} is {} days old (over {DAYS})",
                        k.access_key_id,
                        (now - k.create_date) / 86400
                    ),
                );
            }
            if used.is_none() {
                add(
                    "unused-access-key",
                    UNUSED,
                    "user",
                    &u.name,
                    arn.clone(),
                    format!("the active access key {} was never used", k.access_key_id),
                );
            }
        }
        if active > 1 {
            add(
                "multiple-active-keys",
                ROTATE,
                "user",
                &u.name,
                arn.clone(),
                format!("the user has {active} active access keys"),
            );
        }
        if now - u.create_date > SECS && last_use.is_none_or(|t| now - t > SECS) {
            add(
                "unused-user",
                UNUSED,
                "user",
                &u.name,
                arn.clone(),
                format!("no password or access key use in the last {DAYS} days"),
            );
        }
        broad_inline(&u.inline, "user", &u.name, &arn, &mut add);
    }
    for g in account.groups.iter() {
        broad_inline(&g.inline, "group", &g.name, &g.arn(), &mut add);
    }
    for r in account.roles.iter() {
        let arn = r.arn();
        if let Some(who) = open_trust(&r.assume_role_policy) {
            add(
                "open-trust-policy",
                EXTERNAL,
                "role",
                &r.name,
                arn.clone(),
                format!("the trust policy lets {who} assume the role, without conditions"),
            );
        }
        if now - r.create_date > SECS && r.last_used.as_ref().is_none_or(|l| now - l.date > SECS) {
            add(
                "unused-role",
                UNUSED,
                "role",
                &r.name,
                arn.clone(),
                format!("not assumed in the last {DAYS} days"),
            );
        }
        broad_inline(&r.inline, "role", &r.name, &arn, &mut add);
    }
    for p in account.policies.iter() {
        if let Some(v) = p.default_version() {
            for (check, detail) in broad(&v.document) {
                add(check, LEAST, "policy", &p.name, p.arn(), detail);
            }
        }
    }
    for (check, kind, name, arn, detail) in duplicated_inline(account) {
        add(check, MANAGED, kind, &name, arn, detail);
    }
    out
}

/// When the root user was last used, and how: a call signed with one of its access keys (the
/// default account's configured one or one of `root_access_keys`) or a console login.
pub fn root_last_used(app: &App, account: &Account, account_id: &str) -> Option<(i64, String)> {
    let signed = |key: &str, u: KeyLastUsed| {
        (
            u.date,
            format!(
                "signed a call to {} in {} with the access key {key}",
                u.service, u.region
            ),
        )
    };
    let configured = (account_id == app.config.account_id)
        .then(|| configured_root_key_last_used(app, account))
        .flatten()
        .map(|u| signed(&app.config.root_access_key, u));
    let settings = account.settings();
    let keys = settings
        .into_iter()
        .flat_map(|s| &s.root_access_keys)
        .filter_map(|k| key_last_used(app, k).map(|u| signed(&k.access_key_id, u)));
    let console = settings
        .and_then(|s| s.root_console_last_used)
        .map(|t| (t, "logged in to the web console".to_string()));
    configured
        .into_iter()
        .chain(keys)
        .chain(console)
        .max_by_key(|(t, _)| *t)
}

/// `today`, `1 day ago`, `N days ago`.
fn ago(secs: i64) -> String {
    match secs / 86_400 {
        ..=0 => "today".to_string(),
        1 => "1 day ago".to_string(),
        d => format!("{d} days ago"),
    }
}

type Add<'a> = dyn FnMut(&'static str, &'static str, &'static str, &str, String, String) + 'a;

fn broad_inline(
    inline: &InlinePolicies,
    kind: &'static str,
    name: &str,
    arn: &str,
    add: &mut Add<'_>,
) {
    for p in inline.iter() {
        for (check, detail) in broad(&p.document) {
            add(
                check,
                LEAST,
                kind,
                name,
                arn.to_string(),
                format!("inline policy {}: {detail}", p.name),
            );
        }
    }
}

fn one_or_many(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The policy's statements (`Statement` as a list or a single object).
pub fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// The over-broad grants of a policy document: `Allow` of `*` on `*`, and of `iam:*`.
fn broad(document: &str) -> Vec<(&'static str, String)> {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in statements(&doc) {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions = one_or_many(s.get("Action"));
        let resources = one_or_many(s.get("Resource"));
        if actions.contains(&"*") && resources.contains(&"*") {
            out.push((
                "allows-everything",
                "allows \"*\" on \"*\" (full administrator access)".to_string(),
            ));
        } else if actions.iter().any(|a| a.eq_ignore_ascii_case("iam:*")) {
            out.push((
                "allows-iam-wildcard",
                "allows \"iam:*\" (can grant itself anything)".to_string(),
            ));
        }
    }
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Whom an unconditional trust statement lets in when that is anyone (`"*"`, `{"AWS": "*"}`).
fn open_trust(document: &str) -> Option<&'static str> {
    let doc = serde_json::from_str::<Value>(document).ok()?;
    statements(&doc).into_iter().find_map(|s| {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") || s.get("Condition").is_some()
        {
            return None;
        }
        match s.get("Principal")? {
            Value::String(p) if p == "*" => Some("anyone (\"*\")"),
            Value::Object(m) => one_or_many(m.get("AWS"))
                .contains(&"*")
                .then_some("any AWS account ({\"AWS\": \"*\"})"),
            _ => None,
        }
    })
}

/// Inline policies whose document another principal repeats or a managed policy of the account
/// already holds: a managed policy would do.
fn duplicated_inline(
    account: &Account,
) -> Vec<(&'static str, &'static str, String, String, String)> {
    let canonical = |d: &str| serde_json::from_str::<Value>(d).ok().map(|v| v.to_string());
    let mut seen: HashMap<String, Vec<(&'static str, String, String, String)>> = HashMap::new();
    let mut note = |kind, name: &str, arn: String, inline: &InlinePolicies| {
        for p in inline.iter() {
            if let Some(c) = canonical(&p.document) {
                seen.entry(c).or_default().push((
                    kind,
                    name.to_string(),
                    arn.clone(),
                    p.name.clone(),
                ));
            }
        }
    };
    for u in account.users.iter() {
        note("user", &u.name, u.arn(), &u.inline);
    }
    for g in account.groups.iter() {
        note("group", &g.name, g.arn(), &g.inline);
    }
    for r in account.roles.iter() {
        note("role", &r.name, r.arn(), &r.inline);
    }
    let mut managed: HashMap<String, String> = HashMap::new();
    for p in account.policies.iter() {
        if let Some(c) = p.default_version().and_then(|v| canonical(&v.document)) {
            managed.entry(c).or_insert_with(|| p.name.clone());
        }
    }
    let mut out = Vec::new();
    for (doc, holders) in seen {
        let same_as = managed.get(&doc);
        if holders.len() < 2 && same_as.is_none() {
            continue;
        }
        for (kind, name, arn, policy) in &holders {
            let detail = match same_as {
                Some(m) => format!(
                    "inline policy {policy} is the same as the managed policy {m}: attach that instead"
                ),
                None => format!(
                    "inline policy {policy} is repeated on {} principals: one managed policy would do",
                    holders.len()
                ),
            };
            out.push((
                "inline-instead-of-managed",
                *kind,
                name.clone(),
                arn.clone(),
                detail,
            ));
        }
    }
    out.sort_by(|a, b| (&a.2, &a.4).cmp(&(&b.2, &b.4)));
    out
}

/// Filters of `GET /_localiam/findings`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub account: Option<String>,
}

/// `GET /_localiam/findings[?account=ID]`: `{"accounts": [{"account_id", "findings": [...]}]}`.
pub async fn json(State(app): State<App>, Query(f): Query<Filter>) -> impl IntoResponse {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let accounts: Vec<Value> = account_ids(&app)
        .into_iter()
        .filter(|a| f.account.as_deref().is_none_or(|w| w == a))
        .map(|a| {
            let list = findings(&app, &a, now);
            json!({"account_id": a, "findings": list})
        })
        .collect();
    Json(json!({"accounts": accounts}))
}

//! AWS's IAM security best practices (IAM User Guide, "Security best practices in IAM") checked
//! against the model: each finding names the practice it breaks and the entity. Served as JSON by
//! `GET /_localiam/findings` (a CI job can fail on them) and as the console's findings page.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use crate::api::access_keys::{configured_root_key_last_used, key_last_used};
use crate::state::App;
use crate::store::model::{
    Account, Group, InlinePolicies, KeyLastUsed, Role, User, SHARED_ACCOUNT,
};

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
    // ARNs are built only for what is reported: with 100,000 users, building each one cost more
    // than every check.
    // The inline policies, by the hash of their document (for `duplicated_inline`), noted in
    // the same walk: a second walk over 100,000 users read each one from memory again.
    let mut inline_docs: HashMap<u64, Vec<Held<'_>>> = HashMap::new();
    for u in account.users.iter() {
        note_inline(&mut inline_docs, Holder::User(u), &u.inline);
        let arn = || u.arn();
        if u.login_profile.is_some() && account.mfa_serials_of(&u.user_id).next().is_none() {
            add(
                "password-without-mfa",
                MFA,
                "user",
                &u.name,
                arn(),
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
                    arn(),
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
                    arn(),
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
                arn(),
                format!("the user has {active} active access keys"),
            );
        }
        if now - u.create_date > SECS && last_use.is_none_or(|t| now - t > SECS) {
            add(
                "unused-user",
                UNUSED,
                "user",
                &u.name,
                arn(),
                format!("no password or access key use in the last {DAYS} days"),
            );
        }
        broad_inline(&u.inline, "user", &u.name, &arn, &mut add);
    }
    for g in account.groups.iter() {
        note_inline(&mut inline_docs, Holder::Group(g), &g.inline);
        broad_inline(&g.inline, "group", &g.name, &|| g.arn(), &mut add);
    }
    for r in account.roles.iter() {
        note_inline(&mut inline_docs, Holder::Role(r), &r.inline);
        let arn = || r.arn();
        if let Some(who) = open_trust(&r.assume_role_policy) {
            add(
                "open-trust-policy",
                EXTERNAL,
                "role",
                &r.name,
                arn(),
                format!("the trust policy lets {who} assume the role, without conditions"),
            );
        }
        if now - r.create_date > SECS && r.last_used.as_ref().is_none_or(|l| now - l.date > SECS) {
            add(
                "unused-role",
                UNUSED,
                "role",
                &r.name,
                arn(),
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
    for (check, kind, name, arn, detail) in duplicated_inline(account, inline_docs) {
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
    arn: &dyn Fn() -> String,
    add: &mut Add<'_>,
) {
    for p in inline.iter() {
        for (check, detail) in broad(&p.document) {
            add(
                check,
                LEAST,
                kind,
                name,
                arn(),
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

/// Whether a document may hold a `*` (as it is, or escaped): every check of [`broad`] and
/// [`open_trust`] looks for one. A byte scan, before parsing.
fn may_hold_star(document: &str) -> bool {
    memchr::memchr2(b'*', b'\\', document.as_bytes()).is_some()
}

/// What [`broad`] reads of a policy document: each statement's effect, actions and resources,
/// borrowed from the text (everything else is skipped, nothing is built). A document that does
/// not have this shape (the validator refuses such when a policy is written) has no finding.
#[derive(serde::Deserialize)]
struct Grants<'a> {
    #[serde(rename = "Statement", borrow, default)]
    statements: OneOrMany<Grant<'a>>,
}

#[derive(serde::Deserialize)]
struct Grant<'a> {
    #[serde(rename = "Effect", borrow, default)]
    effect: Option<Cow<'a, str>>,
    #[serde(rename = "Action", borrow, default)]
    action: OneOrMany<Cow<'a, str>>,
    #[serde(rename = "Resource", borrow, default)]
    resource: OneOrMany<Cow<'a, str>>,
}

/// A policy element given as one value or a list of them.
struct OneOrMany<T>(Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StrDeserializer};
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut all = Vec::new();
                while let Some(one) = seq.next_element()? {
                    all.push(one);
                }
                Ok(OneOrMany(all))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Ok(OneOrMany(vec![T::deserialize(
                    MapAccessDeserializer::new(map),
                )?]))
            }
            fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(OneOrMany(vec![T::deserialize(
                    BorrowedStrDeserializer::new(v),
                )?]))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OneOrMany(vec![T::deserialize(StrDeserializer::new(v))?]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The over-broad grants of a policy document: `Allow` of `*` on `*`, and of `iam:*`.
fn broad(document: &str) -> Vec<(&'static str, String)> {
    if !may_hold_star(document) {
        return Vec::new();
    }
    let Ok(doc) = serde_json::from_str::<Grants>(document) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in &doc.statements.0 {
        if s.effect.as_deref() != Some("Allow") {
            continue;
        }
        let (actions, resources) = (&s.action.0, &s.resource.0);
        if actions.iter().any(|a| a == "*") && resources.iter().any(|r| r == "*") {
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
    if !may_hold_star(document) {
        return None;
    }
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

/// A hash of a JSON document's value that ignores its layout and the order of object members
/// (`{"a":[1],"b":"x"}` and `{ "b": "x", "a": [ 1 ] }` hash alike), computed as the text is read,
/// without building the value. `None` when it is not JSON.
fn value_hash(document: &str) -> Option<u64> {
    serde_json::from_str::<ValueHash>(document)
        .ok()
        .map(|h| h.0)
}

struct ValueHash(u64);

fn mix(a: u64, b: u64) -> u64 {
    // splitmix64's finalizer over the pair.
    let mut z = a.rotate_left(23) ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<'de> serde::Deserialize<'de> for ValueHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        use std::hash::BuildHasher;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueHash;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: Error>(self) -> Result<ValueHash, E> {
                Ok(ValueHash(mix(0, 0)))
            }
            fn visit_bool<E: Error>(self, v: bool) -> Result<ValueHash, E> {
                Ok(ValueHash(mix(1, u64::from(v))))
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<ValueHash, E> {
                Ok(ValueHash(mix(2, v)))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<ValueHash, E> {
                Ok(ValueHash(mix(3, v as u64)))
            }
            fn visit_f64<E: Error>(self, v: f64) -> Result<ValueHash, E> {
                Ok(ValueHash(mix(4, v.to_bits())))
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<ValueHash, E> {
                let h = foldhash::fast::FixedState::with_seed(5).hash_one(v);
                Ok(ValueHash(mix(5, h)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValueHash, A::Error> {
                let mut h = mix(6, 0);
                while let Some(ValueHash(e)) = seq.next_element()? {
                    h = mix(h, e);
                }
                Ok(ValueHash(h))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueHash, A::Error> {
                // Members in any order: their hashes are summed.
                let mut sum = 0u64;
                while let Some((ValueHash(k), ValueHash(v))) = map.next_entry()? {
                    sum = sum.wrapping_add(mix(k, v));
                }
                Ok(ValueHash(mix(7, sum)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A user, group or role holding inline policies.
#[derive(Clone, Copy)]
enum Holder<'a> {
    User(&'a User),
    Group(&'a Group),
    Role(&'a Role),
}

impl Holder<'_> {
    fn kind(self) -> &'static str {
        match self {
            Holder::User(_) => "user",
            Holder::Group(_) => "group",
            Holder::Role(_) => "role",
        }
    }
    fn name(self) -> String {
        match self {
            Holder::User(u) => u.name.clone(),
            Holder::Group(g) => g.name.clone(),
            Holder::Role(r) => r.name.clone(),
        }
    }
    fn arn(self) -> String {
        match self {
            Holder::User(u) => u.arn(),
            Holder::Group(g) => g.arn(),
            Holder::Role(r) => r.arn(),
        }
    }
}

/// An inline policy: its holder, name and document.
type Held<'a> = (Holder<'a>, &'a str, &'a str);

fn note_inline<'a>(
    by_hash: &mut HashMap<u64, Vec<Held<'a>>>,
    holder: Holder<'a>,
    inline: &'a InlinePolicies,
) {
    for p in inline.iter() {
        if let Some(h) = value_hash(&p.document) {
            by_hash
                .entry(h)
                .or_default()
                .push((holder, &p.name, &p.document));
        }
    }
}

/// Of the inline policies of the account (`by_hash`, noted by [`note_inline`]), those whose
/// document another principal repeats or a managed policy of the account already holds: a
/// managed policy would do. Documents are compared as JSON values (layout and member order
/// aside): first by [`value_hash`] (one pass over each text, nothing built), then, for the few
/// that hash alike, as parsed values.
fn duplicated_inline<'a>(
    account: &'a Account,
    by_hash: HashMap<u64, Vec<Held<'a>>>,
) -> Vec<(&'static str, &'static str, String, String, String)> {
    if by_hash.is_empty() {
        return Vec::new();
    }
    // The managed policies (in name order) whose document hashes like an inline one.
    let mut managed: HashMap<u64, Vec<(&str, &str)>> = HashMap::new();
    for p in account.policies.iter() {
        if let Some(v) = p.default_version() {
            if let Some(h) = value_hash(&v.document).filter(|h| by_hash.contains_key(h)) {
                managed.entry(h).or_default().push((&p.name, &v.document));
            }
        }
    }
    let parse = |d: &str| serde_json::from_str::<Value>(d).ok();
    let mut out = Vec::new();
    for (h, held) in &by_hash {
        let candidates = managed.get(h).map_or(&[][..], Vec::as_slice);
        if held.len() < 2 && candidates.is_empty() {
            continue;
        }
        // The same hash: grouped by value (documents that only collide stay apart).
        let mut groups: Vec<(Value, Vec<&Held<'_>>)> = Vec::new();
        for one in held {
            let Some(v) = parse(one.2) else { continue };
            match groups.iter_mut().find(|(g, _)| *g == v) {
                Some((_, members)) => members.push(one),
                None => groups.push((v, vec![one])),
            }
        }
        let candidates: Vec<(&str, Option<Value>)> =
            candidates.iter().map(|(n, d)| (*n, parse(d))).collect();
        for (v, members) in groups {
            let same_as = candidates
                .iter()
                .find(|(_, c)| c.as_ref() == Some(&v))
                .map(|(n, _)| *n);
            if members.len() < 2 && same_as.is_none() {
                continue;
            }
            for (holder, policy, _) in &members {
                let detail = match same_as {
                    Some(m) => format!(
                        "inline policy {policy} is the same as the managed policy {m}: attach that instead"
                    ),
                    None => format!(
                        "inline policy {policy} is repeated on {} principals: one managed policy would do",
                        members.len()
                    ),
                };
                out.push((
                    "inline-instead-of-managed",
                    holder.kind(),
                    holder.name(),
                    holder.arn(),
                    detail,
                ));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_grants_are_found_in_every_shape() {
        let checks = |doc: &str| broad(doc).into_iter().map(|(c, _)| c).collect::<Vec<_>>();
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        assert_eq!(checks(one), ["allows-everything"]);
        // Escaped, in lists, after a statement that denies.
        let escaped = r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"},
            {"Effect":"Allow","Action":["s3:GetObject","\u002a"],"Resource":["arn:aws:s3:::b","*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        assert_eq!(checks(escaped), ["allows-everything"]);
        let iam = r#"{"Statement":[{"Sid":"x","Effect":"Allow","Action":["IAM:*"],"Resource":"arn:aws:iam::1:user/*"}]}"#;
        assert_eq!(checks(iam), ["allows-iam-wildcard"]);
        for none in [
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","NotAction":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b"}]}"#,
            "not json *",
        ] {
            assert!(checks(none).is_empty(), "{none}");
        }
    }

    #[test]
    fn documents_hash_alike_when_only_their_layout_differs() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject",1,true,null],"Resource":"*"}]}"#;
        let b = "{ \"Statement\" : [ { \"Resource\" : \"*\",\n \"Action\" : [\"s3:GetObject\", 1, true, null], \"Effect\":\"Allow\" } ],\n \"Version\":\"2012-10-17\" }";
        assert_eq!(value_hash(a), value_hash(b));
        assert!(value_hash(a).is_some());
        // Another order in a list, another value, a member moved to another object: not alike.
        for other in [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[1,"s3:GetObject",true,null],"Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject",1,true,null],"Resource":"**"}]}"#,
            r#"{"Version":"2012-10-17","Resource":"*","Statement":[{"Effect":"Allow","Action":["s3:GetObject",1,true,null]}]}"#,
        ] {
            assert_ne!(value_hash(a), value_hash(other), "{other}");
        }
        assert_eq!(value_hash("{"), None);
    }
}

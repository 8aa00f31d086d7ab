//! The console's pages, rendered on the server from the in-memory model (maud: compiled
//! templates, every value escaped). Lists walk the name-ordered tables from the page's marker
//! and stop after one page.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use serde_json::Value;

use super::session::{needs_login, Caller};
use super::{findings, ASSETS, HOME, LOGIN};
use crate::authz::decisions::{Filter, Matched, Record};
use crate::authz::AppliedPolicy;
use crate::policy::validate::{validate, PolicyKind};
use crate::state::App;
use crate::store::aws_managed::catalogue;
use crate::store::model::{Account, Entity, InlinePolicies, ManagedPolicy, Tag, AWS_ACCOUNT};

/// What a path segment escapes: all but letters, digits and `-._~`.
pub const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Rows per list page.
pub const PAGE: usize = 50;
/// Decisions shown per page.
const DECISIONS_SHOWN: usize = 100;

fn href(parts: &[&str]) -> String {
    let mut s = String::from(HOME);
    for p in parts {
        s.push('/');
        s.extend(percent_encoding::utf8_percent_encode(p, PATH_SEGMENT));
    }
    s
}

fn query_href(base: &str, params: &[(&str, &str)]) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(_, v)| !v.is_empty()))
        .finish();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{q}")
    }
}

fn date(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

pub fn layout(caller: &Caller, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · localiam console" }
                link rel="stylesheet" href={ (ASSETS) "console.css" };
                script src={ (ASSETS) "console.js" } defer {}
            }
            body {
                header {
                    a.brand href=(HOME) { "localiam" }
                    nav {
                        a href=(HOME) { "Accounts" }
                        a href=(href(&["decisions"])) { "Decisions" }
                        a href=(href(&["proposal"])) { "Least privilege" }
                        a href=(href(&["simulate"])) { "Simulator" }
                    }
                    @if let Some(csrf) = &caller.csrf {
                        form.logout method="post" action=(href(&["logout"])) {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The login form (outside `open`).
pub fn login_page(error: Option<&str>) -> Markup {
    layout(
        &Caller::default(),
        "Log in",
        html! {
            p { "Outside " code { "open" } " mode the console needs the default account's root credentials." }
            @if let Some(e) = error { p.error { (e) } }
            form.login method="post" action=(LOGIN) {
                label { "Access key ID" input type="text" name="access_key_id" autocomplete="username" required; }
                label { "Secret access key" input type="password" name="secret_access_key" autocomplete="current-password" required; }
                button type="submit" { "Log in" }
            }
        },
    )
}

pub async fn login_form(State(app): State<App>) -> Response {
    if needs_login(&app) {
        login_page(None).into_response()
    } else {
        Redirect::to(HOME).into_response()
    }
}

fn not_found(caller: &Caller, what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        layout(caller, "Not found", html! { p { (what) } }),
    )
        .into_response()
}

/// The families a list page shows: (path segment, title).
const KINDS: [(&str, &str); 8] = [
    ("users", "Users"),
    ("groups", "Groups"),
    ("roles", "Roles"),
    ("policies", "Managed policies"),
    ("instance-profiles", "Instance profiles"),
    ("saml-providers", "SAML providers"),
    ("oidc-providers", "OIDC providers"),
    ("mfa-devices", "MFA devices"),
];

fn count(a: &Account, kind: &str) -> usize {
    match kind {
        "users" => a.users.len(),
        "groups" => a.groups.len(),
        "roles" => a.roles.len(),
        "policies" => a.policies.len(),
        "instance-profiles" => a.instance_profiles.len(),
        "saml-providers" => a.saml_providers.len(),
        "oidc-providers" => a.oidc_providers.len(),
        "mfa-devices" => a.mfa_devices.len(),
        _ => 0,
    }
}

/// `GET /_localiam/console`: every account with its counts.
pub async fn accounts(State(app): State<App>, Extension(caller): Extension<Caller>) -> Markup {
    let model = app.store.read();
    let ids = findings::account_ids(&app);
    layout(
        &caller,
        "Accounts",
        html! {
            table {
                thead { tr {
                    th { "Account" } th { "Alias" }
                    @for (_, t) in KINDS { th.num { (t) } }
                    th {}
                } }
                tbody {
                    @for id in &ids {
                        @let a = model.account(id);
                        tr {
                            td { a href=(href(&["a", id])) { (id) } }
                            td { (a.settings().and_then(|s| s.alias.clone()).unwrap_or_default()) }
                            @for (k, _) in KINDS {
                                td.num { a href=(href(&["a", id, k])) { (count(a, k)) } }
                            }
                            td {
                                a href=(href(&["a", id, "findings"])) { "findings" } " · "
                                a href=(href(&["a", id, "trust"])) { "who can assume what" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET …/a/{account}`: the account's families with counts.
pub async fn account(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Markup {
    let model = app.store.read();
    let a = model.account(&id);
    let root_keys = a.settings().map_or(0, |s| s.root_access_keys.len())
        + usize::from(id == app.config.account_id);
    let root_used = findings::root_last_used(&app, a, &id);
    layout(
        &caller,
        &format!("Account {id}"),
        html! {
            p { "Root user " code { "arn:aws:iam::" (id) ":root" } ": " (root_keys) " access key(s); "
                @match &root_used {
                    Some((t, how)) => { "last used " (date(*t)) " (" (how) ")." },
                    None => "never used.",
                }
            }
            ul.cards {
                @for (k, t) in KINDS {
                    li { a href=(href(&["a", &id, k])) { span.count { (count(a, k)) } " " (t) } }
                }
                li { a href=(href(&["a", &id, "findings"])) { "Best-practice findings" } }
                li { a href=(href(&["a", &id, "trust"])) { "Who can assume what" } }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    after: Option<String>,
    #[serde(default)]
    aws: Option<String>,
}

/// One page of `iter` (name order, each entity with its lowercased name) whose names contain `q`
/// (case-insensitively), and the marker of the next page. Walks no further than one page and one
/// more match; a search compares the lowercased names the tables are keyed by (no entity is read
/// and nothing is allocated per name), with the query lowercased once.
pub fn page<'a, E: Entity>(
    iter: impl Iterator<Item = (&'a str, &'a Arc<E>)>,
    q: &str,
) -> (Vec<&'a Arc<E>>, Option<String>) {
    let q = q.to_lowercase();
    let finder = memchr::memmem::Finder::new(q.as_bytes());
    let mut it = iter.filter(|(name, _)| q.is_empty() || finder.find(name.as_bytes()).is_some());
    let mut items = Vec::with_capacity(PAGE);
    let mut last = "";
    for (name, e) in it.by_ref().take(PAGE) {
        items.push(e);
        last = name;
    }
    let next = (items.len() == PAGE && it.next().is_some()).then(|| last.to_string());
    (items, next)
}

/// The console page of an entity.
pub fn entity_link(account: &str, kind: &str, name: &str) -> String {
    href(&["a", account, kind, name])
}

/// The console page of a managed policy (an AWS managed one with `?aws=1`).
pub fn policy_link(account: &str, p: &ManagedPolicy) -> String {
    policy_href(account, p)
}

fn policy_href(account: &str, p: &ManagedPolicy) -> String {
    let base = href(&["a", account, "policies", &p.name]);
    if p.account_id == AWS_ACCOUNT {
        format!("{base}?aws=1")
    } else {
        base
    }
}

/// `GET …/a/{account}/{kind}?q=&after=`: one searchable page of a family.
pub async fn list(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((id, kind)): Path<(String, String)>,
    Query(lq): Query<ListQuery>,
) -> Response {
    let Some((_, title)) = KINDS.iter().find(|(k, _)| *k == kind) else {
        return not_found(&caller, "No such page.");
    };
    let model = app.store.read();
    let a = model.account(&id);
    let after = lq.after.as_deref();
    let from = after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
    let aws = lq.aws.is_some() && kind == "policies";
    let (table, next): (Markup, Option<String>) = match kind.as_str() {
        "users" => {
            let (rows, next) = page(a.users.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "Name" } th { "Path" } th { "ID" } th { "Created" } th.num { "Keys" } th.num { "Groups" } th { "Password" } th.num { "MFA" } } }
                    tbody { @for u in rows { tr {
                        td { a href=(href(&["a", &id, "users", &u.name])) { (u.name) } }
                        td { (u.path) } td.mono { (u.user_id) } td { (date(u.create_date)) }
                        td.num { (u.access_keys.len()) } td.num { (u.groups.len()) }
                        td { @if u.login_profile.is_some() { "yes" } @else { "no" } }
                        td.num { (a.mfa_serials_of(&u.user_id).count()) }
                    } } }
                } },
                next,
            )
        }
        "groups" => {
            let (rows, next) = page(a.groups.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "Name" } th { "Path" } th { "ID" } th { "Created" } th.num { "Policies" } } }
                    tbody { @for g in rows { tr {
                        td { a href=(href(&["a", &id, "groups", &g.name])) { (g.name) } }
                        td { (g.path) } td.mono { (g.group_id) } td { (date(g.create_date)) }
                        td.num { (g.attached.len() + g.inline.len()) }
                    } } }
                } },
                next,
            )
        }
        "roles" => {
            let (rows, next) = page(a.roles.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "Name" } th { "Path" } th { "ID" } th { "Created" } th { "Last used" } th { "Description" } } }
                    tbody { @for r in rows { tr {
                        td { a href=(href(&["a", &id, "roles", &r.name])) { (r.name) } }
                        td { (r.path) } td.mono { (r.role_id) } td { (date(r.create_date)) }
                        td { @if let Some(l) = &r.last_used { (date(l.date)) " " (l.region) } @else { "never" } }
                        td { (r.description.clone().unwrap_or_default()) }
                    } } }
                } },
                next,
            )
        }
        "policies" => {
            let (rows, next) = if aws {
                page(catalogue().keyed_range(from), &lq.q)
            } else {
                page(a.policies.keyed_after(after), &lq.q)
            };
            (
                html! {
                    p { @if aws { a href=(href(&["a", &id, "policies"])) { "Customer managed" } " · AWS managed" }
                        @else { "Customer managed · " a href={ (href(&["a", &id, "policies"])) "?aws=1" } { "AWS managed" } } }
                    table {
                    thead { tr { th { "Name" } th { "Path" } th { "ID" } th { "Default version" } th { "Updated" } th { "Description" } } }
                    tbody { @for p in rows { tr {
                        td { a href=(policy_href(&id, p)) { (p.name) } }
                        td { (p.path) } td.mono { (p.policy_id) } td { (p.default_version_id) }
                        td { (date(p.update_date)) } td { (p.description.clone().unwrap_or_default()) }
                    } } }
                } },
                next,
            )
        }
        "instance-profiles" => {
            let (rows, next) = page(a.instance_profiles.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "Name" } th { "Path" } th { "ID" } th { "Created" } th { "Roles" } } }
                    tbody { @for p in rows { tr {
                        td { a href=(href(&["a", &id, "instance-profiles", &p.name])) { (p.name) } }
                        td { (p.path) } td.mono { (p.instance_profile_id) } td { (date(p.create_date)) }
                        td { @for r in &p.roles { @if let Some(role) = a.roles.get_by_id(r) {
                            a href=(href(&["a", &id, "roles", &role.name])) { (role.name) } " "
                        } } }
                    } } }
                } },
                next,
            )
        }
        "saml-providers" => {
            let (rows, next) = page(a.saml_providers.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "Name" } th { "ARN" } th { "Entity ID" } th { "Created" } th { "Valid until" } } }
                    tbody { @for p in rows { tr {
                        td { (p.name) } td.mono { (p.arn()) } td { (p.entity_id) }
                        td { (date(p.create_date)) } td { (date(p.valid_until)) }
                    } } }
                } },
                next,
            )
        }
        "oidc-providers" => {
            let (rows, next) = page(a.oidc_providers.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "URL" } th { "ARN" } th { "Client IDs" } th { "Created" } } }
                    tbody { @for p in rows { tr {
                        td { (p.url) } td.mono { (p.arn()) } td { (p.client_ids.join(", ")) }
                        td { (date(p.create_date)) }
                    } } }
                } },
                next,
            )
        }
        _ => {
            let (rows, next) = page(a.mfa_devices.keyed_after(after), &lq.q);
            (
                html! { table {
                    thead { tr { th { "Serial number" } th { "User" } th { "Created" } th { "Enabled" } } }
                    tbody { @for d in rows { tr {
                        td.mono { (d.serial_number) }
                        td { @if let Some(u) = d.user_id.as_deref().and_then(|u| a.users.get_by_id(u)) {
                            a href=(href(&["a", &id, "users", &u.name])) { (u.name) } } }
                        td { (date(d.create_date)) }
                        td { @if let Some(e) = d.enable_date { (date(e)) } @else { "not enabled" } }
                    } } }
                } },
                next,
            )
        }
    };
    let base = href(&["a", &id, &kind]);
    let total = if aws {
        catalogue().len()
    } else {
        count(a, &kind)
    };
    layout(
        &caller,
        &format!("{title} · {id}"),
        html! {
            form.search method="get" action=(base) {
                @if aws { input type="hidden" name="aws" value="1"; }
                input type="search" name="q" value=(lq.q) placeholder="name contains…";
                button type="submit" { "Search" }
                span.muted { (total) " in all" }
            }
            (table)
            p.pager {
                @if after.is_some() { a href=(query_href(&base, &[("q", &lq.q), ("aws", if aws { "1" } else { "" })])) { "« first page" } " " }
                @if let Some(n) = &next { a href=(query_href(&base, &[("q", &lq.q), ("after", n), ("aws", if aws { "1" } else { "" })])) { "next page »" } }
            }
        },
    )
    .into_response()
}

/// A policy document, pretty-printed, with the statements of `highlight` marked (the deciding
/// one as `deciding`), and the validator's verdict.
pub fn document(doc: &str, kind: PolicyKind, highlight: &[(usize, bool)]) -> Markup {
    let verdict = validate(doc, kind);
    let parsed = serde_json::from_str::<Value>(doc).ok();
    html! {
        div.doc {
            @match &parsed {
                Some(v) => pre { @for (text, mark) in segments(v, highlight) {
                    @match mark {
                        Some(true) => mark.stmt.deciding { (text) },
                        Some(false) => mark.stmt { (text) },
                        None => (text),
                    }
                } },
                None => pre { (doc) },
            }
            @match verdict {
                Ok(()) => p.valid { "✓ valid (" (format!("{kind:?}").to_lowercase()) " policy)" },
                Err(e) => p.invalid { "✗ " (e.to_string()) },
            }
        }
    }
}

/// The pretty text of a policy in pieces, each statement its own piece (marked when highlighted:
/// `Some(deciding)`).
fn segments(v: &Value, highlight: &[(usize, bool)]) -> Vec<(String, Option<bool>)> {
    let pretty = |v: &Value, indent: &str| {
        serde_json::to_string_pretty(v)
            .unwrap_or_default()
            .replace('\n', &format!("\n{indent}"))
    };
    let mark = |i: usize| highlight.iter().find(|(h, _)| *h == i).map(|(_, d)| *d);
    let Value::Object(map) = v else {
        return vec![(pretty(v, ""), None)];
    };
    let mut out = vec![("{\n".to_string(), None)];
    let n = map.len();
    for (i, (k, val)) in map.iter().enumerate() {
        let key = serde_json::to_string(k).unwrap_or_default();
        let comma = if i + 1 < n { ",\n" } else { "\n" };
        match (k.as_str(), val) {
            ("Statement", Value::Array(list)) => {
                out.push((format!("  {key}: [\n"), None));
                for (j, s) in list.iter().enumerate() {
                    out.push(("    ".to_string(), None));
                    out.push((pretty(s, "    "), mark(j)));
                    out.push((
                        if j + 1 < list.len() { ",\n" } else { "\n" }.to_string(),
                        None,
                    ));
                }
                out.push((format!("  ]{comma}"), None));
            }
            ("Statement", s @ Value::Object(_)) => {
                out.push((format!("  {key}: "), None));
                out.push((pretty(s, "  "), mark(0)));
                out.push((comma.to_string(), None));
            }
            _ => out.push((format!("  {key}: {}{comma}", pretty(val, "  ")), None)),
        }
    }
    out.push(("}".to_string(), None));
    out
}

fn tags(list: &[Tag]) -> Markup {
    html! {
        h2 { "Tags" }
        @if list.is_empty() { p.muted { "none" } } @else {
            table { thead { tr { th { "Key" } th { "Value" } } }
                tbody { @for t in list { tr { td { (t.key) } td { (t.value) } } } } }
        }
    }
}

fn policies(
    account_id: &str,
    a: &Account,
    attached: &[String],
    inline: &InlinePolicies,
    boundary: Option<&str>,
) -> Markup {
    html! {
        h2 { "Attached managed policies" }
        @if attached.is_empty() { p.muted { "none" } }
        ul { @for pid in attached { @if let Some(p) = a.policy_by_id(pid) {
            li { a href=(policy_href(account_id, p)) { (p.name) } " " span.mono.muted { (p.arn()) } }
        } } }
        h2 { "Inline policies" }
        @if inline.is_empty() { p.muted { "none" } }
        @for p in inline.iter() {
            h3 { (p.name) }
            (document(&p.document, PolicyKind::Identity, &[]))
        }
        h2 { "Permissions boundary" }
        @match boundary.map(|b| (b, a.policy_by_arn(b))) {
            None => p.muted { "none" },
            Some((_, Some(p))) => p { a href=(policy_href(account_id, p)) { (p.name) } " " span.mono.muted { (p.arn()) } },
            Some((arn, None)) => p { span.mono { (arn) } " (no longer exists: nothing is allowed)" },
        }
    }
}

fn principal_links(arn: &str) -> Markup {
    html! {
        p.links {
            a href=(query_href(&href(&["decisions"]), &[("principal", arn)])) { "decisions" } " · "
            a href=(query_href(&href(&["proposal"]), &[("principal", arn)])) { "least-privilege proposal" } " · "
            a href=(query_href(&href(&["simulate"]), &[("principal", arn)])) { "simulate" }
        }
    }
}

/// `GET …/a/{account}/{kind}/{name}`: one entity.
pub async fn entity(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path((id, kind, name)): Path<(String, String, String)>,
    Query(lq): Query<ListQuery>,
) -> Response {
    let model = app.store.read();
    let a = model.account(&id);
    let body = match kind.as_str() {
        "users" => a.users.get(&name).map(|u| {
            let arn = u.arn();
            let pending = |k: &str| app.last_used.pending(k);
            (format!("User {}", u.name), html! {
                dl {
                    dt { "ARN" } dd.mono { (arn) }
                    dt { "ID" } dd.mono { (u.user_id) }
                    dt { "Path" } dd { (u.path) }
                    dt { "Created" } dd { (date(u.create_date)) }
                    dt { "Console password" } dd {
                        @if u.login_profile.is_some() { "yes" @if let Some(t) = u.password_last_used { ", last used " (date(t)) } } @else { "no" }
                    }
                }
                (principal_links(&arn))
                (tags(&u.tags))
                h2 { "Access keys" }
                @if u.access_keys.is_empty() { p.muted { "none" } } @else {
                    table { thead { tr { th { "Access key ID" } th { "Status" } th { "Created" } th { "Last used" } } }
                    tbody { @for k in &u.access_keys { tr {
                        td.mono { (k.access_key_id) } td { (k.status) } td { (date(k.create_date)) }
                        td { @match (pending(&k.access_key_id), &k.last_used) {
                            (Some(p), _) => { (date(p.date.unix_timestamp())) " · " (p.service) " · " (p.region) },
                            (None, Some(l)) => { (date(l.date)) " · " (l.service) " · " (l.region) },
                            (None, None) => "never",
                        } }
                    } } } }
                }
                h2 { "MFA devices" }
                @if a.mfa_serials_of(&u.user_id).next().is_none() { p.muted { "none" } }
                ul { @for s in a.mfa_serials_of(&u.user_id) { li.mono { (s) } } }
                h2 { "Groups" }
                @if u.groups.is_empty() { p.muted { "none" } }
                ul { @for g in a.groups_of(u) { li { a href=(href(&["a", &id, "groups", &g.name])) { (g.name) } } } }
                (policies(&id, a, &u.attached, &u.inline, u.permissions_boundary_arn.as_deref()))
            })
        }),
        "groups" => a.groups.get(&name).map(|g| {
            let members: Vec<_> = a.members(&g.group_id).into_iter().take(PAGE).collect();
            (format!("Group {}", g.name), html! {
                dl {
                    dt { "ARN" } dd.mono { (g.arn()) }
                    dt { "ID" } dd.mono { (g.group_id) }
                    dt { "Created" } dd { (date(g.create_date)) }
                }
                h2 { "Members" }
                @if members.is_empty() { p.muted { "none" } }
                ul { @for u in &members { li { a href=(href(&["a", &id, "users", &u.name])) { (u.name) } } } }
                (policies(&id, a, &g.attached, &g.inline, None))
            })
        }),
        "roles" => a.roles.get(&name).map(|r| {
            let arn = r.arn();
            (format!("Role {}", r.name), html! {
                dl {
                    dt { "ARN" } dd.mono { (arn) }
                    dt { "ID" } dd.mono { (r.role_id) }
                    dt { "Path" } dd { (r.path) }
                    dt { "Created" } dd { (date(r.create_date)) }
                    dt { "Description" } dd { (r.description.clone().unwrap_or_default()) }
                    dt { "Max session" } dd { (r.max_session_duration) " s" }
                    dt { "Last used" } dd { @if let Some(l) = &r.last_used { (date(l.date)) " · " (l.region) } @else { "never" } }
                }
                (principal_links(&arn))
                p { a href=(query_href(&href(&["a", &id, "trust"]), &[("role", &r.name)])) { "who can assume it" } }
                (tags(&r.tags))
                h2 { "Trust policy" }
                (document(&r.assume_role_policy, PolicyKind::Trust, &[]))
                (policies(&id, a, &r.attached, &r.inline, r.permissions_boundary_arn.as_deref()))
                h2 { "Instance profiles" }
                ul { @for p in a.profile_ids_of_role(&r.role_id).filter_map(|p| a.instance_profiles.get_by_id(p)) {
                    li { a href=(href(&["a", &id, "instance-profiles", &p.name])) { (p.name) } }
                } }
            })
        }),
        "policies" => {
            let p = if lq.aws.is_some() {
                catalogue().get(&name)
            } else {
                a.policies.get(&name)
            };
            p.map(|p| {
                (format!("Policy {}", p.name), html! {
                    dl {
                        dt { "ARN" } dd.mono { (p.arn()) }
                        dt { "ID" } dd.mono { (p.policy_id) }
                        dt { "Path" } dd { (p.path) }
                        dt { "Description" } dd { (p.description.clone().unwrap_or_default()) }
                        dt { "Created" } dd { (date(p.create_date)) }
                        dt { "Updated" } dd { (date(p.update_date)) }
                        dt { "Attachments" } dd { (a.attachment_count(&p.policy_id)) }
                        dt { "Versions" } dd { @for v in &p.versions { (v.version_id) " " } }
                    }
                    (tags(&p.tags))
                    h2 { "Default version " (p.default_version_id) }
                    @if let Some(v) = p.default_version() { (document(&v.document, PolicyKind::Identity, &[])) }
                })
            })
        }
        "instance-profiles" => a.instance_profiles.get(&name).map(|p| {
            (format!("Instance profile {}", p.name), html! {
                dl {
                    dt { "ARN" } dd.mono { (p.arn()) }
                    dt { "ID" } dd.mono { (p.instance_profile_id) }
                    dt { "Created" } dd { (date(p.create_date)) }
                }
                h2 { "Roles" }
                ul { @for r in p.roles.iter().filter_map(|r| a.roles.get_by_id(r)) {
                    li { a href=(href(&["a", &id, "roles", &r.name])) { (r.name) } }
                } }
                (tags(&p.tags))
            })
        }),
        _ => None,
    };
    match body {
        Some((title, body)) => layout(&caller, &title, body).into_response(),
        None => not_found(&caller, "No such entity."),
    }
}

/// Findings shown per page of the findings page (all of them in `GET /_localiam/findings`).
const FINDINGS_PAGE: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct FindingsQuery {
    /// How many findings the previous pages showed.
    #[serde(default)]
    from: usize,
}

/// `GET …/a/{account}/findings[?from=N]`: how many findings of each check, then a page of them.
pub async fn findings_page(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(fq): Query<FindingsQuery>,
) -> Markup {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let list = findings::findings(&app, &id, now);
    let mut counts: Vec<(&str, &str, usize)> = Vec::new();
    for f in &list {
        match counts.iter_mut().find(|(c, _, _)| *c == f.check) {
            Some((_, _, n)) => *n += 1,
            None => counts.push((f.check, f.practice, 1)),
        }
    }
    let from = fq.from.min(list.len());
    let shown = &list[from..(from + FINDINGS_PAGE).min(list.len())];
    let base = href(&["a", &id, "findings"]);
    let link = |f: &findings::Finding| match f.kind {
        "user" => Some(href(&["a", &id, "users", &f.name])),
        "group" => Some(href(&["a", &id, "groups", &f.name])),
        "role" => Some(href(&["a", &id, "roles", &f.name])),
        "policy" => Some(href(&["a", &id, "policies", &f.name])),
        "root" => Some(href(&["a", &id])),
        _ => None,
    };
    layout(
        &caller,
        &format!("Best-practice findings · {id}"),
        html! {
            p { "AWS's " a href="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html" { "IAM security best practices" }
                ", checked against this account (JSON: " code { "GET /_localiam/findings" } ")." }
            @if list.is_empty() { p.valid { "No findings." } } @else {
                @if counts.len() > 1 || list.len() > FINDINGS_PAGE {
                    table {
                        thead { tr { th { "Check" } th { "Practice" } th.num { "Findings" } } }
                        tbody { @for (check, practice, n) in &counts { tr {
                            td.mono { (check) } td { (practice) } td.num { (n) }
                        } } }
                    }
                }
                table {
                    thead { tr { th { "Practice" } th { "Check" } th { "Entity" } th { "Detail" } } }
                    tbody { @for f in shown { tr {
                        td { (f.practice) } td.mono { (f.check) }
                        td { (f.kind) " " @match link(f) { Some(h) => a href=(h) { (f.name) }, None => (f.name) } }
                        td { (f.detail) }
                    } } }
                }
                @if list.len() > FINDINGS_PAGE {
                    p.pager {
                        @if !shown.is_empty() { (from + 1) "–" (from + shown.len()) " of " (list.len()) " " }
                        @if from > 0 { a href=(base) { "« first page" } " " }
                        @if from + FINDINGS_PAGE < list.len() {
                            a href=(query_href(&base, &[("from", &(from + FINDINGS_PAGE).to_string())])) { "next page »" }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionQuery {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    refresh: Option<String>,
}

fn badge(decision: &str) -> Markup {
    let class = if decision == "Allow" { "allow" } else { "deny" };
    html! { span class={ "badge " (class) } { (decision) } }
}

fn decision_entry(r: &Record) -> Markup {
    // The statement that decided: the first matching Deny of an explicit deny, the first
    // matching Allow of an allow; an implicit deny has none.
    let deciding_effect = match r.decision {
        "Allow" => Some("Allow"),
        "ExplicitDeny" => Some("Deny"),
        _ => None,
    };
    let matched: Vec<Matched<'_>> = r.matched().collect();
    let deciding = deciding_effect.and_then(|e| matched.iter().position(|m| m.effect == e));
    let present = r.context();
    let absent: Vec<&str> = r
        .context_keys()
        .into_iter()
        .filter(|k| !present.iter().any(|(p, _)| p.eq_ignore_ascii_case(k)))
        .collect();
    html! {
        details.decision {
            summary {
                (badge(r.decision)) " "
                span.muted { (date(r.time())) } " "
                span.mono { (r.action) } " on " span.mono { (r.resource()) } " by " span.mono { (r.principal()) }
            }
            dl {
                dt { "Request ID" } dd.mono { (r.request_id.to_string()) }
                @if let Some(reason) = &r.reason {
                    dt { "Reason" } dd.reason { "User: " (r.principal()) " is not authorized to perform: " (r.action) " on resource: " (r.resource()) " " (reason) }
                }
                dt { "Enforced" } dd { @if r.enforced { "yes" } @else { "no (audit: the call went through)" } }
            }
            h3 { "Request context" }
            @if present.is_empty() && absent.is_empty() {
                p.muted { "The policies read no context key." }
            } @else {
                table.context {
                    thead { tr { th { "key" } th { "value" } } }
                    tbody {
                        @for (k, values) in &present {
                            tr { td.mono { (k) } td.mono { (values.join(", ")) } }
                        }
                        @for k in &absent {
                            tr { td.mono { (k) } td.muted { "(not in the request)" } }
                        }
                    }
                }
            }
            p.links {
                a href=(query_href(&href(&["proposal"]), &[("principal", r.principal()), ("include_denied", "on")])) { "a policy that would allow this" }
            }
            @if matched.is_empty() {
                p.muted { "No statement matched: nothing allows the call (implicit deny)." }
            }
            @for (i, m) in matched.iter().enumerate() {
                p {
                    @if Some(i) == deciding { span.badge.deciding { "deciding" } " " }
                    (m.effect) " · statement " (m.statement)
                    @if let Some(sid) = m.sid { " (" (sid) ")" }
                    " of " (m.source) " policy " strong { (m.policy) }
                }
            }
            h3 { "Policies considered (" (r.caller.considered.len()) ")" }
            @if r.caller.considered.is_empty() {
                p.muted { "No policy." }
            }
            @for (index, p) in r.caller.considered.iter().enumerate() {
                @let marks: Vec<(usize, bool)> = matched
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.index == index)
                    .map(|(i, m)| (m.statement, Some(i) == deciding))
                    .collect();
                details.considered open[!marks.is_empty()] {
                    summary {
                        @if marks.iter().any(|(_, d)| *d) { span.badge.deciding { "deciding" } " " }
                        (p.simulator_type) " policy " strong { (p.id) }
                        @if let Some(arn) = &p.arn { " " span.mono.muted { (arn) } }
                        @if marks.is_empty() { " " span.muted { "(no statement matched)" } }
                    }
                    @match &p.document {
                        Some(doc) => (document(doc, policy_kind(p), &marks)),
                        None => p.muted { "(no document)" },
                    }
                }
            }
        }
    }
}

/// How a considered policy is validated when shown.
fn policy_kind(p: &AppliedPolicy) -> PolicyKind {
    match p.source {
        crate::policy::SourceType::ResourcePolicy => PolicyKind::Trust,
        _ => PolicyKind::Identity,
    }
}

/// `GET …/decisions?principal=&action=&decision=&refresh=`: the decision log, newest first.
pub async fn decisions(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(dq): Query<DecisionQuery>,
) -> Markup {
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let records = app.decisions.query(&Filter {
        principal: nonempty(&dq.principal),
        action: nonempty(&dq.action),
        decision: nonempty(&dq.decision),
        limit: Some(DECISIONS_SHOWN),
        ..Default::default()
    });
    let refresh = dq.refresh.is_some();
    layout(
        &caller,
        "Decisions",
        html! {
            @if refresh { meta http-equiv="refresh" content="5"; }
            p.muted { "The authorization decisions of " code { "audit" } " and " code { "enforce" } " (mode now: "
                code { (format!("{:?}", app.config.auth).to_lowercase()) } "), newest first; the last "
                (DECISIONS_SHOWN) " that match." }
            form.search method="get" action=(href(&["decisions"])) {
                input type="text" name="principal" value=(dq.principal) placeholder="principal ARN";
                input type="text" name="action" value=(dq.action) placeholder="action (iam:GetUser)";
                select name="decision" {
                    @for (v, t) in [("", "any decision"), ("deny", "denied"), ("Allow", "Allow"), ("ExplicitDeny", "ExplicitDeny"), ("ImplicitDeny", "ImplicitDeny")] {
                        option value=(v) selected[dq.decision == v] { (t) }
                    }
                }
                label { input type="checkbox" name="refresh" value="on" checked[refresh]; " auto-refresh" }
                button type="submit" { "Filter" }
            }
            @if records.is_empty() { p.muted { "No decisions recorded." } }
            @for r in &records { (decision_entry(r)) }
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct ProposalQuery {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    include_denied: Option<String>,
}

/// `GET …/proposal?principal=&include_denied=`: the least-privilege policy for a principal,
/// from the same code as `GET /_localiam/decisions/policy`.
pub async fn proposal(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(pq): Query<ProposalQuery>,
) -> Markup {
    let include_denied = pq.include_denied.is_some();
    let result = (!pq.principal.is_empty()).then(|| {
        crate::authz::decisions::proposal(&app.decisions, &pq.principal, None, include_denied)
    });
    layout(
        &caller,
        "Least-privilege proposal",
        html! {
            form.search method="get" action=(href(&["proposal"])) {
                input type="text" name="principal" value=(pq.principal) placeholder="principal ARN" size="60";
                label { input type="checkbox" name="include_denied" value="on" checked[include_denied]; " include what it was refused" }
                button type="submit" { "Propose" }
            }
            @match result {
                None => p.muted { "Give a user's or role's ARN: the policy allows exactly what its recorded calls did." },
                Some((calls, None)) => p { "No recorded calls of this principal to allow (" (calls) " decisions)." },
                Some((calls, Some(policy))) => {
                    p { "From " (calls) " recorded decisions." }
                    div.copyable {
                        button type="button" data-copy="proposal" { "Copy" }
                        pre id="proposal" { (serde_json::to_string_pretty(&policy).unwrap_or_default()) }
                    }
                },
            }
        },
    )
}

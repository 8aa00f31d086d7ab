//! "Who can assume what": a picture (SVG, rendered on the server) of the principals a role's
//! trust policy lets in → the role → the policies the role carries, for one account (a page of
//! its roles) or one role.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::findings::statements;
use super::pages::{page, PAGE};
use super::session::Caller;
use crate::state::App;

const ROW: usize = 26;
const BOX: usize = 360;
const COLS: [usize; 3] = [10, 450, 890];

#[derive(Debug, Default, Deserialize)]
pub struct TrustQuery {
    #[serde(default)]
    role: String,
    after: Option<String>,
}

/// The principals an `Allow` statement of a trust policy names (`Service: ec2.amazonaws.com`,
/// `AWS: arn:…`, `*`).
fn principals(document: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in statements(&doc) {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        match s.get("Principal") {
            Some(Value::String(p)) => out.push(p.clone()),
            Some(Value::Object(m)) => {
                for (kind, v) in m {
                    let list = match v {
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        Value::String(s) => vec![s.as_str()],
                        _ => Vec::new(),
                    };
                    out.extend(list.into_iter().map(|p| format!("{kind}: {p}")));
                }
            }
            _ => {}
        }
    }
    out.dedup();
    out
}

fn short(s: &str) -> String {
    if s.chars().count() > 52 {
        let head: String = s.chars().take(50).collect();
        format!("{head}…")
    } else {
        s.to_string()
    }
}

/// `GET …/a/{account}/trust[?role=NAME][&after=]`.
pub async fn trust(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(tq): Query<TrustQuery>,
) -> Markup {
    let model = app.store.read();
    let a = model.account(&id);
    let (roles, next) = if tq.role.is_empty() {
        page(a.roles.keyed_after(tq.after.as_deref()), "")
    } else {
        (a.roles.get(&tq.role).into_iter().collect(), None)
    };
    // Columns: principals, roles, policies; each node once, with its row.
    let mut left: BTreeMap<String, usize> = BTreeMap::new();
    let mut right: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut edges_in = Vec::new();
    let mut edges_out = Vec::new();
    for (i, r) in roles.iter().enumerate() {
        for p in principals(&r.assume_role_policy) {
            let n = left.len();
            let row = *left.entry(p).or_insert(n);
            edges_in.push((row, i));
        }
        let attached = r
            .attached
            .iter()
            .filter_map(|p| a.policy_by_id(p))
            .map(|p| (p.name.clone(), super::pages::policy_link(&id, p)));
        let inline = r.inline.iter().map(|p| {
            (
                format!("inline: {}", p.name),
                super::pages::entity_link(&id, "roles", &r.name),
            )
        });
        for key in attached.chain(inline) {
            let n = right.len();
            let row = *right.entry(key).or_insert(n);
            edges_out.push((i, row));
        }
    }
    let rows = left.len().max(roles.len()).max(right.len()).max(1);
    let height = rows * ROW + 30;
    let width = COLS[2] + BOX + 10;
    let y = |row: usize| 24 + row * ROW;
    let mid = |row: usize| y(row) + 9;
    let curve = |x1: usize, r1: usize, x2: usize, r2: usize| {
        let (y1, y2) = (mid(r1), mid(r2));
        let c = (x1 + x2) / 2;
        format!("M{x1},{y1} C{c},{y1} {c},{y2} {x2},{y2}")
    };
    let title = if tq.role.is_empty() {
        format!("Who can assume what · {id}")
    } else {
        format!("Who can assume {} · {id}", tq.role)
    };
    let base = super::pages::entity_link(&id, "trust", "");
    super::pages::layout(
        &caller,
        &title,
        html! {
            p.muted { "Left: the principals the roles' trust policies allow; middle: the roles; right: the policies they carry." }
            @if roles.is_empty() { p.muted { "No roles." } } @else {
                svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(title) {
                    text x=(COLS[0]) y="14" font-weight="bold" { "Trusted principals" }
                    text x=(COLS[1]) y="14" font-weight="bold" { "Roles" }
                    text x=(COLS[2]) y="14" font-weight="bold" { "Policies" }
                    @for (from, to) in &edges_in { path.edge d=(curve(COLS[0] + BOX, *from, COLS[1], *to)) {} }
                    @for (from, to) in &edges_out { path.edge d=(curve(COLS[1] + BOX, *from, COLS[2], *to)) {} }
                    @for (p, row) in &left {
                        g { title { (p) }
                            rect x=(COLS[0]) y=(y(*row)) width=(BOX) height="18" rx="3" fill="#eef3fb" stroke="#9ab" {}
                            text x=(COLS[0] + 6) y=(y(*row) + 13) { (short(p)) } }
                    }
                    @for (i, r) in roles.iter().enumerate() {
                        a href=(super::pages::entity_link(&id, "roles", &r.name)) {
                            title { (r.arn()) }
                            rect x=(COLS[1]) y=(y(i)) width=(BOX) height="18" rx="3" fill="#fff3bf" stroke="#b93" {}
                            text x=(COLS[1] + 6) y=(y(i) + 13) { (short(&r.name)) }
                        }
                    }
                    @for ((name, link), row) in &right {
                        a href=(link) {
                            title { (name) }
                            rect x=(COLS[2]) y=(y(*row)) width=(BOX) height="18" rx="3" fill="#e8f5e9" stroke="#7a7" {}
                            text x=(COLS[2] + 6) y=(y(*row) + 13) { (short(name)) }
                        }
                    }
                }
            }
            @if let Some(n) = next {
                p.pager { a href=(format!("{}?after={}", base.trim_end_matches('/'), percent_encoding::utf8_percent_encode(&n, super::pages::PATH_SEGMENT))) { "next " (PAGE) " roles »" } }
            }
        },
    )
}

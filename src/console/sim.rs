//! The simulator form: SimulatePrincipalPolicy (a user's or role's ARN) or SimulateCustomPolicy
//! (policies pasted in), run through the registry exactly as the API runs them, the answer shown
//! as a table. Simulating changes nothing, so the form is a GET.

use axum::extract::{Query, State};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use super::session::Caller;
use crate::api::{Ctx, Service};
use crate::protocol::query::Params;
use crate::saml::xml::{Document, ElemId};
use crate::state::App;

#[derive(Debug, Default, Deserialize)]
pub struct SimQuery {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    resources: String,
    #[serde(default)]
    context: String,
}

/// One evaluation result.
#[derive(Debug, Default)]
pub struct SimResult {
    pub action: String,
    pub resource: String,
    pub decision: String,
    pub matched: Vec<String>,
    pub missing: Vec<String>,
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
}

/// The Query API parameters of the form.
fn params(q: &SimQuery) -> (&'static str, Vec<(String, String)>) {
    let mut p = Vec::new();
    let action = if q.principal.trim().is_empty() {
        p.push(("PolicyInputList.member.1".into(), q.policy.clone()));
        "SimulateCustomPolicy"
    } else {
        p.push(("PolicySourceArn".into(), q.principal.trim().to_string()));
        if !q.policy.trim().is_empty() {
            p.push(("PolicyInputList.member.1".into(), q.policy.clone()));
        }
        "SimulatePrincipalPolicy"
    };
    for (i, a) in words(&q.actions).enumerate() {
        p.push((format!("ActionNames.member.{}", i + 1), a.to_string()));
    }
    for (i, r) in words(&q.resources).enumerate() {
        p.push((format!("ResourceArns.member.{}", i + 1), r.to_string()));
    }
    // `key=value[,value…]`, optionally `key|type=…` (string when not given).
    for (i, line) in q
        .context
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        let (key, values) = line.split_once('=').unwrap_or((line, ""));
        let (key, kind) = key.split_once('|').unwrap_or((key, "string"));
        let n = i + 1;
        p.push((
            format!("ContextEntries.member.{n}.ContextKeyName"),
            key.trim().into(),
        ));
        p.push((
            format!("ContextEntries.member.{n}.ContextKeyType"),
            kind.trim().into(),
        ));
        for (j, v) in values.split(',').enumerate() {
            p.push((
                format!(
                    "ContextEntries.member.{n}.ContextKeyValues.member.{}",
                    j + 1
                ),
                v.trim().into(),
            ));
        }
    }
    (action, p)
}

fn descendants(doc: &Document, id: ElemId, local: &str, out: &mut Vec<ElemId>) {
    for c in doc.children(id) {
        if doc.elem(c).local == local {
            out.push(c);
        } else {
            descendants(doc, c, local, out);
        }
    }
}

fn child_text(doc: &Document, id: ElemId, local: &str) -> String {
    doc.children(id)
        .find(|&c| doc.elem(c).local == local)
        .map(|c| doc.text(c))
        .unwrap_or_default()
}

/// The results of a simulator answer.
fn results(xml: &str) -> Vec<SimResult> {
    let Ok(doc) = Document::parse(xml) else {
        return Vec::new();
    };
    let mut lists = Vec::new();
    descendants(&doc, 0, "EvaluationResults", &mut lists);
    let mut out = Vec::new();
    for list in lists {
        for m in doc.children(list) {
            let mut matched = Vec::new();
            descendants(&doc, m, "SourcePolicyId", &mut matched);
            let mut missing = Vec::new();
            for mc in doc
                .children(m)
                .filter(|&c| doc.elem(c).local == "MissingContextValues")
            {
                missing.extend(doc.children(mc).map(|c| doc.text(c)));
            }
            out.push(SimResult {
                action: child_text(&doc, m, "EvalActionName"),
                resource: child_text(&doc, m, "EvalResourceName"),
                decision: child_text(&doc, m, "EvalDecision"),
                matched: matched.into_iter().map(|c| doc.text(c)).collect(),
                missing,
            });
        }
    }
    out
}

/// Runs the form's simulation as the default account's root would call it.
pub async fn run(app: &App, q: &SimQuery) -> Result<Vec<SimResult>, String> {
    let (action, pairs) = params(q);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let ctx = Ctx {
        request_id: crate::ids::request_id(),
        principal: crate::http::default_root(app),
        region: "us-east-1".into(),
        source_ip: std::net::Ipv4Addr::LOCALHOST.into(),
        now: time::OffsetDateTime::now_utc(),
    };
    let params = Params::parse(body.as_bytes());
    let work = app
        .registry
        .dispatch(app.clone(), ctx, Service::Iam, action, &params)
        .map_err(|e| format!("{}: {}", e.code, e.message))?;
    let xml = work
        .await
        .map_err(|e| format!("{}: {}", e.code, e.message))?;
    Ok(results(&xml))
}

/// `GET …/simulate`: the form, and the results when actions were given.
pub async fn simulate(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<SimQuery>,
) -> Markup {
    let outcome = if words(&q.actions).next().is_some() {
        Some(run(&app, &q).await)
    } else {
        None
    };
    super::pages::layout(
        &caller,
        "Policy simulator",
        html! {
            form.sim method="get" action={ (super::HOME) "/simulate" } {
                label { "Principal ARN (SimulatePrincipalPolicy; leave empty to simulate only the policy below: SimulateCustomPolicy)"
                    input type="text" name="principal" value=(q.principal) placeholder="arn:aws:iam::000000000000:user/alice"; }
                label { "Policy document (added to the principal's, or the only one)"
                    textarea name="policy" rows="6" placeholder="{\"Version\":\"2012-10-17\",\"Statement\":[…]}" { (q.policy) } }
                label { "Actions (space or comma separated)"
                    input type="text" name="actions" value=(q.actions) placeholder="iam:GetUser s3:GetObject"; }
                label { "Resource ARNs (default *)"
                    input type="text" name="resources" value=(q.resources) placeholder="*"; }
                label { "Context entries, one per line: key=value[,value] or key|type=value"
                    textarea name="context" rows="3" placeholder="aws:SourceIp|ip=10.0.0.1" { (q.context) } }
                button type="submit" { "Simulate" }
            }
            @match &outcome {
                None => {},
                Some(Err(e)) => p.error { (e) },
                Some(Ok(results)) => {
                    h2 { "Results" }
                    table id="sim-results" {
                        thead { tr { th { "Action" } th { "Resource" } th { "Decision" } th { "Matched statements" } th { "Missing context values" } } }
                        tbody { @for r in results { tr {
                            td.mono { (r.action) } td.mono { (r.resource) }
                            td { span class={ "badge " @if r.decision == "allowed" { "allow" } @else { "deny" } } { (r.decision) } }
                            td { (r.matched.join(", ")) } td { (r.missing.join(", ")) }
                        } } }
                    }
                },
            }
        },
    )
}

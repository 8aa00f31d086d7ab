//! Data-driven evaluator tests: every `tests/corpus/*.json` file holds groups of policies and
//! requests with the expected decision (and optionally reason, matched Sids, missing keys).
//!
//! File format:
//! ```text
//! { "description": "...",
//!   "groups": [ { "name": "...",
//!       "identity": [policy, ...], "boundary": [policy, ...], "session": [policy, ...],
//!       "resource_policy": policy, "resource_account": "444455556666",
//!       "principal": "arn:..." | "service:NAME" | "federated:PROVIDER" | "anonymous" | {..},
//!       "context": {"key": "value" | ["v1", "v2"]}, "principal_keys": true,
//!       "cases": [ { "name": "...", "action": "...", "resource": "...", "context": {..},
//!                    "principal": .., "decision": "Allow|ExplicitDeny|ImplicitDeny",
//!                    "reason": "NoIdentityAllow", "matched": ["Sid", ...],
//!                    "missing": ["key", ...] } ] } ] }
//! ```
//! A policy is a JSON object (serialised as is) or a string (the exact document text).
//! The default principal is `arn:aws:iam::111122223333:user/alice`.

use localiam_policy::{
    evaluate, Context, EvalInput, Policy, PolicyRef, Principal, PrincipalKind, Request, SourceType,
};
use serde_json::Value;

const DEFAULT_PRINCIPAL: &str = "arn:aws:iam::111122223333:user/alice";

fn policy_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn policies(v: Option<&Value>, what: &str) -> Option<Vec<Policy>> {
    let v = v?;
    let list: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    Some(
        list.into_iter()
            .map(|p| {
                Policy::parse(&policy_text(p))
                    .unwrap_or_else(|e| panic!("{what} policy does not parse: {e}: {p}"))
            })
            .collect(),
    )
}

fn principal(v: &Value) -> Principal {
    match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("service:") {
                Principal::service(name)
            } else if let Some(name) = s.strip_prefix("federated:") {
                Principal::federated(name)
            } else if s == "anonymous" {
                Principal::anonymous()
            } else {
                let mut p = Principal::from_arn(s).unwrap_or_else(|| panic!("bad principal {s}"));
                if p.user_id.is_empty() {
                    p.user_id = match p.kind {
                        PrincipalKind::User => "AIDAEXAMPLEUSERID".into(),
                        PrincipalKind::AssumedRole => {
                            format!("AROAEXAMPLEROLEID:{}", s.rsplit('/').next().unwrap_or(""))
                        }
                        _ => p.account.clone(),
                    };
                }
                p
            }
        }
        Value::Object(o) => {
            let mut p = principal(o.get("arn").expect("principal.arn"));
            if let Some(r) = o.get("role_arn").and_then(Value::as_str) {
                p.role_arn = Some(r.to_string());
            }
            if let Some(u) = o.get("user_id").and_then(Value::as_str) {
                p.user_id = u.to_string();
            }
            if let Some(Value::Object(tags)) = o.get("tags") {
                for (k, v) in tags {
                    p.tags
                        .push((k.clone(), v.as_str().unwrap_or_default().to_string()));
                }
            }
            p
        }
        other => panic!("bad principal {other}"),
    }
}

fn fill_context(ctx: &mut Context, v: Option<&Value>) {
    if let Some(Value::Object(map)) = v {
        for (k, v) in map {
            match v {
                Value::Array(items) => {
                    ctx.insert_many(
                        k,
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string).unwrap_or(i.to_string()))
                            .collect(),
                    );
                }
                Value::Null => ctx.remove(k),
                Value::String(s) => {
                    ctx.insert(k, s.clone());
                }
                other => {
                    ctx.insert(k, other.to_string());
                }
            }
        }
    }
}

fn refs<'a>(
    list: &'a Option<Vec<Policy>>,
    source: SourceType,
    ids: &'a [String],
) -> Vec<PolicyRef<'a>> {
    list.iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| PolicyRef::new(&ids[i], source, p))
        .collect()
}

/// `refs`, each with its statements for the action in `lists` (`PolicyRef::only`).
fn with_only<'a>(refs: &[PolicyRef<'a>], lists: &'a [Vec<u32>]) -> Vec<PolicyRef<'a>> {
    refs.iter()
        .zip(lists)
        .map(|(r, l)| PolicyRef {
            only: Some(l.as_slice()),
            ..*r
        })
        .collect()
}

#[test]
fn corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let ids: Vec<String> = (0..32).map(|i| format!("policy-{i}")).collect();
    let mut total = 0usize;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", file.display()));
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        for group in doc["groups"].as_array().expect("groups") {
            let gname = group["name"].as_str().unwrap_or("?");
            let identity = policies(group.get("identity"), "identity");
            let boundary = policies(group.get("boundary"), "boundary");
            let session = policies(group.get("session"), "session");
            let resource = policies(group.get("resource_policy"), "resource");
            let id_refs = refs(&identity, SourceType::CustomerManaged, &ids);
            let b_refs = refs(&boundary, SourceType::PermissionsBoundary, &ids);
            let s_refs = refs(&session, SourceType::SessionPolicy, &ids);
            let r_refs = refs(&resource, SourceType::ResourcePolicy, &ids);
            for case in group["cases"].as_array().expect("cases") {
                total += 1;
                let cname = case["name"].as_str().unwrap_or("?");
                let label = format!("{fname} / {gname} / {cname}");
                let pv = case
                    .get("principal")
                    .or(group.get("principal"))
                    .cloned()
                    .unwrap_or(Value::String(DEFAULT_PRINCIPAL.into()));
                let p = principal(&pv);
                let mut ctx = Context::new();
                fill_context(&mut ctx, group.get("context"));
                fill_context(&mut ctx, case.get("context"));
                let principal_keys = case
                    .get("principal_keys")
                    .or(group.get("principal_keys"))
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                if principal_keys {
                    ctx.add_principal_keys(&p);
                }
                let request = Request {
                    principal: &p,
                    action: case["action"].as_str().expect("action"),
                    resource: case["resource"].as_str().unwrap_or("*"),
                    context: &ctx,
                };
                let input = EvalInput {
                    request,
                    identity: &id_refs,
                    boundary: boundary.as_ref().map(|_| b_refs.as_slice()),
                    session: session.as_ref().map(|_| s_refs.as_slice()),
                    resource_policy: r_refs.first().copied(),
                    resource_account: group.get("resource_account").and_then(Value::as_str),
                };
                let eval = evaluate(&input);
                // The same, each policy's statements for the action found first.
                {
                    let action = request.action;
                    let lists: Vec<Vec<Vec<u32>>> = [&id_refs, &b_refs, &s_refs, &r_refs]
                        .iter()
                        .map(|refs| {
                            refs.iter()
                                .map(|r| r.policy.statements_for(action))
                                .collect()
                        })
                        .collect();
                    let (i2, b2, s2, r2) = (
                        with_only(&id_refs, &lists[0]),
                        with_only(&b_refs, &lists[1]),
                        with_only(&s_refs, &lists[2]),
                        with_only(&r_refs, &lists[3]),
                    );
                    let narrowed = EvalInput {
                        identity: &i2,
                        boundary: input.boundary.map(|_| b2.as_slice()),
                        session: input.session.map(|_| s2.as_slice()),
                        resource_policy: r2.first().copied(),
                        ..input
                    };
                    if evaluate(&narrowed) != eval {
                        failures.push(format!(
                            "{label}: the evaluation differs with the statements for the action given"
                        ));
                    }
                }
                let want = case["decision"].as_str().expect("decision");
                if eval.decision.as_str() != want {
                    failures.push(format!(
                        "{label}: decision {} ({}), expected {want}",
                        eval.decision.as_str(),
                        eval.reason.as_str()
                    ));
                    continue;
                }
                if let Some(r) = case.get("reason").and_then(Value::as_str) {
                    if eval.reason.as_str() != r {
                        failures.push(format!(
                            "{label}: reason {}, expected {r}",
                            eval.reason.as_str()
                        ));
                    }
                }
                if let Some(Value::Array(m)) = case.get("matched") {
                    let got: Vec<String> = eval
                        .matched
                        .iter()
                        .map(|m| m.sid.unwrap_or("").to_string())
                        .collect();
                    let want: Vec<String> = m
                        .iter()
                        .map(|s| s.as_str().unwrap_or("").to_string())
                        .collect();
                    if got != want {
                        failures.push(format!("{label}: matched {got:?}, expected {want:?}"));
                    }
                }
                if let Some(Value::Array(m)) = case.get("missing") {
                    let want: Vec<String> = m
                        .iter()
                        .map(|s| s.as_str().unwrap_or("").to_string())
                        .collect();
                    if eval.missing_context_keys != want {
                        failures.push(format!(
                            "{label}: missing {:?}, expected {want:?}",
                            eval.missing_context_keys
                        ));
                    }
                }
            }
        }
    }
    println!("{total} corpus cases in {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} of {total} corpus cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 300, "corpus has only {total} cases");
}

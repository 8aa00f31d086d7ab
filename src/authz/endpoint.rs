//! `POST /_localiam/authorize` (design notes §2): the policy evaluator for any service's action,
//! for a principal localiam holds (by ARN or access key ID), with its stored policies, an
//! optional resource-based policy and a context — so other local services can ask localiam.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::activity::EntityKind;
use crate::policy::{
    access_denied_message, evaluate, Context, EvalInput, Policy, PolicyRef, Principal, Request,
    SourceType,
};
use crate::state::App;
use crate::store::model::{Account, Model, SessionKind};

use super::{role_policies, user_policies, AppliedPolicies};

/// What the endpoint takes.
#[derive(Debug, Deserialize)]
pub struct AuthorizeRequest {
    /// An IAM user, role or assumed-role ARN, the root ARN, or an access key ID.
    pub principal: String,
    pub action: String,
    #[serde(default)]
    pub resource: Option<String>,
    /// Context keys: a string or a list of strings each.
    #[serde(default)]
    pub context: serde_json::Map<String, Value>,
    /// A resource-based policy (a JSON object or its text).
    #[serde(default)]
    pub resource_policy: Option<Value>,
}

/// A refusal of the request itself (400).
#[derive(Debug)]
pub struct BadRequest(pub String);

/// Who the principal is and what applies to it.
struct Resolved {
    principal: Principal,
    /// `None`: the root user, never limited by identity policies.
    applied: Option<AppliedPolicies>,
    session: Option<AppliedPolicies>,
    /// The user or role its use is recorded for (the access advisor): account, kind, unique ID.
    entity: Option<(String, EntityKind, String)>,
}

fn bad(m: impl Into<String>) -> BadRequest {
    BadRequest(m.into())
}

/// `arn:aws:SERVICE::ACCOUNT:KIND/PATH/NAME` → (service, account, kind, path/name).
fn split_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut p = arn.splitn(6, ':');
    let (arn_, _partition, service, _region, account, resource) = (
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
    );
    if arn_ != "arn" || account.is_empty() {
        return None;
    }
    let (kind, rest) = resource.split_once('/').unwrap_or((resource, ""));
    Some((service, account, kind, rest))
}

fn resolve(app: &App, model: &Model, who: &str) -> Result<Resolved, BadRequest> {
    let cache = &app.policies;
    let internal =
        |e: crate::error::ApiError| bad(format!("policies cannot be evaluated: {}", e.message));
    if !who.starts_with("arn:") {
        // An access key ID.
        let loc = model
            .key(who)
            .ok_or_else(|| bad(format!("unknown access key ID {who}")))?;
        let account = model.account(&loc.account_id);
        if loc.session {
            let s = account
                .sessions
                .get_by_id(who)
                .ok_or_else(|| bad(format!("unknown access key ID {who}")))?;
            return match s.kind {
                SessionKind::AssumedRole => {
                    let role = s
                        .entity_id
                        .as_deref()
                        .and_then(|id| account.roles.get_by_id(id));
                    let mut p = Principal::assumed_role(
                        &s.arn,
                        s.role_arn.as_deref().unwrap_or_default(),
                        &s.principal_id,
                    );
                    p.tags = s
                        .tags
                        .iter()
                        .map(|t| (t.key.clone(), t.value.clone()))
                        .collect();
                    let applied = match role {
                        Some(r) => role_policies(account, cache, r).map_err(internal)?,
                        None => AppliedPolicies::default(),
                    };
                    let session = (s.session_policy.is_some() || !s.policy_arns.is_empty())
                        .then(|| super::applied::session_policies(account, cache, s))
                        .transpose()
                        .map_err(internal)?;
                    Ok(Resolved {
                        principal: p,
                        applied: Some(applied),
                        session,
                        entity: role
                            .map(|r| (s.account_id.clone(), EntityKind::Role, r.role_id.clone())),
                    })
                }
                SessionKind::FederatedUser => {
                    let user = s
                        .entity_id
                        .as_deref()
                        .and_then(|id| account.users.get_by_id(id));
                    Ok(Resolved {
                        principal: Principal::from_arn(&s.arn)
                            .unwrap_or_else(|| Principal::root(&s.account_id)),
                        applied: Some(match user {
                            Some(u) => user_policies(account, cache, u).map_err(internal)?,
                            None => AppliedPolicies::default(),
                        }),
                        session: Some(
                            super::applied::session_policies(account, cache, s)
                                .map_err(internal)?,
                        ),
                        entity: user
                            .map(|u| (s.account_id.clone(), EntityKind::User, u.user_id.clone())),
                    })
                }
                // A user's or the root user's own session (GetSessionToken), or their delegated
                // credentials (GetDelegatedAccessToken), limited by the delegation's policy.
                SessionKind::User | SessionKind::Root => {
                    let mut resolved = if s.kind == SessionKind::User {
                        let arn = s.arn.clone();
                        resolve(app, model, &arn)?
                    } else {
                        Resolved {
                            principal: Principal::root(&s.account_id),
                            applied: None,
                            session: None,
                            entity: None,
                        }
                    };
                    if s.session_policy.is_some() {
                        if resolved.applied.is_none() {
                            resolved.applied = Some(AppliedPolicies::default());
                        }
                        resolved.session = Some(
                            super::applied::session_policies(account, cache, s)
                                .map_err(internal)?,
                        );
                    }
                    Ok(resolved)
                }
            };
        }
        return match &loc.user_id {
            Some(id) => {
                let u = account
                    .users
                    .get_by_id(id)
                    .ok_or_else(|| bad(format!("unknown access key ID {who}")))?;
                let arn = u.arn();
                resolve(app, model, &arn)
            }
            None => Ok(Resolved {
                principal: Principal::root(&loc.account_id),
                applied: None,
                session: None,
                entity: None,
            }),
        };
    }
    let (service, account_id, kind, path_name) =
        split_arn(who).ok_or_else(|| bad(format!("malformed principal ARN {who}")))?;
    let account = model.account(account_id);
    let name = path_name.rsplit('/').next().unwrap_or(path_name);
    let not_found = || bad(format!("no such principal {who}"));
    match (service, kind) {
        ("iam", "root") => Ok(Resolved {
            principal: Principal::root(account_id),
            applied: None,
            session: None,
            entity: None,
        }),
        ("iam", "user") => {
            let u = account.users.get(name).ok_or_else(not_found)?;
            let mut p = Principal::user(&u.arn(), &u.user_id);
            p.username = Some(u.name.clone());
            p.tags = u.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
            Ok(Resolved {
                principal: p,
                applied: Some(user_policies(account, cache, u).map_err(internal)?),
                session: None,
                entity: Some((account_id.to_string(), EntityKind::User, u.user_id.clone())),
            })
        }
        ("iam", "role") => role_principal(app, account_id, account, name, &format!("arn:aws:sts::{account_id}:assumed-role/{name}/localiam"))
            .ok_or_else(not_found)?,
        ("sts", "assumed-role") => {
            let role = path_name.split('/').next().unwrap_or_default();
            role_principal(app, account_id, account, role, who).ok_or_else(not_found)?
        }
        _ => Err(bad(format!(
            "unsupported principal {who}: give a user, role, assumed-role or root ARN, or an access key ID"
        ))),
    }
}

fn role_principal(
    app: &App,
    account_id: &str,
    account: &Account,
    role_name: &str,
    session_arn: &str,
) -> Option<Result<Resolved, BadRequest>> {
    let r = account.roles.get(role_name)?;
    let session_name = session_arn.rsplit('/').next().unwrap_or("localiam");
    let mut p = Principal::assumed_role(
        session_arn,
        &r.arn(),
        &format!("{}:{session_name}", r.role_id),
    );
    p.tags = r
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    Some(
        role_policies(account, &app.policies, r)
            .map(|applied| Resolved {
                principal: p,
                applied: Some(applied),
                session: None,
                entity: Some((account_id.to_string(), EntityKind::Role, r.role_id.clone())),
            })
            .map_err(|e| bad(format!("policies cannot be evaluated: {}", e.message))),
    )
}

fn context_of(map: &serde_json::Map<String, Value>) -> Result<Context, BadRequest> {
    let mut c = Context::new();
    for (k, v) in map {
        let values = match v {
            Value::String(s) => vec![s.clone()],
            Value::Bool(b) => vec![b.to_string()],
            Value::Number(n) => vec![n.to_string()],
            Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s.clone()),
                    Value::Bool(b) => Ok(b.to_string()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(bad(format!("context key {k}: values must be strings"))),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(bad(format!(
                    "context key {k}: a string or a list of strings"
                )))
            }
        };
        c.insert_many(k, values);
    }
    Ok(c)
}

/// An `Allow` is a use of the action by the principal's user or role (the access advisor), from
/// the context's `aws:RequestedRegion` (else us-east-1).
fn record_allow(app: &App, resolved: &Resolved, action: &str, context: &Context) {
    let (Some((account, kind, id)), Some((namespace, name))) =
        (&resolved.entity, super::reference::canonical_action(action))
    else {
        return;
    };
    let region = context
        .get("aws:RequestedRegion")
        .and_then(|v| v.first())
        .map_or("us-east-1", String::as_str);
    app.activity.record(
        account,
        *kind,
        id,
        namespace,
        name,
        time::OffsetDateTime::now_utc().unix_timestamp(),
        region,
    );
}

/// Decides the request; the answer's JSON.
pub fn authorize(app: &App, req: &AuthorizeRequest) -> Result<Value, BadRequest> {
    let action = req.action.trim();
    if super::reference::canonical_action(action).is_none() {
        return Err(bad(format!(
            "unknown action {action}: not an action of AWS's Service Authorization Reference"
        )));
    }
    let resource = req.resource.as_deref().unwrap_or("*");
    let well_formed = {
        let parts: Vec<&str> = resource.splitn(6, ':').collect();
        parts.len() == 6 && parts[0] == "arn" && !parts[1].is_empty() && !parts[2].is_empty()
    };
    if resource != "*" && !well_formed {
        return Err(bad(format!("malformed resource ARN {resource}")));
    }
    let resource_policy = match &req.resource_policy {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => Some(v.to_string()),
    }
    .map(|text| Policy::parse(&text).map_err(|e| bad(format!("resource_policy: {e}"))))
    .transpose()?;

    let model = app.store.read();
    let resolved = resolve(app, &model, &req.principal)?;
    let mut context = context_of(&req.context)?;
    context.add_principal_keys(&resolved.principal);
    let request = Request {
        principal: &resolved.principal,
        action,
        resource,
        context: &context,
    };
    let Some(applied) = &resolved.applied else {
        return Ok(json!({
            "decision": "Allow",
            "reason": "the root user is not limited by policies",
            "matched": [],
        }));
    };
    let identity = applied.identity_refs();
    let boundary = applied.boundary_refs();
    let session = resolved.session.as_ref().map(|s| s.identity_refs());
    let mut input = EvalInput::new(request, &identity);
    input.boundary = boundary.as_deref();
    input.session = session.as_deref();
    input.resource_policy = resource_policy
        .as_ref()
        .map(|p| PolicyRef::new("resource_policy", SourceType::ResourcePolicy, p));
    input.resource_account = resource
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty() && resource.starts_with("arn:"));
    let eval = evaluate(&input);
    if eval.allowed() {
        record_allow(app, &resolved, action, &context);
    }
    let matched: Vec<Value> = eval
        .matched
        .iter()
        .map(|m| {
            json!({
                "policy": m.source_id,
                "source": m.source.simulator_name(),
                "statement": m.index,
                "sid": m.sid,
                "effect": m.effect.as_str(),
            })
        })
        .collect();
    let mut out = json!({
        "decision": eval.decision.as_str(),
        "principal": resolved.principal.arn,
        "action": action,
        "resource": resource,
        "matched": matched,
        "missing_context_keys": eval.missing_context_keys,
    });
    if !eval.allowed() {
        out["reason"] = Value::String(eval.reason.message_tail(action));
        out["message"] = Value::String(access_denied_message(
            &resolved.principal.arn,
            action,
            resource,
            eval.reason,
        ));
    }
    Ok(out)
}

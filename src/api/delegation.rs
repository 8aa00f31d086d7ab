//! IAM temporary delegation: CreateDelegationRequest, GetDelegationRequest,
//! ListDelegationRequests, AssociateDelegationRequest, UpdateDelegationRequest,
//! AcceptDelegationRequest, RejectDelegationRequest, SendDelegationToken, and the redemption of the
//! exchange token by STS's GetDelegatedAccessToken ([`redeem`]).
//!
//! The workflow (AWS's request lifecycle): a partner account (the requestor) creates a request for
//! the permissions of a policy template, optionally for one customer account (the owner account);
//! an identity of the customer associates it (`UNASSIGNED` → `ASSIGNED`, it becomes the owner),
//! may forward it for approval (`PENDING_APPROVAL`), accepts it (`ACCEPTED`, recording itself as
//! the identity the credentials will act as) or rejects it (`REJECTED`), and releases the exchange
//! token (`FINALIZED`). The partner trades the token for credentials with GetDelegatedAccessToken
//! until `SessionDuration` seconds after the release. A request expires after a day unassigned,
//! after seven days in any other state without action.
//!
//! What localiam cannot have, it takes from what it has:
//! * Partner registration: every account may create requests. The policy template is a managed
//!   policy the requestor can see (its own customer managed policy, or an AWS managed one); its
//!   default version is rendered with the request's parameters (`@{name}` substitution, list
//!   parameters expanding to every combination, `@Enabled` statements), as AWS renders templates.
//! * SNS: the notifications IAM would publish to the request's topic (state changes, and the
//!   exchange token) are kept with the request and served by `GET /_localiam/notifications`.
//!
//! Requests span accounts: they are kept in [`SHARED_ACCOUNT`] and found by ID from any account.
//! An account that is neither the requestor nor the owner account (once one is set) is refused
//! with `AccessDenied`.

use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use crate::api::common::*;
use crate::api::sts::{calling_session, insert_session};
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind as CallerKind;
use crate::error::ApiError;
use crate::policy::validate::{validate, PolicyKind};
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{
    Account, DelegationApprover, DelegationNotification, DelegationRequest, DelegationState, Model,
    Session, SessionKind, TemplateParameter, SHARED_ACCOUNT,
};
use crate::store::{ids, StoreError};

/// The largest rendered permission policy (AWS's limit on templates' final policies).
const MAX_RENDERED_POLICY: usize = 2048;
/// The longest session the root user may approve (4 hours).
const ROOT_MAX_APPROVAL_SECONDS: i32 = 14_400;
/// The longest `RequestorName` (the requestor account's alias is used when it fits).
const MAX_REQUESTOR_NAME: usize = 30;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateDelegationRequest, _, _>(create_delegation_request);
    r.iam::<iam::GetDelegationRequest, _, _>(get_delegation_request);
    r.iam::<iam::ListDelegationRequests, _, _>(list_delegation_requests);
    r.iam::<iam::AssociateDelegationRequest, _, _>(associate_delegation_request);
    r.iam::<iam::UpdateDelegationRequest, _, _>(update_delegation_request);
    r.iam::<iam::AcceptDelegationRequest, _, _>(accept_delegation_request);
    r.iam::<iam::RejectDelegationRequest, _, _>(reject_delegation_request);
    r.iam::<iam::SendDelegationToken, _, _>(send_delegation_token);
    r.iam::<iam::GetHumanReadableSummary, _, _>(get_human_readable_summary);
}

// ---------------------------------------------------------------------------------------------
// Errors

fn no_such_request(id: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "The delegation request with ID {id} cannot be found."
    ))
}

/// The refusal of an account the request is not for.
fn not_authorized(ctx: &Ctx, operation: &str, id: &str) -> ApiError {
    ApiError::access_denied(format!(
        "User: {} is not authorized to perform: iam:{operation} on resource: {}",
        ctx.principal.arn,
        request_arn(ctx.account(), id)
    ))
}

/// A request in a state the operation does not apply to.
fn wrong_state(r: &DelegationRequest, state: DelegationState, operation: &str) -> String {
    format!(
        "The delegation request {} is in state {} and cannot be {operation}.",
        r.id,
        state.as_str()
    )
}

/// `arn:aws:iam::ACCOUNT:delegation-request/ID`, as AWS's Service Authorization Reference renders
/// the resource (with the caller's account).
pub fn request_arn(account: &str, id: &str) -> String {
    format!("arn:aws:iam::{account}:delegation-request/{id}")
}

// ---------------------------------------------------------------------------------------------
// Policy templates

/// The request's template parameters, checked: names unique, a `string` parameter has exactly one
/// value, a `stringList` at least one.
fn template_parameters(p: &iam::DelegationPermission) -> Result<Vec<TemplateParameter>, ApiError> {
    let mut out: Vec<TemplateParameter> = Vec::new();
    for given in p.parameters.iter().flatten() {
        let name = given.name.clone().ok_or_else(|| {
            ApiError::invalid_input("Every policy template parameter must have a name.")
        })?;
        if out.iter().any(|q| q.name == name) {
            return Err(ApiError::invalid_input(format!(
                "The policy template parameter {name} is given more than once."
            )));
        }
        let values = given.values.clone().unwrap_or_default();
        let kind = given.type_.clone().unwrap_or_else(|| "string".to_string());
        match (kind.as_str(), values.len()) {
            ("string", 1) => {}
            ("string", _) => {
                return Err(ApiError::invalid_input(format!(
                    "The policy template parameter {name} of type string must have exactly one value."
                )))
            }
            (_, 0) => {
                return Err(ApiError::invalid_input(format!(
                    "The policy template parameter {name} of type stringList must have at least one value."
                )))
            }
            _ => {}
        }
        out.push(TemplateParameter { name, values, kind });
    }
    Ok(out)
}

/// A template string with every `@{name}` replaced: one string per combination of the values of
/// the parameters it names (a `stringList` parameter expands to each of its values).
fn expand(s: &str, params: &[TemplateParameter]) -> Result<Vec<String>, ApiError> {
    let mut out = vec![String::new()];
    let mut rest = s;
    while let Some(at) = rest.find("@{") {
        let Some(len) = rest[at + 2..].find('}') else {
            break;
        };
        let name = &rest[at + 2..at + 2 + len];
        let literal = &rest[..at];
        let p = params.iter().find(|p| p.name == name).ok_or_else(|| {
            ApiError::invalid_input(format!(
                "The policy template requires the parameter {name}, which the request does not give."
            ))
        })?;
        out = out
            .iter()
            .flat_map(|head| p.values.iter().map(move |v| format!("{head}{literal}{v}")))
            .collect();
        rest = &rest[at + 2 + len + 1..];
    }
    for o in &mut out {
        o.push_str(rest);
    }
    Ok(out)
}

/// A template value with its strings expanded: a string that expands to several values becomes
/// an array of them, and an array takes the expansions of its strings in place.
fn render_value(v: &Value, params: &[TemplateParameter]) -> Result<Value, ApiError> {
    Ok(match v {
        Value::String(s) => {
            let mut all = expand(s, params)?;
            if all.len() == 1 {
                Value::String(all.remove(0))
            } else {
                Value::Array(all.into_iter().map(Value::String).collect())
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => {
                        out.extend(expand(s, params)?.into_iter().map(Value::String))
                    }
                    other => out.push(render_value(other, params)?),
                }
            }
            Value::Array(out)
        }
        Value::Object(members) => {
            let mut out = serde_json::Map::new();
            for (k, v) in members {
                out.insert(k.clone(), render_value(v, params)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Whether a statement's `@Enabled` directive (`"NAME"` or `"!NAME"`) keeps it: the parameter's
/// value is `True`, or (negated) is not.
fn enabled(directive: &Value, params: &[TemplateParameter]) -> Result<bool, ApiError> {
    let d = directive.as_str().unwrap_or_default();
    let (negated, name) = match d.strip_prefix('!') {
        Some(n) => (true, n),
        None => (false, d),
    };
    let p = params.iter().find(|p| p.name == name).ok_or_else(|| {
        ApiError::invalid_input(format!(
            "The policy template requires the parameter {name}, which the request does not give."
        ))
    })?;
    let on = p.values.iter().any(|v| v == "True");
    Ok(on != negated)
}

/// A template's statements rendered: those whose `@Enabled` directive says so left out, the
/// others with their strings expanded (a single statement stays one).
fn render_statements(statements: Value, params: &[TemplateParameter]) -> Result<Value, ApiError> {
    let single = statements.is_object();
    let list = match statements {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut kept = Vec::with_capacity(list.len());
    for mut st in list {
        if let Some(directive) = st.as_object_mut().and_then(|o| o.remove("@Enabled")) {
            if !enabled(&directive, params)? {
                continue;
            }
        }
        kept.push(render_value(&st, params)?);
    }
    Ok(if single && kept.len() == 1 {
        kept.remove(0)
    } else {
        Value::Array(kept)
    })
}

/// The permission policy a template renders to with these parameters, checked as IAM checks
/// identity policies and against AWS's 2,048-character limit on rendered policies.
pub fn render_template(template: &str, params: &[TemplateParameter]) -> Result<String, ApiError> {
    let bad_template =
        || ApiError::invalid_input("The policy template is not a valid policy document.");
    let doc: Value = serde_json::from_str(template).map_err(|_| bad_template())?;
    let Value::Object(members) = doc else {
        return Err(bad_template());
    };
    let mut out = serde_json::Map::new();
    for (key, value) in members {
        let rendered = if key == "Statement" {
            render_statements(value, params)?
        } else {
            render_value(&value, params)?
        };
        out.insert(key, rendered);
    }
    let rendered = Value::Object(out).to_string();
    validate(&rendered, PolicyKind::Identity).map_err(|e| ApiError::invalid_input(e.message))?;
    if rendered.chars().count() > MAX_RENDERED_POLICY {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for PolicySize: {MAX_RENDERED_POLICY}"
        )));
    }
    Ok(rendered)
}

/// The permissions boundaries a rendered policy requires of the roles it lets the partner create
/// (the values of its `iam:PermissionsBoundary` conditions).
fn permissions_boundaries(policy: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return out;
    };
    for st in statements(&doc) {
        let Some(conditions) = st.get("Condition").and_then(Value::as_object) else {
            continue;
        };
        for keys in conditions.values().filter_map(Value::as_object) {
            for (k, v) in keys {
                if !k.eq_ignore_ascii_case("iam:PermissionsBoundary") {
                    continue;
                }
                let values: Vec<&str> = match v {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                for s in values {
                    if !out.iter().any(|o| o == s) {
                        out.push(s.to_string());
                    }
                }
            }
        }
    }
    out
}

/// The statements of a policy document (one or a list).
fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// The template's document: the default version of a managed policy the requestor can see.
fn template_document(account: &Account, arn: &str) -> Result<String, ApiError> {
    account
        .policy_by_arn(arn)
        .and_then(|p| p.default_version())
        .map(|v| v.document.clone())
        .ok_or_else(|| {
            ApiError::invalid_input(format!("The policy template {arn} cannot be found."))
        })
}

/// The notification channel must be an SNS topic of the requestor's own account.
fn check_notification_channel(channel: &str, requestor: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = channel.split(':').collect();
    let is_topic = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty();
    if !is_topic {
        return Err(ApiError::invalid_input(
            "The notification channel must be the ARN of an Amazon SNS topic.",
        ));
    }
    if parts[4] != requestor {
        return Err(ApiError::invalid_input(
            "The notification channel must be an Amazon SNS topic of the requesting account.",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Notifications

/// ISO 8601 with milliseconds (`2025-01-15T10:30:00.123Z`), as IAM's notifications write times.
fn iso_millis(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// The `Message` of a notification about `r` in `state` at `at`.
fn notification_message(
    r: &DelegationRequest,
    state: DelegationState,
    at: OffsetDateTime,
) -> String {
    let mut m = serde_json::json!({
        "Type": "StateChange",
        "RequestId": r.id,
        "RequestorWorkflowId": r.requestor_workflow_id,
        "State": state.as_str(),
        "OwnerAccountId": r.owner_account_id,
        "UpdatedAt": iso_millis(at),
    });
    if state == DelegationState::Finalized {
        if let (Some(token), Some(exp)) = (&r.exchange_token, r.token_expiration) {
            m["Type"] = Value::from("ExchangeToken");
            m["ExchangeToken"] = Value::from(token.clone());
            m["ExpiresAt"] = Value::from(iso_millis(ts(exp)));
        }
    }
    m.to_string()
}

/// How long a request is kept once it has expired and its exchange token can no longer be
/// redeemed (README, "Long runs"): then it is forgotten, with its notifications.
pub const EXPIRED_REQUEST_KEPT_SECONDS: i64 = 86_400;

/// Forgets the requests over [`EXPIRED_REQUEST_KEPT_SECONDS`] past their end (the background
/// chores, every minute).
pub async fn prune_expired(app: &App, now: OffsetDateTime) {
    let before = now.unix_timestamp() - EXPIRED_REQUEST_KEPT_SECONDS;
    let ended = |r: &DelegationRequest| {
        r.expiration().max(r.token_expiration.unwrap_or(i64::MIN)) <= before
    };
    let gone: Vec<String> = app
        .store
        .read()
        .account(SHARED_ACCOUNT)
        .delegation_requests
        .iter()
        .filter(|r| ended(r))
        .map(|r| r.id.clone())
        .collect();
    if gone.is_empty() {
        return;
    }
    let result = app
        .store
        .write(move |tx| {
            for id in &gone {
                let _ = tx.remove::<DelegationRequest>(SHARED_ACCOUNT, id);
            }
            Ok::<_, StoreError>(())
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not forget ended delegation requests");
    }
}

/// Records the notification of `r`'s new state (and, when finalized, the exchange token's).
fn notify(r: &mut DelegationRequest, at: OffsetDateTime) {
    let state = r.state;
    let mut change = r.clone();
    change.exchange_token = None;
    let mut messages = vec![notification_message(&change, state, at)];
    if state == DelegationState::Finalized && r.exchange_token.is_some() {
        messages.push(notification_message(r, state, at));
    }
    let timestamp_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    r.notifications
        .extend(messages.into_iter().map(|message| DelegationNotification {
            message_id: uuid::Uuid::new_v4().to_string(),
            timestamp_ms,
            message,
        }));
}

/// Every notification IAM would have published for the delegation requests, oldest first, as SNS
/// delivers them (`Type`, `MessageId`, `TopicArn`, `Message`, `Timestamp`); `topic` keeps one
/// topic's. A request that expired gets its `EXPIRED` notification at its expiry.
pub fn notifications(model: &Model, topic: Option<&str>, now: i64) -> Vec<Value> {
    let mut out: Vec<(i64, Value)> = Vec::new();
    for r in model.account(SHARED_ACCOUNT).delegation_requests.iter() {
        if topic.is_some_and(|t| t != r.notification_channel) {
            continue;
        }
        let envelope = |id: &str, ms: i64, message: String| {
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            serde_json::json!({
                "Type": "Notification",
                "MessageId": id,
                "TopicArn": r.notification_channel,
                "Message": message,
                "Timestamp": iso_millis(at),
            })
        };
        for n in &r.notifications {
            out.push((
                n.timestamp_ms,
                envelope(&n.message_id, n.timestamp_ms, n.message.clone()),
            ));
        }
        if r.state_at(now) == DelegationState::Expired {
            let at = r.expiration();
            let mut expired = (**r).clone();
            expired.exchange_token = None;
            let message = notification_message(&expired, DelegationState::Expired, ts(at));
            let ms = at.saturating_mul(1000);
            out.push((ms, envelope(&format!("{}-expired", r.id), ms, message)));
        }
    }
    out.sort_by_key(|(ms, _)| *ms);
    out.into_iter().map(|(_, v)| v).collect()
}

// ---------------------------------------------------------------------------------------------
// Shapes

fn shape(r: &DelegationRequest, now: i64) -> iam::DelegationRequest {
    iam::DelegationRequest {
        delegation_request_id: Some(r.id.clone()),
        owner_account_id: r.owner_account_id.clone(),
        description: Some(r.description.clone()),
        request_message: r.request_message.clone(),
        permissions: Some(iam::DelegationPermission {
            policy_template_arn: Some(r.policy_template_arn.clone()),
            parameters: (!r.parameters.is_empty()).then(|| {
                r.parameters
                    .iter()
                    .map(|p| iam::PolicyParameter {
                        name: Some(p.name.clone()),
                        values: Some(p.values.clone()),
                        type_: Some(p.kind.clone()),
                    })
                    .collect()
            }),
        }),
        permission_policy: Some(r.permission_policy.clone()),
        role_permission_restriction_arns: (!r.role_permission_restriction_arns.is_empty())
            .then(|| r.role_permission_restriction_arns.clone()),
        owner_id: r.owner_id.clone(),
        approver_id: r.approver.as_ref().map(|a| a.arn.clone()),
        state: Some(r.state_at(now).as_str().to_string()),
        expiration_time: Some(ts(r.expiration())),
        requestor_id: Some(r.requestor_id.clone()),
        requestor_name: r.requestor_name.clone(),
        create_date: Some(ts(r.create_date)),
        session_duration: Some(r.session_duration),
        redirect_url: r.redirect_url.clone(),
        notes: r.notes.clone(),
        rejection_reason: r.rejection_reason.clone(),
        only_send_by_owner: Some(r.only_send_by_owner),
        updated_time: Some(ts(r.updated)),
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn create_delegation_request(
    app: App,
    ctx: Ctx,
    input: iam::CreateDelegationRequestRequest,
) -> Result<iam::CreateDelegationRequestResponse, ApiError> {
    let requestor = ctx.account().to_string();
    check_notification_channel(&input.notification_channel, &requestor)?;
    let template_arn = input
        .permissions
        .policy_template_arn
        .clone()
        .ok_or_else(|| {
            ApiError::invalid_input(
                "The permissions of a delegation request must name a policy template (PolicyTemplateArn).",
            )
        })?;
    let parameters = template_parameters(&input.permissions)?;
    let (template, requestor_name) = {
        let model = app.store.read();
        let account = model.account(&requestor);
        let name = account
            .settings()
            .and_then(|s| s.alias.clone())
            .filter(|a| a.len() <= MAX_REQUESTOR_NAME);
        (template_document(account, &template_arn)?, name)
    };
    let permission_policy = render_template(&template, &parameters)?;
    let now = ctx.now.unix_timestamp();
    let request = DelegationRequest {
        account_id: SHARED_ACCOUNT.to_string(),
        id: ids::delegation_request_id(),
        requestor_id: requestor.clone(),
        requestor_name,
        requestor_workflow_id: input.requestor_workflow_id,
        owner_account_id: input.owner_account_id,
        owner_id: None,
        approver: None,
        description: input.description,
        request_message: input.request_message,
        policy_template_arn: template_arn,
        parameters,
        role_permission_restriction_arns: permissions_boundaries(&permission_policy),
        permission_policy,
        redirect_url: input.redirect_url,
        notification_channel: input.notification_channel,
        session_duration: input.session_duration,
        only_send_by_owner: input.only_send_by_owner.unwrap_or(false),
        state: DelegationState::Unassigned,
        notes: None,
        rejection_reason: None,
        create_date: now,
        updated: now,
        exchange_token: None,
        token_expiration: None,
        notifications: Vec::new(),
    };
    let id = app
        .store
        .write(move |tx| {
            let taken = tx
                .account(SHARED_ACCOUNT)
                .delegation_requests
                .iter()
                .any(|r| {
                    r.requestor_id == request.requestor_id
                        && r.requestor_workflow_id == request.requestor_workflow_id
                });
            if taken {
                return Err(ApiError::already_exists(format!(
                    "A delegation request with the requestor workflow ID {} already exists.",
                    request.requestor_workflow_id
                )));
            }
            let r = tx.insert(request).map_err(|e| match e {
                StoreError::UniqueViolation(_) => {
                    ApiError::internal("delegation request ID collision")
                }
                other => other.into(),
            })?;
            Ok(r.id.clone())
        })
        .await?;
    Ok(iam::CreateDelegationRequestResponse {
        console_deep_link: Some(format!(
            "https://console.aws.amazon.com/iam/home#/temporary-delegation-requests/{id}"
        )),
        delegation_request_id: Some(id),
    })
}

/// The request with that ID, if the caller's account may see it: the requestor's, a request for
/// no account in particular, or one for the caller's account.
fn visible(
    model: &Model,
    ctx: &Ctx,
    operation: &str,
    id: &str,
) -> Result<Arc<DelegationRequest>, ApiError> {
    let r = model
        .account(SHARED_ACCOUNT)
        .delegation_requests
        .get_by_id(id)
        .cloned()
        .ok_or_else(|| no_such_request(id))?;
    let account = ctx.account();
    if r.requestor_id == account
        || r.owner_account_id
            .as_deref()
            .is_none_or(|owner| owner == account)
    {
        Ok(r)
    } else {
        Err(not_authorized(ctx, operation, id))
    }
}

async fn get_delegation_request(
    app: App,
    ctx: Ctx,
    input: iam::GetDelegationRequestRequest,
) -> Result<iam::GetDelegationRequestResponse, ApiError> {
    let model = app.store.read();
    let r = visible(
        &model,
        &ctx,
        "GetDelegationRequest",
        &input.delegation_request_id,
    )?;
    let check = input
        .delegation_permission_check
        .unwrap_or(false)
        .then(|| permission_check(&app, &model, &ctx, &r.permission_policy));
    Ok(iam::GetDelegationRequestResponse {
        delegation_request: Some(shape(&r, ctx.now.unix_timestamp())),
        permission_check_status: check.map(|_| "COMPLETE".to_string()),
        permission_check_result: check.map(str::to_string),
    })
}

/// Whether the caller's own permissions cover the rendered policy: `ALLOWED` when they allow
/// every action on every resource it names, `DENIED` when one is refused, `UNSURE` when that
/// cannot be told (a pattern the caller holds only part of, `NotAction`/`NotResource`,
/// conditions).
fn permission_check(app: &App, model: &Model, ctx: &Ctx, policy: &str) -> &'static str {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return "UNSURE";
    };
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut unsure = false;
    for st in statements(&doc) {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        if st.get("NotAction").is_some()
            || st.get("NotResource").is_some()
            || st.get("Condition").is_some()
        {
            unsure = true;
        }
        let actions = strings(st.get("Action"));
        let resources = strings(st.get("Resource"));
        for action in &actions {
            for resource in &resources {
                // A pattern is asked as it is written: a caller allowed the whole pattern is
                // allowed; one refused it may still hold part of it.
                let wild = [action, resource]
                    .iter()
                    .any(|s| s.contains('*') || s.contains('?'));
                match crate::authz::enforce::caller_allows(app, model, ctx, action, resource) {
                    Ok(true) => {}
                    Ok(false) if !wild => return "DENIED",
                    Ok(false) | Err(_) => unsure = true,
                }
            }
        }
    }
    if unsure {
        "UNSURE"
    } else {
        "ALLOWED"
    }
}

async fn list_delegation_requests(
    app: App,
    ctx: Ctx,
    input: iam::ListDelegationRequestsRequest,
) -> Result<iam::ListDelegationRequestsResponse, ApiError> {
    let model = app.store.read();
    let account = ctx.account();
    let mut owned: Vec<&Arc<DelegationRequest>> = model
        .account(SHARED_ACCOUNT)
        .delegation_requests
        .iter()
        .filter(|r| r.owner_id.is_some() && r.owner_account_id.as_deref() == Some(account))
        .filter(|r| {
            input
                .owner_id
                .as_deref()
                .is_none_or(|o| r.owner_id.as_deref() == Some(o))
        })
        .collect();
    owned.sort_by(|a, b| (a.create_date, &a.id).cmp(&(b.create_date, &b.id)));
    let (range, marker) = page_range(
        owned.len(),
        input.marker.as_deref(),
        max_items(input.max_items),
    )?;
    let now = ctx.now.unix_timestamp();
    Ok(iam::ListDelegationRequestsResponse {
        delegation_requests: Some(owned[range].iter().map(|r| shape(r, now)).collect()),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

/// Changes the request as `f` says (given its state and the time of the call), after checking it
/// is the caller's to act on: visible to the caller's account and, once the request has an owner
/// account, the caller's account is it.
async fn change(
    app: &App,
    ctx: &Ctx,
    operation: &'static str,
    id: String,
    f: impl FnOnce(&mut DelegationRequest, DelegationState, OffsetDateTime) -> Result<(), ApiError>
        + Send
        + 'static,
) -> Result<(), ApiError> {
    let ctx = ctx.clone();
    app.store
        .write(move |tx| {
            let r = visible(tx.model(), &ctx, operation, &id)?;
            let account = ctx.account();
            if r.owner_account_id.as_deref().is_some_and(|o| o != account) {
                return Err(not_authorized(&ctx, operation, &id));
            }
            let state = r.state_at(ctx.now.unix_timestamp());
            let mut new = (*r).clone();
            f(&mut new, state, ctx.now)?;
            tx.update(SHARED_ACCOUNT, &id, |e: &mut DelegationRequest| *e = new)?;
            Ok(())
        })
        .await
}

/// Moves `r` to `state` now, with its notification.
fn transition(r: &mut DelegationRequest, state: DelegationState, now: OffsetDateTime) {
    r.state = state;
    r.updated = now.unix_timestamp();
    notify(r, now);
}

async fn associate_delegation_request(
    app: App,
    ctx: Ctx,
    input: iam::AssociateDelegationRequestRequest,
) -> Result<(), ApiError> {
    let (caller, account) = (ctx.principal.arn.clone(), ctx.account().to_string());
    let op = "AssociateDelegationRequest";
    change(
        &app,
        &ctx,
        op,
        input.delegation_request_id,
        move |r, state, now| {
            match state {
                DelegationState::Unassigned => {
                    r.owner_id = Some(caller);
                    r.owner_account_id = Some(account);
                    transition(r, DelegationState::Assigned, now);
                    Ok(())
                }
                // Associating it again is harmless for its owner.
                DelegationState::Assigned if r.owner_id.as_deref() == Some(caller.as_str()) => {
                    Ok(())
                }
                _ => Err(ApiError::invalid_input(wrong_state(r, state, "associated"))),
            }
        },
    )
    .await
}

async fn update_delegation_request(
    app: App,
    ctx: Ctx,
    input: iam::UpdateDelegationRequestRequest,
) -> Result<(), ApiError> {
    let notes = input.notes;
    let op = "UpdateDelegationRequest";
    change(
        &app,
        &ctx,
        op,
        input.delegation_request_id,
        move |r, state, now| match state {
            DelegationState::Assigned | DelegationState::PendingApproval => {
                if notes.is_some() {
                    r.notes = notes;
                }
                if state == DelegationState::Assigned {
                    transition(r, DelegationState::PendingApproval, now);
                } else {
                    r.updated = now.unix_timestamp();
                }
                Ok(())
            }
            _ => Err(ApiError::invalid_input(wrong_state(r, state, "updated"))),
        },
    )
    .await
}

/// The identity that calls: what the delegated credentials will act as.
fn approver_of(app: &App, ctx: &Ctx) -> DelegationApprover {
    let p = &ctx.principal;
    let session = calling_session(app, ctx);
    let kind = match p.kind {
        CallerKind::Root => SessionKind::Root,
        CallerKind::User => SessionKind::User,
        CallerKind::AssumedRole => SessionKind::AssumedRole,
        CallerKind::FederatedUser => SessionKind::FederatedUser,
    };
    DelegationApprover {
        account_id: p.account_id.clone(),
        kind,
        arn: p.arn.clone(),
        principal_id: p.user_id.clone(),
        entity_id: p.entity_id.clone(),
        role_arn: session.as_ref().and_then(|s| s.role_arn.clone()),
        session_name: session.as_ref().and_then(|s| s.session_name.clone()),
    }
}

async fn accept_delegation_request(
    app: App,
    ctx: Ctx,
    input: iam::AcceptDelegationRequestRequest,
) -> Result<(), ApiError> {
    let approver = approver_of(&app, &ctx);
    let root = ctx.principal.is_root();
    let op = "AcceptDelegationRequest";
    change(&app, &ctx, op, input.delegation_request_id, move |r, state, now| {
        if !matches!(
            state,
            DelegationState::Assigned | DelegationState::PendingApproval
        ) {
            // The model of AcceptDelegationRequest has no InvalidInput.
            return Err(ApiError::new(
                "ConcurrentModification",
                http::StatusCode::CONFLICT,
                wrong_state(r, state, "accepted"),
            ));
        }
        if root && r.session_duration > ROOT_MAX_APPROVAL_SECONDS {
            return Err(ApiError::access_denied(format!(
                "The root user cannot accept a delegation request for more than {ROOT_MAX_APPROVAL_SECONDS} seconds (4 hours); accept it with an IAM identity."
            )));
        }
        r.approver = Some(approver);
        transition(r, DelegationState::Accepted, now);
        Ok(())
    })
    .await
}

async fn reject_delegation_request(
    app: App,
    ctx: Ctx,
    input: iam::RejectDelegationRequestRequest,
) -> Result<(), ApiError> {
    let notes = input.notes;
    let op = "RejectDelegationRequest";
    change(
        &app,
        &ctx,
        op,
        input.delegation_request_id,
        move |r, state, now| match state {
            DelegationState::Assigned
            | DelegationState::PendingApproval
            | DelegationState::Accepted => {
                r.rejection_reason = notes;
                transition(r, DelegationState::Rejected, now);
                Ok(())
            }
            _ => Err(ApiError::invalid_input(wrong_state(r, state, "rejected"))),
        },
    )
    .await
}

async fn send_delegation_token(
    app: App,
    ctx: Ctx,
    input: iam::SendDelegationTokenRequest,
) -> Result<(), ApiError> {
    let refused = not_authorized(&ctx, "SendDelegationToken", &input.delegation_request_id);
    let caller = ctx.principal.arn.clone();
    let op = "SendDelegationToken";
    change(
        &app,
        &ctx,
        op,
        input.delegation_request_id,
        move |r, state, now| {
            if state != DelegationState::Accepted {
                return Err(ApiError::invalid_input(wrong_state(r, state, "sent")));
            }
            if r.only_send_by_owner && r.owner_id.as_deref() != Some(caller.as_str()) {
                return Err(refused);
            }
            r.exchange_token = Some(ids::exchange_token());
            r.token_expiration = Some(
                now.unix_timestamp()
                    .saturating_add(i64::from(r.session_duration)),
            );
            transition(r, DelegationState::Finalized, now);
            Ok(())
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// GetDelegatedAccessToken

/// STS's answer to a token that is unknown, expired, or not the caller's to redeem.
fn expired_token() -> ApiError {
    ApiError::new(
        "ExpiredTradeInTokenException",
        http::StatusCode::BAD_REQUEST,
        "The trade-in token is invalid or has expired.",
    )
}

/// GetDelegatedAccessToken: the exchange token of a finalized request, redeemed by the account
/// that created the request, becomes credentials acting as the identity that accepted it, limited
/// by the rendered permission policy (a session policy), until the delegation period ends. Returns
/// the session and the assumed principal's ARN.
pub async fn redeem(app: &App, ctx: &Ctx, token: &str) -> Result<(Arc<Session>, String), ApiError> {
    let now = ctx.now.unix_timestamp();
    let (request, approver) = {
        let model = app.store.read();
        let found = model
            .account(SHARED_ACCOUNT)
            .delegation_requests
            .iter()
            .find(|r| {
                r.exchange_token
                    .as_deref()
                    .is_some_and(|t| crate::auth::secure_eq(t, token))
            })
            .cloned()
            .ok_or_else(expired_token)?;
        let approver = found.approver.clone().ok_or_else(expired_token)?;
        let usable = found.requestor_id == ctx.account()
            && found.state == DelegationState::Finalized
            && found.token_expiration.is_some_and(|e| now < e)
            && approver_exists(model.account(&approver.account_id), &approver);
        if !usable {
            return Err(expired_token());
        }
        (found, approver)
    };
    let (key, secret, session_token) = crate::api::sts::new_credentials();
    let session = Session {
        access_key_id: key,
        account_id: approver.account_id.clone(),
        secret_access_key: secret,
        session_token,
        kind: approver.kind,
        arn: approver.arn.clone(),
        principal_id: approver.principal_id.clone(),
        entity_id: approver.entity_id.clone(),
        role_arn: approver.role_arn.clone(),
        session_name: approver.session_name.clone(),
        source_identity: None,
        tags: Vec::new(),
        transitive_tag_keys: Vec::new(),
        session_policy: Some(request.permission_policy.clone()),
        policy_arns: Vec::new(),
        mfa_authenticated_at: None,
        chained: false,
        created: now,
        expiration: request.token_expiration.unwrap_or(now),
    };
    let session = insert_session(app, session, None).await?;
    Ok((session, approver.arn))
}

/// Whether the user or role the approver acted as still exists.
fn approver_exists(account: &Account, a: &DelegationApprover) -> bool {
    match a.kind {
        SessionKind::Root => true,
        SessionKind::AssumedRole => a
            .entity_id
            .as_deref()
            .is_some_and(|id| account.roles.get_by_id(id).is_some()),
        SessionKind::User | SessionKind::FederatedUser => a
            .entity_id
            .as_deref()
            .is_some_and(|id| account.users.get_by_id(id).is_some()),
    }
}

// ---------------------------------------------------------------------------------------------
// GetHumanReadableSummary

/// A summary of a delegation request (the only entity AWS summarizes), for whoever may read the
/// request (GetDelegationRequest's rules). AWS writes it with a language model; localiam writes
/// the same facts from a template: who asks, for which account, for how long, why, and each
/// statement of the rendered policy. English only: another locale is `NOT_SUPPORTED`.
async fn get_human_readable_summary(
    app: App,
    ctx: Ctx,
    input: iam::GetHumanReadableSummaryRequest,
) -> Result<iam::GetHumanReadableSummaryResponse, ApiError> {
    let arn = input.entity_arn.as_str();
    let id = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(':'))
        .filter(|(account, _)| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .map(|(_, resource)| resource);
    let id = match id {
        Some(resource) => match resource.strip_prefix("delegation-request/") {
            Some(id) if !id.is_empty() && !id.contains('/') => id,
            _ => {
                return Err(ApiError::invalid_input(format!(
                "The entity {arn} is not supported: only a delegation-request can be summarized."
            )))
            }
        },
        None => return Err(ApiError::invalid_input(format!("ARN {arn} is not valid."))),
    };
    let locale = input.locale.unwrap_or_else(|| "en-US".to_string());
    let model = app.store.read();
    let r = visible(&model, &ctx, "GetHumanReadableSummary", id)?;
    if !locale.to_ascii_lowercase().starts_with("en") {
        return Ok(iam::GetHumanReadableSummaryResponse {
            summary_content: None,
            locale: Some(locale),
            summary_state: Some("NOT_SUPPORTED".to_string()),
        });
    }
    Ok(iam::GetHumanReadableSummaryResponse {
        summary_content: Some(summary(&r, ctx.now.unix_timestamp())),
        locale: Some(locale),
        summary_state: Some("AVAILABLE".to_string()),
    })
}

/// The summary's text.
fn summary(r: &DelegationRequest, now: i64) -> String {
    let who = match &r.requestor_name {
        Some(name) => format!("{name} (account {})", r.requestor_id),
        None => format!("Account {}", r.requestor_id),
    };
    let whom = match &r.owner_account_id {
        Some(a) => format!("account {a}"),
        None => "the account that accepts it".to_string(),
    };
    let hours = f64::from(r.session_duration) / 3600.0;
    let mut out = format!(
        "{who} requests temporary access to {whom} for sessions of up to {hours:.1} hour(s). Purpose: {}",
        r.description.trim_end_matches('.')
    );
    out.push('.');
    if let Some(m) = r.request_message.as_deref().filter(|m| !m.is_empty()) {
        out.push_str(&format!(" Message from the requester: \"{m}\"."));
    }
    out.push_str(" The requested permissions:");
    let doc: Value = serde_json::from_str(&r.permission_policy).unwrap_or(Value::Null);
    let list = |v: Option<&Value>| -> String {
        match v {
            Some(Value::String(s)) => describe(s),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(describe)
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        }
    };
    for st in statements(&doc) {
        let effect = if st.get("Effect").and_then(Value::as_str) == Some("Deny") {
            "deny"
        } else {
            "allow"
        };
        let actions = match st.get("NotAction") {
            Some(na) => format!("every action except {}", list(Some(na))),
            None => list(st.get("Action")),
        };
        let resources = match st.get("NotResource") {
            Some(nr) => format!("every resource except {}", list(Some(nr))),
            None => list(st.get("Resource")),
        };
        out.push_str(&format!("\n- {effect} {actions} on {resources}"));
        if st.get("Condition").is_some() {
            out.push_str(", under conditions");
        }
        out.push('.');
    }
    if !r.role_permission_restriction_arns.is_empty() {
        out.push_str(&format!(
            "\nRoles it creates must have the permissions boundary {}.",
            r.role_permission_restriction_arns.join(" or ")
        ));
    }
    out.push_str(&format!(
        "\nThe request is {}.",
        r.state_at(now)
            .as_str()
            .to_ascii_lowercase()
            .replace('_', " ")
    ));
    out
}

/// An action or resource as a reader says it: `*` is "all".
fn describe(s: &str) -> String {
    if s == "*" {
        "all".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, values: &[&str], kind: &str) -> TemplateParameter {
        TemplateParameter {
            name: name.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
            kind: kind.to_string(),
        }
    }

    #[test]
    fn templates_render_as_aws_documents_them() {
        let template = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"},
            {"@Enabled":"ENABLE_S3_WRITE","Effect":"Allow","Action":["s3:PutObject"],
             "Resource":"arn:aws:s3:::@{bucketNames}/@{prefix}/*"}]}"#;
        let on = [
            param("bucketNames", &["bucket-1", "bucket-2"], "stringList"),
            param("prefix", &["data"], "string"),
            param("ENABLE_S3_WRITE", &["True"], "string"),
        ];
        let doc: Value = serde_json::from_str(&render_template(template, &on).unwrap()).unwrap();
        assert_eq!(
            doc["Statement"][1]["Resource"],
            serde_json::json!([
                "arn:aws:s3:::bucket-1/data/*",
                "arn:aws:s3:::bucket-2/data/*"
            ])
        );
        assert!(doc["Statement"][1].get("@Enabled").is_none());
        let off = [
            param("bucketNames", &["b"], "stringList"),
            param("prefix", &["data"], "string"),
            param("ENABLE_S3_WRITE", &["False"], "string"),
        ];
        let doc: Value = serde_json::from_str(&render_template(template, &off).unwrap()).unwrap();
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
        // A negated directive keeps the statement when the parameter is not True.
        let negated = template.replace("\"ENABLE_S3_WRITE\"", "\"!ENABLE_S3_WRITE\"");
        let doc: Value = serde_json::from_str(&render_template(&negated, &off).unwrap()).unwrap();
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);
        // A parameter the template names must be given.
        let err = render_template(template, &on[..1]).unwrap_err();
        assert_eq!(err.code, "InvalidInput");
        // Values are substituted once: one that looks like a parameter stays as it is.
        let odd = [
            param("bucketNames", &["@{prefix}"], "stringList"),
            param("prefix", &["data"], "string"),
            param("ENABLE_S3_WRITE", &["True"], "string"),
        ];
        let doc: Value = serde_json::from_str(&render_template(template, &odd).unwrap()).unwrap();
        assert_eq!(
            doc["Statement"][1]["Resource"],
            "arn:aws:s3:::@{prefix}/data/*"
        );
    }

    #[test]
    fn rendered_policies_are_checked() {
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}}}"#,
            "b".repeat(2100)
        );
        assert_eq!(
            render_template(&big, &[]).unwrap_err().code,
            "LimitExceeded"
        );
        let bad = r#"{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}"#;
        assert_eq!(render_template(bad, &[]).unwrap_err().code, "InvalidInput");
        let boundary = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*",
            "Condition":{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::111122223333:policy/B"}}}}"#;
        let rendered = render_template(boundary, &[]).unwrap();
        assert_eq!(
            permissions_boundaries(&rendered),
            ["arn:aws:iam::111122223333:policy/B"]
        );
    }

    fn request() -> DelegationRequest {
        DelegationRequest {
            account_id: SHARED_ACCOUNT.into(),
            id: "dr-x".into(),
            requestor_id: "111111111111".into(),
            requestor_name: None,
            requestor_workflow_id: "wf".into(),
            owner_account_id: None,
            owner_id: None,
            approver: None,
            description: String::new(),
            request_message: None,
            policy_template_arn: String::new(),
            parameters: Vec::new(),
            permission_policy: String::new(),
            role_permission_restriction_arns: Vec::new(),
            redirect_url: None,
            notification_channel: String::new(),
            session_duration: 900,
            only_send_by_owner: false,
            state: DelegationState::Unassigned,
            notes: None,
            rejection_reason: None,
            create_date: 1000,
            updated: 1000,
            exchange_token: None,
            token_expiration: None,
            notifications: Vec::new(),
        }
    }

    #[test]
    fn requests_expire_a_day_unassigned_and_a_week_otherwise() {
        let mut r = request();
        assert_eq!(r.state_at(1000 + 86_399), DelegationState::Unassigned);
        assert_eq!(r.state_at(1000 + 86_400), DelegationState::Expired);
        r.state = DelegationState::Assigned;
        assert_eq!(r.state_at(1000 + 86_400), DelegationState::Assigned);
        assert_eq!(r.state_at(1000 + 7 * 86_400), DelegationState::Expired);
    }

    #[test]
    fn an_expired_request_is_announced_at_its_expiry() {
        let mut model = Model::default();
        let mut ops = Vec::new();
        let mut r = request();
        r.notification_channel = "arn:aws:sns:us-east-1:111111111111:t".into();
        r.owner_account_id = Some("000000000000".into());
        r.state = DelegationState::Assigned;
        notify(&mut r, ts(1000));
        crate::store::Tx::new(&mut model, &mut ops)
            .insert(r)
            .unwrap();
        let messages = |now| -> Vec<Value> {
            notifications(&model, Some("arn:aws:sns:us-east-1:111111111111:t"), now)
                .iter()
                .map(|n| serde_json::from_str(n["Message"].as_str().unwrap()).unwrap())
                .collect()
        };
        assert_eq!(messages(2000).len(), 1);
        let later = messages(1000 + 7 * 86_400);
        assert_eq!(later.len(), 2);
        assert_eq!(later[0]["State"], "ASSIGNED");
        assert_eq!(later[1]["State"], "EXPIRED");
        assert_eq!(later[1]["UpdatedAt"], "1970-01-08T00:16:40.000Z");
        assert!(
            notifications(&model, Some("arn:aws:sns:us-east-1:111111111111:other"), 0).is_empty()
        );
    }
}

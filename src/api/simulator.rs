//! The IAM policy simulator: SimulateCustomPolicy, SimulatePrincipalPolicy,
//! GetContextKeysForCustomPolicy, GetContextKeysForPrincipalPolicy.
//!
//! Decisions come from the same evaluator and the same policy gathering ([`crate::authz`]) as
//! enforcement. What the simulator reports, following AWS's API reference:
//! * one `EvaluationResult` per action and resource (`ResourceArns` defaults to `*`), paginated
//!   with `MaxItems`/`Marker`;
//! * `MatchedStatements`: the statements that decided: the matching `Allow` statements when
//!   allowed, only the matching `Deny` statements on an explicit deny, none on an implicit deny;
//!   `SourcePolicyId` is the policy name for stored policies and `PolicyInputList.N` /
//!   `PermissionsBoundaryPolicyInputList.N` / `ResourcePolicy` for inputs (type `none`, `resource`);
//! * `MissingContextValues` in the result when the resource is `*`, else in its
//!   `ResourceSpecificResults` entry; the result's `EvalDecisionDetails` is absent for `*`, empty
//!   for a same-account resource, and for a cross-account one (in the resource-specific result
//!   too) the identity-based (`IAM Policy`) and resource-based (`Resource Policy`) decisions;
//! * `PermissionsBoundaryDecisionDetail` whenever a permissions boundary applies.
//!
//! The caller (`CallerArn`, else for SimulatePrincipalPolicy the simulated user) supplies
//! `aws:username`, `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalTag/…` unless the context
//! entries do; other keys come only from `ContextEntries`.

use std::sync::Arc;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::authz::{self, AppliedPolicies, AppliedPolicy};
use crate::error::ApiError;
use crate::policy::validate::{validate_and_parse, PolicyKind};
use crate::policy::{
    context_keys, evaluate, Context, Decision, Effect, EvalInput, Evaluation, MatchedStatement,
    Policy, Principal, PrincipalKind, Request, SourceType,
};
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, User};

pub fn register(r: &mut Registry) {
    r.iam::<iam::SimulateCustomPolicy, _, _>(simulate_custom_policy);
    r.iam::<iam::SimulatePrincipalPolicy, _, _>(simulate_principal_policy);
    r.iam::<iam::GetContextKeysForCustomPolicy, _, _>(get_context_keys_for_custom_policy);
    r.iam::<iam::GetContextKeysForPrincipalPolicy, _, _>(get_context_keys_for_principal_policy);
}

/// The scenarios `ResourceHandlingOption` accepts.
const RESOURCE_HANDLING_OPTIONS: [&str; 4] = [
    "EC2-VPC-InstanceStore",
    "EC2-VPC-InstanceStore-Subnet",
    "EC2-VPC-EBS",
    "EC2-VPC-EBS-Subnet",
];

/// `EvalDecisionDetails` keys of a cross-account simulation.
const DETAIL_IDENTITY: &str = "IAM Policy";
const DETAIL_RESOURCE: &str = "Resource Policy";

/// The inputs both simulate operations share.
struct SimRequest {
    policy_input_list: Vec<String>,
    boundary_input_list: Option<Vec<String>>,
    action_names: Vec<String>,
    resource_arns: Option<Vec<String>>,
    resource_policy: Option<String>,
    resource_owner: Option<String>,
    caller_arn: Option<String>,
    context_entries: Option<Vec<iam::ContextEntry>>,
    resource_handling_option: Option<String>,
    max_items: Option<i32>,
    marker: Option<String>,
}

impl From<iam::SimulateCustomPolicyRequest> for SimRequest {
    fn from(i: iam::SimulateCustomPolicyRequest) -> Self {
        SimRequest {
            policy_input_list: i.policy_input_list,
            boundary_input_list: i.permissions_boundary_policy_input_list,
            action_names: i.action_names,
            resource_arns: i.resource_arns,
            resource_policy: i.resource_policy,
            resource_owner: i.resource_owner,
            caller_arn: i.caller_arn,
            context_entries: i.context_entries,
            resource_handling_option: i.resource_handling_option,
            max_items: i.max_items,
            marker: i.marker,
        }
    }
}

impl From<iam::SimulatePrincipalPolicyRequest> for SimRequest {
    fn from(i: iam::SimulatePrincipalPolicyRequest) -> Self {
        SimRequest {
            policy_input_list: i.policy_input_list.unwrap_or_default(),
            boundary_input_list: i.permissions_boundary_policy_input_list,
            action_names: i.action_names,
            resource_arns: i.resource_arns,
            resource_policy: i.resource_policy,
            resource_owner: i.resource_owner,
            caller_arn: i.caller_arn,
            context_entries: i.context_entries,
            resource_handling_option: i.resource_handling_option,
            max_items: i.max_items,
            marker: i.marker,
        }
    }
}

/// Everything one simulation evaluates with.
struct Simulation {
    policies: AppliedPolicies,
    resource_policy: Option<AppliedPolicy>,
    /// The simulated caller; `None`: an anonymous IAM user of `account` (no principal keys).
    caller: Option<Principal>,
    account: String,
    /// `ResourceOwner`'s account.
    resource_owner: Option<String>,
    context: Context,
}

async fn simulate_custom_policy(
    _app: App,
    ctx: Ctx,
    input: iam::SimulateCustomPolicyRequest,
) -> Result<iam::SimulatePolicyResponse, ApiError> {
    let req = SimRequest::from(input);
    check_request(&req)?;
    let mut policies = AppliedPolicies {
        identity: compile_inputs(
            &req.policy_input_list,
            "PolicyInputList",
            SourceType::Custom,
        )?,
        boundary: None,
    };
    apply_boundary_inputs(&req, &mut policies)?;
    let resource_policy = compile_resource_policy(req.resource_policy.as_deref())?;
    let caller = match req.caller_arn.as_deref() {
        Some(arn) => Some(caller_from_arn(arn)?),
        None => None,
    };
    run(&ctx, req, policies, resource_policy, caller)
}

async fn simulate_principal_policy(
    app: App,
    ctx: Ctx,
    input: iam::SimulatePrincipalPolicyRequest,
) -> Result<iam::SimulatePolicyResponse, ApiError> {
    let source_arn = input.policy_source_arn.clone();
    let req = SimRequest::from(input);
    check_request(&req)?;
    let extra = compile_inputs(
        &req.policy_input_list,
        "PolicyInputList",
        SourceType::Custom,
    )?;
    let resource_policy = compile_resource_policy(req.resource_policy.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let source = load_source(acct, &app, ctx.account(), &source_arn)?;
    let mut policies = source.policies;
    policies.identity.extend(extra);
    apply_boundary_inputs(&req, &mut policies)?;
    let caller = match req.caller_arn.as_deref() {
        Some(arn) => Some(caller_from_store(acct, ctx.account(), arn)?),
        None => source.caller,
    };
    drop(model);
    run(&ctx, req, policies, resource_policy, caller)
}

async fn get_context_keys_for_custom_policy(
    _app: App,
    _ctx: Ctx,
    input: iam::GetContextKeysForCustomPolicyRequest,
) -> Result<iam::GetContextKeysForPolicyResponse, ApiError> {
    let inputs = compile_inputs(
        &input.policy_input_list,
        "PolicyInputList",
        SourceType::Custom,
    )?;
    Ok(iam::GetContextKeysForPolicyResponse {
        context_key_names: Some(context_keys(inputs.iter().map(|p| &*p.policy))),
    })
}

async fn get_context_keys_for_principal_policy(
    app: App,
    ctx: Ctx,
    input: iam::GetContextKeysForPrincipalPolicyRequest,
) -> Result<iam::GetContextKeysForPolicyResponse, ApiError> {
    let extra = compile_inputs(
        input.policy_input_list.as_deref().unwrap_or_default(),
        "PolicyInputList",
        SourceType::Custom,
    )?;
    let model = app.store.read();
    let source = load_source(
        model.account(ctx.account()),
        &app,
        ctx.account(),
        &input.policy_source_arn,
    )?;
    drop(model);
    let policies: Vec<&Policy> = source
        .policies
        .all()
        .chain(extra.iter())
        .map(|p| &*p.policy)
        .collect();
    Ok(iam::GetContextKeysForPolicyResponse {
        context_key_names: Some(context_keys(policies)),
    })
}

/// Checks the request's own parameters (documents are checked as they are compiled).
fn check_request(req: &SimRequest) -> Result<(), ApiError> {
    for a in &req.action_names {
        let Some((service, name)) = a.split_once(':') else {
            return Err(ApiError::invalid_input(format!(
                "Action name {a} must include the service identifier, such as iam:CreateUser."
            )));
        };
        if service.is_empty() || name.is_empty() {
            return Err(ApiError::invalid_input(format!(
                "Action name {a} must include the service identifier, such as iam:CreateUser."
            )));
        }
        if a.contains('*') || a.contains('?') {
            return Err(ApiError::invalid_input(format!(
                "Action name {a} contains a wildcard; the simulator does not support wildcards in action names."
            )));
        }
    }
    if let Some(opt) = &req.resource_handling_option {
        if !RESOURCE_HANDLING_OPTIONS.contains(&opt.as_str()) {
            return Err(ApiError::invalid_input(format!(
                "Invalid ResourceHandlingOption {opt}: must be one of {}.",
                RESOURCE_HANDLING_OPTIONS.join(", ")
            )));
        }
    }
    Ok(())
}

/// Validates and compiles input documents, named `PREFIX.N` (1-based) as AWS reports them.
fn compile_inputs(
    docs: &[String],
    prefix: &str,
    source: SourceType,
) -> Result<Vec<AppliedPolicy>, ApiError> {
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let id = format!("{prefix}.{}", i + 1);
            compile_input(doc, PolicyKind::Identity).map(|p| AppliedPolicy::input(id, source, p))
        })
        .collect()
}

/// A policy document from the request: validated as IAM would, then compiled (one reading).
fn compile_input(doc: &str, kind: PolicyKind) -> Result<Arc<Policy>, ApiError> {
    validate_and_parse(doc, kind)
        .map(Arc::new)
        .map_err(|m| ApiError::invalid_input(m.message))
}

fn compile_resource_policy(doc: Option<&str>) -> Result<Option<AppliedPolicy>, ApiError> {
    let Some(doc) = doc else { return Ok(None) };
    let id = "ResourcePolicy";
    let policy = compile_input(doc, PolicyKind::Resource)?;
    Ok(Some(AppliedPolicy::input(
        id.to_string(),
        SourceType::ResourcePolicy,
        policy,
    )))
}

/// `PermissionsBoundaryPolicyInputList` replaces the entity's own boundary.
fn apply_boundary_inputs(req: &SimRequest, policies: &mut AppliedPolicies) -> Result<(), ApiError> {
    let Some(list) = &req.boundary_input_list else {
        return Ok(());
    };
    if list.len() > 1 {
        return Err(ApiError::invalid_input(
            "Only one permissions boundary policy can be simulated at a time.",
        ));
    }
    if !list.is_empty() {
        policies.boundary = Some(compile_inputs(
            list,
            "PermissionsBoundaryPolicyInputList",
            SourceType::PermissionsBoundary,
        )?);
    }
    Ok(())
}

/// `CallerArn` must be an IAM user's ARN.
fn caller_from_arn(arn: &str) -> Result<Principal, ApiError> {
    match parse_entity_arn(arn) {
        Some(("user", _, _)) => Ok(Principal::user(arn, "")),
        _ => Err(ApiError::invalid_input(format!(
            "Invalid CallerArn {arn}: only the ARN of an IAM user can be the simulated caller."
        ))),
    }
}

/// The caller of SimulatePrincipalPolicy: a user of the account is known with its ID and tags.
fn caller_from_store(acct: &Account, account: &str, arn: &str) -> Result<Principal, ApiError> {
    let mut p = caller_from_arn(arn)?;
    if let Some(("user", a, name)) = parse_entity_arn(arn) {
        if a == account {
            if let Some(u) = acct.users.get(name) {
                p = user_principal(u);
                p.arn = arn.to_string();
            }
        }
    }
    Ok(p)
}

fn user_principal(u: &User) -> Principal {
    let mut p = Principal::user(&u.arn(), &u.user_id);
    p.username = Some(u.name.clone());
    p.tags = u
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    p
}

/// `arn:aws:iam::ACCOUNT:(user|group|role)/PATH/NAME` → (kind, account, name).
fn parse_entity_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, service, _region, account, rest) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if prefix != "arn" || service != "iam" || account.is_empty() {
        return None;
    }
    let (kind, path_name) = rest.split_once('/')?;
    let name = path_name.rsplit('/').next().filter(|n| !n.is_empty())?;
    match kind {
        "user" | "group" | "role" => Some((kind, account, name)),
        _ => None,
    }
}

/// The entity of `PolicySourceArn`: its policies and, for a user, the default caller.
struct Source {
    policies: AppliedPolicies,
    caller: Option<Principal>,
}

fn load_source(acct: &Account, app: &App, account: &str, arn: &str) -> Result<Source, ApiError> {
    let Some((kind, a, name)) = parse_entity_arn(arn) else {
        return Err(ApiError::invalid_input(format!(
            "Invalid PolicySourceArn {arn}: it must be the ARN of an IAM user, group or role."
        )));
    };
    let not_found =
        || ApiError::no_such_entity(format!("The {kind} with name {name} cannot be found."));
    if a != account {
        return Err(not_found());
    }
    match kind {
        "user" => {
            let user = acct.users.get(name).ok_or_else(not_found)?;
            let policies = authz::user_policies(acct, &app.policies, user)?;
            Ok(Source {
                policies,
                caller: Some(user_principal(user)),
            })
        }
        "group" => {
            let group = acct.groups.get(name).ok_or_else(not_found)?;
            let policies = authz::group_policies(acct, &app.policies, group)?;
            Ok(Source {
                policies,
                caller: None,
            })
        }
        "role" => {
            let role = acct.roles.get(name).ok_or_else(not_found)?;
            let policies = authz::role_policies(acct, &app.policies, role)?;
            Ok(Source {
                policies,
                caller: None,
            })
        }
        _ => Err(not_found()),
    }
}

/// `ContextEntries` as the evaluator's context (values kept as strings; the condition operators
/// interpret them).
fn build_context(entries: &[iam::ContextEntry]) -> Context {
    let mut c = Context::new();
    for e in entries {
        if let Some(name) = e.context_key_name.as_deref() {
            c.insert_many(name, e.context_key_values.clone().unwrap_or_default());
        }
    }
    c
}

/// The account part of `ResourceOwner` (`arn:aws:iam::ID:root` or a bare ID).
fn owner_account(owner: &str) -> String {
    match owner.split(':').nth(4) {
        Some(a) if owner.starts_with("arn:") => a.to_string(),
        _ => owner.to_string(),
    }
}

fn run(
    ctx: &Ctx,
    req: SimRequest,
    policies: AppliedPolicies,
    resource_policy: Option<AppliedPolicy>,
    caller: Option<Principal>,
) -> Result<iam::SimulatePolicyResponse, ApiError> {
    if resource_policy.is_some() && caller.is_none() {
        return Err(ApiError::invalid_input(
            "CallerArn is required when a ResourcePolicy is included and the simulated entity is not an IAM user.",
        ));
    }
    let mut context = build_context(req.context_entries.as_deref().unwrap_or_default());
    if let Some(p) = &caller {
        context.add_principal_keys(p);
    }
    let sim = Simulation {
        account: caller
            .as_ref()
            .map_or_else(|| ctx.account().to_string(), |p| p.account.clone()),
        policies,
        resource_policy,
        caller,
        resource_owner: req.resource_owner.as_deref().map(owner_account),
        context,
    };
    let resources = match req.resource_arns {
        Some(r) if !r.is_empty() => r,
        _ => vec!["*".to_string()],
    };
    // One result per action and resource, in that order; only the requested page is evaluated, so the
    // work (and memory) of a call is bounded by MaxItems however many actions and resources it names.
    let per_action = resources.len().max(1);
    let total = req.action_names.len().saturating_mul(per_action);
    let (range, marker) = page_range(total, req.marker.as_deref(), max_items(req.max_items))?;
    let page = range
        .filter_map(|i| {
            let action = req.action_names.get(i / per_action)?;
            let resource = resources.get(i % per_action)?;
            Some(sim.result(action, resource))
        })
        .collect();
    Ok(iam::SimulatePolicyResponse {
        evaluation_results: Some(page),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

impl Simulation {
    fn principal(&self) -> Principal {
        self.caller.clone().unwrap_or_else(|| Principal {
            kind: PrincipalKind::User,
            arn: String::new(),
            account: self.account.clone(),
            role_arn: None,
            user_id: String::new(),
            username: None,
            tags: Vec::new(),
        })
    }

    /// The account owning `resource`: the one in its ARN, else `ResourceOwner`, else the caller's.
    fn resource_account(&self, resource: &str) -> String {
        match resource.split(':').nth(4) {
            Some(a) if !a.is_empty() => a.to_string(),
            _ => self
                .resource_owner
                .clone()
                .unwrap_or_else(|| self.account.clone()),
        }
    }

    fn result(&self, action: &str, resource: &str) -> iam::EvaluationResult {
        let principal = self.principal();
        let identity = self.policies.identity_refs();
        let boundary = self.policies.boundary_refs();
        // Without a resource policy the simulation is of the identity side only.
        let resource_account = self
            .resource_policy
            .as_ref()
            .map(|_| self.resource_account(resource));
        let input = EvalInput {
            request: Request {
                principal: &principal,
                action,
                resource,
                context: &self.context,
            },
            identity: &identity,
            boundary: boundary.as_deref(),
            session: None,
            resource_policy: self.resource_policy.as_ref().map(AppliedPolicy::as_ref),
            resource_account: resource_account.as_deref(),
        };
        let eval = evaluate(&input);
        let decision = eval.decision.simulator_name().to_string();
        let matched = self.matched_statements(&eval);
        let boundary_detail = eval
            .boundary
            .map(|b| iam::PermissionsBoundaryDecisionDetail {
                allowed_by_permissions_boundary: Some(b == Decision::Allow),
            });
        let cross_account = resource_account
            .as_deref()
            .is_some_and(|a| a != principal.account);
        let details = if cross_account {
            let mut d = vec![(
                DETAIL_IDENTITY.to_string(),
                identity_side(&eval).simulator_name().to_string(),
            )];
            if let Some(r) = eval.resource {
                d.push((DETAIL_RESOURCE.to_string(), r.simulator_name().to_string()));
            }
            d
        } else {
            Vec::new()
        };
        if resource == "*" {
            return iam::EvaluationResult {
                eval_action_name: action.to_string(),
                eval_resource_name: Some(resource.to_string()),
                eval_decision: decision,
                matched_statements: Some(matched),
                missing_context_values: Some(eval.missing_context_keys),
                organizations_decision_detail: None,
                permissions_boundary_decision_detail: boundary_detail,
                eval_decision_details: cross_account.then_some(details),
                resource_specific_results: None,
            };
        }
        iam::EvaluationResult {
            eval_action_name: action.to_string(),
            eval_resource_name: Some(resource.to_string()),
            eval_decision: decision.clone(),
            matched_statements: Some(matched.clone()),
            missing_context_values: Some(Vec::new()),
            organizations_decision_detail: None,
            permissions_boundary_decision_detail: boundary_detail.clone(),
            eval_decision_details: Some(details.clone()),
            resource_specific_results: Some(vec![iam::ResourceSpecificResult {
                eval_resource_name: resource.to_string(),
                eval_resource_decision: decision,
                matched_statements: Some(matched),
                missing_context_values: Some(eval.missing_context_keys),
                eval_decision_details: cross_account.then_some(details),
                permissions_boundary_decision_detail: boundary_detail,
            }]),
        }
    }

    /// The statements that decided: allows when allowed, denies on an explicit deny.
    fn matched_statements(&self, eval: &Evaluation<'_>) -> Vec<iam::Statement> {
        let effect = match eval.decision {
            Decision::Allow => Effect::Allow,
            Decision::ExplicitDeny => Effect::Deny,
            Decision::ImplicitDeny => return Vec::new(),
        };
        eval.matched
            .iter()
            .filter(|m| m.effect == effect)
            .map(|m| self.statement(m))
            .collect()
    }

    fn statement(&self, m: &MatchedStatement<'_>) -> iam::Statement {
        let source_type = self
            .policies
            .find(m.source_id, m.source)
            .or(self
                .resource_policy
                .as_ref()
                .filter(|p| &*p.id == m.source_id && p.source == m.source))
            .map_or_else(|| m.source.simulator_name(), |p| p.simulator_type);
        let pos = |p: crate::policy::Position| iam::Position {
            line: Some(i32::try_from(p.line).unwrap_or(i32::MAX)),
            column: Some(i32::try_from(p.column).unwrap_or(i32::MAX)),
        };
        // AWS reports the position just after the statement's `{` (its documented example:
        // `{"Version":"2012-10-17","Statement":{…}}` starts at column 38, the `{` being the
        // 37th character); the evaluator gives the `{` itself.
        let start = crate::policy::Position {
            line: m.start.line,
            column: m.start.column.saturating_add(1),
        };
        iam::Statement {
            source_policy_id: Some(m.source_id.to_string()),
            source_policy_type: Some(source_type.to_string()),
            start_position: Some(pos(start)),
            end_position: Some(pos(m.end)),
        }
    }
}

/// The identity side alone (identity ∩ boundary), for `EvalDecisionDetails`.
fn identity_side(eval: &Evaluation<'_>) -> Decision {
    match (eval.identity, eval.boundary) {
        (Decision::ExplicitDeny, _) | (_, Some(Decision::ExplicitDeny)) => Decision::ExplicitDeny,
        (Decision::Allow, None | Some(Decision::Allow)) => Decision::Allow,
        _ => Decision::ImplicitDeny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_arns() {
        assert_eq!(
            parse_entity_arn("arn:aws:iam::123456789012:user/a/b/bob"),
            Some(("user", "123456789012", "bob"))
        );
        assert_eq!(
            parse_entity_arn("arn:aws:iam::123456789012:group/devs"),
            Some(("group", "123456789012", "devs"))
        );
        assert_eq!(parse_entity_arn("arn:aws:iam::123456789012:root"), None);
        assert_eq!(parse_entity_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(parse_entity_arn("arn:aws:iam::123456789012:user/"), None);
    }

    #[test]
    fn owners() {
        assert_eq!(
            owner_account("arn:aws:iam::112233445566:root"),
            "112233445566"
        );
        assert_eq!(owner_account("112233445566"), "112233445566");
    }
}

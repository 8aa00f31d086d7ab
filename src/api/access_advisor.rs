//! The access advisor: GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails,
//! GetServiceLastAccessedDetailsWithEntities and ListPoliciesGrantingServiceAccess.
//!
//! Reports are made of what localiam saw ([`crate::activity`]): the IAM and STS calls of users
//! and roles, and the `Allow`s of `/_localiam/authorize`. Following AWS's documentation:
//! * a report lists every service the subject's permissions policies allow (inline and managed;
//!   for a user also its groups'; never boundaries or session policies), sorted by namespace, with
//!   `LastAuthenticated`, its entity and Region only where one was used; `TotalAuthenticatedEntities`
//!   counts the entities that used it (0 when none, as in AWS's example). A service is allowed when
//!   an `Allow` statement covers one of its actions (whatever its resources and conditions) and no
//!   unconditional `Deny` on `*` covers it. Times are to the minute, as AWS reports them.
//! * a user's or role's report covers that entity; a group's, its members; a policy's, every user
//!   and role it is attached to (users through their groups too). An entity's use of an allowed
//!   service counts for the group or policy (localiam does not tell which policy allowed a call).
//! * `ACTION_LEVEL` adds, for the services whose actions are tracked
//!   ([`crate::activity::TRACKED_SERVICES`]), every allowed action with its last use where it was
//!   used.
//! * a job completes at once and is a snapshot of that moment. It is kept (durably) for
//!   [`JOB_LIFETIME_SECS`], and only the principal that generated it (the same session, for
//!   temporary credentials) may read it; for anyone else, or after that, the job ID is unknown.
//! * ListPoliciesGrantingServiceAccess reads the current policies: for a user its own and its
//!   groups', for a group or role their own.

use std::collections::HashSet;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::activity::{activity_of, is_tracked};
use crate::api::common::*;
use crate::api::policies::policy_not_found;
use crate::api::{Ctx, Registry};
use crate::authz::reference::{self, ServiceEntry};
use crate::authz::{group_policies, role_policies, user_policies, AppliedPolicies};
use crate::error::ApiError;
use crate::policy::{Effect, Policy, SourceType, Statement};
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{
    AccessReport, Account, Activity, Group, ManagedPolicy, PrincipalKind, ReportEntity,
    ReportService, Role, User,
};
use crate::store::StoreError;

pub fn register(r: &mut Registry) {
    r.iam::<iam::GenerateServiceLastAccessedDetails, _, _>(generate);
    r.iam::<iam::GetServiceLastAccessedDetails, _, _>(get_details);
    r.iam::<iam::GetServiceLastAccessedDetailsWithEntities, _, _>(get_with_entities);
    r.iam::<iam::ListPoliciesGrantingServiceAccess, _, _>(list_policies_granting);
}

/// How long a report job is kept after it was generated.
pub const JOB_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// Most reports kept per account: generating one more forgets the oldest (README, "Long runs").
pub const MAX_REPORTS_PER_ACCOUNT: usize = 1000;

const SERVICE_LEVEL: &str = "SERVICE_LEVEL";
const ACTION_LEVEL: &str = "ACTION_LEVEL";

fn invalid_arn(arn: &str) -> ApiError {
    ApiError::invalid_input(format!("ARN {arn} is not valid."))
}

fn unknown_job(job_id: &str) -> ApiError {
    ApiError::invalid_input(format!("JobId {job_id} is not valid."))
}

// ---------------------------------------------------------------------------------------------
// What a report is about

/// The user, group, role or managed policy an ARN names.
enum Subject {
    User(Arc<User>),
    Group(Arc<Group>),
    Role(Arc<Role>),
    Policy(Arc<ManagedPolicy>),
}

/// `arn:aws:iam::ACCOUNT:KIND/PATH/NAME` of the caller's account (AWS managed policies too):
/// the entity, `InvalidInput` when it is no such ARN, `NoSuchEntity` when it does not exist.
fn subject(account: &Account, account_id: &str, arn: &str) -> Result<Subject, ApiError> {
    let rest = arn
        .strip_prefix("arn:aws:iam::")
        .ok_or_else(|| invalid_arn(arn))?;
    let (owner, resource) = rest.split_once(':').ok_or_else(|| invalid_arn(arn))?;
    let (kind, path_name) = resource.split_once('/').ok_or_else(|| invalid_arn(arn))?;
    let name = path_name.rsplit('/').next().unwrap_or_default();
    let path = &path_name[..path_name.len() - name.len()];
    let path = format!("/{path}");
    if name.is_empty() {
        return Err(invalid_arn(arn));
    }
    let foreign = owner != account_id;
    match kind {
        "policy" if foreign && owner != crate::store::model::AWS_ACCOUNT => Err(invalid_arn(arn)),
        "policy" => account
            .policy_by_arn(arn)
            .cloned()
            .map(Subject::Policy)
            .ok_or_else(|| policy_not_found(arn)),
        _ if foreign => Err(invalid_arn(arn)),
        "user" => account
            .users
            .get(name)
            .filter(|u| u.path == path)
            .cloned()
            .map(Subject::User)
            .ok_or_else(|| no_such_user(name)),
        "group" => account
            .groups
            .get(name)
            .filter(|g| g.path == path)
            .cloned()
            .map(Subject::Group)
            .ok_or_else(|| no_such_group(name)),
        "role" => account
            .roles
            .get(name)
            .filter(|r| r.path == path)
            .cloned()
            .map(Subject::Role)
            .ok_or_else(|| no_such_role(name)),
        _ => Err(invalid_arn(arn)),
    }
}

fn user_entity(app: &App, u: &User) -> ReportEntity {
    ReportEntity {
        arn: u.arn(),
        name: u.name.clone(),
        kind: "USER".to_string(),
        id: u.user_id.clone(),
        path: u.path.clone(),
        activity: activity_of(app, &u.user_id, u.activity.as_deref()),
    }
}

fn role_entity(app: &App, r: &Role) -> ReportEntity {
    ReportEntity {
        arn: r.arn(),
        name: r.name.clone(),
        kind: "ROLE".to_string(),
        id: r.role_id.clone(),
        path: r.path.clone(),
        activity: activity_of(app, &r.role_id, r.activity.as_deref()),
    }
}

/// The permissions policies a report reads, and the users and roles it covers.
fn scope(
    app: &App,
    account: &Account,
    subject: &Subject,
) -> Result<(Vec<Arc<Policy>>, Vec<ReportEntity>), ApiError> {
    let identity = |a: AppliedPolicies| a.identity.into_iter().map(|p| p.policy).collect();
    Ok(match subject {
        Subject::User(u) => (
            identity(user_policies(account, &app.policies, u)?),
            vec![user_entity(app, u)],
        ),
        Subject::Role(r) => (
            identity(role_policies(account, &app.policies, r)?),
            vec![role_entity(app, r)],
        ),
        Subject::Group(g) => (
            identity(group_policies(account, &app.policies, g)?),
            account
                .members(&g.group_id)
                .iter()
                .map(|u| user_entity(app, u))
                .collect(),
        ),
        Subject::Policy(p) => {
            let policies = match p.default_version() {
                Some(v) => vec![app
                    .policies
                    .get_or_parse(&v.document)
                    .map_err(|_| crate::authz::policy_evaluation_error(&p.name))?],
                None => Vec::new(),
            };
            let mut users: Vec<Arc<User>> = Vec::new();
            let mut roles: Vec<Arc<Role>> = Vec::new();
            for (kind, id) in account.attachments_of(&p.policy_id) {
                match kind {
                    PrincipalKind::User => users.extend(account.users.get_by_id(id).cloned()),
                    PrincipalKind::Group => users.extend(account.members(id)),
                    PrincipalKind::Role => roles.extend(account.roles.get_by_id(id).cloned()),
                }
            }
            let mut seen = HashSet::new();
            users.retain(|u| seen.insert(u.user_id.clone()));
            let entities = users
                .iter()
                .map(|u| user_entity(app, u))
                .chain(roles.iter().map(|r| role_entity(app, r)))
                .collect();
            (policies, entities)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// What policies allow

/// The statements of a set of policies, as the access advisor reads them.
struct Grants<'p> {
    allows: Vec<&'p Statement<'p>>,
    /// Unconditional `Deny` statements on every resource.
    denies: Vec<&'p Statement<'p>>,
}

impl<'p> Grants<'p> {
    fn new(policies: impl IntoIterator<Item = &'p Policy>) -> Grants<'p> {
        let mut g = Grants {
            allows: Vec::new(),
            denies: Vec::new(),
        };
        for p in policies {
            for s in p.statements() {
                match s.effect() {
                    Effect::Allow => g.allows.push(s),
                    Effect::Deny if s.is_unconditional() => g.denies.push(s),
                    Effect::Deny => {}
                }
            }
        }
        g
    }

    /// The actions of the service these policies allow: all of them (`all`), else the first.
    fn allowed(
        &self,
        prefix: &str,
        service: &'static ServiceEntry,
        all: bool,
    ) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.allows.is_empty() {
            return out;
        }
        let mut full = String::with_capacity(64);
        for action in &service.actions {
            full.clear();
            full.push_str(prefix);
            full.push(':');
            full.push_str(action);
            if self.allows.iter().any(|s| s.covers_action(&full))
                && !self.denies.iter().any(|s| s.covers_action(&full))
            {
                out.push(*action);
                if !all {
                    break;
                }
            }
        }
        out
    }

    fn allows_service(&self, prefix: &str) -> bool {
        reference::service(prefix).is_some_and(|s| !self.allowed(prefix, s, false).is_empty())
    }
}

/// The services the policies allow, by namespace; with their allowed tracked actions for an
/// action-level report.
fn allowed_services(policies: &[Arc<Policy>], action_level: bool) -> Vec<ReportService> {
    let grants = Grants::new(policies.iter().map(|p| &**p));
    reference::services()
        .filter_map(|(prefix, service)| {
            let tracked = action_level && is_tracked(prefix);
            let actions = grants.allowed(prefix, service, tracked);
            (!actions.is_empty()).then(|| ReportService {
                namespace: prefix.to_string(),
                tracked_actions: if tracked {
                    actions.iter().map(|a| a.to_string()).collect()
                } else {
                    Vec::new()
                },
            })
        })
        .collect()
}

/// Keeps of an entity's use what the report lists: its allowed services and tracked actions.
fn restrict(activity: &mut Activity, services: &[ReportService], action_level: bool) {
    activity.0.retain(|ns, used| {
        let Some(s) = services.iter().find(|s| &s.namespace == ns) else {
            return false;
        };
        if action_level {
            used.actions.retain(|a, _| s.tracked_actions.contains(a));
        } else {
            used.actions.clear();
        }
        true
    });
}

// ---------------------------------------------------------------------------------------------
// The operations

async fn generate(
    app: App,
    ctx: Ctx,
    input: iam::GenerateServiceLastAccessedDetailsRequest,
) -> Result<iam::GenerateServiceLastAccessedDetailsResponse, ApiError> {
    let granularity = input
        .granularity
        .unwrap_or_else(|| SERVICE_LEVEL.to_string());
    let action_level = granularity == ACTION_LEVEL;
    let (services, entities) = {
        let model = app.store.read();
        let account = model.account(ctx.account());
        let subject = subject(account, ctx.account(), &input.arn)?;
        let (policies, mut entities) = scope(&app, account, &subject)?;
        let services = allowed_services(&policies, action_level);
        for e in &mut entities {
            restrict(&mut e.activity, &services, action_level);
        }
        (services, entities)
    };
    let now = ctx.now.unix_timestamp();
    let report = AccessReport {
        job_id: uuid::Uuid::new_v4().to_string(),
        account_id: ctx.account().to_string(),
        owner_arn: ctx.principal.arn.clone(),
        owner_session: session_of(&app, &ctx),
        arn: input.arn,
        granularity,
        created: now,
        entities,
        services,
    };
    let job_id = report.job_id.clone();
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            remove_expired(tx, &account, now)?;
            remove_oldest(tx, &account, MAX_REPORTS_PER_ACCOUNT - 1)?;
            tx.insert(report)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(iam::GenerateServiceLastAccessedDetailsResponse {
        job_id: Some(job_id),
    })
}

/// The access key of the caller's session, when it signed with temporary credentials.
fn session_of(app: &App, ctx: &Ctx) -> Option<String> {
    let key = ctx.principal.access_key_id.as_deref()?;
    app.store
        .read()
        .key(key)
        .filter(|l| l.session)
        .map(|_| key.to_string())
}

fn is_expired(r: &AccessReport, now: i64) -> bool {
    now.saturating_sub(r.created) >= JOB_LIFETIME_SECS
}

fn remove_expired(
    tx: &mut crate::store::Tx<'_>,
    account: &str,
    now: i64,
) -> Result<(), StoreError> {
    let expired: Vec<String> = tx
        .account(account)
        .access_reports
        .iter()
        .filter(|r| is_expired(r, now))
        .map(|r| r.job_id.clone())
        .collect();
    for id in expired {
        tx.remove::<AccessReport>(account, &id)?;
    }
    Ok(())
}

/// Forgets the oldest reports of `account` until it holds at most `keep`.
fn remove_oldest(
    tx: &mut crate::store::Tx<'_>,
    account: &str,
    keep: usize,
) -> Result<(), StoreError> {
    let reports = &tx.account(account).access_reports;
    let excess = reports.len().saturating_sub(keep);
    if excess == 0 {
        return Ok(());
    }
    let mut by_age: Vec<(i64, String)> = reports
        .iter()
        .map(|r| (r.created, r.job_id.clone()))
        .collect();
    by_age.sort_unstable();
    for (_, id) in by_age.into_iter().take(excess) {
        tx.remove::<AccessReport>(account, &id)?;
    }
    Ok(())
}

/// Forgets the reports whose time is up (the background chores).
pub async fn prune_expired(app: &App, now: OffsetDateTime) {
    let now = now.unix_timestamp();
    let accounts: Vec<String> = app
        .store
        .read()
        .accounts()
        .filter(|(_, a)| a.access_reports.iter().any(|r| is_expired(r, now)))
        .map(|(id, _)| id.to_string())
        .collect();
    if accounts.is_empty() {
        return;
    }
    let result = app
        .store
        .write(move |tx| {
            for a in &accounts {
                remove_expired(tx, a, now)?;
            }
            Ok::<_, StoreError>(())
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not forget expired access advisor reports");
    }
}

/// The caller's report with that job ID: unknown when it is not the caller's or has expired.
fn report_of(app: &App, ctx: &Ctx, job_id: &str) -> Result<Arc<AccessReport>, ApiError> {
    let model = app.store.read();
    model
        .account(ctx.account())
        .access_reports
        .get_by_id(job_id)
        .filter(|r| {
            r.owner_arn == ctx.principal.arn
                && r.owner_session == session_of(app, ctx)
                && !is_expired(r, ctx.now.unix_timestamp())
        })
        .cloned()
        .ok_or_else(|| unknown_job(job_id))
}

/// A time as the access advisor reports it: to the minute.
fn minute(secs: i64) -> OffsetDateTime {
    ts(secs - secs.rem_euclid(60))
}

/// The latest use among the entities (`pick` finds an entity's), with the entity's ARN.
fn latest<'r>(
    entities: &'r [ReportEntity],
    pick: impl Fn(&'r ReportEntity) -> Option<&'r crate::store::model::LastAccess>,
) -> Option<(&'r crate::store::model::LastAccess, &'r str)> {
    entities
        .iter()
        .filter_map(|e| pick(e).map(|at| (at, e.arn.as_str())))
        .max_by_key(|(at, _)| at.date)
}

fn service_shape(r: &AccessReport, s: &ReportService) -> iam::ServiceLastAccessed {
    let used = |e: &ReportEntity| e.activity.0.contains_key(&s.namespace);
    let last = latest(&r.entities, |e| {
        e.activity.0.get(&s.namespace).map(|u| &u.last)
    });
    let tracked = (r.granularity == ACTION_LEVEL && is_tracked(&s.namespace)).then(|| {
        s.tracked_actions
            .iter()
            .map(|a| {
                let at = latest(&r.entities, |e| {
                    e.activity
                        .0
                        .get(&s.namespace)
                        .and_then(|u| u.actions.get(a))
                });
                iam::TrackedActionLastAccessed {
                    action_name: Some(a.clone()),
                    last_accessed_entity: at.map(|(_, e)| e.to_string()),
                    last_accessed_time: at.map(|(t, _)| minute(t.date)),
                    last_accessed_region: at.map(|(t, _)| t.region.clone()),
                }
            })
            .collect()
    });
    iam::ServiceLastAccessed {
        service_name: reference::service(&s.namespace)
            .map_or(s.namespace.as_str(), |e| e.name)
            .to_string(),
        last_authenticated: last.map(|(t, _)| minute(t.date)),
        service_namespace: s.namespace.clone(),
        last_authenticated_entity: last.map(|(_, e)| e.to_string()),
        last_authenticated_region: last.map(|(t, _)| t.region.clone()),
        total_authenticated_entities: Some(
            i32::try_from(r.entities.iter().filter(|e| used(e)).count()).unwrap_or(i32::MAX),
        ),
        tracked_actions_last_accessed: tracked,
    }
}

async fn get_details(
    app: App,
    ctx: Ctx,
    input: iam::GetServiceLastAccessedDetailsRequest,
) -> Result<iam::GetServiceLastAccessedDetailsResponse, ApiError> {
    let r = report_of(&app, &ctx, &input.job_id)?;
    let (range, marker) = page_range(
        r.services.len(),
        input.marker.as_deref(),
        max_items(input.max_items),
    )?;
    Ok(iam::GetServiceLastAccessedDetailsResponse {
        job_status: "COMPLETED".to_string(),
        job_type: Some(r.granularity.clone()),
        job_creation_date: ts(r.created),
        services_last_accessed: r.services[range]
            .iter()
            .map(|s| service_shape(&r, s))
            .collect(),
        job_completion_date: ts(r.created),
        is_truncated: Some(marker.is_some()),
        marker,
        error: None,
    })
}

async fn get_with_entities(
    app: App,
    ctx: Ctx,
    input: iam::GetServiceLastAccessedDetailsWithEntitiesRequest,
) -> Result<iam::GetServiceLastAccessedDetailsWithEntitiesResponse, ApiError> {
    let r = report_of(&app, &ctx, &input.job_id)?;
    let ns = input.service_namespace.as_str();
    // The entities that could have used the service: none when the report does not list it.
    let mut entities: Vec<(&ReportEntity, Option<i64>)> =
        if r.services.iter().any(|s| s.namespace == ns) {
            r.entities
                .iter()
                .map(|e| (e, e.activity.0.get(ns).map(|u| u.last.date)))
                .collect()
        } else {
            Vec::new()
        };
    // The most recent use first, then those that did not use it, by name.
    entities.sort_by(|(a, at), (b, bt)| bt.cmp(at).then_with(|| a.name.cmp(&b.name)));
    let (range, marker) = page_range(
        entities.len(),
        input.marker.as_deref(),
        max_items(input.max_items),
    )?;
    Ok(iam::GetServiceLastAccessedDetailsWithEntitiesResponse {
        job_status: "COMPLETED".to_string(),
        job_creation_date: ts(r.created),
        job_completion_date: ts(r.created),
        entity_details_list: entities[range]
            .iter()
            .map(|(e, at)| iam::EntityDetails {
                entity_info: iam::EntityInfo {
                    arn: e.arn.clone(),
                    name: e.name.clone(),
                    type_: e.kind.clone(),
                    id: e.id.clone(),
                    path: Some(e.path.clone()),
                },
                last_authenticated: at.map(minute),
            })
            .collect(),
        is_truncated: Some(marker.is_some()),
        marker,
        error: None,
    })
}

/// How many namespaces one page of ListPoliciesGrantingServiceAccess answers.
const GRANTING_PAGE: i64 = 100;

async fn list_policies_granting(
    app: App,
    ctx: Ctx,
    input: iam::ListPoliciesGrantingServiceAccessRequest,
) -> Result<iam::ListPoliciesGrantingServiceAccessResponse, ApiError> {
    if input.arn.contains(":policy/") {
        // Only identities hold policies.
        return Err(invalid_arn(&input.arn));
    }
    let model = app.store.read();
    let account = model.account(ctx.account());
    // (policy, its owner when inline: type and name), in the order they are listed.
    let mut held: Vec<(crate::authz::AppliedPolicy, Option<(&str, String)>)> = Vec::new();
    let mut add = |applied: AppliedPolicies, kind: &'static str, name: &str| {
        for p in applied.identity {
            let inline = matches!(
                p.source,
                SourceType::UserInline | SourceType::GroupInline | SourceType::RoleInline
            );
            let owner = inline.then(|| (kind, name.to_string()));
            held.push((p, owner));
        }
    };
    match subject(account, ctx.account(), &input.arn)? {
        Subject::User(u) => {
            // Its own policies first (the user without its groups), then each group's.
            let alone = User {
                groups: Vec::new(),
                ..(*u).clone()
            };
            let mut own = user_policies(account, &app.policies, &alone)?;
            own.boundary = None;
            add(own, "USER", &u.name);
            for g in account.groups_of(&u) {
                add(
                    group_policies(account, &app.policies, &g)?,
                    "GROUP",
                    &g.name,
                );
            }
        }
        Subject::Group(g) => add(
            group_policies(account, &app.policies, &g)?,
            "GROUP",
            &g.name,
        ),
        Subject::Role(r) => {
            let mut own = role_policies(account, &app.policies, &r)?;
            own.boundary = None;
            add(own, "ROLE", &r.name);
        }
        Subject::Policy(_) => return Err(invalid_arn(&input.arn)),
    }
    let (range, marker) = page_range(
        input.service_namespaces.len(),
        input.marker.as_deref(),
        GRANTING_PAGE,
    )?;
    let entries = input.service_namespaces[range]
        .iter()
        .map(|ns| iam::ListPoliciesGrantingServiceAccessEntry {
            service_namespace: Some(ns.clone()),
            policies: Some(
                held.iter()
                    .filter(|(p, _)| Grants::new([&*p.policy]).allows_service(ns))
                    .map(|(p, owner)| iam::PolicyGrantingServiceAccess {
                        policy_name: p.id.to_string(),
                        policy_type: if owner.is_some() { "INLINE" } else { "MANAGED" }.to_string(),
                        policy_arn: p.arn.clone(),
                        entity_type: owner.as_ref().map(|(k, _)| k.to_string()),
                        entity_name: owner.as_ref().map(|(_, n)| n.clone()),
                    })
                    .collect(),
            ),
        })
        .collect();
    Ok(iam::ListPoliciesGrantingServiceAccessResponse {
        policies_granting_service_access: entries,
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, TagRole, UntagRole, ListRoleTags,
//! PutRolePermissionsBoundary, DeleteRolePermissionsBoundary; service-linked roles:
//! CreateServiceLinkedRole, DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus.
//!
//! A role's inline policies are in `inline_policies.rs`, its managed-policy attachments in
//! `policies.rs`, its instance profiles in `instance_profiles.rs`.

use std::sync::{Arc, LazyLock};

use crate::api::common::*;
use crate::api::{permissions_boundary, policies, Ctx, Registry};
use crate::error::ApiError;
use crate::policy::validate::{policy_size, validate, PolicyKind};
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, Role};
use crate::store::StoreError;
use crate::store::Tx;

/// AWS's default quota of roles per account.
pub const ROLES_PER_ACCOUNT: usize = 1000;
/// AWS's default quota on the size of a trust policy (`ACLSizePerRole`).
pub const TRUST_POLICY_QUOTA: usize = 2048;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateRole, _, _>(create_role);
    r.iam::<iam::GetRole, _, _>(get_role);
    r.iam::<iam::ListRoles, _, _>(list_roles);
    r.iam::<iam::UpdateRole, _, _>(update_role);
    r.iam::<iam::UpdateRoleDescription, _, _>(update_role_description);
    r.iam::<iam::UpdateAssumeRolePolicy, _, _>(update_assume_role_policy);
    r.iam::<iam::DeleteRole, _, _>(delete_role);
    r.iam::<iam::PutRolePermissionsBoundary, _, _>(put_role_permissions_boundary);
    r.iam::<iam::DeleteRolePermissionsBoundary, _, _>(delete_role_permissions_boundary);
    r.iam::<iam::CreateServiceLinkedRole, _, _>(create_service_linked_role);
    r.iam::<iam::DeleteServiceLinkedRole, _, _>(delete_service_linked_role);
    r.iam::<iam::GetServiceLinkedRoleDeletionStatus, _, _>(get_service_linked_role_deletion_status);
    register_tag_ops!(
        r,
        role_name,
        require_role,
        TagRole,
        UntagRole,
        ListRoleTags(ListRoleTagsResponse)
    );
}

/// Which of a role's elements an answer carries: AWS's answers differ (as recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleView {
    /// CreateRole: no `Description`, `MaxSessionDuration` or `RoleLastUsed`.
    Created,
    /// Roles inside instance profiles: like `Created`, without `Tags` (as recorded in
    /// GetAccountAuthorizationDetails).
    InProfile,
    /// UpdateRoleDescription: like `Created`, with the `Description`.
    Described,
    /// GetRole: everything.
    Full,
    /// ListRoles: `MaxSessionDuration` but no `RoleLastUsed`, `PermissionsBoundary` or `Tags`.
    Listed,
}

/// The API shape of a role.
pub fn role_shape(r: &Role, view: RoleView) -> iam::Role {
    let listed = view == RoleView::Listed;
    iam::Role {
        path: r.path.clone(),
        role_name: r.name.clone(),
        role_id: r.role_id.clone(),
        arn: r.arn(),
        create_date: ts(r.create_date),
        assume_role_policy_document: Some(encode_policy(&r.assume_role_policy)),
        description: matches!(
            view,
            RoleView::Described | RoleView::Full | RoleView::Listed
        )
        .then(|| r.description.clone())
        .flatten(),
        max_session_duration: matches!(view, RoleView::Full | RoleView::Listed)
            .then_some(r.max_session_duration),
        permissions_boundary: if listed {
            None
        } else {
            r.permissions_boundary_arn
                .as_deref()
                .map(permissions_boundary::attached_shape)
        },
        tags: if listed || view == RoleView::InProfile {
            None
        } else {
            nonempty_tags(&r.tags)
        },
        role_last_used: (view == RoleView::Full).then(|| last_used_shape(r)),
    }
}

/// A role's `RoleLastUsed`: empty when its credentials were never used.
pub fn last_used_shape(r: &Role) -> iam::RoleLastUsed {
    iam::RoleLastUsed {
        last_used_date: r.last_used.as_ref().map(|u| ts(u.date)),
        region: r.last_used.as_ref().map(|u| u.region.clone()),
    }
}

/// The role of that name, unless AWS made it for a service (only AWS may change those).
fn require_modifiable_role(account: &Account, name: &str) -> Result<Arc<Role>, ApiError> {
    let role = require_role(account, name)?;
    if role.is_service_linked() {
        return Err(protected_role(&role.name));
    }
    Ok(role)
}

pub fn protected_role(name: &str) -> ApiError {
    ApiError::new(
        "UnmodifiableEntity",
        http::StatusCode::BAD_REQUEST,
        format!(
            "Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS"
        ),
    )
}

/// AWS's checks on a trust policy: its grammar as a trust policy (`MalformedPolicyDocument`
/// with AWS's messages) and its size quota.
fn check_trust_policy(document: &str) -> Result<(), ApiError> {
    validate(document, PolicyKind::Trust).map_err(|e| ApiError::malformed_policy(e.message))?;
    if policy_size(document) > TRUST_POLICY_QUOTA {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}"
        )));
    }
    Ok(())
}

/// AWS refuses a trust policy naming an IAM user or role that does not exist
/// (`Invalid principal in policy`). Checked for the accounts localiam holds state for: an
/// account nothing was ever written to may be set up later, and is taken on trust.
fn check_principals_exist(tx: &Tx<'_>, own_account: &str, document: &str) -> Result<(), ApiError> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else {
        return Ok(());
    };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(s) => vec![s],
        None => return Ok(()),
    };
    for s in statements {
        for field in ["Principal", "NotPrincipal"] {
            let Some(aws) = s.get(field).and_then(|p| p.get("AWS")) else {
                continue;
            };
            let arns: Vec<&str> = match aws {
                serde_json::Value::String(a) => vec![a.as_str()],
                serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                _ => Vec::new(),
            };
            for arn in arns {
                if !principal_exists(tx, own_account, arn) {
                    return Err(ApiError::malformed_policy(format!(
                        "Invalid principal in policy: \"AWS\":\"{arn}\""
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether an `AWS` principal names something that exists (as far as localiam can tell).
fn principal_exists(tx: &Tx<'_>, own_account: &str, arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:iam::") else {
        return true;
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return true;
    };
    if arn.contains('*') {
        return true;
    }
    let acct = tx.account(account);
    let known = account == own_account
        || acct.users.len() + acct.roles.len() + acct.groups.len() + acct.policies.len() > 0;
    if !known {
        return true;
    }
    let (kind, path_name) = match resource.split_once('/') {
        Some((kind, rest)) => (kind, rest),
        None => return true,
    };
    let name = path_name.rsplit('/').next().unwrap_or(path_name);
    let path = format!("/{}", &path_name[..path_name.len() - name.len()]);
    match kind {
        "user" => acct.users.get(name).is_some_and(|u| u.path == path),
        "role" => acct.roles.get(name).is_some_and(|r| r.path == path),
        _ => true,
    }
}

fn role_exists(name: &str) -> ApiError {
    ApiError::already_exists(format!("Role with name {name} already exists."))
}

/// Inserts a new role within the account's quota.
fn insert_role(tx: &mut Tx<'_>, role: Role) -> Result<Arc<Role>, ApiError> {
    let acct = tx.account(&role.account_id);
    if acct.roles.len() >= ROLES_PER_ACCOUNT {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for RolesPerAccount: {ROLES_PER_ACCOUNT}"
        )));
    }
    let name = role.name.clone();
    tx.insert(role).map_err(|e| match e {
        StoreError::UniqueViolation(_) => role_exists(&name),
        other => other.into(),
    })
}

async fn create_role(
    app: App,
    ctx: Ctx,
    input: iam::CreateRoleRequest,
) -> Result<iam::CreateRoleResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    check_trust_policy(&input.assume_role_policy_document)?;
    let account = ctx.account().to_string();
    let mut role = Role::new(
        &account,
        &input.role_name,
        &path_or_root(input.path.as_deref()),
        &input.assume_role_policy_document,
    );
    role.description = input.description;
    if let Some(d) = input.max_session_duration {
        role.max_session_duration = d;
    }
    role.tags = to_store_tags(&tags);
    role.permissions_boundary_arn = input.permissions_boundary;
    let role = app
        .store
        .write(move |tx| {
            if let Some(arn) = &role.permissions_boundary_arn {
                permissions_boundary::require_boundary_policy(tx.account(&account), arn)?;
            }
            if tx.account(&account).roles.get(&role.name).is_some() {
                return Err(role_exists(&role.name));
            }
            check_principals_exist(tx, &account, &role.assume_role_policy)?;
            insert_role(tx, role)
        })
        .await?;
    Ok(iam::CreateRoleResponse {
        role: role_shape(&role, RoleView::Created),
    })
}

async fn get_role(
    app: App,
    ctx: Ctx,
    input: iam::GetRoleRequest,
) -> Result<iam::GetRoleResponse, ApiError> {
    let model = app.store.read();
    let role = require_role(model.account(ctx.account()), &input.role_name)?;
    Ok(iam::GetRoleResponse {
        role: role_shape(&role, RoleView::Full),
    })
}

async fn list_roles(
    app: App,
    ctx: Ctx,
    input: iam::ListRolesRequest,
) -> Result<iam::ListRolesResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let page = model.account(ctx.account()).roles.list(
        input.path_prefix.as_deref(),
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListRolesResponse {
        roles: page
            .items
            .iter()
            .map(|r| role_shape(r, RoleView::Listed))
            .collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

/// Applies `f` to the role of that name.
async fn change_role<R: Send + 'static>(
    app: &App,
    account: &str,
    name: String,
    modifiable_only: bool,
    f: impl FnOnce(&mut Role) -> R + Send + 'static,
) -> Result<(Arc<Role>, R), ApiError> {
    let account = account.to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let role = if modifiable_only {
                require_modifiable_role(acct, &name)?
            } else {
                require_role(acct, &name)?
            };
            Ok(tx.update(&account, &role.role_id, f)?)
        })
        .await
}

async fn update_role(
    app: App,
    ctx: Ctx,
    input: iam::UpdateRoleRequest,
) -> Result<iam::UpdateRoleResponse, ApiError> {
    change_role(&app, ctx.account(), input.role_name, false, move |r| {
        if let Some(d) = input.description {
            r.description = Some(d);
        }
        if let Some(d) = input.max_session_duration {
            r.max_session_duration = d;
        }
    })
    .await?;
    Ok(iam::UpdateRoleResponse {})
}

async fn update_role_description(
    app: App,
    ctx: Ctx,
    input: iam::UpdateRoleDescriptionRequest,
) -> Result<iam::UpdateRoleDescriptionResponse, ApiError> {
    let (role, ()) = change_role(&app, ctx.account(), input.role_name, false, move |r| {
        r.description = Some(input.description);
    })
    .await?;
    Ok(iam::UpdateRoleDescriptionResponse {
        role: Some(role_shape(&role, RoleView::Described)),
    })
}

async fn update_assume_role_policy(
    app: App,
    ctx: Ctx,
    input: iam::UpdateAssumeRolePolicyRequest,
) -> Result<(), ApiError> {
    check_trust_policy(&input.policy_document)?;
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let role = require_modifiable_role(tx.account(&account), &input.role_name)?;
            check_principals_exist(tx, &account, &input.policy_document)?;
            tx.update(&account, &role.role_id, |r: &mut Role| {
                r.assume_role_policy = input.policy_document
            })?;
            Ok(())
        })
        .await
}

/// AWS's `DeleteConflict` message for the first thing that still hangs off a role.
fn role_delete_conflict(account: &Account, r: &Role) -> Option<&'static str> {
    if account.profile_ids_of_role(&r.role_id).next().is_some() {
        Some("Cannot delete entity, must remove roles from instance profile first.")
    } else if !r.inline.is_empty() {
        Some("Cannot delete entity, must delete policies first.")
    } else if !r.attached.is_empty() {
        Some("Cannot delete entity, must detach all policies first.")
    } else {
        None
    }
}

async fn delete_role(app: App, ctx: Ctx, input: iam::DeleteRoleRequest) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let role = require_modifiable_role(acct, &input.role_name)?;
            if let Some(message) = role_delete_conflict(acct, &role) {
                return Err(ApiError::delete_conflict(message));
            }
            tx.remove::<Role>(&account, &role.role_id)?;
            Ok(())
        })
        .await
}

async fn put_role_permissions_boundary(
    app: App,
    ctx: Ctx,
    input: iam::PutRolePermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let role = require_modifiable_role(acct, &input.role_name)?;
            permissions_boundary::require_boundary_policy(acct, &input.permissions_boundary)?;
            tx.update(&account, &role.role_id, |r: &mut Role| {
                r.permissions_boundary_arn = Some(input.permissions_boundary)
            })?;
            Ok(())
        })
        .await
}

async fn delete_role_permissions_boundary(
    app: App,
    ctx: Ctx,
    input: iam::DeleteRolePermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    change_role(&app, ctx.account(), input.role_name, true, |r| {
        r.permissions_boundary_arn = None
    })
    .await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Service-linked roles
// ------------------------------------------------------------------------------------------------

/// What CreateServiceLinkedRole makes for a service: recorded on real AWS
/// (`service_linked_roles.tsv`, built by `tools/extract_service_linked_roles.py`).
struct LinkedService {
    service: &'static str,
    role_name: &'static str,
    policy_arn: &'static str,
    custom_suffix: bool,
    description: &'static str,
}

static LINKED_SERVICES: LazyLock<Vec<LinkedService>> = LazyLock::new(|| {
    include_str!("service_linked_roles.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(LinkedService {
                service: f.next()?,
                role_name: f.next()?,
                policy_arn: f.next()?,
                custom_suffix: f.next()? == "yes",
                description: f.next().unwrap_or(""),
            })
        })
        .collect()
});

/// `AWSServiceRoleFor` and the service's first label in CamelCase, for a service the recordings
/// do not name (`foo-bar.amazonaws.com` → `AWSServiceRoleForFooBar`).
fn default_role_name(service: &str) -> String {
    let label = service.split('.').next().unwrap_or(service);
    let camel: String = label
        .split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    format!("AWSServiceRoleFor{camel}")
}

/// The name of the role CreateServiceLinkedRole makes for `service` (without a custom suffix).
pub fn service_role_name(service: &str) -> String {
    LINKED_SERVICES
        .iter()
        .find(|s| s.service == service)
        .map(|s| s.role_name.to_string())
        .unwrap_or_else(|| default_role_name(service))
}

/// The trust policy AWS gives a service-linked role.
fn service_trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

async fn create_service_linked_role(
    app: App,
    ctx: Ctx,
    input: iam::CreateServiceLinkedRoleRequest,
) -> Result<iam::CreateServiceLinkedRoleResponse, ApiError> {
    let service = input.aws_service_name;
    if !service.ends_with(".amazonaws.com") || service.len() <= ".amazonaws.com".len() {
        return Err(ApiError::invalid_input(format!(
            "Invalid service name: {service}"
        )));
    }
    let known = LINKED_SERVICES.iter().find(|s| s.service == service);
    let mut name = service_role_name(&service);
    if let Some(suffix) = &input.custom_suffix {
        if known.is_some_and(|s| !s.custom_suffix) {
            return Err(ApiError::invalid_input(format!(
                "Custom suffix is not allowed for {service}"
            )));
        }
        name = format!("{name}_{suffix}");
    }
    let account = ctx.account().to_string();
    let mut role = Role::new(
        &account,
        &name,
        &format!("/aws-service-role/{service}/"),
        &service_trust_policy(&service),
    );
    role.description = input
        .description
        .or_else(|| known.map(|s| s.description.to_string()))
        .filter(|d| !d.is_empty());
    let policy_arn = known.map(|s| s.policy_arn).filter(|a| !a.is_empty());
    let role = app
        .store
        .write(move |tx| {
            if tx.account(&account).roles.get(&role.name).is_some() {
                return Err(ApiError::invalid_input(format!(
                    "Service role name {} has been taken in this account, please try a different suffix.",
                    role.name
                )));
            }
            let role = insert_role(tx, role)?;
            if let Some(arn) = policy_arn {
                let owner = require_owner(
                    tx.account(&account),
                    crate::store::model::PrincipalKind::Role,
                    &role.name,
                )?;
                // The service's AWS managed policy, when the catalogue has it.
                if policies::find_policy(tx.account(&account), arn).is_some() {
                    policies::attach_policy(tx, &account, &owner, arn)?;
                }
            }
            let acct = tx.account(&account);
            Ok(acct.roles.get_by_id(&role.role_id).cloned().unwrap_or(role))
        })
        .await?;
    Ok(iam::CreateServiceLinkedRoleResponse {
        role: Some(role_shape(&role, RoleView::Created)),
    })
}

async fn delete_service_linked_role(
    app: App,
    ctx: Ctx,
    input: iam::DeleteServiceLinkedRoleRequest,
) -> Result<iam::DeleteServiceLinkedRoleResponse, ApiError> {
    let account = ctx.account().to_string();
    let task = app
        .store
        .write(move |tx| {
            let acct = tx.account(&account);
            let role = require_role(acct, &input.role_name)?;
            if !role.is_service_linked() {
                return Err(ApiError::invalid_input(format!(
                    "Role {} is not a service-linked role.",
                    role.name
                )));
            }
            if acct.profile_ids_of_role(&role.role_id).next().is_some() {
                return Err(ApiError::delete_conflict(
                    "Cannot delete entity, must remove roles from instance profile first.",
                ));
            }
            // The service's own policies go with the role.
            tx.remove::<Role>(&account, &role.role_id)?;
            Ok(format!(
                "task{}{}/{}",
                role.path,
                role.name,
                uuid::Uuid::new_v4()
            ))
        })
        .await?;
    Ok(iam::DeleteServiceLinkedRoleResponse {
        deletion_task_id: task,
    })
}

async fn get_service_linked_role_deletion_status(
    app: App,
    ctx: Ctx,
    input: iam::GetServiceLinkedRoleDeletionStatusRequest,
) -> Result<iam::GetServiceLinkedRoleDeletionStatusResponse, ApiError> {
    let id = &input.deletion_task_id;
    let invalid = || ApiError::invalid_input(format!("Invalid deletion task id: {id}"));
    // task/aws-service-role/SERVICE/ROLE/UUID
    let parts: Vec<&str> = id.split('/').collect();
    let [task, "aws-service-role", service, role_name, uuid] = parts.as_slice() else {
        return Err(invalid());
    };
    if *task != "task" || service.is_empty() || role_name.is_empty() || uuid.is_empty() {
        return Err(invalid());
    }
    let _ = (&app, &ctx);
    // DeleteServiceLinkedRole deletes at once: every task it handed out has succeeded.
    Ok(iam::GetServiceLinkedRoleDeletionStatusResponse {
        status: "SUCCEEDED".to_string(),
        reason: None,
    })
}

//! Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy; their versions (CreatePolicyVersion,
//! GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion); their tags (TagPolicy,
//! UntagPolicy, ListPolicyTags); their attachments to users and groups (Attach/Detach/ListAttached…Policies) and
//! ListEntitiesForPolicy.
//!
//! Attachments go through [`attach_policy`], [`detach_policy`] and [`list_attached_policies`], which take the
//! principal already resolved as a [`PolicyOwner`] (see [`require_owner`]): roles slot in through the owner
//! lookup.

use std::sync::Arc;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::policy::validate::{policy_size, validate, PolicyKind};
use crate::protocol::{iam, Operation};
use crate::state::App;
use crate::store::model::{
    merge_tags, new_tag_keys, remove_tags, Account, ManagedPolicy, PolicyVersion, PrincipalKind,
    TagKeys,
};
use crate::store::{ids, lower, StoreError, Tx};

/// The size quota of a managed policy document (as [`policy_size`] counts it).
pub const MAX_POLICY_SIZE: usize = 6_144;
/// The most versions a managed policy keeps.
pub const MAX_POLICY_VERSIONS: usize = 5;
/// The most managed policies attached to one user, group or role (AWS's default quota).
pub const MAX_ATTACHED_POLICIES: usize = 10;

/// Registers AttachXPolicy, DetachXPolicy and ListAttachedXPolicies of one owner family: they
/// differ only in the owner's kind and the name of its field (`UserName`, `RoleName`, …).
macro_rules! register_attachment_ops {
    ($r:expr, $kind:expr, $owner:ident, $attach:ident, $detach:ident, $list:ident($list_out:ident)) => {{
        $r.iam::<iam::$attach, _, _>(
            |app: App, ctx: Ctx, input: <iam::$attach as Operation>::Input| async move {
                change_attachment(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    &input.policy_arn,
                    true,
                )
                .await
            },
        );
        $r.iam::<iam::$detach, _, _>(
            |app: App, ctx: Ctx, input: <iam::$detach as Operation>::Input| async move {
                change_attachment(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    &input.policy_arn,
                    false,
                )
                .await
            },
        );
        $r.iam::<iam::$list, _, _>(
            |app: App, ctx: Ctx, input: <iam::$list as Operation>::Input| async move {
                let (items, marker) = list_attached_for(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    input.path_prefix.as_deref(),
                    input.marker.as_deref(),
                    input.max_items,
                )?;
                Ok(iam::$list_out {
                    attached_policies: Some(items),
                    is_truncated: Some(marker.is_some()),
                    marker,
                })
            },
        );
    }};
}

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreatePolicy, _, _>(create_policy);
    r.iam::<iam::GetPolicy, _, _>(get_policy);
    r.iam::<iam::ListPolicies, _, _>(list_policies);
    r.iam::<iam::DeletePolicy, _, _>(delete_policy);
    r.iam::<iam::CreatePolicyVersion, _, _>(create_policy_version);
    r.iam::<iam::GetPolicyVersion, _, _>(get_policy_version);
    r.iam::<iam::ListPolicyVersions, _, _>(list_policy_versions);
    r.iam::<iam::DeletePolicyVersion, _, _>(delete_policy_version);
    r.iam::<iam::SetDefaultPolicyVersion, _, _>(set_default_policy_version);
    r.iam::<iam::TagPolicy, _, _>(tag_policy);
    r.iam::<iam::UntagPolicy, _, _>(untag_policy);
    r.iam::<iam::ListPolicyTags, _, _>(list_policy_tags);
    register_attachment_ops!(
        r,
        PrincipalKind::User,
        user_name,
        AttachUserPolicy,
        DetachUserPolicy,
        ListAttachedUserPolicies(ListAttachedUserPoliciesResponse)
    );
    register_attachment_ops!(
        r,
        PrincipalKind::Group,
        group_name,
        AttachGroupPolicy,
        DetachGroupPolicy,
        ListAttachedGroupPolicies(ListAttachedGroupPoliciesResponse)
    );
    register_attachment_ops!(
        r,
        PrincipalKind::Role,
        role_name,
        AttachRolePolicy,
        DetachRolePolicy,
        ListAttachedRolePolicies(ListAttachedRolePoliciesResponse)
    );
    r.iam::<iam::ListEntitiesForPolicy, _, _>(list_entities_for_policy);
}

// ------------------------------------------------------------------------------------------------------------
// Shapes, lookups and AWS's messages
// ------------------------------------------------------------------------------------------------------------

/// Which optional members a `Policy` carries: AWS's operations differ (CreatePolicy has no `Description`,
/// ListPolicies neither `Description` nor `Tags`, GetPolicy both, with `Tags` even when empty).
pub fn policy_shape(
    account: &Account,
    p: &ManagedPolicy,
    description: bool,
    tags: Option<Vec<iam::Tag>>,
) -> iam::Policy {
    let arn = p.arn();
    iam::Policy {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.policy_id.clone()),
        path: Some(p.path.clone()),
        default_version_id: Some(p.default_version_id.clone()),
        attachment_count: Some(count_i32(account.attachment_count(&p.policy_id))),
        permissions_boundary_usage_count: Some(count_i32(account.boundary_usage_count(&arn))),
        arn: Some(arn),
        is_attachable: Some(p.is_attachable),
        description: if description {
            p.description.clone()
        } else {
            None
        },
        create_date: Some(ts(p.create_date)),
        update_date: Some(ts(p.update_date)),
        tags,
    }
}

fn count_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A version; `Document` (URL-encoded, as AWS sends it) only for GetPolicyVersion.
pub fn version_shape(
    p: &ManagedPolicy,
    v: &PolicyVersion,
    with_document: bool,
) -> iam::PolicyVersion {
    iam::PolicyVersion {
        document: with_document.then(|| encode_policy(&v.document)),
        version_id: Some(v.version_id.clone()),
        is_default_version: Some(v.version_id == p.default_version_id),
        create_date: Some(ts(v.create_date)),
    }
}

/// AWS's check of a policy ARN parameter: anything that is not shaped like an ARN is a `ValidationError`.
/// (An ARN of the wrong kind is merely a policy that does not exist.)
pub fn check_arn(arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty();
    if valid {
        Ok(())
    } else {
        Err(ApiError::validation(format!("ARN {arn} is not valid.")))
    }
}

/// `Policy X was not found.` (GetPolicy, DeletePolicy, tags, DetachUserPolicy, …).
pub fn policy_not_found(arn: &str) -> ApiError {
    ApiError::no_such_entity(format!("Policy {arn} was not found."))
}

/// `Policy X does not exist or is not attachable.` (Attach…Policy, ListEntitiesForPolicy).
pub fn policy_not_attachable(arn: &str) -> ApiError {
    ApiError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

/// `Policy X version V does not exist or is not attachable.`
fn version_not_found(arn: &str, version_id: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "Policy {arn} version {version_id} does not exist or is not attachable."
    ))
}

/// The managed policy of that ARN visible from the account (its own policies; AWS managed ones
/// once they exist). `None` when there is none.
pub fn find_policy(account: &Account, arn: &str) -> Option<Arc<ManagedPolicy>> {
    account.policy_by_arn(arn).cloned()
}

/// [`find_policy`], or the error `missing` builds from the ARN.
fn require_policy(
    account: &Account,
    arn: &str,
    missing: fn(&str) -> ApiError,
) -> Result<Arc<ManagedPolicy>, ApiError> {
    check_arn(arn)?;
    find_policy(account, arn).ok_or_else(|| missing(arn))
}

/// Applies `f` to the policy in a write.
fn update_policy<R>(
    tx: &mut Tx<'_>,
    p: &ManagedPolicy,
    f: impl FnOnce(&mut ManagedPolicy) -> R,
) -> Result<R, ApiError> {
    Ok(tx.update(&p.account_id, &p.policy_id, f)?.1)
}

/// AWS managed policies are read-only: AWS's `AccessDenied` with the operation's message.
fn require_own(p: &ManagedPolicy, message: &'static str) -> Result<(), ApiError> {
    if p.account_id == crate::store::model::AWS_ACCOUNT {
        Err(ApiError::access_denied(message))
    } else {
        Ok(())
    }
}

const UPDATE_OUTSIDE_ACCOUNT: &str = "Cannot update policies outside your own account.";

/// Validation of a managed policy document: AWS's grammar, then its size quota.
pub fn check_managed_document(document: &str) -> Result<(), ApiError> {
    validate(document, PolicyKind::Identity).map_err(|e| ApiError::malformed_policy(e.message))?;
    if policy_size(document) > MAX_POLICY_SIZE {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}"
        )));
    }
    Ok(())
}

/// AWS's checks on the tags of a policy: keys are case-sensitive here, so only an exact repeat is a duplicate.
fn check_policy_tags(tags: &[iam::Tag]) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    if tags.iter().all(|t| seen.insert(t.key.as_str())) {
        Ok(())
    } else {
        Err(ApiError::invalid_input("Duplicate tag keys found."))
    }
}

// ------------------------------------------------------------------------------------------------------------
// Policies
// ------------------------------------------------------------------------------------------------------------

async fn create_policy(
    app: App,
    ctx: Ctx,
    input: iam::CreatePolicyRequest,
) -> Result<iam::CreatePolicyResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_policy_tags(&tags)?;
    check_managed_document(&input.policy_document)?;
    let account = ctx.account().to_string();
    let mut policy = ManagedPolicy::new(
        &account,
        &input.policy_name,
        &path_or_root(input.path.as_deref()),
        input.description.as_deref(),
        &input.policy_document,
    );
    policy.tags = to_store_tags(&tags);
    let (policy, shape) = app
        .store
        .write(move |tx| {
            let name = policy.name.clone();
            let p = tx.insert(policy).map_err(|e| match e {
                StoreError::UniqueViolation(_) => ApiError::already_exists(format!(
                    "A policy called {name} already exists. Duplicate names are not allowed."
                )),
                other => other.into(),
            })?;
            let shape = policy_shape(
                tx.account(&account),
                &p,
                false,
                (!tags.is_empty()).then_some(tags),
            );
            Ok::<_, ApiError>((p, shape))
        })
        .await?;
    drop(policy);
    Ok(iam::CreatePolicyResponse {
        policy: Some(shape),
    })
}

async fn get_policy(
    app: App,
    ctx: Ctx,
    input: iam::GetPolicyRequest,
) -> Result<iam::GetPolicyResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let p = require_policy(acct, &input.policy_arn, policy_not_found)?;
    Ok(iam::GetPolicyResponse {
        policy: Some(policy_shape(acct, &p, true, Some(to_api_tags(&p.tags)))),
    })
}

async fn list_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListPoliciesRequest,
) -> Result<iam::ListPoliciesResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    // AWS managed policies are not in the catalogue yet: `Scope=AWS` lists none.
    let local = input.scope.as_deref() != Some("AWS");
    let only_attached = input.only_attached.unwrap_or(false);
    let boundary = input.policy_usage_filter.as_deref() == Some("PermissionsBoundary");
    let path_prefix = input.path_prefix.as_deref();
    let page = acct
        .policies
        .page(marker.as_deref(), max_items(input.max_items), |p| {
            local
                && path_prefix.is_none_or(|pre| p.path.starts_with(pre))
                && (!only_attached
                    || if boundary {
                        acct.boundary_usage_count(&p.arn()) > 0
                    } else {
                        acct.attachment_count(&p.policy_id) > 0
                    })
        });
    Ok(iam::ListPoliciesResponse {
        policies: Some(
            page.items
                .iter()
                .map(|p| policy_shape(acct, p, false, None))
                .collect(),
        ),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn delete_policy(
    app: App,
    ctx: Ctx,
    input: iam::DeletePolicyRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let p = require_policy(acct, &input.policy_arn, policy_not_found)?;
            require_own(&p, "Cannot delete policies outside your own account.")?;
            if acct.attachment_count(&p.policy_id) > 0 || acct.boundary_usage_count(&p.arn()) > 0
            {
                return Err(ApiError::delete_conflict(
                    "Cannot delete a policy attached to entities.",
                ));
            }
            if p.versions.len() > 1 {
                return Err(ApiError::delete_conflict(
                    "This policy has more than one version. Before you delete a policy, you must delete the policy's \
                     versions. The default version is deleted with the policy.",
                ));
            }
            tx.remove::<ManagedPolicy>(&account, &p.policy_id)?;
            Ok(())
        })
        .await
}

// ------------------------------------------------------------------------------------------------------------
// Versions
// ------------------------------------------------------------------------------------------------------------

async fn create_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::CreatePolicyVersionRequest,
) -> Result<iam::CreatePolicyVersionResponse, ApiError> {
    check_arn(&input.policy_arn)?;
    check_managed_document(&input.policy_document)?;
    let account = ctx.account().to_string();
    let set_default = input.set_as_default.unwrap_or(false);
    let shape = app
        .store
        .write(move |tx| {
            let p = require_policy(tx.account(&account), &input.policy_arn, policy_not_found)?;
            require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
            if p.versions.len() >= MAX_POLICY_VERSIONS {
                return Err(ApiError::limit_exceeded(
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an \
                     existing version.",
                ));
            }
            let now = ids::now();
            let document = input.policy_document;
            update_policy(tx, &p, |p| {
                let v = PolicyVersion {
                    version_id: format!("v{}", p.next_version),
                    document,
                    create_date: now,
                };
                p.next_version += 1;
                if set_default {
                    p.default_version_id.clone_from(&v.version_id);
                    p.update_date = now;
                }
                p.versions.insert(0, v.clone());
                version_shape(p, &v, false)
            })
        })
        .await?;
    Ok(iam::CreatePolicyVersionResponse {
        policy_version: Some(shape),
    })
}

async fn get_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::GetPolicyVersionRequest,
) -> Result<iam::GetPolicyVersionResponse, ApiError> {
    let (arn, vid) = (&input.policy_arn, &input.version_id);
    check_arn(arn)?;
    let model = app.store.read();
    let p = find_policy(model.account(ctx.account()), arn)
        .ok_or_else(|| version_not_found(arn, vid))?;
    let v = p.version(vid).ok_or_else(|| version_not_found(arn, vid))?;
    Ok(iam::GetPolicyVersionResponse {
        policy_version: Some(version_shape(&p, v, true)),
    })
}

async fn list_policy_versions(
    app: App,
    ctx: Ctx,
    input: iam::ListPolicyVersionsRequest,
) -> Result<iam::ListPolicyVersionsResponse, ApiError> {
    let model = app.store.read();
    let p = require_policy(
        model.account(ctx.account()),
        &input.policy_arn,
        policy_not_found,
    )?;
    let all: Vec<&PolicyVersion> = p.versions.iter().collect();
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListPolicyVersionsResponse {
        versions: Some(items.iter().map(|v| version_shape(&p, v, false)).collect()),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn delete_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::DeletePolicyVersionRequest,
) -> Result<(), ApiError> {
    check_arn(&input.policy_arn)?;
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let (arn, vid) = (&input.policy_arn, &input.version_id);
            let p = find_policy(tx.account(&account), arn)
                .ok_or_else(|| version_not_found(arn, vid))?;
            require_own(
                &p,
                "Cannot delete policy versions for policies outside your own account.",
            )?;
            if p.default_version_id == *vid {
                return Err(ApiError::delete_conflict(
                    "Cannot delete the default version of a policy.",
                ));
            }
            if p.version(vid).is_none() {
                return Err(version_not_found(arn, vid));
            }
            update_policy(tx, &p, |p| p.versions.retain(|v| v.version_id != *vid))
        })
        .await
}

async fn set_default_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::SetDefaultPolicyVersionRequest,
) -> Result<(), ApiError> {
    check_arn(&input.policy_arn)?;
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let (arn, vid) = (&input.policy_arn, &input.version_id);
            let p = find_policy(tx.account(&account), arn)
                .ok_or_else(|| version_not_found(arn, vid))?;
            require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
            if p.version(vid).is_none() {
                return Err(version_not_found(arn, vid));
            }
            let now = ids::now();
            update_policy(tx, &p, |p| {
                p.default_version_id.clone_from(vid);
                p.update_date = now;
            })
        })
        .await
}

// ------------------------------------------------------------------------------------------------------------
// Tags
// ------------------------------------------------------------------------------------------------------------

async fn tag_policy(app: App, ctx: Ctx, input: iam::TagPolicyRequest) -> Result<(), ApiError> {
    check_policy_tags(&input.tags)?;
    let account = ctx.account().to_string();
    let tags = to_store_tags(&input.tags);
    app.store
        .write(move |tx| {
            let p = require_policy(tx.account(&account), &input.policy_arn, policy_not_found)?;
            require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
            // Policy tag keys are case-sensitive.
            if p.tags.len() + new_tag_keys(&p.tags, &tags, TagKeys::CaseSensitive) > MAX_TAGS {
                return Err(tags_limit_exceeded());
            }
            update_policy(tx, &p, |p| {
                merge_tags(&mut p.tags, &tags, TagKeys::CaseSensitive)
            })
        })
        .await
}

async fn untag_policy(app: App, ctx: Ctx, input: iam::UntagPolicyRequest) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let p = require_policy(tx.account(&account), &input.policy_arn, policy_not_found)?;
            require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
            update_policy(tx, &p, |p| {
                remove_tags(&mut p.tags, &input.tag_keys, TagKeys::CaseSensitive)
            })
        })
        .await
}

/// ListPolicyTags orders tags as AWS was recorded doing: shorter keys first, then by key (`A`, `a`, `b`, `abc`);
/// GetPolicy and CreatePolicy keep the order they were given in.
async fn list_policy_tags(
    app: App,
    ctx: Ctx,
    input: iam::ListPolicyTagsRequest,
) -> Result<iam::ListPolicyTagsResponse, ApiError> {
    let model = app.store.read();
    let p = require_policy(
        model.account(ctx.account()),
        &input.policy_arn,
        policy_not_found,
    )?;
    let mut all = to_api_tags(&p.tags);
    all.sort_by(|a, b| (a.key.chars().count(), &a.key).cmp(&(b.key.chars().count(), &b.key)));
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListPolicyTagsResponse {
        tags: items,
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

// ------------------------------------------------------------------------------------------------------------
// Attachments (shared by users, groups and, later, roles)
// ------------------------------------------------------------------------------------------------------------

/// The quota name in AWS's LimitExceeded message (`Cannot exceed quota for PoliciesPerUser: 10`).
fn attach_quota_name(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "PoliciesPerUser",
        PrincipalKind::Group => "PoliciesPerGroup",
        PrincipalKind::Role => "PoliciesPerRole",
    }
}

/// Attaches a managed policy: a no-op when it is attached already; AWS's errors for a policy that
/// does not exist (or is not attachable) and the per-principal quota.
pub fn attach_policy(
    tx: &mut Tx<'_>,
    account: &str,
    owner: &PolicyOwner,
    arn: &str,
) -> Result<(), ApiError> {
    let acct = tx.account(account);
    let p = match find_policy(acct, arn) {
        Some(p) if p.is_attachable => p,
        _ => return Err(policy_not_attachable(arn)),
    };
    let attached = acct
        .held(owner.kind, &owner.id)
        .map(|h| h.attached)
        .unwrap_or_default();
    if attached.contains(&p.policy_id) {
        return Ok(());
    }
    if attached.len() >= MAX_ATTACHED_POLICIES {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for {}: {MAX_ATTACHED_POLICIES}",
            attach_quota_name(owner.kind)
        )));
    }
    tx.update_held(account, owner.kind, &owner.id, |_, attached| {
        attached.push(p.policy_id.clone())
    })?;
    Ok(())
}

/// Detaches a managed policy; `Policy X was not found.` when it is not attached (or does not exist).
pub fn detach_policy(
    tx: &mut Tx<'_>,
    account: &str,
    owner: &PolicyOwner,
    arn: &str,
) -> Result<(), ApiError> {
    let acct = tx.account(account);
    let p = find_policy(acct, arn).ok_or_else(|| policy_not_found(arn))?;
    let attached = acct
        .held(owner.kind, &owner.id)
        .is_some_and(|h| h.attached.contains(&p.policy_id));
    if !attached {
        return Err(policy_not_found(arn));
    }
    tx.update_held(account, owner.kind, &owner.id, |_, attached| {
        attached.retain(|id| *id != p.policy_id)
    })?;
    Ok(())
}

/// One page of the policies attached to the owner (ordered by name), filtered by path prefix.
pub fn list_attached_policies(
    account: &Account,
    owner: &PolicyOwner,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<iam::AttachedPolicy>, Option<String>), ApiError> {
    let mut all: Vec<&Arc<ManagedPolicy>> = account
        .held(owner.kind, &owner.id)
        .map(|h| h.attached)
        .unwrap_or_default()
        .iter()
        .filter_map(|id| account.policies.get_by_id(id))
        .filter(|p| path_prefix.is_none_or(|pre| p.path.starts_with(pre)))
        .collect();
    all.sort_by_cached_key(|p| (lower(&p.name), p.policy_id.clone()));
    let (items, marker) = paginate(all, marker, max_items(max))?;
    let shapes = items
        .iter()
        .map(|p| iam::AttachedPolicy {
            policy_name: Some(p.name.clone()),
            policy_arn: Some(p.arn()),
        })
        .collect();
    Ok((shapes, marker))
}

/// AttachXPolicy / DetachXPolicy for the `kind` entity named `owner_name`.
async fn change_attachment(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    arn: &str,
    attach: bool,
) -> Result<(), ApiError> {
    check_arn(arn)?;
    let (account, owner_name, arn) = (account.to_string(), owner_name.to_string(), arn.to_string());
    app.store
        .write(move |tx| {
            let owner = require_owner(tx.account(&account), kind, &owner_name)?;
            if attach {
                attach_policy(tx, &account, &owner, &arn)
            } else {
                detach_policy(tx, &account, &owner, &arn)
            }
        })
        .await
}

/// ListAttachedXPolicies for the `kind` entity named `owner_name`.
fn list_attached_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<iam::AttachedPolicy>, Option<String>), ApiError> {
    let model = app.store.read();
    let acct = model.account(account);
    let owner = require_owner(acct, kind, owner_name)?;
    list_attached_policies(acct, &owner, path_prefix, marker, max)
}

// ------------------------------------------------------------------------------------------------------------
// ListEntitiesForPolicy
// ------------------------------------------------------------------------------------------------------------

/// A user, group or role a policy is attached to.
struct EntityRef {
    id: String,
    name: String,
    path: String,
}

/// One entity of ListEntitiesForPolicy, in AWS's order: groups, users, roles.
enum Entity {
    Group(EntityRef),
    User(EntityRef),
    Role(EntityRef),
}

/// What ListEntitiesForPolicy lists, each kind ordered by name.
#[derive(Default)]
struct PolicyEntities {
    users: Vec<EntityRef>,
    groups: Vec<EntityRef>,
    roles: Vec<EntityRef>,
}

fn sorted(mut v: Vec<EntityRef>) -> Vec<EntityRef> {
    v.sort_by_cached_key(|e| lower(&e.name));
    v
}

/// The name and path of a user, group or role.
fn entity_ref(account: &Account, kind: PrincipalKind, id: &str) -> Option<EntityRef> {
    let (name, path) = match kind {
        PrincipalKind::User => account.users.get_by_id(id).map(|u| (&u.name, &u.path))?,
        PrincipalKind::Group => account.groups.get_by_id(id).map(|g| (&g.name, &g.path))?,
        PrincipalKind::Role => account.roles.get_by_id(id).map(|r| (&r.name, &r.path))?,
    };
    Some(EntityRef {
        id: id.to_string(),
        name: name.clone(),
        path: path.clone(),
    })
}

/// The users, groups and roles a policy is attached to, or that use it as boundary.
fn entities_for_policy(account: &Account, p: &ManagedPolicy, boundary: bool) -> PolicyEntities {
    let arn = p.arn();
    let holders: Vec<(PrincipalKind, &str)> = if boundary {
        account.boundary_holders(&arn).collect()
    } else {
        account.attachments_of(&p.policy_id).collect()
    };
    let mut out = PolicyEntities::default();
    for (kind, id) in holders {
        let Some(e) = entity_ref(account, kind, id) else {
            continue;
        };
        match kind {
            PrincipalKind::User => out.users.push(e),
            PrincipalKind::Group => out.groups.push(e),
            PrincipalKind::Role => out.roles.push(e),
        }
    }
    out.users = sorted(out.users);
    out.groups = sorted(out.groups);
    out.roles = sorted(out.roles);
    out
}

async fn list_entities_for_policy(
    app: App,
    ctx: Ctx,
    input: iam::ListEntitiesForPolicyRequest,
) -> Result<iam::ListEntitiesForPolicyResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let p = require_policy(acct, &input.policy_arn, policy_not_attachable)?;
    let boundary = input.policy_usage_filter.as_deref() == Some("PermissionsBoundary");
    let mut ents = entities_for_policy(acct, &p, boundary);
    drop(model);
    let (want_users, want_groups, want_roles) = match input.entity_filter.as_deref() {
        Some("User") => (true, false, false),
        Some("Group") => (false, true, false),
        Some("Role") => (false, false, true),
        // LocalManagedPolicy / AWSManagedPolicy filter for policies, which are never attached to a policy.
        Some(_) => (false, false, false),
        None => (true, true, true),
    };
    let keep = |e: &EntityRef| {
        input
            .path_prefix
            .as_deref()
            .is_none_or(|pre| e.path.starts_with(pre))
    };
    ents.users.retain(keep);
    ents.groups.retain(keep);
    ents.roles.retain(keep);
    let mut all = Vec::new();
    if want_groups {
        all.extend(ents.groups.into_iter().map(Entity::Group));
    }
    if want_users {
        all.extend(ents.users.into_iter().map(Entity::User));
    }
    if want_roles {
        all.extend(ents.roles.into_iter().map(Entity::Role));
    }
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    let mut out = iam::ListEntitiesForPolicyResponse {
        policy_groups: Some(Vec::new()),
        policy_users: Some(Vec::new()),
        policy_roles: Some(Vec::new()),
        is_truncated: Some(marker.is_some()),
        marker,
    };
    for e in items {
        match e {
            Entity::Group(g) => {
                out.policy_groups
                    .get_or_insert_with(Vec::new)
                    .push(iam::PolicyGroup {
                        group_name: Some(g.name),
                        group_id: Some(g.id),
                    })
            }
            Entity::User(u) => {
                out.policy_users
                    .get_or_insert_with(Vec::new)
                    .push(iam::PolicyUser {
                        user_name: Some(u.name),
                        user_id: Some(u.id),
                    })
            }
            Entity::Role(r) => {
                out.policy_roles
                    .get_or_insert_with(Vec::new)
                    .push(iam::PolicyRole {
                        role_name: Some(r.name),
                        role_id: Some(r.id),
                    })
            }
        }
    }
    Ok(out)
}

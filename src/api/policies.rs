//! Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy; their versions (CreatePolicyVersion,
//! GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion); their tags (TagPolicy,
//! UntagPolicy, ListPolicyTags); their attachments to users and groups (Attach/Detach/ListAttached…Policies) and
//! ListEntitiesForPolicy.
//!
//! Attachments go through [`attach_policy`], [`detach_policy`] and [`list_attached_policies`], which take the
//! principal already resolved as a [`PolicyOwner`] (see [`require_owner`]): roles slot in through the owner
//! lookup.

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::policy::validate::{policy_size, validate, PolicyKind};
use crate::protocol::iam;
use crate::state::App;
use crate::store::inline_policies::PrincipalKind;
use crate::store::policies::{
    self, PolicyFilter, PolicyRow, PolicyScope, PolicyUsage, PolicyVersionRow,
};
use crate::store::tags::{self, TagTarget};
use crate::store::{ids, users, StoreError};

/// The size quota of a managed policy document (as [`policy_size`] counts it).
pub const MAX_POLICY_SIZE: usize = 6_144;
/// The most versions a managed policy keeps.
pub const MAX_POLICY_VERSIONS: i64 = 5;
/// The most managed policies attached to one user, group or role (AWS's default quota).
pub const MAX_ATTACHED_POLICIES: usize = 10;

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
    r.iam::<iam::AttachUserPolicy, _, _>(attach_user_policy);
    r.iam::<iam::DetachUserPolicy, _, _>(detach_user_policy);
    r.iam::<iam::ListAttachedUserPolicies, _, _>(list_attached_user_policies);
    r.iam::<iam::AttachGroupPolicy, _, _>(attach_group_policy);
    r.iam::<iam::DetachGroupPolicy, _, _>(detach_group_policy);
    r.iam::<iam::ListAttachedGroupPolicies, _, _>(list_attached_group_policies);
    r.iam::<iam::ListEntitiesForPolicy, _, _>(list_entities_for_policy);
}

// ------------------------------------------------------------------------------------------------------------
// Shapes, lookups and AWS's messages
// ------------------------------------------------------------------------------------------------------------

/// Which optional members a `Policy` carries: AWS's operations differ (CreatePolicy has no `Description`,
/// ListPolicies neither `Description` nor `Tags`, GetPolicy both, with `Tags` even when empty).
pub fn policy_shape(p: &PolicyRow, description: bool, tags: Option<Vec<iam::Tag>>) -> iam::Policy {
    iam::Policy {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.policy_id.clone()),
        arn: Some(p.arn()),
        path: Some(p.path.clone()),
        default_version_id: Some(p.default_version_id.clone()),
        attachment_count: Some(count_i32(p.attachment_count)),
        permissions_boundary_usage_count: Some(count_i32(p.permissions_boundary_usage_count)),
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

fn count_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A version; `Document` (URL-encoded, as AWS sends it) only for GetPolicyVersion.
pub fn version_shape(v: &PolicyVersionRow, with_document: bool) -> iam::PolicyVersion {
    iam::PolicyVersion {
        document: with_document.then(|| encode_policy(&v.document)),
        version_id: Some(v.version_id.clone()),
        is_default_version: Some(v.is_default_version),
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

/// The managed policy of that ARN visible from `account` (its own policies and AWS managed ones), with counts
/// for `account`. `None` when there is none.
pub async fn find_policy(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    arn: &str,
) -> Result<Option<PolicyRow>, ApiError> {
    Ok(policies::get_by_arn(conn, account, arn)
        .await?
        .filter(|p| p.account_id == account || p.is_aws_managed()))
}

/// [`find_policy`], or the error `missing` builds from the ARN.
async fn require_policy(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    arn: &str,
    missing: fn(&str) -> ApiError,
) -> Result<PolicyRow, ApiError> {
    check_arn(arn)?;
    find_policy(conn, account, arn)
        .await?
        .ok_or_else(|| missing(arn))
}

/// AWS managed policies are read-only: AWS's `AccessDenied` with the operation's message.
fn require_own(p: &PolicyRow, message: &'static str) -> Result<(), ApiError> {
    if p.is_aws_managed() {
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
    let policy = PolicyRow::new(
        ctx.account(),
        &input.policy_name,
        &path_or_root(input.path.as_deref()),
        input.description.as_deref(),
    );
    let mut tx = begin(&app).await?;
    match policies::create(&mut tx, &policy, &input.policy_document).await {
        Err(StoreError::UniqueViolation(_)) => {
            return Err(ApiError::already_exists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                input.policy_name
            )))
        }
        other => other?,
    }
    if !tags.is_empty() {
        tags::put(
            &mut tx,
            TagTarget::Policy,
            ctx.account(),
            &policy.policy_id,
            &to_store_tags(&tags),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(iam::CreatePolicyResponse {
        policy: Some(policy_shape(
            &policy,
            false,
            (!tags.is_empty()).then_some(tags),
        )),
    })
}

async fn get_policy(
    app: App,
    ctx: Ctx,
    input: iam::GetPolicyRequest,
) -> Result<iam::GetPolicyResponse, ApiError> {
    let mut conn = read(&app).await?;
    let p = require_policy(
        &mut conn,
        ctx.account(),
        &input.policy_arn,
        policy_not_found,
    )
    .await?;
    let t = tags::list(&mut conn, TagTarget::Policy, &p.policy_id).await?;
    Ok(iam::GetPolicyResponse {
        policy: Some(policy_shape(&p, true, Some(to_api_tags(t)))),
    })
}

fn scope(v: Option<&str>) -> PolicyScope {
    match v {
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        _ => PolicyScope::All,
    }
}

fn usage(v: Option<&str>) -> Option<PolicyUsage> {
    match v {
        Some("PermissionsPolicy") => Some(PolicyUsage::PermissionsPolicy),
        Some("PermissionsBoundary") => Some(PolicyUsage::PermissionsBoundary),
        _ => None,
    }
}

async fn list_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListPoliciesRequest,
) -> Result<iam::ListPoliciesResponse, ApiError> {
    let filter = PolicyFilter {
        scope: scope(input.scope.as_deref()),
        path_prefix: input.path_prefix.as_deref(),
        only_attached: input.only_attached.unwrap_or(false),
        usage: usage(input.policy_usage_filter.as_deref()),
    };
    let mut conn = read(&app).await?;
    let page = policies::list(
        &mut conn,
        ctx.account(),
        &filter,
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )
    .await?;
    Ok(iam::ListPoliciesResponse {
        policies: Some(
            page.items
                .iter()
                .map(|p| policy_shape(p, false, None))
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
    let mut tx = begin(&app).await?;
    let p = require_policy(&mut tx, ctx.account(), &input.policy_arn, policy_not_found).await?;
    require_own(&p, "Cannot delete policies outside your own account.")?;
    if p.attachment_count > 0 || p.permissions_boundary_usage_count > 0 {
        return Err(ApiError::delete_conflict(
            "Cannot delete a policy attached to entities.",
        ));
    }
    if policies::count_versions(&mut tx, &p.policy_id).await? > 1 {
        return Err(ApiError::delete_conflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's \
             versions. The default version is deleted with the policy.",
        ));
    }
    policies::delete(&mut tx, &p.policy_id).await?;
    tx.commit().await?;
    Ok(())
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
    let mut tx = begin(&app).await?;
    let p = require_policy(&mut tx, ctx.account(), &input.policy_arn, policy_not_found).await?;
    require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
    if policies::count_versions(&mut tx, &p.policy_id).await? >= MAX_POLICY_VERSIONS {
        return Err(ApiError::limit_exceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an \
             existing version.",
        ));
    }
    let v = policies::create_version(
        &mut tx,
        &p.policy_id,
        &input.policy_document,
        input.set_as_default.unwrap_or(false),
        ids::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(iam::CreatePolicyVersionResponse {
        policy_version: Some(version_shape(&v, false)),
    })
}

async fn get_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::GetPolicyVersionRequest,
) -> Result<iam::GetPolicyVersionResponse, ApiError> {
    let (arn, vid) = (&input.policy_arn, &input.version_id);
    check_arn(arn)?;
    let mut conn = read(&app).await?;
    let p = find_policy(&mut conn, ctx.account(), arn)
        .await?
        .ok_or_else(|| version_not_found(arn, vid))?;
    let v = policies::get_version(&mut conn, &p.policy_id, vid)
        .await?
        .ok_or_else(|| version_not_found(arn, vid))?;
    Ok(iam::GetPolicyVersionResponse {
        policy_version: Some(version_shape(&v, true)),
    })
}

async fn list_policy_versions(
    app: App,
    ctx: Ctx,
    input: iam::ListPolicyVersionsRequest,
) -> Result<iam::ListPolicyVersionsResponse, ApiError> {
    let mut conn = read(&app).await?;
    let p = require_policy(
        &mut conn,
        ctx.account(),
        &input.policy_arn,
        policy_not_found,
    )
    .await?;
    let all = policies::list_versions(&mut conn, &p.policy_id).await?;
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListPolicyVersionsResponse {
        versions: Some(items.iter().map(|v| version_shape(v, false)).collect()),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn delete_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::DeletePolicyVersionRequest,
) -> Result<(), ApiError> {
    let (arn, vid) = (&input.policy_arn, &input.version_id);
    check_arn(arn)?;
    let mut tx = begin(&app).await?;
    let p = find_policy(&mut tx, ctx.account(), arn)
        .await?
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
    match policies::delete_version(&mut tx, &p.policy_id, vid).await {
        Err(StoreError::NotFound) => return Err(version_not_found(arn, vid)),
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}

async fn set_default_policy_version(
    app: App,
    ctx: Ctx,
    input: iam::SetDefaultPolicyVersionRequest,
) -> Result<(), ApiError> {
    let (arn, vid) = (&input.policy_arn, &input.version_id);
    check_arn(arn)?;
    let mut tx = begin(&app).await?;
    let p = find_policy(&mut tx, ctx.account(), arn)
        .await?
        .ok_or_else(|| version_not_found(arn, vid))?;
    require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
    match policies::set_default_version(&mut tx, &p.policy_id, vid, ids::now()).await {
        Err(StoreError::NotFound) => return Err(version_not_found(arn, vid)),
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------------------
// Tags
// ------------------------------------------------------------------------------------------------------------

async fn tag_policy(app: App, ctx: Ctx, input: iam::TagPolicyRequest) -> Result<(), ApiError> {
    check_policy_tags(&input.tags)?;
    let mut tx = begin(&app).await?;
    let p = require_policy(&mut tx, ctx.account(), &input.policy_arn, policy_not_found).await?;
    require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
    let existing = tags::list(&mut tx, TagTarget::Policy, &p.policy_id).await?;
    let new_keys = input
        .tags
        .iter()
        // Policy tag keys are case-sensitive (as the store keeps them).
        .filter(|t| !existing.iter().any(|e| e.key == t.key))
        .count();
    if existing.len() + new_keys > MAX_TAGS {
        return Err(tags_limit_exceeded());
    }
    tags::put(
        &mut tx,
        TagTarget::Policy,
        ctx.account(),
        &p.policy_id,
        &to_store_tags(&input.tags),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn untag_policy(app: App, ctx: Ctx, input: iam::UntagPolicyRequest) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let p = require_policy(&mut tx, ctx.account(), &input.policy_arn, policy_not_found).await?;
    require_own(&p, UPDATE_OUTSIDE_ACCOUNT)?;
    tags::remove(&mut tx, TagTarget::Policy, &p.policy_id, &input.tag_keys).await?;
    tx.commit().await?;
    Ok(())
}

/// ListPolicyTags orders tags as AWS was recorded doing: shorter keys first, then by key (`A`, `a`, `b`, `abc`);
/// GetPolicy and CreatePolicy keep the order they were given in.
async fn list_policy_tags(
    app: App,
    ctx: Ctx,
    input: iam::ListPolicyTagsRequest,
) -> Result<iam::ListPolicyTagsResponse, ApiError> {
    let mut conn = read(&app).await?;
    let p = require_policy(
        &mut conn,
        ctx.account(),
        &input.policy_arn,
        policy_not_found,
    )
    .await?;
    let mut all = tags::list(&mut conn, TagTarget::Policy, &p.policy_id).await?;
    all.sort_by(|a, b| (a.key.chars().count(), &a.key).cmp(&(b.key.chars().count(), &b.key)));
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListPolicyTagsResponse {
        tags: to_api_tags(items),
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

/// Attaches a managed policy: a no-op when it is attached already; AWS's errors for an invalid ARN, a policy
/// that does not exist (or is not attachable) and the per-principal quota.
pub async fn attach_policy(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    owner: &PolicyOwner,
    arn: &str,
) -> Result<(), ApiError> {
    let p = match find_policy(conn, account, arn).await? {
        Some(p) if p.is_attachable => p,
        _ => return Err(policy_not_attachable(arn)),
    };
    let attached = policies::list_attached(conn, owner.kind, &owner.id, None).await?;
    if attached.iter().any(|a| a.policy_id == p.policy_id) {
        return Ok(());
    }
    if attached.len() >= MAX_ATTACHED_POLICIES {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for {}: {MAX_ATTACHED_POLICIES}",
            attach_quota_name(owner.kind)
        )));
    }
    policies::attach(conn, owner.kind, account, &owner.id, &p.policy_id).await?;
    Ok(())
}

/// Detaches a managed policy; `Policy X was not found.` when it is not attached (or does not exist).
pub async fn detach_policy(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    owner: &PolicyOwner,
    arn: &str,
) -> Result<(), ApiError> {
    let p = find_policy(conn, account, arn)
        .await?
        .ok_or_else(|| policy_not_found(arn))?;
    if !policies::detach(conn, owner.kind, &owner.id, &p.policy_id).await? {
        return Err(policy_not_found(arn));
    }
    Ok(())
}

/// One page of the policies attached to the owner, filtered by path prefix.
pub async fn list_attached_policies(
    conn: &mut sqlx::SqliteConnection,
    owner: &PolicyOwner,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<iam::AttachedPolicy>, Option<String>), ApiError> {
    let all = policies::list_attached(conn, owner.kind, &owner.id, path_prefix).await?;
    let (items, marker) = paginate(all, marker, max_items(max))?;
    let shapes = items
        .iter()
        .map(|a| iam::AttachedPolicy {
            policy_name: Some(a.name.clone()),
            policy_arn: Some(a.arn()),
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
    let mut tx = begin(app).await?;
    let owner = require_owner(&mut tx, account, kind, owner_name).await?;
    if attach {
        attach_policy(&mut tx, account, &owner, arn).await?;
    } else {
        detach_policy(&mut tx, account, &owner, arn).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// ListAttachedXPolicies for the `kind` entity named `owner_name`.
async fn list_attached_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    path_prefix: Option<&str>,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<iam::AttachedPolicy>, Option<String>), ApiError> {
    let mut conn = read(app).await?;
    let owner = require_owner(&mut conn, account, kind, owner_name).await?;
    list_attached_policies(&mut conn, &owner, path_prefix, marker, max).await
}

async fn attach_user_policy(
    app: App,
    ctx: Ctx,
    input: iam::AttachUserPolicyRequest,
) -> Result<(), ApiError> {
    let (user, arn) = (&input.user_name, &input.policy_arn);
    change_attachment(&app, ctx.account(), PrincipalKind::User, user, arn, true).await
}

async fn detach_user_policy(
    app: App,
    ctx: Ctx,
    input: iam::DetachUserPolicyRequest,
) -> Result<(), ApiError> {
    let (user, arn) = (&input.user_name, &input.policy_arn);
    change_attachment(&app, ctx.account(), PrincipalKind::User, user, arn, false).await
}

async fn list_attached_user_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListAttachedUserPoliciesRequest,
) -> Result<iam::ListAttachedUserPoliciesResponse, ApiError> {
    let (items, marker) = list_attached_for(
        &app,
        ctx.account(),
        PrincipalKind::User,
        &input.user_name,
        input.path_prefix.as_deref(),
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(iam::ListAttachedUserPoliciesResponse {
        attached_policies: Some(items),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn attach_group_policy(
    app: App,
    ctx: Ctx,
    input: iam::AttachGroupPolicyRequest,
) -> Result<(), ApiError> {
    let (group, arn) = (&input.group_name, &input.policy_arn);
    change_attachment(&app, ctx.account(), PrincipalKind::Group, group, arn, true).await
}

async fn detach_group_policy(
    app: App,
    ctx: Ctx,
    input: iam::DetachGroupPolicyRequest,
) -> Result<(), ApiError> {
    let (group, arn) = (&input.group_name, &input.policy_arn);
    change_attachment(&app, ctx.account(), PrincipalKind::Group, group, arn, false).await
}

async fn list_attached_group_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListAttachedGroupPoliciesRequest,
) -> Result<iam::ListAttachedGroupPoliciesResponse, ApiError> {
    let (items, marker) = list_attached_for(
        &app,
        ctx.account(),
        PrincipalKind::Group,
        &input.group_name,
        input.path_prefix.as_deref(),
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(iam::ListAttachedGroupPoliciesResponse {
        attached_policies: Some(items),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

// ------------------------------------------------------------------------------------------------------------
// ListEntitiesForPolicy
// ------------------------------------------------------------------------------------------------------------

/// One entity of ListEntitiesForPolicy, in AWS's order: groups, users, roles.
enum Entity {
    Group(policies::EntityRef),
    User(policies::EntityRef),
    Role(policies::EntityRef),
}

/// Users of the account whose permissions boundary is `arn`, ordered by name (roles join them once they exist).
async fn boundary_users(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    arn: &str,
) -> Result<Vec<policies::EntityRef>, ApiError> {
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = users::list(conn, account, None, marker.as_deref(), 1000).await?;
        found.extend(
            page.items
                .iter()
                .filter(|u| u.permissions_boundary_arn.as_deref() == Some(arn))
                .map(|u| policies::EntityRef {
                    id: u.user_id.clone(),
                    name: u.name.clone(),
                    path: u.path.clone(),
                }),
        );
        match page.marker {
            Some(m) => marker = Some(m),
            None => return Ok(found),
        }
    }
}

async fn list_entities_for_policy(
    app: App,
    ctx: Ctx,
    input: iam::ListEntitiesForPolicyRequest,
) -> Result<iam::ListEntitiesForPolicyResponse, ApiError> {
    let mut conn = read(&app).await?;
    let arn = &input.policy_arn;
    let p = require_policy(&mut conn, ctx.account(), arn, policy_not_attachable).await?;
    let mut ents = match usage(input.policy_usage_filter.as_deref()) {
        Some(PolicyUsage::PermissionsBoundary) => policies::PolicyEntities {
            users: boundary_users(&mut conn, ctx.account(), arn).await?,
            ..Default::default()
        },
        _ => policies::entities_for_policy(&mut conn, ctx.account(), &p.policy_id).await?,
    };
    let (want_users, want_groups, want_roles) = match input.entity_filter.as_deref() {
        Some("User") => (true, false, false),
        Some("Group") => (false, true, false),
        Some("Role") => (false, false, true),
        // LocalManagedPolicy / AWSManagedPolicy filter for policies, which are never attached to a policy.
        Some(_) => (false, false, false),
        None => (true, true, true),
    };
    let keep = |e: &policies::EntityRef| {
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

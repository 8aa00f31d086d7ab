//! Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy; their versions (CreatePolicyVersion,
//! GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion); their tags (TagPolicy,
//! UntagPolicy, ListPolicyTags); their attachments to users and groups (Attach/Detach/ListAttached…Policies) and
//! ListEntitiesForPolicy. Every account also sees AWS's managed policies (`arn:aws:iam::aws:policy/…`, the
//! catalogue of [`aws_managed`]): [`find_policy`] and [`Account::policy_by_id`] resolve both kinds, and the write
//! operations refuse AWS's with AWS's `AccessDenied` (`require_writable_policy`).
//!
//! Attachments go through [`attach_policy`], [`detach_policy`], [`list_attached_policies`] and
//! `change_attachment` / `list_attached_for`, which take the owner's [`PrincipalKind`] and resolve it with
//! [`require_owner`] (→ [`Account::held_by_name`]); ListEntitiesForPolicy reads [`Account::held`]. Roles plug in
//! by implementing `store::model::Holder` and adding their arm to `Account::find_held` and `Tx::update_held`;
//! AttachRolePolicy is then `change_attachment(&app, ctx.account(), PrincipalKind::Role, role, arn, true)`.

use std::ops::Bound;
use std::sync::Arc;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::policy::validate::{policy_size, validate, PolicyKind};
use crate::protocol::{iam, Operation};
use crate::state::App;
use crate::store::aws_managed;
use crate::store::model::{
    merge_tags, new_tag_keys, parse_policy_arn, remove_tags, Account, ManagedPolicy, PolicyVersion,
    PrincipalKind, TagKeys, AWS_ACCOUNT,
};
use crate::store::{ids, lower, Page, StoreError, Tx};

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

/// The managed policy of that ARN visible from the account: its own, or an AWS managed policy
/// (`arn:aws:iam::aws:policy/…`). `None` when there is none.
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

/// The policy a write operation changes: AWS managed policies (`arn:aws:iam::aws:policy/…`, whether
/// or not one of that name exists) are read-only, AWS's `AccessDenied` with the operation's message
/// (`denied`); a policy that does not exist is the error `missing` makes.
fn require_writable_policy(
    account: &Account,
    arn: &str,
    denied: &'static str,
    missing: impl FnOnce() -> ApiError,
) -> Result<Arc<ManagedPolicy>, ApiError> {
    check_arn(arn)?;
    if parse_policy_arn(arn).is_some_and(|(owner, _, _)| owner == AWS_ACCOUNT) {
        return Err(ApiError::access_denied(denied));
    }
    find_policy(account, arn).ok_or_else(missing)
}

const DELETE_OUTSIDE_ACCOUNT: &str = "Cannot delete policies outside your own account.";
const VERSION_OUTSIDE_ACCOUNT: &str =
    "Cannot create versions for policies outside your own account.";
const DELETE_VERSION_OUTSIDE_ACCOUNT: &str =
    "Cannot delete policy versions for policies outside your own account.";
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

/// ListPolicies lists the account's policies and AWS's (`Scope=Local|AWS|All`, `All` by default) as
/// one list in name order (at the same name, AWS's first), so one marker continues either.
async fn list_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListPoliciesRequest,
) -> Result<iam::ListPoliciesResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?
        .map(|m| ListingKey::parse(&m).ok_or_else(|| ApiError::validation("Invalid Marker.")))
        .transpose()?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let scope = input.scope.as_deref().unwrap_or("All");
    let only_attached = input.only_attached.unwrap_or(false);
    let boundary = input.policy_usage_filter.as_deref() == Some("PermissionsBoundary");
    let path_prefix = input.path_prefix.as_deref();
    let local = (scope != "AWS").then(|| {
        acct.policies.range(match &marker {
            None => Bound::Unbounded,
            // At an equal name the account's policy follows AWS's.
            Some(k) if k.aws => Bound::Included(k.name.as_str()),
            Some(k) => Bound::Excluded(k.name.as_str()),
        })
    });
    let aws = (scope != "Local").then(|| {
        aws_managed::catalogue().range(
            marker
                .as_ref()
                .map_or(Bound::Unbounded, |k| Bound::Excluded(k.name.as_str())),
        )
    });
    let merged = merge_by_name(local.into_iter().flatten(), aws.into_iter().flatten());
    let page = Page::take(
        merged.filter(|p| {
            path_prefix.is_none_or(|pre| p.path.starts_with(pre))
                && (!only_attached
                    || if boundary {
                        acct.boundary_usage_count(&p.arn()) > 0
                    } else {
                        acct.attachment_count(&p.policy_id) > 0
                    })
        }),
        max_items(input.max_items),
        |p| ListingKey::of(p).to_string(),
    );
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

/// The position of a policy in ListPolicies' merged list: its lowercased name, then AWS's before the
/// account's. Its text (`name/aws` or `name/local`; names have no `/`) is the marker.
struct ListingKey {
    name: String,
    aws: bool,
}

impl ListingKey {
    fn of(p: &ManagedPolicy) -> ListingKey {
        ListingKey {
            name: lower(&p.name),
            aws: p.account_id == AWS_ACCOUNT,
        }
    }

    fn parse(marker: &str) -> Option<ListingKey> {
        let (name, origin) = marker.rsplit_once('/')?;
        let aws = match origin {
            "aws" => true,
            "local" => false,
            _ => return None,
        };
        Some(ListingKey {
            name: name.to_string(),
            aws,
        })
    }

    /// Sorts AWS's before the account's at an equal name.
    fn sort_key(&self) -> (&str, bool) {
        (&self.name, !self.aws)
    }
}

impl std::fmt::Display for ListingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = if self.aws { "aws" } else { "local" };
        write!(f, "{}/{origin}", self.name)
    }
}

/// Two lists of policies, each in name order, as one list in [`ListingKey`] order.
fn merge_by_name<'a>(
    a: impl Iterator<Item = &'a Arc<ManagedPolicy>>,
    b: impl Iterator<Item = &'a Arc<ManagedPolicy>>,
) -> impl Iterator<Item = &'a Arc<ManagedPolicy>> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) => {
            if ListingKey::of(x).sort_key() <= ListingKey::of(y).sort_key() {
                a.next()
            } else {
                b.next()
            }
        }
        (Some(_), None) => a.next(),
        (None, _) => b.next(),
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
            let arn = &input.policy_arn;
            let p = require_writable_policy(acct, arn, DELETE_OUTSIDE_ACCOUNT, || {
                policy_not_found(arn)
            })?;
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
            let arn = &input.policy_arn;
            let p = require_writable_policy(tx.account(&account), arn, VERSION_OUTSIDE_ACCOUNT, || {
                policy_not_found(arn)
            })?;
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
            let p = require_writable_policy(
                tx.account(&account),
                arn,
                DELETE_VERSION_OUTSIDE_ACCOUNT,
                || version_not_found(arn, vid),
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
            let p =
                require_writable_policy(tx.account(&account), arn, UPDATE_OUTSIDE_ACCOUNT, || {
                    version_not_found(arn, vid)
                })?;
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
            let arn = &input.policy_arn;
            let p =
                require_writable_policy(tx.account(&account), arn, UPDATE_OUTSIDE_ACCOUNT, || {
                    policy_not_found(arn)
                })?;
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
            let arn = &input.policy_arn;
            let p =
                require_writable_policy(tx.account(&account), arn, UPDATE_OUTSIDE_ACCOUNT, || {
                    policy_not_found(arn)
                })?;
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
    // Only a service-linked role holds a service-role policy (CreateServiceLinkedRole attaches it).
    let service_linked = owner.kind == PrincipalKind::Role
        && acct
            .roles
            .get_by_id(&owner.id)
            .is_some_and(|r| r.is_service_linked());
    if !service_linked {
        check_not_service_role_policy(&p, owner.kind)?;
    }
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

/// AWS's service-role policies (`arn:aws:iam::aws:policy/aws-service-role/…`) belong to service-linked
/// roles: `PolicyNotAttachable`. (The message for roles is AWS's; for users and groups it names the
/// entity the same way, unrecorded.)
pub fn check_not_service_role_policy(
    p: &ManagedPolicy,
    kind: PrincipalKind,
) -> Result<(), ApiError> {
    if p.account_id != AWS_ACCOUNT || p.path != "/aws-service-role/" {
        return Ok(());
    }
    let entity = match kind {
        PrincipalKind::User => "User",
        PrincipalKind::Group => "Group",
        PrincipalKind::Role => "Role",
    };
    Err(ApiError::not_attachable(format!(
        "Cannot attach a Service Role Policy to a Customer {entity}."
    )))
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
        .filter_map(|id| account.policy_by_id(id))
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
            let owner = require_modifiable_owner(tx.account(&account), kind, &owner_name)?;
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

/// A user, group or role a policy is attached to (or is the boundary of).
struct EntityRef {
    kind: PrincipalKind,
    id: String,
    name: String,
    path: String,
}

impl EntityRef {
    /// AWS's order in ListEntitiesForPolicy: groups, users, roles, each by name.
    fn order(&self) -> (u8, String) {
        let kind = match self.kind {
            PrincipalKind::Group => 0,
            PrincipalKind::User => 1,
            PrincipalKind::Role => 2,
        };
        (kind, lower(&self.name))
    }
}

/// The users, groups and roles a policy is attached to, or that use it as permissions boundary, in
/// AWS's order.
fn entities_for_policy(account: &Account, p: &ManagedPolicy, boundary: bool) -> Vec<EntityRef> {
    let arn = p.arn();
    let holders: Vec<(PrincipalKind, &str)> = if boundary {
        account.boundary_holders(&arn).collect()
    } else {
        account.attachments_of(&p.policy_id).collect()
    };
    let mut out: Vec<EntityRef> = holders
        .into_iter()
        .filter_map(|(kind, id)| account.held(kind, id))
        .map(|h| EntityRef {
            kind: h.kind,
            id: h.id.to_string(),
            name: h.name.to_string(),
            path: h.path.to_string(),
        })
        .collect();
    out.sort_by_cached_key(EntityRef::order);
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
    let mut all = entities_for_policy(acct, &p, boundary);
    drop(model);
    let wanted = match input.entity_filter.as_deref() {
        Some("User") => Some(PrincipalKind::User),
        Some("Group") => Some(PrincipalKind::Group),
        Some("Role") => Some(PrincipalKind::Role),
        // LocalManagedPolicy / AWSManagedPolicy filter for policies, which are never attached to a policy.
        Some(_) => {
            all.clear();
            None
        }
        None => None,
    };
    all.retain(|e| {
        wanted.is_none_or(|k| e.kind == k)
            && input
                .path_prefix
                .as_deref()
                .is_none_or(|pre| e.path.starts_with(pre))
    });
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    let mut out = iam::ListEntitiesForPolicyResponse {
        policy_groups: Some(Vec::new()),
        policy_users: Some(Vec::new()),
        policy_roles: Some(Vec::new()),
        is_truncated: Some(marker.is_some()),
        marker,
    };
    for e in items {
        match e.kind {
            PrincipalKind::Group => {
                out.policy_groups
                    .get_or_insert_with(Vec::new)
                    .push(iam::PolicyGroup {
                        group_name: Some(e.name),
                        group_id: Some(e.id),
                    })
            }
            PrincipalKind::User => {
                out.policy_users
                    .get_or_insert_with(Vec::new)
                    .push(iam::PolicyUser {
                        user_name: Some(e.name),
                        user_id: Some(e.id),
                    })
            }
            PrincipalKind::Role => {
                out.policy_roles
                    .get_or_insert_with(Vec::new)
                    .push(iam::PolicyRole {
                        role_name: Some(e.name),
                        role_id: Some(e.id),
                    })
            }
        }
    }
    Ok(out)
}

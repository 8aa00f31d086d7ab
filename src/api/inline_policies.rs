//! Inline policies of users and groups: PutUserPolicy, GetUserPolicy, ListUserPolicies, DeleteUserPolicy and
//! their group counterparts.
//!
//! The work is in [`put_inline`], [`get_inline`], [`list_inline`] and [`delete_inline`], which take the owner
//! already resolved as a [`PolicyOwner`] (see [`require_owner`]): roles slot in through the owner lookup.

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::policy::validate::{policy_size, validate, PolicyKind};
use crate::protocol::iam;
use crate::state::App;
use crate::store::inline_policies::{self, PrincipalKind};
use crate::store::StoreError;

pub fn register(r: &mut Registry) {
    r.iam::<iam::PutUserPolicy, _, _>(put_user_policy);
    r.iam::<iam::GetUserPolicy, _, _>(get_user_policy);
    r.iam::<iam::ListUserPolicies, _, _>(list_user_policies);
    r.iam::<iam::DeleteUserPolicy, _, _>(delete_user_policy);
    r.iam::<iam::PutGroupPolicy, _, _>(put_group_policy);
    r.iam::<iam::GetGroupPolicy, _, _>(get_group_policy);
    r.iam::<iam::ListGroupPolicies, _, _>(list_group_policies);
    r.iam::<iam::DeleteGroupPolicy, _, _>(delete_group_policy);
}

impl PolicyOwner {
    /// The word AWS uses for the owner in its messages.
    fn noun(&self) -> &'static str {
        match self.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
            PrincipalKind::Role => "role",
        }
    }

    /// The quota on the total size of the owner's inline policies (as `policy_size` counts them).
    pub fn size_quota(&self) -> usize {
        match self.kind {
            PrincipalKind::User => 2_048,
            PrincipalKind::Group => 5_120,
            PrincipalKind::Role => 10_240,
        }
    }

    fn inline_not_found(&self, policy_name: &str) -> ApiError {
        ApiError::no_such_entity(format!(
            "The {} policy with name {policy_name} cannot be found.",
            self.noun()
        ))
    }
}

/// PutXPolicy: validates the document (AWS's grammar), enforces the owner's total inline size quota (the other
/// inline policies plus this one; a policy of the same name is replaced, so it does not count), then stores it.
pub async fn put_inline(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    owner: &PolicyOwner,
    policy_name: &str,
    document: &str,
) -> Result<(), ApiError> {
    validate(document, PolicyKind::Identity).map_err(|e| ApiError::malformed_policy(e.message))?;
    let replaced = policy_name.to_lowercase();
    let others: usize = inline_policies::list(conn, owner.kind, &owner.id)
        .await?
        .iter()
        .filter(|p| p.name.to_lowercase() != replaced)
        .map(|p| policy_size(&p.document))
        .sum();
    let quota = owner.size_quota();
    if others + policy_size(document) > quota {
        return Err(ApiError::limit_exceeded(format!(
            "Maximum policy size of {quota} bytes exceeded for {} {}",
            owner.noun(),
            owner.name
        )));
    }
    inline_policies::put(conn, owner.kind, account, &owner.id, policy_name, document).await?;
    Ok(())
}

/// GetXPolicy: the stored name and the document URL-encoded, as AWS returns it.
pub async fn get_inline(
    conn: &mut sqlx::SqliteConnection,
    owner: &PolicyOwner,
    policy_name: &str,
) -> Result<(String, String), ApiError> {
    let p = inline_policies::get(conn, owner.kind, &owner.id, policy_name)
        .await?
        .ok_or_else(|| owner.inline_not_found(policy_name))?;
    Ok((p.name, encode_policy(&p.document)))
}

/// ListXPolicies: one page of the owner's inline policy names, ordered by name.
pub async fn list_inline(
    conn: &mut sqlx::SqliteConnection,
    owner: &PolicyOwner,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let all = inline_policies::list_names(conn, owner.kind, &owner.id).await?;
    paginate(all, marker, max_items(max))
}

/// DeleteXPolicy.
pub async fn delete_inline(
    conn: &mut sqlx::SqliteConnection,
    owner: &PolicyOwner,
    policy_name: &str,
) -> Result<(), ApiError> {
    match inline_policies::delete(conn, owner.kind, &owner.id, policy_name).await {
        Err(StoreError::NotFound) => Err(owner.inline_not_found(policy_name)),
        other => Ok(other?),
    }
}

// ------------------------------------------------------------------------------------------------------------
// The operations, for an owner of a kind named in the request
// ------------------------------------------------------------------------------------------------------------

async fn put_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    policy_name: &str,
    document: &str,
) -> Result<(), ApiError> {
    let mut tx = begin(app).await?;
    let owner = require_owner(&mut tx, account, kind, owner_name).await?;
    put_inline(&mut tx, account, &owner, policy_name, document).await?;
    tx.commit().await?;
    Ok(())
}

/// The owner's stored name, the policy's stored name and its document (URL-encoded).
async fn get_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    policy_name: &str,
) -> Result<(String, String, String), ApiError> {
    let mut conn = read(app).await?;
    let owner = require_owner(&mut conn, account, kind, owner_name).await?;
    let (name, document) = get_inline(&mut conn, &owner, policy_name).await?;
    Ok((owner.name, name, document))
}

async fn list_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let mut conn = read(app).await?;
    let owner = require_owner(&mut conn, account, kind, owner_name).await?;
    list_inline(&mut conn, &owner, marker, max).await
}

async fn delete_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    policy_name: &str,
) -> Result<(), ApiError> {
    let mut tx = begin(app).await?;
    let owner = require_owner(&mut tx, account, kind, owner_name).await?;
    delete_inline(&mut tx, &owner, policy_name).await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------------------
// Users
// ------------------------------------------------------------------------------------------------------------

async fn put_user_policy(
    app: App,
    ctx: Ctx,
    input: iam::PutUserPolicyRequest,
) -> Result<(), ApiError> {
    let (user, name) = (&input.user_name, &input.policy_name);
    put_for(
        &app,
        ctx.account(),
        PrincipalKind::User,
        user,
        name,
        &input.policy_document,
    )
    .await
}

async fn get_user_policy(
    app: App,
    ctx: Ctx,
    input: iam::GetUserPolicyRequest,
) -> Result<iam::GetUserPolicyResponse, ApiError> {
    let (user_name, policy_name, policy_document) = get_for(
        &app,
        ctx.account(),
        PrincipalKind::User,
        &input.user_name,
        &input.policy_name,
    )
    .await?;
    Ok(iam::GetUserPolicyResponse {
        user_name,
        policy_name,
        policy_document,
    })
}

async fn list_user_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListUserPoliciesRequest,
) -> Result<iam::ListUserPoliciesResponse, ApiError> {
    let (policy_names, marker) = list_for(
        &app,
        ctx.account(),
        PrincipalKind::User,
        &input.user_name,
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(iam::ListUserPoliciesResponse {
        policy_names,
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn delete_user_policy(
    app: App,
    ctx: Ctx,
    input: iam::DeleteUserPolicyRequest,
) -> Result<(), ApiError> {
    let (user, name) = (&input.user_name, &input.policy_name);
    delete_for(&app, ctx.account(), PrincipalKind::User, user, name).await
}

// ------------------------------------------------------------------------------------------------------------
// Groups
// ------------------------------------------------------------------------------------------------------------

async fn put_group_policy(
    app: App,
    ctx: Ctx,
    input: iam::PutGroupPolicyRequest,
) -> Result<(), ApiError> {
    let (group, name) = (&input.group_name, &input.policy_name);
    put_for(
        &app,
        ctx.account(),
        PrincipalKind::Group,
        group,
        name,
        &input.policy_document,
    )
    .await
}

async fn get_group_policy(
    app: App,
    ctx: Ctx,
    input: iam::GetGroupPolicyRequest,
) -> Result<iam::GetGroupPolicyResponse, ApiError> {
    let (group_name, policy_name, policy_document) = get_for(
        &app,
        ctx.account(),
        PrincipalKind::Group,
        &input.group_name,
        &input.policy_name,
    )
    .await?;
    Ok(iam::GetGroupPolicyResponse {
        group_name,
        policy_name,
        policy_document,
    })
}

async fn list_group_policies(
    app: App,
    ctx: Ctx,
    input: iam::ListGroupPoliciesRequest,
) -> Result<iam::ListGroupPoliciesResponse, ApiError> {
    let (policy_names, marker) = list_for(
        &app,
        ctx.account(),
        PrincipalKind::Group,
        &input.group_name,
        input.marker.as_deref(),
        input.max_items,
    )
    .await?;
    Ok(iam::ListGroupPoliciesResponse {
        policy_names,
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn delete_group_policy(
    app: App,
    ctx: Ctx,
    input: iam::DeleteGroupPolicyRequest,
) -> Result<(), ApiError> {
    let (group, name) = (&input.group_name, &input.policy_name);
    delete_for(&app, ctx.account(), PrincipalKind::Group, group, name).await
}

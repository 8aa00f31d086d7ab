//! Groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup,
//! AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

use crate::api::common::*;
use crate::api::users::listed_user_shape;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Group, User};
use crate::store::StoreError;

/// AWS's quota of groups per account.
pub const GROUPS_PER_ACCOUNT: usize = 300;
/// AWS's quota of groups a user may belong to.
pub const GROUPS_PER_USER: usize = 10;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateGroup, _, _>(create_group);
    r.iam::<iam::GetGroup, _, _>(get_group);
    r.iam::<iam::ListGroups, _, _>(list_groups);
    r.iam::<iam::UpdateGroup, _, _>(update_group);
    r.iam::<iam::DeleteGroup, _, _>(delete_group);
    r.iam::<iam::AddUserToGroup, _, _>(add_user_to_group);
    r.iam::<iam::RemoveUserFromGroup, _, _>(remove_user_from_group);
    r.iam::<iam::ListGroupsForUser, _, _>(list_groups_for_user);
}

/// The API shape of a group.
pub fn group_shape(g: &Group) -> iam::Group {
    iam::Group {
        path: g.path.clone(),
        group_name: g.name.clone(),
        group_id: g.group_id.clone(),
        arn: g.arn(),
        create_date: ts(g.create_date),
    }
}

fn group_exists(name: &str) -> ApiError {
    ApiError::already_exists(format!("Group with name {name} already exists."))
}

async fn create_group(
    app: App,
    ctx: Ctx,
    input: iam::CreateGroupRequest,
) -> Result<iam::CreateGroupResponse, ApiError> {
    let account = ctx.account().to_string();
    let group = Group::new(
        &account,
        &input.group_name,
        &path_or_root(input.path.as_deref()),
    );
    let group = app
        .store
        .write(move |tx| {
            let acct = tx.account(&account);
            if acct.groups.get(&group.name).is_some() {
                return Err(group_exists(&group.name));
            }
            if acct.groups.len() >= GROUPS_PER_ACCOUNT {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for GroupsPerAccount: {GROUPS_PER_ACCOUNT}"
                )));
            }
            let name = group.name.clone();
            tx.insert(group).map_err(|e| match e {
                StoreError::UniqueViolation(_) => group_exists(&name),
                other => other.into(),
            })
        })
        .await?;
    Ok(iam::CreateGroupResponse {
        group: group_shape(&group),
    })
}

async fn get_group(
    app: App,
    ctx: Ctx,
    input: iam::GetGroupRequest,
) -> Result<iam::GetGroupResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let group = require_group(acct, &input.group_name)?;
    let page = page_by_name(
        acct.members(&group.group_id),
        |u: &User| &u.name,
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::GetGroupResponse {
        group: group_shape(&group),
        users: page.items.iter().map(|u| listed_user_shape(u)).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn list_groups(
    app: App,
    ctx: Ctx,
    input: iam::ListGroupsRequest,
) -> Result<iam::ListGroupsResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let page = model.account(ctx.account()).groups.list(
        input.path_prefix.as_deref(),
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListGroupsResponse {
        groups: page.items.iter().map(|g| group_shape(g)).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn update_group(app: App, ctx: Ctx, input: iam::UpdateGroupRequest) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let group = require_group(tx.account(&account), &input.group_name)?;
            let taken = input.new_group_name.clone().unwrap_or_default();
            tx.update(&account, &group.group_id, |g: &mut Group| {
                if let Some(n) = input.new_group_name {
                    g.name = n;
                }
                if let Some(p) = input.new_path {
                    g.path = p;
                }
            })
            .map_err(|e| match e {
                StoreError::UniqueViolation(_) => group_exists(&taken),
                other => other.into(),
            })?;
            Ok(())
        })
        .await
}

async fn delete_group(app: App, ctx: Ctx, input: iam::DeleteGroupRequest) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let group = require_group(acct, &input.group_name)?;
            // AWS's order: members, then inline policies, then attached managed policies.
            let conflict = if acct.member_ids(&group.group_id).next().is_some() {
                Some("Cannot delete entity, must remove users from group first.")
            } else if !group.inline.is_empty() {
                Some("Cannot delete entity, must delete policies first.")
            } else if !group.attached.is_empty() {
                Some("Cannot delete entity, must detach all policies first.")
            } else {
                None
            };
            if let Some(message) = conflict {
                return Err(ApiError::delete_conflict(message));
            }
            tx.remove::<Group>(&account, &group.group_id)?;
            Ok(())
        })
        .await
}

async fn add_user_to_group(
    app: App,
    ctx: Ctx,
    input: iam::AddUserToGroupRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            // The user is checked first, as for RemoveUserFromGroup (recorded: remove-from-unknown-group).
            let user = require_user(acct, &input.user_name)?;
            let group = require_group(acct, &input.group_name)?;
            if user.groups.contains(&group.group_id) {
                // Already a member: AWS answers success and changes nothing.
                return Ok(());
            }
            if user.groups.len() >= GROUPS_PER_USER {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
                )));
            }
            tx.update(&account, &user.user_id, |u: &mut User| {
                u.groups.push(group.group_id.clone())
            })?;
            Ok(())
        })
        .await
}

async fn remove_user_from_group(
    app: App,
    ctx: Ctx,
    input: iam::RemoveUserFromGroupRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let user = require_user(acct, &input.user_name)?;
            let group = require_group(acct, &input.group_name)?;
            // Removing a user who is not a member succeeds (recorded: remove-nonmember-user-from-group).
            if user.groups.contains(&group.group_id) {
                tx.update(&account, &user.user_id, |u: &mut User| {
                    u.groups.retain(|g| *g != group.group_id)
                })?;
            }
            Ok(())
        })
        .await
}

async fn list_groups_for_user(
    app: App,
    ctx: Ctx,
    input: iam::ListGroupsForUserRequest,
) -> Result<iam::ListGroupsForUserResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let user = require_user(acct, &input.user_name)?;
    let page = page_by_name(
        acct.groups_of(&user),
        |g: &Group| &g.name,
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListGroupsForUserResponse {
        groups: page.items.iter().map(|g| group_shape(g)).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

//! Groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup,
//! AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.

use crate::api::common::*;
use crate::api::users::user_shape;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::conflicts;
use crate::store::groups::{self, GroupRow};
use crate::store::StoreError;

/// AWS's quota of groups per account.
const GROUPS_PER_ACCOUNT: i64 = 300;
/// AWS's quota of groups a user may belong to.
const GROUPS_PER_USER: usize = 10;

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
pub fn group_shape(g: &GroupRow) -> iam::Group {
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

/// The group of that name in the caller's account, or AWS's `NoSuchEntity`.
pub async fn require_group(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    name: &str,
) -> Result<GroupRow, ApiError> {
    groups::get_by_name(conn, account, name)
        .await?
        .ok_or_else(|| no_such_group(name))
}

async fn create_group(
    app: App,
    ctx: Ctx,
    input: iam::CreateGroupRequest,
) -> Result<iam::CreateGroupResponse, ApiError> {
    let mut tx = begin(&app).await?;
    if groups::get_by_name(&mut tx, ctx.account(), &input.group_name)
        .await?
        .is_some()
    {
        return Err(group_exists(&input.group_name));
    }
    if groups::count(&mut tx, ctx.account()).await? >= GROUPS_PER_ACCOUNT {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for GroupsPerAccount: {GROUPS_PER_ACCOUNT}"
        )));
    }
    let group = GroupRow::new(
        ctx.account(),
        &input.group_name,
        &path_or_root(input.path.as_deref()),
    );
    match groups::insert(&mut tx, &group).await {
        Err(StoreError::UniqueViolation(_)) => return Err(group_exists(&input.group_name)),
        other => other?,
    }
    tx.commit().await?;
    Ok(iam::CreateGroupResponse {
        group: group_shape(&group),
    })
}

async fn get_group(
    app: App,
    ctx: Ctx,
    input: iam::GetGroupRequest,
) -> Result<iam::GetGroupResponse, ApiError> {
    let mut conn = read(&app).await?;
    let group = require_group(&mut conn, ctx.account(), &input.group_name).await?;
    let page = groups::list_members(
        &mut conn,
        &group.group_id,
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )
    .await?;
    Ok(iam::GetGroupResponse {
        group: group_shape(&group),
        users: page.items.iter().map(|u| user_shape(u, None)).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn list_groups(
    app: App,
    ctx: Ctx,
    input: iam::ListGroupsRequest,
) -> Result<iam::ListGroupsResponse, ApiError> {
    let mut conn = read(&app).await?;
    let page = groups::list(
        &mut conn,
        ctx.account(),
        input.path_prefix.as_deref(),
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )
    .await?;
    Ok(iam::ListGroupsResponse {
        groups: page.items.iter().map(group_shape).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn update_group(app: App, ctx: Ctx, input: iam::UpdateGroupRequest) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let group = require_group(&mut tx, ctx.account(), &input.group_name).await?;
    match groups::update(
        &mut tx,
        &group.group_id,
        input.new_group_name.as_deref(),
        input.new_path.as_deref(),
    )
    .await
    {
        Err(StoreError::UniqueViolation(_)) => {
            return Err(group_exists(
                input.new_group_name.as_deref().unwrap_or_default(),
            ))
        }
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}

async fn delete_group(app: App, ctx: Ctx, input: iam::DeleteGroupRequest) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let group = require_group(&mut tx, ctx.account(), &input.group_name).await?;
    let deps = conflicts::group_dependents(&mut tx, &group.group_id).await?;
    // AWS's order: members, then inline policies, then attached managed policies.
    let conflict = if deps.members > 0 {
        Some("Cannot delete entity, must remove users from group first.")
    } else if deps.inline_policies > 0 {
        Some("Cannot delete entity, must delete policies first.")
    } else if deps.attached_policies > 0 {
        Some("Cannot delete entity, must detach all policies first.")
    } else {
        None
    };
    if let Some(message) = conflict {
        return Err(ApiError::delete_conflict(message));
    }
    groups::delete(&mut tx, &group.group_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn add_user_to_group(
    app: App,
    ctx: Ctx,
    input: iam::AddUserToGroupRequest,
) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    // The user is checked first, as for RemoveUserFromGroup (recorded: remove-from-unknown-group).
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    let group = require_group(&mut tx, ctx.account(), &input.group_name).await?;
    let current = groups::all_groups_for_user(&mut tx, &user.user_id).await?;
    if current.iter().any(|g| g.group_id == group.group_id) {
        // Already a member: AWS answers success and changes nothing.
        return Ok(());
    }
    if current.len() >= GROUPS_PER_USER {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"
        )));
    }
    groups::add_member(&mut tx, ctx.account(), &group.group_id, &user.user_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn remove_user_from_group(
    app: App,
    ctx: Ctx,
    input: iam::RemoveUserFromGroupRequest,
) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    let group = require_group(&mut tx, ctx.account(), &input.group_name).await?;
    // Removing a user who is not a member succeeds (recorded: remove-nonmember-user-from-group).
    groups::remove_member(&mut tx, &group.group_id, &user.user_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn list_groups_for_user(
    app: App,
    ctx: Ctx,
    input: iam::ListGroupsForUserRequest,
) -> Result<iam::ListGroupsForUserResponse, ApiError> {
    let mut conn = read(&app).await?;
    let user = require_user(&mut conn, ctx.account(), &input.user_name).await?;
    let page = groups::groups_for_user(
        &mut conn,
        &user.user_id,
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )
    .await?;
    Ok(iam::ListGroupsForUserResponse {
        groups: page.items.iter().map(group_shape).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

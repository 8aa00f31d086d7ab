//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser, TagUser, UntagUser, ListUserTags.

use crate::api::common::*;
use crate::api::{permissions_boundary, Ctx, Registry};
use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::conflicts::{self, UserConflict};
use crate::store::tags::{self, TagTarget};
use crate::store::users::{self, UserRow};
use crate::store::StoreError;

/// AWS's default quota of IAM users per account.
const USERS_PER_ACCOUNT: i64 = 5000;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateUser, _, _>(create_user);
    r.iam::<iam::GetUser, _, _>(get_user);
    r.iam::<iam::ListUsers, _, _>(list_users);
    r.iam::<iam::UpdateUser, _, _>(update_user);
    r.iam::<iam::DeleteUser, _, _>(delete_user);
    r.iam::<iam::TagUser, _, _>(tag_user);
    r.iam::<iam::UntagUser, _, _>(untag_user);
    r.iam::<iam::ListUserTags, _, _>(list_user_tags);
}

/// The API shape of a user; `tags` only where AWS returns them (not in ListUsers).
pub fn user_shape(u: &UserRow, tags: Option<Vec<iam::Tag>>) -> iam::User {
    iam::User {
        path: u.path.clone(),
        user_name: u.name.clone(),
        user_id: u.user_id.clone(),
        arn: u.arn(),
        create_date: ts(u.create_date),
        password_last_used: u.password_last_used.map(ts),
        permissions_boundary: u
            .permissions_boundary_arn
            .as_deref()
            .map(permissions_boundary::attached_shape),
        tags,
    }
}

async fn create_user(
    app: App,
    ctx: Ctx,
    input: iam::CreateUserRequest,
) -> Result<iam::CreateUserResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    let mut tx = begin(&app).await?;
    if users::count(&mut tx, ctx.account()).await? >= USERS_PER_ACCOUNT {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for UsersPerAccount: {USERS_PER_ACCOUNT}"
        )));
    }
    let mut user = UserRow::new(
        ctx.account(),
        &input.user_name,
        &path_or_root(input.path.as_deref()),
    );
    if let Some(arn) = &input.permissions_boundary {
        permissions_boundary::require_boundary_policy(&mut tx, ctx.account(), arn).await?;
        user.permissions_boundary_arn = Some(arn.clone());
    }
    match users::insert(&mut tx, &user).await {
        Err(StoreError::UniqueViolation(_)) => {
            return Err(ApiError::already_exists(format!(
                "User with name {} already exists.",
                input.user_name
            )))
        }
        other => other?,
    }
    if !tags.is_empty() {
        tags::put(
            &mut tx,
            TagTarget::User,
            ctx.account(),
            &user.user_id,
            &to_store_tags(&tags),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(iam::CreateUserResponse {
        user: Some(user_shape(&user, (!tags.is_empty()).then_some(tags))),
    })
}

async fn get_user(
    app: App,
    ctx: Ctx,
    input: iam::GetUserRequest,
) -> Result<iam::GetUserResponse, ApiError> {
    let mut conn = read(&app).await?;
    let name = match (&input.user_name, ctx.principal.kind) {
        (Some(n), _) => n.clone(),
        (None, PrincipalKind::User) => ctx.principal.name.clone(),
        (None, PrincipalKind::Root) => {
            // The root user's own shape: no name and no path.
            return Ok(iam::GetUserResponse {
                user: iam::User {
                    path: String::new(),
                    user_name: String::new(),
                    user_id: ctx.account().to_string(),
                    arn: ctx.principal.arn.clone(),
                    create_date: app.started,
                    password_last_used: None,
                    permissions_boundary: None,
                    tags: None,
                },
            });
        }
        (None, _) => {
            return Err(ApiError::validation(
                "Must specify userName when calling with non-User credentials",
            ))
        }
    };
    let user = require_user(&mut conn, ctx.account(), &name).await?;
    let t = tags::list(&mut conn, TagTarget::User, &user.user_id).await?;
    Ok(iam::GetUserResponse {
        user: user_shape(&user, nonempty_tags(t)),
    })
}

async fn list_users(
    app: App,
    ctx: Ctx,
    input: iam::ListUsersRequest,
) -> Result<iam::ListUsersResponse, ApiError> {
    let mut conn = read(&app).await?;
    let page = users::list(
        &mut conn,
        ctx.account(),
        input.path_prefix.as_deref(),
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )
    .await?;
    Ok(iam::ListUsersResponse {
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker.clone()),
        users: page.items.iter().map(|u| user_shape(u, None)).collect(),
    })
}

async fn update_user(app: App, ctx: Ctx, input: iam::UpdateUserRequest) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    match users::update(
        &mut tx,
        &user.user_id,
        input.new_user_name.as_deref(),
        input.new_path.as_deref(),
    )
    .await
    {
        Err(StoreError::UniqueViolation(_)) => {
            return Err(ApiError::already_exists(format!(
                "User with name {} already exists.",
                input.new_user_name.unwrap_or_default()
            )))
        }
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}

async fn delete_user(app: App, ctx: Ctx, input: iam::DeleteUserRequest) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    let deps = conflicts::user_dependents(&mut tx, &user.user_id).await?;
    if let Some(c) = deps.first_conflict() {
        return Err(ApiError::delete_conflict(match c {
            UserConflict::LoginProfile => "Cannot delete entity, must delete login profile first.",
            UserConflict::AccessKeys => "Cannot delete entity, must delete access keys first.",
            UserConflict::SigningCertificates => {
                "Cannot delete entity, must delete signing certificates first."
            }
            UserConflict::MfaDevices => "Cannot delete entity, must delete MFA device first.",
            UserConflict::InlinePolicies => "Cannot delete entity, must delete policies first.",
            UserConflict::AttachedPolicies => {
                "Cannot delete entity, must detach all policies first."
            }
            UserConflict::GroupMemberships => {
                "Cannot delete entity, must remove users from group first."
            }
            UserConflict::SshPublicKeys | UserConflict::ServiceSpecificCredentials => {
                "Cannot delete entity, must remove referenced objects first."
            }
        }));
    }
    users::delete(&mut tx, &user.user_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn tag_user(app: App, ctx: Ctx, input: iam::TagUserRequest) -> Result<(), ApiError> {
    check_tags(&input.tags)?;
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    let existing = tags::list(&mut tx, TagTarget::User, &user.user_id).await?;
    let new_keys = input
        .tags
        .iter()
        .filter(|t| !existing.iter().any(|e| e.key.eq_ignore_ascii_case(&t.key)))
        .count();
    if existing.len() + new_keys > MAX_TAGS {
        return Err(tags_limit_exceeded());
    }
    tags::put(
        &mut tx,
        TagTarget::User,
        ctx.account(),
        &user.user_id,
        &to_store_tags(&input.tags),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn untag_user(app: App, ctx: Ctx, input: iam::UntagUserRequest) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    tags::remove(&mut tx, TagTarget::User, &user.user_id, &input.tag_keys).await?;
    tx.commit().await?;
    Ok(())
}

async fn list_user_tags(
    app: App,
    ctx: Ctx,
    input: iam::ListUserTagsRequest,
) -> Result<iam::ListUserTagsResponse, ApiError> {
    let mut conn = read(&app).await?;
    let user = require_user(&mut conn, ctx.account(), &input.user_name).await?;
    let all = tags::list(&mut conn, TagTarget::User, &user.user_id).await?;
    let (items, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListUserTagsResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        tags: to_api_tags(items),
    })
}

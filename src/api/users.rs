//! Users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser, TagUser, UntagUser, ListUserTags.

use crate::api::common::*;
use crate::api::{permissions_boundary, Ctx, Registry};
use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::User;
use crate::store::StoreError;

/// AWS's default quota of IAM users per account.
pub const USERS_PER_ACCOUNT: usize = 5000;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateUser, _, _>(create_user);
    r.iam::<iam::GetUser, _, _>(get_user);
    r.iam::<iam::ListUsers, _, _>(list_users);
    r.iam::<iam::UpdateUser, _, _>(update_user);
    r.iam::<iam::DeleteUser, _, _>(delete_user);
    register_tag_ops!(
        r,
        user_name,
        require_user,
        TagUser,
        UntagUser,
        ListUserTags(ListUserTagsResponse)
    );
}

/// A user as listings show it (ListUsers, GetGroup): AWS leaves out `PermissionsBoundary` and
/// `Tags` there.
pub fn listed_user_shape(u: &User) -> iam::User {
    iam::User {
        permissions_boundary: None,
        ..user_shape(u, None)
    }
}

/// The API shape of a user; `tags` only where AWS returns them (not in ListUsers).
pub fn user_shape(u: &User, tags: Option<Vec<iam::Tag>>) -> iam::User {
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
    let account = ctx.account().to_string();
    let mut user = User::new(
        &account,
        &input.user_name,
        &path_or_root(input.path.as_deref()),
    );
    user.tags = to_store_tags(&tags);
    user.permissions_boundary_arn = input.permissions_boundary;
    let user = app
        .store
        .write(move |tx| {
            let acct = tx.account(&account);
            if acct.users.len() >= USERS_PER_ACCOUNT {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for UsersPerAccount: {USERS_PER_ACCOUNT}"
                )));
            }
            if let Some(arn) = &user.permissions_boundary_arn {
                permissions_boundary::require_boundary_policy(acct, arn)?;
            }
            let name = user.name.clone();
            tx.insert(user).map_err(|e| match e {
                StoreError::UniqueViolation(_) => {
                    ApiError::already_exists(format!("User with name {name} already exists."))
                }
                other => other.into(),
            })
        })
        .await?;
    Ok(iam::CreateUserResponse {
        user: Some(user_shape(&user, (!tags.is_empty()).then_some(tags))),
    })
}

async fn get_user(
    app: App,
    ctx: Ctx,
    input: iam::GetUserRequest,
) -> Result<iam::GetUserResponse, ApiError> {
    let name = match (&input.user_name, ctx.principal.kind) {
        (Some(n), _) => n.as_str(),
        (None, PrincipalKind::User) => ctx.principal.name.as_str(),
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
    let model = app.store.peek();
    let user = require_user(model.account(ctx.account()), name)?;
    Ok(iam::GetUserResponse {
        user: user_shape(&user, nonempty_tags(&user.tags)),
    })
}

async fn list_users(
    app: App,
    ctx: Ctx,
    input: iam::ListUsersRequest,
) -> Result<iam::ListUsersResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let page = model.account(ctx.account()).users.list(
        input.path_prefix.as_deref(),
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListUsersResponse {
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker.clone()),
        users: page.items.iter().map(|u| listed_user_shape(u)).collect(),
    })
}

async fn update_user(app: App, ctx: Ctx, input: iam::UpdateUserRequest) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = require_user(tx.account(&account), &input.user_name)?;
            let new_name = input.new_user_name;
            let new_path = input.new_path;
            let taken = new_name.clone().unwrap_or_default();
            tx.update(&account, &user.user_id, |u: &mut User| {
                if let Some(n) = new_name {
                    u.name = n;
                }
                if let Some(p) = new_path {
                    u.path = p;
                }
            })
            .map_err(|e| match e {
                StoreError::UniqueViolation(_) => {
                    ApiError::already_exists(format!("User with name {taken} already exists."))
                }
                other => other.into(),
            })?;
            Ok(())
        })
        .await
}

/// AWS's `DeleteConflict` message for the first thing that still hangs off a user, in the order
/// AWS checks them.
fn user_delete_conflict(u: &User) -> Option<&'static str> {
    if u.login_profile.is_some() {
        Some("Cannot delete entity, must delete login profile first.")
    } else if !u.access_keys.is_empty() {
        Some("Cannot delete entity, must delete access keys first.")
    } else if !u.signing_certificates.is_empty()
        || !u.ssh_public_keys.is_empty()
        || !u.service_credentials.is_empty()
    {
        // As recorded for service-specific credentials; AWS says the same of the others.
        Some("Cannot delete entity, must remove referenced objects first.")
    } else if !u.inline.is_empty() {
        Some("Cannot delete entity, must delete policies first.")
    } else if !u.attached.is_empty() {
        Some("Cannot delete entity, must detach all policies first.")
    } else if !u.groups.is_empty() {
        Some("Cannot delete entity, must remove users from group first.")
    } else {
        None
    }
}

async fn delete_user(app: App, ctx: Ctx, input: iam::DeleteUserRequest) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let user = require_user(acct, &input.user_name)?;
            if acct.mfa_serials_of(&user.user_id).next().is_some() {
                return Err(ApiError::delete_conflict(
                    "Cannot delete entity, must delete MFA device first.",
                ));
            }
            if let Some(message) = user_delete_conflict(&user) {
                return Err(ApiError::delete_conflict(message));
            }
            tx.remove::<User>(&account, &user.user_id)?;
            Ok(())
        })
        .await
}

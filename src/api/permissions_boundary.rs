//! Permissions boundaries of users: PutUserPermissionsBoundary, DeleteUserPermissionsBoundary, and
//! the checks shared with CreateUser (and, later, roles).

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{parse_policy_arn, Account, User};

pub fn register(r: &mut Registry) {
    r.iam::<iam::PutUserPermissionsBoundary, _, _>(put_user_permissions_boundary);
    r.iam::<iam::DeleteUserPermissionsBoundary, _, _>(delete_user_permissions_boundary);
}

/// The `PermissionsBoundary` element of a user or role.
pub fn attached_shape(arn: &str) -> iam::AttachedPermissionsBoundary {
    iam::AttachedPermissionsBoundary {
        permissions_boundary_type: Some("Policy".to_string()),
        permissions_boundary_arn: Some(arn.to_string()),
    }
}

/// A boundary must be the ARN of an existing managed policy (AWS's messages).
pub fn require_boundary_policy(account: &Account, arn: &str) -> Result<(), ApiError> {
    if parse_policy_arn(arn).is_none() {
        return Err(ApiError::invalid_input(format!("ARN {arn} is not valid.")));
    }
    match account.policy_by_arn(arn) {
        Some(p) if p.is_attachable => Ok(()),
        _ => Err(ApiError::no_such_entity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))),
    }
}

async fn put_user_permissions_boundary(
    app: App,
    ctx: Ctx,
    input: iam::PutUserPermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let user = require_user(acct, &input.user_name)?;
            require_boundary_policy(acct, &input.permissions_boundary)?;
            tx.update(&account, &user.user_id, |u: &mut User| {
                u.permissions_boundary_arn = Some(input.permissions_boundary)
            })?;
            Ok(())
        })
        .await
}

async fn delete_user_permissions_boundary(
    app: App,
    ctx: Ctx,
    input: iam::DeleteUserPermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = require_user(tx.account(&account), &input.user_name)?;
            tx.update(&account, &user.user_id, |u: &mut User| {
                u.permissions_boundary_arn = None
            })?;
            Ok(())
        })
        .await
}

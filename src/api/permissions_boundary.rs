//! Permissions boundaries of users: PutUserPermissionsBoundary, DeleteUserPermissionsBoundary, and
//! the checks shared with CreateUser (and, later, roles).

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::{policies, users};

pub fn register(r: &mut Registry) {
    r.iam::<iam::PutUserPermissionsBoundary, _, _>(put_user_permissions_boundary);
    r.iam::<iam::DeleteUserPermissionsBoundary, _, _>(delete_user_permissions_boundary);
}

/// The `PermissionsBoundary` element of a user or role.
pub fn attached_shape(arn: &str) -> iam::AttachedPermissionsBoundary {
    iam::AttachedPermissionsBoundary {
        permissions_boundary_type: Some("PermissionsBoundaryPolicy".to_string()),
        permissions_boundary_arn: Some(arn.to_string()),
    }
}

/// A boundary must be the ARN of an existing managed policy (AWS's messages).
pub async fn require_boundary_policy(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    arn: &str,
) -> Result<(), ApiError> {
    if policies::parse_policy_arn(arn).is_none() {
        return Err(ApiError::invalid_input(format!("ARN {arn} is not valid.")));
    }
    match policies::get_by_arn(conn, account, arn).await? {
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
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    require_boundary_policy(&mut tx, ctx.account(), &input.permissions_boundary).await?;
    users::set_permissions_boundary(&mut tx, &user.user_id, Some(&input.permissions_boundary))
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn delete_user_permissions_boundary(
    app: App,
    ctx: Ctx,
    input: iam::DeleteUserPermissionsBoundaryRequest,
) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    users::set_permissions_boundary(&mut tx, &user.user_id, None).await?;
    tx.commit().await?;
    Ok(())
}

//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
//! GetAccessKeyLastUsed; and what the signature check needs of them.

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::{Principal, PrincipalKind};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::{App, KnownKey};
use crate::store::access_keys::{self, AccessKeyRow};
use crate::store::{iam_arn, users, StoreError};

/// AWS's quota of access keys per user.
const KEYS_PER_USER: i64 = 2;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateAccessKey, _, _>(create_access_key);
    r.iam::<iam::ListAccessKeys, _, _>(list_access_keys);
    r.iam::<iam::UpdateAccessKey, _, _>(update_access_key);
    r.iam::<iam::DeleteAccessKey, _, _>(delete_access_key);
    r.iam::<iam::GetAccessKeyLastUsed, _, _>(get_access_key_last_used);
}

/// Whose keys a call is about: a named user, or (no `UserName`) the caller itself.
enum Owner {
    User { user_id: String, name: String },
    Root,
}

async fn resolve_owner(
    conn: &mut sqlx::SqliteConnection,
    ctx: &Ctx,
    user_name: Option<&str>,
) -> Result<Owner, ApiError> {
    match (user_name, ctx.principal.kind) {
        (Some(name), _) => {
            let u = require_user(conn, ctx.account(), name).await?;
            Ok(Owner::User {
                user_id: u.user_id,
                name: u.name,
            })
        }
        (None, PrincipalKind::User) => {
            let u = require_user(conn, ctx.account(), &ctx.principal.name).await?;
            Ok(Owner::User {
                user_id: u.user_id,
                name: u.name,
            })
        }
        (None, PrincipalKind::Root) => Ok(Owner::Root),
        (None, _) => Err(ApiError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

fn no_such_key(id: &str) -> ApiError {
    ApiError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

/// The key row, if it belongs to `owner`.
async fn owned_key(
    conn: &mut sqlx::SqliteConnection,
    ctx: &Ctx,
    owner: &Owner,
    key_id: &str,
) -> Result<AccessKeyRow, ApiError> {
    let key = access_keys::get(conn, key_id)
        .await?
        .filter(|k| k.account_id == ctx.account())
        .ok_or_else(|| no_such_key(key_id))?;
    let mine = match owner {
        Owner::User { user_id, .. } => key.user_id.as_deref() == Some(user_id.as_str()),
        Owner::Root => key.user_id.is_none(),
    };
    if mine {
        Ok(key)
    } else {
        Err(no_such_key(key_id))
    }
}

async fn create_access_key(
    app: App,
    ctx: Ctx,
    input: iam::CreateAccessKeyRequest,
) -> Result<iam::CreateAccessKeyResponse, ApiError> {
    let mut tx = begin(&app).await?;
    let owner = resolve_owner(&mut tx, &ctx, input.user_name.as_deref()).await?;
    let (user_id, name) = match &owner {
        Owner::User { user_id, name } => (Some(user_id.as_str()), name.clone()),
        Owner::Root => (None, String::new()),
    };
    let count = match user_id {
        Some(id) => access_keys::count_for_user(&mut tx, id).await?,
        None => access_keys::list_for_root(&mut tx, ctx.account())
            .await?
            .len() as i64,
    };
    if count >= KEYS_PER_USER {
        return Err(ApiError::limit_exceeded(
            "Cannot exceed quota for AccessKeysPerUser: 2",
        ));
    }
    let key = access_keys::create(&mut tx, ctx.account(), user_id).await?;
    tx.commit().await?;
    Ok(iam::CreateAccessKeyResponse {
        access_key: iam::AccessKey {
            user_name: name,
            access_key_id: key.access_key_id,
            status: key.status,
            secret_access_key: key.secret_access_key,
            create_date: Some(ts(key.create_date)),
        },
    })
}

async fn list_access_keys(
    app: App,
    ctx: Ctx,
    input: iam::ListAccessKeysRequest,
) -> Result<iam::ListAccessKeysResponse, ApiError> {
    let mut conn = read(&app).await?;
    let owner = resolve_owner(&mut conn, &ctx, input.user_name.as_deref()).await?;
    let (keys, name) = match &owner {
        Owner::User { user_id, name } => (
            access_keys::list_for_user(&mut conn, user_id).await?,
            Some(name.clone()),
        ),
        Owner::Root => (
            access_keys::list_for_root(&mut conn, ctx.account()).await?,
            None,
        ),
    };
    let (keys, marker) = paginate(keys, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListAccessKeysResponse {
        access_key_metadata: keys
            .into_iter()
            .map(|k| iam::AccessKeyMetadata {
                user_name: name.clone(),
                access_key_id: Some(k.access_key_id),
                status: Some(k.status),
                create_date: Some(ts(k.create_date)),
            })
            .collect(),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn update_access_key(
    app: App,
    ctx: Ctx,
    input: iam::UpdateAccessKeyRequest,
) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let owner = resolve_owner(&mut tx, &ctx, input.user_name.as_deref()).await?;
    owned_key(&mut tx, &ctx, &owner, &input.access_key_id).await?;
    access_keys::update_status(&mut tx, &input.access_key_id, &input.status).await?;
    tx.commit().await?;
    Ok(())
}

async fn delete_access_key(
    app: App,
    ctx: Ctx,
    input: iam::DeleteAccessKeyRequest,
) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let owner = resolve_owner(&mut tx, &ctx, input.user_name.as_deref()).await?;
    owned_key(&mut tx, &ctx, &owner, &input.access_key_id).await?;
    access_keys::delete(&mut tx, &input.access_key_id).await?;
    tx.commit().await?;
    Ok(())
}

async fn get_access_key_last_used(
    app: App,
    ctx: Ctx,
    input: iam::GetAccessKeyLastUsedRequest,
) -> Result<iam::GetAccessKeyLastUsedResponse, ApiError> {
    let mut conn = read(&app).await?;
    let key = access_keys::get(&mut conn, &input.access_key_id)
        .await?
        .filter(|k| k.account_id == ctx.account())
        .ok_or_else(|| {
            ApiError::access_denied(format!(
                "User: {} is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key {}",
                ctx.principal.arn, input.access_key_id
            ))
        })?;
    let user_name = match &key.user_id {
        Some(id) => users::get_by_id(&mut conn, id).await?.map(|u| u.name),
        None => None,
    };
    let last = match app.last_used.pending(&key.access_key_id) {
        Some(p) => Some((p.date, p.service, p.region)),
        None => key.last_used_date.map(|d| {
            (
                ts(d),
                key.last_used_service.clone().unwrap_or_default(),
                key.last_used_region.clone().unwrap_or_default(),
            )
        }),
    };
    let access_key_last_used = match last {
        Some((date, service, region)) => iam::AccessKeyLastUsed {
            last_used_date: Some(date),
            service_name: service,
            region,
        },
        None => iam::AccessKeyLastUsed {
            last_used_date: None,
            service_name: "N/A".to_string(),
            region: "N/A".to_string(),
        },
    };
    Ok(iam::GetAccessKeyLastUsedResponse {
        user_name,
        access_key_last_used: Some(access_key_last_used),
    })
}

/// What the signature check needs of a key localiam issued; `None` when it does not know the key.
pub async fn load_known_key(app: &App, key_id: &str) -> Result<Option<KnownKey>, ApiError> {
    let mut conn = read(app).await?;
    let Some(owner) = access_keys::lookup(&mut conn, key_id).await? else {
        return Ok(None);
    };
    let principal = match (&owner.user_id, &owner.user_name, &owner.user_path) {
        (Some(id), Some(name), Some(path)) => Principal {
            kind: PrincipalKind::User,
            account_id: owner.account_id.clone(),
            arn: iam_arn(&owner.account_id, "user", path, name),
            user_id: id.clone(),
            name: name.clone(),
            entity_id: Some(id.clone()),
            access_key_id: Some(key_id.to_string()),
        },
        _ => Principal::root(&owner.account_id, Some(key_id.to_string())),
    };
    Ok(Some(KnownKey {
        active: owner.is_active(),
        secret: owner.secret_access_key,
        principal,
        session_token: None,
        expiration: None,
    }))
}

/// Writes the access-key use recorded in memory to the store.
pub async fn flush_last_used(app: &App) {
    let pending = app.last_used.take_all();
    if pending.is_empty() {
        return;
    }
    let result = async {
        let mut tx = app.store.begin_write().await?;
        for (key, used) in &pending {
            access_keys::record_last_used(
                &mut tx,
                key,
                used.date.unix_timestamp(),
                &used.service,
                &used.region,
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record access key use");
    }
}

//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
//! GetAccessKeyLastUsed; and what the signature check needs of them.

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::{Principal, PrincipalKind};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::{App, KnownKey, LastUsed};
use crate::store::model::{
    AccessKey, Account, AccountSettings, KeyLastUsed, Role, RoleLastUsed, SessionKind, User,
};
use crate::store::{StoreResult, Tx};

/// AWS's quota of access keys per user.
pub const KEYS_PER_USER: usize = 2;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateAccessKey, _, _>(create_access_key);
    r.iam::<iam::ListAccessKeys, _, _>(list_access_keys);
    r.iam::<iam::UpdateAccessKey, _, _>(update_access_key);
    r.iam::<iam::DeleteAccessKey, _, _>(delete_access_key);
    r.iam::<iam::GetAccessKeyLastUsed, _, _>(get_access_key_last_used);
}

/// Whose keys (or signing certificates) a call is about: a named user, or (no `UserName`) the
/// caller itself.
pub enum Owner {
    User { user_id: String, name: String },
    Root,
}

/// The owner a call with an optional `UserName` is about: the named user (`NoSuchEntity` when
/// there is none), else the calling user or root; other callers must name a user.
pub fn resolve_owner(
    account: &Account,
    principal: &Principal,
    user_name: Option<&str>,
) -> Result<Owner, ApiError> {
    let name = match (user_name, principal.kind) {
        (Some(name), _) => name,
        (None, PrincipalKind::User) => &principal.name,
        (None, PrincipalKind::Root) => return Ok(Owner::Root),
        (None, _) => {
            return Err(ApiError::validation(
                "Must specify userName when calling with non-User credentials",
            ))
        }
    };
    let u = require_user(account, name)?;
    Ok(Owner::User {
        user_id: u.user_id.clone(),
        name: u.name.clone(),
    })
}

/// A credential kept per owner — in the user, or for the root user in the account's settings —
/// with an ID and a status: access keys and signing certificates.
pub trait OwnedCredential: Send + Sync + 'static {
    fn id(&self) -> &str;
    fn status_mut(&mut self) -> &mut String;
    fn of_user(u: &User) -> &[Self]
    where
        Self: Sized;
    fn of_user_mut(u: &mut User) -> &mut Vec<Self>
    where
        Self: Sized;
    fn of_root(s: &AccountSettings) -> &[Self]
    where
        Self: Sized;
    fn of_root_mut(s: &mut AccountSettings) -> &mut Vec<Self>
    where
        Self: Sized;
    /// AWS's `NoSuchEntity` for an ID the owner does not have.
    fn not_found(id: &str) -> ApiError;
}

impl OwnedCredential for AccessKey {
    fn id(&self) -> &str {
        &self.access_key_id
    }
    fn status_mut(&mut self) -> &mut String {
        &mut self.status
    }
    fn of_user(u: &User) -> &[Self] {
        &u.access_keys
    }
    fn of_user_mut(u: &mut User) -> &mut Vec<Self> {
        &mut u.access_keys
    }
    fn of_root(s: &AccountSettings) -> &[Self] {
        &s.root_access_keys
    }
    fn of_root_mut(s: &mut AccountSettings) -> &mut Vec<Self> {
        &mut s.root_access_keys
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
    }
}

/// The owner's credentials of one kind, oldest first.
pub fn owned<'a, T: OwnedCredential>(account: &'a Account, owner: &Owner) -> &'a [T] {
    match owner {
        Owner::User { user_id, .. } => account
            .users
            .get_by_id(user_id)
            .map_or(&[][..], |u| T::of_user(u)),
        Owner::Root => account.settings().map_or(&[][..], |s| T::of_root(s)),
    }
}

/// Changes the owner's credentials of one kind.
pub fn change_owned<T: OwnedCredential, R>(
    tx: &mut Tx<'_>,
    account: &str,
    owner: &Owner,
    f: impl FnOnce(&mut Vec<T>) -> R,
) -> StoreResult<R> {
    match owner {
        Owner::User { user_id, .. } => tx
            .update(account, user_id, |u: &mut User| f(T::of_user_mut(u)))
            .map(|(_, r)| r),
        Owner::Root => tx.update_settings(account, |s: &mut AccountSettings| f(T::of_root_mut(s))),
    }
}

/// Changes the caller's (or the named user's) credential `id`, once it is known to be theirs.
async fn change_owned_by_id<T: OwnedCredential>(
    app: &App,
    ctx: Ctx,
    user_name: Option<String>,
    id: String,
    f: impl FnOnce(&mut T) + Send + 'static,
    remove: bool,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let owner = resolve_owner(acct, &ctx.principal, user_name.as_deref())?;
            if !owned::<T>(acct, &owner).iter().any(|c| c.id() == id) {
                return Err(T::not_found(&id));
            }
            change_owned(tx, &account, &owner, |all: &mut Vec<T>| {
                if remove {
                    all.retain(|c| c.id() != id);
                } else if let Some(c) = all.iter_mut().find(|c| c.id() == id) {
                    f(c);
                }
            })?;
            Ok(())
        })
        .await
}

/// UpdateAccessKey, UpdateSigningCertificate: the status of the caller's (or the named user's)
/// credential.
pub async fn set_owned_status<T: OwnedCredential>(
    app: &App,
    ctx: Ctx,
    user_name: Option<String>,
    id: String,
    status: String,
) -> Result<(), ApiError> {
    change_owned_by_id(
        app,
        ctx,
        user_name,
        id,
        move |c: &mut T| *c.status_mut() = status,
        false,
    )
    .await
}

/// DeleteAccessKey, DeleteSigningCertificate.
pub async fn delete_owned<T: OwnedCredential>(
    app: &App,
    ctx: Ctx,
    user_name: Option<String>,
    id: String,
) -> Result<(), ApiError> {
    change_owned_by_id(app, ctx, user_name, id, |_: &mut T| {}, true).await
}

async fn create_access_key(
    app: App,
    ctx: Ctx,
    input: iam::CreateAccessKeyRequest,
) -> Result<iam::CreateAccessKeyResponse, ApiError> {
    let account = ctx.account().to_string();
    let (key, name) = app
        .store
        .write(move |tx| {
            let acct = tx.account(&account);
            let owner = resolve_owner(acct, &ctx.principal, input.user_name.as_deref())?;
            if owned::<AccessKey>(acct, &owner).len() >= KEYS_PER_USER {
                return Err(ApiError::limit_exceeded(
                    "Cannot exceed quota for AccessKeysPerUser: 2",
                ));
            }
            let key = AccessKey::generate();
            let stored = key.clone();
            change_owned(tx, &account, &owner, |keys: &mut Vec<AccessKey>| {
                keys.push(stored)
            })?;
            let name = match owner {
                Owner::User { name, .. } => name,
                Owner::Root => String::new(),
            };
            Ok((key, name))
        })
        .await?;
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
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let owner = resolve_owner(acct, &ctx.principal, input.user_name.as_deref())?;
    let name = match &owner {
        Owner::User { name, .. } => Some(name.clone()),
        Owner::Root => None,
    };
    let (keys, marker) = paginate(
        owned::<AccessKey>(acct, &owner).iter().collect(),
        input.marker.as_deref(),
        max_items(input.max_items),
    )?;
    Ok(iam::ListAccessKeysResponse {
        access_key_metadata: keys
            .into_iter()
            .map(|k| iam::AccessKeyMetadata {
                user_name: name.clone(),
                access_key_id: Some(k.access_key_id.clone()),
                status: Some(k.status.clone()),
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
    set_owned_status::<AccessKey>(
        &app,
        ctx,
        input.user_name,
        input.access_key_id,
        input.status,
    )
    .await
}

async fn delete_access_key(
    app: App,
    ctx: Ctx,
    input: iam::DeleteAccessKeyRequest,
) -> Result<(), ApiError> {
    delete_owned::<AccessKey>(&app, ctx, input.user_name, input.access_key_id).await
}

async fn get_access_key_last_used(
    app: App,
    ctx: Ctx,
    input: iam::GetAccessKeyLastUsedRequest,
) -> Result<iam::GetAccessKeyLastUsedResponse, ApiError> {
    let model = app.store.read();
    let denied = || {
        ApiError::access_denied(format!(
            "User: {} is not authorized to perform iam:GetAccessKeyLastUsed on resource: access key {}",
            ctx.principal.arn, input.access_key_id
        ))
    };
    let loc = model
        .key(&input.access_key_id)
        .filter(|l| &*l.account_id == ctx.account())
        .ok_or_else(denied)?;
    let acct = model.account(ctx.account());
    let (user_name, keys) = match &loc.user_id {
        Some(id) => {
            let u = acct.users.get_by_id(id).ok_or_else(denied)?;
            (Some(u.name.clone()), &u.access_keys[..])
        }
        None => (
            None,
            acct.settings().map_or(&[][..], |s| &s.root_access_keys[..]),
        ),
    };
    let key = keys
        .iter()
        .find(|k| k.access_key_id == input.access_key_id)
        .ok_or_else(denied)?;
    let access_key_last_used = match key_last_used(&app, key) {
        Some(last) => iam::AccessKeyLastUsed {
            last_used_date: Some(ts(last.date)),
            service_name: last.service,
            region: last.region,
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

/// When, where and for what a key was last used: the use not yet written to the store, else the
/// stored one.
pub fn key_last_used(app: &App, key: &AccessKey) -> Option<KeyLastUsed> {
    match app.last_used.pending(&key.access_key_id) {
        Some(p) => Some(stored_use(p)),
        None => key.last_used.clone(),
    }
}

/// The last use of the default account's configured root key (`--root-access-key`, which is no
/// key of the model): the use not yet written to the store, else the stored one.
pub fn configured_root_key_last_used(app: &App, account: &Account) -> Option<KeyLastUsed> {
    match app.last_used.pending(&app.config.root_access_key) {
        Some(p) => Some(stored_use(p)),
        None => account.settings()?.root_key_last_used.clone(),
    }
}

fn stored_use(used: LastUsed) -> KeyLastUsed {
    KeyLastUsed {
        date: used.date.unix_timestamp(),
        service: used.service,
        region: used.region,
    }
}

/// What the signature check needs of a key localiam issued; `None` when it does not know the key.
pub fn load_known_key(app: &App, key_id: &str) -> Option<KnownKey> {
    let model = app.store.peek();
    let loc = model.key(key_id)?;
    let acct = model.account(&loc.account_id);
    if loc.session {
        return session_key(acct, key_id);
    }
    let (key, principal) = match &loc.user_id {
        Some(id) => {
            let u = acct.users.get_by_id(id)?;
            let key = u.access_keys.iter().find(|k| k.access_key_id == key_id)?;
            let principal = Principal {
                kind: PrincipalKind::User,
                account_id: loc.account_id.to_string(),
                arn: u.arn(),
                user_id: u.user_id.clone(),
                name: u.name.clone(),
                entity_id: Some(u.user_id.clone()),
                access_key_id: Some(key_id.to_string()),
            };
            (key, principal)
        }
        None => {
            let key = acct
                .settings()?
                .root_access_keys
                .iter()
                .find(|k| k.access_key_id == key_id)?;
            (
                key,
                Principal::root(&loc.account_id, Some(key_id.to_string())),
            )
        }
    };
    Some(KnownKey {
        active: key.is_active(),
        secret: key.secret_access_key.clone(),
        principal,
        session_token: None,
        expiration: None,
    })
}

/// What the signature check needs of an STS session's key. A user's session ends with the user.
fn session_key(acct: &crate::store::model::Account, key_id: &str) -> Option<KnownKey> {
    let s = acct.sessions.get_by_id(key_id)?;
    let (kind, name) = match s.kind {
        SessionKind::AssumedRole => (
            PrincipalKind::AssumedRole,
            s.session_name.clone().unwrap_or_default(),
        ),
        SessionKind::FederatedUser => (
            PrincipalKind::FederatedUser,
            s.session_name.clone().unwrap_or_default(),
        ),
        SessionKind::User => {
            let u = acct.users.get_by_id(s.entity_id.as_deref()?)?;
            (PrincipalKind::User, u.name.clone())
        }
        SessionKind::Root => (PrincipalKind::Root, String::new()),
    };
    Some(KnownKey {
        active: true,
        secret: s.secret_access_key.clone(),
        principal: Principal {
            kind,
            account_id: s.account_id.clone(),
            arn: s.arn.clone(),
            user_id: s.principal_id.clone(),
            name,
            entity_id: s.entity_id.clone(),
            access_key_id: Some(key_id.to_string()),
        },
        session_token: Some(s.session_token.clone()),
        expiration: time::OffsetDateTime::from_unix_timestamp(s.expiration).ok(),
    })
}

/// Writes the access-key use recorded in memory to the store.
pub async fn flush_last_used(app: &App) {
    let pending = app.last_used.snapshot();
    if pending.is_empty() {
        return;
    }
    let written = pending.clone();
    let root_key = app.config.root_access_key.clone();
    let default_account = app.config.account_id.clone();
    let result = app
        .store
        .write(move |tx| {
            for (key_id, used) in pending {
                if key_id == root_key {
                    // The configured root key is no key of the model: its account's settings.
                    let last = stored_use(used);
                    tx.update_settings(&default_account, |s: &mut AccountSettings| {
                        s.root_key_last_used = Some(last)
                    })?;
                    continue;
                }
                let Some(loc) = tx.model().key(&key_id).cloned() else {
                    continue;
                };
                if loc.session {
                    // A role's session: the role's RoleLastUsed.
                    let role_id = tx
                        .account(&loc.account_id)
                        .sessions
                        .get_by_id(&key_id)
                        .filter(|s| s.kind == SessionKind::AssumedRole)
                        .and_then(|s| s.entity_id.clone());
                    if let Some(role_id) = role_id {
                        let last = RoleLastUsed {
                            date: used.date.unix_timestamp(),
                            region: used.region,
                        };
                        match tx.update(&loc.account_id, &role_id, |r: &mut Role| {
                            r.last_used = Some(last)
                        }) {
                            Ok(_) | Err(crate::store::StoreError::NotFound) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    continue;
                }
                let owner = match loc.user_id {
                    Some(user_id) => Owner::User {
                        user_id: user_id.to_string(),
                        name: String::new(),
                    },
                    None => Owner::Root,
                };
                let last = stored_use(used);
                change_owned(tx, &loc.account_id, &owner, |keys: &mut Vec<AccessKey>| {
                    for k in keys.iter_mut() {
                        if k.access_key_id == key_id {
                            k.last_used = Some(last.clone());
                        }
                    }
                })?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await;
    match result {
        // Served from the model from now on.
        Ok(()) => app.last_used.forget(&written),
        Err(e) => tracing::warn!(error = %e, "could not record access key use"),
    }
}

//! Service-specific credentials of users: CreateServiceSpecificCredential,
//! ListServiceSpecificCredentials, ResetServiceSpecificCredential,
//! UpdateServiceSpecificCredential, DeleteServiceSpecificCredential.
//!
//! Two kinds, by service: a user name and password (CodeCommit's Git credentials, Amazon
//! Keyspaces), or a long-term API key, an alias and a secret, that may expire (Amazon Bedrock,
//! CloudWatch Logs). The password or secret is returned by Create and Reset only and never
//! stored: only its SHA-256 is. As recorded on AWS, an unsupported service is `NoSuchEntity`
//! ("No such service … is supported for Service Specific Credentials"), a user with credentials
//! cannot be deleted, and a renamed user keeps its credentials' `ServiceUserName`.

use std::sync::Arc;

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::ids;
use crate::store::model::{Account, ServiceCredential, User};

/// AWS's quota of credentials per user and service.
pub const CREDENTIALS_PER_SERVICE: usize = 2;

/// The services AWS issues service-specific credentials for, and whether they take an API key
/// (alias and secret, may expire) rather than a user name and password.
const SERVICES: &[(&str, bool)] = &[
    ("codecommit.amazonaws.com", false),
    ("cassandra.amazonaws.com", false),
    ("bedrock.amazonaws.com", true),
    ("logs.amazonaws.com", true),
];

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateServiceSpecificCredential, _, _>(create_credential);
    r.iam::<iam::ListServiceSpecificCredentials, _, _>(list_credentials);
    r.iam::<iam::ResetServiceSpecificCredential, _, _>(reset_credential);
    r.iam::<iam::UpdateServiceSpecificCredential, _, _>(update_credential);
    r.iam::<iam::DeleteServiceSpecificCredential, _, _>(delete_credential);
}

/// Whether the service takes API keys; `NoSuchEntity` (as AWS answers) when it has no
/// service-specific credentials.
fn service_kind(service: &str) -> Result<bool, ApiError> {
    SERVICES
        .iter()
        .find(|(s, _)| *s == service)
        .map(|(_, api_key)| *api_key)
        .ok_or_else(|| {
            ApiError::no_such_entity(format!(
                "No such service {service} is supported for Service Specific Credentials"
            ))
        })
}

fn no_such_credential(id: &str) -> ApiError {
    ApiError::no_such_entity(format!("No such credential {id} exists"))
}

/// A fresh secret: a password (32 random bytes, base64) or, for an API key, AWS's Bedrock form
/// (`ABSK` and the base64 of `ALIAS:RANDOM`).
fn new_secret(alias: Option<&str>, service: &str) -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let b64 = base64::engine::general_purpose::STANDARD;
    match alias {
        None => b64.encode(raw),
        Some(alias) => {
            let token = b64.encode(format!("{alias}:{}", b64.encode(raw)));
            if service == "bedrock.amazonaws.com" {
                format!("ABSK{token}")
            } else {
                token
            }
        }
    }
}

fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `Expired` once an API key's expiration has passed, else the stored status.
fn status_at(c: &ServiceCredential, now: i64) -> String {
    match c.expiration_date {
        Some(exp) if exp <= now => "Expired".to_string(),
        _ => c.status.clone(),
    }
}

/// The full shape (Create, Reset), with the secret just made.
fn shape(
    user: &str,
    c: &ServiceCredential,
    secret: String,
    now: i64,
) -> iam::ServiceSpecificCredential {
    let api_key = c.alias.is_some();
    iam::ServiceSpecificCredential {
        create_date: ts(c.create_date),
        expiration_date: c.expiration_date.map(ts),
        service_name: c.service_name.clone(),
        service_user_name: c.service_user_name.clone(),
        service_password: (!api_key).then(|| secret.clone()),
        service_credential_alias: c.alias.clone(),
        service_credential_secret: api_key.then_some(secret),
        service_specific_credential_id: c.credential_id.clone(),
        user_name: user.to_string(),
        status: status_at(c, now),
    }
}

fn metadata(user: &str, c: &ServiceCredential, now: i64) -> iam::ServiceSpecificCredentialMetadata {
    iam::ServiceSpecificCredentialMetadata {
        user_name: user.to_string(),
        status: status_at(c, now),
        service_user_name: c.service_user_name.clone(),
        service_credential_alias: c.alias.clone(),
        create_date: ts(c.create_date),
        expiration_date: c.expiration_date.map(ts),
        service_specific_credential_id: c.credential_id.clone(),
        service_name: c.service_name.clone(),
    }
}

/// The user a call with an optional `UserName` is about: the named one, else the calling user;
/// `None` for the root user (who has no service-specific credentials).
fn resolve_user(
    account: &Account,
    ctx: &Ctx,
    user_name: Option<&str>,
) -> Result<Option<Arc<User>>, ApiError> {
    match (user_name, ctx.principal.kind) {
        (Some(name), _) => require_user(account, name).map(Some),
        (None, PrincipalKind::User) => require_user(account, &ctx.principal.name).map(Some),
        (None, PrincipalKind::Root) => Ok(None),
        (None, _) => Err(ApiError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

async fn create_credential(
    app: App,
    ctx: Ctx,
    input: iam::CreateServiceSpecificCredentialRequest,
) -> Result<iam::CreateServiceSpecificCredentialResponse, ApiError> {
    let account = ctx.account().to_string();
    let now = ctx.now.unix_timestamp();
    app.store
        .write(move |tx| {
            let user = require_user(tx.account(&account), &input.user_name)?;
            let service = input.service_name;
            let api_key = service_kind(&service)?;
            if input.credential_age_days.is_some() && !api_key {
                return Err(ApiError::invalid_input(format!(
                    "CredentialAgeDays is not supported for service {service}"
                )));
            }
            let same_service: Vec<&ServiceCredential> = user
                .service_credentials
                .iter()
                .filter(|c| c.service_name == service)
                .collect();
            if same_service.len() >= CREDENTIALS_PER_SERVICE {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {CREDENTIALS_PER_SERVICE}"
                )));
            }
            let base = format!("{}-at-{account}", user.name);
            let (service_user_name, alias) = if api_key {
                (None, Some(base))
            } else {
                // The second credential of a service gets `USER+1-at-ACCOUNT` while the first
                // one's name is taken.
                let taken = same_service
                    .iter()
                    .any(|c| c.service_user_name.as_deref() == Some(base.as_str()));
                let name = if taken {
                    format!("{}+1-at-{account}", user.name)
                } else {
                    base
                };
                (Some(name), None)
            };
            let secret = new_secret(alias.as_deref(), &service);
            let create_date = ids::now();
            let cred = ServiceCredential {
                credential_id: ids::unique_id(ids::prefix::SERVICE_SPECIFIC_CREDENTIAL),
                service_name: service,
                service_user_name,
                alias,
                secret_sha256: sha256_hex(&secret),
                status: "Active".to_string(),
                create_date,
                expiration_date: input
                    .credential_age_days
                    .map(|d| create_date.saturating_add(i64::from(d) * 86_400)),
            };
            let out = shape(&user.name, &cred, secret, now);
            tx.update(&account, &user.user_id, |u: &mut User| {
                u.service_credentials.push(cred)
            })?;
            Ok(iam::CreateServiceSpecificCredentialResponse {
                service_specific_credential: Some(out),
            })
        })
        .await
}

async fn list_credentials(
    app: App,
    ctx: Ctx,
    input: iam::ListServiceSpecificCredentialsRequest,
) -> Result<iam::ListServiceSpecificCredentialsResponse, ApiError> {
    if let Some(s) = &input.service_name {
        service_kind(s)?;
    }
    let now = ctx.now.unix_timestamp();
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let users: Vec<Arc<User>> = if input.all_users == Some(true) {
        acct.users.iter().cloned().collect()
    } else {
        resolve_user(acct, &ctx, input.user_name.as_deref())?
            .into_iter()
            .collect()
    };
    let all: Vec<iam::ServiceSpecificCredentialMetadata> = users
        .iter()
        .flat_map(|u| {
            u.service_credentials
                .iter()
                .filter(|c| {
                    input
                        .service_name
                        .as_ref()
                        .is_none_or(|s| *s == c.service_name)
                })
                .map(|c| metadata(&u.name, c, now))
        })
        .collect();
    let (page, marker) = paginate(all, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListServiceSpecificCredentialsResponse {
        service_specific_credentials: Some(page),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

/// Changes one credential of the user a call is about; `f` gets it and returns the call's answer.
async fn change_credential<R: Send + 'static>(
    app: &App,
    ctx: Ctx,
    user_name: Option<String>,
    id: String,
    f: impl FnOnce(&mut User, &Ctx) -> R + Send + 'static,
) -> Result<R, ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = resolve_user(tx.account(&account), &ctx, user_name.as_deref())?
                .filter(|u| u.service_credentials.iter().any(|c| c.credential_id == id))
                .ok_or_else(|| no_such_credential(&id))?;
            let (_, r) = tx.update(&account, &user.user_id, |u: &mut User| f(u, &ctx))?;
            Ok(r)
        })
        .await
}

async fn reset_credential(
    app: App,
    ctx: Ctx,
    input: iam::ResetServiceSpecificCredentialRequest,
) -> Result<iam::ResetServiceSpecificCredentialResponse, ApiError> {
    let id = input.service_specific_credential_id.clone();
    let out = change_credential(
        &app,
        ctx,
        input.user_name,
        input.service_specific_credential_id,
        move |u, ctx| {
            let name = u.name.clone();
            u.service_credentials
                .iter_mut()
                .find(|c| c.credential_id == id)
                .map(|c| {
                    let secret = new_secret(c.alias.as_deref(), &c.service_name);
                    c.secret_sha256 = sha256_hex(&secret);
                    shape(&name, c, secret, ctx.now.unix_timestamp())
                })
        },
    )
    .await?;
    Ok(iam::ResetServiceSpecificCredentialResponse {
        service_specific_credential: out,
    })
}

async fn update_credential(
    app: App,
    ctx: Ctx,
    input: iam::UpdateServiceSpecificCredentialRequest,
) -> Result<(), ApiError> {
    let id = input.service_specific_credential_id.clone();
    let status = input.status;
    change_credential(
        &app,
        ctx,
        input.user_name,
        input.service_specific_credential_id,
        move |u, _| {
            for c in u
                .service_credentials
                .iter_mut()
                .filter(|c| c.credential_id == id)
            {
                c.status.clone_from(&status);
            }
        },
    )
    .await
}

async fn delete_credential(
    app: App,
    ctx: Ctx,
    input: iam::DeleteServiceSpecificCredentialRequest,
) -> Result<(), ApiError> {
    let id = input.service_specific_credential_id.clone();
    change_credential(
        &app,
        ctx,
        input.user_name,
        input.service_specific_credential_id,
        move |u, _| u.service_credentials.retain(|c| c.credential_id != id),
    )
    .await
}

/// The service of a credential of the account (for the `iam:ServiceSpecificCredentialServiceName`
/// condition key of the calls that name a credential by ID).
pub fn service_of(account: &Account, credential_id: &str) -> Option<String> {
    account
        .users
        .iter()
        .flat_map(|u| u.service_credentials.iter())
        .find(|c| c.credential_id == credential_id)
        .map(|c| c.service_name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hashed_and_stay_out_of_debug_output() {
        let secret = new_secret(None, "codecommit.amazonaws.com");
        assert_eq!(secret.len(), 44);
        let c = ServiceCredential {
            credential_id: "ACCAEXAMPLEEXAMPLEEXA".into(),
            service_name: "codecommit.amazonaws.com".into(),
            service_user_name: Some("u-at-000000000000".into()),
            alias: None,
            secret_sha256: sha256_hex(&secret),
            status: "Active".into(),
            create_date: 0,
            expiration_date: None,
        };
        let debug = format!("{c:?}");
        assert!(debug.contains("ACCAEXAMPLEEXAMPLEEXA"), "{debug}");
        assert!(
            !debug.contains(&c.secret_sha256) && !debug.contains(&secret),
            "{debug}"
        );
        let key = new_secret(Some("u-at-000000000000"), "bedrock.amazonaws.com");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(key.trim_start_matches("ABSK"))
            .unwrap();
        assert!(String::from_utf8(decoded)
            .unwrap()
            .starts_with("u-at-000000000000:"));
    }
}

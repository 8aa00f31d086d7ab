//! SAML providers: CreateSAMLProvider, GetSAMLProvider, ListSAMLProviders, UpdateSAMLProvider,
//! DeleteSAMLProvider, TagSAMLProvider, UntagSAMLProvider, ListSAMLProviderTags.
//!
//! The metadata document is parsed as SAML 2.0 metadata when it is uploaded; its entity ID and
//! signing certificates are what AssumeRoleWithSAML (`sts_saml.rs`) checks responses against.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::saml::{parse_metadata, Metadata};
use crate::state::App;
use crate::store::model::{Account, SamlPrivateKey, SamlProvider};
use crate::store::{ids, StoreError};

/// AWS's default quota of SAML providers per account.
const SAML_PROVIDERS_PER_ACCOUNT: usize = 100;
/// A provider can hold two private keys (key rotation).
const PRIVATE_KEYS_PER_PROVIDER: usize = 2;
/// How long a provider is valid when its metadata does not say (AWS: a hundred years).
const DEFAULT_VALIDITY_SECONDS: i64 = 100 * 365 * 24 * 3600;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateSAMLProvider, _, _>(create_saml_provider);
    r.iam::<iam::GetSAMLProvider, _, _>(get_saml_provider);
    r.iam::<iam::ListSAMLProviders, _, _>(list_saml_providers);
    r.iam::<iam::UpdateSAMLProvider, _, _>(update_saml_provider);
    r.iam::<iam::DeleteSAMLProvider, _, _>(delete_saml_provider);
    r.iam::<iam::TagSAMLProvider, _, _>(tag_saml_provider);
    r.iam::<iam::UntagSAMLProvider, _, _>(untag_saml_provider);
    r.iam::<iam::ListSAMLProviderTags, _, _>(list_saml_provider_tags);
}

/// `arn:aws:iam::ACCOUNT:saml-provider/NAME` → (account, name).
pub fn parse_provider_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix("saml-provider/")?;
    (!name.is_empty() && !name.contains('/')).then_some((account, name))
}

fn not_found(arn: &str) -> ApiError {
    ApiError::no_such_entity(format!("Manifest not found for arn {arn}"))
}

/// The provider an ARN names in the caller's account, or AWS's `NoSuchEntity`.
pub fn require_saml_provider(
    account: &Account,
    account_id: &str,
    arn: &str,
) -> Result<Arc<SamlProvider>, ApiError> {
    parse_provider_arn(arn)
        .filter(|(a, _)| *a == account_id)
        .and_then(|(_, name)| account.saml_providers.get(name).cloned())
        .ok_or_else(|| not_found(arn))
}

/// The provider an ARN names, from the current snapshot.
fn read_saml_provider(app: &App, ctx: &Ctx, arn: &str) -> Result<Arc<SamlProvider>, ApiError> {
    let model = app.store.read();
    require_saml_provider(model.account(ctx.account()), ctx.account(), arn)
}

/// The metadata document parsed, or AWS's `InvalidInput`.
fn metadata(doc: &str) -> Result<Metadata, ApiError> {
    parse_metadata(doc).map_err(|e| {
        tracing::debug!(error = %e, "SAML metadata refused");
        ApiError::invalid_input("Could not parse metadata")
    })
}

fn valid_until(m: &Metadata, created: i64) -> i64 {
    m.valid_until.map_or(
        created + DEFAULT_VALIDITY_SECONDS,
        OffsetDateTime::unix_timestamp,
    )
}

fn check_encryption_mode(mode: Option<&str>, keys: usize) -> Result<(), ApiError> {
    if mode == Some("Required") && keys == 0 {
        return Err(ApiError::invalid_input(
            "A private key is required when the assertion encryption mode is Required.",
        ));
    }
    Ok(())
}

/// A private key upload: a PEM private key, remembered by a new key ID.
fn private_key(pem: &str) -> Result<SamlPrivateKey, ApiError> {
    if !pem.contains("-----BEGIN") || !pem.contains("PRIVATE KEY-----") {
        return Err(ApiError::invalid_input("Private key isn't valid"));
    }
    Ok(SamlPrivateKey {
        key_id: ids::certificate_id(),
        timestamp: ids::now(),
    })
}

async fn create_saml_provider(
    app: App,
    ctx: Ctx,
    input: iam::CreateSAMLProviderRequest,
) -> Result<iam::CreateSAMLProviderResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    let m = metadata(&input.saml_metadata_document)?;
    let keys = input
        .add_private_key
        .as_deref()
        .map(private_key)
        .transpose()?;
    check_encryption_mode(
        input.assertion_encryption_mode.as_deref(),
        keys.iter().len(),
    )?;
    let account = ctx.account().to_string();
    let now = ids::now();
    let provider = SamlProvider {
        uuid: ids::certificate_id(),
        account_id: account.clone(),
        name: input.name,
        metadata_document: input.saml_metadata_document,
        entity_id: m.entity_id.clone(),
        certificates: m.certificates.clone(),
        create_date: now,
        valid_until: valid_until(&m, now),
        assertion_encryption_mode: input
            .assertion_encryption_mode
            .unwrap_or_else(|| "Allowed".to_string()),
        private_keys: keys.into_iter().collect(),
        tags: to_store_tags(&tags),
    };
    let provider = app
        .store
        .write(move |tx| {
            let exists = || {
                ApiError::already_exists(format!("SAMLProvider {} already exists.", provider.name))
            };
            let acct = tx.account(&account);
            if acct.saml_providers.get(&provider.name).is_some() {
                return Err(exists());
            }
            if acct.saml_providers.len() >= SAML_PROVIDERS_PER_ACCOUNT {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for SAMLProvidersPerAccount: {SAML_PROVIDERS_PER_ACCOUNT}"
                )));
            }
            tx.insert(provider.clone()).map_err(|e| match e {
                StoreError::UniqueViolation(_) => exists(),
                other => other.into(),
            })
        })
        .await?;
    Ok(iam::CreateSAMLProviderResponse {
        saml_provider_arn: Some(provider.arn()),
        tags: nonempty_tags(&provider.tags),
    })
}

async fn get_saml_provider(
    app: App,
    ctx: Ctx,
    input: iam::GetSAMLProviderRequest,
) -> Result<iam::GetSAMLProviderResponse, ApiError> {
    let p = read_saml_provider(&app, &ctx, &input.saml_provider_arn)?;
    Ok(iam::GetSAMLProviderResponse {
        saml_provider_uuid: Some(p.uuid.clone()),
        saml_metadata_document: Some(p.metadata_document.clone()),
        create_date: Some(ts(p.create_date)),
        valid_until: Some(ts(p.valid_until)),
        tags: Some(to_api_tags(&p.tags)),
        assertion_encryption_mode: Some(p.assertion_encryption_mode.clone()),
        private_key_list: Some(
            p.private_keys
                .iter()
                .map(|k| iam::SAMLPrivateKey {
                    key_id: Some(k.key_id.clone()),
                    timestamp: Some(ts(k.timestamp)),
                })
                .collect(),
        ),
    })
}

async fn list_saml_providers(
    app: App,
    ctx: Ctx,
    _input: iam::ListSAMLProvidersRequest,
) -> Result<iam::ListSAMLProvidersResponse, ApiError> {
    let model = app.store.read();
    let list = model
        .account(ctx.account())
        .saml_providers
        .iter()
        .map(|p| iam::SAMLProviderListEntry {
            arn: Some(p.arn()),
            valid_until: Some(ts(p.valid_until)),
            create_date: Some(ts(p.create_date)),
        })
        .collect();
    Ok(iam::ListSAMLProvidersResponse {
        saml_provider_list: Some(list),
    })
}

async fn update_saml_provider(
    app: App,
    ctx: Ctx,
    input: iam::UpdateSAMLProviderRequest,
) -> Result<iam::UpdateSAMLProviderResponse, ApiError> {
    let m = input
        .saml_metadata_document
        .as_deref()
        .map(metadata)
        .transpose()?;
    let added = input
        .add_private_key
        .as_deref()
        .map(private_key)
        .transpose()?;
    let account = ctx.account().to_string();
    let arn = input.saml_provider_arn.clone();
    let provider = app
        .store
        .write(move |tx| {
            let p = require_saml_provider(tx.account(&account), &account, &arn)?;
            let mut keys = p.private_keys.clone();
            if let Some(id) = &input.remove_private_key {
                if !keys.iter().any(|k| &k.key_id == id) {
                    return Err(ApiError::invalid_input(format!(
                        "The private key with ID {id} cannot be found."
                    )));
                }
                keys.retain(|k| &k.key_id != id);
            }
            if let Some(k) = added {
                if keys.len() >= PRIVATE_KEYS_PER_PROVIDER {
                    return Err(ApiError::limit_exceeded(format!(
                        "Cannot exceed quota for PrivateKeysPerSAMLProvider: {PRIVATE_KEYS_PER_PROVIDER}"
                    )));
                }
                keys.push(k);
            }
            let mode = input
                .assertion_encryption_mode
                .clone()
                .unwrap_or_else(|| p.assertion_encryption_mode.clone());
            check_encryption_mode(Some(&mode), keys.len())?;
            let (p, ()) = tx.update(&account, &p.uuid, |p: &mut SamlProvider| {
                if let (Some(m), Some(doc)) = (&m, &input.saml_metadata_document) {
                    p.metadata_document.clone_from(doc);
                    p.entity_id.clone_from(&m.entity_id);
                    p.certificates.clone_from(&m.certificates);
                    p.valid_until = valid_until(m, ids::now());
                }
                p.private_keys = keys;
                p.assertion_encryption_mode = mode;
            })?;
            Ok(p)
        })
        .await?;
    Ok(iam::UpdateSAMLProviderResponse {
        saml_provider_arn: Some(provider.arn()),
    })
}

async fn delete_saml_provider(
    app: App,
    ctx: Ctx,
    input: iam::DeleteSAMLProviderRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let p =
                require_saml_provider(tx.account(&account), &account, &input.saml_provider_arn)?;
            tx.remove::<SamlProvider>(&account, &p.uuid)?;
            Ok(())
        })
        .await
}

async fn tag_saml_provider(
    app: App,
    ctx: Ctx,
    input: iam::TagSAMLProviderRequest,
) -> Result<(), ApiError> {
    let (account, arn) = (ctx.account().to_string(), input.saml_provider_arn);
    tag_entity(&app, ctx.account(), &input.tags, move |a| {
        require_saml_provider(a, &account, &arn)
    })
    .await
}

async fn untag_saml_provider(
    app: App,
    ctx: Ctx,
    input: iam::UntagSAMLProviderRequest,
) -> Result<(), ApiError> {
    let (account, arn) = (ctx.account().to_string(), input.saml_provider_arn);
    untag_entity(&app, ctx.account(), input.tag_keys, move |a| {
        require_saml_provider(a, &account, &arn)
    })
    .await
}

async fn list_saml_provider_tags(
    app: App,
    ctx: Ctx,
    input: iam::ListSAMLProviderTagsRequest,
) -> Result<iam::ListSAMLProviderTagsResponse, ApiError> {
    let p = read_saml_provider(&app, &ctx, &input.saml_provider_arn)?;
    let (tags, marker) = tags_page(&p.tags, input.marker.as_deref(), input.max_items)?;
    Ok(iam::ListSAMLProviderTagsResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        tags,
    })
}

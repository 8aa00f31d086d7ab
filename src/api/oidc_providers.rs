//! OpenID Connect providers: CreateOpenIDConnectProvider, GetOpenIDConnectProvider,
//! ListOpenIDConnectProviders, DeleteOpenIDConnectProvider, AddClientIDToOpenIDConnectProvider,
//! RemoveClientIDFromOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint,
//! TagOpenIDConnectProvider, UntagOpenIDConnectProvider, ListOpenIDConnectProviderTags; and the
//! account's own issuer: EnableOutboundWebIdentityFederation,
//! DisableOutboundWebIdentityFederation, GetOutboundWebIdentityFederationInfo.
//!
//! The tokens of a provider are verified by AssumeRoleWithWebIdentity (`web_identity.rs`).

use std::sync::Arc;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, AccountSettings, OidcProvider, OutboundFederation};
use crate::store::{ids, StoreError, Tx};

/// AWS's quotas: providers per account, client IDs and thumbprints per provider.
const PROVIDERS_PER_ACCOUNT: usize = 100;
const CLIENT_IDS_PER_PROVIDER: usize = 100;
const MAX_THUMBPRINTS: usize = 5;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateOpenIDConnectProvider, _, _>(create_provider);
    r.iam::<iam::GetOpenIDConnectProvider, _, _>(get_provider);
    r.iam::<iam::ListOpenIDConnectProviders, _, _>(list_providers);
    r.iam::<iam::DeleteOpenIDConnectProvider, _, _>(delete_provider);
    r.iam::<iam::AddClientIDToOpenIDConnectProvider, _, _>(add_client_id);
    r.iam::<iam::RemoveClientIDFromOpenIDConnectProvider, _, _>(remove_client_id);
    r.iam::<iam::UpdateOpenIDConnectProviderThumbprint, _, _>(update_thumbprint);
    r.iam::<iam::TagOpenIDConnectProvider, _, _>(tag_provider);
    r.iam::<iam::UntagOpenIDConnectProvider, _, _>(untag_provider);
    r.iam::<iam::ListOpenIDConnectProviderTags, _, _>(list_provider_tags);
    r.iam::<iam::EnableOutboundWebIdentityFederation, _, _>(enable_outbound);
    r.iam::<iam::DisableOutboundWebIdentityFederation, _, _>(disable_outbound);
    r.iam::<iam::GetOutboundWebIdentityFederationInfo, _, _>(get_outbound_info);
}

/// A provider URL as providers are named (`HOST/PATH`): `https://` only, a host, no query or
/// fragment, no trailing slash. `None` when AWS refuses it.
pub fn provider_name(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or_default();
    let ok = !host.is_empty()
        && !rest.contains(['?', '#', ' '])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    ok.then(|| rest.to_string())
}

/// The public keys of an OpenID Connect issuer given to localiam (`POST /_localiam/oidc-keys`, a
/// seed's `oidc_issuer_keys`): the entity, and how many keys it has; else why not.
pub fn issuer_keys(
    url: &str,
    jwks: &serde_json::Value,
) -> Result<(crate::store::model::IssuerKeys, usize), String> {
    let Some(issuer) = provider_name(url) else {
        return Err("\"url\" must be an https:// URL, as OpenID Connect providers are".into());
    };
    let text = jwks.to_string();
    let keys = match crate::jwt::parse_jwks(&text) {
        Ok(set) if !set.keys.is_empty() => set.keys.len(),
        Ok(_) => return Err("\"jwks\" has no keys".into()),
        Err(e) => return Err(format!("\"jwks\" is not a JWKS document: {e}")),
    };
    let entity = crate::store::model::IssuerKeys {
        account_id: crate::store::model::SHARED_ACCOUNT.to_string(),
        issuer,
        jwks: text,
    };
    Ok((entity, keys))
}

fn invalid_url() -> ApiError {
    ApiError::validation("Invalid Open ID Connect Provider URL")
}

/// The provider an ARN names in the caller's account, or AWS's `NoSuchEntity` in the wording of
/// GetOpenIDConnectProvider.
fn require_provider(account: &Account, arn: &str) -> Result<Arc<OidcProvider>, ApiError> {
    find_provider(account, arn).ok_or_else(|| {
        ApiError::no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
    })
}

fn find_provider(account: &Account, arn: &str) -> Option<Arc<OidcProvider>> {
    let (_, name) = arn.split_once(":oidc-provider/")?;
    account
        .oidc_providers
        .get(name)
        .filter(|p| p.arn() == arn)
        .cloned()
}

fn check_thumbprints(thumbprints: &[String]) -> Result<(), ApiError> {
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(ApiError::invalid_input(
            "Thumbprint list must contain fewer than 5 entries.",
        ));
    }
    if let Some(t) = thumbprints
        .iter()
        .find(|t| !t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(ApiError::invalid_input(format!(
            "Thumbprint {t} is not a 40-character hexadecimal string."
        )));
    }
    Ok(())
}

fn client_ids_quota() -> ApiError {
    ApiError::limit_exceeded(format!(
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}"
    ))
}

/// The list without repeats, in first-seen order.
fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for v in list {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

async fn create_provider(
    app: App,
    ctx: Ctx,
    input: iam::CreateOpenIDConnectProviderRequest,
) -> Result<iam::CreateOpenIDConnectProviderResponse, ApiError> {
    let name = provider_name(&input.url).ok_or_else(invalid_url)?;
    let thumbprints = dedup(input.thumbprint_list.unwrap_or_default());
    check_thumbprints(&thumbprints)?;
    let client_ids = dedup(input.client_id_list.unwrap_or_default());
    if client_ids.len() > CLIENT_IDS_PER_PROVIDER {
        return Err(client_ids_quota());
    }
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    let provider = OidcProvider {
        account_id: ctx.account().to_string(),
        url: name,
        client_ids,
        thumbprints,
        create_date: ids::now(),
        tags: to_store_tags(&tags),
    };
    let provider = app
        .store
        .write(move |tx| {
            let exists = || {
                ApiError::already_exists(format!(
                    "Provider with url https://{} already exists.",
                    provider.url
                ))
            };
            let acct = tx.account(&provider.account_id);
            if acct.oidc_providers.get(&provider.url).is_some() {
                return Err(exists());
            }
            if acct.oidc_providers.len() >= PROVIDERS_PER_ACCOUNT {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {PROVIDERS_PER_ACCOUNT}"
                )));
            }
            tx.insert(provider.clone()).map_err(|e| match e {
                StoreError::UniqueViolation(_) => exists(),
                other => other.into(),
            })
        })
        .await?;
    Ok(iam::CreateOpenIDConnectProviderResponse {
        open_id_connect_provider_arn: Some(provider.arn()),
        tags: nonempty_tags(&provider.tags),
    })
}

async fn get_provider(
    app: App,
    ctx: Ctx,
    input: iam::GetOpenIDConnectProviderRequest,
) -> Result<iam::GetOpenIDConnectProviderResponse, ApiError> {
    let model = app.store.read();
    let p = require_provider(
        model.account(ctx.account()),
        &input.open_id_connect_provider_arn,
    )?;
    Ok(iam::GetOpenIDConnectProviderResponse {
        url: Some(p.url.clone()),
        client_id_list: Some(p.client_ids.clone()),
        thumbprint_list: Some(p.thumbprints.clone()),
        create_date: Some(ts(p.create_date)),
        tags: Some(to_api_tags(&p.tags)),
    })
}

async fn list_providers(
    app: App,
    ctx: Ctx,
    _input: iam::ListOpenIDConnectProvidersRequest,
) -> Result<iam::ListOpenIDConnectProvidersResponse, ApiError> {
    let model = app.store.read();
    Ok(iam::ListOpenIDConnectProvidersResponse {
        open_id_connect_provider_list: Some(
            model
                .account(ctx.account())
                .oidc_providers
                .iter()
                .map(|p| iam::OpenIDConnectProviderListEntry { arn: Some(p.arn()) })
                .collect(),
        ),
    })
}

async fn delete_provider(
    app: App,
    ctx: Ctx,
    input: iam::DeleteOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    let arn = input.open_id_connect_provider_arn;
    app.store
        .write(move |tx| {
            let p = find_provider(tx.account(&account), &arn).ok_or_else(|| {
                ApiError::no_such_entity(format!("OpenId connect Provider {arn} cannot be found."))
            })?;
            tx.remove::<OidcProvider>(&account, &p.url)?;
            Ok(())
        })
        .await
}

/// Changes the provider an ARN names, within one write.
async fn update_provider(
    app: &App,
    ctx: &Ctx,
    arn: String,
    f: impl FnOnce(&mut OidcProvider) -> Result<(), ApiError> + Send + 'static,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let p = require_provider(tx.account(&account), &arn)?;
            let mut changed = (*p).clone();
            f(&mut changed)?;
            tx.update(&account, &p.url, |e: &mut OidcProvider| *e = changed)?;
            Ok(())
        })
        .await
}

async fn add_client_id(
    app: App,
    ctx: Ctx,
    input: iam::AddClientIDToOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    let id = input.client_id;
    update_provider(&app, &ctx, input.open_id_connect_provider_arn, move |p| {
        if p.client_ids.contains(&id) {
            return Ok(());
        }
        if p.client_ids.len() >= CLIENT_IDS_PER_PROVIDER {
            return Err(client_ids_quota());
        }
        p.client_ids.push(id);
        Ok(())
    })
    .await
}

async fn remove_client_id(
    app: App,
    ctx: Ctx,
    input: iam::RemoveClientIDFromOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    let id = input.client_id;
    update_provider(&app, &ctx, input.open_id_connect_provider_arn, move |p| {
        p.client_ids.retain(|c| *c != id);
        Ok(())
    })
    .await
}

async fn update_thumbprint(
    app: App,
    ctx: Ctx,
    input: iam::UpdateOpenIDConnectProviderThumbprintRequest,
) -> Result<(), ApiError> {
    let thumbprints = dedup(input.thumbprint_list);
    check_thumbprints(&thumbprints)?;
    update_provider(&app, &ctx, input.open_id_connect_provider_arn, move |p| {
        p.thumbprints = thumbprints;
        Ok(())
    })
    .await
}

async fn tag_provider(
    app: App,
    ctx: Ctx,
    input: iam::TagOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    let arn = input.open_id_connect_provider_arn;
    tag_entity(&app, ctx.account(), &input.tags, move |a| {
        require_provider(a, &arn)
    })
    .await
}

async fn untag_provider(
    app: App,
    ctx: Ctx,
    input: iam::UntagOpenIDConnectProviderRequest,
) -> Result<(), ApiError> {
    let arn = input.open_id_connect_provider_arn;
    untag_entity(&app, ctx.account(), input.tag_keys, move |a| {
        require_provider(a, &arn)
    })
    .await
}

async fn list_provider_tags(
    app: App,
    ctx: Ctx,
    input: iam::ListOpenIDConnectProviderTagsRequest,
) -> Result<iam::ListOpenIDConnectProviderTagsResponse, ApiError> {
    let model = app.store.read();
    let p = require_provider(
        model.account(ctx.account()),
        &input.open_id_connect_provider_arn,
    )?;
    let (tags, marker) = tags_page(&p.tags, input.marker.as_deref(), input.max_items)?;
    Ok(iam::ListOpenIDConnectProviderTagsResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        tags,
    })
}

// ---------------------------------------------------------------------------------------------
// Outbound web identity federation: the account's own issuer
// ---------------------------------------------------------------------------------------------

/// The account's outbound federation, enabled or not, if it was ever enabled.
pub fn outbound(account: &Account) -> Option<OutboundFederation> {
    account
        .settings
        .get_by_id("account")
        .and_then(|s| s.outbound_federation.clone())
}

fn feature_disabled() -> ApiError {
    ApiError::new(
        "FeatureDisabled",
        http::StatusCode::NOT_FOUND,
        "Outbound identity federation is disabled for your account.",
    )
}

/// Changes the account's settings, creating them when the account has none yet.
fn update_settings<R>(
    tx: &mut Tx<'_>,
    account: &str,
    f: impl FnOnce(&mut AccountSettings) -> R,
) -> Result<R, ApiError> {
    let (_, r) = tx.upsert(
        account,
        "account",
        || AccountSettings {
            account_id: account.to_string(),
            ..Default::default()
        },
        f,
    )?;
    Ok(r)
}

async fn enable_outbound(
    app: App,
    ctx: Ctx,
    _input: (),
) -> Result<iam::EnableOutboundWebIdentityFederationResponse, ApiError> {
    let account = ctx.account().to_string();
    let existing = outbound(app.store.read().account(&account));
    if existing.as_ref().is_some_and(|o| o.enabled) {
        return Err(feature_enabled());
    }
    // Key generation (RSA) takes a moment: outside the writer, and only the first time.
    let fresh = match existing {
        Some(_) => None,
        None => {
            let keys = tokio::task::spawn_blocking(|| {
                Ok::<_, crate::jwt::KeyError>(vec![
                    crate::jwt::generate_key("RS256")?,
                    crate::jwt::generate_key("ES384")?,
                ])
            })
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| {
                tracing::error!(error = %e, "could not generate the issuer keys");
                ApiError::internal("The issuer keys could not be generated.")
            })?;
            Some(OutboundFederation {
                enabled: true,
                issuer: format!("https://{}.tokens.sts.global.api.aws", uuid::Uuid::new_v4()),
                keys,
            })
        }
    };
    let issuer = app
        .store
        .write(move |tx| {
            update_settings(tx, &account, |s| {
                match (&mut s.outbound_federation, fresh) {
                    (Some(o), _) if o.enabled => Err(feature_enabled()),
                    (Some(o), _) => {
                        o.enabled = true;
                        Ok(o.issuer.clone())
                    }
                    (slot @ None, Some(fresh)) => {
                        let issuer = fresh.issuer.clone();
                        *slot = Some(fresh);
                        Ok(issuer)
                    }
                    // Disabled and forgotten in between (a reset): try again.
                    (None, None) => Err(ApiError::new(
                        "ConcurrentModification",
                        http::StatusCode::CONFLICT,
                        "The account changed while the feature was being enabled; retry.",
                    )),
                }
            })?
        })
        .await?;
    Ok(iam::EnableOutboundWebIdentityFederationResponse {
        issuer_identifier: Some(issuer),
    })
}

fn feature_enabled() -> ApiError {
    ApiError::new(
        "FeatureEnabled",
        http::StatusCode::CONFLICT,
        "Outbound identity federation is already enabled for your account.",
    )
}

async fn disable_outbound(app: App, ctx: Ctx, _input: ()) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            if !outbound(tx.account(&account)).is_some_and(|o| o.enabled) {
                return Err(feature_disabled());
            }
            update_settings(tx, &account, |s| {
                if let Some(o) = &mut s.outbound_federation {
                    o.enabled = false;
                }
            })
        })
        .await
}

async fn get_outbound_info(
    app: App,
    ctx: Ctx,
    _input: (),
) -> Result<iam::GetOutboundWebIdentityFederationInfoResponse, ApiError> {
    let o = outbound(app.store.read().account(ctx.account()))
        .filter(|o| o.enabled)
        .ok_or_else(feature_disabled)?;
    Ok(iam::GetOutboundWebIdentityFederationInfoResponse {
        issuer_identifier: Some(o.issuer),
        jwt_vending_enabled: Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::provider_name;

    #[test]
    fn provider_urls() {
        assert_eq!(
            provider_name("https://a.example.com").as_deref(),
            Some("a.example.com")
        );
        assert_eq!(
            provider_name("https://a.example.com/id/X/").as_deref(),
            Some("a.example.com/id/X")
        );
        assert_eq!(provider_name("example.org"), None);
        assert_eq!(provider_name("http://example.org"), None);
        assert_eq!(provider_name("https://"), None);
        assert_eq!(provider_name("https://a.com?x=1"), None);
    }
}

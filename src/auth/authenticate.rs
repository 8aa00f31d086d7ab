//! Who is calling: verifies the request's signature and resolves its principal (design notes §3).

use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::sigv4::{self, Auth, RequestParts, SigV4Error};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::ids::account_from_key_id;
use crate::state::{App, KnownKey, LastUsed};

/// The default account's root key, as [`lookup_key`] answers it.
pub fn root_key(config: &crate::config::Config) -> Arc<KnownKey> {
    Arc::new(KnownKey {
        secret: config.root_secret_key.clone(),
        active: true,
        principal: Principal::root(&config.account_id, Some(config.root_access_key.clone())),
        session_token: None,
        expiration: None,
    })
}

impl From<SigV4Error> for ApiError {
    fn from(e: SigV4Error) -> Self {
        let status =
            axum::http::StatusCode::from_u16(e.status).unwrap_or(axum::http::StatusCode::FORBIDDEN);
        ApiError::new(e.code, status, e.message)
    }
}

/// The outcome of authentication.
#[derive(Debug)]
pub struct Authenticated {
    pub principal: Principal,
    /// The credential scope's service (`iam`/`sts`), when signed.
    pub scope_service: Option<String>,
    pub region: Option<String>,
}

/// The operations AWS answers without a signature in every mode: the token or assertion they
/// carry is the credential.
pub const UNSIGNED_ACTIONS: &[&str] = &["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"];

/// Verifies the request and resolves the principal it runs as.
pub async fn authenticate(
    app: &App,
    parts: &RequestParts<'_>,
    action: &str,
    now: OffsetDateTime,
) -> Result<Authenticated, ApiError> {
    let strict = app.config.auth.is_strict();
    let signed = match sigv4::parse_auth(parts)? {
        Auth::Anonymous if strict && !UNSIGNED_ACTIONS.contains(&action) => {
            return Err(SigV4Error::missing_authentication_token().into())
        }
        Auth::Anonymous => {
            return Ok(Authenticated {
                principal: Principal::root(&app.config.account_id, None),
                scope_service: None,
                region: None,
            })
        }
        Auth::Signed(s) => s,
    };
    let Some(key) = lookup_key(app, &signed.access_key_id) else {
        if strict {
            return Err(SigV4Error::invalid_client_token_id().into());
        }
        let account = account_from_key_id(&signed.access_key_id)
            .unwrap_or(&app.config.account_id)
            .to_string();
        return Ok(Authenticated {
            principal: Principal::root(&account, Some(signed.access_key_id)),
            scope_service: Some(signed.service),
            region: Some(signed.region),
        });
    };
    if !key.active {
        return Err(SigV4Error::invalid_client_token_id().into());
    }
    if let Some(token) = &key.session_token {
        if !signed
            .security_token
            .as_deref()
            .is_some_and(|given| super::secure_eq(given, token))
        {
            return Err(SigV4Error::invalid_client_token_id().into());
        }
        if key.expiration.is_some_and(|exp| exp <= now) {
            return Err(SigV4Error::expired_token().into());
        }
    }
    sigv4::verify(parts, &signed, &key.secret, &app.signing_keys)?;
    if strict {
        sigv4::check_clock(&signed, now)?;
    }
    // Every long-term key's use is recorded: users', and the root user's (its keys in the model
    // and the default account's configured one, throttled: see `root_key_due`). STS sessions
    // are recorded only for the user or role they belong to.
    let record = match key.principal.entity_id {
        Some(_) => true,
        None if Arc::ptr_eq(&key, &app.root_key) => {
            app.last_used.root_key_due(now.unix_timestamp())
        }
        None => key.session_token.is_none(),
    };
    if record {
        app.last_used.record(
            &signed.access_key_id,
            LastUsed {
                date: now,
                service: signed.service.clone(),
                region: signed.region.clone(),
            },
        );
    }
    Ok(Authenticated {
        principal: key.principal.clone(),
        scope_service: Some(signed.service),
        region: Some(signed.region),
    })
}

/// The key with this ID, from the model; `None` when localiam does not know it.
pub fn lookup_key(app: &App, key_id: &str) -> Option<Arc<KnownKey>> {
    if key_id == app.config.root_access_key {
        return Some(app.root_key.clone());
    }
    crate::api::access_keys::load_known_key(app, key_id).map(Arc::new)
}

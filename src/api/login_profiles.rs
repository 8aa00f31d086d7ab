//! Login profiles (console passwords): CreateLoginProfile, GetLoginProfile, UpdateLoginProfile,
//! DeleteLoginProfile, ChangePassword.
//!
//! Passwords are kept only as argon2 PHC hashes, computed on the blocking pool so the runtime is
//! never stalled. Neither passwords nor their hashes are ever logged or returned. When the account
//! has a password policy, new passwords must satisfy it (`PasswordPolicyViolation`); without one,
//! any password the model's constraints allow (1 to 128 characters) is accepted.
//!
//! The slow work (hashing, verifying) happens between a read phase and the write transaction, so
//! the single writer connection is held only for the short write.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::login_profiles::{self, LoginProfileRow};
use crate::store::users::{self, UserRow};
use crate::store::{ids, StoreError};

/// The characters AWS's password policy counts as symbols.
const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateLoginProfile, _, _>(create_login_profile);
    r.iam::<iam::GetLoginProfile, _, _>(get_login_profile);
    r.iam::<iam::UpdateLoginProfile, _, _>(update_login_profile);
    r.iam::<iam::DeleteLoginProfile, _, _>(delete_login_profile);
    r.iam::<iam::ChangePassword, _, _>(change_password);
}

fn no_such_profile(user_name: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "Login Profile for User {user_name} cannot be found."
    ))
}

fn profile_exists(user_name: &str) -> ApiError {
    ApiError::already_exists(format!(
        "Login Profile for user {user_name} already exists."
    ))
}

fn policy_violation() -> ApiError {
    ApiError::new(
        "PasswordPolicyViolation",
        http::StatusCode::BAD_REQUEST,
        "Password does not conform to the account password policy.",
    )
}

fn profile_shape(user: &UserRow, p: &LoginProfileRow) -> iam::LoginProfile {
    iam::LoginProfile {
        user_name: user.name.clone(),
        create_date: ts(p.create_date),
        password_reset_required: Some(p.password_reset_required),
    }
}

/// The user a call is about: the named one, or (no `UserName`) the calling IAM user.
async fn target_user(
    conn: &mut sqlx::SqliteConnection,
    ctx: &Ctx,
    user_name: Option<&str>,
) -> Result<UserRow, ApiError> {
    match (user_name, ctx.principal.kind) {
        (Some(name), _) => require_user(conn, ctx.account(), name).await,
        (None, PrincipalKind::User) => require_user(conn, ctx.account(), &ctx.principal.name).await,
        (None, _) => Err(ApiError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Hashing

fn hashing_failed(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "password hashing failed");
    ApiError::internal("An internal error occurred.")
}

/// The argon2 PHC hash of `password`, with a fresh random salt.
async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(hashing_failed)?
    .map_err(hashing_failed)
}

/// Whether `password` matches any of the PHC `hashes` (unparsable hashes never match).
async fn matches_any(password: String, hashes: Vec<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        hashes.iter().any(|h| {
            PasswordHash::new(h).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        })
    })
    .await
    .map_err(hashing_failed)
}

// ---------------------------------------------------------------------------------------------
// The account password policy

/// What the account's password policy asks of new passwords.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
struct PasswordRules {
    minimum_password_length: i64,
    require_symbols: bool,
    require_numbers: bool,
    require_uppercase_characters: bool,
    require_lowercase_characters: bool,
    password_reuse_prevention: Option<i64>,
}

impl PasswordRules {
    /// Whether `password` has the length and character classes the policy requires.
    fn accepts(&self, password: &str) -> bool {
        let len = i64::try_from(password.chars().count()).unwrap_or(i64::MAX);
        len >= self.minimum_password_length
            && (!self.require_symbols || password.chars().any(|c| SYMBOLS.contains(c)))
            && (!self.require_numbers || password.chars().any(|c| c.is_ascii_digit()))
            && (!self.require_uppercase_characters
                || password.chars().any(|c| c.is_ascii_uppercase()))
            && (!self.require_lowercase_characters
                || password.chars().any(|c| c.is_ascii_lowercase()))
    }
}

/// The account's password policy, if one is set.
async fn password_rules(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
) -> Result<Option<PasswordRules>, ApiError> {
    sqlx::query_as(
        "SELECT minimum_password_length, require_symbols, require_numbers, \
         require_uppercase_characters, require_lowercase_characters, password_reuse_prevention \
         FROM password_policies WHERE account_id = ?",
    )
    .bind(account)
    .fetch_optional(conn)
    .await
    .map_err(|e| ApiError::from(StoreError::from(e)))
}

/// The hashes a new password must not match under the policy's reuse prevention: the current
/// password and the previous ones, `PasswordReusePrevention` in all.
async fn reuse_hashes(
    conn: &mut sqlx::SqliteConnection,
    rules: Option<&PasswordRules>,
    current: Option<&LoginProfileRow>,
) -> Result<Vec<String>, ApiError> {
    let Some(n) = rules
        .and_then(|r| r.password_reuse_prevention)
        .filter(|&n| n > 0)
    else {
        return Ok(Vec::new());
    };
    let Some(profile) = current else {
        return Ok(Vec::new());
    };
    let mut hashes = vec![profile.password_hash.clone()];
    hashes.extend(login_profiles::password_history(conn, &profile.user_id, n - 1).await?);
    Ok(hashes)
}

/// Checks `password` against the policy (if any), then hashes it.
async fn checked_hash(
    password: String,
    rules: Option<&PasswordRules>,
    reused: Vec<String>,
) -> Result<String, ApiError> {
    if rules.is_some_and(|r| !r.accepts(&password)) {
        return Err(policy_violation());
    }
    if !reused.is_empty() && matches_any(password.clone(), reused).await? {
        return Err(policy_violation());
    }
    hash_password(password).await
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn create_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::CreateLoginProfileRequest,
) -> Result<iam::CreateLoginProfileResponse, ApiError> {
    // Only an AssumeRoot session may omit the password, and localiam issues none.
    let Some(password) = input.password else {
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'password' failed to satisfy constraint: \
             Member must not be null",
        ));
    };
    let (user, rules) = {
        let mut conn = read(&app).await?;
        let user = target_user(&mut conn, &ctx, input.user_name.as_deref()).await?;
        if login_profiles::get(&mut conn, &user.user_id)
            .await?
            .is_some()
        {
            return Err(profile_exists(&user.name));
        }
        (user, password_rules(&mut conn, ctx.account()).await?)
    };
    let hash = checked_hash(password, rules.as_ref(), Vec::new()).await?;

    let mut tx = begin(&app).await?;
    let user = users::get_by_id(&mut tx, &user.user_id)
        .await?
        .ok_or_else(|| no_such_user(&user.name))?;
    let now = ids::now();
    let profile = LoginProfileRow {
        user_id: user.user_id.clone(),
        account_id: user.account_id.clone(),
        password_hash: hash,
        password_reset_required: input.password_reset_required.unwrap_or(false),
        create_date: now,
        password_changed: Some(now),
    };
    match login_profiles::create(&mut tx, &profile).await {
        Err(StoreError::UniqueViolation(_)) => return Err(profile_exists(&user.name)),
        other => other?,
    }
    tx.commit().await?;
    Ok(iam::CreateLoginProfileResponse {
        login_profile: profile_shape(&user, &profile),
    })
}

async fn get_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::GetLoginProfileRequest,
) -> Result<iam::GetLoginProfileResponse, ApiError> {
    let mut conn = read(&app).await?;
    let user = target_user(&mut conn, &ctx, input.user_name.as_deref()).await?;
    let profile = login_profiles::get(&mut conn, &user.user_id)
        .await?
        .ok_or_else(|| no_such_profile(&user.name))?;
    Ok(iam::GetLoginProfileResponse {
        login_profile: profile_shape(&user, &profile),
    })
}

async fn update_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::UpdateLoginProfileRequest,
) -> Result<(), ApiError> {
    let hash = {
        let mut conn = read(&app).await?;
        let user = require_user(&mut conn, ctx.account(), &input.user_name).await?;
        let profile = login_profiles::get(&mut conn, &user.user_id)
            .await?
            .ok_or_else(|| no_such_profile(&user.name))?;
        match input.password {
            Some(password) => {
                let rules = password_rules(&mut conn, ctx.account()).await?;
                let reused = reuse_hashes(&mut conn, rules.as_ref(), Some(&profile)).await?;
                drop(conn);
                Some(checked_hash(password, rules.as_ref(), reused).await?)
            }
            None => None,
        }
    };

    let mut tx = begin(&app).await?;
    let user = require_user(&mut tx, ctx.account(), &input.user_name).await?;
    match login_profiles::update(
        &mut tx,
        &user.user_id,
        hash.as_deref(),
        input.password_reset_required,
        ids::now(),
    )
    .await
    {
        Err(StoreError::NotFound) => return Err(no_such_profile(&user.name)),
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}

async fn delete_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::DeleteLoginProfileRequest,
) -> Result<(), ApiError> {
    let mut tx = begin(&app).await?;
    let user = target_user(&mut tx, &ctx, input.user_name.as_deref()).await?;
    match login_profiles::delete(&mut tx, &user.user_id).await {
        Err(StoreError::NotFound) => return Err(no_such_profile(&user.name)),
        other => other?,
    }
    tx.commit().await?;
    Ok(())
}

async fn change_password(
    app: App,
    ctx: Ctx,
    input: iam::ChangePasswordRequest,
) -> Result<(), ApiError> {
    let user_id = match (ctx.principal.kind, &ctx.principal.entity_id) {
        (PrincipalKind::User, Some(id)) => id.clone(),
        _ => {
            return Err(ApiError::new(
                "InvalidUserType",
                http::StatusCode::BAD_REQUEST,
                "Only IAM users can change their own password.",
            ))
        }
    };
    let (user, old_hash, new_hash) = {
        let mut conn = read(&app).await?;
        let user = users::get_by_id(&mut conn, &user_id)
            .await?
            .ok_or_else(|| no_such_user(&ctx.principal.name))?;
        let profile = login_profiles::get(&mut conn, &user.user_id)
            .await?
            .ok_or_else(|| no_such_profile(&user.name))?;
        let rules = password_rules(&mut conn, ctx.account()).await?;
        let reused = reuse_hashes(&mut conn, rules.as_ref(), Some(&profile)).await?;
        drop(conn);
        if !matches_any(input.old_password, vec![profile.password_hash.clone()]).await? {
            return Err(ApiError::access_denied(
                "The old password specified is incorrect.",
            ));
        }
        let new_hash = checked_hash(input.new_password, rules.as_ref(), reused).await?;
        (user, profile.password_hash, new_hash)
    };

    let mut tx = begin(&app).await?;
    let profile = login_profiles::get(&mut tx, &user.user_id)
        .await?
        .ok_or_else(|| no_such_profile(&user.name))?;
    if profile.password_hash != old_hash {
        // The password changed while the old one was being verified: make the caller retry.
        return Err(ApiError::new(
            "EntityTemporarilyUnmodifiable",
            http::StatusCode::CONFLICT,
            format!("Login Profile for User {} is being modified.", user.name),
        ));
    }
    // A password the user chose themselves no longer needs a reset.
    login_profiles::update(
        &mut tx,
        &user.user_id,
        Some(&new_hash),
        Some(false),
        ids::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

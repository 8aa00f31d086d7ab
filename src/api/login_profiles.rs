//! Login profiles (console passwords): CreateLoginProfile, GetLoginProfile, UpdateLoginProfile,
//! DeleteLoginProfile, ChangePassword.
//!
//! Passwords are kept only as argon2 PHC hashes, computed on the blocking pool so the runtime is
//! never stalled. Neither passwords nor their hashes are ever logged or returned. When the account
//! has a password policy (set with UpdateAccountPasswordPolicy, `account.rs`), new passwords must
//! satisfy it and not repeat the last `PasswordReusePrevention` ones (`PasswordPolicyViolation`),
//! and ChangePassword follows `AllowUsersToChangePassword`, `MaxPasswordAge` and `HardExpiry`;
//! without one, any password the model's constraints allow (1 to 128 characters) is accepted.
//!
//! The slow work (hashing, verifying) happens on a snapshot before the write, so the writer only
//! checks that nothing changed meanwhile and stores the result.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, LoginProfile, PasswordPolicy, User};
use crate::store::{ids, Tx};

/// The most previous passwords kept (AWS's largest PasswordReusePrevention).
const PASSWORD_HISTORY: usize = 24;

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

fn profile_shape(user: &User, p: &LoginProfile) -> iam::LoginProfile {
    iam::LoginProfile {
        user_name: user.name.clone(),
        create_date: ts(p.create_date),
        password_reset_required: Some(p.password_reset_required),
    }
}

/// The user a call is about: the named one, or (no `UserName`) the calling IAM user.
fn target_user(
    account: &Account,
    ctx: &Ctx,
    user_name: Option<&str>,
) -> Result<std::sync::Arc<User>, ApiError> {
    match (user_name, ctx.principal.kind) {
        (Some(name), _) => require_user(account, name),
        (None, PrincipalKind::User) => require_user(account, &ctx.principal.name),
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

/// Whether `password` has the length and character classes the policy requires.
fn accepts(rules: &PasswordPolicy, password: &str) -> bool {
    let len = i64::try_from(password.chars().count()).unwrap_or(i64::MAX);
    len >= rules.minimum_password_length
        && (!rules.require_symbols || password.chars().any(|c| SYMBOLS.contains(c)))
        && (!rules.require_numbers || password.chars().any(|c| c.is_ascii_digit()))
        && (!rules.require_uppercase_characters || password.chars().any(|c| c.is_ascii_uppercase()))
        && (!rules.require_lowercase_characters || password.chars().any(|c| c.is_ascii_lowercase()))
}

/// The account's password policy, if one is set.
pub fn password_rules(account: &Account) -> Option<PasswordPolicy> {
    account.settings()?.password_policy.clone()
}

/// The hashes a new password must not match under the policy's reuse prevention: the current
/// password and the previous ones, `PasswordReusePrevention` in all.
fn reuse_hashes(rules: Option<&PasswordPolicy>, user: &User) -> Vec<String> {
    let Some(n) = rules
        .and_then(|r| r.password_reuse_prevention)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
    else {
        return Vec::new();
    };
    let Some(profile) = &user.login_profile else {
        return Vec::new();
    };
    let mut hashes = vec![profile.password_hash.clone()];
    hashes.extend(user.password_history.iter().rev().take(n - 1).cloned());
    hashes
}

/// Whether the account's password policy lets a user change their own password now: not when
/// it disallows it (unless the password expired: an expired password must be changed), and not
/// when the password expired under `HardExpiry` (only an administrator may reset it then).
fn may_change_own_password(
    rules: Option<&PasswordPolicy>,
    user: &User,
    profile: &LoginProfile,
    now: i64,
) -> Result<(), ApiError> {
    let Some(rules) = rules else {
        return Ok(());
    };
    let expired = rules
        .expiry(profile.password_changed.unwrap_or(profile.create_date))
        .is_some_and(|at| at <= now);
    if expired && rules.hard_expiry == Some(true) {
        return Err(ApiError::access_denied(
            "The password has expired and can only be reset by an administrator.",
        ));
    }
    if !expired && !rules.allow_users_to_change_password {
        let arn = user.arn();
        return Err(ApiError::access_denied(format!(
            "User: {arn} is not authorized to perform: iam:ChangePassword on resource: {arn} \
             because no identity-based policy allows the iam:ChangePassword action"
        )));
    }
    Ok(())
}

/// Checks `password` against the policy (if any), then hashes it.
async fn checked_hash(
    password: String,
    rules: Option<&PasswordPolicy>,
    reused: Vec<String>,
) -> Result<String, ApiError> {
    if rules.is_some_and(|r| !accepts(r, &password)) {
        return Err(policy_violation());
    }
    if !reused.is_empty() && matches_any(password.clone(), reused).await? {
        return Err(policy_violation());
    }
    hash_password(password).await
}

/// Sets a new password hash and/or the reset flag of the user's profile (`None` = unchanged); a
/// new hash sets `password_changed` and sends the old one to the history.
fn update_profile(
    tx: &mut Tx<'_>,
    user: &User,
    hash: Option<String>,
    reset_required: Option<bool>,
) -> Result<(), ApiError> {
    let now = ids::now();
    tx.update(&user.account_id, &user.user_id, |u: &mut User| {
        let Some(profile) = u.login_profile.as_mut() else {
            return;
        };
        if let Some(hash) = hash {
            let old = std::mem::replace(&mut profile.password_hash, hash);
            profile.password_changed = Some(now);
            u.password_history.push(old);
            let excess = u.password_history.len().saturating_sub(PASSWORD_HISTORY);
            u.password_history.drain(..excess);
        }
        if let Some(flag) = reset_required {
            profile.password_reset_required = flag;
        }
    })?;
    Ok(())
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
        let model = app.store.read();
        let acct = model.account(ctx.account());
        let user = target_user(acct, &ctx, input.user_name.as_deref())?;
        if user.login_profile.is_some() {
            return Err(profile_exists(&user.name));
        }
        (user, password_rules(acct))
    };
    let hash = checked_hash(password, rules.as_ref(), Vec::new()).await?;
    let reset_required = input.password_reset_required.unwrap_or(false);
    app.store
        .write(move |tx| {
            let user = tx
                .account(&user.account_id)
                .users
                .get_by_id(&user.user_id)
                .cloned()
                .ok_or_else(|| no_such_user(&user.name))?;
            if user.login_profile.is_some() {
                return Err(profile_exists(&user.name));
            }
            let now = ids::now();
            let profile = LoginProfile {
                password_hash: hash,
                password_reset_required: reset_required,
                create_date: now,
                password_changed: Some(now),
            };
            let shape = profile_shape(&user, &profile);
            tx.update(&user.account_id, &user.user_id, |u: &mut User| {
                u.login_profile = Some(profile)
            })?;
            Ok(iam::CreateLoginProfileResponse {
                login_profile: shape,
            })
        })
        .await
}

async fn get_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::GetLoginProfileRequest,
) -> Result<iam::GetLoginProfileResponse, ApiError> {
    let model = app.store.read();
    let user = target_user(
        model.account(ctx.account()),
        &ctx,
        input.user_name.as_deref(),
    )?;
    let profile = user
        .login_profile
        .as_ref()
        .ok_or_else(|| no_such_profile(&user.name))?;
    Ok(iam::GetLoginProfileResponse {
        login_profile: profile_shape(&user, profile),
    })
}

async fn update_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::UpdateLoginProfileRequest,
) -> Result<(), ApiError> {
    let hash = {
        let model = app.store.read();
        let acct = model.account(ctx.account());
        let user = require_user(acct, &input.user_name)?;
        if user.login_profile.is_none() {
            return Err(no_such_profile(&user.name));
        }
        match input.password {
            Some(password) => {
                let rules = password_rules(acct);
                let reused = reuse_hashes(rules.as_ref(), &user);
                drop(model);
                Some(checked_hash(password, rules.as_ref(), reused).await?)
            }
            None => None,
        }
    };
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = require_user(tx.account(&account), &input.user_name)?;
            if user.login_profile.is_none() {
                return Err(no_such_profile(&user.name));
            }
            update_profile(tx, &user, hash, input.password_reset_required)
        })
        .await
}

async fn delete_login_profile(
    app: App,
    ctx: Ctx,
    input: iam::DeleteLoginProfileRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = target_user(tx.account(&account), &ctx, input.user_name.as_deref())?;
            if user.login_profile.is_none() {
                return Err(no_such_profile(&user.name));
            }
            tx.update(&account, &user.user_id, |u: &mut User| {
                u.login_profile = None;
                u.password_history.clear();
            })?;
            Ok(())
        })
        .await
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
        let model = app.store.read();
        let acct = model.account(ctx.account());
        let user = acct
            .users
            .get_by_id(&user_id)
            .cloned()
            .ok_or_else(|| no_such_user(&ctx.principal.name))?;
        let profile = user
            .login_profile
            .clone()
            .ok_or_else(|| no_such_profile(&user.name))?;
        let rules = password_rules(acct);
        may_change_own_password(rules.as_ref(), &user, &profile, ctx.now.unix_timestamp())?;
        let reused = reuse_hashes(rules.as_ref(), &user);
        drop(model);
        if !matches_any(input.old_password, vec![profile.password_hash.clone()]).await? {
            return Err(ApiError::access_denied(
                "The old password specified is incorrect.",
            ));
        }
        let new_hash = checked_hash(input.new_password, rules.as_ref(), reused).await?;
        (user, profile.password_hash, new_hash)
    };
    app.store
        .write(move |tx| {
            let current = tx
                .account(&user.account_id)
                .users
                .get_by_id(&user.user_id)
                .cloned()
                .ok_or_else(|| no_such_user(&user.name))?;
            let profile = current
                .login_profile
                .as_ref()
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
            update_profile(tx, &current, Some(new_hash), Some(false))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn profile(changed: i64) -> LoginProfile {
        LoginProfile {
            password_hash: String::new(),
            password_reset_required: false,
            create_date: changed,
            password_changed: Some(changed),
        }
    }

    fn code(r: Result<(), ApiError>) -> Option<String> {
        r.err().map(|e| e.code.to_string())
    }

    #[test]
    fn the_password_policy_decides_who_may_change_their_password() {
        let user = User::new("123456789012", "alice", "/");
        let now = 1_000 * DAY;
        let fresh = profile(now - DAY);
        let old = profile(now - 100 * DAY);
        // No policy: anyone may.
        assert_eq!(
            code(may_change_own_password(None, &user, &fresh, now)),
            None
        );
        let mut rules = PasswordPolicy {
            minimum_password_length: 6,
            max_password_age: Some(90),
            ..Default::default()
        };
        // Not allowed, unless the password expired (it must be changed then).
        assert_eq!(
            code(may_change_own_password(Some(&rules), &user, &fresh, now)).as_deref(),
            Some("AccessDenied")
        );
        assert_eq!(
            code(may_change_own_password(Some(&rules), &user, &old, now)),
            None
        );
        // Allowed, unless it expired under HardExpiry (an administrator must reset it).
        rules.allow_users_to_change_password = true;
        assert_eq!(
            code(may_change_own_password(Some(&rules), &user, &fresh, now)),
            None
        );
        rules.hard_expiry = Some(true);
        assert_eq!(
            code(may_change_own_password(Some(&rules), &user, &fresh, now)),
            None
        );
        assert_eq!(
            code(may_change_own_password(Some(&rules), &user, &old, now)).as_deref(),
            Some("AccessDenied")
        );
    }
}

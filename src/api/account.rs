//! The account: CreateAccountAlias, DeleteAccountAlias, ListAccountAliases;
//! UpdateAccountPasswordPolicy, GetAccountPasswordPolicy, DeleteAccountPasswordPolicy (enforced by
//! `login_profiles.rs`); GetAccountSummary; SetSecurityTokenServicePreferences.
//!
//! The alias, the password policy, the credential report's time and the STS global endpoint's
//! token version are kept in the account's [`AccountSettings`] record, so they survive a restart
//! like every entity.

use crate::api::common::*;
use crate::api::inline_policies::inline_size_quota;
use crate::api::login_profiles::password_rules;
use crate::api::{
    access_keys, groups, instance_profiles, policies, roles, server_certificates,
    signing_certificates, users, Ctx, Registry,
};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, AccountSettings, PasswordPolicy, PrincipalKind};

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateAccountAlias, _, _>(create_account_alias);
    r.iam::<iam::DeleteAccountAlias, _, _>(delete_account_alias);
    r.iam::<iam::ListAccountAliases, _, _>(list_account_aliases);
    r.iam::<iam::UpdateAccountPasswordPolicy, _, _>(update_account_password_policy);
    r.iam::<iam::GetAccountPasswordPolicy, _, _>(get_account_password_policy);
    r.iam::<iam::DeleteAccountPasswordPolicy, _, _>(delete_account_password_policy);
    r.iam::<iam::GetAccountSummary, _, _>(get_account_summary);
    r.iam::<iam::SetSecurityTokenServicePreferences, _, _>(set_sts_preferences);
}

// ---------------------------------------------------------------------------------------------
// Aliases

/// CreateAccountAlias: an account has one alias, and a new one replaces it (as AWS documents);
/// an alias another account holds is `EntityAlreadyExists` (aliases are unique across accounts).
/// The alias's grammar (3–63 characters, lowercase letters, digits and single hyphens inside) is
/// checked by the protocol layer with AWS's `ValidationError`.
async fn create_account_alias(
    app: App,
    ctx: Ctx,
    input: iam::CreateAccountAliasRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    let alias = input.account_alias;
    app.store
        .write(move |tx| {
            if tx.model().alias_owner(&alias).is_some_and(|a| a != account) {
                return Err(ApiError::already_exists(format!(
                    "The account alias {alias} already exists."
                )));
            }
            tx.update_settings(&account, |s: &mut AccountSettings| s.alias = Some(alias))?;
            Ok(())
        })
        .await
}

async fn delete_account_alias(
    app: App,
    ctx: Ctx,
    input: iam::DeleteAccountAliasRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    let alias = input.account_alias;
    app.store
        .write(move |tx| {
            let current = tx
                .account(&account)
                .settings()
                .and_then(|s| s.alias.clone());
            if current.as_deref() != Some(alias.as_str()) {
                return Err(ApiError::no_such_entity(format!(
                    "The account alias {alias} cannot be found."
                )));
            }
            tx.update_settings(&account, |s: &mut AccountSettings| s.alias = None)?;
            Ok(())
        })
        .await
}

async fn list_account_aliases(
    app: App,
    ctx: Ctx,
    input: iam::ListAccountAliasesRequest,
) -> Result<iam::ListAccountAliasesResponse, ApiError> {
    let model = app.store.read();
    let aliases: Vec<String> = model
        .account(ctx.account())
        .settings()
        .and_then(|s| s.alias.clone())
        .into_iter()
        .collect();
    let (range, marker) = page_range(
        aliases.len(),
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )?;
    Ok(iam::ListAccountAliasesResponse {
        account_aliases: aliases[range].to_vec(),
        is_truncated: Some(marker.is_some()),
        marker: encode_marker(marker),
    })
}

// ---------------------------------------------------------------------------------------------
// Password policy

/// AWS's default minimum length when UpdateAccountPasswordPolicy does not give one.
const DEFAULT_MINIMUM_PASSWORD_LENGTH: i64 = 6;

/// The policy an UpdateAccountPasswordPolicy call sets: what it does not give takes AWS's
/// default (the call replaces the whole policy).
fn policy_from(input: &iam::UpdateAccountPasswordPolicyRequest) -> PasswordPolicy {
    PasswordPolicy {
        minimum_password_length: input
            .minimum_password_length
            .map_or(DEFAULT_MINIMUM_PASSWORD_LENGTH, i64::from),
        require_symbols: input.require_symbols.unwrap_or(false),
        require_numbers: input.require_numbers.unwrap_or(false),
        require_uppercase_characters: input.require_uppercase_characters.unwrap_or(false),
        require_lowercase_characters: input.require_lowercase_characters.unwrap_or(false),
        allow_users_to_change_password: input.allow_users_to_change_password.unwrap_or(false),
        max_password_age: input.max_password_age.map(i64::from),
        password_reuse_prevention: input.password_reuse_prevention.map(i64::from),
        hard_expiry: input.hard_expiry,
    }
}

fn to_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The policy as GetAccountPasswordPolicy answers it: `MaxPasswordAge`, `PasswordReusePrevention`
/// and `HardExpiry` only when they were set (as recorded).
fn policy_shape(p: &PasswordPolicy) -> iam::PasswordPolicy {
    iam::PasswordPolicy {
        minimum_password_length: Some(to_i32(p.minimum_password_length)),
        require_symbols: Some(p.require_symbols),
        require_numbers: Some(p.require_numbers),
        require_uppercase_characters: Some(p.require_uppercase_characters),
        require_lowercase_characters: Some(p.require_lowercase_characters),
        allow_users_to_change_password: Some(p.allow_users_to_change_password),
        expire_passwords: Some(p.expire_passwords()),
        max_password_age: p.max_password_age.map(to_i32),
        password_reuse_prevention: p.password_reuse_prevention.map(to_i32),
        hard_expiry: p.hard_expiry,
    }
}

async fn update_account_password_policy(
    app: App,
    ctx: Ctx,
    input: iam::UpdateAccountPasswordPolicyRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    let policy = policy_from(&input);
    app.store
        .write(move |tx| {
            tx.update_settings(&account, |s: &mut AccountSettings| {
                s.password_policy = Some(policy)
            })?;
            Ok(())
        })
        .await
}

async fn get_account_password_policy(
    app: App,
    ctx: Ctx,
    _input: (),
) -> Result<iam::GetAccountPasswordPolicyResponse, ApiError> {
    let model = app.store.read();
    let policy = password_rules(model.account(ctx.account())).ok_or_else(|| {
        ApiError::no_such_entity(format!(
            "The Password Policy with domain name {} cannot be found.",
            ctx.account()
        ))
    })?;
    Ok(iam::GetAccountPasswordPolicyResponse {
        password_policy: policy_shape(&policy),
    })
}

async fn delete_account_password_policy(app: App, ctx: Ctx, _input: ()) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            if password_rules(tx.account(&account)).is_none() {
                return Err(ApiError::no_such_entity(
                    "The account policy with name PasswordPolicy cannot be found.",
                ));
            }
            tx.update_settings(&account, |s: &mut AccountSettings| s.password_policy = None)?;
            Ok(())
        })
        .await
}

// ---------------------------------------------------------------------------------------------
// Summary

/// AWS's default quotas, as GetAccountSummary answers them (recorded on real AWS). The ones
/// localiam enforces come from the constants that enforce them.
fn quotas() -> [(&'static str, usize); 19] {
    [
        ("AccessKeysPerUserQuota", access_keys::KEYS_PER_USER),
        ("AssumeRolePolicySizeQuota", roles::TRUST_POLICY_QUOTA),
        (
            "AttachedPoliciesPerGroupQuota",
            policies::MAX_ATTACHED_POLICIES,
        ),
        (
            "AttachedPoliciesPerRoleQuota",
            policies::MAX_ATTACHED_POLICIES,
        ),
        (
            "AttachedPoliciesPerUserQuota",
            policies::MAX_ATTACHED_POLICIES,
        ),
        (
            "GroupPolicySizeQuota",
            inline_size_quota(PrincipalKind::Group),
        ),
        ("GroupsPerUserQuota", groups::GROUPS_PER_USER),
        ("GroupsQuota", groups::GROUPS_PER_ACCOUNT),
        (
            "InstanceProfilesQuota",
            instance_profiles::INSTANCE_PROFILES_PER_ACCOUNT,
        ),
        ("PoliciesQuota", 1_500),
        ("PolicySizeQuota", policies::MAX_POLICY_SIZE),
        ("PolicyVersionsInUseQuota", 10_000),
        (
            "RolePolicySizeQuota",
            inline_size_quota(PrincipalKind::Role),
        ),
        ("RolesQuota", roles::ROLES_PER_ACCOUNT),
        (
            "ServerCertificatesQuota",
            server_certificates::SERVER_CERTIFICATES_PER_ACCOUNT,
        ),
        (
            "SigningCertificatesPerUserQuota",
            signing_certificates::CERTIFICATES_PER_USER,
        ),
        (
            "UserPolicySizeQuota",
            inline_size_quota(PrincipalKind::User),
        ),
        ("UsersQuota", users::USERS_PER_ACCOUNT),
        ("VersionsPerPolicyQuota", policies::MAX_POLICY_VERSIONS),
    ]
}

/// Whether the account's root user has an access key: one it created, or (default account) the
/// root key localiam was started with.
pub fn root_has_keys(app: &App, account: &Account, account_id: &str) -> bool {
    account_id == app.config.account_id
        || account
            .settings()
            .is_some_and(|s| !s.root_access_keys.is_empty())
}

/// The counts of GetAccountSummary. The root user has no console password
/// or MFA device in localiam.
fn usage(app: &App, account: &Account, account_id: &str) -> [(&'static str, usize); 14] {
    [
        (
            "AccountAccessKeysPresent",
            usize::from(root_has_keys(app, account, account_id)),
        ),
        ("AccountMFAEnabled", 0),
        ("AccountPasswordPresent", 0),
        (
            "AccountSigningCertificatesPresent",
            usize::from(
                account
                    .settings()
                    .is_some_and(|s| !s.root_signing_certificates.is_empty()),
            ),
        ),
        ("Groups", account.groups.len()),
        ("InstanceProfiles", account.instance_profiles.len()),
        ("MFADevices", account.mfa_devices.len()),
        (
            "MFADevicesInUse",
            account
                .mfa_devices
                .iter()
                .filter(|d| d.user_id.is_some())
                .count(),
        ),
        // Customer managed policies only: AWS managed ones do not count against the account.
        ("Policies", account.policies.len()),
        // One policy version is in use per managed-policy attachment.
        ("PolicyVersionsInUse", account.links.attachments.len()),
        // Identity providers: SAML and OpenID Connect, as the console lists them.
        (
            "Providers",
            account.saml_providers.len() + account.oidc_providers.len(),
        ),
        ("Roles", account.roles.len()),
        ("ServerCertificates", account.server_certificates.len()),
        ("Users", account.users.len()),
    ]
}

/// The version of the tokens STS's global endpoint issues for the account: 1 (AWS's default) or 2.
fn global_endpoint_token_version(account: &Account) -> usize {
    account
        .settings()
        .and_then(|s| s.global_endpoint_token_version)
        .map_or(1, usize::from)
}

async fn get_account_summary(
    app: App,
    ctx: Ctx,
    _input: (),
) -> Result<iam::GetAccountSummaryResponse, ApiError> {
    let model = app.store.read();
    let account = model.account(ctx.account());
    let mut map: Vec<(String, i32)> = quotas()
        .into_iter()
        .chain(usage(&app, account, ctx.account()))
        .chain([(
            "GlobalEndpointTokenVersion",
            global_endpoint_token_version(account),
        )])
        .map(|(k, v)| (k.to_string(), i32::try_from(v).unwrap_or(i32::MAX)))
        .collect();
    map.sort();
    Ok(iam::GetAccountSummaryResponse {
        summary_map: Some(map),
    })
}

// ---------------------------------------------------------------------------------------------
// STS preferences

/// SetSecurityTokenServicePreferences: the version of the tokens STS's global endpoint issues
/// (`v1Token` or `v2Token`; the protocol layer refuses anything else with AWS's
/// `ValidationError`). GetAccountSummary reports it as `GlobalEndpointTokenVersion` 1 or 2.
async fn set_sts_preferences(
    app: App,
    ctx: Ctx,
    input: iam::SetSecurityTokenServicePreferencesRequest,
) -> Result<(), ApiError> {
    let version: u8 = match input.global_endpoint_token_version.as_str() {
        "v2Token" => 2,
        _ => 1,
    };
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            tx.update_settings(&account, |s: &mut AccountSettings| {
                s.global_endpoint_token_version = Some(version)
            })?;
            Ok(())
        })
        .await
}

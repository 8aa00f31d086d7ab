//! The seed format: what `--init` reads, `GET /_localiam/state` writes and `POST
//! /_localiam/state` reads (JSON or YAML).
//!
//! localiam's own structure is in lowercase (`accounts`, and an account's lists: `users`,
//! `roles`, …); every entity is written with AWS's own names (those of its Create call and of its
//! Get answer: `UserName`, `AssumeRolePolicyDocument`, `Tags: [{Key, Value}]`). Unknown fields
//! are refused. Identifiers and dates may be given (an export gives them all); what is not given
//! is made as the API makes it. Dates are ISO 8601 (`2024-05-01T12:00:00Z`).

use serde::{Deserialize, Serialize};

/// A whole seed file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub accounts: Vec<SeedAccount>,
    /// Public keys of OpenID Connect issuers (what `POST /_localiam/oidc-keys` gives).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_issuer_keys: Vec<IssuerKeysSeed>,
}

/// One account's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    /// 12 digits; the default account (`--account-id`) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PasswordPolicySeed>,
    /// `v1Token` or `v2Token` (SetSecurityTokenServicePreferences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_endpoint_token_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicySeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_profiles: Vec<InstanceProfileSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_providers: Vec<OidcProviderSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saml_providers: Vec<SamlProviderSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mfa_devices: Vec<MfaDeviceSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_certificates: Vec<ServerCertificateSeed>,
    /// The root user's own access keys (the configured root key is not one of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_access_keys: Vec<AccessKeySeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub root_signing_certificates: Vec<SigningCertificateSeed>,
    /// The account's own OpenID Connect issuer (EnableOutboundWebIdentityFederation), with its
    /// private keys; exported as localiam keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_web_identity_federation: Option<crate::store::model::OutboundFederation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TagSeed {
    pub key: String,
    pub value: String,
}

/// An inline policy of a user, group or role.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct InlinePolicySeed {
    pub policy_name: String,
    /// A JSON text, or the document itself as a JSON/YAML object.
    pub policy_document: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PasswordPolicySeed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_password_length: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_symbols: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_numbers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_uppercase_characters: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_lowercase_characters: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_users_to_change_password: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_password_age: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reuse_prevention: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_expiry: Option<bool>,
}

/// A customer managed policy: `PolicyDocument` (one version), or `Versions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PolicySeed {
    pub policy_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<serde_json::Value>,
    /// Oldest first; the one with `IsDefaultVersion: true` (else the last) is the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<PolicyVersionSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PolicyVersionSeed {
    pub document: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default_version: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct GroupSeed {
    pub group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Inline policies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicySeed>,
    /// Managed policy ARNs, in attachment order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct UserSeed {
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The ARN of its permissions boundary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    /// The names of its groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicySeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<AccessKeySeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_profile: Option<LoginProfileSeed>,
    #[serde(
        default,
        rename = "SSHPublicKeys",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ssh_public_keys: Vec<SshPublicKeySeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signing_certificates: Vec<SigningCertificateSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_specific_credentials: Vec<ServiceCredentialSeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_last_used: Option<String>,
    /// What it used (the access advisor's data), as localiam keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_accessed: Option<crate::store::model::Activity>,
}

/// An access key: `AccessKeyId` and `SecretAccessKey` together, or neither (then made as
/// CreateAccessKey makes them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccessKeySeed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
    /// `Active` (default) or `Inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<AccessKeyLastUsedSeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AccessKeyLastUsedSeed {
    pub last_used_date: String,
    pub service_name: String,
    pub region: String,
}

/// A console password: `Password` (checked against the password policy and hashed as
/// CreateLoginProfile does) or `PasswordHash` (an argon2 PHC string, as an export gives it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct LoginProfileSeed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reset_required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    /// When the password was last set (for `MaxPasswordAge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_last_set: Option<String>,
    /// Earlier password hashes, oldest first (for `PasswordReusePrevention`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub password_history: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SshPublicKeySeed {
    #[serde(rename = "SSHPublicKeyBody")]
    pub ssh_public_key_body: String,
    #[serde(
        default,
        rename = "SSHPublicKeyId",
        skip_serializing_if = "Option::is_none"
    )]
    pub ssh_public_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SigningCertificateSeed {
    pub certificate_body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_date: Option<String>,
}

/// A service-specific credential. Its secret is made as CreateServiceSpecificCredential makes it
/// (and is not shown), unless `SecretSha256` (an export's) is given.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ServiceCredentialSeed {
    pub service_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_age_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_specific_credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_user_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_credential_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RoleSeed {
    pub role_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Required, except for a service-linked role (path `/aws-service-role/SERVICE/`), which gets
    /// the trust policy AWS gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_policy_document: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_session_duration: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicySeed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_last_used: Option<RoleLastUsedSeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_accessed: Option<crate::store::model::Activity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RoleLastUsedSeed {
    pub last_used_date: String,
    pub region: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct InstanceProfileSeed {
    pub instance_profile_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The names of its roles (AWS allows one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_profile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct OidcProviderSeed {
    /// `https://HOST/PATH`.
    pub url: String,
    #[serde(
        default,
        rename = "ClientIDList",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub client_id_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thumbprint_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SamlProviderSeed {
    pub name: String,
    #[serde(rename = "SAMLMetadataDocument")]
    pub saml_metadata_document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_encryption_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    #[serde(
        default,
        rename = "SAMLProviderUUID",
        skip_serializing_if = "Option::is_none"
    )]
    pub saml_provider_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The IDs and dates of the private keys it was given (localiam keeps no more of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub private_key_list: Vec<SamlPrivateKeySeed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SamlPrivateKeySeed {
    pub key_id: String,
    pub timestamp: String,
}

/// A virtual MFA device, enabled for `User` when given.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct MfaDeviceSeed {
    #[serde(rename = "VirtualMFADeviceName")]
    pub virtual_mfa_device_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The TOTP secret (base32), so that a test can compute codes; made when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base32_string_seed: Option<String>,
    /// The name of the user it is enabled for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    /// `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`: follows from the name and path (an export shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_date: Option<String>,
}

/// A server certificate: with `PrivateKey`, checked as UploadServerCertificate checks it. IAM
/// never keeps the private key, so an export has none: a certificate without one is taken as it
/// was exported (its certificate must still parse).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ServerCertificateSeed {
    pub server_certificate_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub certificate_body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_chain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagSeed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_date: Option<String>,
}

/// The public keys of an OpenID Connect issuer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerKeysSeed {
    /// `https://HOST/PATH`.
    pub url: String,
    /// A JWKS document: `{"keys": [...]}`.
    pub jwks: serde_json::Value,
}

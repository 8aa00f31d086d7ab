//! The whole state as a seed (`GET /_localiam/state`): every account's entities with their IDs,
//! dates and secrets, so that importing it gives the same answers to every read.
//!
//! Left out: STS sessions (temporary credentials, gone within hours), service last accessed
//! reports (a job's result) and delegation requests (a partner's pending workflow, expiring
//! within days).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::format::*;
use crate::store::model::{
    AccessKey, Account, Group, InlinePolicies, ManagedPolicy, Model, Role, SigningCertificate, Tag,
    User, SHARED_ACCOUNT,
};

fn date(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn path(p: &str) -> Option<String> {
    (p != "/").then(|| p.to_string())
}

fn tags(t: &[Tag]) -> Vec<TagSeed> {
    t.iter()
        .map(|t| TagSeed {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

fn inline(p: &InlinePolicies) -> Vec<InlinePolicySeed> {
    p.iter()
        .map(|p| InlinePolicySeed {
            policy_name: p.name.clone(),
            policy_document: serde_json::Value::String(p.document.clone()),
        })
        .collect()
}

fn attached(account: &Account, ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| account.policy_by_id(id).map(|p| p.arn()))
        .collect()
}

fn access_key(k: &AccessKey) -> AccessKeySeed {
    AccessKeySeed {
        access_key_id: Some(k.access_key_id.clone()),
        secret_access_key: Some(k.secret_access_key.clone()),
        status: Some(k.status.clone()),
        create_date: Some(date(k.create_date)),
        last_used: k.last_used.as_ref().map(|l| AccessKeyLastUsedSeed {
            last_used_date: date(l.date),
            service_name: l.service.clone(),
            region: l.region.clone(),
        }),
    }
}

fn signing_certificate(c: &SigningCertificate) -> SigningCertificateSeed {
    SigningCertificateSeed {
        certificate_body: c.body.clone(),
        certificate_id: Some(c.certificate_id.clone()),
        status: Some(c.status.clone()),
        upload_date: Some(date(c.upload_date)),
    }
}

fn policy(p: &ManagedPolicy) -> PolicySeed {
    PolicySeed {
        policy_name: p.name.clone(),
        path: path(&p.path),
        description: p.description.clone(),
        policy_document: None,
        versions: p
            .versions
            .iter()
            .rev()
            .map(|v| PolicyVersionSeed {
                document: serde_json::Value::String(v.document.clone()),
                version_id: Some(v.version_id.clone()),
                is_default_version: Some(v.version_id == p.default_version_id),
                create_date: Some(date(v.create_date)),
            })
            .collect(),
        tags: tags(&p.tags),
        policy_id: Some(p.policy_id.clone()),
        create_date: Some(date(p.create_date)),
        update_date: Some(date(p.update_date)),
    }
}

fn group(a: &Account, g: &Group) -> GroupSeed {
    GroupSeed {
        group_name: g.name.clone(),
        path: path(&g.path),
        policies: inline(&g.inline),
        attached_policies: attached(a, &g.attached),
        group_id: Some(g.group_id.clone()),
        create_date: Some(date(g.create_date)),
    }
}

fn user(a: &Account, u: &User) -> UserSeed {
    UserSeed {
        user_name: u.name.clone(),
        path: path(&u.path),
        permissions_boundary: u.permissions_boundary_arn.clone(),
        tags: tags(&u.tags),
        groups: u
            .groups
            .iter()
            .filter_map(|id| a.groups.get_by_id(id).map(|g| g.name.clone()))
            .collect(),
        policies: inline(&u.inline),
        attached_policies: attached(a, &u.attached),
        access_keys: u.access_keys.iter().map(access_key).collect(),
        login_profile: u.login_profile.as_ref().map(|p| LoginProfileSeed {
            password: None,
            password_hash: Some(p.password_hash.clone()),
            password_reset_required: Some(p.password_reset_required),
            create_date: Some(date(p.create_date)),
            password_last_set: p.password_changed.map(date),
            password_history: u.password_history.clone(),
        }),
        ssh_public_keys: u
            .ssh_public_keys
            .iter()
            .map(|k| SshPublicKeySeed {
                ssh_public_key_body: k.body.clone(),
                ssh_public_key_id: Some(k.ssh_public_key_id.clone()),
                status: Some(k.status.clone()),
                upload_date: Some(date(k.upload_date)),
            })
            .collect(),
        signing_certificates: u
            .signing_certificates
            .iter()
            .map(signing_certificate)
            .collect(),
        service_specific_credentials: u
            .service_credentials
            .iter()
            .map(|c| ServiceCredentialSeed {
                service_name: c.service_name.clone(),
                credential_age_days: None,
                service_specific_credential_id: Some(c.credential_id.clone()),
                service_user_name: c.service_user_name.clone(),
                service_credential_alias: c.alias.clone(),
                secret_sha256: Some(c.secret_sha256.clone()),
                status: Some(c.status.clone()),
                create_date: Some(date(c.create_date)),
                expiration_date: c.expiration_date.map(date),
            })
            .collect(),
        user_id: Some(u.user_id.clone()),
        create_date: Some(date(u.create_date)),
        password_last_used: u.password_last_used.map(date),
        last_accessed: u.activity.as_deref().cloned(),
    }
}

fn role(a: &Account, r: &Role) -> RoleSeed {
    RoleSeed {
        role_name: r.name.clone(),
        path: path(&r.path),
        assume_role_policy_document: Some(serde_json::Value::String(r.assume_role_policy.clone())),
        description: r.description.clone(),
        max_session_duration: Some(r.max_session_duration),
        permissions_boundary: r.permissions_boundary_arn.clone(),
        tags: tags(&r.tags),
        policies: inline(&r.inline),
        attached_policies: attached(a, &r.attached),
        role_id: Some(r.role_id.clone()),
        create_date: Some(date(r.create_date)),
        role_last_used: r.last_used.as_ref().map(|l| RoleLastUsedSeed {
            last_used_date: date(l.date),
            region: l.region.clone(),
        }),
        last_accessed: r.activity.as_deref().cloned(),
    }
}

fn account(id: &str, a: &Account) -> SeedAccount {
    let settings = a.settings();
    SeedAccount {
        account_id: Some(id.to_string()),
        alias: settings.and_then(|s| s.alias.clone()),
        password_policy: settings.and_then(|s| s.password_policy.as_ref()).map(|p| {
            PasswordPolicySeed {
                minimum_password_length: Some(p.minimum_password_length),
                require_symbols: Some(p.require_symbols),
                require_numbers: Some(p.require_numbers),
                require_uppercase_characters: Some(p.require_uppercase_characters),
                require_lowercase_characters: Some(p.require_lowercase_characters),
                allow_users_to_change_password: Some(p.allow_users_to_change_password),
                max_password_age: p.max_password_age,
                password_reuse_prevention: p.password_reuse_prevention,
                hard_expiry: p.hard_expiry,
            }
        }),
        global_endpoint_token_version: settings
            .and_then(|s| s.global_endpoint_token_version)
            .map(|v| format!("v{v}Token")),
        policies: a.policies.iter().map(|p| policy(p)).collect(),
        groups: a.groups.iter().map(|g| group(a, g)).collect(),
        users: a.users.iter().map(|u| user(a, u)).collect(),
        roles: a.roles.iter().map(|r| role(a, r)).collect(),
        instance_profiles: a
            .instance_profiles
            .iter()
            .map(|p| InstanceProfileSeed {
                instance_profile_name: p.name.clone(),
                path: path(&p.path),
                roles: p
                    .roles
                    .iter()
                    .filter_map(|id| a.roles.get_by_id(id).map(|r| r.name.clone()))
                    .collect(),
                tags: tags(&p.tags),
                instance_profile_id: Some(p.instance_profile_id.clone()),
                create_date: Some(date(p.create_date)),
            })
            .collect(),
        oidc_providers: a
            .oidc_providers
            .iter()
            .map(|p| OidcProviderSeed {
                url: format!("https://{}", p.url),
                client_id_list: p.client_ids.clone(),
                thumbprint_list: p.thumbprints.clone(),
                tags: tags(&p.tags),
                create_date: Some(date(p.create_date)),
            })
            .collect(),
        saml_providers: a
            .saml_providers
            .iter()
            .map(|p| SamlProviderSeed {
                name: p.name.clone(),
                saml_metadata_document: p.metadata_document.clone(),
                assertion_encryption_mode: Some(p.assertion_encryption_mode.clone()),
                tags: tags(&p.tags),
                saml_provider_uuid: Some(p.uuid.clone()),
                create_date: Some(date(p.create_date)),
                valid_until: Some(date(p.valid_until)),
                private_key_list: p
                    .private_keys
                    .iter()
                    .map(|k| SamlPrivateKeySeed {
                        key_id: k.key_id.clone(),
                        timestamp: date(k.timestamp),
                    })
                    .collect(),
            })
            .collect(),
        mfa_devices: a
            .mfa_devices
            .iter()
            .map(|d| MfaDeviceSeed {
                virtual_mfa_device_name: d.device_name.clone(),
                path: path(&d.path),
                base32_string_seed: Some(d.seed.clone()),
                user: d
                    .user_id
                    .as_deref()
                    .and_then(|id| a.users.get_by_id(id))
                    .map(|u| u.name.clone()),
                tags: tags(&d.tags),
                serial_number: Some(d.serial_number.clone()),
                create_date: Some(date(d.create_date)),
                enable_date: d.enable_date.map(date),
            })
            .collect(),
        server_certificates: a
            .server_certificates
            .iter()
            .map(|c| ServerCertificateSeed {
                server_certificate_name: c.name.clone(),
                path: path(&c.path),
                certificate_body: c.certificate_body.clone(),
                certificate_chain: c.certificate_chain.clone(),
                private_key: None,
                tags: tags(&c.tags),
                server_certificate_id: Some(c.server_certificate_id.clone()),
                upload_date: Some(date(c.upload_date)),
            })
            .collect(),
        root_access_keys: settings
            .map(|s| s.root_access_keys.iter().map(access_key).collect())
            .unwrap_or_default(),
        root_signing_certificates: settings
            .map(|s| {
                s.root_signing_certificates
                    .iter()
                    .map(signing_certificate)
                    .collect()
            })
            .unwrap_or_default(),
        outbound_web_identity_federation: settings.and_then(|s| s.outbound_federation.clone()),
    }
}

/// Whether an account's export holds anything (an account that only had sessions has nothing).
fn is_empty(a: &SeedAccount) -> bool {
    let bare = SeedAccount {
        account_id: a.account_id.clone(),
        ..Default::default()
    };
    serde_json::to_value(a).ok() == serde_json::to_value(&bare).ok()
}

/// Every account's state, in account order.
pub fn export(model: &Model) -> SeedFile {
    let accounts = model
        .accounts()
        .filter(|(id, _)| *id != SHARED_ACCOUNT)
        .map(|(id, a)| account(id, a))
        .filter(|a| !is_empty(a))
        .collect();
    let oidc_issuer_keys = model
        .account(SHARED_ACCOUNT)
        .issuer_keys
        .iter()
        .map(|k| IssuerKeysSeed {
            url: format!("https://{}", k.issuer),
            jwks: serde_json::from_str(&k.jwks).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    SeedFile {
        accounts,
        oidc_issuer_keys,
    }
}

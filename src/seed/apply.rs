//! Building a seed's state through the API's own operations (see the module above).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::format::*;
use super::SeedError;
use crate::api::access_keys::{change_owned, owned, resolve_owner, Owner};
use crate::api::common::{require_user, to_store_tags};
use crate::api::registry::decode_input;
use crate::api::{Ctx, Service};
use crate::auth::Principal;
use crate::config::Config;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::protocol::query::Params;
use crate::state::App;
use crate::store::model::{
    AccessKey, Entity, Group, InstanceProfile, KeyLastUsed, LoginProfile, ManagedPolicy, MfaDevice,
    OidcProvider, PolicyVersion, Role, RoleLastUsed, SamlPrivateKey, SamlProvider,
    ServerCertificate, ServiceCredential, SigningCertificate, SshPublicKey, User,
};
use crate::store::{Model, Store, Tx};

type R<T = ()> = Result<T, SeedError>;

/// What a role is created with before every account's users and roles exist; its own trust
/// policy is then set with UpdateAssumeRolePolicy (trust policies may name each other's roles).
const PROVISIONAL_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

pub(super) async fn build(config: &Config, seed: &SeedFile) -> R<Arc<Model>> {
    let store = Store::open(":memory:")
        .await
        .map_err(|e| SeedError::at("", format!("cannot open a scratch store: {e}")))?;
    let app = App::new(crate::server::app_state(config.clone(), store));
    let builder = Builder {
        app: app.clone(),
        root_key: config.root_access_key.clone(),
    };
    let result = builder.seed(&config.account_id, seed).await;
    let model = app.store.read();
    app.store.close().await;
    result.map(|()| model)
}

/// The parameters of one operation, as a request carries them.
#[derive(Default)]
struct P(Vec<(String, String)>);

impl P {
    fn s(mut self, k: &str, v: &str) -> P {
        self.0.push((k.to_string(), v.to_string()));
        self
    }
    fn o(self, k: &str, v: Option<&str>) -> P {
        match v {
            Some(v) => self.s(k, v),
            None => self,
        }
    }
    fn b(self, k: &str, v: Option<bool>) -> P {
        self.o(k, v.map(|b| if b { "true" } else { "false" }))
    }
    fn n(self, k: &str, v: Option<i64>) -> P {
        match v {
            Some(n) => self.s(k, &n.to_string()),
            None => self,
        }
    }
    fn list(mut self, k: &str, items: &[String]) -> P {
        for (i, v) in items.iter().enumerate() {
            self.0.push((format!("{k}.member.{}", i + 1), v.clone()));
        }
        self
    }
    fn tags(mut self, tags: &[TagSeed]) -> P {
        for (i, t) in tags.iter().enumerate() {
            self.0
                .push((format!("Tags.member.{}.Key", i + 1), t.key.clone()));
            self.0
                .push((format!("Tags.member.{}.Value", i + 1), t.value.clone()));
        }
        self
    }
    fn user(self, user: Option<&str>) -> P {
        self.o("UserName", user)
    }
    fn params(self) -> Params {
        Params::from_pairs(self.0)
    }
}

/// `at.field`, or `at`.
fn join(at: &str, field: Option<&str>) -> String {
    match field {
        Some(f) => format!("{at}.{f}"),
        None => at.to_string(),
    }
}

/// Where an API error points in the seed: a malformed or oversized document at the document's
/// field, a validation error at the member it names (`'userName'` → `UserName`).
fn locate(e: ApiError, at: &str, doc: Option<&str>) -> SeedError {
    let member = e
        .message
        .split_once(" at '")
        .and_then(|(_, rest)| rest.split(['\'', '.']).next())
        .map(str::to_string);
    let field = match &*e.code {
        "MalformedPolicyDocument" => doc.map(str::to_string),
        "LimitExceeded" if e.message.contains("PolicySize") || e.message.contains("ACLSize") => {
            doc.map(str::to_string)
        }
        "ValidationError" => member.map(|m| match doc {
            Some(d) if m == "policyDocument" || m == "assumeRolePolicyDocument" => d.to_string(),
            _ => {
                let mut c = m.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        }),
        _ => None,
    };
    SeedError::at(
        join(at, field.as_deref()),
        format!("{}: {}", e.code, e.message),
    )
}

/// A document given as JSON text (kept as it is) or as an object (written as compact JSON).
fn doc_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A given unique ID: AWS's `idType`, 16 to 128 letters, digits or underscores.
fn given_id(v: &Option<String>, at: &str, field: &str) -> R<Option<String>> {
    match v {
        Some(id)
            if !(16..=128).contains(&id.len())
                || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Err(SeedError::at(
                join(at, Some(field)),
                format!(
                    "ValidationError: '{id}' is not an ID: AWS's IDs are 16 to 128 letters, digits or underscores"
                ),
            ))
        }
        other => Ok(other.clone()),
    }
}

/// A given date (ISO 8601) as unix seconds.
fn date(v: &Option<String>, at: &str, field: &str) -> R<Option<i64>> {
    v.as_deref()
        .map(|s| {
            OffsetDateTime::parse(s, &Rfc3339)
                .map(|t| t.unix_timestamp())
                .map_err(|_| {
                    SeedError::at(
                        join(at, Some(field)),
                        format!("'{s}' is not an ISO 8601 date and time (2024-05-01T12:00:00Z)"),
                    )
                })
        })
        .transpose()
}

/// Takes out the entity with ID `id`, changes it (its ID too) and puts it back.
fn reid<E: Entity>(
    tx: &mut Tx<'_>,
    account: &str,
    id: &str,
    f: impl FnOnce(&mut E),
) -> Result<(), ApiError> {
    let old = tx.remove::<E>(account, id)?;
    let mut e = (*old).clone();
    f(&mut e);
    let new_id = e.id().to_string();
    tx.insert(e)
        .map_err(|_| ApiError::already_exists(format!("The ID {new_id} is given twice.")))?;
    Ok(())
}

struct Builder {
    app: App,
    root_key: String,
}

impl Builder {
    /// Runs one operation as the account's root user; its error located at `at` (`doc`: the
    /// field of the policy document it takes).
    async fn call(&self, account: &str, action: &str, p: P, at: &str, doc: Option<&str>) -> R {
        let ctx = Ctx {
            request_id: crate::ids::request_id(),
            principal: Principal::root(account, None),
            region: "us-east-1".to_string(),
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            now: OffsetDateTime::now_utc(),
        };
        let params = p.params();
        let work = self
            .app
            .registry
            .dispatch(self.app.clone(), ctx, Service::Iam, action, &params)
            .map_err(|e| locate(e, at, doc))?;
        work.await.map(|_| ()).map_err(|e| locate(e, at, doc))
    }

    /// Sets what the file gives beyond what the operation took (IDs, dates, secrets).
    async fn fix(
        &self,
        at: &str,
        f: impl FnOnce(&mut Tx<'_>) -> Result<(), ApiError> + Send + 'static,
    ) -> R {
        self.app
            .store
            .write(f)
            .await
            .map_err(|e| locate(e, at, None))
    }

    fn model(&self) -> Arc<Model> {
        self.app.store.read()
    }

    async fn seed(&self, default_account: &str, seed: &SeedFile) -> R {
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for (i, acc) in seed.accounts.iter().enumerate() {
            let at = format!("accounts[{i}]");
            let id = acc
                .account_id
                .clone()
                .unwrap_or_else(|| default_account.to_string());
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SeedError::at(
                    format!("{at}.account_id"),
                    format!("'{id}' is not an account ID (12 digits)"),
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(SeedError::at(
                    format!("{at}.account_id"),
                    format!("account {id} is given twice"),
                ));
            }
            self.account(&id, acc, &at).await?;
            ids.push(id);
        }
        // Trust policies last: they may name any account's users and roles.
        for (i, (acc, id)) in seed.accounts.iter().zip(&ids).enumerate() {
            for (j, r) in acc.roles.iter().enumerate() {
                self.trust(id, r, &format!("accounts[{i}].roles[{j}]"))
                    .await?;
            }
        }
        for (i, k) in seed.oidc_issuer_keys.iter().enumerate() {
            let at = format!("oidc_issuer_keys[{i}]");
            let (entity, _) = crate::api::oidc_providers::issuer_keys(&k.url, &k.jwks)
                .map_err(|m| SeedError::at(&at, m))?;
            self.fix(&at, move |tx| {
                let issuer = entity.issuer.clone();
                tx.insert(entity).map_err(|_| {
                    ApiError::already_exists(format!("the keys of {issuer} are given twice"))
                })?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    async fn account(&self, a: &str, acc: &SeedAccount, at: &str) -> R {
        if let Some(p) = &acc.password_policy {
            self.call(
                a,
                "UpdateAccountPasswordPolicy",
                P::default()
                    .n("MinimumPasswordLength", p.minimum_password_length)
                    .b("RequireSymbols", p.require_symbols)
                    .b("RequireNumbers", p.require_numbers)
                    .b("RequireUppercaseCharacters", p.require_uppercase_characters)
                    .b("RequireLowercaseCharacters", p.require_lowercase_characters)
                    .b(
                        "AllowUsersToChangePassword",
                        p.allow_users_to_change_password,
                    )
                    .n("MaxPasswordAge", p.max_password_age)
                    .n("PasswordReusePrevention", p.password_reuse_prevention)
                    .b("HardExpiry", p.hard_expiry),
                &format!("{at}.password_policy"),
                None,
            )
            .await?;
        }
        if let Some(alias) = &acc.alias {
            self.call(
                a,
                "CreateAccountAlias",
                P::default().s("AccountAlias", alias),
                &format!("{at}.alias"),
                None,
            )
            .await?;
        }
        if let Some(v) = &acc.global_endpoint_token_version {
            self.call(
                a,
                "SetSecurityTokenServicePreferences",
                P::default().s("GlobalEndpointTokenVersion", v),
                &format!("{at}.global_endpoint_token_version"),
                None,
            )
            .await?;
        }
        for (i, p) in acc.policies.iter().enumerate() {
            self.policy(a, p, &format!("{at}.policies[{i}]")).await?;
        }
        for (i, g) in acc.groups.iter().enumerate() {
            self.group(a, g, &format!("{at}.groups[{i}]")).await?;
        }
        for (i, u) in acc.users.iter().enumerate() {
            self.user(a, u, &format!("{at}.users[{i}]")).await?;
        }
        for (i, r) in acc.roles.iter().enumerate() {
            self.role(a, r, &format!("{at}.roles[{i}]")).await?;
        }
        for (i, p) in acc.instance_profiles.iter().enumerate() {
            self.instance_profile(a, p, &format!("{at}.instance_profiles[{i}]"))
                .await?;
        }
        for (i, p) in acc.oidc_providers.iter().enumerate() {
            self.oidc_provider(a, p, &format!("{at}.oidc_providers[{i}]"))
                .await?;
        }
        for (i, p) in acc.saml_providers.iter().enumerate() {
            self.saml_provider(a, p, &format!("{at}.saml_providers[{i}]"))
                .await?;
        }
        for (i, d) in acc.mfa_devices.iter().enumerate() {
            self.mfa_device(a, d, &format!("{at}.mfa_devices[{i}]"))
                .await?;
        }
        for (i, c) in acc.server_certificates.iter().enumerate() {
            self.server_certificate(a, c, &format!("{at}.server_certificates[{i}]"))
                .await?;
        }
        for (i, k) in acc.root_access_keys.iter().enumerate() {
            self.access_key(a, None, k, &format!("{at}.root_access_keys[{i}]"))
                .await?;
        }
        for (i, c) in acc.root_signing_certificates.iter().enumerate() {
            self.signing_certificate(a, None, c, &format!("{at}.root_signing_certificates[{i}]"))
                .await?;
        }
        if let Some(o) = acc.outbound_web_identity_federation.clone() {
            let acct = a.to_string();
            self.fix(
                &format!("{at}.outbound_web_identity_federation"),
                move |tx| {
                    tx.update_settings(&acct, |s| s.outbound_federation = Some(o))?;
                    Ok(())
                },
            )
            .await?;
        }
        Ok(())
    }

    // --- managed policies ----------------------------------------------------------------------

    async fn policy(&self, a: &str, p: &PolicySeed, at: &str) -> R {
        let versions: Vec<(String, String)> = match (&p.policy_document, p.versions.is_empty()) {
            (Some(d), true) => vec![(doc_text(d), "PolicyDocument".to_string())],
            (None, _) => p
                .versions
                .iter()
                .enumerate()
                .map(|(i, v)| (doc_text(&v.document), format!("Versions[{i}].Document")))
                .collect(),
            (Some(_), false) => {
                return Err(SeedError::at(
                    at,
                    "give PolicyDocument (one version) or Versions, not both",
                ))
            }
        };
        let defaults: Vec<usize> = p
            .versions
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_default_version == Some(true))
            .map(|(i, _)| i)
            .collect();
        if defaults.len() > 1 {
            return Err(SeedError::at(
                format!("{at}.Versions"),
                "only one version can be the default",
            ));
        }
        let default = defaults
            .first()
            .copied()
            .unwrap_or(versions.len().saturating_sub(1));
        let first = versions.first();
        self.call(
            a,
            "CreatePolicy",
            P::default()
                .s("PolicyName", &p.policy_name)
                .o("Path", p.path.as_deref())
                .o("Description", p.description.as_deref())
                .o("PolicyDocument", first.map(|v| v.0.as_str()))
                .tags(&p.tags),
            at,
            Some(first.map_or("PolicyDocument", |v| v.1.as_str())),
        )
        .await?;
        let path = p.path.as_deref().unwrap_or("/");
        let arn = format!("arn:aws:iam::{a}:policy{path}{}", p.policy_name);
        for (j, (doc, field)) in versions.iter().enumerate().skip(1) {
            self.call(
                a,
                "CreatePolicyVersion",
                P::default()
                    .s("PolicyArn", &arn)
                    .s("PolicyDocument", doc)
                    .b("SetAsDefault", Some(j == default)),
                at,
                Some(field),
            )
            .await?;
        }
        // The versions as the file numbers and dates them.
        let mut numbers = Vec::new();
        let mut dates = Vec::new();
        for (j, v) in p.versions.iter().enumerate() {
            let vat = format!("{at}.Versions[{j}]");
            let n = match &v.version_id {
                Some(id) => id
                    .strip_prefix('v')
                    .and_then(|n| n.parse::<i64>().ok())
                    .filter(|n| *n >= 1 && !id.starts_with("v0"))
                    .ok_or_else(|| {
                        SeedError::at(
                            format!("{vat}.VersionId"),
                            format!("'{id}' is not a version ID (v1, v2, …)"),
                        )
                    })?,
                None => j as i64 + 1,
            };
            if numbers.last().is_some_and(|last| n <= *last) {
                return Err(SeedError::at(
                    format!("{vat}.VersionId"),
                    "versions are listed oldest first, their numbers increasing",
                ));
            }
            numbers.push(n);
            dates.push(date(&v.create_date, &vat, "CreateDate")?);
        }
        let id = given_id(&p.policy_id, at, "PolicyId")?;
        let created = date(&p.create_date, at, "CreateDate")?;
        let updated = date(&p.update_date, at, "UpdateDate")?;
        let (acct, name) = (a.to_string(), p.policy_name.clone());
        self.fix(at, move |tx| {
            let cur = tx
                .account(&acct)
                .policies
                .get(&name)
                .cloned()
                .ok_or_else(|| ApiError::no_such_entity(name.clone()))?;
            reid(tx, &acct, &cur.policy_id, |e: &mut ManagedPolicy| {
                if let Some(id) = id {
                    e.policy_id = id;
                }
                if let Some(d) = created {
                    e.create_date = d;
                }
                if !numbers.is_empty() {
                    // Stored newest first, as CreatePolicyVersion made them.
                    let mut made: Vec<PolicyVersion> = e.versions.iter().rev().cloned().collect();
                    for ((v, n), d) in made.iter_mut().zip(&numbers).zip(&dates) {
                        v.version_id = format!("v{n}");
                        if let Some(d) = d {
                            v.create_date = *d;
                        }
                    }
                    e.default_version_id = made
                        .get(default)
                        .map_or_else(|| e.default_version_id.clone(), |v| v.version_id.clone());
                    e.next_version = numbers.last().map_or(2, |n| n + 1);
                    made.reverse();
                    e.versions = made;
                } else if let (Some(d), Some(v)) = (created, e.versions.first_mut()) {
                    v.create_date = d;
                }
                e.update_date = updated.unwrap_or_else(|| {
                    e.versions
                        .iter()
                        .map(|v| v.create_date)
                        .fold(e.create_date, i64::max)
                });
            })
        })
        .await
    }

    // --- what users, groups and roles hold -----------------------------------------------------

    async fn inline(
        &self,
        a: &str,
        op: &str,
        owner_field: &str,
        owner: &str,
        list: &[InlinePolicySeed],
        at: &str,
    ) -> R {
        for (i, p) in list.iter().enumerate() {
            self.call(
                a,
                op,
                P::default()
                    .s(owner_field, owner)
                    .s("PolicyName", &p.policy_name)
                    .s("PolicyDocument", &doc_text(&p.policy_document)),
                &format!("{at}.Policies[{i}]"),
                Some("PolicyDocument"),
            )
            .await?;
        }
        Ok(())
    }

    async fn attach(
        &self,
        a: &str,
        op: &str,
        owner_field: &str,
        owner: &str,
        arns: &[String],
        at: &str,
    ) -> R {
        for (i, arn) in arns.iter().enumerate() {
            self.call(
                a,
                op,
                P::default().s(owner_field, owner).s("PolicyArn", arn),
                &format!("{at}.AttachedPolicies[{i}]"),
                None,
            )
            .await?;
        }
        Ok(())
    }

    async fn group(&self, a: &str, g: &GroupSeed, at: &str) -> R {
        self.call(
            a,
            "CreateGroup",
            P::default()
                .s("GroupName", &g.group_name)
                .o("Path", g.path.as_deref()),
            at,
            None,
        )
        .await?;
        let id = given_id(&g.group_id, at, "GroupId")?;
        let created = date(&g.create_date, at, "CreateDate")?;
        let (acct, name) = (a.to_string(), g.group_name.clone());
        self.fix(at, move |tx| {
            let cur = crate::api::common::require_group(tx.account(&acct), &name)?;
            reid(tx, &acct, &cur.group_id, |e: &mut Group| {
                if let Some(id) = id {
                    e.group_id = id;
                }
                if let Some(d) = created {
                    e.create_date = d;
                }
            })
        })
        .await?;
        let name = &g.group_name;
        self.inline(a, "PutGroupPolicy", "GroupName", name, &g.policies, at)
            .await?;
        self.attach(
            a,
            "AttachGroupPolicy",
            "GroupName",
            name,
            &g.attached_policies,
            at,
        )
        .await
    }

    // --- users ---------------------------------------------------------------------------------

    async fn user(&self, a: &str, u: &UserSeed, at: &str) -> R {
        self.call(
            a,
            "CreateUser",
            P::default()
                .s("UserName", &u.user_name)
                .o("Path", u.path.as_deref())
                .o("PermissionsBoundary", u.permissions_boundary.as_deref())
                .tags(&u.tags),
            at,
            None,
        )
        .await?;
        let id = given_id(&u.user_id, at, "UserId")?;
        let created = date(&u.create_date, at, "CreateDate")?;
        let last = date(&u.password_last_used, at, "PasswordLastUsed")?;
        let activity = u.last_accessed.clone().filter(|x| !x.is_empty());
        let (acct, name) = (a.to_string(), u.user_name.clone());
        self.fix(at, move |tx| {
            let cur = require_user(tx.account(&acct), &name)?;
            reid(tx, &acct, &cur.user_id, |e: &mut User| {
                if let Some(id) = id {
                    e.user_id = id;
                }
                if let Some(d) = created {
                    e.create_date = d;
                }
                e.password_last_used = last;
                e.activity = activity.map(Box::new);
            })
        })
        .await?;
        let name = u.user_name.as_str();
        for (i, k) in u.access_keys.iter().enumerate() {
            self.access_key(a, Some(name), k, &format!("{at}.AccessKeys[{i}]"))
                .await?;
        }
        if let Some(lp) = &u.login_profile {
            self.login_profile(a, name, lp, &format!("{at}.LoginProfile"))
                .await?;
        }
        for (i, g) in u.groups.iter().enumerate() {
            self.call(
                a,
                "AddUserToGroup",
                P::default().s("GroupName", g).s("UserName", name),
                &format!("{at}.Groups[{i}]"),
                None,
            )
            .await?;
        }
        self.inline(a, "PutUserPolicy", "UserName", name, &u.policies, at)
            .await?;
        self.attach(
            a,
            "AttachUserPolicy",
            "UserName",
            name,
            &u.attached_policies,
            at,
        )
        .await?;
        for (i, k) in u.ssh_public_keys.iter().enumerate() {
            self.ssh_key(a, name, k, &format!("{at}.SSHPublicKeys[{i}]"))
                .await?;
        }
        for (i, c) in u.signing_certificates.iter().enumerate() {
            self.signing_certificate(a, Some(name), c, &format!("{at}.SigningCertificates[{i}]"))
                .await?;
        }
        for (i, c) in u.service_specific_credentials.iter().enumerate() {
            self.service_credential(a, name, c, &format!("{at}.ServiceSpecificCredentials[{i}]"))
                .await?;
        }
        Ok(())
    }

    /// Changes a user (what an operation just made for it: its newest key, certificate, …).
    async fn fix_user(
        &self,
        a: &str,
        user: &str,
        at: &str,
        f: impl FnOnce(&mut User) + Send + 'static,
    ) -> R {
        let (acct, name) = (a.to_string(), user.to_string());
        self.fix(at, move |tx| {
            let u = require_user(tx.account(&acct), &name)?;
            tx.update(&acct, &u.user_id, f)?;
            Ok(())
        })
        .await
    }

    /// The ID of a user's newest item (what an operation just made), for the Update call that
    /// sets its status.
    fn newest(&self, a: &str, user: &str, id: impl Fn(&User) -> Option<String>) -> String {
        self.model()
            .account(a)
            .users
            .get(user)
            .and_then(|u| id(u))
            .unwrap_or_default()
    }

    /// The owner of a user's (or, without a name, the root user's) credentials.
    fn owner(tx: &Tx<'_>, a: &str, user: Option<&str>) -> Result<Owner, ApiError> {
        resolve_owner(tx.account(a), &Principal::root(a, None), user)
    }

    async fn access_key(&self, a: &str, user: Option<&str>, k: &AccessKeySeed, at: &str) -> R {
        self.call(a, "CreateAccessKey", P::default().user(user), at, None)
            .await?;
        let given = match (&k.access_key_id, &k.secret_access_key) {
            (Some(id), Some(secret)) => {
                given_id(&Some(id.clone()), at, "AccessKeyId")?;
                if secret.is_empty()
                    || secret.len() > 128
                    || !secret.chars().all(|c| c.is_ascii_graphic())
                {
                    return Err(SeedError::at(
                        join(at, Some("SecretAccessKey")),
                        "ValidationError: a secret access key is 1 to 128 printable ASCII characters without spaces (AWS makes 40)",
                    ));
                }
                Some((id.clone(), secret.clone()))
            }
            (None, None) => None,
            _ => {
                return Err(SeedError::at(
                    at,
                    "give AccessKeyId and SecretAccessKey together, or neither",
                ))
            }
        };
        let created = date(&k.create_date, at, "CreateDate")?;
        let last_used = match &k.last_used {
            Some(l) => Some(KeyLastUsed {
                date: date(
                    &Some(l.last_used_date.clone()),
                    &format!("{at}.LastUsed"),
                    "LastUsedDate",
                )?
                .unwrap_or_default(),
                service: l.service_name.clone(),
                region: l.region.clone(),
            }),
            None => None,
        };
        let (acct, user_name, root_key) = (
            a.to_string(),
            user.map(str::to_string),
            self.root_key.clone(),
        );
        self.fix(at, move |tx| {
            let owner = Self::owner(tx, &acct, user_name.as_deref())?;
            if let Some((id, _)) = &given {
                if *id == root_key || tx.model().key(id).is_some() {
                    return Err(ApiError::already_exists(format!(
                        "The access key ID {id} is taken."
                    )));
                }
            }
            change_owned::<AccessKey, _>(tx, &acct, &owner, |keys| {
                if let Some(key) = keys.last_mut() {
                    if let Some((id, secret)) = given {
                        key.access_key_id = id;
                        key.secret_access_key = secret;
                    }
                    if let Some(d) = created {
                        key.create_date = d;
                    }
                    key.last_used = last_used;
                }
            })?;
            Ok(())
        })
        .await?;
        if let Some(status) = &k.status {
            let model = self.model();
            let id = {
                let owner = resolve_owner(model.account(a), &Principal::root(a, None), user)
                    .map_err(|e| locate(e, at, None))?;
                owned::<AccessKey>(model.account(a), &owner)
                    .last()
                    .map(|k| k.access_key_id.clone())
                    .unwrap_or_default()
            };
            self.call(
                a,
                "UpdateAccessKey",
                P::default()
                    .user(user)
                    .s("AccessKeyId", &id)
                    .s("Status", status),
                at,
                None,
            )
            .await?;
        }
        Ok(())
    }

    async fn login_profile(&self, a: &str, user: &str, lp: &LoginProfileSeed, at: &str) -> R {
        let check_hash = |h: &str, field: &str| -> R {
            match argon2::password_hash::PasswordHash::new(h) {
                Ok(p) if p.algorithm.as_str().starts_with("argon2") => Ok(()),
                _ => Err(SeedError::at(
                    join(at, Some(field)),
                    "not an argon2 PHC hash ($argon2id$v=19$…), as localiam keeps passwords",
                )),
            }
        };
        let hash = match (&lp.password, &lp.password_hash) {
            (Some(pw), None) => {
                self.call(
                    a,
                    "CreateLoginProfile",
                    P::default()
                        .s("UserName", user)
                        .s("Password", pw)
                        .b("PasswordResetRequired", lp.password_reset_required),
                    at,
                    None,
                )
                .await?;
                None
            }
            (None, Some(h)) => {
                check_hash(h, "PasswordHash")?;
                Some(h.clone())
            }
            _ => {
                return Err(SeedError::at(
                    at,
                    "give Password (in clear) or PasswordHash (an export's), one of them",
                ))
            }
        };
        for (i, h) in lp.password_history.iter().enumerate() {
            check_hash(h, &format!("PasswordHistory[{i}]"))?;
        }
        let created = date(&lp.create_date, at, "CreateDate")?;
        let set = date(&lp.password_last_set, at, "PasswordLastSet")?;
        let history = lp.password_history.clone();
        let reset = lp.password_reset_required.unwrap_or(false);
        self.fix_user(a, user, at, move |u| {
            if let Some(h) = hash {
                let now = crate::store::ids::now();
                u.login_profile = Some(LoginProfile {
                    password_hash: h,
                    password_reset_required: reset,
                    create_date: now,
                    password_changed: Some(now),
                });
            }
            if let Some(p) = &mut u.login_profile {
                if let Some(d) = created {
                    p.create_date = d;
                }
                if set.is_some() {
                    p.password_changed = set;
                }
            }
            u.password_history = history;
        })
        .await
    }

    async fn ssh_key(&self, a: &str, user: &str, k: &SshPublicKeySeed, at: &str) -> R {
        self.call(
            a,
            "UploadSSHPublicKey",
            P::default()
                .s("UserName", user)
                .s("SSHPublicKeyBody", &k.ssh_public_key_body),
            at,
            None,
        )
        .await?;
        let id = given_id(&k.ssh_public_key_id, at, "SSHPublicKeyId")?;
        let uploaded = date(&k.upload_date, at, "UploadDate")?;
        self.fix_user(a, user, at, move |u| {
            if let Some(k) = u.ssh_public_keys.last_mut() {
                let k: &mut SshPublicKey = k;
                if let Some(id) = id {
                    k.ssh_public_key_id = id;
                }
                if let Some(d) = uploaded {
                    k.upload_date = d;
                }
            }
        })
        .await?;
        if let Some(status) = &k.status {
            let id = self.newest(a, user, |u| {
                u.ssh_public_keys
                    .last()
                    .map(|k| k.ssh_public_key_id.clone())
            });
            self.call(
                a,
                "UpdateSSHPublicKey",
                P::default()
                    .s("UserName", user)
                    .s("SSHPublicKeyId", &id)
                    .s("Status", status),
                at,
                None,
            )
            .await?;
        }
        Ok(())
    }

    async fn signing_certificate(
        &self,
        a: &str,
        user: Option<&str>,
        c: &SigningCertificateSeed,
        at: &str,
    ) -> R {
        self.call(
            a,
            "UploadSigningCertificate",
            P::default()
                .user(user)
                .s("CertificateBody", &c.certificate_body),
            at,
            None,
        )
        .await?;
        let id = given_id(&c.certificate_id, at, "CertificateId")?;
        let uploaded = date(&c.upload_date, at, "UploadDate")?;
        let (acct, user_name) = (a.to_string(), user.map(str::to_string));
        self.fix(at, move |tx| {
            let owner = Self::owner(tx, &acct, user_name.as_deref())?;
            change_owned::<SigningCertificate, _>(tx, &acct, &owner, |all| {
                if let Some(c) = all.last_mut() {
                    if let Some(id) = id {
                        c.certificate_id = id;
                    }
                    if let Some(d) = uploaded {
                        c.upload_date = d;
                    }
                }
            })?;
            Ok(())
        })
        .await?;
        if let Some(status) = &c.status {
            let model = self.model();
            let owner = resolve_owner(model.account(a), &Principal::root(a, None), user)
                .map_err(|e| locate(e, at, None))?;
            let id = owned::<SigningCertificate>(model.account(a), &owner)
                .last()
                .map(|c| c.certificate_id.clone())
                .unwrap_or_default();
            self.call(
                a,
                "UpdateSigningCertificate",
                P::default()
                    .user(user)
                    .s("CertificateId", &id)
                    .s("Status", status),
                at,
                None,
            )
            .await?;
        }
        Ok(())
    }

    async fn service_credential(
        &self,
        a: &str,
        user: &str,
        c: &ServiceCredentialSeed,
        at: &str,
    ) -> R {
        self.call(
            a,
            "CreateServiceSpecificCredential",
            P::default()
                .s("UserName", user)
                .s("ServiceName", &c.service_name)
                .n("CredentialAgeDays", c.credential_age_days.map(i64::from)),
            at,
            None,
        )
        .await?;
        let id = given_id(
            &c.service_specific_credential_id,
            at,
            "ServiceSpecificCredentialId",
        )?;
        let created = date(&c.create_date, at, "CreateDate")?;
        let expires = date(&c.expiration_date, at, "ExpirationDate")?;
        if let Some(h) = &c.secret_sha256 {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SeedError::at(
                    join(at, Some("SecretSha256")),
                    "not a SHA-256 (64 hex digits)",
                ));
            }
        }
        let seed = c.clone();
        self.fix_user(a, user, at, move |u| {
            if let Some(c) = u.service_credentials.last_mut() {
                let c: &mut ServiceCredential = c;
                if let Some(id) = id {
                    c.credential_id = id;
                }
                if seed.service_user_name.is_some() {
                    c.service_user_name = seed.service_user_name;
                }
                if seed.service_credential_alias.is_some() {
                    c.alias = seed.service_credential_alias;
                }
                if let Some(h) = seed.secret_sha256 {
                    c.secret_sha256 = h.to_ascii_lowercase();
                }
                if let Some(d) = created {
                    c.create_date = d;
                }
                if expires.is_some() {
                    c.expiration_date = expires;
                }
            }
        })
        .await?;
        if let Some(status) = &c.status {
            let id = self.newest(a, user, |u| {
                u.service_credentials
                    .last()
                    .map(|c| c.credential_id.clone())
            });
            self.call(
                a,
                "UpdateServiceSpecificCredential",
                P::default()
                    .s("UserName", user)
                    .s("ServiceSpecificCredentialId", &id)
                    .s("Status", status),
                at,
                None,
            )
            .await?;
        }
        Ok(())
    }

    // --- roles and instance profiles -----------------------------------------------------------

    async fn role(&self, a: &str, r: &RoleSeed, at: &str) -> R {
        let path = r.path.as_deref().unwrap_or("/");
        if let Some(service) = path
            .strip_prefix("/aws-service-role/")
            .and_then(|s| s.strip_suffix('/'))
        {
            self.service_linked_role(a, r, service, at).await?;
        } else {
            // The role's own trust policy is set once every role exists (see `trust`); without
            // one, CreateRole says what AWS says.
            let trust = r
                .assume_role_policy_document
                .as_ref()
                .map(|_| PROVISIONAL_TRUST);
            self.call(
                a,
                "CreateRole",
                P::default()
                    .s("RoleName", &r.role_name)
                    .o("Path", r.path.as_deref())
                    .o("AssumeRolePolicyDocument", trust)
                    .o("Description", r.description.as_deref())
                    .n("MaxSessionDuration", r.max_session_duration.map(i64::from))
                    .o("PermissionsBoundary", r.permissions_boundary.as_deref())
                    .tags(&r.tags),
                at,
                Some("AssumeRolePolicyDocument"),
            )
            .await?;
        }
        let id = given_id(&r.role_id, at, "RoleId")?;
        let created = date(&r.create_date, at, "CreateDate")?;
        let last_used = match &r.role_last_used {
            Some(l) => Some(RoleLastUsed {
                date: date(
                    &Some(l.last_used_date.clone()),
                    &format!("{at}.RoleLastUsed"),
                    "LastUsedDate",
                )?
                .unwrap_or_default(),
                region: l.region.clone(),
            }),
            None => None,
        };
        let activity = r.last_accessed.clone().filter(|x| !x.is_empty());
        let (acct, name) = (a.to_string(), r.role_name.clone());
        let tags = to_store_tags(
            &r.tags
                .iter()
                .map(|t| iam::Tag {
                    key: t.key.clone(),
                    value: t.value.clone(),
                })
                .collect::<Vec<_>>(),
        );
        self.fix(at, move |tx| {
            let cur = crate::api::common::require_role(tx.account(&acct), &name)?;
            reid(tx, &acct, &cur.role_id, |e: &mut Role| {
                if let Some(id) = id {
                    e.role_id = id;
                }
                if let Some(d) = created {
                    e.create_date = d;
                }
                e.last_used = last_used;
                e.activity = activity.map(Box::new);
                if e.is_service_linked() {
                    e.tags = tags;
                }
            })
        })
        .await?;
        let name = r.role_name.as_str();
        let held = self.model();
        let already: Vec<String> = held
            .account(a)
            .roles
            .get(name)
            .map(|r| {
                r.attached
                    .iter()
                    .filter_map(|id| held.account(a).policy_by_id(id).map(|p| p.arn()))
                    .collect()
            })
            .unwrap_or_default();
        let to_attach: Vec<String> = r
            .attached_policies
            .iter()
            .filter(|arn| !already.contains(arn))
            .cloned()
            .collect();
        self.inline(a, "PutRolePolicy", "RoleName", name, &r.policies, at)
            .await?;
        self.attach(a, "AttachRolePolicy", "RoleName", name, &to_attach, at)
            .await
    }

    /// A role AWS makes for a service (CreateServiceLinkedRole): its name is the service's, with
    /// the suffix the file's name carries.
    async fn service_linked_role(&self, a: &str, r: &RoleSeed, service: &str, at: &str) -> R {
        let base = crate::api::roles::service_role_name(service);
        let suffix = match r.role_name.strip_prefix(&base) {
            Some("") => None,
            Some(rest) if rest.starts_with('_') => Some(&rest[1..]),
            _ => {
                return Err(SeedError::at(
                    join(at, Some("RoleName")),
                    format!(
                        "InvalidInput: the service-linked role of {service} is named {base} or {base}_SUFFIX"
                    ),
                ))
            }
        };
        self.call(
            a,
            "CreateServiceLinkedRole",
            P::default()
                .s("AWSServiceName", service)
                .o("Description", r.description.as_deref())
                .o("CustomSuffix", suffix),
            at,
            None,
        )
        .await
    }

    /// Sets a role's own trust policy (UpdateAssumeRolePolicy's checks, as CreateRole's).
    async fn trust(&self, a: &str, r: &RoleSeed, at: &str) -> R {
        let service_linked = r
            .path
            .as_deref()
            .is_some_and(|p| p.starts_with("/aws-service-role/"));
        match &r.assume_role_policy_document {
            Some(doc) if !service_linked => {
                self.call(
                    a,
                    "UpdateAssumeRolePolicy",
                    P::default()
                        .s("RoleName", &r.role_name)
                        .s("PolicyDocument", &doc_text(doc)),
                    at,
                    Some("AssumeRolePolicyDocument"),
                )
                .await
            }
            _ => Ok(()),
        }
    }

    async fn instance_profile(&self, a: &str, p: &InstanceProfileSeed, at: &str) -> R {
        self.call(
            a,
            "CreateInstanceProfile",
            P::default()
                .s("InstanceProfileName", &p.instance_profile_name)
                .o("Path", p.path.as_deref())
                .tags(&p.tags),
            at,
            None,
        )
        .await?;
        let id = given_id(&p.instance_profile_id, at, "InstanceProfileId")?;
        let created = date(&p.create_date, at, "CreateDate")?;
        let (acct, name) = (a.to_string(), p.instance_profile_name.clone());
        self.fix(at, move |tx| {
            let cur = crate::api::common::require_instance_profile(tx.account(&acct), &name)?;
            reid(
                tx,
                &acct,
                &cur.instance_profile_id,
                |e: &mut InstanceProfile| {
                    if let Some(id) = id {
                        e.instance_profile_id = id;
                    }
                    if let Some(d) = created {
                        e.create_date = d;
                    }
                },
            )
        })
        .await?;
        for (i, role) in p.roles.iter().enumerate() {
            self.call(
                a,
                "AddRoleToInstanceProfile",
                P::default()
                    .s("InstanceProfileName", &p.instance_profile_name)
                    .s("RoleName", role),
                &format!("{at}.Roles[{i}]"),
                None,
            )
            .await?;
        }
        Ok(())
    }

    // --- identity providers, MFA devices, server certificates ----------------------------------

    async fn oidc_provider(&self, a: &str, p: &OidcProviderSeed, at: &str) -> R {
        self.call(
            a,
            "CreateOpenIDConnectProvider",
            P::default()
                .s("Url", &p.url)
                .list("ClientIDList", &p.client_id_list)
                .list("ThumbprintList", &p.thumbprint_list)
                .tags(&p.tags),
            at,
            None,
        )
        .await?;
        let created = date(&p.create_date, at, "CreateDate")?;
        let (acct, id) = (
            a.to_string(),
            crate::api::oidc_providers::provider_name(&p.url).unwrap_or_default(),
        );
        if let Some(d) = created {
            self.fix(at, move |tx| {
                tx.update(&acct, &id, |e: &mut OidcProvider| e.create_date = d)?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    async fn saml_provider(&self, a: &str, p: &SamlProviderSeed, at: &str) -> R {
        self.call(
            a,
            "CreateSAMLProvider",
            P::default()
                .s("Name", &p.name)
                .s("SAMLMetadataDocument", &p.saml_metadata_document)
                .o(
                    "AssertionEncryptionMode",
                    p.assertion_encryption_mode.as_deref(),
                )
                .tags(&p.tags),
            at,
            None,
        )
        .await?;
        let uuid = p.saml_provider_uuid.clone();
        if let Some(u) = &uuid {
            if u.len() != 32
                || !u
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Err(SeedError::at(
                    join(at, Some("SAMLProviderUUID")),
                    "ValidationError: a SAML provider's UUID is 32 characters of A-Z and 0-9",
                ));
            }
        }
        let created = date(&p.create_date, at, "CreateDate")?;
        let valid = date(&p.valid_until, at, "ValidUntil")?;
        let mut keys = Vec::new();
        for (i, k) in p.private_key_list.iter().enumerate() {
            let kat = format!("{at}.PrivateKeyList[{i}]");
            keys.push(SamlPrivateKey {
                key_id: k.key_id.clone(),
                timestamp: date(&Some(k.timestamp.clone()), &kat, "Timestamp")?.unwrap_or(0),
            });
        }
        let (acct, name) = (a.to_string(), p.name.clone());
        self.fix(at, move |tx| {
            let cur = tx
                .account(&acct)
                .saml_providers
                .get(&name)
                .cloned()
                .ok_or_else(|| ApiError::no_such_entity(name.clone()))?;
            reid(tx, &acct, &cur.uuid, |e: &mut SamlProvider| {
                if let Some(u) = uuid {
                    e.uuid = u;
                }
                if let Some(d) = created {
                    e.create_date = d;
                }
                if let Some(d) = valid {
                    e.valid_until = d;
                }
                if !keys.is_empty() {
                    e.private_keys = keys;
                }
            })
        })
        .await
    }

    async fn mfa_device(&self, a: &str, d: &MfaDeviceSeed, at: &str) -> R {
        self.call(
            a,
            "CreateVirtualMFADevice",
            P::default()
                .s("VirtualMFADeviceName", &d.virtual_mfa_device_name)
                .o("Path", d.path.as_deref())
                .tags(&d.tags),
            at,
            None,
        )
        .await?;
        let serial = format!(
            "arn:aws:iam::{a}:mfa{}{}",
            d.path.as_deref().unwrap_or("/"),
            d.virtual_mfa_device_name
        );
        if let Some(s) = &d.serial_number {
            if *s != serial {
                return Err(SeedError::at(
                    join(at, Some("SerialNumber")),
                    format!("the name and path make the serial number {serial}, not {s}"),
                ));
            }
        }
        if let Some(seed) = &d.base32_string_seed {
            let ok = data_encoding::BASE32_NOPAD
                .decode(seed.trim_end_matches('=').as_bytes())
                .is_ok_and(|s| !s.is_empty());
            if !ok {
                return Err(SeedError::at(
                    join(at, Some("Base32StringSeed")),
                    "not a base32 TOTP secret (A-Z and 2-7)",
                ));
            }
        }
        let created = date(&d.create_date, at, "CreateDate")?;
        let enabled = date(&d.enable_date, at, "EnableDate")?;
        let (acct, id, seed) = (a.to_string(), serial.clone(), d.base32_string_seed.clone());
        self.fix(at, move |tx| {
            tx.update(&acct, &id, |e: &mut MfaDevice| {
                if let Some(s) = seed {
                    e.seed = s;
                }
                if let Some(d) = created {
                    e.create_date = d;
                }
            })?;
            Ok(())
        })
        .await?;
        if let Some(user) = &d.user {
            // Enabled as a person does it: with two consecutive codes of the device.
            let seed = self
                .model()
                .account(a)
                .mfa_devices
                .get_by_id(&serial)
                .map(|d| d.seed.clone())
                .unwrap_or_default();
            let step = crate::api::mfa::now_step();
            let code = |s: u64| crate::api::mfa::code_at(&seed, s).unwrap_or_default();
            self.call(
                a,
                "EnableMFADevice",
                P::default()
                    .s("UserName", user)
                    .s("SerialNumber", &serial)
                    .s("AuthenticationCode1", &code(step.saturating_sub(1)))
                    .s("AuthenticationCode2", &code(step)),
                &format!("{at}.User"),
                None,
            )
            .await?;
            let acct = a.to_string();
            self.fix(at, move |tx| {
                tx.update(&acct, &serial, |e: &mut MfaDevice| {
                    if enabled.is_some() {
                        e.enable_date = enabled;
                    }
                    // A test may use the code of the current 30 seconds at once.
                    e.last_step = None;
                })?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    async fn server_certificate(&self, a: &str, c: &ServerCertificateSeed, at: &str) -> R {
        let params = P::default()
            .s("ServerCertificateName", &c.server_certificate_name)
            .o("Path", c.path.as_deref())
            .s("CertificateBody", &c.certificate_body)
            .o("CertificateChain", c.certificate_chain.as_deref())
            .tags(&c.tags);
        let id = given_id(&c.server_certificate_id, at, "ServerCertificateId")?;
        let uploaded = date(&c.upload_date, at, "UploadDate")?;
        let acct = a.to_string();
        match &c.private_key {
            Some(key) => {
                self.call(
                    a,
                    "UploadServerCertificate",
                    params.s("PrivateKey", key),
                    at,
                    None,
                )
                .await?;
                let name = c.server_certificate_name.clone();
                self.fix(at, move |tx| {
                    let cur = crate::api::server_certificates::require_server_certificate(
                        tx.account(&acct),
                        &name,
                    )?;
                    reid(
                        tx,
                        &acct,
                        &cur.server_certificate_id,
                        |e: &mut ServerCertificate| {
                            if let Some(id) = id {
                                e.server_certificate_id = id;
                            }
                            if let Some(d) = uploaded {
                                e.upload_date = d;
                            }
                        },
                    )
                })
                .await
            }
            None => {
                // An export's: no private key to check it against (IAM keeps none).
                let input = decode_input::<iam::UploadServerCertificate>(
                    Service::Iam,
                    &params.s("PrivateKey", "-").params(),
                )
                .map_err(|e| locate(e, at, None))?;
                let mut cert = crate::api::server_certificates::exported_certificate(
                    a,
                    &input,
                    uploaded.unwrap_or_else(crate::store::ids::now),
                )
                .map_err(|e| locate(e, at, Some("CertificateBody")))?;
                if let Some(id) = id {
                    cert.server_certificate_id = id;
                }
                self.fix(at, move |tx| {
                    crate::api::server_certificates::insert_certificate(tx, cert)?;
                    Ok(())
                })
                .await
            }
        }
    }
}

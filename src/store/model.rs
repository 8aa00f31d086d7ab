//! The in-memory model: every account's IAM state, the structure every read is served from.
//!
//! * A [`Model`] is an immutable snapshot: persistent maps (`imbl`) make a clone cost a few pointer
//!   copies, so readers hold a snapshot for as long as they like while the writer builds the next one.
//! * Every entity family is one [`Entity`] type kept in a [`Table`] of its account: looked up by name
//!   (case-insensitively) or by unique ID, listed in name order with a path prefix and a marker. An
//!   entity is also its own durable record: it is serialized whole (serde JSON) as one row of SQLite's
//!   `records` table. A new family is a struct, an `impl Entity` and a field of [`Account`].
//! * What points from one entity to another (group memberships, policy attachments, permissions
//!   boundaries, access keys) is stored on one side only, and the reverse direction is an index
//!   ([`Links`], [`Model::key`]) that [`Entity::index`] maintains on every put and remove.
//! * Changes go through a [`Tx`] (see [`super::Store::write`]), which records what to persist.

use std::ops::Bound;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{aws_managed, iam_arn, ids, lower, Page, StoreError, StoreResult};

// ---------------------------------------------------------------------------------------------
// Entity families
// ---------------------------------------------------------------------------------------------

/// One tag (kept in insertion order; keys unique case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: &str, value: &str) -> Tag {
        Tag {
            key: key.to_string(),
            value: value.to_string(),
        }
    }
}

/// How an entity family compares tag keys: AWS compares them case-insensitively, except on
/// managed policies, where `a` and `A` are two tags (as recorded on real AWS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKeys {
    CaseInsensitive,
    CaseSensitive,
}

impl TagKeys {
    fn same(self, a: &str, b: &str) -> bool {
        match self {
            TagKeys::CaseSensitive => a == b,
            TagKeys::CaseInsensitive => a == b || lower(a) == lower(b),
        }
    }
}

/// Adds or replaces `new` tags: a key that exists keeps its place and takes the new spelling and
/// value.
pub fn merge_tags(tags: &mut Vec<Tag>, new: &[Tag], keys: TagKeys) {
    for t in new {
        match tags.iter_mut().find(|e| keys.same(&e.key, &t.key)) {
            Some(e) => *e = t.clone(),
            None => tags.push(t.clone()),
        }
    }
}

/// Removes the tags with these keys; absent keys are ignored, as AWS does.
pub fn remove_tags(tags: &mut Vec<Tag>, remove: &[String], keys: TagKeys) {
    tags.retain(|t| !remove.iter().any(|k| keys.same(&t.key, k)));
}

/// How many of `new`'s keys `tags` does not have yet (for the 50-tag limit).
pub fn new_tag_keys(tags: &[Tag], new: &[Tag], keys: TagKeys) -> usize {
    new.iter()
        .filter(|t| !tags.iter().any(|e| keys.same(&e.key, &t.key)))
        .count()
}

/// When, where and for what service an access key was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLastUsed {
    pub date: i64,
    pub service: String,
    pub region: String,
}

/// A long-term access key (`AKIA…`) of a user or of an account's root.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: i64,
    pub last_used: Option<KeyLastUsed>,
}

// The secret never reaches logs.
impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("status", &self.status)
            .field("create_date", &self.create_date)
            .finish_non_exhaustive()
    }
}

impl AccessKey {
    /// A new active key with a fresh `AKIA…` ID and secret, created now.
    pub fn generate() -> AccessKey {
        AccessKey {
            access_key_id: ids::access_key_id(ids::prefix::ACCESS_KEY),
            secret_access_key: ids::secret_access_key(),
            status: "Active".to_string(),
            create_date: ids::now(),
            last_used: None,
        }
    }

    /// Whether the key may sign requests.
    pub fn is_active(&self) -> bool {
        self.status == "Active"
    }
}

/// An SSH public key of a user (UploadSSHPublicKey), for CodeCommit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshPublicKey {
    /// `APKA…`.
    pub ssh_public_key_id: String,
    /// The body as uploaded (OpenSSH `ssh-rsa …` or PEM).
    pub body: String,
    /// AWS's fingerprint: MD5 of the SSH wire-format key, colon-separated hex.
    pub fingerprint: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub upload_date: i64,
}

/// An X.509 signing certificate of a user or of an account's root (UploadSigningCertificate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningCertificate {
    pub certificate_id: String,
    /// The PEM body as uploaded.
    pub body: String,
    /// SHA-256 of the certificate's DER, hex: the same certificate twice is refused.
    pub der_sha256: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub upload_date: i64,
}

/// A service-specific credential of a user (CodeCommit and Keyspaces passwords, Bedrock and
/// CloudWatch Logs API keys).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCredential {
    /// `ACCA…`.
    pub credential_id: String,
    pub service_name: String,
    /// `USER-at-ACCOUNT` (password credentials), fixed at creation.
    #[serde(default)]
    pub service_user_name: Option<String>,
    /// The public part of an API key (`USER-at-ACCOUNT`).
    #[serde(default)]
    pub alias: Option<String>,
    /// SHA-256 (hex) of the password or API key secret: the secret itself is returned once and
    /// never stored.
    pub secret_sha256: String,
    /// `Active` or `Inactive` (`Expired` is derived from `expiration_date` when read).
    pub status: String,
    pub create_date: i64,
    #[serde(default)]
    pub expiration_date: Option<i64>,
}

// Even the hash of the secret stays out of logs.
impl std::fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCredential")
            .field("credential_id", &self.credential_id)
            .field("service_name", &self.service_name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A console password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginProfile {
    /// The hash the caller made (argon2 PHC string).
    pub password_hash: String,
    pub password_reset_required: bool,
    pub create_date: i64,
    /// When the password was last set (create or update), for MaxPasswordAge.
    pub password_changed: Option<i64>,
}

impl std::fmt::Debug for LoginProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProfile")
            .field("password_reset_required", &self.password_reset_required)
            .field("create_date", &self.create_date)
            .finish_non_exhaustive()
    }
}

/// An inline policy of a user, group or role (document stored decoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
}

/// The inline policies of an owner, ordered by name case-insensitively; names unique
/// case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InlinePolicies(Vec<InlinePolicy>);

impl InlinePolicies {
    pub fn get(&self, name: &str) -> Option<&InlinePolicy> {
        let l = lower(name);
        self.0.iter().find(|p| lower(&p.name) == l)
    }
    /// Creates or replaces (a replaced policy takes the new spelling of its name).
    pub fn put(&mut self, name: &str, document: &str) {
        let l = lower(name);
        match self.0.iter_mut().find(|p| lower(&p.name) == l) {
            Some(p) => {
                p.name = name.to_string();
                p.document = document.to_string();
            }
            None => {
                let at = self.0.partition_point(|p| lower(&p.name) < l);
                self.0.insert(
                    at,
                    InlinePolicy {
                        name: name.to_string(),
                        document: document.to_string(),
                    },
                );
            }
        }
    }
    /// Removes the policy; `false` when there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let l = lower(name);
        let before = self.0.len();
        self.0.retain(|p| lower(&p.name) != l);
        self.0.len() != before
    }
    pub fn iter(&self) -> std::slice::Iter<'_, InlinePolicy> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The kind of entity that owns inline policies and managed-policy attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PrincipalKind {
    User,
    Group,
    Role,
}

/// A user, group or role: an entity that holds inline policies and managed-policy attachments.
/// Everything about attachments (Attach/Detach/ListAttached…Policies, ListEntitiesForPolicy, inline
/// policies) goes through this trait, [`Account::held`] / [`Account::held_by_name`] and
/// [`Tx::update_held`]; a new holder family implements it (`impl Holder for Role { const PRINCIPAL:
/// PrincipalKind = PrincipalKind::Role; held_fields!(); fn boundary(…) … }`), calls [`index_held`]
/// from its [`Entity::index`], and replaces the `PrincipalKind::Role` arm of `Account::find_held` and
/// of [`Tx::update_held`] (one line each).
pub trait Holder: Entity {
    const PRINCIPAL: PrincipalKind;
    fn inline(&self) -> &InlinePolicies;
    /// The IDs of its attached managed policies, in attachment order.
    fn attached(&self) -> &[String];
    fn held_mut(&mut self) -> (&mut InlinePolicies, &mut Vec<String>);
    /// The ARN of its permissions boundary (groups have none).
    fn boundary(&self) -> Option<&str> {
        None
    }
}

/// An IAM user, with everything that hangs off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub create_date: i64,
    #[serde(default)]
    pub password_last_used: Option<i64>,
    #[serde(default)]
    pub permissions_boundary_arn: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Oldest first.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    #[serde(default)]
    pub login_profile: Option<LoginProfile>,
    /// Previous password hashes, newest last (for PasswordReusePrevention).
    #[serde(default)]
    pub password_history: Vec<String>,
    /// The IDs of the groups it belongs to, in the order it joined them.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The IDs of the managed policies attached to it, in attachment order.
    #[serde(default)]
    pub attached: Vec<String>,
    #[serde(default)]
    pub inline: InlinePolicies,
    /// SSH public keys, in upload order.
    #[serde(default)]
    pub ssh_public_keys: Vec<SshPublicKey>,
    /// Signing certificates, in upload order.
    #[serde(default)]
    pub signing_certificates: Vec<SigningCertificate>,
    /// Service-specific credentials, in creation order.
    #[serde(default)]
    pub service_credentials: Vec<ServiceCredential>,
    /// What it used (the access advisor's data), when it used anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Box<Activity>>,
}

impl User {
    /// A new user with a fresh `AIDA…` ID, created now.
    pub fn new(account_id: &str, name: &str, path: &str) -> User {
        User {
            user_id: ids::unique_id(ids::prefix::USER),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            create_date: ids::now(),
            password_last_used: None,
            permissions_boundary_arn: None,
            tags: Vec::new(),
            access_keys: Vec::new(),
            login_profile: None,
            password_history: Vec::new(),
            groups: Vec::new(),
            attached: Vec::new(),
            inline: InlinePolicies::default(),
            ssh_public_keys: Vec::new(),
            signing_certificates: Vec::new(),
            service_credentials: Vec::new(),
            activity: None,
        }
    }

    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "user", &self.path, &self.name)
    }
}

/// An IAM group. Its members are the users whose `groups` name it ([`Account::members`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub group_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub create_date: i64,
    #[serde(default)]
    pub attached: Vec<String>,
    #[serde(default)]
    pub inline: InlinePolicies,
}

impl Group {
    /// A new group with a fresh `AGPA…` ID, created now.
    pub fn new(account_id: &str, name: &str, path: &str) -> Group {
        Group {
            group_id: ids::unique_id(ids::prefix::GROUP),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            create_date: ids::now(),
            attached: Vec::new(),
            inline: InlinePolicies::default(),
        }
    }

    /// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "group", &self.path, &self.name)
    }
}

/// When and where a role's credentials were last used (`RoleLastUsed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleLastUsed {
    pub date: i64,
    pub region: String,
}

/// When, and from which Region, something was last used (the access advisor's data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastAccess {
    pub date: i64,
    pub region: String,
}

/// What a user or role used (the access advisor's data): by service namespace, its last use,
/// and for the services whose actions are tracked, the last use of each action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity(pub std::collections::BTreeMap<String, ServiceActivity>);

/// The use of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceActivity {
    pub last: LastAccess,
    /// Action name (`CreateUser`) → its last use.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub actions: std::collections::BTreeMap<String, LastAccess>,
}

impl Activity {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records a use of `namespace` (and of `action` of it), unless a later one is known.
    pub fn record(&mut self, namespace: &str, action: Option<&str>, at: &LastAccess) {
        let later = |old: &LastAccess| at.date >= old.date;
        match self.0.get_mut(namespace) {
            Some(s) => {
                if later(&s.last) {
                    s.last = at.clone();
                }
                if let Some(a) = action {
                    match s.actions.get_mut(a) {
                        Some(old) if !later(old) => {}
                        Some(old) => *old = at.clone(),
                        None => {
                            s.actions.insert(a.to_string(), at.clone());
                        }
                    }
                }
            }
            None => {
                let mut actions = std::collections::BTreeMap::new();
                if let Some(a) = action {
                    actions.insert(a.to_string(), at.clone());
                }
                self.0.insert(
                    namespace.to_string(),
                    ServiceActivity {
                        last: at.clone(),
                        actions,
                    },
                );
            }
        }
    }

    /// Takes in every use of `other` that is later than what this one knows.
    pub fn merge(&mut self, other: &Activity) {
        for (ns, s) in &other.0 {
            self.record(ns, None, &s.last);
            for (action, at) in &s.actions {
                self.record(ns, Some(action), at);
            }
        }
    }
}

/// An IAM role: a trust policy that says who may assume it, and the policies it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub role_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub create_date: i64,
    /// The trust policy, stored decoded (plain JSON text).
    pub assume_role_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_duration: i32,
    #[serde(default)]
    pub permissions_boundary_arn: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub last_used: Option<RoleLastUsed>,
    /// The IDs of the managed policies attached to it, in attachment order.
    #[serde(default)]
    pub attached: Vec<String>,
    #[serde(default)]
    pub inline: InlinePolicies,
    /// What its sessions used (the access advisor's data), when they used anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Box<Activity>>,
}

impl Role {
    /// A new role with a fresh `AROA…` ID, created now, with AWS's default session duration.
    pub fn new(account_id: &str, name: &str, path: &str, assume_role_policy: &str) -> Role {
        Role {
            role_id: ids::unique_id(ids::prefix::ROLE),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            create_date: ids::now(),
            assume_role_policy: assume_role_policy.to_string(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary_arn: None,
            tags: Vec::new(),
            last_used: None,
            attached: Vec::new(),
            inline: InlinePolicies::default(),
            activity: None,
        }
    }

    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "role", &self.path, &self.name)
    }

    /// Whether AWS made it for a service (`/aws-service-role/…`): only the service may change it.
    pub fn is_service_linked(&self) -> bool {
        self.path.starts_with("/aws-service-role/")
    }
}

/// An instance profile: the container that hands a role to EC2 instances (at most one role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub instance_profile_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub create_date: i64,
    /// The IDs of its roles (AWS allows one).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl InstanceProfile {
    /// A new instance profile with a fresh `AIPA…` ID, created now.
    pub fn new(account_id: &str, name: &str, path: &str) -> InstanceProfile {
        InstanceProfile {
            instance_profile_id: ids::unique_id(ids::prefix::INSTANCE_PROFILE),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            create_date: ids::now(),
            roles: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// `arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "instance-profile", &self.path, &self.name)
    }
}

/// An OpenID Connect identity provider: the issuer whose ID tokens AssumeRoleWithWebIdentity
/// accepts. Named (and identified) by its URL without `https://`, as in its ARN
/// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcProvider {
    pub account_id: String,
    /// `HOST/PATH`, without the scheme or a trailing slash.
    pub url: String,
    #[serde(default)]
    pub client_ids: Vec<String>,
    #[serde(default)]
    pub thumbprints: Vec<String>,
    pub create_date: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl OidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account_id, self.url
        )
    }
}

/// The public keys (a JWKS document) of an OpenID Connect issuer, given to localiam because it
/// cannot fetch them from the issuer. Shared by every account: kept in [`SHARED_ACCOUNT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerKeys {
    pub account_id: String,
    /// The issuer as its providers are named: `HOST/PATH`.
    pub issuer: String,
    /// The JWKS document (`{"keys": [...]}`), as JSON text.
    pub jwks: String,
}

/// Where what every account shares is kept in the model (issuer keys).
pub const SHARED_ACCOUNT: &str = "aws";

/// A signing key of an account's own OpenID Connect issuer (GetWebIdentityToken).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSigningKey {
    /// `RS256` or `ES384`.
    pub alg: String,
    pub kid: String,
    /// The private key, DER (PKCS#1 for RSA, PKCS#8 for EC), base64.
    pub private_der: String,
}

// The private key never reaches logs.
impl std::fmt::Debug for IssuerSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerSigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Outbound web identity federation of an account (IAM's Enable/Disable…Federation): its issuer
/// and the keys GetWebIdentityToken signs with. Kept when disabled, so the issuer stays the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundFederation {
    pub enabled: bool,
    /// `https://UUID.tokens.sts.global.api.aws`, as AWS's issuers look.
    pub issuer: String,
    pub keys: Vec<IssuerSigningKey>,
}

/// A private key AWS keeps for decrypting a provider's encrypted assertions (only its ID and
/// upload time are kept here: localiam does not decrypt assertions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlPrivateKey {
    pub key_id: String,
    pub timestamp: i64,
}

/// A SAML 2.0 identity provider (`arn:aws:iam::ACCOUNT:saml-provider/NAME`): its metadata
/// document as uploaded, and what AssumeRoleWithSAML checks responses with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlProvider {
    /// `SAMLProviderUUID`: 32 characters of `A-Z0-9`.
    pub uuid: String,
    pub account_id: String,
    pub name: String,
    pub metadata_document: String,
    /// The metadata's `entityID`: the `Issuer` of its responses.
    pub entity_id: String,
    /// Its signing certificates (base64 DER).
    pub certificates: Vec<String>,
    pub create_date: i64,
    pub valid_until: i64,
    /// `Allowed` or `Required`.
    pub assertion_encryption_mode: String,
    #[serde(default)]
    pub private_keys: Vec<SamlPrivateKey>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl SamlProvider {
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:saml-provider/{}",
            self.account_id, self.name
        )
    }
}

/// A server certificate (`arn:aws:iam::ACCOUNT:server-certificate/PATH/NAME`): the X.509
/// certificate and chain as uploaded (their surrounding white space and carriage returns taken
/// off). Its private key is checked against the certificate at upload and never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerCertificate {
    /// `ASCA…`
    pub server_certificate_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub certificate_body: String,
    #[serde(default)]
    pub certificate_chain: Option<String>,
    pub upload_date: i64,
    /// The certificate's `notAfter`.
    pub expiration: i64,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ServerCertificate {
    /// `arn:aws:iam::ACCOUNT:server-certificate/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(
            &self.account_id,
            "server-certificate",
            &self.path,
            &self.name,
        )
    }
}

/// The state of a delegation request (IAM temporary delegation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DelegationState {
    Unassigned,
    Assigned,
    PendingApproval,
    Accepted,
    Finalized,
    Rejected,
    Expired,
}

impl DelegationState {
    /// As AWS spells it (`PENDING_APPROVAL`).
    pub fn as_str(self) -> &'static str {
        match self {
            DelegationState::Unassigned => "UNASSIGNED",
            DelegationState::Assigned => "ASSIGNED",
            DelegationState::PendingApproval => "PENDING_APPROVAL",
            DelegationState::Accepted => "ACCEPTED",
            DelegationState::Finalized => "FINALIZED",
            DelegationState::Rejected => "REJECTED",
            DelegationState::Expired => "EXPIRED",
        }
    }

    /// How long a request stays in this state without action before it expires: a day
    /// unassigned, seven days in any other state (AWS's request lifecycle).
    pub fn lifetime(self) -> i64 {
        match self {
            DelegationState::Unassigned => 86_400,
            _ => 7 * 86_400,
        }
    }
}

/// One parameter of a delegation request's policy template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateParameter {
    pub name: String,
    pub values: Vec<String>,
    /// `string` or `stringList`.
    pub kind: String,
}

/// The identity that accepted a delegation request: what the delegated credentials act as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationApprover {
    pub account_id: String,
    pub kind: SessionKind,
    /// The principal's ARN (user, role session, federated user or root).
    pub arn: String,
    /// The principal's unique ID (`AIDA…`, `AROA…:SESSION`, …).
    pub principal_id: String,
    /// The user's or role's unique ID, when there is one.
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub session_name: Option<String>,
}

/// A message IAM publishes to the request's SNS topic (localiam keeps them for
/// `/_localiam/notifications`, as it publishes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationNotification {
    pub message_id: String,
    /// Unix milliseconds.
    pub timestamp_ms: i64,
    /// The `Message` (a JSON document as text).
    pub message: String,
}

/// An IAM delegation request: a partner account (the requestor) asks a customer account (the
/// owner) for temporary, templated permissions. Requests span accounts, so they are kept in
/// [`SHARED_ACCOUNT`], found by ID from any account. Its ID and name are its request ID.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationRequest {
    /// Where it is kept: [`SHARED_ACCOUNT`].
    pub account_id: String,
    pub id: String,
    /// The partner account that created it.
    pub requestor_id: String,
    #[serde(default)]
    pub requestor_name: Option<String>,
    pub requestor_workflow_id: String,
    #[serde(default)]
    pub owner_account_id: Option<String>,
    /// The ARN of the identity that associated it.
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub approver: Option<DelegationApprover>,
    pub description: String,
    #[serde(default)]
    pub request_message: Option<String>,
    pub policy_template_arn: String,
    #[serde(default)]
    pub parameters: Vec<TemplateParameter>,
    /// The template rendered with the parameters (a policy document).
    pub permission_policy: String,
    /// The permissions boundaries the rendered policy requires of roles it creates.
    #[serde(default)]
    pub role_permission_restriction_arns: Vec<String>,
    #[serde(default)]
    pub redirect_url: Option<String>,
    pub notification_channel: String,
    pub session_duration: i32,
    #[serde(default)]
    pub only_send_by_owner: bool,
    /// The state last set by a call ([`DelegationRequest::state_at`] adds expiry).
    pub state: DelegationState,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub rejection_reason: Option<String>,
    pub create_date: i64,
    /// When the state was last set (unix seconds).
    pub updated: i64,
    /// The exchange token released by SendDelegationToken, and until when it can be redeemed.
    #[serde(default)]
    pub exchange_token: Option<String>,
    #[serde(default)]
    pub token_expiration: Option<i64>,
    #[serde(default)]
    pub notifications: Vec<DelegationNotification>,
}

// The exchange token never reaches logs.
impl std::fmt::Debug for DelegationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelegationRequest")
            .field("id", &self.id)
            .field("requestor_id", &self.requestor_id)
            .field("owner_account_id", &self.owner_account_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl DelegationRequest {
    /// When the request expires (or expired) if nothing happens to it.
    pub fn expiration(&self) -> i64 {
        self.updated.saturating_add(self.state.lifetime())
    }

    /// Its state at `now`: the stored one, or `EXPIRED` once its time is up.
    pub fn state_at(&self, now: i64) -> DelegationState {
        if now >= self.expiration() {
            DelegationState::Expired
        } else {
            self.state
        }
    }
}

/// Who an STS session acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    /// AssumeRole (and AssumeRoleWith…): `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    AssumedRole,
    /// GetFederationToken: `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser,
    /// GetSessionToken of an IAM user: acts as the user.
    User,
    /// GetSessionToken of the root user: acts as the root user.
    Root,
}

/// Temporary credentials issued by STS (`ASIA…` key, secret, session token) and what they act
/// as. Its ID and name are the access key ID. Pruned once expired.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    pub account_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub kind: SessionKind,
    /// The principal's ARN (assumed-role, federated-user, user or root ARN).
    pub arn: String,
    /// The principal's unique ID (`AROA…:SESSION`, `ACCOUNT:NAME`, `AIDA…`, the account).
    pub principal_id: String,
    /// The role's or user's unique ID, when there is one.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// The role's ARN (assumed-role sessions).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The role session name or the federated user's name.
    #[serde(default)]
    pub session_name: Option<String>,
    #[serde(default)]
    pub source_identity: Option<String>,
    /// Session tags (`aws:PrincipalTag/…` of the session).
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The tag keys passed on to sessions assumed with these credentials.
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
    /// The inline session policy, decoded.
    #[serde(default)]
    pub session_policy: Option<String>,
    /// The managed session policies' ARNs.
    #[serde(default)]
    pub policy_arns: Vec<String>,
    /// When MFA was authenticated for this session (Unix seconds), if it was.
    #[serde(default)]
    pub mfa_authenticated_at: Option<i64>,
    /// Assumed with the credentials of another role session (role chaining).
    #[serde(default)]
    pub chained: bool,
    pub created: i64,
    pub expiration: i64,
}

// The secret and the token never reach logs.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("kind", &self.kind)
            .field("arn", &self.arn)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// A service last accessed report (GenerateServiceLastAccessedDetails): what it covers, as it
/// was when generated. Its ID and name are the job ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReport {
    pub job_id: String,
    pub account_id: String,
    /// The principal that generated it, the only one that may read it: its ARN, and the access
    /// key of its session when it used temporary credentials.
    pub owner_arn: String,
    #[serde(default)]
    pub owner_session: Option<String>,
    /// The user, group, role or policy it is about.
    pub arn: String,
    /// `SERVICE_LEVEL` or `ACTION_LEVEL`.
    pub granularity: String,
    pub created: i64,
    /// The users and roles it covers, with what they used of the services it lists.
    pub entities: Vec<ReportEntity>,
    /// The services the policies allow, by namespace.
    pub services: Vec<ReportService>,
}

/// A user or role a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportEntity {
    pub arn: String,
    pub name: String,
    /// `USER` or `ROLE`.
    pub kind: String,
    pub id: String,
    pub path: String,
    #[serde(default)]
    pub activity: Activity,
}

/// A service a report lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportService {
    pub namespace: String,
    /// The tracked actions the policies allow (action-level reports).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracked_actions: Vec<String>,
}

/// A virtual MFA device (TOTP, RFC 6238: 30-second steps, 6 digits, HMAC-SHA1). Its ID and name
/// are its serial number, the device's ARN.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaDevice {
    pub serial_number: String,
    pub account_id: String,
    pub path: String,
    pub device_name: String,
    /// The base32 seed (the TOTP secret).
    pub seed: String,
    pub create_date: i64,
    /// The user it is enabled for, and since when.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub enable_date: Option<i64>,
    /// The last time step whose code was accepted: a code is never accepted twice.
    #[serde(default)]
    pub last_step: Option<u64>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

// The seed never reaches logs.
impl std::fmt::Debug for MfaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaDevice")
            .field("serial_number", &self.serial_number)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// The [`Holder`] accessors of a family with `inline` and `attached` fields.
macro_rules! held_fields {
    () => {
        fn inline(&self) -> &InlinePolicies {
            &self.inline
        }
        fn attached(&self) -> &[String] {
            &self.attached
        }
        fn held_mut(&mut self) -> (&mut InlinePolicies, &mut Vec<String>) {
            (&mut self.inline, &mut self.attached)
        }
    };
}

impl Holder for User {
    const PRINCIPAL: PrincipalKind = PrincipalKind::User;
    held_fields!();
    fn boundary(&self) -> Option<&str> {
        self.permissions_boundary_arn.as_deref()
    }
}

impl Holder for Group {
    const PRINCIPAL: PrincipalKind = PrincipalKind::Group;
    held_fields!();
}

impl Holder for Role {
    const PRINCIPAL: PrincipalKind = PrincipalKind::Role;
    held_fields!();
    fn boundary(&self) -> Option<&str> {
        self.permissions_boundary_arn.as_deref()
    }
}

/// The account of AWS managed policies (`arn:aws:iam::aws:policy/…`).
pub const AWS_ACCOUNT: &str = "aws";

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, …
    pub version_id: String,
    /// Stored decoded (plain JSON text).
    pub document: String,
    pub create_date: i64,
}

/// A customer managed policy with its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub policy_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub default_version_id: String,
    /// The number of the next CreatePolicyVersion.
    pub next_version: i64,
    pub is_attachable: bool,
    #[serde(default)]
    pub description: Option<String>,
    pub create_date: i64,
    pub update_date: i64,
    /// Newest first.
    pub versions: Vec<PolicyVersion>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ManagedPolicy {
    /// A new customer managed policy with a fresh `ANPA…` ID and `document` as its default `v1`.
    pub fn new(
        account_id: &str,
        name: &str,
        path: &str,
        description: Option<&str>,
        document: &str,
    ) -> ManagedPolicy {
        let now = ids::now();
        ManagedPolicy {
            policy_id: ids::unique_id(ids::prefix::POLICY),
            account_id: account_id.to_string(),
            name: name.to_string(),
            path: path.to_string(),
            default_version_id: "v1".to_string(),
            next_version: 2,
            is_attachable: true,
            description: description.map(str::to_string),
            create_date: now,
            update_date: now,
            versions: vec![PolicyVersion {
                version_id: "v1".to_string(),
                document: document.to_string(),
                create_date: now,
            }],
            tags: Vec::new(),
        }
    }

    /// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`.
    pub fn arn(&self) -> String {
        iam_arn(&self.account_id, "policy", &self.path, &self.name)
    }

    /// The default version (always present for a stored policy).
    pub fn default_version(&self) -> Option<&PolicyVersion> {
        self.version(&self.default_version_id)
    }

    /// The version with that ID (`v3`).
    pub fn version(&self, version_id: &str) -> Option<&PolicyVersion> {
        self.versions.iter().find(|v| v.version_id == version_id)
    }
}

/// The account's password policy (what new console passwords must satisfy).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_password_length: i64,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    pub max_password_age: Option<i64>,
    pub password_reuse_prevention: Option<i64>,
    /// `None` when UpdateAccountPasswordPolicy did not say (AWS then omits `HardExpiry`).
    #[serde(default)]
    pub hard_expiry: Option<bool>,
}

impl PasswordPolicy {
    /// Whether passwords expire (AWS's `ExpirePasswords`: a `MaxPasswordAge` is set).
    pub fn expire_passwords(&self) -> bool {
        self.max_password_age.is_some_and(|d| d > 0)
    }

    /// When a password set at `changed` (unix seconds) expires, if passwords expire.
    pub fn expiry(&self, changed: i64) -> Option<i64> {
        self.max_password_age
            .filter(|&d| d > 0)
            .map(|d| changed.saturating_add(d.saturating_mul(86_400)))
    }
}

/// What an account has beside its named entities: the root user's own access keys, the password
/// policy, the account alias, when the credential report was last generated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub account_id: String,
    #[serde(default)]
    pub root_access_keys: Vec<AccessKey>,
    /// The root user's signing certificates.
    #[serde(default)]
    pub root_signing_certificates: Vec<SigningCertificate>,
    #[serde(default)]
    pub password_policy: Option<PasswordPolicy>,
    #[serde(default)]
    pub outbound_federation: Option<OutboundFederation>,
    /// The account alias (AWS allows one; unique across all accounts).
    #[serde(default)]
    pub alias: Option<String>,
    /// When GenerateCredentialReport last started a report (unix seconds).
    #[serde(default)]
    pub credential_report: Option<i64>,
    /// The last use of the default account's configured root key (`--root-access-key`, not one
    /// of `root_access_keys`), written by the background flush like every key's last use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key_last_used: Option<KeyLastUsed>,
    /// When the root user last logged in to the web console (unix seconds): the credential
    /// report's `password_last_used`, AWS's column for the root user's console sign-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_console_last_used: Option<i64>,
    /// The version of the tokens STS's global endpoint issues (SetSecurityTokenServicePreferences:
    /// 1 for `v1Token`, 2 for `v2Token`); `None` is AWS's default, 1.
    #[serde(default)]
    pub global_endpoint_token_version: Option<u8>,
}

impl AccountSettings {
    /// The settings of an account nothing was set for yet.
    pub fn empty(account_id: &str) -> AccountSettings {
        AccountSettings {
            account_id: account_id.to_string(),
            ..Default::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The shape every family shares
// ---------------------------------------------------------------------------------------------

/// An entity family: how it is named, found, stored and indexed.
pub trait Entity: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Its `kind` in SQLite's `records` table.
    const KIND: &'static str;
    /// Its unique ID (`AIDA…`).
    fn id(&self) -> &str;
    /// Its name, unique case-insensitively in its account; listings are ordered by it.
    fn name(&self) -> &str;
    /// Its path (`/` when the family has none).
    fn path(&self) -> &str;
    fn account_id(&self) -> &str;
    fn table(account: &Account) -> &Table<Self>;
    fn table_mut(account: &mut Account) -> &mut Table<Self>;
    /// Adds (`add`) or removes what this entity contributes to the reverse indexes.
    fn index(&self, _ix: &mut Indexes<'_>, _add: bool) {}
    /// Gives back the spare capacity of its lists before it is stored (a list decoded or pushed
    /// to holds room for 4 items: with 100,000 users that was a sixth of the memory).
    fn shrink(&mut self) {}
}

/// An entity family that carries tags (TagX, UntagX, ListXTags).
pub trait Tagged: Entity {
    /// How the family compares tag keys.
    const TAG_KEYS: TagKeys = TagKeys::CaseInsensitive;
    fn tags(&self) -> &[Tag];
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
}

macro_rules! tagged {
    ($($t:ty),*) => {$(
        impl Tagged for $t {
            fn tags(&self) -> &[Tag] {
                &self.tags
            }
            fn tags_mut(&mut self) -> &mut Vec<Tag> {
                &mut self.tags
            }
        }
    )*};
}

tagged!(
    User,
    Role,
    InstanceProfile,
    MfaDevice,
    OidcProvider,
    SamlProvider,
    ServerCertificate
);

/// The reverse indexes an entity's [`Entity::index`] maintains.
pub struct Indexes<'a> {
    pub links: &'a mut Links,
    /// Access key ID → where the key is (model-wide: key IDs are globally unique).
    pub keys: &'a mut OrdMap<Key, KeyLoc>,
}

/// Where an access key lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyLoc {
    pub account_id: Key,
    /// `None` for a root key or a session's key.
    pub user_id: Option<Key>,
    /// A temporary (`ASIA…`) key: the [`Session`] with that ID.
    pub session: bool,
}

/// The keys of the model's maps and sets, compared as strings. Up to [`Key::INLINE`] bytes (every
/// unique ID, most names) are held inside the key itself: no allocation, and a comparison reads
/// the tree node it is in instead of following a pointer (that made loading 100,000 users slow).
/// Longer ones (ARNs, long names) are shared. Cheap to clone either way (a persistent map copies
/// the keys of a node it changes).
#[derive(Clone)]
pub struct Key(KeyRepr);

#[derive(Clone)]
enum KeyRepr {
    Inline { len: u8, bytes: [u8; Key::INLINE] },
    Shared(Arc<str>),
}

impl Key {
    /// The longest key held inline.
    pub const INLINE: usize = 22;

    pub fn new(s: &str) -> Key {
        if s.len() <= Key::INLINE {
            let mut bytes = [0u8; Key::INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Key(KeyRepr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            Key(KeyRepr::Shared(Arc::from(s)))
        }
    }

    /// The lowercased `s` (names compare case-insensitively), without allocating when it is short
    /// ASCII.
    pub fn lower(s: &str) -> Key {
        if s.len() <= Key::INLINE && s.is_ascii() {
            let mut bytes = [0u8; Key::INLINE];
            for (b, c) in bytes.iter_mut().zip(s.bytes()) {
                *b = c.to_ascii_lowercase();
            }
            Key(KeyRepr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            Key::new(&lower(s))
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyRepr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyRepr::Shared(s) => s.as_bytes(),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always a whole `&str` copied in: valid UTF-8.
            KeyRepr::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            KeyRepr::Shared(s) => s,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Byte order, the order of `str` (so that lookups by `&str` agree with it).
impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        match (&self.0, &other.0) {
            // Zero-padded: comparing the whole buffers, then the lengths, is the byte order of the
            // strings (a string sorts before the longer ones it starts). As two big-endian
            // integers: no call, no loop.
            (KeyRepr::Inline { len: a, bytes: x }, KeyRepr::Inline { len: b, bytes: y }) => {
                let split = |k: &[u8; Key::INLINE]| {
                    let mut hi = [0u8; 16];
                    let mut lo = [0u8; 8];
                    hi.copy_from_slice(&k[..16]);
                    lo[..Key::INLINE - 16].copy_from_slice(&k[16..]);
                    (u128::from_be_bytes(hi), u64::from_be_bytes(lo))
                };
                split(x).cmp(&split(y)).then(a.cmp(b))
            }
            _ => self.as_bytes().cmp(other.as_bytes()),
        }
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key::new(s)
    }
}

fn key(s: &str) -> Key {
    Key::new(s)
}

/// The reverse relations of an account.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// (group ID, user ID) for every membership.
    pub members: OrdSet<(Key, Key)>,
    /// (policy ID, owner kind, owner ID) for every managed-policy attachment.
    pub attachments: OrdSet<(Key, PrincipalKind, Key)>,
    /// (boundary policy ARN, owner kind, owner ID) for every permissions boundary in use.
    pub boundaries: OrdSet<(Key, PrincipalKind, Key)>,
    /// (role ID, instance profile ID) for every role in an instance profile.
    pub profiles: OrdSet<(Key, Key)>,
    /// (user ID, serial number) for every MFA device enabled for a user.
    pub mfa: OrdSet<(Key, Key)>,
}

fn set_op<T: Ord + Clone>(set: &mut OrdSet<T>, v: T, add: bool) {
    if add {
        set.insert(v);
    } else {
        set.remove(&v);
    }
}

fn index_keys(ix: &mut Indexes<'_>, keys: &[AccessKey], loc: &KeyLoc, add: bool) {
    for k in keys {
        if add {
            ix.keys.insert(key(&k.access_key_id), loc.clone());
        } else {
            ix.keys.remove(&key(&k.access_key_id));
        }
    }
}

/// The accessors an entity family with `name`, `path` and `account_id` fields shares.
macro_rules! named_entity {
    ($kind:literal, $id:ident, $table:ident) => {
        const KIND: &'static str = $kind;
        fn id(&self) -> &str {
            &self.$id
        }
        fn name(&self) -> &str {
            &self.name
        }
        fn path(&self) -> &str {
            &self.path
        }
        fn account_id(&self) -> &str {
            &self.account_id
        }
        fn table(a: &Account) -> &Table<Self> {
            &a.$table
        }
        fn table_mut(a: &mut Account) -> &mut Table<Self> {
            &mut a.$table
        }
    };
}

/// Indexes (or unindexes) a holder's attachments and permissions boundary.
pub fn index_held<E: Holder>(e: &E, ix: &mut Indexes<'_>, add: bool) {
    for p in e.attached() {
        set_op(
            &mut ix.links.attachments,
            (key(p), E::PRINCIPAL, key(e.id())),
            add,
        );
    }
    if let Some(b) = e.boundary() {
        set_op(
            &mut ix.links.boundaries,
            (key(b), E::PRINCIPAL, key(e.id())),
            add,
        );
    }
}

impl Entity for User {
    named_entity!("user", user_id, users);
    fn shrink(&mut self) {
        self.tags.shrink_to_fit();
        self.access_keys.shrink_to_fit();
        self.password_history.shrink_to_fit();
        self.groups.shrink_to_fit();
        self.attached.shrink_to_fit();
        self.inline.0.shrink_to_fit();
        self.ssh_public_keys.shrink_to_fit();
        self.signing_certificates.shrink_to_fit();
        self.service_credentials.shrink_to_fit();
    }
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        for g in &self.groups {
            set_op(&mut ix.links.members, (key(g), key(&self.user_id)), add);
        }
        index_held(self, ix, add);
        let loc = KeyLoc {
            account_id: key(&self.account_id),
            user_id: Some(key(&self.user_id)),
            session: false,
        };
        index_keys(ix, &self.access_keys, &loc, add);
    }
}

impl Entity for Group {
    named_entity!("group", group_id, groups);
    fn shrink(&mut self) {
        self.attached.shrink_to_fit();
        self.inline.0.shrink_to_fit();
    }
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        index_held(self, ix, add);
    }
}

impl Entity for Role {
    named_entity!("role", role_id, roles);
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        index_held(self, ix, add);
    }
}

impl Entity for InstanceProfile {
    named_entity!("instance-profile", instance_profile_id, instance_profiles);
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        for r in &self.roles {
            set_op(
                &mut ix.links.profiles,
                (key(r), key(&self.instance_profile_id)),
                add,
            );
        }
    }
}

impl Entity for ServerCertificate {
    named_entity!(
        "server-certificate",
        server_certificate_id,
        server_certificates
    );
}

impl Entity for Session {
    const KIND: &'static str = "session";
    fn id(&self) -> &str {
        &self.access_key_id
    }
    fn name(&self) -> &str {
        &self.access_key_id
    }
    fn path(&self) -> &str {
        "/"
    }
    fn account_id(&self) -> &str {
        &self.account_id
    }
    fn table(a: &Account) -> &Table<Self> {
        &a.sessions
    }
    fn table_mut(a: &mut Account) -> &mut Table<Self> {
        &mut a.sessions
    }
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        if add {
            ix.keys.insert(
                key(&self.access_key_id),
                KeyLoc {
                    account_id: key(&self.account_id),
                    user_id: None,
                    session: true,
                },
            );
        } else {
            ix.keys.remove(self.access_key_id.as_str());
        }
    }
}

/// The accessors of a family without a path, identified and named by one field.
macro_rules! keyed_entity {
    ($kind:literal, $id:ident, $table:ident) => {
        const KIND: &'static str = $kind;
        fn id(&self) -> &str {
            &self.$id
        }
        fn name(&self) -> &str {
            &self.$id
        }
        fn path(&self) -> &str {
            "/"
        }
        fn account_id(&self) -> &str {
            &self.account_id
        }
        fn table(a: &Account) -> &Table<Self> {
            &a.$table
        }
        fn table_mut(a: &mut Account) -> &mut Table<Self> {
            &mut a.$table
        }
    };
}

impl Entity for OidcProvider {
    keyed_entity!("oidc-provider", url, oidc_providers);
}

impl Entity for IssuerKeys {
    keyed_entity!("issuer-keys", issuer, issuer_keys);
}

impl Entity for AccessReport {
    keyed_entity!("access-report", job_id, access_reports);
}

impl Entity for DelegationRequest {
    keyed_entity!("delegation-request", id, delegation_requests);
}

impl Entity for MfaDevice {
    const KIND: &'static str = "mfa-device";
    fn id(&self) -> &str {
        &self.serial_number
    }
    fn name(&self) -> &str {
        &self.serial_number
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn account_id(&self) -> &str {
        &self.account_id
    }
    fn table(a: &Account) -> &Table<Self> {
        &a.mfa_devices
    }
    fn table_mut(a: &mut Account) -> &mut Table<Self> {
        &mut a.mfa_devices
    }
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        if let Some(u) = &self.user_id {
            set_op(&mut ix.links.mfa, (key(u), key(&self.serial_number)), add);
        }
    }
}

impl Entity for SamlProvider {
    const KIND: &'static str = "saml-provider";
    fn id(&self) -> &str {
        &self.uuid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn path(&self) -> &str {
        "/"
    }
    fn account_id(&self) -> &str {
        &self.account_id
    }
    fn table(a: &Account) -> &Table<Self> {
        &a.saml_providers
    }
    fn table_mut(a: &mut Account) -> &mut Table<Self> {
        &mut a.saml_providers
    }
}

impl Entity for ManagedPolicy {
    named_entity!("policy", policy_id, policies);
    fn shrink(&mut self) {
        self.tags.shrink_to_fit();
        self.versions.shrink_to_fit();
    }
}

impl Entity for AccountSettings {
    const KIND: &'static str = "account";
    fn id(&self) -> &str {
        "account"
    }
    fn name(&self) -> &str {
        "account"
    }
    fn path(&self) -> &str {
        "/"
    }
    fn account_id(&self) -> &str {
        &self.account_id
    }
    fn table(a: &Account) -> &Table<Self> {
        &a.settings
    }
    fn table_mut(a: &mut Account) -> &mut Table<Self> {
        &mut a.settings
    }
    fn index(&self, ix: &mut Indexes<'_>, add: bool) {
        let loc = KeyLoc {
            account_id: key(&self.account_id),
            user_id: None,
            session: false,
        };
        index_keys(ix, &self.root_access_keys, &loc, add);
    }
}

/// The entities of one family in one account.
#[derive(Debug, Clone)]
pub struct Table<E> {
    /// Lowercased name → entity.
    by_name: OrdMap<Key, Arc<E>>,
    /// Unique ID → entity.
    by_id: OrdMap<Key, Arc<E>>,
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Table {
            by_name: OrdMap::new(),
            by_id: OrdMap::new(),
        }
    }
}

impl<E: Entity> Table<E> {
    /// The entity of that name (case-insensitively).
    pub fn get(&self, name: &str) -> Option<&Arc<E>> {
        self.by_name.get(&Key::lower(name))
    }

    /// The entity with that unique ID.
    pub fn get_by_id(&self, id: &str) -> Option<&Arc<E>> {
        self.by_id.get(&key(id))
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every entity in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<E>> {
        self.by_name.values()
    }

    /// The entities in name order after `marker` (a lowercased name), from the first when `None`.
    pub fn after(&self, marker: Option<&str>) -> impl Iterator<Item = &Arc<E>> {
        self.range(marker.map_or(Bound::Unbounded, Bound::Excluded))
    }

    /// The entities in name order from `from` (a lowercased name).
    pub fn range(&self, from: Bound<&str>) -> impl Iterator<Item = &Arc<E>> {
        self.keyed_range(from).map(|(_, e)| e)
    }

    /// The entities in name order after `marker` (a lowercased name), each with its lowercased
    /// name: the map's key, read from the tree node without following a pointer to the entity
    /// (a search over every name stays in the tree).
    pub fn keyed_after(&self, marker: Option<&str>) -> impl Iterator<Item = (&str, &Arc<E>)> {
        self.keyed_range(marker.map_or(Bound::Unbounded, Bound::Excluded))
    }

    fn keyed_range(&self, from: Bound<&str>) -> impl Iterator<Item = (&str, &Arc<E>)> {
        let from = from.map(key);
        self.by_name
            .range::<_, Key>((from, Bound::Unbounded))
            .map(|(k, e)| (k.as_str(), e))
    }

    /// One page of the entities whose path starts with `path_prefix` (case-sensitive), in name
    /// order, after `marker` (the lowercased name of the last entity of the previous page).
    pub fn list(
        &self,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: i64,
    ) -> Page<Arc<E>> {
        self.page(marker, max_items, |e| {
            path_prefix.is_none_or(|p| e.path().starts_with(p))
        })
    }

    /// One page of the entities `keep` accepts, in name order, after `marker`.
    pub fn page(
        &self,
        marker: Option<&str>,
        max_items: i64,
        keep: impl Fn(&E) -> bool,
    ) -> Page<Arc<E>> {
        Page::take(
            self.after(marker).filter(|e| keep(e)).cloned(),
            max_items,
            |e| lower(e.name()),
        )
    }

    fn insert_raw(&mut self, e: Arc<E>) {
        let l = Key::lower(e.name());
        self.by_id.insert(key(e.id()), e.clone());
        self.by_name.insert(l, e);
    }

    fn remove_raw(&mut self, id: &str) -> Option<Arc<E>> {
        let l = Key::lower(self.by_id.remove(&key(id))?.name());
        self.by_name.remove(&l)
    }
}

/// Everything one account holds.
#[derive(Debug, Clone, Default)]
pub struct Account {
    pub users: Table<User>,
    pub groups: Table<Group>,
    pub roles: Table<Role>,
    pub instance_profiles: Table<InstanceProfile>,
    pub saml_providers: Table<SamlProvider>,
    pub server_certificates: Table<ServerCertificate>,
    pub policies: Table<ManagedPolicy>,
    /// Temporary credentials issued by STS, by access key ID.
    pub sessions: Table<Session>,
    pub oidc_providers: Table<OidcProvider>,
    /// Issuer keys given to localiam (only in [`SHARED_ACCOUNT`]).
    pub issuer_keys: Table<IssuerKeys>,
    /// Delegation requests, by request ID (only in [`SHARED_ACCOUNT`]).
    pub delegation_requests: Table<DelegationRequest>,
    /// Virtual MFA devices, by serial number.
    pub mfa_devices: Table<MfaDevice>,
    /// Service last accessed reports, by job ID.
    pub access_reports: Table<AccessReport>,
    pub settings: Table<AccountSettings>,
    pub links: Links,
}

/// Something done to every table of an account ([`Account::visit`]): copying a whole state,
/// exporting it.
pub trait TableVisitor {
    fn table<E: Entity>(&mut self, table: &Table<E>);
}

impl Account {
    /// Calls `v` with every table of the account (a new family adds its line here).
    pub fn visit(&self, v: &mut impl TableVisitor) {
        v.table(&self.users);
        v.table(&self.groups);
        v.table(&self.roles);
        v.table(&self.instance_profiles);
        v.table(&self.saml_providers);
        v.table(&self.server_certificates);
        v.table(&self.policies);
        v.table(&self.sessions);
        v.table(&self.oidc_providers);
        v.table(&self.issuer_keys);
        v.table(&self.delegation_requests);
        v.table(&self.mfa_devices);
        v.table(&self.access_reports);
        v.table(&self.settings);
    }

    /// The users of a group (IDs), in no particular order.
    pub fn member_ids<'a>(&'a self, group_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let from = (key(group_id), key(""));
        self.links
            .members
            .range(from..)
            .take_while(move |(g, _)| &**g == group_id)
            .map(|(_, u)| &**u)
    }

    /// The users of a group, ordered by name.
    pub fn members(&self, group_id: &str) -> Vec<Arc<User>> {
        let mut out: Vec<Arc<User>> = self
            .member_ids(group_id)
            .filter_map(|u| self.users.get_by_id(u).cloned())
            .collect();
        out.sort_by_cached_key(|u| lower(&u.name));
        out
    }

    /// The groups of a user, ordered by name.
    pub fn groups_of(&self, user: &User) -> Vec<Arc<Group>> {
        let mut out: Vec<Arc<Group>> = user
            .groups
            .iter()
            .filter_map(|g| self.groups.get_by_id(g).cloned())
            .collect();
        out.sort_by_cached_key(|g| lower(&g.name));
        out
    }

    /// Who a policy is attached to: (kind, owner ID).
    pub fn attachments_of<'a>(
        &'a self,
        policy_id: &'a str,
    ) -> impl Iterator<Item = (PrincipalKind, &'a str)> + 'a {
        let from = (key(policy_id), PrincipalKind::User, key(""));
        self.links
            .attachments
            .range(from..)
            .take_while(move |(p, _, _)| &**p == policy_id)
            .map(|(_, k, o)| (*k, &**o))
    }

    /// How many users, groups and roles of this account a policy is attached to.
    pub fn attachment_count(&self, policy_id: &str) -> usize {
        self.attachments_of(policy_id).count()
    }

    /// How many users and roles of this account use the policy as permissions boundary.
    pub fn boundary_usage_count(&self, policy_arn: &str) -> usize {
        self.boundary_holders(policy_arn).count()
    }

    /// The users and roles that use the policy as permissions boundary: (kind, ID).
    pub fn boundary_holders<'a>(
        &'a self,
        policy_arn: &'a str,
    ) -> impl Iterator<Item = (PrincipalKind, &'a str)> + 'a {
        let from = (key(policy_arn), PrincipalKind::User, key(""));
        self.links
            .boundaries
            .range(from..)
            .take_while(move |(a, _, _)| &**a == policy_arn)
            .map(|(_, k, o)| (*k, &**o))
    }

    /// The user, group or role of that kind with that unique ID, with the policies it holds.
    pub fn held(&self, kind: PrincipalKind, id: &str) -> Option<Held<'_>> {
        self.find_held(kind, HolderKey::Id(id))
    }

    /// The user, group or role of that kind and name (case-insensitively).
    pub fn held_by_name(&self, kind: PrincipalKind, name: &str) -> Option<Held<'_>> {
        self.find_held(kind, HolderKey::Name(name))
    }

    fn find_held(&self, kind: PrincipalKind, k: HolderKey<'_>) -> Option<Held<'_>> {
        fn find<'a, E: Holder>(t: &'a Table<E>, k: HolderKey<'_>) -> Option<Held<'a>> {
            let e = match k {
                HolderKey::Id(id) => t.get_by_id(id),
                HolderKey::Name(name) => t.get(name),
            }?;
            Some(Held {
                kind: E::PRINCIPAL,
                id: e.id(),
                name: e.name(),
                path: e.path(),
                inline: e.inline(),
                attached: e.attached(),
                boundary: e.boundary(),
            })
        }
        match kind {
            PrincipalKind::User => find(&self.users, k),
            PrincipalKind::Group => find(&self.groups, k),
            PrincipalKind::Role => find(&self.roles, k),
        }
    }

    /// The MFA devices enabled for a user (serial numbers), in serial-number order.
    pub fn mfa_serials_of<'a>(&'a self, user_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let from = (key(user_id), key(""));
        self.links
            .mfa
            .range(from..)
            .take_while(move |(u, _)| &**u == user_id)
            .map(|(_, s)| &**s)
    }

    /// The instance profiles a role is in (IDs), in no particular order.
    pub fn profile_ids_of_role<'a>(
        &'a self,
        role_id: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        let from = (key(role_id), key(""));
        self.links
            .profiles
            .range(from..)
            .take_while(move |(r, _)| &**r == role_id)
            .map(|(_, p)| &**p)
    }

    /// The managed policy with that ARN: the account's own, or AWS's (`arn:aws:iam::aws:policy/…`,
    /// from the catalogue every account shares).
    pub fn policy_by_arn(&self, arn: &str) -> Option<&Arc<ManagedPolicy>> {
        let (account, path, name) = parse_policy_arn(arn)?;
        if account == AWS_ACCOUNT {
            return aws_managed::catalogue().get_by_arn(arn);
        }
        self.policies
            .get(name)
            .filter(|p| p.path == path && p.account_id == account)
    }

    /// The managed policy with that ID: the account's own, or AWS's.
    pub fn policy_by_id(&self, id: &str) -> Option<&Arc<ManagedPolicy>> {
        self.policies
            .get_by_id(id)
            .or_else(|| aws_managed::catalogue().get_by_id(id))
    }

    /// The account's settings (root keys, …), default when never written.
    pub fn settings(&self) -> Option<&Arc<AccountSettings>> {
        self.settings.get("account")
    }
}

/// A user, group or role and the policies it holds: inline ones, attached managed policy IDs, and
/// its permissions boundary.
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    pub kind: PrincipalKind,
    pub id: &'a str,
    pub name: &'a str,
    pub path: &'a str,
    pub inline: &'a InlinePolicies,
    pub attached: &'a [String],
    pub boundary: Option<&'a str>,
}

/// How [`Account::find_held`] looks a holder up.
#[derive(Clone, Copy)]
enum HolderKey<'a> {
    Id(&'a str),
    Name(&'a str),
}

/// Splits a policy ARN into (account, path, name). `None` when it is not a policy ARN.
pub fn parse_policy_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("policy")?;
    if !rest.starts_with('/') {
        return None;
    }
    let cut = rest.rfind('/')?;
    let (path, name) = (&rest[..=cut], &rest[cut + 1..]);
    if account.is_empty() || name.is_empty() {
        return None;
    }
    Some((account, path, name))
}

/// The state of every account: one immutable snapshot.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Each account behind its own `Arc`: the first change of a batch to an account copies the
    /// map's node of pointers and that one account, not a node of whole accounts (792 bytes each).
    accounts: OrdMap<Key, Arc<Account>>,
    keys: OrdMap<Key, KeyLoc>,
}

static EMPTY_ACCOUNT: std::sync::LazyLock<Account> = std::sync::LazyLock::new(Account::default);

impl Model {
    /// The account's state (empty when nothing was ever written to it).
    pub fn account(&self, account_id: &str) -> &Account {
        self.accounts
            .get(&key(account_id))
            .map_or(&EMPTY_ACCOUNT, |a| a)
    }

    /// Every account that holds state, with its ID.
    pub fn accounts(&self) -> impl Iterator<Item = (&str, &Account)> {
        self.accounts.iter().map(|(id, a)| (id.as_str(), &**a))
    }

    /// Where an access key (user or root) is.
    pub fn key(&self, access_key_id: &str) -> Option<&KeyLoc> {
        self.keys.get(&key(access_key_id))
    }

    /// The account whose alias this is (aliases are unique across accounts).
    pub fn alias_owner(&self, alias: &str) -> Option<&str> {
        self.accounts.iter().find_map(|(id, a)| {
            a.settings()
                .is_some_and(|s| s.alias.as_deref() == Some(alias))
                .then_some(id.as_str())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Changing the model
// ---------------------------------------------------------------------------------------------

/// One change of the durable record.
#[derive(Debug, Clone)]
pub enum Op {
    /// Create or replace a record.
    Put {
        account: String,
        kind: &'static str,
        id: String,
        body: String,
    },
    /// Delete a record.
    Delete {
        account: String,
        kind: &'static str,
        id: String,
    },
    /// Delete every record.
    Clear,
}

/// The changes of one API call, applied to the writer's working model. Everything a call reads
/// inside its write (through [`Tx::model`] / [`Tx::account`]) includes its own earlier changes.
pub struct Tx<'a> {
    model: &'a mut Model,
    ops: &'a mut Vec<Op>,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(model: &'a mut Model, ops: &'a mut Vec<Op>) -> Self {
        Tx { model, ops }
    }

    /// The model as this call has changed it so far.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// An account as this call has changed it so far.
    pub fn account(&self, account_id: &str) -> &Account {
        self.model.account(account_id)
    }

    /// Inserts a new entity: `UniqueViolation` when its name (case-insensitively) or ID is taken.
    pub fn insert<E: Entity>(&mut self, e: E) -> StoreResult<Arc<E>> {
        let table = E::table(self.model.account(e.account_id()));
        if table.get(e.name()).is_some() || table.get_by_id(e.id()).is_some() {
            return Err(StoreError::UniqueViolation(format!(
                "{} {} exists",
                E::KIND,
                e.name()
            )));
        }
        Ok(self.store(None, e))
    }

    /// Applies `f` to a copy of the entity with that ID and stores the result: `NotFound` when
    /// there is none, `UniqueViolation` when `f` renamed it to a name another entity has.
    pub fn update<E: Entity, R>(
        &mut self,
        account_id: &str,
        id: &str,
        f: impl FnOnce(&mut E) -> R,
    ) -> StoreResult<(Arc<E>, R)> {
        let old = E::table(self.model.account(account_id))
            .get_by_id(id)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let mut new = (*old).clone();
        let r = f(&mut new);
        if lower(new.name()) != lower(old.name()) {
            if let Some(other) = E::table(self.model.account(account_id)).get(new.name()) {
                if other.id() != id {
                    return Err(StoreError::UniqueViolation(format!(
                        "{} {} exists",
                        E::KIND,
                        new.name()
                    )));
                }
            }
        }
        Ok((self.store(Some(&old), new), r))
    }

    /// Like [`Tx::update`], creating the entity from `init` when it does not exist.
    pub fn upsert<E: Entity, R>(
        &mut self,
        account_id: &str,
        id: &str,
        init: impl FnOnce() -> E,
        f: impl FnOnce(&mut E) -> R,
    ) -> StoreResult<(Arc<E>, R)> {
        if E::table(self.model.account(account_id))
            .get_by_id(id)
            .is_none()
        {
            self.insert(init())?;
        }
        self.update(account_id, id, f)
    }

    /// Changes the account's settings, creating them when nothing was set yet.
    pub fn update_settings<R>(
        &mut self,
        account_id: &str,
        f: impl FnOnce(&mut AccountSettings) -> R,
    ) -> StoreResult<R> {
        self.upsert(
            account_id,
            "account",
            || AccountSettings::empty(account_id),
            f,
        )
        .map(|(_, r)| r)
    }

    /// Changes the inline and attached policies of a user, group or role: `NotFound` when it does
    /// not exist.
    pub fn update_held<R>(
        &mut self,
        account_id: &str,
        kind: PrincipalKind,
        id: &str,
        f: impl FnOnce(&mut InlinePolicies, &mut Vec<String>) -> R,
    ) -> StoreResult<R> {
        fn update<E: Holder, R>(
            tx: &mut Tx<'_>,
            account_id: &str,
            id: &str,
            f: impl FnOnce(&mut InlinePolicies, &mut Vec<String>) -> R,
        ) -> StoreResult<R> {
            tx.update(account_id, id, |e: &mut E| {
                let (inline, attached) = e.held_mut();
                f(inline, attached)
            })
            .map(|(_, r)| r)
        }
        match kind {
            PrincipalKind::User => update::<User, R>(self, account_id, id, f),
            PrincipalKind::Group => update::<Group, R>(self, account_id, id, f),
            PrincipalKind::Role => update::<Role, R>(self, account_id, id, f),
        }
    }

    /// Removes the entity with that ID: `NotFound` when there is none.
    pub fn remove<E: Entity>(&mut self, account_id: &str, id: &str) -> StoreResult<Arc<E>> {
        let old = self.unload::<E>(account_id, id)?;
        self.ops.push(Op::Delete {
            account: account_id.to_string(),
            kind: E::KIND,
            id: id.to_string(),
        });
        Ok(old)
    }

    /// Removes an entity without recording it.
    fn unload<E: Entity>(&mut self, account_id: &str, id: &str) -> StoreResult<Arc<E>> {
        let Model { accounts, keys } = &mut *self.model;
        let account = Arc::make_mut(
            accounts
                .get_mut(&key(account_id))
                .ok_or(StoreError::NotFound)?,
        );
        let old = E::table_mut(account)
            .remove_raw(id)
            .ok_or(StoreError::NotFound)?;
        old.index(
            &mut Indexes {
                links: &mut account.links,
                keys,
            },
            false,
        );
        Ok(old)
    }

    /// Forgets everything (the admin reset).
    pub fn clear(&mut self) {
        *self.model = Model::default();
        self.ops.push(Op::Clear);
    }

    /// Puts every entity of `from` (another model: a seed's state) into this one, recording each.
    /// Entities with the same ID are replaced.
    pub fn put_all(&mut self, from: &Model) {
        struct Put<'t, 'a>(&'t mut Tx<'a>);
        impl TableVisitor for Put<'_, '_> {
            fn table<E: Entity>(&mut self, table: &Table<E>) {
                for e in table.iter() {
                    let old = E::table(self.0.account(e.account_id()))
                        .get_by_id(e.id())
                        .cloned();
                    self.0.store(old.as_ref(), (**e).clone());
                }
            }
        }
        for (_, account) in from.accounts() {
            account.visit(&mut Put(self));
        }
    }

    /// Puts `new` in place of `old` (same ID), keeping the indexes and recording the change.
    fn store<E: Entity>(&mut self, old: Option<&Arc<E>>, mut new: E) -> Arc<E> {
        new.shrink();
        let body = serde_json::to_string(&new).unwrap_or_default();
        self.ops.push(Op::Put {
            account: new.account_id().to_string(),
            kind: E::KIND,
            id: new.id().to_string(),
            body,
        });
        let new = Arc::new(new);
        self.load(old, new.clone());
        new
    }

    /// Puts an entity without recording it (loading from the database).
    pub(crate) fn load<E: Entity>(&mut self, old: Option<&Arc<E>>, new: Arc<E>) {
        let Model { accounts, keys } = &mut *self.model;
        let account = Arc::make_mut(accounts.entry(key(new.account_id())).or_default());
        let table = E::table_mut(account);
        if let Some(old) = old {
            table.remove_raw(old.id());
        }
        table.insert_raw(new.clone());
        let mut ix = Indexes {
            links: &mut account.links,
            keys,
        };
        if let Some(old) = old {
            old.index(&mut ix, false);
        }
        new.index(&mut ix, true);
    }
}

/// A decoded record, ready to be put into a model (decoding, the costly part, can run elsewhere).
pub(crate) type Loaded = Box<dyn FnOnce(&mut Tx<'_>) + Send>;

/// Decodes one record of the database. `Err` when the body does not parse.
pub(crate) fn decode_record(kind: &str, body: &str) -> Result<Loaded, String> {
    fn one<E: Entity>(body: &str) -> Result<Loaded, String> {
        let mut e: E = serde_json::from_str(body).map_err(|e| e.to_string())?;
        e.shrink();
        let e = Arc::new(e);
        Ok(Box::new(move |tx: &mut Tx<'_>| {
            let old = E::table(tx.account(e.account_id()))
                .get_by_id(e.id())
                .cloned();
            tx.load(old.as_ref(), e);
        }))
    }
    match kind {
        User::KIND => one::<User>(body),
        Group::KIND => one::<Group>(body),
        Role::KIND => one::<Role>(body),
        InstanceProfile::KIND => one::<InstanceProfile>(body),
        Session::KIND => one::<Session>(body),
        MfaDevice::KIND => one::<MfaDevice>(body),
        SamlProvider::KIND => one::<SamlProvider>(body),
        ServerCertificate::KIND => one::<ServerCertificate>(body),
        OidcProvider::KIND => one::<OidcProvider>(body),
        IssuerKeys::KIND => one::<IssuerKeys>(body),
        AccessReport::KIND => one::<AccessReport>(body),
        DelegationRequest::KIND => one::<DelegationRequest>(body),
        ManagedPolicy::KIND => one::<ManagedPolicy>(body),
        AccountSettings::KIND => one::<AccountSettings>(body),
        other => Err(format!("unknown record kind {other}")),
    }
}

/// Loads one record of the database into the model. `Err` when the body does not parse.
pub(crate) fn load_record(tx: &mut Tx<'_>, kind: &str, body: &str) -> Result<(), String> {
    decode_record(kind, body)?(tx);
    Ok(())
}

/// Applies recorded changes to a model without recording them again (the writer rebuilds its
/// working model this way when a call fails after it changed something).
pub(crate) fn replay(model: &mut Model, ops: &[Op]) -> Result<(), String> {
    fn remove<E: Entity>(tx: &mut Tx<'_>, account: &str, id: &str) {
        let _ = tx.unload::<E>(account, id);
    }
    let mut sink = Vec::new();
    let mut tx = Tx::new(model, &mut sink);
    for op in ops {
        match op {
            Op::Put { kind, body, .. } => load_record(&mut tx, kind, body)?,
            Op::Delete { account, kind, id } => match *kind {
                User::KIND => remove::<User>(&mut tx, account, id),
                Group::KIND => remove::<Group>(&mut tx, account, id),
                Role::KIND => remove::<Role>(&mut tx, account, id),
                InstanceProfile::KIND => remove::<InstanceProfile>(&mut tx, account, id),
                Session::KIND => remove::<Session>(&mut tx, account, id),
                OidcProvider::KIND => remove::<OidcProvider>(&mut tx, account, id),
                IssuerKeys::KIND => remove::<IssuerKeys>(&mut tx, account, id),
                AccessReport::KIND => remove::<AccessReport>(&mut tx, account, id),
                DelegationRequest::KIND => remove::<DelegationRequest>(&mut tx, account, id),
                MfaDevice::KIND => remove::<MfaDevice>(&mut tx, account, id),
                SamlProvider::KIND => remove::<SamlProvider>(&mut tx, account, id),
                ServerCertificate::KIND => remove::<ServerCertificate>(&mut tx, account, id),
                ManagedPolicy::KIND => remove::<ManagedPolicy>(&mut tx, account, id),
                AccountSettings::KIND => remove::<AccountSettings>(&mut tx, account, id),
                other => return Err(format!("unknown record kind {other}")),
            },
            Op::Clear => *tx.model = Model::default(),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx_run<R>(m: &mut Model, f: impl FnOnce(&mut Tx<'_>) -> R) -> (R, Vec<Op>) {
        let mut ops = Vec::new();
        let r = f(&mut Tx::new(m, &mut ops));
        (r, ops)
    }

    #[test]
    fn names_are_unique_case_insensitively_and_listed_in_order() {
        let mut m = Model::default();
        let (_, ops) = tx_run(&mut m, |tx| {
            tx.insert(User::new("1", "bob", "/")).unwrap();
            tx.insert(User::new("1", "Alice", "/x/")).unwrap();
            assert!(matches!(
                tx.insert(User::new("1", "ALICE", "/")),
                Err(StoreError::UniqueViolation(_))
            ));
            tx.insert(User::new("2", "alice", "/")).unwrap();
        });
        assert_eq!(ops.len(), 3);
        let a = m.account("1");
        let names: Vec<_> = a.users.iter().map(|u| u.name.clone()).collect();
        assert_eq!(names, ["Alice", "bob"]);
        let page = a.users.list(Some("/x"), None, 10);
        assert_eq!(page.items.len(), 1);
        let page = a.users.list(None, None, 1);
        assert_eq!(page.marker.as_deref(), Some("alice"));
        let next = a.users.list(None, page.marker.as_deref(), 1);
        assert_eq!(next.items[0].name, "bob");
        assert!(next.marker.is_none());
    }

    #[test]
    fn snapshots_do_not_see_later_changes() {
        let mut m = Model::default();
        tx_run(&mut m, |tx| tx.insert(User::new("1", "a", "/")).unwrap());
        let snapshot = m.clone();
        tx_run(&mut m, |tx| tx.insert(User::new("1", "b", "/")).unwrap());
        assert_eq!(snapshot.account("1").users.len(), 1);
        assert_eq!(m.account("1").users.len(), 2);
    }

    #[test]
    fn indexes_follow_updates_and_removals() {
        let mut m = Model::default();
        let (uid, gid, key) = tx_run(&mut m, |tx| {
            let g = tx.insert(Group::new("1", "devs", "/")).unwrap();
            let mut u = User::new("1", "a", "/");
            u.groups.push(g.group_id.clone());
            u.attached.push("ANPAX".into());
            let k = AccessKey::generate();
            u.access_keys.push(k.clone());
            let u = tx.insert(u).unwrap();
            (u.user_id.clone(), g.group_id.clone(), k.access_key_id)
        })
        .0;
        assert_eq!(m.account("1").member_ids(&gid).count(), 1);
        assert_eq!(m.account("1").attachment_count("ANPAX"), 1);
        assert_eq!(
            m.key(&key)
                .and_then(|l| l.user_id.as_deref().map(str::to_string)),
            Some(uid.clone())
        );
        tx_run(&mut m, |tx| {
            tx.update("1", &uid, |u: &mut User| {
                u.groups.clear();
                u.name = "renamed".into();
            })
            .unwrap();
        });
        assert_eq!(m.account("1").member_ids(&gid).count(), 0);
        assert!(m.account("1").users.get("a").is_none());
        assert!(m.account("1").users.get("RENAMED").is_some());
        tx_run(&mut m, |tx| tx.remove::<User>("1", &uid).unwrap());
        assert!(m.key(&key).is_none());
        assert_eq!(m.account("1").attachment_count("ANPAX"), 0);
    }

    #[test]
    fn rename_onto_another_name_is_refused() {
        let mut m = Model::default();
        tx_run(&mut m, |tx| {
            tx.insert(User::new("1", "a", "/")).unwrap();
            let b = tx.insert(User::new("1", "b", "/")).unwrap();
            let r = tx.update("1", &b.user_id, |u: &mut User| u.name = "A".into());
            assert!(matches!(r, Err(StoreError::UniqueViolation(_))));
            // Only a change of case of its own name is fine.
            tx.update("1", &b.user_id, |u: &mut User| u.name = "B".into())
                .unwrap();
        });
        assert!(m.account("1").users.get("b").is_some());
    }

    #[test]
    fn records_round_trip() {
        let mut m = Model::default();
        let (_, ops) = tx_run(&mut m, |tx| {
            let mut u = User::new("1", "a", "/");
            u.tags.push(Tag::new("k", "v"));
            tx.insert(u).unwrap();
            tx.insert(ManagedPolicy::new("1", "p", "/", None, "{}"))
                .unwrap();
        });
        let mut copy = Model::default();
        let mut sink = Vec::new();
        let mut tx = Tx::new(&mut copy, &mut sink);
        for op in ops {
            if let Op::Put { kind, body, .. } = op {
                load_record(&mut tx, kind, &body).unwrap();
            }
        }
        assert_eq!(copy.account("1").users.get("a").unwrap().tags.len(), 1);
        assert_eq!(copy.account("1").policies.len(), 1);
        assert!(sink.is_empty());
    }

    #[test]
    fn replaying_ops_rebuilds_the_same_model() {
        let mut m = Model::default();
        let start = m.clone();
        let ((uid, gid), ops) = tx_run(&mut m, |tx| {
            let g = tx.insert(Group::new("1", "g", "/")).unwrap();
            let mut u = User::new("1", "a", "/");
            u.groups.push(g.group_id.clone());
            u.access_keys.push(AccessKey::generate());
            let u = tx.insert(u).unwrap();
            tx.insert(User::new("1", "b", "/")).unwrap();
            tx.update("1", &u.user_id, |u: &mut User| u.name = "c".into())
                .unwrap();
            let b = tx.account("1").users.get("b").unwrap().user_id.clone();
            tx.remove::<User>("1", &b).unwrap();
            (u.user_id.clone(), g.group_id.clone())
        });
        let mut rebuilt = start;
        replay(&mut rebuilt, &ops).unwrap();
        let a = rebuilt.account("1");
        let names: Vec<_> = a.users.iter().map(|u| u.name.clone()).collect();
        assert_eq!(names, ["c"]);
        assert_eq!(a.member_ids(&gid).collect::<Vec<_>>(), [uid.as_str()]);
        let key = &a.users.get("c").unwrap().access_keys[0].access_key_id;
        assert!(rebuilt.key(key).is_some());
        assert_eq!(
            a.member_ids(&gid).count(),
            m.account("1").member_ids(&gid).count()
        );
    }

    #[test]
    fn keys_sort_like_their_strings() {
        let words = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "b",
            "AIDAXXXXXXXXXXXXXXXX1",
            "AIDAXXXXXXXXXXXXXXXX12",
            "AIDAXXXXXXXXXXXXXXXX123",
            "arn:aws:iam::123456789012:policy/x",
            "é",
            "zz",
        ];
        for a in words {
            for b in words {
                assert_eq!(Key::new(a).cmp(&Key::new(b)), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(Key::new(a) == Key::new(b), a == b);
            }
            assert_eq!(&*Key::new(a), a);
            assert_eq!(&*Key::lower(a), lower(a));
        }
    }

    #[test]
    fn tags_merge_case_insensitively() {
        let mut t = vec![Tag::new("Env", "a")];
        merge_tags(
            &mut t,
            &[Tag::new("env", "b"), Tag::new("x", "y")],
            TagKeys::CaseInsensitive,
        );
        assert_eq!(t, vec![Tag::new("env", "b"), Tag::new("x", "y")]);
        remove_tags(&mut t, &["ENV".into()], TagKeys::CaseInsensitive);
        assert_eq!(t, vec![Tag::new("x", "y")]);
    }
}

//! The request being decided: who (principal), what (action), on what (resource), and the
//! request context (condition keys).

use crate::arena::Arena;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::values::Addr;

/// What kind of principal makes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The root user of an account (`arn:aws:iam::ACCOUNT:root`).
    Root,
    /// An IAM user (`arn:aws:iam::ACCOUNT:user/PATH/NAME`).
    User,
    /// An STS role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`); set `role_arn`.
    AssumedRole,
    /// An STS federated user session (`arn:aws:sts::ACCOUNT:federated-user/NAME`).
    FederatedUser,
    /// An AWS service principal; `arn` holds the service name, e.g. `ec2.amazonaws.com`.
    Service,
    /// A web-identity or SAML federated principal; `arn` holds the provider
    /// (`cognito-identity.amazonaws.com`, `arn:aws:iam::ACCOUNT:saml-provider/NAME`, …).
    Federated,
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKind {
    /// The value AWS puts in `aws:PrincipalType`.
    pub fn principal_type(self) -> &'static str {
        match self {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "WebIdentityUser",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }

    /// Whether identity-based policies can apply to this kind of principal at all.
    pub(crate) fn has_identity_policies(self) -> bool {
        matches!(
            self,
            PrincipalKind::User | PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
        )
    }
}

/// The calling principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The principal's ARN (service name for `Service`, provider for `Federated`, empty for
    /// `Anonymous`).
    pub arn: String,
    /// The 12-digit account the principal belongs to (empty for service/federated/anonymous).
    pub account: String,
    /// For `AssumedRole`: the role's ARN (with its path), `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub role_arn: Option<String>,
    /// The unique ID (`AIDA…` for users, `AROA…:session` for role sessions, the account for root).
    pub user_id: String,
    /// The friendly name (IAM users only: `aws:username`).
    pub username: Option<String>,
    /// Principal tags (`aws:PrincipalTag/KEY`).
    pub tags: Vec<(String, String)>,
}

impl Principal {
    fn bare(kind: PrincipalKind, arn: String, account: String) -> Principal {
        Principal {
            kind,
            arn,
            account,
            role_arn: None,
            user_id: String::new(),
            username: None,
            tags: Vec::new(),
        }
    }

    /// The root user of `account`.
    pub fn root(account: &str) -> Principal {
        let mut p = Principal::bare(
            PrincipalKind::Root,
            format!("arn:aws:iam::{account}:root"),
            account.to_string(),
        );
        p.user_id = account.to_string();
        p
    }

    /// An IAM user.
    pub fn user(arn: &str, user_id: &str) -> Principal {
        let account = arn_account(arn).unwrap_or_default().to_string();
        let mut p = Principal::bare(PrincipalKind::User, arn.to_string(), account);
        p.user_id = user_id.to_string();
        p.username = arn.rsplit('/').next().map(str::to_string);
        p
    }

    /// A role session: `session_arn` is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`,
    /// `role_arn` the role's IAM ARN, `user_id` `AROA…:SESSION`.
    pub fn assumed_role(session_arn: &str, role_arn: &str, user_id: &str) -> Principal {
        let account = arn_account(session_arn).unwrap_or_default().to_string();
        let mut p = Principal::bare(PrincipalKind::AssumedRole, session_arn.to_string(), account);
        p.role_arn = Some(role_arn.to_string());
        p.user_id = user_id.to_string();
        p
    }

    /// An AWS service principal such as `ec2.amazonaws.com`.
    pub fn service(name: &str) -> Principal {
        Principal::bare(PrincipalKind::Service, name.to_string(), String::new())
    }

    /// A web-identity / SAML federated principal, identified by its provider.
    pub fn federated(provider: &str) -> Principal {
        Principal::bare(
            PrincipalKind::Federated,
            provider.to_string(),
            String::new(),
        )
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Principal {
        Principal::bare(PrincipalKind::Anonymous, String::new(), String::new())
    }

    /// Builds a principal from an ARN: `…:root`, `…:user/…`, `…:assumed-role/R/S` (role ARN
    /// derived without path), `…:federated-user/N`. Unique IDs are left empty.
    pub fn from_arn(arn: &str) -> Option<Principal> {
        let mut parts = arn.splitn(6, ':');
        let (prefix, _partition, service, _region, account, rest) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if prefix != "arn" || account.is_empty() {
            return None;
        }
        match (service, rest) {
            ("iam", "root") => Some(Principal::root(account)),
            ("iam", r) if r.starts_with("user/") => Some(Principal::user(arn, "")),
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut it = r["assumed-role/".len()..].splitn(2, '/');
                let role = it.next().filter(|s| !s.is_empty())?;
                let partition = arn.split(':').nth(1).unwrap_or("aws");
                let role_arn = format!("arn:{partition}:iam::{account}:role/{role}");
                Some(Principal::assumed_role(arn, &role_arn, ""))
            }
            ("sts", r) if r.starts_with("federated-user/") => {
                let mut p = Principal::bare(
                    PrincipalKind::FederatedUser,
                    arn.to_string(),
                    account.to_string(),
                );
                p.username = None;
                Some(p)
            }
            _ => None,
        }
    }

    /// The value of `aws:PrincipalArn`: the role ARN for role sessions, else the ARN.
    pub fn principal_arn(&self) -> &str {
        match (&self.kind, &self.role_arn) {
            (PrincipalKind::AssumedRole, Some(r)) => r,
            _ => &self.arn,
        }
    }
}

fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

/// The request context: condition keys (case-insensitive) mapped to one or more string values.
/// Typed interpretation (numbers, dates, IPs, booleans) happens in the condition operators.
///
/// A context may stand on a shared *base* ([`Context::with_base`]): keys that are the same for
/// many requests (those derived from the principal) are built once and read through it; a key set
/// on the context itself hides the base's.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Sorted by lower-cased key.
    entries: Vec<ContextEntry>,
    base: Option<Arc<Context>>,
}

/// Contexts are equal when they hold the same keys and values, however they are layered.
impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.iter().count() == other.iter().count()
            && self.iter().all(|(k, v)| other.get_lower(k) == Some(v))
            && other.iter().all(|(k, v)| self.get_lower(k) == Some(v))
    }
}

impl Eq for Context {}

#[derive(Debug, Clone)]
struct ContextEntry {
    lower: Cow<'static, str>,
    hash: u64,
    /// Most keys have one value: kept inline, one allocation less per key.
    values: Values,
    /// The values read as IP addresses, once an `IpAddress` condition needed them (reset
    /// whenever the values change).
    addrs: OnceLock<Addrs>,
}

impl ContextEntry {
    fn new(lower: Cow<'static, str>, values: Values) -> ContextEntry {
        ContextEntry {
            hash: key_hash(&lower),
            lower,
            values,
            addrs: OnceLock::new(),
        }
    }
}

type Values = smallvec::SmallVec<[String; 1]>;
type Addrs = smallvec::SmallVec<[Option<Addr>; 1]>;

/// Entries are equal when their keys and values are: the cache does not count.
impl PartialEq for ContextEntry {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.lower == other.lower && self.values == other.values
    }
}

impl Eq for ContextEntry {}

/// `key` lower-cased, copied only when it is not already.
fn lowered(key: Cow<'static, str>) -> Cow<'static, str> {
    if key.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        key
    } else {
        Cow::Owned(key.to_lowercase())
    }
}

/// Orders a lower-cased key against an ASCII key as if the latter were lower-cased.
fn cmp_ascii_lower(lower: &str, key: &str) -> std::cmp::Ordering {
    lower
        .bytes()
        .cmp(key.bytes().map(|b| b.to_ascii_lowercase()))
}

/// FNV-1a over a lower-cased key: lets lookups skip string comparisons.
pub(crate) fn key_hash(lower: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lower.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A condition key, lower-cased and hashed once at compile time (in the policy's arena).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LowerKey<'a> {
    pub(crate) lower: &'a str,
    pub(crate) hash: u64,
}

impl<'a> LowerKey<'a> {
    pub(crate) fn new(arena: &'a Arena, key: &'a str) -> LowerKey<'a> {
        let lower = if !key.is_ascii() {
            arena.alloc_str(&key.to_lowercase())
        } else if key.bytes().any(|b| b.is_ascii_uppercase()) {
            crate::arena::lowercase(arena, key)
        } else {
            key
        };
        LowerKey {
            hash: key_hash(lower),
            lower,
        }
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// An empty context over `base`: its keys are read through unless set here.
    pub fn with_base(base: Arc<Context>) -> Context {
        let base = match &base.base {
            // One level only: a layered base is flattened first.
            Some(_) => {
                let mut entries: Vec<ContextEntry> = base.all_entries().cloned().collect();
                entries.sort_by(|a, b| a.lower.cmp(&b.lower));
                Arc::new(Context {
                    entries,
                    base: None,
                })
            }
            None => base,
        };
        Context {
            entries: Vec::new(),
            base: Some(base),
        }
    }

    /// This context's own entries, then the base's that no own entry hides.
    fn all_entries(&self) -> impl Iterator<Item = &ContextEntry> {
        let own = &self.entries;
        self.entries
            .iter()
            .chain(
                self.base
                    .iter()
                    .flat_map(|b| b.entries.iter())
                    .filter(move |e| {
                        own.binary_search_by(|o| o.lower.as_ref().cmp(&e.lower))
                            .is_err()
                    }),
            )
    }

    /// Every key (lower-cased) with its values; keys without values are left out.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.all_entries()
            .filter(|e| !e.values.is_empty())
            .map(|e| (e.lower.as_ref(), e.values.as_slice()))
    }

    /// Sets `key` to a single value (replacing any previous values).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut Context {
        self.set(key, smallvec::smallvec![value.into()])
    }

    /// Sets `key` to an IP address written as `text` (`aws:SourceIp`), already read as one.
    pub fn insert_addr(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        text: String,
        ip: std::net::IpAddr,
    ) -> &mut Context {
        let i = self.set_lower(lowered(key.into()), smallvec::smallvec![text]);
        if let Some(e) = self.entries.get_mut(i) {
            let addrs = OnceLock::new();
            let _ = addrs.set(smallvec::smallvec![Some(Addr::from_ip(ip))]);
            e.addrs = addrs;
        }
        self
    }

    /// Sets `key` to several values (a multivalued key such as `aws:TagKeys`).
    pub fn insert_many(&mut self, key: &str, values: Vec<String>) -> &mut Context {
        self.set(key, Values::from_vec(values))
    }

    fn set(&mut self, key: &str, values: Values) -> &mut Context {
        self.set_lower(Cow::Owned(key.to_lowercase()), values);
        self
    }

    /// Sets `key` to one value, like [`Context::insert`], taking a key that is usually lower-case
    /// already (`aws:sourceip`, a `&'static str` or a string built for it) without copying it.
    pub fn insert_lowered(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> &mut Context {
        self.set_lower(lowered(key.into()), smallvec::smallvec![value.into()]);
        self
    }

    /// Sets the lower-cased key `lower`; answers the index of its entry.
    fn set_lower(&mut self, lower: Cow<'static, str>, values: Values) -> usize {
        match self
            .entries
            .binary_search_by(|e| e.lower.as_ref().cmp(lower.as_ref()))
        {
            Ok(i) => {
                let entry = &mut self.entries[i];
                entry.values = values;
                entry.addrs = OnceLock::new();
                i
            }
            Err(i) => {
                self.entries.insert(i, ContextEntry::new(lower, values));
                i
            }
        }
    }

    /// The keys present, lower-cased (this context's, in order, then the base's).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.all_entries().map(|e| e.lower.as_ref())
    }

    /// Adds one more value to `key`.
    pub fn push(&mut self, key: &str, value: impl Into<String>) -> &mut Context {
        let lower = key.to_lowercase();
        match self
            .entries
            .binary_search_by(|e| e.lower.as_ref().cmp(&lower))
        {
            Ok(i) => {
                let entry = &mut self.entries[i];
                entry.values.push(value.into());
                entry.addrs = OnceLock::new();
            }
            Err(i) => {
                let lower = Cow::Owned(lower);
                // Values the base has for the key come first.
                let mut values: Values = self
                    .base
                    .as_ref()
                    .and_then(|b| b.get_lower(&lower))
                    .map(|v| v.iter().cloned().collect())
                    .unwrap_or_default();
                values.push(value.into());
                self.entries.insert(i, ContextEntry::new(lower, values));
            }
        }
        self
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) {
        let lower = key.to_lowercase();
        if let Some(base) = self.base.take() {
            // The base's other keys become this context's own.
            for e in &base.entries {
                if let Err(i) = self
                    .entries
                    .binary_search_by(|o| o.lower.as_ref().cmp(&e.lower))
                {
                    self.entries.insert(i, e.clone());
                }
            }
        }
        self.entries.retain(|e| *e.lower != *lower);
    }

    /// The values of `key` (case-insensitive), if present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if key.is_ascii() {
            // No lower-cased copy: entries are sorted by their lower-cased key.
            return match self
                .entries
                .binary_search_by(|e| cmp_ascii_lower(&e.lower, key))
            {
                Ok(i) => self
                    .entries
                    .get(i)
                    .filter(|e| !e.values.is_empty())
                    .map(|e| e.values.as_slice()),
                Err(_) => self.base.as_ref().and_then(|b| b.get(key)),
            };
        }
        self.get_lower(&key.to_lowercase())
    }

    /// Lookup by an already lower-cased key. An empty value list counts as absent.
    pub(crate) fn get_lower(&self, lower: &str) -> Option<&[String]> {
        self.find(key_hash(lower), lower)
    }

    /// Lookup by a compiled key.
    pub(crate) fn get_key(&self, key: &LowerKey) -> Option<&[String]> {
        self.find(key.hash, key.lower)
    }

    fn find(&self, hash: u64, lower: &str) -> Option<&[String]> {
        self.entry(hash, lower).map(|e| e.values.as_slice())
    }

    fn entry(&self, hash: u64, lower: &str) -> Option<&ContextEntry> {
        match self
            .entries
            .iter()
            .find(|e| e.hash == hash && e.lower == lower)
        {
            Some(e) => Some(e).filter(|e| !e.values.is_empty()),
            None => self.base.as_ref().and_then(|b| b.entry(hash, lower)),
        }
    }

    /// The values of a compiled key read as IP addresses (`None` for values that are not
    /// one), parsed once per context.
    pub(crate) fn get_addrs(&self, key: &LowerKey) -> Option<&[Option<Addr>]> {
        let e = self.entry(key.hash, key.lower)?;
        Some(
            e.addrs
                .get_or_init(|| e.values.iter().map(|v| Addr::parse(v)).collect()),
        )
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        match &self.base {
            None => self.entries.len(),
            Some(_) => self.all_entries().count(),
        }
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.base.as_ref().is_none_or(|b| b.is_empty())
    }

    /// Adds the keys AWS derives from the principal, unless already present:
    /// `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`,
    /// `aws:username` (IAM users) and `aws:PrincipalTag/KEY`.
    pub fn add_principal_keys(&mut self, p: &Principal) -> &mut Context {
        self.add_principal_keys_if(p, |_| true)
    }

    /// [`Context::add_principal_keys`] for the keys `wanted` accepts (it is given each key as
    /// AWS spells it, `aws:PrincipalTag/team`), so that a caller building a context for the
    /// keys its policies use does not compute the others.
    pub fn add_principal_keys_if(
        &mut self,
        p: &Principal,
        wanted: impl Fn(&str) -> bool,
    ) -> &mut Context {
        let add = |ctx: &mut Context, k: &str, v: &str| {
            if !v.is_empty() && wanted(k) && ctx.get(k).is_none() {
                ctx.insert(k, v);
            }
        };
        if p.kind != PrincipalKind::Anonymous {
            add(self, "aws:PrincipalArn", p.principal_arn());
            add(self, "aws:PrincipalAccount", &p.account);
        }
        add(self, "aws:PrincipalType", p.kind.principal_type());
        add(self, "aws:userid", &p.user_id);
        if p.kind == PrincipalKind::User {
            if let Some(u) = &p.username {
                add(self, "aws:username", u);
            }
        }
        for (k, v) in &p.tags {
            let key = format!("aws:PrincipalTag/{k}");
            if wanted(&key) && self.get(&key).is_none() {
                self.insert(&key, v.clone());
            }
        }
        self
    }
}

/// The request to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    /// `service:Action`, e.g. `iam:CreateUser` (matched case-insensitively).
    pub action: &'a str,
    /// The resource ARN (or `*`).
    pub resource: &'a str,
    pub context: &'a Context,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_case_insensitive() {
        let mut c = Context::new();
        c.insert("aws:SourceIp", "1.2.3.4");
        c.push("AWS:TagKeys", "a").push("aws:tagkeys", "b");
        assert_eq!(c.get("AWS:SOURCEIP").unwrap(), ["1.2.3.4"]);
        assert_eq!(c.get("aws:TagKeys").unwrap().len(), 2);
        c.insert_many("x", vec![]);
        assert!(c.get("x").is_none());
    }

    #[test]
    fn a_base_is_read_through_and_hidden_by_own_keys() {
        let mut base = Context::new();
        base.insert("aws:username", "bob")
            .insert("aws:PrincipalTag/team", "blue");
        let base = Arc::new(base);
        let mut c = Context::with_base(base.clone());
        assert_eq!(c.get("AWS:Username").unwrap(), ["bob"]);
        c.insert("aws:SourceIp", "10.0.0.1")
            .insert("aws:principaltag/TEAM", "red");
        assert_eq!(c.get("aws:PrincipalTag/team").unwrap(), ["red"]);
        assert_eq!(c.get_lower("aws:username").unwrap(), ["bob"]);
        assert_eq!(c.len(), 3);
        assert_eq!(c.keys().count(), 3);
        c.push("aws:username", "alice");
        assert_eq!(c.get("aws:username").unwrap(), ["bob", "alice"]);
        // The base is shared, never changed.
        assert_eq!(base.get("aws:username").unwrap(), ["bob"]);
        let mut flat = Context::new();
        flat.insert("aws:SourceIp", "10.0.0.1")
            .insert("aws:PrincipalTag/team", "red")
            .insert_many("aws:username", vec!["bob".into(), "alice".into()]);
        assert_eq!(c, flat);
        c.remove("aws:username");
        assert!(c.get("aws:username").is_none());
        assert_eq!(c.get("aws:sourceip").unwrap(), ["10.0.0.1"]);
        assert_eq!(c.len(), 2);
        // A layered base is flattened.
        let layered = Context::with_base(Arc::new(Context::with_base(base)));
        assert_eq!(layered.get("aws:principaltag/team").unwrap(), ["blue"]);
        assert!(Context::with_base(Arc::new(Context::new())).is_empty());
    }

    #[test]
    fn an_address_inserted_as_one_reads_as_its_text_would() {
        let arena = Arena::default();
        let key = LowerKey::new(&arena, "aws:SourceIp");
        for text in ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::7"] {
            let ip: std::net::IpAddr = text.parse().unwrap();
            let (mut a, mut b) = (Context::new(), Context::new());
            a.insert("aws:SourceIp", text);
            b.insert_addr("AWS:SourceIP", text.to_string(), ip);
            let mut lowered = Context::new();
            lowered.insert_lowered("aws:sourceip", text);
            assert_eq!(a, lowered);
            lowered.insert_lowered(String::from("AWS:SourceIp"), "x");
            assert_eq!(lowered.get("aws:SourceIp").unwrap(), ["x"]);
            assert_eq!(lowered.len(), 1);
            assert_eq!(a, b);
            assert_eq!(a.get_addrs(&key), b.get_addrs(&key), "{text}");
            assert!(b.get_addrs(&key).unwrap()[0].is_some());
        }
    }

    #[test]
    fn from_arn() {
        let p = Principal::from_arn("arn:aws:sts::123456789012:assumed-role/R/s").unwrap();
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert_eq!(
            p.role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/R")
        );
        let u = Principal::from_arn("arn:aws:iam::123456789012:user/a/b/bob").unwrap();
        assert_eq!(u.username.as_deref(), Some("bob"));
        assert_eq!(u.account, "123456789012");
        assert!(Principal::from_arn("nonsense").is_none());
    }
}

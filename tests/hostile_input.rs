//! Hostile input on every operation of the pinned service models (`model/*.json`: 176 IAM and
//! 11 STS operations). For each operation a generator reads its input shape and derives a
//! plausible request, then breaks it every way the model allows: each required member missing,
//! strings too long, too short, off their pattern or enum, integers and booleans that do not
//! parse or are out of range, lists empty, over their bound, with `member.N` gaps, duplicates and
//! odd indexes, nested members broken, invalid UTF-8 and bad percent-encoding in every value,
//! parameters repeated, thousands of parameters, and policy documents that are deep, huge or not
//! JSON. Each request goes unsigned, signed by the root user, signed by an IAM user and presigned,
//! to a server in `open` mode and one in `enforce` mode.
//!
//! Every answer must be a 2xx (the input happened to be valid) or a 4xx in AWS's XML error
//! envelope — never a 5xx, a panic, a dropped connection or a hang (each request has a time
//! limit) — and a request that failed must leave no visible change: the state seen through the
//! API (GetAccountAuthorizationDetails, GetAccountSummary and the listings of every family) is
//! compared whenever the store published anything while a failed request ran, and at the end of
//! every operation.
//!
//! CI sends every case once, under one of the eight server/signer combinations in turn (11,674
//! requests, about 25 s); `LOCALIAM_HOSTILE_FULL=1` sends every case under all eight (93,392
//! requests; README, "Hostile input and fuzzing").

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use regex::Regex;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// The service models

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Svc {
    Iam,
    Sts,
}

impl Svc {
    fn version(self) -> &'static str {
        match self {
            Svc::Iam => "2010-05-08",
            Svc::Sts => "2011-06-15",
        }
    }
    fn signing_name(self) -> &'static str {
        match self {
            Svc::Iam => "iam",
            Svc::Sts => "sts",
        }
    }
}

struct Model {
    svc: Svc,
    shapes: Map<String, Value>,
    /// Compiled patterns by their model text.
    patterns: std::sync::Mutex<BTreeMap<String, Option<Arc<Regex>>>>,
}

struct OpSpec {
    model: Arc<Model>,
    name: String,
    input: Option<String>,
}

fn load_model(file: &str, svc: Svc) -> (Arc<Model>, Vec<(String, Option<String>)>) {
    let path = format!("{}/model/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: Value = serde_json::from_str(&text).expect("model JSON");
    let shapes = json["shapes"].as_object().expect("shapes").clone();
    let ops = json["operations"]
        .as_object()
        .expect("operations")
        .iter()
        .map(|(name, op)| {
            (
                name.clone(),
                op["input"]["shape"].as_str().map(str::to_string),
            )
        })
        .collect();
    (
        Arc::new(Model {
            svc,
            shapes,
            patterns: Default::default(),
        }),
        ops,
    )
}

fn all_operations() -> Vec<OpSpec> {
    let mut out = Vec::new();
    // STS first: IAM's Delete operations remove the fixtures STS's federation operations use.
    for (file, svc) in [
        ("sts-2011-06-15.json", Svc::Sts),
        ("iam-2010-05-08.json", Svc::Iam),
    ] {
        let (model, ops) = load_model(file, svc);
        for (name, input) in ops {
            out.push(OpSpec {
                model: model.clone(),
                name,
                input,
            });
        }
    }
    out
}

/// A botocore (Java) pattern as a Rust regex matching the whole value, the way the server's code
/// generator translates it (`tools/codegen.py`): `\w` and `\d` spelled out in ASCII, `\uXXXX` as
/// `\x{XXXX}`, the account alias's look-ahead dropped.
fn java_regex(pattern: &str) -> Option<Regex> {
    let pat = pattern.replace("-(?!-)", "-");
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::new();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            match n {
                'u' => {
                    let hex: String = chars[i + 2..]
                        .iter()
                        .take(5)
                        .take_while(|c| c.is_ascii_hexdigit())
                        .collect();
                    let hex = if hex.len() == 5 && !in_class {
                        &hex[..4]
                    } else {
                        &hex[..]
                    };
                    out.push_str(&format!("\\x{{{hex}}}"));
                    i += 2 + hex.len();
                    continue;
                }
                'w' => out.push_str(if in_class {
                    "a-zA-Z0-9_"
                } else {
                    "[a-zA-Z0-9_]"
                }),
                'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                _ => {
                    out.push(c);
                    out.push(n);
                }
            }
            i += 2;
            continue;
        }
        if c == '[' && !in_class {
            in_class = true;
        } else if c == ']' && in_class {
            in_class = false;
        }
        out.push(c);
        i += 1;
    }
    let body = out.strip_prefix('^').unwrap_or(&out);
    let body = if body.ends_with('$') && !body.ends_with("\\$") {
        &body[..body.len() - 1]
    } else {
        body
    };
    Regex::new(&format!("^(?:{body})$")).ok()
}

impl Model {
    fn shape(&self, name: &str) -> &Value {
        &self.shapes[name]
    }

    fn pattern(&self, shape: &Value) -> Option<Arc<Regex>> {
        let text = shape["pattern"].as_str()?;
        let mut cache = self.patterns.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(text.to_string())
            .or_insert_with(|| java_regex(text).map(Arc::new))
            .clone()
    }

    /// Whether `value` satisfies the string shape's length, pattern and enum.
    fn fits(&self, shape: &Value, value: &str) -> bool {
        let len = value.chars().count() as u64;
        if shape["min"].as_u64().is_some_and(|m| len < m)
            || shape["max"].as_u64().is_some_and(|m| len > m)
        {
            return false;
        }
        if let Some(values) = shape["enum"].as_array() {
            return values.iter().any(|v| v.as_str() == Some(value));
        }
        self.pattern(shape).is_none_or(|re| re.is_match(value))
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

/// One parameter: a key and value form-encoded when sent, or bytes sent exactly as given.
#[derive(Debug, Clone)]
enum P {
    Kv(String, String),
    Raw(Vec<u8>),
}

impl P {
    fn kv(k: impl Into<String>, v: impl Into<String>) -> P {
        P::Kv(k.into(), v.into())
    }
    fn raw(k: &str, encoded_value: &str) -> P {
        P::Raw(format!("{k}={encoded_value}").into_bytes())
    }
    fn key(&self) -> Option<&str> {
        match self {
            P::Kv(k, _) => Some(k),
            P::Raw(_) => None,
        }
    }
}

/// One hostile request for an operation.
struct Case {
    label: String,
    params: Vec<P>,
    /// The input is invalid whatever the state: the answer must be a 4xx.
    must_fail: bool,
}

fn encode(params: &[P]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in params {
        if !out.is_empty() {
            out.push(b'&');
        }
        match p {
            P::Kv(k, v) => {
                out.extend(form_urlencoded::byte_serialize(k.as_bytes()).flat_map(str::bytes));
                out.push(b'=');
                out.extend(form_urlencoded::byte_serialize(v.as_bytes()).flat_map(str::bytes));
            }
            P::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }
    out
}

/// `params` without `key` and anything under it (`key.…`).
fn without(params: &[P], key: &str) -> Vec<P> {
    let nested = format!("{key}.");
    params
        .iter()
        .filter(|p| p.key().is_none_or(|k| k != key && !k.starts_with(&nested)))
        .cloned()
        .collect()
}

/// `params` with `key` (and what is under it) replaced by `new`.
fn replaced(params: &[P], key: &str, new: Vec<P>) -> Vec<P> {
    let mut out = without(params, key);
    out.extend(new);
    out
}

fn join_key(prefix: &str, member: &str) -> String {
    if prefix.is_empty() {
        member.to_string()
    } else {
        format!("{prefix}.{member}")
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: what the federation operations need to get past their first lookup

/// A role trusting the account, the SAML provider and the OpenID Connect provider below.
const FIXTURE_ROLE: &str = "hostile-role";
const FIXTURE_SAML: &str = "hostile-saml";
/// The OpenID Connect provider (its URL without `https://`).
const FIXTURE_OIDC: &str = "hostile.example.com";

struct Fixtures {
    /// Metadata of the test identity provider (`tests/data/saml`).
    saml_metadata: String,
    /// A response that identity provider signed (base64), long expired.
    saml_response: String,
    /// The OpenID Connect provider's signing key, and its JWKS.
    jwt_key: localiam::store::model::IssuerSigningKey,
    jwks: String,
}

impl Fixtures {
    /// A token of the OpenID Connect provider, signed, valid for a day, with `extra` claims over
    /// the usual ones.
    fn token(&self, extra: &Value) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims = serde_json::json!({
            "iss": format!("https://{FIXTURE_OIDC}"),
            "sub": "hostile-subject",
            "aud": "sts.amazonaws.com",
            "iat": now,
            "exp": now + 86_400,
        });
        if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        localiam::jwt::sign(&self.jwt_key, &claims).expect("sign a token")
    }
}

static FIXTURES: std::sync::LazyLock<Fixtures> = std::sync::LazyLock::new(|| {
    use base64::Engine as _;
    let dir = format!("{}/tests/data/saml", env!("CARGO_MANIFEST_DIR"));
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).expect("SAML test data");
    let cert: String = read("idp-cert.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let saml_metadata = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>
    </ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    );
    let saml_response =
        base64::engine::general_purpose::STANDARD.encode(read("xmlsec-signed-response.xml"));
    let jwt_key = localiam::jwt::generate_key("RS256").expect("key");
    let jwks = serde_json::to_string(
        &localiam::jwt::public_jwks(std::slice::from_ref(&jwt_key)).expect("jwks"),
    )
    .expect("jwks JSON");
    Fixtures {
        saml_metadata,
        saml_response,
        jwt_key,
        jwks,
    }
});

// ---------------------------------------------------------------------------------------------
// Plausible values

const ACCOUNT: &str = DEFAULT_ACCOUNT;

fn identity_policy() -> String {
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#.to_string()
}

fn trust_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn resource_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}]}}"#
    )
}

fn is_policy_member(shape_name: &str) -> bool {
    shape_name.to_ascii_lowercase().contains("policydocument")
}

/// A value the member plausibly takes, by its name first, then whatever fits the shape. Names of
/// entities are ones that do not exist (yet): most operations then fail with `NoSuchEntity`
/// after their input was validated, and the Create operations create them.
fn plausible(model: &Model, shape_name: &str, member: &str) -> String {
    let shape = model.shape(shape_name);
    if let Some(first) = shape["enum"].as_array().and_then(|e| e.first()) {
        return first.as_str().unwrap_or_default().to_string();
    }
    let arn = |kind: &str, name: &str| format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}");
    let by_name: Vec<String> = match member {
        "AssumeRolePolicyDocument" => vec![trust_policy()],
        "ResourcePolicy" => vec![resource_policy()],
        _ if is_policy_member(shape_name) || member == "Policy" => vec![identity_policy()],
        // (`arn` is STS's PolicyDescriptorType.)
        "PolicyArn" | "PermissionsBoundary" | "arn" => vec![arn("policy", "hostile-absent")],
        "RoleArn" => vec![arn("role", FIXTURE_ROLE)],
        "PrincipalArn" | "SAMLProviderArn" => vec![arn("saml-provider", FIXTURE_SAML)],
        "OpenIDConnectProviderArn" => vec![arn("oidc-provider", FIXTURE_OIDC)],
        "SerialNumber" => vec![arn("mfa", "hostile-absent")],
        "Arn" | "EntityArn" | "PolicySourceArn" | "CallerArn" => {
            vec![arn("user", "hostile-absent")]
        }
        "ResourceArns" | "ResourceOwner" => vec![format!("arn:aws:s3:::hostile-bucket")],
        "Url" => vec![format!("https://{FIXTURE_OIDC}")],
        "RedirectUrl" => vec!["https://hostile.example.com/back".into()],
        "ThumbprintList" => vec!["0123456789abcdef0123456789abcdef01234567".into()],
        "ClientIDList" | "ClientID" | "Audience" => vec!["sts.amazonaws.com".into()],
        "SAMLMetadataDocument" => vec![FIXTURES.saml_metadata.clone()],
        "SAMLAssertion" => vec![FIXTURES.saml_response.clone()],
        "WebIdentityToken" => vec![FIXTURES.token(&serde_json::json!({}))],
        "CertificateBody" | "CertificateChain" => {
            vec!["-----BEGIN CERTIFICATE-----\nMIIBhostile\n-----END CERTIFICATE-----\n".into()]
        }
        "PrivateKey" | "AddPrivateKey" => {
            vec!["-----BEGIN PRIVATE KEY-----\nMIIBhostile\n-----END PRIVATE KEY-----\n".into()]
        }
        "SSHPublicKeyBody" => vec!["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ hostile".into()],
        "ServiceName" => vec!["codecommit.amazonaws.com".into()],
        "AWSServiceName" => vec!["elasticbeanstalk.amazonaws.com".into()],
        "ServiceNamespace" | "ServiceNamespaces" => vec!["s3".into()],
        "ActionNames" => vec!["iam:GetUser".into()],
        "ContextKeyName" => vec!["aws:username".into()],
        "JobId" => vec!["00000000-0000-4000-8000-000000000000".into()],
        "EntityPath" => vec!["o-aaaaaaaaaa/r-aaaa".into()],
        "OrganizationsPolicyId" => vec!["p-aaaaaaaa".into()],
        "Locale" => vec!["en".into()],
        "TokenCode" | "AuthenticationCode1" | "AuthenticationCode2" => vec!["123456".into()],
        "Password" | "NewPassword" | "OldPassword" => vec!["Hostile-Passw0rd!".into()],
        "SigningAlgorithm" => vec!["RS256".into()],
        "ProviderId" => vec!["www.amazon.com".into()],
        "TargetPrincipal" | "OwnerAccountId" => vec![ACCOUNT.into()],
        "OwnerId" => vec![arn("user", "hostile-absent")],
        "NotificationChannel" => vec!["arn:aws:sns:us-east-1:000000000000:hostile".into()],
        "Path" | "PathPrefix" | "NewPath" => vec!["/".into()],
        _ => vec![],
    };
    let generic = [
        "hostile-absent",
        "hostileabsent",
        "HOSTILEABSENT0000000000000",
        "hostile-absent-00000000",
        "/",
        "000000000000",
        "123456",
        "v1",
    ];
    for c in by_name
        .iter()
        .map(String::as_str)
        .chain(generic.iter().copied())
    {
        if model.fits(shape, c) {
            return c.to_string();
        }
        // Padded to the shape's minimum length.
        if let Some(min) = shape["min"].as_u64() {
            let pad = c.chars().last().unwrap_or('a');
            let mut v = c.to_string();
            while (v.chars().count() as u64) < min {
                v.push(pad);
            }
            if model.fits(shape, &v) {
                return v;
            }
        }
    }
    by_name
        .into_iter()
        .next()
        .unwrap_or_else(|| "hostile-absent".into())
}

/// The parameters of a plausible `shape` under `key`: every member (or only the required ones).
fn fill(
    model: &Model,
    shape_name: &str,
    key: &str,
    member: &str,
    all: bool,
    depth: usize,
) -> Vec<P> {
    let shape = model.shape(shape_name);
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            let required: Vec<&str> = shape["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = Vec::new();
            if depth > 4 {
                return out;
            }
            for (name, m) in shape["members"].as_object().into_iter().flatten() {
                // No marker is valid but one the server handed out.
                if (!all || name == "Marker") && !required.contains(&name.as_str()) {
                    continue;
                }
                let ms = m["shape"].as_str().unwrap_or_default();
                out.extend(fill(model, ms, &join_key(key, name), name, all, depth + 1));
            }
            out
        }
        "list" => {
            let ms = shape["member"]["shape"].as_str().unwrap_or_default();
            let n = shape["min"].as_u64().unwrap_or(1).max(1);
            (1..=n)
                .flat_map(|i| {
                    fill(
                        model,
                        ms,
                        &format!("{key}.member.{i}"),
                        member,
                        all,
                        depth + 1,
                    )
                })
                .collect()
        }
        "integer" | "long" => {
            let v = match member {
                "MaxItems" => 10,
                _ => shape["min"].as_i64().unwrap_or(1).max(1),
            };
            vec![P::kv(key, v.to_string())]
        }
        "boolean" => vec![P::kv(key, "false")],
        _ => vec![P::kv(key, plausible(model, shape_name, member))],
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile variants

/// Values off a string shape's pattern (those that happen to match it are skipped).
const OFF_PATTERN: &[&str] = &[
    "has space\u{7}bell",
    "\u{0}",
    "nul\u{0}inside",
    "ümlaut\u{1F600}",
    "<x>&amp;'\"",
    "line\r\nbreak",
    "\u{FEFF}bom",
    "\u{202E}rtl",
];

/// Deeply nested, huge or non-JSON policy documents.
fn hostile_documents() -> Vec<(String, String)> {
    let deep_arrays = format!(
        r#"{{"Version":"2012-10-17","Statement":{}{}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let deep_objects = format!(
        r#"{{"Version":"2012-10-17","Statement":{}1{}}}"#,
        r#"{"a":"#.repeat(20_000),
        "}".repeat(20_000)
    );
    let deep_condition = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"StringEquals":{}"x"{}}}}}]}}"#,
        r#"{"k":"#.repeat(5_000),
        "}".repeat(5_000)
    );
    let unclosed = "[".repeat(200_000);
    let huge_string = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"{}"}}]}}"#,
        "r".repeat(1_000_000)
    );
    let many_statements = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        vec![r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#; 20_000].join(",")
    );
    let many_actions = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        (0..50_000)
            .map(|i| format!("\"s3:A{i}*\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let wild_globs = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{}","Resource":"{}"}}]}}"#,
        "*?".repeat(3000),
        "*a".repeat(3000)
    );
    vec![
        ("deep arrays".into(), deep_arrays),
        ("deep objects".into(), deep_objects),
        ("deep condition".into(), deep_condition),
        ("unclosed arrays".into(), unclosed),
        ("1 MB string".into(), huge_string),
        ("20,000 statements".into(), many_statements),
        ("50,000 actions".into(), many_actions),
        ("wildcard storm".into(), wild_globs),
        ("not JSON".into(), "this is not JSON".into()),
        ("empty object".into(), "{}".into()),
        ("lone brace".into(), "{".into()),
        ("null".into(), "null".into()),
        ("array".into(), "[]".into()),
        ("number".into(), "1e999999".into()),
        (
            "huge number".into(),
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"NumericLessThan":{{"a":{}}}}}}}]}}"#,
                "9".repeat(5000)
            ),
        ),
        ("BOM".into(), format!("\u{FEFF}{}", identity_policy())),
        (
            "lone surrogate".into(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"\ud800","Resource":"*"}]}"#.into(),
        ),
        (
            "duplicate keys".into(),
            r#"{"Version":"2012-10-17","Version":"2008-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]}"#.into(),
        ),
        (
            "trailing garbage".into(),
            format!("{}}}]]garbage", identity_policy()),
        ),
        (
            "control characters".into(),
            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"a\u{1}b\",\"Resource\":\"*\"}]}".into(),
        ),
        (
            "odd condition".into(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"not-a-date"},"IpAddress":{"aws:SourceIp":"999.1.1.1/99"},"ForAnyValue:Bogus":{"a":"b"},"Null":{"x":[[]]}}}]}"#.into(),
        ),
        (
            "odd principal".into(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*",{"x":1}],"Federated":7},"NotPrincipal":"*","Action":"sts:AssumeRole"}]}"#.into(),
        ),
        (
            "policy variables".into(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username}${${${${}}}}${*}${?}${$}"}]}"#.into(),
        ),
    ]
}

/// Every hostile variant of an operation's input.
fn cases(op: &OpSpec) -> Vec<Case> {
    let model = &*op.model;
    let head = vec![
        P::kv("Action", op.name.as_str()),
        P::kv("Version", model.svc.version()),
    ];
    let mut base = head.clone();
    let mut required_only = head.clone();
    if let Some(input) = &op.input {
        base.extend(fill(model, input, "", "", true, 0));
        required_only.extend(fill(model, input, "", "", false, 0));
    }
    let mut out = Vec::new();
    let mut push = |label: String, params: Vec<P>, must_fail: bool| {
        out.push(Case {
            label,
            params,
            must_fail,
        })
    };
    if let Some(input) = &op.input {
        mutate(model, input, "", "", &base, 0, &mut push);
    }

    // Whole-request variants.
    push(
        "no parameters but Action and Version".into(),
        head.clone(),
        false,
    );
    let mut p = base.clone();
    p.insert(1, P::kv("Action", "GetUser"));
    push("Action repeated".into(), p, false);
    push("Version missing".into(), without(&base, "Version"), false);
    push(
        "Version wrong".into(),
        replaced(&base, "Version", vec![P::kv("Version", "1999-01-01")]),
        false,
    );
    let mut p = base.clone();
    p.push(P::kv("Version", "1999-01-01"));
    push("Version repeated".into(), p, false);
    let mut p = base.clone();
    p.extend((0..5_000).map(|i| P::kv(format!("Junk{i}"), "x")));
    push("5,000 unknown parameters".into(), p, false);
    if let Some(P::Kv(k, v)) = base.get(2).cloned() {
        let mut p = base.clone();
        p.extend((0..3_000).map(|i| P::kv(k.clone(), format!("{v}{i}"))));
        push(format!("{k} repeated 3,000 times"), p, false);
    }
    let mut p = base.clone();
    p.extend((1..=3_000).map(|i| P::kv(format!("Unknown.member.{i}.Key"), "k")));
    push("3,000 members of an unknown list".into(), p, false);
    let mut p = base.clone();
    p.push(P::Raw(b"\xff\xfe=\x80\x81&%=%&==&&".to_vec()));
    push("raw invalid UTF-8 and stray separators".into(), p, false);
    let mut p = base.clone();
    p.push(P::Raw(vec![0u8; 64]));
    push("NUL bytes".into(), p, false);
    let mut p = base.clone();
    p.push(P::raw("A.b.c.d.e.f.g.h.member.1.member.2.entry.3.key", "x"));
    push("deep unknown key".into(), p, false);
    push("only the required members".into(), required_only, false);
    push("plausible".into(), base, false);
    out
}

/// The variants of one member (and, recursively, of what it holds).
fn mutate(
    model: &Model,
    shape_name: &str,
    key: &str,
    member: &str,
    base: &[P],
    depth: usize,
    push: &mut impl FnMut(String, Vec<P>, bool),
) {
    let shape = model.shape(shape_name);
    let ty = shape["type"].as_str().unwrap_or_default();
    let label = |what: &str| format!("{} {what}", if key.is_empty() { "input" } else { key });
    let set = |v: &str| replaced(base, key, vec![P::kv(key, v)]);
    let set_raw = |encoded: &str| replaced(base, key, vec![P::raw(key, encoded)]);
    match ty {
        "structure" => {
            if depth > 3 {
                return;
            }
            let required: Vec<&str> = shape["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, m) in shape["members"].as_object().into_iter().flatten() {
                let k = join_key(key, name);
                if required.contains(&name.as_str()) {
                    push(
                        label(&format!("missing required {name}")),
                        without(base, &k),
                        true,
                    );
                }
                let ms = m["shape"].as_str().unwrap_or_default();
                mutate(model, ms, &k, name, base, depth + 1, push);
            }
            if !key.is_empty() {
                push(label("as a scalar"), set("scalar"), false);
            }
        }
        "list" => {
            let ms = shape["member"]["shape"].as_str().unwrap_or_default();
            let item = |i: usize| {
                fill(
                    model,
                    ms,
                    &format!("{key}.member.{i}"),
                    member,
                    true,
                    depth + 1,
                )
            };
            let min = shape["min"].as_u64().unwrap_or(0);
            push(
                label("present and empty"),
                replaced(base, key, vec![P::kv(key, "")]),
                min > 0,
            );
            let over = shape["max"].as_u64().map_or(1_000, |m| m + 1) as usize;
            push(
                label(&format!("with {over} members")),
                replaced(base, key, (1..=over).flat_map(item).collect()),
                shape["max"].is_u64(),
            );
            push(
                label("with 10,000 members"),
                replaced(base, key, (1..=10_000).flat_map(item).collect()),
                shape["max"].as_u64().is_some_and(|m| m < 10_000),
            );
            let mut gap = item(1);
            gap.extend(item(3));
            push(label("with a gap (1, 3)"), replaced(base, key, gap), false);
            let mut twice = item(1);
            twice.extend(item(1).into_iter().map(|p| match p {
                P::Kv(k, v) => P::Kv(k, format!("{v}-again")),
                raw => raw,
            }));
            push(
                label("with member.1 twice"),
                replaced(base, key, twice),
                false,
            );
            let renumber = |items: Vec<P>, to: &str| -> Vec<P> {
                let from = format!("{key}.member.1");
                items
                    .into_iter()
                    .map(|p| match p {
                        P::Kv(k, v) => {
                            P::Kv(k.replacen(&from, &format!("{key}.member.{to}"), 1), v)
                        }
                        raw => raw,
                    })
                    .collect()
            };
            let mut dup = item(1);
            dup.extend(renumber(item(1), "2"));
            push(
                label("with a duplicate member"),
                replaced(base, key, dup),
                false,
            );
            for odd in ["0", "-1", "01", "x", "99999999999999999999", "1.5", ""] {
                push(
                    label(&format!("member.{odd}")),
                    replaced(base, key, renumber(item(1), odd)),
                    false,
                );
            }
            push(label("as a scalar"), set("scalar"), false);
            push(
                label("under .entry.1.key"),
                replaced(base, key, vec![P::kv(format!("{key}.entry.1.key"), "k")]),
                false,
            );
            // What the first member holds.
            let with_one = replaced(base, key, item(1));
            mutate(
                model,
                ms,
                &format!("{key}.member.1"),
                member,
                &with_one,
                depth + 1,
                push,
            );
        }
        "integer" | "long" => {
            let min = shape["min"].as_i64();
            let max = shape["max"].as_i64();
            for (v, invalid) in [
                ("abc", true),
                ("", true),
                ("1.5", true),
                ("0x10", true),
                ("1e3", true),
                ("99999999999999999999", true),
                ("2147483648", max.is_some()),
                ("-2147483649", true),
                ("-1", min.is_some_and(|m| m > -1)),
                ("0", min.is_some_and(|m| m > 0)),
                (" 7", false),
                ("+5", false),
            ] {
                push(label(&format!("= {v:?}")), set(v), invalid);
            }
            if let Some(m) = min {
                push(label("below its minimum"), set(&(m - 1).to_string()), true);
            }
            if let Some(m) = max {
                push(label("above its maximum"), set(&(m + 1).to_string()), true);
            }
            push(label("invalid UTF-8"), set_raw("%FF%FE"), true);
        }
        "boolean" => {
            for v in ["maybe", "", "1", "yes", "TRUE", "t"] {
                push(label(&format!("= {v:?}")), set(v), !matches!(v, "TRUE"));
            }
            push(label("invalid UTF-8"), set_raw("%FF"), true);
        }
        _ => {
            let min = shape["min"].as_u64();
            let max = shape["max"].as_u64();
            let enumerated = shape["enum"].is_array();
            let valid = plausible(model, shape_name, member);
            // Too long: one over the maximum, or huge when the maximum is large or absent.
            match max {
                Some(m) if m < 2_100_000 => push(
                    label("one over its maximum length"),
                    set(&"a".repeat(m as usize + 1)),
                    true,
                ),
                _ => push(label("of 2 MB"), set(&"a".repeat(2_000_000)), false),
            }
            if let Some(m) = min.filter(|m| *m > 0) {
                push(label("empty"), set(""), true);
                if m > 1 {
                    push(
                        label("one under its minimum length"),
                        set(&"a".repeat(m as usize - 1)),
                        true,
                    );
                }
            } else {
                push(label("empty"), set(""), enumerated);
            }
            if model.pattern(shape).is_some() || enumerated {
                for bad in OFF_PATTERN {
                    if !model.fits(shape, bad) && !model.fits(shape, &format!("{bad}{valid}")) {
                        push(label(&format!("= {bad:?}")), set(bad), true);
                    }
                }
            }
            if enumerated {
                push(label("not in its enum"), set("NotAValue"), true);
                push(
                    label("its enum in lower case"),
                    set(&valid.to_ascii_lowercase()),
                    valid.to_ascii_lowercase() != valid,
                );
            }
            push(
                label("invalid UTF-8"),
                set_raw("%FF%FEhostile%C3%28"),
                false,
            );
            push(
                label("bad percent-encoding"),
                set_raw("%ZZhostile%4%"),
                false,
            );
            push(
                label("truncated UTF-8"),
                set_raw(&format!("{}%E2%82", percent(&valid))),
                false,
            );
            push(label("with a NUL"), set(&format!("{valid}\u{0}")), false);
            push(
                label("repeated (valid first)"),
                {
                    let mut p = base.to_vec();
                    p.push(P::kv(key, "\u{0}second"));
                    p
                },
                false,
            );
            push(
                label("repeated (invalid first)"),
                {
                    let mut p = without(base, key);
                    p.push(P::kv(key, "\u{0}first"));
                    p.push(P::kv(key, valid.as_str()));
                    p
                },
                false,
            );
            push(
                label("as a list"),
                replaced(
                    base,
                    key,
                    vec![P::kv(format!("{key}.member.1"), valid.as_str())],
                ),
                false,
            );
            if member == "Marker" {
                for m in [
                    "garbage",
                    "bG9jYWxpYW0tbWFya2VyOv8",
                    "%%%",
                    &"A".repeat(320),
                ] {
                    push(label(&format!("= {m:?}")), set(m), false);
                }
            }
            if is_policy_member(shape_name) || member == "Policy" {
                for (what, doc) in hostile_documents() {
                    push(
                        label(&format!("a policy document: {what}")),
                        set(&doc),
                        false,
                    );
                }
            }
            if member == "SAMLAssertion"
                || member == "WebIdentityToken"
                || member == "SAMLMetadataDocument"
            {
                for (what, v) in hostile_tokens() {
                    push(label(&format!("a token: {what}")), set(&v), false);
                }
            }
        }
    }
}

fn percent(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Hostile SAML responses, metadata and JWTs.
fn hostile_tokens() -> Vec<(String, String)> {
    use base64::Engine as _;
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let url = |s: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let deep_xml = format!("{}{}", "<a>".repeat(20_000), "</a>".repeat(20_000));
    let entities = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&d;&d;&d;&d;&d;</samlp:Response>"#;
    let many_attrs = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" {}/>",
        (0..10_000)
            .map(|i| format!("a{i}=\"v\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let jwt_header = url(br#"{"alg":"RS256","kid":"k","typ":"JWT"}"#);
    let jwt_claims =
        url(br#"{"iss":"https://hostile.example.com","sub":"x","aud":"a","exp":99999999999}"#);
    let mut out: Vec<(String, String)> = vec![
        ("not base64".into(), "!!!!not base64!!!!".into()),
        ("base64 of garbage".into(), b64(&[0xff, 0x00, 0xfe, 0x01])),
        ("deep XML".into(), b64(deep_xml.as_bytes())),
        ("entity expansion".into(), b64(entities.as_bytes())),
        ("10,000 attributes".into(), b64(many_attrs.as_bytes())),
        ("raw deep XML".into(), deep_xml),
        ("raw entity expansion".into(), entities.to_string()),
        (
            "JWT alg none".into(),
            format!("{}.{jwt_claims}.", url(br#"{"alg":"none"}"#)),
        ),
        ("JWT bad segments".into(), "a.b.c.d.e".into()),
        (
            "JWT huge header".into(),
            format!("{}.{jwt_claims}.c2ln", url(&vec![b'{'; 15_000])),
        ),
        (
            "JWT claims not JSON".into(),
            format!("{jwt_header}.{}.c2ln", url(b"not json")),
        ),
        (
            "JWT deep claims".into(),
            format!(
                "{jwt_header}.{}.c2ln",
                url(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).as_bytes())
            ),
        ),
        (
            "JWT signature not base64".into(),
            format!("{jwt_header}.{jwt_claims}.!!!"),
        ),
    ];
    // Tokens the OpenID Connect provider signed, with hostile claims.
    let f = &*FIXTURES;
    let signed = |extra: Value| f.token(&extra);
    out.extend([
        (
            "signed, 10,000 audiences".into(),
            signed(serde_json::json!({"aud": vec!["x"; 10_000]})),
        ),
        (
            "signed, exp a string".into(),
            signed(serde_json::json!({"exp": "tomorrow"})),
        ),
        (
            "signed, exp huge".into(),
            signed(serde_json::json!({"exp": 1e300})),
        ),
        (
            "signed, exp negative".into(),
            signed(serde_json::json!({"exp": -1})),
        ),
        (
            "signed, other issuer".into(),
            signed(serde_json::json!({"iss": "https://other.example.com"})),
        ),
        (
            "signed, issuer not a URL".into(),
            signed(serde_json::json!({"iss": "\u{0}"})),
        ),
        (
            "signed, huge subject".into(),
            signed(serde_json::json!({"sub": "s".repeat(14_000)})),
        ),
        (
            "signed, odd claim types".into(),
            signed(
                serde_json::json!({"sub": {"a": [1]}, "aud": 7, "amr": {"x": null}, "azp": [[]]}),
            ),
        ),
    ]);
    let valid = f.token(&serde_json::json!({}));
    let mut parts = valid.splitn(3, '.');
    let (_, claims, sig) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    for (what, header) in [
        ("unknown kid", r#"{"alg":"RS256","kid":"nope"}"#),
        ("HS256 (algorithm confusion)", r#"{"alg":"HS256"}"#),
        ("alg none", r#"{"alg":"none","typ":"JWT"}"#),
        ("unknown alg", r#"{"alg":"XX999"}"#),
        ("header not an object", r#"[1,2]"#),
    ] {
        out.push((
            format!("signed claims, {what}"),
            format!("{}.{claims}.{sig}", url(header.as_bytes())),
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Servers, credentials and sending

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signer {
    Unsigned,
    Root,
    User,
    /// Root, signature in the query string of a GET.
    Presigned,
}

const SIGNERS: [Signer; 4] = [
    Signer::Unsigned,
    Signer::Root,
    Signer::User,
    Signer::Presigned,
];

struct Target {
    mode: AuthMode,
    srv: TestServer,
    client: reqwest::Client,
    user_key: String,
    user_secret: String,
}

/// Per-request time limit: a request still unanswered after it is a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

async fn target(mode: AuthMode) -> Target {
    let srv = TestServer::start_auth(mode).await;
    let iam = srv.iam();
    iam.create_user()
        .user_name("hostile-signer")
        .send()
        .await
        .expect("create the signing user");
    iam.put_user_policy()
        .user_name("hostile-signer")
        .policy_name("everything")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("allow the signing user everything");
    // The federation fixtures.
    iam.create_saml_provider()
        .name(FIXTURE_SAML)
        .saml_metadata_document(&FIXTURES.saml_metadata)
        .send()
        .await
        .expect("SAML provider");
    iam.create_open_id_connect_provider()
        .url(format!("https://{FIXTURE_OIDC}"))
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("0123456789abcdef0123456789abcdef01234567")
        .send()
        .await
        .expect("OpenID Connect provider");
    let keys = serde_json::json!({
        "url": format!("https://{FIXTURE_OIDC}"),
        "jwks": serde_json::from_str::<Value>(&FIXTURES.jwks).expect("jwks"),
    });
    let r = srv
        .admin("POST", "/_localiam/oidc-keys", keys.to_string().as_bytes())
        .await;
    assert_eq!(r.status, 200, "issuer keys: {}", r.body);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}},
        {{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:saml-provider/{FIXTURE_SAML}"}},"Action":"sts:AssumeRoleWithSAML"}},
        {{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{FIXTURE_OIDC}"}},"Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
    );
    create_role(&iam, FIXTURE_ROLE, &trust).await;
    let key = iam
        .create_access_key()
        .user_name("hostile-signer")
        .send()
        .await
        .expect("access key");
    let key = key.access_key().expect("key");
    Target {
        mode,
        client: reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client"),
        user_key: key.access_key_id().to_string(),
        user_secret: key.secret_access_key().to_string(),
        srv,
    }
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Target {
    /// Sends `params` as `signer`; `Err` for no answer (a dropped connection, a hang).
    async fn send(&self, svc: Svc, params: &[P], signer: Signer) -> Result<Answer, String> {
        let body = encode(params);
        let base = self.srv.url();
        let (key, secret) = match signer {
            Signer::User => (self.user_key.as_str(), self.user_secret.as_str()),
            _ => (
                self.srv.config.root_access_key.as_str(),
                self.srv.config.root_secret_key.as_str(),
            ),
        };
        // A presigned request carries its parameters in the URL, which holds only ASCII.
        let presign = signer == Signer::Presigned && body.is_ascii() && body.len() < 60_000;
        let (method, url, payload): (&str, String, Vec<u8>) = if presign {
            (
                "GET",
                format!("{base}/?{}", String::from_utf8_lossy(&body)),
                Vec::new(),
            )
        } else {
            ("POST", format!("{base}/"), body)
        };
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        let mut url = url;
        if signer != Signer::Unsigned {
            let input = SigningInput {
                method,
                url: &url,
                headers: if presign {
                    &[]
                } else {
                    &[("content-type", content_type)]
                },
                body: &payload,
                key,
                secret,
                token: None,
                service: svc.signing_name(),
                presign,
            };
            match sign_request(&input, std::time::SystemTime::now()) {
                Ok(signed) => {
                    url = signed.url;
                    headers = signed.headers;
                }
                // A URL the signer refuses goes unsigned.
                Err(_) => headers.push(("content-type".into(), content_type.as_bytes().to_vec())),
            }
        } else if !presign {
            headers.push(("content-type".into(), content_type.as_bytes().to_vec()));
        }
        let mut req = if method == "GET" {
            self.client.get(&url)
        } else {
            self.client.post(&url)
        };
        for (k, v) in &headers {
            if k != "host" {
                req = req.header(k.as_str(), v.as_slice());
            }
        }
        let resp = req
            .body(payload)
            .send()
            .await
            .map_err(|e| format!("no answer: {e:?}"))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = resp
            .text()
            .await
            .map_err(|e| format!("no complete body: {e:?}"))?;
        Ok(Answer {
            status,
            content_type,
            body,
        })
    }

    /// Sends a plain request signed by the root user, for the state fingerprint.
    async fn root_call(&self, svc: Svc, params: &[(&str, &str)]) -> Answer {
        let mut p = vec![P::kv("Version", svc.version())];
        p.extend(params.iter().map(|(k, v)| P::kv(*k, *v)));
        match self.send(svc, &p, Signer::Root).await {
            Ok(a) => a,
            Err(e) => panic!("fingerprint call {params:?}: {e}"),
        }
    }
}

/// Whether every character of `text` may appear in an XML 1.0 document.
fn xml_chars_ok(text: &str) -> bool {
    text.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    })
}

/// What is wrong with an answer (`None` when it is one AWS could give).
fn check_answer(op: &str, case: &Case, a: &Answer) -> Option<String> {
    const NAMESPACES: [&str; 2] = [
        "https://iam.amazonaws.com/doc/2010-05-08/",
        "https://sts.amazonaws.com/doc/2011-06-15/",
    ];
    // A request head (URL and headers) past the configured limits: HTTP's 431 with no body, as
    // README's "Limits" documents (hyper answers it before localiam reads the request; AWS's
    // front ends answer such requests with a plain page too).
    if a.status == 431 && a.body.is_empty() {
        return None;
    }
    if !a.content_type.starts_with("text/xml") {
        return Some(format!("content type {:?}", a.content_type));
    }
    if !xml_chars_ok(&a.body) {
        return Some("characters XML does not allow in the answer".into());
    }
    let mut reader = quick_xml::Reader::from_str(&a.body);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Some(format!("answer is not well-formed XML: {e}")),
        }
    }
    match a.status {
        200..=299 => {
            if case.must_fail {
                return Some("invalid input accepted".into());
            }
            let ok = NAMESPACES.iter().any(|ns| {
                a.body
                    .starts_with(&format!("<{op}Response xmlns=\"{ns}\">"))
            }) && a.body.ends_with(&format!("</{op}Response>"));
            (!ok).then(|| "2xx without the operation's response element".into())
        }
        400..=499 => {
            let ok = NAMESPACES.iter().any(|ns| {
                a.body.starts_with(&format!(
                    "<ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>"
                ))
            }) && a.body.ends_with("</RequestId></ErrorResponse>")
                && xml_tag(&a.body, "Code").is_some_and(|c| !c.is_empty());
            (!ok).then(|| "4xx without AWS's error envelope".into())
        }
        s => Some(format!("status {s}")),
    }
}

// ---------------------------------------------------------------------------------------------
// The state fingerprint

/// The state as the API shows it: the answers (request IDs removed) of GetAccountSummary,
/// GetAccountAuthorizationDetails and the listings of every family, each user's credentials and
/// each provider's details.
async fn fingerprint(t: &Target) -> Vec<(String, String)> {
    let strip = |body: String| {
        let re = Regex::new("<RequestId>[^<]*</RequestId>").expect("regex");
        re.replace_all(&body, "").into_owned()
    };
    let mut out = Vec::new();
    let mut calls: Vec<Vec<(&str, String)>> = vec![
        vec![("Action", "GetAccountSummary".into())],
        vec![
            ("Action", "GetAccountAuthorizationDetails".into()),
            ("MaxItems", "1000".into()),
        ],
    ];
    for list in [
        "ListUsers",
        "ListGroups",
        "ListRoles",
        "ListInstanceProfiles",
        "ListSAMLProviders",
        "ListOpenIDConnectProviders",
        "ListServerCertificates",
        "ListVirtualMFADevices",
        "ListAccountAliases",
        "GetAccountPasswordPolicy",
        "ListDelegationRequests",
        "ListOrganizationsFeatures",
        "GetOutboundWebIdentityFederationInfo",
        "ListSigningCertificates",
        "ListAccessKeys",
        "ListMFADevices",
    ] {
        calls.push(vec![("Action", list.into())]);
    }
    calls.push(vec![
        ("Action", "ListPolicies".into()),
        ("Scope", "Local".into()),
        ("MaxItems", "1000".into()),
    ]);
    let mut answers = Vec::new();
    for c in &calls {
        let p: Vec<(&str, &str)> = c.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = t.root_call(Svc::Iam, &p).await;
        answers.push((format!("{p:?}"), a.status, a.body));
    }
    // Per user, per provider, per certificate and per MFA device.
    let names = |body: &str, tag: &str| -> Vec<String> {
        let re = Regex::new(&format!("<{tag}>([^<]*)</{tag}>")).expect("regex");
        re.captures_iter(body).map(|c| c[1].to_string()).collect()
    };
    let users = names(&answers[2].2, "UserName");
    let mut more: Vec<Vec<(&str, String)>> = Vec::new();
    for u in &users {
        for action in [
            "ListAccessKeys",
            "ListSigningCertificates",
            "ListSSHPublicKeys",
            "ListServiceSpecificCredentials",
            "GetLoginProfile",
            "ListMFADevices",
            "ListUserTags",
        ] {
            more.push(vec![("Action", action.into()), ("UserName", u.clone())]);
        }
    }
    for (list, tag, get, param) in [
        (
            "ListSAMLProviders",
            "Arn",
            "GetSAMLProvider",
            "SAMLProviderArn",
        ),
        (
            "ListOpenIDConnectProviders",
            "Arn",
            "GetOpenIDConnectProvider",
            "OpenIDConnectProviderArn",
        ),
        (
            "ListServerCertificates",
            "ServerCertificateName",
            "GetServerCertificate",
            "ServerCertificateName",
        ),
        (
            "ListInstanceProfiles",
            "InstanceProfileName",
            "ListInstanceProfileTags",
            "InstanceProfileName",
        ),
    ] {
        let i = calls.iter().position(|c| c[0].1 == list).expect("listed");
        for n in names(&answers[i].2, tag) {
            more.push(vec![("Action", get.into()), (param, n)]);
        }
    }
    for c in &more {
        let p: Vec<(&str, &str)> = c.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = t.root_call(Svc::Iam, &p).await;
        answers.push((format!("{p:?}"), a.status, a.body));
    }
    for (call, status, body) in answers {
        // An error is part of the state too (no password policy, no organization).
        assert!(status < 500, "fingerprint call {call} -> {status}: {body}");
        assert!(
            !body.contains("<IsTruncated>true</IsTruncated>"),
            "fingerprint call {call} truncated"
        );
        out.push((call, strip(body)));
    }
    out
}

/// The first difference between two fingerprints.
fn fingerprint_diff(a: &[(String, String)], b: &[(String, String)]) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!(
            "{} calls before, {} after (users or providers appeared or went): {:?} vs {:?}",
            a.len(),
            b.len(),
            a.iter().map(|x| &x.0).collect::<Vec<_>>(),
            b.iter().map(|x| &x.0).collect::<Vec<_>>()
        ));
    }
    a.iter().zip(b).find(|(x, y)| x != y).map(|(x, y)| {
        let cut = |s: &str| s.chars().take(3000).collect::<String>();
        format!(
            "{} changed:\n      before {}\n      after  {}",
            x.0,
            cut(&x.1),
            cut(&y.1)
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The run

struct Outcome {
    /// The slowest answer and its request.
    slowest: (Duration, String),
    cases: usize,
    sent: usize,
    by_status: BTreeMap<u16, usize>,
    problems: Vec<String>,
    fingerprints: usize,
}

/// Sends the cases of every operation (generated one operation at a time: some are megabytes)
/// to `t`, each as the signers `signers` picks for it, checking every answer and that failed
/// requests changed nothing the API shows.
async fn run(t: &Target, ops: &[OpSpec], signers: impl Fn(usize, usize) -> Vec<Signer>) -> Outcome {
    let mut out = Outcome {
        slowest: (Duration::ZERO, String::new()),
        cases: 0,
        sent: 0,
        by_status: BTreeMap::new(),
        problems: Vec::new(),
        fingerprints: 1,
    };
    let store = &t.srv.app().store;
    let mut known = fingerprint(t).await;
    // The model as of `known`, and whether requests failed since.
    let mut known_model = store.read();
    let mut failed_since = false;
    for (op_index, op) in ops.iter().enumerate() {
        let cases = cases(op);
        out.cases += cases.len();
        for (n, case) in cases.iter().enumerate() {
            for signer in signers(op_index, n) {
                let before = store.read();
                let started = Instant::now();
                let answer = t.send(op.model.svc, &case.params, signer).await;
                out.sent += 1;
                let what = || format!("[{:?}/{signer:?}] {} — {}", t.mode, op.name, case.label);
                let answer = match answer {
                    Ok(a) => a,
                    Err(e) => {
                        out.problems
                            .push(format!("{}: {e} after {:?}", what(), started.elapsed()));
                        continue;
                    }
                };
                if started.elapsed() > out.slowest.0 {
                    out.slowest = (started.elapsed(), what());
                }
                *out.by_status.entry(answer.status).or_default() += 1;
                if let Some(p) = check_answer(&op.name, case, &answer) {
                    let body: String = answer.body.chars().take(400).collect();
                    out.problems
                        .push(format!("{}: {p} ({}): {body}", what(), answer.status));
                }
                let wrote = !Arc::ptr_eq(&before, &store.read());
                if (200..300).contains(&answer.status) {
                    // A change the request was entitled to: the new state is the reference.
                    if wrote {
                        known = fingerprint(t).await;
                        out.fingerprints += 1;
                        known_model = store.read();
                        failed_since = false;
                    }
                } else if wrote {
                    // Something was published while a failed request ran: its own partial
                    // write, or the background flush of key use and activity (which the API
                    // does not show).
                    let now = fingerprint(t).await;
                    out.fingerprints += 1;
                    if let Some(d) = fingerprint_diff(&known, &now) {
                        out.problems.push(format!(
                            "{}: failed ({}) but left a change: {d}",
                            what(),
                            answer.status
                        ));
                        known = now;
                    }
                    known_model = store.read();
                    failed_since = false;
                } else {
                    // Nothing published: nothing written (writes are published before they are
                    // answered). A write done later shows at the operation's end.
                    failed_since = true;
                }
            }
        }
        // Whatever the failed requests since `known` did must be invisible.
        if failed_since && !Arc::ptr_eq(&known_model, &store.read()) {
            let now = fingerprint(t).await;
            out.fingerprints += 1;
            if let Some(d) = fingerprint_diff(&known, &now) {
                out.problems.push(format!(
                    "[{:?}] {}: a failed request left a change: {d}",
                    t.mode, op.name
                ));
            }
            known = now;
            known_model = store.read();
        }
        failed_since = false;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_operation_survives_hostile_input() {
    let full = std::env::var("LOCALIAM_HOSTILE_FULL").is_ok_and(|v| v == "1");
    let ops = all_operations();
    let iam_ops = ops.iter().filter(|o| o.model.svc == Svc::Iam).count();
    let sts_ops = ops.len() - iam_ops;
    assert_eq!(
        (iam_ops, sts_ops),
        (176, 11),
        "the pinned models' operations"
    );

    let started = Instant::now();
    let (open, enforce) = tokio::join!(target(AuthMode::Open), target(AuthMode::Enforce));
    // Every case once, under one of the eight server/signer combinations in turn; under all
    // eight in the full run.
    let signers = |server: usize| {
        move |op: usize, n: usize| -> Vec<Signer> {
            (0..4)
                .filter(|s| full || (op + n) % 8 == server * 4 + s)
                .map(|s| SIGNERS[s])
                .collect()
        }
    };
    let (a, b) = tokio::join!(
        run(&open, &ops, signers(0)),
        run(&enforce, &ops, signers(1))
    );

    let mut problems = Vec::new();
    for (name, o) in [("open", &a), ("enforce", &b)] {
        eprintln!(
            "{name}: {} requests, statuses {:?}, {} fingerprints, {} problems; slowest {:.1?}: {}",
            o.sent,
            o.by_status,
            o.fingerprints,
            o.problems.len(),
            o.slowest.0,
            o.slowest.1
        );
        problems.extend(o.problems.iter().cloned());
    }
    eprintln!(
        "{} operations, {} cases, {} requests in {:.1?}",
        ops.len(),
        a.cases,
        a.sent + b.sent,
        started.elapsed()
    );
    for s in [&open, &enforce] {
        let r = s.root_call(Svc::Iam, &[("Action", "GetUser")]).await;
        assert_eq!(r.status, 200, "still serving: {}", r.body);
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("PROBLEM {p}");
        }
        let shown: Vec<&String> = problems.iter().take(60).collect();
        panic!(
            "{} problems (first {}):\n  {}",
            problems.len(),
            shown.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
}

/// The generator's plausible input is valid for (nearly) every operation: otherwise the broken
/// variants would only ever meet the first validation error.
#[tokio::test]
async fn plausible_inputs_pass_validation() {
    let ops = all_operations();
    let t = target(AuthMode::Open).await;
    let mut invalid = Vec::new();
    for op in &ops {
        let case = cases(op)
            .into_iter()
            .find(|c| c.label == "plausible")
            .expect("plausible case");
        let a = t
            .send(op.model.svc, &case.params, Signer::Root)
            .await
            .expect("answer");
        if a.status == 400 && xml_tag(&a.body, "Code").as_deref() == Some("ValidationError") {
            invalid.push(format!(
                "{}: {}",
                op.name,
                xml_tag(&a.body, "Message").unwrap_or_default()
            ));
        }
    }
    assert!(
        invalid.is_empty(),
        "plausible inputs refused:\n  {}",
        invalid.join("\n  ")
    );
}

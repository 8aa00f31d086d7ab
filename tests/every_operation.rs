//! Every operation of the pinned IAM and STS models (`model/`), sent with well-formed inputs built
//! from the model (required members, lengths, enums, patterns, and values of the right kind for
//! names, paths, ARNs and policy documents): each answers an AWS-shaped success or one of AWS's
//! own errors, never `NotImplemented`, a 5xx or a malformed answer. Most of them refer to
//! entities that do not exist, so `NoSuchEntity` is a fine answer; the point is that every
//! operation has a real handler behind it (issue "The rest of IAM", item 7).

use crate::common;

use common::*;
use serde_json::Value;

const IAM_MODEL: &str = include_str!("../model/iam-2010-05-08.json");
const STS_MODEL: &str = include_str!("../model/sts-2011-06-15.json");

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;

const CERT: &str = include_str!("data/server-certs/leaf-cert.pem");
const CERT_KEY: &str = include_str!("data/server-certs/leaf-key.pem");
const SSH_KEY: &str = include_str!("data/user_credentials/ssh-1.pub");
const IDP_CERT: &str = include_str!("data/saml/idp-cert.pem");

/// SAML 2.0 metadata with the test identity provider's signing certificate.
fn saml_metadata() -> String {
    let body: String = IDP_CERT
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/cov">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

/// Members the model leaves optional that these operations need to do anything (as AWS's API
/// reference says).
const ALSO: &[(&str, &str)] = &[
    ("CreateLoginProfile", "Password"),
    ("CreateLoginProfile", "UserName"),
    ("GetLoginProfile", "UserName"),
    ("DeleteLoginProfile", "UserName"),
];

/// A value for a string member, from the operation, its name and its shape's constraints.
fn string_value(op: &str, member: &str, shape: &Value) -> String {
    if let Some(first) = shape["enum"].as_array().and_then(|e| e.first()) {
        return first.as_str().unwrap_or_default().to_string();
    }
    let m = member.to_ascii_lowercase();
    let pattern = shape["pattern"].as_str().unwrap_or_default();
    let fixed = match () {
        _ if m == "assumerolepolicydocument"
            || (op == "UpdateAssumeRolePolicy" && m == "policydocument") =>
        {
            Some(TRUST.to_string())
        }
        _ if m == "certificatebody" => Some(CERT.to_string()),
        _ if m == "privatekey" => Some(CERT_KEY.to_string()),
        _ if m == "sshpublickeybody" => Some(SSH_KEY.to_string()),
        _ if m == "samlmetadatadocument" => Some(saml_metadata()),
        _ if m == "awsservicename" => Some("elasticbeanstalk.amazonaws.com".into()),
        _ if m == "servicename" => Some("codecommit.amazonaws.com".into()),
        _ if m == "actionnames" => Some("iam:GetUser".into()),
        _ if m == "thumbprintlist" => Some("990f4193972f2becf12ddeda5237f9c952f20d9e".into()),
        _ if m == "signingalgorithm" => Some("RS256".into()),
        _ if m == "password" || m == "newpassword" || m == "oldpassword" => {
            Some("Cov-Passw0rd!2030".into())
        }
        _ if m == "taskpolicyarn" => {
            Some("arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials".into())
        }
        _ if m.ends_with("policydocument") || m == "policy" || m == "policyinputlist" => {
            Some(POLICY.to_string())
        }
        _ if m == "policyarn" || m == "permissionsboundary" || m == "policytemplatearn" => {
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess".into())
        }
        _ if m == "rolearn" => Some("arn:aws:iam::000000000000:role/cov-role".into()),
        _ if m == "principalarn" => Some("arn:aws:iam::000000000000:saml-provider/cov".into()),
        _ if m == "samlproviderarn" => Some("arn:aws:iam::000000000000:saml-provider/cov".into()),
        _ if m == "openidconnectproviderarn" => {
            Some("arn:aws:iam::000000000000:oidc-provider/example.com".into())
        }
        _ if m == "serialnumber" => Some("arn:aws:iam::000000000000:mfa/cov".into()),
        _ if m == "notificationchannel" => Some("arn:aws:sns:us-east-1:000000000000:cov".into()),
        _ if m.ends_with("arn") || m == "arn" => {
            Some("arn:aws:iam::000000000000:user/cov-user".into())
        }
        _ if m.starts_with("path") || m == "newpath" => Some("/".into()),
        _ if m == "url" || m == "redirecturl" => Some("https://example.com".into()),
        _ if m.contains("code") && !m.contains("encoding") => Some("123456".into()),
        _ if m == "externalid" => Some("cov-external".into()),
        _ if m == "rolesessionname" => Some("cov-session".into()),
        _ if m.contains("email") => Some("cov@example.com".into()),
        _ if pattern == r"\d{12}" => Some("000000000000".into()),
        _ if pattern == "[A-Z0-9]+" => Some("COV".into()),
        _ if pattern.starts_with("^p-") => Some("p-abcdefgh".into()),
        _ if pattern.starts_with("^o-[a-z0-9]{10,32}$") => Some("o-abcdefghij".into()),
        _ if pattern.starts_with("^o-") => Some("o-abcdefghij/r-abcd".into()),
        _ if pattern.starts_with("v[1-9]") => Some("v1".into()),
        _ if pattern.starts_with("^http") => Some("https://example.com".into()),
        _ if pattern == r"[\d]+" => Some("1".into()),
        _ if pattern == r"[\w]+" || pattern == r"[\w]*" => Some("COVVALUE".into()),
        _ if pattern.contains("-(?!-)") => Some("cov-alias".into()),
        _ => None,
    };
    let mut v = fixed.unwrap_or_else(|| "cov-value".to_string());
    let min = shape["min"].as_u64().unwrap_or(0) as usize;
    let max = shape["max"].as_u64().unwrap_or(u64::MAX) as usize;
    while v.len() < min {
        v.push('a');
    }
    v.truncate(max.max(min));
    v
}

/// The Query parameters of a value of `shape` under `prefix` (required members only, and the
/// operation's [`ALSO`] members at the top; every member of a structure that requires none).
fn params(
    model: &Value,
    op: &str,
    shape_name: &str,
    member: &str,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    let shape = &model["shapes"][shape_name];
    match shape["type"].as_str().unwrap_or_default() {
        "structure" => {
            let mut required: Vec<&str> = shape["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // A member structure with nothing required (DelegationPermission,
            // PolicyDescriptorType): all of its members.
            if !prefix.is_empty() && required.is_empty() {
                if let Some(members) = shape["members"].as_object() {
                    required.extend(members.keys().map(String::as_str));
                }
            }
            if prefix.is_empty() {
                required.extend(
                    ALSO.iter()
                        .filter(|(o, m)| *o == op && !shape["members"][*m].is_null())
                        .map(|(_, m)| *m),
                );
            }
            for name in required {
                let target = shape["members"][name]["shape"].as_str().unwrap_or_default();
                let key = if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{prefix}.{name}")
                };
                params(model, op, target, name, &key, out);
            }
        }
        "list" => {
            let target = shape["member"]["shape"].as_str().unwrap_or_default();
            let n = shape["min"].as_u64().unwrap_or(1).max(1);
            for i in 1..=n {
                params(
                    model,
                    op,
                    target,
                    member,
                    &format!("{prefix}.member.{i}"),
                    out,
                );
            }
        }
        "map" => {
            let k = shape["key"]["shape"].as_str().unwrap_or_default();
            let v = shape["value"]["shape"].as_str().unwrap_or_default();
            params(model, op, k, "key", &format!("{prefix}.entry.1.key"), out);
            params(
                model,
                op,
                v,
                "value",
                &format!("{prefix}.entry.1.value"),
                out,
            );
        }
        "integer" | "long" => {
            let m = member.to_ascii_lowercase();
            let min = shape["min"].as_i64().unwrap_or(1).max(1);
            let value = if m.contains("duration") {
                3600.max(min)
            } else {
                min
            };
            out.push((prefix.to_string(), value.to_string()));
        }
        "boolean" => out.push((prefix.to_string(), "false".to_string())),
        "timestamp" => out.push((prefix.to_string(), "2030-01-01T00:00:00Z".to_string())),
        "blob" => out.push((prefix.to_string(), "Y292".to_string())),
        _ => out.push((prefix.to_string(), string_value(op, member, shape))),
    }
}

#[tokio::test]
async fn every_operation_answers_with_a_real_handler() {
    let srv = TestServer::start().await;
    let mut failures = Vec::new();
    let mut answered = Vec::new();
    for (text, version) in [(IAM_MODEL, "2010-05-08"), (STS_MODEL, "2011-06-15")] {
        let model: Value = serde_json::from_str(text).unwrap();
        let ops = model["operations"].as_object().unwrap();
        assert!(ops.len() >= 11);
        for (name, op) in ops {
            let mut p = vec![
                ("Action".to_string(), name.clone()),
                ("Version".to_string(), version.to_string()),
            ];
            if let Some(input) = op["input"]["shape"].as_str() {
                params(&model, name, input, "", "", &mut p);
            }
            let pairs: Vec<(&str, &str)> =
                p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let r = srv.raw().post_form(&pairs).await;
            let code = r.code();
            let outcome = match (r.status, code.as_deref()) {
                (200, None) if r.body.contains(&format!("<{name}Response")) => {
                    "success".to_string()
                }
                (400..=499, Some(c)) if c != "NotImplemented" => {
                    format!("{} {c} ({})", r.status, r.message().unwrap_or_default())
                }
                _ => {
                    failures.push(format!("{name}: {} {}", r.status, r.body));
                    continue;
                }
            };
            answered.push(format!("{name}: {outcome}"));
        }
    }
    for line in &answered {
        println!("{line}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(answered.len(), 176 + 11, "{answered:#?}");
    // The inputs are well-formed: no operation refuses them as malformed.
    let malformed: Vec<&String> = answered
        .iter()
        .filter(|l| l.contains("ValidationError") || l.contains("MalformedPolicyDocument"))
        .collect();
    println!("refused as malformed: {malformed:#?}");
    assert!(malformed.is_empty(), "{malformed:#?}");
    srv.stop().await;
}

//! SAML providers and AssumeRoleWithSAML through the AWS SDK for Rust: provider CRUD, tags and
//! errors; SAML responses signed here with a test identity provider's key (`tests/data/saml`),
//! accepted, then refused when tampered, unsigned, signed by another key, expired, for another
//! audience, from another issuer or without the requested role pair; the `saml:aud` condition of
//! a trust policy decided in `enforce` only.
//!
//! The responses are written in canonical form where they are signed (exclusive XML
//! canonicalization), so the digest and signature computed here are independent of localiam's
//! canonicalizer; the documents sent differ from that form (namespace declarations moved, empty
//! elements, attribute order), which localiam must canonicalize back.

use crate::common;

use base64::Engine as _;
use common::*;
use localiam::config::AuthMode;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use sha2::Digest as _;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const IDP_KEY: &str = include_str!("data/saml/idp-key.pem");
const IDP_CERT: &str = include_str!("data/saml/idp-cert.pem");
const OTHER_KEY: &str = include_str!("data/saml/other-key.pem");
const OTHER_CERT: &str = include_str!("data/saml/other-cert.pem");
const ISSUER: &str = "https://idp.example.com/metadata";
const AWS_AUDIENCE: &str = "https://signin.aws.amazon.com/saml";
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

fn cert_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// SAML 2.0 metadata of an identity provider with this entity ID and signing certificate.
fn metadata(entity_id: &str, cert_pem: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
        cert_body(cert_pem)
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Signed {
    Response,
    Assertion,
    Nothing,
}

/// A SAML response to build and sign.
#[derive(Clone)]
struct Saml {
    issuer: String,
    audience: String,
    roles: Vec<String>,
    session_name: Option<String>,
    not_before: OffsetDateTime,
    not_on_or_after: OffsetDateTime,
    signed: Signed,
    key: &'static str,
    extra_attributes: Vec<(String, String)>,
}

fn iso(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

impl Saml {
    fn new(role_arn: &str, provider_arn: &str) -> Saml {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        Saml {
            issuer: ISSUER.to_string(),
            audience: AWS_AUDIENCE.to_string(),
            roles: vec![format!("{role_arn},{provider_arn}")],
            session_name: Some("alice@example.com".to_string()),
            not_before: now - Duration::minutes(1),
            not_on_or_after: now + Duration::minutes(5),
            signed: Signed::Response,
            key: IDP_KEY,
            extra_attributes: Vec::new(),
        }
    }

    /// The assertion in canonical form (`xmlns:saml` on itself), `sig` after its issuer.
    fn assertion(&self, sig: &str) -> String {
        let mut attrs: Vec<(String, Vec<String>)> = vec![(
            "https://aws.amazon.com/SAML/Attributes/Role".to_string(),
            self.roles.clone(),
        )];
        if let Some(n) = &self.session_name {
            attrs.push((
                "https://aws.amazon.com/SAML/Attributes/RoleSessionName".to_string(),
                vec![n.clone()],
            ));
        }
        for (k, v) in &self.extra_attributes {
            attrs.push((k.clone(), vec![v.clone()]));
        }
        let attrs: String = attrs
            .iter()
            .map(|(name, values)| {
                let values: String = values
                    .iter()
                    .map(|v| format!("<saml:AttributeValue>{v}</saml:AttributeValue>"))
                    .collect();
                format!(r#"<saml:Attribute Name="{name}">{values}</saml:Attribute>"#)
            })
            .collect();
        let (b, e) = (iso(self.not_before), iso(self.not_on_or_after));
        format!(
            concat!(
                r#"<saml:Assertion xmlns:saml="{ns}" ID="_assertion1" IssueInstant="{b}" Version="2.0">"#,
                r#"<saml:Issuer>{iss}</saml:Issuer>{sig}"#,
                r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice</saml:NameID>"#,
                r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
                r#"<saml:SubjectConfirmationData NotOnOrAfter="{e}" Recipient="https://signin.aws.amazon.com/saml"></saml:SubjectConfirmationData>"#,
                r#"</saml:SubjectConfirmation></saml:Subject>"#,
                r#"<saml:Conditions NotBefore="{b}" NotOnOrAfter="{e}"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"#,
                r#"<saml:AuthnStatement AuthnInstant="{b}" SessionIndex="_session1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"#,
                r#"<saml:AttributeStatement>{attrs}</saml:AttributeStatement></saml:Assertion>"#
            ),
            ns = ASSERTION_NS,
            b = b,
            e = e,
            iss = self.issuer,
            sig = sig,
            aud = self.audience,
            attrs = attrs
        )
    }

    /// The response in canonical form, `sig` after its issuer.
    fn response(&self, sig: &str, assertion: &str) -> String {
        format!(
            concat!(
                r#"<samlp:Response xmlns:samlp="{p}" Destination="https://signin.aws.amazon.com/saml" ID="_response1" IssueInstant="{t}" Version="2.0">"#,
                r#"<saml:Issuer xmlns:saml="{a}">{iss}</saml:Issuer>{sig}"#,
                r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode></samlp:Status>"#,
                r#"{assertion}</samlp:Response>"#
            ),
            p = PROTOCOL_NS,
            a = ASSERTION_NS,
            t = iso(self.not_before),
            iss = self.issuer,
            sig = sig,
            assertion = assertion
        )
    }

    /// An enveloped signature over `canonical` (the element without its signature), `id` its ID.
    fn signature(&self, canonical: &str, id: &str) -> String {
        let digest = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(canonical.as_bytes()));
        let inner = format!(
            concat!(
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>"#,
                r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>"#,
                r##"<ds:Reference URI="#{id}"><ds:Transforms>"##,
                r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>"#,
                r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>"#,
                r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>"#,
                r#"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"#
            ),
            id = id,
            digest = digest
        );
        // SignedInfo is signed in canonical form: with the ds namespace it inherits.
        let signed_info = format!(r#"<ds:SignedInfo xmlns:ds="{DSIG_NS}">{inner}</ds:SignedInfo>"#);
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(self.key).unwrap();
        let value = SigningKey::<sha2::Sha256>::new(key).sign(signed_info.as_bytes());
        let value = base64::engine::general_purpose::STANDARD.encode(value.to_bytes());
        format!(
            r#"<ds:Signature xmlns:ds="{DSIG_NS}"><ds:SignedInfo>{inner}</ds:SignedInfo><ds:SignatureValue>{value}</ds:SignatureValue></ds:Signature>"#
        )
    }

    /// The response as an identity provider sends it (not in canonical form).
    fn xml(&self) -> String {
        let assertion_sig = match self.signed {
            Signed::Assertion => self.signature(&self.assertion(""), "_assertion1"),
            _ => String::new(),
        };
        let assertion = self.assertion(&assertion_sig);
        let response_sig = match self.signed {
            Signed::Response => self.signature(&self.response("", &assertion), "_response1"),
            _ => String::new(),
        };
        let canonical = self.response(&response_sig, &assertion);
        // Declare saml: once at the root, write empty elements as such, shuffle attributes: the
        // canonical form is unchanged.
        let e = iso(self.not_on_or_after);
        canonical
            .replace(&format!(r#" xmlns:saml="{ASSERTION_NS}""#), "")
            .replacen(
                &format!(r#"<samlp:Response xmlns:samlp="{PROTOCOL_NS}""#),
                &format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><samlp:Response xmlns:saml="{ASSERTION_NS}" xmlns:samlp="{PROTOCOL_NS}""#
                ),
                1,
            )
            .replace(
                r#"Value="urn:oasis:names:tc:SAML:2.0:status:Success"></samlp:StatusCode>"#,
                r#"Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#,
            )
            .replace(
                &format!(
                    r#"<saml:SubjectConfirmationData NotOnOrAfter="{e}" Recipient="https://signin.aws.amazon.com/saml"></saml:SubjectConfirmationData>"#
                ),
                &format!(
                    "<saml:SubjectConfirmationData Recipient='https://signin.aws.amazon.com/saml'\n    NotOnOrAfter=\"{e}\" />"
                ),
            )
    }

    fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.xml())
    }
}

async fn provider(iam: &aws_sdk_iam::Client, name: &str, cert: &str) -> String {
    iam.create_saml_provider()
        .name(name)
        .saml_metadata_document(metadata(ISSUER, cert))
        .send()
        .await
        .unwrap()
        .saml_provider_arn()
        .unwrap()
        .to_string()
}

fn saml_trust(provider_arn: &str, audience: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"saml:aud": audience}}
        }]
    })
    .to_string()
}

async fn assume(
    srv: &TestServer,
    role_arn: &str,
    provider_arn: &str,
    saml: &Saml,
) -> Result<
    aws_sdk_sts::operation::assume_role_with_saml::AssumeRoleWithSamlOutput,
    aws_sdk_sts::error::SdkError<
        aws_sdk_sts::operation::assume_role_with_saml::AssumeRoleWithSAMLError,
    >,
> {
    srv.sts()
        .assume_role_with_saml()
        .role_arn(role_arn)
        .principal_arn(provider_arn)
        .saml_assertion(saml.encoded())
        .send()
        .await
}

#[tokio::test]
async fn providers_are_created_read_listed_updated_tagged_and_deleted() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let doc = metadata(ISSUER, IDP_CERT);
    let created = iam
        .create_saml_provider()
        .name("corp-idp")
        .saml_metadata_document(&doc)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("sec")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let arn = created.saml_provider_arn().unwrap().to_string();
    assert_eq!(arn, "arn:aws:iam::000000000000:saml-provider/corp-idp");
    assert_eq!(created.tags().len(), 1);

    let got = iam
        .get_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.saml_metadata_document(), Some(doc.as_str()));
    assert_eq!(got.saml_provider_uuid().map(str::len), Some(32));
    assert_eq!(
        got.assertion_encryption_mode().map(|m| m.as_str()),
        Some("Allowed")
    );
    assert!(got.private_key_list().is_empty());
    assert!(got.valid_until().unwrap().secs() > got.create_date().unwrap().secs());

    let list = iam.list_saml_providers().send().await.unwrap();
    let arns: Vec<_> = list
        .saml_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .collect();
    assert_eq!(arns, [arn.as_str()]);

    assert_err(
        iam.create_saml_provider()
            .name("CORP-IDP")
            .saml_metadata_document(&doc)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "SAMLProvider CORP-IDP already exists.",
    );
    let not_metadata = format!("<html><body>{}</body></html>", "x".repeat(1000));
    assert_err(
        iam.create_saml_provider()
            .name("bad")
            .saml_metadata_document(not_metadata)
            .send()
            .await,
        "InvalidInput",
        400,
        "Could not parse metadata",
    );
    assert_code(
        iam.create_saml_provider()
            .name("short")
            .saml_metadata_document("<md:EntityDescriptor/>")
            .send()
            .await,
        "ValidationError",
        400,
    );

    iam.tag_saml_provider()
        .saml_provider_arn(&arn)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("env")
                .value("dev")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.untag_saml_provider()
        .saml_provider_arn(&arn)
        .tag_keys("TEAM")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_saml_provider_tags()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["env"]);

    let updated = iam
        .update_saml_provider()
        .saml_provider_arn(&arn)
        .saml_metadata_document(metadata("https://other.example.com", OTHER_CERT))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.saml_provider_arn(), Some(arn.as_str()));
    let got = iam
        .get_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(got
        .saml_metadata_document()
        .unwrap()
        .contains("https://other.example.com"));

    iam.delete_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = "Manifest not found for arn arn:aws:iam::000000000000:saml-provider/corp-idp";
    assert_err(
        iam.get_saml_provider().saml_provider_arn(&arn).send().await,
        "NoSuchEntity",
        404,
        gone,
    );
    assert_err(
        iam.delete_saml_provider()
            .saml_provider_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
        404,
        gone,
    );
    assert_err(
        iam.list_saml_provider_tags()
            .saml_provider_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
        404,
        gone,
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_signed_response_gives_credentials_of_the_role() {
    // Strict: the call itself is unsigned, as on AWS.
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    let p = provider(&iam, "corp", IDP_CERT).await;
    let r = create_role(&iam, "federated", &saml_trust(&p, AWS_AUDIENCE)).await;

    for signed in [Signed::Response, Signed::Assertion] {
        let mut saml = Saml::new(&r, &p);
        saml.signed = signed;
        // Either order of the pair, among other roles.
        saml.roles = vec![
            format!("{p},arn:aws:iam::000000000000:role/other"),
            format!("{p},{r}"),
        ];
        let out = assume(&srv, &r, &p, &saml).await.unwrap();
        let user = out.assumed_role_user().unwrap();
        assert_eq!(
            user.arn(),
            "arn:aws:sts::000000000000:assumed-role/federated/alice@example.com"
        );
        assert!(user.assumed_role_id().ends_with(":alice@example.com"));
        assert_eq!(out.subject(), Some("alice"));
        assert_eq!(out.subject_type(), Some("persistent"));
        assert_eq!(out.issuer(), Some(ISSUER));
        assert_eq!(out.audience(), Some(AWS_AUDIENCE));
        let qualifier = base64::engine::general_purpose::STANDARD.encode(
            <sha1::Sha1 as sha2::Digest>::digest(format!("{ISSUER}000000000000/corp").as_bytes()),
        );
        assert_eq!(out.name_qualifier(), Some(qualifier.as_str()));

        let c = out.credentials().unwrap();
        let me = srv
            .sts_with(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token()),
            )
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(me.arn(), Some(user.arn()));
    }
    srv.stop().await;
}

#[tokio::test]
async fn forged_expired_and_mismatched_responses_are_refused() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let p = provider(&iam, "corp", IDP_CERT).await;
    let r = create_role(&iam, "federated", &saml_trust(&p, AWS_AUDIENCE)).await;
    let good = Saml::new(&r, &p);
    assume(&srv, &r, &p, &good).await.unwrap();
    let invalid = |m: &str| ("InvalidIdentityToken".to_string(), 400, m.to_string());
    let outcome = |res: Result<_, _>| {
        let e = expect_err(res);
        (e.code, e.status, e.message)
    };

    // An attribute changed after signing.
    let tampered = good
        .xml()
        .replace(">alice@example.com<", ">mallory@example.com<");
    let res = srv
        .sts()
        .assume_role_with_saml()
        .role_arn(&r)
        .principal_arn(&p)
        .saml_assertion(base64::engine::general_purpose::STANDARD.encode(tampered))
        .send()
        .await;
    assert_eq!(outcome(res), invalid("Response signature invalid"));

    for signed in [Signed::Response, Signed::Assertion] {
        let mut other_key = good.clone();
        other_key.signed = signed;
        other_key.key = OTHER_KEY;
        assert_eq!(
            outcome(assume(&srv, &r, &p, &other_key).await),
            invalid("Response signature invalid")
        );
    }
    let mut unsigned = good.clone();
    unsigned.signed = Signed::Nothing;
    assert_eq!(
        outcome(assume(&srv, &r, &p, &unsigned).await),
        invalid("Response signature invalid")
    );

    let mut expired = good.clone();
    expired.not_before -= Duration::hours(2);
    expired.not_on_or_after -= Duration::hours(1);
    assert_eq!(
        outcome(assume(&srv, &r, &p, &expired).await),
        (
            "ExpiredTokenException".to_string(),
            400,
            "Token must be redeemed within 5 minutes of issuance".to_string()
        )
    );

    let mut audience = good.clone();
    audience.audience = "https://app.example.com/saml".to_string();
    assert_eq!(
        outcome(assume(&srv, &r, &p, &audience).await),
        invalid("SAML Assertion doesn't contain the requested audience")
    );

    let mut issuer = good.clone();
    issuer.issuer = "https://idp.evil.example".to_string();
    assert_eq!(
        outcome(assume(&srv, &r, &p, &issuer).await),
        invalid("Issuer not present in specified provider")
    );

    let mut no_name = good.clone();
    no_name.session_name = None;
    assert_eq!(
        outcome(assume(&srv, &r, &p, &no_name).await),
        invalid("RoleSessionName is required in AuthnResponse")
    );
    let mut bad_name = good.clone();
    bad_name.session_name = Some("a".to_string());
    assert_eq!(
        outcome(assume(&srv, &r, &p, &bad_name).await),
        invalid("RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
    );

    // The response does not offer this role: whatever the trust policy says.
    let other = create_role(&iam, "other", &saml_trust(&p, AWS_AUDIENCE)).await;
    assert_err(
        assume(&srv, &other, &p, &good).await,
        "AccessDenied",
        403,
        "Not authorized to perform sts:AssumeRoleWithSAML",
    );
    let missing = "arn:aws:iam::000000000000:saml-provider/missing";
    assert_eq!(
        outcome(assume(&srv, &r, missing, &Saml::new(&r, missing)).await),
        invalid("Specified provider doesn't exist")
    );
    let garbage = srv
        .sts()
        .assume_role_with_saml()
        .role_arn(&r)
        .principal_arn(&p)
        .saml_assertion("not base64 at all!")
        .send()
        .await;
    assert_eq!(outcome(garbage), invalid("Invalid base64 SAMLResponse"));
    srv.stop().await;
}

#[tokio::test]
async fn trust_policy_saml_conditions_decide_in_enforce_only() {
    for mode in [AuthMode::Open, AuthMode::Enforce] {
        let srv = TestServer::start_auth(mode).await;
        let iam = srv.iam();
        let p = provider(&iam, "corp", IDP_CERT).await;
        let ok = create_role(&iam, "aws-audience", &saml_trust(&p, AWS_AUDIENCE)).await;
        let elsewhere = create_role(
            &iam,
            "other-audience",
            &saml_trust(&p, "https://elsewhere.example.com/saml"),
        )
        .await;
        let mut saml = Saml::new(&ok, &p);
        saml.roles.push(format!("{elsewhere},{p}"));
        assume(&srv, &ok, &p, &saml).await.unwrap();
        let denied = assume(&srv, &elsewhere, &p, &saml).await;
        if mode == AuthMode::Enforce {
            assert_err(
                denied,
                "AccessDenied",
                403,
                "Not authorized to perform sts:AssumeRoleWithSAML",
            );
        } else {
            denied.unwrap();
        }
        srv.stop().await;
    }
}

/// A response signed by xmlsec1 (see `tests/data/saml/README.md`): verified by another
/// implementation's signature, then refused once changed.
#[tokio::test]
async fn a_response_signed_by_xmlsec_is_accepted() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let iam = srv.iam();
    let p = provider(&iam, "xmlsec", IDP_CERT).await;
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": p},
            "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            "Condition": {
                "StringEquals": {"saml:edupersonprincipalname": "bob@example.com"},
                "StringLike": {"saml:aud": "https://signin.aws.amazon.com/saml"}
            }
        }]
    })
    .to_string();
    let r = create_role(&iam, "xmlsec-role", &trust).await;
    let signed = include_str!("data/saml/xmlsec-signed-response.xml");
    let send = |xml: String| {
        srv.sts()
            .assume_role_with_saml()
            .role_arn(&r)
            .principal_arn(&p)
            .saml_assertion(base64::engine::general_purpose::STANDARD.encode(xml))
            .send()
    };
    let out = send(signed.to_string()).await.unwrap();
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::000000000000:assumed-role/xmlsec-role/bob"
    );
    assert_eq!(out.subject_type(), Some("emailAddress"));
    assert_eq!(out.audience(), Some(AWS_AUDIENCE));

    let changed = signed.replace("R&amp;D", "Sales");
    assert_eq!(expect_err(send(changed).await).code, "InvalidIdentityToken");
    srv.stop().await;
}

//! SAML 2.0 for SAML providers and AssumeRoleWithSAML: the identity provider's metadata (entity
//! ID, signing certificates, `validUntil`) and the authentication response (its signed assertion:
//! issuer, subject, audiences, validity window, attributes). Pure: no I/O, no clock.
//!
//! What is read from a response is only ever read from an element whose signature was verified
//! (the whole `Response`, or its one `Assertion`), with every ID in the document unique, so that a
//! signed element cannot be wrapped inside an unsigned one (signature wrapping).

pub mod dsig;
pub mod xml;

use std::collections::HashSet;

use base64::Engine as _;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::RsaPublicKey;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_cert::der::{Decode as _, Encode as _};

use dsig::{DsigError, DSIG_NS};
use xml::{Document, ElemId, XmlError};

pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What localiam keeps of an identity provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub entity_id: String,
    pub valid_until: Option<OffsetDateTime>,
    /// The signing certificates (base64 DER, as in the metadata, without white space).
    pub certificates: Vec<String>,
}

/// Why metadata was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not SAML 2.0 metadata: {0}")]
    Invalid(&'static str),
}

/// The RSA key of a certificate (base64 DER); `None` when it is not an RSA certificate.
pub fn certificate_key(cert_b64: &str) -> Option<RsaPublicKey> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(cert_b64)
        .ok()?;
    let cert = x509_cert::Certificate::from_der(&der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// Parses an identity provider's metadata: an `md:EntityDescriptor` with an `entityID` and an
/// `md:IDPSSODescriptor` holding at least one signing certificate (RSA).
pub fn parse_metadata(text: &str) -> Result<Metadata, MetadataError> {
    let doc = Document::parse(text)?;
    let root = 0;
    if !doc.elem(root).is(MD_NS, "EntityDescriptor") {
        return Err(MetadataError::Invalid(
            "the root is not md:EntityDescriptor",
        ));
    }
    let entity_id = doc
        .elem(root)
        .attr("entityID")
        .filter(|e| !e.trim().is_empty())
        .ok_or(MetadataError::Invalid("no entityID"))?
        .to_string();
    let valid_until = match doc.elem(root).attr("validUntil") {
        Some(v) => Some(parse_time(v).ok_or(MetadataError::Invalid("validUntil"))?),
        None => None,
    };
    let idp = doc
        .child(root, MD_NS, "IDPSSODescriptor")
        .ok_or(MetadataError::Invalid("no md:IDPSSODescriptor"))?;
    let mut certificates = Vec::new();
    for kd in doc.children_named(idp, MD_NS, "KeyDescriptor") {
        if !matches!(doc.elem(kd).attr("use"), None | Some("signing")) {
            continue;
        }
        let certs = doc
            .children_named(kd, DSIG_NS, "KeyInfo")
            .flat_map(|ki| doc.children_named(ki, DSIG_NS, "X509Data"))
            .flat_map(|xd| doc.children_named(xd, DSIG_NS, "X509Certificate"));
        for c in certs {
            let b64: String = doc.text(c).split_whitespace().collect();
            if certificate_key(&b64).is_none() {
                return Err(MetadataError::Invalid(
                    "a signing certificate is not an RSA X.509 certificate",
                ));
            }
            certificates.push(b64);
        }
    }
    if certificates.is_empty() {
        return Err(MetadataError::Invalid("no signing certificate"));
    }
    Ok(Metadata {
        entity_id,
        valid_until,
        certificates,
    })
}

/// What AssumeRoleWithSAML uses of a verified assertion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assertion {
    pub issuer: String,
    /// `NameID` of the subject, and its `Format`.
    pub subject: Option<String>,
    pub subject_format: Option<String>,
    /// `AudienceRestriction/Audience` values of the conditions.
    pub audiences: Vec<String>,
    /// `Recipient` of the bearer `SubjectConfirmationData`.
    pub recipient: Option<String>,
    pub not_before: Option<OffsetDateTime>,
    pub not_on_or_after: Option<OffsetDateTime>,
    /// `NotOnOrAfter` of the bearer `SubjectConfirmationData`.
    pub confirmation_not_on_or_after: Option<OffsetDateTime>,
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// Every attribute: name and values, in document order.
    pub attributes: Vec<(String, Vec<String>)>,
}

impl Assertion {
    /// The values of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Why a response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not a SAML 2.0 response: {0}")]
    Invalid(&'static str),
    #[error("the response does not report success")]
    NotSuccess,
    #[error("encrypted assertions are not supported")]
    Encrypted,
    #[error(transparent)]
    Signature(#[from] DsigError),
}

/// Every `ID`-like attribute is unique in the document (no element can pose as the signed one).
fn check_unique_ids(doc: &Document) -> Result<(), ResponseError> {
    let mut seen = HashSet::new();
    for e in &doc.elems {
        for a in &e.attrs {
            let is_id =
                a.prefix.is_none() && matches!(a.local.as_str(), "ID" | "Id" | "AssertionID");
            if is_id && !seen.insert(a.value.as_str()) {
                return Err(ResponseError::Invalid("duplicate ID"));
            }
        }
    }
    Ok(())
}

/// Parses a SAML response, verifies its signature (on the response or on its assertion) with
/// one of `keys`, and reads its one assertion. Times are not checked here.
pub fn read_response(text: &str, keys: &[RsaPublicKey]) -> Result<Assertion, ResponseError> {
    let doc = Document::parse(text)?;
    let root = 0;
    if !doc.elem(root).is(PROTOCOL_NS, "Response") {
        return Err(ResponseError::Invalid("the root is not samlp:Response"));
    }
    check_unique_ids(&doc)?;
    let status = doc
        .child(root, PROTOCOL_NS, "Status")
        .and_then(|s| doc.child(s, PROTOCOL_NS, "StatusCode"))
        .and_then(|c| doc.elem(c).attr("Value"));
    if status.is_some_and(|s| s != STATUS_SUCCESS) {
        return Err(ResponseError::NotSuccess);
    }
    if doc
        .child(root, ASSERTION_NS, "EncryptedAssertion")
        .is_some()
    {
        return Err(ResponseError::Encrypted);
    }
    let mut assertions = doc.children_named(root, ASSERTION_NS, "Assertion");
    let assertion = assertions
        .next()
        .ok_or(ResponseError::Invalid("no assertion"))?;
    if assertions.next().is_some() {
        return Err(ResponseError::Invalid("more than one assertion"));
    }
    let response_signed = dsig::is_signed(&doc, root);
    let assertion_signed = dsig::is_signed(&doc, assertion);
    if !response_signed && !assertion_signed {
        return Err(DsigError::Unsigned.into());
    }
    if response_signed {
        dsig::verify(&doc, root, keys)?;
    }
    if assertion_signed {
        dsig::verify(&doc, assertion, keys)?;
    }
    Ok(read_assertion(&doc, assertion))
}

fn time_attr(doc: &Document, id: ElemId, name: &str) -> Option<OffsetDateTime> {
    doc.elem(id).attr(name).and_then(parse_time)
}

fn read_assertion(doc: &Document, a: ElemId) -> Assertion {
    let mut out = Assertion {
        issuer: doc
            .child(a, ASSERTION_NS, "Issuer")
            .map(|i| doc.text(i).trim().to_string())
            .unwrap_or_default(),
        ..Assertion::default()
    };
    if let Some(subject) = doc.child(a, ASSERTION_NS, "Subject") {
        if let Some(n) = doc.child(subject, ASSERTION_NS, "NameID") {
            out.subject = Some(doc.text(n).trim().to_string());
            out.subject_format = doc.elem(n).attr("Format").map(str::to_string);
        }
        for sc in doc.children_named(subject, ASSERTION_NS, "SubjectConfirmation") {
            if doc.elem(sc).attr("Method") != Some(BEARER) {
                continue;
            }
            if let Some(d) = doc.child(sc, ASSERTION_NS, "SubjectConfirmationData") {
                out.recipient = doc.elem(d).attr("Recipient").map(str::to_string);
                out.confirmation_not_on_or_after = time_attr(doc, d, "NotOnOrAfter");
            }
        }
    }
    if let Some(c) = doc.child(a, ASSERTION_NS, "Conditions") {
        out.not_before = time_attr(doc, c, "NotBefore");
        out.not_on_or_after = time_attr(doc, c, "NotOnOrAfter");
        out.audiences = doc
            .children_named(c, ASSERTION_NS, "AudienceRestriction")
            .flat_map(|r| doc.children_named(r, ASSERTION_NS, "Audience"))
            .map(|au| doc.text(au).trim().to_string())
            .collect();
    }
    if let Some(s) = doc.child(a, ASSERTION_NS, "AuthnStatement") {
        out.session_not_on_or_after = time_attr(doc, s, "SessionNotOnOrAfter");
    }
    for st in doc.children_named(a, ASSERTION_NS, "AttributeStatement") {
        for at in doc.children_named(st, ASSERTION_NS, "Attribute") {
            let name = doc.elem(at).attr("Name").unwrap_or_default().to_string();
            let values = doc
                .children_named(at, ASSERTION_NS, "AttributeValue")
                .map(|v| doc.text(v).trim().to_string())
                .collect();
            out.attributes.push((name, values));
        }
    }
    out
}

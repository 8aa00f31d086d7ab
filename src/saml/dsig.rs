//! XML signatures (XML-DSig) of SAML documents: an enveloped signature over one element,
//! referenced by its `ID`, with exclusive canonicalization, verified with RSA PKCS#1 v1.5 and
//! SHA-256 (or SHA-1) against the identity provider's certificates.

use base64::Engine as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use rsa::RsaPublicKey;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use super::xml::{Document, ElemId};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsigError {
    #[error("the element is not signed")]
    Unsigned,
    #[error("unsupported or malformed signature: {0}")]
    Unsupported(&'static str),
    #[error("the digest of the signed element does not match")]
    DigestMismatch,
    #[error("the signature does not verify with any certificate of the provider")]
    BadSignature,
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha1,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
        }
    }
}

fn algorithm(doc: &Document, id: ElemId) -> &str {
    doc.elem(id).attr("Algorithm").unwrap_or_default()
}

fn base64_text(doc: &Document, id: ElemId) -> Result<Vec<u8>, DsigError> {
    let text: String = doc.text(id).split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| DsigError::Unsupported("base64"))
}

/// The `InclusiveNamespaces PrefixList` of a canonicalization method or transform.
fn inclusive_prefixes(doc: &Document, id: ElemId) -> Vec<String> {
    doc.child(id, EXC_C14N, "InclusiveNamespaces")
        .and_then(|i| doc.elem(i).attr("PrefixList"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Whether `signed` carries an enveloped signature (a `ds:Signature` child).
pub fn is_signed(doc: &Document, signed: ElemId) -> bool {
    doc.child(signed, DSIG_NS, "Signature").is_some()
}

/// Verifies the enveloped signature of element `signed` (its `ds:Signature` child) with one of
/// `keys`. Only a signature whose one reference points at `signed` itself is accepted, so what
/// was verified is exactly the subtree the caller goes on to read.
pub fn verify(doc: &Document, signed: ElemId, keys: &[RsaPublicKey]) -> Result<(), DsigError> {
    let mut sigs = doc.children_named(signed, DSIG_NS, "Signature");
    let sig = sigs.next().ok_or(DsigError::Unsigned)?;
    if sigs.next().is_some() {
        return Err(DsigError::Unsupported("more than one signature"));
    }
    let need = |id: Option<ElemId>, what: &'static str| id.ok_or(DsigError::Unsupported(what));
    let info = need(doc.child(sig, DSIG_NS, "SignedInfo"), "SignedInfo")?;
    let c14n = need(
        doc.child(info, DSIG_NS, "CanonicalizationMethod"),
        "CanonicalizationMethod",
    )?;
    if algorithm(doc, c14n) != EXC_C14N {
        return Err(DsigError::Unsupported("canonicalization method"));
    }
    let method = need(
        doc.child(info, DSIG_NS, "SignatureMethod"),
        "SignatureMethod",
    )?;
    let sig_hash = match algorithm(doc, method) {
        RSA_SHA256 => Hash::Sha256,
        RSA_SHA1 => Hash::Sha1,
        _ => return Err(DsigError::Unsupported("signature method")),
    };
    let mut refs = doc.children_named(info, DSIG_NS, "Reference");
    let reference = need(refs.next(), "Reference")?;
    if refs.next().is_some() {
        return Err(DsigError::Unsupported("more than one reference"));
    }
    let id = doc
        .elem(signed)
        .attr("ID")
        .ok_or(DsigError::Unsupported("signed element without ID"))?;
    if doc.elem(reference).attr("URI") != Some(&format!("#{id}")) {
        return Err(DsigError::Unsupported("reference to another element"));
    }
    let mut enveloped = false;
    let mut inclusive = None;
    if let Some(transforms) = doc.child(reference, DSIG_NS, "Transforms") {
        for t in doc.children_named(transforms, DSIG_NS, "Transform") {
            match algorithm(doc, t) {
                ENVELOPED => enveloped = true,
                EXC_C14N => inclusive = Some(inclusive_prefixes(doc, t)),
                _ => return Err(DsigError::Unsupported("transform")),
            }
        }
    }
    let (true, Some(inclusive)) = (enveloped, inclusive) else {
        return Err(DsigError::Unsupported("transforms"));
    };
    let digest_method = need(
        doc.child(reference, DSIG_NS, "DigestMethod"),
        "DigestMethod",
    )?;
    let digest_hash = match algorithm(doc, digest_method) {
        SHA256 => Hash::Sha256,
        SHA1 => Hash::Sha1,
        _ => return Err(DsigError::Unsupported("digest method")),
    };
    let expected = base64_text(
        doc,
        need(doc.child(reference, DSIG_NS, "DigestValue"), "DigestValue")?,
    )?;
    let canonical = doc.exc_c14n(signed, Some(sig), &inclusive);
    let actual = digest_hash.digest(canonical.as_bytes());
    if !bool::from(actual.ct_eq(&expected)) {
        return Err(DsigError::DigestMismatch);
    }

    let value = base64_text(
        doc,
        need(doc.child(sig, DSIG_NS, "SignatureValue"), "SignatureValue")?,
    )?;
    let signature = Signature::try_from(value.as_slice()).map_err(|_| DsigError::BadSignature)?;
    let signed_info = doc.exc_c14n(info, None, &inclusive_prefixes(doc, c14n));
    let ok = keys.iter().any(|k| match sig_hash {
        Hash::Sha256 => VerifyingKey::<sha2::Sha256>::new(k.clone())
            .verify(signed_info.as_bytes(), &signature)
            .is_ok(),
        Hash::Sha1 => VerifyingKey::<sha1::Sha1>::new(k.clone())
            .verify(signed_info.as_bytes(), &signature)
            .is_ok(),
    });
    if ok {
        Ok(())
    } else {
        Err(DsigError::BadSignature)
    }
}

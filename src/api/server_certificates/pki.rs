//! What UploadServerCertificate checks of an upload: the PEM certificate, its unencrypted private
//! key and the optional chain. Pure: no I/O, the time is given.
//!
//! * The certificate: one PEM `CERTIFICATE` (X.509, DER inside), valid now.
//! * The key: PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, after an optional
//!   `EC PARAMETERS` block) or PKCS#8 (`PRIVATE KEY`); RSA of 1024 to 4096 bits, or ECDSA on P-256
//!   or P-384 (what IAM takes); its public half must be the certificate's.
//! * The chain: PEM certificates, each the issuer of the one before it (the first of the uploaded
//!   certificate): same name, and the signature verified where the algorithm is one of RSA
//!   PKCS#1 v1.5 or ECDSA with SHA-1/SHA-2.
//!
//! A private key is only ever parsed here: it is not kept, and no error or log line carries it.

use aws_lc_rs::signature::{self as lc, KeyPair as _};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use x509_cert::der::asn1::ObjectIdentifier as Oid;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
const SHA1_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// The RSA key sizes IAM takes for server certificates.
const RSA_BITS: std::ops::RangeInclusive<usize> = 1024..=4096;

/// Why an upload was refused; the handler words it as AWS does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The certificate or the private key is not PEM, not X.509 / a private key, or of a kind
    /// IAM does not take (the reason is for localiam's log, never the key itself).
    Unparsable(&'static str),
    /// The private key is not the certificate's.
    Mismatch,
    /// The certificate's `notAfter` has passed.
    Expired,
    /// The certificate's `notBefore` has not come yet.
    NotYetValid,
    /// The chain does not certify the certificate: `Some(i)` is the position (the certificate
    /// being 0, the chain's first 1, …) of the first chain certificate that is not the issuer of
    /// the one before it; `None` when the chain (or a certificate body holding several
    /// certificates) cannot be read as a chain at all.
    Chain(Option<usize>),
}

/// What is kept of a certificate that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The certificate's `notAfter`, unix seconds.
    pub not_after: i64,
}

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and DER contents.
struct Block {
    label: String,
    der: Vec<u8>,
}

/// The PEM blocks of a text; `None` when it has anything but white space outside them, or a
/// block that is not base64 (encryption headers included) or never ends.
fn pem_blocks(text: &str) -> Option<Vec<Block>> {
    use base64::Engine as _;
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        match open.take() {
            None if line.is_empty() => {}
            None => {
                let label = line.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
                open = Some((label.to_string(), String::new()));
            }
            Some((label, b64)) => {
                let end = line
                    .strip_prefix("-----END ")
                    .and_then(|l| l.strip_suffix("-----"));
                match end {
                    Some(l) if l == label => {
                        let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
                        blocks.push(Block { label, der });
                    }
                    Some(_) => return None,
                    None => open = Some((label, b64 + line)),
                }
            }
        }
    }
    open.is_none().then_some(blocks)
}

/// The certificates of a PEM text (only `CERTIFICATE` blocks); `None` when anything else is there
/// or one does not parse.
fn certificates(text: &str) -> Option<Vec<Certificate>> {
    pem_blocks(text)?
        .iter()
        .map(|b| (b.label == "CERTIFICATE").then(|| Certificate::from_der(&b.der).ok())?)
        .collect()
}

/// A public key of a kind IAM takes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicKey {
    Rsa(RsaPublicKey),
    /// The curve's OID and the uncompressed point.
    Ec(Oid, Vec<u8>),
}

/// A certificate's public key, when it is RSA or ECDSA on P-256, P-384 or P-521 (only the first
/// three can be server certificates; P-521 can sign a chain).
fn public_key(spki: &SubjectPublicKeyInfoOwned) -> Option<PublicKey> {
    if spki.algorithm.oid == RSA_ENCRYPTION {
        let der = spki.to_der().ok()?;
        return RsaPublicKey::from_public_key_der(&der)
            .ok()
            .map(PublicKey::Rsa);
    }
    if spki.algorithm.oid == EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()?
            .decode_as::<Oid>()
            .ok()?;
        return [P256, P384, P521]
            .contains(&curve)
            .then(|| PublicKey::Ec(curve, spki.subject_public_key.raw_bytes().to_vec()));
    }
    None
}

fn rsa_bits_ok(key: &RsaPublicKey) -> bool {
    RSA_BITS.contains(&key.n().bits())
}

/// The modulus size of a PKCS#1 private key, read before the key is built (building validates
/// the key, which costs more the larger it is).
fn pkcs1_modulus_bits(der: &[u8]) -> Option<usize> {
    let k = rsa::pkcs1::RsaPrivateKey::from_der(der).ok()?;
    let n = k.modulus.as_bytes();
    let first = *n.first()?;
    Some(n.len() * 8 - first.leading_zeros() as usize)
}

fn rsa_private(pkcs1: &[u8]) -> Result<PublicKey, Refusal> {
    let bits = pkcs1_modulus_bits(pkcs1).ok_or(Refusal::Unparsable("not an RSA private key"))?;
    if !RSA_BITS.contains(&bits) {
        return Err(Refusal::Unparsable("RSA key size IAM does not take"));
    }
    RsaPrivateKey::from_pkcs1_der(pkcs1)
        .map(|k| PublicKey::Rsa(k.to_public_key()))
        .map_err(|_| Refusal::Unparsable("not a valid RSA private key"))
}

/// An EC private key (SEC1 or PKCS#8) on P-256 or P-384, as its public key.
fn ec_private(der: &[u8]) -> Result<PublicKey, Refusal> {
    [
        (P256, &lc::ECDSA_P256_SHA256_ASN1_SIGNING),
        (P384, &lc::ECDSA_P384_SHA384_ASN1_SIGNING),
    ]
    .into_iter()
    .find_map(|(curve, alg)| {
        lc::EcdsaKeyPair::from_private_key_der(alg, der)
            .ok()
            .map(|k| PublicKey::Ec(curve, k.public_key().as_ref().to_vec()))
    })
    .ok_or(Refusal::Unparsable(
        "not an EC private key on P-256 or P-384",
    ))
}

/// The public half of an unencrypted PEM private key of a kind IAM takes.
fn private_key(text: &str) -> Result<PublicKey, Refusal> {
    let blocks = pem_blocks(text).ok_or(Refusal::Unparsable("the private key is not PEM"))?;
    let keys: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.label != "EC PARAMETERS")
        .collect();
    let [key] = keys.as_slice() else {
        return Err(Refusal::Unparsable("not one PEM private key"));
    };
    match key.label.as_str() {
        "RSA PRIVATE KEY" => rsa_private(&key.der),
        "EC PRIVATE KEY" => ec_private(&key.der),
        "PRIVATE KEY" => {
            let info = rsa::pkcs8::PrivateKeyInfo::try_from(key.der.as_slice())
                .map_err(|_| Refusal::Unparsable("not a PKCS#8 private key"))?;
            if info.algorithm.oid == RSA_ENCRYPTION {
                rsa_private(info.private_key)
            } else {
                ec_private(&key.der)
            }
        }
        _ => Err(Refusal::Unparsable(
            "not an unencrypted RSA or EC private key",
        )),
    }
}

fn unix(t: x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Whether `issuer` signed `cert`: the names match and, where the algorithm is one localiam
/// verifies, so does the signature.
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let names = cert.tbs_certificate.issuer.to_der().ok();
    if names.is_none() || names != issuer.tbs_certificate.subject.to_der().ok() {
        return false;
    }
    signature_ok(cert, issuer).unwrap_or(true)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// A signature algorithm localiam verifies: whether it is ECDSA (else RSA PKCS#1 v1.5), and its
/// hash.
fn signature_algorithm(oid: Oid) -> Option<(bool, Hash)> {
    [
        (SHA1_RSA, false, Hash::Sha1),
        (SHA256_RSA, false, Hash::Sha256),
        (SHA384_RSA, false, Hash::Sha384),
        (SHA512_RSA, false, Hash::Sha512),
        (ECDSA_SHA1, true, Hash::Sha1),
        (ECDSA_SHA256, true, Hash::Sha256),
        (ECDSA_SHA384, true, Hash::Sha384),
        (ECDSA_SHA512, true, Hash::Sha512),
    ]
    .into_iter()
    .find(|(o, _, _)| *o == oid)
    .map(|(_, ecdsa, hash)| (ecdsa, hash))
}

fn ecdsa_algorithm(curve: Oid, hash: Hash) -> Option<&'static lc::EcdsaVerificationAlgorithm> {
    Some(match hash {
        Hash::Sha1 if curve == P256 => &lc::ECDSA_P256_SHA1_ASN1,
        Hash::Sha256 if curve == P256 => &lc::ECDSA_P256_SHA256_ASN1,
        Hash::Sha384 if curve == P256 => &lc::ECDSA_P256_SHA384_ASN1,
        Hash::Sha512 if curve == P256 => &lc::ECDSA_P256_SHA512_ASN1,
        Hash::Sha256 if curve == P384 => &lc::ECDSA_P384_SHA256_ASN1,
        Hash::Sha384 if curve == P384 => &lc::ECDSA_P384_SHA384_ASN1,
        Hash::Sha512 if curve == P384 => &lc::ECDSA_P384_SHA512_ASN1,
        Hash::Sha256 if curve == P521 => &lc::ECDSA_P521_SHA256_ASN1,
        Hash::Sha384 if curve == P521 => &lc::ECDSA_P521_SHA384_ASN1,
        Hash::Sha512 if curve == P521 => &lc::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    })
}

/// `Some(verified)` when the signature algorithm and the issuer's key are ones localiam checks
/// (an RSA signature by an EC key, or the reverse, is `Some(false)`).
fn signature_ok(cert: &Certificate, issuer: &Certificate) -> Option<bool> {
    let (ecdsa, hash) = signature_algorithm(cert.signature_algorithm.oid)?;
    let key = public_key(&issuer.tbs_certificate.subject_public_key_info)?;
    let tbs = cert.tbs_certificate.to_der().ok()?;
    let sig = cert.signature.as_bytes()?;
    Some(match (key, ecdsa) {
        (PublicKey::Rsa(k), false) => {
            let Ok(sig) = Signature::try_from(sig) else {
                return Some(false);
            };
            match hash {
                Hash::Sha1 => VerifyingKey::<sha1::Sha1>::new(k).verify(&tbs, &sig),
                Hash::Sha256 => VerifyingKey::<sha2::Sha256>::new(k).verify(&tbs, &sig),
                Hash::Sha384 => VerifyingKey::<sha2::Sha384>::new(k).verify(&tbs, &sig),
                Hash::Sha512 => VerifyingKey::<sha2::Sha512>::new(k).verify(&tbs, &sig),
            }
            .is_ok()
        }
        (PublicKey::Ec(curve, point), true) => {
            lc::UnparsedPublicKey::new(ecdsa_algorithm(curve, hash)?, point)
                .verify(&tbs, sig)
                .is_ok()
        }
        _ => false,
    })
}

/// The `notAfter` of a text that is one PEM X.509 certificate.
pub fn not_after(body: &str) -> Option<i64> {
    match certificates(body)?.as_slice() {
        [c] => Some(unix(c.tbs_certificate.validity.not_after)),
        _ => None,
    }
}

/// Checks an upload at time `now` (unix seconds), in AWS's order: the certificate, the key and
/// that they match, the validity period, the chain.
pub fn check(body: &str, key: &str, chain: Option<&str>, now: i64) -> Result<Checked, Refusal> {
    let certs =
        certificates(body).ok_or(Refusal::Unparsable("the certificate is not PEM X.509"))?;
    let cert = match certs.as_slice() {
        [] => return Err(Refusal::Unparsable("no certificate")),
        [c] => c,
        _ => return Err(Refusal::Chain(None)),
    };
    let tbs = &cert.tbs_certificate;
    let public = public_key(&tbs.subject_public_key_info)
        .filter(|k| match k {
            PublicKey::Rsa(k) => rsa_bits_ok(k),
            PublicKey::Ec(curve, _) => *curve == P256 || *curve == P384,
        })
        .ok_or(Refusal::Unparsable(
            "the certificate's key is not one IAM takes",
        ))?;
    if private_key(key)? != public {
        return Err(Refusal::Mismatch);
    }
    if now < unix(tbs.validity.not_before) {
        return Err(Refusal::NotYetValid);
    }
    let not_after = unix(tbs.validity.not_after);
    if now > not_after {
        return Err(Refusal::Expired);
    }
    if let Some(chain) = chain {
        let chain = certificates(chain)
            .filter(|c| !c.is_empty())
            .ok_or(Refusal::Chain(None))?;
        let mut child = cert;
        for (i, c) in chain.iter().enumerate() {
            if !issued_by(child, c) {
                return Err(Refusal::Chain(Some(i + 1)));
            }
            child = c;
        }
    }
    Ok(Checked { not_after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_take_only_whole_base64_blocks() {
        let ok = "\n -----BEGIN A-----\nAAEC\nAw==\n-----END A-----\n\n-----BEGIN B-----\n-----END B-----\n";
        let blocks = pem_blocks(ok).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            (blocks[0].label.as_str(), blocks[0].der.clone()),
            ("A", vec![0, 1, 2, 3])
        );
        assert!(blocks[1].der.is_empty());
        for bad in [
            "text before\n-----BEGIN A-----\nAAEC\n-----END A-----",
            "-----BEGIN A-----\nAAEC\n-----END B-----",
            "-----BEGIN A-----\nAAEC\n",
            "-----BEGIN A-----\nProc-Type: 4,ENCRYPTED\nAAEC\n-----END A-----",
            "-----BEGIN A-----\nA!EC\n-----END A-----",
        ] {
            assert!(pem_blocks(bad).is_none(), "{bad:?}");
        }
        assert!(pem_blocks("").unwrap().is_empty());
    }

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/data/server-certs/", $name, ".pem"))
        };
    }

    /// The text of a PEM file with its blocks' DER changed by `f`.
    fn remade(text: &str, f: impl Fn(&mut Vec<u8>)) -> String {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        pem_blocks(text)
            .unwrap()
            .into_iter()
            .map(|mut b| {
                f(&mut b.der);
                format!(
                    "-----BEGIN {0}-----\n{1}\n-----END {0}-----\n",
                    b.label,
                    e.encode(&b.der)
                )
            })
            .collect()
    }

    #[test]
    fn damaged_certificates_keys_and_chains_are_refused_without_a_panic() {
        let now = 1_800_000_000;
        let (cert, key, chain) = (
            fixture!("leaf-cert"),
            fixture!("leaf-key"),
            fixture!("leaf-chain"),
        );
        assert_eq!(
            check(cert, key, Some(chain), now).map(|c| c.not_after),
            Ok(4_733_510_400)
        );
        let rsa = (fixture!("rsa2048-cert"), fixture!("rsa2048-key"));
        assert!(check(rsa.0, rsa.1, None, now).is_ok());
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut refusals = 0;
        for round in 0..300 {
            let (n, pos) = (next(), next());
            let damage = |der: &mut Vec<u8>| {
                let i = usize::try_from(pos).unwrap_or(0) % der.len().max(1);
                if n % 2 == 0 {
                    der.truncate(i);
                } else if let Some(b) = der.get_mut(i) {
                    *b ^= 1 << (n % 8);
                }
            };
            let refused = match round % 4 {
                0 => check(&remade(cert, damage), key, None, now),
                1 => check(cert, &remade(key, damage), None, now),
                2 => check(cert, key, Some(&remade(chain, damage)), now),
                _ => check(rsa.0, &remade(rsa.1, damage), None, now),
            };
            // A flipped bit may land where nothing is checked (an unused field, the dates): then
            // it may pass; a truncated block never does.
            if n % 2 == 0 {
                assert!(refused.is_err(), "round {round}: a truncated block passed");
            }
            refusals += usize::from(refused.is_err());
        }
        assert!(refusals >= 150, "{refusals}");
    }
}

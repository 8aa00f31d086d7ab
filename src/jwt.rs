//! JSON Web Tokens for web identity federation: verifying the ID tokens AssumeRoleWithWebIdentity
//! is given (RS256/RS384/RS512, ES256/ES384, against an issuer's JWKS), and each account's own
//! issuer (GetWebIdentityToken): its key pairs, the tokens it signs and its public JWKS.
//!
//! JWT and JWK handling is `jsonwebtoken`'s; key generation is `aws-lc-rs`'s. No I/O here.

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

use crate::store::model::IssuerSigningKey;

/// Why a token was not accepted. The caller turns each into AWS's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a JWT, or its header or claims are not JSON objects.
    #[error("not a valid JWT")]
    Malformed,
    /// No key of the issuer fits the token (unknown `kid`, no keys given, unsupported `alg`).
    #[error("no verification key")]
    NoKey,
    /// A key fits but the signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `exp` is past (Unix seconds: now, exp).
    #[error("expired")]
    Expired { now: i64, exp: i64 },
    /// `nbf` or `iat` is in the future.
    #[error("not yet valid")]
    NotYetValid,
    /// The token has no `exp`.
    #[error("no exp claim")]
    MissingExp,
}

/// Why a key could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("invalid stored key: {0}")]
    Invalid(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Tolerance for clock skew between the issuer and localiam, in seconds.
const LEEWAY: i64 = 60;

/// The claims of a token, without verifying anything: to find its issuer's keys.
pub fn peek_claims(token: &str) -> Result<serde_json::Map<String, Value>, VerifyError> {
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| VerifyError::Malformed)?;
    match claims {
        Value::Object(m) => Ok(m),
        _ => Err(VerifyError::Malformed),
    }
}

/// The algorithms an ID token may be signed with.
fn accepted(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    )
}

/// Verifies the token's signature against the issuer's keys and its time claims at `now` (Unix
/// seconds); returns its claims. Audience and issuer are the caller's to check.
pub fn verify(
    token: &str,
    jwks: &JwkSet,
    now: i64,
) -> Result<serde_json::Map<String, Value>, VerifyError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
    let claims = peek_claims(token)?;
    if !accepted(header.alg) {
        return Err(VerifyError::NoKey);
    }
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => jwks.find(kid).into_iter().collect(),
        None => jwks.keys.iter().collect(),
    };
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut fitting = false;
    let mut verified = false;
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match jsonwebtoken::decode::<Value>(token, &key, &validation) {
            Ok(_) => {
                verified = true;
                break;
            }
            Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                fitting = true;
            }
            Err(_) => {}
        }
    }
    if !verified {
        return Err(if fitting {
            VerifyError::BadSignature
        } else {
            VerifyError::NoKey
        });
    }
    // (`as` saturates: 1e300 is i64::MAX, so the sums below saturate too.)
    let time = |name: &str| claims.get(name).and_then(Value::as_f64).map(|v| v as i64);
    let exp = time("exp").ok_or(VerifyError::MissingExp)?;
    if exp.saturating_add(LEEWAY) <= now {
        return Err(VerifyError::Expired { now, exp });
    }
    let latest = now.saturating_add(LEEWAY);
    if time("nbf").is_some_and(|nbf| nbf > latest) || time("iat").is_some_and(|iat| iat > latest) {
        return Err(VerifyError::NotYetValid);
    }
    Ok(claims)
}

/// A JWKS document, parsed.
pub fn parse_jwks(text: &str) -> Result<JwkSet, String> {
    serde_json::from_str::<JwkSet>(text).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// An account's own issuer
// ---------------------------------------------------------------------------------------------

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A new signing key: `RS256` (RSA 2048) or `ES384` (P-384).
pub fn generate_key(alg: &str) -> Result<IssuerSigningKey, KeyError> {
    use aws_lc_rs::encoding::AsDer as _;
    let der = match alg {
        "RS256" => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| KeyError::Generate)?;
            let pkcs8 = pair.as_der().map_err(|_| KeyError::Generate)?;
            // jsonwebtoken signs RSA with the PKCS#1 key inside the PKCS#8 document.
            let pem = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                b64().encode(pkcs8.as_ref())
            );
            EncodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|e| KeyError::Invalid(e.to_string()))?
                .as_bytes()
                .to_vec()
        }
        "ES384" => {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
                &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                &rng,
            )
            .map_err(|_| KeyError::Generate)?
            .as_ref()
            .to_vec()
        }
        other => return Err(KeyError::Invalid(format!("unsupported algorithm {other}"))),
    };
    Ok(IssuerSigningKey {
        alg: alg.to_string(),
        kid: uuid::Uuid::new_v4().simple().to_string(),
        private_der: b64().encode(der),
    })
}

fn algorithm(key: &IssuerSigningKey) -> Result<Algorithm, KeyError> {
    match key.alg.as_str() {
        "RS256" => Ok(Algorithm::RS256),
        "ES384" => Ok(Algorithm::ES384),
        other => Err(KeyError::Invalid(format!("unsupported algorithm {other}"))),
    }
}

fn encoding_key(key: &IssuerSigningKey) -> Result<(EncodingKey, Algorithm), KeyError> {
    let der = b64()
        .decode(&key.private_der)
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
    let alg = algorithm(key)?;
    let k = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_der(&der),
        _ => EncodingKey::from_ec_der(&der),
    };
    Ok((k, alg))
}

/// A JWT of `claims`, signed with `key` (its `kid` in the header).
pub fn sign(key: &IssuerSigningKey, claims: &Value) -> Result<String, KeyError> {
    let (k, alg) = encoding_key(key)?;
    let mut header = Header::new(alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &k).map_err(|e| KeyError::Sign(e.to_string()))
}

/// The public keys of an issuer's signing keys, as its JWKS.
pub fn public_jwks(keys: &[IssuerSigningKey]) -> Result<JwkSet, KeyError> {
    let mut out = JwkSet { keys: Vec::new() };
    for key in keys {
        let (k, alg) = encoding_key(key)?;
        let mut jwk =
            Jwk::from_encoding_key(&k, alg).map_err(|e| KeyError::Invalid(e.to_string()))?;
        jwk.common.key_id = Some(key.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        out.keys.push(jwk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn own_keys_sign_tokens_their_jwks_verify() {
        for alg in ["RS256", "ES384"] {
            let key = generate_key(alg).unwrap();
            let jwks = public_jwks(std::slice::from_ref(&key)).unwrap();
            let t = now();
            let token = sign(
                &key,
                &json!({"iss": "https://x", "exp": t + 60, "sub": "s"}),
            )
            .unwrap();
            let claims = verify(&token, &jwks, t).unwrap();
            assert_eq!(claims["sub"], "s");
            assert_eq!(
                verify(&token, &jwks, t + 200),
                Err(VerifyError::Expired {
                    now: t + 200,
                    exp: t + 60
                })
            );
            let other = public_jwks(&[generate_key(alg).unwrap()]).unwrap();
            assert_eq!(verify(&token, &other, t), Err(VerifyError::NoKey));
            let mut forged = other.clone();
            forged.keys[0].common.key_id = Some(key.kid.clone());
            assert_eq!(verify(&token, &forged, t), Err(VerifyError::BadSignature));
        }
    }

    /// Found by tests/hostile_input.rs: `"exp": 1e300` overflowed `exp + LEEWAY` (a panic, the
    /// connection dropped). Time claims far out of range saturate instead.
    #[test]
    fn time_claims_out_of_range_do_not_overflow() {
        let key = generate_key("RS256").unwrap();
        let jwks = public_jwks(std::slice::from_ref(&key)).unwrap();
        let t = now();
        let sign = |c: serde_json::Value| sign(&key, &c).unwrap();
        let far = sign(json!({"exp": 1e300, "nbf": -1e300, "iat": -1e300}));
        assert!(verify(&far, &jwks, t).is_ok());
        // At the end of time even that has expired.
        assert!(matches!(
            verify(&far, &jwks, i64::MAX),
            Err(VerifyError::Expired { .. })
        ));
        let past = sign(json!({"exp": -1e300}));
        assert!(matches!(
            verify(&past, &jwks, t),
            Err(VerifyError::Expired { .. })
        ));
        let future = sign(json!({"exp": 1e300, "iat": 1e300}));
        assert_eq!(verify(&future, &jwks, t), Err(VerifyError::NotYetValid));
    }

    #[test]
    fn garbage_is_malformed() {
        let jwks = JwkSet { keys: Vec::new() };
        assert_eq!(verify("abc", &jwks, 0), Err(VerifyError::Malformed));
        assert_eq!(verify("a.b.c", &jwks, 0), Err(VerifyError::Malformed));
    }
}

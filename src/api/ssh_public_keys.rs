//! SSH public keys of users (for CodeCommit): UploadSSHPublicKey, GetSSHPublicKey,
//! ListSSHPublicKeys, UpdateSSHPublicKey, DeleteSSHPublicKey.
//!
//! AWS takes RSA keys of at least 2048 bits, in OpenSSH form (`ssh-rsa AAAA… comment`) or PEM
//! (`-----BEGIN PUBLIC KEY-----`, or PKCS#1's `-----BEGIN RSA PUBLIC KEY-----`). The key is kept as
//! uploaded; GetSSHPublicKey converts it to the encoding asked for. Its fingerprint is AWS's: MD5
//! of the SSH wire-format key, colon-separated hex. Listings are ordered by key ID, as AWS lists
//! them.

use md5::{Digest, Md5};
use rsa::pkcs1::der::{self, Decode, Encode};
use rsa::pkcs8::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use ssh_key::public::{KeyData, RsaPublicKey};
use ssh_key::{Mpint, PublicKey};

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::auth::PrincipalKind;
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::ids;
use crate::store::model::{SshPublicKey, User};
use http::StatusCode;

/// AWS's quota of SSH public keys per user.
pub const KEYS_PER_USER: usize = 5;
/// The smallest RSA modulus AWS accepts.
pub const MIN_BITS: usize = 2048;

/// `rsaEncryption` (RFC 8017).
const RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

pub fn register(r: &mut Registry) {
    r.iam::<iam::UploadSSHPublicKey, _, _>(upload_ssh_public_key);
    r.iam::<iam::GetSSHPublicKey, _, _>(get_ssh_public_key);
    r.iam::<iam::ListSSHPublicKeys, _, _>(list_ssh_public_keys);
    r.iam::<iam::UpdateSSHPublicKey, _, _>(update_ssh_public_key);
    r.iam::<iam::DeleteSSHPublicKey, _, _>(delete_ssh_public_key);
}

fn unrecognized() -> ApiError {
    ApiError::new(
        "UnrecognizedPublicKeyEncoding",
        StatusCode::BAD_REQUEST,
        "The public key encoding format is unsupported or unrecognized.",
    )
}

fn invalid(message: &str) -> ApiError {
    ApiError::new("InvalidPublicKey", StatusCode::BAD_REQUEST, message)
}

fn malformed() -> ApiError {
    invalid("The public key is malformed or otherwise invalid.")
}

fn no_such_key(id: &str) -> ApiError {
    ApiError::no_such_entity(format!("The Public Key with id {id} cannot be found."))
}

/// The two encodings AWS reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Ssh,
    Pem,
}

/// An RSA public key: its modulus and exponent, big-endian without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl RsaKey {
    fn bits(&self) -> usize {
        match self.n.first() {
            Some(top) => (self.n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
            None => 0,
        }
    }

    fn ssh(&self) -> Result<PublicKey, ApiError> {
        let key = RsaPublicKey {
            e: Mpint::from_positive_bytes(&self.e).map_err(|_| malformed())?,
            n: Mpint::from_positive_bytes(&self.n).map_err(|_| malformed())?,
        };
        Ok(PublicKey::new(KeyData::Rsa(key), ""))
    }

    /// The SSH wire format (`string "ssh-rsa", mpint e, mpint n`).
    fn wire(&self) -> Result<Vec<u8>, ApiError> {
        self.ssh()?.to_bytes().map_err(|_| malformed())
    }

    /// `ssh-rsa BASE64`.
    fn to_openssh(&self) -> Result<String, ApiError> {
        self.ssh()?.to_openssh().map_err(|_| malformed())
    }

    /// `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo), with a final line break.
    fn to_pem(&self) -> Result<String, ApiError> {
        let pkcs1 = rsa::pkcs1::RsaPublicKey {
            modulus: der::asn1::UintRef::new(&self.n).map_err(|_| malformed())?,
            public_exponent: der::asn1::UintRef::new(&self.e).map_err(|_| malformed())?,
        }
        .to_der()
        .map_err(|_| malformed())?;
        let spki = SubjectPublicKeyInfoRef {
            algorithm: AlgorithmIdentifierRef {
                oid: RSA_ENCRYPTION,
                parameters: Some(der::asn1::AnyRef::NULL),
            },
            subject_public_key: der::asn1::BitStringRef::from_bytes(&pkcs1)
                .map_err(|_| malformed())?,
        }
        .to_der()
        .map_err(|_| malformed())?;
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &spki)
            .map_err(|_| malformed())
    }

    fn from_pkcs1(der_bytes: &[u8]) -> Result<RsaKey, ApiError> {
        let k = rsa::pkcs1::RsaPublicKey::from_der(der_bytes).map_err(|_| malformed())?;
        Ok(RsaKey {
            n: k.modulus.as_bytes().to_vec(),
            e: k.public_exponent.as_bytes().to_vec(),
        })
    }
}

/// The encoding a body is in, and its RSA key: `UnrecognizedPublicKeyEncoding` when it is neither
/// OpenSSH nor PEM (or an OpenSSH key of another algorithm), `InvalidPublicKey` when it does not
/// decode or is not an RSA key of at least 2048 bits.
fn parse(body: &str) -> Result<(Encoding, RsaKey), ApiError> {
    let text = body.trim();
    let (encoding, key) = if text.starts_with("-----BEGIN ") {
        let (label, doc) = der::Document::from_pem(text).map_err(|_| malformed())?;
        let key = match label {
            "PUBLIC KEY" => {
                let spki =
                    SubjectPublicKeyInfoRef::from_der(doc.as_bytes()).map_err(|_| malformed())?;
                if spki.algorithm.oid != RSA_ENCRYPTION {
                    return Err(invalid("The public key must be an RSA key."));
                }
                let raw = spki.subject_public_key.as_bytes().ok_or_else(malformed)?;
                RsaKey::from_pkcs1(raw)?
            }
            "RSA PUBLIC KEY" => RsaKey::from_pkcs1(doc.as_bytes())?,
            _ => return Err(unrecognized()),
        };
        (Encoding::Pem, key)
    } else {
        let algorithm = text.split_whitespace().next().unwrap_or_default();
        if algorithm != "ssh-rsa" {
            return Err(unrecognized());
        }
        let parsed = PublicKey::from_openssh(text).map_err(|_| malformed())?;
        let KeyData::Rsa(k) = parsed.key_data() else {
            return Err(malformed());
        };
        let positive = |m: &Mpint| m.as_positive_bytes().map(<[u8]>::to_vec);
        let key = RsaKey {
            n: positive(&k.n).ok_or_else(malformed)?,
            e: positive(&k.e).ok_or_else(malformed)?,
        };
        (Encoding::Ssh, key)
    };
    if key.bits() < MIN_BITS {
        return Err(invalid(
            "The minimum bit-length of the public key is 2048 bits.",
        ));
    }
    Ok((encoding, key))
}

/// AWS's fingerprint: MD5 of the SSH wire format, as `aa:bb:…`.
fn fingerprint(key: &RsaKey) -> Result<String, ApiError> {
    let digest = Md5::digest(key.wire()?);
    Ok(digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// The key's body in `encoding`: as uploaded when that is its encoding, converted otherwise.
fn body_in(k: &SshPublicKey, encoding: Encoding) -> Result<String, ApiError> {
    let (uploaded, key) = parse(&k.body)?;
    if uploaded == encoding {
        return Ok(k.body.clone());
    }
    match encoding {
        Encoding::Ssh => key.to_openssh(),
        Encoding::Pem => key.to_pem(),
    }
}

fn shape(user: &str, k: &SshPublicKey, body: String) -> iam::SSHPublicKey {
    iam::SSHPublicKey {
        user_name: user.to_string(),
        ssh_public_key_id: k.ssh_public_key_id.clone(),
        fingerprint: k.fingerprint.clone(),
        ssh_public_key_body: body,
        status: k.status.clone(),
        upload_date: Some(ts(k.upload_date)),
    }
}

async fn upload_ssh_public_key(
    app: App,
    ctx: Ctx,
    input: iam::UploadSSHPublicKeyRequest,
) -> Result<iam::UploadSSHPublicKeyResponse, ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = require_user(tx.account(&account), &input.user_name)?;
            let (_, key) = parse(&input.ssh_public_key_body)?;
            let fingerprint = fingerprint(&key)?;
            if user
                .ssh_public_keys
                .iter()
                .any(|k| k.fingerprint == fingerprint)
            {
                return Err(ApiError::new(
                    "DuplicateSSHPublicKey",
                    StatusCode::BAD_REQUEST,
                    "The SSH public key is already associated with the specified IAM user.",
                ));
            }
            if user.ssh_public_keys.len() >= KEYS_PER_USER {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for SSHPublicKeysPerUser: {KEYS_PER_USER}"
                )));
            }
            let stored = SshPublicKey {
                ssh_public_key_id: ids::unique_id(ids::prefix::SSH_PUBLIC_KEY),
                body: input.ssh_public_key_body,
                fingerprint,
                status: "Active".to_string(),
                upload_date: ids::now(),
            };
            let out = shape(&user.name, &stored, stored.body.clone());
            tx.update(&account, &user.user_id, |u: &mut User| {
                u.ssh_public_keys.push(stored)
            })?;
            Ok(iam::UploadSSHPublicKeyResponse {
                ssh_public_key: Some(out),
            })
        })
        .await
}

async fn get_ssh_public_key(
    app: App,
    ctx: Ctx,
    input: iam::GetSSHPublicKeyRequest,
) -> Result<iam::GetSSHPublicKeyResponse, ApiError> {
    let model = app.store.read();
    let user = require_user(model.account(ctx.account()), &input.user_name)?;
    let k = user
        .ssh_public_keys
        .iter()
        .find(|k| k.ssh_public_key_id == input.ssh_public_key_id)
        .ok_or_else(|| no_such_key(&input.ssh_public_key_id))?;
    let encoding = if input.encoding == "PEM" {
        Encoding::Pem
    } else {
        Encoding::Ssh
    };
    Ok(iam::GetSSHPublicKeyResponse {
        ssh_public_key: Some(shape(&user.name, k, body_in(k, encoding)?)),
    })
}

async fn list_ssh_public_keys(
    app: App,
    ctx: Ctx,
    input: iam::ListSSHPublicKeysRequest,
) -> Result<iam::ListSSHPublicKeysResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let name = match (&input.user_name, ctx.principal.kind) {
        (Some(n), _) => n.as_str(),
        (None, PrincipalKind::User) => ctx.principal.name.as_str(),
        // The root user has no SSH keys.
        (None, _) => {
            return Ok(iam::ListSSHPublicKeysResponse {
                ssh_public_keys: Some(Vec::new()),
                is_truncated: Some(false),
                marker: None,
            })
        }
    };
    let user = require_user(acct, name)?;
    let mut keys: Vec<&SshPublicKey> = user.ssh_public_keys.iter().collect();
    keys.sort_by(|a, b| a.ssh_public_key_id.cmp(&b.ssh_public_key_id));
    let (keys, marker) = paginate(keys, input.marker.as_deref(), max_items(input.max_items))?;
    Ok(iam::ListSSHPublicKeysResponse {
        ssh_public_keys: Some(
            keys.into_iter()
                .map(|k| iam::SSHPublicKeyMetadata {
                    user_name: user.name.clone(),
                    ssh_public_key_id: k.ssh_public_key_id.clone(),
                    status: k.status.clone(),
                    upload_date: ts(k.upload_date),
                })
                .collect(),
        ),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

/// Changes one key of a user, once it is known to be theirs.
async fn change_key(
    app: &App,
    ctx: &Ctx,
    user_name: String,
    key_id: String,
    f: impl FnOnce(&mut Vec<SshPublicKey>) + Send + 'static,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let user = require_user(tx.account(&account), &user_name)?;
            if !user
                .ssh_public_keys
                .iter()
                .any(|k| k.ssh_public_key_id == key_id)
            {
                return Err(no_such_key(&key_id));
            }
            tx.update(&account, &user.user_id, |u: &mut User| {
                f(&mut u.ssh_public_keys)
            })?;
            Ok(())
        })
        .await
}

async fn update_ssh_public_key(
    app: App,
    ctx: Ctx,
    input: iam::UpdateSSHPublicKeyRequest,
) -> Result<(), ApiError> {
    let id = input.ssh_public_key_id.clone();
    let status = input.status;
    change_key(
        &app,
        &ctx,
        input.user_name,
        input.ssh_public_key_id,
        move |keys| {
            for k in keys.iter_mut().filter(|k| k.ssh_public_key_id == id) {
                k.status.clone_from(&status);
            }
        },
    )
    .await
}

async fn delete_ssh_public_key(
    app: App,
    ctx: Ctx,
    input: iam::DeleteSSHPublicKeyRequest,
) -> Result<(), ApiError> {
    let id = input.ssh_public_key_id.clone();
    change_key(
        &app,
        &ctx,
        input.user_name,
        input.ssh_public_key_id,
        move |keys| keys.retain(|k| k.ssh_public_key_id != id),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2048-bit key from `ssh-keygen -t rsa -b 2048` is built here from fixed bytes instead.
    fn key(bits: usize) -> RsaKey {
        let mut n = vec![0xC5u8; bits / 8];
        n[bits / 8 - 1] |= 1;
        RsaKey {
            n,
            e: vec![1, 0, 1],
        }
    }

    #[test]
    fn encodings_round_trip_and_keep_the_fingerprint() {
        let k = key(2048);
        let ssh = k.to_openssh().unwrap();
        let pem = k.to_pem().unwrap();
        assert!(ssh.starts_with("ssh-rsa AAAA"), "{ssh}");
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        let (e1, from_ssh) = parse(&ssh).unwrap();
        let (e2, from_pem) = parse(&pem).unwrap();
        assert_eq!((e1, e2), (Encoding::Ssh, Encoding::Pem));
        assert_eq!(from_ssh, k);
        assert_eq!(from_pem, k);
        let fp = fingerprint(&k).unwrap();
        assert_eq!(fp.len(), 47);
        assert_eq!(fp.matches(':').count(), 15);
    }

    #[test]
    fn fingerprint_is_md5_of_the_wire_format() {
        let k = key(2048);
        let ssh = k.to_openssh().unwrap();
        use base64::Engine as _;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(ssh.split(' ').nth(1).unwrap())
            .unwrap();
        assert_eq!(blob, k.wire().unwrap());
        let want = hex::encode(Md5::digest(&blob));
        assert_eq!(fingerprint(&k).unwrap().replace(':', ""), want);
    }

    #[test]
    fn refusals() {
        let short = key(1024).to_openssh().unwrap();
        assert_eq!(parse(&short).unwrap_err().code, "InvalidPublicKey");
        assert_eq!(
            parse(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKzvfE+qS09w+okgrO0gY7jryF0lSCxdEO/O0UaUhuZe"
            )
            .unwrap_err()
            .code,
            "UnrecognizedPublicKeyEncoding"
        );
        assert_eq!(
            parse("not a key").unwrap_err().code,
            "UnrecognizedPublicKeyEncoding"
        );
        assert_eq!(
            parse("ssh-rsa AAAA!!!").unwrap_err().code,
            "InvalidPublicKey"
        );
        assert_eq!(
            parse("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .unwrap_err()
                .code,
            "InvalidPublicKey"
        );
    }
}

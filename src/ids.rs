//! Identifiers in AWS's formats (design notes §4).

use rand::Rng;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// Unique IDs for IAM entities: 21 characters, the prefix then `A-Z2-7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    User,
    Group,
    Role,
    Policy,
    InstanceProfile,
    ServerCertificate,
    SshPublicKey,
    AccessKey,
    TemporaryAccessKey,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::User => "AIDA",
            IdKind::Group => "AGPA",
            IdKind::Role => "AROA",
            IdKind::Policy => "ANPA",
            IdKind::InstanceProfile => "AIPA",
            IdKind::ServerCertificate => "ASCA",
            IdKind::SshPublicKey => "APKA",
            IdKind::AccessKey => "AKIA",
            IdKind::TemporaryAccessKey => "ASIA",
        }
    }
}

/// A new unique ID: 21 characters for entities, 20 for access key IDs.
#[allow(dead_code)]
pub fn new_id(kind: IdKind) -> String {
    let len = match kind {
        IdKind::AccessKey | IdKind::TemporaryAccessKey => 16,
        _ => 17,
    };
    format!("{}{}", kind.prefix(), random_from(BASE32, len))
}

/// A new 40-character secret access key.
pub fn new_secret() -> String {
    random_from(SECRET_CHARS, 40)
}

/// A new request ID (UUID v4).
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The account an access key ID belongs to when localiam does not know it: a 12-digit key ID names
/// its account (design notes §3).
pub fn account_from_key_id(key_id: &str) -> Option<&str> {
    (key_id.len() == 12 && key_id.bytes().all(|b| b.is_ascii_digit())).then_some(key_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let u = new_id(IdKind::User);
        assert_eq!(u.len(), 21);
        assert!(u.starts_with("AIDA"));
        assert!(u[4..].bytes().all(|b| BASE32.contains(&b)));
        assert_eq!(new_id(IdKind::AccessKey).len(), 20);
        assert_eq!(new_secret().len(), 40);
        assert_eq!(account_from_key_id("123456789012"), Some("123456789012"));
        assert_eq!(account_from_key_id("AKIA1234"), None);
    }
}

//! Identifier and secret generation in AWS's formats (design notes, section 4).

use rand::Rng;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Unique-ID prefixes used by IAM.
pub mod prefix {
    pub const USER: &str = "AIDA";
    pub const GROUP: &str = "AGPA";
    pub const ROLE: &str = "AROA";
    pub const POLICY: &str = "ANPA";
    pub const INSTANCE_PROFILE: &str = "AIPA";
    pub const SERVER_CERTIFICATE: &str = "ASCA";
    pub const SSH_PUBLIC_KEY: &str = "APKA";
    pub const SERVICE_SPECIFIC_CREDENTIAL: &str = "ACCA";
    pub const ACCESS_KEY: &str = "AKIA";
    pub const TEMPORARY_ACCESS_KEY: &str = "ASIA";
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// A 21-character unique ID: the 4-character prefix and 17 characters of `A-Z2-7`.
pub fn unique_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        random_from(BASE32, 21usize.saturating_sub(prefix.len()))
    )
}

/// A 20-character access key ID (`prefix` is `AKIA` or `ASIA`).
pub fn access_key_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        random_from(BASE32, 20usize.saturating_sub(prefix.len()))
    )
}

/// A 40-character secret access key.
pub fn secret_access_key() -> String {
    random_from(SECRET, 40)
}

/// A signing certificate ID (32 characters of `A-Z0-9`, as AWS returns).
pub fn certificate_id() -> String {
    random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32)
}

/// A delegation request ID: `dr-` and 20 characters of `a-z0-9` (AWS's IDs are 16 to 128 word
/// characters or hyphens).
pub fn delegation_request_id() -> String {
    format!(
        "dr-{}",
        random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 20)
    )
}

/// An exchange (trade-in) token of a delegation request: 64 opaque characters.
pub fn exchange_token() -> String {
    random_from(SECRET, 64)
}

/// A base32 TOTP seed of `len` characters (AWS uses 64).
pub fn base32_seed(len: usize) -> String {
    random_from(BASE32, len)
}

/// The current time as unix seconds, the store's timestamp format.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let u = unique_id(prefix::USER);
        assert_eq!(u.len(), 21);
        assert!(u.starts_with("AIDA"));
        assert!(u[4..].bytes().all(|b| BASE32.contains(&b)));
        assert_eq!(access_key_id(prefix::ACCESS_KEY).len(), 20);
        assert_eq!(secret_access_key().len(), 40);
    }
}

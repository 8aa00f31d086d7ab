//! Request identifiers, and what an access key ID says about its account. Entity IDs, key IDs and
//! secrets are made by `store::ids` (design notes §4).

/// A new request ID (UUID v4), from the thread's random generator (`Uuid::new_v4` asks the
/// kernel for every ID: a system call per request).
pub fn request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
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
    fn twelve_digit_key_ids_name_their_account() {
        assert_eq!(account_from_key_id("123456789012"), Some("123456789012"));
        assert_eq!(account_from_key_id("12345678901"), None);
        assert_eq!(account_from_key_id("AKIA12345678"), None);
        assert_ne!(request_id(), request_id());
    }

    #[test]
    fn request_ids_are_version_4_uuids() {
        let id = uuid::Uuid::parse_str(&request_id()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
    }
}

//! Authentication: SigV4 verification and the credentials localiam knows.
pub mod principal;
pub mod sigv4;

pub use principal::{Principal, PrincipalKind};
pub mod authenticate;

pub use authenticate::{authenticate, Authenticated};

/// Whether two secrets (session tokens, one-time codes, exchange tokens) are equal, in time that
/// does not depend on where they differ (only on their lengths).
pub fn secure_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secure_eq_compares_whole_values() {
        assert!(super::secure_eq("FQoGZXIvYXdz", "FQoGZXIvYXdz"));
        assert!(!super::secure_eq("FQoGZXIvYXdz", "FQoGZXIvYXdZ"));
        assert!(!super::secure_eq("FQoGZXIvYXdz", "FQoGZXIvYXd"));
        assert!(!super::secure_eq("", "x"));
        assert!(super::secure_eq("", ""));
    }
}

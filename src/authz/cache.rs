//! The compiled-policy cache: policy document text → parsed [`Policy`], shared by every request,
//! so that enforcement and the simulator never re-parse a stored document per request.
//!
//! Keyed by the full document text, so a changed inline policy (PutUserPolicy) is simply a new
//! entry and an entry can never be stale. Bounded: when full it is emptied and refills with what
//! is in use (documents are small and parsing is cheap; what matters is not parsing per request).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::policy::{ParseError, Policy};

/// How many documents the cache holds before it starts over.
pub const POLICY_CACHE_MAX: usize = 4096;

/// Document text → compiled policy. Every enforced call looks its caller's documents up here, so
/// the key (a whole document, often kilobytes) is hashed with foldhash (randomly seeded, several
/// times faster than the standard SipHash on long keys).
pub struct PolicyCache {
    map: RwLock<HashMap<Arc<str>, Arc<Policy>, foldhash::fast::RandomState>>,
    capacity: usize,
}

impl Default for PolicyCache {
    fn default() -> Self {
        PolicyCache::with_capacity(POLICY_CACHE_MAX)
    }
}

impl PolicyCache {
    /// A cache holding at most `capacity` documents (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        PolicyCache {
            map: RwLock::new(HashMap::default()),
            capacity: capacity.max(1),
        }
    }

    /// The compiled form of `document`, parsed on first use.
    pub fn get_or_parse(&self, document: &str) -> Result<Arc<Policy>, ParseError> {
        if let Some(p) = self.map.read().ok().and_then(|m| m.get(document).cloned()) {
            return Ok(p);
        }
        let policy = Arc::new(Policy::parse(document)?);
        if let Ok(mut m) = self.map.write() {
            if m.len() >= self.capacity {
                m.clear();
            }
            m.insert(Arc::from(document), policy.clone());
        }
        Ok(policy)
    }

    /// Number of cached documents.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry.
    pub fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;

    #[test]
    fn parses_once_and_shares() {
        let c = PolicyCache::default();
        let a = c.get_or_parse(DOC).unwrap();
        let b = c.get_or_parse(DOC).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn bounded() {
        let c = PolicyCache::with_capacity(2);
        for i in 0..5 {
            let doc = DOC.replace("s3:*", &format!("s3:Get{i}"));
            c.get_or_parse(&doc).unwrap();
            assert!(c.len() <= 2);
        }
    }

    #[test]
    fn parse_errors_are_not_cached() {
        let c = PolicyCache::default();
        assert!(c.get_or_parse("not json").is_err());
        assert!(c.is_empty());
    }
}

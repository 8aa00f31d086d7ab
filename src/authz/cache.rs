//! The compiled-policy cache: policy document text → parsed [`Policy`], shared by every request,
//! so that enforcement and the simulator never re-parse a stored document per request.
//!
//! Keyed by the full document text, so a changed inline policy (PutUserPolicy) is simply a new
//! entry and an entry can never be stale. Bounded: when full it is emptied and refills with what
//! is in use (documents are small and parsing is cheap; what matters is not parsing per request).

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use crate::store::model::Model;

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
        self.get_or_parse_shared(document).map(|(_, p)| p)
    }

    /// [`PolicyCache::get_or_parse`], with the document's text as the cache keeps it (shared,
    /// not copied: the decision log shows the document a decision read).
    pub fn get_or_parse_shared(
        &self,
        document: &str,
    ) -> Result<(Arc<str>, Arc<Policy>), ParseError> {
        if let Some(hit) = self.map.read().ok().and_then(|m| {
            m.get_key_value(document)
                .map(|(text, p)| (text.clone(), p.clone()))
        }) {
            return Ok(hit);
        }
        let policy = Arc::new(Policy::parse(document)?);
        let text: Arc<str> = Arc::from(document);
        if let Ok(mut m) = self.map.write() {
            if m.len() >= self.capacity {
                m.clear();
            }
            m.insert(text.clone(), policy.clone());
        }
        Ok((text, policy))
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

/// How many callers' plans [`PlanCache`] holds before it starts over.
pub const PLAN_CACHE_MAX: usize = 4096;

/// Per caller (access key ID), what authorizing its calls needs that depends only on the model
/// (its policies, tags, the context keys its policies read): built once per published model, so
/// that a caller's many calls between two writes do not gather it again. An entry is used only
/// for the very model snapshot it was built from (compared by identity: the entry's `Weak` keeps
/// that snapshot's allocation, so its address is never reused while the entry exists); any write
/// publishes a new snapshot, and every entry built before it is a miss from then on.
pub struct PlanCache<T> {
    map: RwLock<PlanMap<T>>,
}

/// Access key ID → (the snapshot a plan was built for, the plan).
type PlanMap<T> = HashMap<String, (Weak<Model>, Arc<T>), foldhash::fast::RandomState>;

impl<T> Default for PlanCache<T> {
    fn default() -> Self {
        PlanCache {
            map: RwLock::new(HashMap::default()),
        }
    }
}

impl<T> PlanCache<T> {
    /// The plan of `key` for `model`, built by `build` when there is none for this model (given
    /// the plan built for an earlier model, if any, to reuse what has not changed).
    pub fn get_or_build<E>(
        &self,
        model: &Arc<Model>,
        key: &str,
        build: impl FnOnce(Option<&T>) -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let current = Arc::as_ptr(model);
        let mut previous = None;
        if let Ok(map) = self.map.read() {
            if let Some((built_for, plan)) = map.get(key) {
                if std::ptr::eq(built_for.as_ptr(), current) {
                    return Ok(plan.clone());
                }
                previous = Some(plan.clone());
            }
        }
        let plan = Arc::new(build(previous.as_deref())?);
        if let Ok(mut map) = self.map.write() {
            if map.len() >= PLAN_CACHE_MAX && !map.contains_key(key) {
                map.clear();
            }
            map.insert(key.to_string(), (Arc::downgrade(model), plan.clone()));
        }
        Ok(plan)
    }

    /// Number of cached plans.
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no plan is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    fn plans_are_for_one_model_snapshot() {
        let c: PlanCache<u32> = PlanCache::default();
        let first = Arc::new(Model::default());
        let built = |n: u32| move |_: Option<&u32>| Ok::<u32, ()>(n);
        assert_eq!(*c.get_or_build(&first, "AKIA1", built(1)).unwrap(), 1);
        // The same snapshot: the plan built for it.
        assert_eq!(*c.get_or_build(&first, "AKIA1", built(2)).unwrap(), 1);
        // Another key, or another snapshot: built again.
        assert_eq!(*c.get_or_build(&first, "AKIA2", built(3)).unwrap(), 3);
        let second = Arc::new(Model::default());
        assert_eq!(*c.get_or_build(&second, "AKIA1", built(4)).unwrap(), 4);
        assert_eq!(*c.get_or_build(&second, "AKIA1", built(5)).unwrap(), 4);
        // A snapshot dropped and a new one made: never mistaken for it.
        drop(first);
        let third = Arc::new(Model::default());
        assert_eq!(*c.get_or_build(&third, "AKIA2", built(6)).unwrap(), 6);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn parse_errors_are_not_cached() {
        let c = PolicyCache::default();
        assert!(c.get_or_parse("not json").is_err());
        assert!(c.is_empty());
    }
}

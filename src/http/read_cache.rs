//! Responses of read-only IAM calls, kept until the next write.
//!
//! Every change to IAM state goes through this process, so a generation counter bumped after each
//! successful write (and on reset) makes cached reads exactly as fresh as the database: an entry is
//! served only while the generation it was computed in is still current. A read that raced with a
//! write is stored under the old generation and so never served. Only the request ID differs
//! between two answers to the same request by the same principal; it is spliced in on a hit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::api::Service;
use crate::protocol::query::Params;

/// Entries kept at most; past that the cache starts over.
const MAX_ENTRIES: usize = 8192;
/// Larger responses are not kept.
const MAX_BODY: usize = 256 * 1024;
/// Requests whose key (parameters included) is longer are not kept: the cache's memory stays bounded
/// whatever parameters a client sends.
const MAX_KEY: usize = 4 * 1024;

struct Entry {
    generation: u64,
    body: Arc<str>,
    /// Where the request ID stands in `body`.
    id_at: (usize, usize),
}

#[derive(Default)]
pub struct ReadCache {
    generation: AtomicU64,
    entries: RwLock<HashMap<String, Entry>>,
}

/// Whether an operation's answer depends only on the stored IAM state, the principal and the input.
pub fn cacheable(service: Service, action: &str) -> bool {
    service == Service::Iam
        && (action.starts_with("Get") || action.starts_with("List") || action.starts_with("Simulate"))
        // Usage data changes without a write call.
        && !matches!(
            action,
            "GetAccessKeyLastUsed"
                | "GetCredentialReport"
                | "GetServiceLastAccessedDetails"
                | "GetServiceLastAccessedDetailsWithEntities"
                | "GetOrganizationsAccessReport"
        )
}

/// The cache key of a request: who asks what with which parameters (signature parameters aside).
pub fn key(principal_arn: &str, action: &str, params: &Params) -> String {
    let mut k = String::with_capacity(128);
    k.push_str(principal_arn);
    k.push('\0');
    k.push_str(action);
    k.push('\0');
    for (name, value) in params.iter() {
        if name == "Action" || name == "Version" || name.starts_with("X-Amz-") {
            continue;
        }
        // Lengths first, so that no value (which may hold any character) can pass for more parameters.
        k.push('\0');
        k.push_str(&name.len().to_string());
        k.push(':');
        k.push_str(name);
        k.push_str(&value.len().to_string());
        k.push(':');
        k.push_str(value);
    }
    k
}

impl ReadCache {
    /// The current generation; pass it to [`ReadCache::put`] for a read computed after this call.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything: called after every successful write.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The cached answer to `key`, with `request_id` in it.
    pub fn get(&self, key: &str, request_id: &str) -> Option<String> {
        let current = self.generation();
        let entries = self.entries.read().ok()?;
        let e = entries.get(key).filter(|e| e.generation == current)?;
        let mut out = String::with_capacity(e.body.len() + request_id.len());
        out.push_str(&e.body[..e.id_at.0]);
        out.push_str(request_id);
        out.push_str(&e.body[e.id_at.1..]);
        Some(out)
    }

    /// Keeps `body` (whose request ID is `request_id`), computed in `generation`.
    pub fn put(&self, key: String, generation: u64, body: &str, request_id: &str) {
        if body.len() > MAX_BODY || key.len() > MAX_KEY || generation != self.generation() {
            return;
        }
        let Some(start) = body.rfind(request_id) else {
            return;
        };
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.generation == generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                generation,
                body: Arc::from(body),
                id_at: (start, start + request_id.len()),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_until_the_next_write_with_a_fresh_request_id() {
        let c = ReadCache::default();
        let g = c.generation();
        c.put("k".into(), g, "<A><RequestId>r1</RequestId></A>", "r1");
        assert_eq!(
            c.get("k", "r2").as_deref(),
            Some("<A><RequestId>r2</RequestId></A>")
        );
        c.invalidate();
        assert_eq!(c.get("k", "r3"), None);
    }

    #[test]
    fn requests_with_huge_parameters_are_not_kept() {
        let c = ReadCache::default();
        let g = c.generation();
        let long = "k".repeat(MAX_KEY + 1);
        c.put(long.clone(), g, "<A><RequestId>r1</RequestId></A>", "r1");
        assert_eq!(c.get(&long, "r2"), None);
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let c = ReadCache::default();
        let g = c.generation();
        c.invalidate();
        c.put("k".into(), g, "<A><RequestId>r1</RequestId></A>", "r1");
        assert_eq!(c.get("k", "r2"), None);
    }

    #[test]
    fn a_value_cannot_pass_for_more_parameters() {
        let one = Params::from_pairs([("PathPrefix", "/a\0Marker=m")]);
        let two = Params::from_pairs([("PathPrefix", "/a"), ("Marker", "m")]);
        assert_ne!(
            key("arn:aws:iam::000000000000:root", "ListUsers", &one),
            key("arn:aws:iam::000000000000:root", "ListUsers", &two)
        );
    }

    #[test]
    fn only_iam_reads_of_stored_state_are_cacheable() {
        assert!(cacheable(Service::Iam, "GetUser"));
        assert!(cacheable(Service::Iam, "ListUsers"));
        assert!(cacheable(Service::Iam, "SimulatePrincipalPolicy"));
        assert!(!cacheable(Service::Iam, "GetAccessKeyLastUsed"));
        assert!(!cacheable(Service::Iam, "CreateUser"));
        assert!(!cacheable(Service::Sts, "GetSessionToken"));
    }
}

//! The decision log: the most recent authorization decisions of `audit`/`enforce` (a bounded
//! ring), served by `GET /_localiam/decisions`, and the least-privilege policy proposed from what a
//! principal did (`GET /_localiam/decisions/policy`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{json, Value};

use smallvec::SmallVec;

use crate::authz::AppliedPolicy;
use crate::policy::validate::{validate, PolicyKind};
use crate::policy::Context;

/// How many decisions are kept.
pub const CAPACITY: usize = 10_000;

/// One statement that applied: where it is in the policies the decision considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index in [`Caller::considered`].
    pub policy: u16,
    /// Index of the statement in its policy.
    pub statement: u32,
    /// `Allow` or `Deny`.
    pub effect: &'static str,
}

/// What the decisions of one caller share (built once per authorization plan, not per call):
/// its ARN, every policy considered (identity, boundary and session policies, in the evaluator's
/// order, with their documents as they were) and the context keys read by their statements for
/// the action.
#[derive(Debug, Default, Clone)]
pub struct Caller {
    pub principal: String,
    pub considered: Vec<AppliedPolicy>,
    /// The context keys the policies read, as written there (without case-insensitive
    /// duplicates).
    pub context_keys: Vec<String>,
}

/// A matched statement as served.
#[derive(Debug, Clone, Serialize)]
pub struct Matched<'r> {
    pub policy: &'r str,
    /// The simulator's `SourcePolicyType`.
    pub source: &'static str,
    pub statement: usize,
    pub sid: Option<&'r str>,
    pub effect: &'static str,
    /// The policy it is in (index in the decision's considered policies).
    #[serde(skip)]
    pub index: usize,
}

/// One decision.
#[derive(Debug, Clone)]
pub struct Record {
    /// When the request came, in Unix nanoseconds.
    pub time_ns: i64,
    pub request_id: RequestId,
    pub caller: Arc<Caller>,
    pub action: std::borrow::Cow<'static, str>,
    /// The resource and the request context, in one allocation (see [`Packed`]), shared by the
    /// decisions a thread made in a row for the same resource and context.
    pub packed: Arc<Packed>,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`.
    pub decision: &'static str,
    /// AWS's message tail for a denial (`because no identity-based policy allows …`).
    pub reason: Option<String>,
    /// Whether `audit` let a denied call through.
    pub enforced: bool,
    pub hits: SmallVec<[Hit; 2]>,
}

/// A decision's resource and request context (the keys the policies read that the request had),
/// packed into one allocation: the ring keeps thousands of records, and a record evicted long
/// after it was made is freed with one cold access instead of one per string.
///
/// Layout: the resource, then per context key: the key's length (`u32`, little-endian), the key,
/// the number of values, and each value's length and bytes.
#[derive(Debug, Clone, Default)]
pub struct Packed {
    /// Kept as built (a boxed slice would be shrunk, a copy on every decision).
    bytes: Vec<u8>,
    resource_len: u32,
}

impl Packed {
    pub fn new(resource: &str, context: &Context) -> Packed {
        let resource = clip(resource);
        // Sized first: one allocation, never grown.
        let size = resource.len()
            + context
                .iter()
                .map(|(k, values)| {
                    8 + clip(k).len() + values.iter().map(|v| 4 + clip(v).len()).sum::<usize>()
                })
                .sum::<usize>();
        let mut bytes = Vec::with_capacity(size);
        bytes.extend_from_slice(resource.as_bytes());
        let put = |b: &mut Vec<u8>, s: &str| {
            let s = clip(s);
            b.extend_from_slice(&len32(s.len()).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        };
        for (k, values) in context.iter() {
            put(&mut bytes, k);
            bytes.extend_from_slice(&len32(values.len()).to_le_bytes());
            for v in values {
                put(&mut bytes, v);
            }
        }
        Packed {
            bytes,
            resource_len: len32(resource.len()),
        }
    }

    pub fn resource(&self) -> &str {
        self.str_at(0, self.resource_len as usize).unwrap_or("")
    }

    /// Whether this was packed for `resource` (compared as bytes, without reading the text).
    pub fn is_for(&self, resource: &str) -> bool {
        self.bytes.get(..self.resource_len as usize) == Some(resource.as_bytes())
    }

    /// The context: each key (lower-cased) with its values.
    pub fn context(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out = Vec::new();
        let mut at = self.resource_len as usize;
        let next_str = |at: &mut usize| -> Option<&str> {
            let len = self.u32_at(*at)? as usize;
            let s = self.str_at(*at + 4, len)?;
            *at += 4 + len;
            Some(s)
        };
        while at < self.bytes.len() {
            let Some(key) = next_str(&mut at) else { break };
            let Some(n) = self.u32_at(at) else { break };
            at += 4;
            let values: Vec<&str> = (0..n).map_while(|_| next_str(&mut at)).collect();
            out.push((key, values));
        }
        out
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    }

    fn str_at(&self, at: usize, len: usize) -> Option<&str> {
        std::str::from_utf8(self.bytes.get(at..at.checked_add(len)?)?).ok()
    }
}

/// Strings past 64 KiB are cut (at a character boundary): a decision keeps what a reader needs.
fn clip(s: &str) -> &str {
    const MAX: usize = 65_536;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Record {
    /// `time_ns` of a request that came at `at` (saturated past the year 2262).
    pub fn time_of(at: time::OffsetDateTime) -> i64 {
        i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
    }

    /// When the request came, in Unix seconds.
    pub fn time(&self) -> i64 {
        self.time_ns.div_euclid(1_000_000_000)
    }

    pub fn principal(&self) -> &str {
        &self.caller.principal
    }

    /// The statements that matched, in the evaluator's order.
    pub fn matched(&self) -> impl Iterator<Item = Matched<'_>> {
        self.hits.iter().map(|h| {
            let index = usize::from(h.policy);
            let of = self.caller.considered.get(index);
            let statement = h.statement as usize;
            Matched {
                policy: of.map_or("", |p| &p.id),
                source: of.map_or("none", |p| p.simulator_type),
                statement,
                sid: of.and_then(|p| p.policy.statements().get(statement)?.sid()),
                effect: h.effect,
                index,
            }
        })
    }

    pub fn resource(&self) -> &str {
        self.packed.resource()
    }

    /// The request context the decision was made with (keys lower-cased).
    pub fn context(&self) -> Vec<(&str, Vec<&str>)> {
        self.packed.context()
    }

    /// The context keys the decision read: those the statements for its action use (conditions
    /// and policy variables, as written there), whether the request had them or not, and any a
    /// call adds beyond them (STS's keys on AssumeRole).
    pub fn context_keys(&self) -> Vec<&str> {
        let read = &self.caller.context_keys;
        let mut keys: Vec<&str> = read.iter().map(String::as_str).collect();
        for (k, _) in self.packed.context() {
            if !read.iter().any(|r| r.eq_ignore_ascii_case(k)) {
                keys.push(k);
            }
        }
        keys
    }
}

/// `{"time", "request_id", "principal", "action", "resource", "decision", "reason"?, "enforced",
/// "matched": [{"policy", "source", "statement", "sid", "effect"}], "considered": [{"policy",
/// "source", "arn"?}], "context_keys": [...], "context": {"key": ["value", …]}}` (context keys
/// lower-cased).
impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct Considered<'a> {
            policy: &'a str,
            source: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            arn: Option<&'a str>,
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("time", &self.time())?;
        m.serialize_entry("request_id", &self.request_id.to_string())?;
        m.serialize_entry("principal", self.principal())?;
        m.serialize_entry("action", &*self.action)?;
        m.serialize_entry("resource", self.resource())?;
        m.serialize_entry("decision", self.decision)?;
        if let Some(reason) = &self.reason {
            m.serialize_entry("reason", reason)?;
        }
        m.serialize_entry("enforced", &self.enforced)?;
        m.serialize_entry("matched", &self.matched().collect::<Vec<_>>())?;
        let considered: Vec<Considered<'_>> = self
            .caller
            .considered
            .iter()
            .map(|p| Considered {
                policy: &p.id,
                source: p.simulator_type,
                arn: p.arn.as_deref(),
            })
            .collect();
        m.serialize_entry("considered", &considered)?;
        m.serialize_entry("context_keys", &self.context_keys())?;
        let context: BTreeMap<&str, Vec<&str>> = self.context().into_iter().collect();
        m.serialize_entry("context", &context)?;
        m.end()
    }
}

/// A request ID (a UUID) kept without an allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestId(uuid::Uuid);

impl RequestId {
    /// The request's ID (the nil UUID for an ID that is not one, which localiam does not make).
    pub fn parse(id: &str) -> RequestId {
        RequestId(uuid::Uuid::parse_str(id).unwrap_or_default())
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The ring of recent decisions, in shards: each thread records into its own shard (picked once
/// per thread), so that recording touches no lock, counter or memory that another core is writing
/// at the same time. Each shard keeps its share of [`CAPACITY`]; a query merges them, newest first.
pub struct DecisionLog {
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Default)]
struct Shard {
    ring: VecDeque<Record>,
    /// Decisions since start by result (`DECISIONS` order), for the metrics; never cleared.
    tallies: [u64; 3],
}

impl Default for DecisionLog {
    /// A shard per core (the server's worker threads).
    fn default() -> Self {
        DecisionLog::with_shards(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// Threads numbered in the order they first record (their shard is that number modulo the shard
/// count).
static THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD: usize = THREADS.fetch_add(1, Ordering::Relaxed);
}

/// The results a decision can have.
pub const DECISIONS: [&str; 3] = ["Allow", "ExplicitDeny", "ImplicitDeny"];

/// Filters of `GET /_localiam/decisions`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub principal: Option<String>,
    pub action: Option<String>,
    pub decision: Option<String>,
    /// Unix seconds.
    pub since: Option<i64>,
    pub limit: Option<usize>,
    #[serde(default)]
    pub include_denied: bool,
}

impl DecisionLog {
    /// A log of `shards` shards (at least one).
    pub fn with_shards(shards: usize) -> DecisionLog {
        DecisionLog {
            shards: (0..shards.clamp(1, 64))
                .map(|_| Mutex::new(Shard::default()))
                .collect(),
        }
    }

    /// How many decisions one shard keeps.
    fn shard_capacity(&self) -> usize {
        CAPACITY.div_ceil(self.shards.len())
    }

    pub fn record(&self, r: Record) {
        let shard = THREAD.with(|t| *t) % self.shards.len();
        self.record_in(shard, r);
    }

    fn record_in(&self, shard: usize, r: Record) {
        let capacity = self.shard_capacity();
        let Some(Ok(mut shard)) = self.shards.get(shard).map(Mutex::lock) else {
            return;
        };
        if let Some(t) = DECISIONS
            .iter()
            .position(|d| *d == r.decision)
            .and_then(|i| shard.tallies.get_mut(i))
        {
            *t += 1;
        }
        let evicted = if shard.ring.len() >= capacity {
            shard.ring.pop_front()
        } else {
            None
        };
        shard.ring.push_back(r);
        drop(shard);
        // Freed after the lock is released.
        drop(evicted);
    }

    /// How many decisions of each result were made since start.
    pub fn tallies(&self) -> [(&'static str, u64); 3] {
        let mut sums = [0u64; 3];
        for shard in self.shards.iter().filter_map(|s| s.lock().ok()) {
            for (sum, t) in sums.iter_mut().zip(shard.tallies) {
                *sum += t;
            }
        }
        std::array::from_fn(|i| (DECISIONS[i], sums[i]))
    }

    pub fn clear(&self) {
        for mut shard in self.shards.iter().filter_map(|s| s.lock().ok()) {
            shard.ring.clear();
        }
    }

    /// The recorded decisions the filter keeps, newest first (by the time their requests came).
    pub fn query(&self, f: &Filter) -> Vec<Record> {
        let keep = |r: &&Record| {
            f.principal.as_deref().is_none_or(|p| r.principal() == p)
                && f.action
                    .as_deref()
                    .is_none_or(|a| r.action.eq_ignore_ascii_case(a))
                && f.decision.as_deref().is_none_or(|d| {
                    r.decision.eq_ignore_ascii_case(d)
                        || (d.eq_ignore_ascii_case("deny") && r.decision != "Allow")
                })
                && f.since.is_none_or(|s| r.time() >= s)
        };
        let limit = f.limit.unwrap_or(CAPACITY);
        let mut out: Vec<Record> = Vec::new();
        for shard in self.shards.iter().filter_map(|s| s.lock().ok()) {
            // Each shard's newest first; the merged list is cut to the limit below.
            out.extend(shard.ring.iter().rev().filter(keep).take(limit).cloned());
        }
        // Stable: a shard's records of the same instant keep their order.
        out.sort_by_key(|r| std::cmp::Reverse(r.time_ns));
        out.truncate(limit);
        out
    }
}

/// The least-privilege proposal for `principal` from the log: how many of its calls were
/// considered, and the policy (`None` when there is nothing to allow). Served by
/// `GET /_localiam/decisions/policy` and the console.
pub fn proposal(
    log: &DecisionLog,
    principal: &str,
    since: Option<i64>,
    include_denied: bool,
) -> (usize, Option<Value>) {
    let records = log.query(&Filter {
        principal: Some(principal.to_string()),
        since,
        ..Default::default()
    });
    (records.len(), least_privilege(&records, include_denied))
}

/// A least-privilege policy allowing exactly what `records` did: one statement per set of
/// resources sharing the same actions, resources as observed (no wildcards beyond what the
/// requests used). `None` when there is nothing to allow.
pub fn least_privilege(records: &[Record], include_denied: bool) -> Option<Value> {
    // resource → actions
    let mut by_resource: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in records {
        if r.decision != "Allow" && !include_denied {
            continue;
        }
        by_resource
            .entry(r.resource())
            .or_default()
            .insert(&*r.action);
    }
    // actions → resources
    let mut by_actions: BTreeMap<Vec<&str>, Vec<&str>> = BTreeMap::new();
    for (resource, actions) in by_resource {
        by_actions
            .entry(actions.into_iter().collect())
            .or_default()
            .push(resource);
    }
    if by_actions.is_empty() {
        return None;
    }
    let statements: Vec<Value> = by_actions
        .into_iter()
        .map(|(actions, resources)| {
            let one_or_many = |v: Vec<&str>| -> Value {
                if v.len() == 1 {
                    json!(v[0])
                } else {
                    json!(v)
                }
            };
            json!({"Effect": "Allow", "Action": one_or_many(actions), "Resource": one_or_many(resources)})
        })
        .collect();
    let policy = json!({"Version": "2012-10-17", "Statement": statements});
    // It must pass our own validator, as CreatePolicy would.
    match validate(&policy.to_string(), PolicyKind::Identity) {
        Ok(()) => Some(policy),
        Err(e) => {
            tracing::warn!(error = %e, "proposed policy does not validate");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(action: &str, resource: &str, decision: &'static str) -> Record {
        Record {
            time_ns: 0,
            request_id: RequestId::default(),
            caller: Arc::new(Caller {
                principal: "p".into(),
                ..Caller::default()
            }),
            action: action.to_string().into(),
            packed: Arc::new(Packed::new(resource, &Context::default())),
            decision,
            reason: None,
            enforced: true,
            hits: SmallVec::new(),
        }
    }

    #[test]
    fn a_packed_record_gives_back_its_resource_and_context() {
        let mut c = Context::new();
        c.insert("aws:SourceIp", "10.0.0.1")
            .insert_many("aws:TagKeys", vec!["a".into(), "é\u{1}".into()])
            .insert_many("empty", Vec::new());
        let p = Packed::new("arn:aws:iam::1:user/ü", &c);
        assert_eq!(p.resource(), "arn:aws:iam::1:user/ü");
        assert_eq!(
            p.context(),
            vec![
                ("aws:sourceip", vec!["10.0.0.1"]),
                ("aws:tagkeys", vec!["a", "é\u{1}"]),
            ]
        );
        let empty = Packed::new("*", &Context::new());
        assert_eq!((empty.resource(), empty.context()), ("*", vec![]));
        let long = "ab".repeat(40_000);
        assert_eq!(Packed::new(&long, &c).resource().len(), 65_536);
    }

    #[test]
    fn proposes_one_statement_per_action_set() {
        let records = [
            rec("iam:GetUser", "arn:aws:iam::1:user/a", "Allow"),
            rec("iam:ListUsers", "arn:aws:iam::1:user/", "Allow"),
            rec("iam:GetUser", "arn:aws:iam::1:user/b", "Allow"),
            rec("iam:DeleteUser", "arn:aws:iam::1:user/b", "ImplicitDeny"),
        ];
        let p = least_privilege(&records, false).unwrap();
        let s = p["Statement"].as_array().unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["Action"], "iam:GetUser");
        assert_eq!(
            s[0]["Resource"],
            json!(["arn:aws:iam::1:user/a", "arn:aws:iam::1:user/b"])
        );
        let with_denied = least_privilege(&records, true).unwrap();
        assert!(with_denied.to_string().contains("iam:DeleteUser"));
        assert!(least_privilege(&records[3..], false).is_none());
    }

    #[test]
    fn the_ring_is_bounded_and_filters() {
        let log = DecisionLog::with_shards(3);
        // One shard busier than the others: each keeps its share, and a query merges them newest
        // first.
        for i in 0..CAPACITY + 5 {
            let mut r = rec(
                "iam:GetUser",
                "x",
                if i % 2 == 0 { "Allow" } else { "ImplicitDeny" },
            );
            r.time_ns = i64::try_from(i).unwrap();
            log.record_in(if i % 4 == 0 { 1 } else { i % 3 }, r);
        }
        let all = log.query(&Filter::default());
        assert!(all.len() <= CAPACITY, "{}", all.len());
        assert!(all.len() >= CAPACITY * 3 / 4, "{}", all.len());
        assert_eq!(all[0].time_ns, i64::try_from(CAPACITY + 4).unwrap());
        assert!(all.windows(2).all(|w| w[0].time_ns > w[1].time_ns));
        let denied = log.query(&Filter {
            decision: Some("deny".into()),
            limit: Some(10),
            ..Filter::default()
        });
        assert_eq!(denied.len(), 10);
        assert!(denied.iter().all(|r| r.decision != "Allow"));
        assert!(denied.windows(2).all(|w| w[0].time_ns > w[1].time_ns));
        let tallies = log.tallies();
        assert_eq!(
            tallies[0].1 + tallies[2].1,
            u64::try_from(CAPACITY + 5).unwrap()
        );
        assert_eq!(tallies[1].1, 0);
        log.clear();
        assert!(log.query(&Filter::default()).is_empty());
    }

    #[test]
    fn threads_record_into_shards_and_a_query_sees_them_all() {
        let log = DecisionLog::with_shards(2);
        std::thread::scope(|s| {
            for t in 0..4i64 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..10 {
                        let mut r = rec("iam:GetUser", "x", "Allow");
                        r.time_ns = t * 100 + i;
                        log.record(r);
                    }
                });
            }
        });
        let all = log.query(&Filter::default());
        assert_eq!(all.len(), 40);
        assert_eq!(all[0].time_ns, 309);
    }
}

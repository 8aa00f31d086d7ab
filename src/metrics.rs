//! `GET /_localiam/metrics`: the Prometheus text format (version 0.0.4), written by the
//! `prometheus-client` crate. A request only adds to three atomic counters (no lock, no
//! allocation: its action is a row found by binary search in the generated operation lists);
//! labels, the policy decisions and the entity counts are read when the metrics are scraped.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::api::Service;
use crate::protocol::{iam, sts};
use crate::store::model::{Model, SHARED_ACCOUNT};

/// The `Content-Type` of the answer.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The HTTP statuses counted by value; any other is counted as `other`.
const STATUSES: [u16; 11] = [200, 400, 403, 404, 409, 410, 413, 429, 500, 501, 503];
const STATUS_LABELS: [&str; STATUSES.len() + 1] = [
    "200", "400", "403", "404", "409", "410", "413", "429", "500", "501", "503", "other",
];
/// Upper bounds of the latency histogram's buckets, in microseconds (then +Inf).
const BUCKETS_US: [u64; 14] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 10_000_000,
];
/// What an action that is not an operation of its service is counted as.
const UNKNOWN_ACTION: &str = "<unknown>";

/// The request counters.
pub struct Metrics {
    /// Requests by (row, status column). A row per operation of each service, then one per
    /// service for action names it does not have: IAM's operations, IAM's unknown, STS's
    /// operations, STS's unknown.
    requests: Box<[AtomicU64]>,
    /// Requests by latency bucket (not cumulative; the last is +Inf).
    latency: [AtomicU64; BUCKETS_US.len() + 1],
    latency_sum_us: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        let rows = iam::OPERATIONS.len() + 1 + sts::OPERATIONS.len() + 1;
        Metrics {
            requests: (0..rows * STATUS_LABELS.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            latency: Default::default(),
            latency_sum_us: AtomicU64::new(0),
        }
    }
}

/// The first row of `service`, and its operations.
fn rows_of(service: Service) -> (usize, &'static [&'static str]) {
    match service {
        Service::Iam => (0, iam::OPERATIONS),
        Service::Sts => (iam::OPERATIONS.len() + 1, sts::OPERATIONS),
    }
}

/// The row of an action (the generated operation lists are sorted).
fn row(service: Service, action: &str) -> usize {
    let (first, ops) = rows_of(service);
    first + ops.binary_search(&action).unwrap_or(ops.len())
}

/// The service and action of a row.
fn row_labels(row: usize) -> (&'static str, &'static str) {
    for service in [Service::Iam, Service::Sts] {
        let (first, ops) = rows_of(service);
        if let Some(i) = row.checked_sub(first).filter(|&i| i <= ops.len()) {
            return (
                service.action_prefix(),
                ops.get(i).copied().unwrap_or(UNKNOWN_ACTION),
            );
        }
    }
    ("", UNKNOWN_ACTION)
}

impl Metrics {
    /// Counts one Query API request.
    pub fn observe(&self, service: Service, action: &str, status: u16, elapsed: Duration) {
        let column = STATUSES
            .iter()
            .position(|&s| s == status)
            .unwrap_or(STATUSES.len());
        if let Some(c) = self
            .requests
            .get(row(service, action) * STATUS_LABELS.len() + column)
        {
            c.fetch_add(1, Relaxed);
        }
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(c) = self.latency.get(BUCKETS_US.partition_point(|&b| b < us)) {
            c.fetch_add(1, Relaxed);
        }
        self.latency_sum_us.fetch_add(us, Relaxed);
    }

    /// The metrics as Prometheus text: the counters, `decisions` (by result) and the entity
    /// counts of `model`.
    pub fn render(&self, decisions: [(&'static str, u64); 3], model: &Model) -> String {
        let mut requests = Vec::new();
        for (i, c) in self.requests.iter().enumerate() {
            let n = c.load(Relaxed);
            if n > 0 {
                let (service, action) = row_labels(i / STATUS_LABELS.len());
                requests.push((service, action, STATUS_LABELS[i % STATUS_LABELS.len()], n));
            }
        }
        let latency: Vec<(f64, u64)> = self
            .latency
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let bound = BUCKETS_US
                    .get(i)
                    .map_or(f64::INFINITY, |&us| us as f64 / 1e6);
                (bound, c.load(Relaxed))
            })
            .collect();
        let snapshot = Snapshot {
            requests,
            latency_count: latency.iter().map(|(_, n)| n).sum(),
            latency,
            latency_sum: self.latency_sum_us.load(Relaxed) as f64 / 1e6,
            decisions,
            entities: entity_counts(model),
        };
        let mut registry = Registry::default();
        registry.register_collector(Box::new(snapshot));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// How many entities of each kind the model holds, over every account, and the accounts.
fn entity_counts(model: &Model) -> Vec<(&'static str, u64)> {
    let mut counts = [
        ("accounts", 0),
        ("users", 0),
        ("access_keys", 0),
        ("groups", 0),
        ("roles", 0),
        ("policies", 0),
        ("instance_profiles", 0),
        ("mfa_devices", 0),
        ("saml_providers", 0),
        ("oidc_providers", 0),
        ("server_certificates", 0),
        ("sessions", 0),
    ];
    for (id, a) in model.accounts() {
        if id == SHARED_ACCOUNT {
            continue;
        }
        let keys: usize = a.users.iter().map(|u| u.access_keys.len()).sum();
        let n = [
            1,
            a.users.len(),
            keys,
            a.groups.len(),
            a.roles.len(),
            a.policies.len(),
            a.instance_profiles.len(),
            a.mfa_devices.len(),
            a.saml_providers.len(),
            a.oidc_providers.len(),
            a.server_certificates.len(),
            a.sessions.len(),
        ];
        for (c, n) in counts.iter_mut().zip(n) {
            c.1 += n as u64;
        }
    }
    counts.to_vec()
}

/// What one scrape encodes.
#[derive(Debug)]
struct Snapshot {
    requests: Vec<(&'static str, &'static str, &'static str, u64)>,
    latency: Vec<(f64, u64)>,
    latency_count: u64,
    latency_sum: f64,
    decisions: [(&'static str, u64); 3],
    entities: Vec<(&'static str, u64)>,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut m = encoder.encode_descriptor(
            "localiam_requests",
            "Query API requests (IAM and STS) by service, action and HTTP status",
            None,
            MetricType::Counter,
        )?;
        for (service, action, status, n) in &self.requests {
            let labels = [
                ("service", *service),
                ("action", action),
                ("status", status),
            ];
            ConstCounter::new(*n).encode(m.encode_family(&labels)?)?;
        }
        encoder
            .encode_descriptor(
                "localiam_request_duration_seconds",
                "Time to answer a Query API request",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(
                self.latency_sum,
                self.latency_count,
                &self.latency,
                None,
            )?;
        let mut m = encoder.encode_descriptor(
            "localiam_decisions",
            "Authorization decisions of audit and enforce by result",
            None,
            MetricType::Counter,
        )?;
        for (decision, n) in &self.decisions {
            let labels = [("decision", *decision)];
            ConstCounter::new(*n).encode(m.encode_family(&labels)?)?;
        }
        let mut m = encoder.encode_descriptor(
            "localiam_entities",
            "Entities held, over every account, by kind",
            None,
            MetricType::Gauge,
        )?;
        for (kind, n) in &self.entities {
            let labels = [("kind", *kind)];
            ConstGauge::new(*n).encode(m.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_name_their_action() {
        for service in [Service::Iam, Service::Sts] {
            for op in service.operations() {
                assert_eq!(row_labels(row(service, op)), (service.action_prefix(), *op));
            }
            assert_eq!(
                row_labels(row(service, "NoSuchThing")),
                (service.action_prefix(), UNKNOWN_ACTION)
            );
        }
        let m = Metrics::default();
        assert_eq!(
            m.requests.len(),
            (row(Service::Sts, "zzz") + 1) * STATUS_LABELS.len()
        );
    }

    #[test]
    fn counts_render_as_prometheus_text() {
        let m = Metrics::default();
        m.observe(Service::Iam, "GetUser", 200, Duration::from_micros(300));
        m.observe(Service::Iam, "GetUser", 200, Duration::from_micros(100));
        m.observe(Service::Iam, "GetUser", 404, Duration::from_secs(60));
        m.observe(Service::Sts, "Bogus", 418, Duration::from_micros(1));
        let text = m.render(
            [("Allow", 2), ("ExplicitDeny", 0), ("ImplicitDeny", 1)],
            &Model::default(),
        );
        for line in [
            "# TYPE localiam_requests_total counter",
            "localiam_requests_total{service=\"iam\",action=\"GetUser\",status=\"200\"} 2",
            "localiam_requests_total{service=\"iam\",action=\"GetUser\",status=\"404\"} 1",
            "localiam_requests_total{service=\"sts\",action=\"<unknown>\",status=\"other\"} 1",
            "# TYPE localiam_request_duration_seconds histogram",
            "localiam_request_duration_seconds_bucket{le=\"0.00025\"} 2",
            "localiam_request_duration_seconds_bucket{le=\"0.0005\"} 3",
            "localiam_request_duration_seconds_bucket{le=\"10\"} 3",
            "localiam_request_duration_seconds_bucket{le=\"+Inf\"} 4",
            "localiam_request_duration_seconds_count 4",
            "localiam_decisions_total{decision=\"ImplicitDeny\"} 1",
            "localiam_entities{kind=\"users\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        assert!(text.contains("localiam_request_duration_seconds_sum 60.0004"));
    }
}

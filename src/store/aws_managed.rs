//! The catalogue of AWS managed policies (`arn:aws:iam::aws:policy/…`): one list shared by every
//! account, built into the binary (`data/aws-managed-policies/policies.json.gz`, made by
//! `tools/extract_aws_managed_policies.py`; see its NOTICE) and read lazily: it is decompressed and
//! parsed on first use, so it costs neither start-up time nor memory until a call needs it.
//!
//! The policies are [`ManagedPolicy`] values of the account [`AWS_ACCOUNT`] with their default version
//! only (the data has no older versions). Their IDs are derived from their ARNs by the extraction
//! script, so they are the same in every version of the data: attachments, stored as policy IDs, keep
//! pointing at the same policies when the catalogue is refreshed.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use super::lower;
use super::model::{parse_policy_arn, ManagedPolicy, PolicyVersion, AWS_ACCOUNT};

/// The gzip-compressed JSON catalogue.
static DATA: &[u8] = include_bytes!("../../data/aws-managed-policies/policies.json.gz");

static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();

/// One entry of the data file.
#[derive(Deserialize)]
struct Entry {
    name: String,
    path: String,
    id: String,
    version: String,
    created: i64,
    updated: i64,
    document: String,
}

/// Every AWS managed policy, ordered by lowercased name (names are unique case-insensitively).
#[derive(Debug, Default)]
pub struct Catalogue {
    policies: Vec<Arc<ManagedPolicy>>,
    /// `policies`' lowercased names, in the same order.
    names: Vec<String>,
    /// Policy ID → position.
    by_id: HashMap<String, usize>,
}

/// The catalogue, loaded on the first call.
pub fn catalogue() -> &'static Catalogue {
    CATALOGUE.get_or_init(|| {
        let started = std::time::Instant::now();
        let c = Catalogue::load(DATA).unwrap_or_else(|e| {
            // The data is part of the binary and checked by the tests: this is a build defect.
            tracing::error!(error = %e, "the embedded AWS managed policies do not load");
            Catalogue::default()
        });
        tracing::debug!(
            policies = c.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "AWS managed policies loaded"
        );
        c
    })
}

/// Whether the catalogue has been loaded (for tests of its laziness).
pub fn is_loaded() -> bool {
    CATALOGUE.get().is_some()
}

impl Catalogue {
    /// Decompresses and parses the data.
    fn load(gz: &[u8]) -> Result<Catalogue, String> {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut text)
            .map_err(|e| format!("gunzip: {e}"))?;
        let entries: Vec<Entry> = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
        let mut c = Catalogue {
            policies: Vec::with_capacity(entries.len()),
            names: Vec::with_capacity(entries.len()),
            by_id: HashMap::with_capacity(entries.len()),
        };
        for e in entries {
            let next_version = e
                .version
                .strip_prefix('v')
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| format!("{}: bad version {}", e.name, e.version))?
                + 1;
            c.by_id.insert(e.id.clone(), c.policies.len());
            c.names.push(lower(&e.name));
            c.policies.push(Arc::new(ManagedPolicy {
                policy_id: e.id,
                account_id: AWS_ACCOUNT.to_string(),
                name: e.name,
                path: e.path,
                default_version_id: e.version.clone(),
                next_version,
                is_attachable: true,
                description: None,
                create_date: e.created,
                update_date: e.updated,
                versions: vec![PolicyVersion {
                    version_id: e.version,
                    document: e.document,
                    create_date: e.updated,
                }],
                tags: Vec::new(),
            }));
        }
        if !c.names.windows(2).all(|w| w[0] < w[1]) {
            return Err("not ordered by lowercased name".to_string());
        }
        Ok(c)
    }

    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The policy of that name (case-insensitively).
    pub fn get(&self, name: &str) -> Option<&Arc<ManagedPolicy>> {
        let l = lower(name);
        let i = self.names.binary_search(&l).ok()?;
        self.policies.get(i)
    }

    /// The policy with that ID.
    pub fn get_by_id(&self, id: &str) -> Option<&Arc<ManagedPolicy>> {
        self.policies.get(*self.by_id.get(id)?)
    }

    /// The policy of that ARN (`arn:aws:iam::aws:policy/PATH/NAME`).
    pub fn get_by_arn(&self, arn: &str) -> Option<&Arc<ManagedPolicy>> {
        let (account, path, name) = parse_policy_arn(arn)?;
        if account != AWS_ACCOUNT {
            return None;
        }
        self.get(name).filter(|p| p.path == path)
    }

    /// The policies in name order from `from` (a lowercased name).
    pub fn range(&self, from: Bound<&str>) -> impl Iterator<Item = &Arc<ManagedPolicy>> {
        self.keyed_range(from).map(|(_, p)| p)
    }

    /// [`Catalogue::range`] with each policy's lowercased name.
    pub fn keyed_range(
        &self,
        from: Bound<&str>,
    ) -> impl Iterator<Item = (&str, &Arc<ManagedPolicy>)> {
        let start = match from {
            Bound::Unbounded => 0,
            Bound::Included(n) => self.names.partition_point(|x| x.as_str() < n),
            Bound::Excluded(n) => self.names.partition_point(|x| x.as_str() <= n),
        };
        self.names[start..]
            .iter()
            .map(String::as_str)
            .zip(&self.policies[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_loads_with_stable_ids() {
        let c = Catalogue::load(DATA).unwrap();
        assert!(c.len() > 1_000, "{} policies", c.len());
        let p = c
            .get_by_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
            .unwrap();
        // Pinned: attachments are stored by ID, so a new version of the data must keep it.
        assert_eq!(p.policy_id, "ANPAFI55UOPBKUWLEKB5V");
        assert_eq!(p.arn(), "arn:aws:iam::aws:policy/ReadOnlyAccess");
        assert!(p.default_version().is_some());
        let valid = |id: &str| {
            id.len() == 21
                && id.starts_with("ANPA")
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        };
        assert!(c.policies.iter().all(|p| valid(&p.policy_id)));
        assert_eq!(c.by_id.len(), c.len());
        // The evaluator (simulator, enforcement) compiles every document.
        let unparsed: Vec<_> = c
            .policies
            .iter()
            .filter(|p| {
                p.default_version()
                    .is_none_or(|v| crate::policy::Policy::parse(&v.document).is_err())
            })
            .map(|p| p.name.clone())
            .collect();
        assert!(
            unparsed.is_empty(),
            "documents that do not parse: {unparsed:?}"
        );
        let job = c
            .get_by_arn("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
            .unwrap();
        assert_eq!(job.path, "/job-function/");
        assert!(c
            .get_by_arn("arn:aws:iam::aws:policy/ViewOnlyAccess")
            .is_none());
        assert!(c.get_by_arn("arn:aws:iam::aws:policy/Nope").is_none());
        assert!(c
            .get_by_arn("arn:aws:iam::123456789012:policy/ReadOnlyAccess")
            .is_none());
    }

    #[test]
    fn ranges_start_after_or_at_a_name() {
        let c = Catalogue::load(DATA).unwrap();
        let first = c.range(Bound::Included("readonlyaccess")).next().unwrap();
        assert_eq!(first.name, "ReadOnlyAccess");
        let next = c.range(Bound::Excluded("readonlyaccess")).next().unwrap();
        assert!(lower(&next.name).as_str() > "readonlyaccess");
        assert_eq!(c.range(Bound::Unbounded).count(), c.len());
    }
}

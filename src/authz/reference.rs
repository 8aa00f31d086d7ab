//! AWS's Service Authorization Reference as data: every service prefix with its name and its
//! actions (`data/service-authorization/`, extracted by `tools/extract_authz_table.py`). Loaded on
//! first use; `/_localiam/authorize` tells a real action from a typo with it, and the access
//! advisor lists services and actions from it.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::sync::LazyLock;

/// One service of the reference.
#[derive(Debug)]
pub struct ServiceEntry {
    /// Its name in the reference (`Amazon EC2`).
    pub name: &'static str,
    /// Its actions, sorted.
    pub actions: Vec<&'static str>,
}

struct Reference {
    /// Service prefix → the service.
    services: BTreeMap<&'static str, ServiceEntry>,
    /// `prefix:action` lowercased → (prefix, action) as the reference spells them.
    by_lower: HashMap<String, (&'static str, &'static str)>,
}

/// Names the access advisor reports differently from the reference's page titles, as AWS's own
/// GetServiceLastAccessedDetails example shows them.
const ADVISOR_NAMES: &[(&str, &str)] = &[
    ("iam", "AWS Identity and Access Management"),
    ("s3", "Amazon Simple Storage Service"),
];

static REFERENCE: LazyLock<Reference> = LazyLock::new(|| {
    let gz: &[u8] = include_bytes!("../../data/service-authorization/actions.txt.gz");
    let mut text = String::new();
    if flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .is_err()
    {
        tracing::error!("the embedded action list does not decompress");
    }
    // Held for the life of the process (the reference's strings are borrowed from it).
    let text: &'static str = Box::leak(text.into_boxed_str());
    let names: &'static str = include_str!("../../data/service-authorization/services.tsv");
    let mut services: BTreeMap<&'static str, ServiceEntry> = names
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(prefix, name)| {
            (
                prefix,
                ServiceEntry {
                    name,
                    actions: Vec::new(),
                },
            )
        })
        .collect();
    let mut by_lower = HashMap::new();
    for line in text.lines() {
        let Some((prefix, action)) = line.split_once(':') else {
            continue;
        };
        services
            .entry(prefix)
            .or_insert_with(|| ServiceEntry {
                name: prefix,
                actions: Vec::new(),
            })
            .actions
            .push(action);
        by_lower.insert(line.to_ascii_lowercase(), (prefix, action));
    }
    for s in services.values_mut() {
        s.actions.sort_unstable();
    }
    for (prefix, name) in ADVISOR_NAMES {
        if let Some(s) = services.get_mut(prefix) {
            s.name = name;
        }
    }
    Reference { services, by_lower }
});

/// `service:Action` as the reference spells it (prefix, action), whatever its case; `None` when
/// the reference does not know it.
pub fn canonical_action(action: &str) -> Option<(&'static str, &'static str)> {
    REFERENCE
        .by_lower
        .get(&action.trim().to_ascii_lowercase())
        .copied()
}

/// The service with that prefix.
pub fn service(prefix: &str) -> Option<&'static ServiceEntry> {
    REFERENCE.services.get(prefix)
}

/// Every service, by prefix.
pub fn services() -> impl Iterator<Item = (&'static str, &'static ServiceEntry)> {
    REFERENCE.services.iter().map(|(p, s)| (*p, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_services_come_from_the_reference() {
        assert_eq!(canonical_action("S3:getobject"), Some(("s3", "GetObject")));
        assert_eq!(canonical_action("s3:NoSuchThing"), None);
        assert_eq!(service("ec2").map(|s| s.name), Some("Amazon EC2"));
        assert_eq!(
            service("iam").map(|s| s.name),
            Some("AWS Identity and Access Management")
        );
        let sts = service("sts").unwrap();
        assert!(sts.actions.contains(&"AssumeRole"));
        assert!(sts.actions.windows(2).all(|w| w[0] < w[1]));
        assert!(services().count() > 400);
    }
}

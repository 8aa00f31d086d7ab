//! Replay helper for the responses recorded against real AWS (`shared/aws-recorded/`, see its
//! README): loads a snapshot file, finds a recorded test and label, and compares what localiam
//! answered with AWS's answer under the recorder's normalisation.
//!
//! Normalisation: the recorder replaced the account with `111111111111`, the partition with
//! `<partition>`, and names/IDs with placeholders such as `<user-name:1>` (same placeholder, same
//! value within one recorded test). [`Norm`] matches a recorded text against a concrete one:
//! the account is substituted, a placeholder that is bound (by [`Norm::bind`] or by an earlier
//! match) must equal its value, and an unbound placeholder matches any non-empty text and is then
//! bound to it, so later labels of the same test must agree.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use regex::Regex;
use serde_json::Value;

use crate::common::ErrInfo;

/// The account the recorder normalised every account ID to.
pub const RECORDED_ACCOUNT: &str = "111111111111";

/// Where the recordings are: `$CARGO_MANIFEST_DIR/../shared/aws-recorded` (a CI checkout has
/// `shared/` beside it), else `/work/shared/aws-recorded`. Panics when neither exists: replay
/// tests must fail, not silently pass, without their ground truth.
pub fn snapshot_dir() -> PathBuf {
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/aws-recorded");
    let fallback = PathBuf::from("/work/shared/aws-recorded");
    for dir in [&beside, &fallback] {
        if dir.join("README.md").is_file() || dir.join("test_iam_users.snapshot.json").is_file() {
            return dir.clone();
        }
    }
    panic!(
        "recorded AWS snapshots not found: looked in {} and {}",
        beside.display(),
        fallback.display()
    );
}

/// One `*.snapshot.json` file.
pub struct Snapshot {
    pub file: String,
    pub json: Value,
}

impl Snapshot {
    pub fn load(file: &str) -> Snapshot {
        let path = snapshot_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        assert!(json.is_object(), "{file}: not a JSON object");
        Snapshot {
            file: file.to_string(),
            json,
        }
    }

    /// Every recorded test ID in the file.
    pub fn test_ids(&self) -> Vec<String> {
        self.json
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The recorded test whose ID ends with `::{test}` (e.g. `TestUserLifecycle::test_user_errors`,
    /// or with a parameter: `TestUserLifecycle::test_user_lifecycle[None]`). Panics unless exactly
    /// one matches.
    pub fn case(&self, test: &str) -> Case {
        let suffix = format!("::{test}");
        let hits: Vec<_> = self
            .json
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.ends_with(&suffix))
            .collect();
        match hits.as_slice() {
            [(id, v)] => Case {
                id: (*id).clone(),
                content: v
                    .get("recorded-content")
                    .cloned()
                    .unwrap_or_else(|| panic!("{id}: no recorded-content")),
            },
            [] => panic!("{}: no recorded test ends with {suffix}", self.file),
            many => panic!(
                "{}: {} recorded tests end with {suffix}",
                self.file,
                many.len()
            ),
        }
    }

    /// Every (test ID, label) of a recorded error in the file.
    pub fn error_labels(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (id, v) in self.json.as_object().into_iter().flatten() {
            if let Some(content) = v.get("recorded-content").and_then(Value::as_object) {
                for (label, c) in content {
                    if c.get("Error").is_some() {
                        out.push((id.clone(), label.clone()));
                    }
                }
            }
        }
        out
    }
}

/// One recorded test: its labels and their recorded responses.
pub struct Case {
    pub id: String,
    pub content: Value,
}

/// A recorded error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedError {
    pub code: String,
    pub message: String,
    pub kind: String,
    pub status: u16,
}

impl Case {
    pub fn labels(&self) -> Vec<String> {
        self.content
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The recorded response under `label`.
    pub fn get(&self, label: &str) -> &Value {
        self.content
            .get(label)
            .unwrap_or_else(|| panic!("{}: no label {label:?} (have {:?})", self.id, self.labels()))
    }

    /// The recorded error under `label`; panics if that label recorded a success.
    pub fn error(&self, label: &str) -> RecordedError {
        let v = self.get(label);
        let e = v
            .get("Error")
            .unwrap_or_else(|| panic!("{}: {label} is not an error: {v}", self.id));
        let s = |k: &str| {
            e.get(k)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{}: {label}: no Error.{k}", self.id))
                .to_string()
        };
        let status = v
            .pointer("/ResponseMetadata/HTTPStatusCode")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("{}: {label}: no HTTPStatusCode", self.id));
        RecordedError {
            code: s("Code"),
            message: s("Message"),
            kind: s("Type"),
            status: u16::try_from(status).expect("status fits u16"),
        }
    }
}

/// The placeholder syntax of the recorder: `<user-name:1>`, `<partition>`, `<group-name-2>`.
fn placeholder_re() -> Regex {
    Regex::new(r"<[A-Za-z][A-Za-z0-9_-]*(?::[0-9]+)?>").expect("placeholder regex")
}

/// Matches recorded (normalised) texts against concrete ones, keeping placeholder bindings.
#[derive(Debug, Clone)]
pub struct Norm {
    /// The account localiam answered for (replaces `111111111111`).
    pub account: String,
    pub bindings: HashMap<String, String>,
}

impl Norm {
    /// Bindings for a server whose default account is `account`; `<partition>` is `aws`.
    pub fn new(account: &str) -> Norm {
        let mut bindings = HashMap::new();
        bindings.insert("<partition>".to_string(), "aws".to_string());
        bindings.insert("<region>".to_string(), "us-east-1".to_string());
        Norm {
            account: account.to_string(),
            bindings,
        }
    }

    /// Binds `placeholder` (with its angle brackets, e.g. `<user-name:1>`) to a concrete value.
    pub fn bind(mut self, placeholder: &str, value: &str) -> Norm {
        self.bindings
            .insert(placeholder.to_string(), value.to_string());
        self
    }

    /// Whether `actual` is `recorded` under the normalisation; binds unbound placeholders.
    pub fn match_text(&mut self, recorded: &str, actual: &str) -> Result<(), String> {
        let recorded = recorded.replace(RECORDED_ACCOUNT, &self.account);
        let re = placeholder_re();
        let mut pattern = String::from("^");
        let mut groups: Vec<String> = Vec::new();
        let mut last = 0;
        for m in re.find_iter(&recorded) {
            pattern.push_str(&regex::escape(&recorded[last..m.start()]));
            let ph = m.as_str();
            match self.bindings.get(ph) {
                Some(v) => pattern.push_str(&regex::escape(v)),
                None => {
                    pattern.push_str("(.+?)");
                    groups.push(ph.to_string());
                }
            }
            last = m.end();
        }
        pattern.push_str(&regex::escape(&recorded[last..]));
        pattern.push('$');
        let full = Regex::new(&pattern).map_err(|e| format!("bad pattern {pattern}: {e}"))?;
        let caps = full.captures(actual).ok_or_else(|| {
            format!(
                "expected {recorded:?} (bindings {:?}), got {actual:?}",
                self.bindings
            )
        })?;
        let mut fresh: HashMap<String, String> = HashMap::new();
        for (i, ph) in groups.iter().enumerate() {
            let v = caps.get(i + 1).map(|m| m.as_str()).unwrap_or_default();
            if let Some(prev) = fresh.get(ph) {
                if prev != v {
                    return Err(format!(
                        "{ph} matched both {prev:?} and {v:?} in {actual:?}"
                    ));
                }
            }
            fresh.insert(ph.clone(), v.to_string());
        }
        self.bindings.extend(fresh);
        Ok(())
    }
}

/// Asserts that the error localiam returned matches what AWS recorded under `label` of `case`:
/// same code, same HTTP status, and the message equal under the normalisation.
#[track_caller]
pub fn assert_recorded_error(case: &Case, label: &str, got: &ErrInfo, norm: &mut Norm) {
    let want = case.error(label);
    assert_eq!(
        (got.code.as_str(), got.status),
        (want.code.as_str(), want.status),
        "{} / {label}: code and status differ (message {:?}, recorded {:?})",
        case.id,
        got.message,
        want.message
    );
    if let Err(e) = norm.match_text(&want.message, &got.message) {
        panic!("{} / {label}: message differs: {e}", case.id);
    }
}

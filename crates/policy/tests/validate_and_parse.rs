//! `validate_and_parse` answers exactly what `validate` followed by `Policy::parse` answers, on
//! every policy document of the test data (recorded AWS cases and the evaluation corpus).

use localiam_policy::validate::{validate, validate_and_parse, MalformedPolicy, PolicyKind};
use localiam_policy::Policy;
use serde_json::Value;

fn separately(document: &str, kind: PolicyKind) -> Result<Policy, MalformedPolicy> {
    validate(document, kind)?;
    Policy::parse(document).map_err(|_| MalformedPolicy {
        message: "Syntax errors in policy.".into(),
    })
}

/// Policy documents found anywhere in `v`: strings that look like documents, and objects with
/// a `Statement` (as compact and as pretty JSON, so positions differ).
fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.trim_start().starts_with('{') => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(map) => {
            if map.contains_key("Statement") {
                out.push(v.to_string());
                out.push(serde_json::to_string_pretty(v).unwrap());
            }
            map.values().for_each(|i| collect(i, out));
        }
        _ => {}
    }
}

#[test]
fn same_answers_as_validate_then_parse() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut documents = vec![
        // Repeated keys, including a bad value replaced by a good one.
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Action":"s3:*","Resource":"*"}}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":1,"AWS":"123456789012"}}}"#.to_string(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get\u004fbject",1,true],"Resource":"*","Condition":{"NumericEquals":{"k":1.50,"n":-7}}}]}"#.to_string(),
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},"x"]}"#.to_string(),
        "[1]".to_string(),
        "{".to_string(),
    ];
    for sub in ["tests/data", "tests/corpus"] {
        for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    collect(&v, &mut documents);
                }
            }
        }
    }
    assert!(documents.len() > 300, "{}", documents.len());
    for document in &documents {
        for kind in [
            PolicyKind::Identity,
            PolicyKind::Trust,
            PolicyKind::Resource,
        ] {
            assert_eq!(
                validate_and_parse(document, kind),
                separately(document, kind),
                "{kind:?}: {document}"
            );
        }
    }
}

/// A key repeated in an object keeps its last value (and its first place), as
/// `serde_json::Value` and Jackson read JSON: an invalid earlier value does not taint the
/// element, for the validator and the compiler alike (they read the same tree).
#[test]
fn repeated_keys_keep_their_last_value() {
    let resource = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
        "Resource":"*","Principal":{"AWS":{},"AWS":"*"}}}"#;
    let policy = validate_and_parse(resource, PolicyKind::Resource).unwrap();
    assert!(policy.statements()[0].has_principal());
    assert_eq!(Policy::parse(resource).unwrap(), policy);

    let conditions = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
        "Resource":"*","Condition":{"StringEquals":{"a":{}},"StringEquals":{"a":"x","b":"y"}}}}"#;
    let policy = validate_and_parse(conditions, PolicyKind::Identity).unwrap();
    assert_eq!(policy.context_keys(), ["a", "b"]);

    let effect = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*",
        "Resource":"*","Effect":"Allow"}}"#;
    let policy = validate_and_parse(effect, PolicyKind::Identity).unwrap();
    assert_eq!(
        policy.statements()[0].effect(),
        localiam_policy::Effect::Allow
    );

    // The other way round: a valid value followed by an invalid one is invalid.
    let spoiled = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
        "Resource":"*","Resource":{}}}"#;
    assert_eq!(
        validate_and_parse(spoiled, PolicyKind::Identity)
            .unwrap_err()
            .message,
        "Syntax errors in policy."
    );
    assert!(Policy::parse(spoiled).is_err());
}

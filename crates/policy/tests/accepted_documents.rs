//! Every policy document real AWS accepted (recorded in `tests/data`) must parse into the
//! evaluator's compiled form; no recorded document, accepted or not, may make it panic.

use localiam_policy::Policy;
use serde_json::Value;

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn accepted_documents_parse() {
    let mut n = 0;
    for doc in data("accepted-documents.json")["documents"]
        .as_array()
        .expect("documents")
    {
        let text = doc["document"].as_str().expect("document");
        if let Err(e) = Policy::parse(text) {
            panic!("{}: {e}\n{text}", doc["source"]);
        }
        n += 1;
    }
    for (name, case) in data("create-policy-documents.json")["cases"]
        .as_object()
        .expect("cases")
    {
        let text = case["document"].as_str().expect("document");
        let parsed = Policy::parse(text);
        if case["aws"] == "accepted" {
            if let Err(e) = parsed {
                panic!("{name}: {e}\n{text}");
            }
            n += 1;
        }
    }
    assert!(n > 100, "only {n} accepted documents");
}

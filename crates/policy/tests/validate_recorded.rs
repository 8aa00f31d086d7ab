//! The policy validator against what real AWS IAM answered (shared/aws-recorded, copied under
//! tests/data), plus trust- and resource-policy rules and robustness on arbitrary input.

use localiam_policy::validate::{policy_size, validate, MalformedPolicy, PolicyKind};
use proptest::prelude::*;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The recorder replaced the region and partition with placeholders.
fn denormalise(message: &str) -> String {
    message
        .replace("<partition>", "aws")
        .replace("<region>", "us-east-1")
}

fn message_of(result: Result<(), MalformedPolicy>) -> String {
    match result {
        Ok(()) => "accepted".to_string(),
        Err(e) => e.message,
    }
}

fn expect(document: &str, kind: PolicyKind, expected: &str) {
    assert_eq!(
        message_of(validate(document, kind)),
        expected,
        "{kind:?} document: {document}"
    );
}

/// All 129 CreatePolicy cases: AWS's verdict and message, character for character.
#[test]
fn create_policy_documents_match_aws() {
    let data = load("create-policy-documents.json");
    let cases = data["cases"].as_object().expect("cases");
    assert_eq!(cases.len(), 129);
    let mut mismatches = Vec::new();
    for (id, case) in cases {
        let document = case["document"].as_str().expect("document");
        let expected = match &case["aws"] {
            Value::String(s) => s.clone(),
            other => denormalise(other["Message"].as_str().expect("Message")),
        };
        let got = message_of(validate(document, PolicyKind::Identity));
        if got != expected {
            mismatches.push(format!(
                "{id} ({}): expected {expected:?}, got {got:?}",
                case["what"]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of 129 differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The 78 MalformedPolicyDocument messages of test_iam_policies.snapshot.json, paired with the
/// documents their test ids name.
#[test]
fn policies_snapshot_messages_match() {
    let snapshot = load("test_iam_policies.snapshot.json");
    let cases = load("create-policy-documents.json");
    let mut paired = 0;
    for (test_id, test) in snapshot.as_object().expect("snapshot") {
        let Some(rest) = test_id.split("test_create_policy_invalid_document[").nth(1) else {
            continue;
        };
        let case_id = rest.trim_end_matches(']');
        let error = &test["recorded-content"]["error"]["Error"];
        assert_eq!(error["Code"], "MalformedPolicyDocument");
        let document = cases["cases"][case_id]["document"]
            .as_str()
            .unwrap_or_else(|| panic!("no document for {case_id}"));
        let expected = denormalise(error["Message"].as_str().expect("Message"));
        expect(document, PolicyKind::Identity, &expected);
        paired += 1;
    }
    assert_eq!(paired, 78);
}

/// Documents AWS stored and returned in the recorded responses are valid.
#[test]
fn recorded_accepted_documents_are_valid() {
    let data = load("accepted-documents.json");
    let documents = data["documents"].as_array().expect("documents");
    assert!(documents.len() > 80);
    for entry in documents {
        let kind = match entry["kind"].as_str() {
            Some("trust") => PolicyKind::Trust,
            _ => PolicyKind::Identity,
        };
        let document = entry["document"].as_str().expect("document");
        expect(document, kind, "accepted");
    }
}

/// The recorded trust-policy errors (UpdateAssumeRolePolicy, CreateRole).
#[test]
fn recorded_trust_policy_errors_match() {
    let data = load("trust-policy-errors.json");
    let cases = data["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for case in cases {
        expect(
            case["document"].as_str().expect("document"),
            PolicyKind::Trust,
            case["message"].as_str().expect("message"),
        );
    }
}

const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[test]
fn trust_policies() {
    expect(TRUST_EC2, PolicyKind::Trust, "accepted");
    // Older trust policies without policy variables are still accepted.
    expect(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
        "accepted",
    );
    expect(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["sts:AssumeRole","sts:TagSession"]}]}"#,
        PolicyKind::Trust,
        "accepted",
    );
    expect(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"${aws:username}"}}}]}"#,
        PolicyKind::Trust,
        "Policy document must be version 2012-10-17 or greater.",
    );
    // Web identity and SAML federation, wildcards that only cover assume-role actions.
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:o/r:*"}}}]}"#,
        PolicyKind::Trust,
        "accepted",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/a","arn:aws:sts::123456789012:assumed-role/r/s"]},"Action":"sts:*"}]}"#,
        PolicyKind::Trust,
        "accepted",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
        PolicyKind::Trust,
        "AssumeRole policy may only specify STS AssumeRole actions.",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotResource":"*"}]}"#,
        PolicyKind::Trust,
        "Has prohibited field NotResource",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
        "Missing required field Principal",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
        "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/*"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
        r#"Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*""#,
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
        r#"Invalid principal in policy: "SERVICE":"lambda""#,
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"User":"x"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
        "Syntax errors in policy.",
    );
    // Only JSON that does not parse gets the "invalid Json" wording.
    expect("[]", PolicyKind::Trust, "Syntax errors in policy.");
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
        PolicyKind::Trust,
        "Policy statement must contain actions.",
    );
}

#[test]
fn identity_policies_refuse_principals_and_odd_sids() {
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
        "Policy document should not specify a principal.",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:GetObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
        "Policy document should not specify a principal.",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Allow S3","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
    );
    // Policy variables, numbers and booleans in conditions, ARNs whose account is a variable.
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::${aws:PrincipalAccount}:role/x","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}]}"#,
        PolicyKind::Identity,
        "accepted",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"route53:ChangeResourceRecordSets","Resource":"arn:aws:route53::123456789012:hostedzone/*"}]}"#,
        PolicyKind::Identity,
        "Resource arn:aws:route53::123456789012:hostedzone/* cannot contain an account id.",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00-05:00"}}}]}"#,
        PolicyKind::Identity,
        "accepted",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3*:GetObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
        "Vendor s3* is not valid",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:iam::123456789012:root"}]}"#,
        PolicyKind::Identity,
        "accepted",
    );
}

#[test]
fn resource_policies() {
    let bucket_policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Public read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    expect(bucket_policy, PolicyKind::Resource, "accepted");
    expect(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sqs:SendMessage","Resource":"*"}]}"#,
        PolicyKind::Resource,
        "accepted",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        PolicyKind::Resource,
        "Missing required field Principal",
    );
    expect(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
        PolicyKind::Resource,
        "Policy statement must contain resources.",
    );
    expect("nope", PolicyKind::Resource, "Syntax errors in policy.");
}

#[test]
fn policy_size_ignores_white_space_between_tokens_only() {
    let compact = r#"{"Version":"2012-10-17","Statement":{"Sid":"a b","Effect":"Allow"}}"#;
    let pretty = "{\n  \"Version\" : \"2012-10-17\",\n\t\"Statement\": {\r\n    \"Sid\": \"a b\",\n    \"Effect\": \"Allow\"\n  }\n}\n";
    assert_eq!(policy_size(compact), compact.chars().count());
    assert_eq!(policy_size(pretty), policy_size(compact));
    // Escaped quotes do not end a string; the space inside "a b" counts.
    assert_eq!(policy_size(r#"{"k": "a \" b"}"#), r#"{"k":"a \" b"}"#.len());
    assert_eq!(policy_size(""), 0);
    assert_eq!(policy_size(" \n\t "), 0);
}

/// Inputs built to hit every early exit; none may panic.
#[test]
fn malformed_inputs_never_panic() {
    let samples = [
        "",
        " ",
        "{",
        "}",
        "null",
        "0",
        "\"\"",
        "[]",
        "{}",
        r#"{"Statement":null}"#,
        r#"{"Statement":{}}"#,
        r#"{"Statement":[{}]}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":":","Resource":":"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"::","Resource":"::"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"${:}"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"a:${aws:x"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:iam:::"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"DateEquals":{"k":["t","-","T:","-t::","1t1:1:1z1","1t1:1:+","1t1:1:1.","--","-+1","ü","9999999999999999999999999999999999999999"]}}}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"DateEquals":{"k":[1.5,true,-1]}}}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["","*",":::::"]},"Action":"sts:AssumeRole"}}"#,
    ];
    for sample in samples {
        for kind in [
            PolicyKind::Identity,
            PolicyKind::Trust,
            PolicyKind::Resource,
        ] {
            let _ = validate(sample, kind);
        }
        let _ = policy_size(sample);
    }
}

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "*",
            "",
            "Allow",
            "Deny",
            "allow",
            "2012-10-17",
            "2008-10-17",
            "s3:GetObject",
            "sts:AssumeRole",
            "a:b:c",
            "arn:aws:s3:::b",
            "arn:aws:iam::123456789012:user/u",
            "arn:aws:iam:us-east-1::x",
            "arn:x:y",
            "aws:s3::",
            "2020-01-01T00:00:00Z",
            "${aws:username}",
            "ec2.amazonaws.com",
        ])
        .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "Version",
        "Statement",
        "Id",
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "AWS",
        "Service",
        "StringEquals",
        "DateLessThan",
        "ForAnyValue:StringLikeIfExists",
        "x",
    ]);
    json_scalar().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        for kind in [PolicyKind::Identity, PolicyKind::Trust, PolicyKind::Resource] {
            let _ = validate(&text, kind);
        }
        prop_assert!(policy_size(&text) <= text.chars().count());
    }

    #[test]
    fn policy_shaped_json_never_panics(value in json_value()) {
        let text = value.to_string();
        for kind in [PolicyKind::Identity, PolicyKind::Trust, PolicyKind::Resource] {
            let _ = validate(&text, kind);
        }
        // Pretty-printing adds only white space between tokens.
        let pretty = serde_json::to_string_pretty(&value).expect("serialises");
        prop_assert_eq!(policy_size(&pretty), policy_size(&text));
        prop_assert_eq!(policy_size(&text), text.chars().count());
    }
}

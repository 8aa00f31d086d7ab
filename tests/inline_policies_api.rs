//! Inline policies of users and groups through the AWS SDK for Rust, against AWS's recorded behaviour
//! (test_iam_users.snapshot.json, test_iam_groups.snapshot.json, test_iam.snapshot.json).

use crate::common;

use common::*;

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;

/// Spaces, line breaks, Latin-1 letters (the most the model's pattern admits), `%`, `+` and `&`, which must all
/// survive the round trip exactly.
const FANCY: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Action\": [\"apigateway:PUT\"],\n    \"Condition\": {\"StringEquals\": {\"aws:PrincipalTag/team\": \"Caf\u{e9}\"}},\n    \"Resource\": \"arn:aws:apigateway:us-east-1::/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fa+b&c \u{fc}ber\"\n  }]\n}";

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .expect("utf-8 document")
        .into_owned()
}

/// A document of exactly `size` characters as IAM counts them (white space excluded), with extra white space.
fn doc_of_size(size: usize) -> String {
    let head = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::"#;
    let tail = r#""}]}"#;
    let pad = size - head.len() - tail.len();
    format!("{head}{}{tail}", "b".repeat(pad)).replace(',', " ,\n ")
}

async fn user(iam: &aws_sdk_iam::Client) -> String {
    let name = unique("user");
    iam.create_user()
        .user_name(&name)
        .send()
        .await
        .expect("create user");
    name
}

async fn group(iam: &aws_sdk_iam::Client) -> String {
    let name = unique("group");
    iam.create_group()
        .group_name(&name)
        .send()
        .await
        .expect("create group");
    name
}

// ------------------------------------------------------------------------------------------------------------
// Users
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_inline_policy_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let u = user(&iam).await;

    let empty = iam
        .list_user_policies()
        .user_name(&u)
        .send()
        .await
        .expect("list");
    assert!(empty.policy_names().is_empty());
    assert!(!empty.is_truncated());

    iam.put_user_policy()
        .user_name(&u)
        .policy_name("ReadUsers")
        .policy_document(DOC)
        .send()
        .await
        .expect("put");
    let got = iam
        .get_user_policy()
        .user_name(&u)
        .policy_name("readusers")
        .send()
        .await
        .expect("get (names are case-insensitive)");
    assert_eq!(got.user_name(), u);
    assert_eq!(got.policy_name(), "ReadUsers");
    assert_eq!(decode(got.policy_document()), DOC);
    let listed = iam
        .list_user_policies()
        .user_name(&u)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.policy_names(), ["ReadUsers"]);

    // Putting the same name (any case) replaces the policy.
    iam.put_user_policy()
        .user_name(&u)
        .policy_name("READUSERS")
        .policy_document(FANCY)
        .send()
        .await
        .expect("replace");
    let listed = iam
        .list_user_policies()
        .user_name(&u)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.policy_names(), ["READUSERS"]);
    let got = iam
        .get_user_policy()
        .user_name(&u)
        .policy_name("ReadUsers")
        .send()
        .await
        .expect("get");
    assert_eq!(decode(got.policy_document()), FANCY);

    assert_err(
        iam.delete_user().user_name(&u).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    );
    iam.delete_user_policy()
        .user_name(&u)
        .policy_name("ReadUsers")
        .send()
        .await
        .expect("delete");
    assert_err(
        iam.get_user_policy()
            .user_name(&u)
            .policy_name("ReadUsers")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user policy with name ReadUsers cannot be found.",
    );
    assert_err(
        iam.delete_user_policy()
            .user_name(&u)
            .policy_name("ReadUsers")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user policy with name ReadUsers cannot be found.",
    );
    iam.delete_user()
        .user_name(&u)
        .send()
        .await
        .expect("delete user");
}

#[tokio::test]
async fn policy_document_is_url_encoded_on_the_wire() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let u = user(&iam).await;
    iam.put_user_policy()
        .user_name(&u)
        .policy_name("fancy")
        .policy_document(FANCY)
        .send()
        .await
        .expect("put");
    let raw = srv
        .raw()
        .post_form(&[
            ("Action", "GetUserPolicy"),
            ("Version", "2010-05-08"),
            ("UserName", &u),
            ("PolicyName", "fancy"),
        ])
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let encoded = raw.tag("PolicyDocument").expect("PolicyDocument");
    // Encoded once: the `%3A` of the document itself comes back as `%253A`; spaces, line breaks and Latin-1
    // letters are percent-encoded (UTF-8), unreserved characters are not.
    assert!(
        encoded.starts_with("%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22"),
        "{encoded}"
    );
    assert!(encoded.contains("Caf%C3%A9"), "{encoded}");
    assert!(encoded.contains("arn%253Aaws%253Aapigateway"), "{encoded}");
    assert!(encoded.contains("a%2Bb%26c%20%C3%BCber"), "{encoded}");
    assert_eq!(decode(&encoded), FANCY);
}

#[tokio::test]
async fn user_inline_policy_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let u = user(&iam).await;
    assert_err(
        iam.put_user_policy()
            .user_name("nobody")
            .policy_name("p")
            .policy_document(DOC)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    assert_err(
        iam.get_user_policy()
            .user_name("nobody")
            .policy_name("p")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    assert_err(
        iam.list_user_policies().user_name("nobody").send().await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    assert_err(
        iam.delete_user_policy()
            .user_name("nobody")
            .policy_name("p")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    assert_err(
        iam.put_user_policy()
            .user_name(&u)
            .policy_name("bad")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#,
            )
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
        "Policy statement must contain actions.",
    );
    assert_err(
        iam.put_user_policy()
            .user_name(&u)
            .policy_name("bad")
            .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#)
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
        "Policy document should not specify a principal.",
    );
    let listed = iam
        .list_user_policies()
        .user_name(&u)
        .send()
        .await
        .expect("list");
    assert!(
        listed.policy_names().is_empty(),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn user_inline_size_quota_is_per_user_total() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let u = user(&iam).await;

    // White space does not count: exactly 2,048 characters fit.
    iam.put_user_policy()
        .user_name(&u)
        .policy_name("full")
        .policy_document(doc_of_size(2048))
        .send()
        .await
        .expect("2,048 characters fit");
    assert_err(
        iam.put_user_policy()
            .user_name(&u)
            .policy_name("more")
            .policy_document(DOC)
            .send()
            .await,
        "LimitExceeded",
        409,
        &format!("Maximum policy size of 2048 bytes exceeded for user {u}"),
    );
    // Replacing the policy only counts the new document.
    iam.put_user_policy()
        .user_name(&u)
        .policy_name("FULL")
        .policy_document(doc_of_size(1000))
        .send()
        .await
        .expect("replace");
    iam.put_user_policy()
        .user_name(&u)
        .policy_name("second")
        .policy_document(doc_of_size(1048))
        .send()
        .await
        .expect("total 2,048");
    assert_err(
        iam.put_user_policy()
            .user_name(&u)
            .policy_name("third")
            .policy_document(doc_of_size(120))
            .send()
            .await,
        "LimitExceeded",
        409,
        &format!("Maximum policy size of 2048 bytes exceeded for user {u}"),
    );
    let v = user(&iam).await;
    assert_err(
        iam.put_user_policy()
            .user_name(&v)
            .policy_name("big")
            .policy_document(doc_of_size(2049))
            .send()
            .await,
        "LimitExceeded",
        409,
        &format!("Maximum policy size of 2048 bytes exceeded for user {v}"),
    );
}

#[tokio::test]
async fn list_user_policies_pagination() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let u = user(&iam).await;
    let names = ["e", "B", "a", "d", "C"];
    for n in names {
        iam.put_user_policy()
            .user_name(&u)
            .policy_name(n)
            .policy_document(DOC)
            .send()
            .await
            .expect("put");
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = iam
            .list_user_policies()
            .user_name(&u)
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("page");
        pages += 1;
        seen.extend(page.policy_names().iter().cloned());
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_string);
    }
    assert_eq!(pages, 3);
    // Ordered by name, case-insensitively.
    assert_eq!(seen, ["a", "B", "C", "d", "e"]);
}

// ------------------------------------------------------------------------------------------------------------
// Groups
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn group_inline_policy_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let g = group(&iam).await;
    let doc = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::example_bucket"]}}"#;

    assert_err(
        iam.get_group_policy()
            .group_name(&g)
            .policy_name("missing")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group policy with name missing cannot be found.",
    );
    let empty = iam
        .list_group_policies()
        .group_name(&g)
        .send()
        .await
        .expect("list");
    assert!(empty.policy_names().is_empty());
    assert!(!empty.is_truncated());

    iam.put_group_policy()
        .group_name(&g)
        .policy_name("S3List")
        .policy_document(doc)
        .send()
        .await
        .expect("put");
    let got = iam
        .get_group_policy()
        .group_name(&g)
        .policy_name("S3List")
        .send()
        .await
        .expect("get");
    assert_eq!(got.group_name(), g);
    assert_eq!(got.policy_name(), "S3List");
    assert_eq!(decode(got.policy_document()), doc);
    let listed = iam
        .list_group_policies()
        .group_name(&g)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.policy_names(), ["S3List"]);
    iam.put_group_policy()
        .group_name(&g)
        .policy_name("fancy")
        .policy_document(FANCY)
        .send()
        .await
        .expect("put fancy");
    let got = iam
        .get_group_policy()
        .group_name(&g)
        .policy_name("fancy")
        .send()
        .await
        .expect("get fancy");
    assert_eq!(decode(got.policy_document()), FANCY);
    let page = iam
        .list_group_policies()
        .group_name(&g)
        .max_items(1)
        .send()
        .await
        .expect("page");
    assert!(page.is_truncated());
    assert_eq!(page.policy_names(), ["fancy"]);
    let rest = iam
        .list_group_policies()
        .group_name(&g)
        .marker(page.marker().unwrap())
        .send()
        .await
        .expect("rest");
    assert_eq!(rest.policy_names(), ["S3List"]);

    iam.delete_group_policy()
        .group_name(&g)
        .policy_name("s3list")
        .send()
        .await
        .expect("delete");
    assert_err(
        iam.delete_group_policy()
            .group_name(&g)
            .policy_name("S3List")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group policy with name S3List cannot be found.",
    );
    let listed = iam
        .list_group_policies()
        .group_name(&g)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.policy_names(), ["fancy"]);
}

#[tokio::test]
async fn group_inline_policy_errors_and_quota() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let g = group(&iam).await;
    assert_err(
        iam.put_group_policy()
            .group_name("nogroup")
            .policy_name("p")
            .policy_document(DOC)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nogroup cannot be found.",
    );
    assert_err(
        iam.get_group_policy()
            .group_name("nogroup")
            .policy_name("p")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nogroup cannot be found.",
    );
    assert_err(
        iam.list_group_policies().group_name("nogroup").send().await,
        "NoSuchEntity",
        404,
        "The group with name nogroup cannot be found.",
    );
    assert_err(
        iam.delete_group_policy()
            .group_name("nogroup")
            .policy_name("p")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nogroup cannot be found.",
    );
    assert_err(
        iam.put_group_policy()
            .group_name(&g)
            .policy_name("bad")
            .policy_document("nope")
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
        "Syntax errors in policy.",
    );
    // Groups have 5,120 characters for all their inline policies.
    iam.put_group_policy()
        .group_name(&g)
        .policy_name("one")
        .policy_document(doc_of_size(3000))
        .send()
        .await
        .expect("3,000");
    iam.put_group_policy()
        .group_name(&g)
        .policy_name("two")
        .policy_document(doc_of_size(2120))
        .send()
        .await
        .expect("5,120 in all");
    assert_err(
        iam.put_group_policy()
            .group_name(&g)
            .policy_name("three")
            .policy_document(DOC)
            .send()
            .await,
        "LimitExceeded",
        409,
        &format!("Maximum policy size of 5120 bytes exceeded for group {g}"),
    );
}

//! Managed policies through the AWS SDK for Rust: policies, versions, tags, attachments to users and groups and
//! ListEntitiesForPolicy, against AWS's recorded behaviour (test_iam_policies.snapshot.json,
//! test_iam_managed_policies.snapshot.json, test_iam_users/groups.snapshot.json, create-policy-documents.json).

use crate::common;

use aws_sdk_iam::types::{EntityType, PolicyScopeType, PolicyUsageType, Tag};
use common::*;

const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
const DOC2: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Statement1", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"}]}"#;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

fn arn(name: &str) -> String {
    format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/{name}")
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .expect("utf-8 document")
        .into_owned()
}

/// A document of exactly `size` characters as IAM counts them (no white space), valid otherwise.
fn doc_of_size(size: usize) -> String {
    let head = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::"#;
    let tail = r#""}]}"#;
    let pad = size - head.len() - tail.len();
    format!("{head}{}{tail}", "b".repeat(pad))
}

async fn create(iam: &aws_sdk_iam::Client, name: &str) -> aws_sdk_iam::types::Policy {
    iam.create_policy()
        .policy_name(name)
        .policy_document(DOC)
        .send()
        .await
        .expect("create policy")
        .policy
        .expect("Policy")
}

async fn get(iam: &aws_sdk_iam::Client, arn: &str) -> aws_sdk_iam::types::Policy {
    iam.get_policy()
        .policy_arn(arn)
        .send()
        .await
        .expect("get policy")
        .policy
        .expect("Policy")
}

// ------------------------------------------------------------------------------------------------------------
// Policies
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn policy_lifecycle_with_path_and_description() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("pol");

    let created = iam
        .create_policy()
        .policy_name(&name)
        .path("/test/path/")
        .description("testing")
        .policy_document(DOC)
        .send()
        .await
        .expect("create policy")
        .policy
        .expect("Policy");
    assert_eq!(created.policy_name(), Some(name.as_str()));
    let policy_arn = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/test/path/{name}");
    assert_eq!(created.arn(), Some(policy_arn.as_str()));
    assert_eq!(created.path(), Some("/test/path/"));
    assert_eq!(created.default_version_id(), Some("v1"));
    assert_eq!(created.attachment_count(), Some(0));
    assert_eq!(created.permissions_boundary_usage_count(), Some(0));
    assert!(created.is_attachable());
    assert!(is_unique_id(created.policy_id().unwrap(), "ANPA"));
    assert!(created.create_date().is_some() && created.update_date().is_some());
    // AWS's CreatePolicy answer has no Description and, without tags, no Tags.
    assert_eq!(created.description(), None);
    assert!(created.tags().is_empty());

    let got = get(&iam, &policy_arn).await;
    assert_eq!(got.policy_id(), created.policy_id());
    assert_eq!(got.description(), Some("testing"));
    assert_eq!(got.create_date(), created.create_date());
    assert_eq!(got.path(), Some("/test/path/"));

    let listed = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .path_prefix("/test/")
        .send()
        .await
        .expect("list policies");
    let listed = listed.policies();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].arn(), Some(policy_arn.as_str()));
    // ListPolicies leaves out Description and Tags.
    assert_eq!(listed[0].description(), None);
    assert_eq!(listed[0].default_version_id(), Some("v1"));
    assert_eq!(listed[0].attachment_count(), Some(0));

    iam.delete_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("delete policy");
    assert_err(
        iam.get_policy().policy_arn(&policy_arn).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {policy_arn} was not found."),
    );
    assert_err(
        iam.delete_policy().policy_arn(&policy_arn).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {policy_arn} was not found."),
    );
}

#[tokio::test]
async fn policy_shapes_on_the_wire() {
    // What the SDK cannot tell apart: an absent element and an empty one.
    let srv = TestServer::start().await;
    let raw = srv.raw();
    let name = unique("wire");
    let created = raw
        .post_form(&[
            ("Action", "CreatePolicy"),
            ("Version", "2010-05-08"),
            ("PolicyName", &name),
            ("Description", "described"),
            ("PolicyDocument", DOC),
        ])
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(!created.body.contains("<Description>"), "{}", created.body);
    assert!(!created.body.contains("<Tags"), "{}", created.body);

    let got = raw
        .post_form(&[
            ("Action", "GetPolicy"),
            ("Version", "2010-05-08"),
            ("PolicyArn", &arn(&name)),
        ])
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("<Tags/>"), "{}", got.body);
    assert_eq!(got.tag("Description").as_deref(), Some("described"));

    let listed = raw
        .post_form(&[("Action", "ListPolicies"), ("Version", "2010-05-08")])
        .await;
    assert!(!listed.body.contains("<Description>"), "{}", listed.body);
    assert!(!listed.body.contains("<Tags"), "{}", listed.body);
}

#[tokio::test]
async fn create_policy_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("dup");
    create(&iam, &name).await;

    // Names are unique case-insensitively.
    assert_err(
        iam.create_policy()
            .policy_name(name.to_uppercase())
            .policy_document(DOC)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        &format!(
            "A policy called {} already exists. Duplicate names are not allowed.",
            name.to_uppercase()
        ),
    );
    assert_err(
        iam.create_policy()
            .policy_name(unique("bad"))
            .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket"}}"#)
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
        "Policy statement must contain resources.",
    );
    assert_err(
        iam.create_policy()
            .policy_name(unique("bad"))
            .policy_document("not json")
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
        "Syntax errors in policy.",
    );
    // The quota counts the document without white space: 6,144 is accepted, 6,145 is not.
    let at_limit = unique("big");
    iam.create_policy()
        .policy_name(&at_limit)
        .policy_document(doc_of_size(6144).replace(',', ", "))
        .send()
        .await
        .expect("6,144 characters are allowed");
    assert_err(
        iam.create_policy()
            .policy_name(unique("big"))
            .policy_document(doc_of_size(6145))
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for PolicySize: 6144",
    );
    assert_err(
        iam.create_policy()
            .policy_name(unique("tags"))
            .policy_document(DOC)
            .tags(tag("k", "1"))
            .tags(tag("k", "2"))
            .send()
            .await,
        "InvalidInput",
        400,
        "Duplicate tag keys found.",
    );
    let mut too_many = iam
        .create_policy()
        .policy_name(unique("tags"))
        .policy_document(DOC);
    for i in 0..51 {
        too_many = too_many.tags(tag(&format!("k{i}"), "v"));
    }
    assert_err(
        too_many.send().await,
        "ValidationError",
        400,
        "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
    );
    // Nothing of the refused calls was stored.
    let listed = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.policies().len(), 2);
}

#[tokio::test]
async fn policy_arn_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    assert_err(
        iam.get_policy()
            .policy_arn("longpolicynamebutnoarn")
            .send()
            .await,
        "ValidationError",
        400,
        "ARN longpolicynamebutnoarn is not valid.",
    );
    let missing = arn("non-existent-policy");
    assert_err(
        iam.get_policy().policy_arn(&missing).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    // Another account's policy is not visible.
    let name = unique("own");
    create(&iam, &name).await;
    let foreign = format!("arn:aws:iam::111122223333:policy/{name}");
    assert_code(
        iam.get_policy().policy_arn(&foreign).send().await,
        "NoSuchEntity",
        404,
    );
}

#[tokio::test]
async fn recorded_create_policy_documents() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    // Beside the checkout (`../shared/aws-recorded`) or at /work/shared; a missing ground truth fails the test.
    let beside = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/aws-recorded/create-policy-documents.json");
    let path = [
        beside,
        "/work/shared/aws-recorded/create-policy-documents.json".into(),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .expect("create-policy-documents.json not found");
    let text = std::fs::read_to_string(path).expect("read recordings");
    let all: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases = all
        .as_object()
        .and_then(|o| o.values().find_map(|v| v.as_object()))
        .expect("cases")
        .clone();
    let mut n = 0;
    for (id, case) in cases {
        let Some(doc) = case.get("document").and_then(|d| d.as_str()) else {
            continue;
        };
        let result = iam
            .create_policy()
            .policy_name(format!("recorded-{id}"))
            .policy_document(doc)
            .send()
            .await;
        match case.get("aws") {
            Some(serde_json::Value::Object(e)) => {
                let got = expect_err(result);
                assert_eq!(got.code, e["Code"].as_str().unwrap(), "{id}");
                let want = e["Message"]
                    .as_str()
                    .unwrap()
                    .replace("<region>", "us-east-1")
                    .replace("<partition>", "aws");
                assert_eq!(got.message, want, "{id}");
                assert_eq!(
                    u64::from(got.status),
                    e["HTTPStatusCode"].as_u64().unwrap(),
                    "{id}"
                );
            }
            _ => {
                result.unwrap_or_else(|e| panic!("{id} should be accepted: {e:?}"));
            }
        }
        n += 1;
    }
    assert_eq!(n, 129);
}

#[tokio::test]
async fn list_policies_filters_and_pagination() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let names = ["pa", "pb", "pc", "pd", "pe"].map(|p| format!("{p}-{}", unique("l")));
    for n in &names {
        create(&iam, n).await;
    }

    // Pages of two, in name order, with the marker carried over.
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = iam
            .list_policies()
            .scope(PolicyScopeType::Local)
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("page");
        pages += 1;
        seen.extend(
            page.policies()
                .iter()
                .map(|p| p.policy_name().unwrap().to_string()),
        );
        if !page.is_truncated() {
            assert_eq!(page.marker(), None);
            break;
        }
        marker = page.marker().map(str::to_string);
        assert!(marker.is_some());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, names.to_vec());

    // Scope=AWS lists AWS managed policies only (tests/aws_managed_policies_api.rs has the rest).
    let aws = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .send()
        .await
        .expect("aws scope");
    assert!(aws
        .policies()
        .iter()
        .all(|p| p.arn().unwrap().contains(":aws:policy/")));

    // OnlyAttached, as permissions policy and as permissions boundary.
    let user = unique("u");
    iam.create_user()
        .user_name(&user)
        .send()
        .await
        .expect("user");
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(arn(&names[1]))
        .send()
        .await
        .expect("attach");
    iam.put_user_permissions_boundary()
        .user_name(&user)
        .permissions_boundary(arn(&names[3]))
        .send()
        .await
        .expect("boundary");
    let attached = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .expect("only attached");
    let attached: Vec<_> = attached
        .policies()
        .iter()
        .map(|p| p.policy_name().unwrap())
        .collect();
    assert_eq!(attached, [names[1].as_str()]);
    let boundaries = iam
        .list_policies()
        .only_attached(true)
        .policy_usage_filter(PolicyUsageType::PermissionsBoundary)
        .send()
        .await
        .expect("boundaries");
    let b = &boundaries.policies()[0];
    assert_eq!(boundaries.policies().len(), 1);
    assert_eq!(b.policy_name(), Some(names[3].as_str()));
    assert_eq!(b.permissions_boundary_usage_count(), Some(1));
    assert_eq!(b.attachment_count(), Some(0));

    // PathPrefix matches nothing here.
    let none = iam
        .list_policies()
        .path_prefix("/nowhere/")
        .send()
        .await
        .expect("prefix");
    assert!(none.policies().is_empty());
    assert!(!none.is_truncated());
}

// ------------------------------------------------------------------------------------------------------------
// Versions
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn policy_version_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("ver");
    create(&iam, &name).await;
    let a = arn(&name);

    let v2 = iam
        .create_policy_version()
        .policy_arn(&a)
        .policy_document(DOC2)
        .set_as_default(true)
        .send()
        .await
        .expect("v2")
        .policy_version
        .expect("PolicyVersion");
    assert_eq!(v2.version_id(), Some("v2"));
    assert!(v2.is_default_version());
    assert_eq!(
        v2.document(),
        None,
        "CreatePolicyVersion returns no Document"
    );
    let v3 = iam
        .create_policy_version()
        .policy_arn(&a)
        .policy_document(DOC)
        .send()
        .await
        .expect("v3")
        .policy_version
        .expect("PolicyVersion");
    assert_eq!(v3.version_id(), Some("v3"));
    assert!(!v3.is_default_version());

    let got = iam
        .get_policy_version()
        .policy_arn(&a)
        .version_id("v2")
        .send()
        .await
        .expect("get v2")
        .policy_version
        .expect("PolicyVersion");
    // URL-encoded on the wire; exactly the submitted text once decoded.
    let encoded = got.document().expect("Document");
    assert!(encoded.starts_with("%7B%22Version%22%3A%20"), "{encoded}");
    assert_eq!(decode(encoded), DOC2);
    assert!(got.is_default_version());
    assert_eq!(get(&iam, &a).await.default_version_id(), Some("v2"));

    let list = iam
        .list_policy_versions()
        .policy_arn(&a)
        .send()
        .await
        .expect("list versions");
    let versions: Vec<_> = list
        .versions()
        .iter()
        .map(|v| {
            (
                v.version_id().unwrap(),
                v.is_default_version(),
                v.document(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [("v3", false, None), ("v2", true, None), ("v1", false, None)]
    );
    assert!(!list.is_truncated());

    iam.set_default_policy_version()
        .policy_arn(&a)
        .version_id("v1")
        .send()
        .await
        .expect("set default v1");
    assert_eq!(get(&iam, &a).await.default_version_id(), Some("v1"));
    let page = iam
        .list_policy_versions()
        .policy_arn(&a)
        .max_items(2)
        .send()
        .await
        .expect("page 1");
    assert!(page.is_truncated());
    let ids: Vec<_> = page
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap())
        .collect();
    assert_eq!(ids, ["v3", "v2"]);
    let page2 = iam
        .list_policy_versions()
        .policy_arn(&a)
        .max_items(2)
        .marker(page.marker().unwrap())
        .send()
        .await
        .expect("page 2");
    assert!(!page2.is_truncated());
    assert_eq!(page2.versions()[0].version_id(), Some("v1"));
    assert!(page2.versions()[0].is_default_version());

    // A policy with versions besides the default cannot be deleted.
    assert_err(
        iam.delete_policy().policy_arn(&a).send().await,
        "DeleteConflict",
        409,
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
    );
    for v in ["v2", "v3"] {
        iam.delete_policy_version()
            .policy_arn(&a)
            .version_id(v)
            .send()
            .await
            .expect("delete version");
    }
    iam.delete_policy()
        .policy_arn(&a)
        .send()
        .await
        .expect("delete");
}

#[tokio::test]
async fn policy_version_limit() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("lim");
    create(&iam, &name).await;
    let a = arn(&name);
    for _ in 2..=5 {
        iam.create_policy_version()
            .policy_arn(&a)
            .policy_document(DOC2)
            .send()
            .await
            .expect("version");
    }
    assert_err(
        iam.create_policy_version()
            .policy_arn(&a)
            .policy_document(DOC2)
            .send()
            .await,
        "LimitExceeded",
        409,
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    );
    let list = iam
        .list_policy_versions()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    let ids: Vec<_> = list
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap())
        .collect();
    assert_eq!(ids, ["v5", "v4", "v3", "v2", "v1"]);
    iam.delete_policy_version()
        .policy_arn(&a)
        .version_id("v3")
        .send()
        .await
        .expect("delete v3");
    // Version numbers are never reused.
    let v6 = iam
        .create_policy_version()
        .policy_arn(&a)
        .policy_document(DOC2)
        .send()
        .await
        .expect("v6");
    assert_eq!(v6.policy_version().unwrap().version_id(), Some("v6"));
    assert!(!v6.policy_version().unwrap().is_default_version());
}

#[tokio::test]
async fn policy_version_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("verr");
    create(&iam, &name).await;
    let a = arn(&name);
    let missing = arn("TestNonExistingPolicy");

    assert_err(
        iam.get_policy_version()
            .policy_arn(&missing)
            .version_id("v1")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} version v1 does not exist or is not attachable."),
    );
    assert_err(
        iam.get_policy_version()
            .policy_arn(&a)
            .version_id("v9")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {a} version v9 does not exist or is not attachable."),
    );
    assert_err(
        iam.delete_policy_version()
            .policy_arn(&a)
            .version_id("v1")
            .send()
            .await,
        "DeleteConflict",
        409,
        "Cannot delete the default version of a policy.",
    );
    assert_err(
        iam.delete_policy_version()
            .policy_arn(&a)
            .version_id("v9")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {a} version v9 does not exist or is not attachable."),
    );
    assert_err(
        iam.set_default_policy_version()
            .policy_arn(&missing)
            .version_id("v1")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} version v1 does not exist or is not attachable."),
    );
    assert_err(
        iam.set_default_policy_version().policy_arn(&a).version_id("wrong").send().await,
        "ValidationError",
        400,
        "1 validation error detected: Value at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
    );
    assert_err(
        iam.set_default_policy_version()
            .policy_arn(&a)
            .version_id("v4")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {a} version v4 does not exist or is not attachable."),
    );
    assert_err(
        iam.create_policy_version()
            .policy_arn(&missing)
            .policy_document(DOC)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    assert_err(
        iam.create_policy_version()
            .policy_arn(&a)
            .policy_document("{}")
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
        "Syntax errors in policy.",
    );
    assert_err(
        iam.create_policy_version()
            .policy_arn(&a)
            .policy_document(doc_of_size(6145))
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for PolicySize: 6144",
    );
    assert_err(
        iam.list_policy_versions().policy_arn(&missing).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    let list = iam
        .list_policy_versions()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(list.versions().len(), 1);
    assert!(list.versions()[0].is_default_version());
}

// ------------------------------------------------------------------------------------------------------------
// Tags
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn policy_tag_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("tagged");
    let created = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(DOC)
        .description("testing")
        .tags(tag("somekey", "somevalue"))
        .tags(tag("someotherkey", "someothervalue"))
        .send()
        .await
        .expect("create")
        .policy
        .expect("Policy");
    let both = [
        tag("somekey", "somevalue"),
        tag("someotherkey", "someothervalue"),
    ];
    assert_eq!(created.tags(), &both);
    let a = arn(&name);
    assert_eq!(get(&iam, &a).await.tags(), &both);
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.tags(), &both);
    assert!(!listed.is_truncated());

    let page1 = iam
        .list_policy_tags()
        .policy_arn(&a)
        .max_items(1)
        .send()
        .await
        .expect("p1");
    assert!(page1.is_truncated());
    assert_eq!(page1.tags(), &both[..1]);
    let page2 = iam
        .list_policy_tags()
        .policy_arn(&a)
        .marker(page1.marker().unwrap())
        .send()
        .await
        .expect("p2");
    assert!(!page2.is_truncated());
    assert_eq!(page2.tags(), &both[1..]);

    iam.tag_policy()
        .policy_arn(&a)
        .tags(tag("somekey", "somenewvalue"))
        .send()
        .await
        .expect("retag");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.tags(),
        &[
            tag("somekey", "somenewvalue"),
            tag("someotherkey", "someothervalue")
        ]
    );
    iam.tag_policy()
        .policy_arn(&a)
        .tags(tag("somekey", ""))
        .send()
        .await
        .expect("empty value");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.tags()[0], tag("somekey", ""));

    iam.untag_policy()
        .policy_arn(&a)
        .tag_keys("somekey")
        .send()
        .await
        .expect("untag");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.tags(), &[tag("someotherkey", "someothervalue")]);
    iam.untag_policy()
        .policy_arn(&a)
        .tag_keys("someotherkey")
        .tag_keys("absent")
        .send()
        .await
        .expect("untag all");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert!(listed.tags().is_empty());
    assert!(get(&iam, &a).await.tags().is_empty());
}

#[tokio::test]
async fn list_policy_tags_order() {
    // AWS was recorded listing a policy's tags shorter keys first, then by key.
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("order");
    let created = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(DOC)
        .tags(tag("abc", "first"))
        .tags(tag("b", "second"))
        .tags(tag("z", "third"))
        .tags(tag("a", "fourth"))
        .send()
        .await
        .expect("create");
    let keys: Vec<_> = created
        .policy()
        .unwrap()
        .tags()
        .iter()
        .map(|t| t.key())
        .collect();
    assert_eq!(keys, ["abc", "b", "z", "a"]);
    let listed = iam
        .list_policy_tags()
        .policy_arn(arn(&name))
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = listed.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["a", "b", "z", "abc"]);
}

#[tokio::test]
async fn policy_tag_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("tagerr");
    create(&iam, &name).await;
    let a = arn(&name);
    let missing = arn("NotAPolicy");
    assert_err(
        iam.tag_policy()
            .policy_arn(&missing)
            .tags(tag("k", "v"))
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    assert_err(
        iam.untag_policy()
            .policy_arn(&missing)
            .tag_keys("k")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    assert_err(
        iam.list_policy_tags().policy_arn(&missing).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    assert_err(
        iam.tag_policy()
            .policy_arn(&a)
            .tags(tag("k", "1"))
            .tags(tag("k", "2"))
            .send()
            .await,
        "InvalidInput",
        400,
        "Duplicate tag keys found.",
    );
    assert_err(
        iam.tag_policy().policy_arn(&a).tags(tag(&"k".repeat(129), "v")).send().await,
        "ValidationError",
        400,
        "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128",
    );
    // 50 tags in all: 49 + 1 new is fine, one more is over the limit; re-tagging an existing key is not.
    let mut req = iam.tag_policy().policy_arn(&a);
    for i in 0..49 {
        req = req.tags(tag(&format!("key{i}"), "v"));
    }
    req.send().await.expect("49 tags");
    iam.tag_policy()
        .policy_arn(&a)
        .tags(tag("last", "v"))
        .send()
        .await
        .expect("50th");
    iam.tag_policy()
        .policy_arn(&a)
        .tags(tag("key0", "new"))
        .send()
        .await
        .expect("retag");
    assert_err(
        iam.tag_policy()
            .policy_arn(&a)
            .tags(tag("over", "v"))
            .send()
            .await,
        "LimitExceeded",
        409,
        "The number of tags has reached the maximum limit.",
    );
    // Policy tag keys are case-sensitive: `KEY0` is a new key, not `key0` again.
    assert_err(
        iam.tag_policy()
            .policy_arn(&a)
            .tags(tag("KEY0", "v"))
            .send()
            .await,
        "LimitExceeded",
        409,
        "The number of tags has reached the maximum limit.",
    );
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.tags().len(), 50);
}

// ------------------------------------------------------------------------------------------------------------
// Attachments
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_attachments_and_counts() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("user");
    iam.create_user()
        .user_name(&user)
        .send()
        .await
        .expect("user");
    let name = unique("att");
    create(&iam, &name).await;
    let a = arn(&name);

    let empty = iam
        .list_attached_user_policies()
        .user_name(&user)
        .send()
        .await
        .expect("list");
    assert!(empty.attached_policies().is_empty());
    assert!(!empty.is_truncated());

    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&a)
        .send()
        .await
        .expect("attach");
    // Attaching again is a no-op.
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&a)
        .send()
        .await
        .expect("again");
    let listed = iam
        .list_attached_user_policies()
        .user_name(&user)
        .send()
        .await
        .expect("list");
    let got: Vec<_> = listed
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name().unwrap(), p.policy_arn().unwrap()))
        .collect();
    assert_eq!(got, [(name.as_str(), a.as_str())]);
    assert_eq!(get(&iam, &a).await.attachment_count(), Some(1));

    assert_err(
        iam.delete_policy().policy_arn(&a).send().await,
        "DeleteConflict",
        409,
        "Cannot delete a policy attached to entities.",
    );
    assert_err(
        iam.delete_user().user_name(&user).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    );

    iam.detach_user_policy()
        .user_name(&user)
        .policy_arn(&a)
        .send()
        .await
        .expect("detach");
    assert_eq!(get(&iam, &a).await.attachment_count(), Some(0));
    assert_err(
        iam.detach_user_policy()
            .user_name(&user)
            .policy_arn(&a)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {a} was not found."),
    );
    iam.delete_policy()
        .policy_arn(&a)
        .send()
        .await
        .expect("delete policy");
    iam.delete_user()
        .user_name(&user)
        .send()
        .await
        .expect("delete user");
}

#[tokio::test]
async fn user_attachment_errors_and_quota() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("user");
    iam.create_user()
        .user_name(&user)
        .send()
        .await
        .expect("user");
    let name = format!("existing-policy-name-{}", unique("q"));
    create(&iam, &name).await;

    assert_err(
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn("longpolicynamebutnoarn")
            .send()
            .await,
        "ValidationError",
        400,
        "ARN longpolicynamebutnoarn is not valid.",
    );
    assert_err(
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn(&name)
            .send()
            .await,
        "ValidationError",
        400,
        &format!("ARN {name} is not valid."),
    );
    let missing = arn(&format!("{name}123"));
    assert_err(
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} does not exist or is not attachable."),
    );
    assert_err(
        iam.detach_user_policy()
            .user_name(&user)
            .policy_arn(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} was not found."),
    );
    assert_err(
        iam.attach_user_policy()
            .user_name("nobody")
            .policy_arn(arn(&name))
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    assert_err(
        iam.list_attached_user_policies()
            .user_name("nobody")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );

    // At most 10 managed policies per user; re-attaching one of them at the limit is still fine.
    let mut arns = Vec::new();
    for i in 0..10 {
        let n = format!("quota{i:02}-{}", unique("p"));
        create(&iam, &n).await;
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn(arn(&n))
            .send()
            .await
            .expect("attach");
        arns.push(arn(&n));
    }
    assert_err(
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn(arn(&name))
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for PoliciesPerUser: 10",
    );
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&arns[3])
        .send()
        .await
        .expect("again");

    // Pagination and path prefix of ListAttachedUserPolicies.
    let page = iam
        .list_attached_user_policies()
        .user_name(&user)
        .max_items(4)
        .send()
        .await
        .expect("page");
    assert!(page.is_truncated());
    assert_eq!(page.attached_policies().len(), 4);
    let mut all: Vec<String> = page
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect();
    let mut marker = page.marker().map(str::to_string);
    while let Some(m) = marker {
        let next = iam
            .list_attached_user_policies()
            .user_name(&user)
            .max_items(4)
            .marker(m)
            .send()
            .await
            .expect("next");
        all.extend(
            next.attached_policies()
                .iter()
                .map(|p| p.policy_arn().unwrap().to_string()),
        );
        marker = next.marker().map(str::to_string);
    }
    assert_eq!(all, arns);
    let filtered = iam
        .list_attached_user_policies()
        .user_name(&user)
        .path_prefix("/other/")
        .send()
        .await
        .expect("prefix");
    assert!(filtered.attached_policies().is_empty());
}

#[tokio::test]
async fn group_attachments() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let group = unique("grp");
    iam.create_group()
        .group_name(&group)
        .send()
        .await
        .expect("group");
    let name = unique("gp");
    create(&iam, &name).await;
    let a = arn(&name);

    let empty = iam
        .list_attached_group_policies()
        .group_name(&group)
        .send()
        .await
        .expect("list");
    assert!(empty.attached_policies().is_empty());
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(&a)
        .send()
        .await
        .expect("attach");
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(&a)
        .send()
        .await
        .expect("again");
    let one = iam
        .list_attached_group_policies()
        .group_name(&group)
        .send()
        .await
        .expect("list");
    assert_eq!(one.attached_policies().len(), 1);
    assert_eq!(one.attached_policies()[0].policy_arn(), Some(a.as_str()));
    assert_eq!(
        one.attached_policies()[0].policy_name(),
        Some(name.as_str())
    );
    assert_eq!(get(&iam, &a).await.attachment_count(), Some(1));

    iam.detach_group_policy()
        .group_name(&group)
        .policy_arn(&a)
        .send()
        .await
        .expect("detach");
    assert_err(
        iam.detach_group_policy()
            .group_name(&group)
            .policy_arn(&a)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {a} was not found."),
    );
    assert_err(
        iam.attach_group_policy()
            .group_name("nogroup")
            .policy_arn(&a)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nogroup cannot be found.",
    );
    assert_err(
        iam.attach_group_policy()
            .group_name(&group)
            .policy_arn("not-an-arn-but-long-enough")
            .send()
            .await,
        "ValidationError",
        400,
        "ARN not-an-arn-but-long-enough is not valid.",
    );
    let missing = arn("nonexistent");
    assert_err(
        iam.attach_group_policy()
            .group_name(&group)
            .policy_arn(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} does not exist or is not attachable."),
    );
    for i in 0..10 {
        let n = unique(&format!("g{i}"));
        create(&iam, &n).await;
        iam.attach_group_policy()
            .group_name(&group)
            .policy_arn(arn(&n))
            .send()
            .await
            .expect("attach");
    }
    assert_err(
        iam.attach_group_policy()
            .group_name(&group)
            .policy_arn(&a)
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for PoliciesPerGroup: 10",
    );
    let listed = iam
        .list_attached_group_policies()
        .group_name(&group)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.attached_policies().len(), 10);
}

// ------------------------------------------------------------------------------------------------------------
// ListEntitiesForPolicy and boundaries
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_entities_for_policy() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("ent");
    create(&iam, &name).await;
    let a = arn(&name);

    let empty = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .send()
        .await
        .expect("empty");
    assert!(empty.policy_groups().is_empty());
    assert!(empty.policy_users().is_empty());
    assert!(empty.policy_roles().is_empty());
    assert!(!empty.is_truncated());

    let user = unique("u");
    let user_id = iam
        .create_user()
        .user_name(&user)
        .path("/staff/")
        .send()
        .await
        .expect("user")
        .user
        .unwrap()
        .user_id;
    let group = unique("g");
    let group_id = iam
        .create_group()
        .group_name(&group)
        .send()
        .await
        .expect("group")
        .group
        .unwrap()
        .group_id;
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&a)
        .send()
        .await
        .expect("attach u");
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(&a)
        .send()
        .await
        .expect("attach g");
    assert_eq!(get(&iam, &a).await.attachment_count(), Some(2));

    let all = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .send()
        .await
        .expect("all");
    assert_eq!(all.policy_users().len(), 1);
    assert_eq!(all.policy_users()[0].user_name(), Some(user.as_str()));
    assert_eq!(all.policy_users()[0].user_id(), Some(user_id.as_str()));
    assert_eq!(all.policy_groups().len(), 1);
    assert_eq!(all.policy_groups()[0].group_name(), Some(group.as_str()));
    assert_eq!(all.policy_groups()[0].group_id(), Some(group_id.as_str()));
    assert!(all.policy_roles().is_empty());

    let users = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .entity_filter(EntityType::User)
        .send()
        .await
        .expect("users");
    assert_eq!(users.policy_users().len(), 1);
    assert!(users.policy_groups().is_empty());
    let groups = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .entity_filter(EntityType::Group)
        .send()
        .await
        .expect("groups");
    assert!(groups.policy_users().is_empty());
    assert_eq!(groups.policy_groups().len(), 1);
    for f in [EntityType::Role, EntityType::LocalManagedPolicy] {
        let none = iam
            .list_entities_for_policy()
            .policy_arn(&a)
            .entity_filter(f)
            .send()
            .await
            .expect("filter");
        assert!(none.policy_users().is_empty() && none.policy_groups().is_empty());
    }
    let staff = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .path_prefix("/staff/")
        .send()
        .await
        .expect("prefix");
    assert_eq!(staff.policy_users().len(), 1);
    assert!(staff.policy_groups().is_empty());

    // Pagination over groups then users.
    let p1 = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .max_items(1)
        .send()
        .await
        .expect("p1");
    assert!(p1.is_truncated());
    assert_eq!(p1.policy_groups().len() + p1.policy_users().len(), 1);
    let p2 = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .max_items(1)
        .marker(p1.marker().unwrap())
        .send()
        .await
        .expect("p2");
    assert!(!p2.is_truncated());
    assert_eq!(p2.policy_groups().len() + p2.policy_users().len(), 1);
    assert_ne!(p1.policy_groups().len(), p2.policy_groups().len());

    let missing = arn("NonExistentPolicy");
    assert_err(
        iam.list_entities_for_policy()
            .policy_arn(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing} does not exist or is not attachable."),
    );
}

#[tokio::test]
async fn permissions_boundary_usage() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("bnd");
    create(&iam, &name).await;
    let a = arn(&name);
    let user = unique("u");
    iam.create_user()
        .user_name(&user)
        .permissions_boundary(&a)
        .send()
        .await
        .expect("user with boundary");

    let p = get(&iam, &a).await;
    assert_eq!(p.permissions_boundary_usage_count(), Some(1));
    assert_eq!(p.attachment_count(), Some(0));
    let as_boundary = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .policy_usage_filter(PolicyUsageType::PermissionsBoundary)
        .send()
        .await
        .expect("boundary entities");
    assert_eq!(as_boundary.policy_users().len(), 1);
    assert_eq!(
        as_boundary.policy_users()[0].user_name(),
        Some(user.as_str())
    );
    let as_policy = iam
        .list_entities_for_policy()
        .policy_arn(&a)
        .policy_usage_filter(PolicyUsageType::PermissionsPolicy)
        .send()
        .await
        .expect("policy entities");
    assert!(as_policy.policy_users().is_empty());

    assert_err(
        iam.delete_policy().policy_arn(&a).send().await,
        "DeleteConflict",
        409,
        "Cannot delete a policy attached to entities.",
    );
    iam.delete_user_permissions_boundary()
        .user_name(&user)
        .send()
        .await
        .expect("remove boundary");
    assert_eq!(
        get(&iam, &a).await.permissions_boundary_usage_count(),
        Some(0)
    );
    iam.delete_policy()
        .policy_arn(&a)
        .send()
        .await
        .expect("delete");
}

/// As recorded on real AWS (test_policy_tag_operations): policy tag keys are case-sensitive, so
/// `a` and `A` are two tags and untagging `a` leaves `A`.
#[tokio::test]
async fn policy_tag_keys_are_case_sensitive() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("case-tags");
    let a = iam
        .create_policy()
        .policy_name(&name)
        .policy_document(DOC)
        .send()
        .await
        .expect("create")
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    iam.tag_policy()
        .policy_arn(&a)
        .tags(tag("a", "lowercase"))
        .tags(tag("A", "uppercase"))
        .send()
        .await
        .expect("tag");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.tags(),
        &[tag("A", "uppercase"), tag("a", "lowercase")][..]
    );
    iam.untag_policy()
        .policy_arn(&a)
        .tag_keys("a")
        .send()
        .await
        .expect("untag");
    let listed = iam
        .list_policy_tags()
        .policy_arn(&a)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.tags(), &[tag("A", "uppercase")][..]);
}

/// AWS reports an invalid member of a list of strings once, for the whole list, with every constraint of the
/// member (test_iam_policies.snapshot.json err-untag-large-key / err-untag-invalid-character).
#[tokio::test]
async fn untag_with_an_invalid_key_uses_aws_list_member_wording() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("untagwording");
    create(&iam, &name).await;
    let expected = "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must \
                    satisfy constraint: [Member must have length less than or equal to 128, Member must have length \
                    greater than or equal to 1, Member must satisfy regular expression pattern: \
                    [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, Member must not be null]";
    for bad in ["k".repeat(129), "!!".to_string()] {
        let r = iam
            .untag_policy()
            .policy_arn(arn(&name))
            .tag_keys("fine")
            .tag_keys(&bad)
            .tag_keys(&bad)
            .send()
            .await;
        assert_err(r, "ValidationError", 400, expected);
    }
    // The same for users' tag keys.
    let user = unique("untagwording");
    iam.create_user().user_name(&user).send().await.unwrap();
    let r = iam
        .untag_user()
        .user_name(&user)
        .tag_keys("!!")
        .send()
        .await;
    assert_err(r, "ValidationError", 400, expected);
}

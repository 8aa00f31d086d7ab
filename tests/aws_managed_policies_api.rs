//! AWS managed policies (`arn:aws:iam::aws:policy/…`) through the AWS SDK for Rust: the catalogue every
//! account shares, read operations, ListPolicies' scopes and filters over the merged listing, attachments
//! to users and groups with per-account counts, boundaries, the simulator, the write operations AWS
//! refuses, and persistence of attachments across a restart. Against AWS's recordings where they speak
//! (test_iam_managed_policies, test_iam_groups, test_iam_roles `.snapshot.json`).

use crate::common;
use crate::recordings as recorded;

use std::collections::BTreeSet;

use aws_sdk_iam::types::{EntityType, PolicyScopeType, PolicyUsageType, Tag};
use common::*;
use recorded::*;

const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const VIEW_ONLY: &str = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess";
const EMR_EC2: &str = "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceforEC2Role";
const NOPE: &str = "arn:aws:iam::aws:policy/Nope";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .expect("utf-8 document")
        .into_owned()
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

async fn attachment_count(iam: &aws_sdk_iam::Client, arn: &str) -> i32 {
    get(iam, arn).await.attachment_count().expect("count")
}

/// Every page of ListPolicies with these settings, checking that each page but the last is full and
/// carries a marker.
async fn list_all(
    iam: &aws_sdk_iam::Client,
    scope: Option<PolicyScopeType>,
    max: i32,
    tweak: impl Fn(
        aws_sdk_iam::operation::list_policies::builders::ListPoliciesFluentBuilder,
    ) -> aws_sdk_iam::operation::list_policies::builders::ListPoliciesFluentBuilder,
) -> (Vec<aws_sdk_iam::types::Policy>, usize) {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = tweak(
            iam.list_policies()
                .set_scope(scope.clone())
                .max_items(max)
                .set_marker(marker.clone()),
        )
        .send()
        .await
        .expect("ListPolicies page");
        pages += 1;
        out.extend(page.policies().iter().cloned());
        if !page.is_truncated() {
            assert_eq!(page.marker(), None);
            break;
        }
        assert_eq!(
            page.policies().len(),
            max as usize,
            "a truncated page is full"
        );
        marker = page.marker().map(str::to_string);
        assert!(marker.is_some());
    }
    (out, pages)
}

/// A new user with ReadOnlyAccess attached and `boundary` as permissions boundary, and a new group with
/// ViewOnlyAccess attached: (user, group).
async fn attach_three(iam: &aws_sdk_iam::Client, boundary: &str) -> (String, String) {
    let (user, group) = (unique("u"), unique("g"));
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(VIEW_ONLY)
        .send()
        .await
        .unwrap();
    iam.put_user_permissions_boundary()
        .user_name(&user)
        .permissions_boundary(boundary)
        .send()
        .await
        .unwrap();
    (user, group)
}

fn names(ps: &[aws_sdk_iam::types::Policy]) -> Vec<String> {
    ps.iter()
        .map(|p| p.policy_name().unwrap().to_string())
        .collect()
}

// ------------------------------------------------------------------------------------------------------------
// Reading the catalogue
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_policy_and_its_default_version() {
    let srv = TestServer::start().await;
    let iam = srv.iam();

    let p = get(&iam, READ_ONLY).await;
    assert_eq!(p.policy_name(), Some("ReadOnlyAccess"));
    assert_eq!(p.arn(), Some(READ_ONLY));
    assert_eq!(p.path(), Some("/"));
    assert!(p.is_attachable());
    assert_eq!(p.attachment_count(), Some(0));
    assert_eq!(p.permissions_boundary_usage_count(), Some(0));
    assert!(
        is_unique_id(p.policy_id().unwrap(), "ANPA"),
        "{:?}",
        p.policy_id()
    );
    // The ID is derived from the ARN: the same in every account and every version of the data.
    assert_eq!(p.policy_id(), Some("ANPAFI55UOPBKUWLEKB5V"));
    assert!(p.tags().is_empty());
    assert!(p.create_date().unwrap().secs() < p.update_date().unwrap().secs());
    let default = p.default_version_id().unwrap().to_string();
    assert!(default.starts_with('v'));

    let v = iam
        .get_policy_version()
        .policy_arn(READ_ONLY)
        .version_id(&default)
        .send()
        .await
        .expect("get version")
        .policy_version
        .expect("PolicyVersion");
    assert_eq!(v.version_id(), Some(default.as_str()));
    assert!(v.is_default_version());
    let doc: serde_json::Value =
        serde_json::from_str(&decode(v.document().expect("Document"))).expect("JSON document");
    assert_eq!(doc["Version"], "2012-10-17");
    assert!(doc.to_string().contains("s3:Get"), "{doc}");

    let versions = iam
        .list_policy_versions()
        .policy_arn(READ_ONLY)
        .send()
        .await
        .expect("list versions");
    assert!(!versions.is_truncated());
    let ids: Vec<_> = versions.versions().iter().map(|v| v.version_id()).collect();
    // Only the default version's document is in the catalogue.
    assert_eq!(ids, [Some(default.as_str())]);
    assert!(versions.versions()[0].is_default_version());

    let job = get(&iam, VIEW_ONLY).await;
    assert_eq!(job.path(), Some("/job-function/"));
    let emr = get(&iam, EMR_EC2).await;
    assert_eq!(emr.path(), Some("/service-role/"));
    assert_eq!(
        iam.list_policy_tags()
            .policy_arn(READ_ONLY)
            .send()
            .await
            .expect("tags")
            .tags()
            .len(),
        0
    );
}

#[tokio::test]
async fn policies_that_do_not_exist() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("u");
    iam.create_user().user_name(&user).send().await.unwrap();

    assert_err(
        iam.get_policy().policy_arn(NOPE).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {NOPE} was not found."),
    );
    assert_err(
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn(NOPE)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {NOPE} does not exist or is not attachable."),
    );
    assert_err(
        iam.list_entities_for_policy().policy_arn(NOPE).send().await,
        "NoSuchEntity",
        404,
        &format!("Policy {NOPE} does not exist or is not attachable."),
    );
    assert_err(
        iam.get_policy_version()
            .policy_arn(NOPE)
            .version_id("v1")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {NOPE} version v1 does not exist or is not attachable."),
    );
    // The right name at the wrong path is another policy.
    let wrong_path = "arn:aws:iam::aws:policy/ViewOnlyAccess";
    assert_code(
        iam.get_policy().policy_arn(wrong_path).send().await,
        "NoSuchEntity",
        404,
    );
    // A version the catalogue does not carry.
    assert_err(
        iam.get_policy_version()
            .policy_arn(READ_ONLY)
            .version_id("v1")
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {READ_ONLY} version v1 does not exist or is not attachable."),
    );
    assert_err(
        iam.put_user_permissions_boundary()
            .user_name(&user)
            .permissions_boundary(NOPE)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Scope ARN: {NOPE} does not exist or is not attachable."),
    );
}

// ------------------------------------------------------------------------------------------------------------
// ListPolicies
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_policies_pages_through_the_whole_catalogue() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let (aws, pages) = list_all(&iam, Some(PolicyScopeType::Aws), 100, |b| b).await;
    assert!(aws.len() > 1_000, "{} AWS managed policies", aws.len());
    assert_eq!(pages, aws.len().div_ceil(100));
    let arns: BTreeSet<_> = aws.iter().map(|p| p.arn().unwrap().to_string()).collect();
    assert_eq!(arns.len(), aws.len(), "no policy twice");
    assert!(arns
        .iter()
        .all(|a| a.starts_with("arn:aws:iam::aws:policy/")));
    assert!(arns.contains(READ_ONLY) && arns.contains(VIEW_ONLY));
    let lowered: Vec<_> = names(&aws).iter().map(|n| n.to_lowercase()).collect();
    let mut sorted = lowered.clone();
    sorted.sort();
    assert_eq!(lowered, sorted, "in name order");
    // ListPolicies leaves Description and Tags out, as AWS does.
    assert!(aws
        .iter()
        .all(|p| p.description().is_none() && p.tags().is_empty() && p.is_attachable()));

    // PathPrefix.
    let (jobs, _) = list_all(&iam, Some(PolicyScopeType::Aws), 100, |b| {
        b.path_prefix("/job-function/")
    })
    .await;
    assert!(!jobs.is_empty());
    assert!(jobs.iter().all(|p| p.path() == Some("/job-function/")));
    assert!(names(&jobs).contains(&"ViewOnlyAccess".to_string()));

    // Local lists none of them; no scope (AWS's default, All) lists both.
    let mine = unique("mine");
    iam.create_policy()
        .policy_name(&mine)
        .policy_document(DOC)
        .send()
        .await
        .unwrap();
    let (local, _) = list_all(&iam, Some(PolicyScopeType::Local), 100, |b| b).await;
    assert_eq!(names(&local), [mine]);
    let (all, _) = list_all(&iam, None, 100, |b| b).await;
    assert_eq!(all.len(), aws.len() + 1);
    let (all2, _) = list_all(&iam, Some(PolicyScopeType::All), 333, |b| b).await;
    assert_eq!(names(&all2), names(&all));
}

/// One marker scheme for the merged listing: a customer policy called like an AWS one follows it, and
/// pages of one step over the pair without losing or repeating either.
#[tokio::test]
async fn merged_listing_with_equal_names() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_policy()
        .policy_name("ReadOnlyAccess")
        .policy_document(DOC)
        .send()
        .await
        .expect("a customer policy may share an AWS policy's name");
    let mine = format!("arn:aws:iam::{}:policy/ReadOnlyAccess", srv.account_id());
    let (all, _) = list_all(&iam, None, 1, |b| b.path_prefix("/")).await;
    let arns: Vec<_> = all.iter().map(|p| p.arn().unwrap()).collect();
    let at = arns.iter().position(|a| *a == READ_ONLY).unwrap();
    assert_eq!(arns[at + 1], mine);
    assert_eq!(arns.len(), arns.iter().collect::<BTreeSet<_>>().len());

    assert_err(
        iam.list_policies().marker("garbage").send().await,
        "ValidationError",
        400,
        "Invalid Marker.",
    );
}

#[tokio::test]
async fn only_attached_and_policy_usage_filter() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    attach_three(&iam, "arn:aws:iam::aws:policy/PowerUserAccess").await;

    let (attached, _) = list_all(&iam, Some(PolicyScopeType::Aws), 100, |b| {
        b.only_attached(true)
    })
    .await;
    assert_eq!(names(&attached), ["ReadOnlyAccess", "ViewOnlyAccess"]);
    let (permissions, _) = list_all(&iam, None, 100, |b| {
        b.only_attached(true)
            .policy_usage_filter(PolicyUsageType::PermissionsPolicy)
    })
    .await;
    assert_eq!(names(&permissions), ["ReadOnlyAccess", "ViewOnlyAccess"]);
    let (boundaries, _) = list_all(&iam, None, 100, |b| {
        b.only_attached(true)
            .policy_usage_filter(PolicyUsageType::PermissionsBoundary)
    })
    .await;
    assert_eq!(names(&boundaries), ["PowerUserAccess"]);
    assert_eq!(boundaries[0].permissions_boundary_usage_count(), Some(1));
    assert_eq!(boundaries[0].attachment_count(), Some(0));
    let (local, _) = list_all(&iam, Some(PolicyScopeType::Local), 100, |b| {
        b.only_attached(true)
    })
    .await;
    assert!(local.is_empty());
}

// ------------------------------------------------------------------------------------------------------------
// Attachments
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn attach_to_users_and_groups_counts_per_account() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let other = srv.iam_with("111111111111", "anything", None);
    let (user, group) = (unique("u"), unique("g"));
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    other.create_user().user_name(&user).send().await.unwrap();

    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .expect("attach to user");
    // Attaching twice is a no-op, as on AWS.
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .expect("attach again");
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .expect("attach to group");
    assert_eq!(attachment_count(&iam, READ_ONLY).await, 2);
    assert_eq!(attachment_count(&other, READ_ONLY).await, 0);
    other
        .attach_user_policy()
        .user_name(&user)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .unwrap();
    assert_eq!(attachment_count(&other, READ_ONLY).await, 1);
    assert_eq!(attachment_count(&iam, READ_ONLY).await, 2);

    let listed = iam
        .list_attached_user_policies()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.attached_policies().len(), 1);
    assert_eq!(listed.attached_policies()[0].policy_arn(), Some(READ_ONLY));
    assert_eq!(
        listed.attached_policies()[0].policy_name(),
        Some("ReadOnlyAccess")
    );

    let ents = iam
        .list_entities_for_policy()
        .policy_arn(READ_ONLY)
        .send()
        .await
        .unwrap();
    assert_eq!(ents.policy_users().len(), 1);
    assert_eq!(ents.policy_users()[0].user_name(), Some(user.as_str()));
    assert_eq!(ents.policy_groups().len(), 1);
    assert_eq!(ents.policy_groups()[0].group_name(), Some(group.as_str()));
    assert!(ents.policy_roles().is_empty());
    let only_groups = iam
        .list_entities_for_policy()
        .policy_arn(READ_ONLY)
        .entity_filter(EntityType::Group)
        .send()
        .await
        .unwrap();
    assert!(only_groups.policy_users().is_empty());
    assert_eq!(only_groups.policy_groups().len(), 1);

    // A user with attached policies cannot be deleted.
    assert_code(
        iam.delete_user().user_name(&user).send().await,
        "DeleteConflict",
        409,
    );
    iam.detach_user_policy()
        .user_name(&user)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .expect("detach");
    assert_err(
        iam.detach_user_policy()
            .user_name(&user)
            .policy_arn(READ_ONLY)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {READ_ONLY} was not found."),
    );
    assert_eq!(attachment_count(&iam, READ_ONLY).await, 1);
    iam.delete_user().user_name(&user).send().await.unwrap();
}

#[tokio::test]
async fn service_role_policies_are_not_attachable_to_users_or_groups() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("u");
    iam.create_user().user_name(&user).send().await.unwrap();
    let slr = "arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy";
    assert_eq!(get(&iam, slr).await.path(), Some("/aws-service-role/"));
    assert_code(
        iam.attach_user_policy()
            .user_name(&user)
            .policy_arn(slr)
            .send()
            .await,
        "PolicyNotAttachable",
        400,
    );
}

#[tokio::test]
async fn boundary_and_simulator_see_aws_managed_documents() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("u");
    iam.create_user().user_name(&user).send().await.unwrap();
    let user_arn = format!("arn:aws:iam::{}:user/{user}", srv.account_id());
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(READ_ONLY)
        .send()
        .await
        .unwrap();

    let simulate = |actions: &[&str]| {
        let mut b = iam.simulate_principal_policy().policy_source_arn(&user_arn);
        for a in actions {
            b = b.action_names(*a);
        }
        b.send()
    };
    let r = simulate(&["s3:GetObject", "s3:PutObject"])
        .await
        .expect("simulate");
    let decisions: Vec<_> = r
        .evaluation_results()
        .iter()
        .map(|e| (e.eval_action_name(), e.eval_decision().as_str()))
        .collect();
    assert_eq!(
        decisions,
        [
            ("s3:GetObject", "allowed"),
            ("s3:PutObject", "implicitDeny")
        ]
    );
    let matched = &r.evaluation_results()[0].matched_statements()[0];
    assert_eq!(matched.source_policy_id(), Some("ReadOnlyAccess"));
    assert_eq!(
        matched.source_policy_type().map(|t| t.as_str()),
        Some("aws-managed")
    );

    let keys = iam
        .get_context_keys_for_principal_policy()
        .policy_source_arn(&user_arn)
        .send()
        .await
        .expect("context keys");
    // ReadOnlyAccess has no conditions: nothing to report, but the call reads its document.
    assert!(keys.context_key_names().len() < 100);

    // An AWS managed policy as boundary: ViewOnlyAccess has no s3:GetObject.
    iam.put_user_permissions_boundary()
        .user_name(&user)
        .permissions_boundary(VIEW_ONLY)
        .send()
        .await
        .expect("boundary");
    let got = iam.get_user().user_name(&user).send().await.unwrap();
    assert_eq!(
        got.user()
            .and_then(|u| u.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn()),
        Some(VIEW_ONLY)
    );
    assert_eq!(
        get(&iam, VIEW_ONLY)
            .await
            .permissions_boundary_usage_count(),
        Some(1)
    );
    let ents = iam
        .list_entities_for_policy()
        .policy_arn(VIEW_ONLY)
        .policy_usage_filter(PolicyUsageType::PermissionsBoundary)
        .send()
        .await
        .unwrap();
    assert_eq!(ents.policy_users().len(), 1);
    let r = simulate(&["s3:GetObject", "s3:ListAllMyBuckets"])
        .await
        .expect("simulate");
    let decisions: Vec<_> = r
        .evaluation_results()
        .iter()
        .map(|e| e.eval_decision().as_str())
        .collect();
    assert_eq!(decisions, ["implicitDeny", "allowed"]);
}

// ------------------------------------------------------------------------------------------------------------
// Write operations: AWS's refusals
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn write_operations_are_refused() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let tag = Tag::builder().key("k").value("v").build().unwrap();
    for arn in [READ_ONLY, NOPE] {
        assert_err(
            iam.delete_policy().policy_arn(arn).send().await,
            "AccessDenied",
            403,
            "Cannot delete policies outside your own account.",
        );
        assert_err(
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(DOC)
                .send()
                .await,
            "AccessDenied",
            403,
            "Cannot create versions for policies outside your own account.",
        );
        assert_err(
            iam.delete_policy_version()
                .policy_arn(arn)
                .version_id("v1")
                .send()
                .await,
            "AccessDenied",
            403,
            "Cannot delete policy versions for policies outside your own account.",
        );
        assert_err(
            iam.set_default_policy_version()
                .policy_arn(arn)
                .version_id("v1")
                .send()
                .await,
            "AccessDenied",
            403,
            "Cannot update policies outside your own account.",
        );
        assert_err(
            iam.tag_policy()
                .policy_arn(arn)
                .tags(tag.clone())
                .send()
                .await,
            "AccessDenied",
            403,
            "Cannot update policies outside your own account.",
        );
        assert_err(
            iam.untag_policy()
                .policy_arn(arn)
                .tag_keys("k")
                .send()
                .await,
            "AccessDenied",
            403,
            "Cannot update policies outside your own account.",
        );
    }
    // Nothing changed.
    let p = get(&iam, READ_ONLY).await;
    assert!(p.tags().is_empty());
}

/// The recorded refusals (test_iam_managed_policies.snapshot.json, test_aws_managed_policy_errors).
#[tokio::test]
async fn recorded_write_errors() {
    let snap = Snapshot::load("test_iam_managed_policies.snapshot.json");
    let case = snap.case("TestGetAwsManagedPolicy::test_aws_managed_policy_errors");
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let mut n = Norm::new(srv.account_id());
    let got = expect_err(iam.delete_policy().policy_arn(READ_ONLY).send().await);
    assert_recorded_error(&case, "delete-managed-policy-error", &got, &mut n);
    let got = expect_err(
        iam.delete_policy_version()
            .policy_arn(READ_ONLY)
            .version_id("v1")
            .send()
            .await,
    );
    assert_recorded_error(&case, "delete-managed-policy-version-error", &got, &mut n);
    let got = expect_err(
        iam.set_default_policy_version()
            .policy_arn(READ_ONLY)
            .version_id("v1")
            .send()
            .await,
    );
    assert_recorded_error(
        &case,
        "set-default-managed-policy-version-error",
        &got,
        &mut n,
    );
    let got = expect_err(
        iam.get_policy_version()
            .policy_arn(READ_ONLY)
            .version_id("invalid")
            .send()
            .await,
    );
    assert_recorded_error(&case, "get-version-error", &got, &mut n);
}

/// The recorded group sequence (test_iam_groups.snapshot.json, test_attach_detach_aws_managed_policy_group)
/// and the recorded detach errors of the role sequence (test_iam_roles.snapshot.json), through a user.
#[tokio::test]
async fn recorded_attach_detach_sequence() {
    let snap = Snapshot::load("test_iam_groups.snapshot.json");
    let case = snap.case("TestIAMGroupsPolicies::test_attach_detach_aws_managed_policy_group");
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let group = unique("g");
    iam.create_group().group_name(&group).send().await.unwrap();
    let list = || iam.list_attached_group_policies().group_name(&group).send();
    let as_json = |r: &aws_sdk_iam::operation::list_attached_group_policies::ListAttachedGroupPoliciesOutput| {
        serde_json::json!({
            "AttachedPolicies": r.attached_policies().iter().map(|p| serde_json::json!({
                "PolicyArn": p.policy_arn().unwrap().replace("arn:aws:", "arn:<partition>:"),
                "PolicyName": p.policy_name(),
            })).collect::<Vec<_>>(),
            "IsTruncated": r.is_truncated(),
        })
    };
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("ResponseMetadata");
        v
    };
    assert_eq!(
        as_json(&list().await.unwrap()),
        strip(case.get("list-attached-empty"))
    );
    for (attach, label) in [
        (true, "list-attached-after-attach"),
        (false, "list-attached-after-detach"),
    ] {
        let done = if attach {
            iam.attach_group_policy()
                .group_name(&group)
                .policy_arn(EMR_EC2)
                .send()
                .await
                .is_ok()
        } else {
            iam.detach_group_policy()
                .group_name(&group)
                .policy_arn(EMR_EC2)
                .send()
                .await
                .is_ok()
        };
        assert!(done, "{label}");
        assert_eq!(as_json(&list().await.unwrap()), strip(case.get(label)));
    }

    let roles = Snapshot::load("test_iam_roles.snapshot.json");
    let case = roles.case("TestRoleManagedPolicies::test_attach_detach_aws_managed_policy_role");
    let user = unique("u");
    iam.create_user().user_name(&user).send().await.unwrap();
    let mut n =
        Norm::new(srv.account_id()).bind("<policy-name:1>", "AmazonElasticMapReduceforEC2Role");
    let got = expect_err(
        iam.detach_user_policy()
            .user_name(&user)
            .policy_arn(EMR_EC2)
            .send()
            .await,
    );
    assert_recorded_error(&case, "detach-already-detached-error", &got, &mut n);
    let got = expect_err(
        iam.detach_user_policy()
            .user_name(&user)
            .policy_arn("arn:aws:iam::aws:policy/Nonexistent")
            .send()
            .await,
    );
    assert_recorded_error(&case, "detach-nonexistent-policy-error", &got, &mut n);
}

// ------------------------------------------------------------------------------------------------------------
// Persistence
// ------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn attachments_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aws-managed.db");
    let db = db.to_str().unwrap().to_string();
    let user;
    {
        let srv = TestServer::start_with(|c| c.db = db.clone()).await;
        user = attach_three(&srv.iam(), VIEW_ONLY).await.0;
        srv.stop().await;
    }
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let listed = iam
        .list_attached_user_policies()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.attached_policies()[0].policy_arn(), Some(READ_ONLY));
    assert_eq!(attachment_count(&iam, READ_ONLY).await, 1);
    let view = get(&iam, VIEW_ONLY).await;
    assert_eq!(view.attachment_count(), Some(1));
    assert_eq!(view.permissions_boundary_usage_count(), Some(1));
    srv.stop().await;
}

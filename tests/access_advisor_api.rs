//! The access advisor: GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails(
//! WithEntities), ListPoliciesGrantingServiceAccess, GetHumanReadableSummary — reported from the
//! IAM and STS calls localiam served and the `Allow`s of `/_localiam/authorize`.

use crate::common;

use aws_sdk_iam::types::{
    AccessAdvisorUsageGranularityType as Granularity, EntityDetails, JobStatusType,
    PolicyOwnerEntityType, PolicyType, ServiceLastAccessed,
};
use common::*;
use serde_json::json;

const ACCT: &str = DEFAULT_ACCOUNT;
const ALICE_INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}"#;
const DEVS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:*","s3:GetObject"],"Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secret/*"}]}"#;
const DEPLOYER: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","s3:*"],"Resource":"*"}]}"#;
const EC2_READ: &str = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess";

/// What the scenario made.
struct World {
    alice_arn: String,
    devs_arn: String,
    devs_policy: String,
    role_arn: String,
    alice: aws_sdk_iam::Client,
    /// The time before any call, to the minute (the advisor's times are to the minute).
    start: i64,
}

/// alice (path /team/) may read IAM (inline), reads EC2 through an AWS managed policy and is in
/// `devs`, whose managed policy allows STS and s3:GetObject. She calls GetUser, ListUsers,
/// GetCallerIdentity, assumes `deployer` (which then calls ListRoles), and localiam's authorize
/// endpoint allows her s3:GetObject.
async fn scenario(srv: &TestServer) -> World {
    let start = time::OffsetDateTime::now_utc().unix_timestamp();
    let start = start - start % 60;
    let iam = srv.iam();
    iam.create_user()
        .user_name("alice")
        .path("/team/")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("AliceInline")
        .policy_document(ALICE_INLINE)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(EC2_READ)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let devs_policy = create_policy(&iam, "DevsPolicy", DEVS).await;
    iam.attach_group_policy()
        .group_name("devs")
        .policy_arn(&devs_policy)
        .send()
        .await
        .unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role_arn = create_role(&iam, "deployer", &trust).await;
    iam.put_role_policy()
        .role_name("deployer")
        .policy_name("DeployerInline")
        .policy_document(DEPLOYER)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let alice = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    let alice_sts = srv.sts_with(key.access_key_id(), key.secret_access_key(), None);

    alice.get_user().send().await.unwrap();
    alice.list_users().send().await.unwrap();
    alice_sts.get_caller_identity().send().await.unwrap();
    let creds = alice_sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("deploy")
        .send()
        .await
        .unwrap();
    let c = creds.credentials().unwrap();
    srv.iam_with(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    )
    .list_roles()
    .send()
    .await
    .unwrap();
    let alice_arn = format!("arn:aws:iam::{ACCT}:user/team/alice");
    for (action, allowed) in [("s3:GetObject", true), ("dynamodb:GetItem", false)] {
        let r = srv
            .raw()
            .post(
                "/_localiam/authorize",
                "application/json",
                json!({"principal": alice_arn, "action": action, "resource": "arn:aws:s3:::bucket/k",
                       "context": {"aws:RequestedRegion": "eu-west-1"}})
                .to_string()
                .into_bytes(),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body.contains("\"Allow\""), allowed, "{}", r.body);
    }
    World {
        alice_arn,
        devs_arn: format!("arn:aws:iam::{ACCT}:group/devs"),
        devs_policy,
        role_arn,
        alice,
        start,
    }
}

async fn generate(iam: &aws_sdk_iam::Client, arn: &str, g: Granularity) -> String {
    iam.generate_service_last_accessed_details()
        .arn(arn)
        .granularity(g)
        .send()
        .await
        .unwrap()
        .job_id()
        .unwrap()
        .to_string()
}

/// Every service of a report, following the markers.
async fn report(iam: &aws_sdk_iam::Client, job: &str) -> Vec<ServiceLastAccessed> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .get_service_last_accessed_details()
            .job_id(job)
            .max_items(3)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(page.job_status(), &JobStatusType::Completed);
        assert!(page.services_last_accessed().len() <= 3);
        out.extend(page.services_last_accessed().iter().cloned());
        if !page.is_truncated() {
            assert!(page.marker().is_none());
            return out;
        }
        marker = page.marker().map(str::to_string);
    }
}

/// The entities of a report for a service (one page).
async fn entities_of(iam: &aws_sdk_iam::Client, job: &str, ns: &str) -> Vec<EntityDetails> {
    iam.get_service_last_accessed_details_with_entities()
        .job_id(job)
        .service_namespace(ns)
        .send()
        .await
        .unwrap()
        .entity_details_list()
        .to_vec()
}

fn service<'a>(services: &'a [ServiceLastAccessed], ns: &str) -> Option<&'a ServiceLastAccessed> {
    services.iter().find(|s| s.service_namespace() == ns)
}

/// A service of the report, used by `entity` alone, to the minute, after the scenario started.
#[track_caller]
fn assert_used(services: &[ServiceLastAccessed], ns: &str, entity: &str, region: &str, w: &World) {
    let s = service(services, ns).unwrap_or_else(|| panic!("{ns} not listed: {services:?}"));
    let at = s
        .last_authenticated()
        .unwrap_or_else(|| panic!("{} unused: {s:?}", s.service_namespace()));
    assert_eq!(at.secs() % 60, 0, "to the minute: {s:?}");
    assert!(at.secs() >= w.start, "{s:?}");
    assert_eq!(s.last_authenticated_entity(), Some(entity), "{s:?}");
    assert_eq!(s.last_authenticated_region(), Some(region), "{s:?}");
    assert_eq!(s.total_authenticated_entities(), Some(1), "{s:?}");
}

/// A service of the report that nobody used.
#[track_caller]
fn assert_unused(services: &[ServiceLastAccessed], ns: &str) {
    let s = service(services, ns).unwrap_or_else(|| panic!("{ns} not listed: {services:?}"));
    assert!(s.last_authenticated().is_none(), "{s:?}");
    assert!(s.last_authenticated_entity().is_none(), "{s:?}");
    assert!(s.last_authenticated_region().is_none(), "{s:?}");
    assert_eq!(s.total_authenticated_entities(), Some(0), "{s:?}");
}

#[tokio::test]
async fn a_users_report_lists_what_its_policies_allow_and_when_it_was_used() {
    let srv = TestServer::start().await;
    let w = scenario(&srv).await;
    let iam = srv.iam();
    let job = generate(&iam, &w.alice_arn, Granularity::ServiceLevel).await;
    assert!(uuid::Uuid::parse_str(&job).is_ok(), "{job}");
    let first = iam
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(first.job_type(), Some(&Granularity::ServiceLevel));
    assert!(first.job_completion_date() >= first.job_creation_date());
    let services = report(&iam, &job).await;
    let namespaces: Vec<&str> = services.iter().map(|s| s.service_namespace()).collect();
    // Sorted by namespace; every service the policies allow, nothing else.
    assert_eq!(
        namespaces,
        [
            "autoscaling",
            "cloudwatch",
            "ec2",
            "elasticloadbalancing",
            "iam",
            "s3",
            "sts"
        ]
    );
    assert_eq!(
        service(&services, "iam").unwrap().service_name(),
        "AWS Identity and Access Management"
    );
    assert_used(&services, "iam", &w.alice_arn, "us-east-1", &w);
    assert_used(&services, "sts", &w.alice_arn, "us-east-1", &w);
    // The authorize endpoint's Allow, from the context's Region.
    assert_used(&services, "s3", &w.alice_arn, "eu-west-1", &w);
    assert_eq!(
        service(&services, "ec2").unwrap().service_name(),
        "Amazon EC2"
    );
    assert_unused(&services, "ec2");
    assert!(services
        .iter()
        .all(|s| s.tracked_actions_last_accessed.is_none()));
    srv.stop().await;
}

#[tokio::test]
async fn group_policy_and_role_reports_cover_their_entities() {
    let srv = TestServer::start().await;
    let w = scenario(&srv).await;
    let iam = srv.iam();

    // The group: what its policies allow, used by its member.
    let job = generate(&iam, &w.devs_arn, Granularity::ServiceLevel).await;
    let services = report(&iam, &job).await;
    let namespaces: Vec<&str> = services.iter().map(|s| s.service_namespace()).collect();
    assert_eq!(namespaces, ["s3", "sts"]);
    assert_used(&services, "sts", &w.alice_arn, "us-east-1", &w);
    let list = entities_of(&iam, &job, "s3").await;
    assert_eq!(list.len(), 1, "{list:?}");
    let info = list[0].entity_info().unwrap();
    assert_eq!(
        (info.arn(), info.name(), info.r#type(), info.path()),
        (
            w.alice_arn.as_str(),
            "alice",
            &PolicyOwnerEntityType::User,
            Some("/team/")
        )
    );
    assert!(info.id().starts_with("AIDA"), "{info:?}");
    assert!(list[0].last_authenticated().is_some());
    // A service the group does not grant: nobody could have used it through the group.
    let none = entities_of(&iam, &job, "iam").await;
    assert!(none.is_empty());

    // The managed policy, attached to the group: every entity it reaches.
    let job = generate(&iam, &w.devs_policy, Granularity::ServiceLevel).await;
    let services = report(&iam, &job).await;
    assert_used(&services, "s3", &w.alice_arn, "eu-west-1", &w);
    // Attached to the role as well, it covers the role too.
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn(&w.devs_policy)
        .send()
        .await
        .unwrap();
    let job = generate(&iam, &w.devs_policy, Granularity::ServiceLevel).await;
    let entities = entities_of(&iam, &job, "sts").await;
    let listed: Vec<(&str, Option<bool>)> = entities
        .iter()
        .map(|e| {
            (
                e.entity_info().unwrap().name(),
                Some(e.last_authenticated().is_some()),
            )
        })
        .collect();
    // The one that used it first, then the others.
    assert_eq!(listed, [("alice", Some(true)), ("deployer", Some(false))]);

    // The role, used through its session.
    let job = generate(&iam, &w.role_arn, Granularity::ServiceLevel).await;
    let services = report(&iam, &job).await;
    assert_used(&services, "iam", &w.role_arn, "us-east-1", &w);
    assert_unused(&services, "s3");
    let entities = entities_of(&iam, &job, "iam").await;
    let info = entities[0].entity_info().unwrap();
    assert_eq!(
        (info.arn(), info.r#type()),
        (w.role_arn.as_str(), &PolicyOwnerEntityType::Role)
    );
    srv.stop().await;
}

#[tokio::test]
async fn action_level_reports_list_the_tracked_actions_allowed_and_those_used() {
    let srv = TestServer::start().await;
    let w = scenario(&srv).await;
    let iam = srv.iam();
    let job = generate(&iam, &w.alice_arn, Granularity::ActionLevel).await;
    let page = iam
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(page.job_type(), Some(&Granularity::ActionLevel));
    let services = page.services_last_accessed();
    let actions = |ns: &str| -> Vec<(String, bool)> {
        service(services, ns)
            .unwrap()
            .tracked_actions_last_accessed()
            .iter()
            .map(|a| {
                (
                    a.action_name().unwrap().to_string(),
                    a.last_accessed_time().is_some(),
                )
            })
            .collect()
    };
    let iam_actions = actions("iam");
    let used: Vec<&str> = iam_actions
        .iter()
        .filter(|(_, u)| *u)
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(used, ["GetUser", "ListUsers"]);
    // Allowed but unused actions are listed without a time; actions not allowed are not.
    assert!(iam_actions.contains(&("GetRole".to_string(), false)));
    assert!(!iam_actions.iter().any(|(a, _)| a == "CreateUser"));
    let get_user = service(services, "iam")
        .unwrap()
        .tracked_actions_last_accessed()
        .iter()
        .find(|a| a.action_name() == Some("GetUser"))
        .unwrap();
    assert_eq!(get_user.last_accessed_entity(), Some(w.alice_arn.as_str()));
    assert_eq!(get_user.last_accessed_region(), Some("us-east-1"));
    let sts_used: Vec<String> = actions("sts")
        .into_iter()
        .filter(|(_, u)| *u)
        .map(|(a, _)| a)
        .collect();
    assert_eq!(sts_used, ["AssumeRole", "GetCallerIdentity"]);
    assert_eq!(actions("s3"), [("GetObject".to_string(), true)]);
    // Services whose actions are not tracked have none.
    assert!(service(services, "cloudwatch")
        .unwrap()
        .tracked_actions_last_accessed
        .is_none());
    srv.stop().await;
}

/// A policy granting access: name, type, ARN, entity name.
type Granting<'a> = (&'a str, &'a PolicyType, Option<&'a str>, Option<&'a str>);

#[tokio::test]
async fn list_policies_granting_service_access_names_the_policies_of_each_identity() {
    let srv = TestServer::start().await;
    let w = scenario(&srv).await;
    let iam = srv.iam();
    let out = iam
        .list_policies_granting_service_access()
        .arn(&w.alice_arn)
        .service_namespaces("iam")
        .service_namespaces("s3")
        .service_namespaces("ec2")
        .service_namespaces("dynamodb")
        .send()
        .await
        .unwrap();
    assert!(!out.is_truncated());
    let by_ns: Vec<(&str, Vec<Granting<'_>>)> = out
        .policies_granting_service_access()
        .iter()
        .map(|e| {
            (
                e.service_namespace().unwrap(),
                e.policies()
                    .iter()
                    .map(|p| {
                        (
                            p.policy_name(),
                            p.policy_type(),
                            p.policy_arn(),
                            p.entity_name(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        by_ns,
        [
            (
                "iam",
                vec![("AliceInline", &PolicyType::Inline, None, Some("alice"))]
            ),
            (
                "s3",
                vec![(
                    "DevsPolicy",
                    &PolicyType::Managed,
                    Some(w.devs_policy.as_str()),
                    None
                )]
            ),
            (
                "ec2",
                vec![(
                    "AmazonEC2ReadOnlyAccess",
                    &PolicyType::Managed,
                    Some(EC2_READ),
                    None
                )]
            ),
            ("dynamodb", vec![]),
        ]
    );
    let inline = &out.policies_granting_service_access()[0].policies()[0];
    assert_eq!(inline.entity_type(), Some(&PolicyOwnerEntityType::User));

    // A group lists only its own policies; a role its own, inline ones with the role's name.
    let group = iam
        .list_policies_granting_service_access()
        .arn(&w.devs_arn)
        .service_namespaces("iam")
        .service_namespaces("sts")
        .send()
        .await
        .unwrap();
    let names: Vec<usize> = group
        .policies_granting_service_access()
        .iter()
        .map(|e| e.policies().len())
        .collect();
    assert_eq!(names, [0, 1]);
    let role = iam
        .list_policies_granting_service_access()
        .arn(&w.role_arn)
        .service_namespaces("s3")
        .send()
        .await
        .unwrap();
    let p = &role.policies_granting_service_access()[0].policies()[0];
    assert_eq!(
        (p.policy_name(), p.entity_type(), p.entity_name()),
        (
            "DeployerInline",
            Some(&PolicyOwnerEntityType::Role),
            Some("deployer")
        )
    );
    srv.stop().await;
}

#[tokio::test]
async fn errors_are_awss() {
    let srv = TestServer::start().await;
    let w = scenario(&srv).await;
    let iam = srv.iam();
    let nobody = format!("arn:aws:iam::{ACCT}:user/nobody");
    assert_err(
        iam.generate_service_last_accessed_details()
            .arn(&nobody)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    let missing_policy = format!("arn:aws:iam::{ACCT}:policy/missing");
    assert_err(
        iam.generate_service_last_accessed_details()
            .arn(&missing_policy)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Policy {missing_policy} was not found."),
    );
    for bad in [
        "arn:aws:s3:::my-bucket-name",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::000000000000:instance-profile/p",
    ] {
        assert_err(
            iam.generate_service_last_accessed_details()
                .arn(bad)
                .send()
                .await,
            "InvalidInput",
            400,
            &format!("ARN {bad} is not valid."),
        );
    }
    let unknown = "6e5f6c1a-0000-4000-8000-000000000000";
    assert_err(
        iam.get_service_last_accessed_details()
            .job_id(unknown)
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("JobId {unknown} is not valid."),
    );
    assert_code(
        iam.get_service_last_accessed_details()
            .job_id("short")
            .send()
            .await,
        "ValidationError",
        400,
    );
    // A report is its generator's alone.
    let job = generate(&iam, &w.alice_arn, Granularity::ServiceLevel).await;
    assert_err(
        w.alice
            .get_service_last_accessed_details()
            .job_id(&job)
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("JobId {job} is not valid."),
    );
    assert_code(
        w.alice
            .get_service_last_accessed_details_with_entities()
            .job_id(&job)
            .service_namespace("iam")
            .send()
            .await,
        "InvalidInput",
        400,
    );
    assert_err(
        iam.list_policies_granting_service_access()
            .arn(&w.devs_policy)
            .service_namespaces("s3")
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("ARN {} is not valid.", w.devs_policy),
    );
    assert_code(
        iam.list_policies_granting_service_access()
            .arn(&nobody)
            .service_namespaces("s3")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    // Summaries are of delegation requests (tests/organizations_api.rs): an unknown one is not found.
    let dr = format!("arn:aws:iam::{ACCT}:delegation-request/abcdef0123456789");
    assert_err(
        iam.get_human_readable_summary()
            .entity_arn(&dr)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The delegation request with ID abcdef0123456789 cannot be found.",
    );
    assert_code(
        iam.get_human_readable_summary()
            .entity_arn(&w.alice_arn)
            .send()
            .await,
        "InvalidInput",
        400,
    );
    srv.stop().await;
}

#[tokio::test]
async fn use_and_reports_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("advisor.db").to_string_lossy().into_owned();
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let w = scenario(&srv).await;
    let job = generate(&srv.iam(), &w.alice_arn, Granularity::ServiceLevel).await;
    srv.stop().await;

    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    // The report generated before the restart is still there.
    let kept = report(&iam, &job).await;
    assert_used(&kept, "iam", &w.alice_arn, "us-east-1", &w);
    // And a new one still knows what alice used before it.
    let job = generate(&iam, &w.alice_arn, Granularity::ServiceLevel).await;
    let services = report(&iam, &job).await;
    assert_used(&services, "iam", &w.alice_arn, "us-east-1", &w);
    assert_used(&services, "s3", &w.alice_arn, "eu-west-1", &w);
    srv.stop().await;
}

#[tokio::test]
async fn reports_expire_after_seven_days() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db").to_string_lossy().into_owned();
    let root = format!("arn:aws:iam::{ACCT}:root");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let job = |id: &str, created: i64| localiam::store::model::AccessReport {
        job_id: id.to_string(),
        account_id: ACCT.to_string(),
        owner_arn: root.clone(),
        owner_session: None,
        arn: format!("arn:aws:iam::{ACCT}:user/gone"),
        granularity: "SERVICE_LEVEL".to_string(),
        created,
        entities: Vec::new(),
        services: Vec::new(),
    };
    let old = "00000000-0000-4000-8000-000000000001";
    let recent = "00000000-0000-4000-8000-000000000002";
    {
        let store = localiam::store::Store::open(&db).await.unwrap();
        let (a, b) = (
            job(old, now - 7 * 24 * 3600 - 60),
            job(recent, now - 6 * 24 * 3600),
        );
        store
            .write(move |tx| {
                tx.insert(a)?;
                tx.insert(b).map(|_| ())
            })
            .await
            .unwrap();
        store.close().await;
    }
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    assert_code(
        iam.get_service_last_accessed_details()
            .job_id(old)
            .send()
            .await,
        "InvalidInput",
        400,
    );
    let page = iam
        .get_service_last_accessed_details()
        .job_id(recent)
        .send()
        .await
        .unwrap();
    assert!(page.services_last_accessed().is_empty());
    // Generating forgets the account's expired reports.
    iam.create_user().user_name("u").send().await.unwrap();
    generate(
        &iam,
        &format!("arn:aws:iam::{ACCT}:user/u"),
        Granularity::ServiceLevel,
    )
    .await;
    srv.stop().await;
    let store = localiam::store::Store::open(&db).await.unwrap();
    let kept: Vec<String> = store
        .read()
        .account(ACCT)
        .access_reports
        .iter()
        .map(|r| r.job_id.clone())
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&old.to_string()) && kept.contains(&recent.to_string()));
    store.close().await;
}

#[tokio::test]
async fn enforce_authorizes_on_the_report_subject() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let iam = srv.iam();
    for u in ["auditor", "target", "other"] {
        iam.create_user().user_name(u).send().await.unwrap();
    }
    let target = format!("arn:aws:iam::{ACCT}:user/target");
    iam.put_user_policy()
        .user_name("auditor")
        .policy_name("advisor")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iam:GenerateServiceLastAccessedDetails","iam:ListPoliciesGrantingServiceAccess"],"Resource":"{target}"}},{{"Effect":"Allow","Action":"iam:GetServiceLastAccessedDetails","Resource":"*"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("auditor")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let auditor = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    let job = generate(&auditor, &target, Granularity::ServiceLevel).await;
    auditor
        .get_service_last_accessed_details()
        .job_id(&job)
        .send()
        .await
        .unwrap();
    auditor
        .list_policies_granting_service_access()
        .arn(&target)
        .service_namespaces("iam")
        .send()
        .await
        .unwrap();
    let other = format!("arn:aws:iam::{ACCT}:user/other");
    assert_err(
        auditor
            .generate_service_last_accessed_details()
            .arn(&other)
            .send()
            .await,
        "AccessDenied",
        403,
        &format!(
            "User: arn:aws:iam::{ACCT}:user/auditor is not authorized to perform: iam:GenerateServiceLastAccessedDetails on resource: {other} because no identity-based policy allows the iam:GenerateServiceLastAccessedDetails action"
        ),
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_users_sessions_count_as_the_user() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("bob").send().await.unwrap();
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("p")
        .policy_document(ALICE_INLINE)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let sts = srv.sts_with(key.access_key_id(), key.secret_access_key(), None);
    let session = sts.get_session_token().send().await.unwrap();
    let c = session.credentials().unwrap();
    srv.iam_with(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    )
    .get_user()
    .send()
    .await
    .unwrap();
    let federated = sts
        .get_federation_token()
        .name("fed")
        .policy(ALICE_INLINE)
        .send()
        .await
        .unwrap();
    let c = federated.credentials().unwrap();
    srv.iam_with(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    )
    .list_users()
    .send()
    .await
    .unwrap();
    let bob = format!("arn:aws:iam::{ACCT}:user/bob");
    let job = generate(&iam, &bob, Granularity::ActionLevel).await;
    let services = report(&iam, &job).await;
    let used: Vec<(&str, Option<&str>)> = service(&services, "iam")
        .unwrap()
        .tracked_actions_last_accessed()
        .iter()
        .filter(|a| a.last_accessed_time().is_some())
        .map(|a| (a.action_name().unwrap(), a.last_accessed_entity()))
        .collect();
    assert_eq!(
        used,
        [
            ("GetUser", Some(bob.as_str())),
            ("ListUsers", Some(bob.as_str()))
        ]
    );
    srv.stop().await;
}

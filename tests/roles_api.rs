//! Roles, their policies, instance profiles and service-linked roles through the AWS SDK for Rust:
//! happy paths, AWS's messages and limits, what the simulator sees of a role, and that all of it
//! survives a restart. (The response shapes are compared whole with real AWS's by
//! `tests/smoke/replay.py`.)

use crate::common;

use aws_sdk_iam::types::Tag;
use common::*;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}"#;

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

async fn new_role(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    out.role().unwrap().role_id().to_string()
}

#[tokio::test]
async fn role_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let created = iam
        .create_role()
        .role_name("App")
        .path("/apps/")
        .description("the app")
        .max_session_duration(7200)
        .assume_role_policy_document(TRUST)
        .tags(tag("team", "a"))
        .send()
        .await
        .unwrap();
    let r = created.role().unwrap();
    assert!(is_unique_id(r.role_id(), "AROA"), "{}", r.role_id());
    assert_eq!(r.arn(), "arn:aws:iam::000000000000:role/apps/App");
    // CreateRole answers without MaxSessionDuration and RoleLastUsed (as recorded).
    assert_eq!(r.max_session_duration(), None);
    assert!(r.role_last_used().is_none());
    assert_eq!(r.tags().len(), 1);
    let doc = decode(r.assume_role_policy_document().unwrap());
    assert_eq!(doc, TRUST);

    let got = iam.get_role().role_name("app").send().await.unwrap();
    let g = got.role().unwrap();
    assert_eq!(g.role_name(), "App");
    assert_eq!(g.max_session_duration(), Some(7200));
    assert_eq!(g.description(), Some("the app"));
    assert!(g.role_last_used().is_some());

    assert_err(
        iam.create_role()
            .role_name("APP")
            .assume_role_policy_document(TRUST)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "Role with name APP already exists.",
    );

    iam.update_role()
        .role_name("App")
        .max_session_duration(43200)
        .send()
        .await
        .unwrap();
    let d = iam
        .update_role_description()
        .role_name("App")
        .description("new")
        .send()
        .await
        .unwrap();
    assert_eq!(d.role().unwrap().description(), Some("new"));
    let listed = iam.list_roles().path_prefix("/apps/").send().await.unwrap();
    assert_eq!(listed.roles().len(), 1);
    let l = &listed.roles()[0];
    assert_eq!(l.max_session_duration(), Some(43200));
    assert!(l.tags().is_empty() && l.role_last_used().is_none());

    // MaxSessionDuration is 3,600 to 43,200 seconds.
    let e = assert_code(
        iam.update_role()
            .role_name("App")
            .max_session_duration(43201)
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert!(e.message.contains("maxSessionDuration"), "{e:?}");

    iam.delete_role().role_name("App").send().await.unwrap();
    assert_err(
        iam.get_role().role_name("App").send().await,
        "NoSuchEntity",
        404,
        "The role with name App cannot be found.",
    );
    srv.stop().await;
}

#[tokio::test]
async fn trust_policies_are_validated_as_trust_policies() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let create = |doc: &str| {
        iam.create_role()
            .role_name(unique("r"))
            .assume_role_policy_document(doc)
            .send()
    };
    assert_err(
        create("{nope").await,
        "MalformedPolicyDocument",
        400,
        "This policy contains invalid Json",
    );
    assert_err(
        create(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject"}]}"#).await,
        "MalformedPolicyDocument",
        400,
        "AssumeRole policy may only specify STS AssumeRole actions.",
    );
    assert_err(
        create(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#).await,
        "MalformedPolicyDocument",
        400,
        "Has prohibited field Resource",
    );
    // A principal of this account that does not exist is refused; one that exists is fine.
    let missing = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/nobody"},"Action":"sts:AssumeRole"}]}"#;
    assert_err(
        create(missing).await,
        "MalformedPolicyDocument",
        400,
        r#"Invalid principal in policy: "AWS":"arn:aws:iam::000000000000:user/nobody""#,
    );
    iam.create_user().user_name("nobody").send().await.unwrap();
    create(missing).await.unwrap();
    // Accounts localiam holds nothing for are taken on trust (they may be set up later).
    create(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:role/later"},"Action":"sts:AssumeRole"}]}"#)
        .await
        .unwrap();
    srv.stop().await;
}

#[tokio::test]
async fn role_policies_boundary_and_delete_conflicts() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_role(&iam, "worker").await;
    let arn = create_policy(&iam, "read", POLICY).await;

    iam.attach_role_policy()
        .role_name("worker")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("worker")
        .policy_name("inline")
        .policy_document(POLICY)
        .send()
        .await
        .unwrap();
    iam.put_role_permissions_boundary()
        .role_name("worker")
        .permissions_boundary(&arn)
        .send()
        .await
        .unwrap();

    let attached = iam
        .list_attached_role_policies()
        .role_name("worker")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some(arn.as_str())
    );
    let p = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(p.policy().unwrap().attachment_count(), Some(1));
    assert_eq!(
        p.policy().unwrap().permissions_boundary_usage_count(),
        Some(1)
    );
    let ents = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(ents.policy_roles()[0].role_name(), Some("worker"));
    let doc = iam
        .get_role_policy()
        .role_name("worker")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(decode(doc.policy_document()), POLICY);

    // The simulator sees the role's inline and managed policies, within its boundary.
    let sim = iam
        .simulate_principal_policy()
        .policy_source_arn("arn:aws:iam::000000000000:role/worker")
        .action_names("s3:ListBucket")
        .action_names("s3:PutObject")
        .send()
        .await
        .unwrap();
    let decisions: Vec<_> = sim
        .evaluation_results()
        .iter()
        .map(|r| {
            (
                r.eval_action_name().to_string(),
                r.eval_decision().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        vec![
            ("s3:ListBucket".to_string(), "allowed".to_string()),
            ("s3:PutObject".to_string(), "implicitDeny".to_string())
        ]
    );

    // The inline size quota of a role is 10,240 characters.
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::{}"}}}}"#,
        "b".repeat(10_300)
    );
    assert_err(
        iam.put_role_policy()
            .role_name("worker")
            .policy_name("big")
            .policy_document(big)
            .send()
            .await,
        "LimitExceeded",
        409,
        "Maximum policy size of 10240 bytes exceeded for role worker",
    );

    assert_err(
        iam.delete_role().role_name("worker").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    );
    iam.delete_role_policy()
        .role_name("worker")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_role().role_name("worker").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    );
    iam.detach_role_policy()
        .role_name("worker")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("worker").send().await.unwrap();
    // The boundary went with the role.
    let p = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert_eq!(
        p.policy().unwrap().permissions_boundary_usage_count(),
        Some(0)
    );
    srv.stop().await;
}

#[tokio::test]
async fn instance_profiles_hold_one_role() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_role(&iam, "web").await;
    new_role(&iam, "db").await;
    let ip = iam
        .create_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap();
    assert!(is_unique_id(
        ip.instance_profile().unwrap().instance_profile_id(),
        "AIPA"
    ));
    iam.add_role_to_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.add_role_to_instance_profile()
            .instance_profile_name("web-profile")
            .role_name("db")
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
    );
    let got = iam
        .get_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.instance_profile().unwrap().roles()[0].role_name(),
        "web"
    );
    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        for_role.instance_profiles()[0].instance_profile_name(),
        "web-profile"
    );
    assert_err(
        iam.delete_role().role_name("web").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove roles from instance profile first.",
    );
    assert_err(
        iam.delete_instance_profile()
            .instance_profile_name("web-profile")
            .send()
            .await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove roles from instance profile first.",
    );
    iam.remove_role_from_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .unwrap();
    assert!(iam
        .list_instance_profiles_for_role()
        .role_name("web")
        .send()
        .await
        .unwrap()
        .instance_profiles()
        .is_empty());
    iam.delete_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("web").send().await.unwrap();
    srv.stop().await;
}

#[tokio::test]
async fn service_linked_roles() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let r = iam
        .create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .custom_suffix("web")
        .send()
        .await
        .unwrap();
    let role = r.role().unwrap();
    assert_eq!(role.role_name(), "AWSServiceRoleForAutoScaling_web");
    assert_eq!(role.path(), "/aws-service-role/autoscaling.amazonaws.com/");
    // Only AWS may change a service-linked role.
    assert_err(
        iam.delete_role()
            .role_name("AWSServiceRoleForAutoScaling_web")
            .send()
            .await,
        "UnmodifiableEntity",
        400,
        "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling_web' - this role is only modifiable by AWS",
    );
    // AWS attaches the service's own policy; nobody else may change the role's policies.
    let attached = iam
        .list_attached_role_policies()
        .role_name("AWSServiceRoleForAutoScaling_web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some("arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy")
    );
    assert_code(
        iam.attach_role_policy()
            .role_name("AWSServiceRoleForAutoScaling_web")
            .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
            .send()
            .await,
        "UnmodifiableEntity",
        400,
    );
    assert_code(
        iam.put_role_policy()
            .role_name("AWSServiceRoleForAutoScaling_web")
            .policy_name("p")
            .policy_document(POLICY)
            .send()
            .await,
        "UnmodifiableEntity",
        400,
    );
    assert_err(
        iam.create_service_linked_role()
            .aws_service_name("rolesanywhere.amazonaws.com")
            .custom_suffix("x")
            .send()
            .await,
        "InvalidInput",
        400,
        "Custom suffix is not allowed for rolesanywhere.amazonaws.com",
    );
    let task = iam
        .delete_service_linked_role()
        .role_name("AWSServiceRoleForAutoScaling_web")
        .send()
        .await
        .unwrap();
    assert!(task.deletion_task_id().starts_with(
        "task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_web/"
    ));
    let status = iam
        .get_service_linked_role_deletion_status()
        .deletion_task_id(task.deletion_task_id())
        .send()
        .await
        .unwrap();
    assert_eq!(status.status().as_str(), "SUCCEEDED");
    // A task ID localiam did not hand out is refused.
    assert_err(
        iam.get_service_linked_role_deletion_status()
            .deletion_task_id("task/not-a-task")
            .send()
            .await,
        "InvalidInput",
        400,
        "Invalid deletion task id: task/not-a-task",
    );
    assert_code(
        iam.get_role()
            .role_name("AWSServiceRoleForAutoScaling_web")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    // A plain role is not deleted through DeleteServiceLinkedRole.
    new_role(&iam, "plain").await;
    assert_code(
        iam.delete_service_linked_role()
            .role_name("plain")
            .send()
            .await,
        "InvalidInput",
        400,
    );
    srv.stop().await;
}

#[tokio::test]
async fn roles_and_instance_profiles_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roles.db");
    let db = db.to_str().unwrap();
    {
        let srv = BinaryServer::spawn(db);
        let iam = srv.iam();
        new_role(&iam, "kept").await;
        iam.tag_role()
            .role_name("kept")
            .tags(tag("k", "v"))
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("kept")
            .policy_name("p")
            .policy_document(POLICY)
            .send()
            .await
            .unwrap();
        iam.create_instance_profile()
            .instance_profile_name("ip")
            .send()
            .await
            .unwrap();
        iam.add_role_to_instance_profile()
            .instance_profile_name("ip")
            .role_name("kept")
            .send()
            .await
            .unwrap();
    }
    let srv = BinaryServer::spawn(db);
    let iam = srv.iam();
    let tags = iam.list_role_tags().role_name("kept").send().await.unwrap();
    assert_eq!(tags.tags()[0].key(), "k");
    let names = iam
        .list_role_policies()
        .role_name("kept")
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["p"]);
    let ip = iam
        .get_instance_profile()
        .instance_profile_name("ip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ip.instance_profile().unwrap().roles()[0].role_name(),
        "kept"
    );
}

/// What Terraform does for an application role, in order, and back again.
#[tokio::test]
async fn terraform_style_role_sequence() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let ro = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    iam.create_role()
        .role_name("app")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("app")
        .policy_arn(ro)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("app")
        .policy_name("extra")
        .policy_document(POLICY)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("app")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("app")
        .role_name("app")
        .send()
        .await
        .unwrap();

    // Read everything back, as a refresh does.
    let role = iam.get_role().role_name("app").send().await.unwrap();
    assert_eq!(
        decode(role.role().unwrap().assume_role_policy_document().unwrap()),
        TRUST
    );
    let attached = iam
        .list_attached_role_policies()
        .role_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies()[0].policy_arn(), Some(ro));
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("ReadOnlyAccess")
    );
    let p = iam.get_policy().policy_arn(ro).send().await.unwrap();
    assert_eq!(p.policy().unwrap().attachment_count(), Some(1));
    let inline = iam
        .get_role_policy()
        .role_name("app")
        .policy_name("extra")
        .send()
        .await
        .unwrap();
    assert_eq!(decode(inline.policy_document()), POLICY);
    let ip = iam
        .get_instance_profile()
        .instance_profile_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(ip.instance_profile().unwrap().roles()[0].role_name(), "app");
    let for_role = iam
        .list_instance_profiles_for_role()
        .role_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(for_role.instance_profiles().len(), 1);

    // And destroy, in reverse.
    iam.remove_role_from_instance_profile()
        .instance_profile_name("app")
        .role_name("app")
        .send()
        .await
        .unwrap();
    iam.delete_instance_profile()
        .instance_profile_name("app")
        .send()
        .await
        .unwrap();
    iam.delete_role_policy()
        .role_name("app")
        .policy_name("extra")
        .send()
        .await
        .unwrap();
    iam.detach_role_policy()
        .role_name("app")
        .policy_arn(ro)
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("app").send().await.unwrap();
    let p = iam.get_policy().policy_arn(ro).send().await.unwrap();
    assert_eq!(p.policy().unwrap().attachment_count(), Some(0));
    assert!(iam.list_roles().send().await.unwrap().roles().is_empty());
    srv.stop().await;
}

//! Permissions boundaries of users: CreateUser(PermissionsBoundary), PutUserPermissionsBoundary,
//! DeleteUserPermissionsBoundary, as the Rust SDK sees them.

use crate::common;

use aws_sdk_iam::types::PermissionsBoundaryAttachmentType;
use common::*;

const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

async fn policy(iam: &aws_sdk_iam::Client) -> String {
    iam.create_policy()
        .policy_name(unique("boundary"))
        .policy_document(DOC)
        .send()
        .await
        .expect("create policy")
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string()
}

#[tokio::test]
async fn boundary_set_at_creation_put_and_deleted() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let b1 = policy(&iam).await;
    let b2 = policy(&iam).await;
    let name = unique("bounded");
    let created = iam
        .create_user()
        .user_name(&name)
        .permissions_boundary(&b1)
        .send()
        .await
        .expect("create user");
    let pb = created
        .user()
        .and_then(|u| u.permissions_boundary())
        .expect("boundary");
    assert_eq!(pb.permissions_boundary_arn(), Some(b1.as_str()));
    // Real AWS answers `Policy` (recorded), not the model's `PermissionsBoundaryPolicy`.
    assert_eq!(
        pb.permissions_boundary_type()
            .map(PermissionsBoundaryAttachmentType::as_str),
        Some("Policy")
    );

    iam.put_user_permissions_boundary()
        .user_name(&name)
        .permissions_boundary(&b2)
        .send()
        .await
        .expect("put boundary");
    let got = iam.get_user().user_name(&name).send().await.expect("get");
    assert_eq!(
        got.user()
            .and_then(|u| u.permissions_boundary())
            .and_then(|b| b.permissions_boundary_arn()),
        Some(b2.as_str())
    );
    let p = iam
        .get_policy()
        .policy_arn(&b2)
        .send()
        .await
        .expect("get policy");
    assert_eq!(
        p.policy()
            .and_then(|p| p.permissions_boundary_usage_count()),
        Some(1)
    );

    iam.delete_user_permissions_boundary()
        .user_name(&name)
        .send()
        .await
        .expect("delete boundary");
    let got = iam.get_user().user_name(&name).send().await.expect("get");
    assert!(got.user().and_then(|u| u.permissions_boundary()).is_none());
}

#[tokio::test]
async fn boundary_errors_are_aws_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("bounded");
    iam.create_user()
        .user_name(&name)
        .send()
        .await
        .expect("create");
    let bad = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:not_a_policy/invalid");
    assert_err(
        iam.put_user_permissions_boundary()
            .user_name(&name)
            .permissions_boundary(&bad)
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("ARN {bad} is not valid."),
    );
    let missing = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/nonexistent-policy");
    assert_err(
        iam.put_user_permissions_boundary()
            .user_name(&name)
            .permissions_boundary(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Scope ARN: {missing} does not exist or is not attachable."),
    );
    assert_err(
        iam.create_user()
            .user_name(unique("never"))
            .permissions_boundary(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Scope ARN: {missing} does not exist or is not attachable."),
    );
    assert_err(
        iam.delete_user_permissions_boundary()
            .user_name("nobody-here")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody-here cannot be found.",
    );
}

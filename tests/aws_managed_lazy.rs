//! The AWS managed policy catalogue is read lazily (design notes §6): starting the server and serving
//! calls that do not involve AWS managed policies leaves it compressed; the first call that does loads
//! it. (Its own test binary: the catalogue is process-wide.)

mod common;

use aws_sdk_iam::types::PolicyScopeType;
use common::*;
use localiam::store::aws_managed;

#[tokio::test]
async fn the_catalogue_is_loaded_on_first_use_only() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("u");
    iam.create_user().user_name(&user).send().await.unwrap();
    let p = iam
        .create_policy()
        .policy_name(unique("p"))
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let arn = p.policy().and_then(|p| p.arn()).unwrap().to_string();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.list_attached_user_policies()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    iam.list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    iam.get_policy().policy_arn(&arn).send().await.unwrap();
    assert!(!aws_managed::is_loaded(), "loaded without being used");

    iam.get_policy()
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    assert!(aws_managed::is_loaded());
    srv.stop().await;
}

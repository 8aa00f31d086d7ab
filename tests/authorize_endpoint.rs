//! `POST /_localiam/authorize`: the policy evaluator for any service's action, for principals
//! localiam holds, with their stored policies, an optional resource-based policy and a context.

use crate::common;

use common::*;
use serde_json::{json, Value};

async fn ask(srv: &TestServer, body: Value) -> (u16, Value) {
    let r = srv
        .raw()
        .post(
            "/_localiam/authorize",
            "application/json",
            body.to_string().into_bytes(),
        )
        .await;
    let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

#[tokio::test]
async fn decides_other_services_actions_with_stored_policies() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("ann").send().await.unwrap();
    iam.put_user_policy()
        .user_name("ann")
        .policy_name("s3")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("ann")
        .send()
        .await
        .unwrap();
    let key_id = key.access_key().unwrap().access_key_id().to_string();

    let (status, v) = ask(
        &srv,
        json!({"principal": "arn:aws:iam::000000000000:user/ann", "action": "s3:GetObject",
               "resource": "arn:aws:s3:::bucket/a.txt", "context": {"aws:SourceIp": "10.1.2.3"}}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "Allow");
    assert_eq!(v["matched"][0]["policy"], "s3");
    assert_eq!(v["matched"][0]["sid"], "Read");
    assert_eq!(v["matched"][0]["statement"], 0);

    // The same principal by access key ID; the condition fails from another address.
    let (_, v) = ask(
        &srv,
        json!({"principal": key_id, "action": "s3:GetObject",
               "resource": "arn:aws:s3:::bucket/a.txt", "context": {"aws:SourceIp": "192.0.2.1"}}),
    )
    .await;
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(
        v["message"],
        "User: arn:aws:iam::000000000000:user/ann is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/a.txt because no identity-based policy allows the s3:GetObject action"
    );

    // A resource-based policy's explicit deny wins.
    let (_, v) = ask(
        &srv,
        json!({"principal": "arn:aws:iam::000000000000:user/ann", "action": "s3:GetObject",
               "resource": "arn:aws:s3:::bucket/a.txt", "context": {"aws:SourceIp": "10.1.2.3"},
               "resource_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
                   "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}]}}),
    )
    .await;
    assert_eq!(v["decision"], "ExplicitDeny");

    // The root user is never limited.
    let (_, v) = ask(
        &srv,
        json!({"principal": "arn:aws:iam::000000000000:root", "action": "sqs:SendMessage",
               "resource": "arn:aws:sqs:us-east-1:000000000000:q"}),
    )
    .await;
    assert_eq!(v["decision"], "Allow");
    srv.stop().await;
}

#[tokio::test]
async fn roles_and_bad_requests() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_role()
        .role_name("worker")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("worker")
        .policy_arn("arn:aws:iam::aws:policy/AmazonSQSFullAccess")
        .send()
        .await
        .unwrap();
    let (_, v) = ask(
        &srv,
        json!({"principal": "arn:aws:iam::000000000000:role/worker", "action": "sqs:SendMessage",
               "resource": "arn:aws:sqs:us-east-1:000000000000:jobs"}),
    )
    .await;
    assert_eq!(v["decision"], "Allow", "{v}");
    assert_eq!(v["matched"][0]["source"], "aws-managed");
    let (_, v) = ask(
        &srv,
        json!({"principal": "arn:aws:sts::000000000000:assumed-role/worker/run-1",
               "action": "dynamodb:PutItem", "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/t"}),
    )
    .await;
    assert_eq!(v["decision"], "ImplicitDeny");

    for (body, needle) in [
        (
            json!({"principal": "arn:aws:iam::000000000000:role/worker", "action": "sqs:SendMesage"}),
            "unknown action",
        ),
        (
            json!({"principal": "arn:aws:iam::000000000000:role/worker", "action": "sqs:SendMessage",
                   "resource": "not-an-arn"}),
            "malformed resource ARN",
        ),
        (
            json!({"principal": "arn:aws:iam::000000000000:role/missing", "action": "sqs:SendMessage"}),
            "no such principal",
        ),
        (json!({"action": "sqs:SendMessage"}), "JSON object"),
    ] {
        let (status, v) = ask(&srv, body).await;
        assert_eq!(status, 400, "{v}");
        assert!(
            v["error"].as_str().unwrap_or_default().contains(needle),
            "{v}"
        );
    }
    srv.stop().await;
}

//! The IAM policy simulator through the real Rust SDK: SimulateCustomPolicy,
//! SimulatePrincipalPolicy, GetContextKeysForCustomPolicy, GetContextKeysForPrincipalPolicy.
//! Each evaluation path is checked against what AWS documents for it.

use crate::common;

use aws_sdk_iam::types::{
    ContextEntry, ContextKeyTypeEnum, EvaluationResult, PolicyEvaluationDecisionType as D,
    PolicySourceType, Statement,
};
use common::*;

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#
    )
}

fn deny(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"{action}","Resource":"{resource}"}}}}"#
    )
}

/// An identity policy allowing `action` on `*` under one condition block.
fn allow_if(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"*","Condition":{condition}}}}}"#
    )
}

fn entry(key: &str, ty: ContextKeyTypeEnum, values: &[&str]) -> ContextEntry {
    ContextEntry::builder()
        .context_key_name(key)
        .context_key_type(ty)
        .set_context_key_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

/// SimulateCustomPolicy with the given policies, actions and context; resources default to `*`.
async fn custom(
    iam: &aws_sdk_iam::Client,
    policies: &[&str],
    actions: &[&str],
    context: Vec<ContextEntry>,
) -> Vec<EvaluationResult> {
    iam.simulate_custom_policy()
        .set_policy_input_list(Some(policies.iter().map(|p| p.to_string()).collect()))
        .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
        .set_context_entries(Some(context))
        .send()
        .await
        .expect("SimulateCustomPolicy")
        .evaluation_results
        .unwrap_or_default()
}

/// The decision for one action under one policy and context.
async fn decide(
    iam: &aws_sdk_iam::Client,
    policy: &str,
    action: &str,
    context: Vec<ContextEntry>,
) -> D {
    let r = custom(iam, &[policy], &[action], context).await;
    assert_eq!(r.len(), 1);
    r[0].eval_decision().clone()
}

fn ids(statements: &[Statement]) -> Vec<(String, PolicySourceType)> {
    statements
        .iter()
        .map(|s| {
            (
                s.source_policy_id().unwrap_or_default().to_string(),
                s.source_policy_type().cloned().expect("SourcePolicyType"),
            )
        })
        .collect()
}

#[tokio::test]
async fn matched_statement_positions_follow_aws_example() {
    // The AWS CLI reference example for simulate-custom-policy, with its documented output.
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
    let later = entry(
        "aws:CurrentTime",
        ContextKeyTypeEnum::Date,
        &["2019-04-25T11:00:00Z"],
    );
    let r = custom(&iam, &[doc], &["dynamodb:CreateBackup"], vec![later]).await;
    assert_eq!(r.len(), 1);
    let r = &r[0];
    assert_eq!(r.eval_action_name(), "dynamodb:CreateBackup");
    assert_eq!(r.eval_resource_name(), Some("*"));
    assert_eq!(r.eval_decision(), &D::Allowed);
    assert!(r.missing_context_values().is_empty());
    assert!(r.resource_specific_results().is_empty());
    assert!(r.eval_decision_details().is_none());
    let m = r.matched_statements();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].source_policy_id(), Some("PolicyInputList.1"));
    assert_eq!(m[0].source_policy_type(), Some(&PolicySourceType::None));
    let (start, end) = (m[0].start_position().unwrap(), m[0].end_position().unwrap());
    assert_eq!((start.line(), start.column()), (1, 38));
    assert_eq!((end.line(), end.column()), (1, 167));

    // The second example: a date before the condition's → implicitDeny, nothing matched.
    let earlier = entry(
        "aws:CurrentTime",
        ContextKeyTypeEnum::Date,
        &["2014-04-25T11:00:00Z"],
    );
    let r = custom(&iam, &[doc], &["dynamodb:CreateBackup"], vec![earlier]).await;
    assert_eq!(r[0].eval_decision(), &D::ImplicitDeny);
    assert!(r[0].matched_statements().is_empty());
    assert!(r[0].missing_context_values().is_empty());

    // Multi-line documents: line and column of the statement in the text as sent.
    let pretty = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";
    let r = custom(&iam, &[pretty], &["s3:GetObject"], vec![]).await;
    let s = &r[0].matched_statements()[0];
    let (start, end) = (s.start_position().unwrap(), s.end_position().unwrap());
    assert_eq!((start.line(), start.column()), (4, 6));
    assert_eq!((end.line(), end.column()), (8, 6));
    srv.stop().await;
}

#[tokio::test]
async fn explicit_deny_wins_and_is_the_only_match() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let a = allow("s3:*", "*");
    let d = deny("s3:DeleteObject", "*");
    let r = custom(
        &iam,
        &[&a, &d],
        &["s3:DeleteObject", "s3:GetObject"],
        vec![],
    )
    .await;
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].eval_action_name(), "s3:DeleteObject");
    assert_eq!(r[0].eval_decision(), &D::ExplicitDeny);
    assert_eq!(
        ids(r[0].matched_statements()),
        vec![("PolicyInputList.2".to_string(), PolicySourceType::None)]
    );
    assert_eq!(r[1].eval_action_name(), "s3:GetObject");
    assert_eq!(r[1].eval_decision(), &D::Allowed);
    assert_eq!(
        ids(r[1].matched_statements()),
        vec![("PolicyInputList.1".to_string(), PolicySourceType::None)]
    );
    // Nothing allows: implicit deny.
    let r = custom(&iam, &[&a], &["iam:CreateUser"], vec![]).await;
    assert_eq!(r[0].eval_decision(), &D::ImplicitDeny);
    assert!(r[0].matched_statements().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn permissions_boundary_caps_identity_policies() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let identity = allow("s3:*", "*");
    let boundary = allow("s3:GetObject", "*");
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(&identity)
        .permissions_boundary_policy_input_list(&boundary)
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .action_names("ec2:RunInstances")
        .send()
        .await
        .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r.len(), 3);
    // Allowed by both.
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    let pb = r[0].permissions_boundary_decision_detail().unwrap();
    assert!(pb.allowed_by_permissions_boundary());
    assert_eq!(
        ids(r[0].matched_statements()),
        vec![
            ("PolicyInputList.1".to_string(), PolicySourceType::None),
            (
                "PermissionsBoundaryPolicyInputList.1".to_string(),
                PolicySourceType::None
            ),
        ]
    );
    // Allowed by the identity policy, not by the boundary: implicitDeny.
    assert_eq!(r[1].eval_decision(), &D::ImplicitDeny);
    let pb = r[1].permissions_boundary_decision_detail().unwrap();
    assert!(!pb.allowed_by_permissions_boundary());
    // Neither allows.
    assert_eq!(r[2].eval_decision(), &D::ImplicitDeny);

    // A Deny in the boundary is an explicit deny.
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(&identity)
        .permissions_boundary_policy_input_list(deny("s3:*", "*"))
        .action_names("s3:GetObject")
        .send()
        .await
        .unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision(), &D::ExplicitDeny);
    assert!(!r
        .permissions_boundary_decision_detail()
        .unwrap()
        .allowed_by_permissions_boundary());
    assert_eq!(
        ids(r.matched_statements())[0].0,
        "PermissionsBoundaryPolicyInputList.1"
    );

    // Without a boundary there is no PermissionsBoundaryDecisionDetail.
    let r = custom(&iam, &[&identity], &["s3:GetObject"], vec![]).await;
    assert!(r[0].permissions_boundary_decision_detail().is_none());

    // Only one boundary can be simulated.
    let e = expect_err(
        iam.simulate_custom_policy()
            .policy_input_list(&identity)
            .permissions_boundary_policy_input_list(&boundary)
            .permissions_boundary_policy_input_list(&boundary)
            .action_names("s3:GetObject")
            .send()
            .await,
    );
    assert_eq!((e.code.as_str(), e.status), ("InvalidInput", 400));
    srv.stop().await;
}

#[tokio::test]
async fn not_action_and_not_resource() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let not_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#;
    assert_eq!(
        decide(&iam, not_action, "s3:GetObject", vec![]).await,
        D::Allowed
    );
    assert_eq!(
        decide(&iam, not_action, "iam:CreateUser", vec![]).await,
        D::ImplicitDeny
    );

    let not_resource = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
        {"Effect":"Deny","Action":"s3:GetObject","NotResource":"arn:aws:s3:::public/*"}]}"#;
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(not_resource)
        .action_names("s3:GetObject")
        .resource_arns("arn:aws:s3:::public/readme.txt")
        .resource_arns("arn:aws:s3:::secret/key.pem")
        .send()
        .await
        .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[0].eval_resource_name(),
        Some("arn:aws:s3:::public/readme.txt")
    );
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    assert_eq!(
        r[1].eval_resource_name(),
        Some("arn:aws:s3:::secret/key.pem")
    );
    assert_eq!(r[1].eval_decision(), &D::ExplicitDeny);
    // The denying statement is the second one of the document, on line 3.
    let s = &r[1].matched_statements()[0];
    assert_eq!(s.start_position().unwrap().line(), 3);
    srv.stop().await;
}

#[tokio::test]
async fn one_case_per_condition_family() {
    use ContextKeyTypeEnum as T;
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let a = "s3:GetObject";
    // (condition block, matching context, non-matching context)
    let cases: Vec<(&str, ContextEntry, ContextEntry)> = vec![
        (
            r#"{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}"#,
            entry("aws:RequestedRegion", T::String, &["eu-west-1"]),
            entry("aws:RequestedRegion", T::String, &["us-east-1"]),
        ),
        (
            r#"{"StringLike":{"s3:prefix":"home/*"}}"#,
            entry("s3:prefix", T::String, &["home/alice"]),
            entry("s3:prefix", T::String, &["tmp/alice"]),
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"RED"}}"#,
            entry("aws:PrincipalTag/team", T::String, &["blue"]),
            entry("aws:PrincipalTag/team", T::String, &["red"]),
        ),
        (
            r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
            entry("s3:max-keys", T::Numeric, &["10"]),
            entry("s3:max-keys", T::Numeric, &["11"]),
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
            entry("aws:CurrentTime", T::Date, &["2029-12-31T23:59:59Z"]),
            entry("aws:CurrentTime", T::Date, &["2030-01-01T00:00:01Z"]),
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            entry("aws:SecureTransport", T::Boolean, &["true"]),
            entry("aws:SecureTransport", T::Boolean, &["false"]),
        ),
        (
            r#"{"BinaryEquals":{"s3:x-binary":"QmluYXJ5VmFsdWU="}}"#,
            entry("s3:x-binary", T::Binary, &["QmluYXJ5VmFsdWU="]),
            entry("s3:x-binary", T::Binary, &["T3RoZXI="]),
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            entry("aws:SourceIp", T::Ip, &["203.0.113.7"]),
            entry("aws:SourceIp", T::Ip, &["198.51.100.7"]),
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            entry("aws:SourceIp", T::Ip, &["192.0.2.1"]),
            entry("aws:SourceIp", T::Ip, &["10.1.2.3"]),
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:topic-*"}}"#,
            entry(
                "aws:SourceArn",
                T::String,
                &["arn:aws:sns:us-east-1:123456789012:topic-a"],
            ),
            entry(
                "aws:SourceArn",
                T::String,
                &["arn:aws:sns:us-east-1:210987654321:topic-a"],
            ),
        ),
        (
            r#"{"Null":{"aws:TokenIssueTime":"false"}}"#,
            entry("aws:TokenIssueTime", T::Date, &["2024-01-01T00:00:00Z"]),
            entry("aws:Other", T::String, &["x"]),
        ),
    ];
    for (cond, yes, no) in cases {
        let p = allow_if(a, cond);
        assert_eq!(decide(&iam, &p, a, vec![yes]).await, D::Allowed, "{cond}");
        assert_eq!(
            decide(&iam, &p, a, vec![no]).await,
            D::ImplicitDeny,
            "{cond}"
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn if_exists_and_set_operators_on_missing_and_empty_keys() {
    use ContextKeyTypeEnum as T;
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let a = "ec2:RunInstances";

    let if_exists = allow_if(
        a,
        r#"{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}"#,
    );
    assert_eq!(decide(&iam, &if_exists, a, vec![]).await, D::Allowed);
    let t3 = entry("ec2:InstanceType", T::String, &["t3.micro"]);
    assert_eq!(decide(&iam, &if_exists, a, vec![t3]).await, D::Allowed);
    let m5 = entry("ec2:InstanceType", T::String, &["m5.large"]);
    assert_eq!(decide(&iam, &if_exists, a, vec![m5]).await, D::ImplicitDeny);

    // ForAllValues: true for a missing key and for an empty set; every value must match.
    let for_all = allow_if(
        a,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}"#,
    );
    assert_eq!(decide(&iam, &for_all, a, vec![]).await, D::Allowed);
    let empty = entry("aws:TagKeys", T::StringList, &[]);
    assert_eq!(decide(&iam, &for_all, a, vec![empty]).await, D::Allowed);
    let subset = entry("aws:TagKeys", T::StringList, &["env"]);
    assert_eq!(decide(&iam, &for_all, a, vec![subset]).await, D::Allowed);
    let extra = entry("aws:TagKeys", T::StringList, &["env", "cost"]);
    assert_eq!(
        decide(&iam, &for_all, a, vec![extra]).await,
        D::ImplicitDeny
    );

    // ForAnyValue: false for a missing key and for an empty set; one value must match.
    let for_any = allow_if(a, r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#);
    let r = custom(&iam, &[&for_any], &[a], vec![]).await;
    assert_eq!(r[0].eval_decision(), &D::ImplicitDeny);
    assert_eq!(r[0].missing_context_values(), ["aws:TagKeys"]);
    let empty = entry("aws:TagKeys", T::StringList, &[]);
    assert_eq!(
        decide(&iam, &for_any, a, vec![empty]).await,
        D::ImplicitDeny
    );
    let one = entry("aws:TagKeys", T::StringList, &["cost", "env"]);
    assert_eq!(decide(&iam, &for_any, a, vec![one]).await, D::Allowed);
    srv.stop().await;
}

#[tokio::test]
async fn policy_variables_and_missing_context_values() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let acct = srv.account_id().to_string();
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::{acct}:user/${{aws:username}}"}}}}"#
    );
    let alice_arn = format!("arn:aws:iam::{acct}:user/alice");
    let bob_arn = format!("arn:aws:iam::{acct}:user/bob");
    let run = |caller: Option<&str>| {
        iam.simulate_custom_policy()
            .policy_input_list(&doc)
            .action_names("iam:GetUser")
            .resource_arns(&alice_arn)
            .set_caller_arn(caller.map(str::to_string))
            .send()
    };
    // The caller supplies aws:username.
    let out = run(Some(alice_arn.as_str())).await.unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision(), &D::Allowed);
    let out = run(Some(bob_arn.as_str())).await.unwrap();
    assert_eq!(
        out.evaluation_results()[0].eval_decision(),
        &D::ImplicitDeny
    );

    // No caller: the variable cannot be resolved and is reported missing (per resource, as
    // ResourceArns were given).
    let out = run(None).await.unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision(), &D::ImplicitDeny);
    assert!(r.missing_context_values().is_empty());
    let rs = &r.resource_specific_results()[0];
    assert_eq!(rs.eval_resource_name(), alice_arn);
    assert_eq!(rs.eval_resource_decision(), &D::ImplicitDeny);
    assert_eq!(rs.missing_context_values(), ["aws:username"]);
    // Same account with a resource ARN: EvalDecisionDetails present and empty in the result,
    // absent from the resource-specific result.
    assert!(r.eval_decision_details().unwrap().is_empty());
    assert!(rs.eval_decision_details().is_none());

    // A context entry supplies it too.
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(&doc)
        .action_names("iam:GetUser")
        .resource_arns(&alice_arn)
        .context_entries(entry(
            "aws:username",
            ContextKeyTypeEnum::String,
            &["alice"],
        ))
        .send()
        .await
        .unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision(), &D::Allowed);
    let rs = &r.resource_specific_results()[0];
    assert_eq!(rs.eval_resource_decision(), &D::Allowed);
    assert_eq!(ids(rs.matched_statements())[0].0, "PolicyInputList.1");
    srv.stop().await;
}

#[tokio::test]
async fn resource_policies_same_and_cross_account() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let acct = srv.account_id().to_string();
    let caller = format!("arn:aws:iam::{acct}:user/alice");
    let bucket = "arn:aws:s3:::shared-bucket/report.csv";
    let resource_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{caller}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-bucket/*"}}}}"#
    );
    let nothing = allow("sqs:SendMessage", "*");
    // Same account: the resource policy naming the user is enough.
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(&nothing)
        .resource_policy(&resource_policy)
        .caller_arn(&caller)
        .action_names("s3:GetObject")
        .resource_arns(bucket)
        .send()
        .await
        .unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision(), &D::Allowed);
    assert_eq!(
        ids(r.matched_statements()),
        vec![("ResourcePolicy".to_string(), PolicySourceType::Resource)]
    );

    // Another account owns the bucket: the identity side must allow too.
    let cross = |identity: String| {
        iam.simulate_custom_policy()
            .policy_input_list(identity)
            .resource_policy(&resource_policy)
            .resource_owner("arn:aws:iam::111122223333:root")
            .caller_arn(&caller)
            .action_names("s3:GetObject")
            .resource_arns(bucket)
            .send()
    };
    let out = cross(nothing.clone()).await.unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision(), &D::ImplicitDeny);
    let details = r.eval_decision_details().unwrap();
    assert_eq!(details.get("IAM Policy"), Some(&D::ImplicitDeny));
    assert_eq!(details.get("Resource Policy"), Some(&D::Allowed));
    let rs = &r.resource_specific_results()[0];
    assert_eq!(rs.eval_resource_decision(), &D::ImplicitDeny);
    let details = rs.eval_decision_details().unwrap();
    assert_eq!(details.get("IAM Policy"), Some(&D::ImplicitDeny));
    let out = cross(allow("s3:GetObject", "*")).await.unwrap();
    assert_eq!(out.evaluation_results()[0].eval_decision(), &D::Allowed);

    // A resource policy needs a caller.
    let e = expect_err(
        iam.simulate_custom_policy()
            .policy_input_list(&nothing)
            .resource_policy(&resource_policy)
            .action_names("s3:GetObject")
            .send()
            .await,
    );
    assert_eq!((e.code.as_str(), e.status), ("InvalidInput", 400));
    srv.stop().await;
}

#[tokio::test]
async fn pagination_over_results() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let p = allow("s3:*", "*");
    let send = |marker: Option<String>| {
        iam.simulate_custom_policy()
            .policy_input_list(&p)
            .action_names("s3:GetObject")
            .action_names("s3:PutObject")
            .action_names("s3:DeleteObject")
            .max_items(2)
            .set_marker(marker)
            .send()
    };
    let first = send(None).await.unwrap();
    assert!(first.is_truncated());
    let names: Vec<_> = first
        .evaluation_results()
        .iter()
        .map(|r| r.eval_action_name().to_string())
        .collect();
    assert_eq!(names, ["s3:GetObject", "s3:PutObject"]);
    let second = send(first.marker().map(str::to_string)).await.unwrap();
    assert!(!second.is_truncated());
    assert_eq!(second.evaluation_results().len(), 1);
    assert_eq!(
        second.evaluation_results()[0].eval_action_name(),
        "s3:DeleteObject"
    );
    srv.stop().await;
}

#[tokio::test]
async fn invalid_input() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let r = iam
        .simulate_custom_policy()
        .policy_input_list("{not json")
        .action_names("s3:GetObject")
        .send()
        .await;
    assert_err(r, "InvalidInput", 400, "Syntax errors in policy.");
    let no_resource = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}"#;
    let r = iam
        .simulate_custom_policy()
        .policy_input_list(no_resource)
        .action_names("s3:GetObject")
        .send()
        .await;
    assert_err(
        r,
        "InvalidInput",
        400,
        "Policy statement must contain resources.",
    );
    let e = expect_err(
        iam.simulate_custom_policy()
            .policy_input_list(allow("s3:*", "*"))
            .action_names("GetObject")
            .send()
            .await,
    );
    assert_eq!((e.code.as_str(), e.status), ("InvalidInput", 400));
    let e = expect_err(
        iam.get_context_keys_for_custom_policy()
            .policy_input_list("[]")
            .send()
            .await,
    );
    assert_eq!((e.code.as_str(), e.status), ("InvalidInput", 400));
    srv.stop().await;
}

#[tokio::test]
async fn context_keys_for_custom_policy() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let a = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#;
    let b = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"AWS:SOURCEIP":"1.2.3.4","s3:prefix":"x"}}}}"#;
    let out = iam
        .get_context_keys_for_custom_policy()
        .policy_input_list(a)
        .policy_input_list(b)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = out
        .context_key_names()
        .iter()
        .map(|k| k.to_lowercase())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "aws:multifactorauthpresent",
            "aws:sourceip",
            "aws:username",
            "s3:prefix"
        ]
    );
    srv.stop().await;
}

#[tokio::test]
async fn principal_policy_of_a_user_with_groups_and_boundary() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let acct = srv.account_id().to_string();
    let user = unique("sim-user");
    let group = unique("sim-group");

    iam.create_user().user_name(&user).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("UserInline")
        .policy_document(allow("s3:GetObject", "*"))
        .send()
        .await
        .unwrap();
    let managed = iam
        .create_policy()
        .policy_name(unique("SimManaged"))
        .policy_document(allow("sqs:SendMessage", "*"))
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(managed.arn().unwrap())
        .send()
        .await
        .unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&user)
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name(&group)
        .policy_name("GroupInline")
        .policy_document(allow("dynamodb:GetItem", "*"))
        .send()
        .await
        .unwrap();
    let group_managed = iam
        .create_policy()
        .policy_name(unique("SimGroupManaged"))
        .policy_document(deny("sqs:DeleteQueue", "*"))
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    iam.attach_group_policy()
        .group_name(&group)
        .policy_arn(group_managed.arn().unwrap())
        .send()
        .await
        .unwrap();

    let user_arn = format!("arn:aws:iam::{acct}:user/{user}");
    let simulate = |actions: &[&str]| {
        iam.simulate_principal_policy()
            .policy_source_arn(&user_arn)
            .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
            .send()
    };
    let out = simulate(&[
        "s3:GetObject",
        "sqs:SendMessage",
        "dynamodb:GetItem",
        "sqs:DeleteQueue",
        "ec2:RunInstances",
    ])
    .await
    .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r.len(), 5);
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    assert_eq!(
        ids(r[0].matched_statements()),
        vec![("UserInline".to_string(), PolicySourceType::User)]
    );
    assert_eq!(r[1].eval_decision(), &D::Allowed);
    assert_eq!(
        ids(r[1].matched_statements()),
        vec![(
            managed.policy_name().unwrap().to_string(),
            PolicySourceType::UserManaged
        )]
    );
    assert_eq!(r[2].eval_decision(), &D::Allowed);
    assert_eq!(
        ids(r[2].matched_statements()),
        vec![("GroupInline".to_string(), PolicySourceType::Group)]
    );
    assert_eq!(r[3].eval_decision(), &D::ExplicitDeny);
    assert_eq!(
        ids(r[3].matched_statements()),
        vec![(
            group_managed.policy_name().unwrap().to_string(),
            PolicySourceType::UserManaged
        )]
    );
    assert_eq!(r[4].eval_decision(), &D::ImplicitDeny);
    assert!(r
        .iter()
        .all(|e| e.permissions_boundary_decision_detail().is_none()));

    // A permissions boundary allowing only S3 caps everything else.
    let boundary = iam
        .create_policy()
        .policy_name(unique("SimBoundary"))
        .policy_document(allow("s3:*", "*"))
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    iam.put_user_permissions_boundary()
        .user_name(&user)
        .permissions_boundary(boundary.arn().unwrap())
        .send()
        .await
        .unwrap();
    let out = simulate(&["s3:GetObject", "sqs:SendMessage"])
        .await
        .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    assert!(r[0]
        .permissions_boundary_decision_detail()
        .unwrap()
        .allowed_by_permissions_boundary());
    assert_eq!(
        ids(r[0].matched_statements()),
        vec![
            ("UserInline".to_string(), PolicySourceType::User),
            (
                boundary.policy_name().unwrap().to_string(),
                PolicySourceType::UserManaged
            ),
        ]
    );
    assert_eq!(r[1].eval_decision(), &D::ImplicitDeny);
    assert!(!r[1]
        .permissions_boundary_decision_detail()
        .unwrap()
        .allowed_by_permissions_boundary());

    // PermissionsBoundaryPolicyInputList replaces the attached boundary; PolicyInputList adds
    // to the user's policies.
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(&user_arn)
        .policy_input_list(allow("ec2:RunInstances", "*"))
        .permissions_boundary_policy_input_list(allow("*", "*"))
        .action_names("ec2:RunInstances")
        .action_names("sqs:SendMessage")
        .send()
        .await
        .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    assert_eq!(
        ids(r[0].matched_statements())[0],
        ("PolicyInputList.1".to_string(), PolicySourceType::None)
    );
    assert_eq!(r[1].eval_decision(), &D::Allowed);

    // The group itself can be simulated: its own policies only, no caller.
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{acct}:group/{group}"))
        .action_names("dynamodb:GetItem")
        .action_names("s3:GetObject")
        .send()
        .await
        .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    assert_eq!(r[1].eval_decision(), &D::ImplicitDeny);

    // Context keys of everything that applies to the user, plus inputs.
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("Conditional")
        .policy_document(allow_if(
            "s3:PutObject",
            r#"{"StringEquals":{"s3:x-amz-acl":"private"}}"#,
        ))
        .send()
        .await
        .unwrap();
    let keys = iam
        .get_context_keys_for_principal_policy()
        .policy_source_arn(&user_arn)
        .policy_input_list(allow_if(
            "s3:PutObject",
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        ))
        .send()
        .await
        .unwrap();
    let mut keys = keys.context_key_names().to_vec();
    keys.sort();
    assert_eq!(keys, ["aws:SecureTransport", "s3:x-amz-acl"]);

    // Unknown principals.
    let r = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{acct}:user/nobody"))
        .action_names("s3:GetObject")
        .send()
        .await;
    assert_err(
        r,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    );
    let r = iam
        .get_context_keys_for_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{acct}:group/nobody"))
        .send()
        .await;
    assert_err(
        r,
        "NoSuchEntity",
        404,
        "The group with name nobody cannot be found.",
    );
    srv.stop().await;
}

#[tokio::test]
async fn principal_policy_fills_principal_keys_from_the_user() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let acct = srv.account_id().to_string();
    let user = unique("sim-vars");
    iam.create_user()
        .user_name(&user)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}}"#;
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("Home")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{acct}:user/{user}"))
        .action_names("s3:GetObject")
        .resource_arns(format!("arn:aws:s3:::home/{user}/notes.txt"))
        .resource_arns("arn:aws:s3:::home/someone-else/notes.txt")
        .send()
        .await
        .unwrap();
    let r = out.evaluation_results();
    assert_eq!(r[0].eval_decision(), &D::Allowed);
    assert_eq!(r[1].eval_decision(), &D::ImplicitDeny);
    assert!(r[0].resource_specific_results()[0]
        .missing_context_values()
        .is_empty());
    srv.stop().await;
}

/// The same operations through boto3 and the AWS CLI (`tests/smoke/simulator.py`), including
/// AWS's documented CLI example. Skipped when the tools are missing, unless `CI` or
/// `LOCALIAM_REQUIRE_SMOKE` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_aws_cli() {
    use std::process::Command;
    let ok = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !ok("python3", &["-c", "import boto3"]) || !ok("aws", &["--version"]) {
        let required = std::env::var_os("CI").is_some()
            || std::env::var_os("LOCALIAM_REQUIRE_SMOKE").is_some();
        assert!(!required, "python3 with boto3 and the aws CLI are required");
        eprintln!("SKIPPED boto3_and_aws_cli: python3/boto3 or the aws CLI missing");
        return;
    }
    let srv = TestServer::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smoke/simulator.py");
    let url = srv.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(url)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run simulator.py")
    })
    .await
    .expect("simulator.py task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "simulator.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    srv.stop().await;
}

/// Many actions times many resources: only the requested page is evaluated, so a call naming millions of
/// combinations answers at once (it used to build every result in memory first), and the pages still cover
/// every action/resource pair in order.
#[tokio::test]
async fn a_huge_simulation_is_evaluated_page_by_page() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let n = 2000;
    let actions: Vec<String> = (0..n).map(|i| format!("s3:GetObject{i}")).collect();
    let resources: Vec<String> = (0..n).map(|i| format!("arn:aws:s3:::bucket{i}")).collect();
    let started = std::time::Instant::now();
    let first = iam
        .simulate_custom_policy()
        .policy_input_list(allow("s3:*", "*"))
        .set_action_names(Some(actions.clone()))
        .set_resource_arns(Some(resources.clone()))
        .max_items(3)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    let got: Vec<(&str, &str)> = first
        .evaluation_results()
        .iter()
        .map(|r| {
            (
                r.eval_action_name(),
                r.eval_resource_name().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("s3:GetObject0", "arn:aws:s3:::bucket0"),
            ("s3:GetObject0", "arn:aws:s3:::bucket1"),
            ("s3:GetObject0", "arn:aws:s3:::bucket2"),
        ]
    );
    // The page that wraps to the next action: markers are opaque, so reach item 1,999 by paging.
    let skip = iam
        .simulate_custom_policy()
        .policy_input_list(allow("s3:*", "*"))
        .set_action_names(Some(actions.clone()))
        .set_resource_arns(Some(resources.clone()))
        .max_items(1000)
        .send()
        .await
        .unwrap();
    let skip = iam
        .simulate_custom_policy()
        .policy_input_list(allow("s3:*", "*"))
        .set_action_names(Some(actions.clone()))
        .set_resource_arns(Some(resources.clone()))
        .max_items(999)
        .marker(skip.marker().unwrap())
        .send()
        .await
        .unwrap();
    // A raw offset is not a marker localiam handed out.
    assert_code(
        iam.simulate_custom_policy()
            .policy_input_list(allow("s3:*", "*"))
            .set_action_names(Some(actions.clone()))
            .set_resource_arns(Some(resources.clone()))
            .marker("1999")
            .send()
            .await,
        "ValidationError",
        400,
    );
    let next = iam
        .simulate_custom_policy()
        .policy_input_list(allow("s3:*", "*"))
        .set_action_names(Some(actions))
        .set_resource_arns(Some(resources))
        .max_items(2)
        .marker(skip.marker().unwrap())
        .send()
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = next
        .evaluation_results()
        .iter()
        .map(|r| {
            (
                r.eval_action_name(),
                r.eval_resource_name().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("s3:GetObject0", "arn:aws:s3:::bucket1999"),
            ("s3:GetObject1", "arn:aws:s3:::bucket0"),
        ]
    );
    assert!(next.is_truncated() && next.marker().is_some());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

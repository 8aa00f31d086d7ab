//! Organizations, STS preferences and delegation requests through the AWS SDK for Rust:
//! the centralized-root-access and Organizations-report operations (a standalone account answers
//! AWS's `OrganizationNotFoundException`), SetSecurityTokenServicePreferences as GetAccountSummary's
//! `GlobalEndpointTokenVersion`, and the temporary-delegation workflow across accounts, with STS's
//! GetDelegatedAccessToken redeeming the exchange token. Both kinds of state survive a restart.

use crate::common;

use aws_sdk_iam::types::{
    DelegationPermission, PermissionCheckResultType, PermissionCheckStatusType, PolicyParameter,
    PolicyParameterTypeEnum, StateType, SummaryKeyType,
};
use common::*;

/// The partner (requestor) account and a third account, reachable in open mode by their IDs.
const PARTNER: &str = "111111111111";
const THIRD: &str = "222222222222";

/// The partner's policy template: read objects of one bucket, list the given buckets.
const TEMPLATE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::@{bucketName}/*"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::@{listed}"}]}"#;

fn account_client(srv: &TestServer, account: &str) -> aws_sdk_iam::Client {
    srv.iam_with(account, "secret", None)
}

fn account_sts(srv: &TestServer, account: &str) -> aws_sdk_sts::Client {
    srv.sts_with(account, "secret", None)
}

fn topic(account: &str) -> String {
    format!("arn:aws:sns:us-east-1:{account}:partner-notifications")
}

fn param(name: &str, values: &[&str], kind: PolicyParameterTypeEnum) -> PolicyParameter {
    let mut b = PolicyParameter::builder().name(name).r#type(kind);
    for v in values {
        b = b.values(*v);
    }
    b.build()
}

/// Creates the partner's template (a managed policy of the partner account); its ARN.
async fn partner_template(srv: &TestServer) -> String {
    create_policy(&account_client(srv, PARTNER), &unique("template"), TEMPLATE).await
}

/// The permissions of a request for the bucket `bucket` (and two listed buckets).
fn permissions(template: &str, bucket: &str) -> DelegationPermission {
    DelegationPermission::builder()
        .policy_template_arn(template)
        .parameters(param(
            "bucketName",
            &[bucket],
            PolicyParameterTypeEnum::String,
        ))
        .parameters(param(
            "listed",
            &["list-1", "list-2"],
            PolicyParameterTypeEnum::StringList,
        ))
        .build()
}

/// A request from the partner, for `owner` (or any account); its ID.
async fn create_request(
    srv: &TestServer,
    template: &str,
    owner: Option<&str>,
    duration: i32,
    only_send_by_owner: bool,
) -> String {
    let out = account_client(srv, PARTNER)
        .create_delegation_request()
        .set_owner_account_id(owner.map(str::to_string))
        .description("Set up the partner's log shipping")
        .permissions(permissions(template, "customer-logs"))
        .request_message("Second attempt")
        .requestor_workflow_id(unique("workflow"))
        .redirect_url("https://partner.example.com/setup")
        .notification_channel(topic(PARTNER))
        .session_duration(duration)
        .only_send_by_owner(only_send_by_owner)
        .send()
        .await
        .unwrap();
    let id = out.delegation_request_id().unwrap().to_string();
    assert!(out.console_deep_link().unwrap().ends_with(&id));
    id
}

/// A user of the default account with an access key and, if given, an inline policy; (ARN, key
/// ID, secret).
async fn user_with_key(
    srv: &TestServer,
    name: &str,
    policy: Option<&str>,
) -> (String, String, String) {
    let iam = srv.iam();
    let user = iam.create_user().user_name(name).send().await.unwrap();
    if let Some(doc) = policy {
        iam.put_user_policy()
            .user_name(name)
            .policy_name("p")
            .policy_document(doc)
            .send()
            .await
            .unwrap();
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        user.user().unwrap().arn().to_string(),
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

/// The notifications published for a topic, from `/_localiam/notifications`.
async fn notifications(srv: &TestServer, topic: &str) -> Vec<serde_json::Value> {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("topic", topic)
        .finish();
    let r = srv
        .raw()
        .get(&format!("/_localiam/notifications?{q}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["notifications"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------
// Organizations

const NO_ORGANIZATION: &str =
    "The request was rejected because no organization is associated with your account.";

#[tokio::test]
async fn a_standalone_account_has_no_organization() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let code = "OrganizationNotFoundException";
    assert_err(
        iam.list_organizations_features().send().await,
        code,
        400,
        NO_ORGANIZATION,
    );
    assert_err(
        iam.enable_organizations_root_credentials_management()
            .send()
            .await,
        code,
        400,
        NO_ORGANIZATION,
    );
    assert_err(
        iam.disable_organizations_root_credentials_management()
            .send()
            .await,
        code,
        400,
        NO_ORGANIZATION,
    );
    assert_err(
        iam.enable_organizations_root_sessions().send().await,
        code,
        400,
        NO_ORGANIZATION,
    );
    assert_err(
        iam.disable_organizations_root_sessions().send().await,
        code,
        400,
        NO_ORGANIZATION,
    );
    // The SDK knows the error as the operation's modelled one.
    let e = iam.list_organizations_features().send().await.unwrap_err();
    assert!(e
        .as_service_error()
        .is_some_and(|e| e.is_organization_not_found_exception()));
    // Any account: none of them is in an organization.
    assert_err(
        account_client(&srv, THIRD)
            .list_organizations_features()
            .send()
            .await,
        code,
        400,
        NO_ORGANIZATION,
    );

    // The access report: a well-formed entity path is refused for the organization; a malformed
    // one is a ValidationError first.
    assert_err(
        iam.generate_organizations_access_report()
            .entity_path("o-a1b2c3d4e5/r-f6g7h8i9j0example/ou-rge0-awsabcde/123456789012")
            .send()
            .await,
        code,
        400,
        NO_ORGANIZATION,
    );
    let bad = assert_code(
        iam.generate_organizations_access_report()
            .entity_path("not-an-organization-path")
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert!(bad.message.contains("entityPath"), "{bad:?}");
    let job = "2a1b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
    assert_err(
        iam.get_organizations_access_report()
            .job_id(job)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("The job with ID {job} cannot be found."),
    );
    assert_code(
        iam.get_organizations_access_report()
            .job_id("short")
            .send()
            .await,
        "ValidationError",
        400,
    );
    srv.stop().await;
}

// ---------------------------------------------------------------------------------------------
// STS preferences

async fn token_version(iam: &aws_sdk_iam::Client) -> i32 {
    iam.get_account_summary()
        .send()
        .await
        .unwrap()
        .summary_map()
        .unwrap()[&SummaryKeyType::GlobalEndpointTokenVersion]
}

#[tokio::test]
async fn sts_preferences_set_the_global_endpoint_token_version() {
    use aws_sdk_iam::types::GlobalEndpointTokenVersion as V;
    let srv = TestServer::start().await;
    let iam = srv.iam();
    // AWS's default, as recorded.
    assert_eq!(token_version(&iam).await, 1);
    iam.set_security_token_service_preferences()
        .global_endpoint_token_version(V::V2Token)
        .send()
        .await
        .unwrap();
    assert_eq!(token_version(&iam).await, 2);
    // Per account.
    assert_eq!(token_version(&account_client(&srv, THIRD)).await, 1);
    iam.set_security_token_service_preferences()
        .global_endpoint_token_version(V::V1Token)
        .send()
        .await
        .unwrap();
    assert_eq!(token_version(&iam).await, 1);
    // Anything else is refused by the model's enum.
    let r = srv
        .raw()
        .post_form(&[
            ("Action", "SetSecurityTokenServicePreferences"),
            ("Version", "2010-05-08"),
            ("GlobalEndpointTokenVersion", "v3Token"),
        ])
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("ValidationError"))
    );
    let r = srv
        .raw()
        .post_form(&[
            ("Action", "SetSecurityTokenServicePreferences"),
            ("Version", "2010-05-08"),
        ])
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("ValidationError"))
    );
    assert_eq!(token_version(&iam).await, 1);
    srv.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Delegation requests

#[tokio::test]
async fn a_delegation_request_goes_from_the_partner_to_the_customer_and_back() {
    let srv = TestServer::start().await;
    let template = partner_template(&srv).await;
    let id = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 3600, false).await;

    // The customer sees it unassigned, with the rendered policy, for a day.
    let customer = srv.iam();
    let got = customer
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    assert!(got.permission_check_status().is_none());
    let r = got.delegation_request().unwrap();
    assert_eq!(r.state(), Some(&StateType::Unassigned));
    assert_eq!(r.requestor_id(), Some(PARTNER));
    assert_eq!(r.owner_account_id(), Some(DEFAULT_ACCOUNT));
    assert_eq!(r.owner_id(), None);
    assert_eq!(r.session_duration(), Some(3600));
    assert_eq!(r.request_message(), Some("Second attempt"));
    assert_eq!(r.redirect_url(), Some("https://partner.example.com/setup"));
    assert_eq!(
        r.permissions().unwrap().policy_template_arn(),
        Some(template.as_str())
    );
    assert_eq!(r.permissions().unwrap().parameters().len(), 2);
    let policy: serde_json::Value = serde_json::from_str(r.permission_policy().unwrap()).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        "arn:aws:s3:::customer-logs/*"
    );
    assert_eq!(
        policy["Statement"][1]["Resource"],
        serde_json::json!(["arn:aws:s3:::list-1", "arn:aws:s3:::list-2"])
    );
    let created = r.create_date().unwrap().secs();
    assert_eq!(r.expiration_time().unwrap().secs(), created + 86_400);
    // Its summary says who asks, for what and how long (English; other locales not supported).
    let entity = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:delegation-request/{id}");
    let summary = customer
        .get_human_readable_summary()
        .entity_arn(&entity)
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.summary_state(),
        Some(&aws_sdk_iam::types::SummaryStateType::Available)
    );
    assert_eq!(summary.locale(), Some("en-US"));
    let text = summary.summary_content().unwrap();
    for part in [
        PARTNER,
        "1.0 hour(s)",
        "Second attempt",
        "arn:aws:s3:::customer-logs/*",
        "arn:aws:s3:::list-1, arn:aws:s3:::list-2",
        "The request is unassigned.",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    let other = customer
        .get_human_readable_summary()
        .entity_arn(&entity)
        .locale("ja-JP")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.summary_state(),
        Some(&aws_sdk_iam::types::SummaryStateType::NotSupported)
    );
    assert_eq!(other.summary_content(), None);
    // Not listed until someone owns it.
    let list = customer.list_delegation_requests().send().await.unwrap();
    assert!(list.delegation_requests().is_empty());
    assert!(!list.is_truncated());

    // Alice associates it (she becomes its owner), forwards it, approves it and releases the token.
    let (alice_arn, alice_key, alice_secret) = user_with_key(&srv, "alice", None).await;
    let alice = srv.iam_with(&alice_key, &alice_secret, None);
    alice
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    // Again: harmless for its owner.
    alice
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = alice
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = r.delegation_request().unwrap();
    assert_eq!(r.state(), Some(&StateType::Assigned));
    assert_eq!(r.owner_id(), Some(alice_arn.as_str()));
    let assigned_at = r.updated_time().unwrap().secs();
    assert_eq!(
        r.expiration_time().unwrap().secs(),
        assigned_at + 7 * 86_400
    );
    let list = customer
        .list_delegation_requests()
        .owner_id(&alice_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(list.delegation_requests().len(), 1);
    assert_eq!(
        list.delegation_requests()[0].delegation_request_id(),
        Some(id.as_str())
    );
    let nobody = customer
        .list_delegation_requests()
        .owner_id(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/nobody"))
        .send()
        .await
        .unwrap();
    assert!(nobody.delegation_requests().is_empty());

    alice
        .update_delegation_request()
        .delegation_request_id(&id)
        .notes("Please approve: needed for the log pipeline")
        .send()
        .await
        .unwrap();
    let r = customer
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = r.delegation_request().unwrap();
    assert_eq!(r.state(), Some(&StateType::PendingApproval));
    assert_eq!(
        r.notes(),
        Some("Please approve: needed for the log pipeline")
    );

    alice
        .accept_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = customer
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = r.delegation_request().unwrap();
    assert_eq!(r.state(), Some(&StateType::Accepted));
    assert_eq!(r.approver_id(), Some(alice_arn.as_str()));
    alice
        .send_delegation_token()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = customer
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.delegation_request().unwrap().state(),
        Some(&StateType::Finalized)
    );
    // Finalized is terminal.
    assert_err(
        customer
            .reject_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("The delegation request {id} is in state FINALIZED and cannot be rejected."),
    );

    // What IAM published to the partner's topic: every state change, and the exchange token.
    let published = notifications(&srv, &topic(PARTNER)).await;
    let messages: Vec<serde_json::Value> = published
        .iter()
        .map(|n| {
            assert_eq!(n["Type"], "Notification");
            assert_eq!(n["TopicArn"], topic(PARTNER));
            serde_json::from_str(n["Message"].as_str().unwrap()).unwrap()
        })
        .collect();
    let states: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m["Type"].as_str().unwrap(), m["State"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("StateChange", "ASSIGNED"),
            ("StateChange", "PENDING_APPROVAL"),
            ("StateChange", "ACCEPTED"),
            ("StateChange", "FINALIZED"),
            ("ExchangeToken", "FINALIZED"),
        ]
    );
    let exchange = &messages[4];
    assert_eq!(exchange["RequestId"], id.as_str());
    assert_eq!(exchange["OwnerAccountId"], DEFAULT_ACCOUNT);
    let token = exchange["ExchangeToken"].as_str().unwrap().to_string();

    // Another account cannot redeem the partner's token.
    assert_err(
        account_sts(&srv, THIRD)
            .get_delegated_access_token()
            .trade_in_token(&token)
            .send()
            .await,
        "ExpiredTradeInTokenException",
        400,
        "The trade-in token is invalid or has expired.",
    );
    // The partner gets credentials acting as Alice, until the delegation period ends.
    let sts = account_sts(&srv, PARTNER);
    let out = sts
        .get_delegated_access_token()
        .trade_in_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.assumed_principal(), Some(alice_arn.as_str()));
    // AWS does not populate it for GetDelegatedAccessToken (the SDK marks it deprecated).
    #[allow(deprecated)]
    let packed = out.packed_policy_size();
    assert_eq!(packed, None);
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    let released = exchange["UpdatedAt"].as_str().unwrap();
    let released =
        time::OffsetDateTime::parse(released, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp();
    assert_eq!(creds.expiration().secs(), released + 3600);
    let delegated = srv.sts_with(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
    );
    let me = delegated.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(alice_arn.as_str()));
    assert_eq!(me.account(), Some(DEFAULT_ACCOUNT));
    // Redeemed again: fresh credentials with the same end.
    let again = sts
        .get_delegated_access_token()
        .trade_in_token(&token)
        .send()
        .await
        .unwrap();
    assert_ne!(
        again.credentials().unwrap().access_key_id(),
        creds.access_key_id()
    );
    assert_eq!(
        again.credentials().unwrap().expiration().secs(),
        creds.expiration().secs()
    );
    assert_err(
        sts.get_delegated_access_token()
            .trade_in_token("not-a-token")
            .send()
            .await,
        "ExpiredTradeInTokenException",
        400,
        "The trade-in token is invalid or has expired.",
    );
    srv.stop().await;
}

#[tokio::test]
async fn delegation_requests_are_checked_as_aws_checks_them() {
    let srv = TestServer::start().await;
    let partner = account_client(&srv, PARTNER);
    let template = partner_template(&srv).await;
    let create = || {
        partner
            .create_delegation_request()
            .owner_account_id(DEFAULT_ACCOUNT)
            .description("d")
            .permissions(permissions(&template, "b"))
            .requestor_workflow_id("workflow-1")
            .notification_channel(topic(PARTNER))
            .session_duration(900)
    };
    create().send().await.unwrap();
    // The workflow ID is unique per requestor.
    assert_err(
        create().send().await,
        "EntityAlreadyExists",
        409,
        "A delegation request with the requestor workflow ID workflow-1 already exists.",
    );
    // The model's constraints, with AWS's ValidationError.
    assert_code(
        create()
            .requestor_workflow_id("workflow-2")
            .session_duration(100)
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert_code(
        create()
            .requestor_workflow_id("workflow-2")
            .owner_account_id("12345")
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert_code(
        create()
            .requestor_workflow_id("workflow-2")
            .redirect_url("ftp://partner.example.com")
            .send()
            .await,
        "ValidationError",
        400,
    );
    // Only SNS topics of the requesting account.
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .notification_channel("arn:aws:sqs:us-east-1:111111111111:queue")
            .send()
            .await,
        "InvalidInput",
        400,
        "The notification channel must be the ARN of an Amazon SNS topic.",
    );
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .notification_channel(topic(THIRD))
            .send()
            .await,
        "InvalidInput",
        400,
        "The notification channel must be an Amazon SNS topic of the requesting account.",
    );
    // The template must exist for the requestor, and get every parameter it names.
    let elsewhere = format!("arn:aws:iam::{THIRD}:policy/template");
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .permissions(permissions(&elsewhere, "b"))
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("The policy template {elsewhere} cannot be found."),
    );
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .permissions(
                DelegationPermission::builder()
                    .policy_template_arn(&template)
                    .parameters(param("bucketName", &["b"], PolicyParameterTypeEnum::String))
                    .build(),
            )
            .send()
            .await,
        "InvalidInput",
        400,
        "The policy template requires the parameter listed, which the request does not give.",
    );
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .permissions(
                DelegationPermission::builder()
                    .policy_template_arn(&template)
                    .parameters(param(
                        "bucketName",
                        &["a", "b"],
                        PolicyParameterTypeEnum::String,
                    ))
                    .parameters(param("listed", &["l"], PolicyParameterTypeEnum::StringList))
                    .build(),
            )
            .send()
            .await,
        "InvalidInput",
        400,
        "The policy template parameter bucketName of type string must have exactly one value.",
    );
    // Permissions without a template: nothing of the structure is sent, so it is missing.
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .permissions(DelegationPermission::builder().build())
            .send()
            .await,
        "ValidationError",
        400,
        "1 validation error detected: Value null at 'permissions' failed to satisfy constraint: Member must not be null",
    );
    // Parameters without a template.
    assert_err(
        create()
            .requestor_workflow_id("workflow-2")
            .permissions(
                DelegationPermission::builder()
                    .parameters(param("bucketName", &["b"], PolicyParameterTypeEnum::String))
                    .build(),
            )
            .send()
            .await,
        "InvalidInput",
        400,
        "The permissions of a delegation request must name a policy template (PolicyTemplateArn).",
    );

    // Unknown requests, malformed IDs.
    let iam = srv.iam();
    let missing = "dr-doesnotexist00000";
    assert_err(
        iam.get_delegation_request()
            .delegation_request_id(missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("The delegation request with ID {missing} cannot be found."),
    );
    assert_code(
        iam.accept_delegation_request()
            .delegation_request_id("short")
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert_code(
        iam.get_delegation_request()
            .delegation_request_id("has spaces in it!!")
            .send()
            .await,
        "ValidationError",
        400,
    );
    srv.stop().await;
}

#[tokio::test]
async fn delegation_states_allow_only_their_transitions() {
    let srv = TestServer::start().await;
    let template = partner_template(&srv).await;
    let customer = srv.iam();
    let id = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 3600, false).await;

    // Nothing but associating an unassigned request.
    assert_err(
        customer
            .accept_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "ConcurrentModification",
        409,
        &format!("The delegation request {id} is in state UNASSIGNED and cannot be accepted."),
    );
    let reject = customer
        .reject_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await;
    let update = customer
        .update_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await;
    let send = customer
        .send_delegation_token()
        .delegation_request_id(&id)
        .send()
        .await;
    for (got, verb) in [
        (expect_err(reject), "rejected"),
        (expect_err(update), "updated"),
        (expect_err(send), "sent"),
    ] {
        assert_eq!(
            got,
            ErrInfo {
                code: "InvalidInput".into(),
                message: format!(
                    "The delegation request {id} is in state UNASSIGNED and cannot be {verb}."
                ),
                status: 400,
            }
        );
    }

    // A third account may not touch it; nor may the partner act for the customer.
    let third = account_client(&srv, THIRD);
    let denied = |account: &str, op: &str| {
        format!(
            "User: arn:aws:iam::{account}:root is not authorized to perform: iam:{op} on resource: arn:aws:iam::{account}:delegation-request/{id}"
        )
    };
    assert_err(
        third
            .get_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "AccessDenied",
        403,
        &denied(THIRD, "GetDelegationRequest"),
    );
    assert_err(
        third
            .associate_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "AccessDenied",
        403,
        &denied(THIRD, "AssociateDelegationRequest"),
    );
    let partner = account_client(&srv, PARTNER);
    assert_err(
        partner
            .associate_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "AccessDenied",
        403,
        &denied(PARTNER, "AssociateDelegationRequest"),
    );
    // The partner itself may follow its request.
    partner
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();

    // The customer's root associates, accepts and rejects it (with a reason): then nothing more.
    customer
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    // Another identity cannot take it over.
    let (_, key, secret) = user_with_key(&srv, "carol", None).await;
    assert_err(
        srv.iam_with(&key, &secret, None)
            .associate_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "InvalidInput",
        400,
        &format!("The delegation request {id} is in state ASSIGNED and cannot be associated."),
    );
    customer
        .accept_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    customer
        .reject_delegation_request()
        .delegation_request_id(&id)
        .notes("Not this quarter")
        .send()
        .await
        .unwrap();
    let r = customer
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = r.delegation_request().unwrap();
    assert_eq!(r.state(), Some(&StateType::Rejected));
    assert_eq!(r.rejection_reason(), Some("Not this quarter"));
    assert_err(
        customer
            .accept_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "ConcurrentModification",
        409,
        &format!("The delegation request {id} is in state REJECTED and cannot be accepted."),
    );

    // The root user approves at most four hours.
    let long = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 14_401, false).await;
    customer
        .associate_delegation_request()
        .delegation_request_id(&long)
        .send()
        .await
        .unwrap();
    assert_err(
        customer
            .accept_delegation_request()
            .delegation_request_id(&long)
            .send()
            .await,
        "AccessDenied",
        403,
        "The root user cannot accept a delegation request for more than 14400 seconds (4 hours); accept it with an IAM identity.",
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_request_for_no_account_is_taken_by_the_first_to_associate_it() {
    let srv = TestServer::start().await;
    let template = partner_template(&srv).await;
    let id = create_request(&srv, &template, None, 900, false).await;
    // Anyone may look at it.
    let third = account_client(&srv, THIRD);
    let r = third
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.delegation_request().unwrap().owner_account_id(), None);
    third
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = third
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = r.delegation_request().unwrap();
    assert_eq!(r.owner_account_id(), Some(THIRD));
    assert_eq!(
        r.owner_id(),
        Some(format!("arn:aws:iam::{THIRD}:root").as_str())
    );
    let list = third.list_delegation_requests().send().await.unwrap();
    assert_eq!(list.delegation_requests().len(), 1);
    // Now it is the third account's.
    assert_code(
        srv.iam()
            .get_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert!(srv
        .iam()
        .list_delegation_requests()
        .send()
        .await
        .unwrap()
        .delegation_requests()
        .is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn only_the_owner_releases_a_request_that_says_so() {
    let srv = TestServer::start().await;
    let template = partner_template(&srv).await;
    let id = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 3600, true).await;
    let (alice_arn, key, secret) = user_with_key(&srv, "alice", None).await;
    let alice = srv.iam_with(&key, &secret, None);
    alice
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    // The administrator (root) approves, but may not release it.
    let admin = srv.iam();
    admin
        .accept_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = admin
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let r = r.delegation_request().unwrap();
    assert!(r.only_send_by_owner());
    assert_eq!(r.owner_id(), Some(alice_arn.as_str()));
    assert_eq!(
        r.approver_id(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root").as_str())
    );
    assert_err(
        admin.send_delegation_token().delegation_request_id(&id).send().await,
        "AccessDenied",
        403,
        &format!(
            "User: arn:aws:iam::{DEFAULT_ACCOUNT}:root is not authorized to perform: iam:SendDelegationToken on resource: arn:aws:iam::{DEFAULT_ACCOUNT}:delegation-request/{id}"
        ),
    );
    alice
        .send_delegation_token()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    // The credentials act as the approver (the root user here), not as the owner.
    let token = notifications(&srv, &topic(PARTNER))
        .await
        .iter()
        .filter_map(|n| {
            let m: serde_json::Value = serde_json::from_str(n["Message"].as_str()?).ok()?;
            m["ExchangeToken"].as_str().map(str::to_string)
        })
        .next()
        .unwrap();
    let out = account_sts(&srv, PARTNER)
        .get_delegated_access_token()
        .trade_in_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.assumed_principal(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root").as_str())
    );
    srv.stop().await;
}

#[tokio::test]
async fn the_permission_check_weighs_the_callers_own_permissions() {
    let srv = TestServer::start().await;
    let template = partner_template(&srv).await;
    let id = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 900, false).await;
    let check = |iam: aws_sdk_iam::Client| {
        let id = id.clone();
        async move {
            let out = iam
                .get_delegation_request()
                .delegation_request_id(id)
                .delegation_permission_check(true)
                .send()
                .await
                .unwrap();
            assert_eq!(
                out.permission_check_status(),
                Some(&PermissionCheckStatusType::Complete)
            );
            out.permission_check_result().cloned()
        }
    };
    // The template's object resource is a pattern: a caller allowed all of it is allowed.
    let s3 = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}}"#;
    let (_, key, secret) = user_with_key(&srv, "reader", Some(s3)).await;
    assert_eq!(
        check(srv.iam_with(&key, &secret, None)).await,
        Some(PermissionCheckResultType::Allowed)
    );
    // Refused a literal resource: denied.
    let get_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
    let (_, key, secret) = user_with_key(&srv, "partial", Some(get_only)).await;
    assert_eq!(
        check(srv.iam_with(&key, &secret, None)).await,
        Some(PermissionCheckResultType::Denied)
    );
    // Holding only part of a pattern: cannot be told.
    let part = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::customer-logs/2024/*"}]}"#;
    let (_, key, secret) = user_with_key(&srv, "some-objects", Some(part)).await;
    assert_eq!(
        check(srv.iam_with(&key, &secret, None)).await,
        Some(PermissionCheckResultType::Unsure)
    );
    assert_eq!(
        check(srv.iam()).await,
        Some(PermissionCheckResultType::Allowed)
    );
    srv.stop().await;
}

/// A request of the default account for itself, for the template's `action` set to ListUsers.
async fn own_account_request(root: &aws_sdk_iam::Client, template: &str, workflow: &str) -> String {
    root.create_delegation_request()
        .owner_account_id(DEFAULT_ACCOUNT)
        .description("list users")
        .permissions(
            DelegationPermission::builder()
                .policy_template_arn(template)
                .parameters(param(
                    "action",
                    &["ListUsers"],
                    PolicyParameterTypeEnum::String,
                ))
                .build(),
        )
        .requestor_workflow_id(workflow)
        .notification_channel(topic(DEFAULT_ACCOUNT))
        .session_duration(900)
        .send()
        .await
        .unwrap()
        .delegation_request_id()
        .unwrap()
        .to_string()
}

/// The customer's steps up to the release: associating, viewing and releasing need no permission
/// for the request's owner; accepting does.
async fn approve_and_release(approver: &aws_sdk_iam::Client, id: &str) {
    let ok = |step: &str, r: Option<ErrInfo>| assert!(r.is_none(), "{step}: {r:?}");
    let r = approver
        .associate_delegation_request()
        .delegation_request_id(id)
        .send()
        .await;
    ok("associate", r.err().map(|e| err_info(&e)));
    let r = approver
        .get_delegation_request()
        .delegation_request_id(id)
        .send()
        .await;
    ok("get", r.err().map(|e| err_info(&e)));
    let r = approver
        .accept_delegation_request()
        .delegation_request_id(id)
        .send()
        .await;
    ok("accept", r.err().map(|e| err_info(&e)));
    let r = approver
        .send_delegation_token()
        .delegation_request_id(id)
        .send()
        .await;
    ok("send", r.err().map(|e| err_info(&e)));
}

#[tokio::test]
async fn delegated_credentials_are_limited_by_the_rendered_policy_under_enforce() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    // Partner and customer are the same account here (strict authentication knows only its keys).
    let template = create_policy(
        &root,
        "list-users-template",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:@{action}","Resource":"*"}}"#,
    )
    .await;
    let rights = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles"],"Resource":"*"},{"Effect":"Allow","Action":"iam:AcceptDelegationRequest","Resource":"*"}]}"#;
    let (alice_arn, key, secret) = user_with_key(&srv, "alice", Some(rights)).await;
    let alice = srv.iam_with(&key, &secret, None);
    let sts = srv.sts();
    let id = own_account_request(&root, &template, "alice-workflow").await;
    approve_and_release(&alice, &id).await;
    let token_of = |messages: Vec<serde_json::Value>| -> Vec<String> {
        messages
            .iter()
            .filter_map(|n| {
                let m: serde_json::Value = serde_json::from_str(n["Message"].as_str()?).ok()?;
                m["ExchangeToken"].as_str().map(str::to_string)
            })
            .collect()
    };
    // The admin endpoint answers the default root's signed requests only, outside open mode.
    let unsigned = srv.raw().get("/_localiam/notifications").await;
    assert_eq!(unsigned.status, 403);

    // Without a permission, accepting is refused even for the owner.
    let (_, key, secret) = user_with_key(&srv, "bob", None).await;
    let bob = srv.iam_with(&key, &secret, None);
    let id = own_account_request(&root, &template, "bob-workflow").await;
    bob.associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    bob.update_delegation_request()
        .delegation_request_id(&id)
        .notes("for an admin")
        .send()
        .await
        .unwrap();
    let denied = expect_err(
        bob.accept_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
    );
    assert_eq!((denied.code.as_str(), denied.status), ("AccessDenied", 403));
    assert!(
        denied.message.contains(&format!(
            "iam:AcceptDelegationRequest on resource: arn:aws:iam::{DEFAULT_ACCOUNT}:delegation-request/{id}"
        )),
        "{denied:?}"
    );
    // Nor may someone who does not own it forward it.
    let (_, key, secret) = user_with_key(&srv, "mallory", None).await;
    let denied = expect_err(
        srv.iam_with(&key, &secret, None)
            .update_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await,
    );
    assert_eq!((denied.code.as_str(), denied.status), ("AccessDenied", 403));
    assert!(
        denied.message.contains("iam:UpdateDelegationRequest"),
        "{denied:?}"
    );
    // Another identity's request is not bob's to view.
    assert_code(
        bob.list_delegation_requests()
            .owner_id(&alice_arn)
            .send()
            .await,
        "AccessDenied",
        403,
    );

    // The delegated credentials are the intersection of alice's rights and the rendered policy.
    let signed_admin = admin_get(&srv, "/_localiam/notifications").await;
    let tokens = token_of(signed_admin);
    assert_eq!(tokens.len(), 1);
    let out = sts
        .get_delegated_access_token()
        .trade_in_token(&tokens[0])
        .send()
        .await
        .unwrap();
    assert_eq!(out.assumed_principal(), Some(alice_arn.as_str()));
    let c = out.credentials().unwrap();
    let delegated = srv.iam_with(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    );
    delegated.list_users().send().await.unwrap();
    let e = expect_err(delegated.list_roles().send().await);
    assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403), "{e:?}");

    // The root user's delegated credentials are limited by the rendered policy too.
    let id = own_account_request(&root, &template, "root-workflow").await;
    approve_and_release(&root, &id).await;
    let tokens = token_of(admin_get(&srv, "/_localiam/notifications").await);
    assert_eq!(tokens.len(), 2);
    let out = sts
        .get_delegated_access_token()
        .trade_in_token(&tokens[1])
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let delegated_root = srv.iam_with(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    );
    delegated_root.list_users().send().await.unwrap();
    let e = expect_err(delegated_root.create_user().user_name("x").send().await);
    assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403), "{e:?}");
    // The root user itself is not.
    root.create_user().user_name("x").send().await.unwrap();
    srv.stop().await;
}

/// `GET path` signed with the default root's credentials (outside open mode the admin endpoints
/// answer nobody else); the `notifications` of the answer.
async fn admin_get(srv: &TestServer, path: &str) -> Vec<serde_json::Value> {
    let r = srv.admin("GET", path, b"").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["notifications"].as_array().unwrap().clone()
}

#[tokio::test]
async fn preferences_and_delegation_requests_survive_a_restart() {
    use aws_sdk_iam::types::GlobalEndpointTokenVersion as V;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("orgs.db").to_str().unwrap().to_string();
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    srv.iam()
        .set_security_token_service_preferences()
        .global_endpoint_token_version(V::V2Token)
        .send()
        .await
        .unwrap();
    let template = partner_template(&srv).await;
    let id = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 900, false).await;
    srv.iam()
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    srv.iam()
        .accept_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let before = srv
        .iam()
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    srv.stop().await;

    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    assert_eq!(token_version(&iam).await, 2);
    let after = iam
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(after.delegation_request(), before.delegation_request());
    assert_eq!(
        after.delegation_request().unwrap().state(),
        Some(&StateType::Accepted)
    );
    // The workflow goes on where it was, and the token is redeemable.
    iam.send_delegation_token()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let published = notifications(&srv, &topic(PARTNER)).await;
    assert_eq!(published.len(), 4, "{published:?}");
    srv.stop().await;
}

#[tokio::test]
async fn delegation_requests_are_listed_in_pages() {
    let srv = TestServer::start().await;
    let template = partner_template(&srv).await;
    let customer = srv.iam();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = create_request(&srv, &template, Some(DEFAULT_ACCOUNT), 900, false).await;
        customer
            .associate_delegation_request()
            .delegation_request_id(&id)
            .send()
            .await
            .unwrap();
        ids.push(id);
    }
    let first = customer
        .list_delegation_requests()
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    let second = customer
        .list_delegation_requests()
        .max_items(2)
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!second.is_truncated());
    assert_eq!(second.marker(), None);
    let mut listed: Vec<String> = first
        .delegation_requests()
        .iter()
        .chain(second.delegation_requests())
        .map(|r| r.delegation_request_id().unwrap().to_string())
        .collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
    assert_err(
        customer
            .list_delegation_requests()
            .marker("not-a-marker")
            .send()
            .await,
        "ValidationError",
        400,
        "Invalid Marker.",
    );
    srv.stop().await;
}

//! What is kept for a time is forgotten when its time is up (README, "Long runs"): the background
//! chores run here with a clock of the test's own. Sessions an hour after they expire, delegation
//! requests a day after they end; access advisor reports after a week, and past 1,000 per account.

use crate::common;

use aws_sdk_iam::types::{DelegationPermission, PolicyParameter, PolicyParameterTypeEnum};
use common::*;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn sessions_are_forgotten_an_hour_after_they_expire() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let started = OffsetDateTime::now_utc();
    let creds = srv
        .sts_with(key.access_key_id(), key.secret_access_key(), None)
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let c = creds.credentials().unwrap();
    let session = || {
        srv.sts_with(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token()),
        )
    };
    session().get_caller_identity().send().await.unwrap();
    let sessions = |srv: &TestServer| {
        srv.app()
            .store
            .read()
            .account(DEFAULT_ACCOUNT)
            .sessions
            .iter()
            .count()
    };
    assert_eq!(sessions(&srv), 1);

    // Expired, but not for an hour yet: kept (so a late caller is told ExpiredToken).
    let expiry = started + Duration::seconds(900);
    localiam::api::sts::prune_expired(srv.app(), expiry + Duration::minutes(59)).await;
    assert_eq!(sessions(&srv), 1);
    // An hour and more after: forgotten, the key unknown.
    localiam::api::sts::prune_expired(srv.app(), expiry + Duration::minutes(61)).await;
    assert_eq!(sessions(&srv), 0);
    assert_code(
        session().get_caller_identity().send().await,
        "InvalidClientTokenId",
        403,
    );
    srv.stop().await;
}

const PARTNER: &str = "111111111111";
const TEMPLATE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::@{bucket}/*"}]}"#;

#[tokio::test]
async fn delegation_requests_are_forgotten_a_day_after_they_end() {
    let srv = TestServer::start().await;
    let partner = srv.iam_with(PARTNER, "secret", None);
    let template = create_policy(&partner, "template", TEMPLATE).await;
    let started = OffsetDateTime::now_utc();
    let id = partner
        .create_delegation_request()
        .description("log shipping")
        .permissions(
            DelegationPermission::builder()
                .policy_template_arn(template)
                .parameters(
                    PolicyParameter::builder()
                        .name("bucket")
                        .values("logs")
                        .r#type(PolicyParameterTypeEnum::String)
                        .build(),
                )
                .build(),
        )
        .requestor_workflow_id("workflow-1")
        .notification_channel(format!("arn:aws:sns:us-east-1:{PARTNER}:topic"))
        .session_duration(3600)
        .send()
        .await
        .unwrap()
        .delegation_request_id()
        .unwrap()
        .to_string();
    let get = || {
        partner
            .get_delegation_request()
            .delegation_request_id(&id)
            .send()
    };
    get().await.unwrap();

    // Unassigned, it expires a day after its creation; it is kept one more day.
    let expiry = started + Duration::days(1);
    localiam::api::delegation::prune_expired(srv.app(), expiry + Duration::hours(23)).await;
    get().await.unwrap();
    localiam::api::delegation::prune_expired(srv.app(), expiry + Duration::hours(25)).await;
    assert_code(get().await, "NoSuchEntity", 404);
    srv.stop().await;
}

#[tokio::test]
async fn access_advisor_reports_expire_after_a_week_and_are_capped_per_account() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    let arn = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/alice");
    let generate = || async {
        iam.generate_service_last_accessed_details()
            .arn(&arn)
            .send()
            .await
            .unwrap()
            .job_id()
            .unwrap()
            .to_string()
    };
    let details = |job: String| iam.get_service_last_accessed_details().job_id(job).send();
    let mut jobs = Vec::new();
    for _ in 0..localiam::api::access_advisor::MAX_REPORTS_PER_ACCOUNT {
        jobs.push(generate().await);
    }
    // One more forgets the oldest (one of those generated in the first second).
    jobs.push(generate().await);
    let mut forgotten = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Err(e) = details(job.clone()).await {
            assert_eq!(err_info(&e).code, "InvalidInput", "{e:?}");
            forgotten.push(i);
        }
    }
    assert_eq!(forgotten.len(), 1, "{forgotten:?}");
    assert!(forgotten[0] < jobs.len() - 1);
    let reports = |srv: &TestServer| {
        srv.app()
            .store
            .read()
            .account(DEFAULT_ACCOUNT)
            .access_reports
            .iter()
            .count()
    };
    assert_eq!(
        reports(&srv),
        localiam::api::access_advisor::MAX_REPORTS_PER_ACCOUNT
    );
    // A week after: all forgotten by the background chores.
    let week = OffsetDateTime::now_utc() + Duration::days(7) + Duration::minutes(1);
    localiam::api::access_advisor::prune_expired(srv.app(), week).await;
    assert_eq!(reports(&srv), 0);
    srv.stop().await;
}

//! The web console (`/_localiam/console`) and the best-practice findings
//! (`GET /_localiam/findings`): what they show, that every value is escaped, and that outside
//! `open` the console needs the root's credentials.

mod common;

use common::*;
use serde_json::Value;

const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const IAM_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:*"],"Resource":"arn:aws:iam::000000000000:user/*"}}"#;
const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#;
const OPEN_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
const SAFE_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}"#;

/// `(check, name)` of every finding of the default account.
async fn findings(srv: &TestServer) -> Vec<(String, String, String)> {
    let r = srv.raw().get("/_localiam/findings").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let account = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == DEFAULT_ACCOUNT)
        .expect("the default account is reported")
        .clone();
    account["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["practice"].as_str().is_some_and(|p| !p.is_empty()), "{f}");
            assert!(
                f["arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:")),
                "{f}"
            );
            (
                f["check"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
                f["practice"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(list: &[(String, String, String)], check: &str, name: &str) -> bool {
    list.iter().any(|(c, n, _)| c == check && n == name)
}

#[tokio::test]
async fn findings_name_the_practice_and_the_entity() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    // A clean account has nothing to report.
    assert!(findings(&srv).await.is_empty());

    let careless = unique("careless");
    iam.create_user().user_name(&careless).send().await.unwrap();
    iam.create_login_profile()
        .user_name(&careless)
        .password("Correct-Horse-9!")
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        iam.create_access_key()
            .user_name(&careless)
            .send()
            .await
            .unwrap();
    }
    let careful = unique("careful");
    iam.create_user().user_name(&careful).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&careless)
        .policy_name("everything")
        .policy_document(ADMIN)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&careless)
        .policy_name("read")
        .policy_document(READ)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&careful)
        .policy_name("read-too")
        .policy_document(READ)
        .send()
        .await
        .unwrap();
    let iam_all = unique("iam-all");
    create_policy(&iam, &iam_all, IAM_ALL).await;
    let open = unique("open-role");
    iam.create_role()
        .role_name(&open)
        .assume_role_policy_document(OPEN_TRUST)
        .send()
        .await
        .unwrap();
    let org = unique("org-role");
    iam.create_role()
        .role_name(&org)
        .assume_role_policy_document(SAFE_TRUST)
        .send()
        .await
        .unwrap();

    let list = findings(&srv).await;
    for (check, name) in [
        ("password-without-mfa", &careless),
        ("multiple-active-keys", &careless),
        ("unused-access-key", &careless),
        ("allows-everything", &careless),
        ("inline-instead-of-managed", &careless),
        ("inline-instead-of-managed", &careful),
        ("allows-iam-wildcard", &iam_all),
        ("open-trust-policy", &open),
    ] {
        assert!(has(&list, check, name), "no {check} for {name}: {list:?}");
    }
    // The practice is named in the IAM User Guide's words.
    assert!(list
        .iter()
        .any(|(c, _, p)| c == "password-without-mfa"
            && p == "Require multi-factor authentication (MFA)"));
    // A conditioned trust policy, a fresh user with no password, fresh roles: nothing.
    assert!(!list.iter().any(|(_, n, _)| n == &org), "{list:?}");
    assert!(!has(&list, "password-without-mfa", &careful));
    assert!(!list
        .iter()
        .any(|(c, _, _)| c == "unused-user" || c == "unused-role"));

    // Deactivating a key leaves one active key: no longer "more than one".
    let keys = iam
        .list_access_keys()
        .user_name(&careless)
        .send()
        .await
        .unwrap();
    let first = keys.access_key_metadata()[0]
        .access_key_id()
        .unwrap()
        .to_string();
    iam.update_access_key()
        .user_name(&careless)
        .access_key_id(&first)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let list = findings(&srv).await;
    assert!(!has(&list, "multiple-active-keys", &careless), "{list:?}");
    assert!(has(&list, "unused-access-key", &careless));

    // An account filter.
    let r = srv
        .raw()
        .get("/_localiam/findings?account=111111111111")
        .await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["accounts"], serde_json::json!([]));
    srv.stop().await;
}

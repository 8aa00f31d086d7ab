//! The account through the AWS SDK for Rust: aliases, the password policy and its enforcement,
//! the account summary, the authorization details, the credential report, and that what the
//! account keeps survives a restart. (The response shapes are compared whole with real AWS's by
//! `tests/smoke/replay.py`.)

use crate::common;

use aws_sdk_iam::primitives::DateTime;
use aws_sdk_iam::types::{EntityType, ReportStateType, SummaryKeyType};
use common::*;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}"#;

/// A client acting as the root of another account (open mode: a 12-digit key ID names it).
fn other_account(srv: &TestServer, account: &str) -> aws_sdk_iam::Client {
    srv.iam_with(account, "secret", None)
}

#[tokio::test]
async fn account_aliases() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let list = iam.list_account_aliases().send().await.unwrap();
    assert!(list.account_aliases().is_empty());
    assert!(!list.is_truncated());

    iam.create_account_alias()
        .account_alias("first-alias")
        .send()
        .await
        .unwrap();
    // Creating it again is fine; a new alias replaces it (an account has one).
    iam.create_account_alias()
        .account_alias("first-alias")
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("my-company")
        .send()
        .await
        .unwrap();
    let list = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(list.account_aliases(), ["my-company"]);

    // Aliases are unique across accounts.
    let other = other_account(&srv, "111122223333");
    assert_err(
        other
            .create_account_alias()
            .account_alias("my-company")
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "The account alias my-company already exists.",
    );
    other
        .create_account_alias()
        .account_alias("first-alias")
        .send()
        .await
        .unwrap();

    // AWS's grammar: 3–63 lowercase letters, digits and single inner hyphens.
    for bad in ["ab", "-leading", "trailing-", "double--hyphen", "Upper"] {
        assert_code(
            iam.create_account_alias().account_alias(bad).send().await,
            "ValidationError",
            400,
        );
    }

    assert_err(
        iam.delete_account_alias()
            .account_alias("first-alias")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The account alias first-alias cannot be found.",
    );
    iam.delete_account_alias()
        .account_alias("my-company")
        .send()
        .await
        .unwrap();
    assert!(iam
        .list_account_aliases()
        .send()
        .await
        .unwrap()
        .account_aliases()
        .is_empty());
    // Free again for anyone.
    other
        .create_account_alias()
        .account_alias("my-company")
        .send()
        .await
        .unwrap();
    srv.stop().await;
}

#[tokio::test]
async fn password_policy_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    assert_err(
        iam.get_account_password_policy().send().await,
        "NoSuchEntity",
        404,
        &format!("The Password Policy with domain name {DEFAULT_ACCOUNT} cannot be found."),
    );
    assert_err(
        iam.delete_account_password_policy().send().await,
        "NoSuchEntity",
        404,
        "The account policy with name PasswordPolicy cannot be found.",
    );

    // Every parameter left out takes AWS's default.
    iam.update_account_password_policy().send().await.unwrap();
    let got = iam.get_account_password_policy().send().await.unwrap();
    let p = got.password_policy().unwrap();
    assert_eq!(p.minimum_password_length(), Some(6));
    assert!(!p.require_symbols());
    assert!(!p.allow_users_to_change_password());
    assert!(!p.expire_passwords());
    assert_eq!(p.max_password_age(), None);
    assert_eq!(p.password_reuse_prevention(), None);
    assert_eq!(p.hard_expiry(), None);

    iam.update_account_password_policy()
        .minimum_password_length(10)
        .require_numbers(true)
        .max_password_age(90)
        .password_reuse_prevention(5)
        .hard_expiry(false)
        .send()
        .await
        .unwrap();
    let got = iam.get_account_password_policy().send().await.unwrap();
    let p = got.password_policy().unwrap();
    assert_eq!(p.minimum_password_length(), Some(10));
    assert!(p.require_numbers());
    assert!(p.expire_passwords());
    assert_eq!(p.max_password_age(), Some(90));
    assert_eq!(p.password_reuse_prevention(), Some(5));
    assert_eq!(p.hard_expiry(), Some(false));

    assert_code(
        iam.update_account_password_policy()
            .minimum_password_length(5)
            .send()
            .await,
        "ValidationError",
        400,
    );

    iam.delete_account_password_policy().send().await.unwrap();
    assert_code(
        iam.get_account_password_policy().send().await,
        "NoSuchEntity",
        404,
    );
    srv.stop().await;
}

#[tokio::test]
async fn password_policy_is_enforced_through_the_api() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let alice = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    iam.update_account_password_policy()
        .minimum_password_length(12)
        .require_symbols(true)
        .password_reuse_prevention(1)
        .send()
        .await
        .unwrap();
    let violation = "Password does not conform to the account password policy.";
    assert_err(
        iam.create_login_profile()
            .user_name("alice")
            .password("short-1!")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );
    assert_err(
        iam.create_login_profile()
            .user_name("alice")
            .password("long-enough-but-no-symbol".replace('-', ""))
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );
    iam.create_login_profile()
        .user_name("alice")
        .password("a-good-password!")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.update_login_profile()
            .user_name("alice")
            .password("tiny!")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );

    // The policy does not let users change their own password.
    let denied = expect_err(
        alice
            .change_password()
            .old_password("a-good-password!")
            .new_password("another-password!")
            .send()
            .await,
    );
    assert_eq!((denied.code.as_str(), denied.status), ("AccessDenied", 403));
    assert!(denied.message.contains("iam:ChangePassword"), "{denied:?}");

    iam.update_account_password_policy()
        .minimum_password_length(12)
        .require_symbols(true)
        .password_reuse_prevention(1)
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();
    // Reuse prevention of 1: the current password cannot be set again.
    assert_err(
        alice
            .change_password()
            .old_password("a-good-password!")
            .new_password("a-good-password!")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );
    assert_err(
        alice
            .change_password()
            .old_password("a-good-password!")
            .new_password("weak")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );
    alice
        .change_password()
        .old_password("a-good-password!")
        .new_password("another-password!")
        .send()
        .await
        .unwrap();

    // Without a policy any password goes again.
    iam.delete_account_password_policy().send().await.unwrap();
    iam.update_login_profile()
        .user_name("alice")
        .password("x")
        .send()
        .await
        .unwrap();
    srv.stop().await;
}

fn summary_value(map: &std::collections::HashMap<SummaryKeyType, i32>, key: &str) -> i32 {
    *map.get(&SummaryKeyType::from(key))
        .unwrap_or_else(|| panic!("no {key} in {map:?}"))
}

#[tokio::test]
async fn account_summary_counts_and_quotas() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let other = other_account(&srv, "222233334444");
    let map = other.get_account_summary().send().await.unwrap();
    let map = map.summary_map().unwrap();
    assert_eq!(map.len(), 34);
    for (key, value) in [
        ("Users", 0),
        ("Groups", 0),
        ("Roles", 0),
        ("Policies", 0),
        ("AccountAccessKeysPresent", 0),
        ("UsersQuota", 5000),
        ("GroupsQuota", 300),
        ("RolesQuota", 1000),
        ("PoliciesQuota", 1500),
        ("InstanceProfilesQuota", 1000),
        ("AccessKeysPerUserQuota", 2),
        ("AssumeRolePolicySizeQuota", 2048),
        ("PolicySizeQuota", 6144),
        ("UserPolicySizeQuota", 2048),
        ("GroupPolicySizeQuota", 5120),
        ("RolePolicySizeQuota", 10240),
        ("VersionsPerPolicyQuota", 5),
        ("PolicyVersionsInUseQuota", 10000),
        ("GlobalEndpointTokenVersion", 1),
    ] {
        assert_eq!(summary_value(map, key), value, "{key}");
    }
    // The root key localiam was started with is the default account's root key.
    let map = iam.get_account_summary().send().await.unwrap();
    assert_eq!(
        summary_value(map.summary_map().unwrap(), "AccountAccessKeysPresent"),
        1
    );
    // A root key the other account creates for itself.
    other.create_access_key().send().await.unwrap();

    iam.create_user().user_name("u1").send().await.unwrap();
    iam.create_user().user_name("u2").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("ip")
        .send()
        .await
        .unwrap();
    let arn = create_policy(&iam, "p", POLICY).await;
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("u1")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let map = iam.get_account_summary().send().await.unwrap();
    let map = map.summary_map().unwrap();
    for (key, value) in [
        ("Users", 2),
        ("Groups", 1),
        ("Roles", 1),
        ("InstanceProfiles", 1),
        ("Policies", 1),
        ("PolicyVersionsInUse", 2),
        ("MFADevices", 0),
        ("Providers", 0),
    ] {
        assert_eq!(summary_value(map, key), value, "{key}");
    }
    let map = other.get_account_summary().send().await.unwrap();
    let map = map.summary_map().unwrap();
    assert_eq!(summary_value(map, "AccountAccessKeysPresent"), 1);
    assert_eq!(summary_value(map, "Users"), 0);
    srv.stop().await;
}

#[tokio::test]
async fn authorization_details_filter_and_paginate() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let boundary = create_policy(&iam, "boundary", POLICY).await;
    iam.create_policy_version()
        .policy_arn(&boundary)
        .policy_document(POLICY)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.create_user()
        .user_name("alice")
        .permissions_boundary(&boundary)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("bob").send().await.unwrap();
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("app")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("devs")
        .policy_arn(&boundary)
        .send()
        .await
        .unwrap();

    let all = iam
        .get_account_authorization_details()
        .send()
        .await
        .unwrap();
    assert!(!all.is_truncated());
    let alice = &all.user_detail_list()[0];
    assert_eq!(alice.user_name(), Some("alice"));
    assert_eq!(alice.group_list(), ["devs"]);
    assert_eq!(
        alice
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary.as_str())
    );
    assert_eq!(all.user_detail_list().len(), 2);
    assert_eq!(all.group_detail_list().len(), 1);
    assert_eq!(
        all.group_detail_list()[0].attached_managed_policies()[0].policy_arn(),
        Some(boundary.as_str())
    );
    assert_eq!(all.role_detail_list().len(), 1);
    let policy = &all.policies()[0];
    assert_eq!(policy.attachment_count(), Some(1));
    assert_eq!(policy.permissions_boundary_usage_count(), Some(1));
    let versions: Vec<_> = policy
        .policy_version_list()
        .iter()
        .map(|v| (v.version_id().unwrap(), v.is_default_version()))
        .collect();
    assert_eq!(versions, [("v2", true), ("v1", false)]);
    assert!(policy.policy_version_list()[0]
        .document()
        .unwrap()
        .starts_with("%7B"));

    let only_roles = iam
        .get_account_authorization_details()
        .filter(EntityType::Role)
        .send()
        .await
        .unwrap();
    assert_eq!(only_roles.role_detail_list().len(), 1);
    assert!(only_roles.user_detail_list().is_empty() && only_roles.policies().is_empty());
    let aws_managed = iam
        .get_account_authorization_details()
        .filter(EntityType::AwsManagedPolicy)
        .send()
        .await
        .unwrap();
    assert!(aws_managed.policies().is_empty());

    // One item per page, across the combined list: 2 users, 1 group, 1 role, 1 policy.
    let mut marker = None;
    let mut pages = Vec::new();
    loop {
        let page = iam
            .get_account_authorization_details()
            .max_items(1)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        pages.push((
            page.user_detail_list().len(),
            page.group_detail_list().len(),
            page.role_detail_list().len(),
            page.policies().len(),
        ));
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_string);
    }
    assert_eq!(
        pages,
        [
            (1, 0, 0, 0),
            (1, 0, 0, 0),
            (0, 1, 0, 0),
            (0, 0, 1, 0),
            (0, 0, 0, 1)
        ]
    );
    assert_err(
        iam.get_account_authorization_details()
            .marker("not-a-marker")
            .send()
            .await,
        "ValidationError",
        400,
        "Invalid Marker.",
    );
    srv.stop().await;
}

/// The report's rows, parsed (no field of these tests holds a quote or a line break).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut fields = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut cur)),
                    c => cur.push(c),
                }
            }
            fields.push(cur);
            fields
        })
        .collect()
}

#[tokio::test]
async fn credential_report() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let err = expect_err(iam.get_credential_report().send().await);
    assert_eq!((err.code.as_str(), err.status), ("ReportNotPresent", 410));

    iam.create_user().user_name("a,b").send().await.unwrap();
    iam.create_user().user_name("carol").send().await.unwrap();
    iam.create_login_profile()
        .user_name("carol")
        .password("pw")
        .send()
        .await
        .unwrap();
    let first = iam
        .create_access_key()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    let first = first.access_key().unwrap().access_key_id().to_string();
    iam.update_access_key()
        .user_name("carol")
        .access_key_id(&first)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    iam.update_account_password_policy()
        .max_password_age(30)
        .send()
        .await
        .unwrap();

    let started = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(started.state(), Some(&ReportStateType::Started));
    assert_eq!(
        started.description(),
        Some("No report exists. Starting a new report generation task")
    );
    let again = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(again.state(), Some(&ReportStateType::Complete));
    assert_eq!(again.description(), None);

    let report = iam.get_credential_report().send().await.unwrap();
    assert_eq!(
        report.report_format(),
        Some(&aws_sdk_iam::types::ReportFormatType::TextCsv)
    );
    let generated = report.generated_time().unwrap();
    assert!(generated.secs() <= DateTime::from(std::time::SystemTime::now()).secs());
    let text = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    assert!(text.contains("\"a,b\""), "{text}");
    let rows = parse_csv(&text);
    assert_eq!(rows[0].len(), 22);
    assert_eq!(rows[0][0], "user");
    assert_eq!(rows[0][21], "cert_2_last_rotated");
    let root = &rows[1];
    assert_eq!(root[0], "<root_account>");
    assert_eq!(root[1], format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root"));
    assert_eq!(
        &root[3..8],
        [
            "not_supported",
            "no_information",
            "not_supported",
            "not_supported",
            "false"
        ]
    );
    assert_eq!(root[8], "true", "the configured root key");
    let plain = &rows[2];
    assert_eq!(plain[0], "a,b");
    assert_eq!(&plain[3..7], ["false", "N/A", "N/A", "N/A"]);
    assert_eq!(&plain[8..13], ["false", "N/A", "N/A", "N/A", "N/A"]);
    assert_eq!(&plain[18..22], ["false", "N/A", "false", "N/A"]);
    let carol = &rows[3];
    assert_eq!(carol[0], "carol");
    assert_eq!(carol[3], "true");
    assert_eq!(carol[4], "no_information");
    assert!(carol[5].ends_with("+00:00"), "{carol:?}");
    assert!(
        carol[6].ends_with("+00:00"),
        "rotation under MaxPasswordAge: {carol:?}"
    );
    // The active key comes first.
    assert_eq!(&carol[8..9], ["true"]);
    assert_eq!(&carol[10..13], ["N/A", "N/A", "N/A"]);
    assert_eq!(carol[13], "false");
    assert_eq!(rows.len(), 4);
    srv.stop().await;
}

/// Sets when the default account's report was generated, straight in the store.
async fn set_report_time(db: &str, at: i64) {
    let store = localiam::store::Store::open(db).await.unwrap();
    store
        .write(move |tx| tx.update_settings(DEFAULT_ACCOUNT, |s| s.credential_report = Some(at)))
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test]
async fn credential_report_expires_after_four_hours() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("report.db").to_string_lossy().into_owned();
    let five_hours_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 5 * 3600;
    set_report_time(&db, five_hours_ago).await;
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let err = expect_err(iam.get_credential_report().send().await);
    assert_eq!((err.code.as_str(), err.status), ("ReportExpired", 410));
    let started = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(started.state(), Some(&ReportStateType::Started));
    iam.get_credential_report().send().await.unwrap();
    srv.stop().await;
}

#[tokio::test]
async fn account_settings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("account.db");
    let db = db.to_str().unwrap();
    let generated = {
        let srv = BinaryServer::spawn(db);
        let iam = srv.iam();
        iam.create_account_alias()
            .account_alias("kept-alias")
            .send()
            .await
            .unwrap();
        iam.update_account_password_policy()
            .minimum_password_length(20)
            .send()
            .await
            .unwrap();
        iam.generate_credential_report().send().await.unwrap();
        iam.get_credential_report()
            .send()
            .await
            .unwrap()
            .generated_time()
            .unwrap()
            .secs()
    };
    let srv = BinaryServer::spawn(db);
    let iam = srv.iam();
    let aliases = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(aliases.account_aliases(), ["kept-alias"]);
    let policy = iam.get_account_password_policy().send().await.unwrap();
    assert_eq!(
        policy.password_policy().unwrap().minimum_password_length(),
        Some(20)
    );
    // The report generated before the restart is still there, with its time.
    let report = iam.get_credential_report().send().await.unwrap();
    assert_eq!(report.generated_time().unwrap().secs(), generated);
    let again = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(again.state(), Some(&ReportStateType::Complete));
}

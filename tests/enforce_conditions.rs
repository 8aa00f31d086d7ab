//! `--auth enforce` through the AWS SDK for Rust, the parts that need time, MFA or a second
//! account: `aws:CurrentTime`/`aws:EpochTime` conditions, `aws:MultiFactorAuthPresent` and
//! `aws:MultiFactorAuthAge` on MFA-authenticated sessions, and AssumeRole across two accounts (the
//! identity permission in the caller's account and the trust policy in the role's account).

use crate::common;

use common::*;
use localiam::config::AuthMode;

/// A user of the client's account with one inline policy (when given) and an access key.
async fn user(iam: &aws_sdk_iam::Client, name: &str, policy: Option<&str>) -> Caller {
    iam.create_user().user_name(name).send().await.unwrap();
    if let Some(p) = policy {
        iam.put_user_policy()
            .user_name(name)
            .policy_name("p")
            .policy_document(p)
            .send()
            .await
            .unwrap();
    }
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    Caller {
        key: k.access_key_id().to_string(),
        secret: k.secret_access_key().to_string(),
        token: None,
    }
}

fn session(c: &aws_sdk_sts::types::Credentials) -> Caller {
    Caller {
        key: c.access_key_id().to_string(),
        secret: c.secret_access_key().to_string(),
        token: Some(c.session_token().to_string()),
    }
}

fn policy(statements: serde_json::Value) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn denied(who: &str, action: &str, resource: &str) -> String {
    format!(
        "User: {who} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
    )
}

#[tokio::test]
async fn time_conditions_follow_the_clock() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    let now = time::OffsetDateTime::now_utc();
    let past = (now - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let future = (now + time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let epoch = now.unix_timestamp();
    // ListUsers until an hour ago (expired), ListRoles from an hour ago (in force), ListGroups in a
    // window around now given as epoch seconds, ListPolicies only after an hour from now.
    let doc = policy(serde_json::json!([
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:CurrentTime": past}}},
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": past}}},
        {"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"aws:EpochTime": (epoch - 600).to_string()},
                       "NumericLessThan": {"aws:EpochTime": (epoch + 600).to_string()}}},
        {"Effect": "Allow", "Action": "iam:ListPolicies", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": future}}},
    ]));
    let tim = user(&root, "tim", Some(&doc)).await;
    let iam = tim.iam(&srv);
    iam.list_roles().send().await.unwrap();
    iam.list_groups().send().await.unwrap();
    let me = "arn:aws:iam::000000000000:user/tim";
    assert_err(
        iam.list_users().send().await,
        "AccessDenied",
        403,
        &denied(me, "iam:ListUsers", "arn:aws:iam::000000000000:user/"),
    );
    assert_err(
        iam.list_policies().send().await,
        "AccessDenied",
        403,
        &denied(me, "iam:ListPolicies", "arn:aws:iam::000000000000:policy/"),
    );
    srv.stop().await;
}

#[tokio::test]
async fn mfa_conditions_need_an_mfa_session_young_enough() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    // ListUsers with MFA at most an hour old; ListGroups with MFA present; ListRoles with an
    // impossible age (below 0); ListPolicies without MFA (an absent key passes `…IfExists`).
    // GetSessionToken itself needs no permission.
    let doc = policy(serde_json::json!([
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}},
        {"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "0"}}},
        {"Effect": "Allow", "Action": "iam:ListPolicies", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
    ]));
    let mia = user(&root, "mia", Some(&doc)).await;
    let dev = root
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("mia-phone")
        .send()
        .await
        .unwrap();
    let dev = dev.virtual_mfa_device().unwrap();
    let serial = dev.serial_number().to_string();
    let seed = String::from_utf8(dev.base32_string_seed().unwrap().as_ref().to_vec()).unwrap();
    let s = totp_step();
    root.enable_mfa_device()
        .user_name("mia")
        .serial_number(&serial)
        .authentication_code1(totp(&seed, s - 1))
        .authentication_code2(totp(&seed, s))
        .send()
        .await
        .unwrap();

    // Long-term keys: no MFA, so neither key is in the request.
    let me = "arn:aws:iam::000000000000:user/mia";
    let plain = mia.iam(&srv);
    assert_err(
        plain.list_users().send().await,
        "AccessDenied",
        403,
        &denied(me, "iam:ListUsers", "arn:aws:iam::000000000000:user/"),
    );
    assert_err(
        plain.list_groups().send().await,
        "AccessDenied",
        403,
        &denied(me, "iam:ListGroups", "arn:aws:iam::000000000000:group/"),
    );
    // ...IfExists: an absent key passes.
    plain.list_policies().send().await.unwrap();

    // A session without MFA: present "false", no age.
    let no_mfa = mia.sts(&srv).get_session_token().send().await.unwrap();
    let no_mfa = session(no_mfa.credentials().unwrap()).iam(&srv);
    assert_code(no_mfa.list_users().send().await, "AccessDenied", 403);
    assert_code(no_mfa.list_groups().send().await, "AccessDenied", 403);
    no_mfa.list_policies().send().await.unwrap();

    // A session with MFA: present, and a few seconds old.
    let with_mfa = mia
        .sts(&srv)
        .get_session_token()
        .serial_number(&serial)
        .token_code(totp(&seed, s + 1))
        .send()
        .await
        .unwrap();
    let with_mfa = session(with_mfa.credentials().unwrap()).iam(&srv);
    with_mfa.list_users().send().await.unwrap();
    with_mfa.list_groups().send().await.unwrap();
    assert_code(with_mfa.list_roles().send().await, "AccessDenied", 403);
    assert_code(with_mfa.list_policies().send().await, "AccessDenied", 403);

    // The decision log names the context keys the caller's policies read.
    let r = srv
        .admin(
            "GET",
            "/_localiam/decisions?action=iam:ListRoles&decision=ImplicitDeny",
            b"",
        )
        .await;
    let (status, body) = (r.status, r.body);
    assert_eq!(status, 200, "{body}");
    let log: serde_json::Value = serde_json::from_str(&body).unwrap();
    let keys = &log["decisions"][0]["context_keys"];
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k.as_str() == Some("aws:MultiFactorAuthAge")),
        "{log}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn assume_role_across_two_accounts() {
    // Two accounts set up in `open` mode (a 12-digit key ID acts as that account's root), then
    // the same database served in `enforce`.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("two-accounts.db").display().to_string();
    let partner = "111111111111";
    {
        let db = db.clone();
        let srv = TestServer::start_with(move |c| {
            c.auth = AuthMode::Open;
            c.db = db;
        })
        .await;
        let b = srv.iam_with(partner, "anything", None);
        let trust_account = policy(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
             "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "shared-secret"}}}
        ]));
        b.create_role()
            .role_name("auditor")
            .assume_role_policy_document(trust_account)
            .send()
            .await
            .unwrap();
        b.attach_role_policy()
            .role_name("auditor")
            .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
            .send()
            .await
            .unwrap();
        // A trust policy naming one user of the other account.
        let trust_user = policy(serde_json::json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/carol"},
             "Action": "sts:AssumeRole"}
        ]));
        b.create_role()
            .role_name("carols")
            .assume_role_policy_document(trust_user)
            .send()
            .await
            .unwrap();
        b.create_user().user_name("local").send().await.unwrap();

        let a = srv.iam();
        let may_assume = policy(serde_json::json!([
            {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": format!("arn:aws:iam::{partner}:role/*")}
        ]));
        user(&a, "bob", Some(&may_assume)).await;
        user(&a, "carol", None).await;
        srv.stop().await;
    }
    // Secrets are shown once: the users' keys are created under enforce, by the root.
    let srv = TestServer::start_with(move |c| {
        c.auth = AuthMode::Enforce;
        c.db = db;
    })
    .await;
    let a = srv.iam();
    let key = |name: &'static str| {
        let a = a.clone();
        async move {
            let k = a.create_access_key().user_name(name).send().await.unwrap();
            let k = k.access_key().unwrap();
            Caller {
                key: k.access_key_id().to_string(),
                secret: k.secret_access_key().to_string(),
                token: None,
            }
        }
    };
    let bob = key("bob").await;
    let carol = key("carol").await;
    let auditor = format!("arn:aws:iam::{partner}:role/auditor");

    // Bob's policy allows the role and the trust policy admits his account with the ExternalId.
    let out = bob
        .sts(&srv)
        .assume_role()
        .role_arn(&auditor)
        .role_session_name("audit")
        .external_id("shared-secret")
        .send()
        .await
        .unwrap();
    let s = session(out.credentials().unwrap());
    let who = s.sts(&srv).get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(partner));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{partner}:assumed-role/auditor/audit").as_str())
    );
    // The session reads the other account (its own), and only reads.
    let users = s.iam(&srv).list_users().send().await.unwrap();
    let names: Vec<&str> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["local"]);
    assert_err(
        s.iam(&srv).create_user().user_name("x").send().await,
        "AccessDenied",
        403,
        &denied(
            &format!("arn:aws:sts::{partner}:assumed-role/auditor/audit"),
            "iam:CreateUser",
            &format!("arn:aws:iam::{partner}:user/x"),
        ),
    );

    // Without the ExternalId the trust policy does not admit him.
    assert_code(
        bob.sts(&srv)
            .assume_role()
            .role_arn(&auditor)
            .role_session_name("audit")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    // Carol has no identity permission: across accounts the trust policy alone is not enough,
    // even where it names her.
    for role in ["auditor", "carols"] {
        let e = assert_code(
            carol
                .sts(&srv)
                .assume_role()
                .role_arn(format!("arn:aws:iam::{partner}:role/{role}"))
                .role_session_name("carol-session")
                .external_id("shared-secret")
                .send()
                .await,
            "AccessDenied",
            403,
        );
        let message = e.message;
        assert!(
            message.starts_with(&format!(
                "User: arn:aws:iam::000000000000:user/carol is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{partner}:role/{role}"
            )),
            "{message}"
        );
    }
    // Given the permission, the role that names her admits her.
    a.put_user_policy()
        .user_name("carol")
        .policy_name("p")
        .policy_document(policy(serde_json::json!([
            {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": format!("arn:aws:iam::{partner}:role/carols")}
        ])))
        .send()
        .await
        .unwrap();
    carol
        .sts(&srv)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{partner}:role/carols"))
        .role_session_name("carol-session")
        .send()
        .await
        .unwrap();
    // But not the role trusting the whole account, which her policy does not name.
    assert_code(
        carol
            .sts(&srv)
            .assume_role()
            .role_arn(&auditor)
            .role_session_name("carol-session")
            .external_id("shared-secret")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    srv.stop().await;
}

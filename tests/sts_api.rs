//! STS temporary credentials through the AWS SDK for Rust: AssumeRole, GetSessionToken and
//! GetFederationToken credentials acting as their principals, chaining rules, session tags,
//! wrong and expired tokens, and the trust policy decided in `enforce`/`audit` only.

use crate::common;

use aws_sdk_sts::types::Tag;
use common::*;
use localiam::config::AuthMode;

fn trust(principal: &str, actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions}]
    })
    .to_string()
}

struct Creds {
    key: String,
    secret: String,
    token: String,
}

fn creds_of(c: &aws_sdk_sts::types::Credentials) -> Creds {
    Creds {
        key: c.access_key_id().to_string(),
        secret: c.secret_access_key().to_string(),
        token: c.session_token().to_string(),
    }
}

async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> Creds {
    iam.create_user().user_name(name).send().await.unwrap();
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    Creds {
        key: k.access_key_id().to_string(),
        secret: k.secret_access_key().to_string(),
        token: String::new(),
    }
}

#[tokio::test]
async fn assumed_role_credentials_act_as_the_role() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    let arn = create_role(&iam, "app", &trust("000000000000", &["sts:AssumeRole"])).await;
    let out = srv
        .sts()
        .assume_role()
        .role_arn(&arn)
        .role_session_name("build-42")
        .send()
        .await
        .unwrap();
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::000000000000:assumed-role/app/build-42"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":build-42"));
    let c = creds_of(out.credentials().unwrap());
    assert!(c.key.starts_with("ASIA") && c.key.len() == 20, "{}", c.key);
    assert_eq!(c.secret.len(), 40);

    let as_role = srv.sts_with(&c.key, &c.secret, Some(&c.token));
    let me = as_role.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    assert_eq!(me.account(), Some("000000000000"));

    // A wrong token, or none, is refused.
    let wrong = srv.sts_with(&c.key, &c.secret, Some("not-the-token"));
    assert_code(
        wrong.get_caller_identity().send().await,
        "InvalidClientTokenId",
        403,
    );
    let none = srv.sts_with(&c.key, &c.secret, None);
    assert_code(
        none.get_caller_identity().send().await,
        "InvalidClientTokenId",
        403,
    );

    // The role's credentials were used: GetRole shows it (written within a few seconds).
    let mut used = None;
    for _ in 0..50 {
        let r = iam.get_role().role_name("app").send().await.unwrap();
        used = r
            .role()
            .and_then(|r| r.role_last_used())
            .and_then(|u| u.region().map(str::to_string));
        if used.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(used.as_deref(), Some("us-east-1"));
    srv.stop().await;
}

#[tokio::test]
async fn role_chaining_and_session_tags() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let t = trust("000000000000", &["sts:AssumeRole", "sts:TagSession"]);
    let first = create_role(&iam, "first", &t).await;
    let second = create_role(&iam, "second", &t).await;
    iam.update_role()
        .role_name("second")
        .max_session_duration(14_400)
        .send()
        .await
        .unwrap();
    let out = srv
        .sts()
        .assume_role()
        .role_arn(&first)
        .role_session_name("one")
        .tags(Tag::builder().key("team").value("red").build().unwrap())
        .transitive_tag_keys("team")
        .source_identity("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(out.source_identity(), Some("alice"));
    let c = creds_of(out.credentials().unwrap());
    let chained = srv.sts_with(&c.key, &c.secret, Some(&c.token));

    // At most an hour when chaining, even where the role allows more.
    assert_err(
        chained
            .assume_role()
            .role_arn(&second)
            .role_session_name("two")
            .duration_seconds(7200)
            .send()
            .await,
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
    // A transitive tag of the calling session cannot be set again.
    assert_err(
        chained
            .assume_role()
            .role_arn(&second)
            .role_session_name("two")
            .tags(Tag::builder().key("Team").value("blue").build().unwrap())
            .send()
            .await,
        "InvalidParameterValue",
        400,
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
    );
    let two = chained
        .assume_role()
        .role_arn(&second)
        .role_session_name("two")
        .send()
        .await
        .unwrap();
    // The source identity is kept across chaining.
    assert_eq!(two.source_identity(), Some("alice"));

    // Without chaining, the role's MaxSessionDuration is the limit.
    assert_err(
        srv.sts()
            .assume_role()
            .role_arn(&first)
            .role_session_name("long")
            .duration_seconds(7200)
            .send()
            .await,
        "ValidationError",
        400,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    );
    srv.sts()
        .assume_role()
        .role_arn(&second)
        .role_session_name("long")
        .duration_seconds(14_400)
        .send()
        .await
        .unwrap();

    // A role that does not exist is AccessDenied.
    assert_err(
        srv.sts()
            .assume_role()
            .role_arn("arn:aws:iam::000000000000:role/missing")
            .role_session_name("x1")
            .send()
            .await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/missing",
    );
    // Session policies are validated.
    assert_code(
        srv.sts()
            .assume_role()
            .role_arn(&first)
            .role_session_name("pol")
            .policy(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow"}}"#)
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    srv.stop().await;
}

#[tokio::test]
async fn session_and_federation_tokens() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    let alice = user_with_key(&iam, "alice").await;
    let as_alice = srv.sts_with(&alice.key, &alice.secret, None);
    let st = as_alice
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let c = creds_of(st.credentials().unwrap());
    let session = srv.sts_with(&c.key, &c.secret, Some(&c.token));
    let me = session.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::000000000000:user/alice"));
    // Temporary credentials cannot get more.
    assert_err(
        session.get_session_token().send().await,
        "AccessDenied",
        403,
        "Cannot call GetSessionToken with session credentials",
    );

    let fed = as_alice
        .get_federation_token()
        .name("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fed.federated_user().unwrap().arn(),
        "arn:aws:sts::000000000000:federated-user/bob"
    );
    assert_eq!(
        fed.federated_user().unwrap().federated_user_id(),
        "000000000000:bob"
    );
    let f = creds_of(fed.credentials().unwrap());
    let me = srv
        .sts_with(&f.key, &f.secret, Some(&f.token))
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::000000000000:federated-user/bob")
    );

    // A user's session ends with the user.
    iam.delete_access_key()
        .user_name("alice")
        .access_key_id(&alice.key)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("alice").send().await.unwrap();
    assert_code(
        session.get_caller_identity().send().await,
        "InvalidClientTokenId",
        403,
    );
    srv.stop().await;
}

#[tokio::test]
async fn trust_policies_decide_in_enforce_and_audit_only() {
    for mode in [
        AuthMode::Open,
        AuthMode::Strict,
        AuthMode::Audit,
        AuthMode::Enforce,
    ] {
        let srv = TestServer::start_auth(mode).await;
        let iam = srv.iam();
        let alice = user_with_key(&iam, "alice").await;
        let bob = user_with_key(&iam, "bob").await;
        let only_alice = trust("arn:aws:iam::000000000000:user/alice", &["sts:AssumeRole"]);
        let arn = create_role(&iam, "guarded", &only_alice).await;
        let assume = |c: &Creds| {
            srv.sts_with(&c.key, &c.secret, None)
                .assume_role()
                .role_arn(&arn)
                .role_session_name("s1")
                .send()
        };
        assume(&alice).await.unwrap();
        let as_bob = assume(&bob).await;
        let as_root = srv
            .sts()
            .assume_role()
            .role_arn(&arn)
            .role_session_name("s1")
            .send()
            .await;
        // Session tags need sts:TagSession in the trust policy.
        let tagged = srv
            .sts_with(&alice.key, &alice.secret, None)
            .assume_role()
            .role_arn(&arn)
            .role_session_name("s1")
            .tags(Tag::builder().key("k").value("v").build().unwrap())
            .send()
            .await;
        if mode == AuthMode::Enforce {
            assert_err(
                as_bob,
                "AccessDenied",
                403,
                "User: arn:aws:iam::000000000000:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/guarded",
            );
            assert_err(
                as_root,
                "AccessDenied",
                403,
                "Roles may not be assumed by root accounts.",
            );
            assert_err(
                tagged,
                "AccessDenied",
                403,
                "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sts:TagSession on resource: arn:aws:iam::000000000000:role/guarded",
            );
            // The trust policy's denials are in the decision log.
            let r = srv
                .admin(
                    "GET",
                    "/_localiam/decisions?principal=arn:aws:iam::000000000000:user/bob",
                    b"",
                )
                .await;
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(v["decisions"][0]["action"], "sts:AssumeRole", "{v}");
            assert_eq!(
                v["decisions"][0]["resource"],
                "arn:aws:iam::000000000000:role/guarded"
            );
            // The policy it considered: the role's trust policy.
            assert_eq!(
                v["decisions"][0]["considered"],
                serde_json::json!([{"policy": "guarded trust policy", "source": "resource", "arn": "arn:aws:iam::000000000000:role/guarded"}]),
                "{v}"
            );
        } else {
            // open and strict: authentication only; audit: the denial is logged, not enforced.
            as_bob.unwrap();
            as_root.unwrap();
            tagged.unwrap();
        }
        srv.stop().await;
    }
}

#[tokio::test]
async fn an_expired_session_is_expired_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sts.db");
    let db = db.to_str().unwrap().to_string();
    let c = {
        let srv = BinaryServer::spawn(&db);
        let iam = srv.iam();
        create_role(&iam, "short", &trust("000000000000", &["sts:AssumeRole"])).await;
        let sts = sts_client(&srv.url(), "000000000000", "x", None);
        let out = sts
            .assume_role()
            .role_arn("arn:aws:iam::000000000000:role/short")
            .role_session_name("brief")
            .duration_seconds(900)
            .send()
            .await
            .unwrap();
        let c = creds_of(out.credentials().unwrap());
        let me = sts_client(&srv.url(), &c.key, &c.secret, Some(&c.token))
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert!(me.arn().unwrap().ends_with("assumed-role/short/brief"));
        c
    };
    // Fifteen minutes pass (the session's record is moved back in time while the server is down).
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    let n = sqlx::query(
        "UPDATE records SET body = json_set(body, '$.expiration', json_extract(body, '$.expiration') - 1000) \
         WHERE kind = 'session' AND id = ?",
    )
    .bind(&c.key)
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(n, 1);
    pool.close().await;

    let srv = BinaryServer::spawn(&db);
    let e = assert_code(
        sts_client(&srv.url(), &c.key, &c.secret, Some(&c.token))
            .get_caller_identity()
            .send()
            .await,
        "ExpiredToken",
        403,
    );
    assert_eq!(
        e.message,
        "The security token included in the request is expired"
    );
}

fn sts_client(url: &str, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            key,
            secret,
            token.map(str::to_string),
            None,
            "test",
        ))
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

#[tokio::test]
async fn decode_authorization_message_assume_root_and_delegated_tokens() {
    let srv = TestServer::start().await;
    let sts = srv.sts();
    // A message localiam encoded decodes to its JSON; anything else is refused.
    let doc = r#"{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]}}"#;
    let encoded = localiam::authz::encode_authorization_message(doc);
    let out = sts
        .decode_authorization_message()
        .encoded_message(encoded)
        .send()
        .await
        .unwrap();
    assert_eq!(out.decoded_message(), Some(doc));
    assert_code(
        sts.decode_authorization_message()
            .encoded_message("garbage")
            .send()
            .await,
        "InvalidAuthorizationMessageException",
        400,
    );
    // A standalone account has no organization: no root sessions, no trade-in tokens.
    let e = assert_code(
        sts.assume_root()
            .target_principal("111122223333")
            .task_policy_arn(
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn("arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
                    .build(),
            )
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert!(
        e.message
            .contains("sts:AssumeRoot on resource: arn:aws:iam::111122223333:root"),
        "{e:?}"
    );
    assert_code(
        sts.get_delegated_access_token()
            .trade_in_token("x".repeat(64))
            .send()
            .await,
        "ExpiredTradeInTokenException",
        400,
    );
    srv.stop().await;
}

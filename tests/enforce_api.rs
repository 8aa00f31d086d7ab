//! `--auth enforce` through the AWS SDK for Rust: real users, groups, roles and sessions can do
//! exactly what their policies allow, and are refused with AWS's messages; `audit` lets every
//! call through.

use crate::common;

use common::*;
use localiam::config::AuthMode;

const ACCOUNT: &str = "000000000000";

async fn user(srv: &TestServer, name: &str, path: &str, policy: Option<&str>) -> Caller {
    let iam = srv.iam();
    iam.create_user()
        .user_name(name)
        .path(path)
        .send()
        .await
        .unwrap();
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

fn allow(action: &str, resource: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resource}]})
    .to_string()
}

#[tokio::test]
async fn identity_policies_decide_with_aws_messages() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();

    // No policy: nothing is allowed, and the message names the resource as AWS does.
    let nobody = user(&srv, "nobody", "/", None).await;
    assert_err(
        nobody.iam(&srv).create_user().user_name("x").path("/team/").send().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/nobody is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/team/x because no identity-based policy allows the iam:CreateUser action",
    );
    assert_err(
        nobody.iam(&srv).list_users().send().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/nobody is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ because no identity-based policy allows the iam:ListUsers action",
    );
    // GetCallerIdentity needs no permission.
    nobody.sts(&srv).get_caller_identity().send().await.unwrap();
    // A malformed request is a ValidationError before it is decided, as on AWS.
    assert_code(
        nobody
            .iam(&srv)
            .create_user()
            .user_name("x".repeat(65))
            .send()
            .await,
        "ValidationError",
        400,
    );

    // An inline policy allowing users under /team/ only.
    let admin = user(
        &srv,
        "admin",
        "/ops/",
        Some(&allow(
            "iam:*User*",
            "arn:aws:iam::000000000000:user/team/*",
        )),
    )
    .await;
    let a = admin.iam(&srv);
    a.create_user()
        .user_name("t1")
        .path("/team/")
        .send()
        .await
        .unwrap();
    a.get_user().user_name("t1").send().await.unwrap();
    assert_err(
        a.get_user().user_name("admin").send().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/ops/admin is not authorized to perform: iam:GetUser on resource: arn:aws:iam::000000000000:user/ops/admin because no identity-based policy allows the iam:GetUser action",
    );

    // An explicit deny beats the allow.
    root.put_user_policy()
        .user_name("admin")
        .policy_name("deny")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    assert_err(
        a.delete_user().user_name("t1").send().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/ops/admin is not authorized to perform: iam:DeleteUser on resource: arn:aws:iam::000000000000:user/team/t1 with an explicit deny in an identity-based policy",
    );

    // A permissions boundary limits even an administrator.
    root.attach_user_policy()
        .user_name("admin")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    a.create_group().group_name("g1").send().await.unwrap();
    root.put_user_permissions_boundary()
        .user_name("admin")
        .permissions_boundary("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    a.get_group().group_name("g1").send().await.unwrap();
    assert_err(
        a.create_group().group_name("g2").send().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/ops/admin is not authorized to perform: iam:CreateGroup on resource: arn:aws:iam::000000000000:group/g2 because no permissions boundary allows the iam:CreateGroup action",
    );
    srv.stop().await;
}

#[tokio::test]
async fn groups_conditions_and_tags() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    let dev = user(&srv, "dev", "/", None).await;
    root.create_group().group_name("devs").send().await.unwrap();
    root.add_user_to_group()
        .group_name("devs")
        .user_name("dev")
        .send()
        .await
        .unwrap();
    // A group's managed policy: create roles only when tagged team=red (aws:RequestTag).
    let p = root
        .create_policy()
        .policy_name("tagged-roles")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"red"}}},{"Effect":"Allow","Action":"iam:TagRole","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    root.attach_group_policy()
        .group_name("devs")
        .policy_arn(p.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let d = dev.iam(&srv);
    assert_code(
        d.create_role()
            .role_name("untagged")
            .assume_role_policy_document(&trust)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    d.create_role()
        .role_name("tagged")
        .assume_role_policy_document(&trust)
        .tags(iam_tag("team", "red"))
        .send()
        .await
        .unwrap();
    // A condition on the resource's tags (iam:ResourceTag).
    root.put_group_policy()
        .group_name("devs")
        .policy_name("read-red")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/team":"red"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    d.get_role().role_name("tagged").send().await.unwrap();
    root.create_role()
        .role_name("blue")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .unwrap();
    assert_code(
        d.get_role().role_name("blue").send().await,
        "AccessDenied",
        403,
    );
    srv.stop().await;
}

#[tokio::test]
async fn role_sessions_session_policies_and_cross_account() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    let account_trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    root.create_role()
        .role_name("reader")
        .assume_role_policy_document(&account_trust)
        .send()
        .await
        .unwrap();
    root.attach_role_policy()
        .role_name("reader")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .unwrap();

    // The trust policy admits the account: the user's own policies must allow sts:AssumeRole.
    let alice = user(&srv, "alice", "/", None).await;
    assert_err(
        alice
            .sts(&srv)
            .assume_role()
            .role_arn("arn:aws:iam::000000000000:role/reader")
            .role_session_name("s1")
            .send()
            .await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/reader because no identity-based policy allows the sts:AssumeRole action",
    );
    root.put_user_policy()
        .user_name("alice")
        .policy_name("assume")
        .policy_document(allow(
            "sts:AssumeRole",
            "arn:aws:iam::000000000000:role/reader",
        ))
        .send()
        .await
        .unwrap();
    let out = alice
        .sts(&srv)
        .assume_role()
        .role_arn("arn:aws:iam::000000000000:role/reader")
        .role_session_name("s1")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let session = Caller {
        key: c.access_key_id().to_string(),
        secret: c.secret_access_key().to_string(),
        token: Some(c.session_token().to_string()),
    };
    // The role session reads but cannot write.
    session.iam(&srv).list_roles().send().await.unwrap();
    assert_err(
        session.iam(&srv).create_user().user_name("x").send().await,
        "AccessDenied",
        403,
        "User: arn:aws:sts::000000000000:assumed-role/reader/s1 is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/x because no identity-based policy allows the iam:CreateUser action",
    );

    // A session policy narrows the role further.
    let narrowed = alice
        .sts(&srv)
        .assume_role()
        .role_arn("arn:aws:iam::000000000000:role/reader")
        .role_session_name("s2")
        .policy(allow("iam:ListRoles", "*"))
        .send()
        .await
        .unwrap();
    let c = narrowed.credentials().unwrap();
    let narrow = Caller {
        key: c.access_key_id().to_string(),
        secret: c.secret_access_key().to_string(),
        token: Some(c.session_token().to_string()),
    };
    narrow.iam(&srv).list_roles().send().await.unwrap();
    assert_err(
        narrow.iam(&srv).list_users().send().await,
        "AccessDenied",
        403,
        "User: arn:aws:sts::000000000000:assumed-role/reader/s2 is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ because no session policy allows the iam:ListUsers action",
    );
    srv.stop().await;
}

#[tokio::test]
async fn audit_lets_every_call_through() {
    let srv = TestServer::start_auth(AuthMode::Audit).await;
    let nobody = user(&srv, "nobody", "/", None).await;
    nobody
        .iam(&srv)
        .create_user()
        .user_name("made-anyway")
        .send()
        .await
        .unwrap();
    srv.iam()
        .get_user()
        .user_name("made-anyway")
        .send()
        .await
        .unwrap();
    srv.stop().await;
}

async fn get_json(srv: &TestServer, path: &str) -> (u16, serde_json::Value) {
    // Outside open, the decision log answers only the default account's root.
    assert_eq!(srv.raw().get(path).await.status, 403);
    let r = srv.admin("GET", path, b"").await;
    (r.status, serde_json::from_str(&r.body).unwrap_or_default())
}

#[tokio::test]
async fn decisions_explain_denials_and_propose_a_least_privilege_policy() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    let admin = user(&srv, "builder", "/", None).await;
    root.attach_user_policy()
        .user_name("builder")
        .policy_arn("arn:aws:iam::aws:policy/IAMFullAccess")
        .send()
        .await
        .unwrap();
    let b = admin.iam(&srv);
    // A dozen calls.
    b.create_user().user_name("u1").send().await.unwrap();
    b.get_user().user_name("u1").send().await.unwrap();
    b.tag_user()
        .user_name("u1")
        .tags(iam_tag("k", "v"))
        .send()
        .await
        .unwrap();
    b.list_users().send().await.unwrap();
    b.create_group().group_name("g1").send().await.unwrap();
    b.add_user_to_group()
        .group_name("g1")
        .user_name("u1")
        .send()
        .await
        .unwrap();
    b.list_groups_for_user()
        .user_name("u1")
        .send()
        .await
        .unwrap();
    b.remove_user_from_group()
        .group_name("g1")
        .user_name("u1")
        .send()
        .await
        .unwrap();
    b.delete_group().group_name("g1").send().await.unwrap();
    b.untag_user()
        .user_name("u1")
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    b.delete_user().user_name("u1").send().await.unwrap();
    b.list_roles().send().await.unwrap();

    // A denial is explained.
    let nobody = user(&srv, "nobody", "/", None).await;
    assert_code(
        nobody.iam(&srv).list_roles().send().await,
        "AccessDenied",
        403,
    );
    let (status, v) = get_json(
        &srv,
        "/_localiam/decisions?principal=arn:aws:iam::000000000000:user/nobody&decision=deny",
    )
    .await;
    assert_eq!(status, 200);
    let d = &v["decisions"][0];
    assert_eq!(d["action"], "iam:ListRoles");
    assert_eq!(d["resource"], "arn:aws:iam::000000000000:role/");
    assert_eq!(d["decision"], "ImplicitDeny");
    assert_eq!(
        d["reason"],
        "because no identity-based policy allows the iam:ListRoles action"
    );
    assert_eq!(d["considered"], serde_json::json!([]), "{d}");
    assert_eq!(d["matched"], serde_json::json!([]), "{d}");

    // Every decision names the policies it considered and the statements that matched.
    let (_, v) = get_json(
        &srv,
        "/_localiam/decisions?principal=arn:aws:iam::000000000000:user/builder&action=iam:CreateUser",
    )
    .await;
    let d = &v["decisions"][0];
    assert_eq!(d["decision"], "Allow", "{d}");
    assert_eq!(
        d["considered"],
        serde_json::json!([{"policy": "IAMFullAccess", "source": "aws-managed", "arn": "arn:aws:iam::aws:policy/IAMFullAccess"}]),
        "{d}"
    );
    assert_eq!(d["matched"][0]["policy"], "IAMFullAccess", "{d}");
    assert_eq!(d["matched"][0]["source"], "aws-managed", "{d}");
    assert_eq!(d["matched"][0]["effect"], "Allow", "{d}");
    assert!(d["context"].is_object(), "{d}");

    // The proposal, applied to a fresh user, allows exactly those calls.
    let (status, v) = get_json(
        &srv,
        "/_localiam/decisions/policy?principal=arn:aws:iam::000000000000:user/builder",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let policy = v["policy"].to_string();
    let fresh = user(&srv, "fresh", "/", Some(&policy)).await;
    let f = fresh.iam(&srv);
    f.create_user().user_name("u1").send().await.unwrap();
    f.get_user().user_name("u1").send().await.unwrap();
    f.list_users().send().await.unwrap();
    f.list_roles().send().await.unwrap();
    f.delete_user().user_name("u1").send().await.unwrap();
    // Nothing more.
    assert_code(
        f.create_user().user_name("u2").send().await,
        "AccessDenied",
        403,
    );
    assert_code(
        f.create_role()
            .role_name("r")
            .assume_role_policy_document("{}")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    srv.stop().await;
}

#[tokio::test]
async fn not_action_source_ip_and_external_id() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    // Everything but iam:Delete*, from the loopback network only.
    let carol = user(
        &srv,
        "carol",
        "/",
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:Delete*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}"#,
        ),
    )
    .await;
    let c = carol.iam(&srv);
    c.create_group().group_name("team").send().await.unwrap();
    assert_err(
        c.delete_group().group_name("team").send().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/carol is not authorized to perform: iam:DeleteGroup on resource: arn:aws:iam::000000000000:group/team because no identity-based policy allows the iam:DeleteGroup action",
    );
    // From elsewhere nothing is allowed.
    root.put_user_policy()
        .user_name("carol")
        .policy_name("p")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    assert_code(c.list_groups().send().await, "AccessDenied", 403);

    // A trust policy that requires an ExternalId.
    root.create_role()
        .role_name("partner")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/carol"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    let sts = carol.sts(&srv);
    assert_code(
        sts.assume_role()
            .role_arn("arn:aws:iam::000000000000:role/partner")
            .role_session_name("x1")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_code(
        sts.assume_role()
            .role_arn("arn:aws:iam::000000000000:role/partner")
            .role_session_name("x1")
            .external_id("wrong")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    sts.assume_role()
        .role_arn("arn:aws:iam::000000000000:role/partner")
        .role_session_name("x1")
        .external_id("s3cret")
        .send()
        .await
        .unwrap();
    srv.stop().await;
}

/// A caller's repeated calls reuse what its policies say about each action (the statements that
/// can apply, the context they read) only while its policies and its own keys are unchanged: a
/// tag, a new policy or a write elsewhere between two calls gives the decision AWS would.
#[tokio::test]
async fn repeated_calls_follow_changes_to_policies_and_tags() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    let blue_only = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Blue", "Effect": "Allow", "Action": "iam:GetUser",
         "Resource": "arn:aws:iam::*:user/${aws:username}",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
        {"Sid": "Net", "Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]})
    .to_string();
    let tess = user(&srv, "tess", "/", Some(&blue_only)).await;
    let get = || async { tess.iam(&srv).get_user().user_name("tess").send().await };
    let denied = "User: arn:aws:iam::000000000000:user/tess is not authorized to perform: iam:GetUser on resource: arn:aws:iam::000000000000:user/tess because no identity-based policy allows the iam:GetUser action";
    assert_err(get().await, "AccessDenied", 403, denied);
    assert_err(get().await, "AccessDenied", 403, denied);
    tess.iam(&srv).list_roles().send().await.unwrap();

    // Tagged: the same call is allowed, then refused again once the tag is gone.
    root.tag_user()
        .user_name("tess")
        .tags(iam_tag("team", "blue"))
        .send()
        .await
        .unwrap();
    get().await.unwrap();
    get().await.unwrap();
    // A write that does not concern her changes nothing.
    root.create_user().user_name("other").send().await.unwrap();
    get().await.unwrap();
    root.untag_user()
        .user_name("tess")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    assert_err(get().await, "AccessDenied", 403, denied);

    // The decision lists the context keys of the statements for its action only.
    let (_, v) = get_json(
        &srv,
        "/_localiam/decisions?principal=arn:aws:iam::000000000000:user/tess&action=iam:GetUser",
    )
    .await;
    let d = &v["decisions"][0];
    assert_eq!(d["decision"], "ImplicitDeny", "{d}");
    assert_eq!(
        d["context_keys"],
        serde_json::json!(["aws:username", "aws:PrincipalTag/team"]),
        "{d}"
    );
    assert!(d["context"].get("aws:sourceip").is_none(), "{d}");

    // A new policy: what the old one said about GetUser is forgotten.
    root.put_user_policy()
        .user_name("tess")
        .policy_name("p")
        .policy_document(allow("iam:GetUser", "*"))
        .send()
        .await
        .unwrap();
    get().await.unwrap();
    assert_code(
        tess.iam(&srv).list_roles().send().await,
        "AccessDenied",
        403,
    );
    let deny = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:Get*", "Resource": "*"}]})
    .to_string();
    root.put_user_policy()
        .user_name("tess")
        .policy_name("d")
        .policy_document(deny)
        .send()
        .await
        .unwrap();
    assert_err(
        get().await,
        "AccessDenied",
        403,
        "User: arn:aws:iam::000000000000:user/tess is not authorized to perform: iam:GetUser on resource: arn:aws:iam::000000000000:user/tess with an explicit deny in an identity-based policy",
    );
}

/// A context that only holds the caller's address and region is kept between calls (by the
/// thread that built it) for that address and region only: a call signed for another region is
/// decided with its own.
#[tokio::test]
async fn calls_from_another_region_are_decided_with_it() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let home = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"},
                       "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]})
    .to_string();
    let rita = user(&srv, "rita", "/", Some(&home)).await;
    let here = rita.iam(&srv);
    let there = aws_sdk_iam::Client::from_conf(
        here.config()
            .to_builder()
            .region(aws_sdk_iam::config::Region::new("eu-west-1"))
            .build(),
    );
    for _ in 0..3 {
        here.get_user().user_name("rita").send().await.unwrap();
        assert_code(
            there.get_user().user_name("rita").send().await,
            "AccessDenied",
            403,
        );
    }
    // Decisions made in a row with one context record each its own resource.
    srv.iam()
        .create_user()
        .user_name("other")
        .send()
        .await
        .unwrap();
    for name in ["rita", "other", "other", "rita"] {
        here.get_user().user_name(name).send().await.unwrap();
    }
    let (_, v) = get_json(
        &srv,
        "/_localiam/decisions?principal=arn:aws:iam::000000000000:user/rita&limit=5",
    )
    .await;
    let seen: Vec<(&str, &str)> = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["resource"].as_str().unwrap(),
                d["context"]["aws:requestedregion"][0].as_str().unwrap(),
            )
        })
        .collect();
    let user = |n: &str| format!("arn:aws:iam::000000000000:user/{n}");
    let (rita, other) = (user("rita"), user("other"));
    assert_eq!(
        seen,
        [
            (rita.as_str(), "us-east-1"),
            (other.as_str(), "us-east-1"),
            (other.as_str(), "us-east-1"),
            (rita.as_str(), "us-east-1"),
            (rita.as_str(), "eu-west-1"),
        ]
    );
}

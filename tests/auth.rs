//! Authentication modes (design notes §3): signature checks, strict mode's errors, open mode's
//! principals for unsigned requests and unknown keys.

use crate::common;

use common::*;

const SIGNATURE_MISMATCH_PREFIX: &str =
    "The request signature we calculated does not match the signature you provided.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    for mode in [AuthMode::Open, AuthMode::Strict] {
        let srv = TestServer::start_auth(mode).await;
        let e = assert_code(
            srv.sts_with(ROOT_KEY, "not-the-secret", None)
                .get_caller_identity()
                .send()
                .await,
            "SignatureDoesNotMatch",
            403,
        );
        assert!(
            e.message.starts_with(SIGNATURE_MISMATCH_PREFIX),
            "{mode:?}: {e:?}"
        );
        let e = assert_code(
            srv.iam_with(ROOT_KEY, "not-the-secret", None)
                .list_users()
                .send()
                .await,
            "SignatureDoesNotMatch",
            403,
        );
        assert!(e.message.starts_with(SIGNATURE_MISMATCH_PREFIX), "{e:?}");
        srv.stop().await;
    }
}

#[tokio::test]
async fn root_credentials_work_in_every_mode() {
    for mode in [
        AuthMode::Open,
        AuthMode::Strict,
        AuthMode::Audit,
        AuthMode::Enforce,
    ] {
        let srv = TestServer::start_auth(mode).await;
        let who = srv
            .sts()
            .get_caller_identity()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e:?}"));
        assert_eq!(
            who.arn(),
            Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root").as_str())
        );
        assert_eq!(who.account(), Some(DEFAULT_ACCOUNT));
        assert_eq!(who.user_id(), Some(DEFAULT_ACCOUNT));
        srv.iam()
            .list_users()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: {e:?}"));
        srv.stop().await;
    }
}

#[tokio::test]
async fn strict_unknown_key_is_invalid_client_token_id() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    for key in ["AKIAIOSFODNN7EXAMPLE", "123456789012"] {
        assert_err(
            srv.sts_with(key, "whatever", None)
                .get_caller_identity()
                .send()
                .await,
            "InvalidClientTokenId",
            403,
            INVALID_TOKEN,
        );
        assert_err(
            srv.iam_with(key, "whatever", None)
                .list_users()
                .send()
                .await,
            "InvalidClientTokenId",
            403,
            INVALID_TOKEN,
        );
    }
}

#[tokio::test]
async fn strict_unsigned_is_missing_authentication_token() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let raw = srv.raw();
    for params in [
        &[("Action", "ListUsers"), ("Version", "2010-05-08")][..],
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")][..],
    ] {
        let r = raw.post_form(params).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(
            r.code().as_deref(),
            Some("MissingAuthenticationToken"),
            "{}",
            r.body
        );
        assert_eq!(
            r.message().as_deref(),
            Some("Request is missing Authentication Token"),
            "{}",
            r.body
        );
        let g = raw.get_query(params).await;
        assert_eq!(g.status, 403, "{}", g.body);
        assert_eq!(g.code().as_deref(), Some("MissingAuthenticationToken"));
    }
}

#[tokio::test]
async fn strict_garbled_authorization_header_is_rejected() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let r = srv
        .raw()
        .post_with_headers(
            "/",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("authorization", "AWS4-HMAC-SHA256 garbage"),
            ],
            b"Action=ListUsers&Version=2010-05-08".to_vec(),
        )
        .await;
    // IAM's Common Errors: IncompleteSignature is HTTP 400.
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.code().as_deref(),
        Some("IncompleteSignature"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn open_unsigned_runs_as_default_root() {
    let srv = TestServer::start().await;
    let r = srv
        .raw()
        .post_form(&[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.tag("Arn").as_deref(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root").as_str())
    );
    assert_eq!(r.tag("Account").as_deref(), Some(DEFAULT_ACCOUNT));

    // Unsigned IAM writes work too, and land in the default account.
    let name = unique("unsigned");
    let c = srv
        .raw()
        .post_form(&[
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", &name),
        ])
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    let got = srv.iam().get_user().user_name(&name).send().await.unwrap();
    assert_eq!(
        got.user().unwrap().arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{name}")
    );
}

#[tokio::test]
async fn open_twelve_digit_key_selects_account() {
    let srv = TestServer::start().await;
    let sts = srv.sts_with("123456789012", "anything", None);
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("123456789012"));
    assert_eq!(who.arn(), Some("arn:aws:iam::123456789012:root"));

    // Accounts are separate: a user made in one is not visible from another.
    let name = unique("acct");
    let iam_a = srv.iam_with("123456789012", "anything", None);
    let created = iam_a.create_user().user_name(&name).send().await.unwrap();
    assert_eq!(
        created.user().unwrap().arn(),
        format!("arn:aws:iam::123456789012:user/{name}")
    );
    assert_code(
        srv.iam().get_user().user_name(&name).send().await,
        "NoSuchEntity",
        404,
    );
    let iam_b = srv.iam_with("210987654321", "anything", None);
    assert_code(
        iam_b.get_user().user_name(&name).send().await,
        "NoSuchEntity",
        404,
    );
    // The same name can exist in another account.
    iam_b.create_user().user_name(&name).send().await.unwrap();
}

#[tokio::test]
async fn open_unknown_key_runs_as_default_root() {
    let srv = TestServer::start().await;
    let who = srv
        .sts_with(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
        )
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some(DEFAULT_ACCOUNT));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root").as_str())
    );
}

#[tokio::test]
async fn configured_account_and_root_keys() {
    let srv = TestServer::start_with(|c| {
        c.account_id = "111122223333".into();
        c.root_access_key = "AKIAROOTEXAMPLE00001".into();
        c.root_secret_key = "root-secret".into();
        c.auth = AuthMode::Strict;
    })
    .await;
    let who = srv.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("111122223333"));
    assert_eq!(who.arn(), Some("arn:aws:iam::111122223333:root"));
    let name = unique("in-acct");
    let u = srv
        .iam()
        .create_user()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        u.user().unwrap().arn(),
        format!("arn:aws:iam::111122223333:user/{name}")
    );
    // The default test/test credentials are not the root any more.
    assert_code(
        srv.sts_with("test", "test", None)
            .get_caller_identity()
            .send()
            .await,
        "InvalidClientTokenId",
        403,
    );
}

#[tokio::test]
async fn strict_user_key_works_and_wrong_secret_fails() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    let name = unique("strict-user");
    iam.create_user().user_name(&name).send().await.unwrap();
    let k = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    let who = srv
        .sts_with(k.access_key_id(), k.secret_access_key(), None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{name}").as_str())
    );
    let e = assert_code(
        srv.sts_with(k.access_key_id(), "wrong", None)
            .get_caller_identity()
            .send()
            .await,
        "SignatureDoesNotMatch",
        403,
    );
    assert!(e.message.starts_with(SIGNATURE_MISMATCH_PREFIX), "{e:?}");
}

#[tokio::test]
async fn error_envelope_shape() {
    let srv = TestServer::start().await;
    let r = srv
        .raw()
        .post_form(&[
            ("Action", "GetUser"),
            ("Version", "2010-05-08"),
            ("UserName", "nobody-here"),
        ])
        .await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("<ErrorResponse"), "{}", r.body);
    assert_eq!(r.tag("Type").as_deref(), Some("Sender"));
    assert_eq!(r.code().as_deref(), Some("NoSuchEntity"));
    assert_eq!(
        r.message().as_deref(),
        Some("The user with name nobody-here cannot be found.")
    );
    let rid = r.tag("RequestId").expect("RequestId");
    assert!(!rid.is_empty());
    let hdr = r
        .headers
        .get("x-amzn-requestid")
        .expect("x-amzn-RequestId header")
        .to_str()
        .unwrap();
    assert_eq!(hdr, rid);
    assert!(r
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
}

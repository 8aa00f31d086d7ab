//! Access keys through the AWS SDK for Rust: lifecycle, limits, keys signing requests,
//! GetCallerIdentity and GetAccessKeyLastUsed, deactivation and deletion.

use crate::common;

use aws_sdk_iam::types::StatusType;
use common::*;

/// Creates a user and one access key for it: (key id, secret, user id).
async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> (String, String, String) {
    let u = iam.create_user().user_name(name).send().await.unwrap();
    let user_id = u.user().unwrap().user_id().to_string();
    let k = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("create access key");
    let k = k.access_key().unwrap();
    (
        k.access_key_id().to_string(),
        k.secret_access_key().to_string(),
        user_id,
    )
}

#[tokio::test]
async fn access_key_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("keyed");
    iam.create_user().user_name(&name).send().await.unwrap();

    let empty = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert!(empty.access_key_metadata().is_empty());
    assert!(!empty.is_truncated());

    let created = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let k = created.access_key().unwrap();
    assert_eq!(k.user_name(), name);
    assert_eq!(k.status(), &StatusType::Active);
    assert!(k.create_date().is_some());
    let id = k.access_key_id();
    assert_eq!(id.len(), 20, "{id}");
    assert!(id.starts_with("AKIA"), "{id}");
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(k.secret_access_key().len(), 40);

    let listed = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1);
    let m = &listed.access_key_metadata()[0];
    assert_eq!(m.access_key_id(), Some(id));
    assert_eq!(m.user_name(), Some(name.as_str()));
    assert_eq!(m.status(), Some(&StatusType::Active));
    assert_eq!(m.create_date(), k.create_date());

    iam.update_access_key()
        .user_name(&name)
        .access_key_id(id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.access_key_metadata()[0].status(),
        Some(&StatusType::Inactive)
    );
    iam.update_access_key()
        .user_name(&name)
        .access_key_id(id)
        .status(StatusType::Active)
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.access_key_metadata()[0].status(),
        Some(&StatusType::Active)
    );

    iam.delete_access_key()
        .user_name(&name)
        .access_key_id(id)
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert!(listed.access_key_metadata().is_empty());
    iam.delete_user().user_name(&name).send().await.unwrap();
}

#[tokio::test]
async fn third_access_key_is_limit_exceeded() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("limited");
    iam.create_user().user_name(&name).send().await.unwrap();
    for _ in 0..2 {
        iam.create_access_key()
            .user_name(&name)
            .send()
            .await
            .unwrap();
    }
    assert_err(
        iam.create_access_key().user_name(&name).send().await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for AccessKeysPerUser: 2",
    );
    let listed = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.access_key_metadata().len(), 2);
}

#[tokio::test]
async fn access_key_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("errs");
    iam.create_user().user_name(&name).send().await.unwrap();
    assert_err(
        iam.create_access_key()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    assert_err(
        iam.update_access_key()
            .user_name(&name)
            .access_key_id("AKIAIOSFODNN7EXAMPLE")
            .status(StatusType::Inactive)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.",
    );
    assert_err(
        iam.delete_access_key()
            .user_name(&name)
            .access_key_id("AKIAIOSFODNN7EXAMPLE")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.",
    );
    assert_err(
        iam.list_access_keys()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    // Recorded: GetAccessKeyLastUsed on a key nobody owns is AccessDenied, naming the caller.
    assert_err(
        iam.get_access_key_last_used()
            .access_key_id("AKIAIOSFODNN7EXAMPLE")
            .send()
            .await,
        "AccessDenied",
        403,
        &format!(
            "User: arn:aws:iam::{DEFAULT_ACCOUNT}:root is not authorized to perform \
             iam:GetAccessKeyLastUsed on resource: access key AKIAIOSFODNN7EXAMPLE"
        ),
    );
    // Without a UserName the root user manages its own keys (AWS documents this), so a user's
    // key is not found among them. (The recorded ValidationError for a non-User caller is
    // replayed with a role session in tests/recorded.rs.)
    let k = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key_id = k.access_key().unwrap().access_key_id().to_string();
    assert_err(
        iam.delete_access_key().access_key_id(&key_id).send().await,
        "NoSuchEntity",
        404,
        &format!("The Access Key with id {key_id} cannot be found."),
    );
    // The key is untouched.
    let keys = iam
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
}

#[tokio::test]
async fn created_key_signs_requests_as_the_user() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("signer");
    let (key, secret, user_id) = user_with_key(&iam, &name).await;

    let sts = srv.sts_with(&key, &secret, None);
    let who = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{name}").as_str())
    );
    assert_eq!(who.user_id(), Some(user_id.as_str()));
    assert_eq!(who.account(), Some(DEFAULT_ACCOUNT));

    // IAM calls signed with the key run as the user: no UserName means "me".
    let as_user = srv.iam_with(&key, &secret, None);
    let keys = as_user.list_access_keys().send().await.expect("own keys");
    assert_eq!(keys.access_key_metadata().len(), 1);
    assert_eq!(
        keys.access_key_metadata()[0].access_key_id(),
        Some(key.as_str())
    );
    assert_eq!(
        keys.access_key_metadata()[0].user_name(),
        Some(name.as_str())
    );
    // CreateAccessKey without a user name creates a key for the caller.
    let second = as_user.create_access_key().send().await.expect("own key");
    assert_eq!(second.access_key().unwrap().user_name(), name);
    // And a user may delete its own key without naming itself (recorded:
    // test_access_key_deletion_without_username).
    as_user
        .delete_access_key()
        .access_key_id(second.access_key().unwrap().access_key_id())
        .send()
        .await
        .expect("delete own key without UserName");
}

#[tokio::test]
async fn wrong_secret_for_created_key_is_signature_mismatch() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let (key, _secret, _) = user_with_key(&iam, &unique("wrong")).await;
    let bad = srv.sts_with(&key, "0000000000000000000000000000000000000000", None);
    let e = assert_code(
        bad.get_caller_identity().send().await,
        "SignatureDoesNotMatch",
        403,
    );
    assert!(!e.message.is_empty());
}

#[tokio::test]
async fn access_key_last_used() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("used");
    let (key, secret, _) = user_with_key(&iam, &name).await;

    let unused = iam
        .get_access_key_last_used()
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(unused.user_name(), Some(name.as_str()));
    let lu = unused.access_key_last_used().expect("AccessKeyLastUsed");
    assert_eq!(lu.service_name(), "N/A");
    assert_eq!(lu.region(), "N/A");
    assert!(lu.last_used_date().is_none());

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    srv.iam_with(&key, &secret, None)
        .list_access_keys()
        .send()
        .await
        .unwrap();
    let used = iam
        .get_access_key_last_used()
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    let lu = used.access_key_last_used().unwrap();
    assert_eq!(lu.service_name(), "iam");
    assert_eq!(lu.region(), "us-east-1");
    let when = lu.last_used_date().expect("LastUsedDate").secs();
    assert!(when >= before - 1, "{when} < {before}");

    srv.sts_with(&key, &secret, None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let used = iam
        .get_access_key_last_used()
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(used.access_key_last_used().unwrap().service_name(), "sts");
    assert_eq!(used.access_key_last_used().unwrap().region(), "us-east-1");
}

#[tokio::test]
async fn deactivated_key_is_rejected() {
    // Even in open mode a known key is verified: an inactive one is InvalidClientTokenId.
    for mode in [AuthMode::Open, AuthMode::Strict] {
        let srv = TestServer::start_auth(mode).await;
        let iam = srv.iam();
        let name = unique("inactive");
        let (key, secret, _) = user_with_key(&iam, &name).await;
        iam.update_access_key()
            .user_name(&name)
            .access_key_id(&key)
            .status(StatusType::Inactive)
            .send()
            .await
            .unwrap();
        assert_err(
            srv.sts_with(&key, &secret, None)
                .get_caller_identity()
                .send()
                .await,
            "InvalidClientTokenId",
            403,
            "The security token included in the request is invalid.",
        );
        // Reactivated, it works again.
        iam.update_access_key()
            .user_name(&name)
            .access_key_id(&key)
            .status(StatusType::Active)
            .send()
            .await
            .unwrap();
        srv.sts_with(&key, &secret, None)
            .get_caller_identity()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{mode:?}: reactivated key: {e:?}"));
        srv.stop().await;
    }
}

#[tokio::test]
async fn deleted_key_is_rejected_in_strict_mode() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let iam = srv.iam();
    let name = unique("deleted");
    let (key, secret, _) = user_with_key(&iam, &name).await;
    // Used once (so any credential cache holds it), then deleted.
    srv.sts_with(&key, &secret, None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    iam.delete_access_key()
        .user_name(&name)
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_err(
        srv.sts_with(&key, &secret, None)
            .get_caller_identity()
            .send()
            .await,
        "InvalidClientTokenId",
        403,
        "The security token included in the request is invalid.",
    );
}

#[tokio::test]
async fn rename_keeps_key_identity() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let old = unique("before");
    let new = unique("after");
    let (key, secret, user_id) = user_with_key(&iam, &old).await;
    iam.update_user()
        .user_name(&old)
        .new_user_name(&new)
        .send()
        .await
        .unwrap();

    let listed = iam.list_access_keys().user_name(&new).send().await.unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1);
    assert_eq!(
        listed.access_key_metadata()[0].user_name(),
        Some(new.as_str())
    );

    let who = srv
        .sts_with(&key, &secret, None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{new}").as_str())
    );
    assert_eq!(who.user_id(), Some(user_id.as_str()));
}

/// GetAccessKeyInfo: a key localiam issued names its user's account; an unknown key answers with the
/// caller's account.
#[tokio::test]
async fn get_access_key_info_names_the_account() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let (key, _secret, _) = user_with_key(&iam, &unique("info")).await;
    let sts = srv.sts();
    let info = sts
        .get_access_key_info()
        .access_key_id(&key)
        .send()
        .await
        .expect("GetAccessKeyInfo");
    assert_eq!(info.account(), Some(DEFAULT_ACCOUNT));
    // The model's minimum length (16) is checked first, with STS's wording (the value echoed).
    assert_err(
        sts.get_access_key_info()
            .access_key_id("123456789012")
            .send()
            .await,
        "ValidationError",
        400,
        "1 validation error detected: Value '123456789012' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16",
    );
    let unknown = sts
        .get_access_key_info()
        .access_key_id("AKIAIOSFODNN7EXAMPLE")
        .send()
        .await
        .expect("GetAccessKeyInfo, unknown key");
    assert_eq!(unknown.account(), Some(DEFAULT_ACCOUNT));
}

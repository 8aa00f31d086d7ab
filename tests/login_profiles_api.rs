//! Login profiles and ChangePassword through the AWS SDK for Rust: happy paths and AWS's errors
//! (code, message, HTTP status), as recorded in test_iam_users.snapshot.json::TestUserLoginProfile.

use crate::common;

use common::*;

const PASSWORD: &str = "Initial-Passw0rd!";
const NEW_PASSWORD: &str = "Changed-Passw0rd?";

/// An IAM client signed with a fresh access key of `user`.
async fn client_as(srv: &TestServer, iam: &aws_sdk_iam::Client, user: &str) -> aws_sdk_iam::Client {
    let key = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    srv.iam_with(key.access_key_id(), key.secret_access_key(), None)
}

async fn with_profile(iam: &aws_sdk_iam::Client, user: &str, password: &str) {
    iam.create_user().user_name(user).send().await.unwrap();
    iam.create_login_profile()
        .user_name(user)
        .password(password)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("Console").send().await.unwrap();

    let created = iam
        .create_login_profile()
        .user_name("console") // names are case-insensitive
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let lp = created.login_profile().unwrap();
    assert_eq!(lp.user_name(), "Console");
    assert!(!lp.password_reset_required());
    let created_at = *lp.create_date();

    let got = iam
        .get_login_profile()
        .user_name("Console")
        .send()
        .await
        .unwrap();
    let got = got.login_profile().unwrap();
    assert_eq!(got.user_name(), "Console");
    assert_eq!(*got.create_date(), created_at);
    assert!(!got.password_reset_required());

    // The reset flag alone, then the password alone (the flag stays).
    iam.update_login_profile()
        .user_name("Console")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    iam.update_login_profile()
        .user_name("Console")
        .password(NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_login_profile()
        .user_name("Console")
        .send()
        .await
        .unwrap();
    assert!(got.login_profile().unwrap().password_reset_required());
    assert_eq!(*got.login_profile().unwrap().create_date(), created_at);

    // A login profile blocks DeleteUser.
    assert_err(
        iam.delete_user().user_name("Console").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete login profile first.",
    );
    iam.delete_login_profile()
        .user_name("Console")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.get_login_profile().user_name("Console").send().await,
        "NoSuchEntity",
        404,
        "Login Profile for User Console cannot be found.",
    );
    iam.delete_user().user_name("Console").send().await.unwrap();
}

#[tokio::test]
async fn created_with_reset_required() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("fresh").send().await.unwrap();
    let created = iam
        .create_login_profile()
        .user_name("fresh")
        .password(PASSWORD)
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    assert!(created.login_profile().unwrap().password_reset_required());
    let got = iam
        .get_login_profile()
        .user_name("fresh")
        .send()
        .await
        .unwrap();
    assert!(got.login_profile().unwrap().password_reset_required());
}

#[tokio::test]
async fn errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("lp-user").send().await.unwrap();

    assert_err(
        iam.create_login_profile()
            .user_name("nonexistent-user")
            .password(PASSWORD)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    assert_err(
        iam.get_login_profile()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    assert_err(
        iam.update_login_profile()
            .user_name("nonexistent-user")
            .password(PASSWORD)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    assert_err(
        iam.delete_login_profile()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    let missing = "Login Profile for User lp-user cannot be found.";
    assert_err(
        iam.get_login_profile().user_name("lp-user").send().await,
        "NoSuchEntity",
        404,
        missing,
    );
    assert_err(
        iam.delete_login_profile().user_name("lp-user").send().await,
        "NoSuchEntity",
        404,
        missing,
    );
    assert_err(
        iam.update_login_profile()
            .user_name("lp-user")
            .password_reset_required(true)
            .send()
            .await,
        "NoSuchEntity",
        404,
        missing,
    );
    // The model leaves Password optional (AssumeRoot sessions omit it); every other caller needs it.
    assert_code(
        iam.create_login_profile().user_name("lp-user").send().await,
        "ValidationError",
        400,
    );
    // The root user has no login profile of its own to omit the user name for.
    assert_code(iam.get_login_profile().send().await, "ValidationError", 400);

    iam.create_login_profile()
        .user_name("lp-user")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.create_login_profile()
            .user_name("lp-user")
            .password(PASSWORD)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "Login Profile for user lp-user already exists.",
    );
}

#[tokio::test]
async fn caller_is_the_default_user() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user()
        .user_name("self-service")
        .send()
        .await
        .unwrap();
    let me = client_as(&srv, &iam, "self-service").await;

    let created = me
        .create_login_profile()
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(created.login_profile().unwrap().user_name(), "self-service");
    let got = me.get_login_profile().send().await.unwrap();
    assert_eq!(got.login_profile().unwrap().user_name(), "self-service");
    me.delete_login_profile().send().await.unwrap();
    assert_err(
        iam.get_login_profile()
            .user_name("self-service")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "Login Profile for User self-service cannot be found.",
    );
}

#[tokio::test]
async fn change_password() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    with_profile(&iam, "dave", PASSWORD).await;
    iam.update_login_profile()
        .user_name("dave")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    let dave = client_as(&srv, &iam, "dave").await;

    assert_err(
        dave.change_password()
            .old_password("not-my-password")
            .new_password(NEW_PASSWORD)
            .send()
            .await,
        "AccessDenied",
        403,
        "The old password specified is incorrect.",
    );
    dave.change_password()
        .old_password(PASSWORD)
        .new_password(NEW_PASSWORD)
        .send()
        .await
        .expect("change with the right old password");
    // Choosing a password clears the reset requirement.
    let got = iam
        .get_login_profile()
        .user_name("dave")
        .send()
        .await
        .unwrap();
    assert!(!got.login_profile().unwrap().password_reset_required());

    // The old password no longer works; the new one does.
    assert_code(
        dave.change_password()
            .old_password(PASSWORD)
            .new_password("Third-Passw0rd!")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    dave.change_password()
        .old_password(NEW_PASSWORD)
        .new_password("Third-Passw0rd!")
        .send()
        .await
        .unwrap();

    // An administrator's UpdateLoginProfile password is the one ChangePassword then checks.
    iam.update_login_profile()
        .user_name("dave")
        .password("Admin-Set-Passw0rd!")
        .send()
        .await
        .unwrap();
    assert_code(
        dave.change_password()
            .old_password("Third-Passw0rd!")
            .new_password(PASSWORD)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    dave.change_password()
        .old_password("Admin-Set-Passw0rd!")
        .new_password(PASSWORD)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn change_password_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();

    // The root user cannot call it.
    assert_code(
        iam.change_password()
            .old_password(PASSWORD)
            .new_password(NEW_PASSWORD)
            .send()
            .await,
        "InvalidUserType",
        400,
    );

    // A user without a login profile.
    iam.create_user()
        .user_name("no-console")
        .send()
        .await
        .unwrap();
    let user = client_as(&srv, &iam, "no-console").await;
    assert_err(
        user.change_password()
            .old_password(PASSWORD)
            .new_password(NEW_PASSWORD)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "Login Profile for User no-console cannot be found.",
    );

    // The model's constraints: 1 to 128 characters.
    iam.create_login_profile()
        .user_name("no-console")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    assert_code(
        user.change_password()
            .old_password(PASSWORD)
            .new_password("x".repeat(129))
            .send()
            .await,
        "ValidationError",
        400,
    );
}

#[tokio::test]
async fn rename_keeps_login_profile() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    with_profile(&iam, "before", PASSWORD).await;
    iam.update_user()
        .user_name("before")
        .new_user_name("after")
        .send()
        .await
        .unwrap();
    let got = iam
        .get_login_profile()
        .user_name("after")
        .send()
        .await
        .unwrap();
    assert_eq!(got.login_profile().unwrap().user_name(), "after");
    assert_err(
        iam.get_login_profile().user_name("before").send().await,
        "NoSuchEntity",
        404,
        "The user with name before cannot be found.",
    );
}

#[tokio::test]
async fn passwords_are_stored_only_as_argon2_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lp.db").to_string_lossy().into_owned();
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let user = iam.create_user().user_name("hashed").send().await.unwrap();
    let user_id = user.user().unwrap().user_id().to_string();
    iam.create_login_profile()
        .user_name("hashed")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let raw = srv
        .raw()
        .get_query(&[
            ("Action", "GetLoginProfile"),
            ("Version", "2010-05-08"),
            ("UserName", "hashed"),
        ])
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    assert!(!raw.body.contains(PASSWORD));
    assert!(!raw.body.contains("argon2"));
    srv.stop().await;

    let store = localiam::store::Store::open(&db).await.unwrap();
    let model = store.read();
    let row = model
        .account(DEFAULT_ACCOUNT)
        .users
        .get_by_id(&user_id)
        .and_then(|u| u.login_profile.clone())
        .expect("login profile");
    assert!(
        row.password_hash.starts_with("$argon2id$"),
        "not an argon2id PHC string"
    );
    assert!(!row.password_hash.contains(PASSWORD));
    drop(model);
    store.close().await;
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes
        .windows(PASSWORD.len())
        .any(|w| w == PASSWORD.as_bytes()));
}

/// Sets the account password policy straight in the store, between two runs of the server on the
/// same file (UpdateAccountPasswordPolicy itself is tested in `account_api.rs`).
async fn set_policy(db: &str, min_len: i64, reuse: i64) {
    use localiam::store::model::{AccountSettings, PasswordPolicy};
    let store = localiam::store::Store::open(db).await.unwrap();
    store
        .write(move |tx| {
            tx.upsert(
                DEFAULT_ACCOUNT,
                "account",
                || AccountSettings {
                    account_id: DEFAULT_ACCOUNT.to_string(),
                    ..Default::default()
                },
                |s: &mut AccountSettings| {
                    s.password_policy = Some(PasswordPolicy {
                        minimum_password_length: min_len,
                        require_symbols: true,
                        require_numbers: true,
                        require_uppercase_characters: true,
                        require_lowercase_characters: true,
                        password_reuse_prevention: Some(reuse),
                        allow_users_to_change_password: true,
                        ..Default::default()
                    })
                },
            )
        })
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test]
async fn account_password_policy_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("policy.db").to_string_lossy().into_owned();
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    // Without a policy any password the model allows is accepted.
    with_profile(&iam, "weak", "a").await;
    iam.create_user().user_name("strict").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("strict")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (key_id, secret) = (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    );
    srv.stop().await;

    set_policy(&db, 12, 2).await;
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let violation = "Password does not conform to the account password policy.";
    for weak in [
        "Short-1!",
        "no-upper-case-1!",
        "NO-LOWER-CASE-1!",
        "No-Digits-Here!",
        "NoSymbols12345",
    ] {
        assert_err(
            iam.create_login_profile()
                .user_name("strict")
                .password(weak)
                .send()
                .await,
            "PasswordPolicyViolation",
            400,
            violation,
        );
    }
    assert_code(
        iam.get_login_profile().user_name("strict").send().await,
        "NoSuchEntity",
        404,
    );
    iam.create_login_profile()
        .user_name("strict")
        .password("Good-Passw0rd-1")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.update_login_profile()
            .user_name("strict")
            .password("weak")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );

    // Reuse prevention (2): the current password and the one before it are refused.
    let me = srv.iam_with(&key_id, &secret, None);
    assert_err(
        me.change_password()
            .old_password("Good-Passw0rd-1")
            .new_password("Good-Passw0rd-1")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );
    assert_err(
        me.change_password()
            .old_password("Good-Passw0rd-1")
            .new_password("short")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
        violation,
    );
    me.change_password()
        .old_password("Good-Passw0rd-1")
        .new_password("Good-Passw0rd-2")
        .send()
        .await
        .unwrap();
    assert_code(
        me.change_password()
            .old_password("Good-Passw0rd-2")
            .new_password("Good-Passw0rd-1")
            .send()
            .await,
        "PasswordPolicyViolation",
        400,
    );
    me.change_password()
        .old_password("Good-Passw0rd-2")
        .new_password("Good-Passw0rd-3")
        .send()
        .await
        .unwrap();
    // Three passwords back is outside the window of two.
    me.change_password()
        .old_password("Good-Passw0rd-3")
        .new_password("Good-Passw0rd-1")
        .send()
        .await
        .unwrap();
    srv.stop().await;
}

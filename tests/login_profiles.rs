//! Login profiles (console passwords) through the AWS SDK for Rust, against AWS's recorded
//! behaviour (test_iam_users.snapshot.json::TestUserLoginProfile).

use crate::common;

use common::*;

const PASSWORD: &str = "Corr3ct-Horse-Battery!";

#[tokio::test]
async fn login_profile_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("console");
    iam.create_user().user_name(&name).send().await.unwrap();

    let created = iam
        .create_login_profile()
        .user_name(&name)
        .password(PASSWORD)
        .send()
        .await
        .expect("create login profile");
    let lp = created.login_profile().expect("LoginProfile");
    assert_eq!(lp.user_name(), name);
    assert!(!lp.password_reset_required());

    let got = iam
        .get_login_profile()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let got = got.login_profile().unwrap();
    assert_eq!(got.user_name(), name);
    assert!(!got.password_reset_required());
    assert_eq!(got.create_date(), lp.create_date());

    iam.update_login_profile()
        .user_name(&name)
        .password_reset_required(true)
        .send()
        .await
        .expect("update login profile");
    let got = iam
        .get_login_profile()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert!(got.login_profile().unwrap().password_reset_required());

    // Changing the password alone keeps the reset flag.
    iam.update_login_profile()
        .user_name(&name)
        .password("An0ther-Passw0rd!")
        .send()
        .await
        .expect("update password");
    let got = iam
        .get_login_profile()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert!(got.login_profile().unwrap().password_reset_required());

    iam.delete_login_profile()
        .user_name(&name)
        .send()
        .await
        .expect("delete login profile");
    assert_err(
        iam.get_login_profile().user_name(&name).send().await,
        "NoSuchEntity",
        404,
        &format!("Login Profile for User {name} cannot be found."),
    );
}

#[tokio::test]
async fn created_with_reset_required() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("reset");
    iam.create_user().user_name(&name).send().await.unwrap();
    let created = iam
        .create_login_profile()
        .user_name(&name)
        .password(PASSWORD)
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    assert!(created.login_profile().unwrap().password_reset_required());
}

#[tokio::test]
async fn login_profile_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("lp-errors");
    iam.create_user().user_name(&name).send().await.unwrap();

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
        iam.get_login_profile().user_name(&name).send().await,
        "NoSuchEntity",
        404,
        &format!("Login Profile for User {name} cannot be found."),
    );
    assert_err(
        iam.delete_login_profile().user_name(&name).send().await,
        "NoSuchEntity",
        404,
        &format!("Login Profile for User {name} cannot be found."),
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
    assert_err(
        iam.update_login_profile()
            .user_name(&name)
            .password_reset_required(true)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("Login Profile for User {name} cannot be found."),
    );

    iam.create_login_profile()
        .user_name(&name)
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.create_login_profile()
            .user_name(&name)
            .password(PASSWORD)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        &format!("Login Profile for user {name} already exists."),
    );
}

#[tokio::test]
async fn rename_moves_login_profile() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let old = unique("before");
    let new = unique("after");
    iam.create_user().user_name(&old).send().await.unwrap();
    iam.create_login_profile()
        .user_name(&old)
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    iam.update_user()
        .user_name(&old)
        .new_user_name(&new)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_login_profile()
        .user_name(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(got.login_profile().unwrap().user_name(), new);
}

#[tokio::test]
async fn password_is_never_returned() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("secretive");
    iam.create_user().user_name(&name).send().await.unwrap();
    iam.create_login_profile()
        .user_name(&name)
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let raw = srv
        .raw()
        .post_form(&[
            ("Action", "GetLoginProfile"),
            ("Version", "2010-05-08"),
            ("UserName", &name),
        ])
        .await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    assert!(!raw.body.contains(PASSWORD));
}

//! IAM users through the AWS SDK for Rust: CreateUser/GetUser/ListUsers/UpdateUser/DeleteUser and
//! user tags, against AWS's recorded behaviour (test_iam_users.snapshot.json).

use crate::common;

use aws_sdk_iam::types::Tag;
use common::*;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

#[tokio::test]
async fn user_lifecycle_with_path_and_tags() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("alice");

    let created = iam
        .create_user()
        .user_name(&name)
        .path("/team/dev/")
        .tags(tag("Environment", "Test"))
        .tags(tag("Team", "Platform"))
        .send()
        .await
        .expect("create user");
    let user = created.user().expect("User in CreateUser");
    assert_eq!(user.user_name(), name);
    assert_eq!(user.path(), "/team/dev/");
    assert_eq!(
        user.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/team/dev/{name}")
    );
    assert!(is_unique_id(user.user_id(), "AIDA"), "{}", user.user_id());
    // AWS returns the tags in CreateUser's response, in the order given.
    assert_eq!(
        user.tags(),
        &[tag("Environment", "Test"), tag("Team", "Platform")]
    );

    let got = iam
        .get_user()
        .user_name(&name)
        .send()
        .await
        .expect("get user");
    let got = got.user().expect("User in GetUser");
    assert_eq!(got.user_id(), user.user_id());
    assert_eq!(got.arn(), user.arn());
    assert_eq!(got.path(), "/team/dev/");
    assert_eq!(got.create_date(), user.create_date());
    assert_eq!(
        got.tags(),
        &[tag("Environment", "Test"), tag("Team", "Platform")]
    );

    let listed = iam.list_users().send().await.expect("list users");
    assert!(!listed.is_truncated());
    let mine: Vec<_> = listed
        .users()
        .iter()
        .filter(|u| u.user_name() == name)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].arn(), user.arn());
    assert_eq!(mine[0].user_id(), user.user_id());
    // ListUsers does not return tags (AWS documents it returns a subset of the attributes).
    assert!(mine[0].tags().is_empty());

    // Path prefix filter, full and partial path (AWS matches on the path string prefix).
    for prefix in ["/team/dev/", "/team/"] {
        let f = iam
            .list_users()
            .path_prefix(prefix)
            .send()
            .await
            .expect("list users by path");
        assert!(f.users().iter().any(|u| u.user_name() == name), "{prefix}");
    }
    let other = iam
        .list_users()
        .path_prefix("/other/")
        .send()
        .await
        .expect("list users by other path");
    assert!(other.users().iter().all(|u| u.user_name() != name));

    iam.delete_user()
        .user_name(&name)
        .send()
        .await
        .expect("delete user");
    assert_err(
        iam.get_user().user_name(&name).send().await,
        "NoSuchEntity",
        404,
        &format!("The user with name {name} cannot be found."),
    );
}

#[tokio::test]
async fn default_path_is_slash() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("bob");
    let out = iam.create_user().user_name(&name).send().await.unwrap();
    let u = out.user().unwrap();
    assert_eq!(u.path(), "/");
    assert_eq!(
        u.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{name}")
    );
    assert!(u.tags().is_empty());
}

#[tokio::test]
async fn duplicate_user_is_entity_already_exists() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("dup");
    iam.create_user().user_name(&name).send().await.unwrap();
    assert_err(
        iam.create_user().user_name(&name).send().await,
        "EntityAlreadyExists",
        409,
        &format!("User with name {name} already exists."),
    );
    // Names are unique case-insensitively.
    assert_code(
        iam.create_user()
            .user_name(name.to_uppercase())
            .send()
            .await,
        "EntityAlreadyExists",
        409,
    );
}

#[tokio::test]
async fn lookups_are_case_insensitive() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("MixedCase");
    iam.create_user().user_name(&name).send().await.unwrap();
    let got = iam
        .get_user()
        .user_name(name.to_lowercase())
        .send()
        .await
        .expect("get user by other case");
    // The stored spelling is returned.
    assert_eq!(got.user().unwrap().user_name(), name);
}

#[tokio::test]
async fn nonexistent_user_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let msg = "The user with name nonexistent-user cannot be found.";
    assert_err(
        iam.get_user().user_name("nonexistent-user").send().await,
        "NoSuchEntity",
        404,
        msg,
    );
    assert_err(
        iam.update_user()
            .user_name("nonexistent-user")
            .new_user_name("other")
            .send()
            .await,
        "NoSuchEntity",
        404,
        msg,
    );
    assert_err(
        iam.delete_user().user_name("nonexistent-user").send().await,
        "NoSuchEntity",
        404,
        msg,
    );
    assert_err(
        iam.tag_user()
            .user_name("nonexistent-user")
            .tags(tag("a", "b"))
            .send()
            .await,
        "NoSuchEntity",
        404,
        msg,
    );
    assert_err(
        iam.untag_user()
            .user_name("nonexistent-user")
            .tag_keys("a")
            .send()
            .await,
        "NoSuchEntity",
        404,
        msg,
    );
    assert_err(
        iam.list_user_tags()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        msg,
    );
}

#[tokio::test]
async fn update_user_renames_and_moves() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let old = unique("old");
    let new = unique("new");
    let created = iam.create_user().user_name(&old).send().await.unwrap();
    let id = created.user().unwrap().user_id().to_string();

    iam.update_user()
        .user_name(&old)
        .new_user_name(&new)
        .new_path("/moved/")
        .send()
        .await
        .expect("update user");

    let got = iam.get_user().user_name(&new).send().await.unwrap();
    let u = got.user().unwrap();
    assert_eq!(u.user_name(), new);
    assert_eq!(u.user_id(), id, "UpdateUser keeps the unique ID");
    assert_eq!(u.path(), "/moved/");
    assert_eq!(
        u.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/moved/{new}")
    );
    assert_err(
        iam.get_user().user_name(&old).send().await,
        "NoSuchEntity",
        404,
        &format!("The user with name {old} cannot be found."),
    );
}

#[tokio::test]
async fn rename_onto_existing_user_conflicts() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let a = unique("a");
    let b = unique("b");
    iam.create_user().user_name(&a).send().await.unwrap();
    iam.create_user().user_name(&b).send().await.unwrap();
    assert_err(
        iam.update_user()
            .user_name(&a)
            .new_user_name(&b)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        &format!("User with name {b} already exists."),
    );
    // Both still exist unchanged.
    iam.get_user().user_name(&a).send().await.unwrap();
    iam.get_user().user_name(&b).send().await.unwrap();
}

#[tokio::test]
async fn tag_untag_list_user_tags() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("tagged");
    iam.create_user().user_name(&name).send().await.unwrap();

    let before = iam.list_user_tags().user_name(&name).send().await.unwrap();
    assert!(before.tags().is_empty());
    assert!(!before.is_truncated());

    iam.tag_user()
        .user_name(&name)
        .tags(tag("Environment", "Test"))
        .tags(tag("Team", "Platform"))
        .send()
        .await
        .expect("tag user");
    let after = iam.list_user_tags().user_name(&name).send().await.unwrap();
    assert_eq!(
        after.tags(),
        &[tag("Environment", "Test"), tag("Team", "Platform")]
    );

    // Re-tagging an existing key replaces its value.
    iam.tag_user()
        .user_name(&name)
        .tags(tag("Team", "Security"))
        .send()
        .await
        .unwrap();
    let replaced = iam.list_user_tags().user_name(&name).send().await.unwrap();
    assert_eq!(
        replaced.tags(),
        &[tag("Environment", "Test"), tag("Team", "Security")]
    );

    iam.untag_user()
        .user_name(&name)
        .tag_keys("Environment")
        .send()
        .await
        .expect("untag user");
    let untagged = iam.list_user_tags().user_name(&name).send().await.unwrap();
    assert_eq!(untagged.tags(), &[tag("Team", "Security")]);

    let got = iam.get_user().user_name(&name).send().await.unwrap();
    assert_eq!(got.user().unwrap().tags(), &[tag("Team", "Security")]);
}

#[tokio::test]
async fn get_user_without_name_is_the_caller() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("caller");
    iam.create_user().user_name(&name).send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let as_user = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    let me = as_user
        .get_user()
        .send()
        .await
        .expect("GetUser as the user");
    assert_eq!(me.user().unwrap().user_name(), name);

    // As root, GetUser without a name describes the root user.
    let root = iam.get_user().send().await.expect("GetUser as root");
    assert_eq!(
        root.user().unwrap().arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root")
    );
}

#[tokio::test]
async fn delete_user_with_subresources_conflicts() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("busy");
    iam.create_user().user_name(&name).send().await.unwrap();

    // Access keys.
    let key = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key_id = key.access_key().unwrap().access_key_id().to_string();
    assert_err(
        iam.delete_user().user_name(&name).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete access keys first.",
    );
    iam.delete_access_key()
        .user_name(&name)
        .access_key_id(&key_id)
        .send()
        .await
        .unwrap();

    // Login profile.
    iam.create_login_profile()
        .user_name(&name)
        .password("Sup3r-Secret-Passw0rd!")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_user().user_name(&name).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete login profile first.",
    );
    iam.delete_login_profile()
        .user_name(&name)
        .send()
        .await
        .unwrap();

    // Group membership.
    let group = unique("grp");
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_code(
        iam.delete_user().user_name(&name).send().await,
        "DeleteConflict",
        409,
    );
    iam.remove_user_from_group()
        .group_name(&group)
        .user_name(&name)
        .send()
        .await
        .unwrap();

    // Nothing left: the delete succeeds, and the user is gone.
    iam.delete_user()
        .user_name(&name)
        .send()
        .await
        .expect("delete");
    assert_code(
        iam.get_user().user_name(&name).send().await,
        "NoSuchEntity",
        404,
    );
}

#[tokio::test]
async fn user_in_group_delete_conflict_message() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("member");
    let group = unique("grp");
    iam.create_user().user_name(&name).send().await.unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_user().user_name(&name).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    );
}

#[tokio::test]
async fn invalid_user_name_is_validation_error() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    assert_err(
        iam.create_user().user_name("bad name!").send().await,
        "ValidationError",
        400,
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w+=,.@-]+",
    );
    assert_err(
        iam.create_user().user_name("x".repeat(65)).send().await,
        "ValidationError",
        400,
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: \
         Member must have length less than or equal to 64",
    );
    // 64 characters is fine.
    iam.create_user()
        .user_name("y".repeat(64))
        .send()
        .await
        .expect("64-character name");
}

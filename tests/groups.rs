//! IAM groups and membership through the AWS SDK for Rust, against AWS's recorded behaviour
//! (test_iam_groups.snapshot.json, test_iam_users.snapshot.json::TestUserGroups).

use crate::common;

use common::*;

#[tokio::test]
async fn group_lifecycle() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("devs");

    let created = iam.create_group().group_name(&name).send().await.unwrap();
    let g = created.group().expect("Group");
    assert_eq!(g.group_name(), name);
    assert_eq!(g.path(), "/");
    assert_eq!(
        g.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:group/{name}")
    );
    assert!(is_unique_id(g.group_id(), "AGPA"), "{}", g.group_id());

    let got = iam.get_group().group_name(&name).send().await.unwrap();
    assert_eq!(got.group().unwrap().group_id(), g.group_id());
    assert_eq!(got.group().unwrap().arn(), g.arn());
    assert!(got.users().is_empty());
    assert!(!got.is_truncated());

    let listed = iam.list_groups().send().await.unwrap();
    assert!(listed.groups().iter().any(|x| x.group_id() == g.group_id()));
    assert!(!listed.is_truncated());

    iam.delete_group().group_name(&name).send().await.unwrap();
    assert_err(
        iam.get_group().group_name(&name).send().await,
        "NoSuchEntity",
        404,
        &format!("The group with name {name} cannot be found."),
    );
    let listed = iam.list_groups().send().await.unwrap();
    assert!(listed.groups().iter().all(|x| x.group_id() != g.group_id()));
}

#[tokio::test]
async fn group_with_path() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("located");
    let created = iam
        .create_group()
        .group_name(&name)
        .path("/some/location/")
        .send()
        .await
        .unwrap();
    let g = created.group().unwrap();
    assert_eq!(g.path(), "/some/location/");
    assert_eq!(
        g.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:group/some/location/{name}")
    );
    let by_prefix = iam
        .list_groups()
        .path_prefix("/some/")
        .send()
        .await
        .unwrap();
    assert!(by_prefix.groups().iter().any(|x| x.group_name() == name));
    let other = iam
        .list_groups()
        .path_prefix("/elsewhere/")
        .send()
        .await
        .unwrap();
    assert!(other.groups().iter().all(|x| x.group_name() != name));
}

#[tokio::test]
async fn group_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let name = unique("g");
    iam.create_group().group_name(&name).send().await.unwrap();
    assert_err(
        iam.create_group().group_name(&name).send().await,
        "EntityAlreadyExists",
        409,
        &format!("Group with name {name} already exists."),
    );
    assert_code(
        iam.create_group()
            .group_name(name.to_uppercase())
            .send()
            .await,
        "EntityAlreadyExists",
        409,
    );
    assert_err(
        iam.get_group()
            .group_name("non-existent-group")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name non-existent-group cannot be found.",
    );
    assert_err(
        iam.delete_group().group_name("unknown-group").send().await,
        "NoSuchEntity",
        404,
        "The group with name unknown-group cannot be found.",
    );
    assert_err(
        iam.update_group()
            .group_name("nonexisting")
            .new_group_name("whatever")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nonexisting cannot be found.",
    );
}

#[tokio::test]
async fn update_group_name_and_path() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let old = unique("old-group");
    let new = unique("new-group");
    let created = iam.create_group().group_name(&old).send().await.unwrap();
    let id = created.group().unwrap().group_id().to_string();

    iam.update_group()
        .group_name(&old)
        .new_group_name(&new)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.get_group().group_name(&old).send().await,
        "NoSuchEntity",
        404,
        &format!("The group with name {old} cannot be found."),
    );
    let got = iam.get_group().group_name(&new).send().await.unwrap();
    assert_eq!(got.group().unwrap().group_id(), id);
    assert_eq!(
        got.group().unwrap().arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:group/{new}")
    );

    iam.update_group()
        .group_name(&new)
        .new_path("/new-path/")
        .send()
        .await
        .unwrap();
    let got = iam.get_group().group_name(&new).send().await.unwrap();
    let g = got.group().unwrap();
    assert_eq!(g.group_id(), id);
    assert_eq!(g.path(), "/new-path/");
    assert_eq!(
        g.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT}:group/new-path/{new}")
    );
}

#[tokio::test]
async fn update_group_to_existing_name_conflicts() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let a = unique("ga");
    let b = unique("gb");
    iam.create_group().group_name(&a).send().await.unwrap();
    iam.create_group().group_name(&b).send().await.unwrap();
    assert_err(
        iam.update_group()
            .group_name(&a)
            .new_group_name(&b)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        &format!("Group with name {b} already exists."),
    );
}

#[tokio::test]
async fn membership() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("member");
    let g1 = unique("g1");
    let g2 = unique("g2");
    let u = iam.create_user().user_name(&user).send().await.unwrap();
    let user_id = u.user().unwrap().user_id().to_string();
    iam.create_group().group_name(&g1).send().await.unwrap();
    iam.create_group().group_name(&g2).send().await.unwrap();

    let empty = iam
        .list_groups_for_user()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert!(empty.groups().is_empty());
    assert!(!empty.is_truncated());

    for g in [&g1, &g2] {
        iam.add_user_to_group()
            .group_name(g)
            .user_name(&user)
            .send()
            .await
            .unwrap();
    }
    // Adding again is idempotent.
    iam.add_user_to_group()
        .group_name(&g1)
        .user_name(&user)
        .send()
        .await
        .expect("adding twice succeeds");

    let groups = iam
        .list_groups_for_user()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = groups.groups().iter().map(|g| g.group_name()).collect();
    names.sort();
    let mut expected = vec![g1.as_str(), g2.as_str()];
    expected.sort();
    assert_eq!(names, expected);

    let got = iam.get_group().group_name(&g1).send().await.unwrap();
    assert_eq!(got.users().len(), 1);
    assert_eq!(got.users()[0].user_name(), user);
    assert_eq!(got.users()[0].user_id(), user_id);

    // A group with members cannot be deleted.
    assert_err(
        iam.delete_group().group_name(&g1).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    );

    iam.remove_user_from_group()
        .group_name(&g1)
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let got = iam.get_group().group_name(&g1).send().await.unwrap();
    assert!(got.users().is_empty());
    // Removing a user who is not a member succeeds (recorded: remove-nonmember-user-from-group).
    iam.remove_user_from_group()
        .group_name(&g1)
        .user_name(&user)
        .send()
        .await
        .expect("removing a non-member succeeds");

    let groups = iam
        .list_groups_for_user()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1);
    assert_eq!(groups.groups()[0].group_name(), g2);

    iam.delete_group()
        .group_name(&g1)
        .send()
        .await
        .expect("empty group deletes");
}

#[tokio::test]
async fn membership_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("u");
    let group = unique("g");
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.create_group().group_name(&group).send().await.unwrap();

    assert_err(
        iam.add_user_to_group()
            .group_name(&group)
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
    assert_err(
        iam.add_user_to_group()
            .group_name("nonexistent-group")
            .user_name(&user)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nonexistent-group cannot be found.",
    );
    assert_err(
        iam.remove_user_from_group()
            .group_name("nonexistent-group")
            .user_name(&user)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nonexistent-group cannot be found.",
    );
    // Neither exists: AWS reports the user first (recorded: remove-from-unknown-group).
    assert_err(
        iam.remove_user_from_group()
            .group_name("unknown-group")
            .user_name("any-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name any-user cannot be found.",
    );
    assert_err(
        iam.list_groups_for_user()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nonexistent-user cannot be found.",
    );
}

#[tokio::test]
async fn rename_keeps_membership() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let group = unique("g");
    let old = unique("before");
    let new = unique("after");
    iam.create_group().group_name(&group).send().await.unwrap();
    let u = iam.create_user().user_name(&old).send().await.unwrap();
    let id = u.user().unwrap().user_id().to_string();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&old)
        .send()
        .await
        .unwrap();
    iam.update_user()
        .user_name(&old)
        .new_user_name(&new)
        .send()
        .await
        .unwrap();

    let got = iam.get_group().group_name(&group).send().await.unwrap();
    assert_eq!(got.users().len(), 1);
    assert_eq!(got.users()[0].user_name(), new);
    assert_eq!(got.users()[0].user_id(), id);
    let groups = iam
        .list_groups_for_user()
        .user_name(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1);
    assert_err(
        iam.list_groups_for_user().user_name(&old).send().await,
        "NoSuchEntity",
        404,
        &format!("The user with name {old} cannot be found."),
    );
}

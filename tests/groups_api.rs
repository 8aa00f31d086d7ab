//! Groups and membership through the AWS SDK for Rust: every operation's happy path, pagination,
//! quotas and AWS's errors (code, message, HTTP status), as recorded in
//! test_iam_groups.snapshot.json and test_iam_users.snapshot.json.

use crate::common;

use common::*;

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}"#;

async fn new_user(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let out = iam.create_user().user_name(name).send().await.unwrap();
    out.user().unwrap().user_id().to_string()
}

async fn new_group(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let out = iam.create_group().group_name(name).send().await.unwrap();
    out.group().unwrap().group_id().to_string()
}

async fn add(iam: &aws_sdk_iam::Client, group: &str, user: &str) {
    iam.add_user_to_group()
        .group_name(group)
        .user_name(user)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn create_get_list_update_delete() {
    let srv = TestServer::start().await;
    let iam = srv.iam();

    let created = iam
        .create_group()
        .group_name("Admins")
        .path("/team/ops/")
        .send()
        .await
        .unwrap();
    let g = created.group().unwrap();
    assert_eq!(g.group_name(), "Admins");
    assert_eq!(g.path(), "/team/ops/");
    assert_eq!(g.arn(), "arn:aws:iam::000000000000:group/team/ops/Admins");
    assert!(is_unique_id(g.group_id(), "AGPA"), "{}", g.group_id());
    let id = g.group_id().to_string();

    // Names are case-insensitive for lookup and uniqueness.
    let got = iam.get_group().group_name("admins").send().await.unwrap();
    assert_eq!(got.group().unwrap().group_id(), id);
    assert_eq!(got.group().unwrap().group_name(), "Admins");
    assert!(got.users().is_empty());
    assert!(!got.is_truncated());
    assert_eq!(got.marker(), None);
    assert_err(
        iam.create_group().group_name("ADMINS").send().await,
        "EntityAlreadyExists",
        409,
        "Group with name ADMINS already exists.",
    );

    new_group(&iam, "Other").await;
    let listed = iam
        .list_groups()
        .path_prefix("/team/")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = listed.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(names, ["Admins"]);
    let all = iam.list_groups().send().await.unwrap();
    let names: Vec<_> = all.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(names, ["Admins", "Other"]);
    assert!(!all.is_truncated());

    iam.update_group()
        .group_name("Admins")
        .new_group_name("Operators")
        .new_path("/ops/")
        .send()
        .await
        .unwrap();
    let got = iam
        .get_group()
        .group_name("Operators")
        .send()
        .await
        .unwrap();
    let g = got.group().unwrap();
    assert_eq!(g.group_id(), id);
    assert_eq!(g.path(), "/ops/");
    assert_eq!(g.arn(), "arn:aws:iam::000000000000:group/ops/Operators");
    assert_err(
        iam.get_group().group_name("Admins").send().await,
        "NoSuchEntity",
        404,
        "The group with name Admins cannot be found.",
    );
    // Renaming to another group's name conflicts; a change of case of its own name does not.
    assert_err(
        iam.update_group()
            .group_name("Operators")
            .new_group_name("other")
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "Group with name other already exists.",
    );
    iam.update_group()
        .group_name("Operators")
        .new_group_name("OPERATORS")
        .send()
        .await
        .unwrap();

    iam.delete_group()
        .group_name("operators")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_group().group_name("Operators").send().await,
        "NoSuchEntity",
        404,
        "The group with name Operators cannot be found.",
    );
    assert_err(
        iam.update_group()
            .group_name("nonexisting")
            .new_path("/x/")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nonexisting cannot be found.",
    );
}

#[tokio::test]
async fn list_groups_paginates() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let mut expected: Vec<String> = (0..7).map(|i| format!("group-{i:02}")).collect();
    for name in expected.iter().rev() {
        new_group(&iam, name).await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = iam
            .list_groups()
            .max_items(3)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.groups().len() <= 3);
        seen.extend(page.groups().iter().map(|g| g.group_name().to_string()));
        if page.is_truncated() {
            marker = Some(
                page.marker()
                    .expect("truncated page has a marker")
                    .to_string(),
            );
        } else {
            assert_eq!(page.marker(), None);
            break;
        }
    }
    assert_eq!(pages, 3);
    expected.sort();
    assert_eq!(seen, expected);

    // The SDK's paginator walks the same pages.
    let all: Vec<String> = iam
        .list_groups()
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.group_name().to_string())
        .collect();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn get_group_paginates_members() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_group(&iam, "crowd").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let name = format!("member-{i}");
        new_user(&iam, &name).await;
        add(&iam, "crowd", &name).await;
        expected.push(name);
    }
    let first = iam
        .get_group()
        .group_name("crowd")
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    assert_eq!(first.users().len(), 2);
    assert_eq!(first.group().unwrap().group_name(), "crowd");
    let mut seen: Vec<String> = first
        .users()
        .iter()
        .map(|u| u.user_name().to_string())
        .collect();
    let mut marker = first.marker().map(str::to_string);
    while let Some(m) = marker {
        let page = iam
            .get_group()
            .group_name("crowd")
            .max_items(2)
            .marker(m)
            .send()
            .await
            .unwrap();
        seen.extend(page.users().iter().map(|u| u.user_name().to_string()));
        marker = page.marker().map(str::to_string);
        assert_eq!(page.is_truncated(), marker.is_some());
    }
    assert_eq!(seen, expected);

    let all = iam.get_group().group_name("crowd").send().await.unwrap();
    assert_eq!(all.users().len(), 5);
    assert!(!all.is_truncated());
    let u = &all.users()[0];
    assert_eq!(u.arn(), "arn:aws:iam::000000000000:user/member-0");
    assert_eq!(u.path(), "/");
    assert!(is_unique_id(u.user_id(), "AIDA"));
}

#[tokio::test]
async fn list_groups_for_user_paginates() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_user(&iam, "joiner").await;
    let mut expected = Vec::new();
    for i in 0..4 {
        let name = format!("g-{i}");
        new_group(&iam, &name).await;
        add(&iam, &name, "joiner").await;
        expected.push(name);
    }
    let page1 = iam
        .list_groups_for_user()
        .user_name("joiner")
        .max_items(3)
        .send()
        .await
        .unwrap();
    assert!(page1.is_truncated());
    let page2 = iam
        .list_groups_for_user()
        .user_name("joiner")
        .max_items(3)
        .marker(page1.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!page2.is_truncated());
    let seen: Vec<_> = page1
        .groups()
        .iter()
        .chain(page2.groups())
        .map(|g| g.group_name().to_string())
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        page1.groups()[0].arn(),
        "arn:aws:iam::000000000000:group/g-0"
    );
}

#[tokio::test]
async fn membership_add_twice_remove_nonmember() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user_id = new_user(&iam, "alice").await;
    new_group(&iam, "readers").await;

    add(&iam, "readers", "alice").await;
    add(&iam, "readers", "alice").await; // a no-op
    let got = iam.get_group().group_name("readers").send().await.unwrap();
    assert_eq!(got.users().len(), 1);
    assert_eq!(got.users()[0].user_id(), user_id);

    // A member blocks DeleteUser and DeleteGroup.
    assert_err(
        iam.delete_user().user_name("alice").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    );
    assert_err(
        iam.delete_group().group_name("readers").send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    );

    iam.remove_user_from_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.remove_user_from_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .expect("removing a non-member succeeds");
    let got = iam.get_group().group_name("readers").send().await.unwrap();
    assert!(got.users().is_empty());
    let groups = iam
        .list_groups_for_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert!(groups.groups().is_empty());
    assert!(!groups.is_truncated());

    iam.delete_user().user_name("alice").send().await.unwrap();
    iam.delete_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn membership_errors_in_aws_order() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_user(&iam, "bob").await;
    new_group(&iam, "team").await;

    assert_err(
        iam.add_user_to_group()
            .group_name("team")
            .user_name("non-existent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name non-existent-user cannot be found.",
    );
    assert_err(
        iam.add_user_to_group()
            .group_name("non-existent-group")
            .user_name("bob")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name non-existent-group cannot be found.",
    );
    assert_err(
        iam.remove_user_from_group()
            .group_name("nonexistent-group")
            .user_name("bob")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The group with name nonexistent-group cannot be found.",
    );
    assert_err(
        iam.remove_user_from_group()
            .group_name("team")
            .user_name("ghost")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name ghost cannot be found.",
    );
    // Neither exists: the user is reported (recorded: remove-from-unknown-group).
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
        iam.list_groups_for_user().user_name("nobody").send().await,
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
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
}

#[tokio::test]
async fn groups_per_user_quota() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_user(&iam, "joiner").await;
    for i in 0..11 {
        new_group(&iam, &format!("q-{i:02}")).await;
    }
    for i in 0..10 {
        add(&iam, &format!("q-{i:02}"), "joiner").await;
    }
    assert_err(
        iam.add_user_to_group()
            .group_name("q-10")
            .user_name("joiner")
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for GroupsPerUser: 10",
    );
    // Re-adding to a group the user is already in is still a no-op at the quota.
    add(&iam, "q-03", "joiner").await;
    let groups = iam
        .list_groups_for_user()
        .user_name("joiner")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 10);
}

#[tokio::test]
async fn groups_per_account_quota() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    for i in 0..300 {
        new_group(&iam, &format!("many-{i:03}")).await;
    }
    assert_err(
        iam.create_group().group_name("one-too-many").send().await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for GroupsPerAccount: 300",
    );
    // An existing name is still reported as such.
    assert_code(
        iam.create_group().group_name("many-000").send().await,
        "EntityAlreadyExists",
        409,
    );
    iam.delete_group()
        .group_name("many-000")
        .send()
        .await
        .unwrap();
    new_group(&iam, "one-too-many").await;
}

#[tokio::test]
async fn delete_group_conflicts_in_order() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    new_group(&iam, "loaded").await;
    new_user(&iam, "carol").await;
    add(&iam, "loaded", "carol").await;
    iam.put_group_policy()
        .group_name("loaded")
        .policy_name("inline")
        .policy_document(POLICY)
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("managed")
        .policy_document(POLICY)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_string();
    iam.attach_group_policy()
        .group_name("loaded")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();

    let delete = || iam.delete_group().group_name("loaded").send();
    assert_err(
        delete().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove users from group first.",
    );
    iam.remove_user_from_group()
        .group_name("loaded")
        .user_name("carol")
        .send()
        .await
        .unwrap();
    assert_err(
        delete().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete policies first.",
    );
    iam.delete_group_policy()
        .group_name("loaded")
        .policy_name("inline")
        .send()
        .await
        .unwrap();
    assert_err(
        delete().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must detach all policies first.",
    );
    iam.detach_group_policy()
        .group_name("loaded")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    delete().await.expect("an empty group deletes");
    assert_code(
        iam.get_group().group_name("loaded").send().await,
        "NoSuchEntity",
        404,
    );
}

#[tokio::test]
async fn renames_carry_membership() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let uid = new_user(&iam, "before").await;
    let gid = new_group(&iam, "old-name").await;
    add(&iam, "old-name", "before").await;
    iam.update_user()
        .user_name("before")
        .new_user_name("after")
        .send()
        .await
        .unwrap();
    iam.update_group()
        .group_name("old-name")
        .new_group_name("new-name")
        .send()
        .await
        .unwrap();
    let got = iam.get_group().group_name("new-name").send().await.unwrap();
    assert_eq!(got.group().unwrap().group_id(), gid);
    assert_eq!(got.users().len(), 1);
    assert_eq!(got.users()[0].user_name(), "after");
    assert_eq!(got.users()[0].user_id(), uid);
    let groups = iam
        .list_groups_for_user()
        .user_name("after")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1);
    assert_eq!(groups.groups()[0].group_name(), "new-name");
    assert_eq!(groups.groups()[0].group_id(), gid);
}

//! MaxItems / Marker / IsTruncated paging and PathPrefix filtering, as AWS pages IAM lists.

use crate::common;

use std::collections::BTreeSet;

use common::*;

/// Creates `n` users under `path`; returns their names.
async fn make_users(iam: &aws_sdk_iam::Client, path: &str, n: usize) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for i in 0..n {
        let name = unique(&format!("pg{i:02}"));
        iam.create_user()
            .user_name(&name)
            .path(path)
            .send()
            .await
            .unwrap();
        names.insert(name);
    }
    names
}

#[tokio::test]
async fn list_users_pages() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let path = format!("/{}/", unique("paged"));
    let names = make_users(&iam, &path, 7).await;

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = iam
            .list_users()
            .path_prefix(&path)
            .max_items(3)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.users().len() <= 3);
        seen.extend(out.users().iter().map(|u| u.user_name().to_string()));
        if out.is_truncated() {
            assert_eq!(out.users().len(), 3, "a truncated page is full");
            let m = out.marker().expect("Marker on a truncated page");
            assert!(!m.is_empty());
            marker = Some(m.to_string());
        } else {
            assert!(out.marker().is_none(), "no Marker on the last page");
            break;
        }
        assert!(pages < 10, "runaway paging");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7, "no duplicates across pages: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), names);

    // Exactly MaxItems remaining: not truncated.
    let all = iam
        .list_users()
        .path_prefix(&path)
        .max_items(7)
        .send()
        .await
        .unwrap();
    assert_eq!(all.users().len(), 7);
    assert!(!all.is_truncated());
    assert!(all.marker().is_none());
}

#[tokio::test]
async fn sdk_paginator_walks_all_users() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let path = format!("/{}/", unique("paginator"));
    let names = make_users(&iam, &path, 5).await;
    let got: Vec<_> = iam
        .list_users()
        .path_prefix(&path)
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let got: BTreeSet<_> = got.iter().map(|u| u.user_name().to_string()).collect();
    assert_eq!(got, names);
}

#[tokio::test]
async fn path_prefix_filters() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let root = unique("org");
    let eng = make_users(&iam, &format!("/{root}/eng/"), 2).await;
    let ops = make_users(&iam, &format!("/{root}/ops/"), 3).await;

    let list = |prefix: String| {
        let iam = iam.clone();
        async move {
            iam.list_users()
                .path_prefix(prefix)
                .send()
                .await
                .unwrap()
                .users()
                .iter()
                .map(|u| u.user_name().to_string())
                .collect::<BTreeSet<_>>()
        }
    };
    assert_eq!(list(format!("/{root}/eng/")).await, eng);
    assert_eq!(list(format!("/{root}/ops/")).await, ops);
    let both: BTreeSet<_> = eng.union(&ops).cloned().collect();
    assert_eq!(list(format!("/{root}/")).await, both);
    // A prefix is a string prefix of the path, not only whole segments.
    assert_eq!(list(format!("/{root}/e")).await, eng);
    assert!(list(format!("/{root}/nothing/")).await.is_empty());
    // "/" matches everything.
    let everyone = list("/".to_string()).await;
    assert!(everyone.is_superset(&both));
}

#[tokio::test]
async fn list_groups_pages_and_filters() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let path = format!("/{}/", unique("gpaged"));
    let mut names = BTreeSet::new();
    for i in 0..5 {
        let g = unique(&format!("grp{i}"));
        iam.create_group()
            .group_name(&g)
            .path(&path)
            .send()
            .await
            .unwrap();
        names.insert(g);
    }
    let first = iam
        .list_groups()
        .path_prefix(&path)
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.groups().len(), 2);
    assert!(first.is_truncated());
    let mut seen: Vec<String> = first
        .groups()
        .iter()
        .map(|g| g.group_name().to_string())
        .collect();
    let mut marker = first.marker().map(str::to_string);
    while let Some(m) = marker {
        let next = iam
            .list_groups()
            .path_prefix(&path)
            .max_items(2)
            .marker(m)
            .send()
            .await
            .unwrap();
        seen.extend(next.groups().iter().map(|g| g.group_name().to_string()));
        marker = if next.is_truncated() {
            Some(next.marker().expect("marker").to_string())
        } else {
            None
        };
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), names);
}

#[tokio::test]
async fn get_group_members_page() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let group = unique("big-group");
    iam.create_group().group_name(&group).send().await.unwrap();
    let path = format!("/{}/", unique("members"));
    let names = make_users(&iam, &path, 5).await;
    for n in &names {
        iam.add_user_to_group()
            .group_name(&group)
            .user_name(n)
            .send()
            .await
            .unwrap();
    }
    let first = iam
        .get_group()
        .group_name(&group)
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.users().len(), 2);
    assert!(first.is_truncated());
    assert_eq!(first.group().unwrap().group_name(), group);
    let mut seen: Vec<String> = first
        .users()
        .iter()
        .map(|u| u.user_name().to_string())
        .collect();
    let mut marker = first.marker().map(str::to_string);
    let mut pages = 1;
    while let Some(m) = marker {
        let next = iam
            .get_group()
            .group_name(&group)
            .max_items(2)
            .marker(m)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(next.group().unwrap().group_name(), group);
        seen.extend(next.users().iter().map(|u| u.user_name().to_string()));
        marker = if next.is_truncated() {
            Some(next.marker().expect("marker").to_string())
        } else {
            None
        };
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 5);
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), names);
}

#[tokio::test]
async fn list_groups_for_user_pages() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("joiner");
    iam.create_user().user_name(&user).send().await.unwrap();
    let mut names = BTreeSet::new();
    for i in 0..3 {
        let g = unique(&format!("jg{i}"));
        iam.create_group().group_name(&g).send().await.unwrap();
        iam.add_user_to_group()
            .group_name(&g)
            .user_name(&user)
            .send()
            .await
            .unwrap();
        names.insert(g);
    }
    let first = iam
        .list_groups_for_user()
        .user_name(&user)
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.groups().len(), 2);
    assert!(first.is_truncated());
    let second = iam
        .list_groups_for_user()
        .user_name(&user)
        .max_items(2)
        .marker(first.marker().expect("marker"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.groups().len(), 1);
    assert!(!second.is_truncated());
    let seen: BTreeSet<_> = first
        .groups()
        .iter()
        .chain(second.groups())
        .map(|g| g.group_name().to_string())
        .collect();
    assert_eq!(seen, names);
}

#[tokio::test]
async fn list_access_keys_pages() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("twokeys");
    iam.create_user().user_name(&user).send().await.unwrap();
    let mut ids = BTreeSet::new();
    for _ in 0..2 {
        let k = iam
            .create_access_key()
            .user_name(&user)
            .send()
            .await
            .unwrap();
        ids.insert(k.access_key().unwrap().access_key_id().to_string());
    }
    let all = iam
        .list_access_keys()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(all.access_key_metadata().len(), 2);
    assert!(!all.is_truncated());

    let first = iam
        .list_access_keys()
        .user_name(&user)
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.access_key_metadata().len(), 1);
    assert!(first.is_truncated());
    let second = iam
        .list_access_keys()
        .user_name(&user)
        .max_items(1)
        .marker(first.marker().expect("marker"))
        .send()
        .await
        .unwrap();
    assert_eq!(second.access_key_metadata().len(), 1);
    assert!(!second.is_truncated());
    let seen: BTreeSet<_> = first
        .access_key_metadata()
        .iter()
        .chain(second.access_key_metadata())
        .map(|k| k.access_key_id().unwrap().to_string())
        .collect();
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn default_page_holds_100_users() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let path = format!("/{}/", unique("hundred"));
    let names = make_users(&iam, &path, 101).await;
    // AWS's default MaxItems is 100.
    let first = iam.list_users().path_prefix(&path).send().await.unwrap();
    assert_eq!(first.users().len(), 100);
    assert!(first.is_truncated());
    let rest = iam
        .list_users()
        .path_prefix(&path)
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.users().len(), 1);
    assert!(!rest.is_truncated());
    let seen: BTreeSet<_> = first
        .users()
        .iter()
        .chain(rest.users())
        .map(|u| u.user_name().to_string())
        .collect();
    assert_eq!(seen, names);
}

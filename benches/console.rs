//! The web console's page time with 100,000 entities (issue 14: "a page renders in ≤ 50 ms"):
//!
//!   cargo bench --bench console
//!
//! An account shaped like `examples/scale_db.rs`'s (100,000 users with two tags, a group and a
//! policy each; 10,000 groups; 10,000 managed policies) plus 1,000 roles, in an in-memory store.
//! Each page is one request through localiam's router (`open` mode: the console's guard, the
//! handler, the HTML rendered and collected), as a browser would fetch it, without the socket.
//!
//! `cargo test` (and `.ci/run`) runs every page once on a state of 1,000 users instead: a check
//! that each answers 200, in a second or two of a debug build.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use localiam::config::Config;
use localiam::state::App;
use localiam::store::model::{AccessKey, Group, ManagedPolicy, Role, Tag, User};
use localiam::store::StoreError;
use tower_service::Service;

const ACCOUNT: &str = "000000000000";
const CHUNK: usize = 1000;
/// Policy `i`'s document: each its own bucket (documents differ, as they would).
fn doc(i: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::bucket-{i:06}/*"}}]}}"#
    )
}
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Entities of each family: (users, groups, policies, roles).
fn sizes() -> (usize, usize, usize, usize) {
    // Criterion's measuring run has `--bench`; `cargo test` runs the pages once, on less.
    if std::env::args().any(|a| a == "--bench") {
        (100_000, 10_000, 10_000, 1_000)
    } else {
        (1_000, 100, 100, 100)
    }
}

/// A server state holding the account above.
async fn filled(users: usize, groups: usize, policies: usize, roles: usize) -> App {
    let mut config = Config::default_for_tests();
    config.db = ":memory:".into();
    let app = localiam::server::build_app(config).await.expect("app");
    let store = &app.store;
    let mut policy_ids = Vec::with_capacity(policies);
    for start in (0..policies).step_by(CHUNK) {
        let ids = store
            .write(move |tx| {
                let mut ids = Vec::new();
                for i in start..(start + CHUNK).min(policies) {
                    let p =
                        ManagedPolicy::new(ACCOUNT, &format!("policy-{i:06}"), "/", None, &doc(i));
                    ids.push(tx.insert(p)?.policy_id.clone());
                }
                Ok::<_, StoreError>(ids)
            })
            .await
            .expect("policies");
        policy_ids.extend(ids);
    }
    let mut group_ids = Vec::with_capacity(groups);
    for start in (0..groups).step_by(CHUNK) {
        let pids = policy_ids.clone();
        let ids = store
            .write(move |tx| {
                let mut ids = Vec::new();
                for i in start..(start + CHUNK).min(groups) {
                    let mut g = Group::new(ACCOUNT, &format!("group-{i:06}"), "/");
                    g.attached.push(pids[i % pids.len()].clone());
                    ids.push(tx.insert(g)?.group_id.clone());
                }
                Ok::<_, StoreError>(ids)
            })
            .await
            .expect("groups");
        group_ids.extend(ids);
    }
    for start in (0..users).step_by(CHUNK) {
        let (pids, gids) = (policy_ids.clone(), group_ids.clone());
        store
            .write(move |tx| {
                for i in start..(start + CHUNK).min(users) {
                    let mut u = User::new(ACCOUNT, &format!("user-{i:06}"), "/scale/");
                    u.tags = vec![Tag::new("team", "scale"), Tag::new("index", &i.to_string())];
                    u.groups.push(gids[i % gids.len()].clone());
                    u.attached.push(pids[i % pids.len()].clone());
                    if i == users / 2 {
                        // The user whose page is measured: keys and an inline policy too.
                        u.access_keys = vec![AccessKey::generate(), AccessKey::generate()];
                        // policy-000000's document laid out otherwise (a finding).
                        u.inline.put("inline", &doc(0).replace(',', ", "));
                    }
                    tx.insert(u)?;
                }
                Ok::<_, StoreError>(())
            })
            .await
            .expect("users");
    }
    for start in (0..roles).step_by(CHUNK) {
        let pids = policy_ids.clone();
        store
            .write(move |tx| {
                for i in start..(start + CHUNK).min(roles) {
                    let mut r = Role::new(ACCOUNT, &format!("role-{i:06}"), "/", TRUST);
                    r.attached.push(pids[i % pids.len()].clone());
                    tx.insert(r)?;
                }
                Ok::<_, StoreError>(())
            })
            .await
            .expect("roles");
    }
    app
}

/// One GET through the router: the status and the body.
async fn get(router: &mut axum::Router, uri: &str) -> (u16, bytes::Bytes) {
    let req = http::Request::get(uri)
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = router.call(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, body)
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (users, groups, policies, roles) = sizes();
    let app = rt.block_on(filled(users, groups, policies, roles));
    let router = localiam::http::router(app.clone());
    let home = "/_localiam/console";
    let a = format!("{home}/a/{ACCOUNT}");
    let last = users - 1;
    // (name, path, a text the page shows, a text it does not)
    let cases = [
        (
            "accounts",
            home.to_string(),
            ACCOUNT.to_string(),
            "No such".into(),
        ),
        (
            "users_first_page",
            format!("{a}/users"),
            "user-000049".into(),
            "user-000050<".into(),
        ),
        // `USER-09999` (at 100,000 users) names ten users, the last ones: the search walks
        // every name to find them, case-insensitively.
        (
            "users_search_few",
            format!("{a}/users?q=USER-{:05}", last / 10),
            format!("user-{last:06}"),
            format!("user-{:06}<", last - 10),
        ),
        (
            "users_search_none",
            format!("{a}/users?q=nobody"),
            "0 in all".replace('0', &users.to_string()),
            "/users/user-".into(),
        ),
        (
            "users_deep_page",
            format!("{a}/users?after=user-{:06}", users - users / 10),
            format!("user-{:06}<", users - users / 10 + 50),
            format!("user-{:06}<", users - users / 10),
        ),
        (
            "user_page",
            format!("{a}/users/user-{:06}", users / 2),
            "AKIA".into(),
            "bench-secret".into(),
        ),
        (
            "group_page",
            format!("{a}/groups/group-{:06}", groups / 2),
            format!("user-{:06}", groups / 2),
            "No such".into(),
        ),
        (
            "role_page",
            format!("{a}/roles/role-{:06}", roles / 2),
            "lambda.amazonaws.com".into(),
            "No such".into(),
        ),
        (
            "policy_page",
            format!("{a}/policies/policy-{:06}", policies / 2),
            "s3:GetObject".into(),
            "No such".into(),
        ),
        (
            "roles_search_none",
            format!("{a}/roles?q=nobody"),
            format!("{roles} in all"),
            "/roles/role-".into(),
        ),
        (
            "trust_first_page",
            format!("{a}/trust"),
            "<svg".into(),
            "No such".into(),
        ),
        (
            "findings",
            format!("{a}/findings"),
            "is the same as the managed policy policy-000000".into(),
            "No findings".into(),
        ),
    ];
    let mut group = c.benchmark_group(format!("console_{users}_users"));
    for (name, uri, shows, hides) in &cases {
        let mut r = router.clone();
        let (status, body) = rt.block_on(get(&mut r, uri));
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{name}: {uri}");
        assert!(
            body.contains(shows.as_str()),
            "{name}: no {shows} in {body}"
        );
        assert!(!body.contains(hides.as_str()), "{name}: {hides} in {body}");
        group.bench_function(*name, |b| {
            b.iter(|| black_box(rt.block_on(get(&mut r, uri))))
        });
    }
    group.finish();
    drop(router);
    rt.block_on(app.store.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = pages
}
criterion_main!(benches);

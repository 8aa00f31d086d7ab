//! The admin endpoints outside `open` (design notes §2): every route README's admin table lists
//! answers an unsigned request, and one signed by anyone but the default account's root, with 403
//! in `strict`, `audit` and `enforce`, except the public ones (health, metrics, the issuers'
//! OpenID documents); the root's signature passes. And `GET /_localiam/metrics` counts requests,
//! decisions and entities.

use crate::common;

use common::*;

/// The routes that answer anyone in every mode.
const PUBLIC: [&str; 4] = [
    "/_localiam/health",
    "/_localiam/metrics",
    "/_localiam/oidc/{account}/.well-known/jwks.json",
    "/_localiam/oidc/{account}/.well-known/openid-configuration",
];

/// (method, route) of every admin endpoint README's table names.
fn documented_routes() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("### Admin endpoints")
        .nth(1)
        .expect("README has an admin endpoints section");
    let mut routes = Vec::new();
    for row in table.lines().skip_while(|l| !l.starts_with('|')) {
        if !row.starts_with('|') {
            break;
        }
        let first = row.split('|').nth(1).unwrap_or_default();
        for method in ["GET", "POST", "PUT", "DELETE"] {
            for (i, _) in first.match_indices(&format!("{method} /")) {
                let route: String = first[i + method.len() + 1..]
                    .chars()
                    .take_while(|c| !matches!(c, '`' | ' ' | '[' | '?'))
                    .collect();
                routes.push((method.to_string(), route));
            }
        }
    }
    routes
}

#[test]
fn the_table_lists_the_admin_routes() {
    let routes = documented_routes();
    for expected in [
        ("GET", "/_localiam/health"),
        ("GET", "/_localiam/metrics"),
        ("POST", "/_localiam/reset"),
        ("POST", "/moto-api/reset"),
        ("POST", "/_localiam/authorize"),
        ("GET", "/_localiam/decisions"),
        ("GET", "/_localiam/notifications"),
        ("POST", "/_localiam/oidc-keys"),
    ] {
        assert!(
            routes
                .iter()
                .any(|(m, r)| (m.as_str(), r.as_str()) == expected),
            "{expected:?} not in {routes:?}"
        );
    }
}

#[tokio::test]
async fn admin_routes_answer_only_the_root_outside_open() {
    let routes = documented_routes();
    for mode in [AuthMode::Strict, AuthMode::Audit, AuthMode::Enforce] {
        let srv = TestServer::start_auth(mode).await;
        let name = unique("not-root");
        srv.iam()
            .create_user()
            .user_name(&name)
            .send()
            .await
            .unwrap();
        let key = srv
            .iam()
            .create_access_key()
            .user_name(&name)
            .send()
            .await
            .unwrap();
        let key = key.access_key().unwrap();
        let raw = srv.raw();
        for (method, route) in &routes {
            let path = route.replace("{account}", DEFAULT_ACCOUNT);
            let unsigned = match method.as_str() {
                "GET" => raw.get(&path).await,
                _ => raw.post(&path, "application/json", b"{}".to_vec()).await,
            };
            let user = srv
                .admin_as(
                    key.access_key_id(),
                    key.secret_access_key(),
                    method,
                    &path,
                    b"{}",
                )
                .await;
            let what = format!("{mode:?} {method} {path}");
            if PUBLIC.contains(&route.as_str()) {
                assert_ne!(unsigned.status, 403, "{what}: {}", unsigned.body);
                continue;
            }
            for (who, r) in [("unsigned", &unsigned), ("a user's key", &user)] {
                assert_eq!(r.status, 403, "{what} {who}: {}", r.body);
                let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_else(|e| {
                    panic!("{what} {who}: not the admin 403 ({e}): {}", r.body)
                });
                assert!(v["error"].is_string(), "{what} {who}: {}", r.body);
            }
            // The root's signature passes (whatever the endpoint then answers).
            let signed = srv.admin(method, &path, b"{}").await;
            assert_ne!(
                signed.status, 403,
                "{what} signed by the root: {}",
                signed.body
            );
        }
        srv.stop().await;
    }
}

/// In `open`, the admin endpoints answer anyone (the laptop default).
#[tokio::test]
async fn admin_routes_answer_anyone_in_open() {
    let srv = TestServer::start().await;
    let r = srv.raw().get("/_localiam/decisions").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The metrics count each request by action and status, the decisions of `enforce` by result,
/// and the entities; scraping them needs no signature.
#[tokio::test]
async fn metrics_count_requests_decisions_and_entities() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let name = unique("metered");
    srv.iam()
        .create_user()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = srv
        .iam()
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    for _ in 0..3 {
        srv.iam().get_user().user_name(&name).send().await.unwrap();
    }
    let missing = srv.iam().get_user().user_name("nobody-here").send().await;
    assert_code(missing, "NoSuchEntity", 404);
    let user = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    assert_code(user.list_users().send().await, "AccessDenied", 403);
    assert_code(user.list_users().send().await, "AccessDenied", 403);

    let r = srv.raw().get("/_localiam/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.body;
    for line in [
        "localiam_requests_total{service=\"iam\",action=\"GetUser\",status=\"200\"} 3",
        "localiam_requests_total{service=\"iam\",action=\"GetUser\",status=\"404\"} 1",
        "localiam_requests_total{service=\"iam\",action=\"ListUsers\",status=\"403\"} 2",
        "localiam_requests_total{service=\"iam\",action=\"CreateUser\",status=\"200\"} 1",
        "localiam_request_duration_seconds_count 8",
        "localiam_decisions_total{decision=\"ImplicitDeny\"} 2",
        "localiam_decisions_total{decision=\"Allow\"} 0",
        "localiam_entities{kind=\"accounts\"} 1",
        "localiam_entities{kind=\"users\"} 1",
        "localiam_entities{kind=\"access_keys\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
    }
    assert!(text.contains("# TYPE localiam_request_duration_seconds histogram"));
    srv.stop().await;
}

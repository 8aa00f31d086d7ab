//! The web console (`/_localiam/console`) and the best-practice findings
//! (`GET /_localiam/findings`): what they show, that every value is escaped, and that outside
//! `open` the console needs the root's credentials.

use crate::common;

use common::*;
use serde_json::Value;

const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const IAM_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:*"],"Resource":"arn:aws:iam::000000000000:user/*"}}"#;
const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#;
const OPEN_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
const SAFE_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}"#;

/// Every finding of an account, as `GET /_localiam/findings?account=ID` answers it.
async fn findings_in(srv: &TestServer, account: &str) -> Vec<Value> {
    let r = srv
        .raw()
        .get(&format!("/_localiam/findings?account={account}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1, "{account} is reported: {v}");
    assert_eq!(accounts[0]["account_id"], account);
    accounts[0]["findings"].as_array().unwrap().clone()
}

/// `(check, name, practice)` of every finding of the default account.
async fn findings(srv: &TestServer) -> Vec<(String, String, String)> {
    findings_in(srv, DEFAULT_ACCOUNT)
        .await
        .iter()
        .map(|f| {
            assert!(f["practice"].as_str().is_some_and(|p| !p.is_empty()), "{f}");
            assert!(
                f["arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:")),
                "{f}"
            );
            (
                f["check"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
                f["practice"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(list: &[(String, String, String)], check: &str, name: &str) -> bool {
    list.iter().any(|(c, n, _)| c == check && n == name)
}

#[tokio::test]
async fn findings_name_the_practice_and_the_entity() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    // A clean account has nothing to report.
    assert!(findings(&srv).await.is_empty());

    let careless = unique("careless");
    iam.create_user().user_name(&careless).send().await.unwrap();
    iam.create_login_profile()
        .user_name(&careless)
        .password("Correct-Horse-9!")
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        iam.create_access_key()
            .user_name(&careless)
            .send()
            .await
            .unwrap();
    }
    let careful = unique("careful");
    iam.create_user().user_name(&careful).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&careless)
        .policy_name("everything")
        .policy_document(ADMIN)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&careless)
        .policy_name("read")
        .policy_document(READ)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&careful)
        .policy_name("read-too")
        .policy_document(READ)
        .send()
        .await
        .unwrap();
    let iam_all = unique("iam-all");
    create_policy(&iam, &iam_all, IAM_ALL).await;
    // The inline `everything`, laid out otherwise: a managed policy that would do.
    let admin = unique("admin");
    let admin_doc = "{ \"Statement\": [ {\"Resource\": \"*\", \"Action\": \"*\", \"Effect\": \"Allow\"} ],\n  \"Version\": \"2012-10-17\" }";
    create_policy(&iam, &admin, admin_doc).await;
    let open = unique("open-role");
    iam.create_role()
        .role_name(&open)
        .assume_role_policy_document(OPEN_TRUST)
        .send()
        .await
        .unwrap();
    let org = unique("org-role");
    iam.create_role()
        .role_name(&org)
        .assume_role_policy_document(SAFE_TRUST)
        .send()
        .await
        .unwrap();

    let list = findings(&srv).await;
    for (check, name) in [
        ("password-without-mfa", &careless),
        ("multiple-active-keys", &careless),
        ("unused-access-key", &careless),
        ("allows-everything", &careless),
        ("inline-instead-of-managed", &careless),
        ("inline-instead-of-managed", &careful),
        ("allows-iam-wildcard", &iam_all),
        ("open-trust-policy", &open),
    ] {
        assert!(has(&list, check, name), "no {check} for {name}: {list:?}");
    }
    let same = format!("inline policy everything is the same as the managed policy {admin}");
    assert!(
        findings_in(&srv, DEFAULT_ACCOUNT)
            .await
            .iter()
            .any(|f| f["check"] == "inline-instead-of-managed"
                && f["name"] == careless.as_str()
                && f["detail"].as_str().unwrap().starts_with(&same)),
        "{list:?}"
    );
    assert!(has(&list, "allows-everything", &admin));
    // The practice is named in the IAM User Guide's words.
    assert!(list
        .iter()
        .any(|(c, _, p)| c == "password-without-mfa"
            && p == "Require multi-factor authentication (MFA)"));
    // A conditioned trust policy, a fresh user with no password, fresh roles: nothing.
    assert!(!list.iter().any(|(_, n, _)| n == &org), "{list:?}");
    assert!(!has(&list, "password-without-mfa", &careful));
    assert!(!list
        .iter()
        .any(|(c, _, _)| c == "unused-user" || c == "unused-role"));

    // Deactivating a key leaves one active key: no longer "more than one".
    let keys = iam
        .list_access_keys()
        .user_name(&careless)
        .send()
        .await
        .unwrap();
    let first = keys.access_key_metadata()[0]
        .access_key_id()
        .unwrap()
        .to_string();
    iam.update_access_key()
        .user_name(&careless)
        .access_key_id(&first)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let list = findings(&srv).await;
    assert!(!has(&list, "multiple-active-keys", &careless), "{list:?}");
    assert!(has(&list, "unused-access-key", &careless));

    // An account filter.
    let r = srv
        .raw()
        .get("/_localiam/findings?account=111111111111")
        .await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["accounts"], serde_json::json!([]));
    srv.stop().await;
}

/// The `root-recently-used` finding of a list, if any.
fn root_recently_used(list: &[Value]) -> Option<Value> {
    list.iter()
        .find(|f| f["check"] == "root-recently-used")
        .cloned()
}

/// The root user's row of the caller's account's credential report, split into its columns.
async fn root_row(iam: &aws_sdk_iam::Client) -> Vec<String> {
    iam.generate_credential_report().send().await.unwrap();
    let report = iam.get_credential_report().send().await.unwrap();
    let text = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert!(row.starts_with("<root_account>,"), "{text}");
    row.split(',').map(str::to_string).collect()
}

#[tokio::test]
async fn a_root_user_used_lately_is_a_finding_and_in_the_credential_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("root.db").to_str().unwrap().to_string();
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    // Nothing signed yet.
    assert_eq!(
        root_recently_used(&findings_in(&srv, DEFAULT_ACCOUNT).await),
        None
    );

    // Two more accounts whose roots have an access key each, made by the account's root (in
    // `open` an unknown 12-digit key ID is its account's root: no key localiam knows, so its
    // calls are no recorded use).
    let (one, two) = ("111111111111", "222222222222");
    let mut keys = Vec::new();
    for account in [one, two] {
        let made = srv
            .iam_with(account, "anything", None)
            .create_access_key()
            .send()
            .await
            .unwrap();
        let k = made.access_key().unwrap();
        keys.push((
            k.access_key_id().to_string(),
            k.secret_access_key().to_string(),
        ));
        let list = findings_in(&srv, account).await;
        assert_eq!(root_recently_used(&list), None, "{list:?}");
        assert!(list.iter().any(|f| f["check"] == "root-access-key"));
    }

    // A call signed with the default account's root key.
    let iam = srv.iam();
    iam.list_users().send().await.unwrap();
    let f = root_recently_used(&findings_in(&srv, DEFAULT_ACCOUNT).await)
        .expect("root-recently-used after a root call");
    assert_eq!(f["kind"], "root");
    assert_eq!(f["name"], "root");
    assert_eq!(f["arn"], format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root"));
    assert_eq!(
        f["practice"],
        "Safeguard your root user credentials and don't use them for everyday tasks"
    );
    let detail = f["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("with the access key {ROOT_KEY}")) && detail.contains("today"),
        "{detail}"
    );

    // The console's findings page links the finding to the account's page, which says when.
    let b = Browser::new(&srv);
    let page = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/findings")).await,
        "findings",
    );
    let link = format!("<a href=\"{HOME}/a/{DEFAULT_ACCOUNT}\">root</a>");
    assert!(
        page.contains("root-recently-used") && page.contains(&link),
        "{page}"
    );
    let page = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}")).await,
        "account",
    );
    assert!(page.contains("last used"), "{page}");

    // Account one's root key signs a call: account one has the finding, account two not.
    let root_one = srv.iam_with(&keys[0].0, &keys[0].1, None);
    root_one.list_users().send().await.unwrap();
    let f = root_recently_used(&findings_in(&srv, one).await).expect("account one's root");
    assert!(f["detail"].as_str().unwrap().contains(&keys[0].0), "{f}");
    assert_eq!(root_recently_used(&findings_in(&srv, two).await), None);

    // The credential report's root row: the key's last use, where and for what.
    let row = root_row(&iam).await;
    assert_eq!(row[8], "true", "{row:?}");
    assert!(row[10].ends_with("+00:00"), "{row:?}");
    assert_eq!(&row[11..13], ["us-east-1", "iam"]);
    assert_eq!(row[4], "no_information", "no console login: {row:?}");
    let row = root_row(&root_one).await;
    assert!(row[10].ends_with("+00:00"), "{row:?}");
    assert_eq!(&row[11..13], ["us-east-1", "iam"]);
    let row = root_row(&srv.iam_with(two, "anything", None)).await;
    assert_eq!(row[8], "true", "account two's key: {row:?}");
    assert_eq!(&row[10..13], ["N/A", "N/A", "N/A"], "never used: {row:?}");

    // Written to the database by the background flush (at the latest when the server stops), the
    // uses outlive a restart: the findings come before any call of the new run.
    srv.stop().await;
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    assert!(root_recently_used(&findings_in(&srv, DEFAULT_ACCOUNT).await).is_some());
    assert!(root_recently_used(&findings_in(&srv, one).await).is_some());
    assert_eq!(root_recently_used(&findings_in(&srv, two).await), None);
    let settings = srv
        .app()
        .store
        .read()
        .account(DEFAULT_ACCOUNT)
        .settings()
        .cloned()
        .unwrap();
    let stored = settings
        .root_key_last_used
        .clone()
        .expect("stored in the account's settings");
    assert_eq!(
        (stored.service.as_str(), stored.region.as_str()),
        ("iam", "us-east-1")
    );

    // A use more than 90 days ago is no finding; one 89 days ago is.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (days, reported) in [(91, false), (89, true)] {
        srv.app()
            .store
            .write(move |tx| {
                tx.update_settings(one, |s| {
                    s.root_access_keys[0].last_used = Some(localiam::store::model::KeyLastUsed {
                        date: now - days * 86_400,
                        service: "iam".into(),
                        region: "us-east-1".into(),
                    })
                })
            })
            .await
            .unwrap();
        let f = root_recently_used(&findings_in(&srv, one).await);
        assert_eq!(f.is_some(), reported, "{days} days: {f:?}");
        if let Some(f) = f {
            assert!(f["detail"].as_str().unwrap().contains("89 days ago"), "{f}");
        }
    }
    srv.stop().await;
}

const HOME: &str = "/_localiam/console";
const EVIL: &str = "<script>alert(1)</script>";

/// A client that keeps redirects to itself (to see them) and sends `cookie` when given.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

impl Browser {
    fn new(srv: &TestServer) -> Browser {
        Browser {
            base: srv.url(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let resp = req.send().await.unwrap();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (location, set_cookie) = (header("location"), header("set-cookie"));
        Page {
            status: resp.status().as_u16(),
            location,
            set_cookie,
            body: resp.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.client.post(format!("{}{path}", self.base)).form(form))
            .await
    }

    /// Logs in with the root's credentials; keeps the session cookie.
    async fn login(&mut self) {
        let r = self
            .post(
                &format!("{HOME}/login"),
                &[
                    ("access_key_id", ROOT_KEY),
                    ("secret_access_key", ROOT_SECRET),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let cookie = r.set_cookie.expect("a session cookie");
        self.cookie = Some(cookie.split(';').next().unwrap().to_string());
    }
}

fn ok(p: &Page, what: &str) -> String {
    assert_eq!(p.status, 200, "{what}: {} {:?}", p.body, p.location);
    p.body.clone()
}

/// The CSRF token of the page's logout form.
fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_console_shows_the_sdk_entities_and_escapes_every_value() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("alice");
    iam.create_user().user_name(&user).send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let group = unique("devs");
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&user)
        .send()
        .await
        .unwrap();
    // Values that would run as script if they were not escaped: a role's description, a policy's
    // description and documents. (Names and tags cannot hold `<`: AWS's patterns refuse it.)
    let tagged = iam
        .tag_user()
        .user_name(&user)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("note")
                .value(EVIL)
                .build()
                .unwrap(),
        )
        .send()
        .await;
    assert_code(tagged, "ValidationError", 400);
    let role = unique("app");
    iam.create_role()
        .role_name(&role)
        .description(EVIL)
        .assume_role_policy_document(OPEN_TRUST)
        .send()
        .await
        .unwrap();
    let policy = unique("evil-policy");
    let evil_doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/{EVIL}"}}]}}"#
    );
    let arn = iam
        .create_policy()
        .policy_name(&policy)
        .description(EVIL)
        .policy_document(&evil_doc)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.attach_role_policy()
        .role_name(&role)
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("evil-inline")
        .policy_document(&evil_doc)
        .send()
        .await
        .unwrap();

    let b = Browser::new(&srv);
    // In `open` no login: the accounts page at once.
    let home = ok(&b.get(HOME).await, "home");
    assert!(home.contains(DEFAULT_ACCOUNT));
    assert!(!home.contains("Log out"));
    let users = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/users")).await,
        "users",
    );
    assert!(users.contains(&user), "{users}");
    // Search: a name that matches, one that does not.
    let found = ok(
        &b.get(&format!(
            "{HOME}/a/{DEFAULT_ACCOUNT}/users?q={}",
            &user[..7]
        ))
        .await,
        "search",
    );
    assert!(found.contains(&user));
    let none = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/users?q=zzz-nobody"))
            .await,
        "search",
    );
    assert!(!none.contains(&user));

    let page = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/users/{user}"))
            .await,
        "user",
    );
    assert!(page.contains(key.access_key_id()));
    assert!(page.contains(&group));
    assert!(
        !page.contains(key.secret_access_key()),
        "a secret on the page"
    );
    let role_page = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/roles/{role}"))
            .await,
        "role",
    );
    assert!(role_page.contains(&policy));
    assert!(role_page.contains("sts:AssumeRole"), "the trust policy");
    let policy_page = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/policies/{policy}"))
            .await,
        "policy",
    );
    let aws_policy = ok(
        &b.get(&format!(
            "{HOME}/a/{DEFAULT_ACCOUNT}/policies/AdministratorAccess?aws=1"
        ))
        .await,
        "aws policy",
    );
    assert!(aws_policy.contains("arn:aws:iam::aws:policy/AdministratorAccess"));
    let trust = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/trust")).await,
        "trust",
    );
    assert!(trust.contains("<svg") && trust.contains(&role) && trust.contains("AWS: *"));
    let findings = ok(
        &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/findings")).await,
        "findings",
    );
    assert!(findings.contains("open-trust-policy"));

    // Every value is escaped: no script element from the data, the text shown instead.
    let pages = [
        ("role", role_page),
        ("user", page),
        ("policy", policy_page),
        ("trust", trust),
        (
            "roles",
            ok(
                &b.get(&format!("{HOME}/a/{DEFAULT_ACCOUNT}/roles")).await,
                "roles",
            ),
        ),
    ];
    for (what, body) in &pages {
        assert!(!body.contains("<script>alert"), "{what}: {body}");
    }
    for (what, body) in &pages[..3] {
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{what}: {body}"
        );
    }
    // The only script is the console's own, and the pages forbid any other.
    let r = srv.raw().get(HOME).await;
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let js = srv.raw().get(&format!("{HOME}/assets/console.js")).await;
    assert_eq!(js.status, 200);
    srv.stop().await;
}

#[tokio::test]
async fn outside_open_the_console_needs_the_root_credentials() {
    for mode in [AuthMode::Strict, AuthMode::Enforce] {
        let srv = TestServer::start_auth(mode).await;
        let mut b = Browser::new(&srv);
        for path in [
            HOME.to_string(),
            format!("{HOME}/a/{DEFAULT_ACCOUNT}/users"),
            format!("{HOME}/decisions"),
            format!("{HOME}/simulate?actions=iam:GetUser"),
        ] {
            let r = b.get(&path).await;
            assert_eq!(r.status, 303, "{mode:?} {path}: {}", r.body);
            assert_eq!(r.location.as_deref(), Some("/_localiam/console/login"));
        }
        // A SigV4 signature by the root is not a console session (the client follows the
        // redirect to the login form).
        let signed = srv.admin("GET", HOME, b"").await;
        assert!(
            signed.body.contains("secret_access_key"),
            "{mode:?}: {}",
            signed.body
        );
        assert!(!signed.body.contains("Log out"));
        // The stylesheet and the login form answer.
        assert_eq!(
            b.get(&format!("{HOME}/assets/console.css")).await.status,
            200
        );
        let form = ok(&b.get(&format!("{HOME}/login")).await, "login form");
        assert!(form.contains("secret_access_key"));
        // Wrong credentials: refused, no cookie.
        for (k, s) in [(ROOT_KEY, "wrong"), ("AKIAWRONG", ROOT_SECRET), ("", "")] {
            let r = b
                .post(
                    &format!("{HOME}/login"),
                    &[("access_key_id", k), ("secret_access_key", s)],
                )
                .await;
            assert_eq!(r.status, 401, "{mode:?} {k}/{s}");
            assert!(r.set_cookie.is_none());
        }
        // A forged cookie is no session.
        b.cookie = Some("localiam_console=00ff".into());
        assert_eq!(b.get(HOME).await.status, 303);
        // A login is a use of the root user: the credential report's `password_last_used`.
        assert_eq!(root_row(&srv.iam()).await[4], "no_information");
        b.login().await;
        let row = root_row(&srv.iam()).await;
        assert!(row[4].ends_with("+00:00"), "{mode:?}: {row:?}");
        let r = b
            .post(
                &format!("{HOME}/login"),
                &[
                    ("access_key_id", ROOT_KEY),
                    ("secret_access_key", ROOT_SECRET),
                ],
            )
            .await;
        let set = r.set_cookie.unwrap();
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/_localiam/console"] {
            assert!(set.contains(attr), "{set}");
        }
        let home = ok(&b.get(HOME).await, "home after login");
        assert!(home.contains(DEFAULT_ACCOUNT) && home.contains("Log out"));
        // The JSON findings stay behind the admin guard (SigV4), cookie or not.
        assert_eq!(
            b.get("/_localiam/findings").await.status,
            403,
            "{mode:?} findings"
        );
        // Logging out needs the CSRF token.
        let token = csrf(&home);
        let r = b
            .post(&format!("{HOME}/logout"), &[("csrf", "forged")])
            .await;
        assert_eq!(r.status, 403);
        assert_eq!(b.get(HOME).await.status, 200, "still logged in");
        let r = b.post(&format!("{HOME}/logout"), &[("csrf", &token)]).await;
        assert_eq!(r.status, 303);
        assert_eq!(b.get(HOME).await.status, 303, "the session is gone");
        srv.stop().await;
    }
}

#[tokio::test]
async fn a_denied_call_shows_its_deciding_statement_and_a_proposal() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let iam = srv.iam();
    let user = unique("bob");
    iam.create_user().user_name(&user).send().await.unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadUsers","Effect":"Allow","Action":"iam:GetUser","Resource":"*"},{"Sid":"NoListing","Effect":"Deny","Action":"iam:ListUsers","Resource":"*"},{"Sid":"FarAway","Effect":"Deny","Action":"iam:ListRoles","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}"#;
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("mixed")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let unrelated = iam
        .create_policy()
        .policy_name("unrelated")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(&user)
        .policy_arn(unrelated.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let bob = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    bob.get_user().user_name(&user).send().await.unwrap();
    assert_code(bob.list_users().send().await, "AccessDenied", 403);
    assert_code(bob.list_roles().send().await, "AccessDenied", 403);

    let mut b = Browser::new(&srv);
    b.login().await;
    let arn = format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/{user}");
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("principal", &arn)
        .append_pair("action", "iam:ListUsers")
        .append_pair("decision", "deny")
        .finish();
    let page = ok(&b.get(&format!("{HOME}/decisions?{q}")).await, "decisions");
    assert!(page.contains("ExplicitDeny"), "{page}");
    assert!(
        page.contains(">iam:ListUsers</span> on ") && !page.contains(">iam:ListRoles</span> on "),
        "filtered by action: {page}"
    );
    // The deciding statement is highlighted inside its policy document.
    let at = page
        .find("<mark class=\"stmt deciding\">")
        .expect("a highlighted statement");
    let marked = &page[at..page[at..].find("</mark>").unwrap() + at];
    assert!(
        marked.contains("NoListing") && !marked.contains("ReadUsers"),
        "{marked}"
    );
    assert!(page.contains("is not authorized to perform: iam:ListUsers"));
    // An implicit deny names no statement.
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("action", "iam:ListRoles")
        .finish();
    let page = ok(&b.get(&format!("{HOME}/decisions?{q}")).await, "decisions");
    assert!(page.contains("ImplicitDeny") && page.contains("No statement matched"));
    // Every policy considered is shown, with the request context its conditions read.
    assert!(page.contains("Policies considered (2)"), "{page}");
    assert!(
        page.contains("<strong>mixed</strong>") && page.contains("<strong>unrelated</strong>"),
        "{page}"
    );
    assert!(page.contains("(no statement matched)"), "{page}");
    let context = &page[page.find("Request context").expect("the context")..];
    assert!(
        context.contains("aws:sourceip") && context.contains("127.0.0.1"),
        "{context}"
    );

    // The proposal: what it did, and with include_denied what it was refused.
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("principal", &arn)
        .append_pair("include_denied", "on")
        .finish();
    let page = ok(&b.get(&format!("{HOME}/proposal?{q}")).await, "proposal");
    assert!(page.contains("data-copy=\"proposal\""));
    for action in ["iam:GetUser", "iam:ListUsers", "iam:ListRoles"] {
        assert!(page.contains(action), "{action}: {page}");
    }

    // The simulator, through SimulatePrincipalPolicy.
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("principal", &arn)
        .append_pair("actions", "iam:GetUser iam:ListUsers iam:DeleteUser")
        .finish();
    let page = ok(&b.get(&format!("{HOME}/simulate?{q}")).await, "simulate");
    let results = &page[page.find("sim-results").expect("a results table")..];
    for (action, decision) in [
        ("iam:GetUser", "allowed"),
        ("iam:ListUsers", "explicitDeny"),
        ("iam:DeleteUser", "implicitDeny"),
    ] {
        let row = &results[results.find(&format!(">{action}<")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains(decision), "{action}: {row}");
    }
    // A custom policy alone, and a malformed one answered in AWS's words.
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("policy", READ)
        .append_pair("actions", "iam:GetUser")
        .finish();
    let page = ok(&b.get(&format!("{HOME}/simulate?{q}")).await, "custom");
    assert!(page.contains("allowed"), "{page}");
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("policy", "{not json")
        .append_pair("actions", "iam:GetUser")
        .finish();
    let page = ok(&b.get(&format!("{HOME}/simulate?{q}")).await, "malformed");
    assert!(
        page.contains("InvalidInput: Syntax errors in policy."),
        "{page}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn lists_page_by_fifty_in_name_order() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    for i in 0..53 {
        iam.create_group()
            .group_name(format!("team-{i:03}"))
            .send()
            .await
            .unwrap();
    }
    let b = Browser::new(&srv);
    let base = format!("{HOME}/a/{DEFAULT_ACCOUNT}/groups");
    let first = ok(&b.get(&base).await, "page 1");
    assert!(first.contains(">team-000<") && first.contains(">team-049<"));
    assert!(!first.contains(">team-050<"));
    assert!(first.contains("53 in all"));
    let at = first.find("after=").expect("a next-page link") + 6;
    let marker = &first[at..at + first[at..].find('"').unwrap()];
    assert_eq!(marker, "team-049");
    let second = ok(&b.get(&format!("{base}?after={marker}")).await, "page 2");
    assert!(second.contains(">team-050<") && second.contains(">team-052<"));
    assert!(!second.contains(">team-049<") && !second.contains("next page"));
    // A search pages too, and finds only matches.
    let found = ok(&b.get(&format!("{base}?q=TEAM-05")).await, "search");
    assert_eq!(found.matches("/groups/team-05").count(), 3, "{found}");
    srv.stop().await;
}

#[tokio::test]
async fn the_findings_page_counts_each_check_and_pages_by_200() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    // 120 users with a key never used and a password without MFA: 240 findings.
    for i in 0..120 {
        let name = format!("worker-{i:03}");
        iam.create_user().user_name(&name).send().await.unwrap();
        iam.create_access_key()
            .user_name(&name)
            .send()
            .await
            .unwrap();
        iam.create_login_profile()
            .user_name(&name)
            .password("Correct-Horse-9!")
            .send()
            .await
            .unwrap();
    }
    let b = Browser::new(&srv);
    let base = format!("{HOME}/a/{DEFAULT_ACCOUNT}/findings");
    let first = ok(&b.get(&base).await, "page 1");
    let rows = |page: &str| page.matches("<td class=\"mono\">").count();
    // The counts by check (three checks: the root's use too), then 200 findings.
    for count in [
        "<td class=\"mono\">unused-access-key</td><td>Regularly review and remove unused users, roles, permissions, policies, and credentials</td><td class=\"num\">120</td>",
        "<td class=\"mono\">password-without-mfa</td><td>Require multi-factor authentication (MFA)</td><td class=\"num\">120</td>",
    ] {
        assert!(first.contains(count), "{count} in {first}");
    }
    assert_eq!(rows(&first), 3 + 200);
    assert!(first.contains("1–200 of 241"), "{first}");
    let next = format!("href=\"{base}?from=200\"");
    assert!(first.contains(&next), "{first}");
    let second = ok(&b.get(&format!("{base}?from=200")).await, "page 2");
    assert_eq!(rows(&second), 3 + 41);
    assert!(second.contains("201–241 of 241") && !second.contains("next page"));
    // Past the end: the counts, no findings.
    let past = ok(&b.get(&format!("{base}?from=5000")).await, "past the end");
    assert_eq!(rows(&past), 3);
    srv.stop().await;
}

//! The console in a real browser: Debian's headless Chromium driven through chromedriver
//! (WebDriver, the fantoccini client). Logs in under `enforce`, finds a user created through the
//! SDK, opens a denied decision and sees the deciding statement highlighted, runs a simulation,
//! and takes a screenshot of each page (into the target directory; `LOCALIAM_BLESS=1` writes them
//! to `docs/screenshots/`, which README shows).
//!
//! Needs `chromium` and `chromium-driver` (installed by `.ci/run`, which sets
//! `LOCALIAM_REQUIRE_BROWSER=1`); without them and that variable the test says so and passes.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};

const HOME: &str = "/_localiam/console";

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_browser(driver_bin: &PathBuf, profile: &std::path::Path) -> (Driver, Client) {
    let port = free_port();
    let child = Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "goog:chromeOptions": {
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,860",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }))
    .unwrap();
    let url = format!("http://127.0.0.1:{}", driver.port);
    // chromedriver takes a moment to listen.
    let mut last = None;
    for _ in 0..100 {
        let mut builder = ClientBuilder::rustls().expect("a TLS connector");
        builder.capabilities(caps.clone());
        match builder.connect(&url).await {
            Ok(c) => return (driver, c),
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no WebDriver session: {last:?}");
}

/// Saves a screenshot: always under the target directory, and into `docs/screenshots/` with
/// `LOCALIAM_BLESS=1`.
async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var_os("LOCALIAM_BLESS").is_some() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits until the page's heading is `expected` (a click or a submit navigates asynchronously:
/// until then the old page answers).
async fn wait_h1(c: &Client, expected: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        if let Ok(h) = c.find(Locator::Css("h1")).await {
            if let Ok(t) = h.text().await {
                if t == expected {
                    return;
                }
                seen = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the heading stayed {seen:?}, not {expected:?}");
}

#[tokio::test]
async fn the_console_in_a_real_browser() {
    let Some(driver_bin) = chromedriver() else {
        assert!(
            std::env::var_os("LOCALIAM_REQUIRE_BROWSER").is_none(),
            "LOCALIAM_REQUIRE_BROWSER is set but chromedriver is not installed"
        );
        eprintln!("skipped: chromedriver not installed (apt-get install chromium chromium-driver)");
        return;
    };
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let iam = srv.iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.tag_user()
        .user_name("alice")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("payments")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-9!")
        .send()
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadUsers","Effect":"Allow","Action":["iam:GetUser","iam:ListUsers"],"Resource":"*"},{"Sid":"NoRoles","Effect":"Deny","Action":"iam:ListRoles","Resource":"*"}]}"#;
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("reader")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let alice = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    alice.get_user().user_name("alice").send().await.unwrap();
    alice.list_users().send().await.unwrap();
    assert_code(alice.list_roles().send().await, "AccessDenied", 403);

    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = start_browser(&driver_bin, profile.path()).await;
    let base = srv.url();
    let run = async {
        // The login form: the root's credentials.
        c.goto(&format!("{base}{HOME}")).await.unwrap();
        wait_h1(&c, "Log in").await;
        screenshot(&c, "login").await;
        let form = c.form(Locator::Css("form.login")).await.unwrap();
        form.set_by_name("access_key_id", ROOT_KEY).await.unwrap();
        form.set_by_name("secret_access_key", ROOT_SECRET)
            .await
            .unwrap();
        form.submit().await.unwrap();
        wait_h1(&c, "Accounts").await;
        assert!(text_of(&c, "main table").await.contains(DEFAULT_ACCOUNT));
        screenshot(&c, "accounts").await;

        // The user created through the SDK: search, then open it.
        c.goto(&format!("{base}{HOME}/a/{DEFAULT_ACCOUNT}/users?q=ali"))
            .await
            .unwrap();
        wait_h1(&c, &format!("Users · {DEFAULT_ACCOUNT}")).await;
        c.find(Locator::LinkText("alice"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_h1(&c, "User alice").await;
        let main = text_of(&c, "main").await;
        assert!(main.contains(key.access_key_id()) && main.contains("payments"));
        assert!(!main.contains(key.secret_access_key()));
        screenshot(&c, "user").await;

        // The denied call: open it, the deciding statement is highlighted.
        c.goto(&format!("{base}{HOME}/decisions?decision=deny"))
            .await
            .unwrap();
        wait_h1(&c, "Decisions").await;
        c.find(Locator::Css("details.decision summary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let mark = c
            .find(Locator::Css("details.decision[open] mark.deciding"))
            .await
            .unwrap();
        assert!(mark.is_displayed().await.unwrap());
        let marked = mark.text().await.unwrap();
        assert!(
            marked.contains("NoRoles") && !marked.contains("ReadUsers"),
            "{marked}"
        );
        assert!(text_of(&c, "details.decision[open]")
            .await
            .contains("is not authorized to perform: iam:ListRoles"));
        screenshot(&c, "decision").await;

        // The least-privilege proposal, copy button included.
        c.find(Locator::LinkText("a policy that would allow this"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_h1(&c, "Least-privilege proposal").await;
        let proposal = text_of(&c, "#proposal").await;
        assert!(proposal.contains("iam:ListRoles"), "{proposal}");
        c.find(Locator::Css("[data-copy]")).await.unwrap();
        screenshot(&c, "proposal").await;

        // Who can assume what.
        c.goto(&format!("{base}{HOME}/a/{DEFAULT_ACCOUNT}/trust"))
            .await
            .unwrap();
        let svg = text_of(&c, "svg").await;
        assert!(
            svg.contains("deployer") && svg.contains("ReadOnlyAccess"),
            "{svg}"
        );
        // Drawn as siblings (an unclosed shape would swallow the rest of the picture).
        let nested = c
            .execute(
                "return document.querySelectorAll('svg rect *, svg path *').length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(nested, serde_json::json!(0));
        let role_box = c.find(Locator::Css("svg a rect")).await.unwrap();
        assert!(role_box.is_displayed().await.unwrap());
        screenshot(&c, "trust").await;

        // A simulation through the form.
        c.goto(&format!("{base}{HOME}/simulate")).await.unwrap();
        wait_h1(&c, "Policy simulator").await;
        let form = c.form(Locator::Css("form.sim")).await.unwrap();
        form.set_by_name("principal", "arn:aws:iam::000000000000:user/alice")
            .await
            .unwrap();
        form.set_by_name("actions", "iam:GetUser iam:ListRoles iam:DeleteUser")
            .await
            .unwrap();
        form.submit().await.unwrap();
        let results = text_of(&c, "#sim-results").await;
        for d in ["allowed", "explicitDeny", "implicitDeny"] {
            assert!(results.contains(d), "{d}: {results}");
        }
        screenshot(&c, "simulator").await;

        c.goto(&format!("{base}{HOME}/a/{DEFAULT_ACCOUNT}/findings"))
            .await
            .unwrap();
        let findings = text_of(&c, "main").await;
        assert!(
            findings.contains("password-without-mfa")
                && findings.contains("Require multi-factor authentication (MFA)"),
            "{findings}"
        );
        screenshot(&c, "findings").await;
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), run).await;
    let _ = c.close().await;
    outcome.expect("the browser test took over two minutes");
    srv.stop().await;
}

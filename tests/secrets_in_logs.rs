//! No secret in any log line or error message (README, "Secrets"). The real binary runs with
//! `LOCALIAM_LOG=debug` (every crate's debug lines: hyper, sqlx, localiam's own) in `audit` mode
//! (every request signed, verified and decided), once with text logs and once with JSON logs,
//! through a scenario that creates every kind of secret localiam hands out or takes in: the root
//! secret key, access keys, login-profile passwords (created, updated, changed, refused), session
//! credentials (AssumeRole, GetSessionToken, GetFederationToken), service-specific credential
//! passwords (created, reset), a server certificate's private key (accepted and refused), a virtual
//! MFA device's seed; it also signs with wrong secrets and tokens. Then every line the process
//! wrote and every error the SDK reported is searched for each secret, as sent and URL-encoded;
//! and the database file is searched for the passwords (kept only as hashes). The server starts
//! from a seed file (`--init`) holding a known access key and a password, and the scenario ends
//! with a state export and its import, so those paths are searched too.

use crate::common;

use std::fmt::Debug;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const ROOT_KEY_ID: &str = "AKIAROOTLEAKCHECK001";
const ROOT_SECRET_KEY: &str = "rootSecretLeakCheck/0123456789abcdefghij";
const CERT: &str = include_str!("data/server-certs/rsa2048-cert.pem");
const KEY: &str = include_str!("data/server-certs/rsa2048-key.pem");
const OTHER_KEY: &str = include_str!("data/server-certs/ec256-key.pem");
const SEED_KEY_ID: &str = "AKIASEEDLEAKCHECK001";
const SEED_SECRET: &str = "seedSecretLeakCheck/0123456789abcdefghij";
const SEED_PASSWORD: &str = "Seeded-Passw0rd-LeakCheck!";
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// A localiam process whose stdout and stderr go to files.
struct Logged {
    child: Child,
    url: String,
    out: std::path::PathBuf,
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Logged {
    fn start(dir: &Path, format: &str) -> Logged {
        let out = dir.join(format!("{format}.log"));
        let db = dir.join("state.db");
        let seed = dir.join("seed.yaml");
        std::fs::write(
            &seed,
            format!(
                "accounts:\n  - users:\n      - UserName: seeded\n        AccessKeys:\n          - AccessKeyId: {SEED_KEY_ID}\n            SecretAccessKey: {SEED_SECRET}\n        LoginProfile:\n          Password: \"{SEED_PASSWORD}\"\n"
            ),
        )
        .expect("seed file");
        let file = std::fs::File::create(&out).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_localiam"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--auth",
                "audit",
                "--log-format",
                format,
                "--db",
                db.to_str().expect("temp path"),
                "--root-access-key",
                ROOT_KEY_ID,
                "--root-secret-key",
                ROOT_SECRET_KEY,
                "--init",
                seed.to_str().expect("temp path"),
            ])
            .env("LOCALIAM_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("spawn localiam");
        let mut server = Logged {
            child,
            url: String::new(),
            out,
        };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&server.out).unwrap_or_default();
            if let Some(i) = text.find("ready on http://") {
                let addr: String = text[i + "ready on http://".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect();
                server.url = format!("http://{addr}");
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "localiam did not get ready:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM (the log writer flushes on the way out), then everything the process wrote.
    fn stop(&mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None))
            && started.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut text = String::new();
        std::fs::File::open(&self.out)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("read the log");
        text
    }
}

/// The secrets a scenario created, and every error message it saw.
#[derive(Default)]
struct Seen {
    secrets: Vec<(String, String)>,
    passwords: Vec<(String, String)>,
    errors: Vec<String>,
}

impl Seen {
    /// A password: besides never being logged, it is stored only as a hash.
    fn password(&mut self, what: &str, value: &str) {
        self.secret(what, value);
        self.passwords.push((what.to_string(), value.to_string()));
    }
    fn secret(&mut self, what: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "{what} is too short to search for: {value:?}"
        );
        self.secrets.push((what.to_string(), value.to_string()));
    }
    /// An expected error: its code must be `code`; its whole text (message, raw body) is kept.
    fn error<T: Debug, E: Debug + aws_sdk_iam::error::ProvideErrorMetadata>(
        &mut self,
        r: Result<T, aws_sdk_iam::error::SdkError<E>>,
        code: &str,
    ) {
        let e = r.expect_err("an error");
        assert_eq!(
            e.as_service_error().and_then(|s| s.code()),
            Some(code),
            "{e:?}"
        );
        self.errors.push(format!("{e:?}"));
    }
}

fn ok<T, E: Debug>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

async fn scenario(url: &str, seen: &mut Seen) {
    seen.secret("root secret key", ROOT_SECRET_KEY);
    let iam = iam_client_with(url, ROOT_KEY_ID, ROOT_SECRET_KEY, None);
    let sts = sts_client_with(url, ROOT_KEY_ID, ROOT_SECRET_KEY, None);
    let account = ok(sts.get_caller_identity().send().await, "root identity")
        .account()
        .unwrap_or_default()
        .to_string();

    // A user with an access key, allowed everything.
    ok(iam.create_user().user_name("alice").send().await, "user");
    ok(
        iam.put_user_policy()
            .user_name("alice")
            .policy_name("all")
            .policy_document(ALLOW_ALL)
            .send()
            .await,
        "policy",
    );
    let key = ok(
        iam.create_access_key().user_name("alice").send().await,
        "access key",
    );
    let key = key.access_key().expect("key");
    let (key_id, key_secret) = (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    );
    seen.secret("access key secret", &key_secret);
    let alice = iam_client_with(url, &key_id, &key_secret, None);
    let alice_sts = sts_client_with(url, &key_id, &key_secret, None);
    ok(alice.get_user().send().await, "alice signs");
    seen.error(
        iam_client_with(
            url,
            &key_id,
            "wrongSecretLeakCheck0123456789abcdefghij",
            None,
        )
        .get_user()
        .send()
        .await,
        "SignatureDoesNotMatch",
    );

    // Passwords: created, updated, changed by the user, refused by the password policy, and a
    // wrong old password.
    let passwords = [
        "Pass-created-LEAK-1!",
        "Pass-updated-LEAK-2!",
        "Pass-changed-LEAK-3!",
        "short-LEAK4",
        "Pass-wrongold-LEAK-5!",
    ];
    for p in passwords {
        seen.password("password", p);
    }
    ok(
        iam.create_login_profile()
            .user_name("alice")
            .password(passwords[0])
            .send()
            .await,
        "login profile",
    );
    ok(
        iam.update_login_profile()
            .user_name("alice")
            .password(passwords[1])
            .send()
            .await,
        "update login profile",
    );
    ok(
        alice
            .change_password()
            .old_password(passwords[1])
            .new_password(passwords[2])
            .send()
            .await,
        "change password",
    );
    seen.error(
        alice
            .change_password()
            .old_password(passwords[4])
            .new_password("Pass-neverset-LEAK-6!")
            .send()
            .await,
        "AccessDenied",
    );
    seen.password("password", "Pass-neverset-LEAK-6!");
    ok(
        iam.update_account_password_policy()
            .minimum_password_length(16)
            .send()
            .await,
        "password policy",
    );
    ok(iam.create_user().user_name("bob").send().await, "bob");
    seen.error(
        iam.create_login_profile()
            .user_name("bob")
            .password(passwords[3])
            .send()
            .await,
        "PasswordPolicyViolation",
    );

    // Service-specific credentials: created and reset.
    let cred = ok(
        iam.create_service_specific_credential()
            .user_name("alice")
            .service_name("codecommit.amazonaws.com")
            .send()
            .await,
        "service credential",
    );
    let cred = cred.service_specific_credential().expect("credential");
    seen.secret("service password", cred.service_password());
    let reset = ok(
        iam.reset_service_specific_credential()
            .user_name("alice")
            .service_specific_credential_id(cred.service_specific_credential_id())
            .send()
            .await,
        "reset",
    );
    seen.password(
        "reset service password",
        reset
            .service_specific_credential()
            .map(|c| c.service_password())
            .expect("reset password"),
    );

    // A server certificate's private key (its base64 lines), accepted; another key, refused.
    for (what, pem) in [("private key", KEY), ("refused private key", OTHER_KEY)] {
        for line in pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 40)
        {
            seen.secret(what, line);
        }
    }
    ok(
        iam.upload_server_certificate()
            .server_certificate_name("web")
            .certificate_body(CERT)
            .private_key(KEY)
            .send()
            .await,
        "server certificate",
    );
    seen.error(
        iam.upload_server_certificate()
            .server_certificate_name("web2")
            .certificate_body(CERT)
            .private_key(OTHER_KEY)
            .send()
            .await,
        "KeyPairMismatch",
    );

    // A virtual MFA device's seed, used to enable it.
    let dev = ok(
        iam.create_virtual_mfa_device()
            .virtual_mfa_device_name("alice-phone")
            .send()
            .await,
        "mfa device",
    );
    let dev = dev.virtual_mfa_device().expect("device");
    let seed = String::from_utf8(dev.base32_string_seed().expect("seed").as_ref().to_vec())
        .expect("seed text");
    seen.secret("MFA seed", &seed);
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 30;
    ok(
        iam.enable_mfa_device()
            .user_name("alice")
            .serial_number(dev.serial_number())
            .authentication_code1(totp(&seed, step - 1))
            .authentication_code2(totp(&seed, step))
            .send()
            .await,
        "enable mfa",
    );

    // Session credentials, used (and misused).
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    ok(
        iam.create_role()
            .role_name("worker")
            .assume_role_policy_document(trust)
            .send()
            .await,
        "role",
    );
    ok(
        iam.put_role_policy()
            .role_name("worker")
            .policy_name("all")
            .policy_document(ALLOW_ALL)
            .send()
            .await,
        "role policy",
    );
    let assumed = ok(
        alice_sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/worker"))
            .role_session_name("leak-check")
            .send()
            .await,
        "assume role",
    );
    let session_token = ok(alice_sts.get_session_token().send().await, "session token");
    let federated = ok(
        alice_sts
            .get_federation_token()
            .name("fed-leak")
            .policy(ALLOW_ALL)
            .send()
            .await,
        "federation token",
    );
    for (what, c) in [
        ("AssumeRole", assumed.credentials()),
        ("GetSessionToken", session_token.credentials()),
        ("GetFederationToken", federated.credentials()),
    ] {
        let c = c.expect("credentials");
        seen.secret(&format!("{what} secret"), c.secret_access_key());
        seen.secret(&format!("{what} token"), c.session_token());
        let as_session = sts_client_with(
            url,
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token()),
        );
        ok(as_session.get_caller_identity().send().await, what);
        ok(
            iam_client_with(
                url,
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token()),
            )
            .list_users()
            .send()
            .await,
            what,
        );
        let wrong_token = format!("{}x", c.session_token());
        seen.error(
            iam_client_with(
                url,
                c.access_key_id(),
                c.secret_access_key(),
                Some(&wrong_token),
            )
            .list_users()
            .send()
            .await,
            "InvalidClientTokenId",
        );
    }
}

/// The seed's key signs; the state is exported (secrets included, by design: the export is for
/// the root) and imported back; the seeded key still signs afterwards.
async fn seed_and_state(url: &str, seen: &mut Seen) {
    seen.secret("seeded access key secret", SEED_SECRET);
    seen.password("seeded password", SEED_PASSWORD);
    let seeded = iam_client_with(url, SEED_KEY_ID, SEED_SECRET, None);
    ok(
        seeded.get_user().send().await,
        "GetUser with the seeded key",
    );
    let export = admin_request(
        url,
        ROOT_KEY_ID,
        ROOT_SECRET_KEY,
        "GET",
        "/_localiam/state",
        b"",
    )
    .await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(
        export.body.contains(SEED_SECRET),
        "the export carries the keys' secrets"
    );
    let import = admin_request(
        url,
        ROOT_KEY_ID,
        ROOT_SECRET_KEY,
        "POST",
        "/_localiam/state",
        export.body.as_bytes(),
    )
    .await;
    assert_eq!(import.status, 200, "{}", import.body);
    let reset = admin_request(
        url,
        ROOT_KEY_ID,
        ROOT_SECRET_KEY,
        "POST",
        "/_localiam/reset",
        b"",
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    ok(
        seeded.get_user().send().await,
        "GetUser with the seeded key after the reset",
    );
}

/// Fails, naming the secret, the format and the place, if any secret appears in `haystack`
/// as given or URL-encoded.
fn assert_no_secret(format: &str, where_: &str, haystack: &str, secrets: &[(String, String)]) {
    for (what, value) in secrets {
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        for form in [value.as_str(), encoded.as_str()] {
            if let Some(i) = haystack.find(form) {
                let from = haystack[..i].rfind('\n').map_or(0, |n| n + 1);
                let to = haystack[i..].find('\n').map_or(haystack.len(), |n| i + n);
                panic!(
                    "{what} appears in the {format} {where_}:\n{}",
                    &haystack[from..to]
                );
            }
        }
    }
}

async fn check(format: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Logged::start(dir.path(), format);
    let mut seen = Seen::default();
    let url = server.url.clone();
    scenario(&url, &mut seen).await;
    seed_and_state(&url, &mut seen).await;
    let log = server.stop();
    // The logs are there, at debug level, in the asked format, with every request in them.
    let debug = match format {
        "json" => "\"level\":\"DEBUG\"",
        _ => " DEBUG ",
    };
    assert!(
        log.contains(debug),
        "no debug line in the {format} log:\n{log}"
    );
    for action in [
        "CreateAccessKey",
        "ChangePassword",
        "AssumeRole",
        "UploadServerCertificate",
    ] {
        assert!(
            log.contains(action),
            "{action} not logged in the {format} log"
        );
    }
    if format == "json" {
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                serde_json::from_str::<serde_json::Value>(line).is_ok(),
                "not a JSON line: {line}"
            );
        }
    }
    assert!(seen.secrets.len() > 20, "{}", seen.secrets.len());
    assert_no_secret(format, "log", &log, &seen.secrets);
    assert_no_secret(format, "errors", &seen.errors.join("\n"), &seen.secrets);
    // Passwords stay hashed: the database (and its write-ahead log) never holds one in clear.
    let mut stored = Vec::new();
    for file in ["state.db", "state.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            stored.extend_from_slice(&bytes);
        }
    }
    assert!(stored.len() > 4096, "no database written");
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        stored.contains("alice"),
        "the database does not hold the scenario"
    );
    assert_no_secret(format, "database", &stored, &seen.passwords);
}

#[tokio::test]
async fn no_secret_in_text_logs_or_errors() {
    check("text").await;
}

#[tokio::test]
async fn no_secret_in_json_logs_or_errors() {
    check("json").await;
}

//! The binary as the container image runs it (docker/Dockerfile): configured by environment
//! variables only, on 0.0.0.0, as a non-root user (when the test runs as root and `setpriv`
//! exists), with a durable database in a data directory and the seed file of docker/ when there
//! is one. boto3 drives it, the `healthcheck` subcommand answers 0 while it is up and 1 once it is
//! down. Also: `--help` and `--version`, the JSON request log, and the warning of `open` mode off
//! loopback.

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_localiam");
/// The user of the image's runtime (distroless `nonroot`).
const IMAGE_UID: u32 = 65532;
/// What the warning of `open` mode off loopback says.
const OPEN_WARNING: &str = "auth mode `open` on a non-loopback address";

/// A started `localiam` process and every line it logged so far.
struct Server {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `cmd` and waits for its "ready" line (it must come within 60 s).
    fn start(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn localiam");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for out in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let server = Server { child, lines };
        server.wait_for("ready on http://", Duration::from_secs(60));
        server
    }

    /// Waits until a logged line contains `text`; returns it.
    fn wait_for(&self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| l.contains(text)) {
                return l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no line with {text:?} within {within:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The address of the "ready" line.
    fn addr(&self) -> String {
        let line = self.wait_for("ready on http://", Duration::ZERO);
        let rest = &line[line.find("ready on http://").unwrap() + "ready on http://".len()..];
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || ".:[]".contains(*c))
            .collect()
    }

    /// SIGTERM, then the exit status (it must stop within 30 s).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("localiam did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `localiam` with only the given environment, run as the image's user when this test is root
/// and `setpriv` exists (else as is, with a note).
fn as_image_user(args: &[&str], env: &[(&str, String)]) -> Command {
    let root = is_root();
    let mut cmd = if root && tool_works("setpriv", &["--version"]) {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={IMAGE_UID}"),
            &format!("--regid={IMAGE_UID}"),
            "--clear-groups",
            "--",
            BIN,
        ]);
        c
    } else {
        if root {
            eprintln!(
                "note: setpriv not found: localiam runs as root here, not as the image's user"
            );
        }
        Command::new(BIN)
    };
    cmd.args(args).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Whether this test runs as root (the owner of its own /proc entry).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port free on every interface just now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The seed file docker/compose.yaml mounts, when it exists.
fn seed_file() -> Option<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docker/seed.example.yaml");
    Path::new(path).is_file().then(|| path.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_runs_as_the_image_runs_it() {
    if !tools_or_skip("binary_runs_as_the_image_runs_it", boto3_missing()) {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let root = is_root();
    if root {
        // The image's /data belongs to its user.
        std::os::unix::fs::chown(data.path(), Some(IMAGE_UID), Some(IMAGE_UID)).unwrap();
    }
    let port = free_port();
    // The image's ENV (docker/Dockerfile), and the seed file as compose.yaml gives it.
    let mut env = vec![
        ("LOCALIAM_LISTEN", format!("0.0.0.0:{port}")),
        (
            "LOCALIAM_DB",
            data.path().join("localiam.db").display().to_string(),
        ),
    ];
    match seed_file() {
        Some(seed) => env.push(("LOCALIAM_INIT", seed)),
        None => eprintln!("note: docker/seed.example.yaml does not exist yet: started unseeded"),
    }
    let server = Server::start(as_image_user(&[], &env));
    assert_eq!(server.addr(), format!("0.0.0.0:{port}"));
    // Default `open` on 0.0.0.0: the warning is there.
    let warning = server.wait_for(OPEN_WARNING, Duration::ZERO);
    assert!(warning.contains("WARN"), "{warning}");

    // The HEALTHCHECK's command, in the image's environment.
    let health = |env: &[(&str, String)]| {
        as_image_user(&["healthcheck"], env)
            .output()
            .expect("run localiam healthcheck")
    };
    let up = health(&env);
    assert!(
        up.status.success(),
        "{up:?}\n{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(String::from_utf8_lossy(&up.stdout).starts_with("healthy: localiam "));

    // boto3 against it, as a client of the container would be.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/boto3_endpoint.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(format!("http://127.0.0.1:{port}"));
    run_ok("boto3 against the image's binary", cmd).await;

    // The metrics count what boto3 did.
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/_localiam/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "localiam_requests_total{service=\"iam\",action=\"CreateUser\",status=\"200\"} 1",
        "localiam_requests_total{service=\"sts\",action=\"AssumeRole\",status=\"200\"} 1",
        "localiam_requests_total{service=\"sts\",action=\"GetCallerIdentity\",status=\"200\"} 2",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line}:\n{metrics}");
    }

    // Stopped as `docker stop` stops it: SIGTERM, exit 0; then the health check fails.
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
    let down = health(&env);
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(String::from_utf8_lossy(&down.stderr).starts_with("unhealthy: "));

    // The database was written in the data directory, by the image's user.
    let db = std::fs::metadata(data.path().join("localiam.db")).expect("the database file");
    if root && tool_works("setpriv", &["--version"]) {
        assert_eq!(db.uid(), IMAGE_UID);
    }
}

/// The health check fails fast when nothing listens, and within its timeout when the peer does
/// not answer.
#[test]
fn healthcheck_fails_within_its_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["healthcheck", "--timeout", "0.5"])
        .env_clear()
        .env("LOCALIAM_LISTEN", addr.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no answer"),
        "{out:?}"
    );
    drop(silent);
    let out = Command::new(BIN)
        .args(["healthcheck", "--listen", &addr.to_string()])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// `--help` names every flag and variable of README's configuration table; `--version` the
/// crate's version.
#[test]
fn help_documents_every_flag_and_variable() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut rows = 0;
    // The configuration table's rows: a flag, then its variable.
    for row in readme
        .lines()
        .filter(|l| l.starts_with("| `--") && l.contains("| `LOCALIAM_"))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let flag = cells[1].trim_matches('`').split(' ').next().unwrap();
        let var = cells[2].trim_matches('`');
        assert!(
            help.contains(&format!("{flag} ")),
            "{flag} in --help:\n{help}"
        );
        assert!(help.contains(&format!("[env: {var}")), "{var} in --help");
        rows += 1;
    }
    assert!(rows >= 8, "README's configuration table has {rows} rows");
    for other in ["LOCALIAM_LOG ", "healthcheck", "/_localiam/metrics"] {
        assert!(help.contains(other), "{other} in --help");
    }
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("localiam {}", env!("CARGO_PKG_VERSION"))
    );
}

/// `--log-format json`: one JSON object per request with its request ID, action, principal,
/// decision (in audit/enforce), status and latency. On loopback, no warning even in `open`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_request_log_names_the_decision() {
    let server = Server::start({
        let mut c = Command::new(BIN);
        c.args([
            "--listen",
            "127.0.0.1:0",
            "--auth",
            "enforce",
            "--log-format",
            "json",
        ])
        .env_clear();
        c
    });
    assert!(!server.log().contains(OPEN_WARNING));
    let url = format!("http://{}", server.addr());
    let root = sdk_iam(&url, "test", "test");
    let name = unique("logged");
    root.create_user().user_name(&name).send().await.unwrap();
    let key = root
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let user = sdk_iam(&url, key.access_key_id(), key.secret_access_key());
    let denied = user.list_users().send().await.unwrap_err();
    let request_id = denied
        .raw_response()
        .and_then(|r| r.headers().get("x-amzn-RequestId"))
        .unwrap()
        .to_string();
    let line = server.wait_for(&request_id, Duration::from_secs(10));
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let f = &v["fields"];
    assert_eq!(f["message"], "request", "{line}");
    assert_eq!(f["request_id"], request_id.as_str());
    assert_eq!(f["action"], "ListUsers");
    assert_eq!(
        f["principal"],
        format!("arn:aws:iam::000000000000:user/{name}")
    );
    assert_eq!(f["decision"], "ImplicitDeny");
    assert_eq!(f["status"], 403);
    assert!(f["latency_us"].is_u64(), "{line}");
    // The root user is not decided by policies: no decision field.
    let created = server.wait_for("\"action\":\"CreateUser\"", Duration::from_secs(10));
    let v: serde_json::Value = serde_json::from_str(&created).unwrap();
    assert!(v["fields"].get("decision").is_none(), "{created}");
    assert!(server.terminate().success());

    // `open` on loopback: no warning.
    let quiet = Server::start({
        let mut c = Command::new(BIN);
        c.args(["--listen", "127.0.0.1:0"]).env_clear();
        c
    });
    assert!(!quiet.log().contains(OPEN_WARNING), "{}", quiet.log());
}

fn sdk_iam(url: &str, key: &str, secret: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

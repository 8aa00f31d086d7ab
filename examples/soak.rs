//! localiam's soak test (issue 13, README "Long runs"): many mixed requests against one server in
//! `enforce` mode, and its memory (RSS) followed all along: at the end it must be at most 1.2× what
//! it was after the first tenth of the requests.
//!
//! ```sh
//! cargo build --release --bin localiam && cargo run --release --example soak -- --requests 200000
//! cargo run --example soak -- --requests 20000        # what `tests/soak.rs` runs (debug build)
//! ```
//!
//! The server is the `localiam` binary beside this example (`--bin PATH` for another), started
//! with `--auth enforce --listen 127.0.0.1:0 --db :memory:` and stopped at the end. The requests go
//! through the AWS SDK for Rust, `--concurrency` at a time, each one of (per thousand):
//!
//! | share | what |
//! |---:|---|
//! | 350 | `GetUser` of itself by one of 32 users (its inline, group-less and managed policies decide) |
//! | 100 | `ListUsers` (`MaxItems` 20) by a user |
//! | 80 | `DeleteRole` by a user: an explicit deny, `AccessDenied` expected |
//! | 80 | `TagUser` of itself (ten keys, a new value each time: a write) |
//! | 60 | `GetCallerIdentity` by a user |
//! | 150 | `GetCallerIdentity` or `GetRole` signed by one of the 16 most recent role sessions |
//! | 40 | `SimulatePrincipalPolicy` of a user, by the root user |
//! | 30 | a policy change by the root user: a new default version of the users' managed policy (the oldest dropped at five), or a new inline policy of a user (one of 256 documents) |
//! | 40 | a user's whole life by the root user: `CreateUser`, `CreateAccessKey`, `DeleteAccessKey`, `DeleteUser` (four requests) |
//! | 1 | an access advisor job: `GenerateServiceLastAccessedDetails` and `GetServiceLastAccessedDetails` of a user |
//! | 1 | `AssumeRole` of the role by a user (a new session) |
//! | 1 | `GetSessionToken` by a user (a new session) |
//! | 67 | `GetRole` by a user |
//!
//! Sessions and access advisor reports are kept for a time (an hour past a session's expiry, a
//! week for a report), so in a run of minutes they only grow: they are created at the rate a test
//! suite might (one session per 500 requests, one report per 1,000), their cost per item is in the
//! README. Before the measured requests, `--warmup` requests of the same mix (10,000: the size of
//! the decision log) fill the bounded structures.
//!
//! Every answer is checked (a success, or `AccessDenied` where expected); any other answer is an
//! error and makes the run fail. RSS is read from `/proc/PID/status` at every twentieth of the
//! run; the figures, the requests per second and the verdict are printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_iam::error::ProvideErrorMetadata;
use clap::Parser;

const ROOT: (&str, &str) = ("test", "test");
const USERS: usize = 32;
const SESSIONS_KEPT: usize = 16;
/// Most memory growth allowed from the first tenth of the run to its end.
pub const MAX_GROWTH: f64 = 1.2;

/// localiam's soak test (see the top of examples/soak.rs).
#[derive(Parser, Debug, Clone)]
#[command(name = "soak")]
pub struct Options {
    /// Requests to send in all.
    #[arg(long, default_value_t = 200_000)]
    pub requests: usize,
    /// Requests of the same mix sent first, not measured (the decision log's size: bounded
    /// structures start full).
    #[arg(long, default_value_t = 10_000)]
    pub warmup: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The localiam binary [default: `localiam` beside this example].
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,
}

/// What a run measured.
#[derive(Debug)]
pub struct Report {
    pub requests: usize,
    pub elapsed: Duration,
    /// (requests done, server RSS in KiB), every twentieth of the run, then after the last.
    pub rss: Vec<(usize, u64)>,
    pub errors: usize,
    pub first_errors: Vec<String>,
}

impl Report {
    /// RSS after the first tenth of the requests and at the end.
    pub fn growth(&self) -> Option<(u64, u64)> {
        let tenth = self
            .rss
            .iter()
            .find(|(done, _)| *done >= self.requests / 10)?
            .1;
        Some((tenth, self.rss.last()?.1))
    }

    /// Whether the run passed: no error, and memory at the end within [`MAX_GROWTH`] of the first tenth's.
    pub fn verdict(&self) -> Result<(), String> {
        if self.errors > 0 {
            return Err(format!(
                "{} unexpected answers, first: {:?}",
                self.errors, self.first_errors
            ));
        }
        let (tenth, end) = self.growth().ok_or("no RSS figures")?;
        let ratio = end as f64 / tenth as f64;
        if ratio > MAX_GROWTH {
            return Err(format!(
                "RSS grew {ratio:.3}× from the first tenth ({tenth} KiB) to the end ({end} KiB)"
            ));
        }
        Ok(())
    }

    pub fn print(&self) {
        println!("requests  RSS");
        for (done, kib) in &self.rss {
            println!("{done:>8}  {:.1} MiB", *kib as f64 / 1024.0);
        }
        let rate = self.requests as f64 / self.elapsed.as_secs_f64();
        println!(
            "{} requests in {:.1} s ({rate:.0}/s), {} unexpected answers",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.errors
        );
        if let Some((tenth, end)) = self.growth() {
            println!(
                "RSS after the first tenth {:.1} MiB, at the end {:.1} MiB: {:.3}× (at most {MAX_GROWTH})",
                tenth as f64 / 1024.0,
                end as f64 / 1024.0,
                end as f64 / tenth as f64
            );
        }
    }
}

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soak: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&options)) {
        Ok(report) => {
            report.print();
            match report.verdict() {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("soak: FAILED: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A started localiam, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &Path) -> Result<Server, String> {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(bin)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--auth",
                "enforce",
                "--db",
                ":memory:",
            ])
            .env("LOCALIAM_LOG", "warn,localiam::server=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let out = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads every line (so the server never blocks on a full pipe), reporting the ready one.
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("ready on http://") {
                    let addr: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ':'))
                        .collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let mut server = Server {
            child,
            url: String::new(),
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => {
                server.url = format!("http://{addr}");
                Ok(server)
            }
            Err(_) => Err("localiam did not get ready in 60 s".to_string()),
        }
    }

    /// The server's resident memory, KiB.
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn default_bin() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory; pass --bin")?;
    let bin = dir.join(format!("localiam{}", std::env::consts::EXE_SUFFIX));
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} does not exist: build it (`cargo build [--release] --bin localiam`) or pass --bin",
            bin.display()
        ))
    }
}

/// IAM and STS clients for `url` signed with the given credentials, retries disabled.
fn clients(
    url: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> (aws_sdk_iam::Client, aws_sdk_sts::Client) {
    let creds = aws_credential_types::Credentials::new(
        key,
        secret,
        token.map(str::to_string),
        None,
        "soak",
    );
    let iam = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(creds.clone())
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    let sts = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    (
        aws_sdk_iam::Client::from_conf(iam),
        aws_sdk_sts::Client::from_conf(sts),
    )
}

const ACCOUNT: &str = "000000000000";

/// The error of a preparation step.
fn prep<E: std::fmt::Debug>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what}: {e:?}")
}

fn user_policy(n: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
{{"Sid":"Self{n}","Effect":"Allow","Action":["iam:GetUser","iam:TagUser","iam:ListUserTags"],"Resource":"arn:aws:iam::*:user/${{aws:username}}"}},
{{"Effect":"Allow","Action":["iam:ListUsers","iam:GetRole","sts:GetCallerIdentity","sts:GetSessionToken"],"Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"127.0.0.0/8"}}}}}},
{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{ACCOUNT}:role/soak-role"}},
{{"Effect":"Deny","Action":"iam:DeleteRole","Resource":"*"}}]}}"#
    )
}

fn managed_policy(n: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"V{n}","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"arn:aws:iam::{ACCOUNT}:user/soak-{n}/*"}}]}}"#
    )
}

/// What the workers share.
struct Shared {
    root: aws_sdk_iam::Client,
    root_sts: aws_sdk_sts::Client,
    users: Vec<(String, aws_sdk_iam::Client, aws_sdk_sts::Client)>,
    url: String,
    managed_arn: String,
    role_arn: String,
    sessions: Mutex<Vec<(aws_sdk_iam::Client, aws_sdk_sts::Client)>>,
    next: AtomicUsize,
    done: AtomicUsize,
    errors: AtomicUsize,
    first_errors: Mutex<Vec<String>>,
}

impl Shared {
    fn fail(&self, what: &str, e: impl std::fmt::Debug) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_errors.lock() {
            if first.len() < 5 {
                first.push(format!("{what}: {e:?}"));
            }
        }
    }
    fn check<T, E: std::fmt::Debug>(&self, what: &str, r: Result<T, E>) -> Option<T> {
        self.done.fetch_add(1, Ordering::Relaxed);
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(what, e);
                None
            }
        }
    }
}

/// Prepares the account (as the root user, not counted), runs the requests, follows RSS.
pub async fn run(options: &Options) -> Result<Report, String> {
    let bin = match &options.bin {
        Some(b) => b.clone(),
        None => default_bin()?,
    };
    let server = Server::start(&bin)?;
    let url = server.url.clone();
    let (root, root_sts) = clients(&url, ROOT.0, ROOT.1, None);
    let managed = root
        .create_policy()
        .policy_name("soak-managed")
        .policy_document(managed_policy(0))
        .send()
        .await
        .map_err(prep("CreatePolicy"))?;
    let managed_arn = managed
        .policy()
        .and_then(|p| p.arn())
        .ok_or("no policy ARN")?
        .to_string();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role = root
        .create_role()
        .role_name("soak-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .map_err(prep("CreateRole"))?;
    let role_arn = role.role().map(|r| r.arn().to_string()).ok_or("no role")?;
    root.put_role_policy()
        .role_name("soak-role")
        .policy_name("read")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","sts:GetCallerIdentity"],"Resource":"*"}]}"#)
        .send()
        .await
        .map_err(prep("PutRolePolicy"))?;
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let name = format!("soak-u{i}");
        root.create_user()
            .user_name(&name)
            .send()
            .await
            .map_err(prep("CreateUser"))?;
        root.put_user_policy()
            .user_name(&name)
            .policy_name("base")
            .policy_document(user_policy(0))
            .send()
            .await
            .map_err(prep("PutUserPolicy"))?;
        root.attach_user_policy()
            .user_name(&name)
            .policy_arn(&managed_arn)
            .send()
            .await
            .map_err(prep("AttachUserPolicy"))?;
        let key = root
            .create_access_key()
            .user_name(&name)
            .send()
            .await
            .map_err(prep("CreateAccessKey"))?;
        let key = key.access_key().ok_or("no key")?;
        let (client, sts_client) =
            clients(&url, key.access_key_id(), key.secret_access_key(), None);
        users.push((name, client, sts_client));
    }
    let shared = Arc::new(Shared {
        root_sts,
        root,
        users,
        url,
        managed_arn,
        role_arn,
        sessions: Mutex::new(Vec::new()),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        errors: AtomicUsize::new(0),
        first_errors: Mutex::new(Vec::new()),
    });
    // The root user's identity, once (the SDK's STS client is otherwise unused by root).
    let _ = shared.root_sts.get_caller_identity().send().await;

    // The warm-up: the same mix, not measured, so that the bounded structures (the decision
    // log's 10,000 records above all) are full when the measured run starts.
    drive(&shared, options.warmup, options.concurrency, None).await?;
    shared.done.store(0, Ordering::Relaxed);
    let started = Instant::now();
    let mut rss = drive(
        &shared,
        options.requests,
        options.concurrency,
        Some(&server),
    )
    .await?;
    let elapsed = started.elapsed();
    let done = shared.done.load(Ordering::Relaxed);
    if let Some(kib) = server.rss_kib() {
        rss.push((done, kib));
    }
    let first_errors = shared
        .first_errors
        .lock()
        .map(|f| f.clone())
        .unwrap_or_default();
    Ok(Report {
        requests: done,
        elapsed,
        rss,
        errors: shared.errors.load(Ordering::Relaxed),
        first_errors,
    })
}

/// Runs the mix until `total` requests are answered, `concurrency` at a time; with `server`, reads
/// its RSS at every twentieth of the way.
async fn drive(
    shared: &Arc<Shared>,
    total: usize,
    concurrency: usize,
    server: Option<&Server>,
) -> Result<Vec<(usize, u64)>, String> {
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            while shared.done.load(Ordering::Relaxed) < total {
                let i = shared.next.fetch_add(1, Ordering::Relaxed);
                one(&shared, i).await;
            }
        }));
    }
    let mut rss = Vec::new();
    let step = (total / 20).max(1);
    let mut next_mark = step;
    while workers.iter().any(|w| !w.is_finished()) {
        let done = shared.done.load(Ordering::Relaxed);
        if done >= next_mark {
            if let Some(kib) = server.and_then(Server::rss_kib) {
                rss.push((done, kib));
            }
            next_mark += step;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())?;
    }
    Ok(rss)
}

/// The `i`th operation of the mix.
async fn one(s: &Shared, i: usize) {
    let (name, user, user_sts) = &s.users[i % USERS];
    let pick = (i.wrapping_mul(7919) / 3) % 1000;
    match pick {
        0..350 => {
            s.check("GetUser", user.get_user().send().await);
        }
        350..450 => {
            s.check("ListUsers", user.list_users().max_items(20).send().await);
        }
        450..530 => {
            let r = user.delete_role().role_name("soak-role").send().await;
            s.done.fetch_add(1, Ordering::Relaxed);
            match r {
                Err(e) if e.code() == Some("AccessDenied") => {}
                other => s.fail("DeleteRole (denied)", other.map(|_| ())),
            }
        }
        530..610 => {
            let tag = aws_sdk_iam::types::Tag::builder()
                .key(format!("k{}", i % 10))
                .value(format!("v{i}"))
                .build();
            match tag {
                Ok(tag) => {
                    s.check(
                        "TagUser",
                        user.tag_user().user_name(name).tags(tag).send().await,
                    );
                }
                Err(e) => s.fail("tag", e),
            }
        }
        610..670 => {
            s.check(
                "GetCallerIdentity",
                user_sts.get_caller_identity().send().await,
            );
        }
        670..820 => {
            let session = s
                .sessions
                .lock()
                .ok()
                .and_then(|v| (!v.is_empty()).then(|| v[i % v.len()].clone()));
            match session {
                Some((_, sts)) if i.is_multiple_of(2) => {
                    s.check(
                        "GetCallerIdentity (session)",
                        sts.get_caller_identity().send().await,
                    );
                }
                Some((iam, _)) => {
                    s.check(
                        "GetRole (session)",
                        iam.get_role().role_name("soak-role").send().await,
                    );
                }
                None => {
                    s.check("GetUser", user.get_user().send().await);
                }
            }
        }
        820..860 => {
            s.check(
                "SimulatePrincipalPolicy",
                s.root
                    .simulate_principal_policy()
                    .policy_source_arn(format!("arn:aws:iam::{ACCOUNT}:user/{name}"))
                    .action_names("iam:GetUser")
                    .send()
                    .await,
            );
        }
        860..890 => policy_change(s, i, name).await,
        890..930 => user_life(s, i).await,
        930..931 => {
            let job = s.check(
                "GenerateServiceLastAccessedDetails",
                s.root
                    .generate_service_last_accessed_details()
                    .arn(format!("arn:aws:iam::{ACCOUNT}:user/{name}"))
                    .send()
                    .await,
            );
            if let Some(job) = job.and_then(|j| j.job_id().map(str::to_string)) {
                s.check(
                    "GetServiceLastAccessedDetails",
                    s.root
                        .get_service_last_accessed_details()
                        .job_id(job)
                        .send()
                        .await,
                );
            }
        }
        931..932 => {
            let r = user_sts
                .assume_role()
                .role_arn(&s.role_arn)
                .role_session_name(format!("soak-{i}"))
                .send()
                .await;
            if let Some(c) = s.check("AssumeRole", r).and_then(|r| r.credentials) {
                let pair = clients(
                    &s.url,
                    &c.access_key_id,
                    &c.secret_access_key,
                    Some(&c.session_token),
                );
                if let Ok(mut v) = s.sessions.lock() {
                    if v.len() == SESSIONS_KEPT {
                        v.remove(0);
                    }
                    v.push(pair);
                }
            }
        }
        932..933 => {
            s.check("GetSessionToken", user_sts.get_session_token().send().await);
        }
        _ => {
            s.check(
                "GetRole",
                user.get_role().role_name("soak-role").send().await,
            );
        }
    }
}

/// A new default version of the managed policy (dropping the oldest at five), or a new inline
/// policy document of a user; both come from a set of 256 documents.
async fn policy_change(s: &Shared, i: usize, user: &str) {
    let n = (i / 7) % 256;
    if i.is_multiple_of(2) {
        let versions = s.check(
            "ListPolicyVersions",
            s.root
                .list_policy_versions()
                .policy_arn(&s.managed_arn)
                .send()
                .await,
        );
        let Some(versions) = versions else { return };
        let list = versions.versions();
        if list.len() >= 5 {
            if let Some(old) = list
                .iter()
                .filter(|v| !v.is_default_version())
                .min_by_key(|v| {
                    v.version_id()
                        .and_then(|id| id.trim_start_matches('v').parse::<u64>().ok())
                        .unwrap_or(0)
                })
            {
                let r = s
                    .root
                    .delete_policy_version()
                    .policy_arn(&s.managed_arn)
                    .version_id(old.version_id().unwrap_or_default())
                    .send()
                    .await;
                s.done.fetch_add(1, Ordering::Relaxed);
                match r {
                    // Another worker deleted it first, or made it the default meanwhile.
                    Ok(_) => {}
                    Err(e) if matches!(e.code(), Some("NoSuchEntity" | "DeleteConflict")) => {}
                    Err(e) => s.fail("DeletePolicyVersion", e),
                }
            }
        }
        // Two workers may race at five versions: LimitExceeded is then an expected answer.
        let r = s
            .root
            .create_policy_version()
            .policy_arn(&s.managed_arn)
            .policy_document(managed_policy(n))
            .set_as_default(true)
            .send()
            .await;
        s.done.fetch_add(1, Ordering::Relaxed);
        match r {
            Ok(_) => {}
            Err(e) if e.code() == Some("LimitExceeded") => {}
            Err(e) => s.fail("CreatePolicyVersion", e),
        }
    } else {
        s.check(
            "PutUserPolicy",
            s.root
                .put_user_policy()
                .user_name(user)
                .policy_name("base")
                .policy_document(user_policy(n))
                .send()
                .await,
        );
    }
}

/// A user created, given a key, and deleted.
async fn user_life(s: &Shared, i: usize) {
    let name = format!("soak-tmp-{i}");
    if s.check(
        "CreateUser",
        s.root.create_user().user_name(&name).send().await,
    )
    .is_none()
    {
        return;
    }
    let key = s.check(
        "CreateAccessKey",
        s.root.create_access_key().user_name(&name).send().await,
    );
    if let Some(id) = key.and_then(|k| k.access_key().map(|k| k.access_key_id().to_string())) {
        s.check(
            "DeleteAccessKey",
            s.root
                .delete_access_key()
                .user_name(&name)
                .access_key_id(id)
                .send()
                .await,
        );
    }
    s.check(
        "DeleteUser",
        s.root.delete_user().user_name(&name).send().await,
    );
}

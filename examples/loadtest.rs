//! localiam's load benchmark (issue 7): throughput and latency of signed IAM/STS calls, start-up
//! time and memory, against a bare axum server that only checks SigV4.
//!
//! ```sh
//! cargo run --release --example loadtest                     # full run, about 1 minute once built
//! cargo run --release --example loadtest -- --smoke          # CI: a few seconds, exit 1 on any error
//! cargo run --release --example loadtest -- --db /tmp/localiam-bench.db   # file database (deleted after)
//! cargo run --release --example loadtest -- --db /tmp/b.db --db-from /tmp/scale.db  # on a copy of scale_db's 100,000 users
//! cargo run --release --example loadtest -- --compare http://127.0.0.1:5000  # beside `moto_server -p 5000`
//! cargo run --release --example loadtest -- --url http://127.0.0.1:4593      # a localiam already running
//! cargo run --release --example loadtest -- --help           # every option
//! ```
//!
//! `scripts/bench.sh [OPTIONS]` runs the same thing.
//!
//! # What it does
//!
//! 1. Builds (`cargo build --bin localiam` with this example's profile and target directory, a
//!    no-op when up to date; `--no-build` skips it) and starts the localiam under test. Built
//!    alone, the binary is the one `cargo build --release` ships: built in the same cargo command
//!    as an example, its dependencies would get the dev-dependencies' features too (a different,
//!    larger binary). The command line is
//!    `localiam --listen 127.0.0.1:0 --auth open --db :memory:` (`--bin PATH` for another binary,
//!    `--db FILE` for a file database: the file must not exist and is deleted at the end). The
//!    address comes from its ready line. Start-up is timed from the spawn to the ready line and to
//!    the first `200` of `GET /_localiam/health`; idle RSS is read from `/proc/PID/status` 0.5 s
//!    later, and RSS (and peak RSS) again after the load. `--url URL` targets a running localiam
//!    instead (no start-up or memory figures). Logs of the child are read and discarded; its log
//!    filter is inherited from `LOCALIAM_LOG` (keep `localiam::server=info`: the ready line is an
//!    info line).
//! 2. In this process, on a tokio runtime of its own (`--bare-threads`, default: the cores, like
//!    localiam's runtime), runs a **bare axum server**: it reads each request, checks its SigV4
//!    signature with `localiam::auth::sigv4` (parse, signing-key cache, constant-time compare) and
//!    answers a fixed `GetUserResponse`. It is measured first, with the `getuser` request shape:
//!    what a server with this HTTP stack and this signature check and nothing else does on this
//!    machine with this load generator. (It shares the load generator's process, localiam does
//!    not, so a cheap localiam workload can come out a little above 1.)
//! 3. Prepares state through the API with the Rust SDK as the root of a fresh account of this run
//!    (as root `test`/`test` on a target that does not map 12-digit key IDs to accounts), pre-signs every
//!    request (SigV4 `Authorization` header, one signing time), opens `--connections` keep-alive
//!    HTTP/1.1 connections (hyper) and sends for `--seconds` per workload (at most
//!    `--max-requests`), after a `--warmup` of `getuser` per target. Printed per workload:
//!    successful requests per second, p50 and p99 latency of the successful requests, errors
//!    (non-2xx answers and transport errors), the ratio of req/s to the bare server's, and the CPU
//!    time (user + system, from `/proc`) per answered request of the server and of the load
//!    generator. On two cores the load generator takes about half the machine, so when the
//!    server is cheap its req/s is capped by the client and its ratio to bare nears 1: then the
//!    server's CPU µs per request is the figure that still tells two builds apart.
//!
//! | workload | requests |
//! |---|---|
//! | `getuser` | `GetUser` of one user, the same signed request repeated (signed with that user's access key) |
//! | `mixed` | 9 `GetUser` : 1 `TagUser` of the same user, the tag value different every time |
//! | `listusers` | `ListUsers MaxItems=100` in an account holding `--list-users` users (1,000) and nothing else |
//! | `createuser` | `CreateUser` with unique names, signed by the roots of fresh 12-digit accounts (4,000 users each: under AWS's 5,000 quota) |
//! | `gci` | STS `GetCallerIdentity` (`Version=2011-06-15`, signed for `sts`) |
//! | `simulate` | `SimulatePrincipalPolicy` of the user (one attached managed policy, one inline policy), 1 action, 1 resource |
//! | `enforce` | `GetUser` of itself by a user whose inline policy has 10 statements, on a second localiam started with `--auth enforce` (`:memory:`); measured in 6 slices alternating with the first localiam's `getuser` measured again (open, enforce, enforce, open, …, so that a change in the machine's load weighs on both alike), and their ratio printed |
//!
//! The bare server is measured again at the end; the two figures are printed, with a warning
//! when they differ by more than 10 % (the machine's load changed during the run: other builds).
//!
//! `listusers` runs before `createuser` so that a single-account target lists the same 1,000
//! users. The unique requests (`createuser`, the `TagUser` of `mixed`) are pre-signed for 1.25 ×
//! the bare server's rate × `--seconds`; if a target could go faster, its run stops when they are
//! used up and the line says so (the rate is still requests over the time actually measured).
//!
//! `--compare URL` runs the same workloads against another IAM endpoint on loopback and prints its
//! figures beside localiam's. A target that does not map 12-digit access key IDs to accounts
//! (moto maps unknown keys to its default account) gets `listusers` and `createuser` in its one
//! account; failed requests (e.g. an operation it lacks) are counted as errors, not fatal.
//! `--compare-pid PID` (e.g. `$(pgrep -f moto_server)` run by hand) adds its CPU time per request.
//!
//! `--startup N [--startup-vs OTHER_BIN,...]` measures only start-up and idle memory: each binary
//! started N times in turn (`:memory:`, `open`), the ready line and first health answer timed and
//! the idle RSS read (with its anonymous and file-backed parts) as above; it prints the medians.
//! This is how builds of two commits are compared (README, "Performance").
//!
//! `--smoke` (0.3 s per workload, 4 connections, 50 users for `listusers`, 0.1 s warm-up) exits
//! with status 1 when the bare server or any localiam workload had an error or no successful
//! request.
//!
//! Traffic goes only to loopback addresses (other URLs are refused); every loop is bounded in time
//! and count; the started localiam is stopped (SIGTERM, then SIGKILL) whatever happens.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_smithy_types::error::display::DisplayErrorContext;
use axum::response::IntoResponse;
use bytes::Bytes;
use clap::Parser;
use http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use localiam::auth::sigv4::{self, Auth, RequestParts, SigningKeyCache};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

const REGION: &str = "us-east-1";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const IAM_VERSION: &str = "2010-05-08";
const STS_VERSION: &str = "2011-06-15";
/// The default account's root key in `open` mode (and moto's accepted-anything key).
const ROOT_KEY: (&str, &str) = ("test", "test");
/// The only key the bare server accepts.
const BARE_KEY: (&str, &str) = ("AKIABAREBENCHKEY0001", "bare-bench-secret");
/// Users created per account by `createuser` (AWS's quota is 5,000).
const USERS_PER_ACCOUNT: usize = 4_000;
/// One request taking longer than this is a transport error (keeps every loop bounded).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent SDK calls while creating the `listusers` users.
const PREP_CONCURRENCY: usize = 8;

const BARE_BODY: &str = "<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
<GetUserResult><User><Path>/</Path><UserName>bench</UserName><UserId>AIDABAREBENCH0000001</UserId>\
<Arn>arn:aws:iam::000000000000:user/bench</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate></User>\
</GetUserResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>\
</ResponseMetadata></GetUserResponse>";

const MANAGED_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}"#;
const INLINE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}"#;
/// The `enforce` workload's user policy: 10 statements, the allowing one last, with a deny that has
/// to be checked (its condition does not match) and policy variables, as a real policy would.
const ENFORCE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
{"Sid":"S3Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bench-bucket","arn:aws:s3:::bench-bucket/*"]},
{"Sid":"Sqs","Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-1:*:bench-*"},
{"Sid":"DenyOutsideNet","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","10.0.0.0/8"]}}},
{"Sid":"Dynamo","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:*:*:table/bench"},
{"Sid":"OwnKeys","Effect":"Allow","Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:UpdateAccessKey"],"Resource":"arn:aws:iam::*:user/${aws:username}"},
{"Sid":"NoAdmins","Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam::*:role/admin-*"},
{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"},
{"Sid":"Tagged","Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
{"Sid":"ReadRoles","Effect":"Allow","Action":["iam:GetRole","iam:ListRoles"],"Resource":"*"},
{"Sid":"Self","Effect":"Allow","Action":["iam:GetUser","iam:ListGroupsForUser"],"Resource":"arn:aws:iam::*:user/${aws:username}"}
]}"#;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// localiam's load benchmark (see the top of examples/loadtest.rs).
#[derive(Parser, Debug)]
#[command(name = "loadtest")]
struct Args {
    /// The localiam binary to start [default: `localiam` beside this example, built first].
    #[arg(long, value_name = "PATH")]
    bin: Option<PathBuf>,
    /// Do not run `cargo build --bin localiam` for the default binary.
    #[arg(long)]
    no_build: bool,
    /// Benchmark an already running localiam (loopback only) instead of starting one.
    #[arg(long, value_name = "URL", conflicts_with_all = ["bin", "db"])]
    url: Option<String>,
    /// Start localiam with this database file instead of `:memory:` (must not exist; deleted at the end).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// With --db: start from a copy of this database (e.g. the 100,000 users of
    /// `examples/scale_db.rs`), so that start-up, memory and every workload are measured with that
    /// state loaded. The copy is the --db file (deleted at the end); FILE is not changed.
    #[arg(long, value_name = "FILE", requires = "db")]
    db_from: Option<PathBuf>,
    /// Also measure another IAM endpoint on loopback, e.g. `moto_server -p 5000`.
    #[arg(long, value_name = "URL")]
    compare: Option<String>,
    /// The process ID of the --compare server, to report its CPU time per request.
    #[arg(long, value_name = "PID", requires = "compare")]
    compare_pid: Option<u32>,
    /// Seconds measured per workload [default: 5, 0.3 with --smoke].
    #[arg(long, value_name = "SECONDS")]
    seconds: Option<f64>,
    /// Keep-alive connections [default: 32, 4 with --smoke].
    #[arg(long, value_name = "N")]
    connections: Option<usize>,
    /// Seconds of unmeasured GetUser load before each target's workloads [default: 1, 0.1 with --smoke].
    #[arg(long, value_name = "SECONDS")]
    warmup: Option<f64>,
    /// Users in the `listusers` account [default: 1000, 50 with --smoke].
    #[arg(long, value_name = "N")]
    list_users: Option<usize>,
    /// Most requests sent per workload.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    max_requests: usize,
    /// Workloads to run (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Workload::ALL)]
    workloads: Vec<Workload>,
    /// Worker threads of the load generator [default: the cores].
    #[arg(long, value_name = "N")]
    client_threads: Option<usize>,
    /// Worker threads of the bare server [default: the cores, like localiam's runtime].
    #[arg(long, value_name = "N")]
    bare_threads: Option<usize>,
    /// Short run for CI: exit status 1 if any workload had an error or no successful request.
    #[arg(long)]
    smoke: bool,
    /// Only start-up and idle memory: start localiam N times (`:memory:`, `open`), each time
    /// timing the ready line and the first health answer and reading its idle RSS (anonymous and
    /// file-backed), then stop it; prints the medians. No load.
    #[arg(long, value_name = "N", conflicts_with_all = ["url", "compare", "smoke"])]
    startup: Option<usize>,
    /// With --startup: more binaries to measure the same way, started in turn with the first (so
    /// that the machine's drift falls on all of them alike), e.g. a build of another commit.
    #[arg(long, value_name = "PATH", requires = "startup", value_delimiter = ',')]
    startup_vs: Vec<PathBuf>,
}

/// The options with the defaults (and the `--smoke` defaults) applied.
#[derive(Debug, Clone)]
struct Settings {
    target: TargetSpec,
    compare: Option<String>,
    compare_pid: Option<u32>,
    duration: Duration,
    connections: usize,
    warmup: Duration,
    list_users: usize,
    max_requests: usize,
    workloads: Vec<Workload>,
    client_threads: usize,
    bare_threads: usize,
    smoke: bool,
}

#[derive(Debug, Clone)]
enum TargetSpec {
    Spawn {
        bin: PathBuf,
        build: bool,
        db: Option<PathBuf>,
        db_from: Option<PathBuf>,
    },
    Url(String),
}

impl Settings {
    fn from_args(args: Args) -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let pick = |value: Option<f64>, normal: f64, smoke: f64| {
            value.unwrap_or(if args.smoke { smoke } else { normal })
        };
        let seconds = pick(args.seconds, 5.0, 0.3);
        let warmup = pick(args.warmup, 1.0, 0.1);
        let valid = seconds > 0.0 && seconds <= 3600.0 && (0.0..=600.0).contains(&warmup);
        if !valid {
            return Err("--seconds must be in (0, 3600] and --warmup in [0, 600]".into());
        }
        let connections = args.connections.unwrap_or(if args.smoke { 4 } else { 32 });
        if connections == 0 || connections > 4096 {
            return Err("--connections must be in 1..=4096".into());
        }
        let target = match args.url {
            Some(url) => TargetSpec::Url(url),
            None => match args.bin {
                Some(bin) => TargetSpec::Spawn {
                    bin,
                    build: false,
                    db: args.db,
                    db_from: args.db_from,
                },
                None => TargetSpec::Spawn {
                    bin: default_bin()?,
                    build: !args.no_build,
                    db: args.db,
                    db_from: args.db_from,
                },
            },
        };
        let mut workloads = Vec::new();
        for w in Workload::ALL {
            if args.workloads.contains(&w) {
                workloads.push(w);
            }
        }
        Ok(Self {
            target,
            compare: args.compare,
            compare_pid: args.compare_pid,
            duration: Duration::from_secs_f64(seconds),
            connections,
            warmup: Duration::from_secs_f64(warmup),
            list_users: args
                .list_users
                .unwrap_or(if args.smoke { 50 } else { 1_000 }),
            max_requests: args.max_requests.max(1),
            workloads,
            client_threads: args.client_threads.unwrap_or(cores).max(1),
            bare_threads: args.bare_threads.unwrap_or(cores).max(1),
            smoke: args.smoke,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Getuser,
    Mixed,
    Listusers,
    Createuser,
    Gci,
    Simulate,
    Enforce,
}

impl Workload {
    /// In the order they run.
    const ALL: [Workload; 7] = [
        Workload::Getuser,
        Workload::Mixed,
        Workload::Listusers,
        Workload::Createuser,
        Workload::Gci,
        Workload::Simulate,
        Workload::Enforce,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::Getuser => "getuser",
            Workload::Mixed => "mixed",
            Workload::Listusers => "listusers",
            Workload::Createuser => "createuser",
            Workload::Gci => "gci",
            Workload::Simulate => "simulate",
            Workload::Enforce => "enforce",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loadtest: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<ExitCode> {
    if let Some(runs) = args.startup {
        return startup_only(args.bin, !args.no_build, &args.startup_vs, runs);
    }
    let settings = Settings::from_args(args)?;
    let bare = BareServer::start(settings.bare_threads)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.client_threads)
        .thread_name("loadtest-client")
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(bench(&settings, bare.addr));
    drop(runtime);
    bare.stop();
    outcome
}

/// One measured workload of one target.
struct Row {
    workload: &'static str,
    m: Measured,
}

/// Everything measured against one target.
struct TargetReport {
    label: String,
    rows: Vec<Row>,
    /// The `getuser` request of this target (measured again beside the `enforce` server).
    getuser: Arc<Source>,
}

impl TargetReport {
    fn rate(&self, workload: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.workload == workload)
            .map(|r| r.m.rate())
    }
}

async fn bench(s: &Settings, bare_addr: SocketAddr) -> Result<ExitCode> {
    println!(
        "loadtest: {} s per workload, {} connections, {} s warm-up, {} client threads, {} bare-server threads, {} cores",
        s.duration.as_secs_f64(),
        s.connections,
        s.warmup.as_secs_f64(),
        s.client_threads,
        s.bare_threads,
        std::thread::available_parallelism().map_or(0, usize::from),
    );

    // The localiam under test: started first so that start-up and idle memory are measured on a
    // quiet machine.
    let mut server = None;
    let endpoint = match &s.target {
        TargetSpec::Url(url) => Endpoint::parse(url)?,
        TargetSpec::Spawn {
            bin,
            build,
            db,
            db_from,
        } => {
            if *build {
                build_localiam(bin)?;
            }
            let spawned = Spawned::start(bin, "open", db.as_deref(), db_from.as_deref()).await?;
            println!(
                "localiam: {} (db {}), ready line after {:.1} ms, health 200 after {:.1} ms, idle RSS {}",
                bin.display(),
                db.as_deref().map_or(":memory:".into(), |p| p.display().to_string()),
                ms(spawned.to_ready),
                ms(spawned.to_health),
                spawned.idle_rss.map_or("n/a".into(), kib),
            );
            let endpoint = spawned.endpoint.clone();
            server = Some(spawned);
            endpoint
        }
    };
    if let Ok((_, body)) = http_get(&endpoint, "/_localiam/health").await {
        println!(
            "localiam at {}: {}",
            endpoint.url,
            String::from_utf8_lossy(&body)
        );
    }

    // The bare server, first of all throughput runs.
    let bare_endpoint = Endpoint::from_addr(bare_addr)?;
    let bare_request = Signer::new(&bare_endpoint).sign(
        "iam",
        &Key::new(BARE_KEY.0, BARE_KEY.1),
        get_user_body("bench"),
    )?;
    let bare_source = Arc::new(Source::Repeat(bare_request));
    warm_up(&bare_endpoint, &bare_source, s).await?;
    let bare = measure(
        &bare_endpoint,
        bare_source.clone(),
        s,
        ServerCpu::BareThreads,
    )
    .await?;
    println!("{}", bare.line("bare", None, None));
    let bare_rate = bare.rate();

    let nonce = Nonce::new();
    let our_cpu = server
        .as_ref()
        .and_then(Spawned::pid)
        .map_or(ServerCpu::Unknown, ServerCpu::Process);
    let mut ours = run_target("localiam", &endpoint, s, bare_rate, &nonce, our_cpu).await?;
    if s.workloads.contains(&Workload::Enforce) {
        match &s.target {
            TargetSpec::Spawn { bin, .. } => {
                let rows =
                    measure_enforce(bin, &endpoint, ours.getuser.clone(), our_cpu, s, bare_rate)
                        .await?;
                ours.rows.extend(rows);
            }
            TargetSpec::Url(_) => {
                println!("enforce: skipped (it starts a localiam of its own; not with --url)");
            }
        }
    }
    let theirs = match &s.compare {
        Some(url) => {
            let compare = Endpoint::parse(url)?;
            let cpu = s.compare_pid.map_or(ServerCpu::Unknown, ServerCpu::Process);
            match run_target("compare", &compare, s, bare_rate, &nonce, cpu).await {
                Ok(report) => Some(report),
                Err(e) => {
                    println!("compare ({url}): skipped: {e}");
                    None
                }
            }
        }
        None => None,
    };
    // The bare server once more: if it moved, the machine's load changed during the run.
    let bare_end = measure(&bare_endpoint, bare_source, s, ServerCpu::BareThreads).await?;
    println!("{}", bare_end.line("bare (again)", Some(bare_rate), None));

    let mut memory = String::new();
    if let Some(spawned) = server.take() {
        let (rss, peak) = (spawned.rss_kib("VmRSS"), spawned.rss_kib("VmHWM"));
        memory = format!(
            "localiam start-up: ready line {:.1} ms, health 200 {:.1} ms; RSS idle {}, after load {}, peak {}",
            ms(spawned.to_ready),
            ms(spawned.to_health),
            spawned.idle_rss.map_or("n/a".into(), kib),
            rss.map_or("n/a".into(), kib),
            peak.map_or("n/a".into(), kib),
        );
        let exit = spawned.stop();
        memory.push_str(&format!("; stopped: {exit}"));
    }

    println!();
    print_table(&bare, &bare_end, &ours, theirs.as_ref());
    if bare_rate > 0.0 {
        let drift = bare_end.rate() / bare_rate - 1.0;
        println!(
            "bare server: {:.0} req/s first, {:.0} req/s last ({:+.0} %){}",
            bare_rate,
            bare_end.rate(),
            drift * 100.0,
            if drift.abs() > 0.1 {
                ": the machine's load changed during the run, so the req/s ratios are unreliable \
                 (server CPU µs/req much less so); run again on a quiet machine"
            } else {
                ""
            }
        );
    }
    for report in std::iter::once(&ours).chain(theirs.as_ref()) {
        if let (Some(mixed), Some(get)) = (report.rate("mixed"), report.rate("getuser")) {
            if get > 0.0 {
                println!("{}: mixed / getuser = {:.2}", report.label, mixed / get);
            }
        }
    }
    let beside = ours
        .rows
        .iter()
        .find(|r| r.workload == "getuser (beside enforce)");
    let enforced = ours.rows.iter().find(|r| r.workload == "enforce");
    if let (Some(open), Some(enforced)) = (beside, enforced) {
        if open.m.rate() > 0.0 {
            let cpu = |m: &Measured| {
                m.server_cpu_per_request()
                    .map_or("n/a".into(), |us| format!("{us:.0} µs"))
            };
            println!(
                "localiam: enforce / open GetUser = {:.2} (server CPU per request {} enforce, {} open)",
                enforced.m.rate() / open.m.rate(),
                cpu(&enforced.m),
                cpu(&open.m),
            );
        }
    }
    if !memory.is_empty() {
        println!("{memory}");
    }

    if s.smoke {
        let failures: Vec<String> = [("bare", &bare), ("bare (again)", &bare_end)]
            .into_iter()
            .chain(ours.rows.iter().map(|r| (r.workload, &r.m)))
            .filter(|(_, m)| m.errors > 0 || m.ok == 0)
            .map(|(w, m)| format!("{w} ({} ok, {} errors)", m.ok, m.errors))
            .collect();
        if !failures.is_empty() {
            println!("smoke: FAILED: {}", failures.join(", "));
            return Ok(ExitCode::FAILURE);
        }
        println!("smoke: ok");
    }
    Ok(ExitCode::SUCCESS)
}

/// Prepares one target and measures every selected workload on it.
async fn run_target(
    label: &str,
    endpoint: &Endpoint,
    s: &Settings,
    bare_rate: f64,
    nonce: &Nonce,
    cpu: ServerCpu,
) -> Result<TargetReport> {
    let started = Instant::now();
    let prepared = Prepared::new(endpoint, s, nonce).await?;
    println!(
        "{label} ({}): prepared in {:.1} s{}",
        endpoint.url,
        started.elapsed().as_secs_f64(),
        if prepared.multi_account {
            ""
        } else {
            "; 12-digit access key IDs are not accounts there: listusers and createuser use its default account"
        },
    );
    let signer = Signer::new(endpoint);
    // Unique requests: enough for 1.25 × the bare server's rate, bounded by --max-requests.
    let unique = ((bare_rate * s.duration.as_secs_f64() * 1.25) as usize + 2 * s.connections)
        .min(s.max_requests);
    let warm = Arc::new(Source::Repeat(signer.sign(
        "iam",
        &prepared.user_key,
        get_user_body(&prepared.user),
    )?));
    warm_up(endpoint, &warm, s).await?;

    let mut rows = Vec::new();
    for &w in &s.workloads {
        if w == Workload::Enforce {
            continue; // measured on a server of its own: see `measure_enforce`
        }
        let t = Instant::now();
        let source = Arc::new(prepared.source(w, &signer, unique, s.client_threads, nonce)?);
        let signing = t.elapsed();
        let signed = source.len();
        let m = measure(endpoint, source, s, cpu).await?;
        let note =
            (signed > 1).then(|| format!("{signed} pre-signed in {:.2} s", signing.as_secs_f64()));
        println!(
            "{}",
            m.line(
                &format!("{label} {}", w.name()),
                Some(bare_rate),
                note.as_deref()
            )
        );
        rows.push(Row {
            workload: w.name(),
            m,
        });
    }
    Ok(TargetReport {
        label: label.to_string(),
        rows,
        getuser: warm,
    })
}

fn enforce_tag(key: &str, value: &str) -> Result<aws_sdk_iam::types::Tag> {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| format!("Tag: {e}").into())
}

/// How many alternating slices the `enforce` workload and the `getuser` beside it are measured in.
const ENFORCE_SLICES: u32 = 6;

/// The `enforce` workload: a second localiam started with `--auth enforce`, where a user whose one
/// inline policy has 10 statements (`ENFORCE_POLICY`) calls `GetUser` on itself, measured right
/// after the `open` localiam's `getuser` is measured again, so that the two figures are taken side
/// by side. Returns those two rows.
async fn measure_enforce(
    bin: &Path,
    open: &Endpoint,
    open_getuser: Arc<Source>,
    open_cpu: ServerCpu,
    s: &Settings,
    bare_rate: f64,
) -> Result<Vec<Row>> {
    let spawned = Spawned::start(bin, "enforce", None, None).await?;
    let endpoint = spawned.endpoint.clone();
    let cpu = spawned.pid().map_or(ServerCpu::Unknown, ServerCpu::Process);
    let root = iam_client(&endpoint, &Key::new(ROOT_KEY.0, ROOT_KEY.1));
    let user = "bench-enforce";
    // The tags the `open` user has by now: `team` (see `Prepared`) and, after `mixed`, `bench`.
    let mut create = root
        .create_user()
        .user_name(user)
        .tags(enforce_tag("team", "bench")?);
    if s.workloads.contains(&Workload::Mixed) {
        create = create.tags(enforce_tag("bench", "v0")?);
    }
    create
        .send()
        .await
        .map_err(sdk_error("CreateUser (enforce)"))?;
    root.put_user_policy()
        .user_name(user)
        .policy_name("bench-10-statements")
        .policy_document(ENFORCE_POLICY)
        .send()
        .await
        .map_err(sdk_error("PutUserPolicy (enforce)"))?;
    let key = root
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(sdk_error("CreateAccessKey (enforce)"))?;
    let key = key.access_key().ok_or("CreateAccessKey: no key")?;
    let key = Key::new(key.access_key_id(), key.secret_access_key());
    let source = Arc::new(Source::Repeat(Signer::new(&endpoint).sign(
        "iam",
        &key,
        get_user_body(user),
    )?));
    warm_up(&endpoint, &source, s).await?;

    // In alternating slices (open, enforce, enforce, open, …), so that a change in the machine's
    // load during the run weighs on both figures alike.
    let slices = ENFORCE_SLICES;
    let slice = Settings {
        duration: s.duration / slices,
        max_requests: s.max_requests / slices as usize,
        ..s.clone()
    };
    let (mut beside, mut enforced): (Option<Measured>, Option<Measured>) = (None, None);
    for i in 0..slices {
        for open_now in if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        } {
            let m = if open_now {
                measure(open, open_getuser.clone(), &slice, open_cpu).await?
            } else {
                measure(&endpoint, source.clone(), &slice, cpu).await?
            };
            let into = if open_now { &mut beside } else { &mut enforced };
            match into {
                Some(sum) => sum.merge(m),
                None => *into = Some(m),
            }
        }
    }
    let (Some(beside), Some(enforced)) = (beside, enforced) else {
        return Err("the enforce workload measured nothing".into());
    };
    println!(
        "{}",
        beside.line(
            "localiam getuser (again, beside enforce)",
            Some(bare_rate),
            None
        )
    );
    println!(
        "{}",
        enforced.line(
            "localiam enforce (GetUser, 10-statement policy, --auth enforce)",
            Some(bare_rate),
            None
        )
    );
    let decided = http_get(&endpoint, "/_localiam/health").await.is_ok();
    let exit = spawned.stop();
    if !decided {
        return Err(format!("the enforce server stopped answering ({exit})").into());
    }
    Ok(vec![
        Row {
            workload: "getuser (beside enforce)",
            m: beside,
        },
        Row {
            workload: "enforce",
            m: enforced,
        },
    ])
}

fn print_table(
    bare: &Measured,
    bare_end: &Measured,
    ours: &TargetReport,
    theirs: Option<&TargetReport>,
) {
    let ratio = |m: &Measured| {
        if bare.rate() > 0.0 {
            format!("{:.3}", m.rate() / bare.rate())
        } else {
            "-".into()
        }
    };
    let cells = |m: &Measured| {
        format!(
            "{:.0} | {} | {} | {} | {} | {}",
            m.rate(),
            m.percentile_ms(0.50),
            m.percentile_ms(0.99),
            m.errors,
            ratio(m),
            m.server_cpu_per_request()
                .map_or("-".into(), |us| format!("{us:.0}")),
        )
    };
    let empty = "- | - | - | - | - | -";
    match theirs {
        None => {
            println!(
                "| workload | req/s | p50 ms | p99 ms | errors | ratio to bare | server CPU µs/req |"
            );
            println!("|---|---:|---:|---:|---:|---:|---:|");
            println!("| bare (axum + SigV4 check) | {} |", cells(bare));
        }
        Some(t) => {
            println!(
                "| workload | req/s | p50 ms | p99 ms | errors | ratio to bare | server CPU µs/req | {0} req/s | {0} p50 ms | {0} p99 ms | {0} errors | {0} ratio to bare | {0} CPU µs/req | localiam / {0} req/s |",
                t.label
            );
            println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            println!(
                "| bare (axum + SigV4 check) | {} | {empty} | - |",
                cells(bare)
            );
        }
    }
    for row in &ours.rows {
        match theirs {
            None => println!("| {} | {} |", row.workload, cells(&row.m)),
            Some(t) => {
                let other = t.rows.iter().find(|r| r.workload == row.workload);
                let speedup = match other {
                    Some(o) if o.m.rate() > 0.0 => format!("{:.1}", row.m.rate() / o.m.rate()),
                    _ => "-".into(),
                };
                println!(
                    "| {} | {} | {} | {speedup} |",
                    row.workload,
                    cells(&row.m),
                    other.map_or(empty.to_string(), |o| cells(&o.m)),
                );
            }
        }
    }
    let label = "bare again, at the end";
    match theirs {
        None => println!("| {label} | {} |", cells(bare_end)),
        Some(_) => println!("| {label} | {} | {empty} | - |", cells(bare_end)),
    }
    println!();
}

// ---------------------------------------------------------------------------------------------
// Targets, keys and signing
// ---------------------------------------------------------------------------------------------

/// A loopback HTTP endpoint.
#[derive(Clone, Debug)]
struct Endpoint {
    /// `http://host:port`
    url: String,
    addr: SocketAddr,
    /// `host:port`, the `Host` header (signed).
    authority: String,
}

impl Endpoint {
    fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        let addrs: Vec<SocketAddr> = authority
            .to_socket_addrs()
            .map_err(|e| format!("{url}: {e} (expected http://HOST:PORT)"))?
            .collect();
        let addr = *addrs.first().ok_or_else(|| format!("{url}: no address"))?;
        if !addrs.iter().all(|a| a.ip().is_loopback()) {
            return Err(format!("{url}: only loopback addresses are benchmarked").into());
        }
        Ok(Self {
            url: format!("http://{authority}"),
            addr,
            authority: authority.to_string(),
        })
    }

    fn from_addr(addr: SocketAddr) -> Result<Self> {
        Self::parse(&format!("http://{addr}"))
    }
}

#[derive(Clone, Debug)]
struct Key {
    id: String,
    secret: String,
}

impl Key {
    fn new(id: &str, secret: &str) -> Self {
        Self {
            id: id.to_string(),
            secret: secret.to_string(),
        }
    }

    /// In `open` mode, a 12-digit key ID signs as the root of that account (any secret).
    fn account_root(account: u64) -> Self {
        Self::new(&format!("{account:012}"), "bench-secret")
    }
}

/// A pre-signed POST to `/`.
struct Signed {
    headers: HeaderMap,
    body: Bytes,
}

/// Signs Query-protocol POSTs for one endpoint, all with the same signing time.
struct Signer {
    uri: String,
    authority: String,
    time: SystemTime,
}

impl Signer {
    fn new(endpoint: &Endpoint) -> Self {
        Self {
            uri: format!("{}/", endpoint.url),
            authority: endpoint.authority.clone(),
            time: SystemTime::now(),
        }
    }

    fn sign(&self, service: &str, key: &Key, body: String) -> Result<Signed> {
        let identity = credentials(key).into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name(service)
            .time(self.time)
            .settings(SigningSettings::default())
            .build()?
            .into();
        let headers = [("host", self.authority.as_str()), ("content-type", FORM)];
        let signable = SignableRequest::new(
            "POST",
            &self.uri,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = Request::builder().method(Method::POST).uri(&self.uri);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut request = request.body(())?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(Signed {
            headers: request.into_parts().0.headers,
            body: Bytes::from(body),
        })
    }

    /// Signs `n` requests on `threads` threads.
    fn sign_many(
        &self,
        n: usize,
        threads: usize,
        make: impl Fn(usize) -> (&'static str, Key, String) + Sync,
    ) -> Result<Vec<Signed>> {
        let chunk = n.div_ceil(threads.max(1)).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    let make = &make;
                    scope.spawn(move || {
                        (start..(start + chunk).min(n))
                            .map(|i| {
                                let (service, key, body) = make(i);
                                self.sign(service, &key, body)
                            })
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(n);
            for handle in handles {
                all.extend(handle.join().map_err(|_| "a signing thread panicked")??);
            }
            Ok(all)
        })
    }
}

fn query(action: &str, version: &str, params: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action)
        .append_pair("Version", version);
    for (k, v) in params {
        form.append_pair(k, v);
    }
    form.finish()
}

fn get_user_body(user: &str) -> String {
    query("GetUser", IAM_VERSION, &[("UserName", user)])
}

/// Names and accounts unique to this run, so that `--url` runs never collide with earlier ones.
struct Nonce {
    tag: String,
    /// First of the accounts reserved for this run (100,000 of them).
    account_base: u64,
}

impl Nonce {
    fn new() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        Self {
            tag: format!("{:x}{:x}", secs % 0x100_0000, std::process::id()),
            account_base: 100_000_000_000 + (secs % 8_000_000) * 100_000,
        }
    }

    fn list_account(&self) -> u64 {
        self.account_base
    }

    fn create_account(&self, i: usize) -> u64 {
        self.account_base + 1 + (i / USERS_PER_ACCOUNT) as u64
    }

    /// The account of the `getuser` user and its policies (the last one reserved for this run,
    /// far from the `createuser` ones), so that a database started from (`--db-from`) can hold
    /// any number of users in the default account.
    fn user_account(&self) -> u64 {
        self.account_base + 99_999
    }
}

// ---------------------------------------------------------------------------------------------
// Preparation (through the SDK) and the workloads' requests
// ---------------------------------------------------------------------------------------------

fn sdk_error<E: std::error::Error>(what: &'static str) -> impl FnOnce(E) -> BoxError {
    move |e| format!("{what}: {}", DisplayErrorContext(&e)).into()
}

fn sdk_config(endpoint: &Endpoint, key: &Key) -> aws_sdk_iam::Config {
    aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .endpoint_url(&endpoint.url)
        .region(aws_sdk_iam::config::Region::new(REGION))
        .credentials_provider(credentials(key))
        .timeout_config(sdk_timeouts())
        .build()
}

fn iam_client(endpoint: &Endpoint, key: &Key) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(sdk_config(endpoint, key))
}

fn sts_client(endpoint: &Endpoint, key: &Key) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .endpoint_url(&endpoint.url)
        .region(aws_sdk_sts::config::Region::new(REGION))
        .credentials_provider(credentials(key))
        .timeout_config(sdk_timeouts())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn credentials(key: &Key) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(&key.id, &key.secret, None, None, "loadtest")
}

fn sdk_timeouts() -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(30))
        .build()
}

/// The state one target was given for the workloads.
struct Prepared {
    user: String,
    user_key: Key,
    user_arn: String,
    /// Whether a 12-digit access key ID signs as that account's root.
    multi_account: bool,
}

impl Prepared {
    async fn new(endpoint: &Endpoint, s: &Settings, nonce: &Nonce) -> Result<Self> {
        // Does a 12-digit key ID sign as that account's root? (localiam's `open` mode: yes.)
        let probe = format!("{:012}", nonce.list_account());
        let sts = sts_client(endpoint, &Key::new(&probe, "bench-secret"));
        let multi_account = match sts.get_caller_identity().send().await {
            Ok(out) => out.account() == Some(probe.as_str()),
            Err(_) => false,
        };
        let root = if multi_account {
            iam_client(endpoint, &Key::account_root(nonce.user_account()))
        } else {
            iam_client(endpoint, &Key::new(ROOT_KEY.0, ROOT_KEY.1))
        };
        let user = format!("bench-{}", nonce.tag);
        let created = root
            .create_user()
            .user_name(&user)
            .send()
            .await
            .map_err(sdk_error("CreateUser"))?;
        let user_arn = created
            .user()
            .map(|u| u.arn().to_string())
            .ok_or("CreateUser: no user in the answer")?;
        let key = root
            .create_access_key()
            .user_name(&user)
            .send()
            .await
            .map_err(sdk_error("CreateAccessKey"))?;
        let key = key.access_key().ok_or("CreateAccessKey: no key")?;
        let user_key = Key::new(key.access_key_id(), key.secret_access_key());
        if s.workloads.contains(&Workload::Enforce) {
            // The `enforce` user's tag, so that both answer GetUser with the same shape.
            root.tag_user()
                .user_name(&user)
                .tags(enforce_tag("team", "bench")?)
                .send()
                .await
                .map_err(sdk_error("TagUser"))?;
        }

        if s.workloads.contains(&Workload::Simulate) {
            let policy = root
                .create_policy()
                .policy_name(format!("bench-{}", nonce.tag))
                .policy_document(MANAGED_POLICY)
                .send()
                .await
                .map_err(sdk_error("CreatePolicy"))?;
            let policy_arn = policy
                .policy()
                .and_then(|p| p.arn())
                .ok_or("CreatePolicy: no ARN")?;
            root.attach_user_policy()
                .user_name(&user)
                .policy_arn(policy_arn)
                .send()
                .await
                .map_err(sdk_error("AttachUserPolicy"))?;
            root.put_user_policy()
                .user_name(&user)
                .policy_name("bench-inline")
                .policy_document(INLINE_POLICY)
                .send()
                .await
                .map_err(sdk_error("PutUserPolicy"))?;
        }

        if s.workloads.contains(&Workload::Listusers) {
            let client = if multi_account {
                iam_client(endpoint, &Key::account_root(nonce.list_account()))
            } else {
                root.clone()
            };
            let next = Arc::new(AtomicUsize::new(0));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..PREP_CONCURRENCY {
                let (client, next, tag, total) = (
                    client.clone(),
                    next.clone(),
                    nonce.tag.clone(),
                    s.list_users,
                );
                tasks.spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            return Ok::<_, BoxError>(());
                        }
                        client
                            .create_user()
                            .user_name(format!("lu-{tag}-{i:05}"))
                            .send()
                            .await
                            .map_err(sdk_error("CreateUser (listusers)"))?;
                    }
                });
            }
            while let Some(done) = tasks.join_next().await {
                done??;
            }
        }
        Ok(Self {
            user,
            user_key,
            user_arn,
            multi_account,
        })
    }

    /// The requests of workload `w`; `unique` bounds the pre-signed requests used once.
    fn source(
        &self,
        w: Workload,
        signer: &Signer,
        unique: usize,
        threads: usize,
        nonce: &Nonce,
    ) -> Result<Source> {
        let user = self.user.as_str();
        let get_user = || signer.sign("iam", &self.user_key, get_user_body(user));
        Ok(match w {
            // `enforce` is measured on a server of its own (`measure_enforce`); here it is `getuser`.
            Workload::Getuser | Workload::Enforce => Source::Repeat(get_user()?),
            Workload::Mixed => Source::Mixed {
                read: get_user()?,
                writes: signer.sign_many(unique / 10 + 1, threads, |i| {
                    let value = format!("v{i}");
                    let body = query(
                        "TagUser",
                        IAM_VERSION,
                        &[
                            ("UserName", user),
                            ("Tags.member.1.Key", "bench"),
                            ("Tags.member.1.Value", &value),
                        ],
                    );
                    ("iam", self.user_key.clone(), body)
                })?,
                every: 10,
            },
            Workload::Listusers => {
                let key = if self.multi_account {
                    Key::account_root(nonce.list_account())
                } else {
                    self.user_key.clone()
                };
                let body = query("ListUsers", IAM_VERSION, &[("MaxItems", "100")]);
                Source::Repeat(signer.sign("iam", &key, body)?)
            }
            Workload::Createuser => {
                let root = Key::new(ROOT_KEY.0, ROOT_KEY.1);
                Source::Unique(signer.sign_many(unique, threads, |i| {
                    let name = format!("cu-{}-{i:07}", nonce.tag);
                    let key = if self.multi_account {
                        Key::account_root(nonce.create_account(i))
                    } else {
                        root.clone()
                    };
                    let body = query("CreateUser", IAM_VERSION, &[("UserName", &name)]);
                    ("iam", key, body)
                })?)
            }
            Workload::Gci => Source::Repeat(signer.sign(
                "sts",
                &self.user_key,
                query("GetCallerIdentity", STS_VERSION, &[]),
            )?),
            Workload::Simulate => {
                let body = query(
                    "SimulatePrincipalPolicy",
                    IAM_VERSION,
                    &[
                        ("PolicySourceArn", &self.user_arn),
                        ("ActionNames.member.1", "iam:GetUser"),
                        ("ResourceArns.member.1", &self.user_arn),
                    ],
                );
                Source::Repeat(signer.sign("iam", &self.user_key, body)?)
            }
        })
    }
}

/// Which pre-signed request the `i`-th request of a run is.
enum Source {
    /// The same request every time.
    Repeat(Signed),
    /// Each request once; the run ends when they are used up.
    Unique(Vec<Signed>),
    /// `read`, except every `every`-th request, which is the next of `writes`.
    Mixed {
        read: Signed,
        writes: Vec<Signed>,
        every: usize,
    },
}

impl Source {
    fn get(&self, i: usize) -> Option<&Signed> {
        match self {
            Source::Repeat(s) => Some(s),
            Source::Unique(all) => all.get(i),
            Source::Mixed {
                read,
                writes,
                every,
            } => {
                if i % every == every - 1 {
                    writes.get(i / every)
                } else {
                    Some(read)
                }
            }
        }
    }

    /// Number of distinct signed requests.
    fn len(&self) -> usize {
        match self {
            Source::Repeat(_) => 1,
            Source::Unique(all) => all.len(),
            Source::Mixed { writes, .. } => writes.len() + 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Load generation
// ---------------------------------------------------------------------------------------------

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the peer closes; errors surface on the sender.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one pre-signed request and reads the whole answer.
async fn send(sender: &mut Sender, signed: &Signed) -> Result<(StatusCode, Bytes)> {
    let exchange = async {
        sender.ready().await?;
        let mut request = Request::new(Full::new(signed.body.clone()));
        *request.method_mut() = Method::POST;
        *request.headers_mut() = signed.headers.clone();
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, BoxError>((status, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {REQUEST_TIMEOUT:?}"))?
}

async fn http_get(endpoint: &Endpoint, path: &str) -> Result<(StatusCode, Bytes)> {
    let mut sender = connect(endpoint.addr).await?;
    let request = Request::builder()
        .uri(path)
        .header(header::HOST, &endpoint.authority)
        .body(Full::new(Bytes::new()))?;
    let exchange = async {
        let response = sender.send_request(request).await?;
        let status = response.status();
        Ok::<_, BoxError>((status, response.into_body().collect().await?.to_bytes()))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| "health: no answer")?
}

/// The outcome of one run.
#[derive(Default)]
struct Measured {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    /// Latencies of the successful requests, microseconds, sorted.
    latencies_us: Vec<u32>,
    /// The unique requests ran out before the time did.
    exhausted: bool,
    first_error: Option<String>,
    /// CPU time (user + system) the server used during the run, when it can be read.
    server_cpu: Option<Duration>,
    /// CPU time of the load generator (this process but the bare server's threads).
    client_cpu: Option<Duration>,
}

impl Measured {
    fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// Adds the figures of another slice of the same measurement.
    fn merge(&mut self, other: Measured) {
        let add = |a: Option<Duration>, b: Option<Duration>| Some(a? + b?);
        self.ok += other.ok;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
        self.exhausted |= other.exhausted;
        self.first_error = self.first_error.take().or(other.first_error);
        self.server_cpu = add(self.server_cpu, other.server_cpu);
        self.client_cpu = add(self.client_cpu, other.client_cpu);
    }

    /// Nearest-rank percentile in milliseconds, `-` without successful requests.
    fn percentile_ms(&self, p: f64) -> String {
        let n = self.latencies_us.len();
        if n == 0 {
            return "-".into();
        }
        let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
        format!("{:.2}", f64::from(self.latencies_us[rank - 1]) / 1000.0)
    }

    /// Microseconds of CPU per answered request.
    fn per_request(&self, cpu: Option<Duration>) -> Option<f64> {
        let answered = self.ok + self.errors;
        cpu.filter(|_| answered > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / answered as f64)
    }

    fn server_cpu_per_request(&self) -> Option<f64> {
        self.per_request(self.server_cpu)
    }

    fn line(&self, label: &str, bare_rate: Option<f64>, note: Option<&str>) -> String {
        let mut line = format!(
            "{label:<22} {:>7.0} req/s  p50 {:>6} ms  p99 {:>6} ms  errors {:<6}",
            self.rate(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.errors,
        );
        if let Some(bare) = bare_rate.filter(|r| *r > 0.0) {
            line.push_str(&format!("  {:.3} of bare", self.rate() / bare));
        }
        let cpu = |cpu| {
            self.per_request(cpu)
                .map_or("-".into(), |us| format!("{us:.0}"))
        };
        line.push_str(&format!(
            "  CPU µs/req: server {}, load generator {}",
            cpu(self.server_cpu),
            cpu(self.client_cpu)
        ));
        line.push_str(&format!(
            "  ({} ok in {:.2} s",
            self.ok,
            self.elapsed.as_secs_f64()
        ));
        if let Some(note) = note {
            line.push_str("; ");
            line.push_str(note);
        }
        if self.exhausted {
            line.push_str("; pre-signed requests used up before the time");
        }
        line.push(')');
        if let Some(e) = &self.first_error {
            line.push_str(&format!("\n    first error: {e}"));
        }
        line
    }
}

/// What one connection saw.
#[derive(Default)]
struct ConnResult {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    first_error: Option<String>,
}

impl ConnResult {
    fn error(&mut self, message: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message());
        }
    }
}

struct RunShared {
    source: Arc<Source>,
    next: AtomicUsize,
    cap: usize,
    deadline: Instant,
    exhausted: AtomicBool,
}

/// A measured run: `s.connections` keep-alive connections for `s.duration` (at most
/// `s.max_requests` requests).
async fn measure(
    endpoint: &Endpoint,
    source: Arc<Source>,
    s: &Settings,
    cpu: ServerCpu,
) -> Result<Measured> {
    run_load(
        endpoint,
        source,
        s.connections,
        s.duration,
        s.max_requests,
        cpu,
    )
    .await
}

/// Unmeasured load with a repeated request.
async fn warm_up(endpoint: &Endpoint, source: &Arc<Source>, s: &Settings) -> Result<()> {
    if !s.warmup.is_zero() {
        run_load(
            endpoint,
            source.clone(),
            s.connections,
            s.warmup,
            s.max_requests,
            ServerCpu::Unknown,
        )
        .await?;
    }
    Ok(())
}

async fn run_load(
    endpoint: &Endpoint,
    source: Arc<Source>,
    connections: usize,
    duration: Duration,
    cap: usize,
    cpu: ServerCpu,
) -> Result<Measured> {
    // Connections are opened before the clock starts.
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(
            connect(endpoint.addr)
                .await
                .map_err(|e| format!("connecting to {}: {e}", endpoint.url))?,
        );
    }
    let cpu_before = CpuTimes::now(cpu);
    let started = Instant::now();
    let shared = Arc::new(RunShared {
        source,
        next: AtomicUsize::new(0),
        cap,
        deadline: started + duration,
        exhausted: AtomicBool::new(false),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for sender in senders {
        tasks.spawn(drive(sender, endpoint.addr, shared.clone()));
    }
    let mut m = Measured::default();
    while let Some(done) = tasks.join_next().await {
        let r = done?;
        m.ok += r.ok;
        m.errors += r.errors;
        m.latencies_us.extend(r.latencies_us);
        if m.first_error.is_none() {
            m.first_error = r.first_error;
        }
    }
    m.elapsed = started.elapsed();
    (m.server_cpu, m.client_cpu) = CpuTimes::now(cpu).since(cpu_before);
    m.exhausted = shared.exhausted.load(Ordering::Relaxed);
    m.latencies_us.sort_unstable();
    Ok(m)
}

/// One connection's loop: bounded by the deadline, the request cap and the pre-signed requests.
async fn drive(mut sender: Sender, addr: SocketAddr, run: Arc<RunShared>) -> ConnResult {
    let mut r = ConnResult {
        latencies_us: Vec::with_capacity(1 << 14),
        ..ConnResult::default()
    };
    while Instant::now() < run.deadline {
        let i = run.next.fetch_add(1, Ordering::Relaxed);
        if i >= run.cap {
            break;
        }
        let Some(signed) = run.source.get(i) else {
            run.exhausted.store(true, Ordering::Relaxed);
            break;
        };
        if sender.is_closed() {
            // The server closed the connection after its last answer: open another.
            match connect(addr).await {
                Ok(fresh) => sender = fresh,
                Err(e) => {
                    r.error(|| format!("reconnect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let t = Instant::now();
        match send(&mut sender, signed).await {
            Ok((status, _)) if status.is_success() => {
                r.ok += 1;
                r.latencies_us
                    .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            Ok((status, body)) => r.error(|| format!("HTTP {status}: {}", snippet(&body))),
            Err(e) => {
                r.error(|| format!("transport: {e}"));
                // Drop the connection; the next iteration opens a fresh one.
                if let Ok(fresh) = connect(addr).await {
                    sender = fresh;
                } else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
    r
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

// ---------------------------------------------------------------------------------------------
// CPU time (Linux /proc)
// ---------------------------------------------------------------------------------------------

/// Whose CPU time is the server's.
#[derive(Clone, Copy, Debug)]
enum ServerCpu {
    /// A process: the localiam started here, or `--compare-pid`.
    Process(u32),
    /// The bare server's threads in this process.
    BareThreads,
    Unknown,
}

/// Thread-name prefix of the bare server's threads.
const BARE_THREADS: &str = "bare-";

/// CPU time used so far, in clock ticks.
#[derive(Clone, Copy)]
struct CpuTimes {
    server: Option<u64>,
    client: Option<u64>,
}

impl CpuTimes {
    fn now(server: ServerCpu) -> Self {
        let bare = own_threads_ticks(BARE_THREADS);
        let own = stat_ticks(Path::new("/proc/self/stat"));
        Self {
            server: match server {
                ServerCpu::Process(pid) => stat_ticks(Path::new(&format!("/proc/{pid}/stat"))),
                ServerCpu::BareThreads => bare,
                ServerCpu::Unknown => None,
            },
            client: own.zip(bare).map(|(own, bare)| own.saturating_sub(bare)),
        }
    }

    /// (server, client) CPU time between `before` and `self`.
    fn since(self, before: Self) -> (Option<Duration>, Option<Duration>) {
        let delta = |now: Option<u64>, then: Option<u64>| {
            let ticks = now?.checked_sub(then?)?;
            Some(Duration::from_secs_f64(
                ticks as f64 / clock_ticks_per_second(),
            ))
        };
        (
            delta(self.server, before.server),
            delta(self.client, before.client),
        )
    }
}

/// utime + stime of a `/proc/.../stat` file.
fn stat_ticks(path: &Path) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The fields after the command name, which ends with the last ')': proc(5) fields 3, 4, ...
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks of this process's threads whose name starts with `prefix`.
fn own_threads_ticks(prefix: &str) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if name.starts_with(prefix) {
            total += stat_ticks(&dir.join("stat"))?;
        }
    }
    Some(total)
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok()?.trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

// ---------------------------------------------------------------------------------------------
// The bare server
// ---------------------------------------------------------------------------------------------

/// An axum server on its own runtime and threads that checks SigV4 and answers a fixed body.
struct BareServer {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl BareServer {
    fn start(threads: usize) -> Result<Self> {
        let (addr_tx, addr_rx) = mpsc::channel::<Result<SocketAddr>>();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{BARE_THREADS}server"))
            .spawn(move || -> Result<()> {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name(format!("{BARE_THREADS}worker"))
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = addr_tx.send(Err(e.to_string().into()));
                            return Ok(());
                        }
                    };
                    let _ = addr_tx.send(listener.local_addr().map_err(Into::into));
                    let app = axum::Router::new()
                        .fallback(bare_handler)
                        .with_state(Arc::new(SigningKeyCache::default()));
                    // Served from a task, like localiam, so accepting runs on the workers.
                    let serve = tokio::spawn(async move {
                        axum::serve(listener, app)
                            .with_graceful_shutdown(async {
                                let _ = stop_rx.await;
                            })
                            .await
                    });
                    serve.await??;
                    Ok(())
                })
            })?;
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the bare server did not start")??;
        Ok(Self { addr, stop, thread })
    }

    fn stop(self) {
        let _ = self.stop.send(());
        match self.thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("loadtest: bare server: {e}"),
            Err(_) => eprintln!("loadtest: bare server thread panicked"),
        }
    }
}

async fn bare_handler(
    axum::extract::State(cache): axum::extract::State<Arc<SigningKeyCache>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let req = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
    };
    let checked = match sigv4::parse_auth(&req) {
        Ok(Auth::Signed(auth)) if auth.access_key_id == BARE_KEY.0 => {
            sigv4::verify(&req, &auth, BARE_KEY.1, &cache)
        }
        Ok(Auth::Signed(_)) => Err(sigv4::SigV4Error::invalid_client_token_id()),
        Ok(Auth::Anonymous) => Err(sigv4::SigV4Error::missing_authentication_token()),
        Err(e) => Err(e),
    };
    match checked {
        Ok(()) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"))],
            BARE_BODY,
        )
            .into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN),
            format!("{}: {}", e.code(), e.message()),
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The localiam under test
// ---------------------------------------------------------------------------------------------

/// `localiam` beside this example: `<target>/<profile>/examples/loadtest` → `<target>/<profile>/localiam`.
fn default_bin() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory; pass --bin")?;
    Ok(profile_dir.join(format!("localiam{}", std::env::consts::EXE_SUFFIX)))
}

/// `cargo build --bin localiam` with this example's profile and target directory, so that the
/// binary measured is the one of the sources (a no-op when up to date).
fn build_localiam(bin: &Path) -> Result<()> {
    let profile_dir = bin.parent().ok_or("no profile directory")?;
    let target_dir = profile_dir.parent().ok_or("no target directory")?;
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => return Err("no profile name".into()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    println!("loadtest: cargo build --profile {profile} --bin localiam (--no-build skips this)");
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--bin",
            "localiam",
            "--profile",
            profile,
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--manifest-path")
        .arg(manifest)
        .status()?;
    if !status.success() {
        return Err(format!("cargo build --bin localiam failed: {status}").into());
    }
    Ok(())
}

/// `--startup N`: each binary started N times in turn; the medians of its start-up and idle memory.
fn startup_only(
    bin: Option<PathBuf>,
    build: bool,
    others: &[PathBuf],
    runs: usize,
) -> Result<ExitCode> {
    if runs == 0 || runs > 1000 {
        return Err("--startup must be in 1..=1000".into());
    }
    let first = match bin {
        Some(bin) => bin,
        None => {
            let bin = default_bin()?;
            if build {
                build_localiam(&bin)?;
            }
            bin
        }
    };
    let bins: Vec<PathBuf> = std::iter::once(first)
        .chain(others.iter().cloned())
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Per binary: (ready ms, health ms, RSS, anonymous, file-backed KiB) of each start.
    let mut samples: Vec<Vec<[f64; 5]>> = vec![Vec::new(); bins.len()];
    for _ in 0..runs {
        for (bin, samples) in bins.iter().zip(&mut samples) {
            let spawned = runtime.block_on(Spawned::start(bin, "open", None, None))?;
            let kib = |k: Option<u64>| k.map_or(f64::NAN, |k| k as f64);
            samples.push([
                ms(spawned.to_ready),
                ms(spawned.to_health),
                kib(spawned.idle_rss),
                kib(spawned.idle_anon),
                kib(spawned.idle_file),
            ]);
            spawned.stop();
        }
    }
    println!("start-up and idle memory, {runs} starts of each binary in turn (`:memory:`, `open`); median [min, max]:");
    for (bin, samples) in bins.iter().zip(&samples) {
        let stat = |i: usize| {
            let mut v: Vec<f64> = samples.iter().map(|s| s[i]).collect();
            v.sort_by(f64::total_cmp);
            (v[v.len() / 2], v[0], v[v.len() - 1])
        };
        let (ready, health, rss, anon, file) = (stat(0), stat(1), stat(2), stat(3), stat(4));
        let mib = |k: f64| k / 1024.0;
        println!(
            "{}: ready line {:.1} ms [{:.1}, {:.1}], health 200 {:.1} ms [{:.1}, {:.1}], idle RSS {:.2} MiB [{:.2}, {:.2}] (anonymous {:.2}, file-backed {:.2})",
            bin.display(),
            ready.0, ready.1, ready.2,
            health.0, health.1, health.2,
            mib(rss.0), mib(rss.1), mib(rss.2),
            mib(anon.0), mib(file.0),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A started localiam; stopped (and its database file removed) when dropped.
struct Spawned {
    child: Option<Child>,
    db: Option<PathBuf>,
    endpoint: Endpoint,
    to_ready: Duration,
    to_health: Duration,
    idle_rss: Option<u64>,
    /// Of the idle RSS: anonymous memory, and file-backed pages (the binary's and libraries').
    idle_anon: Option<u64>,
    idle_file: Option<u64>,
}

impl Spawned {
    async fn start(
        bin: &Path,
        auth: &str,
        db: Option<&Path>,
        db_from: Option<&Path>,
    ) -> Result<Self> {
        if let Some(db) = db {
            if db.exists() {
                return Err(format!(
                    "--db {}: the file exists; give a new path (it is deleted at the end)",
                    db.display()
                )
                .into());
            }
            if let Some(from) = db_from {
                std::fs::copy(from, db)
                    .map_err(|e| format!("--db-from {}: {e}", from.display()))?;
            }
        }
        if !bin.exists() {
            return Err(format!(
                "{}: not found; build it (cargo build --release --bin localiam) or pass --bin",
                bin.display()
            )
            .into());
        }
        let spawned_at = Instant::now();
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--auth", auth, "--db"])
            .arg(db.map_or_else(|| ":memory:".into(), |p| p.as_os_str().to_owned()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut this = Self {
            child: None,
            db: db.map(Path::to_path_buf),
            endpoint: Endpoint::from_addr(SocketAddr::from(([127, 0, 0, 1], 0)))?,
            to_ready: Duration::ZERO,
            to_health: Duration::ZERO,
            idle_rss: None,
            idle_anon: None,
            idle_file: None,
        };
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        this.child = Some(child);
        if let Some(out) = stdout {
            drain_output(out, ready_tx.clone(), tail.clone());
        }
        if let Some(err) = stderr {
            drain_output(err, ready_tx, tail.clone());
        }
        // The output readers end (disconnecting the channel) if the server exits first.
        let ready =
            tokio::task::spawn_blocking(move || ready_rx.recv_timeout(Duration::from_secs(30)))
                .await?;
        let addr = match ready {
            Ok(addr) => addr,
            Err(_) => {
                let lines: Vec<String> = tail
                    .lock()
                    .map(|t| t.iter().cloned().collect())
                    .unwrap_or_default();
                return Err(format!(
                    "localiam did not print its ready line; its last output:\n{}",
                    lines.join("\n")
                )
                .into());
            }
        };
        this.to_ready = spawned_at.elapsed();
        this.endpoint = Endpoint::from_addr(addr)?;
        let health_deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok((status, _)) = http_get(&this.endpoint, "/_localiam/health").await {
                if status == StatusCode::OK {
                    break;
                }
            }
            if Instant::now() > health_deadline {
                return Err("GET /_localiam/health never answered 200".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        this.to_health = spawned_at.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        this.idle_rss = this.rss_kib("VmRSS");
        this.idle_anon = this.rss_kib("RssAnon");
        this.idle_file = this.rss_kib("RssFile");
        Ok(this)
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A `/proc/PID/status` memory line, KiB.
    fn rss_kib(&self, field: &str) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status.lines().find_map(|line| {
            line.strip_prefix(field)?
                .strip_prefix(':')?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
    }

    /// SIGTERM (graceful: flush and close the database), SIGKILL after 10 s. Says how it ended.
    fn stop(mut self) -> String {
        let Some(mut child) = self.child.take() else {
            return "not running".into();
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return "killed after 10 s without exiting on SIGTERM".into();
                }
            }
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut path = db.as_os_str().to_owned();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Reads a child's output to its end on a thread: sends the address of the ready line
/// (`localiam ready on http://ADDR`), keeps the last lines for error messages, drops the rest.
fn drain_output(
    output: impl Read + Send + 'static,
    ready: mpsc::Sender<SocketAddr>,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(1 << 16, output);
        let mut line = Vec::new();
        let mut found = false;
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            if !found {
                if let Some(addr) = ready_address(&text) {
                    found = true;
                    let _ = ready.send(addr);
                }
            }
            if let Ok(mut tail) = tail.lock() {
                if tail.len() == 20 {
                    tail.pop_front();
                }
                tail.push_back(text.trim_end().to_string());
            }
            line.clear();
        }
    });
}

fn ready_address(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("ready on http://")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_hexdigit() || matches!(c, '.' | ':' | '[' | ']')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kib(k: u64) -> String {
    format!("{:.1} MiB ({k} KiB)", k as f64 / 1024.0)
}

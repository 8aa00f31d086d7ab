//! Test harness: an in-process localiam per test, SDK clients pointed at it, and a raw HTTP helper
//! for unsigned or deliberately malformed requests.
#![allow(dead_code)]

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
pub use localiam::config::{AuthMode, Config};
use localiam::server::{self, Running};

/// The default account of a test server (`Config` default).
pub const DEFAULT_ACCOUNT: &str = "000000000000";
/// The default account's root credentials (`Config` default).
pub const ROOT_KEY: &str = "test";
pub const ROOT_SECRET: &str = "test";

/// A localiam running inside the test process on `127.0.0.1:<free port>`.
pub struct TestServer {
    pub addr: SocketAddr,
    pub config: Config,
    running: Option<Running>,
}

impl TestServer {
    /// A server with the default configuration (open auth, in-memory database).
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A server in the given auth mode.
    pub async fn start_auth(mode: AuthMode) -> TestServer {
        Self::start_with(|c| c.auth = mode).await
    }

    /// A server whose configuration `tweak` adjusts (auth mode, `db`, `account_id`, ...). The
    /// listen address is always forced to `127.0.0.1:0`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::default_for_tests();
        tweak(&mut config);
        config.listen = "127.0.0.1:0".parse().expect("listen address");
        let running = server::start(config.clone(), std::future::pending::<()>())
            .await
            .unwrap_or_else(|e| panic!("localiam did not start: {e}"));
        TestServer {
            addr: running.addr,
            config,
            running: Some(running),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's state, for tests that drive its background chores with a clock of their own.
    pub fn app(&self) -> &localiam::state::App {
        &self.running.as_ref().expect("running").app
    }

    /// The default account ID this server was started with.
    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }

    /// Stops the server (graceful: in-flight requests finish, the store is closed).
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// IAM client signed with the default root credentials.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        self.iam_with(
            &self.config.root_access_key,
            &self.config.root_secret_key,
            None,
        )
    }

    /// STS client signed with the default root credentials.
    pub fn sts(&self) -> aws_sdk_sts::Client {
        self.sts_with(
            &self.config.root_access_key,
            &self.config.root_secret_key,
            None,
        )
    }

    /// IAM client signed with the given credentials (a session token for `ASIA…` keys).
    pub fn iam_with(&self, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_iam::Client {
        iam_client_with(&self.url(), key, secret, token)
    }

    /// STS client signed with the given credentials (a session token for `ASIA…` keys).
    pub fn sts_with(&self, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_sts::Client {
        sts_client_with(&self.url(), key, secret, token)
    }

    /// Raw HTTP access to the server, for unsigned or malformed requests.
    pub fn raw(&self) -> Raw {
        Raw {
            base: self.url(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("reqwest client"),
        }
    }
}

fn creds(key: &str, secret: &str, token: Option<&str>) -> Credentials {
    Credentials::new(
        key,
        secret,
        token.map(str::to_string),
        None,
        "localiam-tests",
    )
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(30))
        .build()
}

/// A name unique within this test process: `prefix-N-PID`, so tests never collide even if the
/// store were shared between servers.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        N.fetch_add(1, Ordering::Relaxed),
        std::process::id()
    )
}

/// Creates a customer managed policy and returns its ARN.
/// An IAM tag.
pub fn iam_tag(key: &str, value: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("a tag has a key and a value")
}

pub async fn create_policy(iam: &aws_sdk_iam::Client, name: &str, document: &str) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap();
    out.policy().and_then(|p| p.arn()).unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Errors

/// What an SDK error carried: AWS error code, message and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrInfo {
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// Code, message and status of an SDK error (IAM or STS).
pub fn err_info<E>(e: &SdkError<E>) -> ErrInfo
where
    E: ProvideErrorMetadata + Debug,
{
    let status = e
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|| panic!("no HTTP response for error: {e:?}"));
    ErrInfo {
        code: e.code().unwrap_or_default().to_string(),
        message: e.message().unwrap_or_default().to_string(),
        status,
    }
}

/// The error of a call that must fail; panics (showing the output) if it succeeded.
pub fn expect_err<T, E>(r: Result<T, SdkError<E>>) -> ErrInfo
where
    T: Debug,
    E: ProvideErrorMetadata + Debug,
{
    match r {
        Ok(v) => panic!("expected an error, got success: {v:?}"),
        Err(e) => err_info(&e),
    }
}

/// Asserts a call failed with exactly this code, HTTP status and message.
#[track_caller]
pub fn assert_err<T, E>(r: Result<T, SdkError<E>>, code: &str, status: u16, message: &str)
where
    T: Debug,
    E: ProvideErrorMetadata + Debug,
{
    let got = expect_err(r);
    assert_eq!(
        got,
        ErrInfo {
            code: code.to_string(),
            message: message.to_string(),
            status,
        }
    );
}

/// Asserts a call failed with this code and HTTP status (any message).
#[track_caller]
pub fn assert_code<T, E>(r: Result<T, SdkError<E>>, code: &str, status: u16) -> ErrInfo
where
    T: Debug,
    E: ProvideErrorMetadata + Debug,
{
    let got = expect_err(r);
    assert_eq!((got.code.as_str(), got.status), (code, status), "{got:?}");
    got
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/// Unsigned HTTP requests against the server.
pub struct Raw {
    pub base: String,
    pub client: reqwest::Client,
}

/// A raw response: status, headers and body text.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl RawResponse {
    /// The text of the first `<tag>…</tag>` in the body.
    pub fn tag(&self, tag: &str) -> Option<String> {
        xml_tag(&self.body, tag)
    }
    /// `<Error><Code>` of an error response.
    pub fn code(&self) -> Option<String> {
        self.tag("Code")
    }
    /// `<Error><Message>` of an error response (XML entities decoded).
    pub fn message(&self) -> Option<String> {
        self.tag("Message")
    }
}

impl Raw {
    /// `POST /` with a form-encoded body built from `params`.
    pub async fn post_form(&self, params: &[(&str, &str)]) -> RawResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.post(
            "/",
            "application/x-www-form-urlencoded; charset=utf-8",
            body.into_bytes(),
        )
        .await
    }

    /// `POST path` with an arbitrary body and content type.
    pub async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> RawResponse {
        let resp = self
            .client
            .post(format!("{}{}", self.base, path))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("raw POST");
        Self::read(resp).await
    }

    /// `POST path` with arbitrary headers and body.
    pub async fn post_with_headers(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> RawResponse {
        let mut req = self.client.post(format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.body(body).send().await.expect("raw POST");
        Self::read(resp).await
    }

    /// `GET /?query` with the query string built from `params`.
    pub async fn get_query(&self, params: &[(&str, &str)]) -> RawResponse {
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.get(&format!("/?{q}")).await
    }

    /// `GET path_and_query` (sent as given).
    pub async fn get(&self, path_and_query: &str) -> RawResponse {
        let resp = self
            .client
            .get(format!("{}{}", self.base, path_and_query))
            .send()
            .await
            .expect("raw GET");
        Self::read(resp).await
    }

    async fn read(resp: reqwest::Response) -> RawResponse {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("response body");
        RawResponse {
            status,
            headers,
            body,
        }
    }
}

/// The text of the first `<tag>…</tag>` in `xml`, with the five XML entities decoded.
pub fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Tracing output for failing tests: `RUST_LOG=localiam=debug cargo test … -- --nocapture`.
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The 12-digit account ID in an ARN (`arn:aws:iam::123456789012:…`).
pub fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// Whether `id` is an AWS-style unique ID: `prefix` + 17 characters of `A-Z2-7` (21 in all).
pub fn is_unique_id(id: &str, prefix: &str) -> bool {
    id.len() == 21
        && id.starts_with(prefix)
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

// ---------------------------------------------------------------------------------------------
// The real binary, for tests that kill it or break its database (crash.rs, unwritable.rs)

pub mod iam_state;

/// An IAM client for the server at `url` (`http://127.0.0.1:PORT`), signed with the default root
/// credentials, retries disabled (a call that got no answer must not be sent twice).
pub fn iam_client(url: &str) -> aws_sdk_iam::Client {
    iam_client_with(url, ROOT_KEY, ROOT_SECRET, None)
}

/// An IAM client for the server at `url` signed with the given credentials, retries disabled.
pub fn iam_client_with(
    url: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(creds(key, secret, token))
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts())
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// An STS client for the server at `url` signed with the given credentials, retries disabled.
pub fn sts_client_with(
    url: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .credentials_provider(creds(key, secret, token))
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// Whether a call got no answer at all (connection refused or reset, truncated or unreadable
/// response, timeout): the server may or may not have done it. `false` for an error response.
pub fn got_no_answer<E>(e: &SdkError<E>) -> bool {
    !matches!(e, SdkError::ServiceError(_))
}

/// Log lines kept per [`BinaryServer`].
const BINARY_LOG_LINES: usize = 2000;

/// A `localiam` process started from the built binary (`--listen 127.0.0.1:0 --db DB`), its
/// address read from its ready line, its last log lines kept for failure messages. Killed with
/// SIGKILL when dropped.
pub struct BinaryServer {
    pub child: std::process::Child,
    /// `127.0.0.1:PORT` (empty until the ready line, see [`BinaryServer::spawn_no_wait`]).
    pub addr: String,
    log: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
    ready: std::sync::mpsc::Receiver<String>,
}

impl BinaryServer {
    /// Starts the binary on `db` and waits (up to 60 s) for its ready line; panics, showing its
    /// output, if it exits or does not get ready.
    pub fn spawn(db: &str) -> BinaryServer {
        let mut s = Self::spawn_no_wait(db);
        s.wait_ready();
        s
    }

    /// Starts the binary on `db` without waiting for it to get ready (to kill it while it starts).
    pub fn spawn_no_wait(db: &str) -> BinaryServer {
        Self::spawn_with_args(db, &[])
    }

    /// Starts the binary on `db` with more arguments (`--init FILE`), without waiting for it to
    /// get ready.
    pub fn spawn_with_args(db: &str, args: &[&str]) -> BinaryServer {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};

        let mut child = Command::new(env!("CARGO_BIN_EXE_localiam"))
            .args(["--listen", "127.0.0.1:0", "--db", db])
            .args(args)
            .env("LOCALIAM_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn localiam");
        let log = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        let (tx, ready) = std::sync::mpsc::channel::<String>();
        for out in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some(i) = line.find("ready on http://") {
                        let rest = &line[i + "ready on http://".len()..];
                        let addr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        let _ = tx.send(addr);
                    }
                    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                    if log.len() == BINARY_LOG_LINES {
                        log.pop_front();
                    }
                    log.push_back(line);
                }
            });
        }
        BinaryServer {
            child,
            addr: String::new(),
            log,
            ready,
        }
    }

    /// Waits (up to 60 s) for the ready line of a server started with
    /// [`BinaryServer::spawn_no_wait`].
    pub fn wait_ready(&mut self) {
        match self.ready.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => self.addr = addr,
            Err(e) => {
                let status = self.child.try_wait().ok().flatten();
                panic!(
                    "localiam did not get ready ({e}; exit status {status:?}); its output:\n{}",
                    self.log_tail(50)
                )
            }
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new IAM client (its own connection pool) signed with the default root credentials.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        iam_client(&self.url())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it has not exited or been killed).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `n` lines the process logged (stdout and stderr).
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let skip = log.len().saturating_sub(n);
        log.iter()
            .skip(skip)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `PRAGMA integrity_check` and `PRAGMA foreign_key_check` of the SQLite database at `path`,
/// opened read-only (with sqlx): `["ok"]` for a sound database, else what SQLite reports.
pub async fn sqlite_integrity(path: &str) -> Vec<String> {
    use sqlx::{ConnectOptions, Connection, Row};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("open {path} read-only: {e}"));
    let mut report: Vec<String> = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .expect("PRAGMA integrity_check")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    for r in sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .expect("PRAGMA foreign_key_check")
    {
        report.push(format!(
            "foreign key violation: table {} rowid {:?} -> {}",
            r.get::<String, _>(0),
            r.get::<Option<i64>, _>(1),
            r.get::<String, _>(2)
        ));
    }
    conn.close().await.expect("close");
    report
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/// A small deterministic random generator (SplitMix64): the same seed gives the same choices.
#[derive(Debug, Clone)]
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The seed of a randomized test: the environment variable `var` when set (to replay a failure),
/// else one derived from the clock. Printed, so a failing run can be repeated.
pub fn test_seed(var: &str) -> u64 {
    let seed = match std::env::var(var) {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var} must be an unsigned integer, not {s:?}")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    eprintln!("seed {seed} (repeat with {var}={seed})");
    seed
}

impl TestServer {
    /// An admin endpoint request signed (SigV4, service `iam`) with the default root credentials,
    /// as the endpoints that reveal or change state require outside `open`.
    pub async fn admin(&self, method: &str, path_and_query: &str, body: &[u8]) -> RawResponse {
        let (key, secret) = (&self.config.root_access_key, &self.config.root_secret_key);
        self.admin_as(key, secret, method, path_and_query, body)
            .await
    }

    /// An admin endpoint request signed (SigV4, service `iam`) with the given credentials.
    pub async fn admin_as(
        &self,
        key: &str,
        secret: &str,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> RawResponse {
        admin_request(&self.url(), key, secret, method, path_and_query, body).await
    }
}

/// An admin endpoint request to the server at `base` (`http://127.0.0.1:PORT`), signed (SigV4,
/// service `iam`) with the given credentials.
#[allow(dead_code)]
pub async fn admin_request(
    base: &str,
    key: &str,
    secret: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> RawResponse {
    let url = format!("{base}{path_and_query}");
    let signed = sign_request(
        &SigningInput {
            method,
            url: &url,
            headers: &[("content-type", "application/json")],
            body,
            key,
            secret,
            token: None,
            service: "iam",
            presign: false,
        },
        std::time::SystemTime::now(),
    )
    .expect("sign");
    let client = reqwest::Client::new();
    let mut rb = client.request(
        reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
        &signed.url,
    );
    for (k, v) in &signed.headers {
        rb = rb.header(k.as_str(), v.as_slice());
    }
    let resp = rb.body(body.to_vec()).send().await.expect("admin request");
    RawResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap_or_default(),
    }
}

/// What [`sign_request`] signs: any method, URL, headers and body bytes (valid UTF-8 or not).
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// The full URL, query included (`http://127.0.0.1:PORT/?…`).
    pub url: &'a str,
    /// Headers besides `host` (which is added and signed).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub key: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
    /// `iam` or `sts`.
    pub service: &'a str,
    /// In the query string (`X-Amz-Signature`, 15 minutes) rather than an `Authorization` header.
    pub presign: bool,
}

/// A signed request: the URL to send (with the signature in it when presigned) and every header.
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Signs a request with SigV4 (region `us-east-1`) as an SDK would; an error for a URL or header
/// the signer cannot take.
pub fn sign_request(
    input: &SigningInput<'_>,
    time: std::time::SystemTime,
) -> Result<SignedRequest, String> {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    let host = input
        .url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("no host in {}", input.url))?
        .to_string();
    let identity = aws_credential_types::Credentials::new(
        input.key,
        input.secret,
        input.token.map(str::to_string),
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    if input.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(900));
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(input.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let mut headers: Vec<(&str, &str)> = vec![("host", host.as_str())];
    headers.extend_from_slice(input.headers);
    let signable = SignableRequest::new(
        input.method,
        input.url,
        headers.iter().copied(),
        SignableBody::Bytes(input.body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let mut req = http::Request::builder().method(input.method).uri(input.url);
    for (k, v) in &headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(()).map_err(|e| e.to_string())?;
    instructions.apply_to_request_http1x(&mut req);
    Ok(SignedRequest {
        url: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
    })
}

/// Creates a role with this trust policy and returns its ARN.
pub async fn create_role(iam: &aws_sdk_iam::Client, name: &str, trust_policy: &str) -> String {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy)
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string()
}

/// The 6-digit TOTP code (RFC 6238, SHA-1, 30-second steps) of a base32 seed for `step`.
#[allow(dead_code)]
pub fn totp(seed: &str, step: u64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(seed.as_bytes())
        .expect("base32 seed");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, step * 30)
}

/// The current TOTP step (Unix seconds / 30).
#[allow(dead_code)]
pub fn totp_step() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// A caller's credentials: an IAM user's access key, or a session's (with its token).
#[allow(dead_code)]
pub struct Caller {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

#[allow(dead_code)]
impl Caller {
    pub fn iam(&self, srv: &TestServer) -> aws_sdk_iam::Client {
        srv.iam_with(&self.key, &self.secret, self.token.as_deref())
    }
    pub fn sts(&self, srv: &TestServer) -> aws_sdk_sts::Client {
        srv.sts_with(&self.key, &self.secret, self.token.as_deref())
    }
}

// ---------------------------------------------------------------------------------------------
// External tools (python3, boto3, the AWS CLI, pytest)

/// Whether `cmd args…` runs and exits 0.
pub fn tool_works(cmd: &str, args: &[&str]) -> bool {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Whether a test needing a tool runs: `false` (printing why, so the skip shows) when `missing`
/// says what is absent; with `CI` or `LOCALIAM_REQUIRE_SMOKE` set an absent tool fails the test.
pub fn tools_or_skip(test: &str, missing: Option<String>) -> bool {
    let Some(why) = missing else {
        return true;
    };
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("LOCALIAM_REQUIRE_SMOKE").is_some();
    assert!(!required, "{test}: tools missing in CI: {why}");
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// What is missing of python3 and boto3, if anything.
pub fn boto3_missing() -> Option<String> {
    if !tool_works("python3", &["--version"]) {
        Some("python3 not found".into())
    } else if !tool_works("python3", &["-c", "import boto3"]) {
        Some("python3 cannot import boto3 (pip install boto3)".into())
    } else {
        None
    }
}

/// Runs `cmd` to its end (blocking, on a blocking thread), printing its output; panics with it
/// unless it exits 0.
pub async fn run_ok(what: &str, mut cmd: std::process::Command) -> String {
    let what = what.to_string();
    tokio::task::spawn_blocking(move || {
        let out = cmd
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("{what}:\n{stdout}");
        eprintln!("{stderr}");
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        stdout
    })
    .await
    .expect("command task")
}

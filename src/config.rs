//! Command line and environment configuration (design notes §1).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// How requests are authenticated and authorized (design notes §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Any request is accepted; known keys are verified and run as their principal.
    Open,
    /// Every request must be signed by a known, active, unexpired key.
    Strict,
    /// `strict`, and every call decided by the policy evaluator; a denial is logged and kept in
    /// the decision log, and the call goes through.
    Audit,
    /// `strict`, and every call decided by the policy evaluator; a denial is AWS's
    /// `AccessDenied`.
    Enforce,
}

impl AuthMode {
    /// Whether signatures are required and the clock window applies.
    pub fn is_strict(self) -> bool {
        !matches!(self, AuthMode::Open)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What `localiam --help` says after the flags: the variables that are not flags.
const AFTER_HELP: &str = "\
Every flag can be given as the environment variable shown beside it instead.
Other environment variables:
  LOCALIAM_LOG  the log filter (tracing's EnvFilter syntax) [default: info], e.g. debug

Admin endpoints on the same address: GET /_localiam/health, GET /_localiam/metrics (Prometheus),
and others under /_localiam/ (README, \"Admin endpoints\"). Outside `open` the ones that reveal or
change state answer only requests signed with the default account's root credentials.";

/// localiam: AWS IAM and STS, locally.
#[derive(Clone, Parser)]
#[command(name = "localiam", version, about, after_help = AFTER_HELP)]
pub struct Config {
    /// Address IAM and STS are served on (the container image sets 0.0.0.0:4593); port 0 picks a
    /// free port, which the "ready" log line names.
    #[arg(
        long,
        env = "LOCALIAM_LISTEN",
        default_value = "127.0.0.1:4593",
        global = true
    )]
    pub listen: SocketAddr,
    /// SQLite database: `:memory:` (gone at exit) or a file path (durable).
    #[arg(long, env = "LOCALIAM_DB", default_value = ":memory:")]
    pub db: String,
    /// Authentication and authorization mode.
    #[arg(long, env = "LOCALIAM_AUTH", value_enum, default_value = "open")]
    pub auth: AuthMode,
    /// The default account (12 digits).
    #[arg(long, env = "LOCALIAM_ACCOUNT_ID", default_value = "000000000000", value_parser = parse_account_id)]
    pub account_id: String,
    /// Access key ID of the default account's root user.
    #[arg(long, env = "LOCALIAM_ROOT_ACCESS_KEY", default_value = "test")]
    pub root_access_key: String,
    /// Secret access key of the default account's root user.
    #[arg(
        long,
        env = "LOCALIAM_ROOT_SECRET_KEY",
        default_value = "test",
        hide_env_values = true
    )]
    pub root_secret_key: String,
    /// Seed file (JSON or YAML) of accounts, users, access keys, groups, roles, policies… to
    /// create at start, into a database that holds no state yet; `POST /_localiam/reset` returns
    /// to it. An invalid file stops the start.
    #[arg(long, env = "LOCALIAM_INIT")]
    pub init: Option<PathBuf>,
    /// Log line format: one line per request with request ID, action, principal, decision
    /// (audit/enforce), status and latency.
    #[arg(long, env = "LOCALIAM_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub limits: Limits,
    /// Instead of serving, run a command (none: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `localiam` does instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Exit 0 if the server on --listen answers /_localiam/health in time, else 1.
    ///
    /// For the container image's HEALTHCHECK, which has no shell or curl. An unspecified
    /// address (0.0.0.0, ::) is reached on loopback.
    Healthcheck {
        /// Seconds to wait for the answer.
        #[arg(
            long,
            env = "LOCALIAM_HEALTHCHECK_TIMEOUT",
            default_value = "2",
            value_parser = parse_seconds
        )]
        timeout: std::time::Duration,
    },
}

/// What one client may take of the server (README, "Limits"): past a bound, an AWS error in
/// AWS's XML envelope (or, for header sizes, HTTP's 431), never a slower server for the others.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct Limits {
    /// Open connections served at once; past it a new connection gets 503 `ServiceUnavailable`
    /// and is closed.
    #[arg(long, env = "LOCALIAM_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Requests being read or answered at once; past it 503 `ServiceUnavailable`.
    #[arg(long, env = "LOCALIAM_MAX_IN_FLIGHT", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// Largest request body in bytes; past it 413 `RequestEntityTooLarge`.
    #[arg(long, env = "LOCALIAM_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest request URL (path and query string) in bytes; past it 414 `RequestURITooLong`.
    #[arg(long, env = "LOCALIAM_MAX_URL_BYTES", default_value_t = 16 * 1024)]
    pub max_url_bytes: usize,
    /// Largest header section in bytes (besides the URL); past it, or past 100 header fields,
    /// HTTP 431 and the connection is closed.
    #[arg(long, env = "LOCALIAM_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,
    /// Most parameters (query string and form body together) in one request; past it
    /// 400 `InvalidQueryParameter`.
    #[arg(long, env = "LOCALIAM_MAX_PARAMETERS", default_value_t = 10_000)]
    pub max_parameters: usize,
    /// Seconds a client has to send a request's headers, counted from the connection's start or
    /// the previous answer (so also how long an idle keep-alive connection stays open).
    #[arg(long, env = "LOCALIAM_HEADER_TIMEOUT", default_value = "30", value_parser = parse_seconds)]
    pub header_timeout: Duration,
    /// Seconds a client has to send a request's body once its headers arrived; past it
    /// 408 `RequestTimeout` and the connection is closed.
    #[arg(long, env = "LOCALIAM_BODY_TIMEOUT", default_value = "30", value_parser = parse_seconds)]
    pub body_timeout: Duration,
}

/// A positive number of seconds, decimals allowed (`30`, `0.5`).
fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(Duration::from_secs_f64(v)),
        _ => Err("a number of seconds, more than 0 and at most 86400".to_string()),
    }
}

fn parse_account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account ID is 12 digits".to_string())
    }
}

impl std::fmt::Debug for Config {
    /// Everything but the root secret key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("db", &self.db)
            .field("auth", &self.auth)
            .field("account_id", &self.account_id)
            .field("root_access_key", &self.root_access_key)
            .field("root_secret_key", &"<redacted>")
            .field("init", &self.init)
            .field("log_format", &self.log_format)
            .field("command", &self.command)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Config {
    /// The defaults, as `localiam` with no flags (for tests and embedding).
    pub fn default_for_tests() -> Self {
        Config::parse_from(["localiam"])
    }
}

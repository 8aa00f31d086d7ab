//! boto3 + AWS CLI: starts localiam in-process and runs `tests/smoke/smoke.py` (smoke test) and
//! `tests/smoke/replay.py` (scenarios recorded on real AWS) against it. Skipped (with a message) only when python3, boto3 or the `aws` CLI is missing, unless
//! `CI` or `LOCALIAM_REQUIRE_SMOKE` is set, in which case their absence fails the test.

use crate::common;

use std::process::Command;

use common::*;

fn tools_present() -> Option<String> {
    boto3_missing().or_else(|| {
        (!tool_works("aws", &["--version"]))
            .then(|| "the aws CLI is not on PATH (pip install awscli)".to_string())
    })
}

/// Runs a Python script of `tests/smoke/` against a fresh in-process server; fails with its output
/// unless it exits 0. `None` when the tools are missing outside CI (the test then skips).
async fn run_script(test: &str, script: &str, extra: Vec<String>) -> Option<()> {
    run_script_on(TestServer::start().await, test, script, |_| extra).await
}

/// [`run_script`] against a given server; `args` makes the script's arguments after the URL.
async fn run_script_on(
    srv: TestServer,
    test: &str,
    script: &str,
    args: impl FnOnce(&TestServer) -> Vec<String>,
) -> Option<()> {
    if !tools_or_skip(test, tools_present()) {
        return None;
    }
    let extra = args(&srv);
    let script = format!("{}/tests/smoke/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(srv.url()).args(extra);
    run_ok(test, cmd).await;
    srv.stop().await;
    Some(())
}

/// boto3 replays the scenarios recorded on real AWS (`tests/smoke/replay.py`) and compares every
/// response whole: keys present and absent, values, error codes, statuses and messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_replays_recorded_aws_scenarios() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/aws-recorded");
    let dir = if std::path::Path::new(dir).is_dir() {
        dir.to_string()
    } else {
        "/work/shared/aws-recorded".to_string()
    };
    run_script(
        "boto3_replays_recorded_aws_scenarios",
        "replay.py",
        vec![dir],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_aws_cli_smoke() {
    run_script("boto3_and_aws_cli_smoke", "smoke.py", Vec::new()).await;
}

/// boto3 and the AWS CLI: STS preferences in the account summary, Organizations' refusal, and a
/// delegation request from a partner account approved by the customer and redeemed through STS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_delegation_round_trip() {
    run_script("boto3_delegation_round_trip", "delegation.py", Vec::new()).await;
}

/// boto3 against `--auth enforce`: a user's policies decide, with AWS's denial messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_under_enforce() {
    let srv = TestServer::start_auth(localiam::config::AuthMode::Enforce).await;
    run_script_on(srv, "boto3_under_enforce", "enforce.py", |s| {
        vec![
            s.config.root_access_key.clone(),
            s.config.root_secret_key.clone(),
        ]
    })
    .await;
}

/// The access advisor through boto3 and the AWS CLI (`tests/smoke/access_advisor.py`): a user's
/// calls and an authorize-endpoint Allow, then its report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_access_advisor() {
    run_script("boto3_access_advisor", "access_advisor.py", Vec::new()).await;
}

/// A server started with the README's seed file (`docker/seed.example.yaml`): boto3 signs with a
/// seeded key, computes the seeded MFA device's codes, exports, resets and imports the state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_with_a_seed_file() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/docker/seed.example.yaml");
    let srv = TestServer::start_with(|c| c.init = Some(seed.into())).await;
    run_script_on(srv, "boto3_with_a_seed_file", "seed.py", |_| Vec::new()).await;
}

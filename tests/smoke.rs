//! boto3 + AWS CLI smoke test: starts localiam in-process and runs `tests/smoke/smoke.py` against
//! it. Skipped (with a message) only when python3, boto3 or the `aws` CLI is missing, unless
//! `CI` or `LOCALIAM_REQUIRE_SMOKE` is set, in which case their absence fails the test.

mod common;

use std::process::Command;

use common::*;

fn available(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn tools_present() -> Result<(), String> {
    if !available("python3", &["--version"]) {
        return Err("python3 not found".into());
    }
    if !available("python3", &["-c", "import boto3"]) {
        return Err("python3 cannot import boto3 (pip install boto3)".into());
    }
    if !available("aws", &["--version"]) {
        return Err("the aws CLI is not on PATH (pip install awscli)".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_aws_cli_smoke() {
    if let Err(why) = tools_present() {
        let required = std::env::var_os("CI").is_some()
            || std::env::var_os("LOCALIAM_REQUIRE_SMOKE").is_some();
        assert!(!required, "smoke test tools missing in CI: {why}");
        eprintln!("SKIPPED boto3_and_aws_cli_smoke: {why}");
        return;
    }
    let srv = TestServer::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smoke/smoke.py");
    let url = srv.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(url)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("run smoke.py")
    })
    .await
    .expect("smoke.py task");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "smoke.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    srv.stop().await;
}

//! README's client examples, run (README, "Pointing clients at it"): boto3 with `endpoint_url`, the
//! AWS CLI with `--endpoint-url`, with a profile and with the endpoint variables, boto3 with
//! `AWS_ENDPOINT_URL_IAM`/`AWS_ENDPOINT_URL_STS`, the Rust SDK (README's block is this file's), and
//! the pytest fixture. Each external tool's test skips when the tool is missing, unless `CI` or
//! `LOCALIAM_REQUIRE_SMOKE` is set.

use crate::common;

use std::process::Command;

use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn example(name: &str) -> String {
    format!("{ROOT}/examples/{name}")
}

/// The environment of a shell with no AWS configuration of its own (the examples set theirs).
fn clean(mut cmd: Command) -> Command {
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_with_endpoint_url() {
    if !tools_or_skip("boto3_with_endpoint_url", boto3_missing()) {
        return;
    }
    let srv = TestServer::start().await;
    let mut cmd = clean(Command::new("python3"));
    cmd.arg(example("boto3_endpoint.py")).arg(srv.url());
    let out = run_ok("examples/boto3_endpoint.py", cmd).await;
    assert!(out.contains(":assumed-role/deployer-alice-"), "{out}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_with_endpoint_variables() {
    if !tools_or_skip("boto3_with_endpoint_variables", boto3_missing()) {
        return;
    }
    let srv = TestServer::start().await;
    let mut cmd = clean(Command::new("python3"));
    cmd.arg(example("endpoint_env.py"))
        .env("AWS_ENDPOINT_URL_IAM", srv.url())
        .env("AWS_ENDPOINT_URL_STS", srv.url())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1");
    let out = run_ok("examples/endpoint_env.py", cmd).await;
    assert!(
        out.contains(&format!("iam endpoint: {}", srv.url())),
        "{out}"
    );
    assert!(
        out.contains(&format!("sts endpoint: {}", srv.url())),
        "{out}"
    );
    assert!(
        out.contains("caller: arn:aws:iam::000000000000:root"),
        "{out}"
    );
    srv.stop().await;
}

/// `examples/aws_cli.sh`: `--endpoint-url`, a profile with `endpoint_url` in a temporary
/// `AWS_CONFIG_FILE`, and `AWS_ENDPOINT_URL_IAM`; each step prints what it found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_three_ways() {
    let missing = (!tool_works("aws", &["--version"]))
        .then(|| "the aws CLI is not on PATH (pip install awscli)".to_string());
    if !tools_or_skip("aws_cli_three_ways", missing) {
        return;
    }
    let srv = TestServer::start().await;
    let mut cmd = clean(Command::new("bash"));
    cmd.arg(example("aws_cli.sh")).arg(srv.url());
    let out = run_ok("examples/aws_cli.sh", cmd).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "arn:aws:iam::000000000000:root");
    assert!(lines[1].starts_with("cli-"), "the profile's call: {out}");
    assert_eq!(lines[2], lines[1], "the endpoint variable's call: {out}");
    srv.stop().await;
}

/// The pytest fixture starts the binary itself on a free port (with the seed file of docker/
/// when it exists) and resets between tests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pytest_fixture_starts_the_binary() {
    let missing = boto3_missing().or_else(|| {
        (!tool_works("python3", &["-m", "pytest", "--version"]))
            .then(|| "pytest is not installed (pip install pytest)".to_string())
    });
    if !tools_or_skip("pytest_fixture_starts_the_binary", missing) {
        return;
    }
    let mut cmd = clean(Command::new("python3"));
    cmd.args(["-m", "pytest", "-p", "no:cacheprovider", "-q"])
        .arg(example("pytest"))
        .env("LOCALIAM_BIN", env!("CARGO_BIN_EXE_localiam"));
    let seed = format!("{ROOT}/docker/seed.example.yaml");
    if std::path::Path::new(&seed).is_file() {
        cmd.env("LOCALIAM_INIT", seed);
    } else {
        eprintln!("note: docker/seed.example.yaml does not exist yet: the fixture starts unseeded");
    }
    let out = run_ok("pytest examples/pytest", cmd).await;
    assert!(out.contains("2 passed"), "{out}");
}

/// README's Rust SDK block is the body of this function (with its endpoint a parameter).
#[rustfmt::skip]
async fn readme_rust_sdk(endpoint: &str) -> Result<String, Box<dyn std::error::Error>> {
    // README: begin
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new("test", "test", None, None, "localiam"))
        .load()
        .await;
    let iam = aws_sdk_iam::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    iam.create_user().user_name("alice").send().await?;
    let me = sts.get_caller_identity().send().await?;
    println!("{}", me.arn().unwrap_or_default());
    // README: end
    Ok(me.arn().unwrap_or_default().to_string())
}

#[tokio::test]
async fn rust_sdk_example_runs_as_the_readme_shows_it() {
    let srv = TestServer::start().await;
    let arn = readme_rust_sdk(&srv.url()).await.unwrap();
    assert_eq!(arn, "arn:aws:iam::000000000000:root");
    let user = srv
        .iam()
        .get_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user().unwrap().user_name(), "alice");
    srv.stop().await;

    let source = std::fs::read_to_string(format!("{ROOT}/tests/examples.rs")).unwrap();
    let body: Vec<&str> = source
        .lines()
        .skip_while(|l| l.trim() != "// README: begin")
        .skip(1)
        .take_while(|l| l.trim() != "// README: end")
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let block = format!(
        "```rust\nlet endpoint = \"http://127.0.0.1:4593\";\n{}\n```",
        body.join("\n")
    );
    assert!(readme.contains(&block), "README lacks:\n{block}");
}

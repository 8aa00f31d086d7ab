//! Durability with a file database (design notes §6): what got a success response survives a
//! clean restart, and also the process being killed.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_iam::types::StatusType;
use common::*;

fn db_in(dir: &tempfile::TempDir) -> String {
    dir.path()
        .join("localiam.db")
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn user_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let name = unique("durable");

    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let created = iam
        .create_user()
        .user_name(&name)
        .path("/kept/")
        .send()
        .await
        .unwrap();
    let user = created.user().unwrap().clone();
    let group = unique("durable-group");
    iam.create_group().group_name(&group).send().await.unwrap();
    iam.add_user_to_group()
        .group_name(&group)
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap().clone();
    srv.stop().await;

    // Same file, strict mode: the key issued before the restart still authenticates.
    let srv = TestServer::start_with(|c| {
        c.db = db.clone();
        c.auth = AuthMode::Strict;
    })
    .await;
    let iam = srv.iam();
    let got = iam
        .get_user()
        .user_name(&name)
        .send()
        .await
        .expect("user kept");
    let got = got.user().unwrap();
    assert_eq!(got.user_id(), user.user_id());
    assert_eq!(got.arn(), user.arn());
    assert_eq!(got.create_date(), user.create_date());
    let g = iam.get_group().group_name(&group).send().await.unwrap();
    assert_eq!(g.users().len(), 1);
    assert_eq!(g.users()[0].user_name(), name);
    let who = srv
        .sts_with(key.access_key_id(), key.secret_access_key(), None)
        .get_caller_identity()
        .send()
        .await
        .expect("key kept");
    assert_eq!(who.arn(), Some(user.arn()));

    // Deletions are durable too.
    iam.delete_access_key()
        .user_name(&name)
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    srv.stop().await;
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let keys = srv
        .iam()
        .list_access_keys()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    assert!(keys.access_key_metadata().is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn memory_database_starts_empty() {
    let name = unique("ephemeral");
    let srv = TestServer::start().await;
    srv.iam()
        .create_user()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    srv.stop().await;
    let srv = TestServer::start().await;
    assert_code(
        srv.iam().get_user().user_name(&name).send().await,
        "NoSuchEntity",
        404,
    );
}

/// The `localiam` binary, started on a free port; its address read from the "ready" log line.
struct Process {
    child: Child,
    addr: String,
}

impl Process {
    fn spawn(db: &str) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_localiam"))
            .args(["--listen", "127.0.0.1:0", "--db", db])
            .env("LOCALIAM_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn localiam");
        let (tx, rx) = mpsc::channel::<String>();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
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
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("localiam logged its ready line");
        Process { child, addr }
    }

    /// Sends `signal` (`TERM`, `INT`) and returns the exit status.
    fn signal_and_wait(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal} {pid}");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "localiam did not stop after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn iam_at(addr: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            ROOT_KEY,
            ROOT_SECRET,
            None,
            None,
            "tests",
        ))
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let p = Process::spawn(&db);
    let iam = iam_at(&p.addr);
    let mut names = Vec::new();
    for i in 0..20 {
        let name = unique(&format!("killed-{i}"));
        iam.create_user().user_name(&name).send().await.unwrap();
        names.push(name);
    }
    let k = iam
        .create_access_key()
        .user_name(&names[0])
        .send()
        .await
        .unwrap();
    let key_id = k.access_key().unwrap().access_key_id().to_string();
    iam.update_access_key()
        .user_name(&names[0])
        .access_key_id(&key_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    // No graceful shutdown: SIGKILL right after the last acknowledged write.
    p.kill();

    let p = Process::spawn(&db);
    let iam = iam_at(&p.addr);
    for name in &names {
        iam.get_user()
            .user_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name} lost after SIGKILL: {e:?}"));
    }
    let keys = iam
        .list_access_keys()
        .user_name(&names[0])
        .send()
        .await
        .unwrap();
    assert_eq!(keys.access_key_metadata().len(), 1);
    assert_eq!(
        keys.access_key_metadata()[0].status(),
        Some(&StatusType::Inactive)
    );
    p.kill();
}

/// SIGTERM and SIGINT stop the server cleanly: exit status 0, and what it acknowledged is on disk.
#[tokio::test]
async fn sigterm_and_sigint_shut_down_cleanly() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let db = db_in(&dir);
        let p = Process::spawn(&db);
        let name = unique("graceful");
        iam_at(&p.addr)
            .create_user()
            .user_name(&name)
            .send()
            .await
            .expect("create user");
        let status = p.signal_and_wait(signal);
        assert_eq!(status.code(), Some(0), "exit status after SIG{signal}");
        let p = Process::spawn(&db);
        let got = iam_at(&p.addr)
            .get_user()
            .user_name(&name)
            .send()
            .await
            .expect("user kept across a graceful restart");
        assert_eq!(got.user().map(|u| u.user_name()), Some(name.as_str()));
        p.kill();
    }
}

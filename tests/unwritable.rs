//! A database that stops being writable while the server runs (design notes §6: "If the database
//! cannot be written, the write fails with an error (never a success) and nothing of it stays
//! visible").
//!
//! We run as root, so `chmod` stops nothing. Two mechanisms that do work here:
//!
//! * `chattr +i` (the immutable attribute) on the database file and its `-wal`: the kernel then
//!   refuses every write, also through descriptors that are already open, with `EPERM`. The `-shm`
//!   file is left alone: SQLite maps it into memory, and writing to a mapped page of an immutable
//!   file kills the process with SIGBUS, which would test nothing. Every write must fail with an
//!   AWS error response, reads must go on answering the last acknowledged state, and after a
//!   restart the acknowledged state is there and the failed writes are not.
//! * a full disk: the database on a small tmpfs mounted for the test, filled up with a filler
//!   file (`ENOSPC`). A write may then still succeed where SQLite can reuse space, so the rule is:
//!   every write either fails with an error response and is nowhere, or succeeds and survives
//!   the restart; and at least one must fail.
//!
//! Each test prints `SKIPPED: …` and passes only when its mechanism is missing here (`chattr`
//! without support for the attribute, `mount` not permitted).

use crate::common;

use std::fmt::Debug;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{StatusType, Tag};
use aws_sdk_iam::Client;
use common::iam_state::*;
use common::*;

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {args:?}: {} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn chattr(flag: &str, path: &Path) -> Result<(), String> {
    run("chattr", &[flag, &path.to_string_lossy()])
}

/// Whether `chattr +i` is available in `dir` and refuses writes through a descriptor opened before.
fn immutable_attribute_works(dir: &Path) -> Result<(), String> {
    let probe = dir.join("probe");
    let mut f = std::fs::File::create(&probe).map_err(|e| e.to_string())?;
    f.write_all(b"x").map_err(|e| e.to_string())?;
    chattr("+i", &probe)?;
    let refused = f.write_all(b"y").is_err();
    chattr("-i", &probe)?;
    std::fs::remove_file(&probe).map_err(|e| e.to_string())?;
    if refused {
        Ok(())
    } else {
        Err(
            "a file with the immutable attribute still accepts writes through an open descriptor"
                .into(),
        )
    }
}

/// Files made immutable; made writable again when dropped (so that the temporary directory can be
/// removed even when the test fails).
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: &[PathBuf]) -> Immutable {
        let mut set = Immutable(Vec::new());
        for p in paths {
            chattr("+i", p).unwrap_or_else(|e| panic!("chattr +i {}: {e}", p.display()));
            set.0.push(p.clone());
        }
        set
    }

    fn clear(&mut self) {
        for p in self.0.drain(..) {
            if let Err(e) = chattr("-i", &p) {
                eprintln!("warning: chattr -i {}: {e}", p.display());
            }
        }
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        self.clear();
    }
}

/// What a write got.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Success,
    /// An error response: HTTP status, AWS error code, message.
    Error(u16, String, String),
    NoAnswer(String),
}

fn outcome<T, E: ProvideErrorMetadata + Debug>(r: Result<T, SdkError<E>>) -> Outcome {
    match r {
        Ok(_) => Outcome::Success,
        Err(e) if got_no_answer(&e) => Outcome::NoAnswer(describe(&e)),
        Err(e) => {
            let i = err_info(&e);
            Outcome::Error(i.status, i.code, i.message)
        }
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

fn doc(resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{resource}/*"}}]}}"#
    )
}

fn arn(policy: &str) -> String {
    format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/{policy}")
}

/// Some state: `alice` (tagged, in `devs`, with `read` attached and a key), `bob` (bare), the empty
/// group `empty`, the unattached policy `spare`. Returns alice's access key ID.
async fn create_state(iam: &Client) -> String {
    iam.create_user()
        .user_name("alice")
        .tags(tag("team", "red"))
        .tags(tag("tier", "1"))
        .send()
        .await
        .expect("create alice");
    iam.create_user()
        .user_name("bob")
        .send()
        .await
        .expect("create bob");
    for g in ["devs", "empty"] {
        iam.create_group()
            .group_name(g)
            .send()
            .await
            .expect("create group");
    }
    iam.add_user_to_group()
        .user_name("alice")
        .group_name("devs")
        .send()
        .await
        .expect("add alice to devs");
    for p in ["read", "spare"] {
        iam.create_policy()
            .policy_name(p)
            .policy_document(doc(p))
            .send()
            .await
            .expect("create policy");
    }
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(arn("read"))
        .send()
        .await
        .expect("attach read");
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .expect("create key");
    key.access_key().unwrap().access_key_id().to_string()
}

/// One write of every kind against the state of [`create_state`], each changing it if it succeeds.
async fn attempt_writes(iam: &Client, key: &str) -> Vec<(String, Outcome)> {
    let mut out = Vec::new();
    out.push((
        "CreateUser dave (tagged)".into(),
        outcome(
            iam.create_user()
                .user_name("dave")
                .tags(tag("team", "blue"))
                .send()
                .await,
        ),
    ));
    out.push((
        "CreateGroup ops".into(),
        outcome(iam.create_group().group_name("ops").send().await),
    ));
    out.push((
        "CreatePolicy write".into(),
        outcome(
            iam.create_policy()
                .policy_name("write")
                .policy_document(doc("write"))
                .send()
                .await,
        ),
    ));
    out.push((
        "AddUserToGroup bob devs".into(),
        outcome(
            iam.add_user_to_group()
                .user_name("bob")
                .group_name("devs")
                .send()
                .await,
        ),
    ));
    out.push((
        "RemoveUserFromGroup alice devs".into(),
        outcome(
            iam.remove_user_from_group()
                .user_name("alice")
                .group_name("devs")
                .send()
                .await,
        ),
    ));
    out.push((
        "AttachUserPolicy alice spare".into(),
        outcome(
            iam.attach_user_policy()
                .user_name("alice")
                .policy_arn(arn("spare"))
                .send()
                .await,
        ),
    ));
    out.push((
        "DetachUserPolicy alice read".into(),
        outcome(
            iam.detach_user_policy()
                .user_name("alice")
                .policy_arn(arn("read"))
                .send()
                .await,
        ),
    ));
    out.push((
        "TagUser alice team=blue new=1".into(),
        outcome(
            iam.tag_user()
                .user_name("alice")
                .tags(tag("team", "blue"))
                .tags(tag("new", "1"))
                .send()
                .await,
        ),
    ));
    out.push((
        "UntagUser alice tier".into(),
        outcome(
            iam.untag_user()
                .user_name("alice")
                .tag_keys("tier")
                .send()
                .await,
        ),
    ));
    out.push((
        "UpdateAccessKey alice Inactive".into(),
        outcome(
            iam.update_access_key()
                .user_name("alice")
                .access_key_id(key)
                .status(StatusType::Inactive)
                .send()
                .await,
        ),
    ));
    out.push((
        "CreateAccessKey alice".into(),
        outcome(iam.create_access_key().user_name("alice").send().await),
    ));
    out.push((
        "DeleteAccessKey alice".into(),
        outcome(
            iam.delete_access_key()
                .user_name("alice")
                .access_key_id(key)
                .send()
                .await,
        ),
    ));
    out.push((
        "UpdateUser bob -> robert (new path)".into(),
        outcome(
            iam.update_user()
                .user_name("bob")
                .new_user_name("robert")
                .new_path("/renamed/")
                .send()
                .await,
        ),
    ));
    out.push((
        "DeleteGroup empty".into(),
        outcome(iam.delete_group().group_name("empty").send().await),
    ));
    out.push((
        "DeletePolicy spare".into(),
        outcome(iam.delete_policy().policy_arn(arn("spare")).send().await),
    ));
    out
}

/// The first few error or warning lines the server logged.
fn first_errors(server: &BinaryServer) -> String {
    server
        .log_tail(2000)
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("WARN"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n")
}

fn show(attempts: &[(String, Outcome)]) -> String {
    attempts
        .iter()
        .map(|(what, o)| format!("  {what}: {o:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_and_reads_go_on_when_the_database_becomes_immutable() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    if let Err(why) = immutable_attribute_works(dir.path()) {
        eprintln!("SKIPPED: the immutable attribute (chattr +i) cannot make a file unwritable here: {why}");
        return;
    }
    let db_path = dir.path().join("unwritable.db");
    let db = db_path.to_string_lossy().into_owned();
    let mut server = BinaryServer::spawn(&db);
    let iam = server.iam();
    let key = create_state(&iam).await;
    let before = observe(&iam).await.expect("state before");
    assert_eq!(before.counts(), (2, 2, 2), "{before:#?}");

    // The database file and its write-ahead log stop accepting writes.
    let wal = PathBuf::from(format!("{db}-wal"));
    assert!(wal.exists(), "a WAL database has a -wal file while open");
    let mut immutable = Immutable::set(&[db_path.clone(), wal]);

    let mut attempts = attempt_writes(&iam, &key).await;
    // Writes in flight together (one group commit, if the store batches them).
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..16 {
        let iam = server.iam();
        burst.spawn(async move {
            (
                format!("CreateUser burst-{i} (concurrent)"),
                outcome(
                    iam.create_user()
                        .user_name(format!("burst-{i}"))
                        .tags(tag("n", &i.to_string()))
                        .send()
                        .await,
                ),
            )
        });
    }
    while let Some(r) = burst.join_next().await {
        attempts.push(r.expect("burst task"));
    }
    eprintln!(
        "writes to an immutable database answered:\n{}\nthe server logged, for instance:\n{}",
        show(&attempts),
        first_errors(&server)
    );
    let wrong: Vec<_> = attempts
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Error(status, code, _) if *status >= 500 && !code.is_empty()))
        .collect();
    assert!(
        wrong.is_empty(),
        "every write to an unwritable database must fail with an AWS error response (HTTP 5xx); \
         these did not:\n{wrong:#?}\nserver log:\n{}",
        server.log_tail(30)
    );
    assert!(
        server.is_running(),
        "the server died:\n{}",
        server.log_tail(30)
    );

    // Reads go on, and show the last acknowledged state: nothing of the failed writes.
    for client in [iam.clone(), server.iam()] {
        let now = observe(&client).await.unwrap_or_else(|e| {
            panic!(
                "reads while the database is unwritable: {e}\nserver log:\n{}",
                server.log_tail(30)
            )
        });
        assert_state_eq(&now, &before, "reads while the database is unwritable");
    }
    for name in ["dave", "robert", "burst-0", "burst-15"] {
        assert_code(
            iam.get_user().user_name(name).send().await,
            "NoSuchEntity",
            404,
        );
    }
    assert_code(
        iam.get_group().group_name("ops").send().await,
        "NoSuchEntity",
        404,
    );

    // Writable again: whether the running server recovers is reported, not required; a write it
    // acknowledges now must survive, and the failed ones must stay absent.
    immutable.clear();
    let recovered = outcome(iam.create_user().user_name("after").send().await);
    eprintln!("CreateUser after the database is writable again: {recovered:?}");
    let mut expected = before.clone();
    if recovered == Outcome::Success {
        let now = observe(&iam).await.expect("state after recovery");
        let mut without = now.clone();
        let after = without
            .users
            .remove("after")
            .expect("user after is visible");
        assert_state_eq(&without, &before, "state after recovery");
        expected.users.insert("after".into(), after);
    } else {
        assert!(matches!(recovered, Outcome::Error(..)), "{recovered:?}");
    }

    server.kill();
    let mut server = BinaryServer::spawn(&db);
    let restarted = observe(&server.iam()).await.expect("state after restart");
    assert_state_eq(
        &restarted,
        &expected,
        "after a restart: the acknowledged state, nothing of the failed writes",
    );
    server.kill();
    assert_eq!(sqlite_integrity(&db).await, vec!["ok".to_string()]);
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}

/// What a write on the full disk creates.
#[derive(Debug, Clone)]
enum Written {
    User(String),
    Group(String),
    Policy(String),
    /// A tag of alice.
    Tag(String),
}

/// Writes that create new things only, so that each one's outcome is independent of the others'.
async fn fresh_writes(iam: &Client, round: u32) -> Vec<(Written, Outcome)> {
    let user = format!("full-user-{round}");
    let group = format!("full-group-{round}");
    let policy = format!("full-policy-{round}");
    let key = format!("full-{round}");
    vec![
        (
            Written::User(user.clone()),
            outcome(
                iam.create_user()
                    .user_name(&user)
                    .tags(tag("team", "blue"))
                    .tags(tag("round", &round.to_string()))
                    .send()
                    .await,
            ),
        ),
        (
            Written::Group(group.clone()),
            outcome(iam.create_group().group_name(&group).send().await),
        ),
        (
            Written::Policy(policy.clone()),
            outcome(
                iam.create_policy()
                    .policy_name(&policy)
                    .policy_document(doc(&policy))
                    .send()
                    .await,
            ),
        ),
        (
            Written::Tag(key.clone()),
            outcome(
                iam.tag_user()
                    .user_name("alice")
                    .tags(tag(&key, "1"))
                    .send()
                    .await,
            ),
        ),
    ]
}

/// A tmpfs mounted for the test; unmounted (lazily, in case something still holds a file) when
/// dropped.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Err(e) = run("umount", &["-l", &self.0.to_string_lossy()]) {
            eprintln!("warning: {e}");
        }
    }
}

/// Fills the file system holding `path` by writing `path` until it is refused.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).expect("filler");
    let mut written = 0u64;
    for chunk in [65536usize, 4096, 512, 1] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).is_ok() {
            written += chunk as u64;
        }
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_a_full_disk_fail_without_trace_or_survive() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    if let Err(why) = run(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "size=4m",
            "tmpfs",
            &mnt.to_string_lossy(),
        ],
    ) {
        eprintln!("SKIPPED: cannot mount a tmpfs for a database on a full disk: {why}");
        return;
    }
    let _mounted = Tmpfs(mnt.clone());
    let db = mnt.join("full.db").to_string_lossy().into_owned();
    let mut server = BinaryServer::spawn(&db);
    let iam = server.iam();
    create_state(&iam).await;
    let before = observe(&iam).await.expect("state before");

    let filler = mnt.join("filler");
    let filled = fill(&filler);
    eprintln!("filled the tmpfs with {filled} bytes");

    // Rounds of writes until some fail (SQLite may first reuse space it already has). Each write
    // is independent of the others' outcome: new names, a new tag key.
    let mut attempts: Vec<(Written, Outcome)> = Vec::new();
    for round in 0..40 {
        attempts.extend(fresh_writes(&iam, round).await);
        if attempts.iter().any(|(_, o)| *o != Outcome::Success) {
            break;
        }
    }
    let failures: Vec<_> = attempts
        .iter()
        .filter(|(_, o)| *o != Outcome::Success)
        .collect();
    eprintln!(
        "the server logged, for instance:\n{}",
        first_errors(&server)
    );
    eprintln!(
        "{} writes on a full disk: {} succeeded, {} failed:\n{}",
        attempts.len(),
        attempts.len() - failures.len(),
        failures.len(),
        failures
            .iter()
            .map(|(w, o)| format!("  {w:?}: {o:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        !failures.is_empty(),
        "no write failed on a full disk: the test did not test anything"
    );
    let wrong: Vec<_> = failures
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Error(status, code, _) if *status >= 500 && !code.is_empty()))
        .collect();
    assert!(
        wrong.is_empty(),
        "a write that cannot be stored must fail with an AWS error response (HTTP 5xx):\n{wrong:#?}"
    );
    assert!(
        server.is_running(),
        "the server died:\n{}",
        server.log_tail(30)
    );

    // Reads go on; a write that succeeded is visible, one that failed is nowhere.
    let now = observe(&iam).await.unwrap_or_else(|e| {
        panic!(
            "reads on a full disk: {e}\nserver log:\n{}",
            server.log_tail(30)
        )
    });
    let alice_tags = &now.users["alice"].tags;
    for (w, o) in &attempts {
        let visible = match w {
            Written::User(n) => now.users.contains_key(n),
            Written::Group(n) => now.groups.contains_key(n),
            Written::Policy(n) => now.policies.contains_key(n),
            Written::Tag(k) => alice_tags.contains_key(k),
        };
        assert_eq!(
            visible,
            *o == Outcome::Success,
            "{w:?} answered {o:?}, and it is {}visible",
            if visible { "" } else { "not " }
        );
    }
    let mut unchanged = now.clone();
    for (w, _) in &attempts {
        match w {
            Written::User(n) => drop(unchanged.users.remove(n)),
            Written::Group(n) => drop(unchanged.groups.remove(n)),
            Written::Policy(n) => drop(unchanged.policies.remove(n)),
            Written::Tag(k) => drop(unchanged.users.get_mut("alice").unwrap().tags.remove(k)),
        }
    }
    assert_state_eq(
        &unchanged,
        &before,
        "nothing but the successful writes changed",
    );

    // After a restart (with space again): exactly what was visible.
    // Space again: whether the running server recovers is reported, not required; a write it
    // acknowledges now must survive.
    std::fs::remove_file(&filler).unwrap();
    let recovered = outcome(iam.create_user().user_name("after").send().await);
    eprintln!("CreateUser after space is free again: {recovered:?}");
    let now = if recovered == Outcome::Success {
        let later = observe(&iam).await.expect("state after recovery");
        let mut without = later.clone();
        without
            .users
            .remove("after")
            .expect("user after is visible");
        assert_state_eq(&without, &now, "state after recovery");
        later
    } else {
        assert!(matches!(recovered, Outcome::Error(..)), "{recovered:?}");
        now
    };
    server.kill();
    let mut server = BinaryServer::spawn(&db);
    let restarted = observe(&server.iam()).await.expect("state after restart");
    assert_state_eq(
        &restarted,
        &now,
        "after a restart: exactly what was visible before (acknowledged writes kept, failed ones absent)",
    );
    server.kill();
    assert_eq!(sqlite_integrity(&db).await, vec!["ok".to_string()]);
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}

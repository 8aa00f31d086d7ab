//! The text log of a running server, written by `localiam::log_format` and by
//! tracing_subscriber's default formatter (without colours) side by side: the same lines. At
//! `debug`, so with hyper's and the SDK clients' lines too (the clients' in spans).
mod common;

use std::path::Path;

use common::*;
use localiam::log_format::{TextFields, TextFormat};
use tracing_subscriber::layer::SubscriberExt;

/// A log file, appended to by each event's one write.
fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("log file")
}

/// The file's lines without their timestamps (the two formatters read the clock apart), sorted
/// (lines of different threads may reach the two files in different orders).
fn untimed(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("log file");
    let mut untimed: Vec<String> = text
        .lines()
        .map(|l| match l.get(..27) {
            // A line of a value with line breaks goes on without one.
            Some(t) if t.ends_with('Z') && t.as_bytes()[10] == b'T' => l[27..].to_owned(),
            _ => l.to_owned(),
        })
        .collect();
    untimed.sort();
    untimed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_text_log_is_the_default_formatters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (default, ours) = (dir.path().join("default.log"), dir.path().join("ours.log"));
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("debug"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(log_file(&default)),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .fmt_fields(TextFields)
                .event_format(TextFormat::default())
                .with_writer(log_file(&ours)),
        );
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let server = TestServer::start_with(|c| {
        c.auth = AuthMode::Enforce;
        c.limits.max_parameters = 20;
    })
    .await;
    let iam = server.iam();
    iam.create_user()
        .user_name("log-user")
        .send()
        .await
        .expect("CreateUser");
    iam.get_user()
        .user_name("log-user")
        .send()
        .await
        .expect("GetUser");
    assert_code(
        iam.get_user().user_name("no-such-user").send().await,
        "NoSuchEntity",
        404,
    );
    assert_code(
        iam.create_user().user_name("bad\"name\n").send().await,
        "ValidationError",
        400,
    );
    let key = iam
        .create_access_key()
        .user_name("log-user")
        .send()
        .await
        .expect("CreateAccessKey");
    let key = key.access_key().expect("key");
    let user = server.iam_with(key.access_key_id(), key.secret_access_key(), None);
    assert_code(user.list_users().send().await, "AccessDenied", 403);
    server
        .sts()
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    let raw = server.raw();
    raw.post_form(&[
        ("Action", "No\nSuch\u{1b}Action"),
        ("Version", "2010-05-08"),
    ])
    .await;
    let many: Vec<(String, String)> = (0..30).map(|i| (format!("P{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(raw.post_form(&many).await.status, 400);
    server.stop().await;

    let (default, ours) = (untimed(&default), untimed(&ours));
    let only_default: Vec<&String> = default.iter().filter(|l| !ours.contains(l)).collect();
    let only_ours: Vec<&String> = ours.iter().filter(|l| !default.contains(l)).collect();
    assert!(
        only_default.is_empty() && only_ours.is_empty(),
        "default formatter only: {only_default:#?}\nours only: {only_ours:#?}"
    );
    assert_eq!(default, ours);
    // The server's request lines are among them, decisions and all.
    let requests = |needle: &str| ours.iter().filter(|l| l.contains(needle)).count();
    assert!(
        requests("  INFO localiam::http: request request_id=") >= 9,
        "{ours:#?}"
    );
    assert!(
        requests(" decision=\"ImplicitDeny\" status=403 ") >= 1,
        "{ours:#?}"
    );
    assert!(requests(" action=<unknown> ") >= 1, "{ours:#?}");
    assert!(
        requests(" action=\"<unknown>\" principal=\"\" status=400 ") >= 1,
        "{ours:#?}"
    );
    // And lines in spans (the SDK clients').
    assert!(
        requests(" DEBUG IAM.GetUser{rpc.service=\"IAM\" ") >= 1,
        "{ours:#?}"
    );
}

//! Abusive clients (README, "Limits"), driven over raw TCP: slow headers, slow bodies, idle and
//! half-open connections are cut off after their timeout; oversized bodies, URLs, header sections
//! and parameter lists get their error; connections and requests in flight past their bound get
//! 503 `ServiceUnavailable`; and a normal client meanwhile answers as fast as before.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed HTTP/1.1 response read off a raw connection.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn code(&self) -> Option<String> {
        xml_tag(&self.body, "Code")
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Reads one response (head and `Content-Length` body) within 10 s.
async fn read_answer(stream: &mut (impl AsyncReadExt + Unpin)) -> Answer {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk).await.expect("read the answer");
            assert!(n > 0, "connection closed before an answer: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("status line: {head}"));
        let answer = Answer {
            status,
            head,
            body: String::new(),
        };
        let len: usize = answer
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let n = stream.read(&mut chunk).await.expect("read the body");
            assert!(n > 0, "connection closed in the body");
            buf.extend_from_slice(&chunk[..n]);
        }
        Answer {
            body: String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string(),
            ..answer
        }
    })
    .await
    .expect("an answer within 10 s")
}

/// Waits until the server closes `stream` (EOF or reset), at most `within`; returns how long it took.
async fn closed_within(stream: &mut (impl AsyncReadExt + Unpin), within: Duration) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + within).into(), stream.read(&mut chunk)).await {
            Err(_) => panic!("the connection was still open after {within:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends `request` on a new connection and reads the answer; the connection (still open on the
/// client's side) and the answer.
async fn exchange(addr: std::net::SocketAddr, request: &str) -> (TcpStream, Answer) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("send");
    let a = read_answer(&mut s).await;
    (s, a)
}

fn form_request(body: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const GCI: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// A normal client: `n` `GetCallerIdentity` calls on one keep-alive connection, each answered
/// 200; returns the median latency.
async fn normal_client(srv: &TestServer, n: usize) -> Duration {
    let mut stream = TcpStream::connect(srv.addr).await.expect("connect");
    let request = form_request(GCI);
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send a normal request");
        let a = read_answer(&mut stream).await;
        assert_eq!(a.status, 200, "a normal request failed: {a:?}");
        took.push(started.elapsed());
    }
    took.sort();
    took[n / 2]
}

/// What a normal client may lose while abuse goes on: its median latency stays within 5× the
/// quiet median (at least 50 ms of slack on a busy machine).
fn assert_not_slowed(quiet: Duration, during: Duration) {
    let bound = (quiet * 5).max(Duration::from_millis(50));
    assert!(
        during <= bound,
        "a normal client slowed from {quiet:?} to {during:?} (bound {bound:?})"
    );
}

#[tokio::test]
async fn slow_headers_idle_and_half_open_connections_are_cut_off() {
    let srv = TestServer::start_with(|c| c.limits.header_timeout = Duration::from_secs(2)).await;
    let quiet = normal_client(&srv, 20).await;

    // Slowloris: the headers one byte per second.
    let mut slow = Vec::new();
    for _ in 0..8 {
        let stream = TcpStream::connect(srv.addr).await.expect("connect");
        let (mut rd, mut wr) = stream.into_split();
        let writer = tokio::spawn(async move {
            for b in b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaa" {
                if wr.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let reader =
            tokio::spawn(async move { closed_within(&mut rd, Duration::from_secs(8)).await });
        slow.push((reader, writer));
    }
    // Half-open: connected, never a byte.
    let mut silent = TcpStream::connect(srv.addr).await.expect("connect");
    // Idle keep-alive: one request answered, then nothing.
    let mut idle = TcpStream::connect(srv.addr).await.expect("connect");
    idle.write_all(form_request(GCI).as_bytes())
        .await
        .expect("send");
    assert_eq!(read_answer(&mut idle).await.status, 200);

    let during = normal_client(&srv, 20).await;
    assert_not_slowed(quiet, during);

    for (reader, writer) in slow {
        let took = reader.await.expect("reader");
        assert!(
            took >= Duration::from_millis(1500),
            "cut off too early: {took:?}"
        );
        writer.abort();
    }
    closed_within(&mut silent, Duration::from_secs(6)).await;
    closed_within(&mut idle, Duration::from_secs(6)).await;
    srv.stop().await;
}

#[tokio::test]
async fn slow_body_gets_request_timeout_and_is_closed() {
    let srv = TestServer::start_with(|c| c.limits.body_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(srv.addr).await.expect("connect");
    let body =
        "Action=GetCallerIdentity&Version=2011-06-15&Pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        for b in body.as_bytes() {
            if wr.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let started = Instant::now();
    let a = read_answer(&mut rd).await;
    assert_eq!(a.status, 408, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("RequestTimeout"));
    assert_eq!(
        xml_tag(&a.body, "Message").as_deref(),
        Some("The request body was not received within 1 seconds.")
    );
    assert!(a.body.starts_with("<ErrorResponse"), "{}", a.body);
    assert!(started.elapsed() < Duration::from_secs(5));
    closed_within(&mut rd, Duration::from_secs(3)).await;
    writer.abort();
    srv.stop().await;
}

#[tokio::test]
async fn ten_megabyte_bodies_are_refused() {
    let srv = TestServer::start().await;
    let quiet = normal_client(&srv, 20).await;
    let ten_mb = 10 * 1024 * 1024;

    // Declared: refused from the headers alone, before the body is sent.
    let mut stream = TcpStream::connect(srv.addr).await.expect("connect");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {ten_mb}\r\n\r\nAction=CreateUser&Version=2010-05-08&UserName="
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let a = read_answer(&mut stream).await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("RequestEntityTooLarge"));
    assert_eq!(
        xml_tag(&a.body, "Message").as_deref(),
        Some("The request body is larger than 8388608 bytes.")
    );
    assert_eq!(a.header("connection").as_deref(), Some("close"));
    assert!(a.header("x-amzn-RequestId").is_some());

    // Chunked, so its size is only known as it arrives: refused once past the limit, while a
    // normal client keeps its pace.
    let stream = TcpStream::connect(srv.addr).await.expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        let head = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                    Transfer-Encoding: chunked\r\n\r\n";
        wr.write_all(head.as_bytes()).await?;
        let first = "Action=CreateUser&Version=2010-05-08&UserName=";
        wr.write_all(format!("{:x}\r\n{first}\r\n", first.len()).as_bytes())
            .await?;
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(ten_mb / chunk.len()) {
            wr.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            wr.write_all(&chunk).await?;
            wr.write_all(b"\r\n").await?;
        }
        wr.write_all(b"0\r\n\r\n").await
    });
    let during = normal_client(&srv, 20).await;
    let a = read_answer(&mut rd).await;
    assert_eq!(a.status, 413, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("RequestEntityTooLarge"));
    closed_within(&mut rd, Duration::from_secs(5)).await;
    let _ = writer.await;
    assert_not_slowed(quiet, during);

    // A body at the limit's side of it still works (a 1 MB parameter is AWS's ValidationError).
    let r = srv
        .raw()
        .post_form(&[
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", &"a".repeat(1024 * 1024)),
        ])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code().as_deref(), Some("ValidationError"));
    srv.stop().await;
}

#[tokio::test]
async fn too_many_parameters_long_urls_and_large_headers_are_refused() {
    let srv = TestServer::start().await;
    let quiet = normal_client(&srv, 20).await;

    // 100,000 parameters (about 1.3 MB, under the body limit).
    let mut body = String::from(GCI);
    for i in 0..100_000 {
        body.push_str(&format!("&P{i}=x"));
    }
    let abuse = {
        let addr = srv.addr;
        let body = body.clone();
        tokio::spawn(async move {
            let mut last = None;
            for _ in 0..5 {
                let mut s = TcpStream::connect(addr).await.expect("connect");
                s.write_all(form_request(&body).as_bytes())
                    .await
                    .expect("send");
                last = Some(read_answer(&mut s).await);
            }
            last.expect("answers")
        })
    };
    let during = normal_client(&srv, 20).await;
    let a = abuse.await.expect("abuse task");
    assert_eq!(a.status, 400, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("InvalidQueryParameter"));
    assert_eq!(
        xml_tag(&a.body, "Message").as_deref(),
        Some("The request has more than 10000 parameters.")
    );
    assert_not_slowed(quiet, during);
    // Parameters in the query string of a POST count too.
    let few: String = (0..1500).map(|i| format!("&Q{i}=x")).collect();
    let more: String = (0..9000).map(|i| format!("&P{i}=x")).collect();
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    let post = form_request(&format!("{GCI}{more}"));
    let post = post.replacen("POST / ", &format!("POST /?{} ", &few[1..]), 1);
    s.write_all(post.as_bytes()).await.expect("send");
    assert_eq!(
        read_answer(&mut s).await.code().as_deref(),
        Some("InvalidQueryParameter")
    );
    // The body was read: the connection serves the next request.
    s.write_all(form_request(GCI).as_bytes())
        .await
        .expect("send");
    assert_eq!(read_answer(&mut s).await.status, 200);

    // A URL over 16 KiB: 414 in AWS's envelope.
    let long = format!("/?{GCI}&Pad={}", "x".repeat(20_000));
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(format!("GET {long} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let a = read_answer(&mut s).await;
    assert_eq!(a.status, 414, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("RequestURITooLong"));
    // Under it, a GET works.
    let ok = format!("/?{GCI}&Pad={}", "x".repeat(10_000));
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(format!("GET {ok} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .expect("send");
    assert_eq!(read_answer(&mut s).await.status, 200);

    // A 100 KB header, and 150 header fields: 431, connection closed.
    for headers in [
        format!("X-Big: {}\r\n", "b".repeat(100_000)),
        (0..150)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>(),
    ] {
        let mut s = TcpStream::connect(srv.addr).await.expect("connect");
        let req = format!(
            "POST / HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{GCI}",
            GCI.len()
        );
        let _ = s.write_all(req.as_bytes()).await;
        let a = read_answer(&mut s).await;
        assert_eq!(a.status, 431, "{a:?}");
        closed_within(&mut s, Duration::from_secs(3)).await;
    }
    srv.stop().await;
}

#[tokio::test]
async fn connections_past_the_bound_get_service_unavailable() {
    let srv = TestServer::start_with(|c| {
        c.limits.max_connections = 4;
        c.limits.header_timeout = Duration::from_secs(2);
    })
    .await;
    // Four connections that never send a request hold every slot...
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(srv.addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so the fifth is refused, in AWS's envelope, and closed.
    let (mut s, a) = exchange(srv.addr, &form_request(GCI)).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("ServiceUnavailable"));
    assert_eq!(xml_tag(&a.body, "Type").as_deref(), Some("Receiver"));
    assert_eq!(a.header("connection").as_deref(), Some("close"));
    closed_within(&mut s, Duration::from_secs(3)).await;

    // The silent connections are cut off after the header timeout, which frees their slots.
    for s in &mut held {
        closed_within(s, Duration::from_secs(6)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    normal_client(&srv, 5).await;
    srv.stop().await;
}

#[tokio::test]
async fn requests_in_flight_past_the_bound_get_service_unavailable() {
    let srv = TestServer::start_with(|c| c.limits.max_in_flight = 2).await;
    // Two requests whose bodies are still coming are in flight.
    let body = GCI;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut pending = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(srv.addr).await.expect("connect");
        s.write_all(head.as_bytes()).await.expect("send");
        s.write_all(&body.as_bytes()[..5]).await.expect("send");
        pending.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_s, a) = exchange(srv.addr, &form_request(GCI)).await;
    assert_eq!(a.status, 503, "{a:?}");
    assert_eq!(a.code().as_deref(), Some("ServiceUnavailable"));
    assert_eq!(
        xml_tag(&a.body, "Message").as_deref(),
        Some("The server has too many requests in flight; try again later.")
    );
    // Once they complete, they are answered and the bound frees up.
    for s in &mut pending {
        s.write_all(&body.as_bytes()[5..]).await.expect("send");
        assert_eq!(read_answer(s).await.status, 200);
    }
    normal_client(&srv, 5).await;
    srv.stop().await;
}

#[test]
fn limits_are_flags() {
    use clap::Parser;
    let c = Config::try_parse_from([
        "localiam",
        "--max-connections",
        "10",
        "--max-in-flight",
        "5",
        "--max-body-bytes",
        "1000",
        "--max-url-bytes",
        "2000",
        "--max-header-bytes",
        "3000",
        "--max-parameters",
        "40",
        "--header-timeout",
        "1.5",
        "--body-timeout",
        "7",
    ])
    .expect("parse");
    assert_eq!(c.limits.max_connections, 10);
    assert_eq!(c.limits.max_in_flight, 5);
    assert_eq!(c.limits.max_body_bytes, 1000);
    assert_eq!(c.limits.max_url_bytes, 2000);
    assert_eq!(c.limits.max_header_bytes, 3000);
    assert_eq!(c.limits.max_parameters, 40);
    assert_eq!(c.limits.header_timeout, Duration::from_millis(1500));
    assert_eq!(c.limits.body_timeout, Duration::from_secs(7));
    assert!(Config::try_parse_from(["localiam", "--header-timeout", "0"]).is_err());
    assert!(Config::try_parse_from(["localiam", "--max-connections", "0"]).is_err());
    let d = Config::default_for_tests();
    assert_eq!(d.limits.max_connections, 1024);
    assert_eq!(d.limits.max_in_flight, 256);
    assert_eq!(d.limits.max_body_bytes, 8 * 1024 * 1024);
    assert_eq!(d.limits.max_url_bytes, 16 * 1024);
    assert_eq!(d.limits.max_header_bytes, 32 * 1024);
    assert_eq!(d.limits.max_parameters, 10_000);
    assert_eq!(d.limits.header_timeout, Duration::from_secs(30));
    assert_eq!(d.limits.body_timeout, Duration::from_secs(30));
}

/// `--help` lists every limit with its environment variable and default.
#[test]
fn help_lists_the_limits() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_localiam"))
        .arg("--help")
        .output()
        .expect("run localiam --help");
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, env, default) in [
        ("--max-connections", "LOCALIAM_MAX_CONNECTIONS", "1024"),
        ("--max-in-flight", "LOCALIAM_MAX_IN_FLIGHT", "256"),
        ("--max-body-bytes", "LOCALIAM_MAX_BODY_BYTES", "8388608"),
        ("--max-url-bytes", "LOCALIAM_MAX_URL_BYTES", "16384"),
        ("--max-header-bytes", "LOCALIAM_MAX_HEADER_BYTES", "32768"),
        ("--max-parameters", "LOCALIAM_MAX_PARAMETERS", "10000"),
        ("--header-timeout", "LOCALIAM_HEADER_TIMEOUT", "30"),
        ("--body-timeout", "LOCALIAM_BODY_TIMEOUT", "30"),
    ] {
        let line = help
            .lines()
            .position(|l| l.contains(flag))
            .unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
        let entry: String = help
            .lines()
            .skip(line)
            .take(6)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            entry.contains(&format!("[env: {env}="))
                && entry.contains(&format!("[default: {default}]")),
            "{flag}: {entry}"
        );
    }
    assert!(help.contains("Limits:"), "{help}");
}

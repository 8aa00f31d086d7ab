//! `localiam healthcheck`: asks a running server for `GET /_localiam/health`, for a container
//! HEALTHCHECK in an image with no shell or curl. Blocking std I/O with one deadline: no runtime
//! to start, and it never outlives its timeout.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The largest answer read (the health document is a few dozen bytes).
const MAX_ANSWER: usize = 64 * 1024;

/// Where to reach a server listening on `listen`: an unspecified address (`0.0.0.0`, `::`) is
/// reached on the loopback address of its family.
pub fn target(listen: SocketAddr) -> Result<SocketAddr, String> {
    if listen.port() == 0 {
        return Err(format!(
            "{listen} has port 0: give the port the server listens on (--listen or LOCALIAM_LISTEN)"
        ));
    }
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, listen.port()))
}

/// Asks the server on `listen` whether it is healthy; `Ok` with its version when it answered
/// 200 `{"status":"ok",…}` within `timeout`.
pub fn check(listen: SocketAddr, timeout: Duration) -> Result<String, String> {
    let addr = target(listen)?;
    let deadline = Instant::now() + timeout;
    let remaining = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("no answer from {addr} within {timeout:?}"))
    };
    let mut stream = TcpStream::connect_timeout(&addr, remaining()?)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_write_timeout(Some(remaining()?))
        .and_then(|()| {
            stream.write_all(
                format!(
                    "GET /_localiam/health HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: localiam-healthcheck\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
        })
        .map_err(|e| format!("cannot send the request to {addr}: {e}"))?;
    let mut answer = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        stream
            .set_read_timeout(Some(remaining()?))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) if answer.len() + n <= MAX_ANSWER => answer.extend_from_slice(&chunk[..n]),
            Ok(_) => return Err(format!("{addr} answered more than {MAX_ANSWER} bytes")),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("no answer from {addr}: {e}")),
        }
    }
    healthy(&answer).map_err(|why| format!("{addr}: {why}"))
}

/// Reads an HTTP answer to the health request: 200 and `{"status":"ok"}`; the version it names.
fn healthy(answer: &[u8]) -> Result<String, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let body = match response.parse(answer) {
        Ok(httparse::Status::Complete(n)) => &answer[n..],
        Ok(httparse::Status::Partial) => return Err("the answer ended early".to_string()),
        Err(e) => return Err(format!("not an HTTP answer: {e}")),
    };
    if response.code != Some(200) {
        return Err(format!(
            "answered HTTP {}",
            response.code.unwrap_or_default()
        ));
    }
    let doc: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the health document is not JSON: {e}"))?;
    if doc.get("status").and_then(|s| s.as_str()) != Some("ok") {
        return Err(format!("not healthy: {doc}"));
    }
    Ok(doc
        .get("version")
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .to_string())
}

/// The subcommand: one line on stdout (healthy) or stderr (not), and the exit code.
pub fn main(listen: SocketAddr, timeout: Duration) -> std::process::ExitCode {
    match check(listen, timeout) {
        Ok(version) => {
            println!("healthy: localiam {version} on {listen}");
            std::process::ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("unhealthy: {why}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_reached_on_loopback() {
        let t = |s: &str| target(s.parse().unwrap());
        assert_eq!(
            t("0.0.0.0:4593").unwrap(),
            "127.0.0.1:4593".parse().unwrap()
        );
        assert_eq!(t("[::]:4593").unwrap(), "[::1]:4593".parse().unwrap());
        assert_eq!(t("10.1.2.3:80").unwrap(), "10.1.2.3:80".parse().unwrap());
        assert!(t("0.0.0.0:0").unwrap_err().contains("port 0"));
    }

    #[test]
    fn answers_are_read_strictly() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 35\r\n\r\n{\"status\":\"ok\",\"version\":\"0.1.0\"}";
        assert_eq!(healthy(ok).unwrap(), "0.1.0");
        let down = b"HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"ok\"}";
        assert!(healthy(down).unwrap_err().contains("503"));
        let wrong = b"HTTP/1.1 200 OK\r\n\r\n{\"status\":\"starting\"}";
        assert!(healthy(wrong).unwrap_err().contains("not healthy"));
        assert!(healthy(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(healthy(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(healthy(b"HTTP/1.1 200 OK\r\n\r\n<html/>").is_err());
    }
}

//! Load test: signed GetUser calls against a running localiam.
//!
//!   cargo run --release --example loadtest -- [URL] [REQUESTS] [CONCURRENCY]
//!
//! Creates a user and an access key (as the default root, `test`/`test`), signs one GetUser request
//! with that user's key (SigV4, Authorization header) and sends it REQUESTS times from CONCURRENCY
//! keep-alive connections. Every response must be 200. Prints throughput and latency percentiles.
//! Traffic goes only to URL (a loopback address).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or("http://127.0.0.1:4593".into());
    let total: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let concurrency: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(32);

    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .endpoint_url(&url)
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "loadtest",
        ))
        .build();
    let iam = aws_sdk_iam::Client::from_conf(conf);
    let name = format!("loadtest-{}", std::process::id());
    iam.create_user().user_name(&name).send().await?;
    let key = iam.create_access_key().user_name(&name).send().await?;
    let key = key.access_key().ok_or("no access key")?;

    let body = format!("Action=GetUser&Version=2010-05-08&UserName={name}");
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let headers = [
        ("host", host.as_str()),
        (
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
    ];
    let identity = aws_credential_types::Credentials::new(
        key.access_key_id(),
        key.secret_access_key(),
        None,
        None,
        "loadtest",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("iam")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let uri = format!("{}/", url.trim_end_matches('/'));
    let signable = SignableRequest::new(
        "POST",
        &uri,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )?;
    let (instructions, _) = sign(signable, &params)?.into_parts();
    let mut signed = http::Request::builder().method("POST").uri(&uri);
    for (k, v) in headers {
        signed = signed.header(k, v);
    }
    let mut signed = signed.body(())?;
    instructions.apply_to_request_http1x(&mut signed);
    let sent_headers: Vec<(String, String)> = signed
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str() != "host")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let counter = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, counter, uri, body, hdrs) = (
            client.clone(),
            counter.clone(),
            uri.clone(),
            body.clone(),
            sent_headers.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while counter.fetch_add(1, Ordering::Relaxed) < total {
                let t = Instant::now();
                let mut req = client.post(&uri).body(body.clone());
                for (k, v) in &hdrs {
                    req = req.header(k, v);
                }
                let resp = req.send().await.map_err(|e| e.to_string())?;
                let status = resp.status();
                let text = resp.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!(
                        "status {status}: {}",
                        String::from_utf8_lossy(&text)
                    ));
                }
                lat.push(t.elapsed());
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all: Vec<Duration> = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "signed GetUser: {} requests, concurrency {}, {:.2} s, {:.0} req/s, p50 {:?}, p99 {:?}, max {:?}",
        all.len(),
        concurrency,
        secs,
        all.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        all[all.len() - 1]
    );
    Ok(())
}

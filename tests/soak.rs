//! The short soak (README, "Long runs"): after a warm-up of 10,000, 20,000 mixed requests (users, roles, sessions, policy
//! changes, enforced calls) against the binary in `enforce` mode; memory at the end within 1.2× of
//! what it was after the first tenth, and every answer the expected one. The long run is
//! `cargo run --release --example soak -- --requests 200000`.

#[allow(dead_code)]
#[path = "../examples/soak.rs"]
mod run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_mixed_requests_keep_memory_flat() {
    let options = run::Options {
        requests: 20_000,
        warmup: 10_000,
        concurrency: 8,
        bin: Some(env!("CARGO_BIN_EXE_localiam").into()),
    };
    let report = run::run(&options).await.expect("soak run");
    report.print();
    assert!(report.requests >= 20_000, "{report:?}");
    assert!(report.rss.len() >= 10, "{report:?}");
    if let Err(e) = report.verdict() {
        panic!("{e}");
    }
}

//! The fuzz targets' entry points on the stable toolchain, a few seconds each: proptest feeds each
//! one arbitrary bytes and mutations (byte flips, insertions, deletions, splices of tokens that
//! matter to the parser) of the seeds `fuzz/seeds.py` extracts from the tests; every seed is also
//! run as it is. An entry point must return whatever it gets: a panic (an index out of bounds,
//! an overflow) fails the test with the input that caused it, shrunk. The entry points are those
//! of `fuzz/src/lib.rs`, included here as they are: the nightly cargo-fuzz targets and this test
//! drive the same code. `LOCALIAM_FUZZ_CASES=N` runs N cases per entry point (default 10,000).

#[path = "../fuzz/src/lib.rs"]
mod entry;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The seeds of every target (`python3 fuzz/seeds.py --json`).
static SEEDS: LazyLock<BTreeMap<String, Vec<Vec<u8>>>> = LazyLock::new(|| {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds.py");
    let out = std::process::Command::new("python3")
        .args([script, "--json"])
        .output()
        .expect("python3 runs fuzz/seeds.py");
    assert!(
        out.status.success(),
        "fuzz/seeds.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).expect("seeds JSON");
    json.into_iter()
        .map(|(target, seeds)| {
            let seeds = seeds
                .iter()
                .map(|s| {
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .expect("base64 seed")
                })
                .collect();
            (target, seeds)
        })
        .collect()
});

/// Byte strings that change what a parser does.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"%",
    b"%FF",
    b"%ZZ",
    b"&",
    b"=",
    b"\n",
    b".member.",
    b".member.0",
    b".entry.1.key",
    b"Action=",
    b"99999999999999999999",
    b"-1",
    b"1e999",
    b"${",
    b"${aws:username}",
    b"*",
    b"?",
    b"<",
    b"</",
    b"/>",
    b"<!--",
    b"&amp;",
    b"<!DOCTYPE a [<!ENTITY e \"x\">]>",
    b"xmlns:",
    b"Credential=",
    b"SignedHeaders=",
    b"Signature=",
    b"X-Amz-",
    b"/iam/",
    b"/sts/",
    b"aws4_request",
    b"AWS4-HMAC-SHA256 ",
    b"\xff\xfe",
    b"\x00",
    b"eyJ",
    b".",
    b"==",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Token(usize, usize),
    Repeat(usize, usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(p, t)| Edit::Token(p, t)),
        (any::<usize>(), 1usize..64, 1u8..200).prop_map(|(p, n, k)| Edit::Repeat(p, n, k)),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
        match *e {
            Edit::Flip(p, b) if !data.is_empty() => {
                let i = p % data.len();
                data[i] ^= b;
            }
            Edit::Flip(..) => {}
            Edit::Insert(p, b) => data.insert(at(p, data.len()), b),
            Edit::Delete(p, n) => {
                let i = at(p, data.len());
                let end = (i + n).min(data.len());
                data.drain(i..end);
            }
            Edit::Token(p, t) => {
                let i = at(p, data.len());
                data.splice(i..i, TOKENS[t % TOKENS.len()].iter().copied());
            }
            Edit::Repeat(p, n, k) => {
                // A slice repeated k times: nesting and long runs.
                let i = at(p, data.len());
                let end = (i + n).min(data.len());
                let piece = data[i..end].to_vec();
                for _ in 0..k {
                    data.splice(end..end, piece.iter().copied());
                }
            }
        }
    }
    data
}

fn input(target: &str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = SEEDS.get(target).cloned().unwrap_or_default();
    assert!(!seeds.is_empty(), "no seeds for {target}");
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..600),
        1 => proptest::collection::vec(proptest::sample::select(TOKENS.to_vec()), 0..40)
            .prop_map(|t| t.concat()),
        4 => (proptest::sample::select(seeds), proptest::collection::vec(edit(), 1..8))
            .prop_map(|(s, e)| apply(s, &e)),
    ]
}

fn cases() -> u32 {
    std::env::var("LOCALIAM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Every seed as it is, then `cases()` generated inputs.
fn fuzz(target: &str, run: fn(&[u8])) {
    for seed in &SEEDS[target] {
        run(seed);
    }
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&input(target), |data| {
        run(&data);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
    eprintln!(
        "{target}: {} seeds and {} inputs in {:.1?}",
        SEEDS[target].len(),
        cases(),
        started.elapsed()
    );
}

#[test]
fn query_decoder() {
    fuzz("query", entry::query);
}

#[test]
fn sigv4_authorization_header() {
    fuzz("sigv4_header", entry::sigv4_header);
}

#[test]
fn sigv4_presigned_query() {
    fuzz("sigv4_presigned", entry::sigv4_presigned);
}

#[test]
fn policy_reader() {
    fuzz("policy_read", entry::policy_read);
}

#[test]
fn policy_evaluator() {
    fuzz("policy_eval", entry::policy_eval);
}

#[test]
fn jwt() {
    fuzz("jwt", entry::jwt);
}

#[test]
fn saml() {
    fuzz("saml", entry::saml);
}

/// The seeds reach past the first check: a fuzzer that starts from inputs every parser refuses
/// at once explores little.
#[test]
fn seeds_are_meaningful() {
    use localiam::auth::sigv4::{parse_auth, Auth, RequestParts};
    let n = |t: &str| SEEDS[t].len();
    assert!(n("query") > 187, "a body per operation at least");
    let parsed = SEEDS["policy_read"]
        .iter()
        .filter(|s| {
            std::str::from_utf8(s).is_ok_and(|t| localiam::policy::Policy::parse(t).is_ok())
        })
        .count();
    assert!(parsed > 200, "only {parsed} policy seeds parse");
    // Signed seeds in an accepted scope parse as signed requests.
    let signed = SEEDS["sigv4_header"]
        .iter()
        .filter(|s| {
            let lines: Vec<&[u8]> = s.splitn(5, |b| *b == b'\n').collect();
            let mut h = http::HeaderMap::new();
            h.insert(
                "host",
                http::HeaderValue::from_static("example.amazonaws.com"),
            );
            if let (Some(a), Some(d)) = (lines.first(), lines.get(1)) {
                if let (Ok(a), Ok(d)) = (
                    http::HeaderValue::from_bytes(a),
                    http::HeaderValue::from_bytes(d),
                ) {
                    h.insert("authorization", a);
                    h.insert("x-amz-date", d);
                }
            }
            let parts = RequestParts {
                method: "POST",
                path: "/",
                query: "",
                headers: &h,
                body: b"",
            };
            matches!(parse_auth(&parts), Ok(Auth::Signed(_)))
        })
        .count();
    assert!(signed >= 20, "only {signed} SigV4 seeds parse");
}

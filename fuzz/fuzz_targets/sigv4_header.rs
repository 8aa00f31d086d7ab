//! `cargo +nightly fuzz run sigv4_header` (from the repository root): see `localiam_fuzz::sigv4_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::sigv4_header(data));

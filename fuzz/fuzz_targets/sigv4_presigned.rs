//! `cargo +nightly fuzz run sigv4_presigned` (from the repository root): see `localiam_fuzz::sigv4_presigned`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::sigv4_presigned(data));

//! `cargo +nightly fuzz run query` (from the repository root): see `localiam_fuzz::query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::query(data));

//! `cargo +nightly fuzz run jwt` (from the repository root): see `localiam_fuzz::jwt`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::jwt(data));

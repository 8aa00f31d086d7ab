//! `cargo +nightly fuzz run policy_read` (from the repository root): see `localiam_fuzz::policy_read`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::policy_read(data));

//! `cargo +nightly fuzz run policy_eval` (from the repository root): see `localiam_fuzz::policy_eval`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::policy_eval(data));

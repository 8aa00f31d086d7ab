//! `cargo +nightly fuzz run saml` (from the repository root): see `localiam_fuzz::saml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localiam_fuzz::saml(data));

//! Fuzzes the policy reader: validation and compilation must never panic, whatever the input.
//!   cargo +nightly fuzz run parse -- -max_total_time=60     (from crates/policy)
#![no_main]

use libfuzzer_sys::fuzz_target;
use localiam_policy::validate::{policy_size, validate, validate_and_parse, PolicyKind};
use localiam_policy::Policy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::parse(text);
        let _ = policy_size(text);
        for kind in [PolicyKind::Identity, PolicyKind::Trust, PolicyKind::Resource] {
            let _ = validate(text, kind);
            let _ = validate_and_parse(text, kind);
        }
    }
});

//! Authorization plumbing between the store and the pure evaluator ([`crate::policy`]): the
//! shared compiled-policy cache and the gathering of the policies that apply to a principal.
//! Enforcement, `/_localiam/authorize` and the simulator operations use these, so they all
//! decide from the same policies.

pub mod applied;
pub mod cache;
pub mod decisions;
pub mod endpoint;
pub mod enforce;
pub mod reference;

use http::StatusCode;

use crate::error::ApiError;

pub use applied::{group_policies, role_policies, user_policies, AppliedPolicies, AppliedPolicy};
pub use cache::{PlanCache, PolicyCache};

/// AWS's `PolicyEvaluation` error (500): a policy could not be evaluated.
pub fn policy_evaluation_error(policy_name: &str) -> ApiError {
    ApiError::new(
        "PolicyEvaluation",
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("The policy {policy_name} could not be evaluated."),
    )
}

/// What every encoded authorization message starts with, before encoding.
const MESSAGE_MAGIC: &str = "localiam-authz-message:";

/// An authorization failure's details (a JSON document, as `DecodeAuthorizationMessage` returns
/// it) as an opaque encoded message.
pub fn encode_authorization_message(decoded_json: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{MESSAGE_MAGIC}{decoded_json}"))
}

/// The JSON document of a message [`encode_authorization_message`] made; `None` for anything else.
pub fn decode_authorization_message(encoded: &str) -> Option<String> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix(MESSAGE_MAGIC)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_messages_round_trip_and_others_are_refused() {
        let doc = r#"{"allowed":false,"explicitDeny":false}"#;
        let encoded = encode_authorization_message(doc);
        assert_eq!(decode_authorization_message(&encoded).as_deref(), Some(doc));
        assert_eq!(decode_authorization_message("not-a-message"), None);
        assert_eq!(decode_authorization_message(""), None);
    }
}

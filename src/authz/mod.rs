//! Authorization plumbing between the store and the pure evaluator ([`crate::policy`]): the
//! shared compiled-policy cache and the gathering of the policies that apply to a principal.
//! Enforcement, `/_localiam/authorize` and the simulator operations use these, so they all
//! decide from the same policies.

pub mod applied;
pub mod cache;

use http::StatusCode;

use crate::error::ApiError;

pub use applied::{group_policies, role_policies, user_policies, AppliedPolicies, AppliedPolicy};
pub use cache::PolicyCache;

/// AWS's `PolicyEvaluation` error (500): a policy could not be evaluated.
pub fn policy_evaluation_error(policy_name: &str) -> ApiError {
    ApiError::new(
        "PolicyEvaluation",
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("The policy {policy_name} could not be evaluated."),
    )
}

//! localiam-policy: AWS IAM policy grammar, validation and evaluation. Pure: no I/O, no async.
//!
//! # Usage
//!
//! ```
//! use localiam_policy::{evaluate, Context, Decision, EvalInput, Policy, PolicyRef, Principal,
//!     Reason, Request, SourceType};
//!
//! let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow",
//!     "Action":"iam:Get*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}"#)
//!     .unwrap();
//! let alice = Principal::user("arn:aws:iam::123456789012:user/alice", "AIDAEXAMPLE");
//! let mut ctx = Context::new();
//! ctx.add_principal_keys(&alice);
//! let refs = [PolicyRef::new("inline", SourceType::UserInline, &policy)];
//! let request = Request { principal: &alice, action: "iam:GetUser",
//!     resource: "arn:aws:iam::123456789012:user/alice", context: &ctx };
//! let eval = evaluate(&EvalInput::new(request, &refs));
//! assert_eq!(eval.decision, Decision::Allow);
//!
//! let other = Request { resource: "arn:aws:iam::123456789012:user/bob", ..request };
//! let eval = evaluate(&EvalInput::new(other, &refs));
//! assert_eq!(eval.reason, Reason::NoIdentityAllow);
//! assert_eq!(eval.reason.message_tail("iam:GetUser"),
//!     "because no identity-based policy allows the iam:GetUser action");
//! ```
//!
//! # API
//! - [`Policy::parse`] compiles a document (`Send + Sync`; share it via `Arc`).
//!   [`validate`] checks AWS's grammar and produces its `MalformedPolicyDocument` messages;
//!   [`validate::validate_and_parse`] does both, reading the JSON once.
//! - [`Principal`], [`Context`] and [`Request`] describe the request;
//!   [`Context::add_principal_keys`] fills `aws:username`, `aws:userid`, `aws:PrincipalArn`,
//!   `aws:PrincipalTag/…` and friends.
//! - [`EvalInput`] lists the applicable policies ([`PolicyRef`]: id + [`SourceType`] +
//!   policy), the optional permissions boundary, session policies, resource-based policy and
//!   resource account. [`evaluate`] returns an [`Evaluation`]: [`Decision`], [`Reason`]
//!   (see [`Reason::message_tail`] and [`access_denied_message`]), the matched statements with
//!   their positions, missing context keys and per-source decisions.
//! - [`trust_check`] tells what a trust policy alone says about a principal.
//! - [`context_keys`] lists the context keys used by policies.

mod arena;
mod arn;
mod condition;
mod eval;
mod glob;
mod json;
mod policy;
mod position;
mod request;
pub mod validate;
mod values;
mod vars;

pub use eval::{
    access_denied_message, context_keys, evaluate, trust_check, Decision, EvalInput, Evaluation,
    Grant, MatchedStatement, PolicyRef, Reason, SourceType, TrustDecision,
};
pub use policy::{Effect, ParseError, Policy, Statement, Version};
pub use position::Position;
pub use request::{Context, Principal, PrincipalKind, Request};

//! API errors: AWS's error code, message and HTTP status.

use std::borrow::Cow;

use http::StatusCode;

/// An error answered to the client in AWS's `ErrorResponse` envelope.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: Cow<'static, str>,
    pub message: String,
    pub status: StatusCode,
    /// `Sender` (client fault) or `Receiver` (server fault) in the envelope's `<Type>`.
    pub sender_fault: bool,
}

impl ApiError {
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            code: Cow::Borrowed(code),
            message: message.into(),
            status,
            sender_fault: status.is_client_error(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationError", StatusCode::BAD_REQUEST, message)
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("InvalidInput", StatusCode::BAD_REQUEST, message)
    }
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new("NoSuchEntity", StatusCode::NOT_FOUND, message)
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new("EntityAlreadyExists", StatusCode::CONFLICT, message)
    }
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new("DeleteConflict", StatusCode::CONFLICT, message)
    }
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceeded", StatusCode::CONFLICT, message)
    }
    pub fn malformed_policy(message: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", StatusCode::BAD_REQUEST, message)
    }
    pub fn not_attachable(message: impl Into<String>) -> Self {
        Self::new("PolicyNotAttachable", StatusCode::BAD_REQUEST, message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", StatusCode::FORBIDDEN, message)
    }
    pub fn invalid_action(action: &str, version: &str) -> Self {
        Self::new(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            format!("Could not find operation {action} for version {version}"),
        )
    }
    pub fn not_implemented(action: &str) -> Self {
        Self::new(
            "NotImplemented",
            StatusCode::NOT_IMPLEMENTED,
            format!("The operation {action} is not implemented by localiam yet."),
        )
    }
    /// A fault of localiam itself (for example the database failing). Logged; never expected.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("ServiceFailure", StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

//! Who is calling: the principal a request runs as.

/// The kind of principal behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user: never limited by policies.
    Root,
    /// An IAM user, signing with a long-term `AKIA…` key.
    User,
    /// An STS session of an assumed role (`ASIA…` key with a session token).
    AssumedRole,
    /// An STS federated-user session.
    FederatedUser,
}

/// The principal a request runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub account_id: String,
    /// `arn:aws:iam::ACCOUNT:root`, `arn:aws:iam::ACCOUNT:user/PATH/NAME`, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// The unique ID (`AIDA…` for users, `AROA…:session` for roles, the account ID for root).
    pub user_id: String,
    /// The user's name (users only; empty otherwise).
    pub name: String,
    /// The user's unique ID in the store (users only).
    pub entity_id: Option<String>,
    /// The access key that signed the request, if any.
    pub access_key_id: Option<String>,
}

impl Principal {
    pub fn root(account_id: &str, access_key_id: Option<String>) -> Self {
        Principal {
            kind: PrincipalKind::Root,
            account_id: account_id.to_string(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            user_id: account_id.to_string(),
            name: String::new(),
            entity_id: None,
            access_key_id,
        }
    }

    pub fn is_root(&self) -> bool {
        self.kind == PrincipalKind::Root
    }
}

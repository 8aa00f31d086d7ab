//! The API operations, grouped by family. `registry()` is the table of every implemented operation;
//! anything else in the models answers `NotImplemented`.

pub mod access_advisor;
pub mod access_keys;
pub mod account;
pub mod authorization_details;
pub mod common;
pub mod credential_report;
pub mod delegation;
pub mod groups;
pub mod inline_policies;
pub mod instance_profiles;
pub mod login_profiles;
pub mod mfa;
pub mod oidc_providers;
pub mod organizations;
pub mod permissions_boundary;
pub mod policies;
pub mod registry;
pub mod roles;
pub mod saml_providers;
pub mod server_certificates;
pub mod service_credentials;
pub mod signing_certificates;
pub mod simulator;
pub mod ssh_public_keys;
pub mod sts;
pub mod sts_identity;
pub mod sts_saml;
pub mod users;
pub mod web_identity;

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::auth::Principal;
pub use registry::{Registry, Service};

/// Everything a handler knows about the request besides its input.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub request_id: String,
    pub principal: Principal,
    /// The region of the signature's credential scope (`us-east-1` when unsigned).
    pub region: String,
    pub source_ip: IpAddr,
    pub now: OffsetDateTime,
}

impl Ctx {
    /// The account the request acts in.
    pub fn account(&self) -> &str {
        &self.principal.account_id
    }
}

/// The table of implemented operations.
pub fn registry() -> Registry {
    let mut r = Registry::default();
    users::register(&mut r);
    access_keys::register(&mut r);
    permissions_boundary::register(&mut r);
    sts_identity::register(&mut r);
    groups::register(&mut r);
    login_profiles::register(&mut r);
    policies::register(&mut r);
    inline_policies::register(&mut r);
    simulator::register(&mut r);
    roles::register(&mut r);
    instance_profiles::register(&mut r);
    sts::register(&mut r);
    mfa::register(&mut r);
    account::register(&mut r);
    authorization_details::register(&mut r);
    credential_report::register(&mut r);
    oidc_providers::register(&mut r);
    web_identity::register(&mut r);
    saml_providers::register(&mut r);
    sts_saml::register(&mut r);
    server_certificates::register(&mut r);
    ssh_public_keys::register(&mut r);
    signing_certificates::register(&mut r);
    service_credentials::register(&mut r);
    access_advisor::register(&mut r);
    organizations::register(&mut r);
    delegation::register(&mut r);
    r
}

//! localiam: AWS IAM and STS, locally. See README.md.
//!
//! Layout: `http` (routes, admin endpoints) → `auth` (SigV4, principals) → `api` (operations by
//! family, registered in a table against the generated `protocol` layer) → `store` (SQLite).
//! Policies are decided by the pure `localiam-policy` crate, re-exported as [`policy`].
pub mod activity;
pub mod api;
pub mod auth;
pub mod authz;
pub mod config;
pub mod console;
pub mod error;
pub mod healthcheck;
pub mod http;
pub mod ids;
pub mod jwt;
pub mod log_format;
pub mod log_writer;
pub mod metrics;
pub mod protocol;
pub mod saml;
pub mod seed;
pub mod server;
pub mod state;
pub mod store;

pub use localiam_policy as policy;

//! Every integration test in one binary (`cargo test --test suite`): one link of the SDKs and
//! the server instead of one per file, which kept a clean build's test binaries at about 4 GB.
//! Each file under `tests/` is a module here; run one with `cargo test --test suite FILE::`.
//! Two files stay binaries of their own, because they test something process-wide:
//! `log_format.rs` installs the global subscriber and `aws_managed_lazy.rs` watches the AWS managed
//! policy catalogue being loaded.

#[path = "common/mod.rs"]
mod common;
// The recordings of real AWS answers, shared by `recorded` and `aws_managed_policies_api`.
#[path = "recorded/mod.rs"]
mod recordings;

#[path = "access_advisor_api.rs"]
mod access_advisor_api;
#[path = "access_keys.rs"]
mod access_keys;
#[path = "account_api.rs"]
mod account_api;
#[path = "admin_endpoints.rs"]
mod admin_endpoints;
#[path = "auth.rs"]
mod auth;
#[path = "authorize_endpoint.rs"]
mod authorize_endpoint;
#[path = "aws_managed_policies_api.rs"]
mod aws_managed_policies_api;
#[path = "bad_input.rs"]
mod bad_input;
#[path = "codegen.rs"]
mod codegen;
#[path = "compat_table.rs"]
mod compat_table;
#[path = "concurrency.rs"]
mod concurrency;
#[path = "console.rs"]
mod console;
#[path = "console_browser.rs"]
mod console_browser;
#[path = "crash.rs"]
mod crash;
#[path = "durability.rs"]
mod durability;
#[path = "enforce_api.rs"]
mod enforce_api;
#[path = "enforce_conditions.rs"]
mod enforce_conditions;
#[path = "every_operation.rs"]
mod every_operation;
#[path = "examples.rs"]
mod examples;
#[path = "fuzz_stable.rs"]
mod fuzz_stable;
#[path = "groups.rs"]
mod groups;
#[path = "groups_api.rs"]
mod groups_api;
#[path = "hostile_input.rs"]
mod hostile_input;
#[path = "image.rs"]
mod image;
#[path = "inline_policies_api.rs"]
mod inline_policies_api;
#[path = "limits.rs"]
mod limits;
#[path = "login_profiles.rs"]
mod login_profiles;
#[path = "login_profiles_api.rs"]
mod login_profiles_api;
#[path = "mfa_api.rs"]
mod mfa_api;
#[path = "migration.rs"]
mod migration;
#[path = "oidc_api.rs"]
mod oidc_api;
#[path = "organizations_api.rs"]
mod organizations_api;
#[path = "pagination.rs"]
mod pagination;
#[path = "permissions_boundary.rs"]
mod permissions_boundary;
#[path = "policies_api.rs"]
mod policies_api;
#[path = "pruning.rs"]
mod pruning;
#[path = "recorded.rs"]
mod recorded;
#[path = "robustness.rs"]
mod robustness;
#[path = "roles_api.rs"]
mod roles_api;
#[path = "saml_api.rs"]
mod saml_api;
#[path = "secrets_in_logs.rs"]
mod secrets_in_logs;
#[path = "seed_state.rs"]
mod seed_state;
#[path = "server_certificates_api.rs"]
mod server_certificates_api;
#[path = "sigv4_vectors.rs"]
mod sigv4_vectors;
#[path = "simulator_api.rs"]
mod simulator_api;
#[path = "smoke.rs"]
mod smoke;
#[path = "soak.rs"]
mod soak;
#[path = "sts_api.rs"]
mod sts_api;
#[path = "unwritable.rs"]
mod unwritable;
#[path = "user_credentials_api.rs"]
mod user_credentials_api;
#[path = "users.rs"]
mod users;

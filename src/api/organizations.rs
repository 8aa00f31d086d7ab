//! The operations that need AWS Organizations: centralized root access
//! (ListOrganizationsFeatures, Enable/DisableOrganizationsRootCredentialsManagement,
//! Enable/DisableOrganizationsRootSessions) and the Organizations access report
//! (GenerateOrganizationsAccessReport, GetOrganizationsAccessReport).
//!
//! localiam's accounts are standalone: no account belongs to an organization, so every one of them
//! answers as AWS answers an account that is in none, `OrganizationNotFoundException` (400, the
//! error shape's code as the model names it, with its documented text). Inputs are validated
//! first, as AWS does (a malformed `EntityPath` is a `ValidationError`). No report job can exist,
//! so GetOrganizationsAccessReport answers `NoSuchEntity` for every job ID.

use std::future::{ready, Ready};

use http::StatusCode;

use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;

pub fn register(r: &mut Registry) {
    r.iam::<iam::ListOrganizationsFeatures, _, _>(no_organization);
    r.iam::<iam::EnableOrganizationsRootCredentialsManagement, _, _>(no_organization);
    r.iam::<iam::DisableOrganizationsRootCredentialsManagement, _, _>(no_organization);
    r.iam::<iam::EnableOrganizationsRootSessions, _, _>(no_organization);
    r.iam::<iam::DisableOrganizationsRootSessions, _, _>(no_organization);
    r.iam::<iam::GenerateOrganizationsAccessReport, _, _>(no_organization);
    r.iam::<iam::GetOrganizationsAccessReport, _, _>(get_organizations_access_report);
}

/// AWS's answer to an account that belongs to no organization.
pub fn organization_not_found() -> ApiError {
    ApiError::new(
        "OrganizationNotFoundException",
        StatusCode::BAD_REQUEST,
        "The request was rejected because no organization is associated with your account.",
    )
}

/// Every operation that needs the caller's organization.
fn no_organization<I, O>(_app: App, _ctx: Ctx, _input: I) -> Ready<Result<O, ApiError>> {
    ready(Err(organization_not_found()))
}

/// No report was ever generated (GenerateOrganizationsAccessReport cannot succeed here).
fn get_organizations_access_report(
    _app: App,
    _ctx: Ctx,
    input: iam::GetOrganizationsAccessReportRequest,
) -> Ready<Result<iam::GetOrganizationsAccessReportResponse, ApiError>> {
    ready(Err(ApiError::no_such_entity(format!(
        "The job with ID {} cannot be found.",
        input.job_id
    ))))
}

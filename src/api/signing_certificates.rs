//! X.509 signing certificates of users and of the root user: UploadSigningCertificate,
//! ListSigningCertificates, UpdateSigningCertificate, DeleteSigningCertificate.
//!
//! Without `UserName` a call is about the caller itself (a user, or the root user, whose
//! certificates are kept with the account's settings), as with access keys. A certificate is
//! parsed (PEM, one X.509 certificate, not expired); the same certificate cannot belong to two
//! owners of one account.

use std::sync::Arc;

use http::StatusCode;
use sha2::{Digest, Sha256};
use x509_cert::der::{DecodePem, Encode};
use x509_cert::Certificate;

use crate::api::access_keys::{
    change_owned, delete_owned, owned, resolve_owner, set_owned_status, OwnedCredential, Owner,
};
use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::ids;
use crate::store::model::{Account, AccountSettings, SigningCertificate, User};

/// AWS's quota of signing certificates per user.
pub const CERTIFICATES_PER_USER: usize = 2;

pub fn register(r: &mut Registry) {
    r.iam::<iam::UploadSigningCertificate, _, _>(upload_signing_certificate);
    r.iam::<iam::ListSigningCertificates, _, _>(list_signing_certificates);
    r.iam::<iam::UpdateSigningCertificate, _, _>(update_signing_certificate);
    r.iam::<iam::DeleteSigningCertificate, _, _>(delete_signing_certificate);
}

fn malformed(body: &str, what: &str) -> ApiError {
    ApiError::new(
        "MalformedCertificate",
        StatusCode::BAD_REQUEST,
        format!("Certificate {body} is {what}."),
    )
}

/// The DER of the one certificate of a PEM body: `MalformedCertificate` when it does not parse
/// or has expired (at `now`, unix seconds).
fn parse(body: &str, now: i64) -> Result<Vec<u8>, ApiError> {
    let cert = Certificate::from_pem(body.trim()).map_err(|_| malformed(body, "malformed"))?;
    let not_after = cert
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs();
    if i64::try_from(not_after).unwrap_or(i64::MAX) < now {
        return Err(malformed(body, "expired"));
    }
    cert.to_der().map_err(|_| malformed(body, "malformed"))
}

impl OwnedCredential for SigningCertificate {
    fn id(&self) -> &str {
        &self.certificate_id
    }
    fn status_mut(&mut self) -> &mut String {
        &mut self.status
    }
    fn of_user(u: &User) -> &[Self] {
        &u.signing_certificates
    }
    fn of_user_mut(u: &mut User) -> &mut Vec<Self> {
        &mut u.signing_certificates
    }
    fn of_root(s: &AccountSettings) -> &[Self] {
        &s.root_signing_certificates
    }
    fn of_root_mut(s: &mut AccountSettings) -> &mut Vec<Self> {
        &mut s.root_signing_certificates
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::no_such_entity(format!("The Certificate with id {id} cannot be found."))
    }
}

/// Every signing certificate of the account (its users' and its root user's).
fn all_certificates(account: &Account) -> impl Iterator<Item = &SigningCertificate> {
    let root: &[SigningCertificate] = account
        .settings()
        .map_or(&[][..], |s: &Arc<AccountSettings>| {
            &s.root_signing_certificates[..]
        });
    account
        .users
        .iter()
        .flat_map(|u| u.signing_certificates.iter())
        .chain(root.iter())
}

fn owner_name(owner: &Owner) -> String {
    match owner {
        Owner::User { name, .. } => name.clone(),
        Owner::Root => String::new(),
    }
}

fn shape(user: &str, c: &SigningCertificate) -> iam::SigningCertificate {
    iam::SigningCertificate {
        user_name: user.to_string(),
        certificate_id: c.certificate_id.clone(),
        certificate_body: c.body.clone(),
        status: c.status.clone(),
        upload_date: Some(ts(c.upload_date)),
    }
}

async fn upload_signing_certificate(
    app: App,
    ctx: Ctx,
    input: iam::UploadSigningCertificateRequest,
) -> Result<iam::UploadSigningCertificateResponse, ApiError> {
    let account = ctx.account().to_string();
    let now = ctx.now.unix_timestamp();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let owner = resolve_owner(acct, &ctx.principal, input.user_name.as_deref())?;
            let der = parse(&input.certificate_body, now)?;
            let digest = hex::encode(Sha256::digest(&der));
            if all_certificates(acct).any(|c| c.der_sha256 == digest) {
                return Err(ApiError::new(
                    "DuplicateCertificate",
                    StatusCode::CONFLICT,
                    "The same certificate is already associated with an IAM user in the account.",
                ));
            }
            if owned::<SigningCertificate>(acct, &owner).len() >= CERTIFICATES_PER_USER {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for CertificatesPerUser: {CERTIFICATES_PER_USER}"
                )));
            }
            let cert = SigningCertificate {
                certificate_id: ids::certificate_id(),
                body: input.certificate_body,
                der_sha256: digest,
                status: "Active".to_string(),
                upload_date: ids::now(),
            };
            let out = shape(&owner_name(&owner), &cert);
            change_owned(
                tx,
                &account,
                &owner,
                |certs: &mut Vec<SigningCertificate>| certs.push(cert),
            )?;
            Ok(iam::UploadSigningCertificateResponse { certificate: out })
        })
        .await
}

async fn list_signing_certificates(
    app: App,
    ctx: Ctx,
    input: iam::ListSigningCertificatesRequest,
) -> Result<iam::ListSigningCertificatesResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let owner = resolve_owner(acct, &ctx.principal, input.user_name.as_deref())?;
    let name = owner_name(&owner);
    let (certs, marker) = paginate(
        owned::<SigningCertificate>(acct, &owner).iter().collect(),
        input.marker.as_deref(),
        max_items(input.max_items),
    )?;
    Ok(iam::ListSigningCertificatesResponse {
        certificates: certs.into_iter().map(|c| shape(&name, c)).collect(),
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

async fn update_signing_certificate(
    app: App,
    ctx: Ctx,
    input: iam::UpdateSigningCertificateRequest,
) -> Result<(), ApiError> {
    set_owned_status::<SigningCertificate>(
        &app,
        ctx,
        input.user_name,
        input.certificate_id,
        input.status,
    )
    .await
}

async fn delete_signing_certificate(
    app: App,
    ctx: Ctx,
    input: iam::DeleteSigningCertificateRequest,
) -> Result<(), ApiError> {
    delete_owned::<SigningCertificate>(&app, ctx, input.user_name, input.certificate_id).await
}

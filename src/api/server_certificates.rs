//! Server certificates: UploadServerCertificate, GetServerCertificate, ListServerCertificates,
//! UpdateServerCertificate, DeleteServerCertificate, TagServerCertificate,
//! UntagServerCertificate, ListServerCertificateTags.
//!
//! An upload is checked as IAM checks it (`pki`): the certificate parses, the private key is its
//! key, the certificate is within its validity period and the chain certifies it. The private key
//! is then dropped: IAM never returns it, and localiam has nothing to use it for.

mod pki;

use std::sync::Arc;

use http::StatusCode;

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, ServerCertificate};
use crate::store::{ids, StoreError};

use pki::Refusal;

/// AWS's default quota of server certificates per account ("IAM and AWS STS quotas").
pub const SERVER_CERTIFICATES_PER_ACCOUNT: usize = 20;

pub fn register(r: &mut Registry) {
    r.iam::<iam::UploadServerCertificate, _, _>(upload_server_certificate);
    r.iam::<iam::GetServerCertificate, _, _>(get_server_certificate);
    r.iam::<iam::ListServerCertificates, _, _>(list_server_certificates);
    r.iam::<iam::UpdateServerCertificate, _, _>(update_server_certificate);
    r.iam::<iam::DeleteServerCertificate, _, _>(delete_server_certificate);
    register_tag_ops!(
        r,
        server_certificate_name,
        require_server_certificate,
        TagServerCertificate,
        UntagServerCertificate,
        ListServerCertificateTags(ListServerCertificateTagsResponse)
    );
}

fn no_such_server_certificate(name: &str) -> ApiError {
    ApiError::no_such_entity(format!(
        "The Server Certificate with name {name} cannot be found."
    ))
}

fn server_certificate_exists(name: &str) -> ApiError {
    ApiError::already_exists(format!(
        "The Server Certificate with name {name} already exists."
    ))
}

/// The server certificate of that name in the account, or AWS's `NoSuchEntity`.
pub fn require_server_certificate(
    account: &Account,
    name: &str,
) -> Result<Arc<ServerCertificate>, ApiError> {
    account
        .server_certificates
        .get(name)
        .cloned()
        .ok_or_else(|| no_such_server_certificate(name))
}

const UNPARSABLE: &str =
    "Unable to parse certificate. Please ensure the certificate is in PEM format.";

/// AWS's answer to a refused upload (all `400`).
fn refusal_error(r: &Refusal) -> ApiError {
    let malformed = |m: String| ApiError::new("MalformedCertificate", StatusCode::BAD_REQUEST, m);
    match r {
        Refusal::Unparsable(_) => malformed(UNPARSABLE.to_string()),
        Refusal::Mismatch => ApiError::new(
            "KeyPairMismatch",
            StatusCode::BAD_REQUEST,
            "The private key did not match the public key in the certificate.",
        ),
        Refusal::Expired => malformed(
            "Certificate is no longer valid. The 'Not After' date restriction on the certificate has passed."
                .to_string(),
        ),
        Refusal::NotYetValid => malformed(
            "Certificate is not yet valid. The 'Not Before' date restriction on the certificate has not been met."
                .to_string(),
        ),
        Refusal::Chain(index) => malformed(format!(
            "Unable to validate certificate chain. The certificate chain must start with the immediate \
             signing certificate, followed by any intermediaries in order. The index within the chain \
             of the invalid certificate is: {}",
            index.map_or(-1, |i| i64::try_from(i).unwrap_or(-1))
        )),
    }
}

/// A certificate or chain as IAM keeps it: without surrounding white space or carriage returns.
fn normalized(pem: &str) -> String {
    pem.trim().replace('\r', "")
}

/// The metadata of a server certificate, as every answer shows it.
fn metadata(c: &ServerCertificate) -> iam::ServerCertificateMetadata {
    iam::ServerCertificateMetadata {
        path: c.path.clone(),
        server_certificate_name: c.name.clone(),
        server_certificate_id: c.server_certificate_id.clone(),
        arn: c.arn(),
        upload_date: Some(ts(c.upload_date)),
        expiration: Some(ts(c.expiration)),
    }
}

/// Stores a new server certificate within the account's quota, unless its name is taken.
pub fn insert_certificate(
    tx: &mut crate::store::Tx<'_>,
    cert: ServerCertificate,
) -> Result<Arc<ServerCertificate>, ApiError> {
    let acct = tx.account(&cert.account_id);
    if acct.server_certificates.get(&cert.name).is_some() {
        return Err(server_certificate_exists(&cert.name));
    }
    if acct.server_certificates.len() >= SERVER_CERTIFICATES_PER_ACCOUNT {
        return Err(ApiError::limit_exceeded(format!(
            "Cannot exceed quota for ServerCertificatesPerAccount: {SERVER_CERTIFICATES_PER_ACCOUNT}"
        )));
    }
    let name = cert.name.clone();
    tx.insert(cert).map_err(|e| match e {
        StoreError::UniqueViolation(_) => server_certificate_exists(&name),
        other => other.into(),
    })
}

/// A certificate as an export gives it back (IAM keeps no private key to check it against): one
/// PEM X.509 certificate, stored as uploaded; `MalformedCertificate` else.
pub fn exported_certificate(
    account: &str,
    input: &iam::UploadServerCertificateRequest,
    upload_date: i64,
) -> Result<ServerCertificate, ApiError> {
    let not_after = pki::not_after(&input.certificate_body)
        .ok_or_else(|| refusal_error(&Refusal::Unparsable("not one certificate")))?;
    Ok(ServerCertificate {
        server_certificate_id: ids::unique_id(ids::prefix::SERVER_CERTIFICATE),
        account_id: account.to_string(),
        name: input.server_certificate_name.clone(),
        path: path_or_root(input.path.as_deref()),
        certificate_body: normalized(&input.certificate_body),
        certificate_chain: input.certificate_chain.as_deref().map(normalized),
        upload_date,
        expiration: not_after,
        tags: to_store_tags(input.tags.as_deref().unwrap_or_default()),
    })
}

async fn upload_server_certificate(
    app: App,
    ctx: Ctx,
    input: iam::UploadServerCertificateRequest,
) -> Result<iam::UploadServerCertificateResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    let now = ctx.now.unix_timestamp();
    let checked = pki::check(
        &input.certificate_body,
        &input.private_key,
        input.certificate_chain.as_deref(),
        now,
    )
    .map_err(|r| {
        if let Refusal::Unparsable(why) = &r {
            tracing::debug!(request_id = %ctx.request_id, reason = why, "server certificate refused");
        }
        refusal_error(&r)
    })?;
    let account = ctx.account().to_string();
    let cert = ServerCertificate {
        server_certificate_id: ids::unique_id(ids::prefix::SERVER_CERTIFICATE),
        account_id: account.clone(),
        name: input.server_certificate_name,
        path: path_or_root(input.path.as_deref()),
        certificate_body: normalized(&input.certificate_body),
        certificate_chain: input.certificate_chain.as_deref().map(normalized),
        upload_date: now,
        expiration: checked.not_after,
        tags: to_store_tags(&tags),
    };
    let cert = app
        .store
        .write(move |tx| insert_certificate(tx, cert))
        .await?;
    Ok(iam::UploadServerCertificateResponse {
        server_certificate_metadata: Some(metadata(&cert)),
        tags: nonempty_tags(&cert.tags),
    })
}

async fn get_server_certificate(
    app: App,
    ctx: Ctx,
    input: iam::GetServerCertificateRequest,
) -> Result<iam::GetServerCertificateResponse, ApiError> {
    let model = app.store.read();
    let c =
        require_server_certificate(model.account(ctx.account()), &input.server_certificate_name)?;
    Ok(iam::GetServerCertificateResponse {
        server_certificate: iam::ServerCertificate {
            server_certificate_metadata: metadata(&c),
            certificate_body: c.certificate_body.clone(),
            certificate_chain: c.certificate_chain.clone(),
            // Always there, empty too (as recorded).
            tags: Some(to_api_tags(&c.tags)),
        },
    })
}

async fn list_server_certificates(
    app: App,
    ctx: Ctx,
    input: iam::ListServerCertificatesRequest,
) -> Result<iam::ListServerCertificatesResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let page = model.account(ctx.account()).server_certificates.list(
        input.path_prefix.as_deref(),
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListServerCertificatesResponse {
        server_certificate_metadata_list: page.items.iter().map(|c| metadata(c)).collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

/// UpdateServerCertificate: a new name, a new path, both or neither (then nothing changes).
async fn update_server_certificate(
    app: App,
    ctx: Ctx,
    input: iam::UpdateServerCertificateRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let c =
                require_server_certificate(tx.account(&account), &input.server_certificate_name)?;
            let taken = input
                .new_server_certificate_name
                .clone()
                .unwrap_or_default();
            tx.update(
                &account,
                &c.server_certificate_id,
                |c: &mut ServerCertificate| {
                    if let Some(n) = input.new_server_certificate_name {
                        c.name = n;
                    }
                    if let Some(p) = input.new_path {
                        c.path = p;
                    }
                },
            )
            .map_err(|e| match e {
                StoreError::UniqueViolation(_) => server_certificate_exists(&taken),
                other => other.into(),
            })?;
            Ok(())
        })
        .await
}

async fn delete_server_certificate(
    app: App,
    ctx: Ctx,
    input: iam::DeleteServerCertificateRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let c =
                require_server_certificate(tx.account(&account), &input.server_certificate_name)?;
            tx.remove::<ServerCertificate>(&account, &c.server_certificate_id)?;
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_key_is_redacted_from_debug_output() {
        let input = iam::UploadServerCertificateRequest {
            server_certificate_name: "web".to_string(),
            certificate_body: "BODY".to_string(),
            private_key: "-----BEGIN PRIVATE KEY-----SECRET".to_string(),
            ..Default::default()
        };
        let shown = format!("{input:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains(r#"private_key: "<redacted>""#), "{shown}");
        assert!(shown.contains("BODY") && shown.contains("web"), "{shown}");
    }

    #[test]
    fn certificates_are_kept_without_surrounding_space_or_carriage_returns() {
        assert_eq!(
            normalized("\r\n  -----BEGIN X-----\r\nAA\r\n-----END X-----\r\n\n"),
            "-----BEGIN X-----\nAA\n-----END X-----"
        );
    }

    #[test]
    fn refusals_are_worded_as_aws_words_them() {
        let e = refusal_error(&Refusal::Chain(None));
        assert_eq!(
            (e.code.as_ref(), e.status.as_u16()),
            ("MalformedCertificate", 400)
        );
        assert!(e
            .message
            .ends_with("The index within the chain of the invalid certificate is: -1"));
        let e = refusal_error(&Refusal::Chain(Some(2)));
        assert!(e.message.ends_with("is: 2"), "{}", e.message);
        let e = refusal_error(&Refusal::Unparsable("the reason stays in the log"));
        assert_eq!(e.message, UNPARSABLE);
        assert_eq!(refusal_error(&Refusal::Mismatch).code, "KeyPairMismatch");
    }
}

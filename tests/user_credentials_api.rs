//! The per-user credential families through the AWS SDK for Rust: SSH public keys, signing
//! certificates and service-specific credentials — every operation, AWS's errors and quotas,
//! pagination, DeleteUser's refusal, the credential report's certificate columns, persistence
//! across a restart, and `--auth enforce` deciding them on the user they name.
//!
//! Fixtures: `tests/data/user_credentials` (see its README).

use crate::common;

use aws_sdk_iam::types::{EncodingType, StatusType};
use common::*;

const SSH: [&str; 6] = [
    include_str!("data/user_credentials/ssh-1.pub"),
    include_str!("data/user_credentials/ssh-2.pub"),
    include_str!("data/user_credentials/ssh-3.pub"),
    include_str!("data/user_credentials/ssh-4.pub"),
    include_str!("data/user_credentials/ssh-5.pub"),
    include_str!("data/user_credentials/ssh-6.pub"),
];
const SSH_1_PEM: &str = include_str!("data/user_credentials/ssh-1.pem");
/// `ssh-keygen -l -E md5 -f ssh-1.pub`.
const SSH_1_MD5: &str = "f2:03:a4:7d:f0:71:86:49:79:07:22:cc:da:de:1f:92";
const SSH_4096_PKCS1: &str = include_str!("data/user_credentials/ssh-4096.pem");
const SSH_1024: &str = include_str!("data/user_credentials/ssh-1024.pub");
const SSH_ED25519: &str = include_str!("data/user_credentials/ssh-ed25519.pub");
const CERTS: [&str; 3] = [
    include_str!("data/user_credentials/cert-1.pem"),
    include_str!("data/user_credentials/cert-2.pem"),
    include_str!("data/user_credentials/cert-3.pem"),
];
const CERT_EXPIRED: &str = include_str!("data/user_credentials/cert-expired.pem");

const CODECOMMIT: &str = "codecommit.amazonaws.com";
const CASSANDRA: &str = "cassandra.amazonaws.com";
const BEDROCK: &str = "bedrock.amazonaws.com";

async fn create_user(iam: &aws_sdk_iam::Client, name: &str) {
    iam.create_user().user_name(name).send().await.unwrap();
}

/// A client signed with a new access key of the user.
async fn as_user(srv: &TestServer, name: &str) -> aws_sdk_iam::Client {
    let k = srv
        .iam()
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let k = k.access_key().unwrap();
    srv.iam_with(k.access_key_id(), k.secret_access_key(), None)
}

async fn upload_ssh(iam: &aws_sdk_iam::Client, user: &str, body: &str) -> String {
    iam.upload_ssh_public_key()
        .user_name(user)
        .ssh_public_key_body(body)
        .send()
        .await
        .unwrap()
        .ssh_public_key()
        .unwrap()
        .ssh_public_key_id()
        .to_string()
}

async fn list_keys(
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> aws_sdk_iam::operation::list_ssh_public_keys::ListSshPublicKeysOutput {
    iam.list_ssh_public_keys()
        .user_name(user)
        .send()
        .await
        .unwrap()
}

async fn list_certs(
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> aws_sdk_iam::operation::list_signing_certificates::ListSigningCertificatesOutput {
    iam.list_signing_certificates()
        .user_name(user)
        .send()
        .await
        .unwrap()
}

/// Uploads a signing certificate for the user; its ID.
async fn upload_cert(iam: &aws_sdk_iam::Client, user: &str, body: &str) -> String {
    iam.upload_signing_certificate()
        .user_name(user)
        .certificate_body(body)
        .send()
        .await
        .unwrap()
        .certificate()
        .unwrap()
        .certificate_id()
        .to_string()
}

/// The base64 key of an OpenSSH line (`ssh-rsa BASE64 comment`).
fn ssh_b64(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap()
}

// ---------------------------------------------------------------------------------------------
// SSH public keys

#[tokio::test]
async fn ssh_keys_upload_get_in_both_encodings_update_and_delete() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("ssh");
    create_user(&iam, &user).await;

    let up = iam
        .upload_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_body(SSH[0])
        .send()
        .await
        .unwrap();
    let k = up.ssh_public_key().unwrap();
    assert!(is_unique_id(k.ssh_public_key_id(), "APKA"), "{k:?}");
    assert_eq!(k.ssh_public_key_id().len(), 21);
    assert_eq!(k.fingerprint(), SSH_1_MD5);
    assert_eq!(k.ssh_public_key_body(), SSH[0]);
    assert_eq!(k.status(), &StatusType::Active);
    assert_eq!(k.user_name(), user);
    assert!(k.upload_date().is_some());
    let id = k.ssh_public_key_id().to_string();

    // SSH: as uploaded. PEM: the same key as SubjectPublicKeyInfo.
    let get = |enc: EncodingType| {
        iam.get_ssh_public_key()
            .user_name(&user)
            .ssh_public_key_id(&id)
            .encoding(enc)
            .send()
    };
    let ssh = get(EncodingType::Ssh).await.unwrap();
    assert_eq!(ssh.ssh_public_key().unwrap().ssh_public_key_body(), SSH[0]);
    let pem = get(EncodingType::Pem).await.unwrap();
    let pem = pem.ssh_public_key().unwrap();
    assert_eq!(pem.ssh_public_key_body().trim(), SSH_1_PEM.trim());
    assert_eq!(pem.fingerprint(), SSH_1_MD5);

    // Inactive, then gone.
    iam.update_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_id(&id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let got = get(EncodingType::Ssh).await.unwrap();
    assert_eq!(
        got.ssh_public_key().unwrap().status(),
        &StatusType::Inactive
    );
    let listed = list_keys(&iam, &user).await;
    assert_eq!(listed.ssh_public_keys().len(), 1);
    assert_eq!(listed.ssh_public_keys()[0].status(), &StatusType::Inactive);
    assert!(!listed.is_truncated());
    iam.delete_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_id(&id)
        .send()
        .await
        .unwrap();
    let listed = list_keys(&iam, &user).await;
    assert!(listed.ssh_public_keys().is_empty());
    let gone = format!("The Public Key with id {id} cannot be found.");
    assert_err(get(EncodingType::Ssh).await, "NoSuchEntity", 404, &gone);
    assert_err(
        iam.delete_ssh_public_key()
            .user_name(&user)
            .ssh_public_key_id(&id)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &gone,
    );
    srv.stop().await;
}

#[tokio::test]
async fn ssh_keys_uploaded_as_pem_come_back_as_ssh_rsa() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("pem");
    create_user(&iam, &user).await;
    let up = iam
        .upload_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_body(SSH_1_PEM)
        .send()
        .await
        .unwrap();
    let k = up.ssh_public_key().unwrap();
    // The same key as ssh-1.pub: the same fingerprint, whatever its encoding.
    assert_eq!(k.fingerprint(), SSH_1_MD5);
    assert_eq!(k.ssh_public_key_body(), SSH_1_PEM);
    let ssh = iam
        .get_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_id(k.ssh_public_key_id())
        .encoding(EncodingType::Ssh)
        .send()
        .await
        .unwrap();
    let body = ssh
        .ssh_public_key()
        .unwrap()
        .ssh_public_key_body()
        .to_string();
    assert!(body.starts_with("ssh-rsa "), "{body}");
    assert_eq!(ssh_b64(&body), ssh_b64(SSH[0]));

    // PKCS#1 PEM of a 4096-bit key is accepted too, and converts.
    let id = upload_ssh(&iam, &user, SSH_4096_PKCS1).await;
    let ssh = iam
        .get_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_id(&id)
        .encoding(EncodingType::Ssh)
        .send()
        .await
        .unwrap();
    assert!(ssh
        .ssh_public_key()
        .unwrap()
        .ssh_public_key_body()
        .starts_with("ssh-rsa AAAA"));
    srv.stop().await;
}

#[tokio::test]
async fn ssh_key_errors_duplicates_and_quota() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("sshe");
    create_user(&iam, &user).await;
    let upload = |body: &str| {
        iam.upload_ssh_public_key()
            .user_name(&user)
            .ssh_public_key_body(body)
            .send()
    };
    let unrecognized = "The public key encoding format is unsupported or unrecognized.";
    assert_err(
        upload("not a key at all").await,
        "UnrecognizedPublicKeyEncoding",
        400,
        unrecognized,
    );
    assert_err(
        upload(SSH_ED25519).await,
        "UnrecognizedPublicKeyEncoding",
        400,
        unrecognized,
    );
    assert_err(
        upload(SSH_1024).await,
        "InvalidPublicKey",
        400,
        "The minimum bit-length of the public key is 2048 bits.",
    );
    assert_err(
        upload("ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB not-a-complete-key").await,
        "InvalidPublicKey",
        400,
        "The public key is malformed or otherwise invalid.",
    );
    assert_err(
        upload("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").await,
        "InvalidPublicKey",
        400,
        "The public key is malformed or otherwise invalid.",
    );
    assert_err(
        iam.upload_ssh_public_key()
            .user_name("nobody-here")
            .ssh_public_key_body(SSH[0])
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody-here cannot be found.",
    );

    for body in &SSH[..5] {
        upload(body).await.unwrap();
    }
    // The same key again, in either encoding.
    let dup = "The SSH public key is already associated with the specified IAM user.";
    assert_err(upload(SSH[0]).await, "DuplicateSSHPublicKey", 400, dup);
    assert_err(upload(SSH_1_PEM).await, "DuplicateSSHPublicKey", 400, dup);
    assert_err(
        upload(SSH[5]).await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for SSHPublicKeysPerUser: 5",
    );
    // Another user may hold the same key.
    let other = unique("sshe2");
    create_user(&iam, &other).await;
    upload_ssh(&iam, &other, SSH[0]).await;

    let missing = "APKAXXXXXXXXXXXXXXXXX";
    let msg = format!("The Public Key with id {missing} cannot be found.");
    assert_err(
        iam.update_ssh_public_key()
            .user_name(&user)
            .ssh_public_key_id(missing)
            .status(StatusType::Inactive)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &msg,
    );
    // Another user's key is not this user's.
    let theirs = list_keys(&iam, &other).await.ssh_public_keys()[0]
        .ssh_public_key_id()
        .to_string();
    assert_code(
        iam.get_ssh_public_key()
            .user_name(&user)
            .ssh_public_key_id(&theirs)
            .encoding(EncodingType::Ssh)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    srv.stop().await;
}

#[tokio::test]
async fn ssh_keys_list_by_id_paginated_and_default_to_the_caller() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("sshl");
    create_user(&iam, &user).await;
    let mut ids = Vec::new();
    for body in &SSH[..5] {
        ids.push(upload_ssh(&iam, &user, body).await);
    }
    ids.sort();
    // Pages of two, in key ID order (as AWS lists them).
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .list_ssh_public_keys()
            .user_name(&user)
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert!(page.ssh_public_keys().len() <= 2);
        seen.extend(
            page.ssh_public_keys()
                .iter()
                .map(|k| k.ssh_public_key_id().to_string()),
        );
        assert_eq!(page.is_truncated(), page.marker().is_some());
        match page.marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Without UserName: the calling user's keys; the root user has none.
    let me = as_user(&srv, &user).await;
    let mine = me.list_ssh_public_keys().send().await.unwrap();
    assert_eq!(mine.ssh_public_keys().len(), 5);
    assert!(mine.ssh_public_keys().iter().all(|k| k.user_name() == user));
    let root = iam.list_ssh_public_keys().send().await.unwrap();
    assert!(root.ssh_public_keys().is_empty());
    assert_err(
        iam.list_ssh_public_keys()
            .user_name("nobody-here")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name nobody-here cannot be found.",
    );
    assert_err(
        iam.list_ssh_public_keys()
            .user_name(&user)
            .marker("not-a-marker")
            .send()
            .await,
        "ValidationError",
        400,
        "Invalid Marker.",
    );
    srv.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Signing certificates

#[tokio::test]
async fn signing_certificates_lifecycle_and_errors() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("cert");
    create_user(&iam, &user).await;

    let up = iam
        .upload_signing_certificate()
        .user_name(&user)
        .certificate_body(CERTS[0])
        .send()
        .await
        .unwrap();
    let c = up.certificate().unwrap();
    assert_eq!(c.certificate_id().len(), 32);
    assert!(c
        .certificate_id()
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert_eq!(c.certificate_body(), CERTS[0]);
    assert_eq!(c.status(), &StatusType::Active);
    assert_eq!(c.user_name(), user);
    let id = c.certificate_id().to_string();

    iam.update_signing_certificate()
        .user_name(&user)
        .certificate_id(&id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let listed = list_certs(&iam, &user).await;
    assert_eq!(listed.certificates().len(), 1);
    assert_eq!(listed.certificates()[0].status(), &StatusType::Inactive);
    assert_eq!(listed.certificates()[0].certificate_body(), CERTS[0]);

    // Errors, as recorded on AWS.
    assert_err(
        iam.upload_signing_certificate()
            .user_name(&user)
            .certificate_body("invalid-certificate-body")
            .send()
            .await,
        "MalformedCertificate",
        400,
        "Certificate invalid-certificate-body is malformed.",
    );
    assert_code(
        iam.upload_signing_certificate()
            .user_name(&user)
            .certificate_body(CERT_EXPIRED)
            .send()
            .await,
        "MalformedCertificate",
        400,
    );
    let nobody = "The user with name nonexistent-user cannot be found.";
    assert_err(
        iam.upload_signing_certificate()
            .user_name("nonexistent-user")
            .certificate_body(CERTS[1])
            .send()
            .await,
        "NoSuchEntity",
        404,
        nobody,
    );
    assert_err(
        iam.list_signing_certificates()
            .user_name("nonexistent-user")
            .send()
            .await,
        "NoSuchEntity",
        404,
        nobody,
    );
    let missing = "NONEXISTENTCERTID12345678901";
    let msg = format!("The Certificate with id {missing} cannot be found.");
    assert_err(
        iam.update_signing_certificate()
            .user_name(&user)
            .certificate_id(missing)
            .status(StatusType::Inactive)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &msg,
    );
    assert_err(
        iam.delete_signing_certificate()
            .user_name(&user)
            .certificate_id(missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &msg,
    );

    // The same certificate cannot belong to another user of the account.
    let other = unique("cert2");
    create_user(&iam, &other).await;
    assert_code(
        iam.upload_signing_certificate()
            .user_name(&other)
            .certificate_body(CERTS[0])
            .send()
            .await,
        "DuplicateCertificate",
        409,
    );

    // Two per user.
    upload_cert(&iam, &user, CERTS[1]).await;
    assert_err(
        iam.upload_signing_certificate()
            .user_name(&user)
            .certificate_body(CERTS[2])
            .send()
            .await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for CertificatesPerUser: 2",
    );

    // Pages of one.
    let first = iam
        .list_signing_certificates()
        .user_name(&user)
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert!(first.is_truncated());
    let second = iam
        .list_signing_certificates()
        .user_name(&user)
        .marker(first.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!second.is_truncated());
    assert_ne!(
        first.certificates()[0].certificate_id(),
        second.certificates()[0].certificate_id()
    );

    iam.delete_signing_certificate()
        .user_name(&user)
        .certificate_id(&id)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_signing_certificate()
            .user_name(&user)
            .certificate_id(&id)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &format!("The Certificate with id {id} cannot be found."),
    );
    // Freed: another user may now upload it.
    upload_cert(&iam, &other, CERTS[0]).await;
    srv.stop().await;
}

#[tokio::test]
async fn signing_certificates_of_the_caller_and_of_the_root_user() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let present = |s: &aws_sdk_iam::operation::get_account_summary::GetAccountSummaryOutput| {
        s.summary_map().unwrap()
            [&aws_sdk_iam::types::SummaryKeyType::AccountSigningCertificatesPresent]
    };
    assert_eq!(present(&iam.get_account_summary().send().await.unwrap()), 0);

    // The root user's own certificate (no UserName).
    let up = iam
        .upload_signing_certificate()
        .certificate_body(CERTS[0])
        .send()
        .await
        .unwrap();
    let root_cert = up.certificate().unwrap().certificate_id().to_string();
    assert_eq!(present(&iam.get_account_summary().send().await.unwrap()), 1);
    let listed = iam.list_signing_certificates().send().await.unwrap();
    assert_eq!(listed.certificates().len(), 1);
    assert_eq!(listed.certificates()[0].certificate_id(), root_cert);

    // A user's own, without UserName.
    let user = unique("self");
    create_user(&iam, &user).await;
    let me = as_user(&srv, &user).await;
    let mine = me
        .upload_signing_certificate()
        .certificate_body(CERTS[1])
        .send()
        .await
        .unwrap();
    assert_eq!(mine.certificate().unwrap().user_name(), user);
    let listed = me.list_signing_certificates().send().await.unwrap();
    assert_eq!(listed.certificates().len(), 1);
    assert_eq!(listed.certificates()[0].certificate_body(), CERTS[1]);
    // The root's certificate is not the user's.
    assert_code(
        me.delete_signing_certificate()
            .certificate_id(&root_cert)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    iam.delete_signing_certificate()
        .certificate_id(&root_cert)
        .send()
        .await
        .unwrap();
    assert_eq!(present(&iam.get_account_summary().send().await.unwrap()), 0);
    srv.stop().await;
}

#[tokio::test]
async fn credential_report_shows_signing_certificates() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("report");
    create_user(&iam, &user).await;
    let mut ids = Vec::new();
    for body in &CERTS[..2] {
        let up = iam
            .upload_signing_certificate()
            .user_name(&user)
            .certificate_body(*body)
            .send()
            .await
            .unwrap();
        ids.push(up.certificate().unwrap().certificate_id().to_string());
    }
    // The older one inactive: the active one fills cert_1.
    iam.update_signing_certificate()
        .user_name(&user)
        .certificate_id(&ids[0])
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    iam.generate_credential_report().send().await.unwrap();
    let report = iam.get_credential_report().send().await.unwrap();
    let csv = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines
        .find(|l| l.starts_with(&format!("{user},")))
        .unwrap()
        .split(',')
        .collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("cert_1_active"), "true");
    assert_eq!(col("cert_2_active"), "false");
    for c in ["cert_1_last_rotated", "cert_2_last_rotated"] {
        assert!(col(c).ends_with("+00:00"), "{c}: {}", col(c));
    }
    let root: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        root[header.iter().position(|h| *h == "cert_1_active").unwrap()],
        "false"
    );
    assert_eq!(
        root[header
            .iter()
            .position(|h| *h == "cert_1_last_rotated")
            .unwrap()],
        "N/A"
    );
    srv.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Service-specific credentials

#[tokio::test]
async fn service_credentials_create_list_reset_update_delete() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("ssc");
    create_user(&iam, &user).await;
    let create = |service: &str| {
        iam.create_service_specific_credential()
            .user_name(&user)
            .service_name(service)
            .send()
    };
    let first = create(CODECOMMIT).await.unwrap();
    let c = first.service_specific_credential().unwrap();
    assert!(
        is_unique_id(c.service_specific_credential_id(), "ACCA"),
        "{c:?}"
    );
    assert_eq!(c.service_specific_credential_id().len(), 21);
    assert_eq!(
        c.service_user_name(),
        format!("{user}-at-{DEFAULT_ACCOUNT}")
    );
    assert_eq!(c.service_password().len(), 44);
    assert_eq!(c.service_name(), CODECOMMIT);
    assert_eq!(c.status(), &StatusType::Active);
    assert!(c.service_credential_alias().is_none());
    assert!(c.expiration_date().is_none());
    let id = c.service_specific_credential_id().to_string();
    let password = c.service_password().to_string();

    // The second of a service gets USER+1-at-ACCOUNT; a third is over the quota; another
    // service has its own.
    let second = create(CODECOMMIT).await.unwrap();
    assert_eq!(
        second
            .service_specific_credential()
            .unwrap()
            .service_user_name(),
        format!("{user}+1-at-{DEFAULT_ACCOUNT}")
    );
    assert_err(
        create(CODECOMMIT).await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2",
    );
    create(CASSANDRA).await.unwrap();

    let list = |service: Option<&str>| {
        iam.list_service_specific_credentials()
            .user_name(&user)
            .set_service_name(service.map(str::to_string))
            .send()
    };
    let all = list(None).await.unwrap();
    assert_eq!(all.service_specific_credentials().len(), 3);
    assert!(!all.is_truncated());
    let codecommit = list(Some(CODECOMMIT)).await.unwrap();
    assert_eq!(codecommit.service_specific_credentials().len(), 2);
    let m = &codecommit.service_specific_credentials()[0];
    assert_eq!(m.service_specific_credential_id(), id);
    assert_eq!(m.user_name(), user);
    assert_eq!(
        m.service_user_name(),
        format!("{user}-at-{DEFAULT_ACCOUNT}")
    );

    // Inactive; a reset keeps the status and gives a new password.
    iam.update_service_specific_credential()
        .user_name(&user)
        .service_specific_credential_id(&id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let reset = iam
        .reset_service_specific_credential()
        .user_name(&user)
        .service_specific_credential_id(&id)
        .send()
        .await
        .unwrap();
    let r = reset.service_specific_credential().unwrap();
    assert_eq!(r.status(), &StatusType::Inactive);
    assert_eq!(r.service_password().len(), 44);
    assert_ne!(r.service_password(), password);
    assert_eq!(r.service_specific_credential_id(), id);

    iam.delete_service_specific_credential()
        .user_name(&user)
        .service_specific_credential_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        list(Some(CODECOMMIT))
            .await
            .unwrap()
            .service_specific_credentials()
            .len(),
        1
    );
    let gone = format!("No such credential {id} exists");
    assert_err(
        iam.delete_service_specific_credential()
            .user_name(&user)
            .service_specific_credential_id(&id)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &gone,
    );
    assert_err(
        iam.reset_service_specific_credential()
            .user_name(&user)
            .service_specific_credential_id(&id)
            .send()
            .await,
        "NoSuchEntity",
        404,
        &gone,
    );
    srv.stop().await;
}

#[tokio::test]
async fn service_credential_errors_as_recorded() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let user = unique("sscerr");
    create_user(&iam, &user).await;
    // The user is checked before the service.
    assert_err(
        iam.create_service_specific_credential()
            .user_name("non-existent-user")
            .service_name("nonexistentservice.amazonaws.com")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name non-existent-user cannot be found.",
    );
    for service in [
        "nonexistentservice.amazonaws.com",
        "o3on3n3onosneo",
        "lambda.amazonaws.com",
    ] {
        let msg =
            format!("No such service {service} is supported for Service Specific Credentials");
        assert_err(
            iam.create_service_specific_credential()
                .user_name(&user)
                .service_name(service)
                .send()
                .await,
            "NoSuchEntity",
            404,
            &msg,
        );
        assert_err(
            iam.list_service_specific_credentials()
                .user_name(&user)
                .service_name(service)
                .send()
                .await,
            "NoSuchEntity",
            404,
            &msg,
        );
    }
    // An expiry is for API keys only.
    assert_code(
        iam.create_service_specific_credential()
            .user_name(&user)
            .service_name(CODECOMMIT)
            .credential_age_days(5)
            .send()
            .await,
        "InvalidInput",
        400,
    );
    let id = iam
        .create_service_specific_credential()
        .user_name(&user)
        .service_name(CODECOMMIT)
        .send()
        .await
        .unwrap()
        .service_specific_credential()
        .unwrap()
        .service_specific_credential_id()
        .to_string();
    assert_err(
        iam.update_service_specific_credential()
            .user_name("wrong-user-name")
            .service_specific_credential_id(&id)
            .status(StatusType::Inactive)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The user with name wrong-user-name cannot be found.",
    );
    assert_err(
        iam.update_service_specific_credential()
            .user_name(&user)
            .service_specific_credential_id("satisfiesregexbutstillinvalid")
            .status(StatusType::Inactive)
            .send()
            .await,
        "NoSuchEntity",
        404,
        "No such credential satisfiesregexbutstillinvalid exists",
    );
    // The credential belongs to the user, not to whoever calls without UserName (root here).
    assert_code(
        iam.delete_service_specific_credential()
            .service_specific_credential_id(&id)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    // A user with credentials cannot be deleted.
    assert_err(
        iam.delete_user().user_name(&user).send().await,
        "DeleteConflict",
        409,
        "Cannot delete entity, must remove referenced objects first.",
    );
    srv.stop().await;
}

#[tokio::test]
async fn bedrock_api_keys_expire_and_list_across_users() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let (a, b) = (unique("bra"), unique("brb"));
    create_user(&iam, &a).await;
    create_user(&iam, &b).await;
    let created = iam
        .create_service_specific_credential()
        .user_name(&a)
        .service_name(BEDROCK)
        .credential_age_days(3)
        .send()
        .await
        .unwrap();
    let k = created.service_specific_credential().unwrap();
    assert_eq!(
        k.service_credential_alias(),
        Some(format!("{a}-at-{DEFAULT_ACCOUNT}").as_str())
    );
    let secret = k.service_credential_secret().unwrap();
    assert!(secret.starts_with("ABSK"), "{secret}");
    assert!(k.service_password().is_empty());
    let expires = k.expiration_date().unwrap().secs() - k.create_date().secs();
    assert_eq!(expires, 3 * 86_400);
    // Without an age: no expiry.
    let forever = iam
        .create_service_specific_credential()
        .user_name(&b)
        .service_name(BEDROCK)
        .send()
        .await
        .unwrap();
    assert!(forever
        .service_specific_credential()
        .unwrap()
        .expiration_date()
        .is_none());
    iam.create_service_specific_credential()
        .user_name(&b)
        .service_name(CODECOMMIT)
        .send()
        .await
        .unwrap();

    // AllUsers lists the account's credentials, in pages.
    let everyone = iam
        .list_service_specific_credentials()
        .all_users(true)
        .send()
        .await
        .unwrap();
    assert_eq!(everyone.service_specific_credentials().len(), 3);
    let bedrock = iam
        .list_service_specific_credentials()
        .all_users(true)
        .service_name(BEDROCK)
        .send()
        .await
        .unwrap();
    let listed = bedrock.service_specific_credentials();
    assert_eq!(listed.len(), 2);
    assert!(listed
        .iter()
        .all(|m| m.service_credential_alias().is_some()));
    assert_eq!(
        listed
            .iter()
            .filter(|m| m.expiration_date().is_some())
            .count(),
        1
    );
    let page = iam
        .list_service_specific_credentials()
        .all_users(true)
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert!(page.is_truncated());
    let rest = iam
        .list_service_specific_credentials()
        .all_users(true)
        .marker(page.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.service_specific_credentials().len(), 1);
    assert!(!rest.is_truncated());

    // Without UserName: the caller's own.
    let me = as_user(&srv, &b).await;
    let mine = me.list_service_specific_credentials().send().await.unwrap();
    assert_eq!(mine.service_specific_credentials().len(), 2);
    assert!(mine
        .service_specific_credentials()
        .iter()
        .all(|m| m.user_name() == b));
    srv.stop().await;
}

#[tokio::test]
async fn a_renamed_user_keeps_its_credentials_and_service_user_name() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let (old, new) = (unique("old"), unique("new"));
    create_user(&iam, &old).await;
    upload_ssh(&iam, &old, SSH[0]).await;
    upload_cert(&iam, &old, CERTS[0]).await;
    iam.create_service_specific_credential()
        .user_name(&old)
        .service_name(CODECOMMIT)
        .send()
        .await
        .unwrap();
    iam.update_user()
        .user_name(&old)
        .new_user_name(&new)
        .send()
        .await
        .unwrap();
    let ssh = list_keys(&iam, &new).await;
    assert_eq!(ssh.ssh_public_keys()[0].user_name(), new);
    let certs = list_certs(&iam, &new).await;
    assert_eq!(certs.certificates()[0].user_name(), new);
    let creds = iam
        .list_service_specific_credentials()
        .user_name(&new)
        .send()
        .await
        .unwrap();
    let c = &creds.service_specific_credentials()[0];
    assert_eq!(c.user_name(), new);
    assert_eq!(c.service_user_name(), format!("{old}-at-{DEFAULT_ACCOUNT}"));
    srv.stop().await;
}

// ---------------------------------------------------------------------------------------------
// DeleteUser, persistence, enforcement

#[tokio::test]
async fn delete_user_waits_for_every_credential_family() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let conflict = "Cannot delete entity, must remove referenced objects first.";

    let user = unique("del-ssh");
    create_user(&iam, &user).await;
    let id = upload_ssh(&iam, &user, SSH[0]).await;
    assert_err(
        iam.delete_user().user_name(&user).send().await,
        "DeleteConflict",
        409,
        conflict,
    );
    iam.delete_ssh_public_key()
        .user_name(&user)
        .ssh_public_key_id(&id)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name(&user).send().await.unwrap();

    let user = unique("del-cert");
    create_user(&iam, &user).await;
    let up = iam
        .upload_signing_certificate()
        .user_name(&user)
        .certificate_body(CERTS[0])
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_user().user_name(&user).send().await,
        "DeleteConflict",
        409,
        conflict,
    );
    iam.delete_signing_certificate()
        .user_name(&user)
        .certificate_id(up.certificate().unwrap().certificate_id())
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name(&user).send().await.unwrap();

    let user = unique("del-ssc");
    create_user(&iam, &user).await;
    let c = iam
        .create_service_specific_credential()
        .user_name(&user)
        .service_name(CASSANDRA)
        .send()
        .await
        .unwrap();
    assert_err(
        iam.delete_user().user_name(&user).send().await,
        "DeleteConflict",
        409,
        conflict,
    );
    iam.delete_service_specific_credential()
        .user_name(&user)
        .service_specific_credential_id(
            c.service_specific_credential()
                .unwrap()
                .service_specific_credential_id(),
        )
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name(&user).send().await.unwrap();
    srv.stop().await;
}

#[tokio::test]
async fn credentials_survive_a_restart_and_api_keys_expire() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("creds.db").to_string_lossy().into_owned();
    let user = "persisted";
    let (key_id, cert_id, cred_id) = {
        let srv = TestServer::start_with(|c| c.db = db.clone()).await;
        let iam = srv.iam();
        create_user(&iam, user).await;
        let key_id = upload_ssh(&iam, user, SSH[0]).await;
        let cert = iam
            .upload_signing_certificate()
            .user_name(user)
            .certificate_body(CERTS[0])
            .send()
            .await
            .unwrap();
        let cred = iam
            .create_service_specific_credential()
            .user_name(user)
            .service_name(BEDROCK)
            .credential_age_days(1)
            .send()
            .await
            .unwrap();
        srv.stop().await;
        (
            key_id,
            cert.certificate().unwrap().certificate_id().to_string(),
            cred.service_specific_credential()
                .unwrap()
                .service_specific_credential_id()
                .to_string(),
        )
    };
    // A day later (the record's expiry moved into the past).
    {
        let store = localiam::store::Store::open(&db).await.unwrap();
        let uid = store
            .read()
            .account(DEFAULT_ACCOUNT)
            .users
            .get(user)
            .unwrap()
            .user_id
            .clone();
        store
            .write(move |tx| {
                tx.update(
                    DEFAULT_ACCOUNT,
                    &uid,
                    |u: &mut localiam::store::model::User| {
                        for c in &mut u.service_credentials {
                            c.expiration_date = Some(0);
                        }
                    },
                )
                .map(|_| ())
            })
            .await
            .unwrap();
        store.close().await;
    }
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let key = iam
        .get_ssh_public_key()
        .user_name(user)
        .ssh_public_key_id(&key_id)
        .encoding(EncodingType::Ssh)
        .send()
        .await
        .unwrap();
    assert_eq!(key.ssh_public_key().unwrap().fingerprint(), SSH_1_MD5);
    let certs = list_certs(&iam, user).await;
    assert_eq!(certs.certificates()[0].certificate_id(), cert_id);
    let creds = iam
        .list_service_specific_credentials()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let c = &creds.service_specific_credentials()[0];
    assert_eq!(c.service_specific_credential_id(), cred_id);
    assert_eq!(c.status(), &StatusType::Expired);
    srv.stop().await;
}

fn allow(actions: &[&str], resource: &str) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource}]})
    .to_string()
}

#[tokio::test]
async fn enforce_decides_on_the_user_the_call_names() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    let (alice, bob) = (unique("alice"), unique("bob"));
    create_user(&root, &alice).await;
    create_user(&root, &bob).await;
    root.put_user_policy()
        .user_name(&alice)
        .policy_name("own-keys")
        .policy_document(allow(
            &["iam:UploadSSHPublicKey", "iam:ListSSHPublicKeys"],
            "arn:aws:iam::000000000000:user/${aws:username}",
        ))
        .send()
        .await
        .unwrap();
    root.put_user_policy()
        .user_name(&alice)
        .policy_name("git-only")
        .policy_document(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": "iam:CreateServiceSpecificCredential",
                "Resource": "arn:aws:iam::000000000000:user/${aws:username}",
                "Condition": {"StringEquals": {
                    "iam:ServiceSpecificCredentialServiceName": "codecommit.amazonaws.com"}}}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let me = as_user(&srv, &alice).await;

    upload_ssh(&me, &alice, SSH[0]).await;
    assert_eq!(
        me.list_ssh_public_keys()
            .send()
            .await
            .unwrap()
            .ssh_public_keys()
            .len(),
        1
    );
    assert_err(
        me.upload_ssh_public_key()
            .user_name(&bob)
            .ssh_public_key_body(SSH[1])
            .send()
            .await,
        "AccessDenied",
        403,
        &format!(
            "User: arn:aws:iam::000000000000:user/{alice} is not authorized to perform: iam:UploadSSHPublicKey on resource: arn:aws:iam::000000000000:user/{bob} because no identity-based policy allows the iam:UploadSSHPublicKey action"
        ),
    );
    // Not allowed at all: another family's action on its own user.
    assert_code(
        me.upload_signing_certificate()
            .user_name(&alice)
            .certificate_body(CERTS[0])
            .send()
            .await,
        "AccessDenied",
        403,
    );
    // The condition key on the service.
    me.create_service_specific_credential()
        .user_name(&alice)
        .service_name(CODECOMMIT)
        .send()
        .await
        .unwrap();
    assert_code(
        me.create_service_specific_credential()
            .user_name(&alice)
            .service_name(BEDROCK)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    srv.stop().await;
}

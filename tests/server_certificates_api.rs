//! Server certificates through the AWS SDK for Rust: uploads of RSA and ECDSA certificates with
//! their keys (PKCS#1, PKCS#8, SEC1) and chains, read back as uploaded; listing by path with
//! pages; renames and moves; tags; the quota and GetAccountSummary's count; every refusal of an
//! upload (not PEM, wrong or encrypted key, key kinds IAM does not take, outside the validity
//! period, a chain that does not certify the certificate); persistence across a restart without
//! the private key; `--auth enforce` deciding on the certificate's ARN and tags.
//!
//! The certificates and keys are fixtures made by `tests/data/server-certs/make.sh` (OpenSSL); the
//! chain's root CA is RSA and its intermediate ECDSA, so both kinds of signature are verified.

use crate::common;

use aws_sdk_iam::types::Tag;
use common::*;
use localiam::config::AuthMode;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("data/server-certs/", $name, ".pem"))
    };
}

const RSA2048_CERT: &str = fixture!("rsa2048-cert");
const RSA2048_KEY: &str = fixture!("rsa2048-key");
const RSA2048_KEY_ENCRYPTED: &str = fixture!("rsa2048-key-encrypted");
const RSA1024_CERT: &str = fixture!("rsa1024-cert");
const RSA1024_KEY: &str = fixture!("rsa1024-key");
const RSA512_CERT: &str = fixture!("rsa512-cert");
const RSA512_KEY: &str = fixture!("rsa512-key");
const EC256_CERT: &str = fixture!("ec256-cert");
const EC256_KEY: &str = fixture!("ec256-key");
const EC384_CERT: &str = fixture!("ec384-cert");
const EC384_KEY: &str = fixture!("ec384-key");
const EC521_CERT: &str = fixture!("ec521-cert");
const EC521_KEY: &str = fixture!("ec521-key");
const LEAF_CERT: &str = fixture!("leaf-cert");
const LEAF_KEY: &str = fixture!("leaf-key");
const LEAF_CHAIN: &str = fixture!("leaf-chain");
const INTERMEDIATE_CERT: &str = fixture!("intermediate-cert");
const ROOT_CERT: &str = fixture!("root-cert");
const IMPOSTOR_INTERMEDIATE_CERT: &str = fixture!("impostor-intermediate-cert");
const IMPOSTOR_ROOT_CERT: &str = fixture!("impostor-root-cert");
const EXPIRED_CERT: &str = fixture!("expired-cert");
const FUTURE_CERT: &str = fixture!("future-cert");

/// 2120-01-01T00:00:00Z: the fixtures' `notAfter`.
const FIXTURE_NOT_AFTER: i64 = 4_733_510_400;

const UNPARSABLE: &str =
    "Unable to parse certificate. Please ensure the certificate is in PEM format.";
const MISMATCH: &str = "The private key did not match the public key in the certificate.";

fn chain_error(index: i64) -> String {
    format!(
        "Unable to validate certificate chain. The certificate chain must start with the immediate \
         signing certificate, followed by any intermediaries in order. The index within the chain \
         of the invalid certificate is: {index}"
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

/// Uploads a certificate with its key (and chain); the SDK's answer.
async fn upload(
    iam: &aws_sdk_iam::Client,
    name: &str,
    cert: &str,
    key: &str,
    chain: Option<&str>,
) -> Result<
    aws_sdk_iam::operation::upload_server_certificate::UploadServerCertificateOutput,
    aws_sdk_iam::error::SdkError<
        aws_sdk_iam::operation::upload_server_certificate::UploadServerCertificateError,
    >,
> {
    iam.upload_server_certificate()
        .server_certificate_name(name)
        .certificate_body(cert)
        .private_key(key)
        .set_certificate_chain(chain.map(str::to_string))
        .send()
        .await
}

/// GetServerCertificate of a certificate that exists.
async fn get(iam: &aws_sdk_iam::Client, name: &str) -> aws_sdk_iam::types::ServerCertificate {
    iam.get_server_certificate()
        .server_certificate_name(name)
        .send()
        .await
        .unwrap()
        .server_certificate
        .unwrap()
}

async fn names(iam: &aws_sdk_iam::Client, prefix: Option<&str>) -> Vec<String> {
    iam.list_server_certificates()
        .set_path_prefix(prefix.map(str::to_string))
        .send()
        .await
        .unwrap()
        .server_certificate_metadata_list()
        .iter()
        .map(|m| m.server_certificate_name().to_string())
        .collect()
}

#[tokio::test]
async fn rsa_and_ec_certificates_are_uploaded_read_listed_and_deleted() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let before = now();
    // RSA 2048 with a PKCS#1 key, sent with CRLF line ends and white space around: IAM keeps the
    // certificate without them.
    let crlf = format!("\n  {}\n\n", RSA2048_CERT.replace('\n', "\r\n"));
    let out = upload(&iam, "rsa2048", &crlf, RSA2048_KEY, None)
        .await
        .unwrap();
    let m = out.server_certificate_metadata().unwrap();
    assert_eq!(m.server_certificate_name(), "rsa2048");
    assert_eq!(m.path(), "/");
    assert_eq!(
        m.arn(),
        "arn:aws:iam::000000000000:server-certificate/rsa2048"
    );
    let id = m.server_certificate_id().to_string();
    assert_eq!(id.len(), 21);
    assert!(id.starts_with("ASCA"), "{id}");
    assert!(id[4..]
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    assert_eq!(m.expiration().unwrap().secs(), FIXTURE_NOT_AFTER);
    let uploaded = m.upload_date().unwrap().secs();
    assert!((before..=now()).contains(&uploaded), "{uploaded}");
    assert!(out.tags().is_empty());

    // RSA 1024 (PKCS#8), ECDSA P-256 (SEC1 after EC PARAMETERS), ECDSA P-384 (PKCS#8), in paths.
    for (name, path, cert, key) in [
        ("rsa1024", "/web/", RSA1024_CERT, RSA1024_KEY),
        ("ec256", "/web/eu/", EC256_CERT, EC256_KEY),
        ("ec384", "/cloudfront/", EC384_CERT, EC384_KEY),
    ] {
        let out = iam
            .upload_server_certificate()
            .server_certificate_name(name)
            .path(path)
            .certificate_body(cert)
            .private_key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let m = out.server_certificate_metadata().unwrap();
        assert_eq!(
            m.arn(),
            format!("arn:aws:iam::000000000000:server-certificate{path}{name}")
        );
    }

    let c = get(&iam, "RSA2048").await;
    assert_eq!(c.certificate_body(), RSA2048_CERT.trim_end());
    assert_eq!(c.certificate_chain(), None);
    assert!(c.tags().is_empty());
    let m = c.server_certificate_metadata().unwrap();
    assert_eq!(
        (m.server_certificate_id(), m.server_certificate_name()),
        (id.as_str(), "rsa2048")
    );
    assert_eq!(m.expiration().unwrap().secs(), FIXTURE_NOT_AFTER);

    // Listed in name order; by path prefix; in pages.
    assert_eq!(
        names(&iam, None).await,
        ["ec256", "ec384", "rsa1024", "rsa2048"]
    );
    assert_eq!(names(&iam, Some("/web/")).await, ["ec256", "rsa1024"]);
    assert_eq!(names(&iam, Some("/web/eu/")).await, ["ec256"]);
    assert!(names(&iam, Some("/nothing/")).await.is_empty());
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_server_certificates()
            .max_items(3)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        seen.extend(
            page.server_certificate_metadata_list()
                .iter()
                .map(|m| m.server_certificate_name().to_string()),
        );
        assert_eq!(page.is_truncated(), page.marker().is_some());
        marker = page.marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["ec256", "ec384", "rsa1024", "rsa2048"]);
    assert_err(
        iam.list_server_certificates().marker("bogus").send().await,
        "ValidationError",
        400,
        "Invalid Marker.",
    );

    iam.delete_server_certificate()
        .server_certificate_name("rsa2048")
        .send()
        .await
        .unwrap();
    let gone = "The Server Certificate with name rsa2048 cannot be found.";
    assert_err(
        iam.get_server_certificate()
            .server_certificate_name("rsa2048")
            .send()
            .await,
        "NoSuchEntity",
        404,
        gone,
    );
    assert_err(
        iam.delete_server_certificate()
            .server_certificate_name("rsa2048")
            .send()
            .await,
        "NoSuchEntity",
        404,
        gone,
    );
    assert_eq!(names(&iam, None).await, ["ec256", "ec384", "rsa1024"]);
}

#[tokio::test]
async fn uploads_are_refused_as_iam_refuses_them() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let garbage =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    let malformed = [
        ("garbage body", "this is not a certificate", RSA2048_KEY),
        ("not DER", garbage, RSA2048_KEY),
        ("a key as the body", RSA2048_KEY, RSA2048_KEY),
        ("garbage key", RSA2048_CERT, "this is not a key"),
        ("a certificate as the key", RSA2048_CERT, RSA2048_CERT),
        ("encrypted key", RSA2048_CERT, RSA2048_KEY_ENCRYPTED),
        ("RSA 512", RSA512_CERT, RSA512_KEY),
        ("ECDSA P-521", EC521_CERT, EC521_KEY),
    ];
    for (what, cert, key) in malformed {
        let got = expect_err(upload(&iam, "c", cert, key, None).await);
        assert_eq!(
            (got.code.as_str(), got.status, got.message.as_str()),
            ("MalformedCertificate", 400, UNPARSABLE),
            "{what}"
        );
    }
    for (what, cert, key) in [
        ("another RSA key", RSA2048_CERT, RSA1024_KEY),
        ("an EC key for an RSA certificate", RSA2048_CERT, EC256_KEY),
        ("another curve", EC256_CERT, EC384_KEY),
        ("another EC key", LEAF_CERT, EC256_KEY),
    ] {
        let got = expect_err(upload(&iam, "c", cert, key, None).await);
        assert_eq!(
            (got.code.as_str(), got.status, got.message.as_str()),
            ("KeyPairMismatch", 400, MISMATCH),
            "{what}"
        );
    }
    assert_err(
        upload(&iam, "c", EXPIRED_CERT, RSA2048_KEY, None).await,
        "MalformedCertificate",
        400,
        "Certificate is no longer valid. The 'Not After' date restriction on the certificate has passed.",
    );
    assert_err(
        upload(&iam, "c", FUTURE_CERT, RSA2048_KEY, None).await,
        "MalformedCertificate",
        400,
        "Certificate is not yet valid. The 'Not Before' date restriction on the certificate has not been met.",
    );
    // The model's rules on names and paths.
    assert_code(
        upload(&iam, "bad name", RSA2048_CERT, RSA2048_KEY, None).await,
        "ValidationError",
        400,
    );
    assert_code(
        iam.upload_server_certificate()
            .server_certificate_name("c")
            .path("no-slashes")
            .certificate_body(RSA2048_CERT)
            .private_key(RSA2048_KEY)
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert!(names(&iam, None).await.is_empty(), "a refusal kept nothing");

    // Names are unique case-insensitively.
    upload(&iam, "Web", RSA2048_CERT, RSA2048_KEY, None)
        .await
        .unwrap();
    assert_err(
        upload(&iam, "web", RSA2048_CERT, RSA2048_KEY, None).await,
        "EntityAlreadyExists",
        409,
        "The Server Certificate with name web already exists.",
    );
    assert_eq!(names(&iam, None).await, ["Web"]);
}

#[tokio::test]
async fn a_chain_must_certify_the_certificate() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let out = upload(&iam, "leaf", LEAF_CERT, LEAF_KEY, Some(LEAF_CHAIN))
        .await
        .unwrap();
    assert_eq!(
        out.server_certificate_metadata()
            .unwrap()
            .expiration()
            .unwrap()
            .secs(),
        FIXTURE_NOT_AFTER
    );
    let c = get(&iam, "leaf").await;
    assert_eq!(c.certificate_body(), LEAF_CERT.trim_end());
    assert_eq!(c.certificate_chain(), Some(LEAF_CHAIN.trim_end()));
    // A chain that stops before the root is a chain too.
    upload(
        &iam,
        "partial",
        LEAF_CERT,
        LEAF_KEY,
        Some(INTERMEDIATE_CERT),
    )
    .await
    .unwrap();

    let reversed = format!("{ROOT_CERT}{INTERMEDIATE_CERT}");
    let unrelated = format!("{INTERMEDIATE_CERT}{RSA2048_CERT}");
    let impostor_root = format!("{INTERMEDIATE_CERT}{IMPOSTOR_ROOT_CERT}");
    let leaf_first = format!("{LEAF_CERT}{LEAF_CHAIN}");
    let text_first = format!("subject=CN = localiam test intermediate CA\n{LEAF_CHAIN}");
    let bundle = format!("{LEAF_CERT}{INTERMEDIATE_CERT}");
    for (what, body, chain, index) in [
        ("root first", LEAF_CERT, reversed.as_str(), 1),
        // Same names, other keys: the ECDSA and the RSA signatures are checked.
        (
            "the intermediate's name, another key",
            LEAF_CERT,
            IMPOSTOR_INTERMEDIATE_CERT,
            1,
        ),
        (
            "the root's name, another key",
            LEAF_CERT,
            impostor_root.as_str(),
            2,
        ),
        (
            "the certificate itself first",
            LEAF_CERT,
            leaf_first.as_str(),
            1,
        ),
        ("an unrelated second", LEAF_CERT, unrelated.as_str(), 2),
        (
            "a chain for a self-signed certificate",
            RSA2048_CERT,
            ROOT_CERT,
            1,
        ),
        ("text in the chain", LEAF_CERT, text_first.as_str(), -1),
        ("a key in the chain", LEAF_CERT, LEAF_KEY, -1),
        (
            "a body of two certificates",
            bundle.as_str(),
            INTERMEDIATE_CERT,
            -1,
        ),
    ] {
        let key = if body == RSA2048_CERT {
            RSA2048_KEY
        } else {
            LEAF_KEY
        };
        let got = expect_err(upload(&iam, "c", body, key, Some(chain)).await);
        assert_eq!(
            (got.code.as_str(), got.status, got.message),
            ("MalformedCertificate", 400, chain_error(index)),
            "{what}"
        );
    }
    assert_eq!(names(&iam, None).await, ["leaf", "partial"]);
}

#[tokio::test]
async fn update_renames_and_moves_a_certificate() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    upload(&iam, "old", RSA2048_CERT, RSA2048_KEY, None)
        .await
        .unwrap();
    upload(&iam, "other", EC256_CERT, EC256_KEY, None)
        .await
        .unwrap();
    let id =
        |m: &aws_sdk_iam::types::ServerCertificateMetadata| m.server_certificate_id().to_string();
    let before = get(&iam, "old").await;

    iam.update_server_certificate()
        .server_certificate_name("old")
        .new_server_certificate_name("new")
        .new_path("/cloudfront/prod/")
        .send()
        .await
        .unwrap();
    assert_err(
        iam.get_server_certificate()
            .server_certificate_name("old")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The Server Certificate with name old cannot be found.",
    );
    let c = get(&iam, "new").await;
    let m = c.server_certificate_metadata().unwrap();
    assert_eq!(
        m.arn(),
        "arn:aws:iam::000000000000:server-certificate/cloudfront/prod/new"
    );
    assert_eq!(id(m), id(before.server_certificate_metadata().unwrap()));
    assert_eq!(c.certificate_body(), before.certificate_body());
    assert_eq!(names(&iam, Some("/cloudfront/")).await, ["new"]);

    // Only the path; only a new spelling of its own name.
    iam.update_server_certificate()
        .server_certificate_name("new")
        .new_path("/")
        .send()
        .await
        .unwrap();
    iam.update_server_certificate()
        .server_certificate_name("new")
        .new_server_certificate_name("NEW")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&iam, Some("/")).await, ["NEW", "other"]);

    assert_err(
        iam.update_server_certificate()
            .server_certificate_name("NEW")
            .new_server_certificate_name("Other")
            .send()
            .await,
        "EntityAlreadyExists",
        409,
        "The Server Certificate with name Other already exists.",
    );
    assert_err(
        iam.update_server_certificate()
            .server_certificate_name("missing")
            .new_path("/x/")
            .send()
            .await,
        "NoSuchEntity",
        404,
        "The Server Certificate with name missing cannot be found.",
    );
    assert_code(
        iam.update_server_certificate()
            .server_certificate_name("NEW")
            .new_path("x")
            .send()
            .await,
        "ValidationError",
        400,
    );
    assert_eq!(names(&iam, None).await, ["NEW", "other"]);
}

#[tokio::test]
async fn tags_the_quota_and_the_account_summary() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    let out = iam
        .upload_server_certificate()
        .server_certificate_name("tagged")
        .certificate_body(EC256_CERT)
        .private_key(EC256_KEY)
        .tags(tag("team", "blue"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.tags(), [tag("team", "blue"), tag("env", "prod")]);
    iam.tag_server_certificate()
        .server_certificate_name("tagged")
        .tags(tag("Team", "red"))
        .tags(tag("owner", "ops"))
        .send()
        .await
        .unwrap();
    iam.untag_server_certificate()
        .server_certificate_name("tagged")
        .tag_keys("ENV")
        .tag_keys("absent")
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_server_certificate_tags()
        .server_certificate_name("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags(), [tag("Team", "red"), tag("owner", "ops")]);
    assert!(!listed.is_truncated());
    assert_eq!(
        get(&iam, "tagged").await.tags(),
        [tag("Team", "red"), tag("owner", "ops")]
    );
    let page = iam
        .list_server_certificate_tags()
        .server_certificate_name("tagged")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.tags(), [tag("Team", "red")]);
    assert!(page.is_truncated());

    assert_err(
        iam.tag_server_certificate()
            .server_certificate_name("tagged")
            .tags(tag("a", "1"))
            .tags(tag("A", "2"))
            .send()
            .await,
        "InvalidInput",
        400,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    );
    let many: Vec<Tag> = (0..49).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert_err(
        iam.tag_server_certificate()
            .server_certificate_name("tagged")
            .set_tags(Some(many))
            .send()
            .await,
        "LimitExceeded",
        409,
        "The number of tags has reached the maximum limit.",
    );
    let missing = "The Server Certificate with name missing cannot be found.";
    assert_err(
        iam.tag_server_certificate()
            .server_certificate_name("missing")
            .tags(tag("a", "1"))
            .send()
            .await,
        "NoSuchEntity",
        404,
        missing,
    );
    assert_err(
        iam.list_server_certificate_tags()
            .server_certificate_name("missing")
            .send()
            .await,
        "NoSuchEntity",
        404,
        missing,
    );

    // 20 per account; GetAccountSummary counts them.
    for i in 1..20 {
        upload(&iam, &format!("c{i:02}"), EC256_CERT, EC256_KEY, None)
            .await
            .unwrap();
    }
    assert_err(
        upload(&iam, "c21", EC256_CERT, EC256_KEY, None).await,
        "LimitExceeded",
        409,
        "Cannot exceed quota for ServerCertificatesPerAccount: 20",
    );
    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    let count = |k: &str| {
        map.get(&aws_sdk_iam::types::SummaryKeyType::from(k))
            .copied()
    };
    assert_eq!(count("ServerCertificates"), Some(20));
    assert_eq!(count("ServerCertificatesQuota"), Some(20));
    iam.delete_server_certificate()
        .server_certificate_name("c01")
        .send()
        .await
        .unwrap();
    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    assert_eq!(
        map.get(&aws_sdk_iam::types::SummaryKeyType::ServerCertificates),
        Some(&19)
    );
    upload(&iam, "c21", EC256_CERT, EC256_KEY, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn certificates_survive_a_restart_and_their_key_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("localiam.db").to_string_lossy().to_string();
    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    iam.upload_server_certificate()
        .server_certificate_name("leaf")
        .path("/web/")
        .certificate_body(LEAF_CERT)
        .private_key(LEAF_KEY)
        .certificate_chain(LEAF_CHAIN)
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let before = get(&iam, "leaf").await;
    srv.stop().await;

    // Whatever the database holds (its file and write-ahead log), the key is not in it.
    let key_b64: String = LEAF_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let chunk = &key_b64[key_b64.len() / 2..key_b64.len() / 2 + 24];
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(chunk.len()).any(|w| w == chunk.as_bytes()),
            "the private key was written to disk"
        );
    }

    let srv = TestServer::start_with(|c| c.db = db.clone()).await;
    let iam = srv.iam();
    let after = get(&iam, "leaf").await;
    assert_eq!(after, before);
    assert_eq!(names(&iam, Some("/web/")).await, ["leaf"]);
    srv.stop().await;
}

#[tokio::test]
async fn enforce_decides_on_the_certificate_arn_and_its_tags() {
    let srv = TestServer::start_auth(AuthMode::Enforce).await;
    let root = srv.iam();
    // Uploads tagged team=blue under /web/, reads of team=blue certificates.
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:UploadServerCertificate",
         "Resource": "arn:aws:iam::000000000000:server-certificate/web/*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "iam:GetServerCertificate",
         "Resource": "arn:aws:iam::000000000000:server-certificate/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}}]});
    root.create_user()
        .user_name("deployer")
        .send()
        .await
        .unwrap();
    root.put_user_policy()
        .user_name("deployer")
        .policy_name("certs")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("deployer")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let iam = srv.iam_with(key.access_key_id(), key.secret_access_key(), None);
    let upload_as = |name: &str, path: &str, team: Option<&str>| {
        iam.upload_server_certificate()
            .server_certificate_name(name)
            .path(path)
            .certificate_body(EC256_CERT)
            .private_key(EC256_KEY)
            .set_tags(team.map(|t| vec![tag("team", t)]))
            .send()
    };
    let denied = |action: &str, arn: &str| {
        format!(
            "User: arn:aws:iam::000000000000:user/deployer is not authorized to perform: \
             iam:{action} on resource: {arn} because no identity-based policy allows the \
             iam:{action} action"
        )
    };

    upload_as("a", "/web/", Some("blue")).await.unwrap();
    assert_err(
        upload_as("b", "/web/", None).await,
        "AccessDenied",
        403,
        &denied(
            "UploadServerCertificate",
            "arn:aws:iam::000000000000:server-certificate/web/b",
        ),
    );
    assert_err(
        upload_as("c", "/api/", Some("blue")).await,
        "AccessDenied",
        403,
        &denied(
            "UploadServerCertificate",
            "arn:aws:iam::000000000000:server-certificate/api/c",
        ),
    );
    iam.get_server_certificate()
        .server_certificate_name("a")
        .send()
        .await
        .unwrap();
    // Another team's certificate, uploaded by the root user: its stored path is in the ARN.
    root.upload_server_certificate()
        .server_certificate_name("red")
        .path("/web/eu/")
        .certificate_body(EC256_CERT)
        .private_key(EC256_KEY)
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap();
    assert_err(
        iam.get_server_certificate()
            .server_certificate_name("red")
            .send()
            .await,
        "AccessDenied",
        403,
        &denied(
            "GetServerCertificate",
            "arn:aws:iam::000000000000:server-certificate/web/eu/red",
        ),
    );
    assert_err(
        iam.delete_server_certificate()
            .server_certificate_name("a")
            .send()
            .await,
        "AccessDenied",
        403,
        &denied(
            "DeleteServerCertificate",
            "arn:aws:iam::000000000000:server-certificate/web/a",
        ),
    );
    assert_eq!(names(&root, None).await, ["a", "red"]);
}

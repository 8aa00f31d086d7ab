//! Seed files (`--init`), the state export and import (`GET`/`POST /_localiam/state`) and the
//! reset back to the seed (`POST /_localiam/reset`, `/moto-api/reset`).

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_iam::types::{StatusType, Tag};
use common::*;

/// The example of the README and of the image, which the first test starts with.
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docker/seed.example.yaml");
const ALICE_KEY: &str = "AKIAALICE0EXAMPLE001";
const ALICE_SECRET: &str = "alice-secret-access-key-0000000000000000";
const ALICE_MFA_SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The TOTP code (RFC 6238: SHA-1, 30 s, 6 digits) of a base32 seed for a time step.
fn totp(seed: &str, step: u64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(seed.trim_end_matches('=').as_bytes())
        .expect("base32 seed");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, step * 30)
}

fn now_step() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 30
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write seed file");
    p
}

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("test data")
}

/// An HTTP call to an admin endpoint of a server at `url` (open mode: unsigned).
async fn admin(
    url: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let resp = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            format!("{url}{path}"),
        )
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("admin request");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

async fn user_names(iam: &aws_sdk_iam::Client) -> Vec<String> {
    iam.list_users()
        .send()
        .await
        .expect("ListUsers")
        .users()
        .iter()
        .map(|u| u.user_name().to_string())
        .collect()
}

/// The number of records of a database file (0 when there is no file).
async fn records(db: &Path) -> i64 {
    if !db.exists() {
        return 0;
    }
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .expect("open the database");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM records")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
    let _ = conn.close().await;
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_seed_is_in_place_at_the_first_request_and_survives_a_restart_and_a_reset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("state.db");
    let db = db.to_str().expect("path");
    let mut srv = BinaryServer::spawn_with_args(db, &["--init", EXAMPLE]);
    srv.wait_ready();
    let url = srv.url();

    // A key of the file signs requests at once, as its user.
    let sts = sts_client_with(&url, ALICE_KEY, ALICE_SECRET, None);
    let me = sts.get_caller_identity().send().await.expect("alice's key");
    assert_eq!(
        me.arn(),
        Some("arn:aws:iam::000000000000:user/engineering/alice")
    );

    let iam = srv.iam();
    let alice = iam.get_user().user_name("alice").send().await.unwrap();
    let alice = alice.user().unwrap();
    assert_eq!(alice.path(), "/engineering/");
    assert_eq!(
        alice
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some("arn:aws:iam::000000000000:policy/boundary")
    );
    let groups = iam
        .list_groups_for_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups()[0].group_name(), "developers");
    let attached = iam
        .list_attached_user_policies()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_arn(),
        Some("arn:aws:iam::000000000000:policy/app/s3-read")
    );
    iam.get_login_profile()
        .user_name("alice")
        .send()
        .await
        .expect("login profile");
    let keys = iam.list_access_keys().user_name("ci").send().await.unwrap();
    let ids: Vec<_> = keys
        .access_key_metadata()
        .iter()
        .filter_map(|k| k.access_key_id())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], "AKIACI00000EXAMPLE01");
    let role = iam.get_role().role_name("deployer").send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.max_session_duration(), Some(7200));
    let trust = percent_encoding::percent_decode_str(role.assume_role_policy_document().unwrap())
        .decode_utf8()
        .unwrap()
        .to_string();
    assert!(
        trust.contains("arn:aws:iam::000000000000:user/ci"),
        "{trust}"
    );
    let versions = iam
        .list_policy_versions()
        .policy_arn("arn:aws:iam::000000000000:policy/boundary")
        .send()
        .await
        .unwrap();
    let default: Vec<_> = versions
        .versions()
        .iter()
        .filter(|v| v.is_default_version())
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(default, ["v2"]);
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        profile.instance_profile().unwrap().roles()[0].role_name(),
        "web"
    );
    let oidc = iam.list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(oidc.open_id_connect_provider_list().len(), 1);
    let saml = iam.list_saml_providers().send().await.unwrap();
    assert_eq!(saml.saml_provider_list().len(), 1);
    let policy = iam.get_account_password_policy().send().await.unwrap();
    assert_eq!(
        policy.password_policy().unwrap().minimum_password_length(),
        Some(12)
    );
    let aliases = iam.list_account_aliases().send().await.unwrap();
    assert_eq!(aliases.account_aliases(), ["acme-dev"]);

    // The MFA device's seed is the file's: a test computes its codes.
    let mfa = iam
        .list_mfa_devices()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let serial = mfa.mfa_devices()[0].serial_number().to_string();
    assert_eq!(serial, "arn:aws:iam::000000000000:mfa/alice-phone");
    let session = sts
        .get_session_token()
        .serial_number(&serial)
        .token_code(totp(ALICE_MFA_SEED, now_step()))
        .send()
        .await
        .expect("a code of the seeded device is accepted");
    assert!(session.credentials().is_some());

    // A second start on the same database neither fails nor duplicates; what the tests did
    // since stays.
    iam.create_user()
        .user_name("added-later")
        .send()
        .await
        .unwrap();
    srv.kill();
    let mut srv = BinaryServer::spawn_with_args(db, &["--init", EXAMPLE]);
    srv.wait_ready();
    let url = srv.url();
    let iam = srv.iam();
    let mut names = user_names(&iam).await;
    names.sort();
    assert_eq!(names, ["added-later", "alice", "ci"]);
    let keys = iam.list_access_keys().user_name("ci").send().await.unwrap();
    assert_eq!(keys.access_key_metadata().len(), 2);

    // A reset goes back to the seed (not to nothing), at both addresses.
    for path in ["/_localiam/reset", "/moto-api/reset"] {
        iam.create_user().user_name("scratch").send().await.unwrap();
        iam.delete_login_profile()
            .user_name("alice")
            .send()
            .await
            .unwrap();
        let (status, body) = admin(&url, "POST", path, "application/json", "").await;
        assert_eq!(status, 200, "{path}: {body}");
        let mut names = user_names(&iam).await;
        names.sort();
        assert_eq!(names, ["alice", "ci"], "{path}");
        iam.get_login_profile()
            .user_name("alice")
            .send()
            .await
            .expect("back after reset");
        let me = sts_client_with(&url, ALICE_KEY, ALICE_SECRET, None)
            .get_caller_identity()
            .send()
            .await
            .expect("alice's key after a reset");
        assert_eq!(me.account(), Some("000000000000"));
    }
}

#[tokio::test]
async fn a_json_seed_gives_its_ids_dates_keys_and_accounts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = serde_json::json!({
        "accounts": [
            {
                "policies": [{
                    "PolicyName": "p",
                    "PolicyId": "ANPAFIXEDPOLICYID0001",
                    "CreateDate": "2020-01-02T03:04:05Z",
                    "Versions": [
                        {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}},
                        {"VersionId": "v4", "Document": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"Resource\":\"*\"}]}", "IsDefaultVersion": true}
                    ]
                }],
                "users": [{
                    "UserName": "bob",
                    "UserId": "AIDAFIXEDUSERID000001",
                    "CreateDate": "2020-01-02T03:04:05Z",
                    "AttachedPolicies": ["arn:aws:iam::000000000000:policy/p"],
                    "AccessKeys": [
                        {"AccessKeyId": "AKIABOB0000000000001", "SecretAccessKey": "bob-secret-1"},
                        {"AccessKeyId": "AKIABOB0000000000002", "SecretAccessKey": "bob-secret-2", "Status": "Inactive"}
                    ],
                    "LoginProfile": {"Password": "a-fine-password-1", "PasswordResetRequired": true}
                }],
                // `first` trusts `second`, which comes later: trust policies are set last.
                "roles": [
                    {"RoleName": "first", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:role/second"}, "Action": "sts:AssumeRole"}]}},
                    {"RoleName": "second", "RoleId": "AROAFIXEDROLEID000001", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:user/carol"}, "Action": "sts:AssumeRole"}]}}
                ]
            },
            {
                "account_id": "111111111111",
                "users": [{"UserName": "carol", "AccessKeys": [{"AccessKeyId": "AKIACAROL00000000001", "SecretAccessKey": "carol-secret"}]}]
            }
        ]
    });
    let file = write(dir.path(), "seed.json", &seed.to_string());
    let srv = TestServer::start_with(|c| c.init = Some(file)).await;
    let iam = srv.iam();
    let bob = iam.get_user().user_name("bob").send().await.unwrap();
    let bob = bob.user().unwrap();
    assert_eq!(bob.user_id(), "AIDAFIXEDUSERID000001");
    assert_eq!(bob.create_date().secs(), 1_577_934_245);
    let keys = iam
        .list_access_keys()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = keys
        .access_key_metadata()
        .iter()
        .map(|k| (k.access_key_id().unwrap(), k.status().unwrap().as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("AKIABOB0000000000001", "Active"),
            ("AKIABOB0000000000002", "Inactive")
        ]
    );
    let me = srv
        .sts_with("AKIABOB0000000000001", "bob-secret-1", None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.user_id(), Some("AIDAFIXEDUSERID000001"));
    let profile = iam
        .get_login_profile()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert!(profile.login_profile().unwrap().password_reset_required());
    let p = iam
        .get_policy()
        .policy_arn("arn:aws:iam::000000000000:policy/p")
        .send()
        .await
        .unwrap();
    let p = p.policy().unwrap();
    assert_eq!(p.policy_id(), Some("ANPAFIXEDPOLICYID0001"));
    assert_eq!(p.default_version_id(), Some("v4"));
    assert_eq!(p.attachment_count(), Some(1));
    let second = iam.get_role().role_name("second").send().await.unwrap();
    assert_eq!(second.role().unwrap().role_id(), "AROAFIXEDROLEID000001");
    // The other account's key acts there.
    let carol = srv
        .sts_with("AKIACAROL00000000001", "carol-secret", None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(carol.arn(), Some("arn:aws:iam::111111111111:user/carol"));
    srv.stop().await;
}

/// Runs the binary with `--init FILE` on a fresh database; it must exit non-zero. Its stderr.
fn refused_start(dir: &Path, file: &Path) -> (String, PathBuf) {
    let db = dir.join(format!(
        "{}.db",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_localiam"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .arg("--init")
        .arg(file)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run localiam");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("localiam started with the invalid seed {}", file.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert!(!status.success(), "{}: {stderr}", file.display());
    (stderr, db)
}

#[tokio::test]
async fn an_invalid_seed_stops_the_start_with_the_path_and_the_reason_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fine_user =
        "{UserName: fine, AccessKeys: [{AccessKeyId: AKIAFINE000000000001, SecretAccessKey: s}]}";
    let cases = [
        (
            "bad-trust.yaml",
            format!(
                "accounts:\n  - users: [{fine_user}]\n    roles:\n      - {{RoleName: ok, AssumeRolePolicyDocument: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Principal: {{Service: ec2.amazonaws.com}}, Action: sts:AssumeRole}}]}}}}\n      - {{RoleName: broken, AssumeRolePolicyDocument: '{{not json'}}\n"
            ),
            "accounts[0].roles[1].AssumeRolePolicyDocument: MalformedPolicyDocument: ",
        ),
        (
            "bad-inline.json",
            r#"{"accounts": [{"users": [{"UserName": "u", "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}}]}]}]}"#
                .to_string(),
            "accounts[0].users[0].Policies[0].PolicyDocument: MalformedPolicyDocument: ",
        ),
        (
            "unknown-field.json",
            r#"{"accounts": [{"users": [{"UserName": "a"}, {"UserNam": "b"}]}]}"#.to_string(),
            "accounts[0].users[1]",
        ),
        (
            "unknown-field.yaml",
            "accounts:\n  - users:\n      - UserName: a\n        Tagz: []\n".to_string(),
            "accounts[0].users[0].Tagz: unknown field `Tagz`",
        ),
        (
            "duplicate-user.yaml",
            format!("accounts:\n  - users:\n      - {fine_user}\n      - {{UserName: FINE}}\n"),
            "accounts[0].users[1]: EntityAlreadyExists: User with name FINE already exists.",
        ),
        (
            "bad-path.yaml",
            "accounts:\n  - groups:\n      - {GroupName: g, Path: no-slashes}\n".to_string(),
            "accounts[0].groups[0].Path: ValidationError: ",
        ),
    ];
    for (name, text, expected) in cases {
        let file = write(dir.path(), name, &text);
        let (stderr, db) = refused_start(dir.path(), &file);
        assert!(
            stderr.contains(&file.display().to_string()),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected:?} in {stderr}"
        );
        assert_eq!(records(&db).await, 0, "{name}: something was left behind");
    }
    // What the unknown field is, and AWS's text for the broken trust policy.
    let (stderr, _) = refused_start(dir.path(), &dir.path().join("unknown-field.json"));
    assert!(stderr.contains("unknown field `UserNam`"), "{stderr}");
    let (stderr, _) = refused_start(dir.path(), &dir.path().join("bad-trust.yaml"));
    assert!(
        stderr.contains("MalformedPolicyDocument: This policy contains invalid Json"),
        "{stderr}"
    );
    let (stderr, _) = refused_start(dir.path(), &dir.path().join("missing.yaml"));
    assert!(stderr.contains("cannot read the file"), "{stderr}");
}

#[tokio::test]
async fn an_invalid_import_changes_nothing_and_says_where() {
    let srv = TestServer::start().await;
    let iam = srv.iam();
    iam.create_user().user_name("kept").send().await.unwrap();
    let raw = srv.raw();
    let bad = r#"{"accounts": [{"users": [{"UserName": "new"}, {"UserName": "bad name!"}]}]}"#;
    let r = raw
        .post("/_localiam/state", "application/json", bad.into())
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["path"], "accounts[0].users[1].UserName");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .starts_with("ValidationError: "),
        "{v}"
    );
    assert_eq!(user_names(&iam).await, ["kept"]);
    // Without a seed, a reset empties the state.
    let r = raw
        .post("/_localiam/reset", "application/json", Vec::new())
        .await;
    assert_eq!(r.status, 200);
    assert!(user_names(&iam).await.is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn the_state_endpoints_answer_only_the_root_signature_outside_open() {
    let srv = TestServer::start_auth(AuthMode::Strict).await;
    let raw = srv.raw();
    assert_eq!(raw.get("/_localiam/state").await.status, 403);
    let r = raw
        .post("/_localiam/state", "application/json", b"{}".to_vec())
        .await;
    assert_eq!(r.status, 403);
    srv.iam().create_user().user_name("u").send().await.unwrap();
    let r = srv.admin("GET", "/_localiam/state", b"").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"UserName\": \"u\""), "{}", r.body);
    let r = srv.admin("POST", "/_localiam/state", b"{}").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(user_names(&srv.iam()).await.is_empty());
    srv.stop().await;
}

// ------------------------------------------------------------------------------------------------
// Export → reset → import
// ------------------------------------------------------------------------------------------------

/// What the round trip reads back: the names and IDs of what was made.
#[derive(Default)]
struct Made {
    reads: Vec<Vec<(String, String)>>,
}

impl Made {
    fn read(&mut self, params: &[(&str, &str)]) {
        self.reads.push(
            params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
    }
}

/// Every read's answer, its request ID taken out.
async fn answers(srv: &TestServer, made: &Made) -> BTreeMap<String, String> {
    let raw = srv.raw();
    let request_id = regex::Regex::new("<RequestId>[^<]*</RequestId>").unwrap();
    let mut out = BTreeMap::new();
    for read in &made.reads {
        let mut params: Vec<(&str, &str)> = vec![("Version", "2010-05-08")];
        params.extend(read.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let r = raw.post_form(&params).await;
        let label = format!("{read:?}");
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        let body = request_id.replace_all(&r.body, "").to_string();
        out.insert(label, body);
    }
    out
}

fn assert_same(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>, how: &str) {
    for (label, was) in before {
        let now = after.get(label).map(String::as_str).unwrap_or("<missing>");
        if was != now {
            // Where they part, with some context (answers can be long).
            let at = was
                .bytes()
                .zip(now.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(was.len().min(now.len()));
            let around = |s: &str| {
                let from = s.floor_char_boundary(at.saturating_sub(150));
                let to = s.ceil_char_boundary((at + 150).min(s.len()));
                s[from..to].to_string()
            };
            panic!(
                "{how}: {label} answers differently at byte {at}:\nbefore: …{}…\nafter:  …{}…",
                around(was),
                around(now)
            );
        }
    }
}

const POLICY_1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const POLICY_2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#;
const POLICY_3: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"s3:DeleteObject\", \"Resource\": \"*\"}]\n}";

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

/// A state with one of everything, made through the SDK.
async fn rich_state(srv: &TestServer) -> Made {
    let iam = srv.iam();
    let acct = srv.account_id().to_string();
    let mut m = Made::default();
    for action in [
        "ListUsers",
        "ListGroups",
        "ListRoles",
        "ListInstanceProfiles",
        "ListOpenIDConnectProviders",
        "ListSAMLProviders",
        "ListVirtualMFADevices",
        "ListServerCertificates",
        "GetAccountPasswordPolicy",
        "ListAccountAliases",
        "GetAccountSummary",
        "GetAccountAuthorizationDetails",
        "ListAccessKeys",
        "ListSigningCertificates",
    ] {
        m.read(&[("Action", action)]);
    }
    m.read(&[("Action", "ListPolicies"), ("Scope", "Local")]);

    iam.update_account_password_policy()
        .minimum_password_length(10)
        .require_symbols(true)
        .max_password_age(90)
        .password_reuse_prevention(3)
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("round-trip")
        .send()
        .await
        .unwrap();
    iam.set_security_token_service_preferences()
        .global_endpoint_token_version(aws_sdk_iam::types::GlobalEndpointTokenVersion::V2Token)
        .send()
        .await
        .unwrap();

    // Managed policies: versions v2 (default) and v3 left after v1 is deleted.
    let managed = iam
        .create_policy()
        .policy_name("managed")
        .path("/rt/")
        .description("round trip")
        .policy_document(POLICY_1)
        .tags(tag("k", "v"))
        .tags(tag("K", "w"))
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.create_policy_version()
        .policy_arn(&managed)
        .policy_document(POLICY_2)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    iam.create_policy_version()
        .policy_arn(&managed)
        .policy_document(POLICY_3)
        .send()
        .await
        .unwrap();
    iam.delete_policy_version()
        .policy_arn(&managed)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    let boundary = create_policy(&iam, "boundary", POLICY_1).await;
    for arn in [&managed, &boundary] {
        for action in [
            "GetPolicy",
            "ListPolicyVersions",
            "ListEntitiesForPolicy",
            "ListPolicyTags",
        ] {
            m.read(&[("Action", action), ("PolicyArn", arn)]);
        }
    }
    for v in ["v2", "v3"] {
        m.read(&[
            ("Action", "GetPolicyVersion"),
            ("PolicyArn", &managed),
            ("VersionId", v),
        ]);
    }

    iam.create_group()
        .group_name("team")
        .path("/rt/")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("team")
        .policy_name("inline")
        .policy_document(POLICY_3)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("team")
        .policy_arn(&managed)
        .send()
        .await
        .unwrap();
    for action in ["GetGroup", "ListGroupPolicies", "ListAttachedGroupPolicies"] {
        m.read(&[("Action", action), ("GroupName", "team")]);
    }
    m.read(&[
        ("Action", "GetGroupPolicy"),
        ("GroupName", "team"),
        ("PolicyName", "inline"),
    ]);

    // Users with everything that hangs off them.
    iam.create_user()
        .user_name("u1")
        .path("/rt/")
        .permissions_boundary(&boundary)
        .tags(tag("a", "1"))
        .tags(tag("B", "2"))
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("u2").send().await.unwrap();
    let mut keys = Vec::new();
    for _ in 0..2 {
        let k = iam
            .create_access_key()
            .user_name("u1")
            .send()
            .await
            .unwrap();
        let k = k.access_key().unwrap();
        keys.push((
            k.access_key_id().to_string(),
            k.secret_access_key().to_string(),
        ));
    }
    iam.update_access_key()
        .user_name("u1")
        .access_key_id(&keys[1].0)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    iam.create_login_profile()
        .user_name("u1")
        .password("Round-trip-password-1!")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("team")
        .user_name("u1")
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("u1")
        .policy_name("own")
        .policy_document(POLICY_1)
        .send()
        .await
        .unwrap();
    for arn in ["arn:aws:iam::aws:policy/ReadOnlyAccess", managed.as_str()] {
        iam.attach_user_policy()
            .user_name("u1")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let ssh = iam
        .upload_ssh_public_key()
        .user_name("u1")
        .ssh_public_key_body(data("user_credentials/ssh-1.pub"))
        .send()
        .await
        .unwrap();
    let ssh_id = ssh
        .ssh_public_key()
        .unwrap()
        .ssh_public_key_id()
        .to_string();
    iam.upload_signing_certificate()
        .user_name("u1")
        .certificate_body(data("user_credentials/cert-1.pem"))
        .send()
        .await
        .unwrap();
    iam.create_service_specific_credential()
        .user_name("u1")
        .service_name("codecommit.amazonaws.com")
        .send()
        .await
        .unwrap();
    for user in ["u1", "u2"] {
        for action in [
            "GetUser",
            "ListAccessKeys",
            "ListGroupsForUser",
            "ListUserPolicies",
            "ListAttachedUserPolicies",
            "ListUserTags",
            "ListMFADevices",
            "ListSSHPublicKeys",
            "ListSigningCertificates",
            "ListServiceSpecificCredentials",
        ] {
            m.read(&[("Action", action), ("UserName", user)]);
        }
    }
    m.read(&[("Action", "GetLoginProfile"), ("UserName", "u1")]);
    m.read(&[
        ("Action", "GetUserPolicy"),
        ("UserName", "u1"),
        ("PolicyName", "own"),
    ]);
    m.read(&[
        ("Action", "GetSSHPublicKey"),
        ("UserName", "u1"),
        ("SSHPublicKeyId", &ssh_id),
        ("Encoding", "SSH"),
    ]);
    for (id, _) in &keys {
        m.read(&[("Action", "GetAccessKeyLastUsed"), ("AccessKeyId", id)]);
    }
    iam.create_access_key()
        .send()
        .await
        .expect("a root access key");

    // Roles and an instance profile.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:user/rt/u1"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    iam.create_role()
        .role_name("r1")
        .assume_role_policy_document(&trust)
        .description("assumed by u1")
        .max_session_duration(7200)
        .permissions_boundary(&boundary)
        .tags(tag("env", "test"))
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("r1")
        .policy_name("inline")
        .policy_document(POLICY_2)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("r1")
        .policy_arn(&managed)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("r2")
        .path("/svc/")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("ip")
        .path("/rt/")
        .tags(tag("x", "y"))
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("ip")
        .role_name("r2")
        .send()
        .await
        .unwrap();
    for role in ["r1", "r2"] {
        for action in [
            "GetRole",
            "ListRolePolicies",
            "ListAttachedRolePolicies",
            "ListRoleTags",
            "ListInstanceProfilesForRole",
        ] {
            m.read(&[("Action", action), ("RoleName", role)]);
        }
    }
    m.read(&[
        ("Action", "GetRolePolicy"),
        ("RoleName", "r1"),
        ("PolicyName", "inline"),
    ]);
    // Service-linked roles, one with a custom suffix: made again by CreateServiceLinkedRole.
    iam.create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .send()
        .await
        .unwrap();
    iam.create_service_linked_role()
        .aws_service_name("autoscaling.amazonaws.com")
        .custom_suffix("rt")
        .description("with a suffix")
        .send()
        .await
        .unwrap();
    for role in [
        "AWSServiceRoleForAutoScaling",
        "AWSServiceRoleForAutoScaling_rt",
    ] {
        for action in ["GetRole", "ListAttachedRolePolicies"] {
            m.read(&[("Action", action), ("RoleName", role)]);
        }
    }
    for action in ["GetInstanceProfile", "ListInstanceProfileTags"] {
        m.read(&[("Action", action), ("InstanceProfileName", "ip")]);
    }

    // Identity providers, an MFA device enabled for u1, a server certificate.
    let oidc = iam
        .create_open_id_connect_provider()
        .url("https://oidc.example.com/rt")
        .client_id_list("app")
        .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
        .tags(tag("o", "p"))
        .send()
        .await
        .unwrap()
        .open_id_connect_provider_arn()
        .unwrap()
        .to_string();
    for action in ["GetOpenIDConnectProvider", "ListOpenIDConnectProviderTags"] {
        m.read(&[("Action", action), ("OpenIDConnectProviderArn", &oidc)]);
    }
    let cert = data("saml/idp-cert.pem");
    let cert: String = cert.lines().filter(|l| !l.starts_with("-----")).collect();
    let metadata = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/rt"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>"#
    );
    let saml = iam
        .create_saml_provider()
        .name("idp")
        .saml_metadata_document(metadata)
        .send()
        .await
        .unwrap()
        .saml_provider_arn()
        .unwrap()
        .to_string();
    m.read(&[("Action", "GetSAMLProvider"), ("SAMLProviderArn", &saml)]);
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("u1-device")
        .tags(tag("d", "e"))
        .send()
        .await
        .unwrap();
    let device = device.virtual_mfa_device().unwrap();
    let serial = device.serial_number().to_string();
    let seed = String::from_utf8(device.base32_string_seed().unwrap().as_ref().to_vec()).unwrap();
    let step = now_step();
    iam.enable_mfa_device()
        .user_name("u1")
        .serial_number(&serial)
        .authentication_code1(totp(&seed, step - 1))
        .authentication_code2(totp(&seed, step))
        .send()
        .await
        .unwrap();
    m.read(&[("Action", "ListMFADeviceTags"), ("SerialNumber", &serial)]);
    iam.upload_server_certificate()
        .server_certificate_name("web-cert")
        .path("/rt/")
        .certificate_body(data("server-certs/leaf-cert.pem"))
        .private_key(data("server-certs/leaf-key.pem"))
        .certificate_chain(data("server-certs/leaf-chain.pem"))
        .send()
        .await
        .unwrap();
    m.read(&[
        ("Action", "GetServerCertificate"),
        ("ServerCertificateName", "web-cert"),
    ]);

    // The account's own issuer (its signing keys), and an outside issuer's keys given to localiam.
    iam.enable_outbound_web_identity_federation()
        .send()
        .await
        .unwrap();
    m.read(&[("Action", "GetOutboundWebIdentityFederationInfo")]);
    let jwks = srv
        .raw()
        .get(&format!("/_localiam/oidc/{acct}/.well-known/jwks.json"))
        .await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    let body = format!(
        r#"{{"url": "https://issuer.example.com", "jwks": {}}}"#,
        jwks.body
    );
    let r = srv
        .raw()
        .post(
            "/_localiam/oidc-keys",
            "application/json",
            body.into_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Use: the key's and the role's last use, the access advisor's data.
    let sts = srv.sts_with(&keys[0].0, &keys[0].1, None);
    sts.get_caller_identity().send().await.unwrap();
    let session = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{acct}:role/r1"))
        .role_session_name("session")
        .send()
        .await
        .unwrap();
    let c = session.credentials().unwrap();
    srv.iam_with(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token()),
    )
    .list_roles()
    .send()
    .await
    .unwrap();
    // Recorded use is written to the store every 2 seconds.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn export_reset_import_gives_the_same_answers_to_every_read() {
    let srv = TestServer::start().await;
    let made = rich_state(&srv).await;
    let before = answers(&srv, &made).await;
    let raw = srv.raw();

    let export = raw.get("/_localiam/state").await;
    assert_eq!(export.status, 200);
    let state: serde_json::Value = serde_json::from_str(&export.body).unwrap();
    // Secrets are in it: an imported key signs again.
    let u1 = &state["accounts"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["UserName"] == "u1")
        .unwrap()
        .clone();
    let key = u1["AccessKeys"][0]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = u1["AccessKeys"][0]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(u1["LoginProfile"]["PasswordHash"]
        .as_str()
        .unwrap()
        .starts_with("$argon2"));
    assert!(u1["AccessKeys"][0]["LastUsed"].is_object(), "{u1}");

    let r = raw
        .post("/_localiam/reset", "application/json", Vec::new())
        .await;
    assert_eq!(r.status, 200);
    assert!(user_names(&srv.iam()).await.is_empty());
    let r = raw
        .post(
            "/_localiam/state",
            "application/json",
            export.body.clone().into_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = answers(&srv, &made).await;
    assert_same(&before, &after, "JSON");

    // The same in YAML.
    let yaml = raw.get("/_localiam/state?format=yaml").await;
    assert_eq!(yaml.status, 200);
    assert!(yaml.body.contains("UserName: u1"), "{}", yaml.body);
    raw.post("/moto-api/reset", "application/json", Vec::new())
        .await;
    let r = raw
        .post(
            "/_localiam/state",
            "application/yaml",
            yaml.body.into_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = answers(&srv, &made).await;
    assert_same(&before, &after, "YAML");
    // The export of an import is the export (the issuers' keys included).
    let again = raw.get("/_localiam/state").await;
    let again: serde_json::Value = serde_json::from_str(&again.body).unwrap();
    assert_eq!(again, state);
    assert_eq!(
        state["oidc_issuer_keys"][0]["url"],
        "https://issuer.example.com"
    );
    assert!(state["accounts"][0]["outbound_web_identity_federation"]["keys"].is_array());
    let jwks = raw
        .get(&format!(
            "/_localiam/oidc/{}/.well-known/jwks.json",
            srv.account_id()
        ))
        .await;
    assert_eq!(jwks.status, 200);
    let me = srv
        .sts_with(&key, &secret, None)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(me.arn().unwrap().ends_with(":user/rt/u1"));
    srv.stop().await;
}

/// The README's short example is a valid seed: its key signs, its MFA seed is the device's.
#[tokio::test]
async fn the_readme_example_is_a_valid_seed() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let from = readme
        .find("A seed with the usual pieces")
        .expect("the README's example");
    let start = readme[from..].find("```yaml\n").expect("its YAML block") + from + 8;
    let end = readme[start..].find("```").expect("its end") + start;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "readme.yaml", &readme[start..end]);
    let srv = TestServer::start_with(|c| c.init = Some(file)).await;
    let me = srv
        .sts_with(ALICE_KEY, ALICE_SECRET, None)
        .get_caller_identity()
        .send()
        .await
        .expect("the README's key");
    assert!(me.arn().unwrap().ends_with(":user/engineering/alice"));
    let role = srv
        .iam()
        .get_role()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    assert!(role.role().is_some());
    srv.stop().await;
}

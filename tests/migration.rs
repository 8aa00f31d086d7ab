//! A database written by the previous version (schema 1: one table per kind of row) opens with
//! this one and keeps its data: migration 0002 turns the rows into the model's records.

use crate::common;

use std::str::FromStr;

use aws_sdk_iam::types::StatusType;
use common::*;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const ACCT: &str = DEFAULT_ACCOUNT;
const DOC_V1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#;
const DOC_V2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;
const INLINE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#;

/// Writes a version-1 database as the previous release left it: schema 1 applied by sqlx's
/// migrator, then rows in its tables.
async fn write_version_1(db: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_init.sql"),
        dir.path().join("0001_init.sql"),
    )
    .unwrap();
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{db}"))
        .unwrap()
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    let rows = [
        "INSERT INTO users VALUES ('AIDAOLDUSER0000000001', '000000000000', 'Alice', 'alice', '/team/', \
         1700000000, 1700000500, 'arn:aws:iam::000000000000:policy/boundary')",
        "INSERT INTO users VALUES ('AIDAOLDUSER0000000002', '000000000000', 'bob', 'bob', '/', 1700000100, NULL, NULL)",
        "INSERT INTO user_tags (account_id, owner_id, key, key_lower, value) VALUES \
         ('000000000000', 'AIDAOLDUSER0000000001', 'Team', 'team', 'red'), \
         ('000000000000', 'AIDAOLDUSER0000000001', 'cost', 'cost', '42')",
        "INSERT INTO iam_groups VALUES ('AGPAOLDGROUP000000001', '000000000000', 'Devs', 'devs', '/', 1700000200)",
        "INSERT INTO group_members (account_id, group_id, user_id) VALUES \
         ('000000000000', 'AGPAOLDGROUP000000001', 'AIDAOLDUSER0000000001'), \
         ('000000000000', 'AGPAOLDGROUP000000001', 'AIDAOLDUSER0000000002')",
        "INSERT INTO policies (policy_id, account_id, name, name_lower, path, default_version_id, next_version, \
         is_attachable, description, create_date, update_date) VALUES \
         ('ANPAOLDPOLICY00000001', '000000000000', 'ReadThings', 'readthings', '/', 'v2', 3, 1, 'old one', \
          1700000300, 1700000400), \
         ('ANPAOLDPOLICY00000002', '000000000000', 'boundary', 'boundary', '/', 'v1', 2, 1, NULL, \
          1700000300, 1700000300)",
        "INSERT INTO policy_versions VALUES \
         ('ANPAOLDPOLICY00000001', 'v1', 1, '{v1}', 1700000300, '000000000000'), \
         ('ANPAOLDPOLICY00000001', 'v2', 2, '{v2}', 1700000400, '000000000000'), \
         ('ANPAOLDPOLICY00000002', 'v1', 1, '{v1}', 1700000300, '000000000000')",
        "INSERT INTO policy_tags (account_id, owner_id, key, key_lower, value) VALUES \
         ('000000000000', 'ANPAOLDPOLICY00000001', 'Owner', 'Owner', 'me')",
        "INSERT INTO user_policy_attachments (account_id, user_id, policy_id) VALUES \
         ('000000000000', 'AIDAOLDUSER0000000001', 'ANPAOLDPOLICY00000001')",
        "INSERT INTO group_policy_attachments (account_id, group_id, policy_id) VALUES \
         ('000000000000', 'AGPAOLDGROUP000000001', 'ANPAOLDPOLICY00000001')",
        "INSERT INTO user_inline_policies (account_id, user_id, name, name_lower, document) VALUES \
         ('000000000000', 'AIDAOLDUSER0000000001', 'NoEc2', 'noec2', '{inline}')",
        "INSERT INTO group_inline_policies (account_id, group_id, name, name_lower, document) VALUES \
         ('000000000000', 'AGPAOLDGROUP000000001', 'GroupInline', 'groupinline', '{inline}')",
        "INSERT INTO access_keys VALUES \
         ('AKIAOLDKEY0000000001', '000000000000', 'AIDAOLDUSER0000000001', 'oldsecret1oldsecret1oldsecret1oldsecret1', \
          'Active', 1700000600, 1700000700, 'iam', 'us-east-1'), \
         ('AKIAOLDKEY0000000002', '000000000000', 'AIDAOLDUSER0000000001', 'oldsecret2oldsecret2oldsecret2oldsecret2', \
          'Inactive', 1700000650, NULL, NULL, NULL), \
         ('AKIAOLDROOTKEY000001', '000000000000', NULL, 'rootsecretrootsecretrootsecretrootsecre', \
          'Active', 1700000800, NULL, NULL, NULL)",
        "INSERT INTO login_profiles VALUES ('AIDAOLDUSER0000000001', '000000000000', '$argon2id$fake', 1, \
         1700000900, 1700000900)",
        "INSERT INTO password_history (account_id, user_id, password_hash, create_date) VALUES \
         ('000000000000', 'AIDAOLDUSER0000000001', '$argon2id$older', 1700000850)",
    ];
    for sql in rows {
        let sql = sql
            .replace("{v1}", &DOC_V1.replace('\'', "''"))
            .replace("{v2}", &DOC_V2.replace('\'', "''"))
            .replace("{inline}", &INLINE.replace('\'', "''"));
        sqlx::query(&sql)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    pool.close().await;
}

#[tokio::test]
async fn a_version_1_database_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db").to_string_lossy().into_owned();
    write_version_1(&db).await;

    let srv = TestServer::start_with(|c| {
        c.db = db.clone();
        c.auth = AuthMode::Strict;
    })
    .await;
    let iam = srv.iam();

    let alice = iam.get_user().user_name("alice").send().await.unwrap();
    let alice = alice.user().unwrap();
    assert_eq!(alice.user_id(), "AIDAOLDUSER0000000001");
    assert_eq!(alice.user_name(), "Alice");
    assert_eq!(alice.path(), "/team/");
    assert_eq!(alice.create_date().secs(), 1_700_000_000);
    assert_eq!(
        alice.password_last_used().map(|d| d.secs()),
        Some(1_700_000_500)
    );
    assert_eq!(
        alice
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some("arn:aws:iam::000000000000:policy/boundary")
    );
    let tags: Vec<_> = alice.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("Team", "red"), ("cost", "42")]);

    let users = iam.list_users().send().await.unwrap();
    let names: Vec<_> = users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["Alice", "bob"]);

    let group = iam.get_group().group_name("devs").send().await.unwrap();
    let members: Vec<_> = group.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(members, ["Alice", "bob"]);
    let groups = iam
        .list_groups_for_user()
        .user_name("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups()[0].group_id(), "AGPAOLDGROUP000000001");

    let arn = format!("arn:aws:iam::{ACCT}:policy/ReadThings");
    let policy = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let policy = policy.policy().unwrap();
    assert_eq!(policy.default_version_id(), Some("v2"));
    assert_eq!(policy.attachment_count(), Some(2));
    assert_eq!(policy.description(), Some("old one"));
    assert_eq!(policy.tags().len(), 1);
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = versions
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap())
        .collect();
    assert_eq!(ids, ["v2", "v1"]);
    let v2 = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();
    let doc = v2.policy_version().unwrap().document().unwrap();
    assert!(doc.contains("iam%3AGet"), "{doc}");
    // The next version continues the numbering.
    let v3 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(DOC_V1)
        .send()
        .await
        .unwrap();
    assert_eq!(v3.policy_version().unwrap().version_id(), Some("v3"));
    let boundary = iam
        .get_policy()
        .policy_arn(format!("arn:aws:iam::{ACCT}:policy/boundary"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        boundary
            .policy()
            .unwrap()
            .permissions_boundary_usage_count(),
        Some(1)
    );

    let attached = iam
        .list_attached_group_policies()
        .group_name("Devs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("ReadThings")
    );
    let inline = iam
        .get_user_policy()
        .user_name("Alice")
        .policy_name("noec2")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_name(), "NoEc2");
    iam.get_group_policy()
        .group_name("Devs")
        .policy_name("GroupInline")
        .send()
        .await
        .unwrap();

    let profile = iam
        .get_login_profile()
        .user_name("Alice")
        .send()
        .await
        .unwrap();
    assert!(profile.login_profile().unwrap().password_reset_required());

    let keys = iam
        .list_access_keys()
        .user_name("Alice")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = keys
        .access_key_metadata()
        .iter()
        .map(|k| (k.access_key_id().unwrap(), k.status().cloned()))
        .collect();
    assert_eq!(
        keys,
        [
            ("AKIAOLDKEY0000000001", Some(StatusType::Active)),
            ("AKIAOLDKEY0000000002", Some(StatusType::Inactive)),
        ]
    );
    let used = iam
        .get_access_key_last_used()
        .access_key_id("AKIAOLDKEY0000000001")
        .send()
        .await
        .unwrap();
    let used = used.access_key_last_used().unwrap();
    assert_eq!(used.service_name(), "iam");
    assert_eq!(used.last_used_date().map(|d| d.secs()), Some(1_700_000_700));

    // The migrated keys still sign requests in strict mode: the user's, and the root's own key.
    let as_alice = srv.iam_with(
        "AKIAOLDKEY0000000001",
        "oldsecret1oldsecret1oldsecret1oldsecret1",
        None,
    );
    let me = as_alice.get_user().send().await.unwrap();
    assert_eq!(me.user().unwrap().user_name(), "Alice");
    let as_root = srv.iam_with(
        "AKIAOLDROOTKEY000001",
        "rootsecretrootsecretrootsecretrootsecre",
        None,
    );
    let root_keys = as_root.list_access_keys().send().await.unwrap();
    assert_eq!(root_keys.access_key_metadata().len(), 1);
    srv.stop().await;

    // The old tables are gone; what is left is the record.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str(&format!("sqlite://{db}")).unwrap())
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' \
         AND name NOT LIKE 'sqlite%' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(tables, ["records"]);
    pool.close().await;
}

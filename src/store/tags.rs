//! Tags of every taggable entity, in insertion order. Keys are unique case-insensitively per entity: putting a key
//! that exists (in any case) replaces its value (and spelling) and keeps its position.

use sqlx::SqliteConnection;

use super::{lower, StoreResult};

/// The kind of entity a tag belongs to. The owner ID passed with it is that entity's unique ID
/// (`mfa_id` as a decimal string for MFA devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagTarget {
    User,
    Role,
    Policy,
    InstanceProfile,
    MfaDevice,
    OidcProvider,
    SamlProvider,
    ServerCertificate,
}

impl TagTarget {
    /// What identifies a tag key of this entity in the `key_lower` column: AWS compares tag keys
    /// case-insensitively, except on managed policies, where `a` and `A` are two tags (as recorded
    /// on real AWS).
    fn match_key(self, key: &str) -> String {
        match self {
            TagTarget::Policy => key.to_string(),
            _ => lower(key),
        }
    }

    fn table(self) -> &'static str {
        match self {
            TagTarget::User => "user_tags",
            TagTarget::Role => "role_tags",
            TagTarget::Policy => "policy_tags",
            TagTarget::InstanceProfile => "instance_profile_tags",
            TagTarget::MfaDevice => "mfa_device_tags",
            TagTarget::OidcProvider => "oidc_provider_tags",
            TagTarget::SamlProvider => "saml_provider_tags",
            TagTarget::ServerCertificate => "server_certificate_tags",
        }
    }
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: &str, value: &str) -> Tag {
        Tag {
            key: key.to_string(),
            value: value.to_string(),
        }
    }
}

/// Adds or replaces tags (TagUser, …, and the Tags of Create*). The owner must exist (`ForeignKeyViolation`
/// otherwise). Validation of counts and characters is the handler's.
pub async fn put(
    conn: &mut SqliteConnection,
    target: TagTarget,
    account_id: &str,
    owner_id: &str,
    tags: &[Tag],
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (account_id, owner_id, key, key_lower, value) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (owner_id, key_lower) DO UPDATE SET key = excluded.key, value = excluded.value",
        target.table()
    );
    for tag in tags {
        sqlx::query(&sql)
            .bind(account_id)
            .bind(owner_id)
            .bind(&tag.key)
            .bind(target.match_key(&tag.key))
            .bind(&tag.value)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Removes the tags with these keys (see [`TagTarget::match_key`]); absent keys are ignored, as AWS does.
pub async fn remove(
    conn: &mut SqliteConnection,
    target: TagTarget,
    owner_id: &str,
    keys: &[String],
) -> StoreResult<()> {
    let sql = format!(
        "DELETE FROM {} WHERE owner_id = ? AND key_lower = ?",
        target.table()
    );
    for key in keys {
        sqlx::query(&sql)
            .bind(owner_id)
            .bind(target.match_key(key))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The entity's tags in insertion order.
pub async fn list(
    conn: &mut SqliteConnection,
    target: TagTarget,
    owner_id: &str,
) -> StoreResult<Vec<Tag>> {
    let sql = format!(
        "SELECT key, value FROM {} WHERE owner_id = ? ORDER BY seq",
        target.table()
    );
    Ok(sqlx::query_as(&sql).bind(owner_id).fetch_all(conn).await?)
}

/// Number of tags on the entity (for the 50-tag limit).
pub async fn count(
    conn: &mut SqliteConnection,
    target: TagTarget,
    owner_id: &str,
) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE owner_id = ?", target.table());
    Ok(sqlx::query_scalar(&sql)
        .bind(owner_id)
        .fetch_one(conn)
        .await?)
}

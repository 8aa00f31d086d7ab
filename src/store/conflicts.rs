//! What must be removed before DeleteUser / DeleteGroup succeed (AWS's `DeleteConflict`).

use sqlx::SqliteConnection;

use super::StoreResult;

/// Everything that still hangs off a user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UserDependents {
    pub access_keys: i64,
    pub login_profile: i64,
    pub group_memberships: i64,
    pub attached_policies: i64,
    pub inline_policies: i64,
    pub mfa_devices: i64,
    pub signing_certificates: i64,
    pub ssh_public_keys: i64,
    pub service_specific_credentials: i64,
}

/// The first kind of dependent that blocks a DeleteUser, in the order AWS checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserConflict {
    LoginProfile,
    AccessKeys,
    SigningCertificates,
    MfaDevices,
    InlinePolicies,
    AttachedPolicies,
    GroupMemberships,
    SshPublicKeys,
    ServiceSpecificCredentials,
}

impl UserDependents {
    /// `None` when the user can be deleted.
    pub fn first_conflict(&self) -> Option<UserConflict> {
        let checks = [
            (self.login_profile, UserConflict::LoginProfile),
            (self.access_keys, UserConflict::AccessKeys),
            (self.signing_certificates, UserConflict::SigningCertificates),
            (self.mfa_devices, UserConflict::MfaDevices),
            (self.inline_policies, UserConflict::InlinePolicies),
            (self.attached_policies, UserConflict::AttachedPolicies),
            (self.group_memberships, UserConflict::GroupMemberships),
            (self.ssh_public_keys, UserConflict::SshPublicKeys),
            (
                self.service_specific_credentials,
                UserConflict::ServiceSpecificCredentials,
            ),
        ];
        checks.into_iter().find(|(n, _)| *n > 0).map(|(_, c)| c)
    }
}

/// Everything that still hangs off a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupDependents {
    pub members: i64,
    pub attached_policies: i64,
    pub inline_policies: i64,
}

impl GroupDependents {
    /// Whether DeleteGroup must answer DeleteConflict.
    pub fn is_blocked(&self) -> bool {
        self.members > 0 || self.attached_policies > 0 || self.inline_policies > 0
    }
}

/// Counts the user's dependents in one query.
pub async fn user_dependents(
    conn: &mut SqliteConnection,
    user_id: &str,
) -> StoreResult<UserDependents> {
    Ok(sqlx::query_as(
        "SELECT \
         (SELECT COUNT(*) FROM access_keys WHERE user_id = ?1) AS access_keys, \
         (SELECT COUNT(*) FROM login_profiles WHERE user_id = ?1) AS login_profile, \
         (SELECT COUNT(*) FROM group_members WHERE user_id = ?1) AS group_memberships, \
         (SELECT COUNT(*) FROM user_policy_attachments WHERE user_id = ?1) AS attached_policies, \
         (SELECT COUNT(*) FROM user_inline_policies WHERE user_id = ?1) AS inline_policies, \
         (SELECT COUNT(*) FROM mfa_devices WHERE user_id = ?1) AS mfa_devices, \
         (SELECT COUNT(*) FROM signing_certificates WHERE user_id = ?1) AS signing_certificates, \
         (SELECT COUNT(*) FROM ssh_public_keys WHERE user_id = ?1) AS ssh_public_keys, \
         (SELECT COUNT(*) FROM service_specific_credentials WHERE user_id = ?1) AS service_specific_credentials",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?)
}

/// Counts the group's dependents in one query.
pub async fn group_dependents(
    conn: &mut SqliteConnection,
    group_id: &str,
) -> StoreResult<GroupDependents> {
    Ok(sqlx::query_as(
        "SELECT \
         (SELECT COUNT(*) FROM group_members WHERE group_id = ?1) AS members, \
         (SELECT COUNT(*) FROM group_policy_attachments WHERE group_id = ?1) AS attached_policies, \
         (SELECT COUNT(*) FROM group_inline_policies WHERE group_id = ?1) AS inline_policies",
    )
    .bind(group_id)
    .fetch_one(conn)
    .await?)
}

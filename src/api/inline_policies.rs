//! Inline policies of users, groups and roles: PutUserPolicy, GetUserPolicy, ListUserPolicies,
//! DeleteUserPolicy and their group and role counterparts.
//!
//! The work is in [`put_inline`], [`get_inline`], [`list_inline`] and [`delete_inline`], which take the owner
//! already resolved as a [`PolicyOwner`] (see [`require_owner`]): roles slot in through the owner lookup.

use crate::api::common::*;
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::policy::validate::{policy_size, validate, PolicyKind};
use crate::protocol::{iam, Operation};
use crate::state::App;
use crate::store::model::{Account, PrincipalKind};
use crate::store::Tx;

// ------------------------------------------------------------------------------------------------------------
// The four operations of each owner family
// ------------------------------------------------------------------------------------------------------------

/// Registers PutXPolicy, GetXPolicy, ListXPolicies and DeleteXPolicy of one owner family: the
/// operations differ only in the owner's kind and the name of its field (`UserName`, `RoleName`, …).
macro_rules! register_inline_ops {
    ($r:expr, $kind:expr, $owner:ident,
     $put:ident, $get:ident($get_out:ident), $list:ident($list_out:ident), $delete:ident) => {{
        $r.iam::<iam::$put, _, _>(
            |app: App, ctx: Ctx, input: <iam::$put as Operation>::Input| async move {
                put_for(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    &input.policy_name,
                    &input.policy_document,
                )
                .await
            },
        );
        $r.iam::<iam::$get, _, _>(
            |app: App, ctx: Ctx, input: <iam::$get as Operation>::Input| async move {
                let ($owner, policy_name, policy_document) = get_for(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    &input.policy_name,
                )?;
                Ok(iam::$get_out {
                    $owner,
                    policy_name,
                    policy_document,
                })
            },
        );
        $r.iam::<iam::$list, _, _>(
            |app: App, ctx: Ctx, input: <iam::$list as Operation>::Input| async move {
                let (policy_names, marker) = list_for(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    input.marker.as_deref(),
                    input.max_items,
                )?;
                Ok(iam::$list_out {
                    policy_names,
                    is_truncated: Some(marker.is_some()),
                    marker,
                })
            },
        );
        $r.iam::<iam::$delete, _, _>(
            |app: App, ctx: Ctx, input: <iam::$delete as Operation>::Input| async move {
                delete_for(
                    &app,
                    ctx.account(),
                    $kind,
                    &input.$owner,
                    &input.policy_name,
                )
                .await
            },
        );
    }};
}

pub fn register(r: &mut Registry) {
    register_inline_ops!(
        r,
        PrincipalKind::User,
        user_name,
        PutUserPolicy,
        GetUserPolicy(GetUserPolicyResponse),
        ListUserPolicies(ListUserPoliciesResponse),
        DeleteUserPolicy
    );
    register_inline_ops!(
        r,
        PrincipalKind::Group,
        group_name,
        PutGroupPolicy,
        GetGroupPolicy(GetGroupPolicyResponse),
        ListGroupPolicies(ListGroupPoliciesResponse),
        DeleteGroupPolicy
    );
    register_inline_ops!(
        r,
        PrincipalKind::Role,
        role_name,
        PutRolePolicy,
        GetRolePolicy(GetRolePolicyResponse),
        ListRolePolicies(ListRolePoliciesResponse),
        DeleteRolePolicy
    );
}

/// AWS's quota on the total size of a user's, group's or role's inline policies.
pub fn inline_size_quota(kind: PrincipalKind) -> usize {
    match kind {
        PrincipalKind::User => 2_048,
        PrincipalKind::Group => 5_120,
        PrincipalKind::Role => 10_240,
    }
}

impl PolicyOwner {
    /// The word AWS uses for the owner in its messages.
    fn noun(&self) -> &'static str {
        match self.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
            PrincipalKind::Role => "role",
        }
    }

    /// The quota on the total size of the owner's inline policies (as `policy_size` counts them).
    pub fn size_quota(&self) -> usize {
        inline_size_quota(self.kind)
    }

    fn inline_not_found(&self, policy_name: &str) -> ApiError {
        ApiError::no_such_entity(format!(
            "The {} policy with name {policy_name} cannot be found.",
            self.noun()
        ))
    }
}

/// PutXPolicy, once the document is validated: enforces the owner's total inline size quota (the
/// other inline policies plus this one; a policy of the same name is replaced, so it does not
/// count), then stores it.
pub fn put_inline(
    tx: &mut Tx<'_>,
    account: &str,
    owner: &PolicyOwner,
    policy_name: &str,
    document: &str,
) -> Result<(), ApiError> {
    let replaced = policy_name.to_lowercase();
    let others: usize = tx
        .account(account)
        .held(owner.kind, &owner.id)
        .map(|h| {
            h.inline
                .iter()
                .filter(|p| p.name.to_lowercase() != replaced)
                .map(|p| policy_size(&p.document))
                .sum()
        })
        .unwrap_or(0);
    let quota = owner.size_quota();
    if others + policy_size(document) > quota {
        return Err(ApiError::limit_exceeded(format!(
            "Maximum policy size of {quota} bytes exceeded for {} {}",
            owner.noun(),
            owner.name
        )));
    }
    tx.update_held(account, owner.kind, &owner.id, |inline, _| {
        inline.put(policy_name, document)
    })?;
    Ok(())
}

/// GetXPolicy: the stored name and the document URL-encoded, as AWS returns it.
pub fn get_inline(
    account: &Account,
    owner: &PolicyOwner,
    policy_name: &str,
) -> Result<(String, String), ApiError> {
    let p = account
        .held(owner.kind, &owner.id)
        .and_then(|h| h.inline.get(policy_name))
        .ok_or_else(|| owner.inline_not_found(policy_name))?;
    Ok((p.name.clone(), encode_policy(&p.document)))
}

/// ListXPolicies: one page of the owner's inline policy names, ordered by name.
pub fn list_inline(
    account: &Account,
    owner: &PolicyOwner,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let all = account
        .held(owner.kind, &owner.id)
        .map(|h| h.inline.iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    paginate(all, marker, max_items(max))
}

/// DeleteXPolicy.
pub fn delete_inline(
    tx: &mut Tx<'_>,
    account: &str,
    owner: &PolicyOwner,
    policy_name: &str,
) -> Result<(), ApiError> {
    let exists = tx
        .account(account)
        .held(owner.kind, &owner.id)
        .is_some_and(|h| h.inline.get(policy_name).is_some());
    if !exists {
        return Err(owner.inline_not_found(policy_name));
    }
    tx.update_held(account, owner.kind, &owner.id, |inline, _| {
        inline.remove(policy_name)
    })?;
    Ok(())
}

// ------------------------------------------------------------------------------------------------------------
// The operations, for an owner of a kind named in the request
// ------------------------------------------------------------------------------------------------------------

async fn put_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    policy_name: &str,
    document: &str,
) -> Result<(), ApiError> {
    if let Err(e) = validate(document, PolicyKind::Identity) {
        // A missing owner is reported before a malformed document.
        require_owner(app.store.read().account(account), kind, owner_name)?;
        return Err(ApiError::malformed_policy(e.message));
    }
    let (account, owner_name, policy_name, document) = (
        account.to_string(),
        owner_name.to_string(),
        policy_name.to_string(),
        document.to_string(),
    );
    app.store
        .write(move |tx| {
            let owner = require_modifiable_owner(tx.account(&account), kind, &owner_name)?;
            put_inline(tx, &account, &owner, &policy_name, &document)
        })
        .await
}

/// The owner's stored name, the policy's stored name and its document (URL-encoded).
fn get_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    policy_name: &str,
) -> Result<(String, String, String), ApiError> {
    let model = app.store.read();
    let acct = model.account(account);
    let owner = require_owner(acct, kind, owner_name)?;
    let (name, document) = get_inline(acct, &owner, policy_name)?;
    Ok((owner.name, name, document))
}

fn list_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<String>, Option<String>), ApiError> {
    let model = app.store.read();
    let acct = model.account(account);
    let owner = require_owner(acct, kind, owner_name)?;
    list_inline(acct, &owner, marker, max)
}

async fn delete_for(
    app: &App,
    account: &str,
    kind: PrincipalKind,
    owner_name: &str,
    policy_name: &str,
) -> Result<(), ApiError> {
    let (account, owner_name, policy_name) = (
        account.to_string(),
        owner_name.to_string(),
        policy_name.to_string(),
    );
    app.store
        .write(move |tx| {
            let owner = require_modifiable_owner(tx.account(&account), kind, &owner_name)?;
            delete_inline(tx, &account, &owner, &policy_name)
        })
        .await
}

//! GetAccountAuthorizationDetails: every user, group, role and managed policy of the account with
//! what it holds (inline policies, attachments, memberships, instance profiles, boundaries, tags,
//! every version of every policy), filtered by `Filter` and paginated with `MaxItems`/`Marker`
//! over one combined list (users, then groups, then roles, then customer managed policies, then
//! AWS managed policies, each in name order).
//!
//! AWS managed policies appear only when something in the account is attached to them; they come
//! from [`aws_managed_policy`], the one place the AWS managed catalogue plugs in.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::api::common::*;
use crate::api::instance_profiles::{profile_shape, TagsIn};
use crate::api::{permissions_boundary, policies, roles, Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::lower;
use crate::store::model::{
    Account, Group, InlinePolicies, ManagedPolicy, PrincipalKind, Role, User,
};

pub fn register(r: &mut Registry) {
    r.iam::<iam::GetAccountAuthorizationDetails, _, _>(get_account_authorization_details);
}

/// The AWS managed policy with this unique ID, from the catalogue every account shares.
fn aws_managed_policy(policy_id: &str) -> Option<Arc<ManagedPolicy>> {
    crate::store::aws_managed::catalogue()
        .get_by_id(policy_id)
        .cloned()
}

/// The AWS managed policies attached to a user, group or role of the account, in name order.
fn attached_aws_managed_policies(account: &Account) -> Vec<Arc<ManagedPolicy>> {
    let ids: BTreeSet<&str> = account
        .links
        .attachments
        .iter()
        .map(|(policy, _, _)| &**policy)
        .filter(|id| account.policies.get_by_id(id).is_none())
        .collect();
    let mut out: Vec<Arc<ManagedPolicy>> = ids.into_iter().filter_map(aws_managed_policy).collect();
    out.sort_by_cached_key(|p| (lower(&p.name), p.policy_id.clone()));
    out
}

/// One entry of the combined list.
enum Item {
    User(Arc<User>),
    Group(Arc<Group>),
    Role(Arc<Role>),
    Policy(Arc<ManagedPolicy>),
}

/// Which families `Filter` asks for (all of them when it is absent or empty).
struct Wanted(Vec<String>);

impl Wanted {
    fn has(&self, entity_type: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|f| f == entity_type)
    }
}

/// Every item the filter asks for, in the order they are paginated.
fn items(account: &Account, wanted: &Wanted) -> Vec<Item> {
    let mut out = Vec::new();
    if wanted.has("User") {
        out.extend(account.users.iter().cloned().map(Item::User));
    }
    if wanted.has("Group") {
        out.extend(account.groups.iter().cloned().map(Item::Group));
    }
    if wanted.has("Role") {
        out.extend(account.roles.iter().cloned().map(Item::Role));
    }
    if wanted.has("LocalManagedPolicy") {
        out.extend(account.policies.iter().cloned().map(Item::Policy));
    }
    if wanted.has("AWSManagedPolicy") {
        out.extend(
            attached_aws_managed_policies(account)
                .into_iter()
                .map(Item::Policy),
        );
    }
    out
}

/// Inline policies with their documents (URL-encoded, as AWS sends them).
fn inline_shapes(inline: &InlinePolicies) -> Vec<iam::PolicyDetail> {
    inline
        .iter()
        .map(|p| iam::PolicyDetail {
            policy_name: Some(p.name.clone()),
            policy_document: Some(encode_policy(&p.document)),
        })
        .collect()
}

/// The managed policies attached to a user, group or role, as ListAttachedXPolicies shows them.
fn attached_shapes(
    account: &Account,
    kind: PrincipalKind,
    id: &str,
    name: &str,
) -> Result<Vec<iam::AttachedPolicy>, ApiError> {
    let owner = PolicyOwner {
        kind,
        id: id.to_string(),
        name: name.to_string(),
    };
    let (items, _) = policies::list_attached_policies(account, &owner, None, None, Some(i32::MAX))?;
    Ok(items)
}

/// A user as AWS details it: `UserPolicyList` only when it has inline policies, `GroupList`,
/// `AttachedManagedPolicies` and `Tags` always (as recorded).
fn user_detail(account: &Account, u: &User) -> Result<iam::UserDetail, ApiError> {
    Ok(iam::UserDetail {
        path: Some(u.path.clone()),
        user_name: Some(u.name.clone()),
        user_id: Some(u.user_id.clone()),
        arn: Some(u.arn()),
        create_date: Some(ts(u.create_date)),
        user_policy_list: (!u.inline.is_empty()).then(|| inline_shapes(&u.inline)),
        group_list: Some(
            account
                .groups_of(u)
                .iter()
                .map(|g| g.name.clone())
                .collect(),
        ),
        attached_managed_policies: Some(attached_shapes(
            account,
            PrincipalKind::User,
            &u.user_id,
            &u.name,
        )?),
        permissions_boundary: u
            .permissions_boundary_arn
            .as_deref()
            .map(permissions_boundary::attached_shape),
        tags: Some(to_api_tags(&u.tags)),
    })
}

fn group_detail(account: &Account, g: &Group) -> Result<iam::GroupDetail, ApiError> {
    Ok(iam::GroupDetail {
        path: Some(g.path.clone()),
        group_name: Some(g.name.clone()),
        group_id: Some(g.group_id.clone()),
        arn: Some(g.arn()),
        create_date: Some(ts(g.create_date)),
        group_policy_list: Some(inline_shapes(&g.inline)),
        attached_managed_policies: Some(attached_shapes(
            account,
            PrincipalKind::Group,
            &g.group_id,
            &g.name,
        )?),
    })
}

/// A role as AWS details it: its instance profiles (with their roles as CreateRole shows them,
/// without tags), `RoleLastUsed` always (empty when never used), `Tags` always; no `Description`
/// or `MaxSessionDuration` (AWS's `RoleDetail` has neither).
fn role_detail(account: &Account, r: &Role) -> Result<iam::RoleDetail, ApiError> {
    let mut profiles: Vec<_> = account
        .profile_ids_of_role(&r.role_id)
        .filter_map(|id| account.instance_profiles.get_by_id(id))
        .collect();
    profiles.sort_by_cached_key(|p| lower(&p.name));
    Ok(iam::RoleDetail {
        path: Some(r.path.clone()),
        role_name: Some(r.name.clone()),
        role_id: Some(r.role_id.clone()),
        arn: Some(r.arn()),
        create_date: Some(ts(r.create_date)),
        assume_role_policy_document: Some(encode_policy(&r.assume_role_policy)),
        instance_profile_list: Some(
            profiles
                .into_iter()
                .map(|p| profile_shape(account, p, TagsIn::Never))
                .collect(),
        ),
        role_policy_list: Some(inline_shapes(&r.inline)),
        attached_managed_policies: Some(attached_shapes(
            account,
            PrincipalKind::Role,
            &r.role_id,
            &r.name,
        )?),
        permissions_boundary: r
            .permissions_boundary_arn
            .as_deref()
            .map(permissions_boundary::attached_shape),
        tags: Some(to_api_tags(&r.tags)),
        role_last_used: Some(roles::last_used_shape(r)),
    })
}

/// A managed policy with every version (newest first) and its document.
fn policy_detail(account: &Account, p: &ManagedPolicy) -> iam::ManagedPolicyDetail {
    let shape = policies::policy_shape(account, p, true, None);
    iam::ManagedPolicyDetail {
        policy_name: shape.policy_name,
        policy_id: shape.policy_id,
        arn: shape.arn,
        path: shape.path,
        default_version_id: shape.default_version_id,
        attachment_count: shape.attachment_count,
        permissions_boundary_usage_count: shape.permissions_boundary_usage_count,
        is_attachable: shape.is_attachable,
        description: shape.description,
        create_date: shape.create_date,
        update_date: shape.update_date,
        policy_version_list: Some(
            p.versions
                .iter()
                .map(|v| policies::version_shape(p, v, true))
                .collect(),
        ),
    }
}

async fn get_account_authorization_details(
    app: App,
    ctx: Ctx,
    input: iam::GetAccountAuthorizationDetailsRequest,
) -> Result<iam::GetAccountAuthorizationDetailsResponse, ApiError> {
    let model = app.store.read();
    let account = model.account(ctx.account());
    let all = items(account, &Wanted(input.filter.unwrap_or_default()));
    let (range, marker) = page_range(
        all.len(),
        decode_marker(input.marker.as_deref())?.as_deref(),
        max_items(input.max_items),
    )?;
    let (mut users, mut groups, mut roles, mut managed) = (vec![], vec![], vec![], vec![]);
    for item in &all[range] {
        match item {
            Item::User(u) => users.push(user_detail(account, u)?),
            Item::Group(g) => groups.push(group_detail(account, g)?),
            Item::Role(r) => roles.push(role_detail(account, r)?),
            Item::Policy(p) => managed.push(policy_detail(account, p)),
        }
    }
    // AWS answers the four lists even when empty or filtered out (as recorded).
    Ok(iam::GetAccountAuthorizationDetailsResponse {
        user_detail_list: Some(users),
        group_detail_list: Some(groups),
        role_detail_list: Some(roles),
        policies: Some(managed),
        is_truncated: Some(marker.is_some()),
        marker: encode_marker(marker),
    })
}

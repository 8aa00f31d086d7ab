//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, ListInstanceProfiles,
//! DeleteInstanceProfile, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile,
//! ListInstanceProfilesForRole, TagInstanceProfile, UntagInstanceProfile,
//! ListInstanceProfileTags.

use crate::api::common::*;
use crate::api::roles::{role_shape, RoleView};
use crate::api::{Ctx, Registry};
use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{Account, InstanceProfile};
use crate::store::StoreError;

/// AWS's default quota of instance profiles per account.
pub const INSTANCE_PROFILES_PER_ACCOUNT: usize = 1000;
/// AWS allows one role per instance profile.
const ROLES_PER_INSTANCE_PROFILE: usize = 1;

pub fn register(r: &mut Registry) {
    r.iam::<iam::CreateInstanceProfile, _, _>(create_instance_profile);
    r.iam::<iam::GetInstanceProfile, _, _>(get_instance_profile);
    r.iam::<iam::ListInstanceProfiles, _, _>(list_instance_profiles);
    r.iam::<iam::DeleteInstanceProfile, _, _>(delete_instance_profile);
    r.iam::<iam::AddRoleToInstanceProfile, _, _>(add_role_to_instance_profile);
    r.iam::<iam::RemoveRoleFromInstanceProfile, _, _>(remove_role_from_instance_profile);
    r.iam::<iam::ListInstanceProfilesForRole, _, _>(list_instance_profiles_for_role);
    r.iam::<iam::TagInstanceProfile, _, _>(tag_instance_profile);
    r.iam::<iam::UntagInstanceProfile, _, _>(untag_instance_profile);
    r.iam::<iam::ListInstanceProfileTags, _, _>(list_instance_profile_tags);
}

/// Which tags an answer carries: GetInstanceProfile always has `Tags` (empty too), CreateInstanceProfile
/// only when there are some, listings never (as recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagsIn {
    Always,
    NonEmpty,
    Never,
}

/// The API shape of an instance profile, with its roles as AWS shows them there.
pub fn profile_shape(account: &Account, p: &InstanceProfile, tags: TagsIn) -> iam::InstanceProfile {
    iam::InstanceProfile {
        path: p.path.clone(),
        instance_profile_name: p.name.clone(),
        instance_profile_id: p.instance_profile_id.clone(),
        arn: p.arn(),
        create_date: ts(p.create_date),
        roles: p
            .roles
            .iter()
            .filter_map(|id| account.roles.get_by_id(id))
            .map(|r| role_shape(r, RoleView::InProfile))
            .collect(),
        tags: match tags {
            TagsIn::Always => Some(to_api_tags(&p.tags)),
            TagsIn::NonEmpty => nonempty_tags(&p.tags),
            TagsIn::Never => None,
        },
    }
}

async fn create_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::CreateInstanceProfileRequest,
) -> Result<iam::CreateInstanceProfileResponse, ApiError> {
    let tags = input.tags.unwrap_or_default();
    check_tags(&tags)?;
    let account = ctx.account().to_string();
    let mut profile = InstanceProfile::new(
        &account,
        &input.instance_profile_name,
        &path_or_root(input.path.as_deref()),
    );
    profile.tags = to_store_tags(&tags);
    let (profile, shape_account) = app
        .store
        .write(move |tx| {
            let exists = || {
                ApiError::already_exists(format!(
                    "Instance Profile {} already exists.",
                    profile.name
                ))
            };
            let acct = tx.account(&account);
            if acct.instance_profiles.get(&profile.name).is_some() {
                return Err(exists());
            }
            if acct.instance_profiles.len() >= INSTANCE_PROFILES_PER_ACCOUNT {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for InstanceProfilesPerAccount: {INSTANCE_PROFILES_PER_ACCOUNT}"
                )));
            }
            let p = tx.insert(profile.clone()).map_err(|e| match e {
                StoreError::UniqueViolation(_) => exists(),
                other => other.into(),
            })?;
            Ok((p, account))
        })
        .await?;
    let model = app.store.read();
    Ok(iam::CreateInstanceProfileResponse {
        instance_profile: profile_shape(model.account(&shape_account), &profile, TagsIn::NonEmpty),
    })
}

async fn get_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::GetInstanceProfileRequest,
) -> Result<iam::GetInstanceProfileResponse, ApiError> {
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let p = require_instance_profile(acct, &input.instance_profile_name)?;
    Ok(iam::GetInstanceProfileResponse {
        instance_profile: profile_shape(acct, &p, TagsIn::Always),
    })
}

async fn list_instance_profiles(
    app: App,
    ctx: Ctx,
    input: iam::ListInstanceProfilesRequest,
) -> Result<iam::ListInstanceProfilesResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let page = acct.instance_profiles.list(
        input.path_prefix.as_deref(),
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListInstanceProfilesResponse {
        instance_profiles: page
            .items
            .iter()
            .map(|p| profile_shape(acct, p, TagsIn::Never))
            .collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn delete_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::DeleteInstanceProfileRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let p = require_instance_profile(tx.account(&account), &input.instance_profile_name)?;
            if !p.roles.is_empty() {
                return Err(ApiError::delete_conflict(
                    "Cannot delete entity, must remove roles from instance profile first.",
                ));
            }
            tx.remove::<InstanceProfile>(&account, &p.instance_profile_id)?;
            Ok(())
        })
        .await
}

async fn add_role_to_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::AddRoleToInstanceProfileRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let p = require_instance_profile(acct, &input.instance_profile_name)?;
            let role = require_role(acct, &input.role_name)?;
            if p.roles.contains(&role.role_id) {
                // AWS counts the role already there against the quota of one.
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_INSTANCE_PROFILE}"
                )));
            }
            if p.roles.len() >= ROLES_PER_INSTANCE_PROFILE {
                return Err(ApiError::limit_exceeded(format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_INSTANCE_PROFILE}"
                )));
            }
            tx.update(&account, &p.instance_profile_id, |p: &mut InstanceProfile| {
                p.roles.push(role.role_id.clone())
            })?;
            Ok(())
        })
        .await
}

async fn remove_role_from_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::RemoveRoleFromInstanceProfileRequest,
) -> Result<(), ApiError> {
    let account = ctx.account().to_string();
    app.store
        .write(move |tx| {
            let acct = tx.account(&account);
            let p = require_instance_profile(acct, &input.instance_profile_name)?;
            let role = require_role(acct, &input.role_name)?;
            if !p.roles.contains(&role.role_id) {
                return Err(ApiError::no_such_entity(format!(
                    "Role {} in Instance Profile {} cannot be found.",
                    role.name, p.name
                )));
            }
            tx.update(
                &account,
                &p.instance_profile_id,
                |p: &mut InstanceProfile| p.roles.retain(|r| *r != role.role_id),
            )?;
            Ok(())
        })
        .await
}

async fn list_instance_profiles_for_role(
    app: App,
    ctx: Ctx,
    input: iam::ListInstanceProfilesForRoleRequest,
) -> Result<iam::ListInstanceProfilesForRoleResponse, ApiError> {
    let marker = decode_marker(input.marker.as_deref())?;
    let model = app.store.read();
    let acct = model.account(ctx.account());
    let role = require_role(acct, &input.role_name)?;
    let profiles = acct
        .profile_ids_of_role(&role.role_id)
        .filter_map(|id| acct.instance_profiles.get_by_id(id).cloned())
        .collect();
    let page = page_by_name(
        profiles,
        |p: &InstanceProfile| &p.name,
        marker.as_deref(),
        max_items(input.max_items),
    );
    Ok(iam::ListInstanceProfilesForRoleResponse {
        instance_profiles: page
            .items
            .iter()
            .map(|p| profile_shape(acct, p, TagsIn::Never))
            .collect(),
        is_truncated: Some(page.is_truncated()),
        marker: encode_marker(page.marker),
    })
}

async fn tag_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::TagInstanceProfileRequest,
) -> Result<(), ApiError> {
    let name = input.instance_profile_name;
    tag_entity(&app, ctx.account(), &input.tags, move |a| {
        require_instance_profile(a, &name)
    })
    .await
}

async fn untag_instance_profile(
    app: App,
    ctx: Ctx,
    input: iam::UntagInstanceProfileRequest,
) -> Result<(), ApiError> {
    let name = input.instance_profile_name;
    untag_entity(&app, ctx.account(), input.tag_keys, move |a| {
        require_instance_profile(a, &name)
    })
    .await
}

async fn list_instance_profile_tags(
    app: App,
    ctx: Ctx,
    input: iam::ListInstanceProfileTagsRequest,
) -> Result<iam::ListInstanceProfileTagsResponse, ApiError> {
    let model = app.store.read();
    let p = require_instance_profile(model.account(ctx.account()), &input.instance_profile_name)?;
    let (tags, marker) = tags_page(&p.tags, input.marker.as_deref(), input.max_items)?;
    Ok(iam::ListInstanceProfileTagsResponse {
        is_truncated: Some(marker.is_some()),
        marker,
        tags,
    })
}

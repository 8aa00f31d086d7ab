//! Helpers shared by the operation handlers: store access, conversions, paging, tags.

use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::model::{
    merge_tags, new_tag_keys, remove_tags, Account, Group, InstanceProfile, PrincipalKind, Role,
    Tag, Tagged, User,
};
use crate::store::{lower, Page, StoreError};

/// AWS's default page size (`MaxItems` absent).
pub const DEFAULT_MAX_ITEMS: i64 = 100;

impl From<StoreError> for ApiError {
    /// Store failures that the handler did not map to an AWS error: the database could not be
    /// written (the call failed and left nothing behind), or a fault of localiam.
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::internal(
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

/// Unix seconds (the store's timestamps) as a timestamp.
pub fn ts(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `MaxItems`, defaulted.
pub fn max_items(v: Option<i32>) -> i64 {
    v.map_or(DEFAULT_MAX_ITEMS, i64::from)
}

/// `Path`, defaulted to `/`.
pub fn path_or_root(p: Option<&str>) -> String {
    p.unwrap_or("/").to_string()
}

pub fn no_such_user(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("The user with name {name} cannot be found."))
}

pub fn no_such_group(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("The group with name {name} cannot be found."))
}

/// The user of that name in the account, or AWS's `NoSuchEntity`.
pub fn require_user(account: &Account, name: &str) -> Result<Arc<User>, ApiError> {
    account
        .users
        .get(name)
        .cloned()
        .ok_or_else(|| no_such_user(name))
}

/// The group of that name in the account, or AWS's `NoSuchEntity`.
pub fn require_group(account: &Account, name: &str) -> Result<Arc<Group>, ApiError> {
    account
        .groups
        .get(name)
        .cloned()
        .ok_or_else(|| no_such_group(name))
}

pub fn no_such_role(name: &str) -> ApiError {
    ApiError::no_such_entity(format!("The role with name {name} cannot be found."))
}

/// The role of that name in the account, or AWS's `NoSuchEntity`.
pub fn require_role(account: &Account, name: &str) -> Result<Arc<Role>, ApiError> {
    account
        .roles
        .get(name)
        .cloned()
        .ok_or_else(|| no_such_role(name))
}

/// The instance profile of that name in the account, or AWS's `NoSuchEntity`.
pub fn require_instance_profile(
    account: &Account,
    name: &str,
) -> Result<Arc<InstanceProfile>, ApiError> {
    account.instance_profiles.get(name).cloned().ok_or_else(|| {
        ApiError::no_such_entity(format!("Instance Profile {name} cannot be found."))
    })
}

/// A user, group or role that policies (inline or managed) belong to, looked up by name.
#[derive(Debug, Clone)]
pub struct PolicyOwner {
    pub kind: PrincipalKind,
    /// Its unique ID (`AIDA…`, `AGPA…`, `AROA…`).
    pub id: String,
    /// Its name as stored, for responses and AWS's messages.
    pub name: String,
}

/// The `kind` entity called `name` in the account, or AWS's `NoSuchEntity`.
pub fn require_owner(
    account: &Account,
    kind: PrincipalKind,
    name: &str,
) -> Result<PolicyOwner, ApiError> {
    let held = account
        .held_by_name(kind, name)
        .ok_or_else(|| no_such_owner(kind, name))?;
    Ok(PolicyOwner {
        kind,
        id: held.id.to_string(),
        name: held.name.to_string(),
    })
}

/// Like [`require_owner`], for calls that change the owner's policies: a service-linked role is
/// only modifiable by AWS (`UnmodifiableEntity`).
pub fn require_modifiable_owner(
    account: &Account,
    kind: PrincipalKind,
    name: &str,
) -> Result<PolicyOwner, ApiError> {
    let owner = require_owner(account, kind, name)?;
    if kind == PrincipalKind::Role
        && account
            .roles
            .get_by_id(&owner.id)
            .is_some_and(|r| r.is_service_linked())
    {
        return Err(crate::api::roles::protected_role(&owner.name));
    }
    Ok(owner)
}

/// AWS's `NoSuchEntity` for a user, group or role that does not exist.
pub fn no_such_owner(kind: PrincipalKind, name: &str) -> ApiError {
    match kind {
        PrincipalKind::User => no_such_user(name),
        PrincipalKind::Group => no_such_group(name),
        PrincipalKind::Role => no_such_role(name),
    }
}

/// The most tags an entity may carry.
pub const MAX_TAGS: usize = 50;

/// AWS's checks on a request's tags: no key twice (case-insensitively).
pub fn check_tags(tags: &[iam::Tag]) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for t in tags {
        if !seen.insert(t.key.to_lowercase()) {
            return Err(ApiError::invalid_input(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}

pub fn tags_limit_exceeded() -> ApiError {
    ApiError::limit_exceeded("The number of tags has reached the maximum limit.")
}

/// Request tags as store tags.
pub fn to_store_tags(tags: &[iam::Tag]) -> Vec<Tag> {
    tags.iter().map(|t| Tag::new(&t.key, &t.value)).collect()
}

/// Store tags as response tags.
pub fn to_api_tags(tags: &[Tag]) -> Vec<iam::Tag> {
    tags.iter()
        .map(|t| iam::Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

/// `Some(tags)` when there are any: AWS omits an empty `Tags` element on entities.
pub fn nonempty_tags(tags: &[Tag]) -> Option<Vec<iam::Tag>> {
    (!tags.is_empty()).then(|| to_api_tags(tags))
}

/// TagX for any tagged family: adds or replaces the tags of the entity `find` resolves, within
/// the 50-tag quota.
pub async fn tag_entity<E: Tagged>(
    app: &App,
    account: &str,
    tags: &[iam::Tag],
    find: impl FnOnce(&Account) -> Result<Arc<E>, ApiError> + Send + 'static,
) -> Result<(), ApiError> {
    check_tags(tags)?;
    let tags = to_store_tags(tags);
    let account = account.to_string();
    app.store
        .write(move |tx| {
            let e = find(tx.account(&account))?;
            if e.tags().len() + new_tag_keys(e.tags(), &tags, E::TAG_KEYS) > MAX_TAGS {
                return Err(tags_limit_exceeded());
            }
            tx.update(&account, e.id(), |e: &mut E| {
                merge_tags(e.tags_mut(), &tags, E::TAG_KEYS)
            })?;
            Ok(())
        })
        .await
}

/// UntagX for any tagged family: keys it does not have are ignored, as AWS does.
pub async fn untag_entity<E: Tagged>(
    app: &App,
    account: &str,
    keys: Vec<String>,
    find: impl FnOnce(&Account) -> Result<Arc<E>, ApiError> + Send + 'static,
) -> Result<(), ApiError> {
    let account = account.to_string();
    app.store
        .write(move |tx| {
            let e = find(tx.account(&account))?;
            tx.update(&account, e.id(), |e: &mut E| {
                remove_tags(e.tags_mut(), &keys, E::TAG_KEYS)
            })?;
            Ok(())
        })
        .await
}

/// ListXTags: one page of an entity's tags, in the order they were added.
pub fn tags_page(
    tags: &[Tag],
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<(Vec<iam::Tag>, Option<String>), ApiError> {
    paginate(to_api_tags(tags), marker, max_items(max))
}

/// What AWS leaves unescaped when it URL-encodes policy documents in responses.
const POLICY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*');

/// A policy document as AWS returns it: URL-encoded.
pub fn encode_policy(doc: &str) -> String {
    utf8_percent_encode(doc, POLICY_ENCODE).to_string()
}

/// What every marker localiam hands out starts with (before encoding), so that a marker it did not
/// issue is recognised and answered as AWS does (`ValidationError`, "Invalid Marker.").
const MARKER_TAG: &str = "localiam-marker:";

/// The `Marker` handed to clients for a store page's continuation key: opaque, as on AWS.
pub fn encode_marker(store_marker: Option<String>) -> Option<String> {
    use base64::Engine as _;
    store_marker.map(|m| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{MARKER_TAG}{m}"))
    })
}

/// The store's continuation key of a client's `Marker`; "Invalid Marker." when localiam did not issue it.
pub fn decode_marker(marker: Option<&str>) -> Result<Option<String>, ApiError> {
    use base64::Engine as _;
    let Some(m) = marker else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(m)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.strip_prefix(MARKER_TAG).map(str::to_string))
        .map(Some)
        .ok_or_else(|| ApiError::validation("Invalid Marker."))
}

/// One page of a list ordered by lowercased name, after `marker`.
pub fn page_by_name<T>(
    items: Vec<Arc<T>>,
    name: impl Fn(&T) -> &str,
    marker: Option<&str>,
    max_items: i64,
) -> Page<Arc<T>> {
    Page::take(
        items
            .into_iter()
            .filter(|i| marker.is_none_or(|m| lower(name(i)).as_str() > m)),
        max_items,
        |i| lower(name(i)),
    )
}

/// One page of an in-memory list; the marker is the offset of the next item.
pub fn paginate<T>(
    all: Vec<T>,
    marker: Option<&str>,
    max_items: i64,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let (range, marker) = page_range(all.len(), marker, max_items)?;
    let items = all
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .collect();
    Ok((items, marker))
}

/// The positions of one page of a list of `total` items, and the marker of the next page, for lists
/// whose items are computed on demand. The marker is the offset of the next page's first item in
/// the same opaque codec as every other list's ([`encode_marker`]): a number localiam did not hand
/// out is "Invalid Marker.", as on AWS.
pub fn page_range(
    total: usize,
    marker: Option<&str>,
    max_items: i64,
) -> Result<(std::ops::Range<usize>, Option<String>), ApiError> {
    let start = match decode_marker(marker)? {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= total)
            .ok_or_else(|| ApiError::validation("Invalid Marker."))?,
    };
    let max = usize::try_from(max_items.max(1)).unwrap_or(usize::MAX);
    let end = start.saturating_add(max).min(total);
    let marker = encode_marker((end < total).then(|| end.to_string()));
    Ok((start..end, marker))
}

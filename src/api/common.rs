//! Helpers shared by the operation handlers: store access, conversions, paging, tags.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sqlx::pool::PoolConnection;
use sqlx::Sqlite;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::protocol::iam;
use crate::state::App;
use crate::store::inline_policies::PrincipalKind;
use crate::store::users::UserRow;
use crate::store::{StoreError, WriteTx};

/// AWS's default page size (`MaxItems` absent).
pub const DEFAULT_MAX_ITEMS: i64 = 100;

impl From<StoreError> for ApiError {
    /// Store failures that the handler did not map to an AWS error are faults of localiam.
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::internal("An internal error occurred.")
    }
}

impl From<sqlx::Error> for ApiError {
    /// A failed commit or query is a store failure (see `From<StoreError>`).
    fn from(e: sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

/// Starts the write transaction of one API call.
pub async fn begin(app: &App) -> Result<WriteTx, ApiError> {
    Ok(app.store.begin_write().await?)
}

/// A connection for read-only calls.
pub async fn read(app: &App) -> Result<PoolConnection<Sqlite>, ApiError> {
    app.store.reader().acquire().await.map_err(|e| {
        tracing::error!(error = %e, "no reader connection");
        ApiError::internal("An internal error occurred.")
    })
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

/// The user of that name in the caller's account, or AWS's `NoSuchEntity`.
pub async fn require_user(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    name: &str,
) -> Result<UserRow, ApiError> {
    crate::store::users::get_by_name(conn, account, name)
        .await?
        .ok_or_else(|| no_such_user(name))
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

/// The `kind` entity called `name` in the caller's account, or AWS's `NoSuchEntity`.
pub async fn require_owner(
    conn: &mut sqlx::SqliteConnection,
    account: &str,
    kind: PrincipalKind,
    name: &str,
) -> Result<PolicyOwner, ApiError> {
    let (id, name) = match kind {
        PrincipalKind::User => {
            let user = require_user(conn, account, name).await?;
            (user.user_id, user.name)
        }
        PrincipalKind::Group => {
            let group = crate::api::groups::require_group(conn, account, name).await?;
            (group.group_id, group.name)
        }
        // Roles are not stored yet: none exists.
        PrincipalKind::Role => {
            return Err(ApiError::no_such_entity(format!(
                "The role with name {name} cannot be found."
            )))
        }
    };
    Ok(PolicyOwner { kind, id, name })
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
pub fn to_store_tags(tags: &[iam::Tag]) -> Vec<crate::store::tags::Tag> {
    tags.iter()
        .map(|t| crate::store::tags::Tag::new(&t.key, &t.value))
        .collect()
}

/// Store tags as response tags.
pub fn to_api_tags(tags: Vec<crate::store::tags::Tag>) -> Vec<iam::Tag> {
    tags.into_iter()
        .map(|t| iam::Tag {
            key: t.key,
            value: t.value,
        })
        .collect()
}

/// `Some(tags)` when there are any: AWS omits an empty `Tags` element on entities.
pub fn nonempty_tags(tags: Vec<crate::store::tags::Tag>) -> Option<Vec<iam::Tag>> {
    (!tags.is_empty()).then(|| to_api_tags(tags))
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

/// The positions of one page of a list of `total` items, and the marker of the next page (the offset of its
/// first item), for lists whose items are computed on demand.
pub fn page_range(
    total: usize,
    marker: Option<&str>,
    max_items: i64,
) -> Result<(std::ops::Range<usize>, Option<String>), ApiError> {
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= total)
            .ok_or_else(|| ApiError::validation("Invalid Marker."))?,
    };
    let max = usize::try_from(max_items.max(1)).unwrap_or(usize::MAX);
    let end = start.saturating_add(max).min(total);
    let marker = (end < total).then(|| end.to_string());
    Ok((start..end, marker))
}

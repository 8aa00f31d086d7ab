//! The whole IAM state of the default account as the API shows it — users with their path, tags,
//! groups, attached policies and access keys; groups with their members; customer managed
//! policies with their default document and what they are attached to — read through every
//! listing page, with the checks that two views of one fact agree (a membership in GetGroup and
//! in ListGroupsForUser, an attachment in ListAttachedUserPolicies and in ListEntitiesForPolicy
//! and its AttachmentCount, tags in GetUser and in ListUserTags, IDs in listings and in Get*).
//! Used by the crash, concurrency and unwritable-database tests to compare the state with what
//! was acknowledged.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::PolicyScopeType;
use aws_sdk_iam::Client;
use tokio::task::JoinSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserState {
    pub id: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
    /// Group names (ListGroupsForUser).
    pub groups: BTreeSet<String>,
    /// ARNs of the attached managed policies (ListAttachedUserPolicies).
    pub policies: BTreeSet<String>,
    /// Access key ID -> status (`Active` / `Inactive`).
    pub keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    pub id: String,
    pub path: String,
    /// User names (GetGroup).
    pub members: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyState {
    pub id: String,
    pub arn: String,
    pub default_version: String,
    /// The default version's document, URL-decoded.
    pub document: String,
    /// User names (ListEntitiesForPolicy).
    pub users: BTreeSet<String>,
    /// Group names (ListEntitiesForPolicy).
    pub groups: BTreeSet<String>,
}

/// Users, groups and customer managed policies by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IamState {
    pub users: BTreeMap<String, UserState>,
    pub groups: BTreeMap<String, GroupState>,
    pub policies: BTreeMap<String, PolicyState>,
}

impl IamState {
    /// The users, groups and policies whose names start with `prefix`.
    pub fn restrict(&self, prefix: &str) -> IamState {
        IamState {
            users: self
                .users
                .iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .map(|(n, u)| (n.clone(), u.clone()))
                .collect(),
            groups: self
                .groups
                .iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .map(|(n, g)| (n.clone(), g.clone()))
                .collect(),
            policies: self
                .policies
                .iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .map(|(n, p)| (n.clone(), p.clone()))
                .collect(),
        }
    }

    /// Numbers of users, groups and policies.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.users.len(), self.groups.len(), self.policies.len())
    }
}

/// The entities that differ between two states, one per line, for failure messages.
pub fn diff(expected: &IamState, observed: &IamState) -> String {
    fn section<T: PartialEq + Debug>(
        out: &mut Vec<String>,
        kind: &str,
        e: &BTreeMap<String, T>,
        o: &BTreeMap<String, T>,
    ) {
        let names: BTreeSet<&String> = e.keys().chain(o.keys()).collect();
        for n in names {
            match (e.get(n), o.get(n)) {
                (Some(a), Some(b)) if a == b => {}
                (a, b) => out.push(format!(
                    "{kind} {n}:\n      expected {a:?}\n      observed {b:?}"
                )),
            }
        }
    }
    let mut out = Vec::new();
    section(&mut out, "user", &expected.users, &observed.users);
    section(&mut out, "group", &expected.groups, &observed.groups);
    section(&mut out, "policy", &expected.policies, &observed.policies);
    out.join("\n    ")
}

/// Asserts two states are equal, showing only what differs.
#[track_caller]
pub fn assert_state_eq(observed: &IamState, expected: &IamState, context: &str) {
    if observed != expected {
        panic!(
            "{context}: the state differs from the expected one:\n    {}",
            diff(expected, observed)
        );
    }
}

/// `CODE (STATUS): MESSAGE` for an error response, the whole error otherwise.
pub fn describe<E: ProvideErrorMetadata + Debug>(e: &SdkError<E>) -> String {
    match e {
        SdkError::ServiceError(_) => format!(
            "{} ({}): {}",
            e.code().unwrap_or("?"),
            e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0),
            e.message().unwrap_or("")
        ),
        other => format!("no answer: {other:?}"),
    }
}

fn failed<E: ProvideErrorMetadata + Debug>(what: String) -> impl FnOnce(SdkError<E>) -> String {
    move |e| format!("{what} failed: {}", describe(&e))
}

/// Reads the whole state of the default account (every page of every listing), checking that the
/// views agree. `Err` lists every disagreement, or the call that failed.
pub async fn observe(iam: &Client) -> Result<IamState, String> {
    let mut state = IamState::default();
    let mut problems = Vec::new();

    // Users: the listing, then each user's details, concurrently.
    let pages = iam
        .list_users()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed("ListUsers".into()))?;
    let mut tasks = JoinSet::new();
    let mut listed_users = BTreeSet::new();
    for u in pages.iter().flat_map(|p| p.users()) {
        if !listed_users.insert(u.user_name().to_string()) {
            problems.push(format!("ListUsers shows {} twice", u.user_name()));
        }
        let (iam, name) = (iam.clone(), u.user_name().to_string());
        let (id, path) = (u.user_id().to_string(), u.path().to_string());
        tasks.spawn(async move {
            let r = user_details(&iam, &name).await;
            (name, id, path, r)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (name, listed_id, listed_path, r) = joined.expect("user task");
        let (user, mut found) = r?;
        problems.append(&mut found);
        if user.id != listed_id || user.path != listed_path {
            problems.push(format!(
                "user {name}: ListUsers says id {listed_id} path {listed_path}, GetUser says id {} path {}",
                user.id, user.path
            ));
        }
        state.users.insert(name, user);
    }

    // Groups.
    let pages = iam
        .list_groups()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed("ListGroups".into()))?;
    let mut tasks = JoinSet::new();
    for g in pages.iter().flat_map(|p| p.groups()) {
        let (iam, name) = (iam.clone(), g.group_name().to_string());
        let (id, path) = (g.group_id().to_string(), g.path().to_string());
        tasks.spawn(async move {
            let r = group_details(&iam, &name).await;
            (name, id, path, r)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (name, listed_id, listed_path, r) = joined.expect("group task");
        let group = r?;
        if group.id != listed_id || group.path != listed_path {
            problems.push(format!(
                "group {name}: ListGroups says id {listed_id} path {listed_path}, GetGroup says id {} path {}",
                group.id, group.path
            ));
        }
        if state.groups.insert(name.clone(), group).is_some() {
            problems.push(format!("ListGroups shows {name} twice"));
        }
    }

    // Customer managed policies.
    let pages = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed("ListPolicies".into()))?;
    let mut tasks = JoinSet::new();
    for p in pages.iter().flat_map(|p| p.policies()) {
        let iam = iam.clone();
        let name = p.policy_name().unwrap_or_default().to_string();
        let arn = p.arn().unwrap_or_default().to_string();
        let listed = (
            p.policy_id().unwrap_or_default().to_string(),
            p.attachment_count().unwrap_or(-1),
        );
        tasks.spawn(async move {
            let r = policy_details(&iam, &arn).await;
            (name, listed, r)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (name, (listed_id, listed_count), r) = joined.expect("policy task");
        let (policy, count) = r?;
        if policy.id != listed_id {
            problems.push(format!(
                "policy {name}: ListPolicies says id {listed_id}, GetPolicy says {}",
                policy.id
            ));
        }
        let entities = (policy.users.len() + policy.groups.len()) as i32;
        if count != entities || listed_count != entities {
            problems.push(format!(
                "policy {name}: AttachmentCount {count} (GetPolicy) / {listed_count} (ListPolicies), \
                 but ListEntitiesForPolicy shows {entities}: users {:?} groups {:?}",
                policy.users, policy.groups
            ));
        }
        if state.policies.insert(name.clone(), policy).is_some() {
            problems.push(format!("ListPolicies shows {name} twice"));
        }
    }

    // Both sides of every membership and attachment.
    for (uname, u) in &state.users {
        for g in &u.groups {
            match state.groups.get(g) {
                Some(group) if group.members.contains(uname) => {}
                Some(_) => problems.push(format!(
                    "ListGroupsForUser({uname}) shows {g}, but GetGroup({g}) does not show {uname}"
                )),
                None => problems.push(format!(
                    "ListGroupsForUser({uname}) shows {g}, which ListGroups does not show"
                )),
            }
        }
        for arn in &u.policies {
            let Some(p) = state.policies.values().find(|p| &p.arn == arn) else {
                if !arn.contains(":aws:policy/") {
                    problems.push(format!(
                        "ListAttachedUserPolicies({uname}) shows {arn}, which ListPolicies does not show"
                    ));
                }
                continue;
            };
            if !p.users.contains(uname) {
                problems.push(format!(
                    "ListAttachedUserPolicies({uname}) shows {arn}, but ListEntitiesForPolicy does not show {uname}"
                ));
            }
        }
    }
    for (gname, g) in &state.groups {
        for m in &g.members {
            match state.users.get(m) {
                Some(u) if u.groups.contains(gname) => {}
                Some(_) => problems.push(format!(
                    "GetGroup({gname}) shows {m}, but ListGroupsForUser({m}) does not show {gname}"
                )),
                None => problems.push(format!(
                    "GetGroup({gname}) shows {m}, which ListUsers does not show"
                )),
            }
        }
    }
    for (pname, p) in &state.policies {
        for m in &p.users {
            match state.users.get(m) {
                Some(u) if u.policies.contains(&p.arn) => {}
                Some(_) => problems.push(format!(
                    "ListEntitiesForPolicy({pname}) shows {m}, but ListAttachedUserPolicies({m}) does not"
                )),
                None => problems.push(format!(
                    "ListEntitiesForPolicy({pname}) shows user {m}, which ListUsers does not show"
                )),
            }
        }
        for g in &p.groups {
            if !state.groups.contains_key(g) {
                problems.push(format!(
                    "ListEntitiesForPolicy({pname}) shows group {g}, which ListGroups does not show"
                ));
            }
        }
    }

    if problems.is_empty() {
        Ok(state)
    } else {
        Err(format!(
            "the views of the state disagree:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// A user's details and the disagreements found between its views.
async fn user_details(iam: &Client, name: &str) -> Result<(UserState, Vec<String>), String> {
    let mut problems = Vec::new();
    let got = iam
        .get_user()
        .user_name(name)
        .send()
        .await
        .map_err(failed(format!("GetUser {name}")))?;
    let Some(u) = got.user() else {
        return Err(format!("GetUser {name}: no user in the answer"));
    };
    if u.user_name() != name {
        problems.push(format!("GetUser({name}) answers user {}", u.user_name()));
    }
    let get_user_tags: BTreeMap<String, String> = u
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    let mut user = UserState {
        id: u.user_id().to_string(),
        path: u.path().to_string(),
        ..UserState::default()
    };
    let tag_pages = iam
        .list_user_tags()
        .user_name(name)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed(format!("ListUserTags {name}")))?;
    for t in tag_pages.iter().flat_map(|p| p.tags()) {
        if user
            .tags
            .insert(t.key().to_string(), t.value().to_string())
            .is_some()
        {
            problems.push(format!("ListUserTags({name}) shows tag {} twice", t.key()));
        }
    }
    if user.tags != get_user_tags {
        problems.push(format!(
            "user {name}: GetUser tags {get_user_tags:?} but ListUserTags {:?}",
            user.tags
        ));
    }
    let group_pages = iam
        .list_groups_for_user()
        .user_name(name)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed(format!("ListGroupsForUser {name}")))?;
    for g in group_pages.iter().flat_map(|p| p.groups()) {
        if !user.groups.insert(g.group_name().to_string()) {
            problems.push(format!(
                "ListGroupsForUser({name}) shows {} twice",
                g.group_name()
            ));
        }
    }
    let policy_pages = iam
        .list_attached_user_policies()
        .user_name(name)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed(format!("ListAttachedUserPolicies {name}")))?;
    for p in policy_pages.iter().flat_map(|p| p.attached_policies()) {
        let arn = p.policy_arn().unwrap_or_default().to_string();
        if !user.policies.insert(arn.clone()) {
            problems.push(format!(
                "ListAttachedUserPolicies({name}) shows {arn} twice"
            ));
        }
    }
    let key_pages = iam
        .list_access_keys()
        .user_name(name)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed(format!("ListAccessKeys {name}")))?;
    for k in key_pages.iter().flat_map(|p| p.access_key_metadata()) {
        let id = k.access_key_id().unwrap_or_default().to_string();
        let status = k.status().map(|s| s.as_str()).unwrap_or("?").to_string();
        if k.user_name() != Some(name) {
            problems.push(format!(
                "ListAccessKeys({name}) shows key {id} of user {:?}",
                k.user_name()
            ));
        }
        if user.keys.insert(id.clone(), status).is_some() {
            problems.push(format!("ListAccessKeys({name}) shows {id} twice"));
        }
    }
    Ok((user, problems))
}

async fn group_details(iam: &Client, name: &str) -> Result<GroupState, String> {
    let pages = iam
        .get_group()
        .group_name(name)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed(format!("GetGroup {name}")))?;
    let Some(g) = pages.first().and_then(|p| p.group()) else {
        return Err(format!("GetGroup {name}: no group in the answer"));
    };
    let mut group = GroupState {
        id: g.group_id().to_string(),
        path: g.path().to_string(),
        members: BTreeSet::new(),
    };
    for u in pages.iter().flat_map(|p| p.users()) {
        if !group.members.insert(u.user_name().to_string()) {
            return Err(format!("GetGroup({name}) shows {} twice", u.user_name()));
        }
    }
    Ok(group)
}

/// A policy's state and its AttachmentCount (GetPolicy).
async fn policy_details(iam: &Client, arn: &str) -> Result<(PolicyState, i32), String> {
    let got = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(failed(format!("GetPolicy {arn}")))?;
    let Some(p) = got.policy() else {
        return Err(format!("GetPolicy {arn}: no policy in the answer"));
    };
    let default_version = p.default_version_id().unwrap_or_default().to_string();
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&default_version)
        .send()
        .await
        .map_err(failed(format!("GetPolicyVersion {arn} {default_version}")))?;
    let encoded = version
        .policy_version()
        .and_then(|v| v.document())
        .unwrap_or_default();
    let document = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|e| format!("GetPolicyVersion {arn}: document not UTF-8: {e}"))?
        .into_owned();
    let mut policy = PolicyState {
        id: p.policy_id().unwrap_or_default().to_string(),
        arn: arn.to_string(),
        default_version,
        document,
        ..PolicyState::default()
    };
    let pages = iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(failed(format!("ListEntitiesForPolicy {arn}")))?;
    for page in &pages {
        for u in page.policy_users() {
            let n = u.user_name().unwrap_or_default().to_string();
            if !policy.users.insert(n.clone()) {
                return Err(format!("ListEntitiesForPolicy({arn}) shows user {n} twice"));
            }
        }
        for g in page.policy_groups() {
            let n = g.group_name().unwrap_or_default().to_string();
            if !policy.groups.insert(n.clone()) {
                return Err(format!(
                    "ListEntitiesForPolicy({arn}) shows group {n} twice"
                ));
            }
        }
    }
    Ok((policy, p.attachment_count().unwrap_or(-1)))
}

//! Crash safety of a file database (design notes §6): the real binary is SIGKILLed at random
//! moments while eight clients write and two list, then restarted on the same file, again and again. After
//! every restart:
//!
//! * every write that got a success response is there (a created user with its tags, a membership
//!   on both sides, an attachment on both sides, a rename under the new name, a deletion gone);
//! * a call that was in flight at the kill happened completely or not at all (a user with all
//!   its tags or none, an attachment that ListAttachedUserPolicies and ListEntitiesForPolicy agree
//!   on, a rename that left exactly one of the two names);
//! * what two concurrent readers saw listed before the kill is still there, unless an acknowledged
//!   call or the call in flight removed it (nothing may be visible before it is committed);
//! * nothing else exists.
//!
//! The expected state is carried from cycle to cycle, so every restart also re-checks what earlier
//! cycles acknowledged. At the end `PRAGMA integrity_check` of the file must say `ok`.
//!
//! Each writer owns its names (`w3-u17`, `w3-g4`, `w3-p2`), so its acknowledged calls and the one
//! call it had in flight determine its part of the state exactly. The writers' choices come from
//! a seed printed at the start (`LOCALIAM_CRASH_SEED=… cargo test --test suite crash::` repeats them; the
//! kill moments depend on timing as well).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use common::iam_state::*;
use common::*;

/// Concurrent writers.
const WRITERS: usize = 8;
/// Clients listing everything while the writers write.
const READERS: usize = 2;
/// Kill-and-restart cycles.
const CYCLES: usize = 40;
/// At most this many users, groups and policies per writer, so that checking stays quick.
const MAX_USERS: usize = 6;
const MAX_GROUPS: usize = 3;
const MAX_POLICIES: usize = 3;
/// Tag keys a writer uses (lower case: keys compare case-insensitively).
const TAG_KEYS: &[&str] = &["team", "tier", "cost", "owner", "env", "zone"];
/// Stands for an ID the server chose for a create call that got no answer.
const UNKNOWN: &str = "?";

#[derive(Debug, Clone)]
enum Op {
    CreateUser {
        name: String,
        tags: Vec<(String, String)>,
    },
    CreateGroup {
        name: String,
    },
    AddUserToGroup {
        user: String,
        group: String,
    },
    RemoveUserFromGroup {
        user: String,
        group: String,
    },
    CreatePolicy {
        name: String,
        document: String,
    },
    AttachUserPolicy {
        user: String,
        policy: String,
    },
    DetachUserPolicy {
        user: String,
        policy: String,
    },
    RenameUser {
        from: String,
        to: String,
    },
    TagUser {
        user: String,
        tags: Vec<(String, String)>,
    },
    DeleteUser {
        name: String,
    },
    DeleteGroup {
        name: String,
    },
    DeletePolicy {
        name: String,
    },
    CreateAccessKey {
        user: String,
    },
    DeleteAccessKey {
        user: String,
        key: String,
    },
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::CreateUser { .. } => "CreateUser",
            Op::CreateGroup { .. } => "CreateGroup",
            Op::AddUserToGroup { .. } => "AddUserToGroup",
            Op::RemoveUserFromGroup { .. } => "RemoveUserFromGroup",
            Op::CreatePolicy { .. } => "CreatePolicy",
            Op::AttachUserPolicy { .. } => "AttachUserPolicy",
            Op::DetachUserPolicy { .. } => "DetachUserPolicy",
            Op::RenameUser { .. } => "UpdateUser",
            Op::TagUser { .. } => "TagUser",
            Op::DeleteUser { .. } => "DeleteUser",
            Op::DeleteGroup { .. } => "DeleteGroup",
            Op::DeletePolicy { .. } => "DeletePolicy",
            Op::CreateAccessKey { .. } => "CreateAccessKey",
            Op::DeleteAccessKey { .. } => "DeleteAccessKey",
        }
    }
}

/// What a create call answered: the new entity's ID.
type Created = Option<String>;

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/{name}")
}

fn policy_document(name: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{name}/*"}}]}}"#
    )
}

/// The state after `op`; `created` is the ID the create call answered (`None`: it got no answer).
fn apply(s: &mut IamState, op: &Op, created: Option<&str>) {
    let id = created.unwrap_or(UNKNOWN).to_string();
    match op {
        Op::CreateUser { name, tags } => {
            s.users.insert(
                name.clone(),
                UserState {
                    id,
                    path: "/".into(),
                    tags: tags.iter().cloned().collect(),
                    ..UserState::default()
                },
            );
        }
        Op::CreateGroup { name } => {
            s.groups.insert(
                name.clone(),
                GroupState {
                    id,
                    path: "/".into(),
                    members: BTreeSet::new(),
                },
            );
        }
        Op::AddUserToGroup { user, group } => {
            s.users.get_mut(user).unwrap().groups.insert(group.clone());
            s.groups
                .get_mut(group)
                .unwrap()
                .members
                .insert(user.clone());
        }
        Op::RemoveUserFromGroup { user, group } => {
            s.users.get_mut(user).unwrap().groups.remove(group);
            s.groups.get_mut(group).unwrap().members.remove(user);
        }
        Op::CreatePolicy { name, document } => {
            s.policies.insert(
                name.clone(),
                PolicyState {
                    id,
                    arn: policy_arn(name),
                    default_version: "v1".into(),
                    document: document.clone(),
                    ..PolicyState::default()
                },
            );
        }
        Op::AttachUserPolicy { user, policy } => {
            s.users
                .get_mut(user)
                .unwrap()
                .policies
                .insert(policy_arn(policy));
            s.policies
                .get_mut(policy)
                .unwrap()
                .users
                .insert(user.clone());
        }
        Op::DetachUserPolicy { user, policy } => {
            s.users
                .get_mut(user)
                .unwrap()
                .policies
                .remove(&policy_arn(policy));
            s.policies.get_mut(policy).unwrap().users.remove(user);
        }
        Op::RenameUser { from, to } => {
            let u = s.users.remove(from).unwrap();
            for g in &u.groups {
                let members = &mut s.groups.get_mut(g).unwrap().members;
                members.remove(from);
                members.insert(to.clone());
            }
            for p in s.policies.values_mut() {
                if p.users.remove(from) {
                    p.users.insert(to.clone());
                }
            }
            s.users.insert(to.clone(), u);
        }
        Op::TagUser { user, tags } => {
            s.users
                .get_mut(user)
                .unwrap()
                .tags
                .extend(tags.iter().cloned());
        }
        Op::DeleteUser { name } => {
            s.users.remove(name);
        }
        Op::DeleteGroup { name } => {
            s.groups.remove(name);
        }
        Op::DeletePolicy { name } => {
            s.policies.remove(name);
        }
        Op::CreateAccessKey { user } => {
            s.users
                .get_mut(user)
                .unwrap()
                .keys
                .insert(id, "Active".into());
        }
        Op::DeleteAccessKey { user, key } => {
            s.users.get_mut(user).unwrap().keys.remove(key);
        }
    }
}

/// Whether `observed` is `expected`, where an `UNKNOWN` ID in `expected` stands for any one ID.
fn same(expected: &IamState, observed: &IamState) -> bool {
    let mut e = expected.clone();
    for (name, u) in e.users.iter_mut() {
        let Some(o) = observed.users.get(name) else {
            return false;
        };
        if u.id == UNKNOWN {
            u.id = o.id.clone();
        }
        if let Some(status) = u.keys.remove(UNKNOWN) {
            let new: Vec<&String> = o.keys.keys().filter(|k| !u.keys.contains_key(*k)).collect();
            if new.len() != 1 {
                return false;
            }
            u.keys.insert(new[0].clone(), status);
        }
    }
    for (name, g) in e.groups.iter_mut() {
        match observed.groups.get(name) {
            Some(o) if g.id == UNKNOWN => g.id = o.id.clone(),
            Some(_) => {}
            None => return false,
        }
    }
    for (name, p) in e.policies.iter_mut() {
        match observed.policies.get(name) {
            Some(o) if p.id == UNKNOWN => p.id = o.id.clone(),
            Some(_) => {}
            None => return false,
        }
    }
    &e == observed
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    CreateUser,
    CreateGroup,
    AddUserToGroup,
    RemoveUserFromGroup,
    CreatePolicy,
    AttachUserPolicy,
    DetachUserPolicy,
    RenameUser,
    TagUser,
    DeleteUser,
    DeleteGroup,
    DeletePolicy,
    CreateAccessKey,
    DeleteAccessKey,
}

fn random_tags(rng: &mut TestRng, min: u64, max: u64) -> Vec<(String, String)> {
    let n = min + rng.below(max - min + 1);
    let mut keys: Vec<&str> = TAG_KEYS.to_vec();
    let mut tags = Vec::new();
    for _ in 0..n {
        let k = keys.remove(rng.below(keys.len() as u64) as usize);
        tags.push((k.to_string(), format!("v{}", rng.below(1000))));
    }
    tags
}

/// One writer: its names, its random choices, what it was acknowledged and its call in flight.
struct Writer {
    prefix: String,
    rng: TestRng,
    next_name: u64,
    /// The state of this writer's names after every acknowledged call.
    state: IamState,
    /// The call sent but not answered (in flight at the kill).
    pending: Option<Op>,
    /// Names deleted or renamed away by acknowledged calls since the last check.
    gone: Vec<(&'static str, String)>,
    acked: u64,
    /// Acknowledged calls by operation.
    acked_by_op: BTreeMap<&'static str, u64>,
}

impl Writer {
    fn fresh(&mut self, kind: &str) -> String {
        self.next_name += 1;
        format!("{}{kind}{}", self.prefix, self.next_name)
    }

    fn next_op(&mut self) -> Op {
        let s = &self.state;
        let users: Vec<String> = s.users.keys().cloned().collect();
        let mut pairs_out_of_group = Vec::new();
        let mut memberships = Vec::new();
        for (u, us) in &s.users {
            for g in s.groups.keys() {
                if us.groups.contains(g) {
                    memberships.push((u.clone(), g.clone()));
                } else {
                    pairs_out_of_group.push((u.clone(), g.clone()));
                }
            }
        }
        let mut unattached = Vec::new();
        let mut attachments = Vec::new();
        for (u, us) in &s.users {
            for p in s.policies.keys() {
                if us.policies.contains(&policy_arn(p)) {
                    attachments.push((u.clone(), p.clone()));
                } else {
                    unattached.push((u.clone(), p.clone()));
                }
            }
        }
        let bare_users: Vec<String> = s
            .users
            .iter()
            .filter(|(_, u)| u.groups.is_empty() && u.policies.is_empty() && u.keys.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        let empty_groups: Vec<String> = s
            .groups
            .iter()
            .filter(|(_, g)| g.members.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        let free_policies: Vec<String> = s
            .policies
            .iter()
            .filter(|(_, p)| p.users.is_empty() && p.groups.is_empty())
            .map(|(n, _)| n.clone())
            .collect();
        let key_room: Vec<String> = s
            .users
            .iter()
            .filter(|(_, u)| u.keys.len() < 2)
            .map(|(n, _)| n.clone())
            .collect();
        let keys: Vec<(String, String)> = s
            .users
            .iter()
            .flat_map(|(n, u)| u.keys.keys().map(move |k| (n.clone(), k.clone())))
            .collect();

        let mut kinds: Vec<(u64, Kind)> = Vec::new();
        let mut offer = |ok: bool, weight: u64, kind: Kind| {
            if ok {
                kinds.push((weight, kind));
            }
        };
        // When the writer is at its limits, taking apart weighs more, so that users, groups and
        // policies keep being created and deleted.
        let full = s.users.len() == MAX_USERS;
        let undo = if full { 4 } else { 2 };
        offer(s.users.len() < MAX_USERS, 4, Kind::CreateUser);
        offer(s.groups.len() < MAX_GROUPS, 2, Kind::CreateGroup);
        offer(s.policies.len() < MAX_POLICIES, 2, Kind::CreatePolicy);
        offer(!pairs_out_of_group.is_empty(), 3, Kind::AddUserToGroup);
        offer(!memberships.is_empty(), undo, Kind::RemoveUserFromGroup);
        offer(!unattached.is_empty(), 3, Kind::AttachUserPolicy);
        offer(!attachments.is_empty(), undo, Kind::DetachUserPolicy);
        offer(!users.is_empty(), 2, Kind::RenameUser);
        offer(!users.is_empty(), 3, Kind::TagUser);
        offer(!bare_users.is_empty(), 2 * undo, Kind::DeleteUser);
        offer(!empty_groups.is_empty(), 1, Kind::DeleteGroup);
        offer(!free_policies.is_empty(), 1, Kind::DeletePolicy);
        offer(!key_room.is_empty(), 2, Kind::CreateAccessKey);
        offer(!keys.is_empty(), undo, Kind::DeleteAccessKey);
        let total: u64 = kinds.iter().map(|(w, _)| w).sum();
        let mut roll = self.rng.below(total);
        let kind = kinds
            .iter()
            .find(|(w, _)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .map(|(_, k)| *k)
            .expect("a kind");

        let rng = &mut self.rng;
        match kind {
            Kind::CreateUser => {
                let tags = random_tags(rng, 0, 4);
                Op::CreateUser {
                    name: self.fresh("u"),
                    tags,
                }
            }
            Kind::CreateGroup => Op::CreateGroup {
                name: self.fresh("g"),
            },
            Kind::CreatePolicy => {
                let name = self.fresh("p");
                Op::CreatePolicy {
                    document: policy_document(&name),
                    name,
                }
            }
            Kind::AddUserToGroup => {
                let (user, group) = rng.pick(&pairs_out_of_group).clone();
                Op::AddUserToGroup { user, group }
            }
            Kind::RemoveUserFromGroup => {
                let (user, group) = rng.pick(&memberships).clone();
                Op::RemoveUserFromGroup { user, group }
            }
            Kind::AttachUserPolicy => {
                let (user, policy) = rng.pick(&unattached).clone();
                Op::AttachUserPolicy { user, policy }
            }
            Kind::DetachUserPolicy => {
                let (user, policy) = rng.pick(&attachments).clone();
                Op::DetachUserPolicy { user, policy }
            }
            Kind::RenameUser => {
                let from = rng.pick(&users).clone();
                Op::RenameUser {
                    from,
                    to: self.fresh("u"),
                }
            }
            Kind::TagUser => {
                let user = rng.pick(&users).clone();
                Op::TagUser {
                    user,
                    tags: random_tags(rng, 1, 3),
                }
            }
            Kind::DeleteUser => Op::DeleteUser {
                name: rng.pick(&bare_users).clone(),
            },
            Kind::DeleteGroup => Op::DeleteGroup {
                name: rng.pick(&empty_groups).clone(),
            },
            Kind::DeletePolicy => Op::DeletePolicy {
                name: rng.pick(&free_policies).clone(),
            },
            Kind::CreateAccessKey => Op::CreateAccessKey {
                user: rng.pick(&key_room).clone(),
            },
            Kind::DeleteAccessKey => {
                let (user, key) = rng.pick(&keys).clone();
                Op::DeleteAccessKey { user, key }
            }
        }
    }
}

enum CallError {
    /// No answer (the server was killed, or the connection broke): it may or may not have happened.
    NoAnswer(String),
    /// An error response: it did not happen (and should not have been refused).
    Refused(String),
}

fn answered<T, E: ProvideErrorMetadata + Debug>(r: Result<T, SdkError<E>>) -> Result<T, CallError> {
    r.map_err(|e| {
        if got_no_answer(&e) {
            CallError::NoAnswer(describe(&e))
        } else {
            CallError::Refused(describe(&e))
        }
    })
}

fn tags(tags: &[(String, String)]) -> Option<Vec<Tag>> {
    Some(
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().expect("tag"))
            .collect(),
    )
}

async fn execute(iam: &Client, op: &Op) -> Result<Created, CallError> {
    Ok(match op {
        Op::CreateUser { name, tags: t } => {
            let r = answered(
                iam.create_user()
                    .user_name(name)
                    .set_tags(tags(t))
                    .send()
                    .await,
            )?;
            r.user().map(|u| u.user_id().to_string())
        }
        Op::CreateGroup { name } => {
            let r = answered(iam.create_group().group_name(name).send().await)?;
            r.group().map(|g| g.group_id().to_string())
        }
        Op::AddUserToGroup { user, group } => {
            answered(
                iam.add_user_to_group()
                    .user_name(user)
                    .group_name(group)
                    .send()
                    .await,
            )?;
            None
        }
        Op::RemoveUserFromGroup { user, group } => {
            answered(
                iam.remove_user_from_group()
                    .user_name(user)
                    .group_name(group)
                    .send()
                    .await,
            )?;
            None
        }
        Op::CreatePolicy { name, document } => {
            let r = answered(
                iam.create_policy()
                    .policy_name(name)
                    .policy_document(document)
                    .send()
                    .await,
            )?;
            r.policy()
                .and_then(|p| p.policy_id())
                .map(|id| id.to_string())
        }
        Op::AttachUserPolicy { user, policy } => {
            answered(
                iam.attach_user_policy()
                    .user_name(user)
                    .policy_arn(policy_arn(policy))
                    .send()
                    .await,
            )?;
            None
        }
        Op::DetachUserPolicy { user, policy } => {
            answered(
                iam.detach_user_policy()
                    .user_name(user)
                    .policy_arn(policy_arn(policy))
                    .send()
                    .await,
            )?;
            None
        }
        Op::RenameUser { from, to } => {
            answered(
                iam.update_user()
                    .user_name(from)
                    .new_user_name(to)
                    .send()
                    .await,
            )?;
            None
        }
        Op::TagUser { user, tags: t } => {
            answered(
                iam.tag_user()
                    .user_name(user)
                    .set_tags(tags(t))
                    .send()
                    .await,
            )?;
            None
        }
        Op::DeleteUser { name } => {
            answered(iam.delete_user().user_name(name).send().await)?;
            None
        }
        Op::DeleteGroup { name } => {
            answered(iam.delete_group().group_name(name).send().await)?;
            None
        }
        Op::DeletePolicy { name } => {
            answered(
                iam.delete_policy()
                    .policy_arn(policy_arn(name))
                    .send()
                    .await,
            )?;
            None
        }
        Op::CreateAccessKey { user } => {
            let r = answered(iam.create_access_key().user_name(user).send().await)?;
            r.access_key().map(|k| k.access_key_id().to_string())
        }
        Op::DeleteAccessKey { user, key } => {
            answered(
                iam.delete_access_key()
                    .user_name(user)
                    .access_key_id(key)
                    .send()
                    .await,
            )?;
            None
        }
    })
}

/// Writes until a call gets no answer (the kill). `Err` for anything unexpected: an error
/// response, or no answer before the kill.
async fn run_writer(
    mut w: Writer,
    iam: Client,
    killed: Arc<AtomicBool>,
) -> (Writer, Option<String>) {
    loop {
        let op = w.next_op();
        w.pending = Some(op.clone());
        match execute(&iam, &op).await {
            Ok(created) => {
                match &op {
                    Op::CreateUser { .. }
                    | Op::CreateGroup { .. }
                    | Op::CreatePolicy { .. }
                    | Op::CreateAccessKey { .. }
                        if created.is_none() =>
                    {
                        return (w, Some(format!("{op:?}: the answer names no ID")));
                    }
                    _ => {}
                }
                apply(&mut w.state, &op, created.as_deref());
                match &op {
                    Op::DeleteUser { name } => w.gone.push(("user", name.clone())),
                    Op::RenameUser { from, .. } => w.gone.push(("user", from.clone())),
                    Op::DeleteGroup { name } => w.gone.push(("group", name.clone())),
                    Op::DeletePolicy { name } => w.gone.push(("policy", name.clone())),
                    _ => {}
                }
                w.pending = None;
                w.acked += 1;
                *w.acked_by_op.entry(op.name()).or_default() += 1;
            }
            Err(CallError::NoAnswer(e)) => {
                if killed.load(Ordering::SeqCst) {
                    return (w, None);
                }
                return (
                    w,
                    Some(format!("{op:?} got no answer before the kill: {e}")),
                );
            }
            Err(CallError::Refused(e)) => {
                return (w, Some(format!("{op:?} was refused: {e}")));
            }
        }
    }
}

/// Lists users, groups and policies until the kill, collecting every name it saw: a write that
/// another call could see must survive the kill (it was committed before it became visible).
/// `Err` if a listing failed before the kill.
async fn run_reader(iam: Client, killed: Arc<AtomicBool>) -> Result<BTreeSet<String>, String> {
    let mut seen = BTreeSet::new();
    loop {
        let listed = async {
            let users = iam
                .list_users()
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| format!("ListUsers: {}", describe(&e)))?;
            let groups = iam
                .list_groups()
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| format!("ListGroups: {}", describe(&e)))?;
            let policies = iam
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| format!("ListPolicies: {}", describe(&e)))?;
            let mut names: Vec<String> = Vec::new();
            names.extend(
                users
                    .iter()
                    .flat_map(|p| p.users())
                    .map(|u| u.user_name().to_string()),
            );
            names.extend(
                groups
                    .iter()
                    .flat_map(|p| p.groups())
                    .map(|g| g.group_name().to_string()),
            );
            names.extend(
                policies
                    .iter()
                    .flat_map(|p| p.policies())
                    .filter_map(|p| p.policy_name())
                    .map(str::to_string),
            );
            Ok::<_, String>(names)
        }
        .await;
        match listed {
            Ok(names) => seen.extend(names),
            Err(_) if killed.load(Ordering::SeqCst) => return Ok(seen),
            Err(e) => return Err(format!("a reader failed before the kill: {e}")),
        }
    }
}

/// Whether `op` deletes or renames away the entity called `name`.
fn removes(op: &Op, name: &str) -> bool {
    match op {
        Op::DeleteUser { name: n } | Op::DeleteGroup { name: n } | Op::DeletePolicy { name: n } => {
            n == name
        }
        Op::RenameUser { from, .. } => from == name,
        _ => false,
    }
}

#[derive(Default)]
struct Stats {
    in_flight: u64,
    in_flight_done: u64,
    killed_while_starting: u64,
    /// Calls in flight at a kill, by operation: (had happened, had not).
    in_flight_by_op: BTreeMap<&'static str, (u64, u64)>,
}

/// Checks the restarted server against every writer's acknowledged state and call in flight, then
/// takes what it shows as the writers' state (IDs of creates that got no answer included).
/// `seen`: the names readers saw before the kill.
async fn check(
    server: &BinaryServer,
    writers: &mut [Writer],
    seen_by_readers: &BTreeSet<String>,
    stats: &mut Stats,
    when: &str,
    seed: u64,
) {
    let iam = server.iam();
    let observed = observe(&iam)
        .await
        .unwrap_or_else(|e| panic!("{when} (seed {seed}): {e}"));
    let mut failures = Vec::new();
    let foreign = observed
        .users
        .keys()
        .chain(observed.groups.keys())
        .chain(observed.policies.keys())
        .filter(|n| !writers.iter().any(|w| n.starts_with(&w.prefix)))
        .cloned()
        .collect::<Vec<_>>();
    if !foreign.is_empty() {
        failures.push(format!("entities nobody created: {foreign:?}"));
    }
    for w in writers.iter_mut() {
        let seen = observed.restrict(&w.prefix);
        // What readers saw is there, unless an acknowledged call or the call in flight removed it.
        for name in seen_by_readers.iter().filter(|n| n.starts_with(&w.prefix)) {
            let present = seen.users.contains_key(name)
                || seen.groups.contains_key(name)
                || seen.policies.contains_key(name);
            let removed = w.gone.iter().any(|(_, n)| n == name)
                || w.pending.as_ref().is_some_and(|op| removes(op, name));
            if !present && !removed {
                failures.push(format!(
                    "writer {}: {name} was visible to other calls before the kill, and is lost after \
                     it (visible before it was committed?); call in flight: {:?}",
                    w.prefix, w.pending
                ));
            }
        }
        if same(&w.state, &seen) {
            if let Some(op) = w.pending.take() {
                stats.in_flight += 1;
                stats.in_flight_by_op.entry(op.name()).or_default().1 += 1;
            }
        } else {
            let after = w.pending.as_ref().map(|op| {
                let mut s = w.state.clone();
                apply(&mut s, op, None);
                s
            });
            match after {
                Some(after) if same(&after, &seen) => {
                    stats.in_flight += 1;
                    stats.in_flight_done += 1;
                    let op = w.pending.take().expect("a call in flight");
                    stats.in_flight_by_op.entry(op.name()).or_default().0 += 1;
                }
                _ => failures.push(format!(
                    "writer {}: the state is neither what was acknowledged nor that plus the call in \
                     flight at the kill ({:?}).\n  Against the acknowledged state:\n    {}{}",
                    w.prefix,
                    w.pending,
                    diff(&w.state, &seen),
                    after
                        .map(|a| format!(
                            "\n  Against the state after the call in flight:\n    {}",
                            diff(&a, &seen)
                        ))
                        .unwrap_or_default()
                )),
            }
        }
        // What acknowledged deletes and renames removed is gone for direct lookups too.
        for (kind, name) in std::mem::take(&mut w.gone) {
            if kind == "user" && seen.users.contains_key(&name)
                || kind == "group" && seen.groups.contains_key(&name)
                || kind == "policy" && seen.policies.contains_key(&name)
            {
                continue; // reported above
            }
            let answer = match kind {
                "user" => iam
                    .get_user()
                    .user_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| describe(&e)),
                "group" => iam
                    .get_group()
                    .group_name(&name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| describe(&e)),
                _ => iam
                    .get_policy()
                    .policy_arn(policy_arn(&name))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| describe(&e)),
            };
            match answer {
                Err(e) if e.starts_with("NoSuchEntity (404)") => {}
                other => failures.push(format!(
                    "{kind} {name} was deleted or renamed (acknowledged), but Get answers {other:?}"
                )),
            }
        }
        w.state = seen;
    }
    assert!(
        failures.is_empty(),
        "{when} (seed {seed}):\n{}\nlast server log lines:\n{}",
        failures.join("\n"),
        server.log_tail(20)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_and_calls_in_flight_are_all_or_nothing() {
    let seed = test_seed("LOCALIAM_CRASH_SEED");
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").to_string_lossy().into_owned();
    let mut rng = TestRng::new(seed);
    let mut writers: Vec<Writer> = (0..WRITERS)
        .map(|i| Writer {
            prefix: format!("w{i}-"),
            rng: TestRng::new(rng.next_u64()),
            next_name: 0,
            state: IamState::default(),
            pending: None,
            gone: Vec::new(),
            acked: 0,
            acked_by_op: BTreeMap::new(),
        })
        .collect();
    let mut stats = Stats::default();
    let mut seen_by_readers = BTreeSet::new();

    for cycle in 0..CYCLES {
        // Now and then, a kill while the server is still starting (loading what is on disk).
        if cycle % 4 == 3 {
            let mut p = BinaryServer::spawn_no_wait(&db);
            tokio::time::sleep(Duration::from_millis(rng.below(60))).await;
            p.kill();
            stats.killed_while_starting += 1;
        }
        let mut server = BinaryServer::spawn(&db);
        check(
            &server,
            &mut writers,
            &seen_by_readers,
            &mut stats,
            &format!("after the restart of cycle {cycle}"),
            seed,
        )
        .await;

        let killed = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = writers
            .drain(..)
            .map(|w| tokio::spawn(run_writer(w, server.iam(), killed.clone())))
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|_| tokio::spawn(run_reader(server.iam(), killed.clone())))
            .collect();
        let delay = match rng.below(10) {
            0..=2 => rng.below(40),       // right after the writers start
            3..=8 => 40 + rng.below(300), // in full flow
            _ => 340 + rng.below(400),    // after a while
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        killed.store(true, Ordering::SeqCst);
        server.kill();
        let mut failures = Vec::new();
        for t in tasks {
            let (w, failure) = t.await.expect("writer task");
            if let Some(f) = failure {
                failures.push(format!("writer {}: {f}", w.prefix));
            }
            writers.push(w);
        }
        seen_by_readers.clear();
        for r in readers {
            match r.await.expect("reader task") {
                Ok(seen) => seen_by_readers.extend(seen),
                Err(e) => failures.push(e),
            }
        }
        assert!(
            failures.is_empty(),
            "cycle {cycle} (seed {seed}):\n{}\nlast server log lines:\n{}",
            failures.join("\n"),
            server.log_tail(20)
        );
        let in_flight = writers.iter().filter(|w| w.pending.is_some()).count();
        let acked: u64 = writers.iter().map(|w| w.acked).sum();
        eprintln!(
            "cycle {cycle}: killed after {delay} ms; {acked} writes acknowledged so far, {in_flight} in flight"
        );
    }

    // The file as the last kill left it, before any restart recovers it.
    assert_eq!(
        sqlite_integrity(&db).await,
        vec!["ok".to_string()],
        "integrity of the database right after the last kill (seed {seed})"
    );
    let mut server = BinaryServer::spawn(&db);
    check(
        &server,
        &mut writers,
        &seen_by_readers,
        &mut stats,
        "after the last restart",
        seed,
    )
    .await;
    server.kill();
    assert_eq!(
        sqlite_integrity(&db).await,
        vec!["ok".to_string()],
        "integrity of the database at the end (seed {seed})"
    );

    let acked: u64 = writers.iter().map(|w| w.acked).sum();
    let (users, groups, policies) = writers.iter().fold((0, 0, 0), |(u, g, p), w| {
        let (a, b, c) = w.state.counts();
        (u + a, g + b, p + c)
    });
    eprintln!(
        "{CYCLES} cycles in {:.1} s: {acked} acknowledged writes; {} calls in flight at a kill ({} of \
         them had happened); {} kills during start-up; at the end {users} users, {groups} groups, \
         {policies} policies",
        started.elapsed().as_secs_f64(),
        stats.in_flight,
        stats.in_flight_done,
        stats.killed_while_starting
    );
    let mut by_op: BTreeMap<&str, u64> = BTreeMap::new();
    for w in &writers {
        for (op, n) in &w.acked_by_op {
            *by_op.entry(op).or_default() += n;
        }
    }
    eprintln!("acknowledged by operation: {by_op:?}");
    eprintln!(
        "in flight at a kill by operation (had happened, had not): {:?}",
        stats.in_flight_by_op
    );
    // The test proves something only if the kills hit writes in flight.
    assert!(
        acked >= 100 && stats.in_flight >= CYCLES as u64,
        "too few writes ({acked}) or calls in flight at the kills ({}) to mean anything",
        stats.in_flight
    );
}

//! Many clients at once against one server (design notes §6: each API call is all-or-nothing and
//! concurrent calls behave as if they ran one after another; a write is visible to every call
//! once it is acknowledged). Each scenario runs against the in-memory database and against a
//! file database. Every client is its own SDK client with its own connections.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_iam::types::{PolicyScopeType, Tag};
use aws_sdk_iam::Client;
use common::iam_state::*;
use common::*;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// Clients that call at the same moment.
const CLIENTS: usize = 64;

/// A server on `:memory:` or on a file in a temporary directory.
struct Setup {
    srv: TestServer,
    file: Option<(tempfile::TempDir, String)>,
}

impl Setup {
    async fn start(file: bool) -> Setup {
        if file {
            let dir = tempfile::tempdir().unwrap();
            let db = dir
                .path()
                .join("concurrency.db")
                .to_string_lossy()
                .into_owned();
            let srv = TestServer::start_with(|c| c.db = db.clone()).await;
            Setup {
                srv,
                file: Some((dir, db)),
            }
        } else {
            Setup {
                srv: TestServer::start().await,
                file: None,
            }
        }
    }

    /// `n` clients, each with its own connection pool.
    fn clients(&self, n: usize) -> Vec<Client> {
        (0..n).map(|_| self.srv.iam()).collect()
    }

    /// With a file database: stops the server and starts a new one on the same file.
    async fn restart(self) -> Setup {
        let Setup { srv, file } = self;
        srv.stop().await;
        let (dir, db) = file.expect("restart needs a file database");
        let srv = TestServer::start_with(|c| c.db = db.clone()).await;
        Setup {
            srv,
            file: Some((dir, db)),
        }
    }
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().expect("tag")
}

fn doc(resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{resource}/*"}}]}}"#
    )
}

fn arn(policy: &str) -> String {
    format!("arn:aws:iam::{DEFAULT_ACCOUNT}:policy/{policy}")
}

/// `Ok(())` or the error's code and status.
type Answer = Result<(), (String, u16)>;

fn answer<T: std::fmt::Debug, E>(r: Result<T, aws_sdk_iam::error::SdkError<E>>) -> Answer
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) => {
            let i = err_info(&e);
            Err((i.code, i.status))
        }
    }
}

/// The state, with a clear failure when the views disagree.
async fn state(iam: &Client, when: &str) -> IamState {
    observe(iam).await.unwrap_or_else(|e| panic!("{when}: {e}"))
}

/// Runs `call(client index, client)` on every client at the same moment; the results in client
/// order.
async fn all_at_once<F, Fut, T>(clients: &[Client], call: F) -> Vec<T>
where
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(clients.len()));
    let mut set = JoinSet::new();
    for (i, c) in clients.iter().enumerate() {
        let fut = call(i, c.clone());
        let barrier = barrier.clone();
        set.spawn(async move {
            barrier.wait().await;
            (i, fut.await)
        });
    }
    let mut out: Vec<Option<T>> = (0..clients.len()).map(|_| None).collect();
    while let Some(r) = set.join_next().await {
        let (i, v) = r.expect("client task");
        out[i] = Some(v);
    }
    out.into_iter()
        .map(|v| v.expect("every client answered"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Managed policies attached to one user at once

async fn policies_attached_at_once(file: bool) {
    let s = Setup::start(file).await;
    let iam = s.srv.iam();
    iam.create_user().user_name("target").send().await.unwrap();
    for i in 0..16 {
        iam.create_policy()
            .policy_name(format!("p{i}"))
            .policy_document(doc(&format!("p{i}")))
            .send()
            .await
            .unwrap();
    }
    let clients = s.clients(CLIENTS);

    // 64 clients attach 10 policies (each by 6 or 7 clients): attaching an attached policy succeeds.
    let answers = all_at_once(&clients, |i, c| async move {
        answer(
            c.attach_user_policy()
                .user_name("target")
                .policy_arn(arn(&format!("p{}", i % 10)))
                .send()
                .await,
        )
    })
    .await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let st = state(&iam, "after attaching 10 policies at once").await;
    let attached: BTreeSet<String> = (0..10).map(|i| arn(&format!("p{i}"))).collect();
    assert_eq!(st.users["target"].policies, attached);
    for i in 0..16 {
        let want: BTreeSet<String> = if i < 10 {
            ["target".to_string()].into()
        } else {
            BTreeSet::new()
        };
        assert_eq!(st.policies[&format!("p{i}")].users, want, "p{i}");
    }

    // 64 clients detach them: one detach per policy succeeds, the others find it detached.
    let answers = all_at_once(&clients, |i, c| async move {
        answer(
            c.detach_user_policy()
                .user_name("target")
                .policy_arn(arn(&format!("p{}", i % 10)))
                .send()
                .await,
        )
    })
    .await;
    for p in 0..10 {
        let mine: Vec<&Answer> = answers
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 10 == p)
            .map(|(_, a)| a)
            .collect();
        assert_eq!(
            mine.iter().filter(|a| a.is_ok()).count(),
            1,
            "detaching p{p} at once: exactly one success: {mine:?}"
        );
        assert!(
            mine.iter()
                .all(|a| a.is_ok() || *a == &Err(("NoSuchEntity".to_string(), 404))),
            "{mine:?}"
        );
    }
    let st = state(&iam, "after detaching at once").await;
    assert!(st.users["target"].policies.is_empty(), "{st:#?}");

    // 64 clients attach 16 policies: the quota is 10 per user. As if one after another: exactly
    // 10 get attached, every attempt on those succeeds, every attempt on the others is refused.
    let answers = all_at_once(&clients, |i, c| async move {
        answer(
            c.attach_user_policy()
                .user_name("target")
                .policy_arn(arn(&format!("p{}", i % 16)))
                .send()
                .await,
        )
    })
    .await;
    let st = state(&iam, "after attaching 16 policies at once").await;
    let attached = &st.users["target"].policies;
    assert_eq!(attached.len(), 10, "{attached:?}");
    for p in 0..16 {
        let name = format!("p{p}");
        let mine: Vec<&Answer> = answers
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 16 == p)
            .map(|(_, a)| a)
            .collect();
        if attached.contains(&arn(&name)) {
            assert!(mine.iter().all(|a| a.is_ok()), "{name} attached: {mine:?}");
            assert_eq!(st.policies[&name].users.len(), 1);
        } else {
            assert!(
                mine.iter()
                    .all(|a| *a == &Err(("LimitExceeded".to_string(), 409))),
                "{name} not attached: {mine:?}"
            );
            assert!(st.policies[&name].users.is_empty());
        }
    }
    if file {
        let s = s.restart().await;
        assert_state_eq(
            &state(&s.srv.iam(), "after a restart").await,
            &st,
            "after a restart",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn policies_attached_at_once_memory() {
    policies_attached_at_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn policies_attached_at_once_file() {
    policies_attached_at_once(true).await;
}

// ---------------------------------------------------------------------------------------------
// One name, many creators

/// What a racing client did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Race {
    /// Success, with the ID the server gave (user, group, policy or access key ID).
    Won(String),
    Lost(String, u16),
}

fn race<T, E>(r: Result<T, aws_sdk_iam::error::SdkError<E>>, id: impl Fn(&T) -> String) -> Race
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
{
    match r {
        Ok(v) => Race::Won(id(&v)),
        Err(e) => {
            let i = err_info(&e);
            Race::Lost(i.code, i.status)
        }
    }
}

/// Exactly `winners` clients won, the others lost with `code`/`status`; the winners' indexes.
#[track_caller]
fn winners(
    what: &str,
    results: &[(usize, Race)],
    winners: usize,
    code: &str,
    status: u16,
) -> Vec<usize> {
    let won: Vec<usize> = results
        .iter()
        .filter(|(_, r)| matches!(r, Race::Won(_)))
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(won.len(), winners, "{what}: {results:?}");
    for (_, r) in results {
        if let Race::Lost(c, s) = r {
            assert_eq!((c.as_str(), *s), (code, status), "{what}: {results:?}");
        }
    }
    won
}

fn won_id(results: &[(usize, Race)], i: usize) -> String {
    match &results.iter().find(|(j, _)| *j == i).unwrap().1 {
        Race::Won(id) => id.clone(),
        other => panic!("{other:?}"),
    }
}

/// Spellings of one name that differ in case only (names are unique case-insensitively).
fn spelling(base: &str, i: usize) -> String {
    match i % 3 {
        0 => base.to_string(),
        1 => base.to_uppercase(),
        _ => base.to_lowercase(),
    }
}

async fn one_create_wins(file: bool) {
    let s = Setup::start(file).await;
    let iam = s.srv.iam();
    let clients = s.clients(CLIENTS);
    // 20 CreateUser, 20 CreateGroup and 20 CreatePolicy of one name each, and 4 users of their own.
    let results = all_at_once(&clients, |i, c| async move {
        match i {
            0..=19 => race(
                c.create_user()
                    .user_name(spelling("Race-User", i))
                    .path(format!("/c{i}/"))
                    .tags(tag("client", &i.to_string()))
                    .send()
                    .await,
                |r| r.user().unwrap().user_id().to_string(),
            ),
            20..=39 => race(
                c.create_group()
                    .group_name(spelling("Race-Group", i))
                    .path(format!("/c{i}/"))
                    .send()
                    .await,
                |r| r.group().unwrap().group_id().to_string(),
            ),
            40..=59 => race(
                c.create_policy()
                    .policy_name(spelling("Race-Policy", i))
                    .policy_document(doc(&format!("client-{i}")))
                    .send()
                    .await,
                |r| r.policy().unwrap().policy_id().unwrap().to_string(),
            ),
            _ => race(
                c.create_user().user_name(format!("own-{i}")).send().await,
                |r| r.user().unwrap().user_id().to_string(),
            ),
        }
    })
    .await;
    let results: Vec<(usize, Race)> = results.into_iter().enumerate().collect();
    let u = winners("CreateUser", &results[0..20], 1, "EntityAlreadyExists", 409)[0];
    let g = winners(
        "CreateGroup",
        &results[20..40],
        1,
        "EntityAlreadyExists",
        409,
    )[0];
    let p = winners(
        "CreatePolicy",
        &results[40..60],
        1,
        "EntityAlreadyExists",
        409,
    )[0];
    winners("CreateUser of own names", &results[60..], 4, "", 0);

    let st = state(&iam, "after the create races").await;
    assert_eq!(st.counts(), (5, 1, 1), "{st:#?}");
    let user = &st.users[&spelling("Race-User", u)];
    assert_eq!(user.id, won_id(&results, u));
    assert_eq!(user.path, format!("/c{u}/"));
    assert_eq!(
        user.tags,
        BTreeMap::from([("client".to_string(), u.to_string())])
    );
    let group = &st.groups[&spelling("Race-Group", g)];
    assert_eq!(group.id, won_id(&results, g));
    assert_eq!(group.path, format!("/c{g}/"));
    let policy = &st.policies[&spelling("Race-Policy", p)];
    assert_eq!(policy.id, won_id(&results, p));
    assert_eq!(policy.document, doc(&format!("client-{p}")));

    // 20 users renamed to one new name, 20 access keys for one user (quota: 2), and 24 clients
    // adding one user to one group.
    for i in 0..20 {
        iam.create_user()
            .user_name(format!("rename-{i}"))
            .send()
            .await
            .unwrap();
    }
    let own = "own-60";
    let race_group = spelling("Race-Group", g);
    let results = all_at_once(&clients, |i, c| {
        let race_group = race_group.clone();
        async move {
            match i {
                0..=19 => race(
                    c.update_user()
                        .user_name(format!("rename-{i}"))
                        .new_user_name(spelling("Renamed", i))
                        .send()
                        .await,
                    |_| String::new(),
                ),
                20..=39 => race(c.create_access_key().user_name(own).send().await, |r| {
                    r.access_key().unwrap().access_key_id().to_string()
                }),
                _ => race(
                    c.add_user_to_group()
                        .user_name(own)
                        .group_name(&race_group)
                        .send()
                        .await,
                    |_| String::new(),
                ),
            }
        }
    })
    .await;
    let results: Vec<(usize, Race)> = results.into_iter().enumerate().collect();
    let r = winners(
        "UpdateUser to one name",
        &results[0..20],
        1,
        "EntityAlreadyExists",
        409,
    )[0];
    let keys = winners("CreateAccessKey", &results[20..40], 2, "LimitExceeded", 409);
    winners("AddUserToGroup of one pair", &results[40..], 24, "", 0);

    let st = state(&iam, "after the rename, key and membership races").await;
    assert_eq!(st.counts(), (25, 1, 1), "{st:#?}");
    for i in 0..20 {
        let old = format!("rename-{i}");
        assert_eq!(
            st.users.contains_key(&old),
            i != r,
            "{old} after the rename race"
        );
    }
    assert!(st.users.contains_key(&spelling("Renamed", r)));
    let key_ids: BTreeMap<String, String> = keys
        .iter()
        .map(|i| (won_id(&results, *i), "Active".to_string()))
        .collect();
    assert_eq!(st.users[own].keys, key_ids);
    assert_eq!(
        st.groups[&race_group].members,
        BTreeSet::from([own.to_string()])
    );
    if file {
        let s = s.restart().await;
        assert_state_eq(
            &state(&s.srv.iam(), "after a restart").await,
            &st,
            "after a restart",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_create_wins_memory() {
    one_create_wins(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_create_wins_file() {
    one_create_wins(true).await;
}

// ---------------------------------------------------------------------------------------------
// Read your writes, on another connection

/// Rounds of create, tag, rename, delete per client.
const RYW_ROUNDS: usize = 2;

async fn read_your_writes(file: bool) {
    let s = Setup::start(file).await;
    let clients = s.clients(CLIENTS);
    let url = s.srv.url();
    let failures =
        all_at_once(&clients, |i, c| {
            let url = url.clone();
            async move {
                let mut failures = Vec::new();
                let path = format!("/ryw{i}/");
                // Each check reads with a new client: its own, fresh connection.
                let fresh = || iam_client(&url);
                for round in 0..RYW_ROUNDS {
                    let name = format!("ryw-{i}-{round}");
                    let renamed = format!("{name}-renamed");
                    c.create_user()
                        .user_name(&name)
                        .path(&path)
                        .tags(tag("v", "0"))
                        .send()
                        .await
                        .unwrap();
                    match fresh().get_user().user_name(&name).send().await {
                        Ok(r) if r.user().map(|u| u.tags().len()) == Some(1) => {}
                        other => failures
                            .push(format!("GetUser right after CreateUser {name}: {other:?}")),
                    }
                    let listed = fresh()
                        .list_users()
                        .path_prefix(&path)
                        .send()
                        .await
                        .unwrap();
                    if !listed.users().iter().any(|u| u.user_name() == name) {
                        failures.push(format!(
                            "ListUsers right after CreateUser {name}: {listed:?}"
                        ));
                    }

                    c.tag_user()
                        .user_name(&name)
                        .tags(tag("v", "1"))
                        .send()
                        .await
                        .unwrap();
                    let tags = fresh()
                        .list_user_tags()
                        .user_name(&name)
                        .send()
                        .await
                        .unwrap();
                    if tags
                        .tags()
                        .iter()
                        .map(|t| (t.key(), t.value()))
                        .collect::<Vec<_>>()
                        != [("v", "1")]
                    {
                        failures.push(format!("ListUserTags right after TagUser {name}: {tags:?}"));
                    }

                    c.update_user()
                        .user_name(&name)
                        .new_user_name(&renamed)
                        .send()
                        .await
                        .unwrap();
                    if let Err(e) = fresh().get_user().user_name(&renamed).send().await {
                        failures.push(format!("GetUser {renamed} right after the rename: {e:?}"));
                    }
                    match fresh().get_user().user_name(&name).send().await {
                        Err(e) if err_info(&e).code == "NoSuchEntity" => {}
                        other => failures
                            .push(format!("GetUser {name} right after its rename: {other:?}")),
                    }

                    c.delete_user().user_name(&renamed).send().await.unwrap();
                    match fresh().get_user().user_name(&renamed).send().await {
                        Err(e) if err_info(&e).code == "NoSuchEntity" => {}
                        other => failures.push(format!(
                            "GetUser {renamed} right after DeleteUser: {other:?}"
                        )),
                    }
                    let listed = fresh()
                        .list_users()
                        .path_prefix(&path)
                        .send()
                        .await
                        .unwrap();
                    if !listed.users().is_empty() {
                        failures.push(format!(
                            "ListUsers right after DeleteUser {renamed}: {listed:?}"
                        ));
                    }
                }
                failures
            }
        })
        .await;
    let failures: Vec<String> = failures.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let st = state(&s.srv.iam(), "after the read-your-writes rounds").await;
    assert_eq!(st.counts(), (0, 0, 0), "{st:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_your_writes_memory() {
    read_your_writes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_your_writes_file() {
    read_your_writes(true).await;
}

// ---------------------------------------------------------------------------------------------
// Group membership from both sides

async fn memberships_agree(file: bool) {
    let seed = test_seed("LOCALIAM_CONCURRENCY_SEED");
    let s = Setup::start(file).await;
    let iam = s.srv.iam();
    let users: Vec<String> = (0..16).map(|i| format!("m-user-{i}")).collect();
    let groups: Vec<String> = (0..4).map(|i| format!("m-group-{i}")).collect();
    for u in &users {
        iam.create_user().user_name(u).send().await.unwrap();
    }
    for g in &groups {
        iam.create_group().group_name(g).send().await.unwrap();
    }
    let clients = s.clients(CLIENTS);
    let mut rng = TestRng::new(seed);
    let toggles: Vec<u64> = (0..CLIENTS).map(|_| 1 + rng.below(8)).collect();

    // Each client owns one (user, group) pair and adds and removes it in turn; the pair's final
    // membership is its last acknowledged call. Readers check every answer on the way.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = JoinSet::new();
    for r in 0..4 {
        let c = s.srv.iam();
        let stop = stop.clone();
        let (users, groups) = (users.clone(), groups.clone());
        readers.spawn(async move {
            let mut problems = Vec::new();
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let g = &groups[(reads as usize + r) % groups.len()];
                let got = c.get_group().group_name(g).send().await.unwrap();
                let names: Vec<&str> = got.users().iter().map(|u| u.user_name()).collect();
                let distinct: BTreeSet<&str> = names.iter().copied().collect();
                if distinct.len() != names.len()
                    || !distinct.iter().all(|n| users.iter().any(|u| u == n))
                {
                    problems.push(format!("GetGroup {g}: {names:?}"));
                }
                let u = &users[(reads as usize * 7 + r) % users.len()];
                let got = c.list_groups_for_user().user_name(u).send().await.unwrap();
                let names: Vec<&str> = got.groups().iter().map(|g| g.group_name()).collect();
                let distinct: BTreeSet<&str> = names.iter().copied().collect();
                if distinct.len() != names.len()
                    || !distinct.iter().all(|n| groups.iter().any(|g| g == n))
                {
                    problems.push(format!("ListGroupsForUser {u}: {names:?}"));
                }
                reads += 1;
            }
            (reads, problems)
        });
    }
    let finals = all_at_once(&clients, |i, c| {
        let user = users[i % 16].clone();
        let group = groups[i / 16].clone();
        let times = toggles[i];
        async move {
            let mut member = false;
            for _ in 0..times {
                if member {
                    c.remove_user_from_group()
                        .user_name(&user)
                        .group_name(&group)
                        .send()
                        .await
                        .unwrap();
                } else {
                    c.add_user_to_group()
                        .user_name(&user)
                        .group_name(&group)
                        .send()
                        .await
                        .unwrap();
                }
                member = !member;
            }
            (user, group, member)
        }
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut reads = 0;
    while let Some(r) = readers.join_next().await {
        let (n, problems) = r.expect("reader");
        assert!(problems.is_empty(), "seed {seed}: {problems:#?}");
        reads += n;
    }
    assert!(reads > 0);

    let st = state(&iam, &format!("after the membership burst (seed {seed})")).await;
    for (user, group, member) in &finals {
        assert_eq!(
            st.groups[group].members.contains(user),
            *member,
            "{user} in {group} (seed {seed})"
        );
        assert_eq!(st.users[user].groups.contains(group), *member);
    }

    // Everybody adds one pair at once, then everybody removes it at once.
    let adds = all_at_once(&clients, |_, c| async move {
        answer(
            c.add_user_to_group()
                .user_name("m-user-0")
                .group_name("m-group-0")
                .send()
                .await,
        )
    })
    .await;
    assert!(adds.iter().all(Result::is_ok), "{adds:?}");
    let st = state(&iam, "after adding one pair at once").await;
    assert!(st.groups["m-group-0"].members.contains("m-user-0"));
    let removes = all_at_once(&clients, |_, c| async move {
        answer(
            c.remove_user_from_group()
                .user_name("m-user-0")
                .group_name("m-group-0")
                .send()
                .await,
        )
    })
    .await;
    assert!(
        removes.iter().any(Result::is_ok)
            && removes
                .iter()
                .all(|a| a.is_ok() || *a == Err(("NoSuchEntity".to_string(), 404))),
        "{removes:?}"
    );
    let st = state(&iam, "after removing one pair at once").await;
    assert!(!st.groups["m-group-0"].members.contains("m-user-0"));
    assert!(!st.users["m-user-0"].groups.contains("m-group-0"));
    if file {
        let s = s.restart().await;
        assert_state_eq(
            &state(&s.srv.iam(), "after a restart").await,
            &st,
            "after a restart",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memberships_agree_memory() {
    memberships_agree(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memberships_agree_file() {
    memberships_agree(true).await;
}

// ---------------------------------------------------------------------------------------------
// Listings after a burst, and in its middle

async fn names(iam: &Client) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let policies: BTreeSet<String> = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .flat_map(|p| p.policies())
        .map(|p| p.policy_name().unwrap().to_string())
        .collect();
    let groups: BTreeSet<String> = iam
        .list_groups()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .flat_map(|p| p.groups())
        .map(|g| g.group_name().to_string())
        .collect();
    let users: BTreeSet<String> = iam
        .list_users()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .flat_map(|p| p.users())
        .map(|u| u.user_name().to_string())
        .collect();
    (users, groups, policies)
}

async fn listings_match_acknowledged_creates(file: bool) {
    let s = Setup::start(file).await;
    let clients = s.clients(CLIENTS);

    // Readers list policies, then groups, then users. Each client creates its users, then its
    // group, then its policy: a policy seen implies its group in the later listing, and a group
    // its users (u1 and u2; u0 is deleted at the end).
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = JoinSet::new();
    for _ in 0..4 {
        let c = s.srv.iam();
        let stop = stop.clone();
        readers.spawn(async move {
            let mut problems = Vec::new();
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let (users, groups, policies) = {
                    // names() lists policies first, then groups, then users.
                    names(&c).await
                };
                for i in 0..CLIENTS {
                    if policies.contains(&format!("lt-{i}-p"))
                        && !groups.contains(&format!("lt-{i}-g"))
                    {
                        problems.push(format!(
                            "policy lt-{i}-p listed, its group (created before) not"
                        ));
                    }
                    if groups.contains(&format!("lt-{i}-g"))
                        && !(users.contains(&format!("lt-{i}-u1"))
                            && users.contains(&format!("lt-{i}-u2")))
                    {
                        problems.push(format!(
                            "group lt-{i}-g listed, its users (created before) not"
                        ));
                    }
                }
                reads += 1;
            }
            (reads, problems)
        });
    }

    let acked = all_at_once(&clients, |i, c| async move {
        let mut created_users = Vec::new();
        // Eight names everybody tries: exactly one creator each.
        let shared = format!("lt-shared-{}", i % 8);
        if c.create_user().user_name(&shared).send().await.is_ok() {
            created_users.push(shared);
        }
        for j in 0..3 {
            let name = format!("lt-{i}-u{j}");
            c.create_user().user_name(&name).send().await.unwrap();
            created_users.push(name);
        }
        c.create_group()
            .group_name(format!("lt-{i}-g"))
            .send()
            .await
            .unwrap();
        c.create_policy()
            .policy_name(format!("lt-{i}-p"))
            .policy_document(doc(&i.to_string()))
            .send()
            .await
            .unwrap();
        c.delete_user()
            .user_name(format!("lt-{i}-u0"))
            .send()
            .await
            .unwrap();
        created_users.retain(|n| n != &format!("lt-{i}-u0"));
        created_users
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    while let Some(r) = readers.join_next().await {
        let (reads, problems) = r.expect("reader");
        assert!(reads > 0);
        assert!(problems.is_empty(), "{problems:#?}");
    }

    let want_users: BTreeSet<String> = acked.iter().flatten().cloned().collect();
    let want_groups: BTreeSet<String> = (0..CLIENTS).map(|i| format!("lt-{i}-g")).collect();
    let want_policies: BTreeSet<String> = (0..CLIENTS).map(|i| format!("lt-{i}-p")).collect();
    assert_eq!(
        want_users.len(),
        CLIENTS * 2 + 8,
        "one creator per shared name"
    );
    let (users, groups, policies) = names(&s.srv.iam()).await;
    assert_eq!(users, want_users);
    assert_eq!(groups, want_groups);
    assert_eq!(policies, want_policies);
    // Small pages give the same totals.
    let paged = s
        .srv
        .iam()
        .list_users()
        .max_items(7)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let paged: Vec<&str> = paged
        .iter()
        .flat_map(|p| p.users())
        .map(|u| u.user_name())
        .collect();
    assert_eq!(paged.len(), want_users.len());
    assert_eq!(
        paged.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>(),
        want_users
    );
    let st = state(&s.srv.iam(), "after the burst").await;
    assert_eq!(
        st.counts(),
        (want_users.len(), want_groups.len(), want_policies.len())
    );
    if file {
        let s = s.restart().await;
        assert_state_eq(
            &state(&s.srv.iam(), "after a restart").await,
            &st,
            "after a restart",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listings_match_acknowledged_creates_memory() {
    listings_match_acknowledged_creates(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listings_match_acknowledged_creates_file() {
    listings_match_acknowledged_creates(true).await;
}

// ---------------------------------------------------------------------------------------------
// Writes that fail part-way leave nothing

/// The failing writes: what each does and the error it must get.
const FAILING: &[(&str, &str, u16)] = &[
    ("CreateUser with 51 tags", "ValidationError", 400),
    (
        "CreateUser with a permissions boundary that does not exist",
        "NoSuchEntity",
        404,
    ),
    ("CreateUser with a tag key twice", "InvalidInput", 400),
    (
        "CreateUser of an existing name, with tags",
        "EntityAlreadyExists",
        409,
    ),
    ("TagUser past 50 tags", "LimitExceeded", 409),
    (
        "UpdateUser to a new path and a taken name",
        "EntityAlreadyExists",
        409,
    ),
    (
        "CreatePolicy with a malformed document",
        "MalformedPolicyDocument",
        400,
    ),
    (
        "CreatePolicy of an existing name",
        "EntityAlreadyExists",
        409,
    ),
    ("AttachUserPolicy past 10 policies", "LimitExceeded", 409),
    ("CreateAccessKey past 2 keys", "LimitExceeded", 409),
    ("DeleteUser of a group member", "DeleteConflict", 409),
    ("DeleteGroup of a group with members", "DeleteConflict", 409),
    (
        "AddUserToGroup of a user that does not exist",
        "NoSuchEntity",
        404,
    ),
];

async fn failing_write(c: &Client, kind: usize, i: usize) -> Answer {
    let many = |n: usize| {
        (0..n)
            .map(|k| tag(&format!("k{k}"), "v"))
            .collect::<Vec<_>>()
    };
    match kind {
        0 => answer(
            c.create_user()
                .user_name(format!("bad-{i}"))
                .set_tags(Some(many(51)))
                .send()
                .await,
        ),
        1 => answer(
            c.create_user()
                .user_name(format!("bad-{i}"))
                .permissions_boundary(arn("no-such-policy"))
                .send()
                .await,
        ),
        2 => answer(
            c.create_user()
                .user_name(format!("bad-{i}"))
                .tags(tag("dup", "1"))
                .tags(tag("DUP", "2"))
                .send()
                .await,
        ),
        3 => answer(
            c.create_user()
                .user_name("Keeper")
                .tags(tag("intruder", &i.to_string()))
                .send()
                .await,
        ),
        4 => answer(
            c.tag_user()
                .user_name("keeper")
                .tags(tag(&format!("extra-{i}-a"), "v"))
                .tags(tag(&format!("extra-{i}-b"), "v"))
                .tags(tag(&format!("extra-{i}-c"), "v"))
                .send()
                .await,
        ),
        5 => answer(
            c.update_user()
                .user_name("keeper")
                .new_path("/moved/")
                .new_user_name("member")
                .send()
                .await,
        ),
        6 => answer(
            c.create_policy()
                .policy_name(format!("bad-{i}"))
                .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}"#)
                .send()
                .await,
        ),
        7 => answer(
            c.create_policy()
                .policy_name("P-0")
                .policy_document(doc("intruder"))
                .send()
                .await,
        ),
        8 => answer(
            c.attach_user_policy()
                .user_name("full")
                .policy_arn(arn("p-10"))
                .send()
                .await,
        ),
        9 => answer(c.create_access_key().user_name("full").send().await),
        10 => answer(c.delete_user().user_name("member").send().await),
        11 => answer(c.delete_group().group_name("team").send().await),
        _ => answer(
            c.add_user_to_group()
                .user_name(format!("bad-{i}"))
                .group_name("team")
                .send()
                .await,
        ),
    }
}

async fn failed_writes_leave_nothing(file: bool) {
    let s = Setup::start(file).await;
    let iam = s.srv.iam();
    // keeper: 48 tags; member: in team; full: 10 policies and 2 keys.
    iam.create_user()
        .user_name("keeper")
        .set_tags(Some((0..48).map(|k| tag(&format!("t{k}"), "v")).collect()))
        .send()
        .await
        .unwrap();
    for u in ["member", "full"] {
        iam.create_user().user_name(u).send().await.unwrap();
    }
    iam.create_group().group_name("team").send().await.unwrap();
    iam.add_user_to_group()
        .user_name("member")
        .group_name("team")
        .send()
        .await
        .unwrap();
    for p in 0..11 {
        iam.create_policy()
            .policy_name(format!("p-{p}"))
            .policy_document(doc(&format!("p-{p}")))
            .send()
            .await
            .unwrap();
        if p < 10 {
            iam.attach_user_policy()
                .user_name("full")
                .policy_arn(arn(&format!("p-{p}")))
                .send()
                .await
                .unwrap();
        }
    }
    for _ in 0..2 {
        iam.create_access_key()
            .user_name("full")
            .send()
            .await
            .unwrap();
    }
    let before = state(&iam, "before").await;

    // Half the clients send failing writes, the other half writes that succeed, at once (so that
    // a store committing writes in groups has both kinds in one group).
    let clients = s.clients(CLIENTS);
    let results = all_at_once(&clients, |i, c| async move {
        if i % 2 == 0 {
            let kind = (i / 2) % FAILING.len();
            (kind, failing_write(&c, kind, i).await)
        } else {
            let name = format!("ok-{i}");
            let r = async {
                c.create_user()
                    .user_name(&name)
                    .tags(tag("ok", "1"))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| describe(&e))?;
                c.add_user_to_group()
                    .user_name(&name)
                    .group_name("team")
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| describe(&e))
            }
            .await;
            assert!(r.is_ok(), "{name}: {r:?}");
            (usize::MAX, Ok(()))
        }
    })
    .await;
    let mut wrong = Vec::new();
    for (kind, r) in &results {
        if *kind == usize::MAX {
            continue;
        }
        let (what, code, status) = FAILING[*kind];
        if r != &Err((code.to_string(), status)) {
            wrong.push(format!("{what}: expected {code} ({status}), got {r:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The state is the state before plus the successful writes, nothing of the failed ones.
    let mut expected = before.clone();
    let now = state(&iam, "after the burst").await;
    for i in (1..CLIENTS).step_by(2) {
        let name = format!("ok-{i}");
        let u = now
            .users
            .get(&name)
            .unwrap_or_else(|| panic!("{name} missing"));
        expected.users.insert(
            name.clone(),
            UserState {
                id: u.id.clone(),
                path: "/".into(),
                tags: BTreeMap::from([("ok".to_string(), "1".to_string())]),
                groups: BTreeSet::from(["team".to_string()]),
                ..UserState::default()
            },
        );
        expected
            .groups
            .get_mut("team")
            .unwrap()
            .members
            .insert(name);
    }
    assert_state_eq(
        &now,
        &expected,
        "after failing and succeeding writes at once",
    );
    if file {
        let s = s.restart().await;
        assert_state_eq(
            &state(&s.srv.iam(), "after a restart").await,
            &expected,
            "after a restart: nothing of the failed writes reached the database",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_writes_leave_nothing_memory() {
    failed_writes_leave_nothing(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_writes_leave_nothing_file() {
    failed_writes_leave_nothing(true).await;
}

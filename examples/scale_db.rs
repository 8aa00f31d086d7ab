//! Builds a large database for the scale measurements (README, "Performance"):
//!
//!   cargo run --release --example scale_db -- FILE [USERS] [GROUPS] [POLICIES]
//!
//! Writes USERS users (default 100,000), GROUPS groups (10,000) and POLICIES managed policies
//! (10,000) into account 000000000000 of the SQLite file FILE, through the store's own write path
//! (1,000 entities per call). Every user has two tags, belongs to one group and has one policy
//! attached; every group has one policy attached. Then start the server on it:
//!
//!   target/release/localiam --db FILE
//!
//! and measure start-up, memory and the load benchmark (`examples/loadtest.rs --url`).

use std::time::Instant;

use localiam::store::model::{Group, ManagedPolicy, Tag, User};
use localiam::store::{Store, StoreError};

const ACCOUNT: &str = "000000000000";
const CHUNK: usize = 1000;
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::bucket/*"}]}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .get(1)
        .ok_or("usage: scale_db FILE [USERS] [GROUPS] [POLICIES]")?;
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (users, groups, policies) = (arg(2, 100_000), arg(3, 10_000), arg(4, 10_000));
    let started = Instant::now();
    let store = Store::open(file).await?;

    let mut policy_ids = Vec::with_capacity(policies);
    for chunk in (0..policies).collect::<Vec<_>>().chunks(CHUNK) {
        let chunk = chunk.to_vec();
        let ids = store
            .write(move |tx| {
                let mut ids = Vec::new();
                for i in chunk {
                    let p = ManagedPolicy::new(ACCOUNT, &format!("policy-{i:06}"), "/", None, DOC);
                    ids.push(tx.insert(p)?.policy_id.clone());
                }
                Ok::<_, StoreError>(ids)
            })
            .await?;
        policy_ids.extend(ids);
    }
    let mut group_ids = Vec::with_capacity(groups);
    for chunk in (0..groups).collect::<Vec<_>>().chunks(CHUNK) {
        let chunk = chunk.to_vec();
        let pids = policy_ids.clone();
        let ids = store
            .write(move |tx| {
                let mut ids = Vec::new();
                for i in chunk {
                    let mut g = Group::new(ACCOUNT, &format!("group-{i:06}"), "/");
                    g.attached.push(pids[i % pids.len()].clone());
                    ids.push(tx.insert(g)?.group_id.clone());
                }
                Ok::<_, StoreError>(ids)
            })
            .await?;
        group_ids.extend(ids);
    }
    for chunk in (0..users).collect::<Vec<_>>().chunks(CHUNK) {
        let chunk = chunk.to_vec();
        let (pids, gids) = (policy_ids.clone(), group_ids.clone());
        store
            .write(move |tx| {
                for i in chunk {
                    let mut u = User::new(ACCOUNT, &format!("user-{i:06}"), "/scale/");
                    u.tags = vec![Tag::new("team", "scale"), Tag::new("index", &i.to_string())];
                    if !gids.is_empty() {
                        u.groups.push(gids[i % gids.len()].clone());
                    }
                    if !pids.is_empty() {
                        u.attached.push(pids[i % pids.len()].clone());
                    }
                    tx.insert(u)?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
    }
    store.close().await;
    println!(
        "{file}: {users} users, {groups} groups, {policies} policies in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

//! The store's cost per operation as the state grows (issue 7: each within 1.2× of its cost at
//! 1,000 entities when the account holds 100,000 users, 10,000 groups and 10,000 policies):
//!
//!   cargo bench --bench store
//!
//! `get_user` and `list_users` read a snapshot (what GetUser and ListUsers do after SigV4);
//! `create_user` and `attach_user_policy` are one write each through the writer, committed to an
//! in-memory SQLite database (a batch of one: the most a single call can cost).

use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use localiam::store::model::{Group, ManagedPolicy, User};
use localiam::store::{Store, StoreError};

const ACCOUNT: &str = "000000000000";
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

/// A store holding `users` users, a tenth as many groups and policies.
fn filled(rt: &tokio::runtime::Runtime, users: usize) -> (Store, Vec<String>) {
    rt.block_on(async {
        let store = Store::open(":memory:").await.expect("store");
        let mut policies = Vec::new();
        for start in (0..users / 10).step_by(1000) {
            let ids = store
                .write(move |tx| {
                    let mut ids = Vec::new();
                    for i in start..(start + 1000).min(users / 10) {
                        let p = ManagedPolicy::new(ACCOUNT, &format!("p{i:06}"), "/", None, DOC);
                        ids.push(tx.insert(p)?.policy_id.clone());
                        tx.insert(Group::new(ACCOUNT, &format!("g{i:06}"), "/"))?;
                    }
                    Ok::<_, StoreError>(ids)
                })
                .await
                .expect("policies");
            policies.extend(ids);
        }
        for start in (0..users).step_by(1000) {
            store
                .write(move |tx| {
                    for i in start..(start + 1000).min(users) {
                        tx.insert(User::new(ACCOUNT, &format!("u{i:06}"), "/"))?;
                    }
                    Ok::<_, StoreError>(())
                })
                .await
                .expect("users");
        }
        (store, policies)
    })
}

fn store_ops(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("store");
    for users in [1_000usize, 100_000] {
        let (store, policies) = filled(&rt, users);
        let probe = format!("U{:06}", users / 2);
        group.bench_with_input(BenchmarkId::new("get_user", users), &users, |b, _| {
            b.iter(|| {
                let model = store.read();
                black_box(model.account(ACCOUNT).users.get(&probe).is_some())
            })
        });
        group.bench_with_input(BenchmarkId::new("list_users", users), &users, |b, _| {
            b.iter(|| {
                let model = store.read();
                black_box(
                    model
                        .account(ACCOUNT)
                        .users
                        .list(None, Some("u000500"), 100),
                )
            })
        });
        let n = AtomicUsize::new(0);
        group.bench_with_input(BenchmarkId::new("create_user", users), &users, |b, _| {
            b.iter(|| {
                let name = format!("new{}", n.fetch_add(1, Ordering::Relaxed));
                rt.block_on(
                    store.write(move |tx| {
                        tx.insert(User::new("111111111111", &name, "/")).map(|_| ())
                    }),
                )
                .expect("create")
            })
        });
        let i = AtomicUsize::new(0);
        group.bench_with_input(
            BenchmarkId::new("attach_user_policy", users),
            &users,
            |b, _| {
                b.iter(|| {
                    let k = i.fetch_add(1, Ordering::Relaxed);
                    let user = format!("u{:06}", k % users);
                    let policy = policies[k % policies.len()].clone();
                    rt.block_on(store.write(move |tx| {
                        let id = tx
                            .account(ACCOUNT)
                            .users
                            .get(&user)
                            .map(|u| u.user_id.clone())
                            .ok_or(StoreError::NotFound)?;
                        tx.update(ACCOUNT, &id, |u: &mut User| {
                            if !u.attached.contains(&policy) {
                                u.attached.push(policy)
                            }
                        })
                        .map(|_| ())
                    }))
                    .expect("attach")
                })
            },
        );
        rt.block_on(store.close());
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = store_ops
}
criterion_main!(benches);

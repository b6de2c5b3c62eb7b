//! The shared store on PostgreSQL, against a raw transaction on the same
//! server, in the same run:
//!
//! - `commit_postgres`: a one-key change, against a raw one-row
//!   `INSERT … ON CONFLICT` transaction;
//! - `throughput`: 240 one-key changes by 1, 2 and 8 writers (each with its
//!   own Store and connections, as separate processes would have), on one
//!   App and on 8 Apps;
//! - `watch_latency`: from a commit returning to a watcher on its own
//!   connection (as another process) having the version;
//! - `deploy_postgres`: the deployment of `deploy.rs` (snapshot an
//!   Environment at its latest version, ten changes back or an early one,
//!   resolve a workload)
//!   on the server, against one raw `SELECT` of the 1,000 values, 50
//!   XChaCha20-Poly1305 opens and the substitution by hand.
//!
//! Needs the `postgres` feature and a server:
//! `VALUESET_BENCH_POSTGRES=$(scripts/postgres-test-server start) cargo bench --features postgres --bench shared`.
//! Figures are in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use valueset::backend::PostgresBackend;
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{SetOptions, WatchOptions};
use valueset::{Actor, AppId, Key, MasterKey, Store};

#[path = "common/deploy_fixture.rs"]
mod deploy_fixture;

/// A fresh table name per fixture, so that runs do not meet.
fn table(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "bench_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn url() -> String {
    std::env::var("VALUESET_BENCH_POSTGRES")
        .expect("VALUESET_BENCH_POSTGRES must name a server (scripts/postgres-test-server start)")
}

fn store(table: &str) -> Store {
    let backend = PostgresBackend::connect_table(&url(), table).expect("connect");
    Store::builder().open_with_backend(backend).expect("store")
}

fn admin() -> Actor {
    Actor::admin("bench")
}

fn set(store: &Store, app: &AppId, n: u64) {
    let key = Key::new(format!("K{}", n % 100)).expect("key");
    let v = store
        .set(
            &admin(),
            app,
            None,
            &key,
            NewValue::plain(n.to_string()),
            SetOptions::default(),
        )
        .expect("set");
    black_box(v);
}

fn commit(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit_postgres");
    let url = url();
    let raw_table = table("raw");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!(
            "CREATE TABLE {raw_table} (k bytea PRIMARY KEY, v bytea NOT NULL)"
        ))
        .expect("table");
    let insert = format!(
        "INSERT INTO {raw_table} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
    );
    let mut n = 0u64;
    group.bench_function("raw_insert_transaction", |b| {
        b.iter(|| {
            n += 1;
            let mut tx = client.transaction().expect("begin");
            let key = (n % 100).to_be_bytes();
            tx.execute(&insert, &[&&key[..], &&n.to_be_bytes()[..]])
                .expect("insert");
            tx.commit().expect("commit");
        });
    });
    let store = store(&table("commit"));
    let app = AppId::new("bench").expect("id");
    store.create_app(&admin(), &app).expect("app");
    let mut n = 0u64;
    group.bench_function("valueset", |b| {
        b.iter(|| {
            n += 1;
            set(&store, &app, n);
        });
    });
    group.finish();
}

/// How many changes a throughput sample makes, split among the writers.
const THROUGHPUT_CHANGES: u64 = 240;

/// `changes` one-key changes by `writers` threads, each with its own store
/// over the one table, on one App or one App each.
fn run_writers(table: &str, writers: usize, apps: usize, changes: u64) -> Duration {
    let stores: Vec<Store> = (0..writers).map(|_| store(table)).collect();
    let per_writer = changes / writers as u64;
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (w, store) in stores.iter().enumerate() {
            scope.spawn(move || {
                let app = AppId::new(format!("app-{}", w % apps)).expect("id");
                for n in 0..per_writer {
                    set(store, &app, n);
                }
            });
        }
    });
    start.elapsed()
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("throughput");
    group.sample_size(10);
    for apps in [1usize, 8] {
        let table = table("throughput");
        let setup = store(&table);
        for a in 0..apps {
            let app = AppId::new(format!("app-{a}")).expect("id");
            setup.create_app(&admin(), &app).expect("app");
        }
        for writers in [1usize, 2, 8] {
            let name = format!("{writers}_writers_{apps}_apps");
            group.bench_function(&name, |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            run_writers(&table, writers, apps.min(writers), THROUGHPUT_CHANGES)
                        })
                        .sum()
                });
            });
        }
    }
    group.finish();
}

fn watch_latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("watch_latency");
    let table = table("watch");
    let writer = store(&table);
    let app = AppId::new("bench").expect("id");
    writer.create_app(&admin(), &app).expect("app");
    // The watcher has a store, connections and a listener of its own.
    let watcher = Arc::new(store(&table));
    let mut watch = watcher
        .watch(&admin(), &app, WatchOptions::default())
        .expect("watch");
    let mut n = 0u64;
    group.bench_function("commit_to_watcher", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                set(&writer, &app, n);
                let committed = Instant::now();
                let event = watch
                    .next_timeout(Duration::from_secs(10))
                    .expect("watch")
                    .expect("a version");
                total += committed.elapsed();
                black_box(event);
            }
            total
        });
    });
    group.finish();
}

fn deploy(c: &mut Criterion) {
    let mut group = c.benchmark_group("deploy_postgres");
    let raw_table = table("deploy_raw");
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!(
            "CREATE TABLE {raw_table} (k bytea PRIMARY KEY, v bytea NOT NULL)"
        ))
        .expect("table");
    let cipher = deploy_fixture::raw_cipher();
    for (k, v) in deploy_fixture::raw_rows(&cipher) {
        client
            .execute(
                &format!("INSERT INTO {raw_table} (k, v) VALUES ($1, $2)"),
                &[&k.as_bytes(), &v],
            )
            .expect("insert");
    }
    let select = client
        .prepare(&format!("SELECT k, v FROM {raw_table} ORDER BY k"))
        .expect("prepare");
    let backend = PostgresBackend::connect_table(&url(), &table("deploy")).expect("connect");
    let store = Store::builder()
        .master_key(MasterKey::from_bytes([9; 32]))
        .open_with_backend(backend)
        .expect("store");
    let fixture = deploy_fixture::build(store);
    let mut raw = || {
        let rows = client.query(&select, &[]).expect("select");
        let rows = rows
            .iter()
            .map(|r| (r.get::<_, &[u8]>(0), r.get::<_, &[u8]>(1)));
        deploy_fixture::raw_deploy(rows, &cipher, &fixture.workload)
    };
    assert!(raw() > 0 && fixture.deploy(VersionSelector::Latest) > 0);
    group.bench_function("raw", |b| b.iter(|| black_box(raw())));
    group.bench_function("valueset_latest", |b| {
        b.iter(|| black_box(fixture.deploy(VersionSelector::Latest)));
    });
    group.bench_function("valueset_recent", |b| {
        b.iter(|| black_box(fixture.deploy(VersionSelector::Id(fixture.recent))));
    });
    group.bench_function("valueset_old", |b| {
        b.iter(|| black_box(fixture.deploy(VersionSelector::Id(fixture.old))));
    });
    group.finish();
}

criterion_group!(benches, commit, throughput, watch_latency, deploy);
criterion_main!(benches);

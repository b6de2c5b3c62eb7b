//! The history engine's scale (issue: "cost follows the work, not the size
//! of what is stored"), with baselines in the same groups:
//!
//! - `commit/depth_{100,100000}`: a one-key change on a 10,000-key App whose
//!   history is 100 or 100,000 versions deep; baseline `raw_backend`: the
//!   same backend applying a two-key batch;
//! - `bubble/envs_{0,1000}`: a one-key App change with 0 or 1,000 diverged
//!   Environments;
//! - `read_version/depth_{100,100000}`: reading one version's full set of
//!   10,000 keys at each depth; baseline `btreemap_clone`: cloning a
//!   materialised 10,000-entry map;
//! - `read_version_sled/depth_{100,100000}`: the same reads on a sled store,
//!   opened anew after it was written, with the default page cache;
//!   baseline `raw_scan`: one sled range scan of 10,000 entries about as
//!   large;
//! - printed, not timed: stored bytes per change for 100,000 one-key changes
//!   on a 10,000-key App.
//!
//! Run: `cargo bench --bench history` (`-- read_version_sled` for the sled
//! reads alone); figures are in BENCHMARKS.md.

// The storage figure is printed, not timed.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::ControlFlow;
use std::time::Duration;

use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use valueset::backend::{Backend, Batch, MemoryBackend};
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, SetOptions};
use valueset::{Actor, AppId, EnvId, Key, Store, VersionId};

#[path = "common/temp_dir.rs"]
mod temp_dir;
use temp_dir::Dir;

const KEYS: usize = 10_000;

struct Fixture {
    store: Store,
    /// The backend of an in-memory fixture, to count what it stores.
    memory: Option<Arc<MemoryBackend>>,
    admin: Actor,
    app: AppId,
    keys: Vec<Key>,
    counter: u64,
}

impl Fixture {
    /// An App with `KEYS` keys (one batch), then `depth - 1` one-key
    /// changes, in memory.
    fn new(depth: usize) -> Fixture {
        let memory = Arc::new(MemoryBackend::new());
        let store = Store::builder()
            .open_with_backend(Arc::clone(&memory))
            .expect("store");
        let mut f = Fixture::on(store, depth);
        f.memory = Some(memory);
        f
    }

    /// The same history in `store`.
    fn on(store: Store, depth: usize) -> Fixture {
        let admin = Actor::admin("bench");
        let app = AppId::new("bench").expect("valid id");
        store.create_app(&admin, &app).expect("new app");
        let keys: Vec<Key> = (0..KEYS)
            .map(|i| Key::new(format!("key.{i:05}")).expect("valid key"))
            .collect();
        let mut batch = ChangeSet::new();
        for k in &keys {
            batch = batch.set(k.clone(), NewValue::plain(format!("initial value of {k}")));
        }
        store
            .apply(&admin, &app, None, batch, DeleteOptions::default())
            .expect("batch");
        let mut f = Fixture {
            store,
            memory: None,
            admin,
            app,
            keys,
            counter: 0,
        };
        for _ in 1..depth {
            f.change();
        }
        f
    }

    /// One one-key change, to a new value.
    fn change(&mut self) -> VersionId {
        self.counter += 1;
        let key = &self.keys[usize::try_from(self.counter).expect("fits") * 7919 % KEYS];
        self.store
            .set(
                &self.admin,
                &self.app,
                None,
                key,
                NewValue::plain(format!("value number {}", self.counter)),
                SetOptions::default(),
            )
            .expect("set")
            .id
    }

    fn stored_bytes(&self) -> usize {
        let mut bytes = 0;
        let memory = self.memory.as_ref().expect("an in-memory fixture");
        memory
            .scan(&[], &[0xFF; 4], false, &mut |k, v| {
                bytes += k.len() + v.len();
                ControlFlow::Continue(())
            })
            .expect("scan");
        bytes
    }
}

fn commit(c: &mut Criterion) {
    let mut g = c.benchmark_group("commit");
    for depth in [100, 100_000] {
        let mut f = Fixture::new(depth);
        g.bench_function(format!("depth_{depth}/valueset"), |b| {
            b.iter(|| {
                let id = f.change();
                assert!(id.to_string().starts_with('a'));
            });
        });
    }
    // The backend alone: two inserts in one batch into a map as large.
    let raw = MemoryBackend::new();
    let mut batch = Batch::new();
    for i in 0..(KEYS as u64 + 200_000) {
        batch.insert(i.to_be_bytes().to_vec(), vec![0; 40]);
    }
    raw.apply(batch).expect("apply");
    let mut n = 0u64;
    g.bench_function("depth_100000/raw_backend", |b| {
        b.iter(|| {
            n += 1;
            let mut batch = Batch::new();
            batch.insert((n * 7919 % 10_000).to_be_bytes().to_vec(), vec![1; 40]);
            batch.insert(b"meta".to_vec(), n.to_be_bytes().to_vec());
            raw.apply(batch).expect("apply");
            assert_eq!(raw.get(b"meta").expect("get").map(|v| v.len()), Some(8));
        });
    });
    g.finish();
}

fn bubble(c: &mut Criterion) {
    let mut g = c.benchmark_group("bubble");
    for envs in [0usize, 1000] {
        let mut f = Fixture::new(100);
        for i in 0..envs {
            let env = EnvId::new(format!("env-{i}")).expect("valid id");
            f.store.create_env(&f.admin, &f.app, &env).expect("env");
            f.store
                .set(
                    &f.admin,
                    &f.app,
                    Some(&env),
                    &f.keys[i % KEYS],
                    NewValue::plain("override"),
                    SetOptions::default(),
                )
                .expect("override");
        }
        g.bench_function(format!("envs_{envs}/valueset"), |b| {
            b.iter(|| black_box(f.change()));
        });
    }
    g.finish();
}

/// A version in the middle of `f`'s history of `depth` versions.
fn middle(f: &Fixture, depth: usize) -> VersionId {
    let history = f
        .store
        .history(
            &f.admin,
            &f.app,
            None,
            valueset::store::HistoryOptions {
                limit: Some(depth / 2),
                ..Default::default()
            },
        )
        .expect("history");
    history.last().expect("versions").id
}

/// Reads the full set at `version`, checking that it has every key.
fn read_at(f: &Fixture, version: VersionId) {
    let v = f
        .store
        .version(&f.admin, &f.app, None, VersionSelector::Id(version))
        .expect("version");
    assert_eq!(v.values.len(), KEYS);
}

fn read_version(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_version");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for depth in [100, 100_000] {
        let f = Fixture::new(depth);
        let version = middle(&f, depth);
        g.bench_function(format!("depth_{depth}/valueset"), |b| {
            b.iter(|| read_at(&f, version));
        });
        if depth == 100_000 {
            let changes = 100_000 - 1;
            let initial = Fixture::new(1).stored_bytes();
            let bytes = f.stored_bytes();
            println!(
                "storage: {KEYS} keys, {changes} one-key changes: {bytes} bytes in all, \
                 {} bytes per change after the initial {initial} bytes",
                (bytes - initial) / changes
            );
        }
    }
    let map: BTreeMap<String, String> = (0..KEYS)
        .map(|i| {
            (
                format!("key.{i:05}"),
                format!("initial value of key.{i:05}"),
            )
        })
        .collect();
    g.bench_function("any_depth/btreemap_clone", |b| {
        b.iter_batched(
            || (),
            |()| assert_eq!(map.clone().len(), KEYS),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

fn read_version_sled(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_version_sled");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for depth in [100, 100_000] {
        let dir = Dir::new(&format!("history-{depth}"));
        let mut f = Fixture::on(Store::open(&dir.0).expect("open"), depth);
        // Read as a service does: from a store it opened, not the one that
        // wrote it (whose page cache holds what the writes left). The
        // writer lets go of the directory first.
        drop(std::mem::replace(&mut f.store, Store::in_memory()));
        f.store = Store::open(&dir.0).expect("reopen");
        let version = middle(&f, depth);
        g.bench_function(format!("depth_{depth}/valueset"), |b| {
            b.iter(|| read_at(&f, version));
        });
    }
    // The least a read of 10,000 stored values does: one range scan of
    // 10,000 entries about as large as valueset's (key and about 100 bytes).
    let dir = Dir::new("history-raw");
    let db = sled::open(&dir.0).expect("sled");
    for i in 0..KEYS {
        let key = format!("H bench 1 key.{i:05} 00000001");
        db.insert(key.as_bytes(), vec![7u8; 100]).expect("insert");
    }
    db.flush().expect("flush");
    g.bench_function("any_depth/raw_scan", |b| {
        b.iter(|| {
            let mut read = 0;
            for item in db.iter() {
                let (key, value) = item.expect("scan");
                read += usize::from(!key.is_empty() && !value.is_empty());
            }
            assert_eq!(read, KEYS);
        });
    });
    g.finish();
}

criterion_group!(benches, commit, bubble, read_version, read_version_sled);
criterion_main!(benches);

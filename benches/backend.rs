//! The durable store against raw sled, in the same run:
//!
//! - `commit_durable`: a one-key change and `flush`, against a raw sled
//!   two-key transaction and `flush`;
//! - `commit`: the same without `flush`;
//! - `secret_round_trip`: storing a secret and resolving it, against raw
//!   XChaCha20-Poly1305 seal + sled insert + get + open of the same bytes.
//!
//! With `VALUESET_BENCH_SIZE=1` it also prints the database size after
//! 100,000 one-key changes on a 10,000-key App (slow to build).
//!
//! Run: `cargo bench --bench backend`; figures are in BENCHMARKS.md.

// The size figure is printed, not timed.
#![allow(clippy::print_stdout)]

use std::hint::black_box;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use criterion::{Criterion, criterion_group, criterion_main};
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, SetOptions};
use valueset::{Actor, AppId, EnvId, Key, MasterKey, Secret, Store};

#[path = "common/temp_dir.rs"]
mod temp_dir;
use temp_dir::Dir;

struct Fixture {
    dir: Dir,
    store: Store,
    admin: Actor,
    app: AppId,
    env: EnvId,
    n: u64,
}

fn fixture(name: &str) -> Fixture {
    let dir = Dir::new(name);
    let store = Store::builder()
        .master_key(MasterKey::from_bytes([9; 32]))
        .open(&dir.0)
        .expect("open");
    let admin = Actor::admin("bench");
    let app = AppId::new("bench").expect("id");
    let env = EnvId::new("prod").expect("id");
    store.create_app(&admin, &app).expect("app");
    store.create_env(&admin, &app, &env).expect("env");
    Fixture {
        dir,
        store,
        admin,
        app,
        env,
        n: 0,
    }
}

impl Fixture {
    fn set(&mut self) {
        self.n += 1;
        let key = Key::new(format!("K{}", self.n % 100)).expect("key");
        self.store
            .set(
                &self.admin,
                &self.app,
                None,
                &key,
                NewValue::plain(format!("value {}", self.n)),
                SetOptions::default(),
            )
            .expect("set");
    }
}

fn raw_sled(name: &str) -> (Dir, sled::Db, sled::Tree) {
    let dir = Dir::new(name);
    let db = sled::open(&dir.0).expect("open");
    let tree = db.open_tree("raw").expect("tree");
    (dir, db, tree)
}

fn raw_transaction(tree: &sled::Tree, n: u64) {
    tree.transaction(|t| {
        t.insert(&(n % 100).to_be_bytes(), format!("value {n}").as_bytes())?;
        t.insert(b"meta", &n.to_be_bytes())?;
        Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
    })
    .expect("transaction");
}

fn commits(c: &mut Criterion) {
    let mut g = c.benchmark_group("commit_durable");
    g.sample_size(30);
    let (_d, db, tree) = raw_sled("raw-durable");
    let mut n = 0;
    g.bench_function("raw_sled", |b| {
        b.iter(|| {
            n += 1;
            raw_transaction(&tree, n);
            db.flush().expect("flush");
        });
    });
    let mut f = fixture("durable");
    g.bench_function("valueset", |b| {
        b.iter(|| {
            f.set();
            f.store.flush().expect("flush");
        });
    });
    g.finish();

    let mut g = c.benchmark_group("commit");
    let (_d, _db, tree) = raw_sled("raw-commit");
    let mut n = 0;
    g.bench_function("raw_sled", |b| {
        b.iter(|| {
            n += 1;
            raw_transaction(&tree, n);
        });
    });
    let mut f = fixture("commit");
    g.bench_function("valueset", |b| b.iter(|| f.set()));
    g.finish();
}

fn secrets(c: &mut Criterion) {
    let mut g = c.benchmark_group("secret_round_trip");
    let plaintext = "postgres-password-0123456789abcdef";
    let (_d, _db, tree) = raw_sled("raw-secret");
    let cipher = XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng));
    g.bench_function("raw_aead_sled", |b| {
        b.iter(|| {
            let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let aad = b"bench/_app/PW/1";
            let sealed = cipher
                .encrypt(
                    &nonce,
                    Payload {
                        msg: plaintext.as_bytes(),
                        aad,
                    },
                )
                .expect("seal");
            let mut record = nonce.to_vec();
            record.extend_from_slice(&sealed);
            tree.insert(b"S-bench", record).expect("insert");
            let stored = tree.get(b"S-bench").expect("get").expect("there");
            let (nonce, sealed) = stored.split_at(24);
            let opened = cipher
                .decrypt(nonce.into(), Payload { msg: sealed, aad })
                .expect("open");
            assert_eq!(opened.len(), plaintext.len());
        });
    });
    let f = fixture("secret");
    let key = Key::new("PW").expect("key");
    let mut n = 0u64;
    g.bench_function("valueset", |b| {
        b.iter(|| {
            n += 1;
            // A different value each time, so each put stores a new secret.
            let value = format!("{plaintext}{}", n % 10);
            f.store
                .set(
                    &f.admin,
                    &f.app,
                    None,
                    &key,
                    NewValue::secret(Secret::new(value)),
                    SetOptions::default(),
                )
                .expect("set");
            let snapshot = f
                .store
                .snapshot(&f.admin, &f.app, &f.env, VersionSelector::Latest)
                .expect("snapshot");
            let out = snapshot
                .resolver()
                .resolve_str("${values.PW}")
                .expect("resolve");
            assert!(out.is_secret());
            black_box(out);
        });
    });
    g.finish();
}

fn size(_: &mut Criterion) {
    if std::env::var("VALUESET_BENCH_SIZE").is_err() {
        return;
    }
    let f = fixture("size");
    let keys: Vec<Key> = (0..10_000)
        .map(|i| Key::new(format!("key.{i:05}")).expect("key"))
        .collect();
    let batch = keys.iter().fold(ChangeSet::new(), |b, k| {
        b.set(k.clone(), NewValue::plain(format!("initial value of {k}")))
    });
    f.store
        .apply(&f.admin, &f.app, None, batch, DeleteOptions::default())
        .expect("batch");
    f.store.flush().expect("flush");
    let initial = dir_size(&f.dir.0);
    for i in 1..=100_000usize {
        f.store
            .set(
                &f.admin,
                &f.app,
                None,
                &keys[i * 7919 % 10_000],
                NewValue::plain(format!("value number {i}")),
                SetOptions::default(),
            )
            .expect("set");
    }
    f.store.flush().expect("flush");
    let total = dir_size(&f.dir.0);
    println!(
        "size: 10,000 keys then 100,000 one-key changes: {total} bytes on disk ({initial} after the keys)"
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).expect("read_dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

criterion_group!(benches, commits, secrets, size);
criterion_main!(benches);

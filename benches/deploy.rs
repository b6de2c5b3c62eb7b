//! The path a deployment takes, on sled, against the least any store must
//! do, in the same run:
//!
//! - `valueset_latest` / `valueset_old`: `Store::snapshot` of an
//!   Environment at its latest version, or at one from early in its
//!   history, then `resolve_workload` of 50 variables using 100
//!   placeholders, 10 of them secrets;
//! - `raw`: a sled range scan of the 1,000 values, 50 XChaCha20-Poly1305
//!   opens, and the same substitution by hand (find `${`, look the path up,
//!   copy).
//!
//! The data: an App of 1,000 keys (50 secrets), an Environment that
//! overrides 200 of them, and 10,000 versions of history (one-key changes
//! after the initial sets).
//!
//! Run: `cargo bench --bench deploy`; figures are in BENCHMARKS.md.

use std::collections::HashMap;
use std::hint::black_box;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use criterion::{Criterion, criterion_group, criterion_main};
use valueset::model::{NewValue, VersionSelector};
use valueset::resolve::Workload;
use valueset::store::{ChangeSet, WriteOptions};
use valueset::{Actor, AppId, EnvId, Key, MasterKey, Secret, Store, VersionId};

const KEYS: usize = 1_000;
const SECRETS: usize = 50;
const OVERRIDES: usize = 200;
const VERSIONS: usize = 10_000;
const VARIABLES: usize = 50;

#[path = "common/temp_dir.rs"]
mod temp_dir;
use temp_dir::Dir;

fn key(i: usize) -> Key {
    Key::new(format!("KEY_{i:04}")).expect("key")
}

fn value(i: usize, round: usize) -> String {
    format!("value-{i}-{round}-{}", "x".repeat(i % 23))
}

/// The store with its history; the id of an early version of the
/// Environment's history.
fn build(dir: &Dir) -> (Store, Actor, AppId, EnvId, VersionId) {
    let store = Store::builder()
        .master_key(MasterKey::from_bytes([9; 32]))
        .open(&dir.0)
        .expect("open");
    let admin = Actor::admin("bench");
    let app = AppId::new("bench").expect("id");
    let env = EnvId::new("prod").expect("id");
    store.create_app(&admin, &app).expect("app");
    store.create_env(&admin, &app, &env).expect("env");
    let mut all = ChangeSet::new();
    for i in 0..KEYS {
        let v = if i < SECRETS {
            NewValue::secret(Secret::new(value(i, 0)))
        } else {
            NewValue::plain(value(i, 0))
        };
        all = all.set(key(i), v);
    }
    store
        .apply(&admin, &app, all, WriteOptions::default())
        .expect("values");
    let mut overrides = ChangeSet::new();
    for i in (0..KEYS).step_by(KEYS / OVERRIDES) {
        overrides = overrides.set(key(i), NewValue::plain(value(i, 1)));
    }
    let in_env = WriteOptions {
        env: Some(env.clone()),
        ..WriteOptions::default()
    };
    let old = store
        .apply(&admin, &app, overrides, in_env)
        .expect("overrides")
        .id;
    for n in 2..VERSIONS {
        let i = SECRETS + (n * 7) % (KEYS - SECRETS);
        let change = ChangeSet::new().set(key(i), NewValue::plain(value(i, n)));
        store
            .apply(&admin, &app, change, WriteOptions::default())
            .expect("history");
    }
    (store, admin, app, env, old)
}

fn workload() -> Workload {
    let mut w = Workload {
        id: "api".into(),
        ..Workload::default()
    };
    for v in 0..VARIABLES {
        // 10 of the 100 placeholders name secrets.
        let a = if v % 5 == 0 { v / 5 } else { SECRETS + v * 13 };
        let b = SECRETS + (v * 29 + 7) % (KEYS - SECRETS);
        w.variables.insert(
            format!("VAR_{v}"),
            format!("url=${{values.KEY_{a:04}}}&other=${{values.KEY_{b:04}}}"),
        );
    }
    w
}

/// The baseline's data: the same 1,000 values in raw sled, the 50 secrets
/// sealed.
struct Raw {
    _dir: Dir,
    db: sled::Db,
    cipher: XChaCha20Poly1305,
}

fn raw() -> Raw {
    let dir = Dir::new("deploy-raw");
    let db = sled::open(&dir.0).expect("sled");
    let cipher = XChaCha20Poly1305::new(&[7u8; 32].into());
    for i in 0..KEYS {
        let k = key(i);
        let plain = value(i, 0);
        let stored = if i < SECRETS {
            let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let payload = Payload {
                msg: plain.as_bytes(),
                aad: k.as_str().as_bytes(),
            };
            let mut sealed = nonce.to_vec();
            sealed.extend(cipher.encrypt(&nonce, payload).expect("seal"));
            sealed
        } else {
            plain.into_bytes()
        };
        db.insert(k.as_str(), stored).expect("insert");
    }
    db.flush().expect("flush");
    Raw {
        _dir: dir,
        db,
        cipher,
    }
}

impl Raw {
    /// Scan, open the secrets, substitute: the output's total length.
    fn deploy(&self, workload: &Workload) -> usize {
        let mut values: HashMap<String, String> = HashMap::with_capacity(KEYS);
        for (i, item) in self.db.iter().enumerate() {
            let (k, v) = item.expect("scan");
            let k = String::from_utf8(k.to_vec()).expect("utf-8");
            let v = if i < SECRETS {
                let (nonce, sealed) = v.split_at(24);
                let payload = Payload {
                    msg: sealed,
                    aad: k.as_bytes(),
                };
                self.cipher.decrypt(nonce.into(), payload).expect("open")
            } else {
                v.to_vec()
            };
            values.insert(k, String::from_utf8(v).expect("utf-8"));
        }
        workload
            .variables
            .values()
            .map(|t| substitute(t, &values).len())
            .sum()
    }
}

/// `${values.KEY}` replaced by hand: find `${`, look up, copy.
fn substitute(template: &str, values: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = memchr::memmem::find(rest.as_bytes(), b"${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("closed");
        let path = &rest[start + 2..end];
        let name = path.strip_prefix("values.").expect("values");
        out.push_str(&values[name]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn bench(c: &mut Criterion) {
    let dir = Dir::new("deploy");
    let (store, admin, app, env, old) = build(&dir);
    let workload = workload();
    let raw = raw();
    let deploy = |version: VersionSelector| -> usize {
        let snapshot = store
            .snapshot(&admin, &app, &env, version)
            .expect("snapshot");
        let resolved = snapshot
            .resolver()
            .resolve_workload(black_box(&workload))
            .expect("resolves");
        resolved
            .variables
            .values()
            .map(|r| {
                r.as_plain().map_or_else(
                    || r.as_secret().map_or(0, |s| s.expose_secret().len()),
                    str::len,
                )
            })
            .sum()
    };
    let raw_len = raw.deploy(&workload);
    assert!(raw_len > 0 && deploy(VersionSelector::Latest) > 0);

    let mut g = c.benchmark_group("deploy");
    g.bench_function("raw", |b| b.iter(|| black_box(raw.deploy(&workload))));
    g.bench_function("valueset_latest", |b| {
        b.iter(|| black_box(deploy(VersionSelector::Latest)));
    });
    g.bench_function("valueset_old", |b| {
        b.iter(|| black_box(deploy(VersionSelector::Id(old))));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

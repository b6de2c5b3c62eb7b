//! The data and the work of a deployment, shared by the sled bench
//! (`deploy.rs`) and the PostgreSQL one (`shared.rs`): an App of 1,000 keys
//! (50 secrets), an Environment that overrides 200 of them, 10,000 versions
//! of history (one-key changes after the initial sets), and a workload of
//! 50 variables using 100 placeholders, 10 of them secrets. The raw
//! baseline's part is here too: the same values with the secrets sealed,
//! opened and substituted by hand.

use std::collections::HashMap;
use std::hint::black_box;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use valueset::model::{NewValue, VersionSelector};
use valueset::resolve::Workload;
use valueset::store::{ChangeSet, DeleteOptions, HistoryOptions};
use valueset::{Actor, AppId, EnvId, Key, Secret, Store, VersionId};

const KEYS: usize = 1_000;
const SECRETS: usize = 50;
const OVERRIDES: usize = 200;
const VERSIONS: usize = 10_000;
const VARIABLES: usize = 50;
/// How many changes back the recent version is.
const ROLLBACK: usize = 10;

fn key(i: usize) -> Key {
    Key::new(format!("KEY_{i:04}")).expect("key")
}

fn value(i: usize, round: usize) -> String {
    format!("value-{i}-{round}-{}", "x".repeat(i % 23))
}

/// What a deployment reads: the store, the App and Environment, and the
/// ids of an early version of the Environment's history and of a recent
/// one (a rollback: ten changes back).
pub(crate) struct Fixture {
    pub(crate) store: Store,
    pub(crate) admin: Actor,
    pub(crate) app: AppId,
    pub(crate) env: EnvId,
    pub(crate) old: VersionId,
    pub(crate) recent: VersionId,
    pub(crate) workload: Workload,
}

/// Writes the App, its Environment and their history into `store`.
pub(crate) fn build(store: Store) -> Fixture {
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
        .apply(&admin, &app, None, all, DeleteOptions::default())
        .expect("values");
    let mut overrides = ChangeSet::new();
    for i in (0..KEYS).step_by(KEYS / OVERRIDES) {
        overrides = overrides.set(key(i), NewValue::plain(value(i, 1)));
    }
    let old = store
        .apply(
            &admin,
            &app,
            Some(&env),
            overrides,
            DeleteOptions::default(),
        )
        .expect("overrides")
        .id;
    for n in 2..VERSIONS {
        let i = SECRETS + (n * 7) % (KEYS - SECRETS);
        let change = ChangeSet::new().set(key(i), NewValue::plain(value(i, n)));
        store
            .apply(&admin, &app, None, change, DeleteOptions::default())
            .expect("history");
    }
    let back = HistoryOptions {
        limit: Some(ROLLBACK + 1),
        ..HistoryOptions::default()
    };
    let recent = store
        .history(&admin, &app, Some(&env), back)
        .expect("history");
    let recent = recent.last().expect("a version ten changes back").id;
    Fixture {
        store,
        admin,
        app,
        env,
        old,
        recent,
        workload: workload(),
    }
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

impl Fixture {
    /// A deployment at `version`: snapshot, resolve the workload; the
    /// output's total length.
    pub(crate) fn deploy(&self, version: VersionSelector) -> usize {
        let snapshot = self
            .store
            .snapshot(&self.admin, &self.app, &self.env, version)
            .expect("snapshot");
        let resolved = snapshot
            .resolver()
            .resolve_workload(black_box(&self.workload))
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
    }
}

/// The raw baseline's values: every key with its value, the secrets (the
/// first 50 keys in key order) sealed with XChaCha20-Poly1305, the key as
/// associated data.
pub(crate) fn raw_rows(cipher: &XChaCha20Poly1305) -> Vec<(String, Vec<u8>)> {
    (0..KEYS)
        .map(|i| {
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
            (k.as_str().to_owned(), stored)
        })
        .collect()
}

/// The cipher of the raw baseline.
pub(crate) fn raw_cipher() -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&[7u8; 32].into())
}

/// The raw baseline's work on rows read in key order: open the secrets,
/// substitute every variable by hand; the output's total length.
pub(crate) fn raw_deploy<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    rows: impl Iterator<Item = (K, V)>,
    cipher: &XChaCha20Poly1305,
    workload: &Workload,
) -> usize {
    let mut values: HashMap<String, String> = HashMap::with_capacity(KEYS);
    for (i, (k, v)) in rows.enumerate() {
        let k = String::from_utf8(k.as_ref().to_vec()).expect("utf-8");
        let v = if i < SECRETS {
            let (nonce, sealed) = v.as_ref().split_at(24);
            let payload = Payload {
                msg: sealed,
                aad: k.as_bytes(),
            };
            cipher.decrypt(nonce.into(), payload).expect("open")
        } else {
            v.as_ref().to_vec()
        };
        values.insert(k, String::from_utf8(v).expect("utf-8"));
    }
    workload
        .variables
        .values()
        .map(|t| substitute(t, &values).len())
        .sum()
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

//! docs/guide.md #secret-stores, #durability-concurrency-and-bad-input: the durable store: everything survives reopening; secrets
//! are encrypted at rest and never in the files; a wrong key, a damaged
//! record or another format is a typed error.

use std::ops::ControlFlow;
use std::sync::Arc;

use valueset::backend::{Backend, Batch, SledBackend};
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{HistoryOptions, SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, Key, MasterKey, Secret, Store};

use crate::common::TempDir;

const CANARY: &str = "CANARY-3f9e27c1-plaintext";

fn key_a() -> MasterKey {
    MasterKey::from_hex(&"a1".repeat(32)).unwrap()
}

fn key_b() -> MasterKey {
    MasterKey::from_hex(&"b2".repeat(32)).unwrap()
}

struct Ids {
    admin: Actor,
    app: AppId,
    prod: EnvId,
}

fn ids() -> Ids {
    Ids {
        admin: Actor::admin("alice"),
        app: AppId::new("shop").unwrap(),
        prod: EnvId::new("prod").unwrap(),
    }
}

/// A store with values, an override, secrets and a purge.
fn populate(store: &Store, ids: &Ids) -> valueset::Result<()> {
    let Ids { admin, app, prod } = ids;
    store.create_app(admin, app)?;
    store.create_env(admin, app, prod)?;
    let k = |s: &str| Key::new(s).unwrap();
    store.set(
        admin,
        app,
        None,
        &k("HOST"),
        NewValue::plain("db.dev"),
        SetOptions::default(),
    )?;
    store.set(
        admin,
        app,
        Some(prod),
        &k("HOST"),
        NewValue::plain("db.prod"),
        SetOptions::default(),
    )?;
    let old = store.set(
        admin,
        app,
        None,
        &k("PW"),
        NewValue::secret(Secret::new(format!("{CANARY}-old"))),
        SetOptions::default(),
    )?;
    store.set(
        admin,
        app,
        None,
        &k("PW"),
        NewValue::secret(Secret::new(CANARY.to_owned())),
        SetOptions::default(),
    )?;
    store.purge(
        admin,
        app,
        None,
        old.id.into(),
        &k("PW"),
        WriteOptions::default(),
    )?;
    store.flush()
}

/// Everything a caller can observe, as text (secrets resolved).
fn observe(store: &Store, ids: &Ids) -> valueset::Result<String> {
    let Ids { admin, app, prod } = ids;
    let mut out = String::new();
    for env in [None, Some(prod)] {
        let history =
            store.history(admin, app, env.cloned().as_ref(), HistoryOptions::default())?;
        out += &serde_json::to_string(&history).unwrap();
        for v in &history {
            let version = store.version(admin, app, env, VersionSelector::Id(v.id))?;
            out += &serde_json::to_string(&version.values).unwrap();
        }
    }
    let snapshot = store.snapshot(admin, app, prod, VersionSelector::Latest)?;
    let resolved = snapshot
        .resolver()
        .resolve_str("${values.HOST}:${values.PW}")?;
    out += resolved.as_secret().unwrap().expose_secret();
    Ok(out)
}

#[test]
fn everything_survives_reopening() -> valueset::Result<()> {
    let dir = TempDir::new("reopen");
    let ids = ids();
    let before = {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
        observe(&store, &ids)?
    };
    let store = Store::builder().master_key(key_a()).open(dir.path())?;
    assert_eq!(observe(&store, &ids)?, before);
    assert!(before.ends_with(&format!("db.prod:{CANARY}")));
    // And it keeps working.
    store.set(
        &ids.admin,
        &ids.app,
        None,
        &Key::new("NEW")?,
        NewValue::plain("1"),
        SetOptions::default(),
    )?;
    Ok(())
}

/// A process killed while sled wrote a snapshot leaves a cut
/// `snap.*.generating` file, which sled 0.34 would read and refuse as
/// corrupted; the store opens as it was before.
#[test]
fn a_snapshot_cut_short_by_a_crash_does_not_stop_the_store_opening() -> valueset::Result<()> {
    let dir = TempDir::new("cut-snapshot");
    let ids = ids();
    let before = {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
        store.flush()?;
        observe(&store, &ids)?
    };
    let data = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("data-"))
        })
        .expect("a data directory");
    let cut = data.join("snap.7FFFFFFFFFFFFFFF.generating");
    std::fs::write(&cut, b"cut").unwrap();
    let store = Store::builder().master_key(key_a()).open(dir.path())?;
    assert_eq!(observe(&store, &ids)?, before);
    assert!(!cut.exists(), "the cut snapshot is gone");
    Ok(())
}

/// How many sealed secrets the database holds.
fn ciphertexts(backend: &SledBackend) -> usize {
    let mut n = 0;
    backend
        .scan(b"S", b"T", false, &mut |_, _| {
            n += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    n
}

#[test]
fn purge_and_deletion_remove_ciphertexts_from_the_database() -> valueset::Result<()> {
    let dir = TempDir::new("lifecycle");
    let ids = ids();
    let backend = Arc::new(SledBackend::open(dir.path())?);
    let store = Store::builder()
        .master_key(key_a())
        .open_with_backend(Arc::clone(&backend))?;
    // `populate` sets two secrets and purges the first: one ciphertext left.
    populate(&store, &ids)?;
    assert_eq!(ciphertexts(&backend), 1);
    store.set(
        &ids.admin,
        &ids.app,
        Some(&ids.prod),
        &Key::new("PW")?,
        NewValue::secret(Secret::new("env".into())),
        SetOptions::default(),
    )?;
    assert_eq!(ciphertexts(&backend), 2);
    store.delete_env(&ids.admin, &ids.app, &ids.prod)?;
    assert_eq!(ciphertexts(&backend), 1);
    store.delete_app(&ids.admin, &ids.app)?;
    assert_eq!(ciphertexts(&backend), 0);
    store.verify(&ids.admin)?;
    Ok(())
}

#[test]
fn a_wrong_or_missing_master_key_is_a_clear_error() -> valueset::Result<()> {
    let dir = TempDir::new("keys");
    let ids = ids();
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
    }
    let e = Store::builder()
        .master_key(key_b())
        .open(dir.path())
        .unwrap_err();
    assert_eq!(e.code(), "wrong_master_key");
    // Without a key, plain values work and secrets say what is missing.
    let store = Store::open(dir.path())?;
    assert_eq!(
        store
            .get(&ids.admin, &ids.app, Some(&ids.prod), &Key::new("HOST")?)?
            .plain(),
        Some("db.prod")
    );
    let snapshot = store.snapshot(&ids.admin, &ids.app, &ids.prod, VersionSelector::Latest)?;
    let e = snapshot.resolver().resolve_str("${values.PW}").unwrap_err();
    assert_eq!(e.code(), "missing_master_key");
    let e = store
        .set(
            &ids.admin,
            &ids.app,
            None,
            &Key::new("PW2")?,
            NewValue::secret(Secret::new("x".into())),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "missing_master_key");
    Ok(())
}

#[test]
fn no_file_holds_a_secret_in_plaintext() -> valueset::Result<()> {
    let dir = TempDir::new("plaintext");
    let ids = ids();
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
        store.flush()?;
    }
    let mut files = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    let mut plain_found = false;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            files += 1;
            assert!(
                !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
                "{} holds a secret in plaintext",
                path.display()
            );
            plain_found |= bytes.windows(7).any(|w| w == b"db.prod");
        }
    }
    assert!(files > 0);
    // The scan can see plaintext: plain values are there.
    assert!(plain_found, "the files were read");
    Ok(())
}

#[test]
fn rotation_re_encrypts_everything_atomically() -> valueset::Result<()> {
    let dir = TempDir::new("rotate");
    let ids = ids();
    let before = {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
        let before = observe(&store, &ids)?;
        let dev = Actor::new("dev", valueset::model::OrgRole::Member);
        assert_eq!(
            store.rotate_master_key(&dev, &key_b()).unwrap_err().code(),
            "forbidden"
        );
        store.rotate_master_key(&ids.admin, &key_b())?;
        assert_eq!(observe(&store, &ids)?, before);
        // Secret digests survive rotation: the history still verifies.
        assert!(store.verify(&ids.admin)?.secrets_checked >= 1);
        store.flush()?;
        before
    };
    assert_eq!(
        Store::builder()
            .master_key(key_a())
            .open(dir.path())
            .unwrap_err()
            .code(),
        "wrong_master_key"
    );
    let store = Store::builder().master_key(key_b()).open(dir.path())?;
    assert_eq!(observe(&store, &ids)?, before);
    store.verify(&ids.admin)?;
    Ok(())
}

#[test]
fn damaged_data_is_a_typed_error() -> valueset::Result<()> {
    let dir = TempDir::new("damage");
    let ids = ids();
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
    }
    // Flip a byte of every ciphertext, and damage one value entry.
    {
        let backend = SledBackend::open(dir.path())?;
        let mut records = Vec::new();
        backend.scan(b"S", b"T", false, &mut |k, v| {
            records.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })?;
        assert!(!records.is_empty());
        let mut batch = Batch::new();
        for (k, mut v) in records {
            let last = v.len() - 1;
            v[last] ^= 0x40;
            batch.insert(k, v);
        }
        // An entry, and the key index record that holds a newest entry.
        for (start, end) in [(b"H", b"I"), (b"K", b"L")] {
            let mut entry = None;
            backend.scan(start, end, false, &mut |k, _| {
                entry = Some(k.to_vec());
                ControlFlow::Break(())
            })?;
            batch.insert(entry.unwrap(), vec![1, 4, 9, 9, 9]);
        }
        backend.apply(batch)?;
        backend.flush()?;
    }
    let store = Store::builder().master_key(key_a()).open(dir.path())?;
    let e = store
        .version(&ids.admin, &ids.app, None, VersionSelector::Latest)
        .unwrap_err();
    assert_eq!(e.code(), "corrupted");
    let snapshot = store.snapshot(&ids.admin, &ids.app, &ids.prod, VersionSelector::Latest);
    if let Ok(snapshot) = snapshot {
        let e = snapshot.resolver().resolve_str("${values.PW}").unwrap_err();
        assert!(["decrypt_failed", "corrupted"].contains(&e.code()), "{e}");
    }
    Ok(())
}

/// A way to damage a file's bytes.
type Damage = fn(&mut Vec<u8>);

/// Damage to the files themselves (a flipped byte in sled's log, a file cut
/// short) is `corrupted`, with what sled reported, never a panic and never
/// the generic `backend`.
#[test]
fn damaged_files_are_corrupted_with_the_cause() -> valueset::Result<()> {
    let dir = TempDir::new("damaged-files");
    let ids = ids();
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        store.create_app(&ids.admin, &ids.app)?;
        for i in 0..30 {
            let key = Key::new(format!("K{i}"))?;
            let value = NewValue::plain(format!("value {i}"));
            store.set(
                &ids.admin,
                &ids.app,
                None,
                &key,
                value,
                SetOptions::default(),
            )?;
        }
        store.flush()?;
    }
    // Opening again makes sled record how far its log goes (a snapshot);
    // damage within that range is what it can tell from a write that a
    // crash cut short.
    drop(Store::open(dir.path())?);
    let current = std::fs::read_to_string(dir.path().join("CURRENT")).unwrap();
    let log = dir.path().join(current.trim()).join("db");
    let pristine = std::fs::read(&log).unwrap();
    let damages: [(&str, Damage); 2] = [
        ("a flipped byte", |b| b[20] ^= 0xff),
        ("a file cut short", |b| b.truncate(10)),
    ];
    for (what, damage) in damages {
        let mut bytes = pristine.clone();
        damage(&mut bytes);
        std::fs::write(&log, &bytes).unwrap();
        let e = Store::builder()
            .master_key(key_a())
            .open(dir.path())
            .unwrap_err();
        assert_eq!(e.code(), "corrupted", "{what}: {e}");
        assert!(
            e.to_string().contains("sled found corruption"),
            "{what}: {e}"
        );
    }
    Ok(())
}

#[test]
fn another_format_is_refused_before_anything_is_read() -> valueset::Result<()> {
    let dir = TempDir::new("format");
    {
        Store::open(dir.path())?;
    }
    {
        let backend = SledBackend::open(dir.path())?;
        let mut batch = Batch::new();
        batch.insert(b"\xFFformat".to_vec(), vec![9]);
        backend.apply(batch)?;
        backend.flush()?;
    }
    let e = Store::open(dir.path()).unwrap_err();
    assert_eq!(e.code(), "unsupported_format");
    assert_eq!(
        e.to_string(),
        "unsupported data format 9: this version of valueset reads format 1"
    );
    Ok(())
}

#[test]
fn the_history_verifies_and_tampering_is_found() -> valueset::Result<()> {
    let dir = TempDir::new("verify");
    let ids = ids();
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
        // A purged history verifies, secrets checked against their digests.
        let report = store.verify(&ids.admin)?;
        assert_eq!(report.apps, 1);
        assert!(
            report.versions >= 4 && report.secrets_checked >= 1,
            "{report:?}"
        );
        // Deleting an environment leaves a history that verifies.
        let qa = EnvId::new("qa")?;
        store.create_env(&ids.admin, &ids.app, &qa)?;
        store.set(
            &ids.admin,
            &ids.app,
            Some(&qa),
            &Key::new("HOST")?,
            NewValue::plain("qa"),
            SetOptions::default(),
        )?;
        store.delete_env(&ids.admin, &ids.app, &qa)?;
        store.verify(&ids.admin)?;
        store.flush()?;
    }
    // Change a stored plain value behind the library's back.
    {
        let backend = SledBackend::open(dir.path())?;
        let mut found = None;
        backend.scan(b"H", b"I", false, &mut |k, v| {
            if v.windows(6).any(|w| w == b"db.dev") {
                found = Some((k.to_vec(), v.to_vec()));
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })?;
        let (k, v) = found.expect("the plain value is stored");
        let pos = v.windows(6).position(|w| w == b"db.dev").unwrap();
        let mut changed = v.clone();
        changed[pos..pos + 6].copy_from_slice(b"db.evl");
        let mut batch = Batch::new();
        batch.insert(k, changed);
        backend.apply(batch)?;
        backend.flush()?;
    }
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        let e = store.verify(&ids.admin).unwrap_err();
        assert_eq!(e.code(), "tampered");
        assert!(
            e.to_string().contains("a value does not match its digest"),
            "{e}"
        );
    }
    // Remove a version record instead.
    let dir = TempDir::new("verify2");
    {
        let store = Store::builder().master_key(key_a()).open(dir.path())?;
        populate(&store, &ids)?;
    }
    {
        let backend = SledBackend::open(dir.path())?;
        let mut first = None;
        backend.scan(b"V", b"W", false, &mut |k, _| {
            first = Some(k.to_vec());
            ControlFlow::Break(())
        })?;
        let mut batch = Batch::new();
        batch.remove(first.unwrap());
        backend.apply(batch)?;
        backend.flush()?;
    }
    let store = Store::builder().master_key(key_a()).open(dir.path())?;
    let e = store.verify(&ids.admin).unwrap_err();
    assert_eq!(e.code(), "tampered");
    assert!(e.to_string().contains("app `shop`"), "{e}");
    Ok(())
}

#[test]
fn ping_reads_the_storage_and_says_when_it_is_away() {
    let backend = std::sync::Arc::new(crate::common::Away::default());
    let store = valueset::Store::builder()
        .open_with_backend(std::sync::Arc::clone(&backend))
        .unwrap();
    store.ping().unwrap();
    backend.set_away(true);
    assert_eq!(store.ping().unwrap_err().code(), "backend_unavailable");
    backend.set_away(false);
    store.ping().unwrap();
}

/// A memory backend that counts its flushes.
#[derive(Debug, Default)]
struct CountsFlushes {
    inner: valueset::backend::MemoryBackend,
    flushes: std::sync::atomic::AtomicUsize,
}

impl Backend for CountsFlushes {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, valueset::backend::BackendError> {
        self.inner.get(key)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut valueset::backend::Visit<'_>,
    ) -> Result<(), valueset::backend::BackendError> {
        self.inner.scan(start, end, reverse, visit)
    }

    fn apply(&self, batch: Batch) -> Result<(), valueset::backend::BackendError> {
        self.inner.apply(batch)
    }

    fn flush(&self) -> Result<(), valueset::backend::BackendError> {
        self.flushes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// With `durable_changes`, every change is flushed before its call
/// returns (a failed one is not); without, the store leaves flushing to
/// the storage.
#[test]
fn durable_changes_flush_every_change_before_it_returns() -> valueset::Result<()> {
    for on in [false, true] {
        let backend = Arc::new(CountsFlushes::default());
        let store = Store::builder()
            .durable_changes(on)
            .open_with_backend(Arc::clone(&backend))?;
        let flushes = || backend.flushes.load(std::sync::atomic::Ordering::SeqCst);
        let ids = ids();
        store.create_app(&ids.admin, &ids.app)?;
        let key = Key::new("A")?;
        let mut versions = Vec::new();
        for n in 1..=3 {
            let set = NewValue::plain(n.to_string());
            versions.push(store.set(
                &ids.admin,
                &ids.app,
                None,
                &key,
                set,
                SetOptions::default(),
            )?);
        }
        let stale = SetOptions {
            expect: Some(versions[0].id),
            ..SetOptions::default()
        };
        let refused = store.set(
            &ids.admin,
            &ids.app,
            None,
            &key,
            NewValue::plain("4"),
            stale,
        );
        assert_eq!(refused.unwrap_err().code(), "conflict");
        assert_eq!(flushes(), if on { 4 } else { 0 }, "durable_changes({on})");
    }
    Ok(())
}

//! Tamper evidence, one promise at a time (docs/guide.md
//! #durability-concurrency-and-bad-input): whatever is changed or removed
//! behind the library's back through the `Backend` (a value, a description,
//! a secret reference, an author, an entry, a version record), `verify`
//! fails with `tampered`. And secrets the library stored leave their store
//! when purged or deleted, or when the change that stored them fails.

use std::ops::ControlFlow;
use std::sync::Arc;

use valueset::backend::{Backend, BackendError, Batch, MemoryBackend, Visit};
use valueset::model::NewValue;
use valueset::secret::{MemorySecretStore, SecretRef, SecretStore};
use valueset::store::{DeleteOptions, SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, Key, Secret, Store};

use crate::common::Shared;

struct Fixture {
    backend: Arc<MemoryBackend>,
    store: Store,
    admin: Actor,
}

/// An App with a described value changed twice, a reference into a
/// read-only store, a submitted secret and an Environment override.
fn fixture() -> valueset::Result<Fixture> {
    let backend = Arc::new(MemoryBackend::new());
    let vault =
        MemorySecretStore::read_only("vault", [("kv/pw".to_owned(), Secret::new("v".into()))]);
    let store = Store::builder()
        .reference_store(vault)
        .secret_store(MemorySecretStore::new("library"))
        .open_with_backend(Arc::clone(&backend))?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    let prod = EnvId::new("prod")?;
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let described = SetOptions {
        description: Some("where-the-db-is".into()),
        ..SetOptions::default()
    };
    let k = |s: &str| Key::new(s).unwrap();
    store.set(
        &admin,
        &app,
        None,
        &k("HOST"),
        NewValue::plain("db.dev"),
        described,
    )?;
    store.set(
        &admin,
        &app,
        None,
        &k("HOST"),
        NewValue::plain("db.two"),
        SetOptions::default(),
    )?;
    let reference = NewValue::secret_ref("vault", SecretRef::new("kv/pw"));
    store.set(
        &admin,
        &app,
        None,
        &k("REF"),
        reference,
        SetOptions::default(),
    )?;
    let secret = NewValue::secret(Secret::new("s3cr3t".into()));
    store.set(&admin, &app, None, &k("PW"), secret, SetOptions::default())?;
    store.set(
        &admin,
        &app,
        Some(&prod),
        &k("HOST"),
        NewValue::plain("db.prod"),
        SetOptions::default(),
    )?;
    // What verify looked at: 4 App and 1 Environment versions, one entry
    // each, and the submitted secret against its digest.
    let report = store.verify(&admin)?;
    let seen = (
        report.apps,
        report.versions,
        report.entries,
        report.secrets_checked,
    );
    assert_eq!(seen, (1, 5, 5, 1));
    Ok(Fixture {
        backend,
        store,
        admin,
    })
}

/// Replaces `from` by `to` (as long) in the first value under `table` that
/// holds it.
fn rewrite(backend: &MemoryBackend, table: u8, from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let mut found = None;
    backend
        .scan(&[table], &[table + 1], false, &mut |k, v| {
            if let Some(at) = v.windows(from.len()).position(|w| w == from) {
                let mut v = v.to_vec();
                v[at..at + from.len()].copy_from_slice(to);
                found = Some((k.to_vec(), v));
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    let (k, v) = found.expect("the bytes to rewrite are stored");
    let mut batch = Batch::new();
    batch.insert(k, v);
    backend.apply(batch).unwrap();
}

/// Removes the first key under `table`.
fn remove_first(backend: &MemoryBackend, table: u8) {
    let mut first = None;
    backend
        .scan(&[table], &[table + 1], false, &mut |k, _| {
            first = Some(k.to_vec());
            ControlFlow::Break(())
        })
        .unwrap();
    let mut batch = Batch::new();
    batch.remove(first.expect("a key to remove"));
    backend.apply(batch).unwrap();
}

fn assert_tampered(f: &Fixture, what: &str) {
    let e = f.store.verify(&f.admin).unwrap_err();
    assert_eq!(e.code(), "tampered", "{what}: {e}");
    // Verifying the one App finds it too.
    let app = AppId::new("shop").unwrap();
    let e = f.store.verify_app(&f.admin, &app).unwrap_err();
    assert_eq!(e.code(), "tampered", "{what}: {e}");
}

#[test]
fn a_changed_value_is_found() -> valueset::Result<()> {
    let f = fixture()?;
    rewrite(&f.backend, b'H', b"db.dev", b"db.evl");
    assert_tampered(&f, "value");
    Ok(())
}

#[test]
fn a_changed_description_is_found() -> valueset::Result<()> {
    let f = fixture()?;
    rewrite(&f.backend, b'H', b"where-the-db-is", b"where-the-db-IS");
    assert_tampered(&f, "description");
    Ok(())
}

#[test]
fn a_changed_secret_reference_is_found() -> valueset::Result<()> {
    let f = fixture()?;
    rewrite(&f.backend, b'H', b"kv/pw", b"kv/pX");
    assert_tampered(&f, "reference");
    Ok(())
}

#[test]
fn a_changed_author_is_found() -> valueset::Result<()> {
    let f = fixture()?;
    rewrite(&f.backend, b'V', b"alice", b"mally");
    assert_tampered(&f, "author");
    Ok(())
}

#[test]
fn a_removed_entry_or_version_record_is_found() -> valueset::Result<()> {
    let f = fixture()?;
    remove_first(&f.backend, b'H');
    assert_tampered(&f, "entry");
    let f = fixture()?;
    remove_first(&f.backend, b'V');
    assert_tampered(&f, "version record");
    let f = fixture()?;
    remove_first(&f.backend, b'W');
    assert_tampered(&f, "environment version record");
    Ok(())
}

/// A backend that refuses every batch that writes a version record, after
/// the first `allow` of them.
#[derive(Debug)]
struct RefusingBackend {
    inner: MemoryBackend,
    allow: std::sync::atomic::AtomicUsize,
}

impl Backend for RefusingBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.inner.get(key)
    }
    fn scan(&self, s: &[u8], e: &[u8], r: bool, v: &mut Visit<'_>) -> Result<(), BackendError> {
        self.inner.scan(s, e, r, v)
    }
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        // What the history engine marks, rather than a guess from the
        // batch's size.
        if batch.writes_version()
            && self
                .allow
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_err()
        {
            return Err(BackendError::new("refused"));
        }
        self.inner.apply(batch)
    }
}

#[test]
fn library_secrets_leave_their_store() -> valueset::Result<()> {
    let library = Shared(Arc::new(MemorySecretStore::new("library")));
    let store = Store::builder()
        .secret_store(library.clone())
        .in_memory()
        .unwrap();
    let admin = Actor::admin("alice");
    let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let pw = Key::new("PW")?;
    let secret = |s: &str| NewValue::secret(Secret::new(s.to_owned()));
    let first = store.set(
        &admin,
        &app,
        None,
        &pw,
        secret("one"),
        SetOptions::default(),
    )?;
    let first_ref = store
        .version(
            &admin,
            &app,
            None,
            valueset::model::VersionSelector::Id(first.id),
        )?
        .values[&pw]
        .value()
        .and_then(|v| v.secret())
        .map(|s| s.secret_ref.clone())
        .unwrap();
    store.set(
        &admin,
        &app,
        None,
        &pw,
        secret("two"),
        SetOptions::default(),
    )?;
    assert!(library.0.get(&first_ref).is_ok());
    store.purge(
        &admin,
        &app,
        None,
        first.id.into(),
        &pw,
        WriteOptions::default(),
    )?;
    assert_eq!(
        library.0.get(&first_ref).unwrap_err().code(),
        "secret_not_found"
    );

    let in_prod = SetOptions::default();
    store.set(&admin, &app, Some(&prod), &pw, secret("env"), in_prod)?;
    let env_ref = store
        .get(&admin, &app, Some(&prod), &pw)?
        .secret()
        .unwrap()
        .secret_ref
        .clone();
    let app_ref = store
        .get(&admin, &app, None, &pw)?
        .secret()
        .unwrap()
        .secret_ref
        .clone();
    store.delete_env(&admin, &app, &prod)?;
    assert_eq!(
        library.0.get(&env_ref).unwrap_err().code(),
        "secret_not_found"
    );
    assert!(
        library.0.get(&app_ref).is_ok(),
        "the App's secret went with the Environment"
    );
    store.delete_app(&admin, &app)?;
    assert_eq!(
        library.0.get(&app_ref).unwrap_err().code(),
        "secret_not_found"
    );
    Ok(())
}

#[test]
fn a_failed_change_takes_back_the_secret_it_stored() -> valueset::Result<()> {
    let library = Shared(Arc::new(MemorySecretStore::new("library")));
    let backend = RefusingBackend {
        inner: MemoryBackend::new(),
        allow: std::sync::atomic::AtomicUsize::new(0),
    };
    let store = Store::builder()
        .secret_store(library.clone())
        .open_with_backend(backend)?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    store.create_app(&admin, &app)?;
    let secret = NewValue::secret(Secret::new("never".into()));
    let e = store
        .set(
            &admin,
            &app,
            None,
            &Key::new("PW")?,
            secret,
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "backend");
    assert_eq!(library.0.len(), 0, "the stored secret was left behind");
    Ok(())
}

/// The keys of one batch, each with whether it was written (or removed).
type Recorded = Vec<(Vec<u8>, bool)>;

/// Records the keys each batch writes or removes.
#[derive(Debug, Default)]
struct Recording {
    inner: MemoryBackend,
    batches: std::sync::Mutex<Vec<Recorded>>,
}

impl Backend for Recording {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.inner.get(key)
    }
    fn scan(&self, s: &[u8], e: &[u8], r: bool, v: &mut Visit<'_>) -> Result<(), BackendError> {
        self.inner.scan(s, e, r, v)
    }
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        let mut copy = Batch::new();
        for (k, v) in &batch.preconditions().to_vec() {
            copy.expect(k.clone(), v.clone());
        }
        let ops = batch.into_ops();
        self.batches
            .lock()
            .unwrap()
            .push(ops.iter().map(|(k, v)| (k.clone(), v.is_some())).collect());
        for (k, v) in ops {
            match v {
                Some(v) => copy.insert(k, v),
                None => copy.remove(k),
            }
        }
        self.inner.apply(copy)
    }
}

/// A purged secret's ciphertext goes in the same batch as the purge, so a
/// crash cannot leave one without the other.
#[test]
fn a_purged_secret_leaves_the_built_in_store_with_the_purge() -> valueset::Result<()> {
    let backend = Arc::new(Recording::default());
    let store = Store::builder()
        .master_key(valueset::MasterKey::from_bytes([3; 32]))
        .open_with_backend(Arc::clone(&backend))?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    store.create_app(&admin, &app)?;
    let pw = Key::new("PW")?;
    let secret = |s: &str| NewValue::secret(Secret::new(s.to_owned()));
    let first = store.set(
        &admin,
        &app,
        None,
        &pw,
        secret("one"),
        SetOptions::default(),
    )?;
    store.set(
        &admin,
        &app,
        None,
        &pw,
        secret("two"),
        SetOptions::default(),
    )?;
    backend.batches.lock().unwrap().clear();
    store.purge(
        &admin,
        &app,
        None,
        first.id.into(),
        &pw,
        WriteOptions::default(),
    )?;
    let batches = backend.batches.lock().unwrap();
    let purge = batches
        .iter()
        .find(|b| {
            b.iter()
                .any(|(k, written)| *written && k.first() == Some(&b'V'))
        })
        .expect("the purge's batch");
    let record = b"Sshop/_app/PW/1".to_vec();
    assert!(
        purge.contains(&(record, false)),
        "the ciphertext is not removed with the purge"
    );
    assert_eq!(batches.len(), 1, "another batch removed it");
    Ok(())
}

/// An Environment entry that no version of the Environment wrote, and that
/// is not the tombstone of an App value deleted with cascade, is found.
#[test]
fn an_override_written_without_a_version_is_found() -> valueset::Result<()> {
    let f = fixture()?;
    // The override of HOST in prod, copied to the sequence number of an
    // App version (2) that did not remove HOST.
    let mut found = None;
    f.backend.scan(b"H", b"I", false, &mut |k, v| {
        if k.windows(4).any(|w| w == b"prod") {
            found = Some((k.to_vec(), v.to_vec()));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    let (mut k, v) = found.expect("an override");
    let at = k.len() - 8;
    k[at..].copy_from_slice(&2u64.to_be_bytes());
    let mut batch = Batch::new();
    batch.insert(k, v);
    f.backend.apply(batch)?;
    let e = f.store.verify(&f.admin).unwrap_err();
    assert_eq!(e.code(), "tampered");
    assert!(e.to_string().contains("written without a version"), "{e}");
    Ok(())
}

/// The tombstones a cascade writes into Environments verify.
#[test]
fn cascade_tombstones_verify() -> valueset::Result<()> {
    let f = fixture()?;
    let options = DeleteOptions {
        cascade: true,
        ..DeleteOptions::default()
    };
    f.store.delete(
        &f.admin,
        &AppId::new("shop")?,
        None,
        &Key::new("HOST")?,
        options,
    )?;
    f.store.verify(&f.admin)?;
    Ok(())
}

/// A store that kept its secrets elsewhere and now keeps them in the
/// built-in store still deletes the old ones from where they are.
#[test]
fn a_purge_deletes_a_secret_from_the_store_that_holds_it() -> valueset::Result<()> {
    let backend = Arc::new(MemoryBackend::new());
    let library = Shared(Arc::new(MemorySecretStore::new("library")));
    let before = Store::builder()
        .secret_store(library.clone())
        .open_with_backend(Arc::clone(&backend))?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    before.create_app(&admin, &app)?;
    let pw = Key::new("PW")?;
    let secret = |s: &str| NewValue::secret(Secret::new(s.to_owned()));
    let first = before.set(
        &admin,
        &app,
        None,
        &pw,
        secret("one"),
        SetOptions::default(),
    )?;
    let old = before
        .get(&admin, &app, None, &pw)?
        .secret()
        .unwrap()
        .secret_ref
        .clone();
    drop(before);
    // Now with a master key: new secrets go to the built-in store, and the
    // old store stays registered for what it holds.
    let after = Store::builder()
        .master_key(valueset::MasterKey::from_bytes([4; 32]))
        .reference_store(library.clone())
        .open_with_backend(Arc::clone(&backend))?;
    after.set(
        &admin,
        &app,
        None,
        &pw,
        secret("two"),
        SetOptions::default(),
    )?;
    assert!(library.0.get(&old).is_ok());
    after.purge(
        &admin,
        &app,
        None,
        first.id.into(),
        &pw,
        WriteOptions::default(),
    )?;
    assert_eq!(library.0.get(&old).unwrap_err().code(), "secret_not_found");
    Ok(())
}

/// The entries of `prod`'s HOST, by sequence number.
fn prod_host_entries(backend: &MemoryBackend) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    backend
        .scan(b"H", b"I", false, &mut |k, v| {
            if k.windows(4).any(|w| w == b"prod") && k.windows(4).any(|w| w == b"HOST") {
                out.push((k.to_vec(), v.to_vec()));
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn with_seq(key: &[u8], seq: u64) -> Vec<u8> {
    let mut key = key.to_vec();
    let at = key.len() - 8;
    key[at..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// A cascade tombstone is only sound where the App removed the key, and
/// only as a tombstone.
#[test]
fn forged_cascade_tombstones_are_found() -> valueset::Result<()> {
    let cascade = DeleteOptions {
        cascade: true,
        ..DeleteOptions::default()
    };
    // A live override where the App's cascade left a tombstone (seq 6).
    let f = fixture()?;
    f.store.delete(
        &f.admin,
        &AppId::new("shop")?,
        None,
        &Key::new("HOST")?,
        cascade.clone(),
    )?;
    let entries = prod_host_entries(&f.backend);
    let (live, tombstone) = (&entries[0], &entries[1]);
    let mut batch = Batch::new();
    batch.insert(tombstone.0.clone(), live.1.clone());
    f.backend.apply(batch)?;
    assert_tampered(&f, "a live entry in place of a tombstone");
    // A tombstone where the App did not remove the key (seq 2 replaced it).
    let f = fixture()?;
    f.store.delete(
        &f.admin,
        &AppId::new("shop")?,
        None,
        &Key::new("HOST")?,
        cascade,
    )?;
    let entries = prod_host_entries(&f.backend);
    let tombstone = &entries[1];
    let mut batch = Batch::new();
    batch.insert(with_seq(&tombstone.0, 2), tombstone.1.clone());
    f.backend.apply(batch)?;
    assert_tampered(&f, "a tombstone where the App did not remove the key");
    Ok(())
}

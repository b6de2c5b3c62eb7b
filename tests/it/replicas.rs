//! Replicas that start together and a master key rotated under writers:
//! several Stores over one backend, each with its own in-process lock, as
//! separate processes would be (on PostgreSQL, each with its own
//! connection, when the tests run there).
//!
//! The bug these pin: the first open wrote the format marker, the key's
//! check value and the digest key with no precondition, so Stores opening
//! one fresh backend at once could fail (`corrupted`, a conflict) or end
//! with different digest keys (secret digests that no longer verify); a
//! rotation re-encrypted what it read while another process could still
//! seal a secret under the old key. Now the first open is one conditional
//! write whose loser uses what won, and a rotation first bars new secrets
//! under the old key in the store itself.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use valueset::backend::Backend;
use valueset::model::{NewValue, VersionSelector};
use valueset::store::SetOptions;
use valueset::{Actor, AppId, EnvId, Key, MasterKey, Secret, Store};

fn key_a() -> MasterKey {
    MasterKey::from_bytes([0xA1; 32])
}

fn key_b() -> MasterKey {
    MasterKey::from_bytes([0xB2; 32])
}

/// Backends that all reach one fresh store: one shared memory backend, or
/// on PostgreSQL a connection each to one fresh table.
fn one_store() -> Arc<dyn Fn() -> Arc<dyn Backend> + Send + Sync> {
    #[cfg(feature = "postgres")]
    if std::env::var("VALUESET_TEST_BACKEND").as_deref() == Ok("postgres") {
        let (url, table) = (
            crate::common::postgres_url(),
            crate::common::fresh_name("start"),
        );
        return Arc::new(move || -> Arc<dyn Backend> {
            Arc::new(valueset::backend::PostgresBackend::connect_table(&url, &table).unwrap())
        });
    }
    let shared = Arc::new(valueset::backend::MemoryBackend::new());
    Arc::new(move || -> Arc<dyn Backend> { Arc::new(Arc::clone(&shared)) })
}

fn open(backend: Arc<dyn Backend>, key: MasterKey) -> valueset::Result<Store> {
    Store::builder().master_key(key).open_with_backend(backend)
}

/// The secret each App of the race keeps.
fn secret_of(i: usize) -> String {
    format!("canary-start-{i}")
}

#[test]
fn stores_opening_one_fresh_store_at_once_all_open_and_agree() -> valueset::Result<()> {
    const STORES: usize = 8;
    let admin = Actor::admin("ops");
    for round in 0..6 {
        let backends = one_store();
        let barrier = Arc::new(Barrier::new(STORES));
        let handles: Vec<_> = (0..STORES)
            .map(|i| {
                let (backends, barrier, admin) =
                    (Arc::clone(&backends), Arc::clone(&barrier), admin.clone());
                thread::spawn(move || -> valueset::Result<()> {
                    let backend = backends();
                    barrier.wait();
                    // Each opens the fresh store, then at once writes an
                    // App and a secret with the digest key it ended with.
                    let store = open(backend, key_a())?;
                    let app = AppId::new(format!("app{i}"))?;
                    store.create_app(&admin, &app)?;
                    let secret = NewValue::secret(Secret::new(secret_of(i)));
                    store.set(
                        &admin,
                        &app,
                        None,
                        &Key::new("PW")?,
                        secret,
                        SetOptions::default(),
                    )?;
                    Ok(())
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            h.join()
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}, store {i}: {e} ({})", e.code()));
        }
        // They agree: one digest key verifies every secret, each opens.
        let store = open(backends(), key_a())?;
        let report = store.verify(&admin)?;
        assert_eq!((report.apps, report.secrets_checked), (STORES, STORES));
        let env = EnvId::new("prod")?;
        for i in 0..STORES {
            let app = AppId::new(format!("app{i}"))?;
            store.create_env(&admin, &app, &env)?;
            let snapshot = store.snapshot(&admin, &app, &env, VersionSelector::Latest)?;
            let pw = snapshot.resolver().resolve_str("${values.PW}")?;
            assert_eq!(
                pw.as_secret().map(Secret::expose_secret),
                Some(&*secret_of(i))
            );
        }
    }
    Ok(())
}

#[test]
fn a_store_opened_without_a_key_then_by_many_with_one_agrees() -> valueset::Result<()> {
    // The format is there already; the key's check value and the digest
    // key are written by whichever keyed open comes first.
    const STORES: usize = 8;
    let admin = Actor::admin("ops");
    let backends = one_store();
    let app = AppId::new("shop")?;
    Store::builder()
        .open_with_backend(backends())?
        .create_app(&admin, &app)?;
    let barrier = Arc::new(Barrier::new(STORES));
    let handles: Vec<_> = (0..STORES)
        .map(|i| {
            let (backends, barrier) = (Arc::clone(&backends), Arc::clone(&barrier));
            let (admin, app) = (admin.clone(), app.clone());
            thread::spawn(move || -> valueset::Result<()> {
                let backend = backends();
                barrier.wait();
                let store = open(backend, key_a())?;
                let secret = NewValue::secret(Secret::new(secret_of(i)));
                let key = Key::new(format!("PW{i}"))?;
                store.set(&admin, &app, None, &key, secret, SetOptions::default())?;
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap()?;
    }
    let report = open(backends(), key_a())?.verify(&admin)?;
    assert_eq!(report.secrets_checked, STORES);
    Ok(())
}

#[test]
fn a_rotation_while_another_store_writes_secrets_leaves_every_secret_readable()
-> valueset::Result<()> {
    let admin = Actor::admin("ops");
    let backends = one_store();
    let app = AppId::new("shop")?;
    let writer_store = open(backends(), key_a())?;
    writer_store.create_app(&admin, &app)?;
    writer_store.create_env(&admin, &app, &EnvId::new("prod")?)?;
    let started = Arc::new(AtomicBool::new(false));
    let rotated = Arc::new(AtomicBool::new(false));
    // The writer stores secrets, under its own lock, until the store
    // refuses its key or the rotation is over; it keeps what was
    // acknowledged.
    let writer = {
        let (admin, app) = (admin.clone(), app.clone());
        let (started, rotated) = (Arc::clone(&started), Arc::clone(&rotated));
        thread::spawn(move || {
            let mut acknowledged = BTreeMap::new();
            for i in 0.. {
                if rotated.load(Ordering::SeqCst) {
                    return (acknowledged, writer_store);
                }
                let (key, value) = (format!("S{i}"), format!("canary-rotate-{i}"));
                let secret = NewValue::secret(Secret::new(value.clone()));
                let k = Key::new(&*key).unwrap();
                match writer_store.set(&admin, &app, None, &k, secret, SetOptions::default()) {
                    Ok(_) => {
                        acknowledged.insert(key, value);
                        started.store(i >= 5, Ordering::SeqCst);
                    }
                    Err(e) => {
                        let code = e.code();
                        assert!(
                            ["rotation_under_way", "wrong_master_key"].contains(&code),
                            "{e}"
                        );
                        return (acknowledged, writer_store);
                    }
                }
            }
            unreachable!("the loop ends when the key is refused or the rotation is over")
        })
    };
    while !started.load(Ordering::SeqCst) && !writer.is_finished() {
        thread::yield_now();
    }
    let rotating = open(backends(), key_a())?;
    rotating.rotate_master_key(&admin, &key_b())?;
    rotated.store(true, Ordering::SeqCst);
    let (acknowledged, writer_store) = writer.join().unwrap();
    assert!(acknowledged.len() > 5);
    // Once the rotation has finished, the old key stores nothing.
    let late = NewValue::secret(Secret::new("canary-late".into()));
    let e = writer_store
        .set(
            &admin,
            &app,
            None,
            &Key::new("LATE")?,
            late,
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "wrong_master_key");
    assert!(!format!("{e} {e:?}").contains("canary"));

    // Every acknowledged secret opens with the new key, and no refused
    // write left anything behind.
    assert_eq!(
        open(backends(), key_a()).unwrap_err().code(),
        "wrong_master_key"
    );
    let store = open(backends(), key_b())?;
    let prod = EnvId::new("prod")?;
    let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    assert_eq!(store.list(&admin, &app, None)?.len(), acknowledged.len());
    for (key, value) in &acknowledged {
        let template = format!("${{values.{key}}}");
        let got = snapshot.resolver().resolve_str(&template)?;
        assert_eq!(got.as_secret().map(Secret::expose_secret), Some(&**value));
    }
    assert_eq!(store.verify(&admin)?.secrets_checked, acknowledged.len());
    Ok(())
}

/// A backend that fails every write after its first `allowed` ones, as a
/// process that stops mid-rotation leaves the store.
#[derive(Debug)]
struct StopsAfter {
    inner: Arc<valueset::backend::MemoryBackend>,
    allowed: std::sync::atomic::AtomicUsize,
}

impl Backend for StopsAfter {
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

    fn apply(
        &self,
        batch: valueset::backend::Batch,
    ) -> Result<(), valueset::backend::BackendError> {
        let left = self.allowed.load(Ordering::SeqCst);
        if left == 0 {
            return Err(valueset::backend::BackendError::with_kind(
                valueset::backend::BackendErrorKind::Unavailable,
                "stopped",
            ));
        }
        self.allowed.store(left - 1, Ordering::SeqCst);
        self.inner.apply(batch)
    }
}

#[test]
fn an_interrupted_rotation_keeps_the_old_key_and_is_finished_by_running_it_again()
-> valueset::Result<()> {
    let admin = Actor::admin("ops");
    let shared = Arc::new(valueset::backend::MemoryBackend::new());
    let app = AppId::new("shop")?;
    let prod = EnvId::new("prod")?;
    let store = open(Arc::new(Arc::clone(&shared)), key_a())?;
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let pw = Key::new("PW")?;
    let secret = |s: &str| NewValue::secret(Secret::new(s.to_owned()));
    store.set(
        &admin,
        &app,
        None,
        &pw,
        secret("canary-1"),
        SetOptions::default(),
    )?;
    // A rotation to B that stops after its first write.
    let stopping = StopsAfter {
        inner: Arc::clone(&shared),
        allowed: 1.into(),
    };
    let half = open(Arc::new(stopping), key_a())?;
    assert_eq!(
        half.rotate_master_key(&admin, &key_b()).unwrap_err().code(),
        "backend_unavailable"
    );
    // Every secret is still under A: B does not open the store, A does and
    // reads, but stores no secret until the rotation is finished.
    let reopen = |key| open(Arc::new(Arc::clone(&shared)), key);
    assert_eq!(reopen(key_b()).unwrap_err().code(), "wrong_master_key");
    let old = reopen(key_a())?;
    let old_a = reopen(key_a())?;
    let read = |store: &Store| -> valueset::Result<String> {
        let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
        let got = snapshot.resolver().resolve_str("${values.PW}")?;
        Ok(got
            .as_secret()
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default())
    };
    assert_eq!(read(&old)?, "canary-1");
    let refused = old.set(
        &admin,
        &app,
        None,
        &pw,
        secret("canary-2"),
        SetOptions::default(),
    );
    assert_eq!(refused.unwrap_err().code(), "rotation_under_way");
    // Plain values are not held up.
    old.set(
        &admin,
        &app,
        None,
        &Key::new("HOST")?,
        NewValue::plain("h"),
        SetOptions::default(),
    )?;
    // Running it again with A finishes it (here to another key).
    let key_c = MasterKey::from_bytes([0xC3; 32]);
    old.rotate_master_key(&admin, &key_c)?;
    assert_eq!(read(&old)?, "canary-1");
    old.set(
        &admin,
        &app,
        None,
        &pw,
        secret("canary-2"),
        SetOptions::default(),
    )?;
    let new = reopen(MasterKey::from_bytes([0xC3; 32]))?;
    assert_eq!(read(&new)?, "canary-2");
    assert_eq!(new.verify(&admin)?.secrets_checked, 2);
    // A rotation from C that stops half-way does not hold up a writer
    // that still has A, long rotated away: that one is refused outright.
    let stopping = StopsAfter {
        inner: Arc::clone(&shared),
        allowed: 1.into(),
    };
    let key_d = MasterKey::from_bytes([0xD4; 32]);
    let half = open(Arc::new(stopping), key_c)?;
    assert!(half.rotate_master_key(&admin, &key_d).is_err());
    let e = old_a
        .set(
            &admin,
            &app,
            None,
            &pw,
            secret("canary-3"),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "wrong_master_key");
    Ok(())
}

#[test]
fn a_store_whose_digest_key_does_not_open_is_corrupted_with_the_cause() -> valueset::Result<()> {
    use std::error::Error as _;
    let shared = Arc::new(valueset::backend::MemoryBackend::new());
    open(Arc::new(Arc::clone(&shared)), key_a())?;
    let mut batch = valueset::backend::Batch::new();
    batch.insert(b"\xFFdigestkey".to_vec(), vec![0; 72]);
    shared.apply(batch)?;
    let e = open(Arc::new(Arc::clone(&shared)), key_a()).unwrap_err();
    assert_eq!(e.code(), "corrupted");
    assert!(e.to_string().contains("digest key"), "{e}");
    // The cause is kept, below the store's own words.
    let cause = e.source().expect("a cause");
    assert!(
        cause.to_string().contains("authenticated encryption"),
        "{cause}"
    );
    Ok(())
}

#[test]
fn data_without_a_format_marker_is_corrupted_not_a_fresh_store() -> valueset::Result<()> {
    // A store whose marker was lost (or data written by something else):
    // an open must not take it for a fresh store and write a marker over
    // it.
    let shared = Arc::new(valueset::backend::MemoryBackend::new());
    let mut batch = valueset::backend::Batch::new();
    batch.insert(b"Ashop".to_vec(), b"not ours".to_vec());
    shared.apply(batch)?;
    let e = open(Arc::new(Arc::clone(&shared)), key_a()).unwrap_err();
    assert_eq!(e.code(), "corrupted");
    assert!(e.to_string().contains("no format marker"), "{e}");
    assert_eq!(shared.get(b"\xFFformat")?, None, "nothing was written");
    Ok(())
}

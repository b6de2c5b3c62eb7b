//! docs/guide.md #durability-concurrency-and-bad-input: the Store is shared between threads; concurrent writers are
//! serialized, never interleaved into a broken history.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use valueset::backend::{Backend, MemoryBackend, SledBackend};
use valueset::store::DeleteOptions;
use valueset::{Actor, AppId, EnvId, Store};

use crate::common::TempDir;

use valueset::model::{NewValue, VersionSelector};
use valueset::store::{HistoryOptions, SetOptions};

use crate::common::{World, key};

#[test]
fn concurrent_writers_make_a_sound_history() -> valueset::Result<()> {
    let w = World::new();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = w.store.clone();
            let (admin, app, prod) = (w.admin.clone(), w.app.clone(), w.prod.clone());
            thread::spawn(move || {
                for i in 0..25 {
                    let k = key(&format!("K{t}"));
                    store
                        .set(
                            &admin,
                            &app,
                            None,
                            &k,
                            NewValue::plain(i.to_string()),
                            SetOptions::default(),
                        )
                        .unwrap();
                    if i % 5 == 0 {
                        store
                            .set(
                                &admin,
                                &app,
                                Some(&prod),
                                &k,
                                NewValue::plain(format!("p{i}")),
                                SetOptions::default(),
                            )
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let app = w.store.history(
        &w.admin,
        &w.app,
        None,
        HistoryOptions {
            limit: Some(1000),
            ..Default::default()
        },
    )?;
    assert_eq!(app.len(), 100);
    let prod = w.store.history(
        &w.admin,
        &w.app,
        Some(&w.prod),
        HistoryOptions {
            limit: Some(1000),
            ..Default::default()
        },
    )?;
    assert_eq!(prod.len(), 120);
    // Sequence numbers are dense: every change got its own version.
    let mut seqs: Vec<String> = prod
        .iter()
        .map(|v| v.id.to_string()[1..].to_owned())
        .collect();
    seqs.dedup();
    assert_eq!(seqs.len(), 120);
    for t in 0..4 {
        assert_eq!(w.get(None, &format!("K{t}")).as_deref(), Some("24"));
        assert_eq!(
            w.get(Some(&w.prod), &format!("K{t}")).as_deref(),
            Some("p20")
        );
    }
    let latest = w
        .store
        .version(&w.admin, &w.app, Some(&w.prod), VersionSelector::Latest)?;
    assert_eq!(latest.values.len(), 4);
    Ok(())
}

/// Several Stores over one backend, each with its own in-process write
/// lock, as several processes over one server would be: what keeps the
/// history sound is the backend's conditional commit, not the lock.
fn writers_over_one_backend(backend: &Arc<dyn Backend>) -> valueset::Result<()> {
    const STORES: usize = 3;
    const THREADS: usize = 2;
    const CHANGES: usize = 40;
    let admin = Actor::admin("alice");
    let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    let stores: Vec<Store> = (0..STORES)
        .map(|_| Store::builder().open_with_backend(Arc::clone(backend)))
        .collect::<valueset::Result<_>>()?;
    stores[0].create_app(&admin, &app)?;
    stores[0].create_env(&admin, &app, &prod)?;
    stores[0].set(
        &admin,
        &app,
        None,
        &key("BASE"),
        NewValue::plain("b"),
        SetOptions::default(),
    )?;
    let mut writers = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..THREADS {
            let (store, admin, app, prod) =
                (store.clone(), admin.clone(), app.clone(), prod.clone());
            writers.push(thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0..CHANGES {
                    let k = key(&format!("S{s}T{t}"));
                    let options = SetOptions {
                        comment: format!("{s}/{t}/{i}"),
                        ..SetOptions::default()
                    };
                    let env = (i % 4 == 0).then_some(&prod);
                    let env_key = if env.is_some() { key("BASE") } else { k };
                    let v = store
                        .set(
                            &admin,
                            &app,
                            env,
                            &env_key,
                            NewValue::plain(i.to_string()),
                            options,
                        )
                        .unwrap();
                    acknowledged.push((v.id.to_string(), format!("{s}/{t}/{i}")));
                }
                acknowledged
            }));
        }
    }
    let acknowledged: Vec<(String, String)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let store = &stores[1];
    let all = HistoryOptions {
        limit: Some(10_000),
        ..Default::default()
    };
    let mut history = store.history(&admin, &app, None, all.clone())?;
    history.extend(
        store
            .history(&admin, &app, Some(&prod), all.clone())?
            .into_iter()
            .filter(|v| v.id.to_string().starts_with('e') && v.app_version.is_none()),
    );
    // Every acknowledged change is there exactly once, under the id it was
    // acknowledged with; no two changes share an id.
    let recorded: BTreeSet<(String, String)> = history
        .iter()
        .map(|v| (v.id.to_string(), v.comment.clone()))
        .collect();
    let total = STORES * THREADS * CHANGES;
    assert_eq!(acknowledged.len(), total);
    for change in &acknowledged {
        assert!(recorded.contains(change), "{change:?} is missing");
    }
    let ids: BTreeSet<&str> = acknowledged.iter().map(|(id, _)| &id[1..]).collect();
    assert_eq!(ids.len(), total, "two changes got one version id");
    // Ids are dense: 1 is BASE, then one per change.
    let seqs: BTreeSet<u64> = ids.iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(seqs, (2..2 + total as u64).collect());
    store.verify(&admin)?;
    Ok(())
}

#[test]
fn stores_over_one_memory_backend_are_correct_without_a_shared_lock() -> valueset::Result<()> {
    writers_over_one_backend(&(Arc::new(MemoryBackend::new()) as Arc<dyn Backend>))
}

#[test]
fn stores_over_one_sled_backend_are_correct_without_a_shared_lock() -> valueset::Result<()> {
    let dir = TempDir::new("two-stores");
    writers_over_one_backend(&(Arc::new(SledBackend::open(dir.path())?) as Arc<dyn Backend>))
}

#[test]
fn an_expected_version_that_another_store_moved_past_is_a_conflict() -> valueset::Result<()> {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let one = Store::builder().open_with_backend(Arc::clone(&backend))?;
    let two = Store::builder().open_with_backend(backend)?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    one.create_app(&admin, &app)?;
    let a1 = one
        .set(
            &admin,
            &app,
            None,
            &key("A"),
            NewValue::plain("1"),
            SetOptions::default(),
        )?
        .id;
    two.set(
        &admin,
        &app,
        None,
        &key("A"),
        NewValue::plain("2"),
        SetOptions::default(),
    )?;
    let stale = DeleteOptions {
        expect: Some(a1),
        ..DeleteOptions::default()
    };
    let e = one
        .delete(&admin, &app, None, &key("A"), stale)
        .unwrap_err();
    assert_eq!(e.code(), "conflict");
    assert_eq!(e.to_string(), "conflict: the current version is `a2`");
    Ok(())
}

/// A read of a version sees exactly that version while others commit.
#[test]
fn a_version_reads_the_same_while_writers_commit() -> valueset::Result<()> {
    let w = World::new();
    for k in ["A", "B", "C"] {
        w.set(k, "0");
    }
    let pinned = w.set("A", "1");
    let read = |store: &Store| {
        store
            .version(&w.admin, &w.app, None, VersionSelector::Id(pinned))
            .unwrap()
            .values
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.value().and_then(|v| v.plain()).map(str::to_owned),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected = read(&w.store);
    let writer = {
        let (store, admin, app) = (w.store.clone(), w.admin.clone(), w.app.clone());
        thread::spawn(move || {
            for i in 0..60 {
                let k = key(["A", "B", "C", "D"][i % 4]);
                store
                    .set(
                        &admin,
                        &app,
                        None,
                        &k,
                        NewValue::plain(format!("w{i}")),
                        SetOptions::default(),
                    )
                    .unwrap();
            }
        })
    };
    while !writer.is_finished() {
        assert_eq!(read(&w.store), expected);
    }
    writer.join().unwrap();
    assert_eq!(read(&w.store), expected);
    Ok(())
}

/// A backend that answers the first `conflicts` version-writing batches
/// with `kind`, and counts the attempts.
#[derive(Debug)]
struct Flaky {
    inner: MemoryBackend,
    kind: valueset::backend::BackendErrorKind,
    conflicts: std::sync::atomic::AtomicUsize,
    attempts: std::sync::atomic::AtomicUsize,
}

impl Backend for Flaky {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, valueset::backend::BackendError> {
        self.inner.get(key)
    }
    fn scan(
        &self,
        s: &[u8],
        e: &[u8],
        r: bool,
        v: &mut valueset::backend::Visit<'_>,
    ) -> Result<(), valueset::backend::BackendError> {
        self.inner.scan(s, e, r, v)
    }
    fn apply(
        &self,
        batch: valueset::backend::Batch,
    ) -> Result<(), valueset::backend::BackendError> {
        use std::sync::atomic::Ordering::SeqCst;
        if batch.len() > 2 {
            self.attempts.fetch_add(1, SeqCst);
            if self
                .conflicts
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(valueset::backend::BackendError::with_kind(
                    self.kind,
                    "try again",
                ));
            }
        }
        self.inner.apply(batch)
    }
}

fn flaky(kind: valueset::backend::BackendErrorKind, conflicts: usize) -> Arc<Flaky> {
    Arc::new(Flaky {
        inner: MemoryBackend::new(),
        kind,
        conflicts: conflicts.into(),
        attempts: 0.into(),
    })
}

/// A change that lost a race is planned and tried again until it lands;
/// any other failure is returned at once.
#[test]
fn conflicts_are_retried_and_other_failures_are_not() -> valueset::Result<()> {
    use std::sync::atomic::Ordering::SeqCst;
    use valueset::backend::BackendErrorKind;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    let backend = flaky(BackendErrorKind::Conflict, 3);
    let store = Store::builder().open_with_backend(Arc::clone(&backend))?;
    store.create_app(&admin, &app)?;
    let v = store.set(
        &admin,
        &app,
        None,
        &key("A"),
        NewValue::plain("1"),
        SetOptions::default(),
    )?;
    assert_eq!(v.id.to_string(), "a1");
    assert_eq!(backend.attempts.load(SeqCst), 4);

    let backend = flaky(BackendErrorKind::Unavailable, 1);
    let store = Store::builder().open_with_backend(Arc::clone(&backend))?;
    store.create_app(&admin, &app)?;
    let e = store
        .set(
            &admin,
            &app,
            None,
            &key("A"),
            NewValue::plain("1"),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "backend_unavailable");
    assert_eq!(
        backend.attempts.load(SeqCst),
        1,
        "a failure that is no conflict was retried"
    );
    Ok(())
}

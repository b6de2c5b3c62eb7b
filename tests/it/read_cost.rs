//! docs/guide.md #value-set-versions: the key index of each level holds
//! each key's newest entry, so a read of the newest values is one scan per
//! level whatever the App's size, and an older version seeks only the keys
//! changed after it. The index is checked by `verify`. Which version is
//! the latest is one list of seeks (one query on PostgreSQL).

use std::ops::ControlFlow;
use std::sync::Arc;

use valueset::EnvId;
use valueset::backend::{Backend, Batch};
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, HistoryOptions};

use crate::common::{Spy, World, key};

/// A World over a counting backend: `keys` App values in one version, ten
/// of them overridden in prod in the next, then five App values changed.
fn world(keys: usize) -> (Arc<Spy>, World, VersionSelector) {
    let backend = Arc::new(Spy::default());
    let store = valueset::Store::builder()
        .open_with_backend(Arc::clone(&backend))
        .unwrap();
    let w = World::with_store(store);
    let set = |range: std::ops::Range<usize>, v: &str, env: Option<&EnvId>| {
        let mut batch = ChangeSet::new();
        for i in range {
            batch = batch.set(key(&format!("K{i}")), NewValue::plain(v));
        }
        let options = DeleteOptions::default();
        w.store
            .apply(&w.admin, &w.app, env, batch, options)
            .unwrap()
            .id
    };
    set(0..keys, "v", None);
    let overrides = set(0..10, "prod", Some(&w.prod));
    set(0..5, "changed", None);
    (backend, w, VersionSelector::Id(overrides))
}

/// The reads (point reads and range scans) a full read of a version of
/// prod makes; every key is there.
fn reads(backend: &Spy, w: &World, version: VersionSelector, keys: usize) -> usize {
    let start = backend.gets() + backend.scans();
    let read = w.store.version(&w.admin, &w.app, Some(&w.prod), version);
    assert_eq!(read.unwrap().values.len(), keys);
    backend.gets() + backend.scans() - start
}

#[test]
fn a_read_of_the_newest_values_does_not_grow_with_the_app() {
    let (small, w_small, _) = world(20);
    let (big, w_big, _) = world(200);
    let latest = reads(&small, &w_small, VersionSelector::Latest, 20);
    assert_eq!(reads(&big, &w_big, VersionSelector::Latest, 200), latest);
    // The bookkeeping, the version lookups, the version's change list (a
    // bubbled App version: the five keys it changed, before and after),
    // and one index scan per level; no key is sought.
    assert_eq!(latest, 18, "{latest} reads");
}

#[test]
fn an_older_version_seeks_only_the_keys_changed_after_it() {
    let (backend, w, overrides) = world(200);
    let older = reads(&backend, &w, overrides, 200);
    // The bookkeeping, the version lookups, one index scan per level, and a
    // seek for each of K0..K4, changed at the App after the overrides.
    assert_eq!(older, 7 + 5, "{older} reads");
}

#[test]
fn a_version_from_before_the_first_override_reads_only_the_app() {
    let (backend, w, _) = world(20);
    let history = w
        .store
        .history(&w.admin, &w.app, None, HistoryOptions::default())
        .unwrap();
    let first = VersionSelector::Id(history.last().unwrap().id);
    let scans = |env| {
        let start = backend.scans();
        let read = w.store.version(&w.admin, &w.app, env, first.clone());
        assert_eq!(read.unwrap().values.len(), 20);
        backend.scans() - start
    };
    // prod had no override of its own then: the App's key index is all
    // there is to read, as for the App itself.
    assert_eq!(scans(Some(&w.prod)), scans(None));
}

#[test]
fn the_latest_version_is_found_with_one_list_of_seeks() {
    let (backend, w, _) = world(20);
    let in_prod = HistoryOptions::default();
    let history = w.store.history(&w.admin, &w.app, Some(&w.prod), in_prod);
    let latest = history.unwrap()[0].id;
    // A write that expects the latest version looks it up once: the App's
    // and prod's newest version records, sought together (one query on
    // PostgreSQL), each one seek.
    let (lists, scans) = (backend.seek_lists(), backend.scans());
    let expect = DeleteOptions {
        expect: Some(latest),
        ..DeleteOptions::default()
    };
    let change = ChangeSet::new().set(key("K1"), NewValue::plain("again"));
    let prod = Some(&w.prod);
    w.store
        .apply(&w.admin, &w.app, prod, change, expect)
        .unwrap();
    assert_eq!(backend.seek_lists() - lists, 1);
    // The two seeks, and the key's base and override (one seek each).
    assert_eq!(backend.scans() - scans, 4);
}

#[test]
fn verify_finds_an_index_that_does_not_hold_the_newest_entry() {
    let (backend, w, _) = world(20);
    w.store.verify_app(&w.admin, &w.app).unwrap();
    // Give a key the newest entry of another key that holds another value.
    let mut records = Vec::new();
    backend
        .scan(b"K", b"L", false, &mut |k, v| {
            records.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
    let a = &records[0];
    let b = records.iter().find(|r| r.1 != a.1).unwrap();
    let mut batch = Batch::new();
    batch.insert(a.0.clone(), b.1.clone());
    backend.apply(batch).unwrap();
    let e = w.store.verify_app(&w.admin, &w.app).unwrap_err();
    assert_eq!(e.code(), "tampered", "{e}");
    assert!(e.to_string().contains("current value"), "{e}");
    // An empty record (as earlier versions wrote) is read by seeking.
    let mut batch = Batch::new();
    batch.insert(a.0.clone(), Vec::new());
    backend.apply(batch).unwrap();
    w.store.verify_app(&w.admin, &w.app).unwrap();
    reads(&backend, &w, VersionSelector::Latest, 20);
}

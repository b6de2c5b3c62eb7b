//! The change feed (docs/guide.md #durability-concurrency-and-bad-input):
//! `Store::watch` yields an App's new versions in order, resumes from a
//! version, misses none when it falls behind, and sees what another Store
//! over the same backend commits.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use valueset::backend::{Backend, MemoryBackend};
use valueset::model::NewValue;
use valueset::store::{SetOptions, WatchEvent, WatchOptions, WriteOptions};
use valueset::{Actor, AppId, Store};

use crate::common::{Spy, World, key};

const WAIT: Duration = Duration::from_secs(10);

fn ids(events: &[WatchEvent]) -> Vec<String> {
    events.iter().map(|e| e.version.id.to_string()).collect()
}

fn take(watch: &mut valueset::store::Watch, n: usize) -> Vec<WatchEvent> {
    (0..n)
        .map(|_| {
            watch
                .next_timeout(WAIT)
                .unwrap()
                .expect("a version in time")
        })
        .collect()
}

#[test]
fn a_watcher_sees_every_new_version_in_order() -> valueset::Result<()> {
    let w = World::new();
    w.set("BEFORE", "0");
    let mut all = w.store.watch(&w.admin, &w.app, WatchOptions::default())?;
    let mut prod = w.store.watch(
        &w.admin,
        &w.app,
        WatchOptions {
            env: Some(w.prod.clone()),
            ..WatchOptions::default()
        },
    )?;
    let writer = {
        let (store, admin, app, prod) = (
            w.store.clone(),
            w.admin.clone(),
            w.app.clone(),
            w.prod.clone(),
        );
        thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for i in 0..20 {
                let env = (i % 3 == 0).then_some(&prod);
                let k = if i % 3 == 0 {
                    key("BEFORE")
                } else {
                    key(&format!("K{i}"))
                };
                let v = store
                    .set(
                        &admin,
                        &app,
                        env,
                        &k,
                        NewValue::plain(i.to_string()),
                        SetOptions::default(),
                    )
                    .unwrap();
                acknowledged.push(v.id.to_string());
            }
            acknowledged
        })
    };
    let events = take(&mut all, 20);
    let acknowledged = writer.join().unwrap();
    assert_eq!(ids(&events), acknowledged);
    // Environment versions say whose they are.
    for (i, e) in events.iter().enumerate() {
        let expected = (i % 3 == 0).then(|| w.prod.clone());
        assert_eq!(e.env, expected, "{}", e.version.id);
    }
    // The Environment's watcher sees its own versions and the App's,
    // bubbled once it has diverged.
    let prod_events = take(&mut prod, 20);
    assert_eq!(prod_events.len(), 20);
    let bubbled: Vec<_> = prod_events
        .iter()
        .filter(|e| e.version.app_version.is_some())
        .collect();
    assert_eq!(
        bubbled.len(),
        13,
        "App changes after the first override bubble up"
    );
    assert!(prod.next_timeout(Duration::from_millis(50))?.is_none());
    // Its JSON is a version as history prints it, with the Environment.
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["env"], "prod");
    assert_eq!(json["id"], events[0].version.id.to_string());
    Ok(())
}

#[test]
fn a_watcher_resumes_from_a_version_and_misses_none_when_behind() -> valueset::Result<()> {
    let w = World::new();
    let ids_set: Vec<String> = (0..10)
        .map(|i| w.set("A", &i.to_string()).to_string())
        .collect();
    let from = ids_set[3].parse()?;
    let options = WatchOptions {
        from: Some(from),
        ..WatchOptions::default()
    };
    let mut watch = w.store.watch(&w.admin, &w.app, options)?;
    // It fell behind by six versions before it looked: it gets all six.
    let events = take(&mut watch, 6);
    assert_eq!(ids(&events), ids_set[4..]);
    assert!(watch.next_timeout(Duration::from_millis(20))?.is_none());
    // Purges and restores are versions too.
    w.store.restore(
        &w.admin,
        &w.app,
        None,
        valueset::model::VersionSelector::Id(ids_set[0].parse()?),
        valueset::store::RestoreKeys::All,
        WriteOptions::default(),
    )?;
    let restored = take(&mut watch, 1);
    assert_eq!(
        restored[0].version.source_version.map(|v| v.to_string()),
        Some(ids_set[0].clone())
    );
    // A version of another history is not a place to resume from.
    let e = w
        .store
        .watch(
            &w.admin,
            &w.app,
            WatchOptions {
                from: Some("a999".parse()?),
                ..WatchOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "unknown_version");
    Ok(())
}

#[test]
fn a_watcher_sees_what_another_store_over_the_backend_commits() -> valueset::Result<()> {
    let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
    let writer = Store::builder().open_with_backend(Arc::clone(&backend))?;
    let reader = Store::builder().open_with_backend(backend)?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    writer.create_app(&admin, &app)?;
    let mut watch = reader.watch(&admin, &app, WatchOptions::default())?;
    let started = std::time::Instant::now();
    let v = writer.set(
        &admin,
        &app,
        None,
        &key("A"),
        NewValue::plain("1"),
        SetOptions::default(),
    )?;
    let event = watch.next_timeout(WAIT)?.expect("a version");
    assert_eq!(event.version.id, v.id);
    // Woken by the backend, not by looking every half second.
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    Ok(())
}

#[test]
fn watching_needs_a_role_on_the_app() {
    let w = World::new();
    let stranger = Actor::new("s", valueset::model::OrgRole::Member);
    let e = w
        .store
        .watch(&stranger, &w.app, WatchOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
}

#[test]
fn a_watch_ends_with_an_error_when_its_app_is_deleted() -> valueset::Result<()> {
    let w = World::new();
    let mut watch = w.store.watch(&w.admin, &w.app, WatchOptions::default())?;
    w.store.delete_app(&w.admin, &w.app)?;
    let e = watch.next_timeout(Duration::from_millis(100)).unwrap_err();
    assert_eq!(e.code(), "unknown_app");
    Ok(())
}

/// A watcher with nothing to see waits for a wake-up; it does not read
/// the store over and over.
#[test]
fn an_idle_watcher_waits_instead_of_polling() -> valueset::Result<()> {
    let backend = Arc::new(Spy::default());
    let store = Store::builder().open_with_backend(Arc::clone(&backend))?;
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    store.create_app(&admin, &app)?;
    let mut watch = store.watch(&admin, &app, WatchOptions::default())?;
    let before = backend.gets();
    assert!(watch.next_timeout(Duration::from_millis(300))?.is_none());
    let reads = backend.gets() - before;
    assert!(reads < 20, "{reads} reads while idle");
    Ok(())
}

/// With several diverged Environments, each version says whose it is.
#[test]
fn app_wide_events_name_the_right_environment() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "0");
    w.set_env(&w.dev, "A", "d");
    w.set_env(&w.prod, "A", "p");
    let mut watch = w.store.watch(&w.admin, &w.app, WatchOptions::default())?;
    w.set_env(&w.prod, "A", "p2");
    w.set_env(&w.dev, "A", "d2");
    w.set("A", "1");
    let events = take(&mut watch, 3);
    let envs: Vec<_> = events
        .iter()
        .map(|e| e.env.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(
        envs,
        [Some("prod".to_owned()), Some("dev".to_owned()), None]
    );
    Ok(())
}

/// As an iterator, a watch blocks until the next version.
#[test]
fn a_watch_is_an_iterator() -> valueset::Result<()> {
    let w = World::new();
    let mut watch = w.store.watch(&w.admin, &w.app, WatchOptions::default())?;
    let writer = {
        let (store, admin, app) = (w.store.clone(), w.admin.clone(), w.app.clone());
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            store
                .set(
                    &admin,
                    &app,
                    None,
                    &key("A"),
                    NewValue::plain("1"),
                    SetOptions::default(),
                )
                .unwrap()
        })
    };
    // The watcher blocks in its own thread, so a failed write fails the
    // test instead of leaving it waiting.
    let watcher = thread::spawn(move || watch.next());
    let written = writer.join().unwrap();
    let event = watcher.join().unwrap().expect("a version")?;
    assert_eq!(event.version.id, written.id);
    Ok(())
}

#[test]
fn a_batch_says_whether_it_commits_a_version() -> valueset::Result<()> {
    // What a custom backend's change feed wakes watchers on: every change
    // that makes a version, nothing else.
    let spy = Arc::new(Spy::default());
    let w = World::with_store(Store::builder().open_with_backend(Arc::clone(&spy))?);
    let made = spy.applies();
    assert_eq!(spy.versions(), 0, "creating an App and Environments");
    let first = w.set("A", "1");
    w.set_env(&w.prod, "A", "2");
    assert_eq!((spy.applies(), spy.versions()), (made + 2, 2));
    let tag = valueset::TagName::new("stable")?;
    w.store.tag(
        &w.admin,
        &w.app,
        None,
        valueset::model::VersionSelector::Latest,
        &tag,
    )?;
    assert_eq!(
        (spy.applies(), spy.versions()),
        (made + 3, 2),
        "a tag is no version"
    );
    w.store.restore(
        &w.admin,
        &w.app,
        None,
        valueset::model::VersionSelector::Id(first),
        valueset::store::RestoreKeys::All,
        WriteOptions::default(),
    )?;
    assert_eq!(spy.versions(), 3);
    Ok(())
}

/// Following the whole App, a watcher resumes from an Environment's version
/// as well as from an App version: it is a place in the one sequence.
#[test]
fn an_app_wide_watcher_resumes_from_an_environment_version() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    let e2 = w.set_env(&w.prod, "A", "p");
    let a3 = w.set("B", "2");
    let e4 = w.set_env(&w.dev, "A", "d");
    let from = |id| WatchOptions {
        from: Some(id),
        ..WatchOptions::default()
    };
    let mut watch = w.store.watch(&w.admin, &w.app, from(e2))?;
    let events = take(&mut watch, 2);
    assert_eq!(ids(&events), [a3.to_string(), e4.to_string()]);
    assert_eq!(events[1].env.as_ref(), Some(&w.dev));
    assert!(watch.next_timeout(Duration::from_millis(20))?.is_none());
    // The last version is a place too; one not made yet is not.
    let mut watch = w.store.watch(&w.admin, &w.app, from(e4))?;
    assert!(watch.next_timeout(Duration::from_millis(20))?.is_none());
    let e = w
        .store
        .watch(&w.admin, &w.app, from("e5".parse()?))
        .unwrap_err();
    assert_eq!(e.code(), "unknown_version");
    Ok(())
}

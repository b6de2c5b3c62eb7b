//! The PostgreSQL backend's table and connections, on the test server
//! (`VALUESET_TEST_POSTGRES`, as in `shared.rs`; without it these fail,
//! never skip): processes connecting at once to a new table all get it, a
//! table PostgreSQL cannot create is an error, a backend keeps its
//! connections between calls, up to a bound, and closes them safely when
//! dropped on an async runtime; a watcher is woken by another connection's
//! commit, and waits for it without reading the store over and over; long
//! scans page correctly both ways.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use valueset::backend::{Backend, Batch, PostgresBackend};
use valueset::model::NewValue;
use valueset::store::{SetOptions, WatchOptions};
use valueset::{Actor, AppId, Key, Store};

use crate::common::{Spy, fresh_name, postgres_url as url};

/// The test server's URL with one more parameter.
fn with_param(name: &str, value: &str) -> String {
    let url = url();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{name}={value}")
}

fn drop_table(table: &str) {
    let mut client = Client::connect(&url(), NoTls).unwrap();
    client
        .batch_execute(&format!("DROP TABLE IF EXISTS {table}"))
        .unwrap();
}

#[test]
fn backends_creating_one_new_table_at_once_all_get_it() {
    // `CREATE TABLE IF NOT EXISTS` run at once can fail on what the other
    // session just made; the backend then asks again and finds the table.
    for round in 0..4 {
        let table = fresh_name(&format!("race{round}"));
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (url, table, barrier) = (url(), table.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    PostgresBackend::connect_table(&url, &table).map(|_| ())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        drop_table(&table);
    }
}

#[test]
fn a_table_postgresql_cannot_create_is_an_error() {
    // A valid name by our rules, but a reserved word in SQL.
    let err = PostgresBackend::connect_table(&url(), "select").unwrap_err();
    assert!(
        err.to_string().contains("could not create the table"),
        "{err}"
    );
}

/// How many connections the server has open for `application`.
fn connections(application: &str) -> i64 {
    let mut client = Client::connect(&url(), NoTls).unwrap();
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .unwrap()
        .get(0)
}

/// The server processes serving `application`'s connections.
fn server_pids(application: &str) -> Vec<i32> {
    let mut client = Client::connect(&url(), NoTls).unwrap();
    client
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid",
            &[&application],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Waits (a bounded while) for the server to count `want` connections of
/// `application`, which it does once closed ones have gone; the count.
fn settle(application: &str, want: impl Fn(i64) -> bool) -> i64 {
    let start = Instant::now();
    loop {
        let n = connections(application);
        if want(n) || start.elapsed() > Duration::from_secs(5) {
            return n;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_backend_keeps_its_connections_between_calls_up_to_a_bound() {
    let application = fresh_name("valueset_pool");
    let table = fresh_name("pool");
    let url = with_param("application_name", &application);
    let backend = Arc::new(PostgresBackend::connect_table(&url, &table).unwrap());
    // One caller at a time: one connection, used again and again (the
    // server process serving it stays the same).
    backend.get(b"k").unwrap();
    assert_eq!(settle(&application, |n| n == 1), 1);
    let serving = server_pids(&application);
    for _ in 0..10 {
        backend.get(b"k").unwrap();
    }
    assert_eq!(settle(&application, |n| n == 1), 1);
    assert_eq!(server_pids(&application), serving);
    // 24 callers at once, 20 times: more connections, never more than 16
    // open at once, and the backend keeps them.
    let barrier = Arc::new(Barrier::new(24));
    let handles: Vec<_> = (0..24)
        .map(|_| {
            let (backend, barrier) = (Arc::clone(&backend), Arc::clone(&barrier));
            thread::spawn(move || {
                for _ in 0..20 {
                    barrier.wait();
                    backend.get(b"k").unwrap();
                }
            })
        })
        .collect();
    let mut most = 0;
    while !handles.iter().all(thread::JoinHandle::is_finished) {
        most = most.max(connections(&application));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert!((2..=16).contains(&most), "{most} connections at once");
    let kept = settle(&application, |n| n > 1);
    assert!((2..=16).contains(&kept), "{kept} connections kept");
    drop(backend);
    drop_table(&table);
}

#[test]
fn a_backend_with_open_connections_can_be_dropped_on_an_async_runtime() {
    // Closing a connection blocks; on a runtime thread that panics unless
    // the backend closes them elsewhere.
    let table = fresh_name("drop");
    let backend = PostgresBackend::connect_table(&url(), &table).unwrap();
    backend.get(b"k").unwrap();
    // A watcher holds a listening connection of its own.
    let url = with_param("table", &table);
    let store = Store::builder()
        .open_with_backend(PostgresBackend::connect(&url).unwrap())
        .unwrap();
    let admin = Actor::admin("alice");
    let app = AppId::new("drop").unwrap();
    store.create_app(&admin, &app).unwrap();
    let watch = store.watch(&admin, &app, WatchOptions::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move {
        drop(watch);
        drop(store);
        drop(backend);
    });
    drop_table(&table);
}

#[test]
fn a_watcher_is_woken_by_a_commit_on_another_connection() -> valueset::Result<()> {
    let table = fresh_name("wake");
    let url = with_param("table", &table);
    // Two backends, as two processes would have.
    let writer = Store::builder().open_with_backend(PostgresBackend::connect(&url)?)?;
    let reader = Store::builder().open_with_backend(PostgresBackend::connect(&url)?)?;
    let admin = Actor::admin("alice");
    let app = AppId::new("wake")?;
    writer.create_app(&admin, &app)?;
    let mut watch = reader.watch(&admin, &app, WatchOptions::default())?;
    // The commit lands while the watcher waits (it looked at the start,
    // and would look again only after half a second).
    let started = Instant::now();
    let committer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        let key = Key::new("A").unwrap();
        writer
            .set(
                &admin,
                &app,
                None,
                &key,
                NewValue::plain("1"),
                SetOptions::default(),
            )
            .map(|v| (v.id, writer))
    });
    let event = watch
        .next_timeout(Duration::from_secs(5))?
        .expect("a version");
    let seen = started.elapsed();
    let (id, writer) = committer.join().unwrap()?;
    assert_eq!(event.version.id, id);
    // Woken by the server's notification, not by looking again.
    assert!(seen < Duration::from_millis(350), "{seen:?}");
    drop((watch, reader, writer));
    drop_table(&table);
    Ok(())
}

#[test]
fn an_idle_watcher_waits_for_the_server_instead_of_reading() -> valueset::Result<()> {
    let table = fresh_name("idle");
    let url = with_param("table", &table);
    let backend = Arc::new(Spy::over(PostgresBackend::connect(&url)?));
    let store = Store::builder().open_with_backend(Arc::clone(&backend))?;
    let admin = Actor::admin("alice");
    let app = AppId::new("idle")?;
    store.create_app(&admin, &app)?;
    let mut watch = store.watch(&admin, &app, WatchOptions::default())?;
    let before = backend.gets() + backend.scans();
    assert!(watch.next_timeout(Duration::from_millis(300))?.is_none());
    let reads = backend.gets() + backend.scans() - before;
    assert!(reads < 20, "{reads} reads while idle");
    drop((watch, store));
    drop_table(&table);
    Ok(())
}

#[test]
fn long_scans_take_several_pages_each_way() {
    // Pages grow from 16 rows (reverse) and 1,024 (forward) four times
    // over; 3,000 rows take several of each, and stopping inside a page
    // stops there.
    let table = fresh_name("pages");
    let backend = PostgresBackend::connect_table(&url(), &table).unwrap();
    let keys: Vec<Vec<u8>> = (0..3000u32)
        .map(|i| format!("k{i:05}").into_bytes())
        .collect();
    let mut batch = Batch::new();
    for k in &keys {
        batch.insert(k.clone(), b"v".to_vec());
    }
    backend.apply(batch).unwrap();
    let scan = |reverse: bool, stop_after: usize| {
        let mut seen = Vec::new();
        backend
            .scan(b"k", b"l", reverse, &mut |k, _| {
                seen.push(k.to_vec());
                if seen.len() == stop_after {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            })
            .unwrap();
        seen
    };
    assert_eq!(scan(false, usize::MAX), keys);
    let reversed: Vec<Vec<u8>> = keys.iter().rev().cloned().collect();
    assert_eq!(scan(true, usize::MAX), reversed);
    assert_eq!(scan(false, 1500), keys[..1500]);
    assert_eq!(scan(true, 1500), reversed[..1500]);
    drop(backend);
    drop_table(&table);
}

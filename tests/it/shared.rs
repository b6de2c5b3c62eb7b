//! One store, many processes, on PostgreSQL (docs/guide.md
//! #durability-concurrency-and-bad-input): several `valuesctl` processes
//! write one App at once while another watches; a server restart in the
//! middle of a run loses nothing that was acknowledged.
//!
//! These need a server: `VALUESET_TEST_POSTGRES` names it (as
//! `scripts/postgres-test-server start` prints it). Built with the
//! `postgres` feature, they fail, never skip, without one.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use valueset::backend::PostgresBackend;
use valueset::model::NewValue;
use valueset::store::{HistoryOptions, SetOptions};
use valueset::{Actor, AppId, Key, Store};

use crate::common::postgres_url as url;

const KEY: &str = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";

fn ctl(url: &str, args: &[&str]) -> Output {
    Command::new(crate::valuesctl::valuesctl())
        .arg("--store")
        .arg(url)
        .args(args)
        .env("VALUESET_MASTER_KEY", KEY)
        .output()
        .unwrap()
}

fn ok(url: &str, args: &[&str]) -> Value {
    let out = ctl(url, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn processes_writing_one_app_at_once_lose_nothing() {
    const WRITERS: usize = 4;
    const CHANGES: usize = 50;
    // A table of its own, so that other runs and their master keys do not
    // meet this one.
    let url = format!("{}?table=multi_{}", url(), std::process::id());
    let app = format!("multi-{}", std::process::id());
    ok(&url, &["app", "create", &app]);
    ok(&url, &["env", "create", &app, "prod"]);
    let base = ok(&url, &["set", &app, "BASE", "0"]);
    let base_id = base["id"].as_str().unwrap().to_owned();

    // A watcher in its own process, from the first version on.
    let total = WRITERS * CHANGES;
    let mut watching = Command::new(crate::valuesctl::valuesctl())
        .args(["--store", &url, "watch", &app, "--from", &base_id])
        .args(["--count", &total.to_string(), "--idle-timeout", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = watching.stdout.take().unwrap();
    let seen = thread::spawn(move || {
        BufReader::new(lines)
            .lines()
            .map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap())
            .collect::<Vec<Value>>()
    });

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, app) = (url.clone(), app.clone());
            thread::spawn(move || {
                (0..CHANGES)
                    .map(|i| {
                        let comment = format!("{w}/{i}");
                        let mut args = vec!["set", &app, "K", "v", "--comment", &comment];
                        if i % 5 == 0 {
                            args = vec![
                                "set",
                                &app,
                                "BASE",
                                "p",
                                "--env",
                                "prod",
                                "--comment",
                                &comment,
                            ];
                        }
                        let id = ok(&url, &args)["id"].as_str().unwrap().to_owned();
                        (id, comment)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let acknowledged: Vec<(String, String)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(watching.wait().unwrap().success());
    let seen = seen.join().unwrap();

    // Every acknowledged change is in the history exactly once, under its id.
    let app_history = ok(&url, &["history", &app, "--limit", "10000"]);
    let prod_history = ok(
        &url,
        &["history", &app, "--env", "prod", "--limit", "10000"],
    );
    let recorded: Vec<(String, String)> =
        app_history
            .as_array()
            .unwrap()
            .iter()
            .chain(prod_history.as_array().unwrap().iter().filter(|v| {
                v["app_version"].is_null() && v["id"].as_str().unwrap().starts_with('e')
            }))
            .map(|v| {
                (
                    v["id"].as_str().unwrap().to_owned(),
                    v["comment"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    for change in &acknowledged {
        let n = recorded.iter().filter(|r| *r == change).count();
        assert_eq!(n, 1, "{change:?} is recorded {n} times");
    }
    // Ids are dense and unique: BASE took 1, the changes 2 and on.
    let seqs: BTreeSet<u64> = acknowledged
        .iter()
        .map(|(id, _)| id[1..].parse().unwrap())
        .collect();
    assert_eq!(seqs, (2..2 + total as u64).collect::<BTreeSet<_>>());
    // The watcher saw every version, in order.
    let watched: Vec<&str> = seen.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let mut in_order: Vec<(u64, &str)> = acknowledged
        .iter()
        .map(|(id, _)| (id[1..].parse().unwrap(), id.as_str()))
        .collect();
    in_order.sort_unstable();
    assert_eq!(
        watched,
        in_order.iter().map(|(_, id)| *id).collect::<Vec<_>>()
    );
    assert_eq!(ok(&url, &["verify", &app])["apps"], 1);
}

/// The script that runs a throwaway server, here a second one of its own so
/// that restarting it does not disturb the other tests.
fn server_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres-test-server")
}

fn script(state: &std::path::Path, action: &str) -> String {
    let out = Command::new(server_script())
        .arg(action)
        .env("VALUESET_PG_STATE", state)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "postgres-test-server {action} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_server_restart_loses_nothing_acknowledged() -> valueset::Result<()> {
    let state = std::env::temp_dir().join(format!("valueset-pg-restart-{}", std::process::id()));
    let url = script(&state, "start");
    let stop = Stopper(state.clone());
    let store = Store::builder().open_with_backend(PostgresBackend::connect(&url)?)?;
    let admin = Actor::admin("alice");
    let app = AppId::new("restart")?;
    store.create_app(&admin, &app)?;
    let writer = {
        let (store, admin, app) = (store.clone(), admin.clone(), app.clone());
        thread::spawn(move || {
            let mut acknowledged = Vec::new();
            let mut refused = Vec::new();
            let start = Instant::now();
            let mut i = 0;
            while start.elapsed() < Duration::from_secs(6) {
                i += 1;
                let options = SetOptions {
                    comment: format!("c{i}"),
                    ..SetOptions::default()
                };
                let key = Key::new(format!("K{}", i % 7)).unwrap();
                match store.set(
                    &admin,
                    &app,
                    None,
                    &key,
                    NewValue::plain(i.to_string()),
                    options,
                ) {
                    Ok(v) => acknowledged.push((v.id.to_string(), format!("c{i}"))),
                    Err(e) => {
                        refused.push(e.code());
                        thread::sleep(Duration::from_millis(50));
                    }
                }
            }
            (acknowledged, refused)
        })
    };
    thread::sleep(Duration::from_millis(1500));
    script(&state, "restart");
    let (acknowledged, refused) = writer.join().unwrap();
    // A lost connection is a typed, retryable error, nothing else.
    for code in &refused {
        assert_eq!(*code, "backend_unavailable");
    }
    let history = store.history(
        &admin,
        &app,
        None,
        HistoryOptions {
            limit: Some(100_000),
            ..HistoryOptions::default()
        },
    )?;
    let recorded: BTreeSet<(String, String)> = history
        .iter()
        .map(|v| (v.id.to_string(), v.comment.clone()))
        .collect();
    for change in &acknowledged {
        assert!(
            recorded.contains(change),
            "{change:?} was acknowledged and lost"
        );
    }
    let late = acknowledged
        .iter()
        .filter(|(_, c)| c[1..].parse::<usize>().unwrap() > refused.len())
        .count();
    assert!(late > 0, "no change was written after the restart");
    store.verify(&admin)?;
    drop(stop);
    Ok(())
}

/// Stops the test's own server when the test ends, passed or not.
struct Stopper(PathBuf);

impl Drop for Stopper {
    fn drop(&mut self) {
        let _ = Command::new(server_script())
            .arg("stop")
            .env("VALUESET_PG_STATE", &self.0)
            .output();
    }
}

/// Whether any file below `dir` holds `needle`.
fn in_files(dir: &std::path::Path, needle: &[u8]) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                return true;
            }
        }
    }
    false
}

/// On PostgreSQL a purge compacts with `VACUUM FULL`: the table is
/// rewritten, and the purged value leaves the table's files (the
/// write-ahead log keeps it until it is recycled, as the guide says).
#[test]
fn a_purged_value_leaves_the_tables_files() -> valueset::Result<()> {
    const PURGED: &str = "PG-PURGED-CANARY-7e1d";
    let state = std::env::temp_dir().join(format!("valueset-pg-vacuum-{}", std::process::id()));
    let url = script(&state, "start");
    let _stop = Stopper(state.clone());
    let store = Store::builder().open_with_backend(PostgresBackend::connect(&url)?)?;
    let admin = Actor::admin("alice");
    let app = AppId::new("vacuum")?;
    store.create_app(&admin, &app)?;
    let key = Key::new("A")?;
    let first = store.set(
        &admin,
        &app,
        None,
        &key,
        NewValue::plain(PURGED),
        SetOptions::default(),
    )?;
    store.set(
        &admin,
        &app,
        None,
        &key,
        NewValue::plain("now"),
        SetOptions::default(),
    )?;
    let checkpoint = || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client.batch_execute("CHECKPOINT").unwrap();
    };
    checkpoint();
    let tables = state.join("data").join("base");
    assert!(
        in_files(&tables, PURGED.as_bytes()),
        "the value was never in the table's files"
    );
    store.purge(
        &admin,
        &app,
        None,
        first.id.into(),
        &key,
        valueset::store::WriteOptions::default(),
    )?;
    checkpoint();
    assert!(
        !in_files(&tables, PURGED.as_bytes()),
        "a purged value is in the table's files"
    );
    store.verify(&admin)?;
    Ok(())
}

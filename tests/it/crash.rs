//! docs/guide.md #durability-concurrency-and-bad-input: after a crash at any instant, reopening shows each change whole
//! or not at all, the history verifies, and every acknowledged change is
//! there.
//!
//! The test runs this test binary again as a child writer (the
//! `crash_child` entry point, selected by `VALUESET_CRASH_DIR`) that makes
//! changes in a loop, flushing each and then printing its version id (an
//! acknowledgement). The parent kills it with SIGKILL at a random moment,
//! reopens the store, verifies it and looks for every acknowledged version.
//! CI runs 6 rounds; more by hand: `VALUESET_CRASH_ROUNDS=200 cargo test -q crash`.

// The child acknowledges on stdout; the parent reports its count on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, SetOptions};
use valueset::{Actor, AppId, EnvId, Key, MasterKey, Secret, Store};

use crate::common::TempDir;

fn key() -> MasterKey {
    MasterKey::from_hex(&"c3".repeat(32)).unwrap()
}

/// The child writer. A no-op unless the parent started it.
#[test]
fn crash_child() -> valueset::Result<()> {
    let Ok(dir) = std::env::var("VALUESET_CRASH_DIR") else {
        return Ok(());
    };
    let store = Store::builder().master_key(key()).open(&dir)?;
    let admin = Actor::admin("writer");
    let app = AppId::new("crash")?;
    let env = EnvId::new("prod")?;
    if store.apps(&admin)?.is_empty() {
        store.create_app(&admin, &app)?;
        store.create_env(&admin, &app, &env)?;
        store.flush()?;
    }
    for i in 0u64.. {
        let k = Key::new(format!("K{}", i % 7))?;
        let v = match i % 5 {
            0 => store.set(
                &admin,
                &app,
                None,
                &k,
                NewValue::plain(format!("v{i}")),
                SetOptions::default(),
            )?,
            1 => store.set(
                &admin,
                &app,
                None,
                &k,
                NewValue::secret(Secret::new(format!("s{i}"))),
                SetOptions::default(),
            )?,
            2 => {
                let batch = (0..5).fold(ChangeSet::new(), |b, j| {
                    b.set(
                        Key::new(format!("B{j}")).unwrap(),
                        NewValue::plain(format!("b{i}-{j}")),
                    )
                });
                store.apply(&admin, &app, None, batch, DeleteOptions::default())?
            }
            3 => match store.set(
                &admin,
                &app,
                Some(&env),
                &k,
                NewValue::plain(format!("p{i}")),
                SetOptions::default(),
            ) {
                Ok(v) => v,
                Err(e) if e.code() == "no_base_value" => continue,
                Err(e) => return Err(e),
            },
            _ => match store.delete(
                &admin,
                &app,
                None,
                &k,
                DeleteOptions {
                    cascade: true,
                    ..Default::default()
                },
            ) {
                Ok(v) => v,
                Err(e) if e.code() == "unknown_key" => continue,
                Err(e) => return Err(e),
            },
        };
        store.flush()?;
        println!(
            "ACK {} {}",
            if v.id.to_string().starts_with('e') {
                "env"
            } else {
                "app"
            },
            v.id
        );
    }
    Ok(())
}

#[test]
fn killed_writers_leave_whole_changes() -> valueset::Result<()> {
    let rounds: u64 = std::env::var("VALUESET_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(6);
    let dir = TempDir::new("crash");
    let exe = std::env::current_exe().unwrap();
    let mut seed = u64::from(std::process::id()) ^ 0x9E37_79B9_7F4A_7C15;
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let run_for = Duration::from_millis(20 + seed % 400);
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("VALUESET_CRASH_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let mut parts = l.strip_prefix("ACK ")?.split(' ');
                    Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                })
                .collect::<Vec<_>>()
        });
        let start = Instant::now();
        while start.elapsed() < run_for {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());

        // Reopen: the history verifies and every acknowledged version is
        // there, whole.
        let store = Store::builder().master_key(key()).open(dir.path())?;
        let admin = Actor::admin("checker");
        store.verify(&admin)?;
        let app = AppId::new("crash")?;
        let env = EnvId::new("prod")?;
        if store.apps(&admin)?.is_empty() {
            assert!(
                acknowledged.is_empty(),
                "round {round}: acknowledged changes but no app"
            );
            continue;
        }
        for (scope, id) in &acknowledged {
            let env = (scope == "env").then_some(&env);
            let version = store.version(&admin, &app, env, VersionSelector::Id(id.parse()?));
            assert!(
                version.is_ok(),
                "round {round}: acknowledged {scope} version {id} is missing: {version:?}"
            );
        }
        // Every version's snapshot reads, secrets included.
        let snapshot = store.snapshot(&admin, &app, &env, VersionSelector::Latest);
        if let Ok(snapshot) = snapshot {
            for i in 0..7 {
                let _ = snapshot
                    .resolver()
                    .resolve_str(&format!("${{values.K{i}}}"))
                    .map_err(|e| {
                        assert!(e.code() == "unknown_key", "round {round}: K{i}: {e}");
                    });
            }
        }
        drop(store);
    }
    assert!(!acknowledged.is_empty(), "the writers acknowledged changes");
    eprintln!(
        "crash test: {rounds} rounds, {} acknowledged changes checked",
        acknowledged.len()
    );
    Ok(())
}

//! What a sled store costs a service on disk and in memory (BENCHMARKS.md,
//! "Footprint"):
//!
//! ```sh
//! cargo build --release --example footprint
//! target/release/examples/footprint build /tmp/fp 100000   # 1,000 keys, then one-key changes
//! target/release/examples/footprint serve /tmp/fp 64 200   # cache MiB, deployment reads
//! target/release/examples/footprint serve /tmp/fp 1024 200
//! ```
//!
//! `build` prints the bytes on disk after the changes and after a
//! compaction, beside the logical bytes (each change's key and value).
//! `serve` opens the store with the given page cache, reads an Environment
//! whole that many times at its latest version (a deployment's read) and
//! at an early one, and prints the time per read and the process's peak
//! resident memory.
#![allow(clippy::print_stdout)] // a program that reports what it measured

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use valueset::backend::Backend;
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, SetOptions};
use valueset::{Actor, AppId, EnvId, Key, Store};

const KEYS: usize = 1_000;

fn main() -> valueset::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let dir = arg(1, "/tmp/valueset-footprint");
    match arg(0, "").as_str() {
        "build" => build(Path::new(&dir), arg(2, "100000").parse().unwrap_or(100_000)),
        "serve" => serve(
            Path::new(&dir),
            arg(2, "64").parse().unwrap_or(64),
            arg(3, "200").parse().unwrap_or(200),
        ),
        _ => {
            println!("usage: footprint build DIR CHANGES | footprint serve DIR CACHE_MIB READS");
            Ok(())
        }
    }
}

fn ids() -> (Actor, AppId, EnvId) {
    let app = AppId::new("shop").expect("valid");
    let env = EnvId::new("prod").expect("valid");
    (Actor::admin("bench"), app, env)
}

fn build(dir: &Path, changes: usize) -> valueset::Result<()> {
    // The example keeps a handle to the backend, to count the bytes of
    // the store's records below.
    let backend = std::sync::Arc::new(valueset::backend::SledBackend::open(dir)?);
    let store = Store::builder().open_with_backend(std::sync::Arc::clone(&backend))?;
    let (admin, app, env) = ids();
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &env)?;
    let mut batch = ChangeSet::new();
    for i in 0..KEYS {
        batch = batch.set(key(i), NewValue::plain(format!("value-{i:06}")));
    }
    store.apply(&admin, &app, None, batch, DeleteOptions::default())?;
    let mut logical: u64 = 0;
    for n in 0..changes {
        let k = key(n % KEYS);
        let value = format!("value-{n:06}");
        logical += u64::try_from(k.as_str().len() + value.len()).unwrap_or(u64::MAX);
        store.set(
            &admin,
            &app,
            None,
            &k,
            NewValue::plain(value),
            SetOptions::default(),
        )?;
    }
    store.flush()?;
    let written = du(dir);
    store.compact(&admin)?;
    let compacted = du(dir);
    // What the store's own records take, keys and values: the history's
    // bookkeeping (hashes, digests, times) over the logical bytes.
    let mut records: u64 = 0;
    backend
        .scan(&[], &[0xff], false, &mut |k, v| {
            records += u64::try_from(k.len() + v.len()).unwrap_or(u64::MAX);
            ControlFlow::Continue(())
        })
        .map_err(valueset::Error::from)?;
    println!(
        "{changes} one-key changes: {logical} logical bytes, {records} bytes of records \
         ({:.1}x); on disk {written} bytes ({:.1}x), after compaction {compacted} bytes \
         ({:.1}x, {:.1}x the records)",
        ratio(records, logical),
        ratio(written, logical),
        ratio(compacted, logical),
        ratio(compacted, records)
    );
    println!("peak RSS while building: {}", peak_rss());
    Ok(())
}

fn serve(dir: &Path, cache_mib: u64, reads: usize) -> valueset::Result<()> {
    let start = Instant::now();
    let backend = valueset::backend::SledBackend::open_with_cache(dir, cache_mib << 20)?;
    let store = Store::builder().open_with_backend(backend)?;
    let opened = start.elapsed();
    let (admin, app, env) = ids();
    let n = u32::try_from(reads.max(1)).unwrap_or(u32::MAX);
    let mut per_read = Vec::new();
    // The latest version, then one early in the history (every key changed
    // since, so each is sought in its history).
    for version in [VersionSelector::Latest, "a100".parse()?] {
        let start = Instant::now();
        for _ in 0..reads {
            let read = store.version(&admin, &app, Some(&env), version.clone())?;
            assert_eq!(read.values.len(), KEYS);
        }
        per_read.push(start.elapsed() / n);
    }
    println!(
        "cache {cache_mib} MiB: opened in {opened:?}; a full read {:?} at the latest \
         version, {:?} at an early one; peak RSS {}",
        per_read[0],
        per_read[1],
        peak_rss()
    );
    Ok(())
}

/// `a / b`, for printing.
#[allow(clippy::cast_precision_loss)] // sizes far below 2^52 bytes
fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

fn key(i: usize) -> Key {
    Key::new(format!("KEY_{i:04}")).expect("valid")
}

/// The bytes of every file under `dir`.
fn du(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => du(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The process's peak resident memory, from Linux's `/proc/self/status`.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (not Linux)".to_owned())
}

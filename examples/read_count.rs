//! Reads one version's full set of 10,000 values a few times, for counting
//! instructions, which unlike times do not move with the machine's load
//! (BENCHMARKS.md, the history engine):
//!
//! ```sh
//! cargo build --release --example read_count
//! valgrind --tool=callgrind --toggle-collect='valueset::store::read::*::version' \
//!     target/release/examples/read_count 5
//! ```
//!
//! The data is that of `benches/history.rs`, in memory: 10,000 keys set in
//! one version, then one-key changes up to the depth (the second argument,
//! 100 by default; the bench's other depth is 100000); the version read is
//! the one in the middle. Repetitions default to 5.
#![allow(clippy::print_stdout)] // a program that reports what it did

use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, HistoryOptions, SetOptions};
use valueset::{Actor, AppId, Key, Store};

const KEYS: usize = 10_000;

fn main() -> Result<(), valueset::Error> {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let depth: usize = std::env::args()
        .nth(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(100);
    let store = Store::in_memory();
    let admin = Actor::admin("bench");
    let app = AppId::new("bench")?;
    store.create_app(&admin, &app)?;
    let keys = (0..KEYS)
        .map(|i| Key::new(format!("key.{i:05}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut batch = ChangeSet::new();
    for k in &keys {
        batch = batch.set(k.clone(), NewValue::plain(format!("initial value of {k}")));
    }
    store.apply(&admin, &app, None, batch, DeleteOptions::default())?;
    for n in 1..depth {
        let key = &keys[n * 7919 % KEYS];
        let value = NewValue::plain(format!("value number {n}"));
        store.set(&admin, &app, None, key, value, SetOptions::default())?;
    }
    let history = store.history(
        &admin,
        &app,
        None,
        HistoryOptions {
            limit: Some(depth / 2),
            ..HistoryOptions::default()
        },
    )?;
    let Some(middle) = history.last().map(|v| v.id) else {
        return Ok(());
    };
    let mut read = 0;
    for _ in 0..reps {
        read += store
            .version(&admin, &app, None, VersionSelector::Id(middle))?
            .values
            .len();
    }
    println!("read {read} values: {reps} reads of version {middle}");
    Ok(())
}

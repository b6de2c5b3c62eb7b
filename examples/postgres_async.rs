//! A valueset store on PostgreSQL, used from async code: the `postgres`
//! client is synchronous (it runs a small runtime of its own), so each call
//! goes through `tokio::task::spawn_blocking`, never onto a runtime thread.
//! A watcher, on a blocking thread too, sees the version as it lands.
//!
//! Run: `cargo run --features postgres --example postgres_async -- URL`
//! (URL as `scripts/postgres-test-server start` prints it).

#![allow(clippy::print_stdout)]

use std::time::Duration;

use valueset::backend::PostgresBackend;
use valueset::model::NewValue;
use valueset::store::{SetOptions, WatchOptions};
use valueset::{Actor, AppId, Key, Store};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("give the server's URL: postgres://user@host:port/database")?;
    let table = format!("async_example_{}", std::process::id());
    let url = format!("{url}?table={table}");
    // Connecting blocks too.
    let store = tokio::task::spawn_blocking(move || {
        Store::builder().open_with_backend(PostgresBackend::connect(&url)?)
    })
    .await??;
    let admin = Actor::admin("deployer");
    let app = AppId::new("shop")?;

    let (s, a, p) = (store.clone(), admin.clone(), app.clone());
    tokio::task::spawn_blocking(move || s.create_app(&a, &p)).await??;

    // A watcher waits on its own blocking thread.
    let (s, a, p) = (store.clone(), admin.clone(), app.clone());
    let mut watch =
        tokio::task::spawn_blocking(move || s.watch(&a, &p, WatchOptions::default())).await??;
    let watcher = tokio::task::spawn_blocking(move || watch.next_timeout(Duration::from_secs(10)));

    let (s, a, p) = (store.clone(), admin.clone(), app.clone());
    let version = tokio::task::spawn_blocking(move || {
        let key = Key::new("db.host")?;
        s.set(
            &a,
            &p,
            None,
            &key,
            NewValue::plain("db.internal"),
            SetOptions::default(),
        )
    })
    .await??;
    println!("set db.host in version {}", version.id);

    let seen = watcher.await??.ok_or("the watcher saw nothing")?;
    assert_eq!(seen.version.id, version.id);
    println!("the watcher saw version {}", seen.version.id);
    Ok(())
}

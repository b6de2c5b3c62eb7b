//! A five-minute tour of valueset, printing what happens at each step: an
//! App with two Environments, values and a secret, an override, a change
//! that bubbles, a restore, a purge, and a workload resolved for production.
//!
//! Run: `cargo run --example quickstart`
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use valueset::model::{NewValue, VersionSelector};
use valueset::resolve::Workload;
use valueset::store::{HistoryOptions, RestoreKeys, SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, Key, Secret, Store};

// A tour, read top to bottom: one step after another, each printed.
#[allow(clippy::too_many_lines)]
fn main() -> valueset::Result<()> {
    let store = Store::in_memory();
    let admin = Actor::admin("alice");
    let app = AppId::new("checkout")?;
    let (staging, production) = (EnvId::new("staging")?, EnvId::new("production")?);

    println!("1. An App with two Environments");
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &staging)?;
    store.create_env(&admin, &app, &production)?;

    println!("2. App values and a secret");
    let (host, pool, password) = (
        Key::new("db.host")?,
        Key::new("db.pool")?,
        Key::new("db.password")?,
    );
    let v = store.set(
        &admin,
        &app,
        None,
        &host,
        NewValue::plain("db.dev.internal"),
        SetOptions::default(),
    )?;
    println!("   set db.host -> version {}", v.id);
    let v = store.set(
        &admin,
        &app,
        None,
        &pool,
        NewValue::plain("5"),
        SetOptions::default(),
    )?;
    println!("   set db.pool -> version {}", v.id);
    let v = store.set(
        &admin,
        &app,
        None,
        &password,
        NewValue::secret(Secret::new("dev-password".into())),
        SetOptions::default(),
    )?;
    println!(
        "   set db.password (a secret) -> version {}, secret_version {:?}",
        v.id, v.change[0].secret_version
    );
    let read = store.get(&admin, &app, None, &password)?;
    println!(
        "   reading it back shows no value: is_secret={}, value={:?}",
        read.is_secret(),
        read.plain()
    );

    println!("3. An override in production: its history diverges");
    let prod = |comment: &str| SetOptions {
        comment: comment.into(),
        ..SetOptions::default()
    };
    let v = store.set(
        &admin,
        &app,
        Some(&production),
        &host,
        NewValue::plain("db.prod.internal"),
        prod("prod database"),
    )?;
    println!(
        "   production overrides db.host -> its own version {}",
        v.id
    );
    store.set(
        &admin,
        &app,
        Some(&production),
        &password,
        NewValue::secret(Secret::new("prod-password".into())),
        prod("prod password"),
    )?;

    println!("4. An App change bubbles into production");
    let v = store.set(
        &admin,
        &app,
        None,
        &pool,
        NewValue::plain("20"),
        SetOptions::default(),
    )?;
    println!("   App sets db.pool=20 -> App version {}", v.id);
    let history = store.history(
        &admin,
        &app,
        Some(&production),
        HistoryOptions {
            limit: Some(3),
            ..HistoryOptions::default()
        },
    )?;
    for version in &history {
        let from = version.app_version.map_or(String::new(), |a| {
            format!(" (bubbled from App version {a})")
        });
        println!(
            "   production {}: {}{}",
            version.id, version.result_of, from
        );
    }
    let staging_history = store.history(&admin, &app, Some(&staging), HistoryOptions::default())?;
    let ids: Vec<String> = staging_history.iter().map(|v| v.id.to_string()).collect();
    println!(
        "   staging has no override, so it shares the App's versions: {}",
        ids.join(", ")
    );

    println!("5. A restore puts old values back as a new version");
    store.set(
        &admin,
        &app,
        None,
        &pool,
        NewValue::plain("200"),
        SetOptions::default(),
    )?;
    let r = store.restore(
        &admin,
        &app,
        None,
        VersionSelector::Id(v.id),
        RestoreKeys::Only(vec![pool.clone()]),
        WriteOptions::default(),
    )?;
    println!(
        "   restored db.pool from {} -> version {}: db.pool={:?}",
        v.id,
        r.id,
        store.get(&admin, &app, None, &pool)?.plain()
    );

    println!("6. A purge removes an old value from history, for good");
    let first = store.history(
        &admin,
        &app,
        None,
        HistoryOptions {
            key_changed: Some(password.clone()),
            ..HistoryOptions::default()
        },
    )?;
    let introduced = first.last().expect("the password was set").id;
    store.set(
        &admin,
        &app,
        None,
        &password,
        NewValue::secret(Secret::new("rotated-password".into())),
        SetOptions::default(),
    )?;
    let p = store.purge(
        &admin,
        &app,
        None,
        introduced.into(),
        &password,
        WriteOptions {
            comment: "leaked".into(),
            ..WriteOptions::default()
        },
    )?;
    println!(
        "   purged db.password of {introduced} -> version {} ({})",
        p.version.id, p.version.result_of
    );
    let old = store.version(&admin, &app, None, VersionSelector::Id(introduced))?;
    println!(
        "   {introduced} now shows db.password as purged: {}",
        old.values[&password].value().is_none()
    );

    println!("7. A workload resolved for production");
    let workload = Workload {
        id: "api".into(),
        variables: BTreeMap::from([
            (
                "DATABASE_URL".into(),
                "postgres://app:${values.db.password}@${values.db.host}/checkout".into(),
            ),
            ("POOL_SIZE".into(), "${values.db.pool}".into()),
        ]),
        labels: BTreeMap::from([("app".into(), "${context.app.id}".into())]),
        ..Workload::default()
    };
    let snapshot = store.snapshot(&admin, &app, &production, VersionSelector::Latest)?;
    let resolved = snapshot.resolver().resolve_workload(&workload)?;
    for (name, value) in &resolved.variables {
        match value.as_plain() {
            Some(text) => println!("   {name}={text}"),
            None => println!("   {name} is a secret (printed here as {value:?})"),
        }
    }
    println!("   label app={}", resolved.labels["app"]);

    let report = store.verify(&admin)?;
    println!(
        "8. The history verifies: {} versions, {} values checked",
        report.versions, report.entries
    );
    Ok(())
}

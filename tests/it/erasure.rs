//! Purge and deletion reach the disk (docs/guide.md #purge,
//! #lifecycle-of-secrets).
//!
//! The bug: sled is log-structured and keeps old segments, so after a purge,
//! or after deleting an App or Environment, the store's files still held the
//! purged plain value and the ciphertexts of purged and deleted secrets,
//! which the master key still opened. The fix: a purge and a deletion
//! compact the store (the live data is written into a new generation of
//! files and the old one is removed), so no live file holds them. These
//! tests read the raw files: each first checks that the bytes were on disk,
//! so it cannot pass by looking in the wrong place.

use std::path::Path;
use std::sync::Arc;

use valueset::backend::{Backend, SledBackend};
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, Key, MasterKey, Secret, Store, VersionId};

use crate::common::TempDir;

const PLAIN: &str = "PLAIN-CANARY-4b7e-purged";

fn master() -> MasterKey {
    MasterKey::from_bytes([0x5a; 32])
}

/// A small page cache, so that these tests also run sled with a bounded one
/// (reads, writes, compaction into a new generation).
/// The store, and a handle to its backend to look at what it keeps.
fn open(dir: &Path) -> valueset::Result<(Store, Arc<SledBackend>)> {
    let backend = Arc::new(SledBackend::open_with_cache(dir, 1 << 20)?);
    let store = Store::builder()
        .master_key(master())
        .open_with_backend(Arc::clone(&backend))?;
    Ok((store, backend))
}

/// Every file and directory below `dir`.
fn below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}

/// Whether any file below `dir` holds `needle`.
fn on_disk(dir: &Path, needle: &[u8]) -> bool {
    below(dir).iter().filter(|p| p.is_file()).any(|p| {
        std::fs::read(p)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
    })
}

/// The sealed bytes the built-in store keeps for the secret the library
/// named `name` (`app/level/key/seq`).
fn sealed(backend: &SledBackend, name: &str) -> Vec<u8> {
    let mut key = b"S".to_vec();
    key.extend_from_slice(name.as_bytes());
    let sealed = backend.get(&key).unwrap();
    sealed.unwrap_or_else(|| panic!("no sealed record `{name}`"))
}

fn set(store: &Store, app: &AppId, k: &str, value: NewValue, env: Option<&EnvId>) -> VersionId {
    let options = SetOptions::default();
    let key = Key::new(k).unwrap();
    store
        .set(&Actor::admin("alice"), app, env, &key, value, options)
        .unwrap()
        .id
}

fn secret(s: &str) -> NewValue {
    NewValue::secret(Secret::new(s.to_owned()))
}

#[test]
fn a_purged_value_and_a_purged_secret_leave_the_disk() -> valueset::Result<()> {
    let dir = TempDir::new("erasure-purge");
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    let (store, backend) = open(dir.path())?;
    store.create_app(&admin, &app)?;
    let plain_at = set(&store, &app, "A", NewValue::plain(PLAIN), None);
    set(&store, &app, "A", NewValue::plain("now"), None);
    let secret_at = set(&store, &app, "S", secret("purged-secret"), None);
    set(&store, &app, "S", secret("current-secret"), None);
    let ciphertext = sealed(
        &backend,
        &format!("shop/_app/S/{}", &secret_at.to_string()[1..]),
    );
    // More batches, as a store in use would see before a purge.
    for i in 0..18 {
        set(&store, &app, &format!("K{i}"), NewValue::plain("x"), None);
    }
    store.flush()?;
    assert!(
        on_disk(dir.path(), PLAIN.as_bytes()),
        "the value was never on disk"
    );
    assert!(
        on_disk(dir.path(), &ciphertext),
        "the ciphertext was never on disk"
    );

    let a = Key::new("A")?;
    let s = Key::new("S")?;
    store.purge(
        &admin,
        &app,
        None,
        plain_at.into(),
        &a,
        WriteOptions::default(),
    )?;
    store.purge(
        &admin,
        &app,
        None,
        secret_at.into(),
        &s,
        WriteOptions::default(),
    )?;
    assert!(
        !on_disk(dir.path(), PLAIN.as_bytes()),
        "a purged value is on disk"
    );
    assert!(
        !on_disk(dir.path(), &ciphertext),
        "a purged ciphertext is on disk"
    );

    // Everything else is still there, after reopening too.
    store.verify(&admin)?;
    drop((store, backend));
    let (store, _) = open(dir.path())?;
    assert_eq!(store.get(&admin, &app, None, &a)?.plain(), Some("now"));
    let env = EnvId::new("prod")?;
    store.create_env(&admin, &app, &env)?;
    let snapshot = store.snapshot(&admin, &app, &env, VersionSelector::Latest)?;
    let out = snapshot.resolver().resolve_str("${values.S}")?;
    assert_eq!(
        out.as_secret().map(Secret::expose_secret),
        Some("current-secret")
    );
    store.verify(&admin)?;
    Ok(())
}

#[test]
fn deleted_environments_and_apps_leave_the_disk() -> valueset::Result<()> {
    let dir = TempDir::new("erasure-delete");
    let admin = Actor::admin("alice");
    let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    let (store, backend) = open(dir.path())?;
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    set(&store, &app, "PW", secret("app-secret"), None);
    let env_at = set(&store, &app, "PW", secret("env-secret"), Some(&prod));
    set(&store, &app, "HOST", NewValue::plain(PLAIN), None);
    let app_sealed = sealed(&backend, "shop/_app/PW/1");
    let env_sealed = sealed(
        &backend,
        &format!("shop/prod/PW/{}", &env_at.to_string()[1..]),
    );
    store.flush()?;
    assert!(on_disk(dir.path(), &env_sealed) && on_disk(dir.path(), &app_sealed));

    store.delete_env(&admin, &app, &prod)?;
    assert!(
        !on_disk(dir.path(), &env_sealed),
        "a deleted Environment's secret is on disk"
    );
    assert!(
        on_disk(dir.path(), &app_sealed),
        "the App's secret went with the Environment"
    );
    store.delete_app(&admin, &app)?;
    assert!(
        !on_disk(dir.path(), &app_sealed),
        "a deleted App's secret is on disk"
    );
    assert!(
        !on_disk(dir.path(), PLAIN.as_bytes()),
        "a deleted App's value is on disk"
    );
    Ok(())
}

#[test]
fn compaction_leftovers_of_a_crash_are_removed_on_open() -> valueset::Result<()> {
    let dir = TempDir::new("erasure-leftovers");
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    {
        let (store, _) = open(dir.path())?;
        store.create_app(&admin, &app)?;
        set(&store, &app, "A", NewValue::plain(PLAIN), None);
        store.compact(&admin)?;
    }
    let current = std::fs::read_to_string(dir.path().join("CURRENT")).unwrap();
    assert_eq!(current.trim(), "data-2");
    // A compaction that a crash stopped before its switch (a partial
    // data-3), and one stopped after it (the old data-1 still there).
    for stale in ["data-1", "data-3"] {
        std::fs::create_dir_all(dir.path().join(stale)).unwrap();
        std::fs::write(dir.path().join(stale).join("db"), PLAIN).unwrap();
    }
    let (store, _) = open(dir.path())?;
    assert!(!dir.path().join("data-1").exists() && !dir.path().join("data-3").exists());
    let a = Key::new("A")?;
    assert_eq!(store.get(&admin, &app, None, &a)?.plain(), Some(PLAIN));
    store.verify(&admin)?;
    Ok(())
}

#[test]
fn compacting_needs_an_org_administrator() -> valueset::Result<()> {
    let store = Store::in_memory();
    let member = Actor::new("m", valueset::model::OrgRole::Member);
    assert_eq!(store.compact(&member).unwrap_err().code(), "forbidden");
    store.compact(&Actor::admin("alice"))?;
    Ok(())
}

#[cfg(unix)]
#[test]
fn only_the_owner_can_read_the_store() -> valueset::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("erasure-modes");
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    let (store, _) = open(dir.path())?;
    store.create_app(&admin, &app)?;
    set(&store, &app, "A", NewValue::plain("x"), None);
    store.flush()?;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.path()), 0o700);
    for path in below(dir.path()) {
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
        } else {
            let others = mode(&path) & 0o077;
            assert_eq!(others, 0, "{} is readable by others", path.display());
        }
    }
    Ok(())
}

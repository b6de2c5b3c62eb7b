//! docs/guide.md #dry-run: `apply`, `restore` and `purge` (and `set`,
//! `delete`) asked what they would do through `Store::dry_run`: the version
//! they would make, or the error they would give, and nothing written.

use std::ops::ControlFlow;
use std::sync::Arc;

use valueset::backend::{Backend, MemoryBackend};
use valueset::model::{NewValue, SnapshotValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, RestoreKeys, SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, MasterKey, Secret, Store, VersionId};

use crate::common::{key, ticking_clock};

const CANARY: &str = "CANARY-dry-run-31c9";

/// A store over a backend the test can read whole, with a master key so
/// secrets go into that backend too.
struct Fixture {
    backend: Arc<MemoryBackend>,
    store: Store,
    admin: Actor,
    app: AppId,
    prod: EnvId,
}

fn fixture() -> Fixture {
    let backend = Arc::new(MemoryBackend::new());
    let store = Store::builder()
        .master_key(MasterKey::from_bytes([7; 32]))
        .clock(ticking_clock())
        .open_with_backend(Arc::clone(&backend))
        .unwrap();
    let admin = Actor::admin("alice");
    let app = AppId::new("shop").unwrap();
    let prod = EnvId::new("prod").unwrap();
    store.create_app(&admin, &app).unwrap();
    store.create_env(&admin, &app, &prod).unwrap();
    Fixture {
        backend,
        store,
        admin,
        app,
        prod,
    }
}

impl Fixture {
    /// Every key and value in the backend.
    fn dump(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut all = Vec::new();
        self.backend
            .scan(&[], &[0xff; 8], false, &mut |k, v| {
                all.push((k.to_vec(), v.to_vec()));
                ControlFlow::Continue(())
            })
            .unwrap();
        all
    }

    fn set(&self, k: &str, v: NewValue) -> VersionId {
        self.store
            .set(
                &self.admin,
                &self.app,
                None,
                &key(k),
                v,
                SetOptions::default(),
            )
            .unwrap()
            .id
    }
}

#[test]
fn apply_shows_the_version_it_would_make_and_writes_nothing() -> valueset::Result<()> {
    let f = fixture();
    f.set("A", NewValue::plain("1"));
    let before = f.dump();
    let batch = ChangeSet::new()
        .set(key("A"), NewValue::plain("2"))
        .set(key("B"), NewValue::template("${values.A}"))
        .set(key("PW"), NewValue::secret(Secret::new(CANARY.into())));
    let options = DeleteOptions::default();
    let preview = f
        .store
        .dry_run()
        .apply(&f.admin, &f.app, None, batch, options)?;
    let preview = preview.version;
    assert_eq!(f.dump(), before, "a dry run wrote");
    let changed: Vec<(&str, Option<u32>)> = preview
        .change
        .iter()
        .map(|c| (c.key.as_str(), c.secret_version))
        .collect();
    assert_eq!(changed, [("A", None), ("B", None), ("PW", Some(1))]);
    assert_eq!(preview.id, "a2".parse().unwrap(), "the id it would take");
    // The real call then makes that version.
    let batch = ChangeSet::new().set(key("A"), NewValue::plain("2"));
    let real = f
        .store
        .apply(&f.admin, &f.app, None, batch, DeleteOptions::default())?;
    assert_eq!(real.id, preview.id);
    Ok(())
}

#[test]
fn a_dry_run_gives_the_error_the_real_call_would() {
    let f = fixture();
    f.set("A", NewValue::plain("1"));
    f.store
        .set(
            &f.admin,
            &f.app,
            Some(&f.prod),
            &key("A"),
            NewValue::plain("prod"),
            SetOptions::default(),
        )
        .unwrap();
    f.set("T", NewValue::template("${values.U}"));
    let before = f.dump();
    let cases: Vec<(ChangeSet, Option<&EnvId>, DeleteOptions, &str)> = vec![
        (
            ChangeSet::new().delete(key("A")),
            None,
            DeleteOptions::default(),
            "overridden_in_envs",
        ),
        (
            ChangeSet::new().set(key("U"), NewValue::template("${values.T}")),
            None,
            DeleteOptions::default(),
            "template_cycle",
        ),
        (
            ChangeSet::new().set(key("NEW"), NewValue::plain("x")),
            Some(&f.prod),
            DeleteOptions::default(),
            "no_base_value",
        ),
        (
            ChangeSet::new().set(key("A"), NewValue::plain("x")),
            None,
            DeleteOptions {
                expect: Some("a1".parse().unwrap()),
                ..DeleteOptions::default()
            },
            "conflict",
        ),
    ];
    for (batch, env, options, code) in cases {
        let dry = f.store.dry_run();
        let err = dry
            .apply(&f.admin, &f.app, env, batch, options)
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    let viewer = Actor::new("vic", valueset::model::OrgRole::Member);
    let err = f
        .store
        .dry_run()
        .set(
            &viewer,
            &f.app,
            None,
            &key("A"),
            NewValue::plain("x"),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert_eq!(f.dump(), before, "a dry run wrote");
}

#[test]
fn restore_shows_its_change_and_its_refusals() -> valueset::Result<()> {
    let f = fixture();
    let v1 = f.set("A", NewValue::plain("1"));
    f.set("PW", NewValue::secret(Secret::new(CANARY.into())));
    f.set("A", NewValue::plain("2"));
    let before = f.dump();
    let preview = f.store.dry_run().restore(
        &f.admin,
        &f.app,
        None,
        VersionSelector::Id(v1),
        RestoreKeys::All,
        WriteOptions::default(),
    )?;
    let preview = preview.version;
    assert_eq!(f.dump(), before, "a dry run wrote");
    let keys: Vec<&str> = preview.change.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["A", "PW"]);
    assert_eq!(preview.source_version, Some(v1));
    // A restore of a purged value is refused in a dry run as for real.
    f.store.purge(
        &f.admin,
        &f.app,
        None,
        v1.into(),
        &key("A"),
        WriteOptions::default(),
    )?;
    let before = f.dump();
    let err = f
        .store
        .dry_run()
        .restore(
            &f.admin,
            &f.app,
            None,
            VersionSelector::Id(v1),
            RestoreKeys::All,
            WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "restore_purged");
    assert_eq!(f.dump(), before);
    Ok(())
}

#[test]
fn purge_preview_names_the_versions_and_the_value() -> valueset::Result<()> {
    let f = fixture();
    let v1 = f.set("PW", NewValue::secret(Secret::new(CANARY.into())));
    let v2 = f.set("OTHER", NewValue::plain("x"));
    f.store.set(
        &f.admin,
        &f.app,
        None,
        &key("PW"),
        NewValue::secret(Secret::new(CANARY.into())),
        SetOptions {
            description: Some("described".into()),
            ..SetOptions::default()
        },
    )?;
    let v4 = f.set("PW", NewValue::secret(Secret::new("new".into())));
    let before = f.dump();
    let preview = f.store.dry_run().purge(
        &f.admin,
        &f.app,
        None,
        v1.into(),
        &key("PW"),
        WriteOptions::default(),
    )?;
    assert_eq!(f.dump(), before, "a preview wrote");
    assert_eq!(preview.versions, [v1, v2, "a3".parse().unwrap()]);
    assert!(preview.value.is_secret());
    assert_eq!(preview.version.source_version, Some(v1));
    assert_eq!(preview.version.id, "a5".parse().unwrap());
    let json = serde_json::to_string(&preview).unwrap();
    assert!(!json.contains(CANARY) && !format!("{preview:?}").contains(CANARY));
    // No tag names a version that holds it.
    assert!(preview.tags.is_empty());
    // The refusals are the real call's.
    let err = f
        .store
        .dry_run()
        .purge(
            &f.admin,
            &f.app,
            None,
            v4.into(),
            &key("PW"),
            WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "purge_current_value");
    let err = f
        .store
        .dry_run()
        .purge(
            &f.admin,
            &f.app,
            None,
            v2.into(),
            &key("PW"),
            WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "not_introduced_here");
    // The real purge then removes the value from exactly those versions.
    f.store.purge(
        &f.admin,
        &f.app,
        None,
        v1.into(),
        &key("PW"),
        WriteOptions::default(),
    )?;
    for id in &preview.versions {
        let version = f
            .store
            .version(&f.admin, &f.app, None, VersionSelector::Id(*id))?;
        assert!(matches!(
            version.values.get(&key("PW")),
            Some(SnapshotValue::Purged { .. })
        ));
    }
    Ok(())
}

#[test]
fn purge_preview_in_an_environment() -> valueset::Result<()> {
    let f = fixture();
    f.set("A", NewValue::plain("base"));
    let in_prod = Some(&f.prod);
    let e2 = f
        .store
        .set(
            &f.admin,
            &f.app,
            in_prod,
            &key("A"),
            NewValue::plain("p1"),
            SetOptions::default(),
        )?
        .id;
    let a3 = f.set("B", NewValue::plain("b"));
    f.store.set(
        &f.admin,
        &f.app,
        in_prod,
        &key("A"),
        NewValue::plain("p2"),
        SetOptions::default(),
    )?;
    let preview = f.store.dry_run().purge(
        &f.admin,
        &f.app,
        Some(&f.prod),
        e2.into(),
        &key("A"),
        WriteOptions::default(),
    )?;
    assert_eq!(preview.value.plain(), Some("p1"));
    // Its own version, and the App version bubbled into it meanwhile.
    let bubbled: VersionId = format!("e{}", &a3.to_string()[1..]).parse().unwrap();
    assert_eq!(preview.versions, [e2, bubbled]);
    assert_eq!(preview.version.id, "e5".parse().unwrap());
    Ok(())
}

#[test]
fn a_secret_that_could_not_be_stored_fails_the_dry_run_too() {
    let locked = Store::builder()
        .open_with_backend(MemoryBackend::new())
        .unwrap();
    let read_only = Store::builder()
        .secret_store(valueset::secret::MemorySecretStore::read_only("ro", []))
        .in_memory()
        .unwrap();
    let admin = Actor::admin("alice");
    let app = AppId::new("shop").unwrap();
    for store in [locked, read_only] {
        store.create_app(&admin, &app).unwrap();
        let set = |dry_run: bool| {
            let value = NewValue::secret(Secret::new(CANARY.into()));
            let (pw, options) = (key("PW"), SetOptions::default());
            let result = if dry_run {
                let dry = store.dry_run();
                dry.set(&admin, &app, None, &pw, value, options)
                    .map(|p| p.version)
            } else {
                store.set(&admin, &app, None, &pw, value, options)
            };
            result.unwrap_err().code()
        };
        assert_eq!(set(true), set(false));
        assert!(["missing_master_key", "secret_store_read_only"].contains(&set(true)));
    }
}

#[test]
fn a_secret_for_a_writable_store_passes_the_dry_run() -> valueset::Result<()> {
    let store = Store::in_memory();
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    store.create_app(&admin, &app)?;
    let preview = store.dry_run().set(
        &admin,
        &app,
        None,
        &key("PW"),
        NewValue::secret(Secret::new(CANARY.into())),
        SetOptions::default(),
    )?;
    assert_eq!(preview.version.change[0].secret_version, Some(1));
    assert!(store.list(&admin, &app, None)?.is_empty());
    Ok(())
}

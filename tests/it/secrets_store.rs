//! docs/guide.md #secrets: secrets in the store: never returned by reads, resolved only for
//! callers allowed to, references never written, lifecycle.

use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
use valueset::secret::{MemorySecretStore, SecretRef};
use valueset::store::{SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, Key, Secret, Store};

use crate::common::library_store;

const CANARY: &str = "CANARY-5be1d0a7";

struct Fixture {
    store: Store,
    admin: Actor,
    app: AppId,
    prod: EnvId,
}

fn fixture(vault: MemorySecretStore) -> Fixture {
    let store = Store::builder()
        .secret_store(library_store("library"))
        .reference_store(vault)
        .in_memory()
        .unwrap();
    let admin = Actor::admin("alice");
    let app = AppId::new("shop").unwrap();
    let prod = EnvId::new("prod").unwrap();
    store.create_app(&admin, &app).unwrap();
    store.create_env(&admin, &app, &prod).unwrap();
    Fixture {
        store,
        admin,
        app,
        prod,
    }
}

#[test]
fn the_store_names_its_secret_stores() {
    let f = fixture(MemorySecretStore::new("vault"));
    assert_eq!(f.store.managed_secret_store(), "library");
    assert_eq!(f.store.secret_store_ids(), ["library", "vault"]);
    let keyed = Store::builder()
        .master_key(valueset::MasterKey::generate())
        .reference_store(MemorySecretStore::new("vault"))
        .in_memory()
        .unwrap();
    assert_eq!(keyed.managed_secret_store(), "builtin");
    assert_eq!(keyed.secret_store_ids(), ["builtin", "vault"]);
    // Each says what it is, through an `Arc` too; never a credential.
    let shared = std::sync::Arc::new(MemorySecretStore::new("shared"));
    let described = Store::builder()
        .master_key(valueset::MasterKey::generate())
        .reference_store(shared)
        .in_memory()
        .unwrap();
    let kinds: Vec<(&str, String)> = described
        .secret_stores()
        .into_iter()
        .map(|(id, info)| (id, info.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("builtin", "builtin".to_owned()),
            ("shared", "memory".to_owned())
        ]
    );
    let (id, library) = f.store.secret_stores().remove(0);
    assert_eq!(id, "library");
    let expected = match std::env::var("VALUESET_TEST_SECRET_STORE").as_deref() {
        Ok("vault") => "vault",
        _ => "memory",
    };
    assert_eq!(library.kind, expected);
}

#[test]
fn no_read_returns_a_secret() -> valueset::Result<()> {
    let f = fixture(MemorySecretStore::new("vault"));
    let k = Key::new("PW")?;
    let v = f.store.set(
        &f.admin,
        &f.app,
        None,
        &k,
        NewValue::secret(Secret::new(CANARY.into())),
        SetOptions::default(),
    )?;
    let reads = [
        format!("{:?}", f.store.get(&f.admin, &f.app, None, &k)?),
        serde_json::to_string(&f.store.get(&f.admin, &f.app, None, &k)?).unwrap(),
        format!("{:?}", f.store.list(&f.admin, &f.app, Some(&f.prod))?),
        serde_json::to_string(&f.store.list(&f.admin, &f.app, None)?).unwrap(),
        format!(
            "{:?}",
            f.store
                .version(&f.admin, &f.app, None, VersionSelector::Latest)?
        ),
        serde_json::to_string(
            &f.store
                .version(&f.admin, &f.app, None, VersionSelector::Latest)?
                .values,
        )
        .unwrap(),
        serde_json::to_string(
            &f.store
                .history(&f.admin, &f.app, None, Default::default())?,
        )
        .unwrap(),
        format!("{v:?}"),
        format!("{:?}", f.store),
        format!(
            "{:?}",
            f.store
                .snapshot(&f.admin, &f.app, &f.prod, VersionSelector::Latest)?
        ),
    ];
    for r in &reads {
        assert!(!r.contains(CANARY), "leaked: {r}");
    }
    let view = f.store.get(&f.admin, &f.app, None, &k)?;
    let json: serde_json::Value = serde_json::to_value(&view).unwrap();
    assert_eq!(json["is_secret"], true);
    assert_eq!(json["secret_version"], 1);
    assert_eq!(json["secret_store_id"], "library");
    assert!(json.get("value").is_none());
    Ok(())
}

#[test]
fn a_snapshot_names_its_secrets_as_a_read_does() -> valueset::Result<()> {
    let vault =
        MemorySecretStore::read_only("vault", [("db/pw".to_owned(), Secret::new(CANARY.into()))]);
    let f = fixture(vault);
    let set = |key: &str, env: Option<&EnvId>, value: NewValue| {
        let key = Key::new(key).unwrap();
        f.store
            .set(&f.admin, &f.app, env, &key, value, SetOptions::default())
            .map(|_| ())
    };
    set("HOST", None, NewValue::plain("db"))?;
    set("PW", None, NewValue::secret(Secret::new(CANARY.into())))?;
    set("PW", None, NewValue::secret(Secret::new("again".into())))?;
    set(
        "REF",
        None,
        NewValue::secret_ref("vault", SecretRef::new("db/pw")),
    )?;
    set("TOKEN", None, NewValue::plain("none"))?;
    set(
        "TOKEN",
        Some(&f.prod),
        NewValue::secret(Secret::new("t".into())),
    )?;
    let snapshot = f
        .store
        .snapshot(&f.admin, &f.app, &f.prod, VersionSelector::Latest)?;
    let named: Vec<(String, valueset::model::SecretInfo)> = snapshot
        .secrets()
        .map(|(k, info)| (k.to_string(), info))
        .collect();
    // The oracle: the same version as a read shows it.
    let version = f
        .store
        .version(&f.admin, &f.app, Some(&f.prod), VersionSelector::Latest)?;
    let read: Vec<(String, valueset::model::SecretInfo)> = version
        .values
        .iter()
        .filter_map(|(k, v)| Some((k.to_string(), v.value()?.secret()?.clone())))
        .collect();
    assert_eq!(named, read);
    let summary: Vec<(&str, u32, bool)> = named
        .iter()
        .map(|(k, i)| (k.as_str(), i.secret_version, i.managed))
        .collect();
    assert_eq!(
        summary,
        [("PW", 2, true), ("REF", 1, false), ("TOKEN", 1, true)]
    );
    assert_eq!(named[1].1.secret_store_id, "vault");
    assert_eq!(named[1].1.secret_ref, SecretRef::new("db/pw"));
    Ok(())
}

#[test]
fn only_callers_who_may_deploy_resolve_secrets() -> valueset::Result<()> {
    let f = fixture(MemorySecretStore::new("vault"));
    f.store.set(
        &f.admin,
        &f.app,
        None,
        &Key::new("PW")?,
        NewValue::secret(Secret::new(CANARY.into())),
        SetOptions::default(),
    )?;
    f.store.set(
        &f.admin,
        &f.app,
        None,
        &Key::new("HOST")?,
        NewValue::plain("db"),
        SetOptions::default(),
    )?;
    let viewer = Actor::new("v", OrgRole::Member).with_app_role(f.app.clone(), AppRole::Viewer);
    let snapshot = f
        .store
        .snapshot(&viewer, &f.app, &f.prod, VersionSelector::Latest)?;
    assert_eq!(
        snapshot
            .resolver()
            .resolve_str("${values.HOST}")?
            .as_plain(),
        Some("db")
    );
    let e = snapshot.resolver().resolve_str("${values.PW}").unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert!(!e.to_string().contains(CANARY));
    let dev = Actor::new("d", OrgRole::Member).with_app_role(f.app.clone(), AppRole::Developer);
    let snapshot = f
        .store
        .snapshot(&dev, &f.app, &f.prod, VersionSelector::Latest)?;
    assert!(snapshot.resolver().resolve_str("${values.PW}")?.is_secret());
    Ok(())
}

#[test]
fn references_are_read_at_resolve_time_and_never_written() -> valueset::Result<()> {
    let vault =
        MemorySecretStore::read_only("vault", [("db/pw".to_owned(), Secret::new(CANARY.into()))]);
    let f = fixture(vault);
    let k = Key::new("PW")?;
    f.store.set(
        &f.admin,
        &f.app,
        None,
        &k,
        NewValue::secret_ref("vault", SecretRef::new("db/pw")),
        SetOptions::default(),
    )?;
    let view = f.store.get(&f.admin, &f.app, None, &k)?;
    let info = view.secret().unwrap();
    assert_eq!(
        (info.secret_store_id.as_str(), info.managed),
        ("vault", false)
    );
    let snapshot = f
        .store
        .snapshot(&f.admin, &f.app, &f.prod, VersionSelector::Latest)?;
    assert_eq!(
        snapshot
            .resolver()
            .resolve_str("${values.PW}")?
            .as_secret()
            .unwrap()
            .expose_secret(),
        CANARY
    );
    // Deleting the App never deletes the owner's secret (the store is
    // read-only, so a delete would fail).
    f.store.delete_app(&f.admin, &f.app)?;
    // An unknown store is refused.
    let f = fixture(MemorySecretStore::new("vault"));
    let e = f
        .store
        .set(
            &f.admin,
            &f.app,
            None,
            &k,
            NewValue::secret_ref("nope", SecretRef::new("x")),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "unknown_secret_store");
    Ok(())
}

#[test]
fn purge_and_deletion_remove_the_library_secrets() -> valueset::Result<()> {
    let library = library_store("library");
    let store = Store::builder()
        .secret_store(std::sync::Arc::clone(&library))
        .in_memory()
        .unwrap();
    // Whether each secret the library stored can still be read from the
    // store it went to, asked of that store directly.
    let live = |refs: &[&SecretRef]| -> Vec<bool> {
        refs.iter()
            .map(|r| match library.get(r) {
                Ok(_) => true,
                Err(e) if e.code() == "secret_not_found" => false,
                Err(e) => panic!("{e}"),
            })
            .collect()
    };
    let reference = |v: &valueset::model::ValueView| v.secret().unwrap().secret_ref.clone();
    let admin = Actor::admin("a");
    let app = AppId::new("shop")?;
    let env = EnvId::new("prod")?;
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &env)?;
    let k = Key::new("PW")?;
    let v1 = store.set(
        &admin,
        &app,
        None,
        &k,
        NewValue::secret(Secret::new("one".into())),
        SetOptions::default(),
    )?;
    let one = reference(&store.get(&admin, &app, None, &k)?);
    store.set(
        &admin,
        &app,
        None,
        &k,
        NewValue::secret(Secret::new("two".into())),
        SetOptions::default(),
    )?;
    let two = reference(&store.get(&admin, &app, None, &k)?);
    store.set(
        &admin,
        &app,
        Some(&env),
        &k,
        NewValue::secret(Secret::new("env".into())),
        SetOptions::default(),
    )?;
    let own = reference(&store.get(&admin, &app, Some(&env), &k)?);
    // A key's secrets are versions of one name; each level has its own.
    assert_eq!(one.reference, two.reference);
    assert_ne!(one.version, two.version);
    assert_ne!(one.reference, own.reference);
    assert_eq!(live(&[&one, &two, &own]), [true, true, true]);
    assert_eq!(
        library.get(&one).unwrap().expose_secret(),
        "one",
        "an older version stays readable"
    );
    store.purge(
        &admin,
        &app,
        None,
        v1.id.into(),
        &k,
        WriteOptions::default(),
    )?;
    assert_eq!(live(&[&one, &two, &own]), [false, true, true]);
    // Resolving a version whose secret was purged names the key.
    let snapshot = store.snapshot(
        &admin,
        &app,
        &env,
        valueset::model::VersionSelector::Id(v1.id),
    )?;
    let e = snapshot.resolver().resolve_str("${values.PW}").unwrap_err();
    assert_eq!(e.code(), "purged");
    assert!(e.to_string().contains("`PW`"));
    store.delete_env(&admin, &app, &env)?;
    assert_eq!(live(&[&one, &two, &own]), [false, true, false]);
    // The name goes whole, every version of it.
    assert_eq!(live(&[&SecretRef::new(own.reference.clone())]), [false]);
    let outcome = store.delete_app(&admin, &app)?;
    assert!(outcome.secrets_not_deleted.is_empty(), "{outcome:?}");
    assert_eq!(live(&[&one, &two, &own]), [false, false, false]);
    assert_eq!(live(&[&SecretRef::new(two.reference.clone())]), [false]);
    Ok(())
}

/// A redacted snapshot reads no secret: a reference to nothing resolves,
/// to an empty secret, for a viewer too; plain values stay as they are.
#[test]
fn redacted_snapshots_read_no_secret() -> valueset::Result<()> {
    use valueset::model::{AppRole, OrgRole};
    let f = fixture(MemorySecretStore::new("vault"));
    let set = |k: &str, v: NewValue| {
        f.store.set(
            &f.admin,
            &f.app,
            None,
            &Key::new(k).unwrap(),
            v,
            SetOptions::default(),
        )
    };
    set(
        "PW",
        NewValue::secret_ref("vault", SecretRef::new("missing/pw")),
    )?;
    set("KEPT", NewValue::secret(Secret::new(CANARY.into())))?;
    set("HOST", NewValue::plain("db"))?;
    let template = "${values.PW}:${values.KEPT}@${values.HOST}";
    let full = f
        .store
        .snapshot(&f.admin, &f.app, &f.prod, VersionSelector::Latest)?;
    assert_eq!(
        full.resolver().resolve_str(template).unwrap_err().code(),
        "secret_not_found"
    );
    let viewer = Actor::new("val", OrgRole::Member).with_app_role(f.app.clone(), AppRole::Viewer);
    for actor in [&f.admin, &viewer] {
        let redacted = f
            .store
            .snapshot(actor, &f.app, &f.prod, VersionSelector::Latest)?
            .redacted();
        let out = redacted.resolver().resolve_str(template)?;
        assert_eq!(out.as_secret().map(Secret::expose_secret), Some(":@db"));
        let plain = redacted.resolver().resolve_str("${values.HOST}")?;
        assert_eq!(plain.as_plain(), Some("db"));
    }
    Ok(())
}

/// A store that counts how it is read: one at a time, or many at once.
#[derive(Debug)]
struct Counting {
    inner: MemorySecretStore,
    singles: std::sync::atomic::AtomicUsize,
    batches: std::sync::Mutex<Vec<usize>>,
}

impl valueset::secret::SecretStore for Counting {
    fn id(&self) -> &str {
        self.inner.id()
    }
    fn get(&self, r: &SecretRef) -> Result<Secret, valueset::secret::SecretStoreError> {
        self.singles
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.get(r)
    }
    fn get_many(
        &self,
        refs: &[SecretRef],
    ) -> Vec<Result<Secret, valueset::secret::SecretStoreError>> {
        self.batches.lock().unwrap().push(refs.len());
        refs.iter().map(|r| self.inner.get(r)).collect()
    }
    fn is_writable(&self) -> bool {
        true
    }
    fn put(&self, n: &str, s: &Secret) -> Result<SecretRef, valueset::secret::SecretStoreError> {
        self.inner.put(n, s)
    }
    fn delete(&self, r: &SecretRef) -> Result<(), valueset::secret::SecretStoreError> {
        self.inner.delete(r)
    }
}

/// A workload's secrets are read before it renders, each store asked once
/// for all it holds (the ones template values name too), not one by one.
#[test]
fn a_workload_reads_its_secrets_at_once() -> valueset::Result<()> {
    let library = std::sync::Arc::new(Counting {
        inner: MemorySecretStore::new("library"),
        singles: std::sync::atomic::AtomicUsize::new(0),
        batches: std::sync::Mutex::new(Vec::new()),
    });
    let owned =
        MemorySecretStore::read_only("vault", [("db/pw".to_owned(), Secret::new("owned".into()))]);
    let store = Store::builder()
        .secret_store(std::sync::Arc::clone(&library))
        .reference_store(owned)
        .in_memory()?;
    let admin = Actor::admin("a");
    let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let set = |k: &str, v: NewValue| {
        store.set(
            &admin,
            &app,
            None,
            &Key::new(k).unwrap(),
            v,
            SetOptions::default(),
        )
    };
    for k in ["A", "B", "C", "UNUSED"] {
        set(k, NewValue::secret(Secret::new(format!("{k}-{CANARY}"))))?;
    }
    set("T", NewValue::template("${values.C}+${values.HOST}"))?;
    set("HOST", NewValue::plain("db"))?;
    set(
        "OWNED",
        NewValue::secret_ref("vault", SecretRef::new("db/pw")),
    )?;
    let mut workload = valueset::resolve::Workload {
        id: "api".into(),
        ..Default::default()
    };
    for (name, text) in [
        ("X", "${values.A}"),
        ("Y", "${values.B}/${values.A}"),
        ("Z", "${values.T}"),
        ("W", "${values.OWNED}"),
    ] {
        workload.variables.insert(name.into(), text.into());
    }
    let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    let out = snapshot.resolver().resolve_workload(&workload).unwrap();
    let shown = |name: &str| {
        out.variables[name]
            .as_secret()
            .unwrap()
            .expose_secret()
            .to_owned()
    };
    assert_eq!(shown("Y"), format!("B-{CANARY}/A-{CANARY}"));
    assert_eq!(shown("Z"), format!("C-{CANARY}+db"));
    assert_eq!(shown("W"), "owned");
    assert_eq!(
        *library.batches.lock().unwrap(),
        [3],
        "A, B and C in one read"
    );
    assert_eq!(library.singles.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Without a workload, each placeholder reads its secret when it is
    // resolved: once.
    let out = snapshot.resolver().resolve_str("${values.B}")?;
    assert_eq!(
        out.as_secret().unwrap().expose_secret(),
        format!("B-{CANARY}")
    );
    let fresh = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    fresh.resolver().resolve_str("${values.A}")?;
    assert_eq!(library.singles.load(std::sync::atomic::Ordering::SeqCst), 1);
    // A redacted snapshot reads none.
    let redacted = store
        .snapshot(&admin, &app, &prod, VersionSelector::Latest)?
        .redacted();
    redacted.resolver().resolve_workload(&workload).unwrap();
    assert_eq!(library.batches.lock().unwrap().len(), 1);
    // A secret that cannot be read fails the item that needs it, by name.
    let missing = NewValue::secret_ref("vault", SecretRef::new("db/nonesuch"));
    set("OWNED", missing)?;
    let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    let errors = snapshot.resolver().resolve_workload(&workload).unwrap_err();
    assert!(
        errors.to_string().contains("`variables.W`") && errors.to_string().contains("db/nonesuch"),
        "{errors}"
    );
    Ok(())
}

/// The built-in store reads a workload's secrets in one read of the
/// backend (one query on PostgreSQL), not one per secret.
#[test]
fn the_built_in_store_reads_a_workload_s_secrets_in_one_read() -> valueset::Result<()> {
    let backend = std::sync::Arc::new(crate::common::Spy::default());
    let store = Store::builder()
        .master_key(valueset::MasterKey::from_bytes([3; 32]))
        .open_with_backend(std::sync::Arc::clone(&backend))?;
    let admin = Actor::admin("a");
    let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let mut workload = valueset::resolve::Workload {
        id: "api".into(),
        ..Default::default()
    };
    for i in 0..5 {
        let value = NewValue::secret(Secret::new(format!("{CANARY}-{i}")));
        store.set(
            &admin,
            &app,
            None,
            &Key::new(format!("S{i}"))?,
            value,
            SetOptions::default(),
        )?;
        workload
            .variables
            .insert(format!("V{i}"), format!("${{values.S{i}}}"));
    }
    let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    let (lists, gets) = (backend.get_lists(), backend.gets());
    let out = snapshot.resolver().resolve_workload(&workload).unwrap();
    for i in 0..5 {
        let shown = out.variables[&format!("V{i}")]
            .as_secret()
            .unwrap()
            .expose_secret()
            .to_owned();
        assert_eq!(shown, format!("{CANARY}-{i}"));
    }
    assert_eq!(backend.get_lists() - lists, 1, "one read for the five");
    assert_eq!(
        backend.gets() - gets,
        5,
        "the list's own reads, and no other"
    );
    // A store opened without the key reads none, and says so for each.
    let locked = Store::builder().open_with_backend(std::sync::Arc::clone(&backend))?;
    let snapshot = locked.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    let errors = snapshot.resolver().resolve_workload(&workload).unwrap_err();
    assert_eq!(errors.iter().count(), 5);
    assert_eq!(errors.code(), "missing_master_key");
    Ok(())
}

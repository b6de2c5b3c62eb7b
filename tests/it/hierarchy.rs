//! docs/guide.md #the-hierarchy: App base values, Environment overrides, workload values, cascade.

use std::collections::BTreeMap;

use valueset::backend::Backend;
use valueset::model::{NewValue, Source, VersionSelector};
use valueset::resolve::Workload;
use valueset::store::{DeleteOptions, SetOptions};
use valueset::{EnvId, Error, Key, Store};

use crate::common::{World, key};

#[test]
fn effective_value_is_workload_then_env_then_app() -> valueset::Result<()> {
    let w = World::new();
    w.set("HOST", "app-host");
    w.set("PORT", "5432");
    w.set_env(&w.prod, "HOST", "prod-host");
    assert_eq!(w.get(Some(&w.prod), "HOST").as_deref(), Some("prod-host"));
    assert_eq!(w.get(Some(&w.dev), "HOST").as_deref(), Some("app-host"));
    assert_eq!(w.get(None, "HOST").as_deref(), Some("app-host"));
    let view = w.store.get(&w.admin, &w.app, Some(&w.prod), &key("HOST"))?;
    assert_eq!(view.source, Source::Env);
    let view = w.store.get(&w.admin, &w.app, Some(&w.prod), &key("PORT"))?;
    assert_eq!(view.source, Source::App);

    let list = w.store.list(&w.admin, &w.app, Some(&w.prod))?;
    let shown: Vec<_> = list
        .iter()
        .map(|v| (v.key.as_str(), v.plain().unwrap(), v.source))
        .collect();
    assert_eq!(
        shown,
        [
            ("HOST", "prod-host", Source::Env),
            ("PORT", "5432", Source::App)
        ]
    );

    // Workload values override both, at resolve time.
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.app, &w.prod, VersionSelector::Latest)?;
    let workload = Workload {
        id: "api".into(),
        values: BTreeMap::from([("PORT".into(), "6543".into())]),
        variables: BTreeMap::from([("URL".into(), "${values.HOST}:${values.PORT}".into())]),
        ..Workload::default()
    };
    let resolved = snapshot.resolver().resolve_workload(&workload)?;
    assert_eq!(resolved.variables["URL"].as_plain(), Some("prod-host:6543"));
    Ok(())
}

#[test]
fn an_override_needs_a_base_value() {
    let w = World::new();
    let e = w
        .store
        .set(
            &w.admin,
            &w.app,
            Some(&w.prod),
            &key("ONLY_ENV"),
            NewValue::plain("x"),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "no_base_value");
    assert!(e.to_string().contains("`ONLY_ENV`"), "{e}");
    // Nothing was written: the environment did not diverge.
    let history = w
        .store
        .history(&w.admin, &w.app, None, Default::default())
        .unwrap();
    assert!(history.is_empty());
}

#[test]
fn deleting_an_overridden_base_value_names_the_envs_or_cascades() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "base");
    w.set("B", "keep");
    w.set_env(&w.prod, "A", "p");
    w.set_env(&w.dev, "A", "d");
    let e = w.delete("A").unwrap_err();
    let Error::OverriddenInEnvs { envs, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        envs.iter().map(EnvId::as_str).collect::<Vec<_>>(),
        ["dev", "prod"]
    );
    assert_eq!(e.code(), "overridden_in_envs");
    assert!(e.to_string().contains("`dev`, `prod`"), "{e}");
    assert_eq!(w.get(None, "A").as_deref(), Some("base"));

    let v = w.store.delete(
        &w.admin,
        &w.app,
        None,
        &key("A"),
        DeleteOptions {
            cascade: true,
            ..DeleteOptions::default()
        },
    )?;
    assert_eq!(v.change.len(), 1);
    assert_eq!(w.get(None, "A"), None);
    assert_eq!(w.get(Some(&w.prod), "A"), None);
    assert_eq!(w.get(Some(&w.dev), "A"), None);
    // One change: the environments see it as one bubbled version that
    // removed their override.
    let prod = w.store.history(
        &w.admin,
        &w.app,
        Some(&w.prod),
        valueset::store::HistoryOptions::default(),
    )?;
    assert_eq!(prod[0].app_version, Some(v.id));
    assert_eq!(prod[0].change.len(), 1);
    assert_eq!(prod[0].change[0].key, key("A"));
    // A new base value can be overridden again.
    w.set("A", "again");
    w.set_env(&w.prod, "A", "p2");
    assert_eq!(w.get(Some(&w.prod), "A").as_deref(), Some("p2"));
    Ok(())
}

#[test]
fn deleting_apps_and_envs() -> valueset::Result<()> {
    // A backend the test keeps a handle to, to see that nothing is left.
    let backend = std::sync::Arc::new(valueset::backend::MemoryBackend::new());
    let w = World::with_store(Store::builder().open_with_backend(std::sync::Arc::clone(&backend))?);
    w.set("A", "1");
    w.set_env(&w.prod, "A", "2");
    w.store.delete_env(&w.admin, &w.app, &w.prod)?;
    assert_eq!(
        w.store.envs(&w.admin, &w.app)?,
        std::slice::from_ref(&w.dev)
    );
    // The App value is no longer overridden: deleting it needs no cascade.
    w.delete("A")?;
    w.store.delete_app(&w.admin, &w.app)?;
    assert!(w.store.apps(&w.admin)?.is_empty());
    assert_eq!(
        w.store
            .get(&w.admin, &w.app, None, &key("A"))
            .unwrap_err()
            .code(),
        "unknown_app"
    );
    // Nothing is left in the backend.
    let mut left = 0;
    backend.scan(&[0], &[255], false, &mut |_, _| {
        left += 1;
        std::ops::ControlFlow::Continue(())
    })?;
    assert_eq!(left, 0);
    Ok(())
}

#[test]
fn ids_keys_and_sizes_are_checked() {
    let w = World::new();
    assert_eq!(
        w.store.create_app(&w.admin, &w.app).unwrap_err().code(),
        "already_exists"
    );
    assert_eq!(
        w.store
            .create_env(&w.admin, &w.app, &w.prod)
            .unwrap_err()
            .code(),
        "already_exists"
    );
    let small = valueset::Store::builder()
        .max_value_len(4)
        .in_memory()
        .unwrap();
    small.create_app(&w.admin, &w.app).unwrap();
    let e = small
        .set(
            &w.admin,
            &w.app,
            None,
            &Key::new("K").unwrap(),
            NewValue::plain("12345"),
            SetOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "value_too_long");
    assert_eq!(
        e.to_string(),
        "value of `K` is 5 bytes, more than the limit of 4"
    );
    // At the limit is fine.
    small
        .set(
            &w.admin,
            &w.app,
            None,
            &Key::new("K").unwrap(),
            NewValue::plain("1234"),
            SetOptions::default(),
        )
        .unwrap();
    let other = valueset::EnvId::new("nope").unwrap();
    assert_eq!(
        w.store
            .get(&w.admin, &w.app, Some(&other), &key("K"))
            .unwrap_err()
            .code(),
        "unknown_env"
    );
    assert_eq!(w.delete("MISSING").unwrap_err().code(), "unknown_key");
}

#[test]
fn an_unknown_key_names_its_environment() {
    let w = World::new();
    w.set("A", "1");
    let e = w
        .store
        .get(&w.admin, &w.app, Some(&w.prod), &key("NOPE"))
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown key `NOPE` in environment `prod`");
    let e = w
        .store
        .get(&w.admin, &w.app, None, &key("NOPE"))
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown key `NOPE`");
}

#[test]
fn a_deleted_override_falls_back_to_the_app_value() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "app");
    w.set_env(&w.prod, "A", "prod");
    let in_prod = Some(&w.prod);
    let options = DeleteOptions::default();
    w.store
        .delete(&w.admin, &w.app, in_prod, &key("A"), options)?;
    let read = w.store.get(&w.admin, &w.app, Some(&w.prod), &key("A"))?;
    assert_eq!((read.plain(), read.source), (Some("app"), Source::App));
    Ok(())
}

// One story: names given, read, changed, refused.
#[allow(clippy::too_many_lines)]
#[test]
fn apps_and_envs_keep_names_types_and_creators() -> valueset::Result<()> {
    use valueset::model::{AppRole, DEFAULT_ENV_TYPE, MAX_NAME_LEN, OrgRole};
    use valueset::store::{AppOptions, EnvOptions};
    use valueset::{Actor, AppId};

    let store = Store::in_memory();
    let alice = Actor::admin("alice");
    let (shop, prod, dev) = (AppId::new("shop")?, EnvId::new("prod")?, EnvId::new("dev")?);
    let named = AppOptions {
        name: Some("The Shop".into()),
    };
    store.create_app_with(&alice, &shop, named)?;
    let info = store.app(&alice, &shop)?;
    assert_eq!((info.id.as_str(), info.name.as_str()), ("shop", "The Shop"));
    assert_eq!(info.created_by, "alice");
    // Without a name, the id; without a type, the default.
    store.create_env(&alice, &shop, &dev)?;
    let options = EnvOptions {
        name: Some("Production".into()),
        env_type: Some("production".into()),
    };
    store.create_env_with(&alice, &shop, &prod, options)?;
    let envs = store.envs_info(&alice, &shop)?;
    let summary: Vec<_> = envs
        .iter()
        .map(|e| (e.id.as_str(), e.name.as_str(), e.env_type.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("dev", "dev", DEFAULT_ENV_TYPE),
            ("prod", "Production", "production")
        ]
    );
    assert_eq!(store.env(&alice, &shop, &prod)?, envs[1]);

    // A rename keeps the rest, and the history goes on from where it was.
    let v1 = store.set(
        &alice,
        &shop,
        None,
        &key("A"),
        NewValue::plain("1"),
        SetOptions::default(),
    )?;
    let renamed = store.update_app(
        &alice,
        &shop,
        AppOptions {
            name: Some("Shop".into()),
        },
    )?;
    assert_eq!(
        (renamed.name.as_str(), renamed.created_at),
        ("Shop", info.created_at)
    );
    assert_eq!(store.app(&alice, &shop)?, renamed);
    let keep = store.update_app(&alice, &shop, AppOptions::default())?;
    assert_eq!(keep.name, "Shop");
    let v2 = store.set(
        &alice,
        &shop,
        Some(&prod),
        &key("A"),
        NewValue::plain("2"),
        SetOptions::default(),
    )?;
    let retyped = EnvOptions {
        name: None,
        env_type: Some("staging".into()),
    };
    let env = store.update_env(&alice, &shop, &prod, retyped)?;
    assert_eq!(
        (env.name.as_str(), env.env_type.as_str()),
        ("Production", "staging")
    );
    let v3 = store.set(
        &alice,
        &shop,
        None,
        &key("B"),
        NewValue::plain("3"),
        SetOptions::default(),
    )?;
    assert_eq!(
        (v1.id.to_string(), v2.id.to_string(), v3.id.to_string()),
        ("a1".into(), "e2".into(), "a3".into())
    );
    assert_eq!(store.verify(&alice)?.versions, 3);

    // Too long a name or type is refused, and nothing changes.
    let long = "n".repeat(MAX_NAME_LEN + 1);
    let e = store.update_app(
        &alice,
        &shop,
        AppOptions {
            name: Some(long.clone()),
        },
    );
    assert_eq!(e.unwrap_err().code(), "too_long");
    let e = store.create_env_with(
        &alice,
        &shop,
        &EnvId::new("qa")?,
        EnvOptions {
            name: None,
            env_type: Some(long),
        },
    );
    assert_eq!(e.unwrap_err().code(), "too_long");
    assert_eq!(store.envs(&alice, &shop)?.len(), 2);
    assert_eq!(store.app(&alice, &shop)?.name, "Shop");

    // Reading needs a role on the App; renaming needs an org role.
    let viewer = Actor::new("val", OrgRole::Member).with_app_role(shop.clone(), AppRole::Viewer);
    assert_eq!(store.app(&viewer, &shop)?.name, "Shop");
    let e = store
        .update_app(&viewer, &shop, AppOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let e = store
        .update_env(&viewer, &shop, &prod, EnvOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "forbidden");
    let stranger = Actor::new("sam", OrgRole::Member);
    assert_eq!(
        store.env(&stranger, &shop, &prod).unwrap_err().code(),
        "forbidden"
    );
    assert_eq!(
        store
            .env(&alice, &shop, &EnvId::new("qa")?)
            .unwrap_err()
            .code(),
        "unknown_env"
    );
    let e = store.update_env(&alice, &shop, &EnvId::new("qa")?, EnvOptions::default());
    assert_eq!(e.unwrap_err().code(), "unknown_env");
    let e = store.update_app(&alice, &AppId::new("nope")?, AppOptions::default());
    assert_eq!(e.unwrap_err().code(), "unknown_app");
    Ok(())
}

/// How a workload resolved, comparably: each item's text (a secret's
/// content shown), or the whole error's message.
fn outcome(snapshot: &valueset::store::Snapshot, workload: &Workload) -> String {
    match snapshot.resolver().resolve_workload(workload) {
        Ok(out) => {
            let show = |r: &valueset::Resolved<'_>| {
                r.as_plain().map_or_else(
                    || format!("secret:{}", r.as_secret().unwrap().expose_secret()),
                    str::to_owned,
                )
            };
            let vars: Vec<String> = out
                .variables
                .iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect();
            let files: Vec<String> = out
                .files
                .iter()
                .map(|(k, f)| format!("{k}={}", show(&f.content)))
                .collect();
            format!("{vars:?} {files:?} {:?}", out.labels)
        }
        Err(e) => format!("error: {e}"),
    }
}

/// A snapshot for a workload reads only the values its templates reach
/// (through template values too, a chain of them), and resolves it as the
/// whole snapshot does, errors included: at the latest version, and at an
/// older one where keys changed since; with overrides on top of the App.
#[test]
fn a_workload_snapshot_reads_what_it_reaches_and_resolves_the_same() -> valueset::Result<()> {
    let w = World::new();
    let set = |env: Option<&EnvId>, k: &str, v: NewValue| {
        w.store
            .set(&w.admin, &w.app, env, &key(k), v, SetOptions::default())
            .map(|v| v.id)
    };
    set(None, "HOST", NewValue::plain("app-host"))?;
    set(None, "PORT", NewValue::plain("5432"))?;
    set(None, "DB", NewValue::plain("shop"))?;
    set(
        None,
        "URL",
        NewValue::template("pg://${values.HOST}:${values.PORT}/${values.DB}"),
    )?;
    set(None, "UNUSED", NewValue::plain("never read"))?;
    set(None, "CHAIN_C", NewValue::plain("c"))?;
    set(
        None,
        "CHAIN_B",
        NewValue::template("b${values.CHAIN_C}${values.HOST}"),
    )?;
    set(None, "CHAIN_A", NewValue::template("a${values.CHAIN_B}"))?;
    set(None, "GONE", NewValue::plain("soon deleted"))?;
    let secret = valueset::Secret::new("s3cr3t-canary".into());
    set(None, "PW", NewValue::secret(secret))?;
    let old_dev = set(None, "GONE", NewValue::plain("still here"))?;
    let old_prod = set(Some(&w.prod), "HOST", NewValue::plain("prod-host"))?;
    set(None, "PORT", NewValue::plain("6543"))?;
    set(Some(&w.prod), "DB", NewValue::plain("prod-db"))?;
    w.delete("GONE")?;

    let mut good = Workload {
        id: "api".into(),
        ..Workload::default()
    };
    good.variables
        .insert("DATABASE_URL".into(), "${values.URL}".into());
    good.variables
        .insert("PASSWORD".into(), "${values.PW}".into());
    good.files.insert(
        "/etc/app.conf".into(),
        valueset::resolve::FileTemplate {
            value: "host=${values.HOST}".into(),
            mode: None,
        },
    );
    good.labels.insert("db".into(), "${values.DB}".into());
    good.variables
        .insert("CHAIN".into(), "${values.CHAIN_A}".into());
    let mut bad = good.clone();
    bad.variables.insert("OLD".into(), "${values.GONE}".into());
    bad.variables.insert("BROKEN".into(), "${values.}".into());
    bad.variables
        .insert("NONE".into(), "${values.MISSING}".into());

    for (env, version) in [
        (&w.prod, VersionSelector::Latest),
        (&w.prod, VersionSelector::Id(old_prod)),
        (&w.dev, VersionSelector::Latest),
        (&w.dev, VersionSelector::Id(old_dev)),
    ] {
        for workload in [&good, &bad] {
            let whole = w.store.snapshot(&w.admin, &w.app, env, version.clone())?;
            let reached = w
                .store
                .snapshot_for(&w.admin, &w.app, env, version.clone(), workload)?;
            assert_eq!(whole.version(), reached.version());
            assert_eq!(
                outcome(&reached, workload),
                outcome(&whole, workload),
                "{env} at {version:?}"
            );
            let shown = format!("{reached:?}");
            assert!(!shown.contains("UNUSED"), "{shown}");
            assert!(shown.contains("CHAIN_C") && shown.contains("PW"), "{shown}");
            assert_eq!(reached.secrets().count(), 1);
        }
    }
    // What the good workload resolved to at the latest version in prod:
    let reached =
        w.store
            .snapshot_for(&w.admin, &w.app, &w.prod, VersionSelector::Latest, &good)?;
    assert_eq!(
        outcome(&reached, &good),
        r#"["CHAIN=abcprod-host", "DATABASE_URL=pg://prod-host:6543/prod-db", "PASSWORD=secret:s3cr3t-canary"] ["/etc/app.conf=host=prod-host"] {"db": "prod-db"}"#
    );
    Ok(())
}

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

//! docs/guide.md #restore: restore the whole set or a subset, at App and Environment
//! level; secrets restored unseen; purged values refused.

use valueset::model::{NewValue, ResultOf, VersionSelector};
use valueset::store::{DeleteOptions, RestoreKeys, SetOptions, WriteOptions};
use valueset::{EnvId, Secret, VersionId};

use crate::common::{World, at, id, key, pairs};

/// Restores version `v` of the App (`env` `None`) or of an Environment.
fn restore(
    w: &World,
    env: Option<&EnvId>,
    v: &str,
    keys: RestoreKeys,
) -> valueset::Result<valueset::model::VersionInfo> {
    let options = WriteOptions::default();
    w.store.restore(&w.admin, &w.app, env, at(v), keys, options)
}

#[test]
fn restoring_all_keys_makes_the_values_exactly_those_of_the_version() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    w.set("B", "2");
    w.set("A", "10");
    w.set("C", "3");
    let r = restore(&w, None, "a2", RestoreKeys::All)?;
    assert_eq!(r.result_of, ResultOf::AppValueSetVersionRestore);
    assert_eq!(r.source_version, Some(id("a2")));
    assert_eq!(r.id, id("a5"));
    assert_eq!(
        w.values_at(None, VersionSelector::Latest),
        pairs(&[("A", "1"), ("B", "2")])
    );
    // History is never rewritten.
    assert_eq!(
        w.values_at(None, at("a4")),
        pairs(&[("A", "10"), ("B", "2"), ("C", "3")])
    );
    Ok(())
}

#[test]
fn restoring_a_subset_touches_only_those_keys() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    w.set("A", "10");
    w.set("B", "2");
    restore(&w, None, "a1", RestoreKeys::Only(vec![key("A"), key("B")]))?;
    // B did not exist at a1: it is deleted.
    assert_eq!(
        w.values_at(None, VersionSelector::Latest),
        pairs(&[("A", "1")])
    );
    Ok(())
}

#[test]
fn env_restore_acts_on_overrides_only() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    w.set("B", "2");
    w.set_env(&w.prod, "A", "pa"); // e3
    w.set_env(&w.prod, "B", "pb"); // e4
    w.set_env(&w.prod, "A", "pa2"); // e5
    w.set("B", "20"); // a6, bubbles as e6
    let r = restore(&w, Some(&w.prod), "e3", RestoreKeys::All)?;
    assert_eq!(r.result_of, ResultOf::EnvValueSetVersionRestore);
    // A gets its e3 override back; B was not overridden at e3, so it loses
    // its override and shows the current App value.
    assert_eq!(
        w.values_at(Some(&w.prod), VersionSelector::Latest),
        pairs(&[("A", "pa"), ("B", "20")])
    );
    // App values are not touched.
    assert_eq!(
        w.values_at(None, VersionSelector::Latest),
        pairs(&[("A", "1"), ("B", "20")])
    );
    // Restoring prod to before it diverged removes every override.
    restore(&w, Some(&w.prod), "a2", RestoreKeys::All)?;
    assert_eq!(
        w.values_at(Some(&w.prod), VersionSelector::Latest),
        pairs(&[("A", "1"), ("B", "20")])
    );
    Ok(())
}

#[test]
fn env_restore_refuses_an_override_without_base() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    w.set("B", "2");
    w.set_env(&w.prod, "A", "pa"); // e3
    w.store.delete(
        &w.admin,
        &w.app,
        None,
        &key("A"),
        DeleteOptions {
            cascade: true,
            ..Default::default()
        },
    )?;
    let e = restore(&w, Some(&w.prod), "e3", RestoreKeys::All).unwrap_err();
    assert_eq!(e.code(), "no_base_value");
    assert!(e.to_string().contains("`A`"));
    // A subset without A works.
    restore(&w, Some(&w.prod), "e3", RestoreKeys::Only(vec![key("B")]))?;
    Ok(())
}

#[test]
fn app_restore_refuses_to_delete_an_overridden_value() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    w.set("B", "2");
    w.set_env(&w.prod, "B", "pb");
    let e = restore(&w, None, "a1", RestoreKeys::All).unwrap_err();
    assert_eq!(e.code(), "overridden_in_envs");
    Ok(())
}

#[test]
fn secrets_are_restored_unseen_with_a_new_secret_version() -> valueset::Result<()> {
    let w = World::new();
    let secret = |v: &str| NewValue::secret(Secret::new(v.into()));
    w.store.set(
        &w.admin,
        &w.app,
        None,
        &key("PW"),
        secret("old"),
        SetOptions::default(),
    )?; // a1
    w.store.set(
        &w.admin,
        &w.app,
        None,
        &key("PW"),
        secret("new"),
        SetOptions::default(),
    )?; // a2
    let r = restore(&w, None, "a1", RestoreKeys::All)?;
    assert_eq!(r.change[0].secret_version, Some(3));
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.app, &w.prod, VersionSelector::Latest)?;
    let out = snapshot.resolver().resolve_str("${values.PW}")?;
    assert_eq!(out.as_secret().unwrap().expose_secret(), "old");
    // Restoring the same value again changes nothing.
    let again = restore(&w, None, "a1", RestoreKeys::All)?;
    assert!(again.change.is_empty());
    // The restored secret is a copy: purging the original keeps it.
    w.store.purge(
        &w.admin,
        &w.app,
        None,
        id("a1").into(),
        &key("PW"),
        WriteOptions::default(),
    )?;
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.app, &w.prod, VersionSelector::Latest)?;
    assert_eq!(
        snapshot
            .resolver()
            .resolve_str("${values.PW}")?
            .as_secret()
            .unwrap()
            .expose_secret(),
        "old"
    );
    Ok(())
}

#[test]
fn restoring_a_purged_value_is_refused_naming_the_key() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "x"); // a1
    w.set("B", "1"); // a2
    w.set("A", "y"); // a3
    w.store.purge(
        &w.admin,
        &w.app,
        None,
        id("a1").into(),
        &key("A"),
        WriteOptions::default(),
    )?;
    let e = restore(&w, None, "a2", RestoreKeys::All).unwrap_err();
    assert_eq!(e.code(), "restore_purged");
    assert!(
        e.to_string().contains("`A`") && e.to_string().contains("`a2`"),
        "{e}"
    );
    restore(&w, None, "a2", RestoreKeys::Only(vec![key("B")]))?;
    let _: VersionId = w.set("C", "z");
    Ok(())
}

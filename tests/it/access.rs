//! docs/guide.md #who-may-do-what: who may do what; a refused action changes nothing.

use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
use valueset::store::{DeleteOptions, SetOptions, WriteOptions};
use valueset::{Actor, EnvId};

use crate::common::{World, id, key};

#[test]
fn roles_allow_what_the_table_says() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "x");
    w.set("A", "y");
    let member = |role| Actor::new("m", OrgRole::Member).with_app_role(w.app.clone(), role);
    let viewer = member(AppRole::Viewer);
    let dev = member(AppRole::Developer);
    let owner = member(AppRole::Owner);
    let stranger = Actor::new("s", OrgRole::Member);
    let manager = Actor::new("mgr", OrgRole::Manager);

    // Read: every role on the App; not a stranger.
    assert!(w.store.get(&viewer, &w.app, None, &key("A")).is_ok());
    let e = w.store.get(&stranger, &w.app, None, &key("A")).unwrap_err();
    assert_eq!(e.code(), "forbidden");
    assert_eq!(
        e.to_string(),
        "forbidden: reading values needs a role on the app (Viewer, Developer or Owner) or org Administrator"
    );
    assert!(w.store.apps(&stranger)?.is_empty());
    assert_eq!(w.store.apps(&viewer)?, std::slice::from_ref(&w.app));

    // Write: Developer and Owner.
    let set = |a: &Actor| {
        w.store.set(
            a,
            &w.app,
            None,
            &key("B"),
            NewValue::plain("1"),
            SetOptions::default(),
        )
    };
    assert_eq!(set(&viewer).unwrap_err().code(), "forbidden");
    set(&dev)?;
    set(&owner)?;
    let restore = |a: &Actor| {
        w.store.restore(
            a,
            &w.app,
            None,
            VersionSelector::Id(id("a1")),
            Default::default(),
            WriteOptions::default(),
        )
    };
    assert_eq!(restore(&viewer).unwrap_err().code(), "forbidden");

    // Purge: Owner only.
    let before = w
        .store
        .history(&w.admin, &w.app, None, Default::default())?
        .len();
    let purge = |a: &Actor| {
        w.store.purge(
            a,
            &w.app,
            None,
            id("a1").into(),
            &key("A"),
            WriteOptions::default(),
        )
    };
    let e = purge(&dev).unwrap_err();
    assert_eq!(
        e.to_string(),
        "forbidden: purging needs app Owner or org Administrator"
    );
    assert_eq!(
        w.store
            .history(&w.admin, &w.app, None, Default::default())?
            .len(),
        before
    );
    purge(&owner)?;

    // Apps and Environments: Administrator, or Manager for creating.
    let qa = EnvId::new("qa")?;
    assert_eq!(
        w.store.create_env(&owner, &w.app, &qa).unwrap_err().code(),
        "forbidden"
    );
    w.store.create_env(&manager, &w.app, &qa)?;
    assert_eq!(
        w.store
            .delete_env(&manager, &w.app, &qa)
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        w.store.delete_app(&owner, &w.app).unwrap_err().code(),
        "forbidden"
    );
    w.store.delete_env(&w.admin, &w.app, &qa)?;
    let del = w
        .store
        .delete(&viewer, &w.app, None, &key("B"), DeleteOptions::default());
    assert_eq!(del.unwrap_err().code(), "forbidden");
    Ok(())
}

#[test]
fn every_version_records_who_and_when() -> valueset::Result<()> {
    let w = World::new();
    let bob = Actor::new("bob", OrgRole::Member).with_app_role(w.app.clone(), AppRole::Developer);
    let v = w.store.set(
        &bob,
        &w.app,
        None,
        &key("A"),
        NewValue::plain("1"),
        SetOptions {
            comment: "first".into(),
            ..Default::default()
        },
    )?;
    assert_eq!(v.created_by, "bob");
    assert_eq!(v.comment, "first");
    let next = w.store.set(
        &bob,
        &w.app,
        None,
        &key("A"),
        NewValue::plain("2"),
        SetOptions::default(),
    )?;
    // The injected clock ticks one second per reading.
    assert!(next.created_at > v.created_at);
    Ok(())
}

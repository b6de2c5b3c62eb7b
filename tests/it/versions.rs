//! docs/guide.md #value-set-versions, #branching-and-bubbling, #bulk-changes, #listing-history: versions, branching and bubbling, batches,
//! listing.

use valueset::model::{ChangeOp, NewValue, ResultOf, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, HistoryOptions, SetOptions};
use valueset::{EnvId, Secret, VersionId};

use crate::common::{World, at, id, key, pairs};

#[test]
fn every_change_is_a_version_with_a_full_snapshot() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("A", "1");
    let v2 = w.set("B", "2");
    let v3 = w.set("A", "3");
    let v4 = w.delete("B")?;
    assert_eq!(
        [v1, v2, v3, v4].map(|v| v.to_string()),
        ["a1", "a2", "a3", "a4"]
    );
    assert_eq!(
        w.values_at(None, at("a2")),
        pairs(&[("A", "1"), ("B", "2")])
    );
    assert_eq!(
        w.values_at(None, at("a3")),
        pairs(&[("A", "3"), ("B", "2")])
    );
    assert_eq!(
        w.values_at(None, VersionSelector::Latest),
        pairs(&[("A", "3")])
    );

    let info = w.store.version(&w.admin, &w.app, None, at("a3"))?.info;
    assert_eq!(info.created_by, "alice");
    assert_eq!(info.result_of, ResultOf::AppValueUpdate);
    assert_eq!(info.change.len(), 1);
    assert_eq!(
        (info.change[0].op, info.change[0].key.as_str()),
        (ChangeOp::Replace, "A")
    );
    assert!(info.created_at.to_string().starts_with("2026-11-23T08:03:"));
    let info = w.store.version(&w.admin, &w.app, None, at("a1"))?.info;
    assert_eq!(info.result_of, ResultOf::AppValueCreate);
    let info = w.store.version(&w.admin, &w.app, None, at("a4"))?.info;
    assert_eq!(info.result_of, ResultOf::AppValueDelete);
    assert_eq!(info.change[0].op, ChangeOp::Remove);

    let e = w
        .store
        .version(&w.admin, &w.app, None, at("a9"))
        .unwrap_err();
    assert_eq!(e.code(), "unknown_version");
    assert_eq!(e.to_string(), "unknown version `a9`");
    Ok(())
}

#[test]
fn a_batch_is_one_version_all_or_nothing() -> valueset::Result<()> {
    let w = World::new();
    w.set("OLD", "x");
    let batch = ChangeSet::new()
        .set(key("A"), NewValue::plain("1"))
        .set(key("B"), NewValue::plain("2"))
        .delete(key("OLD"));
    let v = w
        .store
        .apply(&w.admin, &w.app, None, batch, DeleteOptions::default())?;
    assert_eq!(v.change.len(), 3);
    assert_eq!(
        w.values_at(None, VersionSelector::Latest),
        pairs(&[("A", "1"), ("B", "2")])
    );

    // One bad change (an unknown key to delete) and nothing happens.
    let bad = ChangeSet::new()
        .set(key("C"), NewValue::plain("3"))
        .delete(key("NOPE"));
    assert_eq!(
        w.store
            .apply(&w.admin, &w.app, None, bad, DeleteOptions::default())
            .unwrap_err()
            .code(),
        "unknown_key"
    );
    // An override without base in a batch: nothing happens either.
    let bad = ChangeSet::new()
        .set(key("A"), NewValue::plain("p"))
        .set(key("Z"), NewValue::plain("z"));
    assert_eq!(
        w.store
            .apply(
                &w.admin,
                &w.app,
                Some(&w.prod),
                bad,
                DeleteOptions::default()
            )
            .unwrap_err()
            .code(),
        "no_base_value"
    );
    assert_eq!(
        w.store
            .history(&w.admin, &w.app, None, HistoryOptions::default())?
            .len(),
        2
    );
    assert_eq!(w.get(Some(&w.prod), "A").as_deref(), Some("1"));

    let all = w.store.apply(
        &w.admin,
        &w.app,
        None,
        ChangeSet::new().delete_all(),
        DeleteOptions::default(),
    )?;
    assert_eq!(all.result_of, ResultOf::AppValuesDelete);
    assert_eq!(all.change.len(), 2);
    assert!(w.values_at(None, VersionSelector::Latest).is_empty());
    Ok(())
}

#[test]
fn envs_share_the_app_history_until_they_diverge_then_app_changes_bubble() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    w.set("B", "2");
    let prod = || HistoryOptions::default();
    let ids = |h: Vec<valueset::model::VersionInfo>| {
        h.iter().map(|v| v.id.to_string()).collect::<Vec<_>>()
    };
    // Same versions, same ids.
    assert_eq!(
        ids(w.store.history(&w.admin, &w.app, Some(&w.prod), prod())?),
        ["a2", "a1"]
    );

    // The first override diverges prod.
    let first = w.set_env(&w.prod, "A", "p");
    assert_eq!(first.to_string(), "e3");
    let app_change = w.set("B", "20");
    assert_eq!(app_change.to_string(), "a4");
    assert_eq!(
        ids(w.store.history(&w.admin, &w.app, Some(&w.prod), prod())?),
        ["e4", "e3", "a2", "a1"]
    );
    // dev did not diverge: it still shares the App's history.
    let dev = w
        .store
        .history(&w.admin, &w.app, Some(&w.dev), HistoryOptions::default())?;
    assert_eq!(ids(dev), ["a4", "a2", "a1"]);

    // The bubbled version names its App version and holds the new App
    // values with prod's override on top.
    let bubbled = w.store.version(&w.admin, &w.app, Some(&w.prod), at("e4"))?;
    assert_eq!(bubbled.info.app_version, Some(app_change));
    assert_eq!(bubbled.info.result_of, ResultOf::AppValueUpdate);
    assert_eq!(bubbled.info.change.len(), 1);
    assert_eq!(
        w.values_at(Some(&w.prod), at("e4")),
        pairs(&[("A", "p"), ("B", "20")])
    );
    assert_eq!(
        w.values_at(Some(&w.prod), at("e3")),
        pairs(&[("A", "p"), ("B", "2")])
    );
    assert_eq!(
        w.values_at(Some(&w.prod), at("a2")),
        pairs(&[("A", "1"), ("B", "2")])
    );

    // An App change to an overridden key bubbles with no effective change.
    w.set("A", "10");
    let masked = w
        .store
        .version(&w.admin, &w.app, Some(&w.prod), VersionSelector::Latest)?;
    assert!(masked.info.change.is_empty());
    assert_eq!(masked.info.app_version, Some(id("a5")));

    // Ids belong to their history.
    assert_eq!(
        w.store
            .version(&w.admin, &w.app, None, at("e4"))
            .unwrap_err()
            .code(),
        "unknown_version"
    );
    assert_eq!(
        w.store
            .version(&w.admin, &w.app, Some(&w.prod), at("a4"))
            .unwrap_err()
            .code(),
        "unknown_version"
    );
    Ok(())
}

#[test]
fn listing_is_newest_first_paginated_and_filtered() -> valueset::Result<()> {
    let w = World::new();
    for i in 0..10 {
        w.set(if i % 3 == 0 { "A" } else { "B" }, &i.to_string());
    }
    w.set_env(&w.prod, "A", "p");
    w.set("A", "last");
    let page = |before: Option<VersionId>, env: Option<&EnvId>| {
        w.store
            .history(
                &w.admin,
                &w.app,
                env,
                HistoryOptions {
                    limit: Some(4),
                    before,
                    ..HistoryOptions::default()
                },
            )
            .unwrap()
            .iter()
            .map(|v| v.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(page(None, None), ["a12", "a10", "a9", "a8"]);
    assert_eq!(page(Some(id("a8")), None), ["a7", "a6", "a5", "a4"]);
    assert_eq!(page(None, Some(&w.prod)), ["e12", "e11", "a10", "a9"]);

    let changed_before = |env: Option<&EnvId>, before| {
        w.store
            .history(
                &w.admin,
                &w.app,
                env,
                HistoryOptions {
                    key_changed: Some(key("A")),
                    before,
                    ..HistoryOptions::default()
                },
            )
            .unwrap()
            .iter()
            .map(|v| v.id.to_string())
            .collect::<Vec<_>>()
    };
    let changed = |env: Option<&EnvId>| changed_before(env, None);
    assert_eq!(changed(None), ["a12", "a10", "a7", "a4", "a1"]);
    // In prod, the last App change of A is masked by the override.
    assert_eq!(changed(Some(&w.prod)), ["e11", "a10", "a7", "a4", "a1"]);
    // The next page starts strictly before the version it names.
    assert_eq!(changed_before(None, Some(id("a10"))), ["a7", "a4", "a1"]);
    assert_eq!(
        changed_before(Some(&w.prod), Some(id("e11"))),
        ["a10", "a7", "a4", "a1"]
    );
    Ok(())
}

#[test]
fn optimistic_concurrency() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("A", "1");
    let opts = |expect| valueset::store::SetOptions {
        expect: Some(expect),
        ..Default::default()
    };
    let v2 = w
        .store
        .set(
            &w.admin,
            &w.app,
            None,
            &key("A"),
            NewValue::plain("2"),
            opts(v1),
        )?
        .id;
    let e = w
        .store
        .set(
            &w.admin,
            &w.app,
            None,
            &key("A"),
            NewValue::plain("3"),
            opts(v1),
        )
        .unwrap_err();
    assert_eq!(e.code(), "conflict");
    assert_eq!(e.to_string(), "conflict: the current version is `a2`");
    assert!(matches!(e, valueset::Error::Conflict { current: Some(c), .. } if c == v2));
    assert_eq!(w.get(None, "A").as_deref(), Some("2"));
    Ok(())
}

#[test]
fn secret_versions_count_value_changes_per_level() -> valueset::Result<()> {
    let w = World::new();
    let set = |v: &str, env: Option<&valueset::EnvId>| {
        w.store
            .set(
                &w.admin,
                &w.app,
                env,
                &key("PW"),
                NewValue::secret(Secret::new(v.into())),
                SetOptions::default(),
            )
            .unwrap()
    };
    let sv = |env: Option<&valueset::EnvId>| {
        w.store
            .get(&w.admin, &w.app, env, &key("PW"))
            .unwrap()
            .secret()
            .unwrap()
            .secret_version
    };
    let v = set("one", None);
    assert_eq!(v.change[0].secret_version, Some(1));
    set("two", None);
    assert_eq!(sv(None), 2);
    // The same value again: no new secret version, and no change listed.
    let same = set("two", None);
    assert!(same.change.is_empty());
    assert_eq!(sv(None), 2);
    // A description change keeps the secret version.
    w.store.describe(
        &w.admin,
        &w.app,
        None,
        &key("PW"),
        "the db password".into(),
        Default::default(),
    )?;
    assert_eq!(sv(None), 2);
    assert_eq!(
        w.store.get(&w.admin, &w.app, None, &key("PW"))?.description,
        "the db password"
    );
    // The environment's counter is its own.
    set("p1", Some(&w.prod));
    assert_eq!(sv(Some(&w.prod)), 1);
    set("p2", Some(&w.prod));
    assert_eq!(sv(Some(&w.prod)), 2);
    assert_eq!(sv(None), 2);
    Ok(())
}

#[test]
fn a_head_moves_with_every_change_to_its_level_and_with_nothing_else() -> valueset::Result<()> {
    let w = World::new();
    let (s, a, app) = (&w.store, &w.admin, &w.app);
    let head = |env: Option<&EnvId>| s.head(a, app, env).unwrap();
    let set = |env: Option<&EnvId>, value: &str| {
        s.set(
            a,
            app,
            env,
            &key("HOST"),
            NewValue::plain(value),
            SetOptions::default(),
        )
    };
    let (app0, prod0) = (head(None), head(Some(&w.prod)));
    assert_ne!(app0, prod0, "levels have their own heads");
    assert_ne!(prod0, head(Some(&w.dev)));
    // Reading moves nothing.
    s.list(a, app, Some(&w.prod))?;
    assert_eq!(
        (head(None), head(Some(&w.prod))),
        (app0.clone(), prod0.clone())
    );
    // An App change moves the App's head and its Environments'.
    set(None, "db")?;
    let (app1, prod1) = (head(None), head(Some(&w.prod)));
    assert!(app1 != app0 && prod1 != prod0);
    // An override moves its Environment's head.
    set(Some(&w.prod), "p")?;
    let prod2 = head(Some(&w.prod));
    assert_ne!(prod2, prod1);
    // The Environment made again: not the head it had.
    s.delete_env(a, app, &w.prod)?;
    s.create_env(a, app, &w.prod)?;
    assert!(![prod0.clone(), prod1.clone(), prod2.clone()].contains(&head(Some(&w.prod))));
    // The App made again with the same changes: not the head it had.
    s.delete_app(a, app)?;
    s.create_app(a, app)?;
    set(None, "db")?;
    assert!(![app0, app1].contains(&head(None)));
    // Asked by whom may not read: refused.
    let stranger = valueset::Actor::new("eve", valueset::model::OrgRole::Member);
    assert_eq!(
        s.head(&stranger, app, None).unwrap_err().code(),
        "forbidden"
    );
    Ok(())
}

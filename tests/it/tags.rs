//! docs/guide.md #tags: names for versions, resolved wherever a version is
//! asked for; moves recorded; listed by a purge's dry run.

use std::sync::Arc;
use std::thread;

use valueset::backend::MemoryBackend;
use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
use valueset::store::{DiffSide, RestoreKeys, WriteOptions};
use valueset::{Actor, AppId, EnvId, Error, Store, TagName, VersionId};

use crate::common::{World, key};

fn tag(name: &str) -> TagName {
    TagName::new(name).unwrap()
}

fn by_tag(name: &str) -> VersionSelector {
    VersionSelector::Tag(tag(name))
}

#[test]
fn a_tag_stands_in_for_its_version() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("A", "1");
    let placed = w.store.tag(
        &w.admin,
        &w.app,
        None,
        VersionSelector::Id(v1),
        &tag("stable"),
    )?;
    assert_eq!((placed.version, placed.env.as_ref()), (v1, None));
    w.set("A", "2");
    let version = w.store.version(&w.admin, &w.app, None, by_tag("stable"))?;
    assert_eq!(version.info.id, v1);
    let diff = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::app(by_tag("stable")),
        &DiffSide::app(VersionSelector::Latest),
    )?;
    assert_eq!(diff.changes.len(), 1);
    let restored = w.store.restore(
        &w.admin,
        &w.app,
        None,
        by_tag("stable"),
        RestoreKeys::All,
        WriteOptions::default(),
    )?;
    assert_eq!(restored.source_version, Some(v1));
    assert_eq!(w.get(None, "A").as_deref(), Some("1"));
    // A tag of an Environment's history resolves in that history.
    let prod = w.prod.clone();
    w.set_env(&prod, "A", "prod");
    let e = w.store.tag(
        &w.admin,
        &w.app,
        Some(&prod),
        VersionSelector::Latest,
        &tag("stable"),
    )?;
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.app, &prod, by_tag("stable"))?;
    assert_eq!(snapshot.version(), e.version);
    assert_eq!(
        snapshot.resolver().resolve_str("${values.A}")?.as_plain(),
        Some("prod")
    );
    // The App's tag and prod's are two tags.
    let app_tags = w.store.tags(&w.admin, &w.app, None)?;
    let prod_tags = w.store.tags(&w.admin, &w.app, Some(&prod))?;
    assert_eq!((app_tags.len(), prod_tags.len()), (1, 1));
    assert_ne!(app_tags[0].version, prod_tags[0].version);
    Ok(())
}

#[test]
fn moving_a_tag_is_recorded() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("A", "1");
    let v2 = w.set("A", "2");
    let bob = Actor::new("bob", OrgRole::Member).with_app_role(w.app.clone(), AppRole::Developer);
    w.store.tag(
        &w.admin,
        &w.app,
        None,
        VersionSelector::Id(v1),
        &tag("release"),
    )?;
    // Placing it where it is already changes nothing.
    w.store
        .tag(&bob, &w.app, None, VersionSelector::Id(v1), &tag("release"))?;
    let moved = w
        .store
        .tag(&bob, &w.app, None, VersionSelector::Id(v2), &tag("release"))?;
    let placings: Vec<(VersionId, &str)> = moved
        .moves
        .iter()
        .map(|m| (m.version, m.by.as_str()))
        .collect();
    assert_eq!(placings, [(v1, "alice"), (v2, "bob")]);
    assert!(moved.moves[0].at < moved.moves[1].at);
    assert_eq!(moved.version, v2);
    assert_eq!(
        w.store.tags(&w.admin, &w.app, None)?,
        std::slice::from_ref(&moved)
    );
    let json = serde_json::to_value(&moved).unwrap();
    assert_eq!(json["name"], "release");
    assert_eq!(json["version"], "a2");
    assert_eq!(json["moves"][1]["by"], "bob");
    Ok(())
}

#[test]
fn names_and_permissions_are_checked() {
    let w = World::new();
    w.set("A", "1");
    let err = w
        .store
        .version(&w.admin, &w.app, None, by_tag("nope"))
        .unwrap_err();
    assert_eq!(err.code(), "unknown_tag");
    assert!(err.to_string().contains("`nope`"), "{err}");
    for bad in ["latest", "a1", "e2", "x y", ""] {
        assert_eq!(TagName::new(bad).unwrap_err().code(), "invalid_tag");
    }
    assert_eq!(
        "stable".parse::<VersionSelector>().unwrap(),
        by_tag("stable")
    );
    assert_eq!(
        "a1".parse::<VersionSelector>().unwrap(),
        VersionSelector::Id("a1".parse().unwrap())
    );
    assert_eq!(
        "x y".parse::<VersionSelector>().unwrap_err().code(),
        "invalid_version"
    );
    let viewer = Actor::new("vic", OrgRole::Member).with_app_role(w.app.clone(), AppRole::Viewer);
    let err = w
        .store
        .tag(&viewer, &w.app, None, VersionSelector::Latest, &tag("t"))
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(w.store.tags(&viewer, &w.app, None).unwrap().is_empty());
    let err = w
        .store
        .tag(
            &w.admin,
            &w.app,
            None,
            VersionSelector::Id("a9".parse().unwrap()),
            &tag("t"),
        )
        .unwrap_err();
    assert_eq!(err.code(), "unknown_version");
}

#[test]
fn a_purge_dry_run_names_the_tags_it_touches() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("PW", "old");
    let v2 = w.set("B", "b");
    w.set("PW", "new");
    w.store.tag(
        &w.admin,
        &w.app,
        None,
        VersionSelector::Id(v2),
        &tag("release-1"),
    )?;
    w.store.tag(
        &w.admin,
        &w.app,
        None,
        VersionSelector::Latest,
        &tag("current"),
    )?;
    let preview = w.store.dry_run().purge(
        &w.admin,
        &w.app,
        None,
        v1.into(),
        &key("PW"),
        WriteOptions::default(),
    )?;
    let names: Vec<&str> = preview.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["release-1"]);
    Ok(())
}

#[test]
fn tags_go_with_their_environment_and_app() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    let staging = EnvId::new("staging")?;
    w.store.create_env(&w.admin, &w.app, &staging)?;
    w.store.tag(
        &w.admin,
        &w.app,
        Some(&staging),
        VersionSelector::Latest,
        &tag("t"),
    )?;
    w.store
        .tag(&w.admin, &w.app, None, VersionSelector::Latest, &tag("t"))?;
    w.store.delete_env(&w.admin, &w.app, &staging)?;
    w.store.create_env(&w.admin, &w.app, &staging)?;
    assert!(w.store.tags(&w.admin, &w.app, Some(&staging))?.is_empty());
    assert_eq!(w.store.tags(&w.admin, &w.app, None)?.len(), 1);
    w.store.delete_app(&w.admin, &w.app)?;
    w.store.create_app(&w.admin, &w.app)?;
    assert!(w.store.tags(&w.admin, &w.app, None)?.is_empty());
    Ok(())
}

/// Stores with their own locks over one backend move one tag at once:
/// every move is kept, because the storage commits each only on the tag
/// it read.
#[test]
fn concurrent_moves_are_all_recorded() -> valueset::Result<()> {
    let backend = Arc::new(MemoryBackend::new());
    let admin = Actor::admin("alice");
    let app = AppId::new("shop")?;
    let first = Store::builder().open_with_backend(Arc::clone(&backend))?;
    first.create_app(&admin, &app)?;
    let mut versions = Vec::new();
    for i in 0..4 {
        let v = first.set(
            &admin,
            &app,
            None,
            &key("A"),
            NewValue::plain(i.to_string()),
            Default::default(),
        )?;
        versions.push(v.id);
    }
    let handles: Vec<_> = versions
        .iter()
        .map(|v| {
            let store = Store::builder().open_with_backend(Arc::clone(&backend));
            let (admin, app, v) = (admin.clone(), app.clone(), *v);
            thread::spawn(move || -> Result<(), Error> {
                let store = store?;
                store.tag(&admin, &app, None, VersionSelector::Id(v), &tag("t"))?;
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap()?;
    }
    let tags = first.tags(&admin, &app, None)?;
    let mut moved: Vec<VersionId> = tags[0].moves.iter().map(|m| m.version).collect();
    moved.sort_by_key(ToString::to_string);
    let mut expected = versions.clone();
    expected.sort_by_key(ToString::to_string);
    assert_eq!(moved, expected);
    Ok(())
}

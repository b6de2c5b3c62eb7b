//! docs/guide.md #compare-preview-and-move: diff of two versions of one
//! level, of two Environments, of an Environment and its App. (The
//! reference model checks which keys differ after every step; these tests
//! check what each difference shows.)

use valueset::model::{Content, KeyDiff, NewValue, SnapshotValue, ValueChange, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions, DiffSide, SetOptions, WriteOptions};
use valueset::{Actor, Secret};

use crate::common::{Spy, World, key};

const CANARY: &str = "CANARY-diff-5a1e";

fn plain(v: Option<&SnapshotValue>) -> Option<&str> {
    v.and_then(SnapshotValue::value).and_then(|v| v.plain())
}

fn keys(changes: &[KeyDiff]) -> Vec<(&str, ValueChange, bool)> {
    changes
        .iter()
        .map(|c| (c.key.as_str(), c.value, c.description_changed))
        .collect()
}

#[test]
fn two_versions_of_one_level() -> valueset::Result<()> {
    let w = World::new();
    let from = w.set("KEEP", "same");
    w.set("GONE", "old");
    let from2 = w.set("CHANGE", "1");
    w.set("CHANGE", "2");
    w.delete("GONE")?;
    w.set("NEW", "n");
    w.store.set(
        &w.admin,
        &w.app,
        None,
        &key("KEEP"),
        NewValue::plain("same"),
        SetOptions {
            description: Some("now described".into()),
            ..SetOptions::default()
        },
    )?;
    let diff = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::app(VersionSelector::Id(from2)),
        &DiffSide::app(VersionSelector::Latest),
    )?;
    assert_eq!(
        keys(&diff.changes),
        [
            ("CHANGE", ValueChange::Changed, false),
            ("GONE", ValueChange::Removed, false),
            ("KEEP", ValueChange::Unchanged, true),
            ("NEW", ValueChange::Added, false),
        ]
    );
    let change = &diff.changes[0];
    assert_eq!(
        (plain(change.from.as_ref()), plain(change.to.as_ref())),
        (Some("1"), Some("2"))
    );
    assert!(diff.changes[1].to.is_none() && diff.changes[3].from.is_none());
    assert_eq!(diff.from.version, from2);
    assert_eq!(diff.to.env, None);
    // The other way round, the sides swap.
    let back = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::app(VersionSelector::Latest),
        &DiffSide::app(VersionSelector::Id(from)),
    )?;
    let summary = keys(&back.changes);
    assert!(summary.contains(&("NEW", ValueChange::Removed, false)));
    assert!(summary.contains(&("CHANGE", ValueChange::Removed, false)));
    // A version against itself: nothing.
    let same = DiffSide::app(VersionSelector::Id(from));
    assert!(
        w.store
            .diff(&w.admin, &w.app, &same, &same)?
            .changes
            .is_empty()
    );
    Ok(())
}

#[test]
fn two_environments_and_an_environment_and_its_app() -> valueset::Result<()> {
    let w = World::new();
    w.set("HOST", "db");
    w.set("PORT", "5432");
    let (prod, dev) = (w.prod.clone(), w.dev.clone());
    w.set_env(&prod, "HOST", "db.prod");
    w.set_env(&dev, "PORT", "6543");
    let latest = || VersionSelector::Latest;
    let diff = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::env(dev.clone(), latest()),
        &DiffSide::env(prod.clone(), latest()),
    )?;
    assert_eq!(
        keys(&diff.changes),
        [
            ("HOST", ValueChange::Changed, false),
            ("PORT", ValueChange::Changed, false)
        ]
    );
    assert_eq!(
        (
            plain(diff.changes[1].from.as_ref()),
            plain(diff.changes[1].to.as_ref())
        ),
        (Some("6543"), Some("5432"))
    );
    assert_eq!(diff.from.env.as_ref(), Some(&dev));
    let against_app = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::app(latest()),
        &DiffSide::env(prod, latest()),
    )?;
    assert_eq!(
        keys(&against_app.changes),
        [("HOST", ValueChange::Changed, false)]
    );
    let Some(SnapshotValue::Value(to)) = &against_app.changes[0].to else {
        panic!("a value on the prod side");
    };
    assert_eq!(to.source, valueset::model::Source::Env);
    Ok(())
}

#[test]
fn secrets_are_compared_by_digest_and_never_shown() -> valueset::Result<()> {
    let w = World::new();
    let secret = |text: &str| NewValue::secret(Secret::new(text.into()));
    w.store.set(
        &w.admin,
        &w.app,
        None,
        &key("PW"),
        secret(CANARY),
        SetOptions::default(),
    )?;
    w.store.set(
        &w.admin,
        &w.app,
        None,
        &key("OTHER"),
        secret("a"),
        SetOptions::default(),
    )?;
    let (prod, dev) = (w.prod.clone(), w.dev.clone());
    // The same secret set again in prod: a new secret version, the same value.
    w.store.set(
        &w.admin,
        &w.app,
        Some(&prod),
        &key("PW"),
        secret(CANARY),
        SetOptions::default(),
    )?;
    w.store.set(
        &w.admin,
        &w.app,
        Some(&prod),
        &key("OTHER"),
        secret("b"),
        SetOptions::default(),
    )?;
    w.store.set(
        &w.admin,
        &w.app,
        Some(&dev),
        &key("OTHER"),
        secret(&format!("{CANARY}-dev")),
        SetOptions::default(),
    )?;
    let latest = || VersionSelector::Latest;
    let diff = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::env(dev, latest()),
        &DiffSide::env(prod, latest()),
    )?;
    assert_eq!(
        keys(&diff.changes),
        [("OTHER", ValueChange::Changed, false)]
    );
    let Some(SnapshotValue::Value(from)) = &diff.changes[0].from else {
        panic!("a value on the dev side");
    };
    assert!(matches!(from.content, Content::Secret(_)));
    let json = serde_json::to_string(&diff).unwrap();
    let debug = format!("{diff:?}");
    for shown in [&json, &debug] {
        assert!(!shown.contains(CANARY), "a secret leaked: {shown}");
    }
    assert!(json.contains("\"value\":\"changed\""), "{json}");
    Ok(())
}

#[test]
fn a_template_and_purged_content_show_as_such() -> valueset::Result<()> {
    let w = World::new();
    let plain_version = w.set("T", "${values.A}");
    let template = w
        .store
        .set(
            &w.admin,
            &w.app,
            None,
            &key("T"),
            NewValue::template("${values.A}"),
            SetOptions::default(),
        )?
        .id;
    let diff = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::app(VersionSelector::Id(plain_version)),
        &DiffSide::app(VersionSelector::Id(template)),
    )?;
    assert_eq!(keys(&diff.changes), [("T", ValueChange::Changed, false)]);
    w.set("T", "plain again");
    w.store.purge(
        &w.admin,
        &w.app,
        None,
        plain_version.into(),
        &key("T"),
        WriteOptions::default(),
    )?;
    let diff = w.store.diff(
        &w.admin,
        &w.app,
        &DiffSide::app(VersionSelector::Id(plain_version)),
        &DiffSide::app(VersionSelector::Id(template)),
    )?;
    let change = &diff.changes[0];
    assert!(matches!(change.from, Some(SnapshotValue::Purged { .. })));
    assert_eq!(change.value, ValueChange::Changed);
    Ok(())
}

#[test]
fn unknown_sides_and_callers_without_a_role_are_refused() {
    let w = World::new();
    w.set("A", "1");
    let latest = DiffSide::app(VersionSelector::Latest);
    let missing = DiffSide::app(VersionSelector::Id("a99".parse().unwrap()));
    let err = w
        .store
        .diff(&w.admin, &w.app, &latest, &missing)
        .unwrap_err();
    assert_eq!(err.code(), "unknown_version");
    let nowhere = DiffSide::env(
        valueset::EnvId::new("nope").unwrap(),
        VersionSelector::Latest,
    );
    let err = w
        .store
        .diff(&w.admin, &w.app, &nowhere, &latest)
        .unwrap_err();
    assert_eq!(err.code(), "unknown_env");
    let stranger = Actor::new("eve", valueset::model::OrgRole::Member);
    let err = w
        .store
        .diff(&stranger, &w.app, &latest, &latest)
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

/// Two levels over the same App version read only what they override, and
/// two versions of one level only the keys changed between them: not the
/// App's hundred values.
#[test]
fn the_cost_follows_the_differences() -> valueset::Result<()> {
    let backend = std::sync::Arc::new(Spy::default());
    let store = valueset::Store::builder().open_with_backend(std::sync::Arc::clone(&backend))?;
    let w = World::with_store(store);
    let mut batch = ChangeSet::new();
    for i in 0..100 {
        batch = batch.set(key(&format!("K{i}")), NewValue::plain("v"));
    }
    w.store
        .apply(&w.admin, &w.app, None, batch, DeleteOptions::default())?;
    let prod = w.prod.clone();
    w.set_env(&prod, "K1", "prod");
    // A wide change, then a narrow one: comparing the two reads only what
    // the narrow one changed.
    let mut wide = ChangeSet::new();
    for i in 50..100 {
        wide = wide.set(key(&format!("K{i}")), NewValue::plain("wide"));
    }
    let before_last = w
        .store
        .apply(&w.admin, &w.app, None, wide, DeleteOptions::default())?
        .id;
    let last = w.set("K3", "changed");
    let cost = |from: &DiffSide, to: &DiffSide| -> valueset::Result<(usize, usize)> {
        let start = backend.scans() + backend.gets();
        let diff = w.store.diff(&w.admin, &w.app, from, to)?;
        Ok((diff.changes.len(), backend.scans() + backend.gets() - start))
    };
    let latest = || VersionSelector::Latest;
    // prod's latest is the App's latest: the same App values on both sides.
    let (changes, reads) = cost(&DiffSide::app(latest()), &DiffSide::env(prod, latest()))?;
    assert_eq!(changes, 1);
    assert!(reads < 30, "{reads} reads");
    let (changes, reads) = cost(
        &DiffSide::app(VersionSelector::Id(before_last)),
        &DiffSide::app(VersionSelector::Id(last)),
    )?;
    assert_eq!(changes, 1);
    assert!(reads < 30, "{reads} reads");
    Ok(())
}

/// Up to 4,096 versions between two versions of one level are walked for
/// the keys they changed; past that, both sets are read whole.
#[test]
fn a_long_walk_gives_way_to_reading_both_sets() -> valueset::Result<()> {
    let backend = std::sync::Arc::new(Spy::default());
    let store = valueset::Store::builder().open_with_backend(std::sync::Arc::clone(&backend))?;
    let w = World::with_store(store);
    let first = w.set("A", "0");
    let mut ids = vec![first];
    for i in 1..=4097 {
        ids.push(w.set(if i % 2 == 0 { "A" } else { "B" }, &i.to_string()));
    }
    let reads = |from: usize, to: usize| -> valueset::Result<usize> {
        let start = backend.scans() + backend.gets();
        let diff = w.store.diff(
            &w.admin,
            &w.app,
            &DiffSide::app(VersionSelector::Id(ids[from])),
            &DiffSide::app(VersionSelector::Id(ids[to])),
        )?;
        assert_eq!(diff.changes.len(), 2);
        Ok(backend.scans() + backend.gets() - start)
    };
    // 4,096 versions between: each version record is read.
    let walked = reads(1, 4097)?;
    assert!(walked > 4096, "{walked} reads");
    // 4,097: the two sets (two keys) are read instead.
    let whole = reads(0, 4097)?;
    assert!(whole < 50, "{whole} reads");
    Ok(())
}

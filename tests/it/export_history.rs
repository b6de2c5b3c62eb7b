//! docs/guide.md #export-and-import: an export with the whole history and
//! the tags rebuilds the same history in another store (ids, authors,
//! times, comments, every version's values, purges, tags and their moves),
//! verifies there, and a changed or inconsistent document imports nothing.

use std::ops::ControlFlow;
use std::sync::Arc;

use valueset::backend::{Backend, Batch, MemoryBackend};
use valueset::model::{NewValue, VersionSelector};
use valueset::secret::MemorySecretStore;
use valueset::store::ExportDocument;
use valueset::store::{DeleteOptions, HistoryOptions, RestoreKeys, SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, MasterKey, Secret, Store, TagName};

use crate::common::{Shared, key};
use crate::export::{CANARY, source, store, transfer_key};

fn set_opts(comment: &str) -> SetOptions {
    SetOptions {
        comment: comment.to_owned(),
        ..SetOptions::default()
    }
}

fn write_opts(comment: &str) -> WriteOptions {
    WriteOptions {
        comment: comment.to_owned(),
        ..WriteOptions::default()
    }
}

/// The export test's source, with a history worth moving: two authors,
/// comments, a description change, a rotated secret, an override deleted
/// with its App value, a restore, a purge, and tags (one moved).
fn storied() -> (Store, Actor, AppId, EnvId) {
    let (s, admin, app, prod) = source();
    let bob = Actor::admin("bob");
    let set = |who: &Actor, k: &str, v: NewValue, env: Option<&EnvId>, comment: &str| {
        s.set(who, &app, env, &key(k), v, set_opts(comment))
            .unwrap()
            .id
    };
    let secret = |v: String| NewValue::secret(Secret::new(v));
    set(&bob, "HOST", NewValue::plain("db2"), None, "move the db");
    let prod_pw = set(&admin, "HOST", NewValue::plain("db3"), Some(&prod), "");
    let pinned = TagName::new("pinned").unwrap();
    s.tag(&admin, &app, Some(&prod), prod_pw.into(), &pinned)
        .unwrap();
    let pw_changes = HistoryOptions {
        key_changed: Some(key("PW")),
        ..HistoryOptions::default()
    };
    let first_pw = s
        .history(&admin, &app, None, pw_changes)
        .unwrap()
        .last()
        .unwrap()
        .id;
    let old = set(&admin, "PW", secret(format!("{CANARY}-2")), None, "rotate");
    set(&admin, "PW", secret(format!("{CANARY}-3")), None, "rotate");
    let described = "the db password".to_owned();
    s.describe(&bob, &app, None, &key("PW"), described, write_opts(""))
        .unwrap();
    set(&admin, "GONE", NewValue::plain("x"), None, "");
    set(&admin, "GONE", NewValue::plain("y"), Some(&prod), "");
    let cascade = DeleteOptions {
        cascade: true,
        comment: "drop GONE".to_owned(),
        ..DeleteOptions::default()
    };
    s.delete(&admin, &app, None, &key("GONE"), cascade).unwrap();
    let only_host = RestoreKeys::Only(vec![key("HOST")]);
    s.restore(&bob, &app, None, old.into(), only_host, write_opts("back"))
        .unwrap();
    s.purge(
        &admin,
        &app,
        None,
        first_pw.into(),
        &key("PW"),
        write_opts("leaked"),
    )
    .unwrap();
    let release = TagName::new("release").unwrap();
    s.tag(&admin, &app, None, old.into(), &release).unwrap();
    s.tag(&bob, &app, None, VersionSelector::Latest, &release)
        .unwrap();
    let before = TagName::new("before").unwrap();
    let first = VersionSelector::Id("a1".parse().unwrap());
    s.tag(&admin, &app, Some(&prod), first, &before).unwrap();
    let live = TagName::new("live").unwrap();
    s.tag(&admin, &app, Some(&prod), VersionSelector::Latest, &live)
        .unwrap();
    (s, admin, app, prod)
}

fn levels(s: &Store, admin: &Actor, app: &AppId) -> Vec<Option<EnvId>> {
    let envs = s.envs(admin, app).unwrap();
    std::iter::once(None)
        .chain(envs.into_iter().map(Some))
        .collect()
}

/// Everything a reader can see of an App's history: every level's
/// versions, each version's values, the tags, and what the latest values
/// and an older secret resolve to.
fn seen(s: &Store, admin: &Actor, app: &AppId) -> Vec<String> {
    let mut out = crate::export::observed(s, admin, app);
    for env in levels(s, admin, app) {
        let options = HistoryOptions {
            limit: Some(10_000),
            ..HistoryOptions::default()
        };
        for info in s.history(admin, app, env.as_ref(), options).unwrap() {
            out.push(format!("{env:?} {info:?}"));
            let version = s
                .version(admin, app, env.as_ref(), VersionSelector::Id(info.id))
                .unwrap();
            out.push(format!("{:?}", version.values));
        }
        out.push(format!("{:?}", s.tags(admin, app, env.as_ref()).unwrap()));
    }
    out
}

/// The App's history, exported with a sealing key and read back from JSON.
fn exported(s: &Store, admin: &Actor, app: &AppId) -> ExportDocument {
    let doc = s.export_history(admin, app, Some(&transfer_key())).unwrap();
    let json = serde_json::to_string(&doc).unwrap();
    assert!(!json.contains(CANARY), "a secret left in plaintext");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn a_history_export_rebuilds_the_same_history() -> valueset::Result<()> {
    let (s, admin, app, prod) = storied();
    let doc = exported(&s, &admin, &app);
    let history = doc.history.as_ref().unwrap();
    assert!(history.versions.len() > 10);
    let moves: Vec<usize> = doc.tags.iter().map(|t| t.moves.len()).collect();
    assert_eq!(moves, [2, 1, 1, 1], "{:?}", doc.tags);
    // A tag names versions by the ids its history gives them.
    let mut ids = Vec::new();
    for env in levels(&s, &admin, &app) {
        for tag in s.tags(&admin, &app, env.as_ref())? {
            ids.extend(tag.moves.iter().map(|m| (tag.name.clone(), m.version)));
        }
    }
    let mut exported_ids: Vec<_> = doc
        .tags
        .iter()
        .flat_map(|t| t.moves.iter().map(|m| (t.name.clone(), m.version)))
        .collect();
    ids.sort();
    exported_ids.sort();
    assert_eq!(exported_ids, ids);
    assert!(ids.iter().any(|(_, v)| v.to_string().starts_with('e')));
    // A stored secret is sealed once: the versions that hold it carry the
    // same sealed text.
    let pw: Vec<_> = history
        .versions
        .iter()
        .filter(|v| v.env.is_none())
        .filter_map(|v| v.entries.get(&key("PW")))
        .filter_map(|e| e.content.sealed.clone().map(|s| (e.introduced, s)))
        .collect();
    let same_value = pw.windows(2).filter(|w| w[0].0 == w[1].0).count();
    assert!(same_value >= 1, "{pw:?}");
    assert!(
        pw.windows(2)
            .all(|w| (w[0].0 == w[1].0) == (w[0].1 == w[1].1))
    );
    let target = store();
    target.import_app(&admin, &doc, Some(&transfer_key()))?;
    assert_eq!(seen(&target, &admin, &app), seen(&s, &admin, &app));
    let report = target.verify_app(&admin, &app)?;
    assert!(
        report.versions > 10 && report.secrets_checked >= 4,
        "{report:?}"
    );
    // An old secret that was not purged still resolves, by its old version.
    let rotated = s.history(
        &admin,
        &app,
        None,
        HistoryOptions {
            key_changed: Some(key("PW")),
            ..HistoryOptions::default()
        },
    )?;
    let second = rotated.iter().rev().nth(1).unwrap().id;
    let dev = EnvId::new("dev").unwrap();
    for store in [&s, &target] {
        let snapshot = store.snapshot(&admin, &app, &dev, VersionSelector::Id(second))?;
        let pw = snapshot.resolver().resolve_str("${values.PW}").unwrap();
        assert_eq!(
            pw.as_secret().unwrap().expose_secret(),
            format!("{CANARY}-2")
        );
    }
    let _ = prod;
    // Versions made after the import take the ids the source would give.
    let next = |st: &Store| {
        st.set(
            &admin,
            &app,
            None,
            &key("NEW"),
            NewValue::plain("1"),
            SetOptions::default(),
        )
        .unwrap()
        .id
    };
    assert_eq!(next(&target), next(&s));
    // The same document again: the App exists now.
    let again = target.import_app(&admin, &doc, Some(&transfer_key()));
    assert_eq!(again.unwrap_err().code(), "already_exists");
    Ok(())
}

#[test]
fn a_history_moves_into_a_store_that_keeps_secrets_elsewhere() -> valueset::Result<()> {
    let (s, admin, app, prod) = storied();
    let doc = exported(&s, &admin, &app);
    let kept = std::sync::Arc::new(MemorySecretStore::new("kept"));
    let target = Store::builder()
        .secret_store(Shared(kept.clone()))
        .reference_store(MemorySecretStore::read_only(
            "vault",
            [("db/owner".to_owned(), Secret::new("owned-secret".into()))],
        ))
        .open_with_backend(valueset::backend::MemoryBackend::new())?;
    target.import_app(&admin, &doc, Some(&transfer_key()))?;
    // Each stored secret once, however many versions name it: two at the
    // App (the first was purged), one in prod.
    assert_eq!(kept.len(), 3);
    let resolved = |st: &Store| {
        let snapshot = st
            .snapshot(&admin, &app, &prod, VersionSelector::Latest)
            .unwrap();
        let pw = snapshot.resolver().resolve_str("${values.PW}").unwrap();
        pw.as_secret().unwrap().expose_secret().to_owned()
    };
    assert_eq!(resolved(&target), resolved(&s));
    assert_eq!(resolved(&target), format!("{CANARY}-prod"));
    target.verify_app(&admin, &app)?;
    Ok(())
}

/// A change to make to a document.
type Change = Box<dyn FnOnce(&mut ExportDocument)>;

/// Imports `doc` (its digest made again) into a fresh store: the error,
/// with nothing imported.
fn refused(doc: &ExportDocument, change: impl FnOnce(&mut ExportDocument)) -> valueset::Error {
    let mut doc = doc.clone();
    change(&mut doc);
    doc.update_digest(Some(&transfer_key()));
    let target = store();
    let admin = Actor::admin("alice");
    let err = target
        .import_app(&admin, &doc, Some(&transfer_key()))
        .expect_err("imported");
    assert!(
        target.apps(&admin).unwrap().is_empty(),
        "something was imported"
    );
    assert!(!err.to_string().contains(CANARY));
    err
}

#[test]
fn a_changed_history_is_refused_by_its_digest() {
    let (s, admin, app, _) = storied();
    let doc = exported(&s, &admin, &app);
    let target = store();
    let changes: Vec<Change> = vec![
        Box::new(|d| d.history.as_mut().unwrap().versions[1].created_by = "mallory".into()),
        Box::new(|d| d.history.as_mut().unwrap().versions[2].comment.push('!')),
        Box::new(|d| {
            d.history.as_mut().unwrap().versions.pop();
        }),
        Box::new(|d| d.history.as_mut().unwrap().next_seq += 1),
        Box::new(|d| d.tags[0].moves[0].by = "mallory".into()),
        Box::new(|d| {
            d.tags.pop();
        }),
    ];
    for edit in changes {
        let mut edited = doc.clone();
        edit(&mut edited);
        let err = target
            .import_app(&admin, &edited, Some(&transfer_key()))
            .unwrap_err();
        assert!(err.to_string().contains("digest"), "{err}");
        assert!(target.apps(&admin).unwrap().is_empty());
    }
    // Every part of every entry counts.
    let mut edited = doc.clone();
    let versions = &mut edited.history.as_mut().unwrap().versions;
    let entry = versions[0].entries.values_mut().next().unwrap();
    entry.introduced += 1;
    assert!(
        target
            .import_app(&admin, &edited, Some(&transfer_key()))
            .is_err()
    );
    // The unchanged document imports.
    target
        .import_app(&admin, &doc, Some(&transfer_key()))
        .unwrap();
}

/// The storied App's export, and a check that a change to it is refused
/// with a message that says `what`.
fn refusals() -> (ExportDocument, impl Fn(Change, &str)) {
    let (s, admin, app, _) = storied();
    let doc = exported(&s, &admin, &app);
    let kept = doc.clone();
    let says = move |change: Change, what: &str| {
        let err = refused(&kept, change);
        assert!(err.to_string().contains(what), "{err} (wanted {what:?})");
    };
    (doc, says)
}

#[test]
fn a_history_that_does_not_add_up_imports_nothing_and_says_why() {
    let (doc, says) = refusals();
    let prod = EnvId::new("prod").unwrap();
    says(
        Box::new(|d| d.history.as_mut().unwrap().versions.swap(1, 2)),
        "out of order",
    );
    says(
        Box::new(|d| d.history.as_mut().unwrap().versions[0].id = "e1".parse().unwrap()),
        "not of the level",
    );
    let prod2 = prod.clone();
    says(
        Box::new(move |d| d.history.as_mut().unwrap().versions[0].env = Some(prod2)),
        "not of the level",
    );
    says(
        Box::new(|d| d.history.as_mut().unwrap().next_seq = 3),
        "outside",
    );
    says(
        Box::new(|d| {
            d.history.as_mut().unwrap().envs.clear();
        }),
        "environments",
    );
    says(
        Box::new(|d| {
            d.history.as_mut().unwrap().envs.pop_last();
            d.envs.pop_last();
            d.names.as_mut().unwrap().envs.pop_last();
        }),
        "environment `",
    );
    says(
        Box::new(|d| d.values.get_mut(&key("HOST")).unwrap().value = Some("evil".into())),
        "ends with",
    );
    says(
        Box::new(|d| {
            d.envs
                .get_mut(&EnvId::new("prod").unwrap())
                .unwrap()
                .clear();
        }),
        "ends with",
    );
    // The untouched document, digest made again, imports.
    let mut same = doc.clone();
    same.update_digest(Some(&transfer_key()));
    assert_eq!(same, doc);
    let admin = Actor::admin("alice");
    store()
        .import_app(&admin, &same, Some(&MasterKey::from_bytes([9; 32])))
        .unwrap();
}

#[test]
fn a_history_entry_or_tag_that_cannot_be_imports_nothing_and_says_why() {
    let (_, says) = refusals();
    says(
        Box::new(|d| d.history.as_mut().unwrap().versions[1].created_by = String::new()),
        "empty",
    );
    says(
        Box::new(|d| {
            let mut wrong = d.tags[0].moves[0].clone();
            wrong.version = "a999".parse().unwrap();
            d.tags[0].moves.push(wrong);
        }),
        "tag `",
    );
    says(Box::new(|d| d.tags[0].moves.clear()), "tag `");
    // A tag of `dev` that names a version of `prod`'s own.
    says(
        Box::new(|d| {
            let pinned = d.tags.iter_mut().find(|t| t.name.as_str() == "pinned");
            pinned.unwrap().env = Some(EnvId::new("dev").unwrap());
        }),
        "tag `",
    );
    says(Box::new(|d| d.history = None), "no history");
    // A purged entry with content, or without a digest that fits.
    says(
        Box::new(move |d| {
            let versions = &mut d.history.as_mut().unwrap().versions;
            let e = versions
                .iter_mut()
                .flat_map(|v| v.entries.values_mut())
                .find(|e| e.purged_digest.is_some())
                .unwrap();
            e.content.value = Some("back".into());
        }),
        "purged and has a value",
    );
    says(
        Box::new(move |d| {
            let versions = &mut d.history.as_mut().unwrap().versions;
            let e = versions
                .iter_mut()
                .flat_map(|v| v.entries.values_mut())
                .find(|e| e.purged_digest.is_some())
                .unwrap();
            e.purged_digest = Some("abcd".into());
        }),
        "32 bytes",
    );
    // A cascade may only delete.
    says(
        Box::new(|d| {
            let v = cascading(d);
            let tomb = v
                .cascaded
                .values_mut()
                .next()
                .unwrap()
                .values_mut()
                .next()
                .unwrap();
            tomb.content.value = Some("alive".into());
        }),
        "deletes overrides",
    );
    // ...and only overrides of a key its version removes from the App
    // (the verifier would refuse the App afterwards: found by fuzzing).
    says(
        Box::new(|d| {
            let v = cascading(d);
            for c in &mut v.change {
                c.key = key("OTHER");
            }
        }),
        "deletes overrides",
    );
}

/// The first version of `doc` that removes Environments' overrides.
fn cascading(doc: &mut ExportDocument) -> &mut valueset::store::ExportedVersion {
    let versions = &mut doc.history.as_mut().unwrap().versions;
    versions
        .iter_mut()
        .find(|v| !v.cascaded.is_empty())
        .unwrap()
}

/// Every stored key under `prefix`, with its value.
fn stored(backend: &MemoryBackend, prefix: u8) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    backend
        .scan(&[prefix], &[prefix + 1], false, &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn with_seq(key: &[u8], seq: u64) -> Vec<u8> {
    let mut key = key.to_vec();
    let at = key.len() - 8;
    key[at..].copy_from_slice(&seq.to_be_bytes());
    key
}

#[test]
fn an_export_of_entries_without_their_version_is_refused_as_corrupted() {
    let backend = Arc::new(MemoryBackend::new());
    let s = Store::builder()
        .open_with_backend(Arc::clone(&backend))
        .unwrap();
    let admin = Actor::admin("alice");
    let app = AppId::new("shop").unwrap();
    // `qa` is read after `prod`, whose versions are known by then.
    let (prod, qa) = (EnvId::new("prod").unwrap(), EnvId::new("qa").unwrap());
    s.create_app(&admin, &app).unwrap();
    s.create_env(&admin, &app, &prod).unwrap();
    s.create_env(&admin, &app, &qa).unwrap();
    let set = |env: Option<&EnvId>, v: &str| {
        let options = set_opts("");
        s.set(&admin, &app, env, &key("HOST"), NewValue::plain(v), options)
            .unwrap()
    };
    set(None, "db");
    let override_seq = set(Some(&prod), "db.prod").id;
    assert_eq!(override_seq.to_string(), "e2");
    let entries = stored(&backend, b'H');
    let (app_entry, app_value) = entries
        .iter()
        .find(|(k, _)| !k.windows(4).any(|w| w == b"prod"))
        .unwrap();
    let (env_entry, env_value) = entries
        .iter()
        .find(|(k, _)| k.windows(4).any(|w| w == b"prod"))
        .unwrap();
    let in_qa = {
        let at = env_entry.windows(4).position(|w| w == b"prod").unwrap();
        [&env_entry[..at], b"qa", &env_entry[at + 4..]].concat()
    };
    let forged = [
        // An App value at an Environment's version.
        (with_seq(app_entry, 2), app_value),
        // An App value at a version that does not exist.
        (with_seq(app_entry, 9), app_value),
        // An override in `qa` at a version of `prod`.
        (in_qa, env_value),
    ];
    for (k, v) in forged {
        let mut batch = Batch::new();
        batch.insert(k.clone(), v.clone());
        backend.apply(batch).unwrap();
        let err = s.export_history(&admin, &app, None).unwrap_err();
        assert_eq!(err.code(), "corrupted", "{err}");
        let mut batch = Batch::new();
        batch.remove(k);
        backend.apply(batch).unwrap();
    }
    s.export_history(&admin, &app, None).unwrap();
}

#[test]
fn a_history_value_is_held_to_the_receiving_store_s_size_limit() {
    let s = store();
    let admin = Actor::admin("alice");
    let app = AppId::new("small").unwrap();
    s.create_app(&admin, &app).unwrap();
    let options = set_opts("");
    s.set(
        &admin,
        &app,
        None,
        &key("K"),
        NewValue::plain("abcd"),
        options,
    )
    .unwrap();
    let doc = s.export_history(&admin, &app, None).unwrap();
    let limited = |max: usize| {
        Store::builder()
            .max_value_len(max)
            .in_memory()
            .unwrap()
            .import_app(&admin, &doc, None)
    };
    limited(4).unwrap();
    assert_eq!(limited(3).unwrap_err().code(), "value_too_long");
}

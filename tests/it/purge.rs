//! docs/guide.md #purge: purge, its three constraints and its effect.

use valueset::error::PurgeRefusal;
use valueset::model::VersionSelector;
use valueset::store::WriteOptions;
use valueset::{Error, VersionId};

use crate::common::{World, at, key, pairs};

/// The worked example of docs/guide.md #purge, App scope.
#[test]
fn the_worked_example() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("A", "x");
    let v2 = w.set("B", "1");
    let v3 = w.set("A", "y");
    let v4 = w.set("A", "x");
    let purge = |v: VersionId| {
        w.store
            .purge(
                &w.admin,
                &w.app,
                None,
                v.into(),
                &key("A"),
                WriteOptions::default(),
            )
            .map(|p| p.version)
    };

    // purge(v2, A) is refused: A was not introduced in v2.
    let e = purge(v2).unwrap_err();
    assert_eq!(e.code(), "not_introduced_here");
    // purge(v4, A) is refused: it is the current value.
    let e = purge(v4).unwrap_err();
    assert!(matches!(
        e,
        Error::PurgeRefused(PurgeRefusal::CurrentValue { .. })
    ));
    assert_eq!(e.code(), "purge_current_value");

    // purge(v3, A): removed from v3 only (v4 set x anew).
    let p1 = purge(v3)?;
    assert_eq!(p1.source_version, Some(v3));
    assert_eq!(p1.result_of.as_str(), "app_value_set_version_purge");
    assert_eq!(
        w.values_at(None, at(&v3.to_string())),
        pairs(&[("A", "~"), ("B", "1")])
    );
    assert_eq!(
        w.values_at(None, at(&v4.to_string())),
        pairs(&[("A", "x"), ("B", "1")])
    );

    // purge(v1, A): removed from v1 and v2; v3 and v4 keep their own.
    purge(v1)?;
    assert_eq!(w.values_at(None, at(&v1.to_string())), pairs(&[("A", "~")]));
    assert_eq!(
        w.values_at(None, at(&v2.to_string())),
        pairs(&[("A", "~"), ("B", "1")])
    );
    assert_eq!(
        w.values_at(None, at(&v4.to_string())),
        pairs(&[("A", "x"), ("B", "1")])
    );
    assert_eq!(w.get(None, "A").as_deref(), Some("x"));

    // A second purge of the same value is refused; nothing changes.
    assert_eq!(purge(v1).unwrap_err().code(), "already_purged");
    // Latest is the last purge version, with the values unchanged.
    let latest = w
        .store
        .version(&w.admin, &w.app, None, VersionSelector::Latest)?;
    assert_eq!(
        latest.info.result_of.as_str(),
        "app_value_set_version_purge"
    );
    assert!(latest.info.change.is_empty());
    Ok(())
}

/// A description-only change does not introduce a new value: purge names
/// the version that set the value, and removes it from the described
/// version too (docs/guide.md #choices-where-the-rules-leave-room).
#[test]
fn a_description_change_does_not_introduce_a_value() -> valueset::Result<()> {
    let w = World::new();
    let v1 = w.set("A", "x");
    let v2 = w
        .store
        .describe(
            &w.admin,
            &w.app,
            None,
            &key("A"),
            "the a".into(),
            WriteOptions::default(),
        )?
        .id;
    w.set("A", "y");
    let purge = |v: VersionId| {
        w.store
            .purge(
                &w.admin,
                &w.app,
                None,
                v.into(),
                &key("A"),
                WriteOptions::default(),
            )
            .map(|p| p.version)
    };
    assert_eq!(purge(v2).unwrap_err().code(), "not_introduced_here");
    purge(v1)?;
    assert_eq!(w.values_at(None, at(&v1.to_string())), pairs(&[("A", "~")]));
    assert_eq!(w.values_at(None, at(&v2.to_string())), pairs(&[("A", "~")]));
    Ok(())
}

/// Memory that cannot be compacted, as a disk that fills up mid-way.
#[derive(Debug, Default)]
struct NoCompaction(valueset::backend::MemoryBackend);

impl valueset::backend::Backend for NoCompaction {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, valueset::backend::BackendError> {
        self.0.get(key)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut valueset::backend::Visit<'_>,
    ) -> Result<(), valueset::backend::BackendError> {
        self.0.scan(start, end, reverse, visit)
    }

    fn apply(
        &self,
        batch: valueset::backend::Batch,
    ) -> Result<(), valueset::backend::BackendError> {
        self.0.apply(batch)
    }

    fn compact(&self) -> Result<(), valueset::backend::BackendError> {
        Err(valueset::backend::BackendError::with_kind(
            valueset::backend::BackendErrorKind::NoSpace,
            "no space left to compact",
        ))
    }
}

#[test]
fn a_purge_that_landed_is_not_a_failure_when_compaction_fails() -> valueset::Result<()> {
    let store = valueset::Store::builder().open_with_backend(NoCompaction::default())?;
    let w = World::with_store(store);
    let old = w.set("A", "old");
    w.set("A", "new");
    let outcome = w.store.purge(
        &w.admin,
        &w.app,
        None,
        old.into(),
        &key("A"),
        WriteOptions::default(),
    )?;
    // The purge is recorded and stands; the failed compaction is said
    // separately, with its own code.
    let compaction = outcome.compaction.expect("compaction failed");
    assert_eq!(compaction.code(), "no_space");
    let history = w
        .store
        .history(&w.admin, &w.app, None, Default::default())?;
    assert_eq!(history[0].id, outcome.version.id);
    assert_eq!(
        w.values_at(None, at(&old.to_string())),
        pairs(&[("A", "~")])
    );
    w.store.verify(&w.admin)?;
    Ok(())
}

/// A managed secret store that keeps what it is given but cannot delete.
#[derive(Debug)]
struct NoDelete(valueset::secret::MemorySecretStore);

impl valueset::secret::SecretStore for NoDelete {
    fn id(&self) -> &'static str {
        "nodelete"
    }

    fn get(
        &self,
        r: &valueset::secret::SecretRef,
    ) -> Result<valueset::Secret, valueset::secret::SecretStoreError> {
        self.0.get(r)
    }

    fn is_writable(&self) -> bool {
        true
    }

    fn put(
        &self,
        name: &str,
        s: &valueset::Secret,
    ) -> Result<valueset::secret::SecretRef, valueset::secret::SecretStoreError> {
        self.0.put(name, s)
    }

    fn delete(
        &self,
        _: &valueset::secret::SecretRef,
    ) -> Result<(), valueset::secret::SecretStoreError> {
        Err(valueset::secret::SecretStoreError::Unavailable {
            store: "nodelete".into(),
            message: "down".into(),
        })
    }
}

#[test]
fn a_deletion_that_landed_is_not_a_failure_when_what_follows_fails() -> valueset::Result<()> {
    let store = valueset::Store::builder()
        .secret_store(NoDelete(valueset::secret::MemorySecretStore::new(
            "nodelete",
        )))
        .open_with_backend(NoCompaction::default())?;
    let w = World::with_store(store);
    w.set("A", "app");
    let secret = |s: &str| valueset::model::NewValue::secret(valueset::Secret::new(s.into()));
    let (env, app) = (Some(&w.prod), &w.app);
    let options = valueset::store::SetOptions::default();
    w.store
        .set(&w.admin, app, env, &key("A"), secret("canary-env"), options)?;
    // The Environment goes, its secret's store and the compaction fail:
    // both said, neither an error.
    let outcome = w.store.delete_env(&w.admin, app, &w.prod)?;
    assert_eq!(outcome.compaction.map(|e| e.code()), Some("no_space"));
    let codes: Vec<&str> = outcome
        .secrets_not_deleted
        .iter()
        .map(valueset::secret::SecretStoreError::code)
        .collect();
    assert_eq!(codes, ["secret_store_unavailable"]);
    assert_eq!(w.store.envs(&w.admin, app)?, std::slice::from_ref(&w.dev));
    // The App too.
    let options = valueset::store::SetOptions::default();
    w.store.set(
        &w.admin,
        app,
        None,
        &key("S"),
        secret("canary-app"),
        options,
    )?;
    let outcome = w.store.delete_app(&w.admin, app)?;
    assert_eq!(outcome.compaction.map(|e| e.code()), Some("no_space"));
    assert_eq!(outcome.secrets_not_deleted.len(), 1);
    assert!(w.store.apps(&w.admin)?.is_empty());
    Ok(())
}

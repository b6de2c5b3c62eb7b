//! Writing values: [`Store::set`], [`Store::describe`], [`Store::delete`]
//! and [`Store::apply`] for several changes as one version. Each checks the
//! actor, then commits through the history engine under the write lock.

use std::collections::BTreeMap;

use crate::access::Action;
use crate::codec::{self, AppMeta, EnvMeta};
use crate::error::{Error, InvalidInput, NotFound};
use crate::history::{self, Commit, Plan, Planned, Scope};
use crate::id::{AppId, Key};
use crate::model::{Actor, NewValue, ResultOf, VersionInfo};
use crate::placeholder::Template;

use super::{
    MAX_COMMENT_LEN, MAX_DESCRIPTION_LEN, SetOptions, Store, WriteOptions, check_len, retrying,
};

/// Checks each value to set (its size; a template's syntax) and plans it.
fn plans(
    set: Vec<(Key, NewValue, Option<String>)>,
    max: usize,
) -> Result<BTreeMap<Key, Planned>, Error> {
    let mut planned = BTreeMap::new();
    for (key, value, description) in set {
        if value.len() > max {
            return Err(InvalidInput::ValueTooLong {
                key,
                len: value.len(),
                max,
            }
            .into());
        }
        let plan = match value {
            NewValue::Plain(v) => Plan::Plain(v),
            NewValue::Template(v) => {
                Template::parse(&v)?;
                Plan::Template(v)
            }
            NewValue::Secret(s) => Plan::Secret(s),
            NewValue::SecretRef { store, reference } => Plan::Reference { store, reference },
        };
        planned.insert(key, Planned { plan, description });
    }
    Ok(planned)
}

/// Several changes made as one version (guide: [Bulk changes](crate::_documentation::guide#bulk-changes)), applied in order: delete
/// all, delete, set.
#[derive(Debug, Default)]
pub struct ChangeSet {
    delete_all: bool,
    delete: Vec<Key>,
    set: Vec<(Key, NewValue, Option<String>)>,
}

impl Store {
    /// Sets a value: the App's base value, or with `options.env` an
    /// Environment override. One new version.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without write access; [`NotFound`] for the App or
    /// Environment; [`Error::NoBaseValue`] for an override of a key without
    /// an App value; [`InvalidInput::ValueTooLong`]; [`Error::Template`]
    /// for a template with syntax errors and [`Error::TemplateCycle`] for
    /// one that would use itself at its level; [`Error::Conflict`]
    /// when `options.expect` is not current; [`Error::SecretStore`] when the
    /// secret cannot be stored or its store is unknown.
    pub fn set(
        &self,
        actor: &Actor,
        app: &AppId,
        key: &Key,
        value: NewValue,
        options: SetOptions,
    ) -> Result<VersionInfo, Error> {
        let changes = ChangeSet::new().set_described(key.clone(), value, options.description);
        self.apply(
            actor,
            app,
            changes,
            WriteOptions {
                env: options.env,
                cascade: false,
                comment: options.comment,
                expect: options.expect,
                dry_run: options.dry_run,
            },
        )
    }

    /// Changes only a value's description. One new version; the secret
    /// version does not change.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set), and [`NotFound::Key`] when the key has no value
    /// at that level.
    // Options by value, as every write takes them; each attempt reads them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn describe(
        &self,
        actor: &Actor,
        app: &AppId,
        key: &Key,
        description: String,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let mut planned = BTreeMap::new();
        planned.insert(
            key.clone(),
            Planned {
                plan: Plan::Describe,
                description: Some(description),
            },
        );
        self.commit_plan(actor, app, &planned, &options)
    }

    /// Deletes a value. Deleting an App value that Environments override is
    /// refused unless `options.cascade`, which deletes the overrides too.
    ///
    /// # Errors
    ///
    /// [`NotFound::Key`] when there is no such value; [`Error::OverriddenInEnvs`]
    /// naming the Environments; the errors of [`set`](Self::set).
    pub fn delete(
        &self,
        actor: &Actor,
        app: &AppId,
        key: &Key,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        self.apply(actor, app, ChangeSet::new().delete(key.clone()), options)
    }

    /// Applies several changes as one version, all or nothing (guide: [Bulk changes](crate::_documentation::guide#bulk-changes)).
    ///
    /// ```
    /// use valueset::{Actor, AppId, Key, Store};
    /// use valueset::model::NewValue;
    /// use valueset::store::{ChangeSet, WriteOptions};
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let app = AppId::new("shop")?;
    /// store.create_app(&admin, &app)?;
    /// let batch = ChangeSet::new()
    ///     .set(Key::new("A")?, NewValue::plain("1"))
    ///     .set(Key::new("B")?, NewValue::plain("2"));
    /// let version = store.apply(&admin, &app, batch, WriteOptions::default())?;
    /// assert_eq!(version.change.len(), 2);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The errors of [`set`](Self::set) and [`delete`](Self::delete); when
    /// any change fails, none is made. [`InvalidInput::EmptyBatch`] for a
    /// batch that asks for no change.
    // Options by value, as every write takes them; each attempt reads them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn apply(
        &self,
        actor: &Actor,
        app: &AppId,
        changes: ChangeSet,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        if !changes.delete_all && changes.delete.is_empty() && changes.set.is_empty() {
            return Err(InvalidInput::EmptyBatch.into());
        }
        let planned = plans(changes.set, self.inner.max_value_len)?;
        let deletes = (changes.delete_all, changes.delete);
        let cascade = options.cascade;
        retrying(|| {
            let planned = duplicate(&planned);
            self.commit_with_deletes(actor, app, planned, &deletes, cascade, options.clone())
        })
    }

    /// One attempt at a batch: checks the keys to delete, adds them to the
    /// plan and commits.
    fn commit_with_deletes(
        &self,
        actor: &Actor,
        app: &AppId,
        mut planned: BTreeMap<Key, Planned>,
        (delete_all, deletes): &(bool, Vec<Key>),
        cascade: bool,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let env = options.env.clone();
        let _guard = self.lock();
        let (meta, env_meta) = self.open_scope(actor, Action::WriteValues, app, env.as_ref())?;
        let prefix = codec::history_prefix(app, env.as_ref());
        let reader = self.reader();
        // One seek per named key: a change costs what it touches, not the
        // size of the App.
        for key in deletes {
            let live = reader
                .entry_at(&prefix, key, u64::MAX)?
                .is_some_and(|(_, e)| e.is_live());
            if !live {
                return Err(NotFound::Key {
                    key: key.clone(),
                    env: env.clone(),
                }
                .into());
            }
        }
        let delete_keys: Vec<Key> = if *delete_all {
            reader
                .entries_at(app, env.as_ref(), u64::MAX)?
                .into_keys()
                .collect()
        } else {
            deletes.clone()
        };
        for key in delete_keys {
            planned.entry(key).or_insert(Planned {
                plan: Plan::Delete,
                description: None,
            });
        }
        let result_of = (*delete_all && planned.values().all(|p| matches!(p.plan, Plan::Delete)))
            .then(|| {
                if env.is_some() {
                    ResultOf::EnvValuesDelete
                } else {
                    ResultOf::AppValuesDelete
                }
            });
        let commit = Commit {
            planned,
            cascade,
            result_of,
            source: None,
            comment: String::new(),
            dry_run: false,
        };
        self.commit_locked(actor, app, (&meta, env_meta.as_ref()), commit, options)
    }

    /// Commits `commit` (whose comment is taken from `options`) on the App's
    /// and Environment's bookkeeping `metas`, which the caller read under
    /// the write lock it holds: checks `options.expect`, and commits on the
    /// condition that the bookkeeping is still what was read. The caller
    /// retries on a backend conflict.
    pub(super) fn commit_locked(
        &self,
        actor: &Actor,
        app: &AppId,
        (meta, env_meta): (&AppMeta, Option<&EnvMeta>),
        mut commit: Commit,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        check_len(|| "comment".to_owned(), &options.comment, MAX_COMMENT_LEN)?;
        for (key, p) in &commit.planned {
            if let Some(d) = &p.description {
                check_len(|| format!("description of `{key}`"), d, MAX_DESCRIPTION_LEN)?;
            }
        }
        let scope = Scope {
            app,
            env: options.env.as_ref().zip(env_meta),
        };
        self.check_expect(scope, options.expect)?;
        commit.comment = options.comment;
        commit.dry_run = options.dry_run;
        history::commit(self.ctx(actor), scope, meta, commit)
    }

    /// Commits a plan that does not depend on the current values (a
    /// description change), retrying on a backend conflict.
    fn commit_plan(
        &self,
        actor: &Actor,
        app: &AppId,
        planned: &BTreeMap<Key, Planned>,
        options: &WriteOptions,
    ) -> Result<VersionInfo, Error> {
        retrying(|| {
            let _guard = self.lock();
            let (meta, env_meta) =
                self.open_scope(actor, Action::WriteValues, app, options.env.as_ref())?;
            let commit = Commit {
                planned: duplicate(planned),
                cascade: options.cascade,
                result_of: None,
                source: None,
                comment: String::new(),
                dry_run: false,
            };
            let metas = (&meta, env_meta.as_ref());
            self.commit_locked(actor, app, metas, commit, options.clone())
        })
    }
}

/// A copy of a plan for another attempt.
pub(super) fn duplicate(planned: &BTreeMap<Key, Planned>) -> BTreeMap<Key, Planned> {
    planned
        .iter()
        .map(|(k, p)| (k.clone(), p.duplicate()))
        .collect()
}

impl ChangeSet {
    /// No changes yet.
    pub fn new() -> Self {
        ChangeSet::default()
    }

    /// Deletes every value first.
    #[must_use]
    pub fn delete_all(mut self) -> Self {
        self.delete_all = true;
        self
    }

    /// Deletes `key` (it must exist).
    #[must_use]
    pub fn delete(mut self, key: Key) -> Self {
        self.delete.push(key);
        self
    }

    /// Sets `key` to `value`, keeping its description.
    #[must_use]
    pub fn set(self, key: Key, value: NewValue) -> Self {
        self.set_described(key, value, None)
    }

    /// Sets `key` to `value` with a description (`None` keeps the current
    /// one).
    #[must_use]
    pub fn set_described(mut self, key: Key, value: NewValue, description: Option<String>) -> Self {
        self.set.push((key, value, description));
        self
    }
}

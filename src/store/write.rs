//! Writing values: [`Store::set`], [`Store::describe`], [`Store::delete`]
//! and [`Store::apply`] for several changes as one version. Each checks the
//! actor, then commits through the history engine under the write lock;
//! each has a dry run ([`Store::dry_run`]) that goes the same way and
//! writes nothing.

use std::collections::BTreeMap;

use crate::access::Action;
use crate::codec::{self, AppMeta};
use crate::error::{Error, InvalidInput, NotFound};
use crate::history::{self, Commit, Plan, Planned, Scope};
use crate::id::{AppId, EnvId, Key};
use crate::model::{Actor, NewValue, ResultOf, VersionId, VersionInfo};
use crate::placeholder::Template;

use super::{
    DeleteOptions, MAX_COMMENT_LEN, MAX_DESCRIPTION_LEN, SetOptions, Store, WriteOptions, check_len,
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

/// What a change takes besides its content: the level it is made at, its
/// comment, the version it expects to be current, and whether it is only a
/// dry run (checked and worked out, never written).
#[derive(Debug)]
pub(super) struct Change<'a> {
    pub(super) env: Option<&'a EnvId>,
    pub(super) comment: String,
    pub(super) expect: Option<VersionId>,
    pub(super) dry_run: bool,
}

impl Store {
    /// Sets a value at a level: the App's base value (`env` `None`), or an
    /// Environment's override. One new version.
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
        env: Option<&EnvId>,
        key: &Key,
        value: NewValue,
        options: SetOptions,
    ) -> Result<VersionInfo, Error> {
        self.set_with(actor, app, env, key, value, options, false)
    }

    /// Changes only a value's description. One new version; the secret
    /// version does not change.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set), and [`NotFound::Key`] when the key has no value
    /// at that level.
    pub fn describe(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        description: String,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let change = Change::of(env, options, false);
        self.describe_with(actor, app, key, description, &change)
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
        env: Option<&EnvId>,
        key: &Key,
        options: DeleteOptions,
    ) -> Result<VersionInfo, Error> {
        let changes = ChangeSet::new().delete(key.clone());
        self.apply(actor, app, env, changes, options)
    }

    /// Applies several changes at one level as one version, all or nothing
    /// (guide: [Bulk changes](crate::_documentation::guide#bulk-changes)).
    ///
    /// ```
    /// use valueset::{Actor, AppId, Key, Store};
    /// use valueset::model::NewValue;
    /// use valueset::store::{ChangeSet, DeleteOptions};
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let app = AppId::new("shop")?;
    /// store.create_app(&admin, &app)?;
    /// let batch = ChangeSet::new()
    ///     .set(Key::new("A")?, NewValue::plain("1"))
    ///     .set(Key::new("B")?, NewValue::plain("2"));
    /// let version = store.apply(&admin, &app, None, batch, DeleteOptions::default())?;
    /// assert_eq!(version.change.len(), 2);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The errors of [`set`](Self::set) and [`delete`](Self::delete); when
    /// any change fails, none is made. [`InvalidInput::EmptyBatch`] for a
    /// batch that asks for no change.
    pub fn apply(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        changes: ChangeSet,
        options: DeleteOptions,
    ) -> Result<VersionInfo, Error> {
        let cascade = options.cascade;
        let change = Change {
            env,
            comment: options.comment,
            expect: options.expect,
            dry_run: false,
        };
        self.apply_with(actor, app, changes, cascade, &change)
    }

    /// [`set`](Self::set), or its dry run.
    #[allow(clippy::too_many_arguments)] // set's own, and whether to write
    pub(super) fn set_with(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        value: NewValue,
        options: SetOptions,
        dry_run: bool,
    ) -> Result<VersionInfo, Error> {
        let changes = ChangeSet::new().set_described(key.clone(), value, options.description);
        let change = Change {
            env,
            comment: options.comment,
            expect: options.expect,
            dry_run,
        };
        self.apply_with(actor, app, changes, false, &change)
    }

    /// [`describe`](Self::describe), or its dry run.
    pub(super) fn describe_with(
        &self,
        actor: &Actor,
        app: &AppId,
        key: &Key,
        description: String,
        change: &Change<'_>,
    ) -> Result<VersionInfo, Error> {
        let mut planned = BTreeMap::new();
        planned.insert(
            key.clone(),
            Planned {
                plan: Plan::Describe,
                description: Some(description),
            },
        );
        self.writing(
            actor,
            Action::WriteValues,
            app,
            change.env,
            change.expect,
            |scope, meta| {
                let commit = Commit::new(duplicate(&planned));
                self.commit_at(actor, scope, meta, commit, change)
            },
        )
    }

    /// [`apply`](Self::apply), or its dry run.
    pub(super) fn apply_with(
        &self,
        actor: &Actor,
        app: &AppId,
        changes: ChangeSet,
        cascade: bool,
        change: &Change<'_>,
    ) -> Result<VersionInfo, Error> {
        if !changes.delete_all && changes.delete.is_empty() && changes.set.is_empty() {
            return Err(InvalidInput::EmptyBatch.into());
        }
        let planned = plans(changes.set, self.inner.max_value_len)?;
        let deletes = (changes.delete_all, changes.delete);
        self.writing(
            actor,
            Action::WriteValues,
            app,
            change.env,
            change.expect,
            |scope, meta| {
                let mut commit = self.with_deletes(scope, duplicate(&planned), &deletes)?;
                commit.cascade = cascade;
                self.commit_at(actor, scope, meta, commit, change)
            },
        )
    }

    /// A commit of `planned` and the keys to delete (each checked to have a
    /// value at the level).
    fn with_deletes(
        &self,
        scope: Scope<'_>,
        mut planned: BTreeMap<Key, Planned>,
        (delete_all, deletes): &(bool, Vec<Key>),
    ) -> Result<Commit, Error> {
        let env = scope.env_id();
        let prefix = codec::history_prefix(scope.app, env);
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
                    env: env.cloned(),
                }
                .into());
            }
        }
        let delete_keys: Vec<Key> = if *delete_all {
            reader
                .entries_at(scope.app, env, u64::MAX)?
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
        let all_deletes = planned.values().all(|p| matches!(p.plan, Plan::Delete));
        let mut commit = Commit::new(planned);
        commit.result_of = (*delete_all && all_deletes).then(|| {
            if env.is_some() {
                ResultOf::EnvValuesDelete
            } else {
                ResultOf::AppValuesDelete
            }
        });
        Ok(commit)
    }

    /// Commits `commit` at `scope`, whose App bookkeeping `meta` the caller
    /// read under the write lock it holds ([`writing`](Self::writing)),
    /// with the comment and dry run of `change`: the commit stands only if
    /// the bookkeeping is still what was read.
    pub(super) fn commit_at(
        &self,
        actor: &Actor,
        scope: Scope<'_>,
        meta: &AppMeta,
        mut commit: Commit,
        change: &Change<'_>,
    ) -> Result<VersionInfo, Error> {
        check_len(|| "comment".to_owned(), &change.comment, MAX_COMMENT_LEN)?;
        for (key, p) in &commit.planned {
            if let Some(d) = &p.description {
                check_len(|| format!("description of `{key}`"), d, MAX_DESCRIPTION_LEN)?;
            }
        }
        commit.comment.clone_from(&change.comment);
        commit.dry_run = change.dry_run;
        history::commit(self.ctx(actor), scope, meta, commit)
    }
}

impl<'a> Change<'a> {
    /// A change at `env` with `options`.
    pub(super) fn of(env: Option<&'a EnvId>, options: WriteOptions, dry_run: bool) -> Self {
        Change {
            env,
            comment: options.comment,
            expect: options.expect,
            dry_run,
        }
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

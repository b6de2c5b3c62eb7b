//! [`Store`]: the versioned value store (SPEC 1–4, 6, 7), and its builder.
//!
//! Every operation checks the actor's permission first and changes nothing
//! when refused. Writes to the store are serialized by one lock; reads take
//! no lock, because a version, once written, never changes (except that a
//! purge drops content).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::access::{self, Action};
use crate::backend::{Backend, Batch, MemoryBackend, SledBackend};
use crate::codec::{self, AppMeta, Entry, EnvMeta, State};
use crate::crypto::{DigestKey, MasterKey, same_check};
use crate::error::{Error, InvalidInput, NotFound};
use crate::history::write::{self, Commit, Ctx, Plan, Planned, SecretStores};
use crate::history::{Reader, Scope};
use crate::id::{AppId, EnvId, Key};
use crate::model::{
    Actor, Clock, Content, NewValue, OrgRole, SecretInfo, SnapshotValue, Source, SystemClock,
    Timestamp, ValueView, Version, VersionId, VersionInfo, VersionSelector,
};
use crate::resolve::{Context, LookupError, Resolver, Value, Values};
use crate::secret::builtin::BuiltinSecretStore;
use crate::secret::{MemorySecretStore, SecretStore};

/// The default limit on a value's size: 1 MiB.
pub const DEFAULT_MAX_VALUE_LEN: usize = 1 << 20;

/// The default number of versions [`Store::history`] returns.
pub const DEFAULT_HISTORY_LIMIT: usize = 50;

/// A versioned, hierarchical store of values and secrets.
///
/// Cheap to clone (clones share the store) and safe to share between
/// threads.
///
/// ```
/// use valueset::{Actor, AppId, EnvId, Key, Secret, Store};
/// use valueset::model::NewValue;
/// use valueset::store::SetOptions;
///
/// let store = Store::in_memory();
/// let admin = Actor::admin("alice");
/// let app = AppId::new("shop")?;
/// let prod = EnvId::new("production")?;
/// store.create_app(&admin, &app)?;
/// store.create_env(&admin, &app, &prod)?;
///
/// let host = Key::new("db.host")?;
/// store.set(&admin, &app, &host, NewValue::plain("db.dev"), SetOptions::default())?;
/// store.set(&admin, &app, &host, NewValue::plain("db.prod"), SetOptions { env: Some(prod.clone()), ..SetOptions::default() })?;
/// assert_eq!(store.get(&admin, &app, &host, Some(&prod))?.plain(), Some("db.prod"));
/// assert_eq!(store.get(&admin, &app, &host, None)?.plain(), Some("db.dev"));
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn Backend>,
    digest_key: DigestKey,
    builtin: Option<Arc<BuiltinSecretStore>>,
    clock: Arc<dyn Clock>,
    secrets: SecretStores,
    max_value_len: usize,
    write: Mutex<()>,
}

/// Builds a [`Store`]. Defaults: an in-memory backend, the system clock,
/// values up to [`DEFAULT_MAX_VALUE_LEN`], and for submitted secrets: with a
/// [`master_key`](Self::master_key) or a durable backend, the built-in store
/// (id `builtin`: encrypted at rest in the store's own database), otherwise a
/// [`MemorySecretStore`] with id `memory`.
#[must_use]
pub struct StoreBuilder {
    backend: Option<Arc<dyn Backend>>,
    durable: bool,
    master_key: Option<MasterKey>,
    clock: Arc<dyn Clock>,
    managed: Option<Arc<dyn SecretStore>>,
    references: Vec<Arc<dyn SecretStore>>,
    max_value_len: usize,
}

/// Options of [`Store::set`].
#[derive(Clone, Debug, Default)]
pub struct SetOptions {
    /// Set an Environment override instead of the App value.
    pub env: Option<EnvId>,
    /// The description; `None` keeps the current one (empty for a new key).
    pub description: Option<String>,
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`] unless this is the current version.
    pub expect: Option<VersionId>,
}

/// Options of [`Store::delete`], [`Store::describe`], [`Store::apply`],
/// [`Store::restore`] and [`Store::purge`].
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Change an Environment's overrides instead of the App values.
    pub env: Option<EnvId>,
    /// For [`Store::delete`] and [`Store::apply`]: delete the Environment
    /// overrides of deleted App values too, in the same version (SPEC 2).
    pub cascade: bool,
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`] unless this is the current version.
    pub expect: Option<VersionId>,
}

/// Options of [`Store::history`].
#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    /// The Environment's history instead of the App's.
    pub env: Option<EnvId>,
    /// Only versions that changed this key.
    pub key_changed: Option<Key>,
    /// At most this many versions; `None` is [`DEFAULT_HISTORY_LIMIT`].
    pub limit: Option<usize>,
    /// Only versions older than this one (the next page).
    pub before: Option<VersionId>,
}

/// Several changes made as one version (SPEC 3.2), applied in order: delete
/// all, delete, set.
#[derive(Debug, Default)]
pub struct ChangeSet {
    delete_all: bool,
    delete: Vec<Key>,
    set: Vec<(Key, NewValue, Option<String>)>,
}

/// What [`Store::verify`] checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Apps whose histories verify.
    pub apps: usize,
    /// Version records checked.
    pub versions: usize,
    /// Value entries checked.
    pub entries: usize,
    /// Secrets whose content was checked against its keyed digest.
    pub secrets_checked: usize,
}

/// Which keys a restore puts back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RestoreKeys {
    /// Every key: the values become exactly those of the version.
    #[default]
    All,
    /// Only these keys; one absent in the version is deleted.
    Only(Vec<Key>),
}

/// The values of one Environment at one version, for resolving templates
/// (SPEC 5.4). Implements [`Values`]; secrets are read from their stores only
/// when a placeholder needs them.
pub struct Snapshot {
    store: Arc<Inner>,
    version: VersionId,
    values: BTreeMap<Key, Entry>,
    secrets_allowed: bool,
    context: Context,
}

impl Store {
    /// An empty store in memory, with the defaults of [`StoreBuilder`].
    pub fn in_memory() -> Store {
        Store::builder().in_memory()
    }

    /// Opens (or creates) a durable store in the sled directory `dir`,
    /// without a master key: plain values work, secrets need
    /// [`StoreBuilder::master_key`].
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database cannot be opened;
    /// [`Error::UnsupportedFormat`] for data of another format.
    pub fn open(dir: impl AsRef<std::path::Path>) -> Result<Store, Error> {
        Store::builder().open(dir)
    }

    /// Checks the whole history of every App the actor may read: each
    /// version follows the one before it and holds the values it committed
    /// to, each value matches its digest (secrets too, when the master key
    /// is there), and purged values keep their digests (SPEC 7).
    ///
    /// ```
    /// use valueset::{Actor, AppId, Key, Store};
    /// use valueset::model::NewValue;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// store.create_app(&admin, &AppId::new("shop")?)?;
    /// store.set(&admin, &AppId::new("shop")?, &Key::new("A")?, NewValue::plain("1"), Default::default())?;
    /// let report = store.verify(&admin)?;
    /// assert_eq!((report.apps, report.versions), (1, 1));
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Tampered`] naming the App and the first broken version;
    /// [`Error::Corrupted`] for records that do not decode.
    pub fn verify(&self, actor: &Actor) -> Result<VerifyReport, Error> {
        let mut report = VerifyReport::default();
        for app in self.apps(actor)? {
            let v = crate::history::verify::verify_app(
                self.reader(),
                &app,
                &self.inner.digest_key,
                &self.inner.secrets,
            )?;
            report.apps += 1;
            report.versions += v.versions;
            report.entries += v.entries;
            report.secrets_checked += v.secrets_checked;
        }
        Ok(report)
    }

    /// Makes every change so far durable (sled also flushes on its own,
    /// every 500 ms and on drop).
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the storage cannot be flushed.
    pub fn flush(&self) -> Result<(), Error> {
        Ok(self.inner.backend.flush()?)
    }

    /// Re-encrypts every secret of the built-in store under `new`, and checks
    /// `new` from then on, in one atomic batch: an interrupted rotation
    /// leaves the old key working.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; `missing_master_key`
    /// when the store has no current key; `decrypt_failed` when a stored
    /// secret does not open.
    pub fn rotate_master_key(&self, actor: &Actor, new: &MasterKey) -> Result<(), Error> {
        access::check_org(actor, Action::RotateMasterKey)?;
        let builtin = self.inner.builtin.as_ref().ok_or_else(|| {
            Error::from(crate::secret::SecretStoreError::MissingMasterKey {
                store: "builtin".to_owned(),
            })
        })?;
        let _guard = self.lock();
        let mut batch = builtin.reseal_all(new)?;
        batch.insert(KEYCHECK_KEY.to_vec(), new.check_value().to_vec());
        let sealed = self
            .inner
            .digest_key
            .seal(&new.encryption_key())
            .map_err(|_| Error::Corrupted {
                what: "the digest key could not be sealed".to_owned(),
            })?;
        batch.insert(DIGEST_KEY_KEY.to_vec(), sealed);
        self.inner.backend.apply(batch)?;
        builtin.set_key(new);
        Ok(())
    }

    /// A builder, for a backend, a clock or secret stores of your own.
    pub fn builder() -> StoreBuilder {
        StoreBuilder {
            backend: None,
            durable: false,
            master_key: None,
            clock: Arc::new(SystemClock),
            managed: None,
            references: Vec::new(),
            max_value_len: DEFAULT_MAX_VALUE_LEN,
        }
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            backend: &*self.inner.backend,
        }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.inner
            .write
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn app_meta(&self, app: &AppId) -> Result<AppMeta, Error> {
        self.reader()
            .app_meta(app)?
            .ok_or_else(|| NotFound::App { app: app.clone() }.into())
    }

    fn env_meta(&self, app: &AppId, env: &EnvId) -> Result<EnvMeta, Error> {
        self.reader().env_meta(app, env)?.ok_or_else(|| {
            NotFound::Env {
                app: app.clone(),
                env: env.clone(),
            }
            .into()
        })
    }

    /// Checks `action`, then the App (and Environment) exist: what every
    /// operation on values does first.
    fn open_scope(
        &self,
        actor: &Actor,
        action: Action,
        app: &AppId,
        env: Option<&EnvId>,
    ) -> Result<(AppMeta, Option<EnvMeta>), Error> {
        access::check(actor, action, app)?;
        let meta = self.app_meta(app)?;
        let env_meta = env.map(|e| self.env_meta(app, e)).transpose()?;
        Ok((meta, env_meta))
    }

    fn ctx<'s>(&'s self, actor: &'s Actor) -> Ctx<'s> {
        Ctx {
            backend: &*self.inner.backend,
            secrets: &self.inner.secrets,
            digest_key: &self.inner.digest_key,
            now: self.inner.clock.now(),
            actor: actor.name(),
        }
    }

    fn check_expect(&self, scope: Scope<'_>, expect: Option<VersionId>) -> Result<(), Error> {
        if let Some(expected) = expect {
            let current = self.reader().latest(scope)?.map(|s| scope.id_for(s));
            if current != Some(expected) {
                return Err(Error::Conflict { current });
            }
        }
        Ok(())
    }

    // ---- Apps and Environments ----

    /// Creates an App.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator or Manager;
    /// [`Error::AlreadyExists`].
    pub fn create_app(&self, actor: &Actor, app: &AppId) -> Result<(), Error> {
        access::check(actor, Action::CreateApp, app)?;
        let _guard = self.lock();
        if self.reader().app_meta(app)?.is_some() {
            return Err(Error::AlreadyExists {
                what: format!("app `{app}`"),
            });
        }
        let meta = AppMeta {
            created_at: self.inner.clock.now(),
            next_seq: 1,
            last_hash: [0; 32],
        };
        let mut batch = Batch::new();
        batch.insert(codec::app_key(app), meta.encode());
        Ok(self.inner.backend.apply(batch)?)
    }

    /// Deletes an App: its values, Environments, histories and the secrets
    /// the library stored for it; never secrets behind references (SPEC 2,
    /// 4.5).
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; [`NotFound::App`].
    pub fn delete_app(&self, actor: &Actor, app: &AppId) -> Result<(), Error> {
        access::check(actor, Action::DeleteApp, app)?;
        let _guard = self.lock();
        self.app_meta(app)?;
        self.delete_ranges(&codec::app_ranges(app))
    }

    /// Removes every key in `ranges` in one batch, with the built-in store's
    /// secrets their entries held; secrets in another managed store after.
    fn delete_ranges(&self, ranges: &[(Vec<u8>, Vec<u8>)]) -> Result<(), Error> {
        let mut batch = Batch::new();
        let mut managed = Vec::new();
        for (start, end) in ranges {
            let mut keys = Vec::new();
            self.inner.backend.scan(start, end, false, &mut |k, v| {
                keys.push((k.to_vec(), (k.first() == Some(&b'H')).then(|| v.to_vec())));
                ControlFlow::Continue(())
            })?;
            for (k, v) in keys {
                if let Some(v) = v {
                    if let State::Managed { store, reference } = Entry::decode(&v)?.state {
                        if !self
                            .inner
                            .secrets
                            .remove_into(&mut batch, &store, &reference)
                        {
                            managed.push((store, reference));
                        }
                    }
                }
                batch.remove(k);
            }
        }
        self.inner.backend.apply(batch)?;
        for (store, reference) in managed {
            self.inner.secrets.get(&store)?.delete(&reference)?;
        }
        Ok(())
    }

    /// The Apps the actor may read, in id order.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] or [`Error::Corrupted`] when storage fails.
    pub fn apps(&self, actor: &Actor) -> Result<Vec<AppId>, Error> {
        let mut apps = self.reader().apps()?;
        apps.retain(|a| {
            access::allows(actor, Action::ReadValues, a) || actor.org_role() == OrgRole::Manager
        });
        Ok(apps)
    }

    /// Creates an Environment of an App. It has the App's history until its
    /// first override.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator or Manager;
    /// [`NotFound::App`]; [`Error::AlreadyExists`].
    pub fn create_env(&self, actor: &Actor, app: &AppId, env: &EnvId) -> Result<(), Error> {
        access::check(actor, Action::CreateEnv, app)?;
        let _guard = self.lock();
        self.app_meta(app)?;
        if self.reader().env_meta(app, env)?.is_some() {
            return Err(Error::AlreadyExists {
                what: format!("environment `{env}` of app `{app}`"),
            });
        }
        let meta = EnvMeta {
            created_at: self.inner.clock.now(),
            diverged_at: None,
            last_hash: [0; 32],
        };
        let mut batch = Batch::new();
        batch.insert(codec::env_key(app, env), meta.encode());
        Ok(self.inner.backend.apply(batch)?)
    }

    /// Deletes an Environment: its overrides, its history and the secrets the
    /// library stored for it.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; [`NotFound::App`],
    /// [`NotFound::Env`].
    pub fn delete_env(&self, actor: &Actor, app: &AppId, env: &EnvId) -> Result<(), Error> {
        access::check(actor, Action::DeleteEnv, app)?;
        let _guard = self.lock();
        self.app_meta(app)?;
        self.env_meta(app, env)?;
        let mut ranges = codec::env_ranges(app, env);
        for (key, _) in self.reader().entries_at(app, Some(env), u64::MAX)? {
            let index = codec::override_index_key(app, &key, env);
            let end = codec::successor(&index);
            ranges.push((index, end));
        }
        self.delete_ranges(&ranges)
    }

    /// The Environments of an App, in id order.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound::App`].
    pub fn envs(&self, actor: &Actor, app: &AppId) -> Result<Vec<EnvId>, Error> {
        self.open_scope(actor, Action::ReadValues, app, None)?;
        Ok(self
            .reader()
            .envs(app)?
            .into_iter()
            .map(|(e, _)| e)
            .collect())
    }

    // ---- writing values ----

    /// Sets a value: the App's base value, or with `options.env` an
    /// Environment override. One new version.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without write access; [`NotFound`] for the App or
    /// Environment; [`Error::NoBaseValue`] for an override of a key without
    /// an App value; [`InvalidInput::ValueTooLong`]; [`Error::Conflict`]
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
        self.commit(actor, app, planned, None, None, options)
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

    /// Applies several changes as one version, all or nothing (SPEC 3.2).
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
    /// any change fails, none is made.
    pub fn apply(
        &self,
        actor: &Actor,
        app: &AppId,
        changes: ChangeSet,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let max = self.inner.max_value_len;
        for (key, value, _) in &changes.set {
            if value.len() > max {
                return Err(InvalidInput::ValueTooLong {
                    key: key.clone(),
                    len: value.len(),
                    max,
                }
                .into());
            }
        }
        let cascade = options.cascade;
        let (planned, deletes) = {
            let mut planned = BTreeMap::new();
            for (key, value, description) in changes.set {
                let plan = match value {
                    NewValue::Plain(v) => Plan::Plain(v),
                    NewValue::Secret(s) => Plan::Secret(s),
                    NewValue::SecretRef { store, reference } => {
                        Plan::Reference { store, reference }
                    }
                };
                planned.insert(key, Planned { plan, description });
            }
            (planned, (changes.delete_all, changes.delete))
        };
        self.commit_with_deletes(actor, app, planned, deletes, cascade, options)
    }

    fn commit_with_deletes(
        &self,
        actor: &Actor,
        app: &AppId,
        mut planned: BTreeMap<Key, Planned>,
        (delete_all, deletes): (bool, Vec<Key>),
        cascade: bool,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let env = options.env.clone();
        let (meta, env_meta) = self.open_scope(actor, Action::WriteValues, app, env.as_ref())?;
        let _guard = self.lock();
        let prefix = codec::history_prefix(app, env.as_ref());
        let reader = self.reader();
        // One seek per named key: a change costs what it touches, not the
        // size of the App.
        for key in &deletes {
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
        let delete_keys: Vec<Key> = if delete_all {
            reader
                .entries_at(app, env.as_ref(), u64::MAX)?
                .into_keys()
                .collect()
        } else {
            deletes
        };
        for key in delete_keys {
            planned.entry(key).or_insert(Planned {
                plan: Plan::Delete,
                description: None,
            });
        }
        let result_of = (delete_all && planned.values().all(|p| matches!(p.plan, Plan::Delete)))
            .then(|| {
                if env.is_some() {
                    crate::model::ResultOf::EnvValuesDelete
                } else {
                    crate::model::ResultOf::AppValuesDelete
                }
            });
        self.commit_locked(
            actor,
            app,
            &meta,
            env_meta.as_ref(),
            planned,
            cascade,
            result_of,
            None,
            options,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_locked(
        &self,
        actor: &Actor,
        app: &AppId,
        meta: &AppMeta,
        env_meta: Option<&EnvMeta>,
        planned: BTreeMap<Key, Planned>,
        cascade: bool,
        result_of: Option<crate::model::ResultOf>,
        source: Option<VersionId>,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        // Re-read under the lock: another writer may have committed since.
        let meta = self.reader().app_meta(app)?.unwrap_or_else(|| meta.clone());
        let env_meta = match (&options.env, env_meta) {
            (Some(env), Some(_)) => Some(self.env_meta(app, env)?),
            _ => None,
        };
        let scope = Scope {
            app,
            env: options.env.as_ref().zip(env_meta.as_ref()),
        };
        self.check_expect(scope, options.expect)?;
        write::commit(
            self.ctx(actor),
            scope,
            &meta,
            Commit {
                planned,
                cascade,
                result_of,
                source,
                comment: options.comment,
            },
        )
    }

    fn commit(
        &self,
        actor: &Actor,
        app: &AppId,
        planned: BTreeMap<Key, Planned>,
        result_of: Option<crate::model::ResultOf>,
        source: Option<VersionId>,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let (meta, env_meta) =
            self.open_scope(actor, Action::WriteValues, app, options.env.as_ref())?;
        let _guard = self.lock();
        let cascade = options.cascade;
        self.commit_locked(
            actor,
            app,
            &meta,
            env_meta.as_ref(),
            planned,
            cascade,
            result_of,
            source,
            options,
        )
    }

    /// Puts the values of `version` back as one new version (SPEC 3.3).
    /// History is never rewritten. In an Environment, acts on its overrides
    /// only.
    ///
    /// # Errors
    ///
    /// [`NotFound::Version`]; [`Error::Purged`] naming a purged key in the
    /// restored set; [`Error::NoBaseValue`] for an override whose App value is
    /// gone; [`Error::OverriddenInEnvs`] when the restore would delete an App
    /// value that Environments override; the errors of [`set`](Self::set).
    pub fn restore(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionSelector,
        keys: RestoreKeys,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let (meta, env_meta) =
            self.open_scope(actor, Action::WriteValues, app, options.env.as_ref())?;
        let _guard = self.lock();
        let env_meta = match &options.env {
            Some(env) => Some(self.env_meta(app, env)?),
            None => env_meta,
        };
        let scope = Scope {
            app,
            env: options.env.as_ref().zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let target = reader.resolve(scope, version)?;
        let target_id = scope.id_for(target);
        let keys = match keys {
            RestoreKeys::All => None,
            RestoreKeys::Only(keys) => Some(keys),
        };
        let planned = write::plan_restore(reader, scope, target, target_id, keys.as_deref())?;
        let result_of = if options.env.is_some() {
            crate::model::ResultOf::EnvValueSetVersionRestore
        } else {
            crate::model::ResultOf::AppValueSetVersionRestore
        };
        self.commit_locked(
            actor,
            app,
            &meta,
            env_meta.as_ref(),
            planned,
            false,
            Some(result_of),
            Some(target_id),
            options,
        )
    }

    /// Removes one value from history, for good (SPEC 3.4). `version` must be
    /// the version whose change introduced the value, and the value must not
    /// be the key's current one. The purge is recorded as a version.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless app Owner or org Administrator;
    /// [`NotFound::Version`]; [`Error::PurgeRefused`] with the constraint
    /// that failed.
    pub fn purge(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionId,
        key: &Key,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        self.open_scope(actor, Action::Purge, app, options.env.as_ref())?;
        let _guard = self.lock();
        let meta = self.app_meta(app)?;
        let env_meta = options
            .env
            .as_ref()
            .map(|e| self.env_meta(app, e))
            .transpose()?;
        let scope = Scope {
            app,
            env: options.env.as_ref().zip(env_meta.as_ref()),
        };
        self.check_expect(scope, options.expect)?;
        let seq = self.reader().resolve(scope, VersionSelector::Id(version))?;
        write::purge(
            self.ctx(actor),
            scope,
            &meta,
            seq,
            version,
            key,
            options.comment,
        )
    }

    // ---- reading ----

    /// The effective value of `key`: in `env`, its override if any, else the
    /// App value. Never a secret's content.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound`] for the
    /// App, Environment or key.
    pub fn get(
        &self,
        actor: &Actor,
        app: &AppId,
        key: &Key,
        env: Option<&EnvId>,
    ) -> Result<ValueView, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let reader = self.reader();
        if let Some(env) = env {
            if env_meta.is_some_and(|m| m.diverged_at.is_some()) {
                if let Some((_, e)) =
                    reader.entry_at(&codec::history_prefix(app, Some(env)), key, u64::MAX)?
                {
                    if e.is_live() {
                        return view(key.clone(), Source::Env, e)
                            .ok_or_else(|| unknown_key(key, Some(env)));
                    }
                }
            }
        }
        match reader.entry_at(&codec::history_prefix(app, None), key, u64::MAX)? {
            Some((_, e)) if e.is_live() => {
                view(key.clone(), Source::App, e).ok_or_else(|| unknown_key(key, env))
            }
            _ => Err(unknown_key(key, env)),
        }
    }

    /// Every effective value: the App's, with `env`'s overrides on top.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn list(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
    ) -> Result<Vec<ValueView>, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        let values = self.reader().snapshot(scope, u64::MAX)?;
        Ok(values
            .into_iter()
            .filter_map(|(k, (is_override, _, e))| {
                view(
                    k,
                    if is_override {
                        Source::Env
                    } else {
                        Source::App
                    },
                    e,
                )
            })
            .collect())
    }

    /// A version with every value as it stood (a snapshot, SPEC 3).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), and [`NotFound::Version`].
    pub fn version(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionSelector,
        env: Option<&EnvId>,
    ) -> Result<Version, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let seq = reader.resolve(scope, version)?;
        let info = reader.info(scope, seq)?;
        let values = reader
            .snapshot(scope, seq)?
            .into_iter()
            .map(|(k, (is_override, _, e))| {
                let source = if is_override {
                    Source::Env
                } else {
                    Source::App
                };
                let value = match view(k.clone(), source, e) {
                    Some(v) => SnapshotValue::Value(v),
                    None => SnapshotValue::Purged {
                        key: k.clone(),
                        source,
                    },
                };
                (k, value)
            })
            .collect();
        Ok(Version { info, values })
    }

    /// The history, newest first (SPEC 3.5).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get); [`NotFound::Version`] for a `before` not in
    /// this history.
    pub fn history(
        &self,
        actor: &Actor,
        app: &AppId,
        options: HistoryOptions,
    ) -> Result<Vec<VersionInfo>, Error> {
        let HistoryOptions {
            env,
            key_changed,
            limit,
            before,
        } = options;
        let env = env.as_ref();
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let before = match before {
            Some(id) => reader.resolve(scope, VersionSelector::Id(id))?,
            None => u64::MAX,
        };
        let limit = limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
        match &key_changed {
            Some(key) => reader.key_changed(scope, key, before, limit),
            None => reader
                .seqs(scope, before, limit)?
                .into_iter()
                .map(|seq| reader.info(scope, seq))
                .collect(),
        }
    }

    /// The values of `env` at `version`, for resolving templates of a
    /// deployment (SPEC 5.4). A caller who may not resolve secrets (an app
    /// Viewer) gets a snapshot in which every secret is refused.
    ///
    /// ```
    /// use valueset::{Actor, AppId, EnvId, Key, Secret, Store};
    /// use valueset::model::{NewValue, VersionSelector};
    /// use valueset::store::SetOptions;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    /// store.create_app(&admin, &app)?;
    /// store.create_env(&admin, &app, &prod)?;
    /// store.set(&admin, &app, &Key::new("PW")?, NewValue::secret(Secret::new("s3cr3t".into())), SetOptions::default())?;
    /// let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    /// let url = snapshot.resolver().resolve_str("pg://app:${values.PW}@${context.env.id}")?;
    /// assert_eq!(url.as_secret().map(Secret::expose_secret), Some("pg://app:s3cr3t@prod"));
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`version`](Self::version).
    pub fn snapshot(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
        version: VersionSelector,
    ) -> Result<Snapshot, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, Some(env))?;
        let scope = Scope {
            app,
            env: Some(env).zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let seq = reader.resolve(scope, version)?;
        let values = reader
            .snapshot(scope, seq)?
            .into_iter()
            .map(|(k, (_, _, e))| (k, e))
            .collect();
        Ok(Snapshot {
            store: Arc::clone(&self.inner),
            version: scope.id_for(seq),
            values,
            secrets_allowed: access::allows(actor, Action::ResolveSecrets, app),
            context: Context {
                app: Some(app.to_string()),
                env: Some(env.to_string()),
                ..Context::default()
            },
        })
    }

    /// The backend, for callers that flush or inspect it.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.inner.backend
    }
}

fn unknown_key(key: &Key, env: Option<&EnvId>) -> Error {
    NotFound::Key {
        key: key.clone(),
        env: env.cloned(),
    }
    .into()
}

/// A read view of an entry; `None` when its content was purged (or it is a
/// deletion).
fn view(key: Key, source: Source, entry: Entry) -> Option<ValueView> {
    let content = match entry.state {
        State::Deleted | State::Purged => return None,
        State::Plain(v) => Content::Plain(v),
        State::Managed { store, reference } => Content::Secret(SecretInfo {
            secret_version: entry.secret_version.unwrap_or(1),
            secret_store_id: store,
            secret_ref: reference,
            managed: true,
        }),
        State::Reference { store, reference } => Content::Secret(SecretInfo {
            secret_version: entry.secret_version.unwrap_or(1),
            secret_store_id: store,
            secret_ref: reference,
            managed: false,
        }),
    };
    Some(ValueView {
        key,
        description: entry.description,
        source,
        created_at: entry.created_at,
        updated_at: entry.updated_at,
        content,
    })
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend)
            .field("secret_store", &self.inner.secrets.managed.id())
            .field("max_value_len", &self.inner.max_value_len)
            .finish_non_exhaustive()
    }
}

impl StoreBuilder {
    /// Stores data in `backend`.
    pub fn backend(mut self, backend: impl Backend) -> Self {
        self.backend = Some(Arc::new(backend));
        self.durable = true;
        self
    }

    /// The master key that submitted secrets are encrypted under (SPEC 4.4).
    /// A store remembers a check value of its key: opening it with another
    /// key is [`Error::WrongMasterKey`].
    pub fn master_key(mut self, key: MasterKey) -> Self {
        self.master_key = Some(key);
        self
    }

    /// Takes the time of changes from `clock` (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Keeps submitted secrets in `store`, which must be writable (default: a
    /// [`MemorySecretStore`] with id `memory`). References may name it too.
    pub fn secret_store(mut self, store: impl SecretStore) -> Self {
        self.managed = Some(Arc::new(store));
        self
    }

    /// Registers a store that secret references may name (read at resolve
    /// time only; never written or deleted by the library).
    pub fn reference_store(mut self, store: impl SecretStore) -> Self {
        self.references.push(Arc::new(store));
        self
    }

    /// Refuses values longer than `max` bytes (default
    /// [`DEFAULT_MAX_VALUE_LEN`]).
    pub fn max_value_len(mut self, max: usize) -> Self {
        self.max_value_len = max;
        self
    }

    /// Builds a store in memory (ignoring any backend given).
    ///
    /// # Panics
    ///
    /// Never: an empty in-memory backend has no format or key to refuse, and
    /// its writes cannot fail.
    pub fn in_memory(mut self) -> Store {
        self.backend = Some(Arc::new(MemoryBackend::new()));
        self.durable = false;
        self.build().expect(
            "an empty in-memory backend has no format or key to refuse, and its writes cannot fail",
        )
    }

    /// Opens (or creates) a durable store in the sled directory `dir`.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database cannot be opened;
    /// [`Error::UnsupportedFormat`] for data of another format;
    /// [`Error::WrongMasterKey`].
    pub fn open(mut self, dir: impl AsRef<std::path::Path>) -> Result<Store, Error> {
        self.backend = Some(Arc::new(SledBackend::open(dir)?));
        self.durable = true;
        self.build()
    }

    /// Builds the store over the backend given (in memory if none), checking
    /// the data's format and the master key.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedFormat`]; [`Error::WrongMasterKey`];
    /// [`Error::Backend`].
    pub fn build(self) -> Result<Store, Error> {
        let backend = self
            .backend
            .unwrap_or_else(|| Arc::new(MemoryBackend::new()));
        check_format(&*backend)?;
        let digest_key = match &self.master_key {
            Some(key) => {
                check_master_key(&*backend, key)?;
                load_digest_key(&*backend, key)?
            }
            None => DigestKey::without_master_key(),
        };
        let builtin = (self.master_key.is_some() || self.durable).then(|| {
            Arc::new(BuiltinSecretStore::new(
                Arc::clone(&backend),
                self.master_key.as_ref(),
            ))
        });
        let builtin_managed = match (&self.managed, &builtin) {
            (None, Some(b)) => Some(Arc::clone(b)),
            _ => None,
        };
        let managed: Arc<dyn SecretStore> = match (self.managed, &builtin) {
            (Some(m), _) => m,
            (None, Some(b)) => Arc::clone(b) as Arc<dyn SecretStore>,
            (None, None) => Arc::new(MemorySecretStore::new("memory")),
        };
        let mut by_id = BTreeMap::new();
        for store in self.references {
            by_id.insert(store.id().to_owned(), store);
        }
        if let Some(b) = &builtin {
            by_id.insert(b.id().to_owned(), Arc::clone(b) as Arc<dyn SecretStore>);
        }
        by_id.insert(managed.id().to_owned(), Arc::clone(&managed));
        Ok(Store {
            inner: Arc::new(Inner {
                backend,
                digest_key,
                builtin,
                clock: self.clock,
                secrets: SecretStores {
                    managed,
                    builtin_managed,
                    by_id,
                },
                max_value_len: self.max_value_len,
                write: Mutex::new(()),
            }),
        })
    }
}

/// Where the data's format is kept.
const FORMAT_KEY: &[u8] = b"\xFFformat";
/// Where the master key's check value is kept.
const KEYCHECK_KEY: &[u8] = b"\xFFkeycheck";

/// Writes the format on first use; refuses data of another format.
fn check_format(backend: &dyn Backend) -> Result<(), Error> {
    if let Some(v) = backend.get(FORMAT_KEY)? {
        return match v.as_slice() {
            [f] if *f == codec::FORMAT => Ok(()),
            [f] => Err(Error::UnsupportedFormat {
                found: *f,
                supported: codec::FORMAT,
            }),
            _ => Err(codec::corrupted("the format marker")),
        };
    }
    let mut any = false;
    backend.scan(&[], &[0xFF; 8], false, &mut |_, _| {
        any = true;
        ControlFlow::Break(())
    })?;
    if any {
        return Err(Error::Corrupted {
            what: "the database holds data but no format marker".to_owned(),
        });
    }
    let mut batch = Batch::new();
    batch.insert(FORMAT_KEY.to_vec(), vec![codec::FORMAT]);
    Ok(backend.apply(batch)?)
}

/// Where the digest key is kept, sealed under the master key.
const DIGEST_KEY_KEY: &[u8] = b"\xFFdigestkey";

/// The store's digest key: made and sealed on first use, opened after.
fn load_digest_key(backend: &dyn Backend, master: &MasterKey) -> Result<DigestKey, Error> {
    let encryption = master.encryption_key();
    if let Some(sealed) = backend.get(DIGEST_KEY_KEY)? {
        return DigestKey::open(&encryption, &sealed).map_err(|_| Error::Corrupted {
            what: "the sealed digest key does not open".to_owned(),
        });
    }
    let key = DigestKey::generate();
    let sealed = key.seal(&encryption).map_err(|_| Error::Corrupted {
        what: "the digest key could not be sealed".to_owned(),
    })?;
    let mut batch = Batch::new();
    batch.insert(DIGEST_KEY_KEY.to_vec(), sealed);
    backend.apply(batch)?;
    Ok(key)
}

/// Writes the key's check value on first use; refuses another key.
fn check_master_key(backend: &dyn Backend, key: &MasterKey) -> Result<(), Error> {
    let check = key.check_value();
    match backend.get(KEYCHECK_KEY)? {
        Some(stored) if same_check(&stored, &check) => Ok(()),
        Some(_) => Err(Error::WrongMasterKey),
        None => {
            let mut batch = Batch::new();
            batch.insert(KEYCHECK_KEY.to_vec(), check.to_vec());
            Ok(backend.apply(batch)?)
        }
    }
}

impl fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("max_value_len", &self.max_value_len)
            .finish_non_exhaustive()
    }
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

impl Snapshot {
    /// The version the values are from.
    pub fn version(&self) -> VersionId {
        self.version
    }

    /// A resolver over these values, with `context.app.id` and
    /// `context.env.id` set.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver::new(self).with_context(self.context.clone())
    }
}

impl Values for Snapshot {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        let Some(entry) = self.values.get(key) else {
            return Ok(None);
        };
        match &entry.state {
            State::Deleted => Ok(None),
            State::Plain(v) => Ok(Some(Value::Plain(std::borrow::Cow::Borrowed(v)))),
            State::Purged => Err(LookupError::Purged),
            State::Managed { store, reference } | State::Reference { store, reference } => {
                if !self.secrets_allowed {
                    return Err(LookupError::Forbidden);
                }
                let store = self.store.secrets.by_id.get(store).ok_or_else(|| {
                    crate::secret::SecretStoreError::UnknownStore {
                        store: store.clone(),
                    }
                })?;
                Ok(Some(Value::OwnedSecret(store.get(reference)?)))
            }
        }
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Store>();
    is::<Snapshot>();
    let _ = Timestamp::default;
}

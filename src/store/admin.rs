//! Apps and Environments: creating, listing and deleting them. Deleting one
//! deletes its values, its history and the secrets the library stored for
//! it, never those behind secret references.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use crate::access::{self, Action};
use crate::backend::{BackendError, Batch};
use crate::codec::{self, AppMeta, Entry, EnvMeta, State};
use crate::error::Error;
use crate::id::{AppId, EnvId};
use crate::model::{Actor, AppInfo, DEFAULT_ENV_TYPE, EnvInfo, MAX_NAME_LEN, OrgRole};
use crate::secret::{SecretRef, SecretStoreError};

use super::{AppOptions, EnvOptions, Store, authorize, check_len};

/// What deleting an App or an Environment did besides the deletion, which
/// stands whatever this says: its values, history and the built-in store's
/// secrets are gone from every read.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct DeleteOutcome {
    /// Why compacting the storage after the deletion failed; `None` when
    /// it was compacted. [`Store::compact`] takes the deleted data off the
    /// disk.
    pub compaction: Option<BackendError>,
    /// Secrets the library had stored for what was deleted in a managed
    /// store other than the built-in one, which that store failed to
    /// delete: nothing refers to them any more; delete them there.
    pub secrets_not_deleted: Vec<SecretStoreError>,
}

impl Store {
    /// Creates an App, named by its id
    /// ([`create_app_with`](Self::create_app_with) gives it a name).
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator or Manager;
    /// [`Error::AlreadyExists`].
    pub fn create_app(&self, actor: &Actor, app: &AppId) -> Result<(), Error> {
        self.create_app_with(actor, app, AppOptions::default())
    }

    /// Creates an App with a name; who created it is kept
    /// ([`app`](Self::app) reads both).
    ///
    /// # Errors
    ///
    /// As [`create_app`](Self::create_app); [`Error::Invalid`] for a name
    /// longer than [`MAX_NAME_LEN`].
    pub fn create_app_with(
        &self,
        actor: &Actor,
        app: &AppId,
        options: AppOptions,
    ) -> Result<(), Error> {
        authorize(actor, Action::CreateApp, app)?;
        let name = checked_name("app name", options.name)?;
        self.exclusively(|| {
            if self.reader().app_meta(app)?.is_some() {
                return Err(Error::AlreadyExists {
                    what: format!("app `{app}`"),
                });
            }
            let meta = AppMeta {
                created_at: self.inner.clock.now(),
                next_seq: 1,
                last_hash: [0; 32],
                name: name.clone().unwrap_or_default(),
                created_by: actor.name().to_owned(),
            };
            let mut batch = Batch::new();
            batch.expect(codec::app_key(app), None);
            batch.insert(codec::app_key(app), meta.encode());
            Ok(self.inner.backend.apply(batch)?)
        })
    }

    /// An App: its name, and when and by whom it was created.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound::App`](crate::error::NotFound::App).
    pub fn app(&self, actor: &Actor, app: &AppId) -> Result<AppInfo, Error> {
        let (meta, _) = self.open_scope(actor, Action::ReadValues, app, None)?;
        Ok(app_info(app, meta))
    }

    /// Renames an App; `None` in `options` keeps what it is.
    ///
    /// # Errors
    ///
    /// As [`create_app_with`](Self::create_app_with), and
    /// [`NotFound::App`](crate::error::NotFound::App).
    pub fn update_app(
        &self,
        actor: &Actor,
        app: &AppId,
        options: AppOptions,
    ) -> Result<AppInfo, Error> {
        authorize(actor, Action::CreateApp, app)?;
        let name = checked_name("app name", options.name)?;
        self.exclusively(|| {
            let meta = self.app_meta(app)?;
            let next = AppMeta {
                name: name.clone().unwrap_or_else(|| meta.name.clone()),
                ..meta.clone()
            };
            let mut batch = Batch::new();
            batch.expect(codec::app_key(app), Some(meta.encode()));
            batch.insert(codec::app_key(app), next.encode());
            self.inner.backend.apply(batch)?;
            Ok(app_info(app, next))
        })
    }

    /// Deletes an App: its values, Environments, histories and the secrets
    /// the library stored for it; never secrets behind references (guide:
    /// [The hierarchy](crate::_documentation::guide#the-hierarchy),
    /// [Lifecycle of secrets](crate::_documentation::guide#lifecycle-of-secrets)).
    /// The storage is compacted before this returns, so the deleted data is
    /// gone from the disk too.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; [`NotFound::App`](crate::error::NotFound::App);
    /// [`Error::Backend`] when the deletion could not be made. A deletion
    /// that was made is never an error: what failed after it (the
    /// compaction, deleting secrets in another store) is in the
    /// [`DeleteOutcome`].
    pub fn delete_app(&self, actor: &Actor, app: &AppId) -> Result<DeleteOutcome, Error> {
        authorize(actor, Action::DeleteApp, app)?;
        self.exclusively(|| {
            let meta = self.app_meta(app)?;
            let expect = vec![(codec::app_key(app), meta.encode())];
            self.delete_ranges(&codec::app_ranges(app), expect)
        })
    }

    /// Removes every key in `ranges` in one batch, with the built-in store's
    /// secrets their entries held, on the condition that each key of
    /// `expect` still holds its value (no other writer changed the App
    /// meanwhile); secrets in another managed store after, then the
    /// storage compacted.
    fn delete_ranges(
        &self,
        ranges: &[(Vec<u8>, Vec<u8>)],
        expect: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<DeleteOutcome, Error> {
        let mut batch = Batch::new();
        for (key, value) in expect {
            batch.expect(key, Some(value));
        }
        let mut managed = Vec::new();
        for (start, end) in ranges {
            let mut keys = Vec::new();
            self.inner.backend.scan(start, end, false, &mut |k, v| {
                keys.push((k.to_vec(), (k.first() == Some(&b'H')).then(|| v.to_vec())));
                ControlFlow::Continue(())
            })?;
            for (k, v) in keys {
                if let Some(v) = v
                    && let State::Managed { store, reference } = Entry::decode(&v)?.state
                    && !self
                        .inner
                        .secrets
                        .remove_into(&mut batch, &store, &reference)
                {
                    managed.push((store, reference));
                }
                batch.remove(k);
            }
        }
        self.inner.backend.apply(batch)?;
        // A key's secrets are versions of one name in another store, and a
        // level's entries name only its own keys' secrets: each name goes
        // whole, every version at once.
        let names: BTreeSet<(String, String)> = managed
            .into_iter()
            .map(|(store, reference)| (store, reference.reference))
            .collect();
        let mut outcome = DeleteOutcome::default();
        for (store, name) in names {
            let deleted = self
                .inner
                .secrets
                .get(&store)
                .and_then(|s| s.delete(&SecretRef::new(name)));
            outcome.secrets_not_deleted.extend(deleted.err());
        }
        outcome.compaction = self.inner.backend.compact().err();
        Ok(outcome)
    }

    /// The Apps the actor may read, in id order.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] or [`Error::Corrupted`] when storage fails.
    pub fn apps(&self, actor: &Actor) -> Result<Vec<AppId>, Error> {
        actor.check_name()?;
        let mut apps = self.reader().apps()?;
        apps.retain(|a| {
            access::allows(actor, Action::ReadValues, a) || actor.org_role() == OrgRole::Manager
        });
        Ok(apps)
    }

    /// Creates an Environment of an App, named by its id, of type
    /// [`DEFAULT_ENV_TYPE`] ([`create_env_with`](Self::create_env_with)
    /// gives both). It has the App's history until its first override.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator or Manager;
    /// [`NotFound::App`](crate::error::NotFound::App); [`Error::AlreadyExists`].
    pub fn create_env(&self, actor: &Actor, app: &AppId, env: &EnvId) -> Result<(), Error> {
        self.create_env_with(actor, app, env, EnvOptions::default())
    }

    /// Creates an Environment of an App with a name and a type; who
    /// created it is kept ([`env`](Self::env) reads them).
    ///
    /// # Errors
    ///
    /// As [`create_env`](Self::create_env); [`Error::Invalid`] for a name
    /// or type longer than [`MAX_NAME_LEN`].
    pub fn create_env_with(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
        options: EnvOptions,
    ) -> Result<(), Error> {
        authorize(actor, Action::CreateEnv, app)?;
        let name = checked_name("environment name", options.name)?;
        let env_type = checked_name("environment type", options.env_type)?;
        self.exclusively(|| {
            let app_meta = self.app_meta(app)?;
            if self.reader().env_meta(app, env)?.is_some() {
                return Err(Error::AlreadyExists {
                    what: format!("environment `{env}` of app `{app}`"),
                });
            }
            let meta = EnvMeta {
                created_at: self.inner.clock.now(),
                diverged_at: None,
                last_hash: [0; 32],
                name: name.clone().unwrap_or_default(),
                env_type: env_type.clone().unwrap_or_default(),
                created_by: actor.name().to_owned(),
            };
            let mut batch = Batch::new();
            batch.expect(codec::app_key(app), Some(app_meta.encode()));
            batch.expect(codec::env_key(app, env), None);
            batch.insert(codec::env_key(app, env), meta.encode());
            Ok(self.inner.backend.apply(batch)?)
        })
    }

    /// An Environment: its name, type, and when and by whom it was created.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound::App`](crate::error::NotFound::App),
    /// [`NotFound::Env`](crate::error::NotFound::Env).
    pub fn env(&self, actor: &Actor, app: &AppId, env: &EnvId) -> Result<EnvInfo, Error> {
        self.open_scope(actor, Action::ReadValues, app, None)?;
        Ok(env_info(env, self.env_meta(app, env)?))
    }

    /// Renames an Environment or changes its type; `None` in `options`
    /// keeps what it is.
    ///
    /// # Errors
    ///
    /// As [`create_env_with`](Self::create_env_with), and
    /// [`NotFound::Env`](crate::error::NotFound::Env).
    pub fn update_env(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
        options: EnvOptions,
    ) -> Result<EnvInfo, Error> {
        authorize(actor, Action::CreateEnv, app)?;
        let name = checked_name("environment name", options.name)?;
        let env_type = checked_name("environment type", options.env_type)?;
        self.exclusively(|| {
            let meta = self.env_meta(app, env)?;
            let next = EnvMeta {
                name: name.clone().unwrap_or_else(|| meta.name.clone()),
                env_type: env_type.clone().unwrap_or_else(|| meta.env_type.clone()),
                ..meta.clone()
            };
            let mut batch = Batch::new();
            batch.expect(codec::env_key(app, env), Some(meta.encode()));
            batch.insert(codec::env_key(app, env), next.encode());
            self.inner.backend.apply(batch)?;
            Ok(env_info(env, next))
        })
    }

    /// Deletes an Environment: its overrides, its history and the secrets the
    /// library stored for it. The storage is compacted before this returns,
    /// so the deleted data is gone from the disk too.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; [`NotFound::App`](crate::error::NotFound::App),
    /// [`NotFound::Env`](crate::error::NotFound::Env); [`Error::Backend`]
    /// when the deletion could not be made. What failed after a deletion
    /// that was made is in the [`DeleteOutcome`], as for
    /// [`delete_app`](Self::delete_app).
    pub fn delete_env(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
    ) -> Result<DeleteOutcome, Error> {
        authorize(actor, Action::DeleteEnv, app)?;
        self.exclusively(|| {
            let app_meta = self.app_meta(app)?;
            let env_meta = self.env_meta(app, env)?;
            let mut ranges = codec::env_ranges(app, env);
            for (key, _) in self.reader().entries_at(app, Some(env), u64::MAX)? {
                let index = codec::override_index_key(app, &key, env);
                let end = codec::successor(&index);
                ranges.push((index, end));
            }
            let expect = vec![
                (codec::app_key(app), app_meta.encode()),
                (codec::env_key(app, env), env_meta.encode()),
            ];
            self.delete_ranges(&ranges, expect)
        })
    }

    /// The Environments of an App, in id order.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound::App`](crate::error::NotFound::App).
    pub fn envs(&self, actor: &Actor, app: &AppId) -> Result<Vec<EnvId>, Error> {
        Ok(self
            .envs_info(actor, app)?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }

    /// The Environments of an App, in id order, with their names and types.
    ///
    /// # Errors
    ///
    /// As [`envs`](Self::envs).
    pub fn envs_info(&self, actor: &Actor, app: &AppId) -> Result<Vec<EnvInfo>, Error> {
        self.open_scope(actor, Action::ReadValues, app, None)?;
        Ok(self
            .reader()
            .envs(app)?
            .into_iter()
            .map(|(e, meta)| env_info(&e, meta))
            .collect())
    }
}

fn app_info(app: &AppId, meta: AppMeta) -> AppInfo {
    AppInfo {
        name: if meta.name.is_empty() {
            app.to_string()
        } else {
            meta.name
        },
        id: app.clone(),
        created_at: meta.created_at,
        created_by: meta.created_by,
    }
}

fn env_info(env: &EnvId, meta: EnvMeta) -> EnvInfo {
    EnvInfo {
        name: if meta.name.is_empty() {
            env.to_string()
        } else {
            meta.name
        },
        env_type: if meta.env_type.is_empty() {
            DEFAULT_ENV_TYPE.to_owned()
        } else {
            meta.env_type
        },
        id: env.clone(),
        created_at: meta.created_at,
        created_by: meta.created_by,
    }
}

/// A name or type as given, refused when longer than [`MAX_NAME_LEN`].
fn checked_name(what: &str, name: Option<String>) -> Result<Option<String>, Error> {
    if let Some(n) = &name {
        check_len(|| what.to_owned(), n, MAX_NAME_LEN)?;
    }
    Ok(name)
}

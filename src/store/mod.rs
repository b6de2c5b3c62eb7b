//! [`Store`]: the versioned value store (the [guide](crate::_documentation::guide)), and its builder.
//!
//! Every operation checks the actor's permission first and changes nothing
//! when refused. Writers take turns to plan, and the changes planned while
//! one is being written are written together (a group commit); reads take
//! no lock, because a version, once written, never changes (except that a
//! purge drops content).

mod admin;
mod builder;
mod diff;
mod dry_run;
mod export;
mod head;
mod maintenance;
mod opening;
mod options;
mod overlay;
mod pipeline;
mod read;
mod restore_purge;
mod snapshot;
mod tags;
mod watch;
mod write;

use std::fmt;
use std::sync::Arc;

use crate::access::{self, Action};
use crate::backend::{Backend, BackendErrorKind};
use crate::codec::{AppMeta, EnvMeta};
use crate::crypto::DigestKey;
use crate::error::{Error, NotFound};
use crate::history::{Ctx, Reader, Scope, SecretStores};
use crate::id::{AppId, EnvId};
use crate::model::{Actor, Clock, VersionId};
use crate::secret::SecretStoreInfo;

pub use admin::DeleteOutcome;
pub use builder::StoreBuilder;
pub use diff::DiffSide;
pub use dry_run::DryRun;
pub use export::{
    EXPORT_FORMAT, ExportDocument, ExportSecrets, ExportedEntry, ExportedHistory, ExportedName,
    ExportedNames, ExportedRef, ExportedTag, ExportedTagMove, ExportedValue, ExportedVersion,
};
pub use head::Head;
pub use maintenance::VerifyReport;
pub use options::{
    AppOptions, DeleteOptions, EnvOptions, HistoryOptions, RestoreKeys, SetOptions, WriteOptions,
};
pub use restore_purge::PurgeOutcome;
pub use snapshot::Snapshot;
pub use watch::{Watch, WatchEvent, WatchOptions};
pub use write::ChangeSet;

use crate::input::InvalidInput;

/// The default limit on a value's size: 1 MiB.
pub const DEFAULT_MAX_VALUE_LEN: usize = 1 << 20;

/// The default number of versions [`Store::history`] returns.
pub const DEFAULT_HISTORY_LIMIT: usize = 50;

/// The longest description of a value, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 4096;

/// The longest comment of a version, in bytes.
pub const MAX_COMMENT_LEN: usize = 4096;

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
/// store.set(&admin, &app, None, &host, NewValue::plain("db.dev"), SetOptions::default())?;
/// store.set(&admin, &app, Some(&prod), &host, NewValue::plain("db.prod"), SetOptions::default())?;
/// assert_eq!(store.get(&admin, &app, Some(&prod), &host)?.plain(), Some("db.prod"));
/// assert_eq!(store.get(&admin, &app, None, &host)?.plain(), Some("db.dev"));
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn Backend>,
    digest_key: DigestKey,
    clock: Arc<dyn Clock>,
    secrets: SecretStores,
    max_value_len: usize,
    template_depth: usize,
    pipeline: Arc<pipeline::Pipeline>,
}

impl Store {
    /// An empty store in memory, with the defaults of [`StoreBuilder`].
    pub fn in_memory() -> Store {
        StoreBuilder::default_in_memory()
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

    /// The id of the secret store that keeps the secrets given to
    /// [`set`](Self::set) (`builtin` unless
    /// [`StoreBuilder::secret_store`] named another).
    pub fn managed_secret_store(&self) -> &str {
        self.inner.secrets.managed.id()
    }

    /// The ids of every secret store this Store reads from (the managed
    /// one, the built-in one when there is a master key, and each
    /// reference store), in id order.
    pub fn secret_store_ids(&self) -> Vec<&str> {
        self.inner
            .secrets
            .by_id
            .keys()
            .map(String::as_str)
            .collect()
    }

    /// Every secret store this Store reads from, in id order, with what
    /// each says of itself (its kind and where it is, never a credential).
    pub fn secret_stores(&self) -> Vec<(&str, SecretStoreInfo)> {
        self.inner
            .secrets
            .by_id
            .iter()
            .map(|(id, store)| (id.as_str(), store.describe()))
            .collect()
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            backend: &*self.inner.backend,
        }
    }

    /// The write lock: the turn to plan a write (see `pipeline`).
    fn lock(&self) -> pipeline::Turn<'_> {
        self.inner.pipeline.turn()
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
        authorize(actor, action, app)?;
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

    /// Runs `attempt` under the write lock, and again while the storage
    /// refuses its commit because another writer came first.
    fn exclusively<T>(&self, mut attempt: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
        retrying(|| {
            let _guard = self.lock();
            attempt()
        })
    }

    /// Runs `attempt` on one level of `app`, as every change of values
    /// does: the actor checked for `action`, then, under the write lock,
    /// the App's (and Environment's) bookkeeping read and `expect` checked
    /// against the level's current version; again while another writer
    /// comes first. `attempt` gets the level and the App's bookkeeping.
    fn writing<T>(
        &self,
        actor: &Actor,
        action: Action,
        app: &AppId,
        env: Option<&EnvId>,
        expect: Option<VersionId>,
        mut attempt: impl FnMut(Scope<'_>, &AppMeta) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.exclusively(|| {
            let (meta, env_meta) = self.open_scope(actor, action, app, env)?;
            let scope = Scope {
                app,
                env: env.zip(env_meta.as_ref()),
            };
            self.check_expect(scope, expect)?;
            attempt(scope, &meta)
        })
    }

    fn check_expect(&self, scope: Scope<'_>, expect: Option<VersionId>) -> Result<(), Error> {
        if let Some(expected) = expect {
            let current = self.reader().latest(scope)?.map(|s| scope.id_for(s));
            // `a0`, which no caller can name (ids start at 1), is how the
            // service expects the empty history: nothing written yet.
            let empty = current.is_none() && expected == VersionId::app(0);
            if current != Some(expected) && !empty {
                return Err(Error::Conflict { current });
            }
        }
        Ok(())
    }
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

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Store>();
    is::<Snapshot>();
}

/// Refuses `text` longer than `max` bytes; `what` names it in the error.
fn check_len(what: impl FnOnce() -> String, text: &str, max: usize) -> Result<(), InvalidInput> {
    if text.len() > max {
        return Err(InvalidInput::TooLong {
            what: what(),
            len: text.len(),
            max,
        });
    }
    Ok(())
}

/// Checks the actor's name (versions record it), then that its roles
/// allow `action` on `app`.
fn authorize(actor: &Actor, action: Action, app: &AppId) -> Result<(), Error> {
    actor.check_name()?;
    Ok(access::check(actor, action, app)?)
}

/// As [`authorize`], for an action on the whole store.
fn authorize_org(actor: &Actor, action: Action) -> Result<(), Error> {
    actor.check_name()?;
    Ok(access::check_org(actor, action)?)
}

/// How long a write is planned and tried again before a conflict is
/// returned.
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits a little before attempt `tries + 1`: not at first, then a random
/// time up to a bound that doubles with each try (from 1 ms to 50 ms),
/// so writers that keep colliding spread out instead of colliding again.
fn backoff(tries: u32) {
    use std::hash::{BuildHasher, Hasher};
    if tries < 2 {
        return;
    }
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let cap = (250u64 << tries.min(8)).min(50_000);
    std::thread::sleep(std::time::Duration::from_micros(random % cap));
}

/// Runs `attempt` again while the storage refuses its commit because
/// another writer came first (a precondition failed). Each attempt reads
/// and plans afresh, so a retried change is planned on what is current;
/// an attempt with `expect` then fails with [`Error::Conflict`]. Writers
/// that keep colliding back off for a random, growing time; after
/// [`RETRY_FOR`] the conflict is returned (retryable).
fn retrying<T>(mut attempt: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let start = std::time::Instant::now();
    let mut tries = 1;
    loop {
        match attempt() {
            Err(Error::Backend(e))
                if e.kind() == BackendErrorKind::Conflict && start.elapsed() < RETRY_FOR =>
            {
                backoff(tries);
                tries += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewValue;

    /// `a0` is the empty history's name for the service: expected, a change
    /// lands only while its level has no version; any other id expected of
    /// an empty history is a conflict.
    #[test]
    fn a0_expects_the_empty_history() {
        let store = Store::in_memory();
        let admin = Actor::admin("alice");
        let app = AppId::new("shop").unwrap();
        store.create_app(&admin, &app).unwrap();
        let scope = Scope {
            app: &app,
            env: None,
        };
        let (a0, a1) = (VersionId::app(0), VersionId::app(1));
        store.check_expect(scope, Some(a0)).unwrap();
        store.check_expect(scope, None).unwrap();
        let e = store.check_expect(scope, Some(a1)).unwrap_err();
        assert_eq!(e.code(), "conflict");
        let key = crate::id::Key::new("A").unwrap();
        store
            .set(
                &admin,
                &app,
                None,
                &key,
                NewValue::plain("1"),
                SetOptions::default(),
            )
            .unwrap();
        store.check_expect(scope, Some(a1)).unwrap();
        let e = store.check_expect(scope, Some(a0)).unwrap_err();
        assert_eq!(e.code(), "conflict");
    }
}

//! [`StoreBuilder`]: how a [`Store`] is put together. How it ends says
//! where the data lives: [`in_memory`](StoreBuilder::in_memory),
//! [`open`](StoreBuilder::open) (a sled directory) or
//! [`open_with_backend`](StoreBuilder::open_with_backend).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::backend::{Backend, MemoryBackend, SledBackend};
use crate::crypto::{DigestKey, MasterKey};
use crate::error::Error;
use crate::history::SecretStores;
use crate::history::builtin::BuiltinSecretStore;
use crate::model::{Clock, SystemClock};
use crate::resolve::{DEFAULT_TEMPLATE_DEPTH, check_template_depth};
use crate::secret::{MemorySecretStore, SecretStore};

use super::pipeline::Pipeline;
use super::{DEFAULT_MAX_VALUE_LEN, Inner, Store};

/// Builds a [`Store`]: settings first, then one of three ways to end,
/// each of which says where the data lives.
///
/// | ends with | data lives | submitted secrets go, by default |
/// |---|---|---|
/// | [`in_memory`](Self::in_memory) | in this process, until the store is dropped | the built-in store with a [`master_key`](Self::master_key), else a [`MemorySecretStore`] with id `memory` |
/// | [`open`](Self::open)`(dir)` | in a sled directory that this process holds | the built-in store (id `builtin`: encrypted at rest in the store's own data), which needs a master key |
/// | [`open_with_backend`](Self::open_with_backend)`(backend)` | in any [`Backend`]: PostgreSQL, sled with another cache size, your own | as for `open` |
///
/// Other defaults: the system clock, values up to
/// [`DEFAULT_MAX_VALUE_LEN`], templates nested up to
/// [`DEFAULT_TEMPLATE_DEPTH`]. Every setting is checked when the builder
/// ends, which returns an error rather than panicking.
///
/// ```
/// use valueset::{MasterKey, Store};
///
/// let key = MasterKey::from_hex(&"42".repeat(32))?;
/// let store = Store::builder().master_key(key).max_value_len(4096).in_memory()?;
/// # let _ = store;
/// assert!(Store::builder().template_depth(0).in_memory().is_err());
/// # Ok::<(), valueset::Error>(())
/// ```
#[must_use]
pub struct StoreBuilder {
    master_key: Option<MasterKey>,
    clock: Arc<dyn Clock>,
    managed: Option<Arc<dyn SecretStore>>,
    references: Vec<Arc<dyn SecretStore>>,
    max_value_len: usize,
    template_depth: usize,
    durable_changes: bool,
}

/// Where a store's data lives, as far as its defaults care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keeps {
    /// Only in this process: secrets may stay in memory too.
    InMemory,
    /// In storage that outlives the process: secrets are sealed in it.
    Durably,
}

impl Store {
    /// A builder, for a master key, a backend, a clock or secret stores of
    /// your own.
    pub fn builder() -> StoreBuilder {
        StoreBuilder {
            master_key: None,
            clock: Arc::new(SystemClock),
            managed: None,
            references: Vec::new(),
            max_value_len: DEFAULT_MAX_VALUE_LEN,
            template_depth: DEFAULT_TEMPLATE_DEPTH,
            durable_changes: false,
        }
    }
}

impl StoreBuilder {
    /// The master key that submitted secrets are encrypted under (guide: [Secret stores](crate::_documentation::guide#secret-stores)).
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

    /// Keeps submitted secrets in `store`, which must be writable (default:
    /// the built-in store, or in memory without a master key; see
    /// [`StoreBuilder`]). References may name it too, but only secrets of
    /// their own App ([guide](crate::_documentation::guide#secret-stores)).
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

    /// How deep template values may nest when a [`Snapshot`](super::Snapshot)
    /// resolves them (default [`DEFAULT_TEMPLATE_DEPTH`], 16; guide:
    /// [Values that use values](crate::_documentation::guide#values-that-use-values)).
    /// The builder's end refuses 0 and more than
    /// [`MAX_TEMPLATE_DEPTH`](crate::resolve::MAX_TEMPLATE_DEPTH) (64).
    pub fn template_depth(mut self, depth: usize) -> Self {
        self.template_depth = depth;
        self
    }

    /// Makes every change durable before its call returns (default: off).
    ///
    /// On sled a change is in the store's log once its call returns, and
    /// sled makes the log durable on its own every 500 ms and when the store
    /// closes; with this on, the store flushes it ([`Store::flush`](super::Store::flush)) after
    /// every write, as a service that acknowledges a change must. Changes
    /// written together (see [`Store`](super::Store): writers queued while
    /// one is written) share one flush. On PostgreSQL every commit is
    /// durable anyway and this costs nothing; in memory it does nothing.
    pub fn durable_changes(mut self, on: bool) -> Self {
        self.durable_changes = on;
        self
    }

    /// Builds a store that keeps its data in this process's memory.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a template depth out of range.
    pub fn in_memory(self) -> Result<Store, Error> {
        self.finish(Arc::new(MemoryBackend::new()), Keeps::InMemory)
    }

    /// Opens (or creates) a durable store in the sled directory `dir`, with
    /// sled's page cache at its default size
    /// ([`DEFAULT_CACHE_CAPACITY`](crate::backend::DEFAULT_CACHE_CAPACITY),
    /// 64 MiB; for another, open a [`SledBackend`] with
    /// [`open_with_cache`](SledBackend::open_with_cache) and end with
    /// [`open_with_backend`](Self::open_with_backend)).
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the database cannot be opened (`busy` when
    /// another process holds it); [`Error::UnsupportedFormat`] for data of
    /// another format; [`Error::WrongMasterKey`]; [`Error::Invalid`] for a
    /// setting out of range.
    pub fn open(self, dir: impl AsRef<std::path::Path>) -> Result<Store, Error> {
        check_template_depth(self.template_depth)?;
        let backend = SledBackend::open(dir)?;
        self.finish(Arc::new(backend), Keeps::Durably)
    }

    /// Opens (or creates) a durable store in `backend`. Stores over one
    /// shared backend (several processes, or `Arc` clones of one backend in
    /// one process) may all open it at once, fresh or not; they agree on
    /// everything the first open writes.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with_backend(self, backend: impl Backend) -> Result<Store, Error> {
        self.finish(Arc::new(backend), Keeps::Durably)
    }

    /// Checks the settings, then the data's format and the master key
    /// (writing them into a fresh store).
    fn finish(self, backend: Arc<dyn Backend>, keeps: Keeps) -> Result<Store, Error> {
        check_template_depth(self.template_depth)?;
        let digest_key = super::opening::prepare(&*backend, self.master_key.as_ref())?;
        Ok(self.assemble(backend, digest_key, keeps))
    }

    /// A store in memory with every default: a fresh memory backend has no
    /// format to check, and without a master key no key to record, so
    /// nothing can fail.
    pub(super) fn default_in_memory() -> Store {
        let backend = Arc::new(MemoryBackend::new());
        Store::builder().assemble(backend, DigestKey::without_master_key(), Keeps::InMemory)
    }

    /// The store, once its storage has been checked.
    fn assemble(self, storage: Arc<dyn Backend>, digest_key: DigestKey, keeps: Keeps) -> Store {
        let pipeline = Arc::new(Pipeline::new(storage, self.durable_changes));
        let backend: Arc<dyn Backend> = Arc::clone(&pipeline) as Arc<dyn Backend>;
        let builtin = (self.master_key.is_some() || keeps == Keeps::Durably).then(|| {
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
        Store {
            inner: Arc::new(Inner {
                backend,
                digest_key,
                clock: self.clock,
                secrets: SecretStores {
                    managed,
                    builtin_managed,
                    builtin,
                    by_id,
                },
                max_value_len: self.max_value_len,
                template_depth: self.template_depth,
                pipeline,
            }),
        }
    }
}

impl fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("max_value_len", &self.max_value_len)
            .field("template_depth", &self.template_depth)
            .field("durable_changes", &self.durable_changes)
            .finish_non_exhaustive()
    }
}

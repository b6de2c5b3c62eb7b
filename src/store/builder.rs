//! [`StoreBuilder`]: how a [`Store`] is put together, and the checks made
//! when it opens (the data's format, the master key).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::backend::{Backend, DEFAULT_CACHE_CAPACITY, MemoryBackend, SledBackend};
use crate::crypto::MasterKey;
use crate::error::Error;
use crate::history::SecretStores;
use crate::history::builtin::BuiltinSecretStore;
use crate::model::{Clock, SystemClock};
use crate::resolve::{DEFAULT_TEMPLATE_DEPTH, check_template_depth};
use crate::secret::{MemorySecretStore, SecretStore};

use super::{DEFAULT_MAX_VALUE_LEN, Inner, Store};

/// Builds a [`Store`]. Defaults: an in-memory backend, the system clock,
/// values up to [`DEFAULT_MAX_VALUE_LEN`], and for submitted secrets: with a
/// [`master_key`](Self::master_key) or a durable backend, the built-in store
/// (id `builtin`: encrypted at rest in the store's own database), otherwise a
/// [`MemorySecretStore`] with id `memory`; a sled store keeps up to
/// [`DEFAULT_CACHE_CAPACITY`] (64 MiB) in memory.
#[must_use]
pub struct StoreBuilder {
    backend: Option<Arc<dyn Backend>>,
    durable: bool,
    master_key: Option<MasterKey>,
    clock: Arc<dyn Clock>,
    managed: Option<Arc<dyn SecretStore>>,
    references: Vec<Arc<dyn SecretStore>>,
    max_value_len: usize,
    cache_capacity: u64,
    template_depth: usize,
}

impl Store {
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
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            template_depth: DEFAULT_TEMPLATE_DEPTH,
        }
    }
}

impl StoreBuilder {
    /// Stores data in `backend`.
    pub fn backend(mut self, backend: impl Backend) -> Self {
        self.backend = Some(Arc::new(backend));
        self.durable = true;
        self
    }

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

    /// Keeps submitted secrets in `store`, which must be writable (default: a
    /// [`MemorySecretStore`] with id `memory`). References may name it too, but
    /// only secrets of their own App ([guide](crate::_documentation::guide#secret-stores)).
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
    /// [`build`](Self::build) refuses 0 and more than
    /// [`MAX_TEMPLATE_DEPTH`](crate::resolve::MAX_TEMPLATE_DEPTH) (64).
    pub fn template_depth(mut self, depth: usize) -> Self {
        self.template_depth = depth;
        self
    }

    /// Keeps up to `bytes` of a sled store in memory (default
    /// [`DEFAULT_CACHE_CAPACITY`], 64 MiB), for [`open`](Self::open): a
    /// service's memory stays plannable however large its store grows; a
    /// larger cache makes reads of a large store faster.
    pub fn cache_capacity(mut self, bytes: u64) -> Self {
        self.cache_capacity = bytes;
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
        let backend = SledBackend::open_with_cache(dir, self.cache_capacity)?;
        self.backend = Some(Arc::new(backend));
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
        check_template_depth(self.template_depth)?;
        let backend = self
            .backend
            .unwrap_or_else(|| Arc::new(MemoryBackend::new()));
        let digest_key = super::opening::prepare(&*backend, self.master_key.as_ref())?;
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
                clock: self.clock,
                secrets: SecretStores {
                    managed,
                    builtin_managed,
                    builtin,
                    by_id,
                },
                max_value_len: self.max_value_len,
                template_depth: self.template_depth,
                write: Mutex::new(()),
            }),
        })
    }
}

impl fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("max_value_len", &self.max_value_len)
            .field("template_depth", &self.template_depth)
            .finish_non_exhaustive()
    }
}

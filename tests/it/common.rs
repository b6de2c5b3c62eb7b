//! Shared set-up: a store with a deterministic clock, an admin, an App with
//! two Environments.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use valueset::backend::{Backend, BackendError, Batch, Changes, KeyRange, KeyValue, Visit};

use valueset::model::{NewValue, Timestamp, VersionSelector};
use valueset::store::{DeleteOptions, SetOptions, StoreBuilder};
use valueset::{Actor, AppId, EnvId, Key, Store, VersionId};

pub(crate) struct World {
    pub(crate) store: Store,
    pub(crate) admin: Actor,
    pub(crate) app: AppId,
    pub(crate) prod: EnvId,
    pub(crate) dev: EnvId,
}

/// A clock that ticks one second per reading, from a fixed start.
pub(crate) fn ticking_clock() -> impl Fn() -> Timestamp + Send + Sync + 'static {
    let t = Arc::new(AtomicI64::new(1_795_420_994_000));
    move || Timestamp::from_millis(t.fetch_add(1000, Ordering::SeqCst))
}

/// A store on the backend the tests run on: in memory, or, when
/// `VALUESET_TEST_BACKEND=postgres`, in a fresh table of the PostgreSQL
/// server at `VALUESET_TEST_POSTGRES` (with a master key, so that secrets
/// go to the built-in store as in production). A run that asks for
/// PostgreSQL fails, never skips, when it cannot have it.
pub(crate) fn test_store(builder: StoreBuilder) -> Store {
    match std::env::var("VALUESET_TEST_BACKEND").as_deref() {
        Err(_) | Ok("" | "memory") => builder.in_memory().unwrap(),
        Ok("postgres") => builder
            .master_key(valueset::MasterKey::from_bytes([0x42; 32]))
            .open_with_backend(postgres_backend())
            .expect("a store on the test server"),
        Ok(other) => panic!("VALUESET_TEST_BACKEND={other}: use memory or postgres"),
    }
}

/// The test server's URL: tests that need it fail, never skip, without it.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_url() -> String {
    std::env::var("VALUESET_TEST_POSTGRES").expect(
        "VALUESET_TEST_POSTGRES must name the test server (scripts/postgres-test-server start)",
    )
}

/// A table (or other) name no other test of any process has used:
/// `prefix`, the process id and a counter.
#[cfg(feature = "postgres")]
pub(crate) fn fresh_name(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fresh table on the test server.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_backend() -> valueset::backend::PostgresBackend {
    let url = postgres_url();
    valueset::backend::PostgresBackend::connect_table(&url, &fresh_name("t"))
        .unwrap_or_else(|e| panic!("the test server at {url}: {e}"))
}

#[cfg(not(feature = "postgres"))]
pub(crate) fn postgres_backend() -> valueset::backend::MemoryBackend {
    panic!("VALUESET_TEST_BACKEND=postgres needs `--features postgres`")
}

pub(crate) fn key(k: &str) -> Key {
    Key::new(k).unwrap()
}

pub(crate) fn id(v: &str) -> VersionId {
    v.parse().unwrap()
}

pub(crate) fn at(v: &str) -> VersionSelector {
    VersionSelector::Id(id(v))
}

impl World {
    pub(crate) fn new() -> World {
        World::with_store(test_store(Store::builder().clock(ticking_clock())))
    }

    /// The App and its Environments in `store`.
    pub(crate) fn with_store(store: Store) -> World {
        let admin = Actor::admin("alice");
        let app = AppId::new("shop").unwrap();
        let prod = EnvId::new("prod").unwrap();
        let dev = EnvId::new("dev").unwrap();
        store.create_app(&admin, &app).unwrap();
        store.create_env(&admin, &app, &prod).unwrap();
        store.create_env(&admin, &app, &dev).unwrap();
        World {
            store,
            admin,
            app,
            prod,
            dev,
        }
    }

    /// Sets an App value; returns the new version's id.
    pub(crate) fn set(&self, k: &str, v: &str) -> VersionId {
        self.store
            .set(
                &self.admin,
                &self.app,
                None,
                &key(k),
                NewValue::plain(v),
                SetOptions::default(),
            )
            .unwrap()
            .id
    }

    /// Sets an override in `env`.
    pub(crate) fn set_env(&self, env: &EnvId, k: &str, v: &str) -> VersionId {
        self.store
            .set(
                &self.admin,
                &self.app,
                Some(env),
                &key(k),
                NewValue::plain(v),
                SetOptions::default(),
            )
            .unwrap()
            .id
    }

    pub(crate) fn delete(&self, k: &str) -> valueset::Result<VersionId> {
        Ok(self
            .store
            .delete(
                &self.admin,
                &self.app,
                None,
                &key(k),
                DeleteOptions::default(),
            )?
            .id)
    }

    /// The effective plain value of `k` in `env` (or the App), if any.
    pub(crate) fn get(&self, env: Option<&EnvId>, k: &str) -> Option<String> {
        self.store
            .get(&self.admin, &self.app, env, &key(k))
            .ok()
            .and_then(|v| v.plain().map(str::to_owned))
    }

    /// Plain values of a version, `~` for purged, `*` for secrets.
    pub(crate) fn values_at(
        &self,
        env: Option<&EnvId>,
        v: VersionSelector,
    ) -> Vec<(String, String)> {
        let version = self.store.version(&self.admin, &self.app, env, v).unwrap();
        version
            .values
            .values()
            .map(|s| {
                let shown = match s.value() {
                    None => "~".to_owned(),
                    Some(v) => v.plain().map_or_else(|| "*".to_owned(), str::to_owned),
                };
                (s.key().to_string(), shown)
            })
            .collect()
    }
}

pub(crate) fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// A directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("valueset-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A backend (in memory unless made with [`Spy::over`]) that counts the
/// reads it serves (point reads and range scans; a seek is the reverse scan
/// `Backend::last_in` makes by default), the lists of seeks asked at once,
/// and the batches it applies.
#[derive(Debug)]
pub(crate) struct Spy {
    inner: Box<dyn Backend>,
    gets: AtomicUsize,
    scans: AtomicUsize,
    seek_lists: AtomicUsize,
    get_lists: AtomicUsize,
    applies: AtomicUsize,
    versions: AtomicUsize,
}

impl Default for Spy {
    fn default() -> Self {
        Spy::over(valueset::backend::MemoryBackend::new())
    }
}

impl Spy {
    pub(crate) fn over(inner: impl Backend) -> Self {
        Spy {
            inner: Box::new(inner),
            gets: AtomicUsize::new(0),
            scans: AtomicUsize::new(0),
            seek_lists: AtomicUsize::new(0),
            get_lists: AtomicUsize::new(0),
            applies: AtomicUsize::new(0),
            versions: AtomicUsize::new(0),
        }
    }

    pub(crate) fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    pub(crate) fn scans(&self) -> usize {
        self.scans.load(Ordering::SeqCst)
    }

    /// Calls of `Backend::last_in_each`: on PostgreSQL, a query each.
    pub(crate) fn seek_lists(&self) -> usize {
        self.seek_lists.load(Ordering::SeqCst)
    }

    /// Calls of `Backend::get_many`: on PostgreSQL, a query each.
    pub(crate) fn get_lists(&self) -> usize {
        self.get_lists.load(Ordering::SeqCst)
    }

    pub(crate) fn applies(&self) -> usize {
        self.applies.load(Ordering::SeqCst)
    }

    /// Applied batches that said they commit a version.
    pub(crate) fn versions(&self) -> usize {
        self.versions.load(Ordering::SeqCst)
    }
}

impl Backend for Spy {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key)
    }
    fn scan(&self, s: &[u8], e: &[u8], r: bool, v: &mut Visit<'_>) -> Result<(), BackendError> {
        self.scans.fetch_add(1, Ordering::SeqCst);
        self.inner.scan(s, e, r, v)
    }
    /// The trait's own way (a counted reverse scan per range), counted once
    /// more as one list.
    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, BackendError> {
        self.seek_lists.fetch_add(1, Ordering::SeqCst);
        ranges.iter().map(|(s, e)| self.last_in(s, e)).collect()
    }
    /// The trait's own way (a counted `get` per key), counted once more as
    /// one list.
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, BackendError> {
        self.get_lists.fetch_add(1, Ordering::SeqCst);
        keys.iter().map(|k| self.get(k)).collect()
    }
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        self.applies.fetch_add(1, Ordering::SeqCst);
        let version = batch.writes_version();
        self.inner.apply(batch)?;
        self.versions
            .fetch_add(usize::from(version), Ordering::SeqCst);
        Ok(())
    }
    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        self.inner.changes()
    }
}

/// The Vault test server (`scripts/openbao-test-server start` exports
/// `VALUESET_TEST_VAULT_ADDR` and `VALUESET_TEST_VAULT_TOKEN`): tests that
/// need it fail, never skip, without it.
#[cfg(feature = "vault")]
pub(crate) fn vault_server() -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} must name the Vault test server (scripts/openbao-test-server start)")
        })
    };
    (
        var("VALUESET_TEST_VAULT_ADDR"),
        var("VALUESET_TEST_VAULT_TOKEN"),
    )
}

/// A Vault store with id `id` on the test server, with the root token,
/// keeping the library's secrets under a prefix no other test uses.
#[cfg(feature = "vault")]
pub(crate) fn vault_store(id: &str) -> valueset::secret::VaultSecretStore {
    use valueset::secret::{VaultAuth, VaultConfig, VaultSecretStore};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let (addr, token) = vault_server();
    let mut config = VaultConfig::new(addr, VaultAuth::Token(valueset::Secret::new(token)));
    id.clone_into(&mut config.id);
    config.prefix = format!(
        "valueset-test/{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    VaultSecretStore::new(config).unwrap()
}

/// The store submitted secrets go to in the suites that run on every
/// kind: the memory store, or with `VALUESET_TEST_SECRET_STORE=vault` the
/// Vault test server. The same tests run on each.
pub(crate) fn library_store(id: &str) -> std::sync::Arc<dyn valueset::secret::SecretStore> {
    match std::env::var("VALUESET_TEST_SECRET_STORE").as_deref() {
        Err(_) | Ok("" | "memory") => {
            std::sync::Arc::new(valueset::secret::MemorySecretStore::new(id))
        }
        #[cfg(feature = "vault")]
        Ok("vault") => std::sync::Arc::new(vault_store(id)),
        Ok(other) => panic!(
            "VALUESET_TEST_SECRET_STORE={other}: use memory, or vault with `--features vault`"
        ),
    }
}

/// A library secret store the test can look into after handing it to the
/// Store.
#[derive(Debug, Clone)]
pub(crate) struct Shared(pub(crate) std::sync::Arc<valueset::secret::MemorySecretStore>);

impl valueset::secret::SecretStore for Shared {
    fn id(&self) -> &str {
        self.0.id()
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
        n: &str,
        s: &valueset::Secret,
    ) -> Result<valueset::secret::SecretRef, valueset::secret::SecretStoreError> {
        self.0.put(n, s)
    }
    fn delete(
        &self,
        r: &valueset::secret::SecretRef,
    ) -> Result<(), valueset::secret::SecretStoreError> {
        self.0.delete(r)
    }
}

/// A backend that can be taken away (every call fails as a lost database
/// does) and brought back.
#[derive(Debug, Default)]
pub(crate) struct Away {
    inner: valueset::backend::MemoryBackend,
    away: std::sync::atomic::AtomicBool,
}

impl Away {
    pub(crate) fn set_away(&self, away: bool) {
        self.away.store(away, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), BackendError> {
        if self.away.load(Ordering::SeqCst) {
            return Err(BackendError::with_kind(
                valueset::backend::BackendErrorKind::Unavailable,
                "the database is away",
            ));
        }
        Ok(())
    }
}

impl Backend for Away {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.check()?;
        self.inner.get(key)
    }
    fn scan(&self, s: &[u8], e: &[u8], r: bool, v: &mut Visit<'_>) -> Result<(), BackendError> {
        self.check()?;
        self.inner.scan(s, e, r, v)
    }
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        self.check()?;
        self.inner.apply(batch)
    }
}

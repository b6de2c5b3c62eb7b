//! The durable [`Backend`]: one sled tree, one `apply_batch` per change, in
//! a directory that one process holds at a time, and that compaction
//! rewrites so that removed data leaves the disk.

mod dir;
mod errors;
mod space;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use super::{Backend, BackendError, Batch, Changes, KeyValue, Signal, Visit};
use dir::StoreDir;
use errors::sled_error;
pub use space::MIN_FREE_SPACE;

/// A [`Backend`] in a sled database directory. Every [`Batch`] is one sled
/// `apply_batch`, which sled makes atomic: after a crash, reopening shows all
/// of a batch or none of it. A batch is in sled's log once applied;
/// [`Backend::flush`] makes applied batches durable: sled's flush, then an
/// fsync of the log (sled writes it with `sync_file_range`, which neither
/// records the file's growth nor empties the disk's write cache). sled
/// also flushes on its own every 500 ms, and on drop, without the fsync.
///
/// A write is refused as [`BackendErrorKind::NoSpace`] while the disk
/// holding the directory has less than [`MIN_FREE_SPACE`] free, so that a
/// full disk never stops sled: reads go on, and writes succeed again once
/// space is freed.
///
/// The directory is created readable by its owner only (0700), and one
/// process holds it at a time: another gets [`BackendErrorKind::Busy`]
/// (retryable). sled is log-structured and keeps old versions of data in
/// its files until it reuses the space; [`Backend::compact`] rewrites the
/// live data into a new generation of files and removes the old one, so
/// that a purged value or a deleted secret's ciphertext is gone from the
/// disk. The layout and its crash safety are described in the `dir`
/// module.
///
/// [`BackendErrorKind::Busy`]: super::BackendErrorKind::Busy
/// [`BackendErrorKind::NoSpace`]: super::BackendErrorKind::NoSpace
pub struct SledBackend {
    dir: Option<StoreDir>,
    live: RwLock<Live>,
    signal: Signal,
    cache: u64,
    /// Writes are refused below this much free space (see `space`).
    reserve: u64,
}

/// The default size of sled's page cache, in bytes: 64 MiB, so that a
/// service that embeds a store can plan its memory (sled's own default is
/// 1 GiB). [`SledBackend::open_with_cache`] sets another.
pub const DEFAULT_CACHE_CAPACITY: u64 = 64 << 20;

/// The open generation: sled's handles, and which generation they are.
struct Live {
    db: sled::Db,
    tree: sled::Tree,
    generation: u64,
    /// sled's log file, to sync after sled's own flush (none for a
    /// temporary database).
    log: Option<std::fs::File>,
}

const TREE: &str = "valueset";

/// How many entries compaction copies per sled batch.
const COPY_BATCH: usize = 4096;

impl SledBackend {
    /// Opens (or creates) the store in `dir`.
    ///
    /// # Errors
    ///
    /// [`BackendError`] of kind `Busy` when another process holds the store
    /// (after waiting about two seconds for it), `PermissionDenied`,
    /// `NoSpace` or `Corrupted` (with what sled reported), or `Other`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, BackendError> {
        Self::open_with_cache(dir, DEFAULT_CACHE_CAPACITY)
    }

    /// As [`open`](Self::open), with a page cache of `bytes` (sled keeps
    /// up to this much of the store in memory; more makes reads of a large
    /// store faster).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with_cache(dir: impl AsRef<Path>, bytes: u64) -> Result<Self, BackendError> {
        let (dir, generation) = StoreDir::open(dir.as_ref())?;
        let path = dir.generation_path(generation);
        let db = open_db(&path, bytes)?;
        dir.protect(generation)?;
        let live = Live::new(db, generation, Some(&path))?;
        Ok(SledBackend {
            dir: Some(dir),
            live: RwLock::new(live),
            signal: Signal::default(),
            cache: bytes,
            reserve: MIN_FREE_SPACE,
        })
    }

    /// A database in a temporary directory, removed when dropped.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when sled cannot create it.
    pub fn temporary() -> Result<Self, BackendError> {
        let live = Live::new(temporary_db()?, 1, None)?;
        Ok(SledBackend {
            dir: None,
            live: RwLock::new(live),
            signal: Signal::default(),
            cache: DEFAULT_CACHE_CAPACITY,
            reserve: 0,
        })
    }

    fn live(&self) -> RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn path(&self) -> Option<PathBuf> {
        let generation = self.live().generation;
        self.dir.as_ref().map(|d| d.generation_path(generation))
    }
}

impl Live {
    /// The generation `generation` open in `db`, whose files are in `path`
    /// (`None`: a temporary database).
    fn new(db: sled::Db, generation: u64, path: Option<&Path>) -> Result<Live, BackendError> {
        let tree = db
            .open_tree(TREE)
            .map_err(|e| sled_error("could not open the database's tree", e))?;
        let log = path
            .map(|p| std::fs::File::open(p.join("db")))
            .transpose()
            .map_err(|e| errors::io_error("could not open the database's log", e))?;
        Ok(Live {
            db,
            tree,
            generation,
            log,
        })
    }

    /// sled's flush, then an fsync of its log: sled 0.34 writes its log
    /// with `sync_file_range`, which reaches the disk but neither the
    /// file's size nor past the disk's own write cache; `fdatasync` does.
    fn flush(&self) -> Result<(), BackendError> {
        self.db.flush().map_err(|e| failed("flush", e))?;
        if let Some(log) = &self.log {
            log.sync_data()
                .map_err(|e| errors::io_error("could not sync the database's log", e))?;
        }
        Ok(())
    }
}

/// Opens sled in `path`. sled takes its own lock on its files; a handle
/// dropped a moment ago may hold it while its background flusher ends, so
/// this waits for it up to about two seconds.
fn open_db(path: &Path, cache: u64) -> Result<sled::Db, BackendError> {
    remove_unfinished_snapshots(path);
    let mut attempts = 0;
    loop {
        match sled::Config::new().path(path).cache_capacity(cache).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(e)) if attempts < 40 && is_lock_held(&e) => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                let what = format!("could not open the database in {}", path.display());
                return Err(sled_error(&what, e));
            }
        }
    }
}

/// Removes the snapshot files sled was still writing when its process
/// died (`snap.*.generating`). sled 0.34 writes a snapshot under that name
/// and renames it when it is complete, but on open it also reads such a
/// file, and a cut one makes the store refuse to open as corrupted. The
/// complete snapshot before it, and the log since, are still there, so
/// sled recovers without it. Best effort: a file that cannot be removed
/// is left for sled to judge.
fn remove_unfinished_snapshots(path: &Path) {
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn temporary_db() -> Result<sled::Db, BackendError> {
    sled::Config::new()
        .temporary(true)
        .cache_capacity(DEFAULT_CACHE_CAPACITY)
        .open()
        .map_err(|e| sled_error("could not create a temporary database", e))
}

/// Whether sled could not take its lock (another handle, or one still
/// closing, holds it).
fn is_lock_held(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("acquire lock")
}

fn failed(what: &str, e: sled::Error) -> BackendError {
    sled_error(&format!("sled failed to {what}"), e)
}

/// Copies every entry of `from` into `to`, in batches.
fn copy_tree(from: &sled::Tree, to: &sled::Tree) -> Result<(), BackendError> {
    let mut batch = sled::Batch::default();
    let mut pending = 0;
    for item in from {
        let (k, v) = item.map_err(|e| failed("read for compaction", e))?;
        batch.insert(k, v);
        pending += 1;
        if pending == COPY_BATCH {
            to.apply_batch(std::mem::take(&mut batch))
                .map_err(|e| failed("write for compaction", e))?;
            pending = 0;
        }
    }
    to.apply_batch(batch)
        .map_err(|e| failed("write for compaction", e))
}

impl SledBackend {
    /// A batch without preconditions is one `apply_batch`; one with them is
    /// a sled transaction that checks them and applies the writes.
    fn apply_batch(&self, batch: Batch) -> Result<(), BackendError> {
        if let Some(path) = self.path() {
            space::check(&path, self.reserve)?;
        }
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch.ops {
            match value {
                Some(v) => sled_batch.insert(key, v),
                None => sled_batch.remove(key),
            }
        }
        let live = self.live();
        if batch.expected.is_empty() {
            return live
                .tree
                .apply_batch(sled_batch)
                .map_err(|e| failed("write", e));
        }
        let result = live.tree.transaction(|tx| {
            for (key, expected) in &batch.expected {
                let current = tx.get(key)?;
                if current.as_deref() != expected.as_deref() {
                    return sled::transaction::abort(Batch::conflict(key));
                }
            }
            tx.apply_batch(&sled_batch)?;
            Ok(())
        });
        result.map_err(|e| match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => failed("write", e),
        })
    }
}

impl fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledBackend")
            .field("path", &self.path())
            .field("entries", &self.live().tree.len())
            .finish_non_exhaustive()
    }
}

impl Backend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self
            .live()
            .tree
            .get(key)
            .map_err(|e| failed("read", e))?
            .map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        if start >= end {
            return Ok(());
        }
        let live = self.live();
        let range = live.tree.range(start..end);
        let mut step =
            |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<bool, BackendError> {
                let (k, v) = item.map_err(|e| failed("scan", e))?;
                Ok(visit(&k, &v).is_break())
            };
        if reverse {
            for item in range.rev() {
                if step(item)? {
                    break;
                }
            }
        } else {
            for item in range {
                if step(item)? {
                    break;
                }
            }
        }
        Ok(())
    }

    /// sled's `get_lt`: inside sled a reverse range iterator too (it copies
    /// the leaf node it starts in, which is most of a seek's cost), but
    /// without this backend's own iterator and bounds around it.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<KeyValue>, BackendError> {
        if start >= end {
            return Ok(None);
        }
        let found = self
            .live()
            .tree
            .get_lt(end)
            .map_err(|e| failed("seek", e))?;
        Ok(found
            .filter(|(k, _)| k.as_ref() >= start)
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }

    /// Applies the batch (see `apply_batch`) and wakes watchers when it wrote
    /// a version.
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        let announce = batch.writes_version();
        self.apply_batch(batch)?;
        if announce {
            self.signal.raise();
        }
        Ok(())
    }

    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        Ok(Some(self.signal.subscribe()))
    }

    fn flush(&self) -> Result<(), BackendError> {
        self.live().flush()
    }

    /// Writes the live data into a new generation, makes it durable, switches
    /// to it atomically and removes the old generation's files. Reads and
    /// writes through this backend wait meanwhile. If it fails before the
    /// switch, the old generation stays live and the new one is removed on
    /// the next open.
    fn compact(&self) -> Result<(), BackendError> {
        let mut live = self.live.write().unwrap_or_else(PoisonError::into_inner);
        live.flush()?;
        let next = live.generation + 1;
        let fresh = match &self.dir {
            Some(dir) => {
                let path = dir.fresh_generation(next)?;
                Live::new(open_db(&path, self.cache)?, next, Some(&path))?
            }
            None => Live::new(temporary_db()?, next, None)?,
        };
        copy_tree(&live.tree, &fresh.tree)?;
        fresh.flush()?;
        if let Some(dir) = &self.dir {
            dir.protect(next)?;
            dir.write_current(next)?;
        }
        let old = std::mem::replace(&mut *live, fresh);
        let old_generation = old.generation;
        drop(old);
        match &self.dir {
            Some(dir) => dir.retire_generation(old_generation),
            None => Ok(()),
        }
    }
}

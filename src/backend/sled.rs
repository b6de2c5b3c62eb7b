//! The durable [`Backend`]: one sled tree, one `apply_batch` per change.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Backend, BackendError, Batch, Visit};

/// A [`Backend`] in a sled database directory. Every [`Batch`] is one sled
/// `apply_batch`, which sled makes atomic: after a crash, reopening shows all
/// of a batch or none of it. [`Backend::flush`] makes applied batches
/// durable (sled also flushes on its own every 500 ms, and on drop).
pub struct SledBackend {
    path: Option<PathBuf>,
    db: sled::Db,
    tree: sled::Tree,
}

const TREE: &str = "valueset";

impl SledBackend {
    /// Opens (or creates) the database in `dir`.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when sled cannot open it (permissions, another
    /// process holding it, a damaged database).
    ///
    /// sled locks the directory; a handle dropped a moment ago may still hold
    /// the lock while its background flusher ends, so opening waits for the
    /// lock up to about two seconds before it gives up.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, BackendError> {
        let dir = dir.as_ref();
        let mut attempts = 0;
        let db = loop {
            match sled::Config::new().path(dir).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if attempts < 40 && is_lock_held(&e) => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(BackendError::with_source(
                        format!("could not open the database in {}", dir.display()),
                        e,
                    ));
                }
            }
        };
        Self::with_db(db, Some(dir.to_path_buf()))
    }

    /// A database in a temporary directory, removed when dropped.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when sled cannot create it.
    pub fn temporary() -> Result<Self, BackendError> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(|e| BackendError::with_source("could not create a temporary database", e))?;
        Self::with_db(db, None)
    }

    fn with_db(db: sled::Db, path: Option<PathBuf>) -> Result<Self, BackendError> {
        let tree = db
            .open_tree(TREE)
            .map_err(|e| BackendError::with_source("could not open the database's tree", e))?;
        Ok(SledBackend { path, db, tree })
    }
}

/// Whether sled could not take the directory's lock (another handle, or one
/// still closing, holds it).
fn is_lock_held(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("acquire lock")
}

fn failed(what: &str, e: sled::Error) -> BackendError {
    BackendError::with_source(format!("sled failed to {what}"), e)
}

impl fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledBackend")
            .field("path", &self.path)
            .field("entries", &self.tree.len())
            .finish_non_exhaustive()
    }
}

impl Backend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self
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
        let range = self.tree.range(start..end);
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

    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch.ops {
            match value {
                Some(v) => sled_batch.insert(key, v),
                None => sled_batch.remove(key),
            }
        }
        self.tree
            .apply_batch(sled_batch)
            .map_err(|e| failed("write", e))
    }

    fn flush(&self) -> Result<(), BackendError> {
        self.db.flush().map_err(|e| failed("flush", e))?;
        Ok(())
    }
}

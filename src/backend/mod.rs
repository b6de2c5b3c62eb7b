//! Storage behind the history engine: an ordered byte keyspace with atomic
//! batches (the shape of one sled tree).
//!
//! The engine never names a storage engine: it talks to [`Backend`]. Two
//! implementations ship: [`MemoryBackend`] and [`SledBackend`].

mod error;
mod memory;
mod sled;

use std::fmt;
use std::ops::ControlFlow;

pub use self::sled::SledBackend;
pub use error::{BackendError, BackendErrorKind};
pub use memory::MemoryBackend;

/// An ordered map of byte keys to byte values with atomic batch writes.
///
/// Implementations must be safe to share between threads. Reads never see
/// part of a batch: a batch is applied all at once or not at all.
pub trait Backend: Send + Sync + fmt::Debug + 'static {
    /// The value at `key`, or `None`.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be read.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError>;

    /// Calls `visit` with each entry whose key is in `start..end` (`end`
    /// exclusive), in ascending key order, or descending when `reverse`,
    /// until `visit` breaks. `visit` must not call back into the backend.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be read.
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError>;

    /// Applies every write of `batch` atomically: after a crash at any
    /// instant, either all of them are there or none.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the batch could not be written; then none of it
    /// was.
    fn apply(&self, batch: Batch) -> Result<(), BackendError>;

    /// Makes every applied batch durable. The default does nothing, for
    /// backends that are not durable.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be flushed.
    fn flush(&self) -> Result<(), BackendError> {
        Ok(())
    }

    /// Rewrites the storage so that no file of it holds data that was
    /// removed or overwritten: what a purge or a deletion removed is then
    /// gone from the disk, not only from the keyspace. The default does
    /// nothing, for backends that keep no files (or whose storage does not
    /// keep old versions of data).
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be rewritten; then it is as
    /// it was.
    fn compact(&self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// The visitor of [`Backend::scan`]: called with each key and value; break
/// to stop.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// Writes to apply at once: inserts and removals, in order.
#[derive(Default)]
pub struct Batch {
    pub(crate) ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }

    /// How many writes the batch holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The writes, in order: a key and its new value, or `None` to remove it.
    pub fn into_ops(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.ops
    }
}

/// Prints how many writes and bytes, never the bytes: values may be
/// secret-bearing records.
impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: usize = self
            .ops
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum();
        f.debug_struct("Batch")
            .field("writes", &self.ops.len())
            .field("bytes", &bytes)
            .finish()
    }
}

//! Storage behind the history engine: an ordered byte keyspace with atomic
//! batches (the shape of one sled tree).
//!
//! The engine never names a storage engine: it talks to [`Backend`]. Three
//! implementations ship: [`MemoryBackend`], [`SledBackend`] and, with the
//! `postgres` feature, `PostgresBackend`; users may bring their own.

mod error;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod signal;
mod sled;

use std::fmt;
use std::ops::ControlFlow;

#[cfg(feature = "postgres")]
pub use self::postgres::{DEFAULT_TABLE, PostgresBackend};
pub use self::sled::{DEFAULT_CACHE_CAPACITY, MIN_FREE_SPACE, SledBackend};
pub use error::{BackendError, BackendErrorKind};
pub use memory::MemoryBackend;
pub use signal::Changes;
pub(crate) use signal::Signal;

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

    /// The values at `keys`, in their order (`None` where there is none):
    /// what [`get`](Self::get) gives for each. The default asks one after
    /// another; a backend with round trips reads them in one (PostgreSQL:
    /// one query).
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be read.
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, BackendError> {
        keys.iter().map(|k| self.get(k)).collect()
    }

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

    /// The entry with the greatest key in `start..end` (`end` exclusive),
    /// or `None`: the first entry a reverse [`scan`](Self::scan) visits.
    /// The history engine asks this for one key's entry at a version (a
    /// read of one key, a commit's look at what it changes); the default is
    /// that reverse scan, and a backend with a cheaper way overrides it.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be read.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<KeyValue>, BackendError> {
        let mut found = None;
        self.scan(start, end, true, &mut |k, v| {
            found = Some((k.to_vec(), v.to_vec()));
            ControlFlow::Break(())
        })?;
        Ok(found)
    }

    /// For each range `start..end` of `ranges`, in order, what
    /// [`last_in`](Self::last_in) answers for it: the entry with the
    /// greatest key in the range, or `None`. One read of a version older
    /// than the newest asks this once, with every key it seeks. The default
    /// asks `last_in` range by range; a backend whose every call is a round
    /// trip to a server answers them all in one.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the storage cannot be read.
    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, BackendError> {
        ranges
            .iter()
            .map(|(start, end)| self.last_in(start, end))
            .collect()
    }

    /// Applies every write of `batch` atomically: after a crash at any
    /// instant, either all of them are there or none.
    ///
    /// If the batch has preconditions ([`Batch::expect`]), they are checked
    /// in the same atomic step as the writes: every expected key must hold
    /// exactly the expected value (or be absent, when `None` is expected),
    /// as seen by every process that shares the storage. This is what makes
    /// concurrent writers correct: the history engine reads an App's
    /// bookkeeping, plans a change, and commits it on the condition that the
    /// bookkeeping is still what it read. An implementation must honour
    /// preconditions; ignoring them lets two writers both commit "the next
    /// version".
    ///
    /// # Errors
    ///
    /// [`BackendError`] of kind [`BackendErrorKind::Conflict`] when a
    /// precondition does not hold; any other [`BackendError`] when the batch
    /// could not be written. Either way none of it was.
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

    /// A source of wake-ups for a watcher of new versions
    /// ([`Store::watch`](crate::Store::watch)): a wake-up after every batch
    /// whose [`Batch::writes_version`] is true, committed by any process
    /// that shares the storage. The default has
    /// none: watchers then look for new versions every few hundred
    /// milliseconds.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the source cannot be set up (no connection).
    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        Ok(None)
    }
}

/// A shared backend is a backend: several [`Store`](crate::Store)s (each
/// with its own in-process lock) can write through one, and stay correct
/// because commits are conditional.
impl<B: Backend + ?Sized> Backend for std::sync::Arc<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        (**self).get(key)
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, BackendError> {
        (**self).get_many(keys)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        (**self).scan(start, end, reverse, visit)
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<KeyValue>, BackendError> {
        (**self).last_in(start, end)
    }

    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, BackendError> {
        (**self).last_in_each(ranges)
    }

    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        (**self).apply(batch)
    }

    fn flush(&self) -> Result<(), BackendError> {
        (**self).flush()
    }

    fn compact(&self) -> Result<(), BackendError> {
        (**self).compact()
    }

    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        (**self).changes()
    }
}

/// A key and its value, as [`Backend::last_in`] returns them.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// The keys from `.0` (inclusive) to `.1` (exclusive), as
/// [`Backend::last_in_each`] takes them.
pub type KeyRange = (Vec<u8>, Vec<u8>);

/// The visitor of [`Backend::scan`]: called with each key and value; break
/// to stop.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// Writes to apply at once: inserts and removals, in order, and the
/// preconditions under which they apply.
#[derive(Default)]
pub struct Batch {
    pub(crate) ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pub(crate) expected: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    writes_version: bool,
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

    /// Applies the batch only if `key` holds `value` (`None`: only if `key`
    /// is absent) when it is applied; see [`Backend::apply`].
    pub fn expect(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.expected.push((key, value));
    }

    /// Marks the batch as one that commits a new version, which watchers
    /// are woken for (the history engine marks its own; a backend that
    /// builds a batch of its own from one it was given carries the mark
    /// over).
    pub fn announce_version(&mut self) {
        self.writes_version = true;
    }

    /// Whether the batch commits a new value set version: a backend with a
    /// change feed ([`Backend::changes`]) wakes its watchers after applying
    /// such a batch, and need not for any other.
    pub fn writes_version(&self) -> bool {
        self.writes_version
    }

    /// The preconditions: each key and the value it must hold (`None`:
    /// absent).
    pub fn preconditions(&self) -> &[(Vec<u8>, Option<Vec<u8>>)] {
        &self.expected
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

    /// The error of a batch whose precondition on `key` did not hold.
    pub fn conflict(key: &[u8]) -> BackendError {
        BackendError::with_kind(
            BackendErrorKind::Conflict,
            format!(
                "another writer changed the data first (key of {} bytes); nothing was written",
                key.len()
            ),
        )
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
            .field("preconditions", &self.expected.len())
            .field("writes_version", &self.writes_version)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, PoisonError};

    use super::*;

    /// Only what a backend must write itself; everything else is the
    /// trait's defaults. It records which calls reach it.
    #[derive(Debug, Default)]
    struct Minimal {
        inner: MemoryBackend,
        calls: Mutex<Vec<&'static str>>,
    }

    impl Minimal {
        fn with(keys: &[&str]) -> Self {
            let b = Minimal::default();
            let mut batch = Batch::new();
            for k in keys {
                batch.insert(k.as_bytes().to_vec(), format!("v{k}").into_bytes());
            }
            b.inner.apply(batch).unwrap();
            b
        }

        fn called(&self, what: &'static str) {
            self.calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(what);
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    }

    impl Backend for Minimal {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
            self.called("get");
            self.inner.get(key)
        }

        fn scan(
            &self,
            start: &[u8],
            end: &[u8],
            reverse: bool,
            visit: &mut Visit<'_>,
        ) -> Result<(), BackendError> {
            self.called("scan");
            self.inner.scan(start, end, reverse, visit)
        }

        fn apply(&self, batch: Batch) -> Result<(), BackendError> {
            self.called("apply");
            self.inner.apply(batch)
        }
    }

    /// A backend that answers every call its own way, so a forwarder that
    /// does not forward shows.
    #[derive(Debug, Default)]
    struct Answers(Minimal);

    impl Backend for Answers {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
            self.0.get(key)
        }

        fn scan(
            &self,
            start: &[u8],
            end: &[u8],
            reverse: bool,
            visit: &mut Visit<'_>,
        ) -> Result<(), BackendError> {
            self.0.scan(start, end, reverse, visit)
        }

        fn last_in(&self, _: &[u8], _: &[u8]) -> Result<Option<KeyValue>, BackendError> {
            self.0.called("last_in");
            Ok(Some((b"last".to_vec(), b"in".to_vec())))
        }

        fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, BackendError> {
            self.0.called("last_in_each");
            Ok(vec![None; ranges.len() + 1])
        }

        fn apply(&self, batch: Batch) -> Result<(), BackendError> {
            self.0.apply(batch)
        }

        fn flush(&self) -> Result<(), BackendError> {
            self.0.called("flush");
            Err(BackendError::new("flush"))
        }

        fn compact(&self) -> Result<(), BackendError> {
            self.0.called("compact");
            Err(BackendError::new("compact"))
        }

        fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
            self.0.called("changes");
            self.0.inner.changes()
        }
    }

    fn kv(k: &str) -> KeyValue {
        (k.as_bytes().to_vec(), format!("v{k}").into_bytes())
    }

    fn range(start: &str, end: &str) -> KeyRange {
        (start.as_bytes().to_vec(), end.as_bytes().to_vec())
    }

    #[test]
    fn the_defaults_seek_with_a_reverse_scan_and_do_nothing_else() {
        let b = Minimal::with(&["a1", "a2", "b1", "c"]);
        assert_eq!(b.last_in(b"a", b"b").unwrap(), Some(kv("a2")));
        assert_eq!(b.last_in(b"a", b"a2").unwrap(), Some(kv("a1")));
        assert_eq!(b.last_in(b"b", b"c").unwrap(), Some(kv("b1")));
        assert_eq!(b.last_in(b"d", b"e").unwrap(), None);
        let ranges = [range("a", "b"), range("d", "e"), range("a", "z")];
        assert_eq!(
            b.last_in_each(&ranges).unwrap(),
            vec![Some(kv("a2")), None, Some(kv("c"))]
        );
        assert!(b.last_in_each(&[]).unwrap().is_empty());
        b.flush().unwrap();
        b.compact().unwrap();
        assert!(b.changes().unwrap().is_none());
        assert_eq!(b.inner.len(), 4);
        assert!(b.calls().iter().all(|c| *c == "scan"));
    }

    #[test]
    fn a_shared_backend_forwards_every_call() {
        let shared = Arc::new(Answers::default());
        let mut batch = Batch::new();
        batch.insert(b"k".to_vec(), b"v".to_vec());
        shared.apply(batch).unwrap();
        assert_eq!(shared.get(b"k").unwrap(), Some(b"v".to_vec()));
        let mut seen = Vec::new();
        shared
            .scan(b"a", b"z", false, &mut |k, _| {
                seen.push(k.to_vec());
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(seen, [b"k".to_vec()]);
        assert_eq!(
            shared.last_in(b"x", b"y").unwrap(),
            Some((b"last".to_vec(), b"in".to_vec()))
        );
        assert_eq!(shared.last_in_each(&[range("a", "b")]).unwrap().len(), 2);
        assert!(shared.flush().is_err());
        assert!(shared.compact().is_err());
        assert!(shared.changes().unwrap().is_some());
        assert_eq!(
            shared.0.calls(),
            [
                "apply",
                "get",
                "scan",
                "last_in",
                "last_in_each",
                "flush",
                "compact",
                "changes"
            ]
        );
    }

    #[test]
    fn a_batch_holds_its_writes_and_conditions_in_order() {
        let mut batch = Batch::new();
        assert!(batch.is_empty());
        batch.insert(b"a".to_vec(), b"1".to_vec());
        batch.remove(b"b".to_vec());
        batch.expect(b"c".to_vec(), None);
        batch.expect(b"d".to_vec(), Some(b"2".to_vec()));
        assert_eq!((batch.len(), batch.is_empty()), (2, false));
        assert_eq!(
            batch.preconditions(),
            [(b"c".to_vec(), None), (b"d".to_vec(), Some(b"2".to_vec()))]
        );
        assert_eq!(
            format!("{batch:?}"),
            "Batch { writes: 2, bytes: 3, preconditions: 2, writes_version: false }"
        );
        assert_eq!(
            batch.into_ops(),
            [(b"a".to_vec(), Some(b"1".to_vec())), (b"b".to_vec(), None)]
        );
        let conflict = Batch::conflict(b"secret-key");
        assert_eq!(conflict.kind(), BackendErrorKind::Conflict);
        assert!(conflict.to_string().contains("10 bytes"));
        assert!(!conflict.to_string().contains("secret-key"));
    }
}

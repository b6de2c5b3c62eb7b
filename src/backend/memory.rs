//! An in-memory [`Backend`]: a `BTreeMap` behind a lock.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};

use super::{Backend, BackendError, Batch, Changes, KeyValue, Signal, Visit};

/// A [`Backend`] in memory, for tests and for stores that need no
/// durability. A batch is applied under one write lock, so readers see all of
/// it or none.
///
/// `Debug` prints sizes only.
#[derive(Default)]
pub struct MemoryBackend {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
    signal: Signal,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        MemoryBackend::default()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total bytes of keys and values stored.
    pub fn bytes(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum()
    }
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("entries", &self.len())
            .field("bytes", &self.bytes())
            .finish()
    }
}

impl Backend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(key).cloned())
    }

    /// One descent to the end of the range, then a look at the start: the
    /// map need not find both edges of the range, as a scan does.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<KeyValue>, BackendError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let last = map
            .range::<[u8], _>((std::ops::Bound::Unbounded, std::ops::Bound::Excluded(end)))
            .next_back();
        Ok(last
            .filter(|(k, _)| k.as_slice() >= start)
            .map(|(k, v)| (k.clone(), v.clone())))
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
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let range = map.range::<[u8], _>((
            std::ops::Bound::Included(start),
            std::ops::Bound::Excluded(end),
        ));
        if reverse {
            for (k, v) in range.rev() {
                if visit(k, v).is_break() {
                    break;
                }
            }
        } else {
            for (k, v) in range {
                if visit(k, v).is_break() {
                    break;
                }
            }
        }
        Ok(())
    }

    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        // A panic while holding the lock cannot leave half a batch: the map
        // is only changed below, by inserts and removes that do not panic.
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        for (key, expected) in &batch.expected {
            if map.get(key) != expected.as_ref() {
                return Err(Batch::conflict(key));
            }
        }
        let announce = batch.writes_version();
        for (key, value) in batch.ops {
            match value {
                Some(v) => {
                    map.insert(key, v);
                }
                None => {
                    map.remove(&key);
                }
            }
        }
        drop(map);
        if announce {
            self.signal.raise();
        }
        Ok(())
    }

    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        Ok(Some(self.signal.subscribe()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_entries_and_their_bytes() {
        let b = MemoryBackend::new();
        assert_eq!((b.len(), b.is_empty(), b.bytes()), (0, true, 0));
        let mut batch = Batch::new();
        batch.insert(b"ab".to_vec(), b"cde".to_vec());
        batch.insert(b"fg".to_vec(), b"hij".to_vec());
        b.apply(batch).unwrap();
        assert_eq!((b.len(), b.is_empty(), b.bytes()), (2, false, 10));
        assert!(!format!("{b:?}").contains("cde"));
    }

    #[test]
    fn a_batch_with_a_version_wakes_a_watcher() {
        let b = MemoryBackend::new();
        let mut changes = b
            .changes()
            .unwrap()
            .expect("the memory backend wakes watchers");
        // A batch that does not say it commits a version wakes no one.
        let mut batch = Batch::new();
        batch.insert(b"V\x00app".to_vec(), b"record".to_vec());
        b.apply(batch).unwrap();
        let start = std::time::Instant::now();
        changes.wait(std::time::Duration::from_millis(50)).unwrap();
        assert!(start.elapsed() >= std::time::Duration::from_millis(50));
        let mut batch = Batch::new();
        batch.insert(b"V\x00app".to_vec(), b"record".to_vec());
        batch.announce_version();
        assert!(batch.writes_version());
        b.apply(batch).unwrap();
        let start = std::time::Instant::now();
        changes.wait(std::time::Duration::from_secs(30)).unwrap();
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn last_in_is_the_greatest_key_of_the_range() {
        let b = MemoryBackend::new();
        let mut batch = Batch::new();
        for k in [&b"a"[..], b"c", b"e"] {
            batch.insert(k.to_vec(), k.to_vec());
        }
        b.apply(batch).unwrap();
        let key = |s: &[u8], e: &[u8]| b.last_in(s, e).unwrap().map(|(k, _)| k);
        assert_eq!(key(b"a", b"e"), Some(b"c".to_vec()));
        assert_eq!(key(b"c", b"d"), Some(b"c".to_vec()));
        assert_eq!(key(b"d", b"e"), None);
        assert_eq!(key(b"e", b"a"), None);
        assert_eq!(key(b"", b"z"), Some(b"e".to_vec()));
    }
}

//! The free space a directory store keeps on its disk.
//!
//! sled stops for good at its first failed write: after a full disk, every
//! read and write of that handle fails until the store is opened again. So
//! the backend refuses a write itself, as `NoSpace`, while the file system
//! that holds the store has less than [`MIN_FREE_SPACE`] free: sled never
//! meets the full disk, reads go on, and writes succeed again as soon as
//! space is freed, without reopening anything. The margin covers what sled
//! writes besides the batch itself (its log segments, snapshots and
//! background cleaning). A disk filled by someone else while sled flushes
//! can still stop it; the store then answers every call with the error and
//! needs opening again.

use std::path::Path;

use super::super::{BackendError, BackendErrorKind};
use super::errors::io_error;

/// The free space, in bytes, below which a directory store refuses writes:
/// 16 MiB.
pub const MIN_FREE_SPACE: u64 = 16 << 20;

/// `Ok` when the file system holding `path` has at least `reserve` bytes
/// free.
pub(super) fn check(path: &Path, reserve: u64) -> Result<(), BackendError> {
    let free = fs2::available_space(path)
        .map_err(|e| io_error("could not read the free space of the store's disk", e))?;
    enough(free, reserve)
}

fn enough(free: u64, reserve: u64) -> Result<(), BackendError> {
    if free >= reserve {
        return Ok(());
    }
    Err(BackendError::with_kind(
        BackendErrorKind::NoSpace,
        format!(
            "no space left: {free} bytes free on the store's disk, which keeps {reserve} free \
             (free some space; reads go on meanwhile)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::SledBackend;
    use super::*;
    use crate::backend::{Backend, Batch};

    #[test]
    fn the_reserve_is_sixteen_mebibytes() {
        assert_eq!(MIN_FREE_SPACE, 16 * 1024 * 1024);
    }

    #[test]
    fn the_reserve_is_a_floor() {
        assert!(enough(10, 10).is_ok());
        assert!(enough(11, 10).is_ok());
        let err = enough(9, 10).unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::NoSpace);
        assert!(err.to_string().contains("9 bytes free"), "{err}");
        assert!(err.to_string().contains("keeps 10 free"), "{err}");
    }

    #[test]
    fn a_write_below_the_reserve_is_refused_and_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("valueset-space-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut backend = SledBackend::open(&dir).unwrap();
        let write = |key: &[u8]| {
            let mut batch = Batch::new();
            batch.insert(key.to_vec(), b"v".to_vec());
            batch
        };
        backend.apply(write(b"before")).unwrap();
        backend.reserve = u64::MAX;
        let err = backend.apply(write(b"refused")).unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::NoSpace);
        assert_eq!(backend.get(b"refused").unwrap(), None);
        // Reads go on; with space again, writes do too.
        assert_eq!(backend.get(b"before").unwrap(), Some(b"v".to_vec()));
        backend.reserve = 0;
        backend.apply(write(b"after")).unwrap();
        assert_eq!(backend.get(b"after").unwrap(), Some(b"v".to_vec()));
        drop(backend);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

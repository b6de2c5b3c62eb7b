//! sled's and the file system's failures as [`BackendError`]s of the right
//! kind, each keeping what sled or the OS reported as its source.

use std::io;

use super::super::{BackendError, BackendErrorKind};

/// An I/O failure while doing `what`.
pub(super) fn io_error(what: &str, e: io::Error) -> BackendError {
    let kind = io_kind(&e);
    BackendError::with_kind(kind, format!("{what}: {}", describe(kind, &e))).caused_by(e)
}

/// A sled failure while doing `what`.
pub(super) fn sled_error(what: &str, e: sled::Error) -> BackendError {
    match e {
        sled::Error::Io(e) => io_error(what, e),
        sled::Error::Corruption { at, .. } => {
            let at = at.map_or_else(String::new, |at| format!(" at {at:?}"));
            BackendError::with_kind(
                BackendErrorKind::Corrupted,
                format!("{what}: the database is damaged (sled found corruption{at})"),
            )
        }
        other => {
            let message = format!("{what}: sled failed: {other}");
            BackendError::new(message).caused_by(other)
        }
    }
}

fn io_kind(e: &io::Error) -> BackendErrorKind {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => BackendErrorKind::NoSpace,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            BackendErrorKind::PermissionDenied
        }
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData => BackendErrorKind::Corrupted,
        _ => BackendErrorKind::Other,
    }
}

fn describe(kind: BackendErrorKind, e: &io::Error) -> String {
    match kind {
        BackendErrorKind::NoSpace => format!("no space left ({e})"),
        BackendErrorKind::PermissionDenied => format!("permission denied ({e})"),
        BackendErrorKind::Corrupted => format!("the database is damaged ({e})"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_failures_get_their_own_kind_and_code() {
        let cases = [
            (io::ErrorKind::StorageFull, "no_space", "no space left"),
            (io::ErrorKind::QuotaExceeded, "no_space", "no space left"),
            (
                io::ErrorKind::PermissionDenied,
                "permission_denied",
                "permission denied",
            ),
            (
                io::ErrorKind::ReadOnlyFilesystem,
                "permission_denied",
                "permission denied",
            ),
            (io::ErrorKind::UnexpectedEof, "corrupted", "damaged"),
            (io::ErrorKind::Other, "backend", "boom"),
        ];
        for (kind, code, words) in cases {
            let e = io_error("could not write", io::Error::new(kind, "boom"));
            assert_eq!(e.code(), code, "{kind:?}");
            assert!(e.to_string().contains(words), "{e}");
            assert!(std::error::Error::source(&e).is_some(), "the cause is kept");
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn sled_corruption_is_corrupted() {
        let e = sled_error(
            "could not open",
            sled::Error::Corruption { at: None, bt: () },
        );
        assert_eq!(e.code(), "corrupted");
        assert!(e.to_string().contains("damaged"), "{e}");
    }
}

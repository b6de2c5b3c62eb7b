//! [`BackendError`]: a storage failure, with a [`BackendErrorKind`] that
//! says what the caller can do about it.

use crate::codes;
use std::time::Duration;

/// A storage failure, as a backend reports it.
#[derive(Debug, thiserror::Error)]
#[error("storage failed: {message}")]
pub struct BackendError {
    kind: BackendErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What kind of storage failure a [`BackendError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The store is open in another process (a sled directory serves one
    /// process at a time). Retry later.
    Busy {
        /// How long opening waited before it gave up.
        waited: Duration,
    },
    /// The storage is damaged: a file was changed, cut short or lost.
    Corrupted,
    /// The disk (or the server's) has no space left.
    NoSpace,
    /// The process may not read or write the storage.
    PermissionDenied,
    /// A precondition of a batch did not hold: another writer changed the
    /// data first. Nothing was written; the history engine plans the change
    /// again.
    Conflict,
    /// The storage could not be reached (a lost connection, a server
    /// restarting). Nothing was half-written; retry.
    Unavailable,
    /// Any other failure.
    Other,
}

impl BackendError {
    /// An error of kind [`BackendErrorKind::Other`], with a message for
    /// people (never secret content).
    pub fn new(message: impl Into<String>) -> Self {
        BackendError::with_kind(BackendErrorKind::Other, message)
    }

    /// An error of `kind`, with a message for people.
    pub fn with_kind(kind: BackendErrorKind, message: impl Into<String>) -> Self {
        BackendError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source` (an I/O or storage engine error), of kind
    /// [`BackendErrorKind::Other`].
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        BackendError::new(message).caused_by(source)
    }

    /// The same error, caused by `source`.
    #[must_use]
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The same failure (kind and message, without its source), for each
    /// writer of a group of batches written together.
    pub(crate) fn copy(&self) -> Self {
        BackendError::with_kind(self.kind, self.message.clone())
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// Whether trying again may succeed: the store was busy, the storage
    /// could not be reached, or another writer came first.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            BackendErrorKind::Busy { .. }
                | BackendErrorKind::Unavailable
                | BackendErrorKind::Conflict
        )
    }

    /// The stable code, as [`Error::code`](crate::Error::code) gives it:
    /// `busy`, `corrupted`, `no_space`, `permission_denied`,
    /// `backend_unavailable`, `backend_conflict`, or `backend` for any other
    /// failure.
    pub fn code(&self) -> &'static str {
        match self.kind {
            BackendErrorKind::Busy { .. } => codes::BUSY,
            BackendErrorKind::Corrupted => codes::CORRUPTED,
            BackendErrorKind::NoSpace => codes::NO_SPACE,
            BackendErrorKind::PermissionDenied => codes::PERMISSION_DENIED,
            BackendErrorKind::Unavailable => codes::BACKEND_UNAVAILABLE,
            BackendErrorKind::Conflict => codes::BACKEND_CONFLICT,
            BackendErrorKind::Other => codes::BACKEND,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn each_kind_has_its_code_and_says_whether_to_retry() {
        let busy = BackendErrorKind::Busy {
            waited: Duration::from_millis(5),
        };
        for (kind, code, retry) in [
            (busy, "busy", true),
            (BackendErrorKind::Corrupted, "corrupted", false),
            (BackendErrorKind::NoSpace, "no_space", false),
            (
                BackendErrorKind::PermissionDenied,
                "permission_denied",
                false,
            ),
            (BackendErrorKind::Unavailable, "backend_unavailable", true),
            (BackendErrorKind::Conflict, "backend_conflict", true),
            (BackendErrorKind::Other, "backend", false),
        ] {
            let e = BackendError::with_kind(kind, "what happened");
            assert_eq!((e.kind(), e.code(), e.is_retryable()), (kind, code, retry));
            assert_eq!(e.to_string(), "storage failed: what happened");
            assert!(e.source().is_none());
        }
    }

    #[test]
    fn an_error_keeps_its_cause() {
        let io = std::io::Error::other("disk on fire");
        let e = BackendError::with_source("could not write", io);
        assert_eq!(e.kind(), BackendErrorKind::Other);
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("disk on fire")
        );
        assert_eq!(BackendError::new("x").kind(), BackendErrorKind::Other);
    }
}

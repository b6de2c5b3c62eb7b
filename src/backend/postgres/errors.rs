//! PostgreSQL's failures as [`BackendError`]s of the right kind. Messages
//! take the server's primary message only: its detail lines can quote the
//! data of a row, which may be a secret's ciphertext or a plain value.

use postgres::error::SqlState;

use super::super::{BackendError, BackendErrorKind};

/// A failure while doing `what`.
pub(super) fn pg_error(what: &str, e: &postgres::Error) -> BackendError {
    let kind = kind(e);
    let reason = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None if e.is_closed() => "the connection is closed".to_owned(),
        None => connection_reason(e),
    };
    BackendError::with_kind(kind, format!("{what}: {reason}"))
}

fn kind(e: &postgres::Error) -> BackendErrorKind {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed or was lost.
        return BackendErrorKind::Unavailable;
    };
    kind_of(code)
}

/// The kind of a SQLSTATE. Serialization failures and deadlocks are
/// conflicts (the engine plans the change again), as is a unique violation
/// (two writers inserted one key), so engines that run every transaction
/// serializable (CockroachDB, YugabyteDB) work the same.
fn kind_of(code: &SqlState) -> BackendErrorKind {
    if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::UNIQUE_VIOLATION
    {
        BackendErrorKind::Conflict
    } else if *code == SqlState::DISK_FULL || *code == SqlState::OUT_OF_MEMORY {
        BackendErrorKind::NoSpace
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        BackendErrorKind::PermissionDenied
    } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        BackendErrorKind::Corrupted
    } else if code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        BackendErrorKind::Unavailable
    } else {
        BackendErrorKind::Other
    }
}

/// Why a connection could not be made or was lost, without the URL (which
/// may hold a password).
fn connection_reason(e: &postgres::Error) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return format!("could not reach the server ({})", io.kind());
        }
        source = s.source();
    }
    "could not reach the server".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_get_their_kind() {
        let cases = [
            (
                SqlState::T_R_SERIALIZATION_FAILURE,
                BackendErrorKind::Conflict,
            ),
            (SqlState::T_R_DEADLOCK_DETECTED, BackendErrorKind::Conflict),
            (SqlState::UNIQUE_VIOLATION, BackendErrorKind::Conflict),
            (SqlState::DISK_FULL, BackendErrorKind::NoSpace),
            (
                SqlState::INSUFFICIENT_PRIVILEGE,
                BackendErrorKind::PermissionDenied,
            ),
            (SqlState::OUT_OF_MEMORY, BackendErrorKind::NoSpace),
            (SqlState::ADMIN_SHUTDOWN, BackendErrorKind::Unavailable),
            (SqlState::CRASH_SHUTDOWN, BackendErrorKind::Unavailable),
            (SqlState::CANNOT_CONNECT_NOW, BackendErrorKind::Unavailable),
            (
                SqlState::TOO_MANY_CONNECTIONS,
                BackendErrorKind::Unavailable,
            ),
            (SqlState::CONNECTION_FAILURE, BackendErrorKind::Unavailable),
            (SqlState::DATA_CORRUPTED, BackendErrorKind::Corrupted),
            (SqlState::INDEX_CORRUPTED, BackendErrorKind::Corrupted),
            (SqlState::SYNTAX_ERROR, BackendErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(kind_of(&code), kind, "{}", code.code());
        }
    }
}

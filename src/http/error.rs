//! Errors as the service answers them: a status and
//! `{"error": CODE, "message": TEXT}`, where CODE is the library's stable
//! code ([`codes`](crate::codes)). A library error keeps its code and its
//! message (which never quotes a value or a secret); the status says what
//! kind of failure it is.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::codes;
use crate::error::Error;

/// How long a client should wait before retrying a request the service
/// could not serve for now (a lost store, a rotation under way), in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;

/// An error response: its status and body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds to wait, when the service says (otherwise 503 says
    /// [`RETRY_AFTER_SECS`]).
    retry_after: Option<u64>,
}

/// The body of every error response (Humanitec's `HumanitecErrorResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The stable code of the error (the guide lists them).
    pub error: String,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: code.to_owned(),
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// A malformed request: 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID_REQUEST, message)
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The same error, saying to wait `secs` seconds before trying again.
    #[must_use]
    pub(crate) fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The `Retry-After` it answers with, if any.
    pub(crate) fn retry_after_header(&self) -> Option<HeaderValue> {
        match self.retry_after {
            Some(secs) => Some(HeaderValue::from(secs)),
            None => (self.status == StatusCode::SERVICE_UNAVAILABLE)
                .then(|| HeaderValue::from(RETRY_AFTER_SECS)),
        }
    }

    /// Its stable code.
    pub fn code(&self) -> &str {
        &self.body.error
    }

    /// What went wrong, for a person.
    pub(crate) fn message(&self) -> &str {
        &self.body.message
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        ApiError::new(status_of(code), code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.retry_after_header();
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(retry) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, retry);
        }
        response
    }
}

/// The status of a library error, by its code.
pub(crate) fn status_of(code: &str) -> StatusCode {
    match code {
        codes::FORBIDDEN => StatusCode::FORBIDDEN,
        codes::UNAUTHORIZED => StatusCode::UNAUTHORIZED,
        codes::UNKNOWN_APP
        | codes::UNKNOWN_ENV
        | codes::UNKNOWN_KEY
        | codes::UNKNOWN_VERSION
        | codes::UNKNOWN_TAG
        | codes::UNKNOWN_ORG
        | codes::UNKNOWN_ROUTE
        | codes::SECRET_NOT_FOUND => StatusCode::NOT_FOUND,
        codes::ALREADY_EXISTS
        | codes::KEY_EXISTS
        | codes::OVERRIDDEN_IN_ENVS
        | codes::NO_BASE_VALUE
        | codes::TEMPLATE_CYCLE
        | codes::RESTORE_PURGED => StatusCode::CONFLICT,
        codes::CONFLICT => StatusCode::PRECONDITION_FAILED,
        codes::BODY_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::REQUEST_TIMEOUT => StatusCode::REQUEST_TIMEOUT,
        codes::TOO_MANY_FAILED_TOKENS => StatusCode::TOO_MANY_REQUESTS,
        codes::BUSY
        | codes::BACKEND_UNAVAILABLE
        | codes::BACKEND_CONFLICT
        | codes::ROTATION_UNDER_WAY
        | codes::TOO_MANY_SUBSCRIBERS
        | codes::SECRET_STORE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        codes::NO_SPACE => StatusCode::INSUFFICIENT_STORAGE,
        // The secret store refused the service's own credentials.
        codes::SECRET_STORE_DENIED => StatusCode::BAD_GATEWAY,
        // The store's own data or configuration failed: not the caller's.
        codes::CORRUPTED
        | codes::TAMPERED
        | codes::UNSUPPORTED_FORMAT
        | codes::WRONG_MASTER_KEY
        | codes::DECRYPT_FAILED
        | codes::PERMISSION_DENIED
        | codes::BACKEND => StatusCode::INTERNAL_SERVER_ERROR,
        // Bad input, a purge the rules refuse, a template or workload that
        // does not resolve, a secret the configuration cannot take.
        _ => StatusCode::BAD_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_the_status_of_its_kind() {
        for code in codes::ALL {
            let status = status_of(code.name);
            // Whatever may succeed later without the caller changing
            // anything is 503 (and says when to retry), except a version
            // that moved on (412, the caller's precondition), a slow
            // request (408) and an address that guessed tokens (429).
            if code.name == codes::CONFLICT {
                assert_eq!(status, StatusCode::PRECONDITION_FAILED);
            } else if code.name == codes::REQUEST_TIMEOUT {
                assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
            } else if code.name == codes::TOO_MANY_FAILED_TOKENS {
                // Retryable by the same client later: 429, with how long.
                assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            } else {
                assert_eq!(
                    code.retryable,
                    status == StatusCode::SERVICE_UNAVAILABLE,
                    "{}",
                    code.name
                );
            }
            if code.name.starts_with("unknown_") && code.name != codes::UNKNOWN_SECRET_STORE {
                let fine = [
                    codes::UNKNOWN_CONTEXT,
                    codes::UNKNOWN_NAMESPACE,
                    codes::UNKNOWN_PATH,
                ];
                if !fine.contains(&code.name) {
                    assert_eq!(status, StatusCode::NOT_FOUND, "{}", code.name);
                }
            }
            if code.name.starts_with("invalid_") {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{}", code.name);
            }
        }
        assert_eq!(status_of(codes::ALREADY_EXISTS), StatusCode::CONFLICT);
        assert_eq!(status_of(codes::KEY_EXISTS), StatusCode::CONFLICT);
        assert_eq!(status_of(codes::FORBIDDEN), StatusCode::FORBIDDEN);
        assert_eq!(status_of(codes::UNAUTHORIZED), StatusCode::UNAUTHORIZED);
        assert_eq!(
            status_of(codes::BODY_TOO_LARGE),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(status_of(codes::NO_SPACE), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(
            status_of(codes::TAMPERED),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            status_of(codes::NOT_INTRODUCED_HERE),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of(codes::OVERRIDDEN_IN_ENVS), StatusCode::CONFLICT);
    }

    #[test]
    fn library_errors_keep_their_code_and_message() {
        let e = ApiError::from(Error::from(crate::id::AppId::new("Bad App").unwrap_err()));
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::BAD_REQUEST, codes::INVALID_ID)
        );
        assert!(e.body.message.contains("Bad App"));
        let e = ApiError::new(StatusCode::CONFLICT, codes::KEY_EXISTS, "there");
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "key_exists"));
    }

    #[test]
    fn unavailable_says_when_to_retry() {
        let r = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::BUSY, "busy").into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r = ApiError::bad_request("no").into_response();
        assert!(r.headers().get(header::RETRY_AFTER).is_none());
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}

//! What handlers take from a request, with every failure a 400 in the
//! service's error shape: path parameters checked against the library's
//! rules, JSON bodies, query strings and `If-Match`.
//!
//! A message about a malformed body never quotes what was sent: a value in
//! the wrong place may be a secret.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::codes;
use crate::id::{AppId, EnvId, Key};
use crate::model::{VersionId, VersionSelector};

use super::error::ApiError;
use super::ids::parse_selector;
use super::{Shared, ids};

/// The path's parameters, by name.
pub(crate) struct Params(HashMap<String, String>);

/// A JSON body; an empty body reads as `{}`.
pub(crate) struct Body<T>(pub(crate) T);

/// A query string.
pub(crate) struct Args<T>(pub(crate) T);

/// The `If-Match` header: the version a change expects to be current.
pub(crate) struct IfMatch(pub(crate) Option<String>);

impl Params {
    fn raw(&self, name: &str) -> Result<&str, ApiError> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ApiError::bad_request(format!("the path has no `{name}`")))
    }

    /// Checks the organization is the one the service serves.
    pub(crate) fn org(&self, shared: &Shared) -> Result<(), ApiError> {
        if self.raw("orgId")? != shared.org {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                codes::UNKNOWN_ORG,
                format!("this service serves the organization `{}`", shared.org),
            ));
        }
        Ok(())
    }

    /// The App, after checking the organization.
    pub(crate) fn app(&self, shared: &Shared) -> Result<AppId, ApiError> {
        self.org(shared)?;
        Ok(AppId::new(self.raw("appId")?).map_err(crate::Error::from)?)
    }

    /// The Environment, when the path has one.
    pub(crate) fn env(&self) -> Result<Option<EnvId>, ApiError> {
        match self.0.get("envId") {
            Some(e) => Ok(Some(EnvId::new(e.as_str()).map_err(crate::Error::from)?)),
            None => Ok(None),
        }
    }

    /// The App and, when the path has one, the Environment.
    pub(crate) fn level(&self, shared: &Shared) -> Result<(AppId, Option<EnvId>), ApiError> {
        Ok((self.app(shared)?, self.env()?))
    }

    /// The tag's name, as given.
    pub(crate) fn tag(&self) -> Result<&str, ApiError> {
        self.raw("tag")
    }

    /// The secret store's id.
    pub(crate) fn store_id(&self) -> Result<String, ApiError> {
        self.raw("storeId").map(str::to_owned)
    }

    /// The value's key.
    pub(crate) fn key(&self) -> Result<Key, ApiError> {
        Ok(Key::new(self.raw("key")?).map_err(crate::Error::from)?)
    }

    /// The version the path names, at the level it names.
    pub(crate) fn version(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
    ) -> Result<VersionSelector, ApiError> {
        let text = self.raw("valueSetVersionId")?;
        parse_selector(app, env, text).ok_or_else(|| unknown_version(text))
    }
}

impl IfMatch {
    /// The version expected to be current, if the request names one: its
    /// UUID or the library's id, bare or quoted as an entity tag.
    pub(crate) fn expect(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
    ) -> Result<Option<VersionId>, ApiError> {
        let Some(text) = &self.0 else {
            return Ok(None);
        };
        let bare = text.trim().trim_start_matches("W/").trim_matches('"');
        if let Some(id) = ids::version_from_uuid(app, env, bare) {
            return Ok(Some(id));
        }
        bare.parse().map(Some).map_err(|_| {
            ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                codes::CONFLICT,
                format!("`If-Match: {bare}` names no version of this level"),
            )
        })
    }
}

fn unknown_version(text: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::UNKNOWN_VERSION,
        format!("`{text}` names no version of this level"),
    )
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(Params(
            raw.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.headers.get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(h) => h
                .to_str()
                .map(|t| IfMatch(Some(t.to_owned())))
                .map_err(|_| ApiError::bad_request("`If-Match` is not text")),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Args<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(args) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("the query is not valid: {}", e.body_text()))
            })?;
        Ok(Args(args))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::BODY_TOO_LARGE,
                    "the body is larger than the service takes",
                )
            } else {
                ApiError::bad_request("the body could not be read")
            }
        })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(bytes).map(Body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not valid: {} (line {}, column {})",
                without_values(&e.to_string()),
                e.line(),
                e.column()
            ))
        })
    }
}

/// serde's message without any value it quotes: `invalid type: string
/// "hunter2", expected a boolean` becomes `invalid type: string, expected a
/// boolean`. Field names stay: they are the schema's or the caller's keys.
fn without_values(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let kind = rest.split([' ', ',']).next().unwrap_or("");
            let expected = rest.find(", expected").map_or("", |i| &rest[i..]);
            return format!("{prefix}{kind}{expected}");
        }
    }
    message.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_quote_what_was_sent() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            is_secret: bool,
        }
        let cases = [
            (
                r#"{"is_secret": "hunter2"}"#,
                "invalid type: string, expected a boolean",
            ),
            (
                r#"{"is_secret": 12345}"#,
                "invalid type: integer, expected a boolean",
            ),
            (r#"{"is_secret": true"#, "EOF while parsing an object"),
        ];
        for (text, says) in cases {
            let e = serde_json::from_str::<T>(text).unwrap_err().to_string();
            let clean = without_values(&e);
            assert_eq!(clean, says, "{e}");
            assert!(!clean.contains("hunter2") && !clean.contains("12345"));
        }
        assert_eq!(without_values("missing field `key`"), "missing field `key`");
    }
}

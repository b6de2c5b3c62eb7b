//! [`InvalidId`]: the error of an id, a key, a tag name or a version id
//! that breaks its rule, raised by their validating constructors, below
//! the crate's [`Error`](crate::Error).

use std::fmt;

use crate::codes;
use crate::text::Shown;

/// An id, key, tag name or version id that broke its rule. The message
/// names the input and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidId {
    /// An App or Environment id does not match
    /// `^[a-z0-9](?:-?[a-z0-9]+)+$` or is longer than 50 bytes.
    #[error("invalid {kind} `{}`: {rule}", Shown(input))]
    Id {
        /// What kind of id it was.
        kind: IdKind,
        /// The rejected input.
        input: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A key does not match `^[A-Za-z0-9._-]+$` or is not 1..=256 bytes long.
    #[error("invalid key `{}`: {rule}", Shown(input))]
    Key {
        /// The rejected input.
        input: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A version id that does not parse (ids look like `a12` or `e7`).
    #[error(
        "invalid version `{}`: use an id such as `a12` or `e7`, `latest`, or a tag",
        Shown(input)
    )]
    Version {
        /// The rejected input.
        input: String,
    },
    /// A tag name broke its rule.
    #[error("invalid tag `{}`: {rule}", Shown(input))]
    Tag {
        /// The rejected input.
        input: String,
        /// The rule it broke.
        rule: &'static str,
    },
}

impl InvalidId {
    /// The stable code of this error: `invalid_id`, `invalid_key`,
    /// `invalid_tag` or `invalid_version`.
    pub fn code(&self) -> &'static str {
        match self {
            InvalidId::Id { .. } => codes::INVALID_ID,
            InvalidId::Key { .. } => codes::INVALID_KEY,
            InvalidId::Tag { .. } => codes::INVALID_TAG,
            InvalidId::Version { .. } => codes::INVALID_VERSION,
        }
    }
}

/// The kind of a validated id, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdKind {
    /// An [`AppId`](crate::AppId).
    App,
    /// An [`EnvId`](crate::EnvId).
    Env,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::App => "app id",
            IdKind::Env => "environment id",
        })
    }
}

//! [`InvalidInput`]: the error of input that breaks a rule, raised by every
//! validating constructor, below the crate's [`Error`](crate::Error).

use std::fmt;

use crate::text::Shown;

use super::Key;
use crate::codes;

/// Input that broke a rule. The message names the input and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
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
    /// A master key that is not 64 hex characters. The message never shows
    /// the input.
    #[error("invalid master key: it must be 64 hex characters (32 bytes)")]
    MasterKey,
    /// A value longer than the store allows.
    #[error("value of `{key}` is {len} bytes, more than the limit of {max}")]
    ValueTooLong {
        /// The key.
        key: Key,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A description, a comment or an actor's name longer than the limit.
    /// The message gives sizes, never the text.
    #[error("{what} is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// What it is: "description of `KEY`", "comment" or "actor name".
        what: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An actor's name that is empty or holds a control character (a
    /// newline, say), which would garble the audit trail.
    #[error("invalid actor name `{}`: {rule}", Shown(name))]
    Actor {
        /// The rejected name.
        name: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A batch that asks for no change: no key to set or delete, and not
    /// `delete_all`.
    #[error("the batch changes nothing: give keys to set or delete, or delete all")]
    EmptyBatch,
    /// A namespace name is reserved (`values`, `context`) or not a plain
    /// token.
    #[error("invalid namespace name `{}`: {rule}", Shown(name))]
    Namespace {
        /// The rejected name.
        name: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// An export document that cannot be imported; nothing was written.
    #[error("the export cannot be imported: {reason}")]
    Export {
        /// What is wrong with it (never a value).
        reason: String,
    },
    /// A tag name broke its rule.
    #[error("invalid tag `{}`: {rule}", Shown(input))]
    Tag {
        /// The rejected input.
        input: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A template depth limit out of range.
    #[error("invalid template depth {depth}: give 1 to {max}")]
    TemplateDepth {
        /// The rejected limit.
        depth: usize,
        /// The largest allowed.
        max: usize,
    },
}

impl InvalidInput {
    /// The stable code of this error: `invalid_id`, `invalid_key`,
    /// `invalid_namespace`, `invalid_version`, `value_too_long`,
    /// `invalid_master_key`, `too_long`, `invalid_actor`, `empty_batch`,
    /// `invalid_template_depth`, `invalid_tag` or `invalid_export`.
    pub fn code(&self) -> &'static str {
        match self {
            InvalidInput::Id { .. } => codes::INVALID_ID,
            InvalidInput::Key { .. } => codes::INVALID_KEY,
            InvalidInput::Namespace { .. } => codes::INVALID_NAMESPACE,
            InvalidInput::Version { .. } => codes::INVALID_VERSION,
            InvalidInput::ValueTooLong { .. } => codes::VALUE_TOO_LONG,
            InvalidInput::MasterKey => codes::INVALID_MASTER_KEY,
            InvalidInput::TooLong { .. } => codes::TOO_LONG,
            InvalidInput::Actor { .. } => codes::INVALID_ACTOR,
            InvalidInput::EmptyBatch => codes::EMPTY_BATCH,
            InvalidInput::TemplateDepth { .. } => codes::INVALID_TEMPLATE_DEPTH,
            InvalidInput::Tag { .. } => codes::INVALID_TAG,
            InvalidInput::Export { .. } => codes::INVALID_EXPORT,
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

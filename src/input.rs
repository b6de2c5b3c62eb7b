//! [`InvalidInput`]: input that breaks a rule of the store (a size, a
//! name, a document), below the crate's [`Error`](crate::Error); an id
//! that breaks its own rule is an [`InvalidId`] inside it.

use crate::codes;
use crate::id::{InvalidId, Key};
use crate::text::Shown;

/// Input that broke a rule. The message names the input and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// An id, key, tag name or version id broke its rule.
    #[error(transparent)]
    Id(#[from] InvalidId),
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
    /// The stable code of this error: that of the [`InvalidId`] inside,
    /// or `invalid_namespace`, `value_too_long`, `invalid_master_key`,
    /// `too_long`, `invalid_actor`, `empty_batch`, `invalid_template_depth`
    /// or `invalid_export`.
    pub fn code(&self) -> &'static str {
        match self {
            InvalidInput::Id(e) => e.code(),
            InvalidInput::Namespace { .. } => codes::INVALID_NAMESPACE,
            InvalidInput::ValueTooLong { .. } => codes::VALUE_TOO_LONG,
            InvalidInput::MasterKey => codes::INVALID_MASTER_KEY,
            InvalidInput::TooLong { .. } => codes::TOO_LONG,
            InvalidInput::Actor { .. } => codes::INVALID_ACTOR,
            InvalidInput::EmptyBatch => codes::EMPTY_BATCH,
            InvalidInput::TemplateDepth { .. } => codes::INVALID_TEMPLATE_DEPTH,
            InvalidInput::Export { .. } => codes::INVALID_EXPORT,
        }
    }
}

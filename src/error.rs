//! The one public error type, [`Error`], with stable machine codes.
//!
//! Variants are grouped by what the caller can do about them, not by the
//! module that raised them. Every variant has a stable snake_case code
//! ([`Error::code`]) that `valuesctl` prints as `{"error": CODE}`; a released
//! code never changes.
//!
//! Messages are written for people: lowercase, no trailing period, offending
//! ids and keys in backticks, and never a value.

use std::fmt;

use crate::placeholder::ParseErrors;
use crate::resolve::ResolveErrors;
use crate::secret::SecretStoreError;

/// Everything that can go wrong in `valueset`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An id, key, value or name broke its rule (SPEC 1). Nothing was changed.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// A template has syntax errors; every error in it is listed (SPEC 5.1).
    #[error(transparent)]
    Template(#[from] ParseErrors),
    /// Placeholders could not be resolved; every failing placeholder is
    /// listed, with its span (SPEC 5.1, 5.4).
    #[error(transparent)]
    Unresolved(#[from] ResolveErrors),
    /// A [`SecretStore`](crate::secret::SecretStore) failed.
    #[error(transparent)]
    SecretStore(#[from] SecretStoreError),
}

impl Error {
    /// The stable snake_case code of this error, as `valuesctl` prints it.
    ///
    /// For [`Error::Unresolved`] this is the code of the first failing
    /// placeholder (`unknown_key`, `purged`, …), so that the common case of a
    /// single cause reads as that cause.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(e) => e.code(),
            Error::Template(_) => "invalid_template",
            Error::Unresolved(e) => e.code(),
            Error::SecretStore(e) => e.code(),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// A namespace name is reserved (`values`, `context`) or not a plain
    /// token.
    #[error("invalid namespace name `{}`: {rule}", Shown(name))]
    Namespace {
        /// The rejected name.
        name: String,
        /// The rule it broke.
        rule: &'static str,
    },
}

impl InvalidInput {
    /// The stable code of this error: `invalid_id`, `invalid_key` or
    /// `invalid_namespace`.
    pub fn code(&self) -> &'static str {
        match self {
            InvalidInput::Id { .. } => "invalid_id",
            InvalidInput::Key { .. } => "invalid_key",
            InvalidInput::Namespace { .. } => "invalid_namespace",
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

/// Shows rejected input in a message: control characters escaped, and cut
/// after 64 characters so that a value pasted by mistake is not echoed whole.
pub(crate) struct Shown<'a>(pub(crate) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        for (i, c) in self.0.chars().enumerate() {
            if i == MAX {
                return f.write_str("…");
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_cuts_and_escapes() {
        assert_eq!(Shown("a\nb").to_string(), "a\\nb");
        let long = "x".repeat(100);
        assert_eq!(Shown(&long).to_string(), format!("{}…", "x".repeat(64)));
    }
}

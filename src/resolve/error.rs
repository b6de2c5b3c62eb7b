//! What goes wrong when resolving: [`ResolveError`] per placeholder or
//! workload item, [`ResolveErrors`] for all of them, and
//! [`ResolveStrError`] when parsing and resolving at once.

use std::fmt;

use crate::id::InvalidId;
use crate::placeholder::{ParseErrorKind, ParseErrors, Span, write_capped};
use crate::secret::SecretStoreError;
use crate::text::Shown;

use super::CONTEXT_FIELDS;
use crate::codes;

/// One placeholder (or workload item) that could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveError {
    pub(super) item: Option<String>,
    pub(super) span: Option<Span>,
    pub(super) kind: ResolveErrorKind,
}

/// Why a placeholder could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResolveErrorKind {
    /// The template has a syntax error (when parsing and resolving at once).
    Syntax(ParseErrorKind),
    /// The first segment is not `values`, `context` or a registered
    /// namespace.
    UnknownNamespace {
        /// The first segment.
        namespace: String,
    },
    /// `${values}` without a key.
    MissingKey,
    /// The key after `values` breaks the key rule.
    InvalidKey(InvalidId),
    /// No value has this key.
    UnknownKey {
        /// The key.
        key: String,
    },
    /// The value was purged from the version being resolved.
    Purged {
        /// The key.
        key: String,
    },
    /// `${context.…}` names no context field.
    UnknownContext {
        /// The path as written canonically.
        path: String,
    },
    /// The context field is not set for this resolution.
    MissingContext {
        /// The field, as `context.deploy.id`.
        path: &'static str,
    },
    /// A namespace has nothing at the path.
    NotInNamespace {
        /// The path as written canonically.
        path: String,
    },
    /// A namespace failed.
    Namespace {
        /// The namespace.
        namespace: String,
        /// Its message.
        message: String,
    },
    /// A label would resolve to a secret; labels never can.
    SecretInLabel,
    /// A namespace output that is not allowed in secrets went into a string
    /// that holds a secret.
    SecretNotAllowed {
        /// The namespace whose output it was.
        namespace: String,
    },
    /// A secret could not be read.
    SecretStore(SecretStoreError),
    /// The placeholder names a secret and the caller may not resolve secrets.
    SecretForbidden {
        /// The key.
        key: String,
    },
    /// Template values use each other in a cycle (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)).
    TemplateCycle {
        /// The cycle, from the first key back to it: `[A, B, A]`.
        path: Vec<String>,
    },
    /// Template values nest deeper than the resolver's limit.
    TemplateTooDeep {
        /// The chain, outermost first, to the first key past the limit.
        path: Vec<String>,
        /// The limit.
        limit: usize,
    },
    /// A placeholder inside a template value failed.
    InValue {
        /// The template values it is in, outermost first.
        path: Vec<String>,
        /// What failed there.
        error: Box<ResolveErrorKind>,
    },
}

/// Every error from resolving a template or a workload. Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveErrors(pub(super) Vec<ResolveError>);

impl ResolveError {
    /// The workload item the error is in (`variables.DB_URL`,
    /// `webhooks.deploy.headers.Authorization`, …), when resolving a
    /// workload.
    pub fn item(&self) -> Option<&str> {
        self.item.as_deref()
    }

    /// The span of the placeholder, in the item's template; `None` for an
    /// error about the item as a whole (an invalid workload value key).
    pub fn span(&self) -> Option<Span> {
        self.span
    }

    /// What went wrong.
    pub fn kind(&self) -> &ResolveErrorKind {
        &self.kind
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(item) = &self.item {
            write!(f, "`{item}`: ")?;
        }
        write!(f, "{}", self.kind)?;
        if let Some(span) = self.span {
            write!(f, " (placeholder at bytes {span})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ResolveError {}

impl ResolveErrorKind {
    /// The stable snake_case code, as [`Error::code`](crate::Error::code) reports it.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveErrorKind::Syntax(_) => codes::INVALID_TEMPLATE,
            ResolveErrorKind::UnknownNamespace { .. } => codes::UNKNOWN_NAMESPACE,
            ResolveErrorKind::MissingKey => codes::MISSING_KEY,
            ResolveErrorKind::InvalidKey(_) => codes::INVALID_KEY,
            ResolveErrorKind::UnknownKey { .. } => codes::UNKNOWN_KEY,
            ResolveErrorKind::Purged { .. } => codes::PURGED,
            ResolveErrorKind::UnknownContext { .. } => codes::UNKNOWN_CONTEXT,
            ResolveErrorKind::MissingContext { .. } => codes::MISSING_CONTEXT,
            ResolveErrorKind::NotInNamespace { .. } => codes::UNKNOWN_PATH,
            ResolveErrorKind::Namespace { .. } => codes::NAMESPACE_FAILED,
            ResolveErrorKind::SecretInLabel => codes::SECRET_IN_LABEL,
            ResolveErrorKind::SecretNotAllowed { .. } => codes::SECRET_NOT_ALLOWED,
            ResolveErrorKind::SecretStore(e) => e.code(),
            ResolveErrorKind::SecretForbidden { .. } => codes::FORBIDDEN,
            ResolveErrorKind::TemplateCycle { .. } => codes::TEMPLATE_CYCLE,
            ResolveErrorKind::TemplateTooDeep { .. } => codes::TEMPLATE_TOO_DEEP,
            ResolveErrorKind::InValue { error, .. } => error.code(),
        }
    }
}

impl fmt::Display for ResolveErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveErrorKind::Syntax(kind) => write!(f, "{kind}"),
            ResolveErrorKind::UnknownNamespace { namespace } => write!(
                f,
                "unknown namespace `{}`: use `values`, `context` or a registered namespace",
                Shown(namespace)
            ),
            ResolveErrorKind::MissingKey => {
                f.write_str("`${values}` needs a key: write `${values.KEY}`")
            }
            ResolveErrorKind::InvalidKey(e) => write!(f, "{e}"),
            ResolveErrorKind::UnknownKey { key } => {
                write!(f, "no shared value has the key `{}`", Shown(key))
            }
            ResolveErrorKind::Purged { key } => write!(
                f,
                "the value of `{}` was purged from this version",
                Shown(key)
            ),
            ResolveErrorKind::UnknownContext { path } => write!(
                f,
                "unknown context path `{}`: use one of {}",
                Shown(path),
                CONTEXT_FIELDS.join(", ")
            ),
            ResolveErrorKind::MissingContext { path } => {
                write!(f, "`{path}` is not set for this resolution")
            }
            ResolveErrorKind::NotInNamespace { path } => {
                write!(f, "nothing is at `{}`", Shown(path))
            }
            ResolveErrorKind::Namespace { namespace, message } => {
                write!(f, "namespace `{namespace}` failed: {message}")
            }
            ResolveErrorKind::SecretInLabel => f.write_str(
                "a label can never be secret, but this placeholder resolves to a secret",
            ),
            ResolveErrorKind::SecretNotAllowed { namespace } => write!(
                f,
                "output of namespace `{namespace}` is not allowed in a secret, \
                 but this string also holds a secret"
            ),
            ResolveErrorKind::SecretStore(e) => write!(f, "{e}"),
            ResolveErrorKind::SecretForbidden { key } => write!(
                f,
                "`{}` is a secret, and resolving secrets needs app Developer or Owner, or org Administrator",
                Shown(key)
            ),
            ResolveErrorKind::TemplateCycle { path } => write!(
                f,
                "template cycle `{}`: a template value may not use itself, directly or through other values",
                Chain(path)
            ),
            ResolveErrorKind::TemplateTooDeep { path, limit } => write!(
                f,
                "template values nest deeper than {limit}: `{}`",
                Chain(path)
            ),
            ResolveErrorKind::InValue { path, error } => {
                write!(f, "in template value `{}`: {error}", Chain(path))
            }
        }
    }
}

/// A chain of keys as `A -> B -> C`, each shown safely.
struct Chain<'a>(&'a [String]);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            write!(f, "{}", Shown(key))?;
        }
        Ok(())
    }
}

impl ResolveErrors {
    /// The errors, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ResolveError> {
        self.0.iter()
    }

    /// How many errors there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: there is at least one error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The code of the first error.
    pub fn code(&self) -> &'static str {
        self.0.first().map_or(codes::UNRESOLVED, |e| e.kind.code())
    }
}

/// The message lists the first [`SHOWN_ERRORS`](crate::placeholder::SHOWN_ERRORS) errors, then how many more
/// there are; iterate for all of them.
impl fmt::Display for ResolveErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_capped(f, &self.0)
    }
}

impl std::error::Error for ResolveErrors {}

impl<'e> IntoIterator for &'e ResolveErrors {
    type Item = &'e ResolveError;
    type IntoIter = std::slice::Iter<'e, ResolveError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Why [`Resolver::resolve_str`](super::Resolver::resolve_str) failed. It
/// converts into the crate's [`Error`](crate::Error) as the variant of the
/// same name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveStrError {
    /// The text has syntax errors; every one is listed.
    #[error(transparent)]
    Template(#[from] ParseErrors),
    /// Placeholders could not be resolved; every one is listed.
    #[error(transparent)]
    Unresolved(#[from] ResolveErrors),
}

impl ResolveStrError {
    /// The stable code, as [`Error::code`](crate::Error::code) gives it.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveStrError::Template(_) => codes::INVALID_TEMPLATE,
            ResolveStrError::Unresolved(e) => e.code(),
        }
    }
}

//! Caller-registered namespaces: `${shared.…}`, `${externals.…}`, …

use std::fmt;

use crate::placeholder::Path;
use crate::secret::Secret;

use super::Context;

/// Resolves placeholders whose first segment is the name it was registered
/// under with [`Resolver::with_namespace`](super::Resolver::with_namespace).
///
/// Implementations must not put secret content into a [`NamespaceError`]:
/// its message reaches error output.
///
/// ```
/// use valueset::Template;
/// use valueset::placeholder::Path;
/// use valueset::resolve::{Context, Namespace, NamespaceError, Output, Resolver};
/// use std::collections::HashMap;
///
/// #[derive(Debug)]
/// struct Shared;
///
/// impl Namespace for Shared {
///     fn resolve(&self, path: &Path<'_>, _: &Context) -> Result<Output, NamespaceError> {
///         match path.tail(1).as_deref() {
///             Some("db.host") => Ok(Output::plain("db.internal".into())),
///             _ => Err(NamespaceError::NotFound),
///         }
///     }
/// }
///
/// let values = HashMap::<String, String>::new();
/// let resolver = Resolver::new(&values).with_namespace("shared", Shared)?;
/// let out = resolver.resolve_str("host=${shared.db.host}")?;
/// assert_eq!(out.as_plain(), Some("host=db.internal"));
/// # Ok::<(), valueset::Error>(())
/// ```
pub trait Namespace: Send + Sync + fmt::Debug + 'static {
    /// Resolves `path` (the whole path, including the namespace's own first
    /// segment) in `context`.
    ///
    /// # Errors
    ///
    /// [`NamespaceError::NotFound`] when the path names nothing;
    /// [`NamespaceError::Failed`] when the lookup itself failed.
    fn resolve(&self, path: &Path<'_>, context: &Context) -> Result<Output, NamespaceError>;
}

/// What a [`Namespace`] resolved a path to.
#[derive(Debug)]
pub struct Output {
    pub(super) value: OutputValue,
    pub(super) secret_allowed: bool,
}

#[derive(Debug)]
pub(super) enum OutputValue {
    Plain(String),
    Secret(Secret),
}

impl Output {
    /// A plain value.
    pub fn plain(value: String) -> Self {
        Output {
            value: OutputValue::Plain(value),
            secret_allowed: true,
        }
    }

    /// A secret value: any string it goes into becomes a secret.
    pub fn secret(value: Secret) -> Self {
        Output {
            value: OutputValue::Secret(value),
            secret_allowed: true,
        }
    }

    /// Marks the output as not allowed in a secret: a string that holds it
    /// and also a secret is an error, as a label that would be secret is.
    #[must_use]
    pub fn not_allowed_in_secrets(mut self) -> Self {
        self.secret_allowed = false;
        self
    }
}

/// A [`Namespace`] could not resolve a path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NamespaceError {
    /// The path names nothing in this namespace.
    #[error("nothing at this path")]
    NotFound,
    /// The lookup failed. The message is for people and must not hold secret
    /// content.
    #[error("{message}")]
    Failed {
        /// What went wrong.
        message: String,
    },
}

//! Resolving templates for a deployment (guide: [Resolution is the only way out](crate::_documentation::guide#resolution-is-the-only-way-out), [Single pass](crate::_documentation::guide#single-pass), [What can be resolved](crate::_documentation::guide#what-can-be-resolved)).
//!
//! A [`Resolver`] looks `${values.KEY}` up through a [`Values`]
//! implementation (the versioned store, a plain map, [`MapValues`]),
//! `${context.…}` in a [`Context`], and any other first segment in a
//! caller-registered [`Namespace`].
//!
//! Resolution is single pass: an inserted value is text, never parsed again.
//! It writes into one output buffer. The result carries its taint in its
//! type: [`Resolved::Plain`] or, as soon as one placeholder hit a secret,
//! [`Resolved::Secret`]. A template without placeholders comes back borrowed.
//!
//! ```
//! use valueset::{Key, Secret};
//! use valueset::resolve::{MapValues, Resolver, Resolved};
//!
//! let mut values = MapValues::new();
//! values.insert(Key::new("db.host")?, "db.internal");
//! values.insert_secret(Key::new("db.password")?, Secret::new("s3cr3t".into()));
//! let resolver = Resolver::new(&values);
//!
//! let plain = resolver.resolve_str("host=${values.db.host}")?;
//! assert_eq!(plain.as_plain(), Some("host=db.internal"));
//!
//! let url = resolver.resolve_str("postgres://app:${values.db.password}@${values.db.host}")?;
//! assert!(url.is_secret());
//! assert_eq!(format!("{url:?}"), "Secret(Secret([redacted]))");
//! # Ok::<(), valueset::Error>(())
//! ```

mod buffer;
mod error;
mod fast;
mod namespace;
mod nested;
mod render;
mod values;
mod workload;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::id::{MAX_KEY_LEN, check_key};
use crate::input::InvalidInput;
use crate::placeholder::{Path, Template};
use crate::secret::Secret;

pub use buffer::ResolveBuffer;
pub use error::{ResolveError, ResolveErrorKind, ResolveErrors, ResolveStrError};
pub use namespace::{Namespace, NamespaceError, Output};
pub use nested::{DEFAULT_TEMPLATE_DEPTH, MAX_TEMPLATE_DEPTH};
pub use values::{LookupError, MapValues, Value, Values};
pub use workload::{
    FileTemplate, ResolvedFile, ResolvedWebhook, ResolvedWorkload, WebhookTemplate, Workload,
};

use namespace::OutputValue;
use nested::Nesting;
use render::Render;

/// A resolved string. Its type says whether a secret went into it.
///
/// There is no way to turn a [`Resolved::Secret`] into a plain string other
/// than [`Secret::expose_secret`].
#[derive(Debug)]
pub enum Resolved<'a> {
    /// No secret went in. Borrowed from the template when it had no
    /// placeholder.
    Plain(Cow<'a, str>),
    /// At least one placeholder resolved to a secret, so the whole string is
    /// one.
    Secret(Secret),
}

/// Where a deployment happens: the values of `${context.app.id}`,
/// `${context.env.id}`, `${context.org.id}`, `${context.workload.id}` and
/// `${context.deploy.id}`. A placeholder naming a field that is `None` is an
/// error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// `${context.app.id}`.
    pub app: Option<String>,
    /// `${context.env.id}`.
    pub env: Option<String>,
    /// `${context.org.id}`.
    pub org: Option<String>,
    /// `${context.workload.id}`; filled from the workload's id when resolving
    /// a workload.
    pub workload: Option<String>,
    /// `${context.deploy.id}`.
    pub deploy: Option<String>,
}

/// Resolves templates against values, a context and namespaces.
#[derive(Clone)]
pub struct Resolver<'r> {
    values: &'r dyn Values,
    context: Context,
    namespaces: BTreeMap<String, Arc<dyn Namespace>>,
    template_depth: usize,
}

const CONTEXT_FIELDS: [&str; 5] = [
    "context.app.id",
    "context.env.id",
    "context.org.id",
    "context.workload.id",
    "context.deploy.id",
];

impl<'a> Resolved<'a> {
    /// Whether a secret went into this string.
    pub fn is_secret(&self) -> bool {
        matches!(self, Resolved::Secret(_))
    }

    /// The text, if it is plain.
    pub fn as_plain(&self) -> Option<&str> {
        match self {
            Resolved::Plain(s) => Some(s),
            Resolved::Secret(_) => None,
        }
    }

    /// The text, if it is plain, without copying.
    pub fn into_plain(self) -> Option<Cow<'a, str>> {
        match self {
            Resolved::Plain(s) => Some(s),
            Resolved::Secret(_) => None,
        }
    }

    /// The secret, if it is one.
    pub fn as_secret(&self) -> Option<&Secret> {
        match self {
            Resolved::Secret(s) => Some(s),
            Resolved::Plain(_) => None,
        }
    }

    /// Detaches the result from the template's lifetime.
    pub fn into_owned(self) -> Resolved<'static> {
        match self {
            Resolved::Plain(s) => Resolved::Plain(Cow::Owned(s.into_owned())),
            Resolved::Secret(s) => Resolved::Secret(s),
        }
    }
}

impl<'r> Resolver<'r> {
    /// A resolver that looks `${values.KEY}` up in `values`, with an empty
    /// context and no namespaces.
    pub fn new(values: &'r dyn Values) -> Self {
        Resolver {
            values,
            context: Context::default(),
            namespaces: BTreeMap::new(),
            template_depth: DEFAULT_TEMPLATE_DEPTH,
        }
    }

    /// Sets how deep template values may nest (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)):
    /// a value that a template names directly is at depth 1, a value that
    /// one names at depth 2, and so on. The default is
    /// [`DEFAULT_TEMPLATE_DEPTH`] (16); at most [`MAX_TEMPLATE_DEPTH`] (64).
    ///
    /// # Errors
    ///
    /// [`InvalidInput::TemplateDepth`] for 0 or more than
    /// [`MAX_TEMPLATE_DEPTH`].
    pub fn with_template_depth(mut self, depth: usize) -> Result<Self, InvalidInput> {
        check_template_depth(depth)?;
        self.template_depth = depth;
        Ok(self)
    }

    /// Sets the context for `${context.…}`.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Registers `namespace` for placeholders whose first segment is `name`.
    /// Registering a name again replaces the earlier namespace.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::Namespace`] when `name` is `values` or `context`
    /// (built in) or not a name (`[A-Za-z0-9_-]+`).
    pub fn with_namespace(
        mut self,
        name: &str,
        namespace: impl Namespace,
    ) -> Result<Self, InvalidInput> {
        let rule = if name == "values" || name == "context" {
            Some("`values` and `context` are built in")
        } else if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            Some("a namespace is a name of letters, digits, `_` and `-`")
        } else {
            None
        };
        if let Some(rule) = rule {
            return Err(InvalidInput::Namespace {
                name: name.to_owned(),
                rule,
            });
        }
        self.namespaces.insert(name.to_owned(), Arc::new(namespace));
        Ok(self)
    }

    /// Sets a template depth limit already checked with
    /// [`check_template_depth`].
    pub(crate) fn with_checked_template_depth(mut self, depth: usize) -> Self {
        self.template_depth = depth;
        self
    }

    /// The context placeholders resolve in.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Resolves a parsed template.
    ///
    /// # Errors
    ///
    /// [`ResolveErrors`] listing every placeholder that could not be
    /// resolved, each with its span.
    pub fn resolve<'a>(&self, template: &Template<'a>) -> Result<Resolved<'a>, ResolveErrors> {
        let nesting = Nesting::new(self.template_depth);
        let source = template.source();
        let mut render = Render::new(self, self.values, &self.context, None, &nesting, source);
        for segment in template.segments() {
            render.segment(segment);
        }
        render.finish().map(|r| r.resolved).map_err(ResolveErrors)
    }

    /// Parses and resolves `text`.
    ///
    /// # Errors
    ///
    /// [`ResolveStrError::Template`] when `text` has syntax errors (every
    /// one of them); [`ResolveStrError::Unresolved`] when placeholders could
    /// not be resolved. Both convert into the crate's
    /// [`Error`](crate::Error), as [`Error::Template`](crate::Error::Template)
    /// and [`Error::Unresolved`](crate::Error::Unresolved).
    ///
    /// This resolves while it parses, without collecting the segments.
    pub fn resolve_str<'a>(&self, text: &'a str) -> Result<Resolved<'a>, ResolveStrError> {
        let stop = fast::run(self, text, None);
        fast::resolved(self, text, stop)
    }

    /// [`resolve_str`](Self::resolve_str), writing into `out`, a buffer the
    /// caller keeps for the next call: resolving many values then allocates
    /// once. `out` is emptied first; on an error it is left empty.
    ///
    /// # Errors
    ///
    /// Those of [`resolve_str`](Self::resolve_str).
    pub fn resolve_into(&self, text: &str, out: &mut ResolveBuffer) -> Result<(), ResolveStrError> {
        let mut buffer = std::mem::take(&mut out.out);
        buffer.clear();
        let stop = fast::run(self, text, Some(buffer));
        match fast::finish(self, text, stop)? {
            render::Written::Buf(buffer) => out.out = buffer,
            // The buffer was given, so the text was written into it.
            render::Written::Same(_) => {}
        }
        Ok(())
    }

    /// Looks one path up. The `bool` is whether the value may go into a
    /// secret.
    fn lookup<'s>(
        &'s self,
        path: &Path<'_>,
        values: &'s dyn Values,
        context: &'s Context,
    ) -> Result<(Value<'s>, bool), ResolveErrorKind> {
        let (first, tail) = path.split_first();
        match first {
            "values" => {
                let Some(key) = tail else {
                    return Err(ResolveErrorKind::MissingKey);
                };
                // A dotted path is names and dots, all key characters: only
                // the length can be wrong.
                if !path.is_dotted() || key.len() > MAX_KEY_LEN {
                    check_key(&key).map_err(ResolveErrorKind::InvalidKey)?;
                }
                match values.value(&key) {
                    Ok(Some(v)) => Ok((v, true)),
                    Ok(None) => Err(ResolveErrorKind::UnknownKey {
                        key: key.into_owned(),
                    }),
                    Err(LookupError::Purged) => Err(ResolveErrorKind::Purged {
                        key: key.into_owned(),
                    }),
                    Err(LookupError::SecretStore(e)) => Err(ResolveErrorKind::SecretStore(e)),
                    Err(LookupError::Forbidden) => Err(ResolveErrorKind::SecretForbidden {
                        key: key.into_owned(),
                    }),
                }
            }
            "context" => {
                let mut segments = path.segments().skip(1);
                let field = match (segments.next(), segments.next(), segments.next()) {
                    (Some(name), Some("id"), None) => match name {
                        "app" => Some((&context.app, CONTEXT_FIELDS[0])),
                        "env" => Some((&context.env, CONTEXT_FIELDS[1])),
                        "org" => Some((&context.org, CONTEXT_FIELDS[2])),
                        "workload" => Some((&context.workload, CONTEXT_FIELDS[3])),
                        "deploy" => Some((&context.deploy, CONTEXT_FIELDS[4])),
                        _ => None,
                    },
                    _ => None,
                };
                let (value, name) = field.ok_or_else(|| ResolveErrorKind::UnknownContext {
                    path: path.to_string(),
                })?;
                let Some(value) = value.as_deref() else {
                    return Err(ResolveErrorKind::MissingContext { path: name });
                };
                Ok((Value::Plain(Cow::Borrowed(value)), true))
            }
            namespace => {
                let resolver = self.namespaces.get(namespace).ok_or_else(|| {
                    ResolveErrorKind::UnknownNamespace {
                        namespace: namespace.to_owned(),
                    }
                })?;
                let output = resolver.resolve(path, context).map_err(|e| match e {
                    NamespaceError::NotFound => ResolveErrorKind::NotInNamespace {
                        path: path.to_string(),
                    },
                    NamespaceError::Failed { message } => ResolveErrorKind::Namespace {
                        namespace: namespace.to_owned(),
                        message,
                    },
                })?;
                let value = match output.value {
                    OutputValue::Plain(s) => Value::Plain(Cow::Owned(s)),
                    OutputValue::Secret(s) => Value::OwnedSecret(s),
                };
                Ok((value, output.secret_allowed))
            }
        }
    }
}

/// Checks a template depth limit: 1 to [`MAX_TEMPLATE_DEPTH`].
pub(crate) fn check_template_depth(depth: usize) -> Result<(), InvalidInput> {
    if (1..=MAX_TEMPLATE_DEPTH).contains(&depth) {
        Ok(())
    } else {
        Err(InvalidInput::TemplateDepth {
            depth,
            max: MAX_TEMPLATE_DEPTH,
        })
    }
}

impl fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("context", &self.context)
            .field("namespaces", &self.namespaces.keys().collect::<Vec<_>>())
            .field("template_depth", &self.template_depth)
            .finish_non_exhaustive()
    }
}

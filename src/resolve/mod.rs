//! Resolving templates for a deployment (SPEC 4.2, 5.3, 5.4).
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

mod namespace;
mod workload;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use zeroize::Zeroize;

use crate::error::{Error, InvalidInput, Shown};
use crate::id::{Key, MAX_KEY_LEN, check_key};
use crate::placeholder::{ParseErrorKind, Path, Segment, Span, Template};
use crate::secret::{Secret, SecretStoreError};

pub use namespace::{Namespace, NamespaceError, Output};
pub use workload::{
    FileTemplate, ResolvedFile, ResolvedWebhook, ResolvedWorkload, WebhookTemplate, Workload,
};

use namespace::OutputValue;

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

/// Where `${values.KEY}` is looked up.
///
/// `key` has already been checked against the [`Key`] rule, so an
/// implementation can look it up as it is.
pub trait Values {
    /// The effective value of `key`, or `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`LookupError::Purged`] when the value was purged from the version
    /// being resolved; [`LookupError::SecretStore`] when a secret could not be
    /// read.
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError>;
}

/// A value found by [`Values::value`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Value<'v> {
    /// A plain value.
    Plain(Cow<'v, str>),
    /// A secret held by the lookup.
    Secret(&'v Secret),
    /// A secret read for this lookup (from a secret store).
    OwnedSecret(Secret),
}

/// Why a [`Values`] lookup failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The value was purged from the version being resolved.
    #[error("the value was purged")]
    Purged,
    /// A secret could not be read from its store.
    #[error(transparent)]
    SecretStore(#[from] SecretStoreError),
    /// The caller may not resolve secrets (an app Viewer, SPEC 6).
    #[error("resolving secrets is not allowed for this caller")]
    Forbidden,
}

/// A plain map of values, secrets and purged entries, for tests, examples
/// and callers that keep values elsewhere.
///
/// `Debug` prints keys and kinds, never values.
#[derive(Default)]
pub struct MapValues {
    entries: HashMap<Key, Entry>,
}

enum Entry {
    Plain(String),
    Secret(Secret),
    Purged,
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
}

/// One placeholder (or workload item) that could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveError {
    item: Option<String>,
    span: Option<Span>,
    kind: ResolveErrorKind,
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
    InvalidKey(InvalidInput),
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
}

/// Every error from resolving a template or a workload. Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveErrors(Vec<ResolveError>);

/// The growing output of one resolution. Once a secret has gone in, growing
/// the buffer copies it and wipes the old allocation, and dropping it wipes
/// it, so no copy of secret bytes is left behind in freed memory.
struct OutBuf {
    buf: String,
    tainted: bool,
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

impl MapValues {
    /// An empty map.
    pub fn new() -> Self {
        MapValues::default()
    }

    /// Sets a plain value.
    pub fn insert(&mut self, key: Key, value: impl Into<String>) {
        self.entries.insert(key, Entry::Plain(value.into()));
    }

    /// Sets a secret value.
    pub fn insert_secret(&mut self, key: Key, value: Secret) {
        self.entries.insert(key, Entry::Secret(value));
    }

    /// Marks a key as purged: resolving it fails with
    /// [`ResolveErrorKind::Purged`].
    pub fn insert_purged(&mut self, key: Key) {
        self.entries.insert(key, Entry::Purged);
    }
}

impl fmt::Debug for MapValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<_> = self.entries.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        f.debug_map()
            .entries(keys.into_iter().map(|(k, e)| {
                let kind = match e {
                    Entry::Plain(_) => "plain",
                    Entry::Secret(_) => "secret",
                    Entry::Purged => "purged",
                };
                (k.as_str(), kind)
            }))
            .finish()
    }
}

impl Values for MapValues {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        match self.entries.get(key) {
            None => Ok(None),
            Some(Entry::Plain(v)) => Ok(Some(Value::Plain(Cow::Borrowed(v)))),
            Some(Entry::Secret(s)) => Ok(Some(Value::Secret(s))),
            Some(Entry::Purged) => Err(LookupError::Purged),
        }
    }
}

impl<S: std::hash::BuildHasher> Values for HashMap<String, String, S> {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        Ok(self.get(key).map(|v| Value::Plain(Cow::Borrowed(v))))
    }
}

impl Values for BTreeMap<String, String> {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        Ok(self.get(key).map(|v| Value::Plain(Cow::Borrowed(v))))
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
        }
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
    /// [`Error::Invalid`] when `name` is `values` or `context` (built in) or
    /// not a name (`[A-Za-z0-9_-]+`).
    pub fn with_namespace(mut self, name: &str, namespace: impl Namespace) -> Result<Self, Error> {
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
            }
            .into());
        }
        self.namespaces.insert(name.to_owned(), Arc::new(namespace));
        Ok(self)
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
        let mut render = Render::new(self, self.values, &self.context, None, template.source());
        for segment in template.segments() {
            render.segment(segment);
        }
        render.finish().map(|r| r.resolved).map_err(ResolveErrors)
    }

    /// Parses and resolves `text`.
    ///
    /// # Errors
    ///
    /// [`Error::Template`] when `text` has syntax errors;
    /// [`Error::Unresolved`] when placeholders could not be resolved.
    ///
    /// This resolves while it parses, without collecting the segments.
    pub fn resolve_str<'a>(&self, text: &'a str) -> Result<Resolved<'a>, Error> {
        let mut render = Render::new(self, self.values, &self.context, None, text);
        Template::scan(text, |segment| render.segment(&segment))?;
        Ok(render.finish().map(|r| r.resolved).map_err(ResolveErrors)?)
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

impl fmt::Debug for Resolver<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("context", &self.context)
            .field("namespaces", &self.namespaces.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A rendered template and the span of the first placeholder that put a
/// secret in (for label errors).
struct Rendered<'a> {
    resolved: Resolved<'a>,
    first_secret: Option<Span>,
}

/// One resolution in progress, fed segment by segment (from a parsed
/// [`Template`] or straight from [`Template::scan`]).
///
/// A single literal is kept borrowed; the output buffer is made only when a
/// second segment or a placeholder comes.
struct Render<'a, 's> {
    resolver: &'s Resolver<'s>,
    values: &'s dyn Values,
    context: &'s Context,
    item: Option<&'s str>,
    capacity: usize,
    first: Option<&'a str>,
    out: Option<OutBuf>,
    first_secret: Option<Span>,
    forbidden: Option<(Span, String)>,
    errors: Vec<ResolveError>,
}

impl<'a, 's> Render<'a, 's> {
    fn new(
        resolver: &'s Resolver<'s>,
        values: &'s dyn Values,
        context: &'s Context,
        item: Option<&'s str>,
        source: &str,
    ) -> Self {
        Render {
            resolver,
            values,
            context,
            item,
            // Values are often longer than the placeholders they replace.
            capacity: source.len() + source.len() / 4,
            first: None,
            out: None,
            first_secret: None,
            forbidden: None,
            errors: Vec::new(),
        }
    }

    fn out(&mut self) -> &mut OutBuf {
        let first = self.first.take();
        let capacity = self.capacity;
        self.out.get_or_insert_with(|| {
            let mut out = OutBuf {
                buf: String::with_capacity(capacity),
                tainted: false,
            };
            if let Some(text) = first {
                out.push(text);
            }
            out
        })
    }

    fn segment(&mut self, segment: &Segment<'a>) {
        match segment {
            Segment::Literal(text) => {
                if self.out.is_none() && self.first.is_none() {
                    self.first = Some(text);
                } else {
                    self.out().push(text);
                }
            }
            Segment::Placeholder(p) => {
                let path = p.path();
                match self.resolver.lookup(path, self.values, self.context) {
                    Ok((value, secret_allowed)) => {
                        if !secret_allowed && self.forbidden.is_none() {
                            self.forbidden = Some((p.span(), path.first().to_owned()));
                        }
                        match value {
                            Value::Plain(text) => self.out().push(&text),
                            Value::Secret(s) => {
                                self.first_secret.get_or_insert(p.span());
                                self.out().push_secret(s.expose_secret());
                            }
                            Value::OwnedSecret(s) => {
                                self.first_secret.get_or_insert(p.span());
                                self.out().push_secret(s.expose_secret());
                            }
                        }
                    }
                    Err(kind) => self.errors.push(ResolveError {
                        item: self.item.map(str::to_owned),
                        span: Some(p.span()),
                        kind,
                    }),
                }
            }
        }
    }

    fn finish(mut self) -> Result<Rendered<'a>, Vec<ResolveError>> {
        if let (Some((span, namespace)), Some(_)) = (self.forbidden.take(), self.first_secret) {
            self.errors.push(ResolveError {
                item: self.item.map(str::to_owned),
                span: Some(span),
                kind: ResolveErrorKind::SecretNotAllowed { namespace },
            });
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let resolved = match (self.out, self.first) {
            (Some(out), _) => out.finish(),
            (None, first) => Resolved::Plain(Cow::Borrowed(first.unwrap_or(""))),
        };
        Ok(Rendered {
            resolved,
            first_secret: self.first_secret,
        })
    }
}

impl OutBuf {
    fn push(&mut self, text: &str) {
        let needed = self.buf.len() + text.len();
        if self.tainted && needed > self.buf.capacity() {
            let mut bigger = String::with_capacity(needed.max(self.buf.capacity() * 2));
            bigger.push_str(&self.buf);
            let mut old = std::mem::replace(&mut self.buf, bigger);
            old.zeroize();
        }
        self.buf.push_str(text);
    }

    fn push_secret(&mut self, text: &str) {
        self.tainted = true;
        self.push(text);
    }

    fn finish(mut self) -> Resolved<'static> {
        let buf = std::mem::take(&mut self.buf);
        if self.tainted {
            Resolved::Secret(Secret::new(buf))
        } else {
            Resolved::Plain(Cow::Owned(buf))
        }
    }
}

impl Drop for OutBuf {
    fn drop(&mut self) {
        if self.tainted {
            self.buf.zeroize();
        }
    }
}

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
    /// The stable snake_case code, as [`Error::code`] reports it.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveErrorKind::Syntax(_) => "invalid_template",
            ResolveErrorKind::UnknownNamespace { .. } => "unknown_namespace",
            ResolveErrorKind::MissingKey => "missing_key",
            ResolveErrorKind::InvalidKey(_) => "invalid_key",
            ResolveErrorKind::UnknownKey { .. } => "unknown_key",
            ResolveErrorKind::Purged { .. } => "purged",
            ResolveErrorKind::UnknownContext { .. } => "unknown_context",
            ResolveErrorKind::MissingContext { .. } => "missing_context",
            ResolveErrorKind::NotInNamespace { .. } => "unknown_path",
            ResolveErrorKind::Namespace { .. } => "namespace_failed",
            ResolveErrorKind::SecretInLabel => "secret_in_label",
            ResolveErrorKind::SecretNotAllowed { .. } => "secret_not_allowed",
            ResolveErrorKind::SecretStore(e) => e.code(),
            ResolveErrorKind::SecretForbidden { .. } => "forbidden",
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
        }
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
        self.0.first().map_or("unresolved", |e| e.kind.code())
    }
}

impl fmt::Display for ResolveErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
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

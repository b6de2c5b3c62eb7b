//! Where `${values.KEY}` is looked up: the [`Values`] trait, and
//! [`MapValues`] and std maps that implement it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::id::Key;
use crate::secret::{Secret, SecretStoreError};

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

    /// A hint before a workload renders: `keys` are those its templates
    /// name, about to be looked up (with, in turn, the keys the template
    /// values among them name). Values whose lookups are slow (secrets in
    /// a remote store) fetch them together here instead of one by one; the
    /// default does nothing.
    fn prefetch(&self, keys: &[&str]) {
        let _ = keys;
    }
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
    /// A template: the resolver resolves its placeholders against the same
    /// values and inserts the result (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)).
    Template(Cow<'v, str>),
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
    /// The caller may not resolve secrets (an app Viewer, guide: [Who may do what](crate::_documentation::guide#who-may-do-what)).
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
    Template(String),
    Secret(Secret),
    Purged,
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

    /// Sets a template value: its placeholders are resolved against this
    /// map when a template uses it.
    pub fn insert_template(&mut self, key: Key, template: impl Into<String>) {
        self.entries.insert(key, Entry::Template(template.into()));
    }

    /// Sets a secret value.
    pub fn insert_secret(&mut self, key: Key, value: Secret) {
        self.entries.insert(key, Entry::Secret(value));
    }

    /// Marks a key as purged: resolving it fails with
    /// [`ResolveErrorKind::Purged`](super::ResolveErrorKind::Purged).
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
                    Entry::Template(_) => "template",
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
            Some(Entry::Template(v)) => Ok(Some(Value::Template(Cow::Borrowed(v)))),
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

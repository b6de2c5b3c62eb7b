//! The objects of the [guide](crate::_documentation::guide) as callers see them: read views, versions,
//! changes, actors and roles. None of them holds secret content, but for
//! [`NewValue::Secret`], a secret on its way in, whose `Debug` is the
//! secret's redacted one (and which has no serde); so their `Debug` and
//! serde output are safe to print.

mod actor;
mod diff;
mod info;
mod preview;
mod tag;
mod time;
mod version;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::id::Key;
use crate::secret::{Secret, SecretRef};

pub use actor::{Actor, AppRole, MAX_ACTOR_NAME_LEN, OrgRole};
pub use diff::{Diff, DiffEnd, KeyDiff, ValueChange};
pub use info::{AppInfo, DEFAULT_ENV_TYPE, EnvInfo, MAX_NAME_LEN};
pub use preview::{ChangePreview, PurgePreview};
pub use tag::{Tag, TagMove};
pub use time::{Clock, SystemClock, Timestamp};
pub use version::{Change, ChangeOp, ResultOf, Version, VersionId, VersionInfo, VersionSelector};

/// Which level a value comes from (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The App's base value.
    App,
    /// The Environment's override.
    Env,
}

/// A shared value as a read shows it: never a secret's content.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueView {
    /// The key.
    pub key: Key,
    /// What the value is for.
    pub description: String,
    /// Where it comes from.
    pub source: Source,
    /// When the key was created at this level.
    pub created_at: Timestamp,
    /// When it last changed at this level.
    pub updated_at: Timestamp,
    /// The value, or where the secret is.
    pub content: Content,
    /// Whether the value is a template: its placeholders are resolved
    /// against the same Environment's values when a deployment resolves it
    /// (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)).
    /// A read shows the template's text, never what it resolves to.
    pub template: bool,
}

/// What a [`ValueView`] shows of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A plain value, returned by every read.
    Plain(String),
    /// A secret: its version and location, never its content.
    Secret(SecretInfo),
}

/// Where a secret is, and its version (guide: [Secret versions](crate::_documentation::guide#secret-versions)). No content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SecretInfo {
    /// 1 when created, +1 each time the value changes, per level.
    pub secret_version: u32,
    /// The id of the [`SecretStore`](crate::secret::SecretStore) that holds it.
    pub secret_store_id: String,
    /// The secret's location in that store.
    pub secret_ref: SecretRef,
    /// Whether the library stored it (a submitted secret) or it belongs to
    /// its owner (a reference).
    pub managed: bool,
}

/// One key of a version snapshot: a value, or a value that was purged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotValue {
    /// The value as it stood.
    Value(ValueView),
    /// The value was purged from this version (guide: [Purge](crate::_documentation::guide#purge)).
    Purged {
        /// The key.
        key: Key,
        /// Where the purged value came from.
        source: Source,
    },
}

/// A new value to set.
#[derive(Debug)]
#[non_exhaustive]
pub enum NewValue {
    /// A plain value.
    Plain(String),
    /// A plain value that is a template: its `${values.KEY}` and other
    /// placeholders are resolved when a deployment resolves it (guide:
    /// [Values that use values](crate::_documentation::guide#values-that-use-values)).
    /// Its syntax is checked when it is set.
    Template(String),
    /// A secret, given once and kept in the store's secret store.
    Secret(Secret),
    /// A reference to a secret managed by its owner in a registered
    /// [`SecretStore`](crate::secret::SecretStore).
    SecretRef {
        /// The store's id.
        store: String,
        /// Where the secret is in that store.
        reference: SecretRef,
    },
}

impl ValueView {
    /// Whether the value is a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self.content, Content::Secret(_))
    }

    /// The plain value; `None` for a secret.
    pub fn plain(&self) -> Option<&str> {
        match &self.content {
            Content::Plain(v) => Some(v),
            Content::Secret(_) => None,
        }
    }

    /// The secret's version and location; `None` for a plain value.
    pub fn secret(&self) -> Option<&SecretInfo> {
        match &self.content {
            Content::Secret(s) => Some(s),
            Content::Plain(_) => None,
        }
    }
}

/// The JSON shape `valuesctl` prints ([guide](crate::_documentation::guide#valuesctl)): `{"key", "value" (absent for secrets),
/// "description", "is_secret", "secret_version", "secret_store_id" (secrets
/// only), "source", "created_at", "updated_at", "template"}`.
impl Serialize for ValueView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("key", &self.key)?;
        match &self.content {
            Content::Plain(v) => map.serialize_entry("value", v)?,
            Content::Secret(info) => {
                map.serialize_entry("secret_version", &info.secret_version)?;
                map.serialize_entry("secret_store_id", &info.secret_store_id)?;
                map.serialize_entry("secret_ref", &info.secret_ref)?;
            }
        }
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("is_secret", &self.is_secret())?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("created_at", &self.created_at)?;
        map.serialize_entry("updated_at", &self.updated_at)?;
        map.serialize_entry("template", &self.template)?;
        map.end()
    }
}

impl SnapshotValue {
    /// The key.
    pub fn key(&self) -> &Key {
        match self {
            SnapshotValue::Value(v) => &v.key,
            SnapshotValue::Purged { key, .. } => key,
        }
    }

    /// The value, unless it was purged.
    pub fn value(&self) -> Option<&ValueView> {
        match self {
            SnapshotValue::Value(v) => Some(v),
            SnapshotValue::Purged { .. } => None,
        }
    }
}

/// A value as [`ValueView`] prints it; a purged one as
/// `{"key", "purged": true, "source"}`.
impl Serialize for SnapshotValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SnapshotValue::Value(v) => v.serialize(s),
            SnapshotValue::Purged { key, source } => {
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("key", key)?;
                map.serialize_entry("purged", &true)?;
                map.serialize_entry("source", source)?;
                map.end()
            }
        }
    }
}

impl NewValue {
    /// A plain value.
    pub fn plain(value: impl Into<String>) -> Self {
        NewValue::Plain(value.into())
    }

    /// A template: a plain value whose placeholders are resolved against the
    /// same Environment's values at deployment time.
    pub fn template(text: impl Into<String>) -> Self {
        NewValue::Template(text.into())
    }

    /// A secret, taking ownership of its plaintext.
    pub fn secret(value: Secret) -> Self {
        NewValue::Secret(value)
    }

    /// A reference to a secret in the store with id `store`.
    pub fn secret_ref(store: impl Into<String>, reference: SecretRef) -> Self {
        NewValue::SecretRef {
            store: store.into(),
            reference,
        }
    }

    /// The length that counts against the value size limit.
    pub(crate) fn len(&self) -> usize {
        match self {
            NewValue::Plain(v) | NewValue::Template(v) => v.len(),
            NewValue::Secret(s) => s.expose_secret().len(),
            NewValue::SecretRef { store, reference } => {
                store.len()
                    + reference.reference.len()
                    + reference.version.as_ref().map_or(0, String::len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_counts_its_bytes_against_the_limit() {
        let secret = NewValue::secret(Secret::new("12345".to_owned()));
        let reference = |version: Option<&str>| {
            let at = SecretRef::new("apps/a/KEY");
            let at = match version {
                Some(v) => at.with_version(v),
                None => at,
            };
            NewValue::secret_ref("vault", at).len()
        };
        assert_eq!(NewValue::plain("abc").len(), 3);
        assert_eq!(NewValue::template("${values.A}").len(), 11);
        assert_eq!(secret.len(), 5);
        assert_eq!(reference(None), 5 + 10);
        assert_eq!(reference(Some("12")), 5 + 10 + 2);
    }
}

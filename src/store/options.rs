//! The option structs of [`Store`](super::Store)'s operations: the data an
//! operation needs are its arguments, optional settings are these plain
//! structs with public fields and `Default`.

use crate::id::{EnvId, Key};
use crate::model::VersionId;

/// Options of [`Store::set`](crate::Store::set).
#[derive(Clone, Debug, Default)]
pub struct SetOptions {
    /// Set an Environment override instead of the App value.
    pub env: Option<EnvId>,
    /// The description; `None` keeps the current one (empty for a new key).
    pub description: Option<String>,
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`](crate::Error::Conflict) unless this is the current version.
    pub expect: Option<VersionId>,
    /// Check the change without writing it, as [`WriteOptions::dry_run`].
    pub dry_run: bool,
}

/// Options of [`Store::delete`](crate::Store::delete), [`Store::describe`](crate::Store::describe), [`Store::apply`](crate::Store::apply),
/// [`Store::restore`](crate::Store::restore) and [`Store::purge`](crate::Store::purge).
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Change an Environment's overrides instead of the App values.
    pub env: Option<EnvId>,
    /// For [`Store::delete`](crate::Store::delete) and [`Store::apply`](crate::Store::apply): delete the Environment
    /// overrides of deleted App values too, in the same version (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy)).
    pub cascade: bool,
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`](crate::Error::Conflict) unless this is the current version.
    pub expect: Option<VersionId>,
    /// Check and work the change out without writing anything (guide:
    /// [Dry run](crate::_documentation::guide#dry-run)): the result is the
    /// version the change would make, or the error it would give. Its id
    /// is the one it would take if nothing else were written first.
    pub dry_run: bool,
}

/// Options of [`Store::history`](crate::Store::history).
#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    /// The Environment's history instead of the App's.
    pub env: Option<EnvId>,
    /// Only versions that changed this key.
    pub key_changed: Option<Key>,
    /// At most this many versions; `None` is [`DEFAULT_HISTORY_LIMIT`](super::DEFAULT_HISTORY_LIMIT).
    pub limit: Option<usize>,
    /// Only versions older than this one (the next page).
    pub before: Option<VersionId>,
}

/// Which keys a restore puts back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RestoreKeys {
    /// Every key: the values become exactly those of the version.
    #[default]
    All,
    /// Only these keys; one absent in the version is deleted.
    Only(Vec<Key>),
}

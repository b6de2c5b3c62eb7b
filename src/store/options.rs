//! The option structs of [`Store`](super::Store)'s operations: the data an
//! operation needs are its arguments (the level, an App or one of its
//! Environments, always right after the App), optional settings are these
//! plain structs with public fields and `Default`. Each operation takes the
//! struct with exactly the settings it uses.

use crate::id::Key;
use crate::model::VersionId;

/// Options of [`Store::set`](crate::Store::set).
#[derive(Clone, Debug, Default)]
pub struct SetOptions {
    /// The description; `None` keeps the current one (empty for a new key).
    pub description: Option<String>,
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`](crate::Error::Conflict) unless this is the current version.
    pub expect: Option<VersionId>,
}

/// Options of [`Store::describe`](crate::Store::describe),
/// [`Store::restore`](crate::Store::restore) and
/// [`Store::purge`](crate::Store::purge).
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`](crate::Error::Conflict) unless this is the current version.
    pub expect: Option<VersionId>,
}

/// Options of [`Store::delete`](crate::Store::delete) and
/// [`Store::apply`](crate::Store::apply), which may delete App values.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// Delete the Environment overrides of deleted App values too, in the
    /// same version (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy));
    /// without it, deleting an App value that Environments override is
    /// refused.
    pub cascade: bool,
    /// The version's comment.
    pub comment: String,
    /// Refuse with [`Error::Conflict`](crate::Error::Conflict) unless this is the current version.
    pub expect: Option<VersionId>,
}

/// Options of [`Store::create_app_with`](crate::Store::create_app_with)
/// and [`Store::update_app`](crate::Store::update_app).
#[derive(Clone, Debug, Default)]
pub struct AppOptions {
    /// Its human-friendly name (at most
    /// [`MAX_NAME_LEN`](crate::model::MAX_NAME_LEN) bytes). `None` names a
    /// new App by its id, and keeps an existing App's name.
    pub name: Option<String>,
}

/// Options of [`Store::create_env_with`](crate::Store::create_env_with)
/// and [`Store::update_env`](crate::Store::update_env).
#[derive(Clone, Debug, Default)]
pub struct EnvOptions {
    /// Its human-friendly name (at most
    /// [`MAX_NAME_LEN`](crate::model::MAX_NAME_LEN) bytes). `None` names a
    /// new Environment by its id, and keeps an existing one's name.
    pub name: Option<String>,
    /// Its type (at most [`MAX_NAME_LEN`](crate::model::MAX_NAME_LEN)
    /// bytes). `None` gives a new Environment
    /// [`DEFAULT_ENV_TYPE`](crate::model::DEFAULT_ENV_TYPE), and keeps an
    /// existing one's type.
    pub env_type: Option<String>,
}

/// Options of [`Store::history`](crate::Store::history).
#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
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

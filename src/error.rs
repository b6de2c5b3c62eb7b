//! The one public error type, [`Error`], with stable machine codes.
//!
//! Variants are grouped by what the caller can do about them, not by the
//! module that raised them. Every variant has a stable snake_case code
//! ([`Error::code`]) that `valuesctl` prints as `{"error": CODE}`; a released
//! code never changes. [`codes`] lists every code with what it means and
//! whether to retry.
//!
//! Errors of a lower layer stay whole inside [`Error`] (an
//! [`InvalidInput`], a [`Forbidden`], a [`Corrupted`], a [`BackendError`]…),
//! and [`source`](std::error::Error::source) leads to the cause below them.
//! Variants with fields are `#[non_exhaustive]`, so fields can be added;
//! match them with `..`.
//!
//! Messages are written for people: lowercase, no trailing period, offending
//! ids and keys in backticks, and never a value.

pub use crate::access::Forbidden;
use crate::backend::BackendError;
pub use crate::codec::Corrupted;
use crate::codes;
use crate::id::{AppId, EnvId, Key, TagName};
pub use crate::id::{IdKind, InvalidId};
pub use crate::input::InvalidInput;
use crate::model::VersionId;
use crate::placeholder::ParseErrors;
use crate::resolve::{ResolveErrors, ResolveStrError};
use crate::secret::SecretStoreError;

/// Everything that can go wrong in `valueset`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An id, key, value or name broke its rule (guide: [Objects and identifiers](crate::_documentation::guide#objects-and-identifiers)). Nothing was changed.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// A template has syntax errors; every error in it is listed (guide: [Syntax](crate::_documentation::guide#syntax)).
    #[error(transparent)]
    Template(#[from] ParseErrors),
    /// Placeholders could not be resolved; every failing placeholder is
    /// listed, with its span (guide: [Syntax](crate::_documentation::guide#syntax), [What can be resolved](crate::_documentation::guide#what-can-be-resolved)).
    #[error(transparent)]
    Unresolved(#[from] ResolveErrors),
    /// A [`SecretStore`](crate::secret::SecretStore) failed.
    #[error(transparent)]
    SecretStore(#[from] SecretStoreError),
    /// An App, Environment, key or version does not exist.
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// An App or Environment with this id exists already.
    #[error("{what} already exists")]
    #[non_exhaustive]
    AlreadyExists {
        /// What exists, as `app `shop`` or `environment `prod` of app `shop``.
        what: String,
    },
    /// The caller expected another version to be current (optimistic
    /// concurrency, guide: [Durability, concurrency and bad input](crate::_documentation::guide#durability-concurrency-and-bad-input)). Nothing was changed.
    #[error("conflict: the current version is {}", current.map_or_else(|| "none (empty history)".to_owned(), |v| format!("`{v}`")))]
    #[non_exhaustive]
    Conflict {
        /// The version that is current.
        current: Option<VersionId>,
    },
    /// The actor's roles do not allow the action (guide: [Who may do what](crate::_documentation::guide#who-may-do-what)): it names
    /// the action and the roles it needs. Nothing was changed.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// An Environment override of a key with no App base value (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy)).
    #[error(
        "no base value: key `{key}` has no App value, so it cannot be overridden in an environment; set the App value first"
    )]
    #[non_exhaustive]
    NoBaseValue {
        /// The key.
        key: Key,
    },
    /// Deleting an App value that Environments override, without asking to
    /// cascade (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy)).
    #[error(
        "key `{key}` is overridden in environments {}: delete with cascade to delete the overrides too",
        list(envs)
    )]
    #[non_exhaustive]
    OverriddenInEnvs {
        /// The key.
        key: Key,
        /// The Environments that override it.
        envs: Vec<EnvId>,
    },
    /// A change would make templates use each other in a cycle within one
    /// level (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)). Nothing was changed.
    #[error(
        "template cycle: {}; a template may not use itself, directly or through other values",
        cycle(path)
    )]
    #[non_exhaustive]
    TemplateCycle {
        /// The cycle, from the first key back to it: `[A, B, A]`.
        path: Vec<Key>,
    },
    /// A purge was refused (guide: [Purge](crate::_documentation::guide#purge)). Nothing was changed.
    #[error(transparent)]
    PurgeRefused(#[from] PurgeRefusal),
    /// A restore would bring back a value that was purged (guide: [Restore](crate::_documentation::guide#restore)); restore
    /// a subset without the key.
    #[error(
        "the value of `{key}` in version `{version}` was purged and cannot be restored; restore the other keys only"
    )]
    #[non_exhaustive]
    Purged {
        /// The key.
        key: Key,
        /// The version it was purged from.
        version: VersionId,
    },
    /// Stored data could not be decoded, or a store's own record did not
    /// open: the storage was damaged or written by an incompatible version.
    /// Its [`source`](std::error::Error::source) is the cause, when there
    /// is one.
    #[error(transparent)]
    Corrupted(#[from] Corrupted),
    /// The storage backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The database was written in a format this version does not read
    /// (newer, or unknown). Nothing was read or written.
    #[error("unsupported data format {found}: this version of valueset reads format {supported}")]
    #[non_exhaustive]
    UnsupportedFormat {
        /// The format found.
        found: u8,
        /// The format this version reads.
        supported: u8,
    },
    /// The history does not verify: a record or a value was changed, added
    /// or removed outside the library (guide: [Durability, concurrency and bad input](crate::_documentation::guide#durability-concurrency-and-bad-input)).
    #[error("the history of app `{app}` does not verify at version `{version}`: {what}")]
    #[non_exhaustive]
    Tampered {
        /// The App.
        app: AppId,
        /// The first version whose link is broken.
        version: VersionId,
        /// What is wrong.
        what: String,
    },
    /// The master key is not the one the data was written with.
    #[error("wrong master key: it is not the key this store's secrets are encrypted with")]
    WrongMasterKey,
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
            Error::Template(_) => codes::INVALID_TEMPLATE,
            Error::Unresolved(e) => e.code(),
            Error::SecretStore(e) => e.code(),
            Error::NotFound(e) => e.code(),
            Error::AlreadyExists { .. } => codes::ALREADY_EXISTS,
            Error::Conflict { .. } => codes::CONFLICT,
            Error::Forbidden(_) => codes::FORBIDDEN,
            Error::NoBaseValue { .. } => codes::NO_BASE_VALUE,
            Error::OverriddenInEnvs { .. } => codes::OVERRIDDEN_IN_ENVS,
            Error::TemplateCycle { .. } => codes::TEMPLATE_CYCLE,
            Error::PurgeRefused(e) => e.code(),
            Error::Purged { .. } => codes::RESTORE_PURGED,
            Error::Corrupted(e) => e.code(),
            Error::Backend(e) => e.code(),
            Error::UnsupportedFormat { .. } => codes::UNSUPPORTED_FORMAT,
            Error::WrongMasterKey => codes::WRONG_MASTER_KEY,
            Error::Tampered { .. } => codes::TAMPERED,
        }
    }
}

/// Something named does not exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotFound {
    /// No App with this id.
    #[error("unknown app `{app}`")]
    App {
        /// The id.
        app: AppId,
    },
    /// No Environment with this id in the App.
    #[error("unknown environment `{env}` in app `{app}`")]
    Env {
        /// The App.
        app: AppId,
        /// The id.
        env: EnvId,
    },
    /// No value with this key at this level.
    #[error("unknown key `{key}`{}", in_scope(env.as_ref()))]
    Key {
        /// The key.
        key: Key,
        /// The Environment, for an override.
        env: Option<EnvId>,
    },
    /// No version with this id in this history (or the history is empty,
    /// for `latest`).
    #[error("unknown version `{version}`{}", in_scope(env.as_ref()))]
    Version {
        /// The id as given.
        version: String,
        /// The Environment whose history was asked.
        env: Option<EnvId>,
    },
    /// No tag with this name in this history.
    #[error("unknown tag `{tag}`{}", in_scope(env.as_ref()))]
    Tag {
        /// The tag.
        tag: TagName,
        /// The Environment whose history was asked.
        env: Option<EnvId>,
    },
}

impl NotFound {
    /// The stable code: `unknown_app`, `unknown_env`, `unknown_key`,
    /// `unknown_version` or `unknown_tag`.
    pub fn code(&self) -> &'static str {
        match self {
            NotFound::App { .. } => codes::UNKNOWN_APP,
            NotFound::Env { .. } => codes::UNKNOWN_ENV,
            NotFound::Key { .. } => codes::UNKNOWN_KEY,
            NotFound::Version { .. } => codes::UNKNOWN_VERSION,
            NotFound::Tag { .. } => codes::UNKNOWN_TAG,
        }
    }
}

/// Why a purge was refused (guide: [Purge](crate::_documentation::guide#purge)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PurgeRefusal {
    /// The key's value was not introduced in this version: name the version
    /// whose change added or replaced it.
    #[error(
        "the value of `{key}` was not introduced in version `{version}`: purge names the version whose change added or replaced it"
    )]
    NotIntroducedHere {
        /// The key.
        key: Key,
        /// The version named.
        version: VersionId,
    },
    /// The value is the key's current value: update or delete the key first.
    #[error(
        "the value of `{key}` introduced in `{version}` is its current value: update or delete the key first"
    )]
    CurrentValue {
        /// The key.
        key: Key,
        /// The version named.
        version: VersionId,
    },
    /// The value was purged already.
    #[error("the value of `{key}` introduced in `{version}` was purged already")]
    AlreadyPurged {
        /// The key.
        key: Key,
        /// The version named.
        version: VersionId,
    },
}

impl PurgeRefusal {
    /// The stable code: `not_introduced_here`, `purge_current_value` or
    /// `already_purged`.
    pub fn code(&self) -> &'static str {
        match self {
            PurgeRefusal::NotIntroducedHere { .. } => codes::NOT_INTRODUCED_HERE,
            PurgeRefusal::CurrentValue { .. } => codes::PURGE_CURRENT_VALUE,
            PurgeRefusal::AlreadyPurged { .. } => codes::ALREADY_PURGED,
        }
    }
}

fn in_scope(env: Option<&EnvId>) -> String {
    env.map_or_else(String::new, |e| format!(" in environment `{e}`"))
}

fn list(envs: &[EnvId]) -> String {
    envs.iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cycle as `` `A -> B -> A` ``.
fn cycle(path: &[Key]) -> String {
    let keys: Vec<&str> = path.iter().map(Key::as_str).collect();
    format!("`{}`", keys.join(" -> "))
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<InvalidId> for Error {
    fn from(e: InvalidId) -> Self {
        Error::Invalid(e.into())
    }
}

impl From<ResolveStrError> for Error {
    fn from(e: ResolveStrError) -> Self {
        match e {
            ResolveStrError::Template(e) => Error::Template(e),
            ResolveStrError::Unresolved(e) => Error::Unresolved(e),
        }
    }
}

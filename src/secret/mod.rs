//! Secrets: the [`Secret`] type and the pluggable [`SecretStore`] (guide: [Secrets](crate::_documentation::guide#secrets)).
//!
//! Secret plaintext exists in memory only inside a [`Secret`]: it wipes its
//! buffer on drop, prints as `Secret([redacted])`, has no `Display`, no serde
//! and no `Clone`, and gives its content out through one method,
//! [`Secret::expose_secret`], so that `grep expose_secret` lists every exit.

mod memory;
#[cfg(feature = "vault")]
mod vault;

use std::fmt;

use zeroize::Zeroizing;

use crate::codes;
use crate::text::Shown;

pub use memory::MemorySecretStore;
#[cfg(feature = "vault")]
pub use vault::{DEFAULT_VAULT_ID, VaultAuth, VaultConfig, VaultConfigError, VaultSecretStore};

/// A secret string: wiped from memory on drop, never printed.
///
/// ```
/// use valueset::Secret;
/// let s = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{s:?}"), "Secret([redacted])");
/// assert_eq!(s.expose_secret(), "hunter2");
/// ```
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of `plaintext`; its buffer is wiped when the secret is
    /// dropped.
    pub fn new(plaintext: String) -> Self {
        Secret(Zeroizing::new(plaintext))
    }

    /// The plaintext. Every place that reads a secret's content calls this.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// An explicit copy; `Secret` is deliberately not `Clone`.
    #[must_use]
    pub fn clone_secret(&self) -> Secret {
        Secret::new(self.0.as_str().to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(plaintext: String) -> Self {
        Secret::new(plaintext)
    }
}

/// Where a secret lives in a [`SecretStore`]: a reference and, optionally, a
/// version. References and versions are locations, not content: they are safe
/// to print and to store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SecretRef {
    /// The store's name for the secret (a path, an ARN, a key name…).
    pub reference: String,
    /// A version of the secret, where the store keeps versions; `None` means
    /// the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl SecretRef {
    /// A reference to the latest version of `reference`.
    pub fn new(reference: impl Into<String>) -> Self {
        SecretRef {
            reference: reference.into(),
            version: None,
        }
    }

    /// The same reference pinned to `version`.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{}", self.reference, v),
            None => f.write_str(&self.reference),
        }
    }
}

/// A place where secrets live: the library's own encrypted store, an
/// in-memory store, or an external one (Vault, a cloud secret manager…).
///
/// Implementations must never put secret content into an error, a log line
/// or a `Debug` output: [`SecretStoreError`] carries references and store ids
/// only.
///
/// The trait is object-safe; the library holds stores as
/// `Arc<dyn SecretStore>`.
pub trait SecretStore: Send + Sync + fmt::Debug + 'static {
    /// The store's id, as shown in `secret_store_id`. Stable for the life of
    /// the data that references it.
    fn id(&self) -> &str;

    /// Reads the secret at `reference`.
    ///
    /// # Errors
    ///
    /// [`SecretStoreError::NotFound`] when nothing is stored there (or not
    /// that version); [`SecretStoreError::Unavailable`] when the store
    /// cannot answer.
    fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError>;

    /// Reads many secrets at once: one answer per reference, in their
    /// order. A deployment reads every secret it needs through this before
    /// it renders, so a store that can do better than one read after
    /// another (concurrent requests, one query) should override it; the
    /// default calls [`get`](Self::get) for each.
    fn get_many(&self, references: &[SecretRef]) -> Vec<Result<Secret, SecretStoreError>> {
        references.iter().map(|r| self.get(r)).collect()
    }

    /// What the store is and where, never a credential; the default says
    /// nothing.
    fn describe(&self) -> SecretStoreInfo {
        SecretStoreInfo::default()
    }

    /// The App a reference belongs to when it names a secret the library
    /// stored here, `None` when it names one the store's owner keeps. When
    /// this store is the one submitted secrets go to, an App may reference
    /// only its own secrets among those the library stored, and any of the
    /// owner's. The default takes every reference as the library's, the App
    /// being the first `/`-separated part of the name [`put`](Self::put)
    /// was given; a store that also holds its owner's secrets (Vault, under
    /// a prefix of its own) says which are which.
    fn library_owner<'r>(&self, reference: &'r SecretRef) -> Option<&'r str> {
        reference.reference.split('/').next()
    }

    /// Checks, without reading it, that `reference` is one this store
    /// could hold; a reference is checked so when it is set. The default
    /// takes any.
    ///
    /// # Errors
    ///
    /// [`SecretStoreError::InvalidReference`] saying what a reference here
    /// looks like.
    fn validate_reference(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        let _ = reference;
        Ok(())
    }

    /// Whether [`put`](Self::put) and [`delete`](Self::delete) can succeed.
    /// Read-only stores hold secrets that their owners manage.
    fn is_writable(&self) -> bool {
        false
    }

    /// Stores `secret` under the suggested `name` (a `/`-separated path that
    /// the library makes unique, such as `app/env/KEY`) and returns the
    /// reference under which it can be read back. Storing under a name that
    /// exists adds a new version; earlier references stay readable until
    /// deleted.
    ///
    /// # Errors
    ///
    /// [`SecretStoreError::ReadOnly`] for a read-only store (the default);
    /// [`SecretStoreError::Unavailable`] when the store cannot write.
    fn put(&self, name: &str, secret: &Secret) -> Result<SecretRef, SecretStoreError> {
        let _ = (name, secret);
        Err(SecretStoreError::ReadOnly {
            store: self.id().to_owned(),
        })
    }

    /// Deletes the secret at `reference`: only that version when it names
    /// one, every version otherwise. Deleting what is not there succeeds
    /// (delete is idempotent).
    ///
    /// # Errors
    ///
    /// [`SecretStoreError::ReadOnly`] for a read-only store (the default);
    /// [`SecretStoreError::Unavailable`] when the store cannot write.
    fn delete(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        let _ = reference;
        Err(SecretStoreError::ReadOnly {
            store: self.id().to_owned(),
        })
    }
}

/// What a secret store is and where, for people and for the service's list
/// of stores: never a credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SecretStoreInfo {
    /// Its kind: `builtin`, `memory`, `vault`; empty when the store does
    /// not say.
    pub kind: String,
    /// Where its server is, for a store that has one (without any user or
    /// password the address held).
    pub url: Option<String>,
    /// Where in it the library's secrets go, for a store that says.
    pub path: Option<String>,
}

impl SecretStoreInfo {
    /// A store of `kind`, nothing more said.
    pub fn of_kind(kind: impl Into<String>) -> Self {
        SecretStoreInfo {
            kind: kind.into(),
            ..SecretStoreInfo::default()
        }
    }
}

/// A shared store is a store: one instance can serve several
/// [`Store`](crate::Store)s, or stay in reach of its owner after it was
/// handed to a builder.
impl<S: SecretStore + ?Sized> SecretStore for std::sync::Arc<S> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError> {
        (**self).get(reference)
    }
    fn get_many(&self, references: &[SecretRef]) -> Vec<Result<Secret, SecretStoreError>> {
        (**self).get_many(references)
    }
    fn describe(&self) -> SecretStoreInfo {
        (**self).describe()
    }
    fn library_owner<'r>(&self, reference: &'r SecretRef) -> Option<&'r str> {
        (**self).library_owner(reference)
    }
    fn validate_reference(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        (**self).validate_reference(reference)
    }
    fn is_writable(&self) -> bool {
        (**self).is_writable()
    }
    fn put(&self, name: &str, secret: &Secret) -> Result<SecretRef, SecretStoreError> {
        (**self).put(name, secret)
    }
    fn delete(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        (**self).delete(reference)
    }
}

/// A [`SecretStore`] failed. Carries store ids and references, never content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretStoreError {
    /// Nothing is stored at the reference.
    #[error("secret store `{store}` has no secret at `{}`", Shown(&reference.to_string()))]
    NotFound {
        /// The store's id.
        store: String,
        /// The reference that was asked for.
        reference: SecretRef,
    },
    /// A write was asked of a read-only store.
    #[error("secret store `{store}` is read-only")]
    ReadOnly {
        /// The store's id.
        store: String,
    },
    /// No store with this id is configured.
    #[error("no secret store `{store}` is configured")]
    UnknownStore {
        /// The id that was asked for.
        store: String,
    },
    /// The store needs the master key to read or write secrets, and none was
    /// given.
    #[error("secret store `{store}` needs the master key, and the store was opened without one")]
    MissingMasterKey {
        /// The store's id.
        store: String,
    },
    /// A rotation of the master key has begun and not finished: no secret
    /// can be stored until it does. Retryable; if the rotating process
    /// stopped before it finished, run the rotation again.
    #[error(
        "secret store `{store}` is rotating its master key: retry when the rotation has finished"
    )]
    RotationUnderWay {
        /// The store's id.
        store: String,
    },
    /// The store's master key was rotated to another key by another
    /// process: this one no longer seals or opens its secrets. Open the
    /// store again with the new key.
    #[error(
        "secret store `{store}` now uses another master key: it was rotated; open the store with the new key"
    )]
    WrongMasterKey {
        /// The store's id.
        store: String,
    },
    /// A stored secret did not decrypt: it was damaged or moved.
    #[error("a secret in store `{store}` could not be decrypted")]
    DecryptionFailed {
        /// The store's id.
        store: String,
    },
    /// The reference names a secret that the library stored for another
    /// App. In the stores the library writes to (the built-in one, and the
    /// one submitted secrets go to), an App's references may only name its
    /// own secrets; this is refused when the reference is set, and again
    /// when it would be read.
    #[error(
        "secret store `{store}` keeps this secret for another app: a reference may only name its own app's secrets there"
    )]
    OtherApp {
        /// The store's id.
        store: String,
    },
    /// The reference is not one the store could hold (for Vault, not
    /// `PATH#FIELD` with a clean path and a positive version).
    #[error("secret store `{store}` cannot hold a secret at `{}`: {reason}", Shown(&reference.to_string()))]
    InvalidReference {
        /// The store's id.
        store: String,
        /// The reference.
        reference: SecretRef,
        /// What a reference there looks like.
        reason: String,
    },
    /// The store refused access: the credentials it was given lack the
    /// right to the secret (a Vault policy that does not grant the path,
    /// say). Not retryable: the store's configuration must change.
    #[error(
        "secret store `{store}` denied access to `{}`: its credentials lack the right",
        Shown(&reference.to_string())
    )]
    Denied {
        /// The store's id.
        store: String,
        /// The reference that was asked for.
        reference: SecretRef,
    },
    /// The store could not answer (network, I/O, a server error). The message
    /// is the store's own and must not contain secret content.
    #[error("secret store `{store}` is unavailable: {message}")]
    Unavailable {
        /// The store's id.
        store: String,
        /// What went wrong, for people.
        message: String,
    },
}

impl SecretStoreError {
    /// The stable code: `secret_not_found`, `secret_store_read_only`,
    /// `unknown_secret_store`, `missing_master_key`, `decrypt_failed`,
    /// `rotation_under_way`, `wrong_master_key`,
    /// `secret_store_unavailable`, `secret_store_denied`,
    /// `invalid_secret_ref`, or
    /// `other_app_secret` for [`SecretStoreError::OtherApp`].
    pub fn code(&self) -> &'static str {
        match self {
            SecretStoreError::NotFound { .. } => codes::SECRET_NOT_FOUND,
            SecretStoreError::ReadOnly { .. } => codes::SECRET_STORE_READ_ONLY,
            SecretStoreError::UnknownStore { .. } => codes::UNKNOWN_SECRET_STORE,
            SecretStoreError::Unavailable { .. } => codes::SECRET_STORE_UNAVAILABLE,
            SecretStoreError::Denied { .. } => codes::SECRET_STORE_DENIED,
            SecretStoreError::InvalidReference { .. } => codes::INVALID_SECRET_REF,
            SecretStoreError::MissingMasterKey { .. } => codes::MISSING_MASTER_KEY,
            SecretStoreError::DecryptionFailed { .. } => codes::DECRYPT_FAILED,
            SecretStoreError::RotationUnderWay { .. } => codes::ROTATION_UNDER_WAY,
            SecretStoreError::WrongMasterKey { .. } => codes::WRONG_MASTER_KEY,
            SecretStoreError::OtherApp { .. } => codes::OTHER_APP_SECRET,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("canary-7f3a".to_owned());
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s:#?}"), "Secret([redacted])");
        assert_eq!(s.clone_secret().expose_secret(), "canary-7f3a");
    }

    /// A store that only reads, as most external ones are.
    #[derive(Debug)]
    struct ReadOnly;

    impl SecretStore for ReadOnly {
        fn id(&self) -> &'static str {
            "vault"
        }

        fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError> {
            Err(SecretStoreError::NotFound {
                store: self.id().to_owned(),
                reference: reference.clone(),
            })
        }
    }

    #[test]
    fn a_store_is_read_only_unless_it_says_otherwise() {
        let store = ReadOnly;
        let reference = SecretRef::new("apps/a/KEY");
        let read_only = Err(SecretStoreError::ReadOnly {
            store: "vault".to_owned(),
        });
        assert!(!store.is_writable());
        assert_eq!(store.delete(&reference), read_only);
        let put = store.put("apps/a/KEY", &Secret::new("canary".to_owned()));
        assert_eq!(put.map(|_| ()), read_only);
    }

    #[test]
    fn secret_ref_prints_location() {
        let r = SecretRef::new("apps/a/KEY").with_version("3");
        assert_eq!(r.to_string(), "apps/a/KEY@3");
    }
}

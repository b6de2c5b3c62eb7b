//! The built-in secret store: secrets encrypted at rest in the Store's own
//! backend (guide: [Secret stores](crate::_documentation::guide#secret-stores)).

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::backend::{Backend, Batch};
use crate::codec::{self, KEYCHECK_KEY, KeyCheck};
use crate::crypto::{DerivedKey, MasterKey, same_check};
use crate::secret::{Secret, SecretRef, SecretStore, SecretStoreError, SecretStoreInfo};

/// The id of the built-in store.
pub(crate) const BUILTIN_ID: &str = "builtin";

/// Secrets encrypted with XChaCha20-Poly1305 under a key derived from the
/// master key, each sealed to its own name (app, level, key and sequence
/// number, as the history names it), stored under `S` + name in the
/// backend. Without a master key it can delete but not read or write.
///
/// Every batch that seals a secret holds the precondition that the stored
/// key check still names this store's key, so no secret is sealed under a
/// key that another process has rotated away, or is rotating away from
/// ([`Store::rotate_master_key`](crate::Store::rotate_master_key)).
pub(crate) struct BuiltinSecretStore {
    backend: Arc<dyn Backend>,
    key: RwLock<Option<Sealing>>,
}

/// The key secrets are sealed with, and the check value of the master key
/// it came from.
struct Sealing {
    key: DerivedKey,
    check: [u8; 32],
}

impl Sealing {
    fn from_master(master: &MasterKey) -> Self {
        Sealing {
            key: master.encryption_key(),
            check: master.check_value(),
        }
    }
}

impl BuiltinSecretStore {
    pub(crate) fn new(backend: Arc<dyn Backend>, master: Option<&MasterKey>) -> Self {
        BuiltinSecretStore {
            backend,
            key: RwLock::new(master.map(Sealing::from_master)),
        }
    }

    /// Uses `master` from now on (after a rotation).
    pub(crate) fn set_key(&self, master: &MasterKey) {
        *self.key.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Sealing::from_master(master));
    }

    /// Seals `secret` as `name` into `batch` (the commit's own), instead of
    /// writing it on its own as [`SecretStore::put`] does, on the condition
    /// that the store's key is still this store's.
    ///
    /// # Errors
    ///
    /// [`SecretStoreError::RotationUnderWay`] while a rotation away from
    /// this key has not finished; [`SecretStoreError::WrongMasterKey`] when
    /// another process rotated the store to another key.
    pub(crate) fn seal_into(
        &self,
        batch: &mut Batch,
        name: &str,
        secret: &Secret,
    ) -> Result<SecretRef, SecretStoreError> {
        let guard = self.key.read().unwrap_or_else(PoisonError::into_inner);
        let sealing = guard.as_ref().ok_or_else(Self::locked)?;
        let stored = self
            .backend
            .get(KEYCHECK_KEY)
            .map_err(|e| Self::unavailable(&e))?;
        let current = match stored.as_deref().map(KeyCheck::decode) {
            // A store opened without a key has no check value until a
            // store opens it with one; that open writes it first.
            None => None,
            Some(Ok(KeyCheck::Current(check))) if same_check(&check, &sealing.check) => {
                Some(KeyCheck::Current(check))
            }
            Some(Ok(KeyCheck::Rotating { from, .. })) if same_check(&from, &sealing.check) => {
                return Err(SecretStoreError::RotationUnderWay {
                    store: BUILTIN_ID.to_owned(),
                });
            }
            Some(Ok(_)) => {
                return Err(SecretStoreError::WrongMasterKey {
                    store: BUILTIN_ID.to_owned(),
                });
            }
            Some(Err(_)) => return Err(Self::failed()),
        };
        if !batch.preconditions().iter().any(|(k, _)| k == KEYCHECK_KEY) {
            batch.expect(KEYCHECK_KEY.to_vec(), current.map(|c| c.encode()));
        }
        batch.insert(
            codec::secret_record_key(name),
            Self::seal_with(&sealing.key, name, secret)?,
        );
        Ok(SecretRef::new(name))
    }

    /// Whether the store has its master key, so it can seal and open.
    pub(crate) fn check_unlocked(&self) -> Result<(), SecretStoreError> {
        let guard = self.key.read().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(|_| ()).ok_or_else(Self::locked)
    }

    /// The check value of this store's key.
    pub(crate) fn check_value(&self) -> Result<[u8; 32], SecretStoreError> {
        let guard = self.key.read().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(|s| s.check).ok_or_else(Self::locked)
    }

    /// Every stored secret decrypted with the current key and sealed again
    /// under `new`, as one batch to apply, on the condition that no record
    /// changed since it was read (a deletion meanwhile is not undone).
    pub(crate) fn reseal_all(&self, new: &MasterKey) -> Result<Batch, SecretStoreError> {
        let guard = self.key.read().unwrap_or_else(PoisonError::into_inner);
        let old = &guard.as_ref().ok_or_else(Self::locked)?.key;
        let new_key = new.encryption_key();
        let mut records = Vec::new();
        let (start, end) = codec::secret_records_range();
        self.backend
            .scan(&start, &end, false, &mut |k, v| {
                records.push((k.to_vec(), v.to_vec()));
                std::ops::ControlFlow::Continue(())
            })
            .map_err(|e| Self::unavailable(&e))?;
        let mut batch = Batch::new();
        for (k, sealed) in records {
            let name = std::str::from_utf8(k.get(1..).unwrap_or_default()).map_err(|_| {
                SecretStoreError::DecryptionFailed {
                    store: BUILTIN_ID.to_owned(),
                }
            })?;
            let secret = Self::open_with(old, name, &sealed)?;
            let resealed = Self::seal_with(&new_key, name, &secret)?;
            batch.expect(k.clone(), Some(sealed));
            batch.insert(k, resealed);
        }
        Ok(batch)
    }

    /// Whether a record is stored at `reference`, without opening it.
    pub(crate) fn contains(&self, reference: &SecretRef) -> Result<bool, SecretStoreError> {
        self.backend
            .get(&codec::secret_record_key(&reference.reference))
            .map(|v| v.is_some())
            .map_err(|e| Self::unavailable(&e))
    }

    fn failed() -> SecretStoreError {
        SecretStoreError::DecryptionFailed {
            store: BUILTIN_ID.to_owned(),
        }
    }

    fn locked() -> SecretStoreError {
        SecretStoreError::MissingMasterKey {
            store: BUILTIN_ID.to_owned(),
        }
    }

    fn unavailable(e: &crate::backend::BackendError) -> SecretStoreError {
        SecretStoreError::Unavailable {
            store: BUILTIN_ID.to_owned(),
            message: e.to_string(),
        }
    }

    /// Encrypts `secret` as the record for `name`.
    fn seal_with(
        key: &DerivedKey,
        name: &str,
        secret: &Secret,
    ) -> Result<Vec<u8>, SecretStoreError> {
        key.seal(name.as_bytes(), secret.expose_secret().as_bytes())
            .map_err(|_| SecretStoreError::Unavailable {
                store: BUILTIN_ID.to_owned(),
                message: "encryption failed".to_owned(),
            })
    }

    /// Decrypts the record stored for `name`.
    pub(crate) fn open_with(
        key: &DerivedKey,
        name: &str,
        sealed: &[u8],
    ) -> Result<Secret, SecretStoreError> {
        let failed = || SecretStoreError::DecryptionFailed {
            store: BUILTIN_ID.to_owned(),
        };
        let plain = key.open(name.as_bytes(), sealed).map_err(|_| failed())?;
        let text = std::str::from_utf8(&plain).map_err(|_| failed())?;
        Ok(Secret::new(text.to_owned()))
    }
}

impl fmt::Debug for BuiltinSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unlocked = self
            .key
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("BuiltinSecretStore")
            .field("unlocked", &unlocked)
            .finish_non_exhaustive()
    }
}

impl SecretStore for BuiltinSecretStore {
    fn id(&self) -> &str {
        BUILTIN_ID
    }

    fn describe(&self) -> SecretStoreInfo {
        SecretStoreInfo::of_kind("builtin")
    }

    fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError> {
        let guard = self.key.read().unwrap_or_else(PoisonError::into_inner);
        let key = &guard.as_ref().ok_or_else(Self::locked)?.key;
        let sealed = self
            .backend
            .get(&codec::secret_record_key(&reference.reference))
            .map_err(|e| Self::unavailable(&e))?
            .ok_or_else(|| SecretStoreError::NotFound {
                store: BUILTIN_ID.to_owned(),
                reference: reference.clone(),
            })?;
        Self::open_with(key, &reference.reference, &sealed)
    }

    /// One read of the backend for all of them (one query on PostgreSQL).
    fn get_many(&self, references: &[SecretRef]) -> Vec<Result<Secret, SecretStoreError>> {
        let guard = self.key.read().unwrap_or_else(PoisonError::into_inner);
        let Some(sealing) = guard.as_ref() else {
            return references.iter().map(|_| Err(Self::locked())).collect();
        };
        let keys: Vec<Vec<u8>> = references
            .iter()
            .map(|r| codec::secret_record_key(&r.reference))
            .collect();
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        match self.backend.get_many(&keys) {
            Ok(found) => references
                .iter()
                .zip(found)
                .map(|(reference, sealed)| match sealed {
                    Some(sealed) => Self::open_with(&sealing.key, &reference.reference, &sealed),
                    None => Err(SecretStoreError::NotFound {
                        store: BUILTIN_ID.to_owned(),
                        reference: reference.clone(),
                    }),
                })
                .collect(),
            Err(e) => references
                .iter()
                .map(|_| Err(Self::unavailable(&e)))
                .collect(),
        }
    }

    fn is_writable(&self) -> bool {
        true
    }

    fn put(&self, name: &str, secret: &Secret) -> Result<SecretRef, SecretStoreError> {
        let mut batch = Batch::new();
        let reference = self.seal_into(&mut batch, name, secret)?;
        self.backend
            .apply(batch)
            .map_err(|e| Self::unavailable(&e))?;
        Ok(reference)
    }

    fn delete(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        let mut batch = Batch::new();
        batch.remove(codec::secret_record_key(&reference.reference));
        self.backend.apply(batch).map_err(|e| Self::unavailable(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::MemoryBackend;

    #[test]
    fn it_keeps_what_it_puts_until_deleted() {
        let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
        let store = BuiltinSecretStore::new(backend, Some(&MasterKey::from_bytes([1; 32])));
        assert_eq!(store.id(), "builtin");
        assert!(store.is_writable());
        let reference = store
            .put("shop/_app/PW/1", &Secret::new("pw".into()))
            .unwrap();
        assert!(store.contains(&reference).unwrap());
        assert_eq!(store.get(&reference).unwrap().expose_secret(), "pw");
        store.delete(&reference).unwrap();
        assert!(!store.contains(&reference).unwrap());
        assert_eq!(
            store.get(&reference).unwrap_err().code(),
            "secret_not_found"
        );
        // Deleting what is not there is not an error.
        store.delete(&reference).unwrap();
    }

    #[test]
    fn a_batch_of_secrets_expects_the_key_check_once() {
        let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
        let master = MasterKey::from_bytes([1; 32]);
        let mut batch = Batch::new();
        batch.insert(
            KEYCHECK_KEY.to_vec(),
            KeyCheck::Current(master.check_value()).encode(),
        );
        backend.apply(batch).unwrap();
        let store = BuiltinSecretStore::new(Arc::clone(&backend), Some(&master));
        let mut batch = Batch::new();
        batch.expect(b"other".to_vec(), None);
        for name in ["a/_app/K/1", "a/_app/L/1"] {
            store
                .seal_into(&mut batch, name, &Secret::new("x".into()))
                .unwrap();
        }
        let checks: Vec<_> = batch
            .preconditions()
            .iter()
            .filter(|(k, _)| k == KEYCHECK_KEY)
            .collect();
        let current = KeyCheck::Current(master.check_value()).encode();
        assert_eq!(checks, [&(KEYCHECK_KEY.to_vec(), Some(current))]);
        assert_eq!(batch.preconditions().len(), 2);
    }

    #[test]
    fn without_a_master_key_it_neither_reads_nor_writes() {
        let backend: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
        let store = BuiltinSecretStore::new(backend, None);
        let e = store
            .put("a/_app/K/1", &Secret::new("x".into()))
            .unwrap_err();
        assert_eq!(e.code(), "missing_master_key");
        let e = store.get(&SecretRef::new("a/_app/K/1")).unwrap_err();
        assert_eq!(e.code(), "missing_master_key");
    }
}

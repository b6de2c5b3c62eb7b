//! An in-memory [`SecretStore`] for tests and examples.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Secret, SecretRef, SecretStore, SecretStoreError, SecretStoreInfo};

/// A [`SecretStore`] that keeps versioned secrets in memory.
///
/// `put(name, …)` adds version 1, 2, … of `name` and returns a reference
/// pinned to that version. A store made with [`read_only`](Self::read_only)
/// refuses writes, like an external store whose secrets their owners manage.
///
/// `Debug` prints the store id and how many secrets it holds, never content.
///
/// ```
/// use valueset::Secret;
/// use valueset::secret::{MemorySecretStore, SecretStore};
///
/// let store = MemorySecretStore::new("memory");
/// let r = store.put("app/KEY", &Secret::new("s3cr3t".into()))?;
/// assert_eq!(store.get(&r)?.expose_secret(), "s3cr3t");
/// # Ok::<(), valueset::Error>(())
/// ```
pub struct MemorySecretStore {
    id: String,
    writable: bool,
    /// name -> version (1-based) -> secret; a deleted version is `None`.
    entries: Mutex<BTreeMap<String, Vec<Option<Secret>>>>,
}

impl MemorySecretStore {
    /// An empty, writable store with the given id.
    pub fn new(id: impl Into<String>) -> Self {
        MemorySecretStore {
            id: id.into(),
            writable: true,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    /// A read-only store holding `secrets` (name, plaintext), each as
    /// version 1.
    pub fn read_only(
        id: impl Into<String>,
        secrets: impl IntoIterator<Item = (String, Secret)>,
    ) -> Self {
        let entries = secrets
            .into_iter()
            .map(|(name, secret)| (name, vec![Some(secret)]))
            .collect();
        MemorySecretStore {
            id: id.into(),
            writable: false,
            entries: Mutex::new(entries),
        }
    }

    /// How many secret versions the store holds (deleted ones excluded).
    pub fn len(&self) -> usize {
        self.lock()
            .values()
            .flatten()
            .filter(|s| s.is_some())
            .count()
    }

    /// Whether the store holds no secret.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map, even if a thread panicked while holding the lock: every
    /// update is a single insert or assignment, so the map is never left
    /// half-changed.
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Vec<Option<Secret>>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn not_found(&self, reference: &SecretRef) -> SecretStoreError {
        SecretStoreError::NotFound {
            store: self.id.clone(),
            reference: reference.clone(),
        }
    }
}

impl fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySecretStore")
            .field("id", &self.id)
            .field("writable", &self.writable)
            .field("secrets", &self.len())
            .finish_non_exhaustive()
    }
}

impl SecretStore for MemorySecretStore {
    fn id(&self) -> &str {
        &self.id
    }

    fn describe(&self) -> SecretStoreInfo {
        SecretStoreInfo::of_kind("memory")
    }

    fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError> {
        let entries = self.lock();
        let versions = entries
            .get(&reference.reference)
            .ok_or_else(|| self.not_found(reference))?;
        let found = match &reference.version {
            None => versions.iter().rev().find_map(Option::as_ref),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| versions.get(i))
                .and_then(Option::as_ref),
        };
        found
            .map(Secret::clone_secret)
            .ok_or_else(|| self.not_found(reference))
    }

    fn is_writable(&self) -> bool {
        self.writable
    }

    fn put(&self, name: &str, secret: &Secret) -> Result<SecretRef, SecretStoreError> {
        if !self.writable {
            return Err(SecretStoreError::ReadOnly {
                store: self.id.clone(),
            });
        }
        let mut entries = self.lock();
        let versions = entries.entry(name.to_owned()).or_default();
        versions.push(Some(secret.clone_secret()));
        Ok(SecretRef::new(name).with_version(versions.len().to_string()))
    }

    fn delete(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        if !self.writable {
            return Err(SecretStoreError::ReadOnly {
                store: self.id.clone(),
            });
        }
        let mut entries = self.lock();
        match &reference.version {
            None => {
                entries.remove(&reference.reference);
            }
            Some(v) => {
                let slot = v
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| entries.get_mut(&reference.reference)?.get_mut(i));
                if let Some(slot) = slot {
                    *slot = None;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_delete() {
        let s = MemorySecretStore::new("mem");
        let r1 = s.put("a/K", &Secret::new("one".into())).unwrap();
        let r2 = s.put("a/K", &Secret::new("two".into())).unwrap();
        assert_eq!(s.get(&r1).unwrap().expose_secret(), "one");
        assert_eq!(
            s.get(&SecretRef::new("a/K")).unwrap().expose_secret(),
            "two"
        );
        s.delete(&r2).unwrap();
        s.delete(&r2).unwrap(); // idempotent
        assert_eq!(
            s.get(&SecretRef::new("a/K")).unwrap().expose_secret(),
            "one"
        );
        assert_eq!(s.get(&r2).unwrap_err().code(), "secret_not_found");
        s.delete(&SecretRef::new("a/K")).unwrap();
        assert!(s.is_empty());
        assert!(!format!("{s:?}").contains("one"));
    }

    #[test]
    fn counts_ids_and_versions_out_of_range() {
        let s = MemorySecretStore::new("mem");
        assert_eq!(s.id(), "mem");
        assert!(s.is_writable());
        assert!(s.is_empty());
        let r1 = s.put("a/K", &Secret::new("one".into())).unwrap();
        s.put("a/K", &Secret::new("two".into())).unwrap();
        s.put("b/K", &Secret::new("three".into())).unwrap();
        assert_eq!((s.len(), s.is_empty()), (3, false));
        s.delete(&r1).unwrap();
        assert_eq!(s.len(), 2);
        for version in ["0", "3", "x", "1"] {
            let r = SecretRef::new("a/K").with_version(version);
            assert_eq!(
                s.get(&r).unwrap_err().code(),
                "secret_not_found",
                "{version}"
            );
            // Deleting what is not there changes nothing.
            s.delete(&r).unwrap();
            assert_eq!(s.len(), 2, "{version}");
        }
        let missing = s.get(&SecretRef::new("c/K")).unwrap_err();
        assert_eq!(missing.code(), "secret_not_found");
        assert_eq!(
            s.get(&SecretRef::new("a/K").with_version("2"))
                .unwrap()
                .expose_secret(),
            "two"
        );
    }

    #[test]
    fn read_only_refuses_writes() {
        let s =
            MemorySecretStore::read_only("vault", [("db".to_owned(), Secret::new("pw".into()))]);
        assert!(!s.is_writable());
        assert_eq!(s.get(&SecretRef::new("db")).unwrap().expose_secret(), "pw");
        let e = s.put("x", &Secret::new("y".into())).unwrap_err();
        assert_eq!(e.code(), "secret_store_read_only");
        assert!(s.delete(&SecretRef::new("db")).is_err());
    }
}

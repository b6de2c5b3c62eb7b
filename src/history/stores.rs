//! The secret stores a [`Store`](crate::Store) writes to and reads from,
//! as the history engine sees them: where a submitted secret goes, how it
//! is removed with the change that drops it, and how a failed commit takes
//! back what it stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::builtin::BuiltinSecretStore;
use crate::backend::Batch;
use crate::codec;
use crate::id::AppId;
use crate::secret::{Secret, SecretRef, SecretStore, SecretStoreError};

/// The secret stores a Store knows: the one it writes submitted secrets to,
/// and every store references may name (that one included).
///
/// The library names each secret it stores `app/level/key` (in the
/// built-in store `app/level/key/seq`). In the stores it writes to (the
/// managed one and the built-in one) such a secret therefore belongs to the
/// App its name begins with ([`SecretStore::library_owner`]), and an App
/// may only reach its own: [`check_reference`](Self::check_reference) refuses a
/// reference to another App's secret when it is set, and
/// [`read`](Self::read) refuses it again when it would be read, so a record
/// forged past the first check does not open either.
#[derive(Debug)]
pub(crate) struct SecretStores {
    pub(crate) managed: Arc<dyn SecretStore>,
    /// The built-in store, when it is the managed one.
    pub(crate) builtin_managed: Option<Arc<BuiltinSecretStore>>,
    /// The built-in store, when the Store has one (managed or not).
    pub(crate) builtin: Option<Arc<BuiltinSecretStore>>,
    pub(crate) by_id: BTreeMap<String, Arc<dyn SecretStore>>,
}

impl SecretStores {
    /// Removes a library-stored secret within `batch` when it lives in the
    /// built-in store (so it goes with the change, or not at all); `false`
    /// when it lives elsewhere and must be deleted after the batch.
    pub(crate) fn remove_into(
        &self,
        batch: &mut Batch,
        store: &str,
        reference: &SecretRef,
    ) -> bool {
        match &self.builtin_managed {
            Some(b) if b.id() == store => {
                batch.remove(codec::secret_record_key(&reference.reference));
                true
            }
            _ => false,
        }
    }

    /// Whether a new secret could be stored now, as far as can be known
    /// without storing one (for a dry run): the built-in store needs its
    /// master key; another managed store must be writable.
    pub(crate) fn check_can_store(&self) -> Result<(), SecretStoreError> {
        match &self.builtin_managed {
            Some(builtin) => builtin.check_unlocked(),
            None if self.managed.is_writable() => Ok(()),
            None => Err(SecretStoreError::ReadOnly {
                store: self.managed.id().to_owned(),
            }),
        }
    }

    /// The store with this id.
    pub(crate) fn get(&self, id: &str) -> Result<&Arc<dyn SecretStore>, SecretStoreError> {
        self.by_id
            .get(id)
            .ok_or_else(|| SecretStoreError::UnknownStore {
                store: id.to_owned(),
            })
    }

    /// Checks a secret reference about to be set in `app`: its store is
    /// known and could hold it; in a store the library writes to, it names
    /// a secret of `app`;
    /// in the built-in store, a record that exists.
    pub(crate) fn check_reference(
        &self,
        app: &AppId,
        store: &str,
        reference: &SecretRef,
    ) -> Result<(), SecretStoreError> {
        self.get(store)?.validate_reference(reference)?;
        self.check_owner(app, store, reference)?;
        match self.builtin_with_id(store) {
            Some(b) if !b.contains(reference)? => Err(SecretStoreError::NotFound {
                store: store.to_owned(),
                reference: reference.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Reads a secret for `app`. `managed` says whether the library stored
    /// it (a submitted secret) rather than a reference naming it; only a
    /// managed secret in a store other than the built-in one may carry a
    /// reference the library did not name (the store's own), so it is the
    /// one read without the owner check.
    pub(crate) fn read(
        &self,
        app: &AppId,
        store: &str,
        reference: &SecretRef,
        managed: bool,
    ) -> Result<Secret, SecretStoreError> {
        if !managed || self.builtin_with_id(store).is_some() {
            self.check_owner(app, store, reference)?;
        }
        self.get(store)?.get(reference)
    }

    /// [`read`](Self::read) for many secrets of one store at once: one
    /// answer per `(reference, managed)`, in their order, the readable ones
    /// asked of the store together ([`SecretStore::get_many`]).
    pub(crate) fn read_many(
        &self,
        app: &AppId,
        store: &str,
        wanted: &[(SecretRef, bool)],
    ) -> Vec<Result<Secret, SecretStoreError>> {
        let target = match self.get(store) {
            Ok(target) => target,
            Err(e) => return wanted.iter().map(|_| Err(e.clone())).collect(),
        };
        let checked: Vec<Result<(), SecretStoreError>> = wanted
            .iter()
            .map(|(reference, managed)| {
                if !managed || self.builtin_with_id(store).is_some() {
                    self.check_owner(app, store, reference)
                } else {
                    Ok(())
                }
            })
            .collect();
        let readable: Vec<SecretRef> = wanted
            .iter()
            .zip(&checked)
            .filter(|(_, c)| c.is_ok())
            .map(|((r, _), _)| r.clone())
            .collect();
        let mut read = target.get_many(&readable).into_iter();
        checked
            .into_iter()
            .map(|c| {
                c.and_then(|()| {
                    read.next().unwrap_or_else(|| {
                        Err(SecretStoreError::Unavailable {
                            store: store.to_owned(),
                            message: "it answered fewer reads than it was asked".to_owned(),
                        })
                    })
                })
            })
            .collect()
    }

    /// Refuses a reference into a store the library writes to that names a
    /// secret of another App.
    fn check_owner(
        &self,
        app: &AppId,
        store: &str,
        reference: &SecretRef,
    ) -> Result<(), SecretStoreError> {
        let library_store = store == self.managed.id() || self.builtin_with_id(store).is_some();
        let owner = self.get(store)?.library_owner(reference);
        if library_store && owner.is_some_and(|owner| owner != app.as_str()) {
            return Err(SecretStoreError::OtherApp {
                store: store.to_owned(),
            });
        }
        Ok(())
    }

    /// The built-in store, if `id` names it.
    fn builtin_with_id(&self, id: &str) -> Option<&BuiltinSecretStore> {
        self.builtin.as_deref().filter(|b| b.id() == id)
    }
}

/// A secret put in the managed store during a commit, removed again if the
/// commit fails.
pub(crate) struct Put {
    pub(crate) store: Arc<dyn SecretStore>,
    pub(crate) reference: SecretRef,
}

/// Deletes the secrets a failed commit stored.
pub(crate) fn remove_puts(puts: &[Put]) {
    for put in puts {
        // Best effort: the commit failed, so nothing refers to it.
        let _ = put.store.delete(&put.reference);
    }
}

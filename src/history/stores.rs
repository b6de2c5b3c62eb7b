//! The secret stores a [`Store`](crate::Store) writes to and reads from,
//! as the history engine sees them: where a submitted secret goes, how it
//! is removed with the change that drops it, and how a failed commit takes
//! back what it stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::backend::Batch;
use crate::error::Error;
use crate::secret::builtin::{self, BuiltinSecretStore};
use crate::secret::{SecretRef, SecretStore, SecretStoreError};

/// The secret stores a Store knows: the one it writes submitted secrets to,
/// and every store references may name (that one included).
#[derive(Debug)]
pub(crate) struct SecretStores {
    pub(crate) managed: Arc<dyn SecretStore>,
    /// The built-in store, when it is the managed one.
    pub(crate) builtin_managed: Option<Arc<BuiltinSecretStore>>,
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
                batch.remove(builtin::record_key(&reference.reference));
                true
            }
            _ => false,
        }
    }

    pub(crate) fn get(&self, id: &str) -> Result<&Arc<dyn SecretStore>, Error> {
        self.by_id.get(id).ok_or_else(|| {
            SecretStoreError::UnknownStore {
                store: id.to_owned(),
            }
            .into()
        })
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

//! Looking after a store as a whole: [`Store::verify`] checks the
//! tamper-evident history, [`Store::flush`] makes changes durable, and
//! [`Store::rotate_master_key`] re-encrypts every stored secret.

use crate::MasterKey;
use crate::access::Action;
use crate::error::Error;
use crate::history;
use crate::id::AppId;
use crate::model::Actor;

use crate::backend::Batch;
use crate::codec::{self, Corrupted, DIGEST_KEY_KEY, KEYCHECK_KEY, KeyCheck};
use crate::crypto::same_check;

use super::{Store, authorize_org, retrying};

/// What [`Store::verify`] checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Apps whose histories verify.
    pub apps: usize,
    /// Version records checked.
    pub versions: usize,
    /// Value entries checked.
    pub entries: usize,
    /// Secrets whose content was checked against its keyed digest.
    pub secrets_checked: usize,
}

impl Store {
    /// Checks the whole history of every App: each version follows the one
    /// before it and holds the values it committed to, each value matches
    /// its digest (secrets too, when the master key is there), and purged
    /// values keep their digests (guide:
    /// [Durability, concurrency and bad input](crate::_documentation::guide#durability-concurrency-and-bad-input)).
    /// A pass that checked only what one caller may see would read as a
    /// pass for the store, so this needs an org role that sees every App;
    /// [`verify_app`](Self::verify_app) checks one App for anyone who may
    /// read it.
    ///
    /// ```
    /// use valueset::{Actor, AppId, Key, Store};
    /// use valueset::model::NewValue;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// store.create_app(&admin, &AppId::new("shop")?)?;
    /// store.set(&admin, &AppId::new("shop")?, None, &Key::new("A")?, NewValue::plain("1"), Default::default())?;
    /// let report = store.verify(&admin)?;
    /// assert_eq!((report.apps, report.versions), (1, 1));
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator or Manager;
    /// [`Error::Tampered`] naming the App and the first broken version;
    /// [`Error::Corrupted`] for records that do not decode.
    pub fn verify(&self, actor: &Actor) -> Result<VerifyReport, Error> {
        authorize_org(actor, Action::VerifyStore)?;
        let mut report = VerifyReport::default();
        for app in self.reader().apps()? {
            self.verify_into(&app, &mut report)?;
        }
        Ok(report)
    }

    /// Checks the whole history of one App, as [`verify`](Self::verify)
    /// does for every App.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App;
    /// [`NotFound::App`](crate::error::NotFound::App); [`Error::Tampered`];
    /// [`Error::Corrupted`].
    pub fn verify_app(&self, actor: &Actor, app: &AppId) -> Result<VerifyReport, Error> {
        self.open_scope(actor, Action::ReadValues, app, None)?;
        let mut report = VerifyReport::default();
        self.verify_into(app, &mut report)?;
        Ok(report)
    }

    fn verify_into(&self, app: &AppId, report: &mut VerifyReport) -> Result<(), Error> {
        let v = history::verify::verify_app(
            self.reader(),
            app,
            &self.inner.digest_key,
            &self.inner.secrets,
        )?;
        report.apps += 1;
        report.versions += v.versions;
        report.entries += v.entries;
        report.secrets_checked += v.secrets_checked;
        Ok(())
    }

    /// Makes every change so far durable (sled also flushes on its own,
    /// every 500 ms and on drop).
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the storage cannot be flushed.
    pub fn flush(&self) -> Result<(), Error> {
        Ok(self.inner.backend.flush()?)
    }

    /// Checks that the storage answers, with one read: what a service's
    /// readiness check asks.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the storage cannot be reached or read
    /// (`backend_unavailable`, retryable, while a database is away).
    pub fn ping(&self) -> Result<(), Error> {
        self.inner.backend.get(codec::FORMAT_KEY)?;
        Ok(())
    }

    /// Re-encrypts every secret of the built-in store under `new`, and
    /// checks `new` from then on.
    ///
    /// Safe with writers in other processes: the rotation first records in
    /// the store that it has begun, which every writer checks in the same
    /// atomic step as its commit; from then on no secret can be sealed
    /// under the old key. It then reseals every secret and records `new`,
    /// in one batch on the condition that nothing changed meanwhile.
    /// A writer that stores a secret meanwhile gets `rotation_under_way`
    /// (retryable), and once it has finished, with the old key,
    /// `wrong_master_key`: such a writer is opened again with `new`.
    ///
    /// An interrupted rotation leaves every secret under the old key: the
    /// store still opens with the old key, stores no new secret, and the
    /// rotation is run again (with any new key) to finish it.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; `missing_master_key`
    /// when the store has no current key; [`Error::WrongMasterKey`] when the
    /// store now uses another key than this Store's; `decrypt_failed` when
    /// a stored secret does not open.
    pub fn rotate_master_key(&self, actor: &Actor, new: &MasterKey) -> Result<(), Error> {
        authorize_org(actor, Action::RotateMasterKey)?;
        let builtin = self.inner.secrets.builtin.as_ref().ok_or_else(|| {
            Error::from(crate::secret::SecretStoreError::MissingMasterKey {
                store: "builtin".to_owned(),
            })
        })?;
        // Each attempt plans in its own turn: a batch applied in a turn ends
        // it (see `pipeline`).
        let from = builtin.check_value()?;
        let rotating = KeyCheck::Rotating {
            from,
            to: new.check_value(),
        }
        .encode();
        retrying(|| {
            let _turn = self.lock();
            let stored = self.inner.backend.get(KEYCHECK_KEY)?;
            let decoded = stored.as_deref().map(KeyCheck::decode).transpose()?;
            if !decoded.is_some_and(|c| same_check(c.sealed_under(), &from)) {
                return Err(Error::WrongMasterKey);
            }
            let mut batch = Batch::new();
            batch.expect(KEYCHECK_KEY.to_vec(), stored);
            batch.insert(KEYCHECK_KEY.to_vec(), rotating.clone());
            Ok(self.inner.backend.apply(batch)?)
        })?;
        let sealed = self
            .inner
            .digest_key
            .seal(&new.encryption_key())
            .map_err(|e| Corrupted::because("the digest key could not be sealed", e))?;
        retrying(|| {
            let _turn = self.lock();
            let mut batch = builtin.reseal_all(new)?;
            batch.expect(KEYCHECK_KEY.to_vec(), Some(rotating.clone()));
            batch.insert(
                KEYCHECK_KEY.to_vec(),
                KeyCheck::Current(new.check_value()).encode(),
            );
            batch.insert(DIGEST_KEY_KEY.to_vec(), sealed.clone());
            Ok(self.inner.backend.apply(batch)?)
        })?;
        builtin.set_key(new);
        Ok(())
    }

    /// Rewrites the storage so that no file of it holds data that was
    /// removed or overwritten. [`purge`](Self::purge) and the deletion of an
    /// App or Environment do this themselves; run it after a crash
    /// interrupted one of them, or to reclaim space. On sled it writes the
    /// live data into a new generation of files and removes the old one
    /// (taking about as long as reading the whole store); in memory it does
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless org Administrator; [`Error::Backend`]
    /// when the storage cannot be rewritten (it is then as it was).
    pub fn compact(&self, actor: &Actor) -> Result<(), Error> {
        authorize_org(actor, Action::Compact)?;
        let _guard = self.lock();
        Ok(self.inner.backend.compact()?)
    }
}

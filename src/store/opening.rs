//! What every open of a store checks, and what the first open writes: the
//! data's format, the master key's check value and the sealed digest key.
//!
//! Many processes may open one fresh store at once (replicas of a service
//! starting together). The first open writes its records in one batch on
//! the condition that none of them exists yet; an open that loses that race
//! reads what the winner wrote and uses it, so every process ends with the
//! same digest key, and no open ever reports the race.

use std::ops::ControlFlow;

use crate::backend::{Backend, Batch};
use crate::codec::{
    self, APP_DATA_END, Corrupted, DIGEST_KEY_KEY, FORMAT_KEY, KEYCHECK_KEY, KeyCheck,
};
use crate::crypto::{DigestKey, MasterKey, same_check};
use crate::error::Error;

use super::retrying;

/// Checks the data's format and the master key, writing what a fresh store
/// lacks; returns the digest key of secrets (a fixed one without a master
/// key, when no secret can be stored).
pub(super) fn prepare(
    backend: &dyn Backend,
    master: Option<&MasterKey>,
) -> Result<DigestKey, Error> {
    retrying(|| attempt(backend, master))
}

/// One read of the store's records and, when some are missing, one
/// conditional write of them: a conflict means another open wrote first,
/// and the next attempt reads what it wrote.
fn attempt(backend: &dyn Backend, master: Option<&MasterKey>) -> Result<DigestKey, Error> {
    let mut batch = Batch::new();
    // Data is read before the format: the format is written before any
    // data, so data without a format read after it is damage, not a race.
    let has_data = has_app_data(backend)?;
    match backend.get(FORMAT_KEY)? {
        Some(found) => check_format(&found)?,
        None if has_data => {
            return Err(Corrupted::new("the database holds data but no format marker").into());
        }
        None => add_missing(&mut batch, FORMAT_KEY, vec![codec::FORMAT]),
    }
    let digest_key = match master {
        Some(master) => {
            check_key(backend, master, &mut batch)?;
            digest_key(backend, master, &mut batch)?
        }
        None => DigestKey::without_master_key(),
    };
    if !batch.is_empty() {
        backend.apply(batch)?;
    }
    Ok(digest_key)
}

/// Whether any App has data.
fn has_app_data(backend: &dyn Backend) -> Result<bool, Error> {
    let mut any = false;
    backend.scan(&[], APP_DATA_END, false, &mut |_, _| {
        any = true;
        ControlFlow::Break(())
    })?;
    Ok(any)
}

/// Refuses data of another format.
fn check_format(found: &[u8]) -> Result<(), Error> {
    match found {
        [f] if *f == codec::FORMAT => Ok(()),
        [f] => Err(Error::UnsupportedFormat {
            found: *f,
            supported: codec::FORMAT,
        }),
        _ => Err(codec::corrupted("the format marker").into()),
    }
}

/// Refuses a master key other than the store's. A rotation that began
/// from this key and did not finish leaves the store readable with it
/// (every secret is still sealed under it) until the rotation is run again.
fn check_key(backend: &dyn Backend, master: &MasterKey, batch: &mut Batch) -> Result<(), Error> {
    let check = master.check_value();
    match backend.get(KEYCHECK_KEY)? {
        Some(stored) if same_check(KeyCheck::decode(&stored)?.sealed_under(), &check) => Ok(()),
        Some(_) => Err(Error::WrongMasterKey),
        None => {
            add_missing(batch, KEYCHECK_KEY, KeyCheck::Current(check).encode());
            Ok(())
        }
    }
}

/// The store's digest key: opened when stored, else made and sealed.
fn digest_key(
    backend: &dyn Backend,
    master: &MasterKey,
    batch: &mut Batch,
) -> Result<DigestKey, Error> {
    let encryption = master.encryption_key();
    if let Some(sealed) = backend.get(DIGEST_KEY_KEY)? {
        return DigestKey::open(&encryption, &sealed)
            .map_err(|e| Corrupted::because("the sealed digest key does not open", e).into());
    }
    let key = DigestKey::generate();
    let sealed = key
        .seal(&encryption)
        .map_err(|e| Corrupted::because("the digest key could not be sealed", e))?;
    add_missing(batch, DIGEST_KEY_KEY, sealed);
    Ok(key)
}

/// Writes `value` at `key` on the condition that `key` is still absent.
fn add_missing(batch: &mut Batch, key: &[u8], value: Vec<u8>) {
    batch.expect(key.to_vec(), None);
    batch.insert(key.to_vec(), value);
}

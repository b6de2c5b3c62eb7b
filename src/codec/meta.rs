//! The store's own records, under keys that start with `0xFF` (after every
//! App's data): the data's format, the master key's check value and the
//! sealed digest key. The first open writes them in one conditional batch.
#![warn(clippy::indexing_slicing)]

use super::{Corrupted, corrupted};

/// Where the data's format is kept: one byte, [`FORMAT`](super::FORMAT).
pub(crate) const FORMAT_KEY: &[u8] = b"\xFFformat";

/// Where the master key's check value is kept: a [`KeyCheck`].
pub(crate) const KEYCHECK_KEY: &[u8] = b"\xFFkeycheck";

/// Where the digest key is kept, sealed under the master key.
pub(crate) const DIGEST_KEY_KEY: &[u8] = b"\xFFdigestkey";

/// Where the App tables end and the store's own records begin: a scan of
/// `[]..APP_DATA_END` sees every App's data and none of these records.
pub(crate) const APP_DATA_END: &[u8] = &[0xFF; 8];

/// The record at [`KEYCHECK_KEY`]: which master key the secrets are sealed
/// under, or that a rotation from one key to another has begun and not
/// finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyCheck {
    /// Every secret is sealed under the key with this check value.
    Current([u8; 32]),
    /// A rotation from `from` to `to` has begun: every secret is still
    /// sealed under `from`, and no new secret may be sealed until the
    /// rotation ends (or is run again with `from`).
    Rotating {
        /// The check value of the key every secret is sealed under.
        from: [u8; 32],
        /// The check value of the key they are being sealed under.
        to: [u8; 32],
    },
}

/// The first byte of a [`KeyCheck::Rotating`] record (a current check
/// value is 32 bytes with no tag, as stores before rotations had it).
const TAG_ROTATING: u8 = b'R';

impl KeyCheck {
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            KeyCheck::Current(check) => check.to_vec(),
            KeyCheck::Rotating { from, to } => {
                let mut out = Vec::with_capacity(65);
                out.push(TAG_ROTATING);
                out.extend_from_slice(from);
                out.extend_from_slice(to);
                out
            }
        }
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let bad = || corrupted("the master key's check value");
        match bytes.len() {
            32 => Ok(KeyCheck::Current(bytes.try_into().map_err(|_| bad())?)),
            65 if bytes.first() == Some(&TAG_ROTATING) => {
                let from = bytes.get(1..33).ok_or_else(bad)?;
                let to = bytes.get(33..).ok_or_else(bad)?;
                Ok(KeyCheck::Rotating {
                    from: from.try_into().map_err(|_| bad())?,
                    to: to.try_into().map_err(|_| bad())?,
                })
            }
            _ => Err(bad()),
        }
    }

    /// The check value of the key the secrets are sealed under now.
    pub(crate) fn sealed_under(&self) -> &[u8; 32] {
        match self {
            KeyCheck::Current(check) | KeyCheck::Rotating { from: check, .. } => check,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_checks_round_trip_and_bad_bytes_are_corrupted() {
        let current = KeyCheck::Current([7; 32]);
        let rotating = KeyCheck::Rotating {
            from: [1; 32],
            to: [2; 32],
        };
        for check in [current, rotating] {
            assert_eq!(KeyCheck::decode(&check.encode()), Ok(check));
        }
        assert_eq!(current.encode().len(), 32);
        assert_eq!(rotating.encode().len(), 65);
        assert_eq!(current.sealed_under(), &[7; 32]);
        assert_eq!(rotating.sealed_under(), &[1; 32]);
        let mut bad_tag = rotating.encode();
        bad_tag.splice(..1, [b'X']);
        for bad in [&[][..], &[0; 31], &[0; 33], &[0; 64], &bad_tag, &[0; 66]] {
            assert_eq!(
                KeyCheck::decode(bad).map_err(|e| e.code()),
                Err("corrupted")
            );
        }
    }
}

//! Keys and encryption at rest (guide: [Secret stores](crate::_documentation::guide#secret-stores)): the master key, keys derived from
//! it with blake3 `derive_key`, and XChaCha20-Poly1305 with a random nonce
//! per value and associated data that binds a ciphertext to where it
//! belongs.
//!
//! Only this module names `chacha20poly1305` and keyed blake3.

use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::input::InvalidInput;

/// The 32-byte key that every key of a store is derived from. Wiped on
/// drop, never printed.
///
/// ```
/// use valueset::MasterKey;
/// let key = MasterKey::from_hex(&"07".repeat(32))?;
/// assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
/// # Ok::<(), valueset::Error>(())
/// ```
pub struct MasterKey(Zeroizing<[u8; 32]>);

/// A key derived from the master key for one purpose.
pub(crate) struct DerivedKey(Zeroizing<[u8; 32]>);

/// A key that signs what the service hands out and takes back (the web
/// page's session cookies): a random one, or one derived from the master
/// key so that every replica holding it signs alike.
#[cfg(feature = "http")]
#[derive(Clone)]
pub(crate) struct MacKey(Zeroizing<[u8; 32]>);

/// The key of secrets' digests in the tamper-evident history: with it, equal
/// secrets cannot be found by hashing guesses.
pub(crate) struct DigestKey(Zeroizing<[u8; 32]>);

const ENCRYPTION_CONTEXT: &str = "valueset 2026-11-23 secret encryption key v1";
const CHECK_CONTEXT: &str = "valueset 2026-11-23 master key check value v1";
#[cfg(feature = "http")]
const SESSION_CONTEXT: &str = "valueset 2026-12-07 web session signing key v1";
const DIGEST_CONTEXT: &str = "valueset 2026-11-23 fixed digest key v1";
const EXPORT_SEAL_CONTEXT: &str = "valueset 2026-12-02 export seal key v1";
const EXPORT_DIGEST_CONTEXT: &str = "valueset 2026-12-02 export digest key v1";
/// Associated data of the sealed digest key.
pub(crate) const DIGEST_KEY_AAD: &[u8] = b"valueset digest key";
const NONCE_LEN: usize = 24;

impl MasterKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(Zeroizing::new(bytes))
    }

    /// A key from 64 hex characters (as `openssl rand -hex 32` prints one).
    /// The decode buffer is the key's own, so no copy is left behind.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::MasterKey`] unless `hex` is exactly 64 hex
    /// characters. The message never shows the input.
    pub fn from_hex(hex: &str) -> Result<Self, InvalidInput> {
        let hex = hex.trim();
        let mut key = Zeroizing::new([0u8; 32]);
        if hex.len() != 64 {
            return Err(InvalidInput::MasterKey);
        }
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let digit = |c: u8| char::from(c).to_digit(16);
            let (Some(hi), Some(lo)) = (
                pair.first().and_then(|c| digit(*c)),
                pair.get(1).and_then(|c| digit(*c)),
            ) else {
                return Err(InvalidInput::MasterKey);
            };
            if let Some(byte) = key.get_mut(i) {
                *byte = u8::try_from(hi * 16 + lo).unwrap_or(0);
            }
        }
        Ok(MasterKey(key))
    }

    /// A new random key from the operating system.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key);
        MasterKey(bytes)
    }

    /// The key that encrypts secrets at rest.
    pub(crate) fn encryption_key(&self) -> DerivedKey {
        DerivedKey(Zeroizing::new(blake3::derive_key(
            ENCRYPTION_CONTEXT,
            &self.0[..],
        )))
    }

    /// The keys an export sealed with this key uses: one encrypts its
    /// secrets, the other authenticates the whole document.
    pub(crate) fn export_keys(&self) -> (DerivedKey, DerivedKey) {
        let derive = |context| DerivedKey(Zeroizing::new(blake3::derive_key(context, &self.0[..])));
        (derive(EXPORT_SEAL_CONTEXT), derive(EXPORT_DIGEST_CONTEXT))
    }

    /// A value stored with the data that tells the right key from a wrong
    /// one; it reveals nothing of the key.
    pub(crate) fn check_value(&self) -> [u8; 32] {
        blake3::derive_key(CHECK_CONTEXT, &self.0[..])
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKey([redacted])")
    }
}

impl DerivedKey {
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }

    /// Encrypts `plaintext` bound to `aad`: a random nonce, then the
    /// ciphertext with its tag.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SealError)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// A digest of tagged parts keyed with this key: only a holder of the
    /// key can make one that matches.
    pub(crate) fn keyed_digest(&self, tag: &str, parts: &[&[u8]]) -> [u8; 32] {
        let inner = digest(tag, parts);
        *blake3::keyed_hash(&self.0, &inner).as_bytes()
    }

    /// Decrypts what [`seal`](Self::seal) made with the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN).ok_or(SealError)?;
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError)
    }
}

#[cfg(feature = "http")]
impl MacKey {
    /// A new random key.
    pub(crate) fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key);
        MacKey(bytes)
    }

    /// The key every holder of `master` derives alike.
    pub(crate) fn from_master(master: &MasterKey) -> Self {
        MacKey(Zeroizing::new(blake3::derive_key(
            SESSION_CONTEXT,
            &master.0[..],
        )))
    }

    /// A tag over tagged parts: only a holder of the key makes one that
    /// matches.
    pub(crate) fn sign(&self, tag: &str, parts: &[&[u8]]) -> [u8; 32] {
        *blake3::keyed_hash(&self.0, &digest(tag, parts)).as_bytes()
    }
}

#[cfg(feature = "http")]
impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey([redacted])")
    }
}

impl DigestKey {
    /// The digest key of a store without a master key (in memory): its
    /// secrets never leave the process, so a fixed key is enough.
    pub(crate) fn without_master_key() -> Self {
        DigestKey(Zeroizing::new(blake3::derive_key(DIGEST_CONTEXT, &[0; 32])))
    }

    /// A new random digest key. A store makes one once and keeps it sealed
    /// under the master key, so rotating the master key keeps every digest.
    pub(crate) fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key);
        DigestKey(bytes)
    }

    /// The key sealed under `key`, to store.
    pub(crate) fn seal(&self, key: &DerivedKey) -> Result<Vec<u8>, SealError> {
        key.seal(DIGEST_KEY_AAD, &self.0[..])
    }

    /// The key stored sealed under `key`.
    pub(crate) fn open(key: &DerivedKey, sealed: &[u8]) -> Result<Self, SealError> {
        let plain = key.open(DIGEST_KEY_AAD, sealed)?;
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| SealError)?;
        Ok(DigestKey(Zeroizing::new(bytes)))
    }

    /// A secret's digest: keyed by this key.
    pub(crate) fn secret(&self, plaintext: &str) -> [u8; 32] {
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(b"managed secret\0");
        h.update(plaintext.as_bytes());
        *h.finalize().as_bytes()
    }
}

impl fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DigestKey([redacted])")
    }
}

/// An unkeyed digest of tagged parts (plain values, references, records).
pub(crate) fn digest(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(tag.as_bytes());
    h.update(b"\0");
    for part in parts {
        h.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
        h.update(part);
    }
    *h.finalize().as_bytes()
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The bytes of hex text (either case); `None` for anything else.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: &u8| char::from(*c).to_digit(16);
            let hi = pair.first().and_then(digit)?;
            let lo = pair.get(1).and_then(digit)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

/// Encryption or decryption failed; no detail, by design.
#[derive(Debug, thiserror::Error)]
#[error("authenticated encryption failed (wrong key, or damaged data)")]
pub(crate) struct SealError;

/// Compares two check values without an early exit.
pub(crate) fn same_check(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_binds_to_its_place() {
        let key = MasterKey::generate().encryption_key();
        let sealed = key.seal(b"app/_app/PW/3", b"hunter2").unwrap();
        assert_eq!(
            &key.open(b"app/_app/PW/3", &sealed).unwrap()[..],
            b"hunter2"
        );
        // Moved elsewhere, it does not open.
        assert!(key.open(b"app/_app/PW/4", &sealed).is_err());
        // A flipped byte does not open.
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(key.open(b"app/_app/PW/3", &flipped).is_err());
        // Another key does not open it.
        let other = MasterKey::generate().encryption_key();
        assert!(other.open(b"app/_app/PW/3", &sealed).is_err());
        // Nonces are random: the same plaintext seals differently.
        assert_ne!(sealed, key.seal(b"app/_app/PW/3", b"hunter2").unwrap());
    }

    #[cfg(feature = "http")]
    #[test]
    fn mac_keys_sign_alike_only_from_one_master_key() {
        let master = MasterKey::from_bytes([7; 32]);
        let (a, b) = (MacKey::from_master(&master), MacKey::from_master(&master));
        let tag = a.sign("session", &[b"alice", b"42"]);
        assert_eq!(tag, b.sign("session", &[b"alice", b"42"]));
        // Another part, another tag, or another key: another tag.
        assert_ne!(tag, a.sign("session", &[b"alice", b"43"]));
        assert_ne!(tag, a.sign("csrf", &[b"alice", b"42"]));
        assert_ne!(tag, MacKey::generate().sign("session", &[b"alice", b"42"]));
        let other = MacKey::from_master(&MasterKey::from_bytes([8; 32]));
        assert_ne!(tag, other.sign("session", &[b"alice", b"42"]));
        // Not the encryption key's bytes, nor unkeyed.
        assert_ne!(tag, digest("session", &[b"alice", b"42"]));
        assert_eq!(format!("{a:?}"), "MacKey([redacted])");
    }

    #[test]
    fn hex_keys() {
        assert!(MasterKey::from_hex(&"ab".repeat(32)).is_ok());
        for bad in ["", "ab", &"zz".repeat(32), &"a".repeat(63), &"a".repeat(65)] {
            let e = MasterKey::from_hex(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_master_key");
            assert!(!e.to_string().contains(bad) || bad.is_empty());
        }
    }

    /// Known answers: a format change (the hex decoding, the key
    /// derivation, the sealed layout, the digests) is a deliberate, visible
    /// act, and a store written by one build opens in the next.
    #[test]
    fn known_answers() {
        let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        let key = MasterKey::from_hex(hex).unwrap();
        let bytes: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap());
        assert_eq!(
            key.check_value(),
            MasterKey::from_bytes(bytes).check_value()
        );
        let h = |b: &[u8]| {
            b.iter().fold(String::new(), |mut s, x| {
                let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{x:02x}"));
                s
            })
        };
        assert_eq!(
            h(&key.check_value()),
            "f9284aeebc0f73eebe60294e827fde95a3d630c65c27aae8eecec14fcc7fa200"
        );
        let sealed_hex = concat!(
            "ed25661054926a38159ca96230cc080bbeb3241b03cbb184",
            "51aa0db6c599468f690b690274ce3b4313494e85957559"
        );
        let sealed: Vec<u8> = (0..sealed_hex.len() / 2)
            .map(|i| u8::from_str_radix(&sealed_hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(
            &key.encryption_key()
                .open(b"shop/_app/PW/3", &sealed)
                .unwrap()[..],
            b"hunter2"
        );
        assert_eq!(
            h(&digest("plain", &[b"db.dev"])),
            "8bce1ea3e1ecb7bd40575166b998203adabdd0879f7e38b7557fec83c666f6ad"
        );
        // Upper-case hex is the same key.
        let upper = MasterKey::from_hex(&hex.to_uppercase()).unwrap();
        assert_eq!(upper.check_value(), key.check_value());
    }

    #[test]
    fn short_or_cut_records_do_not_open_and_do_not_panic() {
        let key = MasterKey::generate().encryption_key();
        let sealed = key.seal(b"a", b"x").unwrap();
        for len in [
            0,
            1,
            NONCE_LEN - 1,
            NONCE_LEN,
            NONCE_LEN + 1,
            sealed.len() - 1,
        ] {
            assert!(key.open(b"a", &sealed[..len]).is_err(), "{len}");
        }
        assert!(key.open(b"a", &sealed).is_ok());
    }

    #[test]
    fn check_values_compare_every_byte() {
        let a = [0u8; 32];
        assert!(same_check(&a, &a));
        let mut one = a;
        one[31] = 1;
        assert!(!same_check(&a, &one));
        // Two differences that cancel out when XORed together still differ.
        let mut two = a;
        two[0] = 1;
        two[1] = 1;
        assert!(!same_check(&a, &two));
        assert!(!same_check(&a, &a[..31]));
    }
}

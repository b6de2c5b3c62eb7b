//! Stored records and keys, with a format tag (SPEC 7: bad bytes get a typed
//! error, never a panic).
//!
//! Keys are laid out so that the backend's key order is the order the engine
//! reads in. Ids and keys never contain `0x00`, so it separates parts;
//! sequence numbers are big-endian.
//!
//! | key | value |
//! |---|---|
//! | `A` app | `AppMeta` |
//! | `N` app 0 env | `EnvMeta` |
//! | `V` app 0 seq | `VersionRecord` of an App version |
//! | `W` app 0 env 0 seq | `VersionRecord` of an Environment's own version |
//! | `H` app 0 1 key 0 seq | `Entry`: the App value of key from seq on |
//! | `H` app 0 2 env 0 key 0 seq | `Entry`: the override of key from seq on |
//! | `O` app 0 key 0 env | empty: env overrides key now |
//! | `K` app 0 1 key, `K` app 0 2 env 0 key | empty: key has entries at that level |
#![warn(clippy::indexing_slicing)]

use crate::id::{AppId, EnvId, Key};
use crate::model::{Change, ChangeOp, ResultOf, Timestamp, VersionId};
use crate::secret::SecretRef;

/// The format of every record: bumped when a record's layout changes.
pub(crate) const FORMAT: u8 = 1;

const TAG_APP: u8 = 1;
const TAG_ENV: u8 = 2;
const TAG_VERSION: u8 = 3;
const TAG_ENTRY: u8 = 4;

/// An App's bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppMeta {
    pub(crate) created_at: Timestamp,
    /// The sequence number the next change will take; shared by the App and
    /// its Environments.
    pub(crate) next_seq: u64,
    /// The hash of the newest version record: the head of the App's chain.
    pub(crate) last_hash: [u8; 32],
}

/// An Environment's bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EnvMeta {
    pub(crate) created_at: Timestamp,
    /// The sequence number of its first override, from which its history is
    /// its own.
    pub(crate) diverged_at: Option<u64>,
    /// The hash of its newest own version record: the head of its chain.
    pub(crate) last_hash: [u8; 32],
}

/// What a change recorded (the values are in [`Entry`]s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VersionRecord {
    pub(crate) created_at: Timestamp,
    pub(crate) created_by: String,
    pub(crate) comment: String,
    pub(crate) result_of: ResultOf,
    pub(crate) change: Vec<Change>,
    pub(crate) source: Option<VersionId>,
    /// The hash of the App's previous version record (of any level).
    pub(crate) parent: [u8; 32],
    /// The digest of every entry written at this version's sequence number.
    pub(crate) entries: [u8; 32],
}

/// One key's state from one sequence number on, at one level.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) state: State,
    pub(crate) description: String,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    /// The sequence number whose change introduced this value: entries of
    /// one value (its description changed since) share it.
    pub(crate) introduced: u64,
    pub(crate) secret_version: Option<u32>,
    /// The digest of the value (keyed for secrets): kept when a purge drops
    /// the content, so a purged history still verifies.
    pub(crate) value_digest: [u8; 32],
}

/// A key's value state.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// The key was deleted.
    Deleted,
    Plain(String),
    /// A secret the library stored in the store `store`.
    Managed {
        store: String,
        reference: SecretRef,
    },
    /// A secret that belongs to its owner.
    Reference {
        store: String,
        reference: SecretRef,
    },
    /// Purged: the content is gone.
    Purged,
}

impl Entry {
    pub(crate) fn is_live(&self) -> bool {
        !matches!(self.state, State::Deleted)
    }
}

/// Lengths only: an entry holds values.
impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Deleted => "deleted",
            State::Plain(_) => "plain",
            State::Managed { .. } => "managed secret",
            State::Reference { .. } => "secret reference",
            State::Purged => "purged",
        };
        f.debug_struct("Entry")
            .field("state", &state)
            .field("introduced", &self.introduced)
            .field("secret_version", &self.secret_version)
            .finish_non_exhaustive()
    }
}

// ---- keys ----

fn key_with(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    k.push(tag);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p);
    }
    k
}

pub(crate) fn app_key(app: &AppId) -> Vec<u8> {
    key_with(b'A', &[app.as_str().as_bytes()])
}

pub(crate) fn apps_range() -> (Vec<u8>, Vec<u8>) {
    (vec![b'A'], vec![b'B'])
}

pub(crate) fn app_from_key(key: &[u8]) -> Result<AppId, Corrupted> {
    let id = key.get(1..).and_then(|b| std::str::from_utf8(b).ok());
    id.and_then(|s| AppId::new(s).ok())
        .ok_or_else(|| corrupted("an app key"))
}

pub(crate) fn env_key(app: &AppId, env: &EnvId) -> Vec<u8> {
    key_with(b'N', &[app.as_str().as_bytes(), env.as_str().as_bytes()])
}

/// All Environment keys of `app`, and where the env id starts in each.
pub(crate) fn envs_range(app: &AppId) -> (Vec<u8>, Vec<u8>, usize) {
    let mut start = key_with(b'N', &[app.as_str().as_bytes()]);
    start.push(0);
    let end = successor(&start);
    let skip = start.len();
    (start, end, skip)
}

pub(crate) fn version_key(app: &AppId, seq: u64) -> Vec<u8> {
    let mut k = key_with(b'V', &[app.as_str().as_bytes()]);
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub(crate) fn env_version_key(app: &AppId, env: &EnvId, seq: u64) -> Vec<u8> {
    let mut k = key_with(b'W', &[app.as_str().as_bytes(), env.as_str().as_bytes()]);
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The prefix of the value history of one level: the App (`env == None`) or
/// one Environment's overrides.
pub(crate) fn history_prefix(app: &AppId, env: Option<&EnvId>) -> Vec<u8> {
    let mut k = key_with(b'H', &[app.as_str().as_bytes()]);
    k.push(0);
    match env {
        None => k.push(1),
        Some(env) => {
            k.push(2);
            k.extend_from_slice(env.as_str().as_bytes());
            k.push(0);
        }
    }
    k
}

/// `prefix` key 0 seq.
pub(crate) fn entry_key(prefix: &[u8], key: &Key, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + key.as_str().len() + 9);
    k.extend_from_slice(prefix);
    k.extend_from_slice(key.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Splits an entry key (under `prefix`) into its key and sequence number.
pub(crate) fn split_entry_key(prefix: &[u8], full: &[u8]) -> Result<(Key, u64), Corrupted> {
    let rest = full
        .strip_prefix(prefix)
        .ok_or_else(|| corrupted("an entry key"))?;
    let split = rest
        .len()
        .checked_sub(9)
        .ok_or_else(|| corrupted("an entry key"))?;
    let (key, tail) = rest.split_at(split);
    let (sep, seq) = tail
        .split_first()
        .ok_or_else(|| corrupted("an entry key"))?;
    if *sep != 0 {
        return Err(corrupted("an entry key"));
    }
    let key = std::str::from_utf8(key)
        .ok()
        .and_then(|s| Key::new(s).ok())
        .ok_or_else(|| corrupted("an entry key"))?;
    Ok((key, seq_from(seq)?))
}

/// The prefix of the key index of one level (every key that has entries
/// there), so a full read scans the index once and seeks once per key.
pub(crate) fn key_index_prefix(app: &AppId, env: Option<&EnvId>) -> Vec<u8> {
    let mut k = history_prefix(app, env);
    if let Some(first) = k.first_mut() {
        *first = b'K';
    }
    k
}

pub(crate) fn override_index_key(app: &AppId, key: &Key, env: &EnvId) -> Vec<u8> {
    key_with(
        b'O',
        &[
            app.as_str().as_bytes(),
            key.as_str().as_bytes(),
            env.as_str().as_bytes(),
        ],
    )
}

/// All index keys for `key` in `app`, and where the env id starts.
pub(crate) fn override_index_range(app: &AppId, key: &Key) -> (Vec<u8>, Vec<u8>, usize) {
    let mut start = key_with(b'O', &[app.as_str().as_bytes(), key.as_str().as_bytes()]);
    start.push(0);
    let end = successor(&start);
    let skip = start.len();
    (start, end, skip)
}

/// Every key of `app`, of any table.
pub(crate) fn app_ranges(app: &AppId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut ranges = vec![(app_key(app), successor(&app_key(app)))];
    for tag in [b'N', b'V', b'W', b'H', b'O', b'K'] {
        let mut start = key_with(tag, &[app.as_str().as_bytes()]);
        start.push(0);
        let end = successor(&start);
        ranges.push((start, end));
    }
    ranges
}

/// Every key of one Environment: its meta, own versions and overrides.
pub(crate) fn env_ranges(app: &AppId, env: &EnvId) -> Vec<(Vec<u8>, Vec<u8>)> {
    let meta = env_key(app, env);
    let mut versions = key_with(b'W', &[app.as_str().as_bytes(), env.as_str().as_bytes()]);
    versions.push(0);
    let history = history_prefix(app, Some(env));
    let index = key_index_prefix(app, Some(env));
    vec![
        (meta.clone(), successor(&meta)),
        (versions.clone(), successor(&versions)),
        (history.clone(), successor(&history)),
        (index.clone(), successor(&index)),
    ]
}

/// The smallest key greater than every key that starts with `prefix`.
pub(crate) fn successor(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    vec![u8::MAX; prefix.len() + 1]
}

pub(crate) fn seq_from(bytes: &[u8]) -> Result<u64, Corrupted> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| corrupted("a sequence number"))?;
    Ok(u64::from_be_bytes(array))
}

// ---- records ----

/// A stored record or key that does not decode: the storage was damaged or
/// written by an incompatible version. It converts into
/// [`Error::Corrupted`](crate::Error::Corrupted), with the same message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("corrupted data: {what}")]
pub struct Corrupted {
    /// What could not be read.
    pub(crate) what: String,
}

impl Corrupted {
    /// The stable code, as [`Error::code`](crate::Error::code) gives it:
    /// `corrupted`.
    pub fn code(&self) -> &'static str {
        "corrupted"
    }
}

pub(crate) fn corrupted(what: &str) -> Corrupted {
    Corrupted {
        what: format!("could not decode {what}"),
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn new(tag: u8) -> Self {
        Writer(vec![FORMAT, tag])
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn str(&mut self, s: &str) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.u32(len);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn bytes32(&mut self, v: &[u8; 32]) {
        self.0.extend_from_slice(v);
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], tag: u8, what: &'static str) -> Result<Self, Corrupted> {
        let mut r = Reader { bytes, what };
        let format = r.u8()?;
        if format != FORMAT {
            return Err(Corrupted {
                what: format!("{what} has format {format}, this version reads format {FORMAT}"),
            });
        }
        if r.u8()? != tag {
            return Err(corrupted(what));
        }
        Ok(r)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupted> {
        if self.bytes.len() < n {
            return Err(corrupted(self.what));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, Corrupted> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    fn u32(&mut self) -> Result<u32, Corrupted> {
        let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| corrupted(self.what))?;
        Ok(u32::from_be_bytes(b))
    }
    fn u64(&mut self) -> Result<u64, Corrupted> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| corrupted(self.what))?;
        Ok(u64::from_be_bytes(b))
    }
    fn i64(&mut self) -> Result<i64, Corrupted> {
        let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| corrupted(self.what))?;
        Ok(i64::from_be_bytes(b))
    }
    fn str(&mut self) -> Result<String, Corrupted> {
        let len = usize::try_from(self.u32()?).map_err(|_| corrupted(self.what))?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| corrupted(self.what))
    }
    fn opt_str(&mut self) -> Result<Option<String>, Corrupted> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(corrupted(self.what)),
        }
    }
    fn bytes32(&mut self) -> Result<[u8; 32], Corrupted> {
        self.take(32)?.try_into().map_err(|_| corrupted(self.what))
    }
    fn opt_u64(&mut self) -> Result<Option<u64>, Corrupted> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.u64().map(Some),
            _ => Err(corrupted(self.what)),
        }
    }
    fn key(&mut self) -> Result<Key, Corrupted> {
        Key::new(self.str()?).map_err(|_| corrupted(self.what))
    }
    fn end(self) -> Result<(), Corrupted> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(corrupted(self.what))
        }
    }
}

const RESULTS: [ResultOf; 12] = [
    ResultOf::AppValueCreate,
    ResultOf::AppValueUpdate,
    ResultOf::AppValueDelete,
    ResultOf::AppValuesDelete,
    ResultOf::AppValueSetVersionRestore,
    ResultOf::AppValueSetVersionPurge,
    ResultOf::EnvValueCreate,
    ResultOf::EnvValueUpdate,
    ResultOf::EnvValueDelete,
    ResultOf::EnvValuesDelete,
    ResultOf::EnvValueSetVersionRestore,
    ResultOf::EnvValueSetVersionPurge,
];

impl AppMeta {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_APP);
        w.i64(self.created_at.as_millis());
        w.u64(self.next_seq);
        w.bytes32(&self.last_hash);
        w.0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_APP, "an app record")?;
        let meta = AppMeta {
            created_at: Timestamp::from_millis(r.i64()?),
            next_seq: r.u64()?,
            last_hash: r.bytes32()?,
        };
        r.end()?;
        Ok(meta)
    }
}

impl EnvMeta {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_ENV);
        w.i64(self.created_at.as_millis());
        w.opt_u64(self.diverged_at);
        w.bytes32(&self.last_hash);
        w.0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_ENV, "an environment record")?;
        let meta = EnvMeta {
            created_at: Timestamp::from_millis(r.i64()?),
            diverged_at: r.opt_u64()?,
            last_hash: r.bytes32()?,
        };
        r.end()?;
        Ok(meta)
    }
}

impl VersionRecord {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_VERSION);
        w.i64(self.created_at.as_millis());
        w.str(&self.created_by);
        w.str(&self.comment);
        let result = RESULTS
            .iter()
            .position(|r| *r == self.result_of)
            .unwrap_or(0);
        w.u8(u8::try_from(result).unwrap_or(0));
        w.u32(u32::try_from(self.change.len()).unwrap_or(u32::MAX));
        for c in &self.change {
            w.u8(match c.op {
                ChangeOp::Add => 0,
                ChangeOp::Replace => 1,
                ChangeOp::Remove => 2,
            });
            w.str(c.key.as_str());
            w.opt_u64(c.secret_version.map(u64::from));
        }
        match self.source {
            None => w.u8(0),
            Some(v) => {
                w.u8(if v.is_env() { 2 } else { 1 });
                w.u64(v.seq());
            }
        }
        w.bytes32(&self.parent);
        w.bytes32(&self.entries);
        w.0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_VERSION, "a version record")?;
        let created_at = Timestamp::from_millis(r.i64()?);
        let created_by = r.str()?;
        let comment = r.str()?;
        let result_of = *RESULTS
            .get(usize::from(r.u8()?))
            .ok_or_else(|| corrupted("a version record"))?;
        let n = r.u32()?;
        let mut change = Vec::new();
        for _ in 0..n {
            let op = match r.u8()? {
                0 => ChangeOp::Add,
                1 => ChangeOp::Replace,
                2 => ChangeOp::Remove,
                _ => return Err(corrupted("a version record")),
            };
            let key = r.key()?;
            let secret_version = r
                .opt_u64()?
                .map(u32::try_from)
                .transpose()
                .map_err(|_| corrupted("a version record"))?;
            change.push(Change {
                op,
                key,
                secret_version,
            });
        }
        let source = match r.u8()? {
            0 => None,
            1 => Some(VersionId::app(r.u64()?)),
            2 => Some(VersionId::env(r.u64()?)),
            _ => return Err(corrupted("a version record")),
        };
        let parent = r.bytes32()?;
        let entries = r.bytes32()?;
        r.end()?;
        Ok(VersionRecord {
            created_at,
            created_by,
            comment,
            result_of,
            change,
            source,
            parent,
            entries,
        })
    }
}

impl Entry {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_ENTRY);
        match &self.state {
            State::Deleted => w.u8(0),
            State::Plain(v) => {
                w.u8(1);
                w.str(v);
            }
            State::Managed { store, reference } => {
                w.u8(2);
                w.str(store);
                w.str(&reference.reference);
                w.opt_str(reference.version.as_deref());
            }
            State::Reference { store, reference } => {
                w.u8(3);
                w.str(store);
                w.str(&reference.reference);
                w.opt_str(reference.version.as_deref());
            }
            State::Purged => w.u8(4),
        }
        w.str(&self.description);
        w.i64(self.created_at.as_millis());
        w.i64(self.updated_at.as_millis());
        w.u64(self.introduced);
        w.opt_u64(self.secret_version.map(u64::from));
        w.bytes32(&self.value_digest);
        w.0
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_ENTRY, "a value entry")?;
        let state = match r.u8()? {
            0 => State::Deleted,
            1 => State::Plain(r.str()?),
            kind @ (2 | 3) => {
                let store = r.str()?;
                let reference = SecretRef {
                    reference: r.str()?,
                    version: r.opt_str()?,
                };
                if kind == 2 {
                    State::Managed { store, reference }
                } else {
                    State::Reference { store, reference }
                }
            }
            4 => State::Purged,
            _ => return Err(corrupted("a value entry")),
        };
        let entry = Entry {
            state,
            description: r.str()?,
            created_at: Timestamp::from_millis(r.i64()?),
            updated_at: Timestamp::from_millis(r.i64()?),
            introduced: r.u64()?,
            secret_version: r
                .opt_u64()?
                .map(u32::try_from)
                .transpose()
                .map_err(|_| corrupted("a value entry"))?,
            value_digest: r.bytes32()?,
        };
        r.end()?;
        Ok(entry)
    }
}

/// Decodes any record by its tag, for the fuzz target: `Ok` names the kind.
#[doc(hidden)]
pub fn decode_any(bytes: &[u8]) -> Result<&'static str, Corrupted> {
    match bytes.get(1) {
        Some(&TAG_APP) => AppMeta::decode(bytes).map(|_| "app"),
        Some(&TAG_ENV) => EnvMeta::decode(bytes).map(|_| "env"),
        Some(&TAG_VERSION) => VersionRecord::decode(bytes).map(|_| "version"),
        Some(&TAG_ENTRY) => Entry::decode(bytes).map(|_| "entry"),
        _ => Err(corrupted("a record")),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let entry = Entry {
            state: State::Managed {
                store: "memory".into(),
                reference: SecretRef::new("a/K").with_version("3"),
            },
            description: "db".into(),
            created_at: Timestamp::from_millis(5),
            updated_at: Timestamp::from_millis(-7),
            introduced: 9,
            secret_version: Some(2),
            value_digest: [7; 32],
        };
        assert!(Entry::decode(&entry.encode()).unwrap() == entry);
        let v = VersionRecord {
            created_at: Timestamp::from_millis(1),
            created_by: "alice".into(),
            comment: "c".into(),
            result_of: ResultOf::EnvValueSetVersionPurge,
            change: vec![Change {
                op: ChangeOp::Remove,
                key: Key::new("K").unwrap(),
                secret_version: Some(4),
            }],
            source: Some(VersionId::env(3)),
            parent: [1; 32],
            entries: [2; 32],
        };
        assert_eq!(VersionRecord::decode(&v.encode()).unwrap(), v);
        let m = EnvMeta {
            created_at: Timestamp::from_millis(3),
            diverged_at: Some(4),
            last_hash: [5; 32],
        };
        assert_eq!(EnvMeta::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn bad_bytes_are_typed_errors() {
        let good = AppMeta {
            created_at: Timestamp::from_millis(1),
            next_seq: 2,
            last_hash: [3; 32],
        }
        .encode();
        for cut in 0..good.len() {
            assert_eq!(
                AppMeta::decode(&good[..cut]).unwrap_err().code(),
                "corrupted"
            );
        }
        let mut newer = good.clone();
        newer[0] = 9;
        assert!(
            AppMeta::decode(&newer)
                .unwrap_err()
                .to_string()
                .contains("format 9")
        );
        let mut longer = good;
        longer.push(0);
        assert!(AppMeta::decode(&longer).is_err());
    }

    #[test]
    fn entry_keys_split_back() {
        let app = AppId::new("shop").unwrap();
        let env = EnvId::new("prod").unwrap();
        let prefix = history_prefix(&app, Some(&env));
        let key = Key::new("db.host").unwrap();
        let k = entry_key(&prefix, &key, 42);
        assert_eq!(split_entry_key(&prefix, &k).unwrap(), (key, 42));
        assert_eq!(successor(&[1, 255]), vec![2]);
    }
}

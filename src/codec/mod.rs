//! Stored records, with a format tag: bad bytes get a typed error,
//! [`Corrupted`], never a panic. `keys` lays out where each record lives;
//! `meta` holds the store's own records (format, key check); `wire`
//! encodes fields.
#![warn(clippy::indexing_slicing)]

mod keys;
mod meta;
mod wire;

use crate::model::{Change, ChangeOp, ResultOf, Timestamp, VersionId};
use crate::secret::SecretRef;

use crate::codes;
pub(crate) use keys::*;
pub(crate) use meta::*;
use wire::{Reader, Writer};

/// The format of every record: bumped when a record's layout changes.
pub(crate) const FORMAT: u8 = 1;

const TAG_APP: u8 = 1;
const TAG_ENV: u8 = 2;
const TAG_VERSION: u8 = 3;
const TAG_ENTRY: u8 = 4;
const TAG_TAG: u8 = 5;

/// A tag of one level's history: every version it has named, oldest first;
/// the last is the one it names now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TagRecord {
    pub(crate) moves: Vec<TagMove>,
}

/// One placing of a tag: the version, when, and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TagMove {
    pub(crate) seq: u64,
    pub(crate) at: Timestamp,
    pub(crate) by: String,
}

/// An App's bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppMeta {
    pub(crate) created_at: Timestamp,
    /// The sequence number the next change will take; shared by the App and
    /// its Environments.
    pub(crate) next_seq: u64,
    /// The hash of the newest version record: the head of the App's chain.
    pub(crate) last_hash: [u8; 32],
    /// Its human-friendly name; empty when it is the id.
    pub(crate) name: String,
    /// The name of the actor who created it; empty in stores from before
    /// creators were kept.
    pub(crate) created_by: String,
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
    /// Its human-friendly name; empty when it is the id.
    pub(crate) name: String,
    /// Its type (`development`, `production`, …); empty for the default.
    pub(crate) env_type: String,
    /// The name of the actor who created it; empty in stores from before
    /// creators were kept.
    pub(crate) created_by: String,
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
    /// A plain value that is a template: its placeholders are resolved
    /// against the same Environment's values.
    Template(String),
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
            State::Template(_) => "template",
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

/// Stored data that cannot be used: a record or key that does not decode,
/// or a store's own record that does not open. The storage was damaged or
/// written by an incompatible version. [`source`](std::error::Error::source)
/// gives the lower-level cause, when there is one.
#[derive(Clone, Debug, thiserror::Error)]
#[error("corrupted data: {what}")]
pub struct Corrupted {
    /// What could not be read.
    pub(crate) what: String,
    #[source]
    pub(crate) source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl Corrupted {
    /// Data described by `what` cannot be used.
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Corrupted {
            what: what.into(),
            source: None,
        }
    }

    /// As [`new`](Self::new), because of `source`.
    pub(crate) fn because(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Corrupted {
            what: what.into(),
            source: Some(std::sync::Arc::new(source)),
        }
    }

    /// What could not be read, for people.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The stable code, as [`Error::code`](crate::Error::code) gives it:
    /// `corrupted`.
    pub fn code(&self) -> &'static str {
        codes::CORRUPTED
    }
}

/// Two reports of damage are the same when they say the same thing.
impl PartialEq for Corrupted {
    fn eq(&self, other: &Self) -> bool {
        self.what == other.what
    }
}

impl Eq for Corrupted {}

pub(crate) fn corrupted(what: &str) -> Corrupted {
    Corrupted::new(format!("could not decode {what}"))
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
        w.str(&self.name);
        w.str(&self.created_by);
        w.finish()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_APP, "an app record")?;
        let mut meta = AppMeta {
            created_at: Timestamp::from_millis(r.i64()?),
            next_seq: r.u64()?,
            last_hash: r.bytes32()?,
            name: String::new(),
            created_by: String::new(),
        };
        // Records written before names were kept end here.
        if !r.at_end() {
            meta.name = r.str()?;
            meta.created_by = r.str()?;
        }
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
        w.str(&self.name);
        w.str(&self.env_type);
        w.str(&self.created_by);
        w.finish()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_ENV, "an environment record")?;
        let mut meta = EnvMeta {
            created_at: Timestamp::from_millis(r.i64()?),
            diverged_at: r.opt_u64()?,
            last_hash: r.bytes32()?,
            name: String::new(),
            env_type: String::new(),
            created_by: String::new(),
        };
        // Records written before names were kept end here.
        if !r.at_end() {
            meta.name = r.str()?;
            meta.env_type = r.str()?;
            meta.created_by = r.str()?;
        }
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
        w.finish()
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
            State::Template(v) => {
                w.u8(5);
                w.str(v);
            }
        }
        w.str(&self.description);
        w.i64(self.created_at.as_millis());
        w.i64(self.updated_at.as_millis());
        w.u64(self.introduced);
        w.opt_u64(self.secret_version.map(u64::from));
        w.bytes32(&self.value_digest);
        w.finish()
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
            5 => State::Template(r.str()?),
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

/// The value of a key index record: the key's newest entry at its level,
/// with its sequence number, so a read of the newest values is one scan.
/// An empty value (written by earlier versions) says nothing: the reader
/// seeks the entry instead.
pub(crate) fn encode_current(seq: u64, entry: &Entry) -> Vec<u8> {
    let mut out = seq.to_be_bytes().to_vec();
    out.extend_from_slice(&entry.encode());
    out
}

/// Splits [`encode_current`] into the sequence number and the encoded
/// entry, so a reader decodes the entry only if it wants it; `None` for an
/// empty value.
pub(crate) fn split_current(bytes: &[u8]) -> Result<Option<(u64, &[u8])>, Corrupted> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let (seq, entry) = bytes
        .split_at_checked(8)
        .ok_or_else(|| corrupted("a key index record"))?;
    Ok(Some((seq_from(seq)?, entry)))
}

impl TagRecord {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_TAG);
        w.u32(u32::try_from(self.moves.len()).unwrap_or(u32::MAX));
        for m in &self.moves {
            w.u64(m.seq);
            w.i64(m.at.as_millis());
            w.str(&m.by);
        }
        w.finish()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Corrupted> {
        let mut r = Reader::new(bytes, TAG_TAG, "a tag record")?;
        let n = r.u32()?;
        if n == 0 {
            // A tag is made by its first move: none is not a tag.
            return Err(corrupted("a tag record"));
        }
        let mut moves = Vec::new();
        for _ in 0..n {
            moves.push(TagMove {
                seq: r.u64()?,
                at: Timestamp::from_millis(r.i64()?),
                by: r.str()?,
            });
        }
        r.end()?;
        Ok(TagRecord { moves })
    }

    /// The sequence number the tag names now.
    pub(crate) fn current(&self) -> Option<u64> {
        self.moves.last().map(|m| m.seq)
    }
}

/// Decodes any record by its tag, for the fuzz target: `Ok` names the kind.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn decode_any(bytes: &[u8]) -> Result<&'static str, Corrupted> {
    match bytes.get(1) {
        Some(&TAG_APP) => AppMeta::decode(bytes).map(|_| "app"),
        Some(&TAG_ENV) => EnvMeta::decode(bytes).map(|_| "env"),
        Some(&TAG_VERSION) => VersionRecord::decode(bytes).map(|_| "version"),
        Some(&TAG_ENTRY) => Entry::decode(bytes).map(|_| "entry"),
        Some(&TAG_TAG) => TagRecord::decode(bytes).map(|_| "tag"),
        _ => Err(corrupted("a record")),
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::id::{AppId, EnvId, Key};

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
        let template = Entry {
            state: State::Template("${values.A}".into()),
            ..entry.clone()
        };
        let bytes = template.encode();
        assert!(Entry::decode(&bytes).unwrap() == template);
        // The state tag sits after the format and record tags.
        assert_eq!(bytes[2], 5);
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
            name: "Production".into(),
            env_type: "production".into(),
            created_by: "alice".into(),
        };
        assert_eq!(EnvMeta::decode(&m.encode()).unwrap(), m);
        // A record from before names were kept reads with empty ones.
        let old = &m.encode()[..2 + 8 + 9 + 32];
        let read = EnvMeta::decode(old).unwrap();
        assert_eq!((read.diverged_at, read.name.as_str()), (Some(4), ""));
        assert_eq!((read.env_type.as_str(), read.created_by.as_str()), ("", ""));
        let whole = m.encode();
        for cut in old.len() + 1..whole.len() {
            assert!(EnvMeta::decode(&whole[..cut]).is_err(), "cut at {cut}");
        }
        let t = TagRecord {
            moves: vec![
                TagMove {
                    seq: 3,
                    at: Timestamp::from_millis(10),
                    by: "alice".into(),
                },
                TagMove {
                    seq: 9,
                    at: Timestamp::from_millis(11),
                    by: "bob".into(),
                },
            ],
        };
        let bytes = t.encode();
        assert_eq!(TagRecord::decode(&bytes).unwrap(), t);
        assert_eq!(decode_any(&bytes), Ok("tag"));
        assert_eq!(t.current(), Some(9));
        let none = TagRecord { moves: Vec::new() }.encode();
        assert!(TagRecord::decode(&none).is_err(), "a tag without moves");
    }

    #[test]
    fn corrupted_says_what_and_keeps_its_cause() {
        use std::error::Error as _;
        let plain = Corrupted::new("the format marker");
        assert_eq!(plain.what(), "the format marker");
        assert_eq!(plain.to_string(), "corrupted data: the format marker");
        assert!(plain.source().is_none());
        let sealed = crate::crypto::SealError;
        let caused = Corrupted::because("the sealed digest key does not open", sealed);
        assert_eq!(
            caused.source().map(ToString::to_string),
            Some(crate::crypto::SealError.to_string())
        );
        // Equal when they say the same thing, whatever the cause.
        assert_eq!(
            Corrupted::new("x"),
            Corrupted::because("x", crate::crypto::SealError)
        );
        assert_ne!(Corrupted::new("x"), Corrupted::new("y"));
        assert_eq!(corrupted("a key").what(), "could not decode a key");
    }

    /// The `decode_record` fuzz target's seed corpus and saved crashes, with
    /// the target's check: a record, or a typed `corrupted` error.
    #[test]
    fn decode_record_corpus_and_artifacts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut seeds = 0;
        for dir in ["corpus/decode_record", "artifacts/decode_record"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if let Err(e) = decode_any(&std::fs::read(&path).unwrap()) {
                    assert_eq!(e.code(), "corrupted");
                }
                seeds += usize::from(dir.starts_with("corpus"));
            }
        }
        assert!(seeds >= 5, "the seed corpus is there");
        // Every seed decodes: they are well-formed records of each kind.
        for i in 1..=5 {
            let seed = root.join(format!("corpus/decode_record/seed_{i}"));
            decode_any(&std::fs::read(seed).unwrap()).unwrap();
        }
    }

    #[test]
    fn bad_bytes_are_typed_errors() {
        let good = AppMeta {
            created_at: Timestamp::from_millis(1),
            next_seq: 2,
            last_hash: [3; 32],
            name: "Shop".into(),
            created_by: "alice".into(),
        }
        .encode();
        // The layout from before names were kept ends after the chain head.
        let old_len = 2 + 8 + 8 + 32;
        for cut in 0..good.len() {
            let read = AppMeta::decode(&good[..cut]);
            if cut == old_len {
                let read = read.unwrap();
                assert_eq!((read.next_seq, read.name.as_str()), (2, ""));
                assert_eq!(read.created_by, "");
            } else {
                assert_eq!(read.unwrap_err().code(), "corrupted");
            }
        }
        let read = AppMeta::decode(&good).unwrap();
        assert_eq!(
            (read.name.as_str(), read.created_by.as_str()),
            ("Shop", "alice")
        );
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
        assert_eq!(split_entry_key(&prefix, &k).unwrap(), (key.clone(), 42));
        assert_eq!(entry_key_seq(&prefix, &key, &k).unwrap(), 42);
        let other = Key::new("db.port").unwrap();
        assert!(entry_key_seq(&prefix, &other, &k).is_err());
        assert_eq!(successor(&[1, 255]), vec![2]);
    }

    #[test]
    fn version_keys_give_their_sequence_numbers() {
        let app = AppId::new("shop").unwrap();
        let env = EnvId::new("prod").unwrap();
        let first = version_key(&app, 0);
        assert_eq!(version_key_seq(&first, &version_key(&app, 42)).unwrap(), 42);
        let first = env_version_key(&app, &env, 0);
        let k = env_version_key(&app, &env, u64::MAX - 1);
        assert_eq!(version_key_seq(&first, &k).unwrap(), u64::MAX - 1);
        // A key of another length is not a version key of this table.
        assert!(version_key_seq(&first, &k[..k.len() - 1]).is_err());
        assert!(version_key_seq(&first, b"").is_err());
    }
}

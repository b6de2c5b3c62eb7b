//! The key layout: every stored key, built so that the backend's key order
//! is the order the engine reads in. Ids and keys never contain `0x00`, so
//! it separates parts; sequence numbers are big-endian.
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
//! | `K` app 0 1 key, `K` app 0 2 env 0 key | seq and `Entry`: key's newest entry at that level (empty when written by an earlier version) |
//! | `G` app 0 1 tag, `G` app 0 2 env 0 tag | `TagRecord`: a tag of that level's history |
//! | `S` app `/` level `/` key `/` seq | a secret of the built-in store, sealed to its name (level `_app` or the env id) |
//! | `\xFFformat` | the data's format, one byte |
//! | `\xFFkeycheck` | `KeyCheck`: the master key's check value, or a rotation under way |
//! | `\xFFdigestkey` | the key of secrets' digests, sealed under the master key |
//!
//! The `\xFF` records are in `meta`.
#![warn(clippy::indexing_slicing)]

use crate::id::{AppId, EnvId, Key, TagName};

use super::{Corrupted, corrupted};

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

/// Where the built-in secret store keeps the secret named `name`.
pub(crate) fn secret_record_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(b'S');
    k.extend_from_slice(name.as_bytes());
    k
}

/// Every secret record of the built-in store.
pub(crate) fn secret_records_range() -> (Vec<u8>, Vec<u8>) {
    (vec![b'S'], vec![b'T'])
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

/// The sequence number of `key`, a version key of the table (the App's,
/// or an Environment's) whose keys `first` starts: the eight bytes after
/// the table's prefix.
pub(crate) fn version_key_seq(first: &[u8], key: &[u8]) -> Result<u64, Corrupted> {
    let prefix_len = first.len().saturating_sub(8);
    key.get(prefix_len..)
        .ok_or_else(|| corrupted("a version key"))
        .and_then(seq_from)
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

/// The sequence number of an entry key of `key` under `prefix`, which a
/// seek already knows: the rest must be exactly `key 0 seq`, so nothing is
/// validated or copied again.
pub(crate) fn entry_key_seq(prefix: &[u8], key: &Key, full: &[u8]) -> Result<u64, Corrupted> {
    full.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(key.as_str().as_bytes()))
        .and_then(|rest| rest.strip_prefix(&[0]))
        .ok_or_else(|| corrupted("an entry key"))
        .and_then(seq_from)
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
/// there, with its newest entry), so a full read of the newest values is
/// one scan, and of an older version one scan and a seek per key changed
/// since.
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
    for tag in [b'N', b'V', b'W', b'H', b'O', b'K', b'G'] {
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
    let tags = tags_prefix(app, Some(env));
    vec![
        (meta.clone(), successor(&meta)),
        (versions.clone(), successor(&versions)),
        (history.clone(), successor(&history)),
        (index.clone(), successor(&index)),
        (tags.clone(), successor(&tags)),
    ]
}

/// The prefix of one level's tags.
pub(crate) fn tags_prefix(app: &AppId, env: Option<&EnvId>) -> Vec<u8> {
    let mut k = history_prefix(app, env);
    if let Some(first) = k.first_mut() {
        *first = b'G';
    }
    k
}

/// Where a level's tag `name` is.
pub(crate) fn tag_key(app: &AppId, env: Option<&EnvId>, name: &TagName) -> Vec<u8> {
    let mut k = tags_prefix(app, env);
    k.extend_from_slice(name.as_str().as_bytes());
    k
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

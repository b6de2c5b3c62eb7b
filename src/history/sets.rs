//! A level's whole set of values at a version, and a scope's: the App's
//! with an Environment's overrides on top. Reads, never replays: one scan
//! of each level's key index, which holds each key's newest entry, and one
//! seek for each key that changed after the version read.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::codec::{self, Entry};
use crate::error::Error;
use crate::id::{AppId, EnvId, Key};

use super::{Reader, Scope, decode_found, entry_range};

impl Reader<'_> {
    /// Every key's entry at `seq` at one level, deleted keys left out: one
    /// scan of the level's key index, which holds each key's newest entry,
    /// then one `Backend::last_in_each` with a seek for each key that
    /// changed after `seq`.
    pub(crate) fn entries_at(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        seq: u64,
    ) -> Result<BTreeMap<Key, (u64, Entry)>, Error> {
        // In key order, so the map is built in one pass, not key by key.
        Ok(self
            .sorted_entries_at(app, env, seq)?
            .into_iter()
            .map(|(key, s, entry)| (key, (s, entry)))
            .collect())
    }

    /// [`entries_at`](Self::entries_at) in key order, as the key index
    /// holds them: the index's byte order is the keys' order.
    fn sorted_entries_at(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        seq: u64,
    ) -> Result<Vec<(Key, u64, Entry)>, Error> {
        let index = codec::key_index_prefix(app, env);
        let prefix = codec::history_prefix(app, env);
        // Each key, with its entry at `seq` when the index holds it (its
        // newest is at or below `seq`); the others are sought below.
        let mut rows: Vec<(Key, Option<(u64, Entry)>)> = Vec::new();
        let mut ranges = Vec::new();
        let mut failed = None;
        self.backend.scan(
            &index,
            &codec::successor(&index),
            false,
            &mut |k, v| match index_row(k.get(index.len()..).unwrap_or_default(), v, seq) {
                Ok((key, held)) => {
                    if held.is_none() {
                        ranges.push(entry_range(&prefix, &key, seq));
                    }
                    rows.push((key, held));
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            },
        )?;
        if let Some(e) = failed {
            return Err(e);
        }
        let mut answers = self.last_in_each(&ranges)?.into_iter();
        let mut out = Vec::with_capacity(rows.len());
        for (key, held) in rows {
            let found = match held {
                Some(found) => Some(found),
                None => decode_found(&prefix, &key, answers.next().flatten())?,
            };
            if let Some((s, entry)) = found
                && entry.is_live()
            {
                out.push((key, s, entry));
            }
        }
        Ok(out)
    }

    /// The live entries of `keys` at `seq` at one level, in their order
    /// (`None`: no value): what [`entries_at`](Self::entries_at) holds for
    /// them, read from the key index by key (one `Backend::get_many`), then
    /// one `Backend::last_in_each` for those that changed after `seq`.
    fn entries_of(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        seq: u64,
        keys: &[Key],
    ) -> Result<Vec<Option<Entry>>, Error> {
        let index = codec::key_index_prefix(app, env);
        let prefix = codec::history_prefix(app, env);
        let index_keys: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| [index.as_slice(), k.as_str().as_bytes()].concat())
            .collect();
        let refs: Vec<&[u8]> = index_keys.iter().map(Vec::as_slice).collect();
        let records = self.backend.get_many(&refs)?;
        let mut held = Vec::with_capacity(keys.len());
        let mut ranges = Vec::new();
        for (key, record) in keys.iter().zip(records) {
            let row = match record {
                Some(record) => Some(index_row(key.as_str().as_bytes(), &record, seq)?.1),
                None => None,
            };
            if let Some(None) = row {
                ranges.push(entry_range(&prefix, key, seq));
            }
            held.push(row);
        }
        let mut answers = self.last_in_each(&ranges)?.into_iter();
        let mut out = Vec::with_capacity(keys.len());
        for (key, row) in keys.iter().zip(held) {
            let found = match row {
                None => None,
                Some(Some(found)) => Some(found),
                Some(None) => decode_found(&prefix, key, answers.next().flatten())?,
            };
            out.push(found.map(|(_, e)| e).filter(Entry::is_live));
        }
        Ok(out)
    }

    /// The values of `keys` in `scope` at `seq`, each the Environment's
    /// override or else the App's: what [`snapshot`](Self::snapshot) holds
    /// for them, without reading the others. A key without a value is left
    /// out.
    pub(crate) fn snapshot_of(
        &self,
        scope: Scope<'_>,
        seq: u64,
        keys: &[Key],
    ) -> Result<BTreeMap<Key, Entry>, Error> {
        let base = self.entries_of(scope.app, None, seq, keys)?;
        let overrides = match scope.env {
            Some((env, meta)) if meta.diverged_at.is_some_and(|d| d <= seq) => {
                self.entries_of(scope.app, Some(env), seq, keys)?
            }
            _ => vec![None; keys.len()],
        };
        Ok(keys
            .iter()
            .zip(base.into_iter().zip(overrides))
            .filter_map(|(key, (base, over))| Some((key.clone(), over.or(base)?)))
            .collect())
    }

    /// Every value of `scope` at `seq`, in key order: the App's, with the
    /// Environment's overrides on top. The flag says whether it is an
    /// override.
    pub(crate) fn snapshot(
        &self,
        scope: Scope<'_>,
        seq: u64,
    ) -> Result<impl Iterator<Item = (Key, (bool, u64, Entry))> + use<>, Error> {
        let base = self.sorted_entries_at(scope.app, None, seq)?;
        let overrides = match scope.env {
            Some((env, meta)) if meta.diverged_at.is_some_and(|d| d <= seq) => {
                self.sorted_entries_at(scope.app, Some(env), seq)?
            }
            _ => Vec::new(),
        };
        Ok(overlay(base, overrides))
    }
}

/// One key index record of a read at `seq`: the key, and its entry at `seq`
/// when the record holds it (`None` when the key changed after `seq`, or
/// the record is empty, so the entry must be sought).
fn index_row(key: &[u8], record: &[u8], seq: u64) -> Result<(Key, Option<(u64, Entry)>), Error> {
    let key = std::str::from_utf8(key)
        .ok()
        .and_then(|s| Key::new(s).ok())
        .ok_or_else(|| codec::corrupted("a key index key"))?;
    let held = match codec::split_current(record)? {
        Some((s, entry)) if s <= seq => Some((s, Entry::decode(entry)?)),
        _ => None,
    };
    Ok((key, held))
}

/// Two levels' entries, each in key order, merged in key order with the
/// flag of [`Reader::snapshot`]: an override takes its key's place.
fn overlay(
    base: Vec<(Key, u64, Entry)>,
    overrides: Vec<(Key, u64, Entry)>,
) -> impl Iterator<Item = (Key, (bool, u64, Entry))> {
    let mut base = base.into_iter().peekable();
    let mut overrides = overrides.into_iter().peekable();
    std::iter::from_fn(move || {
        let order = match (base.peek(), overrides.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (Some((b, ..)), Some((o, ..))) => o.cmp(b),
        };
        if order == Ordering::Equal {
            // Overridden: the App's entry gives way.
            base.next();
        }
        let take_override = order != Ordering::Greater;
        let (key, s, entry) = if take_override {
            overrides.next()?
        } else {
            base.next()?
        };
        Some((key, (take_override, s, entry)))
    })
}

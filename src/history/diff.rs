//! Comparing two value sets (guide: [Compare, preview and move](crate::_documentation::guide#compare-preview-and-move)):
//! each side is a level (the App, or one Environment's effective values)
//! at one version.
//!
//! The keys that can differ are found from the history where it allows,
//! so the cost follows the differences, not the size of the sets:
//!
//! - two versions of one level: the keys that the versions between them
//!   changed (their records' change lists), when there are at most
//!   [`MAX_WALK`] of them;
//! - two levels over the same App values (no App change between the two
//!   versions, as for two Environments' current sets): the keys either
//!   Environment overrides;
//! - otherwise: every key of both sets.
//!
//! Each candidate key is then read on both sides (one seek per level) and
//! kept when its value (by digest: a secret by its keyed digest, never by
//! content) or its description differs, or when one side's content was
//! purged and the other's was not.

use std::collections::BTreeSet;

use crate::codec::{self, Entry};
use crate::error::Error;
use crate::id::Key;

use super::{Reader, Scope, is_purged};

/// The most versions between two versions of one level that are walked
/// for their change lists; past it, both sets are read whole.
pub(crate) const MAX_WALK: usize = 4096;

/// One side of a comparison: a level at a sequence number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Side<'a> {
    pub(crate) scope: Scope<'a>,
    pub(crate) seq: u64,
}

/// A key's entry on one side, and whether it is the Environment's override.
pub(crate) type Found = Option<(bool, Entry)>;

/// Every key whose value or description differs between `a` and `b`, in
/// key order, with its entry on each side.
pub(crate) fn diff(
    reader: Reader<'_>,
    a: Side<'_>,
    b: Side<'_>,
) -> Result<Vec<(Key, Found, Found)>, Error> {
    let mut out = Vec::new();
    for key in candidates(reader, a, b)? {
        let (x, y) = (effective(reader, a, &key)?, effective(reader, b, &key)?);
        if differs(x.as_ref().map(|(_, e)| e), y.as_ref().map(|(_, e)| e)) {
            out.push((key, x, y));
        }
    }
    Ok(out)
}

/// Whether two entries of a key show a difference.
fn differs(a: Option<&Entry>, b: Option<&Entry>) -> bool {
    match (a, b) {
        (None, None) => false,
        (Some(a), Some(b)) => {
            a.value_digest != b.value_digest
                || a.description != b.description
                || is_purged(a) != is_purged(b)
        }
        _ => true,
    }
}

/// The keys that may differ between `a` and `b`.
fn candidates(reader: Reader<'_>, a: Side<'_>, b: Side<'_>) -> Result<BTreeSet<Key>, Error> {
    let (lo, hi) = (a.seq.min(b.seq), a.seq.max(b.seq));
    if a.scope.env_id() == b.scope.env_id()
        && let Some(keys) = changed_between(reader, a.scope, lo, hi)?
    {
        return Ok(keys);
    }
    let app_changed = reader
        .seqs(app_scope(a.scope), hi.saturating_add(1), 1)?
        .first()
        .is_some_and(|newest| *newest > lo);
    let mut keys = BTreeSet::new();
    if app_changed {
        keys.extend(reader.entries_at(a.scope.app, None, a.seq)?.into_keys());
        keys.extend(reader.entries_at(a.scope.app, None, b.seq)?.into_keys());
    }
    for side in [a, b] {
        if let Some(env) = side.scope.env_id() {
            keys.extend(
                reader
                    .entries_at(side.scope.app, Some(env), side.seq)?
                    .into_keys(),
            );
        }
    }
    Ok(keys)
}

/// The keys changed by the versions of `scope` in `(lo, hi]` (App versions
/// included for an Environment); `None` when there are more than
/// [`MAX_WALK`] of them.
fn changed_between(
    reader: Reader<'_>,
    scope: Scope<'_>,
    lo: u64,
    hi: u64,
) -> Result<Option<BTreeSet<Key>>, Error> {
    let seqs = reader.seqs(scope, hi.saturating_add(1), MAX_WALK.saturating_add(1))?;
    let between: Vec<u64> = seqs.into_iter().filter(|s| *s > lo).collect();
    if between.len() > MAX_WALK {
        return Ok(None);
    }
    let mut keys = BTreeSet::new();
    for seq in between {
        let own = match scope.env_id() {
            Some(env) => reader.env_version(scope.app, env, seq)?,
            None => None,
        };
        let record = match own {
            Some(record) => Some(record),
            None => reader.app_version(scope.app, seq)?,
        };
        if let Some(record) = record {
            keys.extend(record.change.into_iter().map(|c| c.key));
        }
    }
    Ok(Some(keys))
}

/// The App level of `scope`.
fn app_scope(scope: Scope<'_>) -> Scope<'_> {
    Scope {
        app: scope.app,
        env: None,
    }
}

/// `key`'s live entry on `side`: the Environment's override, else the
/// App's value.
fn effective(reader: Reader<'_>, side: Side<'_>, key: &Key) -> Result<Found, Error> {
    if let Some(env) = side.scope.env_id()
        && let Some((_, entry)) = reader.entry_at(
            &codec::history_prefix(side.scope.app, Some(env)),
            key,
            side.seq,
        )?
        && entry.is_live()
    {
        return Ok(Some((true, entry)));
    }
    Ok(reader
        .entry_at(&codec::history_prefix(side.scope.app, None), key, side.seq)?
        .map(|(_, entry)| entry)
        .filter(Entry::is_live)
        .map(|entry| (false, entry)))
}

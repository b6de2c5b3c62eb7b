//! Purging one value from history, for good: the checks that keep a purge
//! to a value that is neither current nor misnamed, and the one batch that
//! drops its content from every version that held it, records the purge as
//! a version, and removes a library-stored secret.

use crate::backend::Batch;
use crate::codec::{self, AppMeta, Entry, State, VersionRecord};
use crate::error::{Error, PurgeRefusal};
use crate::id::Key;
use crate::model::{ResultOf, VersionId, VersionInfo};

use super::chain::{chain_head, entries_digest, finish};
use super::commit::Ctx;
use super::{Reader, Scope, is_purged};

/// A purge to make: the version that introduced the value, and the key.
#[derive(Debug)]
pub(crate) struct Purge<'a> {
    pub(crate) seq: u64,
    pub(crate) id: VersionId,
    pub(crate) key: &'a Key,
    pub(crate) comment: String,
    /// Check and work the purge out without writing anything.
    pub(crate) dry_run: bool,
}

/// What a purge removes (or, in a dry run, would remove).
#[derive(Debug)]
pub(crate) struct Removed {
    /// The entry that introduced the value, as it is before the purge.
    pub(crate) entry: Entry,
    /// The sequence numbers from which (inclusive) to which (exclusive)
    /// the value is the key's value at its level.
    pub(crate) spans: Vec<(u64, u64)>,
}

/// Purges the value of `purge.key` introduced at `purge.seq` in `scope`:
/// checks that the purge is allowed, then drops the content in one batch.
/// Returns the version that records it (in a dry run, the version it
/// would record) and what it removed.
pub(crate) fn purge(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    meta: &AppMeta,
    purge: Purge<'_>,
) -> Result<(VersionInfo, Removed), Error> {
    let reader = Reader {
        backend: ctx.backend,
    };
    let (seq, key) = (purge.seq, purge.key);
    let prefix = codec::history_prefix(scope.app, scope.env_id());
    let history = reader.key_history(&prefix, key)?;
    let entry = check(&history, seq, purge.id, key)?.clone();
    let managed = match &entry.state {
        State::Managed { store, reference } => Some((store.clone(), reference.clone())),
        _ => None,
    };
    let mut batch = Batch::new();
    let mut spans = Vec::new();
    for (i, (s, e)) in history.iter().enumerate() {
        if e.introduced == seq && e.is_live() {
            let until = history.get(i + 1).map_or(u64::MAX, |(next, _)| *next);
            spans.push((*s, until));
            // The content goes; the digest and what the record committed
            // to stay, so the history still verifies.
            let purged = Entry {
                state: State::Purged,
                ..e.clone()
            };
            batch.insert(codec::entry_key(&prefix, key, *s), purged.encode());
        }
    }
    let record = VersionRecord {
        created_at: ctx.now,
        created_by: ctx.actor.to_owned(),
        comment: purge.comment,
        result_of: if scope.env.is_some() {
            ResultOf::EnvValueSetVersionPurge
        } else {
            ResultOf::AppValueSetVersionPurge
        },
        change: Vec::new(),
        source: Some(purge.id),
        parent: chain_head(scope, meta),
        entries: entries_digest(Vec::new()),
    };
    let removed = Removed { entry, spans };
    if purge.dry_run {
        let id = scope.new_id(meta.next_seq);
        return Ok((super::info_from(id, record, None), removed));
    }
    let new_id = finish(&mut batch, scope, meta, meta.next_seq, &record);
    // The history no longer refers to the secret; it is the library's to
    // delete: in the same batch when it is in the built-in store.
    let after =
        managed.filter(|(store, reference)| !ctx.secrets.remove_into(&mut batch, store, reference));
    ctx.backend.apply(batch)?;
    if let Some((store, reference)) = after {
        ctx.secrets.get(&store)?.delete(&reference)?;
    }
    Ok((super::info_from(new_id, record, None), removed))
}

/// The entry that introduced the value at `seq`, if a purge may remove it:
/// it was introduced there, is not purged already, and is not the key's
/// current value.
fn check<'h>(
    history: &'h [(u64, Entry)],
    seq: u64,
    id: VersionId,
    key: &Key,
) -> Result<&'h Entry, PurgeRefusal> {
    let introduced_here = history
        .iter()
        .find(|(s, _)| *s == seq)
        .filter(|(_, e)| e.introduced == seq && e.is_live());
    let Some((_, entry)) = introduced_here else {
        return Err(PurgeRefusal::NotIntroducedHere {
            key: key.clone(),
            version: id,
        });
    };
    if is_purged(entry) {
        return Err(PurgeRefusal::AlreadyPurged {
            key: key.clone(),
            version: id,
        });
    }
    if history
        .last()
        .is_some_and(|(_, last)| last.is_live() && last.introduced == seq)
    {
        return Err(PurgeRefusal::CurrentValue {
            key: key.clone(),
            version: id,
        });
    }
    Ok(entry)
}

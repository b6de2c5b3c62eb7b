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

/// Purges the value of `key` introduced at `seq` in `scope`: checks that
/// the purge is allowed, then drops the content in one batch.
pub(crate) fn purge(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    meta: &AppMeta,
    seq: u64,
    id: VersionId,
    key: &Key,
    comment: String,
) -> Result<VersionInfo, Error> {
    let reader = Reader {
        backend: ctx.backend,
    };
    let prefix = codec::history_prefix(scope.app, scope.env_id());
    let history = reader.key_history(&prefix, key)?;
    let entry = check(&history, seq, id, key)?;
    let managed = match &entry.state {
        State::Managed { store, reference } => Some((store.clone(), reference.clone())),
        _ => None,
    };
    let mut batch = Batch::new();
    for (s, e) in &history {
        if e.introduced == seq && e.is_live() {
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
        comment,
        result_of: if scope.env.is_some() {
            ResultOf::EnvValueSetVersionPurge
        } else {
            ResultOf::AppValueSetVersionPurge
        },
        change: Vec::new(),
        source: Some(id),
        parent: chain_head(scope, meta),
        entries: entries_digest(Vec::new()),
    };
    let new_id = finish(&mut batch, scope, meta, meta.next_seq, &record);
    // The history no longer refers to the secret; it is the library's to
    // delete: in the same batch when it is in the built-in store.
    let after =
        managed.filter(|(store, reference)| !ctx.secrets.remove_into(&mut batch, store, reference));
    ctx.backend.apply(batch)?;
    if let Some((store, reference)) = after {
        ctx.secrets.get(&store)?.delete(&reference)?;
    }
    Ok(super::info_from(new_id, record, None))
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

//! The tamper-evident chain: each version record names the hash of the one
//! before it in its level's chain and a digest of the entries it wrote, and
//! each entry is committed to by everything but its content (which a purge
//! may drop; the value's digest stands for it). [`finish`] adds a record
//! and the level's bookkeeping to a change's batch.

use crate::backend::Batch;
use crate::codec::{self, AppMeta, Entry, EnvMeta, VersionRecord};
use crate::crypto;
use crate::model::VersionId;
use crate::secret::SecretRef;

use super::Scope;

/// Adds the version record and the bookkeeping of a new version at `seq`.
pub(crate) fn finish(
    batch: &mut Batch,
    scope: Scope<'_>,
    meta: &AppMeta,
    seq: u64,
    record: &VersionRecord,
) -> VersionId {
    let hash = record_hash(record);
    // The change stands only if no other writer changed the App's (and the
    // Environment's) bookkeeping since it was read: the storage checks this
    // in the same atomic step as the writes.
    batch.expect(codec::app_key(scope.app), Some(meta.encode()));
    if let Some((env, env_meta)) = scope.env {
        batch.expect(codec::env_key(scope.app, env), Some(env_meta.encode()));
    }
    match scope.env {
        None => {
            let next = AppMeta {
                created_at: meta.created_at,
                next_seq: seq + 1,
                last_hash: hash,
            };
            batch.insert(codec::app_key(scope.app), next.encode());
            batch.insert(codec::version_key(scope.app, seq), record.encode());
            VersionId::app(seq)
        }
        Some((env, env_meta)) => {
            let next = AppMeta {
                created_at: meta.created_at,
                next_seq: seq + 1,
                last_hash: meta.last_hash,
            };
            batch.insert(codec::app_key(scope.app), next.encode());
            let env_next = EnvMeta {
                created_at: env_meta.created_at,
                diverged_at: env_meta.diverged_at.or(Some(seq)),
                last_hash: hash,
            };
            batch.insert(codec::env_key(scope.app, env), env_next.encode());
            batch.insert(codec::env_version_key(scope.app, env, seq), record.encode());
            VersionId::env(seq)
        }
    }
}

/// The hash of the newest record of `scope`'s own chain.
pub(crate) fn chain_head(scope: Scope<'_>, meta: &AppMeta) -> [u8; 32] {
    match scope.env {
        None => meta.last_hash,
        Some((_, env_meta)) => env_meta.last_hash,
    }
}

/// The hash of a version record: what the next record's `parent` is.
pub(crate) fn record_hash(record: &VersionRecord) -> [u8; 32] {
    crypto::digest("version record", &[&record.encode()])
}

/// What a version record commits to for one entry it wrote: everything but
/// the content, which a purge may drop (the value's digest stands for it).
pub(crate) fn commitment(entry_key: &[u8], entry: &Entry) -> [u8; 32] {
    crypto::digest(
        "entry",
        &[
            entry_key,
            &[u8::from(entry.is_live())],
            &entry.value_digest,
            entry.description.as_bytes(),
            &entry.secret_version.unwrap_or(0).to_be_bytes(),
            &entry.introduced.to_be_bytes(),
        ],
    )
}

/// The digest of the entries a version wrote, in key order.
pub(crate) fn entries_digest(mut committed: Vec<(Vec<u8>, [u8; 32])>) -> [u8; 32] {
    committed.sort_by(|a, b| a.0.cmp(&b.0));
    let parts: Vec<&[u8]> = committed.iter().map(|(_, c)| &c[..]).collect();
    crypto::digest("entries", &parts)
}

/// The digest of a secret reference's location.
pub(crate) fn reference_digest(store: &str, reference: &SecretRef) -> [u8; 32] {
    crypto::digest(
        "reference",
        &[
            store.as_bytes(),
            reference.reference.as_bytes(),
            reference.version.as_deref().unwrap_or("").as_bytes(),
        ],
    )
}

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
    // The App's counter moves on whichever level changed; its chain head
    // only when the App did.
    let next = AppMeta {
        created_at: meta.created_at,
        next_seq: seq + 1,
        last_hash: if scope.env.is_some() {
            meta.last_hash
        } else {
            hash
        },
        ..meta.clone()
    };
    batch.insert(codec::app_key(scope.app), next.encode());
    batch.announce_version();
    match scope.env {
        None => batch.insert(codec::version_key(scope.app, seq), record.encode()),
        Some((env, env_meta)) => {
            let env_next = EnvMeta {
                created_at: env_meta.created_at,
                diverged_at: env_meta.diverged_at.or(Some(seq)),
                last_hash: hash,
                ..env_meta.clone()
            };
            batch.insert(codec::env_key(scope.app, env), env_next.encode());
            batch.insert(codec::env_version_key(scope.app, env, seq), record.encode());
        }
    }
    scope.new_id(seq)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::State;
    use crate::id::Key;
    use crate::model::{Change, ChangeOp, ResultOf, Timestamp};

    fn h(b: &[u8]) -> String {
        b.iter().fold(String::new(), |mut s, x| {
            let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{x:02x}"));
            s
        })
    }

    fn record() -> VersionRecord {
        VersionRecord {
            created_at: Timestamp::from_millis(1_795_420_994_123),
            created_by: "alice".to_owned(),
            comment: "rotate the db host".to_owned(),
            result_of: ResultOf::AppValueUpdate,
            change: vec![Change {
                op: ChangeOp::Replace,
                key: Key::new("db.host").unwrap(),
                secret_version: None,
            }],
            source: None,
            parent: [7; 32],
            entries: [9; 32],
        }
    }

    fn entry() -> Entry {
        Entry {
            state: State::Plain("db.internal".to_owned()),
            description: "where the db is".to_owned(),
            created_at: Timestamp::from_millis(1),
            updated_at: Timestamp::from_millis(2),
            introduced: 3,
            secret_version: None,
            value_digest: [5; 32],
        }
    }

    /// Known answers: the hashes that link a history are a format; a
    /// change to them is deliberate and visible, and every field counts.
    #[test]
    fn known_answers() {
        assert_eq!(
            h(&record_hash(&record())),
            "066baf1b339da7a5015de7024fa594722b0db803e64af83d196f172bb241dcd0"
        );
        assert_eq!(
            h(&commitment(b"Hkey", &entry())),
            "d67b3513d857917aff3e40cf73bf47c8e708f7dba7d8d6ec0d79f8f35ea521d8"
        );
        let committed = vec![(b"b".to_vec(), [2; 32]), (b"a".to_vec(), [1; 32])];
        assert_eq!(
            h(&entries_digest(committed)),
            "7229c556333f53b8444dfce4be178ab76aa3c4284f2a096ebaaba7eb10f5e964"
        );
        // The order the entries come in does not matter; their content does.
        let sorted = vec![(b"a".to_vec(), [1; 32]), (b"b".to_vec(), [2; 32])];
        assert_eq!(
            h(&entries_digest(sorted)),
            "7229c556333f53b8444dfce4be178ab76aa3c4284f2a096ebaaba7eb10f5e964"
        );
        let reference = SecretRef::new("kv/pw").with_version("3");
        assert_eq!(
            h(&reference_digest("vault", &reference)),
            "bdd691463faa1953305d0b2149cc4fadc40bc99f3bd02fd5e6c69f731c567fb8"
        );
    }

    #[test]
    fn every_field_changes_the_hashes() {
        let base = record_hash(&record());
        let mut changed = record();
        changed.created_by = "mallory".to_owned();
        assert_ne!(record_hash(&changed), base);
        let mut changed = record();
        changed.parent = [8; 32];
        assert_ne!(record_hash(&changed), base);
        let base = commitment(b"Hkey", &entry());
        for change in [
            |e: &mut Entry| e.description.push('!'),
            |e: &mut Entry| e.introduced += 1,
            |e: &mut Entry| e.secret_version = Some(2),
            |e: &mut Entry| e.value_digest = [6; 32],
            |e: &mut Entry| e.state = State::Deleted,
        ] {
            let mut e = entry();
            change(&mut e);
            assert_ne!(commitment(b"Hkey", &e), base);
        }
        // A purge keeps what the record committed to.
        let mut purged = entry();
        purged.state = State::Purged;
        assert_eq!(commitment(b"Hkey", &purged), base);
        assert_ne!(commitment(b"Hkez", &entry()), base);
        let one = entries_digest(vec![(b"a".to_vec(), [1; 32])]);
        assert_ne!(one, entries_digest(Vec::new()));
        let r = SecretRef::new("kv/pw");
        assert_ne!(reference_digest("vault", &r), reference_digest("other", &r));
        assert_ne!(
            reference_digest("vault", &r),
            reference_digest("vault", &r.clone().with_version("1"))
        );
    }
}

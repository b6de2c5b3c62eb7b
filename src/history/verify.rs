//! Checking the tamper-evident history (guide: [Durability, concurrency and bad input](crate::_documentation::guide#durability-concurrency-and-bad-input)).
//!
//! Each level (the App, each Environment) has a chain: every version record
//! commits to the hash of the record before it and to the digest of every
//! entry it wrote; every entry carries the digest of its value (keyed for
//! secrets). A purge drops content and keeps the digest, so a purged history
//! still verifies. The only entries no record commits to are the cascade
//! tombstones an App delete writes into Environments (an Environment can be
//! deleted with its entries); each must sit where the App's record removed
//! that key.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::codec::{self, Entry, State, VersionRecord};
use crate::crypto::{self, DigestKey};
use crate::error::{Error, NotFound};
use crate::id::{AppId, EnvId, Key};
use crate::model::{ChangeOp, VersionId};
use crate::secret::SecretStoreError;

use super::Reader;
use super::chain::{commitment, entries_digest, record_hash, reference_digest};
use super::stores::SecretStores;

/// What a verification looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Verified {
    pub(crate) versions: usize,
    pub(crate) entries: usize,
    pub(crate) secrets_checked: usize,
}

type Committed = BTreeMap<u64, Vec<(Vec<u8>, [u8; 32])>>;

fn tampered(app: &AppId, version: VersionId, what: impl Into<String>) -> Error {
    Error::Tampered {
        app: app.clone(),
        version,
        what: what.into(),
    }
}

/// Verifies every chain of `app`.
pub(crate) fn verify_app(
    reader: Reader<'_>,
    app: &AppId,
    digest_key: &DigestKey,
    secrets: &SecretStores,
) -> Result<Verified, Error> {
    let meta = reader
        .app_meta(app)?
        .ok_or_else(|| NotFound::App { app: app.clone() })?;
    let mut stats = Verified::default();

    let mut app_entries = level_entries(reader, app, None, digest_key, secrets, &mut stats)?;
    check_current(reader, app, None)?;
    let app_records = reader.records(
        &codec::version_key(app, 0),
        &codec::version_key(app, u64::MAX),
    )?;
    let head = check_chain(
        app,
        &app_records,
        &mut app_entries,
        VersionId::app,
        &mut stats,
    )?;
    if let Some((seq, _)) = app_entries.into_iter().next() {
        return Err(tampered(
            app,
            VersionId::app(seq),
            "values were written without a version",
        ));
    }
    if head != meta.last_hash {
        return Err(tampered(
            app,
            VersionId::app(meta.next_seq.saturating_sub(1)),
            "the newest version is missing",
        ));
    }

    for (env, env_meta) in reader.envs(app)? {
        let mut entries = level_entries(reader, app, Some(&env), digest_key, secrets, &mut stats)?;
        check_current(reader, app, Some(&env))?;
        let own = reader.records(
            &codec::env_version_key(app, &env, 0),
            &codec::env_version_key(app, &env, u64::MAX),
        )?;
        let head = check_chain(app, &own, &mut entries, VersionId::env, &mut stats)?;
        if head != env_meta.last_hash {
            return Err(tampered(
                app,
                VersionId::env(env_meta.diverged_at.unwrap_or(0)),
                format!("the newest version of environment `{env}` is missing"),
            ));
        }
        check_tombstones(reader, app, &env, &app_records, entries)?;
    }
    Ok(stats)
}

/// Checks the key index of one level: a record that holds a key's newest
/// entry (what reads of the newest values take) must hold exactly that.
fn check_current(reader: Reader<'_>, app: &AppId, env: Option<&EnvId>) -> Result<(), Error> {
    let index = codec::key_index_prefix(app, env);
    let prefix = codec::history_prefix(app, env);
    let mut raw = Vec::new();
    reader
        .backend
        .scan(&index, &codec::successor(&index), false, &mut |k, v| {
            raw.push((
                k.get(index.len()..).unwrap_or_default().to_vec(),
                v.to_vec(),
            ));
            ControlFlow::Continue(())
        })?;
    for (key, current) in raw {
        let Some((seq, entry)) = codec::split_current(&current)? else {
            continue;
        };
        let entry = Entry::decode(entry)?;
        let key = std::str::from_utf8(&key)
            .ok()
            .and_then(|s| Key::new(s).ok())
            .ok_or_else(|| codec::corrupted("a key index key"))?;
        if reader.entry_at(&prefix, &key, u64::MAX)? != Some((seq, entry)) {
            let id = if env.is_some() {
                VersionId::env(seq)
            } else {
                VersionId::app(seq)
            };
            return Err(tampered(
                app,
                id,
                format!("the current value of `{key}` is not its newest"),
            ));
        }
    }
    Ok(())
}

/// Checks the entries of `env` that no record of its own committed to:
/// each must be a cascade tombstone, where the App's record removed the key.
fn check_tombstones(
    reader: Reader<'_>,
    app: &AppId,
    env: &EnvId,
    app_records: &BTreeMap<u64, VersionRecord>,
    left: Committed,
) -> Result<(), Error> {
    let prefix = codec::history_prefix(app, Some(env));
    for (seq, list) in left {
        for (entry_key, _) in list {
            let (key, _) = codec::split_entry_key(&prefix, &entry_key)?;
            let removed = app_records.get(&seq).is_some_and(|r| {
                r.change
                    .iter()
                    .any(|c| c.op == ChangeOp::Remove && c.key == key)
            });
            let entry = reader.entry_at(&prefix, &key, seq)?;
            let deleted = entry.is_some_and(|(s, e)| s == seq && !e.is_live());
            if !removed || !deleted {
                return Err(tampered(
                    app,
                    VersionId::env(seq),
                    format!(
                        "an override of `{key}` in environment `{env}` was written without a version"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Follows one chain, matching each record with the entries of its
/// sequence number; returns the hash of its newest record.
fn check_chain(
    app: &AppId,
    records: &BTreeMap<u64, VersionRecord>,
    entries: &mut Committed,
    id: fn(u64) -> VersionId,
    stats: &mut Verified,
) -> Result<[u8; 32], Error> {
    let mut prev = [0u8; 32];
    for (seq, record) in records {
        if record.parent != prev {
            return Err(tampered(
                app,
                id(*seq),
                "it does not follow the version before it",
            ));
        }
        let committed = entries.remove(seq).unwrap_or_default();
        if entries_digest(committed) != record.entries {
            return Err(tampered(
                app,
                id(*seq),
                "its values are not the ones it committed to",
            ));
        }
        prev = record_hash(record);
        stats.versions += 1;
    }
    Ok(prev)
}

/// Every entry of one level, each checked against its own value digest,
/// grouped by sequence number as commitments.
fn level_entries(
    reader: Reader<'_>,
    app: &AppId,
    env: Option<&EnvId>,
    digest_key: &DigestKey,
    secrets: &SecretStores,
    stats: &mut Verified,
) -> Result<Committed, Error> {
    let prefix = codec::history_prefix(app, env);
    let mut raw = Vec::new();
    reader
        .backend
        .scan(&prefix, &codec::successor(&prefix), false, &mut |k, v| {
            raw.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })?;
    let mut out: Committed = BTreeMap::new();
    for (k, v) in raw {
        let (_, seq) = codec::split_entry_key(&prefix, &k)?;
        let entry = Entry::decode(&v)?;
        let id = if env.is_some() {
            VersionId::env(seq)
        } else {
            VersionId::app(seq)
        };
        if !value_matches(app, &entry, digest_key, secrets, stats)? {
            return Err(tampered(app, id, "a value does not match its digest"));
        }
        stats.entries += 1;
        out.entry(seq)
            .or_default()
            .push((k.clone(), commitment(&k, &entry)));
    }
    Ok(out)
}

/// Whether the entry's content matches its digest. A purged entry has no
/// content to check; a secret is checked when its store can read it.
fn value_matches(
    app: &AppId,
    entry: &Entry,
    key: &DigestKey,
    secrets: &SecretStores,
    stats: &mut Verified,
) -> Result<bool, Error> {
    Ok(match &entry.state {
        State::Deleted => entry.value_digest == [0; 32],
        State::Purged => true,
        State::Plain(v) => crypto::digest("plain", &[v.as_bytes()]) == entry.value_digest,
        State::Template(v) => crypto::digest("template", &[v.as_bytes()]) == entry.value_digest,
        State::Reference { store, reference } => {
            reference_digest(store, reference) == entry.value_digest
        }
        State::Managed { store, reference } => match secrets.read(app, store, reference, true) {
            Ok(secret) => {
                stats.secrets_checked += 1;
                key.secret(secret.expose_secret()) == entry.value_digest
            }
            Err(SecretStoreError::MissingMasterKey { .. }) => true,
            Err(
                SecretStoreError::DecryptionFailed { .. }
                | SecretStoreError::NotFound { .. }
                | SecretStoreError::OtherApp { .. },
            ) => false,
            Err(e) => return Err(e.into()),
        },
    })
}

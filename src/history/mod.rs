//! The history engine: value set versions over a [`Backend`] (guide: [Value set versions](crate::_documentation::guide#value-set-versions)).
//!
//! Every change takes the next sequence number of its App (one counter for
//! the App and all its Environments) and writes:
//! - one version record (for the App, or for the one Environment changed);
//! - one [`Entry`] per changed key, at its level, keyed `(key, seq)`.
//!
//! A version's full set is read, never replayed (`sets.rs`): each level's
//! key index holds each key's newest entry, and a key that changed after
//! the version is sought, for the entry with the greatest sequence number
//! at or below the version's; so the cost follows the number of keys, not
//! the history's depth.
//!
//! An Environment's history is derived, not copied: before its first
//! override it is the App's (same versions, same ids); from then on it is
//! its own versions merged with every App version, which "bubbles up" as the
//! App's values with the Environment's overrides on top. So an App change
//! writes nothing per Environment, however many have diverged.
//!
//! Purge is the only change to what was written: it replaces the entries of
//! one value with [`State::Purged`], which every version reading them, the
//! bubbled ones included, then shows as purged.

pub(crate) mod builtin;
mod chain;
mod commit;
pub(crate) mod diff;
mod purge;
mod restore;
mod sets;
mod stores;
mod tags;
mod templates;
pub(crate) mod verify;

pub(crate) use chain::{commitment, entries_digest, record_hash, reference_digest};
pub(crate) use commit::{Commit, Ctx, Plan, Planned, commit};
pub(crate) use purge::{Purge, Removed, purge};
pub(crate) use restore::plan_restore;
pub(crate) use stores::SecretStores;
pub(crate) use stores::{Put, remove_puts};
pub(crate) use tags::place_tag;
pub(crate) use templates::check_cycles;

use std::ops::ControlFlow;

use crate::backend::{Backend, BackendError, BackendErrorKind, KeyRange, KeyValue};
use crate::codec::{self, AppMeta, Corrupted, Entry, EnvMeta, State, VersionRecord};
use crate::error::{Error, NotFound};
use crate::id::{AppId, EnvId, Key};
use crate::model::{Change, ChangeOp, VersionId, VersionInfo, VersionSelector};

/// One level's history: an App, or one of its Environments.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope<'a> {
    pub(crate) app: &'a AppId,
    pub(crate) env: Option<(&'a EnvId, &'a EnvMeta)>,
}

/// Reads over a backend.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'b> {
    pub(crate) backend: &'b dyn Backend,
}

impl Scope<'_> {
    pub(crate) fn env_id(&self) -> Option<&EnvId> {
        self.env.map(|(e, _)| e)
    }

    fn diverged_at(&self) -> Option<u64> {
        self.env.and_then(|(_, m)| m.diverged_at)
    }

    /// The id of the version at `seq` in this history.
    pub(crate) fn id_for(&self, seq: u64) -> VersionId {
        match self.diverged_at() {
            Some(d) if seq >= d => VersionId::env(seq),
            _ => VersionId::app(seq),
        }
    }

    /// The id a new version at `seq` of this level takes.
    pub(crate) fn new_id(&self, seq: u64) -> VersionId {
        match self.env {
            Some(_) => VersionId::env(seq),
            None => VersionId::app(seq),
        }
    }

    fn unknown(&self, version: &str) -> Error {
        NotFound::Version {
            version: version.to_owned(),
            env: self.env_id().cloned(),
        }
        .into()
    }
}

impl Reader<'_> {
    fn get<T>(
        &self,
        key: &[u8],
        decode: fn(&[u8]) -> Result<T, Corrupted>,
    ) -> Result<Option<T>, Error> {
        Ok(self.backend.get(key)?.map(|b| decode(&b)).transpose()?)
    }

    pub(crate) fn app_meta(&self, app: &AppId) -> Result<Option<AppMeta>, Error> {
        self.get(&codec::app_key(app), AppMeta::decode)
    }

    pub(crate) fn env_meta(&self, app: &AppId, env: &EnvId) -> Result<Option<EnvMeta>, Error> {
        self.get(&codec::env_key(app, env), EnvMeta::decode)
    }

    pub(crate) fn apps(&self) -> Result<Vec<AppId>, Error> {
        let (start, end) = codec::apps_range();
        let mut keys = Vec::new();
        self.backend.scan(&start, &end, false, &mut |k, _| {
            keys.push(k.to_vec());
            ControlFlow::Continue(())
        })?;
        Ok(keys
            .iter()
            .map(|k| codec::app_from_key(k))
            .collect::<Result<_, _>>()?)
    }

    pub(crate) fn envs(&self, app: &AppId) -> Result<Vec<(EnvId, EnvMeta)>, Error> {
        let (start, end, skip) = codec::envs_range(app);
        let mut raw = Vec::new();
        self.backend.scan(&start, &end, false, &mut |k, v| {
            raw.push((k.get(skip..).unwrap_or_default().to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })?;
        raw.into_iter()
            .map(|(id, meta)| {
                let id = std::str::from_utf8(&id)
                    .ok()
                    .and_then(|s| EnvId::new(s).ok())
                    .ok_or_else(|| codec::corrupted("an environment key"))?;
                Ok((id, EnvMeta::decode(&meta)?))
            })
            .collect()
    }

    /// The latest entry of `key` at or below `seq`, with its sequence number.
    pub(crate) fn entry_at(
        &self,
        prefix: &[u8],
        key: &Key,
        seq: u64,
    ) -> Result<Option<(u64, Entry)>, Error> {
        let (start, end) = entry_range(prefix, key, seq);
        decode_found(prefix, key, self.backend.last_in(&start, &end)?)
    }

    /// Every entry of `key` at one level, oldest first.
    pub(crate) fn key_history(&self, prefix: &[u8], key: &Key) -> Result<Vec<(u64, Entry)>, Error> {
        let start = codec::entry_key(prefix, key, 0);
        let end = codec::successor(&codec::entry_key(prefix, key, u64::MAX));
        let mut raw = Vec::new();
        self.backend.scan(&start, &end, false, &mut |k, v| {
            raw.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })?;
        raw.into_iter()
            .map(|(k, v)| Ok((codec::split_entry_key(prefix, &k)?.1, Entry::decode(&v)?)))
            .collect()
    }

    pub(crate) fn app_version(
        &self,
        app: &AppId,
        seq: u64,
    ) -> Result<Option<VersionRecord>, Error> {
        self.get(&codec::version_key(app, seq), VersionRecord::decode)
    }

    pub(crate) fn env_version(
        &self,
        app: &AppId,
        env: &EnvId,
        seq: u64,
    ) -> Result<Option<VersionRecord>, Error> {
        self.get(
            &codec::env_version_key(app, env, seq),
            VersionRecord::decode,
        )
    }

    /// Sequence numbers of versions in `start..end` of one version table,
    /// newest first, at most `limit`.
    fn version_seqs(&self, first: &[u8], below: &[u8], limit: usize) -> Result<Vec<u64>, Error> {
        let mut seqs: Vec<Result<u64, Corrupted>> = Vec::new();
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.backend.scan(first, below, true, &mut |k, _| {
            seqs.push(codec::version_key_seq(first, k));
            if seqs.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(seqs.into_iter().collect::<Result<Vec<u64>, Corrupted>>()?)
    }

    /// Sequence numbers of the versions of `scope` below `before`, newest
    /// first, at most `limit`.
    pub(crate) fn seqs(
        &self,
        scope: Scope<'_>,
        before: u64,
        limit: usize,
    ) -> Result<Vec<u64>, Error> {
        let app_seqs = self.version_seqs(
            &codec::version_key(scope.app, 0),
            &codec::version_key(scope.app, before),
            limit,
        )?;
        let Some((env, _)) = scope.env else {
            return Ok(app_seqs);
        };
        let own = self.version_seqs(
            &codec::env_version_key(scope.app, env, 0),
            &codec::env_version_key(scope.app, env, before),
            limit,
        )?;
        let mut all: Vec<u64> = app_seqs.into_iter().chain(own).collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.dedup();
        all.truncate(limit);
        Ok(all)
    }

    /// `Backend::last_in_each`, with its answer count checked: a backend
    /// that answers a different number of seeks than it was asked is
    /// corrupted, not a short answer to read on from.
    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, Error> {
        let answers = self.backend.last_in_each(ranges)?;
        if answers.len() != ranges.len() {
            return Err(BackendError::with_kind(
                BackendErrorKind::Corrupted,
                "the backend answered a different number of seeks than it was asked",
            )
            .into());
        }
        Ok(answers)
    }

    /// The newest version of `scope`, if any: the newer of the last App
    /// version and the Environment's last own version, both sought at once
    /// (on PostgreSQL one query of a row each, not two pages of records).
    pub(crate) fn latest(&self, scope: Scope<'_>) -> Result<Option<u64>, Error> {
        let mut ranges = vec![(
            codec::version_key(scope.app, 0),
            codec::version_key(scope.app, u64::MAX),
        )];
        if let Some((env, _)) = scope.env {
            ranges.push((
                codec::env_version_key(scope.app, env, 0),
                codec::env_version_key(scope.app, env, u64::MAX),
            ));
        }
        let found = self.last_in_each(&ranges)?;
        let mut newest = None;
        for ((start, _), found) in ranges.iter().zip(found) {
            if let Some((key, _)) = found {
                newest = newest.max(Some(codec::version_key_seq(start, &key)?));
            }
        }
        Ok(newest)
    }

    /// The sequence number of `selector` in `scope`.
    ///
    /// # Errors
    ///
    /// [`NotFound::Version`] when the history has no such version;
    /// [`NotFound::Tag`] when it has no such tag.
    pub(crate) fn resolve(
        &self,
        scope: Scope<'_>,
        selector: &VersionSelector,
    ) -> Result<u64, Error> {
        match selector {
            VersionSelector::Tag(name) => {
                let unknown = || NotFound::Tag {
                    tag: name.clone(),
                    env: scope.env_id().cloned(),
                };
                let seq = self
                    .tag(scope, name)?
                    .and_then(|t| t.current())
                    .ok_or_else(unknown)?;
                if !self.exists(scope, seq)? {
                    return Err(unknown().into());
                }
                Ok(seq)
            }
            VersionSelector::Latest => self.latest(scope)?.ok_or_else(|| scope.unknown("latest")),
            VersionSelector::Id(id) => {
                let seq = id.seq();
                if scope.id_for(seq) != *id || !self.exists(scope, seq)? {
                    return Err(scope.unknown(&id.to_string()));
                }
                Ok(seq)
            }
        }
    }

    pub(crate) fn exists(&self, scope: Scope<'_>, seq: u64) -> Result<bool, Error> {
        if self
            .backend
            .get(&codec::version_key(scope.app, seq))?
            .is_some()
        {
            return Ok(true);
        }
        match scope.env {
            Some((env, _)) => Ok(self
                .backend
                .get(&codec::env_version_key(scope.app, env, seq))?
                .is_some()),
            None => Ok(false),
        }
    }

    /// Whether `env` has a version of its own at `seq`.
    pub(crate) fn env_version_exists(
        &self,
        app: &AppId,
        env: &EnvId,
        seq: u64,
    ) -> Result<bool, Error> {
        Ok(self
            .backend
            .get(&codec::env_version_key(app, env, seq))?
            .is_some())
    }

    /// The version at `seq` of `scope`, without values.
    pub(crate) fn info(&self, scope: Scope<'_>, seq: u64) -> Result<VersionInfo, Error> {
        let id = scope.id_for(seq);
        if let Some((env, _)) = scope.env
            && let Some(record) = self.env_version(scope.app, env, seq)?
        {
            return Ok(info_from(id, record, None));
        }
        let record = self
            .app_version(scope.app, seq)?
            .ok_or_else(|| scope.unknown(&id.to_string()))?;
        if !id.is_env() {
            return Ok(info_from(id, record, None));
        }
        // An App change bubbled into a diverged Environment: its change is
        // what changed in the Environment's effective values.
        let Some((env, _)) = scope.env else {
            return Ok(info_from(id, record, None));
        };
        let app_prefix = codec::history_prefix(scope.app, None);
        let env_prefix = codec::history_prefix(scope.app, Some(env));
        let mut change = Vec::new();
        for c in &record.change {
            let before = self.effective(&app_prefix, &env_prefix, &c.key, seq - 1)?;
            let after = self.effective(&app_prefix, &env_prefix, &c.key, seq)?;
            let op = match (&before, &after) {
                (None, None) => continue,
                (None, Some(_)) => ChangeOp::Add,
                (Some(_), None) => ChangeOp::Remove,
                (Some(b), Some(a)) if same(b, a) => continue,
                (Some(_), Some(_)) => ChangeOp::Replace,
            };
            change.push(Change {
                op,
                key: c.key.clone(),
                secret_version: after.as_ref().and_then(|a| a.secret_version),
            });
        }
        let mut info = info_from(id, record, Some(VersionId::app(seq)));
        info.change = change;
        Ok(info)
    }

    /// The Environment's effective entry for `key` at `seq`.
    fn effective(
        &self,
        app_prefix: &[u8],
        env_prefix: &[u8],
        key: &Key,
        seq: u64,
    ) -> Result<Option<Entry>, Error> {
        if let Some((_, e)) = self.entry_at(env_prefix, key, seq)?
            && e.is_live()
        {
            return Ok(Some(e));
        }
        Ok(self
            .entry_at(app_prefix, key, seq)?
            .map(|(_, e)| e)
            .filter(Entry::is_live))
    }

    /// The Environments that override `key` now.
    pub(crate) fn overriding_envs(&self, app: &AppId, key: &Key) -> Result<Vec<EnvId>, Error> {
        let (start, end, skip) = codec::override_index_range(app, key);
        let mut raw = Vec::new();
        self.backend.scan(&start, &end, false, &mut |k, _| {
            raw.push(k.get(skip..).unwrap_or_default().to_vec());
            ControlFlow::Continue(())
        })?;
        raw.into_iter()
            .map(|b| {
                std::str::from_utf8(&b)
                    .ok()
                    .and_then(|s| EnvId::new(s).ok())
                    .ok_or_else(|| Error::from(codec::corrupted("an override index key")))
            })
            .collect()
    }

    /// The versions of `scope` that changed `key`, newest first, below
    /// `before`, at most `limit`. Reads only the key's own entries.
    pub(crate) fn key_changed(
        &self,
        scope: Scope<'_>,
        key: &Key,
        before: u64,
        limit: usize,
    ) -> Result<Vec<VersionInfo>, Error> {
        let mut seqs: Vec<u64> = self
            .key_history(&codec::history_prefix(scope.app, None), key)?
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        if let Some((env, _)) = scope.env {
            seqs.extend(
                self.key_history(&codec::history_prefix(scope.app, Some(env)), key)?
                    .into_iter()
                    .map(|(s, _)| s),
            );
        }
        seqs.retain(|s| *s < before);
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        seqs.dedup();
        let mut out = Vec::new();
        for seq in seqs {
            if out.len() >= limit {
                break;
            }
            if !self.exists(scope, seq)? {
                continue;
            }
            let info = self.info(scope, seq)?;
            if info.change.iter().any(|c| &c.key == key) {
                out.push(info);
            }
        }
        Ok(out)
    }
}

/// Whether two entries hold the same value and description.
pub(crate) fn same(a: &Entry, b: &Entry) -> bool {
    a.state == b.state && a.description == b.description
}

fn info_from(id: VersionId, record: VersionRecord, app_version: Option<VersionId>) -> VersionInfo {
    VersionInfo {
        id,
        created_at: record.created_at,
        created_by: record.created_by,
        comment: record.comment,
        result_of: record.result_of,
        change: record.change,
        source_version: record.source,
        app_version,
    }
}

/// Whether an entry holds a value whose content is gone.
pub(crate) fn is_purged(entry: &Entry) -> bool {
    matches!(entry.state, State::Purged)
}

/// The keys of `key`'s entries at or below `seq` under `prefix`: both
/// bounds are `prefix key 0` and a sequence number, so the end is the
/// start with its last eight bytes changed.
fn entry_range(prefix: &[u8], key: &Key, seq: u64) -> KeyRange {
    let start = codec::entry_key(prefix, key, 0);
    let end = match seq.checked_add(1) {
        Some(above) => {
            let mut end = start.clone();
            let at = end.len() - 8;
            end.truncate(at);
            end.extend_from_slice(&above.to_be_bytes());
            end
        }
        None => codec::successor(&codec::entry_key(prefix, key, u64::MAX)),
    };
    (start, end)
}

/// A sought entry of `key`, decoded, with its sequence number.
fn decode_found(
    prefix: &[u8],
    key: &Key,
    found: Option<KeyValue>,
) -> Result<Option<(u64, Entry)>, Error> {
    found
        .map(|(k, v)| Ok((codec::entry_key_seq(prefix, key, &k)?, Entry::decode(&v)?)))
        .transpose()
}

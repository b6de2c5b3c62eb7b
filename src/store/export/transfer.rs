//! Moving a whole history between stores: [`Reader::transfer`] reads every
//! record of an App as it was written, and [`write_transfer`] writes one
//! into a store that does not have the App, in one batch. What belongs to
//! the receiving store is worked out again there: the chain's hashes, the
//! commitments, the keyed digests of secrets and where the secrets the
//! library stores are kept. Ids, authors, times, comments and values stay.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use crate::backend::Batch;
use crate::codec::{self, AppMeta, Entry, EnvMeta, State, TagRecord, VersionRecord};
use crate::crypto;
use crate::error::InvalidInput;
use crate::error::{Error, NotFound};
use crate::id::{AppId, EnvId, Key, TagName};
use crate::model::{ChangeOp, Timestamp};
use crate::secret::{Secret, SecretRef};

use crate::history::{
    Ctx, Put, Reader, Scope, check_cycles, commitment, entries_digest, record_hash,
    reference_digest, remove_puts,
};

/// An App's whole history.
#[derive(Debug)]
pub(crate) struct Transfer {
    pub(crate) created_at: Timestamp,
    pub(crate) next_seq: u64,
    /// Each Environment, with when it was created.
    pub(crate) envs: BTreeMap<EnvId, Timestamp>,
    /// Every version of every level, by sequence number.
    pub(crate) versions: BTreeMap<u64, Moved>,
    pub(crate) tags: Vec<(Option<EnvId>, TagName, TagRecord)>,
    /// The App's name and creator.
    pub(crate) app_labels: Labels,
    /// Each Environment's name, type and creator; one missing has none.
    pub(crate) env_labels: BTreeMap<EnvId, Labels>,
}

/// What an App or an Environment is called, as stored: empty for the id,
/// the default type, an unknown creator.
#[derive(Clone, Debug, Default)]
pub(crate) struct Labels {
    pub(crate) name: String,
    pub(crate) env_type: String,
    pub(crate) created_by: String,
}

/// One version as it was written. The record's `parent` and `entries`
/// belong to the store it is in: [`write_transfer`] works them out again.
#[derive(Debug)]
pub(crate) struct Moved {
    /// The Environment whose own version it is; `None` for the App's.
    pub(crate) env: Option<EnvId>,
    pub(crate) record: VersionRecord,
    pub(crate) entries: BTreeMap<Key, Entry>,
    /// The overrides an App version deleted with their App values.
    pub(crate) cascaded: BTreeMap<EnvId, BTreeMap<Key, Entry>>,
}

/// Where a library-stored secret belongs: its level, its key, and the
/// sequence number that introduced it (the entries of one stored secret
/// share it).
pub(crate) type SecretSlot = (Option<EnvId>, Key, u64);

fn invalid(reason: String) -> Error {
    InvalidInput::Export { reason }.into()
}

fn orphan() -> Error {
    codec::corrupted("an entry without a version").into()
}

impl Reader<'_> {
    /// Every record of `app`: versions, entries, Environments and tags.
    pub(crate) fn transfer(&self, app: &AppId) -> Result<Transfer, Error> {
        let meta = self
            .app_meta(app)?
            .ok_or_else(|| NotFound::App { app: app.clone() })?;
        let mut versions = BTreeMap::new();
        let app_records = self.records(
            &codec::version_key(app, 0),
            &codec::version_key(app, u64::MAX),
        )?;
        for (seq, record) in app_records {
            versions.insert(seq, moved(None, record));
        }
        for (key, seq, entry) in self.level(app, None)? {
            let v = versions.get_mut(&seq).filter(|v| v.env.is_none());
            v.ok_or_else(orphan)?.entries.insert(key, entry);
        }
        let mut envs = BTreeMap::new();
        let mut env_labels = BTreeMap::new();
        let mut tags = self.tagged(Scope { app, env: None }, None)?;
        for (env, env_meta) in self.envs(app)? {
            let start = codec::env_version_key(app, &env, 0);
            let end = codec::env_version_key(app, &env, u64::MAX);
            for (seq, record) in self.records(&start, &end)? {
                versions.insert(seq, moved(Some(env.clone()), record));
            }
            for (key, seq, entry) in self.level(app, Some(&env))? {
                let v = versions.get_mut(&seq).ok_or_else(orphan)?;
                match &v.env {
                    Some(own) if *own == env => v.entries.insert(key, entry),
                    None => v
                        .cascaded
                        .entry(env.clone())
                        .or_default()
                        .insert(key, entry),
                    Some(_) => return Err(orphan()),
                };
            }
            let scope = Scope {
                app,
                env: Some((&env, &env_meta)),
            };
            tags.extend(self.tagged(scope, Some(&env))?);
            envs.insert(env.clone(), env_meta.created_at);
            let labels = Labels {
                name: env_meta.name,
                env_type: env_meta.env_type,
                created_by: env_meta.created_by,
            };
            env_labels.insert(env, labels);
        }
        Ok(Transfer {
            created_at: meta.created_at,
            next_seq: meta.next_seq,
            envs,
            versions,
            tags,
            app_labels: Labels {
                name: meta.name,
                env_type: String::new(),
                created_by: meta.created_by,
            },
            env_labels,
        })
    }

    /// The version records between two version keys, by sequence number.
    pub(crate) fn records(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> Result<BTreeMap<u64, VersionRecord>, Error> {
        let mut raw = Vec::new();
        self.backend.scan(start, end, false, &mut |k, v| {
            raw.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })?;
        raw.into_iter()
            .map(|(k, v)| {
                let seq = codec::version_key_seq(start, &k)?;
                Ok((seq, VersionRecord::decode(&v)?))
            })
            .collect()
    }

    /// Every entry of one level, in key and then sequence order.
    fn level(&self, app: &AppId, env: Option<&EnvId>) -> Result<Vec<(Key, u64, Entry)>, Error> {
        let prefix = codec::history_prefix(app, env);
        let mut raw = Vec::new();
        self.backend
            .scan(&prefix, &codec::successor(&prefix), false, &mut |k, v| {
                raw.push((k.to_vec(), v.to_vec()));
                ControlFlow::Continue(())
            })?;
        raw.into_iter()
            .map(|(k, v)| {
                let (key, seq) = codec::split_entry_key(&prefix, &k)?;
                Ok((key, seq, Entry::decode(&v)?))
            })
            .collect()
    }

    fn tagged(
        &self,
        scope: Scope<'_>,
        env: Option<&EnvId>,
    ) -> Result<Vec<(Option<EnvId>, TagName, TagRecord)>, Error> {
        Ok(self
            .tags(scope)?
            .into_iter()
            .map(|(name, record)| (env.cloned(), name, record))
            .collect())
    }
}

fn moved(env: Option<EnvId>, record: VersionRecord) -> Moved {
    Moved {
        env,
        record,
        entries: BTreeMap::new(),
        cascaded: BTreeMap::new(),
    }
}

/// Writes `transfer` as the history of `app`, which this store must not
/// have: all of it in one batch, or nothing. A library-stored secret
/// (an entry in the state `Managed`, whatever its location) is stored
/// again from `secrets`, once per slot.
pub(crate) fn write_transfer(
    ctx: Ctx<'_>,
    app: &AppId,
    transfer: &Transfer,
    secrets: &BTreeMap<SecretSlot, Secret>,
) -> Result<(), Error> {
    check(transfer)?;
    let mut writer = Writer {
        ctx,
        app,
        secrets,
        batch: Batch::new(),
        stored: BTreeMap::new(),
        puts: Vec::new(),
        heads: BTreeMap::new(),
        current: BTreeMap::new(),
    };
    let written = writer.write(transfer).and_then(|()| writer.check_cycles());
    if written.is_err() {
        remove_puts(&writer.puts);
        return written;
    }
    let Writer { batch, puts, .. } = writer;
    ctx.backend.apply(batch).map_err(|e| {
        remove_puts(&puts);
        e.into()
    })
}

/// What a transfer must hold to make a history this store can read.
fn check(transfer: &Transfer) -> Result<(), Error> {
    for (seq, v) in &transfer.versions {
        if *seq == 0 || *seq >= transfer.next_seq {
            return Err(invalid(format!(
                "version {seq} is outside the App's numbering (1 to {})",
                transfer.next_seq.saturating_sub(1)
            )));
        }
        let envs = v.env.iter().chain(v.cascaded.keys());
        if let Some(env) = envs.into_iter().find(|e| !transfer.envs.contains_key(*e)) {
            return Err(invalid(format!(
                "version {seq} names environment `{env}`, which it does not have"
            )));
        }
        let cascades_live = v
            .cascaded
            .values()
            .flat_map(|m| m.values())
            .any(Entry::is_live);
        // An override goes with the App's value its version removes.
        let removed = |key: &Key| {
            let change = &v.record.change;
            change
                .iter()
                .any(|c| c.op == ChangeOp::Remove && c.key == *key)
        };
        let unremoved = v
            .cascaded
            .values()
            .flat_map(|m| m.keys())
            .any(|k| !removed(k));
        if cascades_live || unremoved || (v.env.is_some() && !v.cascaded.is_empty()) {
            return Err(invalid(format!(
                "version {seq} deletes overrides it cannot delete"
            )));
        }
    }
    for (env, name, record) in &transfer.tags {
        let named = |seq: &u64| {
            let level = transfer.versions.get(seq).map(|v| v.env.as_ref());
            level.is_some_and(|l| l.is_none() || l == env.as_ref())
        };
        if record.moves.is_empty() || !record.moves.iter().map(|m| m.seq).all(|s| named(&s)) {
            return Err(invalid(format!(
                "tag `{name}` names a version its history does not have"
            )));
        }
    }
    Ok(())
}

/// The state of one [`write_transfer`].
struct Writer<'w> {
    ctx: Ctx<'w>,
    app: &'w AppId,
    secrets: &'w BTreeMap<SecretSlot, Secret>,
    batch: Batch,
    /// Where each slot's secret went, with its keyed digest.
    stored: BTreeMap<SecretSlot, (SecretRef, [u8; 32])>,
    /// Secrets stored outside the batch, to take back if it fails.
    puts: Vec<Put>,
    /// The hash of each level's newest record so far.
    heads: BTreeMap<Option<EnvId>, [u8; 32]>,
    /// Each level's newest entry of each key, with its sequence number.
    current: BTreeMap<(Option<EnvId>, Key), (u64, Entry)>,
}

impl Writer<'_> {
    fn write(&mut self, transfer: &Transfer) -> Result<(), Error> {
        let app = self.app;
        let mut diverged: BTreeMap<&EnvId, u64> = BTreeMap::new();
        for (seq, v) in &transfer.versions {
            let mut committed = Vec::new();
            for (key, entry) in &v.entries {
                let entry = self.entry(v.env.as_ref(), key, entry.clone())?;
                let entry_key = self.put_entry(v.env.as_ref(), key, *seq, &entry);
                committed.push((entry_key.clone(), commitment(&entry_key, &entry)));
            }
            for (env, entries) in &v.cascaded {
                for (key, tombstone) in entries {
                    self.put_entry(Some(env), key, *seq, tombstone);
                }
            }
            let head = self.heads.entry(v.env.clone()).or_insert([0; 32]);
            let record = VersionRecord {
                parent: *head,
                entries: entries_digest(committed),
                ..v.record.clone()
            };
            *head = record_hash(&record);
            let key = match &v.env {
                None => codec::version_key(app, *seq),
                Some(env) => {
                    diverged.entry(env).or_insert(*seq);
                    codec::env_version_key(app, env, *seq)
                }
            };
            self.batch.insert(key, record.encode());
            self.batch.announce_version();
        }
        let meta = AppMeta {
            created_at: transfer.created_at,
            next_seq: transfer.next_seq,
            last_hash: self.heads.get(&None).copied().unwrap_or([0; 32]),
            name: transfer.app_labels.name.clone(),
            created_by: transfer.app_labels.created_by.clone(),
        };
        self.batch.expect(codec::app_key(app), None);
        self.batch.insert(codec::app_key(app), meta.encode());
        for (env, created_at) in &transfer.envs {
            let labels = transfer.env_labels.get(env).cloned().unwrap_or_default();
            let env_meta = EnvMeta {
                created_at: *created_at,
                diverged_at: diverged.get(env).copied(),
                last_hash: self
                    .heads
                    .get(&Some(env.clone()))
                    .copied()
                    .unwrap_or([0; 32]),
                name: labels.name,
                env_type: labels.env_type,
                created_by: labels.created_by,
            };
            self.batch
                .insert(codec::env_key(app, env), env_meta.encode());
        }
        for ((env, key), (seq, entry)) in &self.current {
            let mut index_key = codec::key_index_prefix(app, env.as_ref());
            index_key.extend_from_slice(key.as_str().as_bytes());
            self.batch
                .insert(index_key, codec::encode_current(*seq, entry));
            if let Some(env) = env.as_ref().filter(|_| entry.is_live()) {
                let index = codec::override_index_key(app, key, env);
                self.batch.insert(index, Vec::new());
            }
        }
        for (env, name, record) in &transfer.tags {
            let key = codec::tag_key(app, env.as_ref(), name);
            self.batch.insert(key, record.encode());
        }
        Ok(())
    }

    /// Refuses a history whose newest templates use themselves at a level,
    /// as every write refuses them (a history that was written never has
    /// such a cycle; a document can be made with one).
    fn check_cycles(&self) -> Result<(), Error> {
        let mut levels: BTreeMap<Option<&EnvId>, Vec<(Key, Entry)>> = BTreeMap::new();
        for ((env, key), (_, entry)) in &self.current {
            if matches!(entry.state, State::Template(_)) {
                let level = levels.entry(env.as_ref()).or_default();
                level.push((key.clone(), entry.clone()));
            }
        }
        // The App is not in the store yet: the walk finds every template
        // among these.
        let reader = Reader {
            backend: self.ctx.backend,
        };
        for (env, templates) in levels {
            check_cycles(reader, (self.app, env), &templates)?;
        }
        Ok(())
    }

    /// Adds one entry, and keeps it as its key's newest so far (versions
    /// come in order); returns the entry's key.
    fn put_entry(&mut self, env: Option<&EnvId>, key: &Key, seq: u64, entry: &Entry) -> Vec<u8> {
        let prefix = codec::history_prefix(self.app, env);
        let entry_key = codec::entry_key(&prefix, key, seq);
        self.batch.insert(entry_key.clone(), entry.encode());
        let newest = (seq, entry.clone());
        self.current.insert((env.cloned(), key.clone()), newest);
        entry_key
    }

    /// The entry as this store keeps it: its value's digest worked out
    /// here, a library-stored secret stored here.
    fn entry(&mut self, env: Option<&EnvId>, key: &Key, mut entry: Entry) -> Result<Entry, Error> {
        let ctx = self.ctx;
        entry.value_digest = match &entry.state {
            State::Deleted => [0; 32],
            State::Purged => entry.value_digest,
            State::Plain(v) => crypto::digest("plain", &[v.as_bytes()]),
            State::Template(v) => crypto::digest("template", &[v.as_bytes()]),
            State::Reference { store, reference } => {
                ctx.secrets.check_reference(self.app, store, reference)?;
                reference_digest(store, reference)
            }
            State::Managed { .. } => {
                let slot = (env.cloned(), key.clone(), entry.introduced);
                let (reference, digest) = self.store_secret(slot)?;
                entry.state = State::Managed {
                    store: ctx.secrets.managed.id().to_owned(),
                    reference,
                };
                digest
            }
        };
        Ok(entry)
    }

    /// Stores the secret of `slot` once; where it went and its digest.
    fn store_secret(&mut self, slot: SecretSlot) -> Result<(SecretRef, [u8; 32]), Error> {
        if let Some(done) = self.stored.get(&slot) {
            return Ok(done.clone());
        }
        let (env, key, introduced) = &slot;
        let secret = self
            .secrets
            .get(&slot)
            .ok_or_else(|| invalid(format!("the secret of `{key}` at {introduced} is missing")))?;
        let secrets = self.ctx.secrets;
        let level = env.as_ref().map_or("_app", EnvId::as_str);
        let name = format!("{}/{level}/{key}", self.app);
        let reference = if let Some(builtin) = &secrets.builtin_managed {
            builtin.seal_into(&mut self.batch, &format!("{name}/{introduced}"), secret)?
        } else {
            // Slots come in order, so the key's versions do too.
            let reference = secrets.managed.put(&name, secret)?;
            self.puts.push(Put {
                store: Arc::clone(&secrets.managed),
                reference: reference.clone(),
            });
            reference
        };
        let done = (
            reference,
            self.ctx.digest_key.secret(secret.expose_secret()),
        );
        self.stored.insert(slot, done.clone());
        Ok(done)
    }
}

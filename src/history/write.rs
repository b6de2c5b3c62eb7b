//! Changes, restores and purges: each is planned and checked in full, then
//! written as one [`Batch`], so it is all or nothing (SPEC 3.2, 7).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::backend::{Backend, Batch};
use crate::codec::{self, AppMeta, Entry, EnvMeta, State, VersionRecord};
use crate::crypto::{self, DigestKey};
use crate::error::{Error, NotFound, PurgeRefusal};
use crate::id::{EnvId, Key};
use crate::model::{Change, ChangeOp, ResultOf, Timestamp, VersionId, VersionInfo};
use crate::secret::{Secret, SecretRef, SecretStore, SecretStoreError};

use super::{Reader, Scope, is_purged};

/// The secret stores a Store knows: the one it writes submitted secrets to,
/// and every store references may name (that one included).
#[derive(Debug)]
pub(crate) struct SecretStores {
    pub(crate) managed: Arc<dyn SecretStore>,
    /// The built-in store, when it is the managed one.
    pub(crate) builtin_managed: Option<Arc<crate::secret::builtin::BuiltinSecretStore>>,
    pub(crate) by_id: BTreeMap<String, Arc<dyn SecretStore>>,
}

impl SecretStores {
    /// Removes a library-stored secret within `batch` when it lives in the
    /// built-in store (so it goes with the change, or not at all); `false`
    /// when it lives elsewhere and must be deleted after the batch.
    pub(crate) fn remove_into(
        &self,
        batch: &mut Batch,
        store: &str,
        reference: &SecretRef,
    ) -> bool {
        match &self.builtin_managed {
            Some(b) if b.id() == store => {
                batch.remove(crate::secret::builtin::record_key(&reference.reference));
                true
            }
            _ => false,
        }
    }

    pub(crate) fn get(&self, id: &str) -> Result<&Arc<dyn SecretStore>, Error> {
        self.by_id.get(id).ok_or_else(|| {
            SecretStoreError::UnknownStore {
                store: id.to_owned(),
            }
            .into()
        })
    }
}

/// What one write needs besides its data.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx<'s> {
    pub(crate) backend: &'s dyn Backend,
    pub(crate) secrets: &'s SecretStores,
    pub(crate) digest_key: &'s DigestKey,
    pub(crate) now: Timestamp,
    pub(crate) actor: &'s str,
}

/// What a change asks of one key.
#[derive(Debug)]
pub(crate) enum Plan {
    Delete,
    Plain(String),
    Secret(Secret),
    /// A copy of a secret the library stored (restore).
    CopySecret {
        store: String,
        reference: SecretRef,
    },
    Reference {
        store: String,
        reference: SecretRef,
    },
    /// The value stays; only the description changes.
    Describe,
}

/// A planned key: what to do, and its description afterwards (`None`
/// keeps the current one).
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) plan: Plan,
    pub(crate) description: Option<String>,
}

/// A whole change to commit.
#[derive(Debug)]
pub(crate) struct Commit {
    pub(crate) planned: BTreeMap<Key, Planned>,
    pub(crate) cascade: bool,
    pub(crate) result_of: Option<ResultOf>,
    pub(crate) source: Option<VersionId>,
    pub(crate) comment: String,
}

/// A secret put in the managed store during a commit, removed again if the
/// commit fails.
struct Put {
    store: Arc<dyn SecretStore>,
    reference: SecretRef,
}

/// Commits `commit` to `scope` as one new version.
// One function, read top to bottom: plan and check every key, store the new
// secrets, write one batch. Split, it would pass the same seven locals around.
#[allow(clippy::too_many_lines)]
pub(crate) fn commit(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    meta: &AppMeta,
    commit: Commit,
) -> Result<VersionInfo, Error> {
    let reader = Reader {
        backend: ctx.backend,
    };
    let seq = meta.next_seq;
    let env = scope.env_id();
    let prefix = codec::history_prefix(scope.app, env);
    let app_prefix = codec::history_prefix(scope.app, None);
    let mut batch = Batch::new();
    let mut change = Vec::new();
    let mut puts: Vec<(Key, Secret)> = Vec::new();
    let mut entries: Vec<(Key, Entry)> = Vec::new();
    let mut cascaded: Vec<(EnvId, Key)> = Vec::new();

    for (key, planned) in commit.planned {
        let current = reader
            .entry_at(&prefix, &key, u64::MAX)?
            .map(|(_, e)| e)
            .filter(Entry::is_live);
        // SPEC 2: an override needs a base value.
        if env.is_some() && !matches!(planned.plan, Plan::Delete) {
            let base = reader.entry_at(&app_prefix, &key, u64::MAX)?;
            if !base.is_some_and(|(_, e)| e.is_live()) {
                return Err(Error::NoBaseValue { key });
            }
        }
        let (state, new_secret, value_digest) = match planned.plan {
            Plan::Delete => {
                let Some(current) = current else { continue };
                if env.is_none() {
                    let envs = reader.overriding_envs(scope.app, &key)?;
                    if !envs.is_empty() {
                        if !commit.cascade {
                            return Err(Error::OverriddenInEnvs { key, envs });
                        }
                        cascaded.extend(envs.into_iter().map(|e| (e, key.clone())));
                    }
                }
                change.push(Change {
                    op: ChangeOp::Remove,
                    key: key.clone(),
                    secret_version: None,
                });
                entries.push((
                    key,
                    Entry {
                        state: State::Deleted,
                        description: String::new(),
                        created_at: current.created_at,
                        updated_at: ctx.now,
                        introduced: seq,
                        secret_version: None,
                        value_digest: [0; 32],
                    },
                ));
                continue;
            }
            Plan::Plain(v) => {
                let digest = crypto::digest("plain", &[v.as_bytes()]);
                (State::Plain(v), None, digest)
            }
            Plan::Reference { store, reference } => {
                ctx.secrets.get(&store)?;
                let digest = reference_digest(&store, &reference);
                (State::Reference { store, reference }, None, digest)
            }
            Plan::Secret(secret) => new_secret(ctx, current.as_ref(), secret),
            Plan::CopySecret { store, reference } => {
                let secret = ctx.secrets.get(&store)?.get(&reference)?;
                new_secret(ctx, current.as_ref(), secret)
            }
            Plan::Describe => match &current {
                Some(c) => (c.state.clone(), None, c.value_digest),
                None => {
                    return Err(NotFound::Key {
                        key,
                        env: env.cloned(),
                    }
                    .into());
                }
            },
        };
        let description = planned
            .description
            .or_else(|| current.as_ref().map(|c| c.description.clone()))
            .unwrap_or_default();
        let value_changed =
            new_secret.is_some() || current.as_ref().is_none_or(|c| c.state != state);
        if !value_changed
            && current
                .as_ref()
                .is_some_and(|c| c.description == description)
        {
            continue;
        }
        let is_secret = new_secret.is_some()
            || matches!(state, State::Managed { .. } | State::Reference { .. });
        let secret_version = if is_secret {
            match current.as_ref().and_then(|c| c.secret_version) {
                Some(v) if value_changed => Some(v.saturating_add(1)),
                Some(v) => Some(v),
                None => Some(1),
            }
        } else {
            None
        };
        change.push(Change {
            op: if current.is_some() {
                ChangeOp::Replace
            } else {
                ChangeOp::Add
            },
            key: key.clone(),
            secret_version,
        });
        let entry = Entry {
            state,
            description,
            created_at: current.as_ref().map_or(ctx.now, |c| c.created_at),
            updated_at: ctx.now,
            introduced: if value_changed {
                seq
            } else {
                current.as_ref().map_or(seq, |c| c.introduced)
            },
            secret_version,
            value_digest,
        };
        if let Some(secret) = new_secret {
            puts.push((key.clone(), secret));
        }
        entries.push((key, entry));
    }

    // Every check has passed: store the new secrets, then write.
    let mut stored: Vec<Put> = Vec::new();
    let scope_name = env.map_or("_app", EnvId::as_str);
    for (key, secret) in puts {
        let name = format!("{}/{}/{}/{}", scope.app, scope_name, key, seq);
        let reference = if let Some(builtin) = &ctx.secrets.builtin_managed {
            // The library's own store: the ciphertext goes in the commit's
            // batch, so it is written with the version or not at all.
            builtin.seal_into(&mut batch, &name, &secret)?
        } else {
            let reference = match ctx.secrets.managed.put(&name, &secret) {
                Ok(r) => r,
                Err(e) => {
                    remove_puts(&stored);
                    return Err(e.into());
                }
            };
            stored.push(Put {
                store: Arc::clone(&ctx.secrets.managed),
                reference: reference.clone(),
            });
            reference
        };
        if let Some((_, entry)) = entries.iter_mut().find(|(k, _)| *k == key) {
            entry.state = State::Managed {
                store: ctx.secrets.managed.id().to_owned(),
                reference,
            };
        }
    }

    let index = codec::key_index_prefix(scope.app, env);
    // What the version record commits to: every entry written at `seq`.
    let mut committed: Vec<(Vec<u8>, [u8; 32])> = Vec::new();
    for (key, entry) in &entries {
        let entry_key = codec::entry_key(&prefix, key, seq);
        committed.push((entry_key.clone(), commitment(&entry_key, entry)));
        batch.insert(entry_key, entry.encode());
        let mut index_key = index.clone();
        index_key.extend_from_slice(key.as_str().as_bytes());
        batch.insert(index_key, Vec::new());
        if let Some(env) = env {
            let index = codec::override_index_key(scope.app, key, env);
            if entry.is_live() {
                batch.insert(index, Vec::new());
            } else {
                batch.remove(index);
            }
        }
    }
    for (cascade_env, key) in &cascaded {
        let env_prefix = codec::history_prefix(scope.app, Some(cascade_env));
        let created_at = reader
            .entry_at(&env_prefix, key, u64::MAX)?
            .map_or(ctx.now, |(_, e)| e.created_at);
        let tombstone = Entry {
            state: State::Deleted,
            description: String::new(),
            created_at,
            updated_at: ctx.now,
            introduced: seq,
            secret_version: None,
            value_digest: [0; 32],
        };
        // Not in the App record's commitment: an Environment can be deleted
        // with its entries. `verify` checks each such tombstone against the
        // App record that removed the key.
        batch.insert(codec::entry_key(&env_prefix, key, seq), tombstone.encode());
        batch.remove(codec::override_index_key(scope.app, key, cascade_env));
    }

    let result_of = commit
        .result_of
        .unwrap_or_else(|| result_of(env.is_some(), &change));
    let record = VersionRecord {
        created_at: ctx.now,
        created_by: ctx.actor.to_owned(),
        comment: commit.comment,
        result_of,
        change,
        source: commit.source,
        parent: chain_head(scope, meta),
        entries: entries_digest(committed),
    };
    let id = finish(&mut batch, scope, meta, seq, &record);
    if let Err(e) = ctx.backend.apply(batch) {
        remove_puts(&stored);
        return Err(e.into());
    }
    Ok(super::info_from(id, record, None))
}

/// Adds the version record and the bookkeeping of a new version at `seq`.
fn finish(
    batch: &mut Batch,
    scope: Scope<'_>,
    meta: &AppMeta,
    seq: u64,
    record: &VersionRecord,
) -> VersionId {
    let hash = record_hash(record);
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
fn chain_head(scope: Scope<'_>, meta: &AppMeta) -> [u8; 32] {
    match scope.env {
        None => meta.last_hash,
        Some((_, env_meta)) => env_meta.last_hash,
    }
}

fn remove_puts(puts: &[Put]) {
    for put in puts {
        // Best effort: the commit failed, so nothing refers to it.
        let _ = put.store.delete(&put.reference);
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

/// The state, the secret still to store, and the digest of a secret value:
/// the current state when the current value is that same secret.
fn new_secret(
    ctx: Ctx<'_>,
    current: Option<&Entry>,
    secret: Secret,
) -> (State, Option<Secret>, [u8; 32]) {
    if let Some((state, digest)) = current_managed_equal(ctx, current, &secret) {
        return (state, None, digest);
    }
    let digest = ctx.digest_key.secret(secret.expose_secret());
    // The state is filled in once the secret is stored.
    (State::Purged, Some(secret), digest)
}

/// If the current value is a managed secret equal to `secret`, its state
/// and digest (the value does not change).
fn current_managed_equal(
    ctx: Ctx<'_>,
    current: Option<&Entry>,
    secret: &Secret,
) -> Option<(State, [u8; 32])> {
    let current = current?;
    if !matches!(current.state, State::Managed { .. }) {
        return None;
    }
    // The keyed digest tells equal secrets apart without reading the
    // current one back.
    let digest = ctx.digest_key.secret(secret.expose_secret());
    (digest == current.value_digest).then(|| (current.state.clone(), current.value_digest))
}

fn result_of(env: bool, change: &[Change]) -> ResultOf {
    let removes = change.iter().filter(|c| c.op == ChangeOp::Remove).count();
    let adds = change.iter().filter(|c| c.op == ChangeOp::Add).count();
    let (create, update, delete, deletes) = if env {
        (
            ResultOf::EnvValueCreate,
            ResultOf::EnvValueUpdate,
            ResultOf::EnvValueDelete,
            ResultOf::EnvValuesDelete,
        )
    } else {
        (
            ResultOf::AppValueCreate,
            ResultOf::AppValueUpdate,
            ResultOf::AppValueDelete,
            ResultOf::AppValuesDelete,
        )
    };
    if !change.is_empty() && removes == change.len() {
        if removes == 1 { delete } else { deletes }
    } else if !change.is_empty() && adds == change.len() {
        create
    } else {
        update
    }
}

/// Plans a restore of `keys` (all when `None`) of `scope` to the version at
/// `target` (SPEC 3.3).
pub(crate) fn plan_restore(
    reader: Reader<'_>,
    scope: Scope<'_>,
    target: u64,
    target_id: VersionId,
    keys: Option<&[Key]>,
) -> Result<BTreeMap<Key, Planned>, Error> {
    let env = scope.env_id();
    let then = if scope
        .env
        .is_some_and(|(_, m)| m.diverged_at.is_none_or(|d| target < d))
    {
        BTreeMap::new()
    } else {
        reader.entries_at(scope.app, env, target)?
    };
    let now = reader.entries_at(scope.app, env, u64::MAX)?;
    let keys: Vec<Key> = match keys {
        Some(keys) => keys.to_vec(),
        None => then.keys().chain(now.keys()).cloned().collect(),
    };
    let mut planned = BTreeMap::new();
    for key in keys {
        let plan = match then.get(&key) {
            None => Plan::Delete,
            Some((_, entry)) => match &entry.state {
                State::Purged => {
                    return Err(Error::Purged {
                        key,
                        version: target_id,
                    });
                }
                State::Plain(v) => Plan::Plain(v.clone()),
                State::Managed { store, reference } => Plan::CopySecret {
                    store: store.clone(),
                    reference: reference.clone(),
                },
                State::Reference { store, reference } => Plan::Reference {
                    store: store.clone(),
                    reference: reference.clone(),
                },
                State::Deleted => Plan::Delete,
            },
        };
        let description = then.get(&key).map(|(_, e)| e.description.clone());
        planned.insert(key, Planned { plan, description });
    }
    Ok(planned)
}

/// Purges the value of `key` introduced at `seq` in `scope` (SPEC 3.4).
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
    let introduced_here = history
        .iter()
        .find(|(s, _)| *s == seq)
        .filter(|(_, e)| e.introduced == seq && e.is_live());
    let Some((_, entry)) = introduced_here else {
        return Err(PurgeRefusal::NotIntroducedHere {
            key: key.clone(),
            version: id,
        }
        .into());
    };
    if is_purged(entry) {
        return Err(PurgeRefusal::AlreadyPurged {
            key: key.clone(),
            version: id,
        }
        .into());
    }
    if history
        .last()
        .is_some_and(|(_, last)| last.is_live() && last.introduced == seq)
    {
        return Err(PurgeRefusal::CurrentValue {
            key: key.clone(),
            version: id,
        }
        .into());
    }
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

//! Committing a change as one new version, in named steps:
//!
//! 1. [`plan`]: check and work out every key (an override needs a base
//!    value; deleting an App value that Environments override needs a
//!    cascade; a secret that did not change keeps its secret version);
//! 2. [`seal`]: store the new secrets, in the commit's own batch when the
//!    store is the built-in one;
//! 3. [`encode`]: the entries, the indexes, the cascaded tombstones, the
//!    version record and the level's bookkeeping, into that batch;
//! 4. [`write`]: apply the batch, or take back the secrets stored in step 2.
//!
//! Everything that can refuse the change runs in step 1, before anything is
//! stored, so a change is all or nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::backend::{Backend, Batch};
use crate::codec::{self, AppMeta, Entry, State, VersionRecord};
use crate::crypto::{self, DigestKey};
use crate::error::{Error, NotFound};
use crate::id::{EnvId, Key};
use crate::model::{Change, ChangeOp, ResultOf, Timestamp, VersionId, VersionInfo};
use crate::secret::{Secret, SecretRef};

use super::chain::{chain_head, commitment, entries_digest, finish, reference_digest};
use super::stores::{Put, SecretStores, remove_puts};
use super::{Reader, Scope};

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
    /// A template; its syntax was checked by the caller.
    Template(String),
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

impl Planned {
    /// A copy, for planning the change again after another writer came
    /// first.
    pub(crate) fn duplicate(&self) -> Planned {
        let plan = match &self.plan {
            Plan::Delete => Plan::Delete,
            Plan::Plain(v) => Plan::Plain(v.clone()),
            Plan::Template(v) => Plan::Template(v.clone()),
            Plan::Secret(s) => Plan::Secret(s.clone_secret()),
            Plan::CopySecret { store, reference } => Plan::CopySecret {
                store: store.clone(),
                reference: reference.clone(),
            },
            Plan::Reference { store, reference } => Plan::Reference {
                store: store.clone(),
                reference: reference.clone(),
            },
            Plan::Describe => Plan::Describe,
        };
        Planned {
            plan,
            description: self.description.clone(),
        }
    }
}

/// A whole change to commit.
#[derive(Debug)]
pub(crate) struct Commit {
    pub(crate) planned: BTreeMap<Key, Planned>,
    pub(crate) cascade: bool,
    pub(crate) result_of: Option<ResultOf>,
    pub(crate) source: Option<VersionId>,
    pub(crate) comment: String,
    /// Check and work the change out, and return the version it would
    /// make, without storing anything.
    pub(crate) dry_run: bool,
}

impl Commit {
    /// A commit of `planned`, with no cascade, comment or source, whose
    /// result is worked out from its change.
    pub(crate) fn new(planned: BTreeMap<Key, Planned>) -> Self {
        Commit {
            planned,
            cascade: false,
            result_of: None,
            source: None,
            comment: String::new(),
            dry_run: false,
        }
    }
}

/// The change worked out key by key, before anything is stored.
#[derive(Default)]
struct Draft {
    change: Vec<Change>,
    entries: Vec<(Key, Entry)>,
    /// New secrets to store; [`seal`] fills in their entries' states.
    puts: Vec<(Key, Secret)>,
    /// Environment overrides deleted with their App value, each with its
    /// tombstone.
    cascaded: Vec<(EnvId, Key, Entry)>,
}

/// A key's value after the change: its state, a secret still to store, and
/// the value's digest.
struct NewState {
    state: State,
    secret: Option<Secret>,
    digest: [u8; 32],
}

/// Works a change out key by key, checking each (step 1).
struct Planner<'s> {
    ctx: Ctx<'s>,
    reader: Reader<'s>,
    scope: Scope<'s>,
    seq: u64,
    cascade: bool,
    draft: Draft,
}

/// Commits `commit` to `scope` as one new version.
pub(crate) fn commit(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    meta: &AppMeta,
    commit: Commit,
) -> Result<VersionInfo, Error> {
    let seq = meta.next_seq;
    let mut draft = plan(ctx, scope, seq, commit.planned, commit.cascade)?;
    let result_of = commit
        .result_of
        .unwrap_or_else(|| result_of(scope.env.is_some(), &draft.change));
    if commit.dry_run {
        if !draft.puts.is_empty() {
            ctx.secrets.check_can_store()?;
        }
        return Ok(preview(
            ctx,
            scope,
            seq,
            commit.comment,
            result_of,
            commit.source,
            draft.change,
        ));
    }
    let mut batch = Batch::new();
    let stored = seal(ctx, scope, seq, &mut draft, &mut batch)?;
    let record = VersionRecord {
        created_at: ctx.now,
        created_by: ctx.actor.to_owned(),
        comment: commit.comment,
        result_of,
        source: commit.source,
        parent: chain_head(scope, meta),
        entries: encode(scope, seq, &draft, &mut batch),
        change: draft.change,
    };
    let id = finish(&mut batch, scope, meta, seq, &record);
    write(ctx, batch, &stored)?;
    Ok(super::info_from(id, record, None))
}

/// The version a dry run would make: its id is the one it would take if
/// nothing else were written first.
fn preview(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    seq: u64,
    comment: String,
    result_of: ResultOf,
    source: Option<VersionId>,
    change: Vec<Change>,
) -> VersionInfo {
    let id = scope.new_id(seq);
    let record = VersionRecord {
        created_at: ctx.now,
        created_by: ctx.actor.to_owned(),
        comment,
        result_of,
        change,
        source,
        parent: [0; 32],
        entries: [0; 32],
    };
    super::info_from(id, record, None)
}

/// Step 1: checks and works out every key; nothing is stored.
fn plan(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    seq: u64,
    keys: BTreeMap<Key, Planned>,
    cascade: bool,
) -> Result<Draft, Error> {
    let mut planner = Planner {
        ctx,
        reader: Reader {
            backend: ctx.backend,
        },
        scope,
        seq,
        cascade,
        draft: Draft::default(),
    };
    for (key, planned) in keys {
        planner.key(key, planned)?;
    }
    let level = (scope.app, scope.env_id());
    super::templates::check_cycles(planner.reader, level, &planner.draft.entries)?;
    Ok(planner.draft)
}

/// Step 2: stores the new secrets. The built-in store's ciphertexts go into
/// `batch`, so they are written with the version or not at all; secrets put
/// in another store are returned, to be taken back if the write fails.
fn seal(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    seq: u64,
    draft: &mut Draft,
    batch: &mut Batch,
) -> Result<Vec<Put>, Error> {
    let mut stored: Vec<Put> = Vec::new();
    let scope_name = scope.env_id().map_or("_app", EnvId::as_str);
    for (key, secret) in std::mem::take(&mut draft.puts) {
        let name = format!("{}/{}/{}", scope.app, scope_name, key);
        let reference = if let Some(builtin) = &ctx.secrets.builtin_managed {
            builtin.seal_into(batch, &format!("{name}/{seq}"), &secret)?
        } else {
            // One name per key: each new secret of the key is a new
            // version of it in the store.
            let reference = ctx
                .secrets
                .managed
                .put(&name, &secret)
                .inspect_err(|_| remove_puts(&stored))?;
            stored.push(Put {
                store: Arc::clone(&ctx.secrets.managed),
                reference: reference.clone(),
            });
            reference
        };
        if let Some((_, entry)) = draft.entries.iter_mut().find(|(k, _)| *k == key) {
            entry.state = State::Managed {
                store: ctx.secrets.managed.id().to_owned(),
                reference,
            };
        }
    }
    Ok(stored)
}

/// Step 3: encodes the entries, their indexes and the cascaded tombstones
/// into `batch`; returns the digest the version record commits to.
fn encode(scope: Scope<'_>, seq: u64, draft: &Draft, batch: &mut Batch) -> [u8; 32] {
    let env = scope.env_id();
    let prefix = codec::history_prefix(scope.app, env);
    let index = codec::key_index_prefix(scope.app, env);
    // What the version record commits to: every entry written at `seq`.
    let mut committed: Vec<(Vec<u8>, [u8; 32])> = Vec::new();
    for (key, entry) in &draft.entries {
        let entry_key = codec::entry_key(&prefix, key, seq);
        committed.push((entry_key.clone(), commitment(&entry_key, entry)));
        batch.insert(entry_key, entry.encode());
        let mut index_key = index.clone();
        index_key.extend_from_slice(key.as_str().as_bytes());
        batch.insert(index_key, codec::encode_current(seq, entry));
        if let Some(env) = env {
            let index = codec::override_index_key(scope.app, key, env);
            if entry.is_live() {
                batch.insert(index, Vec::new());
            } else {
                batch.remove(index);
            }
        }
    }
    for (cascade_env, key, tombstone) in &draft.cascaded {
        // Not in the App record's commitment: an Environment can be deleted
        // with its entries. `verify` checks each such tombstone against the
        // App record that removed the key.
        let env_prefix = codec::history_prefix(scope.app, Some(cascade_env));
        batch.insert(codec::entry_key(&env_prefix, key, seq), tombstone.encode());
        let mut index_key = codec::key_index_prefix(scope.app, Some(cascade_env));
        index_key.extend_from_slice(key.as_str().as_bytes());
        batch.insert(index_key, codec::encode_current(seq, tombstone));
        batch.remove(codec::override_index_key(scope.app, key, cascade_env));
    }
    entries_digest(committed)
}

/// Step 4: applies the batch; when that fails, takes back the secrets that
/// [`seal`] put in a store outside it.
fn write(ctx: Ctx<'_>, batch: Batch, stored: &[Put]) -> Result<(), Error> {
    ctx.backend.apply(batch).map_err(|e| {
        remove_puts(stored);
        e.into()
    })
}

impl Planner<'_> {
    /// Checks and plans one key.
    fn key(&mut self, key: Key, planned: Planned) -> Result<(), Error> {
        let prefix = codec::history_prefix(self.scope.app, self.scope.env_id());
        let current = self
            .reader
            .entry_at(&prefix, &key, u64::MAX)?
            .map(|(_, e)| e)
            .filter(Entry::is_live);
        self.check_base(&key, &planned.plan)?;
        if let Plan::Delete = planned.plan {
            // Deleting what is not there changes nothing.
            return match current {
                Some(current) => self.delete(key, &current),
                None => Ok(()),
            };
        }
        let new = self.state(&key, current.as_ref(), planned.plan)?;
        self.set(key, current.as_ref(), new, planned.description);
        Ok(())
    }

    /// An Environment override needs a base value at the App.
    fn check_base(&self, key: &Key, plan: &Plan) -> Result<(), Error> {
        if self.scope.env.is_none() || matches!(plan, Plan::Delete) {
            return Ok(());
        }
        let app_prefix = codec::history_prefix(self.scope.app, None);
        let base = self.reader.entry_at(&app_prefix, key, u64::MAX)?;
        if base.is_some_and(|(_, e)| e.is_live()) {
            Ok(())
        } else {
            Err(Error::NoBaseValue { key: key.clone() })
        }
    }

    /// Plans the deletion of `key`; an App value that Environments override
    /// goes only with a cascade, which deletes the overrides too.
    fn delete(&mut self, key: Key, current: &Entry) -> Result<(), Error> {
        let now = self.ctx.now;
        if self.scope.env.is_none() {
            let envs = self.reader.overriding_envs(self.scope.app, &key)?;
            if !envs.is_empty() && !self.cascade {
                return Err(Error::OverriddenInEnvs { key, envs });
            }
            for env in envs {
                let env_prefix = codec::history_prefix(self.scope.app, Some(&env));
                let created_at = self
                    .reader
                    .entry_at(&env_prefix, &key, u64::MAX)?
                    .map_or(now, |(_, e)| e.created_at);
                let tombstone = tombstone(created_at, now, self.seq);
                self.draft.cascaded.push((env, key.clone(), tombstone));
            }
        }
        self.draft.change.push(Change {
            op: ChangeOp::Remove,
            key: key.clone(),
            secret_version: None,
        });
        let tombstone = tombstone(current.created_at, now, self.seq);
        self.draft.entries.push((key, tombstone));
        Ok(())
    }

    /// The value `plan` gives `key`.
    fn state(&self, key: &Key, current: Option<&Entry>, plan: Plan) -> Result<NewState, Error> {
        let ctx = self.ctx;
        Ok(match plan {
            // Never asked: `key` plans deletions with `delete`.
            Plan::Delete => NewState {
                state: State::Deleted,
                secret: None,
                digest: [0; 32],
            },
            Plan::Plain(v) => NewState {
                digest: crypto::digest("plain", &[v.as_bytes()]),
                state: State::Plain(v),
                secret: None,
            },
            Plan::Template(v) => NewState {
                digest: crypto::digest("template", &[v.as_bytes()]),
                state: State::Template(v),
                secret: None,
            },
            Plan::Reference { store, reference } => {
                ctx.secrets
                    .check_reference(self.scope.app, &store, &reference)?;
                NewState {
                    digest: reference_digest(&store, &reference),
                    state: State::Reference { store, reference },
                    secret: None,
                }
            }
            Plan::Secret(secret) => new_secret(ctx, current, secret),
            Plan::CopySecret { store, reference } => {
                let secret = ctx.secrets.read(self.scope.app, &store, &reference, true)?;
                new_secret(ctx, current, secret)
            }
            Plan::Describe => match current {
                Some(c) => NewState {
                    state: c.state.clone(),
                    secret: None,
                    digest: c.value_digest,
                },
                None => {
                    return Err(NotFound::Key {
                        key: key.clone(),
                        env: self.scope.env_id().cloned(),
                    }
                    .into());
                }
            },
        })
    }

    /// Plans `key` to hold `new`: its change, entry and secret version. A
    /// key whose value and description stay as they are is left out.
    fn set(
        &mut self,
        key: Key,
        current: Option<&Entry>,
        new: NewState,
        description: Option<String>,
    ) {
        let (now, seq) = (self.ctx.now, self.seq);
        let description = description
            .or_else(|| current.map(|c| c.description.clone()))
            .unwrap_or_default();
        let value_changed = new.secret.is_some() || current.is_none_or(|c| c.state != new.state);
        if !value_changed && current.is_some_and(|c| c.description == description) {
            return;
        }
        let is_secret = new.secret.is_some()
            || matches!(new.state, State::Managed { .. } | State::Reference { .. });
        let secret_version = is_secret.then(|| match current.and_then(|c| c.secret_version) {
            Some(v) if value_changed => v.saturating_add(1),
            Some(v) => v,
            None => 1,
        });
        self.draft.change.push(Change {
            op: if current.is_some() {
                ChangeOp::Replace
            } else {
                ChangeOp::Add
            },
            key: key.clone(),
            secret_version,
        });
        let introduced = match current {
            Some(c) if !value_changed => c.introduced,
            _ => seq,
        };
        let entry = Entry {
            state: new.state,
            description,
            created_at: current.map_or(now, |c| c.created_at),
            updated_at: now,
            introduced,
            secret_version,
            value_digest: new.digest,
        };
        if let Some(secret) = new.secret {
            self.draft.puts.push((key.clone(), secret));
        }
        self.draft.entries.push((key, entry));
    }
}

/// The entry that records a deletion at `seq`.
fn tombstone(created_at: Timestamp, now: Timestamp, seq: u64) -> Entry {
    Entry {
        state: State::Deleted,
        description: String::new(),
        created_at,
        updated_at: now,
        introduced: seq,
        secret_version: None,
        value_digest: [0; 32],
    }
}

/// The state of a new secret value: the current state when the current
/// value is that same secret, else a secret still to store.
fn new_secret(ctx: Ctx<'_>, current: Option<&Entry>, secret: Secret) -> NewState {
    // The keyed digest tells equal secrets apart without reading the
    // current one back.
    let digest = ctx.digest_key.secret(secret.expose_secret());
    match current {
        Some(c) if matches!(c.state, State::Managed { .. }) && c.value_digest == digest => {
            NewState {
                state: c.state.clone(),
                secret: None,
                digest,
            }
        }
        // The state is filled in once the secret is stored.
        _ => NewState {
            state: State::Purged,
            secret: Some(secret),
            digest,
        },
    }
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

//! [`Store::export_history`]: an export that carries the whole history and
//! the tags, and the import that rebuilds that history, every version with
//! its id, author, time and comment (guide: [Export and import](crate::_documentation::guide#export-and-import)).

use std::collections::BTreeMap;

use super::transfer::{self, Labels, Moved, SecretSlot, Transfer};
use crate::access::Action;
use crate::codec::{Entry, State, TagMove, TagRecord};
use crate::crypto::{self, DerivedKey, MasterKey};
use crate::error::{Error, InvalidInput};
use crate::id::{AppId, EnvId, Key};
use crate::model::{Actor, MAX_NAME_LEN, NewValue, OrgRole, Timestamp, VersionId};
use crate::placeholder::Template;
use crate::secret::{Secret, SecretRef};

use super::{
    ExportDocument, ExportedEntry, ExportedHistory, ExportedName, ExportedTag, ExportedTagMove,
    ExportedValue, ExportedVersion, invalid, new_value,
};
use crate::store::{MAX_COMMENT_LEN, MAX_DESCRIPTION_LEN, Store, authorize, check_len};

/// A sealed secret exported once per stored secret, by its slot.
type SealedCache = BTreeMap<SecretSlot, ExportedValue>;

impl Store {
    /// [`export_app`](Self::export_app), with the whole history and the
    /// tags (guide: [Export and import](crate::_documentation::guide#export-and-import)):
    /// every version of the App and of each Environment with its id,
    /// author, time, comment and change, every value each version wrote
    /// (a purged value as the digest its versions committed to), and every
    /// tag with its moves. Secrets travel as in `export_app`: sealed with
    /// `key`, or as references.
    ///
    /// # Errors
    ///
    /// Those of [`export_app`](Self::export_app).
    pub fn export_history(
        &self,
        actor: &Actor,
        app: &AppId,
        key: Option<&MasterKey>,
    ) -> Result<ExportDocument, Error> {
        self.export(actor, app, key, true)
    }

    /// The history and tags of `app`, as a document carries them.
    pub(super) fn exported_history(
        &self,
        app: &AppId,
        seal: Option<&DerivedKey>,
    ) -> Result<(ExportedHistory, Vec<ExportedTag>), Error> {
        let transfer = self.reader().transfer(app)?;
        let mut cache = SealedCache::new();
        let mut diverged: BTreeMap<EnvId, u64> = BTreeMap::new();
        let mut versions = Vec::new();
        for (seq, v) in transfer.versions {
            let mut level = |env: Option<&EnvId>, entries: BTreeMap<Key, Entry>| {
                entries
                    .into_iter()
                    .map(|(key, entry)| {
                        let exported =
                            self.exported_entry(app, env, &key, entry, seal, &mut cache)?;
                        Ok((key, exported))
                    })
                    .collect::<Result<BTreeMap<_, _>, Error>>()
            };
            let entries = level(v.env.as_ref(), v.entries)?;
            let mut cascaded = BTreeMap::new();
            for (env, tombstones) in v.cascaded {
                let exported = level(Some(&env), tombstones)?;
                cascaded.insert(env, exported);
            }
            let id = match &v.env {
                Some(env) => {
                    diverged.entry(env.clone()).or_insert(seq);
                    VersionId::env(seq)
                }
                None => VersionId::app(seq),
            };
            let r = v.record;
            versions.push(ExportedVersion {
                id,
                env: v.env,
                created_at_ms: r.created_at.as_millis(),
                created_by: r.created_by,
                comment: r.comment,
                result_of: r.result_of,
                change: r.change,
                source_version: r.source,
                entries,
                cascaded,
            });
        }
        let tags = transfer
            .tags
            .into_iter()
            .map(|(env, name, record)| {
                let from = env.as_ref().and_then(|e| diverged.get(e)).copied();
                let moves = record
                    .moves
                    .into_iter()
                    .map(|m| ExportedTagMove {
                        version: match from {
                            Some(d) if m.seq >= d => VersionId::env(m.seq),
                            _ => VersionId::app(m.seq),
                        },
                        at_ms: m.at.as_millis(),
                        by: m.by,
                    })
                    .collect();
                ExportedTag { name, env, moves }
            })
            .collect();
        let history = ExportedHistory {
            created_at_ms: transfer.created_at.as_millis(),
            next_seq: transfer.next_seq,
            envs: transfer
                .envs
                .into_iter()
                .map(|(env, at)| (env, at.as_millis()))
                .collect(),
            versions,
        };
        Ok((history, tags))
    }

    /// One entry as a document's history carries it.
    fn exported_entry(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        entry: Entry,
        seal: Option<&DerivedKey>,
        cache: &mut SealedCache,
    ) -> Result<ExportedEntry, Error> {
        let mut out = ExportedEntry {
            content: ExportedValue {
                description: entry.description.clone(),
                ..ExportedValue::default()
            },
            purged_digest: None,
            created_at_ms: entry.created_at.as_millis(),
            updated_at_ms: entry.updated_at.as_millis(),
            introduced: entry.introduced,
            secret_version: entry.secret_version,
        };
        // A deletion has no content: `exported` gives none.
        match &entry.state {
            State::Purged => out.purged_digest = Some(crypto::to_hex(&entry.value_digest)),
            State::Managed { .. } => {
                let slot = (env.cloned(), key.clone(), entry.introduced);
                let description = out.content.description;
                out.content = if let Some(done) = cache.get(&slot) {
                    done.clone()
                } else {
                    let done = self
                        .exported(app, env, key, entry, seal)?
                        .unwrap_or_default();
                    cache.insert(slot, done.clone());
                    done
                };
                out.content.description = description;
            }
            _ => {
                out.content = self
                    .exported(app, env, key, entry, seal)?
                    .unwrap_or_default();
            }
        }
        Ok(out)
    }

    /// Imports a document with history: rebuilds it in one batch.
    pub(super) fn import_history(
        &self,
        actor: &Actor,
        doc: &ExportDocument,
        history: &ExportedHistory,
        seal: Option<&DerivedKey>,
    ) -> Result<(), Error> {
        authorize(actor, Action::CreateApp, &doc.app)?;
        let (transfer, secrets) = self.transfer_of(doc, history, seal)?;
        check_ends(doc, history)?;
        self.exclusively(|| {
            if self.reader().app_meta(&doc.app)?.is_some() {
                return Err(Error::AlreadyExists {
                    what: format!("app `{}`", doc.app),
                });
            }
            transfer::write_transfer(self.ctx(actor), &doc.app, &transfer, &secrets)
        })
    }

    /// The history of `doc` as the history engine writes it, with the
    /// secrets to store; every value checked as a write would check it.
    fn transfer_of(
        &self,
        doc: &ExportDocument,
        history: &ExportedHistory,
        seal: Option<&DerivedKey>,
    ) -> Result<(Transfer, BTreeMap<SecretSlot, Secret>), Error> {
        if !history.envs.keys().eq(doc.envs.keys()) {
            return Err(invalid(
                "its history's environments are not the ones it lists".into(),
            ));
        }
        let mut secrets = BTreeMap::new();
        let mut versions: BTreeMap<u64, Moved> = BTreeMap::new();
        for v in &history.versions {
            let seq = v.id.seq();
            if versions
                .last_key_value()
                .is_some_and(|(last, _)| *last >= seq)
            {
                return Err(invalid(format!("version {} is out of order", v.id)));
            }
            let moved = self.imported_version(&doc.app, v, seal, &mut secrets)?;
            versions.insert(seq, moved);
        }
        let mut tags = Vec::new();
        for tag in &doc.tags {
            let mut moves = Vec::new();
            for m in &tag.moves {
                Actor::new(m.by.clone(), OrgRole::Member).check_name()?;
                let at = Timestamp::from_millis(m.at_ms);
                let (seq, by) = (m.version.seq(), m.by.clone());
                moves.push(TagMove { seq, at, by });
            }
            tags.push((tag.env.clone(), tag.name.clone(), TagRecord { moves }));
        }
        let envs = history
            .envs
            .iter()
            .map(|(env, ms)| (env.clone(), Timestamp::from_millis(*ms)))
            .collect();
        let (app_labels, env_labels) = labels_of(doc)?;
        let transfer = Transfer {
            created_at: Timestamp::from_millis(history.created_at_ms),
            next_seq: history.next_seq,
            envs,
            versions,
            tags,
            app_labels,
            env_labels,
        };
        Ok((transfer, secrets))
    }

    /// One version of a document's history as the history engine writes
    /// it; its author and comment checked as a write checks them.
    fn imported_version(
        &self,
        app: &AppId,
        v: &ExportedVersion,
        seal: Option<&DerivedKey>,
        secrets: &mut BTreeMap<SecretSlot, Secret>,
    ) -> Result<Moved, Error> {
        let id = v.id;
        if id.is_env() != v.env.is_some() || v.result_of.is_env() != v.env.is_some() {
            return Err(invalid(format!(
                "version {id} is not of the level it names"
            )));
        }
        check_len(
            || format!("the comment of {id}"),
            &v.comment,
            MAX_COMMENT_LEN,
        )?;
        Actor::new(v.created_by.clone(), OrgRole::Member).check_name()?;
        let mut level = |env: Option<&EnvId>, entries: &BTreeMap<Key, ExportedEntry>| {
            entries
                .iter()
                .map(|(key, e)| {
                    let entry = self.imported_entry(app, env, key, e, seal, secrets)?;
                    Ok((key.clone(), entry))
                })
                .collect::<Result<BTreeMap<_, _>, Error>>()
        };
        let entries = level(v.env.as_ref(), &v.entries)?;
        let mut cascaded = BTreeMap::new();
        for (env, tombstones) in &v.cascaded {
            cascaded.insert(env.clone(), level(Some(env), tombstones)?);
        }
        let record = crate::codec::VersionRecord {
            created_at: Timestamp::from_millis(v.created_at_ms),
            created_by: v.created_by.clone(),
            comment: v.comment.clone(),
            result_of: v.result_of,
            change: v.change.clone(),
            source: v.source_version,
            parent: [0; 32],
            entries: [0; 32],
        };
        let env = v.env.clone();
        Ok(Moved {
            env,
            record,
            entries,
            cascaded,
        })
    }

    /// One entry of a document's history as stored; a sealed secret goes
    /// into `secrets`, under its slot.
    fn imported_entry(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        e: &ExportedEntry,
        seal: Option<&DerivedKey>,
        secrets: &mut BTreeMap<SecretSlot, Secret>,
    ) -> Result<Entry, Error> {
        let c = &e.content;
        check_len(
            || format!("the description of `{key}`"),
            &c.description,
            MAX_DESCRIPTION_LEN,
        )?;
        let empty = c.value.is_none() && c.sealed.is_none() && c.secret_ref.is_none();
        let (state, value_digest) = match (&e.purged_digest, empty) {
            (None, true) => (State::Deleted, [0; 32]),
            (Some(hex), true) => {
                let digest = crypto::from_hex(hex)
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        invalid(format!("a purged digest of `{key}` is not 32 bytes of hex"))
                    })?;
                (State::Purged, digest)
            }
            (Some(_), false) => {
                return Err(invalid(format!("`{key}` is purged and has a value")));
            }
            (None, false) => (
                self.imported_state(app, env, key, e, seal, secrets)?,
                [0; 32],
            ),
        };
        Ok(Entry {
            state,
            description: c.description.clone(),
            created_at: Timestamp::from_millis(e.created_at_ms),
            updated_at: Timestamp::from_millis(e.updated_at_ms),
            introduced: e.introduced,
            secret_version: e.secret_version,
            value_digest,
        })
    }

    /// The state of an entry with a value.
    fn imported_state(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        e: &ExportedEntry,
        seal: Option<&DerivedKey>,
        secrets: &mut BTreeMap<SecretSlot, Secret>,
    ) -> Result<State, Error> {
        let value = new_value(app, env, key, &e.content, seal)?;
        let max = self.inner.max_value_len;
        if value.len() > max {
            let (key, len) = (key.clone(), value.len());
            return Err(InvalidInput::ValueTooLong { key, len, max }.into());
        }
        Ok(match value {
            NewValue::Plain(v) => State::Plain(v),
            NewValue::Template(v) => {
                Template::parse(&v)?;
                State::Template(v)
            }
            NewValue::Secret(secret) => {
                let slot = (env.cloned(), key.clone(), e.introduced);
                secrets.entry(slot).or_insert(secret);
                // Where it goes is known once it is stored.
                State::Managed {
                    store: String::new(),
                    reference: SecretRef::new(String::new()),
                }
            }
            NewValue::SecretRef { store, reference } => State::Reference { store, reference },
        })
    }
}

/// The names of a document as the store keeps them, checked as creating
/// the App and its Environments checks them; none for a document without.
fn labels_of(doc: &ExportDocument) -> Result<(Labels, BTreeMap<EnvId, Labels>), Error> {
    let Some(names) = &doc.names else {
        return Ok(Default::default());
    };
    if !names.envs.keys().eq(doc.envs.keys()) {
        return Err(invalid(
            "its names are not of the environments it lists".into(),
        ));
    }
    let labels = |n: &ExportedName, what: &str| -> Result<Labels, Error> {
        check_len(|| format!("{what} name"), &n.name, MAX_NAME_LEN)?;
        check_len(|| format!("{what} type"), &n.env_type, MAX_NAME_LEN)?;
        if !n.created_by.is_empty() {
            Actor::new(n.created_by.clone(), OrgRole::Member).check_name()?;
        }
        Ok(Labels {
            name: n.name.clone(),
            env_type: n.env_type.clone(),
            created_by: n.created_by.clone(),
        })
    };
    if !names.app.env_type.is_empty() {
        return Err(invalid(
            "it gives its app a type: only environments have one".into(),
        ));
    }
    let app = labels(&names.app, "app")?;
    let mut envs = BTreeMap::new();
    for (env, n) in &names.envs {
        envs.insert(env.clone(), labels(n, "environment")?);
    }
    Ok((app, envs))
}

/// Refuses a document whose `values` and `envs` are not where its history
/// ends (sealed secrets are compared by presence: each sealing differs).
fn check_ends(doc: &ExportDocument, history: &ExportedHistory) -> Result<(), Error> {
    type Ends<'d> = BTreeMap<Option<&'d EnvId>, BTreeMap<&'d Key, Option<ExportedValue>>>;
    let mut ends: Ends<'_> = BTreeMap::new();
    let live = |e: &ExportedEntry| {
        let c = &e.content;
        let has = c.value.is_some() || c.sealed.is_some() || c.secret_ref.is_some();
        (has && e.purged_digest.is_none()).then(|| comparable(c))
    };
    for v in &history.versions {
        let level = ends.entry(v.env.as_ref()).or_default();
        for (key, e) in &v.entries {
            level.insert(key, live(e));
        }
        for (env, tombstones) in &v.cascaded {
            let level = ends.entry(Some(env)).or_default();
            for key in tombstones.keys() {
                level.insert(key, None);
            }
        }
    }
    let levels = std::iter::once((None, &doc.values))
        .chain(doc.envs.iter().map(|(env, values)| (Some(env), values)));
    for (env, values) in levels {
        let ended: BTreeMap<&Key, ExportedValue> = ends
            .remove(&env)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let listed: BTreeMap<&Key, ExportedValue> =
            values.iter().map(|(k, v)| (k, comparable(v))).collect();
        if ended != listed {
            return Err(invalid(
                "its values are not the ones its history ends with".into(),
            ));
        }
    }
    Ok(())
}

/// A value as [`check_ends`] compares it.
fn comparable(v: &ExportedValue) -> ExportedValue {
    let mut v = v.clone();
    if v.sealed.is_some() {
        v.sealed = Some(String::new());
    }
    v
}

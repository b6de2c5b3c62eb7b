//! [`Store::export_app`] and [`Store::import_app`]: an App's current
//! values, Environments and overrides as one document, moved to another
//! store (guide: [Export and import](crate::_documentation::guide#export-and-import)).
//!
//! Everything of export and import is here: the document's types
//! (`document`, `document_history`), its digest (`digest`), the Store's
//! calls (this file for the current state, `history` for the whole
//! history) and the one atomic write an import is (`transfer`).

use std::collections::BTreeMap;

use crate::access::{self, Action};
use crate::codec::{Entry, State};
use crate::crypto::{self, DerivedKey, MasterKey};
use crate::error::{Error, InvalidInput};
use crate::id::{AppId, EnvId, Key};
use crate::model::{Actor, DEFAULT_ENV_TYPE, NewValue};
use crate::secret::{Secret, SecretRef};

use super::Store;

mod digest;
mod document;
mod document_history;
mod history;
mod transfer;

use digest::document_digest;
pub use document::{
    EXPORT_FORMAT, ExportDocument, ExportSecrets, ExportedName, ExportedNames, ExportedRef,
    ExportedValue,
};
pub use document_history::{
    ExportedEntry, ExportedHistory, ExportedTag, ExportedTagMove, ExportedVersion,
};

impl Store {
    /// The App's current values, Environments and overrides, with
    /// descriptions, as one document (guide: [Export and import](crate::_documentation::guide#export-and-import)).
    ///
    /// With `key`, every secret the library stored is sealed with it
    /// (XChaCha20-Poly1305, bound to its place in the document) and the
    /// document is authenticated with it; this needs the right to resolve
    /// secrets. Without, such secrets cannot leave (they are readable only
    /// in this store) and the export is refused. References to secrets
    /// that belong to their owner stay references either way. No secret is
    /// ever in the document as plaintext.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App (without the right to
    /// resolve secrets, for a sealed export); [`NotFound`](crate::error::NotFound)
    /// for the App; [`InvalidInput::Export`] for a library-stored secret
    /// without a key; [`Error::SecretStore`] when a secret cannot be read.
    pub fn export_app(
        &self,
        actor: &Actor,
        app: &AppId,
        key: Option<&MasterKey>,
    ) -> Result<ExportDocument, Error> {
        self.export(actor, app, key, false)
    }

    /// An export, with the whole history and the tags when `history`.
    pub(super) fn export(
        &self,
        actor: &Actor,
        app: &AppId,
        key: Option<&MasterKey>,
        history: bool,
    ) -> Result<ExportDocument, Error> {
        let (meta, _) = self.open_scope(actor, Action::ReadValues, app, None)?;
        let keys = key.map(MasterKey::export_keys);
        if keys.is_some() {
            access::check(actor, Action::ResolveSecrets, app)?;
        }
        let reader = self.reader();
        let seal = keys.as_ref().map(|(seal, _)| seal);
        let level = |env: Option<&EnvId>| -> Result<BTreeMap<Key, ExportedValue>, Error> {
            reader
                .entries_at(app, env, u64::MAX)?
                .into_iter()
                .filter_map(|(k, (_, entry))| {
                    self.exported(app, env, &k, entry, seal)
                        .transpose()
                        .map(|v| v.map(|v| (k, v)))
                })
                .collect()
        };
        let values = level(None)?;
        let mut envs = BTreeMap::new();
        let mut names = ExportedNames {
            app: ExportedName {
                name: label(&meta.name, app.as_str()),
                env_type: String::new(),
                created_by: meta.created_by,
            },
            envs: BTreeMap::new(),
        };
        for (env, env_meta) in reader.envs(app)? {
            let overrides = level(Some(&env))?;
            let name = ExportedName {
                name: label(&env_meta.name, env.as_str()),
                env_type: label(&env_meta.env_type, DEFAULT_ENV_TYPE),
                created_by: env_meta.created_by,
            };
            names.envs.insert(env.clone(), name);
            envs.insert(env, overrides);
        }
        let (history, tags) = if history {
            let (history, tags) = self.exported_history(app, seal)?;
            (Some(history), tags)
        } else {
            (None, Vec::new())
        };
        let mut doc = ExportDocument {
            format: EXPORT_FORMAT,
            app: app.clone(),
            secrets: if key.is_some() {
                ExportSecrets::Sealed
            } else {
                ExportSecrets::References
            },
            values,
            envs,
            names: Some(names),
            tags,
            history,
            digest: String::new(),
        };
        doc.digest = crypto::to_hex(&document_digest(&doc, keys.as_ref().map(|(_, d)| d)));
        Ok(doc)
    }

    /// Creates the App of `doc` in this store with its values,
    /// Environments and overrides: all of it, or nothing (guide: [Export and import](crate::_documentation::guide#export-and-import)).
    /// `key` is the key the document was exported with, when its secrets
    /// are sealed; they are stored in this store's secret store.
    ///
    /// The document is checked whole before anything is written: its
    /// format, its digest (a changed, cut or forged document, or a wrong
    /// key, is refused), every value, as a write would check it. Then all
    /// of it is written in one atomic step, on the condition that the App
    /// still does not exist: a failure (a value this store refuses, a
    /// secret store that fails, a crash) leaves no App, and no other
    /// process ever sees part of one. A document without history makes a
    /// version of the App's values and one of each Environment's overrides,
    /// by `actor`, with the comment `imported`.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::Export`] saying what is wrong with the document;
    /// [`Error::AlreadyExists`] when the App exists here;
    /// [`Error::Forbidden`] without the right to create Apps; the errors
    /// of [`apply`](Self::apply) for a value this store refuses.
    pub fn import_app(
        &self,
        actor: &Actor,
        doc: &ExportDocument,
        key: Option<&MasterKey>,
    ) -> Result<(), Error> {
        if doc.format != EXPORT_FORMAT {
            return Err(invalid(format!(
                "format {} is not the format this version reads ({EXPORT_FORMAT})",
                doc.format
            )));
        }
        let keys = match (doc.secrets, key) {
            (ExportSecrets::Sealed, None) => {
                return Err(invalid(
                    "its secrets are sealed: give the key it was exported with".into(),
                ));
            }
            (ExportSecrets::Sealed, Some(key)) => Some(key.export_keys()),
            (_, _) => None,
        };
        let expected = document_digest(doc, keys.as_ref().map(|(_, d)| d));
        let given = crypto::from_hex(&doc.digest).unwrap_or_default();
        if !crypto::same_check(&expected, &given) {
            return Err(invalid(
                "its digest does not match: it was changed or cut, or the key is not the one it was exported with".into(),
            ));
        }
        let seal = keys.as_ref().map(|(seal, _)| seal);
        if let Some(history) = &doc.history {
            return self.import_history(actor, doc, history, seal);
        }
        if !doc.tags.is_empty() {
            return Err(invalid(
                "it has tags but no history: tags name versions, so they travel with the history"
                    .into(),
            ));
        }
        // Every override needs its App value, as a write asks.
        let mut bases = doc.envs.values().flat_map(BTreeMap::keys);
        if let Some(key) = bases.find(|k| !doc.values.contains_key(*k)) {
            return Err(Error::NoBaseValue { key: key.clone() });
        }
        let now = self.inner.clock.now().as_millis();
        let history = ExportedHistory::of_current(doc, actor.name(), now);
        self.import_history(actor, doc, &history, seal)
    }

    /// An entry as an export shows it; `None` for one with no content.
    pub(super) fn exported(
        &self,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        entry: Entry,
        seal: Option<&DerivedKey>,
    ) -> Result<Option<ExportedValue>, Error> {
        let mut out = ExportedValue {
            description: entry.description,
            ..ExportedValue::default()
        };
        match entry.state {
            State::Deleted | State::Purged => return Ok(None),
            State::Plain(v) => out.value = Some(v),
            State::Template(v) => {
                out.value = Some(v);
                out.template = true;
            }
            State::Reference { store, reference } => {
                out.secret_ref = Some(exported_ref(store, reference));
            }
            State::Managed { store, reference } => {
                let Some(seal) = seal else {
                    return Err(invalid(format!(
                        "`{key}` is a secret the library stored, which only this store can read: export with a key to seal it"
                    )));
                };
                let secret = self.inner.secrets.read(app, &store, &reference, true)?;
                let sealed = seal
                    .seal(
                        place(app, env, key).as_bytes(),
                        secret.expose_secret().as_bytes(),
                    )
                    .map_err(|_| invalid(format!("`{key}` could not be sealed")))?;
                out.sealed = Some(crypto::to_hex(&sealed));
            }
        }
        Ok(Some(out))
    }
}

fn exported_ref(store: String, reference: SecretRef) -> ExportedRef {
    ExportedRef {
        store,
        reference: reference.reference,
        version: reference.version,
    }
}

/// A stored name or type, or what an empty one stands for.
fn label(stored: &str, default: &str) -> String {
    if stored.is_empty() { default } else { stored }.to_owned()
}

pub(super) fn invalid(reason: String) -> Error {
    InvalidInput::Export { reason }.into()
}

/// Where a value is, as a sealed secret's associated data binds it.
pub(super) fn place(app: &AppId, env: Option<&EnvId>, key: &Key) -> String {
    format!("{app}/{}/{key}", env.map_or("", EnvId::as_str))
}

/// The value an exported value of `key` at a level stands for: a sealed
/// secret is opened with `seal`.
pub(super) fn new_value(
    app: &AppId,
    env: Option<&EnvId>,
    key: &Key,
    v: &ExportedValue,
    seal: Option<&DerivedKey>,
) -> Result<NewValue, Error> {
    Ok(match (&v.value, &v.sealed, &v.secret_ref) {
        (Some(text), None, None) if v.template => NewValue::template(text.clone()),
        (Some(text), None, None) => NewValue::plain(text.clone()),
        (None, Some(hex), None) => {
            let opened = crypto::from_hex(hex)
                .zip(seal)
                .and_then(|(bytes, seal)| seal.open(place(app, env, key).as_bytes(), &bytes).ok())
                .and_then(|plain| String::from_utf8(plain.to_vec()).ok())
                .ok_or_else(|| invalid(format!("the sealed secret of `{key}` does not open")))?;
            NewValue::secret(Secret::new(opened))
        }
        (None, None, Some(r)) => {
            let mut reference = SecretRef::new(r.reference.clone());
            reference.version.clone_from(&r.version);
            NewValue::secret_ref(r.store.clone(), reference)
        }
        _ => {
            return Err(invalid(format!(
                "`{key}` needs exactly one of value, sealed and secret_ref"
            )));
        }
    })
}

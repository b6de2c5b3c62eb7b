//! Reading values and history: [`Store::get`], [`Store::list`],
//! [`Store::version`] and [`Store::history`]. Reads take no lock: a version,
//! once written, never changes (except that a purge drops content). No read
//! returns a secret's value.

use crate::access::Action;
use crate::codec::{self, Entry, State};
use crate::error::{Error, NotFound};
use crate::history::Scope;
use crate::id::{AppId, EnvId, Key};
use crate::model::{
    Actor, Content, SecretInfo, SnapshotValue, Source, ValueView, Version, VersionInfo,
    VersionSelector,
};

use super::{DEFAULT_HISTORY_LIMIT, HistoryOptions, Store};

impl Store {
    /// The effective value of `key` at a level: in Environment `env`, its
    /// override if any, else the App value; with `env` `None`, the App
    /// value. Never a secret's content.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound`] for the
    /// App, Environment or key.
    pub fn get(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
    ) -> Result<ValueView, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let reader = self.reader();
        if let Some(env) = env
            && env_meta.is_some_and(|m| m.diverged_at.is_some())
            && let Some((_, e)) =
                reader.entry_at(&codec::history_prefix(app, Some(env)), key, u64::MAX)?
            && e.is_live()
        {
            return view(key.clone(), Source::Env, e).ok_or_else(|| unknown_key(key, Some(env)));
        }
        // A deleted (or purged) App value has no view: unknown.
        match reader.entry_at(&codec::history_prefix(app, None), key, u64::MAX)? {
            Some((_, e)) => view(key.clone(), Source::App, e).ok_or_else(|| unknown_key(key, env)),
            None => Err(unknown_key(key, env)),
        }
    }

    /// Every effective value: the App's, with `env`'s overrides on top.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn list(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
    ) -> Result<Vec<ValueView>, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        let values = self.reader().snapshot(scope, u64::MAX)?;
        Ok(values
            .filter_map(|(k, (is_override, _, e))| {
                view(
                    k,
                    if is_override {
                        Source::Env
                    } else {
                        Source::App
                    },
                    e,
                )
            })
            .collect())
    }

    /// A version with every value as it stood (a snapshot, guide: [Value set versions](crate::_documentation::guide#value-set-versions)).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), and [`NotFound::Version`].
    // The selector by value, so `VersionSelector::Latest` reads inline.
    #[allow(clippy::needless_pass_by_value)]
    pub fn version(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        version: VersionSelector,
    ) -> Result<Version, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let seq = reader.resolve(scope, &version)?;
        let info = reader.info(scope, seq)?;
        let values = reader
            .snapshot(scope, seq)?
            .map(|(k, (is_override, _, e))| (k.clone(), snapshot_value(k, is_override, e)))
            .collect();
        Ok(Version { info, values })
    }

    /// The history, newest first (guide: [Listing history](crate::_documentation::guide#listing-history)).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get); [`NotFound::Version`] for a `before` not in
    /// this history.
    pub fn history(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        options: HistoryOptions,
    ) -> Result<Vec<VersionInfo>, Error> {
        let HistoryOptions {
            key_changed,
            limit,
            before,
        } = options;
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let before = match before {
            Some(id) => reader.resolve(scope, &VersionSelector::Id(id))?,
            None => u64::MAX,
        };
        let limit = limit.unwrap_or(DEFAULT_HISTORY_LIMIT);
        match &key_changed {
            Some(key) => reader.key_changed(scope, key, before, limit),
            None => reader
                .seqs(scope, before, limit)?
                .into_iter()
                .map(|seq| reader.info(scope, seq))
                .collect(),
        }
    }
}

fn unknown_key(key: &Key, env: Option<&EnvId>) -> Error {
    NotFound::Key {
        key: key.clone(),
        env: env.cloned(),
    }
    .into()
}

/// A key of a snapshot: its value, or that it was purged. `is_override`
/// says whether the entry is an Environment's.
pub(super) fn snapshot_value(key: Key, is_override: bool, entry: Entry) -> SnapshotValue {
    let source = if is_override {
        Source::Env
    } else {
        Source::App
    };
    match view_or_key(key, source, entry) {
        Ok(v) => SnapshotValue::Value(v),
        Err(key) => SnapshotValue::Purged { key, source },
    }
}

/// A read view of an entry; `None` when its content was purged (or it is a
/// deletion).
pub(super) fn view(key: Key, source: Source, entry: Entry) -> Option<ValueView> {
    view_or_key(key, source, entry).ok()
}

/// [`view`], giving the key back when there is nothing to view, so a
/// caller that reports the key then need not have copied it.
fn view_or_key(key: Key, source: Source, entry: Entry) -> Result<ValueView, Key> {
    let template = matches!(entry.state, State::Template(_));
    let content = match entry.state {
        State::Deleted | State::Purged => return Err(key),
        State::Plain(v) | State::Template(v) => Content::Plain(v),
        State::Managed { store, reference } => Content::Secret(SecretInfo {
            secret_version: entry.secret_version.unwrap_or(1),
            secret_store_id: store,
            secret_ref: reference,
            managed: true,
        }),
        State::Reference { store, reference } => Content::Secret(SecretInfo {
            secret_version: entry.secret_version.unwrap_or(1),
            secret_store_id: store,
            secret_ref: reference,
            managed: false,
        }),
    };
    Ok(ValueView {
        key,
        description: entry.description,
        source,
        created_at: entry.created_at,
        updated_at: entry.updated_at,
        content,
        template,
    })
}

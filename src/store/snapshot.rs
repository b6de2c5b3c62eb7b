//! [`Snapshot`]: one Environment's values at one version, for resolving a
//! deployment's templates. Secrets are read from their stores only when a
//! placeholder needs them (a workload's all at once, before it renders),
//! and only for callers allowed to deploy.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::access::{self, Action};
use crate::codec::{Entry, State};
use crate::error::Error;
use crate::history::{Reader, Scope};
use crate::id::{AppId, EnvId, Key};
use crate::model::{Actor, SecretInfo, VersionId, VersionSelector};
use crate::placeholder::Template;
use crate::resolve::{Context, LookupError, Resolver, Value, Values, Workload};
use crate::secret::{Secret, SecretRef, SecretStoreError};

use super::{Inner, Store};

/// The values of one Environment at one version, for resolving templates
/// (guide: [What can be resolved](crate::_documentation::guide#what-can-be-resolved)). Implements [`Values`]; secrets are read from their stores only
/// when a placeholder needs them.
pub struct Snapshot {
    store: Arc<Inner>,
    app: AppId,
    version: VersionId,
    values: BTreeMap<Key, Entry>,
    secrets_allowed: bool,
    redacted: bool,
    context: Context,
    /// Secrets read ahead by [`Values::prefetch`], by key.
    prefetched: Mutex<BTreeMap<Key, Result<Secret, SecretStoreError>>>,
}

impl Store {
    /// The values of `env` at `version`, for resolving templates of a
    /// deployment (guide: [What can be resolved](crate::_documentation::guide#what-can-be-resolved)). A caller who may not resolve secrets (an app
    /// Viewer) gets a snapshot in which every secret is refused.
    ///
    /// ```
    /// use valueset::{Actor, AppId, EnvId, Key, Secret, Store};
    /// use valueset::model::{NewValue, VersionSelector};
    /// use valueset::store::SetOptions;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    /// store.create_app(&admin, &app)?;
    /// store.create_env(&admin, &app, &prod)?;
    /// store.set(&admin, &app, None, &Key::new("PW")?, NewValue::secret(Secret::new("s3cr3t".into())), SetOptions::default())?;
    /// let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    /// let url = snapshot.resolver().resolve_str("pg://app:${values.PW}@${context.env.id}")?;
    /// assert_eq!(url.as_secret().map(Secret::expose_secret), Some("pg://app:s3cr3t@prod"));
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`version`](Self::version).
    // The selector by value, so `VersionSelector::Latest` reads inline.
    #[allow(clippy::needless_pass_by_value)]
    pub fn snapshot(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
        version: VersionSelector,
    ) -> Result<Snapshot, Error> {
        self.snapshot_with(actor, app, env, &version, |reader, scope, seq| {
            Ok(reader
                .snapshot(scope, seq)?
                .map(|(k, (_, _, e))| (k, e))
                .collect())
        })
    }

    /// What [`snapshot`](Self::snapshot) gives for resolving `workload`,
    /// reading only the values its templates can reach: the keys they name,
    /// and in turn the keys the template values among those name. A
    /// deployment of 50 variables from an Environment of 1,000 values reads
    /// its 50, not the 1,000 (one seek per key; on PostgreSQL one query per
    /// level of nesting). Resolving `workload` with it gives what resolving
    /// it with the whole snapshot gives, errors included;
    /// [`Snapshot::secrets`] lists the secrets among the values read.
    ///
    /// ```
    /// use valueset::{Actor, AppId, EnvId, Key, Store};
    /// use valueset::model::{NewValue, VersionSelector};
    /// use valueset::resolve::Workload;
    /// use valueset::store::SetOptions;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    /// store.create_app(&admin, &app)?;
    /// store.create_env(&admin, &app, &prod)?;
    /// for (key, value) in [("HOST", NewValue::plain("db")), ("URL", NewValue::template("pg://${values.HOST}")), ("OTHER", NewValue::plain("x"))] {
    ///     store.set(&admin, &app, None, &Key::new(key)?, value, SetOptions::default())?;
    /// }
    /// let mut workload = Workload { id: "api".into(), ..Workload::default() };
    /// workload.variables.insert("DB".into(), "${values.URL}".into());
    /// let snapshot = store.snapshot_for(&admin, &app, &prod, VersionSelector::Latest, &workload)?;
    /// let resolved = snapshot.resolver().resolve_workload(&workload)?;
    /// assert_eq!(resolved.variables["DB"].as_plain(), Some("pg://db"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`snapshot`](Self::snapshot).
    #[allow(clippy::needless_pass_by_value)] // as `snapshot`
    pub fn snapshot_for(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
        version: VersionSelector,
        workload: &Workload,
    ) -> Result<Snapshot, Error> {
        let named = workload.value_keys();
        self.snapshot_with(actor, app, env, &version, |reader, scope, seq| {
            let mut todo: Vec<Key> = named.iter().filter_map(|k| Key::new(k).ok()).collect();
            let mut asked = BTreeSet::new();
            let mut values = BTreeMap::new();
            loop {
                todo.retain(|k| asked.insert(k.clone()));
                if todo.is_empty() {
                    return Ok(values);
                }
                let found = reader.snapshot_of(scope, seq, &todo)?;
                todo = found.values().flat_map(named_by).collect();
                values.extend(found);
            }
        })
    }

    /// A snapshot of `env` at `version`, holding the entries `read` gives
    /// for the level and the version's sequence number.
    fn snapshot_with(
        &self,
        actor: &Actor,
        app: &AppId,
        env: &EnvId,
        version: &VersionSelector,
        read: impl FnOnce(&Reader<'_>, Scope<'_>, u64) -> Result<BTreeMap<Key, Entry>, Error>,
    ) -> Result<Snapshot, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, Some(env))?;
        let scope = Scope {
            app,
            env: Some(env).zip(env_meta.as_ref()),
        };
        let reader = self.reader();
        let seq = reader.resolve(scope, version)?;
        let values = read(&reader, scope, seq)?;
        Ok(Snapshot {
            store: Arc::clone(&self.inner),
            app: app.clone(),
            version: scope.id_for(seq),
            values,
            secrets_allowed: access::allows(actor, Action::ResolveSecrets, app),
            redacted: false,
            context: Context {
                app: Some(app.to_string()),
                env: Some(env.to_string()),
                ..Context::default()
            },
            prefetched: Mutex::new(BTreeMap::new()),
        })
    }
}

/// The keys a template value names with `${values.KEY}` (none for any
/// other value, or a template that does not parse).
fn named_by(entry: &Entry) -> Vec<Key> {
    match &entry.state {
        State::Template(text) => Template::parse(text).map_or_else(
            |_| Vec::new(),
            |t| {
                t.value_keys()
                    .filter_map(|k| Key::new(k.as_ref()).ok())
                    .collect()
            },
        ),
        _ => Vec::new(),
    }
}

impl Snapshot {
    /// The same values with secrets withheld: no secret is read from its
    /// store, each resolves to an empty secret instead. A result a secret
    /// went into is still a [`Resolved::Secret`](crate::resolve::Resolved)
    /// (the taint is kept) but holds no secret's content, so what a
    /// deployment would get can be shown, secrets as such, to anyone who
    /// may read the values, viewers included. Never deploy what it
    /// resolves.
    ///
    /// ```
    /// use valueset::{Actor, AppId, EnvId, Key, Secret, Store};
    /// use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
    /// use valueset::store::SetOptions;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let (app, prod) = (AppId::new("shop")?, EnvId::new("prod")?);
    /// store.create_app(&admin, &app)?;
    /// store.create_env(&admin, &app, &prod)?;
    /// store.set(&admin, &app, None, &Key::new("PW")?, NewValue::secret(Secret::new("s3cr3t".into())), SetOptions::default())?;
    /// let viewer = Actor::new("val", OrgRole::Member).with_app_role(app.clone(), AppRole::Viewer);
    /// let snapshot = store.snapshot(&viewer, &app, &prod, VersionSelector::Latest)?.redacted();
    /// let url = snapshot.resolver().resolve_str("pg://app:${values.PW}@db")?;
    /// assert_eq!(url.as_secret().map(Secret::expose_secret), Some("pg://app:@db"));
    /// # Ok::<(), valueset::Error>(())
    /// ```
    #[must_use]
    pub fn redacted(mut self) -> Snapshot {
        self.redacted = true;
        self
    }

    /// The version the values are from.
    pub fn version(&self) -> VersionId {
        self.version
    }

    /// Each secret among these values, by key: its store, its reference and
    /// its version, as a read shows them (never its content), so a
    /// deployment's answer can say which secrets went into it without
    /// reading the version a second time.
    pub fn secrets(&self) -> impl Iterator<Item = (&Key, SecretInfo)> + '_ {
        self.values.iter().filter_map(|(key, e)| {
            let (store, reference, managed) = match &e.state {
                State::Managed { store, reference } => (store, reference, true),
                State::Reference { store, reference } => (store, reference, false),
                _ => return None,
            };
            let info = SecretInfo {
                secret_version: e.secret_version.unwrap_or(1),
                secret_store_id: store.clone(),
                secret_ref: reference.clone(),
                managed,
            };
            Some((key, info))
        })
    }

    /// A resolver over these values, with `context.app.id` and
    /// `context.env.id` set, and the store's template depth limit.
    pub fn resolver(&self) -> Resolver<'_> {
        // The builder checked the limit.
        Resolver::new(self)
            .with_context(self.context.clone())
            .with_checked_template_depth(self.store.template_depth)
    }
}

/// A secret to read ahead: its key, its reference, and whether the library
/// stored it.
type Wanted<'k> = (&'k Key, (SecretRef, bool));

impl Snapshot {
    /// The secrets `keys` need, with those the templates among them name in
    /// turn: each key whose value is a secret, with its store, reference
    /// and whether the library stored it.
    fn secrets_needed(&self, keys: &[&str]) -> Vec<(&Key, &str, &SecretRef, bool)> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let mut needed = Vec::new();
        while let Some(key) = todo.pop() {
            let Some((key, entry)) = self.values.get_key_value(key.as_str()) else {
                continue;
            };
            if !seen.insert(key.as_str()) {
                continue;
            }
            match &entry.state {
                State::Template(text) => {
                    if let Ok(t) = Template::parse(text) {
                        todo.extend(t.value_keys().map(Cow::into_owned));
                    }
                }
                State::Managed { store, reference } => {
                    needed.push((key, store.as_str(), reference, true));
                }
                State::Reference { store, reference } => {
                    needed.push((key, store.as_str(), reference, false));
                }
                State::Plain(_) | State::Deleted | State::Purged => {}
            }
        }
        needed
    }
}

impl Values for Snapshot {
    /// Reads every secret the keys need, one request per store (as each
    /// store can: Vault's concurrently), before the workload renders.
    fn prefetch(&self, keys: &[&str]) {
        if self.redacted || !self.secrets_allowed {
            return;
        }
        let mut by_store: BTreeMap<&str, Vec<Wanted<'_>>> = BTreeMap::new();
        for (key, store, reference, managed) in self.secrets_needed(keys) {
            by_store
                .entry(store)
                .or_default()
                .push((key, (reference.clone(), managed)));
        }
        let mut prefetched = self
            .prefetched
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (store, wanted) in by_store {
            let (keys, refs): (Vec<&Key>, Vec<(SecretRef, bool)>) = wanted.into_iter().unzip();
            let read = self.store.secrets.read_many(&self.app, store, &refs);
            for (key, secret) in keys.into_iter().zip(read) {
                prefetched.insert(key.clone(), secret);
            }
        }
    }

    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        let Some(entry) = self.values.get(key) else {
            return Ok(None);
        };
        match &entry.state {
            State::Deleted => Ok(None),
            State::Plain(v) => Ok(Some(Value::Plain(std::borrow::Cow::Borrowed(v)))),
            State::Template(v) => Ok(Some(Value::Template(std::borrow::Cow::Borrowed(v)))),
            State::Purged => Err(LookupError::Purged),
            State::Managed { .. } | State::Reference { .. } if self.redacted => {
                Ok(Some(Value::OwnedSecret(Secret::new(String::new()))))
            }
            State::Managed { store, reference } | State::Reference { store, reference } => {
                if !self.secrets_allowed {
                    return Err(LookupError::Forbidden);
                }
                let prefetched = self
                    .prefetched
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(read) = prefetched.get(key) {
                    return match read {
                        Ok(secret) => Ok(Some(Value::OwnedSecret(secret.clone_secret()))),
                        Err(e) => Err(e.clone().into()),
                    };
                }
                drop(prefetched);
                let managed = matches!(entry.state, State::Managed { .. });
                let secret = self
                    .store
                    .secrets
                    .read(&self.app, store, reference, managed)?;
                Ok(Some(Value::OwnedSecret(secret)))
            }
        }
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

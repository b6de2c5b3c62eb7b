//! A reference model of the history engine, and a runner that applies the
//! same operations to it and to a [`Store`], comparing every observable after
//! each one: the result (its version id, or its error code), every version
//! of every history with every value, and the current values.
//!
//! The model is meant to be obviously right, not fast: it keeps every
//! version's whole set of values and works purges out by walking versions,
//! as docs/guide.md #purge words it. It uses only `std` and `valueset`'s public API, so
//! the `history_ops` fuzz target includes this file too.

use std::collections::{BTreeMap, BTreeSet};

use valueset::model::{NewValue, VersionSelector};
use valueset::store::{
    ChangeSet, DeleteOptions, DiffSide, HistoryOptions, RestoreKeys, SetOptions, WriteOptions,
};
use valueset::{Actor, AppId, EnvId, Key, Store, VersionId};

pub(crate) const KEYS: [&str; 3] = ["A", "B", "C"];
/// Plain values, and templates (set as templates: guide #values-that-use-values).
pub(crate) const VALUES: [&str; 6] = [
    "x",
    "y",
    "z",
    "${values.A}",
    "<${values.B}>",
    "[${values.C}${values.A}]",
];
pub(crate) const ENVS: [&str; 2] = ["e1", "e2"];

/// One operation; small numbers index `KEYS`, `VALUES`, `ENVS` and a
/// history (modulo its length).
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Set {
        env: Option<u8>,
        key: u8,
        value: u8,
    },
    Delete {
        env: Option<u8>,
        key: u8,
        cascade: bool,
    },
    /// App level: `Some(value)` sets, `None` deletes.
    Batch {
        changes: Vec<(u8, Option<u8>)>,
    },
    Restore {
        env: Option<u8>,
        version: u8,
        keys: Option<Vec<u8>>,
    },
    Purge {
        env: Option<u8>,
        version: u8,
        key: u8,
    },
}

type Vals = BTreeMap<&'static str, Cell>;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Cell {
    value: &'static str,
    purged: bool,
}

#[derive(Clone, Debug)]
struct AppVersion {
    seq: u64,
    vals: Vals,
    changed: BTreeSet<&'static str>,
}

#[derive(Clone, Debug, Default)]
struct EnvModel {
    diverged: Option<u64>,
    /// The Environment's own versions.
    own: Vec<u64>,
    /// Its overrides after every change that could touch them (own versions
    /// and cascades), with the keys that change changed.
    overrides: Vec<(u64, Vals, BTreeSet<&'static str>)>,
}

#[derive(Debug, Default)]
struct Model {
    next: u64,
    app: Vec<AppVersion>,
    envs: [EnvModel; 2],
}

type Outcome = Result<String, &'static str>;

fn k(i: u8) -> &'static str {
    KEYS[usize::from(i) % KEYS.len()]
}

fn v(i: u8) -> &'static str {
    VALUES[usize::from(i) % VALUES.len()]
}

fn e(i: u8) -> usize {
    usize::from(i) % ENVS.len()
}

/// Whether `value` is one of the templates in `VALUES`.
pub(crate) fn is_template(value: &str) -> bool {
    value.contains("${")
}

/// The keys a value names, in order (none for a plain value).
fn names(value: &str) -> Vec<&'static str> {
    let mut found: Vec<(usize, &'static str)> = KEYS
        .iter()
        .flat_map(|key| {
            let placeholder = format!("${{values.{key}}}");
            value
                .match_indices(&placeholder)
                .map(move |(at, _)| (at, *key))
                .collect::<Vec<_>>()
        })
        .collect();
    found.sort_unstable();
    found.into_iter().map(|(_, key)| key).collect()
}

/// Whether the templates of one level use each other in a cycle.
fn has_cycle(vals: &Vals) -> bool {
    fn visit(vals: &Vals, key: &'static str, chain: &mut Vec<&'static str>) -> bool {
        if chain.contains(&key) {
            return true;
        }
        let Some(cell) = vals.get(key) else {
            return false;
        };
        chain.push(key);
        let found = names(cell.value)
            .into_iter()
            .any(|next| visit(vals, next, chain));
        chain.pop();
        found
    }
    KEYS.iter().any(|key| visit(vals, key, &mut Vec::new()))
}

/// What `${values.KEY}` resolves to in `vals`: the text, or whether it fails.
fn resolve(vals: &Vals, key: &'static str, chain: &mut Vec<&'static str>) -> Result<String, ()> {
    let cell = vals.get(key).ok_or(())?;
    if cell.purged || chain.contains(&key) {
        return Err(());
    }
    if !is_template(cell.value) {
        return Ok(cell.value.to_owned());
    }
    chain.push(key);
    let mut out = cell.value.to_owned();
    let mut failed = false;
    for name in names(cell.value) {
        match resolve(vals, name, chain) {
            Ok(text) => out = out.replacen(&format!("${{values.{name}}}"), &text, 1),
            Err(()) => failed = true,
        }
    }
    chain.pop();
    if failed { Err(()) } else { Ok(out) }
}

fn plain(vals: &Vals) -> BTreeMap<&'static str, Option<&'static str>> {
    vals.iter()
        .map(|(k, c)| (*k, (!c.purged).then_some(c.value)))
        .collect()
}

impl Model {
    fn app_at(&self, seq: u64) -> Vals {
        self.app
            .iter()
            .rev()
            .find(|v| v.seq <= seq)
            .map(|v| v.vals.clone())
            .unwrap_or_default()
    }

    fn app_now(&self) -> Vals {
        self.app_at(u64::MAX)
    }

    fn overrides_at(&self, env: usize, seq: u64) -> Vals {
        self.envs[env]
            .overrides
            .iter()
            .rev()
            .find(|(s, _, _)| *s <= seq)
            .map(|(_, o, _)| o.clone())
            .unwrap_or_default()
    }

    fn env_seqs(&self, env: usize) -> Vec<u64> {
        let mut seqs: Vec<u64> = self
            .app
            .iter()
            .map(|v| v.seq)
            .chain(self.envs[env].own.iter().copied())
            .collect();
        seqs.sort_unstable();
        seqs
    }

    fn id(&self, env: Option<usize>, seq: u64) -> String {
        match env.and_then(|e| self.envs[e].diverged) {
            Some(d) if seq >= d => format!("e{seq}"),
            _ => format!("a{seq}"),
        }
    }

    fn seqs(&self, env: Option<usize>) -> Vec<u64> {
        match env {
            None => self.app.iter().map(|v| v.seq).collect(),
            Some(e) => self.env_seqs(e),
        }
    }

    fn snapshot(&self, env: Option<usize>, seq: u64) -> Vals {
        let mut vals = self.app_at(seq);
        if let Some(e) = env {
            vals.extend(self.overrides_at(e, seq));
        }
        vals
    }

    fn take_seq(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn push_app(&mut self, vals: Vals, changed: BTreeSet<&'static str>) -> Outcome {
        let seq = self.take_seq();
        self.app.push(AppVersion { seq, vals, changed });
        Ok(format!("a{seq}"))
    }

    fn push_env(
        &mut self,
        env: usize,
        overrides: Vals,
        changed: BTreeSet<&'static str>,
    ) -> Outcome {
        let seq = self.take_seq();
        let m = &mut self.envs[env];
        m.diverged.get_or_insert(seq);
        m.own.push(seq);
        m.overrides.push((seq, overrides, changed));
        Ok(format!("e{seq}"))
    }

    /// Sets `values` (`None` deletes) at the App level, removing the
    /// overrides of deleted keys in `cascade_envs`.
    fn change_app(
        &mut self,
        changes: &BTreeMap<&'static str, Option<&'static str>>,
        cascade: bool,
    ) -> Outcome {
        let mut vals = self.app_now();
        let mut touched = BTreeSet::new();
        let mut cascaded = Vec::new();
        for (key, value) in changes {
            match value {
                Some(value) => {
                    if vals.get(key).map(|c| c.value) != Some(*value) {
                        vals.insert(
                            key,
                            Cell {
                                value,
                                purged: false,
                            },
                        );
                        touched.insert(*key);
                    }
                }
                None => {
                    if vals.remove(key).is_some() {
                        let envs: Vec<usize> = (0..ENVS.len())
                            .filter(|e| self.overrides_at(*e, u64::MAX).contains_key(key))
                            .collect();
                        if !envs.is_empty() && !cascade {
                            return Err("overridden_in_envs");
                        }
                        cascaded.extend(envs.into_iter().map(|e| (e, *key)));
                        touched.insert(*key);
                    }
                }
            }
        }
        if sets_template(&vals, &touched) && has_cycle(&vals) {
            return Err("template_cycle");
        }
        let out = self.push_app(vals, touched);
        let seq = self.next;
        for (env, key) in cascaded {
            let mut o = self.overrides_at(env, u64::MAX);
            o.remove(key);
            self.envs[env]
                .overrides
                .push((seq, o, BTreeSet::from([key])));
        }
        out
    }

    fn change_env(
        &mut self,
        env: usize,
        changes: &BTreeMap<&'static str, Option<&'static str>>,
    ) -> Outcome {
        let base = self.app_now();
        let mut o = self.overrides_at(env, u64::MAX);
        let mut touched = BTreeSet::new();
        for (key, value) in changes {
            match value {
                Some(value) => {
                    if !base.contains_key(key) {
                        return Err("no_base_value");
                    }
                    if o.get(key).map(|c| c.value) != Some(*value) {
                        o.insert(
                            key,
                            Cell {
                                value,
                                purged: false,
                            },
                        );
                        touched.insert(*key);
                    }
                }
                None => {
                    if o.remove(key).is_some() {
                        touched.insert(*key);
                    }
                }
            }
        }
        if sets_template(&o, &touched) && has_cycle(&o) {
            return Err("template_cycle");
        }
        self.push_env(env, o, touched)
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Set { env, key, value } => {
                let changes = BTreeMap::from([(k(*key), Some(v(*value)))]);
                match env {
                    None => self.change_app(&changes, false),
                    Some(env) => self.change_env(e(*env), &changes),
                }
            }
            Op::Delete { env, key, cascade } => {
                let changes = BTreeMap::from([(k(*key), None)]);
                match env {
                    None => {
                        if !self.app_now().contains_key(k(*key)) {
                            return Err("unknown_key");
                        }
                        self.change_app(&changes, *cascade)
                    }
                    Some(env) => {
                        if !self.overrides_at(e(*env), u64::MAX).contains_key(k(*key)) {
                            return Err("unknown_key");
                        }
                        self.change_env(e(*env), &changes)
                    }
                }
            }
            Op::Batch { changes } => {
                // A batch that asks for nothing is refused, before anything
                // else is looked at.
                if changes.is_empty() {
                    return Err("empty_batch");
                }
                let now = self.app_now();
                if changes
                    .iter()
                    .any(|(key, value)| value.is_none() && !now.contains_key(k(*key)))
                {
                    return Err("unknown_key");
                }
                let mut planned = BTreeMap::new();
                for (key, value) in changes.iter().filter(|(_, v)| v.is_none()) {
                    planned.insert(k(*key), value.map(v));
                }
                for (key, value) in changes.iter().filter(|(_, v)| v.is_some()) {
                    planned.insert(k(*key), value.map(v));
                }
                self.change_app(&planned, false)
            }
            Op::Restore { env, version, keys } => {
                self.restore(env.map(e), *version, keys.as_deref())
            }
            Op::Purge { env, version, key } => self.purge(env.map(e), *version, k(*key)),
        }
    }

    /// The sequence number a history index picks, if the history has any.
    fn pick(&self, env: Option<usize>, version: u8) -> Option<u64> {
        let seqs = self.seqs(env);
        (!seqs.is_empty()).then(|| seqs[usize::from(version) % seqs.len()])
    }

    fn restore(&mut self, env: Option<usize>, version: u8, keys: Option<&[u8]>) -> Outcome {
        let target = self.pick(env, version).ok_or("unknown_version")?;
        let (then, now) = match env {
            None => (self.app_at(target), self.app_now()),
            Some(e) => {
                let then = match self.envs[e].diverged {
                    Some(d) if target >= d => self.overrides_at(e, target),
                    _ => Vals::new(),
                };
                (then, self.overrides_at(e, u64::MAX))
            }
        };
        let keys: BTreeSet<&'static str> = match keys {
            None => then.keys().chain(now.keys()).copied().collect(),
            Some(keys) => keys.iter().map(|i| k(*i)).collect(),
        };
        if keys
            .iter()
            .any(|key| then.get(key).is_some_and(|c| c.purged))
        {
            return Err("restore_purged");
        }
        let changes: BTreeMap<&'static str, Option<&'static str>> = keys
            .iter()
            .map(|key| (*key, then.get(key).map(|c| c.value)))
            .collect();
        match env {
            None => self.change_app(&changes, false),
            Some(e) => self.change_env(e, &changes),
        }
    }

    fn purge(&mut self, env: Option<usize>, version: u8, key: &'static str) -> Outcome {
        let target = self.pick(env, version).ok_or("unknown_version")?;
        match env {
            None => {
                let i = self
                    .app
                    .iter()
                    .position(|v| v.seq == target)
                    .ok_or("not_introduced_here")?;
                let here = &self.app[i];
                let Some(cell) = here.vals.get(key).filter(|_| here.changed.contains(key)) else {
                    return Err("not_introduced_here");
                };
                if cell.purged {
                    return Err("already_purged");
                }
                // The value lives on until a later version changes the key.
                let end = (i + 1..self.app.len())
                    .find(|j| self.app[*j].changed.contains(key))
                    .ok_or("purge_current_value")?;
                for version in &mut self.app[i..end] {
                    if let Some(c) = version.vals.get_mut(key) {
                        c.purged = true;
                    }
                }
                let vals = self.app_now();
                self.push_app(vals, BTreeSet::new())
            }
            Some(e) => {
                let m = &self.envs[e];
                if !m.own.contains(&target) || m.diverged.is_none_or(|d| target < d) {
                    return Err("not_introduced_here");
                }
                let i = m
                    .overrides
                    .iter()
                    .position(|(s, _, _)| *s == target)
                    .ok_or("not_introduced_here")?;
                let (_, o, changed) = &m.overrides[i];
                let Some(cell) = o.get(key).filter(|_| changed.contains(key)) else {
                    return Err("not_introduced_here");
                };
                if cell.purged {
                    return Err("already_purged");
                }
                let end = (i + 1..m.overrides.len())
                    .find(|j| m.overrides[*j].2.contains(key))
                    .ok_or("purge_current_value")?;
                for (_, o, _) in &mut self.envs[e].overrides[i..end] {
                    if let Some(c) = o.get_mut(key) {
                        c.purged = true;
                    }
                }
                let o = self.overrides_at(e, u64::MAX);
                self.push_env(e, o, BTreeSet::new())
            }
        }
    }
}

/// A value of `VALUES` as the store is given it.
fn new_value(value: &str) -> NewValue {
    if is_template(value) {
        NewValue::template(value)
    } else {
        NewValue::plain(value)
    }
}

/// Whether a change that touched `touched` set a template.
fn sets_template(vals: &Vals, touched: &BTreeSet<&'static str>) -> bool {
    touched
        .iter()
        .any(|key| vals.get(key).is_some_and(|c| is_template(c.value)))
}

/// A Store and the model, side by side.
pub(crate) struct Harness {
    store: Store,
    admin: Actor,
    app: AppId,
    envs: [EnvId; 2],
    model: Model,
}

impl Harness {
    pub(crate) fn new() -> Harness {
        Harness::with_store(Store::in_memory())
    }

    /// The harness over `store`, which must be empty.
    pub(crate) fn with_store(store: Store) -> Harness {
        let admin = Actor::admin("model");
        let app = AppId::new("app").expect("valid id");
        let envs = ENVS.map(|e| EnvId::new(e).expect("valid id"));
        store.create_app(&admin, &app).expect("new app");
        for env in &envs {
            store.create_env(&admin, &app, env).expect("new env");
        }
        Harness {
            store,
            admin,
            app,
            envs,
            model: Model::default(),
        }
    }

    fn env(&self, env: Option<u8>) -> Option<EnvId> {
        env.map(|i| self.envs[e(i)].clone())
    }

    /// The id the store gets for a history index (an id no history has when
    /// the history is empty).
    fn version_id(&self, env: Option<u8>, version: u8) -> VersionId {
        let env = env.map(e);
        let id = match self.model.pick(env, version) {
            Some(seq) => self.model.id(env, seq),
            None => "a999999".to_owned(),
        };
        id.parse().expect("model ids parse")
    }

    fn run_store(&self, op: &Op) -> Outcome {
        let key = |i: u8| Key::new(k(i)).expect("valid key");
        let result = match op {
            Op::Set {
                env,
                key: kk,
                value,
            } => self.store.set(
                &self.admin,
                &self.app,
                self.env(*env).as_ref(),
                &key(*kk),
                new_value(v(*value)),
                SetOptions::default(),
            ),
            Op::Delete {
                env,
                key: kk,
                cascade,
            } => self.store.delete(
                &self.admin,
                &self.app,
                self.env(*env).as_ref(),
                &key(*kk),
                DeleteOptions {
                    cascade: *cascade,
                    ..DeleteOptions::default()
                },
            ),
            Op::Batch { changes } => {
                let mut set = ChangeSet::new();
                for (kk, value) in changes {
                    set = match value {
                        Some(value) => set.set(key(*kk), new_value(v(*value))),
                        None => set.delete(key(*kk)),
                    };
                }
                self.store
                    .apply(&self.admin, &self.app, None, set, DeleteOptions::default())
            }
            Op::Restore { env, version, keys } => {
                let keys = match keys {
                    None => RestoreKeys::All,
                    Some(keys) => RestoreKeys::Only(keys.iter().map(|i| key(*i)).collect()),
                };
                self.store.restore(
                    &self.admin,
                    &self.app,
                    self.env(*env).as_ref(),
                    VersionSelector::Id(self.version_id(*env, *version)),
                    keys,
                    WriteOptions::default(),
                )
            }
            Op::Purge {
                env,
                version,
                key: kk,
            } => self
                .store
                .purge(
                    &self.admin,
                    &self.app,
                    self.env(*env).as_ref(),
                    self.version_id(*env, *version).into(),
                    &key(*kk),
                    WriteOptions::default(),
                )
                .map(|outcome| {
                    assert!(outcome.compaction.is_none(), "a purge compacts");
                    outcome.version
                }),
        };
        result
            .map(|info| info.id.to_string())
            .map_err(|err| err.code())
    }

    /// Applies `op` to both and checks that they agree on everything.
    pub(crate) fn step(&mut self, op: &Op) {
        let store = self.run_store(op);
        let model = self.model.apply(op);
        assert_eq!(store, model, "result of {op:?}");
        self.check();
    }

    fn check(&self) {
        // The history verifies after every step, purges included.
        self.store
            .verify(&self.admin)
            .expect("the history verifies");
        for env in [None, Some(0), Some(1)] {
            let env_id = env.map(|i| self.envs[i].clone());
            let history = self
                .store
                .history(
                    &self.admin,
                    &self.app,
                    env_id.as_ref(),
                    HistoryOptions {
                        limit: Some(100_000),
                        ..HistoryOptions::default()
                    },
                )
                .expect("history");
            let ids: Vec<String> = history.iter().map(|v| v.id.to_string()).collect();
            let seqs = self.model.seqs(env);
            let expected: Vec<String> = seqs.iter().rev().map(|s| self.model.id(env, *s)).collect();
            assert_eq!(ids, expected, "history of {env_id:?}");
            for seq in &seqs {
                let id: VersionId = self.model.id(env, *seq).parse().expect("id");
                let version = self
                    .store
                    .version(
                        &self.admin,
                        &self.app,
                        env_id.as_ref(),
                        VersionSelector::Id(id),
                    )
                    .expect("version");
                let got: BTreeMap<&str, Option<&str>> = version
                    .values
                    .values()
                    .map(|s| (s.key().as_str(), s.value().and_then(|v| v.plain())))
                    .collect();
                for value in version.values.values().filter_map(|s| s.value()) {
                    let text = value.plain().unwrap_or_default();
                    assert_eq!(value.template, is_template(text), "{text} in {id}");
                }
                let want = plain(&self.model.snapshot(env, *seq));
                assert_eq!(got, want, "values of {id} in {env_id:?}");
            }
            let current: BTreeMap<String, String> = self
                .store
                .list(&self.admin, &self.app, env_id.as_ref())
                .expect("list")
                .into_iter()
                .map(|v| (v.key.to_string(), v.plain().unwrap_or_default().to_owned()))
                .collect();
            let want: BTreeMap<String, String> = self
                .model
                .snapshot(env, u64::MAX)
                .into_iter()
                .map(|(k, c)| (k.to_owned(), c.value.to_owned()))
                .collect();
            assert_eq!(current, want, "current values of {env_id:?}");
            if let Some(env) = env {
                self.check_resolved(env);
            }
            let latest = seqs.last().copied();
            for seq in [seqs.first(), seqs.get(seqs.len() / 2)]
                .into_iter()
                .flatten()
            {
                self.check_diff((env, *seq), (env, latest.unwrap_or(*seq)));
            }
        }
        // Two Environments' current sets, one against its App, and levels
        // at versions with App changes between them.
        let latest = |env: Option<usize>| self.model.seqs(env).last().copied();
        let first = |env: Option<usize>| self.model.seqs(env).first().copied();
        if let (Some(a), Some(b), Some(app)) = (latest(Some(0)), latest(Some(1)), latest(None)) {
            self.check_diff((Some(0), a), (Some(1), b));
            self.check_diff((Some(1), b), (None, app));
            if let (Some(a0), Some(app0)) = (first(Some(0)), first(None)) {
                self.check_diff((Some(0), a0), (Some(1), b));
                self.check_diff((None, app0), (Some(0), a));
            }
        }
    }

    /// `diff` between two (level, sequence number) sides names exactly the
    /// keys whose values differ in the model.
    fn check_diff(&self, a: (Option<usize>, u64), b: (Option<usize>, u64)) {
        let side = |(env, seq): (Option<usize>, u64)| {
            let id: VersionId = self.model.id(env, seq).parse().expect("id");
            match env {
                Some(i) => DiffSide::env(self.envs[i].clone(), VersionSelector::Id(id)),
                None => DiffSide::app(VersionSelector::Id(id)),
            }
        };
        let diff = self
            .store
            .diff(&self.admin, &self.app, &side(a), &side(b))
            .expect("diff");
        let got: Vec<&str> = diff.changes.iter().map(|c| c.key.as_str()).collect();
        let (x, y) = (self.model.snapshot(a.0, a.1), self.model.snapshot(b.0, b.1));
        let want: Vec<&str> = KEYS
            .iter()
            .copied()
            .filter(|k| x.get(k) != y.get(k))
            .collect();
        assert_eq!(got, want, "diff of {a:?} and {b:?}");
    }

    /// Every key resolves in `env` at its latest version as the model
    /// resolves it, templates included (or fails where the model fails).
    fn check_resolved(&self, env: usize) {
        let Ok(snapshot) = self.store.snapshot(
            &self.admin,
            &self.app,
            &self.envs[env],
            VersionSelector::Latest,
        ) else {
            assert!(self.model.seqs(Some(env)).is_empty(), "snapshot of {env}");
            return;
        };
        let vals = self.model.snapshot(Some(env), u64::MAX);
        let resolver = snapshot.resolver();
        for key in KEYS {
            let got = resolver
                .resolve_str(&format!("${{values.{key}}}"))
                .map(|r| r.as_plain().map(str::to_owned))
                .map_err(|_| ());
            let want = resolve(&vals, key, &mut Vec::new()).map(Some);
            assert_eq!(got, want, "{key} resolved in {}", ENVS[env]);
        }
    }
}

/// Operations decoded from bytes, for the fuzz target: every byte string is
/// a valid (if mostly refused) sequence.
pub(crate) fn ops_from_bytes(data: &[u8]) -> Vec<Op> {
    let mut bytes = data.iter().copied();
    let mut ops = Vec::new();
    let mut next = || bytes.next();
    while let Some(kind) = next() {
        let a = next().unwrap_or(0);
        let b = next().unwrap_or(0);
        let env = (a & 0x80 != 0).then_some(a & 1);
        let op = match kind % 6 {
            0 | 1 => Op::Set {
                env,
                key: a >> 1,
                value: b,
            },
            2 => Op::Delete {
                env,
                key: a >> 1,
                cascade: b & 1 == 1,
            },
            3 => Op::Batch {
                // Up to three keys from `a`; bit i+2 of `b` says set (with a
                // value from `a`) or delete.
                changes: (0..b % 4)
                    .map(|i| {
                        let set = (b >> (2 + i)) & 1 == 1;
                        (a.wrapping_add(i), set.then_some(a.wrapping_mul(i + 1)))
                    })
                    .collect(),
            },
            4 => Op::Restore {
                env,
                version: b,
                keys: (a & 0x40 != 0).then(|| vec![a >> 1, b >> 2]),
            },
            _ => Op::Purge {
                env,
                version: b,
                key: a >> 1,
            },
        };
        ops.push(op);
    }
    ops
}

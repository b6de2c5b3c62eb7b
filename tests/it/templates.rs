//! docs/guide.md #values-that-use-values: values set as templates, resolved
//! against the deployment's Environment and version, with cycles, depth and
//! secret taint.

use std::cell::Cell;
use std::collections::BTreeMap;

use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
use valueset::resolve::{
    LookupError, MapValues, ResolveErrorKind, Resolver, Value, Values, Workload,
};
use valueset::store::{ChangeSet, DeleteOptions, RestoreKeys, SetOptions, WriteOptions};
use valueset::{Actor, EnvId, Error, Key, Secret, Store, VersionId};

use crate::common::{World, key, ticking_clock};

const URL: &str = "postgres://${values.DB_USER}:${values.DB_PASS}@${values.DB_HOST}/shop";

impl World {
    fn set_template(&self, k: &str, text: &str) -> valueset::Result<VersionId> {
        self.set_value(k, NewValue::template(text), None)
    }

    fn set_value(&self, k: &str, v: NewValue, env: Option<&EnvId>) -> valueset::Result<VersionId> {
        Ok(self
            .store
            .set(
                &self.admin,
                &self.app,
                env,
                &key(k),
                v,
                SetOptions::default(),
            )?
            .id)
    }

    /// Resolves `text` in `env` at `version` as `actor`.
    fn resolve_as(
        &self,
        actor: &Actor,
        env: &EnvId,
        version: VersionSelector,
        text: &str,
    ) -> valueset::Result<valueset::resolve::Resolved<'static>> {
        let snapshot = self.store.snapshot(actor, &self.app, env, version)?;
        Ok(snapshot.resolver().resolve_str(text)?.into_owned())
    }

    fn resolve_in(&self, env: &EnvId, text: &str) -> valueset::Result<String> {
        let out = self.resolve_as(&self.admin, env, VersionSelector::Latest, text)?;
        Ok(match out.as_secret() {
            Some(s) => format!("secret:{}", s.expose_secret()),
            None => out.as_plain().unwrap_or_default().to_owned(),
        })
    }

    /// The number of versions in the App's history.
    fn version_count(&self) -> usize {
        self.store
            .history(&self.admin, &self.app, None, Default::default())
            .unwrap()
            .len()
    }
}

/// The resolve errors of `e`: each one's code and message.
fn resolve_errors(e: &Error) -> Vec<(&'static str, String)> {
    match e {
        Error::Unresolved(errors) => errors
            .iter()
            .map(|e| (e.kind().code(), e.to_string()))
            .collect(),
        other => panic!("expected unresolved placeholders, got {other:?}"),
    }
}

fn database_world() -> World {
    let w = World::new();
    w.set("DB_USER", "shop");
    w.set("DB_HOST", "db.dev");
    w.set_value(
        "DB_PASS",
        NewValue::secret(Secret::new("pw-canary".into())),
        None,
    )
    .unwrap();
    w.set_template("DATABASE_URL", URL).unwrap();
    w.set_env(&w.prod.clone(), "DB_HOST", "db.prod");
    w
}

#[test]
fn a_template_builds_a_value_from_the_environments_values() -> valueset::Result<()> {
    let w = database_world();
    assert_eq!(
        w.resolve_in(&w.prod, "${values.DATABASE_URL}")?,
        "secret:postgres://shop:pw-canary@db.prod/shop"
    );
    assert_eq!(
        w.resolve_in(&w.dev, "url=${values.DATABASE_URL}")?,
        "secret:url=postgres://shop:pw-canary@db.dev/shop"
    );
    // Reads show the template's own text, marked as one.
    let view = w.store.get(&w.admin, &w.app, None, &key("DATABASE_URL"))?;
    assert_eq!(view.plain(), Some(URL));
    assert!(view.template && !view.is_secret());
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["template"], true);
    assert_eq!(json["value"], URL);
    let plain = w.store.get(&w.admin, &w.app, None, &key("DB_USER"))?;
    assert!(!plain.template);
    assert_eq!(serde_json::to_value(&plain).unwrap()["template"], false);
    let listed = w.store.list(&w.admin, &w.app, Some(&w.prod))?;
    let url = listed.iter().find(|v| v.key.as_str() == "DATABASE_URL");
    assert!(url.is_some_and(|v| v.template && v.plain() == Some(URL)));
    Ok(())
}

#[test]
fn plain_values_stay_literal() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "a");
    w.set("LITERAL", "${values.A}");
    w.set_template("T", "[${values.A}]")?;
    assert_eq!(
        w.resolve_in(&w.prod, "${values.LITERAL} ${values.T}")?,
        "${values.A} [a]"
    );
    Ok(())
}

#[test]
fn a_templates_syntax_is_checked_when_it_is_set() {
    let w = World::new();
    w.set("A", "a");
    let before = w.version_count();
    let err = w.set_template("T", "x ${values.} ${a b}").unwrap_err();
    let Error::Template(errors) = &err else {
        panic!("expected template errors, got {err:?}");
    };
    let spans: Vec<_> = errors.iter().map(|e| e.span().range()).collect();
    assert_eq!(spans, [2..12, 13..19]);
    assert_eq!(err.code(), "invalid_template");
    assert_eq!(w.version_count(), before, "nothing was written");
    assert!(w.store.get(&w.admin, &w.app, None, &key("T")).is_err());
}

#[test]
fn a_change_that_closes_a_cycle_in_its_level_is_refused_with_the_path() -> valueset::Result<()> {
    let w = World::new();
    w.set_template("A", "${values.B}")?;
    w.set_template("B", "${values.C}-${values.A2}")?;
    w.set("A2", "2");
    let before = w.version_count();
    let err = w.set_template("C", "${values.A}").unwrap_err();
    let Error::TemplateCycle { path, .. } = &err else {
        panic!("expected a template cycle, got {err:?}");
    };
    let path: Vec<&str> = path.iter().map(Key::as_str).collect();
    assert_eq!(path, ["C", "A", "B", "C"]);
    assert_eq!(err.code(), "template_cycle");
    assert!(err.to_string().contains("`C -> A -> B -> C`"), "{err}");
    // A value that names itself.
    let err = w.set_template("S", "${values.S}").unwrap_err();
    assert!(
        matches!(&err, Error::TemplateCycle { path, .. } if path.len() == 2),
        "{err:?}"
    );
    // Two templates that close a cycle in one batch.
    let batch = ChangeSet::new()
        .set(key("X"), NewValue::template("${values.Y}"))
        .set(key("Y"), NewValue::template("${values['X']}"));
    let err = w
        .store
        .apply(&w.admin, &w.app, None, batch, DeleteOptions::default())
        .unwrap_err();
    assert_eq!(err.code(), "template_cycle");
    assert_eq!(w.version_count(), before, "nothing was written");
    // A cycle in an Environment's own overrides is refused there too.
    w.set("P", "p");
    w.set("Q", "q");
    let prod = w.prod.clone();
    w.set_value("P", NewValue::template("${values.Q}"), Some(&prod))?;
    let err = w
        .set_value("Q", NewValue::template("${values.P}"), Some(&prod))
        .unwrap_err();
    assert_eq!(err.code(), "template_cycle");
    // Plain values and templates that do not loop back are fine.
    w.set_template("C", "${values.A2}")?;
    Ok(())
}

#[test]
fn a_restore_that_would_close_a_cycle_is_refused() -> valueset::Result<()> {
    let w = World::new();
    w.set("B", "b");
    let old = w.set_template("A", "${values.B}")?;
    w.set("A", "plain now");
    w.set_template("B", "${values.A}")?;
    let err = w
        .store
        .restore(
            &w.admin,
            &w.app,
            None,
            VersionSelector::Id(old),
            RestoreKeys::Only(vec![key("A")]),
            WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.code(), "template_cycle");
    // Restoring both keys brings back a consistent set, templates included.
    w.store.restore(
        &w.admin,
        &w.app,
        None,
        VersionSelector::Id(old),
        RestoreKeys::All,
        WriteOptions::default(),
    )?;
    let a = w.store.get(&w.admin, &w.app, None, &key("A"))?;
    assert!(a.template);
    assert_eq!(w.resolve_in(&w.prod, "${values.A}")?, "b");
    Ok(())
}

#[test]
fn a_cycle_only_an_environment_override_closes_is_found_when_resolving() -> valueset::Result<()> {
    let w = World::new();
    w.set_template("A", "a(${values.B})")?;
    w.set("B", "b");
    let prod = w.prod.clone();
    // Within the Environment's own level there is no cycle.
    w.set_value("B", NewValue::template("b(${values.A})"), Some(&prod))?;
    assert_eq!(w.resolve_in(&w.dev, "${values.A}")?, "a(b)");
    let err = w.resolve_in(&prod, "x ${values.A}").unwrap_err();
    let errors = resolve_errors(&err);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "template_cycle");
    assert!(errors[0].1.contains("`A -> B -> A`"), "{}", errors[0].1);
    assert_eq!(err.code(), "template_cycle");
    Ok(())
}

/// A chain `T1 -> T2 -> … -> Tn` of templates, `Tn` naming a plain value.
fn chain(w: &World, n: usize) {
    w.set("END", "end");
    let mut batch = ChangeSet::new();
    for i in 1..=n {
        let next = if i == n {
            "END".to_owned()
        } else {
            format!("T{}", i + 1)
        };
        batch = batch.set(
            key(&format!("T{i}")),
            NewValue::template(format!("{i}.${{values.{next}}}")),
        );
    }
    w.store
        .apply(&w.admin, &w.app, None, batch, DeleteOptions::default())
        .unwrap();
}

#[test]
fn nesting_up_to_the_limit_resolves_and_deeper_is_an_error_naming_the_chain() -> valueset::Result<()>
{
    let w = World::new();
    chain(&w, 17);
    // T2 starts a chain of 16: at the limit.
    let at_limit = w.resolve_in(&w.prod, "${values.T2}")?;
    assert!(at_limit.starts_with("2.3.4.") && at_limit.ends_with("17.end"));
    // T1 starts a chain of 17: one too deep.
    let err = w.resolve_in(&w.prod, "${values.T1}").unwrap_err();
    let errors = resolve_errors(&err);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "template_too_deep");
    let names: Vec<String> = (1..=17).map(|i| format!("T{i}")).collect();
    assert!(
        errors[0].1.contains(&format!("`{}`", names.join(" -> "))),
        "{}",
        errors[0].1
    );
    // After T2 resolved fine through T1's chain, T2 used directly still is.
    let both = w
        .resolve_in(&w.prod, "${values.T1}|${values.T2}")
        .unwrap_err();
    assert_eq!(resolve_errors(&both).len(), 1);
    // And the other way round: T2's kept result does not hide T1's depth.
    let mut values = MapValues::new();
    values.insert(key("END"), "end");
    for i in 1..=3 {
        let next = if i == 3 {
            "END".to_owned()
        } else {
            format!("T{}", i + 1)
        };
        values.insert_template(key(&format!("T{i}")), format!("${{values.{next}}}"));
    }
    let r = Resolver::new(&values).with_template_depth(2)?;
    let err = r.resolve_str("${values.T2} ${values.T1}").unwrap_err();
    let Some((_, message)) = resolve_errors(&err.into()).pop() else {
        panic!("expected an error");
    };
    assert!(message.contains("`T1 -> T2 -> T3`"), "{message}");
    assert_eq!(r.resolve_str("${values.T2}")?.as_plain(), Some("end"));
    Ok(())
}

#[test]
fn the_depth_limit_is_a_store_setting() -> valueset::Result<()> {
    let store = Store::builder()
        .clock(ticking_clock())
        .template_depth(2)
        .in_memory()?;
    let w = World::with_store(store);
    chain(&w, 3);
    assert_eq!(w.resolve_in(&w.prod, "${values.T2}")?, "2.3.end");
    let err = w.resolve_in(&w.prod, "${values.T1}").unwrap_err();
    assert_eq!(err.code(), "template_too_deep");
    // Refused however the store ends, never a panic; no directory is
    // made for a store that is refused.
    let dir = std::env::temp_dir().join(format!("valueset-depth-{}", std::process::id()));
    for bad in [0, 65] {
        let builder = || Store::builder().template_depth(bad);
        for err in [
            builder().in_memory().unwrap_err(),
            builder().open(&dir).unwrap_err(),
            builder()
                .open_with_backend(valueset::backend::MemoryBackend::new())
                .unwrap_err(),
        ] {
            assert_eq!(err.code(), "invalid_template_depth");
        }
        assert!(!dir.exists());
    }
    let err = Resolver::new(&MapValues::new())
        .with_template_depth(0)
        .unwrap_err();
    assert_eq!(err.code(), "invalid_template_depth");
    Ok(())
}

#[test]
fn a_template_that_uses_a_secret_at_any_depth_is_a_secret() -> valueset::Result<()> {
    let w = World::new();
    w.set_value(
        "PW",
        NewValue::secret(Secret::new("pw-canary".into())),
        None,
    )?;
    w.set_template("INNER", "pw=${values.PW}")?;
    w.set_template("OUTER", "[${values.INNER}]")?;
    let out = w.resolve_as(
        &w.admin,
        &w.prod,
        VersionSelector::Latest,
        "${values.OUTER}",
    )?;
    assert_eq!(
        out.as_secret().map(Secret::expose_secret),
        Some("[pw=pw-canary]")
    );
    assert!(!format!("{out:?}").contains("pw-canary"));
    // Reads never show it resolved.
    let view = w.store.get(&w.admin, &w.app, None, &key("OUTER"))?;
    assert_eq!(view.plain(), Some("[${values.INNER}]"));
    // A label may not hold it.
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.app, &w.prod, VersionSelector::Latest)?;
    let mut workload = Workload {
        id: "api".into(),
        ..Workload::default()
    };
    workload.labels.insert("l".into(), "${values.OUTER}".into());
    let err = snapshot.resolver().resolve_workload(&workload).unwrap_err();
    assert_eq!(err.code(), "secret_in_label");
    assert!(!err.to_string().contains("pw-canary"));
    // A caller who may not resolve secrets cannot have it through a template.
    let viewer = Actor::new("vic", OrgRole::Member).with_app_role(w.app.clone(), AppRole::Viewer);
    let err = w
        .resolve_as(&viewer, &w.prod, VersionSelector::Latest, "${values.OUTER}")
        .unwrap_err();
    let errors = resolve_errors(&err);
    assert_eq!(errors[0].0, "forbidden");
    assert!(
        errors[0].1.contains("in template value `OUTER -> INNER`"),
        "{}",
        errors[0].1
    );
    assert!(!errors[0].1.contains("pw-canary"));
    Ok(())
}

#[test]
fn a_pinned_version_resolves_templates_as_they_were() -> valueset::Result<()> {
    let w = World::new();
    w.set("HOST", "old-host");
    let then = w.set_template("URL", "http://${values.HOST}/v1")?;
    w.set("HOST", "new-host");
    w.set_template("URL", "https://${values.HOST}/v2")?;
    let pinned = w.resolve_as(
        &w.admin,
        &w.prod,
        VersionSelector::Id(then),
        "${values.URL}",
    )?;
    assert_eq!(pinned.as_plain(), Some("http://old-host/v1"));
    assert_eq!(
        w.resolve_in(&w.prod, "${values.URL}")?,
        "https://new-host/v2"
    );
    Ok(())
}

#[test]
fn errors_inside_a_template_name_the_values_they_are_in() -> valueset::Result<()> {
    let w = World::new();
    w.set_template("INNER", "${values.MISSING}")?;
    w.set_template("OUTER", "${values.INNER}")?;
    let err = w.resolve_in(&w.prod, "x=${values.OUTER}").unwrap_err();
    let errors = resolve_errors(&err);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "unknown_key");
    assert!(
        errors[0]
            .1
            .contains("in template value `OUTER -> INNER`: no shared value has the key `MISSING`"),
        "{}",
        errors[0].1
    );
    let Error::Unresolved(list) = &err else {
        unreachable!()
    };
    let first = list.iter().next().unwrap();
    // The span is the placeholder in the template being resolved.
    assert_eq!(first.span().map(|s| s.range()), Some(2..17));
    let ResolveErrorKind::InValue { path, error } = first.kind() else {
        panic!("expected an error in a value, got {:?}", first.kind());
    };
    assert_eq!(path, &["OUTER", "INNER"]);
    assert!(matches!(**error, ResolveErrorKind::UnknownKey { ref key } if key == "MISSING"));
    Ok(())
}

#[test]
fn a_purged_template_is_purged_when_resolving_its_version() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "a");
    let v = w.set_template("T", "${values.A}")?;
    w.set("T", "plain");
    w.store.purge(
        &w.admin,
        &w.app,
        None,
        v.into(),
        &key("T"),
        WriteOptions::default(),
    )?;
    let err = w
        .resolve_as(&w.admin, &w.prod, VersionSelector::Id(v), "${values.T}")
        .unwrap_err();
    assert_eq!(err.code(), "purged");
    w.store.verify_app(&w.admin, &w.app)?;
    Ok(())
}

/// Counts the lookups of each key.
struct Counting {
    inner: MapValues,
    counts: std::cell::RefCell<BTreeMap<String, usize>>,
    total: Cell<usize>,
}

impl Values for Counting {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        *self.counts.borrow_mut().entry(key.to_owned()).or_default() += 1;
        self.total.set(self.total.get() + 1);
        self.inner.value(key)
    }
}

#[test]
fn each_template_value_is_resolved_once_per_resolution() -> valueset::Result<()> {
    let mut inner = MapValues::new();
    inner.insert(key("HOST"), "h");
    inner.insert_template(key("BASE"), "${values.HOST}:1");
    inner.insert_template(key("A"), "${values.BASE}/a");
    inner.insert_template(key("B"), "${values.BASE}/b");
    let values = Counting {
        inner,
        counts: Default::default(),
        total: Cell::new(0),
    };
    let r = Resolver::new(&values);
    let out = r.resolve_str("${values.A} ${values.B} ${values.A}")?;
    assert_eq!(out.as_plain(), Some("h:1/a h:1/b h:1/a"));
    // BASE's own placeholder was looked up once, though BASE was used twice.
    assert_eq!(values.counts.borrow()["HOST"], 1);
    // Across a workload's items too.
    values.counts.borrow_mut().clear();
    let mut workload = Workload {
        id: "w".into(),
        ..Workload::default()
    };
    for name in ["X", "Y", "Z"] {
        workload.variables.insert(name.into(), "${values.A}".into());
    }
    let resolved = r.resolve_workload(&workload)?;
    assert_eq!(resolved.variables["Z"].as_plain(), Some("h:1/a"));
    assert_eq!(values.counts.borrow()["HOST"], 1);
    assert_eq!(values.counts.borrow()["BASE"], 1);
    Ok(())
}

#[test]
fn the_history_verifies_and_a_template_flag_is_part_of_it() -> valueset::Result<()> {
    let w = database_world();
    let version = w
        .store
        .version(&w.admin, &w.app, None, VersionSelector::Latest)?;
    let url = version
        .values
        .get(&key("DATABASE_URL"))
        .and_then(|v| v.value());
    assert!(url.is_some_and(|v| v.template));
    w.store.verify_app(&w.admin, &w.app)?;
    let prod = w.prod.clone();
    w.store.apply(
        &w.admin,
        &w.app,
        Some(&prod),
        ChangeSet::new().set(key("DB_USER"), NewValue::template("${values.DB_HOST}")),
        DeleteOptions::default(),
    )?;
    assert_eq!(
        w.resolve_in(&prod, "${values.DATABASE_URL}")?,
        "secret:postgres://db.prod:pw-canary@db.prod/shop"
    );
    // The same text as a plain value is a change of value.
    let v = w.set_value("DATABASE_URL", NewValue::plain(URL), None)?;
    let info = w
        .store
        .version(&w.admin, &w.app, None, VersionSelector::Id(v))?;
    assert_eq!(info.info.change.len(), 1);
    Ok(())
}

#[test]
fn a_result_that_failed_for_depth_is_reused_at_the_same_depth() -> valueset::Result<()> {
    let mut inner = MapValues::new();
    inner.insert(key("END"), "end");
    inner.insert_template(key("T1"), "${values.T2}");
    inner.insert_template(key("T2"), "${values.T3}");
    inner.insert_template(key("T3"), "${values.END}");
    let values = Counting {
        inner,
        counts: Default::default(),
        total: Cell::new(0),
    };
    let r = Resolver::new(&values).with_template_depth(2)?;
    assert!(r.resolve_str("${values.T1} ${values.T1}").is_err());
    // T1 was resolved (and failed for depth) once, then its result reused.
    assert_eq!(values.counts.borrow()["T2"], 1);
    Ok(())
}

#[test]
fn a_depth_error_names_the_first_of_equally_deep_chains() -> valueset::Result<()> {
    let mut values = MapValues::new();
    values.insert(key("X"), "x");
    values.insert_template(key("A"), "${values.X}");
    values.insert_template(key("B"), "${values.X}");
    values.insert_template(key("T"), "${values.A}${values.B}");
    values.insert_template(key("W"), "${values.T}");
    let r = Resolver::new(&values).with_template_depth(2)?;
    // T resolves at depth 1 (a chain of two), then W uses it at depth 2.
    let err = r.resolve_str("${values.T} ${values.W}").unwrap_err();
    let message = Error::from(err).to_string();
    assert!(message.contains("`W -> T -> A`"), "{message}");
    Ok(())
}

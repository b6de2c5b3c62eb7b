//! docs/guide.md #export-and-import: an App moved to another store whole,
//! secrets sealed or as references, never plaintext; a bad document
//! imports nothing.

use valueset::model::{DEFAULT_ENV_TYPE, MAX_NAME_LEN};
use valueset::model::{NewValue, VersionSelector};
use valueset::secret::{MemorySecretStore, SecretRef};
use valueset::store::{AppOptions, EnvOptions, HistoryOptions, SetOptions};
use valueset::store::{ExportDocument, ExportSecrets, ExportedNames};
use valueset::{Actor, AppId, EnvId, MasterKey, Secret, Store};

use crate::common::{Spy, key};

pub(crate) const CANARY: &str = "CANARY-export-77b2";

pub(crate) fn store() -> Store {
    Store::builder()
        .master_key(MasterKey::generate())
        .reference_store(MemorySecretStore::read_only(
            "vault",
            [("db/owner".to_owned(), Secret::new("owned-secret".into()))],
        ))
        .open_with_backend(valueset::backend::MemoryBackend::new())
        .unwrap()
}

pub(crate) fn transfer_key() -> MasterKey {
    MasterKey::from_bytes([9; 32])
}

/// A source store with every kind of value.
pub(crate) fn source() -> (Store, Actor, AppId, EnvId) {
    let s = store();
    let admin = Actor::admin("alice");
    let app = AppId::new("shop").unwrap();
    let prod = EnvId::new("prod").unwrap();
    let app_options = AppOptions {
        name: Some("The shop".into()),
    };
    s.create_app_with(&admin, &app, app_options).unwrap();
    let prod_options = EnvOptions {
        name: Some("Production".into()),
        env_type: Some("production".into()),
    };
    s.create_env_with(&Actor::admin("bob"), &app, &prod, prod_options)
        .unwrap();
    s.create_env(&admin, &app, &EnvId::new("dev").unwrap())
        .unwrap();
    let set = |k: &str, v: NewValue, env: Option<&EnvId>, description: Option<&str>| {
        let options = SetOptions {
            description: description.map(str::to_owned),
            ..SetOptions::default()
        };
        s.set(&admin, &app, env, &key(k), v, options).unwrap();
    };
    set(
        "HOST",
        NewValue::plain("db"),
        None,
        Some("the database host"),
    );
    set(
        "PW",
        NewValue::secret(Secret::new(CANARY.into())),
        None,
        None,
    );
    set(
        "URL",
        NewValue::template("pg://${values.PW}@${values.HOST}"),
        None,
        None,
    );
    set(
        "OWNED",
        NewValue::secret_ref("vault", SecretRef::new("db/owner")),
        None,
        None,
    );
    set(
        "HOST",
        NewValue::plain("db.prod"),
        Some(&prod),
        Some("prod's"),
    );
    set(
        "PW",
        NewValue::secret(Secret::new(format!("{CANARY}-prod"))),
        Some(&prod),
        None,
    );
    (s, admin, app, prod)
}

/// What a store shows of an App: every level's values, and what they
/// resolve to.
pub(crate) fn observed(s: &Store, admin: &Actor, app: &AppId) -> Vec<String> {
    let info = s.app(admin, app).unwrap();
    let mut out = vec![format!("app {} by {}", info.name, info.created_by)];
    for env in s.envs_info(admin, app).unwrap() {
        let (id, name, by) = (env.id, env.name, env.created_by);
        out.push(format!("env {id} {name} {} by {by}", env.env_type));
    }
    for env in std::iter::once(None).chain(s.envs(admin, app).unwrap().into_iter().map(Some)) {
        for v in s.list(admin, app, env.as_ref()).unwrap() {
            out.push(format!(
                "{env:?} {} {:?} {} {} {:?}",
                v.key,
                v.plain(),
                v.template,
                v.description,
                v.secret().map(|s| (&s.secret_store_id, s.managed)),
            ));
        }
        if let Some(env) = env {
            let snapshot = s
                .snapshot(admin, app, &env, VersionSelector::Latest)
                .unwrap();
            let url = snapshot
                .resolver()
                .resolve_str("${values.URL} ${values.OWNED}")
                .unwrap();
            out.push(format!(
                "{env} resolves {}",
                url.as_secret().unwrap().expose_secret()
            ));
        }
    }
    out
}

#[test]
fn a_sealed_export_round_trips_into_a_fresh_store() -> valueset::Result<()> {
    let (s, admin, app, _) = source();
    let doc = s.export_app(&admin, &app, Some(&transfer_key()))?;
    let json = serde_json::to_string_pretty(&doc).unwrap();
    assert!(!json.contains(CANARY), "a secret left in plaintext");
    assert!(!format!("{doc:?}").contains(CANARY));
    let read: ExportDocument = serde_json::from_str(&json).unwrap();
    let target = store();
    target.import_app(&admin, &read, Some(&transfer_key()))?;
    assert_eq!(observed(&target, &admin, &app), observed(&s, &admin, &app));
    let report = target.verify(&admin)?;
    assert_eq!(report.apps, 1);
    Ok(())
}

#[test]
fn without_a_key_library_secrets_cannot_leave_but_references_can() -> valueset::Result<()> {
    let (s, admin, app, _) = source();
    let err = s.export_app(&admin, &app, None).unwrap_err();
    assert_eq!(err.code(), "invalid_export");
    assert!(err.to_string().contains("`PW`"), "{err}");
    // An App whose secrets belong to their owner exports as references.
    let other = AppId::new("other").unwrap();
    s.create_app(&admin, &other)?;
    s.set(
        &admin,
        &other,
        None,
        &key("OWNED"),
        NewValue::secret_ref("vault", SecretRef::new("db/owner")),
        SetOptions::default(),
    )?;
    let doc = s.export_app(&admin, &other, None)?;
    let target = store();
    target.import_app(&admin, &doc, None)?;
    let owned = target.get(&admin, &other, None, &key("OWNED"))?;
    assert_eq!(owned.secret().map(|s| s.managed), Some(false));
    Ok(())
}

#[test]
fn a_bad_document_imports_nothing_and_says_why() {
    let (s, admin, app, _) = source();
    let doc = s.export_app(&admin, &app, Some(&transfer_key())).unwrap();
    let target = store();
    let refused = |doc: &ExportDocument, key: Option<&MasterKey>| {
        let err = target.import_app(&admin, doc, key).unwrap_err();
        assert!(
            target.apps(&admin).unwrap().is_empty(),
            "something was imported"
        );
        assert!(!err.to_string().contains(CANARY));
        err
    };
    let mut tampered = doc.clone();
    tampered.values.get_mut(&key("HOST")).unwrap().value = Some("evil".into());
    assert!(
        refused(&tampered, Some(&transfer_key()))
            .to_string()
            .contains("digest")
    );
    let mut cut = doc.clone();
    cut.envs.clear();
    assert_eq!(
        refused(&cut, Some(&transfer_key())).code(),
        "invalid_export"
    );
    assert_eq!(
        refused(&doc, Some(&MasterKey::from_bytes([1; 32]))).code(),
        "invalid_export"
    );
    assert!(refused(&doc, None).to_string().contains("sealed"));
    let mut newer = doc.clone();
    newer.format = 99;
    assert!(
        refused(&newer, Some(&transfer_key()))
            .to_string()
            .contains("format 99")
    );
    // A value this store refuses: nothing is written.
    let small = Store::builder()
        .master_key(MasterKey::generate())
        .max_value_len(4)
        .in_memory()
        .unwrap();
    let err = small
        .import_app(&admin, &doc, Some(&transfer_key()))
        .unwrap_err();
    assert_eq!(err.code(), "value_too_long");
    assert!(small.apps(&admin).unwrap().is_empty());
    // An App that exists already is not touched.
    let err = s
        .import_app(&admin, &doc, Some(&transfer_key()))
        .unwrap_err();
    assert_eq!(err.code(), "already_exists");
}

#[test]
fn names_travel_checked_and_older_documents_import_under_ids() {
    let (s, admin, app, prod) = source();
    let key = transfer_key();
    let doc = s.export_app(&admin, &app, Some(&key)).unwrap();
    let names = doc.names.clone().expect("an export names its App");
    assert_eq!(names.app.name, "The shop");
    assert_eq!(names.envs[&prod].env_type, "production");
    assert_eq!(names.envs[&prod].created_by, "bob");
    let target = store();
    let refused = |change: &dyn Fn(&mut ExportedNames)| {
        let mut bad = doc.clone();
        change(bad.names.as_mut().unwrap());
        bad.update_digest(Some(&key));
        let err = target.import_app(&admin, &bad, Some(&key)).unwrap_err();
        assert!(target.apps(&admin).unwrap().is_empty(), "imported: {err}");
        err
    };
    let err = refused(&|n| {
        n.envs.remove(&EnvId::new("dev").unwrap());
    });
    assert!(err.to_string().contains("names"), "{err}");
    let err = refused(&|n| n.app.env_type = "production".into());
    assert!(err.to_string().contains("type"), "{err}");
    let err = refused(&|n| n.app.name = "x".repeat(MAX_NAME_LEN + 1));
    assert_eq!(err.code(), "too_long", "{err}");
    let err = refused(&|n| {
        let dev = n.envs.get_mut(&EnvId::new("dev").unwrap()).unwrap();
        dev.env_type = "x".repeat(MAX_NAME_LEN + 1);
    });
    assert_eq!(err.code(), "too_long", "{err}");
    let err = refused(&|n| n.app.created_by = "bad\u{7}name".into());
    assert_eq!(err.code(), "invalid_actor", "{err}");
    // Stripping the names changes the digest: refused.
    let mut stripped = doc.clone();
    stripped.names = None;
    let err = target
        .import_app(&admin, &stripped, Some(&key))
        .unwrap_err();
    assert!(err.to_string().contains("digest"), "{err}");
    // A document made before names were kept (none, digest made without)
    // imports with its App and Environments named by their ids.
    stripped.update_digest(Some(&key));
    target.import_app(&admin, &stripped, Some(&key)).unwrap();
    let info = target.app(&admin, &app).unwrap();
    assert_eq!((info.name.as_str(), info.created_by.as_str()), ("shop", ""));
    let env = target.env(&admin, &app, &prod).unwrap();
    assert_eq!(
        (env.name.as_str(), env.env_type.as_str()),
        ("prod", DEFAULT_ENV_TYPE)
    );
}

#[test]
fn an_import_is_one_atomic_write() {
    let (s, admin, app, _) = source();
    let doc = s.export_app(&admin, &app, Some(&transfer_key())).unwrap();
    let backend = std::sync::Arc::new(Spy::default());
    let target = Store::builder()
        .master_key(MasterKey::generate())
        .reference_store(MemorySecretStore::read_only(
            "vault",
            [("db/owner".to_owned(), Secret::new("owned-secret".into()))],
        ))
        .open_with_backend(std::sync::Arc::clone(&backend))
        .unwrap();
    let importer = Actor::admin("bob");
    let before = backend.applies();
    target
        .import_app(&importer, &doc, Some(&transfer_key()))
        .unwrap();
    // The App, both Environments, every value and the library's secrets:
    // one batch, so no process ever sees part of it.
    assert_eq!(backend.applies() - before, 1);
    assert_eq!(
        observed(&target, &importer, &app),
        observed(&s, &admin, &app)
    );
    let versions = |env: Option<&EnvId>| {
        let options = HistoryOptions::default();
        target.history(&importer, &app, env, options).unwrap()
    };
    let app_history = versions(None);
    assert_eq!(app_history.len(), 1);
    assert_eq!(app_history[0].created_by, "bob");
    assert_eq!(app_history[0].comment, "imported");
    let change = &app_history[0].change;
    assert_eq!(change.len(), 4);
    // Secrets (stored or referenced) start at their first version.
    let secret_versions: Vec<_> = change
        .iter()
        .map(|c| (c.key.as_str(), c.secret_version))
        .collect();
    assert_eq!(
        secret_versions,
        [
            ("HOST", None),
            ("OWNED", Some(1)),
            ("PW", Some(1)),
            ("URL", None)
        ]
    );
    // prod's overrides are its own version after the App's; dev has none.
    let prod = versions(Some(&EnvId::new("prod").unwrap()));
    assert_eq!(prod.len(), 2);
    assert_eq!(prod[0].id.to_string(), "e2");
    assert_eq!(prod[0].comment, "imported");
    assert_eq!(versions(Some(&EnvId::new("dev").unwrap())).len(), 1);
    target.verify_app(&importer, &app).unwrap();
    // The next change takes the next number.
    let next = target
        .set(
            &importer,
            &app,
            None,
            &key("NEW"),
            NewValue::plain("n"),
            SetOptions::default(),
        )
        .unwrap();
    assert_eq!(next.id.to_string(), "a3");
}

#[test]
fn an_import_refuses_what_a_write_refuses() {
    let admin = Actor::admin("alice");
    let app = AppId::new("made").unwrap();
    let target = store();
    let refused_with = |doc: &mut ExportDocument, key: Option<&MasterKey>| {
        doc.update_digest(key);
        let err = target.import_app(&admin, doc, key).unwrap_err();
        assert!(
            target.apps(&admin).unwrap().is_empty(),
            "something was imported"
        );
        err.code()
    };
    let refused = |doc: &mut ExportDocument| refused_with(doc, None);
    // Two templates that use each other, made by another tool.
    let (s, _, _, _) = source();
    let shop = AppId::new("shop").unwrap();
    let mut doc = s.export_app(&admin, &shop, Some(&transfer_key())).unwrap();
    let host = doc.values[&key("HOST")].clone();
    let plain = |v: &str, template: bool| {
        let mut value = host.clone();
        value.value = Some(v.to_owned());
        value.template = template;
        value
    };
    doc.app = app.clone();
    doc.secrets = ExportSecrets::References;
    doc.envs.clear();
    doc.names = None;
    doc.values.clear();
    doc.values.insert(key("A"), plain("${values.B}", true));
    doc.values.insert(key("B"), plain("x${values.A}", true));
    assert_eq!(refused(&mut doc), "template_cycle");
    // The same values, not templates, import.
    let mut fine = doc.clone();
    fine.values.insert(key("A"), plain("${values.B}", false));
    fine.update_digest(None);
    target.import_app(&admin, &fine, None).unwrap();
    target.delete_app(&admin, &app).unwrap();
    // An override of a key the App does not have.
    doc.values.clear();
    let prod = EnvId::new("prod").unwrap();
    doc.envs
        .insert(prod.clone(), [(key("ORPHAN"), plain("o", false))].into());
    assert_eq!(refused(&mut doc), "no_base_value");
    // A history whose last templates use each other.
    let (s, admin, shop, _) = source();
    s.set(
        &admin,
        &shop,
        None,
        &key("A"),
        NewValue::template("${values.URL}"),
        SetOptions::default(),
    )
    .unwrap();
    let mut doc = s
        .export_history(&admin, &shop, Some(&transfer_key()))
        .unwrap();
    let last = doc.history.as_mut().unwrap().versions.last_mut().unwrap();
    let entry = last.entries.get_mut(&key("A")).unwrap();
    entry.content.value = Some("${values.A}".into());
    doc.values.get_mut(&key("A")).unwrap().value = Some("${values.A}".into());
    assert_eq!(
        refused_with(&mut doc, Some(&transfer_key())),
        "template_cycle"
    );
}

#[test]
fn a_sealed_export_needs_the_right_to_resolve_secrets() {
    let (s, _, app, _) = source();
    let viewer = Actor::new("vic", valueset::model::OrgRole::Member)
        .with_app_role(app.clone(), valueset::model::AppRole::Viewer);
    let err = s
        .export_app(&viewer, &app, Some(&transfer_key()))
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

//! docs/guide.md #export-and-import: an App moved to another store whole,
//! secrets sealed or as references, never plaintext; a bad document
//! imports nothing.

use valueset::model::{ExportDocument, NewValue, VersionSelector};
use valueset::secret::{MemorySecretStore, SecretRef};
use valueset::store::SetOptions;
use valueset::{Actor, AppId, EnvId, MasterKey, Secret, Store};

use crate::common::key;

pub(crate) const CANARY: &str = "CANARY-export-77b2";

pub(crate) fn store() -> Store {
    Store::builder()
        .master_key(MasterKey::generate())
        .backend(valueset::backend::MemoryBackend::new())
        .reference_store(MemorySecretStore::read_only(
            "vault",
            [("db/owner".to_owned(), Secret::new("owned-secret".into()))],
        ))
        .build()
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
    s.create_app(&admin, &app).unwrap();
    s.create_env(&admin, &app, &prod).unwrap();
    s.create_env(&admin, &app, &EnvId::new("dev").unwrap())
        .unwrap();
    let set = |k: &str, v: NewValue, env: Option<&EnvId>, description: Option<&str>| {
        let options = SetOptions {
            env: env.cloned(),
            description: description.map(str::to_owned),
            ..SetOptions::default()
        };
        s.set(&admin, &app, &key(k), v, options).unwrap();
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
    let mut out = Vec::new();
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
        &key("OWNED"),
        NewValue::secret_ref("vault", SecretRef::new("db/owner")),
        SetOptions::default(),
    )?;
    let doc = s.export_app(&admin, &other, None)?;
    let target = store();
    target.import_app(&admin, &doc, None)?;
    let owned = target.get(&admin, &other, &key("OWNED"), None)?;
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
    // A value this store refuses: what was written is taken back.
    let small = Store::builder()
        .master_key(MasterKey::generate())
        .max_value_len(4)
        .in_memory();
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
fn a_sealed_export_needs_the_right_to_resolve_secrets() {
    let (s, _, app, _) = source();
    let viewer = Actor::new("vic", valueset::model::OrgRole::Member)
        .with_app_role(app.clone(), valueset::model::AppRole::Viewer);
    let err = s
        .export_app(&viewer, &app, Some(&transfer_key()))
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

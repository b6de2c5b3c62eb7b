//! Secrets of one App are out of reach of another (docs/guide.md
//! #secret-stores, #lifecycle-of-secrets).
//!
//! The bug: a Developer of `shop` could set a reference to the built-in
//! store naming `payroll`'s record (`payroll/_app/bank.token/1`) and resolve
//! it with secrets revealed. The consequence: anyone who may write one App
//! could read every App's secrets. The fix: in the stores the library
//! writes to, a reference may only name a secret of its own App; it is
//! refused when set (`forbidden`), and again when read, so a record forged
//! past the first check does not open either. A reference to a built-in
//! record that does not exist is refused when set (`secret_not_found`).

use std::ops::ControlFlow;
use std::sync::Arc;

use valueset::backend::{Backend, Batch, MemoryBackend};
use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
use valueset::secret::{MemorySecretStore, SecretRef};
use valueset::store::{HistoryOptions, SetOptions};
use valueset::{Actor, AppId, EnvId, Error, Key, MasterKey, Secret, Store};

const CANARY: &str = "payroll-canary-5d1e";

struct Two {
    store: Store,
    admin: Actor,
    shop: AppId,
    other: AppId,
    prod: EnvId,
}

/// `shop` and another App, each with a secret `bank.token` set first (so
/// both records end in `/_app/bank.token/1`), and a `prod` Environment.
fn two_apps(store: Store, other: &str) -> Two {
    let admin = Actor::admin("alice");
    let shop = AppId::new("shop").unwrap();
    let other = AppId::new(other).unwrap();
    let prod = EnvId::new("prod").unwrap();
    for app in [&shop, &other] {
        store.create_app(&admin, app).unwrap();
        store.create_env(&admin, app, &prod).unwrap();
    }
    let token = Key::new("bank.token").unwrap();
    let secret = |s: &str| NewValue::secret(Secret::new(s.to_owned()));
    store
        .set(
            &admin,
            &other,
            None,
            &token,
            secret(CANARY),
            SetOptions::default(),
        )
        .unwrap();
    store
        .set(
            &admin,
            &shop,
            None,
            &token,
            secret("shop-own-token"),
            SetOptions::default(),
        )
        .unwrap();
    Two {
        store,
        admin,
        shop,
        other,
        prod,
    }
}

fn with_master_key() -> Store {
    let key = MasterKey::from_bytes([7; 32]);
    Store::builder().master_key(key).in_memory().unwrap()
}

fn developer_of(app: &AppId) -> Actor {
    Actor::new("mallory", OrgRole::Member).with_app_role(app.clone(), AppRole::Developer)
}

fn set_ref(w: &Two, actor: &Actor, store: &str, reference: &str) -> valueset::Result<()> {
    let key = Key::new("stolen").unwrap();
    let value = NewValue::secret_ref(store, SecretRef::new(reference));
    w.store
        .set(actor, &w.shop, None, &key, value, SetOptions::default())
        .map(|_| ())
}

/// The code a workload that uses `stolen` fails with: its secrets are
/// read ahead together, and the owner check holds there too.
fn workload_code(snapshot: &valueset::store::Snapshot) -> &'static str {
    let mut workload = valueset::resolve::Workload {
        id: "api".into(),
        ..Default::default()
    };
    workload
        .variables
        .insert("S".into(), "${values.stolen}".into());
    let errors = snapshot.resolver().resolve_workload(&workload).unwrap_err();
    errors.code()
}

fn versions(w: &Two) -> usize {
    let options = HistoryOptions {
        limit: Some(1000),
        ..HistoryOptions::default()
    };
    w.store
        .history(&w.admin, &w.shop, None, options)
        .unwrap()
        .len()
}

#[test]
fn a_reference_to_another_apps_builtin_secret_is_refused_when_set() -> valueset::Result<()> {
    let w = two_apps(with_master_key(), "payroll");
    let before = versions(&w);
    let e = set_ref(
        &w,
        &developer_of(&w.shop),
        "builtin",
        "payroll/_app/bank.token/1",
    )
    .unwrap_err();
    assert_eq!(e.code(), "other_app_secret", "{e}");
    assert!(matches!(e, Error::SecretStore(_)), "{e:?}");
    assert!(e.to_string().contains("another app"), "{e}");
    assert!(!format!("{e} {e:?}").contains(CANARY));
    assert_eq!(versions(&w), before, "a refused reference wrote a version");
    // An org Administrator is refused too: the rule is about the data, not
    // the role.
    let e = set_ref(&w, &w.admin, "builtin", "payroll/_app/bank.token/1").unwrap_err();
    assert_eq!(e.code(), "other_app_secret");
    Ok(())
}

#[test]
fn a_reference_to_another_apps_secret_in_the_managed_store_is_refused() -> valueset::Result<()> {
    // Without a master key, submitted secrets go to the in-memory store
    // `memory`, named the same way.
    let w = two_apps(Store::in_memory(), "payroll");
    let e = set_ref(&w, &w.admin, "memory", "payroll/_app/bank.token/1").unwrap_err();
    assert_eq!(e.code(), "other_app_secret", "{e}");
    Ok(())
}

#[test]
fn a_reference_to_a_missing_builtin_record_is_refused_when_set() -> valueset::Result<()> {
    let w = two_apps(with_master_key(), "payroll");
    let before = versions(&w);
    let e = set_ref(&w, &w.admin, "builtin", "shop/_app/nope/9").unwrap_err();
    assert_eq!(e.code(), "secret_not_found", "{e}");
    assert_eq!(versions(&w), before);
    Ok(())
}

#[test]
fn a_reference_to_the_apps_own_builtin_secret_resolves() -> valueset::Result<()> {
    let w = two_apps(with_master_key(), "payroll");
    set_ref(
        &w,
        &developer_of(&w.shop),
        "builtin",
        "shop/_app/bank.token/1",
    )?;
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.shop, &w.prod, VersionSelector::Latest)?;
    let out = snapshot.resolver().resolve_str("${values.stolen}")?;
    assert_eq!(
        out.as_secret().map(Secret::expose_secret),
        Some("shop-own-token")
    );
    Ok(())
}

/// Rewrites `own` to `forged` in every stored entry and in the key index
/// that holds each key's newest entry, as someone with write access to the
/// database would.
fn rewrite_everywhere(
    backend: &dyn valueset::backend::Backend,
    own: &[u8],
    forged: &[u8],
) -> valueset::Result<Batch> {
    let mut rewritten = Batch::new();
    for (start, end) in [(b"H", b"I"), (b"K", b"L")] {
        backend.scan(start, end, false, &mut |k, v| {
            if let Some(at) = v.windows(own.len()).position(|win| win == own) {
                let mut v = v.to_vec();
                v.splice(at..at + own.len(), forged.iter().copied());
                rewritten.insert(k.to_vec(), v);
            }
            ControlFlow::Continue(())
        })?;
    }
    Ok(rewritten)
}

#[test]
fn a_forged_reference_to_another_apps_record_does_not_open() -> valueset::Result<()> {
    // `pays` has an id as long as `shop`, so a stored reference to shop's
    // own record can be rewritten in place to name pays's record, as
    // someone with write access to the database files could.
    let backend = Arc::new(MemoryBackend::new());
    let store = Store::builder()
        .master_key(MasterKey::from_bytes([7; 32]))
        .open_with_backend(Arc::clone(&backend))?;
    let w = two_apps(store, "pays");
    set_ref(&w, &w.admin, "builtin", "shop/_app/bank.token/1")?;
    let (own, forged) = (b"shop/_app/bank.token/1", b"pays/_app/bank.token/1");
    let rewritten = rewrite_everywhere(backend.as_ref(), own, forged)?;
    assert!(!rewritten.is_empty(), "no stored reference to rewrite");
    backend.apply(rewritten)?;

    let snapshot = w
        .store
        .snapshot(&w.admin, &w.shop, &w.prod, VersionSelector::Latest)?;
    let e = Error::from(
        snapshot
            .resolver()
            .resolve_str("${values.stolen}")
            .unwrap_err(),
    );
    assert_eq!(e.code(), "other_app_secret", "{e}");
    assert_eq!(workload_code(&snapshot), "other_app_secret");
    assert!(!format!("{e} {e:?}").contains(CANARY));
    // The other App still reads its own secret, and shop's history no
    // longer verifies.
    let theirs = w
        .store
        .snapshot(&w.admin, &w.other, &w.prod, VersionSelector::Latest)?;
    let out = theirs.resolver().resolve_str("${values.bank.token}")?;
    assert_eq!(out.as_secret().map(Secret::expose_secret), Some(CANARY));
    assert_eq!(w.store.verify(&w.admin).unwrap_err().code(), "tampered");
    Ok(())
}

#[test]
fn a_forged_reference_into_the_managed_store_does_not_open() -> valueset::Result<()> {
    // The in-memory managed store `memory`, named the same way as the
    // built-in one: a reference rewritten to another App's secret there is
    // refused at resolve too.
    let backend = Arc::new(MemoryBackend::new());
    let store = Store::builder()
        .secret_store(MemorySecretStore::new("memory"))
        .open_with_backend(Arc::clone(&backend))?;
    let w = two_apps(store, "pays");
    set_ref(&w, &w.admin, "memory", "shop/_app/bank.token/1")?;
    let (own, forged) = (b"shop/_app/bank.token/1", b"pays/_app/bank.token/1");
    let rewritten = rewrite_everywhere(backend.as_ref(), own, forged)?;
    backend.apply(rewritten)?;
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.shop, &w.prod, VersionSelector::Latest)?;
    let e = Error::from(
        snapshot
            .resolver()
            .resolve_str("${values.stolen}")
            .unwrap_err(),
    );
    assert_eq!(e.code(), "other_app_secret", "{e}");
    assert_eq!(workload_code(&snapshot), "other_app_secret");
    Ok(())
}

/// A managed store that names what it keeps its own way (as Vault or a
/// cloud secret manager would), not after the App.
#[derive(Debug, Default)]
struct Opaque(std::sync::Mutex<Vec<String>>);

impl valueset::secret::SecretStore for Opaque {
    fn id(&self) -> &'static str {
        "opaque"
    }
    fn get(&self, r: &SecretRef) -> Result<Secret, valueset::secret::SecretStoreError> {
        let stored = self.0.lock().unwrap();
        let i: usize = r.reference.strip_prefix("id-").unwrap().parse().unwrap();
        Ok(Secret::new(stored[i].clone()))
    }
    fn is_writable(&self) -> bool {
        true
    }
    fn put(&self, _: &str, s: &Secret) -> Result<SecretRef, valueset::secret::SecretStoreError> {
        let mut stored = self.0.lock().unwrap();
        stored.push(s.expose_secret().to_owned());
        Ok(SecretRef::new(format!("id-{}", stored.len() - 1)))
    }
}

#[test]
fn submitted_secrets_in_a_store_with_its_own_names_resolve() -> valueset::Result<()> {
    let store = Store::builder()
        .secret_store(Opaque::default())
        .in_memory()
        .unwrap();
    let w = two_apps(store, "payroll");
    let snapshot = w
        .store
        .snapshot(&w.admin, &w.shop, &w.prod, VersionSelector::Latest)?;
    let out = snapshot.resolver().resolve_str("${values.bank.token}")?;
    assert_eq!(
        out.as_secret().map(Secret::expose_secret),
        Some("shop-own-token")
    );
    // A reference into it is refused: its names say nothing of the App.
    let e = set_ref(&w, &w.admin, "opaque", "id-0").unwrap_err();
    assert_eq!(e.code(), "other_app_secret");
    Ok(())
}

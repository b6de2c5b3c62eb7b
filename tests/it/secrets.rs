//! docs/guide.md #never-returned, #secret-stores: the secret type and secret stores.

use std::sync::Arc;

use valueset::Secret;
use valueset::secret::{MemorySecretStore, SecretRef, SecretStore, SecretStoreError};

#[test]
fn stores_are_usable_as_trait_objects() -> valueset::Result<()> {
    let stores: Vec<Arc<dyn SecretStore>> = vec![
        Arc::new(MemorySecretStore::new("memory")),
        Arc::new(MemorySecretStore::read_only(
            "vault",
            [("db/password".to_owned(), Secret::new("pw".into()))],
        )),
    ];
    let writable = &stores[0];
    assert!(writable.is_writable());
    let r = writable.put("app/prod/TOKEN", &Secret::new("t1".into()))?;
    assert_eq!(r, SecretRef::new("app/prod/TOKEN").with_version("1"));
    assert_eq!(writable.get(&r)?.expose_secret(), "t1");
    writable.delete(&r)?;
    assert!(matches!(
        writable.get(&r),
        Err(SecretStoreError::NotFound { .. })
    ));

    let read_only = &stores[1];
    assert!(!read_only.is_writable());
    assert_eq!(
        read_only
            .get(&SecretRef::new("db/password"))?
            .expose_secret(),
        "pw"
    );
    let e = valueset::Error::from(read_only.put("x", &Secret::new("y".into())).unwrap_err());
    assert_eq!(e.code(), "secret_store_read_only");
    assert_eq!(e.to_string(), "secret store `vault` is read-only");
    Ok(())
}

#[test]
fn secret_is_wiped_type_with_one_exit() {
    let s = Secret::new(String::from("canary"));
    let copy = s.clone_secret();
    drop(s);
    assert_eq!(copy.expose_secret(), "canary");
    assert_eq!(format!("{copy:?}"), "Secret([redacted])");
}

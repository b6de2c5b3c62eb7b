//! A `SecretStore` implemented outside the crate: secrets read from
//! environment variables (a stand-in for Vault or a cloud secret manager).
//! It is read-only, so the library only ever reads it, at resolve time.
//!
//! Run: `EXAMPLE_SECRET_DB_PASSWORD=s3cr3t cargo run --example custom_secret_store`
//! (without the variable, the resolve reports the secret as not found).
#![allow(clippy::print_stdout)]

use valueset::model::{NewValue, VersionSelector};
use valueset::secret::{SecretRef, SecretStore, SecretStoreError};
use valueset::store::SetOptions;
use valueset::{Actor, AppId, EnvId, Key, Secret, Store};

/// Secrets from environment variables named `PREFIX` + reference.
#[derive(Debug)]
struct EnvVarStore {
    prefix: String,
}

impl SecretStore for EnvVarStore {
    // The trait ties the id to `self`, so stores may own theirs.
    #[allow(clippy::unnecessary_literal_bound)]
    fn id(&self) -> &str {
        "env-vars"
    }

    fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError> {
        let name = format!("{}{}", self.prefix, reference.reference);
        std::env::var(&name)
            .map(Secret::new)
            .map_err(|_| SecretStoreError::NotFound {
                store: self.id().to_owned(),
                reference: reference.clone(),
            })
    }
    // `put` and `delete` keep their defaults: a read-only store.
}

fn main() -> valueset::Result<()> {
    let store = Store::builder()
        .reference_store(EnvVarStore {
            prefix: "EXAMPLE_SECRET_".into(),
        })
        .in_memory()?;
    let admin = Actor::admin("alice");
    let (app, prod) = (AppId::new("shop")?, EnvId::new("production")?);
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let key = Key::new("db.password")?;
    store.set(
        &admin,
        &app,
        None,
        &key,
        NewValue::secret_ref("env-vars", SecretRef::new("DB_PASSWORD")),
        SetOptions::default(),
    )?;
    let view = store.get(&admin, &app, None, &key)?;
    let info = view.secret().expect("a secret");
    println!(
        "db.password lives in store `{}` at `{}`",
        info.secret_store_id, info.secret_ref
    );

    let snapshot = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
    match snapshot
        .resolver()
        .resolve_str("postgres://app:${values.db.password}@db")
    {
        Ok(url) => println!("resolved: is_secret={}", url.is_secret()),
        Err(e) => println!("resolving failed with `{}`: {e}", e.code()),
    }
    Ok(())
}

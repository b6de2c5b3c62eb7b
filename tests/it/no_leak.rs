//! docs/guide.md #never-returned: a secret's value never appears in `Debug`, `Display`, errors or
//! serde output. Every public type that can come near a secret is printed
//! here with a canary inside, and the output is searched for it.

use std::collections::BTreeMap;

use valueset::placeholder::Path;
use valueset::resolve::{
    Context, LookupError, MapValues, Namespace, NamespaceError, Output, Resolver, Value, Values,
    Workload,
};
use valueset::secret::{MemorySecretStore, SecretRef, SecretStore};
use valueset::{Key, Secret};

const CANARY: &str = "CANARY-9d2f61c4";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(CANARY), "{what} leaks the canary: {text}");
    // Not even part of it.
    assert!(
        !text.contains(&CANARY[7..]),
        "{what} leaks part of the canary: {text}"
    );
}

fn secret() -> Secret {
    Secret::new(CANARY.to_owned())
}

#[derive(Debug)]
struct SecretNamespace;

impl Namespace for SecretNamespace {
    fn resolve(&self, _: &Path<'_>, _: &Context) -> Result<Output, NamespaceError> {
        Ok(Output::secret(secret()))
    }
}

#[test]
fn debug_of_every_type_holding_a_secret() -> valueset::Result<()> {
    let s = secret();
    assert_clean("Secret {:?}", &format!("{s:?}"));
    assert_clean("Secret {:#?}", &format!("{s:#?}"));

    let mut values = MapValues::new();
    values.insert_secret(Key::new("TOKEN")?, secret());
    assert_clean("MapValues", &format!("{values:?}"));
    let v = values.value("TOKEN").unwrap();
    assert!(matches!(v, Some(Value::Secret(_))));
    assert_clean("Value", &format!("{v:?}"));

    let store = MemorySecretStore::new("mem");
    let r = store.put("a/TOKEN", &secret())?;
    assert_clean("MemorySecretStore", &format!("{store:?}"));
    assert_clean("SecretRef", &format!("{r:?} {r}"));
    assert_clean("SecretRef serde", &serde_json::to_string(&r).unwrap());
    let read_only = MemorySecretStore::read_only("ro", [("x".to_owned(), secret())]);
    assert_clean("read-only store", &format!("{read_only:?}"));

    let output = Output::secret(secret());
    assert_clean("namespace Output", &format!("{output:?}"));

    let resolver = Resolver::new(&values).with_namespace("vault", SecretNamespace)?;
    assert_clean("Resolver", &format!("{resolver:?}"));
    let bearer = resolver.resolve_str("Bearer ${values.TOKEN} ${vault.x}")?;
    assert!(bearer.is_secret());
    assert_clean("Resolved", &format!("{bearer:?} {bearer:#?}"));

    let workload = Workload {
        id: "api".into(),
        variables: BTreeMap::from([("T".into(), "${values.TOKEN}".into())]),
        ..Workload::default()
    };
    let deployed = resolver.resolve_workload(&workload)?;
    assert_clean("ResolvedWorkload", &format!("{deployed:?}"));
    Ok(())
}

#[test]
fn errors_never_carry_the_secret() -> valueset::Result<()> {
    let mut values = MapValues::new();
    values.insert_secret(Key::new("TOKEN")?, secret());
    let resolver = Resolver::new(&values).with_namespace("vault", SecretNamespace)?;

    // A label that would be secret.
    let workload = Workload {
        id: "api".into(),
        labels: BTreeMap::from([("l".into(), "${values.TOKEN}".into())]),
        ..Workload::default()
    };
    let e = resolver.resolve_workload(&workload).unwrap_err();
    assert_clean("label error", &format!("{e} {e:?}"));

    // A string with a secret and other errors in it.
    let e = resolver
        .resolve_str("${values.TOKEN} ${values.MISSING} ${vault.x}")
        .unwrap_err();
    assert_clean("resolve error", &format!("{e} {e:?}"));

    // The secret as a workload value key, by mistake: the message cuts it.
    let workload = Workload {
        id: "api".into(),
        values: BTreeMap::from([(format!("{} {}", "x".repeat(70), CANARY), "v".into())]),
        ..Workload::default()
    };
    let e = resolver.resolve_workload(&workload).unwrap_err();
    assert_clean("invalid key error", &format!("{e}"));

    // Store errors.
    let store = MemorySecretStore::read_only("ro", [("x".to_owned(), secret())]);
    let e = valueset::Error::from(store.put("x", &secret()).unwrap_err());
    assert_clean("store error", &format!("{e} {e:?}"));
    let e = LookupError::from(store.get(&SecretRef::new("nope")).unwrap_err());
    assert_clean("lookup error", &format!("{e} {e:?}"));
    Ok(())
}

//! docs/guide.md #objects-and-identifiers: ids and keys are only built through validation.

use valueset::{AppId, EnvId, Key};

#[test]
fn all_constructors_validate() -> valueset::Result<()> {
    let app: AppId = "checkout-api".parse()?;
    assert_eq!(app.as_str(), "checkout-api");
    assert_eq!(app.to_string(), "checkout-api");
    assert!(AppId::try_from("Checkout").is_err());
    assert!(EnvId::try_from(String::from("prod_eu")).is_err());
    assert!("a b".parse::<Key>().is_err());
    let key = Key::try_from("db.host")?;
    assert_eq!(key, "db.host");
    Ok(())
}

#[test]
fn serde_validates_on_the_way_in() {
    let key: Key = serde_json::from_str("\"db.host\"").unwrap();
    assert_eq!(serde_json::to_string(&key).unwrap(), "\"db.host\"");
    let err = serde_json::from_str::<Key>("\"a b\"").unwrap_err();
    assert!(err.to_string().contains("invalid key `a b`"), "{err}");
    let err = serde_json::from_str::<AppId>("\"-x\"").unwrap_err();
    assert!(err.to_string().contains("invalid app id `-x`"), "{err}");
    let err = serde_json::from_str::<EnvId>("\"x\"").unwrap_err();
    assert!(
        err.to_string().contains("invalid environment id `x`"),
        "{err}"
    );
}

#[test]
fn error_names_the_rule_and_code() {
    let e = Key::new("k".repeat(300)).unwrap_err();
    assert_eq!(e.code(), "invalid_key");
    // The input is cut in the message, so a value pasted by mistake is not
    // echoed whole.
    assert!(e.to_string().ends_with("…`: at most 256 bytes"), "{e}");
    assert!(e.to_string().len() < 120);
}

//! The properties the fuzz targets check, shared with the test that replays
//! their corpus and crash artifacts (`fuzz_regressions`). The fuzz targets
//! include this file with `#[path]`, so there is one copy of each check.
//!
//! Uses only `valueset`'s public API and `std`.

use std::collections::HashSet;

use valueset::placeholder::{Path, Segment};
use valueset::resolve::{
    Context, LookupError, MapValues, Namespace, NamespaceError, Output, Resolver, Value, Values,
};
use valueset::{Error, Key, Secret, Template};

/// Parsing never panics; a parsed template prints and parses back to the
/// same segments; every span lies inside the input on char boundaries.
pub(crate) fn check_parse(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    match Template::parse(input) {
        Ok(template) => {
            for p in template.placeholders() {
                let span = p.span();
                assert!(input.is_char_boundary(span.start) && input.is_char_boundary(span.end));
                assert!(
                    input[span.range()].starts_with("${") && input[span.range()].ends_with('}')
                );
            }
            let printed = template.to_string();
            let again = Template::parse(&printed).expect("printed template parses");
            assert_eq!(shape(&again), shape(&template), "reprinted as {printed:?}");
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            let mut last = 0;
            for e in &errors {
                let span = e.span();
                assert!(span.start >= last && span.start < span.end && span.end <= input.len());
                assert!(input.is_char_boundary(span.start) && input.is_char_boundary(span.end));
                last = span.end;
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

/// Literal text (adjacent literals joined) and paths.
fn shape(template: &Template<'_>) -> Vec<Result<String, Vec<String>>> {
    let mut out: Vec<Result<String, Vec<String>>> = Vec::new();
    for segment in template.segments() {
        match segment {
            Segment::Literal(t) => match out.last_mut() {
                Some(Ok(text)) => text.push_str(t),
                _ => out.push(Ok((*t).to_owned())),
            },
            Segment::Placeholder(p) => {
                out.push(Err(p.path().segments().map(str::to_owned).collect()));
            }
        }
    }
    out
}

#[derive(Debug)]
struct Echo;

/// `${echo.…}` echoes its path; `${echo.secret.…}` returns it as a secret.
impl Namespace for Echo {
    fn resolve(&self, path: &Path<'_>, _: &Context) -> Result<Output, NamespaceError> {
        let rest = path.tail(1).ok_or(NamespaceError::NotFound)?;
        if path.segments().nth(1) == Some("secret") {
            Ok(Output::secret(Secret::new(rest.into_owned())))
        } else {
            Ok(Output::plain(rest.into_owned()))
        }
    }
}

/// Resolution never panics; the output is secret exactly when some
/// placeholder hit a secret (directly or through a template value); a plain
/// output is the literals and values in order. The input used as a
/// template value resolves as the input itself does, unless it names
/// itself (a cycle).
pub(crate) fn check_resolve(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut values = MapValues::new();
    // What each plain value and each template value resolves to.
    let plain = [
        ("A", "alpha"),
        ("B", "${values.A}"),
        ("a.b", "dotted"),
        ("T", "[alpha]"),
        ("TT", "[alpha]/[alpha]"),
    ];
    for (k, v) in plain.iter().take(3) {
        values.insert(Key::new(*k).expect("valid key"), *v);
    }
    let templates = [
        ("T", "[${values.A}]"),
        ("TT", "${values.T}/${values['T']}"),
        ("TS", "pw=${values.S}"),
        ("C1", "${values.C2}"),
        ("C2", "x${values.C1}"),
    ];
    for (k, v) in templates {
        values.insert_template(Key::new(k).expect("valid key"), v);
    }
    values.insert_secret(
        Key::new("S").expect("valid key"),
        Secret::new("s3cr3t".into()),
    );
    values.insert_purged(Key::new("P").expect("valid key"));
    let secret_keys: HashSet<&str> = HashSet::from(["S", "TS"]);
    check_as_value(&values, input);
    let context = Context {
        app: Some("app".into()),
        env: Some("env".into()),
        ..Context::default()
    };
    let resolver = Resolver::new(&values)
        .with_context(context)
        .with_namespace("echo", Echo)
        .expect("valid namespace");

    let Ok(template) = Template::parse(input) else {
        assert!(matches!(
            resolver.resolve_str(input).map_err(Error::from),
            Err(Error::Template(_))
        ));
        return;
    };
    let expect_secret = template.placeholders().any(|p| {
        let path = p.path();
        match path.first() {
            "values" => path
                .tail(1)
                .is_some_and(|k| secret_keys.contains(k.as_ref())),
            "echo" => path.segments().nth(1) == Some("secret"),
            _ => false,
        }
    });
    match resolver.resolve(&template) {
        Ok(out) => {
            assert_eq!(out.is_secret(), expect_secret, "taint of {input:?}");
            if let Some(text) = out.as_plain() {
                let mut expected = String::new();
                for segment in template.segments() {
                    match segment {
                        Segment::Literal(t) => expected.push_str(t),
                        Segment::Placeholder(p) => {
                            let path = p.path();
                            let tail = path.tail(1).unwrap_or_default();
                            let value = match (path.first(), tail.as_ref()) {
                                ("values", key) => plain
                                    .iter()
                                    .find(|(k, _)| *k == key)
                                    .map(|(_, v)| (*v).to_owned())
                                    .expect("resolved keys exist"),
                                ("echo", rest) => rest.to_owned(),
                                ("context", "app.id") => "app".to_owned(),
                                ("context", "env.id") => "env".to_owned(),
                                other => panic!("resolved an unexpected path {other:?}"),
                            };
                            expected.push_str(&value);
                        }
                    }
                }
                assert_eq!(text, expected);
            }
        }
        Err(errors) => {
            for e in &errors {
                let span = e.span().expect("template errors have spans");
                assert!(span.end <= input.len());
                // Messages echo the template's own text (paths, names), so
                // the secret may appear only if the template spelled it.
                assert!(input.contains("s3cr3t") || !e.to_string().contains("s3cr3t"));
            }
        }
    }
}

/// `input` set as a template value `SELF` resolves as `input` itself does
/// (same text, same taint, or an error), unless it names `SELF`.
fn check_as_value(base: &MapValues, input: &str) {
    let direct = Resolver::new(base).resolve_str(input);
    let mut values = MapValues::new();
    values.insert_template(Key::new("SELF").expect("valid key"), input);
    let layered = Layered { base, top: &values };
    let through = Resolver::new(&layered).resolve_str("${values.SELF}");
    let names_itself = Template::parse(input).is_ok_and(|t| t.value_keys().any(|k| k == "SELF"));
    match (direct, through) {
        (_, Err(_)) if names_itself => {}
        (Ok(a), Ok(b)) => {
            assert_eq!(
                a.is_secret(),
                b.is_secret(),
                "taint of {input:?} as a value"
            );
            assert_eq!(a.as_plain(), b.as_plain(), "{input:?} as a value");
        }
        (Err(_), Err(e)) => {
            assert!(input.contains("s3cr3t") || !e.to_string().contains("s3cr3t"));
        }
        (a, b) => panic!(
            "{input:?}: directly {:?}, as a value {:?}",
            a.is_ok(),
            b.is_ok()
        ),
    }
}

/// `top` over `base`.
struct Layered<'a> {
    base: &'a MapValues,
    top: &'a MapValues,
}

impl Values for Layered<'_> {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        match self.top.value(key)? {
            Some(v) => Ok(Some(v)),
            None => self.base.value(key),
        }
    }
}

/// The key the import check's documents are sealed with.
pub(crate) const IMPORT_KEY: [u8; 32] = [9; 32];

/// Bytes read as an export document (JSON) never panic the import: it
/// succeeds, and the App it made verifies and reads, or fails with a typed
/// error and leaves the store empty. The digest is made again first, so
/// that changed documents reach the checks behind it (the digest check
/// itself is tested in `export.rs`).
pub(crate) fn check_import(data: &[u8]) {
    let Ok(mut doc) = serde_json::from_slice::<valueset::store::ExportDocument>(data) else {
        return;
    };
    doc.update_digest(Some(&valueset::MasterKey::from_bytes(IMPORT_KEY)));
    let store = valueset::Store::builder()
        .master_key(valueset::MasterKey::from_bytes([1; 32]))
        .in_memory()
        .unwrap();
    let admin = valueset::Actor::admin("fuzz");
    let key = valueset::MasterKey::from_bytes(IMPORT_KEY);
    match store.import_app(&admin, &doc, Some(&key)) {
        Ok(()) => {
            let apps = store.apps(&admin).expect("apps");
            assert_eq!(apps, std::slice::from_ref(&doc.app));
            store
                .verify_app(&admin, &doc.app)
                .expect("an import verifies");
            let history = valueset::store::HistoryOptions::default();
            store
                .history(&admin, &doc.app, None, history)
                .expect("history");
            for env in store.envs(&admin, &doc.app).expect("envs") {
                store.list(&admin, &doc.app, Some(&env)).expect("list");
            }
        }
        Err(e) => {
            assert!(!e.code().is_empty() && !e.to_string().is_empty());
            assert!(store.apps(&admin).expect("apps").is_empty(), "{e}");
        }
    }
}

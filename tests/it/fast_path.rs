//! docs/guide.md #zero-copy: `resolve_str` and `resolve_into` take a fast
//! path for `${values.KEY}` and hand over to the general resolver where it
//! cannot finish; the result, the errors (with their spans) and the taint
//! are those of resolving the parsed template. `resolve_into` writes into a
//! buffer the caller reuses.

use proptest::prelude::*;
use valueset::placeholder::Path;
use valueset::resolve::{
    Context, MapValues, Namespace, NamespaceError, Output, ResolveBuffer, Resolved, Resolver,
};
use valueset::{Key, Secret, Template};

fn values() -> MapValues {
    let mut v = MapValues::new();
    v.insert(Key::new("HOST").unwrap(), "db.internal");
    v.insert(Key::new("db.port").unwrap(), "5432");
    v.insert_secret(
        Key::new("PASSWORD").unwrap(),
        Secret::new("pw-canary".into()),
    );
    v.insert_template(Key::new("URL").unwrap(), "pg://${values.HOST}");
    v.insert_purged(Key::new("OLD").unwrap());
    v
}

/// A namespace whose output may not go into a secret.
#[derive(Debug)]
struct Public;

impl Namespace for Public {
    fn resolve(&self, _: &Path<'_>, _: &Context) -> Result<Output, NamespaceError> {
        Ok(Output::plain("example.com".into()).not_allowed_in_secrets())
    }
}

/// A resolution's result or its errors, with their spans.
fn detailed(r: Result<Resolved<'_>, valueset::Error>) -> String {
    match r {
        Ok(Resolved::Plain(t)) => format!("plain {t}"),
        Ok(Resolved::Secret(s)) => format!("secret {}", s.expose_secret()),
        Err(valueset::Error::Unresolved(errors)) => {
            let list: Vec<_> = errors.iter().map(|e| (e.kind().code(), e.span())).collect();
            format!("{list:?}")
        }
        Err(valueset::Error::Template(errors)) => {
            let list: Vec<_> = errors.iter().map(|e| (e.kind().code(), e.span())).collect();
            format!("{list:?}")
        }
        Err(e) => format!("error {}", e.code()),
    }
}

/// What a resolution gave, comparable: the text and its taint, or the
/// error codes.
fn outcome(r: Result<Resolved<'_>, valueset::resolve::ResolveStrError>) -> String {
    match r {
        Ok(Resolved::Plain(t)) => format!("plain {t}"),
        Ok(Resolved::Secret(s)) => format!("secret {}", s.expose_secret()),
        Err(e) => format!("error {}", valueset::Error::from(e).code()),
    }
}

#[test]
fn a_secret_taints_the_buffer_until_it_is_reused() -> valueset::Result<()> {
    let v = values();
    let resolver = Resolver::new(&v);
    let mut out = ResolveBuffer::new();
    resolver.resolve_into("pw=${values.PASSWORD}", &mut out)?;
    assert!(out.is_secret());
    assert_eq!(out.as_plain(), None);
    assert!(!format!("{out:?}").contains("pw-canary"));
    resolver.resolve_into("host=${values.HOST}", &mut out)?;
    assert!(!out.is_secret());
    assert_eq!(out.as_plain(), Some("host=db.internal"));
    resolver.resolve_into("pw=${values.PASSWORD}", &mut out)?;
    let taken = out.take();
    assert_eq!(taken.as_secret().unwrap().expose_secret(), "pw=pw-canary");
    assert_eq!(out.as_plain(), Some(""));
    resolver.resolve_into("port ${values.db.port}", &mut out)?;
    assert_eq!(out.take().as_plain(), Some("port 5432"));
    resolver.resolve_into("plain", &mut out)?;
    out.clear();
    assert_eq!(out.as_plain(), Some(""));
    Ok(())
}

#[test]
fn a_failed_resolution_leaves_the_buffer_empty() {
    let v = values();
    let resolver = Resolver::new(&v);
    let mut out = ResolveBuffer::new();
    for bad in ["a ${values.PASSWORD} ${values.NOPE}", "${values.HOST} ${x"] {
        resolver.resolve_into("before", &mut out).unwrap();
        assert!(resolver.resolve_into(bad, &mut out).is_err());
        assert_eq!(out.as_plain(), Some(""), "{bad}");
        assert!(!out.is_secret());
    }
}

proptest! {
    /// One buffer through many resolutions gives what `resolve_str` gives
    /// each time.
    #[test]
    fn resolve_into_agrees_with_resolve_str(
        texts in proptest::collection::vec(
            "(x|\\$|\\{|\\}|\\$\\{values\\.(HOST|PASSWORD|db\\.port|NOPE)\\}|\\$\\{)*",
            1..8,
        ),
    ) {
        let v = values();
        let resolver = Resolver::new(&v);
        let mut out = ResolveBuffer::new();
        for text in &texts {
            let into = match resolver.resolve_into(text, &mut out) {
                // A plain result stays in the buffer, which the next text
                // reuses.
                Ok(()) if !out.is_secret() => format!("plain {}", out.as_plain().unwrap()),
                into => outcome(into.map(|()| out.take())),
            };
            prop_assert_eq!(into, outcome(resolver.resolve_str(text)));
        }
    }
}

proptest! {
    /// The fast path gives what the general resolver gives for the parsed
    /// template: text, taint, every error and its span.
    #[test]
    fn the_fast_path_agrees_with_the_general_resolver(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "x", "$", "{", "}", "\\", "$\\{", "${", "${a b}", "${values.HOST}",
                "${values.PASSWORD}", "${values.URL}", "${values.NOPE}", "${values.OLD}",
                "${values.db.port}", "${values[\"HOST\"]}", "${context.env.id}",
                "${public.a}", "${other.a}",
            ]),
            0..10,
        ),
    ) {
        let text: String = pieces.concat();
        let v = values();
        let context = Context {
            env: Some("prod".into()),
            ..Context::default()
        };
        let resolver = Resolver::new(&v)
            .with_context(context)
            .with_namespace("public", Public)
            .unwrap();
        let fast = detailed(resolver.resolve_str(&text).map_err(valueset::Error::from));
        let general = match Template::parse(&text) {
            Ok(t) => detailed(resolver.resolve(&t).map_err(valueset::Error::from)),
            Err(e) => detailed(Err(valueset::Error::from(e))),
        };
        prop_assert_eq!(&fast, &general, "{}", text);
        let mut out = ResolveBuffer::new();
        let into = match resolver.resolve_into(&text, &mut out) {
            Ok(()) => detailed(Ok(out.take())),
            Err(e) => detailed(Err(valueset::Error::from(e))),
        };
        prop_assert_eq!(into, general);
    }
}

//! docs/guide.md #resolution-is-the-only-way-out, #single-pass, #what-can-be-resolved: resolution, taint, workloads.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use valueset::placeholder::Path;
use valueset::resolve::{
    Context, FileTemplate, MapValues, Namespace, NamespaceError, Output, ResolveErrorKind,
    Resolved, Resolver, WebhookTemplate, Workload,
};
use valueset::{Error, Key, Secret};

fn values() -> MapValues {
    let mut v = MapValues::new();
    v.insert(Key::new("HOST").unwrap(), "db.internal");
    v.insert(Key::new("db.port").unwrap(), "5432");
    v.insert(Key::new("TEMPLATE_LIKE").unwrap(), "${values.HOST}");
    v.insert_secret(
        Key::new("PASSWORD").unwrap(),
        Secret::new("pw-canary".into()),
    );
    v.insert_purged(Key::new("OLD").unwrap());
    v
}

fn codes(e: &Error) -> Vec<&'static str> {
    match e {
        Error::Unresolved(errors) => errors.iter().map(|e| e.kind().code()).collect(),
        Error::Template(errors) => errors.iter().map(|e| e.kind().code()).collect(),
        other => vec![other.code()],
    }
}

#[test]
fn values_and_dotted_keys() -> valueset::Result<()> {
    let v = values();
    let r = Resolver::new(&v);
    let out = r.resolve_str("${values.HOST}:${values.db.port}/${values[\"db.port\"]}")?;
    assert_eq!(out.as_plain(), Some("db.internal:5432/5432"));
    Ok(())
}

#[test]
fn template_without_placeholders_comes_back_borrowed() -> valueset::Result<()> {
    let v = values();
    let text = String::from("nothing to see $ here");
    let out = Resolver::new(&v).resolve_str(&text)?;
    let Resolved::Plain(Cow::Borrowed(s)) = out else {
        panic!("expected a borrowed result, got {out:?}");
    };
    assert_eq!(s.as_ptr(), text.as_ptr());
    Ok(())
}

#[test]
fn escape_resolves_to_literal_dollar_brace() -> valueset::Result<()> {
    let v = values();
    let out = Resolver::new(&v).resolve_str("$\\{values.HOST} is ${values.HOST}")?;
    assert_eq!(out.as_plain(), Some("${values.HOST} is db.internal"));
    Ok(())
}

#[test]
fn single_pass_inserts_values_as_text() -> valueset::Result<()> {
    let v = values();
    let out = Resolver::new(&v).resolve_str("x=${values.TEMPLATE_LIKE}")?;
    assert_eq!(out.as_plain(), Some("x=${values.HOST}"));
    Ok(())
}

#[test]
fn secret_taints_the_whole_string() -> valueset::Result<()> {
    let v = values();
    let out = Resolver::new(&v).resolve_str("postgres://u:${values.PASSWORD}@${values.HOST}")?;
    assert!(out.is_secret());
    assert_eq!(out.as_plain(), None);
    assert_eq!(
        out.as_secret().unwrap().expose_secret(),
        "postgres://u:pw-canary@db.internal"
    );
    assert!(!format!("{out:?}").contains("pw-canary"));
    Ok(())
}

#[test]
fn every_unresolved_placeholder_is_reported_with_its_span() {
    let v = values();
    let text = "${values.NOPE} ${values.OLD} ${nope.x} ${values} ${values['a b']} ${context.app.id} ${context.foo}";
    let e = Error::from(Resolver::new(&v).resolve_str(text).unwrap_err());
    assert_eq!(
        codes(&e),
        [
            "unknown_key",
            "purged",
            "unknown_namespace",
            "missing_key",
            "invalid_key",
            "missing_context",
            "unknown_context"
        ]
    );
    assert_eq!(e.code(), "unknown_key");
    let Error::Unresolved(errors) = &e else {
        panic!()
    };
    assert_eq!((errors.len(), errors.is_empty()), (7, false));
    assert_eq!(errors.into_iter().count(), 7);
    let spans: Vec<_> = errors.iter().map(|e| e.span().unwrap()).collect();
    for span in &spans {
        assert!(text[span.range()].starts_with("${") && text[span.range()].ends_with('}'));
    }
    assert_eq!(&text[spans[0].range()], "${values.NOPE}");
    let message = e.to_string();
    assert!(
        message.contains("no shared value has the key `NOPE`"),
        "{message}"
    );
    assert!(
        message.contains("the value of `OLD` was purged from this version"),
        "{message}"
    );
    assert!(message.contains("unknown namespace `nope`"), "{message}");
    assert!(message.contains("`context.app.id` is not set"), "{message}");
}

#[test]
fn syntax_errors_come_first_as_template_errors() {
    let v = values();
    let e = Error::from(
        Resolver::new(&v)
            .resolve_str("${values.HOST ${}")
            .unwrap_err(),
    );
    assert_eq!(codes(&e), ["unterminated", "empty_placeholder"]);
}

#[test]
fn plain_maps_are_values() -> valueset::Result<()> {
    let hashed = HashMap::from([("HOST".to_owned(), "db.internal".to_owned())]);
    let ordered = BTreeMap::from([("HOST".to_owned(), "db.internal".to_owned())]);
    for r in [Resolver::new(&hashed), Resolver::new(&ordered)] {
        assert_eq!(
            r.resolve_str("h=${values.HOST}")?.as_plain(),
            Some("h=db.internal")
        );
        let e = Error::from(r.resolve_str("${values.PORT}").unwrap_err());
        assert_eq!(codes(&e), ["unknown_key"]);
    }
    Ok(())
}

#[test]
fn context_paths() -> valueset::Result<()> {
    let v = HashMap::<String, String>::new();
    let ctx = Context {
        app: Some("shop".into()),
        env: Some("prod".into()),
        org: Some("acme".into()),
        workload: Some("api".into()),
        deploy: Some("d-42".into()),
    };
    let r = Resolver::new(&v).with_context(ctx);
    let out = r.resolve_str(
        "${context.org.id}/${context.app.id}/${context.env.id}/${context.workload.id}/${context['deploy'].id}",
    )?;
    assert_eq!(out.as_plain(), Some("acme/shop/prod/api/d-42"));
    Ok(())
}

#[derive(Debug)]
struct Resources;

impl Namespace for Resources {
    fn resolve(&self, path: &Path<'_>, ctx: &Context) -> Result<Output, NamespaceError> {
        match path.tail(1).as_deref() {
            Some("db.host") => Ok(Output::plain(format!(
                "{}-db",
                ctx.env.as_deref().unwrap_or("none")
            ))),
            Some("db.password") => Ok(Output::secret(Secret::new("ns-secret".into()))),
            Some("dns.public") => Ok(Output::plain("example.com".into()).not_allowed_in_secrets()),
            Some("broken") => Err(NamespaceError::Failed {
                message: "backend timed out".into(),
            }),
            _ => Err(NamespaceError::NotFound),
        }
    }
}

#[test]
fn namespaces_resolve_and_taint() -> valueset::Result<()> {
    let v = values();
    let ctx = Context {
        env: Some("prod".into()),
        ..Context::default()
    };
    let r = Resolver::new(&v)
        .with_context(ctx)
        .with_namespace("resources", Resources)?;
    assert_eq!(
        r.resolve_str("${resources.db.host}")?.as_plain(),
        Some("prod-db")
    );
    assert!(r.resolve_str("${resources.db.password}")?.is_secret());
    assert_eq!(
        r.resolve_str("https://${resources.dns.public}")?.as_plain(),
        Some("https://example.com")
    );
    let e = Error::from(
        r.resolve_str("${resources.dns.public}:${values.PASSWORD}")
            .unwrap_err(),
    );
    assert_eq!(codes(&e), ["secret_not_allowed"]);
    let e = Error::from(
        r.resolve_str("${resources.broken} ${resources.x}")
            .unwrap_err(),
    );
    assert_eq!(codes(&e), ["namespace_failed", "unknown_path"]);
    assert!(
        e.to_string()
            .contains("namespace `resources` failed: backend timed out")
    );
    Ok(())
}

#[test]
fn reserved_and_bad_namespace_names_are_refused() {
    let v = values();
    for name in ["values", "context", "", "a.b", "a b"] {
        let e = Resolver::new(&v)
            .with_namespace(name, Resources)
            .unwrap_err();
        assert_eq!(e.code(), "invalid_namespace", "{name}");
    }
}

#[test]
fn namespace_names_take_letters_digits_underscores_and_dashes() -> valueset::Result<()> {
    let v = values();
    let r = Resolver::new(&v).with_namespace("my-res_2", Resources)?;
    assert_eq!(
        r.resolve_str("${my-res_2.dns.public}")?.as_plain(),
        Some("example.com")
    );
    Ok(())
}

#[test]
fn the_context_set_is_the_context_read() {
    let v = values();
    let ctx = Context {
        app: Some("shop".into()),
        env: Some("prod".into()),
        ..Context::default()
    };
    let r = Resolver::new(&v).with_context(ctx.clone());
    assert_eq!(r.context(), &ctx);
    assert_eq!(Resolver::new(&v).context(), &Context::default());
}

#[test]
fn into_plain_gives_the_text_and_nothing_for_a_secret() -> valueset::Result<()> {
    let v = values();
    let r = Resolver::new(&v);
    assert_eq!(
        r.resolve_str("at ${values.HOST}")?.into_plain().as_deref(),
        Some("at db.internal")
    );
    assert_eq!(r.resolve_str("${values.PASSWORD}")?.into_plain(), None);
    Ok(())
}

#[test]
fn a_dotted_key_longer_than_a_key_may_be_is_refused() -> valueset::Result<()> {
    let v = values();
    let r = Resolver::new(&v);
    // 256 characters may name a key (none here); 257 may not.
    let longest = format!("a.{}", "b".repeat(254));
    let too_long = format!("a.{}", "b".repeat(255));
    for (key, code) in [(&longest, "unknown_key"), (&too_long, "invalid_key")] {
        let text = format!("${{values.{key}}}");
        let template = valueset::Template::parse(&text)?;
        let e = Error::from(r.resolve(&template).unwrap_err());
        assert_eq!(codes(&e), [code], "{} characters", key.len());
        let e = Error::from(r.resolve_str(&text).unwrap_err());
        assert_eq!(codes(&e), [code], "{} characters, resolve_str", key.len());
    }
    Ok(())
}

fn workload() -> Workload {
    Workload {
        id: "api".into(),
        values: BTreeMap::from([("HOST".into(), "workload-host".into())]),
        variables: BTreeMap::from([
            ("DB_HOST".into(), "${values.HOST}".into()),
            (
                "DB_URL".into(),
                "pg://${values.PASSWORD}@${values.HOST}".into(),
            ),
            ("STATIC".into(), "plain".into()),
        ]),
        files: BTreeMap::from([(
            "/etc/app.conf".into(),
            FileTemplate {
                mode: Some("0600".into()),
                value: "password=${values.PASSWORD}\n".into(),
            },
        )]),
        labels: BTreeMap::from([("app".into(), "${context.workload.id}".into())]),
        webhooks: BTreeMap::from([(
            "notify".into(),
            WebhookTemplate {
                url: "https://${values.HOST}/hook".into(),
                headers: BTreeMap::from([(
                    "Authorization".into(),
                    "Bearer ${values.PASSWORD}".into(),
                )]),
            },
        )]),
    }
}

#[test]
fn workload_items_resolve_with_workload_values_on_top() -> valueset::Result<()> {
    let v = values();
    let w = workload();
    let out = Resolver::new(&v).resolve_workload(&w)?;
    // Workload-level values override the others.
    assert_eq!(out.variables["DB_HOST"].as_plain(), Some("workload-host"));
    assert!(out.variables["DB_URL"].is_secret());
    assert!(matches!(
        out.variables["STATIC"],
        Resolved::Plain(Cow::Borrowed("plain"))
    ));
    let file = &out.files["/etc/app.conf"];
    assert_eq!(file.mode.as_deref(), Some("0600"));
    assert!(file.content.is_secret());
    assert_eq!(out.labels["app"], "api");
    let hook = &out.webhooks["notify"];
    assert_eq!(hook.url.as_plain(), Some("https://workload-host/hook"));
    assert!(hook.headers["Authorization"].is_secret());
    Ok(())
}

#[test]
fn a_label_can_never_be_secret() {
    let v = values();
    let mut w = workload();
    w.labels
        .insert("leak".into(), "x-${values.PASSWORD}".into());
    let e = Resolver::new(&v).resolve_workload(&w).unwrap_err();
    let errors: Vec<_> = e.iter().collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].item(), Some("labels.leak"));
    assert_eq!(errors[0].kind(), &ResolveErrorKind::SecretInLabel);
    assert_eq!(errors[0].span().unwrap().range(), 2..20);
    assert!(!e.to_string().contains("pw-canary"));
}

#[test]
fn workload_errors_name_their_items() {
    let v = values();
    let mut w = workload();
    w.values.insert("bad key".into(), "x".into());
    w.variables.insert("BROKEN".into(), "${values.}".into());
    w.webhooks
        .get_mut("notify")
        .unwrap()
        .headers
        .insert("X".into(), "${values.NOPE}".into());
    let e = Resolver::new(&v).resolve_workload(&w).unwrap_err();
    let items: Vec<_> = e
        .iter()
        .map(|e| (e.item().unwrap(), e.kind().code()))
        .collect();
    assert_eq!(
        items,
        [
            ("values.bad key", "invalid_key"),
            ("variables.BROKEN", "invalid_template"),
            ("webhooks.notify.headers.X", "unknown_key"),
        ]
    );
    let broken = e.iter().nth(1).unwrap();
    assert_eq!(
        broken.kind(),
        &ResolveErrorKind::Syntax(valueset::placeholder::ParseErrorKind::EmptySegment)
    );
    assert_eq!(broken.span().unwrap().range(), 0..10);
}

#[test]
fn workload_json_is_strict() {
    let w: Workload = serde_json::from_str(
        r#"{"id": "api", "variables": {"A": "${values.HOST}"}, "files": {"/f": {"value": "x"}}}"#,
    )
    .unwrap();
    assert_eq!(w.files["/f"].mode, None);
    let e = serde_json::from_str::<Workload>(r#"{"id": "api", "varibles": {}}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field `varibles`"), "{e}");
}

#[test]
fn a_snapshot_knows_where_it_is() -> valueset::Result<()> {
    let w = crate::common::World::new();
    w.set("A", "1");
    let snapshot = w.store.snapshot(
        &w.admin,
        &w.app,
        &w.prod,
        valueset::model::VersionSelector::Latest,
    )?;
    let out = snapshot
        .resolver()
        .resolve_str("${context.app.id}/${context.env.id}")?;
    assert_eq!(out.as_plain(), Some("shop/prod"));
    Ok(())
}

//! Limits on every input (docs/guide.md #durability-concurrency-and-bad-input).
//!
//! The bug: a 50 MB description or comment, a 100 kB actor name, an empty
//! one and one with a newline were all accepted (one `set` grew a store to
//! 465 MB), a batch that changed nothing wrote an empty version, and a
//! template with 200,000 broken placeholders made a 20 MB error message.
//! The fix: descriptions and comments are capped, actor names are checked,
//! an empty batch is refused, and error messages list the first few errors
//! and count the rest. Each refusal writes nothing.

use valueset::model::{MAX_ACTOR_NAME_LEN, NewValue, OrgRole};
use valueset::placeholder::SHOWN_ERRORS;
use valueset::resolve::Resolver;
use valueset::store::{
    ChangeSet, DeleteOptions, HistoryOptions, MAX_COMMENT_LEN, MAX_DESCRIPTION_LEN, SetOptions,
    WriteOptions,
};
use valueset::{Actor, Error, Template};

use crate::common::{World, key};

fn versions(w: &World) -> usize {
    let options = HistoryOptions {
        limit: Some(1000),
        ..HistoryOptions::default()
    };
    w.store
        .history(&w.admin, &w.app, None, options)
        .unwrap()
        .len()
}

#[test]
fn descriptions_and_comments_are_capped() -> valueset::Result<()> {
    let w = World::new();
    w.set("A", "1");
    let before = versions(&w);
    let long_description = SetOptions {
        description: Some("d".repeat(MAX_DESCRIPTION_LEN + 1)),
        ..SetOptions::default()
    };
    let e = w
        .store
        .set(
            &w.admin,
            &w.app,
            None,
            &key("A"),
            NewValue::plain("2"),
            long_description,
        )
        .unwrap_err();
    assert_eq!(e.code(), "too_long");
    assert_eq!(
        e.to_string(),
        format!("description of `A` is 4097 bytes, more than the limit of {MAX_DESCRIPTION_LEN}")
    );
    let e = w
        .store
        .describe(
            &w.admin,
            &w.app,
            None,
            &key("A"),
            "d".repeat(5000),
            WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "too_long");
    let long_comment = SetOptions {
        comment: "c".repeat(MAX_COMMENT_LEN + 1),
        ..SetOptions::default()
    };
    let e = w
        .store
        .set(
            &w.admin,
            &w.app,
            None,
            &key("A"),
            NewValue::plain("2"),
            long_comment,
        )
        .unwrap_err();
    assert_eq!(e.code(), "too_long");
    let purge = WriteOptions {
        comment: "c".repeat(MAX_COMMENT_LEN + 1),
        ..WriteOptions::default()
    };
    let first = w
        .store
        .history(&w.admin, &w.app, None, HistoryOptions::default())?;
    let a1 = first.last().unwrap().id;
    w.set("A", "3");
    let before_purge = versions(&w);
    let e = w
        .store
        .purge(&w.admin, &w.app, None, a1.into(), &key("A"), purge)
        .unwrap_err();
    assert_eq!(e.code(), "too_long");
    assert_eq!(versions(&w), before_purge);
    assert_eq!(
        before_purge,
        before + 1,
        "only the plain set wrote a version"
    );
    // At the limit is fine.
    let at_limit = SetOptions {
        description: Some("d".repeat(MAX_DESCRIPTION_LEN)),
        comment: "c".repeat(MAX_COMMENT_LEN),
        ..SetOptions::default()
    };
    w.store.set(
        &w.admin,
        &w.app,
        None,
        &key("A"),
        NewValue::plain("4"),
        at_limit,
    )?;
    Ok(())
}

#[test]
fn actor_names_are_checked() -> valueset::Result<()> {
    let w = World::new();
    let before = versions(&w);
    let cases = [
        (String::new(), "invalid_actor"),
        ("eve\nmallory".to_owned(), "invalid_actor"),
        ("tab\there".to_owned(), "invalid_actor"),
        ("a".repeat(100_000), "too_long"),
        ("a".repeat(MAX_ACTOR_NAME_LEN + 1), "too_long"),
    ];
    for (name, code) in cases {
        let actor = Actor::new(name.clone(), OrgRole::Administrator);
        let e = w
            .store
            .set(
                &actor,
                &w.app,
                None,
                &key("A"),
                NewValue::plain("x"),
                SetOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.code(), code, "{name:?}");
        assert!(e.to_string().len() < 200, "the message echoes the name");
        assert_eq!(w.store.apps(&actor).unwrap_err().code(), code);
    }
    assert_eq!(versions(&w), before);
    let fine = Actor::new("a".repeat(MAX_ACTOR_NAME_LEN), OrgRole::Administrator);
    w.store.set(
        &fine,
        &w.app,
        None,
        &key("A"),
        NewValue::plain("x"),
        SetOptions::default(),
    )?;
    Ok(())
}

#[test]
fn a_batch_that_changes_nothing_is_refused() -> valueset::Result<()> {
    let w = World::new();
    let before = versions(&w);
    let e = w
        .store
        .apply(
            &w.admin,
            &w.app,
            None,
            ChangeSet::new(),
            DeleteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "empty_batch");
    assert!(matches!(e, Error::Invalid(_)));
    assert_eq!(versions(&w), before);
    Ok(())
}

#[test]
fn a_template_with_very_many_errors_makes_a_short_message() {
    let text = "${".repeat(200_000);
    let errors = Template::parse(&text).unwrap_err();
    assert_eq!(
        errors.len(),
        200_000,
        "every error is still there to iterate"
    );
    let message = errors.to_string();
    assert!(message.len() < 2_000, "{} bytes", message.len());
    assert!(
        message.ends_with(&format!("and {} more", 200_000 - SHOWN_ERRORS)),
        "{message}"
    );
    let values = std::collections::HashMap::<String, String>::new();
    let unresolved = "${values.NOPE} ".repeat(50_000);
    let e = Error::from(Resolver::new(&values).resolve_str(&unresolved).unwrap_err());
    assert!(e.to_string().len() < 2_000);
    assert!(e.to_string().ends_with("and 49990 more"), "{e}");
}

#[test]
fn a_short_list_of_errors_is_listed_whole() {
    let two = Template::parse("${} ${a b}").unwrap_err().to_string();
    assert_eq!(two.matches("; ").count(), 1, "{two}");
    let ten = Template::parse(&"${".repeat(SHOWN_ERRORS)).unwrap_err();
    assert_eq!(ten.len(), SHOWN_ERRORS);
    let message = ten.to_string();
    assert!(!message.contains("more"), "{message}");
    assert_eq!(message.matches("; ").count(), SHOWN_ERRORS - 1, "{message}");
}

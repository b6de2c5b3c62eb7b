//! docs/guide.md #syntax, #zero-copy: the template grammar, its errors, zero copy.

use std::fmt::Write as _;
use std::path::Path;

use valueset::Template;
use valueset::placeholder::Segment;

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/templates")
}

/// The rendering that `ok_*.expected` files hold: one line per segment.
fn render(template: &Template<'_>) -> String {
    let mut out = String::new();
    for segment in template.segments() {
        match segment {
            Segment::Literal(text) => {
                writeln!(out, "literal {}", serde_json::to_string(text).unwrap()).unwrap();
            }
            Segment::Placeholder(p) => {
                let path: Vec<&str> = p.path().segments().collect();
                writeln!(
                    out,
                    "path {} {}",
                    serde_json::to_string(&path).unwrap(),
                    p.span()
                )
                .unwrap();
            }
        }
    }
    out
}

#[test]
fn data_driven_cases() {
    let mut ok = 0;
    let mut fail = 0;
    let mut entries: Vec<_> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tpl"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let input = std::fs::read_to_string(&path).unwrap();
        if name.starts_with("ok_") {
            let expected = std::fs::read_to_string(path.with_extension("expected")).unwrap();
            let template = Template::parse(&input)
                .unwrap_or_else(|e| panic!("{name}: expected to parse, got {e}"));
            assert_eq!(render(&template), expected, "{name}");
            // Printing and parsing again gives the same segments.
            let printed = template.to_string();
            let again = Template::parse(&printed).unwrap();
            assert_eq!(
                render(&again).lines().map(strip_span).collect::<Vec<_>>(),
                expected.lines().map(strip_span).collect::<Vec<_>>(),
                "{name}: reprinted as {printed:?}"
            );
            ok += 1;
        } else if name.starts_with("fail_") {
            let expected = std::fs::read_to_string(path.with_extension("errors")).unwrap();
            let errors = Template::parse(&input).expect_err(&name);
            let mut got = String::new();
            for e in &errors {
                writeln!(got, "{} {}", e.span(), e.kind().code()).unwrap();
            }
            assert_eq!(got, expected, "{name}");
            for e in &errors {
                assert!(e.span().end <= input.len());
                assert!(input.is_char_boundary(e.span().start));
                assert!(input.is_char_boundary(e.span().end));
                assert!(e.span().range().contains(&e.at()) || e.at() == e.span().end);
            }
            fail += 1;
        } else {
            panic!("{name}: data files start with ok_ or fail_");
        }
    }
    assert!(ok >= 10 && fail >= 8, "found {ok} ok and {fail} fail cases");
}

fn strip_span(line: &str) -> &str {
    if line.starts_with("path ") {
        line.rsplit_once(' ').map_or(line, |(a, _)| a)
    } else {
        line
    }
}

#[test]
fn literals_borrow_from_the_input() {
    let input = String::from("prefix ${values.A} middle $\\{ suffix ${values.db.host}");
    let template = Template::parse(&input).unwrap();
    let range = input.as_bytes().as_ptr_range();
    for segment in template.segments() {
        if let Segment::Literal(text) = segment {
            assert!(range.contains(&text.as_ptr()), "{text:?} is a copy");
        }
    }
    // A dotted key is borrowed too.
    let p = template.placeholders().nth(1).unwrap();
    let key = p.path().tail(1).unwrap();
    assert!(matches!(key, std::borrow::Cow::Borrowed("db.host")));
    assert!(range.contains(&key.as_ptr()));
}

#[test]
fn no_placeholder_is_one_borrowed_literal() {
    let text = "a".repeat(10_000) + "$ { } $x {$}";
    let template = Template::parse(&text).unwrap();
    assert_eq!(template.as_borrowed_literal(), Some(text.as_str()));
    assert!(template.is_literal());
    assert_eq!(Template::parse("").unwrap().as_borrowed_literal(), Some(""));
}

#[test]
fn error_messages_are_for_people() {
    let errors = Template::parse("${values.} ${a b} ${").unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "empty path segment: a path is names joined by single dots, with no dot at the start or end (placeholder at bytes 0..10)",
            "whitespace is not allowed inside `${…}` outside quotes (placeholder at bytes 11..17)",
            "unterminated placeholder: `${` has no closing `}` (placeholder at bytes 18..20)",
        ]
    );
    let err = valueset::Error::from(errors);
    assert_eq!(err.code(), "invalid_template");
    assert!(
        err.to_string()
            .starts_with("invalid template: empty path segment")
    );

    let e = Template::parse("${a#b}").unwrap_err();
    assert_eq!(
        e.iter().next().unwrap().kind().to_string(),
        "character `#` is not allowed in a name (use A-Z a-z 0-9 _ -, or quote the segment as [\"…\"])"
    );
}

#[test]
fn canonical_printing() {
    let t = Template::parse(r#"${['a']["b.c"].d} $\{x} ${x["\n"]}"#).unwrap();
    assert_eq!(t.to_string(), r#"${a["b.c"].d} $\{x} ${x["\n"]}"#);
}

/// What a parsed template says of itself: its text, whether it has a
/// placeholder, and paths that compare by their segments however written.
#[test]
fn a_template_and_its_paths_describe_themselves() {
    let text = "host=${db.host} ${[\"db\"]['host']} ${db.port}";
    let t = Template::parse(text).unwrap();
    assert_eq!(t.source(), text);
    assert!(!t.is_literal());
    assert!(Template::parse("plain $ text").unwrap().is_literal());
    let paths: Vec<_> = t
        .placeholders()
        .map(valueset::placeholder::Placeholder::path)
        .collect();
    assert_eq!(paths[0], paths[1], "dotted and bracketed spell one path");
    assert_ne!(paths[0], paths[2]);
    for p in &paths {
        assert_eq!((p.len(), p.is_empty()), (2, false));
    }
}

/// A path prints canonically: control characters as JSON escapes, a space
/// as itself, so the printed text parses back to the same path.
#[test]
fn paths_print_control_characters_escaped() {
    let t = Template::parse(r#"${a["x\u0001y"]} ${["a b\u001f"]}"#).unwrap();
    let printed: Vec<String> = t.placeholders().map(|p| p.path().to_string()).collect();
    assert_eq!(printed, [r#"a["x\u0001y"]"#, r#"["a b\u001f"]"#]);
}

//! Properties of the parser (proptest): it never panics, it reads back what
//! a printer wrote, and text without `${` is one borrowed literal.

use proptest::prelude::*;
use valueset::Template;
use valueset::placeholder::Segment;

#[derive(Clone, Debug)]
enum Piece {
    Literal(String),
    Path(Vec<String>),
}

/// Characters that exercise the grammar, plus some that don't.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::sample::select(vec!['$', '{', '}', '[', ']', '"', '\'', '\\', '.', ' ', 'a', 'Z', '0', '_', '-', 'é', '\n']),
        1 => any::<char>(),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..40).prop_map(|v| v.into_iter().collect())
}

fn literal() -> impl Strategy<Value = String> {
    tricky_string().prop_filter("`$\\{` has no spelling", |s| {
        !s.contains("$\\{") && !s.is_empty()
    })
}

fn path_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,8}",
        tricky_string().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

fn pieces() -> impl Strategy<Value = Vec<Piece>> {
    prop::collection::vec(
        prop_oneof![
            literal().prop_map(Piece::Literal),
            prop::collection::vec(path_segment(), 1..4).prop_map(Piece::Path),
        ],
        0..8,
    )
}

/// A printer written independently of the library's: `${` in literals
/// escaped, names bare, anything else as a JSON string in brackets.
fn print(pieces: &[(bool, Vec<String>)]) -> String {
    let mut out = String::new();
    for (is_literal, parts) in pieces {
        match (is_literal, parts) {
            (true, text) => out.push_str(&text[0].replace("${", "$\\{")),
            (false, segments) => {
                out.push_str("${");
                for (i, s) in segments.iter().enumerate() {
                    let name = s
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if name {
                        if i > 0 {
                            out.push('.');
                        }
                        out.push_str(s);
                    } else {
                        out.push('[');
                        out.push_str(&serde_json::to_string(s).unwrap());
                        out.push(']');
                    }
                }
                out.push('}');
            }
        }
    }
    out
}

/// Adjacent literals merged: what a template stands for.
fn normalise(pieces: Vec<Piece>) -> Vec<(bool, Vec<String>)> {
    let mut out: Vec<(bool, Vec<String>)> = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Literal(t) => match out.last_mut() {
                Some((true, lit)) => lit[0].push_str(&t),
                _ => out.push((true, vec![t])),
            },
            Piece::Path(p) => out.push((false, p)),
        }
    }
    out
}

fn parsed(template: &Template<'_>) -> Vec<(bool, Vec<String>)> {
    normalise(
        template
            .segments()
            .iter()
            .map(|s| match s {
                Segment::Literal(t) => Piece::Literal((*t).to_owned()),
                Segment::Placeholder(p) => {
                    Piece::Path(p.path().segments().map(str::to_owned).collect())
                }
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_and_spans_are_sound(input in prop_oneof![tricky_string(), any::<String>()]) {
        match Template::parse(&input) {
            Ok(t) => {
                for p in t.placeholders() {
                    prop_assert!(input.is_char_boundary(p.span().start));
                    prop_assert!(input.is_char_boundary(p.span().end));
                    prop_assert!(input[p.span().range()].starts_with("${"), "starts with the opener");
                    prop_assert!(input[p.span().range()].ends_with('}'), "ends with the closer");
                }
                // Printing and parsing again gives the same template.
                let printed = t.to_string();
                let again = Template::parse(&printed).unwrap();
                prop_assert_eq!(parsed(&again), parsed(&t));
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                let mut last_end = 0;
                for e in &errors {
                    let span = e.span();
                    prop_assert!(span.start >= last_end, "errors in order, not overlapping");
                    prop_assert!(span.end <= input.len());
                    prop_assert!(input.is_char_boundary(span.start));
                    prop_assert!(input.is_char_boundary(span.end));
                    prop_assert!(input[span.range()].starts_with("${"), "starts with the opener");
                    last_end = span.end;
                }
            }
        }
    }

    #[test]
    fn printed_pieces_parse_back(pieces in pieces()) {
        let pieces = normalise(pieces);
        // Joining literals can spell `$\{`, which has no spelling.
        prop_assume!(pieces.iter().all(|(lit, p)| !lit || !p[0].contains("$\\{")));
        let text = print(&pieces);
        let template = Template::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(parsed(&template), pieces);
    }

    #[test]
    fn text_without_placeholders_is_one_borrowed_literal(
        text in tricky_string().prop_filter("no `${`", |s| !s.contains("${") && !s.contains("$\\{"))
    ) {
        let template = Template::parse(&text).unwrap();
        prop_assert_eq!(template.as_borrowed_literal(), Some(text.as_str()));
    }

    #[test]
    fn escaping_round_trips(text in literal()) {
        let escaped = text.replace("${", "$\\{");
        let template = Template::parse(&escaped).unwrap();
        prop_assert!(template.is_literal());
        let joined: String = template
            .segments()
            .iter()
            .map(|s| match s {
                Segment::Literal(t) => *t,
                Segment::Placeholder(_) => "",
            })
            .collect();
        prop_assert_eq!(joined, text);
    }
}

//! The template scanner and the placeholder path grammar (nom).
//!
//! The outer scan finds `$` with `memchr` and only looks closer where a `$`
//! is followed by `{` or `\{`; text without `$` is never walked byte by byte.
//! Inside `${`, nom parsers read the path. On an error, the scanner records
//! it and recovers at the next `}` (or stops the placeholder before the next
//! `${`), so that every error in a template is reported.
#![warn(clippy::indexing_slicing)]

use std::borrow::Cow;

use memchr::{memchr_iter, memchr2};
use nom::bytes::complete::{take_till, take_while_m_n, take_while1};
use nom::error::ErrorKind;

use super::error::{ParseError, ParseErrorKind};
use super::{Path, Placeholder, Repr, Segment, Span};

/// Scans a whole template, calling `emit` with each segment in order.
///
/// Input: the template text. Borrows: every literal and every dotted path is
/// a slice of `input`. After the first error `emit` is no longer called, but
/// scanning goes on; returns every error found.
pub(super) fn scan<'a, F: FnMut(Segment<'a>)>(input: &'a str, emit: F) -> Vec<ParseError> {
    scan_from(input, 0, emit)
}

/// [`scan`] from byte `start` of `input` (a position where a literal may
/// begin): spans stay offsets into the whole of `input`.
pub(super) fn scan_from<'a, F: FnMut(Segment<'a>)>(
    input: &'a str,
    start: usize,
    mut emit: F,
) -> Vec<ParseError> {
    let bytes = input.as_bytes();
    let mut errors = Vec::new();
    let mut literal_start = start;
    // Where the text not yet read starts: a `$` before it is inside a
    // placeholder already read. One iterator over every `$`, so the scan
    // moves forward whatever a placeholder's length.
    let mut pos = start;
    let tail = bytes.get(start..).unwrap_or_default();
    for at in memchr_iter(b'$', tail).map(|i| start + i) {
        if at < pos {
            continue;
        }
        match bytes.get(at + 1) {
            Some(b'{') => {
                if errors.is_empty() {
                    literal(&mut emit, input, literal_start, at);
                }
                let end = match placeholder(input, at) {
                    Ok((p, end)) => {
                        if errors.is_empty() {
                            emit(Segment::Placeholder(p));
                        }
                        end
                    }
                    Err((e, end)) => {
                        errors.push(e);
                        end
                    }
                };
                pos = end;
                literal_start = end;
            }
            Some(b'\\') if bytes.get(at + 2) == Some(&b'{') => {
                // `$\{`: the literal so far ends after `$`, the next starts
                // at `{`; the backslash falls between them.
                if errors.is_empty() {
                    literal(&mut emit, input, literal_start, at + 1);
                }
                literal_start = at + 2;
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        literal(&mut emit, input, literal_start, input.len());
    }
    errors
}

fn literal<'a>(emit: &mut impl FnMut(Segment<'a>), input: &'a str, start: usize, end: usize) {
    if start < end
        && let Some(text) = input.get(start..end)
    {
        emit(Segment::Literal(text));
    }
}

/// Whether `s` is a name, `[A-Za-z0-9_-]+`, that prints without quotes.
pub(super) fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_name_byte)
}

/// The bytes names are made of, as a table: one load per byte.
#[allow(clippy::indexing_slicing)] // a `u8` always indexes 256 entries
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

fn is_name_byte(b: u8) -> bool {
    NAME_BYTES.get(usize::from(b)).copied().unwrap_or(false)
}

/// The common case, names joined by single dots and closed by `}`: the
/// length of the path, found in one pass over its bytes. `None` for
/// anything else, which the grammar then reads (and reports, if wrong);
/// where this answers, the grammar gives the same path.
pub(crate) fn dotted_path(inner: &str) -> Option<usize> {
    let mut after_dot = true;
    for (i, &b) in inner.as_bytes().iter().enumerate() {
        if is_name_byte(b) {
            after_dot = false;
        } else if after_dot {
            return None;
        } else if b == b'.' {
            after_dot = true;
        } else if b == b'}' {
            return Some(i);
        } else {
            return None;
        }
    }
    None
}

/// Parses the placeholder whose `$` is at `at` (followed by `{`).
///
/// Returns the placeholder and the offset just past its `}`; or the error and
/// the offset where scanning resumes.
fn placeholder(input: &str, at: usize) -> Result<(Placeholder<'_>, usize), (ParseError, usize)> {
    let inner = input.get(at + 2..).unwrap_or("");
    if let Some(dotted) = dotted_path(inner).and_then(|len| inner.get(..len)) {
        let end = at + 2 + dotted.len() + 1;
        let path = Path {
            repr: Repr::Dotted(dotted),
        };
        let span = Span { start: at, end };
        return Ok((Placeholder { path, span }, end));
    }
    match path(inner) {
        Ok((rest, repr)) => {
            // `path` stops only at `}`.
            let end = input.len() - rest.len() + 1;
            let span = Span { start: at, end };
            Ok((
                Placeholder {
                    path: Path { repr },
                    span,
                },
                end,
            ))
        }
        Err(PathError { rest, kind }) => {
            let err_at = input.len() - rest.len();
            Err(recover(input, at, err_at, kind))
        }
    }
}

/// After an error at `err_at` in the placeholder starting at `start`: the
/// placeholder ends at the next `}`, unless a `${` or the end of the input
/// comes first, which makes it unterminated.
fn recover(input: &str, start: usize, err_at: usize, kind: ParseErrorKind) -> (ParseError, usize) {
    let bytes = input.as_bytes();
    let mut pos = err_at;
    let stop = loop {
        match bytes.get(pos..).and_then(|rest| memchr2(b'}', b'$', rest)) {
            None => break None,
            Some(i) => {
                let at = pos + i;
                if bytes.get(at) == Some(&b'}') {
                    break Some(at);
                }
                if bytes.get(at + 1) == Some(&b'{') {
                    let span = Span { start, end: at };
                    return (
                        ParseError::new(span, err_at, ParseErrorKind::Unterminated),
                        at,
                    );
                }
                pos = at + 1;
            }
        }
    };
    let Some(close) = stop else {
        let span = Span {
            start,
            end: input.len(),
        };
        return (
            ParseError::new(span, err_at, ParseErrorKind::Unterminated),
            input.len(),
        );
    };
    // The placeholder ends after its `}`, and so does the error's span.
    let end = close + 1;
    let span = Span { start, end };
    (ParseError::new(span, err_at, kind), end)
}

/// A path error: where it was found (the rest of the input from there) and
/// what it is. Also nom's error type, so nom parsers report into it.
#[derive(Debug)]
struct PathError<'a> {
    rest: &'a str,
    kind: ParseErrorKind,
}

impl<'a> nom::error::ParseError<&'a str> for PathError<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        // The grammar only calls nom where a failure means "the input ended";
        // every other failure is named by hand before nom is asked.
        PathError {
            rest: input,
            kind: ParseErrorKind::Unterminated,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = Result<(&'a str, T), PathError<'a>>;

fn fail<T>(rest: &str, kind: ParseErrorKind) -> PResult<'_, T> {
    Err(PathError { rest, kind })
}

fn from_nom(e: nom::Err<PathError<'_>>) -> PathError<'_> {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => PathError {
            rest: "",
            kind: ParseErrorKind::Unterminated,
        },
    }
}

/// The error for an unexpected character at the start of `rest`.
fn unexpected(rest: &str) -> PathError<'_> {
    let kind = match rest.chars().next() {
        None => ParseErrorKind::Unterminated,
        Some(c) if c.is_whitespace() => ParseErrorKind::Whitespace,
        Some(c) => ParseErrorKind::InvalidChar(c),
    };
    PathError { rest, kind }
}

/// Parses a path and stops at the `}` that closes it.
///
/// Input: the text just after `${`. Borrows: a dotted path is one slice of
/// the input. The cursor ends on the closing `}` (not consumed).
fn path(input: &str) -> PResult<'_, Repr<'_>> {
    // `None` while the path is dotted names only.
    let mut list: Option<Vec<Cow<'_, str>>> = None;
    let mut rest = match input.as_bytes().first() {
        Some(b'}') => return fail(input, ParseErrorKind::Empty),
        Some(b'.') => return fail(input, ParseErrorKind::EmptySegment),
        Some(b'[') => bracketed(input, &mut list)?,
        Some(&b) if is_name_byte(b) => name(input)?.0,
        _ => return Err(unexpected(input)),
    };
    loop {
        match rest.as_bytes().first() {
            Some(b'}') => break,
            Some(b'.') => {
                let after = rest.get(1..).unwrap_or("");
                match after.as_bytes().first() {
                    Some(&b) if is_name_byte(b) => {
                        let (r, n) = name(after)?;
                        if let Some(list) = &mut list {
                            list.push(Cow::Borrowed(n));
                        }
                        rest = r;
                    }
                    Some(b'[') => return fail(after, ParseErrorKind::DotBeforeBracket),
                    Some(b'.' | b'}') => return fail(after, ParseErrorKind::EmptySegment),
                    _ => return Err(unexpected(after)),
                }
            }
            Some(b'[') => {
                if list.is_none() {
                    let dotted = input.get(..input.len() - rest.len()).unwrap_or("");
                    list = Some(dotted.split('.').map(Cow::Borrowed).collect());
                }
                rest = bracketed(rest, &mut list)?;
            }
            _ => return Err(unexpected(rest)),
        }
    }
    let repr = match list {
        Some(list) => Repr::Segments(list),
        None => Repr::Dotted(input.get(..input.len() - rest.len()).unwrap_or("")),
    };
    Ok((rest, repr))
}

/// A name, `[A-Za-z0-9_-]+`. The cursor ends after it. Scans bytes: a
/// name is ASCII, so its end is a char boundary.
fn name(input: &str) -> PResult<'_, &str> {
    let (_, found): (&[u8], &[u8]) = take_while1::<_, _, nom::error::Error<&[u8]>>(is_name_byte)(
        input.as_bytes(),
    )
    .map_err(|_| PathError {
        rest: input,
        kind: ParseErrorKind::Unterminated,
    })?;
    let (name, rest) = input.split_at_checked(found.len()).ok_or(PathError {
        rest: input,
        kind: ParseErrorKind::Unterminated,
    })?;
    Ok((rest, name))
}

/// `["…"]` or `['…']`, pushed onto `list`. The cursor ends after `]`.
fn bracketed<'a>(
    input: &'a str,
    list: &mut Option<Vec<Cow<'a, str>>>,
) -> Result<&'a str, PathError<'a>> {
    let after_open = input.get(1..).unwrap_or("");
    let (rest, value) = quoted(after_open)?;
    if value.is_empty() {
        return fail(after_open, ParseErrorKind::EmptySegment).map(|(r, ())| r);
    }
    match rest.as_bytes().first() {
        Some(b']') => {
            list.get_or_insert_with(Vec::new).push(value);
            Ok(rest.get(1..).unwrap_or(""))
        }
        _ => fail(rest, ParseErrorKind::ExpectedCloseBracket).map(|(r, ())| r),
    }
}

/// A quoted string, `"…"` or `'…'`, with JSON escapes and `\'`.
///
/// Input: starts at the opening quote. Borrows: the content, unless it has
/// an escape. The cursor ends after the closing quote. An unterminated string
/// is reported at its opening quote, so that recovery looks for the `}` from
/// there.
fn quoted(input: &str) -> PResult<'_, Cow<'_, str>> {
    let Some(quote @ ('"' | '\'')) = input.chars().next() else {
        return fail(input, ParseErrorKind::ExpectedString);
    };
    let mut rest = input.get(1..).unwrap_or("");
    let mut owned: Option<String> = None;
    loop {
        let (after, run) = take_till(|c| c == quote || c == '\\')(rest).map_err(from_nom)?;
        match after.chars().next() {
            None => return fail(input, ParseErrorKind::UnterminatedString),
            Some('\\') => {
                let buf = owned.get_or_insert_with(String::new);
                buf.push_str(run);
                let (r, c) = escape(after)?;
                buf.push(c);
                rest = r;
            }
            Some(_) => {
                let value = match owned {
                    Some(mut buf) => {
                        buf.push_str(run);
                        Cow::Owned(buf)
                    }
                    None => Cow::Borrowed(run),
                };
                return Ok((after.get(1..).unwrap_or(""), value));
            }
        }
    }
}

/// One escape. Input: starts at the backslash. The cursor ends after it.
fn escape(input: &str) -> PResult<'_, char> {
    let after = input.get(1..).unwrap_or("");
    let Some(c) = after.chars().next() else {
        return fail(input, ParseErrorKind::UnterminatedString);
    };
    let rest = after.get(c.len_utf8()..).unwrap_or("");
    let decoded = match c {
        '"' => '"',
        '\'' => '\'',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => return unicode_escape(input, rest),
        other => return fail(input, ParseErrorKind::BadEscape(other)),
    };
    Ok((rest, decoded))
}

/// The rest of a `\uXXXX` escape (and its low surrogate, if it names a high
/// one). `start` is the backslash, for the error position.
fn unicode_escape<'a>(start: &'a str, input: &'a str) -> PResult<'a, char> {
    let bad = || PathError {
        rest: start,
        kind: ParseErrorKind::BadUnicodeEscape,
    };
    let (rest, high) = hex4(input).ok_or_else(bad)?;
    if (0xDC00..0xE000).contains(&high) {
        return Err(bad());
    }
    if !(0xD800..0xDC00).contains(&high) {
        return char::from_u32(high).map(|c| (rest, c)).ok_or_else(bad);
    }
    let low_digits = rest.strip_prefix("\\u").ok_or_else(bad)?;
    let (rest, low) = hex4(low_digits).ok_or_else(bad)?;
    if !(0xDC00..0xE000).contains(&low) {
        return Err(bad());
    }
    let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    char::from_u32(c).map(|c| (rest, c)).ok_or_else(bad)
}

/// Four hex digits.
fn hex4(input: &str) -> Option<(&str, u32)> {
    let (rest, digits): (&str, &str) =
        take_while_m_n::<_, _, PathError<'_>>(4, 4, |c: char| c.is_ascii_hexdigit())(input).ok()?;
    u32::from_str_radix(digits, 16).ok().map(|n| (rest, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(input: &str) -> Result<Vec<Segment<'_>>, Vec<ParseError>> {
        let mut segments = Vec::new();
        let errors = scan(input, |s| segments.push(s));
        if errors.is_empty() {
            Ok(segments)
        } else {
            Err(errors)
        }
    }

    fn segs(input: &str) -> Vec<String> {
        template(input)
            .unwrap()
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => format!("L{l}"),
                Segment::Placeholder(p) => format!("P{:?}@{}", p.path, p.span),
            })
            .collect()
    }

    fn codes(input: &str) -> Vec<(String, &'static str)> {
        template(input)
            .unwrap_err()
            .iter()
            .map(|e| (e.span().to_string(), e.kind().code()))
            .collect()
    }

    #[test]
    fn literals_and_placeholders() {
        assert_eq!(segs(""), Vec::<String>::new());
        assert_eq!(segs("plain $ { } text"), ["Lplain $ { } text"]);
        assert_eq!(segs("a${x}b"), ["La", "P[\"x\"]@1..5", "Lb"]);
        assert_eq!(segs("$${x}"), ["L$", "P[\"x\"]@1..5"]);
        assert_eq!(segs("a$\\{b}"), ["La$", "L{b}"]);
        assert_eq!(segs("$\\{"), ["L$", "L{"]);
        assert_eq!(segs("$\\\\{x}"), ["L$\\\\{x}"]);
    }

    #[test]
    fn a_dotted_path_ends_before_its_brace() {
        // What the one-pass shortcut declines comes here; a dotted path
        // must stop at the `}` whatever follows it.
        for (input, rest) in [("a.b}", "}"), ("a.b}tail text", "}tail text")] {
            let (left, repr) = path(input).unwrap();
            assert_eq!(left, rest);
            assert!(matches!(repr, Repr::Dotted("a.b")), "{input}");
        }
        let (_, repr) = path("a['b'].c}").unwrap();
        assert!(matches!(repr, Repr::Segments(ref s) if s == &["a", "b", "c"]));
    }

    #[test]
    fn path_forms_are_equal() {
        let forms = [
            "${shared.users-db.name}",
            "${[\"shared\"][\"users-db\"][\"name\"]}",
            "${shared['users-db'].name}",
        ];
        for f in forms {
            assert_eq!(
                segs(f),
                ["P[\"shared\", \"users-db\", \"name\"]@0..".to_owned() + &f.len().to_string()],
                "{f}"
            );
        }
    }

    #[test]
    fn escapes_in_brackets() {
        assert_eq!(segs(r#"${a["b.c"]}"#), [r#"P["a", "b.c"]@0..11"#]);
        assert_eq!(
            segs(r#"${a["\u00e9\n\"\\"]}"#),
            ["P[\"a\", \"é\\n\\\"\\\\\"]@0..20"]
        );
        assert_eq!(segs(r#"${a["\ud83d\ude00"]}"#), ["P[\"a\", \"😀\"]@0..20"]);
        assert_eq!(segs(r"${a['it\'s']}"), ["P[\"a\", \"it's\"]@0..13"]);
        assert_eq!(segs(r#"${a["}"]}"#), [r#"P["a", "}"]@0..9"#]);
    }

    #[test]
    fn every_error_is_reported() {
        assert_eq!(codes("${}"), [("0..3".into(), "empty_placeholder")]);
        assert_eq!(codes("${values.}"), [("0..10".into(), "empty_segment")]);
        assert_eq!(codes("${a..b}"), [("0..7".into(), "empty_segment")]);
        assert_eq!(codes("${.a}"), [("0..5".into(), "empty_segment")]);
        assert_eq!(codes("${a b}"), [("0..6".into(), "whitespace")]);
        assert_eq!(codes("${a#b}"), [("0..6".into(), "invalid_char")]);
        assert_eq!(
            codes("${a.[\"b\"]}"),
            [("0..10".into(), "dot_before_bracket")]
        );
        assert_eq!(codes("${a[b]}"), [("0..7".into(), "expected_string")]);
        assert_eq!(
            codes("${a[\"b\"}"),
            [("0..8".into(), "expected_close_bracket")]
        );
        assert_eq!(codes("${a[\"b}"), [("0..7".into(), "unterminated_string")]);
        assert_eq!(codes("${a[\"\\x\"]}"), [("0..10".into(), "bad_escape")]);
        assert_eq!(
            codes("${a[\"\\ud800\"]}"),
            [("0..14".into(), "bad_unicode_escape")]
        );
        assert_eq!(codes("${a[\"\"]}"), [("0..8".into(), "empty_segment")]);
        assert_eq!(codes("x ${a"), [("2..5".into(), "unterminated")]);
        assert_eq!(
            codes("${} ${a b} ${x"),
            [
                ("0..3".into(), "empty_placeholder"),
                ("4..10".into(), "whitespace"),
                ("11..14".into(), "unterminated")
            ]
        );
        // A missing `}` before the next placeholder: that one still parses.
        assert_eq!(codes("${a ${b}"), [("0..4".into(), "unterminated")]);
        assert_eq!(codes("${a${b}}"), [("0..3".into(), "unterminated")]);
    }

    proptest::proptest! {
        /// The fast path for dotted names answers exactly where the
        /// grammar reads a dotted path, with the same path.
        #[test]
        fn the_fast_path_agrees_with_the_grammar(inner in "[a_.}\\[\"' -]{0,12}") {
            let fast = dotted_path(&inner).and_then(|len| inner.get(..len));
            let grammar = match path(&inner) {
                Ok((_, Repr::Dotted(d))) => Some(d),
                _ => None,
            };
            proptest::prop_assert_eq!(fast, grammar);
        }
    }

    #[test]
    fn the_fast_path_reads_dotted_names_only() {
        assert_eq!(dotted_path("values.A-1_b}x"), Some(12));
        assert_eq!(dotted_path("a}"), Some(1));
        for other in [
            "",
            "}",
            ".a}",
            "a.}",
            "a..b}",
            "a[\"b\"]}",
            "a b}",
            "a",
            "a.b",
            "é}",
        ] {
            assert_eq!(dotted_path(other), None, "{other}");
        }
        assert!(NAME_BYTES.iter().filter(|b| **b).count() == 64);
    }

    #[test]
    fn tail_borrows_for_dotted_paths() {
        let segments = template("${values.a.b}").unwrap();
        let Some(Segment::Placeholder(p)) = segments.first() else {
            panic!()
        };
        assert!(matches!(p.path.tail(1), Some(Cow::Borrowed("a.b"))));
        assert_eq!(p.path.tail(3), None);
        assert_eq!(p.path.len(), 3);
        assert_eq!(p.path.first(), "values");
    }
}

//! Syntax errors in templates.

use std::fmt;

use super::Span;
use crate::codes;

/// One syntax error: what is wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    span: Span,
    at: usize,
    kind: ParseErrorKind,
}

/// What is wrong with a placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// `${` with no closing `}` before the end or the next `${`.
    Unterminated,
    /// `${}`.
    Empty,
    /// A path with an empty segment: `${values.}`, `${a..b}`, `${.a}`, or an
    /// empty quoted string `${a[""]}`.
    EmptySegment,
    /// A character that is not allowed in a name and is not quoted.
    InvalidChar(char),
    /// Whitespace inside the braces, outside quotes.
    Whitespace,
    /// A dot before a bracket: `${a.["b"]}` (write `${a["b"]}`).
    DotBeforeBracket,
    /// `[` not followed by a quoted string.
    ExpectedString,
    /// A quoted segment not followed by `]`.
    ExpectedCloseBracket,
    /// A quoted string with no closing quote.
    UnterminatedString,
    /// An escape that JSON does not define, such as `\x`.
    BadEscape(char),
    /// A `\u` escape without four hex digits, or naming a lone surrogate.
    BadUnicodeEscape,
}

/// Every syntax error in a template, in the order they occur. Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseErrors(Vec<ParseError>);

impl ParseError {
    pub(super) fn new(span: Span, at: usize, kind: ParseErrorKind) -> Self {
        ParseError { span, at, kind }
    }

    /// The span of the offending placeholder, from its `$` to its `}` (or to
    /// where it stops, for an unterminated one).
    pub fn span(&self) -> Span {
        self.span
    }

    /// The byte offset where the problem was found, inside [`span`](Self::span).
    pub fn at(&self) -> usize {
        self.at
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (placeholder at bytes {})", self.kind, self.span)
    }
}

impl std::error::Error for ParseError {}

impl ParseErrorKind {
    /// A stable snake_case code for the error, for tests and tools.
    pub fn code(&self) -> &'static str {
        match self {
            ParseErrorKind::Unterminated => codes::UNTERMINATED,
            ParseErrorKind::Empty => codes::EMPTY_PLACEHOLDER,
            ParseErrorKind::EmptySegment => codes::EMPTY_SEGMENT,
            ParseErrorKind::InvalidChar(_) => codes::INVALID_CHAR,
            ParseErrorKind::Whitespace => codes::WHITESPACE,
            ParseErrorKind::DotBeforeBracket => codes::DOT_BEFORE_BRACKET,
            ParseErrorKind::ExpectedString => codes::EXPECTED_STRING,
            ParseErrorKind::ExpectedCloseBracket => codes::EXPECTED_CLOSE_BRACKET,
            ParseErrorKind::UnterminatedString => codes::UNTERMINATED_STRING,
            ParseErrorKind::BadEscape(_) => codes::BAD_ESCAPE,
            ParseErrorKind::BadUnicodeEscape => codes::BAD_UNICODE_ESCAPE,
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::Unterminated => {
                f.write_str("unterminated placeholder: `${` has no closing `}`")
            }
            ParseErrorKind::Empty => {
                f.write_str("empty placeholder `${}`: write a path such as `${values.KEY}`")
            }
            ParseErrorKind::EmptySegment => f.write_str(
                "empty path segment: a path is names joined by single dots, \
                 with no dot at the start or end",
            ),
            ParseErrorKind::InvalidChar(c) => write!(
                f,
                "character `{}` is not allowed in a name (use A-Z a-z 0-9 _ -, \
                 or quote the segment as [\"…\"])",
                c.escape_default()
            ),
            ParseErrorKind::Whitespace => {
                f.write_str("whitespace is not allowed inside `${…}` outside quotes")
            }
            ParseErrorKind::DotBeforeBracket => f.write_str(
                "a dot must be followed by a name; a bracketed segment follows \
                 directly, as `a[\"b\"]`",
            ),
            ParseErrorKind::ExpectedString => f.write_str(
                "`[` must be followed by a quoted string, as `[\"name\"]` or `['name']`",
            ),
            ParseErrorKind::ExpectedCloseBracket => {
                f.write_str("a quoted segment must be closed with `]`")
            }
            ParseErrorKind::UnterminatedString => {
                f.write_str("unterminated quoted string: no closing quote")
            }
            ParseErrorKind::BadEscape(c) => write!(
                f,
                "unknown escape `\\{}` in a quoted string (JSON escapes only)",
                c.escape_default()
            ),
            ParseErrorKind::BadUnicodeEscape => f.write_str(
                "invalid `\\u` escape: it needs four hex digits naming a character \
                 (surrogates only in pairs)",
            ),
        }
    }
}

impl ParseErrors {
    pub(super) fn new(errors: Vec<ParseError>) -> Self {
        debug_assert!(!errors.is_empty());
        ParseErrors(errors)
    }

    /// The errors, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ParseError> {
        self.0.iter()
    }

    /// How many errors there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: there is at least one error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How many errors a message lists before it only counts the rest, so that
/// a template with 200,000 broken placeholders makes a short message.
pub const SHOWN_ERRORS: usize = 10;

/// The message lists the first [`SHOWN_ERRORS`] errors, then how many more
/// there are; iterate for all of them.
impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid template: ")?;
        write_capped(f, &self.0)
    }
}

/// Writes the first [`SHOWN_ERRORS`] of `errors` separated by `; `, then
/// how many more there are: the one shape of every list of errors.
pub(crate) fn write_capped<E: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    errors: &[E],
) -> fmt::Result {
    for (i, e) in errors.iter().take(SHOWN_ERRORS).enumerate() {
        if i > 0 {
            f.write_str("; ")?;
        }
        write!(f, "{e}")?;
    }
    if let Some(more) = errors.len().checked_sub(SHOWN_ERRORS).filter(|n| *n > 0) {
        write!(f, "; and {more} more")?;
    }
    Ok(())
}

impl std::error::Error for ParseErrors {}

impl<'e> IntoIterator for &'e ParseErrors {
    type Item = &'e ParseError;
    type IntoIter = std::slice::Iter<'e, ParseError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for ParseErrors {
    type Item = ParseError;
    type IntoIter = std::vec::IntoIter<ParseError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

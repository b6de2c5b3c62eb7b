//! Templates with `${…}` placeholders, parsed without copying (guide: [Syntax](crate::_documentation::guide#syntax), [Zero copy](crate::_documentation::guide#zero-copy)).
//!
//! [`Template::parse`] borrows its input: a parsed template is a list of
//! [`Segment`]s, literal `&str` runs and [`Placeholder`]s, pointing into the
//! input. A placeholder's [`Path`] borrows too; only a bracketed segment with
//! escapes owns a copy. A template without `${` is found with one `memchr`
//! scan and becomes a single borrowed literal.
//!
//! # Grammar
//!
//! | text | meaning |
//! |---|---|
//! | `${PATH}` | a placeholder |
//! | `$\{` | a literal `${` (the backslash is dropped) |
//! | any other `$`, `{`, `}` | literal text |
//!
//! `PATH` is a sequence of segments: names of `[A-Za-z0-9_-]+` joined by
//! `.`, or quoted strings in brackets, with double or single quotes and JSON
//! escapes (`\"`, `\'`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`).
//! These are all the same path `shared` / `users-db` / `name`:
//!
//! ```text
//! ${shared.users-db.name}
//! ${["shared"]["users-db"]["name"]}
//! ${shared['users-db'].name}
//! ```
//!
//! A bracketed segment follows the path directly (`a["b"]`, not `a.["b"]`),
//! may hold any character but may not be empty. Whitespace is not allowed
//! inside the braces, outside quotes.
//!
//! Parsing reports every error in a template, each with the byte span of the
//! offending placeholder:
//!
//! ```
//! use valueset::Template;
//!
//! let errors = Template::parse("${values.} and ${a b} and ${").unwrap_err();
//! let codes: Vec<_> = errors.iter().map(|e| e.kind().code()).collect();
//! assert_eq!(codes, ["empty_segment", "whitespace", "unterminated"]);
//! assert_eq!(errors.iter().next().unwrap().span().range(), 0..10);
//! ```

mod error;
mod parse;

use std::borrow::Cow;
use std::fmt;

pub(crate) use error::write_capped;
pub use error::{ParseError, ParseErrorKind, ParseErrors, SHOWN_ERRORS};
pub(crate) use parse::dotted_path;

/// A byte range `start..end` into a template (`end` exclusive). Both ends lie
/// on `char` boundaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span as a range, for slicing the template's source.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A parsed template, borrowing its source.
///
/// ```
/// use valueset::Template;
/// use valueset::placeholder::Segment;
///
/// let t = Template::parse("postgres://${values.db.host}:5432")?;
/// let [Segment::Literal(a), Segment::Placeholder(p), Segment::Literal(b)] = t.segments() else {
///     panic!("three segments");
/// };
/// assert_eq!((*a, *b), ("postgres://", ":5432"));
/// assert_eq!(p.path().segments().collect::<Vec<_>>(), ["values", "db", "host"]);
/// assert_eq!(p.span().range(), 11..28);
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Template<'a> {
    source: &'a str,
    segments: Vec<Segment<'a>>,
}

/// A piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Literal text, borrowed from the source. An escape `$\{` ends one
    /// literal after the `$` and starts the next at the `{`, so literals stay
    /// borrowed; adjacent literals are simply concatenated.
    Literal(&'a str),
    /// A `${…}` placeholder.
    Placeholder(Placeholder<'a>),
}

/// A `${PATH}` placeholder and where it stands in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder<'a> {
    path: Path<'a>,
    span: Span,
}

/// The path inside a placeholder: one or more non-empty segments.
///
/// A path of dotted names only (the common case) is stored as one borrowed
/// slice, without allocating; a path with bracketed segments keeps a list in
/// which only segments with escapes are owned.
///
/// Two paths are equal when their segments are, however they were written.
#[derive(Clone)]
pub struct Path<'a> {
    repr: Repr<'a>,
}

#[derive(Clone)]
enum Repr<'a> {
    /// Names joined by single dots, each `[A-Za-z0-9_-]+`.
    Dotted(&'a str),
    /// At least one bracketed segment.
    Segments(Vec<Cow<'a, str>>),
}

/// The segments of a [`Path`], from [`Path::segments`].
#[derive(Clone, Debug)]
pub struct PathSegments<'p> {
    inner: SegmentsInner<'p>,
}

#[derive(Clone, Debug)]
enum SegmentsInner<'p> {
    Dotted(std::str::Split<'p, char>),
    List(std::slice::Iter<'p, Cow<'p, str>>),
}

impl<'a> Template<'a> {
    /// Parses `source`.
    ///
    /// The returned template borrows `source`; it allocates one `Vec` for the
    /// segments, and an owned string only for a bracketed segment with
    /// escapes.
    ///
    /// # Errors
    ///
    /// [`ParseErrors`] listing every syntax error in the template, in order,
    /// each with the span of its placeholder.
    pub fn parse(source: &'a str) -> Result<Self, ParseErrors> {
        let mut segments = Vec::with_capacity(4);
        let errors = parse::scan(source, |s| segments.push(s));
        if errors.is_empty() {
            Ok(Template { source, segments })
        } else {
            Err(ParseErrors::new(errors))
        }
    }

    /// Scans `source`, calling `f` with each segment in order, without
    /// collecting them: what [`parse`](Self::parse) does, minus the `Vec`.
    /// This is how [`Resolver::resolve_str`](crate::resolve::Resolver::resolve_str)
    /// resolves while it parses.
    ///
    /// After the first syntax error `f` is no longer called, but scanning
    /// goes on so that every error is reported.
    ///
    /// ```
    /// use valueset::Template;
    /// use valueset::placeholder::Segment;
    ///
    /// let mut placeholders = 0;
    /// Template::scan("${a} and ${b}", |s| {
    ///     if let Segment::Placeholder(_) = s {
    ///         placeholders += 1;
    ///     }
    /// })?;
    /// assert_eq!(placeholders, 2);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParseErrors`] listing every syntax error, as
    /// [`parse`](Self::parse) would.
    pub fn scan(source: &'a str, f: impl FnMut(Segment<'a>)) -> Result<(), ParseErrors> {
        Self::scan_from(source, 0, f)
    }

    /// [`scan`](Self::scan) from byte `start` of `source`, where a literal
    /// may begin (after a placeholder, say); spans are offsets into the
    /// whole of `source`.
    pub(crate) fn scan_from(
        source: &'a str,
        start: usize,
        f: impl FnMut(Segment<'a>),
    ) -> Result<(), ParseErrors> {
        let errors = parse::scan_from(source, start, f);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ParseErrors::new(errors))
        }
    }

    /// The text this template was parsed from.
    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment<'a>] {
        &self.segments
    }

    /// The placeholders, in order.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder<'a>> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Placeholder(p) => Some(p),
            Segment::Literal(_) => None,
        })
    }

    /// The keys named by `${values.KEY}` placeholders, in order, each as
    /// often as it is named.
    ///
    /// ```
    /// use valueset::Template;
    ///
    /// let t = Template::parse("${values.user}:${values['db.pass']}@${context.env.id}")?;
    /// assert_eq!(t.value_keys().collect::<Vec<_>>(), ["user", "db.pass"]);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    pub fn value_keys(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.placeholders()
            .filter_map(|p| match p.path().split_first() {
                ("values", tail) => tail,
                _ => None,
            })
    }

    /// Whether the template has no placeholder.
    pub fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Literal(_)))
    }

    /// The template's text when it is a single borrowed literal (or empty):
    /// the case where resolving it costs nothing.
    pub fn as_borrowed_literal(&self) -> Option<&'a str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Literal(s)] => Some(s),
            _ => None,
        }
    }
}

/// Prints the template in canonical form: literals with `${` escaped as
/// `$\{`, and paths as [`Path`] prints them. Parsing the printed text gives
/// the same segments back.
impl fmt::Display for Template<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut after_dollar = false;
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => {
                    for c in text.chars() {
                        if c == '{' && after_dollar {
                            f.write_str("\\")?;
                        }
                        fmt::Write::write_char(f, c)?;
                        after_dollar = c == '$';
                    }
                }
                Segment::Placeholder(p) => {
                    write!(f, "{p}")?;
                    after_dollar = false;
                }
            }
        }
        Ok(())
    }
}

impl<'a> Placeholder<'a> {
    /// The path inside the braces.
    pub fn path(&self) -> &Path<'a> {
        &self.path
    }

    /// Where the placeholder stands in the source, from `$` to `}`
    /// inclusive.
    pub fn span(&self) -> Span {
        self.span
    }
}

impl fmt::Display for Placeholder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${{{}}}", self.path)
    }
}

impl Path<'_> {
    /// The segments, in order.
    pub fn segments(&self) -> PathSegments<'_> {
        PathSegments {
            inner: match &self.repr {
                Repr::Dotted(raw) => SegmentsInner::Dotted(raw.split('.')),
                Repr::Segments(list) => SegmentsInner::List(list.iter()),
            },
        }
    }

    /// The first segment: the namespace (`values`, `context`, `shared`, …).
    pub fn first(&self) -> &str {
        match &self.repr {
            Repr::Dotted(raw) => match memchr::memchr(b'.', raw.as_bytes()) {
                Some(dot) => raw.get(..dot).unwrap_or(raw),
                None => raw,
            },
            Repr::Segments(list) => list.first().map_or("", |s| s.as_ref()),
        }
    }

    /// How many segments the path has (at least one).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Dotted(raw) => raw.bytes().filter(|&b| b == b'.').count() + 1,
            Repr::Segments(list) => list.len(),
        }
    }

    /// Always `false`: a path has at least one segment. Present for
    /// symmetry with [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first segment and the rest joined by `.` (see [`tail`](Self::tail)),
    /// found in one pass.
    pub fn split_first(&self) -> (&str, Option<Cow<'_, str>>) {
        match &self.repr {
            // The first segment is a namespace, a few bytes long: a plain
            // loop finds its end sooner than setting up `memchr` does.
            Repr::Dotted(raw) => match raw.bytes().position(|b| b == b'.') {
                Some(dot) => (
                    raw.get(..dot).unwrap_or(raw),
                    raw.get(dot + 1..).map(Cow::Borrowed),
                ),
                None => (raw, None),
            },
            Repr::Segments(_) => (self.first(), self.tail(1)),
        }
    }

    /// Whether the path is dotted names only (no bracketed segment), so that
    /// [`tail`](Self::tail) is made of name characters and dots.
    pub(crate) fn is_dotted(&self) -> bool {
        matches!(self.repr, Repr::Dotted(_))
    }

    /// The segments from index `from` on, joined by `.`; `None` if there are
    /// none. For a dotted path this borrows: `${values.db.host}` has
    /// `tail(1) == Some("db.host")` without copying.
    pub fn tail(&self, from: usize) -> Option<Cow<'_, str>> {
        match &self.repr {
            Repr::Dotted(raw) => {
                let mut rest: &str = raw;
                for _ in 0..from {
                    let dot = memchr::memchr(b'.', rest.as_bytes())?;
                    rest = rest.get(dot + 1..)?;
                }
                Some(Cow::Borrowed(rest))
            }
            Repr::Segments(list) => match list.get(from..) {
                None | Some([]) => None,
                Some([one]) => Some(Cow::Borrowed(one.as_ref())),
                Some(many) => Some(Cow::Owned(
                    many.iter()
                        .map(AsRef::as_ref)
                        .collect::<Vec<&str>>()
                        .join("."),
                )),
            },
        }
    }
}

impl PartialEq for Path<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.segments().eq(other.segments())
    }
}

impl Eq for Path<'_> {}

impl fmt::Debug for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.segments()).finish()
    }
}

/// Prints the path in canonical form: names as `a.b`, any other segment
/// bracketed and double-quoted with JSON escapes (`a["b.c"]`).
impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments().enumerate() {
            if parse::is_name(segment) {
                if i > 0 {
                    f.write_str(".")?;
                }
                f.write_str(segment)?;
            } else {
                f.write_str("[\"")?;
                for c in segment.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => fmt::Write::write_char(f, c)?,
                    }
                }
                f.write_str("\"]")?;
            }
        }
        Ok(())
    }
}

impl<'p> Iterator for PathSegments<'p> {
    type Item = &'p str;

    fn next(&mut self) -> Option<&'p str> {
        match &mut self.inner {
            SegmentsInner::Dotted(split) => split.next(),
            SegmentsInner::List(iter) => iter.next().map(AsRef::as_ref),
        }
    }
}

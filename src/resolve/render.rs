//! One resolution in progress: [`Render`] takes a template's segments one
//! by one and writes the output into one buffer, [`OutBuf`], that wipes
//! itself once a secret went in.

use std::borrow::Cow;
use std::rc::Rc;

use zeroize::Zeroize;

use crate::placeholder::{Segment, Span, Template};
use crate::secret::Secret;

use super::nested::{Done, Nesting, Text, wrap};
use super::{Context, ResolveError, ResolveErrorKind, Resolved, Resolver, Value, Values};

/// The growing output of one resolution. Once a secret has gone in, growing
/// the buffer copies it and wipes the old allocation, and dropping or
/// clearing it wipes it, so no copy of secret bytes is left behind in freed
/// memory.
#[derive(Default)]
pub(super) struct OutBuf {
    buf: String,
    tainted: bool,
}

/// What a resolution wrote: a buffer, or (when it only had one literal to
/// give) a slice of its input.
pub(super) enum Written<'a> {
    Buf(OutBuf),
    Same(&'a str),
}

/// A rendered template and the span of the first placeholder that put a
/// secret in (for label errors).
pub(super) struct Rendered<'a> {
    pub(super) resolved: Resolved<'a>,
    pub(super) first_secret: Option<Span>,
}

/// One resolution in progress, fed segment by segment (from a parsed
/// [`Template`] or straight from [`Template::scan`]).
///
/// A single literal is kept borrowed; the output buffer is made only when a
/// second segment or a placeholder comes.
pub(super) struct Render<'a, 's> {
    resolver: &'s Resolver<'s>,
    values: &'s dyn Values,
    context: &'s Context,
    item: Option<&'s str>,
    nesting: &'s Nesting,
    /// The longest chain of template values used so far, and its first key.
    height: usize,
    deepest: Option<Rc<str>>,
    capacity: usize,
    first: Option<&'a str>,
    out: Option<OutBuf>,
    first_secret: Option<Span>,
    forbidden: Option<(Span, String)>,
    errors: Vec<ResolveError>,
}

impl<'a, 's> Render<'a, 's> {
    pub(super) fn new(
        resolver: &'s Resolver<'s>,
        values: &'s dyn Values,
        context: &'s Context,
        item: Option<&'s str>,
        nesting: &'s Nesting,
        source: &str,
    ) -> Self {
        Render {
            resolver,
            values,
            context,
            item,
            nesting,
            height: 0,
            deepest: None,
            // Values are often longer than the placeholders they replace.
            capacity: source.len() + source.len() / 4,
            first: None,
            out: None,
            first_secret: None,
            forbidden: None,
            errors: Vec::new(),
        }
    }

    fn out(&mut self) -> &mut OutBuf {
        let first = self.first.take();
        let capacity = self.capacity;
        self.out.get_or_insert_with(|| {
            let mut out = OutBuf {
                buf: String::with_capacity(capacity),
                tainted: false,
            };
            if let Some(text) = first {
                out.push(text);
            }
            out
        })
    }

    pub(super) fn segment(&mut self, segment: &Segment<'a>) {
        match segment {
            Segment::Literal(text) => {
                if self.out.is_none() && self.first.is_none() {
                    self.first = Some(text);
                } else {
                    self.out().push(text);
                }
            }
            Segment::Placeholder(p) => {
                let path = p.path();
                match self.resolver.lookup(path, self.values, self.context) {
                    Ok((value, secret_allowed)) => {
                        if !secret_allowed && self.forbidden.is_none() {
                            self.forbidden = Some((p.span(), path.first().to_owned()));
                        }
                        match value {
                            Value::Plain(text) => self.out().push(&text),
                            Value::Secret(s) => {
                                self.first_secret.get_or_insert(p.span());
                                self.out().push_secret(s.expose_secret());
                            }
                            Value::OwnedSecret(s) => {
                                self.first_secret.get_or_insert(p.span());
                                self.out().push_secret(s.expose_secret());
                            }
                            Value::Template(text) => {
                                let key = path.split_first().1.unwrap_or_default();
                                self.nested(&key, &text, p.span());
                            }
                        }
                    }
                    Err(kind) => self.error(p.span(), kind),
                }
            }
        }
    }

    fn error(&mut self, span: Span, kind: ResolveErrorKind) {
        self.errors.push(ResolveError {
            item: self.item.map(str::to_owned),
            span: Some(span),
            kind,
        });
    }

    /// Resolves the template value `key` (or takes its kept result) and
    /// puts it in at `span`.
    fn nested(&mut self, key: &str, text: &str, span: Span) {
        let nesting = self.nesting;
        let depth = nesting.depth();
        let used = nesting.with_kept(key, depth, |key, done| self.put(key, depth, done, span));
        if used.is_some() {
            return;
        }
        if let Err(kind) = nesting.enter(key, depth) {
            return self.error(span, kind);
        }
        let mut inner = Render::new(
            self.resolver,
            self.values,
            self.context,
            self.item,
            nesting,
            text,
        );
        inner.capacity = nested_capacity(text.len());
        let done = match Template::scan(text, |segment| inner.segment(&segment)) {
            Ok(()) => inner.finish_nested(depth),
            Err(errors) => Done::Failed {
                errors: errors
                    .into_iter()
                    .map(|e| ResolveErrorKind::Syntax(e.kind().clone()))
                    .collect(),
                depth: None,
            },
        };
        if let Some(key) = nesting.leave() {
            self.put(&key, depth, &done, span);
            nesting.keep(key, done);
        }
    }

    /// Puts a template value's result in at `span`, or its errors.
    fn put(&mut self, key: &Rc<str>, depth: usize, done: &Done, span: Span) {
        match done {
            Done::Resolved {
                text,
                not_for_secrets,
                height,
                ..
            } => {
                if let Err(kind) = self.nesting.check_height(key, depth, *height) {
                    return self.error(span, kind);
                }
                if *height > self.height {
                    self.height = *height;
                    self.deepest = Some(Rc::clone(key));
                }
                if let Some(namespace) = not_for_secrets {
                    self.forbidden.get_or_insert((span, namespace.clone()));
                }
                match text {
                    Text::Plain(text) => self.out().push(text),
                    Text::Secret(s) => {
                        self.first_secret.get_or_insert(span);
                        self.out().push_secret(s.expose_secret());
                    }
                }
            }
            Done::Failed { errors, .. } => {
                for kind in errors {
                    self.error(span, wrap(key, kind.clone()));
                }
            }
        }
    }

    /// The result of a template value at `depth`, to keep.
    fn finish_nested(self, depth: usize) -> Done {
        let (height, next) = (self.height + 1, self.deepest.clone());
        let not_for_secrets = self
            .forbidden
            .as_ref()
            .map(|(_, namespace)| namespace.clone());
        match self.finish() {
            Ok(rendered) => Done::Resolved {
                text: match rendered.resolved {
                    Resolved::Plain(text) => Text::Plain(text.into_owned()),
                    Resolved::Secret(secret) => Text::Secret(secret),
                },
                not_for_secrets,
                height,
                next,
            },
            Err(errors) => {
                let too_deep = errors
                    .iter()
                    .any(|e| matches!(e.kind, ResolveErrorKind::TemplateTooDeep { .. }));
                Done::Failed {
                    errors: errors.into_iter().map(|e| e.kind).collect(),
                    depth: too_deep.then_some(depth),
                }
            }
        }
    }

    /// Goes on with a resolution another loop began: its output so far, and
    /// the span of the first placeholder that put a secret in.
    pub(super) fn seeded(mut self, out: Option<OutBuf>, first_secret: Option<Span>) -> Self {
        self.out = out;
        self.first_secret = first_secret;
        self
    }

    /// The output, or the errors.
    pub(super) fn finish_raw(mut self) -> Result<Written<'a>, Vec<ResolveError>> {
        self.check()?;
        Ok(match self.out.take() {
            Some(out) => Written::Buf(out),
            None => Written::Same(self.first.unwrap_or("")),
        })
    }

    /// The errors so far, with a namespace's output that went into a secret.
    fn check(&mut self) -> Result<(), Vec<ResolveError>> {
        if let (Some((span, namespace)), Some(_)) = (self.forbidden.take(), self.first_secret) {
            self.errors.push(ResolveError {
                item: self.item.map(str::to_owned),
                span: Some(span),
                kind: ResolveErrorKind::SecretNotAllowed { namespace },
            });
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(std::mem::take(&mut self.errors))
        }
    }

    pub(super) fn finish(mut self) -> Result<Rendered<'a>, Vec<ResolveError>> {
        self.check()?;
        let resolved = match (self.out, self.first) {
            (Some(out), _) => out.finish(),
            (None, first) => Resolved::Plain(Cow::Borrowed(first.unwrap_or(""))),
        };
        Ok(Rendered {
            resolved,
            first_secret: self.first_secret,
        })
    }
}

/// The output buffer to start a template value with: a value built from
/// values grows more than a workload's template does. Only a hint.
fn nested_capacity(len: usize) -> usize {
    2 * len + 64
}

impl OutBuf {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        OutBuf {
            buf: String::with_capacity(capacity),
            tainted: false,
        }
    }

    #[inline]
    pub(super) fn push(&mut self, text: &str) {
        let needed = self.buf.len() + text.len();
        if self.tainted && needed > self.buf.capacity() {
            self.grow_wiping(needed);
        }
        self.buf.push_str(text);
    }

    /// Moves a buffer that holds a secret into one of at least `needed`
    /// bytes, wiping the old one (growing in place would leave the secret
    /// in the memory it frees). Rare: out of line, so that `push` inlines.
    #[cold]
    #[inline(never)]
    fn grow_wiping(&mut self, needed: usize) {
        let mut bigger = String::with_capacity(needed.max(self.buf.capacity() * 2));
        bigger.push_str(&self.buf);
        let mut old = std::mem::replace(&mut self.buf, bigger);
        old.zeroize();
    }

    pub(super) fn push_secret(&mut self, text: &str) {
        self.tainted = true;
        self.push(text);
    }

    /// Empties the buffer, keeping its allocation; wipes it first if a
    /// secret went in.
    pub(super) fn clear(&mut self) {
        if self.tainted {
            self.buf.zeroize();
            self.tainted = false;
        }
        self.buf.clear();
    }

    /// The text, unless a secret went in.
    pub(super) fn as_plain(&self) -> Option<&str> {
        (!self.tainted).then_some(self.buf.as_str())
    }

    pub(super) fn is_secret(&self) -> bool {
        self.tainted
    }

    pub(super) fn finish(mut self) -> Resolved<'static> {
        let buf = std::mem::take(&mut self.buf);
        if self.tainted {
            Resolved::Secret(Secret::new(buf))
        } else {
            Resolved::Plain(Cow::Owned(buf))
        }
    }
}

impl Drop for OutBuf {
    fn drop(&mut self) {
        if self.tainted {
            self.buf.zeroize();
        }
    }
}

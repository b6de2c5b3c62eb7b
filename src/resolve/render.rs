//! One resolution in progress: [`Render`] takes a template's segments one
//! by one and writes the output into one buffer, [`OutBuf`], that wipes
//! itself once a secret went in.

use std::borrow::Cow;

use zeroize::Zeroize;

use crate::placeholder::{Segment, Span};
use crate::secret::Secret;

use super::{Context, ResolveError, ResolveErrorKind, Resolved, Resolver, Value, Values};

/// The growing output of one resolution. Once a secret has gone in, growing
/// the buffer copies it and wipes the old allocation, and dropping it wipes
/// it, so no copy of secret bytes is left behind in freed memory.
struct OutBuf {
    buf: String,
    tainted: bool,
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
        source: &str,
    ) -> Self {
        Render {
            resolver,
            values,
            context,
            item,
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
                        }
                    }
                    Err(kind) => self.errors.push(ResolveError {
                        item: self.item.map(str::to_owned),
                        span: Some(p.span()),
                        kind,
                    }),
                }
            }
        }
    }

    pub(super) fn finish(mut self) -> Result<Rendered<'a>, Vec<ResolveError>> {
        if let (Some((span, namespace)), Some(_)) = (self.forbidden.take(), self.first_secret) {
            self.errors.push(ResolveError {
                item: self.item.map(str::to_owned),
                span: Some(span),
                kind: ResolveErrorKind::SecretNotAllowed { namespace },
            });
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
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

impl OutBuf {
    fn push(&mut self, text: &str) {
        let needed = self.buf.len() + text.len();
        if self.tainted && needed > self.buf.capacity() {
            let mut bigger = String::with_capacity(needed.max(self.buf.capacity() * 2));
            bigger.push_str(&self.buf);
            let mut old = std::mem::replace(&mut self.buf, bigger);
            old.zeroize();
        }
        self.buf.push_str(text);
    }

    fn push_secret(&mut self, text: &str) {
        self.tainted = true;
        self.push(text);
    }

    fn finish(mut self) -> Resolved<'static> {
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

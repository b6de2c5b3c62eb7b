//! The fast path of [`Resolver::resolve_str`](super::Resolver::resolve_str)
//! and [`Resolver::resolve_into`](super::Resolver::resolve_into): one loop
//! that copies the literal text and puts in each `${values.KEY}` (a dotted
//! key whose value is plain or a secret), building no segment, path or
//! render state. At the first placeholder it cannot finish alone (another
//! namespace, brackets, a template value, a lookup that fails, bad syntax,
//! the `$\{` escape) it stops, and the general [`Render`] goes on from the
//! end of the last placeholder it put in, with the output so far, so the
//! result is the same as the general path's and no value is looked up
//! twice on the way to a success.

use std::borrow::Cow;

use memchr::memchr_iter;

use crate::id::MAX_KEY_LEN;
use crate::placeholder::{Span, Template, dotted_path};

use super::nested::Nesting;
use super::render::{OutBuf, Render, Written};
use super::{ResolveErrors, ResolveStrError, Resolved, Resolver, Value};

/// Where the fast loop stopped.
pub(super) struct Stop {
    /// The output so far: `None` while nothing had to be written.
    pub(super) out: Option<OutBuf>,
    /// The end of the last placeholder put in (0 if none): the text from
    /// here on is not written yet.
    pub(super) done_to: usize,
    /// The first placeholder that put a secret in.
    pub(super) first_secret: Option<Span>,
    /// Whether the whole text was read; otherwise the general path must
    /// read on from `done_to`.
    pub(super) finished: bool,
}

/// Runs the fast loop over `text`, writing into `out` if given.
pub(super) fn run(resolver: &Resolver<'_>, text: &str, out: Option<OutBuf>) -> Stop {
    let bytes = text.as_bytes();
    let mut stop = Stop {
        out,
        done_to: 0,
        first_secret: None,
        finished: false,
    };
    // One iterator over every `$`, so that the search is set up once; a
    // `$` inside a placeholder already put in is skipped.
    for at in memchr_iter(b'$', bytes) {
        if at < stop.done_to {
            continue;
        }
        match bytes.get(at + 1) {
            Some(b'{') => {}
            Some(b'\\') if bytes.get(at + 2) == Some(&b'{') => return stop,
            _ => continue,
        }
        // `values.` and a key of names joined by dots: only the key's bytes
        // need a look.
        let after = text.get(at + 2..).and_then(|t| t.strip_prefix("values."));
        let Some((len, key)) = after.and_then(|after| {
            let key = after.get(..dotted_path(after)?)?;
            (key.len() <= MAX_KEY_LEN).then_some((key.len(), key))
        }) else {
            return stop;
        };
        let end = at + 2 + "values.".len() + len + 1;
        let found = resolver.values.value(key);
        // The usual value, plain and borrowed, holds nothing to drop:
        // forgetting it spares a call to the lookup result's drop.
        if let Ok(Some(Value::Plain(Cow::Borrowed(value)))) = found {
            std::mem::forget(found);
            put(&mut stop, text, at, value, false);
            stop.done_to = end;
            continue;
        }
        let (value, secret) = match &found {
            Ok(Some(Value::Plain(v))) => (v.as_ref(), false),
            Ok(Some(Value::Secret(s))) => (s.expose_secret(), true),
            Ok(Some(Value::OwnedSecret(s))) => (s.expose_secret(), true),
            _ => return stop,
        };
        put(&mut stop, text, at, value, secret);
        if secret {
            stop.first_secret.get_or_insert(Span { start: at, end });
        }
        stop.done_to = end;
    }
    stop.finished = true;
    stop
}

/// Writes the literal text before `at`, then `value`.
#[inline]
fn put(stop: &mut Stop, text: &str, at: usize, value: &str, secret: bool) {
    let out = stop
        .out
        .get_or_insert_with(|| OutBuf::with_capacity(fast_capacity(text.len())));
    out.push(text.get(stop.done_to..at).unwrap_or(""));
    if secret {
        out.push_secret(value);
    } else {
        out.push(value);
    }
}

/// The output buffer to start with, for a text of `len` bytes: room for
/// the text and 64 bytes more, as values are often longer than the
/// placeholders they replace (with a quarter more instead, most values of
/// under 80 bytes grew their buffer once). Only a hint.
fn fast_capacity(len: usize) -> usize {
    len + 64
}

/// How the fast loop's work ends: the output, or (when it stopped early)
/// the general path's output or errors.
// Inlined by force: with `#[inline]` it stayed a call of its own, 3% of
// a short value's instructions (BENCHMARKS.md, placeholders (d)).
#[allow(clippy::inline_always)]
#[inline(always)]
pub(super) fn finish<'a>(
    resolver: &Resolver<'_>,
    text: &'a str,
    stop: Stop,
) -> Result<Written<'a>, ResolveStrError> {
    if stop.finished {
        return Ok(match stop.out {
            None => Written::Same(text),
            Some(mut out) => {
                out.push(text.get(stop.done_to..).unwrap_or(""));
                Written::Buf(out)
            }
        });
    }
    general(resolver, text, stop)
}

/// The general path, on from where the fast loop stopped: out of line, so
/// that the fast path's ending inlines into its callers.
#[inline(never)]
fn general<'a>(
    resolver: &Resolver<'_>,
    text: &'a str,
    stop: Stop,
) -> Result<Written<'a>, ResolveStrError> {
    let nesting = Nesting::new(resolver.template_depth);
    let (values, context) = (resolver.values, &resolver.context);
    let mut render = Render::new(resolver, values, context, None, &nesting, text)
        .seeded(stop.out, stop.first_secret);
    Template::scan_from(text, stop.done_to, |segment| render.segment(&segment))?;
    render
        .finish_raw()
        .map_err(|errors| ResolveErrors(errors).into())
}

/// [`finish`] as a [`Resolved`].
#[allow(clippy::inline_always)] // as `finish`
#[inline(always)]
pub(super) fn resolved<'a>(
    resolver: &Resolver<'_>,
    text: &'a str,
    stop: Stop,
) -> Result<Resolved<'a>, ResolveStrError> {
    Ok(match finish(resolver, text, stop)? {
        Written::Buf(out) => out.finish(),
        Written::Same(text) => Resolved::Plain(std::borrow::Cow::Borrowed(text)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Key;
    use crate::resolve::{LookupError, MapValues, Values};
    use crate::secret::Secret;

    fn values() -> MapValues {
        let mut v = MapValues::new();
        v.insert(Key::new("HOST").unwrap(), "db");
        v.insert(Key::new("K".repeat(MAX_KEY_LEN)).unwrap(), "long");
        v.insert_secret(Key::new("PW").unwrap(), Secret::new("pw".into()));
        v.insert_template(Key::new("T").unwrap(), "${values.HOST}");
        v.insert_purged(Key::new("OLD").unwrap());
        v
    }

    /// Whether the loop read the whole text, where it got to, what it
    /// wrote (`None`: nothing), and whether a secret went in.
    fn fast(values: &dyn Values, text: &str) -> (bool, usize, Option<String>, Option<Span>) {
        let resolver = Resolver::new(values);
        let stop = run(&resolver, text, None);
        let written = stop.out.as_ref().map(|o| match o.as_plain() {
            Some(t) => t.to_owned(),
            None => "[secret]".to_owned(),
        });
        (stop.finished, stop.done_to, written, stop.first_secret)
    }

    #[test]
    fn it_finishes_alone_where_every_placeholder_is_a_value() {
        let v = values();
        for text in ["", "plain $ text $x $$ $\\x"] {
            assert_eq!(fast(&v, text), (true, 0, None, None), "{text}");
        }
        let host = fast(&v, "a ${values.HOST} b $");
        assert_eq!(host, (true, 16, Some("a db".into()), None));
        let twice = fast(&v, "$${values.HOST}${values.HOST}");
        assert_eq!(twice, (true, 29, Some("$dbdb".into()), None));
        let long = format!("${{values.{}}}", "K".repeat(MAX_KEY_LEN));
        assert_eq!(fast(&v, &long).2, Some("long".into()));
        let secret = fast(&v, "x ${values.HOST}${values.PW}${values.PW}");
        let span = Span { start: 16, end: 28 };
        assert_eq!(secret, (true, 40, Some("[secret]".into()), Some(span)));
    }

    #[test]
    fn it_stops_where_the_general_path_must_go_on() {
        let v = values();
        let too_long = format!("${{values.{}}}", "K".repeat(MAX_KEY_LEN + 1));
        let stops = [
            "${values.T}",
            "${values.NOPE}",
            "${values.OLD}",
            "${context.app.id}",
            "${values[\"HOST\"]}",
            "${values}",
            "${",
            "$\\{values.HOST}",
            &too_long,
        ];
        for text in stops {
            assert_eq!(fast(&v, text), (false, 0, None, None), "{text}");
        }
        let later = fast(&v, "a ${values.HOST} ${values.T}");
        assert_eq!(later, (false, 16, Some("a db".into()), None));
    }

    /// A secret read for the lookup goes in like a held one.
    #[test]
    fn an_owned_secret_goes_in_and_taints() {
        struct Owned;
        impl Values for Owned {
            fn value(&self, _: &str) -> Result<Option<Value<'_>>, LookupError> {
                Ok(Some(Value::OwnedSecret(Secret::new("s".into()))))
            }
        }
        let span = Span { start: 1, end: 12 };
        let owned = fast(&Owned, "x${values.A}");
        assert_eq!(owned, (true, 12, Some("[secret]".into()), Some(span)));
    }
}

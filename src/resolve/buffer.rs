//! [`ResolveBuffer`]: the output [`Resolver::resolve_into`] writes into, which
//! a caller keeps and reuses, so that resolving many values allocates once.

use std::fmt;

use super::Resolved;
use super::render::OutBuf;

/// A reusable output for [`Resolver::resolve_into`](super::Resolver::resolve_into).
///
/// It keeps its allocation from one resolution to the next. Like
/// [`Resolved`], it knows whether a secret went in: then
/// [`as_plain`](Self::as_plain) gives nothing, the text only leaves as a
/// [`Secret`](crate::Secret) through [`take`](Self::take), and the buffer
/// wipes its bytes when it is reused, cleared or dropped. Its `Debug` shows
/// neither.
///
/// ```
/// use valueset::Key;
/// use valueset::resolve::{MapValues, ResolveBuffer, Resolver};
///
/// let mut values = MapValues::new();
/// values.insert(Key::new("host")?, "db.internal");
/// let resolver = Resolver::new(&values);
/// let mut out = ResolveBuffer::new();
/// for line in ["host=${values.host}", "url=pg://${values.host}/app"] {
///     resolver.resolve_into(line, &mut out)?;
///     assert!(out.as_plain().unwrap().contains("db.internal"));
/// }
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Default)]
pub struct ResolveBuffer {
    pub(super) out: OutBuf,
}

impl ResolveBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        ResolveBuffer::default()
    }

    /// The last resolution's text, unless a secret went into it.
    pub fn as_plain(&self) -> Option<&str> {
        self.out.as_plain()
    }

    /// Whether a secret went into the last resolution.
    pub fn is_secret(&self) -> bool {
        self.out.is_secret()
    }

    /// The last resolution's text as a [`Resolved`] (a secret one if a
    /// secret went in), leaving the buffer empty, without its allocation.
    pub fn take(&mut self) -> Resolved<'static> {
        std::mem::take(&mut self.out).finish()
    }

    /// Empties the buffer, keeping its allocation (wiped first if a secret
    /// went in).
    pub fn clear(&mut self) {
        self.out.clear();
    }
}

/// Whether it holds a secret, never what it holds.
impl fmt::Debug for ResolveBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolveBuffer")
            .field("secret", &self.is_secret())
            .finish_non_exhaustive()
    }
}

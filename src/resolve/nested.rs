//! Values that are templates (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)):
//! what one resolution has learnt about them so far, [`Nesting`].
//!
//! A template value is resolved against the same values as the template
//! that uses it, once per resolution: the result is kept and every later use
//! copies it. The chain of template values being resolved is kept too, so a
//! value that comes back into its own chain is a cycle, and a chain longer
//! than the limit is an error; both name the whole chain.
//!
//! The nesting depth of a value is its position in the chain from the
//! template being resolved (a value that template names directly is at
//! depth 1). Whether a value nests too deep so depends on where it is used:
//! a result that failed only for the depth is kept with the depth it failed
//! at, and resolved again when used higher up. Any other result holds
//! wherever the value is used.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::secret::Secret;

use super::ResolveErrorKind;

/// How deep template values may nest unless the resolver says otherwise.
pub const DEFAULT_TEMPLATE_DEPTH: usize = 16;

/// The most a resolver allows: each level of nesting is a level of
/// recursion.
pub const MAX_TEMPLATE_DEPTH: usize = 64;

/// The template values of one resolution. A key is copied once, when its
/// value is first resolved, and shared by the chain and the kept results.
pub(super) struct Nesting {
    limit: usize,
    /// The template values being resolved, outermost first.
    chain: RefCell<Vec<Rc<str>>>,
    done: RefCell<BTreeMap<Rc<str>, Done>>,
}

/// What a template value resolved to.
pub(super) enum Done {
    Resolved {
        text: Text,
        /// A namespace whose output went in but may not go into a secret.
        not_for_secrets: Option<String>,
        /// The longest chain of template values that starts here, this one
        /// included, and the next key on it.
        height: usize,
        next: Option<Rc<str>>,
    },
    Failed {
        errors: Vec<ResolveErrorKind>,
        /// The depth the value was at when it failed, when it failed only
        /// for nesting too deep there.
        depth: Option<usize>,
    },
}

/// A resolved template value.
pub(super) enum Text {
    Plain(String),
    Secret(Secret),
}

impl Nesting {
    pub(super) fn new(limit: usize) -> Self {
        Nesting {
            limit,
            chain: RefCell::new(Vec::new()),
            done: RefCell::new(BTreeMap::new()),
        }
    }

    /// The depth `key` is at when the current chain uses it.
    pub(super) fn depth(&self) -> usize {
        self.chain.borrow().len() + 1
    }

    /// Starts resolving `key` at `depth`; a cycle, or a depth over the
    /// limit, is the error instead.
    pub(super) fn enter(&self, key: &str, depth: usize) -> Result<(), ResolveErrorKind> {
        let mut chain = self.chain.borrow_mut();
        if let Some(at) = chain.iter().position(|k| &**k == key) {
            let mut path = strings(chain.get(at..).unwrap_or_default());
            path.push(key.to_owned());
            return Err(ResolveErrorKind::TemplateCycle { path });
        }
        if depth > self.limit {
            let mut path = strings(&chain);
            path.push(key.to_owned());
            return Err(self.too_deep(path));
        }
        chain.push(Rc::from(key));
        Ok(())
    }

    /// Ends resolving the innermost value; its key, for [`keep`](Self::keep).
    pub(super) fn leave(&self) -> Option<Rc<str>> {
        self.chain.borrow_mut().pop()
    }

    /// Keeps the result of `key`.
    pub(super) fn keep(&self, key: Rc<str>, done: Done) {
        self.done.borrow_mut().insert(key, done);
    }

    /// Runs `f` on the kept result for `key` if it holds at `depth` (a
    /// result that failed for the depth holds only as deep or deeper);
    /// `None` when there is none.
    pub(super) fn with_kept<R>(
        &self,
        key: &str,
        depth: usize,
        f: impl FnOnce(&Rc<str>, &Done) -> R,
    ) -> Option<R> {
        let done = self.done.borrow();
        match done.get_key_value(key)? {
            (
                _,
                Done::Failed {
                    depth: Some(failed_at),
                    ..
                },
            ) if depth < *failed_at => None,
            (key, kept) => Some(f(key, kept)),
        }
    }

    /// Whether a value at `depth` with a chain of `height` below it (itself
    /// included) nests deeper than the limit; the error names the chain.
    pub(super) fn check_height(
        &self,
        key: &str,
        depth: usize,
        height: usize,
    ) -> Result<(), ResolveErrorKind> {
        if depth + height <= self.limit + 1 {
            return Ok(());
        }
        let mut path = strings(&self.chain.borrow());
        let done = self.done.borrow();
        let mut next: Option<&str> = Some(key);
        while let Some(key) = next.take() {
            if let Some(Done::Resolved { next: after, .. }) = done.get(key) {
                next = after.as_deref();
            }
            path.push(key.to_owned());
        }
        Err(self.too_deep(path))
    }

    fn too_deep(&self, path: Vec<String>) -> ResolveErrorKind {
        ResolveErrorKind::TemplateTooDeep {
            path,
            limit: self.limit,
        }
    }
}

fn strings(keys: &[Rc<str>]) -> Vec<String> {
    keys.iter().map(ToString::to_string).collect()
}

/// An error inside the template value `key`, as the template that used it
/// reports it: with `key` in front of its path. Cycles and depth errors
/// name their whole chain already.
pub(super) fn wrap(key: &str, kind: ResolveErrorKind) -> ResolveErrorKind {
    match kind {
        ResolveErrorKind::TemplateCycle { .. } | ResolveErrorKind::TemplateTooDeep { .. } => kind,
        ResolveErrorKind::InValue { mut path, error } => {
            path.insert(0, key.to_owned());
            ResolveErrorKind::InValue { path, error }
        }
        other => ResolveErrorKind::InValue {
            path: vec![key.to_owned()],
            error: Box::new(other),
        },
    }
}

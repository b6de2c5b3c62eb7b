//! Reads through writes that are not in the storage yet: what a writer
//! planning in its turn ([`super::pipeline`]) sees, the storage's entries
//! with the pending writes of the groups being committed on top.
//!
//! Pending writes come as a list of keys in the order a scan visits them
//! (ascending, or descending when reversed), each with its new value or
//! `None` for a removal; the storage is read as it is, and the two are
//! merged key by key.

use std::ops::ControlFlow;

use crate::backend::{Backend, BackendError, KeyValue, Visit};

/// Pending writes of a key range, in a scan's order: each key and its new
/// value, `None` when it is removed.
pub(super) type Pending = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// [`Backend::scan`] of `start..end` over `base`, with `pending` (the
/// writes of that range, in the scan's order) on top: a pending value
/// replaces the stored one, a pending removal hides it, and pending keys
/// the storage does not hold are visited in their place in the order.
pub(super) fn scan(
    base: &dyn Backend,
    pending: &Pending,
    range: (&[u8], &[u8]),
    reverse: bool,
    visit: &mut Visit<'_>,
) -> Result<(), BackendError> {
    let comes_first = |a: &[u8], b: &[u8]| if reverse { a > b } else { a < b };
    let mut next = 0;
    let mut stopped = false;
    let mut show = |key: &[u8], value: Option<&[u8]>, stopped: &mut bool| match value {
        Some(v) => {
            let flow = visit(key, v);
            *stopped = flow.is_break();
            flow
        }
        None => ControlFlow::Continue(()),
    };
    base.scan(range.0, range.1, reverse, &mut |key, value| {
        while let Some((p, pv)) = pending.get(next)
            && comes_first(p, key)
        {
            next += 1;
            show(p, pv.as_deref(), &mut stopped)?;
        }
        if let Some((p, pv)) = pending.get(next)
            && p.as_slice() == key
        {
            next += 1;
            return show(p, pv.as_deref(), &mut stopped);
        }
        show(key, Some(value), &mut stopped)
    })?;
    if !stopped {
        for (p, pv) in &pending[next..] {
            if show(p, pv.as_deref(), &mut stopped).is_break() {
                break;
            }
        }
    }
    Ok(())
}

/// [`Backend::last_in`] over `base` with `pending` (the writes of
/// `start..end`, descending) on top.
pub(super) fn last_in(
    base: &dyn Backend,
    pending: &Pending,
    range: (&[u8], &[u8]),
) -> Result<Option<KeyValue>, BackendError> {
    if pending.is_empty() {
        return base.last_in(range.0, range.1);
    }
    let mut found = None;
    scan(base, pending, range, true, &mut |k, v| {
        found = Some((k.to_vec(), v.to_vec()));
        ControlFlow::Break(())
    })?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Batch, MemoryBackend};

    fn stored(keys: &[&str]) -> MemoryBackend {
        let b = MemoryBackend::new();
        let mut batch = Batch::new();
        for k in keys {
            batch.insert(k.as_bytes().to_vec(), format!("old {k}").into_bytes());
        }
        b.apply(batch).unwrap();
        b
    }

    fn pending(writes: &[(&str, Option<&str>)]) -> Pending {
        writes
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
            .collect()
    }

    fn seen(base: &MemoryBackend, p: &Pending, reverse: bool, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        scan(base, p, (b"a", b"z"), reverse, &mut |k, v| {
            out.push(format!(
                "{}={}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(v)
            ));
            if out.len() == limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        out
    }

    /// Pending values replace, removals hide, new keys take their place in
    /// the order, before, between and after the stored ones, both ways.
    #[test]
    fn pending_writes_merge_into_a_scan_in_order() {
        let base = stored(&["c", "e", "g"]);
        let up = pending(&[
            ("b", Some("new b")),
            ("c", Some("new c")),
            ("d", Some("new d")),
            ("e", None),
            ("h", Some("new h")),
            ("i", None),
        ]);
        assert_eq!(
            seen(&base, &up, false, 100),
            ["b=new b", "c=new c", "d=new d", "g=old g", "h=new h"]
        );
        let mut down = up.clone();
        down.reverse();
        assert_eq!(
            seen(&base, &down, true, 100),
            ["h=new h", "g=old g", "d=new d", "c=new c", "b=new b"]
        );
    }

    /// A visitor that breaks is not called again, wherever it breaks: on a
    /// pending key before a stored one, on a replaced one, on a stored one,
    /// or among the pending keys after the last stored one.
    #[test]
    fn a_scan_stops_where_the_visitor_breaks() {
        let base = stored(&["c", "e"]);
        let up = pending(&[
            ("b", Some("1")),
            ("c", Some("2")),
            ("f", Some("3")),
            ("g", Some("4")),
        ]);
        for limit in 1..=5 {
            let all = ["b=1", "c=2", "e=old e", "f=3", "g=4"];
            assert_eq!(seen(&base, &up, false, limit), all[..limit]);
        }
    }

    /// The newest key of a range: the stored one, a pending one above it,
    /// or the stored one below a pending removal.
    #[test]
    fn the_last_key_of_a_range_counts_pending_writes() {
        let base = stored(&["c", "e"]);
        let last = |p: &[(&str, Option<&str>)]| {
            last_in(&base, &pending(p), (b"a", b"z"))
                .unwrap()
                .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        };
        let kv = |k: &str, v: &str| Some((k.to_owned(), v.to_owned()));
        assert_eq!(last(&[]), kv("e", "old e"));
        assert_eq!(last(&[("f", Some("new"))]), kv("f", "new"));
        assert_eq!(last(&[("e", None)]), kv("c", "old c"));
        assert_eq!(last(&[("e", None), ("c", None)]), None);
    }
}

//! Answers to a level's value list, kept under the level's [`Head`].
//!
//! A level's values change only by a change that moves its head, so an
//! answer made once is the answer while [`Store::head`](crate::Store::head)
//! names the same head. The head is read from the store on every request,
//! after the access check, so replicas over one shared store never serve
//! each other's stale answers: only the work of building and writing the
//! JSON is saved. Answers hold no secret (a list never does). At most
//! [`BUDGET`] bytes are kept; the oldest answer goes first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;

use crate::store::Head;

/// The bytes of answers kept at most.
pub(crate) const BUDGET: usize = 16 << 20;

/// Kept answers by head, oldest first in `order`.
#[derive(Default)]
struct Kept {
    answers: HashMap<Head, Bytes>,
    order: VecDeque<Head>,
    bytes: usize,
}

/// The answers kept, shared by every request of the service.
pub(crate) struct Answers {
    kept: Mutex<Kept>,
    budget: usize,
}

impl Answers {
    pub(crate) fn new(budget: usize) -> Answers {
        Answers {
            kept: Mutex::new(Kept::default()),
            budget,
        }
    }

    /// The answer kept for `head`, if any.
    pub(crate) fn get(&self, head: &Head) -> Option<Bytes> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.answers.get(head).cloned()
    }

    /// Keeps `answer` for `head`, dropping the oldest answers to stay
    /// within the budget; an answer larger than the whole budget is not
    /// kept.
    pub(crate) fn put(&self, head: Head, answer: Bytes) {
        if answer.len() > self.budget {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.answers.contains_key(&head) {
            return;
        }
        while kept.bytes + answer.len() > self.budget {
            let Some(oldest) = kept.order.pop_front() else {
                break;
            };
            if let Some(gone) = kept.answers.remove(&oldest) {
                kept.bytes -= gone.len();
            }
        }
        kept.bytes += answer.len();
        kept.order.push_back(head.clone());
        kept.answers.insert(head, answer);
    }

    /// How many answers and bytes are kept.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        (kept.answers.len(), kept.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewValue;
    use crate::store::SetOptions;
    use crate::{Actor, AppId, Key, Store};

    /// Heads of `n` different states of one App.
    fn heads(n: usize) -> Vec<Head> {
        let store = Store::in_memory();
        let admin = Actor::admin("alice");
        let app = AppId::new("shop").unwrap();
        store.create_app(&admin, &app).unwrap();
        let key = Key::new("K").unwrap();
        (0..n)
            .map(|i| {
                let value = NewValue::plain(i.to_string());
                store
                    .set(&admin, &app, None, &key, value, SetOptions::default())
                    .unwrap();
                store.head(&admin, &app, None).unwrap()
            })
            .collect()
    }

    #[test]
    fn answers_are_kept_by_head_within_the_budget_oldest_out_first() {
        let h = heads(4);
        let answers = Answers::new(10);
        answers.put(h[0].clone(), Bytes::from_static(b"aaaa"));
        answers.put(h[1].clone(), Bytes::from_static(b"bbbb"));
        assert_eq!(answers.get(&h[0]).as_deref(), Some(&b"aaaa"[..]));
        assert_eq!(answers.get(&h[2]), None);
        assert_eq!(answers.size(), (2, 8));
        // A third would pass the budget: the oldest goes.
        answers.put(h[2].clone(), Bytes::from_static(b"cccc"));
        assert_eq!(answers.get(&h[0]), None);
        assert_eq!(answers.get(&h[1]).as_deref(), Some(&b"bbbb"[..]));
        assert_eq!(answers.size(), (2, 8));
        // The same head again changes nothing.
        answers.put(h[2].clone(), Bytes::from_static(b"cc"));
        assert_eq!(answers.get(&h[2]).as_deref(), Some(&b"cccc"[..]));
        assert_eq!(answers.size(), (2, 8));
        // Exactly the budget fits, after dropping the rest.
        answers.put(h[3].clone(), Bytes::from_static(b"dddddddddd"));
        assert_eq!(answers.size(), (1, 10));
        // Filling the budget exactly drops nothing.
        let full = Answers::new(10);
        full.put(h[0].clone(), Bytes::from_static(b"aaaa"));
        full.put(h[1].clone(), Bytes::from_static(b"bbbbbb"));
        assert_eq!(full.size(), (2, 10));
        // More than the whole budget is not kept.
        let big = Answers::new(3);
        big.put(h[0].clone(), Bytes::from_static(b"dddd"));
        assert_eq!(big.size(), (0, 0));
    }

    #[test]
    fn the_service_keeps_lists_of_many_thousand_values() {
        // An Environment of 1,000 values answers about 270 KB.
        let h = heads(1);
        let answers = Answers::new(BUDGET);
        answers.put(h[0].clone(), Bytes::from(vec![b' '; 4 << 20]));
        assert_eq!(answers.size(), (1, 4 << 20));
    }
}

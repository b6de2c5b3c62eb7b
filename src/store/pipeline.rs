//! Group commit: the store's write lock, and how the batches of writers
//! queued on it reach the storage together.
//!
//! Writers of one process take turns to plan ([`Pipeline::turn`]: the
//! store's write lock). A batch applied in a turn is *staged*: the turn
//! ends at once, and the writer waits while its batch is written together
//! with every batch staged meanwhile, as one batch: one transaction, one
//! round trip, one fsync for as many versions as writers were queued. The
//! first writer of a group to find the storage free writes the group; the
//! others wait for its outcome, which is theirs. While one group is being
//! written the next one fills, so a writer waits for at most the group
//! before its own.
//!
//! A writer plans on the storage *and* on the batches staged or being
//! written before its own: in its turn, its reads see them
//! ([`super::overlay`]). Nothing else does: a read outside a turn sees
//! only what the storage holds, so a change is seen once it is written,
//! never before, and a writer's call returns only once its batch is
//! written.
//!
//! Correctness still rests on the storage's preconditions, not on this
//! process: a group's batch expects what its writers read from the storage
//! (every version rewrites its App's bookkeeping, and every batch expects
//! the bookkeeping it read), so a group that another process overtook is
//! refused whole, and its writers, and those of a group planned on top of
//! it, plan again. What a batch expects of a key that an earlier batch of
//! its own group writes is checked here, when it is staged.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::backend::{Backend, BackendError, Batch, Changes, KeyRange, KeyValue, Visit};

use super::overlay::{self, Pending};

thread_local! {
    /// The pipelines whose turns this thread holds (their addresses): one,
    /// or several when it writes to several stores at once.
    static TURNS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// A [`Backend`] over the store's storage that commits the batches of
/// queued writers as one (see the module's docs). The store reads and
/// writes through it.
pub(super) struct Pipeline {
    base: Arc<dyn Backend>,
    /// Whether a group is made durable ([`Backend::flush`]) before its
    /// writers return.
    flush: bool,
    state: Mutex<State>,
    turn_free: Condvar,
    written: Condvar,
}

#[derive(Default)]
struct State {
    /// Whether a writer holds the turn.
    turn: bool,
    /// The writes of the groups not yet written: each key's newest value
    /// (`None`: removed) and the group that writes it.
    pending: BTreeMap<Vec<u8>, (u64, Option<Vec<u8>>)>,
    /// The group that staged batches join.
    open: Group,
    /// Whether a group is being written.
    writing: bool,
    /// The outcome of each written group, until each of its writers but
    /// the one that wrote it has taken it.
    outcomes: HashMap<u64, Outcome>,
}

/// Batches staged together.
#[derive(Default)]
struct Group {
    id: u64,
    members: usize,
    /// Each key's last write.
    ops: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// What the batches expect of keys no earlier batch of the group writes.
    expected: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    announce: bool,
}

struct Outcome {
    result: Result<(), BackendError>,
    left: usize,
}

/// The turn to plan a write: held until dropped, or until a batch is
/// applied in it. Not `Send`: the turn belongs to the thread that took it.
pub(super) struct Turn<'p> {
    pipeline: &'p Pipeline,
    _thread: PhantomData<*const ()>,
}

impl Pipeline {
    /// A pipeline over `base`; with `flush`, each group is flushed before
    /// its writers return.
    pub(super) fn new(base: Arc<dyn Backend>, flush: bool) -> Self {
        Pipeline {
            base,
            flush,
            state: Mutex::new(State::default()),
            turn_free: Condvar::new(),
            written: Condvar::new(),
        }
    }

    /// Waits for the turn to plan a write, and takes it.
    pub(super) fn turn(&self) -> Turn<'_> {
        let mut state = self.lock();
        while state.turn {
            state = self
                .turn_free
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.turn = true;
        TURNS.with_borrow_mut(|turns| turns.push(self.id()));
        Turn {
            pipeline: self,
            _thread: PhantomData,
        }
    }

    fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    fn holds_turn(&self) -> bool {
        TURNS.with_borrow(|turns| turns.contains(&self.id()))
    }

    fn end_turn(&self, state: &mut State) {
        state.turn = false;
        TURNS.with_borrow_mut(|turns| turns.retain(|t| *t != self.id()));
        self.turn_free.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pending writes of `start..end`, in a scan's order.
    fn pending_in(&self, start: &[u8], end: &[u8], reverse: bool) -> Pending {
        if start >= end {
            return Vec::new();
        }
        let state = self.lock();
        let range = state
            .pending
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .map(|(k, (_, v))| (k.clone(), v.clone()));
        if reverse {
            range.rev().collect()
        } else {
            range.collect()
        }
    }

    /// Stages `batch` in the open group, ends the turn, and returns the
    /// group's outcome once it is written.
    fn stage(&self, batch: Batch) -> Result<(), BackendError> {
        let mut state = self.lock();
        let group = state.open.id;
        let announce = batch.writes_version();
        let mut kept = Vec::new();
        for (key, value) in batch.expected {
            match state.pending.get(&key) {
                Some((_, pending)) if *pending != value => {
                    self.end_turn(&mut state);
                    return Err(Batch::conflict(&key));
                }
                Some((g, _)) if *g == group => {}
                _ => kept.push((key, value)),
            }
        }
        for (key, value) in batch.ops {
            state.pending.insert(key.clone(), (group, value.clone()));
            state.open.ops.insert(key, value);
        }
        state.open.expected.extend(kept);
        state.open.members += 1;
        state.open.announce |= announce;
        self.end_turn(&mut state);
        self.outcome(state, group)
    }

    /// Waits for group `id`'s outcome, writing the group when the storage
    /// is free and no other of its writers has begun to.
    fn outcome(&self, mut state: MutexGuard<'_, State>, id: u64) -> Result<(), BackendError> {
        loop {
            if let Some(outcome) = state.outcomes.get_mut(&id) {
                outcome.left -= 1;
                let result = match &outcome.result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(e.copy()),
                };
                if outcome.left == 0 {
                    state.outcomes.remove(&id);
                }
                return result;
            }
            if !state.writing && state.open.id == id {
                return self.write(state);
            }
            state = self
                .written
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Writes the open group as one batch.
    fn write(&self, mut state: MutexGuard<'_, State>) -> Result<(), BackendError> {
        let next = Group {
            id: state.open.id + 1,
            ..Group::default()
        };
        let group = std::mem::replace(&mut state.open, next);
        state.writing = true;
        drop(state);
        let mut writing = Writing {
            pipeline: self,
            id: group.id,
            others: group.members - 1,
            done: false,
        };
        let result = self.base.apply(group.into_batch());
        let result = match result {
            Ok(()) if self.flush => self.base.flush(),
            other => other,
        };
        writing.finish(&result);
        result
    }
}

impl Group {
    fn into_batch(self) -> Batch {
        let mut batch = Batch::new();
        for (key, value) in self.expected {
            batch.expect(key, value);
        }
        for (key, value) in self.ops {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        if self.announce {
            batch.announce_version();
        }
        batch
    }
}

/// A group being written: when its writing ends, even by a panic, the
/// storage is free again and the group's other writers learn the outcome.
struct Writing<'p> {
    pipeline: &'p Pipeline,
    id: u64,
    others: usize,
    done: bool,
}

impl Writing<'_> {
    fn finish(&mut self, result: &Result<(), BackendError>) {
        self.done = true;
        let mut state = self.pipeline.lock();
        state.writing = false;
        let id = self.id;
        state.pending.retain(|_, (group, _)| *group != id);
        if self.others > 0 {
            let result = match result {
                Ok(()) => Ok(()),
                Err(e) => Err(e.copy()),
            };
            let left = self.others;
            state.outcomes.insert(id, Outcome { result, left });
        }
        self.pipeline.written.notify_all();
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(&Err(BackendError::new(
                "the write stopped before it finished",
            )));
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.pipeline.holds_turn() {
            let mut state = self.pipeline.lock();
            self.pipeline.end_turn(&mut state);
        }
    }
}

/// In a turn, reads see the pending writes and a batch is staged; outside
/// one, every call goes to the storage as it is.
impl Backend for Pipeline {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        if self.holds_turn()
            && let Some((_, value)) = self.lock().pending.get(key)
        {
            return Ok(value.clone());
        }
        self.base.get(key)
    }

    /// In a turn: the pending values, and one storage call for the others.
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, BackendError> {
        if !self.holds_turn() {
            return self.base.get_many(keys);
        }
        let pending: Vec<Option<Option<Vec<u8>>>> = {
            let state = self.lock();
            keys.iter()
                .map(|k| state.pending.get(*k).map(|(_, v)| v.clone()))
                .collect()
        };
        let stored: Vec<&[u8]> = keys
            .iter()
            .zip(&pending)
            .filter(|(_, p)| p.is_none())
            .map(|(k, _)| *k)
            .collect();
        let mut stored = self.base.get_many(&stored)?.into_iter();
        Ok(pending
            .into_iter()
            .map(|p| p.unwrap_or_else(|| stored.next().flatten()))
            .collect())
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        if !self.holds_turn() {
            return self.base.scan(start, end, reverse, visit);
        }
        let pending = self.pending_in(start, end, reverse);
        overlay::scan(&*self.base, &pending, (start, end), reverse, visit)
    }

    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<KeyValue>, BackendError> {
        if !self.holds_turn() {
            return self.base.last_in(start, end);
        }
        let pending = self.pending_in(start, end, true);
        overlay::last_in(&*self.base, &pending, (start, end))
    }

    /// In a turn: the ranges pending writes touch merged one by one, the
    /// others in one storage call.
    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, BackendError> {
        if !self.holds_turn() {
            return self.base.last_in_each(ranges);
        }
        let pending: Vec<Pending> = ranges
            .iter()
            .map(|(start, end)| self.pending_in(start, end, true))
            .collect();
        let stored: Vec<KeyRange> = ranges
            .iter()
            .zip(&pending)
            .filter(|(_, p)| p.is_empty())
            .map(|(r, _)| r.clone())
            .collect();
        let mut stored = self.base.last_in_each(&stored)?.into_iter();
        ranges
            .iter()
            .zip(pending)
            .map(|((start, end), p)| {
                if p.is_empty() {
                    Ok(stored.next().flatten())
                } else {
                    overlay::last_in(&*self.base, &p, (start, end))
                }
            })
            .collect()
    }

    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        if self.holds_turn() {
            self.stage(batch)
        } else {
            self.base.apply(batch)
        }
    }

    fn flush(&self) -> Result<(), BackendError> {
        self.base.flush()
    }

    fn compact(&self) -> Result<(), BackendError> {
        self.base.compact()
    }

    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        self.base.changes()
    }
}

/// Counts, never keys or values.
impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.state.try_lock().map(|s| s.pending.len()).ok();
        f.debug_struct("Pipeline")
            .field("base", &self.base)
            .field("flush", &self.flush)
            .field("pending", &pending)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;

//! The backend's connections: at most [`MAX_CONNECTIONS`] for reads and
//! [`MAX_WRITERS`] for writes open at once (a pool each), kept open
//! between calls.
//!
//! Without a bound, a burst of callers (64 requests at once in a service)
//! opened a connection each, and the server forked a process for every
//! one, only for most to be closed again: reads whose median took 1 ms
//! waited seconds at the 99th percentile. With it, a caller past the bound
//! waits for a connection to come back, which takes about one statement's
//! time; a connection that broke is closed and its place given to the next
//! caller. One that waits longer than [`WAIT`] (every connection stuck on a
//! server that stopped answering) gets `Unavailable`.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::super::{BackendError, BackendErrorKind};

/// How many connections a backend has open at once for reads, at most: 16.
pub(super) const MAX_CONNECTIONS: usize = 16;

/// How many more it has for writes, at most: 4. A store's writes run one
/// at a time (a lock per store keeps its own writers from colliding), so
/// a few are enough for the stores and tools sharing a backend.
pub(super) const MAX_WRITERS: usize = 4;

/// How long a caller waits for a connection before giving up: 30 s.
pub(super) const WAIT: Duration = Duration::from_secs(30);

/// Connections `C`, the idle ones kept, and how many are open.
pub(super) struct Pool<C> {
    state: Mutex<State<C>>,
    returned: Condvar,
    max: usize,
}

struct State<C> {
    idle: Vec<C>,
    open: usize,
}

/// What [`Pool::take`] gives: a connection kept open, or the right to
/// open one (given back with [`Pool::give_back`] or [`Pool::lost`]).
pub(super) enum Taken<C> {
    Idle(C),
    Open,
}

impl<C> Pool<C> {
    pub(super) fn new(max: usize) -> Self {
        Pool {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
            max: max.max(1),
        }
    }

    /// An idle connection, or leave to open one; waits while `max` are in
    /// use, up to `wait`.
    pub(super) fn take(&self, wait: Duration) -> Result<Taken<C>, BackendError> {
        let deadline = Instant::now() + wait;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Taken::Idle(conn));
            }
            if state.open < self.max {
                state.open += 1;
                return Ok(Taken::Open);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BackendError::with_kind(
                    BackendErrorKind::Unavailable,
                    format!(
                        "all {} connections to PostgreSQL stayed busy for {} s",
                        self.max,
                        wait.as_secs()
                    ),
                ));
            }
            state = self
                .returned
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// A connection that still works, kept for the next caller.
    pub(super) fn give_back(&self, conn: C) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.idle.push(conn);
        drop(state);
        self.returned.notify_one();
    }

    /// A connection that broke or could not be opened: its place is free.
    pub(super) fn lost(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.open = state.open.saturating_sub(1);
        drop(state);
        self.returned.notify_one();
    }

    /// The idle connections, taken out (to close them).
    pub(super) fn drain(&mut self) -> Vec<C> {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.open -= state.idle.len().min(state.open);
        std::mem::take(&mut state.idle)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn callers_past_the_bound_wait_for_a_connection_to_come_back() {
        let pool = Arc::new(Pool::<u32>::new(2));
        assert!(matches!(pool.take(WAIT), Ok(Taken::Open)));
        assert!(matches!(pool.take(WAIT), Ok(Taken::Open)));
        // The third waits, and gives up after its wait.
        let start = Instant::now();
        let err = pool.take(Duration::from_millis(50)).err().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(err.kind(), BackendErrorKind::Unavailable);
        assert!(err.to_string().contains("all 2 connections"), "{err}");
        // Given back meanwhile, it is the waiter's.
        let waiter = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.take(WAIT).ok())
        };
        std::thread::sleep(Duration::from_millis(50));
        pool.give_back(7);
        assert!(matches!(waiter.join().unwrap(), Some(Taken::Idle(7))));
        // A lost one frees its place: a new one may be opened.
        pool.lost();
        assert!(matches!(pool.take(WAIT), Ok(Taken::Open)));
    }

    #[test]
    fn idle_connections_are_reused_before_new_ones_are_opened() {
        let mut pool = Pool::<u32>::new(3);
        assert!(matches!(pool.take(WAIT), Ok(Taken::Open)));
        pool.give_back(1);
        assert!(matches!(pool.take(WAIT), Ok(Taken::Idle(1))));
        pool.give_back(1);
        assert!(matches!(pool.take(WAIT), Ok(Taken::Idle(1))));
        assert!(matches!(pool.take(WAIT), Ok(Taken::Open)));
        pool.give_back(1);
        pool.give_back(2);
        assert_eq!(pool.drain(), vec![1, 2]);
        // Drained, their places are free again: three may be opened.
        for _ in 0..3 {
            assert!(matches!(pool.take(Duration::ZERO), Ok(Taken::Open)));
        }
        assert!(pool.take(Duration::ZERO).is_err());
    }

    #[test]
    fn a_bound_of_zero_is_one() {
        let pool = Pool::<u32>::new(0);
        assert!(matches!(pool.take(WAIT), Ok(Taken::Open)));
        assert!(pool.take(Duration::ZERO).is_err());
    }
}

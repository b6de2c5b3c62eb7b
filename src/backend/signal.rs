//! Waking watchers: [`Changes`], what a watcher waits on, and [`Signal`],
//! the in-process one the memory and sled backends raise after each batch
//! that writes a version.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::BackendError;

/// What a watcher waits on: a wake-up when a new version may have been
/// committed. The history stays the source of truth: after a wake-up the
/// watcher reads what is new, so a missed or spurious wake-up costs a wait,
/// never a version.
pub trait Changes: Send + std::fmt::Debug {
    /// Waits until a version may have been committed, or `timeout` passed.
    /// Spurious wake-ups are allowed.
    ///
    /// # Errors
    ///
    /// [`BackendError`] when the source of wake-ups broke (a lost
    /// connection); the watcher then asks its backend for a new one.
    fn wait(&mut self, timeout: Duration) -> Result<(), BackendError>;
}

/// A counter of committed versions that waiters can sleep on, shared by a
/// backend and the watchers it hands out.
#[derive(Clone, Debug, Default)]
pub(crate) struct Signal {
    inner: Arc<(Mutex<u64>, Condvar)>,
}

impl Signal {
    /// Counts a new version and wakes every waiter.
    pub(crate) fn raise(&self) {
        let (count, woken) = &*self.inner;
        *count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        woken.notify_all();
    }

    /// A waiter that wakes on raises after now.
    pub(crate) fn subscribe(&self) -> Box<dyn Changes> {
        let seen = *self.inner.0.lock().unwrap_or_else(PoisonError::into_inner);
        Box::new(Waiter {
            signal: self.clone(),
            seen,
        })
    }
}

#[derive(Debug)]
struct Waiter {
    signal: Signal,
    seen: u64,
}

impl Changes for Waiter {
    fn wait(&mut self, timeout: Duration) -> Result<(), BackendError> {
        let (count, woken) = &*self.signal.inner;
        let deadline = Instant::now() + timeout;
        let mut now_count = count.lock().unwrap_or_else(PoisonError::into_inner);
        while *now_count == self.seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            now_count = woken
                .wait_timeout(now_count, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        self.seen = *now_count;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raise_wakes_a_waiter_and_a_quiet_signal_times_out() {
        let signal = Signal::default();
        let mut waiter = signal.subscribe();
        let start = Instant::now();
        waiter.wait(Duration::from_millis(30)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        let raiser = signal.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            raiser.raise();
        });
        let start = Instant::now();
        waiter.wait(Duration::from_secs(10)).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
        // That raise is seen: the next wait sleeps until its timeout.
        let start = Instant::now();
        waiter.wait(Duration::from_millis(30)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        // A raise before the wait is not missed.
        signal.raise();
        let start = Instant::now();
        waiter.wait(Duration::from_secs(10)).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

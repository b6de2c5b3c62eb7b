//! Wake-ups across processes: a connection that `LISTEN`s on the table's
//! channel, on which every commit that writes a version does `pg_notify`.

use std::fmt;
use std::time::Duration;

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use super::super::{BackendError, Changes};
use super::errors::pg_error;

/// A listening connection. When it breaks, `wait` says so, and the watcher
/// asks the backend for a new one (and reads the history for whatever it
/// missed meanwhile).
pub(super) struct Listener {
    client: Option<Client>,
}

impl Listener {
    pub(super) fn new(mut client: Client, channel: &str) -> Result<Self, BackendError> {
        client
            .batch_execute(&format!("LISTEN {channel}"))
            .map_err(|e| pg_error("could not listen for changes", &e))?;
        Ok(Listener {
            client: Some(client),
        })
    }
}

/// Closed on a thread of its own, as the backend's connections are.
impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("valueset-pg-close".to_owned())
                .spawn(move || drop(client));
        }
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener").finish_non_exhaustive()
    }
}

impl Changes for Listener {
    fn wait(&mut self, timeout: Duration) -> Result<(), BackendError> {
        let Some(client) = &mut self.client else {
            return Ok(());
        };
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(timeout);
        match waiting.next() {
            // Take every notification that is already there: one read of
            // the history answers them all.
            Ok(Some(_)) => {
                drop(waiting);
                let mut pending = notifications.iter();
                while let Ok(Some(_)) = pending.next() {}
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(pg_error("lost the connection that listens for changes", &e)),
        }
    }
}

//! Following new versions: [`Store::watch`] hands out a [`Watch`] that
//! yields an App's versions in order as they are committed, by this process
//! or (on a shared backend) by any other.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::access::Action;
use crate::backend::Changes;
use crate::error::{Error, NotFound};
use crate::history::Scope;
use crate::id::{AppId, EnvId};
use crate::model::{Actor, VersionId, VersionInfo, VersionSelector};

use super::Store;

/// Options of [`Store::watch`].
#[derive(Clone, Debug, Default)]
pub struct WatchOptions {
    /// Follow this Environment's history (its own versions and the App's,
    /// bubbled) instead of every change of the App.
    pub env: Option<EnvId>,
    /// Start after this version (resume where a watcher stopped); `None`
    /// starts after the current latest version. Following the whole App,
    /// any version of the App or of one of its Environments.
    pub from: Option<VersionId>,
}

/// A new version, as a [`Watch`] yields it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct WatchEvent {
    /// The Environment whose version it is; `None` for an App version.
    pub env: Option<EnvId>,
    /// The version, as [`Store::history`] lists it.
    #[serde(flatten)]
    pub version: VersionInfo,
}

/// Follows an App's new versions in order. Made by [`Store::watch`].
///
/// It never misses a version: the history is the source of truth, and a
/// wake-up (from the backend, or every half second without one) only says
/// when to look. After a lost connection it looks again from the last
/// version it yielded. As an [`Iterator`] it blocks until the next version;
/// [`next_timeout`](Self::next_timeout) waits at most so long.
pub struct Watch {
    store: Store,
    app: AppId,
    env: Option<EnvId>,
    /// The sequence number of the last version looked at.
    last: u64,
    changes: Option<Box<dyn Changes>>,
    pending: VecDeque<WatchEvent>,
}

/// How often a watcher looks without a wake-up.
const LOOK_EVERY: Duration = Duration::from_millis(500);

impl Store {
    /// Follows the new versions of `app`: every change of the App and of its
    /// Environments in order, or with `options.env` that Environment's
    /// history (bubbled App versions included); from after
    /// `options.from`, or from now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use valueset::{Actor, AppId, Key, Store};
    /// use valueset::model::NewValue;
    /// use valueset::store::WatchOptions;
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let app = AppId::new("shop")?;
    /// store.create_app(&admin, &app)?;
    /// let mut watch = store.watch(&admin, &app, WatchOptions::default())?;
    /// store.set(&admin, &app, None, &Key::new("A")?, NewValue::plain("1"), Default::default())?;
    /// let event = watch.next_timeout(Duration::from_secs(5))?.expect("a new version");
    /// assert_eq!(event.version.id.to_string(), "a1");
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App;
    /// [`NotFound`] for the App, the Environment or
    /// `options.from`.
    pub fn watch(&self, actor: &Actor, app: &AppId, options: WatchOptions) -> Result<Watch, Error> {
        let env = options.env;
        let (meta, env_meta) = self.open_scope(actor, Action::ReadValues, app, env.as_ref())?;
        // Subscribe before reading where to start, so that nothing
        // committed in between is missed.
        let changes = self.inner.backend.changes()?;
        let scope = Scope {
            app,
            env: env.as_ref().zip(env_meta.as_ref()),
        };
        let last = match options.from {
            // Following the whole App, an Environment's version is a place
            // in the App's one sequence like any other.
            Some(id) if env.is_none() && id.is_env() => {
                if id.seq() >= meta.next_seq {
                    return Err(NotFound::Version {
                        version: id.to_string(),
                        env: None,
                    }
                    .into());
                }
                id.seq()
            }
            Some(id) => self.reader().resolve(scope, &VersionSelector::Id(id))?,
            None => meta.next_seq.saturating_sub(1),
        };
        Ok(Watch {
            store: self.clone(),
            app: app.clone(),
            env,
            last,
            changes,
            pending: VecDeque::new(),
        })
    }
}

impl Watch {
    /// The next version, waiting at most `timeout` for one; `None` when
    /// none came.
    ///
    /// # Errors
    ///
    /// [`NotFound`](crate::error::NotFound) when the App or Environment was
    /// deleted; [`Error::Backend`] when the storage cannot be read (the
    /// watcher can be asked again: it resumes where it was).
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<WatchEvent>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            self.look()?;
            if !self.pending.is_empty() {
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.wait(left.min(LOOK_EVERY));
        }
    }

    /// Waits for a wake-up; when the source of wake-ups broke, asks the
    /// backend for a new one and meanwhile sleeps as long as it would look.
    fn wait(&mut self, timeout: Duration) {
        if self.changes.is_none() {
            self.changes = self.store.inner.backend.changes().ok().flatten();
        }
        match &mut self.changes {
            Some(changes) => {
                if changes.wait(timeout).is_err() {
                    self.changes = None;
                    std::thread::sleep(timeout.min(Duration::from_millis(50)));
                }
            }
            None => std::thread::sleep(timeout),
        }
    }

    /// Reads every version after the last one looked at.
    fn look(&mut self) -> Result<(), Error> {
        let store = &self.store;
        let meta = store.app_meta(&self.app)?;
        let latest = meta.next_seq.saturating_sub(1);
        let reader = store.reader();
        while self.last < latest {
            let seq = self.last + 1;
            let event = match &self.env {
                Some(env) => {
                    let env_meta = store.env_meta(&self.app, env)?;
                    let scope = Scope {
                        app: &self.app,
                        env: Some((env, &env_meta)),
                    };
                    if reader.exists(scope, seq)? {
                        Some((Some(env.clone()), reader.info(scope, seq)?))
                    } else {
                        None
                    }
                }
                None => self.app_wide_at(seq)?,
            };
            if let Some((env, version)) = event {
                self.pending.push_back(WatchEvent { env, version });
            }
            self.last = seq;
        }
        Ok(())
    }

    /// The change at `seq` of the App or of one of its Environments, if it
    /// is still there (a deleted Environment takes its versions along).
    fn app_wide_at(&self, seq: u64) -> Result<Option<(Option<EnvId>, VersionInfo)>, Error> {
        let reader = self.store.reader();
        let app_scope = Scope {
            app: &self.app,
            env: None,
        };
        if reader.exists(app_scope, seq)? {
            return Ok(Some((None, reader.info(app_scope, seq)?)));
        }
        for (env, env_meta) in reader.envs(&self.app)? {
            if env_meta.diverged_at.is_some_and(|d| d <= seq)
                && reader.env_version_exists(&self.app, &env, seq)?
            {
                let scope = Scope {
                    app: &self.app,
                    env: Some((&env, &env_meta)),
                };
                let info = reader.info(scope, seq)?;
                return Ok(Some((Some(env), info)));
            }
        }
        Ok(None)
    }
}

impl Iterator for Watch {
    type Item = Result<WatchEvent, Error>;

    /// Blocks until the next version.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("app", &self.app)
            .field("env", &self.env)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

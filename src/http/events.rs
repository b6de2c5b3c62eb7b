//! The change feed as server-sent events (an addition to Humanitec's API):
//! `GET /orgs/{orgId}/apps/{appId}/events` streams one event per new
//! version of the App and of its Environments, in order: `id:` the
//! version's UUID, `event: version`, `data:` the version as the list
//! endpoints show it, with `"env"` (`null` for an App version).
//! `Last-Event-ID` resumes after that version; a comment line every
//! [`HEARTBEAT`] (or [`ServiceOptions::heartbeat`](super::ServiceOptions::heartbeat))
//! keeps the connection alive through proxies.
//!
//! One watcher per App (a blocking task over [`Store::watch`]) feeds every
//! subscriber of that App through a broadcast channel; it ends when the
//! last subscriber leaves. A subscriber first replays what it missed from
//! the history (its own watcher from `Last-Event-ID`), then follows the
//! broadcast, skipping what it replayed; one that falls behind the
//! broadcast replays again from its last event. So no version is missed
//! or sent twice, and every replica serves the feed: the store says what
//! is new, whichever process wrote it.
//!
//! [`Store::watch`]: crate::Store::watch

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{broadcast, mpsc, watch};

use crate::id::{AppId, EnvId};
use crate::model::{Actor, VersionId, VersionSelector};
use crate::store::{Store, Watch, WatchEvent, WatchOptions};

use super::error::{ApiError, ErrorBody};
use super::extract::Params;
use super::ids::version_from_uuid;
use super::shapes::VersionJson;
use super::{AppState, Shared};

/// How often an idle stream sends a comment line, by default.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// How many versions a subscriber may be behind the broadcast before it
/// replays from the history instead.
const BUFFER: usize = 256;

/// How long the watcher waits for a version before it looks whether
/// anyone still listens.
const LOOK: Duration = Duration::from_millis(500);

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/orgs/{orgId}/apps/{appId}/events", get(events))
}

/// Ends every event stream of a router, so that a graceful shutdown can
/// finish: streams never end by themselves. Give a clone to
/// [`ServiceOptions::shutdown`](super::ServiceOptions::shutdown) and call
/// [`trigger`](Self::trigger) when the server stops.
#[derive(Clone, Debug)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Shutdown {
    /// A shutdown not yet triggered.
    pub fn new() -> Self {
        Shutdown(Arc::new(watch::channel(false).0))
    }

    /// Ends every event stream of the routers given this shutdown (and of
    /// those given later).
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

/// One version, ready to send: its place in the App's sequence, the
/// library's id and its UUID, and its JSON.
#[derive(Clone, Debug)]
struct Version {
    seq: u64,
    lib_id: VersionId,
    id: String,
    data: String,
}

/// The watchers of the Apps someone follows.
#[derive(Default)]
pub(crate) struct Hub {
    apps: Arc<Mutex<Watchers>>,
}

type Watchers = HashMap<AppId, broadcast::Sender<Arc<Version>>>;

/// The versions of an App and its Environments as they are made.
#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/events", tag = "Events",
    params(("orgId" = String, Path), ("appId" = String, Path),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this version (its UUID or the library's id).")),
    responses((status = 200, content_type = "text/event-stream", body = String,
        description = "`id:` the version's UUID, `event: version`, `data:` the version with `env`."),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "`too_many_subscribers`: the service follows as many streams as it may (`Retry-After`).")))]
pub(super) async fn events(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    let resume = headers
        .get("last-event-id")
        .map(|h| h.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::bad_request("`Last-Event-ID` is not text"))?;
    let checked = app.clone();
    // The caller may read the App; where to start, from the history, and
    // where the App is now, fixed before the answer: every version made
    // after the caller has its answer is sent.
    let (from, now) = s
        .run(move |store| {
            let envs = store.envs(&actor, &checked)?;
            let from = match resume {
                Some(text) => Some(resume_from(store, &actor, &checked, &envs, &text)?),
                None => None,
            };
            Ok((from, store.head(&actor, &checked, None)?.place()))
        })
        .await?;
    let place = s.subscribers.join()?;
    let live = s.hub.subscribe(&s.store, &app, now);
    let (tx, rx) = mpsc::channel(16);
    let store = Arc::clone(&s.store);
    let shutdown = s.shutdown.subscribe();
    tokio::spawn(forward(store, app, from.ok_or(now), live, tx, shutdown));
    Ok(Sse::new(Stream { rx, _place: place })
        .keep_alive(KeepAlive::new().interval(s.heartbeat))
        .into_response())
}

/// The version a `Last-Event-ID` names: a UUID of the App or of one of
/// its Environments, or the library's id.
fn resume_from(
    store: &Store,
    actor: &Actor,
    app: &AppId,
    envs: &[EnvId],
    text: &str,
) -> Result<VersionId, ApiError> {
    let id = version_from_uuid(app, None, text)
        .or_else(|| {
            envs.iter()
                .find_map(|e| version_from_uuid(app, Some(e), text))
        })
        .or_else(|| text.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`Last-Event-ID: {text}` names no version of this App"
            ))
        })?;
    // Checked as the watch will take it.
    let options = WatchOptions {
        env: None,
        from: Some(id),
    };
    store.watch(actor, app, options)?;
    Ok(id)
}

/// Sends a subscriber what it missed (`Ok`: after a version it names),
/// then what is new (`Err`: after the place the App was at when it came),
/// until it leaves, its App goes, or the service stops.
async fn forward(
    store: Arc<Store>,
    app: AppId,
    from: Result<VersionId, VersionId>,
    mut live: broadcast::Receiver<Arc<Version>>,
    tx: mpsc::Sender<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last = match from {
        Ok(id) => {
            let Some(last) = replay(&store, &app, id, &tx).await else {
                return;
            };
            last
        }
        Err(now) => Some((now.seq(), now)),
    };
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(v) => {
                    if last.is_some_and(|(seq, _)| v.seq <= seq) {
                        continue;
                    }
                    if tx.send(event(&v)).await.is_err() {
                        return;
                    }
                    last = Some((v.seq, v.lib_id));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let Some((_, id)) = last else { return };
                    match replay(&store, &app, id, &tx).await {
                        Some(Some(l)) => last = Some(l),
                        Some(None) => {}
                        None => return,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = stopped(&mut shutdown) => return,
            () = tx.closed() => return,
        }
    }
}

/// Resolves when the shutdown is triggered (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// Sends every version after `from`, read from the history; the last one
/// sent (`Some(None)` when none was), or `None` when the subscriber left
/// or the history could not be read.
async fn replay(
    store: &Arc<Store>,
    app: &AppId,
    from: VersionId,
    tx: &mpsc::Sender<Event>,
) -> Option<Option<(u64, VersionId)>> {
    let (store, app) = (Arc::clone(store), app.clone());
    let missed = tokio::task::spawn_blocking(move || {
        let options = WatchOptions {
            env: None,
            from: Some(from),
        };
        let mut watch = store.watch(&watcher(), &app, options)?;
        let mut out = Vec::new();
        while let Some(e) = watch.next_timeout(Duration::ZERO)? {
            out.push(prepare(&store, &app, &e)?);
        }
        Ok::<_, crate::Error>(out)
    })
    .await
    .ok()?
    .ok()?;
    let mut last = None;
    for v in missed {
        tx.send(event(&v)).await.ok()?;
        last = Some((v.seq, v.lib_id));
    }
    Some(last)
}

impl Hub {
    /// A receiver of `app`'s new versions, starting its watcher (from
    /// `now`, a place a subscriber saw) if none runs: a watcher that took
    /// its start only once its thread ran would miss what was made
    /// meanwhile, which the subscriber's client may have made itself.
    fn subscribe(
        &self,
        store: &Arc<Store>,
        app: &AppId,
        now: VersionId,
    ) -> broadcast::Receiver<Arc<Version>> {
        let mut apps = self.apps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = apps.get(app) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(BUFFER);
        apps.insert(app.clone(), sender.clone());
        drop(apps);
        let (store, app, apps) = (Arc::clone(store), app.clone(), Arc::clone(&self.apps));
        tokio::task::spawn_blocking(move || run_watcher(&store, &app, now, &sender, &apps));
        receiver
    }
}

/// Broadcasts `app`'s new versions while anyone listens; ends, and leaves
/// the hub, when no one does or the App is gone (its subscribers' streams
/// then end).
fn run_watcher(
    store: &Store,
    app: &AppId,
    now: VersionId,
    sender: &broadcast::Sender<Arc<Version>>,
    apps: &Mutex<Watchers>,
) {
    let mut watch = None;
    loop {
        {
            // Under the hub's lock, so no subscriber joins a watcher that
            // is leaving.
            let mut apps = apps.lock().unwrap_or_else(PoisonError::into_inner);
            if sender.receiver_count() == 0 {
                apps.remove(app);
                return;
            }
        }
        let found = match &mut watch {
            Some(w) => Watch::next_timeout(w, LOOK),
            None => match store.watch(&watcher(), app, since(now)) {
                Ok(w) => {
                    watch = Some(w);
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        match found {
            Ok(Some(e)) => {
                if let Ok(v) = prepare(store, app, &e) {
                    let _ = sender.send(Arc::new(v));
                }
            }
            Ok(None) => {}
            Err(e) if e.code() == crate::codes::UNKNOWN_APP => {
                apps.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(app);
                return;
            }
            // The store is away: the watch resumes where it was.
            Err(_) => std::thread::sleep(LOOK),
        }
    }
}

/// A watch of the whole App after `place`.
fn since(place: VersionId) -> WatchOptions {
    WatchOptions {
        env: None,
        from: Some(place),
    }
}

/// Who the service's own watchers read as.
fn watcher() -> Actor {
    Actor::admin("valuesd")
}

/// The event of a version: its JSON as the list endpoints show it, with
/// `env`.
fn prepare(store: &Store, app: &AppId, e: &WatchEvent) -> Result<Version, crate::Error> {
    let env = e.env.as_ref();
    let version = store.version(&watcher(), app, env, VersionSelector::Id(e.version.id))?;
    let json = VersionJson::of(app, env, &version);
    let mut data = serde_json::to_value(&json).unwrap_or_default();
    data["env"] = serde_json::json!(env);
    Ok(Version {
        seq: e.version.id.seq(),
        lib_id: e.version.id,
        id: json.id,
        data: data.to_string(),
    })
}

fn event(v: &Version) -> Event {
    Event::default().id(&v.id).event("version").data(&v.data)
}

/// The subscriber's side of its channel, as a stream of events.
struct Stream {
    rx: mpsc::Receiver<Event>,
    /// Its place under the cap, given back when the stream is dropped.
    _place: Subscribed,
}

impl futures_core::Stream for Stream {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|e| e.map(Ok))
    }
}

/// The event streams followed now, counted against a cap.
pub(crate) struct Subscribers {
    now: Arc<AtomicUsize>,
    cap: usize,
}

impl Subscribers {
    pub(crate) fn new(cap: usize) -> Subscribers {
        Subscribers {
            now: Arc::new(AtomicUsize::new(0)),
            cap,
        }
    }

    /// One more stream, while fewer than the cap are followed; it counts
    /// until its [`Subscribed`] is dropped (the client gone, the stream
    /// ended).
    fn join(&self) -> Result<Subscribed, ApiError> {
        self.now
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.cap).then_some(n + 1)
            })
            .map(|_| Subscribed(Arc::clone(&self.now)))
            .map_err(|n| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    crate::codes::TOO_MANY_SUBSCRIBERS,
                    format!("the service follows {n} event streams, as many as it may"),
                )
            })
    }
}

/// One followed stream's place under the cap.
struct Subscribed(Arc<AtomicUsize>);

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Key;
    use crate::model::NewValue;
    use crate::store::SetOptions;

    /// The first subscriber's watcher starts where the App was when the
    /// subscriber came, not when the watcher's thread got to run: a version
    /// made in between (by the subscriber's own client, say) is sent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_watcher_starts_where_its_first_subscriber_came() {
        let store = Arc::new(Store::in_memory());
        let admin = Actor::admin("alice");
        let app = AppId::new("shop").unwrap();
        store.create_app(&admin, &app).unwrap();
        let now = store.head(&admin, &app, None).unwrap().place();
        let key = Key::new("HOST").unwrap();
        let made = store
            .set(
                &admin,
                &app,
                None,
                &key,
                NewValue::plain("db"),
                SetOptions::default(),
            )
            .unwrap();
        let hub = Hub::default();
        let mut live = hub.subscribe(&store, &app, now);
        let got = tokio::time::timeout(Duration::from_secs(10), live.recv())
            .await
            .expect("the version made before the watcher ran")
            .unwrap();
        assert_eq!(got.lib_id, made.id);
    }
}

//! The service: Humanitec's Shared Values API over HTTP, behind the cargo
//! feature `http` (guide: [The service](crate::_documentation::guide#the-service)).
//!
//! [`router`] gives an axum [`Router`] over a [`Store`] that any tokio
//! service can mount, and [`serve`] serves it on a TCP listener with the
//! limits an open network needs (a request's head within a time, a cap on
//! connections, each client's address); `examples/valuesd.rs` does. The
//! Store is
//! synchronous: every call to it runs on tokio's blocking pool, never on the
//! runtime's own threads.
//!
//! ```no_run
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use valueset::http::{self, ServiceOptions, Tokens};
//! use valueset::Store;
//!
//! let store = Arc::new(Store::open("./store")?);
//! let tokens = Tokens::load("tokens.json".as_ref())?;
//! let app = http::router(store, "my-org", tokens, ServiceOptions::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // Until Ctrl-C; then the requests in flight finish.
//! let stop = async { tokio::signal::ctrl_c().await.unwrap_or(()) };
//! http::serve(listener, app, http::ServeOptions::default(), stop).await?;
//! # Ok(()) }
//! ```
//!
//! Paths, methods, status codes and JSON shapes are those of Humanitec's
//! API for Apps, Environments, Shared Values and Value Set Versions, so its
//! clients work unchanged; `/openapi.json` describes all of it, additions
//! included.

mod apps;
mod auth;
mod cache;
mod error;
mod events;
mod extract;
mod extras;
mod ids;
mod links;
mod openapi;
mod page;
mod payloads;
mod resolve;
mod serve;
mod shapes;
mod stores;
mod throttle;
mod values;
mod versions;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::Error;
use crate::id::AppId;
use crate::model::{Actor, Clock, SystemClock, Timestamp};
use crate::store::Store;

pub use auth::{Tokens, TokensError, token_hash};
pub use error::{ApiError, ErrorBody, RETRY_AFTER_SECS};
pub use events::{HEARTBEAT, Shutdown};
pub use extras::EXPORT_KEY_HEADER;
pub use ids::{parse_selector, version_from_uuid, version_uuid};
pub use openapi::openapi_json;
pub use page::session::{DEFAULT_SESSION_TTL, SESSION_COOKIE, SessionKey};
pub use serve::{DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, ServeOptions, serve};
pub use throttle::{DEFAULT_FAILED_TOKENS, FAILED_TOKENS_WINDOW, MAX_ADDRESSES};

/// The largest request body the service takes by default: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// How long the service waits for a request by default: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How many event streams the service follows at once by default: 4,096.
pub const DEFAULT_MAX_SUBSCRIBERS: usize = 4096;

/// Settings of the service, each with its default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServiceOptions {
    /// The largest request body, in bytes; a larger one is refused with
    /// 413 before it is read whole. [`DEFAULT_BODY_LIMIT`] by default.
    pub body_limit: usize,
    /// How long the service waits for a request, its body read and its
    /// answer made (not an event stream's events); longer is 408
    /// `request_timeout`. 30 s by default. A change the store had begun
    /// may still be made: read to know.
    pub request_timeout: std::time::Duration,
    /// How often an idle event stream sends a comment line;
    /// [`HEARTBEAT`] by default.
    pub heartbeat: std::time::Duration,
    /// Ends the event streams when triggered (a server's graceful shutdown
    /// waits for them); a fresh one, never triggered, by default.
    pub shutdown: Shutdown,
    /// How many event streams the service follows at once; one more is
    /// answered 503 `too_many_subscribers` with `Retry-After`.
    /// [`DEFAULT_MAX_SUBSCRIBERS`] by default.
    pub max_subscribers: usize,
    /// The key that signs the web page's session cookies: replicas behind
    /// one address share one ([`SessionKey::from_master_key`]). A random
    /// key by default, so sessions are good only in the process that made
    /// them.
    pub session_key: SessionKey,
    /// How long a web page session lasts; [`DEFAULT_SESSION_TTL`] by
    /// default.
    pub session_ttl: std::time::Duration,
    /// Whether the session cookie is marked `Secure` (sent only over TLS):
    /// set it when the service is reached through a TLS proxy. `false` by
    /// default, for a service on plain HTTP.
    pub secure_cookies: bool,
    /// How many unknown tokens one address may give in a minute
    /// ([`FAILED_TOKENS_WINDOW`]) before its requests are refused with 429
    /// `too_many_failed_tokens` and `Retry-After` for the rest of that
    /// minute; `0` refuses no one. [`DEFAULT_FAILED_TOKENS`] by default.
    /// Addresses are known only when the router is served by [`serve`]
    /// (as `valuesd` serves it) or with
    /// `into_make_service_with_connect_info::<SocketAddr>()`; behind a
    /// proxy every client has the proxy's address.
    pub failed_tokens: u32,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            heartbeat: HEARTBEAT,
            shutdown: Shutdown::new(),
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            session_key: SessionKey::generate(),
            session_ttl: DEFAULT_SESSION_TTL,
            secure_cookies: false,
            failed_tokens: DEFAULT_FAILED_TOKENS,
        }
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) org: String,
    pub(crate) tokens: Tokens,
    pub(crate) started_at: Timestamp,
    pub(crate) hub: events::Hub,
    pub(crate) heartbeat: std::time::Duration,
    pub(crate) shutdown: Shutdown,
    /// Value lists already answered, by head.
    pub(crate) answers: Arc<cache::Answers>,
    /// The event streams followed now, and how many may be.
    pub(crate) subscribers: events::Subscribers,
    /// The web page's session settings.
    pub(crate) page: page::PageSettings,
    /// The unknown tokens each address gave.
    pub(crate) throttle: throttle::Throttle,
}

pub(crate) type AppState = State<Arc<Shared>>;

/// The service's router for organization `org` over `store`, letting in
/// the holders of `tokens`.
///
/// # Errors
///
/// [`Error::Invalid`] when `org` breaks the rule of ids.
// Options by value, as every operation of the crate takes them.
#[allow(clippy::needless_pass_by_value)]
pub fn router(
    store: Arc<Store>,
    org: &str,
    tokens: Tokens,
    options: ServiceOptions,
) -> Result<Router, Error> {
    let ServiceOptions {
        body_limit,
        request_timeout,
        heartbeat,
        shutdown,
        max_subscribers,
        session_key,
        session_ttl,
        secure_cookies,
        failed_tokens,
    } = options;
    // An organization id follows the rule of App ids.
    AppId::new(org)?;
    let shared = Arc::new(Shared {
        store,
        org: org.to_owned(),
        tokens,
        started_at: SystemClock.now(),
        hub: events::Hub::default(),
        heartbeat,
        shutdown,
        answers: Arc::new(cache::Answers::new(cache::BUDGET)),
        subscribers: events::Subscribers::new(max_subscribers),
        page: page::PageSettings {
            key: session_key,
            ttl: session_ttl,
            secure_cookies,
        },
        throttle: throttle::Throttle::new(failed_tokens, FAILED_TOKENS_WINDOW),
    });
    let api = Router::new()
        .merge(apps::routes())
        .merge(values::routes())
        .merge(versions::routes())
        .merge(stores::routes())
        .merge(resolve::routes())
        .merge(extras::routes())
        .merge(events::routes())
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            authenticate,
        ));
    Ok(Router::new()
        .merge(api)
        .merge(page::routes())
        .route("/openapi.json", get(openapi::serve))
        .route("/healthz", get(stores::healthz))
        .route("/readyz", get(stores::readyz))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            deadline(request_timeout, req, next)
        }))
        .layer(middleware::from_fn(access_log))
        .with_state(shared))
}

/// Answers 408 when a request takes longer than `timeout`: reading its
/// body included (a slow client), its event stream's events not (the
/// stream's answer is made at once).
async fn deadline(timeout: std::time::Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            crate::codes::REQUEST_TIMEOUT,
            format!("the request took longer than {} ms", timeout.as_millis()),
        )
        .into_response(),
    }
}

/// The name of the actor a request was made by, for the access log.
#[derive(Clone)]
struct ActorName(String);

/// Lets in a request with a known bearer token, with its actor; 401
/// otherwise, and 429 to an address that gave unknown tokens too often.
async fn authenticate(State(s): AppState, mut req: Request, next: Next) -> Response {
    let address = throttle::address(req.extensions());
    if let Some(refused) = address.and_then(|a| s.throttle.refused(a, Instant::now())) {
        return throttle::too_many(refused).into_response();
    }
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(actor) = token.and_then(|t| s.tokens.actor(t)).cloned() else {
        if let (Some(address), Some(_)) = (address, token) {
            s.throttle.failed(address, Instant::now());
        }
        return ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            crate::codes::UNAUTHORIZED,
            "the request needs `Authorization: Bearer TOKEN` with a token the service knows",
        )
        .into_response();
    };
    let name = ActorName(actor.name().to_owned());
    req.extensions_mut().insert::<Actor>(actor);
    let mut response = next.run(req).await;
    response.extensions_mut().insert(name);
    response
}

/// One log line per request: method, path, status, time and actor; never
/// a query, a body or a header, so never a value, a secret or a token.
async fn access_log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let actor = response
        .extensions()
        .get::<ActorName>()
        .map_or("-", |a| a.0.as_str());
    tracing::info!(
        target: "valueset::http",
        %method,
        path,
        status = response.status().as_u16(),
        micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        actor,
        "request"
    );
    response
}

async fn unknown_route(req: Request) -> ApiError {
    let status = axum::http::StatusCode::NOT_FOUND;
    ApiError::new(
        status,
        crate::codes::UNKNOWN_ROUTE,
        format!("no route for {} {}", req.method(), req.uri().path()),
    )
}

async fn wrong_method(req: Request) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        crate::codes::UNKNOWN_ROUTE,
        format!("{} is not served at {}", req.method(), req.uri().path()),
    )
}

impl Shared {
    /// Runs `work` on the Store on tokio's blocking pool.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .unwrap_or_else(|_| {
                Err(ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    crate::codes::BACKEND,
                    "the request's work stopped before it finished",
                ))
            })
    }
}

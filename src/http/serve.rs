//! [`serve`]: the router on a TCP listener, with the limits a service on
//! an open network needs and `axum::serve` does not set.
//!
//! `axum::serve` installs no timer, so hyper's limit on reading a
//! request's head never takes effect: a client that sends its head a byte
//! at a time holds its connection, and a file descriptor, for as long as
//! it likes, and enough of them stop the process from accepting anyone.
//! [`serve`] is the same accept loop with hyper's timer installed: a head
//! not read whole within [`ServeOptions::header_timeout`] closes the
//! connection (a body is bounded by the service's request timeout). The
//! same limit runs from the end of one answer to the next request's head,
//! so a keep-alive connection left idle that long is closed too (HTTP
//! clients open a new one, as for any connection a server closed). It
//! also caps the connections open at once; past the cap, new ones wait in
//! the kernel's queue until one closes. Each request knows its client's
//! address, which the limit on guessed tokens counts by.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

/// How long a client may take to send a request's head, by default: 10 s.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are open at once, by default: 8,192.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8192;

/// How [`serve`] takes connections, each setting with its default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long a client may take to send a request's head (the request
    /// line and headers); the connection is closed after it.
    /// [`DEFAULT_HEADER_TIMEOUT`] by default.
    pub header_timeout: Duration,
    /// How many connections are open at once; more wait to be accepted
    /// until one closes (0 counts as 1). [`DEFAULT_MAX_CONNECTIONS`] by
    /// default; keep it under the process's limit of open files.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `router` (from [`router`](super::router)) on `listener` until
/// `signal` resolves, then stops accepting and waits for the connections
/// open to finish their requests (trigger the service's
/// [`Shutdown`](super::Shutdown) in `signal` so that event streams end
/// too). Each request carries its client's address as
/// `ConnectInfo<SocketAddr>`.
///
/// # Errors
///
/// None today: a failed accept (a client gone, too many open files) is
/// logged and the loop goes on after a pause. The `Result` leaves room for
/// failures to come.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        let (stream, addr) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(&e).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            router.clone().call(req)
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(client = %addr, "connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A failed accept: a client that left before it was taken needs nothing;
/// anything else (too many open files, say) is logged, and the loop waits
/// a little so that it does not spin.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("could not accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

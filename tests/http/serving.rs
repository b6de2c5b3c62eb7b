//! `http::serve`: a request's head within its timeout, a cap on the
//! connections open at once, and a graceful stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use valueset::http::{self, ServeOptions};

use crate::common::Server;

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

fn options(header_timeout: Duration, max_connections: usize) -> ServeOptions {
    let mut o = ServeOptions::default();
    o.header_timeout = header_timeout;
    o.max_connections = max_connections;
    o
}

fn connect(s: &Server) -> TcpStream {
    let stream = TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection, or until
/// the read timeout.
fn read_all(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_head_sent_too_slowly_is_closed_and_others_are_served() {
    let s = Server::serving(options(Duration::from_millis(300), 64));
    let mut slow = connect(&s);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let start = Instant::now();
    // Meanwhile another client is served.
    assert_eq!(s.raw("GET", "/healthz", None, &[], None).status, 200);
    let answer = read_all(&mut slow);
    let took = start.elapsed();
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    // A head sent in parts within the time is served.
    let mut parts = connect(&s);
    parts.write_all(&HEALTH[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    parts.write_all(&HEALTH[10..]).unwrap();
    assert!(read_all(&mut parts).starts_with("HTTP/1.1 200"));
}

/// The head timeout also runs from the end of one answer to the next
/// request's head: a keep-alive connection left idle that long is closed
/// (clients open a new one, as they do for any connection a server
/// closed), and one used again within it is served.
#[test]
fn a_keep_alive_connection_idle_past_the_head_timeout_is_closed() {
    let s = Server::serving(options(Duration::from_millis(500), 64));
    let keep = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut conn = connect(&s);
    conn.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    conn.write_all(keep).unwrap();
    assert!(read_all(&mut conn).starts_with("HTTP/1.1 200"));
    // Used again within the time: served on the same connection.
    conn.write_all(keep).unwrap();
    assert!(read_all(&mut conn).starts_with("HTTP/1.1 200"));
    // Idle past it: the server has closed it, and says nothing more.
    std::thread::sleep(Duration::from_millis(1500));
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = conn.write_all(keep);
    assert_eq!(read_all(&mut conn), "");
}

#[test]
fn connections_past_the_cap_wait_until_one_closes() {
    let s = Server::serving(options(Duration::from_secs(30), 1));
    let mut first = connect(&s);
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = [0; 12];
    first.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"HTTP/1.1 200");
    // The first connection stays open (keep-alive): the second waits.
    let mut second = connect(&s);
    second
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    second.write_all(HEALTH).unwrap();
    let mut byte = [0; 1];
    let waited = second.read(&mut byte);
    assert!(waited.is_err(), "served past the cap: {waited:?}");
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let answer = read_all(&mut second);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_cap_of_zero_serves_one_at_a_time() {
    let s = Server::serving(options(Duration::from_secs(30), 0));
    for _ in 0..2 {
        let mut c = connect(&s);
        c.write_all(HEALTH).unwrap();
        assert!(read_all(&mut c).starts_with("HTTP/1.1 200"));
    }
}

#[test]
fn serving_ends_on_its_signal_after_the_requests_in_flight() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let store = std::sync::Arc::new(valueset::Store::in_memory());
    let tokens = http::Tokens::parse(r#"{"tokens": []}"#).unwrap();
    let router = http::router(store, "acme", tokens, http::ServiceOptions::default()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(http::serve(
        listener,
        router,
        ServeOptions::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(HEALTH).unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stop.send(()).unwrap();
    let done =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(10), serving).await });
    assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
    assert!(TcpStream::connect(addr).is_err(), "still accepting");
}

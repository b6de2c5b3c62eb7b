//! Who may call, bad requests, unknown routes, limits, a lost store.

use serde_json::json;
use valueset::http::ServiceOptions;

use crate::common::{ADMIN, CANARY, DEV, Server, VIEWER, captured_logs};

#[test]
fn tokens_decide_who_gets_in() {
    let s = Server::start();
    let apps = Server::org("/apps");
    let r = s.raw("GET", &apps, None, &[], None);
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    let r = s.raw("GET", &apps, Some("not-a-token"), &[], None);
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    let r = s.raw(
        "GET",
        &apps,
        None,
        &[("Authorization", "Basic YWRtaW46YWRtaW4=")],
        None,
    );
    assert_eq!(r.status, 401);
    // The token's hash is not a token.
    let hash = valueset::http::token_hash(ADMIN);
    assert_eq!(s.raw("GET", &apps, Some(&hash), &[], None).status, 401);
    assert_eq!(s.raw("GET", &apps, Some(ADMIN), &[], None).status, 200);
    // Health and the document need no token.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        assert_eq!(s.raw("GET", path, None, &[], None).status, 200, "{path}");
    }
}

#[test]
fn guessing_tokens_is_refused_for_a_while_from_that_address() {
    let mut options = ServiceOptions::default();
    options.failed_tokens = 3;
    let s = Server::with_options(options);
    let apps = Server::org("/apps");
    // Requests without a token are careless, not guesses: not counted.
    for _ in 0..5 {
        assert_eq!(s.raw("GET", &apps, None, &[], None).status, 401);
    }
    assert_eq!(s.call("GET", &apps, ADMIN, None).status, 200);
    for _ in 0..3 {
        assert_eq!(s.call("GET", &apps, "guess", None).status, 401);
    }
    let refused = s.call("GET", &apps, "guess", None);
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (429, "too_many_failed_tokens")
    );
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Whatever the token, for the rest of the minute.
    assert_eq!(s.call("GET", &apps, ADMIN, None).status, 429);
    // What needs no token is served.
    assert_eq!(s.raw("GET", "/healthz", None, &[], None).status, 200);
    // Turned off, no one is refused.
    let mut options = ServiceOptions::default();
    options.failed_tokens = 0;
    let open = Server::with_options(options);
    for _ in 0..20 {
        assert_eq!(open.call("GET", &apps, "guess", None).status, 401);
    }
    assert_eq!(open.call("GET", &apps, ADMIN, None).status, 200);
}

#[test]
fn tokens_never_reach_the_log() {
    let s = Server::start();
    s.shop();
    let secret = json!({"key": "PW", "value": CANARY, "is_secret": true, "description": ""});
    s.ok("POST", "/apps/shop/values", Some(secret), 201);
    for token in [ADMIN, DEV, VIEWER, "guessed-token-5e1f"] {
        s.call("GET", &Server::org("/apps/shop/values"), token, None);
    }
    let form = format!("token={DEV}");
    s.raw(
        "POST",
        "/ui/sign-in",
        None,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(&form),
    );
    // The log is read at every level, trace included.
    let log = captured_logs();
    assert!(
        log.contains("request") && log.contains("/ui/sign-in"),
        "{log}"
    );
    for token in [ADMIN, DEV, VIEWER, "guessed-token-5e1f", CANARY] {
        assert!(!log.contains(token), "the log holds `{token}`");
    }
}

#[test]
fn unknown_orgs_routes_and_methods_are_json_errors() {
    let s = Server::start();
    let r = s.call("GET", "/orgs/other/apps", ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_org"));
    let r = s.call("GET", "/nowhere", ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_route"));
    let r = s.call("PUT", &Server::org("/apps"), ADMIN, Some(json!({})));
    assert_eq!((r.status, r.code().as_str()), (405, "unknown_route"));
}

#[test]
fn malformed_bodies_are_400_and_large_ones_413() {
    let s = Server::with_options({
        let mut o = ServiceOptions::default();
        o.body_limit = 1024;
        o
    });
    let apps = Server::org("/apps");
    for body in ["{", "[]", "{\"id\": 1, \"name\": \"x\"}", "\u{0}", "null"] {
        let r = s.raw("POST", &apps, Some(ADMIN), &[], Some(body));
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "invalid_request"),
            "{body:?}"
        );
    }
    let big = format!(r#"{{"id": "big", "name": "{}"}}"#, "x".repeat(2000));
    let r = s.raw("POST", &apps, Some(ADMIN), &[], Some(&big));
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    assert_eq!(
        s.call("GET", "/orgs/acme/apps/big", ADMIN, None).status,
        404
    );
}

#[test]
fn a_lost_store_is_503_with_retry_after_and_recovers() {
    let s = Server::start();
    s.shop();
    s.backend.set_away(true);
    let r = s.raw("GET", "/readyz", None, &[], None);
    assert_eq!((r.status, r.code().as_str()), (503, "backend_unavailable"));
    assert_eq!(r.headers["retry-after"], "1");
    let r = s.call(
        "POST",
        &Server::org("/apps/shop/values"),
        ADMIN,
        Some(json!({"key": "A", "value": "1", "description": ""})),
    );
    assert_eq!((r.status, r.code().as_str()), (503, "backend_unavailable"));
    for method in ["PUT", "PATCH"] {
        let body = json!({"value": "2", "description": ""});
        let r = s.call(
            method,
            &Server::org("/apps/shop/values/A"),
            ADMIN,
            Some(body),
        );
        assert_eq!(
            (r.status, r.code().as_str()),
            (503, "backend_unavailable"),
            "{method}"
        );
    }
    assert_eq!(s.raw("GET", "/healthz", None, &[], None).status, 200);
    s.backend.set_away(false);
    assert_eq!(s.raw("GET", "/readyz", None, &[], None).status, 200);
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
}

/// A client that sends its body too slowly gets 408 when the service's
/// wait is over; an event stream lives on past it.
#[test]
fn slow_clients_time_out_and_streams_do_not() {
    use std::io::{Read, Write};
    let mut options = ServiceOptions::default();
    options.request_timeout = std::time::Duration::from_millis(300);
    options.heartbeat = std::time::Duration::from_millis(100);
    let s = Server::with_options(options);
    s.shop();
    let addr = s.base.trim_start_matches("http://");
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /orgs/acme/apps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"id\": "
    );
    slow.write_all(head.as_bytes()).unwrap();
    let started = std::time::Instant::now();
    let mut reply = String::new();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let _ = slow.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("\"error\":\"request_timeout\""), "{reply}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let mut feed = s.follow(&Server::org("/apps/shop/events"), ADMIN, None);
    std::thread::sleep(std::time::Duration::from_millis(700));
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    assert_eq!(
        feed.next(std::time::Duration::from_secs(10))
            .expect("a1")
            .data["version"],
        "a1"
    );
}

/// What a raw HTTP/1.1 exchange answers: the status line's code.
fn raw_status(s: &Server, request: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let address = s.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // The service may answer and close before the whole request is sent.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let line = text.lines().next().unwrap_or_default().to_owned();
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {line:?}"))
}

#[test]
fn hostile_input_is_refused_with_4xx() {
    let s = Server::start();
    s.shop();
    let values = Server::org("/apps/shop/values");
    // JSON nested 10,000 deep, a body of invalid UTF-8, a NUL in a key.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nul = r#"{"key": "A\u0000B", "value": "x", "description": ""}"#;
    for body in [
        deep.as_str(),
        nul,
        "{\"key\": \"A\", \"value\": \"\u{fffd}\"",
        "null",
        "",
    ] {
        let r = s.raw("POST", &values, Some(ADMIN), &[], Some(body));
        assert!((400..500).contains(&r.status), "{}: {}", r.status, r.text);
    }
    let auth = format!("Authorization: Bearer {ADMIN}\r\n");
    let invalid_utf8 = [
        format!("POST {values} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 4\r\nConnection: close\r\n\r\n").into_bytes(),
        b"\"\xff\xfe\"".to_vec(),
    ]
    .concat();
    let status = raw_status(&s, &invalid_utf8);
    assert!((400..500).contains(&status), "{status}");
    // NUL, `..` and invalid UTF-8 in paths, ids, keys and queries.
    for path in [
        "/orgs/acme/apps/%00/values",
        "/orgs/acme/apps/..%2F..%2Fetc/values",
        "/orgs/acme/apps/shop/values/%00",
        "/orgs/acme/apps/shop/values/..",
        "/orgs/acme/apps/shop/values/%2e%2e",
        "/orgs/acme/apps/shop/values/%C3%28",
        "/orgs/acme/apps/shop/envs/%FF/values",
        "/orgs/acme/apps/shop/value-set-versions?key_changed=%00",
        "/orgs/acme/apps/shop/value-set-versions?key_changed=%FF",
    ] {
        let r = s.raw("GET", path, Some(ADMIN), &[], None);
        assert!(
            (300..500).contains(&r.status),
            "{path}: {} {}",
            r.status,
            r.text
        );
    }
    // A header of 1 MiB, and 200 headers: refused before they are read
    // whole (hyper's limits), and the service goes on.
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    assert_eq!(raw_status(&s, huge.as_bytes()), 431);
    let many = (0..200)
        .map(|i| format!("X-H{i}: v\r\n"))
        .collect::<Vec<_>>()
        .concat();
    let many = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert_eq!(raw_status(&s, many.as_bytes()), 431);
    assert_eq!(s.raw("GET", "/healthz", None, &[], None).status, 200);
}

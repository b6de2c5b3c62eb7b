//! Who may call, bad requests, unknown routes, limits, a lost store.

use serde_json::json;
use valueset::http::ServiceOptions;

use crate::common::{ADMIN, Server};

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

//! The change feed as server-sent events.

use std::time::Duration;

use serde_json::json;
use valueset::http::{ServiceOptions, Shutdown};

use crate::common::{ADMIN, CANARY, DEV, Server, VIEWER};

const WAIT: Duration = Duration::from_secs(10);

fn quick() -> ServiceOptions {
    let mut o = ServiceOptions::default();
    o.heartbeat = Duration::from_millis(100);
    o
}

#[test]
fn every_version_of_the_app_streams_in_order_and_resumes() {
    let s = Server::with_options(quick());
    s.shop();
    let path = Server::org("/apps/shop/events");
    let mut feed = s.follow(&path, DEV, None);
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    s.ok(
        "POST",
        "/apps/shop/envs/prod/values",
        Some(json!({"key": "A", "value": "p", "description": ""})),
        201,
    );
    let secret = json!({"key": "PW", "value": CANARY, "is_secret": true, "description": ""});
    s.ok("POST", "/apps/shop/values", Some(secret), 201);
    let a1 = feed.next(WAIT).expect("a1");
    assert_eq!(
        (a1.event.as_str(), &a1.data["version"], &a1.data["env"]),
        ("version", &json!("a1"), &json!(null))
    );
    let listed = s.ok("GET", "/apps/shop/value-set-versions/a1", None, 200);
    assert_eq!(a1.id, listed["id"].as_str().unwrap());
    let mut expected = listed.clone();
    expected["env"] = json!(null);
    assert_eq!(a1.data, expected);
    let e2 = feed.next(WAIT).expect("e2");
    assert_eq!(
        (&e2.data["version"], &e2.data["env"]),
        (&json!("e2"), &json!("prod"))
    );
    assert_eq!(e2.data["values"]["A"]["source"], "env");
    let a3 = feed.next(WAIT).expect("a3");
    assert_eq!(a3.data["values"]["PW"]["value"], "");
    // Idle: heartbeats, no event.
    assert!(feed.next(Duration::from_millis(400)).is_none());
    assert!(feed.heartbeats > 0);

    // Resuming after e2 (its UUID): a3, then what is new.
    let mut resumed = s.follow(&path, VIEWER, Some(&e2.id));
    assert_eq!(resumed.next(WAIT).expect("a3").id, a3.id);
    s.ok(
        "PUT",
        "/apps/shop/values/A",
        Some(json!({"value": "2", "description": ""})),
        200,
    );
    let a4 = resumed.next(WAIT).expect("a4");
    assert_eq!(a4.data["result_of"], "app_value_update");
    assert_eq!(feed.next(WAIT).expect("the first feed too").id, a4.id);
    // By the library's id: a3 and a4 from the history, no duplicate.
    let mut by_id = s.follow(&path, VIEWER, Some("e2"));
    assert_eq!(by_id.next(WAIT).expect("a3").id, a3.id);
    assert_eq!(by_id.next(WAIT).expect("a4").id, a4.id);
    assert!(by_id.next(Duration::from_millis(300)).is_none());
    // Resuming from the newest version sends nothing old.
    let newest = s.ok("GET", "/apps/shop/value-set-versions/latest", None, 200);
    let mut caught_up = s.follow(&path, ADMIN, newest["id"].as_str());
    assert!(caught_up.next(Duration::from_millis(300)).is_none());
}

#[test]
fn streams_are_refused_ended_and_shared_by_replicas() {
    let shutdown = Shutdown::new();
    let mut options = quick();
    options.shutdown = shutdown.clone();
    let s = Server::with_options(options);
    s.shop();
    s.ok(
        "POST",
        "/apps",
        Some(json!({"id": "blog", "name": "Blog"})),
        201,
    );
    let at = |p: &str| Server::org(p);
    let r = s.raw("GET", &at("/apps/shop/events"), None, &[], None);
    assert_eq!(r.status, 401);
    let r = s.call("GET", &at("/apps/blog/events"), DEV, None);
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = s.call("GET", &at("/apps/nope/events"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_app"));
    let r = s.raw(
        "GET",
        &at("/apps/shop/events"),
        Some(ADMIN),
        &[("Last-Event-ID", "a99")],
        None,
    );
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_version"));
    let r = s.raw(
        "GET",
        &at("/apps/shop/events"),
        Some(ADMIN),
        &[("Last-Event-ID", "what")],
        None,
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_request"));

    // A replica over the same store streams what this one writes, and
    // the other way round.
    let replica = Server::over(std::sync::Arc::clone(&s.backend), quick());
    let mut there = replica.follow(&at("/apps/shop/events"), ADMIN, None);
    let mut here = s.follow(&at("/apps/shop/events"), ADMIN, None);
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    assert_eq!(
        there.next(WAIT).expect("from the other replica").data["version"],
        "a1"
    );
    replica.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "B", "value": "2", "description": ""})),
        201,
    );
    assert_eq!(here.next(WAIT).expect("a1").data["version"], "a1");
    assert_eq!(
        here.next(WAIT).expect("a2 from the replica").data["version"],
        "a2"
    );

    // Deleting the App ends its streams; a shutdown ends the rest.
    let mut blog = s.follow(&at("/apps/blog/events"), ADMIN, None);
    s.ok("DELETE", "/apps/shop", None, 204);
    assert!(here.ended(WAIT) && there.ended(WAIT));
    assert!(!blog.ended(Duration::from_millis(300)));
    shutdown.trigger();
    assert!(blog.ended(WAIT));
}

#[test]
fn the_service_follows_as_many_streams_as_it_was_started_to() {
    let mut options = quick();
    options.max_subscribers = 2;
    let s = Server::with_options(options);
    s.shop();
    let at = |p: &str| Server::org(p);
    let first = s.follow(&at("/apps/shop/events"), ADMIN, None);
    // A caller refused takes no place.
    let r = s.call("GET", &at("/apps/nope/events"), ADMIN, None);
    assert_eq!(r.status, 404);
    let mut second = s.follow(&at("/apps/shop/events"), VIEWER, None);
    // (Asked as a stream first: a wrong cap answers 200, and a plain call
    // would wait on the stream's body for ever.)
    let refused = s.try_follow(&at("/apps/shop/events"), ADMIN, None);
    assert_eq!(refused.err(), Some(503));
    let r = s.call("GET", &at("/apps/shop/events"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (503, "too_many_subscribers"));
    assert!(r.headers.get("retry-after").is_some(), "{:?}", r.headers);
    // The streams followed go on.
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    assert_eq!(second.next(WAIT).expect("a1").data["version"], "a1");
    // A stream given up gives its place back (once the service notices the
    // client gone, at its next heartbeat).
    drop(first);
    let deadline = std::time::Instant::now() + WAIT;
    let third = loop {
        match s.try_follow(&at("/apps/shop/events"), ADMIN, None) {
            Ok(feed) => break feed,
            Err(503) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(status) => panic!("{status}"),
        }
    };
    drop((second, third));
}

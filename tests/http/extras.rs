//! Diff, tags, export and import over HTTP.

use serde_json::json;

use crate::common::{ADMIN, CANARY, Server, VIEWER};

#[test]
fn diffs_between_versions_and_environments() {
    let s = Server::start();
    s.shop();
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "B", "value": "2", "description": ""})),
        201,
    );
    s.ok(
        "PUT",
        "/apps/shop/values/A",
        Some(json!({"value": "3", "description": ""})),
        200,
    );
    s.ok(
        "POST",
        "/apps/shop/envs/prod/values",
        Some(json!({"key": "B", "value": "p", "description": ""})),
        201,
    );
    let d = s.ok("GET", "/apps/shop/diff?from=a1&to=latest", None, 200);
    let text = d.to_string();
    assert!(text.contains("\"A\"") && text.contains("\"B\""), "{d}");
    // An Environment against another, and a level's versions by UUID.
    let d = s.ok(
        "GET",
        "/apps/shop/envs/prod/diff?from=env:development&to=latest",
        None,
        200,
    );
    assert!(d.to_string().contains("\"B\""), "{d}");
    let uuid = s.ok("GET", "/apps/shop/value-set-versions/a1", None, 200)["id"].clone();
    let d2 = s.ok(
        "GET",
        &format!("/apps/shop/diff?from={}&to=a3", uuid.as_str().unwrap()),
        None,
        200,
    );
    assert!(d2.to_string().contains("\"A\""));
    for (query, status, code) in [
        ("?from=a1", 400, "invalid_request"),
        ("?from=a1&to=a99", 404, "unknown_version"),
        ("?from=env:nope&to=a1", 404, "unknown_env"),
        ("?from=env:NOPE&to=a1", 400, "invalid_id"),
    ] {
        let r = s.call(
            "GET",
            &Server::org(&format!("/apps/shop/diff{query}")),
            ADMIN,
            None,
        );
        assert_eq!((r.status, r.code()), (status, code.to_owned()), "{query}");
    }
}

#[test]
fn tags_are_placed_moved_and_listed() {
    let s = Server::start();
    s.shop();
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    s.ok(
        "PUT",
        "/apps/shop/values/A",
        Some(json!({"value": "2", "description": ""})),
        200,
    );
    let t = s.ok(
        "PUT",
        "/apps/shop/tags/stable",
        Some(json!({"version": "a1"})),
        200,
    );
    assert_eq!(
        (&t["name"], &t["version"]),
        (&json!("stable"), &json!("a1"))
    );
    let t = s.ok(
        "PUT",
        "/apps/shop/tags/stable",
        Some(json!({"version": "latest"})),
        200,
    );
    assert_eq!(t["moves"].as_array().unwrap().len(), 2);
    let tags = s.ok("GET", "/apps/shop/tags", None, 200);
    assert_eq!(tags[0]["version"], "a2");
    // A tag names a version wherever one is taken.
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions/stable", None, 200)["version"],
        "a2"
    );
    assert_eq!(
        s.ok("GET", "/apps/shop/envs/prod/tags", None, 200),
        json!([])
    );
    for (body, tag, status, code) in [
        (json!({"version": "a9"}), "stable", 404, "unknown_version"),
        (json!({"version": "a1"}), "a1", 400, "invalid_tag"),
        (json!({}), "stable", 400, "invalid_request"),
    ] {
        let r = s.call(
            "PUT",
            &Server::org(&format!("/apps/shop/tags/{tag}")),
            ADMIN,
            Some(body),
        );
        assert_eq!((r.status, r.code()), (status, code.to_owned()), "{tag}");
    }
    let r = s.call(
        "PUT",
        &Server::org("/apps/shop/tags/mine"),
        VIEWER,
        Some(json!({"version": "a1"})),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn apps_move_with_their_history_and_sealed_secrets() {
    let s = Server::start();
    s.shop();
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    let secret = json!({"key": "PW", "value": CANARY, "is_secret": true, "description": ""});
    s.ok("POST", "/apps/shop/values", Some(secret), 201);
    s.ok(
        "POST",
        "/apps/shop/envs/prod/values",
        Some(json!({"key": "A", "value": "p", "description": ""})),
        201,
    );
    let key = "0909090909090909090909090909090909090909090909090909090909090909";
    let path = Server::org("/apps/shop/export?history=true");
    // A secret the library stored leaves only sealed, with a key.
    let r = s.call("GET", &path, ADMIN, None);
    assert_eq!(r.status, 400, "{}", r.text);
    let r = s.raw(
        "GET",
        &path,
        Some(ADMIN),
        &[("X-Valueset-Export-Key", key)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let doc = r.json();
    let r = s.raw(
        "GET",
        &path,
        Some(ADMIN),
        &[("X-Valueset-Export-Key", "zz")],
        None,
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_master_key"));

    // Into another service: the same versions, the same UUIDs.
    let other = Server::start();
    let body = doc.to_string();
    let r = other.raw(
        "POST",
        &Server::org("/import"),
        Some(ADMIN),
        &[("X-Valueset-Export-Key", key)],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["id"], "shop");
    // With its name, its Environments' names and types, and creators.
    for path in ["/apps/shop", "/apps/shop/envs/prod"] {
        let there = other.ok("GET", path, None, 200);
        assert_eq!(there, s.ok("GET", path, None, 200));
        assert_ne!(there["name"], there["id"], "{there}");
    }
    for level in ["/apps/shop", "/apps/shop/envs/prod"] {
        let versions = format!("{level}/value-set-versions");
        assert_eq!(
            other.ok("GET", &versions, None, 200),
            s.ok("GET", &versions, None, 200)
        );
    }
    let r = other.raw(
        "POST",
        &Server::org("/import"),
        Some(ADMIN),
        &[("X-Valueset-Export-Key", key)],
        Some(&body),
    );
    assert_eq!((r.status, r.code().as_str()), (409, "already_exists"));
    let r = other.call(
        "POST",
        &Server::org("/import"),
        ADMIN,
        Some(json!({"format": 1})),
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_request"));
}

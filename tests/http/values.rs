//! Shared values of Apps and Environments, with `If-Match` and dry runs.

use serde_json::{Value, json};

use crate::common::{ADMIN, CANARY, DEV, Server, VIEWER};

fn keys(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_owned(),
                v["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn values_are_created_replaced_patched_and_deleted_at_both_levels() {
    let s = Server::start();
    s.shop();
    let body = json!({"key": "DB_HOST", "value": "db.dev", "description": "where the db is"});
    let v = s.ok("POST", "/apps/shop/values", Some(body), 201);
    let expected = json!({
        "key": "DB_HOST", "value": "db.dev", "description": "where the db is", "is_secret": false,
        "secret_key": null, "secret_version": null, "secret_store_id": null, "source": "app",
        "created_at": v["created_at"], "updated_at": v["updated_at"], "template": false
    });
    assert_eq!(v, expected);
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "PORT", "value": "5432", "description": null})),
        201,
    );
    // An override in an Environment; its list merges both levels.
    let o = s.ok(
        "POST",
        "/apps/shop/envs/prod/values",
        Some(json!({"key": "DB_HOST", "value": "db.prod", "description": ""})),
        201,
    );
    assert_eq!(
        (&o["value"], &o["source"]),
        (&json!("db.prod"), &json!("env"))
    );
    let list = s.ok("GET", "/apps/shop/envs/prod/values", None, 200);
    assert_eq!(
        keys(&list),
        [
            ("DB_HOST".into(), "env".into()),
            ("PORT".into(), "app".into())
        ]
    );
    assert_eq!(
        s.ok("GET", "/apps/shop/envs/prod/values/PORT", None, 200)["value"],
        "5432"
    );
    assert_eq!(
        keys(&s.ok("GET", "/apps/shop/envs/development/values", None, 200)).len(),
        2
    );

    // PUT replaces the whole value; PATCH changes the parts given.
    let put = json!({"value": "db.internal", "description": "moved"});
    let v = s.ok("PUT", "/apps/shop/values/DB_HOST", Some(put), 200);
    assert_eq!(
        (&v["value"], &v["description"]),
        (&json!("db.internal"), &json!("moved"))
    );
    let v = s.ok(
        "PATCH",
        "/apps/shop/values/DB_HOST",
        Some(json!({"description": "the db"})),
        200,
    );
    assert_eq!(
        (&v["value"], &v["description"]),
        (&json!("db.internal"), &json!("the db"))
    );
    let v = s.ok(
        "PATCH",
        "/apps/shop/values/DB_HOST",
        Some(json!({"value": "db.new"})),
        200,
    );
    assert_eq!(
        (&v["value"], &v["description"]),
        (&json!("db.new"), &json!("the db"))
    );
    let v = s.ok("PATCH", "/apps/shop/values/DB_HOST", Some(json!({})), 200);
    assert_eq!(v["value"], "db.new");
    let v = s.ok(
        "PATCH",
        "/apps/shop/envs/prod/values/DB_HOST",
        Some(json!({"value": "db.prod2"})),
        200,
    );
    assert_eq!(
        (&v["value"], &v["source"]),
        (&json!("db.prod2"), &json!("env"))
    );

    // Deleting the override shows the App's value again.
    s.ok("DELETE", "/apps/shop/envs/prod/values/DB_HOST", None, 204);
    assert_eq!(
        s.ok("GET", "/apps/shop/envs/prod/values/DB_HOST", None, 200)["source"],
        "app"
    );
    s.ok("DELETE", "/apps/shop/values/PORT", None, 204);
    s.ok("DELETE", "/apps/shop/values", None, 204);
    assert_eq!(s.ok("GET", "/apps/shop/values", None, 200), json!([]));
    // Nothing left to delete is done already.
    s.ok("DELETE", "/apps/shop/values", None, 204);
    s.ok("DELETE", "/apps/shop/envs/prod/values", None, 204);
}

#[test]
fn values_refuse_what_is_wrong() {
    let s = Server::start();
    s.shop();
    let at = |p: &str| Server::org(p);
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    let cases = [
        (
            "POST",
            "/apps/shop/values",
            Some(json!({"key": "A", "value": "2", "description": ""})),
            409,
            "key_exists",
        ),
        (
            "POST",
            "/apps/shop/values",
            Some(json!({"key": "B C", "value": "2", "description": ""})),
            400,
            "invalid_key",
        ),
        (
            "POST",
            "/apps/shop/values",
            Some(json!({"value": "2"})),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/apps/shop/values",
            Some(json!({"key": "B", "value": 2, "description": ""})),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/apps/shop/envs/prod/values",
            Some(json!({"key": "NEW", "value": "2", "description": ""})),
            409,
            "no_base_value",
        ),
        (
            "POST",
            "/apps/nope/values",
            Some(json!({"key": "B", "value": "2", "description": ""})),
            404,
            "unknown_app",
        ),
        (
            "POST",
            "/apps/shop/envs/nope/values",
            Some(json!({"key": "A", "value": "2", "description": ""})),
            404,
            "unknown_env",
        ),
        (
            "PUT",
            "/apps/shop/values/A",
            Some(json!({"value": "2"})),
            400,
            "invalid_request",
        ),
        (
            "PUT",
            "/apps/shop/values/B",
            Some(json!({"value": "2", "description": ""})),
            404,
            "unknown_key",
        ),
        (
            "PUT",
            "/apps/shop/values/A",
            Some(json!({"key": "B", "value": "2", "description": ""})),
            400,
            "invalid_request",
        ),
        (
            "PUT",
            "/apps/shop/envs/prod/values/A",
            Some(json!({"value": "2", "description": ""})),
            404,
            "unknown_key",
        ),
        (
            "PATCH",
            "/apps/shop/values/B",
            Some(json!({"value": "2"})),
            404,
            "unknown_key",
        ),
        (
            "PATCH",
            "/apps/shop/values/A",
            Some(json!({"value": "2", "secret_ref": {"value": "x"}})),
            400,
            "invalid_request",
        ),
        ("DELETE", "/apps/shop/values/B", None, 404, "unknown_key"),
        ("GET", "/apps/shop/values/B", None, 404, "unknown_key"),
        ("GET", "/apps/shop/values/B%20C", None, 400, "invalid_key"),
    ];
    for (method, path, body, status, code) in cases {
        let r = s.call(method, &at(path), ADMIN, body);
        assert_eq!(
            (r.status, r.code()),
            (status, code.to_owned()),
            "{method} {path}"
        );
    }
    // Roles: a viewer reads, a developer writes, neither on other Apps.
    s.ok(
        "POST",
        "/apps",
        Some(json!({"id": "blog", "name": "Blog"})),
        201,
    );
    assert_eq!(
        s.call("GET", &at("/apps/shop/values"), VIEWER, None).status,
        200
    );
    let r = s.call(
        "POST",
        &at("/apps/shop/values"),
        VIEWER,
        Some(json!({"key": "V", "value": "1", "description": ""})),
    );
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let message = r.json()["message"].as_str().unwrap().to_lowercase();
    assert!(
        message.contains("needs") && message.contains("developer"),
        "{message}"
    );
    // Changing a key needs the role first: 403 whether the key is
    // there or not.
    for key in ["A", "NOPE"] {
        for method in ["PUT", "PATCH"] {
            let body = json!({"value": "1", "description": ""});
            let r = s.call(
                method,
                &at(&format!("/apps/shop/values/{key}")),
                VIEWER,
                Some(body),
            );
            assert_eq!(
                (r.status, r.code().as_str()),
                (403, "forbidden"),
                "{method} {key}"
            );
        }
    }
    let r = s.call(
        "POST",
        &at("/apps/shop/values"),
        DEV,
        Some(json!({"key": "D", "value": "1", "description": ""})),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        s.call("GET", &at("/apps/blog/values"), DEV, None).status,
        403
    );
}

#[test]
fn secrets_are_taken_and_never_shown() {
    let s = Server::start();
    s.shop();
    let body =
        json!({"key": "DB_PASSWORD", "value": CANARY, "is_secret": true, "description": "db"});
    let v = s.ok("POST", "/apps/shop/values", Some(body), 201);
    assert_eq!((&v["value"], &v["is_secret"]), (&json!(""), &json!(true)));
    assert_eq!(
        (&v["secret_version"], &v["secret_store_id"]),
        (&json!("1"), &json!("builtin"))
    );
    assert!(v["secret_key"].is_string());
    // Through `secret_ref.value` too, and patched: a new secret version.
    let body = json!({"key": "API_KEY", "secret_ref": {"value": CANARY}, "description": null});
    assert_eq!(
        s.ok("POST", "/apps/shop/values", Some(body), 201)["is_secret"],
        true
    );
    let v = s.ok(
        "PATCH",
        "/apps/shop/values/DB_PASSWORD",
        Some(json!({"value": format!("{CANARY}-2")})),
        200,
    );
    assert_eq!(
        (&v["secret_version"], &v["value"]),
        (&json!("2"), &json!(""))
    );
    // A reference needs a store the service knows.
    let body =
        json!({"key": "EXT", "secret_ref": {"store": "vault", "ref": "a/b#c"}, "description": ""});
    let r = s.call("POST", &Server::org("/apps/shop/values"), ADMIN, Some(body));
    assert_eq!((r.status, r.code().as_str()), (400, "unknown_secret_store"));
    let body = json!({"key": "EXT", "secret_ref": {"ref": "a/b#c"}, "description": ""});
    let r = s.call("POST", &Server::org("/apps/shop/values"), ADMIN, Some(body));
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_request"));
    // Every read: lists, versions; none holds the canary (the client
    // checks every reply).
    s.ok("GET", "/apps/shop/values", None, 200);
    s.ok("GET", "/apps/shop/envs/prod/values", None, 200);
    let versions = s.ok("GET", "/apps/shop/value-set-versions", None, 200);
    assert_eq!(versions.as_array().unwrap().len(), 3);
    // A malformed body with the secret in it is not quoted back.
    let text = format!(r#"{{"key": "X", "is_secret": "{CANARY}", "description": ""}}"#);
    let r = s.raw(
        "POST",
        &Server::org("/apps/shop/values"),
        Some(ADMIN),
        &[],
        Some(&text),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn if_match_and_dry_runs() {
    let s = Server::start();
    s.shop();
    let a1 = s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "1", "description": ""})),
        201,
    );
    assert_eq!(a1["key"], "A");
    let current = s.ok("GET", "/apps/shop/value-set-versions", None, 200)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = Server::org("/apps/shop/values/A");
    let body = r#"{"value": "2", "description": ""}"#;
    // A stale version: 412, nothing written.
    let r = s.raw("PUT", &path, Some(ADMIN), &[("If-Match", "a0")], Some(body));
    assert_eq!((r.status, r.code().as_str()), (412, "conflict"));
    let r = s.raw(
        "PUT",
        &path,
        Some(ADMIN),
        &[("If-Match", "\"not-a-version\"")],
        Some(body),
    );
    assert_eq!(r.status, 412);
    // The current one, bare, quoted, or the library's id.
    let quoted = format!("\"{current}\"");
    let r = s.raw(
        "PUT",
        &path,
        Some(ADMIN),
        &[("If-Match", &quoted)],
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.raw(
        "PATCH",
        &path,
        Some(ADMIN),
        &[("If-Match", "a2")],
        Some(r#"{"value": "3"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.raw(
        "DELETE",
        &path,
        Some(ADMIN),
        &[("If-Match", &current)],
        None,
    );
    assert_eq!(r.status, 412);

    // A dry run answers the version it would make and writes nothing.
    let before = s.ok("GET", "/apps/shop/value-set-versions", None, 200);
    let preview = s.ok(
        "PUT",
        "/apps/shop/values/A?dry_run=true",
        Some(json!({"value": "9", "description": ""})),
        200,
    );
    assert_eq!(
        (&preview["version"], &preview["dry_run"]),
        (&json!("a4"), &json!(true))
    );
    assert_eq!(preview["change"], json!([{"op": "replace", "path": "/A"}]));
    assert_eq!(preview["result_of"], "app_value_update");
    let p = s.ok(
        "POST",
        "/apps/shop/values?dry_run=true",
        Some(json!({"key": "B", "value": "1", "description": ""})),
        200,
    );
    assert_eq!(p["result_of"], "app_value_create");
    let p = s.ok(
        "PATCH",
        "/apps/shop/values/A?dry_run=true",
        Some(json!({"description": "d"})),
        200,
    );
    assert_eq!(p["dry_run"], true);
    let p = s.ok("DELETE", "/apps/shop/values/A?dry_run=true", None, 200);
    assert_eq!(p["result_of"], "app_value_delete");
    let p = s.ok("DELETE", "/apps/shop/values?dry_run=true", None, 200);
    assert_eq!(p["result_of"], "app_values_delete");
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions", None, 200),
        before
    );
    assert_eq!(s.ok("GET", "/apps/shop/values/A", None, 200)["value"], "3");
    let r = s.call(
        "PUT",
        &Server::org("/apps/shop/values/A?dry_run=maybe"),
        ADMIN,
        Some(json!({"value": "1"})),
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_request"));
}

/// Clients creating one key at once: one 201, every other a 409, on an
/// empty history and on one with versions.
#[test]
fn creating_one_key_at_once_makes_it_once() {
    let s = Server::start();
    s.shop();
    for round in ["FIRST", "SECOND"] {
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let calls: Vec<_> = (0..8)
                .map(|i| {
                    let s = &s;
                    scope.spawn(move || {
                        let body = json!({"key": round, "value": i.to_string(), "description": ""});
                        s.call("POST", &Server::org("/apps/shop/values"), ADMIN, Some(body))
                            .status
                    })
                })
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert_eq!(
            statuses.iter().filter(|&&st| st == 201).count(),
            1,
            "{round}: {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|&&st| st == 409).count(),
            7,
            "{round}: {statuses:?}"
        );
        let created = s.ok(
            "GET",
            &format!("/apps/shop/value-set-versions?key_changed={round}"),
            None,
            200,
        );
        assert_eq!(created.as_array().unwrap().len(), 1);
    }
}

/// `(key, value, source)` of a list.
fn values_of(list: &Value) -> Vec<(String, String, String)> {
    let list = list.as_array().unwrap();
    list.iter()
        .map(|v| {
            let text = |f: &str| v[f].as_str().unwrap().to_owned();
            (text("key"), text("value"), text("source"))
        })
        .collect()
}

#[test]
fn a_list_answered_again_is_the_values_now_on_every_replica() {
    let one = Server::start();
    let two = Server::over(
        std::sync::Arc::clone(&one.backend),
        valueset::http::ServiceOptions::default(),
    );
    one.shop();
    let value = |key: &str, v: &str| json!({"key": key, "value": v, "description": ""});
    let row = |k: &str, v: &str, source: &str| (k.to_owned(), v.to_owned(), source.to_owned());
    let list = |s: &Server, path: &str| values_of(&s.ok("GET", path, None, 200));
    one.ok("POST", "/apps/shop/values", Some(value("HOST", "a")), 201);
    for _ in 0..2 {
        assert_eq!(list(&one, "/apps/shop/values"), [row("HOST", "a", "app")]);
        assert_eq!(
            list(&one, "/apps/shop/envs/prod/values"),
            [row("HOST", "a", "app")]
        );
    }
    // Changed through the other replica: the first answers the change.
    let patch = Some(json!({"value": "b"}));
    two.ok("PATCH", "/apps/shop/values/HOST", patch, 200);
    assert_eq!(list(&one, "/apps/shop/values"), [row("HOST", "b", "app")]);
    two.ok(
        "POST",
        "/apps/shop/envs/prod/values",
        Some(value("HOST", "p")),
        201,
    );
    assert_eq!(
        list(&one, "/apps/shop/envs/prod/values"),
        [row("HOST", "p", "env")]
    );
    assert_eq!(list(&one, "/apps/shop/values"), [row("HOST", "b", "app")]);
    // The Environment made again: its overrides are gone.
    two.ok("DELETE", "/apps/shop/envs/prod", None, 204);
    let prod = json!({"id": "prod", "name": "Production", "type": "production"});
    two.ok("POST", "/apps/shop/envs", Some(prod), 201);
    assert_eq!(
        list(&one, "/apps/shop/envs/prod/values"),
        [row("HOST", "b", "app")]
    );
    // The App made again under its id, with one change as before: nothing
    // of the old App is answered.
    two.ok("DELETE", "/apps/shop", None, 204);
    two.shop();
    two.ok("POST", "/apps/shop/values", Some(value("HOST", "c")), 201);
    assert_eq!(list(&one, "/apps/shop/values"), [row("HOST", "c", "app")]);
    assert_eq!(
        list(&one, "/apps/shop/envs/prod/values"),
        [row("HOST", "c", "app")]
    );
    // A viewer is answered the same list.
    let viewer = one.call("GET", &Server::org("/apps/shop/values"), VIEWER, None);
    assert_eq!(values_of(&viewer.json()), [row("HOST", "c", "app")]);
}

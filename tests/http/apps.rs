//! Apps and Environments.

use serde_json::{Value, json};

use crate::common::{ADMIN, DEV, ORG, Server, VIEWER};

fn is_time(v: &Value) -> bool {
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`
    v.as_str().is_some_and(|t| {
        t.len() == 24 && t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.as_bytes()[19] == b'.'
    })
}

#[test]
fn apps_are_created_read_renamed_listed_and_deleted() {
    let s = Server::start();
    let app = s.ok(
        "POST",
        "/apps",
        Some(json!({"id": "shop", "name": "Shop"})),
        201,
    );
    assert_eq!(
        (&app["id"], &app["name"], &app["org_id"]),
        (&json!("shop"), &json!("Shop"), &json!(ORG))
    );
    assert_eq!(
        (&app["created_by"], &app["status"]),
        (&json!("root"), &json!("active"))
    );
    assert!(is_time(&app["created_at"]) && app["status_changed_at"] == app["created_at"]);
    // Without `env`, the App gets a `development` Environment.
    assert_eq!(
        app["envs"],
        json!([{"id": "development", "name": "development", "type": "development"}])
    );

    let env = json!({"id": "prod", "name": "Production", "type": "production"});
    let blog = s.ok(
        "POST",
        "/apps",
        Some(json!({"id": "blog", "name": "Blog", "env": env})),
        201,
    );
    assert_eq!(
        blog["envs"],
        json!([{"id": "prod", "name": "Production", "type": "production"}])
    );
    let bare = json!({"id": "bare", "name": "Bare", "skip_environment_creation": true});
    assert_eq!(s.ok("POST", "/apps", Some(bare), 201)["envs"], json!([]));

    let list = s.ok("GET", "/apps", None, 200);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bare", "blog", "shop"]);
    assert_eq!(s.ok("GET", "/apps/shop", None, 200), app);

    let renamed = s.ok(
        "PATCH",
        "/apps/shop",
        Some(json!({"name": "The Shop"})),
        200,
    );
    assert_eq!(
        (&renamed["name"], &renamed["created_at"]),
        (&json!("The Shop"), &app["created_at"])
    );
    // The patch takes only `name`.
    let r = s.call(
        "PATCH",
        &Server::org("/apps/shop"),
        ADMIN,
        Some(json!({"name": "x", "id": "y"})),
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_request"));

    // A developer on `shop` sees only `shop`.
    let r = s.call("GET", &Server::org("/apps"), DEV, None);
    assert_eq!(r.json().as_array().unwrap().len(), 1);

    assert_eq!(s.ok("DELETE", "/apps/blog", None, 204), Value::Null);
    let r = s.call("GET", &Server::org("/apps/blog"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_app"));
}

#[test]
fn apps_refuse_what_is_wrong() {
    let s = Server::start();
    s.shop();
    let post = |body: Value| s.call("POST", &Server::org("/apps"), ADMIN, Some(body));
    let r = post(json!({"id": "shop", "name": "Again"}));
    assert_eq!((r.status, r.code().as_str()), (409, "already_exists"));
    let r = post(json!({"id": "Bad App", "name": "x"}));
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_id"));
    let r = post(json!({"name": "no id"}));
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_request"));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("missing field `id`")
    );
    // A bad Environment id refuses the App too: nothing is written.
    let r = post(json!({"id": "blog", "name": "Blog", "env": {"id": "BAD", "name": "x"}}));
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_id"));
    let r = s.call("GET", &Server::org("/apps/blog"), ADMIN, None);
    assert_eq!(r.status, 404);
    // Creating and deleting Apps is the org's; a developer may not.
    let r = s.call(
        "POST",
        &Server::org("/apps"),
        DEV,
        Some(json!({"id": "mine", "name": "Mine"})),
    );
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = s.call("DELETE", &Server::org("/apps/shop"), DEV, None);
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = s.call("DELETE", &Server::org("/apps/nope"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_app"));
    let r = s.call(
        "PATCH",
        &Server::org("/apps/nope"),
        ADMIN,
        Some(json!({"name": "x"})),
    );
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_app"));
}

#[test]
fn environments_are_created_read_renamed_listed_and_deleted() {
    let s = Server::start();
    s.shop();
    let envs = s.ok("GET", "/apps/shop/envs", None, 200);
    let ids: Vec<&str> = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["development", "prod"]);
    let prod = s.ok("GET", "/apps/shop/envs/prod", None, 200);
    assert_eq!(
        (&prod["name"], &prod["type"], &prod["status"]),
        (&json!("Production"), &json!("production"), &json!("active"))
    );
    assert_eq!(prod["created_by"], "root");
    assert!(is_time(&prod["created_at"]) && is_time(&prod["status_changed_at"]));
    // No type: the default.
    let qa = s.ok(
        "POST",
        "/apps/shop/envs",
        Some(json!({"id": "qa", "name": "QA"})),
        201,
    );
    assert_eq!(qa["type"], "development");
    let renamed = s.ok(
        "PATCH",
        "/apps/shop/envs/qa",
        Some(json!({"name": "Quality"})),
        200,
    );
    assert_eq!(
        (&renamed["name"], &renamed["type"]),
        (&json!("Quality"), &json!("development"))
    );
    assert_eq!(
        s.ok("PATCH", "/apps/shop/envs/qa", Some(json!({})), 200)["name"],
        "Quality"
    );
    assert_eq!(
        s.ok("GET", "/apps/shop", None, 200)["envs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    s.ok("DELETE", "/apps/shop/envs/qa", None, 204);

    let at = |path: &str| Server::org(path);
    let r = s.call("GET", &at("/apps/shop/envs/qa"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_env"));
    let r = s.call(
        "POST",
        &at("/apps/shop/envs"),
        ADMIN,
        Some(json!({"id": "prod", "name": "x"})),
    );
    assert_eq!((r.status, r.code().as_str()), (409, "already_exists"));
    let r = s.call(
        "POST",
        &at("/apps/nope/envs"),
        ADMIN,
        Some(json!({"id": "prod", "name": "x"})),
    );
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_app"));
    let r = s.call(
        "POST",
        &at("/apps/shop/envs"),
        VIEWER,
        Some(json!({"id": "mine", "name": "x"})),
    );
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = s.call("DELETE", &at("/apps/shop/envs/prod"), VIEWER, None);
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = s.call("GET", &at("/apps/shop/envs/BAD"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_id"));
    // A viewer reads them.
    assert_eq!(
        s.call("GET", &at("/apps/shop/envs"), VIEWER, None).status,
        200
    );
}

#[test]
fn secret_stores_are_listed_and_configured_at_start() {
    let s = Server::start();
    let stores = s.ok("GET", "/secretstores", None, 200);
    assert_eq!(stores.as_array().unwrap().len(), 1);
    let builtin = &stores[0];
    assert_eq!(
        (&builtin["id"], &builtin["primary"]),
        (&json!("builtin"), &json!(true))
    );
    for field in ["created_at", "created_by", "updated_at", "updated_by"] {
        assert!(builtin[field].is_string(), "{field}");
    }
    // Humanitec's place for its own store; no other kind's.
    assert_eq!(builtin["humanitec"], json!({}));
    assert!(builtin.get("vault").is_none(), "{builtin}");
    assert_eq!(&s.ok("GET", "/secretstores/builtin", None, 200), builtin);
    let r = s.call("GET", &Server::org("/secretstores/vault"), ADMIN, None);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_secret_store"));
    for (method, path) in [
        ("POST", "/secretstores"),
        ("PATCH", "/secretstores/builtin"),
        ("DELETE", "/secretstores/builtin"),
    ] {
        let r = s.call(
            method,
            &Server::org(path),
            ADMIN,
            Some(json!({"id": "vault", "primary": false})),
        );
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "configured_at_start"),
            "{method} {path}"
        );
    }
    // A refusal reads the body it was sent, so the connection serves the
    // client's next request (a Terraform provider's create, then a read).
    let big = json!({"id": "vault", "description": "x".repeat(200_000)});
    for _ in 0..20 {
        let r = s.call(
            "POST",
            &Server::org("/secretstores"),
            ADMIN,
            Some(big.clone()),
        );
        assert_eq!(r.status, 400);
        s.ok("GET", "/secretstores", None, 200);
    }
}

#[test]
fn the_primary_store_comes_first_and_a_broken_one_is_503_only_when_read() {
    let s = Server::with_broken_reference_store();
    let ids: Vec<_> = s
        .ok("GET", "/secretstores", None, 200)
        .as_array()
        .unwrap()
        .iter()
        .map(|st| (st["id"].clone(), st["primary"].clone()))
        .collect();
    assert_eq!(
        ids,
        [
            (json!("builtin"), json!(true)),
            (json!("aaa"), json!(false))
        ]
    );
    s.shop();
    let body = json!({"key": "EXT", "secret_ref": {"store": "aaa", "ref": "x#y", "version": "3"}, "description": ""});
    let v = s.ok("POST", "/apps/shop/values", Some(body), 201);
    assert_eq!(
        (&v["secret_store_id"], &v["secret_key"]),
        (&json!("aaa"), &json!("x#y"))
    );
    let workload = json!({"id": "w", "variables": {"X": "${values.EXT}"}}).to_string();
    let path = Server::org("/apps/shop/envs/prod/resolve");
    let r = s.raw(
        "POST",
        &format!("{path}?reveal_secrets=true"),
        Some(ADMIN),
        &[],
        Some(&workload),
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (503, "secret_store_unavailable")
    );
    assert_eq!(r.headers["retry-after"], "1");
    // Withheld, nothing is read: no failure.
    let r = s.raw("POST", &path, Some(ADMIN), &[], Some(&workload));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["variables"]["X"]["secrets"][0]["secret_key"],
        "x#y"
    );
}

#[test]
fn health_answers_ok() {
    let s = Server::start();
    for path in ["/healthz", "/readyz"] {
        let r = s.raw("GET", path, None, &[], None);
        assert_eq!((r.status, r.text.as_str()), (200, "ok"), "{path}");
    }
}

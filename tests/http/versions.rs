//! Value set versions: list, read by every kind of id, restore, purge.

use serde_json::{Value, json};

use crate::common::{ADMIN, Server};

fn set(s: &Server, path: &str, key: &str, value: &str) {
    let body = json!({"key": key, "value": value, "description": ""});
    let r = s.call("POST", &Server::org(path), ADMIN, Some(body.clone()));
    if r.status == 409 {
        s.ok("PUT", &format!("{path}/{key}"), Some(body), 200);
    } else {
        assert_eq!(r.status, 201, "{}", r.text);
    }
}

#[test]
fn versions_are_listed_and_read_by_uuid_id_tag_or_latest() {
    let s = Server::start();
    s.shop();
    set(&s, "/apps/shop/values", "A", "1");
    set(&s, "/apps/shop/values", "B", "2");
    set(&s, "/apps/shop/values", "A", "3");
    let list = s.ok("GET", "/apps/shop/value-set-versions", None, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let newest = &list[0];
    let fields = [
        "id",
        "values",
        "change",
        "result_of",
        "source_value_set_version_id",
        "comment",
        "created_at",
        "updated_at",
        "created_by",
    ];
    for f in fields {
        assert!(newest.get(f).is_some(), "{f}");
    }
    assert_eq!(
        (&newest["version"], &newest["result_of"]),
        (&json!("a3"), &json!("app_value_update"))
    );
    assert_eq!(newest["source_value_set_version_id"], Value::Null);
    assert_eq!(newest["created_by"], "root");
    assert_eq!(newest["change"][0]["op"], "replace");
    assert_eq!(newest["change"][0]["path"], "/A");
    assert_eq!(newest["change"][0]["value"]["value"], "3");
    assert_eq!(newest["values"]["B"]["value"], "2");
    let uuid = newest["id"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);

    // key_changed
    let only_b = s.ok(
        "GET",
        "/apps/shop/value-set-versions?key_changed=B",
        None,
        200,
    );
    assert_eq!(only_b.as_array().unwrap().len(), 1);
    assert_eq!(only_b[0]["result_of"], "app_value_create");
    let r = s.call(
        "GET",
        &Server::org("/apps/shop/value-set-versions?key_changed=B%20C"),
        ADMIN,
        None,
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_key"));

    // One version: by UUID, library id, all-zero UUID (latest), `latest`.
    let by = |id: &str| {
        s.ok(
            "GET",
            &format!("/apps/shop/value-set-versions/{id}"),
            None,
            200,
        )
    };
    assert_eq!(&by(uuid), newest);
    assert_eq!(&by("a3"), newest);
    assert_eq!(&by("00000000-0000-0000-0000-000000000000"), newest);
    assert_eq!(&by("latest"), newest);
    assert_eq!(by(list[2]["id"].as_str().unwrap())["version"], "a1");
    // Stable: the same UUID on every read.
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions", None, 200)[0]["id"],
        newest["id"]
    );

    // An Environment without overrides shows the App's versions, same ids.
    let env_list = s.ok("GET", "/apps/shop/envs/prod/value-set-versions", None, 200);
    assert_eq!(env_list[0]["id"], newest["id"]);
    set(&s, "/apps/shop/envs/prod/values", "A", "prod");
    let env_list = s.ok("GET", "/apps/shop/envs/prod/value-set-versions", None, 200);
    assert_eq!(env_list.as_array().unwrap().len(), 4);
    assert_eq!(
        (&env_list[0]["version"], &env_list[0]["result_of"]),
        (&json!("e4"), &json!("env_value_create"))
    );
    assert_eq!(env_list[0]["values"]["A"]["source"], "env");
    assert_eq!(env_list[0]["values"]["B"]["source"], "app");
    let e4 = env_list[0]["id"].as_str().unwrap().to_owned();
    let e4 = e4.as_str();
    assert_eq!(
        s.ok(
            "GET",
            &format!("/apps/shop/envs/prod/value-set-versions/{e4}"),
            None,
            200
        )["version"],
        "e4"
    );

    // Deleting the override: a `remove` without a value, though the
    // Environment's values show the App's `A` again.
    s.ok("DELETE", "/apps/shop/envs/prod/values/A", None, 204);
    let removed = s.ok(
        "GET",
        "/apps/shop/envs/prod/value-set-versions/latest",
        None,
        200,
    );
    assert_eq!(removed["change"], json!([{"op": "remove", "path": "/A"}]));
    assert_eq!(removed["values"]["A"]["source"], "app");

    // Unknown: another level's UUID, a random UUID, a bad id, an unknown tag.
    for id in [
        e4,
        "6f1c2a1e-3b4d-4c5e-8f70-112233445566",
        "a99",
        "no-such-tag",
    ] {
        let r = s.call(
            "GET",
            &Server::org(&format!("/apps/shop/value-set-versions/{id}")),
            ADMIN,
            None,
        );
        assert_eq!(r.status, 404, "{id}: {}", r.text);
        assert!(r.code().starts_with("unknown_"), "{id}");
    }
    let r = s.call(
        "GET",
        &Server::org(&format!(
            "/apps/shop/envs/development/value-set-versions/{e4}"
        )),
        ADMIN,
        None,
    );
    assert_eq!(r.status, 404);
}

#[test]
fn restore_and_purge() {
    let s = Server::start();
    s.shop();
    set(&s, "/apps/shop/values", "A", "1");
    set(&s, "/apps/shop/values", "B", "2");
    set(&s, "/apps/shop/values", "A", "3");
    let list = s.ok("GET", "/apps/shop/value-set-versions", None, 200);
    let a1 = list[2]["id"].as_str().unwrap().to_owned();

    // Restore all: the values of a1, as a new version.
    let restored = s.ok(
        "POST",
        &format!("/apps/shop/value-set-versions/{a1}/restore"),
        Some(json!({"comment": "back"})),
        200,
    );
    assert_eq!(
        (&restored["version"], &restored["result_of"]),
        (&json!("a4"), &json!("app_value_set_version_restore"))
    );
    assert_eq!(
        (
            &restored["source_value_set_version_id"],
            &restored["comment"]
        ),
        (&json!(a1), &json!("back"))
    );
    assert_eq!(restored["values"]["A"]["value"], "1");
    assert!(restored["values"].get("B").is_none());
    // Restore one key from a3, with no body at all.
    let r = s.raw(
        "POST",
        &Server::org("/apps/shop/value-set-versions/a3/restore/B"),
        Some(ADMIN),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let one = r.json();
    assert_eq!(
        (&one["values"]["A"]["value"], &one["values"]["B"]["value"]),
        (&json!("1"), &json!("2"))
    );
    // A dry run of a restore writes nothing.
    let p = s.ok(
        "POST",
        "/apps/shop/value-set-versions/a3/restore?dry_run=true",
        None,
        200,
    );
    assert_eq!((&p["version"], &p["dry_run"]), (&json!("a6"), &json!(true)));
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions", None, 200)
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // Purge the value a3 introduced (A = 3): gone from a3, marked purged.
    let r = s.raw(
        "POST",
        &Server::org("/apps/shop/value-set-versions/a3/purge/A"),
        Some(ADMIN),
        &[],
        Some(r#"{"comment": "leaked"}"#),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let a3 = s.ok("GET", "/apps/shop/value-set-versions/a3", None, 200);
    assert!(a3["values"].get("A").is_none());
    assert_eq!(a3["purged_keys"], json!(["A"]));
    let newest = s.ok("GET", "/apps/shop/value-set-versions/latest", None, 200);
    assert_eq!(newest["result_of"], "app_value_set_version_purge");
    // Refused purges are 400; restoring what was purged is refused too.
    let refused = [
        (
            "/apps/shop/value-set-versions/a3/purge/A",
            400,
            "already_purged",
        ),
        (
            "/apps/shop/value-set-versions/a2/purge/A",
            400,
            "not_introduced_here",
        ),
        (
            "/apps/shop/value-set-versions/a4/purge/A",
            400,
            "purge_current_value",
        ),
        (
            "/apps/shop/value-set-versions/a3/restore/A",
            409,
            "restore_purged",
        ),
        (
            "/apps/shop/value-set-versions/a99/restore",
            404,
            "unknown_version",
        ),
        (
            "/apps/shop/value-set-versions/a1/purge/Z",
            400,
            "not_introduced_here",
        ),
    ];
    for (path, status, code) in refused {
        let r = s.call("POST", &Server::org(path), ADMIN, None);
        assert_eq!(
            (r.status, r.code()),
            (status, code.to_owned()),
            "{path}: {}",
            r.text
        );
    }
    let r = s.raw(
        "POST",
        &Server::org("/apps/shop/value-set-versions/a1/restore"),
        Some(ADMIN),
        &[("If-Match", "a1")],
        None,
    );
    assert_eq!(r.status, 412);
}

/// A list has every version, however many pages of the history it takes.
#[test]
fn long_histories_are_listed_whole() {
    let s = Server::start();
    s.shop();
    s.ok(
        "POST",
        "/apps/shop/values",
        Some(json!({"key": "A", "value": "0", "description": ""})),
        201,
    );
    for i in 1..205 {
        let body = json!({"value": i.to_string(), "description": ""});
        s.ok("PUT", "/apps/shop/values/A", Some(body), 200);
    }
    let list = s.ok("GET", "/apps/shop/value-set-versions", None, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 205);
    assert_eq!(
        (&list[0]["version"], &list[204]["version"]),
        (&json!("a205"), &json!("a1"))
    );
}

//! Resolving a workload for a deployment.

use serde_json::json;

use crate::common::{ADMIN, CANARY, DEV, Server, VIEWER};

#[test]
fn workloads_resolve_with_secrets_only_for_who_may_deploy() {
    let s = Server::start();
    s.shop();
    let set = |key: &str, value: &str, secret: bool| {
        let body = json!({"key": key, "value": value, "is_secret": secret, "description": ""});
        s.ok("POST", "/apps/shop/values", Some(body), 201);
    };
    set("db.host", "db.internal", false);
    set("db.password", CANARY, true);
    s.ok(
        "POST",
        "/apps/shop/envs/prod/values",
        Some(json!({"key": "db.host", "value": "db.prod", "description": ""})),
        201,
    );
    let workload = json!({
        "id": "api",
        "variables": {
            "DB_URL": "postgres://app:${values.db.password}@${values.db.host}/${context.env.id}",
            "HOST": "${values.db.host}"
        },
        "files": {"/etc/app.conf": {"mode": "0600", "value": "password=${values.db.password}"}},
        "labels": {"env": "${context.env.id}"},
        "webhooks": {"ready": {"url": "https://${values.db.host}/ready", "headers": {"X-Key": "${values.db.password}"}}}
    });
    let path = Server::org("/apps/shop/envs/prod/resolve");
    // A developer asking to see secrets sees them.
    let text = workload.to_string();
    let reveal = format!("{path}?reveal_secrets=true");
    let r = s.revealing("POST", &reveal, Some(DEV), &[], Some(&text));
    assert_eq!(r.status, 200, "{}", r.text.replace(CANARY, "…"));
    let out = r.json();
    let url = &out["variables"]["DB_URL"];
    assert_eq!(
        url["value"],
        format!("postgres://app:{CANARY}@db.prod/prod")
    );
    assert_eq!(url["secret"], true);
    assert_eq!(
        out["files"]["/etc/app.conf"]["value"],
        format!("password={CANARY}")
    );
    assert_eq!(
        out["webhooks"]["ready"]["headers"]["X-Key"]["value"],
        CANARY
    );
    // Without `reveal_secrets`, or as a viewer: null, with the secrets named.
    for (token, query) in [(ADMIN, ""), (VIEWER, ""), (VIEWER, "?reveal_secrets=true")] {
        let r = s.raw(
            "POST",
            &format!("{path}{query}"),
            Some(token),
            &[],
            Some(&workload.to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let out = r.json();
        assert_eq!(
            out["variables"]["HOST"],
            json!({"value": "db.prod", "secret": false})
        );
        let url = &out["variables"]["DB_URL"];
        assert_eq!(
            (&url["value"], &url["secret"]),
            (&json!(null), &json!(true))
        );
        assert_eq!(url["secrets"][0]["key"], "db.password");
        assert_eq!(url["secrets"][0]["secret_store_id"], "builtin");
        assert_eq!(out["files"]["/etc/app.conf"]["mode"], "0600");
        assert_eq!(out["files"]["/etc/app.conf"]["value"], json!(null));
        assert_eq!(
            out["labels"]["env"],
            json!({"value": "prod", "secret": false})
        );
        assert_eq!(
            out["webhooks"]["ready"]["url"]["value"],
            "https://db.prod/ready"
        );
        assert_eq!(
            out["webhooks"]["ready"]["headers"]["X-Key"]["value"],
            json!(null)
        );
        assert_eq!(out["version"], "e3");
    }
    // At an older version: the App's value, before the override.
    let r = s.raw(
        "POST",
        &format!("{path}?version=a2"),
        Some(ADMIN),
        &[],
        Some(&workload.to_string()),
    );
    assert_eq!(r.json()["variables"]["HOST"]["value"], "db.internal");
    // Bad workloads and versions, unresolvable placeholders.
    let cases = [
        (
            json!({"id": "api", "varibles": {}}),
            "",
            400,
            "invalid_request",
        ),
        (
            json!({"id": "api", "variables": {"X": "${values.nope}"}}),
            "",
            400,
            "unknown_key",
        ),
        (
            json!({"id": "api", "variables": {"X": "${values"}}),
            "",
            400,
            "invalid_template",
        ),
        (json!({"id": "api"}), "?version=a99", 404, "unknown_version"),
        (
            json!({"id": "api"}),
            "?version=no%20such",
            400,
            "invalid_request",
        ),
    ];
    for (body, query, status, code) in cases {
        let r = s.raw(
            "POST",
            &format!("{path}{query}"),
            Some(ADMIN),
            &[],
            Some(&body.to_string()),
        );
        assert_eq!(
            (r.status, r.code()),
            (status, code.to_owned()),
            "{body} {query}: {}",
            r.text
        );
    }
    let r = s.raw(
        "POST",
        &Server::org("/apps/shop/envs/nope/resolve"),
        Some(ADMIN),
        &[],
        Some("{\"id\": \"x\"}"),
    );
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_env"));
}

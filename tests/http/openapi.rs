//! The OpenAPI document: OpenAPI 3, and true to the routes.

use serde_json::Value;

use crate::common::{ADMIN, Server};

#[test]
fn the_document_describes_every_route_and_only_those() {
    let s = Server::start();
    let r = s.raw("GET", "/openapi.json", None, &[], None);
    assert_eq!(r.headers["content-type"], "application/json");
    let doc: Value = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    // Humanitec's paths, at both levels.
    for p in [
        "/orgs/{orgId}/apps",
        "/orgs/{orgId}/apps/{appId}/envs/{envId}",
        "/orgs/{orgId}/apps/{appId}/values/{key}",
        "/orgs/{orgId}/apps/{appId}/envs/{envId}/values/{key}",
        "/orgs/{orgId}/apps/{appId}/envs/{envId}/value-set-versions/{valueSetVersionId}/purge/{key}",
        "/orgs/{orgId}/secretstores/{storeId}",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "{path}"
            );
            // Every documented operation is routed: whatever else it
            // answers, never "no such route".
            let concrete = path
                .replace("{orgId}", "acme")
                .replace("{appId}", "shop")
                .replace("{envId}", "prod")
                .replace("{key}", "K")
                .replace("{valueSetVersionId}", "latest")
                .replace("{storeId}", "builtin");
            let r = s.raw(&method.to_uppercase(), &concrete, Some(ADMIN), &[], None);
            let body: Value = serde_json::from_str(&r.text).unwrap_or(Value::Null);
            assert_ne!(body["error"], "unknown_route", "{method} {path}");
            let status = r.status.to_string();
            assert!(
                op["responses"].get(&status).is_some(),
                "{method} {path} answered {status}, undocumented"
            );
        }
    }
    // Humanitec's own operation ids where it has them.
    for id in [
        "listApplications",
        "createApplication",
        "deleteEnvironment",
        "get_orgs_orgId_apps_appId_values_key",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // The library's rules on every parameter that takes an id, key or tag.
    let param = |path: &str, method: &str, name: &str| -> Value {
        let op = &paths[path][method];
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]
            .clone()
    };
    let id = serde_json::json!({"type": "string", "pattern": "^[a-z0-9](?:-?[a-z0-9]+)+$", "maxLength": 50});
    for name in ["orgId", "appId", "envId"] {
        assert_eq!(
            param("/orgs/{orgId}/apps/{appId}/envs/{envId}", "get", name),
            id,
            "{name}"
        );
    }
    let key =
        serde_json::json!({"type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "maxLength": 256});
    assert_eq!(
        param("/orgs/{orgId}/apps/{appId}/values/{key}", "get", "key"),
        key
    );
    assert_eq!(
        param(
            "/orgs/{orgId}/apps/{appId}/value-set-versions",
            "get",
            "key_changed"
        ),
        key
    );
    let tag = param("/orgs/{orgId}/apps/{appId}/tags/{tag}", "put", "tag");
    assert_eq!(
        (
            &tag["maxLength"],
            tag["pattern"].as_str().unwrap().contains("(?!latest$)")
        ),
        (&serde_json::json!(128), true)
    );
    assert!(
        param(
            "/orgs/{orgId}/apps/{appId}/value-set-versions/{valueSetVersionId}",
            "get",
            "valueSetVersionId"
        )
        .get("pattern")
        .is_none()
    );
    // A value's description must be given, null or not, as Humanitec has it.
    let body = &doc["components"]["schemas"]["ValueBody"];
    assert!(
        body["required"]
            .as_array()
            .unwrap()
            .contains(&"description".into()),
        "{body}"
    );
    // An Environment-level path's parameters, in the path's order, and
    // tokens needed under /orgs only.
    let op = &paths["/orgs/{orgId}/apps/{appId}/envs/{envId}/values/{key}"]["put"];
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "path")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orgId", "appId", "envId", "key"]);
    let query: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(query, ["dry_run", "cascade"]);
    assert_eq!(op["security"], serde_json::json!([{"bearer": []}]));
    assert!(op["responses"]["401"].is_object());
    let health = &paths["/healthz"]["get"];
    assert!(health.get("security").is_none() && health["responses"].get("401").is_none());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

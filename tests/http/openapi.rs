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
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

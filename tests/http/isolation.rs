//! A token for one App never reads or changes another: every operation of
//! the service's own OpenAPI document, the event stream and the web page,
//! tried on an App where the caller has no role.

use serde_json::{Value, json};

use crate::common::{ADMIN, CANARY, DEV, Server, VIEWER};
use crate::page::Person;

/// `blog`, where the tokens of `shop` have no role, with a value, a secret
/// and a version to aim at.
fn blog(s: &Server) -> String {
    s.shop();
    s.ok(
        "POST",
        "/apps",
        Some(json!({"id": "blog", "name": "Blog"})),
        201,
    );
    let value = json!({"key": "K", "value": "blog-only", "description": ""});
    s.ok("POST", "/apps/blog/values", Some(value), 201);
    let secret = json!({"key": "PW", "value": CANARY, "is_secret": true, "description": ""});
    s.ok("POST", "/apps/blog/values", Some(secret), 201);
    let versions = s.ok("GET", "/apps/blog/value-set-versions", None, 200);
    versions[0]["id"].as_str().unwrap().to_owned()
}

/// What `blog` holds, as its administrator reads it.
fn state(s: &Server) -> (Value, Value) {
    (
        s.ok("GET", "/apps/blog/values", None, 200),
        s.ok("GET", "/apps/blog/value-set-versions", None, 200),
    )
}

#[test]
fn no_operation_reaches_another_app() {
    let s = Server::start();
    let version = blog(&s);
    let before = state(&s);
    let document: Value = s.raw("GET", "/openapi.json", None, &[], None).json();
    let mut tried = 0;
    for (template, operations) in document["paths"].as_object().unwrap() {
        if !template.contains("{appId}") {
            continue;
        }
        let path = template
            .replace("{orgId}", "acme")
            .replace("{appId}", "blog")
            .replace("{envId}", "development")
            .replace("{valueSetVersionId}", &version)
            .replace("{key}", "K")
            .replace("{tag}", "release-1");
        for (method, operation) in operations.as_object().unwrap() {
            let method = method.to_uppercase();
            // Required query parameters, each as `latest` (what `diff` takes).
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| format!("{}=latest", p["name"].as_str().unwrap()))
                .collect();
            let path = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{}", query.join("&"))
            };
            // The first of these bodies the operation takes (a malformed
            // body is refused before the role is asked, telling nothing).
            let bodies = [
                None,
                Some(json!({"name": "xx"})),
                Some(json!({"id": "xx", "name": "xx"})),
                Some(json!({"key": "K2", "value": "v", "description": ""})),
                Some(json!({"value": "v", "description": ""})),
                Some(json!({"comment": ""})),
                Some(json!({"version": "latest"})),
                Some(json!({"id": "web", "variables": {"K": "${values.K}"}})),
                Some(json!({})),
            ];
            for token in [DEV, VIEWER] {
                let mut refusals = Vec::new();
                let answer = bodies.iter().find_map(|body| {
                    let text = body.as_ref().map(Value::to_string);
                    let r = s.raw(&method, &path, Some(token), &[], text.as_deref());
                    assert!(!r.text.contains("blog-only"), "{method} {path}");
                    if r.status == 400 || r.status == 415 {
                        refusals.push(r.text);
                        return None;
                    }
                    Some(r)
                });
                let r = answer
                    .unwrap_or_else(|| panic!("{method} {path}: no body it takes: {refusals:#?}"));
                assert!(
                    r.status == 403 || r.status == 404,
                    "{method} {path} as {token}: {} {}",
                    r.status,
                    r.text
                );
                tried += 1;
            }
        }
    }
    assert!(tried >= 40, "{tried}");
    // The list of Apps leaves it out.
    let apps = s.call("GET", "/orgs/acme/apps", DEV, None);
    assert!(!apps.text.contains("blog"), "{}", apps.text);
    // Its event stream is refused.
    assert_eq!(
        s.try_follow("/orgs/acme/apps/blog/events", DEV, None).err(),
        Some(403)
    );
    // So are its pages.
    let mut p = Person::new(&s);
    p.sign_in(DEV);
    assert!(!p.get("/ui").html.contains("blog"));
    for path in [
        "/ui/apps/blog",
        "/ui/apps/blog/values",
        "/ui/apps/blog/history",
        "/ui/apps/blog/version?id=a1",
        "/ui/apps/blog/compare?from=a1",
        "/ui/apps/blog/restore?version=a1",
        "/ui/apps/blog/purge?version=a1&key=K",
    ] {
        let page = p.get(path);
        assert_eq!(page.status, 403, "{path}");
        assert!(!page.html.contains("blog-only"), "{path}");
    }
    let csrf = {
        let home = p.get("/ui");
        let at = home.html.find(r#"name="csrf" value=""#).unwrap() + 19;
        home.html[at..at + 64].to_owned()
    };
    let forged = p.post(
        "/ui/apps/blog/restore",
        &[("version", "a1"), ("csrf", &csrf)],
        &[],
    );
    assert_eq!(forged.status, 403);
    // Nothing changed.
    assert_eq!(state(&s), before);
    assert_eq!(
        s.call("GET", "/orgs/acme/apps/blog/values", ADMIN, None)
            .status,
        200
    );
}

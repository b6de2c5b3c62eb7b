//! Vault's HTTP API as an operator would call it, with the test server's
//! root token: shared by the `it` and `http` test binaries (each includes
//! this file with `#[path]`).

use serde_json::{Value, json};

/// Vault's HTTP API, as an operator would call it.
pub(crate) struct Api {
    pub(crate) addr: String,
    pub(crate) token: String,
}

impl Api {
    pub(crate) fn root() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} must name the Vault test server (scripts/openbao-test-server start)")
            })
        };
        let (addr, token) = (
            var("VALUESET_TEST_VAULT_ADDR"),
            var("VALUESET_TEST_VAULT_TOKEN"),
        );
        Api { addr, token }
    }

    pub(crate) fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let url = format!("{}/v1/{path}", self.addr);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("X-Vault-Token", &self.token);
        let mut response = match body {
            Some(b) => agent.run(request.body(b.to_string()).unwrap()),
            None => agent.run(request.body(()).unwrap()),
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub(crate) fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {json}"
        );
        json
    }

    /// Writes `data` at `path` of the `secret/` mount: a new KV version.
    pub(crate) fn write(&self, path: &str, data: &Value) -> u64 {
        let json = self.ok(
            "POST",
            &format!("secret/data/{path}"),
            Some(json!({"data": data})),
        );
        json["data"]["version"].as_u64().unwrap()
    }

    /// A token with only `policy` (HCL), created for this test.
    #[allow(dead_code)]
    pub(crate) fn token_with(&self, name: &str, policy: &str) -> String {
        self.ok(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            Some(json!({"policy": policy})),
        );
        let json = self.ok(
            "POST",
            "auth/token/create",
            Some(json!({"policies": [name], "no_default_policy": true, "ttl": "10m"})),
        );
        json["auth"]["client_token"].as_str().unwrap().to_owned()
    }
}

//! The service with Vault as the store submitted secrets go to (feature
//! `vault`, on the OpenBao test server that `scripts/openbao-test-server
//! start` names; without it this fails, never skips).

use serde_json::{Value, json};
use valueset::Store;
use valueset::secret::{VaultAuth, VaultConfig, VaultSecretStore};

use crate::common::{CANARY, DEV, Server};
use crate::vault_api::Api;

#[test]
fn vault_is_listed_keeps_the_secrets_and_takes_references() {
    let api = Api::root();
    let (addr, token) = (api.addr.clone(), api.token.clone());
    let vault = |method: &str, path: &str, body: Option<Value>| api.call(method, path, body);
    let prefix = format!("valueset-http-{}", std::process::id());
    let owned = format!("teams/http-{}", std::process::id());
    api.write(&owned, &json!({"password": "owned-pw"}));
    let mut config = VaultConfig::new(
        addr.clone(),
        VaultAuth::Token(valueset::Secret::new(token.clone())),
    );
    config.prefix.clone_from(&prefix);
    let s =
        Server::with_builder(Store::builder().secret_store(VaultSecretStore::new(config).unwrap()));

    // Listed first, as the primary, in Humanitec's shape; never its token.
    let r = s.raw(
        "GET",
        &Server::org("/secretstores"),
        Some(crate::common::ADMIN),
        &[],
        None,
    );
    assert!(!r.text.contains(&token), "the token in {}", r.text);
    let stores = r.json();
    assert_eq!(stores[0]["id"], "vault");
    assert_eq!(stores[0]["primary"], true);
    assert_eq!(
        stores[0]["vault"],
        json!({"url": addr, "path": format!("secret/{prefix}")})
    );
    assert_eq!(stores[1]["id"], "builtin");
    assert_eq!(stores[1]["humanitec"], json!({}));

    s.shop();
    let secret = json!({"key": "PW", "value": CANARY, "is_secret": true, "description": ""});
    let made = s.ok("POST", "/apps/shop/values", Some(secret), 201);
    assert_eq!(made["secret_store_id"], "vault");
    assert_eq!(made["value"], "");
    let path = made["secret_key"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .0
        .to_owned();
    assert_eq!(path, format!("{prefix}/shop/_app/PW"));
    let (status, read) = vault("GET", &format!("secret/data/{path}"), None);
    assert_eq!(status, 200);
    assert_eq!(read["data"]["data"]["value"], CANARY);

    // A reference to the owner's secret, in the API's shape.
    let reference = json!({"key": "OWNED", "description": "",
        "secret_ref": {"store": "vault", "ref": format!("{owned}#password"), "version": "1"}});
    let made = s.ok("POST", "/apps/shop/values", Some(reference), 201);
    assert_eq!(made["secret_store_id"], "vault");
    assert_eq!(made["secret_version"], "1");
    let bad =
        json!({"key": "BAD", "description": "", "secret_ref": {"store": "vault", "ref": owned}});
    let r = s.call(
        "POST",
        &Server::org("/apps/shop/values"),
        crate::common::ADMIN,
        Some(bad),
    );
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_secret_ref"));
    let workload =
        json!({"id": "api", "variables": {"PW": "${values.PW}", "OWNED": "${values.OWNED}"}});
    let r = s.revealing(
        "POST",
        &Server::org("/apps/shop/envs/prod/resolve?reveal_secrets=true"),
        Some(DEV),
        &[],
        Some(&workload.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text.replace(CANARY, "…"));
    let out = r.json();
    assert_eq!(out["variables"]["PW"]["value"], CANARY);
    assert_eq!(out["variables"]["OWNED"]["value"], "owned-pw");

    // Deleting the App deletes its paths, never the owner's.
    s.ok("DELETE", "/apps/shop", None, 204);
    assert_eq!(
        vault("GET", &format!("secret/metadata/{path}"), None).0,
        404
    );
    assert_eq!(vault("GET", &format!("secret/data/{owned}"), None).0, 200);
}

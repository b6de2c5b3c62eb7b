//! docs/guide.md #secrets-in-vault: what only a real Vault can show, on the
//! OpenBao test server (`scripts/openbao-test-server start`; without it
//! these fail, never skip). The suite every secret store runs is
//! `secrets_store.rs`, on Vault with `VALUESET_TEST_SECRET_STORE=vault`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use valueset::model::{NewValue, VersionSelector};
use valueset::secret::{SecretRef, SecretStore, VaultAuth, VaultConfig, VaultSecretStore};
use valueset::store::{HistoryOptions, SetOptions, WriteOptions};
use valueset::{Actor, AppId, EnvId, Secret, Store};

use crate::common::{key, vault_server, vault_store};

const CANARY: &str = "CANARY-vault-9c41";

/// Vault's HTTP API, as an operator would call it.
struct Api {
    addr: String,
    token: String,
}

impl Api {
    fn root() -> Self {
        let (addr, token) = vault_server();
        Api { addr, token }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
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

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, json) = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {json}"
        );
        json
    }

    /// Writes `data` at `path` of the `secret/` mount: a new KV version.
    fn write(&self, path: &str, data: &Value) -> u64 {
        let json = self.ok(
            "POST",
            &format!("secret/data/{path}"),
            Some(json!({"data": data})),
        );
        json["data"]["version"].as_u64().unwrap()
    }

    /// A token with only `policy` (HCL), created for this test.
    fn token_with(&self, name: &str, policy: &str) -> String {
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

/// A name no other test, in this process or another, uses.
fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id())
}

fn shop(store: &Store) -> (Actor, AppId, EnvId) {
    let admin = Actor::admin("alice");
    let app = AppId::new("shop").unwrap();
    let prod = EnvId::new("prod").unwrap();
    store.create_app(&admin, &app).unwrap();
    store.create_env(&admin, &app, &prod).unwrap();
    (admin, app, prod)
}

/// Sets `key` of the App (or of `env`) to a secret the library stores.
fn set_secret(
    store: &Store,
    (admin, app): (&Actor, &AppId),
    env: Option<&EnvId>,
    k: &str,
    text: &str,
) -> valueset::Result<valueset::model::VersionInfo> {
    let value = NewValue::secret(Secret::new(text.into()));
    store.set(admin, app, env, &key(k), value, SetOptions::default())
}

/// Purges `key` of the App from `version`.
fn purge(
    store: &Store,
    (admin, app): (&Actor, &AppId),
    version: &valueset::model::VersionInfo,
    k: &str,
) -> valueset::Result<()> {
    store.purge(
        admin,
        app,
        None,
        version.id.into(),
        &key(k),
        WriteOptions::default(),
    )?;
    Ok(())
}

fn resolve(
    store: &Store,
    actor: &Actor,
    app: &AppId,
    env: &EnvId,
    text: &str,
) -> valueset::Result<String> {
    let snapshot = store.snapshot(actor, app, env, VersionSelector::Latest)?;
    let out = snapshot.resolver().resolve_str(text)?;
    Ok(out.as_secret().map_or_else(
        || out.as_plain().unwrap_or_default().to_owned(),
        |s| s.expose_secret().to_owned(),
    ))
}

#[test]
fn a_reference_reads_the_kv_version_it_names() -> valueset::Result<()> {
    let api = Api::root();
    let path = unique("teams/pay/db");
    api.write(&path, &json!({"password": "first", "user": "pay"}));
    api.write(&path, &json!({"password": CANARY, "user": "pay"}));
    let store = Store::builder()
        .reference_store(vault_store("vault"))
        .in_memory()?;
    let (admin, app, prod) = shop(&store);
    let set = |k: &str, r: SecretRef| {
        store.set(
            &admin,
            &app,
            None,
            &key(k),
            NewValue::secret_ref("vault", r),
            SetOptions::default(),
        )
    };
    set(
        "OLD",
        SecretRef::new(format!("{path}#password")).with_version("1"),
    )?;
    set("NEW", SecretRef::new(format!("{path}#password")))?;
    set("USER", SecretRef::new(format!("{path}#user")))?;
    set("GONE", SecretRef::new(format!("{path}#nonesuch")))?;
    let r = |t: &str| resolve(&store, &admin, &app, &prod, t);
    assert_eq!(r("${values.OLD}")?, "first");
    assert_eq!(r("${values.NEW}")?, CANARY);
    assert_eq!(r("${values.USER}")?, "pay");
    assert_eq!(r("${values.GONE}").unwrap_err().code(), "secret_not_found");
    // What cannot point anywhere is refused when it is set.
    for bad in [
        path.clone(),
        format!("{path}#"),
        format!("../{path}#password"),
    ] {
        let e = set("BAD", SecretRef::new(bad.clone())).unwrap_err();
        assert_eq!(e.code(), "invalid_secret_ref", "{bad}");
    }
    let e = set(
        "BAD",
        SecretRef::new(format!("{path}#password")).with_version("0"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "invalid_secret_ref");
    // The owner's secret is never written or deleted by the library.
    store.delete_app(&admin, &app)?;
    let read = api.ok("GET", &format!("secret/data/{path}"), None);
    assert_eq!(read["data"]["data"]["password"], CANARY);
    Ok(())
}

#[test]
fn a_purge_destroys_its_kv_version_and_a_deletion_its_paths() -> valueset::Result<()> {
    let api = Api::root();
    let vault = std::sync::Arc::new(vault_store("vault"));
    let store = Store::builder()
        .secret_store(std::sync::Arc::clone(&vault))
        .in_memory()?;
    let (admin, app, prod) = shop(&store);
    let k = key("PW");
    let first = set_secret(&store, (&admin, &app), None, "PW", "one")?;
    set_secret(&store, (&admin, &app), None, "PW", CANARY)?;
    let info = store.get(&admin, &app, None, &k)?;
    let reference = info.secret().unwrap().secret_ref.clone();
    let (path, field) = reference.reference.split_once('#').unwrap();
    assert_eq!(field, "value");
    assert!(path.ends_with("/shop/_app/PW"), "{path}");
    let metadata = format!("secret/metadata/{path}");
    let versions = api.ok("GET", &metadata, None)["data"]["versions"].clone();
    assert_eq!(versions.as_object().unwrap().len(), 2, "{versions}");
    assert_eq!(
        resolve(&store, &admin, &app, &prod, "${values.PW}")?,
        CANARY
    );

    purge(&store, (&admin, &app), &first, "PW")?;
    let (status, _) = api.call("GET", &format!("secret/data/{path}?version=1"), None);
    assert_eq!(status, 404, "the purged version's data is still there");
    let versions = api.ok("GET", &metadata, None)["data"]["versions"].clone();
    assert_eq!(versions["1"]["destroyed"], true, "{versions}");
    assert_eq!(versions["2"]["destroyed"], false, "{versions}");
    assert_eq!(
        resolve(&store, &admin, &app, &prod, "${values.PW}")?,
        CANARY
    );

    set_secret(&store, (&admin, &app), Some(&prod), "PW", "env")?;
    let own = store
        .get(&admin, &app, Some(&prod), &k)?
        .secret()
        .unwrap()
        .secret_ref
        .clone();
    let env_path = own.reference.split_once('#').unwrap().0.to_owned();
    assert!(env_path.ends_with("/shop/prod/PW"), "{env_path}");
    let outcome = store.delete_env(&admin, &app, &prod)?;
    assert!(outcome.secrets_not_deleted.is_empty(), "{outcome:?}");
    assert_eq!(
        api.call("GET", &format!("secret/metadata/{env_path}"), None)
            .0,
        404
    );
    let outcome = store.delete_app(&admin, &app)?;
    assert!(outcome.secrets_not_deleted.is_empty(), "{outcome:?}");
    assert_eq!(
        api.call("GET", &metadata, None).0,
        404,
        "the App's path is still there"
    );
    assert_eq!(
        vault.get(&reference).unwrap_err().code(),
        "secret_not_found"
    );
    Ok(())
}

#[test]
fn a_token_its_policy_denies_gets_permission_denied() -> valueset::Result<()> {
    let api = Api::root();
    let allowed = unique("allowed");
    let denied = unique("denied");
    api.write(&allowed, &json!({"f": "yes"}));
    api.write(&denied, &json!({"f": CANARY}));
    let policy = format!("path \"secret/data/{allowed}\" {{ capabilities = [\"read\"] }}");
    let token = api.token_with(&unique("valueset-test-read"), &policy);
    let mut config = VaultConfig::new(
        api.addr.clone(),
        VaultAuth::Token(Secret::new(token.clone())),
    );
    config.id = "vault".to_owned();
    let vault = VaultSecretStore::new(config).unwrap();
    assert!(!format!("{vault:?}").contains(&token), "the token in Debug");
    let store = Store::builder().reference_store(vault).in_memory()?;
    let (admin, app, prod) = shop(&store);
    for (k, path) in [("OK", &allowed), ("NO", &denied)] {
        let r = NewValue::secret_ref("vault", SecretRef::new(format!("{path}#f")));
        store.set(&admin, &app, None, &key(k), r, SetOptions::default())?;
    }
    assert_eq!(resolve(&store, &admin, &app, &prod, "${values.OK}")?, "yes");
    let e = resolve(&store, &admin, &app, &prod, "${values.NO}").unwrap_err();
    assert_eq!(e.code(), "secret_store_denied", "{e}");
    assert!(!valueset::codes::find(e.code()).unwrap().retryable);
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(&token) && !text.contains(CANARY), "{text}");
    }
    // A token Vault does not know is denied too, not unavailable.
    let mut config = VaultConfig::new(
        api.addr.clone(),
        VaultAuth::Token(Secret::new("nonesuch".into())),
    );
    config.id = "vault".to_owned();
    let stranger = VaultSecretStore::new(config).unwrap();
    let e = stranger
        .get(&SecretRef::new(format!("{allowed}#f")))
        .unwrap_err();
    assert_eq!(e.code(), "secret_store_denied");
    Ok(())
}

/// The policy the guide gives is enough for everything the library does
/// as the managed store: write, read, purge, delete.
#[test]
fn the_guide_s_policy_is_all_the_managed_store_needs() -> valueset::Result<()> {
    let api = Api::root();
    let prefix = unique("valueset-policy");
    let guide = include_str!("../../docs/guide.md");
    let start = guide.find("```hcl\n").unwrap() + "```hcl\n".len();
    let hcl = &guide[start..start + guide[start..].find("```").unwrap()];
    assert!(hcl.contains("secret/destroy/valueset/*"), "{hcl}");
    let policy = hcl.replace("/valueset/", &format!("/{prefix}/"));
    let token = api.token_with(&unique("valueset-test-guide"), &policy);
    let mut config = VaultConfig::new(api.addr.clone(), VaultAuth::Token(Secret::new(token)));
    config.prefix = prefix;
    let store = Store::builder()
        .secret_store(VaultSecretStore::new(config).unwrap())
        .in_memory()?;
    let (admin, app, prod) = shop(&store);
    let first = set_secret(&store, (&admin, &app), None, "PW", "one")?;
    set_secret(&store, (&admin, &app), None, "PW", CANARY)?;
    assert_eq!(
        resolve(&store, &admin, &app, &prod, "${values.PW}")?,
        CANARY
    );
    purge(&store, (&admin, &app), &first, "PW")?;
    let outcome = store.delete_app(&admin, &app)?;
    assert!(outcome.secrets_not_deleted.is_empty(), "{outcome:?}");
    Ok(())
}

/// A `bao server -dev` of the test's own, to stop mid-run.
struct OwnServer {
    child: Child,
    addr: String,
    token: String,
}

impl OwnServer {
    fn start() -> Self {
        let bao = std::env::var("VALUESET_TEST_BAO").expect(
            "VALUESET_TEST_BAO must name the bao binary (scripts/openbao-test-server start)",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let token = unique("root");
        let child = Command::new(bao)
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-dev-root-token-id={token}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "bao did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        // The KV engine is mounted once the server answers its health check.
        let api = Api {
            addr: addr.clone(),
            token: token.clone(),
        };
        while api.call("GET", "sys/mounts/secret", None).0 != 200 {
            assert!(Instant::now() < deadline, "bao did not mount secret/");
            std::thread::sleep(Duration::from_millis(50));
        }
        OwnServer { child, addr, token }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn a_server_stopped_mid_run_is_retryable_and_nothing_is_half_written() -> valueset::Result<()> {
    let mut server = OwnServer::start();
    let mut config = VaultConfig::new(
        server.addr.clone(),
        VaultAuth::Token(Secret::new(server.token.clone())),
    );
    config.timeout = Duration::from_secs(3);
    let store = Store::builder()
        .secret_store(VaultSecretStore::new(config).unwrap())
        .in_memory()?;
    let (admin, app, prod) = shop(&store);
    let k = key("PW");
    let set = |v: &str| set_secret(&store, (&admin, &app), None, "PW", v);
    set("before")?;
    let history = || {
        store
            .history(&admin, &app, None, HistoryOptions::default())
            .unwrap()
            .len()
    };
    let versions = history();
    server.stop();
    let e = set(CANARY).unwrap_err();
    assert_eq!(e.code(), "secret_store_unavailable", "{e}");
    assert!(valueset::codes::find(e.code()).unwrap().retryable);
    assert!(!e.to_string().contains(CANARY) && !e.to_string().contains(&server.token));
    assert_eq!(
        history(),
        versions,
        "a version was written without its secret"
    );
    let e = resolve(&store, &admin, &app, &prod, "${values.PW}").unwrap_err();
    assert_eq!(e.code(), "secret_store_unavailable");
    // The other values are untouched and still read.
    assert!(store.get(&admin, &app, None, &k)?.secret().is_some());
    Ok(())
}

#[test]
fn an_approle_login_with_a_short_ttl_renews() -> valueset::Result<()> {
    let api = Api::root();
    let mount = unique("approle");
    let path = unique("renew");
    api.write(&path, &json!({"f": CANARY}));
    api.ok(
        "POST",
        &format!("sys/auth/{mount}"),
        Some(json!({"type": "approle"})),
    );
    let policy = unique("valueset-test-renew");
    api.ok(
        "PUT",
        &format!("sys/policies/acl/{policy}"),
        Some(json!({"policy": format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}")})),
    );
    // A token that lives 2 s unless renewed, and a secret id that logs in
    // once: only renewal keeps the store working past 2 s.
    api.ok(
        "POST",
        &format!("auth/{mount}/role/deploy"),
        Some(json!({"token_ttl": "2s", "token_max_ttl": "60s", "token_policies": [policy], "secret_id_num_uses": 1})),
    );
    let role_id =
        api.ok("GET", &format!("auth/{mount}/role/deploy/role-id"), None)["data"]["role_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let secret_id =
        api.ok("POST", &format!("auth/{mount}/role/deploy/secret-id"), None)["data"]["secret_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let config = VaultConfig::new(
        api.addr.clone(),
        VaultAuth::AppRole {
            role_id,
            secret_id: Secret::new(secret_id.clone()),
            mount: mount.clone(),
        },
    );
    let vault = VaultSecretStore::new(config).unwrap();
    assert!(!format!("{vault:?}").contains(&secret_id));
    let reference = SecretRef::new(format!("{path}#f"));
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(5_500) {
        let read = vault.get(&reference).map_err(|e| e.to_string());
        assert_eq!(
            read.map(|s| s.expose_secret().to_owned()),
            Ok(CANARY.to_owned()),
            "after {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(700));
    }
    // A wrong secret id is refused as denied, not as unavailable.
    let config = VaultConfig::new(
        api.addr.clone(),
        VaultAuth::AppRole {
            role_id: "nonesuch".into(),
            secret_id: Secret::new("nope".into()),
            mount,
        },
    );
    let e = VaultSecretStore::new(config)
        .unwrap()
        .get(&reference)
        .unwrap_err();
    assert_eq!(e.code(), "secret_store_denied", "{e}");
    Ok(())
}

#[test]
fn many_reads_at_once_answer_each_in_order() {
    let api = Api::root();
    let path = unique("many");
    let data: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("f{i}"), json!(format!("v{i}"))))
        .collect();
    api.write(&path, &Value::Object(data));
    let vault = vault_store("vault");
    let mut refs: Vec<SecretRef> = (0..50)
        .map(|i| SecretRef::new(format!("{path}#f{i}")))
        .collect();
    refs.insert(7, SecretRef::new(format!("{path}#missing")));
    let out = vault.get_many(&refs);
    assert_eq!(out.len(), 51);
    for (i, r) in out.iter().enumerate() {
        match i.cmp(&7) {
            std::cmp::Ordering::Equal => {
                assert_eq!(r.as_ref().unwrap_err().code(), "secret_not_found");
            }
            std::cmp::Ordering::Less => {
                assert_eq!(r.as_ref().unwrap().expose_secret(), format!("v{i}"));
            }
            std::cmp::Ordering::Greater => {
                assert_eq!(r.as_ref().unwrap().expose_secret(), format!("v{}", i - 1));
            }
        }
    }
}

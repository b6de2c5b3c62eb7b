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

use crate::common::{key, vault_store};
use crate::vault_api::Api;

const CANARY: &str = "CANARY-vault-9c41";

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
    // A large secret (a bundle of certificates, say) reads whole.
    let big = "b".repeat(3 << 19);
    api.write(&format!("{path}-big"), &json!({"pem": big}));
    set("BIG", SecretRef::new(format!("{path}-big#pem")))?;
    assert_eq!(r("${values.BIG}")?.len(), big.len());
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
    // A dry run knows a secret could be stored, and stores none.
    let preview = store.dry_run().set(
        &admin,
        &app,
        None,
        &k,
        NewValue::secret(Secret::new("dry".into())),
        SetOptions::default(),
    )?;
    assert!(preview.version.change.iter().any(|c| c.key == k));
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
    let info = vault.describe();
    assert_eq!(
        (
            info.kind.as_str(),
            info.url.as_deref(),
            info.path.as_deref()
        ),
        ("vault", Some(api.addr.as_str()), Some("secret/valueset"))
    );
    assert!(!format!("{info:?}").contains(&token));
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

/// A policy made for the test that may read `path` only; its name.
fn read_policy(api: &Api, path: &str) -> String {
    let name = unique("valueset-test-read");
    let hcl = format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}");
    api.ok(
        "PUT",
        &format!("sys/policies/acl/{name}"),
        Some(json!({"policy": hcl})),
    );
    name
}

/// An AppRole auth mount of the test's own, with a role `deploy` of
/// `settings`: the mount, the role id and a secret id.
fn approle(api: &Api, settings: &Value) -> (String, String, Secret) {
    let mount = unique("approle");
    api.ok(
        "POST",
        &format!("sys/auth/{mount}"),
        Some(json!({"type": "approle"})),
    );
    let role = format!("auth/{mount}/role/deploy");
    api.ok("POST", &role, Some(settings.clone()));
    let role_id = api.ok("GET", &format!("{role}/role-id"), None)["data"]["role_id"].clone();
    let secret_id = api.ok("POST", &format!("{role}/secret-id"), None)["data"]["secret_id"].clone();
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    (mount, text(&role_id), Secret::new(text(&secret_id)))
}

/// Reads `reference` three times 2.2 s apart: each read comes after a 3 s
/// token's renewal is due (at two thirds) and before it expires; the third
/// after the first token would have expired.
fn reads_across_renewals(vault: &VaultSecretStore, reference: &SecretRef) {
    let start = Instant::now();
    for _ in 0..3 {
        let read = vault.get(reference).map_err(|e| e.to_string());
        assert_eq!(
            read.map(|s| s.expose_secret().to_owned()),
            Ok(CANARY.to_owned()),
            "after {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(2_200));
    }
}

#[test]
fn an_approle_login_with_a_short_ttl_renews() -> valueset::Result<()> {
    let api = Api::root();
    let path = unique("renew");
    api.write(&path, &json!({"f": CANARY}));
    let policy = read_policy(&api, &path);
    // A token that lives 3 s unless renewed, and a secret id that logs in
    // once: only renewal keeps the store working past 3 s.
    let settings = json!({"token_ttl": "3s", "token_max_ttl": "60s", "token_policies": [policy], "secret_id_num_uses": 1});
    let (mount, role_id, secret_id) = approle(&api, &settings);
    let shown = secret_id.expose_secret().to_owned();
    let config = VaultConfig::new(
        api.addr.clone(),
        VaultAuth::AppRole {
            role_id,
            secret_id,
            mount: mount.clone(),
        },
    );
    let vault = VaultSecretStore::new(config).unwrap();
    assert!(!format!("{vault:?}").contains(&shown));
    let reference = SecretRef::new(format!("{path}#f"));
    reads_across_renewals(&vault, &reference);
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

/// A given token that expires is renewed before it does: reads 2.2 s
/// apart with a 3 s token, the last after the token would have expired.
#[test]
fn a_given_token_with_a_short_ttl_is_renewed() {
    let api = Api::root();
    let path = unique("renew-token");
    api.write(&path, &json!({"f": CANARY}));
    let policy = read_policy(&api, &path);
    let created = api.ok(
        "POST",
        "auth/token/create",
        Some(json!({"policies": [policy, "default"], "ttl": "3s", "explicit_max_ttl": "60s", "renewable": true})),
    );
    let token = created["auth"]["client_token"].as_str().unwrap().to_owned();
    let vault = VaultSecretStore::new(VaultConfig::new(
        api.addr.clone(),
        VaultAuth::Token(Secret::new(token)),
    ))
    .unwrap();
    let reference = SecretRef::new(format!("{path}#f"));
    reads_across_renewals(&vault, &reference);
}

/// Vault stops taking an AppRole login's token (revoked, or lost by a
/// server that restarted): the store logs in again and goes on.
#[test]
fn a_revoked_approle_token_logs_in_again() {
    let api = Api::root();
    let path = unique("relogin");
    api.write(&path, &json!({"f": CANARY}));
    let policy = read_policy(&api, &path);
    let settings = json!({"token_ttl": "10m", "token_policies": [policy]});
    let (mount, role_id, secret_id) = approle(&api, &settings);
    let auth = VaultAuth::AppRole {
        role_id,
        secret_id,
        mount: mount.clone(),
    };
    let vault = VaultSecretStore::new(VaultConfig::new(api.addr.clone(), auth)).unwrap();
    let reference = SecretRef::new(format!("{path}#f"));
    assert!(vault.get(&reference).is_ok());
    // Revoke every token this auth mount gave.
    let accessors = api.ok("GET", "auth/token/accessors?list=true", None)["data"]["keys"].clone();
    let mut revoked = 0;
    for accessor in accessors.as_array().unwrap() {
        let body = json!({"accessor": accessor});
        let token = api.ok("POST", "auth/token/lookup-accessor", Some(body.clone()));
        if token["data"]["path"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("auth/{mount}/"))
        {
            api.ok("POST", "auth/token/revoke-accessor", Some(body));
            revoked += 1;
        }
    }
    assert_eq!(revoked, 1);
    let read = vault.get(&reference).map_err(|e| e.to_string());
    assert_eq!(
        read.map(|s| s.expose_secret().to_owned()),
        Ok(CANARY.to_owned())
    );
}

/// As the managed store, Vault keeps every App's secrets under one prefix:
/// an App may reference its own there and the owner's outside it, never
/// another App's.
#[test]
fn an_app_never_reaches_another_app_s_secret_in_vault() -> valueset::Result<()> {
    let api = Api::root();
    let owned = unique("teams/shared");
    api.write(&owned, &json!({"f": "owners"}));
    let store = Store::builder()
        .secret_store(vault_store("vault"))
        .in_memory()?;
    let (admin, app, prod) = shop(&store);
    set_secret(&store, (&admin, &app), None, "PW", CANARY)?;
    let theirs = store
        .get(&admin, &app, None, &key("PW"))?
        .secret()
        .unwrap()
        .secret_ref
        .clone();
    let other = AppId::new("other").unwrap();
    store.create_app(&admin, &other)?;
    let refer = |app: &AppId, k: &str, r: SecretRef| {
        let value = NewValue::secret_ref("vault", r);
        store.set(&admin, app, None, &key(k), value, SetOptions::default())
    };
    let e = refer(&other, "STOLEN", theirs.clone()).unwrap_err();
    assert_eq!(e.code(), "other_app_secret");
    refer(&other, "OWNED", SecretRef::new(format!("{owned}#f")))?;
    refer(&app, "AGAIN", theirs)?;
    assert_eq!(
        resolve(&store, &admin, &app, &prod, "${values.AGAIN}")?,
        CANARY
    );
    Ok(())
}

/// Writers of one key at once never overwrite each other: each write is a
/// KV version of its own (check-and-set on the version read before it).
#[test]
fn writers_of_one_key_each_get_a_version_of_their_own() {
    let vault = vault_store("vault");
    let name = unique("race/_app/KEY");
    let versions: Vec<u64> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (vault, name) = (&vault, &name);
                scope.spawn(move || {
                    (0..5)
                        .map(|i| {
                            let secret = Secret::new(format!("{w}-{i}"));
                            let r = vault.put(name, &secret).unwrap();
                            let version = r.version.clone().unwrap().parse().unwrap();
                            assert_eq!(vault.get(&r).unwrap().expose_secret(), format!("{w}-{i}"));
                            version
                        })
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut sorted = versions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=20).collect::<Vec<u64>>(), "{versions:?}");
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

/// valuesctl on `dir`, with Vault's variables when `vault` is given; it
/// succeeded, what it printed, and its errors. Neither the token nor (unless
/// `shows_secret`) the canary may be in what it printed.
fn run_ctl(
    dir: &std::path::Path,
    vault: Option<&Api>,
    args: &[&str],
    input: &str,
    shows_secret: bool,
) -> (bool, Value, String) {
    let mut cmd = Command::new(crate::valuesctl::valuesctl());
    cmd.arg("--store").arg(dir).args(args);
    cmd.env_remove("VAULT_ADDR").env_remove("VAULT_TOKEN");
    if let Some(api) = vault {
        cmd.env("VAULT_ADDR", &api.addr)
            .env("VAULT_TOKEN", &api.token);
    }
    cmd.env("VALUESET_MASTER_KEY", "07".repeat(32));
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let token = vault.map_or("", |api| api.token.as_str());
    assert!(
        !stderr.contains(CANARY) && (token.is_empty() || !stderr.contains(token)),
        "{stderr}"
    );
    assert!(
        shows_secret || !stdout.contains(CANARY),
        "a secret in {args:?}"
    );
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.success(), json, stderr)
}

/// `valuesctl` with Vault's variables: the store `vault` for references,
/// and with `--managed-store vault` for the secrets it is given.
#[test]
fn valuesctl_takes_vault_from_its_variables() {
    let api = Api::root();
    let owned = unique("teams/ctl");
    api.write(&owned, &json!({"password": "first"}));
    api.write(&owned, &json!({"password": "second"}));
    let dir = std::env::temp_dir().join(unique("valueset-ctl-vault"));
    let ctl = |args: &[&str], input: &str, vault: bool, shows_secret: bool| {
        run_ctl(&dir, vault.then_some(&api), args, input, shows_secret)
    };
    let ok = |args: &[&str]| {
        let (ok, json, err) = ctl(args, "", true, false);
        assert!(ok, "{args:?}: {err}");
        json
    };
    ok(&["app", "create", "shop"]);
    ok(&["env", "create", "shop", "prod"]);
    let reference = format!("{owned}#password");
    ok(&[
        "set-ref",
        "shop",
        "OLD",
        "--secret-store",
        "vault",
        "--ref",
        &reference,
        "--ref-version",
        "1",
    ]);
    let (done, _, err) = ctl(
        &[
            "set-ref",
            "shop",
            "BAD",
            "--secret-store",
            "vault",
            "--ref",
            &owned,
        ],
        "",
        true,
        false,
    );
    assert!(!done && err.contains("invalid_secret_ref"), "{err}");
    // Submitted secrets go to Vault, under the default prefix…
    let (done, _, err) = ctl(
        &[
            "--managed-store",
            "vault",
            "set",
            "shop",
            "PW",
            "-",
            "--secret",
        ],
        CANARY,
        true,
        false,
    );
    assert!(done, "{err}");
    let shown = ok(&["--managed-store", "vault", "get", "shop", "PW"]);
    assert_eq!(shown["secret_store_id"], "vault", "{shown}");
    let path = shown["secret_ref"]["reference"]
        .as_str()
        .unwrap()
        .split_once('#')
        .unwrap()
        .0
        .to_owned();
    assert_eq!(path, "valueset/shop/_app/PW");
    let read = api.ok("GET", &format!("secret/data/{path}"), None);
    assert_eq!(read["data"]["data"]["value"], CANARY);
    // …and resolve from there, with the reference at its KV version.
    let args = [
        "--managed-store",
        "vault",
        "resolve",
        "shop",
        "prod",
        "--template",
        "${values.OLD}:${values.PW}",
        "--reveal-secrets",
    ];
    let (done, out, err) = ctl(&args, "", true, true);
    assert!(done, "{err}");
    assert_eq!(
        out["value"],
        format!("first:{CANARY}"),
        "{}",
        out.to_string().replace(CANARY, "…")
    );
    // Without Vault's variables, --managed-store vault is refused.
    let (done, _, err) = ctl(
        &["--managed-store", "vault", "get", "shop", "PW"],
        "",
        false,
        false,
    );
    assert!(!done && err.contains("invalid_vault_config"), "{err}");
    // The App goes, and its path with it: another test run starts afresh.
    ok(&["--managed-store", "vault", "app", "delete", "shop"]);
    assert_eq!(
        api.call("GET", &format!("secret/metadata/{path}"), None).0,
        404
    );
    let _ = std::fs::remove_dir_all(&dir);
}

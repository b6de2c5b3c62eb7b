//! A deployment's secrets from Vault, against raw KV reads of the same
//! secrets on the same server, in the same run:
//!
//! - `raw_concurrent`: 50 KV version 2 reads with 16 in flight (ureq, one
//!   pool of connections): the least a deployment that needs 50 secrets
//!   can cost (the baseline);
//! - `raw_serial`: the same 50 reads one after another;
//! - `valueset_many_at_once`: resolving a workload of 50 variables, each a
//!   secret the library stored in Vault: the resolver reads them all before
//!   it renders (`Values::prefetch`, `get_many`);
//! - `valueset_one_by_one`: the same 50 variables resolved one at a time
//!   (`resolve_str` each), so each secret is read when its placeholder is.
//!
//! Needs the `vault` feature and a server:
//! `eval "$(scripts/openbao-test-server start)"` then
//! `cargo bench --features vault --bench vault`. Figures are in
//! BENCHMARKS.md.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use valueset::model::{NewValue, VersionSelector};
use valueset::resolve::Workload;
use valueset::secret::{VaultAuth, VaultConfig, VaultSecretStore};
use valueset::store::SetOptions;
use valueset::{Actor, AppId, EnvId, Key, Secret, Store};

const SECRETS: usize = 50;
const IN_FLIGHT: usize = 16;

fn server() -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} must name a Vault server (scripts/openbao-test-server start)")
        })
    };
    (
        var("VALUESET_TEST_VAULT_ADDR"),
        var("VALUESET_TEST_VAULT_TOKEN"),
    )
}

/// A store whose secrets go to Vault, with an App holding 50 of them, and
/// the KV paths they were written to.
fn fixture() -> (Store, Actor, AppId, EnvId, Vec<String>) {
    let (addr, token) = server();
    let mut config = VaultConfig::new(addr, VaultAuth::Token(Secret::new(token)));
    config.prefix = format!("valueset-bench-{}", std::process::id());
    let store = Store::builder()
        .secret_store(VaultSecretStore::new(config).expect("vault"))
        .in_memory()
        .expect("store");
    let admin = Actor::admin("bench");
    let (app, env) = (
        AppId::new("shop").expect("id"),
        EnvId::new("prod").expect("id"),
    );
    store
        .create_app(&admin, &app)
        .expect("the bench's own data");
    store
        .create_env(&admin, &app, &env)
        .expect("the bench's own data");
    let mut paths = Vec::new();
    for i in 0..SECRETS {
        let key = Key::new(format!("S{i:02}")).expect("the bench's own data");
        let secret = NewValue::secret(Secret::new(format!("secret-{i:02}-{}", "x".repeat(24))));
        store
            .set(&admin, &app, None, &key, secret, SetOptions::default())
            .expect("the bench's own data");
        let view = store
            .get(&admin, &app, None, &key)
            .expect("the bench's own data");
        let reference = &view.secret().expect("the bench's own data").secret_ref;
        let (path, _) = reference
            .reference
            .split_once('#')
            .expect("the bench's own data");
        paths.push(format!(
            "{path}?version={}",
            reference.version.clone().expect("the bench's own data")
        ));
    }
    (store, admin, app, env, paths)
}

/// One raw KV read: the secret's `value` field.
fn raw_read(agent: &ureq::Agent, addr: &str, token: &str, path: &str) -> String {
    let mut response = agent
        .get(format!("{addr}/v1/secret/data/{path}"))
        .header("X-Vault-Token", token)
        .call()
        .expect("read");
    let json: Value = response.body_mut().read_json().expect("json");
    json["data"]["data"]["value"]
        .as_str()
        .expect("value")
        .to_owned()
}

/// The 50 raw reads with 16 in flight.
fn raw_concurrent(agent: &ureq::Agent, addr: &str, token: &str, paths: &[String]) -> usize {
    let next = AtomicUsize::new(0);
    let total = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..IN_FLIGHT {
            scope.spawn(|| {
                while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let len = raw_read(agent, addr, token, path).len();
                    total.fetch_add(len, Ordering::Relaxed);
                }
            });
        }
    });
    total.into_inner()
}

fn bench(c: &mut Criterion) {
    let (addr, token) = server();
    let (store, admin, app, env, paths) = fixture();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_idle_connections(IN_FLIGHT)
        .max_idle_connections_per_host(IN_FLIGHT)
        .build()
        .into();
    let mut workload = Workload {
        id: "api".into(),
        ..Workload::default()
    };
    for i in 0..SECRETS {
        workload
            .variables
            .insert(format!("V{i:02}"), format!("${{values.S{i:02}}}"));
    }
    // Every way reads the same secrets: the same total length.
    let expected: usize = paths
        .iter()
        .map(|p| raw_read(&agent, &addr, &token, p).len())
        .sum();
    let resolved_len = |workload_out: &valueset::resolve::ResolvedWorkload<'_>| -> usize {
        workload_out
            .variables
            .values()
            .map(|v| v.as_secret().expect("secret").expose_secret().len())
            .sum()
    };
    let snapshot = || {
        store
            .snapshot(&admin, &app, &env, VersionSelector::Latest)
            .expect("the bench's own data")
    };
    assert_eq!(raw_concurrent(&agent, &addr, &token, &paths), expected);
    let out_len = resolved_len(
        &snapshot()
            .resolver()
            .resolve_workload(&workload)
            .expect("the bench's own data"),
    );
    assert_eq!(out_len, expected);

    let mut group = c.benchmark_group("vault_50_secrets");
    group.sample_size(20);
    group.bench_function("raw_concurrent", |b| {
        b.iter(|| {
            assert_eq!(
                raw_concurrent(&agent, &addr, &token, black_box(&paths)),
                expected
            );
        });
    });
    group.bench_function("raw_serial", |b| {
        b.iter(|| {
            let total: usize = paths
                .iter()
                .map(|p| raw_read(&agent, &addr, &token, p).len())
                .sum();
            assert_eq!(total, expected);
        });
    });
    group.bench_function("valueset_many_at_once", |b| {
        b.iter(|| {
            let snapshot = snapshot();
            let out = snapshot
                .resolver()
                .resolve_workload(black_box(&workload))
                .expect("the bench's own data");
            assert_eq!(resolved_len(&out), expected);
        });
    });
    group.bench_function("valueset_one_by_one", |b| {
        b.iter(|| {
            let snapshot = snapshot();
            let resolver = snapshot.resolver();
            let total: usize = workload
                .variables
                .values()
                .map(|t| {
                    let out = resolver
                        .resolve_str(black_box(t))
                        .expect("the bench's own data");
                    out.as_secret().expect("secret").expose_secret().len()
                })
                .sum();
            assert_eq!(total, expected);
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

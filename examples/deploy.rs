//! Resolves a workload pinned to a version and writes a Kubernetes-style
//! manifest: plain values inline in the Deployment (and a `ConfigMap` for
//! plain files), secrets only in a Secret object, which the Deployment names
//! by reference (`secretKeyRef`, a Secret volume). A secret never appears in
//! the Deployment.
//!
//! Run: `cargo run --example deploy` (prints the manifest on stdout)
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use valueset::model::{NewValue, VersionSelector};
use valueset::resolve::{Context, Resolved, Resolver, Workload};
use valueset::store::SetOptions;
use valueset::{Actor, AppId, EnvId, Key, Secret, Store};

// A tour, read top to bottom: one step after another, each printed.
#[allow(clippy::too_many_lines)]
fn main() -> valueset::Result<()> {
    // A store with an App, a production override and secrets.
    let store = Store::in_memory();
    let admin = Actor::admin("deployer");
    let (app, prod) = (AppId::new("checkout")?, EnvId::new("production")?);
    store.create_app(&admin, &app)?;
    store.create_env(&admin, &app, &prod)?;
    let set = |k: &str, v: NewValue, env: Option<&EnvId>| {
        store.set(
            &admin,
            &app,
            env.cloned().as_ref(),
            &Key::new(k)?,
            v,
            SetOptions::default(),
        )
    };
    set("db.host", NewValue::plain("db.dev.internal"), None)?;
    set("db.host", NewValue::plain("db.prod.internal"), Some(&prod))?;
    set(
        "db.password",
        NewValue::secret(Secret::new("pr0d-pa55".into())),
        None,
    )?;
    set(
        "api.token",
        NewValue::secret(Secret::new("tok-123".into())),
        None,
    )?;
    let pinned = set("log.level", NewValue::plain("info"), None)?.id;
    // A later change: the deployment below is pinned to the version before it.
    set("log.level", NewValue::plain("debug"), None)?;
    let pinned = store
        .history(
            &admin,
            &app,
            Some(&prod),
            valueset::store::HistoryOptions::default(),
        )?
        .into_iter()
        .find(|v| v.app_version == Some(pinned))
        .map_or(VersionSelector::Latest, |v| VersionSelector::Id(v.id));

    let workload: Workload = serde_json::from_str(
        r#"{
            "id": "api",
            "variables": {
                "DATABASE_URL": "postgres://app:${values.db.password}@${values.db.host}/checkout",
                "LOG_LEVEL": "${values.log.level}",
                "DEPLOY_ID": "${context.deploy.id}"
            },
            "files": {
                "/etc/api/token": {"mode": "0400", "value": "${values.api.token}"},
                "/etc/api/db-host": {"mode": "0644", "value": "${values.db.host}"}
            },
            "labels": {"app": "${context.workload.id}", "env": "${context.env.id}"},
            "webhooks": {"ready": {"url": "https://hooks.internal/${context.workload.id}", "headers": {"Authorization": "Bearer ${values.api.token}"}}}
        }"#,
    )
    .expect("the workload is valid JSON");

    let snapshot = store.snapshot(&admin, &app, &prod, pinned)?;
    let context = Context {
        deploy: Some("deploy-42".into()),
        ..snapshot.resolver().context().clone()
    };
    let resolved = Resolver::new(&snapshot)
        .with_context(context)
        .resolve_workload(&workload)?;

    let secret_name = format!("{}-secrets", workload.id);
    let mut secret_data: BTreeMap<String, String> = BTreeMap::new();
    let mut config_data: BTreeMap<String, String> = BTreeMap::new();
    let mut env_lines = String::new();
    for (name, value) in &resolved.variables {
        match value {
            Resolved::Plain(text) => writeln!(
                env_lines,
                "            - name: {name}\n              value: {}",
                quote(text)
            )
            .unwrap_or(()),
            Resolved::Secret(secret) => {
                let key = format!("env-{name}");
                secret_data.insert(key.clone(), secret.expose_secret().to_owned());
                writeln!(env_lines, "            - name: {name}\n              valueFrom:\n                secretKeyRef: {{name: {secret_name}, key: {key}}}").unwrap_or(());
            }
        }
    }
    let mut mounts = String::new();
    for (path, file) in &resolved.files {
        let key = format!("file{}", path.replace('/', "-"));
        let (volume, data) = if file.content.is_secret() {
            ("secret-files", &mut secret_data)
        } else {
            ("config-files", &mut config_data)
        };
        let text = match &file.content {
            Resolved::Plain(t) => t.to_string(),
            Resolved::Secret(s) => s.expose_secret().to_owned(),
        };
        data.insert(key.clone(), text);
        writeln!(mounts, "            - {{name: {volume}, mountPath: {path}, subPath: {key}, readOnly: true}}  # mode {}", file.mode.as_deref().unwrap_or("0644")).unwrap_or(());
    }
    let mut labels = String::new();
    for (k, v) in &resolved.labels {
        writeln!(labels, "    {k}: {}", quote(v)).unwrap_or(());
    }
    let mut hooks = String::new();
    for (name, hook) in &resolved.webhooks {
        let url = hook.url.as_plain().unwrap_or("(secret)");
        let headers: Vec<String> = hook
            .headers
            .iter()
            .map(|(h, v)| {
                let shown = if v.is_secret() {
                    "(from the Secret)"
                } else {
                    v.as_plain().unwrap_or("")
                };
                format!("{h}: {shown}")
            })
            .collect();
        let value = quote(&format!("{url} [{}]", headers.join(", ")));
        writeln!(hooks, "    webhook.valueset/{name}: {value}").unwrap_or(());
    }

    let mut out = String::new();
    writeln!(
        out,
        "# Resolved at version {} of {}/{}",
        snapshot.version(),
        app,
        prod
    )
    .unwrap_or(());
    writeln!(out, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {}\n  labels:\n{labels}  annotations:\n{hooks}spec:\n  template:\n    spec:\n      containers:\n        - name: {}\n          env:\n{env_lines}          volumeMounts:\n{mounts}      volumes:\n        - {{name: secret-files, secret: {{secretName: {secret_name}}}}}\n        - {{name: config-files, configMap: {{name: {}-config}}}}", workload.id, workload.id, workload.id).unwrap_or(());
    writeln!(
        out,
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}-config\ndata:",
        workload.id
    )
    .unwrap_or(());
    for (k, v) in &config_data {
        writeln!(out, "  {k}: {}", quote(v)).unwrap_or(());
    }
    writeln!(out, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {secret_name}\ntype: Opaque\nstringData:").unwrap_or(());
    for (k, v) in &secret_data {
        writeln!(out, "  {k}: {}", quote(v)).unwrap_or(());
    }
    // The Deployment part never holds a secret: check it before printing.
    let deployment = out.split("---").next().unwrap_or("");
    assert!(
        !deployment.contains("pr0d-pa55") && !deployment.contains("tok-123"),
        "a secret leaked into the Deployment"
    );
    print!("{out}");
    Ok(())
}

/// A YAML double-quoted scalar.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

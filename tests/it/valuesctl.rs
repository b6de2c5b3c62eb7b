//! docs/guide.md #valuesctl: the `valuesctl` example, driven as a built binary.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{Value, json};

/// The example binary. `cargo test` builds examples next to the test
/// binary's directory; when a filtered run did not, build it. A run with
/// the `postgres` feature builds it with the feature (cargo does nothing
/// when it is up to date), so that a binary built earlier without it is
/// not used against a server.
pub(crate) fn valuesctl() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let target_dir = exe.parent().unwrap().parent().unwrap();
        let bin = target_dir.join("examples").join("valuesctl");
        let features: Vec<&str> = [
            ("postgres", cfg!(feature = "postgres")),
            ("vault", cfg!(feature = "vault")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        if !features.is_empty() || !bin.exists() {
            let mut build = Command::new(env!("CARGO"));
            build.args(["build", "--example", "valuesctl"]);
            if !features.is_empty() {
                build.args(["--features", &features.join(",")]);
            }
            let status = build
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .unwrap();
            assert!(status.success(), "building valuesctl failed");
        }
        bin
    })
}

fn run(args: &[&str]) -> Output {
    Command::new(valuesctl()).args(args).output().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn parse_prints_segments() {
    let out = run(&["parse", "Hello ${values.NAME}!"]);
    assert!(out.status.success());
    assert_eq!(
        stdout_json(&out),
        json!({"segments": [
            {"literal": "Hello "},
            {"path": ["values", "NAME"], "span": [6, 20]},
            {"literal": "!"},
        ]})
    );
}

#[test]
fn parse_merges_escaped_literals_and_takes_dash_text() {
    let out = run(&["parse", "--", "-x $\\{y} ${a['b.c']}"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout_json(&out),
        json!({"segments": [
            {"literal": "-x ${y} "},
            {"path": ["a", "b.c"], "span": [9, 20]},
        ]})
    );
}

#[test]
fn parse_errors_exit_1_with_every_error() {
    let out = run(&["parse", "${} ${a b}"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = stdout_json(&out);
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["span"], json!([0, 3]));
    assert_eq!(errors[1]["span"], json!([4, 10]));
    assert_eq!(errors[1]["code"], "whitespace");
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("whitespace")
    );
}

#[test]
fn pretty_prints_the_same_document() {
    let compact = run(&["parse", "a${b}"]);
    let pretty = run(&["--pretty", "parse", "a${b}"]);
    assert!(String::from_utf8_lossy(&pretty.stdout).lines().count() > 3);
    assert_eq!(stdout_json(&compact), stdout_json(&pretty));
}

#[test]
fn usage_errors_are_json_on_stderr() {
    let out = run(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"], "usage");
    assert!(err["message"].as_str().unwrap().contains("no-such-command"));

    let help = run(&["parse", "--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Parse a template"));
}

/// A walkthrough of every command on a fresh store directory, with bad
/// input: invalid keys, unknown versions, a purge of the current value, a
/// missing master key, a malformed batch file.
mod walkthrough {
    use std::io::Write;
    use std::process::{Command, Output, Stdio};

    use serde_json::{Value, json};

    use crate::common::TempDir;

    const KEY: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
    const CANARY: &str = "CANARY-valuesctl-7c2d";

    struct Ctl {
        dir: TempDir,
    }

    impl Ctl {
        fn run_with(&self, args: &[&str], key: Option<&str>, stdin: Option<&str>) -> Output {
            let mut cmd = Command::new(super::valuesctl());
            cmd.arg("--store").arg(self.dir.path()).args(args);
            cmd.env_remove("VALUESET_MASTER_KEY");
            if let Some(k) = key {
                cmd.env("VALUESET_MASTER_KEY", k);
            }
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            if let Some(input) = stdin {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(input.as_bytes())
                    .unwrap();
            }
            drop(child.stdin.take());
            child.wait_with_output().unwrap()
        }

        /// Runs a command that must succeed; its JSON.
        fn ok(&self, args: &[&str]) -> Value {
            let out = self.run_with(args, Some(KEY), None);
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(!stdout.contains(CANARY), "{args:?} printed a secret");
            serde_json::from_str(&stdout).unwrap()
        }

        /// Runs a command that must fail with `code`.
        /// Runs a command that must fail with `code`; its message.
        fn err(&self, args: &[&str], key: Option<&str>, code: &str) -> String {
            let out = self.run_with(args, key, None);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let e: Value = serde_json::from_slice(&out.stderr).unwrap();
            assert_eq!(e["error"], code, "{args:?}: {e}");
            let message = e["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty());
            message.to_owned()
        }
    }

    // One walkthrough, in the order a newcomer would go.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn every_command() {
        let c = Ctl {
            dir: TempDir::new("valuesctl"),
        };
        assert_eq!(
            c.ok(&["app", "create", "shop", "--name", "The Shop"])["app"],
            "shop"
        );
        c.ok(&[
            "env",
            "create",
            "shop",
            "prod",
            "--name",
            "Prod",
            "--type",
            "production",
        ]);
        let app = c.ok(&["app", "show", "shop"]);
        assert_eq!(
            (&app["id"], &app["name"]),
            (&json!("shop"), &json!("The Shop"))
        );
        let env = c.ok(&["env", "show", "shop", "prod"]);
        assert_eq!(
            (&env["name"], &env["type"]),
            (&json!("Prod"), &json!("production"))
        );
        assert!(env["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(c.ok(&["app", "list"]), json!(["shop"]));
        assert_eq!(c.ok(&["env", "list", "shop"]), json!(["prod"]));

        let v = c.ok(&[
            "set",
            "shop",
            "db.host",
            "db.dev",
            "--description",
            "where the db is",
        ]);
        assert_eq!(
            (v["id"].as_str(), v["result_of"].as_str()),
            (Some("a1"), Some("app_value_create"))
        );
        assert_eq!(v["change"], json!([{"op": "add", "key": "db.host"}]));
        let v = c.ok(&["set", "shop", "db.host", "db.prod", "--env", "prod"]);
        assert_eq!(v["id"], "e2");
        // A secret from standard input.
        let out = c.run_with(
            &["set", "shop", "db.pw", "-", "--secret"],
            Some(KEY),
            Some(CANARY),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value = c.ok(&["get", "shop", "db.pw"]);
        assert_eq!(value["is_secret"], true);
        assert_eq!(value["secret_version"], 1);
        assert!(value.get("value").is_none());
        let get = c.ok(&["get", "shop", "db.host", "--env", "prod"]);
        assert_eq!(
            (get["value"].as_str(), get["source"].as_str()),
            (Some("db.prod"), Some("env"))
        );
        assert_eq!(
            c.ok(&["list", "shop", "--env", "prod"])
                .as_array()
                .unwrap()
                .len(),
            2
        );

        // A batch file.
        let batch = c.dir.path().join("batch.json");
        std::fs::write(&batch, r#"{"comment": "two at once", "set": {"A": {"value": "1"}, "B": {"value": "2", "description": "b"}}}"#).unwrap();
        let v = c.ok(&["apply", "shop", batch.to_str().unwrap()]);
        assert_eq!(
            (v["comment"].as_str(), v["change"].as_array().unwrap().len()),
            (Some("two at once"), 2)
        );
        std::fs::write(&batch, r#"{"set": {"A": "not an object"}}"#).unwrap();
        c.err(
            &["apply", "shop", batch.to_str().unwrap()],
            Some(KEY),
            "invalid_batch",
        );

        // History, show, restore, purge.
        let history = c.ok(&["history", "shop", "--env", "prod"]);
        let ids: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["e4", "e3", "e2", "a1"]);
        assert_eq!(history[0]["app_version"], "a4");
        assert!(history[0].get("values").is_none());
        let changed = c.ok(&["history", "shop", "--key-changed", "A", "--limit", "5"]);
        assert_eq!(changed.as_array().unwrap().len(), 1);
        let shown = c.ok(&["show", "shop", "latest"]);
        assert_eq!(shown["values"]["A"]["value"], "1");
        assert!(shown["values"]["db.pw"].get("value").is_none());
        c.ok(&["set", "shop", "A", "10"]);
        let restored = c.ok(&["restore", "shop", "a4", "--key", "A", "--comment", "back"]);
        assert_eq!(
            (
                restored["source_version"].as_str(),
                restored["result_of"].as_str()
            ),
            (Some("a4"), Some("app_value_set_version_restore"))
        );
        // The restore (a6) set A=1 anew: that is the current value; the A=1
        // of a4 is an older value of the same text, and may be purged.
        c.err(
            &["purge", "shop", "a6", "A"],
            Some(KEY),
            "purge_current_value",
        );
        c.err(
            &["purge", "shop", "a1", "A"],
            Some(KEY),
            "not_introduced_here",
        );
        let purged = c.ok(&["purge", "shop", "a4", "A"]);
        assert_eq!(purged["result_of"], "app_value_set_version_purge");
        assert_eq!(
            c.ok(&["show", "shop", "a4"])["values"]["A"],
            json!({"key": "A", "purged": true, "source": "app"})
        );
        assert_eq!(
            c.ok(&["show", "shop", "latest"])["values"]["A"]["value"],
            "1"
        );

        // Resolve a template and a workload.
        let r = c.ok(&[
            "resolve",
            "shop",
            "prod",
            "--template",
            "pg://${values.db.pw}@${values.db.host}",
        ]);
        assert_eq!(r, json!({"value": null, "secret": true}));
        let out = c.run_with(
            &[
                "resolve",
                "shop",
                "prod",
                "--template",
                "${values.db.pw}",
                "--reveal-secrets",
            ],
            Some(KEY),
            None,
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&out.stdout).unwrap()["value"],
            CANARY
        );
        let r = c.ok(&[
            "resolve",
            "shop",
            "prod",
            "--template",
            "${values.db.host}",
            "--version",
            "e2",
        ]);
        assert_eq!(r, json!({"value": "db.prod", "secret": false}));
        let workload = c.dir.path().join("workload.json");
        std::fs::write(&workload, r#"{"id": "api", "values": {"B": "w"}, "variables": {"URL": "${values.db.pw}@${values.db.host}", "B": "${values.B}"}, "files": {"/etc/db": {"mode": "0600", "value": "pw=${values.db.pw}"}}, "labels": {"app": "${context.workload.id}"}, "webhooks": {"hook": {"url": "https://${values.db.host}/h", "headers": {"Auth": "${values.db.pw}"}}}}"#).unwrap();
        let r = c.ok(&[
            "resolve",
            "shop",
            "prod",
            "--workload",
            workload.to_str().unwrap(),
        ]);
        assert_eq!(
            r["variables"]["URL"],
            json!({"value": null, "secret": true})
        );
        assert_eq!(r["variables"]["B"], json!({"value": "w", "secret": false}));
        assert_eq!(
            r["files"]["/etc/db"],
            json!({"value": null, "secret": true, "mode": "0600"})
        );
        assert_eq!(r["labels"]["app"], json!({"value": "api", "secret": false}));
        assert_eq!(
            r["webhooks"]["hook"]["url"],
            json!({"value": "https://db.prod/h", "secret": false})
        );
        assert_eq!(r["webhooks"]["hook"]["headers"]["Auth"]["secret"], true);

        let report = c.ok(&["verify"]);
        assert!(report["versions"].as_u64().unwrap() >= 7);

        // Bad input.
        c.err(&["set", "shop", "bad key", "x"], Some(KEY), "invalid_key");
        c.err(&["set", "Shop!", "K", "x"], Some(KEY), "invalid_id");
        c.err(&["show", "shop", "a99"], Some(KEY), "unknown_version");
        c.err(&["show", "shop", "v1"], Some(KEY), "unknown_tag");
        c.err(&["show", "shop", "v 1"], Some(KEY), "invalid_version");
        c.err(&["get", "nope", "K"], Some(KEY), "unknown_app");
        c.err(
            &["set", "shop", "ONLY", "x", "--env", "prod"],
            Some(KEY),
            "no_base_value",
        );
        // The CLI says where it takes the key from; the library cannot.
        let message = c.err(
            &["set", "shop", "S", "x", "--secret"],
            None,
            "missing_master_key",
        );
        assert!(
            message.ends_with("set VALUESET_MASTER_KEY (64 hex characters)"),
            "{message}"
        );
        c.err(
            &["set", "shop", "S", "x", "--secret"],
            Some(&"b".repeat(64)),
            "wrong_master_key",
        );
        c.err(
            &["set", "shop", "S", "x"],
            Some("123"),
            "invalid_master_key",
        );
        c.err(
            &["--role", "viewer", "set", "shop", "K", "x"],
            Some(KEY),
            "forbidden",
        );
        c.err(
            &["--role", "developer", "purge", "shop", "a1", "db.host"],
            Some(KEY),
            "forbidden",
        );
        c.err(
            &["delete", "shop", "db.host"],
            Some(KEY),
            "overridden_in_envs",
        );
        let deleted = c.ok(&["delete", "shop", "db.host", "--cascade"]);
        assert_eq!(deleted["result_of"], "app_value_delete");
        c.ok(&["env", "delete", "shop", "prod"]);
        c.ok(&["app", "delete", "shop"]);
        assert_eq!(c.ok(&["app", "list"]), json!([]));

        // The store's files never held the secret's plaintext.
        let mut stack = vec![c.dir.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_none_or(|e| e != "json") {
                    let bytes = std::fs::read(&path).unwrap();
                    assert!(
                        !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
                        "{}",
                        path.display()
                    );
                }
            }
        }
    }

    /// The attack of the cross-App regression (see `isolation.rs`), as a
    /// Developer of `shop` would run it: refused when set, nothing written,
    /// and nothing to resolve.
    #[test]
    fn a_developer_cannot_reference_another_apps_secret() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-isolation"),
        };
        for app in ["shop", "payroll"] {
            c.ok(&["app", "create", app]);
            c.ok(&["env", "create", app, "prod"]);
        }
        let out = c.run_with(
            &["set", "payroll", "bank.token", "-", "--secret"],
            Some(KEY),
            Some(CANARY),
        );
        assert!(out.status.success());
        c.ok(&["set", "shop", "HOST", "db.internal"]);
        let dev = ["--actor", "mallory", "--role", "developer"];
        let attack = [
            "set-ref",
            "shop",
            "stolen",
            "--secret-store",
            "builtin",
            "--ref",
            "payroll/_app/bank.token/1",
        ];
        let out = c.run_with(&[&dev[..], &attack[..]].concat(), Some(KEY), None);
        assert_eq!(out.status.code(), Some(1));
        let e: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["error"], "other_app_secret", "{e}");
        let history = c.ok(&["history", "shop"]);
        assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
        let resolve = [
            "resolve",
            "shop",
            "prod",
            "--template",
            "${values.stolen}",
            "--reveal-secrets",
        ];
        let out = c.run_with(&[&dev[..], &resolve[..]].concat(), Some(KEY), None);
        assert_eq!(out.status.code(), Some(1));
        let e: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["error"], "unknown_key", "{e}");
        for out in [&out.stdout, &out.stderr] {
            assert!(!String::from_utf8_lossy(out).contains(CANARY));
        }
    }

    /// Another process holding the store is `busy`, retryable, and says how
    /// long it waited; a value typed on standard input is read before the
    /// store is taken, so typing does not hold it.
    #[test]
    fn a_held_store_is_busy_and_typing_holds_nothing() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-busy"),
        };
        c.ok(&["app", "create", "shop"]);

        let holder = valueset::Store::open(c.dir.path()).unwrap();
        let out = c.run_with(&["app", "list"], Some(KEY), None);
        assert_eq!(out.status.code(), Some(1));
        let e: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(e["error"], "busy", "{e}");
        assert!(e["message"].as_str().unwrap().contains("waited"), "{e}");
        drop(holder);

        // `set … -` waits for its input without holding the store.
        let mut typing = Command::new(super::valuesctl())
            .arg("--store")
            .arg(c.dir.path())
            .args(["set", "shop", "PW", "-", "--secret"])
            .env("VALUESET_MASTER_KEY", KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(c.ok(&["app", "list"]), json!(["shop"]));
        let mut stdin = typing.stdin.take().unwrap();
        stdin.write_all(CANARY.as_bytes()).unwrap();
        drop(stdin);
        let out = typing.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(c.ok(&["get", "shop", "PW"])["secret_version"], 1);
    }

    /// Bad input of a bad day: short, typed errors that never quote a value,
    /// and nothing written.
    #[test]
    fn bad_input_gets_short_typed_errors() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-limits"),
        };
        let files = TempDir::new("valuesctl-limits-files");
        c.ok(&["app", "create", "shop"]);
        c.ok(&["set", "shop", "A", "1"]);
        let batch = |name: &str, text: &str| {
            let path = files.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_owned()
        };
        c.err(
            &["apply", "shop", &batch("empty.json", "{}")],
            Some(KEY),
            "empty_batch",
        );
        c.err(
            &["apply", "shop", &batch("list.json", "[]")],
            Some(KEY),
            "invalid_batch",
        );
        let unwrapped = format!(r#"{{"set": {{"PW": "{CANARY}"}}}}"#);
        let path = batch("unwrapped.json", &unwrapped);
        let out = c.run_with(&["apply", "shop", &path], Some(KEY), None);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("invalid_batch"), "{stderr}");
        assert!(
            !stderr.contains(CANARY),
            "the error quotes the value: {stderr}"
        );

        c.err(
            &["--actor", "", "set", "shop", "A", "2"],
            Some(KEY),
            "invalid_actor",
        );
        c.err(
            &["--actor", "eve\nadmin", "set", "shop", "A", "2"],
            Some(KEY),
            "invalid_actor",
        );
        let long = "d".repeat(5000);
        c.err(
            &["set", "shop", "A", "2", "--description", &long],
            Some(KEY),
            "too_long",
        );
        let history = c.ok(&["history", "shop"]);
        assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");

        // 50,000 unterminated placeholders (an argument can hold no more
        // than 128 KiB): the first errors, and a count.
        let out = super::run(&["parse", &"${".repeat(50_000)]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.len() < 100_000, "{} bytes", out.stdout.len());
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["errors"].as_array().map(Vec::len), Some(100));
        assert_eq!(doc["more"], 49_900);

        // Verifying the whole store needs an org role that sees every App;
        // one App, a role on it.
        c.err(&["--role", "owner", "verify"], Some(KEY), "forbidden");
        let one = c.ok(&["--role", "viewer", "verify", "shop"]);
        assert_eq!(one["apps"], 1);
        assert_eq!(c.ok(&["--role", "manager", "verify"])["apps"], 1);
    }

    /// Every changing command takes `--expect VERSION`: optimistic
    /// concurrency from the command line.
    #[test]
    fn expect_refuses_a_stale_version() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-expect"),
        };
        c.ok(&["app", "create", "shop"]);
        assert_eq!(c.ok(&["set", "shop", "A", "1"])["id"], "a1");
        assert_eq!(
            c.ok(&["--expect", "a1", "set", "shop", "A", "2"])["id"],
            "a2"
        );
        c.err(
            &["--expect", "a1", "set", "shop", "A", "3"],
            Some(KEY),
            "conflict",
        );
        c.err(
            &["--expect", "a1", "delete", "shop", "A"],
            Some(KEY),
            "conflict",
        );
        c.err(
            &["--expect", "a1", "restore", "shop", "a1"],
            Some(KEY),
            "conflict",
        );
        c.err(&["--expect", "a1", "app", "list"], Some(KEY), "usage");
        c.err(
            &["--expect", "nope", "set", "shop", "A", "3"],
            Some(KEY),
            "invalid_version",
        );
        assert_eq!(
            c.ok(&["--expect", "a2", "restore", "shop", "a1"])["id"],
            "a3"
        );
    }

    /// Values that use values: `set --template`, `"template": true` in a
    /// batch, reads that show the text, resolve, and the refusals.
    #[test]
    fn templates() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-templates"),
        };
        c.ok(&["app", "create", "shop"]);
        c.ok(&["env", "create", "shop", "prod"]);
        c.ok(&["set", "shop", "DB_HOST", "db.dev"]);
        c.ok(&["set", "shop", "DB_HOST", "db.prod", "--env", "prod"]);
        let out = c.run_with(
            &["set", "shop", "DB_PASS", "-", "--secret"],
            Some(KEY),
            Some(CANARY),
        );
        assert!(out.status.success());
        let url = "pg://app:${values.DB_PASS}@${values.DB_HOST}";
        c.ok(&["set", "shop", "DATABASE_URL", url, "--template"]);
        let got = c.ok(&["get", "shop", "DATABASE_URL"]);
        assert_eq!(
            (got["value"].as_str(), got["template"].as_bool()),
            (Some(url), Some(true))
        );
        assert_eq!(c.ok(&["get", "shop", "DB_HOST"])["template"], false);
        let listed = c.ok(&["list", "shop", "--env", "prod"]);
        let shown = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == "DATABASE_URL");
        assert_eq!(shown.unwrap()["template"], true);
        let resolved = c.ok(&[
            "resolve",
            "shop",
            "prod",
            "--template",
            "${values.DATABASE_URL}",
        ]);
        assert_eq!(resolved, json!({"value": null, "secret": true}));
        let out = c.run_with(
            &[
                "resolve",
                "shop",
                "prod",
                "--template",
                "${values.DATABASE_URL}",
                "--reveal-secrets",
            ],
            Some(KEY),
            None,
        );
        let revealed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(revealed["value"], format!("pg://app:{CANARY}@db.prod"));
        template_refusals(&c);
    }

    /// The refusals of `templates`, on its store: a cycle, bad syntax, a
    /// secret template; then a batch and a cycle an override closes.
    fn template_refusals(c: &Ctl) {
        c.err(
            &[
                "set",
                "shop",
                "DB_HOST",
                "${values.DATABASE_URL}",
                "--template",
            ],
            Some(KEY),
            "template_cycle",
        );
        c.err(
            &["set", "shop", "BAD", "${values.}", "--template"],
            Some(KEY),
            "invalid_template",
        );
        let both = c.run_with(
            &["set", "shop", "BAD", "x", "--template", "--secret"],
            Some(KEY),
            None,
        );
        assert_eq!(both.status.code(), Some(2), "a usage error");

        let files = TempDir::new("valuesctl-templates-files");
        let batch = files.path().join("batch.json");
        std::fs::write(
            &batch,
            r#"{"set": {"GREETING": {"value": "hi ${values.DB_HOST}", "template": true}}}"#,
        )
        .unwrap();
        c.ok(&["apply", "shop", batch.to_str().unwrap()]);
        let greeting = c.ok(&[
            "resolve",
            "shop",
            "prod",
            "--template",
            "${values.GREETING}",
        ]);
        assert_eq!(greeting, json!({"value": "hi db.prod", "secret": false}));
        std::fs::write(
            &batch,
            r#"{"set": {"X": {"value": "1", "template": true, "secret": true}}}"#,
        )
        .unwrap();
        c.err(
            &["apply", "shop", batch.to_str().unwrap()],
            Some(KEY),
            "invalid_batch",
        );

        // An override that closes a cycle with App values: found when resolving.
        c.ok(&["set", "shop", "A", "${values.B}", "--template"]);
        c.ok(&["set", "shop", "B", "b"]);
        c.ok(&[
            "set",
            "shop",
            "B",
            "${values.A}",
            "--template",
            "--env",
            "prod",
        ]);
        c.err(
            &["resolve", "shop", "prod", "--template", "${values.A}"],
            Some(KEY),
            "template_cycle",
        );
    }

    /// `diff` of versions, of Environments, of an Environment and its App.
    #[test]
    fn diff() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-diff"),
        };
        c.ok(&["app", "create", "shop"]);
        c.ok(&["env", "create", "shop", "prod"]);
        c.ok(&["env", "create", "shop", "staging"]);
        c.ok(&["set", "shop", "HOST", "db"]);
        c.ok(&["set", "shop", "HOST", "db.prod", "--env", "prod"]);
        let out = c.run_with(
            &["set", "shop", "PW", "-", "--secret"],
            Some(KEY),
            Some(CANARY),
        );
        assert!(out.status.success());
        c.ok(&["set", "shop", "PW", "-", "--secret", "--env", "staging"]);
        let versions = c.ok(&["diff", "shop", "a1", "latest"]);
        assert_eq!(versions["from"], json!({"env": null, "version": "a1"}));
        let changes = versions["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (
                &changes[0]["key"],
                &changes[0]["value"],
                &changes[0]["from"]
            ),
            (&json!("PW"), &json!("added"), &Value::Null)
        );
        assert_eq!(changes[0]["to"]["is_secret"], true);
        let envs = c.ok(&["diff", "shop", "env:staging", "env:prod"]);
        let keys: Vec<(&str, &str)> = envs["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["key"].as_str().unwrap(), c["value"].as_str().unwrap()))
            .collect();
        assert_eq!(keys, [("HOST", "changed"), ("PW", "changed")]);
        assert_eq!(envs["changes"][0]["to"]["value"], "db.prod");
        let against_app = c.ok(&["diff", "shop", "latest", "env:prod"]);
        assert_eq!(against_app["changes"].as_array().unwrap().len(), 1);
        let own = c.ok(&["diff", "shop", "a1", "latest", "--env", "prod"]);
        assert_eq!(own["to"]["env"], "prod");
        c.err(&["diff", "shop", "a1", "a99"], Some(KEY), "unknown_version");
        c.err(
            &["diff", "shop", "a1", "env:nope"],
            Some(KEY),
            "unknown_env",
        );
    }

    /// `--dry-run` on the commands that change values: what would be
    /// written, or the error, and the store unchanged.
    #[test]
    fn dry_runs_write_nothing() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-dry-run"),
        };
        c.ok(&["app", "create", "shop"]);
        c.ok(&["env", "create", "shop", "prod"]);
        c.ok(&["set", "shop", "A", "1"]);
        c.ok(&["set", "shop", "A", "2"]);
        c.ok(&["set", "shop", "A", "prod", "--env", "prod"]);
        let history = || c.ok(&["history", "shop"]);
        let before = history();
        let restore = c.ok(&["restore", "shop", "a1", "--dry-run"]);
        assert_eq!(restore["dry_run"], true);
        assert!(restore.get("id").is_none());
        assert_eq!(restore["source_version"], "a1");
        assert_eq!(restore["change"][0]["key"], "A");
        let purge = c.ok(&["purge", "shop", "a1", "A", "--dry-run"]);
        assert_eq!(purge["dry_run"], true);
        assert_eq!(purge["versions"], json!(["a1"]));
        assert_eq!(purge["value"]["value"], "1");
        assert!(purge["version"].get("id").is_none());
        let set = c.ok(&["set", "shop", "B", "x", "--dry-run"]);
        assert_eq!(set["change"][0]["op"], "add");
        c.err(
            &["delete", "shop", "A", "--dry-run"],
            Some(KEY),
            "overridden_in_envs",
        );
        c.err(
            &["purge", "shop", "a2", "A", "--dry-run"],
            Some(KEY),
            "purge_current_value",
        );
        let files = TempDir::new("valuesctl-dry-run-files");
        let batch = files.path().join("batch.json");
        std::fs::write(&batch, r#"{"set": {"C": {"value": "c"}}, "delete": ["A"]}"#).unwrap();
        c.err(
            &["apply", "shop", batch.to_str().unwrap(), "--dry-run"],
            Some(KEY),
            "overridden_in_envs",
        );
        std::fs::write(&batch, r#"{"set": {"C": {"value": "c"}}}"#).unwrap();
        let apply = c.ok(&["apply", "shop", batch.to_str().unwrap(), "--dry-run"]);
        assert_eq!(apply["change"][0]["key"], "C");
        assert_eq!(history(), before, "a dry run wrote");
        assert!(c.ok(&["list", "shop"]).as_array().unwrap().len() == 1);
    }

    /// `tag` and `tags`; a tag wherever a version is asked for; a purge's
    /// dry run names the tags it touches.
    #[test]
    fn tags() {
        let c = Ctl {
            dir: TempDir::new("valuesctl-tags"),
        };
        c.ok(&["app", "create", "shop"]);
        c.ok(&["env", "create", "shop", "prod"]);
        c.ok(&["set", "shop", "A", "1"]);
        c.ok(&["set", "shop", "B", "b"]);
        let placed = c.ok(&["tag", "shop", "a2", "release-1"]);
        assert_eq!(
            (&placed["name"], &placed["version"]),
            (&json!("release-1"), &json!("a2"))
        );
        c.ok(&["set", "shop", "A", "2"]);
        let moved = c.ok(&["tag", "shop", "latest", "release-1"]);
        assert_eq!(moved["moves"].as_array().unwrap().len(), 2);
        c.ok(&["tag", "shop", "a1", "first"]);
        let tags = c.ok(&["tags", "shop"]);
        let names: Vec<&str> = tags
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["first", "release-1"]);
        assert_eq!(c.ok(&["show", "shop", "first"])["id"], "a1");
        let diff = c.ok(&["diff", "shop", "first", "release-1"]);
        assert_eq!(diff["to"]["version"], "a3");
        let purge = c.ok(&["purge", "shop", "a1", "A", "--dry-run"]);
        assert_eq!(purge["tags"][0]["name"], "first");
        c.ok(&["tag", "shop", "latest", "stable", "--env", "prod"]);
        assert_eq!(c.ok(&["tags", "shop", "--env", "prod"])[0]["env"], "prod");
        c.err(&["show", "shop", "nope"], Some(KEY), "unknown_tag");
        c.err(&["tag", "shop", "a1", "a7"], Some(KEY), "invalid_tag");
        c.err(
            &["--role", "viewer", "tag", "shop", "a1", "x"],
            Some(KEY),
            "forbidden",
        );
    }

    /// `export` and `import`: a sealed App moves to another store; a cut
    /// document imports nothing.
    #[test]
    fn export_and_import() {
        const EXPORT_KEY: &str = "0909090909090909090909090909090909090909090909090909090909090909";
        let from = Ctl {
            dir: TempDir::new("valuesctl-export-from"),
        };
        let to = Ctl {
            dir: TempDir::new("valuesctl-export-to"),
        };
        from.ok(&["app", "create", "shop", "--name", "The shop"]);
        from.ok(&["env", "create", "shop", "prod", "--type", "production"]);
        from.ok(&["set", "shop", "HOST", "db", "--description", "the host"]);
        from.ok(&["set", "shop", "HOST", "db.prod", "--env", "prod"]);
        let out = from.run_with(
            &["set", "shop", "PW", "-", "--secret"],
            Some(KEY),
            Some(CANARY),
        );
        assert!(out.status.success());
        from.err(&["export", "shop"], Some(KEY), "invalid_export");
        let files = TempDir::new("valuesctl-export-files");
        let path = files.path().join("shop.json");
        let with_key = |ctl: &Ctl, args: &[&str]| {
            let mut cmd = Command::new(super::valuesctl());
            cmd.arg("--store").arg(ctl.dir.path()).args(args);
            cmd.env("VALUESET_MASTER_KEY", KEY)
                .env("VALUESET_EXPORT_KEY", EXPORT_KEY);
            let out = cmd.output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let file = path.to_str().unwrap();
        let exported = with_key(&from, &["export", "shop", "--seal", "--out", file]);
        assert_eq!(exported.0, Some(0), "{}", exported.1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(CANARY), "a secret left in plaintext");
        to.err(&["import", file], Some(KEY), "missing_export_key");
        let cut = files.path().join("cut.json");
        std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
        to.err(
            &["import", cut.to_str().unwrap()],
            Some(KEY),
            "invalid_export",
        );
        let imported = with_key(&to, &["import", file]);
        assert_eq!(imported.0, Some(0), "{}", imported.1);
        let strip = |v: Value| -> Vec<Value> {
            let list = v.as_array().unwrap().iter();
            list.map(|x| json!([x["key"], x["value"], x["description"]]))
                .collect()
        };
        for args in [&["list", "shop"][..], &["list", "shop", "--env", "prod"]] {
            assert_eq!(strip(to.ok(args)), strip(from.ok(args)));
        }
        assert_eq!(to.ok(&["app", "show", "shop"])["name"], "The shop");
        // Made anew at the import (it carries no history), named as it was.
        let prod = to.ok(&["env", "show", "shop", "prod"]);
        assert_eq!(prod["created_by"], "admin");
        assert_eq!(prod["type"], "production");
        let resolved = to.run_with(
            &[
                "resolve",
                "shop",
                "prod",
                "--template",
                "${values.PW}",
                "--reveal-secrets",
            ],
            Some(KEY),
            None,
        );
        let v: Value = serde_json::from_slice(&resolved.stdout).unwrap();
        assert_eq!(v["value"], CANARY);
        let again = with_key(&to, &["import", file]);
        assert_eq!(again.0, Some(1), "a second import: the App exists");
        // With `--history`, every version and the tags go too.
        from.ok(&["tag", "shop", "latest", "stable"]);
        let whole = with_key(
            &from,
            &["export", "shop", "--seal", "--history", "--out", file],
        );
        assert_eq!(whole.0, Some(0), "{}", whole.1);
        assert!(!std::fs::read_to_string(&path).unwrap().contains(CANARY));
        let third = Ctl {
            dir: TempDir::new("valuesctl-export-history"),
        };
        let imported = with_key(&third, &["import", file]);
        assert_eq!(imported.0, Some(0), "{}", imported.1);
        for args in [
            &["history", "shop"][..],
            &["history", "shop", "--env", "prod"],
            &["tags", "shop"],
            &["show", "shop", "stable"],
        ] {
            assert_eq!(third.ok(args), from.ok(args), "{args:?}");
        }
    }
}

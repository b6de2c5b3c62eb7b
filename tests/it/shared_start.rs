//! Replicas that start together, as OS processes, on PostgreSQL (the test
//! server of `VALUESET_TEST_POSTGRES`; without it these fail, never skip).
//!
//! The bug: four `valuesctl app create` processes started at once on a
//! fresh table failed with `corrupted` or a serialization conflict, and
//! only some Apps existed afterwards; processes racing to write the digest
//! key could each keep their own, so secrets stopped verifying. The first
//! open is now one conditional write, and a loser uses what won.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use valueset::backend::PostgresBackend;
use valueset::{Actor, MasterKey, Store};

use crate::common::{fresh_name, postgres_url};

const PROCESSES: usize = 8;

const KEY_HEX: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

/// A fresh table's URL.
fn fresh_store() -> String {
    format!("{}?table={}", postgres_url(), fresh_name("replicas"))
}

/// Starts `valuesctl --store url ARGS` with the master key when `keyed`,
/// and `stdin` written to it.
fn start(url: &str, args: &[String], keyed: bool, stdin: &str) -> Child {
    let mut command = Command::new(crate::valuesctl::valuesctl());
    command
        .arg("--store")
        .arg(url)
        .args(args)
        .env_remove("VALUESET_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if keyed {
        command.env("VALUESET_MASTER_KEY", KEY_HEX);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child
}

/// Runs every command at once and asserts each succeeded.
fn all_at_once(url: &str, commands: &[Vec<String>], keyed: bool) {
    let children: Vec<Child> = commands
        .iter()
        .map(|args| start(url, args, keyed, "canary-process-secret"))
        .collect();
    for (args, child) in commands.iter().zip(children) {
        let out: Output = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn run(url: &str, args: &[&str]) -> Value {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = start(url, &args, true, "").wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn processes_creating_apps_on_one_fresh_store_at_once_all_succeed() {
    for _ in 0..3 {
        let url = fresh_store();
        let commands: Vec<Vec<String>> = (0..PROCESSES)
            .map(|i| vec!["app".into(), "create".into(), format!("app{i}")])
            .collect();
        all_at_once(&url, &commands, true);
        let apps = run(&url, &["app", "list"]);
        assert_eq!(apps.as_array().map(Vec::len), Some(PROCESSES), "{apps}");
        assert_eq!(run(&url, &["verify"])["apps"], PROCESSES);
    }
}

#[test]
fn processes_storing_secrets_in_a_store_first_opened_without_a_key_agree() {
    // Every process races to write the key's check value and the digest
    // key, and stores a secret with the digest key it ended with: one
    // digest key must verify them all.
    let url = fresh_store();
    let create: Vec<String> = ["app", "create", "shop"].map(String::from).to_vec();
    all_at_once(&url, &[create], false);
    let commands: Vec<Vec<String>> = (0..PROCESSES)
        .map(|i| {
            ["set", "shop", &format!("PW{i}"), "-", "--secret"]
                .map(String::from)
                .to_vec()
        })
        .collect();
    all_at_once(&url, &commands, true);
    let report = run(&url, &["verify"]);
    assert_eq!(report["secrets_checked"], PROCESSES, "{report}");
    // And a Store of this process, opened after, agrees.
    let backend = PostgresBackend::connect(&url).unwrap();
    let store = Store::builder()
        .master_key(MasterKey::from_hex(KEY_HEX).unwrap())
        .open_with_backend(backend)
        .unwrap();
    let verified = store.verify(&Actor::admin("ops")).unwrap();
    assert_eq!(verified.secrets_checked, PROCESSES);
}

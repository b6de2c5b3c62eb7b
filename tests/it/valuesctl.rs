//! SPEC 8: the `valuesctl` example, driven as a built binary.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{Value, json};

/// The example binary. `cargo test` builds examples next to the test
/// binary's directory; when a filtered run did not, build it.
fn valuesctl() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let target_dir = exe.parent().unwrap().parent().unwrap();
        let bin = target_dir.join("examples").join("valuesctl");
        if !bin.exists() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--example", "valuesctl"])
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

//! `valuesctl`: valueset from the command line (SPEC 8).
//!
//! Every command prints JSON on stdout (`--pretty` indents it for people) and
//! exits non-zero with `{"error": CODE, "message": TEXT}` on stderr.
//!
//! ```text
//! cargo run --example valuesctl -- parse 'Hello ${values.NAME}!'
//! cargo run --example valuesctl -- --pretty parse -- '-${values.A}'
//! ```
//!
//! Commands so far: `parse TEXT` prints a template's segments, or exits 1
//! with every syntax error in it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use valueset::Template;
use valueset::placeholder::Segment;

/// valueset from the command line: every command prints JSON.
#[derive(Debug, Parser)]
#[command(name = "valuesctl", version)]
struct Cli {
    /// Print indented JSON for people.
    #[arg(long, global = true)]
    pretty: bool,
    /// Print compact JSON, one document per line (the default).
    #[arg(long, global = true, conflicts_with = "pretty")]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse a template and print its segments, or exit 1 with its errors.
    ///
    /// Prints {"segments": [{"literal": TEXT} | {"path": [SEGMENT, ...],
    /// "span": [START, END]}]}; spans are byte offsets, END exclusive. On
    /// errors, prints {"errors": [{"span": [START, END], "code", "message"}]}
    /// on stdout and exits 1. Use `parse -- TEXT` for text that starts with
    /// `-`.
    Parse {
        /// The template text.
        text: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                return ExitCode::SUCCESS;
            }
            let message = e.render().to_string();
            return fail(false, "usage", message.trim(), 2);
        }
    };
    let (doc, code) = run(&cli.command);
    println!("{}", to_json(&doc, cli.pretty));
    ExitCode::from(code)
}

/// Runs a command: the document it prints on stdout, and the exit code.
fn run(command: &Command) -> (Value, u8) {
    match command {
        Command::Parse { text } => parse(text),
    }
}

fn parse(text: &str) -> (Value, u8) {
    match Template::parse(text) {
        Ok(template) => {
            let mut segments: Vec<Value> = Vec::new();
            // Adjacent literals (split by a `$\{` escape) print as one: the
            // text they stand for.
            let mut literal: Option<String> = None;
            for segment in template.segments() {
                match segment {
                    Segment::Literal(t) => literal.get_or_insert_with(String::new).push_str(t),
                    Segment::Placeholder(p) => {
                        if let Some(t) = literal.take() {
                            segments.push(json!({ "literal": t }));
                        }
                        let path: Vec<&str> = p.path().segments().collect();
                        let span = p.span();
                        segments.push(json!({ "path": path, "span": [span.start, span.end] }));
                    }
                }
            }
            if let Some(t) = literal {
                segments.push(json!({ "literal": t }));
            }
            (json!({ "segments": segments }), 0)
        }
        Err(errors) => {
            let errors: Vec<Value> = errors
                .iter()
                .map(|e| {
                    json!({
                        "span": [e.span().start, e.span().end],
                        "code": e.kind().code(),
                        "message": e.kind().to_string(),
                    })
                })
                .collect();
            (json!({ "errors": errors }), 1)
        }
    }
}

fn to_json(doc: &Value, pretty: bool) -> String {
    let printed = if pretty {
        serde_json::to_string_pretty(doc)
    } else {
        serde_json::to_string(doc)
    };
    printed.unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
}

/// Prints `{"error", "message"}` on stderr.
fn fail(pretty: bool, code: &str, message: &str, exit: u8) -> ExitCode {
    eprintln!(
        "{}",
        to_json(&json!({ "error": code, "message": message }), pretty)
    );
    ExitCode::from(exit)
}

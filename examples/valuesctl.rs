//! `valuesctl`: valueset from the command line (docs/guide.md #valuesctl).
//!
//! Works on a sled directory (`--store DIR`, default `./valueset-data`).
//! Secrets need the master key in `VALUESET_MASTER_KEY` (64 hex characters).
//! Every command prints JSON on stdout (`--pretty` indents it for people) and
//! exits 1 with `{"error": CODE, "message": TEXT}` on stderr.
//!
//! ```text
//! cargo run --example valuesctl -- parse 'Hello ${values.NAME}!'
//! cargo run --example valuesctl -- app create shop
//! cargo run --example valuesctl -- env create shop production
//! cargo run --example valuesctl -- set shop db.host db.internal
//! export VALUESET_MASTER_KEY=$(openssl rand -hex 32)
//! echo -n 's3cr3t' | cargo run --example valuesctl -- set shop db.password - --secret
//! cargo run --example valuesctl -- resolve shop production --template 'pg://${values.db.password}@${values.db.host}'
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use serde_json::{Value, json};
use valueset::model::{AppRole, NewValue, OrgRole, VersionSelector};
use valueset::placeholder::Segment;
use valueset::resolve::{Resolved, Workload};
use valueset::secret::SecretRef;
use valueset::store::{
    AppOptions, ChangeSet, DeleteOptions, DiffSide, EnvOptions, HistoryOptions, RestoreKeys,
    SetOptions, StoreBuilder, WatchOptions, WriteOptions,
};
use valueset::{
    Actor, AppId, EnvId, Error, Key, MasterKey, Secret, Store, TagName, Template, VersionId,
};

/// valueset from the command line: every command prints JSON.
#[derive(Debug, Parser)]
#[command(name = "valuesctl", version)]
struct Cli {
    /// The store: a sled directory, or a postgres:// URL (with the
    /// `postgres` feature).
    #[arg(long, global = true, default_value = "./valueset-data")]
    store: PathBuf,
    /// For commands that change values: refuse with `conflict` unless this
    /// version is current (optimistic concurrency).
    #[arg(long, global = true, value_name = "VERSION")]
    expect: Option<String>,
    /// The actor's name, recorded on every change.
    #[arg(long, global = true, default_value = "admin")]
    actor: String,
    /// The actor's role: admin, manager or member (org roles), or owner,
    /// developer or viewer (that role on the App the command names).
    #[arg(long, global = true, default_value = "admin")]
    role: String,
    /// Print indented JSON for people.
    #[arg(long, global = true)]
    pretty: bool,
    /// Where submitted secrets go: `builtin` (the store's own, sealed with
    /// `VALUESET_MASTER_KEY`) or `vault` (`VAULT_ADDR`, with the `vault`
    /// feature). Whenever `VAULT_ADDR` is set, the store `vault` is there
    /// for references.
    #[arg(
        long = "managed-store",
        global = true,
        value_name = "STORE",
        default_value = "builtin"
    )]
    managed_store: String,
    /// Print compact JSON, one document per line (the default).
    #[arg(long, global = true, conflicts_with = "pretty")]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, delete or list Apps.
    #[command(subcommand)]
    App(AppCommand),
    /// Create, delete or list an App's Environments.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Set a value (an Environment override with --env). A VALUE of `-` is
    /// read from standard input, to keep secrets out of shell history.
    Set {
        app: String,
        key: String,
        value: String,
        #[command(flatten)]
        scope: EnvArg,
        /// Store the value as a secret (needs `VALUESET_MASTER_KEY`).
        #[arg(long, conflicts_with = "template")]
        secret: bool,
        /// The value is a template: its `${values.KEY}` placeholders are
        /// resolved against the same Environment at deployment time.
        #[arg(long)]
        template: bool,
        /// What the value is for.
        #[arg(long)]
        description: Option<String>,
        /// The version's comment.
        #[arg(long, default_value = "")]
        comment: String,
        /// Show what would be written (or the error), and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// Set a reference to a secret that lives in a registered secret store.
    SetRef {
        app: String,
        key: String,
        /// The secret store's id.
        #[arg(long = "secret-store")]
        secret_store: String,
        /// The secret's reference in that store.
        #[arg(long = "ref")]
        reference: String,
        /// A version of the secret in that store.
        #[arg(long = "ref-version")]
        ref_version: Option<String>,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// Print a value (never a secret's content).
    Get {
        app: String,
        key: String,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// Print every effective value.
    List {
        app: String,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// Delete a value (--cascade deletes Environment overrides too).
    Delete {
        app: String,
        key: String,
        #[command(flatten)]
        scope: EnvArg,
        /// Delete the overrides of an App value too.
        #[arg(long)]
        cascade: bool,
        /// Show what would be written (or the error), and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// Apply a JSON batch as one version: `{"comment"?, "delete_all"?,
    /// "delete"?: [KEY], "set"?: {KEY: {"value", "secret"?, "template"?, "description"?}}}`.
    Apply {
        app: String,
        file: PathBuf,
        #[command(flatten)]
        scope: EnvArg,
        /// Show what would be written (or the error), and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// List versions, newest first.
    History {
        app: String,
        #[command(flatten)]
        scope: EnvArg,
        /// Only versions that changed this key.
        #[arg(long = "key-changed")]
        key_changed: Option<String>,
        /// At most this many versions.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// How two value sets differ. Each of FROM and TO is a version of the
    /// App's history (of ENV's with --env), "latest", or "env:NAME" for an
    /// Environment's current set. Secrets show as changed or not, never
    /// their value.
    Diff {
        app: String,
        from: String,
        to: String,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// Name a version: point the tag NAME of the App's history (ENV's with
    /// --env) at VERSION, creating or moving it. A tag then stands in for
    /// a version anywhere.
    Tag {
        app: String,
        version: String,
        name: String,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// List the tags of the App's history (ENV's with --env).
    Tags {
        app: String,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// Export an App (its values, Environments and overrides) as one JSON
    /// document. With `--seal`, secrets the library stored are sealed with
    /// the key in `VALUESET_EXPORT_KEY` (64 hex characters); without, such
    /// secrets cannot leave and the export is refused. With `--history`,
    /// the whole history and the tags go too.
    Export {
        app: String,
        /// Seal secrets with `VALUESET_EXPORT_KEY`.
        #[arg(long)]
        seal: bool,
        /// Every version (ids, authors, times, comments) and the tags.
        #[arg(long)]
        history: bool,
        /// Write the document here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import an exported App into this store: all of it or nothing. A
    /// sealed document needs `VALUESET_EXPORT_KEY`.
    Import { file: PathBuf },
    /// Print a version with all its values ("latest" for the newest).
    Show {
        app: String,
        version: String,
        #[command(flatten)]
        scope: EnvArg,
    },
    /// Put a version's values back as a new version.
    Restore {
        app: String,
        version: String,
        #[command(flatten)]
        scope: EnvArg,
        /// Restore only these keys (repeatable).
        #[arg(long = "key")]
        keys: Vec<String>,
        #[arg(long, default_value = "")]
        comment: String,
        /// Show what would be written (or the error), and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// Remove one value from history, for good.
    Purge {
        app: String,
        version: String,
        key: String,
        #[command(flatten)]
        scope: EnvArg,
        #[arg(long, default_value = "")]
        comment: String,
        /// Show the version it would record, the value and the versions it
        /// would remove it from, and write nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// Resolve a template or a workload file for a deployment.
    Resolve {
        app: String,
        env: String,
        /// A template to resolve.
        #[arg(
            long,
            conflicts_with = "workload",
            required_unless_present = "workload"
        )]
        template: Option<String>,
        /// A workload JSON file to resolve.
        #[arg(long)]
        workload: Option<PathBuf>,
        /// Resolve against this version instead of the latest.
        #[arg(long)]
        version: Option<String>,
        /// Print secret results instead of null.
        #[arg(long = "reveal-secrets")]
        reveal_secrets: bool,
    },
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
    /// Print the App's new versions as they are committed, one JSON object
    /// per line (a version as `history` prints it, with "env": the
    /// Environment whose version it is, or null).
    Watch {
        app: String,
        #[command(flatten)]
        scope: EnvArg,
        /// Start after this version (resume); default: after the latest.
        #[arg(long)]
        from: Option<String>,
        /// Exit after this many versions.
        #[arg(long)]
        count: Option<usize>,
        /// Exit when no version came for this many seconds.
        #[arg(long)]
        idle_timeout: Option<f64>,
    },
    /// Check the history of one App (anyone who may read it), or of every
    /// App (org Administrator or Manager): tamper evidence.
    Verify {
        /// The App; every App when left out.
        app: Option<String>,
    },
    /// Rewrite the store's files so that removed data is gone from the disk
    /// (purge and deleting an App or Environment do this themselves).
    Compact,
}

#[derive(Debug, Subcommand)]
enum AppCommand {
    /// Create an App.
    Create {
        app: String,
        /// Its human-friendly name (the id when not given).
        #[arg(long)]
        name: Option<String>,
    },
    /// Show an App: its name, and when and by whom it was created.
    Show { app: String },
    /// Delete an App, its values, history and library-stored secrets.
    Delete { app: String },
    /// List Apps.
    List,
}

#[derive(Debug, Subcommand)]
enum EnvCommand {
    /// Create an Environment.
    Create {
        app: String,
        env: String,
        /// Its human-friendly name (the id when not given).
        #[arg(long)]
        name: Option<String>,
        /// Its type (`development` when not given).
        #[arg(long = "type")]
        env_type: Option<String>,
    },
    /// Show an Environment: its name, type, and when and by whom it was
    /// created.
    Show { app: String, env: String },
    /// Delete an Environment.
    Delete { app: String, env: String },
    /// List an App's Environments.
    List { app: String },
}

#[derive(Debug, Args)]
struct EnvArg {
    /// Work on this Environment's overrides instead of the App's values.
    #[arg(long)]
    env: Option<String>,
}

/// The batch file of `apply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchFile {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    delete_all: bool,
    #[serde(default)]
    delete: Vec<String>,
    #[serde(default)]
    set: BTreeMap<String, BatchValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchValue {
    value: String,
    #[serde(default)]
    secret: bool,
    #[serde(default)]
    template: bool,
    description: Option<String>,
}

impl BatchValue {
    fn into_new_value(self) -> Result<NewValue, Failure> {
        match (self.secret, self.template) {
            (true, true) => Err(fail(
                "invalid_batch",
                "a value is a secret or a template, not both",
            )),
            (true, false) => Ok(NewValue::secret(Secret::new(self.value))),
            (false, true) => Ok(NewValue::template(self.value)),
            (false, false) => Ok(NewValue::plain(self.value)),
        }
    }
}

/// A command failed: a code and a message for stderr.
struct Failure {
    code: String,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let mut message = e.to_string();
        // Where this program takes the key from, which the library cannot
        // know.
        if e.code() == valueset::codes::MISSING_MASTER_KEY {
            message.push_str(": set VALUESET_MASTER_KEY (64 hex characters)");
        }
        Failure {
            code: e.code().to_owned(),
            message,
        }
    }
}

impl From<valueset::id::InvalidId> for Failure {
    fn from(e: valueset::id::InvalidId) -> Self {
        Error::from(e).into()
    }
}

impl From<valueset::error::InvalidInput> for Failure {
    fn from(e: valueset::error::InvalidInput) -> Self {
        Error::from(e).into()
    }
}

impl From<valueset::resolve::ResolveStrError> for Failure {
    fn from(e: valueset::resolve::ResolveStrError) -> Self {
        Error::from(e).into()
    }
}

fn fail(code: &str, message: impl Into<String>) -> Failure {
    Failure {
        code: code.to_owned(),
        message: message.into(),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                write_out(&e.to_string());
                return ExitCode::SUCCESS;
            }
            let message = e.render().to_string();
            print_error(false, "usage", message.trim());
            return ExitCode::from(2);
        }
    };
    match run(&cli) {
        Ok((doc, code)) => {
            if !doc.is_null() {
                write_out(&format!("{}\n", to_json(&doc, cli.pretty)));
            }
            ExitCode::from(code)
        }
        Err(f) => {
            print_error(cli.pretty, &f.code, &f.message);
            ExitCode::from(1)
        }
    }
}

/// Runs a command: the document it prints on stdout, and the exit code.
// One arm per command of docs/guide.md #valuesctl, each a few lines: the match reads as the
// command table, which splitting would scatter.
#[allow(clippy::too_many_lines)]
fn run(cli: &Cli) -> Result<(Value, u8), Failure> {
    if let Command::Parse { text } = &cli.command {
        return Ok(parse(text));
    }
    let changes_values = matches!(
        cli.command,
        Command::Set { .. }
            | Command::SetRef { .. }
            | Command::Delete { .. }
            | Command::Apply { .. }
            | Command::Restore { .. }
            | Command::Purge { .. }
    );
    if cli.expect.is_some() && !changes_values {
        return Err(fail(
            "usage",
            "--expect applies to the commands that change values: set, set-ref, delete, apply, restore, purge",
        ));
    }
    // A value typed on standard input is read before the store is opened,
    // so that someone typing a secret does not hold the store meanwhile.
    let mut typed = match &cli.command {
        Command::Set { value, .. } if value == "-" => Some(read_stdin()?),
        _ => None,
    };
    let store = open(cli)?;
    let doc = match &cli.command {
        Command::Parse { .. } => unreachable!("handled above"),
        Command::App(cmd) => match cmd {
            AppCommand::Create { app, name } => {
                let app = AppId::new(app.as_str())?;
                let name = name.clone();
                store.create_app_with(&actor(cli, Some(&app))?, &app, AppOptions { name })?;
                json!({ "app": app, "created": true })
            }
            AppCommand::Show { app } => {
                let app = AppId::new(app.as_str())?;
                json!(store.app(&actor(cli, Some(&app))?, &app)?)
            }
            AppCommand::Delete { app } => {
                let app = AppId::new(app.as_str())?;
                let outcome = store.delete_app(&actor(cli, Some(&app))?, &app)?;
                deleted(json!({ "app": app, "deleted": true }), outcome)
            }
            AppCommand::List => json!(store.apps(&actor(cli, None)?)?),
        },
        Command::Env(cmd) => match cmd {
            EnvCommand::Create {
                app,
                env,
                name,
                env_type,
            } => {
                let (app, env) = (AppId::new(app.as_str())?, EnvId::new(env.as_str())?);
                let options = EnvOptions {
                    name: name.clone(),
                    env_type: env_type.clone(),
                };
                store.create_env_with(&actor(cli, Some(&app))?, &app, &env, options)?;
                json!({ "app": app, "env": env, "created": true })
            }
            EnvCommand::Show { app, env } => {
                let (app, env) = (AppId::new(app.as_str())?, EnvId::new(env.as_str())?);
                json!(store.env(&actor(cli, Some(&app))?, &app, &env)?)
            }
            EnvCommand::Delete { app, env } => {
                let (app, env) = (AppId::new(app.as_str())?, EnvId::new(env.as_str())?);
                let outcome = store.delete_env(&actor(cli, Some(&app))?, &app, &env)?;
                deleted(json!({ "app": app, "env": env, "deleted": true }), outcome)
            }
            EnvCommand::List { app } => {
                let app = AppId::new(app.as_str())?;
                json!(store.envs(&actor(cli, Some(&app))?, &app)?)
            }
        },
        Command::Set {
            app,
            key,
            value,
            scope,
            secret,
            template,
            description,
            comment,
            dry_run,
        } => {
            let app = AppId::new(app.as_str())?;
            let text = typed.take().unwrap_or_else(|| value.clone());
            let value = if *secret {
                NewValue::secret(Secret::new(text))
            } else if *template {
                NewValue::template(text)
            } else {
                NewValue::plain(text)
            };
            let options = SetOptions {
                description: description.clone(),
                comment: comment.clone(),
                expect: expected(cli)?,
            };
            let (env, actor, key) = (
                env(scope)?,
                actor(cli, Some(&app))?,
                Key::new(key.as_str())?,
            );
            let env = env.as_ref();
            let made = if *dry_run {
                let dry = store.dry_run();
                dry.set(&actor, &app, env, &key, value, options)?.version
            } else {
                store.set(&actor, &app, env, &key, value, options)?
            };
            version_doc(&made, *dry_run)
        }
        Command::SetRef {
            app,
            key,
            secret_store,
            reference,
            ref_version,
            scope,
        } => {
            let app = AppId::new(app.as_str())?;
            let mut r = SecretRef::new(reference.as_str());
            r.version.clone_from(ref_version);
            let options = SetOptions {
                expect: expected(cli)?,
                ..SetOptions::default()
            };
            let value = NewValue::secret_ref(secret_store.as_str(), r);
            json!(store.set(
                &actor(cli, Some(&app))?,
                &app,
                env(scope)?.as_ref(),
                &Key::new(key.as_str())?,
                value,
                options
            )?)
        }
        Command::Get { app, key, scope } => {
            let app = AppId::new(app.as_str())?;
            let env = env(scope)?;
            json!(store.get(
                &actor(cli, Some(&app))?,
                &app,
                env.as_ref(),
                &Key::new(key.as_str())?,
            )?)
        }
        Command::List { app, scope } => {
            let app = AppId::new(app.as_str())?;
            let env = env(scope)?;
            json!(store.list(&actor(cli, Some(&app))?, &app, env.as_ref())?)
        }
        Command::Delete {
            app,
            key,
            scope,
            cascade,
            dry_run,
        } => {
            let app = AppId::new(app.as_str())?;
            let options = DeleteOptions {
                cascade: *cascade,
                expect: expected(cli)?,
                ..DeleteOptions::default()
            };
            let (env, actor, key) = (
                env(scope)?,
                actor(cli, Some(&app))?,
                Key::new(key.as_str())?,
            );
            let env = env.as_ref();
            let made = if *dry_run {
                store
                    .dry_run()
                    .delete(&actor, &app, env, &key, options)?
                    .version
            } else {
                store.delete(&actor, &app, env, &key, options)?
            };
            version_doc(&made, *dry_run)
        }
        Command::Apply {
            app,
            file,
            scope,
            dry_run,
        } => {
            let app = AppId::new(app.as_str())?;
            let text = read_file(file)?;
            let batch: BatchFile =
                parse_object(&text).map_err(|e| malformed("invalid_batch", "batch", file, &e))?;
            let mut changes = ChangeSet::new();
            if batch.delete_all {
                changes = changes.delete_all();
            }
            for key in &batch.delete {
                changes = changes.delete(Key::new(key.as_str())?);
            }
            for (key, v) in batch.set {
                let description = v.description.clone();
                changes = changes.set_described(Key::new(key)?, v.into_new_value()?, description);
            }
            let options = DeleteOptions {
                comment: batch.comment,
                expect: expected(cli)?,
                ..DeleteOptions::default()
            };
            let (env, actor) = (env(scope)?, actor(cli, Some(&app))?);
            let env = env.as_ref();
            let made = if *dry_run {
                store
                    .dry_run()
                    .apply(&actor, &app, env, changes, options)?
                    .version
            } else {
                store.apply(&actor, &app, env, changes, options)?
            };
            version_doc(&made, *dry_run)
        }
        Command::History {
            app,
            scope,
            key_changed,
            limit,
        } => {
            let app = AppId::new(app.as_str())?;
            let env = env(scope)?;
            let options = HistoryOptions {
                key_changed: key_changed.as_deref().map(Key::new).transpose()?,
                limit: *limit,
                ..HistoryOptions::default()
            };
            json!(store.history(&actor(cli, Some(&app))?, &app, env.as_ref(), options)?)
        }
        Command::Diff {
            app,
            from,
            to,
            scope,
        } => {
            let app = AppId::new(app.as_str())?;
            let env = env(scope)?;
            let (from, to) = (diff_side(from, env.as_ref())?, diff_side(to, env.as_ref())?);
            json!(store.diff(&actor(cli, Some(&app))?, &app, &from, &to)?)
        }
        Command::Tag {
            app,
            version,
            name,
            scope,
        } => {
            let app = AppId::new(app.as_str())?;
            let env = env(scope)?;
            let name = TagName::new(name.as_str())?;
            let actor = actor(cli, Some(&app))?;
            json!(store.tag(&actor, &app, env.as_ref(), version.parse()?, &name)?)
        }
        Command::Tags { app, scope } => {
            let app = AppId::new(app.as_str())?;
            json!(store.tags(&actor(cli, Some(&app))?, &app, env(scope)?.as_ref())?)
        }
        Command::Export {
            app,
            seal,
            history,
            out,
        } => {
            let app = AppId::new(app.as_str())?;
            let key = if *seal { Some(export_key()?) } else { None };
            let who = actor(cli, Some(&app))?;
            let doc = if *history {
                store.export_history(&who, &app, key.as_ref())?
            } else {
                store.export_app(&who, &app, key.as_ref())?
            };
            match out {
                Some(path) => {
                    std::fs::write(path, to_json(&json!(doc), true)).map_err(|e| {
                        fail("io", format!("could not write `{}`: {e}", path.display()))
                    })?;
                    json!({ "app": app, "exported": true, "out": path })
                }
                None => json!(doc),
            }
        }
        Command::Import { file } => {
            let text = read_file(file)?;
            let doc: valueset::store::ExportDocument = parse_object(&text)
                .map_err(|e| malformed("invalid_export", "export document", file, &e))?;
            let key = if doc.secrets == valueset::store::ExportSecrets::Sealed {
                Some(export_key()?)
            } else {
                None
            };
            store.import_app(&actor(cli, Some(&doc.app))?, &doc, key.as_ref())?;
            json!({ "app": doc.app, "imported": true })
        }
        Command::Show {
            app,
            version,
            scope,
        } => {
            let app = AppId::new(app.as_str())?;
            let env = env(scope)?;
            let v = store.version(
                &actor(cli, Some(&app))?,
                &app,
                env.as_ref(),
                version.parse()?,
            )?;
            let mut doc = json!(v.info);
            doc["values"] = json!(v.values);
            doc
        }
        Command::Restore {
            app,
            version,
            scope,
            keys,
            comment,
            dry_run,
        } => {
            let app = AppId::new(app.as_str())?;
            let keys = if keys.is_empty() {
                RestoreKeys::All
            } else {
                RestoreKeys::Only(
                    keys.iter()
                        .map(|k| Key::new(k.as_str()))
                        .collect::<Result<_, _>>()?,
                )
            };
            let options = WriteOptions {
                comment: comment.clone(),
                expect: expected(cli)?,
            };
            let (env, actor) = (env(scope)?, actor(cli, Some(&app))?);
            let (env, version) = (env.as_ref(), version.parse()?);
            let made = if *dry_run {
                let dry = store.dry_run();
                dry.restore(&actor, &app, env, version, keys, options)?
                    .version
            } else {
                store.restore(&actor, &app, env, version, keys, options)?
            };
            version_doc(&made, *dry_run)
        }
        Command::Purge {
            app,
            version,
            key,
            scope,
            comment,
            dry_run,
        } => {
            let app = AppId::new(app.as_str())?;
            let version: VersionSelector = version.parse()?;
            let options = WriteOptions {
                comment: comment.clone(),
                expect: expected(cli)?,
            };
            let (actor, key) = (actor(cli, Some(&app))?, Key::new(key.as_str())?);
            let env = env(scope)?;
            let env = env.as_ref();
            if *dry_run {
                let preview = store
                    .dry_run()
                    .purge(&actor, &app, env, version, &key, options)?;
                json!({
                    "dry_run": true,
                    "version": version_doc(&preview.version, true),
                    "value": preview.value,
                    "versions": preview.versions,
                    "tags": preview.tags,
                })
            } else {
                let outcome = store.purge(&actor, &app, env, version, &key, options)?;
                let mut doc = json!(outcome.version);
                // The purge stands; the value leaves the disk with the next
                // `valuesctl compact`.
                if let Some(e) = outcome.compaction {
                    doc["compaction_error"] =
                        json!({ "error": e.code(), "message": e.to_string() });
                }
                doc
            }
        }
        Command::Resolve {
            app,
            env,
            template,
            workload,
            version,
            reveal_secrets,
        } => {
            let app = AppId::new(app.as_str())?;
            let env = EnvId::new(env.as_str())?;
            let version = match version {
                Some(v) => v.parse()?,
                None => VersionSelector::Latest,
            };
            let actor = actor(cli, Some(&app))?;
            if let Some(text) = template {
                let snapshot = store.snapshot(&actor, &app, &env, version)?;
                shown(&snapshot.resolver().resolve_str(text)?, *reveal_secrets)
            } else {
                let path = workload
                    .as_ref()
                    .ok_or_else(|| fail("usage", "give --template or --workload"))?;
                let text = read_file(path)?;
                let workload: Workload = parse_object(&text)
                    .map_err(|e| malformed("invalid_workload", "workload", path, &e))?;
                // Only the values the workload can reach are read.
                let snapshot = store.snapshot_for(&actor, &app, &env, version, &workload)?;
                let out = snapshot
                    .resolver()
                    .resolve_workload(&workload)
                    .map_err(Error::from)?;
                let reveal = *reveal_secrets;
                let map = |m: &BTreeMap<String, Resolved<'_>>| -> Value {
                    m.iter()
                        .map(|(k, v)| (k.clone(), shown(v, reveal)))
                        .collect::<serde_json::Map<_, _>>()
                        .into()
                };
                json!({
                    "variables": map(&out.variables),
                    "files": out.files.iter().map(|(k, f)| {
                        let mut v = shown(&f.content, reveal);
                        v["mode"] = json!(f.mode);
                        (k.clone(), v)
                    }).collect::<serde_json::Map<_, _>>(),
                    "labels": out.labels.iter().map(|(k, v)| (k.clone(), json!({ "value": v, "secret": false }))).collect::<serde_json::Map<_, _>>(),
                    "webhooks": out.webhooks.iter().map(|(k, w)| (k.clone(), json!({
                        "url": shown(&w.url, reveal),
                        "headers": map(&w.headers),
                    }))).collect::<serde_json::Map<_, _>>(),
                })
            }
        }
        Command::Watch {
            app,
            scope,
            from,
            count,
            idle_timeout,
        } => {
            let app = AppId::new(app.as_str())?;
            let options = WatchOptions {
                env: env(scope)?,
                from: from.as_deref().map(str::parse).transpose()?,
            };
            let mut watch = store.watch(&actor(cli, Some(&app))?, &app, options)?;
            let wait = idle_timeout.map_or(Duration::from_secs(3600), Duration::from_secs_f64);
            let mut seen = 0;
            while count.is_none_or(|n| seen < n) {
                match watch.next_timeout(wait)? {
                    Some(event) => write_out(&format!("{}\n", to_json(&json!(event), false))),
                    None if idle_timeout.is_some() => break,
                    None => continue,
                }
                seen += 1;
            }
            Value::Null
        }
        Command::Verify { app: None } => json!(store.verify(&actor(cli, None)?)?),
        Command::Verify { app: Some(app) } => {
            let app = AppId::new(app.as_str())?;
            json!(store.verify_app(&actor(cli, Some(&app))?, &app)?)
        }
        Command::Compact => {
            store.compact(&actor(cli, None)?)?;
            json!({ "compacted": true })
        }
    };
    Ok((doc, 0))
}

/// What a deletion printed, with what failed after it, if anything: the
/// deletion stands either way.
fn deleted(mut doc: Value, outcome: valueset::store::DeleteOutcome) -> Value {
    if let Some(e) = outcome.compaction {
        doc["compaction_error"] = json!({ "error": e.code(), "message": e.to_string() });
    }
    if !outcome.secrets_not_deleted.is_empty() {
        let failed: Vec<Value> = outcome
            .secrets_not_deleted
            .iter()
            .map(|e| json!({ "error": e.code(), "message": e.to_string() }))
            .collect();
        doc["secrets_not_deleted"] = json!(failed);
    }
    doc
}

/// `{"value", "secret"}`; a secret's value is null unless revealed.
fn shown(r: &Resolved<'_>, reveal: bool) -> Value {
    match r {
        Resolved::Plain(text) => json!({ "value": text, "secret": false }),
        Resolved::Secret(s) if reveal => json!({ "value": s.expose_secret(), "secret": true }),
        Resolved::Secret(_) => json!({ "value": null, "secret": true }),
    }
}

/// Opens `--store`: a sled directory, or a `postgres://` URL when this build
/// has the `postgres` feature. Any other URL is an error, never a directory
/// named after it.
fn open(cli: &Cli) -> Result<Store, Failure> {
    // A command that says it changed the store has made the change durable.
    let mut builder = Store::builder().durable_changes(true);
    if let Ok(hex) = std::env::var("VALUESET_MASTER_KEY") {
        builder = builder.master_key(MasterKey::from_hex(&hex)?);
    }
    builder = with_vault(builder, &cli.managed_store)?;
    let location = cli.store.to_string_lossy();
    let Some((scheme, _)) = location.split_once("://") else {
        return Ok(builder.open(&cli.store)?);
    };
    match scheme {
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let backend =
                valueset::backend::PostgresBackend::connect(&location).map_err(Error::from)?;
            Ok(builder.open_with_backend(backend)?)
        }
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(fail(
            "unsupported_store",
            "this valuesctl was built without PostgreSQL: build it with `--features postgres`",
        )),
        other => Err(fail(
            "unsupported_store",
            format!("unknown store URL scheme `{other}`: give a directory or a postgres:// URL"),
        )),
    }
}

/// The store `vault` whenever `VAULT_ADDR` is set (configured as Vault's
/// own tools are): for references, and for submitted secrets with
/// `--managed-store vault`.
#[cfg(feature = "vault")]
fn with_vault(builder: StoreBuilder, managed: &str) -> Result<StoreBuilder, Failure> {
    let vault = valueset::secret::VaultSecretStore::from_env()
        .map_err(|e| fail("invalid_vault_config", e.to_string()))?;
    match (vault, managed) {
        (Some(vault), "vault") => Ok(builder.secret_store(vault)),
        (Some(vault), "builtin") => Ok(builder.reference_store(vault)),
        (None, "vault") => Err(fail(
            "invalid_vault_config",
            "--managed-store vault needs VAULT_ADDR (and VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID)",
        )),
        (None, "builtin") => Ok(builder),
        (_, other) => Err(unknown_managed_store(other)),
    }
}

/// Without the `vault` feature there is no Vault store.
#[cfg(not(feature = "vault"))]
fn with_vault(builder: StoreBuilder, managed: &str) -> Result<StoreBuilder, Failure> {
    match managed {
        "builtin" => Ok(builder),
        "vault" => Err(fail(
            "unsupported_store",
            "this valuesctl was built without Vault: build it with `--features vault`",
        )),
        other => Err(unknown_managed_store(other)),
    }
}

fn unknown_managed_store(name: &str) -> Failure {
    fail(
        "unknown_secret_store",
        format!("unknown managed store `{name}`: use builtin or vault"),
    )
}

/// The key that seals an export, from `VALUESET_EXPORT_KEY`.
fn export_key() -> Result<MasterKey, Failure> {
    let hex = std::env::var("VALUESET_EXPORT_KEY").map_err(|_| {
        fail(
            "missing_export_key",
            "set VALUESET_EXPORT_KEY to 64 hex characters (the same on both sides)",
        )
    })?;
    Ok(MasterKey::from_hex(&hex)?)
}

fn actor(cli: &Cli, app: Option<&AppId>) -> Result<Actor, Failure> {
    let org = |role| Ok(Actor::new(cli.actor.as_str(), role));
    let on_app = |role| {
        let actor = Actor::new(cli.actor.as_str(), OrgRole::Member);
        Ok(match app {
            Some(app) => actor.with_app_role(app.clone(), role),
            None => actor,
        })
    };
    match cli.role.as_str() {
        "admin" => org(OrgRole::Administrator),
        "manager" => org(OrgRole::Manager),
        "member" => org(OrgRole::Member),
        "owner" => on_app(AppRole::Owner),
        "developer" => on_app(AppRole::Developer),
        "viewer" => on_app(AppRole::Viewer),
        other => Err(fail(
            "invalid_role",
            format!(
                "unknown role `{other}`: use admin, manager, member, owner, developer or viewer"
            ),
        )),
    }
}

/// `--expect`, parsed.
fn expected(cli: &Cli) -> Result<Option<VersionId>, Failure> {
    Ok(cli.expect.as_deref().map(str::parse).transpose()?)
}

/// A version as the commands that make one print it; a dry run's has no
/// id (nothing was made) and says `"dry_run": true`.
fn version_doc(version: &valueset::model::VersionInfo, dry_run: bool) -> Value {
    let mut doc = json!(version);
    if dry_run && let Some(map) = doc.as_object_mut() {
        map.remove("id");
        map.insert("dry_run".into(), Value::Bool(true));
    }
    doc
}

/// A side of `diff`: `env:NAME` (that Environment's latest), or a version
/// (or `latest`) of `env`'s history, the App's without one.
fn diff_side(text: &str, env: Option<&EnvId>) -> Result<DiffSide, Failure> {
    if let Some(name) = text.strip_prefix("env:") {
        return Ok(DiffSide::env(EnvId::new(name)?, VersionSelector::Latest));
    }
    let version: VersionSelector = text.parse()?;
    Ok(match env {
        Some(env) => DiffSide::env(env.clone(), version),
        None => DiffSide::app(version),
    })
}

fn env(scope: &EnvArg) -> Result<Option<EnvId>, Failure> {
    Ok(scope.env.as_deref().map(EnvId::new).transpose()?)
}

fn read_file(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| fail("io", format!("could not read `{}`: {e}", path.display())))
}

/// A JSON object of type `T`. serde would also take a struct from an array
/// (`[]` as an empty batch), which no file of valuesctl's is.
fn parse_object<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let value: serde_json::Map<String, Value> = serde_json::from_str(text)?;
    serde_json::from_value(Value::Object(value))
}

/// A file that is not the JSON its command reads. serde's own message can
/// quote the text it could not parse, which may be a secret, so this says
/// only where and what kind of problem it is.
fn malformed(code: &str, what: &str, path: &std::path::Path, e: &serde_json::Error) -> Failure {
    let problem = match e.classify() {
        serde_json::error::Category::Io => "could not be read",
        serde_json::error::Category::Syntax => "is not valid JSON",
        serde_json::error::Category::Eof => "ends too early",
        serde_json::error::Category::Data => "does not have the shape of a",
    };
    let shape = if e.is_data() {
        format!(" {what} (see the guide's valuesctl section)")
    } else {
        String::new()
    };
    fail(
        code,
        format!(
            "`{}` {problem}{shape}, at line {}, column {}",
            path.display(),
            e.line(),
            e.column()
        ),
    )
}

fn read_stdin() -> Result<String, Failure> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| {
        fail(
            "io",
            format!("could not read the value from standard input: {e}"),
        )
    })?;
    Ok(text)
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
            // The first errors, and how many more: a template with 200,000
            // broken placeholders prints a short document.
            let listed: Vec<Value> = errors
                .iter()
                .take(MAX_LISTED_ERRORS)
                .map(|e| {
                    json!({
                        "span": [e.span().start, e.span().end],
                        "code": e.kind().code(),
                        "message": e.kind().to_string(),
                    })
                })
                .collect();
            let more = errors.len() - listed.len();
            let mut doc = json!({ "errors": listed });
            if more > 0 {
                doc["more"] = json!(more);
            }
            (doc, 1)
        }
    }
}

/// How many template errors `parse` lists; a `"more"` count follows.
const MAX_LISTED_ERRORS: usize = 100;

fn to_json(doc: &Value, pretty: bool) -> String {
    let printed = if pretty {
        serde_json::to_string_pretty(doc)
    } else {
        serde_json::to_string(doc)
    };
    printed.unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
}

/// Writes to stdout; a closed pipe (`valuesctl … | head`) is not an error.
fn write_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Prints `{"error", "message"}` on stderr.
fn print_error(pretty: bool, code: &str, message: &str) {
    let doc = to_json(&json!({ "error": code, "message": message }), pretty);
    let _ = writeln!(std::io::stderr().lock(), "{doc}");
}

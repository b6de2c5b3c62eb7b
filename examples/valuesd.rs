//! `valuesd`: valueset as a service, speaking Humanitec's Shared Values API
//! over HTTP (guide: The service).
//!
//! ```text
//! VALUESET_MASTER_KEY=… cargo run --features http --example valuesd -- \
//!     --store ./store --listen 127.0.0.1:8080 --org my-org
//! ```
//!
//! `--store` takes a directory (an embedded sled store) or a `postgres://`
//! URL (built with `--features http,postgres`), which many replicas share.
//! Without `--tokens`, the tokens file is `valuesd-tokens.json` in the
//! working directory; the first start writes it with one administrator
//! token and prints that token once. SIGTERM or Ctrl-C stop taking new
//! connections and let requests in flight finish.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use valueset::http::{self, ServeOptions, ServiceOptions, Shutdown, Tokens};
use valueset::store::StoreBuilder;
use valueset::{MasterKey, Store};

/// valueset's HTTP service: Humanitec's Shared Values API.
#[derive(Debug, Parser)]
#[command(name = "valuesd")]
struct Cli {
    /// A store directory, or a postgres:// URL.
    #[arg(long)]
    store: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The organization served (the `{orgId}` of every path).
    #[arg(long)]
    org: String,
    /// The tokens file (SHA-256 hashes of tokens, with actors and roles).
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = http::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// How long to wait for a request (its body read, its answer made), in
    /// seconds.
    #[arg(long, default_value_t = http::DEFAULT_REQUEST_TIMEOUT.as_secs())]
    request_timeout: u64,
    /// How many event streams to follow at once (one more is answered 503
    /// with `Retry-After`).
    #[arg(long, default_value_t = http::DEFAULT_MAX_SUBSCRIBERS)]
    max_subscribers: usize,
    /// Where submitted secrets go: `builtin` (the store's own, sealed with
    /// `VALUESET_MASTER_KEY`) or `vault` (`VAULT_ADDR`, with the `vault`
    /// feature). Whenever `VAULT_ADDR` is set, the store `vault` is there
    /// for references.
    #[arg(
        long = "managed-store",
        value_name = "STORE",
        default_value = "builtin"
    )]
    managed_store: String,
    /// How long a web page session lasts, in seconds.
    #[arg(long, default_value_t = http::DEFAULT_SESSION_TTL.as_secs())]
    session_ttl: u64,
    /// Mark the web page's session cookie `Secure`: set it when the service
    /// is reached through a TLS proxy.
    #[arg(long)]
    secure_cookies: bool,
    /// How many unknown tokens one address may give in a minute before its
    /// requests are refused (429) for the rest of it; 0 refuses no one.
    #[arg(long, default_value_t = http::DEFAULT_FAILED_TOKENS)]
    failed_tokens: u32,
    /// How long a client may take to send a request's head, in seconds;
    /// the connection is closed after it.
    #[arg(long, default_value_t = http::DEFAULT_HEADER_TIMEOUT.as_secs())]
    header_timeout: u64,
    /// How many connections are open at once; more wait to be accepted.
    #[arg(long, default_value_t = http::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(open(&cli.store, &cli.managed_store)?);
    let tokens = tokens(cli.tokens)?;
    let shutdown = Shutdown::new();
    let mut options = ServiceOptions::default();
    options.body_limit = cli.body_limit;
    options.request_timeout = std::time::Duration::from_secs(cli.request_timeout);
    options.max_subscribers = cli.max_subscribers;
    options.shutdown = shutdown.clone();
    options.session_ttl = std::time::Duration::from_secs(cli.session_ttl);
    options.secure_cookies = cli.secure_cookies;
    options.failed_tokens = cli.failed_tokens;
    // Every replica that holds the master key signs page sessions alike, so
    // a person stays signed in whichever replica answers.
    if let Ok(hex) = std::env::var("VALUESET_MASTER_KEY") {
        options.session_key = http::SessionKey::from_master_key(&MasterKey::from_hex(&hex)?);
    }
    let router = http::router(store, &cli.org, tokens, options)?;
    let mut serving = ServeOptions::default();
    serving.header_timeout = std::time::Duration::from_secs(cli.header_timeout);
    serving.max_connections = cli.max_connections;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(cli.listen).await?;
        tracing::info!(listen = %listener.local_addr()?, org = cli.org, "valuesd serving");
        // A request's head within the header timeout, a bounded number of
        // connections, and each request knows its client's address (token
        // guessing is refused per address).
        http::serve(listener, router, serving, async move {
            stopped().await;
            // Event streams end; requests in flight finish.
            shutdown.trigger();
        })
        .await?;
        tracing::info!("valuesd stopped");
        Ok(())
    })
}

/// Resolves at SIGTERM or Ctrl-C.
async fn stopped() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = tokio::signal::unix::SignalKind::terminate();
        let Ok(mut term) = tokio::signal::unix::signal(terminate) else {
            return ctrl_c.await.unwrap_or(());
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}

fn open(location: &str, managed: &str) -> Result<Store, Box<dyn std::error::Error>> {
    // A change is acknowledged only once it is durable.
    let mut builder = Store::builder().durable_changes(true);
    if let Ok(hex) = std::env::var("VALUESET_MASTER_KEY") {
        builder = builder.master_key(MasterKey::from_hex(&hex)?);
    }
    builder = with_vault(builder, managed)?;
    match location.split_once("://") {
        None => Ok(builder.open(location)?),
        #[cfg(feature = "postgres")]
        Some(("postgres" | "postgresql", _)) => {
            let backend = valueset::backend::PostgresBackend::connect(location)
                .map_err(valueset::Error::from)?;
            Ok(builder.open_with_backend(backend)?)
        }
        Some((scheme, _)) => Err(format!(
            "cannot open a `{scheme}://` store: give a directory, or a postgres:// URL to a \
             valuesd built with `--features http,postgres`"
        )
        .into()),
    }
}

/// The tokens: from the file given, or from `valuesd-tokens.json`, which
/// the first start writes with one administrator token.
fn tokens(path: Option<PathBuf>) -> Result<Tokens, Box<dyn std::error::Error>> {
    if let Some(path) = path {
        return Ok(Tokens::load(&path)?);
    }
    let path = PathBuf::from("valuesd-tokens.json");
    if path.exists() {
        return Ok(Tokens::load(&path)?);
    }
    let (tokens, token) = Tokens::create(&path, "admin")?;
    // Printed once, to the terminal that started the service; the file
    // holds only its hash.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "valuesd: wrote {} with one administrator token:",
            path.display()
        );
        println!("{token}");
    }
    Ok(tokens)
}

/// The store `vault` whenever `VAULT_ADDR` is set (configured as Vault's
/// own tools are): for references, and for submitted secrets with
/// `--managed-store vault`.
#[cfg(feature = "vault")]
fn with_vault(
    builder: StoreBuilder,
    managed: &str,
) -> Result<StoreBuilder, Box<dyn std::error::Error>> {
    match (valueset::secret::VaultSecretStore::from_env()?, managed) {
        (Some(vault), "vault") => Ok(builder.secret_store(vault)),
        (Some(vault), "builtin") => Ok(builder.reference_store(vault)),
        (None, "vault") => Err("--managed-store vault needs VAULT_ADDR (and VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID)".into()),
        (None, "builtin") => Ok(builder),
        (_, other) => Err(format!("unknown managed store `{other}`: use builtin or vault").into()),
    }
}

/// Without the `vault` feature there is no Vault store.
#[cfg(not(feature = "vault"))]
fn with_vault(
    builder: StoreBuilder,
    managed: &str,
) -> Result<StoreBuilder, Box<dyn std::error::Error>> {
    match managed {
        "builtin" => Ok(builder),
        "vault" => Err(
            "this valuesd was built without Vault: build it with `--features http,vault`".into(),
        ),
        other => Err(format!("unknown managed store `{other}`: use builtin or vault").into()),
    }
}

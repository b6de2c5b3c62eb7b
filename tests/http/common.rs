//! A service on a loopback port over an in-memory store, with tokens of
//! each role, and a client for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use valueset::backend::{Backend, BackendError, BackendErrorKind, Batch, MemoryBackend, Visit};
use valueset::http::{self, ServeOptions, ServiceOptions, Tokens, token_hash};
use valueset::{MasterKey, Store};

/// The organization every test server serves.
pub(crate) const ORG: &str = "acme";
/// Org Administrator.
pub(crate) const ADMIN: &str = "admin-token";
/// Developer on `shop`.
pub(crate) const DEV: &str = "dev-token";
/// Viewer on `shop`.
pub(crate) const VIEWER: &str = "viewer-token";
/// A secret that must never come back from the service.
pub(crate) const CANARY: &str = "canary-3c1f-never-shown";

pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) backend: Arc<Away>,
    agent: ureq::Agent,
    _runtime: tokio::runtime::Runtime,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: ureq::http::HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    /// The error code of an error reply, after checking its shape.
    pub(crate) fn code(&self) -> String {
        let body = self.json();
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body["error"].as_str().unwrap_or_default().to_owned()
    }
}

impl Server {
    pub(crate) fn start() -> Server {
        Server::with_options(ServiceOptions::default())
    }

    pub(crate) fn with_options(options: ServiceOptions) -> Server {
        Server::over(Arc::new(Away::default()), options)
    }

    /// A server over `backend`: another replica of the servers over it.
    pub(crate) fn over(backend: Arc<Away>, options: ServiceOptions) -> Server {
        Server::build(backend, options, Store::builder(), ServeOptions::default())
    }

    /// A server that takes connections as `serving` says.
    pub(crate) fn serving(serving: ServeOptions) -> Server {
        let backend = Arc::new(Away::default());
        Server::build(
            backend,
            ServiceOptions::default(),
            Store::builder(),
            serving,
        )
    }

    /// A server whose store is made by `builder` (and a master key).
    #[cfg_attr(not(feature = "vault"), allow(dead_code))]
    pub(crate) fn with_builder(builder: valueset::StoreBuilder) -> Server {
        Server::build(
            Arc::new(Away::default()),
            ServiceOptions::default(),
            builder,
            ServeOptions::default(),
        )
    }

    /// A server whose store also reads from the reference store `aaa`,
    /// which never answers.
    pub(crate) fn with_broken_reference_store() -> Server {
        let builder = Store::builder().reference_store(Broken);
        Server::build(
            Arc::new(Away::default()),
            ServiceOptions::default(),
            builder,
            ServeOptions::default(),
        )
    }

    fn build(
        backend: Arc<Away>,
        options: ServiceOptions,
        builder: valueset::StoreBuilder,
        serving: ServeOptions,
    ) -> Server {
        capture_logs();
        let key = "0707070707070707070707070707070707070707070707070707070707070707";
        let store = builder
            .master_key(MasterKey::from_hex(key).unwrap())
            .open_with_backend(Arc::clone(&backend))
            .unwrap();
        let tokens = format!(
            r#"{{"tokens": [
                {{"sha256": "{}", "actor": "root", "org_role": "administrator"}},
                {{"sha256": "{}", "actor": "dana", "org_role": "member", "app_roles": {{"shop": "developer"}}}},
                {{"sha256": "{}", "actor": "vic", "org_role": "member", "app_roles": {{"shop": "viewer"}}}}
            ]}}"#,
            token_hash(ADMIN),
            token_hash(DEV),
            token_hash(VIEWER)
        );
        let tokens = Tokens::parse(&tokens).unwrap();
        let router = http::router(Arc::new(store), ORG, tokens, options).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(http::serve(
            listener,
            router,
            serving,
            std::future::pending(),
        ));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Server {
            base,
            backend,
            agent,
            _runtime: runtime,
        }
    }

    /// A request with `token` (none when `None`), extra headers and a
    /// body sent as is; its reply must not hold the canary.
    pub(crate) fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let reply = self.revealing(method, path, token, headers, body);
        assert!(
            !reply.text.contains(CANARY),
            "{method} {path} answered the canary"
        );
        reply
    }

    /// Follows an event stream: its lines, as they come, on a channel.
    pub(crate) fn follow(&self, path: &str, token: &str, last_event_id: Option<&str>) -> Feed {
        self.try_follow(path, token, last_event_id)
            .unwrap_or_else(|status| panic!("{path}: {status}"))
    }

    /// [`follow`](Self::follow), or the status of a refusal.
    pub(crate) fn try_follow(
        &self,
        path: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Result<Feed, u16> {
        let mut req = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let response = req.call().unwrap();
        if response.status().as_u16() != 200 {
            return Err(response.status().as_u16());
        }
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let reader = std::io::BufReader::new(response.into_body().into_reader());
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Feed {
            lines: rx,
            heartbeats: 0,
        })
    }

    /// A request whose reply may hold the canary: one that asks for
    /// secrets and may see them.
    pub(crate) fn revealing(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let typed = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !typed {
            req = req.header("Content-Type", "application/json");
        }
        let response = match body {
            Some(text) => self.agent.run(req.body(text.to_owned()).unwrap()),
            None => self.agent.run(req.body(()).unwrap()),
        };
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap();
        Reply {
            status,
            headers,
            text,
        }
    }

    /// A request as `token` with a JSON body (or none).
    pub(crate) fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        let text = body.map(|b| b.to_string());
        self.raw(method, path, Some(token), &[], text.as_deref())
    }

    /// The org's path with `rest` after it.
    pub(crate) fn org(rest: &str) -> String {
        format!("/orgs/{ORG}{rest}")
    }

    /// A request as the administrator, which must answer `status`; its
    /// JSON (`null` for an empty body).
    pub(crate) fn ok(&self, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
        let reply = self.call(method, &Server::org(path), ADMIN, body);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text);
        if reply.text.is_empty() {
            Value::Null
        } else {
            reply.json()
        }
    }

    /// `shop` with the Environments `development` and `prod`.
    pub(crate) fn shop(&self) {
        self.ok(
            "POST",
            "/apps",
            Some(json!({"id": "shop", "name": "Shop"})),
            201,
        );
        let prod = json!({"id": "prod", "name": "Production", "type": "production"});
        self.ok("POST", "/apps/shop/envs", Some(prod), 201);
    }
}

/// A backend that can be taken away (every call fails as a lost database
/// does) and brought back.
#[derive(Debug, Default)]
pub(crate) struct Away {
    inner: MemoryBackend,
    away: AtomicBool,
}

impl Away {
    pub(crate) fn set_away(&self, away: bool) {
        self.away.store(away, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), BackendError> {
        if self.away.load(Ordering::SeqCst) {
            return Err(BackendError::with_kind(
                BackendErrorKind::Unavailable,
                "the database is away",
            ));
        }
        Ok(())
    }
}

impl Backend for Away {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.check()?;
        self.inner.get(key)
    }
    fn scan(&self, s: &[u8], e: &[u8], r: bool, v: &mut Visit<'_>) -> Result<(), BackendError> {
        self.check()?;
        self.inner.scan(s, e, r, v)
    }
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        self.check()?;
        self.inner.apply(batch)
    }
}

/// An event stream being read.
pub(crate) struct Feed {
    lines: std::sync::mpsc::Receiver<String>,
    pub(crate) heartbeats: usize,
}

/// One server-sent event.
#[derive(Debug)]
pub(crate) struct SseEvent {
    pub(crate) id: String,
    pub(crate) event: String,
    pub(crate) data: Value,
}

impl Feed {
    /// The next event, waiting at most `wait`; `None` if none came or the
    /// stream ended.
    pub(crate) fn next(&mut self, wait: std::time::Duration) -> Option<SseEvent> {
        let deadline = std::time::Instant::now() + wait;
        let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            if line.is_empty() {
                if !data.is_empty() {
                    let data = serde_json::from_str(&data).unwrap();
                    return Some(SseEvent { id, event, data });
                }
                continue;
            }
            assert!(!line.contains(CANARY), "an event held the canary");
            if line.starts_with(':') {
                self.heartbeats += 1;
            } else if let Some(v) = line.strip_prefix("id:") {
                v.trim().clone_into(&mut id);
            } else if let Some(v) = line.strip_prefix("event:") {
                v.trim().clone_into(&mut event);
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    }

    /// Whether the stream ended (the server closed it) within `wait`.
    pub(crate) fn ended(&mut self, wait: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(_) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}

/// A reference store that cannot be reached.
#[derive(Debug)]
pub(crate) struct Broken;

impl valueset::secret::SecretStore for Broken {
    fn id(&self) -> &'static str {
        "aaa"
    }

    fn get(
        &self,
        _: &valueset::secret::SecretRef,
    ) -> Result<valueset::Secret, valueset::secret::SecretStoreError> {
        Err(valueset::secret::SecretStoreError::Unavailable {
            store: "aaa".into(),
            message: "down".into(),
        })
    }
}

/// `shop` with an App value, a secret and a prod override: App versions
/// `a1`, `a2` and `a4`, and `e3` of prod.
pub(crate) fn shop_with_values(s: &Server) {
    s.shop();
    let host = json!({"key": "DB_HOST", "value": "db.internal", "description": "where the db is", "is_secret": false});
    s.ok("POST", "/apps/shop/values", Some(host), 201);
    let secret =
        json!({"key": "DB_PASSWORD", "value": CANARY, "is_secret": true, "description": "db"});
    s.ok("POST", "/apps/shop/values", Some(secret), 201);
    let over =
        json!({"key": "DB_HOST", "value": "db.prod", "description": null, "is_secret": false});
    s.ok("POST", "/apps/shop/envs/prod/values", Some(over), 201);
    let changed =
        json!({"value": "db2.internal", "description": "where the db is", "is_secret": false});
    s.ok("PUT", "/apps/shop/values/DB_HOST", Some(changed), 200);
}

/// Every log line of every server in this binary, at every level.
static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every event, trace level included, to [`captured_logs`].
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .try_init();
    });
}

/// What the servers of this binary logged so far.
pub(crate) fn captured_logs() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned()
}

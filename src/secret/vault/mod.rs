//! [`VaultSecretStore`]: secrets in HashiCorp Vault or OpenBao, in a KV
//! version 2 engine (guide: [Secrets in Vault](crate::_documentation::guide#secrets-in-vault)).
//!
//! A reference is `PATH#FIELD` under the configured mount, with a KV
//! version or the latest. As the managed store, the library's secrets go
//! to `PREFIX/APP/LEVEL/KEY`, field `value`: each new secret of a key a new
//! KV version, written with check-and-set; a purge destroys that version;
//! deleting an App or Environment deletes its paths whole. Paths outside
//! the prefix are the owner's: read, never written or deleted.
//!
//! The files: `config` (settings, from Vault's environment variables),
//! `client` (one HTTP request and its answer), `auth` (token or AppRole,
//! renewed), `path` (references and URL paths), and this one (the
//! [`SecretStore`] calls).

mod auth;
mod client;
mod config;
mod path;

use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use serde_json::{Value, json};

use self::auth::{Auth, AuthFailure};
use self::client::{Answer, Client, Method};
use self::path::{Target, VALUE_FIELD, encoded};
pub use config::{DEFAULT_VAULT_ID, VaultAuth, VaultConfig, VaultConfigError};

use super::{Secret, SecretRef, SecretStore, SecretStoreError, SecretStoreInfo};

/// How often a write tries again when another writer added a version of
/// the same path between its read of the current version and its write;
/// between tries it waits a random while, up to twice as long each time.
const CAS_TRIES: u32 = 16;

/// A [`SecretStore`] in Vault's (or OpenBao's) KV version 2 engine.
///
/// ```no_run
/// use valueset::secret::{VaultSecretStore, VaultConfig};
///
/// // VAULT_ADDR, and VAULT_TOKEN or VAULT_ROLE_ID and VAULT_SECRET_ID.
/// let config = VaultConfig::from_env()?.expect("VAULT_ADDR is set");
/// let vault = VaultSecretStore::new(config)?;
/// let store = valueset::Store::builder()
///     .secret_store(vault)
///     .in_memory()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct VaultSecretStore {
    id: String,
    client: Client,
    auth: Auth,
    mount: String,
    prefix: String,
    concurrency: usize,
}

impl VaultSecretStore {
    /// A store as `config` says. Nothing is asked of the server until a
    /// secret is.
    ///
    /// # Errors
    ///
    /// [`VaultConfigError`] for an address that is not `http://` or
    /// `https://`, a mount or prefix that is not a clean path, or a CA
    /// file that cannot be read or holds no certificate.
    pub fn new(config: VaultConfig) -> Result<Self, VaultConfigError> {
        config.check()?;
        let client = Client::new(&config)?;
        Ok(VaultSecretStore {
            id: config.id,
            client,
            auth: Auth::new(config.auth),
            mount: config.mount,
            prefix: config.prefix,
            concurrency: config.concurrency,
        })
    }

    /// A store configured from Vault's environment variables
    /// ([`VaultConfig::from_env`]); `None` when `VAULT_ADDR` is not set.
    ///
    /// # Errors
    ///
    /// As [`VaultConfig::from_env`] and [`new`](Self::new).
    pub fn from_env() -> Result<Option<Self>, VaultConfigError> {
        VaultConfig::from_env()?.map(Self::new).transpose()
    }

    /// `method` on `path`, with the token; once more after a new login
    /// when Vault refused an AppRole token (it may have been revoked).
    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        reference: &SecretRef,
    ) -> Result<Answer, SecretStoreError> {
        for _ in 0..2 {
            let token = self.auth.token(&self.client).map_err(|e| match e {
                AuthFailure::Refused => self.denied(reference),
                AuthFailure::Store(e) => e,
            })?;
            let answer = self
                .client
                .call(method, path, Some(token.expose_secret()), body)?;
            if !matches!(answer, Answer::Denied) || !self.auth.refused() {
                return Ok(answer);
            }
        }
        Ok(Answer::Denied)
    }

    /// `{mount}/{kind}/{path}`, encoded for a URL.
    fn url_path(&self, kind: &str, path: &str) -> String {
        format!("{}/{kind}/{}", encoded(&self.mount), encoded(path))
    }

    fn target<'r>(&self, reference: &'r SecretRef) -> Result<Target<'r>, SecretStoreError> {
        path::parse(reference).ok_or_else(|| SecretStoreError::InvalidReference {
            store: self.id.clone(),
            reference: reference.clone(),
            reason: "a Vault reference is PATH#FIELD under the KV mount (no empty, `.` or `..` parts), with a KV version of 1 or more or none".to_owned(),
        })
    }

    fn not_found(&self, reference: &SecretRef) -> SecretStoreError {
        SecretStoreError::NotFound {
            store: self.id.clone(),
            reference: reference.clone(),
        }
    }

    fn denied(&self, reference: &SecretRef) -> SecretStoreError {
        SecretStoreError::Denied {
            store: self.id.clone(),
            reference: reference.clone(),
        }
    }

    /// The path's current KV version; 0 when nothing was ever written
    /// there.
    fn current_version(&self, path: &str, reference: &SecretRef) -> Result<u64, SecretStoreError> {
        match self.call(
            Method::Get,
            &self.url_path("metadata", path),
            None,
            reference,
        )? {
            Answer::Ok(json) => Ok(json
                .pointer("/data/current_version")
                .and_then(Value::as_u64)
                .unwrap_or(0)),
            Answer::NotFound => Ok(0),
            other => Err(self.failed(other, reference)),
        }
    }

    /// The error of an answer that is not the one asked for.
    fn failed(&self, answer: Answer, reference: &SecretRef) -> SecretStoreError {
        match answer {
            Answer::NotFound => self.not_found(reference),
            Answer::Denied => self.denied(reference),
            Answer::CasMismatch => self
                .client
                .unavailable("another writer changed the secret at the same time"),
            Answer::Refused(reason) => self.client.unavailable(&reason),
            Answer::Ok(_) => self.client.unavailable("an answer without what was asked"),
        }
    }
}

/// Before a write's `attempt`: nothing before the first; then a wait of up
/// to 2^`attempt` ms (at most about a quarter of a second), an amount that
/// differs between writers, so that writers who collided do not collide
/// again.
fn backoff(attempt: u32) {
    if attempt == 0 {
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let cap_ms = 1u64 << attempt.min(8);
    let jitter = u64::from(nanos) % (cap_ms * 1000);
    std::thread::sleep(std::time::Duration::from_micros(jitter));
}

impl SecretStore for VaultSecretStore {
    fn id(&self) -> &str {
        &self.id
    }

    fn get(&self, reference: &SecretRef) -> Result<Secret, SecretStoreError> {
        let target = self.target(reference)?;
        let mut url = self.url_path("data", target.path);
        if let Some(v) = target.version {
            let _ = write!(url, "?version={v}");
        }
        match self.call(Method::Get, &url, None, reference)? {
            Answer::Ok(json) => {
                let field = json.pointer("/data/data").and_then(|d| d.get(target.field));
                match field {
                    Some(Value::String(s)) => Ok(Secret::new(s.clone())),
                    Some(Value::Null) | None => Err(self.not_found(reference)),
                    Some(other) => Ok(Secret::new(other.to_string())),
                }
            }
            other => Err(self.failed(other, reference)),
        }
    }

    fn get_many(&self, references: &[SecretRef]) -> Vec<Result<Secret, SecretStoreError>> {
        let workers = self.concurrency.min(references.len());
        if workers <= 1 {
            return references.iter().map(|r| self.get(r)).collect();
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<Secret, SecretStoreError>>>> =
            Mutex::new((0..references.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(reference) = references.get(i) else {
                            break;
                        };
                        let result = self.get(reference);
                        let mut results = results.lock().unwrap_or_else(PoisonError::into_inner);
                        results[i] = Some(result);
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(self.client.unavailable("a read did not finish"))))
            .collect()
    }

    fn describe(&self) -> SecretStoreInfo {
        SecretStoreInfo {
            kind: "vault".to_owned(),
            url: Some(self.client.address()),
            path: Some(format!("{}/{}", self.mount, self.prefix)),
        }
    }

    fn validate_reference(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        self.target(reference).map(|_| ())
    }

    fn library_owner<'r>(&self, reference: &'r SecretRef) -> Option<&'r str> {
        let path = reference
            .reference
            .rsplit_once('#')
            .map_or(reference.reference.as_str(), |(p, _)| p);
        path::owner(&self.prefix, path)
    }

    fn is_writable(&self) -> bool {
        true
    }

    fn put(&self, name: &str, secret: &Secret) -> Result<SecretRef, SecretStoreError> {
        let path = format!("{}/{name}", self.prefix);
        let reference = SecretRef::new(format!("{path}#{VALUE_FIELD}"));
        self.target(&reference)?;
        let url = self.url_path("data", &path);
        for attempt in 0..CAS_TRIES {
            backoff(attempt);
            let current = self.current_version(&path, &reference)?;
            let body = json!({
                "options": {"cas": current},
                "data": {VALUE_FIELD: secret.expose_secret()},
            });
            match self.call(Method::Post, &url, Some(&body), &reference)? {
                Answer::Ok(json) => {
                    let version = json
                        .pointer("/data/version")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| {
                            self.client
                                .unavailable("a write answered without its version")
                        })?;
                    return Ok(reference.with_version(version.to_string()));
                }
                Answer::CasMismatch => {}
                other => return Err(self.failed(other, &reference)),
            }
        }
        Err(self.failed(Answer::CasMismatch, &reference))
    }

    fn delete(&self, reference: &SecretRef) -> Result<(), SecretStoreError> {
        let target = self.target(reference)?;
        if path::owner(&self.prefix, target.path).is_none() {
            // Never the owner's secrets: only what the library wrote.
            return Err(SecretStoreError::ReadOnly {
                store: self.id.clone(),
            });
        }
        let answer = if let Some(v) = target.version {
            let body = json!({"versions": [v]});
            let url = self.url_path("destroy", target.path);
            self.call(Method::Post, &url, Some(&body), reference)?
        } else {
            let url = self.url_path("metadata", target.path);
            self.call(Method::Delete, &url, None, reference)?
        };
        match answer {
            Answer::Ok(_) | Answer::NotFound => Ok(()),
            other => Err(self.failed(other, reference)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::AtomicUsize;
    use std::sync::{Arc, Condvar};
    use std::time::Duration;

    use super::*;

    /// A server that answers a read only once `together` of them are in
    /// flight at once (503 after two seconds otherwise): reads made one
    /// after another fail.
    fn answering_together(together: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let waiting = Arc::new((Mutex::new(0usize), Condvar::new()));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let waiting = Arc::clone(&waiting);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut first = String::new();
                    let _ = reader.read_line(&mut first);
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let mut stream = stream;
                    if first.contains("lookup-self") {
                        // The token: it does not expire.
                        let body = r#"{"data":{"ttl":0,"renewable":false}}"#;
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        return;
                    }
                    let (count, ready) = &*waiting;
                    let mut n = count.lock().unwrap();
                    *n += 1;
                    ready.notify_all();
                    let (n, _) = ready
                        .wait_timeout_while(n, Duration::from_secs(2), |n| *n < together)
                        .unwrap();
                    let (status, body) = if *n >= together {
                        ("200 OK", r#"{"data":{"data":{"f":"v"}}}"#)
                    } else {
                        ("503 Service Unavailable", r#"{"errors":["one at a time"]}"#)
                    };
                    drop(n);
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        addr
    }

    /// A server that answers every request with `status` and `body`, and
    /// counts them.
    fn answering(status: &'static str, body: &'static str) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&count);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (addr, count)
    }

    /// A token Vault refuses is not sent again: only an AppRole login can
    /// be made anew.
    #[test]
    fn a_refused_token_is_asked_once() {
        let (addr, count) = answering("403 Forbidden", r#"{"errors":["permission denied"]}"#);
        let vault = VaultSecretStore::new(VaultConfig::new(
            addr,
            VaultAuth::Token(Secret::new("t".into())),
        ))
        .unwrap();
        let e = vault.get(&SecretRef::new("a#f")).unwrap_err();
        assert_eq!(e.code(), "secret_store_denied");
        // The token's lookup (refused: used as given from then on), then
        // the read; the next read is the read alone.
        assert_eq!(count.load(Ordering::SeqCst), 2);
        vault.get(&SecretRef::new("a#f")).unwrap_err();
        assert_eq!(count.load(Ordering::SeqCst), 3);
        // A sealed server (503) is unavailable, which is retryable.
        let (addr, count) = answering(
            "503 Service Unavailable",
            r#"{"errors":["Vault is sealed"]}"#,
        );
        let vault = VaultSecretStore::new(VaultConfig::new(
            addr,
            VaultAuth::Token(Secret::new("t".into())),
        ))
        .unwrap();
        let e = vault.get(&SecretRef::new("a#f")).unwrap_err();
        assert_eq!(e.code(), "secret_store_unavailable");
        assert!(e.to_string().contains("Vault is sealed"), "{e}");
        // A lookup that could not be made is made again with the next read.
        assert_eq!(count.load(Ordering::SeqCst), 2);
        vault.get(&SecretRef::new("a#f")).unwrap_err();
        assert_eq!(count.load(Ordering::SeqCst), 4);
    }

    /// A server whose token lookups fail (503) and whose reads answer the
    /// token they were sent, as the field `f`.
    fn echoing_the_token() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut first, mut line, mut token) =
                    (String::new(), String::new(), String::new());
                let _ = reader.read_line(&mut first);
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("x-vault-token")
                    {
                        value.trim().clone_into(&mut token);
                    }
                    line.clear();
                }
                let (status, body) = if first.contains("lookup-self") {
                    (
                        "503 Service Unavailable",
                        r#"{"errors":["busy"]}"#.to_owned(),
                    )
                } else {
                    (
                        "200 OK",
                        format!(r#"{{"data":{{"data":{{"f":"{token}"}}}}}}"#),
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        addr
    }

    /// When the token cannot be looked up, it is still sent as given.
    #[test]
    fn a_token_that_cannot_be_looked_up_is_sent_as_given() {
        let vault = VaultSecretStore::new(VaultConfig::new(
            echoing_the_token(),
            VaultAuth::Token(Secret::new("given-token".into())),
        ))
        .unwrap();
        let read = vault.get(&SecretRef::new("a#f")).unwrap();
        assert_eq!(read.expose_secret(), "given-token");
    }

    /// A request Vault refuses for another reason than a lost
    /// check-and-set says Vault's reason.
    #[test]
    fn a_refused_request_says_why() {
        let (addr, count) = answering("400 Bad Request", r#"{"errors":["no handler for route"]}"#);
        let vault = VaultSecretStore::new(VaultConfig::new(
            addr,
            VaultAuth::Token(Secret::new("t".into())),
        ))
        .unwrap();
        let e = vault
            .put("shop/_app/PW", &Secret::new("s".into()))
            .unwrap_err();
        assert_eq!(e.code(), "secret_store_unavailable");
        assert!(e.to_string().contains("no handler for route"), "{e}");
        assert_eq!(
            count.load(Ordering::SeqCst),
            2,
            "the token's lookup, then the write's first read"
        );
    }

    #[test]
    fn many_reads_are_in_flight_at_once() {
        let mut config = VaultConfig::new(
            answering_together(4),
            VaultAuth::Token(Secret::new("t".into())),
        );
        config.concurrency = 4;
        let vault = VaultSecretStore::new(config).unwrap();
        let refs: Vec<SecretRef> = (0..4).map(|i| SecretRef::new(format!("p{i}#f"))).collect();
        for read in vault.get_many(&refs) {
            assert_eq!(
                read.map(|s| s.expose_secret().to_owned()),
                Ok("v".to_owned())
            );
        }
        assert!(vault.get_many(&[]).is_empty());
    }
}

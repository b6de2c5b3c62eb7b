//! One request to Vault and its answer, sorted into what the store needs
//! to know: a JSON body, nothing there, access denied, a check-and-set
//! that lost, or a typed error (unreachable, sealed and server errors are
//! [`Unavailable`](SecretStoreError::Unavailable), which is retryable).
//! The token travels only in its header; no error carries it.

use std::sync::Arc;

use serde_json::Value;
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::config::{VaultConfig, VaultConfigError};
use crate::secret::SecretStoreError;

/// The largest answer read from Vault.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// The HTTP methods the store uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    Post,
    Delete,
}

/// What Vault answered.
#[derive(Debug)]
pub(super) enum Answer {
    /// A 2xx, with its JSON body (`Null` when it had none).
    Ok(Value),
    /// 404: nothing at the path (or not that version).
    NotFound,
    /// 403: the token may not do this (or is not a token Vault knows).
    Denied,
    /// 400 for a check-and-set whose version was not the current one.
    CasMismatch,
    /// Another 4xx: the request was refused as it was made, with Vault's
    /// reason (a wrong AppRole secret id, say).
    Refused(String),
}

/// A connection pool to one Vault server.
#[derive(Debug)]
pub(super) struct Client {
    agent: Agent,
    base: String,
    namespace: Option<String>,
    store: String,
}

impl Client {
    pub(super) fn new(config: &VaultConfig) -> Result<Self, VaultConfigError> {
        let mut tls = TlsConfig::builder();
        if let Some(path) = &config.ca_cert {
            tls = tls.root_certs(RootCerts::Specific(Arc::new(ca_certs(path)?)));
        }
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            // Each phase bounded on its own: ureq's one global deadline
            // made every request about twice as slow (measured in
            // benches/vault.rs), for the same bound within a few times.
            .timeout_connect(Some(config.timeout))
            .timeout_send_request(Some(config.timeout))
            .timeout_send_body(Some(config.timeout))
            .timeout_recv_response(Some(config.timeout))
            .timeout_recv_body(Some(config.timeout))
            // Keep a connection for each read get_many has in flight.
            .max_idle_connections(config.concurrency.max(10))
            .max_idle_connections_per_host(config.concurrency.max(4))
            .tls_config(tls.build())
            .build()
            .into();
        Ok(Client {
            agent,
            base: config.address.trim_end_matches('/').to_owned(),
            namespace: config.namespace.clone(),
            store: config.id.clone(),
        })
    }

    /// `method` on `/v1/{path}` (already encoded), with `token` when given
    /// and `body` as JSON.
    pub(super) fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, SecretStoreError> {
        let url = format!("{}/v1/{path}", self.base);
        let headers = |mut r: ureq::http::request::Builder| {
            if let Some(token) = token {
                r = r.header("X-Vault-Token", token);
            }
            if let Some(ns) = &self.namespace {
                r = r.header("X-Vault-Namespace", ns.as_str());
            }
            r
        };
        let request = headers(
            ureq::http::Request::builder()
                .uri(&url)
                .method(match method {
                    Method::Get => "GET",
                    Method::Post => "POST",
                    Method::Delete => "DELETE",
                }),
        );
        let made =
            |e: ureq::http::Error| self.unavailable(&format!("the request could not be made: {e}"));
        let sent = if let Some(body) = body {
            let request = request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .map_err(made)?;
            self.agent.run(request)
        } else {
            self.agent.run(request.body(()).map_err(made)?)
        };
        let mut response = sent.map_err(|e| self.unavailable(&format!("{e}")))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .map_err(|e| self.unavailable(&format!("its answer could not be read: {e}")))?;
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                self.unavailable(&format!("HTTP {status} with a body that is not JSON"))
            })?
        };
        match status {
            200..=299 => Ok(Answer::Ok(json)),
            404 => Ok(Answer::NotFound),
            403 => Ok(Answer::Denied),
            400 if errors(&json).contains("check-and-set") => Ok(Answer::CasMismatch),
            400..=428 | 430..=499 => {
                Ok(Answer::Refused(format!("HTTP {status}: {}", errors(&json))))
            }
            _ => Err(self.unavailable(&format!("HTTP {status}: {}", errors(&json)))),
        }
    }

    /// The server's address, without any user or password it held.
    pub(super) fn address(&self) -> String {
        match self.base.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                format!("{scheme}://{host}")
            }
            None => self.base.clone(),
        }
    }

    /// The store's error for a server it could not use.
    pub(super) fn unavailable(&self, message: &str) -> SecretStoreError {
        SecretStoreError::Unavailable {
            store: self.store.clone(),
            message: message.to_owned(),
        }
    }
}

/// Vault's `errors`, joined and cut short: its own words, which name paths
/// and reasons (`Vault is sealed`), never a secret's content.
fn errors(json: &Value) -> String {
    let list = json.get("errors").and_then(Value::as_array);
    let mut text = list
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    if text.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    if text.is_empty() {
        "no reason given".clone_into(&mut text);
    }
    text
}

/// The certificates of a PEM file.
fn ca_certs(path: &std::path::Path) -> Result<Vec<Certificate<'static>>, VaultConfigError> {
    let fail = |reason: String| VaultConfigError::CaCert {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(fail(e.to_string()))),
        })
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(fail("it holds no certificate".to_owned()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vault_s_errors_are_joined_and_cut_short() {
        assert_eq!(
            errors(&json!({"errors": ["Vault is sealed"]})),
            "Vault is sealed"
        );
        assert_eq!(errors(&json!({"errors": ["a", "b"]})), "a; b");
        assert_eq!(errors(&json!({})), "no reason given");
        let just = "x".repeat(200);
        assert_eq!(errors(&json!({"errors": [just.clone()]})), just);
        let long = errors(&json!({"errors": ["é".repeat(300)]}));
        assert!(long.len() <= 204 && long.ends_with('…'), "{}", long.len());
    }

    #[test]
    fn the_address_shown_has_no_user_or_password() {
        let client = |address: &str| {
            let auth = super::super::VaultAuth::Token(crate::secret::Secret::new("t".into()));
            Client::new(&VaultConfig::new(address, auth)).unwrap()
        };
        let shown = client("https://ops:canary-pw@vault.example:8200/").address();
        assert_eq!(shown, "https://vault.example:8200");
        assert_eq!(
            client("http://127.0.0.1:8200").address(),
            "http://127.0.0.1:8200"
        );
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("valueset-ca-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate").unwrap();
        assert!(matches!(
            ca_certs(&dir),
            Err(VaultConfigError::CaCert { .. })
        ));
        std::fs::remove_file(&dir).unwrap();
        assert!(matches!(
            ca_certs(&dir),
            Err(VaultConfigError::CaCert { .. })
        ));
    }
}

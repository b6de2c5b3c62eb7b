//! How a [`VaultSecretStore`](super::VaultSecretStore) reaches its server,
//! configured as Vault's own tools are: `VAULT_ADDR`, `VAULT_TOKEN`,
//! `VAULT_NAMESPACE`, `VAULT_CACERT`, or an AppRole login from
//! `VAULT_ROLE_ID` and `VAULT_SECRET_ID`.

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

/// The id a Vault store has unless another is given.
pub const DEFAULT_VAULT_ID: &str = "vault";

/// Where and how to reach Vault (or OpenBao), and where in it the
/// library's own secrets go.
#[derive(Debug)]
#[non_exhaustive]
pub struct VaultConfig {
    /// The store's id, as secret references name it; `vault` by default.
    pub id: String,
    /// The server's address, such as `https://vault.example.com:8200`.
    pub address: String,
    /// How to log in.
    pub auth: VaultAuth,
    /// The Vault Enterprise or OpenBao namespace every request is made in.
    pub namespace: Option<String>,
    /// A PEM file of the certificate authorities to trust for TLS, instead
    /// of the usual web roots.
    pub ca_cert: Option<PathBuf>,
    /// The KV version 2 engine's mount; `secret` by default.
    pub mount: String,
    /// Where under the mount the library writes the secrets it stores;
    /// `valueset` by default. References outside it are the owner's.
    pub prefix: String,
    /// How long each phase of a request may take (connecting, sending,
    /// waiting for the answer, reading it); 10 s by default.
    pub timeout: Duration,
    /// How many reads [`get_many`](crate::secret::SecretStore::get_many)
    /// makes at once; 16 by default.
    pub concurrency: usize,
}

/// How a Vault store logs in.
#[derive(Debug)]
#[non_exhaustive]
pub enum VaultAuth {
    /// A token. It is looked up once: one that expires and may be renewed
    /// is renewed when two thirds of its time have passed, as long as
    /// Vault renews it.
    Token(Secret),
    /// An AppRole login, made when first needed, renewed before its token
    /// expires and made again when it cannot be renewed.
    AppRole {
        /// The role id.
        role_id: String,
        /// The secret id.
        secret_id: Secret,
        /// Where the AppRole auth method is mounted; `approle` by default.
        mount: String,
    },
}

/// A Vault store could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultConfigError {
    /// A setting is missing or malformed.
    #[error("vault is not configured: {0}")]
    Invalid(String),
    /// The CA certificate file could not be read or holds no certificate.
    #[error("vault's CA certificate `{path}` cannot be used: {reason}")]
    CaCert {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl VaultConfig {
    /// A store at `address` that logs in with `auth`, with the defaults for
    /// everything else.
    pub fn new(address: impl Into<String>, auth: VaultAuth) -> Self {
        VaultConfig {
            id: DEFAULT_VAULT_ID.to_owned(),
            address: address.into(),
            auth,
            namespace: None,
            ca_cert: None,
            mount: "secret".to_owned(),
            prefix: "valueset".to_owned(),
            timeout: Duration::from_secs(10),
            concurrency: 16,
        }
    }

    /// The configuration Vault's own tools would use: `VAULT_ADDR`; a
    /// token from `VAULT_TOKEN`, or else an AppRole login from
    /// `VAULT_ROLE_ID` and `VAULT_SECRET_ID`; `VAULT_NAMESPACE` and
    /// `VAULT_CACERT` when set. `None` when `VAULT_ADDR` is not set.
    ///
    /// # Errors
    ///
    /// [`VaultConfigError::Invalid`] when `VAULT_ADDR` is set but neither
    /// a token nor both AppRole settings are.
    pub fn from_env() -> Result<Option<Self>, VaultConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env), from any source of variables.
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, VaultConfigError> {
        // An empty variable is one not set, as Vault's tools take it.
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let Some(address) = var("VAULT_ADDR") else {
            return Ok(None);
        };
        let auth = match (
            var("VAULT_TOKEN"),
            var("VAULT_ROLE_ID"),
            var("VAULT_SECRET_ID"),
        ) {
            (Some(token), _, _) => VaultAuth::Token(Secret::new(token)),
            (None, Some(role_id), Some(secret_id)) => VaultAuth::AppRole {
                role_id,
                secret_id: Secret::new(secret_id),
                mount: "approle".to_owned(),
            },
            _ => {
                return Err(VaultConfigError::Invalid(
                    "VAULT_ADDR is set, but neither VAULT_TOKEN nor both VAULT_ROLE_ID and VAULT_SECRET_ID are".into(),
                ));
            }
        };
        let mut config = VaultConfig::new(address, auth);
        config.namespace = var("VAULT_NAMESPACE");
        config.ca_cert = var("VAULT_CACERT").map(PathBuf::from);
        Ok(Some(config))
    }

    /// Checks what can be checked without a server.
    pub(crate) fn check(&self) -> Result<(), VaultConfigError> {
        let invalid = |what: &str| Err(VaultConfigError::Invalid(what.to_owned()));
        if !(self.address.starts_with("http://") || self.address.starts_with("https://")) {
            return invalid("the address must begin with http:// or https://");
        }
        if !super::path::is_clean(&self.mount) {
            return invalid("the mount must be a path without empty, `.` or `..` parts");
        }
        if !super::path::is_clean(&self.prefix) {
            return invalid("the prefix must be a path without empty, `.` or `..` parts");
        }
        if self.concurrency == 0 {
            return invalid("the concurrency must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn read_as_vault_s_tools_read_it() {
        assert!(VaultConfig::from_vars(vars(&[])).unwrap().is_none());
        assert!(
            VaultConfig::from_vars(vars(&[("VAULT_ADDR", "")]))
                .unwrap()
                .is_none()
        );
        let empty_token = VaultConfig::from_vars(vars(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_TOKEN", ""),
            ("VAULT_ROLE_ID", "role"),
            ("VAULT_SECRET_ID", "id"),
        ]));
        assert!(matches!(
            empty_token,
            Ok(Some(VaultConfig {
                auth: VaultAuth::AppRole { .. },
                ..
            }))
        ));
        let token = VaultConfig::from_vars(vars(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_TOKEN", "canary-token-4d1"),
            ("VAULT_NAMESPACE", "team"),
            ("VAULT_CACERT", "/etc/ca.pem"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(token.address, "http://127.0.0.1:8200");
        assert_eq!(token.namespace.as_deref(), Some("team"));
        assert_eq!(token.ca_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert!(
            matches!(&token.auth, VaultAuth::Token(t) if t.expose_secret() == "canary-token-4d1")
        );
        assert!(!format!("{token:?}").contains("canary-token-4d1"));
        let approle = VaultConfig::from_vars(vars(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_ROLE_ID", "role"),
            ("VAULT_SECRET_ID", "canary-secret-id"),
        ]))
        .unwrap()
        .unwrap();
        assert!(matches!(&approle.auth, VaultAuth::AppRole { role_id, .. } if role_id == "role"));
        assert!(!format!("{approle:?}").contains("canary-secret-id"));
        let half = VaultConfig::from_vars(vars(&[
            ("VAULT_ADDR", "http://127.0.0.1:8200"),
            ("VAULT_ROLE_ID", "role"),
        ]));
        assert!(matches!(half, Err(VaultConfigError::Invalid(_))));
    }

    #[test]
    fn what_cannot_work_is_refused_before_any_request() {
        let good = || {
            VaultConfig::new(
                "http://127.0.0.1:8200",
                VaultAuth::Token(Secret::new("t".into())),
            )
        };
        assert!(good().check().is_ok());
        let mut c = good();
        c.address = "127.0.0.1:8200".into();
        assert!(c.check().is_err());
        let mut c = good();
        c.mount = "a//b".into();
        assert!(c.check().is_err());
        let mut c = good();
        c.prefix = "../up".into();
        assert!(c.check().is_err());
        let mut c = good();
        c.concurrency = 0;
        assert!(c.check().is_err());
    }
}

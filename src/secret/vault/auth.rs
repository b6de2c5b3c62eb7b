//! Logging in to Vault: a token as given, looked up once and renewed when
//! two thirds of its time have passed if it expires and may be renewed; or
//! an AppRole login made when first needed, renewed the same way, and made
//! again when it cannot be renewed (or its lease has worn down to its
//! maximum) or Vault stops taking it.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::client::{Answer, Client, Method};
use super::config::VaultAuth;
use super::path::encoded;
use crate::secret::{Secret, SecretStoreError};

/// Why there is no token to send.
#[derive(Debug)]
pub(super) enum AuthFailure {
    /// Vault refused the AppRole login: its credentials are wrong.
    Refused,
    /// Vault could not be asked.
    Store(SecretStoreError),
}

impl From<SecretStoreError> for AuthFailure {
    fn from(e: SecretStoreError) -> Self {
        AuthFailure::Store(e)
    }
}

/// How a store logs in, and its current login.
#[derive(Debug)]
pub(super) struct Auth {
    method: VaultAuth,
    login: Mutex<Option<Login>>,
}

/// A token from a login, and when to renew it.
#[derive(Debug)]
struct Login {
    token: Secret,
    /// When to renew; `None` for a token that does not expire.
    renew_at: Option<Instant>,
    /// The lease the login gave: a renewal much shorter than it means the
    /// token is near its maximum life, and a new login is due.
    lease: Duration,
    renewable: bool,
}

impl Auth {
    pub(super) fn new(method: VaultAuth) -> Self {
        Auth {
            method,
            login: Mutex::new(None),
        }
    }

    /// The token to send now, after logging in or renewing when due.
    pub(super) fn token(&self, client: &Client) -> Result<Secret, AuthFailure> {
        let mut login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        let due = login
            .as_ref()
            .is_none_or(|l| l.renew_at.is_some_and(|at| Instant::now() >= at));
        if due {
            let renewed = login
                .as_ref()
                .filter(|l| l.renewable)
                .and_then(|l| renew(client, l).ok())
                .filter(|new| new.lease >= login.as_ref().map_or(Duration::ZERO, |l| l.lease) / 4);
            let next = match (renewed, &self.method) {
                (Some(new), _) => Some(new),
                (None, VaultAuth::Token(token)) => given_token(client, token, login.is_some()),
                (
                    None,
                    VaultAuth::AppRole {
                        role_id,
                        secret_id,
                        mount,
                    },
                ) => Some(approle_login(client, mount, role_id, secret_id)?),
            };
            match next {
                Some(next) => *login = Some(next),
                None => return Ok(self.given().unwrap_or_else(|| Secret::new(String::new()))),
            }
        }
        Ok(login
            .as_ref()
            .map_or_else(|| Secret::new(String::new()), |l| l.token.clone_secret()))
    }

    /// The token given in the configuration, if one was.
    fn given(&self) -> Option<Secret> {
        match &self.method {
            VaultAuth::Token(token) => Some(token.clone_secret()),
            VaultAuth::AppRole { .. } => None,
        }
    }

    /// Vault refused the token: with an AppRole, the login is dropped so the
    /// next [`token`](Self::token) logs in again; `true` when that may help.
    pub(super) fn refused(&self) -> bool {
        if matches!(self.method, VaultAuth::Token(_)) {
            return false;
        }
        let mut login = self.login.lock().unwrap_or_else(PoisonError::into_inner);
        login.take().is_some()
    }
}

/// A token given as is, looked up once (`lookup-self`) to know whether it
/// expires and can be renewed. After a renewal that failed (`renewing`),
/// it is used as it is until Vault stops taking it. `None` when Vault could
/// not be asked: the token is used, and looked up at the next call.
fn given_token(client: &Client, token: &Secret, renewing: bool) -> Option<Login> {
    let as_is = || Login {
        token: token.clone_secret(),
        renew_at: None,
        lease: Duration::ZERO,
        renewable: false,
    };
    if renewing {
        return Some(as_is());
    }
    match client.call(
        Method::Get,
        "auth/token/lookup-self",
        Some(token.expose_secret()),
        None,
    ) {
        Ok(Answer::Ok(json)) => {
            let data = json.get("data")?;
            let ttl = Duration::from_secs(data.get("ttl").and_then(Value::as_u64).unwrap_or(0));
            let renewable = data.get("renewable").and_then(Value::as_bool) == Some(true);
            Some(lease_of(
                token.clone_secret(),
                ttl,
                renewable,
                Instant::now(),
            ))
        }
        Ok(_) => Some(as_is()),
        Err(_) => None,
    }
}

/// Logs in with an AppRole.
fn approle_login(
    client: &Client,
    mount: &str,
    role_id: &str,
    secret_id: &Secret,
) -> Result<Login, AuthFailure> {
    let body = json!({"role_id": role_id, "secret_id": secret_id.expose_secret()});
    let path = format!("auth/{}/login", encoded(mount));
    match client.call(Method::Post, &path, None, Some(&body))? {
        Answer::Ok(json) => login_of(&json, Instant::now()).ok_or_else(|| {
            client
                .unavailable("its AppRole login answered without a token")
                .into()
        }),
        Answer::Denied | Answer::NotFound | Answer::CasMismatch | Answer::Refused(_) => {
            Err(AuthFailure::Refused)
        }
    }
}

/// Renews the login's token.
fn renew(client: &Client, login: &Login) -> Result<Login, SecretStoreError> {
    let token = login.token.expose_secret();
    match client.call(
        Method::Post,
        "auth/token/renew-self",
        Some(token),
        Some(&json!({})),
    )? {
        Answer::Ok(json) => login_of(&json, Instant::now())
            .ok_or_else(|| client.unavailable("its token renewal answered without a token")),
        _ => Err(client.unavailable("its token could not be renewed")),
    }
}

/// The login an `auth` answer gives.
fn login_of(json: &Value, now: Instant) -> Option<Login> {
    let auth = json.get("auth")?;
    let token = auth.get("client_token")?.as_str()?.to_owned();
    let lease = Duration::from_secs(auth.get("lease_duration").and_then(Value::as_u64)?);
    let renewable = auth.get("renewable").and_then(Value::as_bool) == Some(true);
    Some(lease_of(Secret::new(token), lease, renewable, now))
}

/// `token` with `lease` from `now`: renewed when two thirds of it have
/// passed (if Vault will renew it), never when it does not expire.
fn lease_of(token: Secret, lease: Duration, renewable: bool, now: Instant) -> Login {
    Login {
        token,
        renew_at: (!lease.is_zero()).then(|| now + lease * 2 / 3),
        lease,
        renewable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_renewed_at_two_thirds_of_its_lease() {
        let now = Instant::now();
        let answer = json!({"auth": {"client_token": "canary-tok", "lease_duration": 30, "renewable": true}});
        let login = login_of(&answer, now).unwrap();
        assert_eq!(login.renew_at, Some(now + Duration::from_secs(20)));
        assert!(login.renewable);
        assert_eq!(login.token.expose_secret(), "canary-tok");
        assert!(!format!("{login:?}").contains("canary-tok"));
        let forever =
            json!({"auth": {"client_token": "t", "lease_duration": 0, "renewable": false}});
        assert_eq!(login_of(&forever, now).unwrap().renew_at, None);
        assert!(login_of(&json!({"auth": null}), now).is_none());
    }
}

//! Who is looking at the page: a session kept in a signed cookie, and the
//! CSRF token that each of its forms carries.
//!
//! The cookie holds when the session ends, the SHA-256 hash of the token
//! signed in with (never the token), a random nonce, and a tag over all
//! three made with the service's [`SessionKey`]. Nothing is kept in the
//! service's memory, so any replica that has the same key reads the
//! session; a token taken out of the tokens file ends its sessions at the
//! next start. The CSRF token is a second tag over the same cookie: a page
//! of another site can neither read it nor make it.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, header};

use crate::crypto::{MacKey, MasterKey, same_check};
use crate::model::Actor;

use super::super::auth::{Tokens, hex, parse_hash};

/// The name of the page's session cookie.
pub const SESSION_COOKIE: &str = "valueset_session";

/// How long a page session lasts by default: 8 hours.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

const SESSION_TAG: &str = "valueset web session v1";
const CSRF_TAG: &str = "valueset web csrf v1";

/// The key that signs the web page's session cookies. Replicas behind one
/// address should share it: [`from_master_key`](Self::from_master_key)
/// derives the same key in every process that holds the master key.
/// Never printed.
#[derive(Clone)]
pub struct SessionKey(MacKey);

/// A signed-in person: their actor, and the CSRF token of their forms.
pub(crate) struct Session {
    pub(crate) actor: Actor,
    pub(crate) csrf: String,
}

impl SessionKey {
    /// A new random key: sessions are then good only in this process.
    pub fn generate() -> Self {
        SessionKey(MacKey::generate())
    }

    /// The key derived from `master`: alike in every process that holds
    /// it, and changed when the master key is.
    pub fn from_master_key(master: &MasterKey) -> Self {
        SessionKey(MacKey::from_master(master))
    }

    /// A new session's cookie value for the token with hash `hash`, good
    /// for `ttl` from `now` (seconds since the epoch).
    pub(crate) fn issue(&self, hash: &[u8; 32], now: u64, ttl: Duration) -> Option<String> {
        let mut nonce = [0u8; 16];
        getrandom::getrandom(&mut nonce).ok()?;
        let expires = now.saturating_add(ttl.as_secs());
        let payload = format!("{expires}.{}.{}", hex(hash), hex(&nonce));
        let tag = self.0.sign(SESSION_TAG, &[payload.as_bytes()]);
        Some(format!("{payload}.{}", hex(&tag)))
    }

    /// The session a cookie value holds, when this key signed it, it has
    /// not expired at `now`, and its token is still known.
    pub(crate) fn open(&self, cookie: &str, now: u64, tokens: &Tokens) -> Option<Session> {
        let (payload, tag) = cookie.rsplit_once('.')?;
        let tag = parse_hash(tag)?;
        if !same_check(&tag, &self.0.sign(SESSION_TAG, &[payload.as_bytes()])) {
            return None;
        }
        let mut parts = payload.split('.');
        let expires: u64 = parts.next()?.parse().ok()?;
        let hash = parse_hash(parts.next()?)?;
        if expires <= now {
            return None;
        }
        let actor = tokens.by_hash(&hash)?.clone();
        let csrf = hex(&self.0.sign(CSRF_TAG, &[payload.as_bytes()]));
        Some(Session { actor, csrf })
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("actor", &self.actor.name())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Whether `given` is this session's CSRF token.
    pub(crate) fn csrf_matches(&self, given: &str) -> bool {
        same_check(self.csrf.as_bytes(), given.as_bytes())
    }
}

/// Seconds since the epoch, now.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The session cookie's value in a request's `Cookie` headers.
pub(crate) fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then_some(value)
        })
}

/// The `Set-Cookie` header that keeps `value` for `ttl`: never readable by
/// a script, never sent with another site's request, `Secure` when the
/// page is served over TLS.
pub(crate) fn set_cookie(value: &str, ttl: Duration, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        ttl.as_secs()
    ))
    .ok()
}

/// The `Set-Cookie` header that ends the session in the browser.
pub(crate) fn clear_cookie(secure: bool) -> Option<HeaderValue> {
    set_cookie("", Duration::ZERO, secure)
}

/// Whether a request that changes something comes from the page itself:
/// a browser's `Origin` (when it sends one) names this host, and its
/// `Sec-Fetch-Site` (when it sends one) is not another site.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let value = |name| {
        headers
            .get(name)
            .and_then(|h: &HeaderValue| h.to_str().ok())
    };
    if value(header::HeaderName::from_static("sec-fetch-site"))
        .is_some_and(|site| site != "same-origin" && site != "none")
    {
        return false;
    }
    match value(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = value(header::HOST).unwrap_or_default();
            let rest = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            !host.is_empty() && rest == Some(host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::parse(&format!(
            r#"{{"tokens": [{{"sha256": "{}", "actor": "alice", "org_role": "administrator"}}]}}"#,
            crate::http::token_hash("t0k3n")
        ))
        .unwrap()
    }

    fn hash_of_alice(tokens: &Tokens) -> [u8; 32] {
        tokens.sign_in("t0k3n").unwrap().0
    }

    #[test]
    fn a_session_opens_with_its_key_until_it_expires() {
        let (key, tokens) = (SessionKey::generate(), tokens());
        let hash = hash_of_alice(&tokens);
        let cookie = key.issue(&hash, 1000, Duration::from_secs(60)).unwrap();
        assert!(!cookie.contains("t0k3n"));
        let session = key.open(&cookie, 1059, &tokens).unwrap();
        assert_eq!(session.actor.name(), "alice");
        assert_eq!(session.csrf.len(), 64);
        assert!(session.csrf_matches(&session.csrf));
        assert!(!session.csrf_matches(&session.csrf[1..]));
        assert!(!session.csrf_matches(""));
        // Expired at its end.
        assert!(key.open(&cookie, 1060, &tokens).is_none());
        // Another key does not open it.
        assert!(
            SessionKey::generate()
                .open(&cookie, 1000, &tokens)
                .is_none()
        );
        // Two sessions of one token have different CSRF tokens.
        let other = key.issue(&hash, 1000, Duration::from_secs(60)).unwrap();
        assert_ne!(key.open(&other, 1000, &tokens).unwrap().csrf, session.csrf);
        assert_eq!(format!("{key:?}"), "SessionKey([redacted])");
        assert!(!format!("{session:?}").contains(&session.csrf));
    }

    #[test]
    fn a_changed_cookie_does_not_open() {
        let (key, tokens) = (SessionKey::generate(), tokens());
        let cookie = key
            .issue(&hash_of_alice(&tokens), 1000, Duration::from_secs(60))
            .unwrap();
        // A later end, with the old tag.
        let (_, rest) = cookie.split_once('.').unwrap();
        assert!(
            key.open(&format!("9999999.{rest}"), 1000, &tokens)
                .is_none()
        );
        for bad in ["", ".", "x.y", &cookie[..cookie.len() - 1]] {
            assert!(key.open(bad, 1000, &tokens).is_none(), "{bad}");
        }
        // A token no longer known.
        let none = Tokens::parse(r#"{"tokens": []}"#).unwrap();
        assert!(key.open(&cookie, 1000, &none).is_none());
        // Keys derived from one master key open each other's cookies.
        let master = MasterKey::from_bytes([3; 32]);
        let (a, b) = (
            SessionKey::from_master_key(&master),
            SessionKey::from_master_key(&master),
        );
        let shared = a
            .issue(&hash_of_alice(&tokens), 1000, Duration::from_secs(60))
            .unwrap();
        assert!(b.open(&shared, 1000, &tokens).is_some());
    }

    #[test]
    fn cookies_and_origins() {
        let mut headers = HeaderMap::new();
        assert_eq!(cookie_value(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; valueset_session=abc.def"),
        );
        assert_eq!(cookie_value(&headers), Some("abc.def"));
        let set = set_cookie("v", Duration::from_secs(5), false).unwrap();
        assert_eq!(
            set.to_str().unwrap(),
            "valueset_session=v; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=5"
        );
        let cleared = clear_cookie(true).unwrap();
        assert!(cleared.to_str().unwrap().ends_with("Max-Age=0; Secure"));

        let mut headers = HeaderMap::new();
        assert!(same_origin(&headers));
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://127.0.0.1:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&headers));
        headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&headers));
        headers.remove(header::HOST);
        assert!(!same_origin(&headers));
    }
}

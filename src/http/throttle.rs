//! Slowing down token guessing: an address that gave unknown tokens too
//! often within a window is refused (429 with `Retry-After`) until the
//! window ends, whatever token it sends then; other addresses are served
//! as before.
//!
//! The counts are the process's own (a guesser spread over replicas gets
//! each replica's allowance), kept for at most [`MAX_ADDRESSES`] addresses
//! at once: when that many are counted and none has expired, a new address
//! is not counted (the table never grows without bound).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::ApiError;
use crate::codes;

/// How many unknown tokens an address may give in a window by default: 10.
pub const DEFAULT_FAILED_TOKENS: u32 = 10;

/// How long an address's count lasts: one minute.
pub const FAILED_TOKENS_WINDOW: Duration = Duration::from_secs(60);

/// How many addresses are counted at once, at most.
pub const MAX_ADDRESSES: usize = 65_536;

/// The address a request came from, when the router is served with
/// `ConnectInfo<SocketAddr>`.
pub(crate) fn address(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The address a request came from, as an extractor.
pub(crate) struct ClientAddress(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(address(&parts.extensions)))
    }
}

/// The refusal of an address that gave unknown tokens too often, with how
/// long to wait (whole seconds, rounded up).
pub(crate) fn too_many(wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        codes::TOO_MANY_FAILED_TOKENS,
        format!("this address gave unknown tokens too often; try again in {secs} s"),
    )
    .retry_after(secs)
}

/// The failed tokens of each address.
pub(crate) struct Throttle {
    limit: u32,
    window: Duration,
    by_address: Mutex<HashMap<IpAddr, Count>>,
}

#[derive(Clone, Copy)]
struct Count {
    failures: u32,
    since: Instant,
}

impl Throttle {
    /// At most `limit` unknown tokens per address in each `window`; `0`
    /// refuses no one.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            by_address: Mutex::new(HashMap::new()),
        }
    }

    /// How long `address` must wait, when it is refused at `now`.
    pub(crate) fn refused(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let map = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = map.get(&address)?;
        let left = self
            .window
            .checked_sub(now.saturating_duration_since(count.since))?;
        (count.failures >= self.limit && !left.is_zero()).then_some(left)
    }

    /// Counts an unknown token from `address` at `now`.
    pub(crate) fn failed(&self, address: IpAddr, now: Instant) {
        if self.limit == 0 {
            return;
        }
        let window = self.window;
        let live = |c: &Count| now.saturating_duration_since(c.since) < window;
        let mut map = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&address) {
            map.retain(|_, c| live(c));
            if map.len() >= MAX_ADDRESSES {
                return;
            }
        }
        let count = map.entry(address).or_insert(Count {
            failures: 0,
            since: now,
        });
        if !live(count) {
            *count = Count {
                failures: 0,
                since: now,
            };
        }
        count.failures = count.failures.saturating_add(1);
    }

    /// How many addresses are counted now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_address.lock().map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(t.refused(ip(1), start), None, "{i}");
            t.failed(ip(1), start + Duration::from_secs(i));
        }
        // The third failure came at +2 s; the window began at the first.
        assert_eq!(
            t.refused(ip(1), start + Duration::from_secs(10)),
            Some(Duration::from_secs(50))
        );
        // Another address is not slowed.
        assert_eq!(t.refused(ip(2), start), None);
        t.failed(ip(2), start);
        assert_eq!(t.refused(ip(2), start), None);
        // At the window's end, a fresh count.
        let later = start + Duration::from_secs(60);
        assert_eq!(t.refused(ip(1), later), None);
        t.failed(ip(1), later);
        assert_eq!(t.refused(ip(1), later), None);
        t.failed(ip(1), later);
        t.failed(ip(1), later);
        assert_eq!(t.refused(ip(1), later), Some(Duration::from_secs(60)));
        // Off: no one is refused.
        let off = Throttle::new(0, Duration::from_secs(60));
        for _ in 0..10 {
            off.failed(ip(1), start);
        }
        assert_eq!(off.refused(ip(1), start), None);
        assert_eq!(off.len(), 0);
    }

    #[test]
    fn the_refusal_says_how_long_to_wait_in_whole_seconds() {
        for (wait, secs) in [(5_000, 5), (4_100, 5), (100, 1), (59_999, 60)] {
            let refusal = too_many(Duration::from_millis(wait));
            assert_eq!(refusal.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(refusal.code(), "too_many_failed_tokens");
            let header = refusal.retry_after_header().unwrap();
            assert_eq!(header.to_str().unwrap(), secs.to_string(), "{wait} ms");
            assert!(refusal.message().contains(&format!("in {secs} s")));
        }
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = Throttle::new(2, Duration::from_secs(60));
        let start = Instant::now();
        for n in 0..MAX_ADDRESSES {
            let bytes = u32::try_from(n).unwrap().to_be_bytes();
            t.failed(IpAddr::from(bytes), start);
        }
        assert_eq!(t.len(), MAX_ADDRESSES);
        // Full of live counts: a new address is not counted...
        let new = IpAddr::from([255, 0, 0, 1]);
        t.failed(new, start);
        t.failed(new, start);
        assert_eq!(t.len(), MAX_ADDRESSES);
        assert_eq!(t.refused(new, start), None);
        // ...but one already counted still is.
        let old = IpAddr::from([0, 0, 0, 1]);
        assert_eq!(t.refused(old, start), None);
        t.failed(old, start);
        assert!(t.refused(old, start).is_some());
        // Once they expire, the new address takes a place.
        let later = start + Duration::from_secs(61);
        t.failed(new, later);
        assert_eq!(t.len(), 1);
        t.failed(new, later);
        assert!(t.refused(new, later).is_some());
    }
}

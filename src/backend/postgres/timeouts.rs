//! How long the backend waits on a server it cannot reach.
//!
//! A server that went away cleanly closes its connections, and the next
//! call fails at once. A network that drops packets closes nothing: without
//! limits, a query would wait for TCP to give up, which takes many minutes.
//! So unless the URL says otherwise, a connection attempt gives up after
//! [`CONNECT_TIMEOUT`], data the server has not acknowledged within
//! [`TCP_USER_TIMEOUT`] closes the connection, and an idle connection is
//! probed with TCP keepalives, so that a dead link is noticed within about
//! [`KEEPALIVE_IDLE`] plus [`KEEPALIVE_RETRIES`] probes
//! [`KEEPALIVE_INTERVAL`] apart. Each failure is `Unavailable`; a slow
//! query on a live link is never cut short (the server acknowledges what it
//! receives).

use std::time::Duration;

use postgres::Config;

/// How long to try to connect, when the URL has no `connect_timeout`.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long sent data may stay unacknowledged, when the URL has no
/// `tcp_user_timeout`.
pub(super) const TCP_USER_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle time before the first keepalive probe, when the URL has no
/// `keepalives_idle`.
pub(super) const KEEPALIVE_IDLE: Duration = Duration::from_secs(5);

/// Time between keepalive probes, when the URL has no
/// `keepalives_interval`.
pub(super) const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);

/// Probes unanswered before the link is taken for dead, when the URL has
/// no `keepalives_retries`.
pub(super) const KEEPALIVE_RETRIES: u32 = 5;

/// `config` with the limits above wherever the URL set none.
pub(super) fn with_defaults(mut config: Config) -> Config {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    if config.get_keepalives_interval().is_none() {
        config.keepalives_interval(KEEPALIVE_INTERVAL);
    }
    if config.get_keepalives_retries().is_none() {
        config.keepalives_retries(KEEPALIVE_RETRIES);
    }
    // The client's own idle time (two hours) stands for an absent
    // parameter. `keepalives=0` in the URL turns the probes off.
    if config.get_keepalives_idle() == CLIENT_KEEPALIVE_IDLE {
        config.keepalives_idle(KEEPALIVE_IDLE);
    }
    config
}

/// The client's idle time before keepalive probes when none is set.
const CLIENT_KEEPALIVE_IDLE: Duration = Duration::from_secs(2 * 60 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Config {
        with_defaults(url.parse().unwrap())
    }

    #[test]
    fn a_url_without_limits_gets_the_defaults() {
        let c = config("postgres://u@127.0.0.1:5432/db");
        assert_eq!(c.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(c.get_tcp_user_timeout(), Some(&TCP_USER_TIMEOUT));
        assert_eq!(c.get_keepalives_idle(), KEEPALIVE_IDLE);
        assert_eq!(c.get_keepalives_interval(), Some(KEEPALIVE_INTERVAL));
        assert_eq!(c.get_keepalives_retries(), Some(KEEPALIVE_RETRIES));
        assert!(c.get_keepalives());
        // Shorter than the service's request timeout, so that a request
        // whose database went away is answered 503, not 408.
        let worst = CONNECT_TIMEOUT + TCP_USER_TIMEOUT;
        assert!(worst < Duration::from_secs(30), "{worst:?}");
    }

    #[test]
    fn limits_in_the_url_are_kept() {
        let c = config(
            "postgres://u@127.0.0.1:5432/db?connect_timeout=2&tcp_user_timeout=3&keepalives=0\
             &keepalives_idle=4&keepalives_interval=6&keepalives_retries=7",
        );
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(2)));
        assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(4));
        assert_eq!(c.get_keepalives_interval(), Some(Duration::from_secs(6)));
        assert_eq!(c.get_keepalives_retries(), Some(7));
        assert!(!c.get_keepalives());
    }
}

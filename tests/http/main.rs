//! The service over real HTTP: a `valueset::http` router served on a
//! loopback port, called with a plain HTTP client, every endpoint with its
//! statuses and errors (guide: The service). Needs the `http` feature:
//! `cargo test --features http --test http`.

// A failed unwrap is a failed test, with its place in the message.
#![allow(clippy::unwrap_used)]
// Each test walks one family of endpoints through, with tables of cases
// that rustfmt lays out one field per line.
#![allow(clippy::too_many_lines)]

mod apps;
mod common;
mod errors;
mod events;
mod extras;
mod isolation;
mod openapi;
mod page;
mod resolve;
mod serving;
mod values;
#[cfg(feature = "vault")]
mod vault;
#[cfg(feature = "vault")]
#[path = "../support/vault_api.rs"]
mod vault_api;
mod versions;

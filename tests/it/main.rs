//! Integration tests for `valueset`, through the public API only.
//!
//! One binary (one link on a small machine); one module per behaviour (the sections of `docs/guide.md`).

// Test helpers unwrap: a failure there is a test failure, with its location.
#![allow(clippy::unwrap_used)]
// `..Default::default()` in option structs reads better than the type name.
#![allow(clippy::default_trait_access)]
// Tests return `valueset::Result<()>` by house rule, even without a `?`.
#![allow(clippy::unnecessary_wraps)]

mod access;
mod backends;
mod common;
mod concurrency;
mod crash;
mod diff;
mod dry_run;
mod durability;
mod erasure;
mod export;
mod export_history;
mod fast_path;
mod fuzz_regressions;
mod hierarchy;
mod ids;
mod isolation;
mod limits;
mod model;
mod no_leak;
mod placeholders;
mod properties;
mod purge;
mod read_cost;
mod reference;
mod replicas;
mod resolve;
mod restore;
mod secrets;
mod secrets_store;
#[cfg(feature = "postgres")]
mod shared;
#[cfg(feature = "postgres")]
mod shared_backend;
#[cfg(feature = "postgres")]
mod shared_start;
mod sled_dir;
mod tags;
mod tamper;
mod templates;
mod valuesctl;
#[cfg(feature = "vault")]
mod vault;
#[cfg(feature = "vault")]
#[path = "../support/vault_api.rs"]
mod vault_api;
mod versions;
mod watch;

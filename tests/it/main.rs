//! Integration tests for `valueset`, through the public API only.
//!
//! One binary (one link on a small machine); one module per SPEC section.

// Test helpers unwrap: a failure there is a test failure, with its location.
#![allow(clippy::unwrap_used)]

mod fuzz_regressions;
mod ids;
mod no_leak;
mod placeholders;
mod properties;
mod resolve;
mod secrets;
mod valuesctl;

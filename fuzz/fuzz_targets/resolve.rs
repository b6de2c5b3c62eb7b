//! Resolving arbitrary bytes as a template never panics, and the output is
//! secret exactly when some placeholder hit a secret; a plain output is the
//! literals and values in order. The checks live in
//! `tests/it/fuzz_checks.rs`, shared with `cargo test`.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run resolve -s none` from the
//! repository root.
#![no_main]

#[path = "../../tests/it/fuzz_checks.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_resolve(data));

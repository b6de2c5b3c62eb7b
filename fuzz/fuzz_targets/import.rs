//! Arbitrary bytes as an export document: a JSON error, or an import that
//! succeeds, or a typed error after which the store holds nothing
//! (docs/guide.md #export-and-import). The check lives in
//! `tests/it/fuzz_checks.rs`, shared with `cargo test`.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run import -s none` from the
//! repository root.
#![no_main]

#[path = "../../tests/it/fuzz_checks.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_import(data));

//! Parsing arbitrary bytes never panics; a parsed template prints and parses
//! back to the same segments; every span lies inside the input on char
//! boundaries. The checks live in `tests/it/fuzz_checks.rs`, which also
//! replays this target's corpus and crash artifacts in `cargo test`.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run template_parse -s none` from the
//! repository root.
#![no_main]

#[path = "../../tests/it/fuzz_checks.rs"]
#[allow(dead_code)]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_parse(data));

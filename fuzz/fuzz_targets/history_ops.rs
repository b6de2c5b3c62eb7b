//! Arbitrary bytes decoded into a sequence of history operations (set,
//! delete, cascade, batch, restore, purge, at App and Environment level),
//! applied to a Store and to the reference model of `tests/it/reference.rs`,
//! which must agree on every result, version and value after each step.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run history_ops -s none` from the
//! repository root.
#![no_main]

#[path = "../../tests/it/reference.rs"]
#[allow(dead_code)]
mod reference;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ops = reference::ops_from_bytes(data);
    // Long sequences only repeat what short ones reach, more slowly.
    if ops.len() > 40 {
        return;
    }
    let mut harness = reference::Harness::new();
    for op in &ops {
        harness.step(op);
    }
});

//! Arbitrary bytes given to the stored-record decoders: each is a record or
//! a typed `corrupted` error, never a panic (docs/guide.md #durability-concurrency-and-bad-input).
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_record -s none` from the
//! repository root.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = valueset::__fuzz::decode_record(data) {
        assert_eq!(e.code(), "corrupted");
    }
});

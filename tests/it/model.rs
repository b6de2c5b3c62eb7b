//! The history engine against the reference model (`reference.rs`): random
//! operation sequences, including invalid ones, applied to both; after every
//! step every version of every history, every error and every current value
//! agree. Half the values set are templates (`reference::VALUES`), so
//! cycle refusals and resolution are checked against the model too.
//!
//! CI runs 1,000 cases; more by hand: `PROPTEST_CASES=20000 cargo test -q model`.

use proptest::prelude::*;

use crate::reference::{Harness, Op};

fn env() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![Just(None), (0u8..2).prop_map(Some)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (env(), 0u8..3, 0u8..6).prop_map(|(env, key, value)| Op::Set { env, key, value }),
        2 => (env(), 0u8..3, any::<bool>()).prop_map(|(env, key, cascade)| Op::Delete { env, key, cascade }),
        1 => prop::collection::vec((0u8..3, prop::option::of(0u8..6)), 0..4)
            .prop_map(|changes| Op::Batch { changes }),
        2 => (env(), any::<u8>(), prop::option::of(prop::collection::vec(0u8..3, 1..3)))
            .prop_map(|(env, version, keys)| Op::Restore { env, version, keys }),
        2 => (env(), any::<u8>(), 0u8..3).prop_map(|(env, version, key)| Op::Purge { env, version, key }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..24)) {
        let mut harness = Harness::with_store(crate::common::test_store(valueset::Store::builder()));
        for op in &ops {
            harness.step(op);
        }
    }
}

#[test]
fn bytes_decode_to_ops_that_run() {
    let mut harness = Harness::new();
    for op in crate::reference::ops_from_bytes(
        b"\x00\x00\x01\x00\x02\x02\x80\x00\x01\x05\x00\x00\x04\x00\x00\x03\x02\x0d",
    ) {
        harness.step(&op);
    }
}

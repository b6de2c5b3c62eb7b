//! What every backend promises (src/backend/mod.rs, `Backend`): here, that
//! `last_in` finds what a reverse scan visits first, on the memory backend,
//! on sled and, when the run asks for it, on PostgreSQL.

use std::ops::ControlFlow;

use valueset::backend::{Backend, Batch, MemoryBackend, SledBackend};

type Found = Option<(Vec<u8>, Vec<u8>)>;

fn reverse_first(b: &dyn Backend, start: &[u8], end: &[u8]) -> Found {
    let mut found = None;
    b.scan(start, end, true, &mut |k, v| {
        found = Some((k.to_vec(), v.to_vec()));
        ControlFlow::Break(())
    })
    .unwrap();
    found
}

/// Keys `b1`, `b3`, `b5` and `d`; every bound around them.
fn last_in_agrees_with_a_reverse_scan(b: &dyn Backend) {
    let mut batch = Batch::new();
    for k in [&b"b1"[..], b"b3", b"b5", b"d"] {
        batch.insert(k.to_vec(), [b"value of ", k].concat());
    }
    b.apply(batch).unwrap();
    let bounds: [&[u8]; 10] = [
        b"", b"a", b"b", b"b1", b"b2", b"b3", b"b5", b"b6", b"d", b"e",
    ];
    for start in bounds {
        for end in bounds {
            let got = b.last_in(start, end).unwrap();
            assert_eq!(got, reverse_first(b, start, end), "{start:?}..{end:?}");
        }
    }
    // Spelled out: the end is exclusive, the start inclusive.
    let key = |found: Found| found.map(|(k, _)| k);
    assert_eq!(key(b.last_in(b"b", b"b5").unwrap()), Some(b"b3".to_vec()));
    assert_eq!(key(b.last_in(b"b3", b"b4").unwrap()), Some(b"b3".to_vec()));
    assert_eq!(key(b.last_in(b"b4", b"b5").unwrap()), None);
    assert_eq!(
        b.last_in(b"c", b"z").unwrap(),
        Some((b"d".to_vec(), b"value of d".to_vec()))
    );
}

#[test]
fn memory_finds_the_last_entry_of_a_range() {
    last_in_agrees_with_a_reverse_scan(&MemoryBackend::new());
}

#[test]
fn sled_finds_the_last_entry_of_a_range() {
    last_in_agrees_with_a_reverse_scan(&SledBackend::temporary().unwrap());
}

#[test]
fn the_test_server_finds_the_last_entry_of_a_range() {
    if std::env::var("VALUESET_TEST_BACKEND").as_deref() == Ok("postgres") {
        last_in_agrees_with_a_reverse_scan(&crate::common::postgres_backend());
    }
}

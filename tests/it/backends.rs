//! What every backend promises (src/backend/mod.rs, `Backend`): here, that
//! `last_in` finds what a reverse scan visits first, and `last_in_each`
//! what `last_in` finds for each range, on the memory backend, on sled and,
//! when the run asks for it, on PostgreSQL.

use std::ops::ControlFlow;

use valueset::backend::{
    Backend, BackendError, BackendErrorKind, Batch, KeyRange, MemoryBackend, SledBackend, Visit,
};
use valueset::model::{NewValue, VersionSelector};
use valueset::store::{ChangeSet, DeleteOptions};
use valueset::{Actor, AppId, Error, Key, Store};

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
    // Every pair at once, 50 times over: more ranges than a backend may
    // put into one request, answered in the order asked.
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = bounds
        .iter()
        .flat_map(|s| bounds.iter().map(|e| (s.to_vec(), e.to_vec())))
        .collect();
    let ranges: Vec<_> = (0..50).flat_map(|_| pairs.iter().cloned()).collect();
    let each = b.last_in_each(&ranges).unwrap();
    assert_eq!(each.len(), ranges.len());
    for ((start, end), got) in ranges.iter().zip(each) {
        assert_eq!(
            got,
            reverse_first(b, start, end),
            "{start:?}..{end:?} of many"
        );
    }
    assert_eq!(b.last_in_each(&[]).unwrap(), Vec::<Found>::new());
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

/// `get_many` answers as `get` does for each key, in their order.
fn get_many_agrees_with_get(b: &dyn Backend) {
    let mut batch = Batch::new();
    batch.insert(b"a".to_vec(), b"1".to_vec());
    batch.insert(b"b\x00c".to_vec(), b"2".to_vec());
    batch.insert(b"d".to_vec(), Vec::new());
    b.apply(batch).unwrap();
    let keys: [&[u8]; 6] = [b"d", b"missing", b"a", b"b\x00c", b"a", b""];
    let each: Vec<_> = keys.iter().map(|k| b.get(k).unwrap()).collect();
    assert_eq!(b.get_many(&keys).unwrap(), each);
    assert_eq!(each[0], Some(Vec::new()));
    assert_eq!(each[2], Some(b"1".to_vec()));
    assert!(b.get_many(&[]).unwrap().is_empty());
}

#[test]
fn every_backend_reads_many_keys_as_it_reads_one() {
    get_many_agrees_with_get(&MemoryBackend::new());
    get_many_agrees_with_get(&SledBackend::temporary().unwrap());
    if std::env::var("VALUESET_TEST_BACKEND").as_deref() == Ok("postgres") {
        get_many_agrees_with_get(&crate::common::postgres_backend());
    }
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

/// A backend that loses the last answer of every `last_in_each`.
#[derive(Debug, Default)]
struct ShortAnswers(MemoryBackend);

impl Backend for ShortAnswers {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.0.get(key)
    }
    fn scan(&self, s: &[u8], e: &[u8], r: bool, v: &mut Visit<'_>) -> Result<(), BackendError> {
        self.0.scan(s, e, r, v)
    }
    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Found>, BackendError> {
        let mut answers = self.0.last_in_each(ranges)?;
        answers.pop();
        Ok(answers)
    }
    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        self.0.apply(batch)
    }
}

#[test]
fn a_backend_that_answers_fewer_seeks_than_asked_fails_the_read() {
    let store = Store::builder()
        .open_with_backend(ShortAnswers::default())
        .unwrap();
    let (actor, app) = (Actor::admin("ops"), AppId::new("shop").unwrap());
    store.create_app(&actor, &app).unwrap();
    let set = |v: &str| {
        let change = ChangeSet::new().set(Key::new("db.host").unwrap(), NewValue::plain(v));
        store
            .apply(&actor, &app, None, change, DeleteOptions::default())
            .unwrap()
            .id
    };
    let first = set("one");
    let second = set("two");
    // The newest version, named, seeks nothing; the first seeks `db.host`,
    // and `Latest` seeks the newest version record: answers the backend
    // loses, so errors, not a version without the key or no version.
    assert_eq!(
        store
            .version(&actor, &app, None, VersionSelector::Id(second))
            .unwrap()
            .values
            .len(),
        1
    );
    for selector in [VersionSelector::Id(first), VersionSelector::Latest] {
        match store.version(&actor, &app, None, selector) {
            Err(Error::Backend(e)) => assert_eq!(e.kind(), BackendErrorKind::Corrupted),
            other => panic!("expected a corrupted backend, got {other:?}"),
        }
    }
}

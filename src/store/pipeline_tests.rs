//! The group commit's own tests: a storage whose every write waits for the
//! test's permit, so that writers can be queued behind a write on purpose.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::Duration;

use super::*;
use crate::backend::{BackendErrorKind, MemoryBackend};

/// A memory backend whose writes each wait for a permit, and that records
/// them (each batch's writes and preconditions) and counts its flushes.
#[derive(Debug)]
struct Gated {
    inner: MemoryBackend,
    permits: Mutex<Receiver<()>>,
    started: Mutex<Sender<()>>,
    batches: Mutex<Vec<(usize, usize, bool)>>,
    flushes: AtomicUsize,
    panic_next: AtomicBool,
}

impl Backend for Gated {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.inner.get(key)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        self.inner.scan(start, end, reverse, visit)
    }

    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        self.started.lock().unwrap().send(()).unwrap();
        self.permits.lock().unwrap().recv().unwrap();
        assert!(
            !self.panic_next.swap(false, Ordering::SeqCst),
            "the storage panicked"
        );
        let shape = (
            batch.len(),
            batch.preconditions().len(),
            batch.writes_version(),
        );
        let result = self.inner.apply(batch);
        self.batches.lock().unwrap().push(shape);
        result
    }

    fn flush(&self) -> Result<(), BackendError> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn compact(&self) -> Result<(), BackendError> {
        Err(BackendError::new("compacted"))
    }

    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        self.inner.changes()
    }
}

/// Ends the whole test process when a test is still running after 60 s: a
/// writer that never gets its turn or its outcome would otherwise hang the
/// run instead of failing it.
struct Watchdog {
    _done: Sender<()>,
}

fn watchdog() -> Watchdog {
    let (done, wait) = channel::<()>();
    thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            wait.recv_timeout(Duration::from_secs(60))
        {
            // The test harness's output is what a hung run shows.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("a group commit test hung: a writer waits forever");
            }
            std::process::exit(3);
        }
    });
    Watchdog { _done: done }
}

struct Rig {
    _watchdog: Watchdog,
    pipeline: Arc<Pipeline>,
    gated: Arc<Gated>,
    permit: Sender<()>,
    started: Receiver<()>,
}

fn rig(flush: bool) -> Rig {
    let (permit, permits) = channel();
    let (started_tx, started) = channel();
    let gated = Arc::new(Gated {
        inner: MemoryBackend::new(),
        permits: Mutex::new(permits),
        started: Mutex::new(started_tx),
        batches: Mutex::new(Vec::new()),
        flushes: AtomicUsize::new(0),
        panic_next: AtomicBool::new(false),
    });
    let pipeline = Arc::new(Pipeline::new(Arc::clone(&gated) as Arc<dyn Backend>, flush));
    Rig {
        _watchdog: watchdog(),
        pipeline,
        gated,
        permit,
        started,
    }
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// A writer's change: in its turn, read the counter `n` (absent: 0), and
/// write it one higher with `key`, expecting the counter it read.
fn bump(p: &Pipeline, key: &str) -> Result<(), BackendError> {
    let _turn = p.turn();
    let read = p.get(b"n")?;
    let n: u32 = read
        .as_deref()
        .map_or(0, |v| std::str::from_utf8(v).unwrap().parse().unwrap());
    let mut batch = Batch::new();
    batch.expect(b("n"), read);
    batch.insert(b("n"), (n + 1).to_string().into_bytes());
    batch.insert(b(key), b("v"));
    batch.announce_version();
    p.apply(batch)
}

fn spawn_bump(rig: &Rig, key: &'static str) -> Writer {
    let p = Arc::clone(&rig.pipeline);
    thread::spawn(move || bump(&p, key))
}

type Writer = thread::JoinHandle<Result<(), BackendError>>;

/// Three writers: `a`, whose write the storage holds, then `b` and `c`,
/// staged behind it in the next group.
fn two_queued_behind_one(rig: &Rig) -> [Writer; 3] {
    let first = spawn_bump(rig, "a");
    rig.started.recv().unwrap();
    let second = spawn_bump(rig, "b");
    until_staged(&rig.pipeline, "b");
    let third = spawn_bump(rig, "c");
    until_staged(&rig.pipeline, "c");
    [first, second, third]
}

/// Waits until `key` is staged (the writer is then waiting on its group).
fn until_staged(p: &Pipeline, key: &str) {
    while !p.lock().pending.contains_key(key.as_bytes()) {
        thread::sleep(Duration::from_millis(1));
    }
}

/// One writer's batch is being written; two more plan on top of it and
/// are written together, in one batch that expects only what the first of
/// them read. Until then no reader outside a turn sees their writes.
#[test]
fn writers_queued_behind_a_write_are_written_as_one_batch() {
    let rig = rig(true);
    let [first, second, third] = two_queued_behind_one(&rig);
    assert_eq!(rig.pipeline.get(b"n").unwrap(), None, "not written yet");
    assert_eq!(rig.pipeline.get(b"b").unwrap(), None);
    rig.permit.send(()).unwrap();
    first.join().unwrap().unwrap();
    rig.started.recv().unwrap();
    {
        // The first group is written: its writes are no longer pending,
        // the second group's still are.
        let pending = &rig.pipeline.lock().pending;
        assert!(!pending.contains_key(b"a".as_slice()));
        assert!(pending.contains_key(b"b".as_slice()) && pending.contains_key(b"c".as_slice()));
    }
    rig.permit.send(()).unwrap();
    second.join().unwrap().unwrap();
    third.join().unwrap().unwrap();
    // Two writes: the first (the counter and `a`, expecting it absent),
    // then the other two (the counter once, `b` and `c`; expecting the
    // counter the first wrote, not the one the second wrote), each
    // announcing a version as its batches did.
    assert_eq!(
        *rig.gated.batches.lock().unwrap(),
        [(2, 1, true), (3, 1, true)]
    );
    assert_eq!(rig.pipeline.get(b"n").unwrap(), Some(b("3")));
    for key in ["a", "b", "c"] {
        assert_eq!(rig.pipeline.get(key.as_bytes()).unwrap(), Some(b("v")));
    }
    assert_eq!(rig.gated.flushes.load(Ordering::SeqCst), 2);
    assert!(rig.pipeline.lock().pending.is_empty());
}

/// In its turn a writer reads through the writes staged before its own,
/// with every kind of read; outside a turn the same reads see only the
/// storage.
#[test]
fn in_a_turn_reads_see_the_pending_writes() {
    let rig = rig(false);
    let p = &rig.pipeline;
    let mut seed = Batch::new();
    seed.insert(b("k1"), b("stored"));
    seed.insert(b("k3"), b("stored"));
    let seeded = thread::scope(|s| {
        let applied = s.spawn(|| p.apply(seed));
        rig.started.recv().unwrap();
        rig.permit.send(()).unwrap();
        applied.join().unwrap()
    });
    seeded.unwrap();
    let writer = {
        let p = Arc::clone(p);
        thread::spawn(move || {
            let _turn = p.turn();
            let mut batch = Batch::new();
            batch.insert(b("k2"), b("pending"));
            batch.remove(b("k3"));
            p.apply(batch)
        })
    };
    rig.started.recv().unwrap();
    let reads = |p: &Pipeline| {
        let mut scanned = Vec::new();
        p.scan(b"k", b"l", false, &mut |k, v| {
            scanned.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
        (
            p.get_many(&[b"k1", b"k2", b"k3"]).unwrap(),
            scanned.into_iter().map(|(k, _)| k).collect::<Vec<_>>(),
            p.last_in(b"k", b"l").unwrap().map(|(k, _)| k),
            p.last_in_each(&[(b("k0"), b("k2")), (b("k2"), b("k3")), (b("k3"), b("k4"))])
                .unwrap()
                .into_iter()
                .map(|f| f.map(|(k, _)| k))
                .collect::<Vec<_>>(),
        )
    };
    let outside = reads(p);
    assert_eq!(
        outside,
        (
            vec![Some(b("stored")), None, Some(b("stored"))],
            vec![b("k1"), b("k3")],
            Some(b("k3")),
            vec![Some(b("k1")), None, Some(b("k3"))]
        )
    );
    let inside = {
        let _turn = p.turn();
        reads(p)
    };
    assert_eq!(
        inside,
        (
            vec![Some(b("stored")), Some(b("pending")), None],
            vec![b("k1"), b("k2")],
            Some(b("k2")),
            vec![Some(b("k1")), Some(b("k2")), None]
        )
    );
    rig.permit.send(()).unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(reads(p), inside, "written: the same, now from the storage");
}

/// A batch that expects of a pending key another value than the pending
/// one is refused when it is staged, and its turn ends with it.
#[test]
fn a_batch_expecting_other_than_a_pending_write_conflicts_at_once() {
    let rig = rig(false);
    let first = spawn_bump(&rig, "a");
    rig.started.recv().unwrap();
    let e = {
        let _turn = rig.pipeline.turn();
        let mut batch = Batch::new();
        batch.expect(b("n"), None);
        batch.insert(b("n"), b("1"));
        rig.pipeline.apply(batch).unwrap_err()
    };
    assert_eq!(e.kind(), BackendErrorKind::Conflict);
    assert!(!rig.pipeline.lock().turn, "the turn ended");
    rig.permit.send(()).unwrap();
    first.join().unwrap().unwrap();
    assert_eq!(rig.gated.batches.lock().unwrap().len(), 1);
    assert_eq!(rig.gated.flushes.load(Ordering::SeqCst), 0, "not asked to");
}

/// When the storage refuses a group (another process wrote first), every
/// writer of it gets the refusal, nothing of it stays pending, and none is
/// flushed.
#[test]
fn a_refused_group_fails_every_writer_in_it() {
    let rig = rig(true);
    let [first, second, third] = two_queued_behind_one(&rig);
    rig.permit.send(()).unwrap();
    first.join().unwrap().unwrap();
    rig.started.recv().unwrap();
    // Another process moves the counter before the group is written.
    let mut other = Batch::new();
    other.insert(b("n"), b("7"));
    rig.gated.inner.apply(other).unwrap();
    rig.permit.send(()).unwrap();
    for writer in [second, third] {
        let e = writer.join().unwrap().unwrap_err();
        assert_eq!(e.kind(), BackendErrorKind::Conflict);
        assert!(e.to_string().contains("another writer"), "{e}");
    }
    assert!(rig.pipeline.lock().pending.is_empty());
    assert!(rig.pipeline.lock().outcomes.is_empty());
    assert_eq!(rig.gated.flushes.load(Ordering::SeqCst), 1);
    assert_eq!(rig.pipeline.get(b"b").unwrap(), None);
}

/// A write that panics leaves the storage free: the group's other writer
/// gets an error, and the next write goes through.
#[test]
fn a_panicking_write_fails_its_group_and_frees_the_storage() {
    let rig = rig(false);
    let [first, second, third] = two_queued_behind_one(&rig);
    rig.permit.send(()).unwrap();
    first.join().unwrap().unwrap();
    rig.started.recv().unwrap();
    rig.gated.panic_next.store(true, Ordering::SeqCst);
    rig.permit.send(()).unwrap();
    let outcomes = [second.join(), third.join()];
    let panicked = outcomes.iter().filter(|o| o.is_err()).count();
    let failed: Vec<_> = outcomes.into_iter().filter_map(Result::ok).collect();
    assert_eq!((panicked, failed.len()), (1, 1));
    let e = failed.into_iter().next().unwrap().unwrap_err();
    assert!(e.to_string().contains("stopped before it finished"), "{e}");
    assert!(!rig.pipeline.lock().writing);
    let fourth = spawn_bump(&rig, "d");
    rig.started.recv().unwrap();
    rig.permit.send(()).unwrap();
    fourth.join().unwrap().unwrap();
    assert_eq!(rig.pipeline.get(b"n").unwrap(), Some(b("2")));
}

/// Outside a turn a batch goes to the storage as it is, and the Debug
/// output counts pending writes without showing them.
#[test]
fn outside_a_turn_a_batch_is_written_directly() {
    let rig = rig(false);
    let mut batch = Batch::new();
    batch.insert(b("secret-key"), b("secret-value"));
    let p = Arc::clone(&rig.pipeline);
    let direct = thread::spawn(move || p.apply(batch));
    rig.started.recv().unwrap();
    assert!(rig.pipeline.lock().pending.is_empty(), "not staged");
    rig.permit.send(()).unwrap();
    direct.join().unwrap().unwrap();
    let shown = format!("{:?}", rig.pipeline);
    assert!(shown.contains("pending: Some(0), .."), "{shown}");
    assert!(!shown.contains("secret-value"));
}

/// A thread may hold the turns of two stores at once: ending one keeps
/// the other, whose reads still see its pending writes.
#[test]
fn turns_of_two_pipelines_are_held_apart() {
    let (one, two) = (rig(false), rig(false));
    let writer = spawn_bump(&one, "a");
    one.started.recv().unwrap();
    let turn_one = one.pipeline.turn();
    {
        let _turn_two = two.pipeline.turn();
        assert!(one.pipeline.holds_turn() && two.pipeline.holds_turn());
        assert_eq!(two.pipeline.get(b"n").unwrap(), None);
    }
    assert!(one.pipeline.holds_turn() && !two.pipeline.holds_turn());
    assert_eq!(one.pipeline.get(b"n").unwrap(), Some(b("1")), "pending");
    drop(turn_one);
    assert!(!one.pipeline.holds_turn());
    assert_eq!(one.pipeline.get(b"n").unwrap(), None, "not written yet");
    one.permit.send(()).unwrap();
    writer.join().unwrap().unwrap();
}

/// Flushing, compacting and the change feed are the storage's own.
#[test]
fn maintenance_goes_to_the_storage() {
    let rig = rig(false);
    rig.pipeline.flush().unwrap();
    assert_eq!(rig.gated.flushes.load(Ordering::SeqCst), 1);
    let e = rig.pipeline.compact().unwrap_err();
    assert!(e.to_string().contains("compacted"), "{e}");
    assert!(rig.pipeline.changes().unwrap().is_some());
}

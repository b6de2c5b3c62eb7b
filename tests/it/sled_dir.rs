//! The sled store's directory (src/backend/sled/dir.rs): one process at a
//! time, `CURRENT` naming the live generation, generations left by a crash
//! removed on open, a directory from before generations (sled's files in it
//! directly) still opened and moved into one by the first compaction, and
//! watchers woken by each new version.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use valueset::backend::{Backend, BackendErrorKind, Batch, SledBackend};

use crate::common::TempDir;

fn put(b: &SledBackend, key: &str, value: &str) {
    let mut batch = Batch::new();
    batch.insert(key.as_bytes().to_vec(), value.as_bytes().to_vec());
    b.apply(batch).unwrap();
}

fn value(b: &SledBackend, key: &str) -> Option<String> {
    b.get(key.as_bytes())
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap())
}

/// Holds `path` with an OS file lock (as sled and the store do) and lets go
/// after `after`.
fn hold_for(path: &Path, after: Duration) -> std::thread::JoinHandle<()> {
    let file = File::options().read(true).write(true).open(path).unwrap();
    file.try_lock().unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        drop(file);
    })
}

#[test]
fn a_store_held_a_moment_longer_opens_once_it_is_let_go() {
    let dir = TempDir::new("sled-dir-wait");
    drop(SledBackend::open(dir.path()).unwrap());
    // Another handle of the store, then sled's own lock on its database
    // (a handle still closing): opening waits for each.
    let store_lock = hold_for(&dir.path().join("LOCK"), Duration::from_millis(300));
    let b = SledBackend::open(dir.path()).unwrap();
    store_lock.join().unwrap();
    drop(b);
    let sled_lock = hold_for(&dir.path().join("data-1/db"), Duration::from_millis(300));
    SledBackend::open(dir.path()).unwrap();
    sled_lock.join().unwrap();
}

#[test]
fn a_store_open_elsewhere_is_busy_after_a_bounded_wait() {
    let dir = TempDir::new("sled-dir-busy");
    let holder = SledBackend::open(dir.path()).unwrap();
    let start = Instant::now();
    let e = SledBackend::open(dir.path()).unwrap_err();
    assert!(matches!(e.kind(), BackendErrorKind::Busy { .. }), "{e}");
    assert!(e.is_retryable());
    assert!(start.elapsed() >= Duration::from_secs(1), "it waited");
    drop(holder);
}

#[test]
fn current_names_a_generation_or_the_store_does_not_open() {
    let dir = TempDir::new("sled-dir-current");
    drop(SledBackend::open(dir.path()).unwrap());
    let current = dir.path().join("CURRENT");
    assert_eq!(std::fs::read_to_string(&current).unwrap().trim(), "data-1");
    for bad in ["data-0", "data-x", "data-", ""] {
        std::fs::write(&current, bad).unwrap();
        let e = SledBackend::open(dir.path()).unwrap_err();
        assert_eq!(e.kind(), BackendErrorKind::Corrupted, "{bad}: {e}");
    }
    // Unreadable is an error too, not a fresh store.
    std::fs::write(&current, [0xff, 0xfe]).unwrap();
    let e = SledBackend::open(dir.path()).unwrap_err();
    assert!(e.to_string().contains("could not read CURRENT"), "{e}");
    std::fs::remove_file(&current).unwrap();
    std::fs::create_dir(&current).unwrap();
    assert!(SledBackend::open(dir.path()).is_err());
}

#[test]
fn a_directory_from_before_generations_opens_and_moves_into_one() {
    let dir = TempDir::new("sled-dir-legacy");
    {
        let b = SledBackend::open(dir.path()).unwrap();
        put(&b, "k", "v");
        b.flush().unwrap();
    }
    // The layout of an older release: sled's files in the directory itself.
    let data = dir.path().join("data-1");
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        std::fs::rename(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    std::fs::remove_dir(&data).unwrap();
    std::fs::remove_file(dir.path().join("CURRENT")).unwrap();

    let b = SledBackend::open(dir.path()).unwrap();
    assert_eq!(value(&b, "k").as_deref(), Some("v"));
    assert!(!dir.path().join("CURRENT").exists(), "still generation 0");
    b.compact().unwrap();
    assert_eq!(value(&b, "k").as_deref(), Some("v"));
    let current = std::fs::read_to_string(dir.path().join("CURRENT")).unwrap();
    assert_eq!(current.trim(), "data-1");
    for old in ["conf", "db", "blobs"] {
        assert!(!dir.path().join(old).exists(), "{old} was retired");
    }
    assert!(dir.path().join("data-1/db").exists());
    drop(b);

    // A crash after the switch, before the old files went: they go on open.
    std::fs::write(dir.path().join("db"), "left over").unwrap();
    let b = SledBackend::open(dir.path()).unwrap();
    assert!(!dir.path().join("db").exists());
    assert_eq!(value(&b, "k").as_deref(), Some("v"));
    assert!(format!("{b:?}").contains("data-1"), "{b:?}");
}

#[test]
fn a_version_batch_wakes_a_watcher() {
    let dir = TempDir::new("sled-dir-watch");
    let b = SledBackend::open(dir.path()).unwrap();
    let mut changes = b.changes().unwrap().expect("sled wakes watchers");
    let mut batch = Batch::new();
    batch.insert(b"V\x00app".to_vec(), b"record".to_vec());
    batch.announce_version();
    b.apply(batch).unwrap();
    let start = Instant::now();
    changes.wait(Duration::from_secs(30)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[cfg(unix)]
#[test]
fn a_store_directory_is_created_closed_to_other_users() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("sled-dir-create");
    let nested = dir.path().join("not/yet/there");
    let b = SledBackend::open(&nested).unwrap();
    put(&b, "k", "v");
    let mode = std::fs::metadata(&nested).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // A directory someone made with `mkdir` is closed too.
    let by_hand = dir.path().join("made");
    std::fs::create_dir(&by_hand).unwrap();
    std::fs::set_permissions(&by_hand, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(SledBackend::open(&by_hand).unwrap());
    let mode = std::fs::metadata(&by_hand).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn a_leftover_generation_that_cannot_be_removed_stops_the_open() {
    // What a crashed compaction left may hold purged data: failing to
    // remove it is an error, not something to open past.
    let dir = TempDir::new("sled-dir-stray");
    drop(SledBackend::open(dir.path()).unwrap());
    std::fs::write(dir.path().join("data-7"), "not a directory").unwrap();
    let e = SledBackend::open(dir.path()).unwrap_err();
    assert!(e.to_string().contains("could not remove"), "{e}");
}

//! The layout of a sled store's directory, and the lock that keeps it to
//! one process:
//!
//! ```text
//! DIR/             0700: nothing in it is readable by other users
//!   LOCK           held (an OS file lock) while a process has the store open
//!   CURRENT        names the live generation: `data-N`
//!   data-N/        sled's own files for generation N
//! ```
//!
//! Compaction writes the live data into generation N+1, makes it durable,
//! then points `CURRENT` at it with an atomic rename, and only then removes
//! generation N: a crash at any instant leaves `CURRENT` naming a complete
//! generation, and leftovers are removed on the next open. A directory
//! written before generations existed (sled's files in `DIR` itself) is
//! generation 0, which the first compaction moves into `data-1`.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::super::BackendError;
use super::super::BackendErrorKind;
use super::errors::io_error;

/// How long opening waits for another handle to let go of the store.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// sled's files when they sit in the directory itself (generation 0).
const LEGACY_FILES: [&str; 3] = ["conf", "db", "blobs"];

/// An open store directory: its path and the held lock.
#[derive(Debug)]
pub(super) struct StoreDir {
    path: PathBuf,
    /// Held for as long as the store is open; dropping it lets go.
    _lock: File,
}

impl StoreDir {
    /// Opens (or creates) the directory, takes its lock (waiting up to
    /// [`LOCK_WAIT`] for another handle to let go), removes what an
    /// interrupted compaction left, and returns the live generation.
    pub(super) fn open(path: &Path) -> Result<(StoreDir, u64), BackendError> {
        create_private_dir(path)
            .map_err(|e| io_error(&format!("could not create {}", path.display()), e))?;
        let lock = take_lock(path)?;
        let dir = StoreDir {
            path: path.to_path_buf(),
            _lock: lock,
        };
        let generation = match dir.read_current()? {
            Some(n) => n,
            None if LEGACY_FILES.iter().any(|f| path.join(f).exists()) => 0,
            None => {
                dir.write_current(1)?;
                1
            }
        };
        dir.remove_other_generations(generation)?;
        Ok((dir, generation))
    }

    /// Where generation `n` keeps its files.
    pub(super) fn generation_path(&self, n: u64) -> PathBuf {
        if n == 0 {
            self.path.clone()
        } else {
            self.path.join(format!("data-{n}"))
        }
    }

    /// Prepares an empty directory for generation `n`.
    pub(super) fn fresh_generation(&self, n: u64) -> Result<PathBuf, BackendError> {
        let path = self.generation_path(n);
        remove_dir(&path)?;
        create_private_dir(&path)
            .map_err(|e| io_error(&format!("could not create {}", path.display()), e))?;
        Ok(path)
    }

    /// Makes generation `n` the live one, atomically and durably.
    pub(super) fn write_current(&self, n: u64) -> Result<(), BackendError> {
        let tmp = self.path.join("CURRENT.tmp");
        let what = |e| io_error("could not record the live generation", e);
        let mut file = private_file(&tmp).map_err(what)?;
        writeln!(file, "data-{n}").map_err(what)?;
        file.sync_all().map_err(what)?;
        fs::rename(&tmp, self.path.join("CURRENT")).map_err(what)?;
        sync_dir(&self.path).map_err(what)
    }

    /// Removes generation `n` once the sled handle that had it open has let
    /// go of it (sled's background flusher may hold it a moment longer). If
    /// it cannot be removed now, the next open removes it.
    pub(super) fn retire_generation(&self, n: u64) -> Result<(), BackendError> {
        let path = self.generation_path(n);
        wait_for_sled_to_close(&path);
        if n == 0 {
            for name in LEGACY_FILES {
                remove_any(&path.join(name))?;
            }
            for entry in read_dir(&path)? {
                if entry.file_name().to_string_lossy().starts_with("snap.") {
                    remove_any(&entry.path())?;
                }
            }
            return Ok(());
        }
        remove_dir(&path)
    }

    /// Makes every file sled created in generation `n` readable by its owner
    /// only (the directory already keeps other users out).
    pub(super) fn protect(&self, n: u64) -> Result<(), BackendError> {
        let root = self.generation_path(n);
        set_mode(&root, 0o700);
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in read_dir(&dir)? {
                let path = entry.path();
                if n == 0 && path.parent() == Some(self.path.as_path()) {
                    // Generation 0 shares the directory with LOCK and CURRENT.
                    let name = entry.file_name();
                    if name == "LOCK"
                        || name == "CURRENT"
                        || name.to_string_lossy().starts_with("data-")
                    {
                        continue;
                    }
                }
                if path.is_dir() {
                    set_mode(&path, 0o700);
                    stack.push(path);
                } else {
                    set_mode(&path, 0o600);
                }
            }
        }
        Ok(())
    }

    fn read_current(&self) -> Result<Option<u64>, BackendError> {
        let text = match fs::read_to_string(self.path.join("CURRENT")) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("could not read CURRENT", e)),
        };
        let n = text
            .trim()
            .strip_prefix("data-")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                BackendError::with_kind(
                    BackendErrorKind::Corrupted,
                    "CURRENT does not name a generation (`data-N`)",
                )
            })?;
        Ok(Some(n))
    }

    /// Removes every generation directory but `live`: leftovers of a
    /// compaction that a crash interrupted, before or after its switch.
    fn remove_other_generations(&self, live: u64) -> Result<(), BackendError> {
        for entry in read_dir(&self.path)? {
            let name = entry.file_name();
            let stale = name
                .to_str()
                .and_then(|n| n.strip_prefix("data-"))
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n != live);
            if stale {
                remove_dir(&entry.path())?;
            }
        }
        if live != 0 {
            // A compaction out of generation 0 that switched but did not
            // finish removing the old files.
            self.retire_generation_0_leftovers()?;
        }
        Ok(())
    }

    fn retire_generation_0_leftovers(&self) -> Result<(), BackendError> {
        if LEGACY_FILES.iter().any(|f| self.path.join(f).exists()) {
            self.retire_generation(0)?;
        }
        Ok(())
    }
}

/// Takes the directory's lock, waiting up to [`LOCK_WAIT`].
fn take_lock(dir: &Path) -> Result<File, BackendError> {
    let path = dir.join("LOCK");
    let file = private_file_keep(&path)
        .map_err(|e| io_error(&format!("could not open {}", path.display()), e))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(BackendError::with_kind(
                    BackendErrorKind::Busy {
                        waited: start.elapsed(),
                    },
                    format!(
                        "the store in {} is open in another process; waited {} ms for it",
                        dir.display(),
                        start.elapsed().as_millis()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(io_error(&format!("could not lock {}", path.display()), e));
            }
        }
    }
}

/// Waits (up to [`LOCK_WAIT`]) until no sled handle holds the database in
/// `generation`: sled locks its `db` file while open.
fn wait_for_sled_to_close(generation: &Path) {
    let Ok(db) = File::open(generation.join("db")) else {
        return;
    };
    let start = Instant::now();
    while matches!(db.try_lock(), Err(TryLockError::WouldBlock)) && start.elapsed() < LOCK_WAIT {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_dir(path: &Path) -> Result<Vec<fs::DirEntry>, BackendError> {
    fs::read_dir(path)
        .and_then(Iterator::collect)
        .map_err(|e| io_error(&format!("could not list {}", path.display()), e))
}

fn remove_dir(path: &Path) -> Result<(), BackendError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(io_error(&format!("could not remove {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

fn remove_any(path: &Path) -> Result<(), BackendError> {
    if path.is_dir() {
        remove_dir(path)
    } else {
        match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_error(&format!("could not remove {}", path.display()), e))
            }
            _ => Ok(()),
        }
    }
}

/// Creates `path` and its parents; on Unix closed to other users, an
/// existing directory (made by `mkdir`, say) too.
fn create_private_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)?;
        fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(path)
    }
}

/// Creates (or truncates) a file only its owner can read.
fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    owner_only(&mut options);
    options.open(path)
}

/// Opens (or creates) a file only its owner can read, keeping its content.
fn private_file_keep(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    owner_only(&mut options);
    options.open(path)
}

#[cfg(unix)]
fn owner_only(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600);
}

#[cfg(not(unix))]
fn owner_only(_: &mut OpenOptions) {}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    // Best effort: a file sled removed meanwhile needs no protecting.
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

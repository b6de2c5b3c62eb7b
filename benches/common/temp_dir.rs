//! A directory for one bench's sled store, named after the process so runs
//! side by side do not meet, and removed when dropped.

pub(crate) struct Dir(pub(crate) std::path::PathBuf);

impl Dir {
    /// A fresh, empty path under the system's temporary directory.
    pub(crate) fn new(name: &str) -> Dir {
        let dir =
            std::env::temp_dir().join(format!("valueset-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

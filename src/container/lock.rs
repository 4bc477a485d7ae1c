//! Cross-process locks on object names (flock on a file per name).
//!
//! Two dockhand processes changing the same container at once race: both
//! see it missing and both create it, or one removes what the other starts.
//! A mutating operation therefore holds an exclusive `flock` on
//! `<dir>/<scope>-<name>.lock`, where `<dir>` is `$XDG_RUNTIME_DIR/dockhand`
//! or `/run/dockhand`. Other names use other files, so they never block each
//! other. A waiter polls (through [`exec::sleep`](crate::exec::sleep), so
//! SIGINT ends the wait) until its deadline, then fails with
//! [`ErrorKind::Conflict`] "operation in progress".
//!
//! Lock files are removed on release. The holder unlinks the file before it
//! unlocks, and a new holder checks that the file it locked is still the one
//! at the path. A process that locked an unlinked file retries, so the
//! directory does not fill up with one file per name ever used.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, ErrorKind, Result};

/// Pause between attempts while another process holds the lock.
const POLL: Duration = Duration::from_millis(50);

/// The directory lock files live in: `$XDG_RUNTIME_DIR/dockhand`, else
/// `/run/dockhand`.
pub fn lock_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("dockhand"),
        _ => PathBuf::from("/run/dockhand"),
    }
}

/// An exclusive lock on one name; released (and its file removed) on drop.
#[derive(Debug)]
pub struct NameLock {
    path: PathBuf,
    _file: Flock<File>,
}

impl NameLock {
    /// Lock `name` in `scope` (e.g. `container-docker`), waiting up to
    /// `timeout` for another holder. Names must be file-name safe (the
    /// validated input types are).
    ///
    /// ```
    /// use std::time::Duration;
    /// use dockhand::container::lock::NameLock;
    /// let dir = tempfile::tempdir().unwrap();
    /// let held = NameLock::acquire_in(dir.path(), "doc", "web", Duration::ZERO).unwrap();
    /// let busy = NameLock::acquire_in(dir.path(), "doc", "web", Duration::from_millis(100)).unwrap_err();
    /// assert_eq!(busy.kind(), dockhand::ErrorKind::Conflict);
    /// drop(held);
    /// NameLock::acquire_in(dir.path(), "doc", "web", Duration::ZERO).unwrap();
    /// ```
    pub fn acquire_in(dir: &Path, scope: &str, name: &str, timeout: Duration) -> Result<NameLock> {
        ensure_dir(dir)?;
        let path = dir.join(format!("{scope}-{name}.lock"));
        // A timeout too large for the clock: wait as long as it takes.
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&path)
                .map_err(|e| io_error(&path, "open", e))?;
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(locked) if still_at_path(&locked, &path) => {
                    return Ok(NameLock {
                        path,
                        _file: locked,
                    })
                }
                // The holder before us removed this file: lock the new one.
                Ok(_stale) => continue,
                Err((_, Errno::EWOULDBLOCK)) if deadline.is_none_or(|d| Instant::now() < d) => {
                    let left =
                        deadline.map_or(POLL, |d| d.saturating_duration_since(Instant::now()));
                    crate::exec::sleep(POLL.min(left))?;
                }
                Err((_, Errno::EWOULDBLOCK)) => {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!(
                            "operation in progress on {name}: another dockhand process holds {} \
                             (waited {:.1}s; see --lock-timeout)",
                            path.display(),
                            timeout.as_secs_f64()
                        ),
                    ))
                }
                Err((_, errno)) => return Err(io_error(&path, "lock", errno.into())),
            }
        }
    }
}

impl Drop for NameLock {
    fn drop(&mut self) {
        // Unlink while still holding the lock (see the module docs).
        let _ = fs::remove_file(&self.path);
    }
}

/// Locks on several names, taken in sorted order (so two processes locking
/// overlapping sets cannot deadlock) within one overall deadline.
#[derive(Debug)]
pub struct LockSet {
    _held: Vec<NameLock>,
}

impl LockSet {
    /// Lock every name in `scope` under [`lock_dir`].
    pub fn acquire<'a>(
        scope: &str,
        names: impl IntoIterator<Item = &'a str>,
        timeout: Duration,
    ) -> Result<LockSet> {
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let dir = lock_dir();
        let deadline = Instant::now().checked_add(timeout);
        let locks = names
            .into_iter()
            .map(|n| {
                let left =
                    deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
                NameLock::acquire_in(&dir, scope, n, left)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LockSet { _held: locks })
    }
}

fn still_at_path(locked: &Flock<File>, path: &Path) -> bool {
    match (locked.metadata(), fs::metadata(path)) {
        (Ok(held), Ok(current)) => held.dev() == current.dev() && held.ino() == current.ino(),
        _ => false,
    }
}

fn ensure_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error(dir, "create", e))
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        _ => ErrorKind::EngineFailure,
    };
    Error::new(
        kind,
        format!(
            "cannot {what} lock file {}: {e} (set XDG_RUNTIME_DIR to a writable directory)",
            path.display()
        ),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_names_do_not_block_and_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let a = NameLock::acquire_in(dir.path(), "t", "a", Duration::ZERO).unwrap();
        let b = NameLock::acquire_in(dir.path(), "t", "b", Duration::ZERO).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        drop((a, b));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_releases() {
        let dir = tempfile::tempdir().unwrap();
        let held = NameLock::acquire_in(dir.path(), "t", "x", Duration::ZERO).unwrap();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            NameLock::acquire_in(&path, "t", "x", Duration::from_secs(10)).map(|_| ())
        });
        crate::exec::sleep(Duration::from_millis(200)).unwrap();
        drop(held);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn timeout_is_a_conflict_naming_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let _held = NameLock::acquire_in(dir.path(), "t", "busy", Duration::ZERO).unwrap();
        let e =
            NameLock::acquire_in(dir.path(), "t", "busy", Duration::from_millis(120)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.message().contains("operation in progress on busy"), "{e}");
    }
}

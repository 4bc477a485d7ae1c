//! Cross-process locks on object names.
//!
//! Two dockhand processes changing the same container at once race: both
//! see it missing and both create it, or one removes what the other starts.
//! A mutating operation therefore holds an exclusive lock on each name it
//! changes, within its scope (`container-docker`, …) and endpoint (the hosts
//! of a fleet have names of their own). Other names never block each other. A waiter polls (through [`exec::sleep`](crate::exec::sleep),
//! so SIGINT ends the wait) until its deadline, then fails with
//! [`ErrorKind::Conflict`] "operation in progress".
//!
//! **One file per scope, one byte per name.** A name's lock is an
//! open-file-description (OFD) record lock on one byte of
//! `<dir>/<scope>.lock`, at an offset hashed from the name (62 bits of
//! FNV-1a; two names sharing a byte only wait for each other). So names of
//! any length work (no file name to overflow), a batch of any size holds a
//! single descriptor, nothing is left behind per name, and the kernel drops
//! the locks of a process that dies. A [`LockSet`] takes its bytes in
//! ascending order, so two processes locking overlapping sets never
//! deadlock.
//!
//! **Where.** `<dir>` is [`lock_dir`]: `$XDG_RUNTIME_DIR/dockhand` (as root
//! only when `XDG_RUNTIME_DIR` belongs to root), else `/run/dockhand` when
//! it is (or can be made) ours, else `/tmp/dockhand-<uid>` (cron, `su -c`:
//! a user without a runtime directory). The directory must belong to the
//! effective user and have mode 0700, and the lock file is opened relative
//! to it with `O_NOFOLLOW` — else the lock is refused with
//! [`ErrorKind::PermissionDenied`]: a directory someone else controls could
//! otherwise make root create or truncate files anywhere through a symlink.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, open, openat, FcntlArg, OFlag};
use nix::sys::stat::Mode;

use crate::engine::endpoint::DOCKER_DEFAULT_HOST;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};

/// Pause between attempts while another process holds the lock.
const POLL: Duration = Duration::from_millis(50);

/// The directory lock files live in (see the module docs for the order);
/// nothing is created or checked here.
///
/// ```
/// let dir = dockhand::container::lock::lock_dir();
/// assert!(dir.ends_with("dockhand") || dir.to_string_lossy().contains("dockhand-"));
/// ```
pub fn lock_dir() -> PathBuf {
    let uid = nix::unistd::geteuid();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        let runtime = PathBuf::from(runtime);
        // Root trusts only a runtime directory of root's (a `su` or `sudo`
        // may have kept a user's).
        let trusted = !uid.is_root() || std::fs::metadata(&runtime).is_ok_and(|m| m.uid() == 0);
        if trusted {
            return runtime.join("dockhand");
        }
        log::debug!("ignoring XDG_RUNTIME_DIR {}: not root's", runtime.display());
    }
    let system = PathBuf::from("/run/dockhand");
    let usable = match std::fs::symlink_metadata(&system) {
        Ok(m) => m.uid() == uid.as_raw(),
        Err(_) => nix::unistd::access("/run", nix::unistd::AccessFlags::W_OK).is_ok(),
    };
    if uid.is_root() || usable {
        system
    } else {
        PathBuf::from(format!("/tmp/dockhand-{uid}"))
    }
}

/// The open lock file of one scope, with the bytes this holder locked;
/// closing it (on drop) releases them all.
#[derive(Debug)]
struct Held {
    _file: File,
}

/// An exclusive lock on one name; released on drop.
#[derive(Debug)]
pub struct NameLock {
    _held: Held,
}

impl NameLock {
    /// Lock `name` in `scope` (e.g. `container-docker`) in the lock
    /// directory `dir`, waiting up to `timeout` for another holder.
    ///
    /// ```
    /// use std::time::Duration;
    /// use dockhand::container::lock::NameLock;
    /// let dir = tempfile::tempdir().unwrap();
    /// let dir = dir.path().join("locks");
    /// let held = NameLock::acquire_in(&dir, "doc", "web", Duration::ZERO).unwrap();
    /// let busy = NameLock::acquire_in(&dir, "doc", "web", Duration::from_millis(100)).unwrap_err();
    /// assert_eq!(busy.kind(), dockhand::ErrorKind::Conflict);
    /// drop(held);
    /// NameLock::acquire_in(&dir, "doc", "web", Duration::ZERO).unwrap();
    /// ```
    pub fn acquire_in(dir: &Path, scope: &str, name: &str, timeout: Duration) -> Result<NameLock> {
        Ok(NameLock {
            _held: lock_all(dir, scope, &[name], timeout)?,
        })
    }
}

/// Locks on several names of one scope, taken in ascending order (so two
/// processes locking overlapping sets cannot deadlock) within one overall
/// deadline, all through one open file.
#[derive(Debug)]
pub struct LockSet {
    _held: Held,
}

impl LockSet {
    /// Lock every name in `scope` under [`lock_dir`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let held = dockhand::container::lock::LockSet::acquire("container-docker", ["web", "db"], Duration::from_secs(30))?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn acquire<'a>(
        scope: &str,
        names: impl IntoIterator<Item = &'a str>,
        timeout: Duration,
    ) -> Result<LockSet> {
        LockSet::acquire_in(&lock_dir(), scope, names, timeout)
    }

    /// [`LockSet::acquire`] in the lock directory `dir`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use dockhand::container::lock::LockSet;
    /// let dir = tempfile::tempdir().unwrap();
    /// let dir = dir.path().join("locks");
    /// let names: Vec<String> = (0..5000).map(|i| format!("c{i}")).collect();
    /// let all = LockSet::acquire_in(&dir, "doc", names.iter().map(String::as_str), Duration::ZERO).unwrap();
    /// assert!(LockSet::acquire_in(&dir, "doc", ["c4999"], Duration::ZERO).is_err());
    /// assert!(LockSet::acquire_in(&dir, "doc", ["other"], Duration::ZERO).is_ok());
    /// ```
    pub fn acquire_in<'a>(
        dir: &Path,
        scope: &str,
        names: impl IntoIterator<Item = &'a str>,
        timeout: Duration,
    ) -> Result<LockSet> {
        let names: Vec<&str> = names.into_iter().collect();
        Ok(LockSet {
            _held: lock_all(dir, scope, &names, timeout)?,
        })
    }
}

/// Lock `names` in `scope` (`container`, `app`: the engine's kind is added)
/// for a mutation of `engine`'s objects; nothing to lock in a dry run. The
/// endpoint is part of each locked name, so the hosts of a fleet never wait
/// for each other; the default local endpoint locks the bare names.
pub(crate) fn lock_for<'a>(
    engine: &Engine,
    scope: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Option<LockSet>> {
    if engine.is_dry_run() {
        return Ok(None);
    }
    let scope = format!("{scope}-{}", engine.kind().as_str());
    let keys = keys_for(engine, names);
    LockSet::acquire(
        &scope,
        keys.iter().map(String::as_str),
        engine.lock_timeout(),
    )
    .map(Some)
}

/// What [`lock_for`] locks: `web`, or `web on ssh://root@box` for an engine
/// that is not the default local one.
fn keys_for<'a>(engine: &Engine, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let endpoint = engine.endpoint_hint();
    let local = endpoint == DOCKER_DEFAULT_HOST || endpoint == "local";
    names
        .into_iter()
        .map(|n| match local {
            true => n.to_string(),
            false => format!("{n} on {endpoint}"),
        })
        .collect()
}

/// The byte of `name`'s lock: 62 bits of its FNV-1a hash (stable across
/// Rust versions; an offset `off_t` always holds).
fn offset_of(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h >> 2) as i64
}

/// Open the scope's lock file in `dir` and lock the byte of every name,
/// in ascending order, waiting for holders until `timeout` has passed.
fn lock_all(dir: &Path, scope: &str, names: &[&str], timeout: Duration) -> Result<Held> {
    let file = open_lock_file(dir, scope)?;
    let mut bytes: Vec<(i64, &str)> = names.iter().map(|n| (offset_of(n), *n)).collect();
    bytes.sort_unstable();
    bytes.dedup_by_key(|(offset, _)| *offset);
    // A timeout too large for the clock: wait as long as it takes.
    let deadline = Instant::now().checked_add(timeout);
    for (offset, name) in bytes {
        loop {
            match lock_byte(&file, offset) {
                Ok(()) => break,
                Err(Errno::EAGAIN | Errno::EACCES)
                    if deadline.is_none_or(|d| Instant::now() < d) =>
                {
                    let left =
                        deadline.map_or(POLL, |d| d.saturating_duration_since(Instant::now()));
                    crate::exec::sleep(POLL.min(left))?;
                }
                Err(Errno::EAGAIN | Errno::EACCES) => {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!(
                        "operation in progress on {name}: another dockhand process holds its lock \
                             in {} (waited {:.1}s; see --lock-timeout)",
                        dir.join(format!("{scope}.lock")).display(),
                        timeout.as_secs_f64()
                    ),
                    ))
                }
                Err(errno) => return Err(lock_error(dir, "lock a name in", errno.into())),
            }
        }
    }
    Ok(Held { _file: file })
}

/// An exclusive OFD lock on one byte, without waiting.
fn lock_byte(file: &File, offset: i64) -> std::result::Result<(), Errno> {
    // SAFETY: a plain C struct; all-zero is a valid value, completed below.
    let mut lock: nix::libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = nix::libc::F_WRLCK as i16;
    lock.l_whence = nix::libc::SEEK_SET as i16;
    lock.l_start = offset;
    lock.l_len = 1;
    fcntl(file.as_raw_fd(), FcntlArg::F_OFD_SETLK(&lock)).map(drop)
}

/// `dir` (created 0700 when missing) checked to be ours and private, and
/// in it the scope's lock file, opened without following a symlink.
fn open_lock_file(dir: &Path, scope: &str) -> Result<File> {
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        return Err(lock_error(dir, "create", e));
    }
    let dir_fd = open(
        dir,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| lock_error(dir, "open", e.into()))?;
    // SAFETY: `open` returned a new descriptor that nothing else owns.
    let dir_fd = unsafe { OwnedFd::from_raw_fd(dir_fd) };
    let me = nix::unistd::geteuid().as_raw();
    let meta = File::from(dir_fd.try_clone().map_err(|e| lock_error(dir, "open", e))?)
        .metadata()
        .map_err(|e| lock_error(dir, "inspect", e))?;
    if meta.uid() != me || meta.mode() & 0o777 != 0o700 {
        return Err(untrusted(
            dir,
            format!(
                "it belongs to uid {} with mode {:04o}",
                meta.uid(),
                meta.mode() & 0o7777
            ),
        ));
    }
    let name = format!("{scope}.lock");
    let fd = openat(
        Some(dir_fd.as_raw_fd()),
        name.as_str(),
        OFlag::O_RDWR | OFlag::O_CREAT | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::S_IRUSR | Mode::S_IWUSR,
    )
    .map_err(|e| match e {
        Errno::ELOOP => untrusted(dir, format!("{name} in it is a symbolic link")),
        e => lock_error(&dir.join(&name), "open", e.into()),
    })?;
    // SAFETY: `openat` returned a new descriptor that nothing else owns.
    let file = unsafe { File::from_raw_fd(fd) };
    let meta = file
        .metadata()
        .map_err(|e| lock_error(&dir.join(&name), "inspect", e))?;
    if !meta.is_file() || meta.uid() != me {
        return Err(untrusted(
            dir,
            format!("{name} in it is not a file of ours"),
        ));
    }
    Ok(file)
}

fn untrusted(dir: &Path, why: String) -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        format!(
            "refusing the lock directory {}: {why}; it must belong to you and have mode 0700 \
             (remove it, or set XDG_RUNTIME_DIR to a private directory)",
            dir.display()
        ),
    )
}

fn lock_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        _ => ErrorKind::EngineFailure,
    };
    Error::new(
        kind,
        format!(
            "cannot {what} the lock directory {}: {e} (set XDG_RUNTIME_DIR to a writable directory)",
            path.display()
        ),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn locks() -> (tempfile::TempDir, PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("dockhand");
        (top, dir)
    }

    #[test]
    fn different_names_do_not_block_and_one_file_serves_a_scope() {
        let (_top, dir) = locks();
        let a = NameLock::acquire_in(&dir, "t", "a", Duration::ZERO).unwrap();
        let b = NameLock::acquire_in(&dir, "t", "b", Duration::ZERO).unwrap();
        let long = "n".repeat(4000);
        let c = NameLock::acquire_in(&dir, "t", &long, Duration::ZERO).unwrap();
        assert!(NameLock::acquire_in(&dir, "t", &long, Duration::ZERO).is_err());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["t.lock"]);
        drop((a, b, c));
        NameLock::acquire_in(&dir, "t", &long, Duration::ZERO).unwrap();
    }

    #[test]
    fn the_hosts_of_a_fleet_lock_names_of_their_own() {
        let (_top, dir) = locks();
        let docker = Engine::from_command("docker").unwrap();
        let on = |url: &str| docker.clone().with_host(Some(url.into()));
        assert_eq!(keys_for(&docker, ["web"]), ["web"]);
        let (a, b) = (on("ssh://root@a"), on("ssh://root@b"));
        assert_eq!(keys_for(&a, ["web"]), ["web on ssh://root@a"]);
        let lock = |e: &Engine| {
            let keys = keys_for(e, ["web"]);
            LockSet::acquire_in(&dir, "t", keys.iter().map(String::as_str), Duration::ZERO)
        };
        let held = (lock(&docker).unwrap(), lock(&a).unwrap(), lock(&b).unwrap());
        let busy = lock(&a).unwrap_err();
        assert!(busy.message().contains("web on ssh://root@a"), "{busy}");
        drop(held);
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_releases() {
        let (_top, dir) = locks();
        let held = NameLock::acquire_in(&dir, "t", "x", Duration::ZERO).unwrap();
        let path = dir.clone();
        let waiter = std::thread::spawn(move || {
            NameLock::acquire_in(&path, "t", "x", Duration::from_secs(10)).map(|_| ())
        });
        crate::exec::sleep(Duration::from_millis(200)).unwrap();
        drop(held);
        waiter.join().unwrap().unwrap();
    }

    #[test]
    fn timeout_is_a_conflict_naming_the_name() {
        let (_top, dir) = locks();
        let _held = NameLock::acquire_in(&dir, "t", "busy", Duration::ZERO).unwrap();
        let e = NameLock::acquire_in(&dir, "t", "busy", Duration::from_millis(120)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.message().contains("operation in progress on busy"), "{e}");
    }

    #[test]
    fn overlapping_sets_taken_from_both_ends_do_not_deadlock() {
        let (_top, dir) = locks();
        let names: Vec<String> = (0..200).map(|i| format!("n{i}")).collect();
        std::thread::scope(|s| {
            for round in 0..4 {
                let (dir, names) = (&dir, &names);
                s.spawn(move || {
                    for _ in 0..20 {
                        let mut mine: Vec<&str> = names.iter().map(String::as_str).collect();
                        if round % 2 == 1 {
                            mine.reverse();
                        }
                        LockSet::acquire_in(dir, "t", mine, Duration::from_secs(30)).unwrap();
                    }
                });
            }
        });
    }

    #[test]
    fn a_directory_that_is_not_private_or_a_planted_symlink_is_refused() {
        let (top, dir) = locks();
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = NameLock::acquire_in(&dir, "t", "a", Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(e.message().contains("mode 0755"), "{e}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let target = top.path().join("target");
        std::os::unix::fs::symlink(&target, dir.join("t.lock")).unwrap();
        let e = NameLock::acquire_in(&dir, "t", "a", Duration::ZERO).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(!target.exists(), "the symlink was followed");
        // The directory itself as a symlink: not followed either.
        let link = top.path().join("via-link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(NameLock::acquire_in(&link, "u", "a", Duration::ZERO).is_err());
    }
}

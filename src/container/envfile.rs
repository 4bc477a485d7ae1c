//! Environment values travel to the engine in a private env-file, never in
//! argv, where every user of the machine could read them from
//! `/proc/*/cmdline` (and podman would store them in `Config.CreateCommand`).
//!
//! The file is a `memfd` — memory, with no name on any filesystem — that
//! only the engine command inherits, read as `/dev/fd/N` (docker and podman
//! both accept that for `--env-file`). It is gone the moment the last
//! process holding it ends, SIGKILL included. Engines started through
//! `sudo`/`doas`, which close the descriptors they did not open, get a 0600
//! file in `$TMPDIR` instead, named after dockhand's pid and removed after
//! the call; files left by dockhand processes that died (SIGKILL) are swept
//! whenever a new env-file is written.

use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, ErrorKind, Result};
use crate::input::EnvVar;

/// Name prefix of the on-disk fallback files: `dockhand-env-<pid>-…`.
const FILE_PREFIX: &str = "dockhand-env-";

/// The env-file text: one `KEY=VALUE` line per variable, the format both
/// engines' `--env-file` read (values are taken verbatim up to the line end).
///
/// ```
/// use dockhand::input::EnvVar;
/// let vars = [EnvVar::new("A", "1").unwrap(), EnvVar::new("B", " x=y ").unwrap()];
/// assert_eq!(dockhand::container::env_file_text(&vars), "A=1\nB= x=y \n");
/// ```
pub fn env_file_text(vars: &[EnvVar]) -> String {
    vars.iter()
        .map(|v| format!("{}={}\n", v.key(), v.value()))
        .collect()
}

/// A private env-file for one engine call: a memfd passed as `/dev/fd/N`,
/// or (for engines that cannot inherit it) a 0600 temporary file deleted
/// when dropped — after the call, on error and on unwinding alike.
#[derive(Debug)]
pub struct EnvFile {
    path: PathBuf,
    held: Held,
}

#[derive(Debug)]
enum Held {
    /// A memfd the engine inherits under its own number.
    Memory(OwnedFd),
    /// A named file in the temporary directory, removed on drop.
    Disk { _file: NamedTempFile },
}

impl EnvFile {
    /// Write `vars` to a new private env-file; `None` when there is nothing
    /// to write. With `inheritable` (the engine command keeps descriptors
    /// open, see [`Engine::passes_fds`](crate::Engine::passes_fds)) it is a
    /// memfd; otherwise, or when the kernel has no memfd, a 0600 file in
    /// `$TMPDIR`.
    ///
    /// ```
    /// use dockhand::{container::EnvFile, input::EnvVar};
    /// let f = EnvFile::write(&[EnvVar::new("K", "v").unwrap()], true).unwrap().unwrap();
    /// assert!(f.path().starts_with("/dev/fd/"));
    /// assert!(f.fd().is_some());
    /// let f = EnvFile::write(&[EnvVar::new("K", "v").unwrap()], false).unwrap().unwrap();
    /// assert_eq!(f.fd(), None);
    /// assert!(f.path().exists());
    /// ```
    pub fn write(vars: &[EnvVar], inheritable: bool) -> Result<Option<EnvFile>> {
        if vars.is_empty() {
            return Ok(None);
        }
        sweep_stale(&std::env::temp_dir());
        let text = env_file_text(vars);
        if inheritable {
            match in_memory(&text) {
                Ok(fd) => {
                    return Ok(Some(EnvFile {
                        path: PathBuf::from(format!("/dev/fd/{}", fd.as_raw_fd())),
                        held: Held::Memory(fd),
                    }))
                }
                Err(e) => log::debug!("no memfd for the env-file ({e}); using a file"),
            }
        }
        let io = |e: std::io::Error| {
            Error::new(
                ErrorKind::EngineFailure,
                format!("cannot write the temporary env-file: {e}"),
            )
            .with_source(e)
        };
        // tempfile creates the file with mode 0600 and O_EXCL.
        let mut file = tempfile::Builder::new()
            .prefix(&format!("{FILE_PREFIX}{}-", std::process::id()))
            .tempfile()
            .map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Some(EnvFile {
            path: file.path().to_path_buf(),
            held: Held::Disk { _file: file },
        }))
    }

    /// What to give `--env-file`: `/dev/fd/N` or the file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The descriptor the engine command must inherit (memfd only).
    pub fn fd(&self) -> Option<RawFd> {
        match &self.held {
            Held::Memory(fd) => Some(fd.as_raw_fd()),
            Held::Disk { .. } => None,
        }
    }
}

/// `err` without any of the values of `vars` (in its message and stderr):
/// an engine that rejects an env-file line echoes it, value included.
///
/// ```
/// use dockhand::{container::redact_env, input::EnvVar, Error};
/// let e = Error::invalid_input("poorly formatted environment: 'K=hunter2'");
/// let e = redact_env(e, &[EnvVar::new("K", "hunter2").unwrap()]);
/// assert_eq!(e.message(), "poorly formatted environment: 'K=<redacted>'");
/// ```
pub fn redact_env(err: Error, vars: &[EnvVar]) -> Error {
    let scrub = |text: &str| {
        vars.iter()
            .filter(|v| !v.value().is_empty())
            .fold(text.to_string(), |t, v| t.replace(v.value(), "<redacted>"))
    };
    let (message, stderr) = (scrub(err.message()), scrub(err.stderr()));
    if message == err.message() && stderr == err.stderr() {
        return err;
    }
    err.with_message(message).with_stderr(stderr.as_bytes())
}

/// A memfd holding `text`, mode 0600, close-on-exec (the
/// executor clears that flag in the engine's child only).
fn in_memory(text: &str) -> std::io::Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let name = CString::new("dockhand-env").expect("no NUL");
    let mut fd = memfd_create(&name, MemFdCreateFlag::MFD_CLOEXEC)?;
    if fd.as_raw_fd() < 3 {
        // dockhand was started with stdin/stdout/stderr closed: the child's
        // own stdio would take this number. Move it above them.
        let moved = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))?;
        // SAFETY: `fcntl` returned a new descriptor nothing else owns.
        fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(moved) };
    }
    let mut file = File::from(fd);
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    Ok(OwnedFd::from(file))
}

/// Remove fallback env-files of this user whose dockhand process is gone.
fn sweep_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = nix::unistd::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(FILE_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let ours = entry.metadata().is_ok_and(|m| m.is_file() && m.uid() == me);
        if ours && !Path::new(&format!("/proc/{pid}")).exists() {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => log::info!(
                    "removed the env-file {} of dead process {pid}",
                    entry.path().display()
                ),
                Err(e) => log::debug!("cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memfd_holds_the_text_privately_and_has_no_name_on_disk() {
        let f = EnvFile::write(&[EnvVar::new("K", "secret value").unwrap()], true)
            .unwrap()
            .unwrap();
        let fd = f.fd().unwrap();
        let proc_path = format!("/proc/self/fd/{fd}");
        assert_eq!(
            std::fs::read_to_string(&proc_path).unwrap(),
            "K=secret value\n"
        );
        let mode = std::fs::metadata(&proc_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let target = std::fs::read_link(&proc_path).unwrap();
        assert!(
            target.to_string_lossy().starts_with("/memfd:dockhand-env"),
            "{target:?}"
        );
        assert!(EnvFile::write(&[], true).unwrap().is_none());
    }

    #[test]
    fn the_file_fallback_is_private_and_removed_on_drop() {
        let f = EnvFile::write(&[EnvVar::new("K", "secret value").unwrap()], false)
            .unwrap()
            .unwrap();
        let path = f.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "K=secret value\n");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("dockhand-env-{}-", std::process::id())),
            "{name}"
        );
        drop(f);
        assert!(!path.exists());
    }

    #[test]
    fn files_of_dead_processes_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = (4_000_000..)
            .find(|p| !Path::new(&format!("/proc/{p}")).exists())
            .unwrap();
        let stale = dir.path().join(format!("{FILE_PREFIX}{dead}-abc"));
        let live = dir
            .path()
            .join(format!("{FILE_PREFIX}{}-abc", std::process::id()));
        let other = dir.path().join("dockhand-env-notapid");
        for p in [&stale, &live, &other] {
            std::fs::write(p, "K=v\n").unwrap();
        }
        sweep_stale(dir.path());
        assert!(!stale.exists());
        assert!(live.exists() && other.exists());
    }
}

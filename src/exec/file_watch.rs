//! Waiting for a file to be written into a directory, with inotify: how a
//! podman exit wait hears of the exit from the file conmon writes then
//! (`container::conmon`), within milliseconds instead of the ~150 ms its
//! events take.

use std::ffi::{OsStr, OsString};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use super::signals;
use super::waiting::{interrupted, readable, POLL};
use crate::error::Result;

/// A watch on one directory for one file name being written in it: closed
/// after writing, or renamed into it (how conmon writes it, atomically).
#[derive(Debug)]
pub(crate) struct FileWatch {
    inotify: Inotify,
    dir: PathBuf,
    name: OsString,
}

impl FileWatch {
    /// Watch `dir` for `name`. Fails when `dir` cannot be watched (missing,
    /// or not ours to read).
    pub(crate) fn new(dir: &Path, name: &OsStr) -> std::io::Result<FileWatch> {
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
        inotify.add_watch(
            dir,
            AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_MOVED_TO,
        )?;
        Ok(FileWatch {
            inotify,
            dir: dir.to_path_buf(),
            name: name.to_os_string(),
        })
    }

    /// Wait until the file is written, at most until `until`: its contents
    /// (empty when it was gone again before it could be read), or `None` when
    /// the time ran out. SIGINT/SIGTERM/SIGHUP end the wait with an
    /// Interrupted error.
    pub(crate) fn wait(&self, until: Instant) -> Result<Option<Vec<u8>>> {
        loop {
            if let Some(sig) = signals::pending() {
                return Err(interrupted(sig));
            }
            if self.written() {
                let path = self.dir.join(&self.name);
                return Ok(Some(std::fs::read(path).unwrap_or_default()));
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            readable(&[self.inotify.as_fd()], left.min(POLL));
        }
    }

    /// Whether the events read now include our file's.
    fn written(&self) -> bool {
        let mut seen = false;
        // Non-blocking: an empty queue reads as EAGAIN, which ends the loop.
        while let Ok(events) = self.inotify.read_events() {
            seen |= events
                .iter()
                .any(|e| e.name.as_deref() == Some(self.name.as_os_str()));
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_file_renamed_into_the_directory_is_read_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let watch = FileWatch::new(dir.path(), OsStr::new("abc")).unwrap();
        let soon = || Instant::now() + Duration::from_millis(20);
        assert_eq!(watch.wait(soon()).unwrap(), None, "nothing written yet");
        std::fs::write(dir.path().join("other"), "1").unwrap();
        assert_eq!(watch.wait(soon()).unwrap(), None, "another file");
        let writer = {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                super::super::sleep(Duration::from_millis(30)).unwrap();
                std::fs::write(dir.join("abc.tmp"), "137").unwrap();
                std::fs::rename(dir.join("abc.tmp"), dir.join("abc")).unwrap();
            })
        };
        let later = Instant::now() + Duration::from_secs(10);
        assert_eq!(watch.wait(later).unwrap().as_deref(), Some(&b"137"[..]));
        writer.join().unwrap();
    }

    #[test]
    fn a_file_written_in_place_counts_and_a_missing_directory_cannot_be_watched() {
        let dir = tempfile::tempdir().unwrap();
        let watch = FileWatch::new(dir.path(), OsStr::new("abc")).unwrap();
        std::fs::write(dir.path().join("abc"), "0\n").unwrap();
        let now = Instant::now();
        assert_eq!(watch.wait(now).unwrap().as_deref(), Some(&b"0\n"[..]));
        assert!(FileWatch::new(&dir.path().join("gone"), OsStr::new("abc")).is_err());
    }
}

//! Files the engine's CLI reads itself: `--env-file`, `--label-file`.
//!
//! Only the path goes into argv. The file is checked here (a regular file
//! this process can read, lines both engines read the same way); its
//! contents are never copied into argv or into any message.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// The longest line the engines' readers take (Go's `bufio.Scanner`).
const MAX_LINE: usize = 64 * 1024;

/// A file of `KEY=VALUE` lines read by the engine (`--env-file`,
/// `--label-file`), checked at construction: it exists, is a regular file
/// dockhand can read, is UTF-8 without NUL bytes, has no line of 64 KiB or
/// more, and every `KEY` is non-empty without whitespace (docker refuses
/// `A B=1`, podman takes it: dockhand refuses it on both). Errors name the
/// file and the line number, never the line.
///
/// ```
/// use dockhand::input::KeyValueFile;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("app.env");
/// std::fs::write(&path, "# comment\nA=1\nexported_from_cli\n")?;
/// assert_eq!(KeyValueFile::new(&path)?.path(), path);
/// std::fs::write(&path, "A B=secret\n")?;
/// let e = KeyValueFile::new(&path).unwrap_err();
/// assert!(e.message().contains("line 1") && !e.message().contains("secret"));
/// assert!(KeyValueFile::new(dir.path()).is_err()); // a directory
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct KeyValueFile(PathBuf);

impl KeyValueFile {
    /// Check the file at `path`.
    pub fn new(path: impl AsRef<Path>) -> Result<KeyValueFile> {
        let path = path.as_ref();
        let shown = path.display();
        let io = |e: std::io::Error| Error::invalid_input(format!("cannot read {shown}: {e}"));
        if path.as_os_str().to_string_lossy().starts_with('-') {
            return Err(Error::invalid_input(format!(
                "file name {shown:?} must not start with '-' (write ./{shown})"
            )));
        }
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(Error::invalid_input(format!(
                "{shown} is not a regular file"
            )));
        }
        let mut reader = BufReader::new(std::fs::File::open(path).map_err(io)?);
        let mut line = Vec::new();
        for number in 1.. {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
                break;
            }
            let at = |why: &str| Error::invalid_input(format!("{shown} line {number}: {why}"));
            if line.len() >= MAX_LINE {
                return Err(at(
                    "the line is 64 KiB or longer (the engines cannot read it)",
                ));
            }
            if line.contains(&0) {
                return Err(at("the line holds a NUL byte"));
            }
            let text = std::str::from_utf8(&line).map_err(|_| at("the line is not UTF-8"))?;
            let text = text.trim_start();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            let key = text.split_once('=').map_or(text.trim_end(), |(k, _)| k);
            if key.is_empty() {
                return Err(at("the line has no name before '='"));
            }
            if key.contains(char::is_whitespace) {
                return Err(at("the name holds whitespace"));
            }
        }
        Ok(KeyValueFile(path.to_path_buf()))
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::str::FromStr for KeyValueFile {
    type Err = Error;
    fn from_str(text: &str) -> Result<KeyValueFile> {
        KeyValueFile::new(text)
    }
}

impl fmt::Display for KeyValueFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named_by_number_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        for (content, why) in [
            ("A=1\n=secret\n", "line 2"),
            ("A=se\0cret\n", "NUL"),
            ("  A B=secret", "whitespace"),
        ] {
            std::fs::write(&path, content).unwrap();
            let e = KeyValueFile::new(&path).unwrap_err();
            assert!(e.message().contains(why), "{e}");
            assert!(!e.message().contains("secret"), "{e}");
        }
        std::fs::write(&path, format!("A={}\n", "x".repeat(MAX_LINE))).unwrap();
        assert!(KeyValueFile::new(&path).is_err());
        std::fs::write(&path, "\n# c\n  B=2 \nC\n").unwrap();
        assert!(KeyValueFile::new(&path).is_ok());
        assert!(KeyValueFile::new(dir.path().join("absent")).is_err());
    }
}

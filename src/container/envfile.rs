//! Environment values travel to the engine in a private temporary file,
//! never in argv, where every user of the machine could read them from
//! `/proc/*/cmdline` (and podman would store them in `Config.CreateCommand`).

use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::error::{Error, ErrorKind, Result};
use crate::input::EnvVar;

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

/// A 0600 temporary env-file, deleted when dropped: after the engine call,
/// on error and on unwinding alike.
#[derive(Debug)]
pub struct EnvFile(NamedTempFile);

impl EnvFile {
    /// Write `vars` to a new private file in the temporary directory
    /// (`$TMPDIR`); `None` when there is nothing to write.
    pub fn write(vars: &[EnvVar]) -> Result<Option<EnvFile>> {
        if vars.is_empty() {
            return Ok(None);
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
            .prefix("dockhand-env-")
            .tempfile()
            .map_err(io)?;
        file.write_all(env_file_text(vars).as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Some(EnvFile(file)))
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn file_is_private_and_removed_on_drop() {
        let f = EnvFile::write(&[EnvVar::new("K", "secret value").unwrap()])
            .unwrap()
            .unwrap();
        let path = f.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "K=secret value\n");
        drop(f);
        assert!(!path.exists());
        assert!(EnvFile::write(&[]).unwrap().is_none());
    }
}

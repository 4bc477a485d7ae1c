//! A command as plain data until the one place that spawns it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A program, its argv and extra environment — nothing runs until an
/// executor in this module spawns it. There is no shell anywhere: every
/// argument reaches the program exactly as given.
///
/// `Display` renders a shell-pasteable, quoted command line; every error that
/// names a command uses it.
///
/// ```
/// use dockhand::exec::Cmd;
/// let cmd = Cmd::new("docker").arg("inspect").arg("--").arg("my app");
/// assert_eq!(cmd.to_string(), "docker inspect -- 'my app'");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a command does nothing until an executor runs it"]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    fds: Vec<RawFd>,
    stdin_file: Option<PathBuf>,
}

impl Cmd {
    /// A command running `program` (looked up on PATH when it has no `/`).
    pub fn new(program: impl Into<OsString>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            fds: Vec::new(),
            stdin_file: None,
        }
    }

    /// Append one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    /// Append several arguments.
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Set an environment variable for the child (the rest of the
    /// environment is inherited).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Bytes written to the child's stdin (stdin is /dev/null otherwise).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// Let the child inherit the open file descriptor `fd` under the same
    /// number (it reads it as `/dev/fd/N`). Descriptors dockhand opens are
    /// close-on-exec; only the child of this command gets this one, and the
    /// caller keeps it open until the command has finished.
    pub fn pass_fd(mut self, fd: RawFd) -> Cmd {
        self.fds.push(fd);
        self
    }

    /// The child reads its stdin from this file (a build context tarball:
    /// read by the child itself, never held in memory). Bytes given with
    /// [`Cmd::stdin`] win over it.
    pub fn stdin_file(mut self, path: impl Into<PathBuf>) -> Cmd {
        self.stdin_file = Some(path.into());
        self
    }

    /// The file for stdin, if any.
    pub fn get_stdin_file(&self) -> Option<&Path> {
        self.stdin_file.as_deref()
    }

    /// The program.
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments (without the program).
    pub fn get_args(&self) -> &[OsString] {
        &self.args
    }

    /// Extra environment variables.
    pub fn get_env(&self) -> &[(OsString, OsString)] {
        &self.env
    }

    /// Bytes for stdin, if any.
    pub fn get_stdin(&self) -> Option<&[u8]> {
        self.stdin.as_deref()
    }

    /// Descriptors the child inherits ([`Cmd::pass_fd`]).
    pub fn get_fds(&self) -> &[RawFd] {
        &self.fds
    }

    /// The argv as lossy strings (for logs and dry-run comparisons).
    pub fn argv_lossy(&self) -> Vec<String> {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }
}

/// Quote one word for a POSIX shell; words that need no quoting stay bare.
pub fn quote(word: &OsStr) -> String {
    let bytes = word.as_bytes();
    match shlex::bytes::try_quote(bytes) {
        Ok(q) => String::from_utf8_lossy(&q).into_owned(),
        // Only a NUL byte makes quoting impossible; show it visibly instead.
        Err(_) => format!("{:?}", String::from_utf8_lossy(bytes)),
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (k, v) in &self.env {
            // `KEY=value` as a shell assignment: only the value needs quoting.
            write!(
                f,
                "{}{}={}",
                if first { "" } else { " " },
                k.to_string_lossy(),
                quote(v)
            )?;
            first = false;
        }
        for word in std::iter::once(&self.program).chain(&self.args) {
            write!(f, "{}{}", if first { "" } else { " " }, quote(word))?;
            first = false;
        }
        if self.stdin.is_some() {
            f.write_str(" < (stdin)")?;
        } else if let Some(path) = &self.stdin_file {
            write!(f, " < {}", quote(path.as_os_str()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let c = Cmd::new("sudo")
            .args([
                "-n",
                "docker",
                "run",
                "--label",
                "a=b c",
                "x;rm -rf /",
                "$(id)",
            ])
            .env("DOCKER_HOST", "unix:///run/d.sock");
        assert_eq!(
            c.to_string(),
            "DOCKER_HOST=unix:///run/d.sock sudo -n docker run --label 'a=b c' 'x;rm -rf /' '$(id)'"
        );
    }

    #[test]
    fn display_survives_non_utf8_and_nul() {
        let c = Cmd::new("echo")
            .arg(OsString::from_vec(vec![0xff, b'a']))
            .arg(OsString::from_vec(vec![b'a', 0, b'b']));
        let s = c.to_string();
        assert!(s.starts_with("echo "), "{s}");
        assert!(s.contains("\\0"), "{s}");
    }

    #[test]
    fn round_trips_through_shlex() {
        let c = Cmd::new("docker").args(["exec", "c", "--", "sh", "-c", "echo 'hi' \"there\""]);
        let words = shlex::split(&c.to_string()).unwrap();
        assert_eq!(words, c.argv_lossy());
    }
}

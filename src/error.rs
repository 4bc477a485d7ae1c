//! The one error type of the library.
//!
//! Every failure — an engine that is not installed, a daemon that does not
//! answer, a container that does not exist, output we could not parse — is an
//! [`Error`] whose [`ErrorKind`] callers match on. Errors that come from a
//! command carry that command shell-quoted, its exit status and the tail of its
//! stderr, so a message is enough to reproduce the failure by hand.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// How much of a command's stderr an error keeps (the tail, where engines put
/// the reason).
const STDERR_TAIL: usize = 4096;
/// How much raw output a [`ErrorKind::Parse`] error keeps.
const RAW_CAP: usize = 64 * 1024;

/// What went wrong, as a caller would branch on it.
///
/// The CLI maps each kind to its exit code (see README): `NotFound` is 3,
/// `Unreachable` and `PermissionDenied` are 4, `Conflict` is 5, `Timeout` is
/// 124, `EngineMissing` is 127, `InvalidInput` is 2, the rest 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The engine CLI (or a host tool such as `ip`) is not installed / not on PATH.
    EngineMissing,
    /// The CLI is there but its daemon or socket does not answer.
    Unreachable,
    /// The engine socket (or an operation) needs rights we do not have.
    PermissionDenied,
    /// The container, image, network, volume … does not exist.
    NotFound,
    /// A name is already in use, or the object is busy (in use, operation in progress).
    Conflict,
    /// The command did not finish within its timeout and was killed.
    Timeout,
    /// The caller's input was refused before any command ran (or the engine refused it as malformed).
    InvalidInput,
    /// Any other failure reported by the engine.
    EngineFailure,
    /// The engine's output could not be understood; the raw text is kept.
    Parse,
    /// dockhand itself received SIGINT/SIGTERM while a command ran; the command was killed.
    Interrupted,
}

impl ErrorKind {
    /// Stable snake_case name, as used in `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::EngineMissing => "engine_missing",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::EngineFailure => "engine_failure",
            ErrorKind::Parse => "parse",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a finished (or killed) command ended.
///
/// ```
/// use dockhand::ExitStatus;
/// assert!(ExitStatus::Code(0).success());
/// assert_eq!(ExitStatus::Signal(9).code(), None);
/// assert_eq!(ExitStatus::Code(3).to_string(), "exit code 3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// Normal exit with this code.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl ExitStatus {
    /// True for `Code(0)`.
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }

    /// The code a shell reports for it: the exit code, or 128 + the signal.
    ///
    /// ```
    /// use dockhand::ExitStatus;
    /// assert_eq!((ExitStatus::Code(3).shell_code(), ExitStatus::Signal(15).shell_code()), (3, 143));
    /// ```
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }

    /// The exit code, if the process exited normally.
    pub fn code(self) -> Option<i32> {
        match self {
            ExitStatus::Code(c) => Some(c),
            ExitStatus::Signal(_) => None,
        }
    }
}

impl From<std::process::ExitStatus> for ExitStatus {
    fn from(s: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (s.code(), s.signal()) {
            (Some(c), _) => ExitStatus::Code(c),
            (None, Some(sig)) => ExitStatus::Signal(sig),
            // Neither code nor signal cannot happen on Unix; report it as a failure.
            (None, None) => ExitStatus::Code(-1),
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit code {c}"),
            ExitStatus::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// The library's error: a kind to match, a message for people, and the
/// command evidence (shell-quoted command, exit status, stderr tail, raw output).
///
/// ```
/// use dockhand::{Error, ErrorKind};
/// let err = Error::invalid_input("container name must not start with '-'");
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert!(err.to_string().contains("must not start"));
/// ```
#[derive(Debug, Clone)]
pub struct Error(Box<Evidence>);

/// What an [`Error`] carries; boxed so a `Result` stays one pointer wide.
#[derive(Debug, Clone)]
struct Evidence {
    kind: ErrorKind,
    message: String,
    command: Option<String>,
    status: Option<ExitStatus>,
    stderr: String,
    raw: Option<String>,
    transient: bool,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// A new error of this kind with a message and no command attached.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(Evidence {
            kind,
            message: message.into(),
            command: None,
            status: None,
            stderr: String::new(),
            raw: None,
            transient: kind == ErrorKind::Unreachable,
            source: None,
        }))
    }

    /// Shorthand for an [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// A [`ErrorKind::Parse`] error that keeps (a capped copy of) the raw output.
    pub fn parse(message: impl Into<String>, raw: &[u8]) -> Error {
        let mut e = Error::new(ErrorKind::Parse, message);
        let keep = &raw[..raw.len().min(RAW_CAP)];
        e.0.raw = Some(String::from_utf8_lossy(keep).into_owned());
        e
    }

    /// Attach the shell-quoted command that failed.
    pub fn with_command(mut self, command: impl Into<String>) -> Error {
        self.0.command = Some(command.into());
        self
    }

    /// Attach the exit status.
    pub fn with_status(mut self, status: ExitStatus) -> Error {
        self.0.status = Some(status);
        self
    }

    /// Attach stderr; only its trimmed tail is kept.
    pub fn with_stderr(mut self, stderr: &[u8]) -> Error {
        self.0.stderr = tail_text(stderr, STDERR_TAIL);
        self
    }

    /// Mark whether retrying the same command may succeed.
    pub fn with_transient(mut self, transient: bool) -> Error {
        self.0.transient = transient;
        self
    }

    /// Keep the lower-level error that caused this one (an I/O error, a
    /// JSON error …), for [`std::error::Error::source`].
    ///
    /// ```
    /// use std::error::Error as _;
    /// let io = std::io::Error::new(std::io::ErrorKind::Other, "disk full");
    /// let e = dockhand::Error::new(dockhand::ErrorKind::EngineFailure, "cannot write: disk full").with_source(io);
    /// assert_eq!(e.source().unwrap().to_string(), "disk full");
    /// ```
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.0.source = Some(Arc::new(source));
        self
    }

    /// Replace the human message, keeping the evidence.
    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        self.0.message = message.into();
        self
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The human message (without the command evidence).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The failed command, shell-quoted, if a command was involved.
    pub fn command(&self) -> Option<&str> {
        self.0.command.as_deref()
    }

    /// Exit status of the failed command, if it ran to an end.
    pub fn status(&self) -> Option<ExitStatus> {
        self.0.status
    }

    /// Trimmed tail of the command's stderr (empty if none).
    pub fn stderr(&self) -> &str {
        &self.0.stderr
    }

    /// For [`ErrorKind::Parse`]: the output that could not be parsed (capped).
    pub fn raw(&self) -> Option<&str> {
        self.0.raw.as_deref()
    }

    /// Whether the failure is of a transient sort that a retry may cure
    /// (daemon unreachable, connection reset, registry 5xx …).
    pub fn is_transient(&self) -> bool {
        self.0.transient
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if let Some(cmd) = &self.0.command {
            write!(f, "\n  command: {cmd}")?;
        }
        if let Some(st) = &self.0.status {
            write!(f, "\n  status: {st}")?;
        }
        // An engine error's message is usually the first stderr line:
        // show it once.
        let stderr = match self.0.stderr.split_once('\n') {
            Some((first, rest)) if first.trim() == self.0.message => rest.trim_start(),
            None if self.0.stderr.trim() == self.0.message => "",
            _ => &self.0.stderr,
        };
        if !stderr.is_empty() {
            write!(f, "\n  stderr: {}", stderr.replace('\n', "\n          "))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The last `max` bytes of `bytes` as trimmed, lossy UTF-8 text.
pub(crate) fn tail_text(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_is_transient_by_default_others_not() {
        assert!(Error::new(ErrorKind::Unreachable, "x").is_transient());
        assert!(!Error::new(ErrorKind::NotFound, "x").is_transient());
    }

    #[test]
    fn stderr_keeps_trimmed_tail_and_survives_invalid_utf8() {
        let mut big = vec![b'a'; 10_000];
        big.extend_from_slice(b"\xff the reason\n");
        let e = Error::new(ErrorKind::EngineFailure, "m").with_stderr(&big);
        assert!(e.stderr().ends_with("the reason"));
        assert!(e.stderr().len() <= STDERR_TAIL + 3);
    }

    #[test]
    fn display_names_command_status_and_stderr() {
        let e = Error::new(ErrorKind::NotFound, "no such container")
            .with_command("docker inspect -- 'a b'")
            .with_status(ExitStatus::Code(1))
            .with_stderr(b"Error: No such object: a b\n");
        let s = e.to_string();
        assert!(s.contains("docker inspect -- 'a b'"), "{s}");
        assert!(s.contains("exit code 1"), "{s}");
        assert!(s.contains("No such object"), "{s}");
    }

    #[test]
    fn a_message_that_is_the_first_stderr_line_is_shown_once() {
        let e = Error::new(ErrorKind::NotFound, "Error: No such object: web")
            .with_command("docker inspect -- web")
            .with_stderr(b"Error: No such object: web\n");
        assert_eq!(e.to_string().matches("No such object").count(), 1, "{e}");
        let two = Error::new(ErrorKind::Conflict, "Error: first")
            .with_stderr(b"Error: first\nError: second\n");
        let text = two.to_string();
        assert_eq!(text.matches("Error: first").count(), 1, "{text}");
        assert!(text.contains("stderr: Error: second"), "{text}");
        let other = Error::new(ErrorKind::EngineFailure, "cp failed").with_stderr(b"disk full\n");
        assert!(other.to_string().contains("stderr: disk full"), "{other}");
    }

    #[test]
    fn parse_error_keeps_raw_capped() {
        let raw = vec![b'x'; RAW_CAP * 2];
        let e = Error::parse("bad json", &raw);
        assert_eq!(e.kind(), ErrorKind::Parse);
        assert_eq!(e.raw().unwrap().len(), RAW_CAP);
    }
}

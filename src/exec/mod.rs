//! The only place that spawns processes and sleeps.
//!
//! Everything above this module builds [`Cmd`] values (plain data) and hands
//! them to an executor here. The executors own the hard parts once:
//! timeouts that kill the child's whole process group and reap it, concurrent
//! capped reading of stdout and stderr, SIGINT/SIGTERM/SIGHUP handling, and the
//! sleeps between retries. `clippy.toml` forbids `Command::new` and
//! `thread::sleep` elsewhere.
//!
//! Executors return an [`Output`] for any command that ran to an exit (a
//! non-zero exit is not an error here: the engine layer classifies it), and an
//! [`Error`] only for failures of the execution itself: the
//! program is missing, the timeout hit, the output cap was exceeded, or
//! dockhand was interrupted.

mod blocking;
mod cmd;
mod file_watch;
pub mod signals;
mod streaming;
#[cfg(feature = "tokio")]
mod tokio_exec;
mod waiting;

use std::io;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use blocking::sleep_through_interrupts;
pub use blocking::{run, run_inherit, run_inherit_stderr_tail, run_observed, sleep};
pub use cmd::{quote, Cmd};
pub(crate) use file_watch::FileWatch;
pub use streaming::{fan_in, spawn_streaming, Delivery, FanIn, Streaming, READ_CHUNK};
#[cfg(feature = "tokio")]
pub use streaming::{fan_in_async, FanInAsync};
#[cfg(feature = "tokio")]
pub(crate) use tokio_exec::sleep_async_through_interrupts;
#[cfg(feature = "tokio")]
pub use tokio_exec::{run_async, sleep_async};
pub use waiting::kill_child_groups;
pub(crate) use waiting::ready;

use serde::Serialize;

use crate::error::{Error, ErrorKind, ExitStatus};

/// Default cap on each of stdout and stderr: 64 MiB.
pub const DEFAULT_OUTPUT_CAP: usize = 64 * 1024 * 1024;
/// Default time between SIGTERM and SIGKILL when a command is killed.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// Bounds on one execution.
///
/// ```
/// use std::time::Duration;
/// use dockhand::exec::Limits;
/// let l = Limits { timeout: Some(Duration::from_secs(5)), ..Limits::default() };
/// assert_eq!(l.output_cap, dockhand::exec::DEFAULT_OUTPUT_CAP);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Kill the command's process group after this long (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Maximum bytes kept of each of stdout and stderr; more is an error.
    pub output_cap: usize,
    /// Start and finish the command (within `timeout`) even when SIGINT,
    /// SIGTERM or SIGHUP is pending, instead of refusing to start it or
    /// killing it: rollbacks run this way (see
    /// [`Engine::for_rollback`](crate::Engine::for_rollback)).
    pub through_interrupts: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Some(Duration::from_secs(30)),
            grace: DEFAULT_GRACE,
            output_cap: DEFAULT_OUTPUT_CAP,
            through_interrupts: false,
        }
    }
}

/// One of a child's two output pipes; also which of a container's streams
/// a log line was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pipe {
    /// Its stdout.
    Stdout,
    /// Its stderr.
    Stderr,
}

/// Sees each chunk of a command's output as it arrives ([`run_observed`]).
/// Called on the executor's reader threads, so it must be quick.
pub type Observer = Arc<dyn Fn(Pipe, &[u8]) + Send + Sync>;

/// What a finished command left behind; bytes exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// True when a dry-run executor stood in for the real command.
    pub dry_run: bool,
}

impl Output {
    /// The output a dry run reports for a command it did not run.
    pub fn dry_run() -> Output {
        Output {
            status: ExitStatus::Code(0),
            stdout: Vec::new(),
            stderr: Vec::new(),
            dry_run: true,
        }
    }

    /// stdout as lossy UTF-8 with surrounding whitespace trimmed.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim().to_string()
    }

    /// stdout's non-empty lines, trimmed (ids from `ps -q`, `ls -q`, `rm` …).
    ///
    /// ```
    /// let mut out = dockhand::exec::Output::dry_run();
    /// out.stdout = b"a1\n\n  b2 \n".to_vec();
    /// assert_eq!(out.stdout_lines(), ["a1", "b2"]);
    /// ```
    pub fn stdout_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// The pending interrupt, unless `limits` say to run through it.
fn interrupt(limits: &Limits) -> Option<i32> {
    if limits.through_interrupts {
        None
    } else {
        signals::pending()
    }
}

/// The error for a program that could not be started.
fn spawn_error(cmd: &Cmd, err: io::Error) -> Error {
    let program = cmd.get_program().to_string_lossy();
    let (kind, message) = match err.kind() {
        io::ErrorKind::NotFound => (
            ErrorKind::EngineMissing,
            format!("`{program}` is not installed or not on PATH"),
        ),
        io::ErrorKind::PermissionDenied => (
            ErrorKind::PermissionDenied,
            format!("`{program}` cannot be executed: permission denied"),
        ),
        _ => (
            ErrorKind::EngineFailure,
            format!("could not start `{program}`: {err}"),
        ),
    };
    Error::new(kind, message)
        .with_command(cmd.to_string())
        .with_source(err)
}

/// The error for a stdin file that cannot be opened (nothing was started).
fn stdin_file_error(cmd: &Cmd, path: &std::path::Path, err: io::Error) -> Error {
    Error::new(
        ErrorKind::EngineFailure,
        format!(
            "cannot open {} for the command's stdin: {err}",
            path.display()
        ),
    )
    .with_command(cmd.to_string())
    .with_source(err)
}

/// The error for a child whose exit could not be waited for.
fn wait_error(command: &str, err: io::Error) -> Error {
    Error::new(ErrorKind::EngineFailure, err.to_string())
        .with_command(command)
        .with_source(err)
}

fn timeout_error(cmd: &Cmd, limits: &Limits, stderr: &[u8]) -> Error {
    let t = limits.timeout.unwrap_or_default();
    Error::new(
        ErrorKind::Timeout,
        format!(
            "command did not finish within {:.1}s; its process group was killed",
            t.as_secs_f64()
        ),
    )
    .with_command(cmd.to_string())
    .with_stderr(stderr)
}

fn overflow_error(cmd: &Cmd, limits: &Limits, stream: &str) -> Error {
    Error::new(
        ErrorKind::EngineFailure,
        format!(
            "{stream} exceeded the output cap of {} bytes; the command was killed (raise --output-cap)",
            limits.output_cap
        ),
    )
    .with_command(cmd.to_string())
}

fn interrupted_error(cmd: &Cmd, signal: i32) -> Error {
    Error::new(
        ErrorKind::Interrupted,
        format!("interrupted by signal {signal}; the command's process group was killed"),
    )
    .with_command(cmd.to_string())
    .with_status(ExitStatus::Signal(signal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn stdin_can_come_from_a_file_read_by_the_child_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in");
        std::fs::write(&path, b"from a file\n").unwrap();
        let cmd = Cmd::new("cat").stdin_file(&path);
        assert_eq!(cmd.to_string(), format!("cat < {}", path.display()));
        assert_eq!(
            run(&cmd, &Limits::default()).unwrap().stdout,
            b"from a file\n"
        );
        let missing = Cmd::new("cat").stdin_file(dir.path().join("missing"));
        let e = run(&missing, &Limits::default()).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::EngineFailure,
            "not a missing program: {e}"
        );
        assert!(e.message().contains("for the command's stdin"), "{e}");
    }

    #[cfg(feature = "tokio")]
    #[tokio::test(flavor = "current_thread")]
    async fn the_async_executor_reads_a_stdin_file_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in");
        std::fs::write(&path, b"async\n").unwrap();
        let out = run_async(&Cmd::new("cat").stdin_file(&path), &Limits::default()).await;
        assert_eq!(out.unwrap().stdout, b"async\n");
    }

    #[test]
    fn a_program_that_cannot_start_keeps_the_io_error_as_source() {
        let e = run(&Cmd::new("/nonexistent/dockhand-test"), &Limits::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EngineMissing);
        let io = e.source().and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(
            io.map(io::Error::kind),
            Some(io::ErrorKind::NotFound),
            "{e:?}"
        );
    }
}

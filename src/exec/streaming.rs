//! A long-running child whose output is read as it arrives (`logs -f`,
//! `events`). Dropping the handle kills the child's process group and reaps it.

#![allow(clippy::disallowed_methods)] // spawning lives in exec/

use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Stdio};
use std::time::Duration;

use nix::unistd::Pid;
use wait_timeout::ChildExt;

use super::blocking::{kill_group, std_command};
use super::{spawn_error, Cmd, DEFAULT_GRACE};
use crate::error::{Result, Status};

/// A running child with piped stdout and stderr, in its own process group.
///
/// ```
/// use std::io::Read;
/// use dockhand::exec::{spawn_streaming, Cmd};
/// let mut s = spawn_streaming(&Cmd::new("printf").arg("a\nb\n")).unwrap();
/// let mut text = String::new();
/// s.take_stdout().unwrap().read_to_string(&mut text).unwrap();
/// assert_eq!(text, "a\nb\n");
/// assert!(s.wait().unwrap().success());
/// ```
#[derive(Debug)]
pub struct Streaming {
    child: Child,
    group: Pid,
    command: String,
    reaped: bool,
}

/// Start `cmd` with stdin closed and stdout/stderr piped.
pub fn spawn_streaming(cmd: &Cmd) -> Result<Streaming> {
    let mut command = std_command(cmd);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = command.spawn().map_err(|e| spawn_error(cmd, e))?;
    let group = Pid::from_raw(child.id() as i32);
    log::debug!("streaming {cmd} (pid {group})");
    Ok(Streaming {
        child,
        group,
        command: cmd.to_string(),
        reaped: false,
    })
}

impl Streaming {
    /// The child's stdout (once).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// The child's stderr (once).
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// The shell-quoted command, for errors.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Wait up to `timeout` for the child to exit; `None` if it still runs.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<Status>> {
        match self.child.wait_timeout(timeout) {
            Ok(Some(st)) => {
                self.reaped = true;
                Ok(Some(Status::from(st)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(
                crate::Error::new(crate::ErrorKind::EngineFailure, e.to_string())
                    .with_command(self.command.clone()),
            ),
        }
    }

    /// Wait for the child to exit.
    pub fn wait(&mut self) -> Result<Status> {
        let st = self.child.wait().map_err(|e| {
            crate::Error::new(crate::ErrorKind::EngineFailure, e.to_string())
                .with_command(self.command.clone())
        })?;
        self.reaped = true;
        Ok(Status::from(st))
    }

    /// Kill the whole process group (SIGTERM, then SIGKILL) and reap the child.
    pub fn kill(&mut self) {
        if !self.reaped {
            kill_group(&mut self.child, self.group, DEFAULT_GRACE);
            self.reaped = true;
        }
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.kill();
    }
}

//! Async executor on tokio::process, with the blocking executor's semantics:
//! own process group, concurrent capped reads, group kill + reap on timeout,
//! interrupt or overflow, and on drop of an unfinished future.

#![allow(clippy::disallowed_methods)] // spawning and sleeping live in exec/

use std::time::{Duration, Instant};

use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::blocking::captured_command;
use super::waiting::{self, sleep_with, TaskPause, POLL};
use super::{
    interrupt, interrupted_error, overflow_error, spawn_error, timeout_error, wait_error, Cmd,
    Limits, Output,
};
use crate::error::{ExitStatus, Result};

/// Async twin of [`run`](super::run).
///
/// Dropping the future before it finished (an outer `tokio::time::timeout`,
/// an aborted task, a runtime shut down) SIGKILLs the command's whole
/// process group and reaps its leader — not only the leader, as tokio's
/// `kill_on_drop` would.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use dockhand::exec::{run_async, Cmd, Limits};
/// let out = run_async(&Cmd::new("printf").arg("hi"), &Limits::default()).await.unwrap();
/// assert_eq!(out.stdout, b"hi");
/// # }
/// ```
pub async fn run_async(cmd: &Cmd, limits: &Limits) -> Result<Output> {
    if let Some(sig) = interrupt(limits) {
        return Err(interrupted_error(cmd, sig));
    }
    let started = Instant::now();
    let mut command = Command::from(captured_command(cmd)?);
    command.kill_on_drop(true);
    let child = command.spawn().map_err(|e| spawn_error(cmd, e))?;
    let mut guard = GroupGuard::new(child);
    let child = &mut guard.child;
    let group = guard.group;

    if let (Some(bytes), Some(mut stdin)) = (cmd.get_stdin(), child.stdin.take()) {
        let bytes = bytes.to_vec();
        tokio::spawn(async move {
            let _ = stdin.write_all(&bytes).await;
        });
    }
    let cap = limits.output_cap;
    let stdout = tokio::spawn(read_capped(child.stdout.take(), cap));
    let stderr = tokio::spawn(read_capped(child.stderr.take(), cap));

    // Leader exit and both streams at EOF, or the first of timeout/interrupt/overflow.
    let mut finished = Box::pin(async {
        let status = child.wait().await;
        let out = stdout.await.unwrap_or_default();
        let err = stderr.await.unwrap_or_default();
        (status, out, err)
    });
    // A timeout too large for the clock is no timeout (not a panic).
    let deadline = limits
        .timeout
        .and_then(|t| tokio::time::Instant::now().checked_add(t));
    let reason = loop {
        let tick = tokio::time::sleep(POLL);
        tokio::select! {
            (status, out, err) = &mut finished => {
                drop(finished);
                // Reaped (or gone from our view): nothing left to kill.
                guard.disarm();
                let status = status.map_err(|e| wait_error(&cmd.to_string(), e))?;
                if out.1 || err.1 {
                    return Err(overflow_error(cmd, limits, if out.1 { "stdout" } else { "stderr" }));
                }
                let status = ExitStatus::from(status);
                log::debug!("{cmd} -> {status} in {} ms", started.elapsed().as_millis());
                return Ok(Output { status, stdout: out.0, stderr: err.0, dry_run: false });
            }
            _ = tick => {}
        }
        if let Some(sig) = interrupt(limits) {
            break interrupted_error(cmd, sig);
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            break timeout_error(cmd, limits, b"");
        }
    };
    drop(finished);
    if let Some(group) = group {
        waiting::kill_group(&mut guard.child, group, limits.grace, &TaskPause).await;
    }
    guard.disarm();
    Err(reason)
}

/// Owns a running child; dropped while armed (the future was dropped
/// mid-flight), it SIGKILLs the child's process group and reaps the leader.
struct GroupGuard {
    child: tokio::process::Child,
    group: Option<Pid>,
    armed: bool,
}

impl GroupGuard {
    fn new(child: tokio::process::Child) -> GroupGuard {
        let group = child.id().map(|id| Pid::from_raw(id as i32));
        GroupGuard {
            child,
            group,
            armed: true,
        }
    }

    /// The group is dead or its leader reaped: nothing to do on drop.
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let Some(group) = self.group.filter(|_| self.armed) else {
            return;
        };
        // No time for a grace period: whoever dropped us is not waiting.
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        // A SIGKILLed leader exits at once; reap it here, so no zombie is
        // left when the runtime is going away. (Should it not be gone within
        // the bound, tokio's orphan reaping takes over: kill_on_drop.)
        let end = Instant::now() + REAP_ON_DROP;
        while !matches!(self.child.try_wait(), Ok(Some(_)) | Err(_)) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(2));
        }
        log::debug!("dropped mid-flight: killed process group {group}");
    }
}

/// How long a drop waits for the SIGKILLed leader to be reaped.
const REAP_ON_DROP: Duration = Duration::from_millis(500);

/// Async twin of [`sleep`](super::sleep): wakes early on SIGINT/SIGTERM.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// dockhand::exec::sleep_async(std::time::Duration::from_millis(1)).await.unwrap();
/// # }
/// ```
pub async fn sleep_async(duration: Duration) -> Result<()> {
    sleep_with(&TaskPause, duration, false).await
}

/// [`sleep_async`] even when an interrupt is pending (a rollback's back-off).
pub(crate) async fn sleep_async_through_interrupts(duration: Duration) {
    let _ = sleep_with(&TaskPause, duration, true).await;
}

/// Read to EOF or past `cap` (then stop). Returns (bytes, overflowed).
async fn read_capped<R: AsyncRead + Unpin>(pipe: Option<R>, cap: usize) -> (Vec<u8>, bool) {
    let Some(mut pipe) = pipe else {
        return (Vec::new(), false);
    };
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return (bytes, false),
            Ok(n) if bytes.len() + n > cap => return (bytes, true),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
}

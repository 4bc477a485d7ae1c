//! Async executor on tokio::process, with the blocking executor's semantics:
//! own process group, concurrent capped reads, group kill + reap on timeout,
//! interrupt or overflow, kill_on_drop when the future is dropped.

#![allow(clippy::disallowed_methods)] // spawning and sleeping live in exec/

use std::time::{Duration, Instant};

use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::blocking::captured_command;
use super::waiting::{self, sleep_with, TaskPause, POLL};
use super::{
    interrupted_error, overflow_error, signals, spawn_error, timeout_error, wait_error, Cmd,
    Limits, Output,
};
use crate::error::{ExitStatus, Result};

/// Async twin of [`run`](super::run).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use dockhand::exec::{run_async, Cmd, Limits};
/// let out = run_async(&Cmd::new("printf").arg("hi"), &Limits::default()).await.unwrap();
/// assert_eq!(out.stdout, b"hi");
/// # }
/// ```
pub async fn run_async(cmd: &Cmd, limits: &Limits) -> Result<Output> {
    if let Some(sig) = signals::pending() {
        return Err(interrupted_error(cmd, sig));
    }
    let started = Instant::now();
    let mut command = Command::from(captured_command(cmd)?);
    command.kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| spawn_error(cmd, e))?;
    let group = child.id().map(|id| Pid::from_raw(id as i32));

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
        if let Some(sig) = signals::pending() {
            break interrupted_error(cmd, sig);
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            break timeout_error(cmd, limits, b"");
        }
    };
    drop(finished);
    if let Some(group) = group {
        waiting::kill_group(&mut child, group, limits.grace, &TaskPause).await;
    }
    Err(reason)
}

/// Async twin of [`sleep`](super::sleep): wakes early on SIGINT/SIGTERM.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// dockhand::exec::sleep_async(std::time::Duration::from_millis(1)).await.unwrap();
/// # }
/// ```
pub async fn sleep_async(duration: Duration) -> Result<()> {
    sleep_with(&TaskPause, duration).await
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

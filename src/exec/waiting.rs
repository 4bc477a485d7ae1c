//! Waiting, written once for the blocking and the tokio executors: sleeps
//! that SIGINT/SIGTERM cut short, and killing a process group.
//!
//! Each is an `async fn` over a [`Pause`] (a thread sleep or a tokio sleep)
//! and a [`Leader`] (a std or a tokio child). The blocking side runs them
//! with [`ready`]: its futures never wait on anything, so one poll finishes
//! them. The same trick lets `engine` write its retry loop and its log and
//! readiness drivers once.

#![allow(clippy::disallowed_methods)] // sleeping lives in exec/

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::signals;
use crate::error::{Error, ErrorKind, ExitStatus, Result};

/// How often a waiting executor looks at the interrupt flag and the caps.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// Which of `fds` can be read without blocking (data, or closed), waiting
/// at most `wait`: one `poll`. None are when the wait ran out, or when a
/// signal interrupted it (EINTR): the caller looks at its signals then.
pub(super) fn readable(fds: &[std::os::fd::BorrowedFd<'_>], wait: Duration) -> Vec<bool> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut polled: Vec<PollFd> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    let millis = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
    if poll(&mut polled, PollTimeout::from(millis)).unwrap_or(0) <= 0 {
        return vec![false; fds.len()];
    }
    polled
        .iter()
        .map(|p| p.revents().is_some_and(|r| !r.is_empty()))
        .collect()
}

/// Run a future whose every await is already complete (a blocking driver's)
/// to its end, on this thread.
pub(crate) fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = noop_waker();
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("a blocking driver's future waited for a wake-up"),
    }
}

fn noop_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(|_| RAW, |_| {}, |_| {}, |_| {});
    const RAW: RawWaker = RawWaker::new(std::ptr::null(), &VTABLE);
    // SAFETY: every function of the vtable ignores the (null) data pointer.
    unsafe { Waker::from_raw(RAW) }
}

/// The error of a wait that signal `sig` cut short (no command to name).
pub(super) fn interrupted(sig: i32) -> Error {
    Error::new(
        ErrorKind::Interrupted,
        format!("interrupted by signal {sig}"),
    )
    .with_status(ExitStatus::Signal(sig))
}

/// A way to pause: block the thread, or yield the tokio task.
pub(crate) trait Pause {
    /// Pause for `duration`.
    async fn pause(&self, duration: Duration);
}

/// Pauses by blocking the thread (under [`ready`]).
pub(crate) struct ThreadPause;

impl Pause for ThreadPause {
    async fn pause(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// Pauses by yielding the tokio task.
#[cfg(feature = "tokio")]
pub(crate) struct TaskPause;

#[cfg(feature = "tokio")]
impl Pause for TaskPause {
    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Sleep for `duration` in [`POLL`] slices, ending early with an
/// Interrupted error when SIGINT/SIGTERM/SIGHUP arrives — unless
/// `through_interrupts` (a rollback's pause).
pub(crate) async fn sleep_with(
    pause: &impl Pause,
    duration: Duration,
    through_interrupts: bool,
) -> Result<()> {
    // A duration too large for the clock: sleep until interrupted.
    let end = Instant::now().checked_add(duration);
    loop {
        if let Some(sig) = signals::pending().filter(|_| !through_interrupts) {
            return Err(interrupted(sig));
        }
        let left = end.map_or(POLL, |e| e.saturating_duration_since(Instant::now()));
        if left.is_zero() {
            return Ok(());
        }
        pause.pause(left.min(POLL)).await;
    }
}

/// The direct child of a process group being killed: a std or a tokio child.
pub(crate) trait Leader {
    /// Wait up to `timeout` for it to exit (and reap it); whether it did.
    async fn exited_within(&mut self, timeout: Duration) -> bool;
    /// Wait for it to exit and reap it; whether that worked.
    async fn reap(&mut self) -> bool;
}

impl Leader for std::process::Child {
    async fn exited_within(&mut self, timeout: Duration) -> bool {
        matches!(
            wait_timeout::ChildExt::wait_timeout(self, timeout),
            Ok(Some(_))
        )
    }

    async fn reap(&mut self) -> bool {
        self.wait().is_ok()
    }
}

#[cfg(feature = "tokio")]
impl Leader for tokio::process::Child {
    async fn exited_within(&mut self, timeout: Duration) -> bool {
        matches!(tokio::time::timeout(timeout, self.wait()).await, Ok(Ok(_)))
    }

    async fn reap(&mut self) -> bool {
        self.wait().await.is_ok()
    }
}

/// SIGTERM the group, give it `grace`, SIGKILL whatever is left, reap the leader.
pub(crate) async fn kill_group(
    leader: &mut impl Leader,
    group: Pid,
    grace: Duration,
    pause: &impl Pause,
) {
    let _ = killpg(group, Signal::SIGTERM);
    let end = Instant::now().checked_add(grace);
    let mut reaped = leader.exited_within(grace).await;
    // Grandchildren may outlive the leader: poll the group until it is empty.
    while end.is_none_or(|e| Instant::now() < e) && group_alive(group) {
        pause.pause(Duration::from_millis(20)).await;
    }
    if group_alive(group) {
        let _ = killpg(group, Signal::SIGKILL);
    }
    if !reaped {
        reaped = leader.reap().await;
    }
    log::debug!("killed process group {group} (leader reaped: {reaped})");
}

/// SIGKILL the process group of every child of this process that leads its
/// own group — every command the executors spawn does — without waiting.
///
/// The last resort where no guard can run: the `dockhand` binary aborts on
/// a panic instead of unwinding (Cargo.toml's release profile), and its
/// panic hook calls this, so a bug never leaves an engine CLI behind (the
/// direct child would also get `PR_SET_PDEATHSIG`, but a child of it — docker
/// under `sudo` — would not). Children found through `/proc`; our own group
/// is never signalled.
///
/// ```no_run
/// dockhand::exec::kill_child_groups();
/// ```
pub fn kill_child_groups() {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp …`; comm may hold any byte, so split
        // after its last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace().skip(1);
        let parent = fields.next().and_then(|f| f.parse::<u32>().ok());
        let group = fields.next().and_then(|f| f.parse::<u32>().ok());
        if parent == Some(me) && group == Some(pid) {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
            }
        }
    }
}

fn group_alive(group: Pid) -> bool {
    !matches!(killpg(group, None), Err(Errno::ESRCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_finishes_a_future_that_never_waits() {
        assert_eq!(ready(async { 1 + 1 }), 2);
        assert!(ready(sleep_with(&ThreadPause, Duration::from_millis(1), false)).is_ok());
    }
}

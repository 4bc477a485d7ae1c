//! Blocking executor: std::process + wait-timeout.

#![allow(clippy::disallowed_methods)] // this module is where spawning and sleeping live

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::unistd::Pid;
use wait_timeout::ChildExt;

use super::waiting::{self, ready, sleep_with, ThreadPause, POLL};
use super::{
    interrupt, interrupted_error, overflow_error, spawn_error, timeout_error, Cmd, Limits,
    Observer, Output, Pipe,
};
use crate::error::{ExitStatus, Result};

/// Run `cmd` to completion within `limits`, capturing stdout and stderr.
///
/// The child runs in its own process group. stdout and stderr are drained
/// as they are written, in this thread (no pipe deadlock, no reader threads),
/// and each is capped at `limits.output_cap`.
/// On timeout, interrupt or overflow the whole group gets SIGTERM, then
/// SIGKILL after `limits.grace`, and the child is reaped.
///
/// ```
/// use dockhand::exec::{run, Cmd, Limits};
/// let out = run(&Cmd::new("printf").arg("hi"), &Limits::default()).unwrap();
/// assert_eq!(out.stdout, b"hi");
/// assert!(out.status.success());
/// ```
pub fn run(cmd: &Cmd, limits: &Limits) -> Result<Output> {
    run_observed(cmd, limits, None)
}

/// [`run`], also handing every chunk of stdout and stderr to `observer` as it
/// arrives (in the calling thread), e.g. to show a pull's progress while the
/// output is still captured for parsing and error classification.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use dockhand::exec::{run_observed, Cmd, Limits, Observer, Pipe};
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&seen);
/// let observer: Observer = Arc::new(move |stream, chunk: &[u8]| {
///     if stream == Pipe::Stdout { sink.lock().unwrap().extend_from_slice(chunk) }
/// });
/// let out = run_observed(&Cmd::new("printf").arg("hi"), &Limits::default(), Some(&observer)).unwrap();
/// assert_eq!(out.stdout, b"hi");
/// assert_eq!(*seen.lock().unwrap(), b"hi");
/// ```
pub fn run_observed(cmd: &Cmd, limits: &Limits, observer: Option<&Observer>) -> Result<Output> {
    if let Some(sig) = interrupt(limits) {
        return Err(interrupted_error(cmd, sig));
    }
    let started = Instant::now();
    // A timeout too large for the clock is no timeout (not a panic).
    let deadline = limits.timeout.and_then(|t| started.checked_add(t));
    let mut child = captured_command(cmd)?
        .spawn()
        .map_err(|e| spawn_error(cmd, e))?;
    let group = Pid::from_raw(child.id() as i32);

    if let (Some(bytes), Some(mut stdin)) = (cmd.get_stdin(), child.stdin.take()) {
        let bytes = bytes.to_vec();
        // A child that stops reading gets EPIPE here, which is fine.
        thread::spawn(move || stdin.write_all(&bytes));
    }
    let mut drain = Drain::new(&mut child, limits.output_cap, observer);
    // Read both pipes until they close; a grandchild may hold them open
    // after the leader exited, so this waits only until the deadline.
    let mut cut = drain.until_closed(deadline, limits);
    if cut.is_none() {
        cut = match wait_leader(&mut child, deadline, limits) {
            Waited::Exited(status) => {
                let status = ExitStatus::from(status);
                log::debug!("{cmd} -> {status} in {} ms", started.elapsed().as_millis());
                let [stdout, stderr] = drain.captured;
                return Ok(Output {
                    status,
                    stdout: stdout.bytes,
                    stderr: stderr.bytes,
                    dry_run: false,
                });
            }
            other => Some(other),
        };
    }
    kill_group(&mut child, group, limits.grace);
    // What the group wrote before it died (the stderr tail of a timeout). A
    // process that left the group (setsid) may hold the pipes for good: they
    // are read for `grace` at most, then closed.
    drain.within(limits.grace);
    let [stdout, stderr] = &drain.captured;
    Err(match cut {
        Some(Waited::Interrupted(sig)) => interrupted_error(cmd, sig),
        Some(Waited::Overflow) => {
            let stream = if stdout.overflowed {
                "stdout"
            } else {
                "stderr"
            };
            overflow_error(cmd, limits, stream)
        }
        _ => timeout_error(cmd, limits, &stderr.bytes),
    })
}

/// Run `cmd` with stdout and stderr going straight to ours (for `exec`,
/// progress bars, anything a person watches). Returns the exit status.
///
/// With `inherit_stdin` and a terminal on stdin, the child stays in our
/// process group so it can read the terminal and gets Ctrl-C directly;
/// otherwise it gets a group of its own, killed as a whole on timeout.
///
/// ```
/// use dockhand::exec::{run_inherit, Cmd, Limits};
/// let st = run_inherit(&Cmd::new("true"), &Limits::default(), false).unwrap();
/// assert!(st.success());
/// ```
pub fn run_inherit(cmd: &Cmd, limits: &Limits, inherit_stdin: bool) -> Result<ExitStatus> {
    run_inherit_keeping(cmd, limits, inherit_stdin, 0).map(|(status, _)| status)
}

/// [`run_inherit`], with the child's stderr passed through a pipe: it still
/// reaches our stderr as it is written, and its last `keep` bytes are
/// returned with the status (to recognise what the engine said on its way
/// out, such as docker's "read escape sequence" after a detach).
///
/// ```
/// use dockhand::exec::{run_inherit_stderr_tail, Cmd, Limits};
/// let cmd = Cmd::new("sh").args(["-c", "echo one >&2; echo two >&2; exit 3"]);
/// let (st, tail) = run_inherit_stderr_tail(&cmd, &Limits::default(), false, 4).unwrap();
/// assert_eq!((st.code(), tail.as_slice()), (Some(3), &b"two\n"[..]));
/// ```
pub fn run_inherit_stderr_tail(
    cmd: &Cmd,
    limits: &Limits,
    inherit_stdin: bool,
    keep: usize,
) -> Result<(ExitStatus, Vec<u8>)> {
    run_inherit_keeping(cmd, limits, inherit_stdin, keep.max(1))
}

/// Longest wait, after the child exited, for the stderr pass-through to
/// finish (a grandchild may hold the pipe open).
const TAIL_DRAIN: Duration = Duration::from_millis(500);

/// [`run_inherit`]; with `keep > 0` stderr goes through a pipe whose last
/// `keep` bytes are returned.
fn run_inherit_keeping(
    cmd: &Cmd,
    limits: &Limits,
    inherit_stdin: bool,
    keep: usize,
) -> Result<(ExitStatus, Vec<u8>)> {
    if let Some(sig) = interrupt(limits) {
        return Err(interrupted_error(cmd, sig));
    }
    let started = Instant::now();
    // A timeout too large for the clock is no timeout (not a panic).
    let deadline = limits.timeout.and_then(|t| started.checked_add(t));
    let interactive = inherit_stdin && io::IsTerminal::is_terminal(&io::stdin());
    let mut command = std_command(cmd);
    command.stdin(if inherit_stdin {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    if keep > 0 {
        command.stderr(Stdio::piped());
    }
    if !interactive {
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| spawn_error(cmd, e))?;
    let group = Pid::from_raw(child.id() as i32);
    let tail = child.stderr.take().map(|pipe| spawn_tail(pipe, keep));
    match wait_leader(&mut child, deadline, limits) {
        Waited::Exited(status) => {
            let status = ExitStatus::from(status);
            log::debug!("{cmd} -> {status} in {} ms", started.elapsed().as_millis());
            let tail = tail
                .and_then(|rx| rx.recv_timeout(TAIL_DRAIN).ok())
                .unwrap_or_default();
            Ok((status, tail))
        }
        other => {
            if interactive {
                // Same group as us: signal the child alone.
                let _ = child.kill();
                let _ = child.wait();
            } else {
                kill_group(&mut child, group, limits.grace);
            }
            Err(match other {
                Waited::Interrupted(sig) => interrupted_error(cmd, sig),
                _ => timeout_error(cmd, limits, b""),
            })
        }
    }
}

/// Copy `pipe` to our stderr as it arrives; the last `keep` bytes come back
/// on the channel when it closes.
fn spawn_tail<R: Read + Send + 'static>(mut pipe: R, keep: usize) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut tail: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let mut stderr = io::stderr().lock();
                    let _ = stderr.write_all(&buf[..n]);
                    let _ = stderr.flush();
                    tail.extend_from_slice(&buf[..n]);
                    let excess = tail.len().saturating_sub(keep);
                    tail.drain(..excess);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = tx.send(tail);
    });
    rx
}

/// Sleep for `duration`, waking early (with an Interrupted error) when
/// SIGINT/SIGTERM/SIGHUP arrives. Retry back-offs use this.
///
/// ```
/// dockhand::exec::sleep(std::time::Duration::from_millis(1)).unwrap();
/// ```
pub fn sleep(duration: Duration) -> Result<()> {
    ready(sleep_with(&ThreadPause, duration, false))
}

/// Sleep for `duration` even when an interrupt is pending (a rollback's
/// back-off).
pub(crate) fn sleep_through_interrupts(duration: Duration) {
    let _ = ready(sleep_with(&ThreadPause, duration, true));
}

/// The Command for `cmd` with its output captured: stdin piped when there
/// are bytes for it, the file when it has one (else /dev/null), stdout and
/// stderr piped, and a process group of its own (both executors use it).
pub(super) fn captured_command(cmd: &Cmd) -> Result<Command> {
    let stdin = match (cmd.get_stdin(), cmd.get_stdin_file()) {
        (Some(_), _) => Stdio::piped(),
        (None, Some(path)) => Stdio::from(
            std::fs::File::open(path).map_err(|e| super::stdin_file_error(cmd, path, e))?,
        ),
        (None, None) => Stdio::null(),
    };
    let mut command = std_command(cmd);
    command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    Ok(command)
}

/// The std::process::Command for `cmd` (program, argv, env — never a shell).
///
/// In the child, before `exec`: the kernel is asked to SIGKILL it when
/// dockhand dies (`PR_SET_PDEATHSIG`, even by SIGKILL), and the descriptors
/// of [`Cmd::pass_fd`] lose their close-on-exec flag. A `pre_exec` hook
/// makes std fork+exec instead of `posix_spawn` (docs/reliability.md has
/// the measured cost).
pub(super) fn std_command(cmd: &Cmd) -> Command {
    let mut command = Command::new(cmd.get_program());
    command.args(cmd.get_args());
    for (k, v) in cmd.get_env().iter().chain(cmd.get_unshown_env()) {
        command.env(k, v);
    }
    if let Some(dir) = cmd.get_path_first() {
        let inherited = cmd
            .get_env()
            .iter()
            .rev()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_default();
        let mut path = dir.to_os_string();
        if !inherited.is_empty() {
            path.push(":");
            path.push(inherited);
        }
        command.env("PATH", path);
    }
    let parent = nix::unistd::getpid();
    let fds = cmd.get_fds().to_vec();
    // SAFETY: the hook runs between fork and exec and only makes
    // async-signal-safe system calls (prctl, getppid, fcntl, kill); it
    // allocates nothing (`fds` was built before the fork).
    unsafe {
        command.pre_exec(move || child_setup(parent, &fds));
    }
    command
}

/// In the forked child: die with the parent, keep the passed descriptors.
fn child_setup(parent: Pid, fds: &[std::os::fd::RawFd]) -> io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    // The parent may have died before the line above took effect: then no
    // signal will ever come, so end here (the parent-pid race).
    if nix::unistd::getppid() != parent {
        let _ = nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGKILL);
    }
    for &fd in fds {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
    }
    Ok(())
}

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    overflowed: bool,
}

/// A child's stdout and stderr, read in the calling thread as they are
/// written: one `poll` over the open pipes, then one read of each ready one.
/// No reader threads: starting two per command (and zeroing their buffers)
/// cost more than the fork itself.
struct Drain<'a> {
    /// stdout, stderr; `None` once closed (or given up).
    pipes: [Option<std::fs::File>; 2],
    captured: [Captured; 2],
    buf: Box<[u8]>,
    cap: usize,
    observer: Option<&'a Observer>,
}

/// Bytes read from a pipe at a time.
const READ_BUF: usize = 16 * 1024;

impl<'a> Drain<'a> {
    fn new(child: &mut Child, cap: usize, observer: Option<&'a Observer>) -> Drain<'a> {
        let file = |fd: Option<std::os::fd::OwnedFd>| fd.map(std::fs::File::from);
        Drain {
            pipes: [
                file(child.stdout.take().map(Into::into)),
                file(child.stderr.take().map(Into::into)),
            ],
            captured: [Captured::default(), Captured::default()],
            buf: vec![0u8; READ_BUF].into_boxed_slice(),
            cap,
            observer,
        }
    }

    fn is_open(&self) -> bool {
        self.pipes.iter().any(Option::is_some)
    }

    /// Read until both pipes close (`None`), or until the deadline, an
    /// interrupt or too much output cuts it short.
    fn until_closed(&mut self, deadline: Option<Instant>, limits: &Limits) -> Option<Waited> {
        while self.is_open() {
            if let Some(sig) = interrupt(limits) {
                return Some(Waited::Interrupted(sig));
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Some(Waited::TimedOut);
            }
            if self.read_ready(left.unwrap_or(POLL).min(POLL)) {
                return Some(Waited::Overflow);
            }
        }
        None
    }

    /// Read what arrives within `grace`, until both pipes close; then close them.
    fn within(&mut self, grace: Duration) {
        let end = Instant::now().checked_add(grace);
        while self.is_open() {
            let left = end.map_or(POLL, |e| e.saturating_duration_since(Instant::now()));
            if left.is_zero() || self.read_ready(left.min(POLL)) {
                break;
            }
        }
        if self.is_open() {
            log::warn!("a process outside the command's group still holds its output pipes; not waiting for it");
        }
        self.pipes = [None, None];
    }

    /// Wait up to `wait` for output, then read each ready pipe once; true
    /// when a pipe went over the cap (it is no longer read).
    fn read_ready(&mut self, wait: Duration) -> bool {
        use std::os::fd::AsFd;
        let open: Vec<(usize, Pipe)> = [(0, Pipe::Stdout), (1, Pipe::Stderr)]
            .into_iter()
            .filter(|(i, _)| self.pipes[*i].is_some())
            .collect();
        let fds: Vec<_> = self.pipes.iter().flatten().map(|p| p.as_fd()).collect();
        let ready = waiting::readable(&fds, wait);
        for (&(i, stream), ready) in open.iter().zip(ready) {
            if ready && self.read_one(i, stream) {
                return true;
            }
        }
        false
    }

    /// One read of pipe `i`; true when it went over the cap.
    fn read_one(&mut self, i: usize, stream: Pipe) -> bool {
        let Some(pipe) = self.pipes[i].as_mut() else {
            return false;
        };
        let n = match pipe.read(&mut self.buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return false,
            Err(_) => 0,
        };
        if n == 0 {
            self.pipes[i] = None;
            return false;
        }
        let chunk = &self.buf[..n];
        if let Some(observe) = self.observer {
            observe(stream, chunk);
        }
        let captured = &mut self.captured[i];
        if captured.bytes.len() + n > self.cap {
            // Stop reading: the executor kills the child.
            captured.overflowed = true;
            self.pipes[i] = None;
            return true;
        }
        captured.bytes.extend_from_slice(chunk);
        false
    }
}

enum Waited {
    Exited(std::process::ExitStatus),
    TimedOut,
    Interrupted(i32),
    Overflow,
}

/// Wait for the direct child, polling the interrupt flag.
fn wait_leader(child: &mut Child, deadline: Option<Instant>, limits: &Limits) -> Waited {
    loop {
        let slice = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(POLL),
            None => POLL,
        };
        match child.wait_timeout(slice) {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            // wait(2) failing means the child is gone from our view; treat as killed.
            Err(_) => return Waited::TimedOut,
        }
        if let Some(sig) = interrupt(limits) {
            return Waited::Interrupted(sig);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Waited::TimedOut;
        }
    }
}

/// SIGTERM the group, give it `grace`, SIGKILL whatever is left, reap the child.
pub(super) fn kill_group(child: &mut Child, group: Pid, grace: Duration) {
    ready(waiting::kill_group(child, group, grace, &ThreadPause));
}

//! Blocking executor: std::process + wait-timeout.

#![allow(clippy::disallowed_methods)] // this module is where spawning and sleeping live

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
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
/// concurrently (no pipe deadlock) and each is capped at `limits.output_cap`.
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
/// arrives (on the reader threads), e.g. to show a pull's progress while the
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
    let overflow = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let readers = [
        spawn_reader(
            child.stdout.take(),
            Pipe::Stdout,
            limits.output_cap,
            (&overflow, observer),
            &tx,
        ),
        spawn_reader(
            child.stderr.take(),
            Pipe::Stderr,
            limits.output_cap,
            (&overflow, observer),
            &tx,
        ),
    ];
    drop(tx);
    let mut collector = Collector::new(rx, readers);

    let outcome = wait_leader(&mut child, deadline, &overflow, limits);
    let status = match outcome {
        Waited::Exited(status) => status,
        other => {
            kill_group(&mut child, group, limits.grace);
            let (_, stderr) = collector.finish_within(limits.grace);
            return Err(match other {
                Waited::Interrupted(sig) => interrupted_error(cmd, sig),
                Waited::Overflow => overflow_error(cmd, limits, "output"),
                _ => timeout_error(cmd, limits, &stderr.bytes),
            });
        }
    };
    // The leader is gone, but a grandchild may still hold the pipes open: wait
    // for both readers only until the deadline, then kill the rest of the group.
    match collector.wait_until(deadline, limits) {
        Drained::All => {}
        cut => {
            kill_group(&mut child, group, limits.grace);
            // A grandchild that left the group (setsid) escapes the kill and
            // may hold the pipes for good: the readers are abandoned then.
            let (_, stderr) = collector.finish_within(limits.grace);
            return Err(match cut {
                Drained::Interrupted(sig) => interrupted_error(cmd, sig),
                _ => timeout_error(cmd, limits, &stderr.bytes),
            });
        }
    }
    let (stdout, stderr) = collector.finish_within(limits.grace);
    if stdout.overflowed || stderr.overflowed {
        let stream = if stdout.overflowed {
            "stdout"
        } else {
            "stderr"
        };
        return Err(overflow_error(cmd, limits, stream));
    }
    let status = ExitStatus::from(status);
    log::debug!("{cmd} -> {status} in {} ms", started.elapsed().as_millis());
    Ok(Output {
        status,
        stdout: stdout.bytes,
        stderr: stderr.bytes,
        dry_run: false,
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
    let never = AtomicBool::new(false);
    match wait_leader(&mut child, deadline, &never, limits) {
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
    for (k, v) in cmd.get_env() {
        command.env(k, v);
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

type Reader = Option<thread::JoinHandle<()>>;

fn spawn_reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    stream: Pipe,
    cap: usize,
    (overflow, observer): (&Arc<AtomicBool>, Option<&Observer>),
    tx: &mpsc::Sender<(Pipe, Captured)>,
) -> Reader {
    let mut pipe = pipe?;
    let overflow = Arc::clone(overflow);
    let observer = observer.cloned();
    let tx = tx.clone();
    Some(thread::spawn(move || {
        let captured = read_capped(&mut pipe, cap, |chunk| {
            if let Some(observe) = &observer {
                observe(stream, chunk);
            }
        });
        if captured.overflowed {
            overflow.store(true, Ordering::SeqCst);
        }
        let _ = tx.send((stream, captured));
    }))
}

/// Read until EOF, or until more than `cap` bytes arrived (then stop reading:
/// the executor kills the child).
fn read_capped(pipe: &mut impl Read, cap: usize, observe: impl Fn(&[u8])) -> Captured {
    let mut captured = Captured::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                observe(&buf[..n]);
                if captured.bytes.len() + n > cap {
                    captured.overflowed = true;
                    break;
                }
                captured.bytes.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    captured
}

enum Waited {
    Exited(std::process::ExitStatus),
    TimedOut,
    Interrupted(i32),
    Overflow,
}

/// Wait for the direct child, polling the interrupt flag and the overflow flag.
fn wait_leader(
    child: &mut Child,
    deadline: Option<Instant>,
    overflow: &AtomicBool,
    limits: &Limits,
) -> Waited {
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
        if overflow.load(Ordering::SeqCst) {
            return Waited::Overflow;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Waited::TimedOut;
        }
    }
}

/// Gathers what the two reader threads send back.
struct Collector {
    rx: mpsc::Receiver<(Pipe, Captured)>,
    stdout: Option<Captured>,
    stderr: Option<Captured>,
    readers: [Reader; 2],
}

impl Collector {
    fn new(rx: mpsc::Receiver<(Pipe, Captured)>, readers: [Reader; 2]) -> Collector {
        Collector {
            rx,
            stdout: None,
            stderr: None,
            readers,
        }
    }

    fn store(&mut self, (stream, captured): (Pipe, Captured)) {
        match stream {
            Pipe::Stdout => self.stdout = Some(captured),
            Pipe::Stderr => self.stderr = Some(captured),
        }
    }

    /// Receive until both readers reported, `deadline` passed, or an
    /// interrupt arrived.
    fn wait_until(&mut self, deadline: Option<Instant>, limits: &Limits) -> Drained {
        loop {
            if let Some(sig) = interrupt(limits) {
                return Drained::Interrupted(sig);
            }
            let slice = deadline.map_or(POLL, |d| {
                d.saturating_duration_since(Instant::now()).min(POLL)
            });
            match self.rx.recv_timeout(slice) {
                Ok(msg) => self.store(msg),
                // Every sender is gone: all readers have reported.
                Err(mpsc::RecvTimeoutError::Disconnected) => return Drained::All,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Drained::TimedOut;
                    }
                }
            }
        }
    }

    /// What the readers have (call after the group was killed), waiting at
    /// most `grace` for them: a reader still blocked then (the pipe is held
    /// by a process that escaped the group) is left behind, detached.
    fn finish_within(mut self, grace: Duration) -> (Captured, Captured) {
        let end = Instant::now().checked_add(grace);
        let mut drained = false;
        while !drained {
            let left = end.map_or(POLL, |e| e.saturating_duration_since(Instant::now()));
            match self.rx.recv_timeout(left) {
                Ok(msg) => self.store(msg),
                Err(mpsc::RecvTimeoutError::Disconnected) => drained = true,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if left.is_zero() {
                        break;
                    }
                }
            }
        }
        let readers = std::mem::take(&mut self.readers).into_iter().flatten();
        if drained {
            readers.for_each(|r| drop(r.join()));
        } else {
            log::warn!("a process outside the command's group still holds its output pipes; not waiting for it");
        }
        (
            self.stdout.unwrap_or_default(),
            self.stderr.unwrap_or_default(),
        )
    }
}

/// How waiting for the readers ended.
enum Drained {
    All,
    TimedOut,
    Interrupted(i32),
}

/// SIGTERM the group, give it `grace`, SIGKILL whatever is left, reap the child.
pub(super) fn kill_group(child: &mut Child, group: Pid, grace: Duration) {
    ready(waiting::kill_group(child, group, grace, &ThreadPause));
}

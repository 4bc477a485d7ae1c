//! Long-running children whose output is read as it arrives (`logs -f`,
//! `events`). Dropping a handle kills the child's process group and reaps it.
//! [`fan_in`] runs several at once and merges their output through a bounded
//! channel, so memory stays bounded whatever the children write.

#![allow(clippy::disallowed_methods)] // spawning lives in exec/

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Stdio};
#[cfg(feature = "tokio")]
use std::sync::mpsc;
#[cfg(feature = "tokio")]
use std::thread;
use std::time::{Duration, Instant};

use nix::unistd::Pid;
use wait_timeout::ChildExt;

use super::blocking::{kill_group, std_command};
use super::waiting::POLL;
use super::{signals, spawn_error, wait_error, Cmd, Pipe, DEFAULT_GRACE};
use crate::error::{ExitStatus, Result};

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

    /// The child's process id (also its process group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The shell-quoted command, for errors.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Wait up to `timeout` for the child to exit; `None` if it still runs.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        match self.child.wait_timeout(timeout) {
            Ok(Some(st)) => {
                self.reaped = true;
                Ok(Some(ExitStatus::from(st)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(wait_error(&self.command, e)),
        }
    }

    /// Wait for the child to exit.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        let st = self
            .child
            .wait()
            .map_err(|e| wait_error(&self.command, e))?;
        self.reaped = true;
        Ok(ExitStatus::from(st))
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

/// What a [`FanIn`] delivers, in the order it happened per child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Bytes one child wrote (at most [`READ_CHUNK`] at a time).
    Output {
        /// Index of the child in the commands given to [`fan_in`].
        child: usize,
        /// Which pipe.
        pipe: Pipe,
        /// The bytes, exactly as read.
        bytes: Vec<u8>,
    },
    /// A child closed both pipes and exited (after all its output).
    Exited {
        /// Index of the child.
        child: usize,
        /// How it ended.
        status: ExitStatus,
    },
    /// SIGINT/SIGTERM arrived (see [`signals`](super::signals)): every
    /// child's process group was killed and reaped. Nothing follows.
    Interrupted(i32),
}

/// Bytes read from a pipe at a time; one [`Delivery::Output`] holds at most this.
pub const READ_CHUNK: usize = 8 * 1024;

/// How long to let a pipe fill after a read that did not fill the buffer.
/// Engines write a log line per `write`; read eagerly, every line wakes the
/// reader and is one read (30,000 reads for 200,000 lines of `docker logs
/// -f`, and the engine's writes into a pipe with a waiting reader cost it
/// more). After a short pause the next read takes many lines at once (about
/// 1,000 reads then), at the price of at most this much latency.
///
/// Only in a burst (the read before came less than [`BURST`] earlier): a
/// line on its own is read at once, and lines written one after the other
/// on stdout and stderr keep their order (after a pause both pipes hold
/// lines, and which pipe is read first no longer says which came first).
const COALESCE: Duration = Duration::from_millis(1);

/// Reads this close together are a burst, worth pausing in: [`COALESCE`].
const BURST: Duration = Duration::from_millis(10);

/// Whether to pause before the next read: this one did not fill the buffer,
/// and the one before was recent.
fn in_burst(read: usize, buffer: usize, last: &mut Option<Instant>) -> bool {
    let now = Instant::now();
    let burst = read < buffer && last.is_some_and(|t| now.duration_since(t) < BURST);
    *last = Some(now);
    burst
}

/// Where reader threads put deliveries (the async side): a bounded channel,
/// so a consumer that does not keep up makes the readers, and then the
/// children, wait.
#[cfg(feature = "tokio")]
trait Sink: Clone + Send + 'static {
    /// Deliver; false once the consumer is gone.
    fn deliver(&self, d: Delivery) -> bool;
}

#[cfg(feature = "tokio")]
impl Sink for tokio::sync::mpsc::Sender<Delivery> {
    fn deliver(&self, d: Delivery) -> bool {
        // Called from the reader threads, never from inside the runtime.
        self.blocking_send(d).is_ok()
    }
}

/// Several long-running children whose stdout and stderr arrive merged, as
/// they are written (blocking side).
///
/// The pipes are read in the thread that asks for the next delivery (one
/// `poll` over every open pipe, then one read of at most [`READ_CHUNK`]
/// bytes): no reader threads, no hand-off between threads for each chunk,
/// and a consumer that does not keep up makes the children wait in their
/// pipes, so memory stays bounded. A child is reaped when both its pipes
/// have closed; dropping the `FanIn` kills and reaps all of them; on
/// SIGINT/SIGTERM (when [`signals::install`](super::signals::install) was
/// called) they are killed and [`Delivery::Interrupted`] is delivered.
///
/// ```
/// use dockhand::exec::{fan_in, Cmd, Delivery, Pipe};
/// let fan = fan_in(&[Cmd::new("printf").arg("hi"), Cmd::new("sh").args(["-c", "echo oops >&2; exit 3"])]).unwrap();
/// let all: Vec<Delivery> = fan.collect();
/// assert!(all.contains(&Delivery::Output { child: 0, pipe: Pipe::Stdout, bytes: b"hi".to_vec() }));
/// assert!(all.contains(&Delivery::Exited { child: 1, status: dockhand::ExitStatus::Code(3) }));
/// ```
#[derive(Debug)]
pub struct FanIn {
    children: Vec<Polled>,
    pids: Vec<u32>,
    buf: Vec<u8>,
    /// Where the next look for a ready pipe starts (no child starves).
    turn: usize,
    /// The last read did not fill the buffer, in a burst: let the pipes fill first.
    coalesce: bool,
    /// When the last read was.
    last_read: Option<Instant>,
    /// Interrupted was delivered: nothing follows.
    over: bool,
}

/// One child of a [`FanIn`] and its pipes still open.
#[derive(Debug)]
struct Polled {
    child: Streaming,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    /// Its [`Delivery::Exited`] was delivered.
    reported: bool,
}

/// Start every command in `cmds` (stdin closed, own process group) and merge
/// their output.
pub fn fan_in(cmds: &[Cmd]) -> Result<FanIn> {
    let mut children = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        // On error the children started so far are killed by their Drop.
        let mut child = spawn_streaming(cmd)?;
        children.push(Polled {
            stdout: child.take_stdout(),
            stderr: child.take_stderr(),
            child,
            reported: false,
        });
    }
    Ok(FanIn {
        pids: children.iter().map(|c| c.child.id()).collect(),
        children,
        buf: vec![0u8; READ_CHUNK],
        turn: 0,
        coalesce: false,
        last_read: None,
        over: false,
    })
}

impl FanIn {
    /// The next delivery; `None` once every child exited (or after
    /// [`Delivery::Interrupted`]).
    pub fn recv(&mut self) -> Option<Delivery> {
        self.next_before(None).unwrap_or(None)
    }

    /// Like [`recv`](FanIn::recv), waiting at most `timeout`: `Err(())` when
    /// nothing arrived in time.
    #[allow(clippy::result_unit_err)]
    pub fn recv_timeout(&mut self, timeout: Duration) -> std::result::Result<Option<Delivery>, ()> {
        self.next_before(Instant::now().checked_add(timeout))
    }

    /// Process ids of the children (process group ids too), in command order.
    pub fn pids(&self) -> &[u32] {
        &self.pids
    }

    fn next_before(
        &mut self,
        deadline: Option<Instant>,
    ) -> std::result::Result<Option<Delivery>, ()> {
        loop {
            if self.over {
                return Ok(None);
            }
            if let Some(sig) = signals::pending() {
                self.children.iter_mut().for_each(|c| c.child.kill());
                self.over = true;
                return Ok(Some(Delivery::Interrupted(sig)));
            }
            // A child whose pipes both closed exits now: reap and report it.
            let closed = self
                .children
                .iter()
                .position(|c| !c.reported && c.stdout.is_none() && c.stderr.is_none());
            if let Some(i) = closed {
                let c = &mut self.children[i];
                c.reported = true;
                let status = reap_after_eof(&mut c.child);
                return Ok(Some(Delivery::Exited { child: i, status }));
            }
            if self.children.iter().all(|c| c.reported) {
                return Ok(None);
            }
            let left = |cap: Duration| match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(cap),
                None => cap,
            };
            // A look without waiting (`recv_timeout(ZERO)`) keeps the pause
            // for the next wait.
            let pause = left(COALESCE);
            if self.coalesce && !pause.is_zero() {
                self.coalesce = false;
                std::thread::sleep(pause);
            }
            let wait = left(POLL);
            match self.ready_pipe(wait) {
                Some((child, pipe)) => {
                    if let Some(bytes) = self.read(child, pipe) {
                        return Ok(Some(Delivery::Output { child, pipe, bytes }));
                    }
                }
                None if deadline.is_some_and(|d| Instant::now() >= d) => return Err(()),
                // A slice of the wait passed: look at the signals again.
                None => {}
            }
        }
    }

    /// One pipe with something to read (or closed), waiting at most `wait`.
    fn ready_pipe(&mut self, wait: Duration) -> Option<(usize, Pipe)> {
        let mut open = Vec::with_capacity(self.children.len() * 2);
        let mut fds = Vec::with_capacity(self.children.len() * 2);
        for (i, c) in self.children.iter().enumerate() {
            if let Some(p) = &c.stdout {
                open.push((i, Pipe::Stdout));
                fds.push(p.as_fd());
            }
            if let Some(p) = &c.stderr {
                open.push((i, Pipe::Stderr));
                fds.push(p.as_fd());
            }
        }
        let ready = super::waiting::readable(&fds, wait);
        let n = fds.len();
        let first = (0..n).map(|k| (k + self.turn) % n).find(|&k| ready[k])?;
        self.turn = self.turn.wrapping_add(1);
        Some(open[first])
    }

    /// Read once from a ready pipe: its bytes, or `None` when it closed.
    fn read(&mut self, child: usize, pipe: Pipe) -> Option<Vec<u8>> {
        let c = &mut self.children[child];
        let read = match pipe {
            Pipe::Stdout => c.stdout.as_mut().map(|p| p.read(&mut self.buf)),
            Pipe::Stderr => c.stderr.as_mut().map(|p| p.read(&mut self.buf)),
        };
        match read {
            Some(Ok(n)) if n > 0 => {
                self.coalesce = in_burst(n, self.buf.len(), &mut self.last_read);
                return Some(self.buf[..n].to_vec());
            }
            Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => return None,
            _ => {}
        }
        match pipe {
            Pipe::Stdout => c.stdout = None,
            Pipe::Stderr => c.stderr = None,
        }
        None
    }
}

impl Iterator for FanIn {
    type Item = Delivery;
    fn next(&mut self) -> Option<Delivery> {
        self.recv()
    }
}

/// Async twin of [`FanIn`] (feature `tokio`): the same children, readers and
/// supervisor, delivering into a tokio channel.
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct FanInAsync {
    rx: tokio::sync::mpsc::Receiver<Delivery>,
    supervisor: Supervisor,
}

/// Async twin of [`fan_in`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use dockhand::exec::{fan_in_async, Cmd, Delivery};
/// let mut fan = fan_in_async(&[Cmd::new("true")], 4).unwrap();
/// assert!(matches!(fan.recv().await, Some(Delivery::Exited { child: 0, .. })));
/// assert_eq!(fan.recv().await, None);
/// # }
/// ```
#[cfg(feature = "tokio")]
pub fn fan_in_async(cmds: &[Cmd], capacity: usize) -> Result<FanInAsync> {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    let supervisor = Supervisor::start(cmds, tx)?;
    Ok(FanInAsync { rx, supervisor })
}

#[cfg(feature = "tokio")]
impl FanInAsync {
    /// The next delivery; `None` once every child exited.
    pub async fn recv(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// Poll for the next delivery (for `Stream` implementations).
    pub fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Delivery>> {
        self.rx.poll_recv(cx)
    }

    /// Process ids of the children, in command order.
    pub fn pids(&self) -> &[u32] {
        &self.supervisor.pids
    }
}

#[cfg(feature = "tokio")]
/// Messages from reader threads and the owner to the supervisor thread.
enum Control {
    PipeClosed(usize),
    Stop,
}

#[cfg(feature = "tokio")]
/// The thread that owns the children; stopping it kills and reaps them.
#[derive(Debug)]
struct Supervisor {
    control: mpsc::Sender<Control>,
    thread: Option<thread::JoinHandle<()>>,
    pids: Vec<u32>,
}

#[cfg(feature = "tokio")]
/// Reader and supervisor threads only move bytes: a small stack is plenty.
const THREAD_STACK: usize = 128 * 1024;

#[cfg(feature = "tokio")]
impl Supervisor {
    fn start<S: Sink>(cmds: &[Cmd], sink: S) -> Result<Supervisor> {
        let (control, inbox) = mpsc::channel();
        let mut children = Vec::with_capacity(cmds.len());
        for cmd in cmds {
            // On error the children started so far are killed by their Drop.
            children.push(spawn_streaming(cmd)?);
        }
        let pids = children.iter().map(|c| c.child.id()).collect();
        for (index, child) in children.iter_mut().enumerate() {
            let pipes = [
                (
                    Pipe::Stdout,
                    child
                        .take_stdout()
                        .map(|p| Box::new(p) as Box<dyn Read + Send>),
                ),
                (
                    Pipe::Stderr,
                    child
                        .take_stderr()
                        .map(|p| Box::new(p) as Box<dyn Read + Send>),
                ),
            ];
            for (pipe, reader) in pipes {
                let (sink, control) = (sink.clone(), control.clone());
                let spawned = thread::Builder::new()
                    .name("dockhand-reader".into())
                    .stack_size(THREAD_STACK)
                    .spawn(move || {
                        if let Some(reader) = reader {
                            pump(reader, index, pipe, &sink);
                        }
                        let _ = control.send(Control::PipeClosed(index));
                    });
                if let Err(e) = spawned {
                    return Err(thread_error(e));
                }
            }
        }
        let thread = thread::Builder::new()
            .name("dockhand-supervisor".into())
            .stack_size(THREAD_STACK)
            .spawn(move || supervise(children, &inbox, &sink))
            .map_err(thread_error)?;
        Ok(Supervisor {
            control,
            thread: Some(thread),
            pids,
        })
    }
}

#[cfg(feature = "tokio")]
impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(feature = "tokio")]
fn thread_error(e: std::io::Error) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::EngineFailure,
        format!("cannot start a reader thread: {e}"),
    )
    .with_source(e)
}

#[cfg(feature = "tokio")]
/// Copy one pipe into the sink until EOF or until the consumer is gone.
fn pump(mut reader: Box<dyn Read + Send>, child: usize, pipe: Pipe, sink: &impl Sink) {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut last_read = None;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let bytes = buf[..n].to_vec();
                if !sink.deliver(Delivery::Output { child, pipe, bytes }) {
                    return;
                }
                if in_burst(n, buf.len(), &mut last_read) {
                    thread::sleep(COALESCE);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

#[cfg(feature = "tokio")]
/// Reap children as their pipes close; on Stop or a signal kill them all.
fn supervise(mut children: Vec<Streaming>, inbox: &mpsc::Receiver<Control>, sink: &impl Sink) {
    let mut open_pipes = vec![2u8; children.len()];
    let mut running = children.len();
    while running > 0 {
        match inbox.recv_timeout(POLL) {
            Ok(Control::PipeClosed(i)) => {
                open_pipes[i] -= 1;
                if open_pipes[i] == 0 {
                    running -= 1;
                    let status = reap_after_eof(&mut children[i]);
                    if !sink.deliver(Delivery::Exited { child: i, status }) {
                        break;
                    }
                }
            }
            Ok(Control::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(sig) = signals::pending() {
                    children.iter_mut().for_each(Streaming::kill);
                    let _ = sink.deliver(Delivery::Interrupted(sig));
                    break;
                }
            }
        }
    }
    // Dropping kills and reaps whatever still runs.
    drop(children);
}

/// The child closed its pipes; it exits now (or is made to after a grace).
fn reap_after_eof(child: &mut Streaming) -> ExitStatus {
    match child.wait_timeout(DEFAULT_GRACE) {
        Ok(Some(status)) => status,
        _ => {
            child.kill();
            child.wait().unwrap_or(ExitStatus::Signal(9))
        }
    }
}

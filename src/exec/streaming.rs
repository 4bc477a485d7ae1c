//! Long-running children whose output is read as it arrives (`logs -f`,
//! `events`). Dropping a handle kills the child's process group and reaps it.
//! [`fan_in`] runs several at once and merges their output through a bounded
//! channel, so memory stays bounded whatever the children write.

#![allow(clippy::disallowed_methods)] // spawning lives in exec/

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

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

/// Where reader threads put deliveries: a bounded channel, so a consumer
/// that does not keep up makes the readers, and then the children, wait.
trait Sink: Clone + Send + 'static {
    /// Deliver; false once the consumer is gone.
    fn deliver(&self, d: Delivery) -> bool;
}

impl Sink for mpsc::SyncSender<Delivery> {
    fn deliver(&self, d: Delivery) -> bool {
        self.send(d).is_ok()
    }
}

#[cfg(feature = "tokio")]
impl Sink for tokio::sync::mpsc::Sender<Delivery> {
    fn deliver(&self, d: Delivery) -> bool {
        // Called from the reader threads, never from inside the runtime.
        self.blocking_send(d).is_ok()
    }
}

/// Several long-running children whose stdout and stderr arrive merged, as
/// they are written, through a bounded channel (blocking side).
///
/// A supervisor thread owns the children: it reaps each one when its pipes
/// close, kills and reaps all of them when the `FanIn` is dropped, and on
/// SIGINT/SIGTERM (when [`signals::install`](super::signals::install) was
/// called) kills them and delivers [`Delivery::Interrupted`].
///
/// ```
/// use dockhand::exec::{fan_in, Cmd, Delivery, Pipe};
/// let fan = fan_in(&[Cmd::new("printf").arg("hi"), Cmd::new("sh").args(["-c", "echo oops >&2; exit 3"])], 4).unwrap();
/// let all: Vec<Delivery> = fan.collect();
/// assert!(all.contains(&Delivery::Output { child: 0, pipe: Pipe::Stdout, bytes: b"hi".to_vec() }));
/// assert!(all.contains(&Delivery::Exited { child: 1, status: dockhand::ExitStatus::Code(3) }));
/// ```
#[derive(Debug)]
pub struct FanIn {
    // Field order matters: the receiver is dropped first, so readers blocked
    // on a full channel give up before the supervisor is stopped and joined.
    rx: mpsc::Receiver<Delivery>,
    supervisor: Supervisor,
}

/// Start every command in `cmds` (stdin closed, own process group) and merge
/// their output; `capacity` bounds the deliveries waiting to be received.
pub fn fan_in(cmds: &[Cmd], capacity: usize) -> Result<FanIn> {
    let (tx, rx) = mpsc::sync_channel(capacity.max(1));
    let supervisor = Supervisor::start(cmds, tx)?;
    Ok(FanIn { rx, supervisor })
}

impl FanIn {
    /// The next delivery; `None` once every child exited (or after
    /// [`Delivery::Interrupted`]).
    pub fn recv(&self) -> Option<Delivery> {
        self.rx.recv().ok()
    }

    /// Like [`recv`](FanIn::recv), waiting at most `timeout`: `Err(())` when
    /// nothing arrived in time.
    #[allow(clippy::result_unit_err)]
    pub fn recv_timeout(&self, timeout: Duration) -> std::result::Result<Option<Delivery>, ()> {
        match self.rx.recv_timeout(timeout) {
            Ok(d) => Ok(Some(d)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(None),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(()),
        }
    }

    /// Process ids of the children (process group ids too), in command order.
    pub fn pids(&self) -> &[u32] {
        &self.supervisor.pids
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

/// Messages from reader threads and the owner to the supervisor thread.
enum Control {
    PipeClosed(usize),
    Stop,
}

/// The thread that owns the children; stopping it kills and reaps them.
#[derive(Debug)]
struct Supervisor {
    control: mpsc::Sender<Control>,
    thread: Option<thread::JoinHandle<()>>,
    pids: Vec<u32>,
}

/// Reader and supervisor threads only move bytes: a small stack is plenty.
const THREAD_STACK: usize = 128 * 1024;

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

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn thread_error(e: std::io::Error) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::EngineFailure,
        format!("cannot start a reader thread: {e}"),
    )
    .with_source(e)
}

/// Copy one pipe into the sink until EOF or until the consumer is gone.
fn pump(mut reader: Box<dyn Read + Send>, child: usize, pipe: Pipe, sink: &impl Sink) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                let bytes = buf[..n].to_vec();
                if !sink.deliver(Delivery::Output { child, pipe, bytes }) {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

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

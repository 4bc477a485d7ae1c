//! Long-running engine commands read line by line as they write — `logs`
//! of several containers, `events` — merged into one stream of typed items.
//!
//! Each child's stdout (and, where it carries lines of its own, stderr) is
//! cut into lines by a [`LineDecoder`] in bounded memory; a resource turns
//! each line into its item. A child that exits non-zero adds one classified
//! error (from the tail of its stderr); SIGINT/SIGTERM ends the stream with
//! an Interrupted error. [`LineStream`] is the blocking iterator,
//! [`AsyncLineStream`] the tokio `Stream`; both share [`Decoded`].

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::classify::{classify, Tool};
use super::{Argv, EngineKind};
use crate::decode::lines::{Line, LineDecoder, PartStamps};
use crate::decode::time::Timestamp;
use crate::error::{Error, ErrorKind, ExitStatus, Result};
use crate::exec::{self, Cmd, Delivery, Output, Pipe};

/// Engine output chunks waiting to be decoded (each at most
/// [`READ_CHUNK`](crate::exec::READ_CHUNK) bytes) before the engine children
/// are made to wait: the async side's reader threads (the blocking side
/// reads the pipes itself, when the next item is asked for).
#[cfg(feature = "tokio")]
pub(crate) const CHANNEL_CAPACITY: usize = 16;
/// How much of a child's stderr is kept to explain its failure.
const STDERR_TAIL: usize = 4096;

/// One engine command of a line stream.
#[derive(Debug)]
pub(crate) struct LineChild {
    /// Its arguments after the engine command.
    pub args: Argv,
    /// Whether its lines start with engine timestamps, and where it puts
    /// those of the later parts of a long line.
    pub stamps: Option<PartStamps>,
    /// Bound on one line; longer ones come in pieces.
    pub max_line: usize,
    /// Whether its stderr carries lines to read (a container's stderr in
    /// `logs`), or only the engine's complaints (kept for the error).
    pub stderr_lines: bool,
    /// How to read what it may have missed when it ends well (a follow the
    /// engine can end early: [`Quirks::follow_may_end_early`](super::quirks::Quirks::follow_may_end_early)).
    /// Needs `stamps`.
    pub catch_up: Option<CatchUp>,
}

/// The read, after a follow ended, of every line from the last timestamp the
/// follow gave on: lines up to the last one seen on each stream are dropped,
/// the rest are the child's, as if the follow had given them.
pub(crate) struct CatchUp {
    /// The arguments of a read of the lines from this instant on (`None`:
    /// the whole log).
    pub args: Box<dyn Fn(Option<Timestamp>) -> Argv + Send>,
    /// Where to start when the follow gave no line at all.
    pub since_if_none: Option<Timestamp>,
}

impl fmt::Debug for CatchUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatchUp")
            .field("since_if_none", &self.since_if_none)
            .finish_non_exhaustive()
    }
}

/// The last timestamp a stream gave, and how many of its lines had it.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    last: Option<Timestamp>,
    at_last: usize,
}

impl Seen {
    fn note(&mut self, time: Timestamp) {
        match self.last == Some(time) {
            true => self.at_last += 1,
            false => {
                *self = Seen {
                    last: Some(time),
                    at_last: 1,
                }
            }
        }
    }
}

/// Which lines of a catch-up read of one stream are new: those after
/// `from`, and at `from` all but the first `skip` (seen already).
#[derive(Debug, Clone, Copy)]
struct Unseen {
    from: Option<Timestamp>,
    skip: usize,
}

impl Unseen {
    /// For each stream (stdout, stderr) after a follow that gave `seen`. A
    /// stream that gave nothing starts where the other stopped: the engine
    /// writes both into one log in time order, and the follow read it
    /// from the start.
    fn after(seen: [Seen; 2]) -> [Unseen; 2] {
        let of = |mine: Seen, other: Seen| match mine.last {
            Some(_) => Unseen {
                from: mine.last,
                skip: mine.at_last,
            },
            None => Unseen {
                from: other.last,
                skip: 0,
            },
        };
        [of(seen[0], seen[1]), of(seen[1], seen[0])]
    }

    /// Whether a line stamped `time` is new (engine complaints have no stamp: not a line).
    fn keep(&mut self, time: Option<Timestamp>) -> bool {
        let Some(time) = time else {
            return false;
        };
        let Some(from) = self.from else {
            return true;
        };
        match time.cmp(&from) {
            Ordering::Less => false,
            Ordering::Equal if self.skip > 0 => {
                self.skip -= 1;
                false
            }
            _ => true,
        }
    }
}

/// A catch-up read under way: for which child, its decoders and filters.
struct CatchingUp {
    child: usize,
    cmd: Cmd,
    stdout: LineDecoder,
    stderr: LineDecoder,
    unseen: [Unseen; 2],
    started: bool,
    /// Lines it gave that the follow had not.
    recovered: usize,
}

impl CatchingUp {
    fn decoder(&mut self, pipe: Pipe) -> &mut LineDecoder {
        match pipe {
            Pipe::Stdout => &mut self.stdout,
            Pipe::Stderr => &mut self.stderr,
        }
    }
}

/// Turns a line child `child` wrote on `pipe` into an item, or drops it (`None`).
pub(crate) type ToItem<T> = Box<dyn FnMut(usize, Pipe, Line) -> Option<Result<T>> + Send>;

/// The decoding state of every child of one stream, shared by both front ends.
pub(crate) struct Decoded<T> {
    kind: EngineKind,
    engine_cmd: Cmd,
    children: Vec<ChildLines>,
    to_item: ToItem<T>,
    /// Items decoded and not yet handed out.
    pub(crate) ready: VecDeque<Result<T>>,
    /// The child and pipe whose decoder last made lines: where handed-back
    /// buffers go ([`Decoded::recycle`]).
    last: (usize, Pipe),
    /// The lines of one delivery, on their way to `ready` (kept for its
    /// allocation).
    lines: Vec<Line>,
    /// The catch-up read of a follow that ended, to be started or under way.
    catching_up: Option<CatchingUp>,
}

struct ChildLines {
    cmd: Cmd,
    stdout: LineDecoder,
    stderr: Option<LineDecoder>,
    stderr_tail: Vec<u8>,
    catch_up: Option<CatchUp>,
    /// What stdout and stderr gave last (kept only with `catch_up`).
    seen: [Seen; 2],
    /// How its lines are cut: a catch-up read's decoders do the same.
    stamps: Option<PartStamps>,
    max_line: usize,
}

impl<T> fmt::Debug for Decoded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("children", &self.children.len())
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
}

impl<T> Decoded<T> {
    /// The state for `children` run with the engine command `engine_cmd`.
    pub(crate) fn new(
        kind: EngineKind,
        engine_cmd: &Cmd,
        children: Vec<LineChild>,
        to_item: ToItem<T>,
    ) -> Decoded<T> {
        let children = children
            .into_iter()
            .map(|c| ChildLines {
                cmd: engine_cmd.clone().args(c.args),
                stdout: LineDecoder::new(c.stamps, c.max_line),
                stderr: c
                    .stderr_lines
                    .then(|| LineDecoder::new(c.stamps, c.max_line)),
                stderr_tail: Vec::new(),
                catch_up: c.catch_up,
                seen: [Seen::default(); 2],
                stamps: c.stamps,
                max_line: c.max_line,
            })
            .collect();
        Decoded {
            kind,
            engine_cmd: engine_cmd.clone(),
            children,
            to_item,
            ready: VecDeque::new(),
            last: (0, Pipe::Stdout),
            lines: Vec::new(),
            catching_up: None,
        }
    }

    /// The commands, in child order.
    pub(crate) fn cmds(&self) -> Vec<Cmd> {
        self.children.iter().map(|c| c.cmd.clone()).collect()
    }

    /// Hand back the bytes of an item that is done with, to be filled again
    /// by a later line of the decoder that made the last lines (following
    /// one container, the one that made this item).
    pub(crate) fn recycle(&mut self, bytes: Vec<u8>) {
        let (child, pipe) = self.last;
        let Some(c) = self.children.get_mut(child) else {
            return;
        };
        match (pipe, &mut c.stderr) {
            (Pipe::Stderr, Some(d)) => d.recycle(bytes),
            _ => c.stdout.recycle(bytes),
        }
    }

    /// Decode one delivery of the fan-in into ready items.
    pub(crate) fn absorb(&mut self, delivery: Delivery) {
        let mut lines = std::mem::take(&mut self.lines);
        match delivery {
            Delivery::Output { child, pipe, bytes } => {
                let c = &mut self.children[child];
                match pipe {
                    Pipe::Stdout => c.stdout.push(&bytes, &mut lines),
                    Pipe::Stderr => {
                        if let Some(d) = &mut c.stderr {
                            d.push(&bytes, &mut lines);
                        }
                        c.stderr_tail.extend_from_slice(&bytes);
                        let excess = c.stderr_tail.len().saturating_sub(STDERR_TAIL);
                        c.stderr_tail.drain(..excess);
                    }
                }
                self.queue(child, pipe, &mut lines);
            }
            Delivery::Exited { child, status } => {
                self.children[child].stdout.finish(&mut lines);
                self.queue(child, Pipe::Stdout, &mut lines);
                if let Some(d) = &mut self.children[child].stderr {
                    d.finish(&mut lines);
                }
                self.queue(child, Pipe::Stderr, &mut lines);
                if status.success() {
                    self.plan_catch_up(child);
                } else {
                    let c = &self.children[child];
                    let output = Output {
                        status,
                        stdout: Vec::new(),
                        stderr: c.stderr_tail.clone(),
                        dry_run: false,
                    };
                    let err = classify(Tool::Engine(self.kind), &c.cmd, &output);
                    self.ready.push_back(Err(err));
                }
            }
            Delivery::Interrupted(sig) => {
                let groups = match self.children.len() {
                    1 => "process group was",
                    _ => "process groups were",
                };
                self.ready.push_back(Err(Error::new(
                    ErrorKind::Interrupted,
                    format!("interrupted by signal {sig}; the engine's {groups} killed"),
                )
                .with_status(ExitStatus::Signal(sig))));
            }
        }
        self.lines = lines;
    }

    /// Turn `lines` (emptied) into ready items.
    fn queue(&mut self, child: usize, pipe: Pipe, lines: &mut Vec<Line>) {
        if !lines.is_empty() {
            self.last = (child, pipe);
        }
        let c = &mut self.children[child];
        if c.catch_up.is_some() {
            let seen = &mut c.seen[pipe as usize];
            lines
                .iter()
                .filter_map(|l| l.time)
                .for_each(|t| seen.note(t));
        }
        for line in lines.drain(..) {
            if let Some(item) = (self.to_item)(child, pipe, line) {
                self.ready.push_back(item);
            }
        }
    }
}

impl<T> Decoded<T> {
    /// `child`'s follow ended well: read what it may have missed next.
    fn plan_catch_up(&mut self, child: usize) {
        let c = &mut self.children[child];
        let Some(catch_up) = c.catch_up.take() else {
            return;
        };
        let unseen = Unseen::after(c.seen);
        let since = match unseen.iter().filter_map(|u| u.from).min() {
            Some(t) => Some(t),
            None => catch_up.since_if_none,
        };
        let cmd = self.engine_cmd.clone().args((catch_up.args)(since));
        let decoder = || LineDecoder::new(c.stamps, c.max_line);
        self.catching_up = Some(CatchingUp {
            child,
            cmd,
            stdout: decoder(),
            stderr: decoder(),
            unseen,
            started: false,
            recovered: 0,
        });
    }

    /// The catch-up read to start now, if one is due.
    pub(crate) fn catch_up_to_start(&mut self) -> Option<Cmd> {
        let c = self.catching_up.as_mut().filter(|c| !c.started)?;
        c.started = true;
        log::debug!(
            "reading what `{}` may have missed: {}",
            self.children[c.child].cmd,
            c.cmd
        );
        Some(c.cmd.clone())
    }

    /// The catch-up read could not start: the follow's lines stand.
    pub(crate) fn abandon_catch_up(&mut self, why: &Error) {
        self.catching_up = None;
        log::debug!("no catch-up read: {why}");
    }

    /// Decode one delivery of the catch-up read: its new lines are its
    /// child's. It ends quietly, whatever its exit: it only ever adds lines
    /// (a container removed since has none to add).
    pub(crate) fn absorb_catch_up(&mut self, delivery: Delivery) {
        let Some(mut c) = self.catching_up.take() else {
            return;
        };
        let mut lines = std::mem::take(&mut self.lines);
        match delivery {
            Delivery::Output { pipe, bytes, .. } => {
                c.decoder(pipe).push(&bytes, &mut lines);
                self.queue_unseen(&mut c, pipe, &mut lines);
                self.catching_up = Some(c);
            }
            Delivery::Exited { status, .. } => {
                for pipe in [Pipe::Stdout, Pipe::Stderr] {
                    c.decoder(pipe).finish(&mut lines);
                    self.queue_unseen(&mut c, pipe, &mut lines);
                }
                log::debug!(
                    "the catch-up read ended ({status}): {} lines the follow had missed",
                    c.recovered
                );
            }
            // The main fan-in reports the signal and kills the rest.
            Delivery::Interrupted(_) => {}
        }
        self.lines = lines;
    }

    /// Queue those of `lines` (emptied) the follow did not give.
    fn queue_unseen(&mut self, c: &mut CatchingUp, pipe: Pipe, lines: &mut Vec<Line>) {
        let unseen = &mut c.unseen[pipe as usize];
        lines.retain(|l| unseen.keep(l.time));
        c.recovered += lines.len();
        self.queue(c.child, pipe, lines);
    }
}

/// What [`LineStream::next_before`] found.
#[derive(Debug)]
pub(crate) enum Next<T> {
    Item(Result<T>),
    End,
    TimedOut,
}

/// Blocking iterator over the items of one or more long-running engine
/// commands, merged as they arrive. It ends when every command has finished;
/// dropping it kills the commands' process groups and reaps them. A command
/// that fails yields one `Err` (the others go on); SIGINT/SIGTERM (when
/// [`signals::install`](crate::exec::signals::install) was called) yields an
/// [`ErrorKind::Interrupted`] error and ends it.
#[derive(Debug)]
pub struct LineStream<T> {
    fan: exec::FanIn,
    /// The catch-up read under way ([`LineChild::catch_up`]).
    catch_up: Option<exec::FanIn>,
    decoded: Decoded<T>,
}

impl<T> LineStream<T> {
    /// Start every command of `decoded`.
    pub(crate) fn start(decoded: Decoded<T>) -> Result<LineStream<T>> {
        let fan = exec::fan_in(&decoded.cmds())?;
        Ok(LineStream {
            fan,
            catch_up: None,
            decoded,
        })
    }

    /// The next item, waiting no later than `deadline` (`None`: as long as it takes).
    pub(crate) fn next_before(&mut self, deadline: Option<Instant>) -> Next<T> {
        loop {
            if let Some(item) = self.decoded.ready.pop_front() {
                return Next::Item(item);
            }
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.take_in(wait) {
                Ok(true) => {}
                Ok(false) => return Next::End,
                Err(()) => return Next::TimedOut,
            }
        }
    }

    /// Decode one delivery, waiting at most `wait` (`None`: as long as it
    /// takes): from the catch-up read while one runs (the other children
    /// wait in their pipes meanwhile). False once every child has ended;
    /// `Err(())` when nothing came in time.
    fn take_in(&mut self, wait: Option<Duration>) -> std::result::Result<bool, ()> {
        if let Some(cmd) = self.decoded.catch_up_to_start() {
            match exec::fan_in(&[cmd]) {
                Ok(fan) => self.catch_up = Some(fan),
                Err(e) => self.decoded.abandon_catch_up(&e),
            }
        }
        let fan = self.catch_up.as_mut().unwrap_or(&mut self.fan);
        let received = match wait {
            Some(wait) => fan.recv_timeout(wait)?,
            None => fan.recv(),
        };
        match (received, self.catch_up.is_some()) {
            (Some(delivery), true) => self.decoded.absorb_catch_up(delivery),
            (None, true) => self.catch_up = None,
            (Some(delivery), false) => self.decoded.absorb(delivery),
            (None, false) => return Ok(false),
        }
        Ok(true)
    }

    /// Whether the next item can be had without waiting: decodes whatever
    /// the engine children have already delivered and says if an item (or
    /// an error) is ready. A follower that writes each item at once flushes
    /// its output only when this is false, so a burst costs one write
    /// instead of one per line, and nothing waits in a buffer while dockhand
    /// waits.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use dockhand::{container::logs::LogOptions, input::ContainerRef, Engine};
    /// let opts = LogOptions { follow: true, ..LogOptions::default() };
    /// let mut lines = Engine::detect()?.containers().log_lines(&ContainerRef::many(["web"])?, &opts)?;
    /// let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    /// while let Some(line) = lines.next() {
    ///     writeln!(out, "{}", line?.text())?;
    ///     if !lines.has_ready() {
    ///         out.flush()?;
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_ready(&mut self) -> bool {
        loop {
            if !self.decoded.ready.is_empty() {
                return true;
            }
            match self.take_in(Some(Duration::ZERO)) {
                Ok(true) => {}
                // Ended, or nothing delivered yet.
                Ok(false) | Err(()) => return false,
            }
        }
    }

    /// Process ids of the engine children, in command order.
    pub fn pids(&self) -> &[u32] {
        self.fan.pids()
    }

    /// Hand back the bytes of an item you are done with (a
    /// [`LogLine`](crate::container::logs::LogLine)'s `message`): a later
    /// line is copied into them, so a follower that hands back every line
    /// allocates nothing per line. Optional; see
    /// [`LineDecoder::recycle`](crate::decode::lines::LineDecoder::recycle)
    /// for how many are kept.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use dockhand::{container::logs::LogOptions, input::ContainerRef, Engine};
    /// let opts = LogOptions { follow: true, ..LogOptions::default() };
    /// let mut lines = Engine::detect()?.containers().log_lines(&ContainerRef::many(["web"])?, &opts)?;
    /// while let Some(line) = lines.next() {
    ///     let line = line?;
    ///     std::io::stdout().write_all(&line.message)?;
    ///     lines.recycle(line.message);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recycle(&mut self, bytes: Vec<u8>) {
        self.decoded.recycle(bytes);
    }
}

impl<T> Iterator for LineStream<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        match self.next_before(None) {
            Next::Item(item) => Some(item),
            Next::End | Next::TimedOut => None,
        }
    }
}

/// Async twin of [`LineStream`] (feature `tokio`): a
/// [`Stream`](futures_core::Stream) of the same items with the same semantics.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug)]
pub struct AsyncLineStream<T> {
    fan: exec::FanInAsync,
    /// The catch-up read under way ([`LineChild::catch_up`]).
    catch_up: Option<exec::FanInAsync>,
    decoded: Decoded<T>,
}

#[cfg(feature = "tokio")]
impl<T> AsyncLineStream<T> {
    /// Start every command of `decoded`.
    pub(crate) fn start(decoded: Decoded<T>) -> Result<AsyncLineStream<T>> {
        let fan = exec::fan_in_async(&decoded.cmds(), CHANNEL_CAPACITY)?;
        Ok(AsyncLineStream {
            fan,
            catch_up: None,
            decoded,
        })
    }

    /// The next item; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// The next item, waiting no later than `deadline`.
    pub(crate) async fn next_before(&mut self, deadline: Option<Instant>) -> Next<T> {
        let item = match deadline {
            Some(d) => match tokio::time::timeout_at(d.into(), self.next()).await {
                Ok(item) => item,
                Err(_) => return Next::TimedOut,
            },
            None => self.next().await,
        };
        item.map_or(Next::End, Next::Item)
    }

    /// Process ids of the engine children, in command order.
    pub fn pids(&self) -> &[u32] {
        self.fan.pids()
    }

    /// [`LineStream::recycle`].
    pub fn recycle(&mut self, bytes: Vec<u8>) {
        self.decoded.recycle(bytes);
    }

    fn poll_item(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Result<T>>> {
        use std::task::Poll;
        loop {
            if let Some(item) = self.decoded.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            // As on the blocking side (`LineStream::take_in`).
            if let Some(cmd) = self.decoded.catch_up_to_start() {
                match exec::fan_in_async(&[cmd], CHANNEL_CAPACITY) {
                    Ok(fan) => self.catch_up = Some(fan),
                    Err(e) => self.decoded.abandon_catch_up(&e),
                }
            }
            if let Some(fan) = &mut self.catch_up {
                match fan.poll_recv(cx) {
                    Poll::Ready(Some(delivery)) => self.decoded.absorb_catch_up(delivery),
                    Poll::Ready(None) => self.catch_up = None,
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            match self.fan.poll_recv(cx) {
                Poll::Ready(Some(delivery)) => self.decoded.absorb(delivery),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(feature = "tokio")]
impl<T: Unpin> futures_core::Stream for AsyncLineStream<T> {
    type Item = Result<T>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<T>>> {
        self.poll_item(cx)
    }
}

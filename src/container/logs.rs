//! Container logs: `docker/podman logs`, one engine child per container,
//! stdout and stderr kept apart, lines merged as they arrive.
//!
//! The engine CLI writes the container's stdout to its own stdout and the
//! container's stderr to its own stderr, so each line keeps the stream it
//! came from. Output is read as it is written and cut into lines by a
//! [`LineDecoder`]: memory stays bounded whatever the size of the log, and a
//! line longer than [`LogOptions::max_line`] comes in several pieces marked
//! [`partial`](LogLine::partial). Messages are bytes: nothing that is not
//! UTF-8 is lost ([`LogLine::text`] gives lossy text for people). Note that
//! docker's default `json-file` log driver itself replaces invalid UTF-8 with
//! U+FFFD when it stores a line; the `local` driver and podman keep bytes
//! (vendor-docs/captures/*/logs-non-utf8-*).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::Containers;
use crate::container::{inspect_plan, Container};
use crate::decode::lines::{Line, LineDecoder};
use crate::decode::time::Timestamp;
use crate::engine::classify::{classify, Tool};
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, ErrorKind, ExitStatus, Result};
use crate::exec::{self, Cmd, Delivery, Output, Pipe};
use crate::input::{ContainerRef, Tail, TimeSpec};

/// Default bound on the bytes of one [`LogLine`]: 256 KiB.
pub const DEFAULT_MAX_LINE: usize = 256 * 1024;
/// Engine output chunks waiting to be decoded (each at most
/// [`READ_CHUNK`](crate::exec::READ_CHUNK) bytes) before the engine children
/// are made to wait.
const CHANNEL_CAPACITY: usize = 16;
/// How much of an engine child's stderr is kept to explain its failure.
const STDERR_TAIL: usize = 4096;

/// Which of the container's output streams a line was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// The container's stdout.
    Stdout,
    /// The container's stderr.
    Stderr,
}

/// One line of a container's log.
///
/// Serialized (the CLI's `--json`) as
/// `{"container":…,"stream":"stdout"|"stderr","timestamp":…,"message":…}`,
/// with the message as lossy UTF-8 text, the timestamp as RFC 3339 (or
/// `null` when timestamps were not asked for), and `"partial":true` added
/// only to a piece of a longer line or a last line without newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The container, as the caller named it.
    pub container: String,
    /// stdout or stderr.
    pub stream: LogStream,
    /// When the engine received the line ([`LogOptions::timestamps`]).
    pub timestamp: Option<Timestamp>,
    /// The bytes, without the newline.
    pub message: Vec<u8>,
    /// Not ended by a newline: one piece of a line longer than
    /// [`LogOptions::max_line`], or a last line the program did not end.
    pub partial: bool,
}

impl LogLine {
    /// The message as text; bytes that are not UTF-8 become U+FFFD.
    ///
    /// ```
    /// use dockhand::container::logs::{LogLine, LogStream};
    /// let line = LogLine { container: "web".into(), stream: LogStream::Stdout,
    ///     timestamp: None, message: b"caf\xe9".to_vec(), partial: false };
    /// assert_eq!(line.text(), "caf\u{fffd}");
    /// ```
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.message)
    }
}

impl Serialize for LogLine {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("container", &self.container)?;
        map.serialize_entry("stream", &self.stream)?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("message", &self.text())?;
        if self.partial {
            map.serialize_entry("partial", &true)?;
        }
        map.end()
    }
}

/// What to read of the logs.
///
/// ```
/// use dockhand::input::Tail;
/// use dockhand::container::logs::LogOptions;
/// let opts = LogOptions { tail: Tail::Last(200), timestamps: true, follow: true, ..LogOptions::default() };
/// assert_eq!(opts.max_line, dockhand::container::logs::DEFAULT_MAX_LINE);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// The whole log, or only its last lines.
    pub tail: Tail,
    /// Only lines from this time on.
    pub since: Option<TimeSpec>,
    /// Only lines before this time.
    pub until: Option<TimeSpec>,
    /// Ask the engine for timestamps and parse them into
    /// [`LogLine::timestamp`].
    pub timestamps: bool,
    /// Keep reading new lines until the container stops.
    pub follow: bool,
    /// Bound on the bytes of one [`LogLine`]; longer lines are split.
    pub max_line: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            tail: Tail::All,
            since: None,
            until: None,
            timestamps: false,
            follow: false,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

/// The `logs` arguments for one container (after the engine command).
///
/// ```
/// use dockhand::{input::{ContainerRef, Tail}, container::logs::{logs_args, LogOptions}, EngineKind};
/// let name = ContainerRef::new("web").unwrap();
/// let opts = LogOptions { follow: true, timestamps: true, ..LogOptions::default() };
/// let now = dockhand::decode::time::Timestamp::now();
/// assert_eq!(logs_args(EngineKind::Podman, &name, &opts, now).words(),
///            ["logs", "--tail", "-1", "--timestamps", "--follow", "--", "web"]);
/// ```
pub fn logs_args(kind: EngineKind, name: &ContainerRef, opts: &LogOptions, now: Timestamp) -> Argv {
    let tail = match opts.tail {
        Tail::All => kind.quirks().tail_all.to_string(),
        Tail::Last(n) => n.to_string(),
    };
    let stamp = |t: Option<TimeSpec>| t.map(|t| t.resolve(now).to_rfc3339());
    Argv::new("logs")
        .pair("--tail", Some(tail))
        .flag_if("--timestamps", opts.timestamps)
        .pair("--since", stamp(opts.since))
        .pair("--until", stamp(opts.until))
        .flag_if("--follow", opts.follow)
        .operands([name])
}

/// `opts` for one container: without `--follow` where the engine's follow of
/// a stopped container is unreliable (its log is complete then anyway).
fn follow_where_reliable(
    kind: EngineKind,
    name: &ContainerRef,
    found: &[Container],
    opts: &LogOptions,
) -> LogOptions {
    let stopped = found
        .iter()
        .find(|c| c.is_named_by(name.as_str()))
        .is_some_and(|c| c.state.status.is_stopped());
    let follow = opts.follow && !(stopped && kind.quirks().follow_stopped_truncates);
    LogOptions {
        follow,
        ..opts.clone()
    }
}

/// Blocking iterator over the log lines of one or more containers, merged as
/// they arrive. Ends when every engine child has finished (with `follow`:
/// when the containers stop). Dropping it kills the engine children's
/// process groups and reaps them. An engine child that fails yields one
/// `Err` (the other containers go on); SIGINT/SIGTERM (when
/// [`signals::install`](crate::exec::signals::install) was called) yields an
/// [`ErrorKind::Interrupted`] error and ends it.
#[derive(Debug)]
pub struct LogLines {
    fan: exec::FanIn,
    decoders: Decoders,
}

impl Iterator for LogLines {
    type Item = Result<LogLine>;

    fn next(&mut self) -> Option<Result<LogLine>> {
        loop {
            if let Some(item) = self.decoders.ready.pop_front() {
                return Some(item);
            }
            let delivery = self.fan.recv()?;
            self.decoders.absorb(delivery);
        }
    }
}

/// What [`LogLines::next_before`] found.
#[derive(Debug)]
pub(crate) enum Next {
    Item(Result<LogLine>),
    End,
    TimedOut,
}

impl LogLines {
    /// The next item, waiting no later than `deadline` (`None`: as long as it takes).
    pub(crate) fn next_before(&mut self, deadline: Option<Instant>) -> Next {
        loop {
            if let Some(item) = self.decoders.ready.pop_front() {
                return Next::Item(item);
            }
            let received = match deadline {
                Some(d) => self
                    .fan
                    .recv_timeout(d.saturating_duration_since(Instant::now())),
                None => Ok(self.fan.recv()),
            };
            match received {
                Ok(Some(delivery)) => self.decoders.absorb(delivery),
                Ok(None) => return Next::End,
                Err(()) => return Next::TimedOut,
            }
        }
    }

    /// Whether the next line can be had without waiting: decodes whatever
    /// the engine children have already delivered and says if a line (or an
    /// error) is ready. A follower that writes each line at once flushes its
    /// output only when this is false, so a burst costs one write instead of
    /// one per line, and nothing waits in a buffer while dockhand waits.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use dockhand::{input::ContainerRef, container::logs::LogOptions, Engine};
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
            if !self.decoders.ready.is_empty() {
                return true;
            }
            match self.fan.recv_timeout(Duration::ZERO) {
                Ok(Some(delivery)) => self.decoders.absorb(delivery),
                // Ended, or nothing delivered yet.
                Ok(None) | Err(()) => return false,
            }
        }
    }

    /// Process ids of the engine children, in the order of the names.
    pub fn pids(&self) -> &[u32] {
        self.fan.pids()
    }
}

/// Async twin of [`LogLines`] (feature `tokio`): a
/// [`Stream`](futures_core::Stream) of log lines with the same semantics.
#[cfg(feature = "tokio")]
#[derive(Debug)]
pub struct AsyncLogLines {
    fan: exec::FanInAsync,
    decoders: Decoders,
}

#[cfg(feature = "tokio")]
impl AsyncLogLines {
    /// The next line; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<LogLine>> {
        std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut *self), cx)
        })
        .await
    }
}

#[cfg(feature = "tokio")]
impl futures_core::Stream for AsyncLogLines {
    type Item = Result<LogLine>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<LogLine>>> {
        use std::task::Poll;
        let this = &mut *self;
        loop {
            if let Some(item) = this.decoders.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            match this.fan.poll_recv(cx) {
                Poll::Ready(Some(delivery)) => this.decoders.absorb(delivery),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The decoding state of every engine child, shared by both front ends.
#[derive(Debug)]
struct Decoders {
    kind: EngineKind,
    children: Vec<ChildLog>,
    ready: VecDeque<Result<LogLine>>,
}

#[derive(Debug)]
struct ChildLog {
    container: String,
    cmd: Cmd,
    stdout: LineDecoder,
    stderr: LineDecoder,
    stderr_tail: Vec<u8>,
}

impl Decoders {
    /// One engine child per name; `found` is their inspection, which decides
    /// where following is both possible and reliable.
    fn new(
        engine: &Engine,
        names: &[ContainerRef],
        found: &[Container],
        opts: &LogOptions,
    ) -> (Decoders, Vec<Cmd>) {
        let kind = engine.kind();
        let stamps = opts.timestamps.then_some(kind.quirks().log_part_stamps);
        let now = Timestamp::now();
        let children: Vec<ChildLog> = names
            .iter()
            .map(|name| ChildLog {
                container: name.to_string(),
                cmd: engine.command().args(logs_args(
                    kind,
                    name,
                    &follow_where_reliable(kind, name, found, opts),
                    now,
                )),
                stdout: LineDecoder::new(stamps, opts.max_line),
                stderr: LineDecoder::new(stamps, opts.max_line),
                stderr_tail: Vec::new(),
            })
            .collect();
        let cmds = children.iter().map(|c| c.cmd.clone()).collect();
        let decoders = Decoders {
            kind,
            children,
            ready: VecDeque::new(),
        };
        (decoders, cmds)
    }

    fn absorb(&mut self, delivery: Delivery) {
        let mut lines = Vec::new();
        match delivery {
            Delivery::Output { child, pipe, bytes } => {
                let c = &mut self.children[child];
                match pipe {
                    Pipe::Stdout => c.stdout.push(&bytes, &mut lines),
                    Pipe::Stderr => {
                        c.stderr.push(&bytes, &mut lines);
                        c.stderr_tail.extend_from_slice(&bytes);
                        let excess = c.stderr_tail.len().saturating_sub(STDERR_TAIL);
                        c.stderr_tail.drain(..excess);
                    }
                }
                self.queue(child, pipe, lines);
            }
            Delivery::Exited { child, status } => {
                let c = &mut self.children[child];
                c.stdout.finish(&mut lines);
                self.queue(child, Pipe::Stdout, std::mem::take(&mut lines));
                let c = &mut self.children[child];
                c.stderr.finish(&mut lines);
                self.queue(child, Pipe::Stderr, lines);
                if !status.success() {
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
            Delivery::Interrupted(sig) => self.ready.push_back(Err(Error::new(
                ErrorKind::Interrupted,
                format!("interrupted by signal {sig}; the engine's process groups were killed"),
            )
            .with_status(ExitStatus::Signal(sig)))),
        }
    }

    fn queue(&mut self, child: usize, pipe: Pipe, lines: Vec<Line>) {
        let container = &self.children[child].container;
        let stream = match pipe {
            Pipe::Stdout => LogStream::Stdout,
            Pipe::Stderr => LogStream::Stderr,
        };
        self.ready.extend(lines.into_iter().map(|line| {
            Ok(LogLine {
                container: container.clone(),
                stream,
                timestamp: line.time,
                message: line.bytes,
                partial: !line.complete,
            })
        }));
    }
}

fn check_names(names: &[ContainerRef]) -> Result<()> {
    if names.is_empty() {
        return Err(Error::invalid_input("name at least one container"));
    }
    Ok(())
}

impl Containers<'_> {
    /// The log lines of `names`, collected (with `follow`: until the
    /// containers stop). The first failure is the error.
    ///
    /// ```no_run
    /// use dockhand::{input::{ContainerRef, Tail}, container::logs::LogOptions, Engine};
    /// let engine = Engine::detect()?;
    /// let opts = LogOptions { tail: Tail::Last(20), timestamps: true, ..LogOptions::default() };
    /// for line in engine.containers().logs(&[ContainerRef::new("web")?], &opts)? {
    ///     println!("{:?} {} {}", line.timestamp, line.container, line.text());
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn logs(&self, names: &[ContainerRef], opts: &LogOptions) -> Result<Vec<LogLine>> {
        self.log_lines(names, opts)?.collect()
    }

    /// The log lines of `names` as a blocking iterator: read as they come,
    /// in bounded memory. See [`LogLines`].
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, container::logs::LogOptions, Engine};
    /// let engine = Engine::detect()?;
    /// let names = ContainerRef::many(["web", "db"])?;
    /// let opts = LogOptions { follow: true, ..LogOptions::default() };
    /// for line in engine.containers().log_lines(&names, &opts)? {
    ///     let line = line?;
    ///     println!("{} | {}", line.container, line.text());
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn log_lines(&self, names: &[ContainerRef], opts: &LogOptions) -> Result<LogLines> {
        check_names(names)?;
        // One batched inspect first: a wrong name is a clean NotFound before
        // any log is read (the engine's own complaint would otherwise arrive
        // on stderr, mixed with the container's).
        let found = self.engine.run(inspect_plan(names))?.into_result()?;
        let (decoders, cmds) = Decoders::new(self.engine, names, &found, opts);
        let fan = exec::fan_in(&cmds, CHANNEL_CAPACITY)?;
        Ok(LogLines { fan, decoders })
    }

    /// Async twin of [`Containers::log_lines`] (feature `tokio`).
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dockhand::Result<()> {
    /// use dockhand::{input::ContainerRef, container::logs::LogOptions, Engine};
    /// let engine = Engine::detect()?;
    /// let opts = LogOptions { follow: true, ..LogOptions::default() };
    /// let mut lines = engine.containers().log_stream(&[ContainerRef::new("web")?], &opts).await?;
    /// while let Some(line) = lines.next().await {
    ///     println!("{}", line?.text());
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn log_stream(
        &self,
        names: &[ContainerRef],
        opts: &LogOptions,
    ) -> Result<AsyncLogLines> {
        check_names(names)?;
        let found = self
            .engine
            .run_async(inspect_plan(names))
            .await?
            .into_result()?;
        let (decoders, cmds) = Decoders::new(self.engine, names, &found, opts);
        let fan = exec::fan_in_async(&cmds, CHANNEL_CAPACITY)?;
        Ok(AsyncLogLines { fan, decoders })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ContainerRef {
        ContainerRef::new(s).unwrap()
    }

    #[test]
    fn podman_reads_a_stopped_containers_log_without_follow_docker_follows() {
        let exited = |engine: &str| {
            let path = format!(
                "{}/vendor-docs/captures/{engine}/containers-inspect-exited.json",
                env!("CARGO_MANIFEST_DIR")
            );
            crate::container::parse_inspect(&std::fs::read(path).unwrap()).unwrap()
        };
        let opts = LogOptions {
            follow: true,
            ..LogOptions::default()
        };
        for (engine, kind, follows) in [
            ("docker", EngineKind::Docker, true),
            ("podman", EngineKind::Podman, false),
        ] {
            let found = exited(engine);
            let name = ContainerRef::new(found[0].name.clone()).unwrap();
            assert_eq!(
                follow_where_reliable(kind, &name, &found, &opts).follow,
                follows,
                "{engine}"
            );
            // A name that is not among the inspected (running, say) keeps following.
            let other = ContainerRef::new("dh-not-inspected").unwrap();
            assert!(
                follow_where_reliable(kind, &other, &found, &opts).follow,
                "{engine}"
            );
        }
    }

    #[test]
    fn args_for_both_engines() {
        let opts = LogOptions {
            tail: Tail::Last(5),
            since: Some(TimeSpec::parse("10m").unwrap()),
            until: Some(TimeSpec::parse("2026-11-23T17:03:22Z").unwrap()),
            ..LogOptions::default()
        };
        let now = Timestamp::from_unix(1_795_453_402, 0);
        assert_eq!(
            logs_args(EngineKind::Docker, &name("a"), &opts, now).words(),
            [
                "logs",
                "--tail",
                "5",
                "--since",
                "2026-11-23T16:53:22.000000000Z",
                "--until",
                "2026-11-23T17:03:22.000000000Z",
                "--",
                "a"
            ]
        );
        let all = LogOptions::default();
        assert_eq!(
            logs_args(EngineKind::Docker, &name("a"), &all, now).words()[..3],
            ["logs", "--tail", "all"]
        );
    }

    fn decoders(kind: EngineKind, timestamps: bool) -> Decoders {
        let engine = Engine::from_command(kind.as_str()).unwrap();
        let opts = LogOptions {
            timestamps,
            ..LogOptions::default()
        };
        Decoders::new(&engine, &[name("a"), name("b")], &[], &opts).0
    }

    #[test]
    fn deliveries_become_lines_of_the_right_container_and_stream() {
        let mut d = decoders(EngineKind::Docker, true);
        let out = std::fs::read("vendor-docs/captures/docker/logs-timestamps.stdout.txt").unwrap();
        let err = std::fs::read("vendor-docs/captures/docker/logs-timestamps.stderr.txt").unwrap();
        d.absorb(Delivery::Output {
            child: 1,
            pipe: Pipe::Stderr,
            bytes: err,
        });
        d.absorb(Delivery::Output {
            child: 0,
            pipe: Pipe::Stdout,
            bytes: out,
        });
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(0),
        });
        let lines: Vec<LogLine> = d.ready.drain(..).map(Result::unwrap).collect();
        let summary: Vec<(&str, LogStream, String, bool)> = lines
            .iter()
            .map(|l| {
                (
                    l.container.as_str(),
                    l.stream,
                    l.text().into_owned(),
                    l.partial,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("b", LogStream::Stderr, "err1".into(), false),
                ("b", LogStream::Stderr, "err2 with  spaces".into(), false),
                ("a", LogStream::Stdout, "out1".into(), false),
                ("a", LogStream::Stdout, "out2".into(), false),
                ("a", LogStream::Stdout, "no-newline-at-end".into(), true),
            ]
        );
        let json = serde_json::to_value(&lines[2]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"container": "a", "stream": "stdout",
                "timestamp": "2026-11-23T17:03:15.312769009Z", "message": "out1"})
        );
    }

    #[test]
    fn a_failed_engine_child_is_one_classified_error() {
        let mut d = decoders(EngineKind::Podman, false);
        let err = std::fs::read("vendor-docs/captures/podman/err-logs-missing.stderr.txt").unwrap();
        d.absorb(Delivery::Output {
            child: 0,
            pipe: Pipe::Stderr,
            bytes: err,
        });
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(125),
        });
        let last = d.ready.pop_back().unwrap().unwrap_err();
        assert_eq!(last.kind(), ErrorKind::NotFound, "{last}");
        assert!(last.command().unwrap().contains("logs"));
    }
}

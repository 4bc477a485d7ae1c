//! Container logs: `docker/podman logs`, one engine child per container,
//! stdout and stderr kept apart, lines merged as they arrive.
//!
//! The engine CLI writes the container's stdout to its own stdout and the
//! container's stderr to its own stderr, so each line keeps the stream it
//! came from. Output is read as it is written and cut into lines by a
//! [`LineDecoder`](crate::decode::lines::LineDecoder): memory stays bounded whatever the size of the log, and a
//! line longer than [`LogOptions::max_line`] comes in several pieces marked
//! [`partial`](LogLine::partial). Messages are bytes: nothing that is not
//! UTF-8 is lost ([`LogLine::text`] gives lossy text for people). Note that
//! docker's default `json-file` log driver itself replaces invalid UTF-8 with
//! U+FFFD when it stores a line; the `local` driver and podman keep bytes
//! (vendor-docs/captures/*/logs-non-utf8-*).

use std::borrow::Cow;
use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::Containers;
use crate::container::{inspect_plan, Container};
use crate::decode::json::push_json_str;
use crate::decode::lines::Line;
use crate::decode::time::Timestamp;
use crate::engine::drive::{Blocking, Driver};
use crate::engine::stream::{CatchUp, Decoded, LineChild};
#[cfg(feature = "tokio")]
use crate::engine::AsyncLineStream;
use crate::engine::{Argv, Engine, EngineKind, LineStream};
use crate::error::{Error, Result};
use crate::exec::Pipe;
use crate::input::{ContainerRef, Tail, TimeSpec};

/// Default bound on the bytes of one [`LogLine`]: 256 KiB.
pub const DEFAULT_MAX_LINE: usize = 256 * 1024;

/// One line of a container's log.
///
/// Serialized (the CLI's `--json`) as
/// `{"container":…,"stream":"stdout"|"stderr","timestamp":…,"message":…}`,
/// with the message as lossy UTF-8 text, the timestamp as RFC 3339 (or
/// `null` when timestamps were not asked for), and `"partial":true` added
/// only to a piece of a longer line or a last line without newline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine {
    /// The container, as the caller named it (shared by its lines: no
    /// allocation per line).
    pub container: Arc<str>,
    /// stdout or stderr.
    pub stream: Pipe,
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
    /// ```no_run
    /// use dockhand::{container::logs::LogOptions, Engine};
    /// for line in Engine::detect()?.containers().logs(&["web".parse()?], &LogOptions::default())? {
    ///     println!("{}", line.text());
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.message)
    }
}

impl LogLine {
    /// Append this line's JSON object (the same text as its [`Serialize`]
    /// form through serde_json) to `out`, without a newline. The fast path of
    /// `logs --json`: one buffer reused for every line, no allocation for
    /// valid UTF-8.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use dockhand::{container::logs::LogOptions, input::ContainerRef, Engine};
    /// let names = ContainerRef::many(["web"])?;
    /// let mut out = Vec::new();
    /// for line in Engine::detect()?.containers().log_lines(&names, &LogOptions::default())? {
    ///     out.clear();
    ///     line?.push_json(&mut out);
    ///     out.push(b'\n');
    ///     std::io::stdout().write_all(&out)?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"container\":");
        push_json_str(out, &self.container);
        out.extend_from_slice(match self.stream {
            Pipe::Stdout => b",\"stream\":\"stdout\",\"timestamp\":",
            Pipe::Stderr => b",\"stream\":\"stderr\",\"timestamp\":",
        });
        match self.timestamp {
            // Digits and separators only: nothing to escape.
            Some(t) => t.with_rfc3339(|text| {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.push(b'"');
            }),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"message\":");
        // `text()` on valid UTF-8, without walking it as lossy chunks.
        match std::str::from_utf8(&self.message) {
            Ok(text) => push_json_str(out, text),
            Err(_) => push_json_str(out, &self.text()),
        }
        if self.partial {
            out.extend_from_slice(b",\"partial\":true");
        }
        out.push(b'}');
    }
}

impl Serialize for LogLine {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("container", &*self.container)?;
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
    /// Give each line the engine's timestamp, in
    /// [`LogLine::timestamp`] (a docker follow of a running container asks
    /// for them anyway, to read what it missed; they are kept only with this).
    pub timestamps: bool,
    /// Keep reading new lines until the container stops (on docker, then
    /// read the end of the log its follow may have missed: each line once).
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
/// they arrive (see [`LineStream`]). With `follow` it ends when the
/// containers stop.
pub type LogLines = LineStream<LogLine>;

/// Async twin of [`LogLines`] (feature `tokio`): a
/// [`Stream`](futures_core::Stream) of log lines.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub type AsyncLogLines = AsyncLineStream<LogLine>;

/// Whether the follow of `name` (after [`follow_where_reliable`]) needs a
/// catch-up read after it: the engine can end a follow early when the
/// container exits ([`Quirks::follow_may_end_early`](crate::engine::quirks::Quirks::follow_may_end_early)),
/// and the container was running (the follow of a stopped one reads a log
/// that is complete).
fn needs_catch_up(
    kind: EngineKind,
    name: &ContainerRef,
    found: &[Container],
    opts: &LogOptions,
) -> bool {
    opts.follow
        && kind.quirks().follow_may_end_early
        && found
            .iter()
            .find(|c| c.is_named_by(name.as_str()))
            .is_some_and(|c| !c.state.status.is_stopped())
}

/// The read of `name`'s lines from an instant on, after its follow ended.
fn catch_up_read(
    kind: EngineKind,
    name: &ContainerRef,
    opts: &LogOptions,
    now: Timestamp,
) -> CatchUp {
    let since = opts.since.map(|t| t.resolve(now));
    // A follow that showed no line began on an empty log, unless `--tail 0`
    // hid what it held: then the lines from the follow's start are new (by
    // this host's clock).
    let since_if_none = match opts.tail {
        Tail::Last(0) => Some(since.map_or(now, |s| s.max(now))),
        _ => since,
    };
    let (name, opts) = (name.clone(), opts.clone());
    CatchUp {
        args: Box::new(move |since| {
            let read = LogOptions {
                tail: Tail::All,
                since: since.map(TimeSpec::At),
                timestamps: true,
                follow: false,
                ..opts.clone()
            };
            logs_args(kind, &name, &read, now)
        }),
        since_if_none,
    }
}

/// The decoding state of one `logs` engine child per name; `found` is their
/// inspection, which decides where following is both possible and reliable.
/// A follow that gets a catch-up read asks for timestamps (the catch-up
/// starts at the last one), shown only when `opts` asks for them.
fn decoded(
    engine: &Engine,
    names: &[ContainerRef],
    found: &[Container],
    opts: &LogOptions,
) -> Decoded<LogLine> {
    let kind = engine.kind();
    let now = Timestamp::now();
    let children = names
        .iter()
        .map(|name| {
            let read = follow_where_reliable(kind, name, found, opts);
            let catch_up = needs_catch_up(kind, name, found, &read)
                .then(|| catch_up_read(kind, name, &read, now));
            let stamped = read.timestamps || catch_up.is_some();
            let read = LogOptions {
                timestamps: stamped,
                ..read
            };
            LineChild {
                args: logs_args(kind, name, &read, now),
                stamps: stamped.then_some(kind.quirks().log_part_stamps),
                max_line: opts.max_line,
                stderr_lines: true,
                catch_up,
            }
        })
        .collect();
    let containers: Vec<Arc<str>> = names.iter().map(|n| Arc::from(n.as_str())).collect();
    let shown = opts.timestamps;
    let to_item = move |child: usize, stream: Pipe, line: Line| {
        Some(Ok(LogLine {
            container: Arc::clone(&containers[child]),
            stream,
            timestamp: line.time.filter(|_| shown),
            message: line.bytes,
            partial: !line.complete,
        }))
    };
    Decoded::new(kind, &engine.transported(), children, Box::new(to_item))
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
        Blocking::finish(self.follow(&Blocking, names, opts))
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
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn log_stream(
        &self,
        names: &[ContainerRef],
        opts: &LogOptions,
    ) -> Result<AsyncLogLines> {
        self.follow(&crate::engine::drive::Tokio, names, opts).await
    }

    /// Start reading the logs of `names`, with either driver.
    pub(crate) async fn follow<D: Driver>(
        &self,
        driver: &D,
        names: &[ContainerRef],
        opts: &LogOptions,
    ) -> Result<D::Lines<LogLine>> {
        check_names(names)?;
        // One batched inspect first: a wrong name is a clean NotFound before
        // any log is read (the engine's own complaint would otherwise arrive
        // on stderr, mixed with the container's).
        let found = self
            .engine
            .drive(driver, inspect_plan(names), None)
            .await?
            .into_result()?;
        driver.start_lines(decoded(self.engine, names, &found, opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, ExitStatus};
    use crate::exec::Delivery;
    use crate::testing::capture;

    fn name(s: &str) -> ContainerRef {
        ContainerRef::new(s).unwrap()
    }

    #[test]
    fn podman_reads_a_stopped_containers_log_without_follow_docker_follows() {
        let exited = |engine: &str| {
            let doc = capture(&format!("{engine}/containers-inspect-exited.json"));
            crate::container::parse_inspect(&doc).unwrap()
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

    fn decoders(kind: EngineKind, timestamps: bool) -> Decoded<LogLine> {
        let engine = Engine::from_command(kind.as_str()).unwrap();
        let opts = LogOptions {
            timestamps,
            ..LogOptions::default()
        };
        decoded(&engine, &[name("a"), name("b")], &[], &opts)
    }

    #[test]
    fn deliveries_become_lines_of_the_right_container_and_stream() {
        let mut d = decoders(EngineKind::Docker, true);
        let out = capture("docker/logs-timestamps.stdout.txt");
        let err = capture("docker/logs-timestamps.stderr.txt");
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
        let summary: Vec<(&str, Pipe, String, bool)> = lines
            .iter()
            .map(|l| (&*l.container, l.stream, l.text().into_owned(), l.partial))
            .collect();
        assert_eq!(
            summary,
            [
                ("b", Pipe::Stderr, "err1".into(), false),
                ("b", Pipe::Stderr, "err2 with  spaces".into(), false),
                ("a", Pipe::Stdout, "out1".into(), false),
                ("a", Pipe::Stdout, "out2".into(), false),
                ("a", Pipe::Stdout, "no-newline-at-end".into(), true),
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
    fn the_fast_json_is_the_serialized_json() {
        let mut d = decoders(EngineKind::Docker, true);
        for (child, pipe, file) in [
            (0, Pipe::Stdout, "docker/logs-timestamps.stdout.txt"),
            (1, Pipe::Stderr, "docker/logs-timestamps.stderr.txt"),
        ] {
            d.absorb(Delivery::Output {
                child,
                pipe,
                bytes: capture(file),
            });
            d.absorb(Delivery::Exited {
                child,
                status: ExitStatus::Code(0),
            });
        }
        let mut lines: Vec<LogLine> = d.ready.drain(..).map(Result::unwrap).collect();
        lines.push(LogLine {
            container: "we\"ird\\name".into(),
            stream: Pipe::Stderr,
            timestamp: None,
            message: b"tab\there \x01 caf\xe9 \xf0\x9f\x98\x80 \"q\"".to_vec(),
            partial: true,
        });
        assert!(lines.len() > 3);
        let mut out = Vec::new();
        for line in &lines {
            out.clear();
            line.push_json(&mut out);
            assert_eq!(
                String::from_utf8(out.clone()).unwrap(),
                serde_json::to_string(line).unwrap()
            );
        }
    }

    #[test]
    fn handed_back_buffers_take_the_next_lines_of_the_same_stream() {
        let mut d = decoders(EngineKind::Docker, false);
        let deliver = |d: &mut Decoded<LogLine>, child, pipe, bytes: &[u8]| {
            d.absorb(Delivery::Output {
                child,
                pipe,
                bytes: bytes.to_vec(),
            });
            d.ready.drain(..).map(Result::unwrap).collect::<Vec<_>>()
        };
        let first = deliver(&mut d, 1, Pipe::Stderr, b"one\ntwo\n");
        let mut buffers: Vec<*const u8> = first.iter().map(|l| l.message.as_ptr()).collect();
        for line in first {
            d.recycle(line.message);
        }
        // Taken back last first; same container and stream, same text.
        let second = deliver(&mut d, 1, Pipe::Stderr, b"three\nfour\nfive\n");
        let texts: Vec<_> = second
            .iter()
            .map(|l| (&*l.container, l.stream, l.text()))
            .collect();
        assert_eq!(
            texts,
            [
                ("b", Pipe::Stderr, "three".into()),
                ("b", Pipe::Stderr, "four".into()),
                ("b", Pipe::Stderr, "five".into())
            ]
        );
        buffers.reverse();
        let reused: Vec<*const u8> = second[..2].iter().map(|l| l.message.as_ptr()).collect();
        assert_eq!(reused, buffers);
    }

    /// A follow of a running docker container, decoded as `Decoded` does.
    fn running_follow(engine: &str, kind: EngineKind) -> (ContainerRef, Decoded<LogLine>) {
        let doc = capture(&format!("{engine}/container-inspect-running.json"));
        let found = crate::container::parse_inspect(&doc).unwrap();
        let running = name(&found[0].name);
        let opts = LogOptions {
            follow: true,
            ..LogOptions::default()
        };
        let engine = Engine::from_command(kind.as_str()).unwrap();
        let d = decoded(&engine, std::slice::from_ref(&running), &found, &opts);
        (running, d)
    }

    fn deliver(d: &mut Decoded<LogLine>, pipe: Pipe, bytes: &[u8]) {
        d.absorb(Delivery::Output {
            child: 0,
            pipe,
            bytes: bytes.to_vec(),
        });
    }

    fn lines_of(d: &mut Decoded<LogLine>) -> Vec<(Pipe, String, Option<Timestamp>)> {
        let lines = d.ready.drain(..).map(Result::unwrap);
        lines
            .map(|l| (l.stream, l.text().into_owned(), l.timestamp))
            .collect()
    }

    #[test]
    fn a_docker_follow_that_ended_is_caught_up_from_its_last_timestamp_each_line_once() {
        let (running, mut d) = running_follow("docker", EngineKind::Docker);
        // The follow asks for timestamps, to know where it stopped.
        let follow = d.cmds()[0].argv_lossy();
        assert!(follow.contains(&"--timestamps".into()) && follow.contains(&"--follow".into()));
        deliver(
            &mut d,
            Pipe::Stdout,
            b"2026-11-23T17:03:15.000000001Z a\n2026-11-23T17:03:15.000000002Z b\n2026-11-23T17:03:15.000000002Z c\n",
        );
        deliver(&mut d, Pipe::Stderr, b"2026-11-23T17:03:15.000000002Z e1\n");
        assert_eq!(d.catch_up_to_start(), None, "not before the follow ends");
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(0),
        });
        let shown = lines_of(&mut d);
        assert_eq!(shown.len(), 4);
        assert!(
            shown.iter().all(|l| l.2.is_none()),
            "timestamps not asked for"
        );
        let catch_up = d.catch_up_to_start().unwrap().argv_lossy();
        assert_eq!(
            catch_up[1..],
            [
                "logs",
                "--tail",
                "all",
                "--timestamps",
                "--since",
                "2026-11-23T17:03:15.000000002Z",
                "--",
                running.as_str()
            ]
        );
        assert_eq!(d.catch_up_to_start(), None, "started once");
        // The read repeats what was seen at that instant, then the new
        // lines; an engine complaint (no timestamp) is not a line, and its
        // failure is no error.
        for (pipe, bytes) in [
            (
                Pipe::Stdout,
                &b"2026-11-23T17:03:15.000000002Z b\n2026-11-23T17:03:15.000000002Z c\n"[..],
            ),
            (
                Pipe::Stdout,
                b"2026-11-23T17:03:15.000000002Z d\n2026-11-23T17:03:16.5Z f\n",
            ),
            (
                Pipe::Stderr,
                b"2026-11-23T17:03:15.000000002Z e1\nError: gone\n2026-11-23T17:03:17Z e2\n",
            ),
        ] {
            d.absorb_catch_up(Delivery::Output {
                child: 0,
                pipe,
                bytes: bytes.to_vec(),
            });
        }
        d.absorb_catch_up(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(1),
        });
        let new: Vec<(Pipe, String)> = lines_of(&mut d).into_iter().map(|l| (l.0, l.1)).collect();
        assert_eq!(
            new,
            [
                (Pipe::Stdout, "d".to_string()),
                (Pipe::Stdout, "f".into()),
                (Pipe::Stderr, "e2".into())
            ]
        );
        assert_eq!(d.catch_up_to_start(), None);
    }

    #[test]
    fn a_stream_that_showed_nothing_is_caught_up_from_where_the_other_stopped() {
        let (_, mut d) = running_follow("docker", EngineKind::Docker);
        deliver(&mut d, Pipe::Stdout, b"2026-11-23T17:03:15Z a\n");
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(0),
        });
        d.ready.clear();
        assert!(d.catch_up_to_start().is_some());
        let read = b"2026-11-23T17:03:14Z early\n2026-11-23T17:03:15Z e1\n";
        d.absorb_catch_up(Delivery::Output {
            child: 0,
            pipe: Pipe::Stderr,
            bytes: read.to_vec(),
        });
        let new: Vec<String> = lines_of(&mut d).into_iter().map(|l| l.1).collect();
        assert_eq!(new, ["e1"]);
    }

    #[test]
    fn no_catch_up_after_a_failed_follow_nor_on_podman() {
        let (_, mut d) = running_follow("docker", EngineKind::Docker);
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(1),
        });
        assert_eq!(d.catch_up_to_start(), None);
        let (_, mut d) = running_follow("podman", EngineKind::Podman);
        assert!(!d.cmds()[0].argv_lossy().contains(&"--timestamps".into()));
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(0),
        });
        assert_eq!(d.catch_up_to_start(), None);
    }

    #[test]
    fn text_replaces_what_is_not_utf8() {
        let line = LogLine {
            container: "web".into(),
            stream: Pipe::Stdout,
            timestamp: None,
            message: b"caf\xe9".to_vec(),
            partial: false,
        };
        assert_eq!(line.text(), "caf\u{fffd}");
    }

    #[test]
    fn a_failed_engine_child_is_one_classified_error() {
        let mut d = decoders(EngineKind::Podman, false);
        let err = capture("podman/err-logs-missing.stderr.txt");
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

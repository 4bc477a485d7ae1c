//! Resource usage (`stats`): a one-shot sample of N containers in ONE engine
//! call, or a stream of samples.
//!
//! One missing name makes both engines fail the whole call with no rows
//! (docker 1 `No such container`, podman 125 `unable to look up container`),
//! so the names are resolved first by one batched `inspect` and `stats` asks
//! for the existing ones by full id; the missing ones are reported in
//! [`Found::missing`]. The engines print (`vendor-docs/run-flags.md`, "stats"):
//!
//! | | docker `--format '{{json .}}'` | podman `--format json` |
//! |---|---|---|
//! | one-shot | one JSON line per container | one array |
//! | stream | the same lines redrawn with `ESC[H` … `ESC[K`/`ESC[J` (20.10: `ESC[2J ESC[H`) about twice a second | a new array per `--interval` (dockhand asks for 1 s) |
//! | units | memory binary (`316KiB / 64MiB`), network and block I/O decimal (`746B`, `8.19kB`) | decimal (`254kB / 67.11MB`) |
//! | stopped containers | a row of zeros | same |
//!
//! docker 28.2's streaming `stats` ignores SIGTERM without a terminal: the
//! stream's drop kills its process group, escalating to SIGKILL.

use serde::{Deserialize, Serialize};

use super::Containers;
use crate::decode::json::{lenient_string, parse_json_list};
use crate::decode::lines::Line;
use crate::decode::units::{parse_percent, parse_size, parse_size_pair};
use crate::engine::batch::{Found, Named};
use crate::engine::drive::{Blocking, Driver};
use crate::engine::plan::Plan;
use crate::engine::stream::{Decoded, LineChild};
#[cfg(feature = "tokio")]
use crate::engine::AsyncLineStream;
use crate::engine::{Argv, Engine, EngineKind, LineStream};
use crate::error::{Error, Result};
use crate::exec::Pipe;
use crate::input::ContainerRef;

/// Longest line of a stats stream (one container's JSON is ~250 bytes).
const MAX_STATS_LINE: usize = 64 * 1024;

/// One container's resource usage at one moment. Sizes are bytes read back
/// from the engines' rounded human units (three or four significant digits);
/// a value the engine did not give (`--`) is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// The container as the caller named it.
    pub container: String,
    /// Its full id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// CPU use in percent of one CPU (200 = two CPUs busy).
    pub cpu_percent: Option<f64>,
    /// Memory in use.
    pub memory_bytes: Option<u64>,
    /// Memory limit (the host's memory when unlimited).
    pub memory_limit_bytes: Option<u64>,
    /// `memory_bytes` in percent of the limit.
    pub memory_percent: Option<f64>,
    /// Bytes received on all its interfaces.
    pub net_rx_bytes: Option<u64>,
    /// Bytes sent.
    pub net_tx_bytes: Option<u64>,
    /// Bytes read from block devices.
    pub block_read_bytes: Option<u64>,
    /// Bytes written to block devices.
    pub block_write_bytes: Option<u64>,
    /// Processes (0 for a stopped container).
    pub pids: Option<u64>,
}

impl Named for Stats {
    fn is_named_by(&self, reference: &str) -> bool {
        self.container == reference || self.name == reference || self.id.starts_with(reference)
    }
}

/// One sample of every container of a stream.
pub type StatsFrame = Vec<Stats>;

/// A row as either engine prints it: docker's keys, or podman's.
#[derive(Deserialize)]
struct WireStats {
    #[serde(alias = "ID", default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(alias = "Name", default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(alias = "CPUPerc", default, deserialize_with = "lenient_string")]
    cpu_percent: String,
    #[serde(alias = "MemUsage", default, deserialize_with = "lenient_string")]
    mem_usage: String,
    #[serde(alias = "MemPerc", default, deserialize_with = "lenient_string")]
    mem_percent: String,
    #[serde(alias = "NetIO", default, deserialize_with = "lenient_string")]
    net_io: String,
    #[serde(alias = "BlockIO", default, deserialize_with = "lenient_string")]
    block_io: String,
    #[serde(alias = "PIDs", default, deserialize_with = "lenient_string")]
    pids: String,
}

/// The containers of one stats call: full ids, and the reference each was
/// asked by.
#[derive(Debug, Clone)]
struct Asked {
    ids: Vec<String>,
    names: Vec<String>,
}

impl Asked {
    /// The full id and the caller's reference of a row's (short) id.
    fn of(&self, short: &str) -> Option<(&str, &str)> {
        (!short.is_empty())
            .then(|| self.ids.iter().position(|id| id.starts_with(short)))
            .flatten()
            .map(|i| (self.ids[i].as_str(), self.names[i].as_str()))
    }
}

fn typed(row: WireStats, asked: &Asked) -> Option<Stats> {
    let (id, container) = asked.of(&row.id)?;
    let mem = parse_size_pair(&row.mem_usage);
    let net = parse_size_pair(&row.net_io);
    let block = parse_size_pair(&row.block_io);
    Some(Stats {
        container: container.to_string(),
        id: id.to_string(),
        name: row.name,
        cpu_percent: parse_percent(&row.cpu_percent),
        memory_bytes: mem.map(|m| m.0),
        memory_limit_bytes: mem.map(|m| m.1),
        memory_percent: parse_percent(&row.mem_percent),
        net_rx_bytes: net.map(|n| n.0),
        net_tx_bytes: net.map(|n| n.1),
        block_read_bytes: block.map(|b| b.0),
        block_write_bytes: block.map(|b| b.1),
        pids: parse_size(&row.pids),
    })
}

/// The arguments of `stats` for these full ids.
fn stats_args(kind: EngineKind, ids: &[String], stream: bool) -> Argv {
    let format = match kind {
        EngineKind::Podman => "json",
        _ => "{{json .}}",
    };
    Argv::new("stats")
        .flag_if("--no-stream", !stream)
        .args((stream && kind == EngineKind::Podman).then_some("--interval=1"))
        .opt("--format", Some(format))
        .operands(ids)
}

/// `stats --no-stream` of existing containers (full ids), one row each in
/// the order asked; `names` are the references the caller used for them.
///
/// ```
/// use dockhand::container::stats_plan;
/// use dockhand::EngineKind;
/// let plan = stats_plan(EngineKind::Docker, &["4e22612dc412aa24".into()], &["web".into()]);
/// assert_eq!(plan.args(), ["stats", "--no-stream", "--format={{json .}}", "--", "4e22612dc412aa24"]);
/// ```
pub fn stats_plan(kind: EngineKind, ids: &[String], names: &[String]) -> Plan<Vec<Stats>> {
    let asked = Asked {
        ids: ids.to_vec(),
        names: names.to_vec(),
    };
    Plan::read(stats_args(kind, ids, false), move |out| {
        let rows: Vec<WireStats> = parse_json_list(&out.stdout)?;
        let mut stats: Vec<Stats> = rows.into_iter().filter_map(|r| typed(r, &asked)).collect();
        stats.sort_by_key(|s| asked.ids.iter().position(|id| *id == s.id));
        if stats.len() < asked.ids.len() {
            return Err(Error::parse(
                format!(
                    "stats printed {} of {} containers",
                    stats.len(),
                    asked.ids.len()
                ),
                &out.stdout,
            ));
        }
        Ok(stats)
    })
}

/// Blocking iterator over the samples of a stats stream (one [`StatsFrame`]
/// per engine redraw). It never ends on its own: drop it (which kills and
/// reaps the engine child, with SIGKILL if it ignores SIGTERM) or let
/// SIGINT/SIGTERM end it.
pub type StatsStream = LineStream<StatsFrame>;

/// Async twin of [`StatsStream`] (feature `tokio`).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub type AsyncStatsStream = AsyncLineStream<StatsFrame>;

/// Cuts a stats stream into frames: docker's JSON lines between terminal
/// escapes (a frame is complete once every container has a row, or a new
/// redraw starts), podman's arrays spread over lines. docker draws every
/// sample twice: a frame equal to the one before is dropped.
struct Framer {
    kind: EngineKind,
    asked: Asked,
    /// docker: the rows of the frame being drawn.
    rows: Vec<Stats>,
    /// podman: the lines of the array being printed.
    lines: Vec<u8>,
    /// The last frame handed out.
    last: Option<StatsFrame>,
}

impl Framer {
    fn new(kind: EngineKind, asked: Asked) -> Framer {
        Framer {
            kind,
            asked,
            rows: Vec::new(),
            lines: Vec::new(),
            last: None,
        }
    }

    fn push(&mut self, line: &[u8]) -> Option<Result<StatsFrame>> {
        let frame = match self.kind {
            EngineKind::Podman => self.push_podman(line),
            _ => self.push_docker(line),
        };
        match frame {
            Some(Ok(f)) if self.last.as_ref() == Some(&f) => None,
            Some(Ok(f)) => {
                self.last = Some(f.clone());
                Some(Ok(f))
            }
            other => other,
        }
    }

    fn push_docker(&mut self, line: &[u8]) -> Option<Result<StatsFrame>> {
        let redraw = line.windows(3).any(|w| w == b"\x1b[H");
        let text = without_escapes(line);
        let text = text.trim_ascii();
        let mut done = None;
        if redraw && !self.rows.is_empty() {
            done = Some(Ok(std::mem::take(&mut self.rows)));
        }
        if text.starts_with(b"{") {
            match serde_json::from_slice::<WireStats>(text) {
                Ok(row) => {
                    if let Some(s) = typed(row, &self.asked) {
                        self.rows.retain(|r| r.id != s.id);
                        self.rows.push(s);
                    }
                }
                Err(e) => {
                    return Some(Err(Error::parse(
                        format!("unexpected stats line: {e}"),
                        text,
                    )))
                }
            }
        }
        if done.is_none() && self.rows.len() == self.asked.ids.len() {
            done = Some(Ok(std::mem::take(&mut self.rows)));
        }
        done
    }

    fn push_podman(&mut self, line: &[u8]) -> Option<Result<StatsFrame>> {
        let text = line.trim_ascii();
        if text.starts_with(b"[") {
            self.lines.clear();
        }
        self.lines.extend_from_slice(text);
        self.lines.push(b'\n');
        if !text.ends_with(b"]") {
            // Bounded: a frame of N containers is N short objects.
            if self.lines.len() > MAX_STATS_LINE * (self.asked.ids.len() + 1) {
                let bytes = std::mem::take(&mut self.lines);
                return Some(Err(Error::parse("a stats frame never ended", &bytes)));
            }
            return None;
        }
        let bytes = std::mem::take(&mut self.lines);
        Some(parse_json_list::<WireStats>(&bytes).map(|rows| {
            rows.into_iter()
                .filter_map(|r| typed(r, &self.asked))
                .collect()
        }))
    }
}

/// Decode the output of a stats stream (`stats` without `--no-stream`) of
/// the containers with these full `ids` (asked as `names`) into samples,
/// as [`Containers::stats_stream`] does while it arrives.
///
/// ```
/// # let bytes = std::fs::read("vendor-docs/captures/docker/stats-stream-json-lines.stdout.txt").unwrap();
/// use dockhand::{container::stats_frames, EngineKind};
/// let ids = ["0131164d80e2".repeat(5) + "0000", "747750988adc".repeat(5) + "0000"];
/// let frames = stats_frames(EngineKind::Docker, &ids, &["a".into(), "b".into()], &bytes);
/// assert!(frames.iter().all(|f| f.as_ref().unwrap().len() == 2));
/// ```
pub fn stats_frames(
    kind: EngineKind,
    ids: &[String],
    names: &[String],
    bytes: &[u8],
) -> Vec<Result<StatsFrame>> {
    let mut framer = Framer::new(
        kind,
        Asked {
            ids: ids.to_vec(),
            names: names.to_vec(),
        },
    );
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| framer.push(line))
        .collect()
}

/// `line` without terminal control sequences (`ESC [ … letter`).
fn without_escapes(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == 0x1b && line.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < line.len() && !line[i].is_ascii_alphabetic() {
                i += 1;
            }
            i += 1;
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    out
}

fn decoded(engine: &Engine, asked: Asked) -> Decoded<StatsFrame> {
    let kind = engine.kind();
    let child = LineChild {
        args: stats_args(kind, &asked.ids, true),
        stamps: None,
        max_line: MAX_STATS_LINE,
        stderr_lines: false,
        catch_up: None,
    };
    let mut framer = Framer::new(kind, asked);
    let to_item = move |_child: usize, _pipe: Pipe, line: Line| framer.push(&line.bytes);
    Decoded::new(kind, &engine.command(), vec![child], Box::new(to_item))
}

impl Containers<'_> {
    /// One sample of each container's resource usage: one `inspect` (to set
    /// missing names aside, which would fail the whole call) and one `stats`
    /// call for any number of containers.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let seen = Engine::detect()?.containers().stats(&ContainerRef::many(["web", "db"])?)?;
    /// for s in &seen.items {
    ///     println!("{} {:?}% {:?} bytes", s.name, s.cpu_percent, s.memory_bytes);
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn stats(&self, refs: &[ContainerRef]) -> Result<Found<Stats>> {
        let (asked, missing, error) = self.asked(refs)?;
        let items = match asked.ids.is_empty() {
            true => Vec::new(),
            false => self
                .engine
                .run(stats_plan(self.engine.kind(), &asked.ids, &asked.names))?,
        };
        Ok(Found {
            items,
            missing,
            error,
        })
    }

    /// A stream of samples of the existing containers among `refs` (see
    /// [`StatsStream`]); NotFound when none exists.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let engine = Engine::detect()?;
    /// for frame in engine.containers().stats_stream(&ContainerRef::many(["web"])?)?.take(3) {
    ///     for s in frame? { println!("{} {:?}", s.name, s.cpu_percent); }
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn stats_stream(&self, refs: &[ContainerRef]) -> Result<StatsStream> {
        Blocking.start_lines(self.stream_decoded(refs)?)
    }

    /// Async twin of [`Containers::stats_stream`] (feature `tokio`).
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dockhand::Result<()> {
    /// use dockhand::{input::ContainerRef, Engine};
    /// let engine = Engine::detect()?;
    /// let mut frames = engine.containers().stats_stream_async(&ContainerRef::many(["web"])?)?;
    /// let first = frames.next().await;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn stats_stream_async(&self, refs: &[ContainerRef]) -> Result<AsyncStatsStream> {
        crate::engine::drive::Tokio.start_lines(self.stream_decoded(refs)?)
    }

    fn stream_decoded(&self, refs: &[ContainerRef]) -> Result<Decoded<StatsFrame>> {
        let (asked, _, error) = self.asked(refs)?;
        match (asked.ids.is_empty(), error) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(Error::invalid_input("name at least one container")),
            (false, _) => Ok(decoded(self.engine, asked)),
        }
    }

    /// The existing containers among `refs` (by one inspect), and the rest.
    fn asked(&self, refs: &[ContainerRef]) -> Result<(Asked, Vec<String>, Option<Error>)> {
        let seen = self.inspect(refs)?;
        let mut asked = Asked {
            ids: Vec::new(),
            names: Vec::new(),
        };
        for r in refs {
            if let Some(c) = seen.get(r.as_str()) {
                if !asked.ids.contains(&c.id) {
                    asked.ids.push(c.id.clone());
                    asked.names.push(r.to_string());
                }
            }
        }
        Ok((asked, seen.missing, seen.error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay_ok};

    /// The ids of the captured containers, with names as the caller gave them.
    fn asked(ids: &[&str], names: &[&str]) -> Asked {
        Asked {
            ids: ids
                .iter()
                .map(|i| format!("{i}{}", "0".repeat(52)))
                .collect(),
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn one_shot_rows_of_both_engines() {
        let docker = asked(
            &["0131164d80e2", "747750988adc", "4e22612dc412"],
            &["dhf-st-a", "dhf-st-b", "dhf-ps-exited"],
        );
        let podman = asked(
            &["423a7846f14f", "a5c255ae8716", "969cc70d3edc"],
            &["dhf-st-a", "dhf-st-b", "dhf-ps-exited"],
        );
        for (kind, slug, a) in [
            (
                EngineKind::Docker,
                "docker/stats-no-stream-json-lines.stdout.txt",
                docker,
            ),
            (
                EngineKind::Podman,
                "podman/stats-no-stream-json.stdout.txt",
                podman,
            ),
        ] {
            let plan = stats_plan(kind, &a.ids, &a.names);
            let s = replay_ok(kind, plan, &capture(slug)).unwrap();
            assert_eq!(s.len(), 3, "{slug}");
            assert_eq!(s[0].container, "dhf-st-a");
            assert_eq!(s[0].id, a.ids[0]);
            assert!(
                s[0].memory_limit_bytes.unwrap() > 60_000_000,
                "{slug}: 64 MiB limit"
            );
            assert!(s[0].memory_bytes.unwrap() > 100_000);
            assert!(s[0].net_rx_bytes.unwrap() > 0);
            assert_eq!(s[0].pids, Some(1));
            assert_eq!(s[1].pids, Some(2));
            let stopped = &s[2];
            assert_eq!(
                (stopped.pids, stopped.memory_bytes),
                (Some(0), Some(0)),
                "{slug}"
            );
            assert_eq!(stopped.cpu_percent, Some(0.0));
        }
    }

    #[test]
    fn a_row_short_of_what_was_asked_is_a_parse_error() {
        let a = asked(&["0131164d80e2", "ffffffffffff"], &["a", "b"]);
        let plan = stats_plan(EngineKind::Docker, &a.ids, &a.names);
        let e = replay_ok(
            EngineKind::Docker,
            plan,
            &capture("docker/stats-no-stream-json-lines.stdout.txt"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Parse);
    }

    fn frames(kind: EngineKind, a: Asked, bytes: &[u8]) -> Vec<StatsFrame> {
        stats_frames(kind, &a.ids, &a.names, bytes)
            .into_iter()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn stream_frames_of_both_docker_clients_and_podman() {
        let docker = || asked(&["0131164d80e2", "747750988adc"], &["dhf-st-a", "dhf-st-b"]);
        for slug in [
            "docker/stats-stream-json-lines.stdout.txt",
            "docker/stats-stream-json-lines-client20.stdout.txt",
        ] {
            let got = frames(EngineKind::Docker, docker(), &capture(slug));
            assert!(got.len() >= 2, "{slug}: {} frames", got.len());
            assert!(got.iter().all(|f| f.len() == 2), "{slug}");
            assert!(
                got.windows(2).all(|w| w[0] != w[1]),
                "{slug}: redraws dropped"
            );
            assert_eq!(got[0][0].name, "dhf-st-a");
        }
        let podman = asked(&["423a7846f14f", "a5c255ae8716"], &["dhf-st-a", "dhf-st-b"]);
        let got = frames(
            EngineKind::Podman,
            podman,
            &capture("podman/stats-stream-json.stdout.txt"),
        );
        assert!(
            !got.is_empty() && got.iter().all(|f| f.len() == 2),
            "{got:?}"
        );
    }

    #[test]
    fn escapes_are_removed_and_podman_streams_ask_for_an_interval() {
        assert_eq!(
            without_escapes(b"\x1b[J\x1b[H{\"a\":1} \x1b[K"),
            b"{\"a\":1} "
        );
        assert_eq!(without_escapes(b"\x1b[2J\x1b["), b"");
        let args = stats_args(EngineKind::Podman, &["x".into()], true);
        assert_eq!(
            args.words(),
            ["stats", "--interval=1", "--format=json", "--", "x"]
        );
    }
}

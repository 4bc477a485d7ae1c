//! `wait-for`: wait until a container is running, healthy, exited,
//! accepting TCP connections on a port, answering an HTTP GET, or has logged
//! a line matching a pattern.
//!
//! The decisions live in `Waiter`, a pure state machine: it is told what
//! the last probe found and answers with the next thing to do (inspect,
//! connect, run the healthcheck, read the next log line, sleep, finish).
//! [`Containers::wait_for`] and `Engine::wait_for_async` only carry those
//! requests out, so the blocking and async variants behave the same.
//!
//! State waits (`running`, `healthy`, `exited`) watch the container's
//! engine events: after the first look that does not hold, an `events`
//! child filtered to the container starts (`--since` a moment before, so an
//! event while it connects is replayed, not lost), the container is
//! inspected once more, and then again on each of its events — so the wait
//! reacts to a change within one event delivery and one inspect, without
//! polling. A quiet second still brings a look (events can be lost when
//! the daemon restarts), and a wait whose events cannot be read falls back
//! to polling. An exit wait ends on the `die` event of the run it watched
//! (newer than that run's start, so a replayed one of an earlier run does
//! not count) without looking again: the engine is still cleaning up then,
//! and an inspect would wait for that (~60 ms here, docs/bench.md). podman
//! hands its events to readers in batches, up to ~250 ms late, so a podman
//! `running` wait also runs `podman wait --condition running`, whose answer
//! brings a look too (~10 ms after the start), and a podman exit wait on
//! this machine watches the file conmon writes the exit code to instead of
//! events (inotify, a few ms after the exit; `container::conmon`). Other probes back off
//! (100 ms, doubling, at most 1 s) through
//! [`exec::sleep`](crate::exec::sleep); every engine child is reaped before
//! the wait returns, and SIGINT/SIGTERM ends it (when signal handling is
//! installed).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{conmon, Containers};
use crate::container::logs::{LogLine, LogOptions};
use crate::container::{inspect_plan, Container, HealthStatus, Status};
use crate::decode::lines::Line;
use crate::decode::time::Timestamp;
use crate::engine::drive::{Blocking, Driver};
use crate::engine::plan::{Effect, Plan};
use crate::engine::stream::{Decoded, LineChild, Next};
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, EventAction, EventOptions};
use crate::exec::{FileWatch, Pipe};
use crate::input::Protocol;
use crate::input::{
    ContainerRef, EventFilter, HttpPath, HttpStatus, LogPattern, ProbePort, Tail, TimeSpec,
};

/// First pause between probes; it doubles up to [`MAX_PROBE_GAP`].
const FIRST_PROBE_GAP: Duration = Duration::from_millis(100);
/// Longest pause between probes; also the longest a state wait that
/// watches events goes without a look.
const MAX_PROBE_GAP: Duration = Duration::from_secs(1);
/// How far back a state wait's event watch starts, so that an event while
/// the `events` child connects is replayed rather than missed.
const WATCH_REPLAY: Duration = Duration::from_secs(1);
/// Time given to one TCP connection attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// After connecting, how long to watch for an immediate close: docker's
/// userland proxy accepts on the host port even when nothing listens in the
/// container, then closes at once (vendor-docs/docker.md, "port probes").
const CLOSE_WATCH: Duration = Duration::from_millis(300);
/// Time given to the engine for the last-log-line report after a timeout.
const REPORT_TIME: Duration = Duration::from_secs(5);
/// Time given to one HTTP request to be written and answered.
const HTTP_TIME: Duration = Duration::from_secs(2);
/// Most bytes of an HTTP answer read to find its status line.
const HTTP_HEAD_MAX: usize = 8 * 1024;

/// What to wait for.
#[derive(Debug, Clone)]
pub enum Condition {
    /// The container's process runs (not paused, not restarting).
    Running,
    /// Its healthcheck reports healthy.
    Healthy,
    /// It has stopped: exited or dead.
    Exited,
    /// A TCP connection to the port is accepted and not closed at once: on
    /// the host port it is published on, else on the container's IP.
    Port(ProbePort),
    /// A line of its log (existing or new, stdout or stderr) matches.
    Log(LogPattern),
    /// An HTTP GET of a path answers with a status (any 2xx unless given),
    /// probed where [`Condition::Port`] connects.
    Http(HttpProbe),
}

/// What `wait-for --http` asks.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    /// The path (and query) to GET.
    pub path: HttpPath,
    /// The status to wait for; `None`: any 2xx.
    pub status: Option<HttpStatus>,
    /// The container port; `None`: the one TCP port the container publishes.
    pub port: Option<ProbePort>,
}

impl HttpProbe {
    fn accepts(&self, status: u16) -> bool {
        match self.status {
            Some(s) => s.code() == status,
            None => (200..300).contains(&status),
        }
    }
}

impl Condition {
    /// A short description: `running`, `port 80/tcp`, `log /ready/`.
    pub fn describe(&self) -> String {
        match self {
            Condition::Running => "running".into(),
            Condition::Healthy => "healthy".into(),
            Condition::Exited => "exited".into(),
            Condition::Port(p) => format!("port {p}"),
            Condition::Log(p) => format!("log /{}/", p.as_str()),
            Condition::Http(h) => format!(
                "http {}{}",
                h.path,
                h.status
                    .map(|s| format!(" {}", s.code()))
                    .unwrap_or_default()
            ),
        }
    }
}

/// What a wait saw: on success the state in which the condition held; in a
/// timeout error's message, the last state seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Observation {
    /// The container, as named by the caller.
    pub container: String,
    /// The condition, described.
    pub condition: String,
    /// Its status at the last inspect (`None` if it was not inspected).
    pub status: Option<Status>,
    /// Its health at the last inspect, when it has a healthcheck.
    pub health: Option<HealthStatus>,
    /// Its exit code, once it has stopped.
    pub exit_code: Option<i64>,
    /// The address that accepted the connection (`--port`) or answered (`--http`).
    pub address: Option<String>,
    /// How the port was probed (`--port`): from here to a published port
    /// or container IP, or inside the container on a remote host.
    pub via: Option<ProbeVia>,
    /// The status of the last HTTP answer (`--http`).
    pub http_status: Option<u16>,
    /// The last log line seen (`--log`; after a timeout, the log's last line).
    pub last_line: Option<String>,
    /// How many probes ran (inspects, connection rounds, healthcheck runs,
    /// log lines read).
    pub probes: u32,
    /// Milliseconds from the start of the wait.
    pub waited_ms: u64,
}

/// The plan for `healthcheck run` (podman): true when healthy, false when
/// unhealthy (exit 1), an error otherwise.
///
/// ```
/// let plan = dockhand::container::wait::healthcheck_run_plan(&dockhand::input::ContainerRef::new("web").unwrap());
/// assert_eq!(plan.args(), ["healthcheck", "run", "--", "web"]);
/// ```
pub fn healthcheck_run_plan(name: &ContainerRef) -> Plan<bool> {
    Plan::new(
        Effect::ReadOnly,
        Argv::new("healthcheck").arg("run").operands([name]),
        |outcome| match (outcome.output.status.code(), outcome.error) {
            (Some(0), _) => Ok(true),
            (Some(1), _) => Ok(false),
            (_, Some(e)) => Err(e),
            (_, None) => Ok(true),
        },
    )
}

/// Where the engine's containers are, seen from where dockhand runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vantage {
    /// The engine is on this machine: its published ports and (on its
    /// bridges) its containers' IPs are reachable from here.
    Local,
    /// The engine is remote, on the host with this address (`None`: not
    /// known): only its published ports on that address are reachable;
    /// container IPs are the remote host's business (and from here might
    /// reach some other machine).
    Remote(Option<IpAddr>),
}

/// How a port probe is carried out, and from where (`wait-for --port`
/// says which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeTarget {
    /// Connect from this machine to these sockets.
    Connect {
        /// The sockets, tried in order.
        addresses: Vec<SocketAddr>,
        /// What they are.
        via: ProbeVia,
    },
    /// Look inside the container's network namespace, on the engine's
    /// host, for a socket listening on the port (an `exec`).
    Inside,
    /// Nothing to probe yet (no address, nothing published).
    NotYet,
}

/// What a port probe's sockets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeVia {
    /// The host port the container port is published on, on this machine.
    PublishedHere,
    /// The container's own IP, on a bridge of this machine.
    ContainerIp,
    /// The host port it is published on, at the remote host's address.
    PublishedRemote,
    /// Inside the container's network namespace on the remote host.
    InsideRemote,
}

impl ProbeVia {
    /// In a few words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            ProbeVia::PublishedHere => "published port on this machine",
            ProbeVia::ContainerIp => "container IP",
            ProbeVia::PublishedRemote => "published port on the remote host",
            ProbeVia::InsideRemote => "inside the container, on the remote host",
        }
    }
}

/// Where a probe of `c`'s container port `port` goes, from `vantage` — the
/// ONE place that picks it, for `--port` and `--http`. A local engine: the
/// host sockets the port is published on, probed on loopback (a wildcard
/// `0.0.0.0`/`::` as `127.0.0.1`/`::1`; a binding to another host address is
/// skipped); when it is not published there, the port on each of the
/// container's IPs whose network has its gateway on this machine (a bridge
/// here), and nowhere else. A remote engine: the published host port at the
/// remote host's address (a published address of its own is taken as is,
/// its loopback is not reachable from here), else inside the container
/// ([`ProbeTarget::Inside`]); never a container IP, which belongs to the
/// remote host's network.
///
/// ```
/// use dockhand::container::wait::{probe_target, ProbeTarget, ProbeVia, Vantage};
/// # let doc = std::fs::read("vendor-docs/captures/docker/containers-inspect-full.json").unwrap();
/// let c = &dockhand::container::parse_inspect(&doc).unwrap()[0];
/// let port = dockhand::input::ProbePort::new(8080).unwrap();
/// assert!(matches!(probe_target(c, port, Vantage::Local), ProbeTarget::Connect { via: ProbeVia::PublishedHere, .. }));
/// let remote = Vantage::Remote(Some("10.0.0.5".parse().unwrap()));
/// let ProbeTarget::Connect { addresses, via } = probe_target(c, port, remote) else { panic!() };
/// assert_eq!((addresses[0].ip().to_string(), via), ("10.0.0.5".to_string(), ProbeVia::PublishedRemote));
/// let ProbeTarget::Connect { addresses, .. } = probe_target(c, port, Vantage::Local) else { panic!() };
/// assert!(addresses.iter().all(|a| a.ip().is_loopback()));
/// ```
pub fn probe_target(c: &Container, port: ProbePort, vantage: Vantage) -> ProbeTarget {
    let bindings = c
        .ports
        .iter()
        .filter(|b| b.container_port == port.number() && b.protocol == Protocol::Tcp)
        .filter(|b| b.host_port != 0);
    let host_ip = |b: &crate::container::PortBinding| -> Option<IpAddr> {
        let wildcard = matches!(b.host_ip.as_str(), "" | "0.0.0.0" | "::");
        match vantage {
            Vantage::Local => match b.host_ip.as_str() {
                "" | "0.0.0.0" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                "::" => Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                other => other.parse().ok().filter(IpAddr::is_loopback),
            },
            Vantage::Remote(host) if wildcard => host,
            Vantage::Remote(_) => b
                .host_ip
                .parse()
                .ok()
                .filter(|ip: &IpAddr| !ip.is_loopback()),
        }
    };
    let mut published: Vec<SocketAddr> = bindings
        .filter_map(|b| Some(SocketAddr::new(host_ip(b)?, b.host_port)))
        .collect();
    published.dedup();
    let via = match vantage {
        Vantage::Local => ProbeVia::PublishedHere,
        Vantage::Remote(_) => ProbeVia::PublishedRemote,
    };
    if !published.is_empty() {
        return ProbeTarget::Connect {
            addresses: published,
            via,
        };
    }
    if let Vantage::Remote(_) = vantage {
        return ProbeTarget::Inside;
    }
    let inside: Vec<SocketAddr> = c
        .networks
        .iter()
        .flat_map(|n| {
            let v4 = n
                .ipv4
                .filter(|_| n.gateway.is_some_and(|g| is_here(g.into())));
            let v6 = n
                .ipv6
                .filter(|_| n.ipv6_gateway.is_some_and(|g| is_here(g.into())));
            v4.map(IpAddr::V4).into_iter().chain(v6.map(IpAddr::V6))
        })
        .map(|ip| SocketAddr::new(ip, port.number()))
        .collect();
    match inside.is_empty() {
        true => ProbeTarget::NotYet,
        false => ProbeTarget::Connect {
            addresses: inside,
            via: ProbeVia::ContainerIp,
        },
    }
}

/// The plan that looks for a listening TCP socket on `port` inside the
/// container's network namespace: `exec NAME cat /proc/net/tcp
/// /proc/net/tcp6` (on the engine's host, wherever that is; needs `cat` in
/// the image). A missing tcp6 table (IPv6 off) is fine.
///
/// ```
/// let plan = dockhand::container::wait::listening_inside_plan(&"web".parse()?, dockhand::input::ProbePort::new(80)?);
/// assert_eq!(plan.args(), ["exec", "--", "web", "cat", "/proc/net/tcp", "/proc/net/tcp6"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn listening_inside_plan(name: &ContainerRef, port: ProbePort) -> Plan<bool> {
    let name_text = name.to_string();
    Plan::new(
        Effect::ReadOnly,
        Argv::new("exec").operands([name.as_str(), "cat", "/proc/net/tcp", "/proc/net/tcp6"]),
        move |outcome| {
            let text = String::from_utf8_lossy(&outcome.output.stdout).into_owned();
            match (outcome.error, text.contains("local_address")) {
                (Some(e), false) => Err(e.clone().with_message(format!(
                    "cannot look for port {port} inside container {name_text} (the probe needs `cat` in the image; or publish the port): {}",
                    e.message()
                ))),
                _ => Ok(listening(&text, port.number())),
            }
        },
    )
}

/// Whether a `/proc/net/tcp{,6}` table has a socket listening (state 0A)
/// on `port`.
fn listening(table: &str, port: u16) -> bool {
    table.lines().any(|line| {
        let mut cols = line.split_whitespace();
        let local = cols.nth(1).unwrap_or_default();
        let state = cols.nth(1).unwrap_or_default();
        let local_port = local
            .rsplit_once(':')
            .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
        state == "0A" && local_port == Some(port)
    })
}

/// Whether `ip` is an address of this machine (in our network namespace):
/// binding a socket to it succeeds. Nothing is sent.
fn is_here(ip: IpAddr) -> bool {
    UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// The container port an HTTP probe without `--port` goes to: the one TCP
/// port the container publishes.
fn http_port(c: &Container, name: &str) -> Result<ProbePort> {
    let mut ports: Vec<u16> = c
        .ports
        .iter()
        .filter(|b| b.protocol == Protocol::Tcp)
        .map(|b| b.container_port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    match ports.as_slice() {
        [one] => ProbePort::new(*one),
        [] => Err(Error::invalid_input(format!(
            "container {name} publishes no TCP port: say which to probe with --port"
        ))),
        many => Err(Error::invalid_input(format!(
            "container {name} publishes several TCP ports ({}): say which to probe with --port",
            many.iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// What an HTTP probe round saw: the address that answered as asked, and
/// the status of the last answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpSeen {
    ready: Option<SocketAddr>,
    status: Option<u16>,
}

/// GET `path` from each address until one answers with an accepted status:
/// HTTP/1.1, `Connection: close`, only the status line is read.
fn probe_http(addresses: &[SocketAddr], probe: &HttpProbe) -> HttpSeen {
    let mut seen = HttpSeen {
        ready: None,
        status: None,
    };
    for addr in addresses {
        if let Some(status) = http_status(*addr, probe.path.as_str()) {
            seen.status = Some(status);
            if probe.accepts(status) {
                seen.ready = Some(*addr);
                break;
            }
        }
    }
    seen
}

/// The status code of `GET path` at `addr`; `None` when it does not answer
/// HTTP in time.
fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(HTTP_TIME)).ok()?;
    stream.set_write_timeout(Some(HTTP_TIME)).ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: dockhand\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < HTTP_HEAD_MAX {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    parse_status_line(&head)
}

/// The code of an HTTP status line: `HTTP/1.1 204 No Content` → 204.
fn parse_status_line(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split_whitespace();
    if !words.next()?.starts_with("HTTP/") {
        return None;
    }
    words
        .next()?
        .parse()
        .ok()
        .filter(|c| (100..600).contains(c))
}

/// The first address that accepts a TCP connection and does not close it
/// at once.
fn probe_tcp(addresses: &[SocketAddr]) -> Option<SocketAddr> {
    use std::io::Read;
    addresses.iter().copied().find(|addr| {
        let Ok(mut stream) = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT) else {
            return false;
        };
        if stream.set_read_timeout(Some(CLOSE_WATCH)).is_err() {
            return true;
        }
        match stream.read(&mut [0u8; 1]) {
            // Closed at once: a port proxy with nothing listening behind it.
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    })
}

/// The next thing a driver must do for a [`Waiter`].
#[derive(Debug)]
pub(crate) enum Request {
    /// Inspect the container, within this time (`None`: the engine's own limit).
    Inspect(Option<Duration>),
    /// Try these addresses.
    Connect(Vec<SocketAddr>),
    /// Look for the port inside the container, within this time.
    ProbeInside(Option<Duration>),
    /// GET the probe's path from these addresses.
    Get(Vec<SocketAddr>, Box<HttpProbe>),
    /// Run the healthcheck (podman), within this time (`None`: the engine's own limit).
    Healthcheck(Option<Duration>),
    /// Pause.
    Sleep(Duration),
    /// (Re)start following the log from this time (from the start: `None`).
    Follow(Option<Timestamp>),
    /// Read the next log line, waiting at most until this instant.
    NextLine(Option<Instant>),
    /// Start watching the container's events; for an exit wait on podman
    /// its conmon's exit file instead, when this is the conmon (pid,
    /// container id) and it is on this machine.
    Watch(Option<(u32, String)>),
    /// Wait for the next event, at most until this instant.
    NextEvent(Instant),
    /// Read the log's last line for the timeout report.
    LastLine,
    /// The wait is over.
    Done(Result<Observation>),
}

/// What the driver found doing the last [`Request`].
#[derive(Debug)]
pub(crate) enum Reply {
    Start,
    Inspected(Result<Box<Container>>),
    Connected(Option<SocketAddr>),
    ProbedInside(Result<bool>),
    Answered(HttpSeen),
    Healthchecked(Result<bool>),
    Slept(Result<()>),
    Followed(Result<()>),
    Line(Next<LogLine>),
    Watching(Result<()>),
    Event(Next<Sign>),
    LastLine(Option<String>),
}

/// What the watch of a state wait delivers.
#[derive(Debug)]
pub(crate) enum Sign {
    /// An engine event of the container.
    Event(Box<Event>),
    /// `podman wait --condition running` answered: the container ran (podman
    /// hands its events to readers in batches, up to ~250 ms late; its own
    /// wait answers within ~10 ms of the start).
    Waited,
    /// conmon wrote the container's exit file, with this exit code (`None`:
    /// it could not be read); see `container::conmon`.
    Exited(Option<i64>),
}

/// What a probe round concluded.
enum Verdict {
    Holds,
    NotYet,
    Connect(Vec<SocketAddr>, ProbeVia),
    ProbeInside,
    Get(Vec<SocketAddr>, ProbeVia),
    RunHealthcheck,
    Never(Error),
}

/// Whether a state wait watches the container's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Not yet started (or not a state wait).
    No,
    /// The events child runs: wait on it between looks.
    Yes,
    /// Its events could not be read: poll instead.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Probing the condition.
    Probing,
    /// Deadline passed: gathering what to report.
    Reporting,
}

/// The decisions of one wait, without any I/O (see the module docs).
#[derive(Debug)]
pub(crate) struct Waiter {
    condition: Condition,
    kind: EngineKind,
    vantage: Vantage,
    started: Instant,
    timeout: Option<Duration>,
    gap: Duration,
    since: Option<Timestamp>,
    phase: Phase,
    watch: Watch,
    /// Start of the run an exit wait watches: the last look that found the
    /// container not stopped. A `die` event after it ends the wait.
    run_started: Option<Timestamp>,
    /// That run's conmon (podman): its pid and the container's id.
    conmon: Option<(u32, String)>,
    obs: Observation,
}

impl Waiter {
    pub(crate) fn new(
        name: &ContainerRef,
        condition: &Condition,
        timeout: Option<Duration>,
        (kind, vantage): (EngineKind, Vantage),
        started: Instant,
    ) -> Waiter {
        Waiter {
            condition: condition.clone(),
            kind,
            vantage,
            started,
            timeout,
            gap: FIRST_PROBE_GAP,
            since: None,
            phase: Phase::Probing,
            watch: Watch::No,
            run_started: None,
            conmon: None,
            obs: Observation {
                container: name.to_string(),
                condition: condition.describe(),
                status: None,
                health: None,
                exit_code: None,
                address: None,
                via: None,
                http_status: None,
                last_line: None,
                probes: 0,
                waited_ms: 0,
            },
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.timeout.and_then(|t| self.started.checked_add(t))
    }

    /// Time allowed for one engine probe: the time left, but at least a
    /// second (`None` without a deadline: the engine's own limit applies).
    fn probe_time(&self, now: Instant) -> Option<Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(now).max(Duration::from_secs(1)))
    }

    /// The next request, given the reply to the previous one.
    pub(crate) fn step(&mut self, reply: Reply, now: Instant) -> Request {
        self.obs.waited_ms = now.duration_since(self.started).as_millis() as u64;
        let is_log = matches!(self.condition, Condition::Log(_));
        match reply {
            Reply::Start if is_log => Request::Follow(None),
            Reply::Start => Request::Inspect(self.probe_time(now)),
            // Gathering the report, a failed look changes nothing: it is a timeout.
            Reply::Inspected(Err(_)) if self.phase == Phase::Reporting => {
                Request::Done(Err(self.timeout_error()))
            }
            Reply::Inspected(Err(e)) => Request::Done(Err(e)),
            Reply::Inspected(Ok(c)) => {
                self.record(&c);
                if self.phase == Phase::Reporting {
                    return Request::Done(Err(self.timeout_error()));
                }
                match self.judge(&c) {
                    Verdict::Holds => self.done(),
                    Verdict::Never(e) => Request::Done(Err(e)),
                    Verdict::NotYet => self.not_yet(now),
                    Verdict::Connect(addresses, via) => {
                        self.obs.via = Some(via);
                        Request::Connect(addresses)
                    }
                    Verdict::ProbeInside => {
                        self.obs.via = Some(ProbeVia::InsideRemote);
                        Request::ProbeInside(self.probe_time(now))
                    }
                    Verdict::Get(addresses, via) => {
                        self.obs.via = Some(via);
                        match &self.condition {
                            Condition::Http(h) => Request::Get(addresses, Box::new(h.clone())),
                            _ => Request::Connect(addresses),
                        }
                    }
                    Verdict::RunHealthcheck => Request::Healthcheck(self.probe_time(now)),
                }
            }
            Reply::Connected(Some(addr)) => {
                self.obs.probes += 1;
                self.obs.address = Some(addr.to_string());
                self.done()
            }
            Reply::Connected(None) => {
                self.obs.probes += 1;
                self.pause(now)
            }
            Reply::ProbedInside(Ok(true)) => {
                self.obs.probes += 1;
                self.done()
            }
            Reply::ProbedInside(Ok(false)) => {
                self.obs.probes += 1;
                self.pause(now)
            }
            Reply::Answered(seen) => {
                self.obs.probes += 1;
                self.obs.http_status = seen.status.or(self.obs.http_status);
                match seen.ready {
                    Some(addr) => {
                        self.obs.address = Some(addr.to_string());
                        self.done()
                    }
                    None => self.pause(now),
                }
            }
            Reply::Healthchecked(Ok(true)) => {
                self.obs.probes += 1;
                self.obs.health = Some(HealthStatus::Healthy);
                self.done()
            }
            Reply::Healthchecked(Ok(false)) => {
                self.obs.probes += 1;
                self.obs.health = Some(HealthStatus::Unhealthy);
                self.pause(now)
            }
            Reply::Healthchecked(Err(e))
            | Reply::ProbedInside(Err(e))
            | Reply::Slept(Err(e))
            | Reply::Followed(Err(e)) => Request::Done(Err(e)),
            Reply::Slept(Ok(())) if is_log => Request::Follow(self.since),
            Reply::Slept(Ok(())) => Request::Inspect(self.probe_time(now)),
            Reply::Followed(Ok(())) => Request::NextLine(self.deadline()),
            Reply::Line(Next::Item(Ok(line))) => self.saw_line(&line),
            Reply::Line(Next::Item(Err(e))) => Request::Done(Err(e)),
            // The log ended: the container stopped. It may be restarted.
            Reply::Line(Next::End) => self.pause(now),
            Reply::Line(Next::TimedOut) => self.report(),
            Reply::Watching(Ok(())) => {
                self.watch = Watch::Yes;
                // A change before the watch began is seen by this look.
                Request::Inspect(self.probe_time(now))
            }
            Reply::Watching(Err(e)) => {
                log::debug!(
                    "cannot watch the events of {}, polling: {e}",
                    self.obs.container
                );
                self.watch = Watch::Failed;
                self.pause(now)
            }
            Reply::Event(Next::Item(Ok(Sign::Exited(Some(code)))))
                if matches!(self.condition, Condition::Exited) =>
            {
                log::debug!(
                    "{}: conmon's exit file ends the exit wait",
                    self.obs.container
                );
                self.obs.probes += 1;
                self.obs.status = Some(Status::Exited);
                self.obs.exit_code = Some(code);
                self.done()
            }
            Reply::Event(Next::Item(Ok(Sign::Event(e)))) if self.ends_the_run(&e) => {
                log::debug!("{}: the die event ends the exit wait", self.obs.container);
                self.obs.probes += 1;
                self.obs.status = Some(Status::Exited);
                self.obs.exit_code = e.exit_code;
                self.done()
            }
            // An event of the container, or a quiet spell: look again.
            Reply::Event(Next::Item(Ok(_)) | Next::TimedOut) => match self.deadline() {
                Some(d) if now >= d => self.report(),
                _ => Request::Inspect(self.probe_time(now)),
            },
            Reply::Event(Next::Item(Err(e))) if e.kind() == ErrorKind::Interrupted => {
                Request::Done(Err(e))
            }
            Reply::Event(Next::Item(Err(e))) => {
                log::debug!(
                    "the event watch of {} failed, polling: {e}",
                    self.obs.container
                );
                self.watch = Watch::Failed;
                self.pause(now)
            }
            Reply::Event(Next::End) => {
                self.watch = Watch::Failed;
                self.pause(now)
            }
            Reply::LastLine(line) => {
                self.obs.last_line = line;
                Request::Done(Err(self.timeout_error()))
            }
        }
    }

    fn record(&mut self, c: &Container) {
        self.obs.probes += 1;
        self.obs.status = Some(c.state.status);
        self.obs.health = c.state.health.as_ref().map(|h| h.status);
        self.obs.exit_code = c.state.status.is_stopped().then_some(c.state.exit_code);
        if !c.state.status.is_stopped() {
            self.run_started = c
                .state
                .started_at
                .as_deref()
                .and_then(Timestamp::parse_rfc3339);
            self.conmon = c.raw["State"]["ConmonPid"]
                .as_u64()
                .and_then(|pid| u32::try_from(pid).ok())
                .filter(|pid| *pid > 0)
                .map(|pid| (pid, c.id.clone()));
        }
    }

    /// Whether an exit wait may end on this event: the watched run's `die`
    /// (with its exit code), not a replayed one of an earlier run.
    fn ends_the_run(&self, e: &Event) -> bool {
        matches!(self.condition, Condition::Exited)
            && e.action == EventAction::Die
            && e.exit_code.is_some()
            && self.run_started.is_some_and(|started| e.time > started)
    }

    fn judge(&self, c: &Container) -> Verdict {
        let running = c.state.status == Status::Running;
        match &self.condition {
            Condition::Running if running => Verdict::Holds,
            Condition::Exited if c.state.status.is_stopped() => Verdict::Holds,
            Condition::Healthy => match &c.state.health {
                None => Verdict::Never(Error::invalid_input(format!(
                    "container {} has no healthcheck: it can never become healthy",
                    self.obs.container
                ))),
                Some(h) if h.status == HealthStatus::Healthy => Verdict::Holds,
                Some(_) if running && self.kind.quirks().run_healthcheck_to_probe => {
                    Verdict::RunHealthcheck
                }
                Some(_) => Verdict::NotYet,
            },
            Condition::Port(port) if running => match probe_target(c, *port, self.vantage) {
                ProbeTarget::Connect { addresses, via } => Verdict::Connect(addresses, via),
                ProbeTarget::Inside => Verdict::ProbeInside,
                ProbeTarget::NotYet => Verdict::NotYet,
            },
            Condition::Http(h) if running => {
                let port = match h.port {
                    Some(p) => p,
                    None => match http_port(c, &self.obs.container) {
                        Ok(p) => p,
                        Err(e) => return Verdict::Never(e),
                    },
                };
                match probe_target(c, port, self.vantage) {
                    ProbeTarget::Connect { addresses, via } => Verdict::Get(addresses, via),
                    ProbeTarget::Inside => Verdict::Never(Error::invalid_input(format!(
                        "container {}'s port {port} is not published at the remote host's address: an HTTP probe of a remote engine needs a published port (or run `dockhand wait-for` on that host)",
                        self.obs.container
                    ))),
                    ProbeTarget::NotYet => Verdict::NotYet,
                }
            }
            _ => Verdict::NotYet,
        }
    }

    fn saw_line(&mut self, line: &LogLine) -> Request {
        self.obs.probes += 1;
        self.obs.last_line = Some(line.text().into_owned());
        if let Some(t) = line.timestamp {
            self.since = Some(t.plus(Duration::from_nanos(1)));
        }
        match &self.condition {
            Condition::Log(p) if p.is_match(&line.message) => self.done(),
            _ => Request::NextLine(self.deadline()),
        }
    }

    /// The condition does not hold yet: a state wait watches the
    /// container's events (from the first such look on), others pause.
    fn not_yet(&mut self, now: Instant) -> Request {
        let state_wait = matches!(
            self.condition,
            Condition::Running | Condition::Healthy | Condition::Exited
        );
        match self.watch {
            Watch::No if state_wait => Request::Watch(match self.condition {
                Condition::Exited if self.kind == EngineKind::Podman => self.conmon.clone(),
                _ => None,
            }),
            Watch::Yes => {
                let quiet = now + MAX_PROBE_GAP;
                match self.deadline() {
                    Some(d) if now >= d => self.report(),
                    Some(d) => Request::NextEvent(d.min(quiet)),
                    None => Request::NextEvent(quiet),
                }
            }
            _ => self.pause(now),
        }
    }

    /// Sleep before the next probe, or report once the deadline has passed.
    fn pause(&mut self, now: Instant) -> Request {
        let left = match self.deadline() {
            Some(d) if now >= d => return self.report(),
            Some(d) => d - now,
            None => self.gap,
        };
        let sleep = self.gap.min(left);
        self.gap = (self.gap * 2).min(MAX_PROBE_GAP);
        Request::Sleep(sleep)
    }

    /// Gather what the timeout error reports: the state (log waits) or the
    /// last log line (state waits).
    fn report(&mut self) -> Request {
        self.phase = Phase::Reporting;
        match self.condition {
            Condition::Log(_) => Request::Inspect(Some(REPORT_TIME)),
            _ => Request::LastLine,
        }
    }

    fn done(&mut self) -> Request {
        Request::Done(Ok(self.obs.clone()))
    }

    fn timeout_error(&self) -> Error {
        let o = &self.obs;
        let mut seen = Vec::new();
        if let Some(s) = o.status {
            seen.push(format!("status {}", s.as_str()));
        }
        if let Some(h) = o.health {
            seen.push(format!("health {}", health_word(h)));
        }
        if let Some(c) = o.exit_code {
            seen.push(format!("exit code {c}"));
        }
        if let Some(s) = o.http_status {
            seen.push(format!("HTTP status {s}"));
        }
        if let Some(line) = &o.last_line {
            seen.push(format!("last log line {line:?}"));
        }
        if seen.is_empty() {
            seen.push("nothing".into());
        }
        Error::new(
            ErrorKind::Timeout,
            format!(
                "container {} is not {} after {:.1}s; last observed: {}",
                o.container,
                o.condition,
                self.timeout.unwrap_or_default().as_secs_f64(),
                seen.join(", ")
            ),
        )
    }
}

fn health_word(h: HealthStatus) -> &'static str {
    match h {
        HealthStatus::Starting => "starting",
        HealthStatus::Healthy => "healthy",
        HealthStatus::Unhealthy => "unhealthy",
        HealthStatus::Unknown => "unknown",
    }
}

/// `plan` limited to `time` (`None`: the engine's own limit stays).
fn within<T: 'static>(plan: Plan<T>, time: Option<Duration>) -> Plan<T> {
    match time {
        Some(t) => plan.timeout(Some(t)),
        None => plan,
    }
}

/// Options of the log reads a wait makes.
fn follow_options(since: Option<Timestamp>) -> LogOptions {
    LogOptions {
        since: since.map(TimeSpec::At),
        timestamps: true,
        follow: true,
        ..LogOptions::default()
    }
}

/// The events of container `name` from a moment before `now` on.
/// The watch of a state wait: the container's events, and for a podman
/// `running` wait also podman's own wait for it (see [`Sign::Waited`]).
fn watch(engine: &Engine, name: &ContainerRef, condition: &Condition) -> Result<Decoded<Sign>> {
    let (events, mut to_event) =
        crate::events::event_child(engine.kind(), &watch_options(name, Timestamp::now())?);
    let mut children = vec![events];
    if engine.kind() == EngineKind::Podman && matches!(condition, Condition::Running) {
        children.push(LineChild {
            args: Argv::new("wait")
                .args(["--condition", "running"])
                .operands([name]),
            stamps: None,
            // It prints one short line (`-1`).
            max_line: 64,
            stderr_lines: false,
            catch_up: None,
        });
    }
    let to_item = move |child: usize, _pipe: Pipe, line: Line| match child {
        0 => to_event(line).map(|e| e.map(|e| Sign::Event(Box::new(e)))),
        _ => (!line.bytes.trim_ascii().is_empty()).then_some(Ok(Sign::Waited)),
    };
    Ok(Decoded::new(
        engine.kind(),
        &engine.transported(),
        children,
        Box::new(to_item),
    ))
}

/// What a state wait watches between its looks.
enum Watched<L> {
    /// The container's events (the lines of [`watch`]).
    Events(L),
    /// conmon's exit file (a podman exit wait on this machine).
    ExitFile(std::sync::Arc<FileWatch>),
}

/// A watch on the exit file of container `id` whose conmon has pid
/// `conmon_pid`, when that conmon is on this machine and its exit directory
/// can be watched (it is root's for a rootful podman behind `sudo`).
fn exit_file_watch(conmon_pid: u32, id: &str) -> Option<FileWatch> {
    let dir = conmon::exit_dir_of(conmon_pid, id)?;
    FileWatch::new(&dir, id.as_ref())
        .map_err(|e| {
            log::debug!(
                "cannot watch conmon's exit directory {}: {e}",
                dir.display()
            )
        })
        .ok()
}

fn watch_options(name: &ContainerRef, now: Timestamp) -> Result<EventOptions> {
    Ok(EventOptions {
        filters: vec![
            EventFilter::new("type", "container")?,
            EventFilter::new("container", name.as_str())?,
        ],
        since: Some(TimeSpec::At(now.minus(WATCH_REPLAY))),
        until: None,
    })
}

fn last_line_options() -> LogOptions {
    LogOptions {
        tail: Tail::Last(1),
        ..LogOptions::default()
    }
}

impl Containers<'_> {
    /// Wait until `condition` holds for container `name`, at most `timeout`
    /// (`None`: no limit). On timeout the error ([`ErrorKind::Timeout`])
    /// says what was last observed: status, health, last log line.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use dockhand::{input::ContainerRef, container::wait::Condition, Engine};
    /// let engine = Engine::detect()?;
    /// let seen = engine.containers().wait_for(&ContainerRef::new("web")?, &Condition::Port("80".parse()?),
    ///     Some(Duration::from_secs(30)))?;
    /// println!("accepting on {:?}", seen.address);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn wait_for(
        &self,
        name: &ContainerRef,
        condition: &Condition,
        timeout: Option<Duration>,
    ) -> Result<Observation> {
        Blocking::finish(self.wait_with(&Blocking, name, condition, timeout))
    }

    /// Async twin of [`Containers::wait_for`] (feature `tokio`). Dropping the
    /// future kills and reaps any engine child it runs.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dockhand::Result<()> {
    /// use dockhand::{input::ContainerRef, container::wait::Condition, Engine};
    /// let engine = Engine::detect()?;
    /// engine.containers().wait_for_async(&ContainerRef::new("web")?, &Condition::Healthy, None).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn wait_for_async(
        &self,
        name: &ContainerRef,
        condition: &Condition,
        timeout: Option<Duration>,
    ) -> Result<Observation> {
        self.wait_with(&crate::engine::drive::Tokio, name, condition, timeout)
            .await
    }

    /// Where the engine's containers are seen from: a remote engine's by
    /// its host's address.
    async fn vantage<D: Driver>(&self, driver: &D) -> Result<Vantage> {
        let endpoint = self.engine.endpoint_with(driver).await?;
        if !endpoint.is_remote() {
            return Ok(Vantage::Local);
        }
        Ok(Vantage::Remote(
            self.engine.remote_address(driver, &endpoint).await?,
        ))
    }

    /// The [`Waiter`]'s requests carried out by either driver.
    async fn wait_with<D: Driver>(
        &self,
        driver: &D,
        name: &ContainerRef,
        condition: &Condition,
        timeout: Option<Duration>,
    ) -> Result<Observation> {
        let names = std::slice::from_ref(name);
        let started = Instant::now();
        let vantage = match condition {
            Condition::Port(_) | Condition::Http(_) => self.vantage(driver).await?,
            _ => Vantage::Local,
        };
        let dialect = (self.engine.kind(), vantage);
        let mut waiter = Waiter::new(name, condition, timeout, dialect, started);
        let mut reply = Reply::Start;
        let mut lines = None;
        let mut watched = None;
        loop {
            let request = waiter.step(reply, Instant::now());
            if !matches!(request, Request::NextLine(_)) {
                // Reap the log follower before anything else happens.
                lines = None;
            }
            reply = match request {
                Request::Done(result) => return result,
                Request::Watch(conmon) => Reply::Watching(
                    match conmon.and_then(|(pid, id)| exit_file_watch(pid, &id)) {
                        Some(file) => {
                            watched = Some(Watched::ExitFile(std::sync::Arc::new(file)));
                            Ok(())
                        }
                        None => watch(self.engine, name, condition)
                            .and_then(|w| driver.start_lines(w))
                            .map(|e| watched = Some(Watched::Events(e))),
                    },
                ),
                Request::NextEvent(until) => Reply::Event(match watched.as_mut() {
                    Some(Watched::Events(e)) => driver.next_line(e, Some(until)).await,
                    Some(Watched::ExitFile(file)) => {
                        let file = std::sync::Arc::clone(file);
                        match driver.offload(move || file.wait(until)).await {
                            Ok(Some(contents)) => {
                                Next::Item(Ok(Sign::Exited(conmon::exit_code(&contents))))
                            }
                            Ok(None) => Next::TimedOut,
                            Err(e) => Next::Item(Err(e)),
                        }
                    }
                    None => Next::End,
                }),
                Request::Inspect(t) => Reply::Inspected(
                    self.engine
                        .drive(driver, within(inspect_plan(names), t), None)
                        .await
                        .and_then(|i| i.into_result())
                        .map(|mut found| Box::new(found.remove(0))),
                ),
                Request::Connect(addresses) => {
                    Reply::Connected(driver.offload(move || probe_tcp(&addresses)).await)
                }
                Request::ProbeInside(t) => {
                    let Condition::Port(port) = condition else {
                        unreachable!("only port waits probe inside")
                    };
                    let plan = within(listening_inside_plan(name, *port), t);
                    Reply::ProbedInside(self.engine.drive(driver, plan, None).await)
                }
                Request::Get(addresses, probe) => {
                    Reply::Answered(driver.offload(move || probe_http(&addresses, &probe)).await)
                }
                Request::Healthcheck(t) => Reply::Healthchecked(
                    self.engine
                        .drive(driver, within(healthcheck_run_plan(name), t), None)
                        .await,
                ),
                Request::Sleep(d) => Reply::Slept(driver.sleep(d).await),
                Request::Follow(since) => Reply::Followed(
                    self.follow(driver, names, &follow_options(since))
                        .await
                        .map(|l| lines = Some(l)),
                ),
                Request::NextLine(deadline) => Reply::Line(match lines.as_mut() {
                    Some(l) => driver.next_line(l, deadline).await,
                    None => Next::End,
                }),
                Request::LastLine => {
                    let mut last = None;
                    if let Ok(mut l) = self.follow(driver, names, &last_line_options()).await {
                        let deadline = Some(Instant::now() + REPORT_TIME);
                        while let Next::Item(Ok(line)) = driver.next_line(&mut l, deadline).await {
                            last = Some(line.text().into_owned());
                        }
                    }
                    Reply::LastLine(last)
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::parse_inspect;
    use crate::exec::Pipe;

    fn container(engine: &str, slug: &str) -> Container {
        parse_inspect(&crate::testing::capture(&format!("{engine}/{slug}")))
            .unwrap()
            .remove(0)
    }

    fn waiter(
        condition: Condition,
        timeout: Option<Duration>,
        kind: EngineKind,
    ) -> (Waiter, Instant) {
        let start = Instant::now();
        let name = ContainerRef::new("web").unwrap();
        (
            Waiter::new(&name, &condition, timeout, (kind, Vantage::Local), start),
            start,
        )
    }

    #[test]
    fn running_holds_at_once_and_reports_the_state() {
        let (mut w, t0) = waiter(Condition::Running, None, EngineKind::Docker);
        assert!(matches!(w.step(Reply::Start, t0), Request::Inspect(_)));
        let c = container("docker", "containers-inspect-full.json");
        match w.step(Reply::Inspected(Ok(Box::new(c))), t0) {
            Request::Done(Ok(o)) => {
                assert_eq!(o.status, Some(Status::Running));
                assert_eq!(o.probes, 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn probes_back_off_and_the_timeout_reports_what_was_seen() {
        let timeout = Duration::from_secs(3);
        let (mut w, t0) = waiter(Condition::Running, Some(timeout), EngineKind::Podman);
        w.step(Reply::Start, t0);
        let exited = container("podman", "containers-inspect-exited.json");
        let mut sleeps = Vec::new();
        let mut now = t0;
        // A state wait watches events; one whose events cannot be read polls.
        let req = w.step(Reply::Inspected(Ok(Box::new(exited.clone()))), now);
        assert!(matches!(req, Request::Watch(None)), "{req:?}");
        let refused = Error::new(ErrorKind::EngineFailure, "no events here");
        let mut req = w.step(Reply::Watching(Err(refused)), now);
        while let Request::Sleep(d) = req {
            sleeps.push(d);
            now += d;
            assert!(matches!(
                w.step(Reply::Slept(Ok(())), now),
                Request::Inspect(_)
            ));
            req = w.step(Reply::Inspected(Ok(Box::new(exited.clone()))), now);
        }
        assert_eq!(sleeps[..4], [100, 200, 400, 800].map(Duration::from_millis));
        assert!(sleeps.iter().all(|d| *d <= MAX_PROBE_GAP));
        assert_eq!(
            sleeps.iter().sum::<Duration>(),
            timeout,
            "sleeps end at the deadline"
        );
        assert!(matches!(req, Request::LastLine), "{req:?}");
        match w.step(Reply::LastLine(Some("bye".into())), now) {
            Request::Done(Err(e)) => {
                assert_eq!(e.kind(), ErrorKind::Timeout);
                let m = e.message();
                assert!(m.contains("not running after 3.0s"), "{m}");
                assert!(
                    m.contains("status exited") && m.contains("exit code 3"),
                    "{m}"
                );
                assert!(m.contains("last log line \"bye\""), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn state_waits_look_again_on_each_event_or_after_a_quiet_second() {
        let timeout = Duration::from_millis(2500);
        let (mut w, t0) = waiter(Condition::Exited, Some(timeout), EngineKind::Docker);
        w.step(Reply::Start, t0);
        let running = container("docker", "containers-inspect-full.json");
        let look =
            |w: &mut Waiter, now| w.step(Reply::Inspected(Ok(Box::new(running.clone()))), now);
        assert!(matches!(look(&mut w, t0), Request::Watch(None)));
        // The look right after the watch starts closes the gap before it.
        assert!(matches!(
            w.step(Reply::Watching(Ok(())), t0),
            Request::Inspect(_)
        ));
        match look(&mut w, t0) {
            Request::NextEvent(until) => assert_eq!(until, t0 + MAX_PROBE_GAP),
            other => panic!("{other:?}"),
        }
        // A quiet second: one more look, no sleep.
        let t1 = t0 + MAX_PROBE_GAP;
        assert!(matches!(
            w.step(Reply::Event(Next::TimedOut), t1),
            Request::Inspect(_)
        ));
        // Near the deadline the event wait ends at the deadline, then reports.
        let t2 = t0 + Duration::from_secs(2);
        match look(&mut w, t2) {
            Request::NextEvent(until) => assert_eq!(until, t0 + timeout),
            other => panic!("{other:?}"),
        }
        let end = t0 + timeout;
        assert!(matches!(
            w.step(Reply::Event(Next::TimedOut), end),
            Request::LastLine
        ));
        // The events child ending (daemon gone, say) falls back to polling.
        let (mut w, t0) = waiter(Condition::Exited, None, EngineKind::Podman);
        w.step(Reply::Start, t0);
        look(&mut w, t0);
        w.step(Reply::Watching(Ok(())), t0);
        look(&mut w, t0);
        assert!(matches!(
            w.step(Reply::Event(Next::End), t0),
            Request::Sleep(_)
        ));
        assert!(matches!(
            w.step(Reply::Slept(Ok(())), t0),
            Request::Inspect(_)
        ));
        assert!(matches!(look(&mut w, t0), Request::Sleep(_)));
    }

    #[test]
    fn a_podman_exit_wait_watches_conmons_exit_file_and_ends_on_its_code() {
        let running = container("podman", "containers-inspect-full.json");
        let conmon = (14245, running.id.clone());
        let (mut w, t0) = waiter(Condition::Exited, None, EngineKind::Podman);
        w.step(Reply::Start, t0);
        let look = |w: &mut Waiter| w.step(Reply::Inspected(Ok(Box::new(running.clone()))), t0);
        match look(&mut w) {
            Request::Watch(Some(c)) => assert_eq!(c, conmon),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            w.step(Reply::Watching(Ok(())), t0),
            Request::Inspect(_)
        ));
        assert!(matches!(look(&mut w), Request::NextEvent(_)));
        // An exit file that could not be read brings a look.
        assert!(matches!(
            w.step(Reply::Event(Next::Item(Ok(Sign::Exited(None)))), t0),
            Request::Inspect(_)
        ));
        assert!(matches!(look(&mut w), Request::NextEvent(_)));
        match w.step(Reply::Event(Next::Item(Ok(Sign::Exited(Some(3))))), t0) {
            Request::Done(Ok(o)) => {
                assert_eq!((o.status, o.exit_code), (Some(Status::Exited), Some(3)));
            }
            other => panic!("{other:?}"),
        }
        // Other waits, and docker's, watch events.
        for (condition, kind) in [
            (Condition::Running, EngineKind::Podman),
            (Condition::Exited, EngineKind::Docker),
        ] {
            let (mut w, t0) = waiter(condition, None, kind);
            w.step(Reply::Start, t0);
            let c = container("podman", "containers-inspect-created.json");
            let req = w.step(Reply::Inspected(Ok(Box::new(c))), t0);
            assert!(matches!(req, Request::Watch(None)), "{req:?}");
        }
    }

    #[test]
    fn a_podman_running_wait_also_asks_podmans_own_wait() {
        let name = ContainerRef::new("web").unwrap();
        for (program, condition, extra) in [
            ("podman", Condition::Running, true),
            ("podman", Condition::Exited, false),
            ("docker", Condition::Running, false),
        ] {
            let engine = Engine::from_command(program).unwrap();
            let cmds: Vec<String> = watch(&engine, &name, &condition)
                .unwrap()
                .cmds()
                .iter()
                .map(|c| c.to_string())
                .collect();
            assert!(cmds[0].contains(" events "), "{cmds:?}");
            let wait = cmds
                .iter()
                .any(|c| c.ends_with(" wait --condition running -- web"));
            assert_eq!(
                (cmds.len(), wait),
                (1 + usize::from(extra), extra),
                "{cmds:?}"
            );
        }
        // Its answer, like an event, brings a look.
        let (mut w, t0) = waiter(Condition::Running, None, EngineKind::Podman);
        w.step(Reply::Start, t0);
        let created = container("podman", "containers-inspect-created.json");
        assert!(matches!(
            w.step(Reply::Inspected(Ok(Box::new(created.clone()))), t0),
            Request::Watch(None)
        ));
        w.step(Reply::Watching(Ok(())), t0);
        w.step(Reply::Inspected(Ok(Box::new(created))), t0);
        assert!(matches!(
            w.step(Reply::Event(Next::Item(Ok(Sign::Waited))), t0),
            Request::Inspect(_)
        ));
    }

    #[test]
    fn an_exit_wait_ends_on_the_die_event_of_the_run_it_watched() {
        // docker's capture started at 17:10:20.86, podman's at 17:10:23.39.
        for (engine, kind, before, after) in [
            (
                "docker",
                EngineKind::Docker,
                r#"{"Type":"container","Action":"die","Actor":{"ID":"1a0a","Attributes":{"exitCode":"3","name":"web"}},"time":1795453820,"timeNano":1795453820000000000}"#,
                r#"{"Type":"container","Action":"die","Actor":{"ID":"1a0a","Attributes":{"exitCode":"3","name":"web"}},"time":1795453821,"timeNano":1795453821000000000}"#,
            ),
            (
                "podman",
                EngineKind::Podman,
                r#"{"ContainerExitCode":3,"ID":"1a0a","Name":"web","Status":"died","Time":"2026-11-23T17:10:23.0Z","Type":"container"}"#,
                r#"{"ContainerExitCode":3,"ID":"1a0a","Name":"web","Status":"died","Time":"2026-11-23T17:10:24.0Z","Type":"container"}"#,
            ),
        ] {
            let event = |line: &str| {
                Reply::Event(Next::Item(
                    crate::events::parse_event(line.as_bytes()).map(|e| Sign::Event(Box::new(e))),
                ))
            };
            let running = container(engine, "containers-inspect-full.json");
            let (mut w, t0) = waiter(Condition::Exited, None, kind);
            w.step(Reply::Start, t0);
            w.step(Reply::Inspected(Ok(Box::new(running.clone()))), t0);
            w.step(Reply::Watching(Ok(())), t0);
            w.step(Reply::Inspected(Ok(Box::new(running))), t0);
            // A `die` replayed from before this run's start: look again.
            match w.step(event(before), t0) {
                Request::Inspect(_) => {}
                other => panic!("{engine}: {other:?}"),
            }
            // This run's `die`: done, with its exit code, and no more looks.
            match w.step(event(after), t0) {
                Request::Done(Ok(o)) => {
                    assert_eq!(
                        (o.status, o.exit_code),
                        (Some(Status::Exited), Some(3)),
                        "{engine}"
                    );
                }
                other => panic!("{engine}: {other:?}"),
            }
        }
    }

    #[test]
    fn healthy_without_a_healthcheck_fails_at_once_and_podman_runs_the_check() {
        let (mut w, t0) = waiter(Condition::Healthy, None, EngineKind::Docker);
        w.step(Reply::Start, t0);
        let plain = container("docker", "containers-inspect-full.json");
        let req = w.step(Reply::Inspected(Ok(Box::new(plain))), t0);
        assert!(
            matches!(&req, Request::Done(Err(e)) if e.kind() == ErrorKind::InvalidInput),
            "{req:?}"
        );
        let mut running = container("podman", "containers-inspect-full.json");
        running.state.health = Some(crate::container::Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            last_output: None,
            last_exit_code: None,
        });
        let (mut w, t0) = waiter(Condition::Healthy, None, EngineKind::Podman);
        w.step(Reply::Start, t0);
        assert!(matches!(
            w.step(Reply::Inspected(Ok(Box::new(running))), t0),
            Request::Healthcheck(_)
        ));
        assert!(matches!(
            w.step(Reply::Healthchecked(Ok(false)), t0),
            Request::Sleep(_)
        ));
    }

    /// The sockets a local engine's probe connects to (none: not yet).
    fn probe_addresses(c: &Container, port: ProbePort) -> Vec<SocketAddr> {
        match probe_target(c, port, Vantage::Local) {
            ProbeTarget::Connect { addresses, .. } => addresses,
            ProbeTarget::NotYet => Vec::new(),
            ProbeTarget::Inside => panic!("a local engine is never probed inside"),
        }
    }

    #[test]
    fn port_probes_published_sockets_on_loopback_or_container_ips_on_a_bridge_here() {
        let mut c = container("docker", "containers-inspect-full.json");
        let published = c
            .ports
            .iter()
            .find(|b| b.protocol == Protocol::Tcp)
            .unwrap()
            .clone();
        let port = ProbePort::new(published.container_port).unwrap();
        let addrs = probe_addresses(&c, port);
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        assert!(addrs.iter().all(|a| a.port() == published.host_port));
        // Unpublished: the container's IP, only on a network whose gateway is
        // an address of this machine (127.0.0.1 stands in for a bridge here).
        let unpublished = ProbePort::new(4321).unwrap();
        c.networks.truncate(1);
        c.networks[0].gateway = Some(Ipv4Addr::LOCALHOST);
        c.networks[0].ipv4 = Some(Ipv4Addr::new(127, 0, 0, 2));
        c.networks[0].ipv6 = None;
        assert_eq!(
            probe_addresses(&c, unpublished),
            [SocketAddr::from(([127, 0, 0, 2], 4321))]
        );
        // A gateway that is not here (TEST-NET-1): never probed.
        c.networks[0].gateway = Some(Ipv4Addr::new(192, 0, 2, 1));
        assert!(probe_addresses(&c, unpublished).is_empty());
        // A binding to a host address that is not loopback is not probed either.
        c.ports = vec![crate::container::PortBinding {
            host_ip: "192.0.2.7".into(),
            ..published
        }];
        assert!(probe_addresses(&c, port).is_empty());
    }

    #[test]
    fn http_waits_get_the_one_published_port_and_report_the_last_status() {
        let probe = HttpProbe {
            path: HttpPath::new("/health").unwrap(),
            status: None,
            port: None,
        };
        assert!(probe.accepts(204) && !probe.accepts(301) && !probe.accepts(503));
        let (mut w, t0) = waiter(
            Condition::Http(probe),
            Some(Duration::from_secs(5)),
            EngineKind::Podman,
        );
        w.step(Reply::Start, t0);
        // Several published TCP ports and no --port: the caller must choose.
        let full = container("podman", "containers-inspect-full.json");
        let req = w.step(Reply::Inspected(Ok(Box::new(full))), t0);
        assert!(
            matches!(&req, Request::Done(Err(e)) if e.kind() == ErrorKind::InvalidInput),
            "{req:?}"
        );
        let mut one = container("podman", "containers-inspect-full.json");
        one.ports.retain(|b| b.container_port == 8080);
        let (mut w, t0) = waiter(
            Condition::Http(HttpProbe {
                path: HttpPath::new("/").unwrap(),
                status: Some(HttpStatus::new(204).unwrap()),
                port: None,
            }),
            Some(Duration::from_secs(5)),
            EngineKind::Podman,
        );
        w.step(Reply::Start, t0);
        let addrs = match w.step(Reply::Inspected(Ok(Box::new(one))), t0) {
            Request::Get(addrs, _) => addrs,
            other => panic!("{other:?}"),
        };
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        let busy = HttpSeen {
            ready: None,
            status: Some(503),
        };
        assert!(matches!(
            w.step(Reply::Answered(busy), t0),
            Request::Sleep(_)
        ));
        let ok = HttpSeen {
            ready: Some(addrs[0]),
            status: Some(204),
        };
        match w.step(Reply::Answered(ok), t0) {
            Request::Done(Ok(o)) => assert_eq!(o.http_status, Some(204)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status_line(b"HTTP/1.1 204 No Content\r\nX: y"),
            Some(204)
        );
        assert_eq!(parse_status_line(b"HTTP/1.0 404 Not Found\r\n"), Some(404));
        assert_eq!(parse_status_line(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status_line(b"HTTP/1.1 999 x\r\n"), None);
        assert_eq!(parse_status_line(b""), None);
    }

    #[test]
    fn http_against_a_loopback_server_of_our_own() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            for answer in [
                "HTTP/1.1 503 Busy\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ] {
                let (mut s, _) = listener.accept().unwrap();
                let mut req = [0u8; 1024];
                let n = s.read(&mut req).unwrap();
                let req = String::from_utf8_lossy(&req[..n]).into_owned();
                assert!(req.starts_with("GET /ready?x=1 HTTP/1.1\r\n"), "{req}");
                assert!(req.contains(&format!("Host: {addr}\r\n")), "{req}");
                s.write_all(answer.as_bytes()).unwrap();
            }
        });
        let probe = HttpProbe {
            path: HttpPath::new("/ready?x=1").unwrap(),
            status: None,
            port: None,
        };
        let first = probe_http(&[addr], &probe);
        assert_eq!(
            first,
            HttpSeen {
                ready: None,
                status: Some(503)
            }
        );
        let second = probe_http(&[addr], &probe);
        assert_eq!(
            second,
            HttpSeen {
                ready: Some(addr),
                status: Some(200)
            }
        );
        server.join().unwrap();
    }

    #[test]
    fn a_remote_engine_is_probed_at_its_address_or_inside_never_at_a_container_ip() {
        let c = container("docker", "containers-inspect-full.json");
        // 8080/tcp is published on 0.0.0.0 and ::, 82/tcp on 127.0.0.1 only.
        let published = c.ports.iter().find(|b| b.container_port == 8080).unwrap();
        let port = ProbePort::new(8080).unwrap();
        let box_ip: IpAddr = "10.213.0.11".parse().unwrap();
        assert_eq!(
            probe_target(
                &c,
                ProbePort::new(82).unwrap(),
                Vantage::Remote(Some(box_ip))
            ),
            ProbeTarget::Inside,
            "the remote host's loopback is not reachable from here"
        );
        match probe_target(&c, port, Vantage::Remote(Some(box_ip))) {
            ProbeTarget::Connect { addresses, via } => {
                assert_eq!(via, ProbeVia::PublishedRemote);
                assert!(addresses.iter().all(|a| a.ip() == box_ip), "{addresses:?}");
                assert!(addresses.iter().all(|a| a.port() == published.host_port));
            }
            other => panic!("{other:?}"),
        }
        let unpublished = ProbePort::new(4321).unwrap();
        assert_eq!(
            probe_target(&c, unpublished, Vantage::Remote(Some(box_ip))),
            ProbeTarget::Inside
        );
        // Address unknown: nothing to connect to from here.
        assert_eq!(
            probe_target(&c, port, Vantage::Remote(None)),
            ProbeTarget::Inside
        );
        let (mut w, t0) = waiter(Condition::Port(unpublished), None, EngineKind::Docker);
        w.vantage = Vantage::Remote(Some(box_ip));
        w.step(Reply::Start, t0);
        assert!(matches!(
            w.step(Reply::Inspected(Ok(Box::new(c))), t0),
            Request::ProbeInside(_)
        ));
        match w.step(Reply::ProbedInside(Ok(true)), t0) {
            Request::Done(Ok(o)) => assert_eq!(o.via, Some(ProbeVia::InsideRemote)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn listening_sockets_are_read_from_proc_net_tcp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0035 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1";
        assert!(listening(table, 8080));
        // Port 53 is only an established connection there, not a listener.
        assert!(!listening(table, 53));
        assert!(!listening("garbage\n: :", 80));
    }

    #[test]
    fn log_waits_match_lines_and_follow_again_after_the_log_ends() {
        let pattern = LogPattern::new("^ready on :\\d+$").unwrap();
        let (mut w, t0) = waiter(
            Condition::Log(pattern),
            Some(Duration::from_secs(10)),
            EngineKind::Docker,
        );
        assert!(matches!(w.step(Reply::Start, t0), Request::Follow(None)));
        assert!(matches!(
            w.step(Reply::Followed(Ok(())), t0),
            Request::NextLine(Some(_))
        ));
        let line = |text: &str, secs| LogLine {
            container: "web".into(),
            stream: Pipe::Stderr,
            timestamp: Some(Timestamp::from_unix(secs, 0)),
            message: text.as_bytes().to_vec(),
            partial: false,
        };
        let req = w.step(Reply::Line(Next::Item(Ok(line("starting", 5)))), t0);
        assert!(matches!(req, Request::NextLine(_)));
        assert!(matches!(
            w.step(Reply::Line(Next::End), t0),
            Request::Sleep(_)
        ));
        match w.step(Reply::Slept(Ok(())), t0) {
            Request::Follow(Some(since)) => assert!(since > Timestamp::from_unix(5, 0)),
            other => panic!("{other:?}"),
        }
        w.step(Reply::Followed(Ok(())), t0);
        match w.step(Reply::Line(Next::Item(Ok(line("ready on :80", 6)))), t0) {
            Request::Done(Ok(o)) => assert_eq!(o.last_line.as_deref(), Some("ready on :80")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_log_wait_that_times_out_reports_a_timeout_even_if_the_last_look_fails() {
        let pattern = LogPattern::new("never").unwrap();
        let (mut w, t0) = waiter(
            Condition::Log(pattern),
            Some(Duration::from_secs(1)),
            EngineKind::Podman,
        );
        w.step(Reply::Start, t0);
        w.step(Reply::Followed(Ok(())), t0);
        let later = t0 + Duration::from_secs(1);
        assert!(matches!(
            w.step(Reply::Line(Next::TimedOut), later),
            Request::Inspect(Some(REPORT_TIME))
        ));
        let gone = Error::new(ErrorKind::NotFound, "no such container: web");
        match w.step(Reply::Inspected(Err(gone)), later) {
            Request::Done(Err(e)) => assert_eq!(e.kind(), ErrorKind::Timeout, "{e}"),
            other => panic!("{other:?}"),
        }
    }
}

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
//! Probes back off (100 ms, doubling, at most 1 s) through
//! [`exec::sleep`](crate::exec::sleep); every engine child is reaped before
//! the wait returns, and SIGINT/SIGTERM ends it (when signal handling is
//! installed).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Containers;
use crate::container::logs::{LogLine, LogOptions};
use crate::container::{inspect_plan, Container, HealthStatus, Status};
use crate::decode::time::Timestamp;
use crate::engine::drive::{Blocking, Driver};
use crate::engine::plan::{Effect, Plan};
use crate::engine::stream::Next;
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::input::Protocol;
use crate::input::{ContainerRef, HttpPath, HttpStatus, LogPattern, ProbePort, Tail, TimeSpec};

/// First pause between probes; it doubles up to [`MAX_PROBE_GAP`].
const FIRST_PROBE_GAP: Duration = Duration::from_millis(100);
/// Longest pause between probes.
const MAX_PROBE_GAP: Duration = Duration::from_secs(1);
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

/// Where a probe of container port `port` goes — the ONE place that picks
/// it, for `--port` and `--http`: the host sockets the port is published on,
/// probed on loopback (a wildcard `0.0.0.0`/`::` as `127.0.0.1`/`::1`; a
/// binding to another host address is skipped); when it is not published
/// there, the port on each of the container's IPs whose network has its
/// gateway on this machine (a bridge here), and nowhere else.
///
/// ```
/// # let doc = std::fs::read("vendor-docs/captures/docker/containers-inspect-full.json").unwrap();
/// let c = &dockhand::container::parse_inspect(&doc).unwrap()[0];
/// let port = dockhand::input::ProbePort::new(8080).unwrap();
/// assert!(dockhand::container::wait::probe_addresses(c, port).iter().all(|a| a.ip().is_loopback()));
/// ```
pub fn probe_addresses(c: &Container, port: ProbePort) -> Vec<SocketAddr> {
    let published: Vec<SocketAddr> = c
        .ports
        .iter()
        .filter(|b| b.container_port == port.number() && b.protocol == Protocol::Tcp)
        .filter(|b| b.host_port != 0)
        .filter_map(|b| {
            let ip = match b.host_ip.as_str() {
                "" | "0.0.0.0" => IpAddr::V4(Ipv4Addr::LOCALHOST),
                "::" => IpAddr::V6(Ipv6Addr::LOCALHOST),
                other => other.parse().ok().filter(IpAddr::is_loopback)?,
            };
            Some(SocketAddr::new(ip, b.host_port))
        })
        .collect();
    if !published.is_empty() {
        return published;
    }
    c.networks
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
        .collect()
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
    Answered(HttpSeen),
    Healthchecked(Result<bool>),
    Slept(Result<()>),
    Followed(Result<()>),
    Line(Next<LogLine>),
    LastLine(Option<String>),
}

/// What a probe round concluded.
enum Verdict {
    Holds,
    NotYet,
    Connect(Vec<SocketAddr>),
    Get(Vec<SocketAddr>),
    RunHealthcheck,
    Never(Error),
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
    started: Instant,
    timeout: Option<Duration>,
    gap: Duration,
    since: Option<Timestamp>,
    phase: Phase,
    obs: Observation,
}

impl Waiter {
    pub(crate) fn new(
        name: &ContainerRef,
        condition: &Condition,
        timeout: Option<Duration>,
        kind: EngineKind,
        started: Instant,
    ) -> Waiter {
        Waiter {
            condition: condition.clone(),
            kind,
            started,
            timeout,
            gap: FIRST_PROBE_GAP,
            since: None,
            phase: Phase::Probing,
            obs: Observation {
                container: name.to_string(),
                condition: condition.describe(),
                status: None,
                health: None,
                exit_code: None,
                address: None,
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
                    Verdict::NotYet => self.pause(now),
                    Verdict::Connect(addresses) => Request::Connect(addresses),
                    Verdict::Get(addresses) => match &self.condition {
                        Condition::Http(h) => Request::Get(addresses, Box::new(h.clone())),
                        _ => Request::Connect(addresses),
                    },
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
            Reply::Healthchecked(Err(e)) | Reply::Slept(Err(e)) | Reply::Followed(Err(e)) => {
                Request::Done(Err(e))
            }
            Reply::Slept(Ok(())) if is_log => Request::Follow(self.since),
            Reply::Slept(Ok(())) => Request::Inspect(self.probe_time(now)),
            Reply::Followed(Ok(())) => Request::NextLine(self.deadline()),
            Reply::Line(Next::Item(Ok(line))) => self.saw_line(&line),
            Reply::Line(Next::Item(Err(e))) => Request::Done(Err(e)),
            // The log ended: the container stopped. It may be restarted.
            Reply::Line(Next::End) => self.pause(now),
            Reply::Line(Next::TimedOut) => self.report(),
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
            Condition::Port(port) if running => match probe_addresses(c, *port) {
                addresses if addresses.is_empty() => Verdict::NotYet,
                addresses => Verdict::Connect(addresses),
            },
            Condition::Http(h) if running => {
                let port = match h.port {
                    Some(p) => p,
                    None => match http_port(c, &self.obs.container) {
                        Ok(p) => p,
                        Err(e) => return Verdict::Never(e),
                    },
                };
                match probe_addresses(c, port) {
                    addresses if addresses.is_empty() => Verdict::NotYet,
                    addresses => Verdict::Get(addresses),
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

    /// The [`Waiter`]'s requests carried out by either driver.
    async fn wait_with<D: Driver>(
        &self,
        driver: &D,
        name: &ContainerRef,
        condition: &Condition,
        timeout: Option<Duration>,
    ) -> Result<Observation> {
        let names = std::slice::from_ref(name);
        let mut waiter = Waiter::new(name, condition, timeout, self.engine.kind(), Instant::now());
        let mut reply = Reply::Start;
        let mut lines = None;
        loop {
            let request = waiter.step(reply, Instant::now());
            if !matches!(request, Request::NextLine(_)) {
                // Reap the log follower before anything else happens.
                lines = None;
            }
            reply = match request {
                Request::Done(result) => return result,
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
        (Waiter::new(&name, &condition, timeout, kind, start), start)
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
        let mut req = w.step(Reply::Inspected(Ok(Box::new(exited.clone()))), now);
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

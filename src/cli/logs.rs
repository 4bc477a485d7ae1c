//! `logs`, `events` and `wait-for`.

use std::io::{BufWriter, Write};

use clap::{ArgGroup, Args, Subcommand};

use super::{Global, Out};
use dockhand::container::logs::{LogLine, LogOptions, DEFAULT_MAX_LINE};
use dockhand::container::wait::{Condition, HttpProbe, Observation};
use dockhand::events::{Event, EventOptions};
use dockhand::exec::Pipe;
use dockhand::input::{
    ContainerRef, EventFilter, HttpPath, HttpStatus, LogPattern, ProbePort, Tail, TimeSpec,
};
use dockhand::Error;

/// Observation subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Print container logs: the container's stdout on stdout, its stderr on
    /// stderr (with --json: one JSON object per line on stdout).
    #[command(
        after_help = "Examples:\n  dockhand logs --tail 100 web\n  dockhand logs -f --since 5m web db\n  dockhand --json logs web"
    )]
    Logs(LogsArgs),
    /// Print engine events (type, action, object, time) as they happen; with
    /// --until, the events up to then.
    #[command(
        after_help = "Examples:\n  dockhand events --filter container=web\n  dockhand --json events --since 10m --until 0s"
    )]
    Events(EventsArgs),
    /// Wait until a container is running, healthy, exited, accepting TCP
    /// connections on a port, answering an HTTP GET, or has logged a matching
    /// line. --timeout bounds the whole wait (default 30s, 0 = none); on
    /// timeout exit 124 saying what was last observed.
    #[command(
        after_help = "Examples:\n  dockhand wait-for web --running\n  dockhand --timeout 2m wait-for web --http /health\n  dockhand wait-for web --http /ready --status 204 --port 8080\n  dockhand wait-for web --port 5432\n  dockhand wait-for web --log 'listening on'"
    )]
    WaitFor(WaitArgs),
}

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it can).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Logs(a) if a.follow => {
                Some("`logs -f` follows without end: leave out -f, or run it per host")
            }
            Command::Events(a) if a.until.is_none() => {
                Some("`events` without --until follows without end: give --until")
            }
            _ => None,
        }
    }
}

// Arguments of `logs`. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// Containers (names or ids); several are merged as their lines arrive.
    #[arg(required = true, value_name = "NAME")]
    names: Vec<ContainerRef>,
    /// Only the last N lines of each container (or `all`).
    #[arg(long, default_value = "all", value_name = "N|all")]
    tail: Tail,
    /// Only lines since this time (RFC 3339, epoch seconds, or a duration ago: 10m).
    #[arg(long, value_name = "TIME")]
    since: Option<TimeSpec>,
    /// Only lines before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    until: Option<TimeSpec>,
    /// Prefix each line with the engine's timestamp (always on with --json).
    #[arg(short = 't', long)]
    timestamps: bool,
    /// Keep printing new lines until the containers stop (or Ctrl-C).
    #[arg(short = 'f', long)]
    follow: bool,
    /// Longest line printed in one piece, in bytes; longer lines are split.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE, value_name = "BYTES")]
    max_line: usize,
}

// Arguments of `events`. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Args, Debug, Clone)]
pub struct EventsArgs {
    /// KEY=VALUE: container, event (docker's words: die, destroy …), image,
    /// label, network, pod, type, volume …; repeat for several.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    filters: Vec<EventFilter>,
    /// Events since this time (RFC 3339, epoch seconds, or a duration ago: 10m).
    #[arg(long, value_name = "TIME")]
    since: Option<TimeSpec>,
    /// Stop at this time; without it, print events until Ctrl-C.
    #[arg(long, value_name = "TIME")]
    until: Option<TimeSpec>,
}

// Arguments of `wait-for`: the container and exactly one condition. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("condition").required(true).multiple(true).args(["running", "healthy", "exit", "port", "log", "http"])))]
pub struct WaitArgs {
    /// The container (name or id).
    name: ContainerRef,
    /// Its process runs.
    #[arg(long)]
    running: bool,
    /// Its healthcheck reports healthy (podman: dockhand runs the check).
    #[arg(long)]
    healthy: bool,
    /// It has stopped (exited or dead); prints the exit code.
    #[arg(long)]
    exit: bool,
    /// A TCP connection is accepted on the host port PORT is published on
    /// (probed on 127.0.0.1), or on the container's IP when it is not
    /// published. With a remote engine: the published port at the remote
    /// host's address, else a listening socket inside the container (the
    /// output says which). With --http: the port to GET from.
    #[arg(long, value_name = "PORT[/tcp]")]
    port: Option<ProbePort>,
    /// A log line (existing or new, stdout or stderr) matches REGEX.
    #[arg(long, value_name = "REGEX")]
    log: Option<LogPattern>,
    /// An HTTP GET of PATH answers 2xx (or --status), on --port or the one
    /// TCP port the container publishes; probed where --port connects.
    #[arg(long, value_name = "PATH")]
    http: Option<HttpPath>,
    /// With --http: the status to wait for (default: any 2xx).
    #[arg(long, value_name = "CODE", requires = "http")]
    status: Option<HttpStatus>,
}

/// Run one subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    match cmd {
        Command::Logs(args) => logs(args, global, out),
        Command::Events(args) => events(args, global, out),
        Command::WaitFor(args) => wait_for(args, global, out),
    }
}

/// `dockhand logs`: stream lines as they come; the first engine failure ends it.
fn logs(args: LogsArgs, global: &Global, out: &Out) -> Result<i32, Error> {
    let engine = global.engine()?;
    let opts = LogOptions {
        tail: args.tail,
        since: args.since,
        until: args.until,
        timestamps: args.timestamps || out.is_json(),
        follow: args.follow,
        max_line: args.max_line,
    };
    let prefix_names = args.names.len() > 1;
    let mut stdout = BufWriter::new(out.stdout());
    let mut stderr = BufWriter::new(out.stderr());
    let mut lines = engine.containers().log_lines(&args.names, &opts)?;
    // One buffer for every JSON line (no serializer, no allocation per line).
    let mut json = Vec::with_capacity(512);
    while let Some(line) = lines.next() {
        let line = line?;
        let written = if out.has_format() {
            match out.record(&mut stdout, &line)? {
                true => Ok(()),
                false => return Ok(0),
            }
        } else if out.is_json() {
            json.clear();
            line.push_json(&mut json);
            json.push(b'\n');
            stdout.write_all(&json)
        } else {
            let target: &mut dyn Write = match line.stream {
                Pipe::Stdout => &mut stdout,
                Pipe::Stderr => &mut stderr,
            };
            write_text(target, &line, prefix_names, args.timestamps)
        };
        // Its buffer takes a later line: no allocation per line.
        lines.recycle(line.message);
        // A closed stdout (`| head`) ends the command quietly.
        if written.is_err() {
            return Ok(0);
        }
        // Following: people and pipes want each line as soon as it exists,
        // so flush before waiting for the next one (not after every line of
        // a burst: that was one write per line, half of dockhand's own time).
        if args.follow && !lines.has_ready() && (stdout.flush().is_err() || stderr.flush().is_err())
        {
            return Ok(0);
        }
    }
    let _ = (stdout.flush(), stderr.flush());
    Ok(0)
}

/// `[name | ][timestamp ]message`: lossy text, one line per record.
fn write_text(
    w: &mut dyn Write,
    line: &LogLine,
    name: bool,
    timestamp: bool,
) -> std::io::Result<()> {
    if name {
        write!(w, "{} | ", line.container)?;
    }
    if let (true, Some(t)) = (timestamp, line.timestamp) {
        write!(w, "{t} ")?;
    }
    writeln!(w, "{}", line.text())
}

/// `dockhand events`: one line (or JSON object) per event, flushed at once.
fn events(args: EventsArgs, global: &Global, out: &Out) -> Result<i32, Error> {
    let engine = global.engine()?;
    let opts = EventOptions {
        filters: args.filters,
        since: args.since,
        until: args.until,
    };
    let mut stdout = out.stdout();
    for event in engine.system().event_stream(&opts)? {
        let event = event?;
        let written = match out.is_json() {
            true => out.record(&mut stdout, &event)?,
            false => writeln!(stdout, "{}", event_text(&event)).is_ok(),
        };
        if !written || stdout.flush().is_err() {
            return Ok(0);
        }
    }
    Ok(0)
}

/// `TIME TYPE ACTION[: DETAIL] NAME (ID) [exit code N]`.
fn event_text(e: &Event) -> String {
    let mut text = format!(
        "{} {} {}",
        e.time,
        e.object_type.as_str(),
        e.action.as_str()
    );
    if !e.detail.is_empty() {
        text.push_str(&format!(": {}", e.detail));
    }
    let id: String = e.actor_id.chars().take(12).collect();
    match (e.name.is_empty(), id.is_empty()) {
        (false, false) => text.push_str(&format!(" {} ({id})", e.name)),
        (false, true) => text.push_str(&format!(" {}", e.name)),
        (true, _) => text.push_str(&format!(" {id}")),
    }
    if let Some(code) = e.exit_code {
        text.push_str(&format!(" exit code {code}"));
    }
    text
}

/// `dockhand wait-for`: one line (or JSON object) saying what held.
fn wait_for(args: WaitArgs, global: &Global, out: &Out) -> Result<i32, Error> {
    // One condition; --port goes with --http as its port.
    let given = [
        args.running,
        args.healthy,
        args.exit,
        args.port.is_some() && args.http.is_none(),
        args.log.is_some(),
        args.http.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(Error::invalid_input(
            "wait-for takes one condition: --running, --healthy, --exit, --port, --log or --http (with --port)",
        ));
    }
    let condition = match (args.http, args.port, args.log) {
        (Some(path), port, _) => Condition::Http(HttpProbe {
            path,
            status: args.status,
            port,
        }),
        (None, Some(port), _) => Condition::Port(port),
        (None, None, Some(pattern)) => Condition::Log(pattern),
        _ if args.healthy => Condition::Healthy,
        _ if args.exit => Condition::Exited,
        _ => Condition::Running,
    };
    let timeout = global.command_timeout();
    let seen = global
        .engine()?
        .containers()
        .wait_for(&args.name, &condition, timeout)?;
    if out.is_json() {
        out.json(&seen);
    } else {
        out.line(observation_text(&seen));
    }
    Ok(0)
}

/// `web: port 80/tcp (127.0.0.1:32771, published port on this machine) after 1.2s`.
fn observation_text(o: &Observation) -> String {
    let detail = match (&o.address, o.exit_code, &o.last_line) {
        (Some(addr), _, _) => {
            let answered = o.http_status.map(|s| format!(" answered {s}"));
            match o.via {
                Some(via) => format!(
                    " ({addr}{}, {})",
                    answered.unwrap_or_default(),
                    via.describe()
                ),
                None => format!(" ({addr}{})", answered.unwrap_or_default()),
            }
        }
        (None, _, _) if o.via.is_some() => {
            format!(" ({})", o.via.map_or("", |v| v.describe()))
        }
        (_, Some(code), _) => format!(" (exit code {code})"),
        (_, _, Some(line)) if o.condition.starts_with("log") => format!(" ({line:?})"),
        _ => String::new(),
    };
    format!(
        "{}: {}{detail} after {:.1}s",
        o.container,
        o.condition,
        o.waited_ms as f64 / 1000.0
    )
}

//! What runs in containers and what it changed: `stats`, `top`, `diff`,
//! `attach`.

use std::io::Write;

use clap::Subcommand;

use super::{Global, Out};
use dockhand::container::{AttachOptions, Stats};
use dockhand::input::{ContainerRef, DetachKeys, TopField};
use dockhand::Error;

/// Subcommands about containers' processes, usage and file changes.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// CPU, memory, network and block I/O of containers: one sample of all
    /// of them in one engine call (--stream: a sample every second or so
    /// until Ctrl-C). Missing names are reported (exit 3) after the others.
    #[command(
        after_help = "Examples:\n  dockhand stats web db\n  dockhand --json stats web | jq '.[0].memory_bytes'\n  dockhand --json stats --stream web"
    )]
    Stats {
        /// Container names or ids.
        #[arg(required = true)]
        names: Vec<ContainerRef>,
        /// Keep sampling (with --json: one JSON object per container and sample).
        #[arg(long)]
        stream: bool,
    },
    /// The processes of a running container.
    #[command(
        after_help = "Examples:\n  dockhand top web\n  dockhand top web --fields pid,user,args\n  dockhand --json top web"
    )]
    Top {
        /// Container name or id.
        name: ContainerRef,
        /// Columns, comma separated: pid, ppid, pgid, user, ruser, group,
        /// rgroup, args, comm, pcpu, etime, time, tty, nice, vsz (pid is added
        /// when missing). PIDs are the host's on docker, the container's on podman.
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        fields: Vec<TopField>,
    },
    /// What changed in a container's filesystem since it was created: `A`
    /// added, `C` changed, `D` deleted, sorted by path.
    #[command(after_help = "Examples:\n  dockhand diff web\n  dockhand --json diff web")]
    Diff {
        /// Container name or id.
        name: ContainerRef,
    },
    /// Attach this terminal to a running container's main process. The
    /// detach keys (default ctrl-p ctrl-q, typed one after the other) leave
    /// it running and exit 0; otherwise dockhand exits with its exit code.
    #[command(
        after_help = "Examples:\n  dockhand attach web\n  dockhand attach --detach-keys ctrl-a,x web\n  dockhand attach --no-stdin web"
    )]
    Attach {
        /// Container name or id.
        name: ContainerRef,
        /// Keys that detach, comma separated (letters and ctrl-X).
        #[arg(long, value_name = "KEYS")]
        detach_keys: Option<DetachKeys>,
        /// Only watch: do not pass this terminal's input on.
        #[arg(long)]
        no_stdin: bool,
    },
}

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it can).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Stats { stream: true, .. } => {
                Some("`stats --stream` samples without end: leave out --stream, or run it per host")
            }
            Command::Attach { .. } => Some("`attach` attaches this terminal: run it per host"),
            _ => None,
        }
    }
}

/// Run one subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let engine = global.engine()?;
    match cmd {
        Command::Stats {
            names,
            stream: false,
        } => {
            let seen = engine.containers().stats(&names)?;
            match out.is_json() {
                true => out.json(&seen.items),
                false => {
                    out.line(stats_header());
                    seen.items.iter().for_each(|s| out.line(stats_line(s)));
                }
            }
            seen.into_result().map(|_| 0)
        }
        Command::Stats {
            names,
            stream: true,
        } => {
            let frames = engine.containers().stats_stream(&names)?;
            let mut stdout = std::io::stdout().lock();
            if !out.is_json() && writeln!(stdout, "{}", stats_header()).is_err() {
                return Ok(0);
            }
            for frame in frames {
                for s in frame? {
                    let written = match out.is_json() {
                        true => out.record(&mut stdout, &s)?,
                        false => writeln!(stdout, "{}", stats_line(&s)).is_ok(),
                    };
                    // A closed stdout (`| head`) ends the stream quietly.
                    if !written || stdout.flush().is_err() {
                        return Ok(0);
                    }
                }
            }
            Ok(0)
        }
        Command::Top { name, fields } => {
            let p = engine.containers().top(&name, &fields)?;
            match out.is_json() {
                true => out.json(&p),
                false => {
                    let widths: Vec<usize> = (0..p.titles.len())
                        .map(|i| {
                            p.processes
                                .iter()
                                .filter_map(|r| r.get(i))
                                .chain(std::iter::once(&p.titles[i]))
                                .map(|v| v.chars().count())
                                .max()
                                .unwrap_or(0)
                        })
                        .collect();
                    let line = |cells: &[String]| {
                        let mut text = String::new();
                        for (i, cell) in cells.iter().enumerate() {
                            match i + 1 == cells.len() {
                                true => text.push_str(cell),
                                false => text.push_str(&format!("{cell:<w$}  ", w = widths[i])),
                            }
                        }
                        text
                    };
                    out.line(line(&p.titles));
                    p.processes.iter().for_each(|r| out.line(line(r)));
                }
            }
            Ok(0)
        }
        Command::Diff { name } => {
            let changes = engine.containers().diff(&name)?;
            match out.is_json() {
                true => out.json(&changes),
                false => changes
                    .iter()
                    .for_each(|c| out.line(format!("{} {}", c.kind.letter(), c.path))),
            }
            Ok(0)
        }
        Command::Attach {
            name,
            detach_keys,
            no_stdin,
        } => {
            let opts = AttachOptions {
                stdin: !no_stdin,
                detach_keys,
            };
            let ended = engine.containers().attach(&name, &opts)?;
            if out.is_json() {
                // stdout was the container's: the summary goes to stderr.
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    serde_json::json!({"name": name, "attached": ended})
                );
            }
            Ok(ended.exit_code())
        }
    }
}

fn stats_header() -> String {
    format!(
        "{:<24}  {:>7}  {:>21}  {:>6}  {:>19}  {:>19}  {:>4}",
        "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"
    )
}

fn stats_line(s: &Stats) -> String {
    let pct = |p: Option<f64>| p.map_or("--".into(), |p| format!("{p:.2}%"));
    let pair = |a: Option<u64>, b: Option<u64>| format!("{} / {}", human(a), human(b));
    format!(
        "{:<24}  {:>7}  {:>21}  {:>6}  {:>19}  {:>19}  {:>4}",
        s.name,
        pct(s.cpu_percent),
        pair(s.memory_bytes, s.memory_limit_bytes),
        pct(s.memory_percent),
        pair(s.net_rx_bytes, s.net_tx_bytes),
        pair(s.block_read_bytes, s.block_write_bytes),
        s.pids.map_or("--".into(), |p| p.to_string())
    )
}

/// A byte count in binary units, three significant digits: `316KiB`, `1.5GiB`.
pub fn human(bytes: Option<u64>) -> String {
    let Some(b) = bytes else {
        return "--".into();
    };
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = b as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{b}B"),
        _ if value >= 100.0 => format!("{value:.0}{}", UNITS[unit]),
        _ if value >= 10.0 => format!("{value:.1}{}", UNITS[unit]),
        _ => format!("{value:.2}{}", UNITS[unit]),
    }
}

//! The `dockhand` command line: a thin shell over the library.
//!
//! It parses arguments, builds an [`Engine`], calls one library function and
//! prints the result as text or (`--json`) as stable JSON. Errors become exit
//! codes through one table ([`exit_code`]).

mod activity;
mod app;
mod build;
mod completions;
mod container;
mod daemon_config;
mod disk;
mod fleet;
mod format;
mod image;
mod link;
mod logging;
mod logs;
mod netns;
mod network;
mod output;
mod registry;
mod run_args;
mod startup;
mod system;
mod volume;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use dockhand::engine::retry::RetryPolicy;
use dockhand::engine::ssh::SshSharing;
use dockhand::engine::Mode;
use dockhand::fleet::Selector;
use dockhand::image::TRANSFER_TIMEOUT;
use dockhand::input::parse_duration;
use dockhand::{Engine, Error, ErrorKind};

pub use output::Out;

/// `--timeout` when not given.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The parsed command line. Its clap definition is [`startup::top`] plus
/// [`Global`] and [`Command`]; startup.rs builds only what an invocation needs.
#[derive(Debug)]
pub struct Cli {
    pub global: Global,
    pub command: Command,
}

/// Options every subcommand takes, under their own heading in every help.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Engine command, split like a shell would: `docker`, `podman`, `sudo -n docker`.
    #[arg(long, global = true, env = "DOCKHAND_ENGINE", value_name = "CMD")]
    pub engine: Option<String>,
    /// Daemon endpoint (docker --host, podman --url).
    #[arg(short = 'H', long, global = true, value_name = "URL")]
    pub host: Option<String>,
    /// Engine context (docker --context, podman --connection).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// ssh key for an engine reached over ssh (podman --identity; docker:
    /// `ssh -i KEY` through dockhand's ssh wrapper).
    #[arg(long, global = true, value_name = "KEY")]
    pub identity: Option<PathBuf>,
    /// docker over ssh: keep one shared ssh connection per host open this
    /// long after the last call (ControlMaster/ControlPersist; 0 = no sharing) [default: 60s].
    #[arg(long, global = true, env = "DOCKHAND_SSH_SHARE", value_parser = duration_arg, value_name = "DURATION")]
    pub ssh_share: Option<Duration>,
    /// Print results (and errors, on stderr) as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only these fields of the JSON result, one line per item:
    /// `{{.state.pid}}`, `{{.name}} {{.status}}` (README "Values without jq").
    #[arg(long, global = true, value_name = "TEMPLATE", value_parser = format::Template::parse)]
    pub format: Option<format::Template>,
    /// Time limit of each engine command (e.g. 500ms, 30s, 2m; 0 = none) [default: 30s;
    /// transfers (pull, push, build, import, save, load): 30m each attempt].
    #[arg(long, global = true, value_name = "DURATION", value_parser = duration_arg)]
    pub timeout: Option<Duration>,
    /// Attempts for transient failures (1 = no retry) [default: 3].
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub retries: Option<u32>,
    /// First retry delay; doubles each time, with jitter [default: 1s].
    #[arg(long, global = true, value_name = "DURATION", value_parser = duration_arg)]
    pub retry_delay: Option<Duration>,
    /// Cap on each of stdout and stderr of an engine command, in bytes [default: 67108864].
    #[arg(long, global = true, value_name = "BYTES")]
    pub output_cap: Option<usize>,
    /// Print state-changing commands (shell-quoted, on stderr) instead of running them.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Log each command (shell-quoted) and its duration. RUST_LOG=debug works too.
    /// (No short form: `-v` is `run`'s `--volume`, as in docker.)
    #[arg(long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Run on these hosts: ssh URLs, docker contexts or podman connections, comma-separated.
    #[arg(long, global = true, value_name = "A,B,…", conflicts_with_all = ["host", "context", "fleet"], help_heading = "Fleet")]
    pub hosts: Option<String>,
    /// Run on the hosts of this fleet file (TOML or JSON: name, url or context, groups, labels; `-`: stdin).
    #[arg(long, global = true, value_name = "FILE", conflicts_with_all = ["host", "context"], help_heading = "Fleet")]
    pub fleet: Option<PathBuf>,
    /// Only the fleet's hosts with KEY=VALUE (group=G, name=N, or a label); repeat: all must hold.
    #[arg(long, global = true, value_name = "KEY=VALUE", help_heading = "Fleet")]
    pub select: Vec<Selector>,
    /// Hosts working at once [default: 10].
    #[arg(long, global = true, value_name = "N", value_parser = positive, help_heading = "Fleet")]
    pub parallel: Option<usize>,
    /// Rolling: batches of N hosts, each once the last succeeded (stops after --max-failures, default 1).
    #[arg(long, global = true, value_name = "N", value_parser = positive, help_heading = "Fleet")]
    pub rolling: Option<usize>,
    /// Start no more hosts once K have failed (default: no limit; with --rolling 1).
    #[arg(long, global = true, value_name = "K", value_parser = positive, help_heading = "Fleet")]
    pub max_failures: Option<usize>,
    /// The engine of one fleet host (set by the fleet runner, not a flag).
    #[arg(skip)]
    pub fleet_engine: Option<Engine>,
}

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a number from 1 to 100000")),
    }
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.message().to_string())
}

/// The subcommands. Each area (system, containers, images, …) has its own
/// module with its own `Command` enum, flattened in here, and its own `run`.
#[derive(Subcommand, Debug, Clone)]
// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    #[command(flatten)]
    System(system::Command),
    #[command(flatten)]
    Netns(netns::Command),
    #[command(flatten)]
    Link(link::Command),
    #[command(flatten)]
    Image(image::Command),
    #[command(flatten)]
    Registry(registry::Command),
    #[command(flatten)]
    Build(build::Command),
    #[command(flatten)]
    Network(network::Command),
    #[command(flatten)]
    Volume(volume::Command),
    #[command(flatten)]
    DaemonConfig(daemon_config::Command),
    #[command(flatten)]
    Container(container::Command),
    #[command(flatten)]
    Logs(logs::Command),
    #[command(flatten)]
    Activity(activity::Command),
    #[command(flatten)]
    Disk(disk::Command),
    #[command(flatten)]
    App(app::Command),
    #[command(flatten)]
    Completions(completions::Command),
}

impl Global {
    /// The time limit of a quick engine command: `--timeout`, 30 s when not given.
    pub fn command_timeout(&self) -> Option<Duration> {
        let t = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        (!t.is_zero()).then_some(t)
    }

    /// The time limit of each attempt of a transfer (pull, push, build,
    /// import, save, load): the command's own `--max-time`, else `--timeout`
    /// when given, else [`TRANSFER_TIMEOUT`]; 0 = none.
    pub fn transfer_timeout(&self, max_time: Option<Duration>) -> Option<Duration> {
        let t = max_time.or(self.timeout).unwrap_or(TRANSFER_TIMEOUT);
        (!t.is_zero()).then_some(t)
    }

    /// The engine these options describe.
    pub fn engine(&self) -> Result<Engine, Error> {
        if let Some(member) = &self.fleet_engine {
            return Ok(member.clone());
        }
        let engine = match &self.engine {
            Some(cmd) => Engine::from_command(cmd)?,
            None => Engine::detect()?,
        };
        let mode = if self.dry_run {
            Mode::DryRun(Arc::new(|cmd| {
                let _ = writeln!(std::io::stderr(), "dry-run: {cmd}");
            }))
        } else {
            Mode::Execute
        };
        // The library's defaults stand for options not given: as clap
        // defaults they were parsed and copied into every subcommand's
        // matches on each call, 10 % of a short command's own instructions
        // (docs/bench.md, session 7).
        let share = self
            .ssh_share
            .unwrap_or(dockhand::engine::ssh::DEFAULT_PERSIST);
        let retry = RetryPolicy::default();
        Ok(engine
            .with_host(self.host.clone())
            .with_context(self.context.clone())
            .with_identity(self.identity.clone())
            .with_ssh_sharing((!share.is_zero()).then(|| SshSharing::new(share)))
            .with_timeout(self.command_timeout())
            .with_output_cap(
                self.output_cap
                    .unwrap_or(dockhand::exec::DEFAULT_OUTPUT_CAP),
            )
            .with_retry(RetryPolicy {
                attempts: self.retries.unwrap_or(retry.attempts),
                initial_delay: self.retry_delay.unwrap_or(retry.initial_delay),
                seed: u64::from(std::process::id()),
                ..retry
            })
            .with_mode(mode))
    }
}

impl Global {
    /// Whether an endpoint was chosen on the command line or in the
    /// environment (commands that never ask the engine check only then).
    pub fn names_an_endpoint(&self) -> bool {
        self.host.is_some()
            || self.context.is_some()
            || [
                "DOCKER_HOST",
                "DOCKER_CONTEXT",
                "CONTAINER_HOST",
                "CONTAINER_CONNECTION",
            ]
            .iter()
            .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
    }
}

/// Ask before removing what `summary` describes: yes/no on a terminal;
/// without one, refuse (InvalidInput, exit 2) and point at `--yes`. `verb`
/// names the command in the answer to a "no".
pub fn confirm(summary: &str, verb: &str) -> Result<(), Error> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid_input(format!(
            "{summary}; refusing without --yes"
        )));
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{summary}\nRemove them? [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::invalid_input(format!("cannot read the answer: {e}")))?;
    match answer.trim() {
        "y" | "Y" | "yes" => Ok(()),
        _ => Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{verb} cancelled"),
        )),
    }
}

/// Exit code of `exit-code` and `wait` for a container that never ran
/// (created and never started, or its start failed): the README's table.
pub const NEVER_RAN: i32 = 6;

/// dockhand's exit code for an error kind (the README's table).
pub fn exit_code(err: &Error) -> i32 {
    match err.kind() {
        ErrorKind::InvalidInput => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Unreachable | ErrorKind::PermissionDenied => 4,
        ErrorKind::Conflict => 5,
        ErrorKind::Timeout => 124,
        ErrorKind::EngineMissing => 127,
        ErrorKind::Interrupted => 128 + err.status().and_then(signal_of).unwrap_or(2),
        _ => 1,
    }
}

fn signal_of(status: dockhand::ExitStatus) -> Option<i32> {
    match status {
        dockhand::ExitStatus::Signal(s) => Some(s),
        dockhand::ExitStatus::Code(_) => None,
    }
}

/// Parse arguments, run, print; returns the process exit code.
pub fn main() -> i32 {
    let cli = match startup::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => return parse_error(&e),
    };
    logging::init(cli.global.verbose);
    if let Err(e) = dockhand::exec::signals::install() {
        log::warn!("cannot install signal handlers: {e}");
    }
    let out = Out::new(cli.global.json, cli.global.format.clone());
    let result = match cli.command {
        Command::Completions(cmd) => completions::run(cmd),
        command if cli.global.hosts.is_some() || cli.global.fleet.is_some() => {
            fleet::run(command, &cli.global, &out)
        }
        command => dispatch(command, &cli.global, &out),
    };
    match result.and_then(|code| out.take_format_error().map_or(Ok(code), Err)) {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            exit_code(&err)
        }
    }
}

/// Run one subcommand against the engine `global` describes.
fn dispatch(command: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    match command {
        Command::System(cmd) => system::run(cmd, global, out),
        Command::Netns(cmd) => netns::run(cmd, global, out),
        Command::Link(cmd) => link::run(cmd, global, out),
        Command::Image(cmd) => image::run(cmd, global, out),
        Command::Registry(cmd) => registry::run(cmd, global, out),
        Command::Build(cmd) => build::run(cmd, global, out),
        Command::Network(cmd) => network::run(cmd, global, out),
        Command::Volume(cmd) => volume::run(cmd, global, out),
        Command::DaemonConfig(cmd) => daemon_config::run(cmd, global, out),
        Command::Logs(cmd) => logs::run(cmd, global, out),
        Command::Container(cmd) => container::run(cmd, global, out),
        Command::Activity(cmd) => activity::run(cmd, global, out),
        Command::Disk(cmd) => disk::run(cmd, global, out),
        Command::App(cmd) => app::run(cmd, global, out),
        Command::Completions(cmd) => completions::run(cmd),
    }
}

/// Report an argument error like every other error: with `--json` the
/// documented JSON object on stderr, else clap's text (which names the flag
/// and the value); exit 2. `--help` and `--version` are not errors.
fn parse_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind as Clap;
    if matches!(e.kind(), Clap::DisplayHelp | Clap::DisplayVersion) {
        let _ = e.print();
        return 0;
    }
    // The arguments did not parse, so `--json` is looked for by hand: any
    // argument before `--` (a value that happens to be "--json" counts too).
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    match json {
        true => Out::new(true, None).error(&Error::invalid_input(parse_error_message(e))),
        false => {
            let _ = e.print();
        }
    }
    2
}

/// clap's error text without its `error: ` prefix, usage and help hint:
/// the message and its tips ("a similar subcommand exists: 'pull'") on one line.
fn parse_error_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut parts: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line.strip_prefix("error: ").unwrap_or(line));
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests;

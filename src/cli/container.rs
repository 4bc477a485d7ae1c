//! Container subcommands: run/create, lifecycle, queries, exec/cp/export,
//! commit/update, ps, cleanup and reset. Every argument is validated by
//! clap through dockhand's input types, so bad input exits 2 before any
//! engine call.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;

use super::run_args::SpecArgs;
use super::{duration_arg, exit_code, Global, Out};
use dockhand::container::{
    Action, ActionResult, AttachOptions, CommitOptions, Container, ExecOptions, ExitReport,
    IpVersion, PortBinding, PsQuery, PsRow, Status, UpdateOptions,
};
use dockhand::input::{
    ContainerPort, ContainerRef, CopyPath, Cpus, DetachKeys, EnvVar, ImageTag, KeyValue,
    MemorySize, NetworkName, Signal, Word,
};
use dockhand::{Engine, Error};

/// Container subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Create and start a container; with -d print its full id, else stream
    /// its output and exit with its exit code.
    #[command(
        after_help = "Examples:\n  dockhand run -d --name web -p 8080:80 --restart unless-stopped nginx:1.25\n  dockhand run --rm busybox echo hello\n  dockhand --format '{{.id}}' run -d --name job busybox sleep 60"
    )]
    Run {
        #[command(flatten)]
        spec: Box<SpecArgs>,
        /// Run in the background and print the full id.
        #[arg(short, long)]
        detach: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Create a container without starting it; print its full id.
    #[command(
        after_help = "Examples:\n  dockhand create --name web -p 8080:80 nginx:1.25\n  id=$(dockhand create --name job busybox sh -c 'echo hi') && dockhand start \"$id\""
    )]
    Create {
        #[command(flatten)]
        spec: Box<SpecArgs>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Start containers; with -a (one container) attach this terminal's
    /// output (and with -i its input) until it exits or is detached (exit 0).
    #[command(after_help = "Examples:\n  dockhand start web db\n  dockhand start -ai shell")]
    Start {
        #[command(flatten)]
        names: NamesArgs,
        /// Attach to its output (one container).
        #[arg(short, long)]
        attach: bool,
        /// With --attach: pass this terminal's input on.
        #[arg(short, long, requires = "attach")]
        interactive: bool,
        /// With --attach: keys that detach (default ctrl-p,ctrl-q).
        #[arg(long, value_name = "KEYS", requires = "attach")]
        detach_keys: Option<DetachKeys>,
    },
    /// Stop containers.
    #[command(after_help = "Examples:\n  dockhand stop web\n  dockhand stop -t 30 web db")]
    Stop {
        #[command(flatten)]
        names: NamesArgs,
        /// Seconds to wait before killing.
        #[arg(short = 't', long = "time", value_name = "SECS")]
        time: Option<u32>,
    },
    /// Restart containers.
    #[command(after_help = "Examples:\n  dockhand restart web db")]
    Restart(NamesArgs),
    /// Send a signal (default KILL) to containers.
    #[command(after_help = "Examples:\n  dockhand kill web\n  dockhand kill -s HUP web")]
    Kill {
        #[command(flatten)]
        names: NamesArgs,
        /// Signal name or number.
        #[arg(short, long)]
        signal: Option<Signal>,
    },
    /// Pause containers.
    #[command(after_help = "Examples:\n  dockhand pause web")]
    Pause(NamesArgs),
    /// Unpause containers.
    #[command(after_help = "Examples:\n  dockhand unpause web")]
    Unpause(NamesArgs),
    /// Remove containers; a missing one counts as removed ("absent").
    #[command(after_help = "Examples:\n  dockhand rm web\n  dockhand rm -f web db")]
    Rm {
        #[command(flatten)]
        names: NamesArgs,
        /// Also remove running containers.
        #[arg(short, long)]
        force: bool,
    },
    /// Wait until a container stops and print its exit code (--timeout limits
    /// the wait); exit 6 when it never ran.
    #[command(
        after_help = "Examples:\n  dockhand wait job\n  dockhand --timeout 10m --json wait job"
    )]
    Wait {
        /// Container name or id.
        name: ContainerRef,
    },
    /// Print the exit code of a stopped container; exit 6 (and JSON
    /// `"exit_code": null`) when it never started or its start failed, 5 while
    /// it still runs.
    #[command(
        after_help = "Examples:\n  code=$(dockhand exit-code job) || echo \"job never ran ($?)\"\n  dockhand --json exit-code job"
    )]
    ExitCode {
        /// Container name or id.
        name: ContainerRef,
    },
    /// Print the normalized description of containers (one engine call).
    #[command(
        after_help = "Examples:\n  dockhand inspect web\n  dockhand --format '{{.name}} {{.state.pid}}' inspect web db"
    )]
    Inspect {
        /// Container names or ids.
        #[arg(required = true)]
        names: Vec<ContainerRef>,
    },
    /// Print each container's status, or "missing" (one engine call); with
    /// one NAME just the status, with several "NAME STATUS" lines.
    #[command(
        after_help = "Examples:\n  [ \"$(dockhand status web)\" = running ] || dockhand start web\n  dockhand status web db cache\n  dockhand --json status web db"
    )]
    Status {
        /// Container names or ids.
        #[arg(required = true)]
        names: Vec<ContainerRef>,
    },
    /// Print the host pid of a container's main process.
    #[command(
        after_help = "Examples:\n  dockhand pid web\n  nsenter -t \"$(dockhand pid web)\" -n ip addr"
    )]
    Pid {
        /// Container name or id.
        name: ContainerRef,
    },
    /// Print a container's IP addresses (one per network).
    #[command(
        after_help = "Examples:\n  dockhand ip web\n  dockhand ip --network appnet web\n  dockhand ip --ipv6 web"
    )]
    Ip {
        /// Container name or id.
        name: ContainerRef,
        /// IPv6 instead of IPv4.
        #[arg(long = "ipv6")]
        ipv6: bool,
        /// Only this network.
        #[arg(long)]
        network: Option<Word>,
    },
    /// Print a container's actual port bindings (host address of one port
    /// when given; exit 3 when it is not published or the container has no
    /// process: podman's pre-allocated ports of a stopped container are not
    /// bindings). `port` is the same, as in docker.
    #[command(
        visible_alias = "port",
        after_help = "Examples:\n  dockhand ports web\n  dockhand port web 80\n  dockhand port web 53/udp\n  dockhand --json ports web"
    )]
    Ports {
        /// Container name or id.
        name: ContainerRef,
        /// PORT[/PROTO] inside the container.
        port: Option<ContainerPort>,
    },
    /// Print a container's gateway (one per network); without NAME, the
    /// gateway of --network (default: the engine's default bridge).
    #[command(
        after_help = "Examples:\n  dockhand gateway web\n  dockhand gateway --network appnet"
    )]
    Gateway {
        /// Container name or id.
        name: Option<ContainerRef>,
        /// Only this network.
        #[arg(long)]
        network: Option<String>,
    },
    /// Run a command in a running container; exits with its exit code.
    #[command(
        after_help = "Examples:\n  dockhand exec web cat /etc/hostname\n  dockhand exec -e TOKEN -u app web ./migrate\n  dockhand exec -it web sh"
    )]
    Exec {
        /// Container name or id.
        name: ContainerRef,
        /// KEY=VALUE, or KEY to pass dockhand's own value (kept out of argv).
        #[arg(short, long = "env", value_name = "KEY[=VALUE]")]
        env: Vec<String>,
        /// User.
        #[arg(short, long)]
        user: Option<Word>,
        /// Working directory.
        #[arg(short, long)]
        workdir: Option<Word>,
        /// Pass stdin through.
        #[arg(short, long)]
        interactive: bool,
        /// Allocate a terminal.
        #[arg(short, long)]
        tty: bool,
        /// Kill the command after this long (default: no limit).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        time_limit: Option<Duration>,
        /// Keys that detach from an -it session (default ctrl-p,ctrl-q); a
        /// detach exits 0 and leaves the command running.
        #[arg(long, value_name = "KEYS")]
        detach_keys: Option<DetachKeys>,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Copy files between the host and a container (CONTAINER:PATH on one side).
    #[command(
        after_help = "Examples:\n  dockhand cp ./app.conf web:/etc/app.conf\n  dockhand cp web:/var/log/app.log ./app.log"
    )]
    Cp {
        /// Source.
        src: CopyPath,
        /// Destination.
        dst: CopyPath,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Unpack a snapshot of a container's filesystem into DIR.
    #[command(after_help = "Examples:\n  dockhand export web ./web-rootfs")]
    Export {
        /// Container name or id.
        name: ContainerRef,
        /// Destination directory (created when missing).
        dir: PathBuf,
    },
    /// Commit a container to an image; print the image id.
    #[command(
        after_help = "Examples:\n  dockhand commit web app:snapshot -m 'before upgrade'\n  dockhand --json commit web app:snapshot"
    )]
    Commit {
        /// Container name or id.
        name: ContainerRef,
        /// IMAGE[:TAG].
        image: ImageTag,
        /// Commit message.
        #[arg(short, long)]
        message: Option<Word>,
        /// Author.
        #[arg(short, long)]
        author: Option<Word>,
    },
    /// Rename a container (holding the name locks of both names).
    #[command(
        after_help = "Examples:\n  dockhand rename web web-old\n  dockhand --json rename 3f2a web"
    )]
    Rename {
        /// Current name or id.
        old: ContainerRef,
        /// New name.
        new: ContainerRef,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Change a container's CPU and memory limits.
    #[command(after_help = "Examples:\n  dockhand update web --memory 256m --cpus 1.5")]
    Update {
        /// Container name or id.
        name: ContainerRef,
        /// CPU shares (relative weight).
        #[arg(long, value_name = "WEIGHT")]
        cpu_shares: Option<u64>,
        /// Number of CPUs.
        #[arg(long, value_name = "N")]
        cpus: Option<Cpus>,
        /// Memory limit (e.g. 64m).
        #[arg(long, value_name = "SIZE")]
        memory: Option<MemorySize>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List containers (running; all with -a) from one engine call: id,
    /// name, image, state, ports, networks, exit code, health (podman: also
    /// labels). --inspect gives the full typed view (one more call).
    #[command(
        after_help = "Examples:\n  dockhand ps -a -l app=web\n  dockhand --json ps --filter status=exited\n  dockhand --json ps -a --inspect\n  dockhand inspect $(dockhand ps -q -l app=web)"
    )]
    Ps {
        /// Include stopped containers.
        #[arg(short, long)]
        all: bool,
        /// Engine filter KEY=VALUE (status=exited, name=web …).
        #[arg(long = "filter", value_name = "KEY=VALUE")]
        filters: Vec<KeyValue>,
        /// Only containers with this label.
        #[arg(short, long = "label", value_name = "KEY=VALUE")]
        labels: Vec<KeyValue>,
        /// Print full ids only, one per line.
        #[arg(short, long, conflicts_with = "inspect")]
        quiet: bool,
        /// The full typed description of each (ps + one batched inspect).
        #[arg(long)]
        inspect: bool,
    },
    /// Remove stopped containers whose names start with PREFIX, keeping the newest N.
    #[command(after_help = "Examples:\n  dockhand cleanup --prefix job- --keep 3")]
    Cleanup {
        /// Name prefix.
        #[arg(long)]
        prefix: ContainerRef,
        /// How many of the newest to keep.
        #[arg(long, value_name = "N", default_value_t = 0)]
        keep: usize,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Force-remove all containers (--all) or those with labels (-l); needs --yes.
    #[command(
        after_help = "Examples:\n  dockhand reset -l app=web --yes\n  dockhand reset --all --yes"
    )]
    Reset {
        /// Every container of the engine.
        #[arg(long, conflicts_with = "labels")]
        all: bool,
        /// Only containers with this label.
        #[arg(
            short,
            long = "label",
            value_name = "KEY=VALUE",
            required_unless_present = "all"
        )]
        labels: Vec<KeyValue>,
        /// Do not ask.
        #[arg(short, long)]
        yes: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it can).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Run { detach: false, .. } => {
                Some("`run` without -d streams one container's output: use `run -d`, then `logs` or `wait`")
            }
            Command::Exec { .. } => Some("`exec` runs attached to this terminal: run it per host"),
            Command::Start { attach: true, .. } => {
                Some("`start --attach` attaches this terminal: start without it, then `logs` or `wait`")
            }
            Command::Export { .. } => Some("`export` unpacks into one local directory: run it per host"),
            Command::Cp {
                src: CopyPath::Container(..),
                dst: CopyPath::Host(_),
                ..
            } => Some("`cp` from containers to one local path would overwrite it per host: run it per host"),
            Command::Reset { yes: false, .. } => Some("`reset` on a fleet needs --yes (no host can ask)"),
            _ => None,
        }
    }
}

// Containers to act on, and how long to wait for their locks. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Args, Debug, Clone)]
pub struct NamesArgs {
    /// Container names or ids.
    #[arg(required = true)]
    names: Vec<ContainerRef>,
    #[command(flatten)]
    lock: LockArgs,
}

// `--lock-timeout` of mutating commands. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    /// How long to wait while another dockhand process changes the same container.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration_arg)]
    lock_timeout: Duration,
}

/// `-e` values: `KEY=VALUE`, or `KEY` taking the value from our own
/// environment (so a secret never has to be in anyone's argv).
pub(super) fn env_vars(args: &[String]) -> Result<Vec<EnvVar>, Error> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some(_) => EnvVar::parse(a),
            None => match std::env::var(a) {
                Ok(value) => EnvVar::new(a, &value),
                Err(_) => Err(Error::invalid_input(format!(
                    "-e {a}: {a} is not set in dockhand's environment (use {a}=VALUE or export it)"
                ))),
            },
        })
        .collect()
}

/// Run one container subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let engine = global.engine()?;
    match cmd {
        Command::Run { spec, detach, lock } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            let opts = spec.into_options()?;
            if detach {
                let id = engine.containers().run(&opts)?;
                print_created(&engine, out, &id)
            } else {
                // Attached: created under the lock, streamed without it.
                engine.containers().run_attached(&opts)
            }
        }
        Command::Create { spec, lock } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            let id = engine.containers().create(&spec.into_options()?)?;
            print_created(&engine, out, &id)
        }
        Command::Start {
            names,
            attach: false,
            ..
        } => act(&engine, out, &Action::Start, names),
        Command::Start {
            names,
            interactive,
            detach_keys,
            ..
        } => {
            let [name] = names.names.as_slice() else {
                return Err(Error::invalid_input("start --attach takes one container"));
            };
            let name = resolve_one(&engine, name.clone())?;
            let opts = AttachOptions {
                stdin: interactive,
                detach_keys,
            };
            Ok(engine
                .containers()
                .start_attached_with(&name, &opts)?
                .exit_code())
        }
        Command::Stop { names, time } => act(&engine, out, &Action::Stop { timeout: time }, names),
        Command::Restart(n) => act(&engine, out, &Action::Restart, n),
        Command::Kill { names, signal } => act(&engine, out, &Action::Kill { signal }, names),
        Command::Pause(n) => act(&engine, out, &Action::Pause, n),
        Command::Unpause(n) => act(&engine, out, &Action::Unpause, n),
        Command::Rm { names, force } => act(&engine, out, &Action::Remove { force }, names),
        Command::Wait { name } => {
            let name = resolve_one(&engine, name)?;
            print_exit(out, &engine.containers().wait_exit(&name)?)
        }
        Command::ExitCode { name } => print_exit(out, &engine.containers().exit_code(&name)?),
        Command::Inspect { names } => inspect(&engine, out, names),
        Command::Status { names } => {
            let statuses = engine.containers().statuses(&names)?;
            match out.is_json() {
                true => out.json(&statuses),
                false => {
                    // One name: just the status, for `[ "$(dockhand status web)" = running ]`.
                    let one = statuses.len() == 1;
                    for s in &statuses {
                        let status = s.status.map_or("missing", |s| s.as_str());
                        match one {
                            true => out.line(status),
                            false => out.line(format!("{} {status}", s.name)),
                        }
                    }
                }
            }
            Ok(0)
        }
        Command::Pid { name } => {
            // The pid is the engine host's; from here it names another process.
            engine.require_local("pid")?;
            let c = engine.containers().inspect_one(&name)?;
            let pid = c.pid()?;
            match out.is_json() {
                true => out.json(&json!({"name": c.name, "id": c.id, "pid": pid})),
                false => out.line(pid),
            }
            Ok(0)
        }
        Command::Ip {
            name,
            ipv6,
            network,
        } => {
            let c = engine.containers().inspect_one(&name)?;
            let family = if ipv6 { IpVersion::V6 } else { IpVersion::V4 };
            let addresses = c.addresses(family, network.as_ref().map(Word::as_str))?;
            match out.is_json() {
                true => out.json(&addresses),
                false => addresses.iter().for_each(|a| out.line(a.address)),
            }
            Ok(0)
        }
        Command::Ports { name, port } => {
            let c = engine.containers().inspect_one(&name)?;
            let bindings = c.port_bindings(port.map(|p| (p.port(), p.protocol())))?;
            match (out.is_json(), port) {
                (true, _) => out.json(&bindings),
                (false, Some(_)) => bindings.iter().for_each(|b| out.line(b.host_address())),
                (false, None) => bindings.iter().for_each(|b| {
                    out.line(format!(
                        "{}/{} -> {}",
                        b.container_port,
                        b.protocol.as_str(),
                        b.host_address()
                    ))
                }),
            }
            Ok(0)
        }
        Command::Gateway {
            name: None,
            network,
        } => {
            let network = network.map(NetworkName::new).transpose()?;
            let gw = engine.networks().gateway(network.as_ref())?;
            match out.is_json() {
                true => out.json(&gw),
                false => out.line(gw.gateway),
            }
            Ok(0)
        }
        Command::Gateway {
            name: Some(name),
            network,
        } => {
            let network = network.map(NetworkName::new).transpose()?;
            let c = engine.containers().inspect_one(&name)?;
            let gateways = c.gateways(network.as_ref().map(NetworkName::as_str))?;
            match out.is_json() {
                true => out.json(&gateways),
                false => gateways
                    .iter()
                    .for_each(|g| match (g.gateway, g.ipv6_gateway) {
                        (Some(v4), _) => out.line(v4),
                        (None, Some(v6)) => out.line(v6),
                        (None, None) => {}
                    }),
            }
            Ok(0)
        }
        Command::Exec {
            name,
            env,
            user,
            workdir,
            interactive,
            tty,
            time_limit,
            detach_keys,
            command,
        } => {
            let opts = ExecOptions {
                command,
                env: env_vars(&env)?,
                user,
                workdir,
                interactive,
                tty,
                time_limit,
                detach_keys,
            };
            engine.containers().exec(&name, &opts)
        }
        Command::Cp { src, dst, lock } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            let (src, dst) = (resolve_path(&engine, src)?, resolve_path(&engine, dst)?);
            engine.containers().copy(&src, &dst)?;
            if out.is_json() {
                out.json(&json!({"source": src.to_string(), "destination": dst.to_string()}));
            }
            Ok(0)
        }
        Command::Export { name, dir } => {
            let name = resolve_one(&engine, name)?;
            let report = engine.containers().export(&name, &dir)?;
            match out.is_json() {
                true => out.json(&json!({
                    "name": name,
                    "dir": dir,
                    "entries": report.entries,
                    "skipped": report.skipped,
                    "setid_dropped": report.setid_dropped,
                })),
                false => {
                    for s in &report.skipped {
                        log::warn!("export: skipped {} ({})", s.path, s.reason);
                    }
                    out.line(dir.display())
                }
            }
            Ok(0)
        }
        Command::Commit {
            name,
            image,
            message,
            author,
        } => {
            let name = resolve_one(&engine, name)?;
            let id =
                engine
                    .containers()
                    .commit(&name, &image, &CommitOptions { message, author })?;
            match out.is_json() {
                true => out.json(&json!({"name": name, "image": image, "id": id})),
                false => out.line(id),
            }
            Ok(0)
        }
        Command::Update {
            name,
            cpu_shares,
            cpus,
            memory,
            lock,
        } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            let name = resolve_one(&engine, name)?;
            let opts = UpdateOptions {
                cpu_shares,
                cpus,
                memory,
            };
            engine.containers().update(&name, &opts)?;
            match out.is_json() {
                true => out.json(&json!({"name": name, "updated": true})),
                false => out.line(name),
            }
            Ok(0)
        }
        Command::Ps {
            all,
            filters,
            labels,
            quiet,
            inspect,
        } => {
            let query = PsQuery {
                all,
                filters,
                labels,
            };
            if inspect {
                let full = engine.containers().list(&query)?;
                match out.is_json() {
                    true => out.json(&full),
                    false => print_table(out, full.iter().map(TableRow::of_container)),
                }
                return Ok(0);
            }
            let rows = engine.containers().ps(&query)?;
            match (quiet, out.is_json()) {
                (true, true) => out.json(&rows.iter().map(|r| &r.id).collect::<Vec<_>>()),
                (true, false) => rows.iter().for_each(|r| out.line(&r.id)),
                (false, true) => out.json(&rows),
                (false, false) => print_table(out, rows.iter().map(TableRow::of_ps)),
            }
            Ok(0)
        }
        Command::Rename { old, new, lock } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            let old = resolve_one(&engine, old)?;
            let done = engine.containers().rename(&old, &new)?;
            match out.is_json() {
                true => out.json(&done),
                false => out.line(format!("{} renamed to {}", done.old, done.new)),
            }
            Ok(0)
        }
        Command::Cleanup { prefix, keep, lock } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            report(out, &engine.containers().cleanup(&prefix, keep)?)
        }
        Command::Reset {
            all,
            labels,
            yes,
            lock,
        } => {
            let engine = engine.with_lock_timeout(lock.lock_timeout);
            // clap guarantees --all or at least one label.
            let selector: &[KeyValue] = if all { &[] } else { &labels };
            let doomed = engine.containers().find_by_labels(selector)?;
            if doomed.is_empty() {
                return report(out, &[]);
            }
            confirm_reset(&doomed, yes)?;
            let names = ContainerRef::many(doomed.into_iter().map(|c| c.name))?;
            report(
                out,
                &engine
                    .containers()
                    .act(&Action::Remove { force: true }, &names)?,
            )
        }
    }
}

/// Commands that hand a name straight to the engine expand id prefixes
/// first (the others inspect first, which does it).
fn resolve_one(engine: &Engine, name: ContainerRef) -> Result<ContainerRef, Error> {
    Ok(engine.containers().resolve(&[name])?.remove(0))
}

fn resolve_path(engine: &Engine, path: CopyPath) -> Result<CopyPath, Error> {
    Ok(match path {
        CopyPath::Container(c, p) => CopyPath::Container(resolve_one(engine, c)?, p),
        host => host,
    })
}

fn act(engine: &Engine, out: &Out, action: &Action, args: NamesArgs) -> Result<i32, Error> {
    let engine = engine.clone().with_lock_timeout(args.lock.lock_timeout);
    report(out, &engine.containers().act(action, &args.names)?)
}

/// Print per-container results; the exit code is the first failure's.
fn report(out: &Out, results: &[ActionResult]) -> Result<i32, Error> {
    if out.is_json() {
        out.json(&results);
    }
    for r in results {
        match (&r.error, out.is_json()) {
            (Some(e), false) => out.error(e),
            (None, false) => out.line(format!("{} {}", r.name, r.outcome.as_str())),
            _ => {}
        }
    }
    Ok(match ActionResult::first_error(results) {
        Some(e) if out.is_json() => {
            out.error(e);
            exit_code(e)
        }
        Some(e) => exit_code(e),
        None => 0,
    })
}

fn print_created(engine: &Engine, out: &Out, id: &str) -> Result<i32, Error> {
    match (engine.is_dry_run(), out.is_json()) {
        // Nothing was created; the command went to stderr.
        (true, _) => {}
        (false, true) => out.json(&engine.containers().inspect_one(&ContainerRef::new(id)?)?),
        (false, false) => out.line(id),
    }
    Ok(0)
}

/// The exit code, or (exit 6) that the container never ran.
fn print_exit(out: &Out, report: &ExitReport) -> Result<i32, Error> {
    if out.is_json() {
        out.json(report);
    }
    match (report.exit_code, report.ran()) {
        (Some(code), true) => {
            if !out.is_json() {
                out.line(code);
            }
            Ok(0)
        }
        _ => {
            if !out.is_json() {
                let why = match &report.error {
                    Some(e) => format!("its start failed: {e}"),
                    None => "it was never started".into(),
                };
                out.note(format!(
                    "container {} never ran ({}; status {})",
                    report.name,
                    why,
                    report.status.as_str()
                ));
            }
            Ok(super::NEVER_RAN)
        }
    }
}

fn inspect(engine: &Engine, out: &Out, names: Vec<ContainerRef>) -> Result<i32, Error> {
    let mut seen = engine.containers().inspect(&names)?;
    match out.is_json() {
        true => out.json(&seen.items),
        false => {
            // People get the normalized fields; --json adds the engine's raw
            // object. It is set aside, not copied and dropped: that copy of
            // the whole document was a quarter of `inspect`'s own work.
            let plain: Vec<serde_json::Value> = seen
                .items
                .iter_mut()
                .map(|c| {
                    let raw = std::mem::take(&mut c.raw);
                    let mut v = serde_json::to_value(&*c).unwrap_or_default();
                    c.raw = raw;
                    if let Some(map) = v.as_object_mut() {
                        map.remove("raw");
                    }
                    v
                })
                .collect();
            out.line(serde_json::to_string_pretty(&plain).unwrap_or_default());
        }
    }
    seen.into_result().map(|_| 0)
}

/// What a line of the `ps` table shows, from a [`PsRow`] or a [`Container`].
struct TableRow<'a> {
    id: &'a str,
    name: &'a str,
    status: Status,
    image: &'a str,
    ports: &'a [PortBinding],
}

impl TableRow<'_> {
    fn of_ps(r: &PsRow) -> TableRow<'_> {
        TableRow {
            id: &r.id,
            name: &r.name,
            status: r.status,
            image: &r.image,
            ports: &r.ports,
        }
    }

    fn of_container(c: &Container) -> TableRow<'_> {
        TableRow {
            id: &c.id,
            name: &c.name,
            status: c.state.status,
            image: &c.image,
            ports: &c.ports,
        }
    }
}

/// The `ps` table: id, name, status, image and actual ports of each row.
fn print_table<'a>(out: &Out, rows: impl Iterator<Item = TableRow<'a>>) {
    out.line(format!(
        "{:<12}  {:<24}  {:<10}  {:<32}  PORTS",
        "CONTAINER ID", "NAME", "STATUS", "IMAGE"
    ));
    for TableRow {
        id,
        name,
        status,
        image,
        ports,
    } in rows
    {
        let ports: Vec<String> = ports
            .iter()
            .map(|b| {
                format!(
                    "{}->{}/{}",
                    b.host_address(),
                    b.container_port,
                    b.protocol.as_str()
                )
            })
            .collect();
        out.line(format!(
            "{:<12}  {:<24}  {:<10}  {:<32}  {}",
            dockhand::decode::json::short_id(id),
            name,
            status.as_str(),
            image,
            ports.join(", ")
        ));
    }
}

/// `reset` removes everything it matched: ask on a terminal, refuse
/// without `--yes` otherwise.
fn confirm_reset(doomed: &[Container], yes: bool) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    let names: Vec<&str> = doomed.iter().map(|c| c.name.as_str()).collect();
    let summary = format!(
        "reset would force-remove {} container(s): {}",
        names.len(),
        names.join(", ")
    );
    super::confirm(&summary, "reset")
}

//! `dockhand app …`: compose files as apps.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{duration_arg, Global, Out};
use dockhand::app::plan::{AppPlan, DownSettings};
use dockhand::app::project::{load, LoadOptions};
use dockhand::app::{yaml, App, UpOptions};
use dockhand::container::logs::{LogOptions, DEFAULT_MAX_LINE};
use dockhand::container::{ActionResult, ExecOptions};
use dockhand::exec::Pipe;
use dockhand::input::PullPolicy;
use dockhand::input::{EnvVar, Tail, TimeSpec, Word};
use dockhand::Error;

/// The `app` command.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Deploy, update (with rollback) and remove apps described by compose files.
    #[command(
        after_help = "Examples:\n  dockhand app config\n  dockhand app -f compose.yaml -p shop up -d\n  dockhand app plan\n  dockhand app down -v"
    )]
    App(AppArgs),
}

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it
    /// can: the files are read here once, each host's engine gets the plan).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        let Command::App(app) = self;
        if app.files.iter().any(|f| f.as_os_str() == "-") {
            return Some("`app -f -` reads stdin once: give the file's path");
        }
        match &app.command {
            AppCommand::Logs(a) if a.follow => {
                Some("`app logs -f` follows without end: leave out -f, or run it per host")
            }
            AppCommand::Exec {
                interactive, tty, ..
            } if *interactive || *tty => {
                Some("`app exec -i`/`--tty` needs this terminal: run it per host")
            }
            _ => None,
        }
    }
}

// Options of every `app` subcommand (before it, as with compose). (Not a doc comment: clap would show it as
// the about line of the deferred commands using it.)
#[derive(Args, Debug, Clone)]
pub struct AppArgs {
    /// Compose file (repeat to merge several; `-` is stdin). Default:
    /// COMPOSE_FILE, else compose.yaml/compose.yml/docker-compose.y(a)ml
    /// here or above, with its override file.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Project name (default: COMPOSE_PROJECT_NAME, the file's `name:`, or
    /// the directory's name).
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    project: Option<String>,
    /// Activate a profile (repeat; COMPOSE_PROFILES works too).
    #[arg(long = "profile", value_name = "NAME")]
    profiles: Vec<String>,
    /// How long to wait while another dockhand process works on the same project.
    #[arg(long, default_value = "30s", value_parser = duration_arg, value_name = "DURATION")]
    lock_timeout: Duration,
    #[command(subcommand)]
    command: AppCommand,
}

// `app` subcommands. (Not a doc comment: clap would show it as
// the about line of the deferred commands using it.)
#[derive(Subcommand, Debug, Clone)]
pub enum AppCommand {
    /// Print the normalised project (YAML; --json for JSON).
    #[command(
        after_help = "Examples:\n  dockhand app config\n  dockhand app -f a.yaml -f b.yaml config --services"
    )]
    Config {
        /// Only the service names, one per line.
        #[arg(long)]
        services: bool,
    },
    /// Print what `up` would do (create/recreate/start/remove, and why) without doing it.
    #[command(
        after_help = "Examples:\n  dockhand app plan\n  dockhand --json app plan --force-recreate web"
    )]
    Plan(UpArgs),
    /// Create what is missing, recreate what changed (rolling back on failure), start what is stopped.
    #[command(
        after_help = "Examples:\n  dockhand app up -d\n  dockhand app up --wait --remove-orphans\n  dockhand --dry-run app up"
    )]
    Up(UpArgs),
    /// Remove the app's containers and networks (-v: its named volumes too).
    #[command(
        after_help = "Examples:\n  dockhand app down\n  dockhand app down -v --remove-orphans"
    )]
    Down {
        /// Remove the project's named volumes too (never external ones).
        #[arg(short = 'v', long = "volumes")]
        volumes: bool,
        /// Remove containers of services the files no longer have.
        #[arg(long)]
        remove_orphans: bool,
        /// Seconds each container gets to stop (default: its stop_grace_period).
        #[arg(short = 't', long = "stop-timeout", value_name = "SECS")]
        stop_timeout: Option<u32>,
    },
    /// List the app's containers (one engine call).
    #[command(after_help = "Examples:\n  dockhand app ps\n  dockhand --json app ps")]
    Ps,
    /// Print the services' logs merged, each line with its service.
    #[command(
        after_help = "Examples:\n  dockhand app logs -f web\n  dockhand --json app logs --tail 20"
    )]
    Logs(AppLogsArgs),
    /// Start the services' stopped containers.
    #[command(after_help = "Examples:\n  dockhand app start\n  dockhand app start web")]
    Start(ServicesArg),
    /// Stop the services' containers (dependents first).
    #[command(after_help = "Examples:\n  dockhand app stop\n  dockhand app stop -t 2 web")]
    Stop {
        #[command(flatten)]
        services: ServicesArg,
        /// Seconds before SIGKILL (default: the service's stop_grace_period).
        #[arg(short = 't', long = "stop-timeout", value_name = "SECS")]
        stop_timeout: Option<u32>,
    },
    /// Restart the services' containers.
    #[command(after_help = "Examples:\n  dockhand app restart web")]
    Restart(ServicesArg),
    /// Run a command in a service's running container; exits with its code.
    #[command(
        after_help = "Examples:\n  dockhand app exec web ls /\n  dockhand app exec -e DEBUG=1 db sh -c 'echo $DEBUG'"
    )]
    Exec {
        /// The service.
        service: String,
        /// Environment variable KEY=VALUE (values go through a private env-file).
        #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = EnvVar::parse)]
        env: Vec<EnvVar>,
        /// User.
        #[arg(short = 'u', long)]
        user: Option<Word>,
        /// Working directory.
        #[arg(short = 'w', long)]
        workdir: Option<Word>,
        /// Keep stdin open.
        #[arg(short = 'i', long)]
        interactive: bool,
        /// Allocate a terminal.
        #[arg(long)]
        tty: bool,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Pull the services' images.
    #[command(after_help = "Examples:\n  dockhand app pull\n  dockhand app pull web")]
    Pull(ServicesArg),
    /// Build the images of services that have `build`.
    #[command(after_help = "Examples:\n  dockhand app build\n  dockhand app build api")]
    Build(ServicesArg),
}

// Service names (all when none). (Not a doc comment: clap would show it as
// the about line of the deferred commands using it.)
#[derive(Args, Debug, Clone)]
pub struct ServicesArg {
    /// Services (all when none).
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
}

/// When `up` pulls.
#[derive(ValueEnum, Debug, Clone, Copy)]
enum PullArg {
    Missing,
    Always,
    Never,
}

// `up` and `plan`. (Not a doc comment: clap would show it as
// the about line of the deferred commands using it.)
#[derive(Args, Debug, Clone)]
pub struct UpArgs {
    /// Services (with their dependencies; all when none).
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
    /// Detached (always: dockhand does not attach; accepted for compose's sake).
    #[arg(short = 'd', long)]
    detach: bool,
    /// Create the containers, start nothing.
    #[arg(long)]
    no_start: bool,
    /// Recreate even what is up to date.
    #[arg(long, conflicts_with = "no_recreate")]
    force_recreate: bool,
    /// Never recreate.
    #[arg(long)]
    no_recreate: bool,
    /// Not the dependencies of the services named.
    #[arg(long)]
    no_deps: bool,
    /// Remove containers of services the files no longer have.
    #[arg(long)]
    remove_orphans: bool,
    /// Wait until every service runs (healthy when it has a healthcheck).
    #[arg(long)]
    wait: bool,
    /// Bound on each wait (a dependency's condition, a new container).
    #[arg(long, default_value = "120s", value_parser = duration_arg, value_name = "DURATION")]
    wait_timeout: Duration,
    /// Seconds old containers get to stop (default: their stop_grace_period).
    #[arg(short = 't', long = "stop-timeout", value_name = "SECS")]
    stop_timeout: Option<u32>,
    /// When to pull images.
    #[arg(long, value_enum, default_value = "missing")]
    pull: PullArg,
    /// Build images of services with `build` first.
    #[arg(long)]
    build: bool,
}

impl UpArgs {
    fn options(&self) -> UpOptions {
        UpOptions {
            services: self.services.clone(),
            no_deps: self.no_deps,
            no_start: self.no_start,
            force_recreate: self.force_recreate,
            no_recreate: self.no_recreate,
            remove_orphans: self.remove_orphans,
            wait: self.wait,
            wait_timeout: self
                .wait_timeout
                .min(Duration::from_secs(24 * 3600))
                .max(Duration::from_millis(1)),
            stop_timeout: self.stop_timeout,
            pull: match self.pull {
                PullArg::Missing => PullPolicy::Missing,
                PullArg::Always => PullPolicy::Always,
                PullArg::Never => PullPolicy::Never,
            },
            build: self.build,
        }
    }
}

// `logs`. (Not a doc comment: clap would show it as
// the about line of the deferred commands using it.)
#[derive(Args, Debug, Clone)]
pub struct AppLogsArgs {
    /// Services (all when none).
    #[arg(value_name = "SERVICE")]
    services: Vec<String>,
    /// Keep printing new lines until the containers stop (or Ctrl-C).
    #[arg(short = 'f', long)]
    follow: bool,
    /// Only the last N lines of each container (or `all`).
    #[arg(long, default_value = "all", value_name = "N|all")]
    tail: Tail,
    /// Only lines since this time (RFC 3339, epoch seconds, or a duration ago: 10m).
    #[arg(long, value_name = "TIME")]
    since: Option<TimeSpec>,
    /// Prefix each line with the engine's timestamp (always on with --json).
    #[arg(short = 't', long)]
    timestamps: bool,
}

/// Run `dockhand app …`.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let Command::App(args) = cmd;
    let mut opts = LoadOptions::from_process();
    opts.files = args.files.clone();
    opts.project_name = args.project.clone();
    opts.profiles = args.profiles.clone();
    opts.services = match &args.command {
        AppCommand::Up(u) | AppCommand::Plan(u) => u.services.clone(),
        _ => Vec::new(),
    };
    let project = load(&opts)?;
    if let AppCommand::Config { services } = &args.command {
        return config(&project, *services, out);
    }
    let engine = global.engine()?.with_lock_timeout(args.lock_timeout);
    let app = engine.app(project);
    match args.command {
        AppCommand::Config { .. } => unreachable!("handled above"),
        AppCommand::Plan(u) => print_plan(&app.plan_up(&u.options())?, out),
        AppCommand::Up(u) if global.dry_run => print_plan(&app.plan_up(&u.options())?, out),
        AppCommand::Up(u) => up(&app, &u, out),
        AppCommand::Down {
            volumes,
            remove_orphans,
            stop_timeout,
        } => {
            let settings = DownSettings {
                volumes,
                remove_orphans,
                stop_timeout,
            };
            if global.dry_run {
                return print_plan(&app.plan_down(settings)?, out);
            }
            let report = app.down(settings)?;
            warn(&report.warnings, out);
            match out.is_json() {
                true => out.json(&report),
                false => {
                    report.done.iter().for_each(|d| out.line(d));
                    for a in &report.absent {
                        out.line(format!("{} {}: absent (already gone)", a.kind, a.name));
                    }
                }
            }
            Ok(0)
        }
        AppCommand::Ps => ps(&app, out),
        AppCommand::Logs(l) => logs(&app, &l, out),
        AppCommand::Start(s) => results(app.start(&s.services)?, out),
        AppCommand::Stop {
            services,
            stop_timeout,
        } => results(app.stop(&services.services, stop_timeout)?, out),
        AppCommand::Restart(s) => results(app.restart(&s.services)?, out),
        AppCommand::Exec {
            service,
            env,
            user,
            workdir,
            interactive,
            tty,
            command,
        } => {
            let opts = ExecOptions {
                command,
                env,
                user,
                workdir,
                interactive,
                tty,
                time_limit: None,
                detach_keys: None,
            };
            app.exec(&service, &opts)
        }
        AppCommand::Pull(s) => listed(app.pull(&s.services)?, "pulled", out),
        AppCommand::Build(s) => listed(app.build(&s.services)?, "built", out),
    }
}

fn config(
    project: &dockhand::app::project::Project,
    services: bool,
    out: &Out,
) -> Result<i32, Error> {
    warn(&project.warnings, out);
    match (services, out.is_json()) {
        (true, true) => out.json(&project.services.keys().collect::<Vec<_>>()),
        (true, false) => project.services.keys().for_each(|s| out.line(s)),
        (false, true) => out.json(&project.config_document()),
        (false, false) => {
            let _ = write!(out.stdout(), "{}", yaml::emit(&project.config_document()));
        }
    }
    Ok(0)
}

fn warn(warnings: &[String], out: &Out) {
    for w in warnings {
        out.note(format_args!("warning: {w}"));
    }
}

fn print_plan(plan: &AppPlan, out: &Out) -> Result<i32, Error> {
    warn(&plan.warnings, out);
    if out.is_json() {
        out.json(&plan.to_json());
        return Ok(0);
    }
    for step in &plan.steps {
        out.line(step.describe());
    }
    for step in &plan.after_success {
        out.line(format!("then {}", step.describe()));
    }
    if plan.is_empty() {
        out.line(format!("{}: nothing to do", plan.project));
    }
    if !plan.unchanged.is_empty() {
        out.line(format!("unchanged: {}", plan.unchanged.join(", ")));
    }
    Ok(0)
}

fn up(app: &App<'_>, args: &UpArgs, out: &Out) -> Result<i32, Error> {
    let report = app.up(&args.options())?;
    warn(&report.warnings, out);
    for f in &report.failures {
        out.note(format_args!("after the update: {f}"));
    }
    if out.is_json() {
        out.json(&report);
        return Ok(0);
    }
    for d in &report.done {
        out.line(d);
    }
    if report.done.is_empty() {
        out.line(format!("{}: up to date", report.project));
    }
    Ok(0)
}

fn ps(app: &App<'_>, out: &Out) -> Result<i32, Error> {
    let rows = app.containers()?;
    if out.is_json() {
        out.json(&rows);
        return Ok(0);
    }
    out.line(format!(
        "{:<32} {:<16} {:<28} PORTS",
        "NAME", "SERVICE", "STATUS"
    ));
    for c in rows {
        out.line(format!(
            "{:<32} {:<16} {:<28} {}",
            c.name, c.service, c.status_text, c.ports
        ));
    }
    Ok(0)
}

fn logs(app: &App<'_>, args: &AppLogsArgs, out: &Out) -> Result<i32, Error> {
    let opts = LogOptions {
        tail: args.tail,
        since: args.since,
        until: None,
        timestamps: args.timestamps || out.is_json(),
        follow: args.follow,
        max_line: DEFAULT_MAX_LINE,
    };
    let mut lines = app.logs(&args.services, &opts)?;
    let width = app
        .project()
        .services
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0);
    let mut stdout = BufWriter::new(out.stdout());
    let mut stderr = BufWriter::new(out.stderr());
    while let Some(line) = lines.next() {
        let line = line?;
        let written = if out.is_json() {
            match out.record(&mut stdout, &line)? {
                true => Ok(()),
                false => return Ok(0),
            }
        } else {
            let target: &mut dyn Write = match line.line.stream {
                Pipe::Stdout => &mut stdout,
                Pipe::Stderr => &mut stderr,
            };
            let stamp = match (&line.line.timestamp, args.timestamps) {
                (Some(t), true) => format!("{} ", t.to_rfc3339()),
                _ => String::new(),
            };
            writeln!(
                target,
                "{:<width$} | {stamp}{}",
                line.service,
                line.line.text()
            )
        };
        if written.is_err() {
            return Ok(0);
        }
        if args.follow && !lines.has_ready() && (stdout.flush().is_err() || stderr.flush().is_err())
        {
            return Ok(0);
        }
    }
    Ok(0)
}

fn results(results: Vec<ActionResult>, out: &Out) -> Result<i32, Error> {
    if out.is_json() {
        out.json(&results);
    } else {
        for r in &results {
            match &r.error {
                None => out.line(format!("{} {}", r.name, r.outcome.as_str())),
                Some(e) => out.error(e),
            }
        }
    }
    Ok(match ActionResult::first_error(&results) {
        Some(e) => super::exit_code(e),
        None => 0,
    })
}

fn listed(items: Vec<String>, what: &str, out: &Out) -> Result<i32, Error> {
    match out.is_json() {
        true => out.json(&json!({ what: items })),
        false => items.iter().for_each(|i| out.line(format!("{what} {i}"))),
    }
    Ok(0)
}

//! `volume ls|inspect|create|rm`.

use clap::Subcommand;
use serde_json::json;

use super::{Global, Out};
use dockhand::input::{KeyValue, VolumeName};
use dockhand::volume::{Volume, VolumeCreateOptions};
use dockhand::Error;

/// Volume subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Manage volumes.
    #[command(after_help = "Examples:\n  dockhand volume create appdata\n  dockhand volume ls")]
    Volume {
        #[command(subcommand)]
        cmd: VolumeCommand,
    },
}

// `volume …` subcommands. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum VolumeCommand {
    /// List volumes, fully inspected.
    #[command(
        after_help = "Examples:\n  dockhand volume ls\n  dockhand --json volume ls --filter label=app=web"
    )]
    Ls {
        /// Engine filter, e.g. label=k=v, dangling=true.
        #[arg(long, value_name = "KEY=VALUE")]
        filter: Vec<String>,
    },
    /// Inspect volumes in one call; prints the found ones and exits 3 when any is missing.
    #[command(
        after_help = "Examples:\n  dockhand volume inspect appdata\n  dockhand --format '{{.mountpoint}}' volume inspect appdata"
    )]
    Inspect {
        /// Volume names.
        #[arg(required = true)]
        volumes: Vec<String>,
    },
    /// Create a volume (an existing one is returned unchanged); prints it.
    #[command(after_help = "Examples:\n  dockhand volume create appdata -l app=web")]
    Create {
        /// Name.
        name: String,
        /// Driver (default local).
        #[arg(long)]
        driver: Option<String>,
        /// Driver option KEY=VALUE (repeatable).
        #[arg(short, long, value_name = "KEY=VALUE")]
        opt: Vec<String>,
        /// Label KEY=VALUE (repeatable).
        #[arg(short, long, value_name = "KEY=VALUE")]
        label: Vec<String>,
    },
    /// Remove volumes; volumes that do not exist count as removed.
    #[command(after_help = "Examples:\n  dockhand volume rm appdata")]
    Rm {
        /// Remove even volumes in use (podman).
        #[arg(short, long)]
        force: bool,
        /// Volume names.
        #[arg(required = true)]
        volumes: Vec<String>,
    },
}

/// Run one volume subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let Command::Volume { cmd } = cmd;
    match cmd {
        VolumeCommand::Ls { filter } => {
            let filters = KeyValue::many("filter", &filter)?;
            print_volumes(out, &global.engine()?.volumes().list(&filters)?);
            Ok(0)
        }
        VolumeCommand::Inspect { volumes } => {
            let names = VolumeName::many(volumes)?;
            let found = global
                .engine()?
                .run(dockhand::volume::inspect_plan(&names))?;
            print_volumes(out, &found.items);
            found.error.map_or(Ok(0), Err)
        }
        VolumeCommand::Create {
            name,
            driver,
            opt,
            label,
        } => {
            let mut opts = VolumeCreateOptions::new(VolumeName::new(name)?);
            opts.driver = driver.map(VolumeName::new).transpose()?;
            opts.options = KeyValue::many("volume option", &opt)?;
            opts.labels = KeyValue::many("label", &label)?;
            let engine = global.engine()?;
            if engine.is_dry_run() {
                // Nothing is created, so there is nothing to inspect.
                return engine.run(dockhand::volume::create_plan(&opts)).map(|()| 0);
            }
            let v = engine.volumes().create(&opts)?;
            print_volumes(out, std::slice::from_ref(&v));
            Ok(0)
        }
        VolumeCommand::Rm { force, volumes } => {
            let names = VolumeName::many(volumes)?;
            let removed = global.engine()?.volumes().remove(&names, force)?;
            if out.is_json() {
                out.json(&json!({ "removed": removed }));
            } else {
                removed.iter().for_each(|r| out.line(r));
            }
            Ok(0)
        }
    }
}

fn print_volumes(out: &Out, volumes: &[Volume]) {
    if out.is_json() {
        out.json(&volumes);
        return;
    }
    out.line(format!("{:<24}  {:<8}  MOUNTPOINT", "NAME", "DRIVER"));
    for v in volumes {
        out.line(format!("{:<24}  {:<8}  {}", v.name, v.driver, v.mountpoint));
    }
}

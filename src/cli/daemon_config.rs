//! `daemon-config get|set|unset`: edit docker's daemon.json.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Global, Out};
use dockhand::system::daemon_config::{self, parse_value, Edit, EditReport, KeyPath, Restart};
use dockhand::Error;

/// Daemon configuration subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Read or edit docker's daemon.json (atomic write, .bak kept, unknown keys kept).
    #[command(
        after_help = "Examples:\n  dockhand daemon-config get\n  dockhand daemon-config set log-driver '\"json-file\"'"
    )]
    DaemonConfig {
        /// The file to edit.
        #[arg(long, default_value = daemon_config::DEFAULT_PATH, value_name = "PATH")]
        file: PathBuf,
        #[command(subcommand)]
        cmd: DaemonConfigCommand,
    },
}

// `daemon-config …` subcommands. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum DaemonConfigCommand {
    /// Print the whole file, or the value at KEY (exit 3 when not set).
    #[command(
        after_help = "Examples:\n  dockhand daemon-config get log-opts.max-size\n  dockhand --json daemon-config get"
    )]
    Get {
        /// Key or dotted path, e.g. log-opts.max-size.
        key: Option<String>,
    },
    /// Merge JSON in at KEY (objects merge, other values replace, null removes).
    #[command(
        after_help = "Examples:\n  dockhand daemon-config set log-opts.max-size '\"10m\"'\n  dockhand daemon-config set features '{\"buildkit\": true}'"
    )]
    Set {
        /// Key or dotted path.
        key: String,
        /// JSON value; strings need quotes: '"10m"'.
        value: String,
    },
    /// Remove KEY (nothing to do when it is not set).
    #[command(after_help = "Examples:\n  dockhand daemon-config unset log-opts.max-size")]
    Unset {
        /// Key or dotted path.
        key: String,
    },
}

/// Run one daemon-config subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let Command::DaemonConfig { file, cmd } = cmd;
    // The file is this machine's; a remote engine's daemon reads its own.
    if global.names_an_endpoint() {
        global.engine()?.require_local("daemon-config")?;
    }
    let edit = match cmd {
        DaemonConfigCommand::Get { key } => {
            let key = key.as_deref().map(KeyPath::new).transpose()?;
            let value = daemon_config::get(&file, key.as_ref())?;
            if out.is_json() {
                out.json(&value);
            } else {
                out.line(serde_json::to_string_pretty(&value).unwrap_or_default());
            }
            return Ok(0);
        }
        DaemonConfigCommand::Set { key, value } => {
            Edit::Set(KeyPath::new(&key)?, parse_value(&value)?)
        }
        DaemonConfigCommand::Unset { key } => Edit::Unset(KeyPath::new(&key)?),
    };
    let report = daemon_config::edit(&file, &edit)?;
    print_report(out, &report);
    Ok(0)
}

fn print_report(out: &Out, r: &EditReport) {
    if out.is_json() {
        out.json(r);
        return;
    }
    if !r.changed {
        out.line(format!("{}: unchanged", r.path.display()));
        return;
    }
    out.line(format!(
        "{}: changed {}",
        r.path.display(),
        r.changed_keys.join(", ")
    ));
    if let Some(b) = &r.backup {
        out.line(format!("previous version: {}", b.display()));
    }
    out.line(match r.restart {
        Restart::Reload => {
            "daemon: reload needed (SIGHUP: systemctl reload docker, or kill -HUP $(pidof dockerd))"
        }
        Restart::Restart => "daemon: restart needed (systemctl restart docker)",
        Restart::None => "daemon: nothing to do",
    });
}

//! `netns exec` and `netns show`: a container's network namespace, seen and
//! used with the host's tools.

use std::ffi::OsString;

use clap::Subcommand;
use dockhand::input::ContainerRef;
use dockhand::netns::ip::{Link, Route};
use dockhand::netns::link::Record;
use dockhand::netns::AlsoEnter;
use dockhand::{Error, ExitStatus};

use super::{Global, Out};

/// The `netns` command group.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Run host commands in a running container's network namespace.
    #[command(
        after_help = "Examples:\n  dockhand netns show web\n  dockhand netns exec web -- ip addr"
    )]
    Netns {
        #[command(subcommand)]
        cmd: NetnsCommand,
    },
}

// `netns` subcommands. (Not a doc comment: clap would show it as the about
// line of `netns`, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum NetnsCommand {
    /// Run CMD in the container's network namespace (nsenter); its exit code is dockhand's.
    ///
    /// CMD is the host's program unless --mount is given. It runs once, without
    /// dockhand's --timeout, with this terminal's stdin/stdout/stderr.
    #[command(
        after_help = "Examples:\n  dockhand netns exec web -- ip route\n  dockhand netns exec web -- ping -c1 10.99.0.1"
    )]
    Exec {
        /// Container name or id.
        name: String,
        /// Also enter the mount namespace (CMD and files come from the container).
        #[arg(long)]
        mount: bool,
        /// Also enter the UTS namespace (hostname).
        #[arg(long)]
        uts: bool,
        /// Also enter the IPC namespace.
        #[arg(long)]
        ipc: bool,
        /// Also enter the PID namespace.
        #[arg(long)]
        pid: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<OsString>,
    },
    /// Show the container's links, addresses and routes (host `ip -j` via nsenter).
    #[command(
        after_help = "Examples:\n  dockhand netns show web\n  dockhand --json netns show web"
    )]
    Show {
        /// Container name or id.
        name: String,
    },
}

/// Run one netns subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let Command::Netns { cmd } = cmd;
    match cmd {
        NetnsCommand::Exec {
            name,
            mount,
            uts,
            ipc,
            pid,
            command,
        } => {
            let name = ContainerRef::new(name)?;
            let also = AlsoEnter {
                mount,
                uts,
                ipc,
                pid,
            };
            let status = global.engine()?.netns().exec(&name, also, &command)?;
            Ok(match status {
                ExitStatus::Code(c) => c,
                ExitStatus::Signal(s) => 128 + s,
            })
        }
        NetnsCommand::Show { name } => {
            let name = ContainerRef::new(name)?;
            let view = global.engine()?.netns().show(&name)?;
            if out.is_json() {
                out.json(&view);
                return Ok(0);
            }
            out.line(format!(
                "container {} (id {}, pid {})",
                view.container.name,
                dockhand::decode::json::short_id(&view.container.id),
                view.container.pid
            ));
            for l in &view.links {
                print_link(out, l);
            }
            out.line("routes:");
            for r in &view.routes {
                out.line(format!("    {}", route_text(r)));
            }
            Ok(0)
        }
    }
}

/// A link in two or more lines, like `ip addr` but shorter.
pub(super) fn print_link(out: &Out, l: &Link) {
    let mut line = format!(
        "{}: {}  {}  {}  mtu {}",
        l.index,
        l.name,
        l.kind.as_deref().unwrap_or("-"),
        if l.up { "up" } else { "down" },
        l.mtu
    );
    if !l.mac.is_empty() {
        line.push_str(&format!("  {}", l.mac));
    }
    if let Some(master) = &l.master {
        line.push_str(&format!("  master {master}"));
    }
    if let Some(r) = Record::of(l) {
        line.push_str(&format!("  [dockhand {} host {}]", r.kind, r.host_if));
    }
    out.line(line);
    for a in &l.addresses {
        let family = match a.family {
            dockhand::netns::ip::Family::Inet6 => "inet6",
            _ => "inet",
        };
        out.line(format!(
            "    {family} {}/{} scope {}",
            a.local, a.prefixlen, a.scope
        ));
    }
}

fn route_text(r: &Route) -> String {
    let mut s = r.dst.clone();
    for (word, value) in [
        ("via", &r.gateway),
        ("dev", &r.dev),
        ("proto", &r.protocol),
        ("scope", &r.scope),
        ("src", &r.prefsrc),
    ] {
        if let Some(v) = value {
            s.push_str(&format!(" {word} {v}"));
        }
    }
    if let Some(m) = r.metric {
        s.push_str(&format!(" metric {m}"));
    }
    s
}

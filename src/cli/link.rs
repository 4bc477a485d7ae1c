//! `link add|move|del|ls|release-orphans`: interfaces attached to containers.

use clap::{Args, Subcommand};
use dockhand::input::{Addressing, Cidr, ContainerRef, GatewayAddr, IfName, Mac, MacvlanMode, Mtu};
use dockhand::netns::link::{MacvlanSpec, MoveSpec, VethSpec};
use dockhand::netns::{ChangeResult, LinkChange};
use dockhand::Error;
use serde_json::json;

use super::{exit_code, Global, Out};

/// The `link` command group.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Attach host interfaces to running containers (veth, macvlan, move), all or nothing.
    #[command(
        after_help = "Examples:\n  dockhand link add veth web --if uplink0 --ip 10.99.0.2/24\n  dockhand link ls web"
    )]
    Link {
        #[command(subcommand)]
        cmd: LinkCommand,
    },
}

// `link` subcommands. (Not a doc comment: clap would show it as the about
// line of `link`, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum LinkCommand {
    /// Create an interface in a container.
    #[command(
        after_help = "Examples:\n  dockhand link add veth web --if uplink0 --ip 10.99.0.2/24\n  dockhand link add macvlan web --parent eth0 --if lan0"
    )]
    #[command(subcommand)]
    Add(AddCommand),
    /// Move a host interface into a container (a wireless one with its phy, via iw).
    #[command(
        after_help = "Examples:\n  dockhand link move web --host-if eth1 --if wan0 --ip 198.51.100.2/24"
    )]
    Move {
        /// Container name or id.
        name: String,
        /// The host interface to move.
        #[arg(long, value_name = "HOSTIF")]
        host_if: String,
        /// Its name in the container (default: unchanged).
        #[arg(long = "if", value_name = "IFNAME")]
        ifname: Option<String>,
        #[command(flatten)]
        addressing: AddressArgs,
    },
    /// Remove what dockhand attached: veth/macvlan deleted, a moved interface given back
    /// to the host, down, under its original name.
    #[command(after_help = "Examples:\n  dockhand link del web --if uplink0")]
    Del {
        /// Container name or id.
        name: String,
        /// The interface in the container.
        #[arg(long = "if", value_name = "IFNAME")]
        ifname: String,
    },
    /// List the interfaces dockhand attached to a container.
    #[command(after_help = "Examples:\n  dockhand link ls web\n  dockhand --json link ls web")]
    Ls {
        /// Container name or id.
        name: String,
    },
    /// Give interfaces that came back from removed containers their original names.
    #[command(after_help = "Examples:\n  dockhand link release-orphans")]
    ReleaseOrphans,
}

/// `link add` kinds.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum AddCommand {
    /// A veth pair: one end in the container, the other on the host (optionally in a bridge).
    #[command(
        after_help = "Examples:\n  dockhand link add veth web --if uplink0 --ip 10.99.0.2/24 --bridge br0"
    )]
    Veth {
        /// Container name or id.
        name: String,
        /// The interface name in the container.
        #[arg(long = "if", value_name = "IFNAME")]
        ifname: String,
        /// The host end's name (default: dh + 12 hex digits derived from container and IFNAME).
        #[arg(long, value_name = "HOSTNAME")]
        host_if: Option<String>,
        #[command(flatten)]
        addressing: AddressArgs,
        /// MTU of both ends.
        #[arg(long, value_name = "N")]
        mtu: Option<String>,
        /// MAC address of the container end.
        #[arg(long, value_name = "MAC")]
        mac: Option<String>,
        /// Host bridge to attach the host end to.
        #[arg(long, value_name = "HOSTBRIDGE")]
        bridge: Option<String>,
    },
    /// A macvlan on a host interface, in the container.
    #[command(
        after_help = "Examples:\n  dockhand link add macvlan web --parent eth0 --if lan0 --ip 192.0.2.10/24 --gateway 192.0.2.1"
    )]
    Macvlan {
        /// Container name or id.
        name: String,
        /// The host interface it sits on.
        #[arg(long, value_name = "HOSTIF")]
        parent: String,
        /// The interface name in the container.
        #[arg(long = "if", value_name = "IFNAME")]
        ifname: String,
        /// bridge, private, vepa or passthru.
        #[arg(long, default_value = "bridge")]
        mode: String,
        #[command(flatten)]
        addressing: AddressArgs,
    },
}

// Addresses and gateway of the interface in the container. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Args, Debug, Clone)]
pub struct AddressArgs {
    /// Address with prefix (IPv4 or IPv6); repeat for more.
    #[arg(long = "ip", value_name = "CIDR")]
    ips: Vec<String>,
    /// Default gateway (must be in the subnet of an --ip).
    #[arg(long, value_name = "IP")]
    gateway: Option<String>,
}

impl AddressArgs {
    fn parse(&self) -> Result<Addressing, Error> {
        let ips = self
            .ips
            .iter()
            .map(|s| s.parse::<Cidr>())
            .collect::<Result<Vec<_>, _>>()?;
        let gateway = self
            .gateway
            .as_deref()
            .map(str::parse::<GatewayAddr>)
            .transpose()?;
        Addressing::new(ips, gateway)
    }
}

fn opt<T>(
    value: Option<String>,
    parse: impl Fn(String) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    value.map(parse).transpose()
}

/// Run one link subcommand; returns the exit code. Every input is checked
/// before the engine is touched (exit 2).
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let Command::Link { cmd } = cmd;
    match cmd {
        LinkCommand::Add(AddCommand::Veth {
            name,
            ifname,
            host_if,
            addressing,
            mtu,
            mac,
            bridge,
        }) => {
            let name = ContainerRef::new(name)?;
            let spec = VethSpec {
                ifname: IfName::new(ifname)?,
                host_if: opt(host_if, IfName::new)?,
                addressing: addressing.parse()?,
                mtu: opt(mtu, |s| s.parse::<Mtu>())?,
                mac: opt(mac, |s| s.parse::<Mac>())?,
                bridge: opt(bridge, IfName::new)?,
            };
            report(out, &global.engine()?.netns().add_veth(&name, &spec)?)
        }
        LinkCommand::Add(AddCommand::Macvlan {
            name,
            parent,
            ifname,
            mode,
            addressing,
        }) => {
            let name = ContainerRef::new(name)?;
            let spec = MacvlanSpec {
                parent: IfName::new(parent)?,
                ifname: IfName::new(ifname)?,
                mode: mode.parse::<MacvlanMode>()?,
                addressing: addressing.parse()?,
            };
            report(out, &global.engine()?.netns().add_macvlan(&name, &spec)?)
        }
        LinkCommand::Move {
            name,
            host_if,
            ifname,
            addressing,
        } => {
            let name = ContainerRef::new(name)?;
            let spec = MoveSpec {
                host_if: IfName::new(host_if)?,
                ifname: opt(ifname, IfName::new)?,
                addressing: addressing.parse()?,
            };
            report(out, &global.engine()?.netns().move_in(&name, &spec)?)
        }
        LinkCommand::Del { name, ifname } => {
            let name = ContainerRef::new(name)?;
            let ifname = IfName::new(ifname)?;
            report(out, &global.engine()?.netns().remove(&name, &ifname)?)
        }
        LinkCommand::Ls { name } => {
            let name = ContainerRef::new(name)?;
            let (container, links) = global.engine()?.netns().list(&name)?;
            if out.is_json() {
                out.json(&json!({"container": container, "links": links}));
                return Ok(0);
            }
            if links.is_empty() {
                out.line(format!(
                    "no interfaces attached by dockhand in {}",
                    container.name
                ));
            }
            for a in &links {
                out.line(format!(
                    "{}  {}  host {}{}",
                    a.record.ifname,
                    a.record.kind,
                    a.record.host_if,
                    a.record
                        .phy
                        .as_deref()
                        .map(|p| format!(" (phy {p})"))
                        .unwrap_or_default()
                ));
                super::netns::print_link(out, &a.link);
            }
            Ok(0)
        }
        LinkCommand::ReleaseOrphans => release_orphans(global, out),
    }
}

fn report(out: &Out, change: &LinkChange) -> Result<i32, Error> {
    if out.is_json() {
        out.json(change);
        return Ok(0);
    }
    let r = &change.record;
    let what = match change.result {
        ChangeResult::Created => "created",
        ChangeResult::Unchanged => "unchanged",
        ChangeResult::Removed => "removed",
        ChangeResult::Returned => "returned to the host",
    };
    let (prefix, ran) = if change.dry_run {
        ("dry run, nothing changed; would be ", "would run")
    } else {
        ("", "ran")
    };
    out.line(format!(
        "{prefix}{what}: {} {} in {} (host side {})",
        r.kind, r.ifname, change.container.name, r.host_if
    ));
    for c in &change.commands {
        out.line(format!("  {ran}: {c}"));
    }
    Ok(0)
}

fn release_orphans(global: &Global, out: &Out) -> Result<i32, Error> {
    let released = global.engine()?.netns().release_orphans()?;
    let code = released
        .iter()
        .find_map(|r| r.result.as_ref().err())
        .map_or(0, exit_code);
    if out.is_json() {
        let items: Vec<_> = released
            .iter()
            .map(|r| match &r.result {
                Ok(commands) => json!({
                    "found_as": r.orphan.found_as,
                    "original": r.orphan.original,
                    "container_id": r.orphan.container_id,
                    "released": true,
                    "commands": commands,
                }),
                Err(e) => json!({
                    "found_as": r.orphan.found_as,
                    "original": r.orphan.original,
                    "container_id": r.orphan.container_id,
                    "released": false,
                    "error": {"kind": e.kind(), "message": e.message()},
                }),
            })
            .collect();
        out.json(&json!({ "orphans": items }));
    } else if released.is_empty() {
        out.line("no orphaned interfaces");
    }
    for r in &released {
        match &r.result {
            Ok(_) if !out.is_json() => out.line(format!(
                "released {} as {} (was in container {})",
                r.orphan.found_as, r.orphan.original, r.orphan.container_id
            )),
            Ok(_) => {}
            Err(e) => out.error(e),
        }
    }
    Ok(code)
}

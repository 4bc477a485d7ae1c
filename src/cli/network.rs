//! `network ls|inspect|create|rm|connect|disconnect|gateway`.

use clap::Subcommand;
use serde_json::json;

use super::{Global, Out};
use dockhand::input::{ContainerRef, KeyValue, NetworkAlias, NetworkName, Subnet};
use dockhand::network::{Network, NetworkCreateOptions};
use dockhand::Error;

/// Network subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Manage networks.
    #[command(after_help = "Examples:\n  dockhand network create appnet\n  dockhand network ls")]
    Network {
        #[command(subcommand)]
        cmd: NetworkCommand,
    },
}

// `network …` subcommands. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum NetworkCommand {
    /// List networks, fully inspected.
    #[command(
        after_help = "Examples:\n  dockhand network ls\n  dockhand --json network ls --filter label=app=web"
    )]
    Ls {
        /// Engine filter, e.g. label=k=v, driver=bridge.
        #[arg(long, value_name = "KEY=VALUE")]
        filter: Vec<String>,
    },
    /// Inspect networks in one call; prints the found ones and exits 3 when any is missing.
    #[command(
        after_help = "Examples:\n  dockhand network inspect appnet\n  dockhand --format '{{.name}} {{.driver}}' network inspect appnet bridge"
    )]
    Inspect {
        /// Network names or ids.
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// Create a network; prints it (a taken name exits 5).
    #[command(
        after_help = "Examples:\n  dockhand network create appnet --subnet 10.89.0.0/24 -l app=web"
    )]
    Create {
        /// Name.
        name: String,
        /// Driver (default bridge).
        #[arg(long)]
        driver: Option<String>,
        /// Subnet in CIDR notation.
        #[arg(long, value_name = "CIDR")]
        subnet: Option<String>,
        /// Gateway address inside the subnet.
        #[arg(long, value_name = "IP")]
        gateway: Option<String>,
        /// No route to the outside.
        #[arg(long)]
        internal: bool,
        /// Label KEY=VALUE (repeatable).
        #[arg(short, long, value_name = "KEY=VALUE")]
        label: Vec<String>,
    },
    /// Remove networks; networks that do not exist count as removed.
    #[command(after_help = "Examples:\n  dockhand network rm appnet")]
    Rm {
        /// Network names or ids.
        #[arg(required = true)]
        networks: Vec<String>,
    },
    /// Attach a container to a network (already attached exits 5).
    #[command(after_help = "Examples:\n  dockhand network connect appnet web")]
    Connect {
        /// Network.
        network: String,
        /// Container.
        container: String,
        /// DNS alias of the container on the network (repeatable).
        #[arg(long)]
        alias: Vec<String>,
    },
    /// Detach a container from a network (not attached counts as done).
    #[command(after_help = "Examples:\n  dockhand network disconnect appnet web")]
    Disconnect {
        /// Network.
        network: String,
        /// Container.
        container: String,
        /// Force the disconnection.
        #[arg(short, long)]
        force: bool,
    },
    /// The IPv4 gateway containers on NETWORK use (default: the engine's default network).
    #[command(
        after_help = "Examples:\n  dockhand network gateway\n  dockhand network gateway appnet"
    )]
    Gateway {
        /// Network name or id (default: docker's bridge, podman's podman).
        network: Option<String>,
    },
}

/// Run one network subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let Command::Network { cmd } = cmd;
    match cmd {
        NetworkCommand::Ls { filter } => {
            let filters = KeyValue::many("filter", &filter)?;
            let nets = global.engine()?.networks().list(&filters)?;
            print_networks(out, &nets);
            Ok(0)
        }
        NetworkCommand::Inspect { networks } => {
            let names = NetworkName::many(networks)?;
            let found = global.engine()?.networks().inspect(&names)?;
            print_networks(out, &found.items);
            found.error.map_or(Ok(0), Err)
        }
        NetworkCommand::Create {
            name,
            driver,
            subnet,
            gateway,
            internal,
            label,
        } => {
            let mut opts = NetworkCreateOptions::new(NetworkName::new(name)?);
            opts.driver = driver.map(NetworkName::new).transpose()?;
            opts.subnet = subnet.as_deref().map(Subnet::new).transpose()?;
            opts.gateway = gateway
                .as_deref()
                .map(|g| {
                    g.parse().map_err(|_| {
                        Error::invalid_input(format!("invalid gateway {g:?}: use an IP address"))
                    })
                })
                .transpose()?;
            opts.internal = internal;
            opts.labels = KeyValue::many("label", &label)?;
            opts.validate()?;
            let engine = global.engine()?;
            if engine.is_dry_run() {
                // Nothing is created, so there is nothing to inspect.
                return engine
                    .run(dockhand::network::create_plan(&opts))
                    .map(|()| 0);
            }
            let net = engine.networks().create(&opts)?;
            print_networks(out, std::slice::from_ref(&net));
            Ok(0)
        }
        NetworkCommand::Rm { networks } => {
            let names = NetworkName::many(networks)?;
            let removed = global.engine()?.networks().remove(&names)?;
            if out.is_json() {
                out.json(&json!({ "removed": removed }));
            } else {
                removed.iter().for_each(|r| out.line(r));
            }
            Ok(0)
        }
        NetworkCommand::Connect {
            network,
            container,
            alias,
        } => {
            let (network, container) = (NetworkName::new(network)?, ContainerRef::new(container)?);
            let aliases = NetworkAlias::many(alias)?;
            global
                .engine()?
                .networks()
                .connect(&network, &container, &aliases)?;
            if out.is_json() {
                out.json(&json!({"network": network, "container": container, "aliases": aliases}));
            }
            Ok(0)
        }
        NetworkCommand::Disconnect {
            network,
            container,
            force,
        } => {
            let (network, container) = (NetworkName::new(network)?, ContainerRef::new(container)?);
            global
                .engine()?
                .networks()
                .disconnect(&network, &container, force)?;
            if out.is_json() {
                out.json(&json!({"network": network, "container": container}));
            }
            Ok(0)
        }
        NetworkCommand::Gateway { network } => {
            let network = network.map(NetworkName::new).transpose()?;
            let gw = global.engine()?.networks().gateway(network.as_ref())?;
            if out.is_json() {
                out.json(&gw);
            } else {
                out.line(gw.gateway);
            }
            Ok(0)
        }
    }
}

fn print_networks(out: &Out, nets: &[Network]) {
    if out.is_json() {
        out.json(&nets);
        return;
    }
    out.line(format!(
        "{:<12}  {:<24}  {:<8}  {:<18}  {:<15}  CONTAINERS",
        "ID", "NAME", "DRIVER", "SUBNET", "GATEWAY"
    ));
    for n in nets {
        let subnets: Vec<&str> = n.subnets.iter().map(|s| s.subnet.as_str()).collect();
        out.line(format!(
            "{:<12}  {:<24}  {:<8}  {:<18}  {:<15}  {}",
            dockhand::decode::json::short_id(&n.id),
            n.name,
            n.driver,
            if subnets.is_empty() {
                "-".to_string()
            } else {
                subnets.join(",")
            },
            if n.gateways.is_empty() {
                "-".to_string()
            } else {
                n.gateways.join(",")
            },
            n.containers
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
}

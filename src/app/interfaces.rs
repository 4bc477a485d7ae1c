//! `x-dockhand.interfaces`: host interfaces as part of a service.
//!
//! ```yaml
//! services:
//!   router:
//!     image: …
//!     x-dockhand:
//!       interfaces:
//!         - {type: veth, name: lan0, host: dhr-lan0, addresses: [10.1.0.2/24], gateway: 10.1.0.1}
//!         - {type: macvlan, parent: eth0, name: wan0, mode: bridge, addresses: [192.0.2.10/24]}
//!         - {type: move, host: enp3s0, name: uplink}
//! ```
//!
//! They are plumbed with the [`netns`](crate::netns) machinery after the
//! container starts, and released before it stops or goes away (a moved
//! interface returns to the host under its own name; a veth or macvlan is
//! deleted), and restored on rollback. Each is recorded in the interface's
//! alias as `link add`/`link move` record it, so `dockhand link ls` shows
//! them, and the container carries the list in a label so that a rollback
//! can plumb the old container again.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::input::{Addressing, Cidr, ContainerRef, GatewayAddr, IfName, MacvlanMode, Mtu};
use crate::netns::link::{MacvlanSpec, MoveSpec, VethSpec};

use super::file::{Interface, InterfaceKind};

/// One interface, validated for the netns machinery.
#[derive(Debug, Clone)]
pub enum Plumbing {
    /// A veth pair.
    Veth(VethSpec),
    /// A macvlan.
    Macvlan(MacvlanSpec),
    /// A moved host interface.
    Move(MoveSpec),
}

impl Plumbing {
    /// The interface's name in the container.
    pub fn ifname(&self) -> &IfName {
        match self {
            Plumbing::Veth(v) => &v.ifname,
            Plumbing::Macvlan(m) => &m.ifname,
            Plumbing::Move(m) => m.target_name(),
        }
    }
}

/// Validate one entry (an InvalidInput error naming its line).
///
/// ```
/// use dockhand::app::{file::{Interface, InterfaceKind}, interfaces::plumbing};
/// let veth = Interface { kind: InterfaceKind::Veth, name: Some("lan0".into()), host: None, parent: None, mode: None,
///                        bridge: None, mtu: None, addresses: vec!["10.1.0.2/24".into()], gateway: Some("10.1.0.1".into()), at: Default::default() };
/// assert!(plumbing(&veth, "router").is_ok());
/// ```
pub fn plumbing(i: &Interface, service: &str) -> Result<Plumbing> {
    let bad = |e: Error| {
        i.at.error(Some(service), "x-dockhand.interfaces", e.message())
    };
    let need = |what: &Option<String>, key: &str| {
        what.as_deref()
            .ok_or_else(|| {
                i.at.error(
                    Some(service),
                    "x-dockhand.interfaces",
                    format!("a {} interface needs {key}", kind_word(i.kind)),
                )
            })
            .and_then(|v| IfName::new(v).map_err(bad))
    };
    let addresses: Vec<Cidr> = i
        .addresses
        .iter()
        .map(|a| a.parse().map_err(bad))
        .collect::<Result<_>>()?;
    let gateway: Option<GatewayAddr> = i
        .gateway
        .as_deref()
        .map(|g| g.parse().map_err(bad))
        .transpose()?;
    let addressing = Addressing::new(addresses, gateway).map_err(bad)?;
    Ok(match i.kind {
        InterfaceKind::Veth => Plumbing::Veth(VethSpec {
            ifname: need(&i.name, "name")?,
            host_if: i
                .host
                .as_deref()
                .map(|h| IfName::new(h).map_err(bad))
                .transpose()?,
            addressing,
            mtu: i.mtu.map(|m| Mtu::new(m).map_err(bad)).transpose()?,
            mac: None,
            bridge: i
                .bridge
                .as_deref()
                .map(|b| IfName::new(b).map_err(bad))
                .transpose()?,
        }),
        InterfaceKind::Macvlan => Plumbing::Macvlan(MacvlanSpec {
            parent: need(&i.parent, "parent")?,
            ifname: need(&i.name, "name")?,
            mode: i
                .mode
                .as_deref()
                .map(|m| m.parse::<MacvlanMode>().map_err(bad))
                .transpose()?
                .unwrap_or_default(),
            addressing,
        }),
        InterfaceKind::Move => Plumbing::Move(MoveSpec {
            host_if: need(&i.host, "host")?,
            ifname: i
                .name
                .as_deref()
                .map(|n| IfName::new(n).map_err(bad))
                .transpose()?,
            addressing,
        }),
    })
}

fn kind_word(kind: InterfaceKind) -> &'static str {
    match kind {
        InterfaceKind::Veth => "veth",
        InterfaceKind::Macvlan => "macvlan",
        InterfaceKind::Move => "move",
    }
}

/// Plumb every interface into the running container, all or nothing: when
/// one fails, those already plumbed are released again.
pub fn attach(
    engine: &Engine,
    container: &ContainerRef,
    interfaces: &[Interface],
    service: &str,
) -> Result<()> {
    let specs: Vec<Plumbing> = interfaces
        .iter()
        .map(|i| plumbing(i, service))
        .collect::<Result<_>>()?;
    let netns = engine.netns();
    for (n, spec) in specs.iter().enumerate() {
        let done = match spec {
            Plumbing::Veth(v) => netns.add_veth(container, v),
            Plumbing::Macvlan(m) => netns.add_macvlan(container, m),
            Plumbing::Move(m) => netns.move_in(container, m),
        };
        if let Err(e) = done {
            let undo = super::apply::undo_engine(engine);
            for earlier in specs[..n].iter().rev() {
                if let Err(undo) = undo.netns().remove(container, earlier.ifname()) {
                    log::warn!(
                        "could not release {} from {container} after a failed plumbing: {undo}",
                        earlier.ifname().as_str()
                    );
                }
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Release the interfaces from the container (in reverse), going on past a
/// failure and reporting every one. An interface that is not there any more
/// counts as released.
pub fn release(
    engine: &Engine,
    container: &ContainerRef,
    interfaces: &[Interface],
    service: &str,
) -> Result<()> {
    let netns = engine.netns();
    let mut failures = Vec::new();
    for i in interfaces.iter().rev() {
        let spec = plumbing(i, service)?;
        match netns.remove(container, spec.ifname()) {
            Ok(_) => {}
            Err(e) if e.kind() == crate::ErrorKind::NotFound => {}
            Err(e) => failures.push(format!("{}: {e}", spec.ifname().as_str())),
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(Error::new(
            crate::ErrorKind::EngineFailure,
            format!(
                "releasing the interfaces of {container} failed: {}",
                failures.join("; ")
            ),
        )),
    }
}

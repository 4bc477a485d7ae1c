//! `link add veth` and `link add macvlan`: a new interface in the container.

use super::record::{AttachKind, Record};
use super::{
    addressing_diffs, configure, conflict, default_host_end, existing, find, unchanged_or_conflict,
    AttachPlan, Snapshot, Step,
};
use crate::decode::json::short_id;
use crate::error::{Error, ErrorKind, Result};
use crate::input::{Addressing, IfName, Mac, MacvlanMode, Mtu};
use crate::netns::ip::Namespace;
use crate::netns::RunningContainer;

/// `link add veth`: a veth pair, one end in the container.
#[derive(Debug, Clone)]
pub struct VethSpec {
    /// The name in the container.
    pub ifname: IfName,
    /// The host end's name (default: [`default_host_end`]).
    pub host_if: Option<IfName>,
    /// Addresses and default gateway in the container.
    pub addressing: Addressing,
    /// MTU of both ends.
    pub mtu: Option<Mtu>,
    /// MAC of the container end.
    pub mac: Option<Mac>,
    /// Host bridge to attach the host end to.
    pub bridge: Option<IfName>,
}

/// `link add macvlan`: a macvlan on a host interface, in the container.
#[derive(Debug, Clone)]
pub struct MacvlanSpec {
    /// The host interface it sits on.
    pub parent: IfName,
    /// The name in the container.
    pub ifname: IfName,
    /// Macvlan mode.
    pub mode: MacvlanMode,
    /// Addresses and default gateway in the container.
    pub addressing: Addressing,
}

/// Decide `link add veth`.
///
/// The pair is created with its peer directly in the container
/// (`ip link add dev HOST type veth peer name IF netns PID`), so there is
/// no temporary name that could collide; deleting the host end (the undo)
/// removes both ends and everything configured on them.
/// ```no_run
/// use dockhand::{input::{Addressing, IfName}, netns::link::{plan_veth, VethSpec}};
/// let engine = dockhand::Engine::detect()?;
/// let web = engine.netns().running_container(&"web".parse()?)?;
/// let spec = VethSpec { ifname: IfName::new("eth1")?, host_if: None, addressing: Addressing::default(),
///                       mtu: None, mac: None, bridge: None };
/// let (record, plan) = plan_veth(&web, &spec, &Default::default())?;
/// println!("{} {plan:?}", record.alias());
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn plan_veth(
    c: &RunningContainer,
    spec: &VethSpec,
    s: &Snapshot,
) -> Result<(Record, AttachPlan)> {
    let host_if = match &spec.host_if {
        Some(n) => n.as_str().to_string(),
        None => default_host_end(&c.id, spec.ifname.as_str()),
    };
    let rec = Record {
        kind: AttachKind::Veth,
        host_if: host_if.clone(),
        ifname: spec.ifname.as_str().to_string(),
        container_id: short_id(&c.id).to_string(),
        phy: None,
        previous_alias: None,
    };
    let host_rec = Record {
        kind: AttachKind::VethHost,
        ..rec.clone()
    };
    if let Some(br) = &spec.bridge {
        if find(&s.host, br.as_str()).is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("bridge {br} does not exist on the host", br = br.as_str()),
            ));
        }
    }
    if let Some(link) = existing(s, &rec)? {
        let mut diffs = Vec::new();
        match find(&s.host, &host_if) {
            None => diffs.push(format!("its host end {host_if} is missing")),
            Some(h) => {
                if Record::of(h).as_ref() != Some(&host_rec) {
                    diffs.push(format!("{host_if} on the host carries no matching record"));
                }
                let want_bridge = spec.bridge.as_ref().map(IfName::as_str);
                if h.master.as_deref() != want_bridge {
                    let in_bridge = |b: Option<&str>| match b {
                        Some(b) => format!("in bridge {b}"),
                        None => "in no bridge".to_string(),
                    };
                    diffs.push(format!(
                        "its host end is {}, not {}",
                        in_bridge(h.master.as_deref()),
                        in_bridge(want_bridge)
                    ));
                }
                if let Some(mtu) = spec.mtu.filter(|m| m.get() != h.mtu) {
                    diffs.push(format!("its host end has MTU {}, not {mtu}", h.mtu));
                }
                if !h.up {
                    diffs.push("its host end is down".to_string());
                }
            }
        }
        if let Some(mtu) = spec.mtu.filter(|m| m.get() != link.mtu) {
            diffs.push(format!("it has MTU {}, not {mtu}", link.mtu));
        }
        if let Some(mac) = spec.mac.filter(|m| m.to_string() != link.mac) {
            diffs.push(format!("it has MAC {}, not {mac}", link.mac));
        }
        diffs.extend(addressing_diffs(link, &spec.addressing, &s.routes));
        let what = format!("veth {} (host end {host_if})", rec.ifname);
        return Ok((rec, unchanged_or_conflict(&what, diffs)?));
    }
    if find(&s.host, &host_if).is_some() {
        return Err(conflict(format!(
            "the host already has an interface named {host_if}; choose another --host-if"
        )));
    }

    let (host, ns) = (Namespace::Host, Namespace::Of(c.pid));
    let ifname = rec.ifname.as_str();
    let pid = c.pid.to_string();
    let mtu = spec.mtu.map(|m| m.to_string());
    let mac = spec.mac.map(|m| m.to_string());
    let mut create: Vec<&str> = vec!["link", "add", "dev", &host_if];
    if let Some(m) = &mtu {
        create.extend(["mtu", m]);
    }
    create.extend(["type", "veth", "peer", "name", ifname, "netns", &pid]);
    if let Some(m) = &mac {
        create.extend(["address", m]);
    }
    if let Some(m) = &mtu {
        create.extend(["mtu", m]);
    }
    let mut steps = vec![
        Step::new(
            format!("create veth pair {host_if} (host) / {ifname} (container)"),
            host.ip_change(create),
        )
        .undone_by(host.ip_change(["link", "del", "dev", &host_if])),
        // The kernel ignores an alias given to `ip link add`: set it apart.
        Step::new(
            format!("record {host_if} in its alias (host)"),
            host.ip_change(["link", "set", "dev", &host_if, "alias", &host_rec.alias()]),
        ),
        Step::new(
            format!("record {ifname} in its alias (container)"),
            ns.ip_change(["link", "set", "dev", ifname, "alias", &rec.alias()]),
        ),
    ];
    if let Some(br) = &spec.bridge {
        steps.push(Step::new(
            format!("attach {host_if} to bridge {} (host)", br.as_str()),
            host.ip_change(["link", "set", "dev", &host_if, "master", br.as_str()]),
        ));
    }
    steps.push(Step::new(
        format!("bring {host_if} up (host)"),
        host.ip_change(["link", "set", "dev", &host_if, "up"]),
    ));
    steps.extend(configure(ns, ifname, &spec.addressing));
    Ok((rec, AttachPlan::Apply(steps)))
}

/// Decide `link add macvlan`. The macvlan is created directly in the
/// container (`ip link add link PARENT name IF netns PID type macvlan`),
/// so no temporary host name is needed.
/// ```no_run
/// use dockhand::{input::{Addressing, IfName, MacvlanMode}, netns::link::{plan_macvlan, MacvlanSpec}};
/// let engine = dockhand::Engine::detect()?;
/// let web = engine.netns().running_container(&"web".parse()?)?;
/// let spec = MacvlanSpec { parent: IfName::new("eth0")?, ifname: IfName::new("lan")?,
///                          mode: MacvlanMode::Bridge, addressing: Addressing::default() };
/// let (_, plan) = plan_macvlan(&web, &spec, &Default::default())?;
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn plan_macvlan(
    c: &RunningContainer,
    spec: &MacvlanSpec,
    s: &Snapshot,
) -> Result<(Record, AttachPlan)> {
    let rec = Record {
        kind: AttachKind::Macvlan,
        host_if: spec.parent.as_str().to_string(),
        ifname: spec.ifname.as_str().to_string(),
        container_id: short_id(&c.id).to_string(),
        phy: None,
        previous_alias: None,
    };
    if find(&s.host, &rec.host_if).is_none() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "parent interface {} does not exist on the host",
                rec.host_if
            ),
        ));
    }
    if let Some(link) = existing(s, &rec)? {
        let mut diffs = Vec::new();
        let mode = link.macvlan_mode().unwrap_or("unknown");
        if mode != spec.mode.as_str() {
            diffs.push(format!("it is in mode {mode}, not {}", spec.mode));
        }
        diffs.extend(addressing_diffs(link, &spec.addressing, &s.routes));
        let what = format!("macvlan {} on {}", rec.ifname, rec.host_if);
        return Ok((rec, unchanged_or_conflict(&what, diffs)?));
    }
    let (host, ns) = (Namespace::Host, Namespace::Of(c.pid));
    let (ifname, parent) = (rec.ifname.as_str(), rec.host_if.as_str());
    let pid = c.pid.to_string();
    let mut steps = vec![
        Step::new(
            format!(
                "create macvlan {ifname} on {parent} (mode {}) in the container",
                spec.mode
            ),
            host.ip_change([
                "link",
                "add",
                "link",
                parent,
                "name",
                ifname,
                "netns",
                &pid,
                "type",
                "macvlan",
                "mode",
                spec.mode.as_str(),
            ]),
        )
        .undone_by(ns.ip_change(["link", "del", "dev", ifname])),
        Step::new(
            format!("record {ifname} in its alias (container)"),
            ns.ip_change(["link", "set", "dev", ifname, "alias", &rec.alias()]),
        ),
    ];
    steps.extend(configure(ns, ifname, &spec.addressing));
    Ok((rec, AttachPlan::Apply(steps)))
}

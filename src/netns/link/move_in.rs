//! `link move`: a host interface (a wireless one with its phy) moved into the container.

use super::record::{AttachKind, Record, ALIAS_MAX};
use super::{
    addressing_diffs, configure, conflict, existing, find, iw, unchanged_or_conflict, AttachPlan,
    Snapshot, Step,
};
use crate::decode::json::short_id;
use crate::error::{Error, ErrorKind, Result};
use crate::input::{Addressing, IfName};
use crate::netns::ip::Namespace;
use crate::netns::RunningContainer;

/// `link move`: a host interface moved into the container.
#[derive(Debug, Clone)]
pub struct MoveSpec {
    /// The host interface.
    pub host_if: IfName,
    /// Its name in the container (default: unchanged).
    pub ifname: Option<IfName>,
    /// Addresses and default gateway in the container.
    pub addressing: Addressing,
}

impl MoveSpec {
    /// The name the interface will have in the container.
    pub fn target_name(&self) -> &IfName {
        self.ifname.as_ref().unwrap_or(&self.host_if)
    }
}

/// Decide `link move`. `phy` is the wireless phy of the host interface
/// (from `/sys/class/net/IF/phy80211`): a wireless interface cannot change
/// namespace by itself, its phy moves (with `iw`) and takes it along.
/// `home` is a process in the host namespace, where an undo moves the
/// interface back to.
/// ```no_run
/// use dockhand::{input::{Addressing, IfName}, netns::link::{plan_move, MoveSpec}};
/// let engine = dockhand::Engine::detect()?;
/// let router = engine.netns().running_container(&"router".parse()?)?;
/// let spec = MoveSpec { host_if: IfName::new("enp3s0")?, ifname: None, addressing: Addressing::default() };
/// let (_, plan) = plan_move(&router, &spec, None, std::process::id(), &Default::default())?;
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn plan_move(
    c: &RunningContainer,
    spec: &MoveSpec,
    phy: Option<&str>,
    home: u32,
    s: &Snapshot,
) -> Result<(Record, AttachPlan)> {
    if let Some(p) = phy.filter(|p| p.is_empty() || p.contains(char::is_whitespace)) {
        return Err(Error::invalid_input(format!(
            "wireless phy name {p:?} cannot be recorded (empty or with spaces); rename the phy first"
        )));
    }
    let host_if = spec.host_if.as_str();
    let on_host = find(&s.host, host_if);
    // Moved by an earlier run: the record is in the container (and the
    // host, no longer seeing the interface, cannot tell its phy).
    let moved_before = s.container.iter().find_map(|l| {
        let r = Record::of(l)?;
        (r.kind == AttachKind::Moved && r.host_if == host_if).then_some((l, r))
    });
    if let (None, Some((link, earlier))) = (on_host, moved_before) {
        if link.name != spec.target_name().as_str() {
            return Err(conflict(format!(
                "{host_if} is already in the container as {}; `dockhand link del` it first",
                link.name
            )));
        }
        let what = format!("moved interface {} (host {host_if})", link.name);
        let diffs = addressing_diffs(link, &spec.addressing, &s.routes);
        return Ok((earlier, unchanged_or_conflict(&what, diffs)?));
    }
    let Some(source) = on_host else {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("the host has no interface named {host_if}"),
        ));
    };
    if let Some(r) = Record::of(source) {
        return Err(conflict(format!(
            "{host_if} on the host is dockhand's {} for container {}; refusing to move it",
            r.kind, r.container_id
        )));
    }
    let rec = Record {
        kind: AttachKind::Moved,
        host_if: host_if.to_string(),
        ifname: spec.target_name().as_str().to_string(),
        container_id: short_id(&c.id).to_string(),
        phy: phy.map(str::to_string),
        previous_alias: source.alias.clone().filter(|a| !a.is_empty()),
    };
    let alias = rec.alias();
    if alias.len() > ALIAS_MAX {
        return Err(conflict(format!(
            "the alias of {host_if} is too long to keep next to dockhand's record \
             ({} bytes with it, the kernel keeps {ALIAS_MAX}); shorten or clear it first",
            alias.len()
        )));
    }
    if existing(s, &rec)?.is_some() {
        return Err(conflict(format!(
            "the container already has {} from {host_if}, and the host has another {host_if}",
            rec.ifname
        )));
    }
    let (host, ns) = (Namespace::Host, Namespace::Of(c.pid));
    let ifname = rec.ifname.as_str();
    let (pid, home) = (c.pid.to_string(), home.to_string());
    let old_alias = rec.alias_to_restore();
    // Each step is one atomic kernel change. `ip link set dev A netns P name
    // B` is atomic only when A's name is taken in the target (the kernel then
    // picks B while moving); otherwise it moves A as A and renames it after,
    // and a failed rename leaves it moved. So the move keeps the name and a
    // rename inside follows — unless the name is taken inside. The record
    // (alias) rides on the move itself: never on the host before the move,
    // where `release-orphans` would take it for a returned interface.
    let name_taken_inside = find(&s.container, host_if).is_some();
    let mut steps = match (phy, name_taken_inside) {
        (Some(_), true) => {
            return Err(conflict(format!(
                "the container already has an interface named {host_if}; a wireless interface \
                 keeps its name while its phy moves, so move it when that name is free"
            )))
        }
        (Some(phy), false) => vec![
            Step::new(
                format!("move wireless {phy} (with {host_if}) into the container"),
                iw(host, ["phy", phy, "set", "netns", &pid]),
            )
            .undone_by(iw(ns, ["phy", phy, "set", "netns", &home])),
            Step::new(
                format!("rename {host_if} to {ifname} and record it (container)"),
                ns.ip_change([
                    "link", "set", "dev", host_if, "name", ifname, "alias", &alias,
                ]),
            )
            .undone_by(ns.ip_change([
                "link", "set", "dev", ifname, "name", host_if, "alias", old_alias,
            ])),
        ],
        (None, false) => {
            let mut steps = vec![Step::new(
                format!("move {host_if} into the container and record it"),
                host.ip_change([
                    "link", "set", "dev", host_if, "netns", &pid, "alias", &alias,
                ]),
            )
            .undone_by(ns.ip_change([
                "link", "set", "dev", host_if, "netns", &home, "alias", old_alias,
            ]))];
            if ifname != host_if {
                steps.push(
                    Step::new(
                        format!("rename {host_if} to {ifname} (container)"),
                        ns.ip_change(["link", "set", "dev", host_if, "name", ifname]),
                    )
                    .undone_by(ns.ip_change(["link", "set", "dev", ifname, "name", host_if])),
                );
            }
            steps
        }
        (None, true) => vec![Step::new(
            format!("move {host_if} into the container as {ifname} and record it"),
            host.ip_change([
                "link", "set", "dev", host_if, "netns", &pid, "name", ifname, "alias", &alias,
            ]),
        )
        .undone_by(ns.ip_change([
            "link", "set", "dev", ifname, "netns", &home, "name", host_if, "alias", old_alias,
        ]))],
    };
    steps.extend(configure(ns, ifname, &spec.addressing));
    Ok((rec, AttachPlan::Apply(steps)))
}

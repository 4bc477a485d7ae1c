//! `link del` and `link release-orphans`: the steps that take an attachment apart.

use serde::Serialize;

use super::record::{AttachKind, Record};
use super::{conflict, find, iw, Snapshot, Step};
use crate::error::{Error, ErrorKind, Result};
use crate::input::IfName;
use crate::netns::ip::{Link, Namespace};
use crate::netns::RunningContainer;

/// Decide `link del`: the teardown steps for the container's `ifname`.
/// A veth or macvlan is deleted; a moved interface goes back to the host
/// namespace (that of process `home`), down, under its original name, with
/// the record cleared.
/// ```no_run
/// use dockhand::{input::IfName, netns::link::plan_del};
/// let engine = dockhand::Engine::detect()?;
/// let web = engine.netns().running_container(&"web".parse()?)?;
/// let (record, steps) = plan_del(&web, &IfName::new("eth1")?, std::process::id(), &Default::default())?;
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn plan_del(
    c: &RunningContainer,
    ifname: &IfName,
    home: u32,
    s: &Snapshot,
) -> Result<(Record, Vec<Step>)> {
    let name = ifname.as_str();
    let link = find(&s.container, name).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("the container has no interface named {name}"),
        )
    })?;
    let rec = Record::of(link).ok_or_else(|| {
        conflict(format!(
            "{name} in the container was not attached by dockhand (no dockhand alias); refusing to remove it"
        ))
    })?;
    let ns = Namespace::Of(c.pid);
    let home = home.to_string();
    let host_if = rec.host_if.as_str();
    let steps = match (&rec.kind, &rec.phy) {
        (AttachKind::Veth | AttachKind::Macvlan, _) => vec![Step::new(
            format!("delete {} {name} (container)", rec.kind),
            ns.ip_change(["link", "del", "dev", name]),
        )],
        (AttachKind::Moved, phy) => {
            if find(&s.host, host_if).is_some() {
                return Err(conflict(format!(
                    "cannot give {name} back as {host_if}: the host has another interface with that name; \
                     rename or remove it first"
                )));
            }
            let down = Step::new(
                format!("bring {name} down (container)"),
                ns.ip_change(["link", "set", "dev", name, "down"]),
            );
            match phy {
                None => vec![
                    down,
                    Step::new(
                        format!("move {name} back to the host as {host_if}"),
                        ns.ip_change([
                            "link",
                            "set",
                            "dev",
                            name,
                            "netns",
                            &home,
                            "name",
                            host_if,
                            "alias",
                            rec.alias_to_restore(),
                        ]),
                    ),
                ],
                // The record goes last: until then a half-done return can
                // be finished by `link del` or `release-orphans`.
                Some(phy) => vec![
                    down,
                    Step::new(
                        format!("rename {name} back to {host_if} (container)"),
                        ns.ip_change(["link", "set", "dev", name, "name", host_if]),
                    ),
                    Step::new(
                        format!("move wireless {phy} back to the host"),
                        iw(ns, ["phy", phy, "set", "netns", &home]),
                    ),
                    Step::new(
                        format!("restore the alias of {host_if} (host)"),
                        Namespace::Host.ip_change([
                            "link",
                            "set",
                            "dev",
                            host_if,
                            "alias",
                            rec.alias_to_restore(),
                        ]),
                    ),
                ],
            }
        }
        (kind, _) => {
            return Err(conflict(format!(
                "{name} carries a dockhand record of kind {kind}, which `link del` does not handle"
            )))
        }
    };
    Ok((rec, steps))
}

/// A moved interface found back on the host after its container went away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Orphan {
    /// The name the kernel gave it on the way back (`dev<ifindex>` …).
    pub found_as: String,
    /// Its original name, from the record.
    pub original: String,
    /// The container it had been moved into.
    pub container_id: String,
}

/// Find dockhand-moved interfaces in the host namespace and the steps that
/// bring each down, give it its original name back and restore its old
/// alias (which clears the record). The kernel returns a physical interface
/// whose namespace dies under its name in the container, or `dev<ifindex>`
/// when that is taken. An orphan whose original name is taken is an error
/// of its own; the others still go ahead.
///
/// ```
/// let host = dockhand::netns::ip::parse_links(b"[]").unwrap();
/// assert!(dockhand::netns::link::plan_release_orphans(&host).is_empty());
/// ```
pub fn plan_release_orphans(host: &[Link]) -> Vec<(Orphan, Result<Vec<Step>>)> {
    let ns = Namespace::Host;
    host.iter()
        .filter_map(|link| {
            let rec = Record::of(link).filter(|r| r.kind == AttachKind::Moved)?;
            let orphan = Orphan {
                found_as: link.name.clone(),
                original: rec.host_if.clone(),
                container_id: rec.container_id.clone(),
            };
            let (cur, orig) = (orphan.found_as.as_str(), orphan.original.as_str());
            if cur != orig && find(host, orig).is_some() {
                let e = conflict(format!(
                    "cannot rename {cur} back to {orig}: another interface on the host has that name"
                ));
                return Some((orphan, Err(e)));
            }
            let down = Step::new(
                format!("bring {cur} down"),
                ns.ip_change(["link", "set", "dev", cur, "down"]),
            );
            let restore = Step::new(
                format!("rename {cur} back to {orig} and restore its alias"),
                ns.ip_change([
                    "link",
                    "set",
                    "dev",
                    cur,
                    "name",
                    orig,
                    "alias",
                    rec.alias_to_restore(),
                ]),
            );
            Some((orphan, Ok(vec![down, restore])))
        })
        .collect()
}

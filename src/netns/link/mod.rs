//! Attaching interfaces to a container, as data: each `link add`/`move` is a
//! list of [`Step`]s with undo plans, decided from a [`Snapshot`] of both
//! namespaces; each `link del` / orphan release is a list of teardown steps.
//!
//! What dockhand attached is recorded **on the interface itself**, in its
//! alias (`ip link set dev X alias 'dockhand:v1 kind=… host=… if=… ctr=…'`):
//! the kernel keeps it across namespace moves, so no state file can be lost
//! or disagree with the kernel (see [`Record`]).
//!
//! Nothing here runs a command; [`Engine`](crate::Engine) methods in
//! [`netns`](super) read the snapshot, call these planners and carry the
//! steps out (with rollback).

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::ip::{Family, Link, Namespace, Route};
use crate::engine::plan::{Effect, Plan};
use crate::error::{Error, ErrorKind, Result};
use crate::input::Addressing;

mod add;
mod move_in;
mod record;
mod teardown;

pub use add::{plan_macvlan, plan_veth, MacvlanSpec, VethSpec};
pub use move_in::{plan_move, MoveSpec};
pub use record::{attached, AttachKind, Attached, Record, ALIAS_MAX, ALIAS_PREFIX};
pub use teardown::{plan_del, plan_release_orphans, Orphan};

/// One step of a change: what it does in words (for errors and dry runs),
/// the command, and the command that undoes it (`None` when an earlier
/// step's undo covers it: deleting a veth pair removes its addresses too).
#[derive(Debug)]
pub struct Step {
    /// What the step does, e.g. `add address 10.1.0.2/24 to eth1 (container)`.
    pub what: String,
    /// The command.
    pub plan: Plan<()>,
    /// The command undoing it, run when a later step fails.
    pub undo: Option<Plan<()>>,
}

impl Step {
    fn new(what: impl Into<String>, plan: Plan<()>) -> Step {
        Step {
            what: what.into(),
            plan,
            undo: None,
        }
    }

    fn undone_by(mut self, undo: Plan<()>) -> Step {
        self.undo = Some(undo);
        self
    }
}

/// What an add/move has to do.
#[derive(Debug)]
pub enum AttachPlan {
    /// The interface is already there exactly as asked.
    Unchanged,
    /// Carry out these steps, all or nothing.
    Apply(Vec<Step>),
}

/// The state both namespaces are in before a change.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Links of the host namespace.
    pub host: Vec<Link>,
    /// Links (with addresses) of the container's namespace.
    pub container: Vec<Link>,
    /// IPv4 and IPv6 routes of the container's main table.
    pub routes: Vec<Route>,
}

/// The host end's name when none is given: `dh` + 12 hex digits of a hash
/// of the container id and the interface name — the same for the same
/// container and name (so a repeated add finds it), 14 characters.
///
/// ```
/// use dockhand::netns::link::default_host_end;
/// let a = default_host_end("0123456789abcdef", "eth1");
/// assert_eq!(a.len(), 14);
/// assert_eq!(a, default_host_end("0123456789abcdef", "eth1"));
/// assert_ne!(a, default_host_end("0123456789abcdef", "eth2"));
/// ```
pub fn default_host_end(container_id: &str, ifname: &str) -> String {
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in container_id.bytes().chain([0]).chain(ifname.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("dh{:012x}", h & 0xffff_ffff_ffff)
}

fn find<'a>(links: &'a [Link], name: &str) -> Option<&'a Link> {
    links.iter().find(|l| l.name == name)
}

fn conflict(message: String) -> Error {
    Error::new(ErrorKind::Conflict, message)
}

/// The container's link `ifname` if it is exactly the attachment `want`;
/// `None` if there is no such link; a conflict if a link of that name is
/// something else.
fn existing<'a>(s: &'a Snapshot, want: &Record) -> Result<Option<&'a Link>> {
    let Some(link) = find(&s.container, &want.ifname) else {
        return Ok(None);
    };
    match Record::of(link) {
        Some(r) if r == *want => Ok(Some(link)),
        Some(r) => Err(conflict(format!(
            "{} in the container is already attached by dockhand as {} (host side {}); \
             `dockhand link del` it first",
            want.ifname, r.kind, r.host_if
        ))),
        None => Err(conflict(format!(
            "the container already has an interface named {} that dockhand did not attach",
            want.ifname
        ))),
    }
}

/// Differences between an existing link's addresses, state and default
/// routes and what is asked for.
fn addressing_diffs(link: &Link, want: &Addressing, routes: &[Route]) -> Vec<String> {
    let mut diffs = Vec::new();
    if !link.up {
        diffs.push("it is down".to_string());
    }
    let wanted: BTreeSet<(IpAddr, u8)> = want
        .addresses()
        .iter()
        .map(|c| (c.addr(), c.prefix()))
        .collect();
    let actual: BTreeSet<(IpAddr, u8)> = link
        .addresses
        .iter()
        .filter_map(|a| Some((a.ip()?, a.prefixlen)))
        // The kernel adds an IPv6 link-local address by itself.
        .filter(|(ip, p)| wanted.contains(&(*ip, *p)) || !is_ipv6_link_local(*ip))
        .collect();
    for (ip, p) in wanted.difference(&actual) {
        diffs.push(format!("address {ip}/{p} is missing"));
    }
    for (ip, p) in actual.difference(&wanted) {
        diffs.push(format!("it has address {ip}/{p}, not asked for"));
    }
    let gateways: Vec<Option<IpAddr>> = routes
        .iter()
        .filter(|r| r.is_default() && r.dev.as_deref() == Some(link.name.as_str()))
        .map(|r| r.gateway.as_deref().and_then(|g| g.parse().ok()))
        .collect();
    let want_gw = want.gateway().map(|g| g.addr());
    if let Some(gw) = want_gw {
        if !gateways.contains(&Some(gw)) {
            diffs.push(format!("there is no default route via {gw}"));
        }
    }
    for gw in gateways.into_iter().filter(|g| *g != want_gw) {
        diffs.push(match gw {
            Some(g) => format!("it has a default route via {g}, not asked for"),
            None => "it has a default route, not asked for".to_string(),
        });
    }
    diffs
}

fn is_ipv6_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// Unchanged when nothing differs; a conflict naming the differences otherwise.
fn unchanged_or_conflict(what: &str, diffs: Vec<String>) -> Result<AttachPlan> {
    if diffs.is_empty() {
        return Ok(AttachPlan::Unchanged);
    }
    Err(conflict(format!(
        "{what} exists with other settings: {}; `dockhand link del` it first to re-create it",
        diffs.join("; ")
    )))
}

/// The last steps every attachment shares, in the container: addresses,
/// up, default route (after up: the kernel refuses a next hop on a down
/// device).
fn configure(ns: Namespace, ifname: &str, want: &Addressing) -> Vec<Step> {
    let mut steps: Vec<Step> = want
        .addresses()
        .iter()
        .map(|c| {
            let cidr = c.to_string();
            Step::new(
                format!("add address {cidr} to {ifname} (container)"),
                ns.ip_change(["addr", "add", cidr.as_str(), "dev", ifname]),
            )
        })
        .collect();
    steps.push(Step::new(
        format!("bring {ifname} up (container)"),
        ns.ip_change(["link", "set", "dev", ifname, "up"]),
    ));
    if let Some(gw) = want.gateway() {
        let family = match Family::of(gw.addr()) {
            Family::Inet6 => "-6",
            _ => "-4",
        };
        let via = gw.to_string();
        steps.push(Step::new(
            format!("add default route via {via} on {ifname} (container)"),
            ns.ip_change([
                family, "route", "add", "default", "via", &via, "dev", ifname,
            ]),
        ));
    }
    steps
}

/// `iw ARGS` in a namespace, never retried.
fn iw<const N: usize>(ns: Namespace, args: [&str; N]) -> Plan<()> {
    ns.plan(Effect::Mutating, "iw", args, |o| o.into_result().map(drop))
        .no_retry()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn iproute2(name: &str) -> Vec<u8> {
        testing::capture(&format!("iproute2/{name}"))
    }
    use crate::decode::json::short_id;
    use crate::engine::plan::Program;
    use crate::input::{IfName, MacvlanMode, Mtu};
    use crate::netns::ip::{parse_links, parse_routes};
    use crate::netns::RunningContainer;

    fn ctr() -> RunningContainer {
        RunningContainer {
            name: crate::input::ContainerRef::new("web").unwrap(),
            id: "c0ffee0123456789".into(),
            pid: 4242,
        }
    }

    fn argv(plan: &Plan<()>) -> String {
        let program = match plan.program() {
            Program::Host(p) => p.to_string_lossy().into_owned(),
            Program::Engine => "ENGINE".into(),
        };
        std::iter::once(program)
            .chain(plan.args().iter().map(|a| a.to_string_lossy().into_owned()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn veth(ifname: &str) -> VethSpec {
        VethSpec {
            ifname: IfName::new(ifname).unwrap(),
            host_if: Some(IfName::new("vhost1").unwrap()),
            addressing: Addressing::new(
                vec![
                    "10.1.0.2/24".parse().unwrap(),
                    "2001:db8::2/64".parse().unwrap(),
                ],
                Some("10.1.0.1".parse().unwrap()),
            )
            .unwrap(),
            mtu: Some(Mtu::new(1400).unwrap()),
            mac: Some("02:00:00:00:00:07".parse().unwrap()),
            bridge: None,
        }
    }

    fn link(json: &str) -> Link {
        parse_links(format!("[{json}]").as_bytes())
            .unwrap()
            .remove(0)
    }

    #[test]
    fn veth_steps_create_in_place_then_configure() {
        let (rec, d) = plan_veth(&ctr(), &veth("eth1"), &Snapshot::default()).unwrap();
        assert_eq!(
            rec.alias(),
            "dockhand:v1 kind=veth host=vhost1 if=eth1 ctr=c0ffee012345"
        );
        let AttachPlan::Apply(steps) = d else {
            panic!("{d:?}")
        };
        let cmds: Vec<String> = steps.iter().map(|s| argv(&s.plan)).collect();
        assert_eq!(
            cmds,
            [
                "ip link add dev vhost1 mtu 1400 type veth peer name eth1 netns 4242 address 02:00:00:00:00:07 mtu 1400",
                "ip link set dev vhost1 alias dockhand:v1 kind=veth-host host=vhost1 if=eth1 ctr=c0ffee012345",
                "nsenter --target 4242 --net -- ip link set dev eth1 alias dockhand:v1 kind=veth host=vhost1 if=eth1 ctr=c0ffee012345",
                "ip link set dev vhost1 up",
                "nsenter --target 4242 --net -- ip addr add 10.1.0.2/24 dev eth1",
                "nsenter --target 4242 --net -- ip addr add 2001:db8::2/64 dev eth1",
                "nsenter --target 4242 --net -- ip link set dev eth1 up",
                "nsenter --target 4242 --net -- ip -4 route add default via 10.1.0.1 dev eth1",
            ]
        );
        // Only creation needs an undo: deleting the pair undoes the rest.
        assert_eq!(
            argv(steps[0].undo.as_ref().unwrap()),
            "ip link del dev vhost1"
        );
        assert!(steps[1..].iter().all(|s| s.undo.is_none()));
        assert!(steps.iter().all(|s| s.plan.effect() == Effect::Mutating));
    }

    #[test]
    fn missing_bridge_is_not_found_before_any_step() {
        let mut spec = veth("eth1");
        spec.bridge = Some(IfName::new("nobr").unwrap());
        let e = plan_veth(&ctr(), &spec, &Snapshot::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_foreign_interface_of_that_name_is_a_conflict() {
        // docker's own eth0 inside a container (a real capture).
        let s = Snapshot {
            container: parse_links(&iproute2("netns-docker-addr-show.json")).unwrap(),
            ..Snapshot::default()
        };
        let e = plan_veth(&ctr(), &veth("eth0"), &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.message().contains("did not attach"), "{e}");
    }

    #[test]
    fn existing_host_name_is_a_conflict() {
        let s = Snapshot {
            host: parse_links(&iproute2("link-show-details.json")).unwrap(),
            ..Snapshot::default()
        };
        let mut spec = veth("eth1");
        spec.host_if = Some(IfName::new("vd-veth0").unwrap());
        let e = plan_veth(&ctr(), &spec, &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.message().contains("vd-veth0"), "{e}");
    }

    fn veth_snapshot_as_added(spec: &VethSpec) -> Snapshot {
        let c = ctr();
        let rec = Record {
            kind: AttachKind::Veth,
            host_if: "vhost1".into(),
            ifname: spec.ifname.as_str().into(),
            container_id: short_id(&c.id).to_string(),
            phy: None,
            previous_alias: None,
        };
        let host_rec = Record {
            kind: AttachKind::VethHost,
            ..rec.clone()
        };
        let alias = rec.alias();
        Snapshot {
            host: vec![link(&format!(
                r#"{{"ifindex":9,"ifname":"vhost1","flags":["UP"],"mtu":1400,"ifalias":"{}"}}"#,
                host_rec.alias()
            ))],
            container: vec![link(&format!(
                r#"{{"ifindex":2,"ifname":"eth1","flags":["BROADCAST","UP"],"mtu":1400,"address":"02:00:00:00:00:07","ifalias":"{alias}",
                "addr_info":[{{"family":"inet","local":"10.1.0.2","prefixlen":24,"scope":"global"}},
                             {{"family":"inet6","local":"2001:db8::2","prefixlen":64,"scope":"global"}},
                             {{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}}]}}"#
            ))],
            routes: parse_routes(
                br#"[{"dst":"default","gateway":"10.1.0.1","dev":"eth1","flags":[]}]"#,
                Family::Inet,
            )
            .unwrap(),
        }
    }

    #[test]
    fn the_same_add_again_is_unchanged() {
        let spec = veth("eth1");
        let s = veth_snapshot_as_added(&spec);
        let (_, d) = plan_veth(&ctr(), &spec, &s).unwrap();
        assert!(matches!(d, AttachPlan::Unchanged), "{d:?}");
    }

    #[test]
    fn the_same_interface_with_other_settings_is_a_conflict_naming_them() {
        let spec = veth("eth1");
        let s = veth_snapshot_as_added(&spec);
        let mut other = spec.clone();
        other.mtu = Some(Mtu::new(1300).unwrap());
        other.addressing = Addressing::new(vec!["10.1.0.3/24".parse().unwrap()], None).unwrap();
        let e = plan_veth(&ctr(), &other, &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        for needle in [
            "MTU 1400, not 1300",
            "10.1.0.3/24 is missing",
            "2001:db8::2/64, not asked",
            "via 10.1.0.1, not asked",
        ] {
            assert!(e.message().contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn macvlan_is_created_in_the_container_and_undone_there() {
        let s = Snapshot {
            host: parse_links(&iproute2("link-show-details.json")).unwrap(),
            ..Snapshot::default()
        };
        let spec = MacvlanSpec {
            parent: IfName::new("vd-ifb0").unwrap(),
            ifname: IfName::new("mv0").unwrap(),
            mode: MacvlanMode::Private,
            addressing: Addressing::default(),
        };
        let (rec, d) = plan_macvlan(&ctr(), &spec, &s).unwrap();
        assert_eq!(rec.kind, AttachKind::Macvlan);
        let AttachPlan::Apply(steps) = d else {
            panic!()
        };
        assert_eq!(
            argv(&steps[0].plan),
            "ip link add link vd-ifb0 name mv0 netns 4242 type macvlan mode private"
        );
        assert_eq!(
            argv(steps[0].undo.as_ref().unwrap()),
            "nsenter --target 4242 --net -- ip link del dev mv0"
        );
        let missing = MacvlanSpec {
            parent: IfName::new("nope0").unwrap(),
            ..spec
        };
        assert_eq!(
            plan_macvlan(&ctr(), &missing, &s).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    fn cmds(steps: &[Step]) -> Vec<(String, Option<String>)> {
        steps
            .iter()
            .map(|s| (argv(&s.plan), s.undo.as_ref().map(argv)))
            .collect()
    }

    #[test]
    fn move_records_first_then_moves_and_renames_in_atomic_steps() {
        // vd-ifb0 carries a user alias in this capture: an undo restores it.
        let s = Snapshot {
            host: parse_links(&iproute2("link-show-details-dev-ifb-alias.json")).unwrap(),
            ..Snapshot::default()
        };
        let spec = MoveSpec {
            host_if: IfName::new("vd-ifb0").unwrap(),
            ifname: Some(IfName::new("uplink").unwrap()),
            addressing: Addressing::default(),
        };
        let (_, d) = plan_move(&ctr(), &spec, None, 1, &s).unwrap();
        let AttachPlan::Apply(steps) = d else {
            panic!()
        };
        let n = "nsenter --target 4242 --net --";
        let was = "dockhand test alias with spaces";
        let rec =
            format!("dockhand:v1 kind=moved host=vd-ifb0 if=uplink ctr=c0ffee012345 was={was}");
        assert_eq!(
            cmds(&steps[..2]),
            [
                (
                    format!("ip link set dev vd-ifb0 netns 4242 alias {rec}"),
                    Some(format!("{n} ip link set dev vd-ifb0 netns 1 alias {was}"))
                ),
                (
                    format!("{n} ip link set dev vd-ifb0 name uplink"),
                    Some(format!("{n} ip link set dev uplink name vd-ifb0"))
                ),
            ]
        );
        // Nothing touches the host interface before it moves.
        assert!(steps[2..].iter().all(|s| argv(&s.plan).starts_with(n)));
    }

    #[test]
    fn move_under_a_name_the_container_already_has_renames_while_moving() {
        // Moving the host's eth0 into a container that has its own eth0.
        let s = Snapshot {
            host: vec![link(r#"{"ifindex":2,"ifname":"eth0"}"#)],
            container: parse_links(&iproute2("netns-docker-addr-show.json")).unwrap(),
            routes: Vec::new(),
        };
        let spec = MoveSpec {
            host_if: IfName::new("eth0").unwrap(),
            ifname: Some(IfName::new("wan").unwrap()),
            addressing: Addressing::default(),
        };
        let (_, d) = plan_move(&ctr(), &spec, None, 1, &s).unwrap();
        let AttachPlan::Apply(steps) = d else {
            panic!()
        };
        let rec = "dockhand:v1 kind=moved host=eth0 if=wan ctr=c0ffee012345";
        assert_eq!(
            cmds(&steps[..1]),
            [(
                format!("ip link set dev eth0 netns 4242 name wan alias {rec}"),
                Some(
                    "nsenter --target 4242 --net -- ip link set dev wan netns 1 name eth0 alias "
                        .into()
                )
            )]
        );
        assert!(!argv(&steps[1].plan).contains("name"), "no separate rename");
        // Keeping the name is impossible there.
        let keep = MoveSpec {
            ifname: None,
            ..spec
        };
        assert_eq!(
            plan_move(&ctr(), &keep, None, 1, &s).unwrap_err().kind(),
            ErrorKind::Conflict
        );
    }

    #[test]
    fn wireless_move_goes_through_the_phy() {
        let s = Snapshot {
            host: vec![link(r#"{"ifindex":5,"ifname":"wlan0","flags":[]}"#)],
            ..Snapshot::default()
        };
        let spec = MoveSpec {
            host_if: IfName::new("wlan0").unwrap(),
            ifname: Some(IfName::new("wifi").unwrap()),
            addressing: Addressing::default(),
        };
        let (rec, d) = plan_move(&ctr(), &spec, Some("phy0"), 77, &s).unwrap();
        assert_eq!(rec.phy.as_deref(), Some("phy0"));
        let AttachPlan::Apply(steps) = d else {
            panic!()
        };
        assert_eq!(
            cmds(&steps[..2]),
            [
                (
                    "iw phy phy0 set netns 4242".into(),
                    Some("nsenter --target 4242 --net -- iw phy phy0 set netns 77".into())
                ),
                (
                    "nsenter --target 4242 --net -- ip link set dev wlan0 name wifi alias \
                     dockhand:v1 kind=moved host=wlan0 if=wifi ctr=c0ffee012345 phy=phy0"
                        .into(),
                    Some(
                        "nsenter --target 4242 --net -- ip link set dev wifi name wlan0 alias "
                            .into()
                    )
                ),
            ]
        );
        assert!(plan_move(&ctr(), &spec, Some("my phy"), 77, &s).is_err());
    }

    #[test]
    fn moving_a_missing_or_dockhand_owned_interface_is_refused() {
        let spec = MoveSpec {
            host_if: IfName::new("vhost1").unwrap(),
            ifname: None,
            addressing: Addressing::default(),
        };
        let e = plan_move(&ctr(), &spec, None, 1, &Snapshot::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let s = veth_snapshot_as_added(&veth("eth1"));
        let e = plan_move(&ctr(), &spec, None, 1, &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.message().contains("veth-host"), "{e}");
    }

    #[test]
    fn del_deletes_veths_and_gives_moved_interfaces_back() {
        let s = veth_snapshot_as_added(&veth("eth1"));
        let eth1 = IfName::new("eth1").unwrap();
        let (_, steps) = plan_del(&ctr(), &eth1, 1, &s).unwrap();
        assert_eq!(
            steps.iter().map(|s| argv(&s.plan)).collect::<Vec<_>>(),
            ["nsenter --target 4242 --net -- ip link del dev eth1"]
        );

        let moved = Record {
            kind: AttachKind::Moved,
            host_if: "enp3s0".into(),
            ifname: "eth1".into(),
            container_id: "c0ffee012345".into(),
            phy: None,
            previous_alias: Some("uplink nic".into()),
        };
        let s = Snapshot {
            container: vec![link(&format!(
                r#"{{"ifindex":3,"ifname":"eth1","flags":["UP"],"ifalias":"{}"}}"#,
                moved.alias()
            ))],
            ..Snapshot::default()
        };
        let (_, steps) = plan_del(&ctr(), &eth1, 1, &s).unwrap();
        assert_eq!(
            steps.iter().map(|s| argv(&s.plan)).collect::<Vec<_>>(),
            [
                "nsenter --target 4242 --net -- ip link set dev eth1 down",
                "nsenter --target 4242 --net -- ip link set dev eth1 netns 1 name enp3s0 alias uplink nic",
            ]
        );
        // The original name is taken on the host: refuse before changing anything.
        let taken = Snapshot {
            host: vec![link(r#"{"ifindex":9,"ifname":"enp3s0"}"#)],
            ..s
        };
        assert_eq!(
            plan_del(&ctr(), &eth1, 1, &taken).unwrap_err().kind(),
            ErrorKind::Conflict
        );
    }

    #[test]
    fn wireless_del_renames_moves_the_phy_back_and_clears_the_record_last() {
        let moved = Record {
            kind: AttachKind::Moved,
            host_if: "wlan0".into(),
            ifname: "wifi".into(),
            container_id: "c0ffee012345".into(),
            phy: Some("phy0".into()),
            previous_alias: None,
        };
        let s = Snapshot {
            container: vec![link(&format!(
                r#"{{"ifindex":3,"ifname":"wifi","ifalias":"{}"}}"#,
                moved.alias()
            ))],
            ..Snapshot::default()
        };
        let (_, steps) = plan_del(&ctr(), &IfName::new("wifi").unwrap(), 77, &s).unwrap();
        let n = "nsenter --target 4242 --net --";
        assert_eq!(
            steps.iter().map(|s| argv(&s.plan)).collect::<Vec<_>>(),
            [
                format!("{n} ip link set dev wifi down"),
                format!("{n} ip link set dev wifi name wlan0"),
                format!("{n} iw phy phy0 set netns 77"),
                "ip link set dev wlan0 alias ".to_string(),
            ]
        );
    }

    #[test]
    fn del_refuses_foreign_and_missing_interfaces() {
        let s = Snapshot {
            container: parse_links(&iproute2("netns-docker-addr-show.json")).unwrap(),
            ..Snapshot::default()
        };
        let e = plan_del(&ctr(), &IfName::new("eth0").unwrap(), 1, &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        let e = plan_del(&ctr(), &IfName::new("eth9").unwrap(), 1, &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn orphans_are_renamed_back_unless_the_name_is_taken() {
        let rec = |host: &str| Record {
            kind: AttachKind::Moved,
            host_if: host.into(),
            ifname: "eth1".into(),
            container_id: "c0ffee012345".into(),
            phy: None,
            previous_alias: None,
        };
        let host = vec![
            link(&format!(
                r#"{{"ifindex":181,"ifname":"dev181","ifalias":"{}"}}"#,
                rec("enp3s0").alias()
            )),
            link(&format!(
                r#"{{"ifindex":182,"ifname":"dev182","ifalias":"{}"}}"#,
                rec("eth0").alias()
            )),
            link(r#"{"ifindex":2,"ifname":"eth0"}"#),
            link(r#"{"ifindex":3,"ifname":"eth9","ifalias":"not ours"}"#),
        ];
        let found = plan_release_orphans(&host);
        assert_eq!(found.len(), 2);
        let steps = found[0].1.as_ref().unwrap();
        assert_eq!(
            argv(&steps[1].plan),
            "ip link set dev dev181 name enp3s0 alias "
        );
        assert_eq!(found[1].1.as_ref().unwrap_err().kind(), ErrorKind::Conflict);
    }

    /// The podman container of the captures, after
    /// `link add veth dhx-p1 --if eth1 --host-if dhxp1h --ip 10.82.0.2/24
    /// --ip 2001:db8:82::2/64 --gateway 2001:db8:82::1 --mtu 1450`.
    fn podman_capture() -> (RunningContainer, Snapshot, VethSpec) {
        let c = RunningContainer {
            name: crate::input::ContainerRef::new("dhx-p1").unwrap(),
            id: "0bbafb6a2b7d".into(),
            pid: 30235,
        };
        let mut routes = parse_routes(
            &iproute2("netns-dockhand-podman-route-show.json"),
            Family::Inet,
        )
        .unwrap();
        routes.extend(
            parse_routes(
                &iproute2("netns-dockhand-podman-route6-show.json"),
                Family::Inet6,
            )
            .unwrap(),
        );
        let s = Snapshot {
            host: parse_links(&iproute2("host-addr-show-details-dev-veth-host.json")).unwrap(),
            container: parse_links(&iproute2("netns-dockhand-podman-addr-show-details.json"))
                .unwrap(),
            routes,
        };
        let spec = VethSpec {
            ifname: IfName::new("eth1").unwrap(),
            host_if: Some(IfName::new("dhxp1h").unwrap()),
            addressing: Addressing::new(
                vec![
                    "10.82.0.2/24".parse().unwrap(),
                    "2001:db8:82::2/64".parse().unwrap(),
                ],
                Some("2001:db8:82::1".parse().unwrap()),
            )
            .unwrap(),
            mtu: Some(Mtu::new(1450).unwrap()),
            mac: None,
            bridge: None,
        };
        (c, s, spec)
    }

    #[test]
    fn real_state_after_an_add_is_unchanged_for_the_same_add() {
        let (c, s, spec) = podman_capture();
        let (_, d) = plan_veth(&c, &spec, &s).unwrap();
        assert!(matches!(d, AttachPlan::Unchanged), "{d:?}");

        let mut no_gateway = spec.clone();
        no_gateway.addressing =
            Addressing::new(spec.addressing.addresses().to_vec(), None).unwrap();
        let e = plan_veth(&c, &no_gateway, &s).unwrap_err();
        assert!(
            e.message()
                .contains("default route via 2001:db8:82::1, not asked for"),
            "{e}"
        );

        // Another container's view of the same names is someone else's link.
        let other = RunningContainer {
            id: "ffffffffffff".into(),
            ..c
        };
        let e = plan_veth(&other, &spec, &s).unwrap_err();
        assert!(e.message().contains("already attached by dockhand"), "{e}");
    }

    #[test]
    fn ls_finds_each_kind_in_a_real_container() {
        let links = parse_links(&iproute2("netns-dockhand-docker-addr-show-details.json")).unwrap();
        let found: Vec<(String, String, String)> = attached(&links)
            .into_iter()
            .map(|a| (a.record.ifname, a.record.kind.to_string(), a.record.host_if))
            .collect();
        assert_eq!(
            found,
            [
                ("eth1".into(), "veth".into(), "dhe831cb2e0a4e".into()),
                ("mv0".into(), "macvlan".into(), "dhxifb0".into()),
                ("wan0".into(), "moved".into(), "dhxifb1".into()),
            ]
        );
    }

    #[test]
    fn a_real_returned_interface_is_found_by_its_record() {
        let host =
            parse_links(&iproute2("host-addr-show-details-dev-returned-orphan.json")).unwrap();
        let found = plan_release_orphans(&host);
        assert_eq!(
            found[0].0,
            Orphan {
                found_as: "dev258".into(),
                original: "dhxifb1".into(),
                container_id: "ddd96bdb0f8e".into(),
            }
        );
        let steps = found[0].1.as_ref().unwrap();
        assert_eq!(argv(&steps[0].plan), "ip link set dev dev258 down");
    }

    #[test]
    fn a_previous_alias_too_long_to_keep_is_refused_before_moving() {
        let long = "x".repeat(200);
        let s = Snapshot {
            host: vec![link(&format!(
                r#"{{"ifindex":5,"ifname":"enp3s0","ifalias":"{long}"}}"#
            ))],
            ..Snapshot::default()
        };
        let spec = MoveSpec {
            host_if: IfName::new("enp3s0").unwrap(),
            ifname: None,
            addressing: Addressing::default(),
        };
        let e = plan_move(&ctr(), &spec, None, 1, &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.message().contains("too long"), "{e}");
    }

    #[test]
    fn records_of_later_versions_and_garbage() {
        let r = Record::parse("dockhand:v1 kind=tunnel host=a if=b ctr=c extra=1").unwrap();
        assert_eq!(r.kind, AttachKind::Unknown("tunnel".into()));
        assert_eq!(Record::parse("dockhand:v1 kind=veth host=a"), None);
        assert_eq!(
            Record::parse("dockhand:v2 kind=veth host=a if=b ctr=c"),
            None
        );
        assert_eq!(
            Record::parse("dockhand:v1 kind=veth junk host=a if=b ctr=c"),
            None
        );
    }

    #[test]
    fn an_empty_previous_alias_reads_back_as_none() {
        let r = Record::parse("dockhand:v1 kind=moved host=a if=b ctr=c was=").unwrap();
        assert_eq!(r.previous_alias, None);
        assert_eq!(Record::parse(&r.alias()), Some(r));
    }
}

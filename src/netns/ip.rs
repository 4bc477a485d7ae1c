//! `ip -j` in a network namespace: where a command runs, and what its JSON
//! output says, as typed [`Link`], [`LinkAddress`] and [`Route`] values.
//!
//! A command for a container's namespace runs the **host's** tools through
//! `nsenter --target PID --net -- …` (the image need not have `ip`; busybox
//! `ip` has no JSON anyway). Shapes and error texts are in
//! `vendor-docs/iproute2.md` and `vendor-docs/nsenter.md`; the parsers are
//! tested against the captures in `vendor-docs/captures/iproute2/`.

use std::ffi::OsString;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::json::{lenient_string, null_default, parse_json};
use crate::engine::plan::{Effect, Plan};
use crate::engine::Argv;
use crate::error::{Error, Result};

/// The network namespace a host command runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// The namespace dockhand itself runs in ("the host").
    Host,
    /// The namespace of this process (a container's init process),
    /// entered with `nsenter --target PID --net`.
    Of(u32),
}

impl Namespace {
    /// A plan running the host tool `program` with `args` in this
    /// namespace: directly on the host, or as
    /// `nsenter --target PID --net -- program args…`.
    ///
    /// ```
    /// use dockhand::netns::ip::Namespace;
    /// use dockhand::engine::plan::{Effect, Program};
    /// let plan = Namespace::Of(42).plan(Effect::ReadOnly, "ip", ["-j", "link", "show"], |o| Ok(o.output.stdout));
    /// assert_eq!(plan.program(), &Program::Host("nsenter".into()));
    /// assert_eq!(plan.args(), ["--target", "42", "--net", "--", "ip", "-j", "link", "show"]);
    /// ```
    pub fn plan<T, I, S, F>(self, effect: Effect, program: &str, args: I, finish: F) -> Plan<T>
    where
        T: 'static,
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
        F: FnOnce(crate::engine::plan::Outcome) -> Result<T> + Send + 'static,
    {
        match self {
            Namespace::Host => {
                Plan::new(effect, args.into_iter().collect(), finish).on_host(program)
            }
            Namespace::Of(pid) => {
                let enter = Argv::new("--target")
                    .arg(pid.to_string())
                    .flag("--net")
                    .operands([program])
                    .args(args);
                Plan::new(effect, enter, finish).on_host("nsenter")
            }
        }
    }

    /// A state-changing `ip` command in this namespace, never retried
    /// (`ip link add` twice is not the same as once).
    pub fn ip_change<I, S>(self, args: I) -> Plan<()>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.plan(Effect::Mutating, "ip", args, |o| o.into_result().map(drop))
            .no_retry()
    }

    /// Every link with its details, alias and addresses:
    /// `ip -j -d addr show` (only with `-d` does `addr show` print `ifalias`).
    pub fn links(self) -> Plan<Vec<Link>> {
        self.plan(Effect::ReadOnly, "ip", ["-j", "-d", "addr", "show"], |o| {
            parse_links(&o.into_result()?.stdout)
        })
    }

    /// The routes of the main table of one family:
    /// `ip -j -4|-6 route show table main`.
    pub fn routes(self, family: Family) -> Plan<Vec<Route>> {
        let flag = match family {
            Family::Inet6 => "-6",
            _ => "-4",
        };
        self.plan(
            Effect::ReadOnly,
            "ip",
            ["-j", flag, "route", "show", "table", "main"],
            move |o| parse_routes(&o.into_result()?.stdout, family),
        )
    }
}

/// An address family as `ip` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
    /// Anything else `ip` may print.
    #[serde(other)]
    Unknown,
}

impl Family {
    /// The family of an IP address.
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
}

/// One network interface as `ip -j -d addr show` (or `link show`) reports it.
///
/// `raw` is the whole object as `ip` printed it (including `addr_info`,
/// `linkinfo`, statistics …); the fields are the ones dockhand relies on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Link {
    /// Interface index in its namespace.
    pub index: u32,
    /// Interface name (without the `@peer` suffix of the text output).
    pub name: String,
    /// `linkinfo.info_kind`: `veth`, `macvlan`, `bridge`, `ifb` …; `None`
    /// for physical and loopback devices.
    pub kind: Option<String>,
    /// Whether the interface is administratively up (`UP` in `flags`;
    /// `operstate` says `UNKNOWN` for loopback and ifb even when up).
    pub up: bool,
    /// Interface flags (`BROADCAST`, `UP`, `LOWER_UP` …).
    pub flags: Vec<String>,
    /// Operational state (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN` …).
    pub operstate: String,
    /// MTU.
    pub mtu: u32,
    /// Link-layer address (MAC); empty when the device has none.
    pub mac: String,
    /// The bridge (or bond …) this interface is enslaved to.
    pub master: Option<String>,
    /// The interface alias (`ifalias`), where dockhand records what it attached.
    pub alias: Option<String>,
    /// Addresses (from `addr_info`; empty for `link show` output).
    pub addresses: Vec<LinkAddress>,
    /// The object exactly as `ip` printed it.
    pub raw: Value,
}

impl Link {
    /// A macvlan's mode (`linkinfo.info_data.mode`), read from `raw`.
    pub fn macvlan_mode(&self) -> Option<&str> {
        self.raw["linkinfo"]["info_data"]["mode"].as_str()
    }
}

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LinkAddress {
    /// `inet` or `inet6`.
    pub family: Family,
    /// The address, as `ip` prints it (canonical text).
    #[serde(default, deserialize_with = "lenient_string")]
    pub local: String,
    /// Prefix length.
    #[serde(default)]
    pub prefixlen: u8,
    /// `global`, `link` or `host`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub scope: String,
    /// The `addr_info` entry exactly as `ip` printed it (not repeated in
    /// dockhand's JSON: the link's `raw` has it).
    #[serde(skip)]
    pub raw: Value,
}

impl LinkAddress {
    /// The address parsed, when it is an IP address.
    pub fn ip(&self) -> Option<IpAddr> {
        self.local.parse().ok()
    }

    /// Whether this is an IPv6 link-local address (`fe80::/10`), which the
    /// kernel adds by itself to every interface that goes up.
    pub fn is_ipv6_link_local(&self) -> bool {
        matches!(self.ip(), Some(IpAddr::V6(v6)) if v6.segments()[0] & 0xffc0 == 0xfe80)
    }
}

/// One route as `ip -j route show` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Route {
    /// The family asked for (`ip` does not print it).
    pub family: Family,
    /// `default`, a CIDR, or a bare address for host routes.
    pub dst: String,
    /// Next hop, when the route has one.
    pub gateway: Option<String>,
    /// Output device.
    pub dev: Option<String>,
    /// `kernel`, `static`, `boot` … (absent for routes added without `proto`).
    pub protocol: Option<String>,
    /// `link`, `host` … (absent means universe).
    pub scope: Option<String>,
    /// Preferred source address.
    pub prefsrc: Option<String>,
    /// Metric (IPv4 prints it only when non-zero).
    pub metric: Option<u32>,
    /// The object exactly as `ip` printed it.
    pub raw: Value,
}

impl Route {
    /// Whether this is a default route.
    pub fn is_default(&self) -> bool {
        self.dst == "default"
    }
}

#[derive(Deserialize)]
struct LinkDoc {
    ifindex: u32,
    ifname: String,
    #[serde(default, deserialize_with = "null_default")]
    flags: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    operstate: String,
    #[serde(default)]
    mtu: u32,
    #[serde(default, deserialize_with = "lenient_string")]
    address: String,
    #[serde(default)]
    master: Option<String>,
    #[serde(default)]
    ifalias: Option<String>,
    #[serde(default)]
    linkinfo: Option<LinkInfo>,
    #[serde(default, deserialize_with = "null_default")]
    addr_info: Vec<Value>,
}

#[derive(Deserialize)]
struct LinkInfo {
    #[serde(default)]
    info_kind: Option<String>,
}

#[derive(Deserialize)]
struct RouteDoc {
    dst: String,
    #[serde(default)]
    gateway: Option<String>,
    #[serde(default)]
    dev: Option<String>,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    prefsrc: Option<String>,
    #[serde(default)]
    metric: Option<u32>,
}

/// Parse the array `ip -j [-d] link show` / `addr show` prints.
///
/// Addresses of a family other than inet/inet6 are kept with
/// [`Family::Unknown`]; entries that are not objects are left to `raw`.
///
/// ```
/// let out = br#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"operstate":"UNKNOWN","address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host"}]}]"#;
/// let links = dockhand::netns::ip::parse_links(out).unwrap();
/// assert!(links[0].up);
/// assert_eq!(links[0].addresses[0].local, "127.0.0.1");
/// ```
pub fn parse_links(bytes: &[u8]) -> Result<Vec<Link>> {
    let items: Vec<Value> = parse_json(bytes)?;
    items
        .into_iter()
        .map(|raw| {
            let doc: LinkDoc = serde_json::from_value(raw.clone()).map_err(|e| {
                Error::parse(format!("unexpected `ip -j` link: {e}"), bytes).with_source(e)
            })?;
            let addresses = doc
                .addr_info
                .into_iter()
                .filter(|a| a.is_object())
                .map(|raw| {
                    serde_json::from_value(raw.clone())
                        .map(|a: LinkAddress| LinkAddress { raw, ..a })
                })
                .collect::<std::result::Result<Vec<LinkAddress>, _>>()
                .map_err(|e| {
                    Error::parse(format!("unexpected `ip -j` address: {e}"), bytes).with_source(e)
                })?;
            Ok(Link {
                index: doc.ifindex,
                up: doc.flags.iter().any(|f| f == "UP"),
                name: doc.ifname,
                kind: doc.linkinfo.and_then(|i| i.info_kind),
                flags: doc.flags,
                operstate: doc.operstate,
                mtu: doc.mtu,
                mac: doc.address,
                master: doc.master,
                alias: doc.ifalias,
                addresses,
                raw,
            })
        })
        .collect()
}

/// Parse the array `ip -j route show` prints; `family` is the one asked for.
///
/// ```
/// use dockhand::netns::ip::{parse_routes, Family};
/// let r = parse_routes(br#"[{"dst":"default","gateway":"10.1.0.1","dev":"eth1","flags":[]}]"#, Family::Inet).unwrap();
/// assert!(r[0].is_default());
/// assert_eq!(r[0].gateway.as_deref(), Some("10.1.0.1"));
/// ```
pub fn parse_routes(bytes: &[u8], family: Family) -> Result<Vec<Route>> {
    let items: Vec<Value> = parse_json(bytes)?;
    items
        .into_iter()
        .map(|raw| {
            let doc: RouteDoc = serde_json::from_value(raw.clone()).map_err(|e| {
                Error::parse(format!("unexpected `ip -j` route: {e}"), bytes).with_source(e)
            })?;
            Ok(Route {
                family,
                dst: doc.dst,
                gateway: doc.gateway,
                dev: doc.dev,
                protocol: doc.protocol,
                scope: doc.scope,
                prefsrc: doc.prefsrc,
                metric: doc.metric,
                raw,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn iproute2(name: &str) -> Vec<u8> {
        testing::capture(&format!("iproute2/{name}"))
    }

    #[test]
    fn every_link_capture_parses() {
        for name in [
            "link-show.json",
            "link-show-details.json",
            "link-show-pretty.json",
            "stats-link-show.json",
            "addr-show.json",
            "addr-show-empty-filter.json",
            "netns-docker-addr-show.json",
            "netns-docker-link-show-details.json",
            "netns-podman-addr-show.json",
            "netns-docker-netnone-addr-show.json",
            "netns-dockhand-docker-addr-show-details.json",
            "netns-dockhand-podman-addr-show-details.json",
            "host-addr-show-details-dev-veth-host.json",
            "host-addr-show-details-dev-veth-host-bridge.json",
            "host-addr-show-details-dev-returned-orphan.json",
        ] {
            let links = parse_links(&iproute2(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            for l in &links {
                assert!(!l.name.is_empty(), "{name}");
                assert_eq!(l.raw["ifname"], l.name.as_str(), "{name}");
            }
        }
    }

    #[test]
    fn every_route_capture_parses() {
        for (name, family) in [
            ("route-show.json", Family::Inet),
            ("route6-show.json", Family::Inet6),
            ("route-show-table-all.json", Family::Inet),
            ("route-get.json", Family::Inet),
            ("netns-docker-route-show.json", Family::Inet),
            ("netns-podman-route-show.json", Family::Inet),
            ("netns-docker-netnone-route-show.json", Family::Inet),
            ("netns-dockhand-docker-route-show.json", Family::Inet),
            (
                "netns-dockhand-docker-route6-show-ipv6-disabled.json",
                Family::Inet6,
            ),
            ("netns-dockhand-podman-route-show.json", Family::Inet),
            ("netns-dockhand-podman-route6-show.json", Family::Inet6),
        ] {
            parse_routes(&iproute2(name), family).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn alias_kind_master_and_state_are_read() {
        let links = parse_links(&iproute2("link-show-details-dev-ifb-alias.json")).unwrap();
        assert_eq!(
            links[0].alias.as_deref(),
            Some("dockhand test alias with spaces")
        );
        assert_eq!(links[0].kind.as_deref(), Some("ifb"));
        // ifb reports operstate UNKNOWN while up: `up` comes from the flags.
        assert_eq!(links[0].operstate, "UNKNOWN");
        assert!(links[0].up);

        let port = parse_links(&iproute2("link-show-details-dev-bridge-port.json")).unwrap();
        assert_eq!(port[0].master.as_deref(), Some("vd-br0"));
        assert_eq!(port[0].kind.as_deref(), Some("veth"));

        let mv = parse_links(&iproute2("link-show-details-dev-macvlan.json")).unwrap();
        assert_eq!(mv[0].macvlan_mode(), Some("bridge"));
    }

    #[test]
    fn addresses_of_both_families_are_read() {
        let links = parse_links(&iproute2("addr-show-dev-ifb.json")).unwrap();
        let addrs = &links[0].addresses;
        let v4 = addrs.iter().find(|a| a.family == Family::Inet).unwrap();
        assert_eq!((v4.local.as_str(), v4.prefixlen), ("198.51.100.1", 24));
        assert_eq!(v4.raw["label"], "vd-ifb0");
        assert!(addrs
            .iter()
            .any(|a| a.family == Family::Inet6 && a.local == "2001:db8:100::1"));
        assert!(addrs.iter().any(LinkAddress::is_ipv6_link_local));
    }

    #[test]
    fn podman_container_eth0_has_its_address() {
        let links = parse_links(&iproute2("netns-podman-addr-show.json")).unwrap();
        let eth0 = links.iter().find(|l| l.name == "eth0").unwrap();
        assert_eq!(eth0.addresses[0].ip(), Some("10.89.50.4".parse().unwrap()));
        assert_eq!(eth0.kind, None, "no -d, no linkinfo");
    }

    #[test]
    fn default_and_host_routes() {
        let routes = parse_routes(&iproute2("netns-docker-route-show.json"), Family::Inet).unwrap();
        let def = routes.iter().find(|r| r.is_default()).unwrap();
        assert!(def.gateway.is_some());
        let v6 = parse_routes(&iproute2("route6-show.json"), Family::Inet6).unwrap();
        assert!(v6.iter().all(|r| r.metric.is_some()));
        let get = parse_routes(&iproute2("route-get.json"), Family::Inet).unwrap();
        assert!(!get[0].dst.contains('/'));
    }

    #[test]
    fn empty_array_and_missing_fields() {
        assert!(parse_links(b"[]\n").unwrap().is_empty());
        let l =
            parse_links(br#"[{"ifindex":7,"ifname":"x","flags":null,"addr_info":null}]"#).unwrap();
        assert!(!l[0].up && l[0].addresses.is_empty() && l[0].mtu == 0);
        let e = parse_links(br#"[{"ifname":"x"}]"#).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Parse);
        assert!(e.raw().is_some());
    }
}

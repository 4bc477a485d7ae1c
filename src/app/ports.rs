//! Host ports a service keeps across updates.
//!
//! A compose port without a host port (`"8080"`, `"127.0.0.1::8080"`) is
//! left to the engine the first time; after that the container's bindings
//! are written into the next container's `--publish` values, so an update
//! or a rollback keeps the host port.
//!
//! The bindings are kept as the engine reports them, address by address.
//! docker 20.10 binds a port published on all addresses twice, on `0.0.0.0`
//! and on `::`, and may draw a different number for each: pinning the IPv4
//! number on both would ask for an IPv6 port another container may hold
//! ("Bind for :::32777 failed: port is already allocated"). Such a port is
//! pinned as the two bindings docker made.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::file::ServicePort;
use crate::container::Container;
use crate::error::Result;
use crate::input::PortSpec;

/// The host ports a container holds: (container port, protocol, host
/// address as the engine reports it, `""` for all addresses) → host port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinnedPorts(BTreeMap<(u16, String, String), u16>);

impl PinnedPorts {
    /// What `c` holds: what its configuration pins (`HostConfig.PortBindings`
    /// with a port: dockhand's pinned ones, podman's pre-allocated ones), and
    /// what it is bound to now (a running docker container whose ports were
    /// left to the engine).
    ///
    /// ```
    /// use dockhand::app::{file::ServicePort, ports::{publish, PinnedPorts}};
    /// // Created with `-p 8080 -p 18191:81/udp -p 127.0.0.1::82`, then started.
    /// let doc = std::fs::read("vendor-docs/captures/docker/containers-inspect-full.json").unwrap();
    /// let held = PinnedPorts::held_by(&dockhand::container::parse_inspect(&doc).unwrap()[0]);
    /// let local = ServicePort { target: 82, published: None, host_ip: Some([127, 0, 0, 1].into()), protocol: "tcp".into() };
    /// let all = ServicePort { target: 8080, host_ip: None, ..local.clone() };
    /// let again: Vec<String> = publish(&[all, local], &held).unwrap().iter().map(|p| p.to_string()).collect();
    /// assert_eq!(again, ["32769:8080/tcp", "127.0.0.1:32770:82/tcp"]);
    /// ```
    pub fn held_by(c: &Container) -> PinnedPorts {
        let mut out = PinnedPorts::default();
        for b in &c.ports {
            out.insert(
                b.container_port,
                b.protocol.as_str(),
                &b.host_ip,
                b.host_port,
            );
        }
        let configured = c
            .raw
            .pointer("/HostConfig/PortBindings")
            .and_then(|v| v.as_object());
        for (key, bindings) in configured.into_iter().flatten() {
            let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            for b in bindings.as_array().into_iter().flatten() {
                let ip = b.get("HostIp").and_then(|v| v.as_str()).unwrap_or_default();
                let host = b
                    .get("HostPort")
                    .and_then(|v| v.as_str())
                    .and_then(|p| p.parse::<u16>().ok());
                if let Some(host) = host.filter(|h| *h != 0) {
                    out.insert(port, proto, ip, host);
                }
            }
        }
        out
    }

    /// Records that `host_ip:host_port` is bound to `container_port/protocol`.
    pub fn insert(&mut self, container_port: u16, protocol: &str, host_ip: &str, host_port: u16) {
        self.0.insert(
            (container_port, protocol.to_string(), host_ip.to_string()),
            host_port,
        );
    }

    /// Adds the bindings of `other` this one has no port for.
    pub fn add_missing(&mut self, other: PinnedPorts) {
        for (k, v) in other.0 {
            self.0.entry(k).or_insert(v);
        }
    }

    /// The first of `ports` left to the engine that no host port is held
    /// for: it still needs pinning.
    pub fn missing<'a>(&self, ports: &'a [ServicePort]) -> Option<&'a ServicePort> {
        ports
            .iter()
            .find(|p| p.published.is_none() && !self.covers(p))
    }

    /// Whether a host port is held for `p`.
    fn covers(&self, p: &ServicePort) -> bool {
        !self.host_sides(p).is_empty()
    }

    /// The host side(s) of `p` as pinned: none when nothing is held for it;
    /// for a port on all addresses one binding, or the two docker made.
    fn host_sides(&self, p: &ServicePort) -> Vec<(Option<IpAddr>, u16)> {
        let get = |ip: &str| {
            self.0
                .get(&(p.target, p.protocol.clone(), ip.to_string()))
                .copied()
        };
        if let Some(ip) = p.host_ip {
            return get(&ip.to_string())
                .map(|h| (Some(ip), h))
                .into_iter()
                .collect();
        }
        let all = Ipv4Addr::UNSPECIFIED.to_string();
        let all6 = Ipv6Addr::UNSPECIFIED.to_string();
        match (get(""), get(&all), get(&all6)) {
            (Some(h), _, _) => vec![(None, h)],
            (None, Some(v4), Some(v6)) if v4 != v6 => vec![
                (Some(Ipv4Addr::UNSPECIFIED.into()), v4),
                (Some(Ipv6Addr::UNSPECIFIED.into()), v6),
            ],
            (None, Some(h), _) | (None, None, Some(h)) => vec![(None, h)],
            (None, None, None) => Vec::new(),
        }
    }
}

/// The `--publish` values of `ports`: a host port from the compose file as
/// written, one left to the engine as `pinned` holds it (or still left to
/// the engine when nothing is held for it).
///
/// ```
/// use dockhand::app::{file::ServicePort, ports::{publish, PinnedPorts}};
/// let web = ServicePort { target: 8080, published: None, host_ip: None, protocol: "tcp".into() };
/// let mut held = PinnedPorts::default();
/// let text = |held: &PinnedPorts| -> Vec<String> {
///     publish(std::slice::from_ref(&web), held).unwrap().iter().map(|p| p.to_string()).collect()
/// };
/// assert_eq!(text(&held), ["8080/tcp"]);
/// held.insert(8080, "tcp", "0.0.0.0", 32780);
/// held.insert(8080, "tcp", "::", 32779);
/// assert_eq!(text(&held), ["0.0.0.0:32780:8080/tcp", "[::]:32779:8080/tcp"]);
/// ```
pub fn publish(ports: &[ServicePort], pinned: &PinnedPorts) -> Result<Vec<PortSpec>> {
    let mut out = Vec::new();
    for p in ports {
        let sides = match p.published {
            Some(h) => vec![(p.host_ip, Some(h))],
            None => match pinned.host_sides(p) {
                held if held.is_empty() => vec![(p.host_ip, None)],
                held => held.into_iter().map(|(ip, h)| (ip, Some(h))).collect(),
            },
        };
        for (ip, host) in sides {
            let host = host.map(|h| h.to_string()).unwrap_or_default();
            let text = match ip {
                Some(IpAddr::V6(v6)) => format!("[{v6}]:{host}:{}/{}", p.target, p.protocol),
                Some(v4) => format!("{v4}:{host}:{}/{}", p.target, p.protocol),
                None if host.is_empty() => format!("{}/{}", p.target, p.protocol),
                None => format!("{host}:{}/{}", p.target, p.protocol),
            };
            out.push(PortSpec::new(&text)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn port(target: u16, host_ip: Option<&str>) -> ServicePort {
        ServicePort {
            target,
            published: None,
            host_ip: host_ip.map(|i| i.parse().unwrap()),
            protocol: "tcp".into(),
        }
    }

    fn texts(ports: &[ServicePort], pinned: &PinnedPorts) -> Vec<String> {
        publish(ports, pinned)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn each_address_keeps_the_number_the_engine_drew_for_it() {
        let mut held = PinnedPorts::default();
        // docker 20.10: two numbers for one port on all addresses.
        held.insert(8443, "tcp", "0.0.0.0", 32777);
        held.insert(8443, "tcp", "::", 32776);
        // The same number on both: one binding, as written by an earlier pin.
        held.insert(9000, "tcp", "0.0.0.0", 32800);
        held.insert(9000, "tcp", "::", 32800);
        // An IPv4-only host: no `::` binding.
        held.insert(9001, "udp", "0.0.0.0", 32801);
        held.insert(8080, "tcp", "127.0.0.1", 32790);
        held.insert(8081, "tcp", "::1", 32791);
        // An explicit 0.0.0.0 is looked up as such (it was never pinned before).
        held.insert(8082, "tcp", "0.0.0.0", 32792);
        let mut udp = port(9001, None);
        udp.protocol = "udp".into();
        let ports = [
            port(8443, None),
            port(9000, None),
            udp,
            port(8080, Some("127.0.0.1")),
            port(8081, Some("::1")),
            port(8082, Some("0.0.0.0")),
            port(7000, None),
            ServicePort {
                published: Some(80),
                ..port(80, None)
            },
        ];
        assert_eq!(
            texts(&ports, &held),
            [
                "0.0.0.0:32777:8443/tcp",
                "[::]:32776:8443/tcp",
                "32800:9000/tcp",
                "32801:9001/udp",
                "127.0.0.1:32790:8080/tcp",
                "[::1]:32791:8081/tcp",
                "0.0.0.0:32792:8082/tcp",
                "7000/tcp",
                "80:80/tcp",
            ]
        );
        assert!(ports[..6].iter().all(|p| held.covers(p)));
        assert!(!held.covers(&ports[6]));
    }

    /// The full docker capture with its port sections replaced.
    fn held(configured: serde_json::Value, bound: serde_json::Value) -> PinnedPorts {
        let doc =
            std::fs::read("vendor-docs/captures/docker/containers-inspect-full.json").unwrap();
        let mut doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
        doc[0]["HostConfig"]["PortBindings"] = configured;
        doc[0]["NetworkSettings"]["Ports"] = bound;
        let doc = serde_json::to_vec(&doc).unwrap();
        PinnedPorts::held_by(&crate::container::parse_inspect(&doc).unwrap()[0])
    }

    #[test]
    fn a_configured_all_address_binding_wins_over_the_bound_ones() {
        let pinned_once = held(
            json!({"8443/tcp": [{"HostIp": "", "HostPort": "32777"}]}),
            json!({"8443/tcp": [
                {"HostIp": "0.0.0.0", "HostPort": "32777"},
                {"HostIp": "::", "HostPort": "32777"}
            ]}),
        );
        assert_eq!(texts(&[port(8443, None)], &pinned_once), ["32777:8443/tcp"]);
        // Pinned as two bindings, it reads back as two (stopped: nothing bound).
        let pinned_twice = held(
            json!({"8443/tcp": [
                {"HostIp": "0.0.0.0", "HostPort": "32777"},
                {"HostIp": "::", "HostPort": "32776"}
            ]}),
            json!({}),
        );
        assert_eq!(
            texts(&[port(8443, None)], &pinned_twice),
            ["0.0.0.0:32777:8443/tcp", "[::]:32776:8443/tcp"]
        );
    }
}

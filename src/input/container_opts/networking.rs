//! How a container joins networks: the networks with their per-network
//! settings (`--network`, `--ip`, `--ip6`, `--network-alias`,
//! `--mac-address`), the special network modes, DNS (`--dns-search`,
//! `--dns-option`, `--domainname`) and `/etc/hosts` entries (`--add-host`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::{check_plain, ContainerRef, Mac, NetworkAlias, NetworkName};

/// One network a container joins, with its settings on that network.
/// Build with [`NetworkEndpoint::new`] and set the fields, or parse the
/// `--network` forms of either engine ([`NetworkEndpoint::parse`]).
///
/// ```
/// use dockhand::input::{NetworkEndpoint, NetworkName, NetworkAlias};
/// let mut front = NetworkEndpoint::new(NetworkName::new("front")?);
/// front.ip = Some("10.1.0.5".parse().unwrap());
/// front.aliases.push(NetworkAlias::new("web")?);
/// // podman's and docker's spellings of the same thing:
/// assert_eq!(NetworkEndpoint::parse("front:ip=10.1.0.5,alias=web")?, front);
/// assert_eq!(NetworkEndpoint::parse("name=front,ip=10.1.0.5,alias=web")?, front);
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NetworkEndpoint {
    /// The network (name or id).
    pub network: NetworkName,
    /// A static IPv4 address on it (the network needs a configured subnet).
    pub ip: Option<Ipv4Addr>,
    /// A static IPv6 address on it.
    pub ip6: Option<Ipv6Addr>,
    /// DNS names of the container on this network.
    pub aliases: Vec<NetworkAlias>,
    /// The MAC address of its interface on this network.
    pub mac: Option<Mac>,
}

impl NetworkEndpoint {
    /// Join `network` with the engine's defaults.
    pub fn new(network: NetworkName) -> NetworkEndpoint {
        NetworkEndpoint {
            network,
            ip: None,
            ip6: None,
            aliases: Vec::new(),
            mac: None,
        }
    }

    /// Parse `NAME`, podman's `NAME:ip=A,ip6=A,alias=N,mac=M` or docker's
    /// `name=NAME,ip=A,ip6=A,alias=N,mac-address=M` (`alias` may repeat).
    pub fn parse(text: &str) -> Result<NetworkEndpoint> {
        check_plain("network", text)?;
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "invalid network {text:?}: {why} (use NAME or NAME:ip=A,ip6=A,alias=N,mac=M)"
            ))
        };
        let (name, settings) = match (text.strip_prefix("name="), text.split_once(':')) {
            (Some(rest), _) => {
                let mut fields: Vec<&str> = rest.split(',').collect();
                (fields.remove(0).to_string(), fields)
            }
            (None, Some((name, rest))) => (name.to_string(), rest.split(',').collect()),
            (None, None) => (text.to_string(), Vec::new()),
        };
        let mut endpoint =
            NetworkEndpoint::new(NetworkName::new(name).map_err(|e| bad(e.message()))?);
        for setting in settings {
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| bad(&format!("{setting:?} is not KEY=VALUE")))?;
            let unicast = |ip: IpAddr| !(ip.is_unspecified() || ip.is_multicast());
            match key {
                "ip" if endpoint.ip.is_none() => {
                    endpoint.ip = Some(
                        value
                            .parse()
                            .ok()
                            .filter(|ip| unicast(IpAddr::V4(*ip)))
                            .ok_or_else(|| bad(&format!("{value:?} is not an IPv4 address")))?,
                    )
                }
                "ip6" if endpoint.ip6.is_none() => {
                    endpoint.ip6 = Some(
                        value
                            .parse()
                            .ok()
                            .filter(|ip| unicast(IpAddr::V6(*ip)))
                            .ok_or_else(|| bad(&format!("{value:?} is not an IPv6 address")))?,
                    )
                }
                "alias" => endpoint
                    .aliases
                    .push(NetworkAlias::new(value).map_err(|e| bad(e.message()))?),
                "mac" | "mac-address" if endpoint.mac.is_none() => {
                    endpoint.mac = Some(value.parse().map_err(|e: Error| bad(e.message()))?)
                }
                "ip" | "ip6" | "mac" | "mac-address" => {
                    return Err(bad(&format!("{key} is given twice")))
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown setting {key:?}: use ip, ip6, alias or mac"
                    )))
                }
            }
        }
        Ok(endpoint)
    }

    /// Whether anything besides the network is set.
    pub fn has_settings(&self) -> bool {
        self.ip.is_some() || self.ip6.is_some() || !self.aliases.is_empty() || self.mac.is_some()
    }

    /// podman's one-word form `NAME:ip=…,ip6=…,alias=…,mac=…` (just `NAME`
    /// without settings).
    pub fn podman_form(&self) -> String {
        let mut settings: Vec<String> = Vec::new();
        settings.extend(self.ip.map(|ip| format!("ip={ip}")));
        settings.extend(self.ip6.map(|ip| format!("ip6={ip}")));
        settings.extend(self.aliases.iter().map(|a| format!("alias={a}")));
        settings.extend(self.mac.map(|m| format!("mac={m}")));
        match settings.is_empty() {
            true => self.network.to_string(),
            false => format!("{}:{}", self.network, settings.join(",")),
        }
    }
}

impl std::str::FromStr for NetworkEndpoint {
    type Err = Error;
    fn from_str(text: &str) -> Result<NetworkEndpoint> {
        NetworkEndpoint::parse(text)
    }
}

/// A network mode instead of networks: the host's network stack, none at
/// all (only loopback), or another container's.
///
/// ```
/// use dockhand::input::NetworkMode;
/// assert_eq!(NetworkMode::new("host").unwrap(), NetworkMode::Host);
/// assert_eq!(NetworkMode::new("container:db").unwrap().to_string(), "container:db");
/// assert!(NetworkMode::new("front").is_err()); // a network, not a mode
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The host's network namespace.
    Host,
    /// No network (loopback only).
    None,
    /// The network namespace of another container.
    Container(ContainerRef),
}

impl NetworkMode {
    /// Parse `host`, `none` or `container:NAME`.
    pub fn new(text: &str) -> Result<NetworkMode> {
        match text {
            "host" => Ok(NetworkMode::Host),
            "none" => Ok(NetworkMode::None),
            t => match t.strip_prefix("container:") {
                Some(c) => Ok(NetworkMode::Container(ContainerRef::new(c)?)),
                None => Err(Error::invalid_input(format!(
                    "{text:?} is not a network mode: use host, none or container:NAME"
                ))),
            },
        }
    }

    /// Whether `text` names a mode rather than a network.
    pub fn is_mode(text: &str) -> bool {
        matches!(text, "host" | "none") || text.starts_with("container:")
    }
}
text_type!(NetworkMode);

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Container(c) => write!(f, "container:{c}"),
        }
    }
}

/// A DNS domain name (`--dns-search`, `--domainname`): dot-separated labels
/// of letters, digits and `-` (not at a label's ends), each 1–63 bytes, at
/// most 253 in all.
///
/// ```
/// use dockhand::input::DomainName;
/// assert!(DomainName::new("corp.example").is_ok());
/// for bad in ["", "-x", "a..b", "a_b.c", "a b", "x-.y"] {
///     assert!(DomainName::new(bad).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DomainName(String);

impl DomainName {
    /// Validate a domain name.
    pub fn new(text: &str) -> Result<DomainName> {
        match is_dns_name(text, false) {
            true => Ok(DomainName(text.to_string())),
            false => Err(Error::invalid_input(format!(
                "invalid domain name {text:?}: use labels of letters, digits and '-' joined by '.'"
            ))),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_impls!(DomainName);

/// DNS-name syntax; `underscore` admits `_` (host names in /etc/hosts).
fn is_dns_name(text: &str, underscore: bool) -> bool {
    text.len() <= 253
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || (underscore && c == '_'))
        })
}

/// A resolver option (`--dns-option`): `NAME` or `NAME:NUMBER`, such as
/// `ndots:2`, `timeout:1`, `rotate`, `edns0`.
///
/// ```
/// use dockhand::input::DnsOption;
/// assert!(DnsOption::new("ndots:2").is_ok() && DnsOption::new("single-request").is_ok());
/// assert!(DnsOption::new("ndots:x").is_err() && DnsOption::new("-x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DnsOption(String);

impl DnsOption {
    /// Validate an option.
    pub fn new(text: &str) -> Result<DnsOption> {
        let (name, value) = match text.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        let name_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let value_ok = value.is_none_or(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
        match name_ok && value_ok {
            true => Ok(DnsOption(text.to_string())),
            false => Err(Error::invalid_input(format!(
                "invalid DNS option {text:?}: use NAME or NAME:NUMBER (ndots:2, timeout:1, rotate …)"
            ))),
        }
    }
}
text_impls!(DnsOption);

/// An extra `/etc/hosts` line (`--add-host`): `NAME:IP`, or docker 28's
/// `NAME=IP`, which dockhand sends as `NAME:IP` (the one spelling both
/// engines and older docker CLIs read). IPv6 works: `db:2001:db8::10`.
///
/// ```
/// use dockhand::input::HostEntry;
/// assert_eq!(HostEntry::new("db.test=192.0.2.10").unwrap().to_string(), "db.test:192.0.2.10");
/// assert_eq!(HostEntry::new("db6:2001:db8::10").unwrap().to_string(), "db6:2001:db8::10");
/// assert!(HostEntry::new("db.test").is_err() && HostEntry::new("db:1.2.3").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostEntry {
    name: String,
    ip: IpAddr,
}

impl HostEntry {
    /// A host name and its address.
    pub fn from_parts(name: &str, ip: IpAddr) -> Result<HostEntry> {
        match is_dns_name(name, true) {
            true => Ok(HostEntry {
                name: name.to_string(),
                ip,
            }),
            false => Err(Error::invalid_input(format!(
                "invalid host name {name:?} for an /etc/hosts entry"
            ))),
        }
    }

    /// Parse `NAME:IP` or `NAME=IP`.
    pub fn new(text: &str) -> Result<HostEntry> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid host entry {text:?}: use NAME:IP (IPv4 or IPv6)"
            ))
        };
        let (name, ip) = text.split_once([':', '=']).ok_or_else(bad)?;
        HostEntry::from_parts(name, ip.parse().map_err(|_| bad())?)
    }

    /// The host name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}
text_type!(HostEntry);

impl fmt::Display for HostEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_in_both_spellings() {
        let e = NetworkEndpoint::parse(
            "n1:ip=10.0.0.5,ip6=fd00::5,alias=a,alias=b,mac=02:42:0a:00:00:05",
        )
        .unwrap();
        assert_eq!(e.aliases.len(), 2);
        assert_eq!(
            e.podman_form(),
            "n1:ip=10.0.0.5,ip6=fd00::5,alias=a,alias=b,mac=02:42:0a:00:00:05"
        );
        let d =
            NetworkEndpoint::parse("name=n1,ip=10.0.0.5,mac-address=02:42:0a:00:00:05").unwrap();
        assert_eq!(d.mac, e.mac);
        assert_eq!(NetworkEndpoint::parse("n1").unwrap().podman_form(), "n1");
        for bad in [
            "",
            "-n",
            "n1:ip=1.2.3",
            "n1:ip=fd00::1",
            "n1:ip6=10.0.0.1",
            "n1:bogus=1",
            "n1:alias",
            "n1:ip=10.0.0.1,ip=10.0.0.2",
            "n1:alias=-x",
            "n1:ip=0.0.0.0",
            "n 1",
        ] {
            assert!(NetworkEndpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn modes_names_and_hosts() {
        assert!(NetworkMode::is_mode("container:x") && !NetworkMode::is_mode("bridge"));
        assert!(DomainName::new(&"a".repeat(64)).is_err());
        assert!(HostEntry::new("my_host:10.0.0.1").is_ok());
        assert!(HostEntry::new("a b:10.0.0.1").is_err());
        assert!(HostEntry::new(":10.0.0.1").is_err());
    }
}

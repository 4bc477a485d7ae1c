//! Ports: protocols, published ports (`-p`, ranges included), container
//! ports (`ports NAME PORT`) and exposed port ranges (`--expose`).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A transport protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// Anything else.
    #[serde(other)]
    Unknown,
}

impl Protocol {
    /// The protocol for `tcp`/`udp`/`sctp` (any case).
    pub fn from_engine(word: &str) -> Protocol {
        match word.to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            _ => Protocol::Unknown,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
            Protocol::Unknown => "unknown",
        }
    }
}

/// Ports `first..=last` (one port when they are equal), 1–65535.
///
/// ```
/// use dockhand::input::PortRange;
/// let r = PortRange::new("9000-9002").unwrap();
/// assert_eq!((r.first(), r.last(), r.len()), (9000, 9002, 3));
/// assert_eq!(r.to_string(), "9000-9002");
/// assert_eq!(PortRange::new("80").unwrap().to_string(), "80");
/// for bad in ["0", "9002-9000", "1-70000", "a", "-1", "80-", ""] {
///     assert!(PortRange::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PortRange {
    first: u16,
    last: u16,
}

impl PortRange {
    /// Parse `PORT` or `FIRST-LAST`.
    pub fn new(text: &str) -> Result<PortRange> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid port or port range {text:?}: use PORT or FIRST-LAST, ports 1-65535"
            ))
        };
        let (first, last) = match text.split_once('-') {
            Some((a, b)) => (parse_port(a), parse_port(b)),
            None => (parse_port(text), parse_port(text)),
        };
        match (first, last) {
            (Some(first), Some(last)) if first <= last => Ok(PortRange { first, last }),
            _ => Err(bad()),
        }
    }

    /// One port.
    pub fn single(port: u16) -> Result<PortRange> {
        PortRange::new(&port.to_string())
    }

    /// The first port.
    pub fn first(&self) -> u16 {
        self.first
    }

    /// The last port (the first for a single port).
    pub fn last(&self) -> u16 {
        self.last
    }

    /// How many ports.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        usize::from(self.last - self.first) + 1
    }
}
text_type!(PortRange);

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.first == self.last {
            true => write!(f, "{}", self.first),
            false => write!(f, "{}-{}", self.first, self.last),
        }
    }
}

/// A published port (`-p`): `PORT[/proto]` (random host port),
/// `HOST_PORT:PORT[/proto]` or `IP:[HOST_PORT]:PORT[/proto]`, where each
/// port may be a range `FIRST-LAST` (a host range must be as long as the
/// container range).
///
/// ```
/// use dockhand::input::PortSpec;
/// assert_eq!(PortSpec::new("8080").unwrap().to_string(), "8080/tcp");
/// assert_eq!(PortSpec::new("53:53/udp").unwrap().to_string(), "53:53/udp");
/// assert_eq!(PortSpec::new("127.0.0.1::80").unwrap().to_string(), "127.0.0.1::80/tcp");
/// assert_eq!(PortSpec::new("19000-19002:9000-9002").unwrap().to_string(), "19000-19002:9000-9002/tcp");
/// assert!(PortSpec::new("19000-19002:9000-9001").is_err());
/// assert!(PortSpec::new("99999").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSpec {
    /// Host address to bind (all when `None`).
    host_ip: Option<IpAddr>,
    /// Host ports (random when `None`).
    host_ports: Option<PortRange>,
    /// Ports inside the container.
    container_ports: PortRange,
    /// tcp, udp or sctp.
    protocol: Protocol,
}

impl PortSpec {
    /// Host address to bind (all when `None`).
    pub fn host_ip(&self) -> Option<IpAddr> {
        self.host_ip
    }

    /// Host port (random when `None`); the first one of a range.
    pub fn host_port(&self) -> Option<u16> {
        self.host_ports.map(|r| r.first())
    }

    /// Host ports (random when `None`).
    pub fn host_ports(&self) -> Option<PortRange> {
        self.host_ports
    }

    /// Port inside the container; the first one of a range.
    pub fn container_port(&self) -> u16 {
        self.container_ports.first()
    }

    /// Ports inside the container.
    pub fn container_ports(&self) -> PortRange {
        self.container_ports
    }

    /// tcp, udp or sctp.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Parse a `-p` value.
    pub fn new(text: &str) -> Result<PortSpec> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "invalid port {text:?}: {why} (use PORT, HOST_PORT:PORT or IP:[HOST_PORT]:PORT, \
                 each port may be a range FIRST-LAST, optionally /tcp, /udp or /sctp)"
            ))
        };
        let (ports, protocol) = split_protocol(text).ok_or_else(|| bad("unknown protocol"))?;
        let (host, container) = ports.rsplit_once(':').unwrap_or(("", ports));
        let container_ports = PortRange::new(container).map_err(|_| bad("bad container port"))?;
        let (host_ip, host_ports) = match host.rsplit_once(':') {
            None => (None, host),
            Some((ip, port)) => {
                let ip = ip.trim_start_matches('[').trim_end_matches(']');
                let ip = ip.parse::<IpAddr>().map_err(|_| bad("bad IP address"))?;
                (Some(ip), port)
            }
        };
        let host_ports = match host_ports {
            "" => None,
            p => Some(PortRange::new(p).map_err(|_| bad("bad host port"))?),
        };
        if let Some(h) = host_ports {
            if h.len() != container_ports.len() {
                return Err(bad(&format!(
                    "the host range has {} ports and the container range {}",
                    h.len(),
                    container_ports.len()
                )));
            }
        }
        Ok(PortSpec {
            host_ip,
            host_ports,
            container_ports,
            protocol,
        })
    }
}
text_type!(PortSpec);

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host_ports = self.host_ports.map(|p| p.to_string()).unwrap_or_default();
        match (self.host_ip, self.host_ports) {
            (Some(IpAddr::V6(ip)), _) => write!(f, "[{ip}]:{host_ports}:")?,
            (Some(ip), _) => write!(f, "{ip}:{host_ports}:")?,
            (None, Some(p)) => write!(f, "{p}:")?,
            (None, None) => {}
        }
        write!(f, "{}/{}", self.container_ports, self.protocol.as_str())
    }
}

/// A container port as `PORT[/proto]` (tcp when no protocol is given).
///
/// ```
/// use dockhand::input::ContainerPort;
/// let p = ContainerPort::new("53/udp").unwrap();
/// assert_eq!((p.port(), p.protocol().as_str()), (53, "udp"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContainerPort {
    /// The port.
    port: u16,
    /// Its protocol.
    protocol: Protocol,
}

impl ContainerPort {
    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Parse `PORT[/proto]`.
    pub fn new(text: &str) -> Result<ContainerPort> {
        let bad = || Error::invalid_input(format!("invalid port {text:?}: use PORT or PORT/PROTO"));
        let (port, protocol) = split_protocol(text).ok_or_else(bad)?;
        Ok(ContainerPort {
            port: parse_port(port).ok_or_else(bad)?,
            protocol,
        })
    }
}
text_type!(ContainerPort);

/// Container ports a container exposes without publishing them
/// (`--expose`): `PORT[-LAST][/proto]`.
///
/// ```
/// use dockhand::input::ExposedPorts;
/// assert_eq!(ExposedPorts::new("7000-7002/udp").unwrap().to_string(), "7000-7002/udp");
/// assert_eq!(ExposedPorts::new("7000").unwrap().to_string(), "7000/tcp");
/// assert!(ExposedPorts::new("abc").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExposedPorts {
    ports: PortRange,
    protocol: Protocol,
}

impl ExposedPorts {
    /// Parse `PORT[-LAST][/proto]`.
    pub fn new(text: &str) -> Result<ExposedPorts> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid exposed port {text:?}: use PORT or FIRST-LAST, optionally /tcp, /udp or /sctp"
            ))
        };
        let (ports, protocol) = split_protocol(text).ok_or_else(bad)?;
        Ok(ExposedPorts {
            ports: PortRange::new(ports).map_err(|_| bad())?,
            protocol,
        })
    }

    /// The ports.
    pub fn ports(&self) -> PortRange {
        self.ports
    }

    /// Their protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
}
text_type!(ExposedPorts);

impl fmt::Display for ExposedPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ports, self.protocol.as_str())
    }
}

fn split_protocol(text: &str) -> Option<(&str, Protocol)> {
    match text.split_once('/') {
        None => Some((text, Protocol::Tcp)),
        Some((ports, proto)) => match Protocol::from_engine(proto) {
            Protocol::Unknown => None,
            p => Some((ports, p)),
        },
    }
}

fn parse_port(text: &str) -> Option<u16> {
    // u16's parser takes a leading '+'; a port is digits only.
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(p) => Some(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_and_render_in_engine_syntax() {
        for (input, rendered) in [
            ("80", "80/tcp"),
            ("8080:80", "8080:80/tcp"),
            ("81/udp", "81/udp"),
            ("0.0.0.0:53:53/udp", "0.0.0.0:53:53/udp"),
            ("127.0.0.1::82", "127.0.0.1::82/tcp"),
            ("[::1]:8080:80", "[::1]:8080:80/tcp"),
            ("9000/sctp", "9000/sctp"),
            ("19000-19002:9000-9002", "19000-19002:9000-9002/tcp"),
            ("9000-9002", "9000-9002/tcp"),
            ("127.0.0.1::9000-9001/udp", "127.0.0.1::9000-9001/udp"),
            ("19053:53/udp", "19053:53/udp"),
        ] {
            assert_eq!(
                PortSpec::new(input).unwrap().to_string(),
                rendered,
                "{input}"
            );
        }
        for bad in [
            "",
            "0",
            "80/icmp",
            "a:80",
            "1.2.3:80:80",
            "80:",
            ":80:",
            "70000",
            "+80",
            "19000-19002:9000-9001",
            "19000:9000-9001",
            "9002-9000",
            "-1:80",
        ] {
            assert!(PortSpec::new(bad).is_err(), "{bad}");
        }
        let r = PortSpec::new("19000-19002:9000-9002").unwrap();
        assert_eq!((r.host_port(), r.container_port()), (Some(19000), 9000));
        assert_eq!(r.container_ports().len(), 3);
    }
}

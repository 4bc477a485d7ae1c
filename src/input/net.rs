//! Network inputs: interface names, addresses, MACs, MTUs, macvlan modes.
//!
//! Each is checked the way the kernel would check it, so a bad value is an
//! [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before
//! any `ip` or `nsenter` command runs.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::Serialize;

use super::check_plain;
use crate::error::{Error, Result};

/// The kernel's limit on interface names (IFNAMSIZ - 1 bytes).
pub const IFNAME_MAX: usize = 15;

/// A network interface name as the kernel accepts it: 1–15 bytes, no `/`,
/// `:`, `%` or whitespace, not `.` or `..`, not starting with `-`.
///
/// (`:` marks IPv4 alias labels and `%` makes the kernel pick a name from a
/// pattern such as `eth%d`; both would make a name mean something else.)
///
/// ```
/// use dockhand::input::IfName;
/// assert_eq!(IfName::new("eth1").unwrap().as_str(), "eth1");
/// for bad in ["", "a-name-of-16-chr", "a/b", "a b", "eth0:1", "eth%d", "..", "-x"] {
///     assert!(IfName::new(bad).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IfName(String);

impl IfName {
    /// Validate an interface name.
    pub fn new(text: impl Into<String>) -> Result<IfName> {
        let text = text.into();
        check_plain("interface name", &text)?;
        if text.len() > IFNAME_MAX {
            return Err(Error::invalid_input(format!(
                "interface name {text:?} is {} bytes long; the kernel allows at most {IFNAME_MAX}",
                text.len()
            )));
        }
        if let Some(c) = text
            .chars()
            .find(|c| c.is_whitespace() || "/:%".contains(*c))
        {
            return Err(Error::invalid_input(format!(
                "interface name {text:?} must not contain {c:?} (no '/', ':', '%' or whitespace)"
            )));
        }
        if text == "." || text == ".." {
            return Err(Error::invalid_input(format!(
                "{text:?} is not a valid interface name"
            )));
        }
        Ok(IfName(text))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An interface address with its prefix length, IPv4 or IPv6, such as
/// `10.1.0.2/24` or `2001:db8::2/64`. Host bits may be set (that is the
/// address); the prefix gives the on-link subnet.
///
/// ```
/// use dockhand::input::Cidr;
/// let c: Cidr = "2001:DB8:0::2/64".parse().unwrap();
/// assert_eq!(c.to_string(), "2001:db8::2/64");
/// assert!(c.contains("2001:db8::1".parse().unwrap()));
/// for bad in ["10.0.0.1", "10.0.0.1/33", "10.0.0.300/24", "::/0", "224.0.0.1/4", "x/8"] {
///     assert!(bad.parse::<Cidr>().is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// An address and prefix length, checked.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(Error::invalid_input(format!(
                "prefix length /{prefix} is too long for {addr} (at most /{max})"
            )));
        }
        check_unicast("interface address", addr)?;
        Ok(Cidr { addr, prefix })
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is in this address's subnet (same family).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = Error;
    fn from_str(text: &str) -> Result<Cidr> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid address {text:?}: use ADDRESS/PREFIX, e.g. 10.1.0.2/24 or 2001:db8::2/64"
            ))
        };
        let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Cidr::new(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A default gateway: a unicast IPv4 or IPv6 address.
///
/// ```
/// use dockhand::input::GatewayAddr;
/// assert!("10.1.0.1".parse::<GatewayAddr>().is_ok());
/// assert!("fe80::1".parse::<GatewayAddr>().unwrap().is_link_local());
/// assert!("0.0.0.0".parse::<GatewayAddr>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct GatewayAddr(IpAddr);

impl GatewayAddr {
    /// A gateway address, checked.
    pub fn new(addr: IpAddr) -> Result<GatewayAddr> {
        check_unicast("gateway", addr)?;
        Ok(GatewayAddr(addr))
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.0
    }

    /// An IPv6 link-local gateway (`fe80::/10`), reachable without any
    /// address of ours in its subnet.
    pub fn is_link_local(&self) -> bool {
        matches!(self.0, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
    }

    /// Check that this gateway is reachable through one of `addresses`: an
    /// address of the same family whose subnet contains it (or, for IPv6, a
    /// link-local gateway next to any IPv6 address).
    pub fn check_reachable(&self, addresses: &[Cidr]) -> Result<()> {
        let same_family: Vec<&Cidr> = addresses
            .iter()
            .filter(|c| c.addr().is_ipv4() == self.0.is_ipv4())
            .collect();
        let reachable = if self.is_link_local() {
            !same_family.is_empty()
        } else {
            same_family.iter().any(|c| c.contains(self.0))
        };
        if reachable {
            return Ok(());
        }
        let list: Vec<String> = addresses.iter().map(Cidr::to_string).collect();
        Err(Error::invalid_input(format!(
            "gateway {} is not in the subnet of any --ip given ({}); give an address in its subnet",
            self.0,
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(", ")
            }
        )))
    }
}

impl FromStr for GatewayAddr {
    type Err = Error;
    fn from_str(text: &str) -> Result<GatewayAddr> {
        let addr: IpAddr = text.parse().map_err(|_| {
            Error::invalid_input(format!(
                "invalid gateway {text:?}: use an IPv4 or IPv6 address"
            ))
        })?;
        GatewayAddr::new(addr)
    }
}

impl fmt::Display for GatewayAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn check_unicast(what: &str, addr: IpAddr) -> Result<()> {
    if addr.is_unspecified() || addr.is_multicast() {
        return Err(Error::invalid_input(format!(
            "{what} {addr} is not a unicast address"
        )));
    }
    if let IpAddr::V4(v4) = addr {
        if v4.is_broadcast() {
            return Err(Error::invalid_input(format!(
                "{what} {addr} is the broadcast address"
            )));
        }
    }
    Ok(())
}

/// An Ethernet MAC address for an interface: six octets, unicast, not all
/// zero. Written `02:00:00:00:00:01` (`-` also accepted); shown lower-case.
///
/// ```
/// use dockhand::input::Mac;
/// assert_eq!("02-AA-00-00-00-01".parse::<Mac>().unwrap().to_string(), "02:aa:00:00:00:01");
/// for bad in ["01:00:5e:00:00:01", "00:00:00:00:00:00", "02:00:00:00:00", "zz:00:00:00:00:00"] {
///     assert!(bad.parse::<Mac>().is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac([u8; 6]);

impl Mac {
    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl FromStr for Mac {
    type Err = Error;
    fn from_str(text: &str) -> Result<Mac> {
        let bad = |why: &str| Error::invalid_input(format!("invalid MAC address {text:?}: {why}"));
        let parts: Vec<&str> = text.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad("use six hex octets such as 02:00:00:00:00:01"));
        }
        let mut octets = [0u8; 6];
        for (o, p) in octets.iter_mut().zip(&parts) {
            if p.len() != 2 {
                return Err(bad("each octet is two hex digits"));
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad("each octet is two hex digits"))?;
        }
        if octets[0] & 1 == 1 {
            return Err(bad("a multicast address cannot be an interface's address"));
        }
        if octets == [0; 6] {
            return Err(bad("all zero"));
        }
        Ok(Mac(octets))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Interface MTU: 68 (the IPv4 minimum) to 65535.
///
/// ```
/// use dockhand::input::Mtu;
/// assert_eq!("1400".parse::<Mtu>().unwrap().get(), 1400);
/// assert!("67".parse::<Mtu>().is_err());
/// assert!("65536".parse::<Mtu>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Mtu(u32);

impl Mtu {
    /// Smallest accepted MTU.
    pub const MIN: u32 = 68;
    /// Largest accepted MTU.
    pub const MAX: u32 = 65535;

    /// An MTU, checked.
    pub fn new(mtu: u32) -> Result<Mtu> {
        if !(Mtu::MIN..=Mtu::MAX).contains(&mtu) {
            return Err(Error::invalid_input(format!(
                "MTU {mtu} is out of range {}–{}",
                Mtu::MIN,
                Mtu::MAX
            )));
        }
        Ok(Mtu(mtu))
    }

    /// The value.
    pub fn get(&self) -> u32 {
        self.0
    }
}

impl FromStr for Mtu {
    type Err = Error;
    fn from_str(text: &str) -> Result<Mtu> {
        let n: u32 = text
            .parse()
            .map_err(|_| Error::invalid_input(format!("invalid MTU {text:?}: use a number")))?;
        Mtu::new(n)
    }
}

impl fmt::Display for Mtu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a macvlan interface talks to its siblings on the same parent (the
/// kernel's `mode` of `ip link add … type macvlan`).
///
/// ```
/// use dockhand::input::MacvlanMode;
/// assert_eq!("vepa".parse::<MacvlanMode>().unwrap(), MacvlanMode::Vepa);
/// assert_eq!(MacvlanMode::default().as_str(), "bridge");
/// assert!("source".parse::<MacvlanMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MacvlanMode {
    /// Siblings talk directly (the usual choice).
    #[default]
    Bridge,
    /// No traffic between siblings.
    Private,
    /// Sibling traffic goes out through the external switch.
    Vepa,
    /// One macvlan takes over the parent (exclusive).
    Passthru,
}

impl MacvlanMode {
    /// The word `ip` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Passthru => "passthru",
        }
    }
}

impl FromStr for MacvlanMode {
    type Err = Error;
    fn from_str(text: &str) -> Result<MacvlanMode> {
        [
            MacvlanMode::Bridge,
            MacvlanMode::Private,
            MacvlanMode::Vepa,
            MacvlanMode::Passthru,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "invalid macvlan mode {text:?}: use bridge, private, vepa or passthru"
            ))
        })
    }
}

impl fmt::Display for MacvlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The addresses and default gateway to give an interface in a container,
/// checked together: no address twice, and the gateway reachable through
/// one of them.
///
/// ```
/// use dockhand::input::Addressing;
/// let a = Addressing::new(vec!["10.1.0.2/24".parse()?], Some("10.1.0.1".parse()?))?;
/// assert_eq!(a.addresses().len(), 1);
/// assert!(Addressing::new(vec![], Some("10.1.0.1".parse()?)).is_err());
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Addressing {
    addresses: Vec<Cidr>,
    gateway: Option<GatewayAddr>,
}

impl Addressing {
    /// Addresses (in the order given) and an optional default gateway.
    pub fn new(addresses: Vec<Cidr>, gateway: Option<GatewayAddr>) -> Result<Addressing> {
        for (i, a) in addresses.iter().enumerate() {
            if addresses[..i].contains(a) {
                return Err(Error::invalid_input(format!("address {a} is given twice")));
            }
        }
        if let Some(gw) = gateway {
            gw.check_reachable(&addresses)?;
        }
        Ok(Addressing { addresses, gateway })
    }

    /// The addresses.
    pub fn addresses(&self) -> &[Cidr] {
        &self.addresses
    }

    /// The default gateway.
    pub fn gateway(&self) -> Option<GatewayAddr> {
        self.gateway
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifname_limits_are_the_kernels() {
        assert!(IfName::new("a".repeat(15)).is_ok());
        assert!(IfName::new("a".repeat(16)).is_err());
        // Bytes, not characters, count.
        assert!(IfName::new("é".repeat(8)).is_err());
        for bad in ["a\tb", "a\nb", "x\u{a0}y", "."] {
            assert!(IfName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cidr_contains_by_prefix() {
        let c: Cidr = "10.1.0.2/24".parse().unwrap();
        assert!(c.contains("10.1.0.254".parse().unwrap()));
        assert!(!c.contains("10.1.1.1".parse().unwrap()));
        let all: Cidr = "10.1.0.2/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        let host: Cidr = "2001:db8::2/128".parse().unwrap();
        assert!(!host.contains("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn gateway_must_be_reachable_through_an_address() {
        let v4: Cidr = "10.1.0.2/24".parse().unwrap();
        let v6: Cidr = "2001:db8::2/64".parse().unwrap();
        let gw = |s: &str| s.parse::<GatewayAddr>().unwrap();
        assert!(gw("10.1.0.1").check_reachable(&[v4]).is_ok());
        assert!(gw("10.2.0.1").check_reachable(&[v4, v6]).is_err());
        assert!(gw("2001:db8::1").check_reachable(&[v4]).is_err());
        assert!(gw("fe80::1").check_reachable(&[v6]).is_ok());
        assert!(gw("fe80::1").check_reachable(&[v4]).is_err());
    }

    #[test]
    fn duplicate_addresses_are_refused() {
        let a: Cidr = "10.1.0.2/24".parse().unwrap();
        let e = Addressing::new(vec![a, a], None).unwrap_err();
        assert!(e.message().contains("twice"), "{e}");
        // Same address with another prefix is the kernel's call, not ours.
        let b: Cidr = "10.1.0.2/16".parse().unwrap();
        assert!(Addressing::new(vec![a, b], None).is_ok());
    }

    #[test]
    fn broadcast_is_not_an_address() {
        assert!("255.255.255.255/32".parse::<Cidr>().is_err());
        assert!("255.255.255.255".parse::<GatewayAddr>().is_err());
    }
}

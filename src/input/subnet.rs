//! Subnets in CIDR notation (`10.89.0.0/24`, `fd00:1::/64`).

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::Cidr;
use crate::error::{Error, Result};

/// A subnet: an address and a prefix length that fits its family.
///
/// ```
/// use dockhand::input::Subnet;
/// let s = Subnet::new("10.89.0.0/24").unwrap();
/// assert_eq!((s.addr().to_string(), s.prefix()), ("10.89.0.0".to_string(), 24));
/// assert_eq!(s.first_host().unwrap().to_string(), "10.89.0.1");
/// assert!(Subnet::new("10.89.0.0/33").is_err());
/// assert!(Subnet::new("10.89.0.0").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct Subnet {
    addr: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// Parse `ADDRESS/PREFIX`.
    pub fn new(text: &str) -> Result<Subnet> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid subnet {text:?}: use CIDR notation such as 10.89.0.0/24 or fd00::/64"
            ))
        };
        let (addr, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(Subnet { addr, prefix })
    }

    /// The address as written (not necessarily the network address).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is inside this subnet (same family).
    ///
    /// ```
    /// use dockhand::input::Subnet;
    /// let s = Subnet::new("10.89.0.0/24").unwrap();
    /// assert!(s.contains("10.89.0.1".parse().unwrap()));
    /// assert!(!s.contains("10.90.0.1".parse().unwrap()));
    /// assert!(!s.contains("fd00::1".parse().unwrap()));
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        Cidr::new(self.addr, self.prefix).is_ok_and(|c| c.contains(ip))
    }

    /// The first host address (network address + 1): what docker's IPAM
    /// hands out as the gateway when none was configured. `None` for a
    /// subnet without room for one (/32, /31, /128, /127).
    pub fn first_host(&self) -> Option<IpAddr> {
        match self.addr {
            IpAddr::V4(a) if self.prefix <= 30 => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                Some(IpAddr::V4((u32::from(a) & mask).wrapping_add(1).into()))
            }
            IpAddr::V6(a) if self.prefix <= 126 => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                Some(IpAddr::V6((u128::from(a) & mask).wrapping_add(1).into()))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl From<Subnet> for String {
    fn from(s: Subnet) -> String {
        s.to_string()
    }
}

impl std::str::FromStr for Subnet {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Subnet::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_host_masks_the_address() {
        let host = |t: &str| Subnet::new(t).unwrap().first_host().map(|a| a.to_string());
        assert_eq!(host("172.17.0.0/16").as_deref(), Some("172.17.0.1"));
        assert_eq!(host("10.0.0.77/24").as_deref(), Some("10.0.0.1"));
        assert_eq!(host("0.0.0.0/0").as_deref(), Some("0.0.0.1"));
        assert_eq!(host("fd00:1::/64").as_deref(), Some("fd00:1::1"));
        assert_eq!(host("10.0.0.1/32"), None);
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "/24",
            "10.0.0.0/",
            "10.0.0.0/x",
            "fd00::/129",
            "a.b.c.d/8",
            "-1/2",
        ] {
            assert!(Subnet::new(bad).is_err(), "{bad:?}");
        }
    }
}

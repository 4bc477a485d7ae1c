//! The values container commands take besides names: ports, volumes,
//! environment, labels, sizes, signals … each validated once, here.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{check_plain, ContainerRef};
use crate::error::{Error, Result};

/// Implements `FromStr` (for clap) and `Display` for a validated type.
macro_rules! text_type {
    ($t:ty) => {
        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                <$t>::new(s)
            }
        }
    };
}

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

/// A plain value handed to an engine option (network, hostname, user,
/// capability, device …): not empty, no leading `-`, no control characters.
/// The engine checks its meaning; this keeps it from being anything else.
///
/// ```
/// use dockhand::input::Word;
/// assert!(Word::new("NET_ADMIN").is_ok());
/// assert!(Word::new("--privileged").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Word(String);

impl Word {
    /// Validate a value.
    pub fn new(text: impl Into<String>) -> Result<Word> {
        let text = text.into();
        check_plain("value", &text)?;
        Ok(Word(text))
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_type!(Word);

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest env value the engines' env-file readers take (Go's
/// `bufio.Scanner` stops at 64 KiB lines).
const MAX_ENV_LINE: usize = 60 * 1024;

/// An environment variable for a container. Values travel in a 0600
/// env-file, never in argv; that format is one `KEY=VALUE` per line, so a
/// value cannot hold a newline, carriage return or NUL.
///
/// ```
/// use dockhand::input::EnvVar;
/// let v = EnvVar::new("TOKEN", "s3cr=t with spaces").unwrap();
/// assert_eq!(v.key(), "TOKEN");
/// assert!(EnvVar::new("TOKEN", "two\nlines").is_err());
/// assert!(EnvVar::new("BAD KEY", "x").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    key: String,
    value: String,
}

impl EnvVar {
    /// Validate a variable.
    pub fn new(key: &str, value: &str) -> Result<EnvVar> {
        check_plain("environment variable name", key)?;
        // The portable set (letters, digits, `_`; no digit first): anything
        // else (a byte-order mark, a dash …) may make the engine reject the
        // env-file line and echo it — value included — in its error.
        let portable = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !portable {
            return Err(Error::invalid_input(format!(
                "invalid environment variable name {}: use letters, digits and _, not starting \
                 with a digit",
                key.escape_default()
            )));
        }
        if value.contains(['\n', '\r', '\0']) {
            return Err(Error::invalid_input(format!(
                "the value of {key} contains a newline, carriage return or NUL: the env-file \
                 format (one KEY=VALUE per line) cannot carry it"
            )));
        }
        if key.len() + value.len() + 1 > MAX_ENV_LINE {
            return Err(Error::invalid_input(format!(
                "the value of {key} is too long for an env-file line (at most {MAX_ENV_LINE} bytes)"
            )));
        }
        Ok(EnvVar {
            key: key.to_string(),
            value: value.to_string(),
        })
    }

    /// Parse `KEY=VALUE`.
    pub fn parse(text: &str) -> Result<EnvVar> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| Error::invalid_input(format!("{:?} is not KEY=VALUE", text)))?;
        EnvVar::new(key, value)
    }

    /// The name.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// Never shows the value (it may be a secret).
impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvVar({}=…)", self.key)
    }
}

/// A published port: `PORT[/proto]` (random host port),
/// `HOST_PORT:PORT[/proto]` or `IP:[HOST_PORT]:PORT[/proto]`.
///
/// ```
/// use dockhand::input::PortSpec;
/// assert_eq!(PortSpec::new("8080").unwrap().to_string(), "8080/tcp");
/// assert_eq!(PortSpec::new("53:53/udp").unwrap().to_string(), "53:53/udp");
/// assert_eq!(PortSpec::new("127.0.0.1::80").unwrap().to_string(), "127.0.0.1::80/tcp");
/// assert!(PortSpec::new("99999").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSpec {
    /// Host address to bind (all when `None`).
    host_ip: Option<IpAddr>,
    /// Host port (random when `None`).
    host_port: Option<u16>,
    /// Port inside the container.
    container_port: u16,
    /// tcp, udp or sctp.
    protocol: Protocol,
}

impl PortSpec {
    /// Host address to bind (all when `None`).
    pub fn host_ip(&self) -> Option<IpAddr> {
        self.host_ip
    }

    /// Host port (random when `None`).
    pub fn host_port(&self) -> Option<u16> {
        self.host_port
    }

    /// Port inside the container.
    pub fn container_port(&self) -> u16 {
        self.container_port
    }

    /// tcp, udp or sctp.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Parse a `-p` value.
    pub fn new(text: &str) -> Result<PortSpec> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid port {text:?}: use PORT, HOST_PORT:PORT or IP:[HOST_PORT]:PORT, optionally /tcp, /udp or /sctp"
            ))
        };
        let (ports, protocol) = split_protocol(text).ok_or_else(bad)?;
        let (host, container) = ports.rsplit_once(':').unwrap_or(("", ports));
        let container_port = parse_port(container).ok_or_else(bad)?;
        let (host_ip, host_port) = match host.rsplit_once(':') {
            None => (None, host),
            Some((ip, port)) => {
                let ip = ip.trim_start_matches('[').trim_end_matches(']');
                (Some(ip.parse::<IpAddr>().map_err(|_| bad())?), port)
            }
        };
        let host_port = match host_port {
            "" => None,
            p => Some(parse_port(p).ok_or_else(bad)?),
        };
        Ok(PortSpec {
            host_ip,
            host_port,
            container_port,
            protocol,
        })
    }
}
text_type!(PortSpec);

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host_port = self.host_port.map(|p| p.to_string()).unwrap_or_default();
        match (self.host_ip, self.host_port) {
            (Some(IpAddr::V6(ip)), _) => write!(f, "[{ip}]:{host_port}:")?,
            (Some(ip), _) => write!(f, "{ip}:{host_port}:")?,
            (None, Some(p)) => write!(f, "{p}:")?,
            (None, None) => {}
        }
        write!(f, "{}/{}", self.container_port, self.protocol.as_str())
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
    match text.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(p) => Some(p),
    }
}

/// A volume or bind mount: `SRC:DST[:ro|:rw]`, where SRC is a volume name
/// or an absolute host path and DST an absolute container path.
///
/// ```
/// use dockhand::input::VolumeSpec;
/// let v = VolumeSpec::new("/srv/data:/data:ro").unwrap();
/// assert!(v.read_only());
/// assert_eq!(v.to_string(), "/srv/data:/data:ro");
/// assert!(VolumeSpec::new("data:relative").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeSpec {
    /// Volume name or host path.
    source: String,
    /// Path in the container.
    destination: String,
    /// Mount read-only.
    read_only: bool,
}

impl VolumeSpec {
    /// Volume name or host path.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Path in the container.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Whether it is mounted read-only.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Parse a `-v` value.
    pub fn new(text: &str) -> Result<VolumeSpec> {
        check_plain("volume", text)?;
        let bad = |why: &str| {
            Error::invalid_input(format!("invalid volume {text:?}: {why} (use SRC:DST[:ro])"))
        };
        let mut parts = text.split(':');
        let (source, destination) = match (parts.next(), parts.next()) {
            (Some(s), Some(d)) if !s.is_empty() => (s, d),
            _ => return Err(bad("SRC and DST are required")),
        };
        let read_only = match parts.next() {
            None | Some("rw") => false,
            Some("ro") => true,
            Some(_) => return Err(bad("the only options are ro and rw")),
        };
        if parts.next().is_some() {
            return Err(bad("too many ':'"));
        }
        if !destination.starts_with('/') {
            return Err(bad("DST must be an absolute path"));
        }
        if !source.starts_with('/') && ContainerRef::new(source).is_err() {
            return Err(bad("SRC must be an absolute path or a volume name"));
        }
        Ok(VolumeSpec {
            source: source.into(),
            destination: destination.into(),
            read_only,
        })
    }
}
text_type!(VolumeSpec);

impl fmt::Display for VolumeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.destination)?;
        if self.read_only {
            f.write_str(":ro")?;
        }
        Ok(())
    }
}

/// A legacy link `CONTAINER[:ALIAS]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerLink {
    /// The linked container.
    container: ContainerRef,
    /// Host name it gets (its name when `None`).
    alias: Option<ContainerRef>,
}

impl ContainerLink {
    /// The linked container.
    pub fn container(&self) -> &ContainerRef {
        &self.container
    }

    /// Host name it gets (its name when `None`).
    pub fn alias(&self) -> Option<&ContainerRef> {
        self.alias.as_ref()
    }

    /// Parse `CONTAINER[:ALIAS]`.
    pub fn new(text: &str) -> Result<ContainerLink> {
        let (c, a) = match text.split_once(':') {
            Some((c, a)) => (c, Some(ContainerRef::new(a)?)),
            None => (text, None),
        };
        Ok(ContainerLink {
            container: ContainerRef::new(c)?,
            alias: a,
        })
    }
}
text_type!(ContainerLink);

impl fmt::Display for ContainerLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.alias {
            Some(a) => write!(f, "{}:{a}", self.container),
            None => write!(f, "{}", self.container),
        }
    }
}

/// A restart policy: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
///
/// ```
/// use dockhand::input::RestartPolicy;
/// assert_eq!(RestartPolicy::new("on-failure:3").unwrap(), RestartPolicy::OnFailure(Some(3)));
/// assert!(RestartPolicy::new("sometimes").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RestartPolicy {
    /// Never restart.
    No,
    /// Always restart.
    Always,
    /// Restart unless stopped by hand.
    UnlessStopped,
    /// Restart after a non-zero exit, at most N times.
    OnFailure(Option<u32>),
}

impl RestartPolicy {
    /// Parse a policy.
    pub fn new(text: &str) -> Result<RestartPolicy> {
        Ok(match text.split_once(':') {
            None if text == "no" => RestartPolicy::No,
            None if text == "always" => RestartPolicy::Always,
            None if text == "unless-stopped" => RestartPolicy::UnlessStopped,
            None if text == "on-failure" => RestartPolicy::OnFailure(None),
            Some(("on-failure", n)) => RestartPolicy::OnFailure(Some(n.parse().map_err(|_| {
                Error::invalid_input(format!("invalid retry count in restart policy {text:?}"))
            })?)),
            _ => {
                return Err(Error::invalid_input(format!(
                "invalid restart policy {text:?}: use no, always, unless-stopped or on-failure[:N]"
            )))
            }
        })
    }
}
text_type!(RestartPolicy);

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
            RestartPolicy::OnFailure(None) => f.write_str("on-failure"),
            RestartPolicy::OnFailure(Some(n)) => write!(f, "on-failure:{n}"),
        }
    }
}

/// A memory size: bytes, or a number with `b`, `k`, `m`, `g` (powers of 1024).
///
/// ```
/// use dockhand::input::MemorySize;
/// assert_eq!(MemorySize::new("64m").unwrap().bytes(), 64 << 20);
/// assert!(MemorySize::new("12qq").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MemorySize(u64);

impl MemorySize {
    /// Parse a size.
    pub fn new(text: &str) -> Result<MemorySize> {
        let t = text.trim().to_ascii_lowercase();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let shift = match unit {
            "" | "b" => 0,
            "k" | "kb" => 10,
            "m" | "mb" => 20,
            "g" | "gb" => 30,
            _ => return Err(bad_size(text)),
        };
        let n: u64 = number.parse().map_err(|_| bad_size(text))?;
        n.checked_mul(1 << shift)
            .filter(|b| *b > 0)
            .map(MemorySize)
            .ok_or_else(|| bad_size(text))
    }

    /// Size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}
text_type!(MemorySize);

fn bad_size(text: &str) -> Error {
    Error::invalid_input(format!(
        "invalid memory size {text:?}: use a positive number with an optional unit b, k, m or g"
    ))
}

/// A CPU count such as `0.5` or `2` (more than 0, at most 1024).
///
/// ```
/// use dockhand::input::Cpus;
/// assert_eq!(Cpus::new("0.5").unwrap().to_string(), "0.5");
/// assert!(Cpus::new("0").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Cpus(f64);

impl Cpus {
    /// Parse a CPU count.
    pub fn new(text: &str) -> Result<Cpus> {
        match text.trim().parse::<f64>() {
            Ok(n) if n > 0.0 && n <= 1024.0 => Ok(Cpus(n)),
            _ => Err(Error::invalid_input(format!(
                "invalid CPU count {text:?}: use a number above 0 such as 0.5 or 2"
            ))),
        }
    }
}
text_type!(Cpus);

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.3}", self.0);
        f.write_str(text.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// Signal names `kill -s` accepts (without `SIG`).
const SIGNALS: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// A signal: a name (`TERM`, `SIGHUP`) or a number 1–64.
///
/// ```
/// use dockhand::input::Signal;
/// assert_eq!(Signal::new("sighup").unwrap().to_string(), "HUP");
/// assert_eq!(Signal::new("9").unwrap().to_string(), "9");
/// assert!(Signal::new("NOPE").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Signal(String);

impl Signal {
    /// Parse a signal.
    pub fn new(text: &str) -> Result<Signal> {
        let upper = text.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        let numeric_ok = name.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n));
        if numeric_ok || SIGNALS.contains(&name) {
            Ok(Signal(name.to_string()))
        } else {
            Err(Error::invalid_input(format!(
                "unknown signal {text:?}: use a name such as TERM, HUP, KILL or a number 1-64"
            )))
        }
    }
}
text_type!(Signal);

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One side of `cp`: `CONTAINER:PATH` or a host path.
///
/// ```
/// use dockhand::input::CopyPath;
/// assert!(matches!(CopyPath::new("web:/etc/hosts").unwrap(), CopyPath::Container(..)));
/// assert!(matches!(CopyPath::new("./out/hosts").unwrap(), CopyPath::Host(_)));
/// assert!(CopyPath::new("web:relative").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyPath {
    /// A path inside a container (absolute).
    Container(ContainerRef, String),
    /// A path on the host.
    Host(PathBuf),
}

impl CopyPath {
    /// Parse a `cp` argument: `NAME:/path` is in a container, anything
    /// else (with a `/` before any `:`) is a host path.
    pub fn new(text: &str) -> Result<CopyPath> {
        if let Some(c) = text.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_input(format!(
                "path {text:?} contains the control character {c:?}"
            )));
        }
        match text.split_once(':') {
            Some((name, path)) if !name.contains('/') => {
                if !path.starts_with('/') {
                    return Err(Error::invalid_input(format!(
                        "container path {path:?} in {text:?} must be absolute"
                    )));
                }
                Ok(CopyPath::Container(
                    ContainerRef::new(name)?,
                    path.to_string(),
                ))
            }
            _ if text.is_empty() => Err(Error::invalid_input("empty path")),
            _ => Ok(CopyPath::Host(PathBuf::from(text))),
        }
    }
}
text_type!(CopyPath);

impl fmt::Display for CopyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyPath::Container(c, p) => write!(f, "{c}:{p}"),
            CopyPath::Host(p) => write!(f, "{}", p.display()),
        }
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
        ] {
            assert!(PortSpec::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_values_keep_equals_and_spaces_but_not_line_breaks() {
        let v = EnvVar::parse("A=b=c d ").unwrap();
        assert_eq!((v.key(), v.value()), ("A", "b=c d "));
        for bad in ["=x", "A B=1", "#A=1", "-A=1", "A"] {
            assert!(EnvVar::parse(bad).is_err(), "{bad}");
        }
        for value in ["a\nb", "a\r", "a\0b"] {
            let e = EnvVar::new("K", value).unwrap_err();
            assert!(e.message().contains("env-file"), "{e}");
        }
        assert!(EnvVar::new("K", &"x".repeat(MAX_ENV_LINE)).is_err());
        assert!(
            !format!("{v:?}").contains("b=c"),
            "Debug must hide the value"
        );
    }

    #[test]
    fn sizes_signals_policies_cpus() {
        assert_eq!(MemorySize::new("1g").unwrap().bytes(), 1 << 30);
        assert_eq!(MemorySize::new("512").unwrap().bytes(), 512);
        for bad in ["", "0", "-1m", "1.5g", "99999999999999g"] {
            assert!(MemorySize::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Signal::new("SIGKILL").unwrap().to_string(), "KILL");
        assert!(Signal::new("65").is_err() && Signal::new("0").is_err());
        assert_eq!(
            RestartPolicy::new("unless-stopped").unwrap().to_string(),
            "unless-stopped"
        );
        assert!(RestartPolicy::new("on-failure:x").is_err());
        assert_eq!(Cpus::new("2").unwrap().to_string(), "2");
        assert_eq!(Cpus::new("1.25").unwrap().to_string(), "1.25");
        assert!(Cpus::new("nan").is_err() && Cpus::new("-1").is_err());
    }

    #[test]
    fn volumes_links_copy_paths() {
        assert_eq!(VolumeSpec::new("data:/data").unwrap().source, "data");
        for bad in ["/a", "/a:/b:z", "a b:/c", ":/c", "/a:/b:ro:x", "-v:/x"] {
            assert!(VolumeSpec::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ContainerLink::new("db:database").unwrap().to_string(),
            "db:database"
        );
        assert!(ContainerLink::new("db:-x").is_err());
        assert!(matches!(
            CopyPath::new("/tmp/a:b").unwrap(),
            CopyPath::Host(_)
        ));
        assert!(CopyPath::new("-rf:/x").is_err());
        assert!(CopyPath::new("a\nb").is_err());
    }
}

//! What the container's process gets: entrypoint, ulimits, sysctls,
//! supplementary groups, GPUs, and how the image is chosen (`--pull`).

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::{check_plain, KeyValue};

/// The program `--entrypoint` runs instead of the image's: one word (its
/// arguments are the container's command), or [`Entrypoint::none`] for no
/// entrypoint at all (`--entrypoint=`). docker takes the whole value as
/// one program name and podman would parse a `[...]` value as a JSON array,
/// so a value starting with `[` is refused; a compose-style list becomes
/// the first word here and the rest goes in front of the command.
///
/// ```
/// use dockhand::input::Entrypoint;
/// assert_eq!(Entrypoint::new("/bin/sh").unwrap().to_string(), "/bin/sh");
/// assert_eq!(Entrypoint::none().to_string(), "");
/// for bad in ["-x", "[\"sh\"]", "a\nb"] {
///     assert!(Entrypoint::new(bad).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Entrypoint(String);

impl Entrypoint {
    /// A program (path or name on the image's PATH).
    pub fn new(text: &str) -> Result<Entrypoint> {
        check_plain("entrypoint", text)?;
        if text.starts_with('[') {
            return Err(Error::invalid_input(format!(
                "entrypoint {text:?}: give the program alone; its arguments go after IMAGE \
                 (podman would read '[…]' as a JSON array, docker as one program name)"
            )));
        }
        Ok(Entrypoint(text.to_string()))
    }

    /// No entrypoint: the command runs as given.
    pub fn none() -> Entrypoint {
        Entrypoint(String::new())
    }

    /// The program (empty for none).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Entrypoint {
    type Err = Error;
    fn from_str(text: &str) -> Result<Entrypoint> {
        match text {
            "" => Ok(Entrypoint::none()),
            t => Entrypoint::new(t),
        }
    }
}

impl fmt::Display for Entrypoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resource names `--ulimit` takes (the engines' shared list; `as` is not
/// among them).
const ULIMITS: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// A resource limit (`--ulimit`): `NAME=SOFT[:HARD]`, numbers or `-1`
/// (unlimited), soft at most hard.
///
/// ```
/// use dockhand::input::Ulimit;
/// let u = Ulimit::new("nofile=1024:2048").unwrap();
/// assert_eq!((u.name(), u.soft(), u.hard()), ("nofile", 1024, 2048));
/// assert_eq!(Ulimit::new("nproc=512").unwrap().to_string(), "nproc=512:512");
/// for bad in ["nofile=a:b", "nofile", "bogus=1", "nofile=2048:1024", "-n=1"] {
///     assert!(Ulimit::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ulimit {
    name: String,
    soft: i64,
    hard: i64,
}

impl Ulimit {
    /// Parse `NAME=SOFT[:HARD]`.
    pub fn new(text: &str) -> Result<Ulimit> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "invalid ulimit {text:?}: {why} (use NAME=SOFT[:HARD], e.g. nofile=1024:2048)"
            ))
        };
        let (name, limits) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
        if !ULIMITS.contains(&name) {
            return Err(bad(&format!(
                "unknown resource {name:?}: use one of {}",
                ULIMITS.join(", ")
            )));
        }
        let number = |t: &str| match t {
            "-1" => Some(-1),
            t if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t.parse::<i64>().ok(),
            _ => None,
        };
        let (soft, hard) = match limits.split_once(':') {
            Some((s, h)) => (number(s), number(h)),
            None => (number(limits), number(limits)),
        };
        let (Some(soft), Some(hard)) = (soft, hard) else {
            return Err(bad("limits are whole numbers or -1 (unlimited)"));
        };
        // -1 is unlimited: above every number.
        let order = |n: i64| if n == -1 { i64::MAX } else { n };
        if order(soft) > order(hard) {
            return Err(bad(&format!(
                "the soft limit {soft} is above the hard limit {hard}"
            )));
        }
        Ok(Ulimit {
            name: name.to_string(),
            soft,
            hard,
        })
    }

    /// The resource (`nofile`, `nproc` …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The soft limit (-1: unlimited).
    pub fn soft(&self) -> i64 {
        self.soft
    }

    /// The hard limit (-1: unlimited).
    pub fn hard(&self) -> i64 {
        self.hard
    }
}
text_type!(Ulimit);

impl fmt::Display for Ulimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}:{}", self.name, self.soft, self.hard)
    }
}

/// The sysctls both engines allow in a container: ones the kernel keeps per
/// IPC or network namespace.
const SYSCTL_KEYS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];
const SYSCTL_PREFIXES: &[&str] = &["net.", "fs.mqueue."];

/// A namespaced kernel parameter (`--sysctl KEY=VALUE`): `net.*`,
/// `fs.mqueue.*`, or one of `kernel.msgmax`, `kernel.msgmnb`,
/// `kernel.msgmni`, `kernel.sem`, `kernel.shmall`, `kernel.shmmax`,
/// `kernel.shmmni`, `kernel.shm_rmid_forced`. Others would change the
/// host's kernel and both engines refuse them.
///
/// ```
/// use dockhand::input::Sysctl;
/// let s = Sysctl::new("net.ipv4.ip_unprivileged_port_start=80").unwrap();
/// assert!(s.is_net());
/// for bad in ["vm.swappiness=1", "kernel.bogus=1", "net.ipv4.ip_forward", "net..x=1", "net.x="] {
///     assert!(Sysctl::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sysctl(KeyValue);

impl Sysctl {
    /// Parse `KEY=VALUE`.
    pub fn new(text: &str) -> Result<Sysctl> {
        let bad = |why: &str| Error::invalid_input(format!("invalid sysctl {text:?}: {why}"));
        let pair = KeyValue::new("sysctl", text)?;
        let key = pair.key();
        let key_syntax = key.split('.').count() >= 2
            && key.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !key_syntax {
            return Err(bad(
                "the key is dot-separated words such as net.ipv4.ip_forward",
            ));
        }
        if !SYSCTL_KEYS.contains(&key) && !SYSCTL_PREFIXES.iter().any(|p| key.starts_with(p)) {
            return Err(bad(
                "only namespaced sysctls are allowed in a container: net.*, fs.mqueue.*, \
                 kernel.msg{max,mnb,mni}, kernel.sem, kernel.shm{all,max,mni}, kernel.shm_rmid_forced",
            ));
        }
        if pair.value().trim().is_empty() {
            return Err(bad("the value must not be empty"));
        }
        Ok(Sysctl(pair))
    }

    /// The key.
    pub fn key(&self) -> &str {
        self.0.key()
    }

    /// The value.
    pub fn value(&self) -> &str {
        self.0.value()
    }

    /// A network sysctl: needs a network namespace of the container's own.
    pub fn is_net(&self) -> bool {
        self.key().starts_with("net.")
    }
}
text_type!(Sysctl);

impl fmt::Display for Sysctl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A supplementary group (`--group-add`): a group name
/// (`[A-Za-z_][A-Za-z0-9_.-]*`, at most 32 bytes) or a numeric gid.
///
/// ```
/// use dockhand::input::GroupName;
/// assert!(GroupName::new("audio").is_ok() && GroupName::new("1234").is_ok());
/// assert!(GroupName::new("-x").is_err() && GroupName::new("a b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct GroupName(String);

impl GroupName {
    /// Validate a group.
    pub fn new(text: &str) -> Result<GroupName> {
        let numeric = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let name = text.len() <= 32
            && text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        match numeric && text.parse::<u32>().is_ok() || name {
            true => Ok(GroupName(text.to_string())),
            false => Err(Error::invalid_input(format!(
                "invalid group {text:?}: use a group name or a numeric gid"
            ))),
        }
    }
}
text_impls!(GroupName);

/// When to pull the image (`--pull`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    /// Always pull, even when the image is here.
    Always,
    /// Pull when it is not here (the engines' default).
    Missing,
    /// Never pull; fail when it is not here.
    Never,
    /// Pull when the registry has a newer one (podman only).
    Newer,
}

impl PullPolicy {
    /// Parse `always`, `missing`, `never` or `newer`.
    ///
    /// ```
    /// use dockhand::input::PullPolicy;
    /// assert_eq!(PullPolicy::new("never").unwrap(), PullPolicy::Never);
    /// assert!(PullPolicy::new("bogus").is_err());
    /// ```
    pub fn new(text: &str) -> Result<PullPolicy> {
        match text {
            "always" => Ok(PullPolicy::Always),
            "missing" => Ok(PullPolicy::Missing),
            "never" => Ok(PullPolicy::Never),
            "newer" => Ok(PullPolicy::Newer),
            _ => Err(Error::invalid_input(format!(
                "invalid pull policy {text:?}: use always, missing or never (podman also newer)"
            ))),
        }
    }

    /// The engines' word.
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "always",
            PullPolicy::Missing => "missing",
            PullPolicy::Never => "never",
            PullPolicy::Newer => "newer",
        }
    }
}
text_type!(PullPolicy);

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// GPUs for the container (`--gpus`): `all`, a count `N`, or
/// `device=ID[,ID…]`. docker passes it to its GPU device driver; podman has
/// no `--gpus` (its `run` silently ignores it) and names GPUs as CDI
/// devices, so dockhand sends podman `--device=nvidia.com/gpu=ID` (or
/// `=all`) and refuses a bare count there.
///
/// ```
/// use dockhand::input::GpuRequest;
/// assert_eq!(GpuRequest::new("all").unwrap(), GpuRequest::All);
/// assert_eq!(GpuRequest::new("device=0,1").unwrap().to_string(), "\"device=0,1\"");
/// assert!(GpuRequest::new("bogus=1").is_err() && GpuRequest::new("0").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuRequest {
    /// Every GPU.
    All,
    /// This many GPUs (docker only).
    Count(u32),
    /// These devices (index or UUID).
    Devices(Vec<String>),
}

impl GpuRequest {
    /// Parse `all`, `N` or `device=ID[,ID…]`.
    pub fn new(text: &str) -> Result<GpuRequest> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid GPU request {text:?}: use all, a count N (1 or more) or device=ID[,ID…]"
            ))
        };
        let text = text.trim_matches('"');
        if text == "all" {
            return Ok(GpuRequest::All);
        }
        if let Some(ids) = text.strip_prefix("device=") {
            let ids: Vec<String> = ids.split(',').map(str::to_string).collect();
            let ok = ids.iter().all(|id| {
                !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
            });
            return ok.then_some(GpuRequest::Devices(ids)).ok_or_else(bad);
        }
        match text.parse::<u32>() {
            Ok(n) if n > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(GpuRequest::Count(n)),
            _ => Err(bad()),
        }
    }
}
text_type!(GpuRequest);

/// docker's `--gpus` value (a device list in quotes: its parser splits at
/// commas otherwise).
impl fmt::Display for GpuRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuRequest::All => f.write_str("all"),
            GpuRequest::Count(n) => n.fmt(f),
            GpuRequest::Devices(ids) => write!(f, "\"device={}\"", ids.join(",")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimits_sysctls_groups() {
        assert_eq!(Ulimit::new("core=-1").unwrap().to_string(), "core=-1:-1");
        assert!(Ulimit::new("nofile=-1:1024").is_err());
        assert!(Ulimit::new("nofile=1024:-1").is_ok());
        assert!(Ulimit::new("nofile=+1").is_err());
        assert!(Sysctl::new("kernel.shmmax=1000").is_ok());
        assert!(Sysctl::new("fs.mqueue.msg_max=20").is_ok());
        assert!(!Sysctl::new("kernel.sem=1 2 3 4").unwrap().is_net());
        assert!(GroupName::new(&"g".repeat(33)).is_err());
        assert!(GroupName::new("99999999999").is_err());
        assert!(GpuRequest::new("device=").is_err());
    }
}

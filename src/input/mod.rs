//! Validation of what callers hand us, before any command is built.
//!
//! Every value that ends up in an argv is checked here first, so a bad value
//! is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error
//! and no command runs.

/// `Display`, `AsRef<OsStr>` (for argv) and `FromStr` (for clap) of a
/// validated text newtype `$t(String)` with a `$t::new`.
macro_rules! text_impls {
    ($t:ident) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<std::ffi::OsStr> for $t {
            fn as_ref(&self) -> &std::ffi::OsStr {
                std::ffi::OsStr::new(&self.0)
            }
        }

        impl std::str::FromStr for $t {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                $t::new(s)
            }
        }
    };
}

mod container_opts;
mod image;
mod kv;
mod names;
mod net;
mod observe;
mod subnet;
mod verbs;

use std::time::Duration;

pub use container_opts::files::KeyValueFile;
pub use container_opts::limits::{
    BlkioWeight, CpuPeriod, CpuQuota, CpuSet, Cpus, MemorySize, MemorySwap, OomScoreAdj, PidsLimit,
};
pub use container_opts::logging::{LogDriver, LogOpt};
pub use container_opts::mounts::{MountSpec, MountType, Propagation, TmpfsMount, VolumeSpec};
pub use container_opts::networking::{
    DnsOption, DomainName, HostEntry, NetworkEndpoint, NetworkMode,
};
pub use container_opts::ports::{ContainerPort, ExposedPorts, PortRange, PortSpec, Protocol};
pub use container_opts::process::{Entrypoint, GpuRequest, GroupName, PullPolicy, Sysctl, Ulimit};
pub use container_opts::security::{Capability, NamespaceMode, SecurityOpt, UsernsMode};
pub use container_opts::{ContainerLink, CopyPath, EnvVar, RestartPolicy, Signal, Word};
pub use image::{ImageRef, ImageTag, Platform, Registry};
pub use kv::KeyValue;
pub use names::{BuildStage, ContainerRef, NetworkAlias, NetworkName, VolumeName};
pub use net::{Addressing, Cidr, GatewayAddr, IfName, Mac, MacvlanMode, Mtu, IFNAME_MAX};
pub use observe::{EventFilter, LogPattern, ProbePort, Tail, TimeSpec};
pub use subnet::Subnet;
pub use verbs::{DetachKeys, HttpPath, HttpStatus, PruneFilter, TopField};

use crate::error::{Error, Result};

/// The longest duration accepted: 100 years (876000h). Longer ones are not
/// meant, and deadlines that far out overflow the clock.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parse a duration such as `30s`, `500ms`, `2m`, `1h`, `1.5s`, or a bare
/// number of seconds, up to [`MAX_DURATION`].
///
/// ```
/// use std::time::Duration;
/// use dockhand::input::parse_duration;
/// assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
/// assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
/// assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
/// assert!(parse_duration("soon").is_err());
/// assert!(parse_duration("876001h").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad_duration(text)),
    };
    let value: f64 = number.parse().map_err(|_| bad_duration(text))?;
    let d = Duration::try_from_secs_f64(value * scale).map_err(|_| bad_duration(text))?;
    if d > MAX_DURATION {
        return Err(Error::invalid_input(format!(
            "duration {text:?} is too long: at most 876000h (100 years)"
        )));
    }
    Ok(d)
}

/// Refuse text that could be read as an option or carries control characters
/// (newlines, NUL, escapes): the shared rule of every name-like input.
pub(crate) fn check_plain(what: &str, text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid_input(format!("{what} must not be empty")));
    }
    if text.starts_with('-') {
        return Err(Error::invalid_input(format!(
            "{what} {text:?} must not start with '-'"
        )));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_input(format!(
            "{what} {text:?} contains the control character {c:?}"
        )));
    }
    Ok(())
}

fn bad_duration(text: &str) -> Error {
    Error::invalid_input(format!(
        "invalid duration {text:?}: use a number with an optional unit ms, s, m or h (e.g. 500ms, 30s, 2m)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_negative_empty_and_garbage() {
        for bad in ["", "-1s", "1x", "s", "1..2s", "1e400"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_durations_beyond_the_clock() {
        // Regression: `--timeout 2562047788015215h` parsed, then adding it
        // to the clock panicked (exit 101).
        for long in ["2562047788015215h", "876001h", "1000000000000000000000ms"] {
            let e = parse_duration(long).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{long}");
        }
        assert_eq!(parse_duration("876000h").unwrap(), MAX_DURATION);
    }

    #[test]
    fn accepts_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    }
}

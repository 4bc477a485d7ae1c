//! Security and isolation: capabilities, `--security-opt`, and the
//! namespace modes (`--ipc`, `--pid`, `--uts`, `--cgroupns`, `--userns`).

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::{check_plain, ContainerRef};

/// The kernel's capabilities (linux/capability.h), without `CAP_`.
const CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// A Linux capability for `--cap-add`/`--cap-drop`: a kernel capability
/// name in any case, with or without `CAP_`, or `ALL`. Sent as the engines
/// record it: `CAP_NET_ADMIN`, `ALL`.
///
/// ```
/// use dockhand::input::Capability;
/// assert_eq!(Capability::new("net_admin").unwrap().to_string(), "CAP_NET_ADMIN");
/// assert_eq!(Capability::new("all").unwrap().to_string(), "ALL");
/// assert!(Capability::new("CAP_BOGUS").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Capability(String);

impl Capability {
    /// Validate a capability name.
    pub fn new(text: &str) -> Result<Capability> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        if bare == "ALL" {
            return Ok(Capability("ALL".into()));
        }
        if CAPABILITIES.contains(&bare) {
            return Ok(Capability(format!("CAP_{bare}")));
        }
        Err(Error::invalid_input(format!(
            "unknown capability {text:?}: use a kernel capability such as NET_ADMIN, \
             SYS_TIME or CHOWN (with or without CAP_), or ALL"
        )))
    }

    /// The name as sent (`CAP_…` or `ALL`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_impls!(Capability);

/// A `--security-opt` both engines understand:
/// `no-new-privileges[=true|false]`, `seccomp=unconfined|PROFILE.json`
/// (the engine's CLI reads the file: it must exist here),
/// `apparmor=PROFILE`, `label=disable|nested|user:U|role:R|type:T|level:L|filetype:T`.
///
/// ```
/// use dockhand::input::SecurityOpt;
/// assert_eq!(SecurityOpt::new("no-new-privileges=true").unwrap().to_string(), "no-new-privileges");
/// assert_eq!(SecurityOpt::new("seccomp:unconfined").unwrap().to_string(), "seccomp=unconfined");
/// assert!(SecurityOpt::new("label=type:svirt_t").is_ok());
/// for bad in ["bogus", "seccomp=/no/such/profile.json", "label=bogus", "no-new-privileges=maybe"] {
///     assert!(SecurityOpt::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SecurityOpt(String);

impl SecurityOpt {
    /// Validate an option.
    pub fn new(text: &str) -> Result<SecurityOpt> {
        check_plain("security option", text)?;
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "invalid security option {text:?}: {why} (use no-new-privileges[=true|false], \
                 seccomp=unconfined|PATH, apparmor=PROFILE or label=…)"
            ))
        };
        // Both engines also take the old `key:value` spelling.
        let (key, value) = match text.split_once(['=', ':']) {
            Some((k, v)) => (k, Some(v)),
            None => (text, None),
        };
        let canonical = match (key, value) {
            // As most people write it (the engines record it verbatim).
            ("no-new-privileges", None | Some("true")) => "no-new-privileges".to_string(),
            ("no-new-privileges", Some("false")) => "no-new-privileges=false".to_string(),
            ("seccomp", Some("unconfined")) => "seccomp=unconfined".to_string(),
            ("seccomp", Some(path)) => {
                check_profile(path).map_err(|why| bad(&why))?;
                format!("seccomp={path}")
            }
            ("apparmor", Some(profile))
                if !profile.is_empty()
                    && profile
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)) =>
            {
                format!("apparmor={profile}")
            }
            ("label", Some(v)) if label_ok(v) => format!("label={v}"),
            _ => return Err(bad("not an option both engines understand")),
        };
        Ok(SecurityOpt(canonical))
    }

    /// The option as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_impls!(SecurityOpt);

fn check_profile(path: &str) -> std::result::Result<(), String> {
    match std::fs::metadata(Path::new(path)) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(format!("the seccomp profile {path} is not a regular file")),
        Err(e) => Err(format!("cannot read the seccomp profile {path}: {e}")),
    }
}

fn label_ok(value: &str) -> bool {
    match value.split_once(':') {
        None => matches!(value, "disable" | "nested"),
        Some((k, v)) => {
            matches!(k, "user" | "role" | "type" | "level" | "filetype")
                && !v.is_empty()
                && !v.contains(char::is_whitespace)
        }
    }
}

/// A namespace mode for `--ipc`, `--pid`, `--uts` and `--cgroupns`:
/// `host`, `private`, `shareable`, `none`, or `container:NAME` (join that
/// container's namespace). Which modes each flag takes is checked with the
/// rest of the options ([`RunOptions::validate`](crate::container::RunOptions::validate)).
///
/// ```
/// use dockhand::input::NamespaceMode;
/// assert_eq!(NamespaceMode::new("container:db").unwrap().to_string(), "container:db");
/// assert_eq!(NamespaceMode::new("host").unwrap(), NamespaceMode::Host);
/// assert!(NamespaceMode::new("container:-x").is_err());
/// assert!(NamespaceMode::new("bogus").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NamespaceMode {
    /// The host's namespace.
    Host,
    /// A namespace of its own.
    Private,
    /// Its own, others may join it (`--ipc` only).
    Shareable,
    /// No namespace setup at all (`--ipc` only: no /dev/shm).
    None,
    /// Another container's namespace.
    Container(ContainerRef),
}

impl NamespaceMode {
    /// Parse a mode.
    pub fn new(text: &str) -> Result<NamespaceMode> {
        Ok(match text {
            "host" => NamespaceMode::Host,
            "private" => NamespaceMode::Private,
            "shareable" => NamespaceMode::Shareable,
            "none" => NamespaceMode::None,
            t => match t.strip_prefix("container:") {
                Some(c) => NamespaceMode::Container(ContainerRef::new(c)?),
                None => {
                    return Err(Error::invalid_input(format!(
                        "invalid namespace mode {text:?}: use host, private, shareable, none or \
                         container:NAME"
                    )))
                }
            },
        })
    }
}
text_type!(NamespaceMode);

impl fmt::Display for NamespaceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamespaceMode::Host => f.write_str("host"),
            NamespaceMode::Private => f.write_str("private"),
            NamespaceMode::Shareable => f.write_str("shareable"),
            NamespaceMode::None => f.write_str("none"),
            NamespaceMode::Container(c) => write!(f, "container:{c}"),
        }
    }
}

/// A user-namespace mode (`--userns`): `host` (both engines), or on podman
/// `auto[:OPTS]`, `keep-id[:OPTS]`, `nomap`, `private`, `ns:PATH`. docker
/// takes only `host` (remapping is a daemon setting); that is checked with
/// the rest of the options, where the engine is known.
///
/// ```
/// use dockhand::input::UsernsMode;
/// assert!(UsernsMode::new("host").unwrap().is_host());
/// assert!(UsernsMode::new("auto:size=65536").is_ok());
/// assert!(UsernsMode::new("bogus").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct UsernsMode(String);

impl UsernsMode {
    /// Validate a mode.
    pub fn new(text: &str) -> Result<UsernsMode> {
        check_plain("user namespace mode", text)?;
        let (mode, rest) = match text.split_once(':') {
            Some((m, r)) => (m, Some(r)),
            None => (text, None),
        };
        let valid = match (mode, rest) {
            ("host" | "private" | "nomap" | "auto" | "keep-id", None) => true,
            ("auto" | "keep-id", Some(opts)) => opts.split(',').all(|o| {
                o.split_once('=')
                    .is_some_and(|(k, v)| !k.is_empty() && !v.is_empty())
            }),
            ("ns", Some(path)) => path.starts_with('/'),
            _ => false,
        };
        match valid && !text.contains(char::is_whitespace) {
            true => Ok(UsernsMode(text.to_string())),
            false => Err(Error::invalid_input(format!(
                "invalid user namespace mode {text:?}: use host, or (podman) auto[:k=v,…], \
                 keep-id[:k=v,…], nomap, private, ns:PATH"
            ))),
        }
    }

    /// `host`: the host's user namespace.
    pub fn is_host(&self) -> bool {
        self.0 == "host"
    }

    /// The mode as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_impls!(UsernsMode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_normalised() {
        for (input, out) in [
            ("CHOWN", "CAP_CHOWN"),
            ("cap_sys_time", "CAP_SYS_TIME"),
            ("CAP_BPF", "CAP_BPF"),
            ("ALL", "ALL"),
        ] {
            assert_eq!(Capability::new(input).unwrap().as_str(), out);
        }
        for bad in ["", "BOGUS", "CAP_", "NET ADMIN", "-x"] {
            assert!(Capability::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CAPABILITIES.len(), 41);
    }

    #[test]
    fn security_options_and_namespaces() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let opt = format!("seccomp={}", file.path().display());
        assert_eq!(SecurityOpt::new(&opt).unwrap().as_str(), opt);
        assert!(SecurityOpt::new("seccomp=/").is_err());
        assert_eq!(
            SecurityOpt::new("no-new-privileges:false")
                .unwrap()
                .as_str(),
            "no-new-privileges=false"
        );
        for bad in ["-x", "apparmor=", "label=user:", "label=type:a b"] {
            assert!(SecurityOpt::new(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "container:", "Host", "ns:/x"] {
            assert!(NamespaceMode::new(bad).is_err(), "{bad:?}");
        }
        for bad in ["auto:size", "ns:rel", "keep-id:", "host:x"] {
            assert!(UsernsMode::new(bad).is_err(), "{bad:?}");
        }
    }
}

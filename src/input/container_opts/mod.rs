//! The values `run`/`create` and the other container commands take besides
//! names, each validated once, here, so a bad value is an
//! [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error before
//! any engine call. One file per concept: `ports`, `mounts`, `limits`,
//! `security`, `networking`, `process`, `logging`, `files`; the small shared
//! ones (plain words, environment variables, links, restart policies,
//! signals, copy paths) are here. All are re-exported from [`crate::input`].

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::{check_plain, ContainerRef};
use crate::error::{Error, Result};

/// Implements `FromStr` (for clap) for a validated type with a `new(&str)`.
macro_rules! text_type {
    ($t:ty) => {
        impl std::str::FromStr for $t {
            type Err = crate::error::Error;
            fn from_str(s: &str) -> crate::error::Result<Self> {
                <$t>::new(s)
            }
        }
    };
}

/// An integer newtype checked against an inclusive range at construction;
/// `$what` names it in errors.
macro_rules! bounded_int {
    ($(#[$doc:meta])* $t:ident($int:ty), $min:expr, $max:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $t($int);

        impl $t {
            /// The smallest value accepted.
            pub const MIN: $int = $min;
            /// The largest value accepted.
            pub const MAX: $int = $max;

            /// Check a value.
            pub fn from_value(value: $int) -> crate::error::Result<$t> {
                if (Self::MIN..=Self::MAX).contains(&value) {
                    Ok($t(value))
                } else {
                    Err(crate::error::Error::invalid_input(format!(
                        "{} {value} is out of range: use {}..={}",
                        $what,
                        Self::MIN,
                        Self::MAX
                    )))
                }
            }

            /// Parse a decimal value.
            pub fn new(text: &str) -> crate::error::Result<$t> {
                let value = text.trim().parse::<$int>().map_err(|_| {
                    crate::error::Error::invalid_input(format!(
                        "invalid {} {text:?}: use a whole number in {}..={}",
                        $what,
                        Self::MIN,
                        Self::MAX
                    ))
                })?;
                $t::from_value(value)
            }

            /// The value.
            pub fn get(self) -> $int {
                self.0
            }
        }

        text_type!($t);

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

pub(crate) mod files;
pub(crate) mod limits;
pub(crate) mod logging;
pub(crate) mod mounts;
pub(crate) mod networking;
pub(crate) mod ports;
pub(crate) mod process;
pub(crate) mod security;

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
text_impls!(Word);

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
text_impls!(Signal);

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
    fn signals_policies() {
        assert_eq!(Signal::new("SIGKILL").unwrap().to_string(), "KILL");
        assert!(Signal::new("65").is_err() && Signal::new("0").is_err());
        assert_eq!(
            RestartPolicy::new("unless-stopped").unwrap().to_string(),
            "unless-stopped"
        );
        assert!(RestartPolicy::new("on-failure:x").is_err());
    }

    #[test]
    fn links_copy_paths() {
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

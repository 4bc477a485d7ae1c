//! Where a container's output goes: `--log-driver` and `--log-opt`.

use std::fmt;

use serde::Serialize;

use super::limits::MemorySize;
use crate::error::{Error, Result};
use crate::input::KeyValue;

/// A logging driver (`--log-driver`): `json-file`, `local`, `none`,
/// `journald`, `syslog`, `k8s-file` (podman), a plugin name … Which ones an
/// engine has is checked with the rest of the options
/// ([`RunOptions::validate`](crate::container::RunOptions::validate)):
/// podman has `k8s-file`, `json-file`, `journald`, `none` and `passthrough`.
///
/// ```
/// use dockhand::input::LogDriver;
/// assert_eq!(LogDriver::new("json-file").unwrap().as_str(), "json-file");
/// assert!(LogDriver::new("-x").is_err() && LogDriver::new("a b").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LogDriver(String);

impl LogDriver {
    /// Validate a driver name (a plugin may be `repo/name:tag`).
    pub fn new(text: &str) -> Result<LogDriver> {
        let ok = text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-/:".contains(c))
            && text.len() <= 128;
        match ok {
            true => Ok(LogDriver(text.to_string())),
            false => Err(Error::invalid_input(format!(
                "invalid log driver {text:?}: use a driver name such as json-file, local or none"
            ))),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_impls!(LogDriver);

/// A logging-driver option (`--log-opt KEY=VALUE`). `max-size` must be a
/// size and `max-file` a count (docker checks them only when the container
/// is created, podman partly); which keys a driver knows is the engine's
/// business, except that podman silently ignores keys it does not know, so
/// on podman only `max-size`, `path` and `tag` are accepted.
///
/// ```
/// use dockhand::input::LogOpt;
/// let o = LogOpt::new("max-size=10m").unwrap();
/// assert_eq!((o.key(), o.value()), ("max-size", "10m"));
/// for bad in ["max-size=abc", "max-size", "max-file=0", "=x", "-k=v"] {
///     assert!(LogOpt::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LogOpt(KeyValue);

impl LogOpt {
    /// Parse `KEY=VALUE`.
    pub fn new(text: &str) -> Result<LogOpt> {
        let bad = |why: &str| Error::invalid_input(format!("invalid log option {text:?}: {why}"));
        let pair = KeyValue::new("log option", text)?;
        let (key, value) = (pair.key(), pair.value());
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(bad("the key is letters, digits, '_', '.', '-'"));
        }
        match key {
            "max-size" if MemorySize::new(value).is_err() => {
                Err(bad("max-size is a size such as 10m"))
            }
            "max-file" if !value.parse::<u32>().is_ok_and(|n| n > 0) => {
                Err(bad("max-file is a count of 1 or more"))
            }
            _ => Ok(LogOpt(pair)),
        }
    }

    /// The key.
    pub fn key(&self) -> &str {
        self.0.key()
    }

    /// The value.
    pub fn value(&self) -> &str {
        self.0.value()
    }
}
text_type!(LogOpt);

impl fmt::Display for LogOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

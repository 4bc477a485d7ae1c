//! Container names and ids as callers give them.

use std::ffi::OsStr;
use std::fmt;

use serde::Serialize;

use super::check_plain;
use crate::error::{Error, Result};

/// Longest name accepted (docker allows more, but nothing sane needs it).
const MAX_LEN: usize = 253;

/// A container name, full id or id prefix, validated: it matches
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, so it can never be read as an option or
/// carry shell or control characters.
///
/// ```
/// use dockhand::input::ContainerRef;
/// assert_eq!(ContainerRef::new("web-1").unwrap().as_str(), "web-1");
/// for bad in ["-rm", "a;b", "$(id)", "a\nb", "", "a b", "/web"] {
///     assert!(ContainerRef::new(bad).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ContainerRef(String);

impl ContainerRef {
    /// Validate a container name or id.
    pub fn new(text: impl Into<String>) -> Result<ContainerRef> {
        let text = text.into();
        check_plain("container name", &text)?;
        let valid_first = text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let valid_rest = text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid_first || !valid_rest {
            return Err(Error::invalid_input(format!(
                "invalid container name {text:?}: use letters, digits, '_', '.', '-' (starting with a letter or digit)"
            )));
        }
        if text.len() > MAX_LEN {
            return Err(Error::invalid_input(format!(
                "container name is {} characters long; at most {MAX_LEN} are accepted",
                text.len()
            )));
        }
        Ok(ContainerRef(text))
    }

    /// Validate many at once (the first bad one is the error).
    pub fn many<I, S>(texts: I) -> Result<Vec<ContainerRef>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        texts.into_iter().map(ContainerRef::new).collect()
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<OsStr> for ContainerRef {
    fn as_ref(&self) -> &OsStr {
        OsStr::new(&self.0)
    }
}

impl std::str::FromStr for ContainerRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ContainerRef::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_and_ids() {
        for ok in ["a", "web_1.prod-2", "0123456789ab", &"f".repeat(64)] {
            assert!(ContainerRef::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_option_like_control_and_long() {
        let long = "a".repeat(MAX_LEN + 1);
        for bad in [
            "--privileged",
            "a\0b",
            "a\x1bb",
            "ü",
            long.as_str(),
            "a:b",
            "a/b",
        ] {
            let e = ContainerRef::new(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}

//! Names (or ids) of containers, networks and volumes, network aliases and
//! build stages, as callers give them.
//!
//! Both engines name these objects `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; ids are hex,
//! so they fit the same pattern. Checking it here means a name can never be
//! read as an option or carry shell or control characters.

use serde::Serialize;

use super::check_plain;
use crate::error::{Error, Result};

/// Longest name accepted.
const MAX_LEN: usize = 253;

fn check_name(what: &str, text: &str) -> Result<()> {
    check_plain(what, text)?;
    let valid_first = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let valid_rest = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !valid_first || !valid_rest {
        return Err(Error::invalid_input(format!(
            "invalid {what} {text:?}: use letters, digits, '_', '.', '-' (starting with a letter or digit)"
        )));
    }
    if text.len() > MAX_LEN {
        return Err(Error::invalid_input(format!(
            "{what} is {} characters long; at most {MAX_LEN} are accepted",
            text.len()
        )));
    }
    Ok(())
}

macro_rules! object_name {
    ($(#[$doc:meta])* $t:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $t(String);

        impl $t {
            /// Validate a name or id.
            pub fn new(text: impl Into<String>) -> Result<$t> {
                let text = text.into();
                check_name($what, &text)?;
                Ok($t(text))
            }

            /// Validate many at once (the first bad one is the error).
            pub fn many<I, S>(texts: I) -> Result<Vec<$t>>
            where
                I: IntoIterator<Item = S>,
                S: Into<String>,
            {
                texts.into_iter().map($t::new).collect()
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        text_impls!($t);
    };
}

object_name!(
    /// A container name, full id or id prefix, validated: it matches
    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, so it can never be read as an option or
    /// carry shell or control characters.
    ///
    /// ```
    /// use dockhand::input::ContainerRef;
    /// assert_eq!(ContainerRef::new("web-1").unwrap().as_str(), "web-1");
    /// for bad in ["-rm", "a;b", "$(id)", "a\nb", "", "a b", "/web", "ü", "a:b"] {
    ///     assert!(ContainerRef::new(bad).is_err(), "{bad:?}");
    /// }
    /// assert!(ContainerRef::new("a".repeat(254)).is_err());
    /// assert!(ContainerRef::new("f".repeat(64)).is_ok());
    /// ```
    ContainerRef,
    "container name"
);

object_name!(
    /// A network name or id, validated.
    ///
    /// ```
    /// use dockhand::input::NetworkName;
    /// assert_eq!(NetworkName::new("app-net_1").unwrap().as_str(), "app-net_1");
    /// for bad in ["", "-d", "a b", "a/b", "$(id)"] {
    ///     assert!(NetworkName::new(bad).is_err(), "{bad:?}");
    /// }
    /// ```
    NetworkName,
    "network name"
);

object_name!(
    /// A DNS alias of a container on a network, validated.
    ///
    /// ```
    /// use dockhand::input::NetworkAlias;
    /// assert!(NetworkAlias::new("db.internal").is_ok());
    /// assert!(NetworkAlias::new("a b").is_err());
    /// ```
    NetworkAlias,
    "network alias"
);

object_name!(
    /// A volume name, validated.
    ///
    /// ```
    /// use dockhand::input::VolumeName;
    /// assert_eq!(VolumeName::new("data.v1").unwrap().as_str(), "data.v1");
    /// for bad in ["", "--rm", "a:b", "../x", "a\nb"] {
    ///     assert!(VolumeName::new(bad).is_err(), "{bad:?}");
    /// }
    /// ```
    VolumeName,
    "volume name"
);

object_name!(
    /// A build stage of a multi-stage Dockerfile (`FROM … AS NAME`), the
    /// target of a build, validated.
    ///
    /// ```
    /// use dockhand::input::BuildStage;
    /// assert_eq!(BuildStage::new("dev.1").unwrap().as_str(), "dev.1");
    /// for bad in ["", "--no-cache", "a b", "a:b"] {
    ///     assert!(BuildStage::new(bad).is_err(), "{bad:?}");
    /// }
    /// ```
    BuildStage,
    "build stage"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_what_they_are_in_errors() {
        let e = NetworkName::new("a;b").unwrap_err();
        assert!(e.message().contains("network name"), "{e}");
        let e = VolumeName::new("v".repeat(MAX_LEN + 1)).unwrap_err();
        assert!(e.message().contains("volume name"), "{e}");
    }

    #[test]
    fn ids_are_names() {
        assert!(NetworkName::new(
            "f2557917bff41dbba7b928dde44a57b1004828ff7e26f97d3829bd1dfc048f39"
        )
        .is_ok());
    }
}

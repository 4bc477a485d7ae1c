//! `KEY=VALUE` pairs as callers give them: labels, build arguments, list
//! filters, environment variables.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// A `KEY=VALUE` pair, validated: the key is non-empty, does not start with
/// `-`, and has no `=`, whitespace or control characters; the value may be
/// empty and may contain `=` and spaces, but no control characters.
///
/// ```
/// use dockhand::input::KeyValue;
/// let kv = KeyValue::new("label", "com.example.role=web server=1").unwrap();
/// assert_eq!((kv.key(), kv.value()), ("com.example.role", "web server=1"));
/// assert!(KeyValue::new("label", "novalue").is_err());
/// assert!(KeyValue::new("label", "=x").is_err());
/// assert!(KeyValue::new("label", "k=a\nb").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct KeyValue {
    key: String,
    value: String,
}

impl KeyValue {
    /// Validate `text` as `KEY=VALUE`; `what` names it in errors ("label", "filter" …).
    pub fn new(what: &str, text: &str) -> Result<KeyValue> {
        let Some((key, value)) = text.split_once('=') else {
            return Err(Error::invalid_input(format!(
                "{what} {text:?} must have the form KEY=VALUE"
            )));
        };
        if key.is_empty() {
            return Err(Error::invalid_input(format!(
                "{what} {text:?} has an empty key"
            )));
        }
        if key.starts_with('-') {
            return Err(Error::invalid_input(format!(
                "{what} key {key:?} must not start with '-'"
            )));
        }
        if let Some(c) = key.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid_input(format!(
                "{what} key {key:?} contains {c:?}; keys have no whitespace or control characters"
            )));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_input(format!(
                "{what} value of {key:?} contains the control character {c:?}"
            )));
        }
        Ok(KeyValue {
            key: key.to_string(),
            value: value.to_string(),
        })
    }

    /// A pair from a key and a value, validated as [`KeyValue::new`] does.
    ///
    /// ```
    /// let kv = dockhand::input::KeyValue::pair("name", "web").unwrap();
    /// assert_eq!(kv.to_string(), "name=web");
    /// ```
    pub fn pair(key: &str, value: &str) -> Result<KeyValue> {
        KeyValue::new("key/value pair", &format!("{key}={value}"))
    }

    /// Validate many `KEY=VALUE` texts (the first bad one is the error).
    pub fn many<I, S>(what: &str, texts: I) -> Result<Vec<KeyValue>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        texts
            .into_iter()
            .map(|t| KeyValue::new(what, t.as_ref()))
            .collect()
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value (may be empty).
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl std::str::FromStr for KeyValue {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        KeyValue::new("KEY=VALUE pair", text)
    }
}

impl fmt::Display for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_keeps_equals_spaces_and_may_be_empty() {
        let kv = KeyValue::new("filter", "label=a=b c").unwrap();
        assert_eq!(kv.key(), "label");
        assert_eq!(kv.value(), "a=b c");
        assert_eq!(KeyValue::new("label", "k=").unwrap().value(), "");
        assert_eq!(KeyValue::new("label", "k=-v").unwrap().to_string(), "k=-v");
    }

    #[test]
    fn refuses_bad_keys() {
        for bad in ["-k=v", "a b=c", "k\t=v", "=v", "kv"] {
            let e = KeyValue::new("label", bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
            assert!(e.message().starts_with("label"), "{e}");
        }
    }
}

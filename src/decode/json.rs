//! Tolerant JSON parsing shared by every typed model.
//!
//! Engines change shapes between versions and between docker and podman: a
//! list becomes `null`, a number becomes a string, a key is renamed. Models
//! therefore default missing collections to empty, accept `null` where a
//! value is expected, keep the raw JSON, and never deny unknown fields. A
//! document that still cannot be read is a [`Parse`](crate::ErrorKind::Parse)
//! error carrying the raw text.

use serde::de::{DeserializeOwned, Deserializer};
use serde::Deserialize;

use crate::error::{Error, Result};

/// Parse one JSON document; a failure keeps the raw text.
///
/// ```
/// let v: Vec<u32> = dockhand::decode::json::parse_json(b"[1,2]").unwrap();
/// assert_eq!(v, [1, 2]);
/// let err = dockhand::decode::json::parse_json::<Vec<u32>>(b"[1,").unwrap_err();
/// assert_eq!(err.raw(), Some("[1,"));
/// ```
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::parse(format!("unexpected engine output: {e}"), bytes).with_source(e))
}

/// Parse output that is either one JSON array or one JSON value per line
/// (docker's `--format '{{json .}}'` prints lines, podman prints an array).
///
/// ```
/// let a: Vec<u32> = dockhand::decode::json::parse_json_list(b"[1, 2]").unwrap();
/// let b: Vec<u32> = dockhand::decode::json::parse_json_list(b"1\n2\n").unwrap();
/// assert_eq!(a, b);
/// ```
pub fn parse_json_list<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(Vec::new());
    }
    if trimmed.starts_with(b"[") {
        return parse_json(trimmed);
    }
    trimmed
        .split(|&b| b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .map(parse_json)
        .collect()
}

/// `deserialize_with` helper: `null` (or a missing field, with
/// `#[serde(default)]`) becomes `T::default()`.
pub fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `deserialize_with` helper: a string, a number or a bool, read as text
/// (engines disagree on which they print).
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// `deserialize_with` helper: a non-negative number given as a number, a
/// numeric string or `null` (0), read as `u64`; fractions are truncated.
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(0),
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .ok_or_else(|| D::Error::custom(format!("expected a non-negative number, got {n}"))),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(0),
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("expected a number, got {s:?}"))),
        other => Err(D::Error::custom(format!("expected a number, got {other}"))),
    }
}

/// The first 12 characters of an id, as engines abbreviate ids. Cut on a
/// character boundary: an engine that prints something other than hex must
/// not crash the caller (slicing `&id[..12]` would).
///
/// ```
/// assert_eq!(dockhand::decode::json::short_id("1f5b94cc76ea0123456789"), "1f5b94cc76ea");
/// assert_eq!(dockhand::decode::json::short_id("abc"), "abc");
/// assert_eq!(dockhand::decode::json::short_id("0123456789a€bc"), "0123456789a€");
/// ```
pub fn short_id(id: &str) -> &str {
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

/// Append `text` to `out` as a JSON string, escaped exactly as serde_json
/// escapes it (`\"`, `\\`, the short escapes, `\u00xx` for other control
/// characters): the hot path of `logs --json`, which writes one object per
/// line into one reused buffer instead of going through a serializer.
///
/// ```
/// let mut out = Vec::new();
/// dockhand::decode::json::push_json_str(&mut out, "a\"b\n\u{1}é");
/// assert_eq!(out, serde_json::to_vec("a\"b\n\u{1}é").unwrap());
/// assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\n\u0001é""#);
/// ```
pub fn push_json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(text.len() + 2);
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time while none of them needs escaping (most text).
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if !may_need_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        i += 1;
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i - 1]);
        start = i;
        if short.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether one of the eight bytes of `word` may need a JSON escape: a
/// control character, `"` or `\\` (no false negatives; a false positive only
/// costs a look at each byte).
fn may_need_escape(word: u64) -> bool {
    use super::words::{below, xor_each};
    below(word, 0x20) | below(xor_each(word, b'"'), 1) | below(xor_each(word, b'\\'), 1) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é€😀\u{7f}\u{2028}");
        let long = "a long line without anything to escape, then a \"quote\" and a\\backslash\t.";
        for text in [
            all.as_str(),
            "",
            "plain",
            "\"\"",
            "\\",
            "end\u{1f}",
            long,
            "0123456\u{0}",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        // Every character that needs escaping, at every place of a word.
        for special in ['"', '\\', '\n', '\u{0}', '\u{1f}', 'é'] {
            for at in 0..17 {
                let mut text: String = "a".repeat(17);
                text.insert(at, special);
                let mut out = Vec::new();
                push_json_str(&mut out, &text);
                assert_eq!(out, serde_json::to_vec(&text).unwrap(), "{text:?}");
            }
        }
    }

    #[derive(Deserialize, Debug, Default)]
    struct S {
        #[serde(default, deserialize_with = "null_default")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "lenient_string")]
        v: String,
    }

    #[test]
    fn null_and_missing_become_defaults() {
        let s: S = parse_json(br#"{"list": null}"#).unwrap();
        assert!(s.list.is_empty());
        let s: S = parse_json(br#"{}"#).unwrap();
        assert!(s.list.is_empty() && s.v.is_empty());
    }

    #[test]
    fn numbers_and_strings_both_read_as_text() {
        let s: S = parse_json(br#"{"v": 3}"#).unwrap();
        assert_eq!(s.v, "3");
        let s: S = parse_json(br#"{"v": "3"}"#).unwrap();
        assert_eq!(s.v, "3");
    }

    #[derive(Deserialize)]
    struct N {
        #[serde(default, deserialize_with = "lenient_u64")]
        n: u64,
    }

    #[test]
    fn numbers_read_from_numbers_strings_and_null() {
        for (doc, want) in [
            (r#"{"n": 7}"#, 7),
            (r#"{"n": "7"}"#, 7),
            (r#"{"n": null}"#, 0),
            (r#"{}"#, 0),
            (r#"{"n": 7.9}"#, 7),
        ] {
            assert_eq!(parse_json::<N>(doc.as_bytes()).unwrap().n, want, "{doc}");
        }
        assert!(parse_json::<N>(br#"{"n": -1}"#).is_err());
        assert!(parse_json::<N>(br#"{"n": "x"}"#).is_err());
    }

    #[test]
    fn garbage_is_a_parse_error_with_raw_text() {
        let e = parse_json_list::<S>(b"{\"v\": 1}\nnot json\n").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Parse);
        assert_eq!(e.raw(), Some("not json"));
    }
}

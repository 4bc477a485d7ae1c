//! Inputs of `logs`, `events` and `wait-for`: points in time, tail counts,
//! event filters, ports to probe and log patterns.

use std::fmt;
use std::time::Duration;

use super::{check_plain, parse_duration};
use crate::decode::time::Timestamp;
use crate::error::{Error, Result};

/// A `--since` / `--until` value: an absolute instant (RFC 3339, or epoch
/// seconds such as `1795453402.5`), or a duration back from now (`10m`,
/// `30s`, `1.5h` — a bare number is epoch seconds, as for the engines).
///
/// ```
/// use std::time::Duration;
/// use dockhand::input::TimeSpec;
/// assert_eq!(TimeSpec::parse("10m").unwrap(), TimeSpec::Ago(Duration::from_secs(600)));
/// let now = dockhand::decode::time::Timestamp::from_unix(1_795_453_402, 0);
/// assert_eq!(TimeSpec::parse("1m").unwrap().resolve(now).to_string(), "2026-11-23T17:02:22.000000000Z");
/// assert!(TimeSpec::parse("yesterday").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// This instant.
    At(Timestamp),
    /// This long before now.
    Ago(Duration),
}

impl TimeSpec {
    /// Validate a time as a user wrote it: an instant within the years
    /// 0001–9999 (what the engines can read back), or a duration ago of at
    /// most 100 years.
    pub fn parse(text: &str) -> Result<TimeSpec> {
        let t = text.trim();
        if let Some(ts) = Timestamp::parse_rfc3339(t) {
            return TimeSpec::at(text, ts);
        }
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
            let secs: i64 = secs.parse().map_err(|_| bad_time(text))?;
            if frac.len() > 9 || frac.contains('.') {
                return Err(bad_time(text));
            }
            let nanos = if frac.is_empty() {
                0
            } else {
                frac.parse::<u32>().map_err(|_| bad_time(text))? * 10u32.pow(9 - frac.len() as u32)
            };
            return TimeSpec::at(text, Timestamp::from_unix(secs, nanos));
        }
        parse_duration(t)
            .map(TimeSpec::Ago)
            .map_err(|_| bad_time(text))
    }

    /// An instant engines can be given: they print and parse four-digit
    /// years, so a later (or earlier) one would only fail there.
    fn at(text: &str, ts: Timestamp) -> Result<TimeSpec> {
        /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
        const RANGE: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;
        if RANGE.contains(&ts.unix_secs()) {
            Ok(TimeSpec::At(ts))
        } else {
            Err(Error::invalid_input(format!(
                "time {text:?} is out of range: use a time in the years 0001 to 9999"
            )))
        }
    }

    /// The instant meant, given the time now. Engines get this absolute
    /// instant, never the relative form: docker cuts a relative `--until 0s`
    /// to the whole second, losing the events of the current second.
    pub fn resolve(&self, now: Timestamp) -> Timestamp {
        match self {
            TimeSpec::At(t) => *t,
            TimeSpec::Ago(d) => now.minus(*d),
        }
    }
}

impl std::str::FromStr for TimeSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TimeSpec::parse(s)
    }
}

fn bad_time(text: &str) -> Error {
    Error::invalid_input(format!(
        "invalid time {text:?}: use RFC 3339 (2026-11-23T17:03:22Z), epoch seconds, or a duration ago (10m, 30s)"
    ))
}

/// How much of the existing log to show: everything, or the last N lines.
///
/// ```
/// use dockhand::input::Tail;
/// assert_eq!("all".parse::<Tail>().unwrap(), Tail::All);
/// assert_eq!("200".parse::<Tail>().unwrap(), Tail::Last(200));
/// assert!("-1".parse::<Tail>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tail {
    /// The whole log.
    #[default]
    All,
    /// The last N lines.
    Last(u64),
}

impl std::str::FromStr for Tail {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "all" => Ok(Tail::All),
            n => n.parse().map(Tail::Last).map_err(|_| {
                Error::invalid_input(format!(
                    "invalid --tail {s:?}: use a number of lines or `all`"
                ))
            }),
        }
    }
}

/// Filter keys both engines understand for `events`. Docker silently
/// ignores an unknown key (and then shows every event), so unknown keys are
/// refused here.
const EVENT_FILTER_KEYS: &[&str] = &[
    "container",
    "event",
    "image",
    "label",
    "network",
    "pod",
    "type",
    "volume",
    "daemon",
    "plugin",
    "scope",
];

/// One `events --filter KEY=VALUE`.
///
/// ```
/// use dockhand::input::EventFilter;
/// let f: EventFilter = "event=die".parse().unwrap();
/// assert_eq!((f.key(), f.value()), ("event", "die"));
/// assert!("bogus=1".parse::<EventFilter>().is_err());
/// assert!("container".parse::<EventFilter>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    key: String,
    value: String,
}

impl EventFilter {
    /// Validate `key` and `value`.
    pub fn new(key: &str, value: &str) -> Result<EventFilter> {
        if !EVENT_FILTER_KEYS.contains(&key) {
            return Err(Error::invalid_input(format!(
                "unknown event filter {key:?}: use one of {}",
                EVENT_FILTER_KEYS.join(", ")
            )));
        }
        check_plain("event filter value", value)?;
        Ok(EventFilter {
            key: key.to_string(),
            value: value.to_string(),
        })
    }

    /// The key (`container`, `event`, `label` …).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl std::str::FromStr for EventFilter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (k, v) = s.split_once('=').ok_or_else(|| {
            Error::invalid_input(format!("invalid event filter {s:?}: use KEY=VALUE"))
        })?;
        EventFilter::new(k, v)
    }
}

impl fmt::Display for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// A TCP port of a container to probe: `80` or `80/tcp`. UDP cannot be
/// probed by connecting, so `/udp` is refused.
///
/// ```
/// use dockhand::input::ProbePort;
/// assert_eq!("8080/tcp".parse::<ProbePort>().unwrap().number(), 8080);
/// assert!("53/udp".parse::<ProbePort>().is_err());
/// assert!("0".parse::<ProbePort>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePort(u16);

impl ProbePort {
    /// A TCP port (1–65535).
    pub fn new(port: u16) -> Result<ProbePort> {
        if port == 0 {
            return Err(Error::invalid_input("port 0 cannot be probed"));
        }
        Ok(ProbePort(port))
    }

    /// The port number.
    pub fn number(&self) -> u16 {
        self.0
    }
}

impl std::str::FromStr for ProbePort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (port, proto) = s.split_once('/').unwrap_or((s, "tcp"));
        if !proto.eq_ignore_ascii_case("tcp") {
            return Err(Error::invalid_input(format!(
                "cannot probe {s:?}: only TCP ports can be probed by connecting (PORT or PORT/tcp)"
            )));
        }
        let n: u16 = port
            .parse()
            .map_err(|_| Error::invalid_input(format!("invalid port {s:?}: use PORT[/tcp]")))?;
        ProbePort::new(n)
    }
}

impl fmt::Display for ProbePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/tcp", self.0)
    }
}

/// A regular expression matched against log lines (a line that is not
/// UTF-8 is matched with U+FFFD in place of its bad bytes, so its ASCII
/// parts still match). The syntax is the regex crate's; `\d`, `\w`, `\s`,
/// word boundaries and `(?i)` are ASCII-only (regex-lite, for the size of the
/// static binary).
///
/// ```
/// use dockhand::input::LogPattern;
/// let p: LogPattern = r"listening on :\d+".parse().unwrap();
/// assert!(p.is_match(b"server listening on :8080"));
/// assert!(p.is_match(b"\xff\xfe listening on :53"));
/// assert!("(".parse::<LogPattern>().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct LogPattern(regex_lite::Regex);

/// Compiled patterns larger than this are refused (the default of the
/// regex-lite crate is 10 MiB; a readiness pattern needs far less).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

impl LogPattern {
    /// Compile `pattern`.
    pub fn new(pattern: &str) -> Result<LogPattern> {
        regex_lite::RegexBuilder::new(pattern)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
            .map(LogPattern)
            .map_err(|e| Error::invalid_input(format!("invalid --log pattern: {e}")))
    }

    /// Whether `line` contains a match.
    pub fn is_match(&self, line: &[u8]) -> bool {
        match std::str::from_utf8(line) {
            Ok(text) => self.0.is_match(text),
            Err(_) => self.0.is_match(&String::from_utf8_lossy(line)),
        }
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::str::FromStr for LogPattern {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LogPattern::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_accepted_form() {
        let at = |s| match TimeSpec::parse(s).unwrap() {
            TimeSpec::At(t) => t.unix_nanos(),
            other => panic!("{other:?}"),
        };
        assert_eq!(at("1795453402.25"), 1_795_453_402_250_000_000);
        assert_eq!(at("2026-11-23T17:03:22.25Z"), 1_795_453_402_250_000_000);
        assert_eq!(
            TimeSpec::parse("1.5s").unwrap(),
            TimeSpec::Ago(Duration::from_millis(1500))
        );
        for bad in ["", "-5m", "1.2.3", "2026-11-23", "1.1234567891"] {
            assert!(TimeSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_the_engines_cannot_read_are_refused() {
        // Regressions: these reached the engine as years it cannot parse
        // (`events --since 253402300800`: "parsing time \"10000-01-01…").
        for bad in ["253402300800", "9223372036854775807", "2562047788015215h"] {
            let e = TimeSpec::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
        assert!(TimeSpec::parse("253402300799").is_ok());
        assert!(TimeSpec::parse("0001-01-01T00:00:00Z").is_ok());
        assert!(TimeSpec::parse("876000h").is_ok());
    }

    #[test]
    fn resolve_counts_back_from_now() {
        let now = Timestamp::from_unix(1000, 0);
        assert_eq!(
            TimeSpec::Ago(Duration::from_secs(10)).resolve(now),
            Timestamp::from_unix(990, 0)
        );
    }

    #[test]
    fn filters_refuse_option_like_and_control_values() {
        assert!("container=-x".parse::<EventFilter>().is_err());
        assert!("label=a\nb".parse::<EventFilter>().is_err());
        assert_eq!(
            "label=dockhand.test=1"
                .parse::<EventFilter>()
                .unwrap()
                .to_string(),
            "label=dockhand.test=1"
        );
    }
}

//! Inputs of `top`, `attach` (and `exec -it`/`start -ai`), `wait-for --http`
//! and `prune`: process columns, detach keys, HTTP paths and statuses, and
//! prune filters.

use super::{check_plain, KeyValue, TimeSpec};
use crate::decode::time::Timestamp;
use crate::error::{Error, Result};

/// A process column of `top` that both engines can show: docker hands it to
/// the host's `ps -o`, podman takes it as a descriptor of the same name.
///
/// ```
/// use dockhand::input::TopField;
/// let fields = TopField::list("pid,user,args").unwrap();
/// assert_eq!(fields, [TopField::Pid, TopField::User, TopField::Args]);
/// assert!(TopField::list("pid,rss").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TopField {
    /// Process id.
    Pid,
    /// Parent process id.
    Ppid,
    /// Process group id.
    Pgid,
    /// Effective user.
    User,
    /// Real user.
    Ruser,
    /// Effective group.
    Group,
    /// Real group.
    Rgroup,
    /// Command with its arguments.
    Args,
    /// Command name.
    Comm,
    /// CPU use in percent.
    Pcpu,
    /// Time since the process started.
    Etime,
    /// CPU time used.
    Time,
    /// Controlling terminal.
    Tty,
    /// Nice value.
    Nice,
    /// Virtual memory size.
    Vsz,
}

const TOP_FIELDS: [(TopField, &str); 15] = [
    (TopField::Pid, "pid"),
    (TopField::Ppid, "ppid"),
    (TopField::Pgid, "pgid"),
    (TopField::User, "user"),
    (TopField::Ruser, "ruser"),
    (TopField::Group, "group"),
    (TopField::Rgroup, "rgroup"),
    (TopField::Args, "args"),
    (TopField::Comm, "comm"),
    (TopField::Pcpu, "pcpu"),
    (TopField::Etime, "etime"),
    (TopField::Time, "time"),
    (TopField::Tty, "tty"),
    (TopField::Nice, "nice"),
    (TopField::Vsz, "vsz"),
];

impl TopField {
    /// The column's name, for both engines.
    pub fn as_str(self) -> &'static str {
        TOP_FIELDS
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("", |(_, n)| n)
    }

    /// One column name (`pid`, `args` …).
    pub fn new(word: &str) -> Result<TopField> {
        let word = word.trim();
        TOP_FIELDS
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(word))
            .map(|(f, _)| *f)
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "unknown top field {word:?}: use {}",
                    TOP_FIELDS.map(|(_, n)| n).join(", ")
                ))
            })
    }

    /// A comma-separated list such as `pid,user,args`.
    pub fn list(text: &str) -> Result<Vec<TopField>> {
        text.split(',').map(TopField::new).collect()
    }
}

impl std::str::FromStr for TopField {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TopField::new(s)
    }
}

/// Keys that detach a terminal from a container (`--detach-keys`): a comma
/// separated sequence of letters and `ctrl-X` (X a letter, `@`, `[`, `\`,
/// `]`, `^` or `_`), as docker and podman read it. Never empty: an empty value
/// means "the default keys" to docker but "detaching disabled" to podman.
///
/// ```
/// use dockhand::input::DetachKeys;
/// assert_eq!(DetachKeys::new("ctrl-a,x").unwrap().to_string(), "ctrl-a,x");
/// assert!(DetachKeys::new("").is_err());
/// assert!(DetachKeys::new("ctrl-1").is_err());
/// assert!(DetachKeys::new("ab").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachKeys(String);

impl DetachKeys {
    /// Validate a key sequence.
    pub fn new(text: &str) -> Result<DetachKeys> {
        if text.is_empty() {
            return Err(Error::invalid_input(
                "--detach-keys needs at least one key (docker reads an empty value as its \
                 default keys, podman as \"never detach\")",
            ));
        }
        for key in text.split(',') {
            let ok = match key.strip_prefix("ctrl-") {
                Some(rest) => {
                    let mut c = rest.chars();
                    matches!((c.next(), c.next()), (Some(ch), None)
                        if ch.is_ascii_alphabetic() || "@[\\]^_".contains(ch))
                }
                None => key.len() == 1 && key.chars().all(|c| c.is_ascii_alphabetic()),
            };
            if !ok {
                return Err(Error::invalid_input(format!(
                    "invalid detach key {key:?} in {text:?}: use letters and ctrl-X, comma separated (ctrl-p,ctrl-q)"
                )));
            }
        }
        Ok(DetachKeys(text.to_string()))
    }
}

text_impls!(DetachKeys);

/// The path (and query) of an HTTP readiness probe: starts with `/`, no
/// whitespace or control characters (it goes into a request line).
///
/// ```
/// use dockhand::input::HttpPath;
/// assert_eq!(HttpPath::new("/health?full=1").unwrap().as_str(), "/health?full=1");
/// assert!(HttpPath::new("health").is_err());
/// assert!(HttpPath::new("/a b").is_err());
/// assert!(HttpPath::new("/x\r\nHost: evil").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpPath(String);

impl HttpPath {
    /// Validate a path.
    pub fn new(text: &str) -> Result<HttpPath> {
        if !text.starts_with('/') {
            return Err(Error::invalid_input(format!(
                "HTTP path {text:?} must start with '/'"
            )));
        }
        if text.len() > 2048 {
            return Err(Error::invalid_input("HTTP path longer than 2048 bytes"));
        }
        if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::invalid_input(format!(
                "HTTP path {text:?} contains {c:?}: percent-encode it"
            )));
        }
        check_plain("HTTP path", text)?;
        Ok(HttpPath(text.to_string()))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(HttpPath);

/// An HTTP status code a readiness probe waits for (100–599).
///
/// ```
/// assert_eq!("204".parse::<dockhand::input::HttpStatus>().unwrap().code(), 204);
/// assert!("99".parse::<dockhand::input::HttpStatus>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpStatus(u16);

impl HttpStatus {
    /// Validate a status code.
    pub fn new(code: u16) -> Result<HttpStatus> {
        match code {
            100..=599 => Ok(HttpStatus(code)),
            _ => Err(Error::invalid_input(format!(
                "HTTP status {code} is not between 100 and 599"
            ))),
        }
    }

    /// The code.
    pub fn code(self) -> u16 {
        self.0
    }
}

impl std::str::FromStr for HttpStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let code = s
            .parse()
            .map_err(|_| Error::invalid_input(format!("invalid HTTP status {s:?}")))?;
        HttpStatus::new(code)
    }
}

/// A `prune` filter: `label=KEY`, `label=KEY=VALUE`, `label!=KEY[=VALUE]`, or
/// `until=TIME` (RFC 3339, epoch seconds, or a duration ago such as `24h`).
///
/// ```
/// use dockhand::input::PruneFilter;
/// let f: PruneFilter = "label=app=web".parse().unwrap();
/// assert_eq!(f, PruneFilter::Label { key: "app".into(), value: Some("web".into()), negated: false });
/// assert!(matches!("until=24h".parse::<PruneFilter>().unwrap(), PruneFilter::Until(_)));
/// assert!("dangling=true".parse::<PruneFilter>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneFilter {
    /// Objects carrying (`negated`: not carrying) this label, with this value when given.
    Label {
        /// Label key.
        key: String,
        /// Label value; `None`: any.
        value: Option<String>,
        /// `label!=`.
        negated: bool,
    },
    /// Objects created before this time.
    Until(TimeSpec),
}

impl PruneFilter {
    /// Parse a filter.
    pub fn new(text: &str) -> Result<PruneFilter> {
        let bad = || {
            Error::invalid_input(format!(
                "invalid prune filter {text:?}: use label=KEY[=VALUE], label!=KEY[=VALUE] or until=TIME"
            ))
        };
        if let Some(time) = text.strip_prefix("until=") {
            return Ok(PruneFilter::Until(TimeSpec::parse(time)?));
        }
        let (negated, label) = match (text.strip_prefix("label!="), text.strip_prefix("label=")) {
            (Some(l), _) => (true, l),
            (None, Some(l)) => (false, l),
            _ => return Err(bad()),
        };
        let (key, value) = match label.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (label, None),
        };
        // The same rules as any label.
        KeyValue::new("prune label", &format!("{key}={}", value.unwrap_or("")))?;
        Ok(PruneFilter::Label {
            key: key.to_string(),
            value: value.map(str::to_string),
            negated,
        })
    }

    /// The engine's `--filter` value, with `until` fixed to an instant
    /// (epoch seconds) so that a preview and the prune after it agree.
    ///
    /// ```
    /// use dockhand::{decode::time::Timestamp, input::PruneFilter};
    /// let now = Timestamp::from_unix(1_000_000, 0);
    /// assert_eq!("until=10s".parse::<PruneFilter>().unwrap().engine_filter(now), "until=999990");
    /// assert_eq!("label!=keep".parse::<PruneFilter>().unwrap().engine_filter(now), "label!=keep");
    /// ```
    pub fn engine_filter(&self, now: Timestamp) -> String {
        match self {
            PruneFilter::Label {
                key,
                value,
                negated,
            } => {
                let op = if *negated { "label!=" } else { "label=" };
                match value {
                    Some(v) => format!("{op}{key}={v}"),
                    None => format!("{op}{key}"),
                }
            }
            PruneFilter::Until(t) => format!("until={}", t.resolve(now).unix_secs()),
        }
    }

    /// Whether an object with these labels passes a label filter (`until`
    /// filters pass: they are checked on creation times).
    pub fn admits_labels(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        match self {
            PruneFilter::Label {
                key,
                value,
                negated,
            } => {
                let has = match value {
                    Some(v) => labels.get(key) == Some(v),
                    None => labels.contains_key(key),
                };
                has != *negated
            }
            PruneFilter::Until(_) => true,
        }
    }
}

impl std::str::FromStr for PruneFilter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        PruneFilter::new(s)
    }
}

//! What dockhand attached, recorded in the interface alias itself.

use std::fmt;

use serde::Serialize;

use crate::netns::ip::Link;

/// First word of every alias dockhand writes; the version allows a later
/// format to be told apart.
pub const ALIAS_PREFIX: &str = "dockhand:v1";

/// What kind of attachment an interface is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttachKind {
    /// The container end of a veth pair.
    Veth,
    /// The host end of a veth pair.
    VethHost,
    /// A macvlan on a host interface.
    Macvlan,
    /// A host interface moved into the container.
    Moved,
    /// A kind written by another dockhand version.
    Unknown(String),
}

impl AttachKind {
    /// The word used in the alias and in JSON output.
    pub fn as_str(&self) -> &str {
        match self {
            AttachKind::Veth => "veth",
            AttachKind::VethHost => "veth-host",
            AttachKind::Macvlan => "macvlan",
            AttachKind::Moved => "moved",
            AttachKind::Unknown(s) => s,
        }
    }

    fn parse(word: &str) -> AttachKind {
        match word {
            "veth" => AttachKind::Veth,
            "veth-host" => AttachKind::VethHost,
            "macvlan" => AttachKind::Macvlan,
            "moved" => AttachKind::Moved,
            other => AttachKind::Unknown(other.to_string()),
        }
    }
}

impl fmt::Display for AttachKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AttachKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The kernel's limit on an interface alias (IFALIASZ - 1 bytes).
pub const ALIAS_MAX: usize = 255;

/// dockhand's record of an attachment, kept in the interface alias.
///
/// ```
/// use dockhand::netns::link::{AttachKind, Record};
/// let alias = "dockhand:v1 kind=moved host=wlan0 if=wifi ctr=0123456789ab phy=phy0 was=office wifi";
/// let r = Record::parse(alias).unwrap();
/// assert_eq!((&r.kind, r.host_if.as_str(), r.ifname.as_str(), r.container_id.as_str()),
///            (&AttachKind::Moved, "wlan0", "wifi", "0123456789ab"));
/// assert_eq!((r.phy.as_deref(), r.previous_alias.as_deref()), (Some("phy0"), Some("office wifi")));
/// assert_eq!(r.alias(), alias);
/// assert_eq!(Record::parse("my uplink"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Record {
    /// What was attached.
    pub kind: AttachKind,
    /// The host-side name: the veth's host end, the macvlan's parent, or a
    /// moved interface's original name.
    pub host_if: String,
    /// The interface's name in the container.
    pub ifname: String,
    /// The container's id (first 12 characters).
    pub container_id: String,
    /// A moved wireless interface's phy.
    pub phy: Option<String>,
    /// The alias a moved interface had before, given back with it.
    pub previous_alias: Option<String>,
}

impl Record {
    /// The alias text: `key=value` words — values never contain spaces
    /// (interface names cannot, ids are hex, phy names are checked before a
    /// move) — and last, after `was=`, the previous alias verbatim.
    pub fn alias(&self) -> String {
        let mut s = format!(
            "{ALIAS_PREFIX} kind={} host={} if={} ctr={}",
            self.kind, self.host_if, self.ifname, self.container_id
        );
        if let Some(phy) = &self.phy {
            s.push_str(&format!(" phy={phy}"));
        }
        if let Some(was) = self.previous_alias.as_deref().filter(|w| !w.is_empty()) {
            s.push_str(&format!(" was={was}"));
        }
        s
    }

    /// Read an alias; `None` when it is not one of dockhand's.
    pub fn parse(alias: &str) -> Option<Record> {
        // An empty previous alias is none: `alias()` writes neither (the
        // fuzzer found `was=` at the end read back differently).
        let (fields, was) = match alias.split_once(" was=") {
            Some((fields, was)) => (fields, Some(was.to_string()).filter(|w| !w.is_empty())),
            None => (alias, None),
        };
        let mut words = fields.split(' ');
        if words.next()? != ALIAS_PREFIX {
            return None;
        }
        let (mut kind, mut host, mut ifname, mut ctr, mut phy) = (None, None, None, None, None);
        for word in words {
            let (key, value) = word.split_once('=')?;
            let slot = match key {
                "kind" => &mut kind,
                "host" => &mut host,
                "if" => &mut ifname,
                "ctr" => &mut ctr,
                "phy" => &mut phy,
                // Keys of a later version: ignore, keep what we understand.
                _ => continue,
            };
            *slot = Some(value.to_string());
        }
        Some(Record {
            kind: AttachKind::parse(&kind?),
            host_if: host?,
            ifname: ifname?,
            container_id: ctr?,
            phy,
            previous_alias: was,
        })
    }

    /// The record on a link, if it carries one.
    pub fn of(link: &Link) -> Option<Record> {
        link.alias.as_deref().and_then(Record::parse)
    }

    /// The alias to give a moved interface back with (empty clears it).
    pub fn alias_to_restore(&self) -> &str {
        self.previous_alias.as_deref().unwrap_or("")
    }
}

/// The links of a container's namespace that dockhand attached.
///
/// ```
/// let links = dockhand::netns::ip::parse_links(b"[]").unwrap();
/// assert!(dockhand::netns::link::attached(&links).is_empty());
/// ```
pub fn attached(links: &[Link]) -> Vec<Attached> {
    links
        .iter()
        .filter_map(|l| {
            Some(Attached {
                record: Record::of(l)?,
                link: l.clone(),
            })
        })
        .collect()
}

/// An interface dockhand attached, as `link ls` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Attached {
    /// dockhand's record (kind, host-side name, container id, phy).
    #[serde(flatten)]
    pub record: Record,
    /// The interface as it is now.
    pub link: Link,
}

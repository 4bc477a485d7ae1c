//! Mounts: `-v/--volume` (short syntax), `--mount` (long syntax) and
//! `--tmpfs`.
//!
//! Both engines accept the same spellings here; where their checks differ
//! (docker takes a relative `-v data` as an anonymous volume at the path
//! `data`, podman refuses it; docker takes unknown tmpfs options until
//! start) dockhand refuses what either would.

use std::fmt;

use serde::Serialize;

use super::super::{check_plain, ContainerRef};
use super::limits::MemorySize;
use crate::error::{Error, Result};

/// Mount propagation of a bind mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// `shared`.
    Shared,
    /// `slave`.
    Slave,
    /// `private`.
    Private,
    /// `rshared`.
    Rshared,
    /// `rslave`.
    Rslave,
    /// `rprivate` (the engines' default).
    Rprivate,
}

impl Propagation {
    const ALL: [Propagation; 6] = [
        Propagation::Shared,
        Propagation::Slave,
        Propagation::Private,
        Propagation::Rshared,
        Propagation::Rslave,
        Propagation::Rprivate,
    ];

    /// The engines' word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Shared => "shared",
            Propagation::Slave => "slave",
            Propagation::Private => "private",
            Propagation::Rshared => "rshared",
            Propagation::Rslave => "rslave",
            Propagation::Rprivate => "rprivate",
        }
    }

    fn parse(word: &str) -> Option<Propagation> {
        Propagation::ALL.into_iter().find(|p| p.as_str() == word)
    }
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An absolute container path for a mount target: not `/`, no `:` or `,`
/// (the separators of the mount syntaxes), no control characters.
fn check_target(what: &str, path: &str) -> Result<()> {
    check_plain(what, path)?;
    if !path.starts_with('/') || path == "/" || path.contains([':', ',']) {
        return Err(Error::invalid_input(format!(
            "{what} {path:?} must be an absolute path other than / without ':' or ','"
        )));
    }
    Ok(())
}

/// A host path (absolute) or a volume name as the source of a mount.
fn check_source(what: &str, source: &str) -> Result<()> {
    check_plain(what, source)?;
    if source.starts_with('/') {
        if source.contains([':', ',']) {
            return Err(Error::invalid_input(format!(
                "{what} {source:?} must not contain ':' or ','"
            )));
        }
        return Ok(());
    }
    ContainerRef::new(source).map(drop).map_err(|_| {
        Error::invalid_input(format!(
            "{what} {source:?} must be an absolute host path or a volume name \
             ([a-zA-Z0-9][a-zA-Z0-9_.-]*)"
        ))
    })
}

/// A volume or bind mount, short syntax (`-v`): `SRC:DST[:OPTS]` where SRC
/// is a volume name or an absolute host path and DST an absolute container
/// path, or just `DST` for a new anonymous volume. OPTS, comma-separated:
/// `ro`/`rw`, `z`/`Z` (SELinux relabelling), a propagation (`rprivate`,
/// `shared` …, bind mounts only), `nocopy` (volumes only).
///
/// ```
/// use dockhand::input::VolumeSpec;
/// let v = VolumeSpec::new("/srv/data:/data:ro").unwrap();
/// assert!(v.read_only());
/// assert_eq!(v.to_string(), "/srv/data:/data:ro");
/// assert_eq!(VolumeSpec::new("/cache").unwrap().source(), None);
/// assert!(VolumeSpec::new("data:relative").is_err());
/// assert!(VolumeSpec::new("data").is_err()); // docker would mount it at the relative path "data"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeSpec {
    /// Volume name or host path (`None`: an anonymous volume).
    source: Option<String>,
    /// Path in the container.
    destination: String,
    /// The options as given (validated), in order.
    options: Vec<String>,
}

impl VolumeSpec {
    /// Volume name or host path; `None` for an anonymous volume.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Path in the container.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Whether it is mounted read-only.
    pub fn read_only(&self) -> bool {
        self.options.iter().any(|o| o == "ro")
    }

    /// The options (`ro`, `z`, `rshared` …).
    pub fn options(&self) -> &[String] {
        &self.options
    }

    /// Parse a `-v` value.
    pub fn new(text: &str) -> Result<VolumeSpec> {
        check_plain("volume", text)?;
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "invalid volume {text:?}: {why} (use SRC:DST[:OPTS] or DST)"
            ))
        };
        let parts: Vec<&str> = text.split(':').collect();
        let (source, destination, given) = match parts[..] {
            [dst] => (None, dst, None),
            [src, dst] => (Some(src), dst, None),
            [src, dst, opts] => (Some(src), dst, Some(opts)),
            _ => return Err(bad("too many ':'")),
        };
        check_target("volume destination", destination).map_err(|e| bad(e.message()))?;
        if let Some(s) = source {
            check_source("volume source", s).map_err(|e| bad(e.message()))?;
        }
        let is_bind = source.is_some_and(|s| s.starts_with('/'));
        let mut seen = [false; 3]; // access mode, relabel, propagation
        let mut options = Vec::new();
        for opt in options_of(given) {
            let slot = match opt {
                "ro" | "rw" => 0,
                "z" | "Z" => 1,
                "nocopy" if !is_bind => 2,
                "nocopy" => return Err(bad("nocopy is for volumes, not bind mounts")),
                p if Propagation::parse(p).is_some() && is_bind => 2,
                p if Propagation::parse(p).is_some() => {
                    return Err(bad("a propagation is for bind mounts only"))
                }
                _ => {
                    return Err(bad(&format!(
                        "unknown option {opt:?}: use ro, rw, z, Z, nocopy or a propagation \
                         (shared, slave, private, rshared, rslave, rprivate)"
                    )))
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(bad(&format!(
                    "option {opt:?} conflicts with an earlier one"
                )));
            }
            options.push(opt.to_string());
        }
        Ok(VolumeSpec {
            source: source.map(str::to_string),
            destination: destination.to_string(),
            options,
        })
    }
}
text_type!(VolumeSpec);

fn options_of(text: Option<&str>) -> impl Iterator<Item = &str> {
    text.into_iter().flat_map(|t| t.split(','))
}

impl fmt::Display for VolumeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.source {
            write!(f, "{s}:")?;
        }
        f.write_str(&self.destination)?;
        if !self.options.is_empty() {
            write!(f, ":{}", self.options.join(","))?;
        }
        Ok(())
    }
}

/// Mount flags a tmpfs takes as words.
const TMPFS_FLAGS: &[&str] = &[
    "ro",
    "rw",
    "exec",
    "noexec",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "sync",
    "async",
    "dirsync",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "shared",
    "slave",
    "private",
    "rshared",
    "rslave",
    "rprivate",
];

/// A tmpfs mount (`--tmpfs`): `PATH[:OPTS]`, PATH absolute, OPTS
/// comma-separated mount options: `size=SIZE` (bytes or `k`/`m`/`g`, or a
/// percentage of RAM), `mode=OCTAL`, `uid=N`, `gid=N`, `nr_inodes=N`, and
/// flags such as `ro`, `noexec`, `nosuid`. The engines check these only when
/// the container starts; dockhand checks them before.
///
/// ```
/// use dockhand::input::TmpfsMount;
/// let t = TmpfsMount::new("/scratch:size=64m,mode=1777,noexec").unwrap();
/// assert_eq!(t.path(), "/scratch");
/// assert_eq!(t.to_string(), "/scratch:size=64m,mode=1777,noexec");
/// for bad in ["scratch", "/x:size=abc", "/x:mode=999", "/x:bogus", "/x:size=-1"] {
///     assert!(TmpfsMount::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TmpfsMount {
    path: String,
    options: Vec<String>,
}

impl TmpfsMount {
    /// Parse `PATH[:OPTS]`.
    pub fn new(text: &str) -> Result<TmpfsMount> {
        check_plain("tmpfs mount", text)?;
        let (path, options) = match text.split_once(':') {
            Some((p, o)) => (p, Some(o)),
            None => (text, None),
        };
        let bad = |why: &str| Error::invalid_input(format!("invalid tmpfs mount {text:?}: {why}"));
        check_target("tmpfs path", path).map_err(|e| bad(e.message()))?;
        let options = options_of(options)
            .map(|opt| match opt.split_once('=') {
                Some(("size", v)) if tmpfs_size_ok(v) => Ok(opt.to_string()),
                Some(("mode", v)) if octal_mode(v).is_some() => Ok(opt.to_string()),
                Some(("uid" | "gid" | "nr_inodes" | "nr_blocks", v)) if digits(v) => {
                    Ok(opt.to_string())
                }
                None if TMPFS_FLAGS.contains(&opt) => Ok(opt.to_string()),
                _ => Err(bad(&format!(
                    "bad option {opt:?}: use size=SIZE (e.g. 64m or 50%), mode=OCTAL, uid=N, gid=N, \
                     nr_inodes=N or a mount flag (ro, noexec, nosuid, nodev …)"
                ))),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TmpfsMount {
            path: path.to_string(),
            options,
        })
    }

    /// The container path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The mount options, in order.
    pub fn options(&self) -> &[String] {
        &self.options
    }
}
text_type!(TmpfsMount);

impl fmt::Display for TmpfsMount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if !self.options.is_empty() {
            write!(f, ":{}", self.options.join(","))?;
        }
        Ok(())
    }
}

fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A tmpfs `size=`: a memory size, or a percentage of RAM (1–100).
fn tmpfs_size_ok(text: &str) -> bool {
    match text.strip_suffix('%') {
        Some(p) => digits(p) && p.parse::<u8>().is_ok_and(|p| (1..=100).contains(&p)),
        None => MemorySize::new(text).is_ok(),
    }
}

/// An octal permission mode of up to 4 digits (`1777`, `755`).
fn octal_mode(text: &str) -> Option<u32> {
    (text.len() <= 4)
        .then(|| u32::from_str_radix(text, 8).ok())
        .flatten()
        .filter(|_| !text.is_empty() && text.bytes().all(|b| (b'0'..=b'7').contains(&b)))
}

/// The kind of a `--mount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A tmpfs.
    Tmpfs,
}

impl MountType {
    /// The engines' word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// A mount in the long syntax (`--mount`): comma-separated `key=value`s
/// with `type=bind|volume|tmpfs`, `source`/`src` (a host path for bind, a
/// volume name for volume, none for tmpfs or an anonymous volume),
/// `target`/`destination`/`dst` (required), `readonly`/`ro` (alone or
/// `=true|false|1|0`), `bind-propagation=…` (bind), `tmpfs-size=SIZE` and
/// `tmpfs-mode=OCTAL` (tmpfs). These are the keys both engines read alike.
/// Sent to the engine in one spelling: `type=…,source=…,target=…,readonly=true,…`.
///
/// ```
/// use dockhand::input::{MemorySize, MountSpec};
/// let m = MountSpec::new("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
/// assert_eq!(m.to_string(), "type=tmpfs,target=/t,tmpfs-size=1048576,tmpfs-mode=1770");
/// let b = MountSpec::bind("/srv/data", "/data")?.with_read_only(true);
/// assert_eq!(b.to_string(), "type=bind,source=/srv/data,target=/data,readonly=true");
/// assert!(MountSpec::new("type=volume,src=data").is_err()); // no target
/// assert!(MountSpec::new("type=bind,src=/x,dst=/y,bogus=1").is_err());
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MountSpec {
    kind: MountType,
    source: Option<String>,
    target: String,
    read_only: bool,
    propagation: Option<Propagation>,
    tmpfs_size: Option<MemorySize>,
    tmpfs_mode: Option<u32>,
}

impl MountSpec {
    fn of(kind: MountType, source: Option<&str>, target: &str) -> Result<MountSpec> {
        check_target("mount target", target)?;
        match (kind, source) {
            (MountType::Bind, Some(s)) if s.starts_with('/') => check_source("bind source", s)?,
            (MountType::Bind, _) => {
                return Err(Error::invalid_input(
                    "a bind mount needs an absolute host path as its source",
                ))
            }
            (MountType::Volume, Some(s)) => crate::input::VolumeName::new(s).map(drop)?,
            (MountType::Tmpfs, Some(_)) => {
                return Err(Error::invalid_input("a tmpfs mount takes no source"))
            }
            (_, None) => {}
        }
        Ok(MountSpec {
            kind,
            source: source.map(str::to_string),
            target: target.to_string(),
            read_only: false,
            propagation: None,
            tmpfs_size: None,
            tmpfs_mode: None,
        })
    }

    /// Bind-mount host path `source` (absolute) at `target`.
    pub fn bind(source: &str, target: &str) -> Result<MountSpec> {
        MountSpec::of(MountType::Bind, Some(source), target)
    }

    /// Mount the volume `name` (a new anonymous one when `None`) at `target`.
    pub fn volume(name: Option<&str>, target: &str) -> Result<MountSpec> {
        MountSpec::of(MountType::Volume, name, target)
    }

    /// A tmpfs at `target`.
    pub fn tmpfs(target: &str) -> Result<MountSpec> {
        MountSpec::of(MountType::Tmpfs, None, target)
    }

    /// Read-only or not.
    #[must_use]
    pub fn with_read_only(mut self, read_only: bool) -> MountSpec {
        self.read_only = read_only;
        self
    }

    /// The propagation of a bind mount.
    pub fn with_propagation(mut self, p: Propagation) -> Result<MountSpec> {
        self.only_for(MountType::Bind, "bind-propagation")?;
        self.propagation = Some(p);
        Ok(self)
    }

    /// The size of a tmpfs.
    pub fn with_tmpfs_size(mut self, size: MemorySize) -> Result<MountSpec> {
        self.only_for(MountType::Tmpfs, "tmpfs-size")?;
        self.tmpfs_size = Some(size);
        Ok(self)
    }

    /// The permission bits of a tmpfs (e.g. `0o1777`).
    pub fn with_tmpfs_mode(mut self, mode: u32) -> Result<MountSpec> {
        self.only_for(MountType::Tmpfs, "tmpfs-mode")?;
        if mode > 0o7777 {
            return Err(Error::invalid_input(format!(
                "tmpfs-mode {mode:o} is not a permission mode (at most 7777 octal)"
            )));
        }
        self.tmpfs_mode = Some(mode);
        Ok(self)
    }

    fn only_for(&self, kind: MountType, key: &str) -> Result<()> {
        match self.kind == kind {
            true => Ok(()),
            false => Err(Error::invalid_input(format!(
                "{key} is for {} mounts, not {}",
                kind.as_str(),
                self.kind.as_str()
            ))),
        }
    }

    /// The kind.
    pub fn kind(&self) -> MountType {
        self.kind
    }

    /// Host path or volume name.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Path in the container.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether it is read-only.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Parse a `--mount` value.
    pub fn new(text: &str) -> Result<MountSpec> {
        check_plain("mount", text)?;
        let bad = |why: &str| Error::invalid_input(format!("invalid mount {text:?}: {why}"));
        let mut fields: Vec<(&str, Option<&str>)> = Vec::new();
        for field in text.split(',') {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (field, None),
            };
            let key = match key {
                "src" => "source",
                "dst" | "destination" => "target",
                "ro" => "readonly",
                k => k,
            };
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(bad(&format!("{key} is given twice")));
            }
            fields.push((key, value));
        }
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).and_then(|(_, v)| *v);
        let kind = match get("type") {
            Some("bind") => MountType::Bind,
            Some("volume") => MountType::Volume,
            Some("tmpfs") => MountType::Tmpfs,
            _ => return Err(bad("type must be bind, volume or tmpfs")),
        };
        let target = get("target").ok_or_else(|| bad("target is required"))?;
        let mut m = MountSpec::of(kind, get("source"), target).map_err(|e| bad(e.message()))?;
        for (key, value) in &fields {
            let value = *value;
            m = match (*key, value) {
                ("type" | "source" | "target", Some(_)) => m,
                ("readonly", None | Some("true" | "1")) => m.with_read_only(true),
                ("readonly", Some("false" | "0")) => m.with_read_only(false),
                ("bind-propagation", Some(p)) => Propagation::parse(p)
                    .ok_or_else(|| bad(&format!("unknown propagation {p:?}")))
                    .and_then(|p| m.with_propagation(p).map_err(|e| bad(e.message())))?,
                ("tmpfs-size", Some(s)) => MemorySize::new(s)
                    .and_then(|s| m.with_tmpfs_size(s))
                    .map_err(|e| bad(e.message()))?,
                ("tmpfs-mode", Some(mode)) => octal_mode(mode)
                    .ok_or_else(|| bad(&format!("tmpfs-mode {mode:?} is not an octal mode")))
                    .and_then(|mode| m.with_tmpfs_mode(mode).map_err(|e| bad(e.message())))?,
                _ => {
                    return Err(bad(&format!(
                        "unknown or malformed key {key:?}: use type, source, target, readonly, \
                         bind-propagation, tmpfs-size, tmpfs-mode"
                    )))
                }
            };
        }
        Ok(m)
    }
}
text_type!(MountSpec);

impl fmt::Display for MountSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "type={}", self.kind.as_str())?;
        if let Some(s) = &self.source {
            write!(f, ",source={s}")?;
        }
        write!(f, ",target={}", self.target)?;
        if self.read_only {
            f.write_str(",readonly=true")?;
        }
        if let Some(p) = self.propagation {
            write!(f, ",bind-propagation={p}")?;
        }
        if let Some(s) = self.tmpfs_size {
            write!(f, ",tmpfs-size={s}")?;
        }
        if let Some(m) = self.tmpfs_mode {
            write!(f, ",tmpfs-mode={m:o}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_short_syntax() {
        assert_eq!(
            VolumeSpec::new("data:/data").unwrap().source(),
            Some("data")
        );
        for good in [
            "/anon",
            "data:/data:ro",
            "/h:/c:rw,rshared",
            "data:/d:nocopy,z",
        ] {
            assert_eq!(VolumeSpec::new(good).unwrap().to_string(), good);
        }
        for bad in [
            "/a:/b:bogus",
            "a b:/c",
            ":/c",
            "/a:/b:ro:x",
            "-v:/x",
            "data",
            "data:/",
            "/a:/b:ro,rw",
            "data:/b:rshared",
            "/a:/b:nocopy",
            "x/y:/b",
        ] {
            assert!(VolumeSpec::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mounts_long_syntax_are_normalised() {
        for (input, rendered) in [
            (
                "type=bind,src=/h,dst=/c,ro",
                "type=bind,source=/h,target=/c,readonly=true",
            ),
            (
                "type=bind,source=/h,target=/c,bind-propagation=rslave,readonly=false",
                "type=bind,source=/h,target=/c,bind-propagation=rslave",
            ),
            ("type=volume,target=/anon", "type=volume,target=/anon"),
            (
                "type=volume,source=v1,destination=/v,readonly=1",
                "type=volume,source=v1,target=/v,readonly=true",
            ),
        ] {
            assert_eq!(MountSpec::new(input).unwrap().to_string(), rendered);
        }
        for bad in [
            "type=bogus,dst=/x",
            "dst=/x",
            "type=bind,dst=/x",
            "type=bind,src=rel,dst=/x",
            "type=tmpfs,src=/x,dst=/y",
            "type=volume,src=/abs,dst=/y",
            "type=volume,src=v,dst=/y,tmpfs-size=1m",
            "type=tmpfs,dst=/y,tmpfs-mode=9",
            "type=tmpfs,dst=/y,dst=/z",
            "type=bind,src=/a,dst=/b,bind-propagation=up",
            "type=bind,src=/a,dst=/b,readonly=maybe",
        ] {
            assert!(MountSpec::new(bad).is_err(), "{bad}");
        }
    }
}

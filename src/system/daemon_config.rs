//! Edit docker's daemon configuration file (`/etc/docker/daemon.json`).
//!
//! * `get [KEY]`, `set KEY JSON`, `unset KEY`; `KEY` is a top-level key or a
//!   dotted path into nested objects (`log-opts.max-size`).
//! * `set` applies the value as a JSON merge patch (RFC 7386) at `KEY`: an
//!   object merges into the object already there (other keys stay), any
//!   other value replaces, `null` removes. Keys dockhand does not know are
//!   kept as they are.
//! * Nothing is written unless the result differs. Writing is atomic: a
//!   temporary file in the same directory, fsync, the previous file copied to
//!   `daemon.json.bak` (itself written as a temporary file and renamed, so a
//!   `.bak` that is a symlink is replaced, never followed), rename over the
//!   original, fsync of the directory. The new file keeps the old one's
//!   owner and mode. An exclusive `flock` on `.daemon.json.lock` next to it
//!   (opened with `O_NOFOLLOW`) serialises concurrent editors.
//! * A `daemon.json` that is a symlink is resolved once, at the start: the
//!   lock, the temporary file, the backup and the rename all happen beside
//!   its real target, which is what gets updated (the link stays a link).
//! * A file that is not valid JSON (or not an object) is never rewritten:
//!   the edit is refused and the file left for a person to fix.
//! * The report says whether the change needs a daemon restart, or whether
//!   `SIGHUP` (reload) is enough: only the keys dockerd documents as
//!   reloadable count as such.
//!
//! This module touches one file and runs no command.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// Where dockerd reads its configuration by default.
pub const DEFAULT_PATH: &str = "/etc/docker/daemon.json";

/// Keys dockerd applies on `SIGHUP` without a restart (dockerd reference,
/// "Configuration reload behavior").
pub const RELOADABLE: [&str; 12] = [
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "default-runtime",
    "runtimes",
    "authorization-plugins",
    "insecure-registries",
    "registry-mirrors",
    "shutdown-timeout",
];

/// A key or dotted path, validated: segments of `[A-Za-z0-9_-]`.
///
/// ```
/// use dockhand::system::daemon_config::KeyPath;
/// assert_eq!(KeyPath::new("log-opts.max-size").unwrap().segments(), ["log-opts", "max-size"]);
/// assert!(KeyPath::new("a..b").is_err());
/// assert!(KeyPath::new("").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath(Vec<String>);

impl KeyPath {
    /// Parse `key` or `a.b.c`.
    pub fn new(text: &str) -> Result<KeyPath> {
        let segments: Vec<String> = text.split('.').map(str::to_string).collect();
        let valid = segments.iter().all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        if !valid {
            return Err(Error::invalid_input(format!(
                "invalid key {text:?}: use a daemon.json key such as log-driver, or a dotted path such as log-opts.max-size"
            )));
        }
        Ok(KeyPath(segments))
    }

    /// The path's segments.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// The top-level key it lives under.
    pub fn top(&self) -> &str {
        &self.0[0]
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// Parse a JSON value given on the command line.
///
/// ```
/// use dockhand::system::daemon_config::parse_value;
/// assert_eq!(parse_value(r#""10m""#).unwrap(), serde_json::json!("10m"));
/// let e = parse_value("10m").unwrap_err();
/// assert!(e.message().contains("quote"), "{e}");
/// ```
pub fn parse_value(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::invalid_input(format!(
            "the value {text:?} is not JSON ({e}); strings need quotes, e.g. '\"10m\"', lists brackets, e.g. '[\"a\"]'"
        ))
    })
}

/// One change to the configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Merge-patch `value` in at the path.
    Set(KeyPath, Value),
    /// Remove the path (nothing to do when it is not there).
    Unset(KeyPath),
}

/// RFC 7386: objects merge key by key, `null` deletes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (k, v) in patch {
        if v.is_null() {
            target.remove(k);
        } else {
            merge_patch(target.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// `config` with `edit` applied (pure).
///
/// ```
/// use serde_json::json;
/// use dockhand::system::daemon_config::{apply, Edit, KeyPath};
/// let doc = json!({"log-opts": {"max-file": "3"}, "x-unknown": 1});
/// let doc = apply(&doc, &Edit::Set(KeyPath::new("log-opts").unwrap(), json!({"max-size": "10m"}))).unwrap();
/// assert_eq!(doc, json!({"log-opts": {"max-file": "3", "max-size": "10m"}, "x-unknown": 1}));
/// let doc = apply(&doc, &Edit::Unset(KeyPath::new("log-opts.max-file").unwrap())).unwrap();
/// assert_eq!(doc["log-opts"], json!({"max-size": "10m"}));
/// ```
pub fn apply(config: &Value, edit: &Edit) -> Result<Value> {
    let mut doc = config.clone();
    // Setting null is removing (merge-patch semantics).
    let (path, value) = match edit {
        Edit::Set(p, v) if !v.is_null() => (p, Some(v)),
        Edit::Set(p, _) | Edit::Unset(p) => (p, None),
    };
    let (last, parents) = path.segments().split_last().expect("a path has a segment");
    let mut node = &mut doc;
    for (i, seg) in parents.iter().enumerate() {
        let obj = node.as_object_mut().ok_or_else(|| not_an_object(path, i))?;
        if value.is_none() && !obj.contains_key(seg) {
            return Ok(doc);
        }
        node = obj
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let obj = node
        .as_object_mut()
        .ok_or_else(|| not_an_object(path, parents.len()))?;
    match value {
        Some(v) => merge_patch(obj.entry(last.clone()).or_insert(Value::Null), v),
        None => {
            obj.remove(last);
        }
    }
    Ok(doc)
}

fn not_an_object(path: &KeyPath, depth: usize) -> Error {
    let at = path.segments()[..depth].join(".");
    Error::invalid_input(format!(
        "cannot reach {path}: {} is not an object",
        if at.is_empty() { "the file" } else { &at }
    ))
}

/// The value at `path`, if there is one.
///
/// ```
/// use dockhand::system::daemon_config::{lookup, KeyPath};
/// let doc = serde_json::json!({"log-opts": {"max-size": "10m"}});
/// assert_eq!(lookup(&doc, &KeyPath::new("log-opts.max-size").unwrap()), Some(&serde_json::json!("10m")));
/// assert_eq!(lookup(&doc, &KeyPath::new("log-opts.max-file").unwrap()), None);
/// ```
pub fn lookup<'a>(config: &'a Value, path: &KeyPath) -> Option<&'a Value> {
    path.segments()
        .iter()
        .try_fold(config, |node, seg| node.as_object()?.get(seg))
}

/// What a change to the running daemon needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restart {
    /// Nothing changed.
    None,
    /// `SIGHUP` to dockerd (`systemctl reload docker`) applies it.
    Reload,
    /// Only a restart of dockerd applies it.
    Restart,
}

/// The top-level keys whose values differ between `old` and `new`, sorted.
///
/// ```
/// let keys = dockhand::system::daemon_config::changed_keys(&serde_json::json!({"a": 1, "b": 2}), &serde_json::json!({"a": 1, "c": 3}));
/// assert_eq!(keys, ["b", "c"]);
/// ```
pub fn changed_keys(old: &Value, new: &Value) -> Vec<String> {
    let empty = Map::new();
    let (old, new) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<String> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// What applying changes to these top-level keys takes.
///
/// ```
/// use dockhand::system::daemon_config::{restart_needed, Restart};
/// assert_eq!(restart_needed(&[]), Restart::None);
/// assert_eq!(restart_needed(&["debug".into(), "registry-mirrors".into()]), Restart::Reload);
/// assert_eq!(restart_needed(&["debug".into(), "bip".into()]), Restart::Restart);
/// ```
pub fn restart_needed(changed: &[String]) -> Restart {
    if changed.is_empty() {
        Restart::None
    } else if changed.iter().all(|k| RELOADABLE.contains(&k.as_str())) {
        Restart::Reload
    } else {
        Restart::Restart
    }
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EditReport {
    /// The file.
    pub path: PathBuf,
    /// Whether the file was written.
    pub changed: bool,
    /// Top-level keys whose values changed.
    pub changed_keys: Vec<String>,
    /// What the running daemon needs to pick the change up.
    pub restart: Restart,
    /// Copy of the previous file, when there was one and it was replaced.
    pub backup: Option<PathBuf>,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::EngineFailure,
    };
    Error::new(kind, format!("cannot {what} {}: {e}", path.display())).with_source(e)
}

/// Read the configuration: `{}` when the file does not exist; an error
/// (nothing is ever written over it) when it is not a JSON object.
///
/// ```no_run
/// let config = dockhand::system::daemon_config::read("/etc/docker/daemon.json".as_ref())?;
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn read(path: &Path) -> Result<Value> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Value::Object(Map::new())),
        Err(e) => return Err(io_error("read", path, e)),
    };
    if bytes.trim_ascii().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::parse(
            format!(
                "{} is not valid JSON ({e}); refusing to edit it: fix it by hand first",
                path.display()
            ),
            &bytes,
        )
    })?;
    if !doc.is_object() {
        return Err(Error::parse(
            format!(
                "{} is not a JSON object; refusing to edit it",
                path.display()
            ),
            &bytes,
        ));
    }
    Ok(doc)
}

/// The whole configuration, or the value at `key`
/// ([`ErrorKind::NotFound`] when it is not set).
///
/// ```no_run
/// use dockhand::system::daemon_config::{get, KeyPath};
/// let driver = get("/etc/docker/daemon.json".as_ref(), Some(&KeyPath::new("log-driver")?))?;
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn get(path: &Path, key: Option<&KeyPath>) -> Result<Value> {
    let doc = read(path)?;
    match key {
        None => Ok(doc),
        Some(k) => lookup(&doc, k).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("{k} is not set in {}", path.display()),
            )
        }),
    }
}

/// Apply `edit` to the file at `path` (created when missing), atomically,
/// under an exclusive lock, keeping a `.bak` of the previous version.
///
/// ```no_run
/// use dockhand::system::daemon_config::{edit, Edit, KeyPath, parse_value};
/// let report = edit("/etc/docker/daemon.json".as_ref(), &Edit::Set(KeyPath::new("log-driver")?, parse_value(r#""local""#)?))?;
/// println!("{:?}", report.restart);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn edit(path: &Path, edit: &Edit) -> Result<EditReport> {
    let real = resolve(path)?;
    let dir = match real.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = real
        .file_name()
        .ok_or_else(|| Error::invalid_input(format!("{} names no file", path.display())))?
        .to_string_lossy()
        .into_owned();
    let lock_path = dir.join(format!(".{name}.lock"));
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&lock_path)
        .map_err(|e| io_error("create the lock file", &lock_path, e))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive).map_err(|(_, errno)| {
        io_error(
            "lock",
            &lock_path,
            std::io::Error::from_raw_os_error(errno as i32),
        )
    })?;

    let old = read(&real)?;
    let new = apply(&old, edit)?;
    let changed = changed_keys(&old, &new);
    if old == new {
        return Ok(EditReport {
            path: path.to_path_buf(),
            changed: false,
            changed_keys: changed,
            restart: Restart::None,
            backup: None,
        });
    }
    let backup = write_atomic(&real, &dir, &name, &new)?;
    Ok(EditReport {
        path: path.to_path_buf(),
        changed: true,
        restart: restart_needed(&changed),
        changed_keys: changed,
        backup,
    })
}

/// The file an edit of `path` changes: `path`, or the final target of the
/// symlink it is (resolved once, so the whole edit works on one file).
fn resolve(path: &Path) -> Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)
            .map_err(|e| io_error("follow the symbolic link (to a missing file?)", path, e)),
        _ => Ok(path.to_path_buf()),
    }
}

/// Write `doc` over `path` by rename, keeping its owner and mode; returns
/// the backup's path, if there was a previous file.
fn write_atomic(path: &Path, dir: &Path, name: &str, doc: &Value) -> Result<Option<PathBuf>> {
    let mut text = serde_json::to_string_pretty(doc).expect("a JSON value serializes");
    text.push('\n');
    let previous = fs::metadata(path).ok();
    let backup = match &previous {
        Some(meta) => {
            let bak = dir.join(format!("{name}.bak"));
            let old = fs::read(path).map_err(|e| io_error("read", path, e))?;
            replace_with(&bak, dir, name, &old, meta)?;
            Some(bak)
        }
        None => None,
    };
    match &previous {
        Some(meta) => replace_with(path, dir, name, text.as_bytes(), meta)?,
        None => {
            let tmp = temp_with(dir, name, text.as_bytes(), 0o644, None)?;
            tmp.persist(path)
                .map_err(|e| io_error("replace", path, e.error))?;
        }
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync", dir, e))?;
    Ok(backup)
}

/// Put `bytes` at `path` by renaming a temporary file over it (never
/// writing through what is there), with `like`'s owner and mode.
fn replace_with(
    path: &Path,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    like: &fs::Metadata,
) -> Result<()> {
    let tmp = temp_with(
        dir,
        name,
        bytes,
        like.mode() & 0o7777,
        Some((like.uid(), like.gid())),
    )?;
    tmp.persist(path)
        .map_err(|e| io_error("replace", path, e.error))?;
    Ok(())
}

/// A synced temporary file in `dir` holding `bytes`, with `mode` and owner.
fn temp_with(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_error("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| match owner {
            Some((uid, gid)) => {
                match std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid)) {
                    // Not root and not the owner: the file becomes ours.
                    Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                        log::warn!("cannot keep the owner {uid}:{gid} of {name}: {e}");
                        Ok(())
                    }
                    other => other,
                }
            }
            None => Ok(()),
        })
        .and_then(|()| {
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(mode))
        })
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io_error("write", tmp.path(), e))?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> KeyPath {
        KeyPath::new(k).unwrap()
    }

    #[test]
    fn set_merges_objects_replaces_the_rest_and_null_removes() {
        let doc = json!({"log-opts": {"max-file": "3"}, "debug": false, "future-key": {"x": 1}});
        let doc = apply(&doc, &Edit::Set(key("debug"), json!(true))).unwrap();
        let doc = apply(
            &doc,
            &Edit::Set(
                key("log-opts"),
                json!({"max-size": "10m", "max-file": null}),
            ),
        )
        .unwrap();
        let doc = apply(&doc, &Edit::Set(key("features.buildkit"), json!(true))).unwrap();
        assert_eq!(
            doc,
            json!({"log-opts": {"max-size": "10m"}, "debug": true, "future-key": {"x": 1}, "features": {"buildkit": true}})
        );
        let doc = apply(&doc, &Edit::Set(key("debug"), Value::Null)).unwrap();
        assert!(doc.get("debug").is_none());
        let same = apply(&doc, &Edit::Set(key("nothing.here"), Value::Null)).unwrap();
        assert_eq!(same, doc, "removing what is not there creates nothing");
    }

    #[test]
    fn unset_of_a_missing_key_changes_nothing() {
        let doc = json!({"a": 1});
        assert_eq!(apply(&doc, &Edit::Unset(key("b.c"))).unwrap(), doc);
        assert_eq!(apply(&doc, &Edit::Unset(key("b"))).unwrap(), doc);
    }

    #[test]
    fn paths_through_non_objects_are_refused() {
        let doc = json!({"labels": ["a=b"]});
        let e = apply(&doc, &Edit::Set(key("labels.x"), json!(1))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.message().contains("labels is not an object"), "{e}");
    }

    #[test]
    fn changed_keys_are_top_level_and_decide_restart() {
        let old = json!({"debug": false, "bip": "10.0.0.1/24"});
        let new = json!({"debug": true, "bip": "10.0.0.1/24", "registry-mirrors": ["https://m"]});
        let keys = changed_keys(&old, &new);
        assert_eq!(keys, ["debug", "registry-mirrors"]);
        assert_eq!(restart_needed(&keys), Restart::Reload);
        assert_eq!(
            restart_needed(&changed_keys(&old, &json!({}))),
            Restart::Restart
        );
    }

    #[test]
    fn keys_and_values_are_validated() {
        for bad in ["", ".", "a.", "a b", "a/b", "-\n"] {
            assert!(KeyPath::new(bad).is_err(), "{bad:?}");
        }
        for bad in ["10m", "{", "[1,", "tru"] {
            assert_eq!(
                parse_value(bad).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn edits_write_atomically_keep_a_backup_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.json");
        // Creating the file: no backup.
        let r = edit(&path, &Edit::Set(key("log-driver"), json!("local"))).unwrap();
        assert!(r.changed && r.backup.is_none());
        assert_eq!(r.restart, Restart::Restart);
        fs::write(
            &path,
            "{\"x-vendor\": {\"keep\": [1, 2]}, \"log-driver\": \"local\"}",
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let before = fs::read(&path).unwrap();
        let r = edit(&path, &Edit::Set(key("debug"), json!(true))).unwrap();
        assert_eq!((r.changed, r.restart), (true, Restart::Reload));
        assert_eq!(fs::read(r.backup.unwrap()).unwrap(), before);
        let now: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            now,
            json!({"x-vendor": {"keep": [1, 2]}, "log-driver": "local", "debug": true})
        );
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // The same edit again: nothing written.
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();
        let r = edit(&path, &Edit::Set(key("debug"), json!(true))).unwrap();
        assert_eq!((r.changed, r.restart), (false, Restart::None));
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
        // No temporary files left behind.
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn an_invalid_file_is_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.json");
        for text in ["{\"debug\": true,", "[1, 2]"] {
            fs::write(&path, text).unwrap();
            let e = edit(&path, &Edit::Set(key("debug"), json!(false))).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Parse, "{text}");
            assert!(e.message().contains("refusing"), "{e}");
            assert_eq!(fs::read_to_string(&path).unwrap(), text);
            assert!(!dir.path().join("daemon.json.bak").exists());
        }
    }

    #[test]
    fn get_reads_paths_and_reports_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.json");
        assert_eq!(get(&path, None).unwrap(), json!({}));
        fs::write(&path, r#"{"log-opts": {"max-size": "10m"}}"#).unwrap();
        assert_eq!(
            get(&path, Some(&key("log-opts.max-size"))).unwrap(),
            json!("10m")
        );
        assert_eq!(
            get(&path, Some(&key("nope"))).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn concurrent_editors_lose_no_update() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.json");
        std::thread::scope(|s| {
            for i in 0..8 {
                let path = &path;
                s.spawn(move || edit(path, &Edit::Set(key(&format!("k{i}")), json!(i))).unwrap());
            }
        });
        let doc = get(&path, None).unwrap();
        assert_eq!(doc.as_object().unwrap().len(), 8, "{doc}");
    }
}

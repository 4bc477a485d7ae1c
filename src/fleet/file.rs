//! Fleet files: the hosts of a fleet, with their endpoints, groups and
//! labels, in JSON.
//!
//! ```json
//! {"hosts": [
//!   {"name": "edge-1", "url": "ssh://root@10.0.0.11", "groups": ["edge"], "labels": {"site": "ber"}},
//!   {"name": "edge-2", "context": "edge-2", "groups": ["edge"]},
//!   {"name": "lab", "connection": "lab", "engine": "podman", "identity": "/root/.ssh/id_lab"}
//! ]}
//! ```
//!
//! Each host has `url` (an endpoint: `ssh://…`, `tcp://…`, `unix://…`) or
//! `context` (a docker context; `connection`, a podman connection, is the
//! same key), and optionally `name` (default: as in `--hosts`), `engine`
//! (its engine command, e.g. `sudo -n docker`), `identity` (its ssh key),
//! `groups` and `labels`. Unknown keys are refused, naming the key and
//! line: a typo must not silently drop a setting.
//!
//! JSON only: serde_json is linked anyway, while a TOML parser would add
//! 125 KiB (`toml` 1.0, parse + serde) or 88 KiB (`basic-toml` 0.1) to a
//! 2.7 MiB release binary (measured on this tree, glibc, opt-level z + LTO)
//! — too much for a second spelling of the same few fields on small boxes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{endpoint_engine, Fleet, Member};
use crate::engine::Engine;
use crate::error::{Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetDoc {
    hosts: Vec<HostDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostDoc {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, alias = "connection")]
    context: Option<String>,
    #[serde(default)]
    engine: Option<String>,
    #[serde(default)]
    identity: Option<PathBuf>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// The fleet a fleet file's text describes (`origin` names it in errors),
/// on `base`'s engine command and limits.
///
/// ```
/// let base = dockhand::Engine::from_command("docker")?;
/// let fleet = dockhand::fleet::file::parse(&base, r#"{"hosts": [
///     {"name": "a", "url": "ssh://root@10.0.0.11", "groups": ["edge"]},
///     {"name": "b", "context": "b", "labels": {"site": "ber"}}]}"#, "fleet.json")?;
/// assert_eq!(fleet.members()[1].labels["site"], "ber");
/// let typo = dockhand::fleet::file::parse(&base, r#"{"hosts": [{"name": "a", "urll": "x"}]}"#, "fleet.json");
/// assert!(typo.unwrap_err().message().contains("unknown field `urll`"));
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn parse(base: &Engine, text: &str, origin: &str) -> Result<Fleet> {
    let doc: FleetDoc = serde_json::from_str(text)
        .map_err(|e| Error::invalid_input(format!("fleet file {origin}: {e}")))?;
    if doc.hosts.is_empty() {
        return Err(Error::invalid_input(format!(
            "fleet file {origin}: no hosts"
        )));
    }
    let members = doc
        .hosts
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            member(base, h).map_err(|e| {
                Error::invalid_input(format!(
                    "fleet file {origin}, host {}: {}",
                    i + 1,
                    e.message()
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Fleet::new(members)
        .map_err(|e| Error::invalid_input(format!("fleet file {origin}: {}", e.message())))
}

fn member(base: &Engine, h: HostDoc) -> Result<Member> {
    let entry = match (h.url, h.context) {
        (Some(u), None) if u.contains("://") => u,
        (Some(u), None) => {
            return Err(Error::invalid_input(format!(
                "url {u:?} is not an endpoint URL (ssh://…, tcp://…, unix://…)"
            )))
        }
        (None, Some(c)) if !c.contains("://") && !c.trim().is_empty() => c,
        (None, Some(c)) => {
            return Err(Error::invalid_input(format!("context {c:?} is not a name")))
        }
        (Some(_), Some(_)) => return Err(Error::invalid_input("give url or context, not both")),
        (None, None) => return Err(Error::invalid_input("give url or context")),
    };
    let mut engine = match &h.engine {
        Some(cmd) => base.clone().with_command(cmd)?,
        None => base.clone(),
    };
    engine = endpoint_engine(&engine, &entry);
    if h.identity.is_some() {
        engine = engine.with_identity(h.identity);
    }
    let name = match h.name {
        Some(n) => n,
        None => Fleet::from_hosts(&engine, &entry)?.members.remove(0).name,
    };
    let mut m = Member::new(name, engine)?;
    m.groups = h.groups;
    m.labels = h.labels;
    Ok(m)
}

impl Fleet {
    /// The fleet of a fleet file ([`file`](self)).
    ///
    /// ```no_run
    /// let fleet = dockhand::fleet::Fleet::from_file(&dockhand::Engine::detect()?, "/etc/dockhand/fleet.json")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_file(base: &Engine, path: impl AsRef<Path>) -> Result<Fleet> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(format!("cannot read fleet file {}: {e}", path.display()))
                .with_source(e)
        })?;
        parse(base, &text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Engine {
        Engine::from_command("docker").unwrap()
    }

    #[test]
    fn hosts_get_their_endpoint_engine_and_key() {
        let f = parse(
            &base(),
            r#"{"hosts": [
                {"url": "ssh://root@10.0.0.11:2222", "identity": "/k"},
                {"name": "lab", "connection": "lab", "engine": "podman"}]}"#,
            "f.json",
        )
        .unwrap();
        assert_eq!(f.members()[0].name, "10.0.0.11:2222");
        assert_eq!(
            f.members()[0].engine.command().to_string(),
            "docker --host ssh://root@10.0.0.11:2222"
        );
        assert_eq!(
            f.members()[1].engine.command().to_string(),
            "podman --connection lab"
        );
    }

    #[test]
    fn bad_files_name_the_file_host_and_problem() {
        for (text, want) in [
            (r#"{"hosts": []}"#, "no hosts"),
            (
                r#"{"hosts": [{"name": "a"}]}"#,
                "host 1: give url or context",
            ),
            (r#"{"hosts": [{"url": "box"}]}"#, "not an endpoint URL"),
            (
                r#"{"hosts": [{"url": "ssh://a", "context": "b"}]}"#,
                "not both",
            ),
            (
                r#"{"hosts": [{"url": "ssh://a"}, {"url": "ssh://a"}]}"#,
                "named twice",
            ),
            (
                "{\n\"hosts\": [{\"url\": \"ssh://a\",\n \"group\": [\"x\"]}]}",
                "unknown field `group`",
            ),
            (
                r#"{"hosts": [{"name": "a b", "url": "ssh://a"}]}"#,
                "without blanks",
            ),
        ] {
            let e = parse(&base(), text, "f.json").unwrap_err();
            assert!(
                e.message().contains(want) && e.message().contains("f.json"),
                "{text}: {e}"
            );
        }
        let e = parse(
            &base(),
            "{\n\"hosts\": [{\"url\": \"ssh://a\",\n \"group\": [\"x\"]}]}",
            "f.json",
        )
        .unwrap_err();
        assert!(e.message().contains("line 3"), "{e}");
    }
}

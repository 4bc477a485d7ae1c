//! Fleet files: the hosts of a fleet, with their endpoints, groups and
//! labels, in TOML or JSON — one model, two spellings.
//!
//! ```toml
//! [[hosts]]
//! name = "edge-1"
//! url = "ssh://root@10.0.0.11"
//! groups = ["edge"]
//! labels = { site = "ber" }
//!
//! [[hosts]]
//! name = "edge-2"
//! context = "edge-2"
//! groups = ["edge"]
//!
//! [[hosts]]
//! name = "lab"
//! connection = "lab"
//! engine = "podman"
//! identity = "/root/.ssh/id_lab"
//! ```
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
//! Which syntax ([`Syntax::of`]): a name ending in `.toml` or `.json` says
//! so; otherwise (stdin, `hosts.conf`) a text whose first character other
//! than blanks is `{` is JSON, anything else TOML. TOML is read by
//! `basic-toml` (TOML 0.5 without dates and times, which no field takes):
//! +57 KiB of the static binary, where the `toml` crate costs +98 KiB
//! (docs/static.md).

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

/// The syntax of a fleet file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Syntax {
    /// `{"hosts": [{…}, …]}`.
    Json,
    /// `[[hosts]]` tables.
    Toml,
}

impl Syntax {
    /// The syntax of the fleet file named `origin` (a path, or `-` for
    /// stdin) whose text is `text`: by the name's extension `.toml` or
    /// `.json`, else by the text (JSON starts with `{`).
    ///
    /// ```
    /// use dockhand::fleet::file::Syntax;
    /// assert_eq!(Syntax::of("fleet.toml", "{"), Syntax::Toml);
    /// assert_eq!(Syntax::of("-", "  {\"hosts\": []}"), Syntax::Json);
    /// assert_eq!(Syntax::of("hosts.conf", "# edge boxes\n[[hosts]]"), Syntax::Toml);
    /// ```
    pub fn of(origin: &str, text: &str) -> Syntax {
        let extension = Path::new(origin).extension().and_then(|e| e.to_str());
        match extension.map(str::to_ascii_lowercase).as_deref() {
            Some("toml") => Syntax::Toml,
            Some("json") => Syntax::Json,
            _ if text.trim_start().starts_with('{') => Syntax::Json,
            _ => Syntax::Toml,
        }
    }
}

/// The fleet a fleet file's text describes (`origin` names it in errors
/// and, with the text, picks the [`Syntax`]), on `base`'s engine command
/// and limits.
///
/// ```
/// let base = dockhand::Engine::from_command("docker")?;
/// let fleet = dockhand::fleet::file::parse(&base, r#"{"hosts": [
///     {"name": "a", "url": "ssh://root@10.0.0.11", "groups": ["edge"]},
///     {"name": "b", "context": "b", "labels": {"site": "ber"}}]}"#, "fleet.json")?;
/// assert_eq!(fleet.members()[1].labels["site"], "ber");
/// let toml = dockhand::fleet::file::parse(&base, r#"
///     [[hosts]]
///     name = "a"
///     url = "ssh://root@10.0.0.11"
///     labels = { site = "ber" }
/// "#, "fleet.toml")?;
/// assert_eq!(toml.members()[0].labels["site"], "ber");
/// let typo = dockhand::fleet::file::parse(&base, r#"{"hosts": [{"name": "a", "urll": "x"}]}"#, "fleet.json");
/// assert!(typo.unwrap_err().message().contains("unknown field `urll`"));
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn parse(base: &Engine, text: &str, origin: &str) -> Result<Fleet> {
    let doc: FleetDoc = match Syntax::of(origin, text) {
        Syntax::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        Syntax::Toml => basic_toml::from_str(text).map_err(|e| toml_error(text, &e)),
    }
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

/// A TOML error with the line of the key it is about: basic-toml points an
/// unknown key at the start of its table (`[[hosts]]`), so the key's own
/// line is looked up from there.
fn toml_error(text: &str, e: &basic_toml::Error) -> String {
    let message = e.to_string();
    let Some((line, column)) = e.line_col() else {
        return message;
    };
    let bare = message
        .strip_suffix(&format!(" at line {} column {}", line + 1, column + 1))
        .unwrap_or(&message);
    let key_line = bare
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .and_then(|key| {
            text.lines()
                .enumerate()
                .skip(line)
                .find(|(_, l)| defines(l, key))
        });
    match key_line {
        Some((n, _)) => format!("{bare} at line {}", n + 1),
        None => message,
    }
}

/// Whether a TOML line defines `key`: `key = …`, `key.sub = …`, `"key" = …`
/// or a table header `[key…]` / `[[key…]]`.
fn defines(line: &str, key: &str) -> bool {
    let line = line.trim_start().trim_start_matches('[').trim_start();
    let rest = line
        .strip_prefix(key)
        .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
        .or_else(|| line.strip_prefix(&format!("'{key}'")));
    rest.is_some_and(|r| r.trim_start().starts_with(['=', '.', ']']))
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

    /// What a fleet's members are made of, to compare two spellings.
    fn shape(f: &Fleet) -> Vec<String> {
        f.members()
            .iter()
            .map(|m| {
                format!(
                    "{} | {} | {:?} | {:?}",
                    m.name,
                    m.engine.command(),
                    m.groups,
                    m.labels
                )
            })
            .collect()
    }

    #[test]
    fn toml_and_json_spell_the_same_fleet() {
        let json = parse(
            &base(),
            r#"{"hosts": [
                {"name": "edge-1", "url": "ssh://root@10.0.0.11", "groups": ["edge"], "labels": {"site": "ber", "rack": "a \"1\""}},
                {"context": "edge-2", "groups": ["edge", "eu"]},
                {"name": "lab", "connection": "lab", "engine": "sudo -n podman", "identity": "/k"}]}"#,
            "f.json",
        )
        .unwrap();
        let toml = parse(
            &base(),
            r#"# the edge boxes
[[hosts]]
name = "edge-1"            # comments anywhere
url = 'ssh://root@10.0.0.11'
groups = [
  "edge",
]
labels = { site = "ber", rack = "a \"1\"" }

[[hosts]]
context = "edge-2"
groups = ["edge", "eu"]

[[hosts]]
name = "lab"
connection = "lab"
engine = "sudo -n podman"
identity = "/k"
"#,
            "f.toml",
        )
        .unwrap();
        assert_eq!(shape(&toml), shape(&json));
        assert_eq!(
            shape(&toml)[1],
            r#"edge-2 | docker --context edge-2 | ["edge", "eu"] | {}"#
        );
        // Labels as a sub-table of the host, and a file named otherwise.
        let sub = parse(
            &base(),
            "[[hosts]]\nurl = \"ssh://root@10.0.0.11\"\n[hosts.labels]\nsite = \"ber\"\n",
            "/etc/dockhand/fleet",
        )
        .unwrap();
        assert_eq!(sub.members()[0].labels["site"], "ber");
    }

    #[test]
    fn bad_toml_names_the_key_or_problem_and_line() {
        for (text, want, line) in [
            // A typo in a key: the key's own line, not its table's.
            (
                "[[hosts]]\nurl = \"ssh://a\"\n\n[[hosts]]\nurl = \"ssh://b\"\ngroup = [\"x\"]\n",
                "unknown field `group`",
                6,
            ),
            (
                "[[hosts]]\nurl = \"ssh://a\"\n[fleet]\nx = 1\n",
                "unknown field `fleet`",
                3,
            ),
            (
                "[[hosts]]\nurl = \"ssh://a\"\n\"urll\" = \"x\"\n",
                "unknown field `urll`",
                3,
            ),
            // Wrong types, dates, syntax errors, a key given twice.
            (
                "[[hosts]]\nurl = \"ssh://a\"\nlabels = { site = 1 }\n",
                "invalid type: integer `1`",
                3,
            ),
            (
                "[[hosts]]\nurl = \"ssh://a\"\ngroups = \"edge\"\n",
                "invalid type",
                3,
            ),
            (
                "[[hosts]]\nurl = \"ssh://a\"\nname = 1979-05-27\n",
                "invalid number",
                3,
            ),
            (
                "[[hosts]]\nurl = \"ssh://a\"\nname = \"a\n",
                "newline in string",
                3,
            ),
            (
                "[[hosts]]\nurl = \"ssh://a\"\nurl = \"ssh://b\"\n",
                "duplicate key",
                3,
            ),
            ("hosts = 1\n", "invalid type", 1),
        ] {
            let e = parse(&base(), text, "f.toml").unwrap_err();
            assert!(
                e.message().contains(want)
                    && e.message().starts_with("fleet file f.toml: ")
                    && e.message().contains(&format!(" at line {line}")),
                "{text:?}: {e}"
            );
        }
        assert!(parse(&base(), "", "f.toml")
            .unwrap_err()
            .message()
            .contains("missing field `hosts`"));
        assert!(parse(&base(), "hosts = []\n", "f.toml")
            .unwrap_err()
            .message()
            .contains("no hosts"));
    }

    #[test]
    fn the_syntax_follows_the_name_then_the_text() {
        for (origin, text, want) in [
            ("f.toml", "{", Syntax::Toml),
            ("F.JSON", "[[hosts]]", Syntax::Json),
            ("-", "\n  {\"hosts\": []}", Syntax::Json),
            ("-", "[[hosts]]", Syntax::Toml),
            ("fleet", "# {\n", Syntax::Toml),
        ] {
            assert_eq!(Syntax::of(origin, text), want, "{origin} {text:?}");
        }
    }
}

//! The processes of a running container (`top`).
//!
//! docker runs the host's `ps -ef` over the container's processes (host PIDs,
//! `UID PID PPID C STIME TTY TIME CMD`, options are `ps -o` words); podman
//! reads them itself (PIDs inside the container, `USER PID PPID %CPU ELAPSED
//! TTY TIME COMMAND`, options are descriptors such as `pid user args`). Both
//! print space-aligned columns whose last one (the command) has spaces, so a
//! row is the first n−1 words and the rest.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::Containers;
use crate::engine::plan::Plan;
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, Result};
use crate::input::{ContainerRef, TopField};

/// The processes of one container. In JSON: `{"container", "pid_namespace",
/// "titles", "processes": [{TITLE: VALUE, …}, …]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Processes {
    /// The container as the caller named it.
    pub container: String,
    /// Whose PIDs the `PID` column shows: `host` (docker) or `container` (podman).
    pub pid_namespace: &'static str,
    /// The column titles: the engine's, or the asked fields' names.
    pub titles: Vec<String>,
    /// One row per process, a value per title.
    pub processes: Vec<Vec<String>>,
}

impl Processes {
    /// The values of one column, by title.
    ///
    /// ```
    /// # let text = std::fs::read_to_string("vendor-docs/captures/podman/top-running.txt").unwrap();
    /// let p = dockhand::container::parse_top("web", dockhand::EngineKind::Podman, &text, &[]).unwrap();
    /// assert_eq!(p.column("PID").unwrap(), ["1", "1458"]);
    /// ```
    pub fn column(&self, title: &str) -> Option<Vec<&str>> {
        let i = self.titles.iter().position(|t| t == title)?;
        Some(
            self.processes
                .iter()
                .map(|row| row.get(i).map_or("", String::as_str))
                .collect(),
        )
    }
}

/// One process as an object keyed by title.
struct Row<'a>(&'a [String], &'a [String]);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (title, value) in self.0.iter().zip(self.1) {
            map.serialize_entry(title, value)?;
        }
        map.end()
    }
}

impl Serialize for Processes {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("container", &self.container)?;
        map.serialize_entry("pid_namespace", self.pid_namespace)?;
        map.serialize_entry("titles", &self.titles)?;
        let rows: Vec<Row<'_>> = self
            .processes
            .iter()
            .map(|r| Row(&self.titles, r))
            .collect();
        map.serialize_entry("processes", &rows)?;
        map.end()
    }
}

/// `top NAME`, with the asked fields when there are any (docker: `-o
/// pid,user,args`; podman: the descriptors `pid user args`). `pid` is put
/// first when missing (docker needs it to tell the container's processes),
/// and `comm` and `args` last: they may contain spaces, so only the last
/// column can hold them.
///
/// ```
/// use dockhand::{container::top_plan, input::{ContainerRef, TopField}, EngineKind};
/// let web = ContainerRef::new("web").unwrap();
/// let fields = TopField::list("args,user").unwrap();
/// assert_eq!(top_plan(EngineKind::Docker, &web, &fields).args(), ["top", "--", "web", "-o", "pid,user,args"]);
/// assert_eq!(top_plan(EngineKind::Podman, &web, &fields).args(), ["top", "--", "web", "pid", "user", "args"]);
/// ```
pub fn top_plan(kind: EngineKind, target: &ContainerRef, fields: &[TopField]) -> Plan<Processes> {
    let mut fields = fields.to_vec();
    if !fields.is_empty() && !fields.contains(&TopField::Pid) {
        fields.insert(0, TopField::Pid);
    }
    let spaced = |f: &TopField| match f {
        TopField::Comm => 1,
        TopField::Args => 2,
        _ => 0,
    };
    fields.sort_by_key(spaced);
    let names: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
    let options: Vec<String> = match (kind, names.is_empty()) {
        (_, true) => Vec::new(),
        (EngineKind::Podman, false) => names.iter().map(|n| n.to_string()).collect(),
        (_, false) => vec!["-o".into(), names.join(",")],
    };
    let args = Argv::new("top")
        .operands(std::iter::once(target.as_str()).chain(options.iter().map(String::as_str)));
    let container = target.to_string();
    Plan::read(args, move |out| {
        parse_top(&container, kind, &out.stdout_text(), &fields)
    })
}

/// Parse `top` output: a header line of titles, then one row per process,
/// the last column taking the rest of the line. With `fields`, the titles
/// are the fields' names (the engines title `args` and `comm` both `COMMAND`).
///
/// ```
/// # let text = std::fs::read_to_string("vendor-docs/captures/docker/top-running.txt").unwrap();
/// let p = dockhand::container::parse_top("web", dockhand::EngineKind::Docker, &text, &[]).unwrap();
/// assert_eq!(p.titles, ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
/// assert_eq!(p.processes[1][7], "sh -c while :; do sleep 0.5; done");
/// ```
pub fn parse_top(
    container: &str,
    kind: EngineKind,
    text: &str,
    fields: &[TopField],
) -> Result<Processes> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Err(Error::parse("top printed no header", text.as_bytes()));
    };
    let engine_titles: Vec<&str> = header.split_whitespace().collect();
    let titles: Vec<String> = match fields.len() == engine_titles.len() {
        true => fields.iter().map(|f| f.as_str().to_string()).collect(),
        false if fields.is_empty() => engine_titles.iter().map(|t| t.to_string()).collect(),
        false => {
            return Err(Error::parse(
                format!(
                    "top printed {} columns for {} fields",
                    engine_titles.len(),
                    fields.len()
                ),
                text.as_bytes(),
            ))
        }
    };
    let processes = lines.map(|line| split_row(line, titles.len())).collect();
    Ok(Processes {
        container: container.to_string(),
        pid_namespace: match kind {
            EngineKind::Podman => "container",
            _ => "host",
        },
        titles,
        processes,
    })
}

/// The first `n - 1` words of `line` and the (trimmed) rest.
fn split_row(line: &str, n: usize) -> Vec<String> {
    let mut row = Vec::with_capacity(n);
    let mut rest = line.trim();
    while row.len() + 1 < n {
        match rest.split_once(char::is_whitespace) {
            Some((word, tail)) => {
                row.push(word.to_string());
                rest = tail.trim_start();
            }
            None => break,
        }
    }
    row.push(rest.trim_end().to_string());
    row
}

impl Containers<'_> {
    /// The processes of a running container (Conflict when it does not run,
    /// NotFound when it does not exist); `fields` picks the columns.
    ///
    /// ```no_run
    /// use dockhand::{input::{ContainerRef, TopField}, Engine};
    /// let p = Engine::detect()?.containers().top(&ContainerRef::new("web")?, &TopField::list("pid,args")?)?;
    /// for args in p.column("args").unwrap_or_default() { println!("{args}"); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn top(&self, target: &ContainerRef, fields: &[TopField]) -> Result<Processes> {
        self.engine
            .run(top_plan(self.engine.kind(), target, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::capture;

    fn text(slug: &str) -> String {
        String::from_utf8(capture(slug)).unwrap()
    }

    #[test]
    fn default_columns_of_both_engines() {
        let podman = parse_top(
            "w",
            EngineKind::Podman,
            &text("podman/top-running.txt"),
            &[],
        )
        .unwrap();
        assert_eq!(podman.titles.len(), 8);
        assert_eq!(podman.processes[0][7], "sh -c while :; do sleep 0.5; done");
        assert_eq!(podman.pid_namespace, "container");
        let docker = parse_top(
            "w",
            EngineKind::Docker,
            &text("docker/top-running.txt"),
            &[],
        )
        .unwrap();
        assert_eq!(docker.column("CMD").unwrap()[0], "sleep 0.5");
        assert_eq!(docker.pid_namespace, "host");
    }

    #[test]
    fn asked_fields_title_the_columns_on_both_engines() {
        let fields = TopField::list("pid,user,args").unwrap();
        for slug in ["docker/top-ps-options.txt", "podman/top-ps-options.txt"] {
            let p = parse_top("w", EngineKind::Docker, &text(slug), &fields).unwrap();
            assert_eq!(p.titles, ["pid", "user", "args"], "{slug}");
            assert!(p.column("args").unwrap().contains(&"sleep 0.5"), "{slug}");
            let json = serde_json::to_value(&p).unwrap();
            assert_eq!(json["processes"][0]["user"], "root", "{slug}");
        }
        let e = parse_top("w", EngineKind::Docker, "PID\n1\n", &fields).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Parse);
        assert!(parse_top("w", EngineKind::Docker, "", &[]).is_err());
    }

    #[test]
    fn rows_with_fewer_words_than_titles_do_not_panic() {
        assert_eq!(split_row("  1  ", 3), ["1"]);
        assert_eq!(split_row("a b c d", 2), ["a", "b c d"]);
    }
}

//! `ps` from ONE engine call: the fields of the engine's own listing, typed.
//!
//! The full [`Container`](crate::container::Container) needs an `inspect`
//! after the `ps` (two calls, [`Containers::list`]); most listings need
//! less. The engines' listings differ (`vendor-docs/run-flags.md`, "ps"):
//!
//! | field | docker (custom template, `--no-trunc`) | podman (`--format json`) | [`PsRow`] |
//! |---|---|---|---|
//! | request | a template naming the fields: `{{json .}}` would make the daemon compute every container's size | one typed array | |
//! | `name` | `Names`, comma-joined with link aliases | `Names` array | the first name that is no link alias |
//! | `created` | `CreatedAt`, `2026-12-01 19:33:45 +0000 UTC` | `Created`, epoch seconds | epoch seconds |
//! | `ports` | text `0.0.0.0:19000->9000/tcp, [::]:…` (20.10: `:::`), only while a process runs | typed, ranges as one entry, **also pre-allocated ones** of stopped containers | actual bindings; podman's pre-allocated ones in `assigned_ports` |
//! | `exit_code` | only in `Status` text: `Exited (3) 2 minutes ago` | `ExitCode` | exited containers only |
//! | `health` | in `Status`: `(healthy)`, `(health: starting)` | same | parsed from the status text |
//! | `labels` | a `k=v,k=v` string that commas in values make ambiguous: not read | a map | podman: the map; docker: `None` (the labels asked for with `--label` are checked through `{{.Label "k"}}`) |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{HealthStatus, PortBinding, Status};
use super::query::PsQuery;
use super::Containers;
use crate::decode::json::{lenient_string, null_default, parse_json, parse_json_list};
use crate::decode::time::Timestamp;
use crate::engine::plan::Plan;
use crate::engine::{Argv, EngineKind};
use crate::error::Result;
use crate::input::Protocol;

/// One container as the engine's listing shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PsRow {
    /// Full id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Image reference as listed.
    pub image: String,
    /// The state.
    pub status: Status,
    /// The engine's human status: `Up 2 minutes (healthy)`, `Exited (3) 5 seconds ago`.
    pub status_text: String,
    /// Creation time, seconds since the epoch (`None` if unreadable).
    pub created: Option<i64>,
    /// The command, as display text (quoted by docker).
    pub command: String,
    /// Actual host bindings (only while the container has a process).
    #[serde(default)]
    pub ports: Vec<PortBinding>,
    /// Host ports the engine lists for a container without a process
    /// (podman's pre-allocated ones; see `Container::assigned_ports`).
    #[serde(default)]
    pub assigned_ports: Vec<PortBinding>,
    /// Names of the networks it is on.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Exit code of an exited container.
    pub exit_code: Option<i64>,
    /// Health, when it has a healthcheck.
    pub health: Option<HealthStatus>,
    /// All labels (podman); `None` on docker, whose listing cannot carry them
    /// faithfully: use `ps --inspect` or [`Containers::list`].
    pub labels: Option<BTreeMap<String, String>>,
}

/// The docker template: JSON with the fields [`PsRow`] reads, plus one
/// `.Label` lookup per label of the query (`L0`, `L1` …), never `{{json .}}`.
fn docker_template(labels: &[crate::input::KeyValue]) -> String {
    let mut t = String::from(
        r#"{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"State":{{json .State}},"Status":{{json .Status}},"CreatedAt":{{json .CreatedAt}},"Ports":{{json .Ports}},"Networks":{{json .Networks}},"Command":{{json .Command}}"#,
    );
    for (i, l) in labels.iter().enumerate() {
        // A JSON string is a valid Go template string literal.
        let key = serde_json::Value::String(l.key().to_string());
        t.push_str(&format!(r#","L{i}":{{{{json (.Label {key})}}}}"#));
    }
    t.push('}');
    t
}

/// `ps --no-trunc` with the query's filters and a format each engine answers
/// in one call without computing sizes; rows newest first, label filters
/// checked again (docker through `{{.Label}}`, podman on its label map).
///
/// ```
/// use dockhand::container::{ps_plan, PsQuery};
/// use dockhand::EngineKind;
/// let plan = ps_plan(EngineKind::Podman, &PsQuery { all: true, ..PsQuery::default() });
/// assert_eq!(plan.args(), ["ps", "--no-trunc", "-a", "--format=json"]);
/// let docker = ps_plan(EngineKind::Docker, &PsQuery::default());
/// assert!(docker.args()[2].to_str().unwrap().starts_with(r#"--format={"ID":{{json .ID}}"#));
/// ```
pub fn ps_plan(kind: EngineKind, query: &PsQuery) -> Plan<Vec<PsRow>> {
    let format = match kind {
        EngineKind::Podman => "json".to_string(),
        _ => docker_template(&query.labels),
    };
    let args = Argv::new("ps")
        .arg("--no-trunc")
        .flag_if("-a", query.all)
        .each("--filter", &query.filters)
        .each(
            "--filter",
            query.labels.iter().map(|l| format!("label={l}")),
        )
        .opt("--format", Some(format));
    let labels = query.labels.clone();
    Plan::read(args, move |out| {
        let mut rows = match kind {
            EngineKind::Podman => parse_podman_ps(&out.stdout)?,
            _ => parse_docker_ps(&out.stdout, &labels)?,
        };
        rows.retain(|r| {
            r.labels.as_ref().is_none_or(|have| {
                labels
                    .iter()
                    .all(|l| have.get(l.key()).map(String::as_str) == Some(l.value()))
            })
        });
        // docker lists newest first, podman oldest first: settle on newest.
        rows.sort_by_key(|r| std::cmp::Reverse(r.created));
        Ok(rows)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerRow {
    #[serde(rename = "ID", default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    names: String,
    #[serde(default, deserialize_with = "lenient_string")]
    image: String,
    #[serde(default, deserialize_with = "lenient_string")]
    state: String,
    #[serde(default, deserialize_with = "lenient_string")]
    status: String,
    #[serde(default, deserialize_with = "lenient_string")]
    created_at: String,
    #[serde(default, deserialize_with = "lenient_string")]
    ports: String,
    #[serde(default, deserialize_with = "lenient_string")]
    networks: String,
    #[serde(default, deserialize_with = "lenient_string")]
    command: String,
    /// `L0`, `L1` …: the values of the query's labels.
    #[serde(flatten)]
    asked: BTreeMap<String, serde_json::Value>,
}

/// Rows of docker's ps template; rows whose asked-for labels differ from the
/// query's values are dropped.
fn parse_docker_ps(bytes: &[u8], labels: &[crate::input::KeyValue]) -> Result<Vec<PsRow>> {
    let rows: Vec<DockerRow> = parse_json_list(bytes)?;
    Ok(rows
        .into_iter()
        .filter(|r| {
            labels.iter().enumerate().all(|(i, l)| {
                r.asked.get(&format!("L{i}")).and_then(|v| v.as_str()) == Some(l.value())
            })
        })
        .map(|r| {
            let status = Status::from_engine(&r.state);
            PsRow {
                name: first_name(r.names.split(',')),
                created: docker_time(&r.created_at),
                exit_code: exit_code_in(&r.status).filter(|_| status.is_stopped()),
                health: health_in(&r.status),
                ports: docker_ports(&r.ports),
                assigned_ports: Vec::new(),
                networks: r
                    .networks
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .collect(),
                id: r.id,
                image: r.image,
                status,
                status_text: r.status,
                command: r.command,
                labels: None,
            }
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PodmanRow {
    #[serde(default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(default, deserialize_with = "null_default")]
    names: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    image: String,
    #[serde(default, deserialize_with = "lenient_string")]
    state: String,
    #[serde(default, deserialize_with = "lenient_string")]
    status: String,
    #[serde(default, deserialize_with = "null_default")]
    created: i64,
    #[serde(default, deserialize_with = "null_default")]
    ports: Vec<PodmanPort>,
    #[serde(default, deserialize_with = "null_default")]
    networks: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    command: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    exit_code: i64,
    #[serde(default, deserialize_with = "null_default")]
    pid: i64,
    #[serde(default, deserialize_with = "null_default")]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PodmanPort {
    #[serde(default, deserialize_with = "lenient_string")]
    host_ip: String,
    #[serde(default, deserialize_with = "null_default")]
    container_port: u16,
    #[serde(default, deserialize_with = "null_default")]
    host_port: u16,
    #[serde(default, deserialize_with = "null_default")]
    range: u16,
    #[serde(default, deserialize_with = "lenient_string")]
    protocol: String,
}

fn parse_podman_ps(bytes: &[u8]) -> Result<Vec<PsRow>> {
    let trimmed = bytes.trim_ascii();
    let rows: Vec<PodmanRow> = match trimmed.is_empty() || trimmed == b"null" {
        true => Vec::new(),
        false => parse_json(trimmed)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = Status::from_engine(&r.state);
            let mut bindings: Vec<PortBinding> = r
                .ports
                .iter()
                .flat_map(|p| {
                    (0..p.range.max(1)).filter_map(move |i| {
                        Some(PortBinding {
                            container_port: p.container_port.checked_add(i)?,
                            protocol: Protocol::from_engine(&p.protocol),
                            host_ip: match p.host_ip.as_str() {
                                "" => "0.0.0.0".into(),
                                ip => ip.into(),
                            },
                            host_port: p.host_port.checked_add(i)?,
                        })
                    })
                })
                .filter(|b| b.host_port != 0)
                .collect();
            bindings.sort_by(|a, b| {
                (a.container_port, a.protocol, &a.host_ip).cmp(&(
                    b.container_port,
                    b.protocol,
                    &b.host_ip,
                ))
            });
            // As in inspect: podman lists the ports it assigned in every state.
            let (ports, assigned_ports) = match r.pid {
                0 => (Vec::new(), bindings),
                _ => (bindings, Vec::new()),
            };
            PsRow {
                name: first_name(r.names.iter().map(String::as_str)),
                created: (r.created > 0).then_some(r.created),
                exit_code: status.is_stopped().then_some(r.exit_code),
                health: health_in(&r.status),
                ports,
                assigned_ports,
                networks: r.networks,
                command: r.command.join(" "),
                id: r.id,
                image: r.image,
                status,
                status_text: r.status,
                labels: Some(r.labels),
            }
        })
        .collect())
}

/// The container's own name: the first that is no `other/alias` link name.
fn first_name<'a>(mut names: impl Iterator<Item = &'a str>) -> String {
    names
        .find(|n| !n.contains('/') && !n.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// docker's `CreatedAt` (`2026-12-01 19:33:45 +0000 UTC`) in epoch seconds.
fn docker_time(text: &str) -> Option<i64> {
    let mut words = text.split_whitespace();
    let (date, time, offset) = (words.next()?, words.next()?, words.next()?);
    let offset = match offset.len() {
        5 if offset.is_char_boundary(3) => format!("{}:{}", &offset[..3], &offset[3..]),
        _ => offset.to_string(),
    };
    Timestamp::parse_rfc3339(&format!("{date}T{time}{offset}")).map(|t| t.unix_secs())
}

/// The code in `Exited (3) 2 minutes ago`.
fn exit_code_in(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest.split_once(')')?.0.trim().parse().ok()
}

/// The health in a status text: `(healthy)`, `(unhealthy)`, `(health: starting)`, `(starting)`.
fn health_in(status: &str) -> Option<HealthStatus> {
    let (_, rest) = status.rsplit_once('(')?;
    match rest.trim_end_matches(')').trim() {
        "healthy" => Some(HealthStatus::Healthy),
        "unhealthy" => Some(HealthStatus::Unhealthy),
        "health: starting" | "starting" => Some(HealthStatus::Starting),
        _ => None,
    }
}

/// docker's ports text: `0.0.0.0:19000->9000/tcp, [::]:19000->9000/tcp`
/// (20.10: `:::19000->…`), ranges as `…:19000-19002->9000-9002/tcp`;
/// entries without `->` are exposed but unpublished ports.
fn docker_ports(text: &str) -> Vec<PortBinding> {
    let mut out: Vec<PortBinding> = text
        .split(", ")
        .filter_map(|entry| {
            let (host, inside) = entry.trim().split_once("->")?;
            let (ip, host_ports) = host.rsplit_once(':')?;
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            let (inside_ports, proto) = inside.split_once('/').unwrap_or((inside, "tcp"));
            let range = |r: &str| -> Option<(u16, u16)> {
                match r.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => {
                        let p = r.parse().ok()?;
                        Some((p, p))
                    }
                }
            };
            let (h0, h1) = range(host_ports)?;
            let (c0, c1) = range(inside_ports)?;
            if h1 < h0 || c1 < c0 || h1 - h0 != c1 - c0 {
                return None;
            }
            let protocol = Protocol::from_engine(proto);
            let host_ip = match ip {
                "" => "0.0.0.0".to_string(),
                ip => ip.to_string(),
            };
            Some(
                (0..=(c1 - c0))
                    .map(move |i| PortBinding {
                        container_port: c0 + i,
                        protocol,
                        host_ip: host_ip.clone(),
                        host_port: h0 + i,
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    out.sort_by(|a, b| {
        (a.container_port, a.protocol, &a.host_ip).cmp(&(b.container_port, b.protocol, &b.host_ip))
    });
    out.dedup();
    out
}

impl Containers<'_> {
    /// The containers matching a query as the engine lists them: one engine
    /// call, newest first ([`PsRow`]). For the full typed view use
    /// [`Containers::list`] (one more call).
    ///
    /// ```no_run
    /// use dockhand::{container::PsQuery, Engine};
    /// for row in Engine::detect()?.containers().ps(&PsQuery { all: true, ..PsQuery::default() })? {
    ///     println!("{} {} {:?}", row.name, row.status.as_str(), row.exit_code);
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn ps(&self, query: &PsQuery) -> Result<Vec<PsRow>> {
        self.engine.run(ps_plan(self.engine.kind(), query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::parse_inspect;
    use crate::input::KeyValue;
    use crate::testing::{capture, replay_ok};

    #[test]
    fn docker_rows_from_the_json_lines_of_both_clients() {
        for slug in [
            "ps-flags-json-lines-no-trunc.txt",
            "ps-flags-json-lines-client20.txt",
        ] {
            let rows = parse_docker_ps(&capture(&format!("docker/{slug}")), &[]).unwrap();
            assert!(rows.len() >= 6, "{slug}");
            let net = rows.iter().find(|r| r.name == "dhf-net").unwrap();
            assert_eq!(net.status, Status::Running);
            assert!(net.created.is_some(), "{slug}");
            let range: Vec<u16> = net
                .ports
                .iter()
                .filter(|p| (9000..=9002).contains(&p.container_port) && p.host_ip == "0.0.0.0")
                .map(|p| p.host_port)
                .collect();
            assert_eq!(range, [19000, 19001, 19002], "{slug}");
            assert!(
                net.ports.iter().any(|p| p.host_ip == "::"),
                "{slug}: the IPv6 twin"
            );
            assert!(net
                .ports
                .iter()
                .any(|p| p.protocol == Protocol::Udp && p.container_port == 53));
            assert_eq!(net.networks, ["dhf-net1"]);
            assert!(net.labels.is_none(), "docker's labels string is not read");
            let exited = rows.iter().find(|r| r.name == "dhf-ps-exited").unwrap();
            assert_eq!(exited.status, Status::Exited);
            assert!(exited.exit_code.is_some());
            let created = rows.iter().find(|r| r.name == "dhf-ps-created").unwrap();
            assert!(created.ports.is_empty() && created.exit_code.is_none());
        }
    }

    #[test]
    fn podman_rows_keep_labels_and_move_preallocated_ports_aside() {
        let rows = parse_podman_ps(&capture("podman/ps-flags-all.json")).unwrap();
        let net = rows.iter().find(|r| r.name == "dhf-net").unwrap();
        let range: Vec<u16> = net
            .ports
            .iter()
            .filter(|p| (9000..=9002).contains(&p.container_port))
            .map(|p| p.host_port)
            .collect();
        assert_eq!(
            range,
            [19100, 19101, 19102],
            "a range is one entry with range: 3"
        );
        let created = rows.iter().find(|r| r.name == "dhf-ps-created").unwrap();
        assert!(created.ports.is_empty());
        assert_eq!(
            created.assigned_ports.len(),
            2,
            "pre-allocated, nothing listens"
        );
        assert!(created.exit_code.is_none());
        let labels = rows.iter().find(|r| r.name == "dhf-ps-labels").unwrap();
        assert_eq!(labels.labels.as_ref().unwrap()["dhf.note"], "a,b=c");
    }

    #[test]
    fn the_same_answers_as_inspect_for_the_prealloc_life_cycle() {
        for state in ["created", "running", "exited", "restarted", "exited-again"] {
            let slug = format!("podman/ps-prealloc-{state}.json");
            let rows = parse_podman_ps(&capture(&slug)).unwrap();
            let c =
                &parse_inspect(&capture(&format!("podman/inspect-ports-{state}.json"))).unwrap()[0];
            let row = rows.iter().find(|r| r.id == c.id).unwrap();
            assert_eq!(row.ports, c.ports, "{state}");
            assert_eq!(row.assigned_ports, c.assigned_ports, "{state}");
        }
    }

    #[test]
    fn docker_template_checks_the_asked_labels() {
        let labels = vec![KeyValue::new("label", "app=web").unwrap()];
        let t = docker_template(&labels);
        assert!(t.ends_with(r#","L0":{{json (.Label "app")}}}"#), "{t}");
        assert!(!t.contains("{{json .}}"));
        let lines = concat!(
            r#"{"ID":"a","Names":"web","State":"running","Status":"Up 1 second (healthy)","CreatedAt":"2026-12-01 19:33:45 +0000 UTC","Ports":"","Networks":"bridge","Command":"\"sh\"","L0":"web"}"#,
            "\n",
            r#"{"ID":"b","Names":"other","State":"exited","Status":"Exited (3) 1 second ago","CreatedAt":"2026-12-01 19:33:46 +0000 UTC","Ports":"","Networks":"","Command":"","L0":"web,x=y"}"#,
            "\n",
        );
        let plan = ps_plan(
            EngineKind::Docker,
            &PsQuery {
                labels,
                ..PsQuery::default()
            },
        );
        let rows = replay_ok(EngineKind::Docker, plan, lines.as_bytes()).unwrap();
        assert_eq!(
            rows.len(),
            1,
            "the comma in b's value does not fool the check"
        );
        assert_eq!(rows[0].health, Some(HealthStatus::Healthy));
        assert_eq!(rows[0].created, Some(1_796_153_625));
    }

    #[test]
    fn dockhands_own_requests_on_both_engines() {
        use crate::input::KeyValue;
        let query = PsQuery {
            all: true,
            labels: vec![KeyValue::new("label", "dockhand.test=vendor-docs").unwrap()],
            ..PsQuery::default()
        };
        for (kind, slug) in [
            (EngineKind::Docker, "docker/vb-ps-template.stdout.txt"),
            (
                EngineKind::Docker,
                "docker/vb-ps-template-client20.stdout.txt",
            ),
            (EngineKind::Podman, "podman/vb-ps-template.stdout.txt"),
        ] {
            let rows = replay_ok(kind, ps_plan(kind, &query), &capture(slug)).unwrap();
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(names.len(), 3, "{slug}: {names:?}");
            let run = rows.iter().find(|r| r.name == "dh-vb-cap-run").unwrap();
            assert_eq!(run.status, Status::Running);
            let bound: Vec<(u16, &str)> = run
                .ports
                .iter()
                .map(|p| (p.container_port, p.host_ip.as_str()))
                .collect();
            assert!(bound.contains(&(80, "127.0.0.1")), "{slug}: {bound:?}");
            assert!(
                bound.contains(&(9001, "0.0.0.0")),
                "{slug}: the range's second port"
            );
            let exited = rows.iter().find(|r| r.name == "dh-vb-cap-exited").unwrap();
            assert_eq!(exited.exit_code, Some(3), "{slug}");
            let created = rows.iter().find(|r| r.name == "dh-vb-cap-created").unwrap();
            assert!(created.ports.is_empty(), "{slug}: nothing listens");
            assert_eq!(created.exit_code, None);
            match kind {
                EngineKind::Podman => {
                    assert_eq!(created.assigned_ports.len(), 1);
                    assert_eq!(run.labels.as_ref().unwrap()["dhc.note"], "a,b=c");
                }
                _ => assert!(run.labels.is_none()),
            }
            assert!(
                rows.windows(2).all(|w| w[0].created >= w[1].created),
                "{slug}: newest first"
            );
        }
    }

    #[test]
    fn status_texts_and_port_texts() {
        assert_eq!(exit_code_in("Exited (137) 3 minutes ago"), Some(137));
        assert_eq!(exit_code_in("Up 3 minutes"), None);
        assert_eq!(
            health_in("Up 3 minutes (health: starting)"),
            Some(HealthStatus::Starting)
        );
        assert_eq!(
            health_in("Up 3 minutes (unhealthy)"),
            Some(HealthStatus::Unhealthy)
        );
        assert_eq!(health_in("Up 3 minutes (Paused)"), None);
        let p =
            docker_ports(":::19000->9000/tcp, 0.0.0.0:19000-19001->9000-9001/udp, 80/tcp, junk->x");
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().any(|b| b.host_ip == "::" && b.host_port == 19000));
        assert!(docker_ports("0.0.0.0:9-1->1-9/tcp").is_empty());
        assert_eq!(
            docker_time("2026-12-01 19:33:45 +0000 UTC"),
            Some(1_796_153_625)
        );
        assert_eq!(docker_time("About a minute ago"), None);
    }
}

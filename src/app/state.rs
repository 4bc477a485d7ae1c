//! What exists of a project, read in ONE engine call.
//!
//! `ps -a --filter label=com.docker.compose.project=P` finds every container
//! of the project — dockhand's, docker-compose's, podman-compose's, stopped
//! ones, orphans, and old containers set aside by an interrupted update —
//! whatever their names. It prints only what `up` and `ps` decide on:
//!
//! * docker: a template naming each field and each label with
//!   `{{.Label "…"}}` (never `{{json .}}`, which makes both CLIs compute
//!   container sizes, and whose `Labels` string cannot be split back;
//!   vendor-docs/run-flags.md, "ps"). Its `Image` is the reference the
//!   container was created with as long as that still names the same image,
//!   else the image id: a rebuilt or re-tagged image shows without another
//!   call;
//! * podman: `--format json` (labels as a map, `ImageID`, `ExitCode`).
//!
//! The labels are read as the contract says (vendor-docs/compose.md):
//! `oneoff` missing counts as `False`, `io.podman.compose.service` is the
//! fallback for the service, image labels are ignored by reading only the
//! keys dockhand needs.

use serde::{Deserialize, Serialize};

use crate::container::{HealthStatus, Status};
use crate::decode::json::parse_json;
use crate::engine::plan::Plan;
use crate::engine::{Argv, EngineKind};
use crate::error::Result;

/// The compose labels dockhand writes and reads.
pub mod labels {
    /// The project.
    pub const PROJECT: &str = "com.docker.compose.project";
    /// The service.
    pub const SERVICE: &str = "com.docker.compose.service";
    /// The container's number within its service.
    pub const NUMBER: &str = "com.docker.compose.container-number";
    /// `True` for `run` containers.
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
    /// The config hash.
    pub const HASH: &str = "com.docker.compose.config-hash";
    /// The project directory.
    pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
    /// The files, `,`-joined.
    pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
    /// The writer's version (numeric: docker-compose 1.29 compares it).
    pub const VERSION: &str = "com.docker.compose.version";
    /// A network's key in the file.
    pub const NETWORK: &str = "com.docker.compose.network";
    /// A volume's key in the file.
    pub const VOLUME: &str = "com.docker.compose.volume";
    /// podman-compose's project label (its `ps` finds containers by it).
    pub const PODMAN_PROJECT: &str = "io.podman.compose.project";
    /// podman-compose's service label.
    pub const PODMAN_SERVICE: &str = "io.podman.compose.service";
    /// dockhand: the host interfaces of the container (JSON), so a rollback
    /// can plumb them again into the old container.
    pub const INTERFACES: &str = "dockhand.app.interfaces";
}

/// The labels the state read asks for, in order.
const READ_LABELS: [&str; 6] = [
    labels::SERVICE,
    labels::NUMBER,
    labels::ONEOFF,
    labels::HASH,
    labels::PODMAN_SERVICE,
    labels::INTERFACES,
];

/// A container of the project, as the one `ps` call shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppContainer {
    /// Full id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The service (label), empty when none.
    pub service: String,
    /// Container number (1 when the label is missing).
    pub number: u32,
    /// A `run` container (not part of the app's services).
    pub oneoff: bool,
    /// The config hash label.
    pub config_hash: Option<String>,
    /// docker: the reference it was created with, or the image id when that
    /// reference now names another image; podman: the reference.
    pub image: String,
    /// podman: the image id.
    pub image_id: Option<String>,
    /// State.
    pub status: Status,
    /// The engine's human status (`Up 3 minutes (healthy)`).
    pub status_text: String,
    /// Exit code of an exited container.
    pub exit_code: Option<i64>,
    /// Health, when it has a healthcheck.
    pub health: Option<HealthStatus>,
    /// Published ports as the engine lists them (`127.0.0.1:32768->80/tcp, …`).
    pub ports: String,
    /// The host interfaces dockhand plumbed into it (label, JSON).
    #[serde(skip)]
    pub interfaces: Option<String>,
}

impl AppContainer {
    /// Whether this container was set aside by an update (`<12 hex>_NAME`,
    /// docker-compose v1's convention) rather than being the service's own.
    pub fn is_aside(&self) -> bool {
        aside_of(&self.name).is_some()
    }
}

/// The name a container set aside during an update had: `3f2a…_web` → `web`.
///
/// ```
/// assert_eq!(dockhand::app::state::aside_of("0123456789ab_shop-web-1"), Some("shop-web-1"));
/// assert_eq!(dockhand::app::state::aside_of("shop-web-1"), None);
/// ```
pub fn aside_of(name: &str) -> Option<&str> {
    let (prefix, rest) = name.split_once('_')?;
    (prefix.len() == 12 && prefix.chars().all(|c| c.is_ascii_hexdigit()) && !rest.is_empty())
        .then_some(rest)
}

/// The name to set a container aside under.
pub fn aside_name(id: &str, name: &str) -> String {
    format!("{}_{name}", &id[..id.len().min(12)])
}

/// The one call that reads the project's containers.
///
/// ```
/// use dockhand::{app::state::state_plan, EngineKind};
/// let plan = state_plan(EngineKind::Podman, "shop");
/// assert_eq!(plan.args(), ["ps", "-a", "--filter=label=com.docker.compose.project=shop", "--format", "json"]);
/// ```
pub fn state_plan(kind: EngineKind, project: &str) -> Plan<Vec<AppContainer>> {
    let filter = format!("label={}={project}", labels::PROJECT);
    let args = Argv::new("ps").arg("-a").opt("--filter", Some(filter));
    match kind {
        EngineKind::Podman => Plan::read(args.args(["--format", "json"]), |out| {
            parse_podman(&out.stdout)
        }),
        _ => Plan::read(
            args.arg("--no-trunc")
                .arg("--format")
                .arg(docker_template()),
            |out| parse_docker(&out.stdout),
        ),
    }
}

fn docker_template() -> String {
    let labels: Vec<String> = READ_LABELS
        .iter()
        .map(|l| format!("{l:?}:{{{{json (.Label {l:?})}}}}"))
        .collect();
    format!(
        "{{\"ID\":{{{{json .ID}}}},\"Names\":{{{{json .Names}}}},\"Image\":{{{{json .Image}}}},\"State\":{{{{json .State}}}},\"Status\":{{{{json .Status}}}},\"Ports\":{{{{json .Ports}}}},\"Labels\":{{{}}}}}",
        labels.join(",")
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerRow {
    #[serde(rename = "ID")]
    id: String,
    names: String,
    #[serde(default)]
    image: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    ports: String,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PodmanRow {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(rename = "ImageID", default)]
    image_id: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    exit_code: i64,
    #[serde(default)]
    ports: Option<Vec<PodmanPort>>,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct PodmanPort {
    #[serde(default)]
    host_ip: String,
    #[serde(default)]
    container_port: u16,
    #[serde(default)]
    host_port: u16,
    #[serde(default)]
    range: u16,
    #[serde(default)]
    protocol: String,
}

/// podman's port list in docker's words (`127.0.0.1:41385->8080/tcp`).
fn podman_ports(ports: &[PodmanPort]) -> String {
    ports
        .iter()
        .flat_map(|p| {
            (0..p.range.max(1)).map(move |i| {
                let ip = if p.host_ip.is_empty() {
                    "0.0.0.0"
                } else {
                    p.host_ip.as_str()
                };
                format!(
                    "{ip}:{}->{}/{}",
                    p.host_port + i,
                    p.container_port + i,
                    p.protocol
                )
            })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// docker's JSON lines.
fn parse_docker(stdout: &[u8]) -> Result<Vec<AppContainer>> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let row: DockerRow = parse_json(line.as_bytes())?;
            let status = Status::from_engine(&row.state);
            let name = row.names.split(',').next().unwrap_or_default().to_string();
            let mut c = container(
                row.id,
                name,
                row.image,
                None,
                status,
                row.status,
                None,
                &row.labels,
            );
            c.ports = row.ports;
            Ok(c)
        })
        .collect()
}

fn parse_podman(stdout: &[u8]) -> Result<Vec<AppContainer>> {
    if stdout.trim_ascii().is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<PodmanRow> = parse_json(stdout)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let status = Status::from_engine(&row.state);
            let exit = status.is_stopped().then_some(row.exit_code);
            let name = row.names.into_iter().next().unwrap_or_default();
            let image_id = (!row.image_id.is_empty()).then_some(row.image_id);
            let mut c = container(
                row.id,
                name,
                row.image,
                image_id,
                status,
                row.status,
                exit,
                &row.labels.unwrap_or_default(),
            );
            // podman lists pre-allocated ports of stopped containers too.
            if c.status == Status::Running {
                c.ports = podman_ports(&row.ports.unwrap_or_default());
            }
            c
        })
        .collect())
}

#[allow(clippy::too_many_arguments)]
fn container(
    id: String,
    name: String,
    image: String,
    image_id: Option<String>,
    status: Status,
    status_text: String,
    exit_code: Option<i64>,
    labels: &std::collections::BTreeMap<String, String>,
) -> AppContainer {
    let get = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
    AppContainer {
        service: get(labels::SERVICE)
            .or_else(|| get(labels::PODMAN_SERVICE))
            .unwrap_or_default(),
        number: get(labels::NUMBER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        oneoff: get(labels::ONEOFF).is_some_and(|v| v.eq_ignore_ascii_case("true")),
        config_hash: get(labels::HASH),
        interfaces: get(labels::INTERFACES),
        exit_code: exit_code.or_else(|| {
            status
                .is_stopped()
                .then(|| exit_from_status(&status_text))
                .flatten()
        }),
        health: health_from_status(&status_text),
        ports: String::new(),
        id,
        name,
        image,
        image_id,
        status,
        status_text,
    }
}

/// `Exited (3) 2 minutes ago` → 3.
fn exit_from_status(text: &str) -> Option<i64> {
    let rest = text.strip_prefix("Exited (")?;
    rest.split_once(')')?.0.parse().ok()
}

/// `Up 3 seconds (healthy)`, `(unhealthy)`, `(health: starting)` / podman `(starting)`.
fn health_from_status(text: &str) -> Option<HealthStatus> {
    if text.contains("(healthy)") {
        Some(HealthStatus::Healthy)
    } else if text.contains("(unhealthy)") {
        Some(HealthStatus::Unhealthy)
    } else if text.contains("(health: starting)") || text.contains("(starting)") {
        Some(HealthStatus::Starting)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_rows_read_labels_exit_codes_and_health() {
        let line = br#"{"ID":"abc","Names":"shop-web-1","Image":"busybox","State":"exited","Status":"Exited (3) 2 seconds ago","Labels":{"com.docker.compose.service":"web","com.docker.compose.container-number":"","com.docker.compose.oneoff":"False","com.docker.compose.config-hash":"h","io.podman.compose.service":"","dockhand.app.interfaces":""}}"#;
        let c = &parse_docker(line).unwrap()[0];
        assert_eq!((c.service.as_str(), c.number, c.oneoff), ("web", 1, false));
        assert_eq!(
            (c.exit_code, c.config_hash.as_deref()),
            (Some(3), Some("h"))
        );
        assert_eq!(
            health_from_status("Up 1 second (health: starting)"),
            Some(HealthStatus::Starting)
        );
        assert!(docker_template().contains(
            r#""com.docker.compose.service":{{json (.Label "com.docker.compose.service")}}"#
        ));
    }

    #[test]
    fn podman_rows_fall_back_to_podman_compose_labels() {
        let doc = br#"[{"Id":"abc","Names":["x_web_1"],"Image":"localhost/b:1","ImageID":"ff","State":"running","Status":"Up","ExitCode":0,"Labels":{"io.podman.compose.service":"web"}}]"#;
        let c = &parse_podman(doc).unwrap()[0];
        assert_eq!(
            (c.service.as_str(), c.name.as_str(), c.image_id.as_deref()),
            ("web", "x_web_1", Some("ff"))
        );
        assert_eq!(c.exit_code, None);
        assert!(parse_podman(b"[]").unwrap().is_empty() && parse_podman(b"").unwrap().is_empty());
    }
}

//! One compose file, strictly: the spanned YAML tree (after interpolation)
//! to the typed model of the compose subset dockhand supports.
//!
//! Every key is known or refused. An unknown key, a key compose has but
//! dockhand does not support, a wrong type or a bad value is an
//! [`InvalidInput`](crate::ErrorKind::InvalidInput) error naming the file,
//! the line, the service and the key — never silently ignored. `x-` keys are
//! the only ones skipped (the compose spec's extension rule), at the top
//! level and in services, networks and volumes; `x-dockhand` in a service
//! holds dockhand's own additions (host interfaces).
//!
//! Short and long syntaxes are both read into one expanded form here
//! (ports, volumes, environment and labels as lists or maps, `depends_on`
//! as a list or a map …), so merging ([`merge`](super::merge)) works on
//! the expanded form, as compose merges.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::interpolate::{interpolate, Failure};
pub use super::yaml::Loc;
use super::yaml::{Entry, Node, Tag, Value};
use crate::error::{Error, Result};

/// One compose file.
#[derive(Debug, Clone, Default)]
pub struct ComposeFile {
    /// Top-level `name:`.
    pub name: Option<String>,
    /// Services by name.
    pub services: BTreeMap<String, Service>,
    /// Top-level networks by key.
    pub networks: BTreeMap<String, AppNetwork>,
    /// Top-level volumes by key.
    pub volumes: BTreeMap<String, AppVolume>,
}

/// A service, as written (one file) or merged (several).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Service {
    /// The image reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// How to build the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<ServiceBuild>,
    /// Command (the image's when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Entrypoint (the image's when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Environment; `None`: taken from dockhand's own environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, Option<String>>,
    /// Env-files, read into `environment` when the project is loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_file: Vec<EnvFileRef>,
    /// Published ports, one entry per port (ranges expanded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    /// Exposed ports (`80`, `53/udp`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    /// Volumes, bind mounts and tmpfs mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<ServiceMount>,
    /// Networks with their settings; empty: the project's default network.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, ServiceNetwork>,
    /// `network_mode` (`host`, `none`, `bridge`, `service:X`, `container:X`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Restart policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    /// Capabilities added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Capabilities dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    /// Devices (`/dev/x[:/dev/y[:rwm]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// Privileged mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,
    /// Host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// User.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Healthcheck.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<ServiceHealthcheck>,
    /// Dependencies and the condition each must meet first.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, Dependency>,
    /// Memory limit, bytes (`mem_limit`, or `deploy.resources.limits.memory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit: Option<u64>,
    /// CPU limit (`cpus`, or `deploy.resources.limits.cpus`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// CPU shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<u64>,
    /// Stop signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Time between the stop signal and SIGKILL.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_duration_opt"
    )]
    pub stop_grace_period: Option<Duration>,
    /// Run an init process as PID 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    /// Read-only root file system.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// tmpfs mounts (`/tmp[:options]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// Extra `/etc/hosts` entries, `HOST:IP`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// DNS servers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// Kernel parameters.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// Resource limits (`nofile`, `nproc` …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, ServiceUlimit>,
    /// Log driver and its options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<ServiceLogging>,
    /// Profiles the service belongs to (always active when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Host interfaces (`x-dockhand.interfaces`).
    #[serde(
        rename = "x-dockhand-interfaces",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub interfaces: Vec<Interface>,
    /// Where each key was written (the last file that wrote it).
    #[serde(skip)]
    pub at: BTreeMap<&'static str, Loc>,
    /// Where the service itself was first written.
    #[serde(skip)]
    pub defined_at: Loc,
    /// Keys tagged `!reset` / `!override` in this file (merging reads them).
    #[serde(skip)]
    pub tags: BTreeMap<&'static str, Tag>,
}

/// `build:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceBuild {
    /// Build context directory.
    pub context: String,
    /// Dockerfile, relative to the context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// Build arguments (`None`: from dockhand's environment).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Option<String>>,
    /// Target stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// One `env_file` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvFileRef {
    /// Path, relative to the project directory.
    pub path: String,
    /// A missing optional file is skipped.
    pub required: bool,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServicePort {
    /// Port in the container.
    pub target: u16,
    /// Host port (random when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<u16>,
    /// Host address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<IpAddr>,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

/// What kind of mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceMountType {
    /// A named (or anonymous) volume.
    Volume,
    /// A host path.
    Bind,
    /// A tmpfs.
    Tmpfs,
}

/// A volume, bind mount or tmpfs of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceMount {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: ServiceMountType,
    /// Volume key or host path (relative paths are made absolute when the
    /// project is loaded); `None` for an anonymous volume or a tmpfs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Path in the container.
    pub target: String,
    /// Read-only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Where it was written.
    #[serde(skip)]
    pub at: Loc,
}

/// A service's settings on one network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceNetwork {
    /// Extra DNS names on this network.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Fixed IPv4 address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<std::net::Ipv4Addr>,
    /// Where it was written.
    #[serde(skip)]
    pub at: Loc,
}

/// `healthcheck:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceHealthcheck {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Between checks.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_duration_opt"
    )]
    pub interval: Option<Duration>,
    /// Of one check.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_duration_opt"
    )]
    pub timeout: Option<Duration>,
    /// Failures before unhealthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// Grace time after start.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "go_duration_opt"
    )]
    pub start_period: Option<Duration>,
    /// `disable: true`: the image's healthcheck is off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable: bool,
}

/// What a dependency must have done before the service starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyCondition {
    /// It runs.
    ServiceStarted,
    /// Its healthcheck passes.
    ServiceHealthy,
    /// It exited 0.
    ServiceCompletedSuccessfully,
}

impl DependencyCondition {
    /// The compose word.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyCondition::ServiceStarted => "service_started",
            DependencyCondition::ServiceHealthy => "service_healthy",
            DependencyCondition::ServiceCompletedSuccessfully => "service_completed_successfully",
        }
    }
}

/// One `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The condition.
    pub condition: DependencyCondition,
    /// Restart this service when the dependency is recreated (compose v2).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restart: bool,
    /// A missing (inactive) dependency is an error; `false`: skipped.
    pub required: bool,
    /// Where it was written.
    #[serde(skip)]
    pub at: Loc,
}

/// One `ulimits` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceUlimit {
    /// Soft limit.
    pub soft: i64,
    /// Hard limit.
    pub hard: i64,
}

/// `logging:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceLogging {
    /// Driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// What kind of host interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InterfaceKind {
    /// A veth pair, one end in the container.
    Veth,
    /// A macvlan on a host interface.
    Macvlan,
    /// A host interface moved into the container.
    Move,
}

/// One `x-dockhand.interfaces` entry: plumbed after the container starts,
/// released before it stops (see [`interfaces`](super::interfaces)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: InterfaceKind,
    /// Name in the container (a moved one keeps its name when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// veth: the host end's name; move: the host interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// macvlan: the parent host interface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// macvlan mode (default bridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// veth: host bridge to attach the host end to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// veth: MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Addresses in the container (CIDR).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// Default gateway in the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Where it was written.
    #[serde(skip)]
    pub at: Loc,
}

/// A top-level network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppNetwork {
    /// Engine name (default `PROJECT_KEY`; as given for external ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// No outside connectivity.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
    /// Made outside the project: never created or removed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// IPAM subnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// IPAM gateway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// Where it was written.
    #[serde(skip)]
    pub at: Loc,
}

/// A top-level volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AppVolume {
    /// Engine name (default `PROJECT_KEY`; as given for external ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Driver options.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    /// Made outside the project: never created or removed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// Labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Where it was written.
    #[serde(skip)]
    pub at: Loc,
}

fn go_duration_opt<S: Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&go_duration(*d)),
        None => s.serialize_none(),
    }
}

/// A duration as compose (Go) writes it: `1m30s`, `500ms`, `0s`.
///
/// ```
/// use std::time::Duration;
/// use dockhand::app::file::go_duration;
/// assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
/// assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
/// assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
/// ```
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms % 60_000);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        let secs = format!("{}.{:03}", s / 1000, s % 1000);
        out.push_str(secs.trim_end_matches('0').trim_end_matches('.'));
        out.push('s');
    }
    out
}

/// Parse a compose (Go) duration: `1h2m3.5s`, `500ms`, `10us`, or bare
/// seconds as a number.
///
/// ```
/// use std::time::Duration;
/// use dockhand::app::file::parse_go_duration;
/// assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
/// assert_eq!(parse_go_duration("2"), Some(Duration::from_secs(2)));
/// assert_eq!(parse_go_duration("soon"), None);
/// ```
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..split].parse().ok()?;
        let unit_len = rest[split..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - split);
        let scale = match &rest[split..split + unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[split + unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

/// Keys compose knows that dockhand does not support (an error that says
/// so, rather than "unknown").
const UNSUPPORTED_SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "cgroup",
    "cgroup_parent",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpuset",
    "credential_spec",
    "develop",
    "device_cgroup_rules",
    "dns_opt",
    "dns_search",
    "domainname",
    "external_links",
    "extends",
    "gpus",
    "group_add",
    "ipc",
    "isolation",
    "links",
    "mac_address",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "post_start",
    "pre_stop",
    "provider",
    "pull_policy",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "storage_opt",
    "tty",
    "userns_mode",
    "uts",
    "volumes_from",
    "label_file",
    "models",
    "use_api_socket",
];

const SERVICE_KEYS: &[&str] = &[
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "networks",
    "network_mode",
    "labels",
    "restart",
    "cap_add",
    "cap_drop",
    "devices",
    "privileged",
    "hostname",
    "user",
    "working_dir",
    "healthcheck",
    "depends_on",
    "deploy",
    "mem_limit",
    "cpus",
    "cpu_shares",
    "stop_signal",
    "stop_grace_period",
    "init",
    "read_only",
    "tmpfs",
    "extra_hosts",
    "dns",
    "sysctls",
    "ulimits",
    "logging",
    "profiles",
    "x-dockhand",
];

/// Read one file's tree (already interpolated) into its typed form.
pub fn read(root: &Node, file: &Arc<str>) -> Result<ComposeFile> {
    let r = Reader { file: file.clone() };
    let entries = root.as_map().ok_or_else(|| {
        r.loc(root.line).error(
            None,
            "",
            "a compose file is a mapping of keys such as services, networks, volumes",
        )
    })?;
    let mut out = ComposeFile::default();
    for e in entries {
        match e.key.as_str() {
            k if k.starts_with("x-") => {}
            "version" => {}
            "name" => out.name = Some(r.string(e, None, "name")?),
            "services" => {
                for s in r.map(e, None, "services")? {
                    let service = r.service(s)?;
                    out.services.insert(s.key.clone(), service);
                }
            }
            "networks" => {
                for n in r.map(e, None, "networks")? {
                    out.networks.insert(n.key.clone(), r.network(n)?);
                }
            }
            "volumes" => {
                for v in r.map(e, None, "volumes")? {
                    out.volumes.insert(v.key.clone(), r.volume(v)?);
                }
            }
            k @ ("secrets" | "configs" | "include" | "models") => {
                return Err(r.loc(e.line).error(None, k, "not supported by dockhand"))
            }
            k => {
                return Err(r.loc(e.line).error(
                    None,
                    k,
                    unknown(
                        k,
                        &["version", "name", "services", "networks", "volumes"],
                        "top-level key",
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// "unknown key", with the nearest known key when one is close.
fn unknown(key: &str, known: &[&str], what: &str) -> String {
    let near = known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min();
    match near {
        Some((_, k)) => format!("unknown {what}; did you mean {k:?}?"),
        None => format!("unknown {what}"),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Interpolate every value of a file's tree (not keys, not top-level `x-`
/// blocks, whose useful parts came in through aliases already). An error
/// names the line, the service and the key path.
pub fn interpolate_tree(
    root: &mut Node,
    file: &Arc<str>,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<()> {
    let Value::Map(entries) = &mut root.value else {
        return Ok(());
    };
    for e in entries.iter_mut().filter(|e| !e.key.starts_with("x-")) {
        let mut path = vec![e.key.clone()];
        walk(&mut e.value, &mut path, &mut |path, text, line| {
            let done = interpolate(text, lookup, unset).map_err(|f| {
                let loc = Loc {
                    file: file.clone(),
                    line,
                };
                let message = match &f {
                    Failure::Required { .. } => f.to_string(),
                    Failure::Syntax(_) => format!("{f} (write $$ for a literal $)"),
                };
                match path {
                    [top, service, rest @ ..] if top == "services" => {
                        loc.error(Some(service), &rest.join("."), message)
                    }
                    _ => loc.error(None, &path.join("."), message),
                }
            })?;
            *text = done;
            Ok(())
        })?;
    }
    Ok(())
}

/// Called with the key path, the text and the line of each scalar.
type ScalarFn<'a> = dyn FnMut(&[String], &mut String, usize) -> Result<()> + 'a;

fn walk(node: &mut Node, path: &mut Vec<String>, f: &mut ScalarFn) -> Result<()> {
    let line = node.line;
    match &mut node.value {
        Value::Scalar(s) => f(path, &mut s.text, line),
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let last = path.pop().unwrap_or_default();
                path.push(format!("{last}[{i}]"));
                let result = walk(item, path, f);
                path.pop();
                path.push(last);
                result?;
            }
            Ok(())
        }
        Value::Map(entries) => {
            for e in entries
                .iter_mut()
                .filter(|e| !e.key.starts_with("x-") || e.key == "x-dockhand")
            {
                path.push(e.key.clone());
                let result = walk(&mut e.value, path, f);
                path.pop();
                result?;
            }
            Ok(())
        }
    }
}

/// Reads typed values out of one file's tree, naming place and key on error.
struct Reader {
    file: Arc<str>,
}

/// Who is being read: the service (if any) and the key path.
type Ctx<'a> = Option<&'a str>;

impl Reader {
    fn loc(&self, line: usize) -> Loc {
        Loc {
            file: self.file.clone(),
            line,
        }
    }

    fn wrong(&self, node: &Node, svc: Ctx, key: &str, want: &str) -> Error {
        self.loc(node.line)
            .error(svc, key, format!("must be {want}, not {}", node.kind()))
    }

    fn map<'n>(&self, e: &'n Entry, svc: Ctx, key: &str) -> Result<&'n [Entry]> {
        if e.value.is_null() {
            return Ok(&[]);
        }
        e.value
            .as_map()
            .ok_or_else(|| self.wrong(&e.value, svc, key, "a mapping"))
    }

    /// Any scalar but null, as text.
    fn string(&self, e: &Entry, svc: Ctx, key: &str) -> Result<String> {
        self.scalar_text(&e.value, svc, key)
    }

    fn scalar_text(&self, n: &Node, svc: Ctx, key: &str) -> Result<String> {
        match n.as_scalar() {
            Some(s) if !n.is_null() => Ok(s.text.clone()),
            _ => Err(self.wrong(n, svc, key, "a string")),
        }
    }

    fn bool(&self, e: &Entry, svc: Ctx, key: &str) -> Result<bool> {
        e.value
            .as_bool()
            .ok_or_else(|| self.wrong(&e.value, svc, key, "true or false"))
    }

    fn number<T: std::str::FromStr>(&self, n: &Node, svc: Ctx, key: &str, want: &str) -> Result<T> {
        let text = self.scalar_text(n, svc, key)?;
        text.trim().parse().map_err(|_| {
            self.loc(n.line)
                .error(svc, key, format!("must be {want}, not {text:?}"))
        })
    }

    fn duration(&self, e: &Entry, svc: Ctx, key: &str) -> Result<Duration> {
        let text = self.string(e, svc, key)?;
        parse_go_duration(&text).ok_or_else(|| {
            self.loc(e.line).error(
                svc,
                key,
                format!("{text:?} is not a duration (use e.g. 10s, 1m30s, 500ms)"),
            )
        })
    }

    /// A list of strings; `single` allows one bare string for a one-item list.
    fn strings(&self, e: &Entry, svc: Ctx, key: &str, single: bool) -> Result<Vec<String>> {
        match &e.value.value {
            Value::Seq(items) => items
                .iter()
                .map(|i| self.scalar_text(i, svc, key))
                .collect(),
            Value::Scalar(_) if single && !e.value.is_null() => Ok(vec![self.string(e, svc, key)?]),
            _ if e.value.is_null() => Ok(Vec::new()),
            _ => Err(self.wrong(&e.value, svc, key, "a sequence")),
        }
    }

    /// A command: a list, or a string split like a shell (no expansion).
    fn command(&self, e: &Entry, svc: Ctx, key: &str) -> Result<Vec<String>> {
        match &e.value.value {
            Value::Scalar(s) if !e.value.is_null() => shlex::split(&s.text).ok_or_else(|| {
                self.loc(e.line)
                    .error(svc, key, "has an unclosed quote or a trailing backslash")
            }),
            _ => self.strings(e, svc, key, false),
        }
    }

    /// A map of strings from a mapping or a list of `KEY=VALUE`; `None`
    /// values (a `KEY` alone, a null) when `allow_unset`.
    fn pairs(
        &self,
        e: &Entry,
        svc: Ctx,
        key: &str,
        allow_unset: bool,
    ) -> Result<BTreeMap<String, Option<String>>> {
        let mut out = BTreeMap::new();
        match &e.value.value {
            Value::Map(entries) => {
                for kv in entries {
                    let v = match &kv.value {
                        v if v.is_null() && allow_unset => None,
                        v if v.is_null() => Some(String::new()),
                        v => Some(self.scalar_text(v, svc, &format!("{key}.{}", kv.key))?),
                    };
                    out.insert(kv.key.clone(), v);
                }
            }
            Value::Seq(items) => {
                for item in items {
                    let text = self.scalar_text(item, svc, key)?;
                    let (k, v) = match text.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None if allow_unset => (text.clone(), None),
                        None => (text.clone(), Some(String::new())),
                    };
                    if k.is_empty() {
                        return Err(self.loc(item.line).error(
                            svc,
                            key,
                            format!("{text:?} has an empty name"),
                        ));
                    }
                    if out.insert(k.clone(), v).is_some() {
                        return Err(self.loc(item.line).error(
                            svc,
                            key,
                            format!("{k:?} is given twice"),
                        ));
                    }
                }
            }
            _ if e.value.is_null() => {}
            _ => return Err(self.wrong(&e.value, svc, key, "a mapping or a list of KEY=VALUE")),
        }
        Ok(out)
    }

    fn string_pairs(&self, e: &Entry, svc: Ctx, key: &str) -> Result<BTreeMap<String, String>> {
        Ok(self
            .pairs(e, svc, key, false)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    fn check_keys(
        &self,
        entries: &[Entry],
        svc: Ctx,
        prefix: &str,
        known: &[&str],
        unsupported: &[&str],
    ) -> Result<()> {
        for e in entries.iter().filter(|e| !e.key.starts_with("x-")) {
            let key = match prefix {
                "" => e.key.clone(),
                p => format!("{p}.{}", e.key),
            };
            if unsupported.contains(&e.key.as_str()) {
                return Err(self
                    .loc(e.line)
                    .error(svc, &key, "not supported by dockhand"));
            }
            if !known.contains(&e.key.as_str()) {
                return Err(self
                    .loc(e.line)
                    .error(svc, &key, unknown(&e.key, known, "key")));
            }
        }
        Ok(())
    }

    fn service(&self, s: &Entry) -> Result<Service> {
        let name = s.key.as_str();
        let svc = Some(name);
        let entries = self.map(s, svc, "")?;
        self.check_keys(entries, svc, "", SERVICE_KEYS, UNSUPPORTED_SERVICE_KEYS)?;
        let mut out = Service {
            defined_at: self.loc(s.line),
            ..Service::default()
        };
        for e in entries
            .iter()
            .filter(|e| !e.key.starts_with("x-") || e.key == "x-dockhand")
        {
            let key: &'static str = SERVICE_KEYS
                .iter()
                .find(|k| **k == e.key)
                .copied()
                .unwrap_or("x-dockhand");
            out.at.insert(key, self.loc(e.line));
            if let Some(tag) = e.value.tag {
                out.tags.insert(key, tag);
                if tag == Tag::Reset {
                    continue;
                }
            }
            self.service_key(&mut out, key, e, svc)?;
        }
        Ok(out)
    }

    fn service_key(&self, out: &mut Service, key: &'static str, e: &Entry, svc: Ctx) -> Result<()> {
        match key {
            "image" => out.image = Some(self.string(e, svc, key)?),
            "build" => out.build = Some(self.build(e, svc)?),
            "command" => out.command = Some(self.command(e, svc, key)?),
            "entrypoint" => out.entrypoint = Some(self.command(e, svc, key)?),
            "environment" => out.environment = self.pairs(e, svc, key, true)?,
            "env_file" => out.env_file = self.env_files(e, svc)?,
            "ports" => out.ports = self.ports(e, svc)?,
            "expose" => out.expose = self.strings(e, svc, key, false)?,
            "volumes" => out.volumes = self.mounts(e, svc)?,
            "networks" => out.networks = self.service_networks(e, svc)?,
            "network_mode" => out.network_mode = Some(self.string(e, svc, key)?),
            "labels" => out.labels = self.string_pairs(e, svc, key)?,
            "restart" => out.restart = Some(self.string(e, svc, key)?),
            "cap_add" => out.cap_add = self.strings(e, svc, key, false)?,
            "cap_drop" => out.cap_drop = self.strings(e, svc, key, false)?,
            "devices" => out.devices = self.strings(e, svc, key, false)?,
            "privileged" => out.privileged = Some(self.bool(e, svc, key)?),
            "hostname" => out.hostname = Some(self.string(e, svc, key)?),
            "user" => out.user = Some(self.string(e, svc, key)?),
            "working_dir" => out.working_dir = Some(self.string(e, svc, key)?),
            "healthcheck" => out.healthcheck = Some(self.healthcheck(e, svc)?),
            "depends_on" => out.depends_on = self.depends_on(e, svc)?,
            "deploy" => self.deploy(e, svc, out)?,
            "mem_limit" => out.mem_limit = Some(self.bytes(&e.value, svc, key)?),
            "cpus" => out.cpus = Some(self.number(&e.value, svc, key, "a number of CPUs")?),
            "cpu_shares" => {
                out.cpu_shares = Some(self.number(&e.value, svc, key, "a whole number")?)
            }
            "stop_signal" => out.stop_signal = Some(self.string(e, svc, key)?),
            "stop_grace_period" => out.stop_grace_period = Some(self.duration(e, svc, key)?),
            "init" => out.init = Some(self.bool(e, svc, key)?),
            "read_only" => out.read_only = Some(self.bool(e, svc, key)?),
            "tmpfs" => out.tmpfs = self.strings(e, svc, key, true)?,
            "extra_hosts" => out.extra_hosts = self.extra_hosts(e, svc)?,
            "dns" => out.dns = self.strings(e, svc, key, true)?,
            "sysctls" => out.sysctls = self.string_pairs(e, svc, key)?,
            "ulimits" => out.ulimits = self.ulimits(e, svc)?,
            "logging" => out.logging = Some(self.logging(e, svc)?),
            "profiles" => out.profiles = self.strings(e, svc, key, false)?,
            _ => out.interfaces = self.dockhand_extension(e, svc)?,
        }
        Ok(())
    }

    /// A size: bytes, or a number with b, k, m, g (1024-based; kb, mb … too).
    fn bytes(&self, n: &Node, svc: Ctx, key: &str) -> Result<u64> {
        let text = self.scalar_text(n, svc, key)?;
        let t = text.trim().to_ascii_lowercase();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let shift = match t[split..].trim_end_matches('b') {
            "" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            _ => {
                return Err(self.loc(n.line).error(
                    svc,
                    key,
                    format!("{text:?} is not a size (use e.g. 64m, 1g)"),
                ))
            }
        };
        t[..split]
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0)
            .map(|v| (v * (1u64 << shift) as f64) as u64)
            .ok_or_else(|| {
                self.loc(n.line).error(
                    svc,
                    key,
                    format!("{text:?} is not a size (use e.g. 64m, 1g)"),
                )
            })
    }

    fn build(&self, e: &Entry, svc: Ctx) -> Result<ServiceBuild> {
        if e.value.as_scalar().is_some() {
            return Ok(ServiceBuild {
                context: self.string(e, svc, "build")?,
                ..ServiceBuild::default()
            });
        }
        let entries = self.map(e, svc, "build")?;
        self.check_keys(
            entries,
            svc,
            "build",
            &["context", "dockerfile", "args", "target"],
            &[
                "cache_from",
                "cache_to",
                "dockerfile_inline",
                "extra_hosts",
                "isolation",
                "labels",
                "network",
                "no_cache",
                "platforms",
                "privileged",
                "pull",
                "secrets",
                "shm_size",
                "ssh",
                "tags",
                "ulimits",
                "additional_contexts",
                "entitlements",
            ],
        )?;
        let mut b = ServiceBuild {
            context: ".".into(),
            ..ServiceBuild::default()
        };
        for f in entries {
            match f.key.as_str() {
                "context" => b.context = self.string(f, svc, "build.context")?,
                "dockerfile" => b.dockerfile = Some(self.string(f, svc, "build.dockerfile")?),
                "args" => b.args = self.pairs(f, svc, "build.args", true)?,
                "target" => {
                    let stage = self.string(f, svc, "build.target")?;
                    crate::input::BuildStage::new(&stage).map_err(|e| {
                        self.loc(f.value.line)
                            .error(svc, "build.target", e.message())
                    })?;
                    b.target = Some(stage);
                }
                _ => {}
            }
        }
        Ok(b)
    }

    fn env_files(&self, e: &Entry, svc: Ctx) -> Result<Vec<EnvFileRef>> {
        let items: Vec<Node> = match &e.value.value {
            Value::Seq(items) => items.clone(),
            _ => vec![e.value.clone()],
        };
        items
            .iter()
            .map(|item| match item.as_map() {
                Some(entries) => {
                    self.check_keys(
                        entries,
                        svc,
                        "env_file",
                        &["path", "required", "format"],
                        &[],
                    )?;
                    let mut r = EnvFileRef {
                        path: String::new(),
                        required: true,
                    };
                    for f in entries {
                        match f.key.as_str() {
                            "path" => r.path = self.string(f, svc, "env_file.path")?,
                            "required" => r.required = self.bool(f, svc, "env_file.required")?,
                            _ => {
                                let format = self.string(f, svc, "env_file.format")?;
                                if format != "raw" && format != "dotenv" {
                                    return Err(self.loc(f.line).error(
                                        svc,
                                        "env_file.format",
                                        "must be dotenv or raw",
                                    ));
                                }
                            }
                        }
                    }
                    if r.path.is_empty() {
                        return Err(self.loc(item.line).error(
                            svc,
                            "env_file",
                            "an entry needs a path",
                        ));
                    }
                    Ok(r)
                }
                None => Ok(EnvFileRef {
                    path: self.scalar_text(item, svc, "env_file")?,
                    required: true,
                }),
            })
            .collect()
    }

    fn ports(&self, e: &Entry, svc: Ctx) -> Result<Vec<ServicePort>> {
        let items = e
            .value
            .as_seq()
            .ok_or_else(|| self.wrong(&e.value, svc, "ports", "a sequence"))?;
        let mut out = Vec::new();
        for item in items {
            match item.as_map() {
                Some(entries) => out.push(self.long_port(item, entries, svc)?),
                None => {
                    let text = self.scalar_text(item, svc, "ports")?;
                    out.extend(short_ports(&text).map_err(|why| {
                        self.loc(item.line)
                            .error(svc, "ports", format!("{text:?}: {why}"))
                    })?);
                }
            }
        }
        Ok(out)
    }

    fn long_port(&self, item: &Node, entries: &[Entry], svc: Ctx) -> Result<ServicePort> {
        self.check_keys(
            entries,
            svc,
            "ports",
            &[
                "target",
                "published",
                "host_ip",
                "protocol",
                "mode",
                "name",
                "app_protocol",
            ],
            &[],
        )?;
        let mut port = ServicePort {
            target: 0,
            published: None,
            host_ip: None,
            protocol: "tcp".into(),
        };
        for f in entries {
            match f.key.as_str() {
                "target" => {
                    port.target = self.number(&f.value, svc, "ports.target", "a port number")?
                }
                "published" => {
                    port.published =
                        Some(self.number(&f.value, svc, "ports.published", "a port number")?)
                }
                "host_ip" => {
                    port.host_ip =
                        Some(self.number(&f.value, svc, "ports.host_ip", "an IP address")?)
                }
                "protocol" => {
                    port.protocol = protocol(&self.string(f, svc, "ports.protocol")?)
                        .map_err(|why| self.loc(f.line).error(svc, "ports.protocol", why))?
                }
                "mode" if self.string(f, svc, "ports.mode")? != "host" => {
                    return Err(self.loc(f.line).error(
                        svc,
                        "ports.mode",
                        "only mode host is supported (there is no swarm here)",
                    ));
                }
                _ => {}
            }
        }
        if port.target == 0 || port.published == Some(0) {
            return Err(self.loc(item.line).error(
                svc,
                "ports",
                "a long-syntax port needs target (1-65535)",
            ));
        }
        Ok(port)
    }

    fn mounts(&self, e: &Entry, svc: Ctx) -> Result<Vec<ServiceMount>> {
        let items = e
            .value
            .as_seq()
            .ok_or_else(|| self.wrong(&e.value, svc, "volumes", "a sequence"))?;
        items
            .iter()
            .map(|item| match item.as_map() {
                Some(entries) => self.long_mount(item, entries, svc),
                None => {
                    let text = self.scalar_text(item, svc, "volumes")?;
                    short_mount(&text, self.loc(item.line)).map_err(|why| {
                        self.loc(item.line)
                            .error(svc, "volumes", format!("{text:?}: {why}"))
                    })
                }
            })
            .collect()
    }

    fn long_mount(&self, item: &Node, entries: &[Entry], svc: Ctx) -> Result<ServiceMount> {
        self.check_keys(
            entries,
            svc,
            "volumes",
            &["type", "source", "target", "read_only"],
            &["bind", "volume", "tmpfs", "consistency", "image"],
        )?;
        let mut kind = None;
        let mut m = ServiceMount {
            kind: ServiceMountType::Volume,
            source: None,
            target: String::new(),
            read_only: false,
            at: self.loc(item.line),
        };
        for f in entries {
            match f.key.as_str() {
                "type" => {
                    kind = Some(match self.string(f, svc, "volumes.type")?.as_str() {
                        "volume" => ServiceMountType::Volume,
                        "bind" => ServiceMountType::Bind,
                        "tmpfs" => ServiceMountType::Tmpfs,
                        other => {
                            return Err(self.loc(f.line).error(
                                svc,
                                "volumes.type",
                                format!("{other:?} is not supported (volume, bind or tmpfs)"),
                            ))
                        }
                    })
                }
                "source" => m.source = Some(self.string(f, svc, "volumes.source")?),
                "target" => m.target = self.string(f, svc, "volumes.target")?,
                _ => m.read_only = self.bool(f, svc, "volumes.read_only")?,
            }
        }
        m.kind = kind.ok_or_else(|| {
            self.loc(item.line)
                .error(svc, "volumes", "a long-syntax volume needs type")
        })?;
        if !m.target.starts_with('/') {
            return Err(self.loc(item.line).error(
                svc,
                "volumes.target",
                "must be an absolute path in the container",
            ));
        }
        if m.kind == ServiceMountType::Bind && m.source.is_none() {
            return Err(self.loc(item.line).error(
                svc,
                "volumes.source",
                "a bind mount needs a source",
            ));
        }
        Ok(m)
    }

    fn service_networks(&self, e: &Entry, svc: Ctx) -> Result<BTreeMap<String, ServiceNetwork>> {
        let mut out = BTreeMap::new();
        match &e.value.value {
            Value::Seq(items) => {
                for item in items {
                    let name = self.scalar_text(item, svc, "networks")?;
                    out.insert(
                        name,
                        ServiceNetwork {
                            at: self.loc(item.line),
                            ..ServiceNetwork::default()
                        },
                    );
                }
            }
            Value::Map(entries) => {
                for n in entries {
                    let key = format!("networks.{}", n.key);
                    let mut net = ServiceNetwork {
                        at: self.loc(n.line),
                        ..ServiceNetwork::default()
                    };
                    for f in self.map(n, svc, &key)? {
                        self.check_keys(
                            std::slice::from_ref(f),
                            svc,
                            &key,
                            &["aliases", "ipv4_address"],
                            &[
                                "ipv6_address",
                                "link_local_ips",
                                "mac_address",
                                "driver_opts",
                                "priority",
                                "gw_priority",
                                "interface_name",
                            ],
                        )?;
                        match f.key.as_str() {
                            "aliases" => {
                                net.aliases =
                                    self.strings(f, svc, &format!("{key}.aliases"), false)?
                            }
                            _ => {
                                net.ipv4_address = Some(self.number(
                                    &f.value,
                                    svc,
                                    &format!("{key}.ipv4_address"),
                                    "an IPv4 address",
                                )?)
                            }
                        }
                    }
                    out.insert(n.key.clone(), net);
                }
            }
            _ => return Err(self.wrong(&e.value, svc, "networks", "a sequence or a mapping")),
        }
        Ok(out)
    }

    fn healthcheck(&self, e: &Entry, svc: Ctx) -> Result<ServiceHealthcheck> {
        let entries = self.map(e, svc, "healthcheck")?;
        self.check_keys(
            entries,
            svc,
            "healthcheck",
            &[
                "test",
                "interval",
                "timeout",
                "retries",
                "start_period",
                "disable",
            ],
            &["start_interval"],
        )?;
        let mut h = ServiceHealthcheck::default();
        for f in entries {
            let key = format!("healthcheck.{}", f.key);
            match f.key.as_str() {
                "test" => {
                    h.test = Some(match &f.value.value {
                        Value::Scalar(_) => vec!["CMD-SHELL".into(), self.string(f, svc, &key)?],
                        _ => {
                            let test = self.strings(f, svc, &key, false)?;
                            if !matches!(
                                test.first().map(String::as_str),
                                Some("CMD" | "CMD-SHELL" | "NONE")
                            ) {
                                return Err(self.loc(f.line).error(
                                    svc,
                                    &key,
                                    "a list must start with CMD, CMD-SHELL or NONE",
                                ));
                            }
                            test
                        }
                    })
                }
                "interval" => h.interval = Some(self.duration(f, svc, &key)?),
                "timeout" => h.timeout = Some(self.duration(f, svc, &key)?),
                "start_period" => h.start_period = Some(self.duration(f, svc, &key)?),
                "retries" => {
                    h.retries = Some(self.number(&f.value, svc, &key, "a whole number")?)
                }
                _ => h.disable = self.bool(f, svc, &key)?,
            }
        }
        Ok(h)
    }

    fn depends_on(&self, e: &Entry, svc: Ctx) -> Result<BTreeMap<String, Dependency>> {
        let started = |at: Loc| Dependency {
            condition: DependencyCondition::ServiceStarted,
            restart: false,
            required: true,
            at,
        };
        let mut out = BTreeMap::new();
        match &e.value.value {
            Value::Seq(items) => {
                for item in items {
                    out.insert(
                        self.scalar_text(item, svc, "depends_on")?,
                        started(self.loc(e.line)),
                    );
                }
            }
            Value::Map(entries) => {
                for d in entries {
                    let key = format!("depends_on.{}", d.key);
                    let mut dep = started(self.loc(d.line));
                    let fields = self.map(d, svc, &key)?;
                    self.check_keys(
                        fields,
                        svc,
                        &key,
                        &["condition", "restart", "required"],
                        &[],
                    )?;
                    for f in fields {
                        match f.key.as_str() {
                            "condition" => {
                                dep.condition = match self.string(f, svc, &key)?.as_str() {
                                    "service_started" => DependencyCondition::ServiceStarted,
                                    "service_healthy" => DependencyCondition::ServiceHealthy,
                                    "service_completed_successfully" => DependencyCondition::ServiceCompletedSuccessfully,
                                    other => return Err(self.loc(f.line).error(svc, &format!("{key}.condition"), format!("{other:?} is not service_started, service_healthy or service_completed_successfully"))),
                                }
                            }
                            "restart" => dep.restart = self.bool(f, svc, &key)?,
                            _ => dep.required = self.bool(f, svc, &key)?,
                        }
                    }
                    out.insert(d.key.clone(), dep);
                }
            }
            _ => return Err(self.wrong(&e.value, svc, "depends_on", "a sequence or a mapping")),
        }
        Ok(out)
    }

    fn deploy(&self, e: &Entry, svc: Ctx, out: &mut Service) -> Result<()> {
        let entries = self.map(e, svc, "deploy")?;
        self.check_keys(
            entries,
            svc,
            "deploy",
            &["resources"],
            &[
                "mode",
                "replicas",
                "labels",
                "update_config",
                "rollback_config",
                "restart_policy",
                "placement",
                "endpoint_mode",
            ],
        )?;
        for r in entries {
            let resources = self.map(r, svc, "deploy.resources")?;
            self.check_keys(
                resources,
                svc,
                "deploy.resources",
                &["limits"],
                &["reservations"],
            )?;
            for l in resources {
                let limits = self.map(l, svc, "deploy.resources.limits")?;
                self.check_keys(
                    limits,
                    svc,
                    "deploy.resources.limits",
                    &["cpus", "memory"],
                    &["pids", "devices"],
                )?;
                for f in limits {
                    match f.key.as_str() {
                        "cpus" => {
                            out.cpus = Some(self.number(
                                &f.value,
                                svc,
                                "deploy.resources.limits.cpus",
                                "a number of CPUs",
                            )?)
                        }
                        _ => {
                            out.mem_limit =
                                Some(self.bytes(&f.value, svc, "deploy.resources.limits.memory")?)
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn extra_hosts(&self, e: &Entry, svc: Ctx) -> Result<Vec<String>> {
        match &e.value.value {
            Value::Map(entries) => entries
                .iter()
                .map(|h| Ok(format!("{}:{}", h.key, self.string(h, svc, "extra_hosts")?)))
                .collect(),
            _ => Ok(self
                .strings(e, svc, "extra_hosts", false)?
                .into_iter()
                // compose v2 also writes HOST=IP.
                .map(|h| match h.split_once('=') {
                    Some((host, ip)) if !h.contains(':') || ip.contains(':') => {
                        format!("{host}:{ip}")
                    }
                    _ => h,
                })
                .collect()),
        }
    }

    fn ulimits(&self, e: &Entry, svc: Ctx) -> Result<BTreeMap<String, ServiceUlimit>> {
        let mut out = BTreeMap::new();
        for u in self.map(e, svc, "ulimits")? {
            let key = format!("ulimits.{}", u.key);
            let limit = match u.value.as_map() {
                None => {
                    let n = self.number(&u.value, svc, &key, "a number or {soft, hard}")?;
                    ServiceUlimit { soft: n, hard: n }
                }
                Some(fields) => {
                    self.check_keys(fields, svc, &key, &["soft", "hard"], &[])?;
                    let get = |name: &str| -> Result<i64> {
                        let f = fields.iter().find(|f| f.key == name).ok_or_else(|| {
                            self.loc(u.line).error(svc, &key, format!("needs {name}"))
                        })?;
                        self.number(&f.value, svc, &format!("{key}.{name}"), "a number")
                    };
                    ServiceUlimit {
                        soft: get("soft")?,
                        hard: get("hard")?,
                    }
                }
            };
            out.insert(u.key.clone(), limit);
        }
        Ok(out)
    }

    fn logging(&self, e: &Entry, svc: Ctx) -> Result<ServiceLogging> {
        let entries = self.map(e, svc, "logging")?;
        self.check_keys(entries, svc, "logging", &["driver", "options"], &[])?;
        let mut l = ServiceLogging::default();
        for f in entries {
            match f.key.as_str() {
                "driver" => l.driver = Some(self.string(f, svc, "logging.driver")?),
                _ => l.options = self.string_pairs(f, svc, "logging.options")?,
            }
        }
        Ok(l)
    }

    fn dockhand_extension(&self, e: &Entry, svc: Ctx) -> Result<Vec<Interface>> {
        let entries = self.map(e, svc, "x-dockhand")?;
        self.check_keys(entries, svc, "x-dockhand", &["interfaces"], &[])?;
        let mut out = Vec::new();
        for f in entries {
            let items = f
                .value
                .as_seq()
                .ok_or_else(|| self.wrong(&f.value, svc, "x-dockhand.interfaces", "a sequence"))?;
            for item in items {
                out.push(self.interface(item, svc)?);
            }
        }
        Ok(out)
    }

    fn interface(&self, item: &Node, svc: Ctx) -> Result<Interface> {
        let key = "x-dockhand.interfaces";
        let fields = item
            .as_map()
            .ok_or_else(|| self.wrong(item, svc, key, "a mapping"))?;
        self.check_keys(
            fields,
            svc,
            key,
            &[
                "type",
                "name",
                "host",
                "parent",
                "mode",
                "bridge",
                "mtu",
                "addresses",
                "gateway",
            ],
            &[],
        )?;
        let mut i = Interface {
            kind: InterfaceKind::Veth,
            name: None,
            host: None,
            parent: None,
            mode: None,
            bridge: None,
            mtu: None,
            addresses: Vec::new(),
            gateway: None,
            at: self.loc(item.line),
        };
        let mut kind = None;
        for f in fields {
            let k = format!("{key}.{}", f.key);
            match f.key.as_str() {
                "type" => {
                    kind = Some(match self.string(f, svc, &k)?.as_str() {
                        "veth" => InterfaceKind::Veth,
                        "macvlan" => InterfaceKind::Macvlan,
                        "move" => InterfaceKind::Move,
                        other => {
                            return Err(self.loc(f.line).error(
                                svc,
                                &k,
                                format!("{other:?} is not veth, macvlan or move"),
                            ))
                        }
                    })
                }
                "name" => i.name = Some(self.string(f, svc, &k)?),
                "host" => i.host = Some(self.string(f, svc, &k)?),
                "parent" => i.parent = Some(self.string(f, svc, &k)?),
                "mode" => i.mode = Some(self.string(f, svc, &k)?),
                "bridge" => i.bridge = Some(self.string(f, svc, &k)?),
                "mtu" => i.mtu = Some(self.number(&f.value, svc, &k, "a number")?),
                "addresses" => i.addresses = self.strings(f, svc, &k, true)?,
                _ => i.gateway = Some(self.string(f, svc, &k)?),
            }
        }
        i.kind = kind.ok_or_else(|| {
            self.loc(item.line)
                .error(svc, key, "an interface needs type: veth, macvlan or move")
        })?;
        Ok(i)
    }

    fn network(&self, n: &Entry) -> Result<AppNetwork> {
        let key = format!("networks.{}", n.key);
        let entries = self.map(n, None, &key)?;
        self.check_keys(
            entries,
            None,
            &key,
            &["name", "driver", "internal", "external", "labels", "ipam"],
            &["driver_opts", "attachable", "enable_ipv6", "enable_ipv4"],
        )?;
        let mut out = AppNetwork {
            at: self.loc(n.line),
            ..AppNetwork::default()
        };
        for f in entries {
            let k = format!("{key}.{}", f.key);
            match f.key.as_str() {
                "name" => out.name = Some(self.string(f, None, &k)?),
                "driver" => out.driver = Some(self.string(f, None, &k)?),
                "internal" => out.internal = self.bool(f, None, &k)?,
                "external" => out.external = self.bool(f, None, &k)?,
                "labels" => out.labels = self.string_pairs(f, None, &k)?,
                _ => {
                    let ipam = self.map(f, None, &k)?;
                    self.check_keys(ipam, None, &k, &["config", "driver"], &["options"])?;
                    for c in ipam {
                        if c.key == "driver" {
                            if self.string(c, None, &format!("{k}.driver"))? != "default" {
                                return Err(self.loc(c.line).error(
                                    None,
                                    &format!("{k}.driver"),
                                    "only the default IPAM driver is supported",
                                ));
                            }
                            continue;
                        }
                        let configs = c.value.as_seq().ok_or_else(|| {
                            self.wrong(&c.value, None, &format!("{k}.config"), "a sequence")
                        })?;
                        if configs.len() > 1 {
                            return Err(self.loc(c.line).error(
                                None,
                                &format!("{k}.config"),
                                "only one subnet per network is supported",
                            ));
                        }
                        for cfg in configs {
                            let fields = cfg.as_map().ok_or_else(|| {
                                self.wrong(cfg, None, &format!("{k}.config"), "a mapping")
                            })?;
                            self.check_keys(
                                fields,
                                None,
                                &format!("{k}.config"),
                                &["subnet", "gateway"],
                                &["ip_range", "aux_addresses"],
                            )?;
                            for g in fields {
                                match g.key.as_str() {
                                    "subnet" => {
                                        out.subnet = Some(self.string(
                                            g,
                                            None,
                                            &format!("{k}.config.subnet"),
                                        )?)
                                    }
                                    _ => {
                                        out.gateway = Some(self.string(
                                            g,
                                            None,
                                            &format!("{k}.config.gateway"),
                                        )?)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn volume(&self, v: &Entry) -> Result<AppVolume> {
        let key = format!("volumes.{}", v.key);
        let entries = self.map(v, None, &key)?;
        self.check_keys(
            entries,
            None,
            &key,
            &["name", "driver", "driver_opts", "external", "labels"],
            &[],
        )?;
        let mut out = AppVolume {
            at: self.loc(v.line),
            ..AppVolume::default()
        };
        for f in entries {
            let k = format!("{key}.{}", f.key);
            match f.key.as_str() {
                "name" => out.name = Some(self.string(f, None, &k)?),
                "driver" => out.driver = Some(self.string(f, None, &k)?),
                "driver_opts" => out.driver_opts = self.string_pairs(f, None, &k)?,
                "external" => out.external = self.bool(f, None, &k)?,
                _ => out.labels = self.string_pairs(f, None, &k)?,
            }
        }
        Ok(out)
    }
}

fn protocol(text: &str) -> std::result::Result<String, String> {
    match text.to_ascii_lowercase().as_str() {
        p @ ("tcp" | "udp" | "sctp") => Ok(p.to_string()),
        _ => Err(format!("{text:?} is not tcp, udp or sctp")),
    }
}

/// A port or a port range `A` or `A-B`.
fn port_range(text: &str) -> std::result::Result<(u16, u16), String> {
    let parse = |p: &str| match p.trim().parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{p:?} is not a port number")),
        Ok(n) => Ok(n),
    };
    match text.split_once('-') {
        None => parse(text).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            match a <= b {
                true => Ok((a, b)),
                false => Err(format!("the range {text} goes backwards")),
            }
        }
    }
}

/// Short port syntax: `[[HOST_IP:]PUBLISHED:]TARGET[/PROTO]`, ranges
/// allowed (`9000-9002:9000-9002`), IPv6 host addresses in brackets.
///
/// ```
/// use dockhand::app::file::short_ports;
/// let p = short_ports("127.0.0.1::8080").unwrap();
/// assert_eq!((p[0].target, p[0].published, p[0].host_ip.unwrap().to_string()), (8080, None, "127.0.0.1".into()));
/// assert_eq!(short_ports("9000-9001:8000-8001/udp").unwrap().len(), 2);
/// assert!(short_ports("8000-8010:80").is_err());
/// ```
pub fn short_ports(text: &str) -> std::result::Result<Vec<ServicePort>, String> {
    let (ports, proto) = match text.rsplit_once('/') {
        Some((p, proto)) => (p, protocol(proto)?),
        None => (text, "tcp".to_string()),
    };
    let (host, target) = match ports.rsplit_once(':') {
        Some((h, t)) => (Some(h), t),
        None => (None, ports),
    };
    let (host_ip, published) = match host {
        None => (None, None),
        Some(h) => match h.rsplit_once(':') {
            Some((ip, p)) => {
                let ip = ip.trim_start_matches('[').trim_end_matches(']');
                let ip: IpAddr = ip
                    .parse()
                    .map_err(|_| format!("{ip:?} is not an IP address"))?;
                (Some(ip), (!p.is_empty()).then_some(p))
            }
            None if h.starts_with('[') || h.parse::<IpAddr>().is_ok() => {
                return Err(
                    "write HOST_IP:PUBLISHED:TARGET (HOST_IP::TARGET for a random port)".into(),
                )
            }
            None => (None, (!h.is_empty()).then_some(h)),
        },
    };
    let (t0, t1) = port_range(target)?;
    let published = published.map(port_range).transpose()?;
    if let Some((p0, p1)) = published {
        if p1 - p0 != t1 - t0 {
            return Err("published and target ranges must be equally long (dockhand does not pick a port out of a range)".into());
        }
    }
    Ok((t0..=t1)
        .enumerate()
        .map(|(i, target)| ServicePort {
            target,
            published: published.map(|(p0, _)| p0 + i as u16),
            host_ip,
            protocol: proto.clone(),
        })
        .collect())
}

/// Short volume syntax: `SOURCE:TARGET[:MODE]` or `TARGET` (anonymous).
fn short_mount(text: &str, at: Loc) -> std::result::Result<ServiceMount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [t] => (None, *t, None),
        [s, t] => (Some(*s), *t, None),
        [s, t, m] => (Some(*s), *t, Some(*m)),
        _ => return Err("use SOURCE:TARGET[:ro|rw]".into()),
    };
    if !target.starts_with('/') {
        return Err("TARGET must be an absolute path in the container".into());
    }
    let modes: BTreeSet<&str> = mode.map(|m| m.split(',').collect()).unwrap_or_default();
    if let Some(other) = modes.iter().find(|m| !matches!(**m, "ro" | "rw")) {
        return Err(format!("the mode {other:?} is not supported (ro or rw)"));
    }
    let kind = match source {
        None => ServiceMountType::Volume,
        Some(s) if s.starts_with(['.', '/', '~']) => ServiceMountType::Bind,
        Some(_) => ServiceMountType::Volume,
    };
    Ok(ServiceMount {
        kind,
        source: source.map(str::to_string),
        target: target.to_string(),
        read_only: modes.contains("ro"),
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::yaml::parse;

    fn load(text: &str) -> Result<ComposeFile> {
        let file: Arc<str> = Arc::from("c.yaml");
        read(&parse(text, &file)?, &file)
    }

    #[test]
    fn unknown_and_unsupported_keys_name_line_service_and_key() {
        let e = load("services:\n  web:\n    image: x\n    restrat: always\n").unwrap_err();
        assert_eq!(
            e.message(),
            "c.yaml:4: service \"web\", key \"restrat\": unknown key; did you mean \"restart\"?"
        );
        let e = load("services:\n  web:\n    image: x\n    secrets: [a]\n").unwrap_err();
        assert!(
            e.message()
                .contains("key \"secrets\": not supported by dockhand"),
            "{e}"
        );
        let e = load("services:\n  web:\n    healthcheck:\n      tset: [NONE]\n").unwrap_err();
        assert!(e.message().starts_with("c.yaml:4: service \"web\", key \"healthcheck.tset\": unknown key; did you mean \"test\"?"), "{e}");
        let e = load("volume: {}\n").unwrap_err();
        assert!(e.message().contains("did you mean \"volumes\""), "{e}");
    }

    #[test]
    fn short_and_long_forms_become_one_form() {
        let f = load(
            "services:\n  a:\n    image: x\n    command: sh -c 'echo hi'\n    environment: [A=1, B]\n    labels: {l: v}\n    \
             ports: ['127.0.0.1::80', {target: 53, protocol: udp}]\n    volumes: [data:/d:ro, ./s:/s, {type: tmpfs, target: /t}]\n    \
             depends_on: [b]\n    networks: [front]\n    extra_hosts: {h: 1.2.3.4}\n    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 3}\n  b:\n    image: y\n",
        )
        .unwrap();
        let a = &f.services["a"];
        assert_eq!(a.command.as_deref().unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(a.environment["A"].as_deref(), Some("1"));
        assert_eq!(a.environment["B"], None);
        assert_eq!(a.ports[1].protocol, "udp");
        assert_eq!(
            a.volumes.iter().map(|m| m.kind).collect::<Vec<_>>(),
            [
                ServiceMountType::Volume,
                ServiceMountType::Bind,
                ServiceMountType::Tmpfs
            ]
        );
        assert!(a.volumes[0].read_only);
        assert_eq!(
            a.depends_on["b"].condition,
            DependencyCondition::ServiceStarted
        );
        assert_eq!(a.extra_hosts, ["h:1.2.3.4"]);
        assert_eq!(a.ulimits["nproc"], ServiceUlimit { soft: 3, hard: 3 });
        assert_eq!(a.at["ports"].line, 7);
    }

    #[test]
    fn wrong_types_are_named() {
        let e = load("services:\n  web:\n    ports: \"127.0.0.1::8080\"\n").unwrap_err();
        assert_eq!(
            e.message(),
            "c.yaml:3: service \"web\", key \"ports\": must be a sequence, not a string"
        );
        let e = load("services:\n  web:\n    read_only: yes\n").unwrap_err();
        assert!(e.message().contains("must be true or false"), "{e}");
        let e = load("services:\n  web:\n    mem_limit: lots\n").unwrap_err();
        assert!(e.message().contains("is not a size"), "{e}");
    }
}

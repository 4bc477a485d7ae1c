//! The typed container, normalized from docker's and podman's `inspect` JSON.
//!
//! Both engines print an array of objects with the same top-level layout,
//! but they disagree on details. Every disagreement is handled in ONE place,
//! [`normalize`], row by row of this table (all rows observed in
//! `vendor-docs/captures/{docker,podman}/containers-inspect-*.json`):
//!
//! | field | docker | podman | normalized |
//! |---|---|---|---|
//! | `name` | `"/web"` | `"web"` | `"web"` |
//! | `image_id` | `"sha256:<hex>"` | `"<hex>"` | `"sha256:<hex>"` |
//! | `image` | `Config.Image`, as typed | `ImageName`, `localhost/…` | `ImageName`, else `Config.Image` |
//! | `state.running` | `true` while paused or restarting | `false` while paused | `status == running` |
//! | `state.status` | docker's seven states | also `configured`, `initialized`, `stopping`, `stopped` | created, created, running, exited |
//! | `state.health` | key absent without a healthcheck | always there, `Status: ""` without one | `None` for both |
//! | timestamps | `0001-01-01T00:00:00Z` for "never" | same | `None` |
//! | `ports[].host_ip` | `0.0.0.0` plus a twin `::` binding | `""` = all addresses, no twin | `""` becomes `0.0.0.0`; docker's `::` twins are kept (they are real sockets) |
//! | `ports` without a process | `{}` (created, exited) | the host ports it pre-allocated, though nothing listens | `ports` empty; podman's numbers in `assigned_ports` |
//! | `mounts` | `Mounts[]` plus `--mount type=tmpfs` | `Mounts[]` without tmpfs | `Mounts[]` plus every `HostConfig.Tmpfs` path |
//! | `raw` in JSON | `Config.Env` with values | same, and `CreateCommand` | values removed ([`without_env_values`](crate::container::without_env_values)) |
//!
//! The typed `Config`/`HostConfig` part is [`ContainerConfig`](crate::container::ContainerConfig)
//! (its own table: `container/config.rs`).
//! | `ports` of an exposed, unpublished port | `"80/tcp": null` | same | no binding |
//! | `networks` with `--network host/none` | a `host`/`none` entry without addresses | `Networks` null or absent | no entry |
//! | `networks[].aliases` | user aliases + short id + hostname | user aliases + short id | as printed |
//! | `labels` | `null` when none | `null` or `{}` | empty map |

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::{self, ContainerConfig, WireConfig, WireHostConfig, WireTop};
use crate::decode::json::{lenient_string, null_default};
use crate::error::{Error, ErrorKind, Result};
use crate::input::Protocol;

/// A container as `inspect` describes it, the same shape for docker and
/// podman; `raw` keeps the engine's whole object so nothing is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Container {
    /// Full id, 64 hex characters.
    pub id: String,
    /// Name, without docker's leading `/`.
    pub name: String,
    /// Image reference the container was created from.
    pub image: String,
    /// Image id, `sha256:<hex>`.
    pub image_id: String,
    /// Creation time, RFC 3339 as the engine printed it.
    pub created: String,
    /// Run state.
    pub state: State,
    /// Labels (the image's included).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How often the restart policy restarted it.
    #[serde(default)]
    pub restart_count: u64,
    /// The actual host bindings of published ports, tcp and udp: only while
    /// the container has a process (running, paused), when something holds
    /// the host socket.
    #[serde(default)]
    pub ports: Vec<PortBinding>,
    /// Host ports the engine lists for a container WITHOUT a process: podman
    /// pre-allocates them at create and keeps them across stops. Nothing
    /// listens on them and they are not reserved (another container may take
    /// one, and the next start then fails); the next start tries them.
    #[serde(default)]
    pub assigned_ports: Vec<PortBinding>,
    /// Network attachments, sorted by network name.
    #[serde(default)]
    pub networks: Vec<NetworkAttachment>,
    /// Volumes, bind mounts and tmpfs mounts.
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// What it runs and how: process, restart policy, limits, healthcheck,
    /// logging, security.
    #[serde(default)]
    pub config: ContainerConfig,
    /// The engine's inspect object, unchanged (in JSON without environment
    /// values: see [`without_env_values`](crate::container::without_env_values)).
    #[serde(default, serialize_with = "config::serialize_raw")]
    pub raw: Value,
}

/// Run state of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct State {
    /// The state.
    pub status: Status,
    /// True exactly when `status` is `running` (not while paused).
    pub running: bool,
    /// True while paused.
    pub paused: bool,
    /// Host pid of the main process; 0 when there is none.
    pub pid: u32,
    /// Exit code of the last run (docker also records 127/126 for a failed start).
    pub exit_code: i64,
    /// Last start, RFC 3339; `None` if never started.
    pub started_at: Option<String>,
    /// Last exit, RFC 3339; `None` if never exited.
    pub finished_at: Option<String>,
    /// Whether the kernel OOM killer ended the last run.
    pub oom_killed: bool,
    /// Healthcheck state; `None` when the container has no healthcheck.
    pub health: Option<Health>,
    /// The engine's error text for a failed start (docker), else empty.
    #[serde(default)]
    pub error: String,
}

/// The lifecycle state of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Created, never started (or its start failed).
    Created,
    /// Its process runs.
    Running,
    /// Frozen by `pause`.
    Paused,
    /// Between runs of a restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Its process ended.
    Exited,
    /// Removal failed half-way.
    Dead,
    /// A state this version of dockhand does not know.
    #[serde(other)]
    Unknown,
}

impl Status {
    /// The status for an engine's state word.
    ///
    /// ```
    /// use dockhand::container::Status;
    /// assert_eq!(Status::from_engine("running"), Status::Running);
    /// assert_eq!(Status::from_engine("configured"), Status::Created); // podman
    /// assert_eq!(Status::from_engine("frobnicated"), Status::Unknown);
    /// ```
    pub fn from_engine(word: &str) -> Status {
        match word.to_ascii_lowercase().as_str() {
            "created" | "configured" | "initialized" => Status::Created,
            "running" | "stopping" => Status::Running,
            "paused" => Status::Paused,
            "restarting" => Status::Restarting,
            "removing" => Status::Removing,
            "exited" | "stopped" => Status::Exited,
            "dead" => Status::Dead,
            _ => Status::Unknown,
        }
    }

    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
            Status::Unknown => "unknown",
        }
    }

    /// Whether the container is stopped for good: exited or dead (a
    /// `created` container may be about to start).
    pub fn is_stopped(self) -> bool {
        matches!(self, Status::Exited | Status::Dead)
    }
}

/// Healthcheck state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// starting, healthy or unhealthy.
    pub status: HealthStatus,
    /// Consecutive failed checks.
    pub failing_streak: u64,
    /// Output of the last check (one trailing newline removed: docker keeps
    /// it, podman does not).
    #[serde(default)]
    pub last_output: Option<String>,
    /// Exit code of the last check.
    #[serde(default)]
    pub last_exit_code: Option<i64>,
}

/// The result of a container's healthcheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthStatus {
    /// No verdict yet.
    Starting,
    /// The last checks passed.
    Healthy,
    /// Too many checks failed.
    Unhealthy,
    /// A value this version of dockhand does not know.
    #[serde(other)]
    Unknown,
}

/// One host socket a container port is published on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortBinding {
    /// Port inside the container.
    pub container_port: u16,
    /// tcp, udp or sctp.
    pub protocol: Protocol,
    /// Host address bound (`0.0.0.0`, `::`, `127.0.0.1` …).
    pub host_ip: String,
    /// Host port bound.
    pub host_port: u16,
}

impl PortBinding {
    /// `host_ip:host_port`, with brackets around IPv6 addresses.
    ///
    /// ```
    /// use dockhand::input::Protocol;
    /// # let doc = std::fs::read("vendor-docs/captures/docker/containers-inspect-full.json").unwrap();
    /// let web = &dockhand::container::parse_inspect(&doc).unwrap()[0];
    /// let bound: Vec<String> = web.port_bindings(Some((8080, Protocol::Tcp))).unwrap()
    ///     .iter().map(|b| b.host_address()).collect();
    /// assert_eq!(bound, ["0.0.0.0:32769", "[::]:32769"]);
    /// ```
    pub fn host_address(&self) -> String {
        if self.host_ip.contains(':') {
            format!("[{}]:{}", self.host_ip, self.host_port)
        } else {
            format!("{}:{}", self.host_ip, self.host_port)
        }
    }
}

/// The container's place on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkAttachment {
    /// Network name.
    pub name: String,
    /// IPv4 address, when it has one (a stopped container has none).
    pub ipv4: Option<Ipv4Addr>,
    /// Prefix length of `ipv4`.
    pub ipv4_prefix: Option<u8>,
    /// Global IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
    /// Prefix length of `ipv6`.
    pub ipv6_prefix: Option<u8>,
    /// IPv4 gateway of the container on this network.
    pub gateway: Option<Ipv4Addr>,
    /// IPv6 gateway.
    pub ipv6_gateway: Option<Ipv6Addr>,
    /// MAC address of its interface.
    pub mac: Option<String>,
    /// DNS aliases on this network.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A volume or bind mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Mount {
    /// bind, volume, tmpfs …
    pub kind: MountKind,
    /// Volume name (volumes only).
    pub name: Option<String>,
    /// Host path (the volume's directory for volumes).
    pub source: String,
    /// Path inside the container.
    pub destination: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// What kind of mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MountKind {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A tmpfs.
    Tmpfs,
    /// Anything else.
    #[serde(other)]
    Unknown,
}

/// Address family for [`Container::addresses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpVersion {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// One address of a container, with the network it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Address {
    /// Network name.
    pub network: String,
    /// The address.
    pub address: std::net::IpAddr,
    /// Its prefix length.
    pub prefix: Option<u8>,
}

/// The gateway of a container on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ContainerGateway {
    /// Network name.
    pub network: String,
    /// IPv4 gateway.
    pub gateway: Option<Ipv4Addr>,
    /// IPv6 gateway.
    pub ipv6_gateway: Option<Ipv6Addr>,
}

impl Container {
    /// The attachment to `network`, if the container is on it.
    pub fn network(&self, network: &str) -> Option<&NetworkAttachment> {
        self.networks.iter().find(|n| n.name == network)
    }

    /// The networks asked for: `network` alone (NotFound when the container
    /// is not on it), or all of them.
    fn networks_for(&self, network: Option<&str>) -> Result<Vec<&NetworkAttachment>> {
        match network {
            None => Ok(self.networks.iter().collect()),
            Some(n) => self.network(n).map(|a| vec![a]).ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("container {} is not on network {n:?}", self.name),
                )
            }),
        }
    }

    /// The container's addresses of one family, on `network` or on every
    /// network; NotFound when there is none (e.g. it is not running).
    ///
    /// ```
    /// # let doc = std::fs::read("vendor-docs/captures/docker/containers-inspect-full.json").unwrap();
    /// let c = &dockhand::container::parse_inspect(&doc).unwrap()[0];
    /// use dockhand::container::IpVersion;
    /// let v6 = c.addresses(IpVersion::V6, Some("dhcap-net6")).unwrap();
    /// assert_eq!(v6[0].address.to_string(), "fd00:dead:beef:6::2");
    /// ```
    pub fn addresses(&self, family: IpVersion, network: Option<&str>) -> Result<Vec<Address>> {
        let found: Vec<Address> = self
            .networks_for(network)?
            .into_iter()
            .filter_map(|n| {
                let (address, prefix) = match family {
                    IpVersion::V4 => (n.ipv4.map(Into::into), n.ipv4_prefix),
                    IpVersion::V6 => (n.ipv6.map(Into::into), n.ipv6_prefix),
                };
                Some(Address {
                    network: n.name.clone(),
                    address: address?,
                    prefix,
                })
            })
            .collect();
        if found.is_empty() {
            let family = match family {
                IpVersion::V4 => "IPv4",
                IpVersion::V6 => "IPv6",
            };
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "container {} has no {family} address{} (status {})",
                    self.name,
                    network.map(|n| format!(" on {n}")).unwrap_or_default(),
                    self.state.status.as_str()
                ),
            ));
        }
        Ok(found)
    }

    /// The container's gateways, on `network` or on every network that has
    /// one; NotFound when there is none.
    pub fn gateways(&self, network: Option<&str>) -> Result<Vec<ContainerGateway>> {
        let found: Vec<ContainerGateway> = self
            .networks_for(network)?
            .into_iter()
            .filter(|n| n.gateway.is_some() || n.ipv6_gateway.is_some())
            .map(|n| ContainerGateway {
                network: n.name.clone(),
                gateway: n.gateway,
                ipv6_gateway: n.ipv6_gateway,
            })
            .collect();
        if found.is_empty() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "container {} has no gateway{} (status {})",
                    self.name,
                    network.map(|n| format!(" on {n}")).unwrap_or_default(),
                    self.state.status.as_str()
                ),
            ));
        }
        Ok(found)
    }

    /// The actual host bindings of one container port (`None`: of all
    /// ports); NotFound when that port is not published, or not bound
    /// because the container has no process (the same answer on both
    /// engines, although podman lists pre-allocated ports then).
    ///
    /// ```
    /// # let doc = std::fs::read("vendor-docs/captures/podman/inspect-ports-exited.json").unwrap();
    /// let c = &dockhand::container::parse_inspect(&doc).unwrap()[0];
    /// use dockhand::{input::Protocol, ErrorKind};
    /// assert!(c.ports.is_empty() && !c.assigned_ports.is_empty());
    /// let e = c.port_bindings(Some((4000, Protocol::Tcp))).unwrap_err();
    /// assert_eq!(e.kind(), ErrorKind::NotFound);
    /// assert!(e.message().contains("not running"), "{e}");
    /// ```
    pub fn port_bindings(&self, port: Option<(u16, Protocol)>) -> Result<Vec<PortBinding>> {
        let of_port = |b: &&PortBinding| {
            port.is_none_or(|(p, proto)| b.container_port == p && b.protocol == proto)
        };
        let found: Vec<PortBinding> = self.ports.iter().filter(of_port).cloned().collect();
        match port {
            Some((p, proto)) if found.is_empty() => {
                let assigned: Vec<String> = self
                    .assigned_ports
                    .iter()
                    .filter(of_port)
                    .map(PortBinding::host_address)
                    .collect();
                let why = match assigned.is_empty() {
                    true => String::new(),
                    false => format!(
                        " (it is {}, not running; the engine assigned {} for its next start)",
                        self.state.status.as_str(),
                        assigned.join(", ")
                    ),
                };
                Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "container {} does not publish port {p}/{}{why}",
                        self.name,
                        proto.as_str()
                    ),
                ))
            }
            _ => Ok(found),
        }
    }

    /// Host pid of the main process; Conflict when it is not running.
    pub fn pid(&self) -> Result<u32> {
        match self.state.pid {
            0 => Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "container {} has no process (status {})",
                    self.name,
                    self.state.status.as_str()
                ),
            )),
            pid => Ok(pid),
        }
    }

    /// Creation time as nanoseconds since the epoch, for ordering; `None`
    /// if the engine printed something that is not RFC 3339.
    pub fn created_unix_nanos(&self) -> Option<i128> {
        rfc3339_unix_nanos(&self.created)
    }

    /// Whether this container is what `reference` names: its name, its id,
    /// or a prefix of its id.
    pub fn is_named_by(&self, reference: &str) -> bool {
        self.name == reference || self.id.starts_with(reference)
    }
}

/// Parse `inspect` output (a JSON array) from docker or podman.
///
/// ```
/// let doc = std::fs::read("vendor-docs/captures/podman/containers-inspect-paused.json").unwrap();
/// let c = &dockhand::container::parse_inspect(&doc).unwrap()[0];
/// assert_eq!(c.state.status, dockhand::container::Status::Paused);
/// assert!(!c.state.running && c.state.paused);
/// ```
pub fn parse_inspect(bytes: &[u8]) -> Result<Vec<Container>> {
    let values: Vec<Value> = crate::decode::json::parse_json_list(bytes)?;
    values
        .into_iter()
        .map(|raw| {
            // Read through a reference: a clone of the whole document per
            // container cost more than the rest of `status` for 50 of them.
            let wire = Wire::deserialize(&raw).map_err(|e| {
                Error::parse(format!("unexpected container inspect output: {e}"), bytes)
                    .with_source(e)
            })?;
            Ok(normalize(wire, raw))
        })
        .collect()
}

// ---- the engines' shapes (deserialize only) ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Wire {
    id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    created: String,
    #[serde(default, deserialize_with = "lenient_string")]
    image: String,
    #[serde(default, deserialize_with = "lenient_string")]
    image_name: String,
    #[serde(default, deserialize_with = "null_default")]
    restart_count: u64,
    #[serde(default, deserialize_with = "null_default")]
    state: WireState,
    #[serde(default, deserialize_with = "null_default")]
    config: WireConfig,
    #[serde(default, deserialize_with = "null_default")]
    host_config: WireHostConfig,
    #[serde(default, deserialize_with = "null_default")]
    network_settings: WireNetworkSettings,
    #[serde(default, deserialize_with = "null_default")]
    mounts: Vec<WireMount>,
    #[serde(default, deserialize_with = "lenient_string")]
    path: String,
    #[serde(default, deserialize_with = "null_default")]
    args: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    log_path: String,
    /// podman only.
    #[serde(default, deserialize_with = "null_default")]
    effective_caps: Option<Vec<String>>,
    /// podman only (docker has `HostConfig.Runtime`).
    #[serde(rename = "OCIRuntime", default)]
    oci_runtime: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireState {
    #[serde(default, deserialize_with = "lenient_string")]
    status: String,
    #[serde(default, deserialize_with = "null_default")]
    paused: bool,
    #[serde(default, deserialize_with = "null_default")]
    pid: i64,
    #[serde(default, deserialize_with = "null_default")]
    exit_code: i64,
    #[serde(default, deserialize_with = "lenient_string")]
    error: String,
    #[serde(default, deserialize_with = "lenient_string")]
    started_at: String,
    #[serde(default, deserialize_with = "lenient_string")]
    finished_at: String,
    #[serde(rename = "OOMKilled", default, deserialize_with = "null_default")]
    oom_killed: bool,
    #[serde(default)]
    health: Option<WireHealth>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireHealth {
    #[serde(default, deserialize_with = "lenient_string")]
    status: String,
    #[serde(default, deserialize_with = "null_default")]
    failing_streak: u64,
    #[serde(default, deserialize_with = "null_default")]
    log: Vec<WireHealthLog>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireHealthLog {
    #[serde(default, deserialize_with = "null_default")]
    exit_code: i64,
    #[serde(default, deserialize_with = "lenient_string")]
    output: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireNetworkSettings {
    #[serde(default, deserialize_with = "null_default")]
    ports: BTreeMap<String, Option<Vec<WireHostPort>>>,
    #[serde(default, deserialize_with = "null_default")]
    networks: BTreeMap<String, WireEndpoint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireHostPort {
    #[serde(default, deserialize_with = "lenient_string")]
    host_ip: String,
    #[serde(default, deserialize_with = "lenient_string")]
    host_port: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireEndpoint {
    #[serde(rename = "IPAddress", default, deserialize_with = "lenient_string")]
    ip_address: String,
    #[serde(rename = "IPPrefixLen", default, deserialize_with = "null_default")]
    ip_prefix_len: u8,
    #[serde(
        rename = "GlobalIPv6Address",
        default,
        deserialize_with = "lenient_string"
    )]
    global_ipv6_address: String,
    #[serde(
        rename = "GlobalIPv6PrefixLen",
        default,
        deserialize_with = "null_default"
    )]
    global_ipv6_prefix_len: u8,
    #[serde(default, deserialize_with = "lenient_string")]
    gateway: String,
    #[serde(rename = "IPv6Gateway", default, deserialize_with = "lenient_string")]
    ipv6_gateway: String,
    #[serde(default, deserialize_with = "lenient_string")]
    mac_address: String,
    #[serde(default, deserialize_with = "null_default")]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireMount {
    #[serde(rename = "Type", default, deserialize_with = "lenient_string")]
    kind: String,
    #[serde(default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    source: String,
    #[serde(default, deserialize_with = "lenient_string")]
    destination: String,
    #[serde(rename = "RW", default = "yes", deserialize_with = "null_default")]
    rw: bool,
}

fn yes() -> bool {
    true
}

/// "Never" in both engines' timestamps.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The one function that maps either engine's shape onto [`Container`];
/// each step is a row of the table in the module documentation.
fn normalize(mut w: Wire, raw: Value) -> Container {
    let status = Status::from_engine(&w.state.status);
    let time = |t: String| (!t.is_empty() && t != ZERO_TIME).then_some(t);
    let pid = u32::try_from(w.state.pid).unwrap_or(0);
    // A binding is actual only while a process holds it (running or
    // paused); podman lists the host ports it assigned in every state.
    let bindings = port_bindings(w.network_settings.ports);
    let (ports, assigned_ports) = match pid {
        0 => (Vec::new(), bindings),
        _ => (bindings, Vec::new()),
    };
    let mut mounts: Vec<Mount> = w.mounts.into_iter().map(mount).collect();
    for (destination, options) in &w.host_config.tmpfs {
        if !mounts.iter().any(|m| &m.destination == destination) {
            mounts.push(Mount {
                kind: MountKind::Tmpfs,
                name: None,
                source: String::new(),
                destination: destination.clone(),
                read_only: options.split(',').any(|o| o == "ro"),
            });
        }
    }
    let top = WireTop {
        path: w.path,
        args: w.args,
        log_path: w.log_path,
        effective_caps: w.effective_caps,
        podman: w.oci_runtime.is_some(),
    };
    let image = match w.image_name.is_empty() {
        true => std::mem::take(&mut w.config.image),
        false => w.image_name,
    };
    let labels = std::mem::take(&mut w.config.labels);
    Container {
        name: w.name.strip_prefix('/').unwrap_or(&w.name).to_string(),
        image_id: match w.image.starts_with("sha256:") || w.image.is_empty() {
            true => w.image,
            false => format!("sha256:{}", w.image),
        },
        image,
        state: State {
            status,
            running: status == Status::Running,
            paused: w.state.paused,
            pid,
            exit_code: w.state.exit_code,
            started_at: time(w.state.started_at),
            finished_at: time(w.state.finished_at),
            oom_killed: w.state.oom_killed,
            health: w.state.health.filter(|h| !h.status.is_empty()).map(health),
            error: w.state.error,
        },
        ports,
        assigned_ports,
        networks: w
            .network_settings
            .networks
            .into_iter()
            .filter(|(name, _)| name != "host" && name != "none")
            .map(|(name, e)| network_attachment(name, e))
            .collect(),
        mounts,
        id: w.id,
        created: w.created,
        labels,
        restart_count: w.restart_count,
        config: config::normalize(w.config, w.host_config, top),
        raw,
    }
}

fn health(h: WireHealth) -> Health {
    let last = h.log.into_iter().last();
    Health {
        status: match h.status.as_str() {
            "starting" => HealthStatus::Starting,
            "healthy" => HealthStatus::Healthy,
            "unhealthy" => HealthStatus::Unhealthy,
            _ => HealthStatus::Unknown,
        },
        failing_streak: h.failing_streak,
        last_exit_code: last.as_ref().map(|l| l.exit_code),
        last_output: last.map(|l| match l.output.strip_suffix('\n') {
            Some(trimmed) => trimmed.to_string(),
            None => l.output,
        }),
    }
}

fn mount(m: WireMount) -> Mount {
    Mount {
        kind: match m.kind.as_str() {
            "bind" => MountKind::Bind,
            "volume" => MountKind::Volume,
            "tmpfs" => MountKind::Tmpfs,
            _ => MountKind::Unknown,
        },
        name: (!m.name.is_empty()).then_some(m.name),
        source: m.source,
        destination: m.destination,
        read_only: !m.rw,
    }
}

/// `{"8080/tcp": [{"HostIp": "", "HostPort": "43687"}], "80/tcp": null}` →
/// bindings; keys or ports that do not parse are skipped (raw keeps them).
fn port_bindings(ports: BTreeMap<String, Option<Vec<WireHostPort>>>) -> Vec<PortBinding> {
    let mut out: Vec<PortBinding> = ports
        .into_iter()
        .filter_map(|(key, hosts)| {
            let (port, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
            let container_port: u16 = port.parse().ok()?;
            let protocol = Protocol::from_engine(proto);
            Some(hosts.unwrap_or_default().into_iter().filter_map(move |h| {
                Some(PortBinding {
                    container_port,
                    protocol,
                    host_ip: match h.host_ip.as_str() {
                        "" => "0.0.0.0".to_string(),
                        _ => h.host_ip,
                    },
                    host_port: h.host_port.parse().ok()?,
                })
            }))
        })
        .flatten()
        .collect();
    out.sort_by(|a, b| {
        (a.container_port, a.protocol, &a.host_ip).cmp(&(b.container_port, b.protocol, &b.host_ip))
    });
    out
}

fn network_attachment(name: String, e: WireEndpoint) -> NetworkAttachment {
    let nonempty = |s: String| (!s.is_empty()).then_some(s);
    let ipv4: Option<Ipv4Addr> = e.ip_address.parse().ok();
    let ipv6: Option<Ipv6Addr> = e.global_ipv6_address.parse().ok();
    NetworkAttachment {
        name,
        ipv4_prefix: ipv4.and(Some(e.ip_prefix_len)),
        ipv6_prefix: ipv6.and(Some(e.global_ipv6_prefix_len)),
        ipv4,
        ipv6,
        gateway: e.gateway.parse().ok(),
        ipv6_gateway: e.ipv6_gateway.parse().ok(),
        mac: nonempty(e.mac_address),
        aliases: e.aliases,
    }
}

/// `2026-11-23T17:10:22.438212886Z` (or with a `+hh:mm` offset) as
/// nanoseconds since the Unix epoch.
fn rfc3339_unix_nanos(text: &str) -> Option<i128> {
    crate::decode::time::Timestamp::parse_rfc3339(text).map(|t| t.unix_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::capture;

    fn one(engine: &str, slug: &str) -> Container {
        let mut v = parse_inspect(&capture(&format!("{}/{}", engine, slug))).unwrap();
        assert_eq!(v.len(), 1, "{engine}/{slug}");
        v.remove(0)
    }

    const ENGINES: [&str; 2] = ["docker", "podman"];

    #[test]
    fn every_captured_inspect_parses_on_both_engines() {
        for engine in ENGINES {
            let dir = crate::testing::capture_path(engine);
            let mut n = 0;
            for entry in std::fs::read_dir(&dir).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                let is_container_inspect = (name.starts_with("inspect-")
                    || name.starts_with("containers-inspect-")
                    || name.starts_with("container-inspect-"))
                    && name.ends_with(".json")
                    && !name.contains("image");
                if is_container_inspect {
                    let all = parse_inspect(&capture(&format!("{}/{}", engine, &name)))
                        .unwrap_or_else(|e| panic!("{engine}/{name}: {e}"));
                    for c in &all {
                        assert_eq!(c.id.len(), 64, "{engine}/{name}");
                        assert!(!c.name.starts_with('/'), "{engine}/{name}");
                        assert!(c.image_id.starts_with("sha256:"), "{engine}/{name}");
                        assert_ne!(c.state.status, Status::Unknown, "{engine}/{name}");
                        assert!(c.created_unix_nanos().is_some(), "{engine}/{name}");
                    }
                    n += all.len();
                }
            }
            assert!(n >= 15, "{engine}: only {n} containers in the captures");
        }
    }

    #[test]
    fn running_full_normalizes_the_same_on_both_engines() {
        for engine in ENGINES {
            let c = one(engine, "containers-inspect-full.json");
            assert_eq!(c.name, "dhcap-full");
            assert_eq!(c.state.status, Status::Running);
            assert!(c.state.running && !c.state.paused && c.state.pid > 0);
            assert!(c.state.health.is_none(), "{engine}: no healthcheck");
            assert!(c.state.started_at.is_some() && c.state.finished_at.is_none());
            assert_eq!(c.labels["dhcap.note"], "a b,c=d");
            assert_eq!(c.labels["dhcap.role"], "full");
            assert!(
                c.image.ends_with("dockhand-test/busybox:latest"),
                "{}",
                c.image
            );
            // Ports: the actual bindings, tcp and udp.
            let udp = c.port_bindings(Some((81, Protocol::Udp))).unwrap();
            assert_eq!(udp[0].host_ip, "0.0.0.0", "{engine}");
            assert!(udp[0].host_port >= 18000, "{engine}");
            let random = c.port_bindings(Some((8080, Protocol::Tcp))).unwrap();
            assert!(
                random[0].host_port > 0,
                "{engine}: random host port assigned"
            );
            let local = c.port_bindings(Some((82, Protocol::Tcp))).unwrap();
            assert_eq!(local.len(), 1);
            assert_eq!(local[0].host_ip, "127.0.0.1");
            assert_eq!(
                c.port_bindings(Some((82, Protocol::Udp)))
                    .unwrap_err()
                    .kind(),
                ErrorKind::NotFound
            );
            // Networks: two, sorted, dual stack on one.
            let names: Vec<&str> = c.networks.iter().map(|n| n.name.as_str()).collect();
            assert_eq!(names, ["dhcap-net2", "dhcap-net6"], "{engine}");
            let n6 = c.network("dhcap-net6").unwrap();
            assert_eq!(n6.ipv4_prefix, Some(24));
            assert_eq!(n6.ipv6_prefix, Some(64));
            assert!(n6.ipv6.unwrap().to_string().starts_with("fd00:dead:beef:"));
            assert!(n6.ipv6_gateway.unwrap().to_string().ends_with("::1"));
            assert!(n6.gateway.unwrap().to_string().ends_with(".0.1"));
            assert!(n6.mac.is_some());
            assert!(n6.aliases.iter().any(|a| a == "web") && n6.aliases.iter().any(|a| a == "www"));
            assert_eq!(c.addresses(IpVersion::V6, None).unwrap().len(), 1);
            assert_eq!(c.addresses(IpVersion::V4, None).unwrap().len(), 2);
            assert_eq!(c.gateways(Some("dhcap-net2")).unwrap().len(), 1);
            // Mounts.
            let data = c.mounts.iter().find(|m| m.destination == "/data").unwrap();
            assert_eq!(data.kind, MountKind::Volume);
            assert_eq!(data.name.as_deref(), Some("dhcap-vol"));
            assert!(!data.read_only);
            let bind = c.mounts.iter().find(|m| m.destination == "/bind").unwrap();
            assert_eq!(bind.kind, MountKind::Bind);
            assert_eq!(bind.source, "/tmp/dhcap/bind");
            assert!(bind.read_only);
            assert_eq!(c.raw["Id"], c.id.as_str());
        }
    }

    #[test]
    fn docker_keeps_the_ipv6_twin_of_an_all_addresses_binding() {
        let c = one("docker", "containers-inspect-full.json");
        let ips: Vec<String> = c
            .port_bindings(Some((8080, Protocol::Tcp)))
            .unwrap()
            .into_iter()
            .map(|b| b.host_ip)
            .collect();
        assert_eq!(ips.len(), 2);
        assert!(ips.iter().any(|ip| ip == "::"));
        assert_eq!(
            one("podman", "containers-inspect-full.json")
                .port_bindings(Some((8080, Protocol::Tcp)))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn paused_is_not_running_on_both_engines_although_docker_says_so() {
        let docker = one("docker", "containers-inspect-paused.json");
        assert_eq!(docker.raw["State"]["Running"], true);
        for c in [docker, one("podman", "containers-inspect-paused.json")] {
            assert_eq!(c.state.status, Status::Paused);
            assert!(!c.state.running && c.state.paused);
            assert!(c.pid().is_ok(), "a paused container keeps its pid");
            assert!(!c
                .port_bindings(Some((91, Protocol::Udp)))
                .unwrap()
                .is_empty());
        }
    }

    #[test]
    fn exited_and_created_have_no_process_or_address() {
        for engine in ENGINES {
            let exited = one(engine, "containers-inspect-exited.json");
            assert_eq!(exited.state.status, Status::Exited);
            assert_eq!(exited.state.exit_code, 3);
            assert!(exited.state.finished_at.is_some());
            assert_eq!(exited.pid().unwrap_err().kind(), ErrorKind::Conflict);
            assert_eq!(
                exited.addresses(IpVersion::V4, None).unwrap_err().kind(),
                ErrorKind::NotFound
            );
            assert!(exited.ports.is_empty());
            let created = one(engine, "containers-inspect-created.json");
            assert_eq!(created.state.status, Status::Created);
            assert!(created.state.started_at.is_none(), "{engine}");
            assert!(!created.state.running);
        }
    }

    #[test]
    fn restarting_counts_restarts() {
        let docker = one("docker", "containers-inspect-restarting.json");
        assert_eq!(docker.state.status, Status::Restarting);
        assert!(!docker.state.running);
        assert!(docker.restart_count > 0);
        // podman shows the running phase of its restart loop.
        assert!(one("podman", "containers-inspect-restarting.json").restart_count > 0);
    }

    #[test]
    fn host_and_none_networks_give_no_attachment_on_both_engines() {
        for engine in ENGINES {
            for slug in ["inspect-nethost.json", "inspect-netnone.json"] {
                let c = one(engine, slug);
                assert!(c.networks.is_empty(), "{engine}/{slug}: {:?}", c.networks);
            }
        }
    }

    #[test]
    fn health_is_none_without_healthcheck_and_typed_with_one() {
        for engine in ENGINES {
            let c = one(engine, "inspect-healthy.json");
            assert_eq!(c.state.health.unwrap().status, HealthStatus::Healthy);
            assert!(one(engine, "containers-inspect-exited.json")
                .state
                .health
                .is_none());
        }
    }

    #[test]
    fn unknown_states_and_odd_values_do_not_break_parsing() {
        let doc = br#"[{"Id":"ab","Name":"/x","State":{"Status":"hibernating","Pid":null,"Health":{"Status":"meh"}},
            "Config":null,"NetworkSettings":{"Ports":{"80/tcp":null,"x/tcp":[],"81/udp":[{"HostIp":"","HostPort":"nope"}]},"Networks":null},"Mounts":null,"NewKey":{"a":1}}]"#;
        let c = &parse_inspect(doc).unwrap()[0];
        assert_eq!(c.name, "x");
        assert_eq!(c.state.status, Status::Unknown);
        assert_eq!(
            c.state.health.as_ref().unwrap().status,
            HealthStatus::Unknown
        );
        assert!(c.ports.is_empty() && c.networks.is_empty() && c.mounts.is_empty());
        assert_eq!(c.raw["NewKey"]["a"], 1);
        let e = parse_inspect(b"[{\"Name\":\"no id\"}]").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse);
        assert!(e.raw().is_some());
    }

    #[test]
    fn a_batch_keeps_each_engine_object_whole_and_in_order() {
        for engine in ENGINES {
            let objects: Vec<Value> = [
                "containers-inspect-full.json",
                "containers-inspect-exited.json",
                "containers-inspect-paused.json",
                "containers-inspect-created.json",
            ]
            .iter()
            .flat_map(|slug| {
                serde_json::from_slice::<Vec<Value>>(&capture(&format!("{}/{}", engine, slug)))
                    .unwrap()
            })
            .collect();
            let batch = serde_json::to_vec(&objects).unwrap();
            let parsed = parse_inspect(&batch).unwrap();
            assert_eq!(parsed.len(), objects.len(), "{engine}");
            for (c, object) in parsed.iter().zip(&objects) {
                assert_eq!(&c.raw, object, "{engine}");
                assert_eq!(c.raw["Id"], c.id.as_str(), "{engine}");
            }
            let statuses: Vec<Status> = parsed.iter().map(|c| c.state.status).collect();
            assert_eq!(
                statuses,
                [
                    Status::Running,
                    Status::Exited,
                    Status::Paused,
                    Status::Created
                ],
                "{engine}"
            );
        }
    }

    #[test]
    fn our_json_round_trips() {
        let c = one("podman", "containers-inspect-full.json");
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains("\"restart_count\":0") && text.contains("\"ipv4_prefix\":24"));
        let back: Container = serde_json::from_str(&text).unwrap();
        // The values of the environment are never printed, so they do not come back.
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.config.env.value("PLAIN"), Some(""));
        assert_eq!(c.config.env.value("PLAIN"), Some("1"));
        assert!(
            !text.contains("PLAIN=1"),
            "podman's CreateCommand has -e PLAIN=1"
        );
    }

    #[test]
    fn timestamps_order_across_fraction_lengths_and_offsets() {
        let t = |s| rfc3339_unix_nanos(s).unwrap();
        assert_eq!(t("1970-01-01T00:00:00Z"), 0);
        assert_eq!(t("2000-03-01T00:00:00Z"), 951_868_800 * 1_000_000_000);
        assert!(t("2026-11-23T17:02:33.3Z") > t("2026-11-23T17:02:33.29999Z"));
        assert_eq!(t("2026-11-23T18:02:33+01:00"), t("2026-11-23T17:02:33Z"));
        assert!(rfc3339_unix_nanos("yesterday").is_none());
    }
}

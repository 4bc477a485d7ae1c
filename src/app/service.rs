//! A service's container: its name, labels and the
//! [`RunOptions`](crate::container::RunOptions) it is created with.
//!
//! Every value is validated here through dockhand's input types, before any
//! engine call. A key of the file that `RunOptions` cannot express yet is an
//! error naming the key, the service and the line ("not supported yet"),
//! never dropped: the run flags of issue 13 bring them.

use std::collections::BTreeMap;

use super::file::{Loc, MountType, Service, ServicePort};
use super::project::Project;
use super::state::labels;
use crate::container::RunOptions;
use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::input::{
    ContainerRef, Cpus, EnvVar, ImageRef, KeyValue, MemorySize, NetworkAlias, NetworkName,
    PortSpec, RestartPolicy, VolumeSpec, Word,
};

/// dockhand's version as `com.docker.compose.version` (numeric semver:
/// docker-compose 1.29.2's `up` compares it and crashes on anything else).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Host ports an update keeps: (container port, protocol, host ip) → host port.
pub type PinnedPorts = BTreeMap<(u16, String, String), u16>;

/// Everything needed to create one service's container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// The service.
    pub service: String,
    /// The options (the first network in `network`).
    pub opts: RunOptions,
    /// Further networks, connected before the first start, with their aliases.
    pub more_networks: Vec<(NetworkName, Vec<NetworkAlias>)>,
    /// Published ports without a fixed host port (they get pinned).
    pub unpinned: Vec<ServicePort>,
}

fn not_yet(at: &Loc, service: &str, key: &str) -> Error {
    at.error(
        Some(service),
        key,
        "not supported yet: dockhand's container options cannot express it (the run flags of issue 13 will)",
    )
}

fn bad(at: &Loc, service: &str, key: &str, e: Error) -> Error {
    at.error(Some(service), key, e.message())
}

/// The container of service `name`: options, labels (compose's contract
/// with `hash`), ports pinned as `pinned` says.
///
/// ```
/// use dockhand::app::{project::Project, service::container_spec};
/// let mut p = Project::empty("shop");
/// p.services.insert("web".into(), dockhand::app::file::Service { image: Some("busybox".into()), ..Default::default() });
/// let spec = container_spec(&p, "web", dockhand::EngineKind::Docker, "h", &Default::default()).unwrap();
/// assert_eq!(spec.opts.name.unwrap().as_str(), "shop-web-1");
/// ```
pub fn container_spec(
    project: &Project,
    name: &str,
    kind: EngineKind,
    hash: &str,
    pinned: &PinnedPorts,
) -> Result<ContainerSpec> {
    let s = project
        .services
        .get(name)
        .ok_or_else(|| Error::invalid_input(format!("no such service: {name}")))?;
    let at = |key: &str| {
        s.at.get(key)
            .cloned()
            .unwrap_or_else(|| s.defined_at.clone())
    };
    refuse_unmapped(s, name, &at)?;
    let image = image_of(project, name, s);
    let mut opts =
        RunOptions::new(ImageRef::new(&image).map_err(|e| bad(&at("image"), name, "image", e))?);
    let container = project.container_name(name);
    opts.name = Some(ContainerRef::new(&container).map_err(|e| bad(&s.defined_at, name, "", e))?);
    opts.command = s.command.clone().unwrap_or_default();
    let mut unpinned = Vec::new();
    for p in &s.ports {
        let ip = p.host_ip.map(|i| i.to_string()).unwrap_or_default();
        let host_port = p.published.or_else(|| {
            pinned
                .get(&(p.target, p.protocol.clone(), ip.clone()))
                .copied()
        });
        if p.published.is_none() {
            unpinned.push(p.clone());
        }
        let text = match (&p.host_ip, host_port) {
            (Some(std::net::IpAddr::V6(v6)), hp) => format!(
                "[{v6}]:{}:{}/{}",
                hp.map(|h| h.to_string()).unwrap_or_default(),
                p.target,
                p.protocol
            ),
            (Some(v4), hp) => format!(
                "{v4}:{}:{}/{}",
                hp.map(|h| h.to_string()).unwrap_or_default(),
                p.target,
                p.protocol
            ),
            (None, Some(hp)) => format!("{hp}:{}/{}", p.target, p.protocol),
            (None, None) => format!("{}/{}", p.target, p.protocol),
        };
        opts.publish
            .push(PortSpec::new(&text).map_err(|e| bad(&at("ports"), name, "ports", e))?);
    }
    for (k, v) in &s.environment {
        let v = v.as_deref().unwrap_or_default();
        opts.env
            .push(EnvVar::new(k, v).map_err(|e| bad(&at("environment"), name, "environment", e))?);
    }
    for m in &s.volumes {
        let source = match (m.kind, &m.source) {
            (MountType::Volume, Some(key)) => project.volume_name(key),
            (MountType::Bind, Some(path)) => path.clone(),
            (MountType::Volume, None) => {
                return Err(m.at.error(
                    Some(name),
                    "volumes",
                    "anonymous volumes are not supported yet (the run flags of issue 13)",
                ))
            }
            _ => {
                return Err(m.at.error(
                    Some(name),
                    "volumes",
                    "tmpfs mounts are not supported yet (the run flags of issue 13)",
                ))
            }
        };
        let ro = if m.read_only { ":ro" } else { "" };
        opts.volumes.push(
            VolumeSpec::new(&format!("{source}:{}{ro}", m.target))
                .map_err(|e| bad(&m.at, name, "volumes", e))?,
        );
    }
    let mut labels_out: Vec<(String, String)> = s
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels_out.extend(contract_labels(project, name, hash));
    if kind == EngineKind::Podman {
        labels_out.push((labels::PODMAN_PROJECT.into(), project.name.clone()));
        labels_out.push((labels::PODMAN_SERVICE.into(), name.into()));
    }
    if !s.interfaces.is_empty() {
        let json = serde_json::to_string(&s.interfaces).unwrap_or_default();
        labels_out.push((labels::INTERFACES.into(), json));
    }
    for (k, v) in labels_out {
        opts.labels
            .push(KeyValue::pair(&k, &v).map_err(|e| bad(&at("labels"), name, "labels", e))?);
    }
    let mut more_networks = Vec::new();
    match &s.network_mode {
        Some(mode) => {
            let value = match mode.strip_prefix("service:") {
                Some(other) => format!("container:{}", project.container_name(other)),
                None => mode.clone(),
            };
            opts.network = Some(
                Word::new(value).map_err(|e| bad(&at("network_mode"), name, "network_mode", e))?,
            );
        }
        None => {
            for (i, (key, net)) in s.networks.iter().enumerate() {
                if net.ipv4_address.is_some() {
                    return Err(not_yet(
                        &net.at,
                        name,
                        &format!("networks.{key}.ipv4_address"),
                    ));
                }
                let mut aliases = vec![container.clone(), name.to_string()];
                aliases.extend(net.aliases.iter().cloned());
                let aliases =
                    NetworkAlias::many(aliases).map_err(|e| bad(&net.at, name, "networks", e))?;
                let engine_name = project.network_name(key);
                if i == 0 {
                    opts.network = Some(
                        Word::new(&engine_name).map_err(|e| bad(&net.at, name, "networks", e))?,
                    );
                    opts.network_aliases = aliases
                        .iter()
                        .map(|a| Word::new(a.as_str()))
                        .collect::<Result<_>>()?;
                } else {
                    more_networks.push((
                        NetworkName::new(engine_name)
                            .map_err(|e| bad(&net.at, name, "networks", e))?,
                        aliases,
                    ));
                }
            }
        }
    }
    if let Some(r) = &s.restart {
        opts.restart =
            Some(RestartPolicy::new(r).map_err(|e| bad(&at("restart"), name, "restart", e))?);
    }
    let words = |key: &str, items: &[String]| -> Result<Vec<Word>> {
        items
            .iter()
            .map(|i| Word::new(i.as_str()).map_err(|e| bad(&at(key), name, key, e)))
            .collect()
    };
    opts.cap_add = words("cap_add", &s.cap_add)?;
    opts.devices = words("devices", &s.devices)?;
    opts.privileged = s.privileged.unwrap_or(false);
    let word = |key: &str, v: &Option<String>| -> Result<Option<Word>> {
        v.as_ref()
            .map(|v| Word::new(v.as_str()).map_err(|e| bad(&at(key), name, key, e)))
            .transpose()
    };
    opts.hostname = word("hostname", &s.hostname)?;
    opts.user = word("user", &s.user)?;
    opts.workdir = word("working_dir", &s.working_dir)?;
    opts.memory = s
        .mem_limit
        .map(|b| {
            MemorySize::new(&b.to_string()).map_err(|e| bad(&at("mem_limit"), name, "mem_limit", e))
        })
        .transpose()?;
    opts.cpus = s
        .cpus
        .map(|c| Cpus::new(&c.to_string()).map_err(|e| bad(&at("cpus"), name, "cpus", e)))
        .transpose()?;
    opts.cpu_shares = s.cpu_shares;
    Ok(ContainerSpec {
        service: name.to_string(),
        opts,
        more_networks,
        unpinned,
    })
}

/// The host ports a container holds: what its configuration pins
/// (`HostConfig.PortBindings` with a port: dockhand's pinned ones, podman's
/// pre-allocated ones), else what it is bound to now (a running docker
/// container whose ports were left to the engine).
pub fn pinned_ports(c: &crate::container::Container) -> PinnedPorts {
    let mut out = PinnedPorts::new();
    let normal = |ip: &str| match ip {
        "" | "0.0.0.0" | "::" => String::new(),
        other => other.to_string(),
    };
    for b in &c.ports {
        out.insert(
            (
                b.container_port,
                b.protocol.as_str().to_string(),
                normal(&b.host_ip),
            ),
            b.host_port,
        );
    }
    if let Some(config) = c
        .raw
        .pointer("/HostConfig/PortBindings")
        .and_then(|v| v.as_object())
    {
        for (key, bindings) in config {
            let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            for b in bindings.as_array().into_iter().flatten() {
                let ip = b.get("HostIp").and_then(|v| v.as_str()).unwrap_or_default();
                let host = b
                    .get("HostPort")
                    .and_then(|v| v.as_str())
                    .and_then(|p| p.parse::<u16>().ok());
                if let Some(host) = host.filter(|h| *h != 0) {
                    out.insert((port, proto.to_string(), normal(ip)), host);
                }
            }
        }
    }
    out
}

/// The image a service runs: its `image`, or `PROJECT-SERVICE` when it is
/// only built (compose v2's name).
pub fn image_of(project: &Project, name: &str, s: &Service) -> String {
    s.image
        .clone()
        .unwrap_or_else(|| format!("{}-{name}", project.name))
}

/// The compose labels of every container of the project (contract, write).
pub fn contract_labels(project: &Project, service: &str, hash: &str) -> Vec<(String, String)> {
    let mut out = vec![
        (labels::PROJECT.to_string(), project.name.clone()),
        (labels::SERVICE.to_string(), service.to_string()),
        (labels::NUMBER.to_string(), "1".to_string()),
        (labels::ONEOFF.to_string(), "False".to_string()),
        (labels::HASH.to_string(), hash.to_string()),
        (
            labels::WORKING_DIR.to_string(),
            project.working_dir.display().to_string(),
        ),
        (labels::VERSION.to_string(), VERSION.to_string()),
    ];
    if !project.config_files.is_empty() {
        out.push((
            labels::CONFIG_FILES.to_string(),
            project.config_files.join(","),
        ));
    }
    out
}

/// Keys RunOptions has no field for yet: an error naming the first.
fn refuse_unmapped(s: &Service, name: &str, at: &dyn Fn(&str) -> Loc) -> Result<()> {
    let written = [
        ("entrypoint", s.entrypoint.is_some()),
        ("cap_drop", !s.cap_drop.is_empty()),
        ("healthcheck", s.healthcheck.is_some()),
        ("tmpfs", !s.tmpfs.is_empty()),
        ("read_only", s.read_only == Some(true)),
        ("init", s.init == Some(true)),
        ("ulimits", !s.ulimits.is_empty()),
        ("sysctls", !s.sysctls.is_empty()),
        ("dns", !s.dns.is_empty()),
        ("extra_hosts", !s.extra_hosts.is_empty()),
        ("logging", s.logging.is_some()),
        ("stop_signal", s.stop_signal.is_some()),
        ("expose", !s.expose.is_empty()),
    ];
    match written.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(not_yet(&at(key), name, key)),
        None => Ok(()),
    }
}

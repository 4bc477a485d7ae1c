//! A service's container: its name, labels and the
//! [`RunOptions`] it is created with.
//!
//! Every value is validated here through dockhand's input types and
//! [`RunOptions::validate`](crate::container::RunOptions::validate), before any engine call; an error names the
//! key, the service and the line.
use super::file::{Loc, Service, ServiceMountType, ServicePort};
use super::ports::{publish, PinnedPorts};
use super::project::Project;
use super::state::labels;
use crate::container::RunOptions;
use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::input::{
    Capability, ContainerRef, Cpus, Entrypoint, EnvVar, ExposedPorts, HostEntry, ImageRef,
    KeyValue, LogDriver, LogOpt, MemorySize, MountSpec, NetworkAlias, NetworkEndpoint, NetworkMode,
    NetworkName, PullPolicy, RestartPolicy, Signal, Sysctl, TmpfsMount, Ulimit, VolumeSpec, Word,
};

/// dockhand's version as `com.docker.compose.version` (numeric semver:
/// docker-compose 1.29.2's `up` compares it and crashes on anything else).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything needed to create one service's container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// The service.
    pub service: String,
    /// The options, validated for the engine.
    pub opts: RunOptions,
    /// The service's published ports, as the compose file writes them
    /// (those without a host port get pinned: [`super::ports`]).
    pub ports: Vec<ServicePort>,
}

fn bad(at: &Loc, service: &str, key: &str, e: Error) -> Error {
    at.error(Some(service), key, e.message())
}

/// The container of service `name`: options, labels (compose's contract
/// with `hash`), ports pinned as `pinned` says; validated for `kind`.
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
    let image = image_of(project, name, s);
    let mut opts =
        RunOptions::new(ImageRef::new(&image).map_err(|e| bad(&at("image"), name, "image", e))?);
    // `up` has pulled what its policy says; the engine must not pull on its
    // own (a missing image is an error, not a request to a registry).
    opts.pull = Some(PullPolicy::Never);
    let container = project.container_name(name);
    opts.name = Some(ContainerRef::new(&container).map_err(|e| bad(&s.defined_at, name, "", e))?);
    process(s, name, &at, &mut opts)?;
    ports(s, name, &at, pinned, &mut opts)?;
    for (k, v) in &s.environment {
        let v = v.as_deref().unwrap_or_default();
        opts.env
            .push(EnvVar::new(k, v).map_err(|e| bad(&at("environment"), name, "environment", e))?);
    }
    mounts(project, s, name, &at, &mut opts)?;
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
    networks(project, s, name, &container, &at, &mut opts)?;
    limits(s, name, &at, &mut opts)?;
    opts.validate(kind)
        .map_err(|e| s.defined_at.error(Some(name), "", e.message()))?;
    Ok(ContainerSpec {
        service: name.to_string(),
        opts,
        ports: s.ports.clone(),
    })
}

type At<'a> = dyn Fn(&str) -> Loc + 'a;

/// Command, entrypoint, user, restart, stop, init, healthcheck, logging.
fn process(s: &Service, name: &str, at: &At, opts: &mut RunOptions) -> Result<()> {
    let mut command = s.command.clone().unwrap_or_default();
    if let Some(entry) = &s.entrypoint {
        // A compose list: the program, then words that go before the command.
        let (program, rest) = entry
            .split_first()
            .map_or(("", &[][..]), |(p, r)| (p.as_str(), r));
        opts.entrypoint = Some(match program {
            "" => Entrypoint::none(),
            p => Entrypoint::new(p).map_err(|e| bad(&at("entrypoint"), name, "entrypoint", e))?,
        });
        command.splice(0..0, rest.iter().cloned());
    }
    opts.command = command;
    let word = |key: &str, v: &Option<String>| -> Result<Option<Word>> {
        v.as_ref()
            .map(|v| Word::new(v.as_str()).map_err(|e| bad(&at(key), name, key, e)))
            .transpose()
    };
    opts.user = word("user", &s.user)?;
    opts.workdir = word("working_dir", &s.working_dir)?;
    opts.hostname = word("hostname", &s.hostname)?;
    if let Some(r) = &s.restart {
        opts.restart =
            Some(RestartPolicy::new(r).map_err(|e| bad(&at("restart"), name, "restart", e))?);
    }
    opts.init = s.init.unwrap_or(false);
    opts.read_only = s.read_only.unwrap_or(false);
    opts.privileged = s.privileged.unwrap_or(false);
    opts.stop_signal = s
        .stop_signal
        .as_deref()
        .map(|sig| Signal::new(sig).map_err(|e| bad(&at("stop_signal"), name, "stop_signal", e)))
        .transpose()?;
    // As docker-compose does: the container's own stop timeout, so a plain
    // `docker stop` honours it too.
    opts.stop_timeout = s
        .stop_grace_period
        .map(|d| d.as_secs().try_into().unwrap_or(u32::MAX));
    if let Some(h) = &s.healthcheck {
        let at = at("healthcheck");
        match h.test.as_deref() {
            _ if h.disable => opts.no_healthcheck = true,
            Some([none]) if none == "NONE" => opts.no_healthcheck = true,
            Some([kind, shell]) if kind == "CMD-SHELL" => opts.health.command = Some(shell.clone()),
            // The engines' CLIs know only --health-cmd (CMD-SHELL): the exec
            // form runs as the same words, shell-quoted.
            Some([kind, words @ ..]) if kind == "CMD" && !words.is_empty() => {
                let joined = shlex::try_join(words.iter().map(String::as_str))
                    .map_err(|e| at.error(Some(name), "healthcheck.test", e))?;
                opts.health.command = Some(joined);
            }
            Some(_) => {
                return Err(at.error(
                    Some(name),
                    "healthcheck.test",
                    "must be [CMD, …], [CMD-SHELL, command] or [NONE]",
                ))
            }
            None => {}
        }
        opts.health.interval = h.interval;
        opts.health.timeout = h.timeout;
        opts.health.start_period = h.start_period;
        opts.health.retries = h.retries.map(|r| r.try_into().unwrap_or(u32::MAX));
    }
    if let Some(l) = &s.logging {
        let at = at("logging");
        opts.log_driver = l
            .driver
            .as_deref()
            .map(|d| LogDriver::new(d).map_err(|e| bad(&at, name, "logging.driver", e)))
            .transpose()?;
        for (k, v) in &l.options {
            opts.log_opts.push(
                LogOpt::new(&format!("{k}={v}"))
                    .map_err(|e| bad(&at, name, "logging.options", e))?,
            );
        }
    }
    Ok(())
}

/// Published and exposed ports.
fn ports(
    s: &Service,
    name: &str,
    at: &At,
    pinned: &PinnedPorts,
    opts: &mut RunOptions,
) -> Result<()> {
    opts.publish = publish(&s.ports, pinned).map_err(|e| bad(&at("ports"), name, "ports", e))?;
    for e in &s.expose {
        opts.expose
            .push(ExposedPorts::new(e).map_err(|err| bad(&at("expose"), name, "expose", err))?);
    }
    Ok(())
}

/// Volumes, bind mounts, tmpfs.
fn mounts(
    project: &Project,
    s: &Service,
    name: &str,
    at: &At,
    opts: &mut RunOptions,
) -> Result<()> {
    for m in &s.volumes {
        let ro = if m.read_only { ":ro" } else { "" };
        match (m.kind, &m.source) {
            (ServiceMountType::Tmpfs, _) => opts
                .mounts
                .push(MountSpec::tmpfs(&m.target).map_err(|e| bad(&m.at, name, "volumes", e))?),
            (kind, source) => {
                let text = match (kind, source) {
                    (ServiceMountType::Volume, Some(key)) => {
                        format!("{}:{}{ro}", project.volume_name(key), m.target)
                    }
                    (_, Some(path)) => format!("{path}:{}{ro}", m.target),
                    (_, None) => format!("{}{ro}", m.target),
                };
                opts.volumes
                    .push(VolumeSpec::new(&text).map_err(|e| bad(&m.at, name, "volumes", e))?);
            }
        }
    }
    for t in &s.tmpfs {
        opts.tmpfs
            .push(TmpfsMount::new(t).map_err(|e| bad(&at("tmpfs"), name, "tmpfs", e))?);
    }
    Ok(())
}

/// Networks (aliases: the container name, the service name, the file's
/// aliases — compose v2's), or the network mode; DNS and host entries.
fn networks(
    project: &Project,
    s: &Service,
    name: &str,
    container: &str,
    at: &At,
    opts: &mut RunOptions,
) -> Result<()> {
    match s.network_mode.as_deref() {
        Some("bridge") => opts
            .networks
            .push(NetworkEndpoint::new(NetworkName::new("bridge")?)),
        Some(mode) => {
            let value = match mode.strip_prefix("service:") {
                Some(other) => format!("container:{}", project.container_name(other)),
                None => mode.to_string(),
            };
            opts.network_mode = Some(
                NetworkMode::new(&value)
                    .map_err(|e| bad(&at("network_mode"), name, "network_mode", e))?,
            );
        }
        None => {
            for (key, net) in &s.networks {
                let mut aliases = vec![container.to_string(), name.to_string()];
                aliases.extend(net.aliases.iter().cloned());
                let mut endpoint = NetworkEndpoint::new(
                    NetworkName::new(project.network_name(key))
                        .map_err(|e| bad(&net.at, name, "networks", e))?,
                );
                endpoint.aliases =
                    NetworkAlias::many(aliases).map_err(|e| bad(&net.at, name, "networks", e))?;
                endpoint.ip = net.ipv4_address;
                opts.networks.push(endpoint);
            }
        }
    }
    for d in &s.dns {
        let ip = d.parse().map_err(|_| {
            at("dns").error(Some(name), "dns", format!("{d:?} is not an IP address"))
        })?;
        opts.dns.push(ip);
    }
    for h in &s.extra_hosts {
        opts.add_hosts
            .push(HostEntry::new(h).map_err(|e| bad(&at("extra_hosts"), name, "extra_hosts", e))?);
    }
    Ok(())
}

/// Capabilities, devices, memory, CPUs, ulimits, sysctls.
fn limits(s: &Service, name: &str, at: &At, opts: &mut RunOptions) -> Result<()> {
    let caps = |key: &str, items: &[String]| -> Result<Vec<Capability>> {
        items
            .iter()
            .map(|c| Capability::new(c).map_err(|e| bad(&at(key), name, key, e)))
            .collect()
    };
    opts.cap_add = caps("cap_add", &s.cap_add)?;
    opts.cap_drop = caps("cap_drop", &s.cap_drop)?;
    opts.devices = s
        .devices
        .iter()
        .map(|d| Word::new(d.as_str()).map_err(|e| bad(&at("devices"), name, "devices", e)))
        .collect::<Result<_>>()?;
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
    for (k, u) in &s.ulimits {
        opts.ulimits.push(
            Ulimit::new(&format!("{k}={}:{}", u.soft, u.hard))
                .map_err(|e| bad(&at("ulimits"), name, "ulimits", e))?,
        );
    }
    for (k, v) in &s.sysctls {
        opts.sysctls.push(
            Sysctl::new(&format!("{k}={v}"))
                .map_err(|e| bad(&at("sysctls"), name, "sysctls", e))?,
        );
    }
    Ok(())
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

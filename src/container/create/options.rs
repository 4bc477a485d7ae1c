//! [`RunOptions`]: everything `create` and `run` take, and the checks that
//! concern several options at once or one engine ([`RunOptions::validate`]).

use std::net::IpAddr;
use std::time::Duration;

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::input::{
    BlkioWeight, Capability, ContainerLink, ContainerRef, CpuPeriod, CpuQuota, CpuSet, Cpus,
    DnsOption, DomainName, Entrypoint, EnvVar, ExposedPorts, GpuRequest, GroupName, HostEntry,
    ImageRef, KeyValue, KeyValueFile, LogDriver, LogOpt, Mac, MemorySize, MemorySwap, MountSpec,
    NamespaceMode, NetworkEndpoint, NetworkMode, OomScoreAdj, PidsLimit, Platform, PortSpec,
    PullPolicy, RestartPolicy, SecurityOpt, Signal, Sysctl, TmpfsMount, Ulimit, UsernsMode,
    VolumeSpec, Word,
};

/// A container healthcheck (`--health-*`). Unset fields keep the image's
/// (or the engine's) values. Build with `Healthcheck::default()` and set
/// the fields you need.
///
/// ```
/// use std::time::Duration;
/// use dockhand::container::Healthcheck;
/// let mut h = Healthcheck::default();
/// h.command = Some("wget -q -O- http://127.0.0.1/ || exit 1".into());
/// h.interval = Some(Duration::from_secs(5));
/// h.retries = Some(3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Healthcheck {
    /// `--health-cmd`: a command line the container's shell runs
    /// (`CMD-SHELL`); exit 0 is healthy.
    pub command: Option<String>,
    /// `--health-interval`: time between checks (at least 1 ms: docker's minimum).
    pub interval: Option<Duration>,
    /// `--health-timeout`: how long one check may take (at least 1 s:
    /// podman's minimum).
    pub timeout: Option<Duration>,
    /// `--health-start-period`: failures in this time after start do not count.
    pub start_period: Option<Duration>,
    /// `--health-retries`: failures in a row before `unhealthy`.
    pub retries: Option<u32>,
}

impl Healthcheck {
    /// Whether any field is set.
    pub fn is_set(&self) -> bool {
        *self != Healthcheck::default()
    }
}

/// Everything `create` / `run` take. Build with [`RunOptions::new`] and set
/// the fields you need; each field's doc names the engine flag it becomes.
/// Values are validated by their types; [`RunOptions::validate`] checks the
/// rules between fields and per engine (the handle's `run`/`create` call it
/// before any engine call).
///
/// ```
/// use dockhand::container::RunOptions;
/// use dockhand::input::{Capability, ContainerRef, EnvVar, ImageRef, NetworkEndpoint, NetworkName, PortSpec, Ulimit};
/// let mut o = RunOptions::new(ImageRef::new("busybox")?);
/// o.name = Some(ContainerRef::new("web")?);
/// o.publish.push(PortSpec::new("19000-19002:9000-9002")?);
/// o.env.push(EnvVar::new("TOKEN", "s3cret")?); // goes to a 0600 env-file, not argv
/// o.networks.push(NetworkEndpoint::parse("front:ip=10.1.0.5,alias=web")?);
/// o.networks.push(NetworkEndpoint::new(NetworkName::new("back")?));
/// o.cap_drop.push(Capability::new("ALL")?);
/// o.ulimits.push(Ulimit::new("nofile=1024:2048")?);
/// o.read_only = true;
/// o.command = vec!["httpd".into(), "-f".into()];
/// o.validate(dockhand::EngineKind::Docker)?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// Image to run.
    pub image: ImageRef,
    /// Command and arguments (the image's default when empty).
    pub command: Vec<String>,
    /// `--name` (the engine picks one when `None`).
    pub name: Option<ContainerRef>,

    /// `--entrypoint`: the program to run instead of the image's.
    pub entrypoint: Option<Entrypoint>,
    /// `-u/--user`.
    pub user: Option<Word>,
    /// `-w/--workdir`.
    pub workdir: Option<Word>,
    /// `--group-add`: supplementary groups.
    pub group_add: Vec<GroupName>,
    /// `-t/--tty`: give the container a terminal.
    pub tty: bool,
    /// `-i/--interactive`: keep its stdin open (an attached `run` connects ours).
    pub interactive: bool,
    /// `--init`: run an init process as PID 1 that reaps zombies and
    /// forwards signals (docker-init / podman's catatonit).
    pub init: bool,
    /// `--stop-signal`.
    pub stop_signal: Option<Signal>,
    /// `--stop-timeout`: seconds `stop` waits before killing.
    pub stop_timeout: Option<u32>,
    /// `--restart`.
    pub restart: Option<RestartPolicy>,
    /// `--rm`: remove the container when it exits.
    pub remove_on_exit: bool,

    /// `-e`: environment variables (passed in a private env-file, never argv).
    pub env: Vec<EnvVar>,
    /// `--env-file`: the caller's own env-files (the engine reads them).
    pub env_files: Vec<KeyValueFile>,
    /// `-l/--label`: labels.
    pub labels: Vec<KeyValue>,
    /// `--label-file`: files of labels (the engine reads them).
    pub label_files: Vec<KeyValueFile>,

    /// `-v/--volume`: volumes and bind mounts, short syntax.
    pub volumes: Vec<VolumeSpec>,
    /// `--mount`: mounts, long syntax.
    pub mounts: Vec<MountSpec>,
    /// `--tmpfs`.
    pub tmpfs: Vec<TmpfsMount>,
    /// `--volumes-from`.
    pub volumes_from: Vec<ContainerRef>,
    /// `--read-only`: a read-only root filesystem (podman adds tmpfs on
    /// /run, /tmp and /var/tmp; docker none).
    pub read_only: bool,

    /// `--network` (repeatable) with each network's `--ip`, `--ip6`,
    /// `--network-alias`, `--mac-address`. docker gets the first on create
    /// and the others with `network connect` before the start; podman all
    /// of them on one `run`.
    pub networks: Vec<NetworkEndpoint>,
    /// `--network host|none|container:NAME` instead of networks.
    pub network_mode: Option<NetworkMode>,
    /// `--mac-address` on the engine's default network (with `networks`,
    /// set [`NetworkEndpoint::mac`] instead).
    pub mac_address: Option<Mac>,
    /// `--link`.
    pub links: Vec<ContainerLink>,
    /// `-p/--publish`: published ports (ranges allowed).
    pub publish: Vec<PortSpec>,
    /// `-P/--publish-all`: publish every exposed port on a random host port.
    pub publish_all: bool,
    /// `--expose`: ports exposed without publishing them.
    pub expose: Vec<ExposedPorts>,
    /// `-h/--hostname`.
    pub hostname: Option<Word>,
    /// `--domainname` (docker only: podman 4.3 has no such flag).
    pub domainname: Option<DomainName>,
    /// `--dns`: name servers.
    pub dns: Vec<IpAddr>,
    /// `--dns-search`: search domains.
    pub dns_search: Vec<DomainName>,
    /// `--dns-option`: resolver options.
    pub dns_options: Vec<DnsOption>,
    /// `--add-host`: extra /etc/hosts lines.
    pub add_hosts: Vec<HostEntry>,

    /// `--privileged`.
    pub privileged: bool,
    /// `--cap-add`.
    pub cap_add: Vec<Capability>,
    /// `--cap-drop`.
    pub cap_drop: Vec<Capability>,
    /// `--security-opt`.
    pub security_opts: Vec<SecurityOpt>,
    /// `--device`.
    pub devices: Vec<Word>,
    /// `--gpus` (docker; podman: CDI `--device=nvidia.com/gpu=…`).
    pub gpus: Option<GpuRequest>,
    /// `--ipc`: any [`NamespaceMode`].
    pub ipc: Option<NamespaceMode>,
    /// `--pid`: host, private or container:NAME.
    pub pid: Option<NamespaceMode>,
    /// `--uts`: host or private.
    pub uts: Option<NamespaceMode>,
    /// `--cgroupns`: host or private.
    pub cgroupns: Option<NamespaceMode>,
    /// `--userns`.
    pub userns: Option<UsernsMode>,

    /// `-m/--memory` (at least 6 MiB: docker's minimum).
    pub memory: Option<MemorySize>,
    /// `--memory-reservation`: the soft limit (at most `memory`).
    pub memory_reservation: Option<MemorySize>,
    /// `--memory-swap`: memory plus swap (needs `memory`).
    pub memory_swap: Option<MemorySwap>,
    /// `--shm-size`: size of /dev/shm.
    pub shm_size: Option<MemorySize>,
    /// `--cpus` (not with `cpu_quota`).
    pub cpus: Option<Cpus>,
    /// `-c/--cpu-shares`: relative CPU weight.
    pub cpu_shares: Option<u64>,
    /// `--cpu-quota`: µs per `cpu_period`.
    pub cpu_quota: Option<CpuQuota>,
    /// `--cpu-period`: µs.
    pub cpu_period: Option<CpuPeriod>,
    /// `--cpuset-cpus`.
    pub cpuset_cpus: Option<CpuSet>,
    /// `--pids-limit`.
    pub pids_limit: Option<PidsLimit>,
    /// `--blkio-weight`.
    pub blkio_weight: Option<BlkioWeight>,
    /// `--oom-score-adj`.
    pub oom_score_adj: Option<OomScoreAdj>,
    /// `--ulimit`.
    pub ulimits: Vec<Ulimit>,
    /// `--sysctl`.
    pub sysctls: Vec<Sysctl>,

    /// `--log-driver`.
    pub log_driver: Option<LogDriver>,
    /// `--log-opt`.
    pub log_opts: Vec<LogOpt>,
    /// `--health-cmd`, `--health-interval`, `--health-timeout`,
    /// `--health-start-period`, `--health-retries`.
    pub health: Healthcheck,
    /// `--no-healthcheck`: disable the image's healthcheck (not with `health`).
    pub no_healthcheck: bool,

    /// `--platform`: which platform's image to use.
    pub platform: Option<Platform>,
    /// `--pull`.
    pub pull: Option<PullPolicy>,
    /// `--runtime`: the OCI runtime (runc, crun …).
    pub runtime: Option<Word>,
}

/// docker's memory limit minimum (podman has none and fails at start).
const MIN_MEMORY: u64 = 6 << 20;

impl RunOptions {
    /// Options running `image` with its defaults.
    pub fn new(image: ImageRef) -> RunOptions {
        RunOptions {
            image,
            command: Vec::new(),
            name: None,
            entrypoint: None,
            user: None,
            workdir: None,
            group_add: Vec::new(),
            tty: false,
            interactive: false,
            init: false,
            stop_signal: None,
            stop_timeout: None,
            restart: None,
            remove_on_exit: false,
            env: Vec::new(),
            env_files: Vec::new(),
            labels: Vec::new(),
            label_files: Vec::new(),
            volumes: Vec::new(),
            mounts: Vec::new(),
            tmpfs: Vec::new(),
            volumes_from: Vec::new(),
            read_only: false,
            networks: Vec::new(),
            network_mode: None,
            mac_address: None,
            links: Vec::new(),
            publish: Vec::new(),
            publish_all: false,
            expose: Vec::new(),
            hostname: None,
            domainname: None,
            dns: Vec::new(),
            dns_search: Vec::new(),
            dns_options: Vec::new(),
            add_hosts: Vec::new(),
            privileged: false,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            security_opts: Vec::new(),
            devices: Vec::new(),
            gpus: None,
            ipc: None,
            pid: None,
            uts: None,
            cgroupns: None,
            userns: None,
            memory: None,
            memory_reservation: None,
            memory_swap: None,
            shm_size: None,
            cpus: None,
            cpu_shares: None,
            cpu_quota: None,
            cpu_period: None,
            cpuset_cpus: None,
            pids_limit: None,
            blkio_weight: None,
            oom_score_adj: None,
            ulimits: Vec::new(),
            sysctls: Vec::new(),
            log_driver: None,
            log_opts: Vec::new(),
            health: Healthcheck::default(),
            no_healthcheck: false,
            platform: None,
            pull: None,
            runtime: None,
        }
    }

    /// Check the rules between options, and what `engine` cannot do: an
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error
    /// naming the flags. `run` and `create` call this before any engine
    /// call; compose tooling can call it to check a whole file first.
    ///
    /// ```
    /// use dockhand::{container::RunOptions, input::*, EngineKind};
    /// let mut o = RunOptions::new(ImageRef::new("busybox")?);
    /// o.cpus = Some(Cpus::new("1")?);
    /// o.cpu_quota = Some(CpuQuota::new("50000")?);
    /// let e = o.validate(EngineKind::Docker).unwrap_err();
    /// assert!(e.message().contains("--cpus") && e.message().contains("--cpu-quota"));
    /// o.cpus = None;
    /// o.domainname = Some(DomainName::new("corp.example")?);
    /// assert!(o.validate(EngineKind::Docker).is_ok());
    /// assert!(o.validate(EngineKind::Podman).is_err()); // podman has no --domainname
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn validate(&self, engine: EngineKind) -> Result<()> {
        self.check_command()?;
        self.check_process()?;
        self.check_limits()?;
        self.check_health()?;
        self.check_networks(engine)?;
        self.check_namespaces(engine)?;
        self.check_engine(engine)
    }

    /// Container arguments cannot carry NUL bytes (argv is C strings).
    fn check_command(&self) -> Result<()> {
        match self.command.iter().find(|a| a.contains('\0')) {
            Some(a) => Err(Error::invalid_input(format!(
                "command argument {a:?} contains a NUL byte"
            ))),
            None => Ok(()),
        }
    }

    fn check_process(&self) -> Result<()> {
        let restarts = self.restart.is_some_and(|r| r != RestartPolicy::No);
        if restarts && self.remove_on_exit {
            return conflict("--restart", "--rm");
        }
        Ok(())
    }

    fn check_limits(&self) -> Result<()> {
        if self.cpus.is_some() && self.cpu_quota.is_some() {
            return conflict("--cpus", "--cpu-quota");
        }
        if let Some(m) = self.memory {
            if m.bytes() < MIN_MEMORY {
                return Err(Error::invalid_input(format!(
                    "--memory {} bytes is below 6m, the smallest limit docker takes (podman \
                     would fail at start)",
                    m.bytes()
                )));
            }
        }
        if let (Some(m), Some(r)) = (self.memory, self.memory_reservation) {
            if r > m {
                return Err(Error::invalid_input(format!(
                    "--memory-reservation ({} bytes) must not be above --memory ({} bytes)",
                    r.bytes(),
                    m.bytes()
                )));
            }
        }
        match (self.memory_swap, self.memory) {
            (Some(_), None) => Err(Error::invalid_input(
                "--memory-swap needs --memory (it is memory plus swap)",
            )),
            (Some(MemorySwap::Limit(s)), Some(m)) if s < m => Err(Error::invalid_input(format!(
                "--memory-swap ({} bytes) is memory plus swap: it must not be below --memory \
                     ({} bytes)",
                s.bytes(),
                m.bytes()
            ))),
            _ => Ok(()),
        }
    }

    fn check_health(&self) -> Result<()> {
        let h = &self.health;
        if self.no_healthcheck && h.is_set() {
            return conflict("--no-healthcheck", "--health-*");
        }
        if let Some(cmd) = &h.command {
            if cmd.trim().is_empty() || cmd.contains(['\0', '\n', '\r']) {
                return Err(Error::invalid_input(
                    "--health-cmd must be one non-empty line without NUL bytes",
                ));
            }
        }
        let at_least = |flag: &str, value: Option<Duration>, min: Duration, why: &str| match value {
            Some(d) if d < min => Err(Error::invalid_input(format!(
                "{flag} {d:?} is too short: at least {min:?} ({why})"
            ))),
            _ => Ok(()),
        };
        at_least(
            "--health-interval",
            h.interval,
            Duration::from_millis(1),
            "docker's minimum",
        )?;
        at_least(
            "--health-timeout",
            h.timeout,
            Duration::from_secs(1),
            "podman's minimum",
        )
    }

    fn check_networks(&self, engine: EngineKind) -> Result<()> {
        if let (Some(mode), false) = (&self.network_mode, self.networks.is_empty()) {
            return Err(Error::invalid_input(format!(
                "--network {mode} cannot be combined with other networks"
            )));
        }
        for (i, e) in self.networks.iter().enumerate() {
            if self.networks[..i].iter().any(|o| o.network == e.network) {
                return Err(Error::invalid_input(format!(
                    "--network {} is given twice",
                    e.network
                )));
            }
            if i > 0 && e.mac.is_some() && !engine.quirks().several_networks_per_create {
                return Err(Error::invalid_input(format!(
                    "--mac-address on {}: docker joins every network after the first with \
                     `network connect`, which cannot set a MAC address; give it for the first \
                     network only",
                    e.network
                )));
            }
        }
        if self.mac_address.is_some() && !self.networks.is_empty() {
            return Err(Error::invalid_input(
                "mac_address is for the default network: with networks, set the MAC on the \
                 network (NetworkEndpoint::mac, --network NET:mac=M)",
            ));
        }
        match &self.network_mode {
            Some(NetworkMode::Host) => {
                if let Some(s) = self.sysctls.iter().find(|s| s.is_net()) {
                    return Err(Error::invalid_input(format!(
                        "--sysctl {}: network sysctls need the container's own network \
                         namespace, not --network host",
                        s.key()
                    )));
                }
                Ok(())
            }
            Some(NetworkMode::Container(c)) => {
                let taken = [
                    ("-p/--publish", !self.publish.is_empty()),
                    ("-P/--publish-all", self.publish_all),
                    ("--expose", !self.expose.is_empty()),
                    ("--hostname", self.hostname.is_some()),
                    ("--dns", !self.dns.is_empty()),
                    ("--dns-search", !self.dns_search.is_empty()),
                    ("--dns-option", !self.dns_options.is_empty()),
                    ("--add-host", !self.add_hosts.is_empty()),
                    ("--mac-address", self.mac_address.is_some()),
                    ("--link", !self.links.is_empty()),
                ];
                match taken.iter().find(|(_, set)| *set) {
                    Some((flag, _)) => Err(Error::invalid_input(format!(
                        "{flag} cannot be set with --network container:{c}: the container \
                         uses that container's network"
                    ))),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn check_namespaces(&self, engine: EngineKind) -> Result<()> {
        use NamespaceMode as M;
        let allowed = |flag: &str, mode: &Option<M>, ok: fn(&M) -> bool, list: &str| match mode {
            Some(m) if !ok(m) => Err(Error::invalid_input(format!("{flag} {m}: use {list}"))),
            _ => Ok(()),
        };
        allowed(
            "--pid",
            &self.pid,
            |m| matches!(m, M::Host | M::Private | M::Container(_)),
            "host, private or container:NAME",
        )?;
        allowed(
            "--uts",
            &self.uts,
            |m| matches!(m, M::Host | M::Private),
            "host or private",
        )?;
        allowed(
            "--cgroupns",
            &self.cgroupns,
            |m| matches!(m, M::Host | M::Private),
            "host or private",
        )?;
        if self.uts == Some(M::Host) {
            if self.hostname.is_some() {
                return conflict("--uts host", "--hostname");
            }
            if self.domainname.is_some() {
                return conflict("--uts host", "--domainname");
            }
        }
        match &self.userns {
            Some(u) if engine.quirks().userns_host_only && !u.is_host() => {
                Err(Error::invalid_input(format!(
                    "--userns {u}: docker takes only host here (user-namespace remapping is a \
                     daemon setting, dockerd --userns-remap)"
                )))
            }
            _ => Ok(()),
        }
    }

    /// What one engine cannot do at all (rows of its quirks).
    fn check_engine(&self, engine: EngineKind) -> Result<()> {
        let q = engine.quirks();
        let name = engine.as_str();
        if self.domainname.is_some() && !q.has_domainname {
            return Err(Error::invalid_input(format!(
                "--domainname: {name} has no such option (podman 4.3 refuses it); set a fully \
                 qualified --hostname instead"
            )));
        }
        if let (Some(GpuRequest::Count(n)), true) = (&self.gpus, q.gpus_as_cdi_devices) {
            return Err(Error::invalid_input(format!(
                "--gpus {n}: {name} selects GPUs by CDI device name, not by count; use --gpus \
                 all or --gpus device=ID"
            )));
        }
        if let (Some(d), Some(known)) = (&self.log_driver, q.log_drivers) {
            if !known.contains(&d.as_str()) {
                return Err(Error::invalid_input(format!(
                    "--log-driver {d}: {name}'s drivers are {}",
                    known.join(", ")
                )));
            }
        }
        if let Some(known) = q.log_opt_keys {
            if let Some(o) = self.log_opts.iter().find(|o| !known.contains(&o.key())) {
                return Err(Error::invalid_input(format!(
                    "--log-opt {}: {name} reads only {} (it would ignore this one silently)",
                    o.key(),
                    known.join(", ")
                )));
            }
        }
        if self.pull == Some(PullPolicy::Newer) && !q.pull_newer {
            return Err(Error::invalid_input(format!(
                "--pull newer is podman's; {name} takes always, missing or never"
            )));
        }
        Ok(())
    }
}

fn conflict(a: &str, b: &str) -> Result<()> {
    Err(Error::invalid_input(format!(
        "{a} and {b} cannot be used together (both engines refuse it)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RunOptions {
        RunOptions::new(ImageRef::new("busybox").unwrap())
    }

    fn refused(o: &RunOptions, engine: EngineKind, needle: &str) {
        let e = o.validate(engine).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.message().contains(needle), "{needle}: {e}");
    }

    #[test]
    fn rules_between_options_name_the_flags() {
        let d = EngineKind::Docker;
        let mut o = opts();
        o.command = vec!["a\0b".into()];
        refused(&o, d, "NUL");

        let mut o = opts();
        o.restart = Some(RestartPolicy::Always);
        o.remove_on_exit = true;
        refused(&o, d, "--rm");
        o.restart = Some(RestartPolicy::No);
        assert!(o.validate(d).is_ok());

        let mut o = opts();
        o.memory = Some(MemorySize::new("4m").unwrap());
        refused(&o, d, "6m");
        o.memory = Some(MemorySize::new("64m").unwrap());
        o.memory_reservation = Some(MemorySize::new("128m").unwrap());
        refused(&o, d, "--memory-reservation");
        o.memory_reservation = None;
        o.memory_swap = Some(MemorySwap::new("32m").unwrap());
        refused(&o, d, "--memory-swap");
        o.memory_swap = Some(MemorySwap::Unlimited);
        assert!(o.validate(d).is_ok());
        o.memory = None;
        refused(&o, d, "needs --memory");

        let mut o = opts();
        o.no_healthcheck = true;
        o.health.retries = Some(2);
        refused(&o, d, "--no-healthcheck");
        o.no_healthcheck = false;
        o.health.timeout = Some(Duration::from_millis(500));
        refused(&o, d, "--health-timeout");
        o.health.timeout = None;
        o.health.interval = Some(Duration::from_micros(100));
        refused(&o, d, "--health-interval");
        o.health.interval = None;
        o.health.command = Some(" ".into());
        refused(&o, d, "--health-cmd");
    }

    #[test]
    fn network_and_namespace_rules() {
        let d = EngineKind::Docker;
        let net = |t: &str| NetworkEndpoint::parse(t).unwrap();
        let mut o = opts();
        o.networks = vec![net("a"), net("a")];
        refused(&o, d, "twice");
        o.networks = vec![net("a"), net("b:mac=02:42:0a:00:00:05")];
        refused(&o, d, "network connect");
        assert!(o.validate(EngineKind::Podman).is_ok());
        o.network_mode = Some(NetworkMode::Host);
        refused(&o, d, "cannot be combined");
        o.networks.clear();
        o.sysctls = vec![Sysctl::new("net.ipv4.ip_forward=1").unwrap()];
        refused(&o, d, "network sysctls");
        o.sysctls.clear();
        o.network_mode = Some(NetworkMode::new("container:db").unwrap());
        o.publish = vec![PortSpec::new("80").unwrap()];
        refused(&o, d, "-p/--publish");

        let mut o = opts();
        o.mac_address = Some("02:42:0a:00:00:05".parse().unwrap());
        assert!(o.validate(d).is_ok());
        o.networks = vec![net("a")];
        refused(&o, d, "default network");

        let mut o = opts();
        o.uts = Some(NamespaceMode::Shareable);
        refused(&o, d, "--uts");
        o.uts = Some(NamespaceMode::Host);
        o.hostname = Some(Word::new("h").unwrap());
        refused(&o, d, "--hostname");
        let mut o = opts();
        o.pid = Some(NamespaceMode::None);
        refused(&o, d, "--pid");
        o.pid = None;
        o.userns = Some(UsernsMode::new("auto").unwrap());
        refused(&o, d, "--userns");
        assert!(o.validate(EngineKind::Podman).is_ok());
    }

    #[test]
    fn per_engine_refusals() {
        let p = EngineKind::Podman;
        let mut o = opts();
        o.gpus = Some(GpuRequest::Count(2));
        refused(&o, p, "CDI");
        o.gpus = Some(GpuRequest::All);
        assert!(o.validate(p).is_ok());
        o.log_driver = Some(LogDriver::new("local").unwrap());
        refused(&o, p, "--log-driver");
        assert!(o.validate(EngineKind::Docker).is_ok());
        o.log_driver = None;
        o.log_opts = vec![LogOpt::new("max-file=3").unwrap()];
        refused(&o, p, "max-file");
        o.pull = Some(PullPolicy::Newer);
        refused(&o, EngineKind::Docker, "--pull newer");
    }
}

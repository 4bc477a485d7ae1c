//! The arguments of `run` and `create`: every option docker's `run` has
//! that dockhand maps to both engines, grouped as the help shows them, and
//! their translation into [`RunOptions`]. Each value is parsed by its
//! dockhand input type, so a bad one exits 2 naming the flag before any
//! engine call; the rules between options are [`RunOptions::validate`]'s.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

use clap::Args;

use super::container::env_vars;
use super::duration_arg;
use dockhand::container::{Healthcheck, RunOptions};
use dockhand::input::{
    BlkioWeight, Capability, ContainerLink, ContainerRef, CpuPeriod, CpuQuota, CpuSet, Cpus,
    DnsOption, DomainName, Entrypoint, ExposedPorts, GpuRequest, GroupName, HostEntry, ImageRef,
    KeyValue, KeyValueFile, LogDriver, LogOpt, Mac, MemorySize, MemorySwap, MountSpec,
    NamespaceMode, NetworkAlias, NetworkEndpoint, NetworkMode, NetworkName, OomScoreAdj, PidsLimit,
    Platform, PortSpec, PullPolicy, RestartPolicy, SecurityOpt, Signal, Sysctl, TmpfsMount, Ulimit,
    UsernsMode, VolumeSpec, Word,
};
use dockhand::Error;

// What `run` and `create` take. dockhand's own options go before IMAGE. (Not a doc
// comment: clap would show it as the about line of run and create, built deferred.)
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// Container name.
    #[arg(long)]
    name: Option<ContainerRef>,
    #[command(flatten)]
    process: ProcessArgs,
    #[command(flatten)]
    env: EnvArgs,
    #[command(flatten)]
    files: FilesystemArgs,
    #[command(flatten)]
    net: NetworkArgs,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    health: LogHealthArgs,
    #[command(flatten)]
    image_opts: ImageArgs,
    /// The image, then the container's command and arguments. Everything
    /// after IMAGE belongs to the container, even words that look like
    /// dockhand's options (`IMAGE sh -c …`): one positional list, so that
    /// clap stops reading options at the image, as docker does.
    #[arg(
        value_names = ["IMAGE", "COMMAND"],
        required = true,
        num_args = 1..,
        trailing_var_arg = true
    )]
    image_and_command: Vec<String>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Process")]
struct ProcessArgs {
    /// Program to run instead of the image's entrypoint ('' for none); its arguments go after IMAGE.
    #[arg(long, value_name = "PROGRAM")]
    entrypoint: Option<Entrypoint>,
    /// User (NAME|UID[:GROUP|GID]).
    #[arg(short, long)]
    user: Option<Word>,
    /// Working directory.
    #[arg(short, long)]
    workdir: Option<Word>,
    /// Supplementary group (name or gid).
    #[arg(long = "group-add", value_name = "GROUP")]
    group_add: Vec<GroupName>,
    /// Allocate a terminal (attached run: needs a terminal on stdin).
    #[arg(short, long)]
    tty: bool,
    /// Keep stdin open (attached run: pass ours through).
    #[arg(short, long)]
    interactive: bool,
    /// Run an init process as PID 1 (reaps zombies, forwards signals).
    #[arg(long)]
    init: bool,
    /// Signal that stops the container (name or number).
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    stop_signal: Option<Signal>,
    /// Seconds `stop` waits before killing.
    #[arg(long = "stop-timeout", value_name = "SECS")]
    stop_timeout: Option<u32>,
    /// no, always, unless-stopped, on-failure[:N].
    #[arg(long)]
    restart: Option<RestartPolicy>,
    /// Remove the container when it exits.
    #[arg(long)]
    rm: bool,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Environment and labels")]
struct EnvArgs {
    /// KEY=VALUE, or KEY to pass dockhand's own value; sent in a private env-file, never in argv.
    #[arg(short, long = "env", value_name = "KEY[=VALUE]")]
    env: Vec<String>,
    /// Read environment variables from a file (the engine reads it; only its path is passed).
    #[arg(long = "env-file", value_name = "PATH")]
    env_files: Vec<KeyValueFile>,
    /// Label KEY=VALUE.
    #[arg(short, long = "label", value_name = "KEY=VALUE")]
    labels: Vec<KeyValue>,
    /// Read labels from a file (the engine reads it; only its path is passed).
    #[arg(long = "label-file", value_name = "PATH")]
    label_files: Vec<KeyValueFile>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Filesystem")]
struct FilesystemArgs {
    /// Mount SRC:DST[:OPTS] (a volume name or absolute host path; OPTS ro, rw, z, Z, nocopy, rshared …), or DST for an anonymous volume.
    #[arg(short = 'v', long = "volume", value_name = "SRC:DST[:OPTS]")]
    volumes: Vec<VolumeSpec>,
    /// Mount, long syntax: type=bind|volume|tmpfs,source=…,target=…[,readonly][,bind-propagation=…][,tmpfs-size=…][,tmpfs-mode=…].
    #[arg(long = "mount", value_name = "SPEC")]
    mounts: Vec<MountSpec>,
    /// Mount a tmpfs at PATH (OPTS: size=64m, mode=1777, noexec …).
    #[arg(long, value_name = "PATH[:OPTS]")]
    tmpfs: Vec<TmpfsMount>,
    /// Mount the volumes of another container.
    #[arg(long = "volumes-from", value_name = "CONTAINER")]
    volumes_from: Vec<ContainerRef>,
    /// Mount the root filesystem read-only.
    #[arg(long = "read-only")]
    read_only: bool,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Networking")]
struct NetworkArgs {
    /// Network to join (repeatable): NAME, NAME:ip=A,ip6=A,alias=N,mac=M (docker's name=NAME,… too), or host, none, container:NAME.
    #[arg(long = "network", value_name = "NETWORK")]
    networks: Vec<NetworkArg>,
    /// Static IPv4 address on the (one) network.
    #[arg(long)]
    ip: Option<Ipv4Addr>,
    /// Static IPv6 address on the (one) network.
    #[arg(long)]
    ip6: Option<Ipv6Addr>,
    /// DNS alias on the (one) network.
    #[arg(long = "network-alias", value_name = "ALIAS")]
    network_aliases: Vec<NetworkAlias>,
    /// MAC address (on the one network, or the default network).
    #[arg(long = "mac-address", value_name = "MAC")]
    mac_address: Option<Mac>,
    /// Publish HOST_PORT:PORT[/PROTO], IP:[HOST_PORT]:PORT[/PROTO], or PORT (random host port); ports may be ranges FIRST-LAST.
    #[arg(short, long = "publish", value_name = "SPEC")]
    publish: Vec<PortSpec>,
    /// Publish every exposed port on a random host port.
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// Expose PORT[-LAST][/PROTO] without publishing it.
    #[arg(long, value_name = "PORTS")]
    expose: Vec<ExposedPorts>,
    /// Link to CONTAINER[:ALIAS].
    #[arg(long = "link")]
    links: Vec<ContainerLink>,
    /// Host name.
    #[arg(long)]
    hostname: Option<Word>,
    /// Domain name (docker only).
    #[arg(long)]
    domainname: Option<DomainName>,
    /// Name server address.
    #[arg(long, value_name = "IP")]
    dns: Vec<IpAddr>,
    /// DNS search domain.
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    dns_search: Vec<DomainName>,
    /// Resolver option (ndots:2, timeout:1, rotate …).
    #[arg(long = "dns-option", value_name = "OPTION")]
    dns_options: Vec<DnsOption>,
    /// Extra /etc/hosts line NAME:IP.
    #[arg(long = "add-host", value_name = "NAME:IP")]
    add_hosts: Vec<HostEntry>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Security and namespaces")]
struct SecurityArgs {
    /// Give extended privileges.
    #[arg(long)]
    privileged: bool,
    /// Add a capability (NET_ADMIN, CAP_SYS_TIME, ALL …).
    #[arg(long = "cap-add", value_name = "CAP")]
    cap_add: Vec<Capability>,
    /// Drop a capability.
    #[arg(long = "cap-drop", value_name = "CAP")]
    cap_drop: Vec<Capability>,
    /// no-new-privileges, seccomp=unconfined|PATH, apparmor=PROFILE, label=….
    #[arg(long = "security-opt", value_name = "OPT")]
    security_opts: Vec<SecurityOpt>,
    /// Add a host device.
    #[arg(long = "device")]
    devices: Vec<Word>,
    /// GPUs: all, N (docker) or device=ID[,ID…].
    #[arg(long, value_name = "GPUS")]
    gpus: Option<GpuRequest>,
    /// IPC namespace: private, shareable, host, none, container:NAME.
    #[arg(long, value_name = "MODE")]
    ipc: Option<NamespaceMode>,
    /// PID namespace: host, private, container:NAME.
    #[arg(long, value_name = "MODE")]
    pid: Option<NamespaceMode>,
    /// UTS namespace: host, private.
    #[arg(long, value_name = "MODE")]
    uts: Option<NamespaceMode>,
    /// Cgroup namespace: host, private.
    #[arg(long, value_name = "MODE")]
    cgroupns: Option<NamespaceMode>,
    /// User namespace: host (podman also auto, keep-id, nomap, ns:PATH).
    #[arg(long, value_name = "MODE")]
    userns: Option<UsernsMode>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Limits")]
struct LimitArgs {
    /// Memory limit (e.g. 64m; at least 6m).
    #[arg(short, long, value_name = "SIZE")]
    memory: Option<MemorySize>,
    /// Memory soft limit.
    #[arg(long = "memory-reservation", value_name = "SIZE")]
    memory_reservation: Option<MemorySize>,
    /// Memory plus swap (-1: unlimited swap).
    #[arg(
        long = "memory-swap",
        value_name = "SIZE",
        allow_negative_numbers = true
    )]
    memory_swap: Option<MemorySwap>,
    /// Size of /dev/shm.
    #[arg(long = "shm-size", value_name = "SIZE")]
    shm_size: Option<MemorySize>,
    /// Number of CPUs (e.g. 0.5).
    #[arg(long, value_name = "N")]
    cpus: Option<Cpus>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares", value_name = "N")]
    cpu_shares: Option<u64>,
    /// CFS quota in µs per period.
    #[arg(long = "cpu-quota", value_name = "US")]
    cpu_quota: Option<CpuQuota>,
    /// CFS period in µs.
    #[arg(long = "cpu-period", value_name = "US")]
    cpu_period: Option<CpuPeriod>,
    /// CPUs to run on (0-1,3).
    #[arg(long = "cpuset-cpus", value_name = "LIST")]
    cpuset_cpus: Option<CpuSet>,
    /// Most processes (-1: unlimited).
    #[arg(long = "pids-limit", value_name = "N", allow_negative_numbers = true)]
    pids_limit: Option<PidsLimit>,
    /// Block-IO weight 10-1000.
    #[arg(long = "blkio-weight", value_name = "N")]
    blkio_weight: Option<BlkioWeight>,
    /// OOM score adjustment -1000..1000.
    #[arg(
        long = "oom-score-adj",
        value_name = "N",
        allow_negative_numbers = true
    )]
    oom_score_adj: Option<OomScoreAdj>,
    /// Resource limit NAME=SOFT[:HARD] (nofile=1024:2048).
    #[arg(long, value_name = "LIMIT")]
    ulimit: Vec<Ulimit>,
    /// Namespaced kernel parameter KEY=VALUE (net.*, fs.mqueue.*, kernel.shm*/msg*/sem).
    #[arg(long, value_name = "KEY=VALUE")]
    sysctl: Vec<Sysctl>,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Logging and health")]
struct LogHealthArgs {
    /// Logging driver.
    #[arg(long = "log-driver", value_name = "DRIVER")]
    log_driver: Option<LogDriver>,
    /// Logging-driver option KEY=VALUE.
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    log_opts: Vec<LogOpt>,
    /// Healthcheck command (run by the container's shell).
    #[arg(long = "health-cmd", value_name = "CMD")]
    health_cmd: Option<String>,
    /// Time between healthchecks.
    #[arg(long = "health-interval", value_name = "DURATION", value_parser = duration_arg)]
    health_interval: Option<Duration>,
    /// Time one healthcheck may take (at least 1s).
    #[arg(long = "health-timeout", value_name = "DURATION", value_parser = duration_arg)]
    health_timeout: Option<Duration>,
    /// Failures in this time after start do not count.
    #[arg(long = "health-start-period", value_name = "DURATION", value_parser = duration_arg)]
    health_start_period: Option<Duration>,
    /// Failures in a row before unhealthy.
    #[arg(long = "health-retries", value_name = "N")]
    health_retries: Option<u32>,
    /// Disable the image's healthcheck.
    #[arg(long = "no-healthcheck")]
    no_healthcheck: bool,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Image and runtime")]
struct ImageArgs {
    /// Platform of the image (os/arch[/variant]).
    #[arg(long)]
    platform: Option<Platform>,
    /// Pull the image: always, missing, never (podman also newer).
    #[arg(long, value_name = "POLICY")]
    pull: Option<PullPolicy>,
    /// OCI runtime (runc, crun …).
    #[arg(long)]
    runtime: Option<Word>,
}

/// One `--network` value: a network mode or a network with its settings.
#[derive(Debug, Clone)]
enum NetworkArg {
    Mode(NetworkMode),
    Endpoint(NetworkEndpoint),
}

impl FromStr for NetworkArg {
    type Err = Error;
    fn from_str(text: &str) -> Result<NetworkArg, Error> {
        match NetworkMode::is_mode(text) {
            true => NetworkMode::new(text).map(NetworkArg::Mode),
            false => NetworkEndpoint::parse(text).map(NetworkArg::Endpoint),
        }
    }
}

impl SpecArgs {
    /// The library's options (the rules between them are checked by the
    /// library, before any engine call).
    pub fn into_options(self) -> Result<RunOptions, Error> {
        let mut words = self.image_and_command.into_iter();
        let image = ImageRef::new(words.next().unwrap_or_default())?;
        let mut o = RunOptions::new(image);
        o.command = words.collect();
        o.name = self.name;
        let p = self.process;
        o.entrypoint = p.entrypoint;
        o.user = p.user;
        o.workdir = p.workdir;
        o.group_add = p.group_add;
        o.tty = p.tty;
        o.interactive = p.interactive;
        o.init = p.init;
        o.stop_signal = p.stop_signal;
        o.stop_timeout = p.stop_timeout;
        o.restart = p.restart;
        o.remove_on_exit = p.rm;
        let e = self.env;
        o.env = env_vars(&e.env)?;
        o.env_files = e.env_files;
        o.labels = e.labels;
        o.label_files = e.label_files;
        let f = self.files;
        o.volumes = f.volumes;
        o.mounts = f.mounts;
        o.tmpfs = f.tmpfs;
        o.volumes_from = f.volumes_from;
        o.read_only = f.read_only;
        self.net.apply(&mut o)?;
        let s = self.security;
        o.privileged = s.privileged;
        o.cap_add = s.cap_add;
        o.cap_drop = s.cap_drop;
        o.security_opts = s.security_opts;
        o.devices = s.devices;
        o.gpus = s.gpus;
        o.ipc = s.ipc;
        o.pid = s.pid;
        o.uts = s.uts;
        o.cgroupns = s.cgroupns;
        o.userns = s.userns;
        let l = self.limits;
        o.memory = l.memory;
        o.memory_reservation = l.memory_reservation;
        o.memory_swap = l.memory_swap;
        o.shm_size = l.shm_size;
        o.cpus = l.cpus;
        o.cpu_shares = l.cpu_shares;
        o.cpu_quota = l.cpu_quota;
        o.cpu_period = l.cpu_period;
        o.cpuset_cpus = l.cpuset_cpus;
        o.pids_limit = l.pids_limit;
        o.blkio_weight = l.blkio_weight;
        o.oom_score_adj = l.oom_score_adj;
        o.ulimits = l.ulimit;
        o.sysctls = l.sysctl;
        let h = self.health;
        o.log_driver = h.log_driver;
        o.log_opts = h.log_opts;
        let mut health = Healthcheck::default();
        health.command = h.health_cmd;
        health.interval = h.health_interval;
        health.timeout = h.health_timeout;
        health.start_period = h.health_start_period;
        health.retries = h.health_retries;
        o.health = health;
        o.no_healthcheck = h.no_healthcheck;
        let i = self.image_opts;
        o.platform = i.platform;
        o.pull = i.pull;
        o.runtime = i.runtime;
        Ok(o)
    }
}

impl NetworkArgs {
    /// Networks and modes, with `--ip`/`--ip6`/`--network-alias`/
    /// `--mac-address` folded into the one network they can belong to.
    fn apply(self, o: &mut RunOptions) -> Result<(), Error> {
        for network in self.networks {
            match network {
                NetworkArg::Mode(m) if o.network_mode.is_none() => o.network_mode = Some(m),
                NetworkArg::Mode(m) => {
                    return Err(Error::invalid_input(format!(
                        "--network {m}: only one network mode can be given"
                    )))
                }
                NetworkArg::Endpoint(e) => o.networks.push(e),
            }
        }
        let settings = self.ip.is_some() || self.ip6.is_some() || !self.network_aliases.is_empty();
        match (o.networks.as_mut_slice(), &o.network_mode) {
            ([one], _) => {
                let net = one.network.clone();
                fold(&mut one.ip, self.ip, "ip", &net)?;
                fold(&mut one.ip6, self.ip6, "ip6", &net)?;
                fold(&mut one.mac, self.mac_address, "mac", &net)?;
                one.aliases.extend(self.network_aliases);
            }
            ([], None) if settings => {
                return Err(Error::invalid_input(
                    "--ip, --ip6 and --network-alias need --network NET (a user network)",
                ))
            }
            ([], None) => o.mac_address = self.mac_address,
            ([], Some(mode)) if settings || self.mac_address.is_some() => {
                return Err(Error::invalid_input(format!(
                    "--ip, --ip6, --network-alias and --mac-address cannot be used with \
                     --network {mode}"
                )))
            }
            ([], Some(_)) => {}
            (_, _) if settings || self.mac_address.is_some() => {
                return Err(Error::invalid_input(
                    "with several --network, give each network's settings with it: \
                     --network NET:ip=A,ip6=A,alias=N,mac=M",
                ))
            }
            _ => {}
        }
        o.publish = self.publish;
        o.publish_all = self.publish_all;
        o.expose = self.expose;
        o.links = self.links;
        o.hostname = self.hostname;
        o.domainname = self.domainname;
        o.dns = self.dns;
        o.dns_search = self.dns_search;
        o.dns_options = self.dns_options;
        o.add_hosts = self.add_hosts;
        Ok(())
    }
}

/// A network's setting given both with `--network NET:KEY=…` and as its
/// own flag is refused; else the flag's value fills it.
fn fold<T>(
    slot: &mut Option<T>,
    flag: Option<T>,
    key: &str,
    net: &NetworkName,
) -> Result<(), Error> {
    match (slot.is_some(), flag) {
        (_, None) => Ok(()),
        (false, value) => {
            *slot = value;
            Ok(())
        }
        (true, Some(_)) => Err(Error::invalid_input(format!(
            "{key} is given twice for network {net} (as a flag and in --network {net}:{key}=…)"
        ))),
    }
}

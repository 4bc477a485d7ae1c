//! `create` and `run`: typed options ([`RunOptions`], checked in
//! `options`), their argv per engine (`argv`), and the steps of a launch:
//! one engine call that is safe to retry (a creation token finds what a
//! lost answer created), plus, where docker takes one network per create,
//! `network connect` and `start`, all undone when one fails. Environment
//! values go in a private env-file, never in argv.

mod argv;
mod options;

use std::io::IsTerminal;
use std::path::Path;

pub use options::{Healthcheck, RunOptions};

use super::attach::AttachOptions;
use super::envfile::{redact_env, EnvFile};
use super::interact::start_attached_plan;
use super::lock_names;
use super::query::{ps_ids_plan, PsQuery};
use super::Containers;
use crate::engine::plan::{random_token, Effect, Plan};
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, Result};
use crate::input::{ContainerRef, KeyValue, NetworkEndpoint, NetworkName};
use crate::system::version_plan;

/// The first docker API that takes a MAC address per network.
const MAC_PER_NETWORK_API: (u32, u32) = (1, 44);

/// `start` of a created container (idempotent: a retry may repeat it).
fn start_plan(target: &ContainerRef) -> Plan<()> {
    Plan::write(Argv::new("start").operands([target]), |_| Ok(()))
}

/// The label holding the creation token of each container dockhand creates:
/// a random value that lets a retry find out whether the first attempt
/// created the container after all.
pub const CREATION_TOKEN_LABEL: &str = "dockhand.creation-token";

/// How a container is launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// `create`: made, not started.
    Create,
    /// `run --detach`: made and started in the background.
    RunDetached,
}

/// The engine commands of one launch, in order: `create` (the plan
/// yields the full id), then `network connect` for each of `connect`, then
/// `start` when `start` is set.
///
/// On podman, and on docker with at most one network, that is the one
/// command `create` / `run --detach`. docker's 1.41 daemon refuses several
/// networks in one create, so there a detached run with several networks
/// is `create` on the first, `network connect` (with that network's
/// `--ip`/`--ip6`/`--alias`) for each other one, then `start`.
#[must_use = "the steps do nothing until they are run"]
pub struct LaunchSteps {
    /// `create` or `run --detach`; yields the full id. Safe to retry: a
    /// retry first looks for the creation token.
    pub create: Plan<String>,
    /// Networks to join with `network connect` after the create.
    pub connect: Vec<NetworkEndpoint>,
    /// Start the container after the connects.
    pub start: bool,
}

/// The steps of `create` / `run --detach` on `engine`. `env_file` is the
/// private file holding `opts.env` (see [`EnvFile`]); `token` is this
/// creation's unique [`CREATION_TOKEN_LABEL`], which a retry looks for
/// before running the command again. `opts` should have passed
/// [`RunOptions::validate`].
///
/// ```
/// use dockhand::container::{launch_steps, Launch, RunOptions};
/// use dockhand::input::{ContainerRef, ImageRef, NetworkEndpoint};
/// use dockhand::EngineKind;
/// let mut o = RunOptions::new(ImageRef::new("busybox").unwrap());
/// o.name = Some(ContainerRef::new("web").unwrap());
/// o.command = vec!["-rf".into()];
/// let steps = launch_steps(EngineKind::Docker, Launch::RunDetached, &o, None, "t1");
/// assert_eq!(steps.create.args(), ["run", "--detach", "--name=web", "--label=dockhand.creation-token=t1", "--", "busybox", "-rf"]);
///
/// o.networks = vec![NetworkEndpoint::parse("front:ip=10.1.0.5").unwrap(), NetworkEndpoint::parse("back:alias=db").unwrap()];
/// let steps = launch_steps(EngineKind::Docker, Launch::RunDetached, &o, None, "t1");
/// assert_eq!(steps.create.args()[..4], ["create", "--name=web", "--network=front", "--ip=10.1.0.5"]);
/// assert_eq!((steps.connect.len(), steps.start), (1, true));
/// let steps = launch_steps(EngineKind::Podman, Launch::RunDetached, &o, None, "t1");
/// assert_eq!(steps.create.args()[..5], ["run", "--detach", "--name=web", "--network=front:ip=10.1.0.5", "--network=back:alias=db"]);
/// assert!(steps.connect.is_empty() && !steps.start);
/// ```
pub fn launch_steps(
    engine: EngineKind,
    launch: Launch,
    opts: &RunOptions,
    env_file: Option<&Path>,
    token: &str,
) -> LaunchSteps {
    let split = opts.networks.len() > 1 && !engine.quirks().several_networks_per_create;
    let (now, later) = match split {
        true => opts.networks.split_at(1),
        false => (&opts.networks[..], &[][..]),
    };
    let verb = match (launch, split) {
        (Launch::RunDetached, false) => Argv::new("run").flag("--detach"),
        _ => Argv::new("create"),
    };
    let args = argv::launch_argv(engine, verb, opts, now, env_file, token);
    let token = token.to_string();
    let create = Plan::new(Effect::Mutating, args, |outcome| {
        let out = outcome.into_result()?;
        if out.dry_run {
            return Ok(String::new());
        }
        parse_id(&out.stdout)
    })
    .verify_before_retry(move || find_by_token_plan(&token));
    LaunchSteps {
        create,
        connect: later.to_vec(),
        start: split && launch == Launch::RunDetached,
    }
}

/// What a launch did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Launched {
    /// The container's full id (empty in a dry run).
    pub id: String,
    /// Networks joined with `network connect` after the create (docker with
    /// several networks).
    pub connected_after_create: Vec<NetworkName>,
    /// Whether it was started by a `start` of its own after the connects.
    pub started_after_connect: bool,
}

/// The id a `create`/`run -d`/`commit` printed: the last line of stdout.
pub(crate) fn parse_id(stdout: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .filter(|l| {
            l.len() >= 12
                && l.trim_start_matches("sha256:")
                    .chars()
                    .all(|c| c.is_ascii_hexdigit())
        })
        .map(str::to_string)
        .ok_or_else(|| Error::parse("expected an id on the last line of stdout", stdout))
}

/// The container created with `token`, if any.
fn find_by_token_plan(token: &str) -> Plan<Option<String>> {
    ps_ids_plan(&PsQuery {
        all: true,
        filters: Vec::new(),
        labels: vec![KeyValue::pair(CREATION_TOKEN_LABEL, token).expect("tokens are hex")],
    })
    .map(|ids| ids.into_iter().next())
}

impl Containers<'_> {
    /// Create a container (not started); returns its full id.
    ///
    /// ```no_run
    /// use dockhand::{container::RunOptions, input::ImageRef, Engine};
    /// let id = Engine::detect()?.containers().create(&RunOptions::new(ImageRef::new("busybox")?))?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn create(&self, opts: &RunOptions) -> Result<String> {
        Ok(self.launch(Launch::Create, opts)?.id)
    }

    /// Create and start a container in the background; returns its full id.
    ///
    /// Environment values go through a 0600 env-file that is removed
    /// afterwards, also on failure. A transient failure is retried only
    /// after checking (by creation token) that the first attempt did not
    /// create the container. When the named container is being changed by
    /// another dockhand process this waits up to the engine's lock timeout.
    /// On failure, a half-made container (e.g. created, then its port could
    /// not be bound) is removed.
    ///
    /// ```no_run
    /// use dockhand::{container::RunOptions, input::*, Engine};
    /// let mut o = RunOptions::new(ImageRef::new("busybox")?);
    /// o.name = Some(ContainerRef::new("web")?);
    /// o.command = vec!["sleep".into(), "600".into()];
    /// let id = Engine::detect()?.containers().run(&o)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn run(&self, opts: &RunOptions) -> Result<String> {
        Ok(self.launch(Launch::RunDetached, opts)?.id)
    }

    /// Create a container and run it attached to our stdout and stderr
    /// (and stdin, with `opts.interactive`; a terminal with `opts.tty`);
    /// returns its exit code. The name is locked while it is created, not
    /// while it runs. `-t` needs a terminal on our stdin: without one
    /// docker fails ("the input device is not a TTY") and podman hangs, so
    /// that is refused first.
    ///
    /// ```no_run
    /// use dockhand::{container::RunOptions, input::ImageRef, Engine};
    /// let mut o = RunOptions::new(ImageRef::new("busybox")?);
    /// o.interactive = true;
    /// o.command = vec!["cat".into()];
    /// let code = Engine::detect()?.containers().run_attached(&o)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn run_attached(&self, opts: &RunOptions) -> Result<i32> {
        if opts.tty && !std::io::stdin().is_terminal() {
            return Err(Error::invalid_input(
                "-t/--tty needs a terminal on stdin, and stdin is not one (docker would fail \
                 with \"the input device is not a TTY\", podman would hang); leave out -t, or \
                 run from a terminal",
            ));
        }
        let launched = self.launch(Launch::Create, opts)?;
        let target = self.launched_ref(&launched.id, opts)?;
        let attach = AttachOptions {
            stdin: opts.interactive,
            detach_keys: None,
        };
        if opts.interactive && opts.tty {
            // A terminal session: the detach keys end it with 0, the container running.
            return Ok(self.start_attached_with(&target, &attach)?.exit_code());
        }
        Ok(self
            .engine
            .run_attached(start_attached_plan(&target, &attach), opts.interactive)?
            .shell_code())
    }

    /// Create (and with [`Launch::RunDetached`] start) a container, and say
    /// what it took: see [`launch_steps`]. [`Containers::run`] and
    /// [`Containers::create`] are this, returning the id.
    ///
    /// The options are validated first ([`RunOptions::validate`]); the name
    /// is locked throughout; on any failure the half-made container is
    /// removed.
    ///
    /// ```no_run
    /// use dockhand::{container::{Launch, RunOptions}, input::*, Engine};
    /// let mut o = RunOptions::new(ImageRef::new("busybox")?);
    /// o.networks = vec![NetworkEndpoint::parse("front")?, NetworkEndpoint::parse("back:alias=db")?];
    /// let done = Engine::detect()?.containers().launch(Launch::RunDetached, &o)?;
    /// println!("{} (connected afterwards: {:?})", done.id, done.connected_after_create);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn launch(&self, launch: Launch, opts: &RunOptions) -> Result<Launched> {
        opts.validate(self.engine.kind())?;
        self.check_mac_support(opts)?;
        let _locks = lock_names(self.engine, opts.name.iter())?;
        let env_file = EnvFile::write(&opts.env, self.engine.passes_fds())?;
        let token = random_token()?;
        let mut steps = launch_steps(
            self.engine.kind(),
            launch,
            opts,
            env_file.as_ref().map(EnvFile::path),
            &token,
        );
        if let Some(fd) = env_file.as_ref().and_then(EnvFile::fd) {
            steps.create = steps.create.pass_fd(fd);
        }
        let result = self.carry_out(steps, opts);
        if result.is_err() {
            self.remove_half_made(&token);
        }
        result.map_err(|e| redact_env(e, &opts.env))
    }

    fn carry_out(&self, steps: LaunchSteps, opts: &RunOptions) -> Result<Launched> {
        let id = self.engine.run(steps.create)?;
        let target = self.launched_ref(&id, opts)?;
        let mut connected = Vec::new();
        for endpoint in &steps.connect {
            self.engine
                .run(crate::network::connect_endpoint_plan(endpoint, &target))?;
            connected.push(endpoint.network.clone());
        }
        if steps.start {
            self.engine.run(start_plan(&target))?;
        }
        if !connected.is_empty() {
            let names: Vec<&str> = connected.iter().map(NetworkName::as_str).collect();
            log::info!(
                "{target}: {} takes one network per create: created on {}, then connected to {}{}",
                self.engine.kind().as_str(),
                opts.networks[0].network,
                names.join(", "),
                if steps.start { ", then started" } else { "" }
            );
        }
        Ok(Launched {
            id,
            connected_after_create: connected,
            started_after_connect: steps.start,
        })
    }

    /// How the steps after the create name the container: its id (in a
    /// dry run, which has none, its name or a placeholder).
    fn launched_ref(&self, id: &str, opts: &RunOptions) -> Result<ContainerRef> {
        match (id.is_empty(), &opts.name) {
            (false, _) => ContainerRef::new(id),
            (true, Some(name)) => Ok(name.clone()),
            (true, None) => ContainerRef::new("NEW-CONTAINER-ID"),
        }
    }

    /// docker CLIs from 25 on send MAC addresses per network, which needs a
    /// daemon with API 1.44; against an older daemon they refuse every form
    /// of `--mac-address` ("requires API version 1.44"). Find that out
    /// before creating anything, and say why.
    fn check_mac_support(&self, opts: &RunOptions) -> Result<()> {
        let wants_mac =
            opts.mac_address.is_some() || opts.networks.first().is_some_and(|n| n.mac.is_some());
        if !wants_mac || self.engine.kind() != EngineKind::Docker {
            return Ok(());
        }
        let Ok((version, _)) = self.engine.run(version_plan(self.engine.kind())) else {
            return Ok(()); // the create will report what is wrong
        };
        let api = |v: &serde_json::Value| -> Option<(u32, u32)> {
            let (major, minor) = v.as_str()?.split_once('.')?;
            Some((major.parse().ok()?, minor.parse().ok()?))
        };
        let client = api(&version.raw["Client"]["DefaultAPIVersion"]);
        let server = version
            .server
            .as_ref()
            .and_then(|s| api(&serde_json::Value::String(s.api_version.clone())));
        match (client, server) {
            (Some(c), Some(s)) if c >= MAC_PER_NETWORK_API && s < MAC_PER_NETWORK_API => {
                Err(Error::invalid_input(format!(
                    "--mac-address: this docker CLI (API {}.{}) sends MAC addresses per network, \
                     which needs a daemon with API 1.44 or later; the daemon has API {}.{}. Use a \
                     docker CLI of the daemon's version (e.g. --engine /usr/bin/docker for 20.10) \
                     or a newer daemon",
                    c.0, c.1, s.0, s.1
                )))
            }
            _ => Ok(()),
        }
    }

    /// Remove what a failed creation left behind (found by its token).
    fn remove_half_made(&self, token: &str) {
        let leftover = self
            .engine
            .run(find_by_token_plan(token).no_retry())
            .ok()
            .flatten();
        if let Some(id) = leftover {
            let rm = Plan::write(Argv::new("rm").flag("--force").operands([&id]), |_| Ok(()));
            if let Err(e) = self.engine.run(rm) {
                log::warn!("could not remove the half-made container {id}: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::input::*;

    fn words(plan: &Plan<String>) -> Vec<String> {
        plan.args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn image() -> ImageRef {
        ImageRef::new("dockhand-test/busybox:latest").unwrap()
    }

    #[test]
    fn every_option_becomes_one_flag_word_and_env_values_never_appear() {
        let dir = tempfile::tempdir().unwrap();
        let env_path = dir.path().join("app.env");
        std::fs::write(&env_path, "A=1\n").unwrap();
        let mut o = RunOptions::new(image());
        o.name = Some(ContainerRef::new("web").unwrap());
        o.publish = vec![
            PortSpec::new("8080").unwrap(),
            PortSpec::new("127.0.0.1:53:53/udp").unwrap(),
        ];
        o.env = vec![EnvVar::new("TOKEN", "hunter2").unwrap()];
        o.env_files = vec![KeyValueFile::new(&env_path).unwrap()];
        o.volumes = vec![VolumeSpec::new("data:/data:ro").unwrap()];
        o.volumes_from = vec![ContainerRef::new("base").unwrap()];
        o.links = vec![ContainerLink::new("db:database").unwrap()];
        o.labels = vec![KeyValue::new("label", "app=web").unwrap()];
        o.networks = vec![NetworkEndpoint::parse("appnet:alias=www").unwrap()];
        o.restart = Some(RestartPolicy::new("on-failure:3").unwrap());
        o.cap_add = vec![Capability::new("NET_ADMIN").unwrap()];
        o.devices = vec![Word::new("/dev/net/tun").unwrap()];
        o.privileged = true;
        o.hostname = Some(Word::new("h").unwrap());
        o.user = Some(Word::new("nobody").unwrap());
        o.workdir = Some(Word::new("/tmp").unwrap());
        o.memory = Some(MemorySize::new("64m").unwrap());
        o.cpus = Some(Cpus::new("0.5").unwrap());
        o.cpu_shares = Some(512);
        o.remove_on_exit = true;
        o.command = vec!["sh".into(), "-c".into(), "echo $TOKEN".into()];
        let steps = launch_steps(
            EngineKind::Docker,
            Launch::Create,
            &o,
            Some(Path::new("/tmp/dockhand-env-x")),
            "tok",
        );
        let env_file = format!("--env-file={}", env_path.display());
        assert_eq!(
            words(&steps.create),
            [
                "create",
                "--name=web",
                "--publish=8080/tcp",
                "--publish=127.0.0.1:53:53/udp",
                &env_file,
                "--env-file=/tmp/dockhand-env-x",
                "--volume=data:/data:ro",
                "--volumes-from=base",
                "--link=db:database",
                "--label=app=web",
                "--network=appnet",
                "--network-alias=www",
                "--restart=on-failure:3",
                "--cap-add=CAP_NET_ADMIN",
                "--device=/dev/net/tun",
                "--privileged",
                "--hostname=h",
                "--user=nobody",
                "--workdir=/tmp",
                "--memory=67108864",
                "--cpus=0.5",
                "--cpu-shares=512",
                "--rm",
                "--label=dockhand.creation-token=tok",
                "--",
                "dockhand-test/busybox:latest",
                "sh",
                "-c",
                "echo $TOKEN",
            ]
        );
        assert!(!words(&steps.create).iter().any(|w| w.contains("hunter2")));
        assert_eq!(steps.create.effect(), Effect::Mutating);
        assert!(steps.connect.is_empty() && !steps.start);
    }

    /// How to set one option, and the words it becomes on docker and on
    /// podman (`None`: the same as docker).
    type Row = (
        fn(&mut RunOptions),
        &'static [&'static str],
        Option<&'static [&'static str]>,
    );

    fn net(text: &str) -> NetworkEndpoint {
        NetworkEndpoint::parse(text).unwrap()
    }

    /// One row per flag of issue 13 (and the older ones whose argv changed).
    fn rows() -> Vec<Row> {
        vec![
            (
                |o| o.entrypoint = Some(Entrypoint::new("/bin/sh").unwrap()),
                &["--entrypoint=/bin/sh"],
                None,
            ),
            (
                |o| o.entrypoint = Some(Entrypoint::none()),
                &["--entrypoint="],
                None,
            ),
            (|o| o.tty = true, &["--tty"], None),
            (|o| o.interactive = true, &["--interactive"], None),
            (|o| o.init = true, &["--init"], None),
            (|o| o.read_only = true, &["--read-only"], None),
            (
                |o| o.tmpfs = vec![TmpfsMount::new("/t:size=8m,noexec").unwrap()],
                &["--tmpfs=/t:size=8m,noexec"],
                None,
            ),
            (
                |o| {
                    o.mounts = vec![
                        MountSpec::new("type=bind,src=/srv,dst=/s,ro").unwrap(),
                        MountSpec::new("type=volume,src=v1,dst=/v").unwrap(),
                        MountSpec::new("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap(),
                    ]
                },
                &[
                    "--mount=type=bind,source=/srv,target=/s,readonly=true",
                    "--mount=type=volume,source=v1,target=/v",
                    "--mount=type=tmpfs,target=/t,tmpfs-size=1048576,tmpfs-mode=1770",
                ],
                None,
            ),
            (
                |o| o.volumes = vec![VolumeSpec::new("/anon").unwrap()],
                &["--volume=/anon"],
                None,
            ),
            (
                |o| o.cap_drop = vec![Capability::new("all").unwrap()],
                &["--cap-drop=ALL"],
                None,
            ),
            (
                |o| o.security_opts = vec![SecurityOpt::new("no-new-privileges").unwrap()],
                &["--security-opt=no-new-privileges"],
                None,
            ),
            (
                |o| o.ulimits = vec![Ulimit::new("nofile=1024:2048").unwrap()],
                &["--ulimit=nofile=1024:2048"],
                None,
            ),
            (
                |o| o.sysctls = vec![Sysctl::new("net.ipv4.ip_forward=1").unwrap()],
                &["--sysctl=net.ipv4.ip_forward=1"],
                None,
            ),
            (
                |o| o.dns = vec!["192.0.2.53".parse().unwrap()],
                &["--dns=192.0.2.53"],
                None,
            ),
            (
                |o| o.dns_search = vec![DomainName::new("corp.example").unwrap()],
                &["--dns-search=corp.example"],
                None,
            ),
            (
                |o| o.dns_options = vec![DnsOption::new("ndots:2").unwrap()],
                &["--dns-option=ndots:2"],
                None,
            ),
            (
                |o| o.add_hosts = vec![HostEntry::new("db=192.0.2.10").unwrap()],
                &["--add-host=db:192.0.2.10"],
                None,
            ),
            (
                |o| o.shm_size = Some(MemorySize::new("128m").unwrap()),
                &["--shm-size=134217728"],
                None,
            ),
            (
                |o| o.pids_limit = Some(PidsLimit::new("-1").unwrap()),
                &["--pids-limit=-1"],
                None,
            ),
            (
                |o| o.cpuset_cpus = Some(CpuSet::new("0-1").unwrap()),
                &["--cpuset-cpus=0-1"],
                None,
            ),
            (
                |o| o.cpu_quota = Some(CpuQuota::new("50000").unwrap()),
                &["--cpu-quota=50000"],
                None,
            ),
            (
                |o| o.cpu_period = Some(CpuPeriod::new("100000").unwrap()),
                &["--cpu-period=100000"],
                None,
            ),
            (
                |o| o.memory_reservation = Some(MemorySize::new("32m").unwrap()),
                &["--memory-reservation=33554432"],
                None,
            ),
            (
                |o| {
                    o.memory = Some(MemorySize::new("64m").unwrap());
                    o.memory_swap = Some(MemorySwap::Unlimited);
                },
                &["--memory=67108864", "--memory-swap=-1"],
                None,
            ),
            (
                |o| o.blkio_weight = Some(BlkioWeight::new("500").unwrap()),
                &["--blkio-weight=500"],
                None,
            ),
            (
                |o| o.oom_score_adj = Some(OomScoreAdj::new("-500").unwrap()),
                &["--oom-score-adj=-500"],
                None,
            ),
            (
                |o| o.log_driver = Some(LogDriver::new("json-file").unwrap()),
                &["--log-driver=json-file"],
                None,
            ),
            (
                |o| o.log_opts = vec![LogOpt::new("max-size=1m").unwrap()],
                &["--log-opt=max-size=1m"],
                None,
            ),
            (
                |o| o.platform = Some(Platform::new("linux/amd64").unwrap()),
                &["--platform=linux/amd64"],
                None,
            ),
            (
                |o| o.pull = Some(PullPolicy::Never),
                &["--pull=never"],
                None,
            ),
            (
                |o| o.stop_signal = Some(Signal::new("usr1").unwrap()),
                &["--stop-signal=SIGUSR1"],
                None,
            ),
            (
                |o| o.stop_signal = Some(Signal::new("10").unwrap()),
                &["--stop-signal=10"],
                None,
            ),
            (|o| o.stop_timeout = Some(7), &["--stop-timeout=7"], None),
            (
                |o| {
                    o.health.command = Some("wget -q -O- http://127.0.0.1/".into());
                    o.health.interval = Some(Duration::from_millis(1500));
                    o.health.timeout = Some(Duration::from_secs(2));
                    o.health.start_period = Some(Duration::from_secs(60));
                    o.health.retries = Some(4);
                },
                &[
                    "--health-cmd=wget -q -O- http://127.0.0.1/",
                    "--health-interval=1500ms",
                    "--health-timeout=2s",
                    "--health-start-period=60s",
                    "--health-retries=4",
                ],
                None,
            ),
            (|o| o.no_healthcheck = true, &["--no-healthcheck"], None),
            (
                |o| o.networks = vec![net("front:ip=10.1.0.5,ip6=fd00::5,alias=web")],
                &[
                    "--network=front",
                    "--ip=10.1.0.5",
                    "--ip6=fd00::5",
                    "--network-alias=web",
                ],
                None,
            ),
            (
                |o| o.networks = vec![net("front:mac=02:42:0a:00:00:05")],
                &["--network=front", "--mac-address=02:42:0a:00:00:05"],
                None,
            ),
            (
                |o| o.mac_address = Some("02:42:0a:00:00:06".parse().unwrap()),
                &["--mac-address=02:42:0a:00:00:06"],
                None,
            ),
            (
                |o| o.networks = vec![net("front:ip=10.1.0.5"), net("back:alias=db")],
                &["--network=front", "--ip=10.1.0.5"],
                Some(&["--network=front:ip=10.1.0.5", "--network=back:alias=db"]),
            ),
            (
                |o| o.network_mode = Some(NetworkMode::Host),
                &["--network=host"],
                None,
            ),
            (
                |o| o.ipc = Some(NamespaceMode::new("shareable").unwrap()),
                &["--ipc=shareable"],
                None,
            ),
            (
                |o| o.pid = Some(NamespaceMode::new("container:db").unwrap()),
                &["--pid=container:db"],
                None,
            ),
            (
                |o| o.pid = Some(NamespaceMode::Private),
                &[],
                Some(&["--pid=private"]),
            ),
            (|o| o.uts = Some(NamespaceMode::Host), &["--uts=host"], None),
            (
                |o| o.uts = Some(NamespaceMode::Private),
                &[],
                Some(&["--uts=private"]),
            ),
            (
                |o| o.cgroupns = Some(NamespaceMode::Private),
                &["--cgroupns=private"],
                None,
            ),
            (
                |o| o.userns = Some(UsernsMode::new("host").unwrap()),
                &["--userns=host"],
                None,
            ),
            (
                |o| o.group_add = vec![GroupName::new("audio").unwrap()],
                &["--group-add=audio"],
                None,
            ),
            (
                |o| o.domainname = Some(DomainName::new("corp.example").unwrap()),
                &["--domainname=corp.example"],
                None,
            ),
            (
                |o| o.expose = vec![ExposedPorts::new("7000-7001/udp").unwrap()],
                &["--expose=7000-7001/udp"],
                None,
            ),
            (|o| o.publish_all = true, &["--publish-all"], None),
            (
                |o| {
                    o.publish = vec![
                        PortSpec::new("19000-19002:9000-9002").unwrap(),
                        PortSpec::new("127.0.0.1::80").unwrap(),
                        PortSpec::new("19053:53/udp").unwrap(),
                    ]
                },
                &[
                    "--publish=19000-19002:9000-9002/tcp",
                    "--publish=127.0.0.1::80/tcp",
                    "--publish=19053:53/udp",
                ],
                None,
            ),
            (
                |o| o.runtime = Some(Word::new("runc").unwrap()),
                &["--runtime=runc"],
                None,
            ),
            (
                |o| o.gpus = Some(GpuRequest::All),
                &["--gpus=all"],
                Some(&["--device=nvidia.com/gpu=all"]),
            ),
            (
                |o| o.gpus = Some(GpuRequest::new("device=0,1").unwrap()),
                &["--gpus=\"device=0,1\""],
                Some(&["--device=nvidia.com/gpu=0", "--device=nvidia.com/gpu=1"]),
            ),
        ]
    }

    #[test]
    fn each_flag_has_its_argv_on_each_engine() {
        let fixed = |w: &String| {
            w == "create" || w == "--" || w.starts_with("--label=dockhand.creation-token=")
        };
        for (i, (set, docker, podman)) in rows().into_iter().enumerate() {
            let mut o = RunOptions::new(image());
            set(&mut o);
            for (engine, expected) in [
                (EngineKind::Docker, docker),
                (EngineKind::Podman, podman.unwrap_or(docker)),
            ] {
                let steps = launch_steps(engine, Launch::Create, &o, None, "t");
                let got: Vec<String> = words(&steps.create)
                    .into_iter()
                    .filter(|w| !fixed(w))
                    .take_while(|w| w != "dockhand-test/busybox:latest")
                    .collect();
                assert_eq!(got, expected, "row {i} on {}", engine.as_str());
            }
        }
    }

    #[test]
    fn docker_joins_further_networks_after_create_podman_in_one_run() {
        let mut o = RunOptions::new(image());
        o.name = Some(ContainerRef::new("web").unwrap());
        o.networks = vec![
            net("front:ip=10.1.0.5,alias=w"),
            net("back:ip=10.2.0.5,alias=db"),
            net("mgmt"),
        ];
        for launch in [Launch::Create, Launch::RunDetached] {
            let docker = launch_steps(EngineKind::Docker, launch, &o, None, "t");
            assert_eq!(words(&docker.create)[0], "create");
            assert_eq!(docker.connect, o.networks[1..]);
            assert_eq!(docker.start, launch == Launch::RunDetached);
            let podman = launch_steps(EngineKind::Podman, launch, &o, None, "t");
            let networks = words(&podman.create)
                .into_iter()
                .filter(|w| w.starts_with("--network"))
                .count();
            assert_eq!(
                (networks, podman.connect.len(), podman.start),
                (3, 0, false)
            );
        }
        let connect = crate::network::connect_endpoint_plan(
            &o.networks[1],
            &ContainerRef::new("web").unwrap(),
        );
        assert_eq!(
            connect.args(),
            [
                "network",
                "connect",
                "--ip=10.2.0.5",
                "--alias=db",
                "--",
                "back",
                "web"
            ]
        );
    }

    #[test]
    fn go_durations() {
        for (d, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(250), "250us"),
            (Duration::from_nanos(7), "7ns"),
        ] {
            assert_eq!(argv::go_duration(d), text);
        }
    }

    #[test]
    fn ids_come_from_the_last_stdout_line() {
        let id = "84db9a792b2a4f5c6e130d510da0539618b81e5fee39eca2d3847bf2251cfe46";
        assert_eq!(parse_id(format!("{id}\n").as_bytes()).unwrap(), id);
        assert_eq!(parse_id(format!("noise\n{id}\n\n").as_bytes()).unwrap(), id);
        assert_eq!(
            parse_id(b"sha256:39290e14f4163c\n").unwrap(),
            "sha256:39290e14f4163c"
        );
        assert_eq!(parse_id(b"").unwrap_err().kind(), crate::ErrorKind::Parse);
        assert!(parse_id(b"Writing manifest\n").is_err());
    }

    #[test]
    fn tokens_are_unique_hex() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(KeyValue::pair(CREATION_TOKEN_LABEL, &a).is_ok());
    }
}

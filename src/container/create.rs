//! `create` and `run -d`: typed options to one engine call that is safe to
//! retry, with environment values in a private env-file.

use std::path::{Path, PathBuf};

use super::envfile::{redact_env, EnvFile};
use super::lock_names;
use super::query::{ps_ids_plan, PsQuery};
use super::Containers;
use crate::engine::plan::{random_token, Effect, Plan};
use crate::engine::Argv;
use crate::error::{Error, Result};
use crate::input::{
    ContainerLink, ContainerRef, Cpus, EnvVar, ImageRef, KeyValue, MemorySize, PortSpec,
    RestartPolicy, VolumeSpec, Word,
};

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

/// Everything `create` / `run` take. Build with [`RunOptions::new`] and set
/// the fields you need.
///
/// ```
/// use dockhand::container::RunOptions;
/// use dockhand::input::{ContainerRef, EnvVar, ImageRef, PortSpec};
/// let mut o = RunOptions::new(ImageRef::new("busybox")?);
/// o.name = Some(ContainerRef::new("web")?);
/// o.publish.push(PortSpec::new("8080")?);
/// o.env.push(EnvVar::new("TOKEN", "s3cret")?); // goes to a 0600 env-file, not argv
/// o.command = vec!["httpd".into(), "-f".into()];
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Image to run.
    pub image: ImageRef,
    /// Command and arguments (the image's default when empty).
    pub command: Vec<String>,
    /// Container name (the engine picks one when `None`).
    pub name: Option<ContainerRef>,
    /// `-p`: published ports.
    pub publish: Vec<PortSpec>,
    /// `-e`: environment variables (passed in a private env-file).
    pub env: Vec<EnvVar>,
    /// `--env-file`: the caller's own env-files.
    pub env_files: Vec<PathBuf>,
    /// `-v`: volumes and bind mounts.
    pub volumes: Vec<VolumeSpec>,
    /// `--volumes-from`.
    pub volumes_from: Vec<ContainerRef>,
    /// `--link`.
    pub links: Vec<ContainerLink>,
    /// `-l`: labels.
    pub labels: Vec<KeyValue>,
    /// `--network`.
    pub network: Option<Word>,
    /// `--network-alias`.
    pub network_aliases: Vec<Word>,
    /// `--restart`.
    pub restart: Option<RestartPolicy>,
    /// `--cap-add`.
    pub cap_add: Vec<Word>,
    /// `--device`.
    pub devices: Vec<Word>,
    /// `--privileged`.
    pub privileged: bool,
    /// `--hostname`.
    pub hostname: Option<Word>,
    /// `-u`: user.
    pub user: Option<Word>,
    /// `-w`: working directory.
    pub workdir: Option<Word>,
    /// `--memory`.
    pub memory: Option<MemorySize>,
    /// `--cpus`.
    pub cpus: Option<Cpus>,
    /// `--cpu-shares`.
    pub cpu_shares: Option<u64>,
    /// `--rm`: remove the container when it exits.
    pub remove_on_exit: bool,
}

impl RunOptions {
    /// Options running `image` with its defaults.
    pub fn new(image: ImageRef) -> RunOptions {
        RunOptions {
            image,
            command: Vec::new(),
            name: None,
            publish: Vec::new(),
            env: Vec::new(),
            env_files: Vec::new(),
            volumes: Vec::new(),
            volumes_from: Vec::new(),
            links: Vec::new(),
            labels: Vec::new(),
            network: None,
            network_aliases: Vec::new(),
            restart: None,
            cap_add: Vec::new(),
            devices: Vec::new(),
            privileged: false,
            hostname: None,
            user: None,
            workdir: None,
            memory: None,
            cpus: None,
            cpu_shares: None,
            remove_on_exit: false,
        }
    }
}

/// The plan for `create` / `run --detach`. `env_file` is the private file
/// holding `opts.env` (see [`EnvFile`]); `token` is this creation's unique
/// [`CREATION_TOKEN_LABEL`], which a retry looks for before running the
/// command again. Yields the full id.
///
/// ```
/// use dockhand::container::{launch_plan, Launch, RunOptions};
/// use dockhand::input::{ContainerRef, ImageRef};
/// let mut o = RunOptions::new(ImageRef::new("busybox").unwrap());
/// o.name = Some(ContainerRef::new("web").unwrap());
/// o.command = vec!["-rf".into()];
/// let plan = launch_plan(Launch::RunDetached, &o, None, "t1");
/// let args: Vec<_> = plan.args().iter().map(|a| a.to_str().unwrap()).collect();
/// assert_eq!(args, ["run", "--detach", "--name=web", "--label=dockhand.creation-token=t1", "--", "busybox", "-rf"]);
/// ```
pub fn launch_plan(
    launch: Launch,
    opts: &RunOptions,
    env_file: Option<&Path>,
    token: &str,
) -> Plan<String> {
    let verb = match launch {
        Launch::Create => Argv::new("create"),
        Launch::RunDetached => Argv::new("run").flag("--detach"),
    };
    let args = verb
        .opt("--name", opts.name.as_ref())
        .each("--publish", &opts.publish)
        .each_path("--env-file", opts.env_files.iter().map(PathBuf::as_path))
        // Ours last: like `-e`, it overrides the caller's env-files.
        .opt_path("--env-file", env_file)
        .each("--volume", &opts.volumes)
        .each("--volumes-from", &opts.volumes_from)
        .each("--link", &opts.links)
        .each("--label", &opts.labels)
        .opt("--network", opts.network.as_ref())
        .each("--network-alias", &opts.network_aliases)
        .opt("--restart", opts.restart.as_ref())
        .each("--cap-add", &opts.cap_add)
        .each("--device", &opts.devices)
        .flag_if("--privileged", opts.privileged)
        .opt("--hostname", opts.hostname.as_ref())
        .opt("--user", opts.user.as_ref())
        .opt("--workdir", opts.workdir.as_ref())
        .opt("--memory", opts.memory.map(|m| m.bytes()))
        .opt("--cpus", opts.cpus)
        .opt("--cpu-shares", opts.cpu_shares)
        .flag_if("--rm", opts.remove_on_exit)
        .opt("--label", Some(format!("{CREATION_TOKEN_LABEL}={token}")))
        .operands(
            std::iter::once(opts.image.as_str()).chain(opts.command.iter().map(String::as_str)),
        );
    let token = token.to_string();
    Plan::new(Effect::Mutating, args, |outcome| {
        let out = outcome.into_result()?;
        if out.dry_run {
            return Ok(String::new());
        }
        parse_id(&out.stdout)
    })
    .verify_before_retry(move || find_by_token_plan(&token))
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

/// Container arguments cannot carry NUL bytes (argv is C strings).
fn check_command(command: &[String]) -> Result<()> {
    match command.iter().find(|a| a.contains('\0')) {
        Some(a) => Err(Error::invalid_input(format!(
            "command argument {a:?} contains a NUL byte"
        ))),
        None => Ok(()),
    }
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
        self.launch(Launch::Create, opts)
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
        self.launch(Launch::RunDetached, opts)
    }

    fn launch(&self, launch: Launch, opts: &RunOptions) -> Result<String> {
        check_command(&opts.command)?;
        let _locks = lock_names(self.engine, opts.name.iter())?;
        let env_file = EnvFile::write(&opts.env, self.engine.passes_fds())?;
        let token = random_token()?;
        let mut plan = launch_plan(launch, opts, env_file.as_ref().map(EnvFile::path), &token);
        if let Some(fd) = env_file.as_ref().and_then(EnvFile::fd) {
            plan = plan.pass_fd(fd);
        }
        let result = self.engine.run(plan);
        if result.is_err() {
            self.remove_half_made(&token);
        }
        result.map_err(|e| redact_env(e, &opts.env))
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
    use super::*;

    fn words(plan: &Plan<String>) -> Vec<String> {
        plan.args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_option_becomes_one_flag_word_and_env_values_never_appear() {
        let mut o = RunOptions::new(ImageRef::new("dockhand-test/busybox:latest").unwrap());
        o.name = Some(ContainerRef::new("web").unwrap());
        o.publish = vec![
            PortSpec::new("8080").unwrap(),
            PortSpec::new("127.0.0.1:53:53/udp").unwrap(),
        ];
        o.env = vec![EnvVar::new("TOKEN", "hunter2").unwrap()];
        o.env_files = vec![PathBuf::from("/etc/app.env")];
        o.volumes = vec![VolumeSpec::new("data:/data:ro").unwrap()];
        o.volumes_from = vec![ContainerRef::new("base").unwrap()];
        o.links = vec![ContainerLink::new("db:database").unwrap()];
        o.labels = vec![KeyValue::new("label", "app=web").unwrap()];
        o.network = Some(Word::new("appnet").unwrap());
        o.network_aliases = vec![Word::new("www").unwrap()];
        o.restart = Some(RestartPolicy::new("on-failure:3").unwrap());
        o.cap_add = vec![Word::new("NET_ADMIN").unwrap()];
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
        let plan = launch_plan(
            Launch::Create,
            &o,
            Some(Path::new("/tmp/dockhand-env-x")),
            "tok",
        );
        assert_eq!(
            words(&plan),
            [
                "create",
                "--name=web",
                "--publish=8080/tcp",
                "--publish=127.0.0.1:53:53/udp",
                "--env-file=/etc/app.env",
                "--env-file=/tmp/dockhand-env-x",
                "--volume=data:/data:ro",
                "--volumes-from=base",
                "--link=db:database",
                "--label=app=web",
                "--network=appnet",
                "--network-alias=www",
                "--restart=on-failure:3",
                "--cap-add=NET_ADMIN",
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
        assert!(!words(&plan).iter().any(|w| w.contains("hunter2")));
        assert_eq!(plan.effect(), Effect::Mutating);
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
    fn tokens_are_unique_hex_and_nul_in_commands_is_refused() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(KeyValue::pair(CREATION_TOKEN_LABEL, &a).is_ok());
        assert!(check_command(&["a\0b".into()]).is_err());
    }
}

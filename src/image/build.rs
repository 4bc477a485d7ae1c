//! `build`: the full image id from `--iidfile`, never from log text.
//!
//! Prior wrappers read the id from `Successfully built <12 hex>`, which is
//! short, absent with BuildKit, and followed by tag lines. Both engines write
//! `sha256:<64 hex>` (no newline) to the file named by `--iidfile`, whichever
//! builder ran; that is what [`Images::build`] returns.
//!
//! Builders: docker picks the classic builder or BuildKit with
//! `DOCKER_BUILDKIT=0|1` ([`Builder`]); BuildKit needs a CLI that has it
//! (20.10 has it built in, 23+ needs the buildx plugin). Podman always builds
//! with buildah. Where each puts its log (captured in vendor-docs): classic
//! and podman on stdout with the verdict on stderr, BuildKit all on stderr.
//! A failed build's error carries the verdict and the last meaningful log
//! lines (the failing step and its output), without the id/cache chatter.
//!
//! The context is a local directory or, fetched first by dockhand
//! ([`context`]), an http(s) tarball (the engine reads it on
//! stdin: `build -`) or a git checkout (a directory).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::context::{self, ContextSha256, ContextSource, FetchOptions, LocalContext};
use super::Images;
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, Result};
use crate::exec::Output;
use crate::image::{full_id, TRANSFER_TIMEOUT};
use crate::input::{check_plain, BuildStage, ImageTag, KeyValue, NetworkName};

/// How many log lines a build failure keeps.
const LOG_TAIL: usize = 12;

/// Which docker builder to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Builder {
    /// Whatever the engine defaults to.
    #[default]
    Auto,
    /// Docker's classic builder (`DOCKER_BUILDKIT=0`).
    Classic,
    /// BuildKit (`DOCKER_BUILDKIT=1`, plain progress).
    BuildKit,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The build context: a directory, or a tarball URL or git repository
    /// that dockhand fetches first ([`ContextSource::parse`]).
    pub context: ContextSource,
    /// The Dockerfile (default: `Dockerfile` in the context). For a local
    /// directory a path as the engine reads it; for a fetched context a
    /// relative path inside it (git: inside the subdirectory).
    pub dockerfile: Option<PathBuf>,
    /// The SHA-256 a fetched tarball must have.
    pub context_sha256: Option<ContextSha256>,
    /// Time and size limits of fetching a remote context.
    pub fetch: FetchOptions,
    /// Names for the image.
    pub tags: Vec<ImageTag>,
    /// The stage of a multi-stage Dockerfile to build (default: the last).
    pub target: Option<BuildStage>,
    /// Do not use the build cache.
    pub no_cache: bool,
    /// Always try to pull newer base images.
    pub pull: bool,
    /// `ARG` values.
    pub build_args: Vec<KeyValue>,
    /// Labels set on the image.
    pub labels: Vec<KeyValue>,
    /// Network for `RUN` steps (`none`, `host`, a network name; default: the engine's).
    pub network: Option<NetworkName>,
    /// Docker builder (podman ignores it: buildah is its only builder).
    pub builder: Builder,
    /// Time limit (default [`TRANSFER_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

impl BuildOptions {
    /// Build `context` (a directory, or a parsed [`ContextSource`]) with its
    /// `Dockerfile`, untagged, defaults otherwise.
    pub fn new(context: impl Into<ContextSource>) -> BuildOptions {
        BuildOptions {
            context: context.into(),
            dockerfile: None,
            context_sha256: None,
            fetch: FetchOptions::default(),
            tags: Vec::new(),
            target: None,
            no_cache: false,
            pull: false,
            build_args: Vec::new(),
            labels: Vec::new(),
            network: None,
            builder: Builder::Auto,
            timeout: Some(TRANSFER_TIMEOUT),
        }
    }
}

/// What a build made.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Built {
    /// The full image id, `sha256:<64 hex>`.
    pub id: String,
    /// The names given to it.
    pub tags: Vec<ImageTag>,
    /// Where the context came from.
    pub context: ContextSource,
    /// The commit that was built (git contexts).
    pub commit: Option<String>,
    /// The SHA-256 of the tarball that was built (tarball contexts).
    pub sha256: Option<String>,
}

/// The build of a local `context`, writing the image id to `iidfile`; the
/// value is the full id read back from it. `--force-rm` keeps a failed
/// step's container from being left behind (the classic builder leaves it
/// otherwise). A tarball is read on stdin (`build -`), which every builder
/// takes; its Dockerfile path is inside the archive.
///
/// ```
/// use dockhand::image::build::{build_plan, BuildOptions, Builder};
/// use dockhand::image::context::LocalContext;
/// use dockhand::{input::{BuildStage, ImageTag}, EngineKind};
/// let mut opts = BuildOptions::new("/src/app");
/// opts.tags.push(ImageTag::new("app:1").unwrap());
/// opts.builder = Builder::BuildKit;
/// opts.target = Some(BuildStage::new("prod").unwrap());
/// let dir = LocalContext::Dir { path: "/src/app".into(), dockerfile: None };
/// let plan = build_plan(EngineKind::Docker, &opts, &dir, "/tmp/iid".as_ref());
/// assert_eq!(plan.args(), ["build", "--iidfile", "/tmp/iid", "--force-rm", "--progress=plain", "--tag=app:1", "--target=prod", "--", "/src/app"]);
/// assert_eq!(plan.envs()[0].1, "1");
/// let tar = LocalContext::Tarball { path: "/tmp/c.tar".into(), dockerfile: Some("app/Dockerfile".into()) };
/// let plan = build_plan(EngineKind::Podman, &opts, &tar, "/tmp/iid".as_ref());
/// assert_eq!(plan.args(), ["build", "--iidfile", "/tmp/iid", "--force-rm", "--file", "app/Dockerfile", "--tag=app:1", "--target=prod", "--", "-"]);
/// ```
pub fn build_plan(
    kind: EngineKind,
    opts: &BuildOptions,
    context: &LocalContext,
    iidfile: &Path,
) -> Plan<String> {
    let buildkit_env = kind.quirks().buildkit_env;
    let (operand, dockerfile, stdin) = match context {
        LocalContext::Dir { path, dockerfile } => (path.as_os_str(), dockerfile, None),
        LocalContext::Tarball { path, dockerfile } => ("-".as_ref(), dockerfile, Some(path)),
    };
    let args = Argv::new("build")
        .pair("--iidfile", Some(iidfile))
        .flag("--force-rm")
        .flag_if(
            "--progress=plain",
            opts.builder == Builder::BuildKit && buildkit_env.is_some(),
        )
        .pair("--file", dockerfile.as_deref())
        .each("--tag", &opts.tags)
        .opt("--target", opts.target.as_ref())
        .flag_if("--no-cache", opts.no_cache)
        .flag_if("--pull", opts.pull)
        .each("--build-arg", &opts.build_args)
        .each("--label", &opts.labels)
        .opt("--network", opts.network.as_ref())
        .operands([operand]);

    let iidfile = iidfile.to_path_buf();
    let mut plan = Plan::new(Effect::Mutating, args, move |outcome| {
        if let Some(err) = outcome.error {
            return Err(build_failure(err, &outcome.output));
        }
        if outcome.output.dry_run {
            return Ok(String::new());
        }
        read_iidfile(&iidfile, &outcome.output)
    })
    .timeout(opts.timeout);
    if let Some(path) = stdin {
        plan = plan.stdin_file(path);
    }
    match (opts.builder, buildkit_env) {
        (Builder::Classic, Some(var)) => plan = plan.env(var, "0"),
        (Builder::BuildKit, Some(var)) => plan = plan.env(var, "1"),
        _ => {}
    }
    plan
}

fn read_iidfile(path: &Path, output: &Output) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::parse(
            format!(
                "the build succeeded but wrote no image id to {} ({e})",
                path.display()
            ),
            &output.stdout,
        )
        .with_source(e)
    })?;
    let id = full_id(text.trim());
    let hex = id.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::parse(
            format!("unexpected image id in {}: {text:?}", path.display()),
            text.as_bytes(),
        ));
    }
    Ok(id)
}

/// Progress and cache chatter that says nothing about why a build failed.
fn is_chatter(line: &str) -> bool {
    const PREFIXES: [&str; 9] = [
        "Sending build context",
        "---> ",
        "--> ",
        "Removing intermediate container",
        "DEPRECATED:",
        "BuildKit is currently disabled",
        "environment-variable.",
        "Install the buildx component",
        "https://docs.docker.com/go/buildx/",
    ];
    let line = line.trim();
    if line.is_empty() || line == "------" || PREFIXES.iter().any(|p| line.starts_with(p)) {
        return true;
    }
    // BuildKit plain progress: `#5 sha256:…`, `#5 DONE 0.2s`, `#4 CACHED`,
    // `#1 transferring dockerfile: 134B done`, `#2 [internal] load .dockerignore`.
    match line.strip_prefix('#').and_then(|r| r.split_once(' ')) {
        Some((step, rest)) if step.chars().all(|c| c.is_ascii_digit()) => {
            ["sha256:", "DONE", "CACHED", "transferring", "[internal]"]
                .iter()
                .any(|p| rest.starts_with(p))
        }
        _ => false,
    }
}

/// The error of a failed build: the engine's verdict (its last stderr line)
/// and the last meaningful lines of the build log from both streams.
fn build_failure(err: Error, output: &Output) -> Error {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut log: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| !is_chatter(l))
        .map(str::trim_end)
        .collect();
    let verdict = match log.pop() {
        Some(v) => v.trim().to_string(),
        None => return err,
    };
    let tail = &log[log.len().saturating_sub(LOG_TAIL)..];
    let mut message = format!("build failed: {verdict}");
    if !tail.is_empty() {
        message.push_str("\n  last build output:");
        for line in tail {
            message.push_str("\n    ");
            message.push_str(line);
        }
    }
    err.with_message(message)
}

impl Images<'_> {
    /// Build an image; returns its full id (`sha256:<64 hex>`) and, for a
    /// fetched context, the commit or tarball checksum that was built. A
    /// remote context is fetched first ([`context::fetch`]: bounded in time
    /// and size, retried when the failure is transient, checked against
    /// [`BuildOptions::context_sha256`]) and removed again afterwards.
    ///
    /// ```no_run
    /// use dockhand::image::{build::BuildOptions, context::ContextSource};
    /// let mut opts = BuildOptions::new(ContextSource::parse("https://example.com/team/app.git#v1.2:server")?);
    /// opts.tags.push(dockhand::input::ImageTag::new("app:dev")?);
    /// let built = dockhand::Engine::detect()?.images().build(&opts)?;
    /// println!("{} from {:?}", built.id, built.commit);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn build(&self, opts: &BuildOptions) -> Result<Built> {
        if let Some(f) = &opts.dockerfile {
            check_plain("Dockerfile path", &f.to_string_lossy())?;
        }
        let fetched = context::fetch(
            self.engine,
            &opts.context,
            opts.dockerfile.as_deref(),
            opts.context_sha256.as_ref(),
            &opts.fetch,
        )?;
        // A private directory, not a file in /tmp: the CLI replaces the file
        // (as root under `sudo docker`), and we must still be able to remove it.
        let dir = super::private_temp_dir("dockhand-build-")?;
        let id = self.engine.run(build_plan(
            self.engine.kind(),
            opts,
            &fetched.local,
            &dir.path().join("iid"),
        ))?;
        Ok(Built {
            id,
            tags: opts.tags.clone(),
            context: opts.context.clone(),
            commit: fetched.commit.clone(),
            sha256: fetched.sha256.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay};
    use crate::ErrorKind;

    fn dir(path: &str) -> LocalContext {
        LocalContext::Dir {
            path: path.into(),
            dockerfile: None,
        }
    }

    fn failed(kind: EngineKind, path: &str, code: i32) -> Error {
        let stdout = std::fs::read(crate::testing::capture_path(&format!("{path}.stdout.txt")))
            .unwrap_or_default();
        let stderr = capture(&format!("{path}.stderr.txt"));
        let plan = build_plan(
            kind,
            &BuildOptions::new("/ctx"),
            &dir("/ctx"),
            "/nonexistent/iid".as_ref(),
        );
        replay(kind, plan, code, &stdout, &stderr).unwrap_err()
    }

    #[test]
    fn failures_carry_the_verdict_and_the_failing_step_with_its_output() {
        for (kind, path, code, verdict) in [
            (
                EngineKind::Docker,
                "docker/build-classic-fail-force-rm",
                7,
                "returned a non-zero code: 7",
            ),
            (
                EngineKind::Docker,
                "docker/build-classic-fail-client20",
                7,
                "returned a non-zero code: 7",
            ),
            (
                EngineKind::Docker,
                "docker/build-buildkit-fail-client20-progress-plain",
                1,
                "exit code: 7",
            ),
            (
                EngineKind::Podman,
                "podman/build-fail-force-rm",
                7,
                "exit status 7",
            ),
        ] {
            let e = failed(kind, path, code);
            let m = e.message();
            let first = m.lines().next().unwrap();
            assert!(
                first.starts_with("build failed: ") && first.contains(verdict),
                "{path}: {m}"
            );
            assert!(
                m.contains("about to fail"),
                "{path}: the RUN output is kept: {m}"
            );
            assert!(
                m.contains("RUN echo about to fail"),
                "{path}: the failing step is kept: {m}"
            );
            for chatter in [
                "DEPRECATED",
                "---> ",
                "sha256:",
                "DONE",
                "Sending build context",
            ] {
                assert!(!m.contains(chatter), "{path}: {chatter:?} left in {m}");
            }
            assert_eq!(e.status(), Some(crate::ExitStatus::Code(code)));
        }
    }

    #[test]
    fn missing_base_image_is_reported_with_the_engine_reason() {
        let e = failed(EngineKind::Podman, "podman/err-build-missing-base", 125);
        assert!(e.message().contains("short-name"), "{e}");
        assert!(e.message().contains("FROM vd-nonexistent-base"), "{e}");
        let e = failed(EngineKind::Docker, "docker/err-build-missing-base", 1);
        assert!(e.message().contains("no such host"), "{e}");
    }

    #[test]
    fn a_missing_docker0_is_an_engine_failure_not_a_missing_network() {
        // Seen when a RUN step needed the default bridge while docker0 was gone.
        let stderr = b"failed to create endpoint inspiring_golick on network bridge: adding interface veth6c77d6a to bridge docker0 failed: could not find bridge docker0: route ip+net: no such network interface";
        let plan = build_plan(
            EngineKind::Docker,
            &BuildOptions::new("/ctx"),
            &dir("/ctx"),
            "/i".as_ref(),
        );
        let e = replay(EngineKind::Docker, plan, 1, b"", stderr).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EngineFailure, "{e}");
    }

    #[test]
    fn buildkit_without_buildx_says_so() {
        let e = failed(EngineKind::Docker, "docker/build-buildkit1-ok", 1);
        assert_eq!(e.kind(), ErrorKind::EngineMissing, "{e}");
        assert!(e.message().contains("buildx"), "{e}");
    }

    #[test]
    fn the_id_comes_from_the_iidfile_in_full() {
        for path in [
            "docker/build-iidfile.txt",
            "podman/build-iidfile.txt",
            "docker/build-buildkit-iidfile-client20.txt",
        ] {
            let out = Output {
                status: crate::ExitStatus::Code(0),
                stdout: Vec::new(),
                stderr: Vec::new(),
                dry_run: false,
            };
            let id = read_iidfile(&crate::testing::capture_path(path), &out).unwrap();
            assert!(id.starts_with("sha256:") && id.len() == 71, "{path}: {id}");
        }
        let out = Output {
            status: crate::ExitStatus::Code(0),
            stdout: b"Successfully built ab12".to_vec(),
            stderr: Vec::new(),
            dry_run: false,
        };
        let e = read_iidfile("/nonexistent/iid".as_ref(), &out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse);
    }

    #[test]
    fn builder_choice_is_an_environment_variable_for_docker_only() {
        let mut opts = BuildOptions::new("/ctx");
        opts.builder = Builder::Classic;
        let plan = build_plan(EngineKind::Docker, &opts, &dir("/ctx"), "/i".as_ref());
        assert_eq!(plan.envs(), [("DOCKER_BUILDKIT".into(), "0".into())]);
        assert!(!plan.args().iter().any(|a| a == "--progress=plain"));
        opts.builder = Builder::BuildKit;
        let plan = build_plan(EngineKind::Podman, &opts, &dir("/ctx"), "/i".as_ref());
        assert!(plan.envs().is_empty());
        assert!(!plan.args().iter().any(|a| a == "--progress=plain"));
    }

    #[test]
    fn every_option_becomes_one_argument() {
        let mut opts = BuildOptions::new("/ctx");
        opts.no_cache = true;
        opts.pull = true;
        opts.build_args = KeyValue::many("build arg", ["V=1 2"]).unwrap();
        opts.labels = KeyValue::many("label", ["a=-b"]).unwrap();
        opts.network = Some(NetworkName::new("none").unwrap());
        let local = LocalContext::Dir {
            path: "/ctx".into(),
            dockerfile: Some("/ctx/Dockerfile.dev".into()),
        };
        let plan = build_plan(EngineKind::Podman, &opts, &local, "/i".as_ref());
        assert_eq!(
            plan.args(),
            [
                "build",
                "--iidfile",
                "/i",
                "--force-rm",
                "--file",
                "/ctx/Dockerfile.dev",
                "--no-cache",
                "--pull",
                "--build-arg=V=1 2",
                "--label=a=-b",
                "--network=none",
                "--",
                "/ctx"
            ]
        );
    }
}

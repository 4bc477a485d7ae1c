//! Registries: pull, push, login, logout — with the same guarantees on
//! docker and podman.
//!
//! The engines differ a lot here (captured in `vendor-docs/registry.md`):
//! dockerd has no time limit on a hung manifest request, podman none at all;
//! podman retries a 429 by itself for 30 s to 2 minutes and a reset 3 times,
//! docker neither; podman prints no digest; a wrong `--platform` is only a
//! warning on both. dockhand evens that out:
//!
//! * every attempt is bounded by the plan's time limit ([`PullOptions::timeout`]):
//!   the engine's process group is killed and the call ends with
//!   [`ErrorKind::Timeout`], which is never retried;
//! * transient failures (5xx, 429 `toomanyrequests` / `unavailable`, connection
//!   reset or refused, deadlines) are retried by the engine's [`RetryPolicy`]
//!   with backoff; permanent ones (401/403, 404 `manifest unknown`, `name
//!   invalid`, a missing local image) are not — classified by the registry's
//!   error code where the CLI prints it (`engine::classify`);
//! * [`Images::pull`] reports the manifest digest it got, and with a platform
//!   checks the pulled image's OS and architecture itself;
//! * podman's refusal of a `REGISTRY_AUTH_FILE` that names no file is treated
//!   like docker's missing config: no credentials.
//!
//! [`RetryPolicy`]: crate::engine::retry::RetryPolicy

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::{Image, Images, TRANSFER_TIMEOUT};
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::{Observer, Output};
use crate::input::{check_plain, ImageRef, ImageTag, Platform, Registry};

/// What [`Images::pull`] fetches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PullOptions {
    /// The image: `name[:tag]` or `name@sha256:…`.
    pub image: ImageRef,
    /// Platform such as `linux/arm64` (default: the engine's). The pulled
    /// image must have it: the engines pull another one with only a warning.
    pub platform: Option<Platform>,
    /// `Some(false)`: plain http or an unverified certificate (podman
    /// `--tls-verify=false`). docker has no such flag: dockerd decides (it
    /// trusts 127.0.0.0/8 and its `insecure-registries`).
    pub tls_verify: Option<bool>,
    /// Time limit of each attempt (default [`TRANSFER_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

impl PullOptions {
    /// Pull `image` for the engine's platform.
    pub fn new(image: ImageRef) -> PullOptions {
        PullOptions {
            image,
            platform: None,
            tls_verify: None,
            timeout: Some(TRANSFER_TIMEOUT),
        }
    }
}

/// What a pull got.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Pulled {
    /// The reference that was pulled.
    pub reference: ImageRef,
    /// The manifest digest the registry served (`sha256:…`): docker's
    /// `Digest:` line, podman's `Digest` from `image inspect`, or the
    /// reference's own digest.
    pub digest: Option<String>,
    /// The pulled image, inspected (its `digests` are the RepoDigests).
    pub image: Image,
}

/// What [`Images::push`] sends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushOptions {
    /// The local image to push, `registry/name[:tag]`.
    pub image: ImageTag,
    /// As in [`PullOptions::tls_verify`].
    pub tls_verify: Option<bool>,
    /// Time limit of each attempt (default [`TRANSFER_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

impl PushOptions {
    /// Push `image`.
    pub fn new(image: ImageTag) -> PushOptions {
        PushOptions {
            image,
            tls_verify: None,
            timeout: Some(TRANSFER_TIMEOUT),
        }
    }
}

/// What a push sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Pushed {
    /// The reference that was pushed.
    pub reference: ImageTag,
    /// The digest of the pushed manifest (`sha256:…`).
    pub digest: Option<String>,
}

/// A registry password: handed to the engine on stdin, never in an argv,
/// and never printed (`Debug` shows `Password(***)`).
///
/// ```
/// use dockhand::image::Password;
/// let p = Password::from_input(b"s3cret\n".to_vec()).unwrap();
/// assert_eq!(format!("{p:?}"), "Password(***)");
/// assert!(Password::from_input(b"\n".to_vec()).is_err());
/// assert!(Password::new(b"two\nlines".to_vec()).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Vec<u8>);

impl Password {
    /// A password as it is: not empty, no line breaks or NUL (the engines
    /// read one line from stdin).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Password> {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Err(Error::invalid_input("the password is empty"));
        }
        if bytes.iter().any(|b| matches!(b, b'\n' | b'\r' | 0)) {
            return Err(Error::invalid_input(
                "the password contains a line break or NUL",
            ));
        }
        Ok(Password(bytes))
    }

    /// A password read from stdin or a file: one trailing line break
    /// (`\n` or `\r\n`) is not part of it, as `docker login --password-stdin` reads it.
    pub fn from_input(mut bytes: Vec<u8>) -> Result<Password> {
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Password::new(bytes)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// What [`Images::login`] stores: credentials for one registry, in the
/// engine's own place (docker `$DOCKER_CONFIG/config.json`, podman
/// `$REGISTRY_AUTH_FILE` or its default auth.json).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginOptions {
    /// The registry, `host[:port]`.
    pub server: Registry,
    /// The user name.
    pub username: String,
    /// The password (or token).
    pub password: Password,
    /// As in [`PullOptions::tls_verify`].
    pub tls_verify: Option<bool>,
}

impl LoginOptions {
    /// Log `username` in to `server`; the user name is checked like every
    /// value that reaches an argv.
    ///
    /// ```
    /// use dockhand::image::{LoginOptions, Password};
    /// let server = dockhand::input::Registry::new("127.0.0.1:5000").unwrap();
    /// let pass = Password::new(b"pw".to_vec()).unwrap();
    /// assert!(LoginOptions::new(server.clone(), "ci", pass.clone()).is_ok());
    /// assert!(LoginOptions::new(server, "-p", pass).is_err());
    /// ```
    pub fn new(server: Registry, username: &str, password: Password) -> Result<LoginOptions> {
        check_plain("user name", username)?;
        Ok(LoginOptions {
            server,
            username: username.to_string(),
            password,
            tls_verify: None,
        })
    }
}

/// `--tls-verify=BOOL` where the engine has the flag. docker has none: the
/// daemon's configuration decides (logged, so a caller who asked knows).
fn tls_args(kind: EngineKind, tls_verify: Option<bool>) -> Option<String> {
    let verify = tls_verify?;
    match kind.quirks().tls_verify_flag {
        Some(flag) => Some(format!("{flag}={verify}")),
        None => {
            if !verify {
                log::debug!(
                    "docker has no --tls-verify: dockerd trusts 127.0.0.0/8 and its insecure-registries"
                );
            }
            None
        }
    }
}

/// The engine's verdict on a failed transfer: its last stderr line (it
/// prints progress, and podman its own retries, first).
fn with_last_line(err: Error, output: &Output) -> Error {
    let last = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string);
    match last {
        Some(line) => err.with_message(line),
        None => err,
    }
}

/// The first `sha256:…` word after `marker` in `text`.
fn digest_after(text: &str, marker: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = &l[l.find(marker)? + marker.len()..];
        let word = rest.split_whitespace().next()?;
        word.starts_with("sha256:").then(|| word.to_string())
    })
}

/// Pull an image. The value is the manifest digest where the engine prints
/// it (docker's `Digest:` line; docker is never `--quiet` for that reason,
/// its stdout is a few lines). `progress`: the caller shows the engine's
/// output (podman is `--quiet` otherwise). Transient registry failures are
/// retried by the engine's policy; the error names the engine's last line.
///
/// ```
/// use dockhand::{image::{registry::pull_plan, PullOptions}, input::ImageRef, EngineKind};
/// let mut opts = PullOptions::new(ImageRef::new("127.0.0.1:5000/app:1").unwrap());
/// opts.tls_verify = Some(false);
/// assert_eq!(pull_plan(EngineKind::Podman, &opts, false).args(), ["pull", "--quiet", "--tls-verify=false", "--", "127.0.0.1:5000/app:1"]);
/// assert_eq!(pull_plan(EngineKind::Docker, &opts, false).args(), ["pull", "--", "127.0.0.1:5000/app:1"]);
/// ```
pub fn pull_plan(kind: EngineKind, opts: &PullOptions, progress: bool) -> Plan<Option<String>> {
    let q = kind.quirks();
    let args = Argv::new("pull")
        .flag_if("--quiet", !progress && !q.pull_prints_digest)
        .opt("--platform", opts.platform.as_ref())
        .args(tls_args(kind, opts.tls_verify))
        .operands([&opts.image]);
    let prints_digest = q.pull_prints_digest;
    Plan::new(Effect::Mutating, args, move |outcome| match outcome.error {
        Some(e) => Err(with_last_line(e, &outcome.output)),
        None if prints_digest => Ok(digest_after(
            &String::from_utf8_lossy(&outcome.output.stdout),
            "Digest: ",
        )),
        None => Ok(None),
    })
    .timeout(opts.timeout)
}

/// Push an image; the value is the pushed manifest's digest (docker's
/// `TAG: digest: sha256:… size: N` line, podman's `--digestfile`, written
/// to `digest_file`).
///
/// ```
/// use dockhand::{image::{registry::push_plan, PushOptions}, input::ImageTag, EngineKind};
/// let opts = PushOptions::new(ImageTag::new("127.0.0.1:5000/app:1").unwrap());
/// let plan = push_plan(EngineKind::Podman, &opts, false, "/tmp/d".as_ref());
/// assert_eq!(plan.args(), ["push", "--quiet", "--digestfile", "/tmp/d", "--", "127.0.0.1:5000/app:1"]);
/// ```
pub fn push_plan(
    kind: EngineKind,
    opts: &PushOptions,
    progress: bool,
    digest_file: &Path,
) -> Plan<Option<String>> {
    let file_flag = kind.quirks().push_digest_file_flag;
    let args = Argv::new("push")
        .flag_if("--quiet", !progress && file_flag.is_some())
        .pair(
            file_flag.unwrap_or_default(),
            file_flag.map(|_| digest_file),
        )
        .args(tls_args(kind, opts.tls_verify))
        .operands([&opts.image]);
    let digest_file = file_flag.map(|_| digest_file.to_path_buf());
    Plan::new(Effect::Mutating, args, move |outcome| {
        if let Some(e) = outcome.error {
            return Err(with_last_line(e, &outcome.output));
        }
        Ok(match digest_file {
            Some(path) => std::fs::read_to_string(path)
                .ok()
                .map(|d| d.trim().to_string())
                .filter(|d| d.starts_with("sha256:")),
            None => digest_after(&String::from_utf8_lossy(&outcome.output.stdout), "digest: "),
        })
    })
    .timeout(opts.timeout)
}

/// Log in; the password goes on stdin (`--password-stdin`), never in argv.
///
/// ```
/// use dockhand::{image::{registry::login_plan, LoginOptions, Password}, input::Registry, EngineKind};
/// let opts = LoginOptions::new(Registry::new("127.0.0.1:5000").unwrap(), "ci", Password::new(b"pw".to_vec()).unwrap()).unwrap();
/// let plan = login_plan(EngineKind::Docker, &opts);
/// assert_eq!(plan.args(), ["login", "--username=ci", "--password-stdin", "--", "127.0.0.1:5000"]);
/// assert!(!plan.args().iter().any(|a| a.to_string_lossy().contains("pw")));
/// ```
pub fn login_plan(kind: EngineKind, opts: &LoginOptions) -> Plan<()> {
    let args = Argv::new("login")
        .opt("--username", Some(&opts.username))
        .flag("--password-stdin")
        .args(tls_args(kind, opts.tls_verify))
        .operands([&opts.server]);
    Plan::write(args, |_| Ok(())).stdin(opts.password.0.clone())
}

/// Log out of `server` (always named: docker's `logout` without a server
/// logs out of Docker Hub). Not being logged in counts as logged out
/// (podman exits 125 with `not logged into`, docker 0).
///
/// ```
/// use dockhand::{image::registry::logout_plan, input::Registry};
/// assert_eq!(logout_plan(&Registry::new("127.0.0.1:5000").unwrap()).args(), ["logout", "--", "127.0.0.1:5000"]);
/// ```
pub fn logout_plan(server: &Registry) -> Plan<()> {
    Plan::new(
        Effect::Mutating,
        Argv::new("logout").operands([server]),
        |outcome| match outcome.error {
            None => Ok(()),
            Some(e) if e.stderr().to_lowercase().contains("not logged into") => Ok(()),
            Some(e) => Err(e),
        },
    )
}

/// Whether `image` is what `wanted` (`os/arch[/variant]`) names. An image
/// without a variant matches `arm64/v8` (its default variant).
fn platform_matches(wanted: &Platform, image: &Image) -> bool {
    let mut parts = wanted.as_str().split('/');
    let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
    let has = image.raw["Variant"].as_str().unwrap_or_default();
    os == Some(image.os.as_str())
        && arch == Some(image.architecture.as_str())
        && match variant {
            None => true,
            Some(v) if has.is_empty() => arch == Some("arm64") && v == "v8",
            Some(v) => v == has,
        }
}

/// `name` of `name[:tag][@digest]` (a `:` after the last `/` starts the tag).
fn repository(reference: &str) -> &str {
    let name = reference.split('@').next().unwrap_or(reference);
    let last = name.rfind('/').map_or(0, |i| i + 1);
    match name[last..].find(':') {
        Some(i) => &name[..last + i],
        None => name,
    }
}

/// The manifest digest of a pulled image when the engine did not print one:
/// the reference's own, podman's `Digest`, or the RepoDigest of the
/// reference's repository.
fn pulled_digest(reference: &ImageRef, image: &Image) -> Option<String> {
    if let Some((_, digest)) = reference.as_str().split_once('@') {
        return Some(digest.to_string());
    }
    if let Some(d) = image.raw["Digest"].as_str().filter(|d| !d.is_empty()) {
        return Some(d.to_string());
    }
    let repo = repository(reference.as_str());
    image.digests.iter().find_map(|d| {
        let (name, digest) = d.split_once('@')?;
        (repository(name) == repo || name.ends_with(&format!("/{repo}")))
            .then(|| digest.to_string())
    })
}

/// A private empty credentials file for podman when `REGISTRY_AUTH_FILE`
/// names no file: podman would refuse to pull or push at all, where docker
/// reads a missing config as "no credentials". Kept while the plan runs.
fn stand_in_auth_file(kind: EngineKind) -> Result<Option<(&'static str, tempfile::TempDir)>> {
    let Some(var) = kind.quirks().auth_file_env_must_exist else {
        return Ok(None);
    };
    let named = std::env::var_os(var).filter(|v| !v.is_empty());
    match named {
        Some(path) if !Path::new(&path).exists() => {}
        _ => return Ok(None),
    }
    let dir = super::private_temp_dir("dockhand-auth-")?;
    std::fs::write(dir.path().join("auth.json"), "{}\n").map_err(|e| {
        Error::new(
            ErrorKind::EngineFailure,
            format!("cannot create an empty credentials file: {e}"),
        )
        .with_source(e)
    })?;
    Ok(Some((var, dir)))
}

/// `plan` with the stand-in credentials file, if there is one.
fn with_auth<T: 'static>(
    plan: Plan<T>,
    stand_in: &Option<(&'static str, tempfile::TempDir)>,
) -> Plan<T> {
    match stand_in {
        Some((var, dir)) => plan.env(*var, dir.path().join("auth.json")),
        None => plan,
    }
}

impl Images<'_> {
    /// Pull an image, retrying transient registry failures, and return it
    /// inspected with the digest it was pulled at. With an `observer` the
    /// engine's progress output is handed to it as it arrives. With a
    /// platform, an image of another platform (which both engines pull with
    /// only a warning) is an [`ErrorKind::NotFound`] error and the name is
    /// put back as it was. (A dry-run engine only prints the pull: run
    /// [`pull_plan`] instead.)
    ///
    /// ```no_run
    /// use dockhand::{image::PullOptions, input::ImageRef};
    /// let pulled = dockhand::Engine::detect()?.images().pull(&PullOptions::new(ImageRef::new("busybox:1.36")?), None)?;
    /// println!("{} {:?}", pulled.image.id, pulled.digest);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn pull(&self, opts: &PullOptions, observer: Option<&Observer>) -> Result<Pulled> {
        let reference = std::slice::from_ref(&opts.image);
        let before = match &opts.platform {
            Some(_) => self.inspect(reference)?.items.pop().map(|i| i.id),
            None => None,
        };
        let stand_in = stand_in_auth_file(self.engine.kind())?;
        let plan = with_auth(
            pull_plan(self.engine.kind(), opts, observer.is_some()),
            &stand_in,
        );
        let printed = match observer {
            Some(show) => self.engine.run_observed(plan, show)?,
            None => self.engine.run(plan)?,
        };
        let image = self
            .inspect(reference)?
            .into_one(|| format!("{} was pulled but cannot be inspected", opts.image))?;
        if let Some(wanted) = &opts.platform {
            if !platform_matches(wanted, &image) {
                return Err(self.wrong_platform(opts, wanted, &image, before));
            }
        }
        let digest = printed.or_else(|| pulled_digest(&opts.image, &image));
        Ok(Pulled {
            reference: opts.image.clone(),
            digest,
            image,
        })
    }

    /// The error for an image of the wrong platform, after putting the name
    /// back: to the image it named before the pull, or removed.
    fn wrong_platform(
        &self,
        opts: &PullOptions,
        wanted: &Platform,
        got: &Image,
        before: Option<String>,
    ) -> Error {
        let undo = match before {
            Some(old) if old == got.id => Ok(()),
            Some(old) => ImageRef::new(old)
                .and_then(|old| self.tag(&old, &ImageTag::new(opts.image.as_str())?)),
            None => self
                .remove(std::slice::from_ref(&opts.image), false)
                .map(drop),
        };
        let undone = match undo {
            Ok(()) => "the name was put back as it was".to_string(),
            Err(e) => format!("putting the name back failed: {e}"),
        };
        Error::new(
            ErrorKind::NotFound,
            format!(
                "{} has no {wanted} image: the registry sent {}/{} ({undone})",
                opts.image, got.os, got.architecture
            ),
        )
    }

    /// Push an image, retrying transient registry failures; returns the
    /// digest of the pushed manifest.
    ///
    /// ```no_run
    /// use dockhand::{image::PushOptions, input::ImageTag};
    /// let pushed = dockhand::Engine::detect()?.images().push(&PushOptions::new(ImageTag::new("127.0.0.1:5000/app:1")?), None)?;
    /// println!("{:?}", pushed.digest);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn push(&self, opts: &PushOptions, observer: Option<&Observer>) -> Result<Pushed> {
        let dir = super::private_temp_dir("dockhand-push-")?;
        let stand_in = stand_in_auth_file(self.engine.kind())?;
        let plan = push_plan(
            self.engine.kind(),
            opts,
            observer.is_some(),
            &dir.path().join("digest"),
        );
        let plan = with_auth(plan, &stand_in);
        let digest = match observer {
            Some(show) => self.engine.run_observed(plan, show)?,
            None => self.engine.run(plan)?,
        };
        Ok(Pushed {
            reference: opts.image.clone(),
            digest,
        })
    }

    /// Log in to a registry (the password on the engine's stdin).
    ///
    /// ```no_run
    /// use dockhand::{image::{LoginOptions, Password}, input::Registry};
    /// let password = Password::from_input(std::fs::read("/run/secrets/registry")?)?;
    /// let opts = LoginOptions::new(Registry::new("registry.example.com")?, "ci", password)?;
    /// dockhand::Engine::detect()?.images().login(&opts)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn login(&self, opts: &LoginOptions) -> Result<()> {
        self.engine.run(login_plan(self.engine.kind(), opts))
    }

    /// Log out of a registry; not being logged in is not an error.
    ///
    /// ```no_run
    /// let server = dockhand::input::Registry::new("registry.example.com")?;
    /// dockhand::Engine::detect()?.images().logout(&server)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn logout(&self, server: &Registry) -> Result<()> {
        self.engine.run(logout_plan(server))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::parse_images;
    use crate::testing::{capture, replay, replay_ok};

    fn opts(image: &str) -> PullOptions {
        PullOptions::new(ImageRef::new(image).unwrap())
    }

    #[test]
    fn docker_reports_the_digest_it_printed_podman_none() {
        for slug in [
            "registry-pull-tag",
            "registry-pull-tag-client20",
            "registry-pull-digest",
        ] {
            let out = capture(&format!("docker/{slug}.stdout.txt"));
            let got = replay_ok(
                EngineKind::Docker,
                pull_plan(EngineKind::Docker, &opts("a/b"), false),
                &out,
            );
            let digest = got.unwrap().unwrap_or_default();
            let line = String::from_utf8_lossy(&out)
                .lines()
                .find(|l| l.starts_with("Digest: "))
                .map(|l| l[8..].to_string());
            assert_eq!((digest.len(), Some(digest)), (71, line), "{slug}");
        }
        let out = capture("podman/registry-pull-tag.stdout.txt");
        let got = replay_ok(
            EngineKind::Podman,
            pull_plan(EngineKind::Podman, &opts("a/b"), false),
            &out,
        );
        assert_eq!(got.unwrap(), None);
    }

    #[test]
    fn podman_digest_comes_from_inspect_and_docker_repo_digests_match_the_repository() {
        let image = Image {
            id: "sha256:ab".into(),
            tags: vec![],
            digests: vec![
                "127.0.0.1:5000/other/x@sha256:1111".into(),
                "127.0.0.1:5000/dhr-cap/big@sha256:2222".into(),
            ],
            created: String::new(),
            size: 0,
            labels: Default::default(),
            architecture: "amd64".into(),
            os: "linux".into(),
            config: Default::default(),
            raw: serde_json::json!({}),
        };
        let r = ImageRef::new("127.0.0.1:5000/dhr-cap/big:latest").unwrap();
        assert_eq!(pulled_digest(&r, &image).as_deref(), Some("sha256:2222"));
        let by_digest = ImageRef::new(
            "127.0.0.1:5000/dhr-cap/big@sha256:7b224ed8701734701abda37a6ec8c7ff72f44527d17d76e30b442f1342f1c147",
        )
        .unwrap();
        assert!(pulled_digest(&by_digest, &image)
            .unwrap()
            .starts_with("sha256:7b22"));
        let mut podman = image.clone();
        podman.raw = serde_json::json!({"Digest": "sha256:3333"});
        assert_eq!(pulled_digest(&r, &podman).as_deref(), Some("sha256:3333"));
    }

    #[test]
    fn the_platform_is_checked_on_the_image_itself() {
        let image = &parse_images(&capture("docker/image-inspect-base.json")).unwrap()[0];
        for (wanted, ok) in [
            ("linux/amd64", true),
            ("linux/arm64", false),
            ("windows/amd64", false),
            ("linux/amd64/v2", false),
        ] {
            assert_eq!(
                platform_matches(&Platform::new(wanted).unwrap(), image),
                ok,
                "{wanted}"
            );
        }
        let mut arm = image.clone();
        arm.architecture = "arm64".into();
        assert!(platform_matches(
            &Platform::new("linux/arm64/v8").unwrap(),
            &arm
        ));
    }

    #[test]
    fn push_digest_from_docker_stdout() {
        let opts = PushOptions::new(ImageTag::new("127.0.0.1:5000/a/b:latest").unwrap());
        for slug in ["registry-push", "registry-push-client20"] {
            let out = capture(&format!("docker/{slug}.stdout.txt"));
            let plan = push_plan(EngineKind::Docker, &opts, false, "/nonexistent".as_ref());
            let digest = replay_ok(EngineKind::Docker, plan, &out).unwrap().unwrap();
            assert!(
                digest.starts_with("sha256:") && digest.len() == 71,
                "{slug}: {digest}"
            );
        }
        let plan = push_plan(
            EngineKind::Podman,
            &opts,
            false,
            &crate::testing::capture_path("podman/registry-push-digestfile.digest.txt"),
        );
        let digest = replay_ok(EngineKind::Podman, plan, b"").unwrap().unwrap();
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
    }

    #[test]
    fn failures_name_the_last_line_and_keep_their_kind() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            for (slug, want, transient) in [
                ("err-registry-fault-503", ErrorKind::EngineFailure, true),
                (
                    "err-registry-fault-toomanyrequests-message",
                    ErrorKind::EngineFailure,
                    true,
                ),
                (
                    "err-registry-fault-manifest-404",
                    ErrorKind::NotFound,
                    false,
                ),
                ("err-registry-fault-401", ErrorKind::PermissionDenied, false),
                (
                    "err-registry-fault-name-400",
                    ErrorKind::InvalidInput,
                    false,
                ),
            ] {
                let stderr = capture(&format!("{dir}/{slug}.stderr.txt"));
                let e = replay(
                    kind,
                    pull_plan(kind, &opts("a/b"), false),
                    code,
                    b"",
                    &stderr,
                )
                .unwrap_err();
                assert_eq!(
                    (e.kind(), e.is_transient()),
                    (want, transient),
                    "{dir}/{slug}: {e}"
                );
                assert!(
                    !e.message().contains("level=warning")
                        && !e.message().contains("Trying to pull"),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn unreachable_registry_is_transient_and_names_the_final_error() {
        for (kind, dir, slug) in [
            (EngineKind::Docker, "docker", "err-pull-connection-refused"),
            (EngineKind::Docker, "docker", "err-pull-quiet-closed-port"),
            (EngineKind::Podman, "podman", "err-pull-connection-refused"),
            (EngineKind::Podman, "podman", "err-pull-quiet-closed-port"),
        ] {
            let plan = pull_plan(kind, &opts("127.0.0.1:1/x/y:1"), false);
            let e = replay(
                kind,
                plan,
                1,
                b"",
                &capture(&format!("{dir}/{slug}.stderr.txt")),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::EngineFailure, "{dir}/{slug}");
            assert!(e.is_transient(), "{dir}/{slug}: {e}");
            assert!(
                e.message().contains("connection refused"),
                "{dir}/{slug}: {}",
                e.message()
            );
            assert!(!e.message().contains("level=warning"), "{}", e.message());
        }
    }

    #[test]
    fn unknown_registry_host_and_missing_repository_are_not_retried() {
        for (kind, path) in [
            (EngineKind::Docker, "docker/err-pull-dns-failure"),
            (
                EngineKind::Podman,
                "podman/err-pull-dns-failure-registry-invalid",
            ),
            (EngineKind::Docker, "docker/err-pull-missing-dockerhub"),
        ] {
            let plan = pull_plan(kind, &opts("registry.invalid/x/y:1"), false);
            let e =
                replay(kind, plan, 1, b"", &capture(&format!("{path}.stderr.txt"))).unwrap_err();
            assert!(!e.is_transient(), "{path}: {e}");
        }
    }

    #[test]
    fn logout_when_not_logged_in_is_done() {
        let server = Registry::new("127.0.0.1:5000").unwrap();
        let again = capture("podman/registry-logout-again.stderr.txt");
        replay(EngineKind::Podman, logout_plan(&server), 125, b"", &again).unwrap();
        let e = replay(
            EngineKind::Podman,
            logout_plan(&server),
            125,
            b"",
            b"Error: something else",
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EngineFailure);
    }

    #[test]
    fn login_refusals_are_permission_denied() {
        let opts = LoginOptions::new(
            Registry::new("127.0.0.1:5000").unwrap(),
            "u",
            Password::new(b"p".to_vec()).unwrap(),
        )
        .unwrap();
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let stderr = capture(&format!("{dir}/err-registry-login-wrongpass.stderr.txt"));
            let e = replay(kind, login_plan(kind, &opts), code, b"", &stderr).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{dir}: {e}");
        }
        let plan = login_plan(EngineKind::Podman, &opts);
        assert_eq!(plan.stdin.as_deref(), Some(&b"p"[..]));
    }
}

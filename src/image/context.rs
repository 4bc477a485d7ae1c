//! Build contexts from elsewhere: an http(s) tarball or a git repository,
//! fetched by dockhand with the host's own tools and handed to the engine
//! as a LOCAL context.
//!
//! Every builder takes different URL forms (docker's legacy builder, 20.10's
//! BuildKit fetching on the daemon's side, podman — `vendor-docs/remote-context.md`),
//! and podman even resolves `#main:../../etc` outside its clone. All of them
//! take a directory and a tarball on stdin, so dockhand fetches the source
//! itself and gives the engine one of those: the same behaviour whatever
//! builder the engine has, and the engine host needs no route to the source.
//!
//! * Tarballs: `curl` if present, else `wget` (GNU or busybox), each attempt
//!   bounded by [`FetchOptions::timeout`] (the executor kills the process
//!   group) and the size by [`FetchOptions::max_size`], counted by dockhand
//!   itself on the tool's stdout (curl ignores `--max-filesize` without a
//!   Content-Length). Transient failures (refused, reset, 5xx, 429, stalls)
//!   are retried by the engine's retry policy; `--context-sha256` is checked
//!   before the engine sees a byte. The engine reads the file on stdin
//!   (`build -`).
//! * git: `git init` + `git fetch --depth 1 -- URL REF` (any branch, tag,
//!   `refs/…` or full commit id; without a ref the remote's default branch),
//!   then a detached checkout; only the http, https, git and ssh transports,
//!   never a prompt (`GIT_TERMINAL_PROMPT=0`, ssh `BatchMode`). The ref is
//!   validated (nothing starting with `-`), the subdirectory must resolve to a
//!   directory inside the checkout. The engine gets that directory.
//! * Temporary files live in one private directory, removed when the build
//!   ends, failed or not.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, Engine};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::Observer;
use crate::input::check_plain;

/// Default [`FetchOptions::max_size`]: 64 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 64 * 1024 * 1024;
/// Default [`FetchOptions::timeout`] of each fetch attempt: 10 minutes.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// A transfer slower than 1 KiB/s for this long is given up (and retried).
const STALL_SECS: u32 = 30;

/// Where a build context comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContextSource {
    /// A local directory.
    Dir {
        /// The directory.
        path: PathBuf,
    },
    /// An http(s) URL of a tar archive (plain, gzip, bzip2, xz or zstd).
    Tarball {
        /// The URL.
        url: String,
    },
    /// A git repository, `URL#ref:subdir` as docker spells it.
    Git(GitSource),
}

/// A git context: the repository, the ref to check out and the
/// subdirectory that is the context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GitSource {
    /// `git://…`, `ssh://…`, `git@host:path`, `http(s)://….git`.
    pub url: String,
    /// Branch, tag, `refs/…` or a full commit id (`None`: the remote's default branch).
    pub reference: Option<String>,
    /// The context inside the repository (`None`: its root).
    pub subdir: Option<PathBuf>,
}

impl ContextSource {
    /// Read a build context argument as docker does: `git://…`, `ssh://…`,
    /// `git@host:path`, `github.com/…` and `http(s)://….git`, each with an
    /// optional `#ref:subdir`, are git repositories; any other `http(s)://`
    /// URL is a tarball; anything else is a local directory. Refs, subdirs
    /// and URLs are validated here, before anything runs.
    ///
    /// ```
    /// use dockhand::image::context::ContextSource;
    /// let git = ContextSource::parse("git://127.0.0.1:9418/app.git#v1:app").unwrap();
    /// let ContextSource::Git(g) = git else { panic!() };
    /// assert_eq!((g.reference.as_deref(), g.subdir.as_deref()), (Some("v1"), Some("app".as_ref())));
    /// assert!(matches!(ContextSource::parse("https://example.com/app.tar.gz"), Ok(ContextSource::Tarball { .. })));
    /// assert!(matches!(ContextSource::parse("./app"), Ok(ContextSource::Dir { .. })));
    /// for bad in ["git://h/a.git#-upload-pack=x", "git://h/a.git#main:../../etc", "ftp://h/a.tar", "file:///etc"] {
    ///     assert!(ContextSource::parse(bad).is_err(), "{bad}");
    /// }
    /// ```
    pub fn parse(text: &str) -> Result<ContextSource> {
        check_plain("build context", text)?;
        if let Some(rest) = text.strip_prefix("github.com/") {
            return git_source(&format!("https://github.com/{rest}"));
        }
        let is_http = text.starts_with("http://") || text.starts_with("https://");
        let before_fragment = text.split('#').next().unwrap_or(text);
        if ["git://", "ssh://", "git@"]
            .iter()
            .any(|p| text.starts_with(p))
            || (is_http && before_fragment.ends_with(".git"))
        {
            return git_source(text);
        }
        if is_http {
            check_url(text)?;
            if text.contains('#') {
                return Err(Error::invalid_input(format!(
                    "tarball URL {text:?} takes no #fragment (a git URL ends in .git)"
                )));
            }
            return Ok(ContextSource::Tarball { url: text.into() });
        }
        if text.contains("://") {
            return Err(Error::invalid_input(format!(
                "build context {text:?}: only http(s) tarballs and git (git://, ssh://, git@, http(s)://….git) are fetched"
            )));
        }
        Ok(ContextSource::Dir { path: text.into() })
    }

    /// Whether the context is fetched (not a local directory).
    pub fn is_remote(&self) -> bool {
        !matches!(self, ContextSource::Dir { .. })
    }
}

impl From<PathBuf> for ContextSource {
    fn from(path: PathBuf) -> ContextSource {
        ContextSource::Dir { path }
    }
}

impl From<&Path> for ContextSource {
    fn from(path: &Path) -> ContextSource {
        ContextSource::Dir { path: path.into() }
    }
}

impl From<&str> for ContextSource {
    /// A local directory (use [`ContextSource::parse`] for URLs).
    fn from(path: &str) -> ContextSource {
        ContextSource::Dir { path: path.into() }
    }
}

/// A URL handed to a download tool or git: no spaces, quotes or control
/// characters, not an option.
fn check_url(url: &str) -> Result<()> {
    check_plain("URL", url)?;
    if let Some(c) = url
        .chars()
        .find(|c| c.is_whitespace() || "\"'`\\<>".contains(*c))
    {
        return Err(Error::invalid_input(format!("URL {url:?} contains {c:?}")));
    }
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    if host.is_empty() || host.starts_with('/') {
        return Err(Error::invalid_input(format!("URL {url:?} has no host")));
    }
    Ok(())
}

fn git_source(text: &str) -> Result<ContextSource> {
    let (url, fragment) = match text.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (text, None),
    };
    check_url(url)?;
    let (reference, subdir) = fragment
        .map(|f| f.split_once(':').unwrap_or((f, "")))
        .unwrap_or_default();
    let reference = (!reference.is_empty())
        .then(|| check_git_ref(reference))
        .transpose()?;
    let subdir = Some(subdir);
    let subdir = subdir
        .filter(|s| !s.is_empty())
        .map(|s| inside_path("git subdirectory", s))
        .transpose()?;
    Ok(ContextSource::Git(GitSource {
        url: url.into(),
        reference,
        subdir,
    }))
}

/// A ref as `git check-ref-format` allows it (branch, tag, `refs/…`,
/// `pull/42/head`), or a full commit id; never an option.
fn check_git_ref(r: &str) -> Result<String> {
    let bad = |why: &str| {
        Err(Error::invalid_input(format!(
            "invalid git ref {r:?}: {why}"
        )))
    };
    if r.starts_with('-') {
        return bad("must not start with '-'");
    }
    if r.chars()
        .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
    {
        return bad("no spaces, control characters or any of ~ ^ : ? * [ \\");
    }
    if r.contains("..") || r.contains("@{") || r.contains("//") || r == "@" {
        return bad("no '..', '@{' or '//'");
    }
    if r.ends_with('/') || r.ends_with('.') || r.ends_with(".lock") || r.starts_with('/') {
        return bad("must not start with '/' or end with '/', '.' or '.lock'");
    }
    if r.split('/').any(|part| part.starts_with('.')) {
        return bad("no component may start with '.'");
    }
    Ok(r.to_string())
}

/// A relative path that stays inside its directory: no `..`, not absolute.
fn inside_path(what: &str, text: &str) -> Result<PathBuf> {
    check_plain(what, text)?;
    let path = Path::new(text);
    if !path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Error::invalid_input(format!(
            "{what} {text:?} must be a relative path inside the context (no '..', not absolute)"
        )));
    }
    Ok(path.to_path_buf())
}

/// A SHA-256 to check a fetched tarball against: 64 hex digits, with or
/// without `sha256:`.
///
/// ```
/// use dockhand::image::context::ContextSha256;
/// let h = "a40b8b50ca1aa85cd9c01006ce4d9b50f5b87f2296510c94d98e3d9a8db0854f";
/// assert_eq!(ContextSha256::new(&format!("sha256:{h}")).unwrap().as_str(), h);
/// assert!(ContextSha256::new("abc").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ContextSha256(String);

impl ContextSha256 {
    /// Validate a checksum.
    pub fn new(text: &str) -> Result<ContextSha256> {
        let hex = text
            .strip_prefix("sha256:")
            .unwrap_or(text)
            .to_ascii_lowercase();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::invalid_input(format!(
                "invalid sha256 {text:?}: 64 hex digits, optionally after 'sha256:'"
            )));
        }
        Ok(ContextSha256(hex))
    }

    /// The 64 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The tool that downloads a tarball.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Downloader {
    /// curl: own limits on connect time, redirects, protocols, stalls.
    Curl,
    /// GNU wget.
    Wget,
    /// busybox wget (or another minimal `wget`, e.g. OpenWrt's
    /// uclient-fetch): no flag but `-q -O -`; busybox 1.35's `-T` crashes.
    BusyboxWget,
}

impl Downloader {
    /// The host's: curl if it is on PATH, else wget (busybox's when `wget`
    /// is a link to busybox or to anything not called `wget`).
    pub fn detect() -> Result<Downloader> {
        if which::which("curl").is_ok() {
            return Ok(Downloader::Curl);
        }
        let wget = which::which("wget").map_err(|_| {
            Error::new(
                ErrorKind::EngineMissing,
                "neither curl nor wget is installed: a tarball build context needs one",
            )
        })?;
        let real = std::fs::canonicalize(&wget).unwrap_or(wget);
        Ok(match real.file_name().and_then(|n| n.to_str()) {
            Some("wget") => Downloader::Wget,
            _ => Downloader::BusyboxWget,
        })
    }
}

/// Limits on fetching a remote context.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchOptions {
    /// Most bytes a tarball (or a git checkout, .git included) may have.
    pub max_size: u64,
    /// Time limit of each fetch attempt (`None`: none).
    pub timeout: Option<Duration>,
    /// The download tool (`None`: [`Downloader::detect`]).
    pub downloader: Option<Downloader>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_size: DEFAULT_MAX_SIZE,
            timeout: Some(DEFAULT_FETCH_TIMEOUT),
            downloader: None,
        }
    }
}

/// The error for a context larger than `max` bytes.
fn too_large(what: &str, max: u64) -> Error {
    Error::new(
        ErrorKind::EngineFailure,
        format!("{what} is larger than the context size cap of {max} bytes (--context-max-size)"),
    )
}

/// Download `url` to stdout with `tool`: the executor caps what it keeps
/// at `opts.max_size` and kills the tool beyond it; the value is the bytes.
///
/// ```
/// use dockhand::image::context::{download_plan, Downloader, FetchOptions};
/// let plan = download_plan(Downloader::Wget, "http://127.0.0.1:8000/c.tar", &FetchOptions::default());
/// assert_eq!(plan.args(), ["--no-verbose", "--tries=1", "--timeout=30", "--max-redirect=5", "--output-document=-", "--", "http://127.0.0.1:8000/c.tar"]);
/// ```
pub fn download_plan(tool: Downloader, url: &str, opts: &FetchOptions) -> Plan<Vec<u8>> {
    let cap = opts.max_size;
    let (program, args): (&str, Argv) = match tool {
        // curl takes no `--opt=value`: each value is a word of its own.
        Downloader::Curl => (
            "curl",
            Argv::new("--fail")
                .args(["--silent", "--show-error", "--location"])
                .pair("--max-redirs", Some("5"))
                .pair("--proto", Some("=http,https"))
                .pair("--proto-redir", Some("=http,https"))
                .pair("--connect-timeout", Some("10"))
                .pair("--speed-limit", Some("1024"))
                .pair("--speed-time", Some(STALL_SECS.to_string()))
                .pair("--max-filesize", Some(cap.to_string()))
                .operands([url]),
        ),
        Downloader::Wget => (
            "wget",
            Argv::new("--no-verbose")
                .args([
                    "--tries=1",
                    &format!("--timeout={STALL_SECS}"),
                    "--max-redirect=5",
                ])
                .arg("--output-document=-")
                .operands([url]),
        ),
        Downloader::BusyboxWget => (
            "wget",
            Argv::new("-q").pair("-O", Some("-")).operands([url]),
        ),
    };
    let shown = url.to_string();
    Plan::new(Effect::Mutating, args, move |outcome| match outcome.error {
        // curl refuses at once when the server announces a larger size.
        Some(e) if e.stderr().contains("Maximum file size exceeded") => {
            Err(too_large(&shown, cap).with_command(e.command().unwrap_or_default()))
        }
        Some(e) => Err(e),
        None => Ok(outcome.output.stdout),
    })
    .on_host(program)
    .output_cap(usize::try_from(cap).unwrap_or(usize::MAX))
    .timeout(opts.timeout)
}

/// The `-c` settings of every git command that talks to a remote: only the
/// http(s), git and ssh transports (no `file://`, no `ext::`, also not in
/// submodules), and stalls end.
fn git_remote_config() -> Argv {
    Argv::new("-c")
        .arg("protocol.allow=never")
        .pair("-c", Some("protocol.https.allow=always"))
        .pair("-c", Some("protocol.http.allow=always"))
        .pair("-c", Some("protocol.git.allow=always"))
        .pair("-c", Some("protocol.ssh.allow=always"))
        .pair("-c", Some("http.lowSpeedLimit=1024"))
        .pair("-c", Some(format!("http.lowSpeedTime={STALL_SECS}")))
}

/// A git command on the host that never prompts: no terminal prompt for
/// https, ssh in batch mode (the caller's `GIT_SSH_COMMAND`, if any, with
/// `BatchMode` added).
fn git_plan<T: 'static>(
    args: Argv,
    parse: impl FnOnce(&crate::exec::Output) -> Result<T> + Send + 'static,
) -> Plan<T> {
    let ssh = std::env::var("GIT_SSH_COMMAND")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "ssh".into());
    Plan::write(args, parse)
        .on_host("git")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env(
            "GIT_SSH_COMMAND",
            format!("{ssh} -o BatchMode=yes -o ConnectTimeout=10"),
        )
}

/// `git init -q DIR`.
pub fn git_init_plan(dir: &Path) -> Plan<()> {
    git_plan(Argv::new("init").arg("-q").operands([dir]), |_| Ok(())).no_retry()
}

/// Fetch the one commit `source` names into `dir` (`shallow`: `--depth 1`;
/// dumb http cannot, [`fetch`] repeats it without).
///
/// ```
/// use dockhand::image::context::{git_fetch_plan, ContextSource};
/// let ContextSource::Git(g) = ContextSource::parse("git://h/a.git#v1").unwrap() else { panic!() };
/// let args: Vec<String> = git_fetch_plan("/tmp/r".as_ref(), &g, true, None).args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
/// assert_eq!(args[args.len() - 9..], ["-C", "/tmp/r", "fetch", "-q", "--no-tags", "--depth=1", "--", "git://h/a.git", "v1"]);
/// ```
pub fn git_fetch_plan(
    dir: &Path,
    source: &GitSource,
    shallow: bool,
    timeout: Option<Duration>,
) -> Plan<()> {
    let reference = source.reference.as_deref().unwrap_or("HEAD");
    let args = git_remote_config()
        .arg("-C")
        .arg(dir)
        .args(["fetch", "-q", "--no-tags"])
        .flag_if("--depth=1", shallow)
        .operands([source.url.as_str(), reference]);
    git_plan(args, |_| Ok(())).timeout(timeout)
}

/// Check the fetched commit out, detached.
pub fn git_checkout_plan(dir: &Path) -> Plan<()> {
    let args = Argv::new("-C")
        .arg(dir)
        .pair("-c", Some("advice.detachedHead=false"))
        .args(["checkout", "-q", "--detach", "FETCH_HEAD"]);
    git_plan(args, |_| Ok(())).no_retry()
}

/// Fetch and check out the submodules (what docker does), depth 1.
pub fn git_submodules_plan(dir: &Path, timeout: Option<Duration>) -> Plan<()> {
    let args = git_remote_config().arg("-C").arg(dir).args([
        "submodule",
        "update",
        "-q",
        "--init",
        "--recursive",
        "--depth=1",
    ]);
    git_plan(args, |_| Ok(())).timeout(timeout)
}

/// The commit that is checked out.
pub fn git_head_plan(dir: &Path) -> Plan<String> {
    git_plan(
        Argv::new("-C").arg(dir).args(["rev-parse", "HEAD"]),
        |out| Ok(out.stdout_text()),
    )
    .no_retry()
}

/// A fetched (or local) context, ready for the engine; its temporary
/// directory is removed when this is dropped.
#[derive(Debug)]
pub struct FetchedContext {
    /// Where the engine reads it from.
    pub local: LocalContext,
    /// The commit checked out (git).
    pub commit: Option<String>,
    /// The SHA-256 of the downloaded tarball.
    pub sha256: Option<String>,
    /// Bytes downloaded (tarball).
    pub bytes: Option<u64>,
    _dir: Option<tempfile::TempDir>,
}

/// What the engine's `build` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalContext {
    /// A directory, with the Dockerfile at this path (if one was given).
    Dir {
        /// The context directory.
        path: PathBuf,
        /// The Dockerfile (a path the engine can open).
        dockerfile: Option<PathBuf>,
    },
    /// A tar archive on the engine's stdin (`build -`), with the Dockerfile
    /// at this path inside it (if one was given).
    Tarball {
        /// The archive.
        path: PathBuf,
        /// The Dockerfile inside the archive.
        dockerfile: Option<PathBuf>,
    },
}

/// Whether `bytes` start like a tar archive, plain or compressed.
fn looks_like_tar(bytes: &[u8]) -> bool {
    let magic: [&[u8]; 4] = [b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd"];
    magic.iter().any(|m| bytes.starts_with(m)) || bytes.get(257..262) == Some(b"ustar")
}

fn io_failure(what: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::new(ErrorKind::EngineFailure, format!("{what}: {e}")).with_source(e)
}

/// Fetch `source` (a local directory is only checked) and verify it: the
/// tarball's SHA-256 against `sha256`, a git subdirectory inside the
/// checkout. `dockerfile` is a path inside the context for remote sources.
/// In a dry run the fetch commands are printed, nothing is checked.
///
/// ```no_run
/// use dockhand::image::context::{fetch, ContextSource, FetchOptions};
/// let engine = dockhand::Engine::detect()?;
/// let source = ContextSource::parse("https://example.com/app.tar.gz")?;
/// let ctx = fetch(&engine, &source, None, None, &FetchOptions::default())?;
/// println!("{:?} {:?}", ctx.local, ctx.sha256);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn fetch(
    engine: &Engine,
    source: &ContextSource,
    dockerfile: Option<&Path>,
    sha256: Option<&ContextSha256>,
    opts: &FetchOptions,
) -> Result<FetchedContext> {
    if sha256.is_some() && !matches!(source, ContextSource::Tarball { .. }) {
        return Err(Error::invalid_input(
            "--context-sha256 checks a tarball URL; pin a git context with a full commit id as its ref",
        ));
    }
    let inside = dockerfile
        .filter(|_| source.is_remote())
        .map(|f| inside_path("Dockerfile path", &f.to_string_lossy()))
        .transpose()?;
    match source {
        ContextSource::Dir { path } => {
            check_plain("build context", &path.to_string_lossy())?;
            if !path.is_dir() {
                return Err(Error::invalid_input(format!(
                    "build context {} is not a directory",
                    path.display()
                )));
            }
            Ok(FetchedContext {
                local: LocalContext::Dir {
                    path: path.clone(),
                    dockerfile: dockerfile.map(Path::to_path_buf),
                },
                commit: None,
                sha256: None,
                bytes: None,
                _dir: None,
            })
        }
        ContextSource::Tarball { url } => fetch_tarball(engine, url, inside, sha256, opts),
        ContextSource::Git(git) => fetch_git(engine, git, inside, opts),
    }
}

fn fetch_tarball(
    engine: &Engine,
    url: &str,
    dockerfile: Option<PathBuf>,
    sha256: Option<&ContextSha256>,
    opts: &FetchOptions,
) -> Result<FetchedContext> {
    let tool = match opts.downloader {
        Some(t) => t,
        None => Downloader::detect()?,
    };
    let dir = super::private_temp_dir("dockhand-context-")?;
    let path = dir.path().join("context.tar");
    // Counts what the tool wrote, to tell the executor's cap from other kills.
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let count: Observer = Arc::new(move |_, chunk: &[u8]| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    });
    let bytes = engine
        .run_observed(download_plan(tool, url, opts), &count)
        .map_err(|e| {
            let capped = e.kind() == ErrorKind::EngineFailure
                && e.status().is_none()
                && seen.load(Ordering::Relaxed) > opts.max_size;
            match capped {
                true => too_large(url, opts.max_size).with_command(e.command().unwrap_or_default()),
                false => e,
            }
        })?;
    let mut hash = None;
    if !engine.is_dry_run() {
        let got = format!("{:x}", Sha256::digest(&bytes));
        if let Some(want) = sha256 {
            if got != want.as_str() {
                return Err(Error::new(
                    ErrorKind::EngineFailure,
                    format!(
                        "{url} has sha256 {got}, not the expected {}: refusing to build it",
                        want.as_str()
                    ),
                ));
            }
        }
        if !looks_like_tar(&bytes) {
            return Err(Error::new(
                ErrorKind::EngineFailure,
                format!("{url} is not a tar archive (plain, gzip, bzip2, xz or zstd)"),
            ));
        }
        std::fs::write(&path, &bytes)
            .map_err(io_failure(format!("cannot write {}", path.display())))?;
        hash = Some(got);
    }
    Ok(FetchedContext {
        local: LocalContext::Tarball { path, dockerfile },
        commit: None,
        sha256: hash,
        bytes: Some(bytes.len() as u64),
        _dir: Some(dir),
    })
}

fn fetch_git(
    engine: &Engine,
    git: &GitSource,
    dockerfile: Option<PathBuf>,
    opts: &FetchOptions,
) -> Result<FetchedContext> {
    if which::which("git").is_err() {
        return Err(Error::new(
            ErrorKind::EngineMissing,
            "git is not installed: a git build context needs it",
        ));
    }
    let dir = super::private_temp_dir("dockhand-context-")?;
    let repo = dir.path().join("repo");
    engine.run(git_init_plan(&repo))?;
    match engine.run(git_fetch_plan(&repo, git, true, opts.timeout)) {
        Err(e) if e.stderr().contains("does not support shallow") => {
            engine.run(git_fetch_plan(&repo, git, false, opts.timeout))?
        }
        other => other?,
    }
    engine.run(git_checkout_plan(&repo))?;
    if repo.join(".gitmodules").exists() {
        engine.run(git_submodules_plan(&repo, opts.timeout))?;
    }
    let context = match &git.subdir {
        Some(s) => repo.join(s),
        None => repo.clone(),
    };
    if engine.is_dry_run() {
        let dockerfile = dockerfile.map(|f| context.join(f));
        return Ok(FetchedContext {
            local: LocalContext::Dir {
                path: context,
                dockerfile,
            },
            commit: None,
            sha256: None,
            bytes: None,
            _dir: Some(dir),
        });
    }
    let commit = engine.run(git_head_plan(&repo))?;
    let size = tree_size(&repo);
    if size > opts.max_size {
        return Err(too_large(
            &format!("the checkout of {}", git.url),
            opts.max_size,
        ));
    }
    let context = resolve_inside(&repo, &context, "git subdirectory", true)?;
    let dockerfile = dockerfile
        .map(|f| resolve_inside(&repo, &context.join(f), "Dockerfile", false))
        .transpose()?;
    Ok(FetchedContext {
        local: LocalContext::Dir {
            path: context,
            dockerfile,
        },
        commit: Some(commit),
        sha256: None,
        bytes: None,
        _dir: Some(dir),
    })
}

/// `path` with symlinks resolved, if it is inside `root` and a directory
/// (`dir`) or a file; an [`ErrorKind::InvalidInput`] error otherwise — a
/// link in the repository must not lead the engine out of it.
fn resolve_inside(root: &Path, path: &Path, what: &str, dir: bool) -> Result<PathBuf> {
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let outside = || {
        Error::invalid_input(format!(
            "{what} {shown:?} is not a {} inside the repository",
            if dir { "directory" } else { "file" }
        ))
    };
    let root = std::fs::canonicalize(root).map_err(|_| outside())?;
    let real = std::fs::canonicalize(path).map_err(|_| outside())?;
    let kind_ok = if dir { real.is_dir() } else { real.is_file() };
    if !real.starts_with(&root) || !kind_ok {
        return Err(outside());
    }
    Ok(real)
}

/// Bytes of all regular files under `dir` (symlinks not followed).
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(text: &str) -> GitSource {
        match ContextSource::parse(text).unwrap() {
            ContextSource::Git(g) => g,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn docker_url_forms_are_read_as_docker_reads_them() {
        let g = git("https://example.com/team/app.git#pull/42/head:docker/app");
        assert_eq!(g.url, "https://example.com/team/app.git");
        assert_eq!(g.reference.as_deref(), Some("pull/42/head"));
        assert_eq!(g.subdir.as_deref(), Some(Path::new("docker/app")));
        let g = git("git@example.com:team/app.git#:sub");
        assert_eq!(
            (g.reference, g.subdir.as_deref()),
            (None, Some(Path::new("sub")))
        );
        let g = git("ssh://git@127.0.0.1:2222/srv/app.git");
        assert_eq!((g.reference, g.subdir), (None, None));
        assert_eq!(
            git("github.com/team/app").url,
            "https://github.com/team/app"
        );
        let sha = "b8a02d003356b4fc7560aed88050fb0f1797bacb";
        assert_eq!(
            git(&format!("git://h/a.git#{sha}")).reference.as_deref(),
            Some(sha)
        );
        assert_eq!(
            ContextSource::parse("http://127.0.0.1:8000/context.tar.gz").unwrap(),
            ContextSource::Tarball {
                url: "http://127.0.0.1:8000/context.tar.gz".into()
            }
        );
        assert!(!ContextSource::parse("/srv/app").unwrap().is_remote());
    }

    #[test]
    fn refs_subdirs_and_urls_that_could_inject_or_escape_are_refused() {
        for bad in [
            "git://h/a.git#--upload-pack=touch",
            "git://h/a.git#-b",
            "git://h/a.git#a..b",
            "git://h/a.git#a b",
            "git://h/a.git#main:../../etc",
            "git://h/a.git#main:/etc",
            "git://h/a.git#main:a/../../b",
            "git://h/a.git#ma~in",
            "git://h/a.git#.hidden",
            "git://h/a.git#x.lock",
            "git://h/a.git#main:a\nb",
            "http://127.0.0.1/a.tar#frag",
            "http:///a.tar",
            "https://h/a b.tar",
            "file:///etc/passwd",
            "-f",
        ] {
            let e = ContextSource::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        // git's own transports are never reached: this is a (missing) directory.
        assert!(!ContextSource::parse("ext::sh -c touch% /tmp/x")
            .unwrap()
            .is_remote());
    }

    #[test]
    fn the_fetch_never_lets_a_ref_be_an_option_and_never_prompts() {
        let plan = git_fetch_plan("/r".as_ref(), &git("git://h/a.git#main"), true, None);
        let args: Vec<String> = plan
            .args()
            .iter()
            .map(|a| a.to_string_lossy().into())
            .collect();
        let dashdash = args.iter().position(|a| a == "--").unwrap();
        assert_eq!(args[dashdash + 1..], ["git://h/a.git", "main"]);
        assert!(args.contains(&"protocol.allow=never".to_string()));
        let env: Vec<String> = plan
            .envs()
            .iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect();
        assert!(
            env.contains(&"GIT_TERMINAL_PROMPT=0".to_string()),
            "{env:?}"
        );
        assert!(
            env.iter()
                .any(|e| e.starts_with("GIT_SSH_COMMAND=") && e.contains("BatchMode=yes")),
            "{env:?}"
        );
        let default = git_fetch_plan("/r".as_ref(), &git("git://h/a.git"), false, None);
        assert_eq!(default.args().last().unwrap(), "HEAD");
        assert!(!default.args().iter().any(|a| a == "--depth=1"));
    }

    #[test]
    fn downloads_are_capped_and_limited_to_http() {
        let opts = FetchOptions {
            max_size: 1000,
            ..FetchOptions::default()
        };
        let plan = download_plan(Downloader::Curl, "http://h/a.tar", &opts);
        assert_eq!(
            plan.program(),
            &crate::engine::plan::Program::Host("curl".into())
        );
        assert_eq!(plan.output_cap, Some(1000));
        let args: Vec<String> = plan
            .args()
            .iter()
            .map(|a| a.to_string_lossy().into())
            .collect();
        for pair in [
            ["--proto", "=http,https"],
            ["--max-filesize", "1000"],
            ["--proto-redir", "=http,https"],
        ] {
            assert!(args.windows(2).any(|w| w == pair), "{pair:?} in {args:?}");
        }
        assert_eq!(args[args.len() - 2..], ["--", "http://h/a.tar"]);
        let busybox = download_plan(Downloader::BusyboxWget, "http://h/a.tar", &opts);
        assert_eq!(busybox.args(), ["-q", "-O", "-", "--", "http://h/a.tar"]);
    }

    #[test]
    fn an_announced_size_over_the_cap_says_so() {
        let opts = FetchOptions {
            max_size: 1000,
            ..FetchOptions::default()
        };
        let stderr = crate::testing::capture("fetch/err-fetch-curl-maxfilesize.stderr.txt");
        let plan = download_plan(Downloader::Curl, "http://h/big", &opts);
        let cmd = crate::exec::Cmd::new("curl");
        let o =
            crate::testing::outcome(crate::engine::classify::Tool::Host, &cmd, 63, b"", &stderr);
        let e = plan.parse_outcome(o).unwrap_err();
        assert!(e.message().contains("size cap of 1000 bytes"), "{e}");
        assert!(!e.is_transient());
    }

    #[test]
    fn tar_archives_are_recognised_plain_and_compressed() {
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        for ok in [&tar[..], b"\x1f\x8b\x08", b"BZh91AY", b"\xfd7zXZ\x00\x00"] {
            assert!(looks_like_tar(ok));
        }
        assert!(!looks_like_tar(b"<html>404</html>"));
        assert!(!looks_like_tar(b"FROM busybox\n"));
    }

    #[test]
    fn a_subdir_or_dockerfile_that_leads_out_of_the_checkout_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        std::fs::create_dir_all(repo.join("app")).unwrap();
        std::fs::write(repo.join("app/Dockerfile"), "FROM x\n").unwrap();
        std::os::unix::fs::symlink("/etc", repo.join("out")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", repo.join("app/evil")).unwrap();
        assert!(resolve_inside(&repo, &repo.join("app"), "subdir", true).is_ok());
        assert!(resolve_inside(&repo, &repo.join("app/Dockerfile"), "Dockerfile", false).is_ok());
        for (path, dir) in [
            ("out", true),
            ("missing", true),
            ("app/Dockerfile", true),
            ("app/evil", false),
            ("app", false),
        ] {
            let e = resolve_inside(&repo, &repo.join(path), "x", dir).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{path}");
        }
    }

    #[test]
    fn checksums_only_for_tarballs() {
        let engine = Engine::from_command("/nonexistent/engine").unwrap();
        let sha = ContextSha256::new(&"a".repeat(64)).unwrap();
        let source = ContextSource::parse("git://h/a.git").unwrap();
        let e = fetch(&engine, &source, None, Some(&sha), &FetchOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}

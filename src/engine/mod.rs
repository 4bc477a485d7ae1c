//! The configured engine and the executor loop that carries out plans.
//!
//! [`Engine`] holds the engine command (`docker`, `sudo -n docker`,
//! `/usr/bin/podman` …), its dialect, global flags, default limits and retry
//! policy, and the mode (execute or dry run). [`Engine::run`] runs a
//! [`Plan`](plan::Plan): it builds the argv, runs it with the blocking executor, classifies
//! failures, retries transient ones with backoff, and hands the outcome to the
//! plan's parser. Resource modules (`system`, …) add typed methods on top.

mod argv;
pub mod batch;
pub mod classify;
pub(crate) mod drive;
pub mod plan;
mod quirks;
pub mod retry;
mod run;
pub(crate) mod stream;

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use argv::Argv;
pub use quirks::{EngineKind, Quirks};
#[cfg(feature = "tokio")]
pub use stream::AsyncLineStream;
pub use stream::LineStream;

use crate::engine::retry::RetryPolicy;
use crate::error::{Error, ErrorKind, Result};
use crate::exec::{Cmd, Limits};

/// How long a mutation waits by default for another dockhand process working
/// on the same object ([`Engine::with_lock_timeout`]).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Receives each state-changing command a dry run skips.
pub type DryRunSink = Arc<dyn Fn(&Cmd) + Send + Sync>;

/// Execute for real, or print state-changing commands instead.
#[derive(Clone, Default)]
pub enum Mode {
    /// Run every command.
    #[default]
    Execute,
    /// Run read-only commands; hand state-changing ones to the sink instead.
    DryRun(DryRunSink),
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Execute => "Execute",
            Mode::DryRun(_) => "DryRun",
        })
    }
}

/// A configured container engine CLI.
///
/// ```
/// use std::time::Duration;
/// use dockhand::Engine;
/// let engine = Engine::from_command("sudo -n docker").unwrap()
///     .with_timeout(Some(Duration::from_secs(10)))
///     .with_host(Some("unix:///run/docker.sock".into()));
/// assert_eq!(engine.kind(), dockhand::EngineKind::Docker);
/// assert_eq!(engine.command().to_string(), "sudo -n docker --host unix:///run/docker.sock");
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    command: Vec<OsString>,
    kind: EngineKind,
    host: Option<String>,
    context: Option<String>,
    limits: Limits,
    retry: RetryPolicy,
    mode: Mode,
    lock_timeout: Duration,
    rollback: Option<Rollback>,
}

/// The overall deadline of a rollback engine ([`Engine::for_rollback`]).
#[derive(Debug, Clone, Copy)]
struct Rollback {
    /// When it ends (`None`: too far away for the clock).
    until: Option<Instant>,
    /// As given, for messages.
    deadline: Duration,
}

impl Engine {
    /// The engine from `DOCKHAND_ENGINE` if set, else `docker` if it is on
    /// PATH, else `podman`; an [`ErrorKind::EngineMissing`] error if none is.
    ///
    /// ```no_run
    /// let engine = dockhand::Engine::detect().unwrap();
    /// println!("{}", engine.command());
    /// ```
    pub fn detect() -> Result<Engine> {
        match std::env::var("DOCKHAND_ENGINE") {
            Ok(cmd) if !cmd.trim().is_empty() => Engine::from_command(&cmd),
            _ => ["docker", "podman"]
                .into_iter()
                .find(|p| which::which(p).is_ok())
                .map(Engine::from_command)
                .unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::EngineMissing,
                        "neither `docker` nor `podman` is on PATH; install one or set --engine / DOCKHAND_ENGINE",
                    ))
                }),
        }
    }

    /// An engine from a command line such as `podman` or `sudo -n docker`,
    /// split like a shell would (quotes allowed, no expansion).
    ///
    /// ```
    /// let engine = dockhand::Engine::from_command("sudo -n 'docker'")?;
    /// assert_eq!(engine.argv(), ["sudo", "-n", "docker"]);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_command(command: &str) -> Result<Engine> {
        let words = shlex::split(command)
            .filter(|w| !w.is_empty())
            .ok_or_else(|| {
                Error::invalid_input(format!("cannot split engine command {command:?}"))
            })?;
        Engine::from_argv(words)
    }

    /// An engine from an already split command.
    ///
    /// ```
    /// let engine = dockhand::Engine::from_argv(["/usr/bin/podman"])?;
    /// assert_eq!(engine.kind(), dockhand::EngineKind::Podman);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_argv<I, S>(words: I) -> Result<Engine>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let command: Vec<OsString> = words.into_iter().map(Into::into).collect();
        if command.is_empty() {
            return Err(Error::invalid_input("the engine command is empty"));
        }
        Ok(Engine {
            kind: EngineKind::from_command(&command),
            command,
            host: None,
            context: None,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            mode: Mode::Execute,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            rollback: None,
        })
    }

    /// Daemon endpoint passed as `--host` (docker) / `--url` (podman).
    #[must_use]
    pub fn with_host(mut self, host: Option<String>) -> Engine {
        self.host = host;
        self
    }

    /// Context passed as `--context` (docker) / `--connection` (podman).
    #[must_use]
    pub fn with_context(mut self, context: Option<String>) -> Engine {
        self.context = context;
        self
    }

    /// Default timeout of each command (`None`: none).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Engine {
        self.limits.timeout = timeout;
        self
    }

    /// Cap on each of stdout and stderr, in bytes.
    #[must_use]
    pub fn with_output_cap(mut self, cap: usize) -> Engine {
        self.limits.output_cap = cap;
        self
    }

    /// Time between SIGTERM and SIGKILL when a command is killed.
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Engine {
        self.limits.grace = grace;
        self
    }

    /// Retry policy for transient failures.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Engine {
        self.retry = retry;
        self
    }

    /// Execute for real or dry-run.
    #[must_use]
    pub fn with_mode(mut self, mode: Mode) -> Engine {
        self.mode = mode;
        self
    }

    /// How long a mutation waits for another dockhand process working on
    /// the same object (see [`lock`](crate::container::lock)).
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Engine {
        self.lock_timeout = timeout;
        self
    }

    /// A copy of this engine for undoing changes after a failure or an
    /// interrupt: its commands still start, and run to completion, when
    /// SIGINT/SIGTERM/SIGHUP is pending (an ordinary engine refuses to start
    /// them and kills a running one). Each command stays bounded by its own
    /// timeout, and all of them together by `deadline` from now: a command
    /// that would start after it fails with [`ErrorKind::Timeout`] without
    /// running, and a running one is cut at it. Retry back-offs are not
    /// interrupted either, and none is begun that would end past the
    /// deadline. The interrupt stays pending: once the rollback is done the
    /// caller reports it (the CLI exits 130/143/129).
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = dockhand::Engine::from_command("docker").unwrap();
    /// let undo = engine.for_rollback(Duration::from_secs(20));
    /// assert!(undo.limits().through_interrupts);
    /// assert!(!engine.limits().through_interrupts);
    /// ```
    #[must_use]
    pub fn for_rollback(&self, deadline: Duration) -> Engine {
        let mut engine = self.clone();
        engine.limits.through_interrupts = true;
        engine.rollback = Some(Rollback {
            until: Instant::now().checked_add(deadline),
            deadline,
        });
        engine
    }

    /// `limits` cut to the rollback deadline, for a command starting now;
    /// an error when the deadline has passed (not for ordinary engines).
    fn within_deadline(&self, mut limits: Limits) -> Result<Limits> {
        let Some(Rollback {
            until: Some(until),
            deadline,
        }) = self.rollback
        else {
            return Ok(limits);
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the rollback's deadline of {:.1}s has passed; the command was not started",
                    deadline.as_secs_f64()
                ),
            ));
        }
        limits.timeout = Some(limits.timeout.map_or(left, |t| t.min(left)));
        Ok(limits)
    }

    /// Whether a pause of `delay` from now ends within the rollback
    /// deadline (always, for ordinary engines).
    fn pause_fits(&self, delay: Duration) -> bool {
        match self.rollback {
            Some(Rollback {
                until: Some(until), ..
            }) => Instant::now()
                .checked_add(delay)
                .is_some_and(|end| end < until),
            _ => true,
        }
    }

    /// The lock wait limit of mutations.
    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    /// Whether the engine command hands open file descriptors on to the
    /// engine: not through `sudo`, `doas` or `pkexec`, which close every
    /// descriptor they did not open. Env-files are memfds passed as
    /// `/dev/fd/N` when it does, 0600 files otherwise.
    ///
    /// ```
    /// use dockhand::Engine;
    /// assert!(Engine::from_command("podman").unwrap().passes_fds());
    /// assert!(!Engine::from_command("/usr/bin/sudo -n docker").unwrap().passes_fds());
    /// ```
    pub fn passes_fds(&self) -> bool {
        let program = std::path::Path::new(&self.command[0]);
        !matches!(
            program.file_name().and_then(|n| n.to_str()),
            Some("sudo" | "doas" | "pkexec")
        )
    }

    /// The engine's dialect.
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// The engine command with its global flags, as a [`Cmd`] ready for
    /// subcommand arguments.
    pub fn command(&self) -> Cmd {
        let q = self.kind.quirks();
        let mut cmd = Cmd::new(&self.command[0]).args(&self.command[1..]);
        if let Some(h) = &self.host {
            cmd = cmd.args([q.host_flag, h.as_str()]);
        }
        if let Some(c) = &self.context {
            cmd = cmd.args([q.context_flag, c.as_str()]);
        }
        cmd
    }

    /// The engine command's words as given (program first).
    pub fn argv(&self) -> &[OsString] {
        &self.command
    }

    /// Default limits of each command.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Whether this engine dry-runs.
    pub fn is_dry_run(&self) -> bool {
        matches!(self.mode, Mode::DryRun(_))
    }
}

//! The configured engine and the executor loop that carries out plans.
//!
//! [`Engine`] holds the engine command (`docker`, `sudo -n docker`,
//! `/usr/bin/podman` …), its dialect, global flags, default limits and retry
//! policy, and the mode (execute or dry run). [`Engine::run`] runs a
//! [`Plan`]: it builds the argv, runs it with the blocking executor, classifies
//! failures, retries transient ones with backoff, and hands the outcome to the
//! plan's parser. Resource modules (`system`, …) add typed methods on top.

mod argv;
pub mod batch;
pub mod classify;
pub mod plan;
mod quirks;
pub mod retry;

use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use argv::Argv;
pub use quirks::{EngineKind, Quirks};

use crate::engine::plan::{Effect, Outcome, Plan, Program, Retry};
use crate::engine::retry::{Decision, RetryPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::{self, Cmd, Limits, Observer, Output};
use classify::Tool;

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
    pub fn from_command(command: &str) -> Result<Engine> {
        let words = shlex::split(command)
            .filter(|w| !w.is_empty())
            .ok_or_else(|| {
                Error::invalid_input(format!("cannot split engine command {command:?}"))
            })?;
        Engine::from_argv(words)
    }

    /// An engine from an already split command.
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

    /// The lock wait limit of mutations.
    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
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

    /// The [`Cmd`] and [`Limits`] a plan runs with.
    pub fn prepare<T>(&self, plan: &Plan<T>) -> (Cmd, Limits) {
        let mut cmd = match &plan.program {
            Program::Engine => self.command(),
            Program::Host(p) => Cmd::new(p),
        };
        cmd = cmd.args(&plan.args);
        for (k, v) in &plan.env {
            cmd = cmd.env(k, v);
        }
        if let Some(bytes) = &plan.stdin {
            cmd = cmd.stdin(bytes.clone());
        }
        let mut limits = self.limits;
        if let Some(t) = plan.timeout {
            limits.timeout = t;
        }
        (cmd, limits)
    }

    fn tool<T>(&self, plan: &Plan<T>) -> Tool {
        match plan.program {
            Program::Engine => Tool::Engine(self.kind),
            Program::Host(_) => Tool::Host,
        }
    }

    /// Run `cmd` once and classify a non-zero exit (dry-run aware).
    fn attempt(&self, cmd: &Cmd, limits: &Limits, effect: Effect, tool: Tool) -> Result<Outcome> {
        self.attempt_observed(cmd, limits, effect, tool, None)
    }

    /// [`Engine::attempt`], showing the output to `observer` as it arrives.
    fn attempt_observed(
        &self,
        cmd: &Cmd,
        limits: &Limits,
        effect: Effect,
        tool: Tool,
        observer: Option<&Observer>,
    ) -> Result<Outcome> {
        if let Some(skipped) = self.dry_run_skip(cmd, effect) {
            return Ok(skipped);
        }
        let output = exec::run_observed(cmd, limits, observer)?;
        Ok(classified(tool, cmd, output))
    }

    /// In a dry run, a state-changing command goes to the sink instead.
    fn dry_run_skip(&self, cmd: &Cmd, effect: Effect) -> Option<Outcome> {
        match (&self.mode, effect) {
            (Mode::DryRun(sink), Effect::Mutating) => {
                sink(cmd);
                Some(Outcome {
                    output: Output::dry_run(),
                    error: None,
                })
            }
            _ => None,
        }
    }

    /// Whether to finish now or sleep and try again after `result`.
    fn next_step(policy: &RetryPolicy, attempt: u32, result: &Result<Outcome>, cmd: &Cmd) -> Next {
        let err = match result {
            Ok(Outcome { error: None, .. }) => return Next::Finish,
            Ok(Outcome { error: Some(e), .. }) | Err(e) => e,
        };
        match policy.decide(attempt, err) {
            Decision::GiveUp => Next::Finish,
            Decision::RetryAfter(delay) => {
                log::warn!(
                    "attempt {attempt}/{} failed ({}: {}); retrying in {:.1}s: {cmd}",
                    policy.attempts,
                    err.kind(),
                    err.message(),
                    delay.as_secs_f64()
                );
                Next::Sleep(delay)
            }
        }
    }

    fn policy_for<T>(&self, plan: &Plan<T>) -> RetryPolicy {
        match plan.retry {
            Retry::Never => RetryPolicy::never(),
            _ => self.retry,
        }
    }

    /// Carry out `plan`: run, classify, retry transient failures (checking
    /// first, for non-idempotent plans, whether the last attempt took
    /// effect), then parse.
    ///
    /// ```no_run
    /// use dockhand::{engine::Argv, Engine, Plan};
    /// let engine = Engine::detect().unwrap();
    /// let ids = engine.run(Plan::read(Argv::new("ps").arg("-q"), |out| Ok(out.stdout_text()))).unwrap();
    /// ```
    pub fn run<T: 'static>(&self, plan: Plan<T>) -> Result<T> {
        self.run_with(plan, None)
    }

    /// [`Engine::run`], handing the command's output to `observer` as it
    /// arrives (progress display); the output is still captured and parsed.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use dockhand::{engine::Argv, exec::Observer, Engine, Plan};
    /// let engine = Engine::detect().unwrap();
    /// let show: Observer = std::sync::Arc::new(|_, chunk: &[u8]| { let _ = std::io::stderr().write_all(chunk); });
    /// engine.run_observed(Plan::write(Argv::new("pull").operands(["alpine"]), |_| Ok(())), &show).unwrap();
    /// ```
    pub fn run_observed<T: 'static>(&self, plan: Plan<T>, observer: &Observer) -> Result<T> {
        self.run_with(plan, Some(observer))
    }

    fn run_with<T: 'static>(&self, plan: Plan<T>, observer: Option<&Observer>) -> Result<T> {
        let (cmd, limits) = self.prepare(&plan);
        let (tool, policy) = (self.tool(&plan), self.policy_for(&plan));
        let mut attempt = 1;
        let mut result = self.attempt_observed(&cmd, &limits, plan.effect, tool, observer);
        loop {
            match Engine::next_step(&policy, attempt, &result, &cmd) {
                Next::Finish => return (plan.finish)(result?),
                Next::Sleep(delay) => exec::sleep(delay)?,
            }
            attempt += 1;
            result = match &plan.retry {
                // Never re-run blindly: if the check fails too, the next
                // round sleeps and checks again.
                Retry::VerifyFirst(check) => match self.run_once(check()) {
                    Ok(Some(value)) => return Ok(value),
                    Ok(None) => self.attempt_observed(&cmd, &limits, plan.effect, tool, observer),
                    Err(e) => Err(e),
                },
                _ => self.attempt_observed(&cmd, &limits, plan.effect, tool, observer),
            };
        }
    }

    /// Async twin of [`Engine::run`] on tokio::process (feature `tokio`).
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use dockhand::{engine::Argv, Engine, Plan};
    /// let engine = Engine::detect().unwrap();
    /// let ids = engine.run_async(Plan::read(Argv::new("ps").arg("-q"), |out| Ok(out.stdout_text()))).await.unwrap();
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn run_async<T: Send + 'static>(&self, plan: Plan<T>) -> Result<T> {
        let (cmd, limits) = self.prepare(&plan);
        let (tool, policy) = (self.tool(&plan), self.policy_for(&plan));
        let mut attempt = 1;
        let mut result = self.attempt_async(&cmd, &limits, plan.effect, tool).await;
        loop {
            match Engine::next_step(&policy, attempt, &result, &cmd) {
                Next::Finish => return (plan.finish)(result?),
                Next::Sleep(delay) => exec::sleep_async(delay).await?,
            }
            attempt += 1;
            result = match &plan.retry {
                Retry::VerifyFirst(check) => match self.run_once_async(check()).await {
                    Ok(Some(value)) => return Ok(value),
                    Ok(None) => self.attempt_async(&cmd, &limits, plan.effect, tool).await,
                    Err(e) => Err(e),
                },
                _ => self.attempt_async(&cmd, &limits, plan.effect, tool).await,
            };
        }
    }

    /// One attempt, no retries (verify checks).
    fn run_once<U>(&self, plan: Plan<U>) -> Result<U> {
        let (cmd, limits) = self.prepare(&plan);
        let outcome = self.attempt(&cmd, &limits, plan.effect, self.tool(&plan))?;
        (plan.finish)(outcome)
    }

    #[cfg(feature = "tokio")]
    async fn run_once_async<U>(&self, plan: Plan<U>) -> Result<U> {
        let (cmd, limits) = self.prepare(&plan);
        let outcome = self
            .attempt_async(&cmd, &limits, plan.effect, self.tool(&plan))
            .await?;
        (plan.finish)(outcome)
    }

    #[cfg(feature = "tokio")]
    async fn attempt_async(
        &self,
        cmd: &Cmd,
        limits: &Limits,
        effect: Effect,
        tool: Tool,
    ) -> Result<Outcome> {
        if let Some(skipped) = self.dry_run_skip(cmd, effect) {
            return Ok(skipped);
        }
        let output = exec::run_async(cmd, limits).await?;
        Ok(classified(tool, cmd, output))
    }
}

/// What the retry loop does next.
enum Next {
    Finish,
    Sleep(Duration),
}

/// The outcome of a finished command, with a non-zero exit classified.
fn classified(tool: Tool, cmd: &Cmd, output: Output) -> Outcome {
    let error = (!output.status.success()).then(|| classify::classify(tool, cmd, &output));
    Outcome { output, error }
}

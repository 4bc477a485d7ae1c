//! A plan: everything about one operation that is pure data.
//!
//! Each operation in dockhand is a function from typed options to a
//! [`Plan`] — the argv to give the engine (or a host tool), whether it
//! changes state, how to retry it, and how to turn the result into a typed
//! value. Executors ([`Engine::run`](crate::Engine::run), the async and dry-run
//! variants) carry plans out; nothing in a plan spawns or sleeps, so plans and
//! their parsers are tested without any engine.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Argv;
use crate::error::{Error, Result};
use crate::exec::Output;

/// A random token (128 bits from the kernel), hex: the label value by which
/// a retry finds out whether a lost first attempt created something
/// (containers, imported images).
///
/// ```
/// let t = dockhand::engine::plan::random_token().unwrap();
/// assert_eq!(t.len(), 32);
/// ```
pub fn random_token() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            Error::new(
                crate::ErrorKind::EngineFailure,
                format!("cannot read /dev/urandom: {e}"),
            )
            .with_source(e)
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Which program a plan runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// The configured engine command (`docker`, `sudo -n docker`, `podman` …).
    Engine,
    /// A host tool such as `ip` or `nsenter`.
    Host(OsString),
}

/// Whether a plan changes state. Dry runs print state-changing plans
/// instead of running them, and run read-only ones for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Only reads state.
    ReadOnly,
    /// Changes state.
    Mutating,
}

/// What a completed command produced: its output, and — when it exited
/// non-zero — the classified error.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// stdout, stderr, status.
    pub output: Output,
    /// The classified failure, for a non-zero exit.
    pub error: Option<Error>,
}

impl Outcome {
    /// The output if the command succeeded, the classified error otherwise.
    pub fn into_result(self) -> Result<Output> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.output),
        }
    }
}

type Finish<T> = Box<dyn FnOnce(Outcome) -> Result<T> + Send>;
type Verify<T> = Box<dyn Fn() -> Plan<Option<T>> + Send + Sync>;

/// How the executor may retry a plan after a transient failure (set with
/// [`Plan::no_retry`] and [`Plan::verify_before_retry`]).
pub(crate) enum Retry<T> {
    /// Run it again (read-only and idempotent commands).
    Transient,
    /// Never run it twice.
    Never,
    /// Before each retry, run this check; when it yields a value, the first
    /// attempt took effect after all and that value is the result.
    VerifyFirst(Verify<T>),
}

/// One operation as data: argv, effect, retry and timeout rules, and the
/// function that turns the outcome into a `T`.
///
/// ```
/// use dockhand::{engine::Argv, Plan};
/// let plan = Plan::read(Argv::new("ps").arg("-q"), |out| Ok(out.stdout_text()));
/// assert_eq!(plan.args(), ["ps", "-q"]);
/// ```
#[must_use = "a plan does nothing until an Engine runs it"]
pub struct Plan<T> {
    pub(crate) program: Program,
    pub(crate) args: Vec<OsString>,
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) stdin: Option<Vec<u8>>,
    pub(crate) fds: Vec<std::os::fd::RawFd>,
    pub(crate) stdin_file: Option<PathBuf>,
    pub(crate) effect: Effect,
    pub(crate) retry: Retry<T>,
    pub(crate) timeout: Option<Option<Duration>>,
    pub(crate) output_cap: Option<usize>,
    pub(crate) finish: Finish<T>,
}

impl<T: 'static> Plan<T> {
    /// A plan whose `finish` sees the whole outcome, failed or not — for
    /// commands whose non-zero exits still carry answers (docker `version`
    /// with the daemon down, `inspect` of some missing names).
    ///
    /// ```
    /// use dockhand::{engine::{plan::Effect, Argv}, Plan};
    /// // `version` with the daemon down still prints the client half.
    /// let plan = Plan::new(Effect::ReadOnly, Argv::new("version"), |outcome| Ok(outcome.output.stdout_text()));
    /// assert_eq!(plan.effect(), Effect::ReadOnly);
    /// ```
    pub fn new<F>(effect: Effect, args: Argv, finish: F) -> Plan<T>
    where
        F: FnOnce(Outcome) -> Result<T> + Send + 'static,
    {
        Plan {
            program: Program::Engine,
            args: args.into_iter().collect(),
            env: Vec::new(),
            stdin: None,
            fds: Vec::new(),
            stdin_file: None,
            effect,
            retry: Retry::Transient,
            timeout: None,
            output_cap: None,
            finish: Box::new(finish),
        }
    }

    /// A read-only engine command; `parse` sees the output of a successful run.
    pub fn read<F>(args: Argv, parse: F) -> Plan<T>
    where
        F: FnOnce(&Output) -> Result<T> + Send + 'static,
    {
        Plan::new(Effect::ReadOnly, args, move |o| parse(&o.into_result()?))
    }

    /// A state-changing engine command that is safe to repeat (stop, rm -f …).
    ///
    /// ```
    /// use dockhand::{engine::{plan::Effect, Argv}, Plan};
    /// let plan = Plan::write(Argv::new("stop").operands(["web"]), |_| Ok(()));
    /// assert_eq!(plan.effect(), Effect::Mutating);
    /// ```
    pub fn write<F>(args: Argv, parse: F) -> Plan<T>
    where
        F: FnOnce(&Output) -> Result<T> + Send + 'static,
    {
        Plan::new(Effect::Mutating, args, move |o| parse(&o.into_result()?))
    }

    /// Run a host tool (`ip`, `nsenter` …) instead of the engine.
    pub fn on_host(mut self, program: impl Into<OsString>) -> Plan<T> {
        self.program = Program::Host(program.into());
        self
    }

    /// Set an environment variable for the command (e.g. `DOCKER_BUILDKIT=1`).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Plan<T> {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Bytes to feed the command's stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Plan<T> {
        self.stdin = Some(bytes.into());
        self
    }

    /// Let the command inherit the open descriptor `fd` (an env-file it
    /// reads as `/dev/fd/N`, see [`Cmd::pass_fd`](crate::exec::Cmd::pass_fd));
    /// the caller keeps it open while the plan runs.
    pub fn pass_fd(mut self, fd: std::os::fd::RawFd) -> Plan<T> {
        self.fds.push(fd);
        self
    }

    /// The command reads its stdin from this file, opened anew for every
    /// attempt (a build context tarball for `build -`).
    pub fn stdin_file(mut self, path: impl Into<PathBuf>) -> Plan<T> {
        self.stdin_file = Some(path.into());
        self
    }

    /// Override the engine's cap on each of stdout and stderr: more output
    /// kills the command (a download into memory that must stay small).
    pub fn output_cap(mut self, bytes: usize) -> Plan<T> {
        self.output_cap = Some(bytes);
        self
    }

    /// Never retry this plan (non-idempotent, or a diagnosis that must be quick).
    pub fn no_retry(mut self) -> Plan<T> {
        self.retry = Retry::Never;
        self
    }

    /// Before a retry, run `check`; `Some(v)` means the earlier attempt took
    /// effect, and `v` is returned without running the command again.
    pub fn verify_before_retry<F>(mut self, check: F) -> Plan<T>
    where
        F: Fn() -> Plan<Option<T>> + Send + Sync + 'static,
    {
        self.retry = Retry::VerifyFirst(Box::new(check));
        self
    }

    /// Override the engine's default timeout (`None`: no timeout).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Plan<T> {
        self.timeout = Some(timeout);
        self
    }

    /// Transform the parsed value. A plan verified before a retry
    /// ([`Plan::verify_before_retry`]) stays verified: its check is mapped too.
    ///
    /// ```
    /// use dockhand::{engine::Argv, Plan};
    /// let plan = Plan::read(Argv::new("ps").arg("-q"), |out| Ok(out.stdout_lines())).map(|ids| ids.len());
    /// assert_eq!(plan.args(), ["ps", "-q"]);
    /// ```
    pub fn map<U: 'static, F>(mut self, f: F) -> Plan<U>
    where
        F: Fn(T) -> U + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let retry = match std::mem::replace(&mut self.retry, Retry::Never) {
            Retry::Never => Retry::Never,
            Retry::Transient => Retry::Transient,
            Retry::VerifyFirst(check) => {
                let f = Arc::clone(&f);
                Retry::VerifyFirst(Box::new(move || {
                    let f = Arc::clone(&f);
                    // A check runs once (never retried itself): its own rule
                    // carries over without a check of its own.
                    let mut plan = check();
                    let retry = match std::mem::replace(&mut plan.retry, Retry::Never) {
                        Retry::Never => Retry::Never,
                        _ => Retry::Transient,
                    };
                    plan.with_finish(retry, move |found| found.map(|v| f(v)))
                }))
            }
        };
        self.with_finish(retry, move |v| f(v))
    }

    /// This plan with `retry` (its own is dropped) and its value passed through `f`.
    fn with_finish<U: 'static>(
        self,
        retry: Retry<U>,
        f: impl FnOnce(T) -> U + Send + 'static,
    ) -> Plan<U> {
        let finish = self.finish;
        Plan {
            program: self.program,
            args: self.args,
            env: self.env,
            stdin: self.stdin,
            fds: self.fds,
            stdin_file: self.stdin_file,
            effect: self.effect,
            retry,
            timeout: self.timeout,
            output_cap: self.output_cap,
            finish: Box::new(move |o| finish(o).map(f)),
        }
    }

    /// Turn an outcome into the plan's value, exactly as the executor does
    /// after the last attempt — for outcomes obtained some other way: a
    /// recorded run replayed, or a fuzzer's mangled output.
    ///
    /// ```
    /// use dockhand::{exec::Output, engine::{plan::{Outcome, Plan}, Argv}, ExitStatus};
    /// let plan = Plan::read(Argv::new("ps").arg("-q"), |out| Ok(out.stdout_text()));
    /// let output = Output { status: ExitStatus::Code(0), stdout: b"1f5b\n".to_vec(), stderr: Vec::new(), dry_run: false };
    /// assert_eq!(plan.parse_outcome(Outcome { output, error: None }).unwrap(), "1f5b");
    /// ```
    pub fn parse_outcome(self, outcome: Outcome) -> Result<T> {
        (self.finish)(outcome)
    }

    /// The arguments given to the program.
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    /// Environment variables set for the command.
    pub fn envs(&self) -> &[(OsString, OsString)] {
        &self.env
    }

    /// Which program runs.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Whether the plan changes state.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

impl<T> std::fmt::Debug for Plan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("effect", &self.effect)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitStatus;

    fn ok(stdout: &[u8]) -> Outcome {
        Outcome {
            output: Output {
                status: ExitStatus::Code(0),
                stdout: stdout.to_vec(),
                stderr: Vec::new(),
                dry_run: false,
            },
            error: None,
        }
    }

    #[test]
    fn a_mapped_plan_is_still_verified_before_a_retry_and_its_check_is_mapped() {
        // Regression: `map` turned VerifyFirst into Transient, so a mapped
        // `run`/`create` plan would have been sent again blindly.
        let plan = Plan::write(Argv::new("run").arg("x"), |out| Ok(out.stdout_text()))
            .verify_before_retry(|| {
                Plan::read(Argv::new("ps").arg("-q"), |out| {
                    Ok(out.stdout_lines().pop())
                })
            })
            .map(|id| id.len());
        let Retry::VerifyFirst(check) = &plan.retry else {
            panic!("the mapped plan lost its verification");
        };
        let verify = check();
        assert_eq!(verify.args(), ["ps", "-q"]);
        assert_eq!(verify.parse_outcome(ok(b"abcdef\n")).unwrap(), Some(6));
        assert_eq!(plan.parse_outcome(ok(b"abc\n")).unwrap(), 3);
    }

    #[test]
    fn map_keeps_never_and_transient() {
        let never = Plan::write(Argv::new("kill"), |_| Ok(()))
            .no_retry()
            .map(|()| 1);
        assert!(matches!(never.retry, Retry::Never));
        let transient = Plan::read(Argv::new("ps"), |_| Ok(())).map(|()| 1);
        assert!(matches!(transient.retry, Retry::Transient));
    }
}

//! Carrying plans out: every command any resource runs goes through here.
//!
//! One attempt is: build the [`Cmd`] (engine command and global flags, or a
//! host tool), skip it in a dry run when it changes state, run it, classify
//! a non-zero exit. [`Engine::drive`] repeats attempts as the plan's retry
//! rule and the engine's [`RetryPolicy`] say — checking first, for plans
//! that must not run twice, whether the last attempt took effect — and hands
//! the outcome to the plan's parser. It is written once for both drivers
//! (see [`drive`](super::drive)).

use std::time::Duration;

use super::classify::{self, Tool};
use super::drive::{Blocking, Driver};
use super::plan::{Effect, Outcome, Plan, Program, Retry};
use super::retry::{Decision, RetryPolicy};
use super::{Engine, Mode};
use crate::error::{ExitStatus, Result};
use crate::exec::{self, Cmd, Limits, Observer, Output};

impl Engine {
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
        Blocking::finish(self.drive(&Blocking, plan, None))
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
        Blocking::finish(self.drive(&Blocking, plan, Some(observer)))
    }

    /// [`Engine::run`] on tokio::process (feature `tokio`), with the same
    /// timeout, kill, cap, classification and retry rules.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use dockhand::{engine::Argv, Engine, Plan};
    /// let engine = Engine::detect().unwrap();
    /// let ids = engine.run_async(Plan::read(Argv::new("ps").arg("-q"), |out| Ok(out.stdout_text()))).await.unwrap();
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn run_async<T: Send + 'static>(&self, plan: Plan<T>) -> Result<T> {
        self.drive(&super::drive::Tokio, plan, None).await
    }

    /// Run `plan` attached to the terminal: its stdout and stderr are ours
    /// (and its stdin, with `stdin`); once, without retries. The command's
    /// exit status is the answer. A dry run hands the plan to the dry-run
    /// sink instead (status 0). `exec`, `netns exec` and `start --attach`
    /// run this way.
    ///
    /// ```no_run
    /// use dockhand::{engine::{plan::Effect, Argv}, Engine, Plan};
    /// let engine = Engine::detect()?;
    /// let plan = Plan::new(Effect::Mutating, Argv::new("exec").operands(["web", "ls"]), |o| o.into_result().map(drop));
    /// let status = engine.run_attached(plan, false)?;
    /// std::process::exit(status.shell_code());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn run_attached(&self, plan: Plan<()>, stdin: bool) -> Result<ExitStatus> {
        if self.is_dry_run() {
            self.run(plan)?;
            return Ok(ExitStatus::Code(0));
        }
        let (cmd, limits) = self.prepare(&plan);
        let limits = self.within_deadline(limits)?;
        exec::run_inherit(&cmd, &limits, stdin)
    }

    /// [`Engine::run_attached`], also returning the last `keep` bytes of the
    /// command's stderr (which still reaches ours as it is written): what an
    /// engine says on its way out, such as the detach of `attach`. A dry run
    /// gives status 0 and no bytes.
    ///
    /// ```no_run
    /// use dockhand::{engine::{plan::Effect, Argv}, Engine, Plan};
    /// let engine = Engine::detect()?;
    /// let plan = Plan::new(Effect::Mutating, Argv::new("attach").operands(["web"]), |o| o.into_result().map(drop));
    /// let (status, tail) = engine.run_attached_stderr_tail(plan, true, 4096)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn run_attached_stderr_tail(
        &self,
        plan: Plan<()>,
        stdin: bool,
        keep: usize,
    ) -> Result<(ExitStatus, Vec<u8>)> {
        if self.is_dry_run() {
            self.run(plan)?;
            return Ok((ExitStatus::Code(0), Vec::new()));
        }
        let (cmd, limits) = self.prepare(&plan);
        exec::run_inherit_stderr_tail(&cmd, &limits, stdin, keep)
    }

    /// The [`Cmd`] and [`Limits`] `plan` runs with: to show it, or to run it
    /// some other way.
    ///
    /// ```
    /// use dockhand::{engine::Argv, Engine, Plan};
    /// let engine = Engine::from_command("sudo -n docker").unwrap();
    /// let (cmd, limits) = engine.prepare(&Plan::read(Argv::new("ps").arg("-q"), |_| Ok(())));
    /// assert_eq!(cmd.to_string(), "sudo -n docker ps -q");
    /// assert_eq!(limits.timeout, engine.limits().timeout);
    /// ```
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
        for &fd in &plan.fds {
            cmd = cmd.pass_fd(fd);
        }
        if let Some(path) = &plan.stdin_file {
            cmd = cmd.stdin_file(path);
        }
        let mut limits = *self.limits();
        if let Some(t) = plan.timeout {
            limits.timeout = t;
        }
        if let Some(cap) = plan.output_cap {
            limits.output_cap = cap;
        }
        // Past a rollback's deadline: a zero timeout (`attempt` refuses it).
        let limits = self.within_deadline(limits).unwrap_or(Limits {
            timeout: Some(Duration::ZERO),
            ..limits
        });
        (cmd, limits)
    }

    /// The retry loop, for either driver.
    pub(crate) async fn drive<T: 'static, D: Driver>(
        &self,
        driver: &D,
        plan: Plan<T>,
        observer: Option<&Observer>,
    ) -> Result<T> {
        let (cmd, limits) = self.prepare(&plan);
        let tool = self.tool(&plan);
        let policy = match plan.retry {
            Retry::Never => RetryPolicy::never(),
            _ => *self.retry_policy(),
        };
        let attempt = || self.attempt(driver, &cmd, &limits, plan.effect, tool, observer);
        let mut tries = 1;
        let mut result = attempt().await;
        loop {
            match next_step(&policy, tries, &result, &cmd) {
                None => return (plan.finish)(result?),
                Some(delay) if limits.through_interrupts => {
                    if !self.pause_fits(delay) {
                        return (plan.finish)(result?);
                    }
                    driver.sleep_through_interrupts(delay).await;
                }
                Some(delay) => driver.sleep(delay).await?,
            }
            tries += 1;
            result = match &plan.retry {
                // Never re-run blindly: if the check fails too, the next
                // round sleeps and checks again.
                Retry::VerifyFirst(check) => match self.run_once(driver, check()).await {
                    Ok(Some(value)) => return Ok(value),
                    Ok(None) => attempt().await,
                    Err(e) => Err(e),
                },
                _ => attempt().await,
            };
        }
    }

    /// One attempt, no retries (the checks before a retry).
    async fn run_once<U, D: Driver>(&self, driver: &D, plan: Plan<U>) -> Result<U> {
        let (cmd, limits) = self.prepare(&plan);
        let outcome = self
            .attempt(driver, &cmd, &limits, plan.effect, self.tool(&plan), None)
            .await?;
        (plan.finish)(outcome)
    }

    /// Run `cmd` once and classify a non-zero exit; in a dry run a
    /// state-changing command goes to the sink instead.
    async fn attempt<D: Driver>(
        &self,
        driver: &D,
        cmd: &Cmd,
        limits: &Limits,
        effect: Effect,
        tool: Tool,
        observer: Option<&Observer>,
    ) -> Result<Outcome> {
        if let (Mode::DryRun(sink), Effect::Mutating) = (&self.mode, effect) {
            sink(cmd);
            return Ok(Outcome {
                output: Output::dry_run(),
                error: None,
            });
        }
        let limits = self.within_deadline(*limits)?;
        let output = driver.output(cmd, &limits, observer).await?;
        let error = (!output.status.success()).then(|| classify::classify(tool, cmd, &output));
        Ok(Outcome { output, error })
    }

    fn tool<T>(&self, plan: &Plan<T>) -> Tool {
        match plan.program {
            Program::Engine => Tool::Engine(self.kind()),
            Program::Host(_) => Tool::Host,
        }
    }
}

/// After attempt number `attempt` ended with `result`: `None` to finish,
/// or how long to sleep before the next attempt.
fn next_step(
    policy: &RetryPolicy,
    attempt: u32,
    result: &Result<Outcome>,
    cmd: &Cmd,
) -> Option<Duration> {
    let err = match result {
        Ok(Outcome { error: None, .. }) => return None,
        Ok(Outcome { error: Some(e), .. }) | Err(e) => e,
    };
    match policy.decide(attempt, err) {
        Decision::GiveUp => None,
        Decision::RetryAfter(delay) => {
            log::warn!(
                "attempt {attempt}/{} failed ({}: {}); retrying in {:.1}s: {cmd}",
                policy.attempts,
                err.kind(),
                err.message(),
                delay.as_secs_f64()
            );
            Some(delay)
        }
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tests {
    use super::*;
    use crate::engine::Argv;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_async_run_is_a_send_future() {
        let engine = Engine::from_command("docker").unwrap();
        let run = engine.run_async(Plan::read(Argv::new("ps"), |_| Ok(())));
        assert_send(&run);
    }
}

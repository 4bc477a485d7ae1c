//! Commands whose output belongs to the user's terminal: `exec` into a
//! running container and `start --attach`. Their exit code is the inner
//! command's; a detach from `exec -it` (see [`attach`](super::attach)) is 0.

use std::path::Path;
use std::time::Duration;

use super::attach::{AttachOptions, Session};
use super::envfile::EnvFile;
use super::model::Status;
use super::Containers;
use crate::engine::plan::{Effect, Plan};
use crate::engine::Argv;
use crate::error::{Error, ErrorKind, Result};
use crate::input::{ContainerRef, DetachKeys, EnvVar, Word};

/// Options of [`Containers::exec`].
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Command and arguments (required).
    pub command: Vec<String>,
    /// `-e`: environment (passed in a private env-file, not argv).
    pub env: Vec<EnvVar>,
    /// `-u`: user.
    pub user: Option<Word>,
    /// `-w`: working directory.
    pub workdir: Option<Word>,
    /// `-i`: pass our stdin through.
    pub interactive: bool,
    /// `-t`: allocate a terminal.
    pub tty: bool,
    /// Kill the command after this long (`None`: no limit, like the engine).
    pub time_limit: Option<Duration>,
    /// Keys that detach from an `-it` session (the engines' default:
    /// ctrl-p,ctrl-q); a detach leaves the command running and counts as 0.
    pub detach_keys: Option<DetachKeys>,
}

/// The plan for `exec`; `env_file` holds `opts.env`.
///
/// ```
/// use dockhand::container::{exec_plan, ExecOptions};
/// use dockhand::input::ContainerRef;
/// let o = ExecOptions { command: vec!["ls".into(), "-l".into()], ..ExecOptions::default() };
/// let plan = exec_plan(&ContainerRef::new("web").unwrap(), &o, None);
/// assert_eq!(plan.args(), ["exec", "--", "web", "ls", "-l"]);
/// ```
pub fn exec_plan(target: &ContainerRef, opts: &ExecOptions, env_file: Option<&Path>) -> Plan<()> {
    let args = Argv::new("exec")
        .opt_path("--env-file", env_file)
        .opt("--user", opts.user.as_ref())
        .opt("--workdir", opts.workdir.as_ref())
        .flag_if("--interactive", opts.interactive)
        .flag_if("--tty", opts.tty)
        .opt("--detach-keys", opts.detach_keys.as_ref())
        .operands(std::iter::once(target.as_str()).chain(opts.command.iter().map(String::as_str)));
    Plan::new(Effect::Mutating, args, |o| o.into_result().map(drop))
        .no_retry()
        .timeout(opts.time_limit)
}

/// `start --attach [--interactive] [--detach-keys=K] -- NAME`: start a
/// created container and stream its output until it exits; with
/// `opts.stdin`, our stdin goes to its stdin (`run -it` is create + this).
///
/// ```
/// use dockhand::container::{start_attached_plan, AttachOptions};
/// let o = AttachOptions { stdin: true, detach_keys: Some("ctrl-a,x".parse()?) };
/// let plan = start_attached_plan(&"job".parse()?, &o);
/// assert_eq!(plan.args(), ["start", "--attach", "--interactive", "--detach-keys=ctrl-a,x", "--", "job"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn start_attached_plan(target: &ContainerRef, opts: &AttachOptions) -> Plan<()> {
    Plan::new(
        Effect::Mutating,
        Argv::new("start")
            .flag("--attach")
            .flag_if("--interactive", opts.stdin)
            .opt("--detach-keys", opts.detach_keys.as_ref())
            .operands([target]),
        |o| o.into_result().map(drop),
    )
    .no_retry()
    .timeout(None)
}

impl Containers<'_> {
    /// Run a command in a running container with our stdout/stderr (and,
    /// with `interactive`, stdin); returns the command's exit code. A missing
    /// container is NotFound and a stopped or paused one Conflict, found
    /// before anything runs.
    ///
    /// ```no_run
    /// use dockhand::{container::ExecOptions, input::ContainerRef, Engine};
    /// let o = ExecOptions { command: vec!["cat".into(), "/etc/hostname".into()], ..ExecOptions::default() };
    /// let code = Engine::detect()?.containers().exec(&ContainerRef::new("web")?, &o)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn exec(&self, target: &ContainerRef, opts: &ExecOptions) -> Result<i32> {
        if opts.command.is_empty() {
            return Err(Error::invalid_input("exec needs a command"));
        }
        if let Some(a) = opts.command.iter().find(|a| a.contains('\0')) {
            return Err(Error::invalid_input(format!(
                "argument {a:?} contains a NUL byte"
            )));
        }
        let c = self.inspect_one(target)?;
        if c.state.status != Status::Running {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "container {} is {}, not running",
                    c.name,
                    c.state.status.as_str()
                ),
            ));
        }
        let env_file = EnvFile::write(&opts.env, self.engine.passes_fds())?;
        let id = ContainerRef::new(c.id)?;
        let mut plan = exec_plan(&id, opts, env_file.as_ref().map(EnvFile::path));
        if let Some(fd) = env_file.as_ref().and_then(EnvFile::fd) {
            plan = plan.pass_fd(fd);
        }
        if opts.interactive && opts.tty {
            // A terminal session: the detach keys may end it.
            return Ok(self.attached(Session::Exec, plan, true, &id)?.exit_code());
        }
        Ok(self
            .engine
            .run_attached(plan, opts.interactive)?
            .shell_code())
    }

    /// Start a created container attached to our stdout/stderr; returns its
    /// exit code when it ends.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let code = Engine::detect()?.containers().start_attached(&ContainerRef::new("job")?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn start_attached(&self, target: &ContainerRef) -> Result<i32> {
        Ok(self
            .engine
            .run_attached(
                start_attached_plan(target, &AttachOptions::default()),
                false,
            )?
            .shell_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_plan_puts_env_in_a_file_and_options_before_the_name() {
        let o = ExecOptions {
            command: vec!["sh".into(), "-c".into(), "echo $K".into()],
            env: vec![EnvVar::new("K", "secret").unwrap()],
            user: Some(Word::new("nobody").unwrap()),
            workdir: Some(Word::new("/tmp").unwrap()),
            interactive: true,
            tty: false,
            time_limit: None,
            detach_keys: None,
        };
        let plan = exec_plan(
            &ContainerRef::new("web").unwrap(),
            &o,
            Some(Path::new("/t/e")),
        );
        assert_eq!(
            plan.args(),
            [
                "exec",
                "--env-file=/t/e",
                "--user=nobody",
                "--workdir=/tmp",
                "--interactive",
                "--",
                "web",
                "sh",
                "-c",
                "echo $K"
            ]
        );
        assert_eq!(plan.timeout, Some(None));
    }
}

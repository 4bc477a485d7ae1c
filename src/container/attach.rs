//! Terminals attached to containers: `attach`, `start --attach
//! --interactive` (the second half of `run -it`), and recognising a detach
//! in them and in `exec -it`.
//!
//! Detaching (ctrl-p ctrl-q, or `--detach-keys`) leaves the container
//! running; dockhand reports it as a success (exit 0). The engines end
//! differently (`vendor-docs/run-flags.md`, "Detach keys", tmux captures):
//!
//! | command | docker 28.2 / 20.10 | podman 4.3.1 |
//! |---|---|---|
//! | `attach` | prints `read escape sequence`, exit 1 | prints nothing, exit 0 |
//! | `exec -it` | prints `read escape sequence`, exit 1 | after ~5 s `… detached from container`, exit 255 |
//! | `start -ai`, `run -it` | exit 0 | exit 0 |
//!
//! Where the exit status alone is ambiguous (0: the detach, or a container
//! that exited — podman's `attach` exits 0 whatever the container's code),
//! one `inspect` decides: still running means detached, else the exit code
//! is the container's.
//! podman needs the keys as separate writes (a terminal sends them so).

use serde::Serialize;

use super::interact::start_attached_plan;
use super::model::Status;
use super::Containers;
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, ErrorKind, ExitStatus, Result};
use crate::input::{ContainerRef, DetachKeys};

/// How much of the engine's stderr is kept to recognise a detach.
const STDERR_TAIL: usize = 4096;

/// How an attached session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "ended")]
pub enum Attached {
    /// The attached process ended with this exit code (the container's, or
    /// the exec'd command's).
    Exited {
        /// Its exit code (128 + N for a signal).
        code: i32,
    },
    /// The detach keys were typed; the container goes on running.
    Detached,
}

impl Attached {
    /// dockhand's exit code for it: the process's code, 0 for a detach.
    pub fn exit_code(self) -> i32 {
        match self {
            Attached::Exited { code } => code,
            Attached::Detached => 0,
        }
    }
}

/// Options of [`Containers::attach`], [`Containers::start_attached_with`]
/// and [`start_attached_plan`].
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// Pass our stdin through (`--interactive`; for `attach`, not `--no-stdin`).
    pub stdin: bool,
    /// Keys that detach (the engines' default: ctrl-p,ctrl-q).
    pub detach_keys: Option<DetachKeys>,
}

/// Which command the terminal is attached by: the engines end a detach
/// differently in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    Attach,
    Exec,
    Start,
}

/// What the exit of an attached command says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Known(Attached),
    /// Exit 0, which is also what a detach gives: the container's state
    /// decides (and, when it stopped, its recorded exit code).
    DetachedIfRunning,
}

/// Recognise a detach from the engine's exit status and the tail of its
/// stderr (the table of the module documentation).
pub(crate) fn ending(
    kind: EngineKind,
    session: Session,
    status: ExitStatus,
    stderr: &[u8],
) -> Ending {
    let said = |text: &str| {
        String::from_utf8_lossy(stderr)
            .to_lowercase()
            .contains(text)
    };
    let code = status.shell_code();
    let detached = match (kind, session, code) {
        (EngineKind::Podman, Session::Exec, 255) => said("detached from container"),
        (EngineKind::Podman, _, _) => false,
        (_, Session::Attach | Session::Exec, 1) => said("read escape sequence"),
        _ => false,
    };
    match (detached, code, session) {
        (true, _, _) => Ending::Known(Attached::Detached),
        (false, 0, Session::Start) => Ending::DetachedIfRunning,
        (false, 0, Session::Attach) if kind == EngineKind::Podman => Ending::DetachedIfRunning,
        (false, code, _) => Ending::Known(Attached::Exited { code }),
    }
}

/// `attach [--no-stdin] [--detach-keys=K] -- NAME`: once, no time limit.
///
/// ```
/// use dockhand::container::{attach_plan, AttachOptions};
/// let o = AttachOptions { stdin: true, detach_keys: Some("ctrl-a,x".parse()?) };
/// let plan = attach_plan(&"web".parse()?, &o);
/// assert_eq!(plan.args(), ["attach", "--detach-keys=ctrl-a,x", "--", "web"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn attach_plan(target: &ContainerRef, opts: &AttachOptions) -> Plan<()> {
    let args = Argv::new("attach")
        .flag_if("--no-stdin", !opts.stdin)
        .opt("--detach-keys", opts.detach_keys.as_ref())
        .operands([target]);
    Plan::new(Effect::Mutating, args, |o| o.into_result().map(drop))
        .no_retry()
        .timeout(None)
}

impl Containers<'_> {
    /// Attach our terminal to a running container's main process until it
    /// exits ([`Attached::Exited`] with its code) or the detach keys are
    /// typed ([`Attached::Detached`], the container still running).
    /// NotFound / Conflict (not running) before anything is attached.
    ///
    /// ```no_run
    /// use dockhand::{container::AttachOptions, input::ContainerRef, Engine};
    /// let o = AttachOptions { stdin: true, ..AttachOptions::default() };
    /// let ended = Engine::detect()?.containers().attach(&ContainerRef::new("web")?, &o)?;
    /// std::process::exit(ended.exit_code());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn attach(&self, target: &ContainerRef, opts: &AttachOptions) -> Result<Attached> {
        let c = self.inspect_one(target)?;
        if c.state.status != Status::Running {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "container {} is {}, not running: nothing to attach to",
                    c.name,
                    c.state.status.as_str()
                ),
            ));
        }
        let id = ContainerRef::new(&c.id)?;
        self.attached(Session::Attach, attach_plan(&id, opts), opts.stdin, &id)
    }

    /// Start a created (or stopped) container with our terminal attached,
    /// as `run -it` does after creating it: its exit code when it ends, or
    /// [`Attached::Detached`].
    ///
    /// ```no_run
    /// use dockhand::{container::AttachOptions, input::ContainerRef, Engine};
    /// let o = AttachOptions { stdin: true, ..AttachOptions::default() };
    /// let ended = Engine::detect()?.containers().start_attached_with(&ContainerRef::new("job")?, &o)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn start_attached_with(
        &self,
        target: &ContainerRef,
        opts: &AttachOptions,
    ) -> Result<Attached> {
        let plan = start_attached_plan(target, opts);
        self.attached(Session::Start, plan, opts.stdin, target)
    }

    /// Run an attached plan and tell a detach from an exit.
    pub(crate) fn attached(
        &self,
        session: Session,
        plan: Plan<()>,
        stdin: bool,
        target: &ContainerRef,
    ) -> Result<Attached> {
        let (status, tail) = self
            .engine
            .run_attached_stderr_tail(plan, stdin, STDERR_TAIL)?;
        if self.engine.is_dry_run() {
            return Ok(Attached::Exited { code: 0 });
        }
        match ending(self.engine.kind(), session, status, &tail) {
            Ending::Known(a) => Ok(a),
            Ending::DetachedIfRunning => Ok(match self.inspect_one(target) {
                Ok(c) if c.state.status == Status::Running => Attached::Detached,
                Ok(c) => Attached::Exited {
                    code: i32::try_from(c.state.exit_code).unwrap_or(1),
                },
                // Gone (`--rm`): the engine's 0 is all there is.
                Err(_) => Attached::Exited { code: 0 },
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::capture;

    #[test]
    fn detaches_are_recognised_as_each_engine_ends_them() {
        let docker = EngineKind::Docker;
        let podman = EngineKind::Podman;
        let said = b"read escape sequence\n";
        let code = ExitStatus::Code;
        assert_eq!(
            ending(docker, Session::Attach, code(1), said),
            Ending::Known(Attached::Detached)
        );
        assert_eq!(
            ending(docker, Session::Exec, code(1), said),
            Ending::Known(Attached::Detached)
        );
        // The container's own exit 1 is an exit.
        assert_eq!(
            ending(docker, Session::Attach, code(1), b""),
            Ending::Known(Attached::Exited { code: 1 })
        );
        let podman_exec = b"ERRO[0005] Container 1 exec session 2 error: detached from container\n\
            Error: timed out waiting for file /x/exit/2: internal libpod error\n";
        assert_eq!(
            ending(podman, Session::Exec, code(255), podman_exec),
            Ending::Known(Attached::Detached)
        );
        assert_eq!(
            ending(podman, Session::Exec, code(255), b"Error: boom"),
            Ending::Known(Attached::Exited { code: 255 })
        );
        assert_eq!(
            ending(podman, Session::Attach, code(0), b""),
            Ending::DetachedIfRunning
        );
        assert_eq!(
            ending(docker, Session::Start, code(0), b""),
            Ending::DetachedIfRunning
        );
        assert_eq!(
            ending(podman, Session::Start, code(0), b""),
            Ending::DetachedIfRunning
        );
        assert_eq!(
            ending(docker, Session::Attach, code(0), b""),
            Ending::Known(Attached::Exited { code: 0 })
        );
        assert_eq!(
            ending(docker, Session::Exec, ExitStatus::Signal(9), b""),
            Ending::Known(Attached::Exited { code: 137 })
        );
    }

    #[test]
    fn the_captured_panes_show_what_the_rules_read() {
        for slug in [
            "docker/detach-attach-default.txt",
            "docker/detach-exec-default.txt",
        ] {
            let pane = String::from_utf8(capture(slug)).unwrap();
            assert!(pane.contains("read escape sequence"), "{slug}");
        }
        let pane = String::from_utf8(capture("podman/detach-exec-default.txt")).unwrap();
        assert!(pane.contains("detached from container"), "{pane}");
    }
}

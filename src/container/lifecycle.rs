//! start / stop / restart / kill / pause / unpause / rm on many containers,
//! wait, exit codes, update, and the bulk removals `cleanup` and `reset`.
//!
//! A lifecycle action on one container named by its name is one engine
//! call, as with the raw CLI. On several names (or an id prefix, or a
//! restart) it is two calls for any number: one `inspect` (podman refuses a
//! whole batch when one name is missing, so the missing ones are set aside
//! first) and one action call on the found containers' full ids. Each name
//! gets its own result.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::lock_names;
use super::model::{Container, Status};
use super::query::{join, PsQuery};
use super::Containers;
use crate::decode::json::short_id;
use crate::engine::batch::Found;
use crate::engine::classify::{kind_of, Tool};
use crate::engine::plan::{Effect, Outcome, Plan};
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{ContainerRef, Cpus, KeyValue, MemorySize, Signal};

/// A lifecycle action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start.
    Start,
    /// Stop, killing after `timeout` seconds (the engine's default when `None`).
    Stop {
        /// Seconds between SIGTERM and SIGKILL.
        timeout: Option<u32>,
    },
    /// Restart.
    Restart,
    /// Send a signal (SIGKILL when `None`).
    Kill {
        /// The signal.
        signal: Option<Signal>,
    },
    /// Freeze.
    Pause,
    /// Thaw.
    Unpause,
    /// Remove; `force` also removes running containers. A missing container
    /// counts as removed ([`ActionOutcome::Absent`]).
    Remove {
        /// Kill and remove running containers too.
        force: bool,
    },
}

impl Action {
    fn verb(&self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop { .. } => "stop",
            Action::Restart => "restart",
            Action::Kill { .. } => "kill",
            Action::Pause => "pause",
            Action::Unpause => "unpause",
            Action::Remove { .. } => "rm",
        }
    }

    /// What a successful action did, as reported in results.
    fn done(&self) -> ActionOutcome {
        match self {
            Action::Start => ActionOutcome::Started,
            Action::Stop { .. } => ActionOutcome::Stopped,
            Action::Restart => ActionOutcome::Restarted,
            Action::Kill { .. } => ActionOutcome::Killed,
            Action::Pause => ActionOutcome::Paused,
            Action::Unpause => ActionOutcome::Unpaused,
            Action::Remove { .. } => ActionOutcome::Removed,
        }
    }
}

/// What happened to one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// Started.
    Started,
    /// Stopped.
    Stopped,
    /// Restarted.
    Restarted,
    /// Signalled.
    Killed,
    /// Paused.
    Paused,
    /// Unpaused.
    Unpaused,
    /// Removed.
    Removed,
    /// `rm` of a container that does not exist: nothing to do.
    Absent,
    /// The action failed; see the error.
    Failed,
    /// Dry run: the command was printed, not run.
    Planned,
}

impl ActionOutcome {
    /// The snake_case word, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionOutcome::Started => "started",
            ActionOutcome::Stopped => "stopped",
            ActionOutcome::Restarted => "restarted",
            ActionOutcome::Killed => "killed",
            ActionOutcome::Paused => "paused",
            ActionOutcome::Unpaused => "unpaused",
            ActionOutcome::Removed => "removed",
            ActionOutcome::Absent => "absent",
            ActionOutcome::Failed => "failed",
            ActionOutcome::Planned => "planned",
        }
    }
}

/// The result of an action on one container. As JSON:
/// `{"name", "id", "result", "error": null | {"kind", "message"}}`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ActionResult {
    /// The reference given.
    pub name: ContainerRef,
    /// Its full id, when it exists.
    pub id: Option<String>,
    /// What happened.
    #[serde(rename = "result")]
    pub outcome: ActionOutcome,
    /// Why it failed.
    #[serde(serialize_with = "error_summary")]
    pub error: Option<Error>,
}

fn error_summary<S: serde::Serializer>(e: &Option<Error>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Summary<'a> {
        kind: ErrorKind,
        message: &'a str,
    }
    e.as_ref()
        .map(|e| Summary {
            kind: e.kind(),
            message: e.message(),
        })
        .serialize(s)
}

impl ActionResult {
    /// The first failure among `results`, if any.
    pub fn first_error(results: &[ActionResult]) -> Option<&Error> {
        results.iter().find_map(|r| r.error.as_ref())
    }
}

/// The plan for one action on existing containers, by full id. The result
/// lists each target: both engines print each container they handled on
/// stdout (as it was named), and name the others in their errors.
///
/// ```
/// use dockhand::container::{action_plan, Action};
/// use dockhand::EngineKind;
/// let plan = action_plan(EngineKind::Docker, &Action::Stop { timeout: Some(3) }, &["1f5b94cc76ea".into()]);
/// assert_eq!(plan.args(), ["stop", "--time=3", "--", "1f5b94cc76ea"]);
/// ```
pub fn action_plan(
    kind: EngineKind,
    action: &Action,
    ids: &[String],
) -> Plan<Vec<(String, Result<()>)>> {
    let targets = ids.to_vec();
    action_call(kind, action, ids, move |outcome| {
        Ok(per_target(kind, &targets, outcome))
    })
}

/// The one engine call of `action` on `targets`, with `finish` reading its
/// outcome.
fn action_call<T: 'static>(
    kind: EngineKind,
    action: &Action,
    targets: &[String],
    finish: impl FnOnce(Outcome) -> Result<T> + Send + 'static,
) -> Plan<T> {
    let force = matches!(action, Action::Remove { force: true });
    let args = Argv::new(action.verb())
        .opt(
            "--time",
            match action {
                Action::Stop { timeout } => *timeout,
                _ => None,
            },
        )
        .opt(
            "--signal",
            match action {
                Action::Kill { signal } => signal.as_ref(),
                _ => None,
            },
        )
        .flag_if("--force", force)
        .args(
            force
                .then_some(kind.quirks().force_remove_args)
                .into_iter()
                .flatten(),
        )
        .operands(targets);
    let plan = Plan::new(Effect::Mutating, args, finish);
    match action {
        // Not repeatable: a second kill/pause/unpause fails on the state
        // the first one left.
        Action::Kill { .. } | Action::Pause | Action::Unpause => plan.no_retry(),
        _ => plan,
    }
}

/// Whether `action` on `reference` can go to the engine as it is, with no
/// look first: a reference that cannot be an id prefix names one container
/// or none (the engines resolve it as a name), so nothing needs expanding,
/// and one target means no batch for podman to refuse. A restart keeps its
/// look: re-sending one whose answer was lost needs the start times before.
fn acts_by_name(action: &Action, reference: &ContainerRef) -> bool {
    !matches!(action, Action::Restart) && !super::query::looks_like_id_prefix(reference)
}

/// The plan for `action` on one container by its name, in one engine call:
/// what `stop web` costs with the raw CLI. `rm` of a missing container is
/// [`ActionOutcome::Absent`] (both engines exit 0 without naming it for
/// `rm -f`); the result's id is `None`, as the engines do not print it.
///
/// ```
/// use dockhand::container::{action_by_name_plan, Action};
/// use dockhand::{input::ContainerRef, EngineKind};
/// let plan = action_by_name_plan(EngineKind::Podman, &Action::Stop { timeout: None }, &ContainerRef::new("web").unwrap());
/// assert_eq!(plan.args(), ["stop", "--", "web"]);
/// ```
pub fn action_by_name_plan(
    kind: EngineKind,
    action: &Action,
    reference: &ContainerRef,
) -> Plan<ActionResult> {
    let removing = matches!(action, Action::Remove { .. });
    let done = action.done();
    let name = reference.clone();
    action_call(kind, action, &[reference.to_string()], move |outcome| {
        let named = !outcome.output.stdout_text().trim().is_empty();
        let (outcome, error) = match outcome.error {
            None if removing && !named => (ActionOutcome::Absent, None),
            None => (done, None),
            Some(e) if removing && e.kind() == ErrorKind::NotFound => (ActionOutcome::Absent, None),
            Some(e) => (ActionOutcome::Failed, Some(e)),
        };
        Ok(ActionResult {
            name,
            id: None,
            outcome,
            error,
        })
    })
}

/// Each target of an action with how it went.
type PerTarget = Vec<(String, Result<()>)>;

/// The check before re-sending a `restart` whose answer was lost: it took
/// effect when every container's `StartedAt` moved on since `before` (a
/// second `restart` would restart them again).
fn restarted_check(
    before: &[Container],
    ids: &[String],
) -> impl Fn() -> Plan<Option<PerTarget>> + Send + Sync + 'static {
    let started: Vec<(String, Option<String>)> = before
        .iter()
        .map(|c| (c.id.clone(), c.state.started_at.clone()))
        .collect();
    let refs: Vec<ContainerRef> = ids
        .iter()
        .filter_map(|id| ContainerRef::new(id).ok())
        .collect();
    move || {
        let started = started.clone();
        super::query::inspect_plan(&refs).map(move |now| {
            let moved_on = |(id, was): &(String, Option<String>)| {
                now.items.iter().any(|c| {
                    &c.id == id && c.state.started_at.is_some() && c.state.started_at != *was
                })
            };
            started
                .iter()
                .all(moved_on)
                .then(|| started.iter().map(|(id, _)| (id.clone(), Ok(()))).collect())
        })
    }
}

/// Split a batch outcome per target: success for what stdout names, the
/// error lines mentioning a target for the others.
fn per_target(kind: EngineKind, targets: &[String], outcome: Outcome) -> Vec<(String, Result<()>)> {
    let Some(error) = outcome.error else {
        return targets.iter().map(|t| (t.clone(), Ok(()))).collect();
    };
    let stdout = String::from_utf8_lossy(&outcome.output.stdout).into_owned();
    let done: HashSet<&str> = stdout.lines().map(str::trim).collect();
    let failed: Vec<&String> = targets
        .iter()
        .filter(|t| !done.contains(t.as_str()))
        .collect();
    let stderr = error.stderr().to_string();
    targets
        .iter()
        .map(|t| {
            if done.contains(t.as_str()) {
                return (t.clone(), Ok(()));
            }
            let line = stderr
                .lines()
                .find(|l| l.contains(t.as_str()) || l.contains(short_id(t)));
            let own = match (line, failed.len()) {
                (Some(l), _) => {
                    let line_kind = match kind_of(Tool::Engine(kind), l.as_bytes()).0 {
                        ErrorKind::EngineFailure => error.kind(),
                        k => k,
                    };
                    Error::new(line_kind, l.trim()).with_stderr(stderr.as_bytes())
                }
                _ => error.clone(),
            };
            let own = match error.command() {
                Some(c) => own.with_command(c),
                None => own,
            };
            (t.clone(), Err(own))
        })
        .collect()
}

/// `wait -- NAME`: the exit code once the container stops.
///
/// ```
/// let plan = dockhand::container::wait_plan(&dockhand::input::ContainerRef::new("job").unwrap());
/// assert_eq!(plan.args(), ["wait", "--", "job"]);
/// ```
pub fn wait_plan(reference: &ContainerRef) -> Plan<i64> {
    Plan::read(Argv::new("wait").operands([reference]), |out| {
        out.stdout_text()
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| Error::parse("expected an exit code from wait", &out.stdout))
    })
}

/// How a container's last run ended: what `exit-code` and `wait` answer.
/// As JSON: `{"name", "id", "status", "outcome", "exit_code", "oom_killed", "error"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExitReport {
    /// The container's name.
    pub name: String,
    /// Its full id.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// Whether it ran at all.
    pub outcome: ExitOutcome,
    /// The exit code of its process: `None` when it never started. After a
    /// failed start docker records 127 (command not found) or 126; podman
    /// records nothing, so a failed start looks like "never started" there.
    pub exit_code: Option<i64>,
    /// Whether the kernel's OOM killer ended it (reliable on docker; podman
    /// 4.3 on cgroup v1 never sees it, and reports 137).
    pub oom_killed: bool,
    /// The engine's explanation of a failed start (docker).
    pub error: Option<String>,
}

/// Whether a stopped container ever ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitOutcome {
    /// Its process ran and exited with `exit_code`.
    Exited,
    /// It was created and never started.
    NeverStarted,
    /// Its start failed: the process never ran (docker: `created` with
    /// exit code 127/126 and the OCI runtime's error).
    StartFailed,
}

impl ExitOutcome {
    /// The snake_case word, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitOutcome::Exited => "exited",
            ExitOutcome::NeverStarted => "never_started",
            ExitOutcome::StartFailed => "start_failed",
        }
    }
}

impl ExitReport {
    /// The report for an inspected container; Conflict while it still runs
    /// (running, paused, restarting).
    ///
    /// ```
    /// # let doc = std::fs::read("vendor-docs/captures/docker/inspect-exit-states.json").unwrap();
    /// use dockhand::container::{parse_inspect, ExitOutcome, ExitReport};
    /// let states = parse_inspect(&doc).unwrap();
    /// let report = |name: &str| ExitReport::of(states.iter().find(|c| c.name == name).unwrap()).unwrap();
    /// assert_eq!(report("dhf-ec-created").outcome, ExitOutcome::NeverStarted);
    /// assert_eq!(report("dhf-ec-created").exit_code, None);
    /// assert_eq!(report("dhf-ec-startfail").outcome, ExitOutcome::StartFailed);
    /// assert_eq!(report("dhf-ec-startfail").exit_code, Some(127));
    /// assert_eq!(report("dhf-ec-three").exit_code, Some(3));
    /// ```
    pub fn of(c: &Container) -> Result<ExitReport> {
        let s = &c.state;
        if matches!(
            s.status,
            Status::Running | Status::Paused | Status::Restarting
        ) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("container {} is still {}", c.name, s.status.as_str()),
            ));
        }
        let error = (!s.error.is_empty()).then(|| s.error.clone());
        let never_started = s.status == Status::Created && s.started_at.is_none();
        let (outcome, exit_code) = match never_started {
            true if s.exit_code != 0 || error.is_some() => {
                (ExitOutcome::StartFailed, Some(s.exit_code))
            }
            true => (ExitOutcome::NeverStarted, None),
            false => (ExitOutcome::Exited, Some(s.exit_code)),
        };
        Ok(ExitReport {
            name: c.name.clone(),
            id: c.id.clone(),
            status: s.status,
            outcome,
            exit_code,
            oom_killed: s.oom_killed,
            error,
        })
    }

    /// Whether the container's process ever ran.
    pub fn ran(&self) -> bool {
        self.outcome == ExitOutcome::Exited
    }
}

/// New resource limits for [`Containers::update`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateOptions {
    /// `--cpu-shares`.
    pub cpu_shares: Option<u64>,
    /// `--cpus`.
    pub cpus: Option<Cpus>,
    /// `--memory`.
    pub memory: Option<MemorySize>,
}

/// `update` of one container's limits; InvalidInput when nothing is set.
/// A new memory limit comes with a swap limit of twice that (the default
/// of `run`), because docker on cgroup v1 refuses a memory limit above the
/// existing swap limit (`vendor-docs/captures/docker/err-update-memory-without-swap.stderr.txt`).
///
/// ```
/// use dockhand::container::{update_plan, UpdateOptions};
/// use dockhand::input::{ContainerRef, MemorySize};
/// let o = UpdateOptions { memory: Some(MemorySize::new("64m").unwrap()), ..UpdateOptions::default() };
/// let plan = update_plan(&ContainerRef::new("web").unwrap(), &o).unwrap();
/// assert_eq!(plan.args(), ["update", "--memory=67108864", "--memory-swap=134217728", "--", "web"]);
/// ```
pub fn update_plan(reference: &ContainerRef, opts: &UpdateOptions) -> Result<Plan<()>> {
    if opts.cpu_shares.is_none() && opts.cpus.is_none() && opts.memory.is_none() {
        return Err(Error::invalid_input(
            "update needs at least one of --cpu-shares, --cpus, --memory",
        ));
    }
    let args = Argv::new("update")
        .opt("--cpu-shares", opts.cpu_shares)
        .opt("--cpus", opts.cpus)
        .opt("--memory", opts.memory.map(|m| m.bytes()))
        .opt(
            "--memory-swap",
            opts.memory.map(|m| m.bytes().saturating_mul(2)),
        )
        .operands([reference]);
    Ok(Plan::write(args, |_| Ok(())))
}

/// The stopped containers `cleanup` removes: names starting with `prefix`,
/// exited or dead, all but the newest `keep` (by creation time).
///
/// ```
/// # let doc = std::fs::read("vendor-docs/captures/docker/containers-inspect-exited.json").unwrap();
/// let found = dockhand::container::parse_inspect(&doc).unwrap();
/// assert_eq!(dockhand::container::cleanup_victims(found.clone(), "dhcap-", 0).len(), 1);
/// assert!(dockhand::container::cleanup_victims(found, "dhcap-", 1).is_empty());
/// ```
pub fn cleanup_victims(found: Vec<Container>, prefix: &str, keep: usize) -> Vec<Container> {
    let mut stopped: Vec<Container> = found
        .into_iter()
        .filter(|c| c.name.starts_with(prefix) && c.state.status.is_stopped())
        .collect();
    stopped.sort_by_key(|c| std::cmp::Reverse(c.created_unix_nanos()));
    stopped.into_iter().skip(keep).collect()
}

impl Containers<'_> {
    /// Apply `action` to every container named: one `inspect` and one
    /// action call for any number, under the per-name locks. Missing names
    /// fail with NotFound, except for `Remove`, where they are `Absent`.
    ///
    /// ```no_run
    /// use dockhand::{container::{Action, ActionResult}, input::ContainerRef, Engine};
    /// let results = Engine::detect()?.containers().act(&Action::Stop { timeout: Some(5) }, &ContainerRef::many(["web", "db"])?)?;
    /// if let Some(e) = ActionResult::first_error(&results) { eprintln!("{e}"); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn act(&self, action: &Action, refs: &[ContainerRef]) -> Result<Vec<ActionResult>> {
        let _locks = lock_names(self.engine, refs)?;
        if let [one] = refs {
            if acts_by_name(action, one) && !self.engine.is_dry_run() {
                let plan = self
                    .with_stop_time(action, action_by_name_plan(self.engine.kind(), action, one));
                return Ok(vec![self.engine.run(plan)?]);
            }
        }
        let seen = self.inspect(refs)?;
        let mut ids: Vec<String> = Vec::new();
        for c in &seen.items {
            if !ids.contains(&c.id) {
                ids.push(c.id.clone());
            }
        }
        let mut plan = self.with_stop_time(action, action_plan(self.engine.kind(), action, &ids));
        if matches!(action, Action::Restart) {
            plan = plan.verify_before_retry(restarted_check(&seen.items, &ids));
        }
        let by_id = match ids.is_empty() {
            true => Vec::new(),
            false => self.engine.run(plan)?,
        };
        let done = match self.engine.is_dry_run() {
            true => ActionOutcome::Planned,
            false => action.done(),
        };
        Ok(refs
            .iter()
            .map(|r| result_for(action, done, r, &seen, &by_id))
            .collect())
    }

    /// `plan` with room for a stop's grace period on top of the engine's
    /// timeout: the engine waits up to `t` seconds per container, in parallel.
    fn with_stop_time<T: 'static>(&self, action: &Action, plan: Plan<T>) -> Plan<T> {
        match (action, self.engine.limits().timeout) {
            (Action::Stop { timeout: Some(t) }, Some(base)) => {
                plan.timeout(Some(base + Duration::from_secs(u64::from(*t))))
            }
            _ => plan,
        }
    }

    /// Remove containers (`force`: running ones too): [`Containers::act`]
    /// with [`Action::Remove`]. A missing one is [`ActionOutcome::Absent`].
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let results = Engine::detect()?.containers().remove(&ContainerRef::many(["web", "db"])?, true)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn remove(&self, refs: &[ContainerRef], force: bool) -> Result<Vec<ActionResult>> {
        self.act(&Action::Remove { force }, refs)
    }

    /// Wait until the container stops; the engine's exit code. The engine's
    /// timeout applies (a Timeout error when it is still running then). Both
    /// engines answer 0 at once for a container that never started: use
    /// [`Containers::wait_exit`] to tell that apart.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let code = Engine::detect()?.containers().wait(&ContainerRef::new("job")?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn wait(&self, reference: &ContainerRef) -> Result<i64> {
        self.engine.run(wait_plan(reference))
    }

    /// Wait until the container stops, then report how it ended (one more
    /// `inspect`): a container that never started is
    /// [`ExitOutcome::NeverStarted`], not exit code 0.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let report = Engine::detect()?.containers().wait_exit(&ContainerRef::new("job")?)?;
    /// match report.exit_code {
    ///     Some(code) if report.ran() => println!("exited with {code}"),
    ///     _ => println!("never ran ({})", report.outcome.as_str()),
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn wait_exit(&self, reference: &ContainerRef) -> Result<ExitReport> {
        let code = self.wait(reference)?;
        match self.inspect_one(reference) {
            Ok(c) => ExitReport::of(&c),
            // Removed as it exited (`--rm`): the engine's code is all there is.
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(ExitReport {
                name: reference.to_string(),
                id: String::new(),
                status: Status::Exited,
                outcome: ExitOutcome::Exited,
                exit_code: Some(code),
                oom_killed: false,
                error: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// How a stopped container's last run ended ([`ExitReport`]): its exit
    /// code, or that it never started or failed to start. Conflict while it
    /// is still running, paused or restarting.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let report = Engine::detect()?.containers().exit_code(&ContainerRef::new("job")?)?;
    /// println!("{:?} ({})", report.exit_code, report.outcome.as_str());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn exit_code(&self, reference: &ContainerRef) -> Result<ExitReport> {
        ExitReport::of(&self.inspect_one(reference)?)
    }

    /// Change a container's CPU and memory limits (under its lock).
    ///
    /// ```no_run
    /// use dockhand::{container::UpdateOptions, input::ContainerRef, Engine};
    /// let o = UpdateOptions { cpu_shares: Some(512), ..UpdateOptions::default() };
    /// Engine::detect()?.containers().update(&ContainerRef::new("web")?, &o)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn update(&self, reference: &ContainerRef, opts: &UpdateOptions) -> Result<()> {
        let plan = update_plan(reference, opts)?;
        let _locks = lock_names(self.engine, [reference])?;
        self.engine.run(plan)
    }

    /// Remove the stopped (exited or dead) containers whose names start
    /// with `prefix`, keeping the newest `keep`; `keep == 0` removes them all.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let removed = Engine::detect()?.containers().cleanup(&ContainerRef::new("build-")?, 3)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn cleanup(&self, prefix: &ContainerRef, keep: usize) -> Result<Vec<ActionResult>> {
        let candidates = self.list(&PsQuery {
            all: true,
            filters: vec![KeyValue::pair("name", prefix.as_str())?],
            labels: Vec::new(),
        })?;
        let victims = cleanup_victims(candidates, prefix.as_str(), keep);
        let names = ContainerRef::many(victims.into_iter().map(|c| c.name))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        // Not forced: a container started meanwhile is left alone (and reported).
        self.act(&Action::Remove { force: false }, &names)
    }

    /// Force-remove every container carrying all of `labels`, or every
    /// container at all when `labels` is empty (a factory reset).
    ///
    /// ```no_run
    /// use dockhand::{input::KeyValue, Engine};
    /// let removed = Engine::detect()?.containers().reset(&[KeyValue::new("label", "app=kiosk")?])?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn reset(&self, labels: &[KeyValue]) -> Result<Vec<ActionResult>> {
        let doomed = self.find_by_labels(labels)?;
        let names = ContainerRef::many(doomed.into_iter().map(|c| c.name))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.act(&Action::Remove { force: true }, &names)
    }
}

fn result_for(
    action: &Action,
    done: ActionOutcome,
    reference: &ContainerRef,
    seen: &Found<Container>,
    by_id: &[(String, Result<()>)],
) -> ActionResult {
    let Some(container) = seen.get(reference.as_str()) else {
        let (outcome, error) = match action {
            Action::Remove { .. } => (ActionOutcome::Absent, None),
            _ => (
                ActionOutcome::Failed,
                Some(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "no such container: {}",
                        join(std::slice::from_ref(reference))
                    ),
                )),
            ),
        };
        return ActionResult {
            name: reference.clone(),
            id: None,
            outcome,
            error,
        };
    };
    let result = by_id
        .iter()
        .find(|(id, _)| *id == container.id)
        .map(|(_, r)| r.clone())
        .unwrap_or(Ok(()));
    let (outcome, error) = match result {
        Ok(()) => (done, None),
        // Removed by someone else between our inspect and our rm.
        Err(e) if e.kind() == ErrorKind::NotFound && matches!(action, Action::Remove { .. }) => {
            (ActionOutcome::Absent, None)
        }
        Err(e) => (ActionOutcome::Failed, Some(e)),
    };
    ActionResult {
        name: reference.clone(),
        id: Some(container.id.clone()),
        outcome,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Cmd;
    use crate::testing;

    fn outcome(code: i32, stdout: &str, stderr: &str) -> Outcome {
        let podman = Tool::Engine(EngineKind::Podman);
        let (out, err) = (stdout.as_bytes(), stderr.as_bytes());
        testing::outcome(podman, &Cmd::new("podman"), code, out, err)
    }

    const A: &str = "79be45c397783d17ee20741d5d44ed55f7d4c7e6f734b1ee23676e510f07b491";
    const B: &str = "4a8aeafcf831af7ec4baee35aa8ab944feb8c9666411b115bdcc80819c0b81bd";

    #[test]
    fn errors_are_attributed_to_the_container_they_name() {
        // Real podman text (rm of two running containers, one already gone).
        let o = outcome(
            2,
            "",
            &format!("Error: cannot remove container {A} as it is running - running or paused containers cannot be removed without force: container state improper\n"),
        );
        let r = per_target(EngineKind::Podman, &[A.into(), B.into()], o);
        assert_eq!(r[0].1.as_ref().unwrap_err().kind(), ErrorKind::Conflict);
        assert!(r[0]
            .1
            .as_ref()
            .unwrap_err()
            .message()
            .contains("as it is running"));
        // B is named nowhere and printed nowhere: it gets the whole error.
        assert!(r[1].1.is_err());
    }

    #[test]
    fn one_container_by_name_reads_absent_and_failed_from_the_one_call() {
        let web = ContainerRef::new("web").unwrap();
        let run = |action: &Action, o: Outcome| {
            action_by_name_plan(EngineKind::Podman, action, &web)
                .parse_outcome(o)
                .unwrap()
        };
        let rm = Action::Remove { force: true };
        assert_eq!(
            run(&rm, outcome(0, "web\n", "")).outcome,
            ActionOutcome::Removed
        );
        // `rm -f` of a missing container: exit 0, nothing named.
        assert_eq!(run(&rm, outcome(0, "", "")).outcome, ActionOutcome::Absent);
        let missing = "Error: no container with name or ID \"web\" found: no such container\n";
        let r = run(&Action::Remove { force: false }, outcome(1, "", missing));
        assert_eq!(
            (r.outcome, r.error.is_none()),
            (ActionOutcome::Absent, true)
        );
        let r = run(&Action::Stop { timeout: None }, outcome(125, "", missing));
        assert_eq!(r.outcome, ActionOutcome::Failed);
        assert_eq!(r.error.unwrap().kind(), ErrorKind::NotFound);
        let r = run(&Action::Stop { timeout: None }, outcome(0, "web\n", ""));
        assert_eq!((r.outcome, r.id), (ActionOutcome::Stopped, None));
    }

    #[test]
    fn only_a_single_name_that_cannot_be_an_id_prefix_skips_the_look() {
        let stop = Action::Stop { timeout: None };
        assert!(acts_by_name(&stop, &ContainerRef::new("web").unwrap()));
        assert!(!acts_by_name(&stop, &ContainerRef::new("cafe").unwrap()));
        assert!(!acts_by_name(
            &Action::Restart,
            &ContainerRef::new("web").unwrap()
        ));
    }

    #[test]
    fn an_id_that_is_not_hex_does_not_crash_the_attribution() {
        // Regression (fuzzing): the 12-character short id was cut by bytes
        // and panicked when the engine's id had a multi-byte character there.
        let odd = "0123456789a\u{20ac}bcdef";
        let o = outcome(125, "", "Error: no container with name or ID \"x\" found\n");
        let r = per_target(EngineKind::Podman, &[odd.into()], o);
        assert!(r[0].1.is_err());
    }

    #[test]
    fn what_stdout_names_succeeded() {
        let o = outcome(
            125,
            &format!("{B}\n"),
            "Error: \"created\" is not running, can't pause: container state improper\n",
        );
        let r = per_target(EngineKind::Podman, &[A.into(), B.into()], o);
        assert!(r[1].1.is_ok());
        // The error does not name A, but A is the only one that failed.
        assert_eq!(r[0].1.as_ref().unwrap_err().kind(), ErrorKind::Conflict);
    }

    #[test]
    fn plans_use_flag_words_and_kill_is_not_retried() {
        let ids = [A.to_string()];
        let kill = action_plan(
            EngineKind::Podman,
            &Action::Kill {
                signal: Some(Signal::new("hup").unwrap()),
            },
            &ids,
        );
        assert_eq!(kill.args(), ["kill", "--signal=HUP", "--", A]);
        assert!(matches!(kill.retry, crate::engine::plan::Retry::Never));
        assert_eq!(
            action_plan(EngineKind::Docker, &Action::Remove { force: true }, &ids).args(),
            ["rm", "--force", "--", A]
        );
        assert_eq!(
            action_plan(EngineKind::Podman, &Action::Remove { force: true }, &ids).args(),
            ["rm", "--force", "--time=0", "--", A]
        );
        assert!(update_plan(&ContainerRef::new("x").unwrap(), &UpdateOptions::default()).is_err());
    }

    #[test]
    fn cleanup_keeps_the_newest_and_only_touches_stopped_with_the_prefix() {
        let mut all = Vec::new();
        for engine in ["docker", "podman"] {
            for slug in ["full", "exited", "created", "paused", "restarting"] {
                let doc = testing::capture(&format!("{engine}/containers-inspect-{slug}.json"));
                all.extend(crate::container::parse_inspect(&doc).unwrap());
            }
        }
        let victims = cleanup_victims(all.clone(), "dhcap-", 0);
        let names: Vec<&str> = victims.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["dhcap-exited", "dhcap-exited"],
            "exited only (podman's is newer)"
        );
        assert_eq!(
            victims[0].raw["Image"].as_str().unwrap().len(),
            64,
            "podman first: newest"
        );
        let kept_one = cleanup_victims(all.clone(), "dhcap-", 1);
        assert_eq!(kept_one.len(), 1);
        assert!(kept_one[0].image_id.starts_with("sha256:"));
        assert!(cleanup_victims(all, "other-", 0).is_empty());
    }
}

//! Host network plumbing for containers: run commands in a container's
//! network namespace, show what is in it, and attach interfaces — veth
//! pairs, macvlans, host interfaces moved in — all or nothing.
//!
//! Everything runs the host's `ip` (and `iw`) as subprocesses; commands for
//! a container's namespace go through `nsenter --target PID --net -- …`
//! (never an in-process `setns`, never `docker exec`: the image need not
//! have `ip`). Each change is a list of [`link::Step`]s: applied in order,
//! and on a failure the steps already done are undone in reverse and the
//! error names the step that failed. Teardowns go on past a failing step
//! and report every failure. What dockhand attached is recorded in the
//! interface alias ([`link::Record`]), so `link ls`, `link del` and
//! `link release-orphans` read the kernel's state, not a file.
//!
//! ```no_run
//! use dockhand::input::{Addressing, ContainerRef, IfName};
//! use dockhand::netns::link::VethSpec;
//!
//! let engine = dockhand::Engine::detect()?;
//! let web = ContainerRef::new("web")?;
//! let change = engine.netns().add_veth(&web, &VethSpec {
//!     ifname: IfName::new("eth1")?,
//!     host_if: None,
//!     addressing: Addressing::new(vec!["10.1.0.2/24".parse()?], Some("10.1.0.1".parse()?))?,
//!     mtu: None,
//!     mac: None,
//!     bridge: Some(IfName::new("br-lan")?),
//! })?;
//! println!("{:?}: host end {}", change.result, change.record.host_if);
//! # Ok::<(), dockhand::Error>(())
//! ```

pub mod ip;
pub mod link;

use std::ffi::OsString;

use serde::{Deserialize, Serialize};

use crate::decode::json::{lenient_string, parse_json};
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, Engine};
use crate::error::{Error, ErrorKind, ExitStatus, Result};
use crate::input::{ContainerRef, IfName};
use ip::{Family, Link, Namespace, Route};
use link::{AttachPlan, Attached, MacvlanSpec, MoveSpec, Orphan, Record, Snapshot, Step, VethSpec};

/// Host network plumbing for containers: namespace exec and show, and the interfaces dockhand attaches. A small borrowed handle: `engine.netns()`.
///
/// ```no_run
/// let view = dockhand::Engine::detect()?.netns().show(&"web".parse()?)?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Netns<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// Host network plumbing: `exec`/`show` in a container's network namespace, and `add_veth`, `add_macvlan`, `move_in`, `remove`, `list`, `release_orphans` of interfaces.
    ///
    /// ```no_run
    /// let attached = dockhand::Engine::detect()?.netns().list(&"web".parse()?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn netns(&self) -> Netns<'_> {
        Netns { engine: self }
    }
}

/// A running container as netns plumbing needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunningContainer {
    /// The name or id the caller gave.
    pub name: ContainerRef,
    /// The full container id.
    pub id: String,
    /// PID of its init process (in the host's PID namespace).
    pub pid: u32,
}

#[derive(Deserialize)]
struct InspectDoc {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "State")]
    state: StateDoc,
}

#[derive(Deserialize)]
struct StateDoc {
    #[serde(rename = "Status", default, deserialize_with = "lenient_string")]
    status: String,
    #[serde(rename = "Running", default)]
    running: bool,
    #[serde(rename = "Paused", default)]
    paused: bool,
    #[serde(rename = "Pid", default)]
    pid: i64,
    #[serde(rename = "ExitCode", default)]
    exit_code: i64,
    #[serde(rename = "Error", default, deserialize_with = "lenient_string")]
    error: String,
}

/// The plan finding a running container's id and init PID: one
/// `inspect --type container` of its id and `State`.
///
/// A missing container is [`ErrorKind::NotFound`]; one that is not running
/// is [`ErrorKind::Conflict`] (its network namespace exists only while it
/// runs). Paused counts as running: the namespace is there (docker reports
/// a paused container as running, podman does not).
///
/// ```
/// use dockhand::input::ContainerRef;
/// let plan = dockhand::netns::running_container_plan(&ContainerRef::new("web").unwrap());
/// assert_eq!(plan.args()[..3], ["inspect", "--type", "container"]);
/// ```
// This is the only place netns asks the engine about a container. At merge
// time it switches to the container API of issue 3 (its typed inspect).
pub fn running_container_plan(container: &ContainerRef) -> Plan<RunningContainer> {
    let name = container.clone();
    Plan::read(
        Argv::new("inspect")
            .args(["--type", "container", "--format"])
            .arg(r#"{"Id":{{json .ID}},"State":{{json .State}}}"#)
            .operands([container]),
        move |out| {
            let doc: InspectDoc = parse_json(&out.stdout)?;
            let s = doc.state;
            match u32::try_from(s.pid) {
                Ok(pid) if pid > 0 && (s.running || s.paused) => Ok(RunningContainer {
                    name,
                    id: doc.id,
                    pid,
                }),
                _ => {
                    let mut why = format!("status {}", s.status);
                    if s.status == "exited" {
                        why.push_str(&format!(", exit code {}", s.exit_code));
                    }
                    if !s.error.is_empty() {
                        why.push_str(&format!(", error: {}", s.error));
                    }
                    Err(Error::new(
                        ErrorKind::Conflict,
                        format!(
                            "container {name} is not running ({why}); its network namespace exists only while it runs"
                        ),
                    ))
                }
            }
        },
    )
}

/// The namespaces `netns exec` enters besides the network one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlsoEnter {
    /// The mount namespace (the container's files; the command is looked
    /// up in the container).
    pub mount: bool,
    /// The UTS namespace (hostname).
    pub uts: bool,
    /// The IPC namespace.
    pub ipc: bool,
    /// The PID namespace.
    pub pid: bool,
}

/// The plan for `nsenter --target PID --net [--mount …] -- COMMAND…`.
/// It has no timeout (the command is the caller's) and is never retried.
///
/// ```
/// use dockhand::netns::{exec_plan, AlsoEnter};
/// let ns = AlsoEnter { uts: true, ..AlsoEnter::default() };
/// let plan = exec_plan(42, ns, &["hostname".into()]).unwrap();
/// assert_eq!(plan.args(), ["--target", "42", "--net", "--uts", "--", "hostname"]);
/// assert!(exec_plan(42, ns, &[]).is_err());
/// ```
pub fn exec_plan(pid: u32, also: AlsoEnter, command: &[OsString]) -> Result<Plan<()>> {
    check_command(command)?;
    let args = Argv::new("--target")
        .arg(pid.to_string())
        .flag("--net")
        .flag_if("--mount", also.mount)
        .flag_if("--uts", also.uts)
        .flag_if("--ipc", also.ipc)
        .flag_if("--pid", also.pid)
        .operands(command);
    Ok(
        Plan::new(Effect::Mutating, args, |o| o.into_result().map(drop))
            .on_host("nsenter")
            .no_retry()
            .timeout(None),
    )
}

/// Refuse an empty command (or an empty program name).
fn check_command(command: &[OsString]) -> Result<()> {
    match command.first() {
        Some(program) if !program.is_empty() => Ok(()),
        _ => Err(Error::invalid_input(
            "give the command to run after `--`, e.g. `-- ip addr`",
        )),
    }
}

/// What `netns show` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NetnsView {
    /// The container.
    pub container: RunningContainer,
    /// Its links with their addresses.
    pub links: Vec<Link>,
    /// Its IPv4 and IPv6 routes (main table).
    pub routes: Vec<Route>,
}

/// What a link command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeResult {
    /// Created (veth, macvlan) or moved in.
    Created,
    /// Already there exactly as asked; nothing ran.
    Unchanged,
    /// Deleted (veth, macvlan).
    Removed,
    /// Given back to the host under its original name.
    Returned,
}

/// The result of `link add` / `move` / `del`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LinkChange {
    /// The container.
    pub container: RunningContainer,
    /// The attachment.
    #[serde(flatten)]
    pub record: Record,
    /// What happened.
    pub result: ChangeResult,
    /// The commands that ran (in a dry run: would run), shell-quoted, in order.
    pub commands: Vec<String>,
    /// A dry run: the commands were printed, nothing changed.
    pub dry_run: bool,
}

/// One orphan `link release-orphans` found, and how releasing it went.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Released {
    /// The interface.
    pub orphan: Orphan,
    /// The commands that ran, or why it could not be released.
    pub result: Result<Vec<String>>,
}

impl Netns<'_> {
    /// The running container `container` (id and init PID); see
    /// [`running_container_plan`].
    ///
    /// ```no_run
    /// let c = dockhand::Engine::detect()?.netns().running_container(&"web".parse()?)?;
    /// println!("pid {}", c.pid);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn running_container(&self, container: &ContainerRef) -> Result<RunningContainer> {
        self.engine.run(running_container_plan(container))
    }

    /// Run `command` in the container's network namespace (and the other
    /// namespaces asked for) with the terminal's stdin/stdout/stderr, once:
    /// no retry, no fallback. Returns the command's exit status.
    ///
    /// ```no_run
    /// use dockhand::netns::AlsoEnter;
    /// let engine = dockhand::Engine::detect()?;
    /// let status = engine.netns().exec(&"web".parse()?, AlsoEnter::default(), &["ip".into(), "addr".into()])?;
    /// std::process::exit(status.code().unwrap_or(1));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn exec(
        &self,
        container: &ContainerRef,
        also: AlsoEnter,
        command: &[OsString],
    ) -> Result<ExitStatus> {
        check_command(command)?;
        let target = self.running_container(container)?;
        let plan = exec_plan(target.pid, also, command)?;
        self.engine.run_attached(plan, true)
    }

    /// The container's links, addresses and routes, from the host's
    /// `ip -j` run in its namespace.
    ///
    /// ```no_run
    /// let view = dockhand::Engine::detect()?.netns().show(&"web".parse()?)?;
    /// for l in &view.links { println!("{} {:?}", l.name, l.addresses); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn show(&self, container: &ContainerRef) -> Result<NetnsView> {
        let target = self.running_container(container)?;
        let ns = Namespace::Of(target.pid);
        let links = self.engine.run(ns.links())?;
        let routes = self.routes(ns)?;
        Ok(NetnsView {
            container: target,
            links,
            routes,
        })
    }

    /// Give the container a veth pair's end (see [`link::plan_veth`]).
    /// All or nothing; the same add again is [`ChangeResult::Unchanged`];
    /// an add that clashes with what exists is [`ErrorKind::Conflict`].
    ///
    /// ```no_run
    /// # use dockhand::{input::*, netns::link::VethSpec};
    /// let spec = VethSpec { ifname: IfName::new("eth1")?, host_if: None, addressing: Addressing::default(),
    ///                       mtu: None, mac: None, bridge: None };
    /// dockhand::Engine::detect()?.netns().add_veth(&"web".parse()?, &spec)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn add_veth(&self, container: &ContainerRef, spec: &VethSpec) -> Result<LinkChange> {
        let (target, _lock) = self.locked(container)?;
        let snapshot = self.snapshot(&target, true)?;
        let (record, decision) = link::plan_veth(&target, spec, &snapshot)?;
        self.carry_out(target, record, decision)
    }

    /// Give the container a macvlan on a host interface (see
    /// [`link::plan_macvlan`]); all or nothing, idempotent.
    ///
    /// ```no_run
    /// # use dockhand::{input::*, netns::link::MacvlanSpec};
    /// let spec = MacvlanSpec { parent: IfName::new("eth0")?, ifname: IfName::new("lan")?,
    ///                          mode: MacvlanMode::Bridge, addressing: Addressing::default() };
    /// dockhand::Engine::detect()?.netns().add_macvlan(&"web".parse()?, &spec)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn add_macvlan(&self, container: &ContainerRef, spec: &MacvlanSpec) -> Result<LinkChange> {
        let (target, _lock) = self.locked(container)?;
        let snapshot = self.snapshot(&target, true)?;
        let (record, decision) = link::plan_macvlan(&target, spec, &snapshot)?;
        self.carry_out(target, record, decision)
    }

    /// Move a host interface into the container (see [`link::plan_move`]).
    /// A wireless interface moves with its phy through `iw`; when `iw` is
    /// not installed that is an [`ErrorKind::EngineMissing`] error before
    /// anything changes.
    ///
    /// ```no_run
    /// # use dockhand::{input::*, netns::link::MoveSpec};
    /// let spec = MoveSpec { host_if: IfName::new("enp3s0")?, ifname: Some(IfName::new("wan")?),
    ///                       addressing: Addressing::default() };
    /// dockhand::Engine::detect()?.netns().move_in(&"router".parse()?, &spec)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn move_in(&self, container: &ContainerRef, spec: &MoveSpec) -> Result<LinkChange> {
        let (target, _lock) = self.locked(container)?;
        let phy = wireless_phy(&spec.host_if);
        if let Some(phy) = &phy {
            require_iw(spec.host_if.as_str(), phy)?;
        }
        let snapshot = self.snapshot(&target, true)?;
        let (record, decision) =
            link::plan_move(&target, spec, phy.as_deref(), home_pid(), &snapshot)?;
        self.carry_out(target, record, decision)
    }

    /// Remove what dockhand attached as `ifname` (see [`link::plan_del`]):
    /// a veth or macvlan is deleted, a moved interface goes back to the
    /// host, down, under its original name. Goes on past a failing step and
    /// reports every failure.
    ///
    /// ```no_run
    /// dockhand::Engine::detect()?.netns().remove(&"web".parse()?, &dockhand::input::IfName::new("eth1")?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn remove(&self, container: &ContainerRef, ifname: &IfName) -> Result<LinkChange> {
        let (target, _lock) = self.locked(container)?;
        let snapshot = self.snapshot(&target, false)?;
        let (record, steps) = link::plan_del(&target, ifname, home_pid(), &snapshot)?;
        if let Some(phy) = &record.phy {
            require_iw(&record.ifname, phy)?;
        }
        let commands = self.teardown(steps)?;
        let result = match record.kind {
            link::AttachKind::Moved => ChangeResult::Returned,
            _ => ChangeResult::Removed,
        };
        Ok(LinkChange {
            container: target,
            record,
            result,
            commands,
            dry_run: self.engine.is_dry_run(),
        })
    }

    /// The interfaces dockhand attached to the container.
    ///
    /// ```no_run
    /// let (_, links) = dockhand::Engine::detect()?.netns().list(&"web".parse()?)?;
    /// for a in links { println!("{} {} {}", a.record.ifname, a.record.kind, a.record.host_if); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn list(&self, container: &ContainerRef) -> Result<(RunningContainer, Vec<Attached>)> {
        let target = own_netns(self.running_container(container)?)?;
        let links = self.engine.run(Namespace::Of(target.pid).links())?;
        Ok((target, link::attached(&links)))
    }

    /// Give interfaces that came back to the host when their container went
    /// away (under kernel names such as `dev181`) their original names back,
    /// found by their dockhand record. Each orphan is released on its own;
    /// one that fails does not stop the others.
    ///
    /// ```no_run
    /// for r in dockhand::Engine::detect()?.netns().release_orphans()? {
    ///     println!("{} -> {}: {:?}", r.orphan.found_as, r.orphan.original, r.result.is_ok());
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn release_orphans(&self) -> Result<Vec<Released>> {
        let host = self.engine.run(Namespace::Host.links())?;
        Ok(link::plan_release_orphans(&host)
            .into_iter()
            .map(|(orphan, steps)| Released {
                orphan,
                result: steps.and_then(|s| self.teardown(s)),
            })
            .collect())
    }

    /// The running container with its own namespace, and the container's
    /// lock (by the reference given and by its id) held for a change: a
    /// concurrent identical change then finds this one's result, complete.
    fn locked(
        &self,
        container: &ContainerRef,
    ) -> Result<(RunningContainer, Option<crate::container::lock::LockSet>)> {
        let target = own_netns(self.running_container(container)?)?;
        let id = ContainerRef::new(&target.id)?;
        let lock = crate::container::lock_names(self.engine, [container, &id])?;
        Ok((target, lock))
    }

    fn routes(&self, ns: Namespace) -> Result<Vec<Route>> {
        let mut routes = self.engine.run(ns.routes(Family::Inet))?;
        routes.extend(self.engine.run(ns.routes(Family::Inet6))?);
        Ok(routes)
    }

    /// Host links, container links and (when a decision needs them) routes.
    fn snapshot(&self, target: &RunningContainer, with_routes: bool) -> Result<Snapshot> {
        let ns = Namespace::Of(target.pid);
        Ok(Snapshot {
            host: self.engine.run(Namespace::Host.links())?,
            container: self.engine.run(ns.links())?,
            routes: if with_routes {
                self.routes(ns)?
            } else {
                Vec::new()
            },
        })
    }

    fn carry_out(
        &self,
        container: RunningContainer,
        record: Record,
        decision: AttachPlan,
    ) -> Result<LinkChange> {
        let (result, commands) = match decision {
            AttachPlan::Unchanged => (ChangeResult::Unchanged, Vec::new()),
            AttachPlan::Apply(steps) => (ChangeResult::Created, self.apply(&container, steps)?),
        };
        Ok(LinkChange {
            container,
            record,
            result,
            commands,
            dry_run: self.engine.is_dry_run(),
        })
    }

    /// Run `steps` in order; when one fails (or an interrupt stops them),
    /// undo the finished ones in reverse and fail with the step's error,
    /// naming the step and what the rollback did.
    fn apply(&self, container: &RunningContainer, steps: Vec<Step>) -> Result<Vec<String>> {
        let total = steps.len();
        let mut done: Vec<(String, Plan<()>)> = Vec::new();
        let mut commands = Vec::new();
        for (i, Step { what, plan, undo }) in steps.into_iter().enumerate() {
            let command = self.engine.prepare(&plan).0.to_string();
            if let Err(e) = self.engine.run(plan) {
                let rollback = self.roll_back(container, done);
                let message = format!(
                    "step {}/{total} failed ({what}): {}; {rollback}",
                    i + 1,
                    e.message()
                );
                return Err(e.with_message(message));
            }
            commands.push(command);
            if let Some(undo) = undo {
                done.push((what, undo));
            }
        }
        Ok(commands)
    }

    /// Undo finished steps, last first, even after SIGINT/SIGTERM/SIGHUP
    /// (within [`ROLLBACK_DEADLINE`]); says truthfully what happened.
    fn roll_back(&self, container: &RunningContainer, done: Vec<(String, Plan<()>)>) -> String {
        if done.is_empty() {
            return "nothing had changed".to_string();
        }
        let undoer = self.engine.for_rollback(ROLLBACK_DEADLINE);
        let mut undone = Vec::new();
        let mut gone = Vec::new();
        let mut failed = Vec::new();
        for (what, undo) in done.into_iter().rev() {
            let on_host = undo.program() != &crate::engine::plan::Program::Host("nsenter".into());
            match undoer.run(undo) {
                Ok(()) => undone.push(what),
                // A host-side object that is not there any more (a veth
                // pair goes with the namespace of a container that died):
                // what the step made is gone.
                Err(e) if e.kind() == ErrorKind::NotFound && on_host => gone.push(what),
                Err(e) => failed.push(format!("undoing \"{what}\" failed: {e}")),
            }
        }
        let mut parts = Vec::new();
        if !undone.is_empty() {
            parts.push(format!("undone: {}", undone.join("; ")));
        }
        if !gone.is_empty() {
            parts.push(format!("already gone: {}", gone.join("; ")));
        }
        let mut text = format!("rolled back ({})", parts.join("; "));
        if !failed.is_empty() {
            let mut hint = String::from("clean up by hand");
            // Its namespace is unreachable once its init process is gone.
            if std::fs::metadata(format!("/proc/{}/ns/net", container.pid)).is_err() {
                hint = format!(
                    "container {} is gone: an interface moved into it came back to the host \
                     under a kernel name (devN) if it is physical, and was destroyed if it is \
                     virtual; `dockhand link release-orphans` gives a returned one its name back",
                    container.name
                );
            }
            text = match parts.is_empty() {
                true => format!("ROLLBACK INCOMPLETE, {hint}: {}", failed.join("; ")),
                false => format!("ROLLBACK INCOMPLETE, {hint}: {}; {text}", failed.join("; ")),
            };
        }
        text
    }

    /// Run every step even when some fail; fail with all their errors.
    fn teardown(&self, steps: Vec<Step>) -> Result<Vec<String>> {
        let total = steps.len();
        let mut commands = Vec::new();
        let mut failures: Vec<(String, Error)> = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            let command = self.engine.prepare(&step.plan).0.to_string();
            match self.engine.run(step.plan) {
                Ok(()) => commands.push(command),
                Err(e) => failures.push((format!("step {}/{total} ({})", i + 1, step.what), e)),
            }
        }
        let Some((_, first)) = failures.first() else {
            return Ok(commands);
        };
        let list: Vec<String> = failures
            .iter()
            .map(|(step, e)| format!("{step}: {}", e.message()))
            .collect();
        Err(first.clone().with_message(format!(
            "{} of {total} steps failed: {}",
            failures.len(),
            list.join("; ")
        )))
    }
}

/// How long undoing a failed or interrupted `link add`/`link move` may take
/// in all ([`Engine::for_rollback`]).
pub const ROLLBACK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// A process in the host namespace, for moving interfaces back: dockhand
/// itself, so an interface returns to the namespace `link move` took it
/// from (on a host that is the namespace of PID 1).
fn home_pid() -> u32 {
    std::process::id()
}

/// `target`, unless it shares the host's network namespace
/// (`--network host`): attaching "to" it would change the host itself.
fn own_netns(target: RunningContainer) -> Result<RunningContainer> {
    let ns_of = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
    match (ns_of(&target.pid.to_string()), ns_of("self")) {
        (Some(theirs), Some(ours)) if theirs == ours => Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "container {} uses the host's network namespace (--network host); \
                 there is nothing to attach interfaces to",
                target.name
            ),
        )),
        _ => Ok(target),
    }
}

/// The error for a wireless interface when `iw` is missing, before anything
/// changes.
fn require_iw(ifname: &str, phy: &str) -> Result<()> {
    if which::which("iw").is_ok() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::EngineMissing,
        format!(
            "{ifname} is a wireless interface: it moves with its phy {phy}, which needs `iw`, \
             and `iw` is not installed or not on PATH (install the iw package)"
        ),
    ))
}

/// The wireless phy of a host interface (`/sys/class/net/IF/phy80211/name`),
/// `None` for wired interfaces and names the host does not have.
fn wireless_phy(ifname: &IfName) -> Option<String> {
    let path = format!("/sys/class/net/{}/phy80211/name", ifname.as_str());
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn finish(plan: Plan<RunningContainer>, stdout: &str) -> Result<RunningContainer> {
        testing::replay_ok(crate::EngineKind::Docker, plan, stdout.as_bytes())
    }

    fn state_of(capture: &str) -> String {
        // The real `inspect` output; the plan asks only for Id and State of it.
        let doc: serde_json::Value = parse_json(&testing::capture(capture)).unwrap();
        let c = if doc.is_array() { &doc[0] } else { &doc };
        serde_json::json!({"Id": c["Id"], "State": c["State"]}).to_string()
    }

    #[test]
    fn running_containers_of_both_engines_give_their_pid() {
        let web = ContainerRef::new("web").unwrap();
        for capture in [
            "docker/container-inspect-running.json",
            "podman/container-inspect-running.json",
        ] {
            let c = finish(running_container_plan(&web), &state_of(capture)).unwrap();
            assert!(c.pid > 0 && c.id.len() == 64, "{capture}: {c:?}");
        }
    }

    #[test]
    fn stopped_and_paused_containers() {
        let web = ContainerRef::new("web").unwrap();
        let e = finish(
            running_container_plan(&web),
            &state_of("podman/inspect-exited.json"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(
            e.message()
                .contains("not running (status exited, exit code"),
            "{e}"
        );
        // podman reports a paused container as not running; its netns is there.
        let c = finish(
            running_container_plan(&web),
            &state_of("podman/inspect-paused.json"),
        );
        assert!(c.is_ok(), "{c:?}");
    }
}

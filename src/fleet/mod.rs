//! A fleet: many engines (boxes reached over docker's ssh transport, docker
//! contexts, podman connections) running the same plans, in parallel with
//! bounded concurrency, or in rolling batches that stop after too many
//! failures.
//!
//! A [`Fleet`] is a list of [`Member`]s, each a name, an [`Engine`] and
//! groups/labels to [`select`](Fleet::select) by. [`Fleet::run`] runs a plan
//! on every member and answers with a [`FleetReport`] (one [`HostResult`]
//! per member, in fleet order); [`Fleet::each`] runs any closure (a
//! resource handle's method), and `run_async`/`each_async` do the same on
//! tokio. Both executors ask one pure schedule (`schedule.rs`) which host
//! starts when, so they start the same hosts in the same order. Per-host
//! timeouts and retries are each engine's own.
//!
//! Fleets come from a list (`a,b,c`: ssh URLs, context or connection names;
//! [`Fleet::from_hosts`]) or a file ([`mod@file`], JSON).

pub mod file;
mod schedule;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::engine::endpoint::Transport;
use crate::engine::plan::Plan;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use schedule::Schedule;

/// How many hosts work at once, by default.
pub const DEFAULT_PARALLEL: usize = 10;

/// One host of a fleet.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Member {
    /// Its name (the prefix of its output lines; unique in the fleet).
    pub name: String,
    /// Its engine (endpoint, command, limits).
    pub engine: Engine,
    /// Groups it belongs to (`--select group=edge`).
    pub groups: Vec<String>,
    /// Labels (`--select site=berlin`).
    pub labels: BTreeMap<String, String>,
}

impl Member {
    /// A member named `name` on `engine`, in no group, without labels.
    ///
    /// ```
    /// let e = dockhand::Engine::from_command("docker")?.with_host(Some("ssh://root@box1".into()));
    /// let m = dockhand::fleet::Member::new("box1", e)?;
    /// assert_eq!(m.name, "box1");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn new(name: impl Into<String>, engine: Engine) -> Result<Member> {
        let name = name.into();
        check_name(&name)?;
        Ok(Member {
            name,
            engine,
            groups: Vec::new(),
            labels: BTreeMap::new(),
        })
    }

    fn matches(&self, s: &Selector) -> bool {
        match s.key.as_str() {
            "name" => self.name == s.value,
            "group" => self.groups.contains(&s.value),
            key => self.labels.get(key) == Some(&s.value),
        }
    }
}

/// A host name is printed before each of its output lines: printable,
/// no blanks or commas, at most 128 bytes.
fn check_name(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.len() > 128
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',');
    match bad {
        true => Err(Error::invalid_input(format!(
            "fleet host name {name:?}: 1-128 printable characters without blanks or commas"
        ))),
        false => Ok(()),
    }
}

/// `KEY=VALUE` choosing members: `group=G` (member of G), `name=N`, or a
/// label. Several selectors must all hold.
///
/// ```
/// let s: dockhand::fleet::Selector = "group=edge".parse()?;
/// assert_eq!(s.to_string(), "group=edge");
/// assert!("edge".parse::<dockhand::fleet::Selector>().is_err());
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    key: String,
    value: String,
}

impl FromStr for Selector {
    type Err = Error;

    fn from_str(s: &str) -> Result<Selector> {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.is_empty() => Ok(Selector {
                key: k.trim().to_string(),
                value: v.to_string(),
            }),
            _ => Err(Error::invalid_input(format!(
                "selector {s:?}: want KEY=VALUE (group=edge, name=box1, or a label)"
            ))),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// How a fleet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetOptions {
    /// Hosts working at once (at least 1).
    pub parallel: usize,
    /// Rolling: batches of this many hosts, each starting once the last is
    /// over (for updates).
    pub rolling: Option<usize>,
    /// Start no more hosts once this many have failed (rolling: default 1,
    /// else no limit).
    pub max_failures: Option<usize>,
}

impl Default for FleetOptions {
    fn default() -> FleetOptions {
        FleetOptions {
            parallel: DEFAULT_PARALLEL,
            rolling: None,
            max_failures: None,
        }
    }
}

impl FleetOptions {
    /// The failure limit in force.
    pub fn max_failures(&self) -> Option<usize> {
        self.max_failures.or(self.rolling.map(|_| 1))
    }
}

/// What happened on one host.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostOutcome<T> {
    /// It ran: its result.
    Ran(Result<T>),
    /// It was not started: the run stopped before (failures, rolling, interrupt).
    Skipped,
}

/// One member's name and outcome.
#[derive(Debug)]
#[non_exhaustive]
pub struct HostResult<T> {
    /// The member's name.
    pub host: String,
    /// What happened there.
    pub outcome: HostOutcome<T>,
}

impl<T> HostResult<T> {
    /// The error, when the host ran and failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.outcome {
            HostOutcome::Ran(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether the host ran and succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, HostOutcome::Ran(Ok(_)))
    }
}

/// Every member's result, in fleet order.
#[derive(Debug)]
#[non_exhaustive]
pub struct FleetReport<T> {
    /// One per member.
    pub hosts: Vec<HostResult<T>>,
}

/// How many hosts succeeded, failed, were skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tally {
    /// Hosts in the run.
    pub hosts: usize,
    /// Succeeded.
    pub ok: usize,
    /// Ran and failed.
    pub failed: usize,
    /// Not started.
    pub skipped: usize,
}

impl<T> FleetReport<T> {
    /// Whether every host ran and succeeded.
    pub fn all_ok(&self) -> bool {
        self.hosts.iter().all(HostResult::is_ok)
    }

    /// The counts.
    pub fn tally(&self) -> Tally {
        let ok = self.hosts.iter().filter(|h| h.is_ok()).count();
        let skipped = self
            .hosts
            .iter()
            .filter(|h| matches!(h.outcome, HostOutcome::Skipped))
            .count();
        Tally {
            hosts: self.hosts.len(),
            ok,
            failed: self.hosts.len() - ok - skipped,
            skipped,
        }
    }

    /// The error of the most severe kind ([`severity`]; the first host's of
    /// equal ones).
    pub fn worst(&self) -> Option<&Error> {
        self.hosts
            .iter()
            .filter_map(HostResult::error)
            .reduce(|a, b| match severity(b.kind()) > severity(a.kind()) {
                true => b,
                false => a,
            })
    }
}

/// How much of a fleet run an error of `kind` puts in doubt, highest
/// first: the run was interrupted; the engine CLI is missing here; the
/// request is invalid; a host could not be reached or used; a command was
/// killed at its timeout (its effect unknown); the engine failed; a
/// conflict; something was not found. A fleet exits with the code of its
/// most severe failure.
///
/// ```
/// use dockhand::{fleet::severity, ErrorKind};
/// assert!(severity(ErrorKind::Unreachable) > severity(ErrorKind::NotFound));
/// ```
pub fn severity(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Interrupted => 8,
        ErrorKind::EngineMissing => 7,
        ErrorKind::InvalidInput => 6,
        ErrorKind::Unreachable | ErrorKind::PermissionDenied => 5,
        ErrorKind::Timeout => 4,
        ErrorKind::Conflict => 2,
        ErrorKind::NotFound => 1,
        _ => 3,
    }
}

/// Many engines running the same plans.
///
/// ```
/// use dockhand::{fleet::Fleet, Engine};
/// let fleet = Fleet::from_hosts(&Engine::from_command("docker")?, "ssh://root@box1,ssh://root@box2:2222,edge3")?;
/// let names: Vec<&str> = fleet.members().iter().map(|m| m.name.as_str()).collect();
/// assert_eq!(names, ["box1", "box2:2222", "edge3"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Fleet {
    members: Vec<Member>,
    options: FleetOptions,
}

impl Fleet {
    /// A fleet of these members (names must be unique).
    pub fn new(members: Vec<Member>) -> Result<Fleet> {
        let mut seen = std::collections::BTreeSet::new();
        for m in &members {
            check_name(&m.name)?;
            if !seen.insert(m.name.as_str()) {
                return Err(Error::invalid_input(format!(
                    "fleet host {:?} is named twice",
                    m.name
                )));
            }
        }
        Ok(Fleet {
            members,
            options: FleetOptions::default(),
        })
    }

    /// A fleet from `a,b,c`: each an endpoint URL (`ssh://root@box`,
    /// `tcp://…`) or a docker context / podman connection name, on `base`'s
    /// engine command and limits. A URL's member is named by its host
    /// (`box`, `box:2222`), the full URL when two would share a name.
    pub fn from_hosts(base: &Engine, list: &str) -> Result<Fleet> {
        let entries: Vec<&str> = list.split(',').map(str::trim).collect();
        if entries.iter().any(|e| e.is_empty()) {
            return Err(Error::invalid_input(format!(
                "--hosts {list:?}: empty entry (want a,b,c)"
            )));
        }
        let short = |e: &str| -> String {
            match Transport::parse(e) {
                Transport::Ssh(a) => match a.port {
                    Some(p) => format!("{}:{p}", a.host),
                    None => a.host,
                },
                Transport::Tcp { host, port } => {
                    port.map_or(host.clone(), |p| format!("{host}:{p}"))
                }
                _ => e.to_string(),
            }
        };
        let names: Vec<String> = entries.iter().map(|e| short(e)).collect();
        let members = entries
            .iter()
            .zip(&names)
            .map(|(entry, name)| {
                let shared = names.iter().filter(|n| *n == name).count() > 1;
                let name = if shared {
                    entry.to_string()
                } else {
                    name.clone()
                };
                Member::new(name, endpoint_engine(base, entry))
            })
            .collect::<Result<Vec<_>>>()?;
        Fleet::new(members)
    }

    /// Only the members every selector matches; an error when none does.
    pub fn select(mut self, selectors: &[Selector]) -> Result<Fleet> {
        self.members
            .retain(|m| selectors.iter().all(|s| m.matches(s)));
        if self.members.is_empty() {
            let all: Vec<String> = selectors.iter().map(Selector::to_string).collect();
            return Err(Error::invalid_input(format!(
                "no host of the fleet matches {}",
                all.join(" and ")
            )));
        }
        Ok(self)
    }

    /// Run with these options.
    #[must_use]
    pub fn with_options(mut self, options: FleetOptions) -> Fleet {
        self.options = options;
        self
    }

    /// The members, in fleet order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The members, to adjust their engines.
    pub fn members_mut(&mut self) -> &mut [Member] {
        &mut self.members
    }

    /// The options in force.
    pub fn options(&self) -> &FleetOptions {
        &self.options
    }

    /// Run the plan `plan` makes for each member's engine, on every member.
    ///
    /// ```no_run
    /// use dockhand::{fleet::Fleet, system::version_plan, Engine};
    /// let fleet = Fleet::from_hosts(&Engine::from_command("docker")?, "ssh://root@box1,ssh://root@box2")?;
    /// let report = fleet.run(|e| version_plan(e.kind()));
    /// for h in &report.hosts { println!("{}: {}", h.host, h.is_ok()); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn run<T: Send + 'static>(
        &self,
        plan: impl Fn(&Engine) -> Plan<T> + Sync,
    ) -> FleetReport<T> {
        self.each(|m| m.engine.run(plan(&m.engine)))
    }

    /// Run `job` for every member, on threads (at most
    /// [`FleetOptions::parallel`] at once).
    ///
    /// ```no_run
    /// use dockhand::{fleet::Fleet, input::ContainerRef, Engine};
    /// let fleet = Fleet::from_hosts(&Engine::from_command("docker")?, "ssh://root@box1,ssh://root@box2")?;
    /// let web = ContainerRef::new("web")?;
    /// let report = fleet.each(|m| m.engine.containers().statuses(std::slice::from_ref(&web)));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn each<T: Send>(&self, job: impl Fn(&Member) -> Result<T> + Sync) -> FleetReport<T> {
        let results = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            let mut crew = Threads {
                scope,
                members: &self.members,
                job: &job,
                tx,
                rx,
                running: 0,
            };
            crate::exec::ready(carry_out(&mut crew, self.members.len(), &self.options))
        });
        self.report(results)
    }

    /// [`Fleet::run`] on tokio (feature `tokio`): each plan on
    /// `Engine::run_async`, as tasks of the current runtime.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dockhand::Result<()> {
    /// use dockhand::{fleet::Fleet, system::version_plan, Engine};
    /// let fleet = Fleet::from_hosts(&Engine::from_command("docker")?, "ssh://root@box1,ssh://root@box2")?;
    /// let report = fleet.run_async(|e| version_plan(e.kind())).await;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn run_async<T: Send + 'static>(
        &self,
        plan: impl Fn(&Engine) -> Plan<T>,
    ) -> FleetReport<T> {
        self.each_async(|m| {
            let plan = plan(&m.engine);
            let engine = m.engine.clone();
            async move { engine.run_async(plan).await }
        })
        .await
    }

    /// [`Fleet::each`] on tokio (feature `tokio`): `job` makes each
    /// member's future (owning what it uses, e.g. a clone of the engine),
    /// run as a task of the current runtime.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dockhand::Result<()> {
    /// use std::time::Duration;
    /// use dockhand::{container::wait::Condition, fleet::Fleet, input::ContainerRef, Engine};
    /// let fleet = Fleet::from_hosts(&Engine::from_command("docker")?, "ssh://root@box1,ssh://root@box2")?;
    /// let report = fleet.each_async(|m| {
    ///     let engine = m.engine.clone();
    ///     async move {
    ///         let web = ContainerRef::new("web")?;
    ///         engine.containers().wait_for_async(&web, &Condition::Running, Some(Duration::from_secs(30))).await
    ///     }
    /// }).await;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn each_async<T, F, Fut>(&self, job: F) -> FleetReport<T>
    where
        T: Send + 'static,
        F: Fn(&Member) -> Fut,
        Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    {
        let mut crew = Tasks {
            members: &self.members,
            job: &job,
            set: tokio::task::JoinSet::new(),
        };
        let results = carry_out(&mut crew, self.members.len(), &self.options).await;
        self.report(results)
    }

    fn report<T>(&self, results: Vec<Option<Result<T>>>) -> FleetReport<T> {
        FleetReport {
            hosts: self
                .members
                .iter()
                .zip(results)
                .map(|(m, r)| HostResult {
                    host: m.name.clone(),
                    outcome: r.map_or(HostOutcome::Skipped, HostOutcome::Ran),
                })
                .collect(),
        }
    }
}

/// `base`'s engine pointed at `entry`: a URL as `--host`, a name as
/// `--context` / `--connection`.
fn endpoint_engine(base: &Engine, entry: &str) -> Engine {
    match entry.contains("://") {
        true => base
            .clone()
            .with_context(None)
            .with_host(Some(entry.into())),
        false => base
            .clone()
            .with_host(None)
            .with_context(Some(entry.into())),
    }
}

/// Carries out one member's job and tells when one is over: threads or
/// tokio tasks.
trait Crew<T> {
    /// Start member `index`'s job.
    fn start(&mut self, index: usize);

    /// The next job to end, and its result (`None`: none is running).
    async fn next_done(&mut self) -> Option<(usize, Result<T>)>;
}

/// The fleet loop, once for both crews: start what the schedule allows,
/// wait for one to end, repeat. `None` for members never started.
async fn carry_out<T, C: Crew<T>>(
    crew: &mut C,
    total: usize,
    options: &FleetOptions,
) -> Vec<Option<Result<T>>> {
    let mut schedule = Schedule::new(total, options);
    let mut results: Vec<Option<Result<T>>> = (0..total).map(|_| None).collect();
    loop {
        while let Some(index) = schedule.start() {
            crew.start(index);
        }
        if schedule.is_over() {
            return results;
        }
        let Some((index, result)) = crew.next_done().await else {
            return results;
        };
        let interrupted = matches!(&result, Err(e) if e.kind() == ErrorKind::Interrupted);
        schedule.finished(result.is_ok(), interrupted);
        results[index] = Some(result);
    }
}

/// Scoped threads; a panicking job's panic goes on in the caller.
struct Threads<'scope, 'env, T, F> {
    scope: &'scope std::thread::Scope<'scope, 'env>,
    members: &'env [Member],
    job: &'env F,
    tx: std::sync::mpsc::Sender<(usize, std::thread::Result<Result<T>>)>,
    rx: std::sync::mpsc::Receiver<(usize, std::thread::Result<Result<T>>)>,
    running: usize,
}

impl<'scope, 'env, T, F> Crew<T> for Threads<'scope, 'env, T, F>
where
    T: Send + 'env,
    F: Fn(&Member) -> Result<T> + Sync,
{
    fn start(&mut self, index: usize) {
        let (tx, job, member) = (self.tx.clone(), self.job, &self.members[index]);
        self.running += 1;
        self.scope.spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(member)));
            let _ = tx.send((index, result));
        });
    }

    async fn next_done(&mut self) -> Option<(usize, Result<T>)> {
        if self.running == 0 {
            return None;
        }
        let (index, result) = self.rx.recv().ok()?;
        self.running -= 1;
        match result {
            Ok(r) => Some((index, r)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Tasks of the current tokio runtime.
#[cfg(feature = "tokio")]
struct Tasks<'a, T, F> {
    members: &'a [Member],
    job: &'a F,
    set: tokio::task::JoinSet<(usize, Result<T>)>,
}

#[cfg(feature = "tokio")]
impl<T, F, Fut> Crew<T> for Tasks<'_, T, F>
where
    T: Send + 'static,
    F: Fn(&Member) -> Fut,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
{
    fn start(&mut self, index: usize) {
        let work = (self.job)(&self.members[index]);
        self.set.spawn(async move { (index, work.await) });
    }

    async fn next_done(&mut self) -> Option<(usize, Result<T>)> {
        match self.set.join_next().await? {
            Ok(done) => Some(done),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a fleet task was cancelled: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Argv;

    fn fleet(names: &[&str]) -> Fleet {
        let base = Engine::from_command("sh").unwrap();
        Fleet::new(
            names
                .iter()
                .map(|n| Member::new(*n, base.clone()).unwrap())
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn hosts_lists_name_members_by_host_and_keep_them_unique() {
        let base = Engine::from_command("docker").unwrap();
        let f = Fleet::from_hosts(&base, "ssh://root@a, ssh://admin@a ,ctx").unwrap();
        let names: Vec<&str> = f.members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["ssh://root@a", "ssh://admin@a", "ctx"]);
        assert_eq!(
            f.members()[2].engine.command().to_string(),
            "docker --context ctx"
        );
        assert!(Fleet::from_hosts(&base, "a,,b").is_err());
        assert!(Fleet::from_hosts(&base, "a,a").is_err());
    }

    #[test]
    fn selectors_pick_by_group_name_and_label() {
        let mut f = fleet(&["a", "b", "c"]);
        f.members[0].groups = vec!["edge".into()];
        f.members[1].groups = vec!["edge".into()];
        f.members[1].labels.insert("site".into(), "ber".into());
        let pick = |f: &Fleet, s: &[&str]| -> Result<Vec<String>> {
            let s: Vec<Selector> = s.iter().map(|s| s.parse().unwrap()).collect();
            Ok(f.clone()
                .select(&s)?
                .members
                .into_iter()
                .map(|m| m.name)
                .collect())
        };
        assert_eq!(pick(&f, &["group=edge"]).unwrap(), ["a", "b"]);
        assert_eq!(pick(&f, &["group=edge", "site=ber"]).unwrap(), ["b"]);
        assert_eq!(pick(&f, &["name=c"]).unwrap(), ["c"]);
        let e = pick(&f, &["group=core"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn every_member_runs_the_plan_and_the_report_says_which_failed() {
        let f = fleet(&["ok1", "bad", "ok2"]);
        let report = f.run(|_| {
            Plan::read(Argv::new("-c").arg("echo hi"), |o| Ok(o.stdout_text())).on_host("sh")
        });
        assert!(report.all_ok(), "{report:?}");
        let report = f.each(|m| match m.name.as_str() {
            "bad" => Err(Error::new(ErrorKind::Unreachable, "down")),
            _ => Ok(m.name.len()),
        });
        assert_eq!(
            report.tally(),
            Tally {
                hosts: 3,
                ok: 2,
                failed: 1,
                skipped: 0
            }
        );
        assert_eq!(report.worst().unwrap().kind(), ErrorKind::Unreachable);
        assert_eq!(report.hosts[1].host, "bad");
    }

    #[test]
    fn a_rolling_run_skips_what_follows_a_failed_batch() {
        let f = fleet(&["a", "b", "c", "d"]).with_options(FleetOptions {
            rolling: Some(1),
            ..FleetOptions::default()
        });
        let report = f.each(|m| match m.name.as_str() {
            "b" => Err(Error::new(ErrorKind::Conflict, "busy")),
            _ => Ok(()),
        });
        let skipped: Vec<&str> = report
            .hosts
            .iter()
            .filter(|h| matches!(h.outcome, HostOutcome::Skipped))
            .map(|h| h.host.as_str())
            .collect();
        assert_eq!(skipped, ["c", "d"]);
    }

    #[test]
    fn the_worst_error_is_the_most_severe_kind() {
        let report = FleetReport {
            hosts: [
                ErrorKind::NotFound,
                ErrorKind::Timeout,
                ErrorKind::Unreachable,
            ]
            .into_iter()
            .map(|k| HostResult::<()> {
                host: k.to_string(),
                outcome: HostOutcome::Ran(Err(Error::new(k, "x"))),
            })
            .collect(),
        };
        assert_eq!(report.worst().unwrap().kind(), ErrorKind::Unreachable);
    }

    #[cfg(feature = "tokio")]
    #[test]
    fn the_tokio_run_gives_the_same_report() {
        let f = fleet(&["a", "b"]).with_options(FleetOptions {
            parallel: 1,
            ..FleetOptions::default()
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(f.run_async(|_| {
            Plan::read(Argv::new("-c").arg("echo hi"), |o| Ok(o.stdout_text())).on_host("sh")
        }));
        assert!(report.all_ok(), "{report:?}");
        match &report.hosts[1].outcome {
            HostOutcome::Ran(Ok(text)) => assert_eq!(text, "hi"),
            other => panic!("{other:?}"),
        }
    }
}

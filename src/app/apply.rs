//! Carrying a plan out: steps in order; on a failure the undos of the
//! completed steps in reverse, going on past undo failures and reporting
//! every one (netavark's rule); the after-success steps only once all
//! succeeded. `down` runs every step whatever fails and reports all.

use std::time::Duration;

use serde::Serialize;

use super::interfaces;
use super::plan::{AppPlan, Op, Until};
use super::ports::{publish, PinnedPorts};
use super::service::ContainerSpec;
use super::state::labels;
use crate::container::wait::Condition;
use crate::container::{Action, ActionResult};
use crate::engine::{Argv, Engine};
use crate::error::{Error, ErrorKind, Result};
use crate::image::PullOptions;
use crate::input::{ContainerRef, ImageRef, KeyValue};
use crate::Plan;

/// How an app pulls `image`: as the engine does by default, except that
/// podman is told not to verify TLS for a registry on loopback — docker
/// takes 127.0.0.0/8 as an insecure registry by default, so an app pulls
/// from a local registry alike on both engines (traffic that never leaves
/// the machine).
///
/// ```
/// # use dockhand::input::ImageRef;
/// let local = dockhand::app::apply::pull_options(&ImageRef::new("127.0.0.1:5000/app:1").unwrap());
/// assert_eq!(local.tls_verify, Some(false));
/// for other in ["app:1", "registry.example:5000/app:1", "localhost.example/app"] {
///     assert_eq!(dockhand::app::apply::pull_options(&ImageRef::new(other).unwrap()).tls_verify, None, "{other}");
/// }
/// ```
pub fn pull_options(image: &ImageRef) -> PullOptions {
    let mut opts = PullOptions::new(image.clone());
    let registry = image
        .as_str()
        .split_once('/')
        .map_or("", |(first, _)| first);
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        opts.tls_verify = Some(false);
    }
    opts
}

/// How long the undos of one failed `up` may take together.
pub const ROLLBACK_DEADLINE: Duration = Duration::from_secs(120);

/// The engine every undo runs on — the one place that decides it: its
/// commands start and finish although SIGINT/SIGTERM is pending, each
/// bounded by its timeout and all by [`ROLLBACK_DEADLINE`], so a rollback
/// after Ctrl-C runs to completion.
pub(crate) fn undo_engine(engine: &Engine) -> Engine {
    engine.for_rollback(ROLLBACK_DEADLINE)
}

/// What an applied plan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    /// The steps done, described.
    pub done: Vec<String>,
    /// Failures that did not stop the run: a `down` step, or removing an
    /// old container after a successful `up`.
    pub failures: Vec<String>,
    /// Networks and volumes a `down` was to remove that were gone already
    /// (not counted as removed).
    pub absent: Vec<Absent>,
}

/// An object `down` was to remove that was not there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Absent {
    /// `network` or `volume`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
}

/// Run `plan`'s steps; on a failure undo the completed ones in reverse and
/// return the failure, its message naming the step, what was undone and
/// every undo that failed.
pub fn apply(engine: &Engine, plan: AppPlan) -> Result<Applied> {
    let mut applied = Applied::default();
    let mut undos: Vec<Undo> = Vec::new();
    for step in plan.steps {
        let what = step.describe();
        match perform(engine, &step.op, &step.object) {
            Ok(()) => {
                log::info!("{what}");
                if let Some(op) = step.undo {
                    undos.push(Undo {
                        object: step.object.clone(),
                        op,
                        maybe: false,
                    });
                }
                applied.done.push(what);
            }
            Err(e) => {
                // The failed step may have taken effect all the same (the
                // engine finished a stop or a create whose client was
                // interrupted): its undo runs too, and "nothing to undo" is
                // no failure for it.
                // Not after a conflict: what holds the name is not ours.
                let refused = matches!(e.kind(), ErrorKind::Conflict | ErrorKind::InvalidInput);
                if let (Some(op), false) = (step.undo, refused) {
                    undos.push(Undo {
                        object: step.object.clone(),
                        op,
                        maybe: true,
                    });
                }
                return Err(roll_back(engine, &what, e, undos));
            }
        }
    }
    for step in plan.after_success {
        let what = step.describe();
        match perform(engine, &step.op, &step.object) {
            Ok(()) => applied.done.push(what),
            Err(e) => applied.failures.push(format!("{what}: {e}")),
        }
    }
    Ok(applied)
}

/// Run every step, whatever fails; the failures are reported together. A
/// network or volume that was gone already is reported as absent: the
/// removal's step is done for the ones it removed (the engines print the
/// name of each object they remove, and only those), and not done at all
/// when none was there.
pub fn apply_all(engine: &Engine, plan: AppPlan) -> Result<Applied> {
    let mut applied = Applied::default();
    for mut step in plan.steps {
        let removal = match &step.op {
            Op::RemoveNetworks(n) => Some(("network", engine.networks().remove(n))),
            Op::RemoveVolumes(v) => Some(("volume", engine.volumes().remove(v, false))),
            _ => None,
        };
        let outcome = match removal {
            Some((kind, Ok(removed))) => {
                // A dry run prints, removes nothing, and says nothing of
                // what is there.
                let dry = engine.is_dry_run();
                let gone = |name: &str| !dry && !removed.iter().any(|r| r == name);
                applied.absent.extend(
                    step.op
                        .names()
                        .into_iter()
                        .filter(|n| gone(n))
                        .map(|name| Absent { kind, name }),
                );
                step.op.retain_names(|n| !gone(n));
                match step.op.names().is_empty() {
                    true => continue,
                    false => Ok(()),
                }
            }
            Some((_, Err(e))) => Err(e),
            None => perform(engine, &step.op, &step.object),
        };
        let what = step.describe();
        match outcome {
            Ok(()) => applied.done.push(what),
            Err(e) => applied.failures.push(format!("{what}: {e}")),
        }
    }
    Ok(applied)
}

/// An undo to run if a later step fails.
struct Undo {
    object: String,
    op: Op,
    /// Of the step that failed: it may not have taken effect.
    maybe: bool,
}

fn roll_back(engine: &Engine, failed: &str, error: Error, undos: Vec<Undo>) -> Error {
    let undo = undo_engine(engine);
    let mut undone = 0;
    let mut undo_failures = Vec::new();
    for u in undos.into_iter().rev() {
        match perform(&undo, &u.op, &u.object) {
            Ok(()) => undone += 1,
            Err(e) if u.maybe && e.kind() == ErrorKind::NotFound => {}
            Err(e) => undo_failures.push(format!("{}: {e}", u.op.describe())),
        }
    }
    let mut message = format!(
        "{failed}: {}; rolled back ({undone} steps undone)",
        error.message()
    );
    if !undo_failures.is_empty() {
        message.push_str(&format!(
            "; {} undo steps FAILED: {}",
            undo_failures.len(),
            undo_failures.join("; ")
        ));
    }
    error.with_message(message)
}

/// One operation.
fn perform(engine: &Engine, op: &Op, object: &str) -> Result<()> {
    match op {
        Op::CreateNetwork(o) => engine.networks().create(o).map(drop),
        Op::RemoveNetworks(n) => engine.networks().remove(n).map(drop),
        Op::CreateVolume(o) => engine.volumes().create(o).map(drop),
        Op::RemoveVolumes(v) => engine.volumes().remove(v, false).map(drop),
        Op::Pull(image) => engine.images().pull(&pull_options(image), None).map(drop),
        Op::Run { spec, start } => run(engine, spec, *start),
        Op::Start(name) => act(engine, &Action::Start, name),
        Op::Stop { name, timeout } => act(engine, &Action::Stop { timeout: *timeout }, name),
        Op::Remove(name) => act(engine, &Action::Remove { force: true }, name),
        Op::Rename { from, to } => rename(engine, from, to),
        Op::Wait {
            name,
            until,
            timeout,
        } => wait(engine, name, *until, *timeout),
        Op::PinPorts {
            spec,
            hash,
            until,
            timeout,
        } => pin_ports(engine, spec, hash, *until, *timeout),
        Op::Attach { name, interfaces } => interfaces::attach(engine, name, interfaces, object),
        Op::Release { name, interfaces } => interfaces::release(engine, name, interfaces, object),
    }
}

fn act(engine: &Engine, action: &Action, name: &ContainerRef) -> Result<()> {
    let results = engine
        .containers()
        .act(action, std::slice::from_ref(name))?;
    match ActionResult::first_error(&results) {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

/// `rename FROM TO`; never repeated blindly (a second one fails on the
/// state the first left).
fn rename(engine: &Engine, from: &ContainerRef, to: &ContainerRef) -> Result<()> {
    let plan = Plan::write(
        Argv::new("rename").operands([from.as_str(), to.as_str()]),
        |_| Ok(()),
    )
    .no_retry();
    engine.run(plan)
}

/// Create the container (and start it): `Containers::run`/`create` connect
/// further networks before the start and remove a half-made container.
fn run(engine: &Engine, spec: &ContainerSpec, start: bool) -> Result<()> {
    let containers = engine.containers();
    match start {
        true => containers.run(&spec.opts).map(drop),
        false => containers.create(&spec.opts).map(drop),
    }
}

fn wait(engine: &Engine, name: &ContainerRef, until: Until, timeout: Duration) -> Result<()> {
    let condition = match until {
        Until::Running => Condition::Running,
        Until::Healthy => Condition::Healthy,
        Until::CompletedSuccessfully => Condition::Exited,
    };
    let seen = engine
        .containers()
        .wait_for(name, &condition, Some(timeout))?;
    match (until, seen.exit_code) {
        (Until::CompletedSuccessfully, Some(code)) if code != 0 => Err(Error::new(
            ErrorKind::EngineFailure,
            format!("{name} exited with code {code}; the services depending on it need it to complete successfully"),
        )),
        _ => Ok(()),
    }
}

/// docker: recreate a just-started container with the host ports the
/// engine chose for it written into its configuration. If the recreation
/// fails, the unpinned container is put back (running) and the error stands.
fn pin_ports(
    engine: &Engine,
    spec: &ContainerSpec,
    hash: &str,
    until: Until,
    timeout: Duration,
) -> Result<()> {
    let name = spec.opts.name.clone().expect("app containers are named");
    let current = engine.containers().inspect_one(&name)?;
    let chosen = PinnedPorts::held_by(&current);
    if let Some(p) = chosen.missing(&spec.ports) {
        return Err(Error::new(
            ErrorKind::EngineFailure,
            format!(
                "{name} has no host port for {}/{} after its start",
                p.target, p.protocol
            ),
        ));
    }
    let mut pinned = spec.clone();
    pinned.opts.publish = publish(&spec.ports, &chosen)?;
    pinned.opts.labels = spec
        .opts
        .labels
        .iter()
        .map(|l| match l.key() == labels::HASH {
            true => KeyValue::pair(labels::HASH, hash),
            false => Ok(l.clone()),
        })
        .collect::<Result<_>>()?;
    let aside = ContainerRef::new(super::state::aside_name(&current.id, &current.name))?;
    act(engine, &Action::Stop { timeout: Some(0) }, &name)?;
    rename(engine, &name, &aside)?;
    match run(engine, &pinned, true).and_then(|()| wait(engine, &name, until, timeout)) {
        Ok(()) => act(engine, &Action::Remove { force: true }, &aside),
        Err(e) => {
            let undo = undo_engine(engine);
            // The pinned one may exist (created, then failed): it goes first.
            let back = act(&undo, &Action::Remove { force: true }, &name)
                .and_then(|()| rename(&undo, &aside, &name))
                .and_then(|()| act(&undo, &Action::Start, &name));
            Err(match back {
                Ok(()) => e,
                Err(b) => {
                    let message = format!(
                        "{}; putting the unpinned container back failed too: {b}",
                        e.message()
                    );
                    e.with_message(message)
                }
            })
        }
    }
}

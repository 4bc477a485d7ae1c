//! The steps of an `up` or a `down`, as data.
//!
//! Each [`AppStep`] says what it does to which object and why, the operation
//! ([`Op`]) that does it, and the operation that undoes it. `plan` and
//! `--dry-run` print the steps; [`apply`](super::apply) runs them in order
//! and, when one fails, runs the undos of the completed ones in reverse.
//!
//! An update of a changed service is, in order (netavark's shape: validate,
//! apply, roll back in reverse):
//!
//! | step | undo |
//! |---|---|
//! | release the old container's host interfaces | plumb them again |
//! | stop the old container | start it |
//! | rename it aside (`<12 hex>_NAME`, docker-compose v1's convention) | rename it back |
//! | wait for the dependencies' conditions | |
//! | create and start the new one, its host ports pinned to the old ones | remove it |
//! | wait until it runs (and is healthy, when it has a healthcheck) | |
//! | plumb its host interfaces | release them |
//!
//! and, only once every step of the `up` succeeded, the old containers are
//! removed. So a failed update leaves the old containers running under their
//! names, with their host ports and interfaces.
//!
//! **Host ports.** A port published without a host port keeps its host port
//! across updates and rollbacks: the new container is created with the old
//! one's port. podman pre-allocates an unpinned port at create and keeps it
//! across restarts; docker draws a new random port at every start (so a
//! rolled-back old container, or any container after a daemon restart, would
//! come back on another port). On docker, a container whose ports were left
//! to the engine is therefore recreated once, right after its first start,
//! with the port the engine chose written into its configuration
//! ([`Op::PinPorts`]); until that happened its config hash marks it
//! "host ports not pinned yet", so a later `up` finishes the job. Each
//! address keeps the number it was bound with ([`super::ports`]: docker
//! 20.10 may draw one for 0.0.0.0 and another for ::).

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::diff::{is_one_shot, Change, Diff, Reason};
use super::file::{DependencyCondition, Interface};
use super::hash::{config_hash, unpinned_hash};
use super::ports::PinnedPorts;
use super::project::Project;
use super::service::{container_spec, ContainerSpec};
use super::state::{aside_name, AppContainer};
use crate::engine::EngineKind;
use crate::error::Result;
use crate::input::{ContainerRef, ImageRef, KeyValue, NetworkName, Subnet, VolumeName};
use crate::network::NetworkCreateOptions;
use crate::volume::VolumeCreateOptions;

/// What a wait step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// It runs.
    Running,
    /// Its healthcheck passes.
    Healthy,
    /// It exited 0.
    CompletedSuccessfully,
}

/// One operation on the engine (or the host).
#[derive(Debug, Clone)]
pub enum Op {
    /// `network create`.
    CreateNetwork(NetworkCreateOptions),
    /// `network rm`.
    RemoveNetworks(Vec<NetworkName>),
    /// `volume create`.
    CreateVolume(VolumeCreateOptions),
    /// `volume rm`.
    RemoveVolumes(Vec<VolumeName>),
    /// Pull an image.
    Pull(ImageRef),
    /// Create a container (`start`: and start it), further networks connected first.
    Run {
        /// The container.
        spec: Box<ContainerSpec>,
        /// Start it too.
        start: bool,
    },
    /// `start`.
    Start(ContainerRef),
    /// `stop`.
    Stop {
        /// The container.
        name: ContainerRef,
        /// Seconds before SIGKILL.
        timeout: Option<u32>,
    },
    /// `rename`.
    Rename {
        /// Current name.
        from: ContainerRef,
        /// New name.
        to: ContainerRef,
    },
    /// `rm --force`.
    Remove(ContainerRef),
    /// Wait for a condition (bounded).
    Wait {
        /// The container.
        name: ContainerRef,
        /// The condition.
        until: Until,
        /// At most this long.
        timeout: Duration,
    },
    /// docker: write the host ports the engine chose into the container's
    /// configuration (recreate it with them), so later starts keep them.
    PinPorts {
        /// The container as created, ports unpinned.
        spec: Box<ContainerSpec>,
        /// Its config hash once pinned.
        hash: String,
        /// What the pinned container must reach before the unpinned one goes.
        until: Until,
        /// At most this long.
        timeout: Duration,
    },
    /// Plumb host interfaces into a running container.
    Attach {
        /// The container.
        name: ContainerRef,
        /// The interfaces.
        interfaces: Vec<Interface>,
    },
    /// Release the host interfaces dockhand plumbed into a container.
    Release {
        /// The container.
        name: ContainerRef,
        /// The interfaces.
        interfaces: Vec<Interface>,
    },
}

impl Op {
    /// The names a removal of networks or volumes removes (none for other
    /// operations).
    pub(crate) fn names(&self) -> Vec<String> {
        match self {
            Op::RemoveNetworks(n) => n.iter().map(|n| n.to_string()).collect(),
            Op::RemoveVolumes(v) => v.iter().map(|v| v.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    /// Keep only the names `keep` says of a removal of networks or volumes.
    pub(crate) fn retain_names(&mut self, keep: impl Fn(&str) -> bool) {
        match self {
            Op::RemoveNetworks(n) => n.retain(|n| keep(n.as_str())),
            Op::RemoveVolumes(v) => v.retain(|v| keep(v.as_str())),
            _ => {}
        }
    }

    /// The operation in words.
    pub fn describe(&self) -> String {
        match self {
            Op::CreateNetwork(o) => format!("create network {}", o.name),
            Op::RemoveNetworks(n) => format!("remove networks {}", join(n)),
            Op::CreateVolume(o) => format!("create volume {}", o.name),
            Op::RemoveVolumes(v) => format!("remove volumes {}", join(v)),
            Op::Pull(i) => format!("pull {i}"),
            Op::Run { spec, start } => {
                let verb = if *start { "create and start" } else { "create" };
                let name = spec
                    .opts
                    .name
                    .as_ref()
                    .map(ContainerRef::as_str)
                    .unwrap_or_default();
                format!("{verb} container {name} (image {})", spec.opts.image)
            }
            Op::Start(n) => format!("start {n}"),
            Op::Stop { name, timeout } => match timeout {
                Some(t) => format!("stop {name} (timeout {t}s)"),
                None => format!("stop {name}"),
            },
            Op::Rename { from, to } => format!("rename {from} to {to}"),
            Op::Remove(n) => format!("remove {n}"),
            Op::Wait {
                name,
                until,
                timeout,
            } => {
                let what = match until {
                    Until::Running => "running",
                    Until::Healthy => "healthy",
                    Until::CompletedSuccessfully => "completed successfully",
                };
                format!(
                    "wait until {name} is {what} (at most {}s)",
                    timeout.as_secs()
                )
            }
            Op::PinPorts { spec, .. } => {
                let name = spec
                    .opts
                    .name
                    .as_ref()
                    .map(ContainerRef::as_str)
                    .unwrap_or_default();
                format!("pin the host ports docker chose for {name} (recreate it with them)")
            }
            Op::Attach { name, interfaces } => {
                format!("plumb {} into {name}", iface_list(interfaces))
            }
            Op::Release { name, interfaces } => {
                format!("release {} from {name}", iface_list(interfaces))
            }
        }
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn iface_list(interfaces: &[Interface]) -> String {
    interfaces
        .iter()
        .map(|i| {
            i.name
                .clone()
                .or_else(|| i.host.clone())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One step: what, to what, why, how, and its undo.
#[derive(Debug, Clone)]
pub struct AppStep {
    /// `create`, `recreate`, `start`, `stop`, `remove`, `wait`, …
    pub action: &'static str,
    /// The service, container, network or volume.
    pub object: String,
    /// Why (for create/recreate/start/remove).
    pub reason: Option<Reason>,
    /// What it does.
    pub op: Op,
    /// What undoes it when a later step fails.
    pub undo: Option<Op>,
}

impl AppStep {
    fn new(action: &'static str, object: impl Into<String>, op: Op) -> AppStep {
        AppStep {
            action,
            object: object.into(),
            reason: None,
            op,
            undo: None,
        }
    }

    fn because(mut self, reason: Reason) -> AppStep {
        self.reason = Some(reason);
        self
    }

    fn undone_by(mut self, undo: Op) -> AppStep {
        self.undo = Some(undo);
        self
    }

    /// `recreate web: stop shop-web-1 (config hash changed)`.
    pub fn describe(&self) -> String {
        let why = self
            .reason
            .map(|r| format!(" ({})", r.as_str()))
            .unwrap_or_default();
        format!(
            "{} {}: {}{why}",
            self.action,
            self.object,
            self.op.describe()
        )
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "action": self.action,
            "object": self.object,
            "reason": self.reason.map(Reason::as_str),
            "description": self.op.describe(),
            "undo": self.undo.as_ref().map(Op::describe),
        })
    }
}

/// The steps of one `up` or `down`.
#[derive(Debug, Clone, Default)]
pub struct AppPlan {
    /// The project.
    pub project: String,
    /// In order; undone in reverse when one fails (`up`).
    pub steps: Vec<AppStep>,
    /// Run only after every step succeeded: the removal of old containers.
    pub after_success: Vec<AppStep>,
    /// Services that stay as they are.
    pub unchanged: Vec<String>,
    /// Things to tell (orphans left, …).
    pub warnings: Vec<String>,
}

impl AppPlan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.after_success.is_empty()
    }

    /// The plan as JSON: `{project, steps: [{action, object, reason,
    /// description, undo}], after_success: […], unchanged: […], warnings}`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "project": self.project,
            "steps": self.steps.iter().map(AppStep::to_json).collect::<Vec<_>>(),
            "after_success": self.after_success.iter().map(AppStep::to_json).collect::<Vec<_>>(),
            "unchanged": self.unchanged,
            "warnings": self.warnings,
        })
    }
}

/// What `up` was asked to do.
#[derive(Debug, Clone)]
pub struct UpSettings {
    /// Create only; start nothing.
    pub no_start: bool,
    /// Remove containers of services the files no longer have.
    pub remove_orphans: bool,
    /// Seconds to wait for the old containers to stop.
    pub stop_timeout: Option<u32>,
    /// Bound on each wait for a dependency's condition or a new container.
    pub wait_timeout: Duration,
    /// Wait until every service runs (healthy when it has a healthcheck).
    pub wait: bool,
    /// Images to pull first.
    pub pull: Vec<ImageRef>,
}

/// What `up` read beyond the one state call, only when something changes.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Engine names of the project's networks that exist.
    pub networks: Vec<String>,
    /// Engine names of the project's volumes that exist.
    pub volumes: Vec<String>,
    /// Host ports of the containers being replaced, by service.
    pub pinned: std::collections::BTreeMap<String, PinnedPorts>,
}

/// The steps of `up`, from the decisions and what was read.
pub fn up_plan(
    project: &Project,
    diff: &Diff,
    extras: &Extras,
    settings: &UpSettings,
    kind: EngineKind,
) -> Result<AppPlan> {
    let mut plan = AppPlan {
        project: project.name.clone(),
        ..AppPlan::default()
    };
    let creates = diff
        .services
        .iter()
        .any(|s| matches!(s.change, Change::Create | Change::Recreate(_)));
    if creates {
        for image in &settings.pull {
            plan.steps.push(AppStep::new(
                "pull",
                image.as_str(),
                Op::Pull(image.clone()),
            ));
        }
        network_steps(project, diff, extras, kind, &mut plan)?;
        volume_steps(project, diff, extras, kind, &mut plan)?;
    }
    let stop_timeout = |service: &str| {
        settings.stop_timeout.or_else(|| {
            project
                .services
                .get(service)
                .and_then(|s| s.stop_grace_period)
                .map(|d| d.as_secs() as u32)
        })
    };
    for sd in &diff.services {
        let name = &sd.service;
        let service = &project.services[name];
        let container = ContainerRef::new(project.container_name(name))?;
        let hash = config_hash(project, name);
        let pinned = extras.pinned.get(name).cloned().unwrap_or_default();
        let one_shot = is_one_shot(project, name);
        let start = !settings.no_start;
        let build_spec = |hash: &str| container_spec(project, name, kind, hash, &pinned);
        match &sd.change {
            Change::Keep => {
                plan.unchanged.push(name.clone());
                for old in &sd.aside {
                    plan.after_success.push(
                        AppStep::new("remove", name, Op::Remove(ContainerRef::new(&old.name)?))
                            .because(Reason::LeftAside),
                    );
                }
            }
            Change::Create | Change::Recreate(_) => {
                let reason = match &sd.change {
                    Change::Recreate(r) => *r,
                    _ => Reason::Missing,
                };
                let mut spec = build_spec(&hash)?;
                let pin_later = kind == EngineKind::Docker && pinned.missing(&spec.ports).is_some();
                if pin_later {
                    spec = build_spec(&unpinned_hash(project, name))?;
                }
                // The containers this one replaces: under its name, and any
                // an interrupted update left aside.
                if let (Some(old), Change::Recreate(_)) = (&sd.current, &sd.change) {
                    set_aside(&mut plan, name, old, stop_timeout(name), reason)?;
                }
                for old in &sd.aside {
                    let old_name = ContainerRef::new(&old.name)?;
                    plan.after_success.push(
                        AppStep::new("remove", name, Op::Remove(old_name))
                            .because(Reason::LeftAside),
                    );
                }
                if start {
                    wait_for_dependencies(&mut plan, project, name, settings.wait_timeout)?;
                }
                let action = if matches!(sd.change, Change::Recreate(_)) {
                    "recreate"
                } else {
                    "create"
                };
                plan.steps.push(
                    AppStep::new(
                        action,
                        name,
                        Op::Run {
                            spec: Box::new(spec.clone()),
                            start,
                        },
                    )
                    .because(reason)
                    .undone_by(Op::Remove(container.clone())),
                );
                if start {
                    after_start(&mut plan, project, name, &container, one_shot, settings)?;
                    if pin_later {
                        plan.steps.push(AppStep::new(
                            "pin",
                            name,
                            Op::PinPorts {
                                spec: Box::new(spec),
                                hash: hash.clone(),
                                until: health_or_running(project, name),
                                timeout: settings.wait_timeout,
                            },
                        ));
                    }
                    if !service.interfaces.is_empty() {
                        plan.steps.push(
                            AppStep::new(
                                "attach",
                                name,
                                Op::Attach {
                                    name: container.clone(),
                                    interfaces: service.interfaces.clone(),
                                },
                            )
                            .undone_by(Op::Release {
                                name: container.clone(),
                                interfaces: service.interfaces.clone(),
                            }),
                        );
                    }
                }
            }
            Change::Start => {
                if let Some(current) = &sd.current {
                    let current_name = ContainerRef::new(&current.name)?;
                    wait_for_dependencies(&mut plan, project, name, settings.wait_timeout)?;
                    plan.steps.push(
                        AppStep::new("start", name, Op::Start(current_name.clone()))
                            .because(Reason::NotRunning)
                            .undone_by(Op::Stop {
                                name: current_name.clone(),
                                timeout: stop_timeout(name),
                            }),
                    );
                    after_start(&mut plan, project, name, &current_name, one_shot, settings)?;
                    attach_again(&mut plan, name, &current_name, current)?;
                }
                for old in &sd.aside {
                    plan.after_success.push(
                        AppStep::new("remove", name, Op::Remove(ContainerRef::new(&old.name)?))
                            .because(Reason::LeftAside),
                    );
                }
            }
            Change::Restore => {
                let keep = sd
                    .aside
                    .iter()
                    .find(|a| a.config_hash.as_deref() == Some(hash.as_str()))
                    .expect("Restore is decided only when such a container exists");
                let aside = ContainerRef::new(&keep.name)?;
                plan.steps.push(
                    AppStep::new(
                        "restore",
                        name,
                        Op::Rename {
                            from: aside.clone(),
                            to: container.clone(),
                        },
                    )
                    .because(Reason::LeftAside)
                    .undone_by(Op::Rename {
                        from: container.clone(),
                        to: aside,
                    }),
                );
                if start && keep.status != crate::container::Status::Running {
                    wait_for_dependencies(&mut plan, project, name, settings.wait_timeout)?;
                    plan.steps.push(
                        AppStep::new("start", name, Op::Start(container.clone())).undone_by(
                            Op::Stop {
                                name: container.clone(),
                                timeout: stop_timeout(name),
                            },
                        ),
                    );
                    after_start(&mut plan, project, name, &container, one_shot, settings)?;
                    attach_again(&mut plan, name, &container, keep)?;
                }
                for old in sd.aside.iter().filter(|a| a.id != keep.id) {
                    plan.after_success.push(
                        AppStep::new("remove", name, Op::Remove(ContainerRef::new(&old.name)?))
                            .because(Reason::LeftAside),
                    );
                }
            }
        }
    }
    if settings.wait && !settings.no_start {
        for sd in diff
            .services
            .iter()
            .filter(|s| s.change == Change::Keep && !is_one_shot(project, &s.service))
        {
            let name = ContainerRef::new(project.container_name(&sd.service))?;
            after_start(&mut plan, project, &sd.service, &name, false, settings)?;
        }
    }
    if settings.remove_orphans {
        for o in &diff.orphans {
            let n = ContainerRef::new(&o.name)?;
            plan.after_success
                .push(AppStep::new("remove", &o.name, Op::Remove(n)).because(Reason::Orphan));
        }
    } else if !diff.orphans.is_empty() {
        let names: Vec<&str> = diff.orphans.iter().map(|o| o.name.as_str()).collect();
        plan.warnings.push(format!(
            "containers of services the files no longer have: {} (--remove-orphans removes them)",
            names.join(", ")
        ));
    }
    Ok(plan)
}

/// Release interfaces, stop and rename aside the container `old` of `service`.
fn set_aside(
    plan: &mut AppPlan,
    service: &str,
    old: &AppContainer,
    timeout: Option<u32>,
    reason: Reason,
) -> Result<()> {
    let old_name = ContainerRef::new(&old.name)?;
    let aside = ContainerRef::new(aside_name(&old.id, &old.name))?;
    let running = old.status == crate::container::Status::Running;
    if running {
        if let Some(interfaces) = old_interfaces(old) {
            plan.steps.push(
                AppStep::new(
                    "release",
                    service,
                    Op::Release {
                        name: old_name.clone(),
                        interfaces: interfaces.clone(),
                    },
                )
                .undone_by(Op::Attach {
                    name: old_name.clone(),
                    interfaces,
                }),
            );
        }
        plan.steps.push(
            AppStep::new(
                "stop",
                service,
                Op::Stop {
                    name: old_name.clone(),
                    timeout,
                },
            )
            .because(reason)
            .undone_by(Op::Start(old_name.clone())),
        );
    }
    plan.steps.push(
        AppStep::new(
            "rename",
            service,
            Op::Rename {
                from: old_name.clone(),
                to: aside.clone(),
            },
        )
        .undone_by(Op::Rename {
            from: aside.clone(),
            to: old_name,
        }),
    );
    plan.after_success
        .push(AppStep::new("remove", service, Op::Remove(aside)).because(reason));
    Ok(())
}

/// The interfaces an existing container was plumbed with (its label).
fn old_interfaces(c: &AppContainer) -> Option<Vec<Interface>> {
    let json = c.interfaces.as_deref()?;
    let list: Vec<serde_json::Value> = serde_json::from_str(json).ok()?;
    let parsed: Vec<Interface> = list.iter().filter_map(interface_from_json).collect();
    (!parsed.is_empty()).then_some(parsed)
}

fn interface_from_json(v: &serde_json::Value) -> Option<Interface> {
    use super::file::InterfaceKind;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Some(Interface {
        kind: match v.get("type")?.as_str()? {
            "veth" => InterfaceKind::Veth,
            "macvlan" => InterfaceKind::Macvlan,
            "move" => InterfaceKind::Move,
            _ => return None,
        },
        name: s("name"),
        host: s("host"),
        parent: s("parent"),
        mode: s("mode"),
        bridge: s("bridge"),
        mtu: v.get("mtu").and_then(|m| m.as_u64()).map(|m| m as u32),
        addresses: v
            .get("addresses")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        gateway: s("gateway"),
        at: Default::default(),
    })
}

/// A restarted container gets its interfaces again (they went with its
/// network namespace when it stopped).
fn attach_again(
    plan: &mut AppPlan,
    service: &str,
    name: &ContainerRef,
    c: &AppContainer,
) -> Result<()> {
    if let Some(interfaces) = old_interfaces(c) {
        plan.steps.push(
            AppStep::new(
                "attach",
                service,
                Op::Attach {
                    name: name.clone(),
                    interfaces: interfaces.clone(),
                },
            )
            .undone_by(Op::Release {
                name: name.clone(),
                interfaces,
            }),
        );
    }
    Ok(())
}

/// Wait steps for the conditions of `service`'s dependencies.
fn wait_for_dependencies(
    plan: &mut AppPlan,
    project: &Project,
    service: &str,
    timeout: Duration,
) -> Result<()> {
    for (dep, d) in &project.services[service].depends_on {
        let until = match d.condition {
            DependencyCondition::ServiceStarted => continue,
            DependencyCondition::ServiceHealthy => Until::Healthy,
            DependencyCondition::ServiceCompletedSuccessfully => Until::CompletedSuccessfully,
        };
        let name = ContainerRef::new(project.container_name(dep))?;
        push_wait(
            plan,
            dep,
            Op::Wait {
                name,
                until,
                timeout,
            },
        );
    }
    Ok(())
}

/// After a start: wait until it runs (healthy with a healthcheck) — not for
/// a one-shot, which may be done already.
fn after_start(
    plan: &mut AppPlan,
    project: &Project,
    service: &str,
    name: &ContainerRef,
    one_shot: bool,
    settings: &UpSettings,
) -> Result<()> {
    if one_shot {
        return Ok(());
    }
    let until = health_or_running(project, service);
    let wait = Op::Wait {
        name: name.clone(),
        until,
        timeout: settings.wait_timeout,
    };
    push_wait(plan, service, wait);
    Ok(())
}

/// What a started container of `service` must reach: healthy when it has a
/// healthcheck, else running.
fn health_or_running(project: &Project, service: &str) -> Until {
    let has_health = project.services[service]
        .healthcheck
        .as_ref()
        .is_some_and(|h| {
            !h.disable
                && h.test
                    .as_ref()
                    .is_some_and(|t| t.first().map(String::as_str) != Some("NONE"))
        });
    match has_health {
        true => Until::Healthy,
        false => Until::Running,
    }
}

/// A wait step, unless the same wait is planned already since the
/// container's last (re)start: a condition that held still holds for the
/// next dependent.
fn push_wait(plan: &mut AppPlan, object: &str, wait: Op) {
    let Op::Wait { name, until, .. } = &wait else {
        return;
    };
    for step in plan.steps.iter().rev() {
        match &step.op {
            Op::Wait {
                name: n, until: u, ..
            } if n == name && u == until => return,
            Op::Run { spec, .. } | Op::PinPorts { spec, .. }
                if spec.opts.name.as_ref() == Some(name) =>
            {
                break
            }
            Op::Start(n) | Op::Stop { name: n, .. } if n == name => break,
            _ => {}
        }
    }
    plan.steps.push(AppStep::new("wait", object, wait));
}

fn network_steps(
    project: &Project,
    diff: &Diff,
    extras: &Extras,
    kind: EngineKind,
    plan: &mut AppPlan,
) -> Result<()> {
    let used: std::collections::BTreeSet<&String> = diff
        .services
        .iter()
        .filter_map(|s| project.services.get(&s.service))
        .flat_map(|s| s.networks.keys())
        .collect();
    for key in used {
        let net = &project.networks[key];
        let name = project.network_name(key);
        if extras.networks.contains(&name) {
            continue;
        }
        if net.external {
            return Err(crate::Error::new(
                crate::ErrorKind::NotFound,
                format!("external network {name} (key {key:?}) does not exist: create it first"),
            ));
        }
        let mut opts = NetworkCreateOptions::new(NetworkName::new(&name)?);
        opts.driver = net.driver.as_deref().map(NetworkName::new).transpose()?;
        opts.internal = net.internal;
        opts.subnet = net.subnet.as_deref().map(Subnet::new).transpose()?;
        opts.gateway = net
            .gateway
            .as_deref()
            .map(|g| {
                g.parse().map_err(|_| {
                    crate::Error::invalid_input(format!("network {key}: invalid gateway {g:?}"))
                })
            })
            .transpose()?;
        opts.validate()?;
        opts.labels = object_labels(
            &net.labels,
            project,
            super::state::labels::NETWORK,
            key,
            kind,
        )?;
        plan.steps.push(
            AppStep::new("create", &name, Op::CreateNetwork(opts))
                .because(Reason::Missing)
                .undone_by(Op::RemoveNetworks(vec![NetworkName::new(&name)?])),
        );
    }
    Ok(())
}

fn volume_steps(
    project: &Project,
    diff: &Diff,
    extras: &Extras,
    kind: EngineKind,
    plan: &mut AppPlan,
) -> Result<()> {
    let used: std::collections::BTreeSet<&String> = diff
        .services
        .iter()
        .filter_map(|s| project.services.get(&s.service))
        .flat_map(|s| s.volumes.iter())
        .filter_map(|m| {
            m.source
                .as_ref()
                .filter(|k| project.volumes.contains_key(*k))
        })
        .collect();
    for key in used {
        let vol = &project.volumes[key];
        let name = project.volume_name(key);
        if extras.volumes.contains(&name) {
            continue;
        }
        if vol.external {
            return Err(crate::Error::new(
                crate::ErrorKind::NotFound,
                format!("external volume {name} (key {key:?}) does not exist: create it first"),
            ));
        }
        let mut opts = VolumeCreateOptions::new(VolumeName::new(&name)?);
        opts.driver = vol.driver.as_deref().map(VolumeName::new).transpose()?;
        opts.options = vol
            .driver_opts
            .iter()
            .map(|(k, v)| KeyValue::pair(k, v))
            .collect::<Result<_>>()?;
        opts.labels = object_labels(
            &vol.labels,
            project,
            super::state::labels::VOLUME,
            key,
            kind,
        )?;
        plan.steps.push(
            AppStep::new("create", &name, Op::CreateVolume(opts))
                .because(Reason::Missing)
                .undone_by(Op::RemoveVolumes(vec![VolumeName::new(&name)?])),
        );
    }
    Ok(())
}

/// A network's or volume's labels: the file's, then the contract's
/// (project, its key in the file under `key_label`, version, and on podman
/// podman-compose's project label so its tools see the object too).
fn object_labels(
    own: &std::collections::BTreeMap<String, String>,
    project: &Project,
    key_label: &str,
    key: &str,
    kind: EngineKind,
) -> Result<Vec<KeyValue>> {
    use super::state::labels;
    let podman =
        (kind == EngineKind::Podman).then_some((labels::PODMAN_PROJECT, project.name.as_str()));
    own.iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([
            (labels::PROJECT, project.name.as_str()),
            (key_label, key),
            (labels::VERSION, super::service::VERSION),
        ])
        .chain(podman)
        .map(|(k, v)| KeyValue::pair(k, v))
        .collect()
}

/// What `down` removes.
#[derive(Debug, Clone, Copy, Default)]
pub struct DownSettings {
    /// Named volumes of the project too (never external ones).
    pub volumes: bool,
    /// Containers of services the files no longer have too.
    pub remove_orphans: bool,
    /// Seconds to wait for each container to stop.
    pub stop_timeout: Option<u32>,
}

/// The steps of `down`: containers in reverse dependency order (their host
/// interfaces released first), then the project's networks, then (`volumes`)
/// its named volumes. `down` goes on past a failed step and reports all.
pub fn down_plan(
    project: &Project,
    state: &[AppContainer],
    settings: DownSettings,
) -> Result<AppPlan> {
    let mut plan = AppPlan {
        project: project.name.clone(),
        ..AppPlan::default()
    };
    let mut order: Vec<String> = project.start_levels().into_iter().flatten().collect();
    order.reverse();
    let rank = |service: &str| order.iter().position(|s| s == service).unwrap_or(0);
    let known = |service: &str| {
        project.services.contains_key(service) || project.inactive.contains(service)
    };
    let mut doomed: Vec<&AppContainer> = state
        .iter()
        .filter(|c| !c.oneoff && (known(&c.service) || settings.remove_orphans))
        .collect();
    super::sort_by_text(&mut doomed, |c| {
        format!("{:08}{}", rank(&c.service), c.name)
    });
    for c in &doomed {
        let name = ContainerRef::new(&c.name)?;
        let timeout = settings.stop_timeout.or_else(|| {
            project
                .services
                .get(&c.service)
                .and_then(|s| s.stop_grace_period)
                .map(|d| d.as_secs() as u32)
        });
        let reason = if known(&c.service) {
            Reason::Down
        } else {
            Reason::Orphan
        };
        if c.status == crate::container::Status::Running {
            if let Some(interfaces) = old_interfaces(c) {
                plan.steps.push(AppStep::new(
                    "release",
                    &c.service,
                    Op::Release {
                        name: name.clone(),
                        interfaces,
                    },
                ));
            }
            plan.steps.push(
                AppStep::new(
                    "stop",
                    &c.name,
                    Op::Stop {
                        name: name.clone(),
                        timeout,
                    },
                )
                .because(reason),
            );
        }
        plan.steps
            .push(AppStep::new("remove", &c.name, Op::Remove(name)).because(reason));
    }
    let orphans: Vec<&str> = state
        .iter()
        .filter(|c| !known(&c.service) && !settings.remove_orphans)
        .map(|c| c.name.as_str())
        .collect();
    if !orphans.is_empty() {
        plan.warnings.push(format!(
            "left containers of services the files no longer have: {} (--remove-orphans)",
            orphans.join(", ")
        ));
    }
    let networks: Vec<NetworkName> = project
        .networks
        .iter()
        .filter(|(_, n)| !n.external)
        .map(|(k, _)| NetworkName::new(project.network_name(k)))
        .collect::<Result<_>>()?;
    if !networks.is_empty() {
        plan.steps.push(
            AppStep::new("remove", "networks", Op::RemoveNetworks(networks)).because(Reason::Down),
        );
    }
    if settings.volumes {
        let volumes: Vec<VolumeName> = project
            .volumes
            .iter()
            .filter(|(_, v)| !v.external)
            .map(|(k, _)| VolumeName::new(project.volume_name(k)))
            .collect::<Result<_>>()?;
        if !volumes.is_empty() {
            plan.steps.push(
                AppStep::new("remove", "volumes", Op::RemoveVolumes(volumes)).because(Reason::Down),
            );
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::diff::{diff, Policy};
    use crate::app::project::{load, LoadOptions};
    use crate::container::Status;

    fn project(text: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), text).unwrap();
        load(&LoadOptions {
            cwd: dir.path().to_path_buf(),
            project_name: Some("shop".into()),
            ..LoadOptions::default()
        })
        .unwrap()
    }

    fn running(p: &Project, service: &str, hash: &str) -> AppContainer {
        AppContainer {
            id: format!("{:0>64}", service.len()),
            name: p.container_name(service),
            service: service.into(),
            number: 1,
            oneoff: false,
            config_hash: Some(hash.into()),
            image: "busybox".into(),
            image_id: None,
            status: Status::Running,
            status_text: "Up".into(),
            exit_code: None,
            health: None,
            ports: String::new(),
            interfaces: None,
        }
    }

    const APP: &str = "services:\n  web:\n    image: busybox\n    ports: ['127.0.0.1::80']\n    depends_on:\n      job: {condition: service_completed_successfully}\n  job:\n    image: busybox\n";

    fn settings() -> UpSettings {
        UpSettings {
            no_start: false,
            remove_orphans: false,
            stop_timeout: None,
            wait_timeout: Duration::from_secs(5),
            wait: false,
            pull: Vec::new(),
        }
    }

    #[test]
    fn decisions_follow_hash_state_and_one_shots() {
        let p = project(APP);
        let targets = p.with_dependencies(&[]);
        let web_hash = config_hash(&p, "web");
        let mut job = running(&p, "job", &config_hash(&p, "job"));
        job.status = Status::Exited;
        job.exit_code = Some(0);
        let docker = EngineKind::Docker;
        let d = diff(
            &p,
            &targets,
            &[running(&p, "web", &web_hash), job.clone()],
            Policy::default(),
            docker,
        );
        assert!(
            d.services.iter().all(|s| s.change == Change::Keep),
            "a completed one-shot is not re-run: {d:?}"
        );
        assert!(!d.changes(false));
        job.exit_code = Some(3);
        let d = diff(
            &p,
            &targets,
            &[running(&p, "web", "other-tool"), job],
            Policy::default(),
            docker,
        );
        assert_eq!(
            d.services[0].change,
            Change::Start,
            "a failed job runs again"
        );
        assert_eq!(
            d.services[1].change,
            Change::Recreate(Reason::ConfigChanged)
        );
        let unpinned = running(&p, "web", &unpinned_hash(&p, "web"));
        let d = diff(&p, &["web".into()], &[unpinned], Policy::default(), docker);
        assert_eq!(
            d.services[0].change,
            Change::Recreate(Reason::PortsNotPinned)
        );
        let mut retagged = running(&p, "web", &web_hash);
        retagged.image = format!("sha256:{:0>64}", 1);
        let d = diff(
            &p,
            &["web".into()],
            &[retagged.clone()],
            Policy::default(),
            docker,
        );
        assert_eq!(d.services[0].change, Change::Recreate(Reason::ImageChanged));
        let d = diff(
            &p,
            &["web".into()],
            &[retagged],
            Policy::default(),
            EngineKind::Podman,
        );
        assert_eq!(
            d.services[0].change,
            Change::Keep,
            "podman lists the reference"
        );
        let mut aside = running(&p, "web", &web_hash);
        aside.name = format!("0123456789ab_{}", p.container_name("web"));
        let mut orphan = running(&p, "gone", "h");
        orphan.name = "shop-gone-1".into();
        let d = diff(
            &p,
            &["web".into()],
            &[aside, orphan],
            Policy::default(),
            docker,
        );
        assert_eq!(
            d.services[0].change,
            Change::Restore,
            "set aside by an interrupted update"
        );
        assert_eq!(d.orphans.len(), 1);
    }

    #[test]
    fn an_update_sets_the_old_container_aside_and_removes_it_only_after_success() {
        let p = project(APP);
        let old = running(&p, "web", "old-hash");
        let d = diff(
            &p,
            &["web".into()],
            std::slice::from_ref(&old),
            Policy::default(),
            EngineKind::Podman,
        );
        let mut extras = Extras {
            networks: vec!["shop_default".into()],
            ..Extras::default()
        };
        let mut pinned = PinnedPorts::default();
        pinned.insert(80, "tcp", "127.0.0.1", 41385);
        extras.pinned.insert("web".into(), pinned);
        let plan = up_plan(&p, &d, &extras, &settings(), EngineKind::Podman).unwrap();
        let steps: Vec<(&str, Option<String>)> = plan
            .steps
            .iter()
            .map(|s| (s.action, s.undo.as_ref().map(Op::describe)))
            .collect();
        let aside = aside_name(&old.id, &old.name);
        assert_eq!(
            steps,
            [
                ("stop", Some(format!("start {}", old.name))),
                ("rename", Some(format!("rename {aside} to {}", old.name))),
                ("wait", None),
                ("recreate", Some(format!("remove {}", old.name))),
                ("wait", None),
            ],
            "{plan:?}"
        );
        let Op::Run { spec, .. } = &plan.steps[3].op else {
            panic!("{plan:?}")
        };
        assert_eq!(
            spec.opts.publish[0].host_port(),
            Some(41385),
            "the old host port, pinned"
        );
        assert_eq!(plan.after_success.len(), 1);
        assert_eq!(
            plan.after_success[0].op.describe(),
            format!("remove {aside}")
        );
    }

    #[test]
    fn docker_pins_ports_the_engine_chose_and_down_goes_in_reverse_order() {
        let p = project(APP);
        let d = diff(
            &p,
            &p.with_dependencies(&[]),
            &[],
            Policy::default(),
            EngineKind::Docker,
        );
        let plan = up_plan(&p, &d, &Extras::default(), &settings(), EngineKind::Docker).unwrap();
        let actions: Vec<(&str, &str)> = plan
            .steps
            .iter()
            .map(|s| (s.action, s.object.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("create", "shop_default"),
                ("create", "job"),
                ("wait", "job"),
                ("create", "web"),
                ("wait", "web"),
                ("pin", "web")
            ]
        );
        let Op::Run { spec, .. } = &plan.steps[3].op else {
            panic!("{plan:?}")
        };
        let hash = spec
            .opts
            .labels
            .iter()
            .find(|l| l.key() == super::super::state::labels::HASH)
            .unwrap();
        assert_eq!(
            hash.value(),
            unpinned_hash(&p, "web"),
            "marked until pinned"
        );
        let state = [running(&p, "web", "h"), running(&p, "job", "h")];
        let down = down_plan(&p, &state, DownSettings::default()).unwrap();
        let order: Vec<(&str, &str)> = down
            .steps
            .iter()
            .map(|s| (s.action, s.object.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("stop", "shop-web-1"),
                ("remove", "shop-web-1"),
                ("stop", "shop-job-1"),
                ("remove", "shop-job-1"),
                ("remove", "networks")
            ]
        );
    }
}

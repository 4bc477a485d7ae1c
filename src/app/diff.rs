//! What each service needs, from the files and the one state read: a pure
//! decision per service (keep, create, recreate, start, restore) and why.

use std::collections::BTreeSet;

use serde::Serialize;

use super::hash::{config_hash, unpinned_hash};
use super::project::Project;
use super::service::image_of;
use super::state::{aside_of, AppContainer};
use crate::container::Status;
use crate::engine::EngineKind;

/// Why a step is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The service has no container.
    Missing,
    /// The container's config hash is not the files' (or another tool's).
    ConfigChanged,
    /// The image the service names is not the one the container runs.
    ImageChanged,
    /// Its published ports still wait to be pinned (docker's first deploy).
    PortsNotPinned,
    /// `--force-recreate`.
    Forced,
    /// It exists but does not run.
    NotRunning,
    /// Its service is not in the files.
    Orphan,
    /// An update was interrupted: the old container is still set aside.
    LeftAside,
    /// The project is being removed.
    Down,
}

impl Reason {
    /// In words, for `plan`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::ConfigChanged => "config hash changed",
            Reason::ImageChanged => "image changed",
            Reason::PortsNotPinned => "host ports not pinned yet",
            Reason::Forced => "--force-recreate",
            Reason::NotRunning => "not running",
            Reason::Orphan => "orphan",
            Reason::LeftAside => "left aside by an interrupted update",
            Reason::Down => "down",
        }
    }
}

/// What a service needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing: it is what the files say, and running (or done).
    Keep,
    /// A new container.
    Create,
    /// A new container replacing `current`, which is set aside first.
    Recreate(Reason),
    /// Start the existing container.
    Start,
    /// The container set aside by an interrupted update is what the files
    /// say: give it its name back (and start it).
    Restore,
}

/// One service's decision.
#[derive(Debug, Clone)]
pub struct ServiceDiff {
    /// The service.
    pub service: String,
    /// What it needs.
    pub change: Change,
    /// Its container under its own name, if any.
    pub current: Option<AppContainer>,
    /// Its containers set aside by an earlier, interrupted update.
    pub aside: Vec<AppContainer>,
}

/// The decisions for a whole `up`.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// The services `up` looks at, in start order.
    pub services: Vec<ServiceDiff>,
    /// Containers of services the files do not have (nor deactivate).
    pub orphans: Vec<AppContainer>,
}

impl Diff {
    /// Whether anything must change (orphans only with `remove_orphans`).
    pub fn changes(&self, remove_orphans: bool) -> bool {
        (remove_orphans && !self.orphans.is_empty())
            || self
                .services
                .iter()
                .any(|s| s.change != Change::Keep || !s.aside.is_empty())
    }
}

/// How `up` may change containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Recreate even what is up to date.
    pub force_recreate: bool,
    /// Never recreate; only create what is missing and start what is stopped.
    pub no_recreate: bool,
    /// Leave containers created, not started.
    pub no_start: bool,
    /// What the services' image references name now: reference → image id
    /// (what this `up` built, and on podman what one `image inspect` of the
    /// services' images said). A container whose image id is another runs
    /// an old image: rebuilt or re-tagged under the same name, by anyone.
    /// (podman's `ps` lists a container's image id and the name it was
    /// created with, never whether that name now names another image;
    /// docker's `ps` does show it: see [`state`](super::state).)
    pub image_ids: std::collections::BTreeMap<String, String>,
}

/// Decide every service of `targets` (in start order).
///
/// ```
/// use dockhand::app::{diff::{diff, Change, Policy}, project::Project};
/// let mut p = Project::empty("shop");
/// p.services.insert("web".into(), Default::default());
/// let d = diff(&p, &["web".into()], &[], Policy::default(), dockhand::EngineKind::Docker);
/// assert_eq!(d.services[0].change, Change::Create);
/// ```
pub fn diff(
    project: &Project,
    targets: &[String],
    state: &[AppContainer],
    policy: Policy,
    kind: EngineKind,
) -> Diff {
    let mine: Vec<&AppContainer> = state.iter().filter(|c| !c.oneoff).collect();
    let services = targets
        .iter()
        .map(|name| {
            let own_names = [
                project.container_name(name),
                format!("{}_{name}_1", project.name),
            ];
            let of_service: Vec<&AppContainer> = mine
                .iter()
                .copied()
                .filter(|c| c.service == *name)
                .collect();
            let current = of_service
                .iter()
                .find(|c| own_names.contains(&c.name))
                .or_else(|| of_service.iter().find(|c| !c.is_aside()))
                .map(|c| (*c).clone());
            let aside: Vec<AppContainer> = of_service
                .iter()
                .filter(|c| {
                    c.is_aside()
                        && aside_of(&c.name).is_some_and(|n| own_names.iter().any(|o| o == n))
                })
                .map(|c| (*c).clone())
                .collect();
            let hash = config_hash(project, name);
            let change = match &current {
                None => match aside
                    .iter()
                    .any(|a| a.config_hash.as_deref() == Some(hash.as_str()))
                {
                    true => Change::Restore,
                    false => Change::Create,
                },
                Some(c) => decide(project, name, c, &hash, &policy, kind),
            };
            ServiceDiff {
                service: name.clone(),
                change,
                current,
                aside,
            }
        })
        .collect();
    let known: BTreeSet<&str> = project
        .services
        .keys()
        .chain(project.inactive.iter())
        .map(String::as_str)
        .collect();
    let orphans = mine
        .into_iter()
        .filter(|c| !known.contains(c.service.as_str()))
        .cloned()
        .collect();
    Diff { services, orphans }
}

fn decide(
    project: &Project,
    name: &str,
    c: &AppContainer,
    hash: &str,
    policy: &Policy,
    kind: EngineKind,
) -> Change {
    let image = project
        .services
        .get(name)
        .map(|s| image_of(project, name, s))
        .unwrap_or_default();
    let reason = if policy.force_recreate {
        Some(Reason::Forced)
    } else if c.config_hash.as_deref() == Some(unpinned_hash(project, name).as_str()) {
        Some(Reason::PortsNotPinned)
    } else if c.config_hash.as_deref() != Some(hash) {
        Some(Reason::ConfigChanged)
    } else if kind == EngineKind::Docker
        && c.image.starts_with("sha256:")
        && !image.starts_with("sha256:")
    {
        // docker lists the image id instead of the reference once the
        // reference names another image (state.rs).
        Some(Reason::ImageChanged)
    } else if let (Some(now), Some(running)) = (policy.image_ids.get(&image), &c.image_id) {
        let bare = |id: &str| id.trim_start_matches("sha256:").to_string();
        (bare(now) != bare(running)).then_some(Reason::ImageChanged)
    } else {
        None
    };
    match reason {
        // --no-recreate leaves changed containers alone (compose's rule);
        // one still waiting for its ports to be pinned is only started.
        Some(r) if !(policy.no_recreate || policy.no_start && r == Reason::PortsNotPinned) => {
            Change::Recreate(r)
        }
        _ if policy.no_start => Change::Keep,
        _ if needs_start(c, is_one_shot(project, name)) => Change::Start,
        _ => Change::Keep,
    }
}

/// A service another one waits for with `service_completed_successfully`:
/// a job that runs to its end (a migration).
pub fn is_one_shot(project: &Project, name: &str) -> bool {
    project.services.values().any(|s| {
        s.depends_on.get(name).is_some_and(|d| {
            d.condition == super::file::DependencyCondition::ServiceCompletedSuccessfully
        })
    })
}

/// A container that should be started by `up`: created, or stopped — except
/// a one-shot that completed (exited 0): compose runs it again on every
/// `up`; dockhand does not re-run a migration whose config did not change
/// (vendor-docs/compose.md, "up").
fn needs_start(c: &AppContainer, one_shot: bool) -> bool {
    match c.status {
        Status::Running | Status::Restarting => false,
        Status::Exited => !(one_shot && c.exit_code == Some(0)),
        _ => true,
    }
}

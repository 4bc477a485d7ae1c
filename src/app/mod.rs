//! Apps: compose files deployed, updated (atomically, with rollback) and
//! removed — plans over the resources' plans.
//!
//! | module | what is in it |
//! |---|---|
//! | [`yaml`] | YAML text → a spanned tree (anchors, merge keys, duplicate keys, the line of every key) |
//! | [`interpolate`] | `${VAR…}` interpolation and the `.env` file |
//! | [`file`](mod@file) | one file, strictly, into the typed model (unknown or unsupported keys refused with file, line, service, key) |
//! | [`merge`] | several `-f` files merged as compose merges them |
//! | [`project`] | the normalised project: files found, name, profiles, env-files, paths, references checked; `config` |
//! | [`service`] | a service's container: name, compose labels, `RunOptions` |
//! | [`hash`] | the config hash that tells a changed service |
//! | [`state`] | what exists, read in one `ps` call |
//! | [`diff`] | per service: keep, create, recreate, start, restore — and why |
//! | [`plan`] | the steps (each with its undo) of `up` and `down` |
//! | [`apply`] | steps run in order, undone in reverse on failure |
//! | [`interfaces`] | `x-dockhand.interfaces`: host interfaces plumbed into a service |
//!
//! ```no_run
//! use dockhand::app::{project::{load, LoadOptions}, UpOptions};
//! let engine = dockhand::Engine::detect()?;
//! let app = engine.app(load(&LoadOptions::from_process())?);
//! let plan = app.plan_up(&UpOptions::default())?;
//! for step in &plan.steps { println!("{}", step.describe()); }
//! app.up(&UpOptions::default())?;
//! # Ok::<(), dockhand::Error>(())
//! ```
//!
//! The design, the contract with docker-compose and podman-compose, and the
//! deliberate differences are in `docs/apps.md`.

pub mod apply;
pub mod diff;
pub mod file;
pub mod hash;
pub mod interfaces;
pub mod interpolate;
pub mod merge;
pub mod plan;
pub mod ports;
pub mod project;
pub mod service;
pub mod state;
pub mod yaml;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::container::lock::LockSet;
use crate::container::logs::{LogLine, LogLines, LogOptions};
use crate::container::{Action, ActionResult, ExecOptions, Status};
use crate::engine::batch::Named;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::image::build::BuildOptions;
use crate::image::context::ContextSource;
use crate::image::Image;
use crate::input::{
    BuildStage, ContainerRef, ImageRef, ImageTag, KeyValue, NetworkName, PullPolicy, VolumeName,
};
use apply::Applied;
use diff::{Change, Policy};
use plan::{AppPlan, DownSettings, Extras, UpSettings};
use project::Project;
use state::AppContainer;

/// Sort `items` by a text key. Every sort of the app goes through this one
/// instantiation of the standard sort (on `(String, usize)`): each sort of
/// another element type costs the static binary several KiB.
pub(crate) fn sort_by_text<T>(items: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut keys: Vec<(String, usize)> =
        items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    keys.sort();
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(keys.into_iter().filter_map(|(_, i)| slots[i].take()));
}

/// Default bound on each wait of an `up` (a dependency's condition, a new
/// container running or healthy).
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(120);

/// What `up` does.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Only these services (and their dependencies unless `no_deps`); all when empty.
    pub services: Vec<String>,
    /// Not the dependencies of `services`.
    pub no_deps: bool,
    /// Create, do not start.
    pub no_start: bool,
    /// Recreate even what is up to date.
    pub force_recreate: bool,
    /// Never recreate.
    pub no_recreate: bool,
    /// Remove containers of services the files no longer have.
    pub remove_orphans: bool,
    /// Wait until every service runs (healthy when it has a healthcheck).
    pub wait: bool,
    /// Bound on each wait.
    pub wait_timeout: Duration,
    /// Seconds old containers get to stop.
    pub stop_timeout: Option<u32>,
    /// When to pull: `Missing` (one `image inspect` when something is
    /// created), `Always` (every image of a service being created), `Never`
    /// (a missing image fails the creation); `Newer` counts as `Always`.
    pub pull: PullPolicy,
    /// Build the images of services with `build` first.
    pub build: bool,
}

impl Default for UpOptions {
    fn default() -> UpOptions {
        UpOptions {
            services: Vec::new(),
            no_deps: false,
            no_start: false,
            force_recreate: false,
            no_recreate: false,
            remove_orphans: false,
            wait: false,
            wait_timeout: DEFAULT_WAIT_TIMEOUT,
            stop_timeout: None,
            pull: PullPolicy::Missing,
            build: false,
        }
    }
}

/// What `up` did.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    /// The project.
    pub project: String,
    /// The steps done, in order.
    pub done: Vec<String>,
    /// Services left as they were.
    pub unchanged: Vec<String>,
    /// Failures after success (an old container that could not be removed).
    pub failures: Vec<String>,
    /// Warnings (orphans, unset variables).
    pub warnings: Vec<String>,
}

/// What `down` did.
#[derive(Debug, Clone, Serialize)]
pub struct DownReport {
    /// The project.
    pub project: String,
    /// The steps done.
    pub done: Vec<String>,
    /// The networks and volumes that were gone already (not removed by
    /// this `down`): `{"kind": "network"|"volume", "name"}`.
    pub absent: Vec<apply::Absent>,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// A line of an app's log: a container's [`LogLine`] and its service. As
/// JSON: `{"service", "container", "stream", "timestamp", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppLogLine {
    /// The service (shared by its lines).
    pub service: Arc<str>,
    /// The line.
    pub line: LogLine,
}

impl Serialize for AppLogLine {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("service", &*self.service)?;
        map.serialize_entry("container", &*self.line.container)?;
        map.serialize_entry("stream", &self.line.stream)?;
        map.serialize_entry("timestamp", &self.line.timestamp)?;
        map.serialize_entry("message", &self.line.text())?;
        if self.line.partial {
            map.serialize_entry("partial", &true)?;
        }
        map.end()
    }
}

/// The merged log lines of an app's services, each with its service.
#[derive(Debug)]
pub struct AppLogs {
    lines: LogLines,
    services: BTreeMap<String, Arc<str>>,
}

impl AppLogs {
    /// Whether a line is ready without waiting.
    pub fn has_ready(&mut self) -> bool {
        self.lines.has_ready()
    }
}

impl Iterator for AppLogs {
    type Item = Result<AppLogLine>;

    fn next(&mut self) -> Option<Result<AppLogLine>> {
        let line = self.lines.next()?;
        Some(line.map(|line| {
            AppLogLine {
                service: self
                    .services
                    .get(&*line.container)
                    .cloned()
                    .unwrap_or_else(|| Arc::from("")),
                line,
            }
        }))
    }
}

/// An app: a loaded project on an engine. `engine.app(project)`.
#[derive(Debug)]
pub struct App<'e> {
    engine: &'e Engine,
    project: Project,
}

impl Engine {
    /// The app `project` describes, on this engine.
    ///
    /// ```no_run
    /// use dockhand::app::project::{load, LoadOptions};
    /// let engine = dockhand::Engine::detect()?;
    /// let app = engine.app(load(&LoadOptions::from_process())?);
    /// for c in app.containers()? { println!("{} {}", c.name, c.status.as_str()); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn app(&self, project: Project) -> App<'_> {
        App {
            engine: self,
            project,
        }
    }
}

impl App<'_> {
    /// The project.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// The project's containers: one engine call.
    ///
    /// ```no_run
    /// # let engine = dockhand::Engine::detect()?;
    /// # let app = engine.app(dockhand::app::project::Project::empty("shop"));
    /// let running = app.containers()?.into_iter().filter(|c| c.status == dockhand::container::Status::Running).count();
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn containers(&self) -> Result<Vec<AppContainer>> {
        let mut found = self
            .engine
            .run(state::state_plan(self.engine.kind(), &self.project.name))?;
        sort_by_text(&mut found, |c| format!("{}\0{}", c.service, c.name));
        Ok(found)
    }

    /// The one project lock: two `up`s (or an `up` and a `down`) of one
    /// project on one endpoint never interleave (the hosts of a fleet do not
    /// wait for each other); a second waits up to the engine's lock
    /// timeout, then fails with Conflict (exit 5).
    fn lock(&self) -> Result<Option<LockSet>> {
        crate::container::lock::lock_for(self.engine, "app", [self.project.name.as_str()])
    }

    /// The services an operation on `wanted` concerns (all when empty),
    /// with their dependencies unless `no_deps`, in start order.
    fn targets(&self, wanted: &[String], no_deps: bool) -> Result<Vec<String>> {
        for w in wanted {
            if !self.project.services.contains_key(w) {
                return Err(Error::invalid_input(format!("no such service: {w}")));
            }
        }
        Ok(match (wanted.is_empty(), no_deps) {
            (false, true) => self
                .project
                .with_dependencies(&[])
                .into_iter()
                .filter(|s| wanted.contains(s))
                .collect(),
            _ => self.project.with_dependencies(wanted),
        })
    }

    /// What `up` would do, without doing it: one engine call when nothing
    /// changes (podman: two at once, the second an `image inspect` of the
    /// services' images, to see one rebuilt under the same name); the networks,
    /// volumes, images and old containers are read (one call each) only when
    /// something does.
    ///
    /// ```no_run
    /// # let engine = dockhand::Engine::detect()?;
    /// # let app = engine.app(dockhand::app::project::Project::empty("shop"));
    /// let plan = app.plan_up(&Default::default())?;
    /// println!("{}", serde_json::to_string_pretty(&plan.to_json()).unwrap());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn plan_up(&self, opts: &UpOptions) -> Result<AppPlan> {
        self.plan(opts, BTreeMap::new())
    }

    /// [`App::plan_up`] after `built` (image → id) was built.
    fn plan(&self, opts: &UpOptions, built: BTreeMap<String, String>) -> Result<AppPlan> {
        let targets = self.targets(&opts.services, opts.no_deps)?;
        // Everything that can be refused is refused before any engine call.
        let kind = self.engine.kind();
        for name in &targets {
            service::container_spec(&self.project, name, kind, "", &Default::default())?;
            for i in &self.project.services[name].interfaces {
                interfaces::plumbing(i, name)?;
            }
        }
        let (state, images) = match kind {
            // Two independent reads: made at once, so that a no-op `up` on
            // podman takes about one call's time, not two.
            crate::EngineKind::Podman => std::thread::scope(|s| {
                let images = s.spawn(|| self.images_now(&targets));
                let state = self.containers();
                let images = images
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                (state, images.map(Some))
            }),
            _ => (self.containers(), Ok(None)),
        };
        let (state, images) = (state?, images?);
        let mut image_ids = built;
        for (reference, image) in images.iter().flat_map(|i| i.iter()) {
            image_ids
                .entry(reference.clone())
                .or_insert_with(|| image.id.clone());
        }
        let policy = Policy {
            force_recreate: opts.force_recreate,
            no_recreate: opts.no_recreate,
            no_start: opts.no_start,
            image_ids,
        };
        let diff = diff::diff(&self.project, &targets, &state, policy, kind);
        let mut extras = Extras::default();
        let mut pull = Vec::new();
        if diff.changes(opts.remove_orphans) {
            extras = self.read_extras(&diff)?;
            pull = self.images_to_pull(&diff, opts.pull, images.as_deref())?;
        }
        let settings = UpSettings {
            no_start: opts.no_start,
            remove_orphans: opts.remove_orphans,
            stop_timeout: opts.stop_timeout,
            wait_timeout: opts.wait_timeout,
            wait: opts.wait,
            pull,
        };
        let mut plan = plan::up_plan(&self.project, &diff, &extras, &settings, kind)?;
        plan.warnings
            .splice(0..0, self.project.warnings.iter().cloned());
        Ok(plan)
    }

    /// The networks and volumes that exist, and the host ports of the
    /// containers being replaced.
    fn read_extras(&self, diff: &diff::Diff) -> Result<Extras> {
        let nets: Vec<NetworkName> = self
            .project
            .networks
            .keys()
            .map(|k| NetworkName::new(self.project.network_name(k)))
            .collect::<Result<_>>()?;
        let vols: Vec<VolumeName> = self
            .project
            .volumes
            .keys()
            .map(|k| VolumeName::new(self.project.volume_name(k)))
            .collect::<Result<_>>()?;
        let networks = match nets.is_empty() {
            true => Vec::new(),
            false => self
                .engine
                .networks()
                .inspect(&nets)?
                .items
                .into_iter()
                .map(|n| n.name)
                .collect(),
        };
        let volumes = match vols.is_empty() {
            true => Vec::new(),
            false => self
                .engine
                .volumes()
                .inspect(&vols)?
                .items
                .into_iter()
                .map(|v| v.name)
                .collect(),
        };
        let old: Vec<(&str, &AppContainer)> = diff
            .services
            .iter()
            .filter(|s| matches!(s.change, Change::Recreate(_) | Change::Create))
            .flat_map(|s| {
                s.current
                    .iter()
                    .chain(s.aside.iter())
                    .map(move |c| (s.service.as_str(), c))
            })
            .collect();
        let mut pinned: BTreeMap<String, ports::PinnedPorts> = BTreeMap::new();
        if !old.is_empty() {
            let refs = ContainerRef::many(old.iter().map(|(_, c)| c.id.clone()))?;
            let found = self.engine.containers().inspect(&refs)?;
            for (svc, c) in old {
                if let Some(inspected) = found.items.iter().find(|i| i.id == c.id) {
                    pinned
                        .entry(svc.to_string())
                        .or_default()
                        .add_missing(ports::PinnedPorts::held_by(inspected));
                }
            }
        }
        Ok(Extras {
            networks,
            volumes,
            pinned,
        })
    }

    /// What the image references of `services` name now, in one `image
    /// inspect`: (reference, image) of those that exist. podman needs it to
    /// see an image rebuilt or re-tagged under a service's image name: its
    /// `ps` lists a container's image id and the name it was created with,
    /// never whether that name now names another image (nor can its
    /// `ancestor` filter tell: it compares names as text). docker's `ps`
    /// shows it in the one state read (state.rs), so docker skips this.
    fn images_now(&self, services: &[String]) -> Result<Vec<(String, Image)>> {
        let mut names: Vec<String> = services
            .iter()
            .filter_map(|s| self.project.services.get(s).map(|svc| (s, svc)))
            .map(|(s, svc)| service::image_of(&self.project, s, svc))
            .collect();
        names.sort();
        names.dedup();
        let refs = ImageRef::many(names)?;
        let found = self.engine.images().inspect(&refs)?;
        Ok(refs
            .into_iter()
            .filter_map(|r| {
                let image = found.items.iter().find(|i| i.is_named_by(r.as_str()))?;
                Some((r.to_string(), image.clone()))
            })
            .collect())
    }

    /// The images to pull before anything else; `known`: what
    /// [`App::images_now`] found already (no second `image inspect`).
    fn images_to_pull(
        &self,
        diff: &diff::Diff,
        policy: PullPolicy,
        known: Option<&[(String, Image)]>,
    ) -> Result<Vec<ImageRef>> {
        let mut images: Vec<String> = diff
            .services
            .iter()
            .filter(|s| matches!(s.change, Change::Create | Change::Recreate(_)))
            .filter_map(|s| self.project.services.get(&s.service).map(|svc| (s, svc)))
            .filter(|(_, svc)| svc.image.is_some() && svc.build.is_none())
            .map(|(s, svc)| service::image_of(&self.project, &s.service, svc))
            .collect();
        images.sort();
        images.dedup();
        let refs = ImageRef::many(images)?;
        match policy {
            PullPolicy::Never => Ok(Vec::new()),
            PullPolicy::Always | PullPolicy::Newer => Ok(refs),
            PullPolicy::Missing if refs.is_empty() => Ok(Vec::new()),
            PullPolicy::Missing => {
                let present: Vec<String> = match known {
                    Some(known) => known.iter().map(|(r, _)| r.clone()).collect(),
                    None => {
                        let found = self.engine.images().inspect(&refs)?;
                        let missing = found.missing;
                        refs.iter()
                            .map(|r| r.to_string())
                            .filter(|r| !missing.contains(r))
                            .collect()
                    }
                };
                Ok(refs
                    .into_iter()
                    .filter(|r| !present.iter().any(|p| p == r.as_str()))
                    .collect())
            }
        }
    }

    /// Bring the app to what the files say: create what is missing,
    /// recreate what changed (each old container set aside until its
    /// replacement runs), start what is stopped, leave the rest. On any
    /// failure every step is undone in reverse and the old containers run
    /// again under their names; the error says which step failed and what
    /// was undone. An `up` of an unchanged app makes one engine call on
    /// docker, two on podman (the `ps`, and an `image inspect` of the
    /// services' images, which podman's `ps` cannot show).
    ///
    /// ```no_run
    /// # let engine = dockhand::Engine::detect()?;
    /// # let app = engine.app(dockhand::app::project::Project::empty("shop"));
    /// let report = app.up(&dockhand::app::UpOptions { wait: true, ..Default::default() })?;
    /// println!("{} steps, unchanged: {:?}", report.done.len(), report.unchanged);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn up(&self, opts: &UpOptions) -> Result<UpReport> {
        let _lock = self.lock()?;
        let built = match opts.build {
            true => self.build_images(&opts.services)?,
            false => BTreeMap::new(),
        };
        let plan = self.plan(opts, built)?;
        let unchanged = plan.unchanged.clone();
        let warnings = plan.warnings.clone();
        let Applied { done, failures, .. } = apply::apply(self.engine, plan)?;
        Ok(UpReport {
            project: self.project.name.clone(),
            done,
            unchanged,
            failures,
            warnings,
        })
    }

    /// What `down` would do.
    pub fn plan_down(&self, settings: DownSettings) -> Result<AppPlan> {
        let state = self.containers()?;
        plan::down_plan(&self.project, &state, settings)
    }

    /// Remove the app: its containers (reverse dependency order, host
    /// interfaces released first), its networks, and with
    /// `settings.volumes` its named volumes — never external ones. Goes on
    /// past failures and reports them all in one error. A project that does
    /// not exist is removed already.
    ///
    /// ```no_run
    /// # let engine = dockhand::Engine::detect()?;
    /// # let app = engine.app(dockhand::app::project::Project::empty("shop"));
    /// app.down(dockhand::app::plan::DownSettings { volumes: true, ..Default::default() })?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn down(&self, settings: DownSettings) -> Result<DownReport> {
        let _lock = self.lock()?;
        let plan = self.plan_down(settings)?;
        let warnings = plan.warnings.clone();
        let podman_compose_pod = self.engine.kind() == crate::EngineKind::Podman
            && plan
                .steps
                .iter()
                .any(|s| s.object.starts_with(&format!("{}_", self.project.name)));
        let applied = apply::apply_all(self.engine, plan)?;
        if podman_compose_pod {
            // podman-compose groups its containers in a pod `pod_PROJECT`.
            let rm = crate::Plan::write(
                crate::engine::Argv::new("pod")
                    .args(["rm", "--ignore"])
                    .operands([format!("pod_{}", self.project.name)]),
                |_| Ok(()),
            );
            if let Err(e) = self.engine.run(rm) {
                log::warn!(
                    "could not remove podman-compose's pod pod_{}: {e}",
                    self.project.name
                );
            }
        }
        match applied.failures.is_empty() {
            true => Ok(DownReport {
                project: self.project.name.clone(),
                done: applied.done,
                absent: applied.absent,
                warnings,
            }),
            false => Err(Error::new(
                ErrorKind::EngineFailure,
                format!(
                    "down of {}: {} step(s) failed: {}",
                    self.project.name,
                    applied.failures.len(),
                    applied.failures.join("; ")
                ),
            )),
        }
    }

    /// The containers of `services` (all when empty) that exist.
    fn existing(&self, services: &[String]) -> Result<Vec<AppContainer>> {
        self.targets(services, true)?;
        Ok(self
            .containers()?
            .into_iter()
            .filter(|c| {
                !c.oneoff && !c.is_aside() && self.project.services.contains_key(&c.service)
            })
            .filter(|c| services.is_empty() || services.contains(&c.service))
            .collect())
    }

    /// Run `action` on the containers of `services` (all when empty), in
    /// dependency order (reverse for stop), one engine call per container.
    fn act(
        &self,
        action: &Action,
        services: &[String],
        reverse: bool,
    ) -> Result<Vec<ActionResult>> {
        let _lock = self.lock()?;
        let mut found = self.existing(services)?;
        let order = self.project.with_dependencies(&[]);
        sort_by_text(&mut found, |c| {
            format!(
                "{:08}",
                order.iter().position(|s| *s == c.service).unwrap_or(0)
            )
        });
        if reverse {
            found.reverse();
        }
        let mut results = Vec::new();
        for c in found {
            let mut action = action.clone();
            if let (Action::Stop { timeout: None }, Some(grace)) =
                (&action, self.project.services[&c.service].stop_grace_period)
            {
                action = Action::Stop {
                    timeout: Some(grace.as_secs() as u32),
                };
            }
            let name = ContainerRef::new(&c.name)?;
            results.extend(self.engine.containers().act(&action, &[name])?);
        }
        Ok(results)
    }

    /// Start the stopped containers of `services` (all when empty).
    pub fn start(&self, services: &[String]) -> Result<Vec<ActionResult>> {
        self.act(&Action::Start, services, false)
    }

    /// Stop the containers of `services` (all when empty), dependents first.
    pub fn stop(&self, services: &[String], timeout: Option<u32>) -> Result<Vec<ActionResult>> {
        self.act(&Action::Stop { timeout }, services, true)
    }

    /// Restart the containers of `services` (all when empty).
    pub fn restart(&self, services: &[String]) -> Result<Vec<ActionResult>> {
        self.act(&Action::Restart, services, false)
    }

    /// The merged logs of `services` (all when empty), each line with its
    /// service.
    pub fn logs(&self, services: &[String], opts: &LogOptions) -> Result<AppLogs> {
        let found = self.existing(services)?;
        let names = ContainerRef::many(found.iter().map(|c| c.name.clone()))?;
        if names.is_empty() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("project {} has no containers", self.project.name),
            ));
        }
        let services = found
            .into_iter()
            .map(|c| (c.name, Arc::from(c.service)))
            .collect();
        Ok(AppLogs {
            lines: self.engine.containers().log_lines(&names, opts)?,
            services,
        })
    }

    /// Run a command in the running container of `service`; its exit code.
    pub fn exec(&self, service: &str, opts: &ExecOptions) -> Result<i32> {
        let found = self.existing(&[service.to_string()])?;
        let c = found
            .iter()
            .find(|c| c.status == Status::Running)
            .or(found.first())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("service {service} has no container"),
                )
            })?;
        self.engine
            .containers()
            .exec(&ContainerRef::new(&c.name)?, opts)
    }

    /// Pull the images of `services` (all when empty) that are not built.
    pub fn pull(&self, services: &[String]) -> Result<Vec<String>> {
        let targets = self.targets(services, true)?;
        let mut images: Vec<String> = targets
            .iter()
            .map(|s| &self.project.services[s])
            .filter_map(|s| s.image.clone())
            .collect();
        images.sort();
        images.dedup();
        for image in &images {
            let opts = apply::pull_options(&ImageRef::new(image)?);
            self.engine.images().pull(&opts, None)?;
        }
        Ok(images)
    }

    /// Build the images of `services` (all when empty) that have `build`;
    /// each is tagged with the service's image name.
    pub fn build(&self, services: &[String]) -> Result<Vec<String>> {
        Ok(self.build_images(services)?.into_keys().collect())
    }

    /// [`App::build`], the images' ids by name.
    fn build_images(&self, services: &[String]) -> Result<BTreeMap<String, String>> {
        let targets = self.targets(services, true)?;
        let mut built = BTreeMap::new();
        for name in targets {
            let s = &self.project.services[&name];
            let Some(b) = &s.build else { continue };
            let at =
                s.at.get("build")
                    .cloned()
                    .unwrap_or_else(|| s.defined_at.clone());
            // Checked when the file was read.
            let context = ContextSource::parse(&b.context)?;
            // A directory's Dockerfile is beside it; a fetched context's is
            // inside it, where the fetch looks.
            let dockerfile = match &context {
                ContextSource::Dir { path } => b.dockerfile.as_ref().map(|d| path.join(d)),
                _ => b.dockerfile.as_ref().map(std::path::PathBuf::from),
            };
            let mut opts = BuildOptions::new(context);
            opts.dockerfile = dockerfile;
            opts.target = b.target.as_deref().map(BuildStage::new).transpose()?;
            let image = service::image_of(&self.project, &name, s);
            opts.tags =
                vec![ImageTag::new(&image)
                    .map_err(|e| at.error(Some(&name), "image", e.message()))?];
            opts.build_args = b
                .args
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| KeyValue::pair(k, v)))
                .collect::<Result<_>>()?;
            let made = self.engine.images().build(&opts)?;
            built.insert(image, made.id);
        }
        Ok(built)
    }
}

//! Containers: the typed model and every container operation.
//!
//! Each operation is a pure plan function (argv + parser, tested without an
//! engine) plus a method on the [`Containers`] handle (`engine.containers()`)
//! that runs it:
//! - queries: [`Containers::inspect`] (one engine call for any number of
//!   names, the missing ones reported in [`Found`](crate::engine::batch::Found)),
//!   [`Containers::inspect_one`], [`Containers::statuses`],
//!   [`Containers::list`], [`Containers::find_by_labels`],
//!   [`Containers::resolve`] (id prefixes), and on a [`Container`]: `pid`,
//!   `addresses`, `port_bindings`, `gateways`;
//! - creation: [`Containers::run`], [`Containers::create`],
//!   [`Containers::run_attached`], [`Containers::launch`] (every docker-run
//!   option in [`RunOptions`], environment in a private env-file, retries
//!   guarded by a creation token, several networks on docker by
//!   create + connect + start, undone on failure);
//! - lifecycle: [`Containers::act`] with an [`Action`] on many names,
//!   [`Containers::remove`], [`Containers::wait`],
//!   [`Containers::exit_code`], [`Containers::update`],
//!   [`Containers::cleanup`], [`Containers::reset`];
//! - contents: [`Containers::exec`], [`Containers::start_attached`],
//!   [`Containers::copy`], [`Containers::export`], [`Containers::commit`];
//! - [`logs`] and readiness ([`wait`]).
//!
//! Mutations hold a cross-process lock per container name ([`lock`]),
//! waiting up to [`Engine::lock_timeout`].

mod attach;
mod config;
mod conmon;
mod contents;
mod create;
mod envfile;
mod interact;
mod lifecycle;
pub mod lock;
pub mod logs;
mod model;
mod ps;
mod query;
mod rename;
mod stats;
mod top;
pub mod untar;
pub mod wait;

pub use attach::{attach_plan, AttachOptions, Attached};
pub use config::{
    without_env_values, Capabilities, ContainerConfig, Environment, HealthcheckConfig, LogConfig,
    ResourceLimits, Restart, RestartName,
};
pub use contents::{
    commit_plan, copy_plan, diff_plan, export_plan, Change, ChangeKind, CommitOptions,
};
pub use create::{
    launch_steps, Healthcheck, Launch, LaunchSteps, Launched, RunOptions, CREATION_TOKEN_LABEL,
};
pub use envfile::{env_file_text, redact_env, EnvFile};
pub use interact::{exec_plan, start_attached_plan, ExecOptions};
pub use lifecycle::{
    action_by_name_plan, action_plan, cleanup_victims, update_plan, wait_plan, Action,
    ActionOutcome, ActionResult, ExitOutcome, ExitReport, UpdateOptions,
};
pub use model::{
    parse_inspect, Address, Container, ContainerGateway, Health, HealthStatus, IpVersion, Mount,
    MountKind, NetworkAttachment, PortBinding, State, Status,
};
pub use ps::{ps_plan, PsRow};
pub use query::{inspect_plan, ps_ids_plan, resolve_plan, ContainerStatus, PsQuery};
pub use rename::{rename_plan, Renamed};
#[cfg(feature = "tokio")]
pub use stats::AsyncStatsStream;
pub use stats::{stats_frames, stats_plan, Stats, StatsFrame, StatsStream};
pub use top::{parse_top, top_plan, Processes};

use crate::container::lock::LockSet;
use crate::engine::batch::Named;
use crate::engine::Engine;
use crate::error::Result;
use crate::input::ContainerRef;

/// The containers of an engine: `engine.containers()`. A small borrowed
/// handle; every method runs one operation's plans on the engine.
///
/// ```no_run
/// use dockhand::{input::ContainerRef, Engine};
/// let engine = Engine::detect()?;
/// let web = engine.containers().inspect_one(&ContainerRef::new("web")?)?;
/// println!("{} is {}", web.name, web.state.status.as_str());
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Containers<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// The containers: inspect, list, create and run, lifecycle actions,
    /// exec, files, logs and readiness.
    ///
    /// ```no_run
    /// let running = dockhand::Engine::detect()?.containers().list(&Default::default())?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn containers(&self) -> Containers<'_> {
        Containers { engine: self }
    }
}

impl Named for Container {
    fn is_named_by(&self, reference: &str) -> bool {
        Container::is_named_by(self, reference)
    }
}

/// Lock these container names for a mutation (nothing to lock in a dry run).
pub(crate) fn lock_names<'a>(
    engine: &Engine,
    names: impl IntoIterator<Item = &'a ContainerRef>,
) -> Result<Option<LockSet>> {
    lock::lock_for(
        engine,
        "container",
        names.into_iter().map(ContainerRef::as_str),
    )
}

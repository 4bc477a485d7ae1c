//! # dockhand
//!
//! Drive container engines — `docker`, and CLI-compatible `podman` — through
//! their command-line interfaces, with timeouts, bounded retries, typed
//! results and typed errors. Made for small Linux boxes where the engine's
//! socket API is off limits but the CLI (perhaps only as `sudo -n docker`)
//! is there.
//!
//! ## Module map, core first
//!
//! | layer | module | what is in it |
//! |---|---|---|
//! | 1 | [`error`] | the one [`Error`], its matchable [`ErrorKind`], a command's [`ExitStatus`] |
//! | 2 | [`exec`] | [`Cmd`](exec::Cmd), a command as data, and the only code that spawns or sleeps: blocking and tokio executors, streaming children, signals |
//! | 3 | [`decode`] | pure decoders of what engines print: tolerant JSON, lines in bounded memory, timestamps |
//! | 3 | [`input`] | validated values for everything that ends up in an argv |
//! | 4 | [`engine`] | [`Engine`] (configuration), [`Plan`], the argv builder, the run paths and retry loop, batching, error classification, docker/podman quirks, line streams; where the engine is ([`engine::endpoint`]) and docker's ssh options ([`engine::ssh`]) |
//! | 4 | [`fleet`] | many engines running the same plans: parallel with bounded concurrency, rolling batches, per-host results |
//! | 5 | [`container`] | containers: model, queries, create/run, lifecycle, exec and files, locks, logs, wait-for |
//! | 5 | [`image`] | images: list, inspect, remove, tag, import, save, load; registries (pull, push, login, logout); build, also from fetched tarball and git contexts; Dockerfiles |
//! | 5 | [`network`] | networks: list, inspect, create, remove, connect, gateways |
//! | 5 | [`volume`] | volumes: list, inspect, create, remove |
//! | 5 | [`events`] | engine events as typed records, collected or streamed |
//! | 5 | [`system`] | the engine itself: version, info, the `check` diagnosis, `daemon.json` |
//! | 5 | [`netns`] | host plumbing: commands in a container's network namespace, veth/macvlan/moved interfaces |
//! | 6 | [`prune`] | removing stopped containers, dangling images, unused networks and volumes, with a preview |
//! | 6 | [`app`] | compose apps: files read strictly, one-call state read, plans with undos, atomic update with rollback |
//! | – | `testing` | (feature `testing`) captured engine output replayed through plans, for tests |
//!
//! A module imports only from layers below its own (resources may use each
//! other where one needs the other: `netns`, `events` and `container::wait`
//! use the container and system handles); a test keeps it that way.
//!
//! ## Shape
//! - Every operation is a pure function from typed options to a [`Plan`]:
//!   the argv, whether it changes state, how it may be retried, and a parser
//!   from the engine's output to typed values.
//! - [`Engine`] carries plans out: [`Engine::run`] (blocking),
//!   `Engine::run_async` (feature `tokio`), [`Engine::run_attached`] (with the
//!   terminal), or a dry run that prints state-changing commands instead
//!   ([`engine::Mode::DryRun`]).
//! - Each resource has a small handle with the same verbs: `engine.containers()`,
//!   `.images()`, `.networks()`, `.volumes()`, `.system()`, `.netns()`;
//!   `inspect` of any number of objects is one engine call that answers with
//!   a [`Found`](engine::batch::Found): what exists and what is missing.
//! - Spawning, timeouts (process-group kill + reap), output caps and sleeps
//!   live in [`exec`] alone; retry decisions are pure
//!   ([`engine::retry`]); failures are one [`Error`] type with a matchable
//!   [`ErrorKind`].
//!
//! ```no_run
//! use dockhand::{input::ContainerRef, Engine, ErrorKind};
//!
//! let engine = Engine::detect()?;               // DOCKHAND_ENGINE, docker, or podman
//! let report = engine.system().check();
//! if !report.reachable {
//!     eprintln!("{} — {}", report.diagnosis, report.fix.unwrap_or_default());
//! }
//! match engine.system().version() {
//!     Ok(v) => println!("server {:?}", v.server.map(|s| s.version)),
//!     Err(e) if e.kind() == ErrorKind::Unreachable => eprintln!("daemon down: {e}"),
//!     Err(e) => return Err(e),
//! }
//! let found = engine.containers().inspect(&ContainerRef::many(["web", "db"])?)?;
//! for c in &found.items {
//!     println!("{} {}", c.name, c.state.status.as_str());
//! }
//! println!("missing: {:?}", found.missing);
//! # Ok::<(), dockhand::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod app;
pub mod container;
pub mod decode;
pub mod engine;
pub mod error;
pub mod events;
pub mod exec;
pub mod fleet;
pub mod image;
pub mod input;
pub mod netns;
pub mod network;
pub mod prune;
pub mod system;
#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod volume;

pub use engine::plan::Plan;
pub use engine::{Engine, EngineKind};

/// The README's Rust examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
pub use error::{Error, ErrorKind, ExitStatus, Result};

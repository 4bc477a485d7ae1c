//! # dockhand
//!
//! Drive container engines — `docker`, and CLI-compatible `podman` — through
//! their command-line interfaces, with timeouts, bounded retries, typed
//! results and typed errors. Made for small Linux boxes where the engine's
//! socket API is off limits but the CLI (perhaps only as `sudo -n docker`)
//! is there.
//!
//! ## Shape
//! - Every operation is a pure function from typed options to a
//!   [`Plan`](plan::Plan): the argv, whether it changes state, how it may be
//!   retried, and a parser from the engine's output to typed values.
//! - [`Engine`] carries plans out: [`Engine::run`] (blocking),
//!   `Engine::run_async` (feature `tokio`), or a dry run that prints
//!   state-changing commands instead ([`engine::Mode::DryRun`]).
//! - Spawning, timeouts (process-group kill + reap), output caps and sleeps
//!   live in [`exec`] alone; retry decisions are pure ([`retry`]); failures
//!   are one [`Error`] type with a matchable [`ErrorKind`].
//!
//! ```no_run
//! use dockhand::{Engine, ErrorKind};
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
//! # Ok::<(), dockhand::Error>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod container;
pub mod decode;
pub mod engine;
pub mod error;
pub mod events;
pub mod exec;
pub mod image;
pub mod input;
pub mod netns;
pub mod network;
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

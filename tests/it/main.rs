//! dockhand's integration tests: one test binary (`cargo test --test it`),
//! one module per area, on the real docker and podman of this machine.
//!
//! Every module uses the shared harness in [`support`] (unique names, test
//! labels, cleanup guards, running the binary). A new area is a new file
//! `tests/it/AREA.rs` with a `mod AREA;` line below; run it alone with
//! `cargo test --test it AREA::`. The fuzz pass (`tests/fuzz_parsers.rs`) and
//! the static-binary checks (`tests/static_binary.rs`) are test binaries of
//! their own. Pure replays of captured output belong in the unit tests next
//! to the parser (with `dockhand::testing`), not here.

mod support;

mod apps;
mod build;
mod classify_captures;
mod cli;
mod cli_scripts;
mod containers;
mod contexts;
mod daemon_config;
mod exit_codes;
mod fleet;
mod images;
mod info;
mod layers;
mod locks;
mod logs;
mod netns;
mod networks;
mod registry;
mod reliability;
mod run_flags;
mod runner;
mod schemas;
mod verbs;
mod volumes;
mod wait;

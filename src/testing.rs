//! Test support (feature `testing`): real engine output, captured once,
//! replayed through a plan's parser exactly as the executor hands it over —
//! so parsers and error classification are tested without an engine.
//!
//! dockhand's own unit and integration tests use it; so can tests of code
//! built on dockhand. The captures dockhand ships are under
//! `vendor-docs/captures/{docker,podman,host}/` (see its README there).
//!
//! ```
//! use dockhand::{container, input::ContainerRef, testing, EngineKind};
//! let out = testing::capture("docker/containers-inspect-full.json");
//! let plan = container::inspect_plan(&ContainerRef::many(["dhcap-full"]).unwrap());
//! let found = testing::replay_ok(EngineKind::Docker, plan, &out).unwrap();
//! assert_eq!(found.items[0].name, "dhcap-full");
//! ```

use std::path::PathBuf;

use crate::engine::classify::{classify, Tool};
use crate::engine::plan::{Outcome, Plan};
use crate::engine::EngineKind;
use crate::error::{ExitStatus, Result};
use crate::exec::{Cmd, Output};

/// Where dockhand's capture `vendor-docs/captures/<path>` is.
pub fn capture_path(path: &str) -> PathBuf {
    format!("{}/vendor-docs/captures/{path}", env!("CARGO_MANIFEST_DIR")).into()
}

/// The bytes of dockhand's capture `vendor-docs/captures/<path>` (panics,
/// naming the file, when it cannot be read).
pub fn capture(path: &str) -> Vec<u8> {
    let p = capture_path(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The outcome of a command of `tool` (run as `cmd`) that exited with
/// `code`, `stdout` and `stderr`, a non-zero exit classified like a real one.
///
/// ```
/// use dockhand::{engine::classify::Tool, exec::Cmd, testing, EngineKind, ErrorKind};
/// let o = testing::outcome(Tool::Engine(EngineKind::Podman), &Cmd::new("podman"), 125, b"", b"Error: no such container x\n");
/// assert_eq!(o.error.unwrap().kind(), ErrorKind::NotFound);
/// ```
pub fn outcome(tool: Tool, cmd: &Cmd, code: i32, stdout: &[u8], stderr: &[u8]) -> Outcome {
    let output = Output {
        status: ExitStatus::Code(code),
        stdout: stdout.to_vec(),
        stderr: stderr.to_vec(),
        dry_run: false,
    };
    let error = (code != 0).then(|| classify(tool, cmd, &output));
    Outcome { output, error }
}

/// Finish `plan` as if its command had exited with `code`, `stdout` and
/// `stderr` on engine `kind` (a non-zero exit is classified like a real one).
///
/// ```
/// use dockhand::{container, testing, EngineKind, ErrorKind};
/// let plan = container::inspect_plan(&["web".parse()?]);
/// let stderr = testing::capture("docker/err-inspect-type-container-missing.stderr.txt");
/// let found = testing::replay(EngineKind::Docker, plan, 1, b"[]", &stderr)?;
/// assert_eq!(found.missing, ["web"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn replay<T: 'static>(
    kind: EngineKind,
    plan: Plan<T>,
    code: i32,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<T> {
    let cmd = Cmd::new(kind.as_str()).args(plan.args());
    plan.parse_outcome(outcome(Tool::Engine(kind), &cmd, code, stdout, stderr))
}

/// Finish `plan` with a successful run that printed `stdout`.
pub fn replay_ok<T: 'static>(kind: EngineKind, plan: Plan<T>, stdout: &[u8]) -> Result<T> {
    replay(kind, plan, 0, stdout, b"")
}

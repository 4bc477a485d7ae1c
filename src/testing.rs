//! Test support: replay real captured engine output (vendor-docs/captures)
//! through a plan's parser, exactly as the executor would hand it over.

use crate::engine::classify::{classify, Tool};
use crate::engine::plan::{Outcome, Plan};
use crate::engine::EngineKind;
use crate::error::Result;
use crate::exec::{Cmd, Output};
use crate::ExitStatus;

/// Where `vendor-docs/captures/<path>` is.
pub(crate) fn capture_path(path: &str) -> std::path::PathBuf {
    format!("{}/vendor-docs/captures/{path}", env!("CARGO_MANIFEST_DIR")).into()
}

/// The bytes of `vendor-docs/captures/<path>`.
pub(crate) fn capture(path: &str) -> Vec<u8> {
    let p = capture_path(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Finish `plan` as if its command had exited with `code`, `stdout` and
/// `stderr` (a non-zero exit is classified like a real one).
pub(crate) fn replay<T: 'static>(
    kind: EngineKind,
    plan: Plan<T>,
    code: i32,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<T> {
    let output = Output {
        status: ExitStatus::Code(code),
        stdout: stdout.to_vec(),
        stderr: stderr.to_vec(),
        dry_run: false,
    };
    let cmd = Cmd::new(kind.as_str()).args(plan.args());
    let error = (code != 0).then(|| classify(Tool::Engine(kind), &cmd, &output));
    (plan.finish)(Outcome { output, error })
}

/// Finish `plan` with a successful run that printed `stdout`.
pub(crate) fn replay_ok<T: 'static>(kind: EngineKind, plan: Plan<T>, stdout: &[u8]) -> Result<T> {
    replay(kind, plan, 0, stdout, b"")
}

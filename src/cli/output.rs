//! Where results and errors go: text for people, JSON for scripts.

use std::io::Write;

use dockhand::Error;
use serde::Serialize;
use serde_json::json;

/// Output mode of one invocation.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    json: bool,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json }
    }

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Print `value` as one line of JSON on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) is not worth a panic.
        let _ = serde_json::to_writer(&mut stdout, value);
        let _ = writeln!(stdout);
    }

    /// Print a line of text on stdout.
    pub fn line(&self, text: impl std::fmt::Display) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// A remark for people on stderr (`dockhand: …`), not for scripts.
    pub fn note(&self, text: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr().lock(), "dockhand: {text}");
    }

    /// Report an error on stderr: one JSON object with `--json`, text otherwise.
    pub fn error(&self, err: &Error) {
        let mut stderr = std::io::stderr().lock();
        if self.json {
            let status = err.status();
            let doc = json!({"error": {
                "kind": err.kind(),
                "message": err.message(),
                "command": err.command(),
                "exit_code": status.and_then(|s| s.code()),
                "signal": status.and_then(|s| match s { dockhand::ExitStatus::Signal(n) => Some(n), _ => None }),
                "stderr": err.stderr(),
                "raw": err.raw(),
            }});
            let _ = writeln!(stderr, "{doc}");
        } else {
            let _ = writeln!(stderr, "dockhand: {err}");
        }
    }
}

//! Where results and errors go: text for people, JSON for scripts.

use std::cell::RefCell;
use std::io::Write;

use dockhand::Error;
use serde::Serialize;
use serde_json::json;

use super::format::Template;

/// Output mode of one invocation.
#[derive(Debug)]
pub struct Out {
    json: bool,
    format: Option<Template>,
    /// The first `--format` path that named no field; main reports it (exit 2).
    format_error: RefCell<Option<Error>>,
}

impl Out {
    /// Errors as JSON when `json`; results as JSON, or through `format`.
    pub fn new(json: bool, format: Option<Template>) -> Out {
        Out {
            json,
            format,
            format_error: RefCell::new(None),
        }
    }

    /// Whether results are JSON: `--json`, or `--format` (which formats the JSON).
    pub fn is_json(&self) -> bool {
        self.json || self.format.is_some()
    }

    /// The error of a `--format` path that named no field, once.
    pub fn take_format_error(&self) -> Option<Error> {
        self.format_error.borrow_mut().take()
    }

    /// Print `value` as one line of JSON on stdout, or with `--format` the
    /// values its template picks (a missing field is kept for main to report).
    pub fn json<T: Serialize>(&self, value: &T) {
        if let Some(template) = &self.format {
            let rendered = serde_json::to_value(value)
                .map_err(|e| e.to_string())
                .and_then(|v| template.render(&v));
            match rendered {
                Ok(text) => {
                    let _ = std::io::stdout().lock().write_all(text.as_bytes());
                }
                Err(message) => {
                    let mut first = self.format_error.borrow_mut();
                    first.get_or_insert_with(|| Error::invalid_input(message));
                }
            }
            return;
        }
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

//! Where results and errors go: text for people, JSON for scripts — on the
//! terminal, or captured for one host of a fleet (`--hosts`, `--fleet`),
//! whose output is then printed with the host's name or gathered into the
//! fleet's JSON array.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use dockhand::engine::classify::ssh_failure;
use dockhand::Error;
use serde::Serialize;
use serde_json::{json, Value};

use super::format::Template;

/// Output mode of one invocation (or of one host of a fleet).
#[derive(Debug, Clone)]
pub struct Out {
    json: bool,
    format: Option<Template>,
    /// The first `--format` path that named no field; main reports it (exit 2).
    format_error: Arc<Mutex<Option<Error>>>,
    capture: Option<Arc<Mutex<Captured>>>,
    /// Errors as their message alone (one line per host of a fleet).
    brief: bool,
}

/// What one host's command printed, kept for the fleet's report.
#[derive(Debug, Default)]
pub struct Captured {
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Text written to stderr (errors, notes).
    pub stderr: Vec<u8>,
    /// The errors reported, in order.
    pub errors: Vec<Error>,
}

impl Out {
    /// Errors as JSON when `json`; results as JSON, or through `format`.
    pub fn new(json: bool, format: Option<Template>) -> Out {
        Out {
            json,
            format,
            format_error: Arc::default(),
            capture: None,
            brief: false,
        }
    }

    /// An `Out` that keeps everything in `into` instead of printing it;
    /// `brief`: errors as their message alone (the evidence stays in `--json`).
    pub fn captured(&self, into: Arc<Mutex<Captured>>, brief: bool) -> Out {
        Out {
            json: self.json,
            format: self.format.clone(),
            format_error: Arc::default(),
            capture: Some(into),
            brief,
        }
    }

    /// Whether results are JSON: `--json`, or `--format` (which formats the JSON).
    pub fn is_json(&self) -> bool {
        self.json || self.format.is_some()
    }

    /// The error of a `--format` path that named no field, once.
    pub fn take_format_error(&self) -> Option<Error> {
        self.format_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Whether a person may be watching stderr (progress output): never for
    /// one host of a fleet.
    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        self.capture.is_none() && std::io::stderr().is_terminal()
    }

    fn with_capture(&self, f: impl FnOnce(&mut Captured)) -> bool {
        match &self.capture {
            Some(c) => {
                f(&mut c.lock().unwrap_or_else(PoisonError::into_inner));
                true
            }
            None => false,
        }
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
                    let _ = self.stdout().write_all(text.as_bytes());
                }
                Err(message) => {
                    let mut first = self
                        .format_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    first.get_or_insert_with(|| Error::invalid_input(message));
                }
            }
            return;
        }
        let mut stdout = self.stdout();
        // A closed stdout (e.g. `| head`) is not worth a panic.
        let _ = serde_json::to_writer(&mut stdout, value);
        let _ = writeln!(stdout);
    }

    /// One record of a stream (logs, events, `stats --stream`) on `w`: a JSON
    /// line, or with `--format` its template's text. `Ok(false)`: `w` is
    /// closed (`| head`); an error: a path named no field, which ends the stream.
    pub fn record<T: Serialize>(&self, w: &mut dyn Write, value: &T) -> Result<bool, Error> {
        let written = match &self.format {
            Some(template) => {
                let text = serde_json::to_value(value)
                    .map_err(|e| e.to_string())
                    .and_then(|v| template.render(&v))
                    .map_err(Error::invalid_input)?;
                w.write_all(text.as_bytes())
            }
            None => serde_json::to_writer(&mut *w, value)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(w)),
        };
        Ok(written.is_ok())
    }

    /// Whether `--format` picks the values (streams then take [`Out::record`]).
    pub fn has_format(&self) -> bool {
        self.format.is_some()
    }

    /// Print a line of text on stdout.
    pub fn line(&self, text: impl std::fmt::Display) {
        let _ = writeln!(self.stdout(), "{text}");
    }

    /// stdout (for commands that stream: logs, events).
    pub fn stdout(&self) -> Box<dyn Write + '_> {
        match &self.capture {
            Some(c) => Box::new(Appender(c, |cap| &mut cap.stdout)),
            None => Box::new(std::io::stdout().lock()),
        }
    }

    /// stderr (a container's stderr lines, notes).
    pub fn stderr(&self) -> Box<dyn Write + '_> {
        match &self.capture {
            Some(c) => Box::new(Appender(c, |cap| &mut cap.stderr)),
            None => Box::new(std::io::stderr().lock()),
        }
    }

    /// A remark for people on stderr (`dockhand: …`), not for scripts.
    pub fn note(&self, text: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr().lock(), "dockhand: {text}");
    }

    /// Report an error on stderr: one JSON object with `--json`, text otherwise.
    pub fn error(&self, err: &Error) {
        let text = match self.json {
            true => json!({ "error": error_json(err) }).to_string(),
            false if self.brief => format!("dockhand: {}", err.message()),
            false => format!("dockhand: {err}"),
        };
        if !self.with_capture(|c| {
            c.errors.push(err.clone());
            if !self.json {
                c.stderr.extend_from_slice(text.as_bytes());
                c.stderr.push(b'\n');
            }
        }) {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }
}

/// The `error` object of `--json` output (also each failed host's in a fleet).
pub fn error_json(err: &Error) -> Value {
    let status = err.status();
    json!({
        "kind": err.kind(),
        "message": err.message(),
        "command": err.command(),
        "exit_code": status.and_then(|s| s.code()),
        "signal": status.and_then(|s| match s { dockhand::ExitStatus::Signal(n) => Some(n), _ => None }),
        "stderr": err.stderr(),
        "ssh": ssh_failure(err.stderr().as_bytes()).map(|(f, _)| f),
        "raw": err.raw(),
    })
}

/// A writer appending to one buffer of a capture.
struct Appender<'a>(&'a Mutex<Captured>, fn(&mut Captured) -> &mut Vec<u8>);

impl Write for Appender<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut c = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (self.1)(&mut c).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

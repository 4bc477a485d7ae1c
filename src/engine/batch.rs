//! One engine call for N objects, with the answers both engines give when
//! only some of the objects exist.
//!
//! * `inspect A B` where B does not exist prints A on stdout **and** exits
//!   non-zero with a not-found error (docker 1, podman 125). [`inspect_plan`]
//!   keeps A and reports B's absence in [`Found::missing`].
//! * `rm A B` where B does not exist removes A and exits non-zero with a
//!   not-found line for B; another object may fail for a real reason (in use)
//!   in the same call. [`remove_plan`] succeeds when every failure line is a
//!   not-found one ("already gone" is what removing wanted), and otherwise
//!   fails with the kind of the first real failure — not with whatever rule
//!   the whole mixed stderr happens to match first.

use serde::Serialize;

use crate::engine::classify::{kind_of, Tool};
use crate::engine::plan::{Effect, Outcome, Plan};
use crate::engine::{Argv, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::input::KeyValue;

/// What a batched inspect found, and the not-found error for the rest.
///
/// ```
/// use dockhand::engine::batch::Found;
/// use dockhand::{Error, ErrorKind};
/// let all: Found<u32> = Found { items: vec![1], missing: None };
/// assert_eq!(all.into_result().unwrap(), [1]);
/// let some = Found { items: vec![1], missing: Some(Error::new(ErrorKind::NotFound, "no such image: b")) };
/// assert_eq!(some.into_result().unwrap_err().kind(), ErrorKind::NotFound);
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Found<T> {
    /// The objects that exist, as the engine printed them.
    pub items: Vec<T>,
    /// The engine's not-found error when some names did not exist.
    #[serde(skip)]
    pub missing: Option<Error>,
}

impl<T> Found<T> {
    /// Nothing asked for, nothing found.
    ///
    /// ```
    /// assert!(dockhand::engine::batch::Found::<u8>::empty().into_result().unwrap().is_empty());
    /// ```
    pub fn empty() -> Found<T> {
        Found {
            items: Vec::new(),
            missing: None,
        }
    }

    /// All of them, or the not-found error when any was missing.
    pub fn into_result(self) -> Result<Vec<T>> {
        match self.missing {
            Some(e) => Err(e),
            None => Ok(self.items),
        }
    }
}

/// An inspect of N objects whose stdout `parse` reads; not-found names go to
/// [`Found::missing`], other failures are errors.
///
/// ```
/// use dockhand::engine::batch::inspect_plan;
/// use dockhand::engine::Argv;
/// let plan = inspect_plan(Argv::new("volume").arg("inspect").operands(["a", "b"]), |out| {
///     dockhand::decode::json::parse_json::<Vec<serde_json::Value>>(out)
/// });
/// assert_eq!(plan.args().len(), 5);
/// ```
pub fn inspect_plan<T, F>(args: Argv, parse: F) -> Plan<Found<T>>
where
    T: 'static,
    F: FnOnce(&[u8]) -> Result<Vec<T>> + Send + 'static,
{
    Plan::new(Effect::ReadOnly, args, move |outcome: Outcome| {
        let missing = match outcome.error {
            None => None,
            Some(e) if e.kind() == ErrorKind::NotFound => Some(e),
            Some(e) => return Err(e),
        };
        let stdout = outcome.output.stdout.trim_ascii();
        let items = if stdout.is_empty() {
            Vec::new()
        } else {
            parse(stdout)?
        };
        Ok(Found { items, missing })
    })
}

/// A remove of N objects where "no such object" counts as removed. The
/// value is what the engine reported on stdout, one line each (removed
/// names; `Untagged:`/`Deleted:` lines for images).
///
/// ```
/// use dockhand::{engine::{batch::remove_plan, Argv}, EngineKind};
/// let plan = remove_plan(EngineKind::Docker, Argv::new("volume").arg("rm").operands(["a"]));
/// assert_eq!(plan.effect(), dockhand::engine::plan::Effect::Mutating);
/// ```
pub fn remove_plan(kind: EngineKind, args: Argv) -> Plan<Vec<String>> {
    Plan::new(Effect::Mutating, args, move |outcome: Outcome| {
        if let Some(err) = outcome.error {
            if let Some(real) = real_failure(kind, &outcome.output.stderr, err) {
                return Err(real);
            }
        }
        Ok(outcome.output.stdout_lines())
    })
}

/// Lines that report nothing about the objects: docker 28.2's trailing
/// `exit status 1`, podman's `time=… level=warning …` log records.
fn is_noise(line: &str) -> bool {
    let exit_status = line
        .strip_prefix("exit status ")
        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
    exit_status || (line.starts_with("time=") && line.contains("level="))
}

/// The failure left after discounting not-found lines: `None` when every
/// line of `stderr` says "not found", else the first other line, classified
/// on its own.
fn real_failure(kind: EngineKind, stderr: &[u8], err: Error) -> Option<Error> {
    let tool = Tool::Engine(kind);
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_noise(l))
        .collect();
    if lines.is_empty() {
        // Nothing readable to discount: the failure stands as classified.
        return Some(err);
    }
    let (line, (line_kind, transient)) = lines
        .iter()
        .map(|l| (*l, kind_of(tool, l.as_bytes())))
        .find(|(_, (k, _))| *k != ErrorKind::NotFound)?;
    let mut real = Error::new(line_kind, line)
        .with_stderr(stderr)
        .with_transient(transient);
    if let Some(c) = err.command() {
        real = real.with_command(c);
    }
    if let Some(s) = err.status() {
        real = real.with_status(s);
    }
    Some(real)
}

/// The ids or names a listing prints one per line (`network ls -q`,
/// `volume ls -q` …), with `filters` as `--filter=K=V` arguments.
///
/// ```
/// use dockhand::{engine::{batch::list_plan, Argv}, input::KeyValue};
/// let plan = list_plan(Argv::new("volume").args(["ls", "-q"]), &KeyValue::many("filter", ["dangling=true"]).unwrap());
/// assert_eq!(plan.args(), ["volume", "ls", "-q", "--filter=dangling=true"]);
/// ```
pub fn list_plan(listing: Argv, filters: &[KeyValue]) -> Plan<Vec<String>> {
    Plan::read(listing.each("--filter", filters), |out| {
        Ok(out.stdout_lines())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay};

    #[test]
    fn remove_with_only_missing_names_succeeds_and_reports_the_removed() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 1),
        ] {
            for slug in [
                "network-rm-found-and-missing",
                "volume-rm-found-and-missing",
                "rmi-found-and-missing",
            ] {
                let out = capture(&format!("{dir}/{slug}.stdout.txt"));
                let err = capture(&format!("{dir}/{slug}.stderr.txt"));
                let removed = replay(kind, remove_plan(kind, Argv::new("rm")), code, &out, &err)
                    .unwrap_or_else(|e| panic!("{dir}/{slug}: {e}"));
                assert!(!removed.is_empty(), "{dir}/{slug}");
            }
        }
    }

    #[test]
    fn remove_with_an_object_in_use_is_a_conflict_even_next_to_missing_ones() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 2),
        ] {
            for slug in [
                "err-network-rm-in-use-and-missing",
                "err-volume-rm-in-use-and-missing",
            ] {
                let err = capture(&format!("{dir}/{slug}.stderr.txt"));
                let e =
                    replay(kind, remove_plan(kind, Argv::new("rm")), code, b"", &err).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Conflict, "{dir}/{slug}: {e}");
                assert!(
                    !e.message().contains("missing"),
                    "names the in-use object: {e}"
                );
                assert!(e.command().is_some() && e.status().is_some(), "{e:?}");
            }
        }
    }

    #[test]
    fn remove_failing_without_stderr_stays_a_failure() {
        let e = replay(
            EngineKind::Docker,
            remove_plan(EngineKind::Docker, Argv::new("rm")),
            1,
            b"",
            b"",
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::EngineFailure);
    }

    #[test]
    fn inspect_keeps_found_objects_and_reports_the_missing() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let out = capture(&format!(
                "{dir}/volume-inspect-found-and-missing.stdout.txt"
            ));
            let err = capture(&format!(
                "{dir}/volume-inspect-found-and-missing.stderr.txt"
            ));
            let plan = inspect_plan(Argv::new("inspect"), |b| {
                crate::decode::json::parse_json::<Vec<serde_json::Value>>(b)
            });
            let found = replay(kind, plan, code, &out, &err).unwrap();
            assert_eq!(found.items.len(), 1, "{dir}");
            assert_eq!(found.missing.unwrap().kind(), ErrorKind::NotFound);
        }
    }

    #[test]
    fn inspect_passes_other_failures_through() {
        let plan = inspect_plan(Argv::new("inspect"), |b| {
            crate::decode::json::parse_json::<Vec<serde_json::Value>>(b)
        });
        let down =
            b"Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?";
        let e = replay(EngineKind::Docker, plan, 1, b"", down).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unreachable);
    }

    #[test]
    fn noise_lines_are_recognised() {
        assert!(is_noise("exit status 1"));
        assert!(is_noise(
            "time=\"2026-11-23T17:12:54Z\" level=warning msg=\"x\""
        ));
        assert!(!is_noise("exit status unknown"));
        assert!(!is_noise("Error: network is being used"));
    }
}

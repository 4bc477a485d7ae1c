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

/// What one engine call inspecting N objects found: the objects that
/// exist, the references that named nothing, and the engine's not-found
/// error (for reporting) when there were any. Every resource's `inspect`
/// answers with one.
///
/// ```
/// use dockhand::engine::batch::Found;
/// use dockhand::{Error, ErrorKind};
/// let all: Found<u32> = Found::all(vec![1]);
/// assert!(all.missing.is_empty());
/// assert_eq!(all.into_result().unwrap(), [1]);
/// let some = Found { items: vec![1], missing: vec!["b".into()], error: Some(Error::new(ErrorKind::NotFound, "no such image: b")) };
/// assert_eq!(some.into_result().unwrap_err().kind(), ErrorKind::NotFound);
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Found<T> {
    /// The objects that exist, as the engine printed them.
    pub items: Vec<T>,
    /// The references (as given) that named no object.
    pub missing: Vec<String>,
    /// The not-found error when something was missing.
    #[serde(skip)]
    pub error: Option<Error>,
}

impl<T> Found<T> {
    /// Every one of `items`, nothing missing.
    pub fn all(items: Vec<T>) -> Found<T> {
        Found {
            items,
            missing: Vec::new(),
            error: None,
        }
    }

    /// Nothing asked for, nothing found.
    ///
    /// ```
    /// assert!(dockhand::engine::batch::Found::<u8>::empty().into_result().unwrap().is_empty());
    /// ```
    pub fn empty() -> Found<T> {
        Found::all(Vec::new())
    }

    /// All of them, or the not-found error when any was missing.
    pub fn into_result(self) -> Result<Vec<T>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.items),
        }
    }

    /// The one object asked for: the not-found error when it is missing, and
    /// a NotFound error with the message `gone()` when the engine answered
    /// with nothing at all.
    ///
    /// ```
    /// use dockhand::engine::batch::Found;
    /// assert_eq!(Found::all(vec![7]).into_one(|| "none".into()).unwrap(), 7);
    /// let e = Found::<u8>::empty().into_one(|| "volume data vanished".into()).unwrap_err();
    /// assert_eq!((e.kind(), e.message()), (dockhand::ErrorKind::NotFound, "volume data vanished"));
    /// ```
    pub fn into_one(self, gone: impl FnOnce() -> String) -> Result<T> {
        self.into_result()?
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, gone()))
    }

    /// The object `reference` names, if it was found.
    ///
    /// ```
    /// use dockhand::engine::batch::{Found, Named};
    /// struct V(&'static str);
    /// impl Named for V { fn is_named_by(&self, r: &str) -> bool { self.0 == r } }
    /// let found = Found::all(vec![V("a"), V("b")]);
    /// assert!(found.get("b").is_some() && found.get("c").is_none());
    /// ```
    pub fn get(&self, reference: &str) -> Option<&T>
    where
        T: Named,
    {
        self.items.iter().find(|t| t.is_named_by(reference))
    }
}

/// An object that a reference (name, id, id prefix, tag …) can name.
pub trait Named {
    /// Whether `reference` names this object, as the engine resolves it.
    fn is_named_by(&self, reference: &str) -> bool;
}

/// The references among `wanted` that name none of `items`.
pub(crate) fn not_named<T: Named>(wanted: &[String], items: &[T]) -> Vec<String> {
    wanted
        .iter()
        .filter(|r| !items.iter().any(|t| t.is_named_by(r)))
        .cloned()
        .collect()
}

/// An inspect of the `wanted` objects whose stdout `parse` reads; the
/// references none of them answers to go to [`Found::missing`], other
/// failures are errors.
///
/// ```
/// use dockhand::engine::batch::inspect_plan;
/// use dockhand::engine::Argv;
/// use dockhand::volume::Volume;
/// let wanted = vec!["a".to_string(), "b".to_string()];
/// let plan = inspect_plan(Argv::new("volume").arg("inspect").operands(&wanted), wanted, |out| {
///     dockhand::volume::parse_volumes(out)
/// });
/// assert_eq!(plan.args().len(), 5);
/// ```
pub fn inspect_plan<T, F>(args: Argv, wanted: Vec<String>, parse: F) -> Plan<Found<T>>
where
    T: Named + 'static,
    F: FnOnce(&[u8]) -> Result<Vec<T>> + Send + 'static,
{
    Plan::new(Effect::ReadOnly, args, move |outcome: Outcome| {
        let error = match outcome.error {
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
        // Only a not-found answer can leave names unanswered.
        let missing = match error {
            Some(_) => not_named(&wanted, &items),
            None => Vec::new(),
        };
        Ok(Found {
            items,
            missing,
            error,
        })
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

    /// Just enough of a volume to be named.
    #[derive(Debug, serde::Deserialize)]
    struct Vol {
        #[serde(rename = "Name")]
        name: String,
    }

    impl Named for Vol {
        fn is_named_by(&self, reference: &str) -> bool {
            self.name == reference
        }
    }

    fn volume_inspect(wanted: Vec<String>) -> Plan<Found<Vol>> {
        inspect_plan(Argv::new("inspect"), wanted, |b| {
            crate::decode::json::parse_json::<Vec<Vol>>(b)
        })
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
            let wanted = ["dhimg-vol1", "dhimg-missing"].map(String::from).to_vec();
            let found = replay(kind, volume_inspect(wanted), code, &out, &err).unwrap();
            assert_eq!(found.items.len(), 1, "{dir}");
            assert_eq!(found.error.unwrap().kind(), ErrorKind::NotFound);
            assert_eq!(found.missing, ["dhimg-missing"], "{dir}");
        }
    }

    #[test]
    fn inspect_passes_other_failures_through() {
        let plan = volume_inspect(vec!["a".into()]);
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

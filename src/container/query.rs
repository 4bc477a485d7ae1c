//! Read-only questions: inspect, status, ps, label lookups, id prefixes.
//! Each is one engine call for any number of containers.

use serde::{Serialize, Serializer};

use super::model::{parse_inspect, Container, Status};
use super::Containers;
use crate::decode::json::short_id;
use crate::engine::batch::{not_named, Found};
use crate::engine::plan::{Effect, Plan};
use crate::engine::Argv;
use crate::error::{Error, ErrorKind, Result};
use crate::input::{ContainerRef, KeyValue};

/// `inspect --type container -- NAME…` as one call. When some names are
/// missing both engines still print the others and exit non-zero; the plan
/// keeps what was found and lists the rest as missing.
///
/// ```
/// use dockhand::input::ContainerRef;
/// let plan = dockhand::container::inspect_plan(&ContainerRef::many(["web", "db"]).unwrap());
/// assert_eq!(plan.args(), ["inspect", "--type", "container", "--", "web", "db"]);
/// ```
pub fn inspect_plan(refs: &[ContainerRef]) -> Plan<Found<Container>> {
    let wanted: Vec<String> = refs.iter().map(ContainerRef::to_string).collect();
    let args = Argv::new("inspect")
        .args(["--type", "container"])
        .operands(refs);
    Plan::new(Effect::ReadOnly, args, move |outcome| {
        if let Some(e) = outcome.error.filter(|e| e.kind() != ErrorKind::NotFound) {
            return Err(e);
        }
        let items = parse_inspect(&outcome.output.stdout)?;
        let missing = not_named(&wanted, &items);
        // The engines name each missing one in a line of their own: one
        // error naming them all instead.
        let error = (!missing.is_empty()).then(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("no such container: {}", missing.join(", ")),
            )
        });
        Ok(Found {
            items,
            missing,
            error,
        })
    })
}

/// A container's status, or `missing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ContainerStatus {
    /// The reference asked about.
    pub name: ContainerRef,
    /// The full id of the container it names, when it exists.
    pub id: Option<String>,
    /// Its status; `None` (JSON `"missing"`) when it does not exist.
    #[serde(serialize_with = "status_or_missing")]
    pub status: Option<Status>,
}

fn status_or_missing<S: Serializer>(status: &Option<Status>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.map_or("missing", Status::as_str))
}

/// Which containers `ps` lists.
#[derive(Debug, Clone, Default)]
pub struct PsQuery {
    /// Stopped containers too.
    pub all: bool,
    /// Engine filters (`status=exited`, `name=web` …).
    pub filters: Vec<KeyValue>,
    /// Labels every container must carry with these values.
    pub labels: Vec<KeyValue>,
}

/// `ps -q --no-trunc` with the query's filters: full ids.
///
/// ```
/// use dockhand::container::{ps_ids_plan, PsQuery};
/// use dockhand::input::KeyValue;
/// let q = PsQuery { all: true, labels: vec![KeyValue::new("label", "app=web").unwrap()], ..PsQuery::default() };
/// assert_eq!(ps_ids_plan(&q).args(), ["ps", "-q", "--no-trunc", "-a", "--filter=label=app=web"]);
/// ```
pub fn ps_ids_plan(query: &PsQuery) -> Plan<Vec<String>> {
    let args = Argv::new("ps")
        .args(["-q", "--no-trunc"])
        .flag_if("-a", query.all)
        .each("--filter", &query.filters)
        .each(
            "--filter",
            query.labels.iter().map(|l| format!("label={l}")),
        );
    Plan::read(args, |out| Ok(out.stdout_lines()))
}

/// Expand id prefixes in `refs` to full ids, from one `ps -a` listing
/// `ID<TAB>NAMES` of every container: an exact name wins, a unique id prefix
/// becomes the full id, an ambiguous one is InvalidInput listing the
/// candidates, anything else is left for the engine to report.
///
/// ```
/// use dockhand::{container::resolve_plan, input::ContainerRef};
/// let plan = resolve_plan(&ContainerRef::many(["3f2a"]).unwrap());
/// assert_eq!(plan.args(), ["ps", "-a", "--no-trunc", "--format", "{{.ID}}\t{{.Names}}"]);
/// ```
pub fn resolve_plan(refs: &[ContainerRef]) -> Plan<Vec<ContainerRef>> {
    let refs = refs.to_vec();
    Plan::read(
        Argv::new("ps").args(["-a", "--no-trunc", "--format", "{{.ID}}\t{{.Names}}"]),
        move |out| expand(&refs, &parse_id_table(&out.stdout_text())),
    )
}

fn parse_id_table(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, names)| (id.trim().to_string(), names.trim().to_string()))
        .collect()
}

/// Whether a reference could be a short id (1–63 lower-case hex digits).
pub(super) fn looks_like_id_prefix(r: &ContainerRef) -> bool {
    let s = r.as_str();
    s.len() < 64 && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// Expand id prefixes against an `ID<TAB>NAMES` table, as the engines
/// resolve them: an exact name wins, then a unique id prefix becomes the full
/// id; an ambiguous prefix is InvalidInput listing the candidates; anything
/// else is left for the engine to report.
fn expand(refs: &[ContainerRef], table: &[(String, String)]) -> Result<Vec<ContainerRef>> {
    refs.iter()
        .map(|r| {
            let is_name = table
                .iter()
                .any(|(_, names)| names.split(',').any(|n| n == r.as_str()));
            if is_name || !looks_like_id_prefix(r) {
                return Ok(r.clone());
            }
            let candidates: Vec<&(String, String)> = table
                .iter()
                .filter(|(id, _)| id.starts_with(r.as_str()))
                .collect();
            match candidates.as_slice() {
                [] => Ok(r.clone()),
                // An id that is no valid reference is the engine's garbage.
                [(id, _)] => ContainerRef::new(id.as_str()).map_err(|e| {
                    Error::parse(
                        format!("unexpected id in `ps` output: {}", e.message()),
                        id.as_bytes(),
                    )
                }),
                many => Err(Error::invalid_input(format!(
                    "id prefix {r} is ambiguous; it matches {}",
                    many.iter()
                        .map(|(id, names)| format!("{} ({names})", short_id(id)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            }
        })
        .collect()
}

pub(crate) fn join(refs: &[ContainerRef]) -> String {
    refs.iter()
        .map(ContainerRef::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Containers<'_> {
    /// Inspect any number of containers in one engine call, separating the
    /// found from the missing. Names, full ids and unique id prefixes are
    /// accepted; an ambiguous prefix is InvalidInput listing the candidates.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let seen = Engine::detect()?.containers().inspect(&ContainerRef::many(["web", "gone"])?)?;
    /// println!("{} found, missing: {:?}", seen.items.len(), seen.missing);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect(&self, refs: &[ContainerRef]) -> Result<Found<Container>> {
        if refs.is_empty() {
            return Ok(Found::empty());
        }
        match self.engine.run(inspect_plan(refs)) {
            // The engines refuse an ambiguous id prefix without naming the
            // candidates; one `ps` finds them.
            Err(e)
                if e.kind() == ErrorKind::InvalidInput && refs.iter().any(looks_like_id_prefix) =>
            {
                self.resolve(refs)?;
                Err(e)
            }
            other => other,
        }
    }

    /// Inspect one container.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let pid = Engine::detect()?.containers().inspect_one(&ContainerRef::new("web")?)?.pid()?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect_one(&self, reference: &ContainerRef) -> Result<Container> {
        self.inspect(std::slice::from_ref(reference))?
            .into_one(|| format!("container {reference} exists but cannot be inspected"))
    }

    /// The status of each container, `None` for a missing one; one engine
    /// call for any number.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// for s in Engine::detect()?.containers().statuses(&ContainerRef::many(["web", "db"])?)? {
    ///     println!("{} {:?}", s.name, s.status);
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn statuses(&self, refs: &[ContainerRef]) -> Result<Vec<ContainerStatus>> {
        let seen = self.inspect(refs)?;
        Ok(refs
            .iter()
            .map(|r| {
                let found = seen.get(r.as_str());
                ContainerStatus {
                    name: r.clone(),
                    id: found.map(|c| c.id.clone()),
                    status: found.map(|c| c.state.status),
                }
            })
            .collect())
    }

    /// Containers matching a query, fully inspected, newest first: one `ps`
    /// and one `inspect` call.
    ///
    /// ```no_run
    /// use dockhand::{container::PsQuery, Engine};
    /// let stopped = Engine::detect()?.containers().list(&PsQuery { all: true, ..PsQuery::default() })?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn list(&self, query: &PsQuery) -> Result<Vec<Container>> {
        let ids = ContainerRef::many(self.engine.run(ps_ids_plan(query))?)?;
        let found = self.inspect(&ids)?.items;
        // Label filters are exclusive in both engines; checking again here
        // keeps that promise whatever the engine version does.
        let mut rows: Vec<Container> = found
            .into_iter()
            .filter(|c| {
                query
                    .labels
                    .iter()
                    .all(|l| c.labels.get(l.key()).map(String::as_str) == Some(l.value()))
            })
            .collect();
        // docker lists newest first, podman oldest first: settle on newest.
        rows.sort_by_key(|c| std::cmp::Reverse(c.created_unix_nanos()));
        Ok(rows)
    }

    /// Every container, running or stopped, carrying all these labels
    /// (e.g. user + mapping id).
    ///
    /// ```no_run
    /// use dockhand::{input::KeyValue, Engine};
    /// let mine = Engine::detect()?.containers().find_by_labels(&[KeyValue::new("label", "user=alice")?, KeyValue::new("label", "mapping=7")?])?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn find_by_labels(&self, labels: &[KeyValue]) -> Result<Vec<Container>> {
        self.list(&PsQuery {
            all: true,
            filters: Vec::new(),
            labels: labels.to_vec(),
        })
    }

    /// Expand unique id prefixes to full ids (one `ps` call, made only when
    /// a reference looks like a hex prefix); an ambiguous prefix is
    /// InvalidInput listing the candidates.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let full = Engine::detect()?.containers().resolve(&ContainerRef::many(["3f2a"])?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn resolve(&self, refs: &[ContainerRef]) -> Result<Vec<ContainerRef>> {
        if !refs.iter().any(looks_like_id_prefix) {
            return Ok(refs.to_vec());
        }
        self.engine.run(resolve_plan(refs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay};
    use crate::EngineKind;

    #[test]
    fn batch_inspect_with_missing_names_keeps_the_found_ones_on_both_engines() {
        for (engine, kind, code) in [
            ("docker", EngineKind::Docker, 1),
            ("podman", EngineKind::Podman, 125),
        ] {
            let refs = ContainerRef::many(["dhcap-m1", "dhcap-full", "dhcap-m2"]).unwrap();
            let seen = replay(
                kind,
                inspect_plan(&refs),
                code,
                &capture(&format!(
                    "{engine}/containers-inspect-two-missing.stdout.txt"
                )),
                &capture(&format!(
                    "{engine}/containers-inspect-two-missing.stderr.txt"
                )),
            )
            .unwrap();
            assert_eq!(seen.items.len(), 1, "{engine}");
            assert_eq!(seen.items[0].name, "dhcap-full");
            assert_eq!(seen.missing, ["dhcap-m1", "dhcap-m2"]);
            let e = seen.clone().into_result().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound);
            assert!(e.message().contains("dhcap-m1, dhcap-m2"), "{e}");
            assert!(seen.get(refs[1].as_str()).is_some());
        }
    }

    #[test]
    fn batch_inspect_in_the_middle_and_all_missing() {
        for (engine, kind, code) in [
            ("docker", EngineKind::Docker, 1),
            ("podman", EngineKind::Podman, 125),
        ] {
            let refs = ContainerRef::many(["dhcap-full", "dhcap-missing", "dhcap-exited"]).unwrap();
            let seen = replay(
                kind,
                inspect_plan(&refs),
                code,
                &capture(&format!(
                    "{engine}/containers-inspect-batch-missing.stdout.txt"
                )),
                &capture(&format!(
                    "{engine}/containers-inspect-batch-missing.stderr.txt"
                )),
            )
            .unwrap();
            let names: Vec<&str> = seen.items.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["dhcap-full", "dhcap-exited"], "{engine}");
            assert_eq!(seen.missing, ["dhcap-missing"]);
            let none = replay(
                kind,
                inspect_plan(&ContainerRef::many(["vd-missing"]).unwrap()),
                code,
                &capture(&format!(
                    "{engine}/err-inspect-type-container-missing.stdout.txt"
                )),
                &capture(&format!(
                    "{engine}/err-inspect-type-container-missing.stderr.txt"
                )),
            )
            .unwrap();
            assert!(none.items.is_empty() && none.missing.len() == 1, "{engine}");
        }
    }

    #[test]
    fn other_failures_of_inspect_stay_errors() {
        let refs = ContainerRef::many(["x"]).unwrap();
        let e = replay(
            EngineKind::Docker,
            inspect_plan(&refs),
            1,
            &capture("docker/err-daemon-down-unix-inspect-x.stdout.txt"),
            &capture("docker/err-daemon-down-unix-inspect-x.stderr.txt"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unreachable);
    }

    #[test]
    fn an_ambiguous_prefix_fails_the_inspect_as_invalid_input_on_both_engines() {
        for (engine, kind, code) in [
            ("docker", EngineKind::Docker, 1),
            ("podman", EngineKind::Podman, 125),
        ] {
            let e = replay(
                kind,
                inspect_plan(&ContainerRef::many(["1"]).unwrap()),
                code,
                &capture(&format!("{engine}/err-inspect-ambiguous-prefix.stdout.txt")),
                &capture(&format!("{engine}/err-inspect-ambiguous-prefix.stderr.txt")),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{engine}: {e}");
        }
    }

    #[test]
    fn statuses_say_missing_in_json() {
        let s = ContainerStatus {
            name: ContainerRef::new("gone").unwrap(),
            id: None,
            status: None,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"name":"gone","id":null,"status":"missing"}"#
        );
    }

    #[test]
    fn id_prefixes_expand_uniquely_or_list_candidates() {
        let table = parse_id_table(
            "abc123000000000000000000000000000000000000000000000000000000000f\tweb\n\
             abd999000000000000000000000000000000000000000000000000000000000f\tdb,web2/db\n\
             ffff00000000000000000000000000000000000000000000000000000000000f\tcafe\n",
        );
        let refs = ContainerRef::many(["abc", "web", "cafe", "99", "ab"]).unwrap();
        let e = expand(&refs, &table).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(
            e.message().contains("abc123000000 (web)")
                && e.message().contains("abd999000000 (db,web2/db)"),
            "{e}"
        );
        let got = expand(&refs[..4], &table).unwrap();
        assert_eq!(got[0].as_str(), table[0].0);
        assert_eq!(got[1].as_str(), "web");
        assert_eq!(got[2].as_str(), "cafe", "a name wins over an id prefix");
        assert_eq!(got[3].as_str(), "99", "unknown is left to the engine");
    }

    #[test]
    fn odd_ids_in_the_table_are_parse_errors_not_crashes() {
        // Regressions (fuzzing): listing ambiguous candidates cut each id at
        // byte 12, which panicked inside a multi-byte character; a unique
        // "id" that is no valid reference was reported as the user's input.
        let table = parse_id_table("0123456789a\u{20ac}bc\tweb\n0123456789a\u{20ac}de\tdb\n");
        let e = expand(&ContainerRef::many(["0"]).unwrap(), &table).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.message().contains("0123456789a\u{20ac} (web)"), "{e}");
        let table = parse_id_table("0a;b\tweb\n");
        let e = expand(&ContainerRef::many(["0"]).unwrap(), &table).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse, "{e}");
    }
}

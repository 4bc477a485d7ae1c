//! Removing what is unused: `prune containers|images|networks|volumes` with
//! label and `until` filters, and a preview that lists exactly what would go.
//!
//! Neither engine has a dry run, so the preview lists with the filters that
//! select what each engine's prune removes (`vendor-docs/run-flags.md`,
//! "prune and what would go"):
//!
//! | kind | the engine removes | preview |
//! |---|---|---|
//! | containers | exited and created (docker: and dead) | `ps -a` with those `status=` filters (podman refuses `status=dead`), then inspect |
//! | images | dangling images (no `-a`) | `images -a --filter dangling=true`, then inspect |
//! | networks | user networks without containers: docker counts running ones only, podman every container | `network ls` + inspect; podman: minus the networks of all containers |
//! | volumes | unused volumes, named ones too with the 1.41 daemon | docker `volume ls --filter dangling=true`; podman's `dangling=true` also lists volumes a running container uses, so: every volume minus those any container mounts |
//!
//! Label filters go to the engine's listing where it has them and are
//! checked again on the inspected labels (`label!=` only there); `until` is
//! fixed to one instant (epoch seconds) for the preview and the prune, and
//! compared with creation times. docker refuses `until` for volumes and
//! podman 4.3 `label!=` for volumes: so does dockhand (exit 2), before
//! anything runs. The engine's prune may still take an object created
//! between the preview and the prune; what the engine reports removed is the
//! answer of [`Prune::run`].
//!
//! This module drives several resources' handles (layer 7, next to apps).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::container::{Container, PsQuery};
use crate::decode::time::Timestamp;
use crate::decode::units::parse_size;
use crate::engine::plan::Plan;
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, Result};
use crate::image::ListOptions;
use crate::input::{KeyValue, PruneFilter};

/// What to prune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PruneKind {
    /// Stopped containers (exited, created, dead).
    Containers,
    /// Dangling images.
    Images,
    /// Networks no container uses.
    Networks,
    /// Volumes no container uses.
    Volumes,
}

impl PruneKind {
    /// The engine's object word: `container`, `image`, `network`, `volume`.
    fn object(self) -> &'static str {
        match self {
            PruneKind::Containers => "container",
            PruneKind::Images => "image",
            PruneKind::Networks => "network",
            PruneKind::Volumes => "volume",
        }
    }

    /// The lower-case plural, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PruneKind::Containers => "containers",
            PruneKind::Images => "images",
            PruneKind::Networks => "networks",
            PruneKind::Volumes => "volumes",
        }
    }
}

/// One object a prune removed (or, in a preview, would remove).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct PrunedObject {
    /// Full id (containers, images, networks); `None` for volumes.
    pub id: Option<String>,
    /// Name (containers, networks, volumes; an image's first tag).
    pub name: Option<String>,
}

/// What a prune removed, or a preview would remove. As JSON:
/// `{"kind", "dry_run", "objects": [{"id", "name"}], "reclaimed_bytes"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Pruned {
    /// What was pruned.
    pub kind: PruneKind,
    /// True for a preview: nothing was removed.
    pub dry_run: bool,
    /// The objects, sorted.
    pub objects: Vec<PrunedObject>,
    /// Space the engine says it freed (docker; `None` for podman and previews).
    pub reclaimed_bytes: Option<u64>,
}

/// The engine's prune command: `KIND prune --force --filter=…`, `until` as
/// the epoch seconds of `now` minus its duration. Retried on transient
/// failures (podman fails a network prune when a container vanishes while it
/// looks at them all).
///
/// ```
/// use dockhand::{decode::time::Timestamp, prune::{prune_plan, PruneKind}, EngineKind};
/// let filters = ["label=app=web".parse()?, "until=1h".parse()?];
/// let now = Timestamp::from_unix(1_800_000_000, 0);
/// let plan = prune_plan(EngineKind::Docker, PruneKind::Containers, &filters, now)?;
/// assert_eq!(plan.args(), ["container", "prune", "--force", "--filter=label=app=web", "--filter=until=1799996400"]);
/// assert!(prune_plan(EngineKind::Docker, PruneKind::Volumes, &filters, now).is_err());
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn prune_plan(
    kind: EngineKind,
    what: PruneKind,
    filters: &[PruneFilter],
    now: Timestamp,
) -> Result<Plan<(Vec<String>, Option<u64>)>> {
    check(kind, what, filters)?;
    let args = Argv::new(what.object())
        .args(["prune", "--force"])
        .each("--filter", filters.iter().map(|f| f.engine_filter(now)));
    // Safe to repeat: a second prune removes what is still unused then.
    Ok(Plan::write(args, |out| {
        Ok(parse_pruned(&out.stdout_text()))
    }))
}

/// What the engines accept: docker refuses `until` for volumes, podman 4.3
/// `label!=` for volumes.
fn check(kind: EngineKind, what: PruneKind, filters: &[PruneFilter]) -> Result<()> {
    let until = filters.iter().any(|f| matches!(f, PruneFilter::Until(_)));
    let negated = filters
        .iter()
        .any(|f| matches!(f, PruneFilter::Label { negated: true, .. }));
    if what != PruneKind::Volumes {
        return Ok(());
    }
    if kind == EngineKind::Docker && until {
        return Err(Error::invalid_input(
            "docker cannot prune volumes with an until filter (\"Invalid filter 'until'\"); use label filters",
        ));
    }
    if negated && !kind.quirks().volume_prune_negated_label {
        return Err(Error::invalid_input(format!(
            "{} cannot prune volumes with a label!= filter; use label= filters",
            kind.as_str()
        )));
    }
    Ok(())
}

/// The ids or names a prune printed, and docker's "Total reclaimed space".
///
/// docker: `Deleted Containers:` / `Deleted Images:` (`deleted: sha256:…`,
/// `untagged: …`) / `Deleted Networks:` / `Deleted Volumes:`, one per line,
/// then `Total reclaimed space: 1.2MB`; podman: one per line.
fn parse_pruned(text: &str) -> (Vec<String>, Option<u64>) {
    let mut objects = Vec::new();
    let mut reclaimed = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(size) = line.strip_prefix("Total reclaimed space:") {
            reclaimed = parse_size(size.trim());
        } else if let Some(id) = line.strip_prefix("deleted: ") {
            objects.push(id.trim().to_string());
        } else if line.starts_with("untagged: ") || line.ends_with(':') {
            // A header, or a tag that went with a deleted image.
        } else {
            objects.push(line.to_string());
        }
    }
    (objects, reclaimed)
}

/// The engine's prunes: `engine.prune()`.
///
/// ```no_run
/// use dockhand::{prune::PruneKind, Engine};
/// let engine = Engine::detect()?;
/// let filters = ["label=app=web".parse()?];
/// let would = engine.prune().preview(PruneKind::Containers, &filters)?;
/// println!("{} would go", would.objects.len());
/// let gone = engine.prune().run(PruneKind::Containers, &filters)?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Prune<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// Prunes of stopped containers, dangling images, unused networks and volumes.
    ///
    /// ```no_run
    /// let would = dockhand::Engine::detect()?.prune().preview(dockhand::prune::PruneKind::Images, &[])?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn prune(&self) -> Prune<'_> {
        Prune { engine: self }
    }
}

/// The label filters the engines' listings take (positive ones).
fn listing_filters(filters: &[PruneFilter]) -> Result<Vec<KeyValue>> {
    filters
        .iter()
        .filter_map(|f| match f {
            PruneFilter::Label {
                key,
                value,
                negated: false,
            } => Some(KeyValue::pair(
                "label",
                &match value {
                    Some(v) => format!("{key}={v}"),
                    None => key.clone(),
                },
            )),
            _ => None,
        })
        .collect()
}

/// Whether an object with these labels, created at `created` (RFC 3339),
/// passes every filter.
fn admits(
    filters: &[PruneFilter],
    now: Timestamp,
    labels: &std::collections::BTreeMap<String, String>,
    created: &str,
) -> bool {
    filters.iter().all(|f| match f {
        PruneFilter::Until(t) => Timestamp::parse_rfc3339(created)
            .is_some_and(|c| c.unix_secs() < t.resolve(now).unix_secs()),
        label => label.admits_labels(labels),
    })
}

impl Prune<'_> {
    /// What a prune with these filters would remove now; removes nothing.
    pub fn preview(&self, what: PruneKind, filters: &[PruneFilter]) -> Result<Pruned> {
        let kind = self.engine.kind();
        check(kind, what, filters)?;
        let now = Timestamp::now();
        let labels = listing_filters(filters)?;
        let ok = |l: &std::collections::BTreeMap<String, String>, created: &str| {
            admits(filters, now, l, created)
        };
        let mut objects: Vec<PrunedObject> = match what {
            PruneKind::Containers => {
                let mut statuses = vec!["exited", "created"];
                if kind == EngineKind::Docker {
                    statuses.push("dead");
                }
                let query = PsQuery {
                    all: true,
                    filters: statuses
                        .into_iter()
                        .map(|s| KeyValue::pair("status", s))
                        .collect::<Result<_>>()?,
                    labels: Vec::new(),
                };
                let query = PsQuery {
                    filters: query.filters.into_iter().chain(labels).collect(),
                    ..query
                };
                self.engine
                    .containers()
                    .list(&query)?
                    .into_iter()
                    .filter(|c| ok(&c.labels, &c.created))
                    .map(|c| PrunedObject {
                        id: Some(c.id),
                        name: Some(c.name),
                    })
                    .collect()
            }
            PruneKind::Images => {
                let opts = ListOptions {
                    all: true,
                    filters: std::iter::once(KeyValue::pair("dangling", "true"))
                        .chain(labels.into_iter().map(Ok))
                        .collect::<Result<_>>()?,
                };
                self.engine
                    .images()
                    .list(&opts)?
                    .into_iter()
                    .filter(|i| ok(&i.labels, &i.created))
                    .map(|i| PrunedObject {
                        name: i.tags.first().cloned(),
                        id: Some(i.id),
                    })
                    .collect()
            }
            PruneKind::Networks => {
                let in_use: BTreeSet<String> = self
                    .podman_containers(kind)?
                    .into_iter()
                    .flat_map(|c| c.networks.into_iter().map(|n| n.name))
                    .collect();
                let predefined = ["bridge", "host", "none", kind.quirks().default_network];
                self.engine
                    .networks()
                    .list(&labels)?
                    .into_iter()
                    .filter(|n| n.containers.is_empty() && !in_use.contains(&n.name))
                    .filter(|n| !predefined.contains(&n.name.as_str()))
                    .filter(|n| ok(&n.labels, &n.created))
                    .map(|n| PrunedObject {
                        id: (!n.id.is_empty()).then_some(n.id),
                        name: Some(n.name),
                    })
                    .collect()
            }
            PruneKind::Volumes => {
                let listing: Vec<KeyValue> = match kind {
                    EngineKind::Podman => labels,
                    _ => std::iter::once(KeyValue::pair("dangling", "true"))
                        .chain(labels.into_iter().map(Ok))
                        .collect::<Result<_>>()?,
                };
                // podman's `dangling=true` also lists the volumes of running containers.
                let mounted: BTreeSet<String> = self
                    .podman_containers(kind)?
                    .into_iter()
                    .flat_map(|c| c.mounts.into_iter().filter_map(|m| m.name))
                    .collect();
                self.engine
                    .volumes()
                    .list(&listing)?
                    .into_iter()
                    .filter(|v| !mounted.contains(&v.name))
                    .filter(|v| ok(&v.labels, &v.created))
                    .map(|v| PrunedObject {
                        id: None,
                        name: Some(v.name),
                    })
                    .collect()
            }
        };
        objects.sort();
        Ok(Pruned {
            kind: what,
            dry_run: true,
            objects,
            reclaimed_bytes: None,
        })
    }

    /// Prune: the engine's own prune with these filters. The objects are
    /// what the engine reports removed, with the names the preview just
    /// before found for them. In a dry run (`Mode::DryRun`) this is the
    /// preview, and the prune command goes to the dry-run sink.
    pub fn run(&self, what: PruneKind, filters: &[PruneFilter]) -> Result<Pruned> {
        let preview = self.preview(what, filters)?;
        let plan = prune_plan(self.engine.kind(), what, filters, Timestamp::now())?;
        let (removed, reclaimed) = self.engine.run(plan)?;
        if self.engine.is_dry_run() {
            return Ok(preview);
        }
        let mut objects: Vec<PrunedObject> = removed
            .into_iter()
            .map(|word| {
                let previewed = preview
                    .objects
                    .iter()
                    .find(|o| {
                        o.id.as_deref()
                            .is_some_and(|id| id == word || id.ends_with(&word))
                            || o.name.as_deref() == Some(word.as_str())
                    })
                    .cloned();
                // Created after the preview: only the engine's word for it.
                previewed.unwrap_or(match what {
                    PruneKind::Volumes | PruneKind::Networks => PrunedObject {
                        id: None,
                        name: Some(word),
                    },
                    _ => PrunedObject {
                        id: Some(word),
                        name: None,
                    },
                })
            })
            .collect();
        objects.sort();
        objects.dedup();
        Ok(Pruned {
            kind: what,
            dry_run: false,
            objects,
            reclaimed_bytes: reclaimed,
        })
    }

    /// Every container, for the preview of podman's network and volume
    /// prunes, which keep what any container uses (docker's listings say it
    /// themselves: nothing to ask there).
    fn podman_containers(&self, kind: EngineKind) -> Result<Vec<Container>> {
        if kind != EngineKind::Podman {
            return Ok(Vec::new());
        }
        self.engine.containers().list(&PsQuery {
            all: true,
            ..PsQuery::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::capture;

    #[test]
    fn what_each_engine_prints_after_a_prune() {
        for (slug, n, bytes) in [
            ("docker/prune-containers.stdout.txt", 2, Some(0)),
            ("podman/prune-containers.stdout.txt", 2, None),
            ("docker/prune-images.stdout.txt", 1, Some(0)),
            ("docker/prune-networks.stdout.txt", 1, None),
            ("docker/prune-volumes-named.stdout.txt", 1, Some(0)),
            ("podman/prune-volumes.stdout.txt", 1, None),
        ] {
            let text = String::from_utf8(capture(slug)).unwrap();
            let (objects, reclaimed) = parse_pruned(&text);
            assert_eq!(objects.len(), n, "{slug}: {objects:?}");
            assert!(objects.iter().all(|o| !o.contains(' ')), "{slug}");
            assert_eq!(reclaimed, bytes, "{slug}");
        }
        let (images, _) =
            parse_pruned(&String::from_utf8(capture("docker/prune-images.stdout.txt")).unwrap());
        assert!(images[0].starts_with("sha256:"));
        assert_eq!(
            parse_pruned("Total reclaimed space: 0B\n"),
            (vec![], Some(0))
        );
    }

    #[test]
    fn filters_pass_labels_to_listings_and_check_the_rest_here() {
        let filters: Vec<PruneFilter> = ["label=app=web", "label=tier", "label!=keep", "until=1h"]
            .iter()
            .map(|f| f.parse().unwrap())
            .collect();
        let listed: Vec<String> = listing_filters(&filters)
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(listed, ["label=app=web", "label=tier"]);
        let now = Timestamp::from_unix(1_800_000_000, 0);
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let old = "2027-01-15T08:00:00Z"; // 1_800_000_000 is 2027-01-15T08:00:00Z
        let older = "2027-01-15T06:00:00Z";
        let web = labels(&[("app", "web"), ("tier", "x")]);
        assert!(admits(&filters, now, &web, older));
        assert!(!admits(&filters, now, &web, old), "created after until");
        let kept = labels(&[("app", "web"), ("tier", "x"), ("keep", "1")]);
        assert!(!admits(&filters, now, &kept, older), "label!=keep");
        assert!(
            !admits(&filters, now, &web, "never"),
            "unreadable times are kept"
        );
    }
}

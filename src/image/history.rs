//! The layers an image was built from (`image history`), newest first.
//!
//! docker: `--format '{{json .}}'` prints one JSON line per layer, and with
//! `--human=false` sizes in bytes and `CreatedAt` in RFC 3339 (the 20.10 CLI
//! prints the literal word for `--format json`, so the template is used).
//! podman: `--format json` prints one array whose objects carry both
//! `created` (nanoseconds precision) and `Created` (seconds), differing only
//! in case; sizes are numbers. Layers that are not stored locally have the
//! id `<missing>` on both.

use serde::{Deserialize, Serialize};

use super::Images;
use crate::decode::json::{lenient_string, parse_json_list};
use crate::decode::units::parse_size;
use crate::engine::plan::Plan;
use crate::engine::{Argv, EngineKind};
use crate::error::Result;
use crate::input::ImageRef;

/// One layer of an image's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HistoryEntry {
    /// The layer's image id (`sha256:…`), `None` when it is not stored here.
    pub id: Option<String>,
    /// Creation time, RFC 3339.
    pub created: Option<String>,
    /// The instruction that made it.
    pub created_by: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Its comment.
    pub comment: String,
}

#[derive(Deserialize)]
struct WireEntry {
    #[serde(
        rename = "ID",
        alias = "id",
        default,
        deserialize_with = "lenient_string"
    )]
    id: String,
    #[serde(
        rename = "CreatedAt",
        alias = "created",
        default,
        deserialize_with = "lenient_string"
    )]
    created: String,
    #[serde(rename = "CreatedBy", default, deserialize_with = "lenient_string")]
    created_by: String,
    #[serde(rename = "Size", alias = "size", default, deserialize_with = "bytes")]
    size: u64,
    #[serde(
        rename = "Comment",
        alias = "comment",
        default,
        deserialize_with = "lenient_string"
    )]
    comment: String,
}

/// A size as a number, a numeric string, or (docker without `--human=false`)
/// a human one such as `1.98MB`.
fn bytes<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    use serde::de::Error as _;
    let text = lenient_string(d)?;
    match text.trim() {
        "" => Ok(0),
        t => parse_size(t).ok_or_else(|| D::Error::custom(format!("expected a size, got {t:?}"))),
    }
}

/// `image history --no-trunc` as JSON, sizes in bytes.
///
/// ```
/// use dockhand::{image::history_plan, input::ImageRef, EngineKind};
/// let img = ImageRef::new("busybox:latest").unwrap();
/// assert_eq!(history_plan(EngineKind::Docker, &img).args(),
///     ["image", "history", "--no-trunc", "--human=false", "--format={{json .}}", "--", "busybox:latest"]);
/// assert_eq!(history_plan(EngineKind::Podman, &img).args(),
///     ["image", "history", "--no-trunc", "--format=json", "--", "busybox:latest"]);
/// ```
pub fn history_plan(kind: EngineKind, image: &ImageRef) -> Plan<Vec<HistoryEntry>> {
    let args = Argv::new("image").args(["history", "--no-trunc"]);
    let args = match kind {
        EngineKind::Podman => args.opt("--format", Some("json")),
        _ => args
            .flag("--human=false")
            .opt("--format", Some("{{json .}}")),
    };
    Plan::read(args.operands([image]), |out| {
        let rows: Vec<WireEntry> = parse_json_list(&out.stdout)?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryEntry {
                id: match r.id.as_str() {
                    "" | "<missing>" => None,
                    id if id.starts_with("sha256:") => Some(r.id),
                    id => Some(format!("sha256:{id}")),
                },
                created: (!r.created.is_empty()).then_some(r.created),
                created_by: r.created_by,
                size_bytes: r.size,
                comment: r.comment,
            })
            .collect())
    })
}

impl Images<'_> {
    /// The layers `image` was built from, newest first.
    ///
    /// ```no_run
    /// use dockhand::{input::ImageRef, Engine};
    /// for layer in Engine::detect()?.images().history(&ImageRef::new("busybox")?)? {
    ///     println!("{:>10} {}", layer.size_bytes, layer.created_by);
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn history(&self, image: &ImageRef) -> Result<Vec<HistoryEntry>> {
        self.engine.run(history_plan(self.engine.kind(), image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay_ok};

    #[test]
    fn both_engines_captures() {
        let img = ImageRef::new("dockhand-test/busybox:latest").unwrap();
        let docker = replay_ok(
            EngineKind::Docker,
            history_plan(EngineKind::Docker, &img),
            &capture("docker/image-history-json-lines.txt"),
        )
        .unwrap();
        assert_eq!(docker.len(), 1);
        assert!(docker[0].id.as_ref().unwrap().starts_with("sha256:"));
        assert_eq!(docker[0].created.as_deref(), Some("2026-12-01T19:19:34Z"));
        assert_eq!(docker[0].comment, "Imported from -");
        let podman = replay_ok(
            EngineKind::Podman,
            history_plan(EngineKind::Podman, &img),
            &capture("podman/image-history-json.json"),
        )
        .unwrap();
        assert_eq!(podman[0].size_bytes, 2_129_920);
        assert_eq!(
            podman[0].created.as_deref(),
            Some("2026-12-01T19:19:34.093552808Z"),
            "lower-case created, not Created"
        );
        assert!(podman[0].created_by.contains("ADD file:"));
        for (kind, slug) in [
            (EngineKind::Docker, "docker/vb-history-bytes.stdout.txt"),
            (
                EngineKind::Docker,
                "docker/vb-history-bytes-client20.stdout.txt",
            ),
            (EngineKind::Podman, "podman/vb-history-bytes.stdout.txt"),
        ] {
            let layers = replay_ok(kind, history_plan(kind, &img), &capture(slug)).unwrap();
            assert!(layers[0].size_bytes > 1_000_000, "{slug}: exact bytes");
            assert!(layers[0].created.is_some(), "{slug}");
        }
        let sized = replay_ok(
            EngineKind::Docker,
            history_plan(EngineKind::Docker, &img),
            br#"{"Comment":"","CreatedAt":"2026-12-01T19:19:34Z","CreatedBy":"","ID":"<missing>","Size":"1984249"}"#,
        )
        .unwrap();
        assert_eq!(
            (sized[0].id.as_ref(), sized[0].size_bytes),
            (None, 1_984_249)
        );
    }
}

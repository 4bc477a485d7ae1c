//! Disk use of the engine (`system df`): images, containers, volumes and
//! (docker) the build cache, with how much a prune could reclaim.
//!
//! Both engines answer one template line per kind (podman's `--format json`
//! prints the word `json` once per row, so the template is used on both):
//! docker with strings (`"1.984MB"`, `"0B (0%)"`, decimal units rounded to four
//! digits), podman with numbers. The figures are the whole engine's, other
//! users' objects included.

use serde::{Deserialize, Serialize};

use super::System;
use crate::decode::json::{lenient_string, parse_json_list};
use crate::decode::units::parse_size;
use crate::engine::plan::Plan;
use crate::engine::Argv;
use crate::error::Result;

/// Disk use of one kind of object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DiskUsage {
    /// Which objects.
    pub kind: DiskUsageKind,
    /// How many there are.
    pub total: u64,
    /// How many are in use.
    pub active: u64,
    /// Bytes they take (docker: read back from four rounded digits).
    pub size_bytes: u64,
    /// Bytes a prune of the unused ones could free.
    pub reclaimable_bytes: u64,
}

/// The kinds `system df` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiskUsageKind {
    /// Images.
    Images,
    /// Containers' writable layers.
    Containers,
    /// Local volumes.
    Volumes,
    /// docker's build cache.
    BuildCache,
    /// A kind this version of dockhand does not know.
    #[serde(other)]
    Unknown,
}

impl DiskUsageKind {
    /// The kind for an engine's `Type` (`Local Volumes`, `Build Cache` …).
    pub fn from_engine(word: &str) -> DiskUsageKind {
        match word {
            "Images" => DiskUsageKind::Images,
            "Containers" => DiskUsageKind::Containers,
            "Local Volumes" => DiskUsageKind::Volumes,
            "Build Cache" => DiskUsageKind::BuildCache,
            _ => DiskUsageKind::Unknown,
        }
    }

    /// The snake_case word, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskUsageKind::Images => "images",
            DiskUsageKind::Containers => "containers",
            DiskUsageKind::Volumes => "volumes",
            DiskUsageKind::BuildCache => "build_cache",
            DiskUsageKind::Unknown => "unknown",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireRow {
    #[serde(rename = "Type", default, deserialize_with = "lenient_string")]
    kind: String,
    /// docker `TotalCount`, podman `Total`.
    #[serde(alias = "TotalCount", default, deserialize_with = "lenient_string")]
    total: String,
    #[serde(default, deserialize_with = "lenient_string")]
    active: String,
    #[serde(default, deserialize_with = "lenient_string")]
    size: String,
    #[serde(default, deserialize_with = "lenient_string")]
    reclaimable: String,
}

/// `system df --format '{{json .}}'`.
///
/// ```
/// let plan = dockhand::system::df_plan();
/// assert_eq!(plan.args(), ["system", "df", "--format={{json .}}"]);
/// let rows = dockhand::testing::replay_ok(dockhand::EngineKind::Docker, plan,
///     br#"{"Active":"1","Reclaimable":"0B (0%)","Size":"1.984MB","TotalCount":"1","Type":"Images"}"#).unwrap();
/// assert_eq!(rows[0].size_bytes, 1_984_000);
/// ```
pub fn df_plan() -> Plan<Vec<DiskUsage>> {
    Plan::read(
        Argv::new("system")
            .arg("df")
            .opt("--format", Some("{{json .}}")),
        |out| {
            let rows: Vec<WireRow> = parse_json_list(&out.stdout)?;
            // "0B (0%)": the size before the percentage.
            let bytes = |s: &str| {
                s.split_whitespace()
                    .next()
                    .and_then(parse_size)
                    .unwrap_or(0)
            };
            Ok(rows
                .into_iter()
                .map(|r| DiskUsage {
                    kind: DiskUsageKind::from_engine(&r.kind),
                    total: r.total.trim().parse().unwrap_or(0),
                    active: r.active.trim().parse().unwrap_or(0),
                    size_bytes: bytes(&r.size),
                    reclaimable_bytes: bytes(&r.reclaimable),
                })
                .collect())
        },
    )
}

impl System<'_> {
    /// The engine's disk use per kind of object.
    ///
    /// ```no_run
    /// for u in dockhand::Engine::detect()?.system().disk_usage()? {
    ///     println!("{}: {} bytes, {} reclaimable", u.kind.as_str(), u.size_bytes, u.reclaimable_bytes);
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn disk_usage(&self) -> Result<Vec<DiskUsage>> {
        self.engine.run(df_plan())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay_ok};
    use crate::EngineKind;

    #[test]
    fn rows_of_both_engines() {
        let docker = replay_ok(
            EngineKind::Docker,
            df_plan(),
            &capture("docker/system-df-json-lines.txt"),
        )
        .unwrap();
        let kinds: Vec<DiskUsageKind> = docker.iter().map(|u| u.kind).collect();
        use DiskUsageKind::*;
        assert_eq!(kinds, [Images, Containers, Volumes, BuildCache]);
        assert_eq!((docker[1].total, docker[1].active), (9, 3));
        assert_eq!(docker[3].reclaimable_bytes, 144_700);
        let podman = replay_ok(
            EngineKind::Podman,
            df_plan(),
            &capture("podman/system-df-go-template.txt"),
        )
        .unwrap();
        assert_eq!(podman.len(), 3);
        assert_eq!(podman[0].size_bytes, 6_394_266, "podman's exact bytes");
        assert_eq!(podman[1].reclaimable_bytes, 72);
    }
}

//! Volumes: list, inspect, create, remove.
//!
//! Both engines print the same capitalised keys for `volume inspect`;
//! podman's `Options` is `{}` where docker's is `null`, and podman adds
//! `MountCount`/`NeedsCopyUp`. `volume create` of an existing name succeeds
//! silently in docker and fails in podman; [`Volumes::create`] gives
//! docker's answer on both (the existing volume, unchanged).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::json::{lenient_string, null_default, parse_json};
use crate::engine::batch::Named;
use crate::engine::batch::{self, Found};
use crate::engine::plan::Plan;
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{KeyValue, VolumeName};

/// The volumes of an engine. A small borrowed handle: `engine.volumes()`.
///
/// ```no_run
/// let vols = dockhand::Engine::detect()?.volumes().list(&[])?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Volumes<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// The volumes: list, inspect, create, remove.
    ///
    /// ```no_run
    /// let data = dockhand::Engine::detect()?.volumes().inspect_one(&"data".parse()?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn volumes(&self) -> Volumes<'_> {
        Volumes { engine: self }
    }
}

/// A volume, from `volume inspect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Volume {
    /// Name.
    #[serde(
        rename(serialize = "name", deserialize = "Name"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub name: String,
    /// Driver (`local`).
    #[serde(
        rename(serialize = "driver", deserialize = "Driver"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub driver: String,
    /// Where the data lives on the host.
    #[serde(
        rename(serialize = "mountpoint", deserialize = "Mountpoint"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub mountpoint: String,
    /// Creation time, RFC 3339.
    #[serde(
        rename(serialize = "created", deserialize = "CreatedAt"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub created: String,
    /// `local` or `global`.
    #[serde(
        rename(serialize = "scope", deserialize = "Scope"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub scope: String,
    /// Labels.
    #[serde(
        rename(serialize = "labels", deserialize = "Labels"),
        default,
        deserialize_with = "null_default"
    )]
    pub labels: BTreeMap<String, String>,
    /// Driver options.
    #[serde(
        rename(serialize = "options", deserialize = "Options"),
        default,
        deserialize_with = "null_default"
    )]
    pub options: BTreeMap<String, String>,
    /// The engine's whole JSON object.
    #[serde(skip_deserializing)]
    pub raw: Value,
}

impl Named for Volume {
    fn is_named_by(&self, reference: &str) -> bool {
        self.name == reference
    }
}

/// Parse `volume inspect` output (a JSON array) of docker or podman.
///
/// ```
/// let v = dockhand::volume::parse_volumes(br#"[{"Name":"data","Driver":"local","Options":null,"Labels":{"a":"b"}}]"#).unwrap();
/// assert_eq!((v[0].name.as_str(), v[0].labels["a"].as_str()), ("data", "b"));
/// ```
pub fn parse_volumes(bytes: &[u8]) -> Result<Vec<Volume>> {
    let raws: Vec<Value> = parse_json(bytes)?;
    raws.into_iter()
        .map(|raw| {
            let mut v: Volume = serde_json::from_value(raw.clone()).map_err(|e| {
                Error::parse(format!("unexpected volume inspect output: {e}"), bytes).with_source(e)
            })?;
            v.raw = raw;
            Ok(v)
        })
        .collect()
}

/// Names of the volumes that match `filters` (`label=k=v`, `dangling=true`, `driver=…`).
///
/// ```
/// use dockhand::{volume::list_plan, input::KeyValue};
/// let plan = list_plan(&KeyValue::many("filter", ["dangling=true"]).unwrap());
/// assert_eq!(plan.args(), ["volume", "ls", "-q", "--filter=dangling=true"]);
/// ```
pub fn list_plan(filters: &[KeyValue]) -> Plan<Vec<String>> {
    batch::list_plan(Argv::new("volume").args(["ls", "-q"]), filters)
}

/// One `volume inspect` of every name; missing ones go to [`Found::missing`].
///
/// ```
/// use dockhand::{volume::inspect_plan, input::VolumeName};
/// assert_eq!(inspect_plan(&VolumeName::many(["a"]).unwrap()).args(), ["volume", "inspect", "--", "a"]);
/// ```
pub fn inspect_plan(names: &[VolumeName]) -> Plan<Found<Volume>> {
    let wanted = names.iter().map(VolumeName::to_string).collect();
    batch::inspect_plan(
        Argv::new("volume").arg("inspect").operands(names),
        wanted,
        parse_volumes,
    )
}

/// What [`Volumes::create`] makes.
#[derive(Debug, Clone)]
pub struct VolumeCreateOptions {
    /// Name.
    pub name: VolumeName,
    /// Driver (default `local`).
    pub driver: Option<VolumeName>,
    /// Driver options (`type=tmpfs`, `device=tmpfs`, `o=size=64m` …).
    pub options: Vec<KeyValue>,
    /// Labels.
    pub labels: Vec<KeyValue>,
}

impl VolumeCreateOptions {
    /// A volume called `name` with the default driver.
    pub fn new(name: VolumeName) -> VolumeCreateOptions {
        VolumeCreateOptions {
            name,
            driver: None,
            options: Vec::new(),
            labels: Vec::new(),
        }
    }
}

/// Create a volume (an existing name is a [`ErrorKind::Conflict`] in
/// podman, a silent success in docker).
///
/// ```
/// use dockhand::{volume::{create_plan, VolumeCreateOptions}, input::{KeyValue, VolumeName}};
/// let mut opts = VolumeCreateOptions::new(VolumeName::new("data").unwrap());
/// opts.labels = KeyValue::many("label", ["a=b"]).unwrap();
/// assert_eq!(create_plan(&opts).args(), ["volume", "create", "--label=a=b", "--", "data"]);
/// ```
pub fn create_plan(opts: &VolumeCreateOptions) -> Plan<()> {
    let args = Argv::new("volume")
        .arg("create")
        .opt("--driver", opts.driver.as_ref())
        .each("--opt", &opts.options)
        .each("--label", &opts.labels)
        .operands([&opts.name]);
    Plan::write(args, |_| Ok(()))
}

/// Remove volumes; missing ones count as removed.
///
/// ```
/// use dockhand::{volume::remove_plan, input::VolumeName, EngineKind};
/// let plan = remove_plan(EngineKind::Podman, &VolumeName::many(["a"]).unwrap(), false);
/// assert_eq!(plan.args(), ["volume", "rm", "--", "a"]);
/// ```
pub fn remove_plan(kind: EngineKind, names: &[VolumeName], force: bool) -> Plan<Vec<String>> {
    let args = Argv::new("volume")
        .arg("rm")
        .flag_if("--force", force)
        .operands(names);
    batch::remove_plan(kind, args)
}

impl Volumes<'_> {
    /// The volumes that match `filters`, fully inspected (two calls).
    ///
    /// ```no_run
    /// for v in dockhand::Engine::detect()?.volumes().list(&[])? { println!("{} {}", v.name, v.mountpoint); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn list(&self, filters: &[KeyValue]) -> Result<Vec<Volume>> {
        let names = self.engine.run(list_plan(filters))?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        // A volume removed between the two calls is simply not listed.
        Ok(self
            .engine
            .run(inspect_plan(&VolumeName::many(names)?))?
            .items)
    }

    /// Inspect any number of volumes in one engine call, separating the
    /// found from the missing.
    ///
    /// ```no_run
    /// let found = dockhand::Engine::detect()?.volumes().inspect(&dockhand::input::VolumeName::many(["data", "gone"])?)?;
    /// println!("{} found, missing {:?}", found.items.len(), found.missing);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect(&self, names: &[VolumeName]) -> Result<Found<Volume>> {
        if names.is_empty() {
            return Ok(Found::empty());
        }
        self.engine.run(inspect_plan(names))
    }

    /// Inspect one volume.
    ///
    /// ```no_run
    /// let data = dockhand::Engine::detect()?.volumes().inspect_one(&"data".parse()?)?;
    /// println!("{}", data.mountpoint);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect_one(&self, name: &VolumeName) -> Result<Volume> {
        self.inspect(std::slice::from_ref(name))?
            .into_one(|| format!("volume {name} exists but cannot be inspected"))
    }

    /// Create a volume, or find the existing one of that name (unchanged),
    /// and return it inspected. (A dry-run engine only prints the create,
    /// and the inspect after it may find nothing: run [`create_plan`] instead.)
    ///
    /// ```no_run
    /// use dockhand::{volume::VolumeCreateOptions, input::VolumeName};
    /// let v = dockhand::Engine::detect()?.volumes().create(&VolumeCreateOptions::new(VolumeName::new("data")?))?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn create(&self, opts: &VolumeCreateOptions) -> Result<Volume> {
        match self.engine.run(create_plan(opts)) {
            Err(e) if e.kind() == ErrorKind::Conflict => {
                log::debug!("volume {} exists already: {}", opts.name, e.message())
            }
            other => other?,
        }
        self.inspect(std::slice::from_ref(&opts.name))?
            .into_one(|| format!("volume {} vanished after create", opts.name))
    }

    /// Remove volumes (missing ones count as removed); `force` also removes
    /// volumes in use (podman) / is accepted and ignored by docker.
    ///
    /// ```no_run
    /// dockhand::Engine::detect()?.volumes().remove(&dockhand::input::VolumeName::many(["data"])?, false)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn remove(&self, names: &[VolumeName], force: bool) -> Result<Vec<String>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.engine
            .run(remove_plan(self.engine.kind(), names, force))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay, replay_ok};

    #[test]
    fn both_engines_parse_onto_one_struct() {
        for dir in ["docker", "podman"] {
            let vols = parse_volumes(&capture(&format!("{dir}/volume-inspect-two.json"))).unwrap();
            assert_eq!(vols.len(), 2, "{dir}");
            let v = &vols[0];
            assert_eq!(v.name, "dhimg-vol1", "{dir}");
            assert_eq!(
                (v.driver.as_str(), v.scope.as_str()),
                ("local", "local"),
                "{dir}"
            );
            assert!(
                v.mountpoint.ends_with("/dhimg-vol1/_data"),
                "{dir}: {}",
                v.mountpoint
            );
            assert_eq!(v.labels["dhimg.k"], "v", "{dir}");
            assert!(v.options.is_empty(), "{dir}");
            assert!(v.created.starts_with("2026-"), "{dir}");
            assert_eq!(v.raw["Name"], "dhimg-vol1");
        }
        for path in [
            "docker/volume-inspect.json",
            "podman/volume-inspect.json",
            "podman/volume-ls.json",
        ] {
            assert_eq!(parse_volumes(&capture(path)).unwrap().len(), 1, "{path}");
        }
    }

    #[test]
    fn existing_name_is_a_conflict_in_podman_only() {
        let opts = VolumeCreateOptions::new(VolumeName::new("dhimg-vol1").unwrap());
        let e = replay(
            EngineKind::Podman,
            create_plan(&opts),
            125,
            b"",
            &capture("podman/volume-create-existing.stderr.txt"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
        replay_ok(
            EngineKind::Docker,
            create_plan(&opts),
            &capture("docker/volume-create-existing.stdout.txt"),
        )
        .unwrap();
    }

    #[test]
    fn listing_reads_names() {
        for (kind, dir) in [
            (EngineKind::Docker, "docker"),
            (EngineKind::Podman, "podman"),
        ] {
            let names = replay_ok(
                kind,
                list_plan(&[]),
                &capture(&format!("{dir}/volume-ls-quiet.txt")),
            )
            .unwrap();
            assert_eq!(names, ["dhimg-vol1", "dhimg-vol2"], "{dir}");
        }
    }

    #[test]
    fn create_takes_driver_options_and_labels() {
        let mut opts = VolumeCreateOptions::new(VolumeName::new("v").unwrap());
        opts.driver = Some(VolumeName::new("local").unwrap());
        opts.options = KeyValue::many("volume option", ["type=tmpfs", "o=size=64m"]).unwrap();
        assert_eq!(
            create_plan(&opts).args(),
            [
                "volume",
                "create",
                "--driver=local",
                "--opt=type=tmpfs",
                "--opt=o=size=64m",
                "--",
                "v"
            ]
        );
    }
}

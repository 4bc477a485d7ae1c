//! Images: list, inspect, exists, remove, tag, import, save, load; pull,
//! push, login and logout ([`registry`]); build ([`build`], remote contexts in
//! [`context`]).
//!
//! Docker and podman print images differently (docker `Id` is
//! `sha256:<hex>`, podman's is bare hex; podman has the labels at the top
//! level and omits unset config keys; podman's `RepoTags` carry
//! `localhost/`). [`parse_images`] reads both into one [`Image`]. Listing is
//! two calls whatever the number of images: `images -q --no-trunc` for the
//! ids, then one `image inspect` of all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::decode::json::{lenient_string, lenient_u64, null_default, parse_json};
use crate::engine::batch::Named;
use crate::engine::batch::{self, Found};
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{check_plain, ImageRef, ImageTag, KeyValue};

pub mod build;
pub mod context;
pub mod dockerfile;
mod history;
pub mod registry;

pub use history::{history_plan, HistoryEntry};
pub use registry::{LoginOptions, Password, PullOptions, Pulled, PushOptions, Pushed};

/// Time limit of the commands that move whole images (pull, import, save,
/// load, build) unless the caller sets another: they take far longer than
/// the engine's default per-command timeout.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The images of an engine. A small borrowed handle: `engine.images()`.
///
/// ```no_run
/// let images = dockhand::Engine::detect()?.images().list(&Default::default())?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Images<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// The images: list, inspect, exists, remove, tag, import, save, load,
    /// pull, push, login, logout, build.
    ///
    /// ```no_run
    /// let here = dockhand::Engine::detect()?.images().exists(&"busybox".parse()?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn images(&self) -> Images<'_> {
        Images { engine: self }
    }
}

/// An image, from `image inspect` of docker or podman.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Image {
    /// Full id, always `sha256:<64 hex>` (podman's bare hex gets the prefix).
    pub id: String,
    /// Repository tags as the engine reports them (podman: `localhost/…` for local names).
    pub tags: Vec<String>,
    /// Repository digests (`name@sha256:…`).
    pub digests: Vec<String>,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Size in bytes.
    pub size: u64,
    /// Image labels.
    pub labels: BTreeMap<String, String>,
    /// CPU architecture (`amd64`, `arm64` …).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
    /// The run defaults baked into the image.
    pub config: ImageConfig,
    /// The engine's whole JSON object.
    pub raw: Value,
}

impl Named for Image {
    /// Its id (or an id prefix, with or without `sha256:`), a tag or a
    /// digest, as the engines resolve them: a missing tag is `latest`, and
    /// `docker.io/library/`, `docker.io/` and `localhost/` are the same as none.
    fn is_named_by(&self, reference: &str) -> bool {
        let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
        let by_id = hex.len() >= 4
            && hex.chars().all(|c| c.is_ascii_hexdigit())
            && self.id.trim_start_matches("sha256:").starts_with(hex);
        let wanted = canonical_name(reference);
        by_id
            || self
                .tags
                .iter()
                .chain(&self.digests)
                .any(|t| canonical_name(t) == wanted)
    }
}

/// A reference without the registry prefixes that name the default
/// registry or local images, with `:latest` when it has no tag or digest.
fn canonical_name(reference: &str) -> String {
    let short = ["docker.io/library/", "docker.io/", "localhost/"]
        .iter()
        .find_map(|p| reference.strip_prefix(p))
        .unwrap_or(reference);
    let last = short.rsplit('/').next().unwrap_or(short);
    match last.contains(':') || short.contains('@') {
        true => short.to_string(),
        false => format!("{short}:latest"),
    }
}

/// An image's run defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImageConfig {
    /// Default command (exec form).
    #[serde(
        rename(serialize = "cmd", deserialize = "Cmd"),
        default,
        deserialize_with = "string_or_list"
    )]
    pub cmd: Vec<String>,
    /// Entrypoint (exec form).
    #[serde(
        rename(serialize = "entrypoint", deserialize = "Entrypoint"),
        default,
        deserialize_with = "string_or_list"
    )]
    pub entrypoint: Vec<String>,
    /// Environment, `KEY=value` each.
    #[serde(
        rename(serialize = "env", deserialize = "Env"),
        default,
        deserialize_with = "null_default"
    )]
    pub env: Vec<String>,
    /// Default user (empty: root).
    #[serde(
        rename(serialize = "user", deserialize = "User"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub user: String,
    /// Working directory.
    #[serde(
        rename(serialize = "working_dir", deserialize = "WorkingDir"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub working_dir: String,
}

/// The shapes of both engines in one place: docker keeps labels in
/// `Config.Labels`, podman also (and only, for some images) at the top level.
#[derive(Deserialize)]
struct ImageDoc {
    #[serde(rename = "Id", default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(rename = "RepoTags", default, deserialize_with = "null_default")]
    repo_tags: Vec<String>,
    #[serde(rename = "RepoDigests", default, deserialize_with = "null_default")]
    repo_digests: Vec<String>,
    #[serde(rename = "Created", default, deserialize_with = "lenient_string")]
    created: String,
    #[serde(rename = "Size", default, deserialize_with = "lenient_u64")]
    size: u64,
    #[serde(rename = "Architecture", default, deserialize_with = "lenient_string")]
    architecture: String,
    #[serde(rename = "Os", default, deserialize_with = "lenient_string")]
    os: String,
    #[serde(rename = "Labels", default, deserialize_with = "null_default")]
    labels: BTreeMap<String, String>,
    #[serde(rename = "Config", default, deserialize_with = "null_default")]
    config: ConfigDoc,
}

#[derive(Deserialize, Default)]
struct ConfigDoc {
    #[serde(rename = "Labels", default, deserialize_with = "null_default")]
    labels: BTreeMap<String, String>,
    #[serde(flatten)]
    run: ImageConfig,
}

/// `null`, a string (podman prints `""` for an unset entrypoint) or a list.
fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) if s.is_empty() => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// `sha256:<hex>` for docker's and podman's (bare) ids alike.
///
/// ```
/// assert_eq!(dockhand::image::full_id("abc"), "sha256:abc");
/// assert_eq!(dockhand::image::full_id("sha256:abc"), "sha256:abc");
/// ```
pub fn full_id(id: &str) -> String {
    let id = id.trim();
    if id.contains(':') {
        id.to_string()
    } else {
        format!("sha256:{id}")
    }
}

/// Parse `image inspect` output (a JSON array) of docker or podman.
///
/// ```
/// let images = dockhand::image::parse_images(br#"[{"Id":"abc","RepoTags":null,"Size":5,"Labels":{"a":"b"},"Config":{"Cmd":["/bin/sh"]}}]"#).unwrap();
/// assert_eq!(images[0].id, "sha256:abc");
/// assert_eq!(images[0].labels["a"], "b");
/// assert_eq!(images[0].config.cmd, ["/bin/sh"]);
/// ```
pub fn parse_images(bytes: &[u8]) -> Result<Vec<Image>> {
    let raws: Vec<Value> = parse_json(bytes)?;
    raws.into_iter()
        .map(|raw| {
            let doc: ImageDoc = serde_json::from_value(raw.clone()).map_err(|e| {
                Error::parse(format!("unexpected image inspect output: {e}"), bytes).with_source(e)
            })?;
            let mut labels = doc.labels;
            labels.extend(doc.config.labels);
            Ok(Image {
                id: full_id(&doc.id),
                tags: doc.repo_tags,
                digests: doc.repo_digests,
                created: doc.created,
                size: doc.size,
                labels,
                architecture: doc.architecture,
                os: doc.os,
                config: doc.config.run,
                raw,
            })
        })
        .collect()
}

/// Which images [`Images::list`] lists.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Also intermediate images (`-a`).
    pub all: bool,
    /// Engine filters such as `label=k=v`, `dangling=true`, `reference=app*`.
    pub filters: Vec<KeyValue>,
}

/// The plan listing the full ids of the images `opts` selects (each once, in
/// the engine's order; docker repeats an id once per tag).
///
/// ```
/// use dockhand::{image::{list_ids_plan, ListOptions}, input::KeyValue};
/// let opts = ListOptions { all: true, filters: vec![KeyValue::new("filter", "label=a=b").unwrap()] };
/// assert_eq!(list_ids_plan(&opts).args(), ["images", "-q", "--no-trunc", "-a", "--filter=label=a=b"]);
/// ```
pub fn list_ids_plan(opts: &ListOptions) -> Plan<Vec<String>> {
    let args = Argv::new("images")
        .args(["-q", "--no-trunc"])
        .flag_if("-a", opts.all)
        .each("--filter", &opts.filters);
    Plan::read(args, |out| Ok(unique_lines(&out.stdout_text())))
}

fn unique_lines(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && seen.insert(*l))
        .map(str::to_string)
        .collect()
}

/// One `image inspect` of every reference; missing ones are reported in
/// [`Found::missing`].
///
/// ```
/// use dockhand::{image::inspect_plan, input::ImageRef};
/// let refs = ImageRef::many(["a:1", "b"]).unwrap();
/// assert_eq!(inspect_plan(&refs).args(), ["image", "inspect", "--", "a:1", "b"]);
/// ```
pub fn inspect_plan(refs: &[ImageRef]) -> Plan<Found<Image>> {
    let wanted = refs.iter().map(ImageRef::to_string).collect();
    batch::inspect_plan(
        Argv::new("image").arg("inspect").operands(refs),
        wanted,
        parse_images,
    )
}

/// Whether an image exists (an inspect that answers `false` for not found).
///
/// ```
/// use dockhand::{image::exists_plan, input::ImageRef};
/// let plan = exists_plan(&ImageRef::new("busybox").unwrap());
/// assert_eq!(plan.args(), ["image", "inspect", "--format", "{{.Id}}", "--", "busybox"]);
/// ```
pub fn exists_plan(image: &ImageRef) -> Plan<bool> {
    Plan::new(
        Effect::ReadOnly,
        Argv::new("image")
            .args(["inspect", "--format", "{{.Id}}"])
            .operands([image]),
        |outcome| match outcome.error {
            None => Ok(true),
            Some(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Some(e) => Err(e),
        },
    )
}

/// Remove images; missing ones count as removed. The value is the engine's
/// `Untagged: …` / `Deleted: …` report.
///
/// ```
/// use dockhand::{image::remove_plan, input::ImageRef, EngineKind};
/// let plan = remove_plan(EngineKind::Podman, &ImageRef::many(["a"]).unwrap(), true);
/// assert_eq!(plan.args(), ["rmi", "--force", "--", "a"]);
/// ```
pub fn remove_plan(kind: EngineKind, refs: &[ImageRef], force: bool) -> Plan<Vec<String>> {
    let args = Argv::new("rmi").flag_if("--force", force).operands(refs);
    batch::remove_plan(kind, args)
}

/// Give `source` the additional name `target`.
///
/// ```
/// use dockhand::{image::tag_plan, input::{ImageRef, ImageTag}};
/// let plan = tag_plan(&ImageRef::new("a").unwrap(), &ImageTag::new("b:2").unwrap());
/// assert_eq!(plan.args(), ["tag", "--", "a", "b:2"]);
/// ```
pub fn tag_plan(source: &ImageRef, target: &ImageTag) -> Plan<()> {
    Plan::write(
        Argv::new("tag").operands([source.as_str(), target.as_str()]),
        |_| Ok(()),
    )
}

/// An instruction applied while importing (`import --change`): `CMD […]`,
/// `LABEL k=v`, `ENV K=V`, `USER u`, `WORKDIR /d`, `ENTRYPOINT […]`,
/// `EXPOSE 80`, `STOPSIGNAL SIGTERM`, `VOLUME /v`, `ONBUILD …`.
///
/// ```
/// use dockhand::image::Change;
/// assert!(Change::new(r#"CMD ["/bin/sh"]"#).is_ok());
/// assert!(Change::new("RUN rm -rf /").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Change(String);

impl Change {
    const INSTRUCTIONS: [&'static str; 10] = [
        "CMD",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "LABEL",
        "ONBUILD",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ];

    /// Validate one instruction.
    pub fn new(text: &str) -> Result<Change> {
        check_plain("import change", text)?;
        let word = text.split_whitespace().next().unwrap_or_default();
        if !Change::INSTRUCTIONS.contains(&word.to_ascii_uppercase().as_str()) {
            return Err(Error::invalid_input(format!(
                "import change {text:?} must start with one of {}",
                Change::INSTRUCTIONS.join(", ")
            )));
        }
        Ok(Change(text.to_string()))
    }

    /// The instruction as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What [`Images::import`] makes of a root-filesystem tarball.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The tarball (a root filesystem, as `export` writes it).
    pub tarball: PathBuf,
    /// The name to give the new image.
    pub tag: Option<ImageTag>,
    /// Instructions applied to the image's config.
    pub changes: Vec<Change>,
    /// Time limit (default [`TRANSFER_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

impl ImportOptions {
    /// Import `tarball` as `tag`, with no changes.
    pub fn new(tarball: impl Into<PathBuf>, tag: Option<ImageTag>) -> ImportOptions {
        ImportOptions {
            tarball: tarball.into(),
            tag,
            changes: Vec::new(),
            timeout: Some(TRANSFER_TIMEOUT),
        }
    }
}

/// The label each image [`Images::import`] makes carries: a random value by
/// which a retry finds an image the lost first attempt imported.
pub const IMPORT_TOKEN_LABEL: &str = "dockhand.import-token";

/// Import a root-filesystem tarball as an image; the value is the full id.
///
/// ```
/// use dockhand::image::{import_plan, Change, ImportOptions};
/// use dockhand::input::ImageTag;
/// let mut opts = ImportOptions::new("/tmp/rootfs.tar", Some(ImageTag::new("app:1").unwrap()));
/// opts.changes.push(Change::new("LABEL a=b").unwrap());
/// assert_eq!(import_plan(&opts).args(), ["import", "--change=LABEL a=b", "--", "/tmp/rootfs.tar", "app:1"]);
/// ```
pub fn import_plan(opts: &ImportOptions) -> Plan<String> {
    let tag = opts.tag.iter().map(|t| t.as_ref());
    let args = Argv::new("import")
        .each("--change", opts.changes.iter().map(Change::as_str))
        .operands(std::iter::once(opts.tarball.as_os_str()).chain(tag));
    Plan::write(args, |out| {
        // docker and podman both end stdout with the new id (podman's
        // progress goes to stderr).
        let text = out.stdout_text();
        match text.lines().last() {
            Some(id) => Ok(full_id(id)),
            None if out.dry_run => Ok(String::new()),
            None => Err(Error::parse("import printed no image id", &out.stdout)),
        }
    })
    .timeout(opts.timeout)
}

/// Write images into one archive at `path` (docker-archive format).
///
/// ```
/// use dockhand::{image::save_plan, input::ImageRef, EngineKind};
/// let refs = ImageRef::many(["a", "b"]).unwrap();
/// let plan = save_plan(EngineKind::Podman, &refs, "/tmp/x.tar".as_ref(), None);
/// assert_eq!(plan.args(), ["save", "--output", "/tmp/x.tar", "--multi-image-archive", "--", "a", "b"]);
/// ```
pub fn save_plan(
    kind: EngineKind,
    refs: &[ImageRef],
    path: &Path,
    timeout: Option<Duration>,
) -> Plan<()> {
    let many = (refs.len() > 1).then_some(kind.quirks().save_many);
    let args = Argv::new("save")
        .pair("--output", Some(path))
        .args(many.into_iter().flatten())
        .operands(refs);
    Plan::write(args, |_| Ok(())).timeout(timeout)
}

/// Load an archive written by `save`; the value is what was loaded
/// (references, or ids for untagged images).
///
/// ```
/// let plan = dockhand::image::load_plan("/tmp/x.tar".as_ref(), None);
/// assert_eq!(plan.args(), ["load", "--input", "/tmp/x.tar"]);
/// ```
pub fn load_plan(path: &Path, timeout: Option<Duration>) -> Plan<Vec<String>> {
    let args = Argv::new("load").pair("--input", Some(path));
    Plan::write(args, |out| Ok(parse_loaded(&out.stdout_text()))).timeout(timeout)
}

/// The names in `load` output: `Loaded image: REF`, `Loaded image ID: ID`
/// (docker), `Loaded image(s): A,B` (older podman).
///
/// ```
/// let names = dockhand::image::parse_loaded("Loaded image: a:1\nLoaded image ID: sha256:ab\nLoaded image(s): b:1,c:2\n");
/// assert_eq!(names, ["a:1", "sha256:ab", "b:1", "c:2"]);
/// ```
pub fn parse_loaded(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| {
            ["Loaded image ID: ", "Loaded image(s): ", "Loaded image: "]
                .iter()
                .find_map(|p| l.trim().strip_prefix(p))
        })
        .flat_map(|names| names.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// A private temporary directory `/tmp/PREFIXxxxx` (removed when dropped)
/// for the files a command writes or reads: image ids, digests, fetched
/// contexts, stand-in credentials.
pub(crate) fn private_temp_dir(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| {
            Error::new(
                ErrorKind::EngineFailure,
                format!("cannot create a temporary directory: {e}"),
            )
            .with_source(e)
        })
}

/// Refuse a path that does not exist before handing it to the engine (both
/// would only say "no such file" in words that classify as nothing).
fn existing_file(what: &str, path: &Path) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} {} does not exist",
            path.display()
        )))
    }
}

impl Images<'_> {
    /// The images `opts` selects, fully inspected (two engine calls).
    ///
    /// ```no_run
    /// let images = dockhand::Engine::detect()?.images().list(&Default::default())?;
    /// for i in images { println!("{} {:?}", i.id, i.tags); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn list(&self, opts: &ListOptions) -> Result<Vec<Image>> {
        let ids = self.engine.run(list_ids_plan(opts))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let refs = ImageRef::many(ids)?;
        // An image removed between the two calls is simply not listed.
        Ok(self.engine.run(inspect_plan(&refs))?.items)
    }

    /// Inspect any number of images in one engine call, separating the
    /// found from the missing.
    ///
    /// ```no_run
    /// use dockhand::input::ImageRef;
    /// let engine = dockhand::Engine::detect()?;
    /// let found = engine.images().inspect(&ImageRef::many(["busybox:latest", "gone:1"])?)?;
    /// println!("{} found, missing {:?}", found.items.len(), found.missing);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect(&self, refs: &[ImageRef]) -> Result<Found<Image>> {
        if refs.is_empty() {
            return Ok(Found::empty());
        }
        self.engine.run(inspect_plan(refs))
    }

    /// Inspect one image.
    ///
    /// ```no_run
    /// let busybox = dockhand::Engine::detect()?.images().inspect_one(&"busybox".parse()?)?;
    /// println!("{} {:?}", busybox.id, busybox.tags);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect_one(&self, image: &ImageRef) -> Result<Image> {
        self.inspect(std::slice::from_ref(image))?
            .into_one(|| format!("{image} exists but cannot be inspected"))
    }

    /// Whether the image exists.
    ///
    /// ```no_run
    /// let engine = dockhand::Engine::detect()?;
    /// let here = engine.images().exists(&dockhand::input::ImageRef::new("busybox")?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn exists(&self, image: &ImageRef) -> Result<bool> {
        self.engine.run(exists_plan(image))
    }

    /// Remove images (missing ones count as removed); returns the engine's report.
    ///
    /// ```no_run
    /// let engine = dockhand::Engine::detect()?;
    /// engine.images().remove(&dockhand::input::ImageRef::many(["old:1", "old:2"])?, false)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn remove(&self, refs: &[ImageRef], force: bool) -> Result<Vec<String>> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        self.engine
            .run(remove_plan(self.engine.kind(), refs, force))
    }

    /// Tag `source` as `target`.
    ///
    /// ```no_run
    /// use dockhand::input::{ImageRef, ImageTag};
    /// dockhand::Engine::detect()?.images().tag(&ImageRef::new("app:build")?, &ImageTag::new("app:1")?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn tag(&self, source: &ImageRef, target: &ImageTag) -> Result<()> {
        self.engine.run(tag_plan(source, target))
    }

    /// Import a root-filesystem tarball; returns the new image's full id.
    ///
    /// ```no_run
    /// use dockhand::image::ImportOptions;
    /// let opts = ImportOptions::new("/tmp/rootfs.tar", Some(dockhand::input::ImageTag::new("base:1")?));
    /// let id = dockhand::Engine::detect()?.images().import(&opts)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn import(&self, opts: &ImportOptions) -> Result<String> {
        if opts.tarball.as_os_str() == "-" {
            return Err(Error::invalid_input(
                "`-` (a tarball on stdin) is not supported by import: give the tarball's path \
                 (`./-` for a file named -)",
            ));
        }
        existing_file("tarball", &opts.tarball)?;
        // A re-sent import would make a second image: the token label tells
        // a retry whether the first attempt made it after all.
        let token = crate::engine::plan::random_token()?;
        let mut tagged = opts.clone();
        tagged
            .changes
            .push(Change::new(&format!("LABEL {IMPORT_TOKEN_LABEL}={token}"))?);
        let filter = KeyValue::new("filter", &format!("label={IMPORT_TOKEN_LABEL}={token}"))?;
        let plan = import_plan(&tagged).verify_before_retry(move || {
            let found = ListOptions {
                all: true,
                filters: vec![filter.clone()],
            };
            list_ids_plan(&found).map(|ids| ids.into_iter().next().map(|id| full_id(&id)))
        });
        self.engine.run(plan)
    }

    /// Save images into one archive at `path`, replacing it if it exists.
    ///
    /// The engine writes into a fresh file next to `path` that is then
    /// renamed over it: podman refuses to write over an existing archive,
    /// and a failed save leaves no half-written file behind.
    ///
    /// ```no_run
    /// let engine = dockhand::Engine::detect()?;
    /// engine.images().save(&dockhand::input::ImageRef::many(["app:1"])?, "/tmp/app.tar".as_ref(), None)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn save(&self, refs: &[ImageRef], path: &Path, timeout: Option<Duration>) -> Result<()> {
        if refs.is_empty() {
            return Err(Error::invalid_input("save needs at least one image"));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let staging = tempfile::Builder::new()
            .prefix(".dockhand-save-")
            .tempdir_in(dir)
            .map_err(|e| {
                Error::invalid_input(format!("cannot write into {}: {e}", dir.display()))
                    .with_source(e)
            })?;
        let staged = staging.path().join("archive.tar");
        self.engine
            .run(save_plan(self.engine.kind(), refs, &staged, timeout))?;
        if self.engine.is_dry_run() {
            return Ok(());
        }
        std::fs::rename(&staged, path).map_err(|e| {
            Error::new(
                ErrorKind::EngineFailure,
                format!("cannot move the archive to {}: {e}", path.display()),
            )
            .with_source(e)
        })
    }

    /// Load an archive; returns the loaded references (or ids).
    ///
    /// ```no_run
    /// let loaded = dockhand::Engine::detect()?.images().load("/tmp/app.tar".as_ref(), None)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn load(&self, path: &Path, timeout: Option<Duration>) -> Result<Vec<String>> {
        existing_file("archive", path)?;
        self.engine.run(load_plan(path, timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay, replay_ok};

    const ENGINES: [(EngineKind, &str); 2] = [
        (EngineKind::Docker, "docker"),
        (EngineKind::Podman, "podman"),
    ];

    #[test]
    fn every_captured_inspect_parses_onto_one_shape() {
        for (_, dir) in ENGINES {
            for slug in [
                "image-inspect-base",
                "image-inspect-built",
                "image-inspect-imported",
            ] {
                let images = parse_images(&capture(&format!("{dir}/{slug}.json")))
                    .unwrap_or_else(|e| panic!("{dir}/{slug}: {e}"));
                let i = &images[0];
                assert!(
                    i.id.starts_with("sha256:") && i.id.len() == 71,
                    "{dir}/{slug}: {}",
                    i.id
                );
                assert!(i.size > 0 && !i.created.is_empty(), "{dir}/{slug}");
                assert_eq!((i.os.as_str(), i.architecture.as_str()), ("linux", "amd64"));
                assert_eq!(i.raw["Id"].as_str().map(full_id), Some(i.id.clone()));
            }
        }
        let built = parse_images(&capture("docker/image-inspect-built-buildkit.json")).unwrap();
        assert!(!built[0].tags.is_empty());
    }

    #[test]
    fn labels_and_config_come_from_either_place() {
        for (_, dir) in ENGINES {
            let i = &parse_images(&capture(&format!("{dir}/image-inspect-built.json"))).unwrap()[0];
            assert_eq!(i.labels["vd.built"], "yes", "{dir}");
            assert_eq!(i.config.cmd, ["sleep", "3600"], "{dir}");
            assert_eq!(i.config.working_dir, "/srv", "{dir}");
            assert!(i.config.env.iter().any(|e| e == "VD_ENV=1"), "{dir}");
            assert!(i.config.entrypoint.is_empty(), "{dir}");
        }
        let podman = &parse_images(&capture("podman/image-inspect-imported.json")).unwrap()[0];
        assert_eq!(
            podman.tags,
            ["localhost/dhcap/imported:1", "localhost/dhcap/imported:2"]
        );
        assert_eq!(podman.labels["dockhand.test"], "capture");
        assert!(!podman.digests.is_empty());
    }

    #[test]
    fn list_ids_come_back_once_each() {
        for (kind, dir) in ENGINES {
            let ids = replay_ok(
                kind,
                list_ids_plan(&ListOptions::default()),
                &capture(&format!("{dir}/images-quiet-no-trunc.txt")),
            )
            .unwrap();
            assert_eq!(ids.len(), 1, "{dir}: {ids:?}");
            assert!(ids[0].starts_with("sha256:"));
        }
    }

    #[test]
    fn inspect_of_found_and_missing_keeps_the_found() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let plan =
                inspect_plan(&ImageRef::many(["dhcap/imported:1", "dhcap/missing:1"]).unwrap());
            let found = replay(
                kind,
                plan,
                code,
                &capture(&format!("{dir}/image-inspect-found-and-missing.stdout.txt")),
                &capture(&format!("{dir}/image-inspect-found-and-missing.stderr.txt")),
            )
            .unwrap();
            assert_eq!(found.items.len(), 1, "{dir}");
            assert_eq!(found.missing, ["dhcap/missing:1"], "{dir}");
            let missing = found.error.unwrap();
            assert_eq!(missing.kind(), ErrorKind::NotFound, "{dir}");
            assert!(missing.message().contains("dhcap/missing:1"), "{missing}");
        }
    }

    #[test]
    fn exists_is_false_for_not_found_and_an_error_otherwise() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let r = ImageRef::new("dhcap/missing:1").unwrap();
            let err = capture(&format!("{dir}/err-image-exists-missing.stderr.txt"));
            assert!(
                !replay(kind, exists_plan(&r), code, b"", &err).unwrap(),
                "{dir}"
            );
            assert!(replay_ok(
                kind,
                exists_plan(&r),
                &capture(&format!("{dir}/image-inspect-format-id.txt"))
            )
            .unwrap());
        }
        let down =
            b"Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?";
        let r = ImageRef::new("a").unwrap();
        assert_eq!(
            replay(EngineKind::Docker, exists_plan(&r), 1, b"", down)
                .unwrap_err()
                .kind(),
            ErrorKind::Unreachable
        );
    }

    #[test]
    fn import_returns_the_full_id_on_both_engines() {
        for (kind, dir) in ENGINES {
            let opts = ImportOptions::new("/x.tar", None);
            let id = replay_ok(
                kind,
                import_plan(&opts),
                &capture(&format!("{dir}/import-output.stdout.txt")),
            )
            .unwrap();
            assert!(id.starts_with("sha256:") && id.len() == 71, "{dir}: {id}");
        }
    }

    #[test]
    fn load_reports_tags_and_untagged_ids() {
        for (kind, dir) in ENGINES {
            let loaded = replay_ok(
                kind,
                load_plan("/x".as_ref(), None),
                &capture(&format!("{dir}/load-output.stdout.txt")),
            )
            .unwrap();
            assert_eq!(loaded.len(), 2, "{dir}: {loaded:?}");
            assert!(
                loaded.iter().all(|n| n.contains("dhcap/imported:")),
                "{dir}: {loaded:?}"
            );
            let untagged = replay_ok(
                kind,
                load_plan("/x".as_ref(), None),
                &capture(&format!("{dir}/load-output-untagged.stdout.txt")),
            )
            .unwrap();
            assert!(untagged[0].starts_with("sha256:"), "{dir}: {untagged:?}");
        }
    }

    #[test]
    fn removing_an_image_by_id_that_has_several_tags_is_a_conflict() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let refs = ImageRef::many([
                "sha256:c231d3988877aa83b4ba674bfc23555470edde457202d4bae68954907438cb67",
            ])
            .unwrap();
            let stderr = capture(&format!("{dir}/err-rmi-id-multiple-tags.stderr.txt"));
            let e = replay(kind, remove_plan(kind, &refs, false), code, b"", &stderr).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conflict, "{dir}: {e}");
            let e = replay(
                kind,
                remove_plan(kind, &refs, false),
                2,
                b"",
                &capture(&format!("{dir}/err-rmi-in-use.stderr.txt")),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conflict, "{dir}: {e}");
        }
    }

    #[test]
    fn missing_images_in_save_and_tag_are_not_found() {
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let refs = ImageRef::many(["dhcap/missing:1"]).unwrap();
            let e = replay(
                kind,
                save_plan(kind, &refs, "/x".as_ref(), None),
                code,
                b"",
                &capture(&format!("{dir}/err-save-missing.stderr.txt")),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{dir}: {e}");
            let plan = tag_plan(&refs[0], &ImageTag::new("x:1").unwrap());
            let e = replay(
                kind,
                plan,
                code,
                b"",
                &capture(&format!("{dir}/err-tag-missing-source.stderr.txt")),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{dir}: {e}");
        }
    }

    #[test]
    fn changes_are_limited_to_config_instructions() {
        for ok in ["CMD [\"/bin/sh\"]", "label a=b", "ENV A=1", "WORKDIR /srv"] {
            assert!(Change::new(ok).is_ok(), "{ok}");
        }
        for bad in ["RUN id", "", "-c", "CMD a\nRUN b", "FROM x"] {
            assert!(Change::new(bad).is_err(), "{bad:?}");
        }
    }
}

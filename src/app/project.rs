//! The normalised project: files found, read, interpolated and merged;
//! project name, profiles, env-files, paths and references resolved and
//! checked. What `app config` prints and everything else works from.
//!
//! Defaults as compose (vendor-docs/compose.md, "Project name, default
//! files, profiles"):
//! * files: `-f` in order; else `COMPOSE_FILE` (split on
//!   `COMPOSE_PATH_SEPARATOR`, default `:`); else the first of
//!   `compose.yaml`, `compose.yml`, `docker-compose.yaml`,
//!   `docker-compose.yml` in the current directory or the nearest parent
//!   that has one, plus its override file (`compose.override.yaml` …);
//! * the project directory is the first file's; `.env` there feeds
//!   interpolation (the process environment wins);
//! * project name: `-p` > `COMPOSE_PROJECT_NAME` > top-level `name:` >
//!   the directory's base name (lower-cased, other characters than
//!   `a-z0-9_-` dropped); an explicit name that is not valid is an error;
//! * profiles: `--profile` and `COMPOSE_PROFILES`; a service named on the
//!   command line activates its own profiles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value as Json};

use super::file::{
    self, AppNetwork, AppVolume, ComposeFile, DependencyCondition, Loc, Service, ServiceMountType,
};
use super::interpolate::{parse_dotenv, Vars};
use super::merge::merge;
use super::yaml;
use crate::error::{Error, ErrorKind, Result};
use crate::image::context::ContextSource;

/// The default file names, in order of preference, and their override files.
const DEFAULT_FILES: &[(&str, &[&str])] = &[
    (
        "compose.yaml",
        &["compose.override.yaml", "compose.override.yml"],
    ),
    (
        "compose.yml",
        &["compose.override.yml", "compose.override.yaml"],
    ),
    (
        "docker-compose.yaml",
        &[
            "docker-compose.override.yaml",
            "docker-compose.override.yml",
        ],
    ),
    (
        "docker-compose.yml",
        &[
            "docker-compose.override.yml",
            "docker-compose.override.yaml",
        ],
    ),
];

/// How to find and read a project.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f` files in order (`-` is stdin); empty: `COMPOSE_FILE` or the defaults.
    pub files: Vec<PathBuf>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--profile`.
    pub profiles: Vec<String>,
    /// Services named on the command line (their profiles become active).
    pub services: Vec<String>,
    /// The process environment (`COMPOSE_*` and interpolation).
    pub environment: BTreeMap<String, String>,
    /// Where relative `-f` paths and the default search start.
    pub cwd: PathBuf,
}

impl LoadOptions {
    /// Options from this process: its environment and current directory.
    ///
    /// ```
    /// let opts = dockhand::app::project::LoadOptions::from_process();
    /// assert!(opts.cwd.is_absolute());
    /// ```
    pub fn from_process() -> LoadOptions {
        LoadOptions {
            environment: std::env::vars().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            ..LoadOptions::default()
        }
    }
}

/// A project ready to run: active services only, everything resolved.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project name (`com.docker.compose.project`).
    pub name: String,
    /// The project directory (absolute).
    pub working_dir: PathBuf,
    /// The files as given, for `com.docker.compose.project.config_files`
    /// (empty when read from stdin).
    pub config_files: Vec<String>,
    /// The active services.
    pub services: BTreeMap<String, Service>,
    /// Services of the files that no active profile selects.
    pub inactive: BTreeSet<String>,
    /// The networks the active services use, by key; each has its engine name.
    pub networks: BTreeMap<String, AppNetwork>,
    /// The named volumes the active services use, by key, with engine names.
    pub volumes: BTreeMap<String, AppVolume>,
    /// Things worth telling (an unset variable without default …).
    pub warnings: Vec<String>,
}

/// Read, interpolate and merge the files and resolve the project.
///
/// ```no_run
/// use dockhand::app::project::{load, LoadOptions};
/// let project = load(&LoadOptions::from_process())?;
/// println!("{}: {:?}", project.name, project.services.keys().collect::<Vec<_>>());
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn load(opts: &LoadOptions) -> Result<Project> {
    let env = &opts.environment;
    let files = find_files(opts)?;
    let working_dir = match files.first() {
        Some(Source::Path { path, .. }) => path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| opts.cwd.clone()),
        _ => opts.cwd.clone(),
    };
    let mut warnings = Vec::new();
    let dotenv_path = working_dir.join(".env");
    let dotenv = match std::fs::read_to_string(&dotenv_path) {
        Ok(text) => parse_dotenv(&text, &|n| env.get(n).cloned()).map_err(|(line, why)| {
            Error::invalid_input(format!("{}:{line}: {why}", dotenv_path.display()))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(io_error(&dotenv_path, e)),
    };
    let vars = Vars {
        environment: env.clone(),
        dotenv,
    };
    let mut merged = ComposeFile::default();
    let mut config_files = Vec::new();
    for source in &files {
        let (text, label) = source.read()?;
        if let Source::Path { given, .. } = source {
            config_files.push(given.clone());
        }
        let label: Arc<str> = Arc::from(label.as_str());
        let mut tree = yaml::parse(&text, &label)?;
        let mut unset = BTreeSet::new();
        file::interpolate_tree(
            &mut tree,
            &label,
            &|n| vars.get(n).map(str::to_string),
            &mut |n| {
                unset.insert(n.to_string());
            },
        )?;
        warnings.extend(
            unset
                .into_iter()
                .map(|n| format!("{label}: the variable {n} is not set; it is taken as empty")),
        );
        merge(&mut merged, file::read(&tree, &label)?);
    }
    let name = project_name(opts, &vars, merged.name.as_deref(), &working_dir)?;
    resolve(
        merged,
        name,
        working_dir,
        config_files,
        &vars,
        opts,
        warnings,
    )
}

/// A compose file to read.
enum Source {
    Path { path: PathBuf, given: String },
    Stdin,
}

impl Source {
    fn read(&self) -> Result<(String, String)> {
        match self {
            Source::Path { path, given } => std::fs::read_to_string(path)
                .map(|t| (t, given.clone()))
                .map_err(|e| io_error(path, e)),
            Source::Stdin => {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                    Error::invalid_input(format!("cannot read the compose file from stdin: {e}"))
                })?;
                Ok((text, "-".into()))
            }
        }
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::InvalidInput,
        std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
        _ => ErrorKind::InvalidInput,
    };
    Error::new(kind, format!("cannot read {}: {e}", path.display())).with_source(e)
}

fn find_files(opts: &LoadOptions) -> Result<Vec<Source>> {
    let given: Vec<PathBuf> = match (&opts.files[..], opts.environment.get("COMPOSE_FILE")) {
        ([], Some(list)) if !list.is_empty() => {
            let sep = opts
                .environment
                .get("COMPOSE_PATH_SEPARATOR")
                .map_or(":", String::as_str);
            list.split(sep)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect()
        }
        (files, _) => files.to_vec(),
    };
    if !given.is_empty() {
        return Ok(given
            .into_iter()
            .map(|p| match p.as_os_str() == "-" {
                true => Source::Stdin,
                false => Source::Path {
                    path: opts.cwd.join(&p),
                    given: p.display().to_string(),
                },
            })
            .collect());
    }
    for dir in opts.cwd.ancestors() {
        for (base, overrides) in DEFAULT_FILES {
            let path = dir.join(base);
            if path.is_file() {
                let mut out = vec![Source::Path {
                    path,
                    given: base.to_string(),
                }];
                if let Some(o) = overrides.iter().map(|o| dir.join(o)).find(|o| o.is_file()) {
                    let given = o
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    out.push(Source::Path { path: o, given });
                }
                return Ok(out);
            }
        }
    }
    Err(Error::invalid_input(format!(
        "no compose file in {} or above: give -f FILE, or write compose.yaml",
        opts.cwd.display()
    )))
}

/// Whether `name` is a valid project name (compose spec).
fn valid_project_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A directory name as a project name: lower case, only `a-z0-9_-`,
/// starting with a letter or digit.
///
/// ```
/// assert_eq!(dockhand::app::project::normalise_project_name("My App.v2"), "myappv2");
/// assert_eq!(dockhand::app::project::normalise_project_name("_x-1"), "x-1");
/// ```
pub fn normalise_project_name(name: &str) -> String {
    let kept: String = name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    kept.trim_start_matches(['-', '_']).to_string()
}

fn project_name(
    opts: &LoadOptions,
    vars: &Vars,
    from_file: Option<&str>,
    dir: &Path,
) -> Result<String> {
    let explicit = opts
        .project_name
        .as_deref()
        .map(|n| (n, "-p"))
        .or_else(|| {
            vars.get("COMPOSE_PROJECT_NAME")
                .filter(|n| !n.is_empty())
                .map(|n| (n, "COMPOSE_PROJECT_NAME"))
        })
        .or_else(|| from_file.map(|n| (n, "the top-level name:")));
    match explicit {
        Some((name, _)) if valid_project_name(name) => Ok(name.to_string()),
        Some((name, from)) => Err(Error::invalid_input(format!(
            "invalid project name {name:?} (from {from}): use lower-case letters, digits, '-' and '_', starting with a letter or digit"
        ))),
        None => {
            let base = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let name = normalise_project_name(&base);
            match name.is_empty() {
                true => Err(Error::invalid_input(format!(
                    "cannot make a project name of the directory {}: give -p NAME",
                    dir.display()
                ))),
                false => Ok(name),
            }
        }
    }
}

/// From the merged files to the project.
fn resolve(
    mut merged: ComposeFile,
    name: String,
    working_dir: PathBuf,
    config_files: Vec<String>,
    vars: &Vars,
    opts: &LoadOptions,
    warnings: Vec<String>,
) -> Result<Project> {
    for s in &opts.services {
        if !merged.services.contains_key(s) {
            return Err(Error::invalid_input(format!("no such service: {s}")));
        }
    }
    let mut profiles: BTreeSet<String> = opts.profiles.iter().cloned().collect();
    if let Some(list) = vars.get("COMPOSE_PROFILES") {
        profiles.extend(
            list.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(String::from),
        );
    }
    for s in &opts.services {
        profiles.extend(merged.services[s].profiles.iter().cloned());
    }
    let (active, inactive): (BTreeMap<String, Service>, BTreeMap<String, Service>) =
        std::mem::take(&mut merged.services)
            .into_iter()
            .partition(|(_, s)| {
                s.profiles.is_empty() || s.profiles.iter().any(|p| profiles.contains(p))
            });
    let mut project = Project {
        name,
        working_dir,
        config_files,
        services: BTreeMap::new(),
        inactive: inactive.keys().cloned().collect(),
        networks: BTreeMap::new(),
        volumes: BTreeMap::new(),
        warnings,
    };
    for (key, mut net) in std::mem::take(&mut merged.networks) {
        net.name = Some(match (&net.name, net.external) {
            (Some(n), _) => n.clone(),
            (None, true) => key.clone(),
            (None, false) => format!("{}_{key}", project.name),
        });
        merged.networks.insert(key, net);
    }
    for (key, mut vol) in std::mem::take(&mut merged.volumes) {
        vol.name = Some(match (&vol.name, vol.external) {
            (Some(n), _) => n.clone(),
            (None, true) => key.clone(),
            (None, false) => format!("{}_{key}", project.name),
        });
        merged.volumes.insert(key, vol);
    }
    for (sname, mut service) in active {
        let svc = Some(sname.as_str());
        let at = |key: &str| {
            service
                .at
                .get(key)
                .cloned()
                .unwrap_or_else(|| service.defined_at.clone())
        };
        if service.image.is_none() && service.build.is_none() {
            return Err(service.defined_at.error(svc, "", "needs image or build"));
        }
        // env_file first, `environment` wins; `KEY` alone comes from our environment.
        let mut env: BTreeMap<String, Option<String>> = BTreeMap::new();
        for f in &service.env_file {
            let path = project.working_dir.join(&f.path);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let values = parse_dotenv(&text, &|n| vars.get(n).map(str::to_string))
                        .map_err(|(line, why)| {
                            Error::invalid_input(format!(
                                "{}:{line}: {why} (env_file of service {sname:?})",
                                path.display()
                            ))
                        })?;
                    env.extend(values.into_iter().map(|(k, v)| (k, Some(v))));
                }
                Err(_) if !f.required => {}
                Err(e) => {
                    return Err(at("env_file").error(
                        svc,
                        "env_file",
                        format!("cannot read {}: {e}", path.display()),
                    ))
                }
            }
        }
        env.extend(std::mem::take(&mut service.environment));
        service.environment = env
            .into_iter()
            .filter_map(|(k, v)| match v {
                Some(v) => Some((k, Some(v))),
                None => vars.get(&k).map(|v| (k, Some(v.to_string()))),
            })
            .collect();
        service.env_file.clear();
        if let Some(b) = service.build.as_mut() {
            // A git repository or a tarball URL is fetched by the build as it
            // is written; only a directory is relative to the project.
            match ContextSource::parse(&b.context) {
                Ok(ContextSource::Dir { .. }) => {
                    b.context = absolute(&project.working_dir, &b.context, &opts.environment);
                }
                Ok(_) => {}
                Err(e) => return Err(at("build").error(svc, "build.context", e.message())),
            }
            for (k, v) in b.args.iter_mut() {
                if v.is_none() {
                    *v = vars.get(k).map(str::to_string);
                }
            }
        }
        for m in &mut service.volumes {
            match m.kind {
                ServiceMountType::Bind => {
                    if let Some(s) = m.source.as_mut() {
                        *s = absolute(&project.working_dir, s, &opts.environment);
                    }
                }
                ServiceMountType::Volume => {
                    if let Some(key) = &m.source {
                        let vol = merged.volumes.get(key).ok_or_else(|| {
                            m.at.error(svc, "volumes", format!("volume {key:?} is used but not declared under the top-level volumes"))
                        })?;
                        project.volumes.insert(key.clone(), vol.clone());
                    }
                }
                ServiceMountType::Tmpfs => {}
            }
        }
        match &service.network_mode {
            Some(mode) => {
                if !service.networks.is_empty() {
                    return Err(at("network_mode").error(
                        svc,
                        "network_mode",
                        "cannot be combined with networks",
                    ));
                }
                if let Some(other) = mode.strip_prefix("service:") {
                    service
                        .depends_on
                        .entry(other.to_string())
                        .or_insert(file::Dependency {
                            condition: DependencyCondition::ServiceStarted,
                            restart: false,
                            required: true,
                            at: at("network_mode"),
                        });
                }
            }
            None if service.networks.is_empty() => {
                service.networks.insert(
                    "default".into(),
                    file::ServiceNetwork {
                        at: service.defined_at.clone(),
                        ..Default::default()
                    },
                );
            }
            None => {}
        }
        for (key, net) in &service.networks {
            let declared = match merged.networks.get(key) {
                Some(n) => n.clone(),
                None if key == "default" => AppNetwork {
                    name: Some(format!("{}_default", project.name)),
                    ..AppNetwork::default()
                },
                None => {
                    return Err(net.at.error(
                        svc,
                        "networks",
                        format!(
                            "network {key:?} is used but not declared under the top-level networks"
                        ),
                    ))
                }
            };
            project.networks.insert(key.clone(), declared);
        }
        project.services.insert(sname, service);
    }
    check_dependencies(&mut project)?;
    Ok(project)
}

/// A path from the file, absolute: relative to the project directory, `~` as HOME.
fn absolute(dir: &Path, path: &str, env: &BTreeMap<String, String>) -> String {
    let expanded = match (path.strip_prefix('~'), env.get("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_string(),
    };
    let joined = dir.join(expanded);
    // Lexically clean `.` and `..` (the path need not exist yet).
    let mut clean = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean.display().to_string()
}

/// Every dependency exists and is active (or is optional and dropped), and
/// there is no cycle.
fn check_dependencies(project: &mut Project) -> Result<()> {
    let names: BTreeSet<String> = project.services.keys().cloned().collect();
    for (sname, service) in project.services.iter_mut() {
        let mut missing = Vec::new();
        for (dep, d) in &service.depends_on {
            if names.contains(dep) {
                continue;
            }
            if !d.required {
                missing.push(dep.clone());
                continue;
            }
            let why = match project.inactive.contains(dep) {
                true => format!("depends on {dep:?}, which no active profile selects (give --profile, or name it)"),
                false => format!("depends on {dep:?}, which is not a service of the project"),
            };
            return Err(d.at.error(Some(sname), "depends_on", why));
        }
        for m in missing {
            service.depends_on.remove(&m);
        }
    }
    // Depth-first in the order the services were written, so the cycle is
    // reported from the first service of it in the file.
    let mut order: Vec<&String> = project.services.keys().collect();
    super::sort_by_text(&mut order, |s| {
        let at = &project.services[*s].defined_at;
        format!("{}\0{:08}", at.file, at.line)
    });
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in order {
        let mut path: Vec<&str> = Vec::new();
        visit(project, start, &mut path, &mut done)?;
    }
    Ok(())
}

fn visit<'p>(
    project: &'p Project,
    name: &'p str,
    path: &mut Vec<&'p str>,
    done: &mut BTreeSet<&'p str>,
) -> Result<()> {
    if done.contains(name) {
        return Ok(());
    }
    if let Some(i) = path.iter().position(|p| *p == name) {
        let cycle: Vec<&str> = path[i..].iter().copied().chain([name]).collect();
        let first = &project.services[path[i]];
        let at = first.depends_on[cycle[1]].at.clone();
        return Err(at.error(
            Some(path[i]),
            "depends_on",
            format!("dependency cycle {}", cycle.join(" -> ")),
        ));
    }
    path.push(name);
    for dep in project.services[name].depends_on.keys() {
        visit(project, dep, path, done)?;
    }
    path.pop();
    done.insert(name);
    Ok(())
}

impl Project {
    /// The container name of a service: `PROJECT-SERVICE-1` (compose v2).
    ///
    /// ```
    /// # let p = dockhand::app::project::Project::empty("shop");
    /// assert_eq!(p.container_name("web"), "shop-web-1");
    /// ```
    pub fn container_name(&self, service: &str) -> String {
        format!("{}-{service}-1", self.name)
    }

    /// A project with no services (for tests and examples).
    pub fn empty(name: &str) -> Project {
        Project {
            name: name.into(),
            working_dir: PathBuf::from("/"),
            config_files: Vec::new(),
            services: BTreeMap::new(),
            inactive: BTreeSet::new(),
            networks: BTreeMap::new(),
            volumes: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// The engine name of the network with this key.
    pub fn network_name(&self, key: &str) -> String {
        self.networks
            .get(key)
            .and_then(|n| n.name.clone())
            .unwrap_or_else(|| format!("{}_{key}", self.name))
    }

    /// The engine name of the volume with this key.
    pub fn volume_name(&self, key: &str) -> String {
        self.volumes
            .get(key)
            .and_then(|v| v.name.clone())
            .unwrap_or_else(|| format!("{}_{key}", self.name))
    }

    /// The services in start order: each after everything it depends on,
    /// grouped in levels that could start together.
    ///
    /// ```
    /// # let p = dockhand::app::project::Project::empty("shop");
    /// assert!(p.start_levels().is_empty());
    /// ```
    pub fn start_levels(&self) -> Vec<Vec<String>> {
        let mut placed: BTreeSet<&str> = BTreeSet::new();
        let mut levels = Vec::new();
        while placed.len() < self.services.len() {
            let level: Vec<String> = self
                .services
                .iter()
                .filter(|(n, s)| {
                    !placed.contains(n.as_str())
                        && s.depends_on.keys().all(|d| placed.contains(d.as_str()))
                })
                .map(|(n, _)| n.clone())
                .collect();
            if level.is_empty() {
                break; // a cycle; load refused it already
            }
            for n in &level {
                placed.insert(
                    self.services
                        .get_key_value(n)
                        .map(|(k, _)| k.as_str())
                        .unwrap_or_default(),
                );
            }
            levels.push(level);
        }
        levels
    }

    /// The services `wanted` names and everything they depend on (all when
    /// `wanted` is empty), in start order.
    pub fn with_dependencies(&self, wanted: &[String]) -> Vec<String> {
        let mut keep: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = wanted.to_vec();
        while let Some(s) = todo.pop() {
            if keep.insert(s.clone()) {
                if let Some(service) = self.services.get(&s) {
                    todo.extend(service.depends_on.keys().cloned());
                }
            }
        }
        self.start_levels()
            .into_iter()
            .flatten()
            .filter(|s| wanted.is_empty() || keep.contains(s))
            .collect()
    }

    /// What `app config` prints: the normalised project.
    pub fn config_document(&self) -> Json {
        let named = |name: &Option<String>| json!(name);
        let networks: BTreeMap<&String, Json> = self
            .networks
            .iter()
            .map(|(k, n)| {
                let mut v = serde_json::to_value(n).unwrap_or_default();
                v["name"] = named(&n.name);
                (k, v)
            })
            .collect();
        let volumes: BTreeMap<&String, Json> = self
            .volumes
            .iter()
            .map(|(k, v)| (k, serde_json::to_value(v).unwrap_or_default()))
            .collect();
        json!({
            "name": self.name,
            "services": self.services,
            "networks": networks,
            "volumes": volumes,
        })
    }
}

/// Where a problem in the project is: for errors raised after loading.
pub fn located(at: &Loc, service: &str, key: &str, message: impl std::fmt::Display) -> Error {
    at.error(Some(service), key, message)
}

/// A compact summary of a project for `--json` listings.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Project name.
    pub name: String,
    /// Active services in start order.
    pub services: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(dir: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/apps")
            .join(dir)
    }

    fn opts(dir: &str, files: &[&str]) -> LoadOptions {
        LoadOptions {
            files: files.iter().map(PathBuf::from).collect(),
            cwd: fixture(dir),
            environment: [("HOME".to_string(), "/root".to_string())].into(),
            ..LoadOptions::default()
        }
    }

    #[test]
    fn the_bad_fixtures_fail_as_expected_tsv_says() {
        let tsv = std::fs::read_to_string(fixture("bad").join("expected.tsv")).unwrap();
        for row in tsv.lines().skip(1) {
            let cols: Vec<&str> = row.split('\t').collect();
            let (file, line, service, key) = (cols[0], cols[1], cols[2], cols[3]);
            let e = load(&opts("bad", &[file])).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{file}");
            let m = e.message();
            assert!(m.starts_with(&format!("{file}:{line}: ")), "{file}: {m}");
            if !service.is_empty() {
                assert!(m.contains(&format!("service {service:?}")), "{file}: {m}");
            }
            assert!(m.contains(&format!("{key:?}")), "{file}: {m}");
        }
        let e = load(&opts("bad", &["missing-required-variable.yaml"])).unwrap_err();
        assert!(e.message().contains("API token must be set"), "{e}");
        let e = load(&opts("bad", &["depends-on-cycle.yaml"])).unwrap_err();
        assert!(e.message().contains("web -> api -> worker -> web"), "{e}");
    }

    #[test]
    fn webstack_resolves_names_env_files_and_paths() {
        let p = load(&opts("webstack", &[])).unwrap();
        assert_eq!(p.name, "webstack");
        assert_eq!(p.config_files, ["compose.yaml"]);
        let web = &p.services["web"];
        assert_eq!(
            web.environment["API_TOKEN"].as_deref(),
            Some("tok-3f9a2c71e0d4")
        );
        assert_eq!(
            web.environment["CACHE_HOST"].as_deref(),
            Some("redis"),
            "from web.env"
        );
        assert_eq!(
            web.environment["PAGE_TITLE"].as_deref(),
            Some("webstack on router-01")
        );
        assert!(web.volumes[0]
            .source
            .as_deref()
            .unwrap()
            .ends_with("tests/fixtures/apps/webstack/site"));
        assert_eq!(p.network_name("back"), "webstack_back");
        assert_eq!(p.volume_name("db-data"), "webstack_db-data");
        assert_eq!(p.services["db"].mem_limit, Some(128 << 20), "deploy limits");
        assert_eq!(
            p.start_levels(),
            [vec!["cache", "db"], vec!["migrate"], vec!["web"]]
        );
        assert_eq!(p.with_dependencies(&["migrate".into()]), ["db", "migrate"]);
    }

    #[test]
    fn anchors_and_interpolation() {
        let p = load(&opts("anchors", &[])).unwrap();
        let api = &p.services["api"];
        assert_eq!(api.environment["ROLE"].as_deref(), Some("api"));
        assert_eq!(api.environment["EMPTY_KEPT"].as_deref(), Some(""));
        assert_eq!(
            api.environment["EMPTY_REPLACED"].as_deref(),
            Some("fallback")
        );
        assert_eq!(api.environment["PRICE"].as_deref(), Some("$5 per box"));
        assert_eq!(api.environment["REGION"].as_deref(), Some("eu-west"));
        assert_eq!(
            p.services["scheduler"].restart.as_deref(),
            Some("unless-stopped")
        );
        assert_eq!(
            p.services["scheduler"].stop_grace_period.unwrap().as_secs(),
            2
        );
        assert_eq!(
            p.networks["default"].subnet.as_deref(),
            Some("172.29.117.0/24")
        );
        assert_eq!(p.volumes["spool"].labels["com.example.backup"], "daily");
    }

    #[test]
    fn override_files_and_profiles() {
        let p = load(&opts("override", &[])).unwrap();
        assert_eq!(p.config_files, ["compose.yaml", "compose.override.yaml"]);
        assert!(p.inactive.contains("debug"));
        assert_eq!(
            p.services["app"].environment["MODE"].as_deref(),
            Some("dev")
        );
        let mut o = opts("override", &["compose.yaml", "compose.prod.yaml"]);
        o.profiles = vec!["debug".into()];
        let p = load(&o).unwrap();
        assert!(
            !p.services.contains_key("debug") && !p.inactive.contains("debug"),
            "only in the override file"
        );
        assert_eq!(p.services["app"].restart.as_deref(), Some("always"));
        assert_eq!(p.volume_name("archive"), "dhc-override-archive");
        let mut named = opts("override", &[]);
        named.services = vec!["debug".into()];
        assert!(load(&named).unwrap().services.contains_key("debug"));
    }

    #[test]
    fn compose_file_and_the_nearest_parent_with_a_compose_file() {
        // COMPOSE_FILE, split on ':', relative to the current directory.
        let mut o = opts("override", &[]);
        o.environment.insert(
            "COMPOSE_FILE".into(),
            "compose.yaml:compose.prod.yaml".into(),
        );
        let p = load(&o).unwrap();
        assert_eq!(p.config_files, ["compose.yaml", "compose.prod.yaml"]);
        assert_eq!(p.services["app"].restart.as_deref(), Some("always"));
        // -f wins over COMPOSE_FILE (and names no override file).
        o.files = vec!["compose.yaml".into()];
        assert_eq!(load(&o).unwrap().config_files, ["compose.yaml"]);
        // From a subdirectory: the parent's file, its name, its .env.
        let mut o = opts("webstack", &[]);
        o.cwd = fixture("webstack").join("site");
        let p = load(&o).unwrap();
        assert_eq!(p.name, "webstack");
        assert_eq!(
            p.services["web"].environment["API_TOKEN"].as_deref(),
            Some("tok-3f9a2c71e0d4"),
            "from the parent's .env"
        );
        // The environment wins over .env.
        let mut o = opts("webstack", &[]);
        o.environment
            .insert("API_TOKEN".into(), "tok-from-env".into());
        let p = load(&o).unwrap();
        assert_eq!(
            p.services["web"].environment["API_TOKEN"].as_deref(),
            Some("tok-from-env")
        );
    }

    #[test]
    fn project_names() {
        let mut o = opts("webstack", &[]);
        o.project_name = Some("Bad Name".into());
        assert!(load(&o)
            .unwrap_err()
            .message()
            .contains("invalid project name"));
        o.project_name = None;
        o.environment
            .insert("COMPOSE_PROJECT_NAME".into(), "dh-app-x".into());
        assert_eq!(load(&o).unwrap().name, "dh-app-x");
    }
}

//! Engine versions, `info`, the `check` diagnosis, and disk use (`system df`).

pub mod daemon_config;
mod df;

pub use df::{df_plan, DiskUsage, DiskUsageKind};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::json::{lenient_string, lenient_u64, null_default, parse_json};
use crate::engine::classify::{kind_of, Tool};
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, ErrorKind, Result};

/// The engine itself: versions, `info`, the `check` diagnosis and events. A small borrowed handle: `engine.system()`.
///
/// ```no_run
/// let info = dockhand::Engine::detect()?.system().info()?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct System<'e> {
    pub(crate) engine: &'e Engine,
}

impl Engine {
    /// The engine itself: version, info, check, events.
    ///
    /// ```no_run
    /// let report = dockhand::Engine::detect()?.system().check();
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn system(&self) -> System<'_> {
        System { engine: self }
    }
}

/// Version facts of one side (client or server) of an engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ComponentVersion {
    /// Release, e.g. `28.2.2` or `4.3.1`.
    #[serde(
        rename(serialize = "version", deserialize = "Version"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub version: String,
    /// API version in use (docker: negotiated with the server).
    #[serde(
        rename(serialize = "api_version", deserialize = "ApiVersion"),
        alias = "APIVersion",
        default,
        deserialize_with = "lenient_string"
    )]
    pub api_version: String,
    /// Operating system.
    #[serde(
        rename(serialize = "os", deserialize = "Os"),
        default,
        deserialize_with = "lenient_string"
    )]
    pub os: String,
}

/// What `docker version` / `podman version` report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EngineVersion {
    /// The CLI.
    pub client: Option<ComponentVersion>,
    /// The daemon (docker; podman only in remote mode).
    pub server: Option<ComponentVersion>,
    /// The whole document as the engine printed it.
    pub raw: Value,
}

#[derive(Deserialize)]
struct VersionDoc {
    #[serde(rename = "Client", default)]
    client: Option<ComponentVersion>,
    #[serde(rename = "Server", default)]
    server: Option<ComponentVersion>,
}

/// Parse `version` JSON from docker or podman.
///
/// ```
/// let v = dockhand::system::parse_version(br#"{"Client":{"APIVersion":"4.3.1","Version":"4.3.1","Os":"linux"}}"#).unwrap();
/// assert_eq!(v.client.unwrap().api_version, "4.3.1");
/// assert!(v.server.is_none());
/// ```
pub fn parse_version(bytes: &[u8]) -> Result<EngineVersion> {
    let raw: Value = parse_json(bytes)?;
    let doc: VersionDoc = serde_json::from_value(raw.clone()).map_err(|e| {
        Error::parse(format!("unexpected version output: {e}"), bytes).with_source(e)
    })?;
    Ok(EngineVersion {
        client: doc.client,
        server: doc.server,
        raw,
    })
}

/// The plan for `version` in JSON. When the daemon is down docker still
/// prints the client half and exits 1: that half is returned with the
/// error, so callers learn both.
///
/// ```
/// use dockhand::{system::version_plan, EngineKind};
/// assert_eq!(version_plan(EngineKind::Podman).args(), ["version", "--format", "json"]);
/// ```
pub fn version_plan(kind: EngineKind) -> Plan<(EngineVersion, Option<Error>)> {
    Plan::new(
        Effect::ReadOnly,
        Argv::new("version").args(kind.quirks().json_format),
        |outcome| {
            let stdout = outcome.output.stdout.trim_ascii();
            match (outcome.error, stdout.is_empty()) {
                (Some(e), true) => Err(e),
                (error, _) => Ok((parse_version(stdout)?, error)),
            }
        },
    )
}

/// The plan for a daemon-answers probe: `info`, raw JSON.
///
/// ```
/// use dockhand::{system::info_raw_plan, EngineKind};
/// assert_eq!(info_raw_plan(EngineKind::Docker).args(), ["info", "--format", "{{json .}}"]);
/// ```
pub fn info_raw_plan(kind: EngineKind) -> Plan<Value> {
    Plan::read(Argv::new("info").args(kind.quirks().json_format), |out| {
        parse_json(&out.stdout)
    })
}

/// What `info` reports, on one shape for docker's flat document and podman's
/// `host`/`store`/`version` one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Info {
    /// Engine dialect.
    pub engine: EngineKind,
    /// Daemon (docker) or engine (podman) version.
    pub server_version: String,
    /// Host name of the engine's machine.
    pub hostname: String,
    /// Operating system description (`Debian GNU/Linux 12 (bookworm)`, podman: `debian 12 (bookworm)`).
    pub operating_system: String,
    /// Kernel release.
    pub kernel_version: String,
    /// CPU architecture, in Go's names as images use them (`amd64`, `arm64`, `arm`).
    pub architecture: String,
    /// Number of CPUs.
    pub cpus: u64,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// Storage driver (`overlay2`, `overlay`, `vfs` …).
    pub storage_driver: String,
    /// Where images and containers live.
    pub root_dir: String,
    /// Cgroup manager (`cgroupfs`, `systemd`).
    pub cgroup_driver: String,
    /// Cgroup version, `1` or `2`.
    pub cgroup_version: String,
    /// Whether the engine runs rootless.
    pub rootless: bool,
    /// Container counts.
    pub containers: ContainerCounts,
    /// Number of images.
    pub images: u64,
    /// The engine's warnings (docker).
    pub warnings: Vec<String>,
    /// The whole document as the engine printed it.
    pub raw: Value,
}

/// How many containers are in which state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerCounts {
    /// All of them.
    #[serde(
        rename(serialize = "total", deserialize = "number"),
        default,
        deserialize_with = "lenient_u64"
    )]
    pub total: u64,
    /// Running.
    #[serde(
        rename(serialize = "running", deserialize = "running"),
        default,
        deserialize_with = "lenient_u64"
    )]
    pub running: u64,
    /// Paused.
    #[serde(
        rename(serialize = "paused", deserialize = "paused"),
        default,
        deserialize_with = "lenient_u64"
    )]
    pub paused: u64,
    /// Stopped (exited, created).
    #[serde(
        rename(serialize = "stopped", deserialize = "stopped"),
        default,
        deserialize_with = "lenient_u64"
    )]
    pub stopped: u64,
}

/// docker `info --format '{{json .}}'`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerInfoDoc {
    #[serde(default, deserialize_with = "null_default")]
    server_errors: Vec<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    server_version: String,
    #[serde(default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(default, deserialize_with = "lenient_string")]
    operating_system: String,
    #[serde(default, deserialize_with = "lenient_string")]
    kernel_version: String,
    #[serde(default, deserialize_with = "lenient_string")]
    architecture: String,
    #[serde(rename = "NCPU", default, deserialize_with = "lenient_u64")]
    ncpu: u64,
    #[serde(default, deserialize_with = "lenient_u64")]
    mem_total: u64,
    #[serde(default, deserialize_with = "lenient_string")]
    driver: String,
    #[serde(default, deserialize_with = "lenient_string")]
    docker_root_dir: String,
    #[serde(default, deserialize_with = "lenient_string")]
    cgroup_driver: String,
    #[serde(default, deserialize_with = "lenient_string")]
    cgroup_version: String,
    #[serde(default, deserialize_with = "null_default")]
    security_options: Vec<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    containers: u64,
    #[serde(default, deserialize_with = "lenient_u64")]
    containers_running: u64,
    #[serde(default, deserialize_with = "lenient_u64")]
    containers_paused: u64,
    #[serde(default, deserialize_with = "lenient_u64")]
    containers_stopped: u64,
    #[serde(default, deserialize_with = "lenient_u64")]
    images: u64,
    #[serde(default, deserialize_with = "null_default")]
    warnings: Vec<String>,
}

/// podman `info --format json`.
#[derive(Deserialize)]
struct PodmanInfoDoc {
    #[serde(default)]
    host: PodmanHost,
    #[serde(default)]
    store: PodmanStore,
    #[serde(default)]
    version: ComponentVersion,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PodmanHost {
    #[serde(deserialize_with = "lenient_string")]
    arch: String,
    #[serde(deserialize_with = "lenient_string")]
    hostname: String,
    #[serde(deserialize_with = "lenient_string")]
    kernel: String,
    #[serde(deserialize_with = "lenient_u64")]
    cpus: u64,
    #[serde(deserialize_with = "lenient_u64")]
    mem_total: u64,
    #[serde(deserialize_with = "lenient_string")]
    cgroup_manager: String,
    #[serde(deserialize_with = "lenient_string")]
    cgroup_version: String,
    #[serde(deserialize_with = "null_default")]
    distribution: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_default")]
    security: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PodmanStore {
    #[serde(deserialize_with = "lenient_string")]
    graph_driver_name: String,
    #[serde(deserialize_with = "lenient_string")]
    graph_root: String,
    #[serde(deserialize_with = "null_default")]
    container_store: ContainerCounts,
    #[serde(deserialize_with = "null_default")]
    image_store: BTreeMap<String, Value>,
}

/// Go's architecture names (as in image metadata) for the kernel's.
fn go_arch(arch: &str) -> String {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "armv7l" | "armv6l" | "armhf" => "arm",
        "i386" | "i686" => "386",
        other => other,
    }
    .to_string()
}

/// Parse `info` JSON of docker or podman. A docker 20.10 client whose daemon
/// does not answer prints `{"ServerErrors": […]}` and exits 0: that is an
/// error here, classified like the same text on stderr.
///
/// ```
/// use dockhand::{system::parse_info, EngineKind, ErrorKind};
/// let info = parse_info(EngineKind::Podman, br#"{"host":{"arch":"amd64","cpus":2,"cgroupVersion":"v2","security":{"rootless":true}},"store":{"containerStore":{"number":3}},"version":{"Version":"4.3.1"}}"#).unwrap();
/// assert_eq!((info.cpus, info.cgroup_version.as_str(), info.rootless), (2, "2", true));
/// let down = parse_info(EngineKind::Docker, br#"{"ServerErrors":["Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"]}"#);
/// assert_eq!(down.unwrap_err().kind(), ErrorKind::Unreachable);
/// ```
pub fn parse_info(kind: EngineKind, bytes: &[u8]) -> Result<Info> {
    let raw: Value = parse_json(bytes)?;
    let bad = |e: serde_json::Error| Error::parse(format!("unexpected info output: {e}"), bytes);
    let cgroup = |v: &str| v.trim_start_matches('v').to_string();
    let info = if raw.get("host").is_some() {
        let doc: PodmanInfoDoc = serde_json::from_value(raw.clone()).map_err(bad)?;
        let d = &doc.host.distribution;
        let field = |k: &str| d.get(k).cloned().unwrap_or_default();
        let mut os = format!("{} {}", field("distribution"), field("version"))
            .trim()
            .to_string();
        if !field("codename").is_empty() {
            os = format!("{os} ({})", field("codename"));
        }
        Info {
            engine: kind,
            server_version: doc.version.version,
            hostname: doc.host.hostname,
            operating_system: os,
            kernel_version: doc.host.kernel,
            architecture: go_arch(&doc.host.arch),
            cpus: doc.host.cpus,
            memory_bytes: doc.host.mem_total,
            storage_driver: doc.store.graph_driver_name,
            root_dir: doc.store.graph_root,
            cgroup_driver: doc.host.cgroup_manager,
            cgroup_version: cgroup(&doc.host.cgroup_version),
            rootless: doc
                .host
                .security
                .get("rootless")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            containers: doc.store.container_store,
            images: doc
                .store
                .image_store
                .get("number")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            warnings: Vec::new(),
            raw,
        }
    } else {
        let doc: DockerInfoDoc = serde_json::from_value(raw.clone()).map_err(bad)?;
        // A blank entry says nothing: an error needs words (found by fuzzing).
        if let Some(first) = doc.server_errors.iter().find(|e| !e.trim().is_empty()) {
            let (kind, transient) = kind_of(Tool::Engine(kind), first.as_bytes());
            return Err(Error::new(kind, first.clone()).with_transient(transient));
        }
        Info {
            engine: kind,
            server_version: doc.server_version,
            hostname: doc.name,
            operating_system: doc.operating_system,
            kernel_version: doc.kernel_version,
            architecture: go_arch(&doc.architecture),
            cpus: doc.ncpu,
            memory_bytes: doc.mem_total,
            storage_driver: doc.driver,
            root_dir: doc.docker_root_dir,
            cgroup_driver: doc.cgroup_driver,
            cgroup_version: cgroup(&doc.cgroup_version),
            rootless: doc
                .security_options
                .iter()
                .any(|o| o.split(',').any(|p| p == "name=rootless")),
            containers: ContainerCounts {
                total: doc.containers,
                running: doc.containers_running,
                paused: doc.containers_paused,
                stopped: doc.containers_stopped,
            },
            images: doc.images,
            warnings: doc.warnings,
            raw,
        }
    };
    Ok(info)
}

/// The plan for a typed `info`.
///
/// ```
/// let plan = dockhand::system::info_plan(dockhand::EngineKind::Docker);
/// assert_eq!(plan.args(), ["info", "--format", "{{json .}}"]);
/// ```
pub fn info_plan(kind: EngineKind) -> Plan<Info> {
    Plan::read(
        Argv::new("info").args(kind.quirks().json_format),
        move |out| parse_info(kind, &out.stdout),
    )
}

/// Result of [`System::check`]: what is configured, what answers, and —
/// when something is wrong — a diagnosis in plain words with the fix.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// Engine dialect.
    pub engine: EngineKind,
    /// The engine command with global flags, shell-quoted.
    pub command: String,
    /// Where the engine command's program was found on PATH.
    pub path: Option<String>,
    /// CLI version.
    pub client_version: Option<String>,
    /// Daemon / engine version.
    pub server_version: Option<String>,
    /// API version in use.
    pub api_version: Option<String>,
    /// Whether the engine answered.
    pub reachable: bool,
    /// Endpoint variables set in the environment (DOCKER_HOST, DOCKER_CONTEXT …).
    pub env: BTreeMap<String, String>,
    /// One sentence on the state.
    pub diagnosis: String,
    /// What to do about it, when something is wrong.
    pub fix: Option<String>,
    /// The failure behind an unreachable engine.
    #[serde(skip)]
    pub error: Option<Error>,
}

impl System<'_> {
    /// Engine versions (client, and server when it answers).
    ///
    /// ```no_run
    /// let v = dockhand::Engine::detect().unwrap().system().version().unwrap();
    /// println!("{:?}", v.client.map(|c| c.version));
    /// ```
    pub fn version(&self) -> Result<EngineVersion> {
        let (version, error) = self.engine.run(version_plan(self.engine.kind()))?;
        match error {
            Some(e) if version.server.is_none() && self.engine.kind().quirks().has_daemon => Err(e),
            _ => Ok(version),
        }
    }

    /// What the engine reports about itself and its host.
    ///
    /// ```no_run
    /// let info = dockhand::Engine::detect()?.system().info()?;
    /// println!("{} on {} ({} CPUs)", info.server_version, info.operating_system, info.cpus);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn info(&self) -> Result<Info> {
        self.engine.run(info_plan(self.engine.kind()))
    }

    /// Diagnose the engine: never fails; problems are in the report.
    ///
    /// ```no_run
    /// let report = dockhand::Engine::detect().unwrap().system().check();
    /// if !report.reachable { eprintln!("{}: {}", report.diagnosis, report.fix.unwrap_or_default()); }
    /// ```
    pub fn check(&self) -> CheckReport {
        let quirks = self.engine.kind().quirks();
        let program = &self.engine.argv()[0];
        let env: BTreeMap<String, String> = quirks
            .endpoint_env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let mut report = CheckReport {
            engine: self.engine.kind(),
            command: self.engine.command().to_string(),
            path: which::which(program).ok().map(|p| p.display().to_string()),
            client_version: None,
            server_version: None,
            api_version: None,
            reachable: false,
            env,
            diagnosis: String::new(),
            fix: None,
            error: None,
        };
        let probe = self
            .engine
            .run(version_plan(self.engine.kind()).no_retry())
            .and_then(|(version, error)| {
                report.client_version = version.client.as_ref().map(|c| c.version.clone());
                report.api_version = version.client.as_ref().map(|c| c.api_version.clone());
                if let Some(server) = &version.server {
                    report.server_version = Some(server.version.clone());
                    report.api_version = Some(server.api_version.clone());
                }
                match error {
                    Some(e) => Err(e),
                    // Podman has no daemon to ask: `info` proves storage and runtime answer.
                    None if !quirks.has_daemon => {
                        let info = self
                            .engine
                            .run(info_raw_plan(self.engine.kind()).no_retry())?;
                        report.server_version =
                            info["version"]["Version"].as_str().map(str::to_string);
                        Ok(())
                    }
                    None => Ok(()),
                }
            });
        match probe {
            Ok(()) => {
                report.reachable = true;
                report.diagnosis = format!(
                    "{} answers (server {})",
                    self.engine.kind().as_str(),
                    report.server_version.as_deref().unwrap_or("unknown")
                );
            }
            Err(e) => {
                let (diagnosis, fix) = self.diagnose(&e, &report.env);
                report.diagnosis = diagnosis;
                report.fix = Some(fix);
                report.error = Some(e);
            }
        }
        report
    }

    /// Plain-language cause and fix for a failed probe.
    fn diagnose(&self, err: &Error, env: &BTreeMap<String, String>) -> (String, String) {
        let program = self.engine.argv()[0].to_string_lossy().into_owned();
        let endpoint = endpoint_in(err.stderr())
            .or_else(|| env.get("DOCKER_HOST").cloned())
            .unwrap_or_else(|| "the default socket".to_string());
        match err.kind() {
            ErrorKind::EngineMissing => (
                format!("the engine CLI `{program}` is not installed or not on PATH"),
                "install docker.io or podman, or point --engine / DOCKHAND_ENGINE at the CLI".into(),
            ),
            ErrorKind::Unreachable => (
                format!("the {} daemon at {endpoint} does not answer", self.engine.kind().as_str()),
                "start the daemon (systemctl start docker, or dockerd &), or fix DOCKER_HOST / --host / --context".into(),
            ),
            ErrorKind::PermissionDenied => (
                format!("no permission to use the engine at {endpoint}"),
                "run as root, add the user to the docker group, or use --engine 'sudo -n docker'".into(),
            ),
            ErrorKind::Timeout => (
                format!("the engine did not answer within the timeout ({endpoint})"),
                "check that the daemon is healthy (journal / dockerd log) or raise --timeout".into(),
            ),
            _ => (
                format!("the engine failed: {}", err.message()),
                "see the engine's stderr below".into(),
            ),
        }
    }
}

/// The endpoint an engine error names (`unix:///…`, `tcp://…`).
fn endpoint_in(stderr: &str) -> Option<String> {
    stderr
        .split(|c: char| c.is_whitespace() || c == '"')
        .find(|w| w.starts_with("unix://") || w.starts_with("tcp://") || w.starts_with("ssh://"))
        .map(|w| w.trim_end_matches(['.', ',', ':']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_is_found_in_daemon_error() {
        let s = "Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?";
        assert_eq!(endpoint_in(s).as_deref(), Some("unix:///nonexistent.sock"));
    }

    #[test]
    fn docker_and_podman_info_map_onto_one_struct() {
        use crate::testing::capture;
        for (kind, path) in [
            (EngineKind::Docker, "docker/info.json"),
            (EngineKind::Docker, "docker/info-client20.json"),
            (EngineKind::Podman, "podman/info.json"),
        ] {
            let i = parse_info(kind, &capture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(i.architecture, "amd64", "{path}");
            assert_eq!(
                (i.cpus, i.cgroup_version.as_str(), i.cgroup_driver.as_str()),
                (2, "1", "cgroupfs"),
                "{path}"
            );
            assert!(i.memory_bytes > 1 << 30, "{path}");
            assert!(
                !i.server_version.is_empty() && !i.kernel_version.is_empty(),
                "{path}"
            );
            assert!(
                i.operating_system.contains("12"),
                "{path}: {}",
                i.operating_system
            );
            assert!(
                !i.storage_driver.is_empty() && i.root_dir.starts_with("/var/lib/"),
                "{path}"
            );
            assert_eq!(i.hostname, "vm", "{path}");
            assert!(!i.rootless, "{path}");
            assert!(i.containers.total >= i.containers.running, "{path}");
            assert!(i.images >= 1, "{path}");
        }
        let p = parse_info(EngineKind::Podman, &capture("podman/info.json")).unwrap();
        assert_eq!(
            p.containers,
            ContainerCounts {
                total: 3,
                running: 1,
                paused: 1,
                stopped: 1
            }
        );
    }

    #[test]
    fn docker_20_server_errors_are_errors_not_info() {
        use crate::testing::capture;
        for (path, kind) in [
            (
                "docker/err-daemon-down-info-json-client20.stdout.txt",
                ErrorKind::Unreachable,
            ),
            (
                "docker/err-permission-denied-info-json-client20.stdout.txt",
                ErrorKind::PermissionDenied,
            ),
        ] {
            let e = parse_info(EngineKind::Docker, &capture(path)).unwrap_err();
            assert_eq!(e.kind(), kind, "{path}: {e}");
        }
    }

    #[test]
    fn a_blank_server_error_is_not_an_error_without_words() {
        // Regression (fuzzing): `"ServerErrors":[""]` became an error with an
        // empty message; the next entry with text is the one reported.
        let e = parse_info(
            EngineKind::Docker,
            br#"{"ServerErrors":["", "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"]}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unreachable, "{e}");
        assert!(parse_info(EngineKind::Docker, br#"{"ServerErrors":[" "]}"#).is_ok());
    }

    #[test]
    fn docker_client_only_version_parses() {
        let v = parse_version(
            br#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50","Os":"linux"},"Server":null}"#,
        )
        .unwrap();
        assert_eq!(v.client.unwrap().api_version, "1.50");
        assert!(v.server.is_none());
    }
}

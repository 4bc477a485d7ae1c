//! Engine versions and the `check` diagnosis.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Engine, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{lenient_string, parse_json};
use crate::plan::{Effect, Plan};

/// Version facts of one side (client or server) of an engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    let doc: VersionDoc = serde_json::from_value(raw.clone())
        .map_err(|e| Error::parse(format!("unexpected version output: {e}"), bytes))?;
    Ok(EngineVersion {
        client: doc.client,
        server: doc.server,
        raw,
    })
}

/// The plan for `version` in JSON. When the daemon is down docker still
/// prints the client half and exits 1: that half is returned with the
/// error, so callers learn both.
pub fn version_plan(kind: EngineKind) -> Plan<(EngineVersion, Option<Error>)> {
    Plan::new(
        Effect::ReadOnly,
        kind.quirks().version_json.iter().copied(),
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
pub fn info_raw_plan(kind: EngineKind) -> Plan<Value> {
    Plan::read(kind.quirks().info_json.iter().copied(), |out| {
        parse_json(&out.stdout)
    })
}

/// Result of [`Engine::check`]: what is configured, what answers, and —
/// when something is wrong — a diagnosis in plain words with the fix.
#[derive(Debug, Clone, Serialize)]
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

impl Engine {
    /// Engine versions (client, and server when it answers).
    ///
    /// ```no_run
    /// let v = dockhand::Engine::detect().unwrap().version().unwrap();
    /// println!("{:?}", v.client.map(|c| c.version));
    /// ```
    pub fn version(&self) -> Result<EngineVersion> {
        let (version, error) = self.run(version_plan(self.kind()))?;
        match error {
            Some(e) if version.server.is_none() && self.kind().quirks().has_daemon => Err(e),
            _ => Ok(version),
        }
    }

    /// Diagnose the engine: never fails; problems are in the report.
    ///
    /// ```no_run
    /// let report = dockhand::Engine::detect().unwrap().check();
    /// if !report.reachable { eprintln!("{}: {}", report.diagnosis, report.fix.unwrap_or_default()); }
    /// ```
    pub fn check(&self) -> CheckReport {
        let quirks = self.kind().quirks();
        let program = &self.argv()[0];
        let env: BTreeMap<String, String> = quirks
            .endpoint_env
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
            .collect();
        let mut report = CheckReport {
            engine: self.kind(),
            command: self.command().to_string(),
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
            .run(version_plan(self.kind()).no_retry())
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
                        let info = self.run(info_raw_plan(self.kind()).no_retry())?;
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
                    self.kind().as_str(),
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
        let program = self.argv()[0].to_string_lossy().into_owned();
        let endpoint = endpoint_in(err.stderr())
            .or_else(|| env.get("DOCKER_HOST").cloned())
            .unwrap_or_else(|| "the default socket".to_string());
        match err.kind() {
            ErrorKind::EngineMissing => (
                format!("the engine CLI `{program}` is not installed or not on PATH"),
                "install docker.io or podman, or point --engine / DOCKHAND_ENGINE at the CLI".into(),
            ),
            ErrorKind::Unreachable => (
                format!("the {} daemon at {endpoint} does not answer", self.kind().as_str()),
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
    fn docker_client_only_version_parses() {
        let v = parse_version(
            br#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50","Os":"linux"},"Server":null}"#,
        )
        .unwrap();
        assert_eq!(v.client.unwrap().api_version, "1.50");
        assert!(v.server.is_none());
    }
}

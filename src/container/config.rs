//! The typed configuration of a container: process, restart policy, limits,
//! healthcheck, logging and security, normalized from both engines'
//! `inspect` shapes (the paths, types and zero values are in
//! `vendor-docs/inspect-config.md`).
//!
//! | field | docker | podman | normalized |
//! |---|---|---|---|
//! | `entrypoint` | `Config.Entrypoint` list or null | one string, the words joined by spaces (ambiguous) | a list: docker's as is; podman's from `Path` + `Args` minus the trailing `Cmd` (and minus `/run/podman-init --` with `--init`) |
//! | `workdir` | `""` = the image's | the effective one, `/` by default | as the engine reports it |
//! | `env` | `Config.Env` | plus `PATH`, `TERM`, `container`, `HOSTNAME`, reordered | the names (values only through [`Environment::value`]) |
//! | `restart.policy` | `"no"` by default | `""` by default | `no` |
//! | `limits.cpus` | `NanoCpus` (`--cpus`) or `CpuQuota/CpuPeriod` | both filled | `NanoCpus/1e9`, else quota/period |
//! | `limits.pids_limit` | `null` for unset, 0, −1 | `0` = unlimited, `2048` by default | `None` = unlimited |
//! | `healthcheck` | unset fields absent | defaults filled in | as given; `["NONE"]` = disabled |
//! | `log` | `LogConfig {Type, Config}`, `LogPath` | `LogConfig {Type, Path, Tag, Size}` | driver, options (podman's `Size`/`Tag` as `max-size`/`tag`), path |
//! | `capabilities.added/dropped` | the request (`CAP_` added, `ALL` kept) | the difference to docker's 14 defaults | as the engine records it |
//! | `capabilities.effective` | — | `EffectiveCaps` | podman's; docker: its default set with the request applied (`None` when privileged) |

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::decode::json::{lenient_string, null_default};

/// What a container runs and how: the typed part of `inspect`'s `Config`
/// and `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContainerConfig {
    /// Host name inside the container.
    pub hostname: String,
    /// User (and group) the process runs as; empty: the image's.
    pub user: String,
    /// Working directory, as the engine reports it (docker: empty means the
    /// image's; podman reports the effective one, `/` by default).
    pub workdir: String,
    /// The entrypoint; `None` when there is none (the command runs as is).
    pub entrypoint: Option<Vec<String>>,
    /// The command (the entrypoint's arguments when there is one).
    #[serde(default)]
    pub cmd: Vec<String>,
    /// The environment. In JSON: the names only.
    #[serde(default)]
    pub env: Environment,
    /// Whether it has a terminal (`-t`).
    #[serde(default)]
    pub tty: bool,
    /// Whether its stdin is open (`-i`).
    #[serde(default)]
    pub interactive: bool,
    /// Restart policy.
    pub restart: Restart,
    /// Memory, CPU and process limits.
    pub limits: ResourceLimits,
    /// The healthcheck, when the container (or its image) defines one.
    pub healthcheck: Option<HealthcheckConfig>,
    /// Logging.
    pub log: LogConfig,
    /// Whether an init process runs as PID 1 (`--init`).
    #[serde(default)]
    pub init: bool,
    /// Whether the root filesystem is read-only.
    #[serde(default)]
    pub read_only: bool,
    /// Whether it runs privileged.
    #[serde(default)]
    pub privileged: bool,
    /// Capabilities.
    pub capabilities: Capabilities,
}

/// A container's environment. Its `Debug` output and its JSON show the
/// names only: values (often secrets) come only from [`Environment::value`]
/// and [`Environment::pairs`].
///
/// ```
/// # let doc = std::fs::read("vendor-docs/captures/podman/containers-inspect-full.json").unwrap();
/// let c = &dockhand::container::parse_inspect(&doc).unwrap()[0];
/// assert!(c.config.env.names().any(|n| n == "PATH"));
/// assert!(c.config.env.value("PATH").unwrap().contains("/usr/sbin"));
/// assert!(!serde_json::to_string(&c.config.env).unwrap().contains("/usr/sbin"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: Vec<(String, String)>,
}

impl Environment {
    /// From the engine's `KEY=VALUE` strings (a string without `=` is a
    /// name with an empty value).
    fn from_engine(entries: Vec<String>) -> Environment {
        let vars = entries
            .into_iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (e, String::new()),
            })
            .collect();
        Environment { vars }
    }

    /// The variable names, in the engine's order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|(k, _)| k.as_str())
    }

    /// The value of one variable: an explicit request for what may be a secret.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every name with its value.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no variables.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Serialize for Environment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

impl<'de> Deserialize<'de> for Environment {
    /// From dockhand's own JSON: names, without values.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Environment, D::Error> {
        let names: Vec<String> = null_default(d)?;
        Ok(Environment {
            vars: names.into_iter().map(|n| (n, String::new())).collect(),
        })
    }
}

/// A restart policy as the engine reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Restart {
    /// The policy.
    pub policy: RestartName,
    /// Retries of `on-failure` (0: no limit, or not `on-failure`).
    pub max_retries: u64,
}

/// The name of a restart policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RestartName {
    /// Never restarted.
    #[default]
    No,
    /// Always restarted.
    Always,
    /// Restarted unless stopped by hand.
    UnlessStopped,
    /// Restarted after a non-zero exit.
    OnFailure,
    /// A policy this version of dockhand does not know.
    #[serde(other)]
    Unknown,
}

impl RestartName {
    /// The policy for an engine's word (podman's `""` is `no`).
    ///
    /// ```
    /// use dockhand::container::RestartName;
    /// assert_eq!(RestartName::from_engine(""), RestartName::No);
    /// assert_eq!(RestartName::from_engine("on-failure"), RestartName::OnFailure);
    /// assert_eq!(RestartName::from_engine("sometimes"), RestartName::Unknown);
    /// ```
    pub fn from_engine(word: &str) -> RestartName {
        match word {
            "" | "no" => RestartName::No,
            "always" => RestartName::Always,
            "unless-stopped" => RestartName::UnlessStopped,
            "on-failure" => RestartName::OnFailure,
            _ => RestartName::Unknown,
        }
    }
}

/// Memory, CPU and process limits; `None` means unlimited (or the engine's
/// default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceLimits {
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Memory plus swap in bytes; `-1`: unlimited swap.
    pub memory_swap: Option<i64>,
    /// Soft memory limit in bytes.
    pub memory_reservation: Option<u64>,
    /// CPUs (`--cpus`, or quota / period).
    pub cpus: Option<f64>,
    /// CFS quota in µs.
    pub cpu_quota: Option<i64>,
    /// CFS period in µs.
    pub cpu_period: Option<u64>,
    /// Relative CPU weight.
    pub cpu_shares: Option<u64>,
    /// CPUs it may run on (`0-1,3`).
    pub cpuset_cpus: Option<String>,
    /// Most processes at once.
    pub pids_limit: Option<i64>,
}

/// A healthcheck definition. Durations in milliseconds; `None` where the
/// engine's default applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HealthcheckConfig {
    /// `["CMD-SHELL", cmd]`, `["CMD", arg…]`, or `["NONE"]` (disabled).
    pub test: Vec<String>,
    /// Time between checks.
    pub interval_ms: Option<u64>,
    /// Time one check may take.
    pub timeout_ms: Option<u64>,
    /// Grace time after the start in which failures do not count.
    pub start_period_ms: Option<u64>,
    /// Consecutive failures that make the container unhealthy.
    pub retries: Option<u64>,
}

impl HealthcheckConfig {
    /// Whether this disables the image's healthcheck (`--no-healthcheck`).
    pub fn is_disabled(&self) -> bool {
        self.test.first().is_some_and(|t| t == "NONE")
    }
}

/// Logging of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogConfig {
    /// The log driver (`json-file`, `k8s-file`, `none`, `local` …).
    pub driver: String,
    /// Driver options (`max-size`, `max-file`, `tag` …).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The log file, when the engine names one.
    pub path: Option<String>,
}

/// Capabilities of the container's process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// Added, as the engine records it (docker: the request, `CAP_` names or
    /// `ALL`; podman: what the effective set has beyond docker's defaults).
    #[serde(default)]
    pub added: Vec<String>,
    /// Dropped, recorded the same way.
    #[serde(default)]
    pub dropped: Vec<String>,
    /// The effective set, sorted: podman's `EffectiveCaps`; for docker its
    /// default set with `added`/`dropped` applied. `None` when unknown
    /// (docker `--privileged`: every capability the host has).
    pub effective: Option<Vec<String>>,
}

/// docker's default capability set (moby `oci/caps/defaults.go`, unchanged
/// since docker 20.10).
const DOCKER_DEFAULT_CAPS: [&str; 14] = [
    "CAP_AUDIT_WRITE",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_MKNOD",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// docker's effective set for a request: the defaults, minus the dropped
/// (`ALL`: all of them), plus the added (`ALL`: unknown, every capability).
fn docker_effective(added: &[String], dropped: &[String]) -> Option<Vec<String>> {
    if added.iter().any(|c| c == "ALL") {
        return None;
    }
    let mut set: Vec<String> = match dropped.iter().any(|c| c == "ALL") {
        true => Vec::new(),
        false => DOCKER_DEFAULT_CAPS
            .iter()
            .filter(|c| !dropped.iter().any(|d| d == *c))
            .map(|c| c.to_string())
            .collect(),
    };
    set.extend(added.iter().cloned());
    set.sort();
    set.dedup();
    Some(set)
}

// ---- the engines' shapes (deserialize only) ----

/// `Config` of a container inspect, both engines.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct WireConfig {
    #[serde(default, deserialize_with = "lenient_string")]
    pub image: String,
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient_string")]
    hostname: String,
    #[serde(default, deserialize_with = "lenient_string")]
    user: String,
    #[serde(default, deserialize_with = "lenient_string")]
    working_dir: String,
    /// docker: a list or null; podman: one string.
    #[serde(default)]
    entrypoint: Value,
    #[serde(default, deserialize_with = "null_default")]
    cmd: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    env: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    tty: bool,
    #[serde(default, deserialize_with = "null_default")]
    open_stdin: bool,
    #[serde(default, deserialize_with = "null_default")]
    healthcheck: Option<WireHealthcheck>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireHealthcheck {
    #[serde(default, deserialize_with = "null_default")]
    test: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    interval: i64,
    #[serde(default, deserialize_with = "null_default")]
    timeout: i64,
    #[serde(default, deserialize_with = "null_default")]
    start_period: i64,
    #[serde(default, deserialize_with = "null_default")]
    retries: i64,
}

/// `HostConfig` of a container inspect, both engines.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct WireHostConfig {
    #[serde(default, deserialize_with = "null_default")]
    restart_policy: WireRestart,
    #[serde(default, deserialize_with = "null_default")]
    memory: i64,
    #[serde(default, deserialize_with = "null_default")]
    memory_swap: i64,
    #[serde(default, deserialize_with = "null_default")]
    memory_reservation: i64,
    #[serde(default, deserialize_with = "null_default")]
    nano_cpus: i64,
    #[serde(default, deserialize_with = "null_default")]
    cpu_quota: i64,
    #[serde(default, deserialize_with = "null_default")]
    cpu_period: i64,
    #[serde(default, deserialize_with = "null_default")]
    cpu_shares: i64,
    #[serde(default, deserialize_with = "lenient_string")]
    cpuset_cpus: String,
    #[serde(default, deserialize_with = "null_default")]
    pids_limit: Option<i64>,
    #[serde(default, deserialize_with = "null_default")]
    log_config: WireLogConfig,
    #[serde(default, deserialize_with = "null_default")]
    init: bool,
    #[serde(default, deserialize_with = "null_default")]
    readonly_rootfs: bool,
    #[serde(default, deserialize_with = "null_default")]
    privileged: bool,
    #[serde(default, deserialize_with = "null_default")]
    cap_add: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    cap_drop: Vec<String>,
    /// `--tmpfs` mounts (and podman's `--mount type=tmpfs`): path → options.
    #[serde(default, deserialize_with = "null_default")]
    pub tmpfs: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireRestart {
    #[serde(default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    maximum_retry_count: i64,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct WireLogConfig {
    #[serde(rename = "Type", default, deserialize_with = "lenient_string")]
    driver: String,
    #[serde(default, deserialize_with = "null_default")]
    config: BTreeMap<String, String>,
    /// podman only.
    #[serde(default, deserialize_with = "lenient_string")]
    path: String,
    #[serde(default, deserialize_with = "lenient_string")]
    tag: String,
    #[serde(default, deserialize_with = "lenient_string")]
    size: String,
}

/// The top-level keys of an inspect object the config needs.
pub(super) struct WireTop {
    /// The program actually run and its arguments.
    pub path: String,
    pub args: Vec<String>,
    /// docker only.
    pub log_path: String,
    /// podman only: the real capability set.
    pub effective_caps: Option<Vec<String>>,
    /// Whether this is podman's shape (no `Platform`, `OCIRuntime` present).
    pub podman: bool,
}

/// podman's init, which `--init` puts in front of the command.
const PODMAN_INIT: &str = "/run/podman-init";

/// Map either engine's shape onto [`ContainerConfig`]; each step is a row
/// of the table in the module documentation.
pub(super) fn normalize(config: WireConfig, host: WireHostConfig, top: WireTop) -> ContainerConfig {
    let positive = |n: i64| u64::try_from(n).ok().filter(|n| *n > 0);
    let h = &host;
    let cpus = match (h.nano_cpus, h.cpu_quota, h.cpu_period) {
        (n, _, _) if n > 0 => Some(n as f64 / 1e9),
        (_, q, p) if q > 0 && p > 0 => Some(q as f64 / p as f64),
        _ => None,
    };
    let limits = ResourceLimits {
        memory: positive(h.memory),
        memory_swap: (h.memory_swap != 0).then_some(h.memory_swap),
        memory_reservation: positive(h.memory_reservation),
        cpus,
        cpu_quota: (h.cpu_quota > 0).then_some(h.cpu_quota),
        cpu_period: positive(h.cpu_period),
        cpu_shares: positive(h.cpu_shares),
        cpuset_cpus: (!h.cpuset_cpus.is_empty()).then(|| h.cpuset_cpus.clone()),
        pids_limit: h.pids_limit.filter(|n| *n > 0),
    };
    let entrypoint = entrypoint(&config, &host, &top);
    let capabilities = Capabilities {
        effective: match (top.podman, &top.effective_caps) {
            (true, Some(caps)) => {
                let mut caps = caps.clone();
                caps.sort();
                Some(caps)
            }
            (true, None) => None,
            (false, _) if host.privileged => None,
            (false, _) => docker_effective(&host.cap_add, &host.cap_drop),
        },
        added: host.cap_add,
        dropped: host.cap_drop,
    };
    let log = host.log_config;
    let mut log_options = log.config;
    if !log.size.is_empty() && log.size != "0B" {
        log_options
            .entry("max-size".into())
            .or_insert_with(|| log.size.clone());
    }
    if !log.tag.is_empty() {
        log_options
            .entry("tag".into())
            .or_insert_with(|| log.tag.clone());
    }
    let log_path = [log.path, top.log_path].into_iter().find(|p| !p.is_empty());
    ContainerConfig {
        hostname: config.hostname,
        user: config.user,
        workdir: config.working_dir,
        entrypoint,
        cmd: config.cmd,
        env: Environment::from_engine(config.env),
        tty: config.tty,
        interactive: config.open_stdin,
        restart: Restart {
            policy: RestartName::from_engine(&host.restart_policy.name),
            max_retries: u64::try_from(host.restart_policy.maximum_retry_count).unwrap_or(0),
        },
        limits,
        healthcheck: config.healthcheck.map(|hc| {
            let ms = |ns: i64| {
                u64::try_from(ns)
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| n / 1_000_000)
            };
            HealthcheckConfig {
                test: hc.test,
                interval_ms: ms(hc.interval),
                timeout_ms: ms(hc.timeout),
                start_period_ms: ms(hc.start_period),
                retries: u64::try_from(hc.retries).ok().filter(|n| *n > 0),
            }
        }),
        log: LogConfig {
            driver: log.driver,
            options: log_options,
            path: log_path,
        },
        init: host.init,
        read_only: host.readonly_rootfs,
        privileged: host.privileged,
        capabilities,
    }
}

/// The entrypoint as a list. docker prints one; podman joins the words with
/// spaces (`sh -c` may be one word or two), so its list comes from what it
/// runs: `Path` + `Args`, minus the command at the end and minus its own
/// init in front. When that does not add up to podman's string, the string
/// split at spaces is the best there is.
fn entrypoint(config: &WireConfig, host: &WireHostConfig, top: &WireTop) -> Option<Vec<String>> {
    let joined = match &config.entrypoint {
        Value::Array(words) => {
            let words: Vec<String> = words
                .iter()
                .map(|w| w.as_str().map_or_else(|| w.to_string(), str::to_string))
                .collect();
            return (!words.is_empty()).then_some(words);
        }
        Value::String(s) if !s.is_empty() => s.clone(),
        _ => return None,
    };
    let mut argv: Vec<&str> = std::iter::once(top.path.as_str())
        .chain(top.args.iter().map(String::as_str))
        .collect();
    if host.init && argv.first() == Some(&PODMAN_INIT) {
        argv.drain(..argv.len().min(2));
    }
    let derived = argv
        .len()
        .checked_sub(config.cmd.len())
        .map(|n| &argv[..n])
        .filter(|words| !words.is_empty() && words.join(" ") == joined);
    Some(match derived {
        Some(words) => words.iter().map(|w| w.to_string()).collect(),
        None => joined.split(' ').map(str::to_string).collect(),
    })
}

/// A copy of an inspect object without environment values: `Config.Env`
/// becomes the names, and the values of `-e`/`--env` in podman's
/// `Config.CreateCommand` are cut off. This is what dockhand prints as
/// `raw`, so no JSON output of dockhand carries a secret from the
/// environment.
///
/// ```
/// let raw = serde_json::json!({"Config": {"Env": ["TOKEN=s3cret", "PATH=/bin"],
///     "CreateCommand": ["podman", "run", "-e", "TOKEN=s3cret", "--env=A=b", "busybox"]}});
/// let shown = dockhand::container::without_env_values(&raw);
/// assert_eq!(shown["Config"]["Env"], serde_json::json!(["TOKEN", "PATH"]));
/// assert_eq!(shown["Config"]["CreateCommand"], serde_json::json!(["podman", "run", "-e", "TOKEN", "--env=A", "busybox"]));
/// ```
pub fn without_env_values(raw: &Value) -> Value {
    let mut shown = raw.clone();
    if let Some(config) = shown.get_mut("Config").and_then(Value::as_object_mut) {
        for (key, value) in config.iter_mut() {
            if let Some(names) = env_names_only(key, value) {
                *value = names;
            }
        }
    }
    shown
}

/// What [`without_env_values`] puts in place of `Config.<key>`: `Env` and
/// podman's `CreateCommand` without their values; `None` for any other key.
fn env_names_only(key: &str, value: &Value) -> Option<Value> {
    let Value::Array(words) = value else {
        return None;
    };
    let name_only = |text: &str| text.split_once('=').map_or(text, |(k, _)| k).to_string();
    let shown: Vec<Value> = match key {
        "Env" => words
            .iter()
            .map(|word| match word {
                Value::String(w) => Value::from(name_only(w)),
                other => other.clone(),
            })
            .collect(),
        "CreateCommand" => {
            let mut value_next = false;
            words
                .iter()
                .map(|word| {
                    let Value::String(w) = word else {
                        return word.clone();
                    };
                    Value::from(if value_next {
                        value_next = false;
                        name_only(w)
                    } else if w == "-e" || w == "--env" {
                        value_next = true;
                        w.clone()
                    } else if let Some(rest) = w.strip_prefix("--env=") {
                        format!("--env={}", name_only(rest))
                    } else if let Some(rest) = w.strip_prefix("-e").filter(|r| r.contains('=')) {
                        format!("-e{}", name_only(rest))
                    } else {
                        w.clone()
                    })
                })
                .collect()
        }
        _ => return None,
    };
    Some(Value::Array(shown))
}

/// `raw` as [`without_env_values`] shows it, written without copying the
/// document: only `Config.Env` and `Config.CreateCommand` are copied (the
/// copy of the whole object, and then freeing it, was 11 % of a `--json
/// inspect`).
pub(super) fn serialize_raw<S: Serializer>(raw: &Value, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    struct Config<'a>(&'a serde_json::Map<String, Value>);
    impl Serialize for Config<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (key, value) in self.0 {
                match env_names_only(key, value) {
                    Some(names) => map.serialize_entry(key, &names)?,
                    None => map.serialize_entry(key, value)?,
                }
            }
            map.end()
        }
    }
    let Some(object) = raw.as_object() else {
        return raw.serialize(s);
    };
    let mut map = s.serialize_map(Some(object.len()))?;
    for (key, value) in object {
        match (key.as_str(), value.as_object()) {
            ("Config", Some(config)) => map.serialize_entry(key, &Config(config))?,
            _ => map.serialize_entry(key, value)?,
        }
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use crate::container::{parse_inspect, Container, RestartName};
    use crate::testing::capture;

    fn all(engine: &str, slug: &str) -> Vec<Container> {
        parse_inspect(&capture(&format!("{engine}/{slug}"))).unwrap()
    }

    fn named(engine: &str, slug: &str, name: &str) -> Container {
        all(engine, slug)
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{engine}/{slug}: no {name}"))
    }

    const ENGINES: [&str; 2] = ["docker", "podman"];

    #[test]
    fn a_default_container_has_zero_values_on_both_engines() {
        for engine in ENGINES {
            let c = &all(engine, "containers-inspect-created.json")[0].config;
            assert_eq!(c.restart.policy, RestartName::No, "{engine}");
            assert_eq!(c.restart.max_retries, 0);
            assert_eq!(c.limits.memory, None);
            assert_eq!(c.limits.cpus, None);
            assert!(!c.init && !c.read_only && !c.privileged && !c.tty);
            assert!(c.healthcheck.is_none(), "{engine}");
            assert_eq!(c.entrypoint, None, "{engine}");
            assert!(!c.hostname.is_empty());
            assert!(!c.log.driver.is_empty());
        }
        // podman's default pids limit is its containers.conf default, a real limit.
        let podman = &all("podman", "containers-inspect-created.json")[0].config;
        assert_eq!(podman.limits.pids_limit, Some(2048));
        let docker = &all("docker", "containers-inspect-created.json")[0].config;
        assert_eq!(docker.limits.pids_limit, None);
    }

    #[test]
    fn limits_and_cpus_from_either_form() {
        for engine in ENGINES {
            let l = named(engine, "inspect-flags-limits.json", "dhf-limits")
                .config
                .limits;
            assert_eq!(l.memory, Some(64 << 20), "{engine}");
            assert_eq!(l.memory_swap, Some(128 << 20));
            assert_eq!(l.memory_reservation, Some(32 << 20));
            assert_eq!(l.cpus, Some(0.5), "{engine}: quota/period");
            assert_eq!((l.cpu_quota, l.cpu_period), (Some(50_000), Some(100_000)));
            assert_eq!(l.cpu_shares, Some(512));
            assert_eq!(l.cpuset_cpus.as_deref(), Some("0-1"));
            assert_eq!(l.pids_limit, Some(50));
            let cpus = named(engine, "inspect-flags-limits.json", "dhf-cpus")
                .config
                .limits;
            assert_eq!(cpus.cpus, Some(1.5), "{engine}: --cpus");
        }
    }

    #[test]
    fn process_settings_and_the_entrypoint_forms() {
        for engine in ENGINES {
            let p = named(engine, "inspect-flags-proc.json", "dhf-proc").config;
            assert_eq!(p.user, "1000:1000");
            assert_eq!(p.workdir, "/tmp");
            assert_eq!(p.hostname, "dhf-host");
            assert!(p.tty && p.interactive && p.init && p.read_only, "{engine}");
            assert_eq!(p.entrypoint, Some(vec!["/bin/sh".to_string()]), "{engine}");
            assert_eq!(p.cmd, ["-c", "sleep 300"]);
            let forms = |name| {
                named(engine, "inspect-flags-entrypoint-forms.json", name)
                    .config
                    .entrypoint
            };
            assert_eq!(
                forms("dhf-ep-space"),
                Some(vec!["sh -c".to_string()]),
                "{engine}: one word"
            );
            assert_eq!(forms("dhf-ep-empty"), None, "{engine}");
        }
        // docker takes a JSON array given to --entrypoint as one literal word; podman reads it.
        let array = |engine| {
            named(
                engine,
                "inspect-flags-entrypoint-forms.json",
                "dhf-ep-array",
            )
            .config
            .entrypoint
            .unwrap()
        };
        assert_eq!(array("docker"), [r#"["/bin/sh","-c"]"#]);
        assert_eq!(array("podman"), ["/bin/sh", "-c"]);
    }

    #[test]
    fn healthcheck_config_and_state() {
        for engine in ENGINES {
            let slug = match engine {
                "docker" => "inspect-health-settled.json",
                _ => "inspect-health-after-manual-runs.json",
            };
            let ok = named(engine, slug, "dhf-hc-ok");
            let hc = ok.config.healthcheck.as_ref().unwrap();
            assert_eq!(hc.test, ["CMD-SHELL", "echo ok; true"]);
            assert_eq!(hc.interval_ms, Some(1000));
            assert_eq!(hc.timeout_ms, Some(2000));
            assert_eq!(hc.start_period_ms, Some(3000));
            assert_eq!(hc.retries, Some(2));
            assert!(!hc.is_disabled());
            let health = ok.state.health.unwrap();
            assert_eq!(
                health.last_output.as_deref(),
                Some("ok"),
                "{engine}: trailing newline gone"
            );
            assert_eq!(health.last_exit_code, Some(0));
            let bad = named(engine, slug, "dhf-hc-bad").state.health.unwrap();
            assert!(bad.failing_streak >= 2, "{engine}");
            let out = bad.last_output.unwrap();
            assert!(
                out.contains("out") && out.contains("failing"),
                "{engine}: {out:?}"
            );
            let none = named(engine, slug, "dhf-hc-none");
            assert!(none.config.healthcheck.unwrap().is_disabled());
            assert!(none.state.health.is_none(), "{engine}");
        }
    }

    #[test]
    fn log_config_reads_podmans_size_and_tag_as_options() {
        let docker = named("docker", "inspect-flags-log.json", "dhf-log-json")
            .config
            .log;
        assert_eq!(docker.driver, "json-file");
        assert_eq!(docker.options["max-size"], "1m");
        assert_eq!(docker.options["max-file"], "2");
        let podman = named("podman", "inspect-flags-log.json", "dhf-log-json")
            .config
            .log;
        assert_eq!(podman.driver, "json-file");
        assert_eq!(podman.options["max-size"], "1MB");
        assert!(podman.path.unwrap().ends_with("ctr.log"));
        let tagged = named("podman", "inspect-flags-log.json", "dhf-log-local")
            .config
            .log;
        assert_eq!(tagged.options["tag"], "dhf");
        for engine in ENGINES {
            let none = named(engine, "inspect-flags-log.json", "dhf-log-none")
                .config
                .log;
            assert_eq!(none.driver, "none");
        }
    }

    #[test]
    fn capabilities_effective_set_on_both_engines() {
        for engine in ENGINES {
            let sec = named(engine, "inspect-flags-sec.json", "dhf-sec")
                .config
                .capabilities;
            assert_eq!(
                sec.effective.unwrap(),
                ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
                "{engine}: --cap-drop ALL --cap-add CHOWN,NET_BIND_SERVICE"
            );
        }
        let docker = named("docker", "inspect-flags-sec.json", "dhf-sec")
            .config
            .capabilities;
        assert_eq!(docker.dropped, ["ALL"], "docker records the request");
        let podman = named("podman", "inspect-flags-sec.json", "dhf-sec")
            .config
            .capabilities;
        assert_eq!(
            podman.dropped.len(),
            12,
            "podman: the difference to docker's defaults"
        );
        let default = &all("podman", "containers-inspect-created.json")[0]
            .config
            .capabilities;
        assert_eq!(
            default.effective.as_ref().unwrap().len(),
            11,
            "podman's own default set"
        );
        let default = &all("docker", "containers-inspect-created.json")[0]
            .config
            .capabilities;
        assert_eq!(
            default.effective.as_ref().unwrap().len(),
            14,
            "docker's default set"
        );
        for engine in ENGINES {
            assert!(
                named(engine, "inspect-flags-privileged.json", "dhf-priv")
                    .config
                    .privileged
            );
        }
        assert!(named("docker", "inspect-flags-privileged.json", "dhf-priv")
            .config
            .capabilities
            .effective
            .is_none());
    }

    #[test]
    fn restart_policy_and_retries() {
        for engine in ENGINES {
            let c = &all(engine, "containers-inspect-restarting.json")[0].config;
            assert_ne!(c.restart.policy, RestartName::No, "{engine}");
        }
    }

    #[test]
    fn env_values_stay_out_of_debug_and_json() {
        let c = &all("podman", "containers-inspect-full.json")[0];
        let path = c.config.env.value("PATH").unwrap().to_string();
        assert!(c.raw.to_string().contains(&path));
        let json = serde_json::to_string(c).unwrap();
        assert!(!json.contains(&path), "raw and config show names only");
        assert!(!format!("{:?}", c.config).contains(&path));
    }

    #[test]
    fn raw_is_written_as_the_copy_without_env_values_shows_it() {
        let mut raw: serde_json::Value =
            serde_json::from_slice(&capture("podman/containers-inspect-full.json")).unwrap();
        let config = raw[0]["Config"].as_object_mut().unwrap();
        config.insert(
            "CreateCommand".into(),
            serde_json::json!([
                "podman",
                "run",
                "-e",
                "A=1",
                "--env",
                "B=2",
                "--env=C=3",
                "-eD=4",
                "-e",
                5,
                "E=5",
                "-p",
                "80",
                "img"
            ]),
        );
        config.insert(
            "Env".into(),
            serde_json::json!(["TOKEN=s3cret", 7, "PATH=/bin"]),
        );
        for object in raw.as_array().unwrap() {
            let mut written = Vec::new();
            super::serialize_raw(object, &mut serde_json::Serializer::new(&mut written)).unwrap();
            let copy = serde_json::to_vec(&super::without_env_values(object)).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(copy).unwrap()
            );
            assert_eq!(
                super::without_env_values(object)["Config"]["CreateCommand"],
                serde_json::json!([
                    "podman", "run", "-e", "A", "--env", "B", "--env=C", "-eD", "-e", 5, "E", "-p",
                    "80", "img"
                ])
            );
        }
        for other in [serde_json::json!(null), serde_json::json!({"Config": 1})] {
            let mut written = Vec::new();
            super::serialize_raw(&other, &mut serde_json::Serializer::new(&mut written)).unwrap();
            assert_eq!(written, serde_json::to_vec(&other).unwrap());
        }
    }
}

//! The differences between docker and podman that dockhand must know, in one
//! table. Parsers and plans ask this table instead of matching engine names.

use serde::Serialize;

use crate::decode::lines::PartStamps;

/// Which CLI dialect the engine command speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EngineKind {
    /// Docker CLI (also the default for unknown CLIs).
    Docker,
    /// Podman CLI.
    Podman,
}

/// One engine's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Global flag naming the daemon endpoint (`--host` / `--url`).
    pub host_flag: &'static str,
    /// Global flag naming a saved context/connection (`--context` / `--connection`).
    pub context_flag: &'static str,
    /// Arguments asking `version`, `info` and `events` for JSON (one
    /// object per line from `events`).
    pub json_format: &'static [&'static str],
    /// Whether the engine has a daemon that can be down (rootful local
    /// podman has none: every command is the engine).
    pub has_daemon: bool,
    /// Environment variables that pick the endpoint, shown by `check`.
    pub endpoint_env: &'static [&'static str],
    /// The network containers join when none is given.
    pub default_network: &'static str,
    /// Whether `network inspect` lists the attached containers (podman's
    /// does not: dockhand asks the running containers instead).
    pub network_inspect_lists_containers: bool,
    /// Extra `save` arguments needed to put several images in one archive
    /// (podman otherwise reads the extra names as tags of the first).
    pub save_many: &'static [&'static str],
    /// Variable choosing the classic builder or BuildKit (`None`: the engine
    /// has one builder, buildah for podman).
    pub buildkit_env: Option<&'static str>,
    /// Where `logs --timestamps` puts the timestamps of the later parts of a
    /// line stored in parts (docker: every 16 KiB; podman: after any write).
    pub log_part_stamps: PartStamps,
    /// How `logs --tail` spells "the whole log" (podman refuses `all`).
    pub tail_all: &'static str,
    /// `events --until T` with T in the past prints nothing at all (podman
    /// 4.3): ask with `--stream=false` instead and stop at T ourselves.
    pub events_past_until_empty: bool,
    /// Event names are podman's (`died`, `remove`, `exec_died` …), which
    /// `events` maps to and from docker's.
    pub podman_event_names: bool,
    /// Healthchecks run only when something runs them (podman schedules
    /// them with systemd timers; without systemd the health stays
    /// `starting`), so `wait-for --healthy` runs `healthcheck run` itself.
    pub run_healthcheck_to_probe: bool,
    /// `logs --follow` of a STOPPED container can end early, at a random
    /// point of a long log (podman 4.3, podman issue #21914); a stopped
    /// container's log is complete anyway, so it is read without `--follow`.
    pub follow_stopped_truncates: bool,
    /// `logs --follow` of a container that exits while the reader is behind
    /// can end before the end of the log (docker 20.10: in 2 of 24 runs of a
    /// container that wrote 3,000 lines and exited at once, its last 340–690
    /// stdout lines were missing; a later `logs` has them). What such a
    /// follow missed is read after it, `--since` the last timestamp it gave.
    pub follow_may_end_early: bool,
    /// Extra `commit` arguments needed to keep a commit message (podman's
    /// default OCI format has no comment field and fails with
    /// "messages are only compatible with the docker image format").
    pub commit_message_args: &'static [&'static str],
    /// Extra `rm --force` arguments so a running container is killed at
    /// once, as docker does (podman first waits its 10 s stop timeout).
    pub force_remove_args: &'static [&'static str],
    /// One `create`/`run` may join several networks (podman, each as
    /// `--network=NAME:ip=…,alias=…`). docker's 1.41 daemon refuses that
    /// ("Container cannot be connected to network endpoints"): dockhand
    /// creates on the first and joins the others with `network connect`
    /// before the start.
    pub several_networks_per_create: bool,
    /// `--gpus` is not a flag (podman: `run` ignores it, `create` refuses
    /// it); GPUs are CDI devices, `--device=nvidia.com/gpu=ID|all`.
    pub gpus_as_cdi_devices: bool,
    /// `private` is a word of `--pid`/`--uts` (podman); docker refuses it,
    /// and leaving the flag out means the same there.
    pub private_namespace_word: bool,
    /// Has `--domainname` (podman 4.3 does not: "unknown flag").
    pub has_domainname: bool,
    /// The only logging drivers (`None`: any, the daemon checks). podman's
    /// refusal of others is a bare "invalid argument".
    pub log_drivers: Option<&'static [&'static str]>,
    /// The only `--log-opt` keys read (`None`: the daemon checks them);
    /// podman ignores other keys without a word.
    pub log_opt_keys: Option<&'static [&'static str]>,
    /// Has `--pull newer` (podman).
    pub pull_newer: bool,
    /// `--userns` takes only `host` (docker: remapping is a daemon setting).
    pub userns_host_only: bool,
    /// Flag asking for (`=true`) or skipping (`=false`) TLS verification of
    /// a registry (`None`: docker has none; dockerd decides, and trusts
    /// 127.0.0.0/8 and its `insecure-registries` as plain http).
    pub tls_verify_flag: Option<&'static str>,
    /// Whether `pull` (without `--quiet`) prints `Digest: sha256:…`, the
    /// manifest digest it got (podman prints only the image id: the digest
    /// is read from `image inspect`).
    pub pull_prints_digest: bool,
    /// Flag of `push` writing the pushed manifest's digest to a file
    /// (`None`: docker prints `TAG: digest: sha256:… size: N` instead).
    pub push_digest_file_flag: Option<&'static str>,
    /// Variable naming the credentials file, which `pull` and `push` refuse
    /// when it names no file (podman: `stat …: no such file or directory`,
    /// even for anonymous pulls; docker treats a missing config as empty).
    pub auth_file_env_must_exist: Option<&'static str>,
    /// Whether `volume prune` takes a `label!=` filter (podman 4.3:
    /// `"label!" is an invalid volume filter`).
    pub volume_prune_negated_label: bool,
}

const DOCKER: Quirks = Quirks {
    host_flag: "--host",
    context_flag: "--context",
    json_format: &["--format", "{{json .}}"],
    has_daemon: true,
    endpoint_env: &[
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CERT_PATH",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CONFIG",
    ],
    default_network: "bridge",
    network_inspect_lists_containers: true,
    save_many: &[],
    buildkit_env: Some("DOCKER_BUILDKIT"),
    log_part_stamps: PartStamps::EveryChunk(16 * 1024),
    tail_all: "all",
    events_past_until_empty: false,
    podman_event_names: false,
    run_healthcheck_to_probe: false,
    follow_stopped_truncates: false,
    follow_may_end_early: true,
    commit_message_args: &[],
    force_remove_args: &[],
    several_networks_per_create: false,
    gpus_as_cdi_devices: false,
    private_namespace_word: false,
    has_domainname: true,
    log_drivers: None,
    log_opt_keys: None,
    pull_newer: false,
    userns_host_only: true,
    tls_verify_flag: None,
    pull_prints_digest: true,
    push_digest_file_flag: None,
    auth_file_env_must_exist: None,
    volume_prune_negated_label: true,
};

const PODMAN: Quirks = Quirks {
    host_flag: "--url",
    context_flag: "--connection",
    json_format: &["--format", "json"],
    has_daemon: false,
    endpoint_env: &["CONTAINER_HOST", "CONTAINER_CONNECTION", "DOCKER_HOST"],
    default_network: "podman",
    network_inspect_lists_containers: false,
    save_many: &["--multi-image-archive"],
    buildkit_env: None,
    log_part_stamps: PartStamps::AnyWrite,
    tail_all: "-1",
    events_past_until_empty: true,
    podman_event_names: true,
    run_healthcheck_to_probe: true,
    follow_stopped_truncates: true,
    follow_may_end_early: false,
    commit_message_args: &["--format=docker"],
    force_remove_args: &["--time=0"],
    several_networks_per_create: true,
    gpus_as_cdi_devices: true,
    private_namespace_word: true,
    has_domainname: false,
    log_drivers: Some(&["k8s-file", "json-file", "journald", "none", "passthrough"]),
    log_opt_keys: Some(&["max-size", "path", "tag"]),
    pull_newer: true,
    userns_host_only: false,
    tls_verify_flag: Some("--tls-verify"),
    pull_prints_digest: false,
    push_digest_file_flag: Some("--digestfile"),
    auth_file_env_must_exist: Some("REGISTRY_AUTH_FILE"),
    volume_prune_negated_label: false,
};

impl EngineKind {
    /// This engine's dialect.
    ///
    /// ```
    /// use dockhand::EngineKind;
    /// assert_eq!(EngineKind::Podman.quirks().host_flag, "--url");
    /// ```
    pub fn quirks(self) -> &'static Quirks {
        match self {
            EngineKind::Docker => &DOCKER,
            EngineKind::Podman => &PODMAN,
        }
    }

    /// Guess the dialect from an engine command such as `sudo -n podman`:
    /// podman if any word's file name is `podman…`, docker otherwise.
    ///
    /// ```
    /// use dockhand::EngineKind;
    /// assert_eq!(EngineKind::from_command(&["sudo", "-n", "/usr/bin/podman"]), EngineKind::Podman);
    /// assert_eq!(EngineKind::from_command(&["docker"]), EngineKind::Docker);
    /// ```
    pub fn from_command<S: AsRef<std::ffi::OsStr>>(words: &[S]) -> EngineKind {
        let is_podman = words.iter().any(|w| {
            std::path::Path::new(w.as_ref())
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("podman"))
        });
        if is_podman {
            EngineKind::Podman
        } else {
            EngineKind::Docker
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }
}

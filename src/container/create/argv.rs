//! The argv of `create` / `run --detach` for each engine: every option one
//! `--flag=value` word, `--` before the image. The differences between the
//! engines are rows of [`Quirks`](crate::engine::Quirks).

use std::path::Path;
use std::time::Duration;

use super::options::RunOptions;
use super::CREATION_TOKEN_LABEL;
use crate::engine::{Argv, EngineKind};
use crate::input::{GpuRequest, NamespaceMode, NetworkEndpoint, Signal};

/// `verb` (`create` or `run --detach`) with every option of `opts`, joining
/// `networks` (all of `opts.networks`, or only the first where the engine
/// takes one per create), the caller's env-files and then ours, and the
/// creation-token label.
pub(super) fn launch_argv(
    kind: EngineKind,
    verb: Argv,
    opts: &RunOptions,
    networks: &[NetworkEndpoint],
    env_file: Option<&Path>,
    token: &str,
) -> Argv {
    let argv = verb
        .opt("--name", opts.name.as_ref())
        .each("--publish", &opts.publish)
        .each_path("--env-file", opts.env_files.iter().map(|f| f.path()))
        // Ours last: like `-e`, it overrides the caller's env-files.
        .opt_path("--env-file", env_file)
        .each("--volume", &opts.volumes)
        .each("--volumes-from", &opts.volumes_from)
        .each("--link", &opts.links)
        .each("--label", &opts.labels);
    let argv = network_args(kind, argv, opts, networks)
        .opt("--restart", opts.restart.as_ref())
        .each("--cap-add", &opts.cap_add)
        .each("--device", &opts.devices)
        .flag_if("--privileged", opts.privileged)
        .opt("--hostname", opts.hostname.as_ref())
        .opt("--user", opts.user.as_ref())
        .opt("--workdir", opts.workdir.as_ref())
        .opt("--memory", opts.memory)
        .opt("--cpus", opts.cpus)
        .opt("--cpu-shares", opts.cpu_shares)
        .flag_if("--rm", opts.remove_on_exit)
        // Process.
        .opt("--entrypoint", opts.entrypoint.as_ref())
        .each("--group-add", &opts.group_add)
        .flag_if("--tty", opts.tty)
        .flag_if("--interactive", opts.interactive)
        .flag_if("--init", opts.init)
        .opt("--stop-signal", opts.stop_signal.as_ref().map(signal_word))
        .opt("--stop-timeout", opts.stop_timeout)
        .each_path("--label-file", opts.label_files.iter().map(|f| f.path()))
        // Filesystem.
        .each("--mount", &opts.mounts)
        .each("--tmpfs", &opts.tmpfs)
        .flag_if("--read-only", opts.read_only)
        // Network extras.
        .flag_if("--publish-all", opts.publish_all)
        .each("--expose", &opts.expose)
        .opt("--domainname", opts.domainname.as_ref())
        .each("--dns", &opts.dns)
        .each("--dns-search", &opts.dns_search)
        .each("--dns-option", &opts.dns_options)
        .each("--add-host", &opts.add_hosts)
        // Security and namespaces.
        .each("--cap-drop", &opts.cap_drop)
        .each("--security-opt", &opts.security_opts);
    let argv = gpu_args(kind, argv, opts.gpus.as_ref())
        .opt("--ipc", opts.ipc.as_ref())
        .opt("--pid", namespace(kind, opts.pid.as_ref()))
        .opt("--uts", namespace(kind, opts.uts.as_ref()))
        .opt("--cgroupns", opts.cgroupns.as_ref())
        .opt("--userns", opts.userns.as_ref())
        // Limits.
        .opt("--memory-reservation", opts.memory_reservation)
        .opt("--memory-swap", opts.memory_swap)
        .opt("--shm-size", opts.shm_size)
        .opt("--cpu-quota", opts.cpu_quota)
        .opt("--cpu-period", opts.cpu_period)
        .opt("--cpuset-cpus", opts.cpuset_cpus.as_ref())
        .opt("--pids-limit", opts.pids_limit)
        .opt("--blkio-weight", opts.blkio_weight)
        .opt("--oom-score-adj", opts.oom_score_adj)
        .each("--ulimit", &opts.ulimits)
        .each("--sysctl", &opts.sysctls)
        // Logging and health.
        .opt("--log-driver", opts.log_driver.as_ref())
        .each("--log-opt", &opts.log_opts)
        .opt("--health-cmd", opts.health.command.as_ref())
        .opt("--health-interval", opts.health.interval.map(go_duration))
        .opt("--health-timeout", opts.health.timeout.map(go_duration))
        .opt(
            "--health-start-period",
            opts.health.start_period.map(go_duration),
        )
        .opt("--health-retries", opts.health.retries)
        .flag_if("--no-healthcheck", opts.no_healthcheck)
        // Image and runtime.
        .opt("--platform", opts.platform.as_ref())
        .opt("--pull", opts.pull)
        .opt("--runtime", opts.runtime.as_ref())
        .opt("--label", Some(format!("{CREATION_TOKEN_LABEL}={token}")));
    argv.operands(
        std::iter::once(opts.image.as_str()).chain(opts.command.iter().map(String::as_str)),
    )
}

/// The network options: a mode, one network with the classic per-network
/// flags, or (podman) several networks each in its `NAME:settings` form.
fn network_args(
    kind: EngineKind,
    argv: Argv,
    opts: &RunOptions,
    networks: &[NetworkEndpoint],
) -> Argv {
    let argv = argv
        .opt("--network", opts.network_mode.as_ref())
        .opt("--mac-address", opts.mac_address);
    match networks {
        [] => argv,
        [one] => argv
            .opt("--network", Some(&one.network))
            .opt("--ip", one.ip)
            .opt("--ip6", one.ip6)
            .each("--network-alias", &one.aliases)
            .opt("--mac-address", one.mac),
        // Only engines that take several per create get several here.
        many => {
            debug_assert!(kind.quirks().several_networks_per_create);
            argv.each("--network", many.iter().map(NetworkEndpoint::podman_form))
        }
    }
}

/// GPUs: docker's `--gpus`, or the CDI devices podman names them by.
fn gpu_args(kind: EngineKind, argv: Argv, gpus: Option<&GpuRequest>) -> Argv {
    match (kind.quirks().gpus_as_cdi_devices, gpus) {
        (_, None) => argv,
        (false, Some(g)) => argv.opt("--gpus", Some(g)),
        (true, Some(GpuRequest::Devices(ids))) => argv.each(
            "--device",
            ids.iter().map(|id| format!("nvidia.com/gpu={id}")),
        ),
        // A count is refused for podman by RunOptions::validate.
        (true, Some(_)) => argv.opt("--device", Some("nvidia.com/gpu=all")),
    }
}

/// `private` where the engine has no word for its own default (docker's
/// `--pid`/`--uts`): nothing, which means the same.
fn namespace(kind: EngineKind, mode: Option<&NamespaceMode>) -> Option<&NamespaceMode> {
    match mode {
        Some(NamespaceMode::Private) if !kind.quirks().private_namespace_word => None,
        m => m,
    }
}

/// A signal as docker records what users write: `SIGUSR1`, or a number.
fn signal_word(signal: &Signal) -> String {
    let text = signal.to_string();
    match text.bytes().all(|b| b.is_ascii_digit()) {
        true => text,
        false => format!("SIG{text}"),
    }
}

/// A duration in Go's syntax (`30s`, `1500ms`, `250us`), which both
/// engines parse; whole units where possible.
pub(super) fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    match nanos {
        0 => "0s".into(),
        n if n % 1_000_000_000 == 0 => format!("{}s", n / 1_000_000_000),
        n if n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}us", n / 1_000),
        n => format!("{n}ns"),
    }
}

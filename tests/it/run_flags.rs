//! The run/create flags of issue 13 on the real docker and podman.
//!
//! Per flag group, one container made by `dockhand create`/`run -d` and one
//! made by the engine's own CLI with the same flags; their `inspect` is
//! compared field by field (`Config`, `HostConfig`, `Path`/`Args`, mounts,
//! per-network settings, podman's capability sets) after masking what
//! differs between any two containers: ids and names (and what is derived
//! from them: hostnames, aliases, paths), creation tokens, times, podman's
//! `CreateCommand` (the argv itself) and randomly chosen host ports. Many
//! flags share one container pair, so the module stays cheap. Plus: the
//! attached run (`-i`, `-t`), docker's several-networks plan and its
//! rollback, `--mac-address` on both docker CLIs, and a matrix of bad
//! values that must exit 2 before any engine call.
//!
//! Flags this machine cannot run (vendor-docs/run-flags.md, "cannot work
//! here": `--gpus`, `--userns` other than host, syslog/journald logging,
//! foreign platforms) are tested by their argv only (unit tests in
//! src/container/create).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::*;
use dockhand::exec::Cmd;

/// The container command of started groups: ends at once on SIGTERM.
const TRAPPING: &[&str] = &["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];

/// Containers (removed with their anonymous volumes), then networks and
/// volumes, removed when dropped (also on panic).
struct Made {
    engine: &'static str,
    containers: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Made {
    fn new(engine: &'static str) -> Made {
        Made {
            engine,
            containers: Vec::new(),
            networks: Vec::new(),
            volumes: Vec::new(),
        }
    }

    fn container(&mut self, prefix: &str) -> String {
        let name = unique(prefix);
        self.containers.push(name.clone());
        name
    }

    /// A user network with an IPv4 (and optionally an IPv6) subnet.
    fn network(&mut self, v4: &str, v6: Option<&str>) -> String {
        let name = unique("rf-net").to_lowercase();
        let mut cmd = Cmd::new(self.engine)
            .args(["network", "create", "--subnet", v4])
            .args(labels());
        if let Some(v6) = v6 {
            cmd = cmd.args(["--ipv6", "--subnet", v6]);
        }
        let r = sh(cmd.arg(&name));
        assert_eq!(r.code, 0, "{}: {r:?}", self.engine);
        self.networks.push(name.clone());
        name
    }

    fn volume(&mut self) -> String {
        let name = unique("rf-vol").to_lowercase();
        let r = sh(Cmd::new(self.engine)
            .args(["volume", "create"])
            .args(labels())
            .arg(&name));
        assert_eq!(r.code, 0, "{}: {r:?}", self.engine);
        self.volumes.push(name.clone());
        name
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        let e = self.engine;
        if !self.containers.is_empty() {
            let fast: &[&str] = if e == "podman" { &["--time=0"] } else { &[] };
            sh(Cmd::new(e)
                .args(["rm", "-f", "-v"])
                .args(fast)
                .args(&self.containers));
        }
        if !self.networks.is_empty() {
            sh(Cmd::new(e).args(["network", "rm"]).args(&self.networks));
        }
        if !self.volumes.is_empty() {
            sh(Cmd::new(e).args(["volume", "rm", "-f"]).args(&self.volumes));
        }
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The raw `inspect` object of one container.
fn inspect(engine: &str, name: &str) -> Value {
    let r = sh(Cmd::new(engine).args(["inspect", "--type", "container", name]));
    assert_eq!(r.code, 0, "{engine}: {r:?}");
    let all: Value = serde_json::from_str(&r.stdout).expect("inspect JSON");
    all[0].clone()
}

/// What is compared of an inspect: the configuration, not the identity.
fn view(c: &Value) -> Value {
    let id = c["Id"].as_str().unwrap_or_default().to_string();
    let name = c["Name"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let mut mounts: Vec<Value> = c["Mounts"].as_array().cloned().unwrap_or_default();
    mounts.sort_by_key(|m| m["Destination"].as_str().unwrap_or_default().to_string());
    let mut v = serde_json::json!({
        "Config": c["Config"],
        "HostConfig": c["HostConfig"],
        "Path": c["Path"],
        "Args": c["Args"],
        "Mounts": mounts,
        "Networks": c["NetworkSettings"]["Networks"],
        "EffectiveCaps": c["EffectiveCaps"],
        "BoundingCaps": c["BoundingCaps"],
        "OCIRuntime": c["OCIRuntime"],
        "Platform": c["Platform"],
    });
    let config = v["Config"].as_object_mut().expect("Config");
    // podman: the create argv itself; ours differs by construction.
    config.remove("CreateCommand");
    if let Some(labels) = config.get_mut("Labels").and_then(Value::as_object_mut) {
        labels.remove(dockhand::container::CREATION_TOKEN_LABEL);
    }
    // podman: the creation time.
    if let Some(annotations) = config.get_mut("Annotations").and_then(Value::as_object_mut) {
        annotations.remove("io.kubernetes.cri-o.Created");
    }
    for net in v["Networks"]
        .as_object_mut()
        .into_iter()
        .flat_map(|n| n.values_mut())
    {
        if let Some(net) = net.as_object_mut() {
            // Per-endpoint ids, and what the engine picks at random (static
            // addresses are checked where they are asked for).
            for key in [
                "EndpointID",
                "NetworkID",
                "MacAddress",
                "IPAddress",
                "GlobalIPv6Address",
            ] {
                net.remove(key);
            }
        }
    }
    mask(&mut v, &id, &name);
    // Lists that come in any order (after masking: they hold random names):
    // podman's environment, docker's `-v` (its CLI keeps them in a map).
    for (section, key) in [("Config", "Env"), ("HostConfig", "Binds")] {
        if let Some(items) = v[section][key].as_array_mut() {
            items.sort_by_key(|i| i.to_string());
        }
    }
    v
}

/// Replace ids and names (and what contains them) by placeholders, and
/// randomly chosen host ports by `<random>`.
fn mask(v: &mut Value, id: &str, name: &str) {
    match v {
        Value::String(s) => {
            let masked = s
                .replace(id, "<id>")
                .replace(&id[..12.min(id.len())], "<id>")
                .replace(name, "<name>");
            *s = mask_hex64(&masked);
        }
        Value::Array(items) => items.iter_mut().for_each(|i| mask(i, id, name)),
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let random_port = key == "HostPort"
                    && value
                        .as_str()
                        .and_then(|p| p.parse::<u32>().ok())
                        .is_some_and(|p| p >= 32768);
                match random_port {
                    true => *value = Value::String("<random>".into()),
                    false => mask(value, id, name),
                }
            }
        }
        _ => {}
    }
}

/// Anonymous volumes (and other objects) have random 64-hex names, also
/// inside paths.
fn mask_hex64(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('/')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "<hex>" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Every path where `a` and `b` differ, with both values.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                diff(&format!("{path}.{k}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(format!("{path}: dockhand {a} / raw {b}")),
        _ => {}
    }
}

/// How a group's two containers are made.
#[derive(Clone, Copy)]
enum Make {
    /// `create` (the configuration is all that is compared).
    Create,
    /// `run -d` (also proves the engine starts it with these flags).
    Run,
}

/// The raw CLI's side of a comparison: its flags (`None`: dockhand's) and
/// the commands it needs after its `create` (docker's several networks).
struct Raw<'a> {
    flags: Option<&'a [String]>,
    steps: &'a dyn Fn(&str) -> Vec<Vec<String>>,
}

const SAME: Raw<'static> = Raw {
    flags: None,
    steps: &no_steps,
};

/// Make a container with dockhand (`--verbose`), inspect and remove it,
/// then make one with the raw CLI, and compare their inspects. One at a
/// time, so static addresses and fixed host ports do not collide. Returns
/// dockhand's run and its inspect.
fn compare(
    engine: &'static str,
    made: &mut Made,
    group: &str,
    make: Make,
    flags: &[String],
    raw: Raw,
    command: &[&str],
) -> (Ran, Value) {
    let ours = made.container(&format!("rf-{group}-dh"));
    let verb: &[&str] = match make {
        Make::Create => &["create"],
        Make::Run => &["run", "-d"],
    };
    let mut args = words(&["--verbose"]);
    args.extend(words(verb));
    args.extend(["--name".into(), ours.clone()]);
    args.extend(labels());
    args.extend(flags.iter().cloned());
    args.push(IMAGE.into());
    args.extend(words(command));
    let ran = dockhand_on(engine, &args);
    assert_eq!(ran.code, 0, "{engine} {group}: dockhand {args:?}: {ran:?}");
    let mine = inspect(engine, &ours);
    let fast: &[&str] = if engine == "podman" {
        &["--time=0"]
    } else {
        &[]
    };
    let r = sh(Cmd::new(engine)
        .args(["rm", "-f", "-v"])
        .args(fast)
        .arg(&ours));
    assert_eq!(r.code, 0, "{engine}: {r:?}");

    let theirs = made.container(&format!("rf-{group}-raw"));
    let steps = (raw.steps)(&theirs);
    let raw_verb: &[&str] = match (&make, steps.is_empty()) {
        (Make::Run, true) => &["run", "-d"],
        _ => &["create"],
    };
    let r = sh(Cmd::new(engine)
        .args(raw_verb)
        .args(["--name", &theirs])
        .args(labels())
        .args(raw.flags.unwrap_or(flags))
        .arg(IMAGE)
        .args(command));
    assert_eq!(r.code, 0, "{engine} {group}: raw: {r:?}");
    for step in &steps {
        let r = sh(Cmd::new(engine).args(step));
        assert_eq!(r.code, 0, "{engine} {group}: raw {step:?}: {r:?}");
    }

    let mut differences = Vec::new();
    diff(
        "",
        &view(&mine),
        &view(&inspect(engine, &theirs)),
        &mut differences,
    );
    assert!(
        differences.is_empty(),
        "{engine} {group}: dockhand and the raw CLI made different containers:\n{}",
        differences.join("\n")
    );
    (ran, mine)
}

fn no_steps(_: &str) -> Vec<Vec<String>> {
    Vec::new()
}

fn flags(list: &[&str]) -> Vec<String> {
    words(list)
}

/// [`compare`] on every engine, with the flags `flags_for` gives for it
/// (after making what they need: volumes, networks).
fn same_as_raw(
    group: &str,
    make: Make,
    flags_for: impl Fn(&str, &mut Made) -> Vec<String>,
    command: &[&str],
) {
    for engine in engines() {
        let mut made = Made::new(engine);
        let f = flags_for(engine, &mut made);
        compare(engine, &mut made, group, make, &f, SAME, command);
    }
}

/// Poll `ready` every 100 ms for up to 10 s.
fn poll(ready: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if ready() {
            return true;
        }
        dockhand::exec::sleep(std::time::Duration::from_millis(100)).expect("not interrupted");
    }
    false
}

#[test]
fn process_flags_match_the_raw_cli() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("app.env");
    std::fs::write(&env_file, "# app\nRF_FROM_FILE=1\nRF_TRAIL=t  \n").unwrap();
    let label_file = dir.path().join("labels");
    std::fs::write(&label_file, "rf.from-file=yes\nrf.note=a,b=c\n").unwrap();
    let flags_for = |engine: &str, _: &mut Made| {
        let mut f = flags(&[
            "--entrypoint",
            "/bin/sh",
            "--user",
            "1000:1000",
            "--workdir",
            "/tmp",
            "--group-add",
            "123",
            "--tty",
            "--interactive",
            "--init",
            "--stop-signal",
            "SIGUSR1",
            "--stop-timeout",
            "7",
            "--restart",
            "on-failure:3",
            "--hostname",
            "web1",
            "--cpus",
            "0.5",
            "-e",
            "RF_PLAIN=x y",
            "--env-file",
            env_file.to_str().unwrap(),
            "--label-file",
            label_file.to_str().unwrap(),
        ]);
        if engine == "docker" {
            f.extend(flags(&["--domainname", "corp.example"]));
        }
        f
    };
    // The entrypoint is sh: the command is its arguments.
    let command = ["-c", "trap 'exit 0' TERM; sleep 600 & wait"];
    same_as_raw("proc", Make::Run, flags_for, &command);
}

#[test]
fn mount_flags_match_the_raw_cli() {
    let dir = tempfile::tempdir().unwrap();
    let bind = dir.path().to_str().unwrap().to_string();
    let flags_for = |_: &str, made: &mut Made| {
        let vol = made.volume();
        flags(&[
            "-v",
            &format!("{vol}:/data:ro"),
            "-v",
            "/anon",
            "-v",
            &format!("{bind}:/b:rw"),
            "--mount",
            &format!("type=bind,source={bind},target=/m,readonly=true"),
            "--mount",
            "type=volume,target=/mv",
            "--mount",
            "type=tmpfs,target=/mt,tmpfs-size=1048576,tmpfs-mode=1770",
            "--tmpfs",
            "/scratch:size=8m,noexec",
            "--read-only",
        ])
    };
    same_as_raw("mounts", Make::Run, flags_for, TRAPPING);
}

#[test]
fn security_and_namespace_flags_match_the_raw_cli() {
    let f = flags(&[
        "--cap-drop",
        "ALL",
        "--cap-add",
        "CAP_NET_BIND_SERVICE",
        "--cap-add",
        "CAP_CHOWN",
        "--security-opt",
        "no-new-privileges",
        "--security-opt",
        "seccomp=unconfined",
        "--ipc",
        "shareable",
        "--pid",
        "host",
        "--cgroupns",
        "private",
        "--uts",
        "host",
        "--userns",
        "host",
        "--no-healthcheck",
    ]);
    same_as_raw("sec", Make::Run, |_, _| f.clone(), TRAPPING);
}

#[test]
fn limit_flags_match_the_raw_cli() {
    let f = flags(&[
        "--memory",
        "67108864",
        "--memory-reservation",
        "33554432",
        "--memory-swap",
        "134217728",
        "--shm-size",
        "134217728",
        "--cpu-shares",
        "512",
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "100000",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "100",
        "--blkio-weight",
        "500",
        "--oom-score-adj",
        "500",
        "--ulimit",
        "nofile=1024:2048",
        "--ulimit",
        "nproc=512:512",
        "--sysctl",
        "net.ipv4.ip_unprivileged_port_start=80",
    ]);
    same_as_raw("limits", Make::Run, |_, _| f.clone(), TRAPPING);
}

#[test]
fn network_flags_match_the_raw_cli() {
    let flags_for = |engine: &str, made: &mut Made| {
        let n = std::process::id() % 200 + 20;
        let net = made.network(
            &format!("10.{n}.17.0/24"),
            Some(&format!("fd00:dead:{n}::/64")),
        );
        let mut f = flags(&[
            "--network",
            &net,
            "--ip",
            &format!("10.{n}.17.5"),
            "--ip6",
            &format!("fd00:dead:{n}::5"),
            "--network-alias",
            "a1",
            "--dns",
            "192.0.2.53",
            "--dns-search",
            "corp.example",
            "--dns-option",
            "ndots:2",
            "--add-host",
            "db.test:192.0.2.10",
            "--add-host",
            "db6:2001:db8::10",
            "--expose",
            "7000-7001/udp",
            "--publish-all",
            "-p",
            "19000-19002:9000-9002",
            "-p",
            "127.0.0.1::80",
            "-p",
            "19053:53/udp",
            "--hostname",
            "web1",
        ]);
        if engine == "podman" {
            // docker 28.2 cannot send a MAC to this 1.41 daemon (see below).
            f.extend(flags(&["--mac-address", "02:42:0a:11:00:05"]));
        }
        f
    };
    same_as_raw("net", Make::Create, flags_for, &[]);
}

#[test]
fn log_health_image_and_runtime_flags_match_the_raw_cli() {
    let f = flags(&[
        "--log-driver",
        "json-file",
        "--log-opt",
        "max-size=1m",
        "--health-cmd",
        "true",
        "--health-interval",
        "2s",
        "--health-timeout",
        "3s",
        "--health-start-period",
        "1s",
        "--health-retries",
        "4",
        "--platform",
        "linux/amd64",
        "--pull",
        "never",
        "--runtime",
        "runc",
    ]);
    same_as_raw("log", Make::Create, |_, _| f.clone(), &[]);
}

#[test]
fn several_networks_docker_connects_after_create_podman_in_one_run() {
    for engine in engines() {
        let mut made = Made::new(engine);
        let n = std::process::id() % 200 + 20;
        let a = made.network(&format!("10.{n}.18.0/24"), None);
        let b = made.network(&format!("10.{n}.19.0/24"), None);
        let (ip_a, ip_b) = (format!("10.{n}.18.5"), format!("10.{n}.19.5"));
        // dockhand gets one spelling on both engines.
        let f = flags(&[
            "--network",
            &format!("{a}:ip={ip_a},alias=front1"),
            "--network",
            &format!("{b}:ip={ip_b},alias=back1"),
        ]);
        // What docker's 1.41 daemon can do: create on one network, connect
        // the other, start (vendor-docs/run-flags.md); podman takes dockhand's.
        let docker_flags = flags(&["--network", &a, "--ip", &ip_a, "--network-alias", "front1"]);
        let docker_steps = |c: &str| {
            vec![
                words(&[
                    "network", "connect", "--ip", &ip_b, "--alias", "back1", &b, c,
                ]),
                words(&["start", c]),
            ]
        };
        let raw = match engine {
            "docker" => Raw {
                flags: Some(&docker_flags),
                steps: &docker_steps,
            },
            _ => SAME,
        };
        let (ran, mine) = compare(engine, &mut made, "multi", Make::Run, &f, raw, TRAPPING);
        if engine == "docker" {
            assert!(
                ran.stderr.contains("then connected to") && ran.stderr.contains(&b),
                "{engine}: says what it did: {ran:?}"
            );
        }
        let nets = &mine["NetworkSettings"]["Networks"];
        assert_eq!(nets[&a]["IPAddress"], ip_a.as_str(), "{engine}: {nets}");
        assert_eq!(nets[&b]["IPAddress"], ip_b.as_str(), "{engine}: {nets}");
        assert_eq!(mine["State"]["Status"], "running", "{engine}");
    }
}

#[test]
fn a_failed_network_step_removes_the_half_made_container() {
    for engine in engines() {
        let mut made = Made::new(engine);
        let n = std::process::id() % 200 + 20;
        let a = made.network(&format!("10.{n}.20.0/24"), None);
        let name = made.container("rf-rollback");
        let absent = unique("rf-absent-net").to_lowercase();
        let mut args = words(&["run", "-d", "--name", &name]);
        args.extend(labels());
        args.extend(words(&[
            "--network",
            &a,
            "--network",
            &absent,
            IMAGE,
            "true",
        ]));
        let r = dockhand_on(engine, &args);
        assert_eq!(
            r.code, 3,
            "{engine}: the missing network is not found: {r:?}"
        );
        assert!(r.stderr.contains(&absent), "{engine}: {r:?}");
        let left = sh(Cmd::new(engine).args(["inspect", "--type", "container", &name]));
        assert_ne!(left.code, 0, "{engine}: nothing is left behind: {left:?}");
    }
}

#[test]
fn mac_address_works_where_the_engine_can_and_is_refused_with_the_reason_where_not() {
    let mut made = Made::new("docker");
    // The 20.10 CLI speaks the daemon's API: the MAC is set.
    if Path::new("/usr/bin/docker").exists() && engines().contains(&"docker") {
        let name = made.container("rf-mac");
        let mut args = words(&["run", "-d", "--name", &name]);
        args.extend(labels());
        args.extend(words(&["--mac-address", "02:42:ac:11:00:99", IMAGE]));
        args.extend(words(TRAPPING));
        let r = dockhand_on("/usr/bin/docker", &args);
        assert_eq!(r.code, 0, "{r:?}");
        let c = inspect("docker", &name);
        assert_eq!(c["Config"]["MacAddress"], "02:42:ac:11:00:99");
        assert_eq!(
            c["NetworkSettings"]["Networks"]["bridge"]["MacAddress"],
            "02:42:ac:11:00:99"
        );
    }
    // The 28.2 CLI (first on PATH) would refuse it against API 1.41:
    // dockhand says so before creating anything.
    let client = sh(Cmd::new("docker").args([
        "version",
        "--format",
        "{{.Client.DefaultAPIVersion}} {{.Server.APIVersion}}",
    ]));
    if client.stdout.trim() == "1.50 1.41" {
        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let counted = format!(
            "{}/tests/fixtures/count-calls {} docker",
            env!("CARGO_MANIFEST_DIR"),
            calls.display()
        );
        let name = made.container("rf-mac-refused");
        let r = dockhand_on(
            &counted,
            [
                "run",
                "-d",
                "--name",
                &name,
                "--mac-address",
                "02:42:ac:11:00:98",
                IMAGE,
            ],
        );
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr.contains("--mac-address")
                && r.stderr.contains("1.44")
                && r.stderr.contains("1.41"),
            "{r:?}"
        );
        let called = std::fs::read_to_string(&calls).unwrap_or_default();
        assert!(
            called.lines().all(|l| l.starts_with("docker version")),
            "only the version was asked: {called}"
        );
    }
}

#[test]
fn attached_run_passes_stdin_with_i_and_refuses_t_without_a_terminal() {
    for engine in engines() {
        let r = sh(Cmd::new(bin())
            .args(["--engine", engine, "run", "-i", "--rm"])
            .args(["--network", "none"])
            .args(labels())
            .args([IMAGE, "sh", "-c", "read line; echo got:$line; exit 7"])
            .stdin(b"hello\n".to_vec()));
        assert_eq!(r.code, 7, "{engine}: the container's exit code: {r:?}");
        assert!(r.stdout.contains("got:hello"), "{engine}: {r:?}");

        let dir = tempfile::tempdir().unwrap();
        let calls = dir.path().join("calls");
        let counted = format!(
            "{}/tests/fixtures/count-calls {} {engine}",
            env!("CARGO_MANIFEST_DIR"),
            calls.display()
        );
        for tty in [&["-t"][..], &["-i", "-t"]] {
            let r = sh(Cmd::new(bin())
                .args(["--engine", &counted, "run"])
                .args(tty)
                .args([IMAGE, "true"])
                .stdin(Vec::new()));
            assert_eq!(r.code, 2, "{engine} {tty:?}: {r:?}");
            assert!(r.stderr.contains("terminal"), "{engine}: {r:?}");
        }
        assert!(
            !calls.exists(),
            "{engine}: {:?}",
            std::fs::read_to_string(&calls)
        );
    }
}

#[test]
fn run_it_in_a_terminal_talks_to_the_container() {
    if sh(Cmd::new("tmux").arg("-V")).code != 0 {
        eprintln!("tmux missing (scripts/setup-engine.d/50-tmux.sh installs it): skipped");
        return;
    }
    for engine in engines() {
        let server = unique("rf-tmux");
        let dir = tempfile::tempdir().unwrap();
        let status = dir.path().join("status");
        let line = format!(
            "{} --engine {engine} run -it --rm --network none {} {IMAGE} sh; echo $? > {}",
            bin(),
            labels().join(" "),
            status.display()
        );
        let tmux = |args: &[&str]| sh(Cmd::new("tmux").args(["-L", &server]).args(args));
        let r = tmux(&["new-session", "-d", "-x", "100", "-y", "30", &line]);
        assert_eq!(r.code, 0, "{r:?}");
        let pane = || tmux(&["capture-pane", "-p"]).stdout;
        let shows = |needle: &str| poll(|| pane().contains(needle));
        assert!(shows("/ #"), "{engine}: no shell prompt: {}", pane());
        tmux(&[
            "send-keys",
            "echo typed-$((6*7)); [ -t 0 ] && echo on-a-tty",
            "Enter",
        ]);
        assert!(shows("typed-42"), "{engine}: {}", pane());
        assert!(shows("on-a-tty"), "{engine}: {}", pane());
        tmux(&["send-keys", "exit 3", "Enter"]);
        poll(|| status.exists());
        let code = std::fs::read_to_string(&status).unwrap_or_default();
        tmux(&["kill-server"]);
        assert_eq!(code.trim(), "3", "{engine}: {}", pane());
    }
}

/// Bad values of the run/create flags, each with the flag its message must
/// name: exit 2 before any engine call, on both engines.
fn bad_values() -> Vec<(Vec<&'static str>, &'static str)> {
    let cases: Vec<(&[&'static str], &'static str)> = vec![
        (&["--entrypoint=-x"], "--entrypoint"),
        (&["--entrypoint", "[\"sh\",\"-c\"]"], "--entrypoint"),
        (&["--tmpfs", "scratch"], "--tmpfs"),
        (&["--tmpfs", "/x:size=abc"], "--tmpfs"),
        (&["--tmpfs", "/x:mode=999"], "--tmpfs"),
        (&["--mount", "type=bogus,dst=/x"], "--mount"),
        (&["--mount", "type=volume,src=v"], "--mount"),
        (&["--mount", "type=volume,src=v,dst=/x,bogus=1"], "--mount"),
        (&["--mount", "type=bind,src=rel,dst=/x"], "--mount"),
        (&["-v", "data"], "--volume"),
        (&["-v", "v:/x:bogus"], "--volume"),
        (&["--volume=-x:/x"], "--volume"),
        (&["-v", "v:/x:ro:extra"], "--volume"),
        (&["--cap-add", "BOGUS"], "--cap-add"),
        (&["--cap-drop", "CAP_BOGUS"], "--cap-drop"),
        (&["--security-opt", "bogus"], "--security-opt"),
        (
            &["--security-opt", "seccomp=/nonexistent/profile.json"],
            "--security-opt",
        ),
        (&["--ulimit", "nofile=a:b"], "--ulimit"),
        (&["--ulimit", "nofile=2048:1024"], "--ulimit"),
        (&["--ulimit", "bogus=1"], "--ulimit"),
        (&["--ulimit", "nofile"], "--ulimit"),
        (&["--sysctl", "vm.swappiness=1"], "--sysctl"),
        (&["--sysctl", "kernel.bogus=1"], "--sysctl"),
        (&["--sysctl", "net.ipv4.ip_forward"], "--sysctl"),
        (&["--dns", "bogus"], "--dns"),
        (&["--dns-search=-x"], "--dns-search"),
        (&["--dns-option", "ndots:x"], "--dns-option"),
        (&["--add-host", "db.test"], "--add-host"),
        (&["--add-host", "db.test:1.2.3"], "--add-host"),
        (&["--shm-size=-1"], "--shm-size"),
        (&["--shm-size", "abc"], "--shm-size"),
        (&["--pids-limit", "-2"], "--pids-limit"),
        (&["--cpuset-cpus", "abc"], "--cpuset-cpus"),
        (&["--cpu-quota", "999"], "--cpu-quota"),
        (&["--cpu-quota=-1"], "--cpu-quota"),
        (&["--cpu-period", "2000000"], "--cpu-period"),
        (&["--memory-reservation=-1"], "--memory-reservation"),
        (&["--memory-swap", "-2"], "--memory-swap"),
        (&["--memory-swap", "128m"], "--memory-swap"),
        (&["--memory", "4m"], "--memory"),
        (
            &["--memory", "64m", "--memory-reservation", "128m"],
            "--memory-reservation",
        ),
        (&["--blkio-weight", "5"], "--blkio-weight"),
        (&["--oom-score-adj", "2000"], "--oom-score-adj"),
        (&["--log-driver=-x"], "--log-driver"),
        (&["--log-opt", "max-size=abc"], "--log-opt"),
        (&["--log-opt", "max-size"], "--log-opt"),
        (&["--platform", "bogus"], "--platform"),
        (&["--pull", "bogus"], "--pull"),
        (&["--stop-signal", "SIGBOGUS"], "--stop-signal"),
        (&["--stop-signal", "99"], "--stop-signal"),
        (&["--stop-signal=-x"], "--stop-signal"),
        (&["--stop-timeout=-5"], "--stop-timeout"),
        (&["--stop-timeout", "abc"], "--stop-timeout"),
        (&["--health-cmd", ""], "--health-cmd"),
        (&["--health-interval", "abc"], "--health-interval"),
        (&["--health-interval=-1s"], "--health-interval"),
        (&["--health-interval", "0.0001s"], "--health-interval"),
        (&["--health-timeout", "0s"], "--health-timeout"),
        (&["--health-retries=-1"], "--health-retries"),
        (
            &["--no-healthcheck", "--health-cmd", "true"],
            "--no-healthcheck",
        ),
        (&["--ip", "1.2.3"], "--ip"),
        (&["--ip", "10.0.0.5"], "--ip"),
        (&["--ip6", "10.0.0.5"], "--ip6"),
        (&["--mac-address", "zz:00:00:00:00:00"], "--mac-address"),
        (
            &["--network", "n1", "--network", "n2", "--ip", "10.0.0.5"],
            "--network",
        ),
        (&["--network", "n1:bogus=1"], "--network"),
        (&["--network", "n1", "--network", "n1"], "--network"),
        (&["--network", "host", "--network", "n1"], "--network"),
        (
            &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
            "--sysctl",
        ),
        (&["--network", "container:db", "-p", "80"], "--publish"),
        (&["--ipc", "bogus"], "--ipc"),
        (&["--pid", "bogus"], "--pid"),
        (&["--pid", "shareable"], "--pid"),
        (&["--uts", "container:db"], "--uts"),
        (&["--uts", "host", "--hostname", "h"], "--hostname"),
        (&["--userns", "bogus"], "--userns"),
        (&["--cgroupns", "none"], "--cgroupns"),
        (&["--group-add=-x"], "--group-add"),
        (&["--group-add", "a b"], "--group-add"),
        (&["--domainname=-x"], "--domainname"),
        (&["--expose", "abc"], "--expose"),
        (&["--expose", "80/bogus"], "--expose"),
        (&["-p", "19000-19002:9000-9001"], "--publish"),
        (&["-p", "70000:80"], "--publish"),
        (&["-p", "19000:80/bogus"], "--publish"),
        (&["-p", "1.2.3:19000:80"], "--publish"),
        (&["--publish=-1:80"], "--publish"),
        (&["--label-file", "/nonexistent/labels"], "--label-file"),
        (&["--env-file", "/nonexistent/env"], "--env-file"),
        (&["--env-file", "/"], "--env-file"),
        (&["--runtime=-x"], "--runtime"),
        (&["--gpus", "bogus=1"], "--gpus"),
        (&["--gpus", "0"], "--gpus"),
        (&["--restart", "always", "--rm"], "--rm"),
        (&["--restart", "on-failure:x"], "--restart"),
        (&["--cpus", "1", "--cpu-quota", "50000"], "--cpu-quota"),
        (&["--hostname=-x"], "--hostname"),
        (&["--user=-x"], "--user"),
        (&["--workdir=-x"], "--workdir"),
    ];
    cases
        .into_iter()
        .map(|(args, flag)| (args.to_vec(), flag))
        .collect()
}

/// What one engine cannot do, refused on that engine only.
const ENGINE_REFUSALS: &[(&str, &[&str], &str)] = &[
    ("podman", &["--domainname", "corp.example"], "--domainname"),
    ("podman", &["--gpus", "2"], "--gpus"),
    ("podman", &["--log-driver", "local"], "--log-driver"),
    ("podman", &["--log-driver", "syslog"], "--log-driver"),
    ("podman", &["--log-opt", "max-file=3"], "--log-opt"),
    ("docker", &["--pull", "newer"], "--pull"),
    ("docker", &["--userns", "auto"], "--userns"),
    (
        "docker",
        &["--network", "n1", "--network", "n2:mac=02:42:0a:00:00:05"],
        "--mac-address",
    ),
];

#[test]
fn bad_values_exit_2_naming_the_flag_before_any_engine_call() {
    let dir = tempfile::tempdir().unwrap();
    let cases = bad_values();
    for engine in engines() {
        let calls = dir.path().join(engine);
        let counted = format!(
            "{}/tests/fixtures/count-calls {} {engine}",
            env!("CARGO_MANIFEST_DIR"),
            calls.display()
        );
        let engine_only = ENGINE_REFUSALS
            .iter()
            .filter(|(e, _, _)| *e == engine)
            .map(|(_, args, flag)| (args.to_vec(), *flag));
        for (args, flag) in cases.iter().cloned().chain(engine_only) {
            for verb in [&["run", "-d"][..], &["create"]] {
                let r = sh(Cmd::new(bin())
                    .args(["--engine", &counted])
                    .args(verb)
                    .args(&args)
                    .arg(IMAGE));
                assert_eq!(r.code, 2, "{engine} {verb:?} {args:?}: {r:?}");
                assert!(
                    r.stderr.contains(flag),
                    "{engine} {args:?}: the message names {flag}: {r:?}"
                );
                assert!(
                    !calls.exists(),
                    "{engine} {args:?} reached the engine: {:?}",
                    std::fs::read_to_string(&calls)
                );
            }
        }
    }
}

#[test]
fn env_and_label_file_contents_stay_out_of_argv_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("s3cret-{}", unique("v"));
    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, format!("OK=1\nA B={secret}\n")).unwrap();
    for engine in engines() {
        let r = dockhand_on(
            engine,
            [
                "--dry-run",
                "run",
                "-d",
                "--env-file",
                bad.to_str().unwrap(),
                IMAGE,
            ],
        );
        assert_eq!(r.code, 2, "{engine}: {r:?}");
        assert!(
            r.stderr.contains("line 2") && !r.stderr.contains(&secret),
            "{engine}: {r:?}"
        );

        let good = dir.path().join("good.env");
        std::fs::write(&good, format!("RF_SECRET={secret}\n")).unwrap();
        let labels_file = dir.path().join("labels");
        std::fs::write(&labels_file, format!("rf.secret={secret}\n")).unwrap();
        let r = dockhand_on(
            engine,
            [
                "--dry-run",
                "run",
                "-d",
                "--env-file",
                good.to_str().unwrap(),
                "--label-file",
                labels_file.to_str().unwrap(),
                IMAGE,
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            r.stderr.contains("--env-file=") && r.stderr.contains("--label-file="),
            "{engine}: {r:?}"
        );
        assert!(
            !r.stderr.contains(&secret),
            "{engine}: contents in argv: {r:?}"
        );
    }
}

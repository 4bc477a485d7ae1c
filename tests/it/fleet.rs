//! Remote engines and fleets on real hosts (tests/fixtures/testhosts): three
//! hosts in network namespaces, each with its own dockerd and sshd, and a
//! podman service; every client that talks to them runs in the set's client
//! netns (no default route), docker's ssh through the set's wrapper.
//!
//! One set serves every scenario, run one after another in one test (the
//! scenarios put faults on the shared hosts); each restores what it broke.

use std::time::Duration;

use dockhand::engine::Argv;
use dockhand::fleet::{Fleet, FleetOptions, HostOutcome};
use dockhand::{Engine, ErrorKind, Plan};
use serde_json::Value;

use crate::schemas::assert_valid;
use crate::support::fixtures::podman_endpoint;
use crate::support::hosts::TestHosts;
use crate::support::{dockhand, labels, processes_matching, sh, unique, Cleanup, IMAGE};
use dockhand::exec::{spawn_streaming, Cmd};

/// Faults put on a host for one scenario, undone when dropped.
struct Fault<'a>(&'a TestHosts, Vec<usize>);

impl<'a> Fault<'a> {
    fn on(hosts: &'a TestHosts, knobs: &[(&str, usize)]) -> Fault<'a> {
        for (knob, i) in knobs {
            hosts.knob(knob, Some(*i));
        }
        Fault(hosts, knobs.iter().map(|(_, i)| *i).collect())
    }
}

impl Drop for Fault<'_> {
    fn drop(&mut self) {
        for i in &self.1 {
            self.0.knob("restore", Some(*i));
        }
    }
}

fn by_host<'a>(doc: &'a Value, host: &str) -> &'a Value {
    doc.as_array()
        .and_then(|a| a.iter().find(|h| h["host"] == host))
        .unwrap_or_else(|| panic!("no {host} in {doc}"))
}

/// A new docker context (in the docker config dir `config`) for host `i`.
fn docker_context(hosts: &TestHosts, config: &str, i: usize) -> String {
    let ctx = unique("fl-ctx");
    let create = crate::support::sh(
        dockhand::exec::Cmd::new("docker")
            .env("DOCKER_CONFIG", config)
            .args([
                "context",
                "create",
                &ctx,
                "--docker",
                &format!("host={}", hosts.host(i, "url")),
            ]),
    );
    assert_eq!(create.code, 0, "{create:?}");
    ctx
}

#[test]
fn remote_engines_and_fleets_on_real_hosts() {
    let hosts = TestHosts::up(3, true);
    // dockhand makes the directory itself (0700); an existing one must be 0700.
    let ssh_base = tempfile::Builder::new()
        .prefix("dh-fl-s")
        .tempdir_in("/tmp")
        .unwrap();
    let ssh_dir = ssh_base.path().join("ssh").to_str().unwrap().to_string();
    fleet_results_per_host_with_faults(&hosts, "docker");
    fleet_results_per_host_with_faults(&hosts, "/usr/bin/docker");
    check_names_the_endpoint_and_diagnoses_ssh(&hosts);
    rolling_update_stops_after_a_failure(&hosts);
    a_fleet_file_carries_any_subcommand(&hosts);
    an_app_across_a_toml_fleet_with_a_rolling_update(&hosts);
    wait_for_port_and_http_probe_the_remote_host(&hosts);
    connection_sharing_opens_one_ssh_connection(&hosts, &ssh_dir);
    podman_remote_over_unix_socket_and_ssh(&hosts);
    library_fleet_blocking_and_tokio(&hosts);
}

/// host1 fine, host2 with a changed host key, host3 without a docker CLI,
/// and a host that is down (nothing answers at its address).
fn fleet_results_per_host_with_faults(hosts: &TestHosts, engine: &str) {
    let _faults = Fault::on(hosts, &[("bad-hostkey", 2), ("hide-cli", 3)]);
    let down = format!("ssh://root@{}", hosts.fact(&["blackhole_addr"]));
    let list = format!(
        "{},{},{},{down}",
        hosts.host(1, "url"),
        hosts.host(2, "url"),
        hosts.host(3, "url")
    );
    let name = unique("fl");
    let args = [
        "--engine",
        engine,
        "--ssh-share",
        "0",
        "--retries",
        "2",
        "--retry-delay",
        "100ms",
        "--timeout",
        "20s",
        "--verbose",
        "--hosts",
        &list,
        "--json",
        "status",
        &name,
    ];
    let r = hosts.dockhand(&[], &args);
    assert_eq!(r.code, 4, "{engine}: {r:?}");
    let doc = r.json();
    let order: Vec<&str> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    let blackhole = hosts.fact(&["blackhole_addr"]);
    assert_eq!(
        order,
        ["host1", "host2", "host3", blackhole.as_str()],
        "{engine}: fleet order"
    );
    let h1 = by_host(&doc, "host1");
    assert_eq!(
        (h1["ok"].as_bool(), h1["result"][0]["status"].as_str()),
        (Some(true), Some("missing")),
        "{h1}"
    );
    for (host, kind, ssh) in [
        ("host2", "unreachable", "host_key_changed"),
        ("host3", "unreachable", "remote_cli_missing"),
        (blackhole.as_str(), "unreachable", "connect_timeout"),
    ] {
        let h = by_host(&doc, host);
        assert_eq!(h["ok"], false, "{engine} {host}: {h}");
        assert_eq!(
            (h["error"]["kind"].as_str(), h["error"]["ssh"].as_str()),
            (Some(kind), Some(ssh)),
            "{engine} {host}: {h}"
        );
        assert_eq!(h["exit_code"], 4, "{engine} {host}: {h}");
        let msg = h["error"]["message"].as_str().unwrap();
        assert!(
            msg.starts_with("ssh://root@"),
            "the message names the endpoint: {msg}"
        );
        assert!(!msg.contains("docker.example.com"), "{msg}");
    }
    // Host keys and a missing CLI are permanent: only the dropped host is retried.
    let retried: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("retrying"))
        .collect();
    // Log lines, too, start with the host they are about.
    assert!(
        retried
            .iter()
            .all(|l| l.starts_with(&format!("{blackhole}: [")) && l.contains(" WARN ")),
        "{engine}: {retried:?}"
    );
    assert!(
        !retried.is_empty(),
        "{engine}: the timeout is transient: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(r#""fleet":{"#),
        "{engine}: summary: {}",
        r.stderr
    );
    // Text: prefixed lines, one line per failure, a summary line. It does not
    // depend on the CLI's version (and a dropped host costs 20.10 5 s a try).
    if engine != "docker" {
        return;
    }
    let r = hosts.dockhand(
        &[],
        &[
            "--engine",
            engine,
            "--ssh-share",
            "0",
            "--retries",
            "1",
            "--timeout",
            "20s",
            "--hosts",
            &list,
            "status",
            &name,
        ],
    );
    assert_eq!(r.code, 4, "{r:?}");
    // One name: just its status (issue 17), after the host's name.
    assert_eq!(r.stdout.trim(), "host1: missing", "{r:?}");
    assert!(
        r.stderr.lines().any(|l| l.starts_with(
            "host2: dockhand: ssh://root@host2: ssh: the remote host's key has CHANGED"
        )),
        "{r:?}"
    );
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("host3: dockhand: ") && l.contains("no docker CLI")),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("fleet: 4 hosts: 1 ok, 3 failed (host2: unreachable, host3: unreachable"),
        "{r:?}"
    );
}

fn check_names_the_endpoint_and_diagnoses_ssh(hosts: &TestHosts) {
    let json = |r: &crate::support::Ran| -> Value { r.json() };
    // Healthy, named by --host, by a docker context, by DOCKER_HOST.
    let r = hosts.dockhand(
        &[],
        &[
            "--ssh-share",
            "0",
            "-H",
            &hosts.host(1, "url"),
            "--json",
            "check",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let c = json(&r);
    assert_eq!(
        (
            c["endpoint"].as_str(),
            c["endpoint_source"].as_str(),
            c["remote"].as_bool()
        ),
        (Some("ssh://root@host1"), Some("--host"), Some(true)),
        "{c}"
    );
    let config = tempfile::tempdir().unwrap();
    let config = config.path().to_str().unwrap().to_string();
    let ctx = docker_context(hosts, &config, 2);
    let r = hosts.dockhand(
        &[("DOCKER_CONFIG", &config)],
        &["--ssh-share", "0", "--context", &ctx, "--json", "check"],
    );
    let c = json(&r);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(c["endpoint"], "ssh://root@host2", "{c}");
    assert_eq!(
        c["endpoint_source"],
        format!("context {ctx} (--context)"),
        "{c}"
    );
    let r = hosts.dockhand(
        &[("DOCKER_HOST", &hosts.host(3, "url"))],
        &["--ssh-share", "0", "check"],
    );
    assert!(
        r.stdout
            .contains("endpoint:   ssh://root@host3 (DOCKER_HOST, remote)"),
        "{r:?}"
    );
    // Each failure: its ssh cause, exit 4, the fix.
    let _faults = Fault::on(
        hosts,
        &[("stop-daemon", 1), ("bad-hostkey", 2), ("hide-cli", 3)],
    );
    for (i, ssh, diagnosis, fix) in [
        (
            1,
            "remote_engine_down",
            "engine on the remote host does not answer",
            "systemctl start docker",
        ),
        (
            2,
            "host_key_changed",
            "key has CHANGED",
            "ssh-keygen -R host2",
        ),
        (
            3,
            "remote_cli_missing",
            "no docker CLI",
            "install docker on host3",
        ),
    ] {
        let r = hosts.dockhand(
            &[],
            &[
                "--ssh-share",
                "0",
                "-H",
                &hosts.host(i, "url"),
                "--json",
                "check",
            ],
        );
        assert_eq!(r.code, 4, "host{i}: {r:?}");
        let c: Value = serde_json::from_str(r.stdout.trim()).unwrap();
        assert_eq!(c["ssh"], ssh, "host{i}: {c}");
        assert!(
            c["diagnosis"].as_str().unwrap().contains(diagnosis),
            "host{i}: {c}"
        );
        assert!(c["fix"].as_str().unwrap().contains(fix), "host{i}: {c}");
        assert!(
            c["diagnosis"]
                .as_str()
                .unwrap()
                .contains(&format!("ssh://root@host{i}")),
            "host{i}: {c}"
        );
    }
}

fn rolling_update_stops_after_a_failure(hosts: &TestHosts) {
    let name = unique("fl-roll");
    let list = format!(
        "{},{},{}",
        hosts.host(1, "url"),
        hosts.host(2, "url"),
        hosts.host(3, "url")
    );
    {
        let _fault = Fault::on(hosts, &[("hide-cli", 2)]);
        let r = hosts.dockhand(
            &[],
            &[
                "--ssh-share",
                "0",
                "--hosts",
                &list,
                "--rolling",
                "1",
                "--json",
                "run",
                "-d",
                "--name",
                &name,
                IMAGE,
                "sleep",
                "300",
            ],
        );
        assert_eq!(r.code, 4, "{r:?}");
        let doc = r.json();
        assert_eq!(by_host(&doc, "host1")["ok"], true, "{doc}");
        assert_eq!(
            by_host(&doc, "host2")["error"]["ssh"],
            "remote_cli_missing",
            "{doc}"
        );
        assert_eq!(by_host(&doc, "host3")["skipped"], true, "{doc}");
        assert!(r.stderr.contains(r#""skipped":1"#), "{r:?}");
    }
    let on = |i| {
        hosts
            .docker_on(i, &["ps", "-aq", "--filter", &format!("name=^{name}$")])
            .stdout
    };
    assert!(!on(1).trim().is_empty(), "host1 got the container");
    assert!(on(3).trim().is_empty(), "host3 was not touched");
    let r = hosts.dockhand(
        &[],
        &["--ssh-share", "0", "--hosts", &list, "rm", "-f", &name],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("host1: {name} removed"))
            && r.stdout.contains(&format!("host3: {name} absent")),
        "{r:?}"
    );
}

/// A fleet file (an ssh URL, a docker context name, another engine
/// command; groups and labels) selecting hosts for reads and lifecycle
/// commands: host-prefixed text, one JSON array, the most severe exit code.
fn a_fleet_file_carries_any_subcommand(hosts: &TestHosts) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("docker");
    let config = config.to_str().unwrap();
    let ctx = docker_context(hosts, config, 2);
    let file = dir.path().join("fleet.json");
    std::fs::write(
        &file,
        serde_json::json!({"hosts": [
            {"name": "edge-a", "url": hosts.host(1, "url"), "groups": ["edge"], "labels": {"site": "ber"}},
            {"name": "edge-b", "context": ctx, "groups": ["edge"], "labels": {"site": "muc"}},
            {"name": "core", "url": hosts.host(3, "url"), "engine": "/usr/bin/docker", "groups": ["core"]},
        ]})
        .to_string(),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    // Shared ssh connections (idle ones close 5 s after the last use).
    let share = dir.path().join("ssh");
    let env = [
        ("DOCKER_CONFIG", config),
        ("DOCKHAND_SSH_DIR", share.to_str().unwrap()),
    ];
    let fleet_sharing = |share: &str, args: &[&str]| {
        let mut all = vec!["--ssh-share", share, "--timeout", "20s", "--fleet", file];
        all.extend(args);
        hosts.dockhand(&env, &all)
    };
    let fleet = |args: &[&str]| fleet_sharing("5s", args);
    let hosts_of = |doc: &Value| -> Vec<String> {
        doc.as_array()
            .unwrap()
            .iter()
            .map(|h| h["host"].as_str().unwrap().to_string())
            .collect()
    };
    let name = unique("fl-file");
    let r = fleet(&[
        "--select",
        "group=edge",
        "--json",
        "run",
        "-d",
        "--name",
        &name,
        "-p",
        "8080",
        IMAGE,
        "httpd",
        "-f",
        "-p",
        "8080",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(hosts_of(&r.json()), ["edge-a", "edge-b"], "{r:?}");
    let on = |i| {
        hosts
            .docker_on(i, &["ps", "-aq", "--filter", &format!("name=^{name}$")])
            .stdout
            .trim()
            .to_string()
    };
    assert!(!on(1).is_empty() && !on(2).is_empty(), "edge hosts run it");
    assert!(on(3).is_empty(), "core was not selected");
    // Each edge host's own published port, at its own address.
    let r = fleet(&[
        "--select",
        "group=edge",
        "--json",
        "wait-for",
        &name,
        "--http",
        "/etc/hostname",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    for (host, i) in [("edge-a", 1), ("edge-b", 2)] {
        let o = &by_host(&doc, host)["result"];
        assert_eq!(o["via"], "published_remote", "{host}: {o}");
        let addr = o["address"].as_str().unwrap();
        assert!(
            addr.starts_with(&format!("{}:", hosts.host(i, "addr"))),
            "{host}: {o}"
        );
    }
    // A label selects; text lines carry the host's name.
    let r = fleet(&["--select", "site=muc", "stop", "--time", "1", &name]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), format!("edge-b: {name} stopped"), "{r:?}");
    let r = fleet(&["--select", "group=edge", "top", &name]);
    assert_eq!(r.code, 5, "edge-b's container is stopped: {r:?}");
    let r = fleet(&["--json", "ps", "--all"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_eq!(hosts_of(&doc), ["edge-a", "edge-b", "core"], "fleet order");
    let status_of = |host: &str| -> Option<String> {
        by_host(&doc, host)["result"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .map(|c| c["status"].as_str().unwrap().to_string())
    };
    assert_eq!(
        [status_of("edge-a"), status_of("edge-b"), status_of("core")],
        [Some("running".into()), Some("exited".into()), None],
        "{doc}"
    );
    // The most severe failure decides: conflict (running) over not found.
    let r = fleet(&["--json", "exit-code", &name]);
    assert_eq!(r.code, 5, "{r:?}");
    let doc = r.json();
    let kinds: Vec<Option<&str>> = ["edge-a", "edge-b", "core"]
        .iter()
        .map(|h| by_host(&doc, h)["error"]["kind"].as_str())
        .collect();
    assert_eq!(kinds, [Some("conflict"), None, Some("not_found")], "{doc}");
    assert_eq!(by_host(&doc, "edge-b")["ok"], true, "{doc}");
    // ... and an unreachable host over both (new connections: a shared one
    // still has the remote shell's old PATH).
    {
        let _fault = Fault::on(hosts, &[("hide-cli", 3)]);
        let r = fleet_sharing("0", &["exit-code", &name]);
        assert_eq!(r.code, 4, "{r:?}");
        assert!(
            r.stderr.contains(
                "fleet: 3 hosts: 1 ok, 2 failed (edge-a: conflict, core: unreachable), 0 skipped; exit 4"
            ),
            "{r:?}"
        );
    }
    // Ctrl-C: every host's engine child is killed and reaped, and the fleet
    // exits 130 (edge-b's `wait` returns at once, unless the signal came first).
    let words = hosts.client_env(&env);
    let mut child = spawn_streaming(
        &Cmd::new(&words[0])
            .args(&words[1..])
            .arg(crate::support::bin())
            .args(["--ssh-share", "0", "--timeout", "60s", "--fleet", file])
            .args(["--select", "group=edge", "wait", &name]),
    )
    .unwrap();
    let waiting = format!("wait -- {name}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while processes_matching(&waiting).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no engine `wait` started"
        );
        dockhand::exec::sleep(Duration::from_millis(50)).unwrap();
    }
    let mut stderr = child.take_stderr().unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let status = child.wait_timeout(Duration::from_secs(10)).unwrap();
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    assert_eq!(status, Some(dockhand::ExitStatus::Code(130)), "{said}");
    let summary = said.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("fleet: 2 hosts: ")
            && summary.contains("edge-a: interrupted")
            && summary.ends_with("exit 130"),
        "{said}"
    );
    assert_eq!(processes_matching(&waiting), Vec::<u32>::new(), "{said}");
    let r = fleet(&["rm", "-f", &name]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut removed: Vec<&str> = r.stdout.lines().collect();
    removed.sort_unstable();
    assert_eq!(
        removed,
        [
            format!("core: {name} absent"),
            format!("edge-a: {name} removed"),
            format!("edge-b: {name} removed")
        ],
        "{r:?}"
    );
}

/// An app (a compose file) on the three hosts of a TOML fleet file: `app up`
/// on all at once, `app ps` per host, an update `--rolling 1` whose new image
/// host b lacks (rolled back there; the rollout stops, host c keeps the old
/// app), then `app down`.
fn an_app_across_a_toml_fleet_with_a_rolling_update(hosts: &TestHosts) {
    let dir = tempfile::tempdir().unwrap();
    let path = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let project = unique("app").replacen("dh-", "dhf-", 1);
    std::fs::write(
        path("fleet.toml"),
        format!(
            r#"# the three test hosts
[[hosts]]
name = "a"
url = "{}"
groups = ["edge"]

[[hosts]]
name = "b"
url = "{}"
groups = ["edge"]
labels = {{ site = "muc" }}

[[hosts]]
name = "c"
url = "{}"
[hosts.labels]
site = "ber"
"#,
            hosts.host(1, "url"),
            hosts.host(2, "url"),
            hosts.host(3, "url")
        ),
    )
    .unwrap();
    let compose = |worker_image: &str| {
        std::fs::write(
            path("compose.yaml"),
            format!(
                "name: {project}\nservices:\n  web:\n    image: {IMAGE}\n    command: [httpd, -f, -p, \"8080\"]\n    stop_grace_period: 1s\n  worker:\n    image: {worker_image}\n    command: [sleep, \"300\"]\n    depends_on: [web]\n    stop_grace_period: 1s\n"
            ),
        )
        .unwrap();
    };
    let share = path("ssh");
    let env = [("DOCKHAND_SSH_DIR", share.as_str())];
    let fleet_file = path("fleet.toml");
    let compose_file = path("compose.yaml");
    let app = |fleet_args: &[&str], args: &[&str]| {
        let mut all = vec![
            "--ssh-share",
            "5s",
            "--timeout",
            "30s",
            "--fleet",
            &fleet_file,
        ];
        all.extend(fleet_args);
        all.extend(["--json", "app", "-f", &compose_file]);
        all.extend(args);
        hosts.dockhand(&env, &all)
    };
    // What runs on host i: (service, image) of each running container.
    let running = |i: usize| -> Vec<(String, String)> {
        let r = hosts.docker_on(
            i,
            &[
                "ps",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
                "--format",
                "{{.Label \"com.docker.compose.service\"}} {{.Image}}",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let mut rows: Vec<(String, String)> = r
            .stdout
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(s, i)| (s.to_string(), i.to_string()))
            .collect();
        rows.sort();
        rows
    };
    let old = vec![
        ("web".to_string(), IMAGE.to_string()),
        ("worker".to_string(), IMAGE.to_string()),
    ];
    compose(IMAGE);
    // All at once: each host's `up` holds the lock of its own endpoint's
    // project (one process, one lock file: they must not wait for each other).
    let r = app(&[], &["--lock-timeout", "1s", "up"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    for h in ["a", "b", "c"] {
        assert_eq!(by_host(&doc, h)["ok"], true, "{h}: {doc}");
    }
    for i in 1..=3 {
        assert_eq!(running(i), old, "host{i}");
    }
    // `app ps` per host; a selector narrows the fleet.
    let r = app(&["--select", "group=edge"], &["ps"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_eq!(doc.as_array().unwrap().len(), 2, "{doc}");
    for h in ["a", "b"] {
        let rows = by_host(&doc, h)["result"].as_array().unwrap().clone();
        let mut seen: Vec<(&str, &str)> = rows
            .iter()
            .map(|c| {
                (
                    c["service"].as_str().unwrap(),
                    c["status"].as_str().unwrap(),
                )
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            [("web", "running"), ("worker", "running")],
            "{h}: {doc}"
        );
    }
    // The update: a new worker image that hosts a and c have, b has not.
    let new = format!("{project}/worker:v2");
    for i in [1, 3] {
        assert_eq!(hosts.docker_on(i, &["tag", IMAGE, &new]).code, 0);
    }
    let before_c = hosts
        .docker_on(
            3,
            &[
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ],
        )
        .stdout;
    compose(&new);
    let r = app(&["--rolling", "1"], &["up", "--pull", "never"]);
    assert_eq!(r.code, 3, "b lacks the image (not found): {r:?}");
    let doc = r.json();
    assert_eq!(by_host(&doc, "a")["ok"], true, "{doc}");
    let b = by_host(&doc, "b");
    assert_eq!(
        (b["ok"].as_bool(), b["error"]["kind"].as_str()),
        (Some(false), Some("not_found")),
        "{doc}"
    );
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rolled back"),
        "{doc}"
    );
    assert_eq!(by_host(&doc, "c")["skipped"], true, "{doc}");
    assert!(
        r.stderr.contains(r#""failed":1,"#) && r.stderr.contains(r#""skipped":1"#),
        "{r:?}"
    );
    let mut updated = old.clone();
    updated[1].1 = new.clone();
    assert_eq!(running(1), updated, "host a runs the new worker");
    assert_eq!(running(2), old, "host b rolled back to the old app");
    assert_eq!(running(3), old, "host c was not touched");
    assert_eq!(
        hosts
            .docker_on(
                3,
                &[
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=com.docker.compose.project={project}")
                ]
            )
            .stdout,
        before_c,
        "host c: the same containers"
    );
    // Down everywhere: nothing of the project is left on any host.
    let r = app(&[], &["down"]);
    assert_eq!(r.code, 0, "{r:?}");
    for i in 1..=3 {
        let label = format!("label=com.docker.compose.project={project}");
        let left = hosts
            .docker_on(i, &["ps", "-aq", "--filter", &label])
            .stdout
            + &hosts
                .docker_on(i, &["network", "ls", "-q", "--filter", &label])
                .stdout;
        assert_eq!(left.trim(), "", "host{i}: {project} is gone");
    }
    for i in [1, 3] {
        hosts.docker_on(i, &["rmi", &new]);
    }
}

fn wait_for_port_and_http_probe_the_remote_host(hosts: &TestHosts) {
    let h1 = hosts.host(1, "url");
    // Shared ssh connections (idle ones close 5 s after the last use).
    let share = tempfile::tempdir().unwrap();
    let share = share.path().join("ssh");
    let env = [("DOCKHAND_SSH_DIR", share.to_str().unwrap())];
    let on_h1 = |args: &[&str]| {
        let mut all = vec!["--ssh-share", "5s", "-H", &h1];
        all.extend(args);
        hosts.dockhand(&env, &all)
    };
    let (published, inside) = (unique("fl-pub"), unique("fl-in"));
    for (name, publish) in [(&published, true), (&inside, false)] {
        let mut args = vec!["run", "-d", "--name", name];
        if publish {
            args.extend(["-p", "8080"]);
        }
        args.extend([
            IMAGE,
            "httpd",
            "-f",
            "-p",
            if publish { "8080" } else { "9090" },
        ]);
        let r = on_h1(&args);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let port = hosts.docker_on(1, &["port", &published, "8080/tcp"]).stdout;
    let host_port = port
        .lines()
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .trim()
        .to_string();
    let address = format!("{}:{host_port}", hosts.host(1, "addr"));
    // --port, and --http going where --port connects: the published port at
    // the remote host's address.
    for (condition, value) in [("--port", "8080"), ("--http", "/etc/hostname")] {
        let r = on_h1(&[
            "--timeout",
            "20s",
            "--json",
            "wait-for",
            &published,
            condition,
            value,
        ]);
        assert_eq!(r.code, 0, "{condition}: {r:?}");
        let o = r.json();
        assert_eq!(
            (o["via"].as_str(), o["address"].as_str()),
            (Some("published_remote"), Some(address.as_str())),
            "{condition}: {o}"
        );
        if condition == "--http" {
            assert_eq!(o["http_status"], 200, "{o}");
        }
    }
    let r = on_h1(&["--timeout", "20s", "wait-for", &inside, "--port", "9090"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("(inside the container, on the remote host)"),
        "{r:?}"
    );
    // A port not published there cannot be asked over HTTP from here.
    let r = on_h1(&[
        "--timeout",
        "20s",
        "wait-for",
        &inside,
        "--http",
        "/",
        "--port",
        "9090",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("9090/tcp is not published at the remote host's address"),
        "{r:?}"
    );
    // A port nothing listens on times out, saying what it saw.
    let r = on_h1(&["--timeout", "2s", "wait-for", &inside, "--port", "7070"]);
    assert_eq!(r.code, 124, "{r:?}");
    // Local-only commands refuse the remote engine, saying where to run them.
    let r = on_h1(&["pid", &inside]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("ssh root@host1 dockhand pid"), "{r:?}");
}

fn connection_sharing_opens_one_ssh_connection(hosts: &TestHosts, ssh_dir: &str) {
    let log = hosts.dir.join("h1/sshd.log");
    let accepted = || {
        std::fs::read_to_string(&log)
            .unwrap()
            .matches("Accepted publickey")
            .count()
    };
    let env = [("DOCKHAND_SSH_DIR", ssh_dir)];
    let h1 = hosts.host(1, "url");
    let before = accepted();
    for _ in 0..3 {
        let r = hosts.dockhand(&env, &["--ssh-share", "30s", "-H", &h1, "status", "nosuch"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(!r.stderr.contains("sharing is off"), "{r:?}");
    }
    assert_eq!(accepted() - before, 1, "three calls, one ssh connection");
    use std::os::unix::fs::PermissionsExt;
    for d in ["", "/bin", "/mux"] {
        let mode = std::fs::metadata(format!("{ssh_dir}{d}"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{ssh_dir}{d}");
    }
    let sockets: Vec<_> = std::fs::read_dir(format!("{ssh_dir}/mux"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(sockets.len(), 1, "{sockets:?}");
    // Without sharing, each call is a connection of its own.
    let before = accepted();
    for _ in 0..2 {
        hosts.dockhand(&env, &["--ssh-share", "0", "-H", &h1, "status", "nosuch"]);
    }
    assert_eq!(accepted() - before, 2);
    // Close the master (its process would outlive the test by 30 s).
    let words = hosts.client_env(&[]);
    let close = crate::support::sh(dockhand::exec::Cmd::new(&words[0]).args(&words[1..]).args([
        "ssh",
        "-o",
        &format!("ControlPath={ssh_dir}/mux/%C"),
        "-O",
        "exit",
        "host1",
    ]));
    assert_eq!(close.code, 0, "{close:?}");
}

fn podman_remote_over_unix_socket_and_ssh(hosts: &TestHosts) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    std::fs::copy(
        hosts.fact(&["ssh", "known_hosts"]),
        home.path().join(".ssh/known_hosts"),
    )
    .unwrap();
    let home = home.path().to_str().unwrap().to_string();
    let conf = hosts.fact(&["podman", "containers_conf"]);
    let key = hosts.fact(&["ssh", "key"]);
    let env = [("HOME", home.as_str()), ("CONTAINERS_CONF", conf.as_str())];
    let status = |extra: &[(&str, &str)], args: &[&str]| {
        let env: Vec<(&str, &str)> = env.iter().chain(extra).copied().collect();
        let mut all = vec!["--engine", "podman", "--json"];
        all.extend(args);
        all.extend(["status", "dh-fl-nosuch"]);
        hosts.dockhand(&env, &all)
    };
    let unix = hosts.fact(&["podman", "url"]);
    let ssh = hosts.fact(&["podman", "ssh_url"]);
    let ok = |r: crate::support::Ran| {
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()[0]["status"], "missing", "{r:?}");
    };
    ok(status(&[], &["-H", &unix]));
    ok(status(&[], &["-H", &ssh, "--identity", &key]));
    // A container's life over ssh: run, wait for its log line, status,
    // logs, rm (the service shares this machine's podman storage).
    let name = unique("pm").replacen("dh-", "dhf-", 1);
    let over_ssh = |args: &[&str]| {
        let mut all = vec!["--engine", "podman", "-H", &ssh, "--identity", &key];
        all.extend(args);
        hosts.dockhand(&env, &all)
    };
    let labels = crate::support::labels();
    let mut run = vec!["run", "-d", "--name", &name];
    run.extend(labels.iter().map(String::as_str));
    run.extend([IMAGE, "sh", "-c", "echo hello over ssh; exec sleep 300"]);
    let r = over_ssh(&run);
    assert_eq!(r.code, 0, "{r:?}");
    let r = over_ssh(&["wait-for", &name, "--log", "hello over", "--timeout", "20s"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = over_ssh(&["status", &name]);
    assert_eq!((r.code, r.stdout.trim()), (0, "running"), "{r:?}");
    let r = over_ssh(&["--json", "logs", &name]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("hello over ssh"), "{r:?}");
    let r = over_ssh(&["rm", "-f", &name]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, format!("{name} removed").as_str()),
        "{r:?}"
    );
    let left = crate::support::sh(Cmd::new("podman").args([
        "ps",
        "-aq",
        "--filter",
        &format!("name=^{name}$"),
    ]));
    assert_eq!(left.stdout.trim(), "", "{left:?}");
    ok(status(&[("CONTAINER_SSHKEY", key.as_str())], &["-H", &ssh]));
    // Connections by name, from the file CONTAINERS_CONF names, as a fleet.
    let r = status(&[], &["--hosts", "local,host1"]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    for h in ["local", "host1"] {
        assert_eq!(by_host(&doc, h)["result"][0]["status"], "missing", "{doc}");
    }
    let r = hosts.dockhand(
        &env,
        &[
            "--engine",
            "podman",
            "--context",
            "host1",
            "--json",
            "check",
        ],
    );
    assert_eq!(
        r.json()["endpoint_source"],
        "connection host1 (--connection)",
        "{r:?}"
    );
    // The wrong key: refused, not retried, the same kinds as docker's.
    let r = status(
        &[],
        &[
            "-H",
            &ssh,
            "--identity",
            &hosts.fact(&["ssh", "wrong_key"]),
            "--verbose",
        ],
    );
    assert_eq!(r.code, 4, "{r:?}");
    let e = r.json_error();
    assert_eq!(
        (e["error"]["kind"].as_str(), e["error"]["ssh"].as_str()),
        (Some("permission_denied"), Some("auth_refused")),
        "{e}"
    );
    assert!(!r.stderr.contains("retrying"), "{r:?}");
}

/// The library's Fleet, blocking and on tokio, from a thread inside the
/// client netns (its children inherit it).
fn library_fleet_blocking_and_tokio(hosts: &TestHosts) {
    let netns = format!("/run/netns/{}", hosts.fact(&["client", "netns"]));
    let env_words = hosts.client_env(&[]);
    let urls: Vec<String> = (1..=3)
        .map(|i| format!("ssh://root@{}", hosts.host(i, "addr")))
        .collect();
    let list = urls.join(",");
    std::thread::scope(|s| {
        s.spawn(|| {
            let ns = std::fs::File::open(&netns).unwrap();
            nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            // `env PATH=… TESTHOSTS_SSH_CONFIG=… docker`: the set's ssh wrapper.
            let mut words: Vec<String> = env_words[3..].to_vec();
            words.push("docker".into());
            let base = Engine::from_argv(words)
                .unwrap()
                .with_timeout(Some(Duration::from_secs(20)));
            let fleet = Fleet::from_hosts(&base, &list)
                .unwrap()
                .with_options(FleetOptions {
                    parallel: 2,
                    ..FleetOptions::default()
                });
            let hostname = || {
                Plan::read(Argv::new("info").args(["--format", "{{.Name}}"]), |o| {
                    Ok(o.stdout_text())
                })
            };
            let report = fleet.run(|_| hostname());
            let names: Vec<String> = report
                .hosts
                .iter()
                .map(|h| match &h.outcome {
                    HostOutcome::Ran(Ok(name)) => name.clone(),
                    other => panic!("{}: {other:?}", h.host),
                })
                .collect();
            let expected: Vec<String> = (1..=3).map(|i| hosts.host(i, "hostname")).collect();
            assert_eq!(names, expected, "each member reached its own daemon");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let report = rt.block_on(fleet.run_async(|_| hostname()));
            assert!(report.all_ok(), "{report:?}");
            // A rolling run that fails at the first host skips the rest.
            let rolling = fleet.clone().with_options(FleetOptions {
                rolling: Some(1),
                ..FleetOptions::default()
            });
            let report = rolling.each(|m| {
                m.engine
                    .containers()
                    .inspect_one(&"dh-fl-nosuch".parse()?)
                    .map(drop)
            });
            assert_eq!(
                report.hosts[0].error().map(|e| e.kind()),
                Some(ErrorKind::NotFound)
            );
            assert_eq!(report.tally().skipped, 2, "{report:?}");
        });
    });
}

#[test]
fn fleet_flags_and_files_are_checked_before_any_engine_call() {
    for (args, want) in [
        (vec!["--hosts", "a,,b", "ps"], "empty entry"),
        (
            vec!["--hosts", "a", "-H", "ssh://b", "ps"],
            "cannot be used with",
        ),
        (
            vec!["--hosts", "a", "exec", "web", "ls"],
            "not on a fleet: `exec`",
        ),
        (vec!["--hosts", "a", "logs", "-f", "web"], "`logs -f`"),
        (vec!["--hosts", "a", "attach", "web"], "`attach`"),
        (
            vec!["--hosts", "a", "start", "-a", "web"],
            "`start --attach`",
        ),
        (
            vec!["--hosts", "a", "stats", "--stream", "web"],
            "`stats --stream`",
        ),
        (
            vec!["--hosts", "a", "prune", "images"],
            "needs --yes or --dry-run",
        ),
        (
            vec![
                "--hosts",
                "a",
                "login",
                "r.example",
                "-u",
                "x",
                "--password-stdin",
            ],
            "credentials are stored on this machine",
        ),
        (vec!["--hosts", "a", "--select", "nokey", "ps"], "KEY=VALUE"),
        (
            vec!["--hosts", "a", "--select", "group=edge", "ps"],
            "no host of the fleet matches group=edge",
        ),
        (
            vec!["--hosts", "a", "--parallel", "0", "ps"],
            "not a number from 1",
        ),
        (
            vec!["--fleet", "/nonexistent/fleet.json", "ps"],
            "cannot read fleet file",
        ),
    ] {
        let r = dockhand(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(want), "{args:?}: {r:?}");
    }
    // A plain name is a docker context: one that does not exist is named
    // (docker looks it up on this machine, no network).
    let dir = tempfile::tempdir().unwrap();
    let r = crate::support::sh(
        dockhand::exec::Cmd::new(crate::support::bin())
            .env("DOCKER_CONFIG", dir.path())
            .args([
                "--engine",
                "docker",
                "--hosts",
                "dh-fl-nosuch",
                "status",
                "x",
            ]),
    );
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains(
            "dh-fl-nosuch: dockhand: there is no context dh-fl-nosuch (see `docker context ls`"
        ),
        "{r:?}"
    );
    let file = dir.path().join("fleet.json");
    std::fs::write(
        &file,
        "{\"hosts\": [\n  {\"name\": \"a\", \"url\": \"ssh://root@a\", \"grops\": [\"edge\"]}\n]}",
    )
    .unwrap();
    let r = dockhand(["--fleet", file.to_str().unwrap(), "ps"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("unknown field `grops`") && r.stderr.contains("line 2"),
        "{r:?}"
    );
    // TOML, from a file or stdin (`-`): the key's own line.
    let toml = "# edge\n[[hosts]]\nname = \"a\"\nurl = \"ssh://root@a\"\ngrops = [\"edge\"]\n";
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, toml).unwrap();
    for (from, stdin) in [(file.to_str().unwrap(), ""), ("-", toml)] {
        let r = crate::support::sh(
            dockhand::exec::Cmd::new(crate::support::bin())
                .args(["--fleet", from, "ps"])
                .stdin(stdin),
        );
        assert_eq!(r.code, 2, "{from}: {r:?}");
        assert!(
            r.stderr
                .contains(&format!("fleet file {from}: unknown field `grops`"))
                && r.stderr.contains("at line 5"),
            "{from}: {r:?}"
        );
    }
}

/// `--format` on a fleet of the local docker and the local podman (a podman
/// service on a socket of this test process): a field one host's result
/// lacks fails that host alone, with the error naming the field, while the
/// other host's value is printed; the fleet's JSON matches its schema.
#[test]
fn format_on_a_fleet_reports_a_missing_field_per_host() {
    let engines = crate::support::engines();
    if engines != ["docker", "podman"] {
        return;
    }
    let name = unique("fmt").replacen("dh-", "dhs-", 1);
    let mut on_docker = Cleanup::new("docker");
    let mut on_podman = Cleanup::new("podman");
    // The same name on both: published on docker only.
    for (engine, cleanup, extra) in [
        ("docker", &mut on_docker, &["-p", "127.0.0.1::80"][..]),
        ("podman", &mut on_podman, &[][..]),
    ] {
        cleanup.add(&name);
        let r = sh(Cmd::new(engine)
            .args(["run", "-d", "--name", &name])
            .args(labels())
            .args(extra)
            .args([IMAGE, "sleep", "600"]));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.json");
    let fleet = serde_json::json!({"hosts": [
        {"name": "d", "url": "unix:///var/run/docker.sock"},
        {"name": "p", "url": podman_endpoint(), "engine": "podman"},
    ]});
    std::fs::write(&file, fleet.to_string()).unwrap();
    let file = file.to_str().unwrap();

    let template = "{{.name}} {{.ports.0.host_port}}";
    let r = dockhand(["--fleet", file, "--format", template, "inspect", &name]);
    assert_eq!(r.code, 2, "{r:?}");
    let port = r
        .stdout
        .strip_prefix(&format!("d: {name} "))
        .and_then(|p| p.trim().parse::<u16>().ok());
    assert!(port.is_some_and(|p| p > 0), "{r:?}");
    assert!(
        r.stderr
            .contains("p: dockhand: --format: no field 'ports.0' (ports is a list of 0)"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("fleet: 2 hosts: 1 ok, 1 failed (p: invalid_input), 0 skipped; exit 2"),
        "{r:?}"
    );

    // With --json: the formatted value as the host's result, the error in its entry.
    let r = dockhand([
        "--fleet", file, "--json", "--format", template, "inspect", &name,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let doc = r.json();
    assert_valid("fleet", &doc);
    let d = by_host(&doc, "d");
    assert_eq!(d["ok"], true, "{doc}");
    assert_eq!(d["result"], format!("{name} {}", port.unwrap()), "{doc}");
    let p = by_host(&doc, "p");
    assert_eq!(
        (&p["ok"], &p["exit_code"], &p["error"]["kind"]),
        (&false.into(), &2.into(), &"invalid_input".into()),
        "{doc}"
    );
    assert!(
        p["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no field 'ports.0'")),
        "{doc}"
    );

    // Every host's whole result, and a host that fails in the engine.
    let r = dockhand(["--fleet", file, "--json", "inspect", &name]);
    assert_eq!(r.code, 0, "{r:?}");
    let doc = r.json();
    assert_valid("fleet", &doc);
    for host in ["d", "p"] {
        assert_valid("inspect", &by_host(&doc, host)["result"]);
    }
    let r = dockhand(["--fleet", file, "--json", "inspect", "dhs-fmt-missing"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_valid("fleet", &r.json());
}

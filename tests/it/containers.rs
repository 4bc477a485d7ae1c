//! Containers on the real docker and podman, through the dockhand binary
//! (and the library where the API is the point): batch queries, run with
//! every kind of option, lifecycle on many names, exec/cp/export/commit/
//! update, ps and label lookups, id prefixes, cleanup/reset, cross-process
//! locking, secrets kept out of argv, and input refused before any engine call.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use dockhand::container::{Action, ActionOutcome, RunOptions, Status};
use dockhand::exec::Cmd;
use dockhand::input::{ContainerRef, EnvVar, ImageRef, KeyValue};
use dockhand::{Engine, ErrorKind};

/// A container command that ends promptly on SIGTERM (busybox `sleep` as
/// pid 1 ignores it, which would make every stop take 10 s).
const TRAPPING: [&str; 3] = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; while true; do sleep 1; done",
];

fn trapping() -> Vec<String> {
    TRAPPING.iter().map(|s| s.to_string()).collect()
}

/// `-l` arguments marking what dockhand creates as this test process's.
fn dh_labels() -> Vec<String> {
    vec![
        "-l".into(),
        format!("{TEST_LABEL}=1"),
        "-l".into(),
        format!("{OWNER_LABEL}={}", std::process::id()),
    ]
}

/// Run the binary against `engine` with extra environment variables.
fn dockhand_env(engine: &str, env: &[(&str, &str)], args: &[&str]) -> Ran {
    let mut cmd = Cmd::new(bin()).args(["--engine", engine]).args(args);
    for (k, v) in env {
        cmd = cmd.env(*k, *v);
    }
    sh(cmd)
}

/// `dockhand run -d` of a labelled test container; its full id.
fn dh_run(
    engine: &str,
    cleanup: &mut Cleanup,
    prefix: &str,
    extra: &[&str],
    cmd: &[&str],
) -> (String, String) {
    let name = cleanup.add(&unique(prefix));
    let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name.clone()];
    args.extend(dh_labels());
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(IMAGE.into());
    args.extend(cmd.iter().map(|s| s.to_string()));
    let r = dockhand_on(engine, &args);
    assert_eq!(r.code, 0, "{engine}: {r:?}");
    let id = r.stdout.trim().to_string();
    assert_eq!(id.len(), 64, "full id expected: {r:?}");
    (name, id)
}

fn status_of(engine: &str, name: &str) -> String {
    let r = dockhand_on(engine, ["status", name]);
    assert_eq!(r.code, 0, "{r:?}");
    // One name: just the status.
    r.stdout.trim_end().to_string()
}

fn engine_lib(engine: &str) -> Engine {
    Engine::from_command(engine).unwrap()
}

#[test]
fn status_and_inspect_of_many_names_are_one_engine_call_and_keep_the_found_ones() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let a = start_container(engine, &mut cleanup, "ct-st", &[], &TRAPPING);
        let b = cleanup.add(&unique("ct-st"));
        let r = sh(Cmd::new(engine)
            .args(["create", "--name", &b])
            .args(labels())
            .arg(IMAGE));
        assert_eq!(r.code, 0, "{r:?}");
        let missing = unique("ct-missing");
        let dir = tempfile::tempdir().unwrap();
        let (counted, file) = counting_engine(dir.path(), engine);

        let r =
            sh(Cmd::new(bin()).args(["--engine", &counted, "--json", "status", &a, &missing, &b]));
        assert_eq!(
            r.code, 0,
            "{engine}: missing is an answer, not an error: {r:?}"
        );
        let v = r.json();
        assert_eq!(v[0]["status"], "running", "{engine}");
        assert_eq!(v[1]["status"], "missing");
        assert_eq!(v[1]["name"], missing.as_str());
        assert_eq!(v[2]["status"], "created");
        assert_eq!(calls(&file).len(), 1, "{engine}: {:?}", calls(&file));

        let r =
            sh(Cmd::new(bin()).args(["--engine", &counted, "--json", "inspect", &a, &missing, &b]));
        assert_eq!(r.code, 3, "{engine}: {r:?}");
        let found = r.json();
        assert_eq!(found.as_array().unwrap().len(), 2);
        assert_eq!(found[0]["name"], a.as_str());
        assert_eq!(found[0]["state"]["status"], "running");
        assert!(found[0]["raw"]["Id"].is_string(), "raw engine JSON kept");
        assert_eq!(r.json_error()["error"]["kind"], "not_found");
        assert!(r.json_error()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&missing));
        assert_eq!(calls(&file).len(), 2, "{engine}: one call per command");

        // One container by name goes to the engine as it is: one call, as
        // with the raw CLI; several take one look and one action call.
        let act = |args: &[&str]| {
            let r = sh(Cmd::new(bin())
                .args(["--engine", &counted, "--json"])
                .args(args));
            (r.code, r.json())
        };
        let (code, v) = act(&["stop", &b]);
        assert_eq!(
            (code, v[0]["result"].as_str()),
            (0, Some("stopped")),
            "{engine}: {v}"
        );
        assert_eq!(calls(&file).len(), 3, "{engine}: {:?}", calls(&file));
        let (code, v) = act(&["rm", &missing]);
        assert_eq!(
            (code, v[0]["result"].as_str()),
            (0, Some("absent")),
            "{engine}: {v}"
        );
        assert_eq!(calls(&file).len(), 4, "{engine}: {:?}", calls(&file));
        let (code, v) = act(&["stop", &b, &missing]);
        assert_eq!(code, 3, "{engine}: {v}");
        assert_eq!(v[0]["result"], "stopped", "{engine}: {v}");
        assert_eq!(v[0]["id"].as_str().map(str::len), Some(64), "{engine}: {v}");
        assert_eq!(v[1]["error"]["kind"], "not_found", "{engine}: {v}");
        assert_eq!(calls(&file).len(), 6, "{engine}: {:?}", calls(&file));
    }
}

#[test]
fn run_with_options_publishes_real_ports_and_answers_queries() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let host_dir = tempfile::tempdir().unwrap();
        std::fs::write(host_dir.path().join("f"), "from host").unwrap();
        let volume = format!("{}:/data:ro", host_dir.path().display());
        let (name, id) = dh_run(
            engine,
            &mut cleanup,
            "ct-run",
            &[
                "-p",
                "8080",
                "-p",
                "127.0.0.1::81/udp",
                "-e",
                "PLAIN=a=b c",
                "--volume",
                &volume,
                "--restart",
                "on-failure:2",
                "--hostname",
                "hh",
                "-w",
                "/tmp",
                "--memory",
                "64m",
                "--cpus",
                "0.5",
                "--cpu-shares",
                "512",
                "--cap-add",
                "NET_ADMIN",
            ],
            &TRAPPING,
        );
        let c = engine_lib(engine)
            .containers()
            .inspect_one(&ContainerRef::new(&name).unwrap())
            .unwrap();
        assert_eq!(c.id, id);
        assert_eq!(c.state.status, Status::Running);
        assert_eq!(c.labels[OWNER_LABEL], std::process::id().to_string());
        assert!(c.labels.contains_key("dockhand.creation-token"));
        let tcp = c
            .ports
            .iter()
            .find(|p| p.container_port == 8080)
            .expect("8080 published");
        assert!(tcp.host_port > 0);
        let udp = c
            .ports
            .iter()
            .find(|p| p.container_port == 81)
            .expect("81/udp published");
        assert_eq!(
            (udp.host_ip.as_str(), udp.protocol.as_str()),
            ("127.0.0.1", "udp")
        );
        let mount = c.mounts.iter().find(|m| m.destination == "/data").unwrap();
        assert!(mount.read_only);
        assert_eq!(c.raw["HostConfig"]["Memory"], 64 << 20, "{engine}");
        assert_eq!(c.raw["HostConfig"]["CpuShares"], 512);

        let r = dockhand_on(engine, ["ports", &name, "81/udp"]);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, format!("127.0.0.1:{}", udp.host_port).as_str())
        );
        let r = dockhand_on(engine, ["ports", &name, "9999"]);
        assert_eq!(r.code, 3, "{r:?}");
        let r = dockhand_on(engine, ["pid", &name]);
        let pid: u32 = r.stdout.trim().parse().unwrap_or_else(|_| panic!("{r:?}"));
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        let r = dockhand_on(engine, ["--json", "ip", &name]);
        let ip = r.json()[0]["address"].as_str().unwrap().to_string();
        assert_eq!(
            Some(ip.parse().unwrap()),
            c.networks[0].ipv4.map(std::net::IpAddr::V4)
        );
        let r = dockhand_on(engine, ["gateway", &name]);
        assert_eq!(r.stdout.trim(), c.networks[0].gateway.unwrap().to_string());
        assert_eq!(
            dockhand_on(engine, ["ip", "--ipv6", &name]).code,
            3,
            "no IPv6 on the default network"
        );
        assert_eq!(
            dockhand_on(engine, ["ip", "--network", "nonet", &name]).code,
            3
        );

        let r = dockhand_on(
            engine,
            [
                "exec",
                &name,
                "sh",
                "-c",
                "echo \"$PLAIN\"; pwd; hostname; cat /data/f",
            ],
        );
        assert_eq!(r.stdout, "a=b c\n/tmp\nhh\nfrom host", "{engine}: {r:?}");
    }
}

#[test]
fn lifecycle_on_many_names_reports_each_and_rm_of_missing_is_absent() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let (a, _) = dh_run(engine, &mut cleanup, "ct-life", &[], &TRAPPING);
        let (b, _) = dh_run(engine, &mut cleanup, "ct-life", &[], &TRAPPING);
        let missing = unique("ct-missing");

        let r = dockhand_on(engine, ["--json", "stop", "-t", "5", &a, &missing, &b]);
        assert_eq!(r.code, 3, "{engine}: a missing name fails: {r:?}");
        let v = r.json();
        assert_eq!(
            v[0]["result"], "stopped",
            "{engine}: the others still happen: {r:?}"
        );
        assert_eq!(v[1]["result"], "failed");
        assert_eq!(v[1]["error"]["kind"], "not_found");
        assert_eq!(v[2]["result"], "stopped");
        assert_eq!(status_of(engine, &a), "exited");

        let r = dockhand_on(engine, ["start", &a, &b]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.stdout, format!("{a} started\n{b} started\n"));
        assert_eq!(dockhand_on(engine, ["pause", &a, &b]).code, 0);
        assert_eq!(status_of(engine, &b), "paused");
        // Pausing again is the engine's conflict, reported per name (exit 5).
        let r = dockhand_on(engine, ["--json", "pause", &a]);
        assert_eq!(r.code, 5, "{engine}: {r:?}");
        assert_eq!(r.json()[0]["result"], "failed");
        assert_eq!(dockhand_on(engine, ["unpause", &a, &b]).code, 0);
        assert_eq!(dockhand_on(engine, ["restart", &a]).code, 0);
        assert_eq!(status_of(engine, &a), "running");
        let r = dockhand_on(engine, ["kill", "-s", "TERM", &b]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            dockhand_on(engine, ["--timeout", "20s", "wait", &b])
                .stdout
                .trim(),
            "0"
        );

        let r = dockhand_on(engine, ["rm", &a]);
        assert_eq!(
            r.code, 5,
            "{engine}: rm of a running container needs -f: {r:?}"
        );
        let r = dockhand_on(engine, ["--json", "rm", "-f", &a, &missing, &b]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let v = r.json();
        assert_eq!(v[0]["result"], "removed");
        assert_eq!(v[1]["result"], "absent");
        assert_eq!(v[2]["result"], "removed");
        assert_eq!(status_of(engine, &a), "missing");
    }
}

#[test]
fn wait_exit_code_and_foreground_run() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let (job, _) = dh_run(
            engine,
            &mut cleanup,
            "ct-wait",
            &[],
            &["sh", "-c", "exit 7"],
        );
        let r = dockhand_on(engine, ["--json", "wait", &job]);
        assert_eq!(r.json()["exit_code"], 7, "{r:?}");
        assert_eq!(dockhand_on(engine, ["exit-code", &job]).stdout.trim(), "7");
        let (sleeper, _) = dh_run(engine, &mut cleanup, "ct-wait", &[], &TRAPPING);
        assert_eq!(
            dockhand_on(engine, ["exit-code", &sleeper]).code,
            5,
            "still running"
        );
        let r = dockhand_on(engine, ["--timeout", "1s", "wait", &sleeper]);
        assert_eq!(r.code, 124, "{r:?}");

        let fg = cleanup.add(&unique("ct-fg"));
        let mut args: Vec<String> = vec!["run".into(), "--rm".into(), "--name".into(), fg.clone()];
        args.extend(dh_labels());
        args.extend([
            IMAGE.into(),
            "sh".into(),
            "-c".into(),
            "echo out; echo err >&2; exit 3".into(),
        ]);
        let r = dockhand_on(engine, &args);
        assert_eq!((r.code, r.stdout.as_str()), (3, "out\n"), "{engine}: {r:?}");
        assert!(r.stderr.contains("err"), "{r:?}");
        assert_eq!(status_of(engine, &fg), "missing", "--rm removed it");
    }
}

#[test]
fn exec_streams_and_returns_the_inner_exit_code() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let (name, _) = dh_run(engine, &mut cleanup, "ct-exec", &[], &TRAPPING);
        let r = dockhand_on(engine, ["exec", &name, "sh", "-c", "echo hi; exit 4"]);
        assert_eq!((r.code, r.stdout.as_str()), (4, "hi\n"), "{engine}: {r:?}");
        let r = dockhand_on(
            engine,
            [
                "exec",
                "-u",
                "nobody",
                "-w",
                "/tmp",
                &name,
                "--",
                "sh",
                "-c",
                "id -u; pwd",
            ],
        );
        assert_eq!(r.stdout, "65534\n/tmp\n", "{r:?}");
        let r = sh(Cmd::new(bin())
            .args(["--engine", engine, "exec", "-i", &name, "cat"])
            .stdin("piped in"));
        assert_eq!(r.stdout, "piped in", "{r:?}");
        let r = dockhand_env(
            engine,
            &[("DH_EXEC_VALUE", "v a=l")],
            &[
                "exec",
                "-e",
                "DH_EXEC_VALUE",
                &name,
                "sh",
                "-c",
                "echo \"$DH_EXEC_VALUE\"",
            ],
        );
        assert_eq!(r.stdout, "v a=l\n", "{r:?}");

        assert_eq!(
            dockhand_on(engine, ["exec", &unique("ct-missing"), "true"]).code,
            3
        );
        assert_eq!(dockhand_on(engine, ["stop", "-t", "5", &name]).code, 0);
        let r = dockhand_on(engine, ["exec", &name, "true"]);
        assert_eq!(r.code, 5, "{engine}: not running: {r:?}");
    }
}

#[test]
fn cp_export_commit_update() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let (name, _) = dh_run(engine, &mut cleanup, "ct-files", &[], &TRAPPING);
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("in.txt");
        std::fs::write(&src, "payload\n").unwrap();
        let into = format!("{name}:/tmp/in.txt");
        assert_eq!(
            dockhand_on(engine, ["cp", src.to_str().unwrap(), &into]).code,
            0
        );
        let back = dir.path().join("back.txt");
        let r = dockhand_on(engine, ["cp", &into, back.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(std::fs::read_to_string(&back).unwrap(), "payload\n");
        assert_eq!(
            dockhand_on(engine, ["cp", "/etc/hostname", "/tmp/x"]).code,
            2,
            "host to host"
        );

        let fs = dir.path().join("fs");
        let r = dockhand_on(engine, ["export", &name, fs.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            std::fs::read_to_string(fs.join("tmp/in.txt")).unwrap(),
            "payload\n"
        );
        assert!(fs.join("bin/busybox").exists());
        let leftovers: Vec<_> = std::fs::read_dir(&fs)
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".dockhand-export")
            })
            .collect();
        assert!(leftovers.is_empty(), "the temporary tar is removed");

        let image = format!("dh-commit-{}:t", std::process::id());
        let r = dockhand_on(
            engine,
            [
                "--json",
                "commit",
                "-m",
                "snap shot",
                "-a",
                "tester",
                &name,
                &image,
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let id = r.json()["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
        let comment =
            sh(Cmd::new(engine).args(["image", "inspect", "--format", "{{.Comment}}", &image]));
        sh(Cmd::new(engine).args(["rmi", "-f", &image]));
        assert_eq!(comment.stdout.trim(), "snap shot", "{engine}: {comment:?}");

        let r = dockhand_on(
            engine,
            ["update", "--cpu-shares", "256", "--memory", "48m", &name],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        // podman 4.3 changes the cgroup but not its inspect output: read the cgroup.
        let r = dockhand_on(
            engine,
            [
                "exec",
                &name,
                "cat",
                "/sys/fs/cgroup/cpu/cpu.shares",
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            ],
        );
        assert_eq!(r.stdout, format!("256\n{}\n", 48 << 20), "{engine}: {r:?}");
        assert_eq!(
            dockhand_on(engine, ["update", &name]).code,
            2,
            "nothing to update"
        );
    }
}

#[test]
fn ps_includes_stopped_with_all_and_labels_find_stopped_ones() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let mapping = format!("m{}", std::process::id());
        let user = format!("u{}", unique("ps"));
        let l = |k: &str, v: &str| format!("{k}={v}");
        let (running, _) = dh_run(
            engine,
            &mut cleanup,
            "ct-ps",
            &[
                "-l",
                &l("app.user", &user),
                "-l",
                &l("app.mapping", &mapping),
            ],
            &TRAPPING,
        );
        let (stopped, _) = dh_run(
            engine,
            &mut cleanup,
            "ct-ps",
            &[
                "-l",
                &l("app.user", &user),
                "-l",
                &l("app.mapping", &mapping),
            ],
            &["true"],
        );
        let (other, _) = dh_run(
            engine,
            &mut cleanup,
            "ct-ps",
            &["-l", &l("app.user", &user), "-l", "app.mapping=other"],
            &["true"],
        );
        for done in [&stopped, &other] {
            assert_eq!(
                dockhand_on(engine, ["--timeout", "20s", "wait", done]).code,
                0
            );
        }

        let e = engine_lib(engine);
        let found = e
            .containers()
            .find_by_labels(&[
                KeyValue::pair("app.user", &user).unwrap(),
                KeyValue::pair("app.mapping", &mapping).unwrap(),
            ])
            .unwrap();
        let mut names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        let mut want = [running.as_str(), stopped.as_str()];
        want.sort_unstable();
        assert_eq!(
            names, want,
            "{engine}: the stopped one too, not the other mapping"
        );

        let label = l("app.user", &user);
        let r = dockhand_on(engine, ["--json", "ps", "-l", &label]);
        let rows = r.json();
        assert_eq!(
            rows.as_array().unwrap().len(),
            1,
            "{engine}: running only: {r:?}"
        );
        assert_eq!(rows[0]["name"], running.as_str());
        let r = dockhand_on(engine, ["--json", "ps", "-a", "-l", &label]);
        assert_eq!(r.json().as_array().unwrap().len(), 3);
        let r = dockhand_on(
            engine,
            [
                "--json",
                "ps",
                "-a",
                "-l",
                &label,
                "--filter",
                "status=exited",
            ],
        );
        assert_eq!(r.json().as_array().unwrap().len(), 2, "{r:?}");
        let r = dockhand_on(engine, ["ps", "-a", "-l", &label]);
        assert!(
            r.stdout.starts_with("CONTAINER ID") && r.stdout.contains(&stopped),
            "{r:?}"
        );
        // ps answers from ONE engine call; --inspect adds one batched inspect.
        let dir = tempfile::tempdir().unwrap();
        let (counted, file) = counting_engine(dir.path(), engine);
        let r =
            sh(Cmd::new(bin()).args(["--engine", &counted, "--json", "ps", "-a", "-l", &label]));
        let rows = r.json();
        assert_eq!(calls(&file).len(), 1, "{engine}: {:?}", calls(&file));
        assert!(
            !calls(&file)[0].contains("{{json .}}"),
            "no size computation"
        );
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == stopped.as_str())
            .unwrap();
        assert_eq!(row["status"], "exited", "{engine}: {row}");
        assert!(row["exit_code"].is_number(), "{engine}: {row}");
        assert_eq!(row["id"].as_str().unwrap().len(), 64);
        let r = sh(Cmd::new(bin()).args([
            "--engine",
            &counted,
            "--json",
            "ps",
            "-a",
            "-l",
            &label,
            "--inspect",
        ]));
        assert_eq!(calls(&file).len(), 3, "{engine}: {:?}", calls(&file));
        let full = r.json();
        assert_eq!(full.as_array().unwrap().len(), 3);
        assert!(full[0]["config"]["restart"].is_object() && full[0]["raw"]["Id"].is_string());
        let ids = dockhand_on(engine, ["ps", "-a", "-q", "-l", &label]);
        assert_eq!(ids.stdout.lines().count(), 3, "{ids:?}");
        let r = dockhand_on(
            engine,
            ["--json", "inspect"].into_iter().chain(ids.stdout.lines()),
        );
        assert_eq!(r.json().as_array().unwrap().len(), 3, "inspect $(ps -q)");
        // The library's factory reset by label finds the stopped ones too.
        let removed = e
            .containers()
            .reset(&[KeyValue::pair("app.user", &user).unwrap()])
            .unwrap();
        assert_eq!(removed.len(), 3, "{engine}: {removed:?}");
        assert!(removed.iter().all(|r| r.outcome == ActionOutcome::Removed));
    }
}

#[test]
fn id_prefixes_expand_and_ambiguous_ones_list_candidates() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        // Create containers until two of ours share a first hex digit.
        let mut ids: Vec<(String, String)> = Vec::new();
        let shared = loop {
            let name = cleanup.add(&unique("ct-id"));
            let r = dockhand_on(
                engine,
                [
                    vec!["create".to_string(), "--name".into(), name.clone()],
                    dh_labels(),
                    vec![IMAGE.into()],
                ]
                .concat(),
            );
            assert_eq!(r.code, 0, "{r:?}");
            let id = r.stdout.trim().to_string();
            if let Some((other, _)) = ids.iter().find(|(i, _)| i[..1] == id[..1]) {
                break (other.clone(), id);
            }
            ids.push((id, name));
            assert!(ids.len() <= 16, "pigeonhole");
        };
        let (first, second) = shared;
        let r = dockhand_on(engine, ["--json", "status", &first[..12]]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            r.json()[0]["id"],
            first.as_str(),
            "{engine}: expanded to the full id"
        );
        assert_eq!(r.json()[0]["status"], "created");
        let r = dockhand_on(engine, ["rm", &first[..1]]);
        assert_eq!(r.code, 2, "{engine}: ambiguous: {r:?}");
        assert!(
            r.stderr.contains("ambiguous")
                && r.stderr.contains(&first[..12])
                && r.stderr.contains(&second[..12]),
            "{r:?}"
        );
        assert_eq!(status_of(engine, &first), "created", "nothing was removed");
    }
}

#[test]
fn cleanup_keeps_the_newest_stopped_and_reset_needs_yes() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let prefix = unique("ct-clean");
        let mut stopped = Vec::new();
        for i in 0..3 {
            let name = cleanup.add(&format!("{prefix}-{i}"));
            let r = dockhand_on(
                engine,
                [
                    vec![
                        "run".to_string(),
                        "-d".into(),
                        "--name".into(),
                        name.clone(),
                    ],
                    dh_labels(),
                    vec![IMAGE.into(), "true".into()],
                ]
                .concat(),
            );
            assert_eq!(r.code, 0, "{r:?}");
            assert_eq!(
                dockhand_on(engine, ["--timeout", "20s", "wait", &name]).code,
                0
            );
            stopped.push(name);
        }
        let running = cleanup.add(&format!("{prefix}-up"));
        let r = dockhand_on(
            engine,
            [
                vec![
                    "run".to_string(),
                    "-d".into(),
                    "--name".into(),
                    running.clone(),
                ],
                dh_labels(),
                [vec![IMAGE.to_string()], trapping()].concat(),
            ]
            .concat(),
        );
        assert_eq!(r.code, 0, "{r:?}");

        let r = dockhand_on(
            engine,
            ["--json", "cleanup", "--prefix", &prefix, "--keep", "1"],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let mut removed: Vec<String> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_string())
            .collect();
        removed.sort();
        assert_eq!(
            removed,
            [stopped[0].clone(), stopped[1].clone()],
            "{engine}: the two oldest"
        );
        assert_eq!(status_of(engine, &stopped[2]), "exited", "newest kept");
        assert_eq!(
            status_of(engine, &running),
            "running",
            "running ones are never cleaned"
        );
        let r = dockhand_on(engine, ["cleanup", "--prefix", &prefix, "--keep", "0"]);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, format!("{} removed", stopped[2]).as_str())
        );

        // reset: refused without --yes (stdin is not a terminal), dry run touches nothing.
        let owner = format!("{prefix}=1");
        let r = dockhand_on(
            engine,
            [
                vec![
                    "run".to_string(),
                    "-d".into(),
                    "--name".into(),
                    cleanup.add(&format!("{prefix}-r")),
                    "-l".into(),
                    owner.clone(),
                ],
                dh_labels(),
                [vec![IMAGE.to_string()], trapping()].concat(),
            ]
            .concat(),
        );
        assert_eq!(r.code, 0, "{r:?}");
        let r = dockhand_on(engine, ["reset", "-l", &owner]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("--yes"), "{r:?}");
        let r = dockhand_on(engine, ["--dry-run", "--json", "reset", "--all", "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            r.stderr.contains(&format!("dry-run: {engine} rm --force")),
            "{r:?}"
        );
        // `--all` also lists other tests' containers: one removed between the
        // listing and the planned rm is "absent".
        assert!(
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["result"] == "planned" || v["result"] == "absent"),
            "{r:?}"
        );
        assert_eq!(
            status_of(engine, &running),
            "running",
            "dry run removed nothing"
        );
        let r = dockhand_on(engine, ["--json", "reset", "-l", &owner, "--yes"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(
            r.json().as_array().unwrap().len(),
            1,
            "only the labelled one: {r:?}"
        );
        assert_eq!(status_of(engine, &running), "running");
    }
}

#[test]
fn twenty_parallel_runs_of_one_name_make_exactly_one_container() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let name = cleanup.add(&unique("ct-race"));
        let runs: Vec<_> = (0..20)
            .map(|_| {
                let (engine, name) = (engine.to_string(), name.clone());
                std::thread::spawn(move || {
                    let args = [
                        vec!["run".to_string(), "-d".into(), "--name".into(), name],
                        dh_labels(),
                        [vec![IMAGE.to_string()], trapping()].concat(),
                    ]
                    .concat();
                    dockhand_on(&engine, args)
                })
            })
            .collect();
        let results: Vec<Ran> = runs.into_iter().map(|t| t.join().unwrap()).collect();
        let winners = results.iter().filter(|r| r.code == 0).count();
        assert_eq!(winners, 1, "{engine}: {results:#?}");
        for r in results.iter().filter(|r| r.code != 0) {
            assert_eq!(r.code, 5, "{engine}: busy or exists: {r:?}");
            assert!(
                r.stderr.contains("already in use") || r.stderr.contains("operation in progress"),
                "{r:?}"
            );
        }
        let r = sh(Cmd::new(engine).args(["ps", "-aq", "--filter", &format!("name=^{name}$")]));
        assert_eq!(
            r.stdout.lines().count(),
            1,
            "{engine}: exactly one container: {r:?}"
        );
    }
}

#[test]
fn a_held_lock_makes_others_wait_then_conflict_but_other_names_pass() {
    let runtime = tempfile::tempdir().unwrap();
    let lock_dir = runtime.path().join("dockhand");
    let xdg = runtime.path().to_str().unwrap();
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let busy = start_container(engine, &mut cleanup, "ct-lock", &[], &TRAPPING);
        let free = start_container(engine, &mut cleanup, "ct-lock", &[], &TRAPPING);
        let scope = format!("container-{engine}");
        let held = dockhand::container::lock::NameLock::acquire_in(
            &lock_dir,
            &scope,
            &busy,
            Duration::ZERO,
        )
        .unwrap();

        let r = dockhand_env(
            engine,
            &[("XDG_RUNTIME_DIR", xdg)],
            &["--json", "pause", "--lock-timeout", "300ms", &busy],
        );
        assert_eq!(r.code, 5, "{engine}: {r:?}");
        assert!(r.stderr.contains("operation in progress"), "{r:?}");
        assert_eq!(status_of(engine, &busy), "running", "nothing happened");
        let r = dockhand_env(
            engine,
            &[("XDG_RUNTIME_DIR", xdg)],
            &["pause", "--lock-timeout", "0s", &free],
        );
        assert_eq!(r.code, 0, "{engine}: another name is not blocked: {r:?}");

        // A waiter proceeds once the holder lets go.
        let waiter = {
            let (engine, busy, xdg) = (engine.to_string(), busy.clone(), xdg.to_string());
            std::thread::spawn(move || {
                dockhand_env(
                    &engine,
                    &[("XDG_RUNTIME_DIR", &xdg)],
                    &["pause", "--lock-timeout", "20s", &busy],
                )
            })
        };
        dockhand::exec::sleep(Duration::from_millis(500)).unwrap();
        drop(held);
        let r = waiter.join().unwrap();
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(status_of(engine, &busy), "paused");
        // Released: both names can be locked at once again.
        dockhand::container::lock::LockSet::acquire_in(
            &lock_dir,
            &scope,
            [busy.as_str(), free.as_str()],
            Duration::ZERO,
        )
        .unwrap_or_else(|e| panic!("{engine}: a lock was not released: {e}"));
    }
}

/// Watch every process's argv until `done`; true if any contained `needle`.
fn watch_cmdlines(needle: String, done: Arc<AtomicBool>) -> std::thread::JoinHandle<(bool, usize)> {
    std::thread::spawn(move || {
        let (mut seen, mut rounds) = (false, 0);
        while !done.load(Ordering::SeqCst) {
            seen |= !processes_matching(&needle).is_empty();
            rounds += 1;
        }
        (seen, rounds)
    })
}

#[test]
fn env_values_never_reach_any_argv_and_the_env_file_is_removed_even_on_failure() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let secret = format!("s3cr3t-{}-{}", std::process::id(), unique("v"));
        let tmp = tempfile::tempdir().unwrap();
        let tmpdir = tmp.path().to_str().unwrap();
        let name = cleanup.add(&unique("ct-secret"));
        let env = [("DH_SECRET", secret.as_str()), ("TMPDIR", tmpdir)];

        let done = Arc::new(AtomicBool::new(false));
        let watcher = watch_cmdlines(secret.clone(), done.clone());
        let args = [
            vec![
                "run".to_string(),
                "-d".into(),
                "--name".into(),
                name.clone(),
                "-e".into(),
                "DH_SECRET".into(),
            ],
            dh_labels(),
            [vec![IMAGE.to_string()], trapping()].concat(),
        ]
        .concat();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ok = dockhand_env(engine, &env, &args);
        // A failing run: the image does not exist.
        let bad = dockhand_env(
            engine,
            &env,
            &[
                "run",
                "-d",
                "-e",
                "DH_SECRET",
                "dockhand-test/no-such-image:1",
                "true",
            ],
        );
        done.store(true, Ordering::SeqCst);
        let (seen, rounds) = watcher.join().unwrap();

        assert_eq!(ok.code, 0, "{engine}: {ok:?}");
        assert_ne!(bad.code, 0, "{bad:?}");
        assert!(rounds > 1, "the watcher looked while the engine ran");
        assert!(!seen, "{engine}: the secret appeared in a process's argv");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{engine}: env-files left behind: {left:?}");
        let r = dockhand_on(engine, ["exec", &name, "sh", "-c", "echo \"$DH_SECRET\""]);
        assert_eq!(r.stdout.trim(), secret, "the value arrived");
        // podman records the create argv; it must hold the env-file, not the value.
        let raw = engine_lib(engine)
            .containers()
            .inspect_one(&ContainerRef::new(&name).unwrap())
            .unwrap()
            .raw;
        assert!(!raw["Config"]["CreateCommand"].to_string().contains(&secret));
    }
}

#[test]
fn a_lost_answer_is_not_retried_blindly_the_creation_token_finds_the_container() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let state = dir.path().join(engine);
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/lose-first-answer"
        );
        let flaky = format!("{fixture} {} {engine}", state.display());
        let name = cleanup.add(&unique("ct-lost"));
        let args = [
            vec![
                "--engine".to_string(),
                flaky,
                "--retry-delay".into(),
                "100ms".into(),
                "run".into(),
                "-d".into(),
                "--name".into(),
                name.clone(),
            ],
            dh_labels(),
            [vec![IMAGE.to_string()], trapping()].concat(),
        ]
        .concat();
        let r = sh(Cmd::new(bin()).args(args));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let log = std::fs::read_to_string(state.with_extension("log")).unwrap();
        let runs = log
            .lines()
            .filter(|l| l.starts_with(&format!("{engine} run")))
            .count();
        assert_eq!(runs, 1, "{engine}: run must not be repeated: {log}");
        assert!(log.contains("dockhand.creation-token="), "{log}");
        let c = engine_lib(engine)
            .containers()
            .inspect_one(&ContainerRef::new(&name).unwrap())
            .unwrap();
        assert_eq!(r.stdout.trim(), c.id, "{engine}: the id found by token");
    }
}

#[test]
fn half_made_containers_are_removed_when_run_fails() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let e = engine_lib(engine);
        let busy_port = start_container(
            engine,
            &mut cleanup,
            "ct-port",
            &["-p", "127.0.0.1::80"],
            &TRAPPING,
        );
        let taken = e
            .containers()
            .inspect_one(&ContainerRef::new(&busy_port).unwrap())
            .unwrap()
            .ports[0]
            .host_port;
        let name = cleanup.add(&unique("ct-half"));
        let mut o = RunOptions::new(ImageRef::new(IMAGE).unwrap());
        o.name = Some(ContainerRef::new(&name).unwrap());
        o.publish = vec![format!("127.0.0.1:{taken}:80").parse().unwrap()];
        o.env = vec![EnvVar::new("K", "v").unwrap()];
        o.labels = vec![
            KeyValue::pair(TEST_LABEL, "1").unwrap(),
            KeyValue::pair(OWNER_LABEL, &std::process::id().to_string()).unwrap(),
        ];
        o.command = trapping();
        let err = e.containers().run(&o).unwrap_err();
        assert_ne!(err.kind(), ErrorKind::Parse, "{engine}: {err}");
        assert_eq!(
            status_of(engine, &name),
            "missing",
            "{engine}: the created-but-unstartable container was removed"
        );
        o.publish.clear();
        let id = e.containers().run(&o).unwrap();
        let results = e
            .containers()
            .act(
                &Action::Remove { force: true },
                &[ContainerRef::new(&id).unwrap()],
            )
            .unwrap();
        assert_eq!(results[0].outcome, ActionOutcome::Removed);
    }
}

#[test]
fn bad_input_exits_2_before_any_engine_call() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let (counted, file) = counting_engine(dir.path(), engine);
        let cases: Vec<Vec<&str>> = vec![
            vec!["stop", "--", "--privileged"],
            vec!["rm", "a;b"],
            vec!["status", "$(id)"],
            vec!["inspect", "a\nb"],
            vec!["run", "-d", "--name", "-x", IMAGE],
            vec!["run", "-d", "-e", "K=two\nlines", IMAGE],
            vec!["run", "-d", "-e", "DH_SURELY_UNSET_VARIABLE", IMAGE],
            vec!["run", "-d", "-p", "99999", IMAGE],
            vec!["run", "-d", "--volume", "rel:ative", IMAGE],
            vec!["run", "-d", "--memory", "12qq", IMAGE],
            vec!["run", "-d", "--", "-image"],
            vec!["kill", "-s", "NOPE", "web"],
            vec!["exec", "web", "-e", "K=a\rb", "true"],
            vec!["cp", "web:relative", "/tmp"],
            vec!["cleanup", "--prefix", "-p"],
        ];
        for args in cases {
            let r = sh(Cmd::new(bin()).args(["--engine", &counted]).args(&args));
            assert_eq!(r.code, 2, "{engine} {args:?}: {r:?}");
            assert!(
                calls(&file).is_empty(),
                "{engine} {args:?} reached the engine: {:?}",
                calls(&file)
            );
        }
        let r = sh(Cmd::new(bin()).args([
            "--engine",
            &counted,
            "run",
            "-d",
            "-e",
            "K=two\nlines",
            IMAGE,
        ]));
        assert!(
            r.stderr.contains("env-file"),
            "the reason is explained: {r:?}"
        );
    }
}

#[test]
fn export_unpacks_without_devices_fifos_owners_setid_bits_or_escapes() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let plant = "mknod /dev-c c 1 3 && mknod /dev-b b 7 0 && mkfifo /fifo \
        && cp /bin/busybox /suid && chmod 4755 /suid && chmod 2711 /bin/busybox \
        && mkdir -p /ro/sub && echo x > /ro/sub/f && chmod 0500 /ro \
        && echo odd > /odd && chmod 0606 /odd && chown 1234:5678 /odd \
        && ln -s /etc/passwd /abs-link && ln -s ../../../../../etc /escape \
        && ln /suid /hard";
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let name = cleanup.add(&unique("hd-export"));
        let r = sh(Cmd::new(engine)
            .args(["run", "--name", &name, "--cap-add", "MKNOD"])
            .args(labels())
            .args([IMAGE, "sh", "-c", plant]));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("fs");
        let r = dockhand_on(engine, ["--json", "export", &name, dir.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let report = r.json();
        let skipped: Vec<(String, String)> = report["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["path"].as_str().unwrap().into(),
                    s["reason"].as_str().unwrap().into(),
                )
            })
            .collect();
        for (path, reason) in [
            ("dev-c", "character device"),
            ("dev-b", "block device"),
            ("fifo", "FIFO"),
        ] {
            assert!(
                skipped.contains(&(path.into(), reason.into())),
                "{engine}: {skipped:?}"
            );
            assert!(
                std::fs::symlink_metadata(dir.join(path)).is_err(),
                "{engine}: {path} unpacked"
            );
        }
        let mode = |p: &str| std::fs::symlink_metadata(dir.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("suid"), 0o755, "{engine}: setuid kept");
        assert_eq!(mode("bin/busybox"), 0o711, "{engine}: setgid kept");
        assert_eq!(mode("odd"), 0o606);
        assert_eq!(mode("ro"), 0o500);
        assert_eq!(
            std::fs::read_to_string(dir.join("ro/sub/f")).unwrap(),
            "x\n"
        );
        // No owners: everything is the extracting user's.
        let me = nix::unistd::geteuid().as_raw();
        assert_eq!(std::fs::metadata(dir.join("odd")).unwrap().uid(), me);
        // Links are kept as links, and nothing was written through them.
        assert_eq!(
            std::fs::read_link(dir.join("abs-link")).unwrap(),
            std::path::Path::new("/etc/passwd")
        );
        assert_eq!(
            std::fs::read_link(dir.join("escape")).unwrap(),
            std::path::Path::new("../../../../../etc")
        );
        assert_eq!(
            std::fs::metadata(dir.join("hard")).unwrap().ino(),
            std::fs::metadata(dir.join("suid")).unwrap().ino()
        );
        assert!(report["setid_dropped"].as_u64().unwrap() >= 2, "{report}");
        // The temporary archive is not left in the target.
        let stray: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with(".dockhand-export-"))
            .collect();
        assert!(stray.is_empty(), "{stray:?}");
        std::fs::set_permissions(dir.join("ro"), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}

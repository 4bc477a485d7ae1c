//! Issue 13 part B on the real docker and podman: the typed config, ports
//! podman pre-allocates, exit codes of containers that never ran, `ps` from
//! one call, stats/top/diff/rename, attach and the detach keys (in tmux),
//! `prune` and its preview, `wait-for --http`, `system df`, `image history`,
//! and bad input refused before any engine call.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::objects::{self, Objects};
use crate::support::*;
use dockhand::container::RestartName;
use dockhand::exec::Cmd;
use dockhand::input::ContainerRef;
use dockhand::Engine;

/// Killed at once on `rm -f` (podman otherwise waits 10 s for pid 1 `sh`).
const QUICK: &[&str] = &["--stop-timeout", "0"];

/// `engine ARGS…` must succeed.
fn raw(engine: &str, args: &[&str]) -> Ran {
    let r = sh(Cmd::new(engine).args(args));
    assert_eq!(r.code, 0, "{engine} {args:?}: {r:?}");
    r
}

/// A labelled container made by the raw CLI: `verb` is run -d or create.
fn raw_container(
    engine: &str,
    cleanup: &mut Cleanup,
    verb: &[&str],
    extra: &[&str],
    cmd: &[&str],
) -> String {
    let name = cleanup.add(&unique("vb"));
    let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
    args.extend(["--name".into(), name.clone()]);
    args.extend(labels());
    args.extend(QUICK.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(IMAGE.into());
    args.extend(cmd.iter().map(|s| s.to_string()));
    let r = sh(Cmd::new(engine).args(&args));
    assert_eq!(r.code, 0, "{engine}: {r:?}");
    name
}

#[test]
fn typed_config_from_both_engines_without_env_values() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let name = raw_container(
            e,
            &mut cleanup,
            &["create"],
            &[
                "--restart=on-failure:2",
                "--memory=64m",
                "--cpus=0.5",
                "--hostname=vbhost",
                "--user=1000:1000",
                "--workdir=/tmp",
                "--entrypoint=/bin/sh",
                "-e",
                "VB_SECRET=s3cret-vb-value",
                "--health-cmd=true",
                "--health-interval=2s",
                "--health-retries=4",
                "--log-opt=max-size=1m",
                "--read-only",
                "--cap-drop=ALL",
                "--cap-add=NET_BIND_SERVICE",
                "--tmpfs=/scratch:size=1m",
            ],
            &["-c", "sleep 600"],
        );
        let r = dockhand_on(e, ["--json", "inspect", &name]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            !r.stdout.contains("s3cret-vb-value"),
            "{e}: an env value in the JSON: {}",
            r.stdout
        );
        let c = &r.json()[0]["config"];
        assert_eq!(c["restart"]["policy"], "on-failure", "{e}: {c}");
        assert_eq!(c["restart"]["max_retries"], 2);
        assert_eq!(c["limits"]["memory"], 64 << 20);
        assert_eq!(c["limits"]["cpus"], 0.5);
        assert_eq!(c["hostname"], "vbhost");
        assert_eq!(c["user"], "1000:1000");
        assert_eq!(c["workdir"], "/tmp");
        assert_eq!(c["entrypoint"], serde_json::json!(["/bin/sh"]), "{e}");
        assert_eq!(c["cmd"], serde_json::json!(["-c", "sleep 600"]));
        assert!(c["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "VB_SECRET"));
        assert_eq!(c["healthcheck"]["interval_ms"], 2000);
        assert_eq!(c["healthcheck"]["retries"], 4);
        assert!(c["log"]["options"]["max-size"].is_string(), "{e}: {c}");
        assert_eq!(c["read_only"], true);
        assert_eq!(
            c["capabilities"]["effective"],
            serde_json::json!(["CAP_NET_BIND_SERVICE"]),
            "{e}"
        );
        let mounts = r.json()[0]["mounts"].clone();
        assert!(
            mounts
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["destination"] == "/scratch" && m["kind"] == "tmpfs"),
            "{e}: {mounts}"
        );
        // The library gives the value on request.
        let lib = Engine::from_command(e).unwrap();
        let c = lib
            .containers()
            .inspect_one(&ContainerRef::new(&name).unwrap())
            .unwrap();
        assert_eq!(c.config.env.value("VB_SECRET"), Some("s3cret-vb-value"));
        assert_eq!(c.config.restart.policy, RestartName::OnFailure);
    }
}

#[test]
fn exit_code_of_a_container_that_never_ran_is_its_own_answer() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let created = raw_container(e, &mut cleanup, &["create"], &[], &["true"]);
        let r = dockhand_on(e, ["exit-code", &created]);
        assert_eq!((r.code, r.stdout.as_str()), (6, ""), "{e}: {r:?}");
        assert!(r.stderr.contains("never ran"), "{r:?}");
        let r = dockhand_on(e, ["--json", "exit-code", &created]);
        let v = r.json();
        assert_eq!(
            (r.code, &v["exit_code"], &v["status"]),
            (6, &serde_json::Value::Null, &"created".into())
        );
        assert_eq!(v["outcome"], "never_started");
        // Both engines' `wait` answer 0 at once here: dockhand does not.
        assert_eq!(dockhand_on(e, ["--json", "wait", &created]).code, 6, "{e}");
        // A start that failed: docker records 127 and the OCI error.
        let failed = raw_container(e, &mut cleanup, &["create"], &[], &["/nonexistent"]);
        assert_ne!(sh(Cmd::new(e).args(["start", &failed])).code, 0);
        let r = dockhand_on(e, ["--json", "exit-code", &failed]);
        assert_eq!(r.code, 6, "{e}: {r:?}");
        let v = r.json();
        match e {
            "docker" => {
                assert_eq!(
                    (&v["outcome"], &v["exit_code"]),
                    (&"start_failed".into(), &127.into())
                );
                assert!(v["error"].as_str().unwrap().contains("nonexistent"));
            }
            _ => assert_eq!(v["outcome"], "never_started", "podman cannot tell: {v}"),
        }
        let ran = raw_container(e, &mut cleanup, &["run"], &[], &["sh", "-c", "exit 0"]);
        let r = dockhand_on(e, ["--json", "exit-code", &ran]);
        assert_eq!(
            (r.code, &r.json()["exit_code"]),
            (0, &0.into()),
            "{e}: {r:?}"
        );
    }
}

#[test]
fn preallocated_podman_ports_are_not_reported_as_bindings() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let name = raw_container(
            e,
            &mut cleanup,
            &["create"],
            &["-p", "127.0.0.1::4000"],
            &["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
        );
        let r = dockhand_on(e, ["--json", "inspect", &name]);
        let c = &r.json()[0];
        assert_eq!(c["ports"], serde_json::json!([]), "{e}: created: {c}");
        let assigned = c["assigned_ports"].as_array().unwrap().len();
        assert_eq!(assigned, if e == "podman" { 1 } else { 0 }, "{e}");
        let r = dockhand_on(e, ["port", &name, "4000"]);
        assert_eq!(r.code, 3, "{e}: not bound: {r:?}");
        let r = dockhand_on(
            e,
            ["--json", "ps", "-a", "--filter", &format!("name={name}")],
        );
        assert_eq!(
            r.json()[0]["ports"],
            serde_json::json!([]),
            "{e}: ps agrees"
        );
        raw(e, &["start", &name]);
        let r = dockhand_on(e, ["port", &name, "4000"]);
        assert_eq!(r.code, 0, "{e}: {r:?}");
        assert!(r.stdout.starts_with("127.0.0.1:"), "{r:?}");
        let r = dockhand_on(e, ["ports", &name]);
        assert!(r.stdout.starts_with("4000/tcp -> 127.0.0.1:"), "{r:?}");
        raw(e, &["stop", &name]);
        assert_eq!(
            dockhand_on(e, ["port", &name, "4000"]).code,
            3,
            "{e}: stopped"
        );
    }
}

#[test]
fn stats_top_diff_and_rename() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let sleep = [
            "sh",
            "-c",
            "touch /tmp/vb-new; trap 'exit 0' TERM; while :; do sleep 1; done",
        ];
        let a = raw_container(e, &mut cleanup, &["run", "-d"], &["--memory=64m"], &sleep);
        let b = raw_container(e, &mut cleanup, &["create"], &[], &["true"]);
        let missing = unique("vb-missing");
        // One inspect (names first: one missing name fails a whole stats
        // call on both engines) and one stats call for all of them.
        let dir = tempfile::tempdir().unwrap();
        let (engine, file) = counting_engine(dir.path(), e);
        let r =
            sh(Cmd::new(bin()).args(["--engine", &engine, "--json", "stats", &a, &missing, &b]));
        assert_eq!(r.code, 3, "{e}: {r:?}");
        assert_eq!(calls(&file).len(), 2, "{e}: {:?}", calls(&file));
        let rows = r.json();
        assert_eq!(rows.as_array().unwrap().len(), 2, "{e}: {rows}");
        assert_eq!(rows[0]["container"], a.as_str());
        assert_eq!(
            rows[0]["memory_limit_bytes"].as_u64().unwrap() / 1_000_000,
            67,
            "{e}: 64 MiB"
        );
        assert!(rows[0]["pids"].as_u64().unwrap() >= 1);
        assert_eq!(rows[1]["pids"], 0, "{e}: a created container");
        assert!(r.json_error()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&missing));

        let r = dockhand_on(e, ["--json", "top", &a, "--fields", "args,user"]);
        assert_eq!(r.code, 0, "{e}: {r:?}");
        let top = r.json();
        assert_eq!(top["titles"], serde_json::json!(["pid", "user", "args"]));
        assert!(top["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["args"].as_str().unwrap().starts_with("sh -c touch")));
        assert_eq!(dockhand_on(e, ["top", &b]).code, 5, "{e}: not running");

        let r = dockhand_on(e, ["--json", "diff", &a]);
        let changes = r.json();
        assert!(
            changes
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["path"] == "/tmp/vb-new" && c["kind"] == "added"),
            "{e}: {changes}"
        );
        assert_eq!(dockhand_on(e, ["diff", &missing]).code, 3);

        let renamed = cleanup.add(&unique("vb-renamed"));
        let r = dockhand_on(e, ["--json", "rename", &b, &renamed]);
        assert_eq!(r.code, 0, "{e}: {r:?}");
        assert_eq!(
            (&r.json()["old"], &r.json()["new"]),
            (&b.as_str().into(), &renamed.as_str().into())
        );
        assert_eq!(
            dockhand_on(e, ["rename", &renamed, &a]).code,
            5,
            "{e}: taken"
        );
        assert_eq!(
            dockhand_on(e, ["rename", &renamed, &renamed]).code,
            2,
            "{e}: same name"
        );
        assert_eq!(dockhand_on(e, ["rename", &missing, &renamed]).code, 3);
        // Both names are locked: a lock held on the NEW name (another dockhand
        // about to create a container with it) makes the rename wait, then exit 5.
        let runtime = tempfile::tempdir().unwrap();
        let wanted = unique("vb-wanted");
        let _held = dockhand::container::lock::NameLock::acquire_in(
            &runtime.path().join("dockhand"),
            &format!("container-{e}"),
            &wanted,
            Duration::ZERO,
        )
        .unwrap();
        let r = sh(Cmd::new(bin())
            .env("XDG_RUNTIME_DIR", runtime.path())
            .args([
                "--engine",
                e,
                "rename",
                "--lock-timeout",
                "300ms",
                &renamed,
                &wanted,
            ]));
        assert_eq!(r.code, 5, "{e}: {r:?}");
        assert!(r.stderr.contains("operation in progress"), "{r:?}");
        assert_eq!(dockhand_on(e, ["status", &renamed]).stdout, "created\n");
    }
}

#[test]
fn stats_stream_gives_frames_and_its_engine_child_dies_with_it() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let a = raw_container(
            e,
            &mut cleanup,
            &["run", "-d"],
            &[],
            &["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
        );
        let lib = Engine::from_command(e).unwrap();
        let refs = ContainerRef::many([a.as_str()]).unwrap();
        let mut stream = lib.containers().stats_stream(&refs).unwrap();
        let pids = stream.pids().to_vec();
        let first = stream.next().unwrap().unwrap();
        assert_eq!(
            (first.len(), first[0].name.as_str()),
            (1, a.as_str()),
            "{e}"
        );
        assert!(first[0].memory_bytes.is_some());
        drop(stream);
        // docker 28.2's stats ignores SIGTERM without a terminal: the kill escalates.
        for pid in pids {
            assert!(
                !Path::new(&format!("/proc/{pid}")).exists()
                    || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                        .is_ok_and(|s| s.contains(") Z ")),
                "{e}: stats child {pid} still runs"
            );
        }
    }
}

/// A private tmux server for one interactive session (test-hosts.md,
/// "Interactive terminals"); killed on drop.
struct Tmux {
    socket: String,
    rc: tempfile::NamedTempFile,
}

impl Tmux {
    /// Start `command` in a 120×30 pane; its exit status goes to a file.
    fn start(command: &str) -> Tmux {
        let socket = unique("vb-tmux");
        let rc = tempfile::NamedTempFile::new().unwrap();
        let line = format!("{command}; echo $? > {}; sleep 60", rc.path().display());
        raw(
            "tmux",
            &[
                "-L",
                &socket,
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "30",
                &line,
            ],
        );
        Tmux { socket, rc }
    }

    /// Send keys, one tmux call per key with a pause (podman needs the
    /// detach keys as separate writes).
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            raw("tmux", &["-L", &self.socket, "send-keys", k]);
            dockhand::exec::sleep(Duration::from_millis(300)).unwrap();
        }
    }

    fn pane(&self) -> String {
        raw("tmux", &["-L", &self.socket, "capture-pane", "-p"]).stdout
    }

    /// The command's exit status once it has one (within `limit`).
    fn status(&self, limit: Duration) -> Option<i32> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(text) = std::fs::read_to_string(self.rc.path()) {
                if let Ok(code) = text.trim().parse() {
                    return Some(code);
                }
            }
            dockhand::exec::sleep(Duration::from_millis(200)).unwrap();
        }
        None
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        sh(Cmd::new("tmux").args(["-L", &self.socket, "kill-server"]));
    }
}

#[test]
fn detach_keys_end_attach_exec_start_and_run_with_success_and_leave_it_running() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let shell = raw_container(e, &mut cleanup, &["run", "-dit"], &[], &["sh"]);
        let created = raw_container(e, &mut cleanup, &["create", "-it"], &[], &["sh"]);
        let run_it = cleanup.add(&unique("vb-run-it"));
        let sessions = [
            (format!("attach {shell}"), vec!["C-p", "C-q"]),
            (
                format!("attach --detach-keys ctrl-a,x {shell}"),
                vec!["C-a", "x"],
            ),
            (format!("exec -it {shell} sh"), vec!["C-p", "C-q"]),
            (format!("start -ai {created}"), vec!["C-p", "C-q"]),
            (
                format!(
                    "run -it --name {run_it} -l {TEST_LABEL}=1 -l {OWNER_LABEL}={} --stop-timeout 0 {IMAGE} sh",
                    std::process::id()
                ),
                vec!["C-p", "C-q"],
            ),
        ];
        for (args, keys) in sessions {
            let t = Tmux::start(&format!("{} --engine {e} {args}", bin()));
            dockhand::exec::sleep(Duration::from_secs(2)).unwrap();
            t.keys(&["echo vb-typed-$((6*7))", "Enter"]);
            t.keys(&keys);
            // podman's exec ends a detach after about 5 s.
            let status = t.status(Duration::from_secs(15));
            assert_eq!(status, Some(0), "{e} {args}: {}", t.pane());
            assert!(t.pane().contains("vb-typed-42"), "{e} {args}: {}", t.pane());
        }
        for name in [&shell, &created, &run_it] {
            let r = dockhand_on(e, ["status", name]);
            assert_eq!(r.stdout, "running\n", "{e}: detached, still running: {r:?}");
        }
        // Not a detach: the container's process ends, and its code is dockhand's.
        let t = Tmux::start(&format!("{} --engine {e} attach {shell}", bin()));
        dockhand::exec::sleep(Duration::from_secs(2)).unwrap();
        t.keys(&["exit 3", "Enter"]);
        assert_eq!(
            t.status(Duration::from_secs(15)),
            Some(3),
            "{e}: {}",
            t.pane()
        );
    }
}

#[test]
fn prune_preview_lists_exactly_what_the_prune_removes() {
    for e in objects::engines() {
        let mut cleanup = Cleanup::new(e);
        let mut objects = Objects::new(e);
        let label = format!("dh.vb.prune={}", unique("vb-prune"));
        let with = |extra: &[&str]| -> Vec<String> {
            let mut v = vec!["--label".to_string(), label.clone()];
            v.extend(extra.iter().map(|s| s.to_string()));
            v
        };
        fn args(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let exited = raw_container(e, &mut cleanup, &["run"], &args(&with(&[])), &["true"]);
        let created = raw_container(e, &mut cleanup, &["create"], &args(&with(&[])), &["true"]);
        let kept = raw_container(
            e,
            &mut cleanup,
            &["create"],
            &args(&with(&["--label", "keep=1"])),
            &["true"],
        );
        let running = raw_container(
            e,
            &mut cleanup,
            &["run", "-d"],
            &args(&with(&[])),
            &["sleep", "600"],
        );
        let unused_net = objects.network(&objects::unique("vb-pnet"));
        raw(e, &["network", "create", "--label", &label, &unused_net]);
        let used_vol = objects.volume(&objects::unique("vb-pvol-used"));
        let unused_vol = objects.volume(&objects::unique("vb-pvol"));
        raw(e, &["volume", "create", "--label", &label, &used_vol]);
        raw(e, &["volume", "create", "--label", &label, &unused_vol]);
        let mount = format!("{used_vol}:/d");
        raw_container(
            e,
            &mut cleanup,
            &["run", "-d"],
            &["-v", &mount],
            &["sleep", "600"],
        );

        let filter = format!("label={label}");
        let names = |r: &Ran| -> Vec<String> {
            let mut v: Vec<String> = r.json()["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        for (kind, want) in [
            ("containers", sorted(vec![exited.clone(), created.clone()])),
            ("networks", vec![unused_net.clone()]),
            ("volumes", vec![unused_vol.clone()]),
        ] {
            let mut filters = vec!["--filter".to_string(), filter.clone()];
            if (e, kind) == ("podman", "volumes") {
                // podman 4.3's volume prune has no label!= filter: refused up front.
                let r = dockhand_on(e, ["--dry-run", "prune", kind, "--filter", "label!=keep"]);
                assert_eq!(r.code, 2, "{r:?}");
            } else {
                filters.extend(["--filter".to_string(), "label!=keep".to_string()]);
            }
            let prune = |extra: &[&str]| {
                let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
                args.extend(["prune".into(), kind.into()]);
                args.extend(filters.iter().cloned());
                args
            };
            let preview = dockhand_on(e, prune(&["--json", "--dry-run"]));
            assert_eq!(preview.code, 0, "{e} {kind}: {preview:?}");
            assert_eq!(preview.json()["dry_run"], true);
            assert_eq!(names(&preview), want, "{e} {kind}: preview");
            let noun = &kind[..kind.len() - 1];
            assert!(
                preview
                    .stderr
                    .contains(&format!("dry-run: {e} {noun} prune")),
                "{preview:?}"
            );
            // Without --yes and no terminal: refused, nothing removed.
            let refused = dockhand_on(e, prune(&[]));
            assert_eq!(refused.code, 2, "{e} {kind}: {refused:?}");
            let mut yes = prune(&["--json"]);
            yes.push("--yes".into());
            let done = dockhand_on(e, yes);
            assert_eq!(done.code, 0, "{e} {kind}: {done:?}");
            assert_eq!(
                names(&done),
                want,
                "{e} {kind}: what went = what the preview said"
            );
        }
        for survivor in [&kept, &running] {
            assert!(!dockhand_on(e, ["status", survivor])
                .stdout
                .contains("missing"));
        }
        let r = dockhand_on(e, ["--json", "volume", "inspect", &used_vol]);
        assert_eq!(r.code, 0, "{e}: the used volume stays: {r:?}");
    }
}

#[test]
fn wait_for_http_on_a_published_port_and_on_the_container_ip() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let serve = "sleep 1; mkdir -p /www; echo ok > /www/health; httpd -f -p 8080 -h /www";
        let published = raw_container(
            e,
            &mut cleanup,
            &["run", "-d"],
            &["-p", "127.0.0.1::8080"],
            &["sh", "-c", serve],
        );
        let r = dockhand_on(
            e,
            [
                "--json",
                "--timeout",
                "20s",
                "wait-for",
                &published,
                "--http",
                "/health",
            ],
        );
        assert_eq!(r.code, 0, "{e}: {r:?}");
        let seen = r.json();
        assert_eq!(seen["http_status"], 200);
        assert!(
            seen["address"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{seen}"
        );
        let r = dockhand_on(
            e,
            [
                "--json", "wait-for", &published, "--http", "/absent", "--status", "404",
            ],
        );
        assert_eq!(
            (r.code, &r.json()["http_status"]),
            (0, &404.into()),
            "{e}: {r:?}"
        );
        let r = dockhand_on(
            e,
            [
                "--timeout",
                "2s",
                "wait-for",
                &published,
                "--http",
                "/absent",
            ],
        );
        assert_eq!(r.code, 124, "{e}: {r:?}");
        assert!(r.stderr.contains("HTTP status 404"), "{r:?}");
        // Not published: the container's IP on this machine's bridge.
        let inside = raw_container(e, &mut cleanup, &["run", "-d"], &[], &["sh", "-c", serve]);
        let r = dockhand_on(
            e,
            [
                "--json",
                "--timeout",
                "20s",
                "wait-for",
                &inside,
                "--http",
                "/health",
                "--port",
                "8080",
            ],
        );
        assert_eq!(r.code, 0, "{e}: {r:?}");
        assert!(
            !r.json()["address"].as_str().unwrap().starts_with("127."),
            "{r:?}"
        );
        let r = dockhand_on(e, ["wait-for", &inside, "--http", "/health"]);
        assert_eq!(r.code, 2, "{e}: no published port, no --port: {r:?}");
    }
}

#[test]
fn system_df_and_image_history_are_typed() {
    for e in engines() {
        let r = dockhand_on(e, ["--json", "system", "df"]);
        assert_eq!(r.code, 0, "{r:?}");
        let images = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["kind"] == "images")
            .cloned()
            .unwrap();
        assert!(
            images["total"].as_u64().unwrap() >= 1
                && images["size_bytes"].as_u64().unwrap() > 1_000_000,
            "{e}: {images}"
        );
        let r = dockhand_on(e, ["--json", "image", "history", IMAGE]);
        assert_eq!(r.code, 0, "{r:?}");
        let layers = r.json();
        assert!(
            layers[0]["size_bytes"].as_u64().unwrap() > 1_000_000,
            "{e}: {layers}"
        );
        assert!(layers[0]["id"].as_str().unwrap().starts_with("sha256:"));
        assert_eq!(
            dockhand_on(e, ["image", "history", "dh-vb-absent:1"]).code,
            3
        );
    }
}

#[test]
fn bad_input_of_the_new_verbs_is_refused_before_any_engine_call() {
    for e in engines() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, file) = counting_engine(dir.path(), e);
        for args in [
            &["attach", "--detach-keys", "", "web"][..],
            &["attach", "--detach-keys", "ctrl-1", "web"],
            &["exec", "-it", "--detach-keys", "ab", "web", "sh"],
            &["start", "-i", "web"],
            &["top", "web", "--fields", "pid,rss"],
            &["wait-for", "web", "--http", "health"],
            &["wait-for", "web", "--http", "/a b"],
            &["wait-for", "web", "--http", "/", "--status", "99"],
            &["wait-for", "web", "--status", "200"],
            &["wait-for", "web", "--running", "--log", "x"],
            &["prune", "containers", "--filter", "dangling=true"],
            &["prune", "volumes", "--filter", "until=yesterday"],
            &["prune", "everything"],
            &["rename", "web", "-x"],
            &["stats", "-web"],
        ] {
            let r = sh(Cmd::new(bin()).args(["--engine", &engine]).args(args));
            assert_eq!(r.code, 2, "{e} {args:?}: {r:?}");
        }
        if e == "docker" {
            let r = sh(Cmd::new(bin()).args([
                "--engine", &engine, "prune", "volumes", "--filter", "until=1h", "--yes",
            ]));
            assert_eq!(r.code, 2, "docker refuses until for volumes: {r:?}");
        }
        assert_eq!(calls(&file), Vec::<String>::new(), "{e}: no engine call");
    }
}

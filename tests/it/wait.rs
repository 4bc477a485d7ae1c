//! `wait-for` on the real docker and podman: a log line written after 2 s,
//! ports published and unpublished (busybox httpd), health, exit, timeouts
//! that exit 124 saying what was last seen, and no engine process left.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::*;
use dockhand::container::wait::Condition;
use dockhand::container::Status;
use dockhand::exec::Cmd;
use dockhand::input::ContainerRef;
use dockhand::Engine;

/// No network, and killed at once on `rm -f` (podman otherwise waits 10 s
/// for pid 1 `sh`).
const OFFLINE: &[&str] = &["--stop-timeout", "0", "--network", "none"];

fn engine(name: &str) -> Engine {
    Engine::from_command(name).unwrap()
}

/// No engine command naming this container is left running.
fn assert_no_engine_process(engine: &str, name: &str) {
    let left: Vec<u32> = processes_matching(&format!("-- {name}"))
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.starts_with(engine.as_bytes()))
                .unwrap_or(false)
        })
        .collect();
    assert_eq!(
        left,
        Vec::<u32>::new(),
        "{engine} processes left for {name}"
    );
}

#[test]
fn a_log_line_written_after_two_seconds_is_caught() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let script = "echo booting; sleep 2; echo 'ready on port 8080' >&2; sleep 600";
        let name = start_container(e, &mut cleanup, "wait-log", OFFLINE, &["sh", "-c", script]);
        let started = Instant::now();
        let r = dockhand_on(
            e,
            ["--json", "wait-for", &name, "--log", r"ready on port \d+"],
        );
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            started.elapsed() >= Duration::from_millis(1500),
            "{e}: matched too early"
        );
        let seen = r.json();
        assert_eq!(seen["last_line"], "ready on port 8080", "{e}");
        assert_eq!(seen["condition"], r"log /ready on port \d+/");
        // An existing line matches at once.
        let again = dockhand_on(e, ["wait-for", &name, "--log", "^booting$"]);
        assert_eq!(again.code, 0, "{again:?}");
        assert!(again.stdout.contains("\"booting\""), "{again:?}");
        assert_no_engine_process(e, &name);
    }
}

/// A labelled network of this test's own, removed on drop (after the
/// containers on it: declare it before their `Cleanup`).
struct Network {
    engine: String,
    name: String,
}

impl Network {
    fn create(engine: &str) -> Network {
        let name = unique("wait-net");
        let r = sh(Cmd::new(engine)
            .args(["network", "create"])
            .args(labels())
            .arg(&name));
        assert_eq!(r.code, 0, "{r:?}");
        Network {
            engine: engine.into(),
            name,
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        sh(Cmd::new(&self.engine).args(["network", "rm", &self.name]));
    }
}

#[test]
fn port_waits_for_a_real_listener_published_or_not() {
    for e in engines() {
        // Not the default bridge: other tests on this machine may be
        // re-creating host bridges while this one runs.
        let network = Network::create(e);
        let mut cleanup = Cleanup::new(e);
        // Nothing listens for the first 2 s: docker's port proxy accepts and
        // closes at once then, which must not count.
        let script = "sleep 2; exec httpd -f -p 80 -h /var/www";
        let on_net = ["--stop-timeout", "0", "--network", network.name.as_str()];
        let mut published = on_net.to_vec();
        published.extend(["-p", "127.0.0.1::80"]);
        let pub_name = start_container(
            e,
            &mut cleanup,
            "wait-port",
            &published,
            &["sh", "-c", script],
        );
        let inner_name =
            start_container(e, &mut cleanup, "wait-port", &on_net, &["sh", "-c", script]);
        for (name, loopback) in [(&pub_name, true), (&inner_name, false)] {
            let r = dockhand_on(e, ["--json", "wait-for", name, "--port", "80/tcp"]);
            assert_eq!(r.code, 0, "{r:?}");
            let address = r.json()["address"].as_str().unwrap().to_string();
            let addr: std::net::SocketAddr = address.parse().unwrap();
            assert_eq!(addr.ip().is_loopback(), loopback, "{e}: {address}");
            // It really serves.
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
            let mut reply = String::new();
            s.read_to_string(&mut reply).unwrap();
            assert!(reply.starts_with("HTTP/1."), "{e}: {reply:?}");
        }
        assert_no_engine_process(e, &pub_name);
    }
}

#[test]
fn timeouts_exit_124_with_what_was_last_observed() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let script = "echo still starting; sleep 600";
        let name = start_container(
            e,
            &mut cleanup,
            "wait-timeout",
            OFFLINE,
            &["sh", "-c", script],
        );
        let r = dockhand_on(e, ["--timeout", "1s", "wait-for", &name, "--port", "81"]);
        assert_eq!(r.code, 124, "{r:?}");
        assert!(r.stderr.contains("not port 81/tcp after 1.0s"), "{r:?}");
        assert!(r.stderr.contains("status running"), "{r:?}");
        assert!(
            r.stderr.contains("last log line \"still starting\""),
            "{r:?}"
        );
        let r = dockhand_on(
            e,
            [
                "--json",
                "--timeout",
                "1s",
                "wait-for",
                &name,
                "--log",
                "never",
            ],
        );
        assert_eq!(r.code, 124, "{r:?}");
        let err = r.json_error();
        assert_eq!(err["error"]["kind"], "timeout");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("status running") && message.contains("still starting"),
            "{message}"
        );
        assert_no_engine_process(e, &name);
    }
}

#[test]
fn exit_and_health_conditions_through_the_library() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let mut health = OFFLINE.to_vec();
        health.extend([
            "--health-cmd",
            "test -f /tmp/ready",
            "--health-interval",
            "1s",
        ]);
        let script = "sleep 1; touch /tmp/ready; sleep 2; exit 5";
        let name = start_container(e, &mut cleanup, "wait-life", &health, &["sh", "-c", script]);
        let r = ContainerRef::new(&name).unwrap();
        let limit = Some(Duration::from_secs(30));
        let healthy = engine(e)
            .containers()
            .wait_for(&r, &Condition::Healthy, limit)
            .unwrap();
        assert_eq!(healthy.status, Some(Status::Running), "{e}");
        let exited = engine(e)
            .containers()
            .wait_for(&r, &Condition::Exited, limit)
            .unwrap();
        assert_eq!(
            (exited.status, exited.exit_code),
            (Some(Status::Exited), Some(5)),
            "{e}"
        );
        // A container without a healthcheck can never become healthy: said at once.
        let plain = start_container(e, &mut cleanup, "wait-life", OFFLINE, &[]);
        let r = dockhand_on(e, ["wait-for", &plain, "--healthy"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("no healthcheck"), "{r:?}");
        let running = dockhand_on(e, ["wait-for", &plain, "--running"]);
        assert_eq!(running.code, 0, "{running:?}");
        let missing = dockhand_on(e, ["wait-for", &unique("wait-nosuch"), "--running"]);
        assert_eq!(missing.code, 3, "{missing:?}");
    }
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "current_thread")]
async fn the_async_wait_sees_the_same() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let script = "sleep 1; echo up; sleep 600";
        let name = start_container(
            e,
            &mut cleanup,
            "wait-async",
            OFFLINE,
            &["sh", "-c", script],
        );
        let r = ContainerRef::new(&name).unwrap();
        let pattern = Condition::Log("^up$".parse().unwrap());
        let seen = engine(e)
            .containers()
            .wait_for_async(&r, &pattern, Some(Duration::from_secs(30)))
            .await
            .unwrap();
        assert_eq!(seen.last_line.as_deref(), Some("up"), "{e}");
        let err = engine(e)
            .containers()
            .wait_for_async(&r, &Condition::Exited, Some(Duration::from_millis(500)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), dockhand::ErrorKind::Timeout, "{e}");
        assert_no_engine_process(e, &name);
        // An exit seen while waiting (podman: from conmon's exit file, read
        // off the runtime's thread) carries its code.
        let script = "sleep 1; exit 7";
        let ending = start_container(
            e,
            &mut cleanup,
            "wait-async",
            OFFLINE,
            &["sh", "-c", script],
        );
        let seen = engine(e)
            .containers()
            .wait_for_async(
                &ContainerRef::new(&ending).unwrap(),
                &Condition::Exited,
                Some(Duration::from_secs(30)),
            )
            .await
            .unwrap();
        assert_eq!(
            (seen.status, seen.exit_code),
            (Some(Status::Exited), Some(7)),
            "{e}"
        );
        assert_no_engine_process(e, &ending);
    }
}

/// `--running` and `--exit` watch the container's events (one filtered
/// `events` child) rather than polling, and end on the change itself: a
/// created container that is started later, then its exit. podman's exit
/// wait watches conmon's exit file instead (its events come ~150 ms late).
#[test]
fn state_waits_watch_events_and_end_on_the_change() {
    for e in engines() {
        let mut cleanup = Cleanup::new(e);
        let dir = tempfile::tempdir().unwrap();
        let (counting, calls_file) = counting_engine(dir.path(), e);
        let name = cleanup.add(&unique("perf-watch"));
        let created = sh(Cmd::new(e)
            .args(["create", "--name", &name])
            .args(labels())
            .args(OFFLINE)
            // Exit 0: podman's `died` event then has no exit code at all.
            .args([IMAGE, "sh", "-c", "sleep 2"]));
        assert_eq!(created.code, 0, "{created:?}");
        let mut waiting = dockhand::exec::spawn_streaming(
            &Cmd::new(bin())
                .args(["--engine", &counting, "--json", "--timeout", "60s"])
                .args(["wait-for", &name, "--running"]),
        )
        .unwrap();
        // Start it only once the wait watches its events.
        let watching = || calls(&calls_file).iter().any(|c| c.contains(" events "));
        while !watching() {
            assert!(
                waiting
                    .wait_timeout(Duration::from_millis(50))
                    .unwrap()
                    .is_none(),
                "{e}: the wait ended before the container started"
            );
        }
        let started = sh(Cmd::new(e).args(["start", &name]));
        assert_eq!(started.code, 0, "{started:?}");
        let mut out = String::new();
        waiting
            .take_stdout()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(waiting.wait().unwrap().success(), "{e}: {out}");
        let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(seen["status"], "running", "{e}: {seen}");
        let exited = sh(Cmd::new(bin())
            .env("RUST_LOG", "debug")
            .args(["--engine", &counting, "--json", "wait-for", &name, "--exit"]));
        assert_eq!(exited.code, 0, "{exited:?}");
        assert_eq!(exited.json()["exit_code"], 0, "{e}: {exited:?}");
        // The exit came from the die event (podman: conmon's exit file),
        // with no look after it.
        let ended_by = match e {
            "podman" => "conmon's exit file ends the exit wait",
            _ => "the die event ends the exit wait",
        };
        assert!(exited.stderr.contains(ended_by), "{e}: {exited:?}");
        let log = calls(&calls_file);
        let watches: Vec<&String> = log.iter().filter(|c| c.contains(" events ")).collect();
        let event_watches = if e == "podman" { 1 } else { 2 };
        assert_eq!(
            watches.len(),
            event_watches,
            "{e}: one event watch per wait that watches events: {log:#?}"
        );
        // podman's running wait also asks podman's own wait (its events
        // reach readers in batches, up to ~250 ms late).
        let podman_waits = log
            .iter()
            .filter(|c| c.contains(&format!(" wait --condition running -- {name}")))
            .count();
        assert_eq!(podman_waits, usize::from(e == "podman"), "{e}: {log:#?}");
        assert!(
            watches
                .iter()
                .all(|c| c.contains(&format!("container={name}")) && c.contains("--since")),
            "{e}: {watches:#?}"
        );
        assert_no_engine_process(e, &name);
    }
}

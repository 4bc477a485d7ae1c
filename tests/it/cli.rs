//! The dockhand binary end to end on the real engines, as a shell script sees
//! it: text and `--json` on stdout, JSON errors on stderr, exit codes.
//!
//! Runs the binary `DOCKHAND_BIN` names when set — scripts/test.sh points it
//! at the static musl build — else the one cargo built, so every test here is
//! also a smoke test of the binary that ships. Each CLI command gets its tests
//! here (or in a file scripts/test.sh's static step also runs).

use std::time::{Duration, Instant};

use crate::support::*;
use dockhand::exec::Cmd;

#[test]
fn version_prints_ours_and_with_json_the_engines() {
    let ours = env!("CARGO_PKG_VERSION");
    for args in [["version"], ["--version"]] {
        let r = dockhand(args);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.stdout, format!("dockhand {ours}\n"));
    }
    for engine in engines() {
        let r = dockhand_on(engine, ["--json", "version"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let j = r.json();
        assert_eq!(j["dockhand"], ours);
        assert_eq!(j["engine"]["kind"], engine);
        assert!(!j["engine"]["client"]["version"]
            .as_str()
            .unwrap()
            .is_empty());
        assert!(j["engine_error"].is_null(), "{r:?}");
    }
}

#[test]
fn check_answers_on_every_real_engine() {
    for engine in engines() {
        let r = dockhand_on(engine, ["--json", "check"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let j = r.json();
        assert_eq!(j["engine"], engine);
        assert_eq!(j["reachable"], true);
        assert!(!j["client_version"].as_str().unwrap().is_empty());
        assert!(!j["server_version"].as_str().unwrap().is_empty());
        let r = dockhand_on(engine, ["check"]);
        assert!(r.stdout.contains("reachable:  yes"), "{r:?}");
    }
}

#[test]
fn missing_engine_exits_127_with_a_clear_message() {
    let r = dockhand(["--engine", "/nonexistent/docker", "--json", "check"]);
    assert_eq!(r.code, 127, "{r:?}");
    let e = r.json_error();
    assert_eq!(e["error"]["kind"], "engine_missing");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/docker"),
        "{r:?}"
    );
    let r = dockhand(["--engine", "/nonexistent/docker", "version", "--json"]);
    assert_eq!(r.code, 0, "version works without an engine: {r:?}");
    assert!(r.json()["engine_error"]
        .as_str()
        .unwrap()
        .contains("not installed"));
}

#[test]
fn unreachable_daemon_exits_4_naming_the_socket_within_the_timeout() {
    let started = Instant::now();
    let r = sh(Cmd::new(bin())
        .args(["--engine", "docker", "--timeout", "10s", "check"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock"));
    assert_eq!(r.code, 4, "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(r.stdout.contains("unix:///nonexistent.sock"), "{r:?}");
    assert!(
        r.stdout.contains("DOCKER_HOST=unix:///nonexistent.sock"),
        "{r:?}"
    );
    let r = sh(Cmd::new(bin())
        .args(["--engine", "docker", "--json", "check"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock"));
    assert_eq!(r.code, 4);
    assert_eq!(r.json()["reachable"], false);
    assert_eq!(r.json_error()["error"]["kind"], "unreachable");
}

#[test]
fn invalid_input_exits_2_before_any_engine_call() {
    // An engine command no shell could split: rejected by dockhand itself.
    let r = dockhand(["--engine", "'docker", "--json", "check"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.json_error()["error"]["kind"], "invalid_input");
    // A malformed option value: rejected by the argument parser.
    let r = dockhand(["--timeout", "soon", "check"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("soon"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[test]
fn run_status_rm_round_trip_on_every_real_engine() {
    for engine in engines() {
        let name = unique("smoke");
        let mut cleanup = Cleanup::new(engine);
        cleanup.add(&name);
        let mut args = vec![
            "--json".to_string(),
            "run".into(),
            "-d".into(),
            "--name".into(),
            name.clone(),
        ];
        args.extend(labels());
        args.extend([IMAGE.to_string(), "sleep".into(), "600".into()]);
        let r = dockhand_on(engine, &args);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.json()["name"], name.as_str(), "{engine}: {r:?}");

        let r = dockhand_on(engine, ["status", &name, "dh-smoke-never-created"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            r.stdout.contains("running") && r.stdout.contains("missing"),
            "{engine}: {r:?}"
        );

        let r = dockhand_on(engine, ["rm", "-f", &name]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(engine, ["--json", "status", &name]);
        assert!(r.stdout.contains("missing"), "{engine}: {r:?}");
    }
}

#[test]
fn gateway_without_a_container_is_the_default_networks() {
    for engine in engines() {
        let top = dockhand_on(engine, ["gateway"]);
        let net = dockhand_on(engine, ["network", "gateway"]);
        assert_eq!(top.code, 0, "{engine}: {top:?}");
        assert_eq!(top.stdout, net.stdout, "{engine}");
        assert!(
            top.stdout.trim().parse::<std::net::IpAddr>().is_ok(),
            "{engine}: {top:?}"
        );
    }
}

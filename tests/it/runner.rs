//! The runner core on real processes and real engines: timeouts kill whole
//! process groups, big outputs neither deadlock nor exceed the cap, a hanging
//! engine maps to exit 124, and retries happen for transient failures only.
//! The binary's commands and exit codes on the real engines: tests/cli.rs.

use std::time::{Duration, Instant};

use crate::support::*;
use dockhand::engine::plan::Plan;
use dockhand::engine::retry::RetryPolicy;
use dockhand::engine::Argv;
use dockhand::exec::{run, Cmd, Limits};
use dockhand::{Engine, ErrorKind};

/// A number `sleep` accepts that no other process on the machine has in its argv.
fn sleep_token(n: u32) -> String {
    format!("{}.{}", 900_000 + n, std::process::id())
}

fn limits(timeout_ms: u64, grace_ms: u64) -> Limits {
    Limits {
        timeout: Some(Duration::from_millis(timeout_ms)),
        grace: Duration::from_millis(grace_ms),
        ..Limits::default()
    }
}

#[test]
fn timeout_kills_the_whole_group_including_grandchild() {
    let token = sleep_token(1);
    let script = format!("sleep {token} & sleep {token}");
    let started = Instant::now();
    let err = run(&Cmd::new("sh").args(["-c", &script]), &limits(1000, 1000)).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_millis(2000 + 500), "took {took:?}");
    assert!(err.command().unwrap().contains("sleep"), "{err}");
    assert_eq!(
        processes_matching(&token),
        Vec::<u32>::new(),
        "processes survived"
    );
}

#[test]
fn grandchild_holding_the_pipe_after_the_leader_exits_is_killed_at_the_deadline() {
    let token = sleep_token(2);
    let script = format!("sleep {token} & echo started");
    let err = run(&Cmd::new("sh").args(["-c", &script]), &limits(800, 500)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(processes_matching(&token).is_empty());
}

#[test]
fn a_process_ignoring_sigterm_gets_sigkill_after_the_grace() {
    let token = sleep_token(3);
    let script = format!("trap '' TERM; sleep {token}");
    let started = Instant::now();
    let err = run(&Cmd::new("sh").args(["-c", &script]), &limits(500, 700)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        started.elapsed() >= Duration::from_millis(1100),
        "grace not given"
    );
    assert!(processes_matching(&token).is_empty());
}

#[test]
fn large_stdout_and_stderr_at_once_do_not_deadlock() {
    let mb50 = 50 * 1000 * 1000;
    let script = format!("head -c {mb50} /dev/zero & head -c {mb50} /dev/zero >&2; wait");
    let out = run(&Cmd::new("sh").args(["-c", &script]), &limits(60_000, 1000)).unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), mb50);
    assert_eq!(out.stderr.len(), mb50);
}

#[test]
fn output_over_the_cap_is_a_clear_error_and_the_command_is_killed() {
    let token = sleep_token(4);
    let script = format!("head -c 5000000 /dev/zero; sleep {token}");
    let capped = Limits {
        output_cap: 1 << 20,
        ..limits(30_000, 500)
    };
    let started = Instant::now();
    let err = run(&Cmd::new("sh").args(["-c", &script]), &capped).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::EngineFailure);
    assert!(
        err.message().contains("output cap of 1048576 bytes"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(processes_matching(&token).is_empty());
}

#[test]
fn non_utf8_bytes_are_kept_exactly() {
    let out = run(
        &Cmd::new("printf").arg("\\377\\376ok\\000\\n"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(out.stdout, b"\xff\xfeok\x00\n");
}

#[test]
fn stdin_is_fed_and_argv_is_not_split_by_any_shell() {
    let out = run(&Cmd::new("cat").stdin("a b;$(id)\n"), &Limits::default()).unwrap();
    assert_eq!(out.stdout, b"a b;$(id)\n");
    let out = run(
        &Cmd::new("printf").args(["%s|", "a b", "$(id)", ";"]),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(out.stdout, b"a b|$(id)|;|");
}

#[test]
fn hanging_engine_exits_124_and_leaves_no_process() {
    let token = sleep_token(5);
    let hang = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hang-engine");
    let started = Instant::now();
    let r = sh(Cmd::new(bin())
        .args(["--engine", hang, "--timeout", "1s", "--json", "version"])
        .env("DH_HANG_TOKEN", &token));
    // `version --json` reports the engine error but still succeeds…
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.json()["engine_error"]
            .as_str()
            .unwrap()
            .contains("did not finish"),
        "{r:?}"
    );
    let r = sh(Cmd::new(bin())
        .args(["--engine", hang, "--timeout", "1s", "check"])
        .env("DH_HANG_TOKEN", &token));
    // …while `check` exits 124.
    assert_eq!(r.code, 124, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(processes_matching(&token).is_empty());
}

/// The real engine behind a wrapper that counts its invocations.
fn counted(engine: &str) -> (Engine, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().unwrap();
    let wrapper = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/count-calls");
    let path = file.path().to_str().unwrap();
    let engine = Engine::from_argv([wrapper, path, engine])
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 3,
            initial_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        });
    (engine, file)
}

fn calls(file: &tempfile::NamedTempFile) -> usize {
    std::fs::read_to_string(file.path())
        .unwrap()
        .lines()
        .count()
}

#[test]
fn transient_failures_are_retried_with_backoff_permanent_ones_are_not() {
    let (engine, file) = counted("docker");
    // Not found: one call, no retry.
    let missing = unique("missing");
    let err = engine
        .run(Plan::read(
            Argv::new("inspect")
                .args(["--type", "container"])
                .operands([&missing]),
            |o| Ok(o.stdout_text()),
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(calls(&file), 1);

    // Daemon unreachable: three attempts, with 200 ms then ~400 ms between them.
    let engine = engine.with_host(Some("unix:///nonexistent.sock".into()));
    let started = Instant::now();
    let err = engine
        .run(Plan::read(Argv::new("info"), |o| Ok(o.stdout_text())))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert_eq!(calls(&file), 1 + 3);
    assert!(
        started.elapsed() >= Duration::from_millis(160 + 320),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_plan_that_must_not_repeat_checks_before_retrying() {
    let (engine, file) = counted("docker");
    let engine = engine.with_host(Some("unix:///nonexistent.sock".into()));
    // The check runs before each retry; it fails too (daemon down), so the
    // mutating command itself runs exactly once.
    let plan = Plan::write(
        Argv::new("network").arg("create").operands(["dh-never"]),
        |o| Ok(o.stdout_text()),
    )
    .verify_before_retry(|| {
        Plan::read(
            Argv::new("network").arg("inspect").operands(["dh-never"]),
            |o| Ok(Some(o.stdout_text())),
        )
    });
    let err = engine.run(plan).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable);
    let log = std::fs::read_to_string(file.path()).unwrap();
    assert_eq!(log.matches("network create").count(), 1, "{log}");
    assert_eq!(log.matches("network inspect").count(), 2, "{log}");
}

#[test]
fn dry_run_prints_state_changes_and_runs_reads() {
    let name = unique("dry");
    let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = printed.clone();
    let engine = Engine::from_command("docker")
        .unwrap()
        .with_mode(dockhand::engine::Mode::DryRun(std::sync::Arc::new(
            move |c: &Cmd| sink.lock().unwrap().push(c.to_string()),
        )));
    engine
        .run(Plan::write(
            Argv::new("network").arg("create").operands([&name]),
            |_| Ok(()),
        ))
        .unwrap();
    assert_eq!(
        *printed.lock().unwrap(),
        vec![format!("docker network create -- {name}")]
    );
    // Nothing was created.
    let err = engine
        .run(Plan::read(
            Argv::new("network").arg("inspect").operands([&name]),
            |_| Ok(()),
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_executor_kills_the_group_on_timeout_and_captures_bytes() {
    use dockhand::exec::run_async;
    let token = sleep_token(6);
    let script = format!("sleep {token} & sleep {token}");
    let started = Instant::now();
    let err = run_async(&Cmd::new("sh").args(["-c", &script]), &limits(800, 500))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_millis(2000));
    assert!(processes_matching(&token).is_empty());

    let out = run_async(&Cmd::new("printf").arg("\\377x"), &Limits::default())
        .await
        .unwrap();
    assert_eq!(out.stdout, b"\xffx");

    let engine = Engine::from_command("docker").unwrap();
    let missing = unique("missing");
    let err = engine
        .run_async(Plan::read(Argv::new("inspect").operands([&missing]), |o| {
            Ok(o.stdout_text())
        }))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn verbose_logs_each_command_shell_quoted_with_its_duration() {
    let r = dockhand(["--engine", "docker", "--verbose", "check"]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains("docker version --format '{{json .}}'"))
        .unwrap_or_else(|| panic!("no command log line: {r:?}"));
    assert!(
        line.contains("exit code 0 in ") && line.ends_with(" ms"),
        "{line}"
    );
}

/// Processes with `token` in their argv are gone within `within`.
fn gone_within(token: &str, within: Duration) -> bool {
    let end = Instant::now() + within;
    while !processes_matching(token).is_empty() {
        if Instant::now() >= end {
            return false;
        }
        dockhand::exec::sleep(Duration::from_millis(20)).unwrap();
    }
    true
}

#[test]
fn a_grandchild_that_left_the_group_cannot_hold_a_timeout_open() {
    // The engine prints its answer and exits, but leaves a `setsid` sleep
    // (a session and group of its own) holding stdout and stderr.
    let token = sleep_token(7);
    let dir = tempfile::tempdir().unwrap();
    let engine = dir.path().join("e");
    std::fs::write(
        &engine,
        format!("#!/bin/sh\nsetsid sleep {token} &\necho \"[]\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&engine, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let r =
        sh(Cmd::new(bin())
            .arg("--engine")
            .arg(&engine)
            .args(["--timeout", "1s", "status", "x"]));
    let took = started.elapsed();
    // The escaped sleep is outside dockhand's reach (documented); end it here.
    for pid in processes_matching(&token) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert_eq!(r.code, 124, "{r:?}");
    assert!(r.stderr.contains("did not finish within 1.0s"), "{r:?}");
    // Timeout, then at most a grace for the group and one for the readers.
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_an_unfinished_async_run_kills_its_whole_group() {
    use dockhand::exec::run_async;
    let token = sleep_token(8);
    // `sh` leads the group; the backgrounded sleep is its child, as docker
    // is sudo's in `sudo -n docker`.
    let cmd = Cmd::new("sh").args(["-c", &format!("sleep {token} & sleep {token}")]);
    let limits = limits(60_000, 500);
    let run = run_async(&cmd, &limits);
    let cut = tokio::time::timeout(Duration::from_millis(500), run).await;
    assert!(cut.is_err(), "the command ended by itself: {cut:?}");
    assert!(
        gone_within(&token, Duration::from_secs(3)),
        "survived the drop: {:?}",
        processes_matching(&token)
    );
}

#[cfg(feature = "tokio")]
#[test]
fn dropping_the_runtime_kills_the_group_of_a_running_async_command() {
    use dockhand::exec::run_async;
    let token = sleep_token(9);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let cmd = Cmd::new("sh").args(["-c", &format!("sleep {token} & sleep {token}")]);
    runtime.spawn(async move {
        let _ = run_async(&cmd, &limits(60_000, 500)).await;
    });
    let end = Instant::now() + Duration::from_secs(5);
    // `sh` and both sleeps carry the token.
    while processes_matching(&token).len() < 3 && Instant::now() < end {
        dockhand::exec::sleep(Duration::from_millis(20)).unwrap();
    }
    assert_eq!(processes_matching(&token).len(), 3, "never started");
    drop(runtime);
    assert!(
        gone_within(&token, Duration::from_secs(3)),
        "survived the runtime: {:?}",
        processes_matching(&token)
    );
}

//! The README's exit-code table, walked: every code it lists is produced by a
//! real dockhand invocation on each engine (the table is read from README.md,
//! so a new row without a case here fails the test).

use std::time::{Duration, Instant};

use dockhand::exec::{spawn_streaming, Cmd};

use crate::support::*;

/// The codes of README.md's "Exit codes" table, in its order.
fn documented_codes() -> Vec<i32> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("\n## Exit codes\n")
        .nth(1)
        .expect("README has an Exit codes section");
    let rows = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2); // header and separator
    let codes: Vec<i32> = rows
        .flat_map(|row| {
            let cell = row.split('|').nth(1).unwrap_or_default().to_string();
            cell.split('/')
                .map(|c| {
                    c.trim()
                        .parse::<i32>()
                        .unwrap_or_else(|_| panic!("not a code: {c:?} in {row}"))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(codes.len() >= 10, "{codes:?}");
    codes
}

/// dockhand's exit code when `signal` arrives while it waits on the engine
/// (`wait` of a running container): the engine's `wait` runs, then the signal.
fn interrupted(engine: &str, container: &str, signal: nix::sys::signal::Signal) -> (i32, String) {
    let mut child = spawn_streaming(&Cmd::new(bin()).args([
        "--engine",
        engine,
        "--timeout",
        "60s",
        "wait",
        container,
    ]))
    .unwrap();
    let waiting = format!("wait -- {container}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_matching(&waiting).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{engine}: no engine `wait` started"
        );
        dockhand::exec::sleep(Duration::from_millis(50)).unwrap();
    }
    let mut stderr = child.take_stderr().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait_timeout(Duration::from_secs(10)).unwrap();
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    assert!(
        processes_matching(&waiting).is_empty(),
        "{engine}: engine `wait` survived"
    );
    match status {
        Some(s) => (s.shell_code(), said),
        None => panic!("{engine}: dockhand still running 10 s after {signal}"),
    }
}

#[test]
fn every_documented_exit_code_comes_from_a_real_command() {
    use nix::sys::signal::Signal;
    let codes = documented_codes();
    let no_cli = tempfile::tempdir().unwrap(); // a PATH with no engine in it
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let running = cleanup.add(&unique("ec").replacen("dh-", "dhs-", 1));
        let r = sh(Cmd::new(engine)
            .args(["run", "-d", "--name", &running])
            .args(labels())
            .arg(IMAGE)
            .args(TRAPPING));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let never_started = cleanup.add(&unique("ec").replacen("dh-", "dhs-", 1));
        let r = sh(Cmd::new(engine)
            .args(["create", "--name", &never_started])
            .args(labels())
            .args([IMAGE, "true"]));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let missing = format!("{running}-missing");
        let on = |args: &[&str]| dockhand_on(engine, args);
        for &code in &codes {
            let (got, what) = match code {
                0 => (
                    on(&["status", &running]).code,
                    "status of a running one".into(),
                ),
                // The engine's answer is bigger than --output-cap allows.
                1 => (
                    on(&["--output-cap", "64", "inspect", &running]).code,
                    "inspect over the cap".into(),
                ),
                2 => (on(&["stop", "bad name"]).code, "a bad name".into()),
                3 => (
                    on(&["inspect", &missing]).code,
                    "inspect of a missing one".into(),
                ),
                4 => (
                    on(&[
                        "-H",
                        "unix:///nonexistent/dhs.sock",
                        "--retries",
                        "1",
                        "status",
                        "x",
                    ])
                    .code,
                    "a socket nobody listens on".into(),
                ),
                5 => {
                    let mut args = vec!["create", "--name", &running];
                    let l = labels();
                    args.extend(l.iter().map(String::as_str));
                    args.push(IMAGE);
                    (on(&args).code, "create with a name in use".into())
                }
                6 => (
                    on(&["exit-code", &never_started]).code,
                    "exit-code of one never started".into(),
                ),
                124 => (
                    on(&["--timeout", "1s", "wait", &running]).code,
                    "wait beyond --timeout".into(),
                ),
                127 => {
                    let r = sh(Cmd::new(bin())
                        .args(["--engine", engine, "status", "x"])
                        .env("PATH", no_cli.path()));
                    (r.code, "no engine CLI on PATH".into())
                }
                130 => interrupted(engine, &running, Signal::SIGINT),
                143 => interrupted(engine, &running, Signal::SIGTERM),
                129 => interrupted(engine, &running, Signal::SIGHUP),
                other => panic!("README lists exit code {other}: add a real command for it here"),
            };
            assert_eq!(got, code, "{engine}: {what}");
        }
    }
}

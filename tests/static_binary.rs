//! The static release binaries scripts/build-static.sh makes: statically
//! linked, stripped, within the size budget, and behaving the same on another
//! architecture (run under emulation) as on this one.
//!
//! They need those binaries, so a plain `cargo test` skips them (`#[ignore]`);
//! scripts/test.sh builds the binaries and runs these with `--include-ignored`
//! and three variables:
//! - `DOCKHAND_BIN`: the static binary for this machine (x86_64), which the
//!   smoke tests of the integration tests (`--test it cli::`) also run with;
//! - `DOCKHAND_CROSS_BIN`: the static binary of another architecture (aarch64);
//! - `DOCKHAND_CROSS_RUNNER`: the program that runs it here
//!   (`qemu-aarch64-static`); unset or empty when this machine runs it itself.

use std::time::Duration;

use dockhand::exec::{run, Cmd, Limits};

/// What a finished process left: exit code (128+N for a signal), stdout, stderr.
#[derive(Debug)]
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run a program to completion (2-minute safety limit) with dockhand's executor.
fn sh(cmd: Cmd) -> Ran {
    let limits = Limits {
        timeout: Some(Duration::from_secs(120)),
        ..Limits::default()
    };
    let out = run(&cmd, &limits).unwrap_or_else(|e| panic!("{e}"));
    Ran {
        code: out.status.shell_code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The static binary for this machine, with these arguments.
fn dockhand<'a>(args: impl IntoIterator<Item = &'a str>) -> Ran {
    sh(Cmd::new(var("DOCKHAND_BIN")).args(args))
}

/// The size budget of a static binary with the default features (issue 7).
const BUDGET_BYTES: u64 = 3 * 1024 * 1024;

/// Invocations whose exit code, stdout and stderr must be byte-identical on
/// every architecture: they run the engines for real (under emulation the
/// emulated binary spawns the host's docker and podman), so parsing, process
/// handling and error mapping are compared, not just argument parsing.
/// A `--dry-run` row of a state-changing command compares the engine commands
/// it prints (on stderr) instead of running them.
const SAME_ON_EVERY_ARCH: &[&[&str]] = &[
    &["--help"],
    &["version"],
    &["--engine", "docker", "--json", "version"],
    &["--engine", "podman", "--json", "version"],
    &["--dry-run", "--engine", "docker", "check"],
    &["--dry-run", "--engine", "podman", "--json", "check"],
    &[
        "--engine",
        "docker",
        "--host",
        "unix:///nonexistent.sock",
        "check",
    ],
    &["--engine", "/nonexistent/docker", "--json", "check"],
    &["--engine", "'docker", "check"],
    &[
        "--dry-run",
        "--engine",
        "docker",
        "run",
        "-d",
        "--name",
        "dh-dry",
        "-p",
        "8080",
        "-p",
        "127.0.0.1:18080:80/udp",
        "-e",
        "A=b",
        "-l",
        "k=v",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        "--restart",
        "on-failure:3",
        "dockhand-test/busybox:latest",
        "sleep",
        "1",
    ],
    &[
        "--dry-run",
        "--engine",
        "podman",
        "rm",
        "-f",
        "dh-dry-1",
        "dh-dry-2",
    ],
];

/// Words that differ on every run by design (a fresh creation token, a
/// fresh private env-file), replaced before comparing.
fn normalized(text: &str) -> String {
    let token = regex_lite::Regex::new(r"creation-token=[0-9a-f]+").unwrap();
    let env_file = regex_lite::Regex::new(r"dockhand-env-[A-Za-z0-9]+").unwrap();
    let text = token.replace_all(text, "creation-token=TOKEN");
    env_file
        .replace_all(&text, "dockhand-env-FILE")
        .into_owned()
}

fn var(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set; run scripts/test.sh, which sets it"))
}

/// The command that runs the other architecture's binary here.
fn cross() -> Cmd {
    let bin = var("DOCKHAND_CROSS_BIN");
    match std::env::var("DOCKHAND_CROSS_RUNNER") {
        Ok(runner) if !runner.is_empty() => Cmd::new(runner).arg(bin),
        _ => Cmd::new(bin),
    }
}

/// Both static binaries: this machine's and the other architecture's.
fn static_binaries() -> [String; 2] {
    [var("DOCKHAND_BIN"), var("DOCKHAND_CROSS_BIN")]
}

#[test]
#[ignore = "needs the static binaries; scripts/test.sh builds them and sets DOCKHAND_BIN, DOCKHAND_CROSS_BIN"]
fn static_binaries_are_statically_linked_and_stripped() {
    for bin in static_binaries() {
        let r = sh(Cmd::new("file").args(["-b", &bin]));
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            r.stdout.contains("statically linked") || r.stdout.contains("static-pie linked"),
            "{bin}: {}",
            r.stdout
        );
        assert!(r.stdout.contains(", stripped"), "{bin}: {}", r.stdout);
    }
    // The loader of this machine agrees: nothing to load for the native one.
    let r = sh(Cmd::new("ldd").arg(var("DOCKHAND_BIN")));
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains("statically linked") || said.contains("not a dynamic executable"),
        "{said}"
    );
}

#[test]
#[ignore = "needs the static binaries; scripts/test.sh builds them and sets DOCKHAND_BIN, DOCKHAND_CROSS_BIN"]
fn static_binaries_fit_the_size_budget() {
    for bin in static_binaries() {
        let size = std::fs::metadata(&bin).unwrap().len();
        assert!(size <= BUDGET_BYTES, "{bin}: {size} bytes > {BUDGET_BYTES}");
    }
}

#[test]
#[ignore = "needs the static binaries; scripts/test.sh builds them and sets DOCKHAND_CROSS_BIN"]
fn other_architecture_prints_exactly_what_this_one_prints() {
    let cross = cross();
    for argv in SAME_ON_EVERY_ARCH {
        let here = dockhand(argv.iter().copied());
        let there = sh(cross.clone().args(argv.iter().copied()));
        assert_eq!(
            (
                there.code,
                normalized(&there.stdout),
                normalized(&there.stderr)
            ),
            (
                here.code,
                normalized(&here.stdout),
                normalized(&here.stderr)
            ),
            "{argv:?} differs on the other architecture (left) from here (right)"
        );
    }
}

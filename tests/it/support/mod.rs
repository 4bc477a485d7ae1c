//! Shared harness of the integration tests: real engines, real processes.
//!
//! Conventions every test follows:
//! - names come from [`unique`] (prefix + pid + counter), so parallel tests
//!   and parallel test processes never collide;
//! - everything a test creates carries [`labels`]: `dockhand.test=1` and
//!   `dockhand.test.owner=<pid>`; [`sweep`] (called by [`engines`]) removes
//!   what earlier, dead test processes left behind, never what a live one owns;
//! - a [`Cleanup`] guard removes a test's containers even when it panics.

pub mod fixtures;
pub mod hosts;
pub mod objects;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use dockhand::exec::{run, Cmd, Limits};

/// The test image every engine has (made by scripts/setup-engine.sh).
pub const IMAGE: &str = "dockhand-test/busybox:latest";
/// A container command that ends at once on SIGTERM (busybox `sleep` as
/// PID 1 ignores it, so `stop`/`rm -f` would wait 10 s).
pub const TRAPPING: [&str; 3] = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; while true; do sleep 1; done",
];
/// Label marking test artifacts.
pub const TEST_LABEL: &str = "dockhand.test";
/// Label naming the test process that owns an artifact.
pub const OWNER_LABEL: &str = "dockhand.test.owner";

/// The dockhand binary under test: `$DOCKHAND_BIN` when set (scripts/test.sh
/// points it at the static release build), else the one cargo built.
pub fn bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("DOCKHAND_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_dockhand").into())
    })
}

/// What a finished process left.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// stdout parsed as JSON (panics with the output when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The last stderr line parsed as JSON (`--json` errors).
    pub fn json_error(&self) -> serde_json::Value {
        let line = self.stderr.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stderr is not a JSON error ({e}): {self:?}"))
    }
}

/// Run a program to completion (2-minute safety limit), through dockhand's
/// own executor. With `DH_TEST_TIMING` set, each command's duration goes to
/// stderr with the test's thread name (`--nocapture` shows where a test's
/// time goes).
pub fn sh(cmd: Cmd) -> Ran {
    let limits = Limits {
        timeout: Some(Duration::from_secs(120)),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let out = run(&cmd, &limits).unwrap_or_else(|e| panic!("{e}"));
    if std::env::var_os("DH_TEST_TIMING").is_some() {
        let thread = std::thread::current();
        let line: String = cmd.to_string().chars().take(200).collect();
        eprintln!(
            "timing {} {:.3}s {line}",
            thread.name().unwrap_or("?"),
            started.elapsed().as_secs_f64()
        );
    }
    Ran {
        code: out.status.shell_code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run the dockhand binary with these arguments.
pub fn dockhand<I, S>(args: I) -> Ran
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString>,
{
    sh(Cmd::new(bin()).args(args))
}

/// Run the dockhand binary against one engine.
pub fn dockhand_on<I, S>(engine: &str, args: I) -> Ran
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString>,
{
    sh(Cmd::new(bin()).args(["--engine", engine]).args(args))
}

/// A name no other test (or test process) uses: `dh-<prefix>-<pid>-<n>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "dh-{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// `--label` arguments marking an artifact as this test process's.
pub fn labels() -> Vec<String> {
    vec![
        "--label".into(),
        format!("{TEST_LABEL}=1"),
        "--label".into(),
        format!("{OWNER_LABEL}={}", std::process::id()),
    ]
}

/// The engines to test on: docker and podman, each once it answers (asked
/// once per test process: `podman info` alone takes half a second).
/// The first call sweeps leftovers of dead test processes.
pub fn engines() -> Vec<&'static str> {
    static ANSWERING: OnceLock<Vec<&'static str>> = OnceLock::new();
    ANSWERING
        .get_or_init(|| {
            for engine in ["docker", "podman"] {
                sweep(engine);
            }
            ["docker", "podman"]
                .into_iter()
                .filter(|e| sh(Cmd::new(*e).arg("info")).code == 0)
                .collect()
        })
        .clone()
}

/// Run `body` for each of [`engines`], the engines at the same time (one
/// thread each, named `TEST:ENGINE`): a test's docker and podman halves
/// touch different objects, and mostly wait for their engine. A panic on
/// either fails the test once both have ended.
pub fn each_engine(body: impl Fn(&'static str) + Sync) {
    let test = std::thread::current().name().unwrap_or("test").to_string();
    std::thread::scope(|s| {
        for engine in engines() {
            let body = &body;
            std::thread::Builder::new()
                .name(format!("{test}:{engine}"))
                .spawn_scoped(s, move || body(engine))
                .expect("a thread");
        }
    });
}

/// Remove containers left by test processes that are no longer alive. Only
/// containers carrying an owner label are considered: anything else is not ours.
pub fn sweep(engine: &str) {
    // podman's ps template has no `.Label`: it fails after printing the ids,
    // and every live test container would look ownerless.
    let owner = match engine {
        "podman" => format!("{{{{index .Labels \"{OWNER_LABEL}\"}}}}"),
        _ => format!("{{{{.Label \"{OWNER_LABEL}\"}}}}"),
    };
    let ps = sh(Cmd::new(engine).args([
        "ps",
        "-a",
        "--filter",
        &format!("label={OWNER_LABEL}"),
        "--format",
        &format!("{{{{.ID}}}} {owner}"),
    ]));
    if ps.code != 0 {
        return;
    }
    let stale: Vec<String> = ps
        .stdout
        .lines()
        .filter_map(|l| {
            let (id, owner) = l.split_once(' ')?;
            let alive = owner
                .parse::<u32>()
                .is_ok_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
            (!alive).then(|| id.to_string())
        })
        .collect();
    if !stale.is_empty() {
        sh(Cmd::new(engine).args(["rm", "-f"]).args(stale));
    }
}

/// Removes the named containers when dropped (also on panic).
pub struct Cleanup {
    engine: String,
    names: Vec<String>,
}

impl Cleanup {
    pub fn new(engine: &str) -> Cleanup {
        Cleanup {
            engine: engine.into(),
            names: Vec::new(),
        }
    }

    /// Remember a container to remove; returns the name for convenience.
    pub fn add(&mut self, name: &str) -> String {
        self.names.push(name.to_string());
        name.to_string()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.names.is_empty() {
            sh(Cmd::new(&self.engine).args(["rm", "-f"]).args(&self.names));
        }
    }
}

/// Start a labelled, detached container running `cmd` (default: sleep).
pub fn start_container(
    engine: &str,
    cleanup: &mut Cleanup,
    prefix: &str,
    extra: &[&str],
    cmd: &[&str],
) -> String {
    let name = cleanup.add(&unique(prefix));
    let mut c = Cmd::new(engine)
        .args(["run", "-d", "--name", &name])
        .args(labels())
        .args(extra)
        .arg(IMAGE);
    c = if cmd.is_empty() {
        c.args(["sleep", "600"])
    } else {
        c.args(cmd)
    };
    let r = sh(c);
    assert_eq!(r.code, 0, "{engine} run failed: {r:?}");
    name
}

/// An `--engine` command that runs the real `engine` after recording each
/// call in a file (tests/fixtures/count-calls): the command and the file.
pub fn counting_engine(dir: &std::path::Path, engine: &str) -> (String, std::path::PathBuf) {
    let file = dir.join("calls");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/count-calls");
    (format!("{fixture} {} {engine}", file.display()), file)
}

/// The calls a [`counting_engine`] recorded in `file`, one per line.
pub fn calls(file: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Processes whose command line contains `needle` (from /proc).
pub fn processes_matching(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// A unique interface name of at most 15 bytes.
pub fn ifname() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "dh{}x{}",
        std::process::id() % 10000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Host interfaces a test made; deleted when dropped (also on panic).
pub struct HostIfaces(Vec<String>);

impl HostIfaces {
    pub fn new() -> HostIfaces {
        HostIfaces(Vec::new())
    }

    /// Create a host interface of `kind` (`ifb`, `bridge`) and remember it.
    pub fn add(&mut self, kind: &str) -> String {
        let name = ifname();
        self.0.push(name.clone());
        let r = sh(Cmd::new("ip").args(["link", "add", &name, "type", kind]));
        assert_eq!(r.code, 0, "{r:?}");
        name
    }

    /// Remember a name dockhand will create on the host.
    pub fn expect(&mut self, name: &str) {
        self.0.push(name.to_string());
    }
}

impl Drop for HostIfaces {
    fn drop(&mut self) {
        for name in &self.0 {
            sh(Cmd::new("ip").args(["link", "del", "dev", name]));
        }
    }
}

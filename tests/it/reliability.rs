//! Faults, hostile input and contention on real engines: a stopped daemon,
//! a daemon restarted in the middle of a retried call (library and CLI),
//! signals to dockhand while an engine command runs, 50 concurrent
//! mutations of one container name and of 50 names, a matrix of bad input
//! refused before any engine call, the private env-file's mode, and engine
//! output over the cap. The daemon tests use a PRIVATE dockerd (own socket,
//! data root, exec root and bridge, no iptables) so the shared daemon is
//! never touched and these tests run in parallel with everything else.

#[allow(clippy::disallowed_methods)] // test fixtures start daemons and children directly
mod fixture {
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// A dockerd of our own, stopped and removed on drop whatever happens.
    pub struct PrivateDockerd {
        pub socket: String,
        run_dir: PathBuf,
        data_root: PathBuf,
        bridge: String,
        child: Option<Child>,
    }

    impl PrivateDockerd {
        pub fn start(tag: &str) -> PrivateDockerd {
            let id = format!("dh-{tag}-{}", std::process::id());
            let run_dir = PathBuf::from(format!("/run/{id}"));
            let data_root = PathBuf::from(format!("/var/lib/{id}"));
            std::fs::create_dir_all(&run_dir).unwrap();
            // Its own bridge (≤ 15 characters), removed on drop.
            let bridge = format!("dhbr{}{}", std::process::id() % 100_000, &tag[..1]);
            let made = Command::new("ip")
                .args(["link", "add", "name", &bridge, "type", "bridge"])
                .status();
            assert!(
                made.is_ok_and(|s| s.success()),
                "cannot create bridge {bridge}"
            );
            let mut d = PrivateDockerd {
                socket: format!("unix://{}/docker.sock", run_dir.display()),
                run_dir,
                data_root,
                bridge,
                child: None,
            };
            d.launch();
            d
        }

        fn launch(&mut self) {
            let log = std::fs::File::create(self.run_dir.join("dockerd.log")).unwrap();
            let child = Command::new("dockerd")
                .arg("--host")
                .arg(&self.socket)
                .arg("--data-root")
                .arg(&self.data_root)
                .arg("--exec-root")
                .arg(self.run_dir.join("exec"))
                .arg("--pidfile")
                .arg(self.run_dir.join("docker.pid"))
                .args([
                    "--bridge",
                    &self.bridge,
                    "--iptables=false",
                    "--ip-masq=false",
                ])
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("dockerd starts");
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                let ok = Command::new("docker")
                    .args([
                        "--host",
                        &self.socket,
                        "version",
                        "--format",
                        "{{.Server.Version}}",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if ok {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            panic!(
                "private dockerd did not come up; see {}/dockerd.log",
                self.run_dir.display()
            );
        }

        /// Stop the daemon (SIGTERM, wait for it).
        pub fn stop(&mut self) {
            if let Some(mut child) = self.child.take() {
                let pid = nix::unistd::Pid::from_raw(child.id() as i32);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
                let _ = child.wait();
            }
        }

        /// Start it again after `stop`.
        pub fn restart(&mut self) {
            self.stop();
            self.launch();
        }
    }

    impl Drop for PrivateDockerd {
        fn drop(&mut self) {
            self.stop();
            let _ = Command::new("ip")
                .args(["link", "del", &self.bridge])
                .status();
            let _ = std::fs::remove_dir_all(&self.data_root);
            let _ = std::fs::remove_dir_all(&self.run_dir);
        }
    }

    /// Start dockhand with these arguments and return the child.
    pub fn spawn_dockhand(args: &[&str], env: &[(&str, &str)]) -> Child {
        Command::new(crate::support::bin())
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

use std::time::{Duration, Instant};

use dockhand::exec::Cmd;

use crate::support::*;
use dockhand::engine::retry::RetryPolicy;
use dockhand::{Engine, ErrorKind};
use fixture::{spawn_dockhand, PrivateDockerd};

/// A fixture script under tests/fixtures.
fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn engine_on(socket: &str, attempts: u32, delay_ms: u64) -> Engine {
    engine_via(&["docker"], socket, attempts, delay_ms)
}

fn engine_via(command: &[&str], socket: &str, attempts: u32, delay_ms: u64) -> Engine {
    Engine::from_argv(command)
        .unwrap()
        .with_host(Some(socket.to_string()))
        .with_retry(RetryPolicy {
            attempts,
            initial_delay: Duration::from_millis(delay_ms),
            max_delay: Duration::from_millis(delay_ms),
            ..RetryPolicy::default()
        })
}

#[test]
fn stopped_daemon_fails_with_exit_4_naming_the_cause_after_bounded_logged_retries() {
    let mut daemon = PrivateDockerd::start("down");
    daemon.stop();

    let r = dockhand([
        "--engine",
        "docker",
        "-H",
        &daemon.socket,
        "--timeout",
        "5s",
        "check",
    ]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stdout.contains(&daemon.socket) && r.stdout.contains("does not answer"),
        "{r:?}"
    );

    // A retried call: exactly `attempts` tries (counted by a wrapper around
    // the real CLI), then Unreachable naming the daemon.
    let calls = tempfile::NamedTempFile::new().unwrap();
    let wrapper = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/count-calls");
    let engine = engine_via(
        &[wrapper, calls.path().to_str().unwrap(), "docker"],
        &daemon.socket,
        3,
        100,
    );
    let started = Instant::now();
    let err = engine.system().version().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(
        err.message()
            .contains("Cannot connect to the Docker daemon"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(calls.path())
            .unwrap()
            .lines()
            .count(),
        3
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // The CLI with real commands: exit 4 naming the daemon, `attempts`
    // tries at most, each retry logged on stderr at the default level.
    let dir = tempfile::tempdir().unwrap();
    let name = unique("rel-down");
    for args in [
        vec!["status", "dh-rel-x"],
        vec!["ps", "-a"],
        vec!["inspect", "dh-rel-x"],
        vec!["logs", "dh-rel-x"],
        vec!["rm", "-f", "dh-rel-x"],
        vec!["network", "ls"],
        vec!["run", "-d", "--name", &name, IMAGE, "true"],
    ] {
        let calls = dir.path().join(args[0]);
        let counted = format!("{} {} docker", fixture("count-calls"), calls.display());
        let started = Instant::now();
        let r = dockhand(
            [
                &[
                    "--engine",
                    &counted,
                    "-H",
                    &daemon.socket,
                    "--timeout",
                    "10s",
                    "--retries",
                    "3",
                    "--retry-delay",
                    "100ms",
                ][..],
                &args,
            ]
            .concat(),
        );
        let took = started.elapsed();
        assert_eq!(r.code, 4, "{args:?}: {r:?}");
        assert!(
            r.stderr.contains("Cannot connect to the Docker daemon")
                && r.stderr.contains(&daemon.socket),
            "{args:?}: the cause and the daemon are named: {r:?}"
        );
        let logged: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("failed (unreachable"))
            .collect();
        assert_eq!(
            logged.len(),
            2,
            "{args:?}: retries 1/3 and 2/3 logged: {r:?}"
        );
        assert!(logged[0].contains("attempt 1/3") && logged[1].contains("attempt 2/3"));
        let calls: Vec<String> = std::fs::read_to_string(&calls)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        if args[0] == "run" {
            // Not idempotent: run once, then only look for it by token.
            let runs = calls.iter().filter(|c| c.contains(" run ")).count();
            assert_eq!(runs, 1, "run must not be repeated blindly: {calls:?}");
            assert!(calls.len() <= 4, "{calls:?}");
        } else {
            assert_eq!(calls.len(), 3, "{args:?}: {calls:?}");
        }
        assert!(
            took < Duration::from_secs(3 * 10),
            "{args:?}: within attempts x timeout: {took:?}"
        );
    }
}

#[test]
fn a_retried_call_succeeds_once_a_restarted_daemon_is_back() {
    let mut daemon = PrivateDockerd::start("restart");
    daemon.stop();
    let engine = engine_on(&daemon.socket, 10, 700);
    let caller = std::thread::spawn(move || {
        let started = Instant::now();
        (engine.system().version(), started.elapsed())
    });
    dockhand::exec::sleep(Duration::from_millis(1500)).unwrap();
    daemon.restart();
    let (result, took) = caller.join().unwrap();
    let version = result.expect("the call succeeds after the daemon is back");
    assert!(version.server.is_some());
    assert!(
        took >= Duration::from_millis(1500),
        "answered before the daemon was back: {took:?}"
    );

    // The CLI: a retried `status` started while the daemon is down answers
    // once it is back (the retry window, 0.5+1+2+4+8+16+30 s, is far longer
    // than a restart).
    daemon.stop();
    let child = spawn_dockhand(
        &[
            "--engine",
            "docker",
            "-H",
            &daemon.socket,
            "--retries",
            "8",
            "--retry-delay",
            "500ms",
            "status",
            "dh-rel-nothing",
        ],
        &[],
    );
    dockhand::exec::sleep(Duration::from_millis(1500)).unwrap();
    daemon.restart();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout} {stderr}");
    assert_eq!(stdout.trim(), "missing");
    assert!(
        stderr.contains("attempt 1/8 failed (unreachable"),
        "the first attempts met the stopped daemon: {stderr}"
    );
}

fn interrupt_with(signal: nix::sys::signal::Signal, expected_code: i32, n: u32) {
    let token = format!("{}.{}", 910_000 + n, std::process::id());
    let hang = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hang-engine");
    let child = spawn_dockhand(
        &["--engine", hang, "--timeout", "60s", "check"],
        &[("DH_HANG_TOKEN", &token)],
    );
    // Wait until the engine command is running, then signal dockhand alone.
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_matching(&token).len() < 2 && Instant::now() < deadline {
        dockhand::exec::sleep(Duration::from_millis(50)).unwrap();
    }
    let signalled = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(
        out.status.code(),
        Some(expected_code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted by signal"));
    assert!(
        processes_matching(&token).is_empty(),
        "engine processes survived {signal}"
    );
}

#[test]
fn sigint_kills_the_engine_group_and_exits_130() {
    interrupt_with(nix::sys::signal::Signal::SIGINT, 130, 1);
}

#[test]
fn sigterm_kills_the_engine_group_and_exits_143() {
    interrupt_with(nix::sys::signal::Signal::SIGTERM, 143, 2);
}

#[test]
fn engine_output_over_the_cap_is_a_clear_error() {
    // The real docker's `version` JSON is ~1 KB: a 100-byte cap must refuse it.
    let r = dockhand([
        "--engine",
        "docker",
        "--output-cap",
        "100",
        "--json",
        "check",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.json_error()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("output cap of 100 bytes"),
        "{r:?}"
    );
}

/// Run `n` dockhand processes at once; their results in order.
fn at_once(n: usize, args: impl Fn(usize) -> Cmd + Sync) -> Vec<Ran> {
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..n)
            .map(|i| {
                let cmd = args(i);
                s.spawn(move || sh(cmd))
            })
            .collect();
        runs.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

/// The lines of a trace-calls log.
fn trace(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// The most engine calls of `verb` (`run`, `create`) that were running at
/// the same time, from a trace-calls log.
fn most_at_once(trace: &[String], verb: &str) -> usize {
    let mut running = std::collections::HashSet::new();
    let mut most = 0;
    for line in trace {
        let mut words = line.split(' ');
        match (words.next(), words.next()) {
            (Some("begin"), Some(pid)) if line.contains(&format!(" {verb} ")) => {
                running.insert(pid.to_string());
                most = most.max(running.len());
            }
            (Some("end"), Some(pid)) => {
                running.remove(pid);
            }
            _ => {}
        }
    }
    most
}

#[test]
fn fifty_mutations_of_one_name_are_serialized_and_fifty_of_distinct_names_are_not() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        // A lock directory of our own, to see that every lock is released.
        let runtime = tempfile::tempdir().unwrap();
        let xdg = runtime.path().to_str().unwrap();
        let batch = unique("rel-batch");

        // 50 processes `run -d` the same name: one creates it, every other
        // one is told so (exit 5) — none hangs, none makes a second one, and
        // no two `run` calls ever overlap (the name lock).
        let traced = tempfile::tempdir().unwrap();
        let through = format!(
            "{} {} {engine}",
            fixture("trace-calls"),
            traced.path().display()
        );
        let name = cleanup.add(&unique("rel-same"));
        let results = at_once(50, |_| {
            Cmd::new(bin())
                .args(["--engine", &through, "run", "-d", "--name", &name])
                .args(labels())
                .args(["--label", &format!("dh.rel.batch={batch}"), IMAGE])
                .args(TRAPPING)
                .env("XDG_RUNTIME_DIR", xdg)
        });
        let made: Vec<&Ran> = results.iter().filter(|r| r.code == 0).collect();
        assert_eq!(made.len(), 1, "{engine}: {results:#?}");
        for r in results.iter().filter(|r| r.code != 0) {
            assert_eq!(r.code, 5, "{engine}: busy or exists: {r:?}");
            assert!(
                r.stderr.contains("already in use") || r.stderr.contains("operation in progress"),
                "{r:?}"
            );
        }
        let ps = sh(Cmd::new(engine).args(["ps", "-aq", "--filter", &format!("name=^{name}$")]));
        assert_eq!(
            ps.stdout.lines().count(),
            1,
            "{engine}: exactly one container: {ps:?}"
        );
        let log = trace(traced.path());
        assert_eq!(
            most_at_once(&log, "run"),
            1,
            "{engine}: overlapping runs of one name: {log:#?}"
        );

        // 50 processes `create` 50 names: each create waits in the engine
        // wrapper until all 50 are in flight, which only happens if no
        // process waits for another's lock.
        let traced = tempfile::tempdir().unwrap();
        let through = format!(
            "{} {} {engine}",
            fixture("trace-calls"),
            traced.path().display()
        );
        let names: Vec<String> = (0..50).map(|_| cleanup.add(&unique("rel-many"))).collect();
        let results = at_once(50, |i| {
            Cmd::new(bin())
                .args([
                    "--engine",
                    &through,
                    "--timeout",
                    "60s",
                    "create",
                    "--name",
                    &names[i],
                ])
                .args(labels())
                .args(["--label", &format!("dh.rel.batch={batch}"), IMAGE, "true"])
                .env("XDG_RUNTIME_DIR", xdg)
                .env("DH_RENDEZVOUS", "50")
        });
        for r in &results {
            assert_eq!(r.code, 0, "{engine}: {r:?}");
        }
        let log = trace(traced.path());
        let met = log.iter().filter(|l| l.starts_with("met ")).count();
        assert_eq!(
            met, 50,
            "{engine}: all 50 creates were in flight at once: {log:#?}"
        );
        assert_eq!(most_at_once(&log, "create"), 50, "{engine}");
        let ps = sh(Cmd::new(engine).args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=dh.rel.batch={batch}"),
        ]));
        assert_eq!(
            ps.stdout.lines().count(),
            51,
            "{engine}: one + fifty: {ps:?}"
        );
        // One lock file per scope, and every name free again.
        let dir = runtime.path().join("dockhand");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [format!("container-{engine}.lock").as_str()]);
        let all = names.iter().chain([&name]).map(String::as_str);
        dockhand::container::lock::LockSet::acquire_in(
            &dir,
            &format!("container-{engine}"),
            all,
            Duration::ZERO,
        )
        .unwrap_or_else(|e| panic!("{engine}: a lock was not released: {e}"));
    }
}

/// Hostile container/object names and references, each wrong for a reason
/// an engine or a shell would trip over.
fn hostile_names() -> Vec<String> {
    [
        "-x",
        "--privileged",
        "a;b",
        "$(id)",
        "`id`",
        "a\nb",
        "a\rb",
        "a b",
        "a\u{7}b",
        "",
        "../x",
        "名前",
    ]
    .into_iter()
    .map(String::from)
    .chain(["a".repeat(300)])
    .collect()
}

/// Every place a name or reference goes, `{}` standing for it.
const NAME_SLOTS: &[&[&str]] = &[
    &["run", "-d", "--name={}", IMAGE],
    &["run", "-d", "--", "{}"],
    &["create", "--name={}", IMAGE],
    &["create", "--", "{}"],
    &["rm", "-f", "--", "{}"],
    &["inspect", "--", "{}"],
    &["status", "--", "{}"],
    &["exec", "--", "{}", "true"],
    &["logs", "--", "{}"],
    &["logs", "-f", "--", "{}"],
    &["stop", "--", "{}"],
    &["kill", "--", "{}"],
    &["wait", "--", "{}"],
    &["wait-for", "--running", "--", "{}"],
    &["pid", "--", "{}"],
    &["ports", "--", "{}"],
    &["export", "--", "{}", "/tmp/dh-rel-never"],
    &["update", "--memory", "64m", "--", "{}"],
    &["cp", "{}:/etc/hosts", "/tmp/dh-rel-never"],
    &["network", "create", "--", "{}"],
    &["network", "rm", "--", "{}"],
    &["volume", "create", "--", "{}"],
    &["image-exists", "--", "{}"],
    &["rmi", "--", "{}"],
    &["tag", IMAGE, "{}"],
    &["link", "add", "veth", "--if", "eth1", "--", "{}"],
    &["netns", "show", "--", "{}"],
];

/// Bad values of options: ports, CIDRs, gateways, MACs, durations, times,
/// signals, memory sizes, CPU counts, interface names, counts.
fn bad_options() -> Vec<Vec<String>> {
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for p in [
        "99999",
        "0",
        "abc",
        "80/xyz",
        "1.2.3.4:70000:80",
        "80;id",
        "1.2.3.999::80",
        "65536/tcp",
        "80-70",
        "-1",
    ] {
        cases.push(vec!["run", "-d", "-p", p, IMAGE]);
    }
    for p in ["0", "99999", "abc", "80/sctp2", "80;x"] {
        cases.push(vec!["ports", "web", p]);
        cases.push(vec!["wait-for", "--port", p, "web"]);
    }
    for c in [
        "10.0.0.0/33",
        "10.0.0.300/24",
        "10.0.0.0",
        "fe80::/129",
        "/24",
        "10.0.0.0/24;x",
        "10.0.0.0/-1",
    ] {
        cases.push(vec!["network", "create", "--subnet", c, "n1"]);
        cases.push(vec![
            "link", "add", "veth", "--if", "eth1", "--ip", c, "web",
        ]);
    }
    for g in ["10.1.0.1", "x", "10.0.0.300"] {
        cases.push(vec![
            "network",
            "create",
            "--subnet",
            "10.0.0.0/24",
            "--gateway",
            g,
            "n1",
        ]);
    }
    cases.push(vec!["network", "create", "--gateway", "10.0.0.1", "n1"]);
    cases.push(vec![
        "link",
        "add",
        "veth",
        "--if",
        "eth1",
        "--ip",
        "10.0.0.2/24",
        "--gateway",
        "10.9.0.1",
        "web",
    ]);
    for m in [
        "zz:00:00:00:00:00",
        "01:00:5e:00:00:01",
        "00:11:22:33:44",
        "00:11:22:33:44:55:66",
        "ff:ff:ff:ff:ff:ff",
        "00:00:00:00:00:00",
        "00:11:22:33:44:55;",
    ] {
        cases.push(vec![
            "link", "add", "veth", "--if", "eth1", "--mac", m, "web",
        ]);
    }
    for d in [
        "soon",
        "-1s",
        "1x",
        "",
        "1.5.5s",
        "2562047788015215h",
        "876001h",
        "1s;id",
    ] {
        cases.push(vec!["--timeout", d, "status", "web"]);
        cases.push(vec!["--retry-delay", d, "status", "web"]);
        cases.push(vec!["exec", "--time-limit", d, "web", "true"]);
        cases.push(vec!["stop", "--lock-timeout", d, "web"]);
        cases.push(vec!["wait-for", "--running", "--timeout", d, "web"]);
    }
    for t in [
        "yesterday",
        "253402300800",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2562047788015215h",
        "-5m",
    ] {
        cases.push(vec!["logs", "--since", t, "web"]);
        cases.push(vec!["events", "--until", t]);
    }
    for s in ["NOPE", "0", "99", "KILL;id", "SIGFOO", "65", ""] {
        cases.push(vec!["kill", "-s", s, "web"]);
    }
    for m in [
        "12qq",
        "1.5.5m",
        "",
        "9999999999999999999g",
        "64m;x",
        "0",
        "-1",
    ] {
        cases.push(vec!["run", "-d", "--memory", m, IMAGE]);
        cases.push(vec!["update", "--memory", m, "web"]);
    }
    for c in ["abc", "1e9", "nan", "inf", "0", "-1"] {
        cases.push(vec!["run", "-d", "--cpus", c, IMAGE]);
    }
    for i in [
        "a-name-too-long-",
        "eth0:1",
        "a b",
        "a/b",
        "eth%d",
        "",
        ".",
        "..",
        "-x",
        "e\n1",
    ] {
        cases.push(vec!["link", "add", "veth", "--if", i, "web"]);
        cases.push(vec![
            "link", "add", "macvlan", "--parent", i, "--if", "m", "web",
        ]);
        cases.push(vec!["link", "del", "--if", i, "web"]);
    }
    for n in ["-5", "abc"] {
        cases.push(vec!["logs", "--tail", n, "web"]);
        cases.push(vec!["stop", "-t", n, "web"]);
    }
    for e in ["K=two\nlines", "=v", "K=a\rb", "DH_SURELY_UNSET_VARIABLE"] {
        cases.push(vec!["run", "-d", "-e", e, IMAGE]);
        cases.push(vec!["exec", "-e", e, "web", "true"]);
    }
    for l in ["noequals", "=v", "a\nb=c"] {
        cases.push(vec!["run", "-d", "-l", l, IMAGE]);
        cases.push(vec!["ps", "-l", l]);
    }
    cases.push(vec!["run", "-d", "--volume", "rel:ative", IMAGE]);
    cases.push(vec!["run", "-d", "--restart", "sometimes", IMAGE]);
    cases.push(vec!["events", "--filter", "colour=red"]);
    cases.push(vec!["wait-for", "--log", "(", "web"]);
    cases
        .into_iter()
        .map(|c| c.into_iter().map(String::from).collect())
        .collect()
}

#[test]
fn bad_input_everywhere_exits_2_before_any_engine_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<Vec<String>> = Vec::new();
    for slot in NAME_SLOTS {
        for name in hostile_names() {
            cases.push(slot.iter().map(|w| w.replace("{}", &name)).collect());
        }
    }
    cases.extend(bad_options());
    eprintln!("{} bad invocations per engine", cases.len());
    for engine in engines() {
        let calls = dir.path().join(engine);
        let counted = format!("{} {} {engine}", fixture("count-calls"), calls.display());
        for args in &cases {
            let r = sh(Cmd::new(bin()).args(["--engine", &counted]).args(args));
            assert_eq!(r.code, 2, "{engine} {args:?}: {r:?}");
            assert!(
                !r.stderr.trim().is_empty(),
                "{engine} {args:?}: no reason given"
            );
            assert!(
                !calls.exists(),
                "{engine} {args:?} reached the engine: {:?}",
                std::fs::read_to_string(&calls)
            );
        }
    }
    assert!(cases.len() > 400, "{} cases", cases.len());
}

#[test]
fn nul_bytes_are_refused_by_every_input_type_before_any_engine_call() {
    use dockhand::input::*;
    // argv cannot carry NUL, so the library API is where NUL can arrive.
    // (A `LogPattern` may hold one: it is matched here, against log bytes.)
    let checks: Vec<(&str, dockhand::Result<()>)> = vec![
        ("ContainerRef", ContainerRef::new("a\0b").map(drop)),
        ("ImageRef", ImageRef::new("busybox\0").map(drop)),
        ("ImageTag", ImageTag::new("a:1\0").map(drop)),
        ("Platform", Platform::new("linux/amd64\0").map(drop)),
        ("NetworkName", NetworkName::new("n\0").map(drop)),
        ("NetworkAlias", NetworkAlias::new("n\0").map(drop)),
        ("VolumeName", VolumeName::new("v\0").map(drop)),
        ("KeyValue", KeyValue::new("label", "a=b\0").map(drop)),
        ("EnvVar::new", EnvVar::new("K", "v\0").map(drop)),
        ("EnvVar::parse", EnvVar::parse("K=\0").map(drop)),
        ("Word", Word::new("x\0").map(drop)),
        ("PortSpec", PortSpec::new("80\0").map(drop)),
        ("ContainerPort", ContainerPort::new("80\0").map(drop)),
        ("VolumeSpec", VolumeSpec::new("/a:/b\0").map(drop)),
        ("ContainerLink", ContainerLink::new("db\0").map(drop)),
        ("RestartPolicy", RestartPolicy::new("always\0").map(drop)),
        ("MemorySize", MemorySize::new("64m\0").map(drop)),
        ("Cpus", Cpus::new("1\0").map(drop)),
        ("Signal", Signal::new("KILL\0").map(drop)),
        ("CopyPath", CopyPath::new("web:/a\0").map(drop)),
        ("IfName", IfName::new("eth\0").map(drop)),
        ("Subnet", Subnet::new("10.0.0.0/24\0").map(drop)),
        ("Cidr", "10.0.0.1/24\0".parse::<Cidr>().map(drop)),
        ("Mac", "02:00:00:00:00:01\0".parse::<Mac>().map(drop)),
        ("TimeSpec", TimeSpec::parse("10m\0").map(drop)),
        ("parse_duration", parse_duration("1s\0").map(drop)),
        (
            "EventFilter",
            EventFilter::new("container", "a\0").map(drop),
        ),
        ("Tail", "1\0".parse::<Tail>().map(drop)),
        (
            "ExecForm",
            dockhand::image::dockerfile::ExecForm::parse("sh -c a\0b").map(drop),
        ),
        (
            "PackageName",
            dockhand::image::dockerfile::PackageName::new("curl\0").map(drop),
        ),
        (
            "User",
            dockhand::image::dockerfile::User::new("nobody\0").map(drop),
        ),
        (
            "daemon-config KeyPath",
            dockhand::system::daemon_config::KeyPath::new("a\0").map(drop),
        ),
        (
            "import Change",
            dockhand::image::Change::new("USER a\0").map(drop),
        ),
    ];
    for (what, result) in checks {
        let e = result.expect_err(what);
        assert_eq!(e.kind(), dockhand::ErrorKind::InvalidInput, "{what}: {e}");
    }

    // Commands and arguments (free text) with NUL: refused, never run.
    let dir = tempfile::tempdir().unwrap();
    let calls = dir.path().join("calls");
    let engine = Engine::from_argv([
        fixture("count-calls"),
        calls.display().to_string(),
        "docker".into(),
    ])
    .unwrap();
    let mut run = dockhand::container::RunOptions::new(ImageRef::new(IMAGE).unwrap());
    run.command = vec!["sh".into(), "-c\0rm -rf /".into()];
    let e = engine.containers().run(&run).unwrap_err();
    assert_eq!(e.kind(), dockhand::ErrorKind::InvalidInput, "{e}");
    let exec = dockhand::container::ExecOptions {
        command: vec!["true\0".into()],
        ..Default::default()
    };
    let e = engine
        .containers()
        .exec(&ContainerRef::new("web").unwrap(), &exec)
        .unwrap_err();
    assert_eq!(e.kind(), dockhand::ErrorKind::InvalidInput, "{e}");
    assert!(!calls.exists(), "{:?}", std::fs::read_to_string(&calls));
}

#[test]
fn the_private_env_file_is_0600_while_the_engine_reads_it_and_gone_after() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let log = dir.path().join(format!("{engine}.modes"));
        let watched = format!("{} {} {engine}", fixture("env-file-modes"), log.display());
        let name = cleanup.add(&unique("rel-envfile"));
        let secret = format!("v-{}", unique("s"));
        let env = |c: Cmd| c.env("DH_REL_SECRET", &secret);
        let ok = sh(env(Cmd::new(bin())
            .args([
                "--engine",
                &watched,
                "run",
                "-d",
                "--name",
                &name,
                "-e",
                "DH_REL_SECRET",
            ])
            .args(labels())
            .arg(IMAGE)
            .args(TRAPPING)));
        assert_eq!(ok.code, 0, "{engine}: {ok:?}");
        // A run that fails in the engine: the image does not exist.
        let failed = sh(env(Cmd::new(bin()).args([
            "--engine",
            &watched,
            "run",
            "-d",
            "-e",
            "DH_REL_SECRET",
            "dockhand-test/no-such-image:1",
        ])));
        assert_ne!(failed.code, 0, "{engine}: {failed:?}");
        let seen = std::fs::read_to_string(&log).unwrap();
        let files: Vec<Vec<&str>> = seen.lines().map(|l| l.split(' ').collect()).collect();
        assert_eq!(files.len(), 2, "{engine}: one env-file per run: {seen}");
        for file in files {
            let (mode, path) = (file[0], file[1]);
            assert_eq!(mode, "600", "{engine}: {path} readable by others");
            // A memfd, which has no name on any filesystem.
            assert_eq!(path.rsplit_once('/').unwrap().0, "/dev/fd", "{seen}");
            assert!(file[2].starts_with("/memfd:dockhand-env"), "{seen}");
        }
    }
}

#[test]
fn real_listings_over_the_output_cap_are_a_clear_error() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let label = format!("dh.rel.cap={}", unique("cap"));
        for _ in 0..2 {
            let name = cleanup.add(&unique("rel-cap"));
            let r = sh(Cmd::new(engine)
                .args(["create", "--name", &name, "--label", &label])
                .args(labels())
                .args([IMAGE, "true"]));
            assert_eq!(r.code, 0, "{r:?}");
        }
        // Two full ids are 130 bytes; an inspect is kilobytes; so is info.
        for (cap, args) in [
            ("100", vec!["ps", "-a", "-l", &label]),
            ("1000", vec!["inspect", &cleanup_first(&label, engine)]),
            ("1000", vec!["info"]),
            ("20", vec!["images"]),
            ("20", vec!["network", "ls"]),
        ] {
            let r = dockhand_on(
                engine,
                [&["--json", "--output-cap", cap][..], &args].concat(),
            );
            assert_eq!(r.code, 1, "{engine} {args:?}: {r:?}");
            let e = r.json_error();
            let message = e["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("output cap of {cap} bytes")),
                "{engine} {args:?}: {message}"
            );
            assert!(r.stdout.is_empty(), "nothing half-parsed printed: {r:?}");
        }
    }
}

/// The name of one container carrying `label`.
fn cleanup_first(label: &str, engine: &str) -> String {
    let r = sh(Cmd::new(engine).args([
        "ps",
        "-a",
        "--filter",
        &format!("label={label}"),
        "--format",
        "{{.Names}}",
    ]));
    r.stdout.lines().next().unwrap().to_string()
}

#[test]
fn sighup_is_handled_like_sigterm_and_exits_129() {
    interrupt_with(nix::sys::signal::Signal::SIGHUP, 129, 3);
}

/// The direct children of `pid`, with their command lines.
fn children_of(pid: u32) -> Vec<(u32, String)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
            let ppid: u32 = stat.rsplit_once(") ")?.1.split(' ').nth(1)?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).ok()?;
            (ppid == pid).then(|| (child, String::from_utf8_lossy(&cmdline).replace('\0', " ")))
        })
        .collect()
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
fn dead(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
        s.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    })
}

#[test]
fn hangup_or_sigkill_of_dockhand_leaves_no_engine_cli_behind() {
    use nix::sys::signal::Signal::{SIGHUP, SIGKILL};
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let quiet = start_container(engine, &mut cleanup, "hd-sig", &[], &TRAPPING);
        let attached = unique("hd-sig-run");
        cleanup.add(&attached);
        // Long-running commands and the engine verb their child runs.
        let commands: Vec<(Vec<String>, &str)> = vec![
            (
                vec![
                    "exec".into(),
                    quiet.clone(),
                    "--".into(),
                    "sleep".into(),
                    "300".into(),
                ],
                "exec",
            ),
            (vec!["logs".into(), "-f".into(), quiet.clone()], "logs"),
            (
                vec![
                    "events".into(),
                    "--filter".into(),
                    format!("container={quiet}"),
                ],
                "events",
            ),
            (vec!["wait".into(), quiet.clone()], "wait"),
        ];
        for signal in [SIGHUP, SIGKILL] {
            let mut all = commands.clone();
            let name = format!("{attached}-{}", signal as i32);
            cleanup.add(&name);
            all.push((
                [
                    &["run", "--name", &name][..],
                    &labels().iter().map(String::as_str).collect::<Vec<_>>(),
                    &[IMAGE, "sleep", "300"],
                ]
                .concat()
                .into_iter()
                .map(String::from)
                .collect(),
                "start",
            ));
            let running: Vec<(std::process::Child, u32, String)> = all
                .iter()
                .map(|(args, verb)| {
                    let mut argv = vec!["--engine", engine, "--timeout", "0"];
                    argv.extend(args.iter().map(String::as_str));
                    let child = spawn_dockhand(&argv, &[]);
                    let pid = child.id();
                    // Wait for the engine command dockhand runs for it.
                    let deadline = Instant::now() + Duration::from_secs(20);
                    let engine_cli = loop {
                        let found = children_of(pid)
                            .into_iter()
                            .find(|(_, cmd)| cmd.split(' ').any(|w| w == *verb));
                        match found {
                            Some((cli, _)) => break cli,
                            None if Instant::now() < deadline => {
                                dockhand::exec::sleep(Duration::from_millis(20)).unwrap()
                            }
                            None => panic!("{engine} {args:?}: no `{verb}` child appeared"),
                        }
                    };
                    (child, engine_cli, format!("{args:?}"))
                })
                .collect();
            for (child, _, _) in &running {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal)
                    .unwrap();
            }
            for (child, engine_cli, what) in running {
                let out = child.wait_with_output().unwrap();
                if signal == SIGHUP {
                    assert_eq!(
                        out.status.code(),
                        Some(129),
                        "{engine} {what}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                let end = Instant::now() + Duration::from_secs(5);
                while !dead(engine_cli) && Instant::now() < end {
                    dockhand::exec::sleep(Duration::from_millis(20)).unwrap();
                }
                assert!(
                    dead(engine_cli),
                    "{engine} {what}: the engine CLI {engine_cli} survived {signal}"
                );
            }
        }
    }
}

/// A pid no process has.
fn dead_pid() -> u32 {
    (4_000_000..)
        .find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
        .unwrap()
}

#[test]
fn sigkill_during_run_or_exec_leaves_no_secret_on_disk() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let running = start_container(engine, &mut cleanup, "hd-kill", &[], &TRAPPING);
        let name = cleanup.add(&unique("hd-kill-run"));
        let secret = format!("DH_HD_SECRET=hunter2-{}", unique("s"));
        let cases: [(&str, Vec<&str>); 2] = [
            (
                "run",
                vec!["run", "-d", "--name", &name, "-e", &secret, IMAGE, "true"],
            ),
            ("exec", vec!["exec", "-e", &secret, &running, "--", "true"]),
        ];
        for (n, (verb, args)) in cases.into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let tmpdir = dir.path().join("tmp");
            std::fs::create_dir(&tmpdir).unwrap();
            let log = dir.path().join("log");
            let stall = format!("{}.{}", 920_000 + 10 * i + n, std::process::id());
            let wrapped = format!("{} {engine}", fixture("stall-engine"));
            let mut argv = vec!["--engine", &wrapped];
            argv.extend(args);
            let child = spawn_dockhand(
                &argv,
                &[
                    ("TMPDIR", tmpdir.to_str().unwrap()),
                    ("DH_STALL_LOG", log.to_str().unwrap()),
                    ("DH_STALL", &stall),
                ],
            );
            // Wait until the engine call (with its env-file) is under way.
            let deadline = Instant::now() + Duration::from_secs(20);
            while processes_matching(&stall).is_empty() && Instant::now() < deadline {
                dockhand::exec::sleep(Duration::from_millis(20)).unwrap();
            }
            assert!(
                !processes_matching(&stall).is_empty(),
                "{engine} {verb} never stalled"
            );
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            )
            .unwrap();
            // The wrapper dies with dockhand; its sleep (a grandchild, holding
            // our pipes when `exec` shares dockhand's stdout) is ours to end.
            let mut child = child;
            while child.try_wait().unwrap().is_none() {
                dockhand::exec::sleep(Duration::from_millis(20)).unwrap();
            }
            for pid in processes_matching(&stall) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.wait_with_output();
            let left: Vec<_> = std::fs::read_dir(&tmpdir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            let called = std::fs::read_to_string(&log).unwrap();
            assert!(
                left.is_empty(),
                "{engine} {verb}: left in $TMPDIR: {left:?} ({called})"
            );
            assert!(
                called.contains("--env-file=/dev/fd/"),
                "{engine} {verb}: {called}"
            );
            assert!(!called.contains("hunter2"), "{engine} {verb}: {called}");
        }
    }
}

#[test]
fn through_sudo_the_env_file_is_a_private_file_and_dead_processes_files_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let tmpdir = dir.path().join(format!("{engine}-tmp"));
        std::fs::create_dir(&tmpdir).unwrap();
        let stale = tmpdir.join(format!("dockhand-env-{}-x1Y2z3", dead_pid()));
        std::fs::write(&stale, "DH_HD_OLD=secret of a SIGKILLed run\n").unwrap();
        let log = dir.path().join(format!("{engine}.modes"));
        // sudo first: it closes every descriptor it did not open.
        let watched = format!(
            "sudo -n {} {} {engine}",
            fixture("env-file-modes"),
            log.display()
        );
        let name = cleanup.add(&unique("hd-sudo"));
        let r = sh(Cmd::new(bin())
            .args([
                "--engine",
                &watched,
                "run",
                "-d",
                "--name",
                &name,
                "-e",
                "DH_HD_K=v 1",
            ])
            .args(labels())
            .arg(IMAGE)
            .args(TRAPPING)
            .env("TMPDIR", &tmpdir));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            !stale.exists(),
            "{engine}: the dead process's env-file was not swept"
        );
        let seen = std::fs::read_to_string(&log).unwrap();
        let (mode, path) = seen.trim().split_once(' ').unwrap();
        assert_eq!(mode, "600", "{seen}");
        assert!(path.starts_with(tmpdir.to_str().unwrap()), "{seen}");
        assert!(
            !std::path::Path::new(path).exists(),
            "{engine}: {path} left behind"
        );
        let env = sh(Cmd::new(engine).args(["inspect", "--format", "{{json .Config.Env}}", &name]));
        assert!(env.stdout.contains("\"DH_HD_K=v 1\""), "{engine}: {env:?}");
    }
}

#[test]
fn dash_paths_and_keys_outside_the_portable_set_are_refused_before_any_engine_call() {
    let dir = tempfile::tempdir().unwrap();
    for engine in engines() {
        let calls = dir.path().join(format!("{engine}.calls"));
        let counted = format!("{} {} {engine}", fixture("count-calls"), calls.display());
        let bom = "\u{feff}";
        let cases: Vec<Vec<String>> = vec![
            vec!["cp".into(), "-".into(), "dh-hd-x:/x".into()],
            vec!["cp".into(), "dh-hd-x:/etc/hostname".into(), "-".into()],
            vec!["import".into(), "-".into(), "dh-hd-img:1".into()],
            vec![
                "run".into(),
                "-d".into(),
                "-e".into(),
                format!("{bom}=hunter2-bom"),
                IMAGE.into(),
            ],
            vec![
                "run".into(),
                "-d".into(),
                "-e".into(),
                format!("{bom}K=hunter2-bom"),
                IMAGE.into(),
            ],
            vec![
                "run".into(),
                "-d".into(),
                "-e".into(),
                "A-B=hunter2-dash".into(),
                IMAGE.into(),
            ],
            vec![
                "exec".into(),
                "-e".into(),
                "1X=hunter2-digit".into(),
                "dh-hd-x".into(),
                "true".into(),
            ],
        ];
        for args in cases {
            let r = sh(Cmd::new(bin()).args(["--engine", &counted]).args(&args));
            assert_eq!(r.code, 2, "{engine} {args:?}: {r:?}");
            assert!(
                !r.stderr.contains("hunter2"),
                "{engine} {args:?}: secret in {r:?}"
            );
        }
        assert!(!calls.exists(), "{:?}", std::fs::read_to_string(&calls));
    }
}

/// dockhand on `engine` behind lose-first-answer, losing the answer of the
/// first call of one of `verbs`; its result and the engine call log.
fn losing_first(dir: &std::path::Path, engine: &str, verbs: &str, args: &[&str]) -> (Ran, String) {
    let state = dir.join(format!("{engine}-{}", verbs.replace(' ', "-")));
    let flaky = format!(
        "{} {} {engine}",
        fixture("lose-first-answer"),
        state.display()
    );
    let r = sh(Cmd::new(bin())
        .args(["--engine", &flaky, "--retry-delay", "100ms"])
        .args(args)
        .env("DH_LOSE_VERBS", verbs));
    let log = std::fs::read_to_string(format!("{}.log", state.display())).unwrap_or_default();
    (r, log)
}

/// How many logged engine calls start with `ENGINE VERB…`.
fn calls_of(log: &str, engine: &str, verb: &str) -> usize {
    log.lines()
        .filter(|l| l.starts_with(&format!("{engine} {verb}")))
        .count()
}

#[test]
fn a_lost_answer_never_makes_a_mutation_happen_twice() {
    let dir = tempfile::tempdir().unwrap();
    for engine in crate::support::objects::engines() {
        let mut cleanup = Cleanup::new(engine);
        let mut objects = crate::support::objects::Objects::new(engine);
        let c = start_container(engine, &mut cleanup, "hd-lost", &[], &TRAPPING);
        let started = |name: &str| {
            sh(Cmd::new(engine).args(["inspect", "--format", "{{.State.StartedAt}}", name])).stdout
        };

        // restart: re-sent, it would restart twice.
        let before = started(&c);
        let (r, log) = losing_first(dir.path(), engine, "restart", &["restart", &c]);
        assert_eq!(r.code, 0, "{engine} restart: {r:?}");
        assert_eq!(calls_of(&log, engine, "restart"), 1, "{engine}: {log}");
        assert_ne!(started(&c), before, "{engine}: not restarted");

        // import: re-sent, it would leave a second image.
        let tarball = dir.path().join(format!("{engine}-rootfs.tar"));
        let r = sh(Cmd::new("tar").args([
            "-cf",
            tarball.to_str().unwrap(),
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "Cargo.toml",
        ]));
        assert_eq!(r.code, 0, "{r:?}");
        let case = objects.case();
        let tag = objects.image(&format!(
            "{}:1",
            crate::support::objects::unique("hd-lost-img")
        ));
        let mut args = vec![
            "import".to_string(),
            tarball.to_str().unwrap().into(),
            tag.clone(),
        ];
        for change in crate::support::objects::import_changes()
            .into_iter()
            .chain(["--change".into(), format!("LABEL dh.case={case}")])
        {
            args.push(change);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (r, log) = losing_first(dir.path(), engine, "import", &args);
        assert_eq!(r.code, 0, "{engine} import: {r:?}");
        assert_eq!(calls_of(&log, engine, "import"), 1, "{engine}: {log}");
        let made = sh(Cmd::new(engine).args([
            "images",
            "-a",
            "-q",
            "--filter",
            &format!("label=dh.case={case}"),
        ]));
        let ids: std::collections::BTreeSet<&str> = made.stdout.split_whitespace().collect();
        assert_eq!(ids.len(), 1, "{engine}: one image: {made:?}");
        assert!(
            r.stdout.contains(ids.iter().next().unwrap()),
            "{engine}: {r:?}"
        );

        // Idempotent by construction: re-sent, they end in the same state.
        let net = objects.network(&crate::support::objects::unique("hd-lost-net"));
        let vol = objects.volume(&crate::support::objects::unique("hd-lost-vol"));
        let labels = labels();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let again = objects.image(&format!("{tag}-again"));
        let copied = tarball.to_str().unwrap().to_string();
        let into = format!("{c}:/tmp/copied");
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("stop", vec!["stop", &c]),
            ("start", vec!["start", &c]),
            (
                "network",
                [&["network", "create"][..], &labels, &[net.as_str()]].concat(),
            ),
            (
                "volume",
                [&["volume", "create"][..], &labels, &[vol.as_str()]].concat(),
            ),
            ("tag", vec!["tag", &tag, &again]),
            ("rmi", vec!["rmi", &again]),
            ("update", vec!["update", "--memory", "64m", &c]),
            ("cp", vec!["cp", &copied, &into]),
            ("network", vec!["network", "connect", &net, &c]),
            ("network", vec!["network", "disconnect", &net, &c]),
            ("network", vec!["network", "rm", &net]),
            ("volume", vec!["volume", "rm", &vol]),
        ];
        for (verb, args) in cases {
            let (r, log) = losing_first(dir.path(), engine, verb, &args);
            assert_eq!(
                r.code, 0,
                "{engine} {args:?} after a lost answer: {r:?}\n{log}"
            );
        }
        let cpu = sh(Cmd::new(engine).args(["inspect", "--format", "{{.HostConfig.Memory}}", &c]));
        // podman 4.3 changes the cgroup but does not record it for inspect.
        if engine == "docker" {
            assert_eq!(cpu.stdout.trim(), "67108864", "{engine}: update: {cpu:?}");
        }
        let copied = sh(Cmd::new(engine).args(["exec", &c, "ls", "/tmp/copied"]));
        assert_eq!(copied.code, 0, "{engine}: cp: {copied:?}");
        let rmi = sh(Cmd::new(engine).args(["image", "inspect", &again]));
        assert_ne!(rmi.code, 0, "{engine}: rmi: {rmi:?}");
        let (r, log) = losing_first(dir.path(), engine, "rm", &["rm", "-f", &c]);
        assert_eq!(
            r.code, 0,
            "{engine} rm -f after a lost answer: {r:?}\n{log}"
        );
        let gone = sh(Cmd::new(engine).args(["inspect", &c]));
        assert_ne!(gone.code, 0, "{engine}: rm -f did not remove it");
    }
}

/// The binary's panic hook (it aborts, so no guard runs) calls
/// `kill_child_groups`: every child leading its own group dies with its whole
/// group, a child in our own group is left alone. It kills all children of
/// its process, so the check runs in a re-executed copy of this test binary.
#[test]
#[allow(clippy::disallowed_methods, clippy::zombie_processes)] // children spawned directly; the parent test kills the one left
fn kill_child_groups_ends_each_child_group_and_nothing_else() {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    const CHILD_MODE: &str = "DH_KILL_CHILD_GROUPS";
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    };
    if std::env::var_os(CHILD_MODE).is_some() {
        let mut leader = Command::new("sh")
            .args(["-c", "sleep 300 & echo $!; wait"])
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut member = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(leader.stdout.take().unwrap()),
            &mut member,
        )
        .unwrap();
        let same_group = Command::new("sleep")
            .arg("300")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        println!(
            "pids: {} {} {}",
            leader.id(),
            member.trim(),
            same_group.id()
        );
        dockhand::exec::kill_child_groups();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let status = loop {
            match leader.try_wait().unwrap() {
                Some(status) => break status.to_string(),
                None if std::time::Instant::now() > deadline => break "alive".into(),
                None => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        };
        println!("leader: {status}");
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "reliability::kill_child_groups_ends_each_child_group_and_nothing_else",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let pids: Vec<&str> = text
        .lines()
        .find_map(|l| l.split_once("pids: ").map(|(_, p)| p))
        .unwrap_or_else(|| panic!("no pids in {text}"))
        .split(' ')
        .collect();
    assert!(text.contains("signal: 9"), "leader not killed: {text}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(pids[1]) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let member_alive = alive(pids[1]);
    let same_group_alive = alive(pids[2]);
    let _ = Command::new("kill").args(["-9", pids[1], pids[2]]).status();
    assert!(!member_alive, "the group member {} survived", pids[1]);
    assert!(same_group_alive, "a child in our own group was killed");
}

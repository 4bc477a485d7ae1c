//! Faults on real processes: a stopped daemon, a daemon restarted in the
//! middle of a retried call, signals to dockhand while an engine command
//! runs. The daemon tests use a PRIVATE dockerd (own socket, data root and
//! exec root, no bridge, no iptables) so the shared daemon is never touched
//! and these tests run in parallel with everything else.

mod common;

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
        Command::new(super::common::bin())
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

use common::*;
use dockhand::retry::RetryPolicy;
use dockhand::{Engine, ErrorKind};
use fixture::{spawn_dockhand, PrivateDockerd};

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
    let err = engine.version().unwrap_err();
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
}

#[test]
fn a_retried_call_succeeds_once_a_restarted_daemon_is_back() {
    let mut daemon = PrivateDockerd::start("restart");
    daemon.stop();
    let engine = engine_on(&daemon.socket, 10, 700);
    let caller = std::thread::spawn(move || {
        let started = Instant::now();
        (engine.version(), started.elapsed())
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

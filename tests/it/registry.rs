//! Registries on the real engines: a REAL registry (Debian's docker-registry,
//! tests/fixtures/registry) on a loopback port, one per test process, and —
//! for the faults a real registry cannot show on demand — the fault proxy
//! (tests/fixtures/fault-registry) in front of it, one per test, whose request
//! counters say how often the engine really asked.
//!
//! Nothing is pulled from outside: the test image is pushed to the loopback
//! registry first. Pulled names are unique (the proxy's port is part of
//! them) and untagged at the end (`rmi` without force: the test image itself
//! stays).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::schemas::assert_valid;
use crate::support::fixtures::{fixture, stop_when_gone, Fault};
use crate::support::objects::{engines, import_changes, unique};
use crate::support::{bin, processes_matching, sh, Ran, IMAGE};
use dockhand::exec::Cmd;

/// A registry of this test process: its address and directory.
pub struct Registry {
    pub addr: String,
    pub dir: PathBuf,
}

impl Registry {
    fn start(extra: &[&str]) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("dh-rg-registry-")
            .tempdir()
            .unwrap()
            .keep();
        let r = sh(Cmd::new(fixture("registry"))
            .arg("start")
            .arg(&dir)
            .args(extra)
            .env("DHR_REGISTRY_LIFETIME", "1800"));
        assert_eq!(r.code, 0, "registry start: {r:?}");
        stop_when_gone("registry", &dir);
        Registry {
            addr: r.stdout.trim().to_string(),
            dir,
        }
    }
}

/// The plain (no auth) registry every test here shares.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::start(&[]))
}

/// A new image nobody has pulled yet, in the registry as
/// `dh-rg-PID-N/fresh:latest` (the path after the registry is returned): a
/// one-file root filesystem of its own, imported into `engine`, pushed, and
/// removed there again. (dockerd skips the manifest GET of content it has
/// seen — a fault on it would never be hit — and podman reports the digest an
/// image first had when a pull finds it already there.)
pub fn fresh(engine: &str) -> String {
    let path = format!("{}/fresh:latest", unique("rg"));
    let image = format!("{}/{path}", registry().addr);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fresh.txt"), &path).unwrap();
    let tar = dir.path().join("rootfs.tar");
    let r = sh(Cmd::new("tar")
        .arg("-C")
        .arg(dir.path())
        .arg("-cf")
        .arg(&tar)
        .arg("fresh.txt"));
    assert_eq!(r.code, 0, "{r:?}");
    let r = sh(Cmd::new(engine)
        .arg("import")
        .args(import_changes())
        .arg(&tar)
        .arg(&image));
    assert_eq!(r.code, 0, "{engine} import: {r:?}");
    let tls: &[&str] = if engine == "podman" {
        &["--tls-verify=false"]
    } else {
        &[]
    };
    let r = sh(Cmd::new(engine).arg("push").args(tls).arg(&image));
    assert_eq!(r.code, 0, "{engine} push: {r:?}");
    let r = sh(Cmd::new(engine).args(["rmi", &image]));
    assert_eq!(r.code, 0, "{engine} rmi: {r:?}");
    path
}

/// Names pulled into an engine, untagged when dropped (never forced: the
/// test image they share layers with stays).
struct Pulled {
    engine: String,
    names: Vec<String>,
}

impl Pulled {
    fn new(engine: &str) -> Pulled {
        Pulled {
            engine: engine.into(),
            names: Vec::new(),
        }
    }

    fn add(&mut self, name: String) -> String {
        self.names.push(name.clone());
        name
    }
}

impl Drop for Pulled {
    fn drop(&mut self) {
        for name in &self.names {
            sh(Cmd::new(&self.engine).args(["rmi", name]));
        }
    }
}

/// `dockhand --engine ENGINE ARGS` with extra environment.
fn dockhand_env(engine: &str, env: &[(&str, &Path)], args: &[&str]) -> Ran {
    let mut cmd = Cmd::new(bin()).args(["--engine", engine]).args(args);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    sh(cmd)
}

/// `dockhand --engine ENGINE --json --retries N --retry-delay 100ms -v pull --tls-verify=false IMAGE [extra]`.
fn pull(engine: &str, retries: u32, image: &str, extra: &[&str]) -> Ran {
    let retries = retries.to_string();
    let mut args = vec![
        "--json",
        "--retries",
        &retries,
        "--retry-delay",
        "100ms",
        "--verbose",
        "pull",
        "--tls-verify=false",
        image,
    ];
    args.extend(extra);
    dockhand_env(engine, &[], &args)
}

#[test]
fn push_then_pull_by_tag_and_by_digest_report_the_digest_on_both_engines() {
    let reg = registry();
    for engine in engines() {
        let mut pulled = Pulled::new(engine);
        // dockhand push of a new image of this engine's own.
        let name = format!("{}/{}", reg.addr, fresh(engine));
        let r = sh(Cmd::new(engine)
            .args(["pull"])
            .args(if engine == "podman" {
                vec!["--tls-verify=false"]
            } else {
                vec![]
            })
            .arg(&name));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let pushed_as = pulled.add(format!("{}/{}/pushed:latest", reg.addr, unique("rg")));
        assert_eq!(
            sh(Cmd::new(engine).args(["tag", &name, &pushed_as])).code,
            0
        );
        assert_eq!(sh(Cmd::new(engine).args(["rmi", &name])).code, 0);
        let r = dockhand_env(
            engine,
            &[],
            &["--json", "push", &pushed_as, "--tls-verify=false"],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let digest = r.json()["digest"].as_str().unwrap().to_string();
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{engine}: {r:?}"
        );
        // Gone locally, so the pulls below fetch it.
        assert_eq!(sh(Cmd::new(engine).args(["rmi", &pushed_as])).code, 0);

        // By tag: the digest the registry has.
        let r = pull(engine, 1, &pushed_as, &[]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let got = r.json();
        assert_eq!(got["digest"], digest.as_str(), "{engine}: {got}");
        assert_eq!(got["reference"], pushed_as.as_str());
        let repo = pushed_as.trim_end_matches(":latest");
        let by_digest = pulled.add(format!("{repo}@{digest}"));
        assert!(
            got["image"]["digests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d == by_digest.as_str()),
            "{engine}: RepoDigests: {got}"
        );

        // By digest: the digest is the reference's; image inspect shows it too.
        let r = pull(engine, 1, &by_digest, &[]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.json()["digest"], digest.as_str(), "{engine}");
        let r = dockhand_env(engine, &[], &["image", "inspect", &pushed_as]);
        assert!(r.stdout.contains(&by_digest), "{engine}: {r:?}");

        // Text output names the digest too.
        let r = dockhand_env(engine, &[], &["pull", &pushed_as, "--tls-verify=false"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            r.stdout.contains(&format!("digest:   {digest}")),
            "{engine}: {}",
            r.stdout
        );
    }
}

#[test]
fn podman_takes_the_registry_from_a_registries_conf_without_tls_verify() {
    if !engines().contains(&"podman") {
        return;
    }
    let mut pulled = Pulled::new("podman");
    let name = pulled.add(format!("{}/{}", registry().addr, fresh("podman")));
    let conf = registry().dir.join("registries.conf");
    let r = dockhand_env(
        "podman",
        &[("CONTAINERS_REGISTRIES_CONF", &conf)],
        &["pull", &name],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // Without either, podman tries https and gives up: a configuration
    // failure, not retried.
    let r = dockhand_env(
        "podman",
        &[],
        &["--json", "--retries", "3", "--verbose", "pull", &name],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("HTTP response to HTTPS client"), "{r:?}");
    assert!(!r.stderr.contains("attempt 1/3 failed"), "{r:?}");
}

#[test]
fn a_wrong_platform_is_refused_and_the_name_is_not_left_behind() {
    for engine in engines() {
        let name = format!("{}/{}", registry().addr, fresh("docker"));
        let mut pulled = Pulled::new(engine);
        pulled.add(name.clone());
        let r = pull(engine, 1, &name, &["--platform", "linux/arm64"]);
        assert_eq!(r.code, 3, "{engine}: {r:?}");
        let message = r.json_error()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("no linux/arm64 image") && message.contains("linux/amd64"),
            "{engine}: {message}"
        );
        let exists = sh(Cmd::new(bin()).args(["--engine", engine, "image-exists", &name]));
        assert_eq!(
            exists.code, 3,
            "{engine}: the wrong image is not kept under the name"
        );
        let r = pull(engine, 1, &name, &["--platform", "linux/amd64"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.json()["image"]["architecture"], "amd64");
    }
}

/// (proxy arguments, what it is): the first two manifest GETs fail, the
/// third passes through.
const FLAKY: &[(&[&str], &str)] = &[
    (&["--mode", "flaky:2", "--fault", "status:503"], "503"),
    (&["--mode", "flaky:2", "--fault", "status:500"], "500"),
    (
        &["--mode", "flaky:2", "--fault", "toomanyrequests"],
        "429 toomanyrequests",
    ),
    (
        &[
            "--mode",
            "flaky:2",
            "--fault",
            "unavailable",
            "--status",
            "429",
        ],
        "429 unavailable",
    ),
    (
        &["--mode", "flaky:2", "--fault", "reset"],
        "connection reset",
    ),
];

#[test]
fn a_flaky_registry_is_retried_with_backoff_until_it_recovers() {
    for engine in engines() {
        for (args, what) in FLAKY {
            let path = fresh("docker");
            let fault = Fault::start(&registry().addr, args);
            let mut pulled = Pulled::new(engine);
            let image = pulled.add(format!("{}/{path}", fault.addr));
            let r = pull(engine, 3, &image, &[]);
            assert_eq!(r.code, 0, "{engine}, {what}: {r:?}");
            assert!(r.json()["digest"].as_str().unwrap().starts_with("sha256:"));
            // Two faulted GETs and the one that passed: podman retries 429
            // and resets inside one attempt, docker through dockhand's.
            assert_eq!(
                (fault.count("manifest-get"), fault.count("faulted")),
                (3, 2),
                "{engine}, {what}: {:?}\n{}",
                fault.counts(),
                r.stderr
            );
            let retried_by_dockhand = r.stderr.matches("attempt ").count();
            let engine_retries_itself =
                engine == "podman" && (what.starts_with("429") || what.contains("reset"));
            let expected = if engine_retries_itself { 0 } else { 2 };
            assert_eq!(
                retried_by_dockhand, expected,
                "{engine}, {what}: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn a_registry_that_stays_down_is_tried_exactly_as_often_as_allowed() {
    for engine in engines() {
        let path = fresh("docker");
        let fault = Fault::start(&registry().addr, &["--mode", "status:503"]);
        let mut pulled = Pulled::new(engine);
        let image = pulled.add(format!("{}/{path}", fault.addr));
        let r = pull(engine, 2, &image, &[]);
        assert_eq!(r.code, 1, "{engine}: {r:?}");
        let err = r.json_error();
        assert_eq!(err["error"]["kind"], "engine_failure", "{engine}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains("503"),
            "{err}"
        );
        assert_eq!(
            fault.count("manifest-get"),
            2,
            "{engine}: {:?}",
            fault.counts()
        );
    }
}

#[test]
fn permanent_registry_errors_are_not_retried() {
    let cases: &[(&str, i32, &str)] = &[
        ("unauthorized", 4, "permission_denied"),
        ("denied", 4, "permission_denied"),
        ("manifest-unknown", 3, "not_found"),
        ("name-invalid", 2, "invalid_input"),
    ];
    for engine in engines() {
        for (mode, code, kind) in cases {
            let path = fresh("docker");
            let fault = Fault::start(&registry().addr, &["--mode", mode]);
            let mut pulled = Pulled::new(engine);
            let image = pulled.add(format!("{}/{path}", fault.addr));
            let r = pull(engine, 3, &image, &[]);
            assert_eq!(r.code, *code, "{engine}, {mode}: {r:?}");
            assert_eq!(r.json_error()["error"]["kind"], *kind, "{engine}, {mode}");
            assert_eq!(
                fault.count("manifest-get"),
                1,
                "{engine}, {mode}: exactly one attempt: {:?}",
                fault.counts()
            );
            assert!(
                !r.stderr.contains("attempt 1/3 failed"),
                "{engine}, {mode}: {}",
                r.stderr
            );
        }
    }
}

#[test]
fn a_hung_registry_ends_at_the_timeout_with_exit_124_and_nothing_left_running() {
    for engine in engines() {
        let path = fresh("docker");
        let fault = Fault::start(&registry().addr, &["--mode", "hang", "--hang-max", "10"]);
        let mut pulled = Pulled::new(engine);
        let image = pulled.add(format!("{}/{path}", fault.addr));
        let started = Instant::now();
        let r = dockhand_env(
            engine,
            &[],
            &[
                "--json",
                "--timeout",
                "2s",
                "--retries",
                "3",
                "pull",
                "--tls-verify=false",
                &image,
            ],
        );
        let took = started.elapsed();
        assert_eq!(r.code, 124, "{engine}: {r:?}");
        assert_eq!(r.json_error()["error"]["kind"], "timeout", "{engine}");
        // 2 s, plus at most the 2 s between SIGTERM and SIGKILL: not retried.
        assert!(took < Duration::from_secs(8), "{engine}: {took:?}");
        assert_eq!(
            fault.count("manifest-get"),
            1,
            "{engine}: {:?}",
            fault.counts()
        );
        assert!(
            processes_matching(&image).is_empty(),
            "{engine}: a process with {image} is left"
        );
    }
}

#[test]
fn a_slow_registry_is_waited_for() {
    for engine in engines() {
        let path = fresh("docker");
        // ~500 bytes of manifest at 250 B/s: two seconds.
        let fault = Fault::start(&registry().addr, &["--mode", "slow:250"]);
        let mut pulled = Pulled::new(engine);
        let image = pulled.add(format!("{}/{path}", fault.addr));
        let r = pull(engine, 1, &image, &["--max-time", "60s"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(
            fault.count("manifest-get"),
            1,
            "{engine}: {:?}",
            fault.counts()
        );
    }
}

/// The registry with htpasswd auth.
fn auth_registry() -> &'static Registry {
    static AUTH: OnceLock<Registry> = OnceLock::new();
    AUTH.get_or_init(|| Registry::start(&["--auth", "dh-rg-user:dh-rg-secret"]))
}

#[test]
fn login_push_pull_logout_with_credentials_in_a_temp_dir_never_in_argv() {
    let reg = auth_registry();
    for engine in engines() {
        let creds = tempfile::tempdir().unwrap();
        // podman's REGISTRY_AUTH_FILE names a file that does not exist yet:
        // dockhand treats it as "no credentials", like docker's missing config.
        let auth_file = creds.path().join("auth.json");
        let env: &[(&str, &Path)] = &[
            ("DOCKER_CONFIG", creds.path()),
            ("REGISTRY_AUTH_FILE", &auth_file),
        ];
        let mut pulled = Pulled::new(engine);
        let name = pulled.add(format!("{}/{}/{engine}:latest", reg.addr, unique("rg")));
        assert_eq!(sh(Cmd::new(engine).args(["tag", IMAGE, &name])).code, 0);

        let r = dockhand_env(
            engine,
            env,
            &["--json", "push", &name, "--tls-verify=false"],
        );
        assert_eq!(
            (r.code, &r.json_error()["error"]["kind"]),
            (4, &"permission_denied".into()),
            "{engine}: {r:?}"
        );

        let wrong = creds.path().join("wrong");
        std::fs::write(&wrong, "nope\n").unwrap();
        let login = |password: &[&str]| {
            let mut args = vec![
                "--json",
                "login",
                reg.addr.as_str(),
                "-u",
                "dh-rg-user",
                "--tls-verify=false",
            ];
            args.extend(password);
            dockhand_env(engine, env, &args)
        };
        let r = login(&["--password-file", wrong.to_str().unwrap()]);
        assert_eq!(r.code, 4, "{engine}: wrong password: {r:?}");
        let r = login(&[]);
        assert_eq!(r.code, 2, "{engine}: no password source: {r:?}");

        let mut cmd = Cmd::new(bin())
            .args([
                "--engine",
                engine,
                "--json",
                "login",
                &reg.addr,
                "-u",
                "dh-rg-user",
                "--password-stdin",
                "--tls-verify=false",
            ])
            .stdin(b"dh-rg-secret\n".to_vec());
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let r = sh(cmd);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.json()["logged_in"], true);
        assert_valid("login", &r.json());
        let stored = match engine {
            "docker" => creds.path().join("config.json"),
            _ => auth_file.clone(),
        };
        let stored = std::fs::read_to_string(&stored).unwrap();
        assert!(stored.contains(&reg.addr), "{engine}: {stored}");

        let r = dockhand_env(
            engine,
            env,
            &["--json", "push", &name, "--tls-verify=false"],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_valid("push", &r.json());
        assert_eq!(sh(Cmd::new(engine).args(["rmi", &name])).code, 0);
        let r = dockhand_env(
            engine,
            env,
            &["--json", "pull", &name, "--tls-verify=false"],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_valid("pull", &r.json());

        for _ in 0..2 {
            // Twice: not being logged in any more is not an error.
            let r = dockhand_env(engine, env, &["--json", "logout", &reg.addr]);
            assert_eq!(r.code, 0, "{engine}: {r:?}");
            assert_valid("login", &r.json());
        }
        let r = dockhand_env(
            engine,
            env,
            &["--json", "pull", &name, "--tls-verify=false"],
        );
        assert_eq!(r.code, 4, "{engine}: logged out: {r:?}");
    }
}

#[test]
fn bad_registry_input_exits_2_before_any_engine_runs() {
    for args in [
        vec!["login", "-x", "-u", "u", "--password-stdin"],
        vec!["login", "host:port", "-u", "u", "--password-stdin"],
        vec!["login", "127.0.0.1:5000", "-u", "-p", "--password-stdin"],
        vec!["logout", "https://index.docker.io/v1/"],
        vec!["push", "a@sha256:0123456789abcdef0123456789abcdef"],
        vec!["pull", "a", "--platform", "linux"],
    ] {
        let r = sh(Cmd::new(bin())
            .args(["--engine", "/nonexistent/engine"])
            .args(&args)
            .stdin(b"pw".to_vec()));
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}

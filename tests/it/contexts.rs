//! `build` from remote contexts on the real engines: REAL servers on
//! 127.0.0.1 (tests/fixtures/context-servers: python's http.server with a
//! tarball and a dumb-http git repository, `git daemon`; a loopback sshd made
//! here for ssh), the fault proxy in front of the http server for failures.
//! dockhand fetches; the engine only ever sees a local directory or a
//! tarball on stdin.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::schemas::assert_valid;
use crate::support::fixtures::{fixture, stop_when_gone, Fault};
use crate::support::objects::{engines, unique, Objects};
use crate::support::{bin, labels, processes_matching, sh, Ran};
use dockhand::exec::Cmd;

/// The context servers of this test process (`servers.env`).
fn servers() -> &'static BTreeMap<String, String> {
    static SERVERS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("dh-rg-ctx-")
            .tempdir()
            .unwrap()
            .keep();
        let r = sh(Cmd::new(fixture("context-servers"))
            .arg("start")
            .arg(&dir)
            .env("DHR_CONTEXT_LIFETIME", "1800"));
        assert_eq!(r.code, 0, "context-servers start: {r:?}");
        stop_when_gone("context-servers", &dir);
        std::fs::read_to_string(dir.join("servers.env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

fn var(key: &str) -> &'static str {
    servers()
        .get(key)
        .unwrap_or_else(|| panic!("{key} not in servers.env"))
}

/// `dockhand [env] --engine ENGINE --json ARGS build CONTEXT -t TAG -l test labels…`.
fn build(
    engine: &str,
    env: &[(&str, &Path)],
    global: &[&str],
    context: &str,
    tag: &str,
    extra: &[&str],
) -> Ran {
    let mut cmd = Cmd::new(bin())
        .args(["--engine", engine, "--json"])
        .args(global)
        .args(["build", context, "-t", tag])
        .args(labels())
        .args(extra);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    sh(cmd)
}

/// The built image's `dhr.context` label (which Dockerfile was built).
fn label_of(engine: &str, tag: &str) -> String {
    let label = sh(Cmd::new(engine).args([
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"dhr.context\"}}",
        tag,
    ]));
    assert_eq!(label.code, 0, "{engine}: {label:?}");
    label.stdout.trim().to_string()
}

/// The built image's /hello.txt (which tree was built), read in a
/// container: used sparingly, containers are what parallel tests see.
fn hello_of(engine: &str, tag: &str) -> String {
    let hello = sh(Cmd::new(engine)
        .args(["run", "--rm", "--network", "none"])
        .args(labels())
        .args([tag, "cat", "/hello.txt"]));
    assert_eq!(hello.code, 0, "{engine}: {hello:?}");
    hello.stdout.trim().to_string()
}

/// The commit a branch of the context repository points at.
fn branch_commit(branch: &str) -> String {
    let r = sh(Cmd::new("git").args([
        "ls-remote",
        var("CTX_GIT_URL"),
        &format!("refs/heads/{branch}"),
    ]));
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout.split_whitespace().next().unwrap().to_string()
}

/// A private TMPDIR for one dockhand run, to see that it leaves nothing.
fn private_tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dh-rg-tmp-")
        .tempdir()
        .unwrap()
}

fn left_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn tarball_urls_build_on_both_engines_checked_against_their_sha256() {
    let (url, sha) = (var("CTX_TARBALL_URL"), var("CTX_TARBALL_SHA256"));
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let root = objs.image(&format!("{}:1", unique("rg-tar")));
        let r = build(engine, &[], &[], url, &root, &["--context-sha256", sha]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let built = r.json();
        assert_eq!(built["sha256"], sha, "{engine}: {built}");
        assert_valid("build", &built);
        assert_eq!(
            built["context"],
            serde_json::json!({"type": "tarball", "url": url})
        );
        assert_eq!(
            (label_of(engine, &root), hello_of(engine, &root)),
            ("root".into(), "main 2".into()),
            "{engine}"
        );

        // -f is a path inside the archive.
        let app = objs.image(&format!("{}:1", unique("rg-tar")));
        let r = build(engine, &[], &[], url, &app, &["-f", "app/Dockerfile"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(label_of(engine, &app), "app", "{engine}");

        // A wrong checksum: refused before the engine builds anything.
        let wrong = objs.image(&format!("{}:1", unique("rg-tar")));
        let r = build(
            engine,
            &[],
            &[],
            url,
            &wrong,
            &["--context-sha256", &"0".repeat(64)],
        );
        assert_eq!(r.code, 1, "{engine}: {r:?}");
        assert!(
            r.json_error()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not the expected"),
            "{r:?}"
        );
        let exists = sh(Cmd::new(bin()).args(["--engine", engine, "image-exists", &wrong]));
        assert_eq!(exists.code, 3, "{engine}");
    }
    // A dry run prints the fetch and the build, runs neither.
    let r = sh(Cmd::new(bin()).args(["--dry-run", "build", url, "-t", "dh-rg-never:1"]));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("dry-run: curl ")
            && r.stderr.contains(" build ")
            && r.stderr.contains(" - < "),
        "{}",
        r.stderr
    );
}

#[test]
fn git_contexts_build_the_ref_and_subdir_asked_for_on_both_engines() {
    let (git, http) = (var("CTX_GIT_URL"), var("CTX_GIT_HTTP_URL"));
    let (v1, main) = (var("CTX_GIT_COMMIT"), var("CTX_GIT_MAIN"));
    let branch = branch_commit("dhr-branch");
    // (context, extra build arguments, dhr.context label, commit, /hello.txt
    // where it tells more than label and commit)
    type Case<'a> = (String, Vec<&'a str>, &'a str, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            format!("{git}#dhr-branch:app"),
            vec![],
            "app",
            &branch,
            Some("app branch"),
        ),
        (format!("{git}#v1"), vec![], "root", v1, Some("main 1")),
        (format!("{git}#{v1}"), vec![], "root", v1, None),
        (git.to_string(), vec![], "root", main, None),
        (
            format!("{git}#main"),
            vec!["-f", "app/Dockerfile"],
            "app",
            main,
            None,
        ),
        // dumb http cannot fetch shallow: dockhand fetches it whole.
        (format!("{http}#main:app"), vec![], "app", main, None),
    ];
    for engine in engines() {
        let mut objs = Objects::new(engine);
        for (context, extra, label, commit, hello) in &cases {
            let tag = objs.image(&format!("{}:1", unique("rg-git")));
            let r = build(engine, &[], &[], context, &tag, extra);
            assert_eq!(r.code, 0, "{engine} {context}: {r:?}");
            let built = r.json();
            assert_eq!(built["commit"], *commit, "{engine} {context}: {built}");
            assert_valid("build", &built);
            assert_eq!(label_of(engine, &tag), *label, "{engine} {context}");
            if let Some(hello) = hello {
                assert_eq!(hello_of(engine, &tag), *hello, "{engine} {context}");
            }
        }
    }
}

#[test]
fn refs_and_subdirs_that_inject_or_escape_are_refused_and_nothing_is_left() {
    let git = var("CTX_GIT_URL");
    for bad in [
        format!("{git}#--upload-pack=touch /tmp/dh-rg-pwned"),
        format!("{git}#-b"),
        format!("{git}#main:../../etc"),
        format!("{git}#main:/etc"),
        "file:///etc".to_string(),
    ] {
        let r = sh(Cmd::new(bin()).args(["--engine", "/nonexistent/engine", "build", &bad]));
        assert_eq!(r.code, 2, "{bad}: {r:?}");
    }
    assert!(!Path::new("/tmp/dh-rg-pwned").exists());
    for engine in engines() {
        // Found out only after the fetch: the temporary checkout goes too.
        for (context, code) in [(format!("{git}#main:nope"), 2), (format!("{git}#nope"), 3)] {
            let tmp = private_tmp();
            let r = build(
                engine,
                &[("TMPDIR", tmp.path())],
                &[],
                &context,
                "dh-rg-never:1",
                &[],
            );
            assert_eq!(r.code, code, "{engine} {context}: {r:?}");
            assert_eq!(
                left_in(tmp.path()),
                Vec::<PathBuf>::new(),
                "{engine} {context}"
            );
        }
    }
}

#[test]
fn flaky_sources_are_retried_and_a_hung_one_ends_at_the_fetch_timeout() {
    let http = var("CTX_HTTP").trim_start_matches("http://");
    let engine = engines()[0];
    let mut objs = Objects::new(engine);
    let retry = ["--retries", "3", "--retry-delay", "100ms", "--verbose"];

    let fault = Fault::start(
        http,
        &["--on", "all", "--mode", "flaky:2", "--fault", "status:503"],
    );
    let tag = objs.image(&format!("{}:1", unique("rg-flaky")));
    let url = format!("http://{}/context.tar.gz", fault.addr);
    let r = build(
        engine,
        &[],
        &retry,
        &url,
        &tag,
        &["--context-sha256", var("CTX_TARBALL_SHA256")],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        (fault.count("other"), fault.count("faulted")),
        (3, 2),
        "{:?}",
        fault.counts()
    );
    assert_eq!(r.stderr.matches("attempt ").count(), 2, "{}", r.stderr);

    let fault = Fault::start(
        http,
        &["--on", "all", "--mode", "flaky:1", "--fault", "status:503"],
    );
    let tag = objs.image(&format!("{}:1", unique("rg-flaky")));
    let r = build(
        engine,
        &[],
        &retry,
        &format!("http://{}/context.git#main:app", fault.addr),
        &tag,
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(fault.count("faulted"), 1, "{:?}", fault.counts());

    // Not there: one request, exit 3.
    let fault = Fault::start(http, &["--on", "all", "--mode", "flaky:0"]);
    let r = build(
        engine,
        &[],
        &retry,
        &format!("http://{}/missing.tar.gz", fault.addr),
        "dh-rg-never:1",
        &[],
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(fault.count("other"), 1, "{:?}", fault.counts());

    // Hung: the attempt ends at --fetch-timeout, not retried, nothing left.
    let fault = Fault::start(http, &["--on", "all", "--mode", "hang", "--hang-max", "10"]);
    let url = format!("http://{}/context.tar.gz", fault.addr);
    let tmp = private_tmp();
    let started = Instant::now();
    let r = build(
        engine,
        &[("TMPDIR", tmp.path())],
        &retry,
        &url,
        "dh-rg-never:1",
        &["--fetch-timeout", "2s"],
    );
    assert_eq!(r.code, 124, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fault.count("other"), 1, "{:?}", fault.counts());
    assert!(
        processes_matching(&url).is_empty(),
        "a downloader of {url} is left"
    );
    assert_eq!(left_in(tmp.path()), Vec::<PathBuf>::new());

    // git:// to a silent peer: the same bound (git has none of its own).
    let r = build(
        engine,
        &[],
        &retry,
        &format!("git://{}/context.git", fault.addr),
        "dh-rg-never:1",
        &["--fetch-timeout", "2s"],
    );
    assert_eq!(r.code, 124, "{r:?}");
}

#[test]
fn the_size_cap_is_counted_by_dockhand_whatever_the_server_announces() {
    let engine = engines()[0];
    // curl refuses at once what the server announces as too big …
    let r = build(
        engine,
        &[],
        &[],
        var("CTX_BIG_URL"),
        "dh-rg-never:1",
        &["--context-max-size", "1m"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.json_error()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("size cap of 1048576 bytes"),
        "{r:?}"
    );
    // … wget does not look: dockhand counts and stops it.
    let e = dockhand::Engine::from_command(engine).unwrap();
    let source = dockhand::image::context::ContextSource::parse(var("CTX_BIG_URL")).unwrap();
    for tool in [
        dockhand::image::context::Downloader::Wget,
        dockhand::image::context::Downloader::BusyboxWget,
    ] {
        let mut opts = dockhand::image::context::FetchOptions::default();
        opts.max_size = 1 << 20;
        opts.downloader = Some(tool);
        let err = dockhand::image::context::fetch(&e, &source, None, None, &opts).unwrap_err();
        assert!(
            err.message().contains("size cap of 1048576 bytes"),
            "{tool:?}: {err}"
        );
    }
    // A git checkout is measured after the fetch.
    let r = build(
        engine,
        &[],
        &[],
        var("CTX_GIT_URL"),
        "dh-rg-never:1",
        &["--context-max-size", "1k"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("size cap of 1024 bytes"), "{r:?}");
}

#[test]
fn without_curl_wget_or_busybox_wget_fetches() {
    if !engines().contains(&"docker") {
        return;
    }
    let docker = sh(Cmd::new("sh").args(["-c", "command -v docker"]))
        .stdout
        .trim()
        .to_string();
    for wget in ["/usr/bin/wget", "/usr/bin/busybox"] {
        let path = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(wget, path.path().join("wget")).unwrap();
        let mut objs = Objects::new("docker");
        let tag = objs.image(&format!("{}:1", unique("rg-wget")));
        let r = build(
            &docker,
            &[("PATH", path.path())],
            &[],
            var("CTX_TARBALL_URL"),
            &tag,
            &["--context-sha256", var("CTX_TARBALL_SHA256")],
        );
        assert_eq!(r.code, 0, "{wget}: {r:?}");
        assert_eq!(r.json()["sha256"], var("CTX_TARBALL_SHA256"), "{wget}");
        assert_eq!(label_of("docker", &tag), "root", "{wget}");
    }
}

/// A loopback sshd serving the context repository to a key of its own.
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
}

impl Sshd {
    fn start() -> Sshd {
        let dir = tempfile::Builder::new()
            .prefix("dh-rg-sshd-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for key in ["host", "client"] {
            let r = sh(Cmd::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key)));
            assert_eq!(r.code, 0, "{r:?}");
        }
        std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {0}/host\nAuthorizedKeysFile {0}/authorized_keys\n\
             PidFile {0}/sshd.pid\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
            d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let r = sh(Cmd::new("/usr/sbin/sshd")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(d.join("sshd.log")));
        assert_eq!(r.code, 0, "sshd: {r:?}");
        Sshd { dir, port }
    }

    fn ssh_command(&self) -> String {
        let d = self.dir.path().display();
        format!("ssh -i {d}/client -o IdentitiesOnly=yes -o UserKnownHostsFile={d}/known_hosts -o StrictHostKeyChecking=no")
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("sshd.pid")) {
            sh(Cmd::new("kill").arg(pid.trim()));
        }
    }
}

#[test]
fn git_over_ssh_uses_the_callers_ssh_command_and_never_prompts() {
    let sshd = Sshd::start();
    let repo = format!("{}/git/context.git", var("CTX_DIR"));
    let url = format!("ssh://root@127.0.0.1:{}{repo}#dhr-branch:app", sshd.port);
    let ssh = sshd.ssh_command();
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let tag = objs.image(&format!("{}:1", unique("rg-ssh")));
        // Its own label, so its own image: the same context built by a test
        // running alongside is otherwise the same cached image id, and that
        // test's removal of its tag raced this one's tagging (podman, once in
        // CI: "image not known" right after the build).
        let case = format!("dh.case={}", objs.case());
        let mut cmd = Cmd::new(bin())
            .args(["--engine", engine, "--json", "build", &url, "-t", &tag])
            .args(labels())
            .args(["--label", &case]);
        cmd = cmd.env("GIT_SSH_COMMAND", &ssh);
        let r = sh(cmd);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.json()["commit"], branch_commit("dhr-branch"), "{engine}");
        assert_eq!(label_of(engine, &tag), "app", "{engine}");
    }
    // A key the server does not know: refused at once, never a prompt.
    let stranger = format!("ssh -i {}/host -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null", sshd.dir.path().display());
    let r = sh(Cmd::new(bin())
        .args([
            "--engine",
            engines()[0],
            "--json",
            "--retries",
            "3",
            "--verbose",
            "build",
            &url,
        ])
        .env("GIT_SSH_COMMAND", &stranger));
    assert_eq!(r.code, 4, "{r:?}");
    assert!(!r.stderr.contains("attempt 1/3 failed"), "{}", r.stderr);
}

#[test]
fn an_app_service_builds_from_a_git_repository_or_a_tarball_url_on_both_engines() {
    let (git, url) = (var("CTX_GIT_URL"), var("CTX_TARBALL_URL"));
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let from_git = objs.image(&format!("{}:1", unique("rg-app-git")));
        let from_tar = objs.image(&format!("{}:1", unique("rg-app-tar")));
        let dir = tempfile::tempdir().unwrap();
        // A remote context stays as written (not made relative to the
        // project); a tarball's dockerfile is a path inside the archive.
        let compose = format!(
            "services:\n  fromgit:\n    image: {from_git}\n    build: \"{git}#v1\"\n  fromtar:\n    image: {from_tar}\n    build:\n      context: {url}\n      dockerfile: app/Dockerfile\n"
        );
        std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
        let app = |args: &[&str]| {
            sh(Cmd::new(bin())
                .args(["--engine", engine, "--json", "app", "-p", &unique("rg-app")])
                .arg("-f")
                .arg(dir.path().join("compose.yaml"))
                .args(args))
        };
        let r = app(&["config"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(
            r.json()["services"]["fromgit"]["build"]["context"],
            format!("{git}#v1").as_str(),
            "{engine}"
        );
        let r = app(&["build"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(label_of(engine, &from_git), "root", "{engine}");
        assert_eq!(label_of(engine, &from_tar), "app", "{engine}");
    }
    // A context that is neither a directory nor a fetchable URL: exit 2,
    // naming the service and the key.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    build: ftp://127.0.0.1/app.tar\n",
    )
    .unwrap();
    let r = sh(Cmd::new(bin())
        .args(["app", "-f"])
        .arg(dir.path().join("compose.yaml"))
        .arg("config"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("build.context") && r.stderr.contains("web"),
        "{}",
        r.stderr
    );
}

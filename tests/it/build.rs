//! `build` and `dockerfile` on the real engines, FROM the test image only.

use std::path::Path;

use crate::support::objects::{engines, label_instructions, unique, Objects};
use crate::support::{dockhand_on, sh, IMAGE};
use dockhand::exec::Cmd;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// `ENGINE run --rm` of `image` (no network needed), stdout.
fn run_in(engine: &str, image: &str, cmd: &[&str]) -> String {
    let r = sh(Cmd::new(engine)
        .args(["run", "--rm", "--network", "none"])
        .args(crate::support::labels())
        .arg(image)
        .args(cmd));
    assert_eq!(r.code, 0, "{engine} run {image} {cmd:?}: {r:?}");
    r.stdout
}

#[test]
fn build_prints_the_full_id_and_a_failed_run_carries_its_log() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let dir = tempfile::tempdir().unwrap();
        let case = objs.case();
        write(
            dir.path(),
            "Dockerfile",
            &format!(
                "FROM {IMAGE}\n{}\nLABEL dh.case={case}\nRUN echo built > /built.txt\n",
                label_instructions()
            ),
        );
        let tag = objs.image(&format!("{}:1", unique("build")));
        let r = dockhand_on(
            engine,
            [
                "build",
                "--network",
                "none",
                dir.path().to_str().unwrap(),
                "-t",
                &tag,
                "-l",
                "dh.extra=yes",
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let id = r.stdout.trim();
        assert!(
            id.starts_with("sha256:") && id.len() == 71,
            "{engine}: {id:?}"
        );
        let r = dockhand_on(engine, ["--json", "image", "inspect", &tag]);
        let image = &r.json()[0];
        assert_eq!(image["id"], id, "{engine}");
        assert_eq!(image["labels"]["dh.extra"], "yes", "{engine}");
        assert_eq!(run_in(engine, &tag, &["cat", "/built.txt"]), "built\n");

        write(
            dir.path(),
            "Dockerfile.fail",
            &format!(
                "FROM {IMAGE}\n{}\nLABEL dh.case={case}\nRUN echo about to fail; exit 7\n",
                label_instructions()
            ),
        );
        let dockerfile = dir.path().join("Dockerfile.fail");
        let r = dockhand_on(
            engine,
            [
                "build",
                "--network",
                "none",
                dir.path().to_str().unwrap(),
                "-f",
                dockerfile.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 1, "{engine}: {r:?}");
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("dockhand: build failed: ") && first.contains('7'),
            "{engine}: {first}"
        );
        assert!(
            r.stderr.contains("about to fail"),
            "{engine}: the RUN's output: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("RUN echo about to fail"),
            "{engine}: the failing step: {}",
            r.stderr
        );
    }
}

#[test]
fn docker_builds_with_the_classic_builder_and_with_buildkit() {
    if !engines().contains(&"docker") {
        return;
    }
    let mut objs = Objects::new("docker");
    let dir = tempfile::tempdir().unwrap();
    let case = objs.case();
    write(
        dir.path(),
        "Dockerfile",
        &format!(
            "FROM {IMAGE}\n{}\nLABEL dh.case={case}\nRUN echo {case} > /case\n",
            label_instructions()
        ),
    );
    let ctx = dir.path().to_str().unwrap();
    let classic = objs.image(&format!("{}:classic", unique("builder")));
    let r = dockhand_on(
        "docker",
        [
            "build",
            "--network",
            "none",
            ctx,
            "--builder",
            "classic",
            "-t",
            &classic,
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim().len(), 71, "{r:?}");

    // BuildKit is built into the 20.10 CLI (Debian's /usr/bin/docker)...
    let cli20 = "/usr/bin/docker";
    let is_20 = sh(Cmd::new(cli20).args(["version", "--format", "{{.Client.Version}}"]))
        .stdout
        .starts_with("20.");
    if is_20 {
        let buildkit = objs.image(&format!("{}:buildkit", unique("builder")));
        let r = dockhand_on(
            cli20,
            [
                "build",
                "--network",
                "none",
                ctx,
                "--builder",
                "buildkit",
                "--no-cache",
                "-t",
                &buildkit,
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.stdout.trim().len(), 71, "{r:?}");
        assert_eq!(
            run_in("docker", &buildkit, &["cat", "/case"]),
            format!("{case}\n")
        );
    }
    // ...newer CLIs need the buildx plugin, and the error says so.
    let with_default_cli = objs.image(&format!("{}:buildkit-default", unique("builder")));
    let r = dockhand_on(
        "docker",
        [
            "build",
            "--network",
            "none",
            ctx,
            "--builder",
            "buildkit",
            "-t",
            &with_default_cli,
        ],
    );
    match r.code {
        0 => assert_eq!(r.stdout.trim().len(), 71, "{r:?}"),
        _ => {
            assert_eq!(r.code, 127, "a missing component: {r:?}");
            assert!(r.stderr.contains("buildx"), "{r:?}");
        }
    }
}

#[test]
fn generated_dockerfile_passes_quotes_and_dollar_parens_verbatim() {
    // What a shell, a Dockerfile parser or a JSON encoder could each mangle.
    let nasty = r#"a"b $(id) `id` \ $HOME ${X} ;|& 'q' é"#;
    let cmd = format!("printf '%s\\n' {}", shlex::try_quote(nasty).unwrap());
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "payload.txt", "copied\n");
        let dockerfile = dir.path().join("Dockerfile");
        let r = dockhand_on(
            engine,
            [
                "dockerfile",
                "--from",
                IMAGE,
                "--cmd",
                &cmd,
                "--env",
                &format!("NASTY={nasty}"),
                "--user",
                "nobody",
                "--copy",
                "payload.txt",
                "/data/payload.txt",
                "-o",
                dockerfile.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let case = objs.case();
        let tag = objs.image(&format!("{}:1", unique("gen")));
        let (owner, caselabel) = (
            format!("{}={}", crate::support::OWNER_LABEL, std::process::id()),
            format!("dh.case={case}"),
        );
        let r = dockhand_on(
            engine,
            [
                "build",
                "--network",
                "none",
                dir.path().to_str().unwrap(),
                "-t",
                &tag,
                "-l",
                "dockhand.test=1",
                "-l",
                &owner,
                "-l",
                &caselabel,
            ],
        );
        assert_eq!(
            r.code,
            0,
            "{engine}: {r:?}\n{}",
            std::fs::read_to_string(&dockerfile).unwrap()
        );

        assert_eq!(
            run_in(engine, &tag, &[]),
            format!("{nasty}\n"),
            "{engine}: CMD argument"
        );
        assert_eq!(
            run_in(engine, &tag, &["sh", "-c", "printf '%s\\n' \"$NASTY\""]),
            format!("{nasty}\n"),
            "{engine}: ENV value"
        );
        assert_eq!(
            run_in(engine, &tag, &["id", "-u"]),
            "65534\n",
            "{engine}: USER"
        );
        assert_eq!(
            run_in(engine, &tag, &["cat", "/data/payload.txt"]),
            "copied\n",
            "{engine}: COPY"
        );
    }
}

#[test]
fn dockerfile_specs_are_refused_precisely_with_exit_2() {
    for (args, says) in [
        (vec!["--pkg", "curl;reboot"], "package name"),
        (
            vec!["--pkg", "curl", "--pkg-manager", "yum"],
            "package manager",
        ),
        (vec!["--user", "root;x"], "invalid user"),
        (vec!["--env", "1X=a"], "environment variable name"),
        (vec!["--copy", "../etc/passwd", "/x"], "relative path"),
    ] {
        let mut full = vec!["dockerfile", "--from", IMAGE, "--cmd", "true"];
        full.extend(&args);
        let r = crate::support::dockhand(&full);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    let r = crate::support::dockhand(["dockerfile", "--from", IMAGE, "--cmd", "echo 'unclosed"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("quote"), "{}", r.stderr);
}

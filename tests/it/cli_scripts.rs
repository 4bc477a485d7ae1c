//! The command line as a shell-script author uses it (issue 17): values
//! without jq (`--format`, `status NAME`), argument errors as the JSON error
//! object, completions that complete in real shells, and the README's shell
//! example run with jq off PATH — on both real engines.

use std::path::Path;

use crate::support::*;
use dockhand::exec::Cmd;

#[test]
fn format_picks_values_and_names_a_missing_field() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let name = start_container(engine, &mut cleanup, "cli-fmt", &[], &[]);
        let pid = dockhand_on(engine, ["pid", &name]);
        assert_eq!(pid.code, 0, "{engine}: {pid:?}");
        let r = dockhand_on(engine, ["--format", "{{.state.pid}}", "inspect", &name]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.stdout, pid.stdout, "{engine}");
        // A list result: one line per item, text kept around the values.
        let r = dockhand_on(
            engine,
            [
                "status",
                &name,
                "dh-cli-missing-x",
                "--format",
                "{{.name}}={{.status}}",
            ],
        );
        assert_eq!(
            r.stdout,
            format!("{name}=running\ndh-cli-missing-x=missing\n"),
            "{engine}: {r:?}"
        );
        // The missing field is named, with what is there; exit 2.
        let r = dockhand_on(engine, ["--format", "{{.state.pidd}}", "inspect", &name]);
        assert_eq!(r.code, 2, "{engine}: {r:?}");
        assert!(r.stdout.is_empty(), "{engine}: {r:?}");
        assert!(
            r.stderr.contains("no field 'state.pidd' (state has: "),
            "{engine}: {r:?}"
        );
        let r = dockhand_on(
            engine,
            ["--json", "--format", "{{.nope}}", "inspect", &name],
        );
        assert_eq!(r.code, 2, "{engine}: {r:?}");
        assert_eq!(r.json_error()["error"]["kind"], "invalid_input");
        // A bad template is refused before any engine call.
        let r = dockhand([
            "--engine",
            "/nonexistent/docker",
            "--format",
            "{{.name",
            "status",
            "x",
        ]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("unclosed"), "{r:?}");
    }
}

/// Streams (logs, events) go through the template too, one line per record;
/// a missing field ends the stream with the error naming it.
#[test]
fn format_picks_values_out_of_log_and_event_streams() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let cmd = "echo a; echo b >&2; trap 'exit 0' TERM; while true; do sleep 1; done";
        let name = start_container(
            engine,
            &mut cleanup,
            "cli-fmt-logs",
            &[],
            &["sh", "-c", cmd],
        );
        let r = dockhand_on(engine, ["wait-for", "--log", "b", &name]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(
            engine,
            ["--format", "{{.stream}} {{.message}}", "logs", &name],
        );
        // The engine itself may log `b` first: the container's stdout and
        // stderr are two pipes it copies at once (seen with `docker logs -t`).
        let mut records: Vec<&str> = r.stdout.lines().collect();
        records.sort_unstable();
        assert_eq!(
            (r.code, records),
            (0, vec!["stderr b", "stdout a"]),
            "{engine}: {r:?}"
        );
        let r = dockhand_on(engine, ["--format", "{{.nope}}", "logs", &name]);
        assert_eq!(r.code, 2, "{engine}: {r:?}");
        assert!(r.stderr.contains("no field 'nope'"), "{engine}: {r:?}");
        let filter = format!("container={name}");
        let r = dockhand_on(
            engine,
            [
                "--format",
                "{{.action}} {{.name}}",
                "events",
                "--since",
                "5m",
                "--until",
                "0s",
                "--filter",
                &filter,
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            r.stdout.lines().any(|l| l == format!("start {name}")),
            "{engine}: {r:?}"
        );
    }
}

#[test]
fn status_of_one_name_prints_just_the_status() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let name = start_container(engine, &mut cleanup, "cli-status", &[], &[]);
        let r = dockhand_on(engine, ["status", &name]);
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, "running\n"),
            "{engine}: {r:?}"
        );
        let r = dockhand_on(engine, ["status", "dh-cli-never-made"]);
        assert_eq!(r.stdout, "missing\n", "{engine}: {r:?}");
        let r = dockhand_on(engine, ["status", &name, "dh-cli-never-made"]);
        assert_eq!(
            r.stdout,
            format!("{name} running\ndh-cli-never-made missing\n"),
            "{engine}"
        );
    }
}

#[test]
fn argument_errors_are_the_json_error_object_with_exit_2() {
    // Parsing fails before any engine is looked for.
    let cases: [&[&str]; 5] = [
        &["--json", "stop", "bad name"],
        &["stop", "bad name", "--json"],
        &["--json", "pul"],
        &["--json", "stop", "--time", "abc", "web"],
        &["--json", "--timeout", "soon", "status", "web"],
    ];
    for args in cases {
        let r = dockhand(
            args.iter()
                .copied()
                .chain(["--engine", "/nonexistent/docker"]),
        );
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
        let e = r.json_error();
        assert_eq!(e["error"]["kind"], "invalid_input", "{args:?}: {r:?}");
        assert!(e["error"]["command"].is_null());
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            !message.starts_with("error:") && !message.contains("Usage:"),
            "{message}"
        );
    }
    let r = dockhand(["--json", "pul"]);
    assert!(
        r.json_error()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'pull'"),
        "{r:?}"
    );
    // Text errors name the flag and the value.
    let r = dockhand(["stop", "--time", "abc", "web"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("'abc'") && r.stderr.contains("--time <SECS>"),
        "{r:?}"
    );
    let r = dockhand(["pul"]);
    assert!(
        r.stderr
            .contains("similar subcommands exist: 'push', 'pull'"),
        "{r:?}"
    );
    // Help and version are not errors, with --json too.
    for args in [["--json", "--help"], ["--json", "--version"]] {
        let r = dockhand(args);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("dockhand"), "{r:?}");
    }
}

/// What bash's completion function offers for the words typed so far.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        "source {script}\nCOMP_WORDS=({line})\nCOMP_CWORD={cword}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n\
         _dockhand dockhand '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display(),
        cword = words.len() - 1,
        cur = words.last().unwrap(),
        prev = words[words.len() - 2],
    );
    let r = sh(Cmd::new("bash").args(["--norc", "--noprofile", "-c", &program]));
    assert_eq!(r.code, 0, "{r:?}");
    r.stdout.lines().map(str::to_string).collect()
}

#[test]
fn completions_complete_in_real_shells() {
    let dir = tempfile::tempdir().unwrap();
    let mut scripts = Vec::new();
    for shell in ["bash", "zsh", "fish"] {
        let r = dockhand(["completions", shell]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("dockhand"), "{shell}");
        let file = dir.path().join(format!("dockhand.{shell}"));
        std::fs::write(&file, &r.stdout).unwrap();
        scripts.push(file);
    }
    // bash: a subcommand, a nested one, an option, a value.
    let bash = &scripts[0];
    assert_eq!(bash_completes(bash, &["dockhand", "pu"]), ["pull", "push"]);
    assert_eq!(
        bash_completes(bash, &["dockhand", "network", "cr"]),
        ["create"]
    );
    assert!(
        bash_completes(bash, &["dockhand", "stop", "--lock-t"]).contains(&"--lock-timeout".into())
    );
    assert_eq!(
        bash_completes(bash, &["dockhand", "completions", "z"]),
        ["zsh"]
    );
    // `complete -p` in an interactive shell shows it registered.
    let r = sh(Cmd::new("bash").args([
        "--norc",
        "-i",
        "-c",
        &format!("source {}; complete -p dockhand", bash.display()),
    ]));
    assert!(r.stdout.contains("-F _dockhand dockhand"), "{r:?}");
    // zsh: the script parses and defines its function.
    let r = sh(Cmd::new("zsh").args([
        "-f",
        "-c",
        &format!(
            "autoload -U compinit && compinit -u -D; source {}; whence -w _dockhand",
            scripts[1].display()
        ),
    ]));
    assert!(r.stdout.contains("_dockhand: function"), "{r:?}");
    // fish: completes for real.
    let r = sh(Cmd::new("fish").args([
        "--no-config",
        "-c",
        &format!(
            "source {}; complete -C 'dockhand netw'",
            scripts[2].display()
        ),
    ]));
    assert!(r.stdout.starts_with("network"), "{r:?}");
}

#[test]
fn the_readme_shell_example_works_without_jq() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## From a shell script").nth(1).unwrap();
    let script = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert!(!script.contains("jq"), "{script}");
    // PATH: everything in /usr/bin and /bin except jq, and the dockhand under test.
    let dir = tempfile::tempdir().unwrap();
    let path_dir = dir.path().join("bin");
    std::fs::create_dir(&path_dir).unwrap();
    for sys in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        for entry in std::fs::read_dir(sys).into_iter().flatten().flatten() {
            let target = path_dir.join(entry.file_name());
            if entry.file_name() != "jq" && !target.exists() {
                let _ = std::os::unix::fs::symlink(entry.path(), target);
            }
        }
    }
    let bin = std::fs::canonicalize(bin()).unwrap();
    std::fs::remove_file(path_dir.join("dockhand")).ok();
    std::os::unix::fs::symlink(&bin, path_dir.join("dockhand")).unwrap();
    let file = dir.path().join("web.sh");
    std::fs::write(&file, script).unwrap();
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let name = start_container(engine, &mut cleanup, "cli-readme", &[], &[]);
        sh(Cmd::new(engine).args(["stop", "-t", "0", &name]));
        let r = sh(Cmd::new("sh")
            .arg(&file)
            .arg(&name)
            .env("PATH", path_dir.as_os_str())
            .env("DOCKHAND_ENGINE", engine));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(r.stderr.is_empty(), "{engine}: {r:?}");
        assert!(
            r.stdout.starts_with(&format!("engine {engine} ")),
            "{engine}: {r:?}"
        );
        assert!(
            r.stdout.contains(&format!("{name}: pid ")),
            "{engine}: {r:?}"
        );
        assert!(
            r.stdout.contains("dockhand-test/busybox:latest\n"),
            "{engine}: {r:?}"
        );
        let r = dockhand_on(engine, ["status", &name]);
        assert_eq!(r.stdout, "running\n", "{engine}: {r:?}");
    }
}

#[test]
fn verbose_and_rust_log_log_each_engine_command() {
    let engine = engines()[0];
    let r = dockhand_on(engine, ["--verbose", "status", "dh-cli-never-made"]);
    assert_eq!(r.stdout, "missing\n", "{r:?}");
    let line = r
        .stderr
        .lines()
        .find(|l| l.contains(" DEBUG dockhand::"))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(
        line.starts_with("[20") && line.contains("inspect --type container -- dh-cli-never-made"),
        "{line}"
    );
    let r = sh(dockhand::exec::Cmd::new(bin())
        .args(["--engine", engine, "status", "dh-cli-never-made"])
        .env("RUST_LOG", "dockhand=debug"));
    assert!(r.stderr.contains(" DEBUG dockhand::"), "{r:?}");
    let r = dockhand_on(engine, ["status", "dh-cli-never-made"]);
    assert!(r.stderr.is_empty(), "quiet by default: {r:?}");
}

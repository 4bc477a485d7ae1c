//! Every error text captured from the real engines (vendor-docs/captures)
//! goes through the classifier and must land in the kind its scenario
//! implies. New captures with a known scenario word are checked automatically.

use dockhand::engine::classify::{kind_of, Tool};
use dockhand::{EngineKind, ErrorKind};

/// Scenario words in capture slugs and the kind they imply; first match wins.
const EXPECTED: &[(&str, ErrorKind)] = &[
    // Engines over ssh (vendor-docs/ssh.md); transience: SSH_EXPECTED below.
    ("ssh-inspect-missing", ErrorKind::NotFound),
    ("ssh-connection-nosuch", ErrorKind::InvalidInput),
    ("ssh-auth", ErrorKind::PermissionDenied),
    (
        "ssh-remote-socket-eacces-debug",
        ErrorKind::PermissionDenied,
    ),
    ("ssh-", ErrorKind::Unreachable),
    ("permission-denied", ErrorKind::PermissionDenied),
    ("nonexistent-context", ErrorKind::Unreachable),
    ("daemon-down", ErrorKind::Unreachable),
    ("stale-socket", ErrorKind::Unreachable),
    ("remote-down", ErrorKind::Unreachable),
    ("format-", ErrorKind::InvalidInput),
    ("missing-command", ErrorKind::EngineFailure),
    ("missing-context", ErrorKind::EngineFailure),
    ("missing-container", ErrorKind::NotFound),
    ("pull-dns-failure", ErrorKind::EngineFailure),
    ("pull-connection-refused", ErrorKind::EngineFailure),
    ("missing-image-local-registry", ErrorKind::EngineFailure),
    ("in-use", ErrorKind::Conflict),
    ("-missing", ErrorKind::NotFound),
    ("not-published", ErrorKind::NotFound),
    ("name-conflict", ErrorKind::Conflict),
    ("-exists", ErrorKind::Conflict),
    ("subnet-overlap", ErrorKind::Conflict),
    ("connect-already", ErrorKind::Conflict),
    ("rm-running", ErrorKind::Conflict),
    ("rm-paused", ErrorKind::Conflict),
    ("exec-stopped", ErrorKind::Conflict),
    ("exec-paused", ErrorKind::Conflict),
    ("pause-paused", ErrorKind::Conflict),
    ("pause-stopped", ErrorKind::Conflict),
    ("unpause-", ErrorKind::Conflict),
    ("kill-stopped", ErrorKind::Conflict),
    ("kill-paused", ErrorKind::Conflict),
    ("stop-paused", ErrorKind::Conflict),
    ("invalid", ErrorKind::InvalidInput),
    ("bad-flag", ErrorKind::InvalidInput),
    ("unknown", ErrorKind::InvalidInput),
    ("stop-t-abc", ErrorKind::InvalidInput),
    ("no-args", ErrorKind::InvalidInput),
    ("tty-no-tty", ErrorKind::InvalidInput),
];

/// Scenarios not checked: the container's own exit codes (not engine errors),
/// and failures whose text depends on the machine's network (DNS here).
const NOT_CHECKED: &[&str] = &[
    "exit-3",
    "not-executable",
    "healthcheck-run",
    "err-run-sctp",
    "missing-base",
    "in-use-and-missing",
    // The host lost docker0: an engine failure, not a missing container.
    "default-bridge-missing",
    "missing-image",
    "pull-missing-dockerhub",
];

/// One captured failure: its engine dialect, file slug, exit code and text.
struct CapturedError {
    dir: &'static str,
    kind: EngineKind,
    slug: String,
    code: String,
    stderr: Vec<u8>,
}

/// Every `err-*` row of both engines' exit-codes.tsv whose stderr was kept
/// (a few 20.10 texts equal 28.2's and were not kept twice).
fn captured_errors() -> Vec<CapturedError> {
    let root = dockhand::testing::capture_path("");
    let mut found = Vec::new();
    for (dir, kind) in [
        ("docker", EngineKind::Docker),
        ("podman", EngineKind::Podman),
    ] {
        let codes = std::fs::read_to_string(root.join(dir).join("exit-codes.tsv")).unwrap();
        for line in codes.lines() {
            let mut cols = line.split('\t');
            let (Some(slug), Some(code)) = (cols.next(), cols.next()) else {
                continue;
            };
            let Ok(stderr) = std::fs::read(root.join(dir).join(format!("{slug}.stderr.txt")))
            else {
                continue;
            };
            if slug.starts_with("err-") {
                found.push(CapturedError {
                    dir,
                    kind,
                    slug: slug.to_string(),
                    code: code.to_string(),
                    stderr,
                });
            }
        }
    }
    found
}

#[test]
fn captured_error_texts_classify_as_their_scenario() {
    let root = dockhand::testing::capture_path("");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for c in captured_errors() {
        let slug = c.slug.as_str();
        if c.code == "0" || NOT_CHECKED.iter().any(|s| slug.contains(s)) {
            continue;
        }
        let Some((_, expected)) = EXPECTED.iter().find(|(word, _)| slug.contains(word)) else {
            continue;
        };
        // docker exec reports OCI failures on stdout.
        let stdout =
            std::fs::read(root.join(c.dir).join(format!("{slug}.stdout.txt"))).unwrap_or_default();
        let text = [c.stderr, stdout].concat();
        let (got, _) = kind_of(Tool::Engine(c.kind), &text);
        checked += 1;
        if got != *expected {
            wrong.push(format!(
                "{}/{slug}: expected {expected}, got {got}: {}",
                c.dir,
                String::from_utf8_lossy(&text).trim()
            ));
        }
    }
    assert!(checked > 100, "only {checked} captures checked");
    assert!(
        wrong.is_empty(),
        "{} of {checked} misclassified:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn unreachable_and_registry_failures_are_transient() {
    let root = dockhand::testing::capture_path("");
    let root = root.display();
    for (file, kind) in [
        (
            "docker/err-daemon-down-unix-ps.stderr.txt",
            EngineKind::Docker,
        ),
        (
            "docker/err-pull-connection-refused.stderr.txt",
            EngineKind::Docker,
        ),
        (
            "podman/err-pull-connection-refused.stderr.txt",
            EngineKind::Podman,
        ),
        (
            "podman/err-remote-down-url-info.stderr.txt",
            EngineKind::Podman,
        ),
    ] {
        let text = std::fs::read(format!("{root}/{file}")).unwrap();
        assert!(
            kind_of(Tool::Engine(kind), &text).1,
            "{file} should be transient"
        );
    }
}

/// Every ssh capture's kind AND whether dockhand retries it (issue 15:
/// host keys, authentication and a missing remote CLI are permanent; the
/// connection and the remote daemon are transient). First match wins.
const SSH_EXPECTED: &[(&str, ErrorKind, bool)] = &[
    ("ssh-inspect-missing", ErrorKind::NotFound, false),
    ("ssh-connection-nosuch", ErrorKind::InvalidInput, false),
    ("ssh-hostkey", ErrorKind::Unreachable, false),
    ("ssh-context-hostkey", ErrorKind::Unreachable, false),
    ("ssh-auth", ErrorKind::PermissionDenied, false),
    ("ssh-remote-cli-absent", ErrorKind::Unreachable, false),
    (
        "ssh-remote-socket-eacces-debug",
        ErrorKind::PermissionDenied,
        false,
    ),
    // Without --debug docker prints the daemon-down text for EACCES too.
    ("ssh-remote-socket-eacces", ErrorKind::Unreachable, true),
    ("ssh-conn-refused", ErrorKind::Unreachable, true),
    ("ssh-context-conn-refused", ErrorKind::Unreachable, true),
    ("ssh-proxy-conn-refused", ErrorKind::Unreachable, true),
    ("ssh-conn-timeout", ErrorKind::Unreachable, true),
    ("ssh-proxy-conn-timeout", ErrorKind::Unreachable, true),
    ("ssh-no-route", ErrorKind::Unreachable, true),
    ("ssh-name-unresolved", ErrorKind::Unreachable, true),
    ("ssh-remote-daemon-down", ErrorKind::Unreachable, true),
    (
        "ssh-context-remote-daemon-down",
        ErrorKind::Unreachable,
        true,
    ),
    ("ssh-remote-service-down", ErrorKind::Unreachable, true),
    ("ssh-remote-socket-absent", ErrorKind::Unreachable, true),
];

#[test]
fn every_ssh_capture_has_its_kind_and_retry_rule() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for c in captured_errors() {
        if !c.slug.starts_with("err-ssh-") {
            continue;
        }
        let Some((_, expected, transient)) =
            SSH_EXPECTED.iter().find(|(word, ..)| c.slug.contains(word))
        else {
            wrong.push(format!("{}/{}: no row in SSH_EXPECTED", c.dir, c.slug));
            continue;
        };
        let got = kind_of(Tool::Engine(c.kind), &c.stderr);
        checked += 1;
        if got != (*expected, *transient) {
            wrong.push(format!(
                "{}/{}: expected ({expected}, transient {transient}), got {got:?}: {}",
                c.dir,
                c.slug,
                String::from_utf8_lossy(&c.stderr).trim()
            ));
        }
    }
    assert!(checked >= 45, "only {checked} ssh captures checked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

//! Every error text captured from the real engines (vendor-docs/captures)
//! goes through the classifier and must land in the kind its scenario
//! implies. New captures with a known scenario word are checked automatically.

use dockhand::engine::classify::{kind_of, Tool};
use dockhand::{EngineKind, ErrorKind};

/// Scenario words in capture slugs and the kind they imply; first match wins.
const EXPECTED: &[(&str, ErrorKind)] = &[
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
    ("top-stopped", ErrorKind::Conflict),
    ("top-absent", ErrorKind::NotFound),
    ("diff-absent", ErrorKind::NotFound),
    ("rename-source-absent", ErrorKind::NotFound),
    ("rename-target-in-use", ErrorKind::Conflict),
    ("image-history-absent", ErrorKind::NotFound),
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

#[test]
fn captured_error_texts_classify_as_their_scenario() {
    let root = dockhand::testing::capture_path("");
    let root = root.display();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (dir, kind) in [
        ("docker", EngineKind::Docker),
        ("podman", EngineKind::Podman),
    ] {
        let codes = std::fs::read_to_string(format!("{root}/{dir}/exit-codes.tsv")).unwrap();
        for line in codes.lines() {
            let mut cols = line.split('\t');
            let (Some(slug), Some(code)) = (cols.next(), cols.next()) else {
                continue;
            };
            if !slug.starts_with("err-")
                || code == "0"
                || NOT_CHECKED.iter().any(|s| slug.contains(s))
            {
                continue;
            }
            let Some((_, expected)) = EXPECTED.iter().find(|(word, _)| slug.contains(word)) else {
                continue;
            };
            let Ok(stderr) = std::fs::read(format!("{root}/{dir}/{slug}.stderr.txt")) else {
                continue;
            };
            // docker exec reports OCI failures on stdout.
            let stdout =
                std::fs::read(format!("{root}/{dir}/{slug}.stdout.txt")).unwrap_or_default();
            let text = [stderr, stdout].concat();
            let (got, _) = kind_of(Tool::Engine(kind), &text);
            checked += 1;
            if got != *expected {
                wrong.push(format!(
                    "{dir}/{slug}: expected {expected}, got {got}: {}",
                    String::from_utf8_lossy(&text).trim()
                ));
            }
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

use ErrorKind::{EngineFailure, InvalidInput, NotFound, PermissionDenied};

/// Every registry error captured on docker (28.2 and 20.10 CLIs) and podman
/// (vendor-docs/registry.md): the kind and whether dockhand retries it.
/// Hangs are not here: the capture killed them before the engine said
/// anything but `Trying to pull` (dockhand's timeout is the verdict).
const REGISTRY_EXPECTED: &[(&str, ErrorKind, bool)] = &[
    ("err-registry-fault-401", PermissionDenied, false),
    ("err-registry-fault-403", PermissionDenied, false),
    ("err-registry-fault-429-text", EngineFailure, true),
    ("err-registry-fault-429", EngineFailure, true),
    ("err-registry-fault-500", EngineFailure, true),
    ("err-registry-fault-503-on-blob", EngineFailure, true),
    (
        "err-registry-fault-503-on-manifest-any",
        EngineFailure,
        true,
    ),
    ("err-registry-fault-503-on-push", EngineFailure, true),
    ("err-registry-fault-503-text", EngineFailure, true),
    ("err-registry-fault-503", EngineFailure, true),
    ("err-registry-fault-hang-on-v2", EngineFailure, true),
    ("err-registry-fault-manifest-404", NotFound, false),
    ("err-registry-fault-name-400", InvalidInput, false),
    ("err-registry-fault-reset-on-blob", EngineFailure, true),
    ("err-registry-fault-reset-on-push", EngineFailure, true),
    ("err-registry-fault-reset-on-v2", EngineFailure, true),
    ("err-registry-fault-reset", EngineFailure, true),
    (
        "err-registry-fault-toomanyrequests-message",
        EngineFailure,
        true,
    ),
    ("err-registry-fault-toomanyrequests", EngineFailure, true),
    ("err-registry-fault-unavailable-429", EngineFailure, true),
    ("err-registry-fault-unavailable", EngineFailure, true),
    ("err-registry-login-wrongpass", PermissionDenied, false),
    ("err-registry-login-wronguser", PermissionDenied, false),
    ("err-registry-pull-absent-digest", NotFound, false),
    ("err-registry-pull-absent-repo", NotFound, false),
    ("err-registry-pull-absent-tag", NotFound, false),
    ("err-registry-pull-authfile-absent", EngineFailure, false),
    ("err-registry-pull-https-only", EngineFailure, false),
    ("err-registry-pull-noauth", PermissionDenied, false),
    ("err-registry-pull-uppercase", InvalidInput, false),
    ("err-registry-pull-wrongcreds", PermissionDenied, false),
    ("err-registry-push-absent-local", NotFound, false),
    ("err-registry-push-noauth", PermissionDenied, false),
];

/// Every failed fetch of a remote build context captured with curl, GNU
/// wget, busybox wget and git (vendor-docs/remote-context.md).
const FETCH_EXPECTED: &[(&str, ErrorKind, bool)] = &[
    ("err-fetch-busybox-wget-404", NotFound, false),
    ("err-fetch-busybox-wget-503", EngineFailure, true),
    ("err-fetch-busybox-wget-refused", EngineFailure, true),
    ("err-fetch-busybox-wget-reset", EngineFailure, true),
    ("err-fetch-curl-404", NotFound, false),
    ("err-fetch-curl-503", EngineFailure, true),
    ("err-fetch-curl-bad-url", InvalidInput, false),
    ("err-fetch-curl-maxfilesize", EngineFailure, false),
    ("err-fetch-curl-proto-file", InvalidInput, false),
    ("err-fetch-curl-refused", EngineFailure, true),
    ("err-fetch-curl-reset", EngineFailure, true),
    ("err-fetch-curl-stall", EngineFailure, true),
    ("err-fetch-curl-timeout", EngineFailure, true),
    ("err-fetch-git-clone-bad-ref", NotFound, false),
    ("err-fetch-git-clone-branch-sha", NotFound, false),
    ("err-fetch-git-dumb-shallow", EngineFailure, false),
    ("err-fetch-git-ext-transport", InvalidInput, false),
    ("err-fetch-git-fetch-absent-sha", NotFound, false),
    ("err-fetch-git-fetch-bad-ref", NotFound, false),
    ("err-fetch-git-fetch-dash-ref", NotFound, false),
    ("err-fetch-git-fetch-sha-protocol-v0", EngineFailure, false),
    ("err-fetch-git-fetch-short-sha", NotFound, false),
    ("err-fetch-git-http-404", NotFound, false),
    ("err-fetch-git-http-503", EngineFailure, true),
    ("err-fetch-git-http-lowspeed", EngineFailure, true),
    ("err-fetch-git-http-refused", EngineFailure, true),
    ("err-fetch-git-http-reset", EngineFailure, true),
    ("err-fetch-git-https-refused", EngineFailure, true),
    ("err-fetch-git-no-repo", NotFound, false),
    ("err-fetch-git-refused", EngineFailure, true),
    ("err-fetch-git-ssh-refused", EngineFailure, true),
    ("err-fetch-wget-404-nv", NotFound, false),
    ("err-fetch-wget-refused-nv", EngineFailure, true),
];

/// Check every non-empty `err-PREFIX*.stderr.txt` of `dirs` against
/// `expected` (a `-client20` capture is its slug's); a capture with no row
/// fails too, so new captures get an expectation.
fn check_table(dirs: &[(&str, Tool)], prefix: &str, expected: &[(&str, ErrorKind, bool)]) {
    let root = dockhand::testing::capture_path("");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (dir, tool) in dirs {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.starts_with(prefix) && f.ends_with(".stderr.txt"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read(root.join(dir).join(&file)).unwrap();
            let said = String::from_utf8_lossy(&text);
            if said
                .lines()
                .all(|l| l.trim().is_empty() || l.starts_with("Trying to pull"))
            {
                continue;
            }
            let slug = file.trim_end_matches(".stderr.txt");
            let slug = slug.trim_end_matches("-client20");
            let Some((_, kind, transient)) = expected.iter().find(|(s, ..)| *s == slug) else {
                wrong.push(format!("{dir}/{file}: no expectation"));
                continue;
            };
            checked += 1;
            let got = kind_of(*tool, &text);
            if got != (*kind, *transient) {
                wrong.push(format!(
                    "{dir}/{file}: expected ({kind}, transient {transient}), got ({}, transient {}): {}",
                    got.0,
                    got.1,
                    String::from_utf8_lossy(&text).trim()
                ));
            }
        }
    }
    assert!(checked >= expected.len(), "only {checked} captures checked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn registry_errors_classify_by_their_code_and_only_transient_ones_are_retried() {
    check_table(
        &[
            ("docker", Tool::Engine(EngineKind::Docker)),
            ("podman", Tool::Engine(EngineKind::Podman)),
        ],
        "err-registry-",
        REGISTRY_EXPECTED,
    );
}

#[test]
fn context_fetch_errors_classify_as_transient_or_permanent() {
    check_table(&[("fetch", Tool::Host)], "err-fetch-", FETCH_EXPECTED);
}

//! From a failed command's exit status and stderr to an [`ErrorKind`].
//!
//! One ordered table per tool; the first rule whose substrings all occur in
//! the lower-cased stderr wins. The texts come from real runs recorded in
//! `vendor-docs/errors.md`; tests replay those captures.

use crate::error::{Error, ErrorKind};
use crate::exec::{Cmd, Output};

use super::EngineKind;

/// Which table to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// An engine CLI.
    Engine(EngineKind),
    /// `ip`, `nsenter` and other host tools.
    Host,
}

/// One classification rule.
#[derive(Debug)]
struct Rule {
    /// All of these (lower-case) must occur in stderr.
    all: &'static [&'static str],
    kind: ErrorKind,
    /// Whether a retry may cure it.
    transient: bool,
}

const fn rule(all: &'static [&'static str], kind: ErrorKind, transient: bool) -> Rule {
    Rule {
        all,
        kind,
        transient,
    }
}

use ErrorKind::*;

/// Texts both engine CLIs (and sudo in front of them) print.
const COMMON: &[Rule] = &[
    rule(&["command not found"], EngineMissing, false),
    rule(&["sudo:", "password is required"], PermissionDenied, false),
    rule(&["sudo:", "not allowed"], PermissionDenied, false),
    // Registry trouble on pull/push: worth another try.
    rule(&["connection reset by peer"], EngineFailure, true),
    rule(&["tls handshake timeout"], EngineFailure, true),
    rule(&["i/o timeout"], EngineFailure, true),
    rule(&["503 service unavailable"], EngineFailure, true),
    rule(&["502 bad gateway"], EngineFailure, true),
    rule(&["504 gateway timeout"], EngineFailure, true),
    rule(&["toomanyrequests"], EngineFailure, true),
    rule(&["/v2/", "connection refused"], EngineFailure, true),
    rule(
        &["pinging container registry", "connection refused"],
        EngineFailure,
        true,
    ),
    rule(&["manifest unknown"], NotFound, false),
    rule(&["pull access denied"], NotFound, false),
    rule(&["repository does not exist"], NotFound, false),
];

const DOCKER: &[Rule] = &[
    rule(
        &["permission denied while trying to connect"],
        PermissionDenied,
        false,
    ),
    rule(&["cannot connect to the docker daemon"], Unreachable, true),
    rule(&["error during connect"], Unreachable, true),
    rule(
        &["dial unix", "connect: no such file or directory"],
        Unreachable,
        true,
    ),
    rule(&["dial unix", "connection refused"], Unreachable, true),
    rule(&["dial tcp", "connection refused"], Unreachable, true),
    // The host lost a bridge ("… no such network interface"): not a missing
    // network object (captures/docker/err-run-default-bridge-missing).
    rule(&["failed to create endpoint"], EngineFailure, false),
    rule(
        &["multiple ids found with provided prefix"],
        InvalidInput,
        false,
    ),
    rule(&["no such container"], NotFound, false),
    rule(&["no such object"], NotFound, false),
    rule(&["no such image"], NotFound, false),
    rule(&["no such network"], NotFound, false),
    rule(&["no such volume"], NotFound, false),
    rule(&["network", "not found"], NotFound, false),
    rule(&["is already in use"], Conflict, false),
    rule(&["is already in progress"], Conflict, false),
    rule(&["has active endpoints"], Conflict, false),
    rule(&["volume is in use"], Conflict, false),
    rule(&["image is being used"], Conflict, false),
    rule(&["unable to delete", "must be forced"], Conflict, false),
    rule(&["unable to remove repository reference"], Conflict, false),
    rule(&["you cannot remove a running container"], Conflict, false),
    rule(&["is not running"], Conflict, false),
    rule(&["is paused"], Conflict, false),
    rule(&["is not paused"], Conflict, false),
    rule(&["is already paused"], Conflict, false),
    rule(&["is restarting"], Conflict, false),
    rule(&["conflict"], Conflict, false),
    rule(&["invalid reference format"], InvalidInput, false),
    rule(&["unknown flag"], InvalidInput, false),
    rule(&["unknown shorthand flag"], InvalidInput, false),
    rule(&["invalid argument"], InvalidInput, false),
    rule(&["invalid container name"], InvalidInput, false),
    rule(&["invalid containerport"], InvalidInput, false),
    rule(&["invalid hostport"], InvalidInput, false),
    rule(&["invalid proto"], InvalidInput, false),
    rule(&["invalid signal"], InvalidInput, false),
    rule(&["is not a docker command"], InvalidInput, false),
    rule(&["requires at least"], InvalidInput, false),
    rule(&["requires exactly"], InvalidInput, false),
];

const PODMAN: &[Rule] = &[
    rule(
        &["more than one result for container id"],
        InvalidInput,
        false,
    ),
    rule(&["cannot connect to podman"], Unreachable, true),
    rule(&["unable to connect to podman"], Unreachable, true),
    rule(&["no such container"], NotFound, false),
    rule(&["no container with name or id"], NotFound, false),
    rule(&["no such object"], NotFound, false),
    rule(&["image not known"], NotFound, false),
    rule(&["no such image"], NotFound, false),
    rule(&["network not found"], NotFound, false),
    rule(&["unable to find network"], NotFound, false),
    rule(&["no such network"], NotFound, false),
    rule(&["no such volume"], NotFound, false),
    rule(&["volume not found"], NotFound, false),
    rule(&["no such pod"], NotFound, false),
    rule(&["already in use"], Conflict, false),
    rule(&["is being used"], Conflict, false),
    rule(&["in use by"], Conflict, false),
    rule(&["container state improper"], Conflict, false),
    rule(&["is not running"], Conflict, false),
    rule(&["is paused"], Conflict, false),
    rule(&["is not paused"], Conflict, false),
    rule(&["dependent containers"], Conflict, false),
    rule(&["invalid reference format"], InvalidInput, false),
    rule(&["unknown flag"], InvalidInput, false),
    rule(&["unknown shorthand flag"], InvalidInput, false),
    rule(&["invalid argument"], InvalidInput, false),
    rule(&["invalid signal"], InvalidInput, false),
    rule(&["names must match"], InvalidInput, false),
    rule(&["unrecognized command"], InvalidInput, false),
    rule(&["requires at least"], InvalidInput, false),
    rule(&["requires exactly"], InvalidInput, false),
];

const HOST: &[Rule] = &[
    rule(&["operation not permitted"], PermissionDenied, false),
    rule(&["permission denied"], PermissionDenied, false),
    rule(&["file exists"], Conflict, false),
    rule(&["device or resource busy"], Conflict, false),
    rule(&["address already assigned"], Conflict, false),
    rule(&["cannot find device"], NotFound, false),
    rule(&["does not exist"], NotFound, false),
    rule(&["no such device"], NotFound, false),
    rule(&["no such process"], NotFound, false),
    rule(&["no such file or directory"], NotFound, false),
    rule(&["invalid argument"], InvalidInput, false),
    rule(&["is not a valid"], InvalidInput, false),
    rule(&["invalid prefix"], InvalidInput, false),
    rule(&["garbage"], InvalidInput, false),
    rule(&["not a valid ifname"], InvalidInput, false),
    rule(&["command line is not complete"], InvalidInput, false),
];

fn table(tool: Tool) -> [&'static [Rule]; 2] {
    match tool {
        Tool::Engine(EngineKind::Docker) => [COMMON, DOCKER],
        Tool::Engine(EngineKind::Podman) => [COMMON, PODMAN],
        Tool::Host => [HOST, &[]],
    }
}

/// The kind (and whether it is transient) for a failed command's stderr.
///
/// ```
/// use dockhand::{EngineKind, ErrorKind};
/// use dockhand::engine::classify::{kind_of, Tool};
/// let stderr = b"Error response from daemon: No such container: web";
/// assert_eq!(kind_of(Tool::Engine(EngineKind::Docker), stderr), (ErrorKind::NotFound, false));
/// ```
pub fn kind_of(tool: Tool, stderr: &[u8]) -> (ErrorKind, bool) {
    let text = String::from_utf8_lossy(stderr).to_lowercase();
    table(tool)
        .into_iter()
        .flatten()
        .find(|r| r.all.iter().all(|needle| text.contains(needle)))
        .map_or((EngineFailure, false), |r| (r.kind, r.transient))
}

/// The classified [`Error`] for `cmd`, which exited non-zero with `output`.
pub fn classify(tool: Tool, cmd: &Cmd, output: &Output) -> Error {
    let (kind, transient) = kind_of(tool, &output.stderr);
    let first_line = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string);
    let program = cmd.get_program().to_string_lossy();
    let message = match (kind, first_line) {
        (_, Some(line)) => line,
        (_, None) => format!("`{program}` failed with {}", output.status),
    };
    Error::new(kind, message)
        .with_command(cmd.to_string())
        .with_status(output.status)
        .with_stderr(&output.stderr)
        .with_transient(transient)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Tool = Tool::Engine(EngineKind::Docker);
    const P: Tool = Tool::Engine(EngineKind::Podman);

    #[test]
    fn unknown_text_is_engine_failure_not_transient() {
        assert_eq!(
            kind_of(D, b"something odd happened"),
            (EngineFailure, false)
        );
        assert_eq!(kind_of(Tool::Host, b""), (EngineFailure, false));
    }

    #[test]
    fn daemon_down_is_unreachable_and_transient() {
        let t = b"Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?";
        assert_eq!(kind_of(D, t), (Unreachable, true));
    }

    #[test]
    fn registry_refusal_is_transient_failure_not_unreachable_daemon() {
        let t = b"Error response from daemon: Get \"https://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused";
        assert_eq!(kind_of(D, t), (EngineFailure, true));
    }

    #[test]
    fn podman_texts() {
        assert_eq!(
            kind_of(
                P,
                b"Error: no container with name or ID \"x\" found: no such container"
            ),
            (NotFound, false)
        );
        assert_eq!(
            kind_of(P, b"Error: dockhand-test/none: image not known"),
            (NotFound, false)
        );
    }

    #[test]
    fn an_ambiguous_id_prefix_is_invalid_input_on_both_engines() {
        let d = include_bytes!(
            "../../vendor-docs/captures/docker/err-inspect-ambiguous-prefix.stderr.txt"
        );
        let p = include_bytes!(
            "../../vendor-docs/captures/podman/err-inspect-ambiguous-prefix.stderr.txt"
        );
        assert_eq!(kind_of(D, d), (InvalidInput, false));
        assert_eq!(kind_of(P, p), (InvalidInput, false));
    }

    #[test]
    fn a_missing_host_bridge_is_an_engine_failure_not_a_missing_network() {
        let t = include_bytes!(
            "../../vendor-docs/captures/docker/err-run-default-bridge-missing.stderr.txt"
        );
        assert_eq!(kind_of(D, t), (EngineFailure, false));
    }

    #[test]
    fn sudo_without_rights_is_permission_denied() {
        assert_eq!(
            kind_of(D, b"sudo: a password is required"),
            (PermissionDenied, false)
        );
    }
}

//! From a failed command's exit status and stderr to an [`ErrorKind`].
//!
//! One ordered table per tool; the first rule whose substrings all occur in
//! the lower-cased stderr wins. The texts come from real runs recorded in
//! `vendor-docs/errors.md` (and, for engines reached over ssh,
//! `vendor-docs/ssh.md`); tests replay those captures.
//!
//! An engine CLI's stderr is first matched against the `SSH` table: a
//! failure on the way to a remote engine (host key, authentication, the
//! connection, the remote daemon or CLI) gets its [`SshFailure`], which
//! decides the kind and whether a retry may help, before any rule that
//! would read the same words as a local failure (a remote
//! `docker: command not found` is not a missing local CLI).

use serde::Serialize;

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
    rule(&["did not resolve to an alias"], NotFound, false),
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
    // Not local, and the registry gave no transient reason above: absent.
    rule(&["unable to find image"], NotFound, false),
];

/// A registry's answers on pull, push and login, as both CLIs print them
/// (`vendor-docs/registry.md`). A 4xx answer carries the registry's error
/// CODE, printed as its lower-cased words after `: ` (docker `Error response
/// from daemon: denied`, podman `…: reading manifest latest in REPO: denied`):
/// those are matched first, with the `: ` so no other text can match. A 5xx
/// answer is never decoded: only its status number is printed.
const REGISTRY: &[Rule] = &[
    // Codes (distribution's errcode) a retry may cure.
    rule(&[": toomanyrequests"], EngineFailure, true),
    rule(&[": unavailable"], EngineFailure, true),
    // Codes that fail the same way every time.
    rule(&[": manifest unknown"], NotFound, false),
    rule(&[": name unknown"], NotFound, false),
    rule(&[": blob unknown"], NotFound, false),
    rule(&[": name invalid"], InvalidInput, false),
    rule(&[": tag invalid"], InvalidInput, false),
    rule(&[": manifest invalid"], InvalidInput, false),
    rule(&[": unauthorized"], PermissionDenied, false),
    rule(&[": denied"], PermissionDenied, false),
    // No code printed: the status number, or the client's own words.
    rule(&["received unexpected http status: 5"], EngineFailure, true),
    rule(
        &["invalid status code from registry 5"],
        EngineFailure,
        true,
    ),
    rule(
        &["error parsing http 429 response body"],
        EngineFailure,
        true,
    ),
    rule(&["statuscode: 429"], EngineFailure, true),
    rule(&["statuscode: 5"], EngineFailure, true),
    rule(&["context deadline exceeded"], EngineFailure, true),
    rule(&["no basic auth credentials"], PermissionDenied, false),
    rule(&["invalid username/password"], PermissionDenied, false),
    rule(
        &["login attempt", "failed with status: 4"],
        PermissionDenied,
        false,
    ),
    // docker push of a tag that is not there.
    rule(
        &["an image does not exist locally with the tag"],
        NotFound,
        false,
    ),
    // podman without --tls-verify=false against a plain-http registry:
    // a configuration matter, not worth a retry.
    rule(
        &["server gave http response to https client"],
        EngineFailure,
        false,
    ),
];

const DOCKER: &[Rule] = &[
    rule(
        &["permission denied while trying to connect"],
        PermissionDenied,
        false,
    ),
    // A context that does not exist: nothing to connect to; retrying will not help.
    rule(&["unable to resolve docker endpoint"], Unreachable, false),
    // `context inspect NAME` of a context that does not exist (endpoint lookup).
    rule(&["context not found"], Unreachable, false),
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
    // The daemon's own bridge (docker0) is gone: not a missing user network.
    rule(&["no such network interface"], EngineFailure, false),
    rule(&["no such network"], NotFound, false),
    rule(&["no such volume"], NotFound, false),
    rule(&["network", "not found"], NotFound, false),
    rule(&["no public port"], NotFound, false),
    // `save` of a missing image (captures/docker/err-save-missing).
    rule(&["reference does not exist"], NotFound, false),
    // disconnect of a container that is not attached: the endpoint is not there.
    rule(&["is not connected to network"], NotFound, false),
    // `DOCKER_BUILDKIT=1` with a CLI that has no buildx plugin.
    rule(&["buildx component is missing"], EngineMissing, false),
    rule(&["is already in use"], Conflict, false),
    rule(&["already exists"], Conflict, false),
    rule(&["port is already allocated"], Conflict, false),
    rule(&["pool overlaps"], Conflict, false),
    rule(&["is already in progress"], Conflict, false),
    rule(&["has active endpoints"], Conflict, false),
    rule(&["volume is in use"], Conflict, false),
    rule(&["image is being used"], Conflict, false),
    rule(&["unable to delete", "must be forced"], Conflict, false),
    rule(&["unable to remove repository reference"], Conflict, false),
    rule(&["you cannot remove a"], Conflict, false),
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
    rule(&["unknown command"], InvalidInput, false),
    rule(&["does not support signal"], InvalidInput, false),
    rule(&["template:"], InvalidInput, false),
    rule(&["input device is not a tty"], InvalidInput, false),
    rule(&["requires at least"], InvalidInput, false),
    rule(&["requires exactly"], InvalidInput, false),
    // A local file the engine was asked to read (import, load, env-file).
    rule(&["open /", "no such file or directory"], NotFound, false),
];

const PODMAN: &[Rule] = &[
    rule(
        &["cannot connect to podman", "permission denied"],
        PermissionDenied,
        false,
    ),
    rule(
        &["more than one result for container id"],
        InvalidInput,
        false,
    ),
    // `--connection NAME` that containers.conf does not define.
    rule(&["service destination not found"], InvalidInput, false),
    rule(&["cannot connect to podman"], Unreachable, true),
    rule(&["unable to connect to podman"], Unreachable, true),
    // A container removed while the command walked the list of all of them
    // (`network prune` beside another client's `rm`): doing it again works
    // (captures/podman/err-network-prune-container-vanished).
    rule(&["does not exist in database"], EngineFailure, true),
    rule(&["no such container"], NotFound, false),
    rule(&["no container with name or id"], NotFound, false),
    rule(&["no such object"], NotFound, false),
    rule(&["image not known"], NotFound, false),
    rule(&["no such image"], NotFound, false),
    rule(&["network not found"], NotFound, false),
    rule(&["unable to find network"], NotFound, false),
    // podman `network create` lists the host's interfaces and then each
    // one's addresses to pick a free subnet: an interface deleted in between
    // (any container stopping removes its veth) fails it with this bare
    // error, before anything is created; the next try works (nerdctl sees
    // the same race: containerd/nerdctl#3500).
    // Not a missing network (the next rule).
    rule(
        &["error: route ip+net: no such network interface"],
        EngineFailure,
        true,
    ),
    rule(&["no such network"], NotFound, false),
    rule(&["no such volume"], NotFound, false),
    rule(&["volume not found"], NotFound, false),
    rule(&["no such pod"], NotFound, false),
    rule(&["failed to find published port"], NotFound, false),
    // `diff` of a missing container (captures/podman/err-diff-absent).
    rule(&["layer not known"], NotFound, false),
    rule(&["is not connected to network"], NotFound, false),
    rule(&["already in use"], Conflict, false),
    // network/volume create of a taken name; connect of an attached container.
    rule(&["already exists"], Conflict, false),
    rule(&["already used"], Conflict, false),
    rule(&["already connected"], Conflict, false),
    rule(&["address already in use"], Conflict, false),
    // rmi by id of an image with several tags (captures/podman/err-rmi-id-multiple-tags).
    rule(&["please force removal"], Conflict, false),
    rule(&["is being used"], Conflict, false),
    rule(&["in use by"], Conflict, false),
    rule(&["container state improper"], Conflict, false),
    rule(&["is not running"], Conflict, false),
    // `top` of a stopped container (captures/podman/err-top-stopped).
    rule(&["can only be used on running containers"], Conflict, false),
    rule(&["is paused"], Conflict, false),
    rule(&["is not paused"], Conflict, false),
    rule(&["dependent containers"], Conflict, false),
    rule(&["invalid reference format"], InvalidInput, false),
    rule(&["repository name must be lowercase"], InvalidInput, false),
    rule(&["unknown flag"], InvalidInput, false),
    rule(&["unknown shorthand flag"], InvalidInput, false),
    rule(&["invalid argument"], InvalidInput, false),
    rule(&["invalid signal"], InvalidInput, false),
    rule(&["valid signals are"], InvalidInput, false),
    rule(&["parsing host port"], InvalidInput, false),
    rule(&["parsing container port"], InvalidInput, false),
    rule(&["invalid value for"], InvalidInput, false),
    rule(&["no names or ids specified"], InvalidInput, false),
    rule(&["template:"], InvalidInput, false),
    rule(&["names must match"], InvalidInput, false),
    rule(&["unrecognized command"], InvalidInput, false),
    rule(&["requires at least"], InvalidInput, false),
    rule(&["requires exactly"], InvalidInput, false),
    // A local file the engine was asked to read (import, load, env-file).
    rule(&["open /", "no such file or directory"], NotFound, false),
];

/// curl, wget (GNU and busybox) and git fetching a remote build context
/// (`vendor-docs/remote-context.md`); consulted before [`HOST`].
const FETCH: &[Rule] = &[
    // Refused credentials first: ssh then also says "Could not read from
    // remote repository", which alone is a network failure.
    rule(&["host key verification failed"], PermissionDenied, false),
    rule(&["permission denied (publickey"], PermissionDenied, false),
    rule(&["authentication failed"], PermissionDenied, false),
    rule(&["terminal prompts disabled"], PermissionDenied, false),
    // HTTP answers (curl and git `returned error: N`, GNU wget `ERROR N:`,
    // busybox wget `server returned error: HTTP/1.1 N …`): 408, 429 and 5xx
    // may pass, other 4xx will not.
    rule(&["returned error: 408"], EngineFailure, true),
    rule(&["returned error: 429"], EngineFailure, true),
    rule(&["returned error: 5"], EngineFailure, true),
    rule(&["returned error: 401"], PermissionDenied, false),
    rule(&["returned error: 403"], PermissionDenied, false),
    rule(&["returned error: 4"], NotFound, false),
    rule(&["error: http/1.1 5"], EngineFailure, true),
    rule(&["error: http/1.0 5"], EngineFailure, true),
    rule(&["error: http/1.1 429"], EngineFailure, true),
    rule(&["error: http/1.1 401"], PermissionDenied, false),
    rule(&["error: http/1.1 403"], PermissionDenied, false),
    rule(&["server returned error: http/1."], NotFound, false),
    rule(&[" error 408:"], EngineFailure, true),
    rule(&[" error 429:"], EngineFailure, true),
    rule(&[" error 500:"], EngineFailure, true),
    rule(&[" error 502:"], EngineFailure, true),
    rule(&[" error 503:"], EngineFailure, true),
    rule(&[" error 504:"], EngineFailure, true),
    rule(&[" error 401:"], PermissionDenied, false),
    rule(&[" error 403:"], PermissionDenied, false),
    rule(&[" error 404:"], NotFound, false),
    rule(&[" error 410:"], NotFound, false),
    // The network: refused, reset, timed out, stalled, unresolvable.
    rule(&["couldn't connect to server"], EngineFailure, true),
    rule(&["can't connect to remote host"], EngineFailure, true),
    rule(&["connection refused"], EngineFailure, true),
    rule(&["connection reset"], EngineFailure, true),
    rule(&["connection timed out"], EngineFailure, true),
    rule(&["operation timed out"], EngineFailure, true),
    rule(&["operation too slow"], EngineFailure, true),
    rule(&["recv failure"], EngineFailure, true),
    rule(&["send failure"], EngineFailure, true),
    rule(&["empty reply from server"], EngineFailure, true),
    rule(&["transfer closed with"], EngineFailure, true),
    rule(&["could not resolve host"], EngineFailure, true),
    rule(
        &["temporary failure in name resolution"],
        EngineFailure,
        true,
    ),
    rule(
        &["could not read from remote repository"],
        EngineFailure,
        true,
    ),
    rule(&["early eof"], EngineFailure, true),
    // curl's own refusals: a size cap, a scheme or URL it will not take.
    rule(&["maximum file size exceeded"], EngineFailure, false),
    rule(
        &["not supported or disabled in libcurl"],
        InvalidInput,
        false,
    ),
    rule(&["url using bad/illegal format"], InvalidInput, false),
    // git: what is not in the repository, or no repository at all.
    rule(&["couldn't find remote ref"], NotFound, false),
    rule(&["not found in upstream origin"], NotFound, false),
    rule(&["not our ref"], NotFound, false),
    rule(&["no such repository"], NotFound, false),
    rule(&["repository", "not found"], NotFound, false),
    rule(&["does not appear to be a git repository"], NotFound, false),
    rule(&["transport", "not allowed"], InvalidInput, false),
    rule(
        &["server does not allow request for unadvertised object"],
        EngineFailure,
        false,
    ),
];

const HOST: &[Rule] = &[
    // nsenter could not start the tool it was to run in the namespace.
    rule(
        &["nsenter: failed to execute", "no such file or directory"],
        EngineMissing,
        false,
    ),
    rule(&["operation not permitted"], PermissionDenied, false),
    rule(&["permission denied"], PermissionDenied, false),
    rule(&["file exists"], Conflict, false),
    rule(&["device or resource busy"], Conflict, false),
    rule(&["address already assigned"], Conflict, false),
    // docker turns IPv6 off in containers of networks without IPv6.
    rule(&["ipv6 is disabled"], Conflict, false),
    rule(&["cannot find device"], NotFound, false),
    rule(&["does not exist"], NotFound, false),
    rule(&["address not found"], NotFound, false),
    rule(&["no such device"], NotFound, false),
    rule(&["no such process"], NotFound, false),
    rule(&["no such file or directory"], NotFound, false),
    rule(&["is expected rather than"], InvalidInput, false),
    rule(&["has invalid gateway"], InvalidInput, false),
    rule(&["mtu greater than device maximum"], InvalidInput, false),
    rule(&["netns is immutable"], InvalidInput, false),
    rule(&["failed policy validation"], InvalidInput, false),
    rule(&["is unknown, try"], InvalidInput, false),
    rule(&["is wrong"], InvalidInput, false),
    rule(&["invalid argument"], InvalidInput, false),
    rule(&["is not a valid"], InvalidInput, false),
    rule(&["invalid prefix"], InvalidInput, false),
    rule(&["garbage"], InvalidInput, false),
    rule(&["not a valid ifname"], InvalidInput, false),
    rule(&["command line is not complete"], InvalidInput, false),
];

/// What went wrong on the way to an engine reached over ssh (docker's
/// `ssh://` transport and contexts, podman's built-in ssh client), as far
/// as the CLI's text tells (vendor-docs/ssh.md has every capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SshFailure {
    /// The remote host's key is not in known_hosts (there is no terminal
    /// to ask): permanent until someone records it.
    HostKeyUnknown,
    /// The remote host's key differs from the one in known_hosts: a
    /// reinstalled box, or someone in between. Permanent.
    HostKeyChanged,
    /// The server refused every key offered. Permanent.
    AuthRefused,
    /// Nothing listens for ssh there (sshd down, wrong port). Transient.
    ConnectionRefused,
    /// No answer in time: the host is down or packets are dropped. Transient.
    ConnectTimeout,
    /// No route to the host (ARP fails, network unreachable). Transient.
    NoRoute,
    /// The host name does not resolve (transient when the resolver said
    /// "temporary failure").
    NameUnresolved,
    /// ssh works, but the engine on the remote host does not answer (daemon
    /// or podman service down, wrong socket path). Transient.
    RemoteEngineDown,
    /// ssh works, but the remote login shell has no `docker` on its PATH
    /// (the remote shell's exit status 127). Permanent.
    RemoteCliMissing,
    /// ssh works, but the remote user may not open the engine's socket.
    RemotePermissionDenied,
}

impl SshFailure {
    /// Stable snake_case name, as in `--json` output (`"ssh": "host_key_changed"`).
    pub fn as_str(self) -> &'static str {
        match self {
            SshFailure::HostKeyUnknown => "host_key_unknown",
            SshFailure::HostKeyChanged => "host_key_changed",
            SshFailure::AuthRefused => "auth_refused",
            SshFailure::ConnectionRefused => "connection_refused",
            SshFailure::ConnectTimeout => "connect_timeout",
            SshFailure::NoRoute => "no_route",
            SshFailure::NameUnresolved => "name_unresolved",
            SshFailure::RemoteEngineDown => "remote_engine_down",
            SshFailure::RemoteCliMissing => "remote_cli_missing",
            SshFailure::RemotePermissionDenied => "remote_permission_denied",
        }
    }

    /// The error kind it is reported as: a host that cannot be reached or
    /// used is [`ErrorKind::Unreachable`] (exit 4), a refusal of our
    /// credentials [`ErrorKind::PermissionDenied`] (exit 4 too).
    pub fn kind(self) -> ErrorKind {
        match self {
            SshFailure::AuthRefused | SshFailure::RemotePermissionDenied => {
                ErrorKind::PermissionDenied
            }
            _ => ErrorKind::Unreachable,
        }
    }

    /// What happened, in a few words (the start of the error's message).
    pub fn describe(self) -> &'static str {
        match self {
            SshFailure::HostKeyUnknown => "ssh: the remote host's key is not in known_hosts",
            SshFailure::HostKeyChanged => {
                "ssh: the remote host's key has CHANGED since it was recorded in known_hosts"
            }
            SshFailure::AuthRefused => "ssh: the remote host refused our key",
            SshFailure::ConnectionRefused => "ssh: connection refused (is sshd running there?)",
            SshFailure::ConnectTimeout => "ssh: no answer in time (host down, or packets dropped)",
            SshFailure::NoRoute => "ssh: no route to the remote host",
            SshFailure::NameUnresolved => "ssh: the host name does not resolve",
            SshFailure::RemoteEngineDown => {
                "ssh works, but the engine on the remote host does not answer"
            }
            SshFailure::RemoteCliMissing => {
                "ssh works, but the remote host has no docker CLI on its PATH"
            }
            SshFailure::RemotePermissionDenied => {
                "ssh works, but the remote user may not use the engine's socket"
            }
        }
    }
}

/// One rule of the [`SSH`] table.
struct SshRule {
    /// All of these (lower-case) must occur in stderr.
    all: &'static [&'static str],
    failure: SshFailure,
    transient: bool,
}

const fn ssh(all: &'static [&'static str], failure: SshFailure, transient: bool) -> SshRule {
    SshRule {
        all,
        failure,
        transient,
    }
}

/// docker's ssh texts (the part after `stderr=`; the CLI exits 1 for all of
/// them) and podman's built-in client's (exit 125, after its warnings), in
/// vendor-docs/ssh.md's order. The more precise rule comes first.
const SSH: &[SshRule] = &[
    ssh(
        &["remote host identification has changed"],
        SshFailure::HostKeyChanged,
        false,
    ),
    ssh(
        &["knownhosts: key mismatch"],
        SshFailure::HostKeyChanged,
        false,
    ),
    ssh(
        &["host key is known for"],
        SshFailure::HostKeyUnknown,
        false,
    ),
    ssh(
        &["host key verification failed"],
        SshFailure::HostKeyUnknown,
        false,
    ),
    ssh(
        &["knownhosts: key is unknown"],
        SshFailure::HostKeyUnknown,
        false,
    ),
    // `USER@HOST: Permission denied (publickey,password).`: ssh itself failed.
    ssh(
        &["exit status 255", "permission denied ("],
        SshFailure::AuthRefused,
        false,
    ),
    ssh(
        &["ssh: unable to authenticate"],
        SshFailure::AuthRefused,
        false,
    ),
    // The remote shell's "command not found" (bash, dash, busybox …).
    ssh(
        &["has exited with exit status 127"],
        SshFailure::RemoteCliMissing,
        false,
    ),
    ssh(
        &["ssh: connect to host", "timed out"],
        SshFailure::ConnectTimeout,
        true,
    ),
    ssh(
        &["timed out during banner exchange"],
        SshFailure::ConnectTimeout,
        true,
    ),
    ssh(
        &["failed to connect: dial tcp", "i/o timeout"],
        SshFailure::ConnectTimeout,
        true,
    ),
    ssh(
        &["ssh: connect to host", "connection refused"],
        SshFailure::ConnectionRefused,
        true,
    ),
    // sshd gone behind a ProxyCommand, or sshd's MaxStartups refusing.
    ssh(
        &["kex_exchange_identification"],
        SshFailure::ConnectionRefused,
        true,
    ),
    ssh(
        &["failed to connect: dial tcp", "connection refused"],
        SshFailure::ConnectionRefused,
        true,
    ),
    ssh(
        &["ssh: connect to host", "no route to host"],
        SshFailure::NoRoute,
        true,
    ),
    ssh(
        &["ssh: connect to host", "network is unreachable"],
        SshFailure::NoRoute,
        true,
    ),
    ssh(
        &["failed to connect: dial tcp", "no route to host"],
        SshFailure::NoRoute,
        true,
    ),
    ssh(
        &["failed to connect: dial tcp", "network is unreachable"],
        SshFailure::NoRoute,
        true,
    ),
    ssh(
        &["could not resolve hostname", "temporary failure"],
        SshFailure::NameUnresolved,
        true,
    ),
    ssh(
        &["could not resolve hostname"],
        SshFailure::NameUnresolved,
        false,
    ),
    ssh(
        &["failed to connect: dial tcp", "no such host"],
        SshFailure::NameUnresolved,
        false,
    ),
    // docker hides the remote's words unless --debug: then they say EACCES.
    ssh(
        &["raw stream connection", "permission denied"],
        SshFailure::RemotePermissionDenied,
        false,
    ),
    // The dummy host docker's ssh transport names instead of the real one.
    ssh(
        &["cannot connect to the docker daemon at http://docker.example.com"],
        SshFailure::RemoteEngineDown,
        true,
    ),
    ssh(
        &["ssh: rejected: connect failed"],
        SshFailure::RemoteEngineDown,
        true,
    ),
];

/// The ssh failure `stderr` describes, with whether a retry may cure it
/// (`None`: not an ssh failure).
///
/// ```
/// use dockhand::engine::classify::{ssh_failure, SshFailure};
/// let t = b"... has exited with exit status 255, make sure the URL is valid ...: stderr=Host key verification failed.";
/// assert_eq!(ssh_failure(t), Some((SshFailure::HostKeyUnknown, false)));
/// assert_eq!(ssh_failure(b"Error: No such object: web"), None);
/// ```
pub fn ssh_failure(stderr: &[u8]) -> Option<(SshFailure, bool)> {
    let text = String::from_utf8_lossy(stderr).to_lowercase();
    ssh_failure_in(&text)
}

/// Whether `stderr` says the named docker context or podman connection
/// does not exist (a typo, or a plain host name where an `ssh://` URL was
/// meant).
///
/// ```
/// use dockhand::engine::classify::names_no_endpoint;
/// assert!(names_no_endpoint(br#"unable to resolve docker endpoint: context "box1": context not found: open ..."#));
/// assert!(!names_no_endpoint(b"Error: No such object: web"));
/// ```
pub fn names_no_endpoint(stderr: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stderr).to_lowercase();
    ["context not found", "service destination not found"]
        .iter()
        .any(|needle| text.contains(needle))
}

fn ssh_failure_in(lower: &str) -> Option<(SshFailure, bool)> {
    SSH.iter()
        .find(|r| r.all.iter().all(|needle| lower.contains(needle)))
        .map(|r| (r.failure, r.transient))
}

fn table(tool: Tool) -> [&'static [Rule]; 3] {
    match tool {
        Tool::Engine(EngineKind::Docker) => [COMMON, REGISTRY, DOCKER],
        Tool::Engine(EngineKind::Podman) => [COMMON, REGISTRY, PODMAN],
        Tool::Host => [FETCH, HOST, &[]],
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
    if let (Tool::Engine(_), Some((failure, transient))) = (tool, ssh_failure_in(&text)) {
        return (failure.kind(), transient);
    }
    table(tool)
        .into_iter()
        .flatten()
        .find(|r| r.all.iter().all(|needle| text.contains(needle)))
        .map_or((EngineFailure, false), |r| (r.kind, r.transient))
}

/// The classified [`Error`] for `cmd`, which exited non-zero with `output`.
///
/// ```
/// use dockhand::{engine::classify::{classify, Tool}, exec::{Cmd, Output}, EngineKind, ErrorKind, ExitStatus};
/// let out = Output { status: ExitStatus::Code(1), stdout: Vec::new(),
///     stderr: b"Error: No such object: web\n".to_vec(), dry_run: false };
/// let e = classify(Tool::Engine(EngineKind::Docker), &Cmd::new("docker").arg("inspect"), &out);
/// assert_eq!((e.kind(), e.message()), (ErrorKind::NotFound, "Error: No such object: web"));
/// ```
pub fn classify(tool: Tool, cmd: &Cmd, output: &Output) -> Error {
    let (kind, transient) = kind_of(tool, &output.stderr);
    let text = String::from_utf8_lossy(&output.stderr);
    let program = cmd.get_program().to_string_lossy();
    let ssh = match tool {
        Tool::Engine(_) => ssh_failure(&output.stderr),
        Tool::Host => None,
    };
    let message = match (ssh, message_line(&text)) {
        (Some((failure, _)), line) => match ssh_detail(&text) {
            Some(detail) => format!("{}: {detail}", failure.describe()),
            // docker names a dummy host there; the engine names the real one.
            None => match line.filter(|l| !l.contains("docker.example.com")) {
                Some(l) => format!("{}: {l}", failure.describe()),
                None => failure.describe().to_string(),
            },
        },
        (None, Some(line)) => line.to_string(),
        (None, None) => format!("`{program}` failed with {}", output.status),
    };
    Error::new(kind, message)
        .with_command(cmd.to_string())
        .with_status(output.status)
        .with_stderr(&output.stderr)
        .with_transient(transient)
}

/// The line of stderr that says what failed: the first one that is not a
/// log record or a warning (podman puts `time="…" level=warning msg=…` or
/// `WARN[0000] …` lines, such as its known_hosts warning, before the error;
/// `--debug` adds more; docker's CLI puts `WARNING: …` lines, such as
/// "Localhost DNS setting (--dns=127.0.0.1) may fail in containers."). When
/// every line is a warning, the first one.
fn message_line(stderr: &str) -> Option<&str> {
    let mut lines = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !(l.is_empty() || l.starts_with("time=\"") && l.contains(" level=")));
    let first = lines.next()?;
    let warning = |l: &str| l.starts_with("WARNING:") || l.starts_with("WARN[");
    match warning(first) {
        true => Some(lines.find(|l| !warning(l)).unwrap_or(first)),
        false => Some(first),
    }
}

/// ssh's own last words: docker puts ssh's stderr after `stderr=`, its
/// last line is the verdict (`Host key verification failed.`, `…:
/// Permission denied (publickey).`); podman's is its `Error:` line.
fn ssh_detail(stderr: &str) -> Option<String> {
    let (_, ssh_part) = stderr.split_once("stderr=")?;
    // The CLI's own hint follows (`Run 'docker run --help' for more information`).
    ssh_part
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("Run '") && !l.starts_with("See '"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Tool = Tool::Engine(EngineKind::Docker);
    const P: Tool = Tool::Engine(EngineKind::Podman);

    #[test]
    fn the_message_is_the_error_line_not_a_warning_before_it() {
        let docker = "WARNING: Localhost DNS setting (--dns=127.0.0.1) may fail in containers.\n\
                      docker: Error response from daemon: Bind for :::32777 failed: port is already allocated.\n\
                      See 'docker run --help'.\n";
        assert_eq!(
            message_line(docker),
            Some("docker: Error response from daemon: Bind for :::32777 failed: port is already allocated.")
        );
        let podman = "time=\"2026-12-02T08:00:00Z\" level=warning msg=\"x\"\n\
                      WARN[0000] Failed to add pause process to systemd sandbox cgroup\n\
                      Error: no container with name or ID \"web\" found: no such container\n";
        assert_eq!(
            message_line(podman),
            Some("Error: no container with name or ID \"web\" found: no such container")
        );
        assert_eq!(
            message_line("WARNING: only this\n"),
            Some("WARNING: only this")
        );
        assert_eq!(message_line("\n  \n"), None);
    }

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
    fn host_texts_from_the_captures() {
        for (file, kind) in [
            ("iproute2/err-link-add-exists.stderr.txt", Conflict),
            (
                "iproute2/err-veth-peer-name-exists-in-netns.stderr.txt",
                Conflict,
            ),
            (
                "iproute2/err-link-add-macvlan-exists-in-netns.stderr.txt",
                Conflict,
            ),
            (
                "iproute2/err-link-set-netns-name-taken.stderr.txt",
                Conflict,
            ),
            ("iproute2/err-route-add-default-exists.stderr.txt", Conflict),
            ("iproute2/err-addr-add-duplicate.stderr.txt", Conflict),
            ("iproute2/err-addr-add-duplicate-v6.stderr.txt", Conflict),
            ("iproute2/err-addr-add-ipv6-disabled.stderr.txt", Conflict),
            ("iproute2/err-link-set-missing-dev.stderr.txt", NotFound),
            ("iproute2/err-link-show-missing-dev.stderr.txt", NotFound),
            ("iproute2/err-macvlan-parent-missing.stderr.txt", NotFound),
            ("iproute2/err-link-set-master-missing.stderr.txt", NotFound),
            ("iproute2/err-addr-del-missing.stderr.txt", NotFound),
            ("iproute2/err-route-del-missing.stderr.txt", NotFound),
            (
                "iproute2/err-link-set-netns-missing-pid.stderr.txt",
                NotFound,
            ),
            ("iproute2/err-addr-add-garbage.stderr.txt", InvalidInput),
            (
                "iproute2/err-addr-add-invalid-prefix.stderr.txt",
                InvalidInput,
            ),
            (
                "iproute2/err-route-add-unreachable-gw.stderr.txt",
                InvalidInput,
            ),
            (
                "iproute2/err-route-add-nexthop-device-down.stderr.txt",
                InvalidInput,
            ),
            ("iproute2/err-link-set-mtu-too-big.stderr.txt", InvalidInput),
            (
                "iproute2/err-link-set-netns-loopback.stderr.txt",
                InvalidInput,
            ),
            (
                "iproute2/err-link-set-netns-missing-name.stderr.txt",
                InvalidInput,
            ),
            (
                "iproute2/err-link-set-name-too-long.stderr.txt",
                InvalidInput,
            ),
            (
                "iproute2/err-link-add-name-too-long.stderr.txt",
                InvalidInput,
            ),
            ("iproute2/err-bad-object.stderr.txt", InvalidInput),
            ("iproute2/err-nonroot-link-add.stderr.txt", PermissionDenied),
            ("iproute2/err-nsenter-iw-missing.stderr.txt", EngineMissing),
            ("nsenter/err-command-not-found.stderr.txt", EngineMissing),
            ("nsenter/err-missing-pid.stderr.txt", NotFound),
            ("nsenter/err-nonroot.stderr.txt", PermissionDenied),
        ] {
            let stderr = crate::testing::capture(file);
            assert_eq!(kind_of(Tool::Host, &stderr), (kind, false), "{file}");
        }
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
    fn podmans_interface_race_in_network_create_is_transient() {
        let t = include_bytes!(
            "../../vendor-docs/captures/podman/err-network-create-iface-race.stderr.txt"
        );
        assert_eq!(kind_of(P, t), (EngineFailure, true));
    }

    fn classified(tool: Tool, file: &str) -> Error {
        let out = Output {
            status: crate::error::ExitStatus::Code(1),
            stdout: Vec::new(),
            stderr: crate::testing::capture(file),
            dry_run: false,
        };
        classify(tool, &Cmd::new("docker"), &out)
    }

    #[test]
    fn ssh_failures_say_what_failed_in_ssh_words_not_dockers_wrapper() {
        let e = classified(D, "docker/err-ssh-hostkey-changed.stderr.txt");
        assert_eq!((e.kind(), e.is_transient()), (Unreachable, false));
        assert_eq!(
            e.message(),
            "ssh: the remote host's key has CHANGED since it was recorded in known_hosts: Host key verification failed."
        );
        let e = classified(D, "docker/err-ssh-auth-refused-client20.stderr.txt");
        assert!(
            e.message().ends_with("Permission denied (publickey)."),
            "{e}"
        );
        let e = classified(D, "docker/err-ssh-remote-cli-absent-busybox.stderr.txt");
        assert_eq!((e.kind(), e.is_transient()), (Unreachable, false));
        assert!(e.message().contains("no docker CLI"), "{e}");
    }

    #[test]
    fn podman_warnings_before_the_error_are_not_the_message() {
        let e = classified(P, "podman/err-ssh-auth-refused-no-known-hosts.stderr.txt");
        assert_eq!((e.kind(), e.is_transient()), (PermissionDenied, false));
        assert!(e.message().contains("Error: failed to connect"), "{e}");
        assert!(!e.message().contains("known_hosts file"), "{e}");
        let e = classified(P, "podman/err-ssh-hostkey-changed.stderr.txt");
        assert!(e.message().contains("key mismatch"), "{e}");
    }

    #[test]
    fn a_local_missing_cli_is_still_engine_missing() {
        assert_eq!(
            kind_of(D, b"sudo: docker: command not found"),
            (EngineMissing, false)
        );
    }

    #[test]
    fn sudo_without_rights_is_permission_denied() {
        assert_eq!(
            kind_of(D, b"sudo: a password is required"),
            (PermissionDenied, false)
        );
    }
}

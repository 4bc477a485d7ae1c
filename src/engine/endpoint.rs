//! Where the engine is, and what said so: the one place that knows whether
//! an engine is remote.
//!
//! docker picks its daemon from `--host`, `--context`, `DOCKER_HOST`,
//! `DOCKER_CONTEXT` and the current context of its config (in that order;
//! a context is looked up with `docker context inspect`); podman from
//! `--url`, `--connection`, `CONTAINER_HOST`, `CONTAINER_CONNECTION`, and
//! for `podman --remote` / `podman-remote` its default connection (looked
//! up with `podman system connection list`). A unix socket is local; ssh,
//! tcp and anything else is remote.
//!
//! Commands that act on this machine's PIDs, namespaces, interfaces or
//! files ([`Engine::require_local`]) refuse a remote engine, and
//! `wait-for --port` probes the remote host's address instead of a
//! container IP that only the remote host can reach.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use super::drive::{Blocking, Driver};
use super::plan::Plan;
use super::{Argv, Engine, EngineKind};
use crate::decode::json::parse_json;
use crate::error::{Error, Result};

/// How the engine CLI reaches its daemon (or podman service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum Transport {
    /// No endpoint at all: local podman works on its own storage.
    Local,
    /// A unix socket on this machine.
    Unix {
        /// The socket's path.
        path: String,
    },
    /// ssh to another host (docker runs `ssh … docker system dial-stdio`,
    /// podman forwards the remote socket with its built-in client).
    Ssh(SshAddress),
    /// A TCP socket (`tcp://`, `http(s)://`).
    Tcp {
        /// Host name or address.
        host: String,
        /// Port, when the URL has one.
        port: Option<u16>,
    },
    /// A URL of another scheme (taken as remote).
    Other {
        /// The URL as given.
        url: String,
    },
}

/// The parts of an `ssh://[USER@]HOST[:PORT][/SOCKET]` URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SshAddress {
    /// Login name, when the URL has one.
    pub user: Option<String>,
    /// Host name, ssh alias or address (IPv6 without brackets).
    pub host: String,
    /// Port, when the URL has one.
    pub port: Option<u16>,
    /// Socket path on the remote host (podman; docker 28.2).
    pub path: Option<String>,
}

impl SshAddress {
    /// `USER@HOST` (or `HOST`): what to give `ssh` to reach the box.
    ///
    /// ```
    /// use dockhand::engine::endpoint::Transport;
    /// let Transport::Ssh(a) = Transport::parse("ssh://root@box:2222") else { unreachable!() };
    /// assert_eq!(a.login(), "root@box");
    /// ```
    pub fn login(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

impl Transport {
    /// The transport of an endpoint URL.
    ///
    /// ```
    /// use dockhand::engine::endpoint::Transport;
    /// assert!(!Transport::parse("unix:///run/docker.sock").is_remote());
    /// assert!(Transport::parse("ssh://root@10.0.0.5").is_remote());
    /// assert!(Transport::parse("tcp://10.0.0.5:2375").is_remote());
    /// ```
    pub fn parse(url: &str) -> Transport {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Transport::Other { url: url.into() };
        };
        match scheme.to_ascii_lowercase().as_str() {
            "unix" => Transport::Unix { path: rest.into() },
            "ssh" => {
                let (authority, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], Some(rest[i..].to_string())),
                    None => (rest, None),
                };
                let (user, hostport) = match authority.rsplit_once('@') {
                    Some((u, h)) => (Some(u.to_string()), h),
                    None => (None, authority),
                };
                let (host, port) = split_host_port(hostport);
                Transport::Ssh(SshAddress {
                    user,
                    host,
                    port,
                    path: path.filter(|p| p != "/"),
                })
            }
            "tcp" | "http" | "https" => {
                let authority = rest.split('/').next().unwrap_or_default();
                let (host, port) = split_host_port(authority);
                Transport::Tcp { host, port }
            }
            _ => Transport::Other { url: url.into() },
        }
    }

    /// Whether the engine is on another machine: anything but a unix
    /// socket (or local podman).
    pub fn is_remote(&self) -> bool {
        !matches!(self, Transport::Local | Transport::Unix { .. })
    }

    /// The remote host's name or address (ssh, tcp).
    pub fn remote_host(&self) -> Option<&str> {
        match self {
            Transport::Ssh(a) => Some(&a.host),
            Transport::Tcp { host, .. } => Some(host),
            _ => None,
        }
    }
}

/// `HOST[:PORT]`, `[V6]:PORT` or a bare V6 address.
fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (host.into(), port);
        }
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host.into(), Some(p)),
            Err(_) => (s.into(), None),
        },
        _ => (s.into(), None),
    }
}

/// What picked the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "name")]
#[non_exhaustive]
pub enum Source {
    /// Nothing: the engine's default (docker's `/var/run/docker.sock`, local podman).
    Default,
    /// `--host` (docker) / `--url` (podman).
    HostFlag,
    /// `DOCKER_HOST` / `CONTAINER_HOST`.
    HostEnv,
    /// `--context` (docker) / `--connection` (podman), with its name.
    ContextFlag(String),
    /// `DOCKER_CONTEXT` / `CONTAINER_CONNECTION`, with the name it holds.
    ContextEnv(String),
    /// docker's current context (`docker context use`), from its config.json.
    CurrentContext(String),
    /// podman-remote's default connection.
    DefaultConnection(String),
}

/// Where an engine's daemon is, and what said so ([`Engine::endpoint`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Endpoint {
    /// The endpoint URL (`None`: local podman, which has none).
    pub url: Option<String>,
    /// How it is reached.
    pub transport: Transport,
    /// What picked it.
    pub source: Source,
    /// The ssh key a podman connection names (`Identity`).
    pub identity: Option<String>,
}

impl Endpoint {
    fn new(url: Option<String>, source: Source) -> Endpoint {
        let transport = url.as_deref().map_or(Transport::Local, Transport::parse);
        Endpoint {
            url,
            transport,
            source,
            identity: None,
        }
    }

    /// Whether the engine is on another machine.
    pub fn is_remote(&self) -> bool {
        self.transport.is_remote()
    }

    /// The URL, or `local` for local podman.
    pub fn label(&self) -> &str {
        self.url.as_deref().unwrap_or("local")
    }

    /// What picked the endpoint, in words: `--host`, `context edge1
    /// (--context)`, `DOCKER_HOST` …, for the given engine dialect.
    pub fn source_text(&self, kind: EngineKind) -> String {
        let podman = kind == EngineKind::Podman;
        let (host_flag, host_env, ctx, ctx_flag, ctx_env) = if podman {
            (
                "--url",
                "CONTAINER_HOST",
                "connection",
                "--connection",
                "CONTAINER_CONNECTION",
            )
        } else {
            (
                "--host",
                "DOCKER_HOST",
                "context",
                "--context",
                "DOCKER_CONTEXT",
            )
        };
        match &self.source {
            Source::Default => "default".into(),
            Source::HostFlag => host_flag.into(),
            Source::HostEnv => host_env.into(),
            Source::ContextFlag(n) => format!("{ctx} {n} ({ctx_flag})"),
            Source::ContextEnv(n) => format!("{ctx} {n} ({ctx_env})"),
            Source::CurrentContext(n) => format!("current context {n} (docker context use)"),
            Source::DefaultConnection(n) => format!("default connection {n}"),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// docker's socket when nothing else is configured.
pub const DOCKER_DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// What the configuration says before any lookup.
#[derive(Debug, PartialEq, Eq)]
enum Configured {
    Known(Endpoint),
    /// A docker context or podman connection to look up.
    Named(String, Source),
    /// podman-remote's default connection.
    DefaultConnection,
}

/// The pure first step: flags, then the environment (`env`), then docker's
/// current context (`current`, read only when needed).
fn configured(
    engine: &Engine,
    env: &dyn Fn(&str) -> Option<String>,
    current: &dyn Fn() -> Option<String>,
) -> Configured {
    let podman = engine.kind() == EngineKind::Podman;
    let (host_env, ctx_env) = if podman {
        ("CONTAINER_HOST", "CONTAINER_CONNECTION")
    } else {
        ("DOCKER_HOST", "DOCKER_CONTEXT")
    };
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(url) = &engine.host {
        return Configured::Known(Endpoint::new(Some(url.clone()), Source::HostFlag));
    }
    if let Some(name) = &engine.context {
        return Configured::Named(name.clone(), Source::ContextFlag(name.clone()));
    }
    if let Some(url) = env(host_env) {
        return Configured::Known(Endpoint::new(Some(url), Source::HostEnv));
    }
    if let Some(name) = env(ctx_env) {
        return Configured::Named(name.clone(), Source::ContextEnv(name));
    }
    if podman {
        let remote = engine.argv().iter().any(|w| {
            let w = w.to_string_lossy();
            w == "--remote" || w == "-r" || w.ends_with("podman-remote")
        });
        return match remote {
            true => Configured::DefaultConnection,
            false => Configured::Known(Endpoint::new(None, Source::Default)),
        };
    }
    match current() {
        Some(name) if name != "default" => {
            Configured::Named(name.clone(), Source::CurrentContext(name))
        }
        _ => Configured::Known(Endpoint::new(
            Some(DOCKER_DEFAULT_HOST.into()),
            Source::Default,
        )),
    }
}

/// docker's current context: `currentContext` of `$DOCKER_CONFIG/config.json`
/// (default `~/.docker`).
fn docker_current_context() -> Option<String> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    let text = std::fs::read(dir.join("config.json")).ok()?;
    let doc: Value = serde_json::from_slice(&text).ok()?;
    doc.get("currentContext")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The plan for `docker context inspect NAME`: the context's docker endpoint.
///
/// ```
/// let plan = dockhand::engine::endpoint::context_inspect_plan("edge1");
/// assert_eq!(plan.args(), ["context", "inspect", "--format", "{{json .}}", "--", "edge1"]);
/// ```
pub fn context_inspect_plan(name: &str) -> Plan<String> {
    let name = name.to_string();
    Plan::read(
        Argv::new("context")
            .arg("inspect")
            .args(["--format", "{{json .}}"])
            .operands([name.as_str()]),
        move |out| {
            let doc: Value = parse_json(&out.stdout)?;
            let doc = doc.as_array().and_then(|a| a.first()).unwrap_or(&doc);
            doc["Endpoints"]["docker"]["Host"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::parse(
                        format!("docker context {name} has no docker endpoint"),
                        &out.stdout,
                    )
                })
        },
    )
}

/// One podman connection (`podman system connection list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PodmanConnection {
    /// Its name (`--connection NAME`).
    pub name: String,
    /// Its URI (`ssh://…`, `unix://…`).
    pub uri: String,
    /// The ssh key it names (empty: none).
    pub identity: String,
    /// Whether it is the default one.
    pub default: bool,
}

/// The plan for `podman system connection list` in JSON.
///
/// ```
/// let plan = dockhand::engine::endpoint::connection_list_plan();
/// assert_eq!(plan.args(), ["system", "connection", "list", "--format", "json"]);
/// ```
pub fn connection_list_plan() -> Plan<Vec<PodmanConnection>> {
    Plan::read(
        Argv::new("system")
            .args(["connection", "list"])
            .args(["--format", "json"]),
        |out| {
            let doc: Value = parse_json(&out.stdout)?;
            let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
            Ok(doc
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| PodmanConnection {
                            name: text(r, "Name"),
                            uri: text(r, "URI"),
                            identity: text(r, "Identity"),
                            default: r["Default"].as_bool().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default())
        },
    )
}

impl Engine {
    /// Where this engine's daemon is and what said so; looked up once (a
    /// context or connection costs one local CLI call) and remembered.
    ///
    /// ```
    /// let engine = dockhand::Engine::from_command("docker")?.with_host(Some("ssh://root@box".into()));
    /// let ep = engine.endpoint()?;
    /// assert!(ep.is_remote());
    /// assert_eq!(ep.source_text(engine.kind()), "--host");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn endpoint(&self) -> Result<Endpoint> {
        Blocking::finish(self.endpoint_with(&Blocking))
    }

    /// The endpoint in a few words without any lookup: the endpoint when
    /// known, else the context or connection's name.
    pub(crate) fn endpoint_hint(&self) -> String {
        if let Some(known) = self.endpoint.get() {
            return known.to_string();
        }
        let env = |k: &str| std::env::var(k).ok();
        match configured(self, &env, &docker_current_context) {
            Configured::Known(e) => e.to_string(),
            Configured::Named(name, _) if self.kind() == EngineKind::Podman => {
                format!("connection {name}")
            }
            Configured::Named(name, _) => format!("context {name}"),
            Configured::DefaultConnection => "the default connection".into(),
        }
    }

    /// [`Engine::endpoint`] for either driver.
    pub(crate) async fn endpoint_with<D: Driver>(&self, driver: &D) -> Result<Endpoint> {
        if let Some(known) = self.endpoint.get() {
            return Ok(known.clone());
        }
        let env = |k: &str| std::env::var(k).ok();
        let found = match configured(self, &env, &docker_current_context) {
            Configured::Known(e) => e,
            Configured::Named(name, source) => self.look_up(driver, Some(&name), source).await?,
            Configured::DefaultConnection => self.look_up(driver, None, Source::Default).await?,
        };
        Ok(self.endpoint.get_or_init(|| found).clone())
    }

    /// A docker context or podman connection (`None`: podman's default one).
    async fn look_up<D: Driver>(
        &self,
        driver: &D,
        name: Option<&str>,
        source: Source,
    ) -> Result<Endpoint> {
        // The lookup itself must not ask the endpoint it is looking up.
        let bare = Engine {
            host: None,
            context: None,
            ssh_sharing: None,
            identity: None,
            ..self.clone()
        }
        .moved()
        .with_retry(super::retry::RetryPolicy::never());
        if self.kind() == EngineKind::Docker {
            let name = name.unwrap_or("default");
            if name == "default" {
                return Ok(Endpoint::new(Some(DOCKER_DEFAULT_HOST.into()), source));
            }
            let url = bare.drive(driver, context_inspect_plan(name), None).await?;
            return Ok(Endpoint::new(Some(url), source));
        }
        let rows = bare.drive(driver, connection_list_plan(), None).await?;
        let pick = rows.into_iter().find(|c| match name {
            Some(n) => c.name == n,
            None => c.default,
        });
        match (pick, name) {
            (Some(c), _) => {
                let source = match source {
                    Source::Default => Source::DefaultConnection(c.name.clone()),
                    other => other,
                };
                let mut e = Endpoint::new(Some(c.uri), source);
                e.identity = Some(c.identity).filter(|i| !i.is_empty());
                Ok(e)
            }
            (None, Some(n)) => Err(Error::invalid_input(format!(
                "podman has no connection named {n:?} (podman system connection list; CONTAINERS_CONF)"
            ))),
            (None, None) => Ok(Endpoint::new(
                Some("unix:///run/podman/podman.sock".into()),
                Source::Default,
            )),
        }
    }

    /// Refuse, with an [`ErrorKind::InvalidInput`](crate::ErrorKind) error
    /// (exit 2), when the engine is remote: `what` acts on this machine's
    /// PIDs, namespaces, interfaces or files, which are not the engine's.
    ///
    /// ```
    /// let engine = dockhand::Engine::from_command("docker")?.with_host(Some("ssh://root@box".into()));
    /// let e = engine.require_local("netns exec").unwrap_err();
    /// assert!(e.message().contains("ssh root@box dockhand netns exec"), "{e}");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn require_local(&self, what: &str) -> Result<()> {
        let endpoint = self.endpoint()?;
        if !endpoint.is_remote() {
            return Ok(());
        }
        let on_box = match &endpoint.transport {
            Transport::Ssh(a) => format!("ssh {} dockhand {what} …", a.login()),
            other => format!(
                "ssh {} dockhand {what} …",
                other.remote_host().unwrap_or("THE-HOST")
            ),
        };
        Err(Error::invalid_input(format!(
            "`{what}` acts on the PIDs, network namespaces, interfaces or files of the machine dockhand runs on, \
             but the engine is remote ({endpoint}, from {}); run dockhand on that host instead: {on_box}",
            endpoint.source_text(self.kind())
        )))
    }

    /// The address of the remote host, for probes from here: an IP
    /// literal as is; a docker ssh host through `ssh -G` (an ssh alias
    /// names its `HostName`); a name through the resolver.
    pub(crate) async fn remote_address<D: Driver>(
        &self,
        driver: &D,
        endpoint: &Endpoint,
    ) -> Result<Option<IpAddr>> {
        let Some(host) = endpoint.transport.remote_host() else {
            return Ok(None);
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Some(ip));
        }
        let mut name = host.to_string();
        if let (Transport::Ssh(a), EngineKind::Docker) = (&endpoint.transport, self.kind()) {
            name = self.drive(driver, ssh_hostname_plan(a), None).await?;
            if let Ok(ip) = name.parse::<IpAddr>() {
                return Ok(Some(ip));
            }
        }
        let lookup = format!("{name}:0");
        let resolved = driver
            .offload(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&lookup).map(|mut a| a.next())
            })
            .await;
        match resolved {
            Ok(Some(addr)) => Ok(Some(addr.ip())),
            _ => Err(Error::new(
                crate::error::ErrorKind::Unreachable,
                format!("cannot resolve {name}, the host of the remote engine {endpoint}"),
            )),
        }
    }
}

/// `ssh -G [-l USER] [-p PORT] -- HOST`: the host name ssh would connect
/// to, after the user's ssh config (an alias's `HostName`).
///
/// ```
/// use dockhand::engine::endpoint::{ssh_hostname_plan, Transport};
/// let Transport::Ssh(a) = Transport::parse("ssh://root@box1:2222") else { unreachable!() };
/// assert_eq!(ssh_hostname_plan(&a).args(), ["-G", "-l", "root", "-p", "2222", "--", "box1"]);
/// ```
pub fn ssh_hostname_plan(address: &SshAddress) -> Plan<String> {
    Plan::read(
        Argv::new("-G")
            .pair("-l", address.user.clone())
            .pair("-p", address.port.map(|p| p.to_string()))
            .operands([address.host.as_str()]),
        |out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("hostname "))
                .map(|h| h.trim().to_string())
                .ok_or_else(|| Error::parse("`ssh -G` printed no hostname", &out.stdout))
        },
    )
    .on_host("ssh")
    .no_retry()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(cmd: &str, host: Option<&str>, context: Option<&str>) -> Engine {
        Engine::from_command(cmd)
            .unwrap()
            .with_host(host.map(Into::into))
            .with_context(context.map(Into::into))
    }

    fn pick(e: &Engine, env: &[(&str, &str)], current: Option<&str>) -> Configured {
        let env = |k: &str| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let current = || current.map(str::to_string);
        configured(e, &env, &current)
    }

    #[test]
    fn urls_split_into_their_parts() {
        assert_eq!(
            Transport::parse("ssh://root@[fd00::5]:2222/run/podman.sock"),
            Transport::Ssh(SshAddress {
                user: Some("root".into()),
                host: "fd00::5".into(),
                port: Some(2222),
                path: Some("/run/podman.sock".into()),
            })
        );
        assert_eq!(
            Transport::parse("ssh://box"),
            Transport::Ssh(SshAddress {
                user: None,
                host: "box".into(),
                port: None,
                path: None
            })
        );
        assert_eq!(
            Transport::parse("tcp://10.0.0.5:2376"),
            Transport::Tcp {
                host: "10.0.0.5".into(),
                port: Some(2376)
            }
        );
        assert!(!Transport::parse("unix:///var/run/docker.sock").is_remote());
        assert!(Transport::parse("npipe:////./pipe/docker_engine").is_remote());
    }

    #[test]
    fn docker_order_flag_context_env_current_default() {
        let d = engine("docker", None, None);
        let url = |c: Configured| match c {
            Configured::Known(e) => (e.url, e.source),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            url(pick(&d, &[], None)),
            (Some(DOCKER_DEFAULT_HOST.into()), Source::Default)
        );
        assert_eq!(
            url(pick(&d, &[("DOCKER_HOST", "ssh://a")], Some("c"))),
            (Some("ssh://a".into()), Source::HostEnv)
        );
        assert_eq!(
            pick(&d, &[("DOCKER_CONTEXT", "e")], Some("c")),
            Configured::Named("e".into(), Source::ContextEnv("e".into()))
        );
        assert_eq!(
            pick(&d, &[], Some("c")),
            Configured::Named("c".into(), Source::CurrentContext("c".into()))
        );
        assert!(matches!(
            pick(&d, &[], Some("default")),
            Configured::Known(_)
        ));
        let flagged = engine("docker", Some("ssh://h"), None);
        assert_eq!(
            url(pick(&flagged, &[("DOCKER_HOST", "unix:///x")], None)),
            (Some("ssh://h".into()), Source::HostFlag)
        );
        let ctx = engine("docker", None, Some("edge"));
        assert_eq!(
            pick(&ctx, &[("DOCKER_HOST", "unix:///x")], None),
            Configured::Named("edge".into(), Source::ContextFlag("edge".into()))
        );
    }

    #[test]
    fn podman_is_local_unless_told_otherwise() {
        let p = engine("podman", None, None);
        assert!(matches!(
            pick(&p, &[("DOCKER_HOST", "ssh://x")], None),
            Configured::Known(Endpoint {
                transport: Transport::Local,
                ..
            })
        ));
        assert!(matches!(
            pick(&p, &[("CONTAINER_HOST", "ssh://x")], None),
            Configured::Known(Endpoint {
                source: Source::HostEnv,
                ..
            })
        ));
        assert_eq!(
            pick(&p, &[("CONTAINER_CONNECTION", "lab")], None),
            Configured::Named("lab".into(), Source::ContextEnv("lab".into()))
        );
        assert_eq!(
            pick(&engine("podman --remote", None, None), &[], None),
            Configured::DefaultConnection
        );
    }

    #[test]
    fn connections_and_contexts_parse_from_the_captures() {
        let doc = br#"[{"Name":"host1","URI":"ssh://root@10.213.0.11:22/tmp/p.sock","Identity":"/k","IsMachine":false,"Default":false}]"#;
        let rows =
            crate::testing::replay_ok(EngineKind::Podman, connection_list_plan(), doc).unwrap();
        assert_eq!(
            (rows[0].name.as_str(), rows[0].identity.as_str()),
            ("host1", "/k")
        );
        let ctx = br#"{"Name":"dh","Endpoints":{"docker":{"Host":"ssh://root@host1","SkipTLSVerify":false}}}"#;
        assert_eq!(
            crate::testing::replay_ok(EngineKind::Docker, context_inspect_plan("dh"), ctx).unwrap(),
            "ssh://root@host1"
        );
    }

    #[test]
    fn a_local_engine_is_allowed_and_a_remote_one_refused_with_the_way_out() {
        assert!(engine("docker", Some("unix:///run/d.sock"), None)
            .require_local("pid")
            .is_ok());
        let e = engine("podman", Some("ssh://root@10.0.0.5:22/run/p.sock"), None)
            .require_local("link add")
            .unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::InvalidInput);
        assert!(
            e.message().contains("ssh root@10.0.0.5 dockhand link add"),
            "{e}"
        );
        assert!(e.message().contains("from --url"), "{e}");
    }
}

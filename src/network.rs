//! Networks: list, inspect, create, remove, connect, disconnect, and the
//! gateway address containers on a network see.
//!
//! The two engines print different documents for `network inspect`:
//! docker's `{Name, Id, IPAM{Config[{Subnet, Gateway}]}, Containers{…}}` and
//! podman's netavark/CNI-era `{name, id, subnets[{subnet, gateway}]}` with no
//! container list. [`parse_networks`] reads both into [`Network`]; for podman
//! the members come from one inspect of the running containers
//! ([`EngineKind::quirks`]`.network_inspect_lists_containers`).
//!
//! Gateways: docker's IPAM data leaves out the gateway it allocated itself
//! (the default `bridge`, and user networks created with `--subnet` but
//! without `--gateway`). Docker's IPAM then hands out the subnet's first host
//! address, which is what containers route through, so that is the gateway
//! reported ([`GatewaySource::FirstHost`]).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::json::{lenient_string, lenient_u64, null_default, parse_json};
use crate::engine::batch::Named;
use crate::engine::batch::{self, Found};
use crate::engine::plan::{Effect, Plan};
use crate::engine::{Argv, Engine, EngineKind};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{ContainerRef, KeyValue, NetworkAlias, NetworkEndpoint, NetworkName, Subnet};

/// The networks of an engine. A small borrowed handle: `engine.networks()`.
///
/// ```no_run
/// let nets = dockhand::Engine::detect()?.networks().list(&[])?;
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Networks<'e> {
    engine: &'e Engine,
}

impl Engine {
    /// The networks: list, inspect, create, remove, connect, disconnect, gateway.
    ///
    /// ```no_run
    /// let bridge = dockhand::Engine::detect()?.networks().inspect_one(&"bridge".parse()?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn networks(&self) -> Networks<'_> {
        Networks { engine: self }
    }
}

/// A network, from docker's or podman's `network inspect`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Network {
    /// Full id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Driver (`bridge`, `macvlan`, `host`, `null` …).
    pub driver: String,
    /// `local` (podman networks are always local), `global`, `swarm`.
    pub scope: String,
    /// Whether the network has no route to the outside.
    pub internal: bool,
    /// Whether IPv6 is enabled.
    pub ipv6: bool,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Address ranges, with the gateway the engine reports for each.
    pub subnets: Vec<NetworkSubnet>,
    /// The gateway of each subnet as containers see it: the reported one, or
    /// the subnet's first host address that docker's IPAM allocated.
    pub gateways: Vec<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Running containers attached to the network.
    pub containers: Vec<NetworkContainer>,
    /// The engine's whole JSON object.
    pub raw: Value,
}

impl Named for Network {
    fn is_named_by(&self, reference: &str) -> bool {
        self.name == reference || self.id.starts_with(reference)
    }
}

/// A network member found by inspecting containers: `(network, member)`
/// answers to its container's id, id prefix or name.
impl Named for (String, NetworkContainer) {
    fn is_named_by(&self, reference: &str) -> bool {
        self.1.id.starts_with(reference) || self.1.name == reference
    }
}

/// One address range of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NetworkSubnet {
    /// CIDR, e.g. `10.89.0.0/24`.
    pub subnet: String,
    /// The gateway as configured, when the engine reports one.
    pub gateway: Option<String>,
}

/// A container attached to a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NetworkContainer {
    /// Container id.
    pub id: String,
    /// Container name (without docker's leading `/`).
    pub name: String,
    /// IPv4 address with prefix length (`172.29.0.2/24`).
    pub ipv4: Option<String>,
    /// IPv6 address with prefix length.
    pub ipv6: Option<String>,
    /// MAC address.
    pub mac: Option<String>,
}

/// Both engines' `network inspect` objects, in one place: docker's
/// capitalised keys, podman's snake_case ones as aliases.
#[derive(Deserialize)]
struct NetworkDoc {
    #[serde(
        rename = "Id",
        alias = "id",
        default,
        deserialize_with = "lenient_string"
    )]
    id: String,
    #[serde(
        rename = "Name",
        alias = "name",
        default,
        deserialize_with = "lenient_string"
    )]
    name: String,
    #[serde(
        rename = "Driver",
        alias = "driver",
        default,
        deserialize_with = "lenient_string"
    )]
    driver: String,
    #[serde(rename = "Scope", default, deserialize_with = "lenient_string")]
    scope: String,
    #[serde(rename = "Internal", alias = "internal", default)]
    internal: Option<bool>,
    #[serde(rename = "EnableIPv6", alias = "ipv6_enabled", default)]
    ipv6: Option<bool>,
    #[serde(
        rename = "Created",
        alias = "created",
        default,
        deserialize_with = "lenient_string"
    )]
    created: String,
    #[serde(
        rename = "Labels",
        alias = "labels",
        default,
        deserialize_with = "null_default"
    )]
    labels: BTreeMap<String, String>,
    /// docker
    #[serde(rename = "IPAM", default, deserialize_with = "null_default")]
    ipam: IpamDoc,
    /// podman
    #[serde(rename = "subnets", default, deserialize_with = "null_default")]
    subnets: Vec<SubnetDoc>,
    /// docker
    #[serde(rename = "Containers", default, deserialize_with = "null_default")]
    containers: BTreeMap<String, MemberDoc>,
}

#[derive(Deserialize, Default)]
struct IpamDoc {
    #[serde(rename = "Config", default, deserialize_with = "null_default")]
    config: Vec<SubnetDoc>,
}

#[derive(Deserialize)]
struct SubnetDoc {
    #[serde(
        rename = "Subnet",
        alias = "subnet",
        default,
        deserialize_with = "lenient_string"
    )]
    subnet: String,
    #[serde(
        rename = "Gateway",
        alias = "gateway",
        default,
        deserialize_with = "lenient_string"
    )]
    gateway: String,
}

#[derive(Deserialize)]
struct MemberDoc {
    #[serde(rename = "Name", default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(rename = "IPv4Address", default, deserialize_with = "lenient_string")]
    ipv4: String,
    #[serde(rename = "IPv6Address", default, deserialize_with = "lenient_string")]
    ipv6: String,
    #[serde(rename = "MacAddress", default, deserialize_with = "lenient_string")]
    mac: String,
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// The gateway containers use on `subnet`: the reported one, else the first
/// host address (docker's IPAM allocation).
fn effective_gateway(s: &NetworkSubnet) -> Option<String> {
    s.gateway.clone().or_else(|| {
        Subnet::new(&s.subnet)
            .ok()
            .and_then(|n| n.first_host())
            .map(|a| a.to_string())
    })
}

/// Parse `network inspect` output (a JSON array) of docker or podman.
///
/// ```
/// let nets = dockhand::network::parse_networks(br#"[{"name":"n","id":"ab","driver":"bridge","subnets":[{"subnet":"10.89.0.0/24","gateway":"10.89.0.1"}],"internal":false}]"#).unwrap();
/// assert_eq!(nets[0].gateways, ["10.89.0.1"]);
/// assert_eq!(nets[0].scope, "local");
/// ```
pub fn parse_networks(bytes: &[u8]) -> Result<Vec<Network>> {
    let raws: Vec<Value> = parse_json(bytes)?;
    raws.into_iter()
        .map(|raw| {
            let doc: NetworkDoc = serde_json::from_value(raw.clone()).map_err(|e| {
                Error::parse(format!("unexpected network inspect output: {e}"), bytes)
                    .with_source(e)
            })?;
            let subnets: Vec<NetworkSubnet> = doc
                .ipam
                .config
                .into_iter()
                .chain(doc.subnets)
                .filter(|s| !s.subnet.is_empty())
                .map(|s| NetworkSubnet {
                    subnet: s.subnet,
                    gateway: non_empty(s.gateway),
                })
                .collect();
            let containers = doc
                .containers
                .into_iter()
                .map(|(id, m)| NetworkContainer {
                    id,
                    name: m.name,
                    ipv4: non_empty(m.ipv4),
                    ipv6: non_empty(m.ipv6),
                    mac: non_empty(m.mac),
                })
                .collect();
            Ok(Network {
                id: doc.id,
                name: doc.name,
                driver: doc.driver,
                scope: if doc.scope.is_empty() {
                    "local".into()
                } else {
                    doc.scope
                },
                internal: doc.internal.unwrap_or(false),
                ipv6: doc.ipv6.unwrap_or(false),
                created: doc.created,
                gateways: subnets.iter().filter_map(effective_gateway).collect(),
                subnets,
                labels: doc.labels,
                containers,
                raw,
            })
        })
        .collect()
}

/// The networks that match `filters` (`label=k=v`, `driver=bridge`, `name=…`),
/// as names or ids.
///
/// ```
/// use dockhand::{network::list_plan, input::KeyValue};
/// let plan = list_plan(&KeyValue::many("filter", ["label=a=b"]).unwrap());
/// assert_eq!(plan.args(), ["network", "ls", "-q", "--no-trunc", "--filter=label=a=b"]);
/// ```
pub fn list_plan(filters: &[KeyValue]) -> Plan<Vec<String>> {
    batch::list_plan(
        Argv::new("network").args(["ls", "-q", "--no-trunc"]),
        filters,
    )
}

/// One `network inspect` of every name; missing ones go to [`Found::missing`].
///
/// ```
/// use dockhand::{network::inspect_plan, input::NetworkName};
/// let plan = inspect_plan(&NetworkName::many(["a", "b"]).unwrap());
/// assert_eq!(plan.args(), ["network", "inspect", "--", "a", "b"]);
/// ```
pub fn inspect_plan(names: &[NetworkName]) -> Plan<Found<Network>> {
    let wanted = names.iter().map(NetworkName::to_string).collect();
    batch::inspect_plan(
        Argv::new("network").arg("inspect").operands(names),
        wanted,
        parse_networks,
    )
}

/// Full ids of the running containers (podman's network members are found
/// among them).
fn running_containers_plan() -> Plan<Vec<String>> {
    batch::list_plan(Argv::new("ps").args(["-q", "--no-trunc"]), &[])
}

/// A container's endpoints, keyed by network name, from `container inspect`.
#[derive(Deserialize)]
struct ContainerDoc {
    #[serde(rename = "Id", default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(rename = "Name", default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(rename = "NetworkSettings", default, deserialize_with = "null_default")]
    settings: SettingsDoc,
}

#[derive(Deserialize, Default)]
struct SettingsDoc {
    #[serde(rename = "Networks", default, deserialize_with = "null_default")]
    networks: BTreeMap<String, EndpointDoc>,
}

#[derive(Deserialize)]
struct EndpointDoc {
    #[serde(rename = "IPAddress", default, deserialize_with = "lenient_string")]
    ipv4: String,
    #[serde(rename = "IPPrefixLen", default, deserialize_with = "lenient_u64")]
    ipv4_prefix: u64,
    #[serde(
        rename = "GlobalIPv6Address",
        default,
        deserialize_with = "lenient_string"
    )]
    ipv6: String,
    #[serde(
        rename = "GlobalIPv6PrefixLen",
        default,
        deserialize_with = "lenient_u64"
    )]
    ipv6_prefix: u64,
    #[serde(rename = "MacAddress", default, deserialize_with = "lenient_string")]
    mac: String,
}

/// Each container's attachments as (network name, member), from one
/// `container inspect` of all of them (containers gone meanwhile are skipped).
///
/// ```
/// let plan = dockhand::network::attachments_plan(&["3f2a".into()]);
/// assert_eq!(plan.args(), ["container", "inspect", "--", "3f2a"]);
/// ```
pub fn attachments_plan(container_ids: &[String]) -> Plan<Found<(String, NetworkContainer)>> {
    let args = Argv::new("container")
        .arg("inspect")
        .operands(container_ids);
    batch::inspect_plan(args, container_ids.to_vec(), parse_attachments)
}

fn parse_attachments(bytes: &[u8]) -> Result<Vec<(String, NetworkContainer)>> {
    let docs: Vec<ContainerDoc> = parse_json(bytes)?;
    let with_prefix = |addr: String, prefix: u64| non_empty(addr).map(|a| format!("{a}/{prefix}"));
    Ok(docs
        .into_iter()
        .flat_map(|c| {
            let name = c.name.trim_start_matches('/').to_string();
            let id = c.id;
            c.settings.networks.into_iter().map(move |(net, e)| {
                (
                    net,
                    NetworkContainer {
                        id: id.clone(),
                        name: name.clone(),
                        ipv4: with_prefix(e.ipv4, e.ipv4_prefix),
                        ipv6: with_prefix(e.ipv6, e.ipv6_prefix),
                        mac: non_empty(e.mac),
                    },
                )
            })
        })
        .collect())
}

/// Give each network its members from `attachments` (matched by name).
fn attach(networks: &mut [Network], attachments: Vec<(String, NetworkContainer)>) {
    for (net, member) in attachments {
        if let Some(n) = networks.iter_mut().find(|n| n.name == net) {
            n.containers.push(member);
        }
    }
}

/// What [`Networks::create`] makes.
#[derive(Debug, Clone)]
pub struct NetworkCreateOptions {
    /// Name.
    pub name: NetworkName,
    /// Driver (default: the engine's, `bridge`).
    pub driver: Option<NetworkName>,
    /// Address range.
    pub subnet: Option<Subnet>,
    /// Gateway inside the subnet.
    pub gateway: Option<IpAddr>,
    /// No route to the outside.
    pub internal: bool,
    /// Labels.
    pub labels: Vec<KeyValue>,
}

impl NetworkCreateOptions {
    /// A network called `name` with the engine's defaults.
    pub fn new(name: NetworkName) -> NetworkCreateOptions {
        NetworkCreateOptions {
            name,
            driver: None,
            subnet: None,
            gateway: None,
            internal: false,
            labels: Vec::new(),
        }
    }

    /// Refuse, before any engine call, what both engines refuse: a gateway
    /// without a subnet, or outside it (InvalidInput).
    ///
    /// ```
    /// use dockhand::{network::NetworkCreateOptions, input::{NetworkName, Subnet}};
    /// let mut opts = NetworkCreateOptions::new(NetworkName::new("app").unwrap());
    /// opts.gateway = Some("10.1.0.1".parse().unwrap());
    /// assert!(opts.validate().is_err());
    /// opts.subnet = Some(Subnet::new("10.9.0.0/24").unwrap());
    /// assert!(opts.validate().is_err());
    /// opts.gateway = Some("10.9.0.1".parse().unwrap());
    /// assert!(opts.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<()> {
        match (self.gateway, &self.subnet) {
            (Some(g), None) => Err(Error::invalid_input(format!(
                "gateway {g} needs a subnet: give --subnet too"
            ))),
            (Some(g), Some(s)) if !s.contains(g) => Err(Error::invalid_input(format!(
                "gateway {g} is not in the subnet {s}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Create a network. A taken name is a [`ErrorKind::Conflict`]. Before a
/// retry it checks whether the first attempt created it after all.
///
/// ```
/// use dockhand::{network::{create_plan, NetworkCreateOptions}, input::{NetworkName, Subnet}};
/// let mut opts = NetworkCreateOptions::new(NetworkName::new("app").unwrap());
/// opts.subnet = Some(Subnet::new("10.9.0.0/24").unwrap());
/// opts.internal = true;
/// assert_eq!(create_plan(&opts).args(), ["network", "create", "--subnet=10.9.0.0/24", "--internal", "--", "app"]);
/// ```
pub fn create_plan(opts: &NetworkCreateOptions) -> Plan<()> {
    let args = Argv::new("network")
        .arg("create")
        .opt("--driver", opts.driver.as_ref())
        .opt("--subnet", opts.subnet.as_ref())
        .opt("--gateway", opts.gateway.as_ref())
        .flag_if("--internal", opts.internal)
        .each("--label", &opts.labels)
        .operands([&opts.name]);
    let name = opts.name.clone();
    Plan::write(args, |_| Ok(())).verify_before_retry(move || exists_plan(&name))
}

/// `Some(())` when the network exists.
fn exists_plan(name: &NetworkName) -> Plan<Option<()>> {
    Plan::new(
        Effect::ReadOnly,
        Argv::new("network")
            .args(["inspect", "--format", "{{.Name}}"])
            .operands([name]),
        |outcome| match outcome.error {
            None => Ok(Some(())),
            Some(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Some(e) => Err(e),
        },
    )
}

/// Remove networks; missing ones count as removed.
///
/// ```
/// use dockhand::{network::remove_plan, input::NetworkName, EngineKind};
/// let plan = remove_plan(EngineKind::Docker, &NetworkName::many(["a"]).unwrap());
/// assert_eq!(plan.args(), ["network", "rm", "--", "a"]);
/// ```
pub fn remove_plan(kind: EngineKind, names: &[NetworkName]) -> Plan<Vec<String>> {
    batch::remove_plan(kind, Argv::new("network").arg("rm").operands(names))
}

/// Attach a running or stopped container to a network, with DNS aliases.
/// Already attached is a [`ErrorKind::Conflict`]; before a retry it checks
/// whether the first attempt attached it after all.
///
/// ```
/// use dockhand::{network::connect_plan, input::{ContainerRef, NetworkAlias, NetworkName}};
/// let plan = connect_plan(&NetworkName::new("n").unwrap(), &ContainerRef::new("c").unwrap(), &[NetworkAlias::new("web").unwrap()]);
/// assert_eq!(plan.args(), ["network", "connect", "--alias=web", "--", "n", "c"]);
/// ```
pub fn connect_plan(
    network: &NetworkName,
    container: &ContainerRef,
    aliases: &[NetworkAlias],
) -> Plan<()> {
    let mut endpoint = NetworkEndpoint::new(network.clone());
    endpoint.aliases = aliases.to_vec();
    connect_endpoint_plan(&endpoint, container)
}

/// [`connect_plan`] with all of an endpoint's settings: static addresses
/// (`--ip`, `--ip6`) and aliases. `network connect` cannot set a MAC
/// address; `endpoint.mac` is not sent (`RunOptions::validate` refuses it
/// where docker would need it here).
///
/// ```
/// use dockhand::{network::connect_endpoint_plan, input::{ContainerRef, NetworkEndpoint}};
/// let e = NetworkEndpoint::parse("back:ip=10.2.0.5,alias=db").unwrap();
/// let plan = connect_endpoint_plan(&e, &ContainerRef::new("c").unwrap());
/// assert_eq!(plan.args(), ["network", "connect", "--ip=10.2.0.5", "--alias=db", "--", "back", "c"]);
/// ```
pub fn connect_endpoint_plan(endpoint: &NetworkEndpoint, container: &ContainerRef) -> Plan<()> {
    let args = Argv::new("network")
        .arg("connect")
        .opt("--ip", endpoint.ip)
        .opt("--ip6", endpoint.ip6)
        .each("--alias", &endpoint.aliases)
        .operands([endpoint.network.as_str(), container.as_str()]);
    let (network, container) = (endpoint.network.clone(), container.clone());
    Plan::write(args, |_| Ok(())).verify_before_retry(move || attached_plan(&network, &container))
}

/// `Some(())` when `container` is attached to `network` (by name).
fn attached_plan(network: &NetworkName, container: &ContainerRef) -> Plan<Option<()>> {
    let network = network.to_string();
    Plan::read(
        Argv::new("container")
            .args(["inspect", "--format", "{{json .NetworkSettings.Networks}}"])
            .operands([container]),
        move |out| {
            let nets: BTreeMap<String, Value> = parse_json(&out.stdout).unwrap_or_default();
            Ok(nets.contains_key(&network).then_some(()))
        },
    )
}

/// Detach a container from a network. Not attached (or no such network or
/// container) counts as done: the container is not on that network.
///
/// ```
/// use dockhand::{network::disconnect_plan, input::{ContainerRef, NetworkName}};
/// let plan = disconnect_plan(&NetworkName::new("n").unwrap(), &ContainerRef::new("c").unwrap(), true);
/// assert_eq!(plan.args(), ["network", "disconnect", "--force", "--", "n", "c"]);
/// ```
pub fn disconnect_plan(network: &NetworkName, container: &ContainerRef, force: bool) -> Plan<()> {
    let args = Argv::new("network")
        .arg("disconnect")
        .flag_if("--force", force)
        .operands([network.as_str(), container.as_str()]);
    Plan::new(Effect::Mutating, args, |outcome| match outcome.error {
        Some(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    })
}

/// Where a gateway address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewaySource {
    /// The engine's IPAM configuration names it.
    Ipam,
    /// Not reported: the subnet's first host address, which docker's IPAM
    /// allocates as the gateway.
    FirstHost,
}

/// The IPv4 gateway of a network as containers on it see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NetworkGateway {
    /// The network's name.
    pub network: String,
    /// The gateway address.
    pub gateway: IpAddr,
    /// The subnet it belongs to.
    pub subnet: String,
    /// Where the address came from.
    pub source: GatewaySource,
}

/// The IPv4 gateway of `network`, if it has an IPv4 subnet.
///
/// ```
/// let nets = dockhand::network::parse_networks(br#"[{"Name":"bridge","Id":"x","IPAM":{"Config":[{"Subnet":"172.17.0.0/16"}]}}]"#).unwrap();
/// let gw = dockhand::network::gateway_of(&nets[0]).unwrap();
/// assert_eq!(gw.gateway.to_string(), "172.17.0.1");
/// assert_eq!(gw.source, dockhand::network::GatewaySource::FirstHost);
/// ```
pub fn gateway_of(network: &Network) -> Option<NetworkGateway> {
    network.subnets.iter().find_map(|s| {
        let subnet = Subnet::new(&s.subnet).ok().filter(|n| n.addr().is_ipv4())?;
        let (gateway, source) = match s.gateway.as_deref().and_then(|g| g.parse().ok()) {
            Some(g) => (g, GatewaySource::Ipam),
            None => (subnet.first_host()?, GatewaySource::FirstHost),
        };
        Some(NetworkGateway {
            network: network.name.clone(),
            gateway,
            subnet: s.subnet.clone(),
            source,
        })
    })
}

impl Networks<'_> {
    /// The networks that match `filters`, fully inspected.
    ///
    /// ```no_run
    /// for n in dockhand::Engine::detect()?.networks().list(&[])? { println!("{} {:?}", n.name, n.gateways); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn list(&self, filters: &[KeyValue]) -> Result<Vec<Network>> {
        let names = self.engine.run(list_plan(filters))?;
        // A network removed between the two calls is simply not listed.
        Ok(self.inspect(&NetworkName::many(names)?)?.items)
    }

    /// Inspect any number of networks in one engine call (plus, for podman,
    /// one call for their members), separating the found from the missing.
    ///
    /// ```no_run
    /// use dockhand::input::NetworkName;
    /// let found = dockhand::Engine::detect()?.networks().inspect(&NetworkName::many(["bridge", "gone"])?)?;
    /// if let Some(e) = &found.error { eprintln!("{e} (missing: {:?})", found.missing); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect(&self, names: &[NetworkName]) -> Result<Found<Network>> {
        if names.is_empty() {
            return Ok(Found::empty());
        }
        let mut found = self.engine.run(inspect_plan(names))?;
        if !self.engine.kind().quirks().network_inspect_lists_containers && !found.items.is_empty()
        {
            let running = self.engine.run(running_containers_plan())?;
            if !running.is_empty() {
                let attachments = self.engine.run(attachments_plan(&running))?.items;
                attach(&mut found.items, attachments);
            }
        }
        Ok(found)
    }

    /// Inspect one network.
    ///
    /// ```no_run
    /// let bridge = dockhand::Engine::detect()?.networks().inspect_one(&"bridge".parse()?)?;
    /// println!("{} {:?}", bridge.driver, bridge.subnets);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn inspect_one(&self, name: &NetworkName) -> Result<Network> {
        self.inspect(std::slice::from_ref(name))?
            .into_one(|| format!("network {name} exists but cannot be inspected"))
    }

    /// Create a network and return it inspected. (A dry-run engine only
    /// prints the create, and the inspect after it finds nothing: run
    /// [`create_plan`] instead.)
    ///
    /// ```no_run
    /// use dockhand::{network::NetworkCreateOptions, input::NetworkName};
    /// let net = dockhand::Engine::detect()?.networks().create(&NetworkCreateOptions::new(NetworkName::new("app")?))?;
    /// println!("{} {:?}", net.id, net.gateways);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn create(&self, opts: &NetworkCreateOptions) -> Result<Network> {
        opts.validate()?;
        self.engine.run(create_plan(opts))?;
        self.inspect(std::slice::from_ref(&opts.name))?
            .into_one(|| format!("network {} vanished after create", opts.name))
    }

    /// Remove networks (missing ones count as removed).
    ///
    /// ```no_run
    /// dockhand::Engine::detect()?.networks().remove(&dockhand::input::NetworkName::many(["app"])?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn remove(&self, names: &[NetworkName]) -> Result<Vec<String>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.engine.run(remove_plan(self.engine.kind(), names))
    }

    /// Attach `container` to `network` with DNS `aliases`.
    ///
    /// ```no_run
    /// use dockhand::input::{ContainerRef, NetworkAlias, NetworkName};
    /// dockhand::Engine::detect()?.networks().connect(&NetworkName::new("app")?, &ContainerRef::new("web")?, &[NetworkAlias::new("www")?])?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn connect(
        &self,
        network: &NetworkName,
        container: &ContainerRef,
        aliases: &[NetworkAlias],
    ) -> Result<()> {
        self.engine.run(connect_plan(network, container, aliases))
    }

    /// Detach `container` from `network` (not attached counts as done).
    ///
    /// ```no_run
    /// use dockhand::input::{ContainerRef, NetworkName};
    /// dockhand::Engine::detect()?.networks().disconnect(&NetworkName::new("app")?, &ContainerRef::new("web")?, false)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn disconnect(
        &self,
        network: &NetworkName,
        container: &ContainerRef,
        force: bool,
    ) -> Result<()> {
        self.engine.run(disconnect_plan(network, container, force))
    }

    /// The IPv4 gateway containers on `network` use; default: the engine's
    /// default network (`bridge` for docker — docker0's address —, `podman`).
    ///
    /// ```no_run
    /// let gw = dockhand::Engine::detect()?.networks().gateway(None)?;
    /// println!("{}", gw.gateway);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn gateway(&self, network: Option<&NetworkName>) -> Result<NetworkGateway> {
        let name = match network {
            Some(n) => n.clone(),
            None => NetworkName::new(self.engine.kind().quirks().default_network)?,
        };
        // Only the IPAM data is needed: skip podman's member lookup.
        let net = self
            .engine
            .run(inspect_plan(std::slice::from_ref(&name)))?
            .into_result()?
            .pop()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("network {name} not found")))?;
        gateway_of(&net).ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "network {name} has no IPv4 subnet, so no IPv4 gateway (driver {})",
                    net.driver
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capture, replay, replay_ok};

    fn nets(path: &str) -> Vec<Network> {
        parse_networks(&capture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn both_shapes_parse_onto_one_struct() {
        for dir in ["docker", "podman"] {
            let n = &nets(&format!("{dir}/network-inspect-internal-gateway.json"))[0];
            assert_eq!(n.name, "dhimg-net2", "{dir}");
            assert_eq!(n.id.len(), 64, "{dir}");
            assert_eq!(
                (n.driver.as_str(), n.scope.as_str()),
                ("bridge", "local"),
                "{dir}"
            );
            assert!(n.internal, "{dir}");
            assert!(!n.ipv6, "{dir}");
            assert_eq!(
                n.subnets,
                [NetworkSubnet {
                    subnet: "10.231.9.0/24".into(),
                    gateway: Some("10.231.9.254".into())
                }],
                "{dir}"
            );
            assert_eq!(n.gateways, ["10.231.9.254"], "{dir}");
            assert_eq!(n.labels["dhimg"], "1", "{dir}");
            assert!(n.created.starts_with("2026-"), "{dir}");
        }
        for path in [
            "docker/network-inspect-bridge.json",
            "docker/network-inspect-host.json",
            "docker/network-inspect-none.json",
            "docker/network-inspect-usernet.json",
            "docker/network-inspect-default-subnet.json",
            "podman/network-inspect-podman.json",
            "podman/network-inspect-usernet.json",
            "podman/network-inspect-default-subnet.json",
            "podman/network-ls.json",
        ] {
            assert!(!nets(path).is_empty(), "{path}");
        }
    }

    #[test]
    fn docker_members_come_from_inspect() {
        let two = nets("docker/network-inspect-two-with-container.json");
        let net2 = two.iter().find(|n| n.name == "dhimg-net2").unwrap();
        assert_eq!(net2.containers.len(), 1);
        let c = &net2.containers[0];
        assert_eq!(c.name, "dhimg-c1");
        assert_eq!(c.ipv4.as_deref(), Some("10.231.9.1/24"));
        assert_eq!(c.ipv6, None);
        assert!(c.mac.is_some());
    }

    #[test]
    fn podman_members_come_from_the_containers() {
        let mut two = nets("podman/network-inspect-two-with-container.json");
        assert!(two.iter().all(|n| n.containers.is_empty()));
        let attachments = replay_ok(
            EngineKind::Podman,
            attachments_plan(&["x".into()]),
            &capture("podman/container-inspect-two-networks.json"),
        )
        .unwrap()
        .items;
        attach(&mut two, attachments);
        for (net, ip) in [
            ("dhimg-net2", "10.231.9.1/24"),
            ("dhimg-net3", "10.89.1.2/24"),
        ] {
            let n = two.iter().find(|n| n.name == net).unwrap();
            assert_eq!(n.containers.len(), 1, "{net}");
            assert_eq!(n.containers[0].name, "dhimg-c1");
            assert_eq!(n.containers[0].ipv4.as_deref(), Some(ip));
        }
    }

    #[test]
    fn the_default_bridge_gateway_is_the_first_host_when_ipam_omits_it() {
        let bridge = &nets("docker/network-inspect-bridge.json")[0];
        assert_eq!(bridge.subnets[0].gateway, None);
        let gw = gateway_of(bridge).unwrap();
        assert_eq!(
            (gw.gateway.to_string().as_str(), gw.source),
            ("172.17.0.1", GatewaySource::FirstHost)
        );
        let podman = &nets("podman/network-inspect-podman.json")[0];
        let gw = gateway_of(podman).unwrap();
        assert_eq!(
            (gw.gateway.to_string().as_str(), gw.source),
            ("10.88.0.1", GatewaySource::Ipam)
        );
        assert!(gateway_of(&nets("docker/network-inspect-host.json")[0]).is_none());
    }

    #[test]
    fn connect_disconnect_and_create_errors_classify() {
        let net = NetworkName::new("dhimg-net2").unwrap();
        let c = ContainerRef::new("dhimg-c1").unwrap();
        for (kind, dir, code) in [
            (EngineKind::Docker, "docker", 1),
            (EngineKind::Podman, "podman", 125),
        ] {
            let e = replay(
                kind,
                connect_plan(&net, &c, &[]),
                code,
                b"",
                &capture(&format!(
                    "{dir}/err-network-connect-already-alias.stderr.txt"
                )),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conflict, "{dir}: {e}");
            let e = replay(
                kind,
                connect_plan(&net, &c, &[]),
                code,
                b"",
                &capture(&format!(
                    "{dir}/err-network-connect-missing-network.stderr.txt"
                )),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotFound, "{dir}: {e}");
            for slug in [
                "err-network-disconnect-not-connected",
                "err-network-disconnect-missing-network",
            ] {
                replay(
                    kind,
                    disconnect_plan(&net, &c, false),
                    code,
                    b"",
                    &capture(&format!("{dir}/{slug}.stderr.txt")),
                )
                .unwrap_or_else(|e| panic!("{dir}/{slug}: {e}"));
            }
            let e = replay(
                kind,
                create_plan(&NetworkCreateOptions::new(net.clone())),
                code,
                b"",
                &capture(&format!("{dir}/err-network-create-exists.stderr.txt")),
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conflict, "{dir}: {e}");
        }
    }

    #[test]
    fn listing_reads_ids_or_names() {
        for (kind, dir) in [
            (EngineKind::Docker, "docker"),
            (EngineKind::Podman, "podman"),
        ] {
            let names = replay_ok(
                kind,
                list_plan(&[]),
                &capture(&format!("{dir}/network-ls-quiet-no-trunc.txt")),
            )
            .unwrap();
            assert_eq!(names.len(), 2, "{dir}");
            assert!(NetworkName::many(names).is_ok());
        }
    }

    #[test]
    fn create_takes_every_option_as_one_argument() {
        let mut opts = NetworkCreateOptions::new(NetworkName::new("n").unwrap());
        opts.driver = Some(NetworkName::new("macvlan").unwrap());
        opts.gateway = Some("10.0.0.254".parse().unwrap());
        opts.labels = KeyValue::many("label", ["a=b c"]).unwrap();
        assert_eq!(
            create_plan(&opts).args(),
            [
                "network",
                "create",
                "--driver=macvlan",
                "--gateway=10.0.0.254",
                "--label=a=b c",
                "--",
                "n"
            ]
        );
    }
}

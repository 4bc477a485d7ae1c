//! Networks on the real engines: create with subnet/gateway/internal/labels,
//! inspect (one call, podman members too), connect with aliases, gateway as
//! containers see it, disconnect and rm idempotent, conflicts exit 5.

use crate::support::objects::{engines, unique, Objects};
use crate::support::{dockhand_on, sh, start_container, Cleanup, IMAGE, OWNER_LABEL};
use dockhand::exec::Cmd;
use serde_json::Value;

fn owner_label() -> String {
    format!("{OWNER_LABEL}={}", std::process::id())
}

/// Create a network with a subnet of its own, trying other /24s when one
/// overlaps a network somebody else made.
fn create_with_subnet(engine: &str, objs: &mut Objects, extra: &[&str]) -> (String, Value, String) {
    let name = objs.network(&unique("net"));
    let seed = std::process::id() as usize * 7 + name.len();
    for attempt in 0..20 {
        let n = seed + attempt * 13;
        let subnet = format!("10.{}.{}.0/24", 160 + n % 60, (n / 60) % 250);
        let gateway = subnet.replace(".0/24", ".254");
        let mut args = vec![
            "--json",
            "network",
            "create",
            &name,
            "--subnet",
            &subnet,
            "--gateway",
            &gateway,
            "-l",
            "dockhand.test=1",
        ];
        let owner = owner_label();
        args.extend(["-l", owner.as_str()]);
        args.extend(extra);
        let r = dockhand_on(engine, &args);
        if r.code == 0 {
            return (name, r.json()[0].clone(), gateway);
        }
        assert!(
            r.stderr.to_lowercase().contains("overlap") || r.stderr.contains("already used"),
            "{engine}: {r:?}"
        );
    }
    panic!("{engine}: no free /24 found");
}

/// The default route a container on `network` gets.
fn default_route(engine: &str, network: &str) -> String {
    let r = sh(Cmd::new(engine)
        .args(["run", "--rm", "--network", network])
        .args(crate::support::labels())
        .args([IMAGE, "ip", "route"]));
    assert_eq!(r.code, 0, "{engine} run on {network}: {r:?}");
    r.stdout
        .lines()
        .find_map(|l| l.strip_prefix("default via "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{engine}: no default route on {network}: {}", r.stdout))
        .to_string()
}

#[test]
fn create_inspect_connect_disconnect_and_remove() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let mut cleanup = Cleanup::new(engine);
        let (internal, doc, gateway) = create_with_subnet(engine, &mut objs, &["--internal"]);
        assert_eq!(doc["name"], internal.as_str(), "{engine}");
        assert_eq!(doc["internal"], true, "{engine}");
        assert_eq!(doc["gateways"][0], gateway.as_str(), "{engine}");
        assert_eq!(
            doc["labels"][OWNER_LABEL],
            std::process::id().to_string(),
            "{engine}"
        );

        let r = dockhand_on(engine, ["network", "gateway", &internal]);
        assert_eq!(
            (r.code, r.stdout.trim()),
            (0, gateway.as_str()),
            "{engine}: {r:?}"
        );

        let plain = objs.network(&unique("net"));
        let owner = owner_label();
        let r = dockhand_on(
            engine,
            [
                "network",
                "create",
                &plain,
                "-l",
                "dockhand.test=1",
                "-l",
                &owner,
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(
            engine,
            ["network", "create", &plain, "-l", "dockhand.test=1"],
        );
        assert_eq!(r.code, 5, "{engine}: a taken name: {r:?}");

        // Exits on SIGTERM at once (a bare `sleep` as PID 1 ignores it, and
        // podman's rm -f then waits 10 s before SIGKILL).
        let c = start_container(
            engine,
            &mut cleanup,
            "netc",
            &["--network", &plain],
            &["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"],
        );
        let r = dockhand_on(
            engine,
            [
                "network",
                "connect",
                &internal,
                &c,
                "--alias",
                "dh-alias-1",
                "--alias",
                "dh-alias-2",
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(engine, ["network", "connect", &internal, &c]);
        assert_eq!(r.code, 5, "{engine}: already attached: {r:?}");

        let r = dockhand_on(engine, ["--json", "network", "inspect", &internal, &plain]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        for net in r.json().as_array().unwrap() {
            let members = net["containers"].as_array().unwrap();
            assert_eq!(members.len(), 1, "{engine}: {net}");
            assert_eq!(members[0]["name"], c.as_str(), "{engine}");
            let ip = members[0]["ipv4"].as_str().unwrap();
            let prefix = net["subnets"][0]["subnet"]
                .as_str()
                .unwrap()
                .rsplit_once('.')
                .unwrap()
                .0;
            assert!(ip.starts_with(prefix), "{engine}: {ip} in {net}");
        }
        let aliases = sh(Cmd::new(engine).args([
            "inspect",
            "--format",
            &format!("{{{{json (index .NetworkSettings.Networks \"{internal}\").Aliases}}}}"),
            &c,
        ]));
        assert!(
            aliases.stdout.contains("dh-alias-1") && aliases.stdout.contains("dh-alias-2"),
            "{engine}: {aliases:?}"
        );

        for _ in 0..2 {
            let r = dockhand_on(engine, ["network", "disconnect", &internal, &c]);
            assert_eq!(r.code, 0, "{engine}: disconnect is idempotent: {r:?}");
        }
        let r = dockhand_on(engine, ["network", "rm", &plain]);
        assert_eq!(r.code, 5, "{engine}: in use: {r:?}");
        drop(cleanup);
        let r = dockhand_on(
            engine,
            ["network", "rm", &internal, &plain, "dh-never-existed-net"],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(engine, ["network", "inspect", &plain]);
        assert_eq!(r.code, 3, "{engine}: {r:?}");
    }
}

#[test]
fn the_gateway_is_the_default_route_containers_see() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        // The engine's default network (docker's bridge: docker0's address).
        let r = dockhand_on(engine, ["--json", "network", "gateway"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let gw = r.json();
        let default = gw["network"].as_str().unwrap().to_string();
        assert_eq!(
            gw["gateway"].as_str().unwrap(),
            default_route(engine, &default),
            "{engine}: {gw}"
        );

        // A user network whose gateway the engine chose itself.
        let name = objs.network(&unique("net"));
        let owner = owner_label();
        let r = dockhand_on(
            engine,
            [
                "network",
                "create",
                &name,
                "-l",
                "dockhand.test=1",
                "-l",
                &owner,
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(engine, ["network", "gateway", &name]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert_eq!(r.stdout.trim(), default_route(engine, &name), "{engine}");
    }
}

#[test]
fn listing_filters_by_label_and_bad_names_exit_2() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let name = objs.network(&unique("net"));
        let owner = owner_label();
        let r = dockhand_on(
            engine,
            [
                "network",
                "create",
                &name,
                "-l",
                "dockhand.test=1",
                "-l",
                &owner,
                "-l",
                "dh.list=yes",
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let filter = format!("label={owner}");
        let r = dockhand_on(
            engine,
            [
                "--json",
                "network",
                "ls",
                "--filter",
                &filter,
                "--filter",
                "label=dh.list=yes",
            ],
        );
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let listed = r.json();
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["name"].as_str())
            .collect();
        assert!(names.contains(&name.as_str()), "{engine}: {names:?}");
        assert!(
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["labels"]["dh.list"] == "yes"),
            "{engine}"
        );
    }
    for args in [
        vec!["network", "create", "a b"],
        vec!["network", "create", "n", "--subnet", "10.0.0.0/33"],
        vec!["network", "create", "n", "--gateway", "10.0.0.300"],
        vec!["network", "connect", "n", "c", "--alias", "x;y"],
        vec!["network", "gateway", "-"],
    ] {
        let r = dockhand_on("/nonexistent/engine", &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}

//! Host network plumbing on real docker and podman containers, with real
//! veth pairs, macvlans and `ifb` devices standing in for physical NICs
//! (this kernel has no `dummy`; see vendor-docs/iproute2.md).
//!
//! Every check is made twice: from inside the container (`netns show`,
//! `netns exec`) and from the host (`ip -j -d link show`). Interfaces get
//! unique names `dh<pid%10000>x<n>` (at most 11 bytes) and a [`HostIfaces`]
//! guard deletes the host-side ones even when a test panics; containers go
//! with the harness's `Cleanup` guard (and take their interfaces along).

use crate::schemas::assert_valid;
use crate::support::*;
use dockhand::exec::Cmd;
use serde_json::Value;

/// A container that exits on SIGTERM at once (a bare `sleep` as PID 1
/// ignores it and makes every `rm -f` wait 10 s).
const WAIT: [&str; 3] = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];
/// docker turns IPv6 off in containers of networks without IPv6.
const IPV6_ON: [&str; 4] = [
    "--sysctl",
    "net.ipv6.conf.all.disable_ipv6=0",
    "--sysctl",
    "net.ipv6.conf.default.disable_ipv6=0",
];

/// The host's view of one interface (`ip -j -d link show`), if it exists.
fn host_link(name: &str) -> Option<Value> {
    let r = sh(Cmd::new("ip").args(["-j", "-d", "link", "show", "dev", name]));
    (r.code == 0).then(|| serde_json::from_str::<Value>(&r.stdout).unwrap()[0].clone())
}

fn flags(link: &Value) -> Vec<&str> {
    link["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

/// `dockhand netns show --json`, which must succeed.
fn show(engine: &str, container: &str) -> Value {
    let r = dockhand_on(engine, ["--json", "netns", "show", container]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_valid("netns-show", &r.json());
    r.json()
}

/// One link of a `netns show` document by name.
fn link_in<'a>(view: &'a Value, name: &str) -> Option<&'a Value> {
    view["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
}

/// A link's addresses as `addr/prefix`, without the IPv6 link-local one
/// the kernel adds by itself.
fn addresses(link: &Value) -> Vec<String> {
    link["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["scope"] != "link")
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect()
}

/// Names and addresses of every link in the container.
fn summary(engine: &str, container: &str) -> Vec<(String, Vec<String>)> {
    show(engine, container)["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap().to_string(), addresses(l)))
        .collect()
}

fn start(engine: &str, cleanup: &mut Cleanup, extra: &[&str]) -> String {
    start_container(engine, cleanup, "netns", extra, &WAIT)
}

#[test]
fn exec_runs_once_in_the_netns_and_its_exit_code_is_dockhands() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let c = start(engine, &mut cleanup, &["--network", "none"]);

        // The host's `ip` (busybox's has no -j) sees only the container's lo.
        let r = dockhand_on(
            engine,
            ["netns", "exec", &c, "--", "ip", "-j", "link", "show"],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let names: Vec<String> = serde_json::from_str::<Vec<Value>>(&r.stdout)
            .unwrap()
            .iter()
            .map(|l| l["ifname"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["lo"], "{engine}");

        // The inner exit code comes through, and a failing command runs once.
        let marker = tempfile::NamedTempFile::new().unwrap();
        let path = marker.path().to_str().unwrap();
        let script = format!("echo ran >> {path}; exit 7");
        let r = dockhand_on(engine, ["netns", "exec", &c, "--", "sh", "-c", &script]);
        assert_eq!(r.code, 7, "{r:?}");
        assert_eq!(std::fs::read_to_string(path).unwrap(), "ran\n", "{engine}");

        // More namespaces: the container's files and hostname.
        let r = dockhand_on(
            engine,
            [
                "netns",
                "exec",
                &c,
                "--mount",
                "--uts",
                "--",
                "sh",
                "-c",
                "cat /var/www/index.html; hostname",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let hostname =
            sh(Cmd::new(engine).args(["inspect", "--format", "{{.Config.Hostname}}", &c]));
        assert_eq!(
            r.stdout,
            format!("dockhand test page\n{}\n", hostname.stdout.trim()),
            "{engine}"
        );

        // A command that does not exist: nsenter's 127, no fallback.
        let r = dockhand_on(engine, ["netns", "exec", &c, "--", "/nonexistent"]);
        assert_eq!(r.code, 127, "{r:?}");
    }
}

#[test]
fn stopped_and_missing_containers_are_clear_errors_and_nothing_runs() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let stopped = cleanup.add(&unique("netns-stopped"));
        let r = sh(Cmd::new(engine)
            .args(["create", "--name", &stopped, "--network", "none"])
            .args(labels())
            .arg(IMAGE)
            .arg("true"));
        assert_eq!(r.code, 0, "{r:?}");
        let marker = std::env::temp_dir().join(unique("netns-marker"));
        let touch = marker.to_str().unwrap();

        let r = dockhand_on(engine, ["netns", "exec", &stopped, "--", "touch", touch]);
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r.stderr.contains("is not running (status created"), "{r:?}");
        assert!(!marker.exists(), "the command ran");

        let missing = unique("netns-missing");
        let r = dockhand_on(
            engine,
            ["--json", "netns", "exec", &missing, "--", "touch", touch],
        );
        assert_eq!(r.code, 3, "{r:?}");
        assert_eq!(r.json_error()["error"]["kind"], "not_found");
        assert!(!marker.exists(), "the command ran");

        let r = dockhand_on(engine, ["link", "ls", &stopped]);
        assert_eq!(r.code, 5, "{r:?}");
    }
}

#[test]
fn show_lists_links_addresses_and_routes_from_inside() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let none = start(engine, &mut cleanup, &["--network", "none"]);
        let view = show(engine, &none);
        assert!(view["container"]["pid"].as_u64().unwrap() > 0);
        assert_eq!(view["links"].as_array().unwrap().len(), 1, "{view}");
        assert_eq!(addresses(link_in(&view, "lo").unwrap())[0], "127.0.0.1/8");
        assert_eq!(view["routes"], serde_json::json!([]), "{engine}");
    }
    // podman's default network: eth0 with the address podman reports, and a default route.
    if engines().contains(&"podman") {
        let mut cleanup = Cleanup::new("podman");
        let c = start("podman", &mut cleanup, &[]);
        let view = show("podman", &c);
        let ip = sh(Cmd::new("podman").args([
            "inspect",
            "--format",
            "{{.NetworkSettings.IPAddress}}",
            &c,
        ]));
        let eth0 = link_in(&view, "eth0").unwrap();
        assert!(eth0["up"].as_bool().unwrap());
        assert!(
            addresses(eth0)
                .iter()
                .any(|a| a.starts_with(&format!("{}/", ip.stdout.trim()))),
            "{view}"
        );
        assert!(view["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["dst"] == "default" && r["dev"] == "eth0"));
    }
}

#[test]
fn veth_add_is_all_there_idempotent_listed_and_removed() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start(
            engine,
            &mut cleanup,
            &[&["--network", "none"][..], &IPV6_ON].concat(),
        );
        let bridge = host.add("bridge");
        let (inside, host_end) = (ifname(), ifname());
        host.expect(&host_end);
        let net = 30 + i;
        let add = |mtu: &str| {
            let (v4, v6, gw) = (
                format!("10.{net}.0.2/24"),
                format!("2001:db8:{net}::2/64"),
                format!("10.{net}.0.1"),
            );
            dockhand_on(
                engine,
                [
                    "--json",
                    "link",
                    "add",
                    "veth",
                    &c,
                    "--if",
                    &inside,
                    "--host-if",
                    &host_end,
                    "--ip",
                    &v4,
                    "--ip",
                    &v6,
                    "--gateway",
                    &gw,
                    "--mtu",
                    mtu,
                    "--mac",
                    "02:00:00:dd:00:02",
                    "--bridge",
                    &bridge,
                ],
            )
        };
        let r = add("1400");
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["result"], "created");
        assert_valid("link-change", &r.json());

        // Inside: name, MAC, MTU, up, both addresses, default route.
        let view = show(engine, &c);
        let l = link_in(&view, &inside).unwrap_or_else(|| panic!("{view}"));
        assert_eq!(l["kind"], "veth");
        assert_eq!(l["mac"], "02:00:00:dd:00:02");
        assert_eq!(l["mtu"], 1400);
        assert!(l["up"].as_bool().unwrap());
        let addrs = addresses(l);
        for want in [format!("10.{net}.0.2/24"), format!("2001:db8:{net}::2/64")] {
            assert!(addrs.contains(&want), "{want} not in {addrs:?}");
        }
        assert!(view["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["dst"] == "default"
                && r["gateway"] == format!("10.{net}.0.1")
                && r["dev"] == inside.as_str()));

        // Host: the other end, in the bridge, up, MTU, with dockhand's record.
        let h = host_link(&host_end).expect("host end missing");
        assert_eq!(h["master"], bridge.as_str());
        assert_eq!(h["mtu"], 1400);
        assert!(flags(&h).contains(&"UP"));
        assert!(h["ifalias"].as_str().unwrap().starts_with(&format!(
            "dockhand:v1 kind=veth-host host={host_end} if={inside}"
        )));

        // The same add again changes nothing; a different one is a conflict.
        let r = add("1400");
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["result"], "unchanged");
        assert_eq!(r.json()["commands"], serde_json::json!([]));
        let r = add("1300");
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r.stderr.contains("MTU 1400, not 1300"), "{r:?}");

        let r = dockhand_on(engine, ["--json", "link", "ls", &c]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_valid("link-ls", &r.json());
        let listed = r.json()["links"].clone();
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed[0]["kind"], "veth");
        assert_eq!(listed[0]["host_if"], host_end.as_str());
        assert_eq!(listed[0]["ifname"], inside.as_str());

        let r = dockhand_on(engine, ["--json", "link", "del", &c, "--if", &inside]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["result"], "removed");
        assert_valid("link-change", &r.json());
        assert!(link_in(&show(engine, &c), &inside).is_none());
        assert!(host_link(&host_end).is_none(), "host end left behind");
        assert!(host_link(&bridge).is_some());
    }
}

#[test]
fn a_failing_step_rolls_back_every_step_before_it() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start(engine, &mut cleanup, &["--network", "none"]);
        let net = 40 + i;
        let (first, first_host) = (ifname(), ifname());
        host.expect(&first_host);
        let r = dockhand_on(
            engine,
            [
                "link",
                "add",
                "veth",
                &c,
                "--if",
                &first,
                "--host-if",
                &first_host,
                "--ip",
                &format!("10.{net}.0.2/24"),
                "--gateway",
                &format!("10.{net}.0.1"),
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let before = summary(engine, &c);

        // A second default route: the last step fails (the route exists).
        let (second, second_host) = (ifname(), ifname());
        host.expect(&second_host);
        let r = dockhand_on(
            engine,
            [
                "--json",
                "link",
                "add",
                "veth",
                &c,
                "--if",
                &second,
                "--host-if",
                &second_host,
                "--ip",
                &format!("10.{}.0.2/24", net + 10),
                "--gateway",
                &format!("10.{}.0.1", net + 10),
            ],
        );
        assert_eq!(r.code, 5, "{r:?}");
        let err = r.json_error()["error"].clone();
        let msg = err["message"].as_str().unwrap();
        assert!(
            msg.starts_with("step 7/7 failed (add default route via"),
            "{msg}"
        );
        assert!(
            msg.contains("rolled back (undone: create veth pair"),
            "{msg}"
        );
        assert_eq!(err["stderr"], "RTNETLINK answers: File exists");
        assert!(host_link(&second_host).is_none(), "host end left behind");
        assert_eq!(summary(engine, &c), before, "container changed");

        // An address step fails mid-way: docker turns IPv6 off in this
        // container; podman refuses the same IPv6 address twice.
        let ipv6: &[&str] = if engine == "docker" {
            &["--ip", "2001:db8:50::2/64"]
        } else {
            &["--ip", "2001:db8:50::2/64", "--ip", "2001:db8:50::2/48"]
        };
        let (third, third_host) = (ifname(), ifname());
        host.expect(&third_host);
        let r = dockhand_on(
            engine,
            [
                &[
                    "link",
                    "add",
                    "veth",
                    &c,
                    "--if",
                    &third,
                    "--host-if",
                    &third_host,
                ][..],
                ipv6,
            ]
            .concat(),
        );
        assert_eq!(r.code, 5, "{r:?}");
        let reason = if engine == "docker" {
            "IPv6 is disabled on this device"
        } else {
            "address already assigned"
        };
        assert!(
            r.stderr.contains("failed (add address 2001:db8:50::2/"),
            "{r:?}"
        );
        assert!(r.stderr.contains(reason), "{r:?}");
        assert!(host_link(&third_host).is_none(), "host end left behind");
        assert_eq!(summary(engine, &c), before, "container changed");
    }
}

#[test]
fn conflicting_adds_exit_5_and_leave_things_alone() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start(engine, &mut cleanup, &["--network", "none"]);
        let taken = host.add("ifb");
        // The host end's name is taken on the host.
        let r = dockhand_on(
            engine,
            [
                "link",
                "add",
                "veth",
                &c,
                "--if",
                &ifname(),
                "--host-if",
                &taken,
            ],
        );
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r
            .stderr
            .contains(&format!("already has an interface named {taken}")));
        // The name inside is taken by an interface dockhand did not attach.
        let r = dockhand_on(engine, ["link", "add", "veth", &c, "--if", "lo"]);
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r.stderr.contains("did not attach"), "{r:?}");
        // ... and `del` will not remove it.
        let r = dockhand_on(engine, ["link", "del", &c, "--if", "lo"]);
        assert_eq!(r.code, 5, "{r:?}");
        let r = dockhand_on(engine, ["link", "del", &c, "--if", &ifname()]);
        assert_eq!(r.code, 3, "{r:?}");
        // Missing bridge / parent: not found before anything runs.
        let r = dockhand_on(
            engine,
            [
                "link",
                "add",
                "veth",
                &c,
                "--if",
                &ifname(),
                "--bridge",
                &ifname(),
            ],
        );
        assert_eq!(r.code, 3, "{r:?}");
        let r = dockhand_on(
            engine,
            [
                "link",
                "add",
                "macvlan",
                &c,
                "--parent",
                &ifname(),
                "--if",
                &ifname(),
            ],
        );
        assert_eq!(r.code, 3, "{r:?}");
        assert_eq!(show(engine, &c)["links"].as_array().unwrap().len(), 1);

        // A container in the host's namespace has nothing of its own to attach to.
        let on_host = start(engine, &mut cleanup, &["--network", "host"]);
        let r = dockhand_on(engine, ["link", "add", "veth", &on_host, "--if", &ifname()]);
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r.stderr.contains("--network host"), "{r:?}");
    }
}

#[test]
fn macvlan_add_is_idempotent_and_removed_by_del() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start(engine, &mut cleanup, &["--network", "none"]);
        let parent = host.add("ifb");
        let inside = ifname();
        let ip = format!("10.{}.0.2/24", 60 + i);
        let add = |mode: &str| {
            dockhand_on(
                engine,
                [
                    "--json", "link", "add", "macvlan", &c, "--parent", &parent, "--if", &inside,
                    "--mode", mode, "--ip", &ip,
                ],
            )
        };
        let r = add("private");
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["result"], "created");
        let view = show(engine, &c);
        let l = link_in(&view, &inside).unwrap_or_else(|| panic!("{view}"));
        assert_eq!(l["kind"], "macvlan");
        assert_eq!(l["raw"]["linkinfo"]["info_data"]["mode"], "private");
        assert_eq!(addresses(l), std::slice::from_ref(&ip));

        assert_eq!(add("private").json()["result"], "unchanged");
        let r = add("bridge");
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r.stderr.contains("mode private, not bridge"), "{r:?}");

        let r = dockhand_on(engine, ["link", "del", &c, "--if", &inside]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(link_in(&show(engine, &c), &inside).is_none());
        assert!(host_link(&parent).is_some(), "the parent went too");
    }
}

/// Move a host ifb (with an alias of its own) into a container as `wan`.
fn move_in(engine: &str, c: &str, nic: &str, wan: &str, ip: &str) {
    let r = sh(Cmd::new("ip").args(["link", "set", "dev", nic, "alias", "uplink nic", "up"]));
    assert_eq!(r.code, 0, "{r:?}");
    let r = dockhand_on(
        engine,
        [
            "--json",
            "link",
            "move",
            c,
            "--host-if",
            nic,
            "--if",
            wan,
            "--ip",
            ip,
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["result"], "created");
    assert!(host_link(nic).is_none(), "{nic} still on the host");
}

/// The interface is back on the host under its own name, down, with its
/// own alias and without dockhand's record.
fn assert_back_home(nic: &str) {
    let h = host_link(nic).unwrap_or_else(|| panic!("{nic} is not back"));
    assert!(!flags(&h).contains(&"UP"), "{h}");
    assert_eq!(h["ifalias"], "uplink nic", "{h}");
}

#[test]
fn a_moved_interface_returns_under_its_original_name_on_del() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start(engine, &mut cleanup, &["--network", "none"]);
        let nic = host.add("ifb");
        let wan = ifname();
        let ip = format!("10.{}.0.2/24", 70 + i);
        move_in(engine, &c, &nic, &wan, &ip);

        let view = show(engine, &c);
        let l = link_in(&view, &wan).unwrap_or_else(|| panic!("{view}"));
        assert_eq!(l["kind"], "ifb");
        assert!(l["up"].as_bool().unwrap());
        assert_eq!(addresses(l), std::slice::from_ref(&ip));
        let r = dockhand_on(engine, ["--json", "link", "ls", &c]);
        let listed = &r.json()["links"][0];
        assert_eq!(listed["kind"], "moved");
        assert_eq!(listed["host_if"], nic.as_str());
        assert_eq!(listed["previous_alias"], "uplink nic");

        let again = dockhand_on(
            engine,
            [
                "--json",
                "link",
                "move",
                &c,
                "--host-if",
                &nic,
                "--if",
                &wan,
                "--ip",
                &ip,
            ],
        );
        assert_eq!(again.json()["result"], "unchanged", "{again:?}");

        let r = dockhand_on(engine, ["--json", "link", "del", &c, "--if", &wan]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["result"], "returned");
        assert_back_home(&nic);
        assert!(link_in(&show(engine, &c), &wan).is_none());
    }
}

#[test]
fn release_orphans_restores_names_after_the_container_is_removed() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start(engine, &mut cleanup, &["--network", "none"]);
        let nic = host.add("ifb");
        let wan = ifname();
        move_in(engine, &c, &nic, &wan, &format!("10.{}.0.2/24", 80 + i));

        // When a namespace dies the kernel returns a physical NIC to the
        // host as `dev<ifindex>` (when its name is taken) and destroys
        // virtual ones — ifb included. So this step is done by hand, the
        // way the kernel does it, before the container goes.
        let pid = show(engine, &c)["container"]["pid"].to_string();
        let index = link_in(&show(engine, &c), &wan).unwrap()["index"].to_string();
        let kernel_name = format!("dev{index}");
        host.expect(&kernel_name);
        let r = sh(Cmd::new("nsenter").args([
            "--target",
            &pid,
            "--net",
            "--",
            "ip",
            "link",
            "set",
            "dev",
            &wan,
            "netns",
            &std::process::id().to_string(),
            "name",
            &kernel_name,
        ]));
        assert_eq!(r.code, 0, "{r:?}");
        drop(cleanup); // the container is removed
                       // (Unless a concurrent release-orphans already renamed it.)
        if let Some(orphan) = host_link(&kernel_name) {
            let alias = orphan["ifalias"].as_str().unwrap();
            assert!(alias.contains(&format!("host={nic}")), "{alias}");
        }

        let r = dockhand(["--json", "link", "release-orphans"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_valid("link-orphans", &r.json());
        let orphans = r.json()["orphans"].clone();
        // Another test process running release-orphans at the same time may
        // have released it first; then it is simply not in this report.
        if let Some(mine) = orphans
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["found_as"] == kernel_name.as_str())
        {
            assert_eq!(mine["original"], nic.as_str());
            assert_eq!(mine["released"], true);
        }
        assert_back_home(&nic);
        assert!(host_link(&kernel_name).is_none());
    }
}

#[test]
fn bad_input_exits_2_before_any_command_runs() {
    // An engine that does not exist: reaching it would be exit 127.
    let e = ["--engine", "/nonexistent/docker"];
    for args in [
        &["link", "add", "veth", "c", "--if", "a-name-too-long-"][..],
        &["link", "add", "veth", "c", "--if", "eth0:1"],
        &["link", "add", "veth", "c", "--if", "a b"],
        &["link", "add", "veth", "c", "--if", "a/b"],
        &[
            "link",
            "add",
            "veth",
            "c",
            "--if",
            "eth1",
            "--ip",
            "10.0.0.300/24",
        ],
        &[
            "link", "add", "veth", "c", "--if", "eth1", "--ip", "10.0.0.1",
        ],
        &[
            "link",
            "add",
            "veth",
            "c",
            "--if",
            "eth1",
            "--ip",
            "10.0.0.2/24",
            "--ip",
            "10.0.0.2/24",
        ],
        &[
            "link",
            "add",
            "veth",
            "c",
            "--if",
            "eth1",
            "--ip",
            "10.0.0.2/24",
            "--gateway",
            "10.9.0.1",
        ],
        &[
            "link",
            "add",
            "veth",
            "c",
            "--if",
            "eth1",
            "--mac",
            "01:00:5e:00:00:01",
        ],
        &["link", "add", "veth", "c", "--if", "eth1", "--mtu", "70000"],
        &[
            "link",
            "add",
            "veth",
            "c",
            "--if",
            "eth1",
            "--host-if",
            "eth%d",
        ],
        &[
            "link", "add", "macvlan", "c", "--parent", "eth0", "--if", "m", "--mode", "source",
        ],
        &["link", "move", "c", "--host-if=-x"],
        &["link", "del", "c;rm", "--if", "eth1"],
        &["netns", "show", "$(id)"],
        &["netns", "exec", "c", "--", ""],
    ] {
        let r = dockhand([&e[..], args].concat());
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let r = dockhand([&e[..], &["--json"], args].concat());
        assert_eq!(r.json_error()["error"]["kind"], "invalid_input", "{args:?}");
    }
}

/// The dockhand binary with the fault-injecting `ip` (tests/fixtures/fault-ip)
/// first on PATH; `fault` are its DH_FAULT_* settings, `once` its marker file.
fn dockhand_with_faulty_ip(
    engine: &str,
    args: &[&str],
    once: &std::path::Path,
    fault: &[(&str, &str)],
) -> Ran {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fault-ip");
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let mut cmd = Cmd::new(bin())
        .args(["--engine", engine])
        .args(args)
        .env("PATH", path)
        .env("DH_FAULT_ONCE", once);
    for (k, v) in fault {
        cmd = cmd.env(*k, *v);
    }
    sh(cmd)
}

/// `link move` of host interface `nic` into `c` as `wan` with address
/// `ip`, with the fault-injecting `ip` in front.
fn move_with_fault(
    (engine, c): (&str, &str),
    (nic, wan, ip): (&str, &str, &str),
    once: &std::path::Path,
    fault: &[(&str, &str)],
) -> Ran {
    let args = ["link", "move", c, "--host-if", nic, "--if", wan, "--ip", ip];
    dockhand_with_faulty_ip(engine, &args, once, fault)
}

#[test]
fn an_interrupt_between_steps_still_rolls_back_then_exits_128_plus_the_signal() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start_container(
            engine,
            &mut cleanup,
            "hd-link",
            &["--network", "none"],
            &WAIT,
        );
        let before = summary(engine, &c);
        let marks = tempfile::tempdir().unwrap();

        // `link add veth`: dockhand is signalled while it brings the host end up.
        let (signal, code) = [("TERM", 143), ("INT", 130)][i % 2];
        let (inside, host_end) = (ifname(), ifname());
        host.expect(&host_end);
        let ip = format!("10.{}.0.2/24", 90 + i);
        let r = dockhand_with_faulty_ip(
            engine,
            &[
                "link",
                "add",
                "veth",
                &c,
                "--if",
                &inside,
                "--host-if",
                &host_end,
                "--ip",
                &ip,
            ],
            &marks.path().join("add"),
            &[
                ("DH_FAULT_MATCH", &format!(" link set dev {host_end} up ")),
                ("DH_FAULT_DO", &format!("kill -{signal} $PPID; sleep 2")),
            ],
        );
        assert_eq!(r.code, code, "{r:?}");
        assert!(r.stderr.contains("interrupted by signal"), "{r:?}");
        assert!(
            r.stderr.contains("rolled back (undone: create veth pair"),
            "{r:?}"
        );
        assert!(!r.stderr.contains("INCOMPLETE"), "{r:?}");
        assert!(host_link(&host_end).is_none(), "veth pair left behind");
        assert_eq!(summary(engine, &c), before, "container changed");

        // `link move`: hung up on while the interface is renamed inside.
        let nic = host.add("ifb");
        let r = sh(Cmd::new("ip").args(["link", "set", "dev", &nic, "alias", "uplink nic"]));
        assert_eq!(r.code, 0, "{r:?}");
        let wan = ifname();
        let r = move_with_fault(
            (engine, &c),
            (&nic, &wan, &ip),
            &marks.path().join("move"),
            &[
                (
                    "DH_FAULT_MATCH",
                    &format!(" link set dev {nic} name {wan} "),
                ),
                ("DH_FAULT_DO", "kill -HUP $PPID; sleep 2"),
            ],
        );
        assert_eq!(r.code, 129, "{r:?}");
        assert!(r.stderr.contains("rolled back (undone: move"), "{r:?}");
        assert!(!r.stderr.contains("INCOMPLETE"), "{r:?}");
        assert_back_home(&nic);
        assert_eq!(summary(engine, &c), before, "container changed");
    }
}

#[test]
fn an_undo_that_fails_because_the_container_died_is_not_reported_as_undone() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start_container(
            engine,
            &mut cleanup,
            "hd-die",
            &["--network", "none"],
            &WAIT,
        );
        let pid = show(engine, &c)["container"]["pid"].to_string();
        let nic = host.add("ifb");
        let wan = ifname();
        let ip = format!("10.{}.0.2/24", 92 + i);
        let marks = tempfile::tempdir().unwrap();
        // The container is killed during the address step, which then fails.
        let r = move_with_fault(
            (engine, &c),
            (&nic, &wan, &ip),
            &marks.path().join("die"),
            &[
                ("DH_FAULT_MATCH", &format!(" addr add {ip} dev {wan} ")),
                (
                    "DH_FAULT_DO",
                    &format!(
                        "kill -KILL {pid}; while [ -e /proc/{pid}/ns/net ]; do sleep 0.1; done"
                    ),
                ),
                ("DH_FAULT_FAIL", "RTNETLINK answers: injected failure"),
            ],
        );
        assert_ne!(r.code, 0, "{r:?}");
        assert!(r.stderr.contains("ROLLBACK INCOMPLETE"), "{r:?}");
        assert!(r.stderr.contains("release-orphans"), "{r:?}");
        assert!(!r.stderr.contains("undone: "), "{r:?}");
    }
}

#[test]
fn concurrent_identical_link_adds_make_one_veth_and_the_rest_see_it_unchanged() {
    for (i, engine) in engines().into_iter().enumerate() {
        let mut cleanup = Cleanup::new(engine);
        let mut host = HostIfaces::new();
        let c = start_container(
            engine,
            &mut cleanup,
            "hd-race",
            &["--network", "none"],
            &WAIT,
        );
        let (inside, host_end) = (ifname(), ifname());
        host.expect(&host_end);
        let ip = format!("10.{}.0.2/24", 94 + i);
        let gateway = format!("10.{}.0.1", 94 + i);
        let args = [
            "--json",
            "link",
            "add",
            "veth",
            &c,
            "--if",
            &inside,
            "--host-if",
            &host_end,
            "--ip",
            &ip,
            "--gateway",
            &gateway,
        ];
        let results: Vec<Ran> = std::thread::scope(|s| {
            let runs: Vec<_> = (0..6)
                .map(|_| s.spawn(|| dockhand_on(engine, args)))
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let outcome: Vec<String> = results
            .iter()
            .map(|r| {
                assert_eq!(r.code, 0, "{engine}: {r:?}");
                r.json()["result"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(
            outcome.iter().filter(|o| *o == "created").count(),
            1,
            "{outcome:?}"
        );
        assert_eq!(
            outcome.iter().filter(|o| *o == "unchanged").count(),
            5,
            "{outcome:?}"
        );
        assert!(host_link(&host_end).is_some());
    }
}

//! `dockhand app`: compose files on the real engines, compared with the
//! reference implementations (docker-compose 1.29.2 on docker, podman-compose
//! 1.6.0 on podman; vendor-docs/compose.md), and the faults an update must
//! survive: an image missing mid-update, `kill -9` mid-`up`, a second `up`
//! of the same project.
//!
//! Every project gets a unique name (`dh-app-…`); the harness labels reach
//! every container, network and volume through a generated extra `-f` file
//! (merged like any override file), and an [`AppGuard`] removes the project
//! by its compose label when the test ends.
//!
//! Time (the suite must stay short on 2 cores): each test runs its docker
//! and podman halves at once ([`each_engine`]), as do the fixtures of one
//! comparison and the reference tool's `up` beside dockhand's; containers
//! go with `rm -f -t 0` (podman's `rm -f` waits 10 s for a PID 1 that
//! ignores SIGTERM); the reference tool never runs a `down` (the guard
//! removes its project); a failure that is only retried gets `--retries 1`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::*;
use dockhand::exec::Cmd;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apps")
        .join(name)
}

fn count_calls() -> String {
    format!("{}/tests/fixtures/count-calls", env!("CARGO_MANIFEST_DIR"))
}

/// A project on one engine, in its own directory; removed when dropped.
struct AppGuard {
    engine: &'static str,
    project: String,
    dir: tempfile::TempDir,
    files: Vec<String>,
    /// Environment of dockhand and of the reference tool.
    env: Vec<(String, String)>,
    /// Environment of the reference tool only (wins over `env`).
    ref_env: Vec<(String, String)>,
    /// Whether the reference tool ran (its project `P`+`ref` then goes too).
    reference_ran: std::sync::atomic::AtomicBool,
    /// Volumes the test made for the project (removed at the end).
    external_volumes: Vec<String>,
}

impl AppGuard {
    /// A project whose compose.yaml is `text`, plus the harness labels on
    /// `services`.
    fn new(engine: &'static str, text: &str, services: &[&str]) -> AppGuard {
        let dir = tempfile::Builder::new()
            .prefix("dh-app-")
            .tempdir()
            .unwrap();
        std::fs::write(dir.path().join("compose.yaml"), text).unwrap();
        AppGuard::in_dir(engine, dir, services)
    }

    /// A copy of a fixture directory.
    fn fixture(engine: &'static str, name: &str, services: &[&str]) -> AppGuard {
        let dir = tempfile::Builder::new()
            .prefix("dh-app-")
            .tempdir()
            .unwrap();
        let r = sh(Cmd::new("cp")
            .args(["-a", "--"])
            .arg(format!("{}/.", fixture(name).display()))
            .arg(dir.path()));
        assert_eq!(r.code, 0, "{r:?}");
        AppGuard::in_dir(engine, dir, services)
    }

    fn in_dir(engine: &'static str, dir: tempfile::TempDir, services: &[&str]) -> AppGuard {
        let labels = format!(
            "labels:\n      {TEST_LABEL}: \"1\"\n      {OWNER_LABEL}: \"{}\"\n",
            std::process::id()
        );
        let mut text = String::from("services:\n");
        for s in services {
            text.push_str(&format!("  {s}:\n    {labels}"));
        }
        std::fs::write(dir.path().join("dh-test-labels.yaml"), text).unwrap();
        AppGuard {
            engine,
            project: unique("app").to_lowercase(),
            dir,
            files: vec!["compose.yaml".into(), "dh-test-labels.yaml".into()],
            env: Vec::new(),
            ref_env: Vec::new(),
            external_volumes: Vec::new(),
            reference_ran: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// `dockhand --engine E app -p P -f … ARGS` (global options in `pre`).
    /// In the project directory, with the files named as given (as the
    /// reference tools run: `config_files` is then the same).
    fn run_with(&self, engine: &str, pre: &[&str], args: &[&str]) -> Ran {
        let mut cmd = Cmd::new("env").arg("-C").arg(self.dir.path());
        for (k, v) in &self.env {
            cmd = cmd.arg(format!("{k}={v}"));
        }
        cmd = cmd.arg(bin());
        cmd = cmd
            .args(["--engine", engine])
            .args(pre)
            .arg("app")
            .args(["-p", &self.project]);
        for f in &self.files {
            cmd = cmd.args(["-f", f]);
        }
        sh(cmd.args(args))
    }

    fn dockhand(&self, args: &[&str]) -> Ran {
        self.run_with(self.engine, &[], args)
    }

    fn ok(&self, args: &[&str]) -> Ran {
        let r = self.dockhand(args);
        assert_eq!(r.code, 0, "{} app {args:?}: {r:?}", self.engine);
        r
    }

    /// The project's containers, inspected (one call), by name.
    fn inspect(&self, project: &str) -> Vec<Value> {
        let ids = sh(Cmd::new(self.engine)
            .args(["ps", "-aq", "--no-trunc", "--filter"])
            .arg(format!("label=com.docker.compose.project={project}")));
        let ids: Vec<&str> = ids.stdout.split_whitespace().collect();
        if ids.is_empty() {
            return Vec::new();
        }
        let r = sh(Cmd::new(self.engine).arg("inspect").args(ids));
        let mut all: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
        all.sort_by_key(name_of);
        all
    }

    /// `NAME → (id, running, host port of 8080/tcp)` of the project's containers.
    fn snapshot(&self) -> Vec<(String, String, bool, Option<String>)> {
        self.inspect(&self.project)
            .iter()
            .map(|c| {
                let port = c["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
                    .as_str()
                    .map(String::from);
                (
                    name_of(c),
                    c["Id"].as_str().unwrap().to_string(),
                    c["State"]["Running"] == true,
                    port,
                )
            })
            .collect()
    }
}

fn name_of(c: &Value) -> String {
    c["Name"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string()
}

impl Drop for AppGuard {
    fn drop(&mut self) {
        let e = self.engine;
        if !self.external_volumes.is_empty() {
            // After the containers (below) that use them.
            let vols = self.external_volumes.clone();
            self.external_volumes.clear();
            self.drop_projects();
            sh(Cmd::new(e).args(["volume", "rm", "-f"]).args(vols));
            return;
        }
        self.drop_projects();
    }
}

impl AppGuard {
    fn drop_projects(&self) {
        let e = self.engine;
        let mut projects = vec![self.project.clone()];
        if self.reference_ran.load(std::sync::atomic::Ordering::SeqCst) {
            projects.push(format!("{}ref", self.project));
        }
        for project in projects {
            let filter = format!("label=com.docker.compose.project={project}");
            let ids = sh(Cmd::new(e).args(["ps", "-aq", "--filter", &filter]));
            let ids: Vec<&str> = ids.stdout.split_whitespace().collect();
            if !ids.is_empty() {
                sh(rm_now(e).args(ids));
            }
            // podman-compose's pod (dockhand makes none).
            if e == "podman" && project != self.project {
                sh(Cmd::new(e).args(["pod", "rm", "-f", "--ignore", &format!("pod_{project}")]));
            }
            let nets = sh(Cmd::new(e).args(["network", "ls", "-q", "--filter", &filter]));
            let nets: Vec<&str> = nets.stdout.split_whitespace().collect();
            if !nets.is_empty() {
                sh(Cmd::new(e).args(["network", "rm"]).args(nets));
            }
            let vols = sh(Cmd::new(e).args(["volume", "ls", "-q", "--filter", &filter]));
            let vols: Vec<&str> = vols.stdout.split_whitespace().collect();
            if !vols.is_empty() {
                sh(Cmd::new(e).args(["volume", "rm", "-f"]).args(vols));
            }
        }
    }
}

/// `rm -f` without a grace period: docker's kills at once, podman's stops
/// first, waiting up to 10 s for PID 1 (a `sleep`) to obey SIGTERM.
fn rm_now(engine: &str) -> Cmd {
    match engine {
        "podman" => Cmd::new(engine).args(["rm", "-f", "-t", "0"]),
        _ => Cmd::new(engine).args(["rm", "-f"]),
    }
}

/// The reference tool of an engine, run on the same files in the project
/// directory, under the project name `P` + `ref`.
fn reference(app: &AppGuard, args: &[&str]) -> Ran {
    let tool = match app.engine {
        "docker" => "docker-compose",
        _ => "podman-compose",
    };
    app.reference_ran
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut cmd = Cmd::new("env").arg("-C").arg(app.dir.path());
    for (k, v) in app.env.iter().chain(&app.ref_env) {
        cmd = cmd.arg(format!("{k}={v}"));
    }
    let mut cmd = cmd.arg(tool).args(["-p", &format!("{}ref", app.project)]);
    for f in &app.files {
        cmd = cmd.arg("-f").arg(f);
    }
    sh(cmd.args(args))
}

/// `config` of the reference tool (YAML), read by PyYAML as JSON.
fn yaml_to_json(text: &str) -> Value {
    let python = "/opt/dockhand/podman-compose-1.6.0/bin/python";
    let r = sh(Cmd::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(text.as_bytes().to_vec()));
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap()
}

/// A service of a `config` document in one comparable shape.
fn config_shape(s: &Value, env_files: &Path) -> Value {
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect(),
            Value::String(s) => shlex::split(s).unwrap_or_default(),
            _ => Vec::new(),
        }
    };
    let map = |v: &Value| -> std::collections::BTreeMap<String, String> {
        match v {
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map(String::from).unwrap_or_else(|| {
                            if v.is_null() {
                                String::new()
                            } else {
                                v.to_string()
                            }
                        }),
                    )
                })
                .collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .map(|x| {
                    let (k, v) = x.split_once('=').unwrap_or((x, ""));
                    (k.to_string(), v.to_string())
                })
                .collect(),
            _ => Default::default(),
        }
    };
    let mut env = map(&s["environment"]);
    // podman-compose keeps env_file unfolded: fold it the way compose does.
    for f in list(&s["env_file"]) {
        let text = std::fs::read_to_string(env_files.join(&f)).unwrap();
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (k, v) = line.split_once('=').unwrap();
            env.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
    }
    let networks: Vec<(String, Vec<String>)> = match &s["networks"] {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let mut aliases = list(&v["aliases"]);
                aliases.sort();
                (k.clone(), aliases)
            })
            .collect(),
        Value::Array(a) => a
            .iter()
            .map(|n| (n.as_str().unwrap().to_string(), Vec::new()))
            .collect(),
        _ => vec![("default".to_string(), Vec::new())],
    };
    let mut networks = networks;
    networks.sort();
    let depends: std::collections::BTreeMap<String, String> = match &s["depends_on"] {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v["condition"]
                        .as_str()
                        .unwrap_or("service_started")
                        .to_string(),
                )
            })
            .collect(),
        Value::Array(a) => a
            .iter()
            .map(|d| {
                (
                    d.as_str().unwrap().to_string(),
                    "service_started".to_string(),
                )
            })
            .collect(),
        _ => Default::default(),
    };
    json!({
        "image": s["image"],
        "command": list(&s["command"]),
        "environment": env,
        "labels": map(&s["labels"]),
        "restart": s["restart"],
        "networks": networks,
        "depends_on": depends,
        "cap_add": list(&s["cap_add"]),
        "healthcheck_test": list(&s["healthcheck"]["test"]),
        "user": s["user"],
        "working_dir": s["working_dir"],
        "build_target": s["build"]["target"],
    })
}

#[test]
fn config_agrees_with_the_reference_tools() {
    // (fixture, -f files or none for the default search, reference tools to ask)
    let cases: [(&str, &[&str], &[&str]); 6] = [
        ("webstack", &[], &["docker", "podman"]),
        ("anchors", &[], &["docker", "podman"]),
        ("override", &[], &["docker", "podman"]),
        (
            "override",
            &["compose.yaml", "compose.prod.yaml"],
            &["docker"],
        ),
        ("routerapp", &[], &["docker", "podman"]),
        ("multistage", &[], &["docker", "podman"]),
    ];
    // Each fixture on its own thread (the reference tools are Python
    // programs that take a second to start).
    std::thread::scope(|scope| {
        for (name, files, tools) in cases {
            scope.spawn(move || {
                let dir = fixture(name);
                // In the fixture's directory, as the reference tools run: the
                // default file search and the project name come from there.
                let mut ours = Cmd::new("env")
                    .arg("-C")
                    .arg(&dir)
                    .arg(bin())
                    .args(["--json", "app"]);
                for f in files {
                    ours = ours.arg("-f").arg(f);
                }
                let ours = sh(ours.arg("config"));
                assert_eq!(ours.code, 0, "{name}: {ours:?}");
                let ours = ours.json();
                for tool in tools {
                    let program = if *tool == "docker" {
                        "docker-compose"
                    } else {
                        "podman-compose"
                    };
                    let mut theirs = Cmd::new("env").arg("-C").arg(&dir).arg(program);
                    for f in files {
                        theirs = theirs.arg("-f").arg(f);
                    }
                    let theirs = sh(theirs.arg("config"));
                    assert_eq!(theirs.code, 0, "{program} {name}: {theirs:?}");
                    // docker-compose writes `$` as `$$` (its output is re-loadable).
                    let text = match *tool {
                        "docker" => theirs.stdout.replace("$$", "$"),
                        _ => theirs.stdout.clone(),
                    };
                    let theirs = yaml_to_json(&text);
                    let services = ours["services"].as_object().unwrap();
                    let their_services = theirs["services"].as_object().unwrap();
                    for (sname, s) in services {
                        let t = their_services
                            .get(sname)
                            .unwrap_or_else(|| panic!("{program} {name}: no service {sname}"));
                        assert_eq!(
                            config_shape(s, &dir),
                            config_shape(t, &dir),
                            "{program} {name} service {sname}"
                        );
                    }
                    let shown: Vec<&String> = their_services
                        .keys()
                        .filter(|k| services.contains_key(*k) || t_has_profile(&their_services[*k]))
                        .collect();
                    assert_eq!(
                        shown.len(),
                        their_services.len(),
                        "{program} {name}: services {:?} vs ours {:?}",
                        their_services.keys(),
                        services.keys()
                    );
                }
            });
        }
    });
}

/// docker-compose shows services of inactive profiles in `config` too.
fn t_has_profile(s: &Value) -> bool {
    s.get("profiles").is_some()
}

/// The fields of a container the reference comparison looks at, with the
/// project name replaced by `P` and what each tool adds on its own removed
/// (the container's own name and short id among the aliases, version and
/// hash labels, podman-compose's labels).
fn container_shape(c: &Value, project: &str) -> Value {
    let text = c.to_string().replace(project, "P");
    let c: Value = serde_json::from_str(&text).unwrap();
    let sorted = |v: &Value| {
        let mut items: Vec<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        items.sort();
        items
    };
    let env: Vec<String> = sorted(&c["Config"]["Env"])
        .into_iter()
        .filter(|e| !e.starts_with("HOSTNAME=") && !e.starts_with("container="))
        .collect();
    let labels: std::collections::BTreeMap<String, String> = c["Config"]["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    !k.starts_with("io.podman.compose")
                        && !k.starts_with("dockhand.creation-token")
                        && !matches!(
                            k.as_str(),
                            "com.docker.compose.version"
                                | "com.docker.compose.config-hash"
                                | "com.docker.compose.oneoff"
                                | "PODMAN_SYSTEMD_UNIT"
                        )
                })
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    // Host addresses per container port. docker 20.10 may draw two numbers
    // for a port on all addresses, and dockhand pins such a port as the
    // binding on 0.0.0.0 and the one on :: (see app::ports): that pair is
    // "all addresses", as written by the reference tool.
    let mut ports: Vec<String> = c["HostConfig"]["PortBindings"]
        .as_object()
        .map(|m| {
            m.iter()
                .flat_map(|(k, v)| {
                    let mut ips: Vec<&str> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|b| b["HostIp"].as_str().unwrap_or_default())
                        .collect();
                    if ips.contains(&"0.0.0.0") && ips.contains(&"::") {
                        ips.retain(|ip| !matches!(*ip, "0.0.0.0" | "::"));
                        ips.push("");
                    }
                    ips.into_iter().map(move |ip| format!("{ip}:{k}"))
                })
                .collect()
        })
        .unwrap_or_default();
    ports.sort();
    let mut mounts: Vec<String> = c["Mounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let source = match m["Type"].as_str() {
                Some("volume") => m["Name"].as_str().unwrap_or_default().to_string(),
                _ => m["Source"].as_str().unwrap_or_default().to_string(),
            };
            format!(
                "{} {source} {} rw={}",
                m["Type"].as_str().unwrap_or_default(),
                m["Destination"].as_str().unwrap_or_default(),
                m["RW"]
            )
        })
        .collect();
    mounts.sort();
    let networks: std::collections::BTreeMap<String, Vec<String>> = c["NetworkSettings"]
        ["Networks"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let aliases = sorted(&v["Aliases"])
                        .into_iter()
                        .filter(|a| {
                            let short_id =
                                a.len() == 12 && a.chars().all(|c| c.is_ascii_hexdigit());
                            !(a.starts_with("P-") || a.starts_with("P_") || short_id)
                        })
                        .collect();
                    (k.clone(), aliases)
                })
                .collect()
        })
        .unwrap_or_default();
    let image = c["Config"]["Image"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("localhost/")
        .to_string();
    json!({
        "image": image,
        "cmd": c["Config"]["Cmd"],
        "env": env,
        "labels": labels,
        "ports": ports,
        "mounts": mounts,
        "networks": networks,
        "restart": [
            // The docker CLI writes "no" where the API leaves "".
            match c["HostConfig"]["RestartPolicy"]["Name"].as_str() {
                Some("") | None => "no",
                Some(other) => other,
            },
            c["HostConfig"]["RestartPolicy"]["MaximumRetryCount"].as_u64().unwrap_or(0).to_string().as_str(),
        ],
        // The docker CLI writes CAP_NET_ADMIN, docker-compose (the API) NET_ADMIN.
        "cap_add": sorted(&c["HostConfig"]["CapAdd"]).iter().map(|c| c.trim_start_matches("CAP_").to_string()).collect::<Vec<_>>(),
        "cap_drop": sorted(&c["HostConfig"]["CapDrop"]).iter().map(|c| c.trim_start_matches("CAP_").to_string()).collect::<Vec<_>>(),
        "memory": c["HostConfig"]["Memory"],
        "nano_cpus": c["HostConfig"]["NanoCpus"],
        "cpu_shares": c["HostConfig"]["CpuShares"],
        "privileged": c["HostConfig"]["Privileged"],
        "user": c["Config"]["User"],
        "working_dir": c["Config"]["WorkingDir"],
        "healthcheck": healthcheck(&c["Config"]["Healthcheck"]),
        "init": c["HostConfig"]["Init"].as_bool().unwrap_or(false),
        "read_only": c["HostConfig"]["ReadonlyRootfs"],
        "tmpfs": c["HostConfig"]["Tmpfs"].clone().or_empty(json!({})),
        "ulimits": c["HostConfig"]["Ulimits"].clone().or_empty(json!([])),
        "sysctls": c["HostConfig"]["Sysctls"].clone().or_empty(json!({})),
        "dns": c["HostConfig"]["Dns"].clone().or_empty(json!([])),
        "extra_hosts": c["HostConfig"]["ExtraHosts"].clone().or_empty(json!([])),
        "log": [&c["HostConfig"]["LogConfig"]["Type"], &c["HostConfig"]["LogConfig"]["Config"]],
        "stop_signal": c["Config"]["StopSignal"],
        "stop_timeout": c["Config"]["StopTimeout"],
        "exposed": c["Config"]["ExposedPorts"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
    })
}

/// Bring the same files up with the reference tool (project `P`+`ref`) and
/// with dockhand, and compare the containers field by field.
fn compare_with_reference(app: &AppGuard, count: usize) {
    let engine = app.engine;
    // The two projects share nothing: both come up at once.
    let theirs = std::thread::scope(|scope| {
        let theirs = scope.spawn(|| reference(app, &["up", "-d"]));
        app.ok(&["up"]);
        theirs.join().expect("the reference up")
    });
    assert_eq!(theirs.code, 0, "{engine} reference up: {theirs:?}");
    let refp = format!("{}ref", app.project);
    let mine = app.inspect(&app.project);
    let reference_containers = app.inspect(&refp);
    assert_eq!(mine.len(), count, "{engine}: {mine:?}");
    for c in &mine {
        let service = c["Config"]["Labels"]["com.docker.compose.service"]
            .as_str()
            .unwrap();
        let r = reference_containers
            .iter()
            .find(|r| r["Config"]["Labels"]["com.docker.compose.service"] == service)
            .unwrap_or_else(|| panic!("{engine}: the reference made no {service}"));
        let (ours, theirs) = (container_shape(c, &app.project), container_shape(r, &refp));
        let differ: Vec<String> = ours
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| theirs[k.as_str()] != **v)
            .map(|(k, v)| format!("{k}: ours {v} theirs {}", theirs[k.as_str()]))
            .collect();
        assert!(
            differ.is_empty(),
            "{engine} {service}:\n{}",
            differ.join("\n")
        );
        assert_eq!(name_of(c), format!("{}-{service}-1", app.project));
        let labels = &c["Config"]["Labels"];
        assert_eq!(
            labels["com.docker.compose.version"],
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(labels["com.docker.compose.oneoff"], "False");
        assert_eq!(
            labels["com.docker.compose.config-hash"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
        if engine == "podman" {
            assert_eq!(labels["io.podman.compose.project"], app.project.as_str());
        }
    }
}

#[test]
fn webstack_anchors_and_override_files_create_what_docker_compose_creates() {
    // podman refuses the `max-file` log option of webstack and anchors
    // (podman would ignore it silently): those two run on docker only.
    each_engine(|engine| {
        let cases: &[(&str, &[&str], &[&str])] = match engine {
            "docker" => &[
                (
                    "webstack",
                    &["compose.yaml"],
                    &["web", "db", "migrate", "cache"],
                ),
                (
                    "anchors",
                    &["compose.yaml"],
                    &["api", "worker", "scheduler"],
                ),
                (
                    "override",
                    &["compose.yaml", "compose.prod.yaml"],
                    &["app", "sidecar"],
                ),
            ],
            _ => &[(
                "override",
                &["compose.yaml", "compose.prod.yaml"],
                &["app", "sidecar"],
            )],
        };
        // Each case on its own thread: they share nothing.
        std::thread::scope(|scope| {
            for (name, files, services) in cases {
                scope.spawn(move || compare_fixture(engine, name, files, services));
            }
        });
    });
}

/// [`compare_with_reference`] of fixture `name` brought up from `files`.
fn compare_fixture(engine: &'static str, name: &str, files: &[&str], services: &[&str]) {
    let mut app = AppGuard::fixture(engine, name, services);
    app.files = files
        .iter()
        .map(|f| f.to_string())
        .chain(["dh-test-labels.yaml".to_string()])
        .collect();
    if name == "override" {
        // The external volume compose never creates: ours, labelled.
        let vol = unique("app-ext").to_lowercase();
        let mut create = Cmd::new(engine).args(["volume", "create"]);
        for l in labels().chunks(2) {
            create = create.arg(format!("--label={}", l[1]));
        }
        assert_eq!(sh(create.arg(&vol)).code, 0);
        app.env.push(("DHC_EXTERNAL_VOLUME".into(), vol.clone()));
        app.external_volumes.push(vol);
    }
    if name == "anchors" {
        // Each project its own subnet (the fixture's is fixed), outside
        // docker's default pools (172.17-31.0.0/16, 192.168.0.0/16): the
        // networks other tests create at the same time are drawn from those
        // ("Pool overlaps with other one"), and podman's (10.x) here. 198.18/15
        // is the range set aside for tests; nothing is sent there.
        let octet = 100 + std::process::id() % 50;
        app.env
            .push(("DHC_SUBNET_PREFIX".into(), format!("198.18.{octet}")));
        app.ref_env
            .push(("DHC_SUBNET_PREFIX".into(), format!("198.18.{}", octet + 50)));
    }
    compare_with_reference(&app, services.len());
}

/// The docker CLI sends `[]` where docker-compose (the API) sends null.
trait OrEmpty {
    fn or_empty(self, empty: Value) -> Value;
}

impl OrEmpty for Value {
    fn or_empty(self, empty: Value) -> Value {
        match self {
            Value::Null => empty,
            v => v,
        }
    }
}

/// A healthcheck with its test in one form: the engines' CLIs know only
/// `--health-cmd` (CMD-SHELL), so dockhand runs `[CMD, a, b]` as the shell
/// words `a b`; docker-compose (the API) keeps the exec form.
fn healthcheck(h: &Value) -> Value {
    let mut h = h.clone();
    if let Some(test) = h.get("Test").and_then(Value::as_array).cloned() {
        if test.first().and_then(Value::as_str) == Some("CMD") {
            let words: Vec<&str> = test[1..].iter().filter_map(Value::as_str).collect();
            h["Test"] = json!(["CMD-SHELL", shlex::try_join(words).unwrap()]);
        }
    }
    h
}

#[test]
fn up_creates_the_containers_the_reference_tool_creates_and_down_removes_them() {
    each_engine(|engine| {
        let app = AppGuard::fixture(engine, "routerapp", &["web", "api", "store"]);
        let refp = format!("{}ref", app.project);
        compare_with_reference(&app, 3);
        // The other tool's `ps` sees dockhand's app.
        let mut ps = Cmd::new("env").arg("-C").arg(app.dir.path());
        ps = match engine {
            "docker" => ps.args(["docker-compose", "-p", &app.project]),
            _ => ps.args(["podman-compose", "-p", &app.project]),
        };
        for f in &app.files {
            ps = ps.arg("-f").arg(f);
        }
        let listed = sh(ps.arg("ps"));
        assert_eq!(listed.code, 0, "{listed:?}");
        assert!(
            listed.stdout.contains(&format!("{}-web-1", app.project)),
            "{engine} reference ps: {listed:?}"
        );
        // dockhand's ps sees theirs.
        let theirs_ps = sh(Cmd::new(bin())
            .args(["--engine", engine, "--json", "app", "-p", &refp, "-f"])
            .arg(app.path("compose.yaml"))
            .arg("ps"));
        assert_eq!(
            theirs_ps.json().as_array().unwrap().len(),
            3,
            "{theirs_ps:?}"
        );
        // down: containers and networks go, the named volume stays; -v takes it.
        app.ok(&["down", "-t", "0"]);
        assert!(app.inspect(&app.project).is_empty());
        let vol = format!("{}_data", app.project);
        assert_eq!(
            sh(Cmd::new(engine).args(["volume", "inspect", &vol])).code,
            0,
            "{engine}: down without -v keeps volumes"
        );
        for net in ["lan", "backend"] {
            assert_ne!(
                sh(Cmd::new(engine).args([
                    "network",
                    "inspect",
                    &format!("{}_{net}", app.project)
                ]))
                .code,
                0
            );
        }
        app.ok(&["down", "-v"]);
        assert_ne!(
            sh(Cmd::new(engine).args(["volume", "inspect", &vol])).code,
            0,
            "{engine}: down -v"
        );
        // (The reference project goes with the guard: no reference `down`.)
    });
}

/// Four idle services; `web` (the first) publishes 8080 on a random host port.
fn four_services(image_c: &str, marker: &str) -> String {
    // init forwards SIGTERM to sleep, which dies at once: stops take no time.
    let idle = "[\"sleep\", \"600\"]\n    init: true";
    format!(
        "services:\n  a-web:\n    image: dockhand-test/busybox:latest\n    command: [\"httpd\", \"-f\", \"-p\", \"8080\"]\n    init: true\n    ports: [\"127.0.0.1::8080\"]\n    environment: {{MARK: \"{marker}\", API_TOKEN: \"tok-{marker}-9c2e\"}}\n  \
         b-db:\n    image: dockhand-test/busybox:latest\n    command: {idle}\n    environment: {{MARK: \"{marker}\"}}\n    volumes: [data:/data]\n  \
         c-cache:\n    image: {image_c}\n    command: {idle}\n    environment: {{MARK: \"{marker}\"}}\n  \
         d-worker:\n    image: dockhand-test/busybox:latest\n    command: {idle}\n    environment: {{MARK: \"{marker}\"}}\nvolumes:\n  data: {{}}\n"
    )
}

const FOUR: [&str; 4] = ["a-web", "b-db", "c-cache", "d-worker"];

/// The host side of every binding of container port `port`, sorted.
fn bound(c: &Value, port: &str) -> Vec<String> {
    let mut out: Vec<String> = c["NetworkSettings"]["Ports"][port]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            format!(
                "{}:{}",
                b["HostIp"].as_str().unwrap(),
                b["HostPort"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_port_on_all_addresses_keeps_both_numbers_docker_drew() {
    // docker 20.10 binds `ports: ["80"]` on 0.0.0.0 and on :: and draws a
    // number for each. A container holding, on ::, the number the next
    // IPv4 draw gives makes the two differ; the pin used to ask for the IPv4
    // number on both and failed ("Bind for :::N failed"). (podman binds
    // what it pre-allocated at create: nothing to pin.)
    let engine = "docker";
    if !engines().contains(&engine) {
        return;
    }
    let mut cleanup = Cleanup::new(engine);
    let probe = start_container(engine, &mut cleanup, "app-probe", &["-p", "80"], &[]);
    let probed = sh(Cmd::new(engine).args(["inspect", &probe]));
    let probed: Value = serde_json::from_str(&probed.stdout).unwrap();
    let next_v4: u16 = probed[0]["NetworkSettings"]["Ports"]["80/tcp"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["HostIp"] == "0.0.0.0")
        .map(|b| b["HostPort"].as_str().unwrap().parse::<u16>().unwrap() + 1)
        .expect("a binding on 0.0.0.0");
    sh(Cmd::new(engine).args(["rm", "-f", &probe]));
    let holder = format!("[::]:{next_v4}:80");
    start_container(engine, &mut cleanup, "app-holder", &["-p", &holder], &[]);
    let app_text = |mark: &str| {
        format!(
            "services:\n  web:\n    image: dockhand-test/busybox:latest\n    command: [\"sleep\", \"600\"]\n    init: true\n    ports: [\"80\", \"0.0.0.0::81\", \"[::1]::82\"]\n    environment: {{MARK: \"{mark}\"}}\n"
        )
    };
    let app = AppGuard::new(engine, &app_text("v1"), &["web"]);
    app.ok(&["up"]);
    let first = app.inspect(&app.project);
    let ports = bound(&first[0], "80/tcp");
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert!(ports.iter().any(|p| p.starts_with("0.0.0.0:")), "{ports:?}");
    assert!(ports.iter().any(|p| p.starts_with(":::")), "{ports:?}");
    // Ports on one address are pinned too.
    let (v4, v6) = (bound(&first[0], "81/tcp"), bound(&first[0], "82/tcp"));
    assert!(v4.len() == 1 && v4[0].starts_with("0.0.0.0:"), "{v4:?}");
    assert!(v6.len() == 1 && v6[0].starts_with("::1:"), "{v6:?}");
    // The update keeps every number.
    std::fs::write(app.path("compose.yaml"), app_text("v2")).unwrap();
    app.ok(&["up"]);
    let second = app.inspect(&app.project);
    assert_ne!(first[0]["Id"], second[0]["Id"], "recreated");
    assert_eq!(bound(&second[0], "80/tcp"), ports);
    assert_eq!(bound(&second[0], "81/tcp"), v4);
    assert_eq!(bound(&second[0], "82/tcp"), v6);
    // And a no-op up has nothing left to pin.
    let plan = app.ok(&["--json", "plan"]).json();
    assert_eq!(plan["steps"], json!([]), "{plan:#}");
}

#[test]
fn a_noop_up_makes_one_call_an_update_keeps_the_host_port_a_failed_one_rolls_back() {
    each_engine(|engine| {
        let app = AppGuard::new(
            engine,
            &four_services("dockhand-test/busybox:latest", "v1"),
            &FOUR,
        );
        app.ok(&["up"]);
        let before = app.snapshot();
        let port = before[0].3.clone().expect("a-web publishes 8080");
        // No-op: one engine call (podman: and one image inspect, as its ps
        // cannot tell an image rebuilt under the same name), no mutation.
        let calls = app.path("calls");
        let counted = format!("{} {} {engine}", count_calls(), calls.display());
        let r = app.run_with(&counted, &["--json"], &["up"]);
        assert_eq!(r.code, 0, "{r:?}");
        let log = std::fs::read_to_string(&calls).unwrap();
        // podman's two reads are made at once: in either order.
        let mut lines: Vec<&str> = log.lines().collect();
        lines.sort_unstable();
        assert_eq!(
            lines.len(),
            if engine == "podman" { 2 } else { 1 },
            "{engine}: a no-op up made these calls:\n{log}"
        );
        assert!(
            lines.last().unwrap().starts_with(&format!(
                "{engine} ps -a --filter=label=com.docker.compose.project="
            )),
            "{log}"
        );
        if engine == "podman" {
            assert_eq!(
                lines[0], "podman image inspect -- dockhand-test/busybox:latest",
                "{log}"
            );
        }
        assert_eq!(r.json()["done"], json!([]));
        // plan says why, and does nothing.
        std::fs::write(
            app.path("compose.yaml"),
            four_services("dockhand-test/busybox:latest", "v2"),
        )
        .unwrap();
        let plan = app.ok(&["--json", "plan"]).json();
        let recreates: Vec<&Value> = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["action"] == "recreate")
            .collect();
        assert_eq!(recreates.len(), 4, "{plan:#}");
        assert!(
            recreates
                .iter()
                .all(|s| s["reason"] == "config hash changed"),
            "{plan:#}"
        );
        assert_eq!(app.snapshot(), before, "plan changed nothing");
        // The update: new containers, same host port; no old ones left; no secret in any argv.
        std::fs::remove_file(&calls).unwrap();
        let r = app.run_with(&counted, &[], &["up"]);
        assert_eq!(r.code, 0, "{r:?}");
        let after = app.snapshot();
        assert_eq!(after.len(), 4, "{after:?}");
        assert_eq!(
            after[0].3.as_deref(),
            Some(port.as_str()),
            "{engine}: the host port survives the update"
        );
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(b.0, a.0);
            assert_ne!(b.1, a.1, "{} was recreated", a.0);
            assert!(a.2, "{} runs", a.0);
        }
        let log = std::fs::read_to_string(&calls).unwrap();
        assert!(
            !log.contains("tok-v2-9c2e"),
            "{engine}: the API token reached argv:\n{log}"
        );
        // Stopped and started again (docker draws a new port for unpinned
        // ports at every start): still the same host port.
        sh(Cmd::new(engine).args(["stop", "-t", "1", &after[0].0]));
        let r = app.ok(&["--json", "up"]);
        assert!(r.json()["done"].to_string().contains("start"), "{r:?}");
        assert_eq!(
            app.snapshot()[0].3.as_deref(),
            Some(port.as_str()),
            "{engine}: the port survives a restart"
        );
        // An update whose image is missing for the third of four services:
        // rolled back, the old app runs on.
        let before = app.snapshot();
        // On a loopback registry nobody listens on: a pull never leaves the machine.
        let missing = format!("127.0.0.1:1/dockhand-test/{}:missing", app.project);
        std::fs::write(app.path("compose.yaml"), four_services(&missing, "v3")).unwrap();
        // --pull never: the failure comes mid-update, from the engine's create.
        let r = app.dockhand(&["up", "--pull", "never"]);
        assert_eq!(r.code, 3, "{engine}: a missing image is not found: {r:?}");
        assert!(r.stderr.contains("rolled back"), "{r:?}");
        assert!(r.stderr.contains("c-cache"), "names the failed step: {r:?}");
        assert_eq!(
            app.snapshot(),
            before,
            "{engine}: the old app runs on, same containers, same host port"
        );
        // With the default pull policy nothing is touched at all (one
        // attempt: the refused connection is transient, and retries would
        // only sleep).
        let r = app.run_with(engine, &["--retries", "1"], &["up"]);
        assert_ne!(r.code, 0, "{r:?}");
        assert_eq!(app.snapshot(), before);
    });
}

/// `dockhand app up` started in the background, returned once it has set
/// a second old container aside (its engine calls are counted in a new
/// `calls`).
// A child the test signals itself; its callers wait for it.
#[allow(clippy::disallowed_methods, clippy::zombie_processes)]
fn up_in_background(app: &AppGuard) -> std::process::Child {
    let calls = app.path("calls");
    let _ = std::fs::remove_file(&calls);
    let counted = format!("{} {} {}", count_calls(), calls.display(), app.engine);
    let mut cmd = std::process::Command::new(bin());
    cmd.current_dir(app.dir.path())
        .args(["--engine", &counted, "app", "-p", &app.project]);
    for f in &app.files {
        cmd.args(["-f", f]);
    }
    let mut child = cmd
        .arg("up")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(&calls).unwrap_or_default();
        if log.lines().filter(|l| l.contains(" rename ")).count() >= 2 {
            return child;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no rename seen: {log}");
        }
        dockhand::exec::sleep(std::time::Duration::from_millis(20)).unwrap();
    }
}

#[test]
fn a_second_up_of_the_same_project_waits_for_the_lock_then_exits_5() {
    each_engine(|engine| {
        let app = AppGuard::new(
            engine,
            "services:\n  a:\n    image: dockhand-test/busybox:latest\n",
            &["a"],
        );
        let scope = format!("app-{engine}");
        let held = dockhand::container::lock::LockSet::acquire(
            &scope,
            [app.project.as_str()],
            std::time::Duration::ZERO,
        )
        .unwrap();
        let mut cmd = Cmd::new(bin()).args([
            "--engine",
            engine,
            "app",
            "-p",
            &app.project,
            "--lock-timeout",
            "300ms",
        ]);
        for f in &app.files {
            cmd = cmd.arg("-f").arg(app.path(f));
        }
        let r = sh(cmd.args(["up", "--no-start"]));
        assert_eq!(r.code, 5, "{r:?}");
        assert!(r.stderr.contains("operation in progress"), "{r:?}");
        drop(held);
        assert!(
            app.inspect(&app.project).is_empty(),
            "nothing was created while the lock was held"
        );
    });
}

#[test]
fn bad_files_exit_2_naming_file_line_service_and_key_before_any_engine_call() {
    let tsv = std::fs::read_to_string(fixture("bad").join("expected.tsv")).unwrap();
    let calls = tempfile::Builder::new()
        .prefix("dh-app-")
        .tempdir()
        .unwrap();
    for (n, row) in tsv.lines().skip(1).enumerate() {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, line, service, key) = (cols[0], cols[1], cols[2], cols[3]);
        for verb in ["config", "up"] {
            let log = calls.path().join(format!("{n}-{verb}"));
            let engine = format!("{} {} docker", count_calls(), log.display());
            let r = sh(Cmd::new("env")
                .arg("-C")
                .arg(fixture("bad"))
                .arg(bin())
                .args([
                    "--engine",
                    &engine,
                    "--json",
                    "app",
                    "-p",
                    "dh-app-bad",
                    "-f",
                    file,
                    verb,
                ]));
            assert_eq!(r.code, 2, "{file} {verb}: {r:?}");
            let message = r.json_error()["error"]["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                message.starts_with(&format!("{file}:{line}: ")),
                "{file}: {message}"
            );
            if !service.is_empty() {
                assert!(
                    message.contains(&format!("service \"{service}\"")),
                    "{file}: {message}"
                );
            }
            assert!(message.contains(&format!("\"{key}\"")), "{file}: {message}");
            assert!(!log.exists(), "{file} {verb}: an engine call was made");
        }
    }
}

#[test]
fn logs_ps_exec_stop_start_speak_per_service() {
    each_engine(|engine| {
        let text = "services:\n  talker:\n    image: dockhand-test/busybox:latest\n    command: [\"sh\", \"-c\", \"echo hello-out; echo hello-err >&2; trap 'exit 0' TERM; while :; do sleep 1; done\"]\n  \
                    quiet:\n    image: dockhand-test/busybox:latest\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while :; do sleep 1; done\"]\n    stop_grace_period: 1s\n";
        let app = AppGuard::new(engine, text, &["talker", "quiet"]);
        app.ok(&["up"]);
        let ps = app.ok(&["--json", "ps"]).json();
        let rows = ps.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r["status"] == "running"), "{ps:#}");
        let logs = app.ok(&["--json", "logs", "talker"]);
        let records: Vec<Value> = logs
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(
            records.iter().any(|r| r["service"] == "talker"
                && r["stream"] == "stdout"
                && r["message"] == "hello-out"),
            "{records:?}"
        );
        assert!(
            records
                .iter()
                .any(|r| r["stream"] == "stderr" && r["message"] == "hello-err"),
            "{records:?}"
        );
        assert!(records
            .iter()
            .all(|r| r["container"] == format!("{}-talker-1", app.project)
                && r["timestamp"].is_string()));
        let r = app.dockhand(&["exec", "quiet", "sh", "-c", "exit 7"]);
        assert_eq!(r.code, 7, "{r:?}");
        app.ok(&["stop"]);
        let ps = app.ok(&["--json", "ps"]).json();
        assert!(
            ps.as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "exited"),
            "{ps:#}"
        );
        app.ok(&["start", "quiet"]);
        let ps = app.ok(&["--json", "ps"]).json();
        let quiet = ps
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["service"] == "quiet")
            .unwrap()
            .clone();
        assert_eq!(quiet["status"], "running", "{ps:#}");
    });
}

#[test]
fn sigint_during_up_rolls_back_and_after_kill_9_up_again_converges() {
    each_engine(|engine| {
        let app = AppGuard::new(
            engine,
            &four_services("dockhand-test/busybox:latest", "v1"),
            &FOUR,
        );
        app.ok(&["up"]);
        let before = app.snapshot();
        std::fs::write(
            app.path("compose.yaml"),
            four_services("dockhand-test/busybox:latest", "v2"),
        )
        .unwrap();
        // Interrupt it once the second service's old container is set aside.
        let child = up_in_background(&app);
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{engine}: {stderr}");
        assert!(stderr.contains("rolled back"), "{engine}: {stderr}");
        assert!(
            !stderr.contains("FAILED"),
            "{engine}: every undo ran: {stderr}"
        );
        assert_eq!(
            app.snapshot(),
            before,
            "{engine}: the old app runs on, same containers, same host port"
        );
        // kill -9 at the same point: no rollback; the next up converges.
        let mut child = up_in_background(&app);
        child.kill().unwrap();
        child.wait().unwrap();
        // dockhand's engine children run in their own group: let them end.
        dockhand::exec::sleep(std::time::Duration::from_millis(500)).unwrap();
        let r = app.ok(&["--json", "up"]);
        let after = app.snapshot();
        let names: Vec<&str> = after.iter().map(|c| c.0.as_str()).collect();
        let want: Vec<String> = FOUR
            .iter()
            .map(|s| format!("{}-{s}-1", app.project))
            .collect();
        assert_eq!(names, want, "{engine}: nothing set aside is left: {r:?}");
        assert!(after.iter().all(|c| c.2), "{engine}: all run: {after:?}");
        assert_eq!(after[0].3, before[0].3, "{engine}: same host port");
        let again = app.ok(&["--json", "up"]).json();
        assert_eq!(again["done"], json!([]), "{engine}: converged");
    });
}

/// `dockhand link ls` of a container: (kind, ifname) of what dockhand plumbed.
fn plumbed(engine: &str, container: &str) -> Vec<(String, String)> {
    let r = dockhand_on(engine, ["--json", "link", "ls", container]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut out: Vec<(String, String)> = r.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_string(),
                l["ifname"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn host_has(name: &str) -> bool {
    sh(Cmd::new("ip").args(["link", "show", "dev", name])).code == 0
}

#[test]
fn host_interfaces_follow_the_service_through_update_rollback_and_down() {
    each_engine(|engine| {
        let i = usize::from(engine == "podman");
        let mut host = HostIfaces::new();
        let (parent, nic) = (host.add("ifb"), host.add("ifb"));
        let (lan, lan_host, mv, wan) = (ifname(), ifname(), ifname(), ifname());
        host.expect(&lan_host);
        let net = 80 + i;
        let text = |marker: &str, broken: bool| {
            let mut t = format!(
                "services:\n  router:\n    image: dockhand-test/busybox:latest\n    command: [\"sleep\", \"600\"]\n    init: true\n    network_mode: none\n    \
                 environment: {{MARK: {marker}}}\n    x-dockhand:\n      interfaces:\n        \
                 - {{type: veth, name: {lan}, host: {lan_host}, addresses: [10.{net}.1.2/24], gateway: 10.{net}.1.1}}\n        \
                 - {{type: macvlan, parent: {parent}, name: {mv}, mode: bridge, addresses: [10.{net}.2.2/24]}}\n        \
                 - {{type: move, host: {nic}, name: {wan}, addresses: [10.{net}.3.2/24]}}\n"
            );
            if broken {
                let missing = format!("dockhand-test/dh-app-missing-{}:x", std::process::id());
                t.push_str(&format!(
                    "  zz-broken:\n    image: {missing}\n    command: [\"sleep\", \"600\"]\n"
                ));
            }
            t
        };
        let app = AppGuard::new(engine, &text("v1", false), &["router"]);
        let want = |c: &str| {
            let mut w = vec![
                ("macvlan".to_string(), mv.clone()),
                ("moved".to_string(), wan.clone()),
                ("veth".to_string(), lan.clone()),
            ];
            w.sort();
            assert_eq!(plumbed(engine, c), w, "{engine}: {c}");
        };
        app.ok(&["up"]);
        let router = format!("{}-router-1", app.project);
        want(&router);
        assert!(
            host_has(&lan_host) && !host_has(&nic),
            "{engine}: veth host end there, nic moved in"
        );
        // An update moves them into the new container.
        std::fs::write(app.path("compose.yaml"), text("v2", false)).unwrap();
        app.ok(&["up"]);
        let updated = app.snapshot();
        want(&router);
        // A failed update gives them back to the container that had them.
        std::fs::write(app.path("compose.yaml"), text("v3", true)).unwrap();
        let r = app.dockhand(&["up", "--pull", "never"]);
        assert_ne!(r.code, 0, "{r:?}");
        assert!(
            !r.stderr.contains("FAILED"),
            "{engine}: every undo ran: {r:?}"
        );
        assert_eq!(
            app.snapshot(),
            updated,
            "{engine}: the v2 container runs again"
        );
        want(&router);
        // down releases them: the nic is back under its name, the veth is gone.
        std::fs::write(app.path("compose.yaml"), text("v3", false)).unwrap();
        app.ok(&["down"]);
        assert!(
            host_has(&nic) && !host_has(&lan_host),
            "{engine}: released by down"
        );
        assert!(host_has(&parent));
    });
}

/// The engine commands of a count-calls log that change something (every
/// line but the reads).
fn mutating(log: &str) -> Vec<&str> {
    const READS: [&str; 5] = [
        "ps ",
        "inspect ",
        "network inspect",
        "volume inspect",
        "image inspect",
    ];
    log.lines()
        .filter(|l| {
            let verb = l.split_once(' ').map_or("", |(_, rest)| rest);
            !READS.iter().any(|r| verb.starts_with(r))
        })
        .collect()
}

#[test]
fn up_and_down_flags_do_what_compose_users_expect() {
    each_engine(|engine| {
        let idle = "command: [\"sleep\", \"600\"]\n    init: true";
        let file = |marker: &str, with_b: bool| {
            let mut t = format!(
                "services:\n  a:\n    image: dockhand-test/busybox:latest\n    {idle}\n    environment: {{MARK: {marker}}}\n    healthcheck: {{test: [CMD-SHELL, \"true\"], interval: 1s}}\n"
            );
            if with_b {
                t.push_str(&format!(
                    "  b:\n    image: dockhand-test/busybox:latest\n    {idle}\n    environment: {{MARK: {marker}}}\n    depends_on: [a]\n"
                ));
            }
            t
        };
        let app = AppGuard::new(engine, &file("v1", true), &["a", "b"]);
        let (a, b) = (
            format!("{}-a-1", app.project),
            format!("{}-b-1", app.project),
        );
        let ids = |app: &AppGuard| -> Vec<(String, String, bool)> {
            app.snapshot()
                .into_iter()
                .map(|(n, id, running, _)| (n, id, running))
                .collect()
        };
        // --dry-run up and plan: reads only, and the reasons.
        let calls = app.path("calls");
        let counted = format!("{} {} {engine}", count_calls(), calls.display());
        let r = app.run_with(&counted, &["--dry-run", "--json"], &["up"]);
        assert_eq!(r.code, 0, "{r:?}");
        let log = std::fs::read_to_string(&calls).unwrap();
        assert_eq!(mutating(&log), Vec::<&str>::new(), "{engine}: --dry-run up");
        let steps = r.json()["steps"].as_array().unwrap().clone();
        assert!(
            steps
                .iter()
                .any(|s| s["action"] == "create" && s["reason"] == "missing"),
            "{steps:?}"
        );
        assert!(ids(&app).is_empty(), "{engine}: --dry-run created nothing");
        // --no-deps: b alone.
        app.ok(&["up", "--no-deps", "b"]);
        let only_b = ids(&app);
        assert_eq!(
            only_b.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            [b.as_str()]
        );
        // up --wait: a is created, and healthy when up returns; b (unchanged) left alone.
        app.ok(&["up", "--wait"]);
        let health =
            sh(Cmd::new(engine).args(["inspect", "--format", "{{.State.Health.Status}}", &a]));
        assert_eq!(health.stdout.trim(), "healthy", "{engine}: up --wait");
        let both = ids(&app);
        assert_eq!(both.len(), 2, "{both:?}");
        assert_eq!(both[1], only_b[0], "{engine}: b untouched");
        // --force-recreate a: a new a, the same b.
        app.ok(&["up", "--force-recreate", "--no-deps", "a"]);
        let forced = ids(&app);
        assert_ne!(forced[0].1, both[0].1, "{engine}: a recreated");
        assert_eq!(forced[1], both[1], "{engine}: b untouched");
        // A changed file with --no-recreate: nothing recreated; plan still says why.
        std::fs::write(app.path("compose.yaml"), file("v2", true)).unwrap();
        app.ok(&["up", "--no-recreate"]);
        assert_eq!(ids(&app), forced, "{engine}: --no-recreate");
        let plan = app.ok(&["--json", "plan"]).json();
        assert!(
            plan["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["action"] == "recreate" && s["reason"] == "config hash changed"),
            "{plan:#}"
        );
        // ps: one engine call.
        std::fs::remove_file(&calls).unwrap();
        let ps = app.run_with(&counted, &["--json"], &["ps"]);
        assert_eq!(ps.json().as_array().unwrap().len(), 2, "{ps:?}");
        let log = std::fs::read_to_string(&calls).unwrap();
        assert_eq!(
            log.lines().count(),
            1,
            "{engine}: ps made these calls:\n{log}"
        );
        // restart: the same containers, started again.
        let started = |name: &str| {
            sh(Cmd::new(engine).args(["inspect", "--format", "{{.State.StartedAt}}", name])).stdout
        };
        let before = started(&a);
        app.ok(&["restart", "a"]);
        assert_ne!(started(&a), before, "{engine}: restarted");
        assert_eq!(ids(&app), forced, "{engine}: restart keeps the containers");
        // b leaves the file: an orphan, kept by up, removed by --remove-orphans.
        std::fs::write(app.path("compose.yaml"), file("v1", false)).unwrap();
        let labels = std::fs::read_to_string(app.path("dh-test-labels.yaml")).unwrap();
        let only_a = labels.split("  b:\n").next().unwrap();
        std::fs::write(app.path("dh-test-labels.yaml"), only_a).unwrap();
        let r = app.ok(&["up"]);
        assert!(r.stderr.contains("--remove-orphans"), "{engine}: {r:?}");
        assert!(ids(&app).iter().any(|c| c.0 == b), "{engine}: orphan kept");
        app.ok(&["up", "--remove-orphans"]);
        let left = ids(&app);
        assert_eq!(
            left.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            [a.as_str()]
        );
        // --dry-run down changes nothing; down -t 1 removes; down again succeeds.
        std::fs::remove_file(&calls).unwrap();
        let r = app.run_with(&counted, &["--dry-run"], &["down", "-v"]);
        assert_eq!(r.code, 0, "{r:?}");
        let log = std::fs::read_to_string(&calls).unwrap();
        assert_eq!(
            mutating(&log),
            Vec::<&str>::new(),
            "{engine}: --dry-run down"
        );
        assert_eq!(ids(&app), left);
        let down = app.ok(&["--json", "down", "-t", "1"]).json();
        assert!(!down["done"].as_array().unwrap().is_empty(), "{down:#}");
        assert!(ids(&app).is_empty(), "{engine}: down");
        // down of an absent project: a success that removed nothing, its
        // network reported as absent (not as removed).
        let again = app.ok(&["--json", "down"]).json();
        assert_eq!(again["done"], json!([]), "{engine}: {again:#}");
        crate::schemas::assert_valid("app-up", &again);
        assert_eq!(
            again["absent"],
            json!([{"kind": "network", "name": format!("{}_default", app.project)}]),
            "{engine}: {again:#}"
        );
        let text = app.ok(&["down"]);
        assert_eq!(
            text.stdout,
            format!("network {}_default: absent (already gone)\n", app.project),
            "{engine}"
        );
    });
}

#[test]
fn build_then_up_and_up_build_run_the_service_image_of_its_target_stage() {
    each_engine(|engine| {
        let image = format!("{}:1", unique("app-img").to_lowercase());
        let mut app = AppGuard::fixture(engine, "multistage", &["web"]);
        let set = |app: &mut AppGuard, key: &str, value: &str| {
            app.env.retain(|(k, _)| k != key);
            app.env.push((key.into(), value.into()));
        };
        set(&mut app, "DHC_IMAGE", &image);
        set(&mut app, "DHC_OWNER", &std::process::id().to_string());
        let cat = |app: &AppGuard, file: &str| {
            let r = app.ok(&["exec", "web", "cat", file]);
            r.stdout.trim().to_string()
        };
        // Every build leaves the one before dangling: all go at the end.
        let mut ids = Vec::new();
        let mut id_now = || {
            let r = sh(Cmd::new(engine).args(["image", "inspect", "--format", "{{.Id}}", &image]));
            ids.push(r.stdout.trim().to_string());
        };
        let built = app.ok(&["--json", "build"]).json();
        assert_eq!(built, json!({ "built": [image] }), "{engine}");
        crate::schemas::assert_valid("app-images", &built);
        id_now();
        // Built, so up pulls nothing (--pull missing finds it); the target
        // stage (dev), not the Dockerfile's last (prod).
        app.ok(&["up"]);
        assert_eq!(cat(&app, "/greeting"), "hello-build", "{engine}");
        assert_eq!(cat(&app, "/stage"), "dev", "{engine}: build.target");
        let before = app.snapshot();
        // Another target is another config hash; up --build rebuilds and
        // recreates.
        set(&mut app, "DHC_TARGET", "prod");
        let plan = app.ok(&["--json", "plan"]).json();
        assert_eq!(
            plan["steps"][0]["reason"], "config hash changed",
            "{plan:#}"
        );
        app.ok(&["up", "--build"]);
        id_now();
        assert_eq!(cat(&app, "/stage"), "prod", "{engine}");
        let rebuilt = app.snapshot();
        assert_ne!(rebuilt[0].1, before[0].1, "{engine}: recreated");
        // The image rebuilt under the same name by someone else (the engine's
        // own build, another build arg): a plain up sees the new image id
        // and recreates, as docker-compose does; then nothing is left to do.
        let r = sh(Cmd::new(engine)
            .args(["build", "-q", "--target", "prod", "-t", &image])
            .args(["--build-arg", "GREETING=built-outside"])
            .arg("--build-arg")
            .arg(format!("OWNER={}", std::process::id()))
            .arg(app.path("web")));
        assert_eq!(r.code, 0, "{r:?}");
        id_now();
        let plan = app.ok(&["--json", "plan"]).json();
        assert_eq!(
            plan["steps"][0]["reason"], "image changed",
            "{engine}: {plan:#}"
        );
        app.ok(&["up"]);
        assert_eq!(cat(&app, "/greeting"), "built-outside", "{engine}");
        assert_ne!(app.snapshot()[0].1, rebuilt[0].1, "{engine}: recreated");
        let again = app.ok(&["--json", "up"]).json();
        assert_eq!(again["done"], json!([]), "{engine}: converged");
        drop(app);
        sh(Cmd::new(engine).args(["rmi", "-f"]).args(&ids));
    });
}

#[test]
fn pull_and_up_fetch_missing_images_from_a_loopback_registry() {
    // podman is told --tls-verify=false for a loopback registry, which
    // docker takes as insecure by default.
    each_engine(|engine| {
        let image = format!(
            "{}/{}",
            crate::registry::registry().addr,
            crate::registry::fresh(engine)
        );
        // The image is a one-file root filesystem: create, never start.
        let app = AppGuard::new(
            engine,
            &format!("services:\n  s:\n    image: {image}\n    command: [\"/nothing\"]\n"),
            &["s"],
        );
        let present = || sh(Cmd::new(engine).args(["image", "inspect", &image])).code == 0;
        assert!(!present());
        let pulled = app.ok(&["--json", "pull"]).json();
        assert_eq!(pulled, json!({ "pulled": [image] }));
        crate::schemas::assert_valid("app-images", &pulled);
        assert!(present(), "{engine}: app pull");
        sh(Cmd::new(engine).args(["rmi", &image]));
        // up pulls what is missing (--pull missing) before it creates.
        let r = app.ok(&["--json", "up", "--no-start"]);
        let done = r.json()["done"].clone();
        assert!(done[0].as_str().unwrap().starts_with("pull "), "{done:#}");
        assert!(present(), "{engine}: up pulled");
        assert_eq!(app.snapshot().len(), 1);
        drop(app);
        sh(Cmd::new(engine).args(["rmi", &image]));
    });
}

#[test]
fn down_goes_on_past_a_network_still_in_use_and_reports_it() {
    each_engine(|engine| {
        let text = "services:\n  a:\n    image: dockhand-test/busybox:latest\n    command: [\"sleep\", \"600\"]\n    init: true\n    volumes: [data:/data]\nvolumes:\n  data: {}\n";
        let app = AppGuard::new(engine, text, &["a"]);
        app.ok(&["up"]);
        // A container that is not the app's holds on to the app's network.
        let net = format!("{}_default", app.project);
        let foreign = unique("app-foreign").to_lowercase();
        let r = sh(Cmd::new(engine)
            .args(["run", "-d", "--init", "--name", &foreign, "--network", &net])
            .args(labels())
            .args([IMAGE, "sleep", "600"]));
        assert_eq!(r.code, 0, "{r:?}");
        let r = app.dockhand(&["down", "-v"]);
        sh(rm_now(engine).arg(&foreign));
        assert_eq!(r.code, 1, "{engine}: {r:?}");
        assert!(
            r.stderr.contains("1 step(s) failed") && r.stderr.contains(&net),
            "{engine}: names the network: {r:?}"
        );
        assert!(
            app.inspect(&app.project).is_empty(),
            "{engine}: the containers went before"
        );
        let vol = format!("{}_data", app.project);
        assert_ne!(
            sh(Cmd::new(engine).args(["volume", "inspect", &vol])).code,
            0,
            "{engine}: the volume went after the failed network"
        );
        // The second down removes the network, and reports the volume the
        // first one removed as absent.
        let again = app.ok(&["--json", "down", "-v"]).json();
        assert_eq!(
            again["done"],
            json!([format!("remove networks: remove networks {net} (down)")]),
            "{engine}: {again:#}"
        );
        assert_eq!(
            again["absent"],
            json!([{"kind": "volume", "name": vol}]),
            "{engine}: {again:#}"
        );
        assert_ne!(
            sh(Cmd::new(engine).args(["network", "inspect", &net])).code,
            0,
            "{engine}: a second down removes the network"
        );
    });
}

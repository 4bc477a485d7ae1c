//! Real test hosts (tests/fixtures/testhosts): network namespaces with a
//! dockerd and an sshd each, a podman service, and a client netns with no
//! default route in which every client that talks to them runs.

use std::path::{Path, PathBuf};

use dockhand::exec::Cmd;
use serde_json::Value;

use super::{bin, sh, Ran};

/// One set of test hosts; `down` when dropped (also on panic).
pub struct TestHosts {
    pub dir: PathBuf,
    pub facts: Value,
    script: PathBuf,
}

impl TestHosts {
    /// `n` hosts, plus the podman service in the root netns (`podman`).
    /// Sweeps sets of dead test processes first.
    pub fn up(n: usize, podman: bool) -> TestHosts {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/testhosts");
        sh(Cmd::new(&script).arg("sweep"));
        let dir = tempfile::Builder::new()
            .prefix("dh-fl-")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let owner = std::process::id().to_string();
        let up = sh(Cmd::new(&script).args([
            "up",
            dir.to_str().unwrap(),
            &n.to_string(),
            "--owner",
            &owner,
        ]));
        let mut hosts = TestHosts {
            dir,
            facts: Value::Null,
            script,
        };
        assert_eq!(up.code, 0, "testhosts up: {up:?}");
        if podman {
            hosts.knob("podman-service", None);
        }
        let json = std::fs::read_to_string(hosts.dir.join("hosts.json")).unwrap();
        hosts.facts = serde_json::from_str(&json).unwrap();
        hosts
    }

    /// A fact of hosts.json, as text (`["ssh"]["key"]` → `fact(&["ssh", "key"])`).
    pub fn fact(&self, path: &[&str]) -> String {
        let mut v = &self.facts;
        for p in path {
            v = &v[*p];
        }
        v.as_str()
            .unwrap_or_else(|| panic!("no {path:?} in hosts.json"))
            .to_string()
    }

    /// Host `i`'s (from 1) fact `key`.
    pub fn host(&self, i: usize, key: &str) -> String {
        self.facts["hosts"][i - 1][key]
            .as_str()
            .unwrap_or_else(|| panic!("no hosts[{i}].{key}"))
            .to_string()
    }

    /// A fault knob on host `i` (`None`: a knob of the set).
    pub fn knob(&self, knob: &str, i: Option<usize>) {
        let mut cmd = Cmd::new(&self.script).args([knob, self.dir.to_str().unwrap()]);
        if let Some(i) = i {
            cmd = cmd.arg(i.to_string());
        }
        let r = sh(cmd);
        assert_eq!(r.code, 0, "testhosts {knob} {i:?}: {r:?}");
    }

    /// The words that run a program in the client netns with the set's ssh
    /// wrapper first on PATH and its direct (plain TCP) ssh config.
    pub fn client_env(&self, extra_env: &[(&str, &str)]) -> Vec<String> {
        let mut words: Vec<String> = [
            "nsenter",
            &format!("--net=/run/netns/{}", self.fact(&["client", "netns"])),
            "--",
            "env",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let path = format!(
            "PATH={}:{}",
            self.fact(&["ssh", "bin_dir"]),
            std::env::var("PATH").unwrap_or_default()
        );
        words.push(path);
        words.push(format!(
            "TESTHOSTS_SSH_CONFIG={}",
            self.fact(&["ssh", "config_direct"])
        ));
        // A dropped host costs 3 (28.2) or 5 (20.10) times this.
        words.push("TESTHOSTS_SSH_CONNECT_TIMEOUT=1".into());
        for (k, v) in extra_env {
            words.push(format!("{k}={v}"));
        }
        words
    }

    /// `dockhand ARGS` in the client netns (`env`: more variables).
    pub fn dockhand(&self, env: &[(&str, &str)], args: &[&str]) -> Ran {
        let words = self.client_env(env);
        sh(Cmd::new(&words[0]).args(&words[1..]).arg(bin()).args(args))
    }

    /// A docker command on host `i`'s own unix socket (from here: no network).
    pub fn docker_on(&self, i: usize, args: &[&str]) -> Ran {
        sh(Cmd::new("docker")
            .arg("-H")
            .arg(self.host(i, "docker_host"))
            .args(args))
    }
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        let down = sh(Cmd::new(&self.script).args(["down", self.dir.to_str().unwrap()]));
        match down.code {
            // Nothing is mounted below it any more: what is left is ours.
            0 => drop(std::fs::remove_dir_all(&self.dir)),
            _ => eprintln!("testhosts down {}: {down:?}", self.dir.display()),
        }
    }
}

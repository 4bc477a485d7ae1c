//! The loopback servers of tests/fixtures as test objects: a watcher that
//! stops a shared server when the test process is gone, and the fault proxy
//! with its request counters.

use std::collections::BTreeMap;
use std::path::Path;

use super::sh;
use dockhand::exec::Cmd;

/// The path of `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// When this test process is gone, stop the server that `fixture NAME
/// start DIR` started and remove DIR: statics are never dropped, so a
/// detached watcher does it.
pub fn stop_when_gone(name: &str, dir: &Path) {
    let quoted = |w: &str| shlex::try_quote(w).unwrap().into_owned();
    let dir = quoted(&dir.display().to_string());
    let script = format!(
        "exec >/dev/null 2>&1 </dev/null; while kill -0 {} 2>/dev/null; do sleep 1; done; {} stop {dir}; rm -rf {dir}",
        std::process::id(),
        quoted(&fixture(name)),
    );
    let r = sh(Cmd::new("setsid").args(["-f", "sh", "-c", &script]));
    assert_eq!(r.code, 0, "{r:?}");
}

/// One fault proxy (tests/fixtures/fault-registry) in front of a loopback
/// HTTP server — a registry, or the context servers — stopped when dropped.
pub struct Fault {
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Fault {
    pub fn start(upstream: &str, args: &[&str]) -> Fault {
        let dir = tempfile::Builder::new()
            .prefix("dh-rg-fault-")
            .tempdir()
            .unwrap();
        let r = sh(Cmd::new(fixture("fault-registry"))
            .arg("start")
            .arg(dir.path())
            .args(["--upstream", upstream, "--lifetime", "600"])
            .args(args));
        assert_eq!(r.code, 0, "fault-registry start {args:?}: {r:?}");
        Fault {
            addr: r.stdout.trim().to_string(),
            dir,
        }
    }

    /// `KIND N` lines of the proxy's counters.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        std::fs::read_to_string(self.dir.path().join("fault-counts"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (k, n) = l.split_once(' ')?;
                Some((k.to_string(), n.parse().ok()?))
            })
            .collect()
    }

    pub fn count(&self, kind: &str) -> u64 {
        self.counts().get(kind).copied().unwrap_or(0)
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        sh(Cmd::new(fixture("fault-registry"))
            .arg("stop")
            .arg(self.dir.path()));
    }
}

/// The endpoint (`unix://…/podman.sock`) of a `podman system service` of
/// this test process, on podman's default storage: the local podman as a
/// fleet host next to the local docker. Started once; it stops when the test
/// process is gone (a detached watcher, as statics are never dropped).
pub fn podman_endpoint() -> &'static str {
    static ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("dhs-podman-")
            .tempdir()
            .unwrap()
            .keep();
        let script = r#"podman system service --time=0 "unix://$1/podman.sock" </dev/null >"$1/log" 2>&1 &
svc=$!
exec >/dev/null 2>&1 </dev/null
while kill -0 "$2" && kill -0 "$svc"; do sleep 1; done
kill "$svc"; rm -rf "$1""#;
        let r = sh(Cmd::new("setsid")
            .args(["-f", "sh", "-c", script, "sh"])
            .arg(&dir)
            .arg(std::process::id().to_string()));
        assert_eq!(r.code, 0, "{r:?}");
        let sock = dir.join("podman.sock");
        for _ in 0..200 {
            if sock.exists() {
                break;
            }
            dockhand::exec::sleep(std::time::Duration::from_millis(50)).unwrap();
        }
        assert!(
            sock.exists(),
            "podman service did not start: {:?}",
            std::fs::read_to_string(dir.join("log"))
        );
        format!("unix://{}", sock.display())
    })
}

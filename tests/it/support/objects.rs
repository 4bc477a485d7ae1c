//! Harness for tests that create images, networks and volumes (next to
//! the container helpers of [`super`]).
//!
//! Everything is labelled with `support::labels()` (images through a LABEL in
//! their Dockerfile or an import `--change`), removed by an [`Objects`]
//! guard when the test ends (also on panic), and swept by [`engines`] when a
//! dead test process left some behind.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use crate::support::{self, sh, OWNER_LABEL, TEST_LABEL};
use dockhand::exec::Cmd;
use dockhand::image::ListOptions;
use dockhand::input::{ImageRef, KeyValue, NetworkName, VolumeName};
use dockhand::Engine;

/// The engines to test on, after sweeping objects of dead test processes.
pub fn engines() -> Vec<&'static str> {
    static SWEEP: Once = Once::new();
    let engines = support::engines();
    SWEEP.call_once(|| {
        for engine in &engines {
            sweep(engine);
        }
    });
    engines
}

/// `LABEL` lines marking an image as this test process's.
pub fn label_instructions() -> String {
    format!("LABEL {TEST_LABEL}=1 {OWNER_LABEL}={}", std::process::id())
}

/// `import --change` arguments marking an imported image as ours.
pub fn import_changes() -> Vec<String> {
    vec![
        "--change".into(),
        format!("LABEL {TEST_LABEL}=1"),
        "--change".into(),
        format!("LABEL {OWNER_LABEL}={}", std::process::id()),
    ]
}

/// A name for an image, network or volume nobody else uses (lower case, so it
/// is a valid image name too).
pub fn unique(prefix: &str) -> String {
    support::unique(prefix).to_lowercase()
}

/// Objects removed (with force) when the guard is dropped.
pub struct Objects {
    engine: String,
    images: Vec<String>,
    /// Label value (`dh.case=<v>`) of the images a test's builds left dangling.
    cases: Vec<String>,
    networks: Vec<String>,
    volumes: Vec<String>,
}

impl Objects {
    pub fn new(engine: &str) -> Objects {
        Objects {
            engine: engine.into(),
            images: Vec::new(),
            cases: Vec::new(),
            networks: Vec::new(),
            volumes: Vec::new(),
        }
    }

    pub fn image(&mut self, reference: &str) -> String {
        self.images.push(reference.into());
        reference.into()
    }

    /// A unique `dh.case` label value; intermediate images that carry it are removed at the end.
    pub fn case(&mut self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let case = format!(
            "{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.cases.push(case.clone());
        case
    }

    pub fn network(&mut self, name: &str) -> String {
        self.networks.push(name.into());
        name.into()
    }

    pub fn volume(&mut self, name: &str) -> String {
        self.volumes.push(name.into());
        name.into()
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        let e = self.engine.as_str();
        if !self.images.is_empty() {
            sh(Cmd::new(e).args(["rmi", "-f"]).args(&self.images));
        }
        for case in &self.cases {
            let ids = sh(Cmd::new(e).args([
                "images",
                "-a",
                "-q",
                "--filter",
                &format!("label=dh.case={case}"),
            ]));
            let ids: Vec<&str> = ids.stdout.split_whitespace().collect();
            if !ids.is_empty() {
                sh(Cmd::new(e).args(["rmi", "-f"]).args(ids));
            }
        }
        if !self.networks.is_empty() {
            sh(Cmd::new(e).args(["network", "rm"]).args(&self.networks));
        }
        if !self.volumes.is_empty() {
            sh(Cmd::new(e).args(["volume", "rm", "-f"]).args(&self.volumes));
        }
    }
}

/// Remove images, networks and volumes left by test processes that are gone
/// (through dockhand itself: one list and one remove per kind).
fn sweep(engine: &str) {
    let e = Engine::from_command(engine).expect("engine command");
    let filter = KeyValue::many("filter", [format!("label={TEST_LABEL}")]).expect("filter");
    let dead = |labels: &BTreeMap<String, String>| {
        labels.get(OWNER_LABEL).is_some_and(|owner| {
            !owner
                .parse::<u32>()
                .is_ok_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
    };
    let opts = ListOptions {
        all: true,
        filters: filter.clone(),
    };
    if let Ok(images) = e.images().list(&opts) {
        let stale: Vec<String> = images
            .iter()
            .filter(|i| dead(&i.labels))
            .map(|i| i.id.clone())
            .collect();
        if !stale.is_empty() {
            let _ = e
                .images()
                .remove(&ImageRef::many(stale).expect("ids"), true);
        }
    }
    if let Ok(nets) = e.networks().list(&filter) {
        let stale: Vec<String> = nets
            .iter()
            .filter(|n| dead(&n.labels))
            .map(|n| n.name.clone())
            .collect();
        let _ = e
            .networks()
            .remove(&NetworkName::many(stale).expect("names"));
    }
    if let Ok(vols) = e.volumes().list(&filter) {
        let stale: Vec<String> = vols
            .iter()
            .filter(|v| dead(&v.labels))
            .map(|v| v.name.clone())
            .collect();
        let _ = e
            .volumes()
            .remove(&VolumeName::many(stale).expect("names"), true);
    }
}

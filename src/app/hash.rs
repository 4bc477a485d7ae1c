//! The config hash of a service: what `up` compares to decide whether a
//! container is still what the files describe.
//!
//! None of the reference tools' hashes can be reproduced (each serialises
//! its own private structures; vendor-docs/compose.md, "Config hash"), so
//! dockhand writes its own into `com.docker.compose.config-hash`: the
//! SHA-256 (hex) of a canonical JSON document (keys sorted, compact) of the
//! normalised service — everything that shapes its container, env-files
//! folded in, paths absolute — plus the engine names of its networks and
//! volumes. Left out, as compose v2 leaves them out: `depends_on`,
//! `profiles` and `build` (how an image is made is not what runs; a rebuilt
//! image is noticed by its id, see [`diff`](super::diff)) — except
//! `build.target`: another stage is another program under the same image
//! name, so a changed target recreates the service (a hash input only when
//! set, so services without one keep their hashes). Another tool's
//! hash, or none, counts as "changed": each tool converges the app to its
//! own view, and none breaks on the other's containers.
//!
//! A container whose published ports still wait to be pinned (docker,
//! first deploy: see [`plan`](super::plan)) carries the hash of the same
//! document with `"ports_pinned": false`, so the next `up` pins them.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::project::Project;

/// The hash of service `name` of `project` (64 hex digits).
///
/// ```
/// use dockhand::app::{hash::config_hash, project::Project};
/// let mut p = Project::empty("shop");
/// p.services.insert("web".into(), Default::default());
/// let h = config_hash(&p, "web");
/// assert_eq!(h.len(), 64);
/// p.services.get_mut("web").unwrap().image = Some("busybox".into());
/// let with_image = config_hash(&p, "web");
/// assert_ne!(with_image, h);
/// // How the image is built is not in it, except the target stage.
/// let mut build = dockhand::app::file::ServiceBuild { context: "./web".into(), ..Default::default() };
/// p.services.get_mut("web").unwrap().build = Some(build.clone());
/// assert_eq!(config_hash(&p, "web"), with_image);
/// build.target = Some("prod".into());
/// p.services.get_mut("web").unwrap().build = Some(build);
/// assert_ne!(config_hash(&p, "web"), with_image);
/// ```
pub fn config_hash(project: &Project, name: &str) -> String {
    digest(project, name, true)
}

/// The hash a container gets while its host ports are not pinned yet.
pub fn unpinned_hash(project: &Project, name: &str) -> String {
    digest(project, name, false)
}

fn digest(project: &Project, name: &str, pinned: bool) -> String {
    let Some(service) = project.services.get(name) else {
        return String::new();
    };
    let mut doc = serde_json::to_value(service).unwrap_or_default();
    if let Some(map) = doc.as_object_mut() {
        for key in ["depends_on", "profiles", "build"] {
            map.remove(key);
        }
        if let Some(target) = service.build.as_ref().and_then(|b| b.target.as_ref()) {
            map.insert("build_target".into(), json!(target));
        }
    }
    let networks: serde_json::Map<String, serde_json::Value> = service
        .networks
        .keys()
        .map(|k| (k.clone(), json!(project.network_name(k))))
        .collect();
    let volumes: serde_json::Map<String, serde_json::Value> = service
        .volumes
        .iter()
        .filter_map(|m| {
            m.source
                .as_ref()
                .filter(|s| project.volumes.contains_key(*s))
        })
        .map(|k| (k.clone(), json!(project.volume_name(k))))
        .collect();
    let mut input = json!({"service": doc, "networks": networks, "volumes": volumes});
    if !pinned {
        input["ports_pinned"] = json!(false);
    }
    // serde_json's maps are sorted by key: this text is canonical.
    let text = input.to_string();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

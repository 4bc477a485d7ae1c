//! The layers of src/ (README, "How it is built"), checked: no module uses a
//! module of a higher layer, and resources use each other only where the
//! tree says. The test reads every `crate::…` path of every file (comments
//! aside) and fails naming the file and the path.
//!
//! A new top-level module gets a row in [`LAYERS`]: compose `app/` goes on
//! layer 7 (plans over the resources' plans, below the binary); a `fleet`
//! of many engines on layer 7 too when it drives the resources' handles, or
//! on layer 5 next to `engine` if the resources are to run on it as on one
//! engine. The binary (`src/cli/`) is a crate of its own on top.

use std::path::{Path, PathBuf};

/// Each top-level module of the library and its layer, bottom first.
const LAYERS: &[(&str, u8)] = &[
    ("error", 1),
    ("exec", 2),
    ("decode", 3),
    ("input", 4),
    ("engine", 5),
    // Many engines running the same plans: next to `engine`, so every
    // resource runs on a fleet member as on one engine.
    ("fleet", 5),
    ("container", 6),
    ("image", 6),
    ("network", 6),
    ("volume", 6),
    ("events", 6),
    ("system", 6),
    ("netns", 6),
    // Test support: replays plans through the engine's classification; any
    // module's unit tests may use it.
    ("testing", 6),
    ("prune", 7),
    // Compose apps: plans over the resources' plans.
    ("app", 7),
];

/// Uses between modules of the same layer that the tree allows.
const SIDEWAYS: &[(&str, &str)] = &[
    // A fleet is made of engines.
    ("fleet", "engine"),
    // Events are read through the engine's `system()` handle.
    ("events", "system"),
    // Host plumbing asks about the container whose namespace it enters.
    ("netns", "container"),
    // docker's multi-network run joins the further networks with `network
    // connect`; `--mac-address` first asks the engine's API versions.
    ("container", "network"),
    ("container", "system"),
    // `wait-for --running/--healthy/--exit` watches the container's events.
    ("container", "events"),
];

/// Names the crate root re-exports, and the module they come from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Error", "error"),
    ("ErrorKind", "error"),
    ("ExitStatus", "error"),
    ("Result", "error"),
    ("Engine", "engine"),
    ("EngineKind", "engine"),
    ("Plan", "engine"),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `source` names as `crate::X`, comments aside.
fn uses(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let module = ROOT_ITEMS
                .iter()
                .find(|(item, _)| *item == name)
                .map_or(name.as_str(), |(_, m)| m);
            found.push(module.to_string());
            rest = tail;
        }
    }
    found
}

#[test]
fn no_module_uses_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let top = top.to_str().unwrap().trim_end_matches(".rs");
        // The crate root declares the modules; the binary is a crate of its own.
        if matches!(top, "lib" | "main" | "cli") {
            continue;
        }
        let own = layer(top).unwrap_or_else(|| {
            panic!("src/{top} has no layer: give it a row in LAYERS (tests/it/layers.rs)")
        });
        for used in uses(&std::fs::read_to_string(file).unwrap()) {
            checked += 1;
            let Some(theirs) = layer(&used) else {
                wrong.push(format!(
                    "{}: crate::{used} is no module of LAYERS",
                    relative.display()
                ));
                continue;
            };
            let allowed = used == top
                || used == "testing"
                || theirs < own
                || SIDEWAYS.contains(&(top, used.as_str()));
            if !allowed {
                wrong.push(format!(
                    "{}: {top} (layer {own}) uses crate::{used} (layer {theirs})",
                    relative.display()
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} uses found: is the scan broken?"
    );
    assert!(wrong.is_empty(), "layer violations:\n{}", wrong.join("\n"));
}

#[test]
fn the_scan_sees_paths_and_root_items_and_skips_comments() {
    let text = "use crate::engine::Argv;\n// crate::cli::x\nlet e = crate::Error::new(); crate::exec::run()";
    assert_eq!(uses(text), ["engine", "error", "exec"]);
}

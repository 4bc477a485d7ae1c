//! Images on the real engines: import, tag, inspect (one call for N), exists,
//! save/load, rmi (missing = success), and pull from an unreachable registry.
//! Nothing is pulled from anywhere: images come from `import`.

use std::net::TcpListener;

use crate::support::objects::{engines, import_changes, unique, Objects};
use crate::support::{dockhand_on, sh, OWNER_LABEL};
use dockhand::exec::Cmd;

/// A tiny root filesystem tarball (one file) in `dir`.
fn rootfs_tar(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("hello.txt"), "hello\n").unwrap();
    let tar = dir.join("rootfs.tar");
    let r = sh(Cmd::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    assert_eq!(r.code, 0, "{r:?}");
    tar
}

/// A created (never started) container using `image`, removed on drop.
fn objs_container(engine: &str, image: &str) -> crate::support::Cleanup {
    let mut cleanup = crate::support::Cleanup::new(engine);
    let name = cleanup.add(&unique("imguser"));
    let r = sh(Cmd::new(engine)
        .args(["create", "--name", &name, "--network", "none"])
        .args(crate::support::labels())
        .args([image, "/hello.txt"]));
    assert_eq!(r.code, 0, "{engine}: {r:?}");
    cleanup
}

#[test]
fn import_tag_inspect_save_load_and_remove_round_trip() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let dir = tempfile::tempdir().unwrap();
        let tar = rootfs_tar(dir.path());
        let name = objs.image(&format!("{}:1", unique("img")));
        let other = objs.image(&format!("{}:2", unique("img")));

        let mut args = vec![
            "import".to_string(),
            tar.display().to_string(),
            name.clone(),
        ];
        args.extend(import_changes());
        let r = dockhand_on(engine, &args);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let id = r.stdout.trim().to_string();
        assert!(
            id.starts_with("sha256:") && id.len() == 71,
            "{engine}: full id, got {id:?}"
        );

        assert_eq!(
            dockhand_on(engine, ["image-exists", &name]).code,
            0,
            "{engine}"
        );
        let r = dockhand_on(engine, ["tag", &name, &other]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");

        let r = dockhand_on(engine, ["--json", "image", "inspect", &name, &other]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let images = r.json();
        assert_eq!(
            images.as_array().unwrap().len(),
            2,
            "{engine}: one inspect, two names"
        );
        for i in images.as_array().unwrap() {
            assert_eq!(i["id"], id.as_str(), "{engine}");
            assert_eq!(
                i["labels"][OWNER_LABEL],
                std::process::id().to_string(),
                "{engine}"
            );
            assert!(i["tags"].as_array().unwrap().len() >= 2, "{engine}: {i}");
            assert!(i["size"].as_u64().unwrap() > 0);
        }

        let owner = format!("label={OWNER_LABEL}={}", std::process::id());
        let r = dockhand_on(engine, ["--json", "images", "--filter", &owner]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == id.as_str()),
            "{engine}: {}",
            r.stdout
        );

        // save twice to the same path: the second replaces the first (podman
        // alone refuses an existing file).
        let archive = dir.path().join("images.tar");
        for _ in 0..2 {
            let r = dockhand_on(
                engine,
                ["save", &name, &other, "-o", archive.to_str().unwrap()],
            );
            assert_eq!(r.code, 0, "{engine}: {r:?}");
        }
        // Removing the image itself while a container uses it: a conflict, exit 5.
        let user = objs_container(engine, &name);
        let r = dockhand_on(engine, ["rmi", &id]);
        assert_eq!(r.code, 5, "{engine}: {r:?}");
        drop(user);

        let r = dockhand_on(
            engine,
            ["rmi", &name, &other, "dockhand-test/never-existed:1"],
        );
        assert_eq!(
            r.code, 0,
            "{engine}: a missing image counts as removed: {r:?}"
        );
        assert_eq!(
            dockhand_on(engine, ["image-exists", &name]).code,
            3,
            "{engine}"
        );

        let r = dockhand_on(engine, ["--json", "load", "-i", archive.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let loaded = r.json()["loaded"].as_array().unwrap().len();
        assert_eq!(loaded, 2, "{engine}: {}", r.stdout);
        assert_eq!(
            dockhand_on(engine, ["image-exists", &other]).code,
            0,
            "{engine}"
        );
    }
}

#[test]
fn inspect_of_found_and_missing_prints_the_found_and_exits_3() {
    for engine in engines() {
        let r = dockhand_on(
            engine,
            [
                "--json",
                "image",
                "inspect",
                crate::support::IMAGE,
                "dockhand-test/never-existed:1",
            ],
        );
        assert_eq!(r.code, 3, "{engine}: {r:?}");
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{engine}");
        let err = r.json_error();
        assert_eq!(err["error"]["kind"], "not_found", "{engine}: {err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("never-existed"),
            "{err}"
        );
        let r = dockhand_on(engine, ["image-exists", "dockhand-test/never-existed:1"]);
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (3, "", ""),
            "{engine}"
        );
    }
}

#[test]
fn bad_references_exit_2_before_any_engine_runs() {
    // A missing engine would exit 127: 2 proves nothing was run.
    for args in [
        vec!["image", "inspect", "Busybox"],
        vec!["rmi", "a;reboot"],
        vec![
            "tag",
            "busybox",
            "x@sha256:0123456789abcdef0123456789abcdef",
        ],
        vec!["pull", "--platform", "linux", "busybox"],
        vec!["import", "/nonexistent.tar", "x:1"],
        vec!["save", "--output", "/tmp/x.tar", "--", "-rf"],
        vec!["images", "--filter", "novalue"],
    ] {
        let r = dockhand_on("/nonexistent/engine", &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}

#[test]
fn pull_from_an_unreachable_registry_is_retried_then_classified() {
    // A loopback port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let image = format!("127.0.0.1:{port}/dockhand/none:1");
    for engine in engines() {
        let r = dockhand_on(
            engine,
            [
                "--retries",
                "2",
                "--retry-delay",
                "100ms",
                "--verbose",
                "pull",
                &image,
            ],
        );
        assert_eq!(r.code, 1, "{engine}: {r:?}");
        assert!(
            r.stderr.contains("connection refused"),
            "{engine}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("attempt 1/2 failed"),
            "{engine}: retried: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("attempt 2/2 failed"),
            "{engine}: two attempts only"
        );
        let r = dockhand_on(engine, ["--json", "--retries", "1", "pull", &image]);
        let err = r.json_error();
        assert_eq!(
            (r.code, &err["error"]["kind"]),
            (1, &serde_json::json!("engine_failure")),
            "{engine}: {r:?}"
        );
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&port.to_string()),
            "{err}"
        );
        assert!(
            r.stdout.is_empty(),
            "{engine}: quiet when not on a terminal: {r:?}"
        );
    }
}

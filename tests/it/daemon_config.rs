//! `daemon-config` through the binary, on a temporary file (never the real
//! /etc/docker/daemon.json).

use crate::schemas::assert_valid;
use crate::support::dockhand;
use serde_json::{json, Value};

fn read(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn set_get_unset_keep_unknown_keys_and_say_what_the_daemon_needs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daemon.json");
    std::fs::write(&file, r#"{"x-vendor": {"keep": true}, "debug": false}"#).unwrap();
    let f = file.to_str().unwrap();

    let r = dockhand([
        "--json",
        "daemon-config",
        "--file",
        f,
        "set",
        "debug",
        "true",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["restart"], "reload");
    assert_valid("daemon-config", &r.json());
    assert_eq!(r.json()["changed_keys"], json!(["debug"]));
    assert_eq!(
        read(&dir.path().join("daemon.json.bak")),
        json!({"x-vendor": {"keep": true}, "debug": false})
    );

    let r = dockhand([
        "daemon-config",
        "--file",
        f,
        "set",
        "log-opts",
        r#"{"max-size": "10m", "max-file": "3"}"#,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("restart needed"), "{r:?}");
    let r = dockhand([
        "daemon-config",
        "--file",
        f,
        "set",
        "log-opts.max-file",
        "null",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        read(&file),
        json!({"x-vendor": {"keep": true}, "debug": true, "log-opts": {"max-size": "10m"}})
    );

    let r = dockhand([
        "--json",
        "daemon-config",
        "--file",
        f,
        "get",
        "log-opts.max-size",
    ]);
    assert_eq!((r.code, r.json()), (0, json!("10m")), "{r:?}");
    let r = dockhand(["daemon-config", "--file", f, "get", "registry-mirrors"]);
    assert_eq!(r.code, 3, "not set: {r:?}");

    let r = dockhand(["--json", "daemon-config", "--file", f, "unset", "log-opts"]);
    assert_eq!(
        (r.code, &r.json()["restart"]),
        (0, &json!("restart")),
        "{r:?}"
    );
    let r = dockhand(["--json", "daemon-config", "--file", f, "unset", "log-opts"]);
    assert_eq!(r.json()["changed"], false, "unset twice: {r:?}");
    assert_valid("daemon-config", &r.json());
    assert_eq!(r.json()["restart"], "none");
}

#[test]
fn invalid_values_and_invalid_files_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("daemon.json");
    let f = file.to_str().unwrap();
    let r = dockhand(["daemon-config", "--file", f, "set", "log-driver", "local"]);
    assert_eq!(r.code, 2, "unquoted string: {r:?}");
    assert!(r.stderr.contains("quotes"), "{r:?}");
    assert!(!file.exists(), "nothing written");
    for bad_key in ["a..b", "x y", ""] {
        let r = dockhand(["daemon-config", "--file", f, "set", bad_key, "1"]);
        assert_eq!(r.code, 2, "{bad_key:?}: {r:?}");
    }

    std::fs::write(&file, "{\"debug\": true,\n").unwrap();
    let r = dockhand(["daemon-config", "--file", f, "set", "debug", "false"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("not valid JSON") && r.stderr.contains("refusing"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"debug\": true,\n"
    );
    assert!(!dir.path().join("daemon.json.bak").exists());
}

#[test]
fn a_symlinked_file_is_updated_through_the_link_and_a_symlinked_bak_is_replaced_not_followed() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    // /etc/docker/daemon.json -> /srv/conf/daemon.json, as config managers do.
    let real_dir = dir.path().join("conf");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("daemon.json");
    std::fs::write(&real, r#"{"debug": false}"#).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&real, Some(54_321), Some(54_322)).unwrap();
    let link = dir.path().join("daemon.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    // A `.bak` planted as a symlink to a file that must not be touched.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, real_dir.join("daemon.json.bak")).unwrap();

    let r = dockhand([
        "--json",
        "daemon-config",
        "--file",
        link.to_str().unwrap(),
        "set",
        "debug",
        "true",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced"
    );
    assert_eq!(
        read(&real),
        json!({"debug": true}),
        "the target was not updated"
    );
    let meta = std::fs::metadata(&real).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o777),
        (54_321, 54_322, 0o640)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let bak = real_dir.join("daemon.json.bak");
    assert!(!std::fs::symlink_metadata(&bak)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read(&bak), json!({"debug": false}));
    assert_eq!(std::fs::metadata(&bak).unwrap().mode() & 0o777, 0o640);
}

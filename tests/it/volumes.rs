//! Volumes on the real engines: create (idempotent on both), inspect (one
//! call, partial answers), ls by label, rm (missing = success, in use = 5).

use crate::support::objects::{engines, unique, Objects};
use crate::support::{dockhand_on, sh, Cleanup, IMAGE, OWNER_LABEL};
use dockhand::exec::Cmd;

#[test]
fn create_inspect_list_and_remove() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let name = objs.volume(&unique("vol"));
        let owner = format!("{OWNER_LABEL}={}", std::process::id());
        for _ in 0..2 {
            // The second create finds the first volume (podman alone would fail).
            let r = dockhand_on(
                engine,
                [
                    "--json",
                    "volume",
                    "create",
                    &name,
                    "-l",
                    "dockhand.test=1",
                    "-l",
                    &owner,
                    "-l",
                    "dh.k=a b",
                ],
            );
            assert_eq!(r.code, 0, "{engine}: {r:?}");
            let v = &r.json()[0];
            assert_eq!(v["name"], name.as_str(), "{engine}");
            assert_eq!(v["driver"], "local", "{engine}");
            assert_eq!(v["labels"]["dh.k"], "a b", "{engine}");
            assert!(
                v["mountpoint"].as_str().unwrap().contains(&name),
                "{engine}: {v}"
            );
        }
        let r = dockhand_on(
            engine,
            ["--json", "volume", "inspect", &name, "dh-never-existed-vol"],
        );
        assert_eq!(r.code, 3, "{engine}: {r:?}");
        assert_eq!(r.json().as_array().unwrap().len(), 1, "{engine}");
        assert_eq!(r.json_error()["error"]["kind"], "not_found");

        let filter = format!("label={owner}");
        let r = dockhand_on(engine, ["--json", "volume", "ls", "--filter", &filter]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        assert!(
            r.json()
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["name"] == name.as_str()),
            "{engine}: {}",
            r.stdout
        );

        let r = dockhand_on(engine, ["volume", "rm", &name, "dh-never-existed-vol"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(engine, ["volume", "inspect", &name]);
        assert_eq!(r.code, 3, "{engine}: {r:?}");
    }
}

#[test]
fn removing_a_volume_in_use_exits_5() {
    for engine in engines() {
        let mut objs = Objects::new(engine);
        let mut cleanup = Cleanup::new(engine);
        let name = objs.volume(&unique("vol"));
        let owner = format!("{OWNER_LABEL}={}", std::process::id());
        assert_eq!(
            dockhand_on(
                engine,
                [
                    "volume",
                    "create",
                    &name,
                    "-l",
                    "dockhand.test=1",
                    "-l",
                    &owner
                ]
            )
            .code,
            0
        );
        let c = cleanup.add(&unique("volc"));
        let r = sh(Cmd::new(engine)
            .args([
                "create",
                "--name",
                &c,
                "--network",
                "none",
                "-v",
                &format!("{name}:/data"),
            ])
            .args(crate::support::labels())
            .args([IMAGE, "true"]));
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let r = dockhand_on(engine, ["volume", "rm", &name]);
        assert_eq!(r.code, 5, "{engine}: {r:?}");
        assert!(r.stderr.contains(&name), "{engine}: {r:?}");
    }
}

#[test]
fn bad_names_and_labels_exit_2() {
    for args in [
        vec!["volume", "create", "../etc"],
        vec!["volume", "create", "v", "-l", "novalue"],
        vec!["volume", "rm", "a:b"],
        vec!["volume", "ls", "--filter", "=x"],
    ] {
        let r = dockhand_on("/nonexistent/engine", &args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
}

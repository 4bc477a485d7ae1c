//! `info` on the real engines: one typed shape for docker and podman.

use crate::support::dockhand_on;

#[test]
fn info_has_the_same_shape_on_both_engines() {
    for engine in crate::support::engines() {
        let r = dockhand_on(engine, ["--json", "info"]);
        assert_eq!(r.code, 0, "{engine}: {r:?}");
        let i = r.json();
        assert_eq!(i["engine"], engine, "{engine}");
        for key in [
            "server_version",
            "kernel_version",
            "architecture",
            "storage_driver",
            "root_dir",
            "operating_system",
        ] {
            assert!(
                !i[key].as_str().unwrap_or_default().is_empty(),
                "{engine}: {key} in {i}"
            );
        }
        assert!(i["cpus"].as_u64().unwrap() >= 1, "{engine}");
        assert!(i["memory_bytes"].as_u64().unwrap() > 0, "{engine}");
        assert!(
            ["1", "2"].contains(&i["cgroup_version"].as_str().unwrap()),
            "{engine}"
        );
        assert!(
            i["images"].as_u64().unwrap() >= 1,
            "{engine}: the test image at least"
        );
        assert!(i["containers"]["total"].as_u64().is_some(), "{engine}");
        assert!(i["raw"].is_object(), "{engine}");
        let r = dockhand_on(engine, ["info"]);
        assert!(
            r.code == 0 && r.stdout.contains("storage:"),
            "{engine}: {r:?}"
        );
    }
}

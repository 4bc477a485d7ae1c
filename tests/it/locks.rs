//! The cross-process name locks on the real engines: names too long for a
//! file name, batches larger than the descriptor limit, lock directories
//! someone else controls, and a user without a runtime directory.
//! (Contention itself: reliability.rs; concurrent `link add`: netns.rs.)

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::support::*;
use dockhand::exec::Cmd;

/// A uid (and gid) that no account has; the tests give it directories.
const STRANGER: u32 = 54_321;

/// dockhand with `XDG_RUNTIME_DIR` set to `xdg`.
fn with_runtime_dir(xdg: &Path, args: &[&str]) -> Ran {
    sh(Cmd::new(bin()).args(args).env("XDG_RUNTIME_DIR", xdg))
}

#[test]
fn containers_with_names_of_up_to_253_characters_stop_and_are_removed() {
    let runtime = tempfile::tempdir().unwrap();
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        for len in [234, 253] {
            let mut name = unique("hd-long");
            name.push_str(&"x".repeat(len - name.len()));
            cleanup.add(&name);
            let mut run = vec!["--engine", engine, "run", "-d", "--name", &name];
            let labels = labels();
            run.extend(labels.iter().map(String::as_str));
            run.push(IMAGE);
            run.extend(TRAPPING);
            let r = with_runtime_dir(runtime.path(), &run);
            assert_eq!(r.code, 0, "{engine} run {len}: {r:?}");
            let r = with_runtime_dir(runtime.path(), &["--engine", engine, "stop", &name]);
            assert_eq!(r.code, 0, "{engine} stop {len}: {r:?}");
            let r = with_runtime_dir(runtime.path(), &["--engine", engine, "rm", &name]);
            assert_eq!(r.code, 0, "{engine} rm {len}: {r:?}");
        }
    }
}

#[test]
fn removing_1100_names_works_with_a_descriptor_limit_of_1024() {
    let runtime = tempfile::tempdir().unwrap();
    for engine in engines() {
        let names: Vec<String> = (0..1100).map(|_| unique("hd-batch")).collect();
        let r = sh(Cmd::new("sh")
            .args(["-c", "ulimit -n 1024 && exec \"$@\"", "sh", bin()])
            .args(["--engine", engine, "rm", "-f"])
            .args(&names)
            .env("XDG_RUNTIME_DIR", runtime.path()));
        assert_eq!(r.code, 0, "{engine}: {}", r.stderr);
        assert_eq!(r.stdout.matches(" absent").count(), 1100, "{engine}: {r:?}");
    }
}

/// A runtime directory `top` whose `dockhand` lock directory belongs to
/// `owner` with `mode`, and `top` itself to `top_owner`.
fn lock_dir_of(top: &Path, top_owner: u32, owner: u32, mode: u32) -> std::path::PathBuf {
    let dir = top.join("dockhand");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
    std::os::unix::fs::chown(&dir, Some(owner), Some(owner)).unwrap();
    std::os::unix::fs::chown(top, Some(top_owner), Some(top_owner)).unwrap();
    dir
}

#[test]
fn lock_directories_someone_else_controls_are_ignored_or_refused() {
    assert!(nix::unistd::geteuid().is_root(), "these checks run as root");
    let name = unique("hd-lockdir");
    let rm = ["--engine", "docker", "rm", "-f", name.as_str()];

    // Another user's XDG_RUNTIME_DIR with symlinks planted where lock files go
    // (this version's and the older one-file-per-name layout): root ignores it.
    let theirs = tempfile::tempdir().unwrap();
    let planted = lock_dir_of(theirs.path(), STRANGER, STRANGER, 0o700);
    let victims = tempfile::tempdir().unwrap();
    let targets = [
        victims.path().join("scope"),
        victims.path().join("per-name"),
    ];
    std::os::unix::fs::symlink(&targets[0], planted.join("container-docker.lock")).unwrap();
    std::os::unix::fs::symlink(
        &targets[1],
        planted.join(format!("container-docker-{name}.lock")),
    )
    .unwrap();
    let r = with_runtime_dir(theirs.path(), &rm);
    assert_eq!(r.code, 0, "{r:?}");
    for t in &targets {
        assert!(
            !t.exists(),
            "root followed a planted symlink to {}",
            t.display()
        );
    }

    // Root's own runtime directory, but a lock directory that is not private
    // or not root's: refused before any engine call (exit 4).
    for (owner, mode) in [(0, 0o755), (STRANGER, 0o700)] {
        let top = tempfile::tempdir().unwrap();
        lock_dir_of(top.path(), 0, owner, mode);
        let r = with_runtime_dir(top.path(), &rm);
        assert_eq!(r.code, 4, "owner {owner} mode {mode:o}: {r:?}");
        assert!(r.stderr.contains("refusing the lock directory"), "{r:?}");
    }
}

#[test]
fn a_docker_group_member_without_a_runtime_dir_gets_a_private_lock_dir() {
    let uid = STRANGER + 1;
    let docker_gid = sh(Cmd::new("getent").args(["group", "docker"]))
        .stdout
        .split(':')
        .nth(2)
        .map(str::to_string)
        .expect("a docker group");
    let home = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(home.path(), Some(uid), Some(uid)).unwrap();
    let fallback = format!("/tmp/dockhand-{uid}");
    let _ = std::fs::remove_dir_all(&fallback);
    let name = unique("hd-nouser");
    // cron / `su -c`: no XDG_RUNTIME_DIR, /run/dockhand not writable.
    let r = sh(Cmd::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            &format!("--groups={docker_gid}"),
            "--inh-caps=-all",
            "env",
            "-u",
            "XDG_RUNTIME_DIR",
        ])
        .arg(format!("HOME={}", home.path().display()))
        .args([bin(), "--engine", "docker", "rm", "-f", &name]));
    let made = std::fs::metadata(&fallback);
    let _ = std::fs::remove_dir_all(&fallback);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), format!("{name} absent"));
    let made = made.expect("the per-user lock directory");
    assert_eq!((made.uid(), made.mode() & 0o777), (uid, 0o700));
}

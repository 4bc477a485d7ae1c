//! podman's conmon: where it writes a container's exit code.
//!
//! Each running podman container has a conmon process (its pid is
//! `State.ConmonPid` in `podman inspect`) started with `-c <id>` and
//! `--exit-dir <dir>`: when the container's process ends, conmon writes the
//! exit code, in decimal, to `<dir>/<id>` (atomically, by a rename) at once.
//! podman itself learns of the exit from that file, and its `died` event
//! reaches readers only ~150 ms later (after podman's cleanup and the
//! events file's polling), so a podman exit wait watches the file itself
//! (`exec::FileWatch`). This is conmon's command line, read
//! from `/proc` on this machine: a remote engine's conmon is not here, and
//! the wait then watches events as on docker.

use std::path::PathBuf;

/// The directory conmon writes container `id`'s exit code to (as a file
/// named `id`), from conmon's command line (`/proc/<pid>/cmdline`,
/// NUL-separated): `None` unless it is a conmon of exactly that container
/// with an exit directory.
pub(crate) fn exit_dir(cmdline: &[u8], id: &str) -> Option<PathBuf> {
    let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
    let program = args.next()?;
    if !program.rsplit('/').next()?.starts_with("conmon") {
        return None;
    }
    let (mut cid, mut dir) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_ref() {
            "-c" | "--cid" => cid = args.next(),
            "--exit-dir" => dir = args.next(),
            other => {
                if let Some(v) = other.strip_prefix("--cid=") {
                    cid = Some(v.to_owned().into());
                } else if let Some(v) = other.strip_prefix("--exit-dir=") {
                    dir = Some(v.to_owned().into());
                }
            }
        }
    }
    let dir = PathBuf::from(dir?.into_owned());
    // A container id is hex; anything else would not name one file in the directory.
    let plain = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    (plain && cid?.as_ref() == id && dir.is_absolute()).then_some(dir)
}

/// The exit directory of container `id` whose conmon has pid `conmon_pid`, read
/// from this machine's `/proc`; `None` when that is not its conmon here, or
/// when it sees other mounts than ours (rootless podman's own mount
/// namespace, or one we may not look at): its path could name another file.
pub(crate) fn exit_dir_of(conmon_pid: u32, id: &str) -> Option<PathBuf> {
    let mounts = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
    let theirs = mounts(&conmon_pid.to_string())?;
    if mounts("self")? != theirs {
        return None;
    }
    let cmdline = std::fs::read(format!("/proc/{conmon_pid}/cmdline")).ok()?;
    exit_dir(&cmdline, id)
}

/// The exit code in an exit file's contents (`137`, `0\n`); `None` when it
/// is not one (empty: the file was gone before it was read).
pub(crate) fn exit_code(contents: &[u8]) -> Option<i64> {
    std::str::from_utf8(contents).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// podman 4.3.1's conmon command line on this machine, shortened, as
    /// `/proc` has it (NUL-separated).
    fn cmdline() -> String {
        "/usr/bin/conmon --api-version 1 -c a544 -u a544 -r /usr/bin/runc -n web \
         --exit-dir /run/libpod/exits --full-attach --exit-command /usr/bin/podman \
         --exit-command-arg --tmpdir --exit-command-arg /run/libpod --exit-command-arg container \
         --exit-command-arg cleanup --exit-command-arg a544"
            .split_whitespace()
            .map(|arg| format!("{arg}\0"))
            .collect()
    }

    #[test]
    fn conmons_command_line_names_the_exit_file_of_its_own_container_only() {
        let cmdline = cmdline();
        let found = exit_dir(cmdline.as_bytes(), "a544");
        assert_eq!(found, Some(PathBuf::from("/run/libpod/exits")));
        assert_eq!(
            exit_dir(cmdline.as_bytes(), "a5"),
            None,
            "another container"
        );
        assert_eq!(exit_dir(cmdline.as_bytes(), ""), None);
        let not_conmon = cmdline.replacen("/usr/bin/conmon", "/usr/bin/sleep", 1);
        assert_eq!(exit_dir(not_conmon.as_bytes(), "a544"), None);
        let no_dir = cmdline.replacen("--exit-dir\0/run/libpod/exits\0", "", 1);
        assert_eq!(exit_dir(no_dir.as_bytes(), "a544"), None);
        let joined = "conmon\0--cid=b1\0--exit-dir=/run/user/1000/libpod/tmp/exits\0";
        assert_eq!(
            exit_dir(joined.as_bytes(), "b1"),
            Some(PathBuf::from("/run/user/1000/libpod/tmp/exits"))
        );
        assert_eq!(exit_dir(b"", "a544"), None);
        let climbing = "conmon\0-c\0../x\0--exit-dir\0/run/libpod/exits\0";
        assert_eq!(exit_dir(climbing.as_bytes(), "../x"), None);
    }

    #[test]
    fn only_a_conmon_on_this_machine_counts() {
        // This process is no conmon, and no pid is 0.
        assert_eq!(exit_dir_of(std::process::id(), "a544"), None);
        assert_eq!(exit_dir_of(0, "a544"), None);
    }

    #[test]
    fn an_exit_file_holds_a_decimal_code() {
        assert_eq!(exit_code(b"137"), Some(137));
        assert_eq!(exit_code(b"0\n"), Some(0));
        assert_eq!(exit_code(b"-1"), Some(-1));
        assert_eq!(exit_code(b""), None);
        assert_eq!(exit_code(b"x"), None);
    }
}

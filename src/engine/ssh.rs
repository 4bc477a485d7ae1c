//! ssh options for docker's ssh transport: connection sharing
//! (`ControlMaster`/`ControlPersist`), a key, a connect timeout.
//!
//! docker runs `ssh` from PATH (`ssh -o ConnectTimeout=30 -T -l USER --
//! HOST docker system dial-stdio`) and reads no variable for ssh options,
//! and ssh reads `~/.ssh/config` from the passwd home, not `$HOME`. So
//! dockhand puts a directory of its own first on the engine's PATH, holding
//! a short `ssh` script that drops that directory from PATH again and
//! runs the next `ssh` with dockhand's options first (ssh keeps the first
//! value it sees of an option, so they beat docker's and the user's config).
//! The options reach the script in variables dockhand sets for the engine
//! child only; the script itself never changes, so concurrent dockhand
//! processes share it.
//!
//! A script rather than dockhand itself as a multicall `ssh`: programs that
//! link the library have no dockhand binary to point at, a shell script
//! needs only `/bin/sh`, and a user can read what runs.
//!
//! The directory is private (0700, ours, not a symlink, checked each time):
//! `$DOCKHAND_SSH_DIR`, else `$XDG_RUNTIME_DIR/dockhand-ssh`, else
//! `/tmp/dockhand-ssh-UID`; `bin/ssh` is the script, `mux/` holds the
//! control sockets (`%C`, a hash: the path stays short). podman's ssh client
//! is built in and ignores all of this; under `sudo` the wrapper is not
//! used either (sudo resets PATH).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::exec::quote;

/// How long a shared ssh connection stays open after its last use, by
/// default (Ansible's default too).
pub const DEFAULT_PERSIST: Duration = Duration::from_secs(60);

/// Connection sharing for docker over ssh: the first call to a host opens
/// a master connection, later calls ride it (here: ~52 ms instead of ~280 ms
/// per call, vendor-docs/ssh.md). The master outlives the call by
/// `persist`. While it lives, new sessions reuse it: a host whose sshd
/// stopped, or whose key changed, fails only once it has closed.
///
/// ```
/// use std::time::Duration;
/// let sharing = dockhand::engine::ssh::SshSharing::new(Duration::from_secs(30)).in_dir("/run/user/0/dh");
/// assert_eq!(sharing.persist, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSharing {
    /// How long a master connection stays after its last session.
    pub persist: Duration,
    /// The private directory (`None`: see the module docs).
    pub dir: Option<PathBuf>,
}

impl SshSharing {
    /// Sharing with this `persist` time, in the default directory.
    pub fn new(persist: Duration) -> SshSharing {
        SshSharing { persist, dir: None }
    }

    /// Use `dir` (made 0700 if missing) for the script and sockets.
    #[must_use]
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> SshSharing {
        self.dir = Some(dir.into());
        self
    }
}

/// The ssh options of one engine, as the wrapper takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SshOptions {
    pub(crate) sharing: Option<SshSharing>,
    pub(crate) identity: Option<PathBuf>,
    pub(crate) connect_timeout: Option<Duration>,
}

/// Where the wrapper is and what to tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wrapper {
    /// Goes first on the engine child's PATH.
    pub(crate) bin_dir: PathBuf,
    /// Variables for the engine child (the script reads them).
    pub(crate) env: Vec<(OsString, OsString)>,
}

/// The private directory: the one asked for, else the default.
fn base_dir(asked: Option<&Path>) -> PathBuf {
    if let Some(d) = asked {
        return d.to_path_buf();
    }
    if let Some(d) = std::env::var_os("DOCKHAND_SSH_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("dockhand-ssh"),
        None => PathBuf::from(format!("/tmp/dockhand-ssh-{}", nix::unistd::geteuid())),
    }
}

/// Make `dir` (0700) if missing; refuse one that is not a directory of
/// ours that only we can enter (someone else's in /tmp, a symlink).
fn private_dir(dir: &Path) -> Result<()> {
    let trouble = |why: String| {
        Error::new(
            ErrorKind::PermissionDenied,
            format!("ssh wrapper directory {}: {why}", dir.display()),
        )
    };
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(trouble(e.to_string()).with_source(e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| trouble(e.to_string()))?;
    if !meta.is_dir() {
        return Err(trouble("not a directory (or a symlink)".into()));
    }
    if meta.uid() != nix::unistd::geteuid().as_raw() {
        return Err(trouble(format!("owned by uid {}, not by us", meta.uid())));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(trouble(format!(
            "mode {:o}: others may enter it (want 0700)",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

/// The script (its text depends only on its directory).
fn script(bin_dir: &Path, mux_dir: &Path) -> String {
    let bin = quote(bin_dir.as_os_str());
    let control_path = quote(mux_dir.join("%C").as_os_str());
    format!(
        r#"#!/bin/sh
# Written by dockhand: the `ssh` the docker CLI runs for it (dockhand README,
# "Remote engines"). Runs the next ssh on PATH with dockhand's options first.
[ -z "${{DOCKHAND_SSH_WRAPPED:-}}" ] || {{ echo "dockhand ssh wrapper: no other ssh on PATH" >&2; exit 127; }}
export DOCKHAND_SSH_WRAPPED=1
PATH=${{PATH#{bin}:}}
[ -z "${{DOCKHAND_SSH_PERSIST:-}}" ] || set -- -o ControlMaster=auto -o ControlPath={control_path} -o "ControlPersist=$DOCKHAND_SSH_PERSIST" "$@"
[ -z "${{DOCKHAND_SSH_IDENTITY:-}}" ] || set -- -i "$DOCKHAND_SSH_IDENTITY" -o IdentitiesOnly=yes "$@"
[ -z "${{DOCKHAND_SSH_CONNECT_TIMEOUT:-}}" ] || set -- -o "ConnectTimeout=$DOCKHAND_SSH_CONNECT_TIMEOUT" "$@"
exec ssh "$@"
"#
    )
}

/// Write `path` with `text` (mode 0700) unless it already holds exactly
/// that: a temporary file renamed over it, so a concurrent reader never sees
/// half a script.
fn write_once(path: &Path, text: &str) -> Result<()> {
    // The hosts of a fleet set up their wrappers at once, in threads of one
    // process: the temporary file's name is per process, so they take turns
    // (else one truncated the file another had just renamed, whose `ssh`
    // then failed with ETXTBSY or ran half a script).
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = WRITING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Ok(old) = std::fs::read(path) {
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777);
        if old == text.as_bytes() && mode.ok() == Some(0o700) {
            return Ok(());
        }
    }
    let fail = |e: std::io::Error| {
        Error::new(
            ErrorKind::EngineFailure,
            format!("cannot write {}: {e}", path.display()),
        )
        .with_source(e)
    };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o700)
        .open(&tmp)
        .map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// Set up the wrapper for `options` (nothing to do: `None`).
pub(crate) fn wrapper(options: &SshOptions) -> Result<Option<Wrapper>> {
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    if let Some(s) = &options.sharing {
        env.push((
            "DOCKHAND_SSH_PERSIST".into(),
            format!("{}s", s.persist.as_secs().max(1)).into(),
        ));
    }
    if let Some(key) = &options.identity {
        env.push(("DOCKHAND_SSH_IDENTITY".into(), key.into()));
    }
    if env.is_empty() {
        return Ok(None);
    }
    if let Some(t) = options.connect_timeout {
        env.push((
            "DOCKHAND_SSH_CONNECT_TIMEOUT".into(),
            t.as_secs().max(1).to_string().into(),
        ));
    }
    let base = base_dir(options.sharing.as_ref().and_then(|s| s.dir.as_deref()));
    let (bin_dir, mux_dir) = (base.join("bin"), base.join("mux"));
    for dir in [&base, &bin_dir, &mux_dir] {
        private_dir(dir)?;
    }
    write_once(&bin_dir.join("ssh"), &script(&bin_dir, &mux_dir))?;
    Ok(Some(Wrapper { bin_dir, env }))
}

/// ssh's `ConnectTimeout` for an engine whose commands may take
/// `timeout`: a third of it (docker 28.2 tries a failing ssh connection 3
/// times), 1–30 s.
pub(crate) fn connect_timeout(timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|t| (t / 3).clamp(Duration::from_secs(1), Duration::from_secs(30)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_lives_in_a_private_dir_and_is_written_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dh");
        let options = SshOptions {
            sharing: Some(SshSharing::new(Duration::from_secs(30)).in_dir(&dir)),
            identity: None,
            connect_timeout: connect_timeout(Some(Duration::from_secs(30))),
        };
        let w = wrapper(&options).unwrap().unwrap();
        assert_eq!(w.bin_dir, dir.join("bin"));
        for d in [&dir, &dir.join("bin"), &dir.join("mux")] {
            assert_eq!(std::fs::metadata(d).unwrap().mode() & 0o777, 0o700, "{d:?}");
        }
        let script_path = dir.join("bin/ssh");
        let text = std::fs::read_to_string(&script_path).unwrap();
        assert!(text.contains("ControlMaster=auto"), "{text}");
        assert!(
            text.contains(&format!("{}/mux/%C", dir.display())),
            "{text}"
        );
        assert!(w
            .env
            .contains(&("DOCKHAND_SSH_PERSIST".into(), "30s".into())));
        assert!(w
            .env
            .contains(&("DOCKHAND_SSH_CONNECT_TIMEOUT".into(), "10".into())));
        let before = std::fs::metadata(&script_path).unwrap().modified().unwrap();
        wrapper(&options).unwrap();
        assert_eq!(
            std::fs::metadata(&script_path).unwrap().modified().unwrap(),
            before
        );
    }

    #[test]
    fn the_hosts_of_a_fleet_set_up_one_wrapper_at_once() {
        // Regression: threads of one process shared the temporary file, and
        // one of them failed with "cannot write …/bin/ssh: No such file".
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dh");
        let options = SshOptions {
            sharing: Some(SshSharing::new(Duration::from_secs(30)).in_dir(&dir)),
            identity: None,
            connect_timeout: None,
        };
        std::thread::scope(|s| {
            let all: Vec<_> = (0..16).map(|_| s.spawn(|| wrapper(&options))).collect();
            for t in all {
                assert!(t.join().unwrap().is_ok());
            }
        });
        let text = std::fs::read_to_string(dir.join("bin/ssh")).unwrap();
        assert_eq!(text, script(&dir.join("bin"), &dir.join("mux")));
    }

    #[test]
    fn a_directory_others_can_enter_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("open");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = private_dir(&dir).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.message().contains("0700"), "{e}");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(private_dir(&link).is_err());
    }

    #[test]
    fn no_options_no_wrapper_and_timeouts_are_bounded() {
        assert_eq!(wrapper(&SshOptions::default()).unwrap(), None);
        assert_eq!(
            connect_timeout(Some(Duration::from_millis(500))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            connect_timeout(Some(Duration::from_secs(300))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(connect_timeout(None), None);
    }

    #[test]
    fn the_script_runs_the_next_ssh_with_the_options_first() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dh");
        let options = SshOptions {
            sharing: Some(SshSharing::new(Duration::from_secs(5)).in_dir(&dir)),
            identity: Some("/k".into()),
            connect_timeout: Some(Duration::from_secs(2)),
        };
        let w = wrapper(&options).unwrap().unwrap();
        // A fake "next ssh" that prints its arguments.
        let next = tmp.path().join("next");
        std::fs::create_dir(&next).unwrap();
        std::fs::write(next.join("ssh"), "#!/bin/sh\necho \"$@\"\n").unwrap();
        std::fs::set_permissions(next.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:{}:/usr/bin:/bin", w.bin_dir.display(), next.display());
        let mut cmd = crate::exec::Cmd::new(w.bin_dir.join("ssh"))
            .args(["-T", "box"])
            .env("PATH", &path);
        for (k, v) in &w.env {
            cmd = cmd.env(k, v);
        }
        let out = crate::exec::run(&cmd, &crate::exec::Limits::default()).unwrap();
        let text = out.stdout_text();
        let mux = dir.join("mux/%C");
        assert_eq!(
            text,
            format!(
                "-o ConnectTimeout=2 -i /k -o IdentitiesOnly=yes -o ControlMaster=auto -o ControlPath={} -o ControlPersist=5s -T box",
                mux.display()
            )
        );
    }
}

//! A container's files and image: `cp`, `export` (a snapshot of its
//! filesystem unpacked on the host, safely: see [`untar`](super::untar)),
//! `diff` (what changed in it) and `commit`.

use std::ffi::OsString;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::create::parse_id;
use super::lock_names;
use super::untar::{self, Unpacked};
use super::Containers;
use crate::engine::plan::{Effect, Plan};
use crate::engine::Argv;
use crate::error::{Error, ErrorKind, Result};
use crate::input::{ContainerRef, CopyPath, ImageTag, Word};

/// `cp -- SRC DST`; exactly one side must be in a container.
///
/// ```
/// use dockhand::container::copy_plan;
/// use dockhand::input::CopyPath;
/// let plan = copy_plan(&CopyPath::new("web:/etc/hosts")?, &CopyPath::new("/tmp/hosts")?)?;
/// assert_eq!(plan.args(), ["cp", "--", "web:/etc/hosts", "/tmp/hosts"]);
/// assert!(copy_plan(&CopyPath::new("/a")?, &CopyPath::new("/b")?).is_err());
/// assert!(copy_plan(&CopyPath::new("-")?, &CopyPath::new("web:/x")?).is_err());
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn copy_plan(src: &CopyPath, dst: &CopyPath) -> Result<Plan<()>> {
    if matches!(src, CopyPath::Container(..)) == matches!(dst, CopyPath::Container(..)) {
        return Err(Error::invalid_input(
            "cp copies between the host and a container: exactly one of SRC and DST must be CONTAINER:PATH",
        ));
    }
    for p in [src, dst] {
        if matches!(p, CopyPath::Host(path) if path.as_os_str() == "-") {
            return Err(Error::invalid_input(
                "`-` (a tar stream on stdin/stdout) is not supported by cp: give a path \
                 (`./-` for a file named -)",
            ));
        }
    }
    let word = |p: &CopyPath| -> OsString {
        match p {
            CopyPath::Container(..) => p.to_string().into(),
            CopyPath::Host(path) => path.as_os_str().to_owned(),
        }
    };
    Ok(Plan::write(
        Argv::new("cp").operands([word(src), word(dst)]),
        |_| Ok(()),
    ))
}

/// `export --output=TAR -- NAME`: the container's filesystem as a tar file.
///
/// ```
/// let plan = dockhand::container::export_plan(&"web".parse()?, "/d/x.tar".as_ref());
/// assert_eq!(plan.args(), ["export", "--output=/d/x.tar", "--", "web"]);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn export_plan(target: &ContainerRef, tar: &Path) -> Plan<()> {
    Plan::new(
        Effect::Mutating,
        Argv::new("export")
            .opt_path("--output", Some(tar))
            .operands([target]),
        |o| o.into_result().map(drop),
    )
}

/// Options of [`Containers::commit`].
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `-m`: commit message.
    pub message: Option<Word>,
    /// `-a`: author.
    pub author: Option<Word>,
}

/// `commit -- NAME IMAGE`; yields the new image id as `sha256:<hex>`.
///
/// ```
/// use dockhand::container::{commit_plan, CommitOptions};
/// use dockhand::input::{ContainerRef, ImageTag, Word};
/// use dockhand::EngineKind;
/// let o = CommitOptions { message: Some(Word::new("snapshot").unwrap()), author: None };
/// let plan = commit_plan(EngineKind::Podman, &ContainerRef::new("web").unwrap(), &ImageTag::new("web:snap").unwrap(), &o);
/// assert_eq!(plan.args(), ["commit", "--format=docker", "--message=snapshot", "--", "web", "web:snap"]);
/// ```
pub fn commit_plan(
    kind: crate::EngineKind,
    target: &ContainerRef,
    image: &ImageTag,
    opts: &CommitOptions,
) -> Plan<String> {
    let args = Argv::new("commit")
        .args(
            opts.message
                .is_some()
                .then_some(kind.quirks().commit_message_args)
                .into_iter()
                .flatten(),
        )
        .opt("--message", opts.message.as_ref())
        .opt("--author", opts.author.as_ref())
        .operands([target.as_str(), image.as_str()]);
    Plan::write(args, |out| {
        if out.dry_run {
            return Ok(String::new());
        }
        let id = parse_id(&out.stdout)?;
        Ok(match id.starts_with("sha256:") {
            true => id,
            false => format!("sha256:{id}"),
        })
    })
    // A second commit would make a second image.
    .no_retry()
}

/// One path of a container's filesystem that differs from its image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Change {
    /// The path inside the container.
    pub path: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChangeKind {
    /// Added (`A`).
    Added,
    /// Changed (`C`).
    Changed,
    /// Deleted (`D`).
    Deleted,
}

impl ChangeKind {
    /// docker's and podman's letter: `A`, `C` or `D`.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// `diff -- NAME`: the `A|C|D PATH` lines both engines print, sorted by path
/// (the two docker CLIs print them in different orders). A container that
/// was never started has no changes.
///
/// ```
/// use dockhand::container::{diff_plan, ChangeKind};
/// let plan = diff_plan(&"web".parse()?);
/// assert_eq!(plan.args(), ["diff", "--", "web"]);
/// let changes = dockhand::testing::replay_ok(dockhand::EngineKind::Docker, plan, b"C /etc\nA /etc/new file\n")?;
/// assert_eq!((changes[1].kind, changes[1].path.as_str()), (ChangeKind::Added, "/etc/new file"));
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn diff_plan(target: &ContainerRef) -> Plan<Vec<Change>> {
    Plan::read(Argv::new("diff").operands([target]), |out| {
        let text = out.stdout_text();
        let mut changes = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let kind = match line.split_once(' ') {
                    Some(("A", _)) => ChangeKind::Added,
                    Some(("C", _)) => ChangeKind::Changed,
                    Some(("D", _)) => ChangeKind::Deleted,
                    _ => {
                        return Err(Error::parse(
                            format!("unexpected diff line {line:?}"),
                            &out.stdout,
                        ))
                    }
                };
                Ok(Change {
                    path: line[2..].to_string(),
                    kind,
                })
            })
            .collect::<Result<Vec<Change>>>()?;
        changes.sort();
        Ok(changes)
    })
}

impl Containers<'_> {
    /// What changed in a container's filesystem since it was created from
    /// its image, sorted by path.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// for c in Engine::detect()?.containers().diff(&ContainerRef::new("web")?)? {
    ///     println!("{} {}", c.kind.letter(), c.path);
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn diff(&self, target: &ContainerRef) -> Result<Vec<Change>> {
        self.engine.run(diff_plan(target))
    }

    /// Copy between the host and a container (`CONTAINER:PATH` on one side);
    /// copying into a container takes its lock.
    ///
    /// ```no_run
    /// use dockhand::{input::CopyPath, Engine};
    /// Engine::detect()?.containers().copy(&CopyPath::new("web:/etc/hosts")?, &CopyPath::new("/tmp/hosts")?)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn copy(&self, src: &CopyPath, dst: &CopyPath) -> Result<()> {
        let plan = copy_plan(src, dst)?;
        let target = match dst {
            CopyPath::Container(c, _) => Some(c),
            CopyPath::Host(_) => None,
        };
        let _locks = lock_names(self.engine, target)?;
        self.engine.run(plan)
    }

    /// Unpack a snapshot of the container's filesystem into `dir` (created
    /// when missing): `export` to a temporary tar inside `dir`, removed
    /// before anything is unpacked (read through a descriptor kept open), then
    /// unpacked by dockhand itself — without owners, setuid/setgid bits,
    /// device nodes or FIFOs, and never outside `dir` (see
    /// [`untar`]). Says what was left out.
    ///
    /// ```no_run
    /// use dockhand::{input::ContainerRef, Engine};
    /// let report = Engine::detect()?.containers().export(&ContainerRef::new("web")?, std::path::Path::new("/tmp/web-fs"))?;
    /// for s in &report.skipped { eprintln!("skipped {} ({})", s.path, s.reason); }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn export(&self, target: &ContainerRef, dir: &Path) -> Result<Unpacked> {
        let io = |what: &str, e: std::io::Error| {
            Error::new(
                ErrorKind::EngineFailure,
                format!("cannot {what} {}: {e}", dir.display()),
            )
            .with_source(e)
        };
        std::fs::create_dir_all(dir).map_err(|e| io("create", e))?;
        // Same filesystem as the destination; never part of the archive.
        let tar = tempfile::Builder::new()
            .prefix(".dockhand-export-")
            .suffix(".tar")
            .tempfile_in(dir)
            .map_err(|e| io("write a temporary file in", e))?;
        self.engine.run(export_plan(target, tar.path()))?;
        if self.engine.is_dry_run() {
            return Ok(Unpacked::default());
        }
        // The engine may have replaced the file (written beside it, renamed).
        let exported = std::os::unix::fs::OpenOptionsExt::custom_flags(
            std::fs::OpenOptions::new().read(true),
            nix::libc::O_NOFOLLOW,
        )
        .open(tar.path())
        .map_err(|e| io("read the exported archive in", e))?;
        let mut archive = std::io::BufReader::new(exported);
        drop(tar);
        let root = std::fs::File::open(dir).map_err(|e| io("open", e))?;
        untar::unpack(&mut archive, &root).map_err(|e| io("unpack the exported archive into", e))
    }

    /// Commit a container's filesystem to an image; its id.
    ///
    /// ```no_run
    /// use dockhand::{container::CommitOptions, input::*, Engine};
    /// let id = Engine::detect()?.containers().commit(&ContainerRef::new("web")?, &ImageTag::new("web:snap")?, &CommitOptions::default())?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn commit(
        &self,
        target: &ContainerRef,
        image: &ImageTag,
        opts: &CommitOptions,
    ) -> Result<String> {
        self.engine
            .run(commit_plan(self.engine.kind(), target, image, opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_writes_to_a_file() {
        let e = export_plan(&ContainerRef::new("web").unwrap(), Path::new("/d/.x.tar"));
        assert_eq!(e.args(), ["export", "--output=/d/.x.tar", "--", "web"]);
    }

    #[test]
    fn docker_commit_needs_no_format_flag() {
        let o = CommitOptions {
            message: Some(Word::new("m").unwrap()),
            author: Some(Word::new("me <me@x>").unwrap()),
        };
        let plan = commit_plan(
            crate::EngineKind::Docker,
            &ContainerRef::new("web").unwrap(),
            &ImageTag::new("web:1").unwrap(),
            &o,
        );
        assert_eq!(
            plan.args(),
            [
                "commit",
                "--message=m",
                "--author=me <me@x>",
                "--",
                "web",
                "web:1"
            ]
        );
    }
}

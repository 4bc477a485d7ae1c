//! Unpacking an exported container filesystem (a tar stream from the
//! engine) on the host — content the container controlled, unpacked by a
//! process that is often root. So, unlike `docker cp` or a plain `tar -x`:
//!
//! * no owners: every file belongs to whoever runs dockhand;
//! * no setuid or setgid bits (the other permission bits and a directory's
//!   sticky bit are kept);
//! * no device nodes and no FIFOs: they are skipped and reported;
//! * nothing outside the target: `..` components and absolute names are
//!   refused, every directory on the way is entered relative to its parent
//!   with `O_NOFOLLOW` (an entry beneath a symlink is refused, so a symlink
//!   planted by an earlier entry is never written through), files are
//!   created fresh with `O_EXCL|O_NOFOLLOW` after removing what was there,
//!   and a hard link may only name an entry inside the target. Symlinks are
//!   created as they were (their text, absolute or not, is the snapshot's;
//!   nothing here follows them).
//!
//! Formats: ustar with GNU long names/links and PAX `path`/`linkpath`/
//! `size` records (what docker's and podman's Go `archive/tar` writes).

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fchmod, mkdirat, Mode};
use nix::sys::time::TimeSpec;
use nix::unistd::{linkat, symlinkat, unlinkat, UnlinkatFlags};
use serde::Serialize;

/// An entry that was not unpacked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Skipped {
    /// The entry's name in the archive.
    pub path: String,
    /// Why: `character device`, `block device`, `FIFO`, `outside the target` …
    pub reason: String,
}

/// What unpacking did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Unpacked {
    /// Entries unpacked (files, directories, links).
    pub entries: usize,
    /// Entries left out.
    pub skipped: Vec<Skipped>,
    /// Entries whose setuid/setgid bits were dropped.
    pub setid_dropped: usize,
}

/// One header's meaning, with the long name/link and PAX overrides applied.
struct Entry {
    name: Vec<u8>,
    link: Vec<u8>,
    kind: u8,
    mode: u32,
    size: u64,
    mtime: i64,
}

/// Unpack the tar stream `archive` into the directory `root`.
pub fn unpack(archive: &mut impl Read, root: &File) -> io::Result<Unpacked> {
    let mut report = Unpacked::default();
    let mut dirs: Vec<(Vec<Vec<u8>>, u32, i64)> = Vec::new();
    let (mut long_name, mut long_link): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
    let mut block = [0u8; 512];
    loop {
        if !read_block(archive, &mut block)? || block.iter().all(|&b| b == 0) {
            break;
        }
        let mut e = parse_header(&block)?;
        match e.kind {
            b'L' | b'K' | b'x' | b'g' => {
                let data = read_data(archive, e.size)?;
                match e.kind {
                    b'L' => long_name = Some(trim_nul(&data).to_vec()),
                    b'K' => long_link = Some(trim_nul(&data).to_vec()),
                    b'x' => pax = parse_pax(&data),
                    _ => {} // global PAX records: nothing we use
                }
                continue;
            }
            _ => {}
        }
        if let Some(n) = long_name.take() {
            e.name = n;
        }
        if let Some(l) = long_link.take() {
            e.link = l;
        }
        for (key, value) in std::mem::take(&mut pax) {
            match key.as_str() {
                "path" => e.name = value,
                "linkpath" => e.link = value,
                "size" => {
                    e.size = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(e.size)
                }
                "mtime" => {
                    let secs = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|v| v.split('.').next()?.parse().ok());
                    e.mtime = secs.unwrap_or(e.mtime);
                }
                _ => {}
            }
        }
        let has_data = matches!(e.kind, b'0' | 0 | b'7');
        let outcome = place(root, &e, archive, &mut dirs, &mut report);
        if has_data && outcome.as_ref().map_or(true, |placed| !placed) {
            skip_data(archive, e.size)?;
        } else if has_data {
            skip_padding(archive, e.size)?;
        }
        if let Err(why) = outcome {
            report.skipped.push(Skipped {
                path: String::from_utf8_lossy(&e.name).into_owned(),
                reason: why,
            });
        }
    }
    // Directory modes last (deepest first): a read-only directory must not
    // stop its own entries from being written.
    dirs.sort_by_key(|(path, _, _)| std::cmp::Reverse(path.len()));
    for (path, mode, mtime) in dirs {
        if let Ok(dir) = walk(root, &path, false) {
            let _ = fchmod(dir.as_raw_fd(), Mode::from_bits_truncate(mode));
            let t = TimeSpec::new(mtime, 0);
            let _ = nix::sys::stat::futimens(dir.as_raw_fd(), &t, &t);
        }
    }
    Ok(report)
}

/// Put one entry in place. `Ok(true)`: its data was consumed; `Ok(false)`:
/// nothing to consume or skipped; `Err(why)`: not unpacked.
fn place(
    root: &File,
    e: &Entry,
    archive: &mut impl Read,
    dirs: &mut Vec<(Vec<Vec<u8>>, u32, i64)>,
    report: &mut Unpacked,
) -> Result<bool, String> {
    let reason = match e.kind {
        b'3' => Some("character device"),
        b'4' => Some("block device"),
        b'6' => Some("FIFO"),
        b'0' | 0 | b'7' | b'1' | b'2' | b'5' => None,
        _ => Some("unsupported entry type"),
    };
    if let Some(why) = reason {
        return Err(why.to_string());
    }
    let parts = components(&e.name).ok_or("outside the target")?;
    let Some((leaf, parents)) = parts.split_last() else {
        return Ok(false); // the root itself
    };
    let parent = walk(root, parents, true).map_err(|why| why.to_string())?;
    let p = parent.as_raw_fd();
    let leaf = OsStr::from_bytes(leaf);
    let mode = e.mode & 0o7777;
    if mode & 0o6000 != 0 {
        report.setid_dropped += 1;
    }
    let fail = |what: &str, err: Errno| format!("cannot {what}: {err}");
    match e.kind {
        b'5' => {
            match mkdirat(Some(p), leaf, Mode::S_IRWXU) {
                Ok(()) => {}
                Err(Errno::EEXIST) if is_dir(p, leaf) => {}
                Err(Errno::EEXIST) => {
                    unlinkat(Some(p), leaf, UnlinkatFlags::NoRemoveDir)
                        .map_err(|er| fail("replace", er))?;
                    mkdirat(Some(p), leaf, Mode::S_IRWXU)
                        .map_err(|er| fail("create the directory", er))?;
                }
                Err(er) => return Err(fail("create the directory", er)),
            }
            dirs.push((parts.clone(), mode & 0o1777, e.mtime));
            report.entries += 1;
            Ok(false)
        }
        b'2' => {
            remove_leaf(p, leaf).map_err(|er| fail("replace", er))?;
            symlinkat(OsStr::from_bytes(&e.link), Some(p), leaf)
                .map_err(|er| fail("create the symlink", er))?;
            report.entries += 1;
            Ok(false)
        }
        b'1' => {
            let source = components(&e.link).ok_or("a hard link to outside the target")?;
            let (src_leaf, src_parents) = source
                .split_last()
                .ok_or("a hard link to the target itself")?;
            let src_dir =
                walk(root, src_parents, false).map_err(|why| format!("hard link source: {why}"))?;
            remove_leaf(p, leaf).map_err(|er| fail("replace", er))?;
            linkat(
                Some(src_dir.as_raw_fd()),
                OsStr::from_bytes(src_leaf),
                Some(p),
                leaf,
                nix::fcntl::AtFlags::empty(),
            )
            .map_err(|er| fail("create the hard link", er))?;
            report.entries += 1;
            Ok(false)
        }
        _ => {
            remove_leaf(p, leaf).map_err(|er| fail("replace", er))?;
            let fd = openat(
                Some(p),
                leaf,
                OFlag::O_WRONLY
                    | OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC,
                Mode::S_IRUSR | Mode::S_IWUSR,
            )
            .map_err(|er| fail("create the file", er))?;
            // SAFETY: `openat` returned a new descriptor nothing else owns.
            let mut file = unsafe { File::from_raw_fd(fd) };
            let copied = io::copy(&mut archive.take(e.size), &mut file)
                .map_err(|er| format!("cannot write: {er}"))?;
            if copied != e.size {
                return Err("the archive ends inside this file".into());
            }
            let _ = fchmod(file.as_raw_fd(), Mode::from_bits_truncate(mode & 0o777));
            let t = TimeSpec::new(e.mtime, 0);
            let _ = nix::sys::stat::futimens(file.as_raw_fd(), &t, &t);
            report.entries += 1;
            Ok(true)
        }
    }
}

/// The name's components without `.` and empty ones (a leading `/` is
/// dropped: names are relative to the target); `None` with a `..`.
fn components(name: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut parts = Vec::new();
    for c in name.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return None,
            c => parts.push(c.to_vec()),
        }
    }
    Some(parts)
}

/// The directory at `path` below `root`, each step entered with
/// `O_NOFOLLOW` (and made, 0700, when missing and `create`).
fn walk(root: &File, path: &[Vec<u8>], create: bool) -> Result<OwnedFd, &'static str> {
    let mut dir = root
        .try_clone()
        .map(OwnedFd::from)
        .map_err(|_| "cannot open the target")?;
    for part in path {
        let part = OsStr::from_bytes(part);
        let open = |d: &OwnedFd| {
            openat(
                Some(d.as_raw_fd()),
                part,
                OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
        };
        let fd = match open(&dir) {
            Err(Errno::ENOENT) if create => {
                mkdirat(Some(dir.as_raw_fd()), part, Mode::S_IRWXU)
                    .map_err(|_| "cannot create a parent directory")?;
                open(&dir)
            }
            other => other,
        };
        let fd = fd.map_err(|e| match e {
            Errno::ELOOP | Errno::ENOTDIR => "beneath a symlink or a file (not followed)",
            _ => "a parent directory cannot be opened",
        })?;
        // SAFETY: `openat` returned a new descriptor nothing else owns.
        dir = unsafe { OwnedFd::from_raw_fd(fd) };
    }
    Ok(dir)
}

fn is_dir(parent: i32, leaf: &OsStr) -> bool {
    nix::sys::stat::fstatat(Some(parent), leaf, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|s| s.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR)
}

/// Remove a non-directory at `leaf`, if any (never what it points to).
fn remove_leaf(parent: i32, leaf: &OsStr) -> Result<(), Errno> {
    match unlinkat(Some(parent), leaf, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

fn parse_header(block: &[u8; 512]) -> io::Result<Entry> {
    let stored = octal(&block[148..156]).ok_or_else(|| bad("a header checksum is not a number"))?;
    let sum: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(b)
            }
        })
        .sum();
    if sum != stored {
        return Err(bad("a header checksum does not match (not a tar archive?)"));
    }
    let mut name = trim_nul(&block[0..100]).to_vec();
    if &block[257..262] == b"ustar" && block[345] != 0 {
        let mut full = trim_nul(&block[345..500]).to_vec();
        full.push(b'/');
        full.extend_from_slice(&name);
        name = full;
    }
    Ok(Entry {
        name,
        link: trim_nul(&block[157..257]).to_vec(),
        kind: block[156],
        mode: octal(&block[100..108]).unwrap_or(0o644) as u32,
        size: number(&block[124..136]).ok_or_else(|| bad("an entry size is not a number"))?,
        mtime: number(&block[136..148]).map_or(0, |t| t as i64),
    })
}

/// A numeric field: octal text, or base-256 when the high bit is set.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..]
            .iter()
            .try_fold(u64::from(field[0] & 0x7f), |n, &b| {
                n.checked_mul(256).map(|n| n + u64::from(b))
            });
    }
    octal(field)
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(trim_nul(field)).ok()?.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

fn trim_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// PAX records `LEN KEY=VALUE\n`.
fn parse_pax(mut data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut records = Vec::new();
    while let Some(space) = data.iter().position(|&b| b == b' ') {
        let Some(len) = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|l| l.parse::<usize>().ok())
        else {
            break;
        };
        if len <= space + 1 || len > data.len() {
            break;
        }
        let record = &data[space + 1..len - 1];
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            let key = String::from_utf8_lossy(&record[..eq]).into_owned();
            records.push((key, record[eq + 1..].to_vec()));
        }
        data = &data[len..];
    }
    records
}

/// Fill `block`; false at a clean end of the stream.
fn read_block(r: &mut impl Read, block: &mut [u8; 512]) -> io::Result<bool> {
    let mut got = 0;
    while got < 512 {
        match r.read(&mut block[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(bad("the archive ends inside a header")),
            n => got += n,
        }
    }
    Ok(true)
}

fn read_data(r: &mut impl Read, size: u64) -> io::Result<Vec<u8>> {
    if size > 16 << 20 {
        return Err(bad("a long name or PAX header over 16 MiB"));
    }
    let mut data = Vec::new();
    r.take(size).read_to_end(&mut data)?;
    skip_padding(r, size)?;
    Ok(data)
}

fn skip_data(r: &mut impl Read, size: u64) -> io::Result<()> {
    io::copy(&mut r.take(size), &mut io::sink())?;
    skip_padding(r, size)
}

fn skip_padding(r: &mut impl Read, size: u64) -> io::Result<()> {
    let pad = (512 - size % 512) % 512;
    io::copy(&mut r.take(pad), &mut io::sink())?;
    Ok(())
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One ustar header (and data) as Go's archive/tar writes it.
    fn entry(name: &str, kind: u8, link: &str, data: &[u8]) -> Vec<u8> {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000755");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        let mut out = h.to_vec();
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out
    }

    #[test]
    fn hostile_names_and_links_stay_inside_the_target() {
        let top = tempfile::tempdir().unwrap();
        let (target, outside) = (top.path().join("t"), top.path().join("outside"));
        std::fs::create_dir_all(&target).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let out = outside.to_str().unwrap();
        let mut tar = Vec::new();
        tar.extend(entry("../evil", b'0', "", b"x"));
        tar.extend(entry("a/../../evil2", b'0', "", b"x"));
        tar.extend(entry("/abs", b'0', "", b"inside"));
        tar.extend(entry("l", b'2', out, b""));
        tar.extend(entry("l/through", b'0', "", b"x"));
        tar.extend(entry("h", b'1', "../../etc/passwd", b""));
        tar.extend(entry("ok/file", b'0', "", b"fine"));
        tar.extend(entry("ok/again", b'1', "ok/file", b""));
        tar.extend([0u8; 1024]);
        let root = File::open(&target).unwrap();
        let report = unpack(&mut tar.as_slice(), &root).unwrap();
        let reasons: Vec<(&str, &str)> = report
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("../evil", "outside the target"),
                ("a/../../evil2", "outside the target"),
                ("l/through", "beneath a symlink or a file (not followed)"),
                ("h", "a hard link to outside the target"),
            ]
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(!top.path().join("evil").exists());
        assert_eq!(
            std::fs::read_to_string(target.join("abs")).unwrap(),
            "inside"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("ok/again")).unwrap(),
            "fine"
        );
        assert_eq!(report.entries, 4);
    }

    #[test]
    fn a_file_over_a_planted_symlink_replaces_the_link_and_garbage_is_an_error() {
        let top = tempfile::tempdir().unwrap();
        let victim = top.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = top.path().join("t");
        std::fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&victim, target.join("f")).unwrap();
        let mut tar = entry("f", b'0', "", b"new");
        tar.extend([0u8; 1024]);
        let root = File::open(&target).unwrap();
        unpack(&mut tar.as_slice(), &root).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(target.join("f")).unwrap(), "new");
        let e = unpack(&mut [7u8; 600].as_slice(), &root).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}

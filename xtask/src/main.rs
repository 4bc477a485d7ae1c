//! `cargo xtask man [DIR]`: dockhand's man pages, generated from the same
//! clap definitions as its `--help` — at release time, not in the binary
//! (whose size is budgeted). DIR defaults to target/man; one page per
//! command: dockhand.1, dockhand-stop.1, dockhand-network-create.1 …
//! scripts/install.sh and scripts/build-static.sh call it.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

// The binary's command line, compiled in as a module: its definitions are
// what the pages describe; its `run` functions are never called here.
#[allow(dead_code, unused_imports)]
#[path = "../../src/cli/mod.rs"]
mod cli;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["man"] => man(&workspace_root().join("target/man")),
        ["man", dir] => man(Path::new(dir)),
        _ => {
            eprintln!("usage: cargo xtask man [DIR]   (default DIR: target/man)");
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn man(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    // The version is dockhand's, not this crate's.
    let mut cmd = cli::Cli::command().version(dockhand_version());
    cmd.build();
    let mut written = 0;
    write_pages(&cmd, "dockhand", dir, &mut written);
    println!("xtask: {written} man pages in {}", dir.display());
}

/// One page for `cmd` (named like `dockhand-network-create`), then its subcommands.
fn write_pages(cmd: &clap::Command, name: &str, dir: &Path, written: &mut usize) {
    let page = cmd.clone().name(name.to_string());
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .expect("render to memory");
    let file = dir.join(format!("{name}.1"));
    std::fs::write(&file, roff).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    *written += 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written);
    }
}

fn dockhand_version() -> &'static str {
    // The root manifest's version line: one source of truth, read at build time.
    let manifest = include_str!("../../Cargo.toml");
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("version in ../Cargo.toml")
}

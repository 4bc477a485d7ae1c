//! The command line's definitions: help snapshots (one per command, so a
//! change of any help text shows in review), and the rules every command
//! follows: an `Examples:` line, value names that say what to type, global
//! options under their own heading, and subcommands built only when invoked.
//!
//! `DOCKHAND_UPDATE_SNAPSHOTS=1 cargo test --bin dockhand help_` rewrites
//! tests/snapshots/help/ after an intended change.

use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use super::Cli;

/// Every command path, parents before children: `["stop"]`, `["network", "create"]`.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = vec![Vec::new()];
    walk(&cmd, &[], &mut out);
    out
}

/// What `dockhand PATH… --help` prints, through the parser main uses (the
/// lean command of startup.rs; the full one gives the same, see below).
fn help_of(path: &[String]) -> String {
    let args = std::iter::once("dockhand")
        .chain(path.iter().map(String::as_str))
        .chain(["--help"])
        .map(std::ffi::OsString::from)
        .collect();
    match super::startup::parse(args) {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.render().to_string(),
        other => panic!("{path:?} --help did not print help: {other:?}"),
    }
}

fn snapshot_file(path: &[String]) -> PathBuf {
    let name = std::iter::once("dockhand")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("-");
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/snapshots/help/{name}.txt"))
}

#[test]
fn help_of_every_command_matches_its_snapshot() {
    let update = std::env::var_os("DOCKHAND_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    let mut expected_files = Vec::new();
    for path in command_paths() {
        let help = help_of(&path);
        let file = snapshot_file(&path);
        expected_files.push(file.clone());
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &help).unwrap();
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(help.as_str()) {
            stale.push(file.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "help changed (DOCKHAND_UPDATE_SNAPSHOTS=1 rewrites, then review the diff): {stale:#?}"
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help");
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().path();
        assert!(
            expected_files.contains(&file),
            "{} belongs to no command: remove it",
            file.display()
        );
    }
}

#[test]
fn the_full_command_prints_the_same_help() {
    for path in command_paths() {
        let args = std::iter::once("dockhand")
            .chain(path.iter().map(String::as_str))
            .chain(["--help"]);
        let full = Cli::try_parse_from(args).unwrap_err().render().to_string();
        assert_eq!(full, help_of(&path), "{path:?}");
    }
}

#[test]
fn every_command_has_examples_and_global_options_apart() {
    for path in command_paths().into_iter().skip(1) {
        let help = help_of(&path);
        let examples = help.split("\nExamples:\n").nth(1).unwrap_or_default();
        assert!(
            examples
                .lines()
                .next()
                .unwrap_or_default()
                .contains("dockhand "),
            "{path:?} has no Examples: line:\n{help}"
        );
        assert!(help.contains("\nGlobal options:\n"), "{path:?}:\n{help}");
        let global = help.split("\nGlobal options:\n").nth(1).unwrap();
        assert!(global.contains("--json"), "{path:?}:\n{help}");
        assert!(
            !help
                .split("\nGlobal options:\n")
                .next()
                .unwrap()
                .contains("--engine"),
            "{path:?}: a global option outside its heading:\n{help}"
        );
    }
}

/// `<LOCK_TIMEOUT>` says which field it fills, not what to type: value
/// names are single words (DURATION, SIZE, N, NAME, KEY=VALUE …).
#[test]
fn value_names_say_what_to_type() {
    let mut cmd = Cli::command();
    cmd.build();
    fn walk(cmd: &clap::Command, bad: &mut Vec<String>) {
        for arg in cmd
            .get_arguments()
            .filter(|a| a.get_action().takes_values())
        {
            for name in arg.get_value_names().unwrap_or_default() {
                if name.contains('_') || name.as_str() == "D" {
                    bad.push(format!("{} --{}: <{name}>", cmd.get_name(), arg.get_id()));
                }
            }
        }
        cmd.get_subcommands().for_each(|s| walk(s, bad));
    }
    let mut bad = Vec::new();
    walk(&cmd, &mut bad);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Startup cost (issue 18): clap builds a subcommand's arguments only when
/// that subcommand is invoked (`#[command(defer = true)]` on each area's
/// enum), so `dockhand --version` does not build 50 commands' options.
#[test]
fn subcommands_are_built_only_when_invoked() {
    let cmd = Cli::command();
    let eager: Vec<&str> = cmd
        .get_subcommands()
        .filter(|s| s.get_arguments().next().is_some() || s.has_subcommands())
        .map(|s| s.get_name())
        .collect();
    assert!(
        eager.is_empty(),
        "add #[command(defer = true)] to the enum of: {eager:?}"
    );
}

#[test]
fn a_misspelt_command_gets_a_suggestion() {
    let e = Cli::try_parse_from(["dockhand", "pul", "x"]).unwrap_err();
    assert!(
        super::parse_error_message(&e).contains("similar subcommands exist: 'push', 'pull'"),
        "{e}"
    );
    let e = Cli::try_parse_from(["dockhand", "stop", "--lock-timeot", "1s", "x"]).unwrap_err();
    assert!(
        super::parse_error_message(&e).contains("--lock-timeout"),
        "{e}"
    );
}

#[test]
fn global_options_parse_before_and_after_the_subcommand() {
    for args in [
        ["dockhand", "--json", "--timeout", "5s", "status", "web"],
        ["dockhand", "status", "web", "--json", "--timeout", "5s"],
    ] {
        let cli = Cli::try_parse_from(args).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.timeout, Some(std::time::Duration::from_secs(5)));
    }
}

/// A deferred command's arguments are built after its about line was set: a
/// doc comment on a flattened struct or nested enum would replace it. The
/// summary in the parent's command list and the command's own `-h` agree.
#[test]
fn each_command_help_starts_with_its_summary_from_the_parent_list() {
    let short_help = |path: &[String]| {
        let args = std::iter::once("dockhand")
            .chain(path.iter().map(String::as_str))
            .chain(["-h"]);
        Cli::try_parse_from(args).unwrap_err().render().to_string()
    };
    for path in command_paths().into_iter().skip(1) {
        let (name, parent) = path.split_last().unwrap();
        let list = short_help(parent);
        let entry = list
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} not listed in {parent:?}:\n{list}"));
        let listed = entry.trim_start()[name.len()..].trim();
        let summary = listed.split(" [alias").next().unwrap();
        assert!(!summary.is_empty(), "{path:?} has no summary");
        let own = short_help(&path);
        assert!(
            own.starts_with(summary),
            "{path:?}: listed as {summary:?}, its own help starts {:?}",
            own.lines().next()
        );
    }
}

/// The defaults dockhand applies itself (not clap) are the ones the help names.
#[test]
fn global_defaults_are_the_ones_the_help_names() {
    let top = Cli::command();
    let help = |long: &str| {
        let arg = top.get_arguments().find(|a| a.get_long() == Some(long));
        arg.and_then(|a| a.get_help()).unwrap().to_string()
    };
    let cli = Cli::try_parse_from(["dockhand", "ps"]).unwrap();
    let g = &cli.global;
    assert!(g.retries.is_none() && g.retry_delay.is_none() && g.parallel.is_none());
    let shown = |d: std::time::Duration| format!("[default: {}s]", d.as_secs());
    let persist = dockhand::engine::ssh::DEFAULT_PERSIST;
    assert!(help("ssh-share").ends_with(&shown(persist)));
    let retry = dockhand::engine::retry::RetryPolicy::default();
    assert!(help("retries").ends_with(&format!("[default: {}]", retry.attempts)));
    assert!(help("retry-delay").ends_with(&shown(retry.initial_delay)));
    let cap = dockhand::exec::DEFAULT_OUTPUT_CAP;
    assert!(help("output-cap").ends_with(&format!("[default: {cap}]")));
    let parallel = dockhand::fleet::DEFAULT_PARALLEL;
    assert!(help("parallel").ends_with(&format!("[default: {parallel}]")));
}

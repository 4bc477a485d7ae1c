//! Building the clap command cheaply (issue 18, docs/bench.md "startup").
//!
//! Two costs dominated `dockhand --version` (callgrind): building the
//! arguments of all ~60 subcommands, and copying the ~13 global options into
//! every one of them (clap's propagation). Each area's enum is
//! `#[command(defer = true)]`, so a subcommand's arguments are built only when
//! it is invoked; and [`parse`] gives clap only the subcommand the arguments
//! name, so the globals are copied once. Whenever the arguments do not plainly
//! name a subcommand (no subcommand, a misspelt one, `help`, an unknown option
//! first) the full command is used, so help, suggestions and errors are the
//! same as the full command's (tests/snapshots/help and cli::tests check it).

use std::ffi::OsString;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Subcommand};

use super::{
    activity, app, build, completions, container, daemon_config, disk, image, link, logs, netns,
    network, registry, system, volume, Cli, Command, Global,
};

/// One area's subcommands (its enum, flattened into [`Command`]): whether it
/// has a subcommand of a name, and how to build them all.
type Area = (fn(&str) -> bool, fn(clap::Command) -> clap::Command);

/// Every area of [`Command`], so that one subcommand is built from its own
/// area's enum, not from all of them (a test checks that every subcommand
/// is found here).
const AREAS: &[Area] = &[
    area::<system::Command>(),
    area::<netns::Command>(),
    area::<link::Command>(),
    area::<image::Command>(),
    area::<registry::Command>(),
    area::<build::Command>(),
    area::<network::Command>(),
    area::<volume::Command>(),
    area::<daemon_config::Command>(),
    area::<container::Command>(),
    area::<logs::Command>(),
    area::<activity::Command>(),
    area::<disk::Command>(),
    area::<app::Command>(),
    area::<completions::Command>(),
];

/// The [`Area`] of the subcommand enum `A`.
const fn area<A: Subcommand>() -> Area {
    (A::has_subcommand, A::augment_subcommands)
}

/// The subcommand `name` (or alias), built from its area alone.
fn subcommand_named(name: &str) -> Option<clap::Command> {
    let (_, augment) = AREAS.iter().find(|(has, _)| has(name))?;
    let area = augment(clap::Command::new("area"));
    let sub = area.find_subcommand(name).cloned();
    // As in `parse`: the rest of the area is not worth freeing.
    std::mem::forget(area);
    sub
}

/// The top level: name, version, about, examples, and the global options.
pub fn top() -> clap::Command {
    let top = clap::Command::new("dockhand")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .after_help(
            "Examples:\n  dockhand run -d --name web -p 8080:80 nginx:1.25\n  \
             [ \"$(dockhand status web)\" = running ] && dockhand --format '{{.state.pid}}' inspect web\n  \
             dockhand --json ps -a\n\n\
             Every command: dockhand COMMAND --help. Exit codes and JSON: README.",
        );
    Global::augment_args(top)
}

/// `top` with every subcommand. The about line is set last: each area's
/// enum would otherwise leave its own doc comment there.
fn with_all_subcommands(top: clap::Command) -> clap::Command {
    Command::augment_subcommands(top).about(env!("CARGO_PKG_DESCRIPTION"))
}

impl CommandFactory for Cli {
    fn command() -> clap::Command {
        with_all_subcommands(top())
    }

    fn command_for_update() -> clap::Command {
        Command::augment_subcommands_for_update(top()).about(env!("CARGO_PKG_DESCRIPTION"))
    }
}

impl FromArgMatches for Cli {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut m.clone())
    }

    fn from_arg_matches_mut(m: &mut ArgMatches) -> Result<Self, clap::Error> {
        Ok(Cli {
            global: Global::from_arg_matches_mut(m)?,
            command: Command::from_arg_matches_mut(m)?,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut m.clone())
    }

    fn update_from_arg_matches_mut(&mut self, m: &mut ArgMatches) -> Result<(), clap::Error> {
        self.global.update_from_arg_matches_mut(m)?;
        self.command.update_from_arg_matches_mut(m)
    }
}

impl clap::Parser for Cli {}

/// Parse `args` (the program name first) with the smallest command that
/// parses them exactly as the full one would.
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = command_for(&args);
    let parsed = cmd
        .try_get_matches_from_mut(args)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
    // Freeing the command tree costs more than building the lean one; the
    // process ends soon and the OS takes the memory back at once.
    std::mem::forget(cmd);
    parsed
}

/// The full command, or the top level with only the subcommand `args` name.
fn command_for(args: &[OsString]) -> clap::Command {
    let top = top();
    match first_word(&top, args) {
        Word::Subcommand(name) if Command::has_subcommand(&name) => {
            let sub = subcommand_named(&name).expect("every area is in AREAS (a test checks it)");
            top.subcommand(sub).about(env!("CARGO_PKG_DESCRIPTION"))
        }
        // `--version` prints before any subcommand is looked at.
        Word::Version => top.about(env!("CARGO_PKG_DESCRIPTION")),
        _ => with_all_subcommands(top),
    }
}

#[derive(Debug, PartialEq)]
enum Word {
    /// The first word that is not a global option or its value.
    Subcommand(String),
    /// `-V`/`--version` before any subcommand.
    Version,
    /// Anything else: no word, `--help`, an unknown option, not UTF-8.
    Other,
}

/// What comes first after the global options (and their values) in `args`.
fn first_word(top: &clap::Command, args: &[OsString]) -> Word {
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        let Some(word) = word.to_str() else {
            return Word::Other;
        };
        if word == "-V" || word == "--version" {
            return Word::Version;
        }
        if !word.starts_with('-') || word == "-" {
            return Word::Subcommand(word.to_string());
        }
        let global = match word.strip_prefix("--") {
            Some(long) if !long.is_empty() => {
                let (name, inline_value) = match long.split_once('=') {
                    Some((name, _)) => (name, true),
                    None => (long, false),
                };
                top.get_arguments()
                    .find(|a| a.get_long() == Some(name))
                    .map(|a| takes_value(a) && !inline_value)
            }
            Some(_) => None, // `--`
            None => {
                // `-H URL` or `-HURL`: a short global with its value.
                let mut shorts = word[1..].chars();
                let first = shorts.next();
                top.get_arguments()
                    .find(|a| a.get_short() == first && first.is_some())
                    .map(|a| takes_value(a) && shorts.as_str().is_empty())
            }
        };
        match global {
            Some(true) => {
                words.next(); // its value
            }
            Some(false) => {}
            None => return Word::Other,
        }
    }
    Word::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(args: &[&str]) -> Word {
        let args: Vec<OsString> = std::iter::once("dockhand")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        first_word(&top(), &args)
    }

    #[test]
    fn the_subcommand_is_found_behind_global_options_and_their_values() {
        let stop = Word::Subcommand("stop".into());
        assert_eq!(first(&["stop", "web"]), stop);
        assert_eq!(first(&["--json", "--timeout", "5s", "stop"]), stop);
        assert_eq!(first(&["--timeout=5s", "-H", "unix:///s", "stop"]), stop);
        assert_eq!(first(&["-Hunix:///s", "--engine", "podman", "stop"]), stop);
        assert_eq!(
            first(&["--verbose", "--verbose", "--dry-run", "stop"]),
            stop
        );
        assert_eq!(first(&["--version"]), Word::Version);
        assert_eq!(first(&["--json", "-V"]), Word::Version);
        for other in [
            &[][..],
            &["--help"],
            &["--nope", "stop"],
            &["--", "stop"],
            &["--timeout"],
        ] {
            assert_eq!(first(other), Word::Other, "{other:?}");
        }
    }

    /// What `Command::has_subcommand` knows (names; aliases go to the full
    /// command) is built from its area, as the full command has it.
    #[test]
    fn every_subcommand_is_built_from_its_area() {
        let full = Cli::command();
        let mut built = 0;
        for sub in full.get_subcommands() {
            for name in std::iter::once(sub.get_name()).chain(sub.get_all_aliases()) {
                let lean = subcommand_named(name);
                assert_eq!(lean.is_some(), Command::has_subcommand(name), "{name}");
                if let Some(lean) = lean {
                    assert_eq!(lean.get_name(), sub.get_name());
                    let about = |c: &clap::Command| c.get_about().map(|a| a.to_string());
                    assert_eq!(about(&lean), about(sub), "{name}");
                    built += 1;
                }
            }
        }
        assert!(built >= full.get_subcommands().count(), "{built}");
        assert!(subcommand_named("no-such-command").is_none());
    }

    /// The lean command parses a command line into the same `Cli` as the
    /// full one, and fails the same way.
    #[test]
    fn lean_and_full_commands_parse_alike() {
        use clap::Parser;
        for line in [
            "dockhand --json stop web --timeout 5s -t 3",
            "dockhand --engine podman --dry-run run -d --name x -e A=1 -p 80:80 img sh -c true",
            "dockhand network create net --subnet 10.9.0.0/24 --json",
            "dockhand stop 'bad name'",
            "dockhand stop --lock-timeot 1s x",
            "dockhand -V",
            "dockhand status",
        ] {
            let args: Vec<OsString> = shlex::split(line)
                .unwrap()
                .into_iter()
                .map(OsString::from)
                .collect();
            let lean = parse(args.clone());
            let full = Cli::try_parse_from(args);
            match (lean, full) {
                (Ok(lean), Ok(full)) => {
                    assert_eq!(format!("{lean:?}"), format!("{full:?}"), "{line}")
                }
                (Err(lean), Err(full)) => {
                    assert_eq!(lean.kind(), full.kind(), "{line}");
                    assert_eq!(
                        lean.render().to_string(),
                        full.render().to_string(),
                        "{line}"
                    );
                }
                (lean, full) => panic!("{line}: lean {lean:?} vs full {full:?}"),
            }
        }
    }
}

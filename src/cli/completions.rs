//! `dockhand completions SHELL`: the shell completion script, generated from
//! the same definitions as the help (clap_complete), so it never drifts.

use clap::{CommandFactory, Subcommand, ValueEnum};
use dockhand::Error;

use super::Cli;

/// The shells `completions` writes a script for.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The completions command.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Print the completion script for SHELL on stdout.
    #[command(
        after_help = "Examples:\n  dockhand completions bash > /etc/bash_completion.d/dockhand\n  dockhand completions zsh > \"${fpath[1]}/_dockhand\"\n  dockhand completions fish > ~/.config/fish/completions/dockhand.fish\n  source <(dockhand completions bash)"
    )]
    Completions {
        /// bash, zsh or fish.
        #[arg(value_enum, value_name = "SHELL")]
        shell: Shell,
    },
}

/// Write the script; returns the exit code.
pub fn run(cmd: Command) -> Result<i32, Error> {
    use std::io::Write;
    let Command::Completions { shell } = cmd;
    use clap_complete::shells;
    // Into a buffer first: clap_complete panics on a write error, and a
    // closed stdout (`| head`) is not worth a panic. The generators by type,
    // not through clap_complete::Shell: that would link the elvish and
    // PowerShell ones too.
    let mut script = Vec::new();
    let (cli, name) = (&mut Cli::command(), "dockhand");
    match shell {
        Shell::Bash => clap_complete::generate(shells::Bash, cli, name, &mut script),
        Shell::Zsh => clap_complete::generate(shells::Zsh, cli, name, &mut script),
        Shell::Fish => clap_complete::generate(shells::Fish, cli, name, &mut script),
    }
    let _ = std::io::stdout().lock().write_all(&script);
    Ok(0)
}

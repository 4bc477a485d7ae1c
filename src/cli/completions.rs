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
    let Command::Completions { shell } = cmd;
    use clap_complete::shells;
    // Straight to stdout, not into a buffer first: the script is 0.4 MB, and
    // a buffer grown to hold it was a fifth of this command's heap. The
    // generators by type, not through clap_complete::Shell: that would link
    // the elvish and PowerShell ones too.
    let mut out = Forgiving {
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        failed: false,
    };
    let (cli, name) = (&mut Cli::command(), "dockhand");
    match shell {
        Shell::Bash => clap_complete::generate(shells::Bash, cli, name, &mut out),
        Shell::Zsh => clap_complete::generate(shells::Zsh, cli, name, &mut out),
        Shell::Fish => clap_complete::generate(shells::Fish, cli, name, &mut out),
    }
    let _ = std::io::Write::flush(&mut out);
    Ok(0)
}

/// A writer that takes every write and stops writing after the first
/// failure: clap_complete panics on a write error, and a closed stdout
/// (`| head`) is not worth a panic.
struct Forgiving<W> {
    out: W,
    failed: bool,
}

impl<W: std::io::Write> std::io::Write for Forgiving<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.failed && self.out.write_all(buf).is_err() {
            self.failed = true;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.failed && self.out.flush().is_err() {
            self.failed = true;
        }
        Ok(())
    }
}

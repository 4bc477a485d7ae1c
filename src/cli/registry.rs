//! `pull`, `push`, `login`, `logout`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::{duration_arg, Global, Out};
use dockhand::exec::Observer;
use dockhand::image::{registry, LoginOptions, Password, PullOptions, PushOptions};
use dockhand::input::{ImageRef, ImageTag, Platform, Registry};
use dockhand::Error;

/// The most of a password read from stdin or a file.
const PASSWORD_CAP: u64 = 64 * 1024;

/// Registry subcommands.
impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it can).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Login { .. } | Command::Logout { .. } => Some(
                "credentials are stored on this machine (the engine CLI's config), not on the hosts: run it once without --hosts/--fleet",
            ),
            _ => None,
        }
    }
}

#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Pull an image (by tag or digest), retrying transient registry failures
    /// (--retries, --retry-delay); prints the digest it got. Progress on a
    /// terminal, quiet otherwise.
    #[command(
        after_help = "Examples:\n  dockhand pull 127.0.0.1:5000/team/app:1.2 --tls-verify=false\n  \
        dockhand --timeout 2m --retries 5 --json pull registry.example.com/app@sha256:<64 hex> --platform linux/arm64"
    )]
    Pull {
        /// Image reference, name[:tag] or name@sha256:….
        image: String,
        /// Platform, e.g. linux/arm64; an image of another platform is refused (exit 3).
        #[arg(long)]
        platform: Option<String>,
        /// Verify the registry's TLS (podman; docker's daemon decides by itself).
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
        tls_verify: Option<bool>,
        /// Time limit of each attempt (default: --timeout when given, else 30m; 0 = none).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        max_time: Option<Duration>,
    },
    /// Push an image, retrying transient registry failures; prints the pushed digest.
    #[command(
        after_help = "Examples:\n  dockhand tag app:1 127.0.0.1:5000/team/app:1 && dockhand push 127.0.0.1:5000/team/app:1 --tls-verify=false"
    )]
    Push {
        /// Image to push, registry/name[:tag].
        image: String,
        /// Verify the registry's TLS (podman; docker's daemon decides by itself).
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
        tls_verify: Option<bool>,
        /// Time limit of each attempt (default: --timeout when given, else 30m; 0 = none).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        max_time: Option<Duration>,
    },
    /// Log in to a registry; the password comes from stdin or a file, never the command line.
    #[command(
        after_help = "Examples:\n  printf %s \"$TOKEN\" | dockhand login registry.example.com -u ci --password-stdin\n  \
        dockhand login 127.0.0.1:5000 -u ci --password-file /run/secrets/registry --tls-verify=false"
    )]
    Login {
        /// Registry, host[:port].
        server: String,
        /// User name.
        #[arg(short, long)]
        username: String,
        /// Read the password from stdin (one trailing newline is dropped).
        #[arg(long, conflicts_with = "password_file")]
        password_stdin: bool,
        /// Read the password from FILE (one trailing newline is dropped).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Verify the registry's TLS (podman; docker's daemon decides by itself).
        #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
        tls_verify: Option<bool>,
    },
    /// Log out of a registry (always name it: docker's own logout defaults to
    /// Docker Hub); not being logged in is success.
    #[command(after_help = "Examples:\n  dockhand logout registry.example.com")]
    Logout {
        /// Registry, host[:port].
        server: String,
    },
}

/// The engine's progress, forwarded to our stderr, when a person watches
/// (never for one host of a fleet: the hosts' progress would interleave).
fn progress(out: &Out) -> Option<Observer> {
    out.is_terminal().then(|| {
        let show: Observer = Arc::new(|_, chunk: &[u8]| {
            let _ = std::io::stderr().write_all(chunk);
        });
        show
    })
}

/// The password from stdin or a file, at most [`PASSWORD_CAP`] bytes.
fn read_password(stdin: bool, file: Option<PathBuf>) -> Result<Password, Error> {
    let mut bytes = Vec::new();
    let read = match (stdin, &file) {
        (true, _) => std::io::stdin().take(PASSWORD_CAP).read_to_end(&mut bytes),
        (false, Some(path)) => std::fs::File::open(path)
            .and_then(|f| f.take(PASSWORD_CAP).read_to_end(&mut bytes)),
        (false, None) => {
            return Err(Error::invalid_input(
                "give the password with --password-stdin or --password-file FILE (never on the command line)",
            ))
        }
    };
    read.map_err(|e| {
        let from = file.map_or("stdin".into(), |p| p.display().to_string());
        Error::invalid_input(format!("cannot read the password from {from}: {e}"))
    })?;
    Password::from_input(bytes)
}

/// Run one registry subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    match cmd {
        Command::Pull {
            image,
            platform,
            tls_verify,
            max_time,
        } => {
            let mut opts = PullOptions::new(ImageRef::new(image)?);
            opts.platform = platform.map(Platform::new).transpose()?;
            opts.tls_verify = tls_verify;
            opts.timeout = global.transfer_timeout(max_time);
            let engine = global.engine()?;
            if engine.is_dry_run() {
                // Nothing is pulled, so there is nothing to inspect.
                return engine
                    .run(registry::pull_plan(engine.kind(), &opts, false))
                    .map(|_| 0);
            }
            let pulled = engine.images().pull(&opts, progress(out).as_ref())?;
            if out.is_json() {
                out.json(&pulled);
            } else {
                out.line(&pulled.reference);
                out.line(format!(
                    "  digest:   {}",
                    pulled.digest.as_deref().unwrap_or("-")
                ));
                out.line(format!("  id:       {}", pulled.image.id));
                out.line(format!(
                    "  platform: {}/{}",
                    pulled.image.os, pulled.image.architecture
                ));
            }
            Ok(0)
        }
        Command::Push {
            image,
            tls_verify,
            max_time,
        } => {
            let mut opts = PushOptions::new(ImageTag::new(image)?);
            opts.tls_verify = tls_verify;
            opts.timeout = global.transfer_timeout(max_time);
            let engine = global.engine()?;
            let pushed = engine.images().push(&opts, progress(out).as_ref())?;
            if engine.is_dry_run() {
            } else if out.is_json() {
                out.json(&pushed);
            } else {
                out.line(&pushed.reference);
                out.line(format!(
                    "  digest:   {}",
                    pushed.digest.as_deref().unwrap_or("-")
                ));
            }
            Ok(0)
        }
        Command::Login {
            server,
            username,
            password_stdin,
            password_file,
            tls_verify,
        } => {
            let server = Registry::new(server)?;
            let password = read_password(password_stdin, password_file)?;
            let mut opts = LoginOptions::new(server, &username, password)?;
            opts.tls_verify = tls_verify;
            global.engine()?.images().login(&opts)?;
            if out.is_json() {
                out.json(
                    &json!({"server": opts.server, "username": opts.username, "logged_in": true}),
                );
            } else {
                out.line(format!("logged in to {} as {}", opts.server, opts.username));
            }
            Ok(0)
        }
        Command::Logout { server } => {
            let server = Registry::new(server)?;
            global.engine()?.images().logout(&server)?;
            if out.is_json() {
                out.json(&json!({"server": server, "logged_out": true}));
            } else {
                out.line(format!("logged out of {server}"));
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn every_registry_subcommand_parses_next_to_the_global_options() {
        for line in [
            "pull a --platform linux/arm64 --tls-verify=false --max-time 5m",
            "pull a --tls-verify",
            "push 127.0.0.1:5000/a:1 --tls-verify=false",
            "login 127.0.0.1:5000 -u ci --password-stdin",
            "login 127.0.0.1:5000 -u ci --password-file /p --tls-verify=false",
            "logout 127.0.0.1:5000",
        ] {
            let argv = std::iter::once("dockhand").chain(line.split(' ')).chain([
                "--context",
                "ctx",
                "--timeout",
                "3s",
            ]);
            let cli =
                crate::cli::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(cli.global.context.as_deref(), Some("ctx"), "{line}");
            assert_eq!(
                cli.global.transfer_timeout(None),
                Some(std::time::Duration::from_secs(3))
            );
        }
        let argv = [
            "dockhand",
            "login",
            "r:1",
            "-u",
            "u",
            "--password-stdin",
            "--password-file",
            "/p",
        ];
        assert!(
            crate::cli::Cli::try_parse_from(argv).is_err(),
            "one source of the password"
        );
    }

    #[test]
    fn transfers_wait_30m_unless_told() {
        let cli = crate::cli::Cli::try_parse_from(["dockhand", "pull", "a"]).unwrap();
        assert_eq!(
            cli.global.command_timeout(),
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            cli.global.transfer_timeout(None),
            Some(dockhand::image::TRANSFER_TIMEOUT)
        );
        assert_eq!(
            cli.global.transfer_timeout(Some(std::time::Duration::ZERO)),
            None
        );
    }
}

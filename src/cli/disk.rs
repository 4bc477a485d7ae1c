//! Disk space: `system df` and `prune containers|images|networks|volumes`.

use clap::{Subcommand, ValueEnum};

use super::activity::human;
use super::{Global, Out};
use dockhand::input::PruneFilter;
use dockhand::prune::{PruneKind, Pruned};
use dockhand::Error;

/// Disk-space subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// The engine itself.
    #[command(after_help = "Examples:\n  dockhand system df")]
    System {
        #[command(subcommand)]
        cmd: SystemCommand,
    },
    /// Remove stopped containers, dangling images, or networks or volumes no
    /// container uses. With --dry-run: list exactly what would go and remove
    /// nothing. Without --yes: asks on a terminal, refuses (exit 2) otherwise.
    #[command(
        after_help = "Examples:\n  dockhand --dry-run prune containers --filter label=app=web\n  dockhand prune images --filter until=24h --yes\n  dockhand --json prune volumes --filter label=app=web --filter label!=keep --yes"
    )]
    Prune {
        /// What to prune.
        kind: KindArg,
        /// label=KEY[=VALUE], label!=KEY[=VALUE], until=TIME (RFC 3339, epoch
        /// seconds, or a duration ago: 24h); repeat to combine (all must hold).
        #[arg(long = "filter", value_name = "FILTER")]
        filters: Vec<PruneFilter>,
        /// Do not ask.
        #[arg(short, long)]
        yes: bool,
    },
}

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it
    /// can); `dry_run`: the global `--dry-run`, which asks nothing.
    pub fn fleet_refusal(&self, dry_run: bool) -> Option<&'static str> {
        match self {
            Command::Prune { yes: false, .. } if !dry_run => {
                Some("`prune` on a fleet needs --yes or --dry-run (no host can ask)")
            }
            _ => None,
        }
    }
}

// `system` subcommands. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum SystemCommand {
    /// Disk use of images, containers, volumes and the build cache, with what
    /// a prune could reclaim (the whole engine's, other users' objects included).
    #[command(after_help = "Examples:\n  dockhand system df\n  dockhand --json system df")]
    Df,
}

/// What `prune` removes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Stopped containers (exited, created; docker: also dead).
    Containers,
    /// Dangling images.
    Images,
    /// Networks without containers.
    Networks,
    /// Volumes no container uses.
    Volumes,
}

impl From<KindArg> for PruneKind {
    fn from(k: KindArg) -> PruneKind {
        match k {
            KindArg::Containers => PruneKind::Containers,
            KindArg::Images => PruneKind::Images,
            KindArg::Networks => PruneKind::Networks,
            KindArg::Volumes => PruneKind::Volumes,
        }
    }
}

/// Run one subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    let engine = global.engine()?;
    match cmd {
        Command::System {
            cmd: SystemCommand::Df,
        } => {
            let usage = engine.system().disk_usage()?;
            match out.is_json() {
                true => out.json(&usage),
                false => {
                    out.line(format!(
                        "{:<12}  {:>6}  {:>6}  {:>10}  {:>11}",
                        "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"
                    ));
                    for u in &usage {
                        out.line(format!(
                            "{:<12}  {:>6}  {:>6}  {:>10}  {:>11}",
                            u.kind.as_str(),
                            u.total,
                            u.active,
                            human(Some(u.size_bytes)),
                            human(Some(u.reclaimable_bytes))
                        ));
                    }
                }
            }
            Ok(0)
        }
        Command::Prune { kind, filters, yes } => {
            let kind = PruneKind::from(kind);
            let pruned = match engine.is_dry_run() || yes {
                // A dry run: the preview is the answer, the prune command goes to stderr.
                true => engine.prune().run(kind, &filters)?,
                false => {
                    let would = engine.prune().preview(kind, &filters)?;
                    if would.objects.is_empty() {
                        would
                    } else {
                        confirm(&would)?;
                        engine.prune().run(kind, &filters)?
                    }
                }
            };
            print_pruned(out, &pruned);
            Ok(0)
        }
    }
}

fn print_pruned(out: &Out, p: &Pruned) {
    if out.is_json() {
        out.json(p);
        return;
    }
    let verb = if p.dry_run { "would remove" } else { "removed" };
    for o in &p.objects {
        let id =
            o.id.as_deref()
                .map(|id| dockhand::decode::json::short_id(id.trim_start_matches("sha256:")));
        match (id, o.name.as_deref()) {
            (Some(id), Some(name)) => out.line(format!("{verb} {id} {name}")),
            (Some(id), None) => out.line(format!("{verb} {id}")),
            (None, Some(name)) => out.line(format!("{verb} {name}")),
            (None, None) => {}
        }
    }
    if let Some(bytes) = p.reclaimed_bytes {
        out.line(format!("reclaimed {}", human(Some(bytes))));
    }
}

/// Without `--yes` a prune asks on a terminal and refuses otherwise.
fn confirm(would: &Pruned) -> Result<(), Error> {
    let summary = format!(
        "prune would remove {} {} (see --dry-run)",
        would.objects.len(),
        would.kind.as_str()
    );
    super::confirm(&summary, "prune")
}

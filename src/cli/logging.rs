//! `--verbose` and `RUST_LOG`: log records to stderr, one line each,
//! `[2026-12-01T23:19:00.123Z DEBUG dockhand::exec] …`.
//!
//! A small logger of our own instead of env_logger (issue 18: its filter
//! parsing showed in the startup profile, and its code in the static
//! binary's size). `RUST_LOG` takes comma-separated `LEVEL` and
//! `TARGET=LEVEL` directives (a bare `TARGET` means trace); the longest
//! matching target prefix wins. Regex filters (`/pattern`) are not supported.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

/// Install the logger: `RUST_LOG` when set, else warnings, and with
/// `--verbose` dockhand's own debug records.
pub fn init(verbose: u8) {
    let spec = std::env::var("RUST_LOG").ok();
    let default = match verbose {
        0 => "warn",
        _ => "dockhand=debug,warn",
    };
    let logger = Stderr::parse(spec.as_deref().unwrap_or(default));
    log::set_max_level(logger.max());
    // Lives as long as the process. Only fails when a logger is already
    // installed: then that one logs.
    let _ = log::set_logger(Box::leak(Box::new(logger)));
}

#[derive(Debug, PartialEq)]
struct Stderr {
    /// `(target prefix, level)`, the catch-all (empty target) included.
    directives: Vec<(String, LevelFilter)>,
}

impl Stderr {
    fn parse(spec: &str) -> Stderr {
        let mut directives = vec![(String::new(), LevelFilter::Error)];
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (target, level) = match part.split_once('=') {
                Some((t, l)) => (t.trim(), l.trim().parse().ok()),
                None => match part.parse::<LevelFilter>() {
                    Ok(level) => ("", Some(level)),
                    Err(_) => (part, Some(LevelFilter::Trace)),
                },
            };
            if let Some(level) = level {
                directives.retain(|(t, _)| t != target);
                directives.push((target.to_string(), level));
            }
        }
        Stderr { directives }
    }

    fn level_for(&self, target: &str) -> LevelFilter {
        self.directives
            .iter()
            .filter(|(t, _)| {
                t.is_empty()
                    || target == t
                    || target
                        .strip_prefix(t.as_str())
                        .is_some_and(|r| r.starts_with("::"))
            })
            .max_by_key(|(t, _)| t.len())
            .map_or(LevelFilter::Error, |(_, l)| *l)
    }

    fn max(&self) -> LevelFilter {
        self.directives
            .iter()
            .map(|(_, l)| *l)
            .max()
            .unwrap_or(LevelFilter::Error)
    }
}

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level_for(metadata.target())
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            // After the host's name in a fleet run.
            let host = super::fleet::current_host()
                .map(|h| h + ": ")
                .unwrap_or_default();
            let _ = writeln!(
                std::io::stderr().lock(),
                "{host}[{} {:<5} {}] {}",
                utc_now(),
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// The current time as RFC 3339 UTC with milliseconds.
fn utc_now() -> String {
    let mut t = dockhand::decode::time::Timestamp::now().to_rfc3339();
    // "2026-12-01T23:19:00.123456789Z" → "2026-12-01T23:19:00.123Z"
    t.replace_range(23.., "Z");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_directives_pick_the_longest_matching_target() {
        let l = Stderr::parse("warn,dockhand=debug,dockhand::exec=trace");
        assert_eq!(l.level_for("dockhand::exec::spawn"), LevelFilter::Trace);
        assert_eq!(l.level_for("dockhand::engine"), LevelFilter::Debug);
        assert_eq!(l.level_for("dockhand"), LevelFilter::Debug);
        assert_eq!(l.level_for("dockhandx"), LevelFilter::Warn);
        assert_eq!(l.level_for("clap"), LevelFilter::Warn);
        assert_eq!(l.max(), LevelFilter::Trace);
        assert_eq!(Stderr::parse("debug").level_for("any"), LevelFilter::Debug);
        assert_eq!(
            Stderr::parse("dockhand").level_for("dockhand::x"),
            LevelFilter::Trace
        );
        assert_eq!(Stderr::parse("").level_for("dockhand"), LevelFilter::Error);
        assert_eq!(Stderr::parse("off").max(), LevelFilter::Off);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        let t = utc_now();
        assert_eq!(
            (t.len(), &t[10..11], &t[19..20], &t[23..]),
            (24, "T", ".", "Z"),
            "{t}"
        );
    }
}

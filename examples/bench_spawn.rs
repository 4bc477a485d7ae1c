//! Benchmark helper for `scripts/bench.sh` (results in docs/reliability.md):
//! what the `pre_exec` hook dockhand's executors install costs per spawn.
//!
//! A `pre_exec` hook (needed for `PR_SET_PDEATHSIG` and for passing an
//! env-file descriptor) makes std fork+exec instead of `posix_spawn`. This
//! spawns and reaps `true` COUNT times in one way and exits; run it under
//! `valgrind --tool=callgrind` with two counts and divide the difference of
//! the instruction totals by the difference of the counts:
//!
//! * `spawn`: `Command::spawn` as std does it without a hook (posix_spawn);
//! * `fork`: the same with an empty `pre_exec` hook (fork+exec);
//! * `dockhand`: `dockhand::exec::run`, the whole executor (hook, process
//!   group, reader threads, capture).
//!
//! ```text
//! cargo run --release --example bench_spawn -- spawn|fork|dockhand COUNT
//! ```

// The point of this helper is to compare std's spawn paths directly.
#![allow(clippy::disallowed_methods)]

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (way, count) = match (
        args.first(),
        args.get(1).and_then(|n| n.parse::<u32>().ok()),
    ) {
        (Some(way), Some(count)) => (way.as_str(), count),
        _ => {
            eprintln!("usage: bench_spawn spawn|fork|dockhand COUNT");
            std::process::exit(2);
        }
    };
    for _ in 0..count {
        let ok = match way {
            "dockhand" => dockhand::exec::run(
                &dockhand::exec::Cmd::new("true"),
                &dockhand::exec::Limits::default(),
            )
            .is_ok_and(|o| o.status.success()),
            "spawn" | "fork" => {
                let mut command = Command::new("true");
                command.stdin(Stdio::null()).stdout(Stdio::null());
                if way == "fork" {
                    // SAFETY: the hook does nothing.
                    unsafe {
                        command.pre_exec(|| Ok(()));
                    }
                }
                command.status().is_ok_and(|s| s.success())
            }
            _ => {
                eprintln!("bench_spawn: unknown way {way}");
                std::process::exit(2);
            }
        };
        assert!(ok, "true failed");
    }
}

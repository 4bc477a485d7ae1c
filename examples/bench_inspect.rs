//! Benchmark helper for `scripts/bench.sh` (results in docs/bench.md): what a
//! separate `dockhand` process costs compared with the library in-process.
//!
//! Inspects one container COUNT times in each of three ways, interleaved (the
//! order rotates every round) so that the machine's noise hits all of them
//! alike:
//!
//! * `library`: `Engine::inspect_one` in this process (one engine child each);
//! * `process`: the `dockhand inspect` binary, one process each;
//! * `raw`: the engine command the library runs, exactly as it runs it.
//!
//! Prints one tab-separated line per way: `way runs total_ms median_ms`.
//!
//! ```text
//! cargo run --release --example bench_inspect -- CONTAINER [COUNT] [DOCKHAND_BIN]
//! ```
//!
//! The engine is chosen as the CLI chooses it (`DOCKHAND_ENGINE`, else docker,
//! else podman); the `dockhand` processes inherit the same environment.

use std::time::{Duration, Instant};

use dockhand::container::inspect_plan;
use dockhand::exec::{self, Cmd};
use dockhand::input::ContainerRef;
use dockhand::{Engine, Error, ErrorKind};

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_inspect: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || Error::invalid_input("usage: bench_inspect CONTAINER [COUNT] [DOCKHAND_BIN]");
    let name = ContainerRef::new(args.first().ok_or_else(usage)?.as_str())?;
    let count: usize = match args.get(1) {
        Some(n) => n.parse().map_err(|_| usage())?,
        None => 100,
    };
    let bin = args
        .get(2)
        .map_or("target/release/dockhand", String::as_str);

    let engine = Engine::detect()?;
    let (raw, limits) = engine.prepare(&inspect_plan(std::slice::from_ref(&name)));
    let process = Cmd::new(bin).args(["inspect", name.as_str()]);
    let run_checked = |cmd: &Cmd| -> Result<(), Error> {
        let out = exec::run(cmd, &limits)?;
        if out.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(Error::new(
                ErrorKind::EngineFailure,
                format!("`{cmd}` failed: {stderr}"),
            ))
        }
    };
    let ways: [(&str, &Way); 3] = [
        ("library", &|| {
            engine.containers().inspect_one(&name).map(drop)
        }),
        ("process", &|| run_checked(&process)),
        ("raw", &|| run_checked(&raw)),
    ];

    // One untimed round first: page cache, the engine's own caches.
    for (_, way) in &ways {
        way()?;
    }
    let mut times: [Vec<Duration>; 3] = Default::default();
    for round in 0..count {
        for k in 0..ways.len() {
            let i = (round + k) % ways.len();
            let started = Instant::now();
            (ways[i].1)()?;
            times[i].push(started.elapsed());
        }
    }
    for ((label, _), t) in ways.iter().zip(&mut times) {
        let total: Duration = t.iter().sum();
        t.sort();
        println!(
            "{label}\t{}\t{:.1}\t{:.2}",
            t.len(),
            ms(total),
            ms(median(t))
        );
    }
    Ok(())
}

/// One way of inspecting the container once.
type Way<'a> = dyn Fn() -> Result<(), Error> + 'a;

/// The median of sorted durations.
fn median(sorted: &[Duration]) -> Duration {
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

//! The `dockhand` binary; see the library documentation and README.

mod cli;

// musl's malloc maps and unmaps pages for small allocations as it goes; that
// was a quarter of a short command's CPU (Cargo.toml, docs/static.md).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() {
    // The release build aborts on a panic (Cargo.toml: half a MiB smaller),
    // so no Drop guard runs: after the message, kill the engine commands
    // still running, as those guards would have.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        dockhand::exec::kill_child_groups();
    }));
    std::process::exit(cli::main());
}

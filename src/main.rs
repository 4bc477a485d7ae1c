//! The `dockhand` binary; see the library documentation and README.

mod cli;

fn main() {
    std::process::exit(cli::main());
}

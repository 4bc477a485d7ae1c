#!/usr/bin/env bash
# Every test dockhand has: engine setup, formatting, lints, unit, doc and
# integration tests against the real docker and podman on this machine, and
# the static release binaries (x86_64, and aarch64 under qemu).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "engine setup"
scripts/setup-engine.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --all-targets --all-features -- -D warnings

step "the library alone builds without the binary's dependencies"
cargo build --no-default-features --lib

step "cargo doc (no warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features

step "cargo test (unit, doc, integration on real engines)"
cargo test --all-features

step "man pages and install: cargo xtask man, scripts/install.sh into a staging DESTDIR"
stage=$(mktemp -d)
DESTDIR="$stage" PREFIX=/usr DOCKHAND_BIN="${CARGO_TARGET_DIR:-target}/debug/dockhand" scripts/install.sh
grep -q '^\.TH dockhand 1 ' "$stage/usr/share/man/man1/dockhand.1"
grep -q '^\.SH NAME' "$stage/usr/share/man/man1/dockhand-network-create.1"
bash --norc -c "source '$stage/usr/share/bash-completion/completions/dockhand' && complete -p dockhand" | grep -q _dockhand
"$stage/usr/bin/dockhand" --version
rm -rf "$stage"

step "static binaries: build x86_64 + aarch64 (musl), smoke-test them, aarch64 under qemu"
scripts/build-static.sh x86_64-unknown-linux-musl aarch64-unknown-linux-musl
static_dir="$(realpath "${CARGO_TARGET_DIR:-target}")/static"
# The smoke tests of the integration tests (tests/it/cli.rs) run with
# DOCKHAND_BIN; tests/static_binary.rs checks linking, size and
# x86_64-vs-aarch64 output (its tests are ignored without these variables,
# hence --include-ignored).
export DOCKHAND_BIN="$static_dir/x86_64-unknown-linux-musl/dockhand"
cargo test --all-features --test it -- cli:: cli_scripts::
DOCKHAND_CROSS_BIN="$static_dir/aarch64-unknown-linux-musl/dockhand" \
DOCKHAND_CROSS_RUNNER=qemu-aarch64-static \
  cargo test --all-features --test static_binary -- --include-ignored

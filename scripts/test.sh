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

step "cargo test (unit, doc, integration on real engines)"
cargo test --all-features

step "static binaries: build x86_64 + aarch64 (musl), smoke-test them, aarch64 under qemu"
scripts/build-static.sh x86_64-unknown-linux-musl aarch64-unknown-linux-musl
static_dir="$(realpath "${CARGO_TARGET_DIR:-target}")/static"
# tests/cli.rs runs its smoke tests with DOCKHAND_BIN; tests/static_binary.rs
# checks linking, size and x86_64-vs-aarch64 output (its tests are ignored
# without these variables, hence --include-ignored).
DOCKHAND_BIN="$static_dir/x86_64-unknown-linux-musl/dockhand" \
DOCKHAND_CROSS_BIN="$static_dir/aarch64-unknown-linux-musl/dockhand" \
DOCKHAND_CROSS_RUNNER=qemu-aarch64-static \
  cargo test --all-features --test cli --test static_binary -- --include-ignored

#!/usr/bin/env bash
# Every test dockhand has: engine setup, formatting, lints, unit, doc and
# integration tests against the real docker and podman on this machine.
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

#!/usr/bin/env bash
# The main job, end to end, with the dockhand binary on the real engines.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-engine.sh
cargo build --release --quiet
dh=target/release/dockhand
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say "dockhand check (docker)"
$dh check
say "dockhand --engine podman --json check"
$dh --engine podman --json check
say "dockhand check against a daemon that is not there (exit 4)"
DOCKER_HOST=unix:///nonexistent.sock $dh check || echo "exit code: $?"

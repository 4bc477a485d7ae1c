#!/usr/bin/env bash
# dockhand's own startup cost in instructions (callgrind, user space): exact
# and repeatable where wall time on a shared 2-core machine is not. No engine
# runs: `--dry-run run` with 20 options stops before any child.
#
#   scripts/bench-startup.sh [BINARY...]   # default: the static x86_64 build
#
# Prints a markdown table (binary × command → instructions); docs/bench.md
# "Startup" records a run. scripts/bench.sh runs it as item 8.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "bench-startup: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
target=${CARGO_TARGET_DIR:-target}
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$target/static/x86_64-unknown-linux-musl/dockhand")

run20=(--dry-run --engine docker run -d --name dh-bench-x -e A=1 -e B=2 -l a=b -l c=d
  -p 8080:80 -p 53:53/udp -v /tmp:/data --memory 64m --cpus 0.5 --restart unless-stopped
  --network bridge --hostname h --user 1000 --workdir /app --health-cmd true
  --health-interval 5s --read-only --cap-drop ALL --tmpfs /run dockhand-test/busybox:latest sleep 1)

count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : //p'
}

echo "| binary | \`--version\` | \`--help\` | \`stop --help\` | \`--dry-run run\` (20 options) |"
echo "|---|---:|---:|---:|---:|"
for b in "${bins[@]}"; do
  printf '| %s | %s | %s | %s | %s |\n' "$b" \
    "$(count "$b" --version)" "$(count "$b" --help)" "$(count "$b" stop --help)" \
    "$(count "$b" "${run20[@]}")"
done

#!/usr/bin/env bash
# dockhand's own instructions per operation, counted by callgrind (exact and
# repeatable, unlike wall time on a shared machine): scripts/bench.sh item 8.
#
#   scripts/callgrind-ops.sh BIN ENGINE OUT.tsv [LOG_LINES]
#
# The engine's answers are first recorded from the REAL engine
# (tests/fixtures/replay-engine record), then dockhand runs under callgrind
# against the replay of exactly those answers, so that only dockhand's own
# process is counted (callgrind does not follow the child). Rows of OUT.tsv:
# operation <TAB> instructions (Ir) <TAB> peak RSS KiB (GNU time, replayed).
# `logs-f-json` also prints instructions per line for LOG_LINES (default
# 20000) lines; `strace -c -f` counts of its read/write calls go to
# OUT.tsv.strace when strace is there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1") E=$2 OUT=$3 LINES=${4:-20000}
IMAGE=dockhand-test/busybox:latest
P="dh-perf-cg-$$"
LABELS=(--label dockhand.bench=1 --label "dockhand.bench.run=$P")
DIR=$(mktemp -d)
REPLAY=$(realpath tests/fixtures/replay-engine)
cleanup() {
  local ids
  ids=$("$E" ps -aq --filter "label=dockhand.bench.run=$P" 2>/dev/null || true)
  # shellcheck disable=SC2086 # one id per word
  [ -z "$ids" ] || "$E" rm -f $ids >/dev/null 2>&1 || true
  [ -n "${KEEP_CG:-}" ] && echo "kept $DIR" >&2 || rm -rf "$DIR"
}
trap cleanup EXIT

"$E" run -d --name "$P-up" "${LABELS[@]}" -p 127.0.0.1::80 "$IMAGE" httpd -f -p 80 >/dev/null
"$E" create --name "$P-stopped" "${LABELS[@]}" "$IMAGE" true >/dev/null
"$E" run --name "$P-logs" "${LABELS[@]}" "$IMAGE" \
  awk -v n="$LINES" 'BEGIN { for (i = 1; i <= n; i++) printf "line %06d of the benchmark log, padded to seventy bytes ......\n", i }' >/dev/null
dry=(--dry-run run -d --name "$P-dry" -p 8080 -p 127.0.0.1:9000:90/udp -e A=1 -e B=2
  -l app=bench -l tier=web --restart on-failure:3 --cap-add NET_ADMIN --memory 64m --cpus 0.5
  --cpu-shares 512 --hostname box -u nobody -w /tmp --network bridge --volume /srv:/data:ro
  "$IMAGE" httpd -f -p 8080)
# name <TAB> dockhand arguments (one word per field after the first)
ops=(
  "version|--version"
  "dry-run-run-20-options|${dry[*]}"
  "inspect|inspect $P-up"
  "status|status $P-up"
  "pid|pid $P-up"
  "ip|ip $P-up"
  "ports|ports $P-up"
  "stop-stopped|stop $P-stopped"
  "rm-missing|rm $P-missing"
  "ps-a|ps -a --filter label=dockhand.bench.run=$P"
  "ps-a-json|--json ps -a --filter label=dockhand.bench.run=$P"
  "logs-json|--json logs $P-logs"
  "logs-f-json|--json logs -f $P-logs"
)
: >"$OUT"
for entry in "${ops[@]}"; do
  name=${entry%%|*}
  read -r -a words <<<"${entry#*|}"
  # Record (the real engine), then count (its replay).
  "$BIN" --engine "$REPLAY record $DIR $E" "${words[@]}" >/dev/null 2>&1 || true
  rc=0
  valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.$name" \
    "$BIN" --engine "$REPLAY replay $DIR $E" "${words[@]}" >"$DIR/out.$name" 2>"$DIR/err.$name" || rc=$?
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$DIR/cg.$name")
  /usr/bin/time -o "$DIR/rss" -f %M "$BIN" --engine "$REPLAY replay $DIR $E" "${words[@]}" >/dev/null 2>&1 || true
  rss=$(tail -1 "$DIR/rss")
  printf '%s\t%s\t%s\t%s\n' "$name" "$ir" "$rss" "$rc" >>"$OUT"
done
lines=$(wc -l <"$DIR/out.logs-f-json")
printf 'logs-f-json lines\t%s\n' "$lines" >>"$OUT"
# System calls of dockhand's own threads (not the engine's) per log line,
# following the REAL engine's `logs -f` (it writes a line or two at a time):
# rows `syscalls <name>` <TAB> calls <TAB> per line, and the thread count.
if command -v strace >/dev/null 2>&1; then
  mkdir -p "$DIR/st"
  strace -f -ff -o "$DIR/st/t" -e trace=read,write,writev,poll,ppoll,futex,clone,clone3 \
    "$BIN" --engine "$E" --json logs -f "$P-logs" >/dev/null 2>&1 || true
  python3 - "$DIR/st" "$LINES" >>"$OUT" <<'PYEOF'
import collections, glob, os, re, sys
d, lines = sys.argv[1], int(sys.argv[2])
files = {int(p.rsplit(".", 1)[1]): p for p in glob.glob(os.path.join(d, "t.*"))}
main = min(files)  # dockhand itself started first
ours, counts = {main}, collections.Counter()
for line in open(files[main]):
    m = re.match(r"(clone3?)\(.*CLONE_THREAD.*= (\d+)", line)
    if m:
        ours.add(int(m.group(2)))
for tid in ours:
    for line in open(files.get(tid, os.devnull)):
        m = re.match(r"(\w+)\(", line)
        if m:
            counts[m.group(1)] += 1
print(f"threads\t{len(ours)}")
for name in ("read", "write", "writev", "poll", "ppoll", "futex"):
    if counts[name]:
        print(f"syscalls {name}\t{counts[name]}\t{counts[name] / lines:.3f}")
PYEOF
fi

#!/usr/bin/env bash
# Benchmarks: dockhand against the raw engine CLI, side by side in one run.
#
#   scripts/bench.sh [ENGINE...]      # default: docker, plus podman when installed
#   scripts/bench.sh --report DIR     # print the tables of an earlier run again
#
# Every time is a median over repeated runs, and every comparison is the median
# of per-round ratios of commands run interleaved in the same run (the order
# rotates each round), because these machines are noisy: never quote a single
# absolute time. The table goes to stdout and to $BENCH_OUT/results.md;
# docs/bench.md explains each row and records a run.
#
#  1. per operation: dockhand inspect/status/pid/ip/ports X vs raw `ENGINE
#     inspect X`; stop of a stopped container vs raw `ENGINE stop`, rm of a
#     missing one vs raw `ENGINE rm` (which fails: hyperfine -i)
#  2. batching: dockhand status of 50 containers vs one batched raw inspect of
#     the 50, and vs a loop of 50 raw inspects
#  3. dockhand's own peak RSS and CPU for a `--dry-run run` with many options
#     (no engine child), and the binary sizes
#  4. logs throughput: `logs -f --json` vs raw `logs -f` of a container that
#     printed BENCH_LOG_LINES lines and exited
#  5. the library (100 inspects in one process, examples/bench_inspect.rs) vs
#     100 `dockhand inspect` processes
#  6. registry: `dockhand pull` of the test image from a loopback registry
#     (tests/fixtures/registry) vs the raw `ENGINE pull`, and the time
#     `dockhand pull` with the default retry policy takes to get through a
#     registry whose first K manifest GETs fail (tests/fixtures/fault-registry
#     flaky:K, 503), K = 1 and 2, BENCH_LOG_ROUNDS rounds each
#  7. the per-spawn cost of the executors' pre_exec hook (fork+exec instead of
#     posix_spawn), in callgrind instruction counts, not time
#     (examples/bench_spawn.rs; docs/reliability.md)
#  8. dockhand's own instructions (callgrind) and peak RSS per operation,
#     against a replay of the real engine's recorded answers
#     (scripts/callgrind-ops.sh, tests/fixtures/replay-engine): --version,
#     --dry-run run with 20 options, inspect, status, pid, ip, ports, stop of
#     a stopped container, rm of a missing one, ps -a, logs --json of
#     CG_LOG_LINES lines (instructions per line). Counts, not time: they are
#     the same on a busy machine.
#  9. readiness latency: from the state change (the engine's own StartedAt,
#     FinishedAt, or the end of the first passing health check) to the exit
#     of `dockhand wait-for --running/--exit/--healthy`, BENCH_LOG_ROUNDS
#     rounds; `ENGINE wait` for --exit as the reference
# 10. fleets: one `status` on 3 real test hosts over ssh (tests/fixtures/testhosts,
#     the client in the set's client netns), all at once vs one after another
#     (--parallel 1), each without and with ssh connection sharing (--ssh-share)
# 11. apps: `dockhand app` up from nothing, no-op up, ps and down of the
#     10-service fixture (tests/fixtures/apps/tenservices) vs docker-compose
#     (docker) and podman-compose (podman) on the same files
# 12. startup: dockhand's own instructions (callgrind) for --version, --help,
#     stop --help and a --dry-run run with 20 options (scripts/bench-startup.sh)
#  +  python-on-whales (PyPI) for 1, 2 and 5 as a reference, when it installs
#
# Binaries: the release build, and the static musl one (scripts/build-static.sh,
# run here; skipped with a note when it cannot be built).
# Environment: BENCH_ROUNDS (21) rounds for 1-3, BENCH_LOG_ROUNDS (4),
# BENCH_LOG_LINES (200000), CG_LOG_LINES (20000), BENCH_LIB_COUNT (100), BENCH_APP_ROUNDS (3),
# BENCH_SECTIONS (the sections to run, default "1 2 3 4 5 6 7 8 9 10 11 12"), BENCH_BUDGET (600 s: a
# section that would start later is skipped and reported as skipped),
# BENCH_OUT (target/bench), BENCH_DEBUG (print the commands of a failed group). Installs hyperfine and GNU time from Debian when
# missing (idempotent). Containers it makes carry --label dockhand.bench=1 and
# a per-run label, and are removed on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'bench: %s\n' "$*" >&2; }

ROUNDS=${BENCH_ROUNDS:-21}
LOG_ROUNDS=${BENCH_LOG_ROUNDS:-4}
LOG_LINES=${BENCH_LOG_LINES:-200000}
LIB_COUNT=${BENCH_LIB_COUNT:-100}
APP_ROUNDS=${BENCH_APP_ROUNDS:-3}
SECTIONS=" ${BENCH_SECTIONS:-1 2 3 4 5 6 7 8 9 10 11 12} "
BUDGET=${BENCH_BUDGET:-600}
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-target}")
OUT=$(realpath -m "${BENCH_OUT:-$TARGET/bench}")
IMAGE=dockhand-test/busybox:latest
RUN_ID="$(date +%Y%m%d%H%M%S)-$$"
RUN_DIR="$OUT/run-$RUN_ID"
LABELS=(--label dockhand.bench=1 --label "dockhand.bench.run=$RUN_ID")
PREFIX="dockhand-bench-$$"
deadline=$((SECONDS + BUDGET))

if [ $# -gt 0 ] && [ "$1" != --report ]; then
  ENGINES=("$@")
else
  ENGINES=(docker)
  command -v podman >/dev/null 2>&1 && ENGINES+=(podman)
fi

# The tables (markdown) of one run's raw data in $1.
render() {
  python3 - "$1" <<'PYEOF'
import glob, json, os, re, statistics, sys

run_dir = sys.argv[1]
with open(os.path.join(run_dir, "settings.txt")) as f:
    log_lines, lib_count, rounds, log_rounds = (int(x) for x in f.read().split())
med = statistics.median

def read(name, default=None):
    try:
        with open(os.path.join(run_dir, name)) as f:
            return f.read().strip()
    except OSError:
        return default

# groups[(engine, group)][name] = {"times": [...], "cpu": [...], "rounds": [median per round]}
groups = {}
for path in sorted(glob.glob(os.path.join(run_dir, "*-*-*.json"))):
    m = re.match(r"(.+)-(\w+)-(\d+)\.json$", os.path.basename(path))
    if not m or m.group(1).endswith("pow"):
        continue
    g = groups.setdefault((m.group(1), m.group(2)), {})
    for res in json.load(open(path))["results"]:
        e = g.setdefault(res["command"], {"times": [], "cpu": [], "rounds": {}})
        e["times"] += [t * 1000 for t in res["times"]]
        e["cpu"].append((res["user"] + res["system"]) * 1000)  # hyperfine keeps means only
        e["rounds"][int(m.group(3))] = med(res["times"]) * 1000

def ms(x):
    return f"{x:.0f} ms" if x >= 100 else f"{x:.1f} ms"

def paired(g, a, b, invert=False):
    """The ratio a/b in each round (b/a with invert): both ran in that round."""
    rs = [g[a]["rounds"][r] / g[b]["rounds"][r] for r in g[a]["rounds"] if r in g[b]["rounds"]]
    return [1 / x for x in rs] if invert else rs

def iqr(rs):
    if len(rs) < 2:
        return "—"
    q1, _, q3 = statistics.quantiles(rs, n=4)
    return f"{q1:.2f}–{q3:.2f}"

def verdict(ok):
    return "met" if ok else "**not met**"

rows = []
def row(*cells):
    rows.append("| " + " | ".join(str(c) for c in cells) + " |")

header = ("| # | dockhand | reference | dockhand | reference | ratio | IQR | goal | verdict |\n"
          "|---|---|---|---:|---:|---:|---:|---|---|")

def pair(item, eg, a, b, label_a, label_b, goal=None, speedup=False):
    if eg not in groups or a not in groups[eg] or b not in groups[eg]:
        return
    g = groups[eg]
    ta, tb = med(g[a]["times"]), med(g[b]["times"])
    rs = paired(g, a, b, invert=speedup)
    r = med(rs)
    ratio = f"{r:.1f}× faster" if speedup else f"{r:.2f}×"
    per = iqr(rs)
    ok = "—" if goal is None else verdict(goal(r))
    row(item, label_a, label_b, ms(ta), ms(tb), ratio, per, goal.__doc__ if goal else "—", ok)

def le(x):
    f = lambda r: r <= x
    f.__doc__ = f"≤ {x}×"
    return f

def ge(x, word="faster"):
    f = lambda r: r >= x
    f.__doc__ = f"≥ {x}× {word}".strip()
    return f

print(f"Times are medians over all runs. Commands are interleaved: every round runs each command of "
      f"a group once, in an order rotated each round. ratio = median over the rounds of the ratio "
      f"within the round (robust to the machine's load changing between rounds); IQR = its "
      f"interquartile range. Rounds: {rounds} (items 1–3), {log_rounds} (loop, logs, one call per "
      f"process); item 5 interleaves {lib_count} calls of each kind in one process.\n")

# Every engine this run measured: timed groups, or only counts (item 8) or
# readiness latencies (item 9).
counted = {os.path.basename(p).rsplit("-", 1)[0]
           for suffix in ("callgrind", "ready")
           for p in glob.glob(os.path.join(run_dir, f"*-{suffix}.tsv"))}
engines = sorted({e for e, _ in groups if e != "all"} | counted, key=lambda e: (e != "docker", e))
for E in engines:
    rows.clear()
    print(f"### {E} ({read(E + '-version.txt', '?')})\n")
    # The builds this run timed: any group's commands end in `.release` or `.static`.
    timed = {name for (e, _), g in groups.items() if e == E for name in g}
    variants = [v for v in ("release", "static") if any(n.endswith("." + v) for n in timed)]
    for v in variants:
        for op in ("inspect", "status", "pid", "ip", "ports"):
            pair("1", (E, "op"), f"{op}.{v}", "raw", f"`{op} X` ({v})", f"`{E} inspect X`", le(1.03))
        pair("1", (E, "stoprm"), f"stop.{v}", "stop.raw", f"`stop` of a stopped container ({v})",
             f"`{E} stop` of it", le(1.03))
        pair("1", (E, "stoprm"), f"rm.{v}", "rm.raw", f"`rm` of a missing container ({v})",
             f"`{E} rm` of it (fails)", le(1.03))
    pair("1", (E, "op"), "floor", "raw", f"floor: `timeout 30s {E} inspect X`", f"`{E} inspect X`")
    for v in variants:
        pair("1", (E, "op"), f"inspect.{v}", "floor", f"`inspect X` ({v})", "the floor above")
    for v in variants:
        pair("2", (E, "batch"), f"status50.{v}", "raw50", f"`status` of 50 ({v})",
             f"one `{E} inspect` of 50", le(1.3))
    pair("2", (E, "ps"), "ps.release", "rawps", "`ps -a` of the run's containers (release)",
         f"`{E} ps -a`", le(1.1))
    pair("2", (E, "ps"), "psjson.release", "rawps", "`--json ps -a` (release)", f"`{E} ps -a`", le(1.1))
    pair("2", (E, "loop"), "status50.release", "loop50", "`status` of 50 (release)",
         f"50 × `{E} inspect`", ge(15), speedup=True)
    follow = read(E + "-logs-follow.txt")
    if (E, "logs") in groups:
        g = groups[(E, "logs")]
        opt = "-f " if follow else ""
        for v in variants:
            for ref, label in (("logs.raw", f"`{E} logs {opt}X`"), ("logs.raw_t", f"`{E} logs {opt}-t X`")):
                if f"logs.{v}" not in g or ref not in g:
                    continue
                ta, tb = med(g[f"logs.{v}"]["times"]), med(g[ref]["times"])
                rs = paired(g, ref, f"logs.{v}")
                r = med(rs)
                goal = ge(0.95 if E == "docker" else 0.9, "") if ref == "logs.raw" else None
                row("4", f"`logs {opt}--json X` ({v})", label,
                    f"{log_lines / ta:.1f} k lines/s", f"{log_lines / tb:.1f} k lines/s",
                    f"{r:.2f}×", iqr(rs), goal.__doc__ if goal else "—",
                    verdict(goal(r)) if goal else "—")
    lib = read(E + "-lib.tsv")
    if lib:
        t = {l.split("\t")[0]: [float(x) for x in l.split("\t")[1:]] for l in lib.splitlines()}
        (n, lib_total, lib_med), (_, proc_total, proc_med), (_, raw_total, raw_med) = t["library"], t["process"], t["raw"]
        row("5", f"{int(n)} × library `inspect_one` (total)", f"{int(n)} × `{E} inspect` (total)",
            ms(lib_total), ms(raw_total), f"{lib_med / raw_med:.2f}×", "—", "—", "—")
        row("5", f"{int(n)} × `dockhand inspect` process (total)", f"{int(n)} × library (total)",
            ms(proc_total), ms(lib_total), f"{proc_med / lib_med:.2f}×", "—",
            f"per process: +{proc_med - lib_med:.1f} ms", "—")
    pow_ = read(E + "-pow.json")
    if pow_:
        p = {k: med(v) for k, v in json.loads(pow_).items()}
        row("1 ref", "python-on-whales `container.inspect(X)`", f"`{E} inspect X` via subprocess",
            ms(p["pow.inspect"]), ms(p["py.raw"]), f"{p['pow.inspect'] / p['py.raw']:.2f}×", "—", "—", "—")
        row("1 ref", "python-on-whales `.state.status`", f"`{E} inspect X` via subprocess",
            ms(p["pow.status"]), ms(p["py.raw"]), f"{p['pow.status'] / p['py.raw']:.2f}×", "—", "—", "—")
        row("2 ref", "python-on-whales `inspect` of 50", f"one `{E} inspect` of 50 via subprocess",
            ms(p["pow.inspect50"]), ms(p["py.raw50"]), f"{p['pow.inspect50'] / p['py.raw50']:.2f}×", "—", "—", "—")
    pair("5 ref", (E, "proc"), "pow.process", "inspect.release",
         "python3 + python-on-whales, one inspect per process", "`dockhand inspect X` (release)")
    for v in variants:
        pair("6", (E, "pull"), f"pull.{v}", "pull.raw", f"`pull REF` from 127.0.0.1 ({v})", f"`{E} pull REF`")
    recover = read(E + "-recover.tsv")
    if recover:
        by_k = {}
        for l in recover.splitlines():
            k, secs = l.split("\t")
            by_k.setdefault(int(k), []).append(float(secs) * 1000)
        for k, ts in sorted(by_k.items()):
            row("6", f"`pull` through a registry failing its first {k} manifest GET(s) (default policy)",
                "—", ms(med(ts)), "—", "—", f"{min(ts):.0f}–{max(ts):.0f} ms", "—", "—")
    ready = read(E + "-ready.tsv")
    if ready:
        by = {}
        for l in ready.splitlines():
            cond, ms_ = l.split("\t")
            by.setdefault(cond, []).append(float(ms_))
        for cond, ts in sorted(by.items()):
            who = f"`{E} wait X`" if cond == "raw-wait" else f"`wait-for X --{cond}` (release)"
            goal = "—" if cond == "raw-wait" else "≤ 100 ms"
            ok = "—" if cond == "raw-wait" else verdict(med(ts) <= 100)
            row("9", who, "the change (engine timestamp)", ms(med(ts)), "—", "—",
                f"{min(ts):.0f}–{max(ts):.0f} ms", goal, ok)
    compose = "docker-compose" if E == "docker" else "podman-compose"
    for op, label_a, label_b in (
        ("up", "`app up` of 10 services from nothing", f"`{compose} up -d`"),
        ("noop", "no-op `app up` (10 services)", f"no-op `{compose} up -d`"),
        ("ps", "`app ps`", f"`{compose} ps`"),
        ("down", "`app down -v` (10 services)", f"`{compose} down -v`"),
    ):
        pair("11", (E, "apps"), f"app-{op}.dh", f"app-{op}.ref", label_a, label_b)
    pair("11", (E, "apps"), "app-noop.dh", "app-noop.raw10", "no-op `app up` (10 services)",
         f"one raw `{E} inspect` of the 10 containers", le(1.2))
    if rows:
        print(header)
        print("\n".join(rows))
    cg = read(E + "-callgrind.tsv")
    if cg:
        print(f"\n#### {E}: dockhand's own instructions per operation (item 8, callgrind, replayed engine answers)\n")
        print("| operation | instructions | peak RSS (glibc release build; the static binary's: item 3) |\n|---|---:|---:|")
        lines_n = 1
        for l in cg.splitlines():
            if l.startswith("logs-f-json lines"):
                lines_n = max(1, int(l.split("\t")[1]))
        calls = []
        for l in cg.splitlines():
            f = l.split("\t")
            if f[0].startswith(("syscalls ", "threads")):
                calls.append(f)
                continue
            if f[0].startswith("logs-f-json lines"):
                continue
            ir, rss = int(f[1] or 0), int(f[2] or 0)
            extra = f" ({ir / lines_n:,.0f} per line)" if f[0].startswith("logs") else ""
            print(f"| `{f[0]}` | {ir:,}{extra} | {rss} KiB |")
        if calls:
            print(f"\n`--json logs -f` of {lines_n} lines from the real `{E} logs -f`, dockhand's own threads "
                  "(strace -f): " + ", ".join(
                      f"{c[1]} thread(s)" if c[0] == "threads" else f"{c[0][9:]} {c[1]} ({c[2]}/line)"
                      for c in calls))
    count = read(E + "-logs-dockhand-count.txt")
    if count:
        print(f"\n`dockhand --json logs{' -f' if follow else ''}` printed {count} of {log_lines} lines.", end="")
    fcount = read(E + "-logs-follow-count.txt")
    if fcount:
        print(f" `{E} logs -f` of the stopped container printed {fcount} of {log_lines} lines "
              "(k8s-file, podman issue #21914), so this engine's logs rows read without -f.", end="")
    print("\n")

if ("all", "fleet") in groups:
    rows.clear()
    print("### fleets: one `status` on 3 test hosts over ssh (docker CLI, client in the client netns)\n")
    print(header)
    pair("10", ("all", "fleet"), "fleet.par", "fleet.seq", "`--hosts h1,h2,h3 status X`, no sharing",
         "the same with `--parallel 1`", speedup=True)
    pair("10", ("all", "fleet"), "fleet.par_share", "fleet.seq_share", "`--hosts h1,h2,h3 status X`, sharing",
         "the same with `--parallel 1`", speedup=True)
    pair("10", ("all", "fleet"), "fleet.par_share", "fleet.par", "parallel, `--ssh-share 60s`",
         "parallel, `--ssh-share 0`", speedup=True)
    pair("10", ("all", "fleet"), "fleet.seq_share", "fleet.seq", "one after another, `--ssh-share 60s`",
         "one after another, `--ssh-share 0`", speedup=True)
    print("\n".join(rows) + "\n")

print("### dockhand itself: `--dry-run run` with 20 options (no engine child)\n")
print("| # | binary | peak RSS (median of 15) | CPU user+sys (median of round means) | wall (median) | size | goal | verdict |")
print("|---|---|---:|---:|---:|---:|---|---|")
g = groups.get(("all", "dry"), {})
for v in ("release", "static"):
    rss = read(f"rss-{v}.txt")
    if not rss:
        continue
    kib = med([int(x) for x in rss.split()])
    size = int(read(f"size-{v}.txt", "0"))
    e = g.get(f"dry.{v}")
    cpu = ms(med(e["cpu"])) if e else "—"
    wall = ms(med(e["times"])) if e else "—"
    execs = read(f"dry-execs-{v}.txt")
    note = f" ({int(execs) - 1} children)" if execs else ""
    print(f"| 3 | {v}{note} | {kib} KiB = {kib / 1024:.2f} MiB | {cpu} | {wall} | "
          f"{size:,} B = {size / 1048576:.2f} MiB | ≤ 4 MiB RSS | {verdict(kib <= 4096)} |")
cli = read("rss-engine-cli.txt")
if cli:
    print(f"| 3 ref | the engine CLI itself (`version`) | {int(cli)} KiB = {int(cli) / 1024:.1f} MiB | | | | — | — |")
skipped = read("skipped.txt")
if skipped:
    print("\nSkipped: " + "; ".join(skipped.splitlines()))
PYEOF
}

if [ "${1:-}" = --report ]; then
  render "${2:?usage: scripts/bench.sh --report RUN_DIR}"
  exit 0
fi

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v hyperfine >/dev/null 2>&1 || need_pkgs+=(hyperfine)
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3 python3-venv)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# python-on-whales in a venv of its own (the reference column); optional.
VENV="$OUT/venv"
PY=""
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import python_on_whales' 2>/dev/null; then
  PY="$VENV/bin/python"
elif { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"; } >&2 &&
  "$VENV/bin/python" -m pip install -q python-on-whales >&2; then
  PY="$VENV/bin/python"
else
  log "python-on-whales could not be installed: no reference column"
fi

# ---------------------------------------------------------------- binaries
log "building the release binary and examples/bench_inspect"
cargo build --release --locked --bin dockhand --example bench_inspect >&2
REL="$TARGET/release/dockhand"
EXAMPLE="$TARGET/release/examples/bench_inspect"
STATIC="$TARGET/static/x86_64-unknown-linux-musl/dockhand"
if scripts/build-static.sh x86_64-unknown-linux-musl >&2; then
  VARIANTS=(release static)
else
  log "no static binary (scripts/build-static.sh failed): release build only"
  VARIANTS=(release)
fi
bin_of() { if [ "$1" = static ]; then echo "$STATIC"; else echo "$REL"; fi; }

# ---------------------------------------------------------------- cleanup
mkdir -p "$RUN_DIR"
FLEET_DIR=""
# `down -v` of the apps section's projects, run by cleanup.
APP_DOWN=()
cleanup() {
  for down in ${APP_DOWN[@]+"${APP_DOWN[@]}"}; do
    # shellcheck disable=SC2086 # the words of one command
    timeout --foreground 300 $down >/dev/null 2>&1 || true
  done
  APP_DOWN=()
  local e ids
  if [ -n "$FLEET_DIR" ]; then
    if tests/fixtures/testhosts down "$FLEET_DIR" >&2; then
      # dockhand's ssh wrapper dir (its masters died with the set).
      rm -rf "$FLEET_DIR/ssh"
      rmdir "$FLEET_DIR" 2>/dev/null || true
    else
      log "testhosts down $FLEET_DIR failed"
    fi
    FLEET_DIR=""
  fi
  for e in "${ENGINES[@]}"; do
    ids=$(timeout --foreground 60 "$e" ps -aq --filter "label=dockhand.bench.run=$RUN_ID" 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086 # one id per word
      timeout --foreground 120 "$e" rm -f $ids >/dev/null 2>&1 || log "could not remove $e containers: $ids"
    fi
  done
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# Whether section $1 is among BENCH_SECTIONS.
wanted() { [[ "$SECTIONS" == *" $1 "* ]]; }
in_budget() {
  local section=${1#*: }
  wanted "${section%% *}" || return 1
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "time budget (${BUDGET}s) used up: skipping $1"
    echo "$1" >>"$RUN_DIR/skipped.txt"
    return 1
  fi
}

# Benchmark one group of commands: ROUNDS invocations of hyperfine, each
# running every command RUNS times, the order rotated each round. Commands are
# the global arrays NAMES/CMDS (hyperfine splits each command into words, no
# shell). Results: $RUN_DIR/<engine>-<group>-<round>.json.
# With addp, each command has its own --prepare (run before every timing).
NAMES=()
CMDS=()
PREPS=()
HF_EXTRA=()
add() { NAMES+=("$1"); CMDS+=("$2"); }
addp() { NAMES+=("$1"); CMDS+=("$2"); PREPS+=("$3"); }
group() {
  local engine=$1 name=$2 rounds=$3 runs=$4 warmup=$5 n=${#CMDS[@]} r i k
  for ((r = 0; r < rounds; r++)); do
    local args=()
    for ((i = 0; i < n; i++)); do
      k=$(((i + r) % n))
      args+=(-n "${NAMES[k]}" "${CMDS[k]}")
      if [ ${#PREPS[@]} -gt 0 ]; then args+=(--prepare "${PREPS[k]}"); fi
    done
    # hyperfine's outlier warnings are expected here; show its stderr on failure only.
    # --foreground: hyperfine stays in our process group, so Ctrl-C reaches it.
    if ! timeout --foreground 900 hyperfine -N --style none --output=pipe --warmup "$warmup" --runs "$runs" \
      "${HF_EXTRA[@]}" --export-json "$RUN_DIR/$engine-$name-$r.json" "${args[@]}" >/dev/null 2>"$RUN_DIR/hyperfine.err"; then
      cat "$RUN_DIR/hyperfine.err" >&2
      [ -n "${BENCH_DEBUG:-}" ] && printf "%q " "${args[@]}" >&2
      # One broken group must not cost the whole run its report.
      log "hyperfine failed in group $engine $name: reported as skipped"
      echo "$engine $name (a command failed)" >>"$RUN_DIR/skipped.txt"
      break
    fi
  done
  NAMES=()
  CMDS=()
  PREPS=()
  HF_EXTRA=()
}

# ---------------------------------------------------------------- 3. dry run
# Engine-independent; run first so it is never the section the budget skips.
dry_words=(--dry-run run -d --name "$PREFIX-dry" -p 8080 -p 127.0.0.1:9000:90/udp -e A=1 -e B=2
  -l app=bench -l tier=web --restart on-failure:3 --cap-add NET_ADMIN --memory 64m --cpus 0.5
  --cpu-shares 512 --hostname box -u nobody -w /tmp --network bridge --volume /srv:/data:ro
  "$IMAGE" httpd -f -p 8080)
wanted 3 && log "3: dry-run run, peak RSS and CPU"
for v in "${VARIANTS[@]}"; do
  wanted 3 || break
  bin=$(bin_of "$v")
  if command -v strace >/dev/null 2>&1; then
    execs=$(strace -f -qq -e trace=execve -o /dev/stdout "$bin" "${dry_words[@]}" 2>/dev/null | grep -c 'execve(' || true)
    echo "$execs" >"$RUN_DIR/dry-execs-$v.txt"
  fi
  for _ in $(seq 15); do
    /usr/bin/time -a -o "$RUN_DIR/rss-$v.txt" -f '%M' "$bin" "${dry_words[@]}" 2>/dev/null
  done
  add "dry.$v" "$bin ${dry_words[*]}"
done
if wanted 3; then group all dry "$ROUNDS" 1 2; fi

# ---------------------------------------------------------------- 6. registry
# One real registry on a loopback port for the whole run (stopped on exit).
REG_DIR="$RUN_DIR/registry"
REG=""
stop_registry() {
  [ -n "$REG" ] && tests/fixtures/registry stop "$REG_DIR" >/dev/null 2>&1
  REG=""
}
# A new image nobody has pulled (dockerd skips the manifest GET of content it
# has seen): a one-file rootfs imported into $1, pushed, removed there again.
fresh_image() {
  local e=$1 tls=$2 dir ref
  dir=$(mktemp -d)
  printf '%s' "$RUN_ID-$RANDOM$RANDOM" >"$dir/f"
  tar -C "$dir" -cf "$dir/r.tar" f
  ref="$REG/$PREFIX/fresh-$RANDOM$RANDOM:latest"
  "$e" import --change "LABEL dockhand.bench=1" "$dir/r.tar" "$ref" >/dev/null
  # shellcheck disable=SC2086 # $tls is empty or one word
  "$e" push $tls "$ref" >/dev/null 2>&1
  "$e" rmi "$ref" >/dev/null
  rm -rf "$dir"
  echo "${ref#"$REG"/}"
}
bench_registry() {
  local E=$1 tls="" ref path k r fault t0 t1
  [ "$E" = podman ] && tls=--tls-verify=false
  if [ -z "$REG" ]; then
    REG=$(tests/fixtures/registry start "$REG_DIR")
  fi
  ref="$REG/$PREFIX/busybox:latest"
  "$E" tag "$IMAGE" "$ref"
  # shellcheck disable=SC2086 # $tls is empty or one word
  "$E" push $tls "$ref" >/dev/null 2>&1
  log "$E 6: pull from the loopback registry, dockhand vs raw"
  "$E" pull $tls "$ref" >/dev/null 2>&1
  addp pull.raw "$E pull $tls $ref" "$E rmi $ref"
  for v in "${VARIANTS[@]}"; do addp "pull.$v" "$(bin_of "$v") pull --tls-verify=false $ref" "$E rmi $ref"; done
  group "$E" pull "$ROUNDS" 1 0
  "$E" rmi "$ref" >/dev/null 2>&1 || true
  log "$E 6: recovery from a registry failing its first K manifest GETs (default policy)"
  for k in 1 2; do
    for ((r = 0; r < LOG_ROUNDS; r++)); do
      path=$(fresh_image "$E" "$tls")
      fault=$(tests/fixtures/fault-registry start "$RUN_DIR/fault" --upstream "$REG" --mode "flaky:$k" --fault status:503)
      t0=$EPOCHREALTIME
      "$REL" pull --tls-verify=false "$fault/$path" >/dev/null
      t1=$EPOCHREALTIME
      tests/fixtures/fault-registry stop "$RUN_DIR/fault" >/dev/null
      "$E" rmi "$fault/$path" >/dev/null 2>&1 || true
      printf '%s\t%s\n' "$k" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$RUN_DIR/$E-recover.tsv"
    done
  done
}
trap 'cleanup; stop_registry' EXIT

# 9. Milliseconds from the engine's own timestamp of a state change to the
# moment `dockhand wait-for` has exited, per condition, into $E-ready.tsv.
# The change comes 1.5 s after the wait began, so the wait is already watching,
# and half-way between the looks it takes after each quiet second (a change
# right at one of them would measure the look, not the event).
ms_since() { # ENGINE NAME GO-TEMPLATE END(epoch s.frac): END - the template's time, in ms
  local t
  t=$("$1" inspect --format "$3" "$2" | head -1)
  python3 -c 'import sys, datetime
t = sys.argv[1].strip()
t = t.replace(" +0000 UTC", "Z").replace(" ", "T", 1) if " " in t else t
frac = "0"
if "." in t:
    head, rest = t.split(".", 1)
    frac = "".join(c for c in rest if c.isdigit())
    t = head + "Z"
base = datetime.datetime.strptime(t.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
when = base.timestamp() + float("0." + frac)
print(f"{(float(sys.argv[2]) - when) * 1000:.1f}")' "$t" "$4"
}
bench_readiness() {
  local E=$1 r n end pid
  for ((r = 0; r < LOG_ROUNDS; r++)); do
    n="$PREFIX-ready-$r"
    "$E" create --name "$n" "${LABELS[@]}" "$IMAGE" sh -c 'sleep 2' >/dev/null
    "$REL" wait-for "$n" --running >/dev/null &
    pid=$!
    sleep 1.5
    "$E" start "$n" >/dev/null
    wait "$pid"
    end=$EPOCHREALTIME
    printf 'running\t%s\n' "$(ms_since "$E" "$n" '{{.State.StartedAt}}' "$end")" >>"$RUN_DIR/$E-ready.tsv"
    "$REL" wait-for "$n" --exit >/dev/null
    end=$EPOCHREALTIME
    printf 'exit\t%s\n' "$(ms_since "$E" "$n" '{{.State.FinishedAt}}' "$end")" >>"$RUN_DIR/$E-ready.tsv"
    "$E" start "$n" >/dev/null
    "$E" wait "$n" >/dev/null
    end=$EPOCHREALTIME
    printf 'raw-wait\t%s\n' "$(ms_since "$E" "$n" '{{.State.FinishedAt}}' "$end")" >>"$RUN_DIR/$E-ready.tsv"
    "$E" rm -f "$n" >/dev/null
    n="$PREFIX-healthy-$r"
    "$E" run -d --name "$n" "${LABELS[@]}" --stop-timeout 1 --health-cmd 'test -f /tmp/ready' --health-interval 1s \
      "$IMAGE" sh -c 'sleep 2; touch /tmp/ready; sleep 60' >/dev/null 2>&1
    "$REL" wait-for "$n" --healthy >/dev/null
    end=$EPOCHREALTIME
    # The end of the first passing check in the health log.
    printf 'healthy\t%s\n' "$(ms_since "$E" "$n" '{{range .State.Health.Log}}{{if eq .ExitCode 0}}{{.End}}{{"\n"}}{{end}}{{end}}' "$end")" >>"$RUN_DIR/$E-ready.tsv"
    "$E" rm -f "$n" >/dev/null
  done
}

# ---------------------------------------------------------------- per engine
for E in "${ENGINES[@]}"; do
  if ! timeout --foreground 30 "$E" info >/dev/null 2>&1; then
    log "$E is not reachable: skipped"
    echo "$E" >>"$RUN_DIR/skipped.txt"
    continue
  fi
  if ! "$E" image inspect "$IMAGE" >/dev/null 2>&1; then
    log "$IMAGE missing in $E: running scripts/setup-engine.sh"
    scripts/setup-engine.sh >&2
  fi
  export DOCKHAND_ENGINE=$E
  "$E" version --format '{{.Client.Version}} / {{.Server.Version}}' >"$RUN_DIR/$E-version.txt" 2>/dev/null ||
    "$E" --version >"$RUN_DIR/$E-version.txt"

  if wanted 1 || wanted 2 || wanted 4 || wanted 5; then
  log "$E: creating the fixture (1 running container, 50 created, 1 log writer)"
  probe="$PREFIX-probe"
  timeout --foreground 120 "$E" run -d --name "$probe" "${LABELS[@]}" -p 8080 "$IMAGE" sleep 3600 >/dev/null
  many=()
  for i in $(seq -w 1 50); do
    many+=("$PREFIX-b$i")
    timeout --foreground 120 "$E" create --name "$PREFIX-b$i" "${LABELS[@]}" "$IMAGE" true >/dev/null
  done
  logc="$PREFIX-logs"
  timeout --foreground 120 "$E" run -d --name "$logc" "${LABELS[@]}" "$IMAGE" awk \
    "BEGIN { for (i = 0; i < $LOG_LINES; i++) printf \"%07d the quick brown fox jumps over the lazy dog 0123456789\\n\", i }" >/dev/null
  timeout --foreground 300 "$E" wait "$logc" >/dev/null
  raw1="$E inspect --type container -- $probe"
  raw50="$E inspect --type container -- ${many[*]}"
  loop="$RUN_DIR/$E-loop50.sh"
  {
    echo "for n in ${many[*]}; do"
    echo "  $E inspect --type container -- \"\$n\" >/dev/null || exit 1"
    echo "done"
  } >"$loop"
  fi

  # 1. one operation
  if in_budget "$E: 1 per operation"; then
    log "$E 1: inspect/status/ip/ports vs raw inspect"
    add raw "$raw1"
    add floor "timeout 30s $raw1"
    for v in "${VARIANTS[@]}"; do
      for op in inspect status pid ip ports; do
        add "$op.$v" "$(bin_of "$v") $op $probe"
      done
    done
    group "$E" op "$ROUNDS" 1 1
    log "$E 1: stop of a stopped container, rm of a missing one, vs raw"
    add stop.raw "$E stop $PREFIX-b01"
    add rm.raw "$E rm $PREFIX-missing"
    for v in "${VARIANTS[@]}"; do
      add "stop.$v" "$(bin_of "$v") stop $PREFIX-b01"
      add "rm.$v" "$(bin_of "$v") rm $PREFIX-missing"
    done
    HF_EXTRA=(-i) # raw `rm` of a missing container exits 1
    group "$E" stoprm "$ROUNDS" 1 1
  fi

  # 2. batching
  if in_budget "$E: 2 batching"; then
    log "$E 2: status of 50 vs one batched raw inspect"
    add raw50 "$raw50"
    for v in "${VARIANTS[@]}"; do add "status50.$v" "$(bin_of "$v") status ${many[*]}"; done
    group "$E" batch "$ROUNDS" 1 1
    log "$E 2: ps -a of the run's containers vs raw ps (one engine call since issue 13)"
    add rawps "$E ps -a --no-trunc --filter label=dockhand.bench.run=$RUN_ID"
    add ps.release "$REL ps -a --filter label=dockhand.bench.run=$RUN_ID"
    add psjson.release "$REL --json ps -a --filter label=dockhand.bench.run=$RUN_ID"
    group "$E" ps "$ROUNDS" 1 1
    log "$E 2: status of 50 vs a loop of 50 raw inspects"
    add loop50 "sh $loop"
    add status50.release "$REL status ${many[*]}"
    group "$E" loop "$LOG_ROUNDS" 1 0
  fi

  # 5. library vs processes (+ python-on-whales per-call and per-process costs)
  if in_budget "$E: 5 library"; then
    log "$E 5: $LIB_COUNT inspects in one process vs $LIB_COUNT processes"
    "$EXAMPLE" "$probe" "$LIB_COUNT" "$REL" >"$RUN_DIR/$E-lib.tsv"
    if [ -n "$PY" ]; then
      log "$E: python-on-whales reference (in-process calls, and one call per process)"
      "$PY" - "$E" "$probe" "$ROUNDS" "$LOG_ROUNDS" "${many[@]}" >"$RUN_DIR/$E-pow.json" <<'PYEOF'
# Interleaved, in one process: python-on-whales calls vs the raw CLI run
# through subprocess (what python-on-whales itself does underneath). The
# 50-container calls run in fewer rounds: python-on-whales makes 50 calls.
import json, subprocess, sys, time
from python_on_whales import DockerClient

engine, one, rounds, rounds50, many = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
client = DockerClient(client_call=[engine])
raw = lambda names: subprocess.run([engine, "inspect", "--type", "container", "--", *names],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
ways = {
    "pow.inspect": lambda: client.container.inspect(one),
    "pow.status": lambda: client.container.inspect(one).state.status,
    "py.raw": lambda: raw([one]),
    "pow.inspect50": lambda: client.container.inspect(many),
    "py.raw50": lambda: raw(many),
}
for f in ways.values():
    f()
times = {k: [] for k in ways}
names = list(ways)
for r in range(rounds):
    for k in names[r % len(names):] + names[:r % len(names)]:
        if k.endswith("50") and r >= rounds50:
            continue
        t = time.perf_counter()
        ways[k]()
        times[k].append((time.perf_counter() - t) * 1000)
json.dump(times, sys.stdout)
PYEOF
      printf 'from python_on_whales import DockerClient\nimport sys\nDockerClient(client_call=[sys.argv[1]]).container.inspect(sys.argv[2])\n' \
        >"$RUN_DIR/pow-inspect.py"
      add pow.process "$PY $RUN_DIR/pow-inspect.py $E $probe"
      add inspect.release "$REL inspect $probe"
      group "$E" proc "$LOG_ROUNDS" 1 1
    fi
  fi

  # 4. logs throughput
  if in_budget "$E: 4 logs"; then
    follow=(-f)
    if [ "$E" = podman ]; then
      # podman 4.3 `logs -f` of a stopped container with k8s-file stops early
      # (podman issue #21914): record how many lines it gave, and compare
      # without -f, which reads the whole file.
      "$E" logs -f "$logc" | wc -l >"$RUN_DIR/$E-logs-follow-count.txt"
      follow=()
    fi
    log "$E 4: logs ${follow[*]} --json vs raw logs ${follow[*]} ($LOG_LINES lines)"
    "$REL" --json logs "${follow[@]}" "$logc" | wc -l >"$RUN_DIR/$E-logs-dockhand-count.txt"
    add logs.raw "$E logs ${follow[*]} $logc"
    add logs.raw_t "$E logs ${follow[*]} -t $logc"
    for v in "${VARIANTS[@]}"; do add "logs.$v" "$(bin_of "$v") --json logs ${follow[*]} $logc"; done
    group "$E" logs "$LOG_ROUNDS" 1 0
    echo "${follow[*]}" >"$RUN_DIR/$E-logs-follow.txt"
  fi
  # 9. readiness latency
  if in_budget "$E: 9 readiness"; then
    log "$E 9: wait-for --running/--exit/--healthy, from the change to dockhand's exit"
    bench_readiness "$E"
  fi
  # 8. instructions per operation (callgrind): counts, not time
  if command -v valgrind >/dev/null && in_budget "$E: 8 callgrind"; then
    log "$E 8: callgrind instruction counts per operation"
    scripts/callgrind-ops.sh "$REL" "$E" "$RUN_DIR/$E-callgrind.tsv" "${CG_LOG_LINES:-20000}" >&2
  fi
  # 6. registry
  if in_budget "$E: 6 registry"; then
    bench_registry "$E"
  fi

  # 8. apps: the same compose files through dockhand and the engine's compose tool
  compose=docker-compose
  [ "$E" = podman ] && compose=podman-compose
  if in_budget "$E: 11 apps" && command -v "$compose" >/dev/null 2>&1; then
    log "$E 8: app up/no-op up/ps/down of 10 services vs $compose"
    appdir="$RUN_DIR/apps-$E"
    cp -r tests/fixtures/apps/tenservices "$appdir"
    {
      echo "services:"
      for s in gateway api auth db cache queue worker-a worker-b scheduler metrics; do
        printf '  %s:\n    labels:\n      dockhand.bench: "1"\n      dockhand.bench.run: "%s"\n' "$s" "$RUN_ID"
      done
    } >"$appdir/bench-labels.yaml"
    files="-f $appdir/compose.yaml -f $appdir/bench-labels.yaml"
    dh="$REL --engine $E app -p $PREFIX-dh $files"
    ref="$compose -p $PREFIX-ref $files"
    APP_DOWN+=("$dh down -v" "$ref down -v")
    addp app-up.dh "$dh up" "$dh down -v"
    addp app-up.ref "$ref up -d" "$ref down -v"
    addp app-noop.dh "$dh up" "$dh up"
    addp app-noop.ref "$ref up -d" "$ref up -d"
    # The issue's yardstick for a no-op up: one raw inspect of the 10 containers.
    names10=""
    for s in gateway api auth db cache queue worker-a worker-b scheduler metrics; do names10+=" $PREFIX-dh-$s-1"; done
    addp app-noop.raw10 "$E inspect$names10" "$dh up"
    addp app-ps.dh "$dh ps" "$dh up"
    addp app-ps.ref "$ref ps" "$ref up -d"
    addp app-down.dh "$dh down -v" "$dh up"
    addp app-down.ref "$ref down -v" "$ref up -d"
    group "$E" apps "$APP_ROUNDS" 1 0
    $dh down -v >/dev/null 2>&1 || true
    $ref down -v >/dev/null 2>&1 || true
  fi
  cleanup
done
stop_registry

# ---------------------------------------------------------------- 7. spawn
# User-space instructions per spawn: (count(51) - count(1)) / 50.
if command -v valgrind >/dev/null && in_budget "7 spawn cost"; then
  cargo build --release --locked --example bench_spawn >&2
  : >"$RUN_DIR/spawn-callgrind.txt"
  for way in spawn fork dockhand; do
    for n in 1 51; do
      valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$TARGET/release/examples/bench_spawn" "$way" "$n" 2>&1 |
        sed -n 's/.*Collected : //p' >"$RUN_DIR/spawn-$way-$n.txt"
    done
    echo "$way $((($(cat "$RUN_DIR/spawn-$way-51.txt") - $(cat "$RUN_DIR/spawn-$way-1.txt")) / 50))" \
      >>"$RUN_DIR/spawn-callgrind.txt"
  done
  log "instructions per spawn (callgrind, user space): $(tr '\n' ' ' <"$RUN_DIR/spawn-callgrind.txt")"
fi

# ---------------------------------------------------------------- 10. fleet
if [ -x /usr/sbin/sshd ] && [ "$(id -u)" = 0 ] && in_budget "10 fleet"; then
  log "8: status on 3 test hosts over ssh: parallel vs sequential, without and with connection sharing"
  tests/fixtures/testhosts sweep >&2 || true
  FLEET_DIR=$(mktemp -d /tmp/dhb-XXXXXX)
  tests/fixtures/testhosts up "$FLEET_DIR" 3 >&2
  # shellcheck source=/dev/null
  . "$FLEET_DIR/hosts.env"
  fleet_c="$PREFIX-fleet"
  for i in 1 2 3; do
    sock_var=HOST_${i}_SOCK
    timeout --foreground 120 docker -H "unix://${!sock_var}" run -d --name "$fleet_c" "$IMAGE" sleep 3600 >/dev/null
  done
  hosts="$HOST_1_URL,$HOST_2_URL,$HOST_3_URL"
  # hyperfine -N splits on blanks: no word below has one.
  # The test hosts run dockerd: not the engine the last section exported.
  client="env PATH=$SSH_BIN_DIR:$PATH DOCKHAND_ENGINE=docker TESTHOSTS_SSH_CONFIG=$SSH_CONFIG_DIRECT DOCKHAND_SSH_DIR=$FLEET_DIR/ssh $CLIENT_EXEC $REL"
  add fleet.par "$client --hosts $hosts --ssh-share 0 status $fleet_c"
  add fleet.seq "$client --hosts $hosts --parallel 1 --ssh-share 0 status $fleet_c"
  add fleet.par_share "$client --hosts $hosts --ssh-share 60s status $fleet_c"
  add fleet.seq_share "$client --hosts $hosts --parallel 1 --ssh-share 60s status $fleet_c"
  group all fleet "$ROUNDS" 1 1
  cleanup
fi

# ---------------------------------------------------------------- 12. startup
# dockhand's own startup in callgrind instructions (scripts/bench-startup.sh).
if command -v valgrind >/dev/null && in_budget "12 startup"; then
  startup_bins=()
  for v in "${VARIANTS[@]}"; do startup_bins+=("$(bin_of "$v")"); done
  scripts/bench-startup.sh "${startup_bins[@]}" >"$RUN_DIR/startup-callgrind.md"
fi

# ---------------------------------------------------------------- report
log "report"
for v in "${VARIANTS[@]}"; do stat -c %s "$(bin_of "$v")" >"$RUN_DIR/size-$v.txt"; done
/usr/bin/time -o "$RUN_DIR/rss-engine-cli.txt" -f '%M' "${ENGINES[0]}" version >/dev/null 2>&1 || true
printf '%s\n' "$LOG_LINES" "$LIB_COUNT" "$ROUNDS" "$LOG_ROUNDS" >"$RUN_DIR/settings.txt"
render "$RUN_DIR" >"$RUN_DIR/results.md"
if [ -s "$RUN_DIR/startup-callgrind.md" ]; then
  printf '\n### 8. startup: instructions (callgrind)\n\n' >>"$RUN_DIR/results.md"
  cat "$RUN_DIR/startup-callgrind.md" >>"$RUN_DIR/results.md"
fi
cp "$RUN_DIR/results.md" "$OUT/results.md"
cat "$RUN_DIR/results.md"
log "raw data: $RUN_DIR (total ${SECONDS}s)"

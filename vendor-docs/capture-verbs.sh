#!/usr/bin/env bash
# Re-creates the captures of the exact commands dockhand's new verbs send
# (issue 13 part B), where run-flags.md's captures used other flags:
#  - vb-history-bytes: `image history --human=false` (docker 28.2 and 20.10)
#    and podman's `--format=json`: sizes in bytes;
#  - vb-ps-template: dockhand's `ps` template on docker (both CLIs; never
#    `{{json .}}`, one `.Label` lookup) and podman's `--format=json`, over a
#    running container with an IP-bound port, a range and a label value with
#    a comma, an exited one (exit 3) and a created one with a port.
# Rows in each exit-codes.tsv (its own rows are replaced on a re-run).
# Containers are named dh-vb-cap-* and removed.
# Usage: vendor-docs/capture-verbs.sh [CASE_GLOB]   (~20 s)
# shellcheck source=vendor-docs/capture-lib.sh
. "$(dirname "$0")/capture-lib.sh"
capture_setup dh-vb-cap "$@"
IMG=dockhand-test/busybox:latest
LABEL=dockhand.test=vendor-docs

cleanup() {
  for e in docker podman; do
    $e ps -aq --filter name=dh-vb-cap- | xargs -r $e rm -f >/dev/null 2>&1
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

run_in() {
  local dir=$1 slug=$2 word
  wanted "$slug" || return 0
  if word=$(scenario_word_in "$slug"); then echo "slug $slug contains scenario word '$word'" >&2; exit 1; fi
  capture_into "$dir" "$slug" "$3" - "${@:4}"
  printf '%-40s exit %-3s %5ss\n' "$slug" "$CAPTURE_RC" "$CAPTURE_SECONDS" >&2
}

# dockhand's docker ps template (container/ps.rs) for a query with one label.
TEMPLATE='{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"State":{{json .State}},"Status":{{json .Status}},"CreatedAt":{{json .CreatedAt}},"Ports":{{json .Ports}},"Networks":{{json .Networks}},"Command":{{json .Command}},"L0":{{json (.Label "dockhand.test")}}}'

range=19300
for e in docker podman; do
  $e run -d --name dh-vb-cap-run --label $LABEL --label 'dhc.note=a,b=c' -p 127.0.0.1::80 \
    -p $range-$((range + 1)):9000-9001 $IMG sleep 300 >/dev/null
  range=$((range + 10))
  $e run --name dh-vb-cap-exited --label $LABEL $IMG sh -c 'exit 3' >/dev/null
  $e create --name dh-vb-cap-created --label $LABEL -p 4000 $IMG true >/dev/null
done

for cli in /usr/local/bin/docker /usr/bin/docker; do
  suffix=""
  [ "$cli" = /usr/bin/docker ] && suffix=-client20
  run_in "$OUT/docker" "vb-history-bytes$suffix" 20 $cli image history --no-trunc --human=false \
    '--format={{json .}}' -- $IMG
  run_in "$OUT/docker" "vb-ps-template$suffix" 20 $cli ps --no-trunc -a --filter=name=dh-vb-cap- \
    "--filter=label=$LABEL" "--format=$TEMPLATE"
done
run_in "$OUT/podman" vb-history-bytes 20 podman image history --no-trunc --format=json -- $IMG
run_in "$OUT/podman" vb-ps-template 20 podman ps --no-trunc -a --filter=name=dh-vb-cap- \
  "--filter=label=$LABEL" --format=json

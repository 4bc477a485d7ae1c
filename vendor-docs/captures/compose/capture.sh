#!/usr/bin/env bash
# Regenerates the captures in this directory: every fixture of
# tests/fixtures/apps run through docker-compose (against dockerd) and
# podman-compose (against podman): config, up -d, up -d again, ps, the engine's
# own listing, inspect of every container/network/volume/pod the project made,
# the engine events of up and down, then down (-v), and what is left after it.
# The bad/*.yaml files: config and up --no-start through both tools.
#
# Needs scripts/setup-engine.sh (docker-compose 1.29.2, podman-compose 1.6.0).
# When Debian's podman-compose 1.0.3 is at /usr/bin/podman-compose, a few
# captures are made with it too (podman-compose-1.0.3/), for the comparison in
# vendor-docs/compose.md. Objects are named dhc-*; everything is removed again.
# Takes about three minutes; run it alone (it starts ~30 containers).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$(cd "$HERE/../../../tests/fixtures/apps" && pwd)
# Fixtures are copied here so that the directory name is the default project
# name (dhc-<fixture>) and paths in the captures do not depend on the checkout.
WORK=/tmp/dhc-compose-capture
EXTERNAL_VOLUME=dhc-override-archive
# Nothing from the caller's environment may leak into the interpolation.
unset API_TOKEN APP_MODE HOST_LABEL DB_PASSWORD APP_NAME APP_VERSION REGION EMPTY_VAR LOG_MAX_SIZE IMAGE_TAG \
  DHC_SUBNET_PREFIX DHC_EXTERNAL_VOLUME COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PROFILES PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT

log() { printf 'capture: %s\n' "$*" >&2; }

# cap DIR SLUG MODE CMD...: runs CMD in $CWD, stores its output in DIR as SLUG
# and appends "SLUG<TAB>exit code<TAB>command line" to DIR/exit-codes.tsv.
# MODE json: stdout is one JSON document -> SLUG.json
#      text: stdout text or JSON lines  -> SLUG.txt (SLUG-EMPTY.txt when empty)
#      both: SLUG.stdout.txt (when not empty) + SLUG.stderr.txt
# A stderr that is not kept (json/text) must be empty; it is shown otherwise.
cap() {
  local dir=$1 slug=$2 mode=$3 rc line
  shift 3
  mkdir -p "$dir"
  if declare -F "$1" >/dev/null; then
    (cd "$CWD" && "$@") >"$dir/.out" 2>"$dir/.err"
  else
    (cd "$CWD" && timeout 180 "$@") >"$dir/.out" 2>"$dir/.err"
  fi
  rc=$?
  line="cd $CWD &&"
  if [ -n "${PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT:-}" ]; then line+=" PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT=1"; fi
  for a in "$@"; do line+=" $(printf '%q' "$a")"; done
  case $mode in
    json) mv "$dir/.out" "$dir/$slug.json" ;;
    text)
      if [ -s "$dir/.out" ]; then mv "$dir/.out" "$dir/$slug.txt"; else slug+=-EMPTY; mv "$dir/.out" "$dir/$slug.txt"; fi ;;
    both)
      if [ -s "$dir/.out" ]; then mv "$dir/.out" "$dir/$slug.stdout.txt"; fi
      mv "$dir/.err" "$dir/$slug.stderr.txt" ;;
  esac
  if [ -s "$dir/.err" ]; then log "$slug: stderr: $(head -c 300 "$dir/.err")"; fi
  rm -f "$dir/.out" "$dir/.err"
  printf '%s\t%s\t%s\n' "$slug" "$rc" "$line" >>"$dir/exit-codes.tsv"
  return 0
}

# Engine events since $1 (unix seconds) of the objects of project $2, as the
# engine printed them (JSON lines), keeping only lines that name the project.
events_of() {
  local engine=$1 since=$2 project=$3
  if [ "$engine" = docker ]; then
    docker events --since "$since" --until "$(date +%s.%N)" --format '{{json .}}'
  else
    podman events --since "$(date -u -d "@$since" +%Y-%m-%dT%H:%M:%S.%NZ)" --stream=false --format json
  fi | python3 -c '
import json, sys
project = sys.argv[1]
for line in sys.stdin:
    e = json.loads(line)
    actor = e.get("Actor", {})
    attrs = actor.get("Attributes", {}) or e.get("Attributes", {}) or {}
    names = [e.get("Name", ""), actor.get("ID", ""), attrs.get("name", ""), attrs.get("com.docker.compose.project", "")]
    if any(n == project or n.startswith(project + "_") or n.startswith(project + "-") or n == "pod_" + project for n in names):
        sys.stdout.write(line)
' "$project"
}

# The project's objects, found by compose's project label (both tools set it).
objects_of() {
  local engine=$1 kind=$2 project=$3
  case $kind in
    container) "$engine" ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}}' ;;
    network) "$engine" network ls --filter "label=com.docker.compose.project=$project" --format '{{.Name}}' ;;
    volume) "$engine" volume ls --filter "label=com.docker.compose.project=$project" --format '{{.Name}}' ;;
    pod) [ "$engine" = podman ] && podman pod ls --filter "name=^pod_$project\$" --format '{{.Name}}' ;;
  esac | sort
}

inspect_all() {
  local out=$1 engine=$2 prefix=$3 project=$4 name
  for name in $(objects_of "$engine" container "$project"); do
    cap "$out" "$prefix-inspect-container-$name" json "$engine" container inspect "$name"
  done
  for name in $(objects_of "$engine" network "$project"); do
    cap "$out" "$prefix-inspect-network-$name" json "$engine" network inspect "$name"
  done
  for name in $(objects_of "$engine" volume "$project"); do
    cap "$out" "$prefix-inspect-volume-$name" json "$engine" volume inspect "$name"
  done
  for name in $(objects_of "$engine" pod "$project"); do
    cap "$out" "$prefix-inspect-pod-$name" json podman pod inspect "$name"
  done
}

leftovers() {
  local out=$1 engine=$2 prefix=$3 project=$4
  cap "$out" "$prefix-left-containers" text "$engine" ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}}'
  cap "$out" "$prefix-left-networks" text "$engine" network ls --filter "label=com.docker.compose.project=$project" --format '{{.Name}}'
  cap "$out" "$prefix-left-volumes" text "$engine" volume ls --filter "label=com.docker.compose.project=$project" --format '{{.Name}}'
  if [ "$engine" = podman ]; then
    cap "$out" "$prefix-left-pods" text podman pod ls --filter "name=^pod_$project\$" --format '{{.Name}}'
  fi
}

# One full cycle. $1 tool dir, $2 compose command, $3 engine, $4 slug prefix,
# $5 project, $6 "plain" (down, leftovers, then down -v) or "v" (down -v),
# then the compose options that select files/project (may be none).
cycle() {
  local out=$HERE/$1 tool=$2 engine=$3 prefix=$4 project=$5 downmode=$6 t0
  shift 6
  log "$prefix: $tool ${*}"
  cap "$out" "$prefix-config" both "$tool" "$@" config
  t0=$(date +%s.%N)
  cap "$out" "$prefix-up" both "$tool" "$@" up -d
  # Let healthchecks (docker runs them; podman does not here) settle.
  sleep 3
  cap "$out" "$prefix-events-up" text events_of "$engine" "$t0" "$project"
  cap "$out" "$prefix-up-again" both "$tool" "$@" up -d
  cap "$out" "$prefix-ps" both "$tool" "$@" ps
  if [ "$engine" = docker ]; then
    cap "$out" "$prefix-engine-ps" text docker ps -a --filter "label=com.docker.compose.project=$project" --format '{{json .}}'
  else
    cap "$out" "$prefix-engine-ps" json podman ps -a --filter "label=com.docker.compose.project=$project" --format json
  fi
  inspect_all "$out" "$engine" "$prefix" "$project"
  t0=$(date +%s.%N)
  if [ "$downmode" = plain ]; then
    cap "$out" "$prefix-down" both "$tool" "$@" down
    leftovers "$out" "$engine" "$prefix-after-down" "$project"
  fi
  cap "$out" "$prefix-down-v" both "$tool" "$@" down -v
  cap "$out" "$prefix-events-down" text events_of "$engine" "$t0" "$project"
  leftovers "$out" "$engine" "$prefix-after-down-v" "$project"
}

# A container made by another tool (as dockhand would): v2-style name, the
# compose labels (plus "$@"), no config hash unless given. What do this
# tool's ps, up and down do with it?
handmade() {
  local out=$1 tool=$2 engine=$3 prefix=$4
  shift 4
  mkdir -p "$CWD"
  printf 'services:\n  web:\n    image: dockhand-test/busybox:latest\n    command: ["sleep", "600"]\n    init: true\n' >"$CWD/compose.yaml"
  cap "$out" "$prefix-create" text "$engine" run -d --name dhc-handmade-web-1 --init \
    --label com.docker.compose.project=dhc-handmade --label io.podman.compose.project=dhc-handmade \
    --label com.docker.compose.service=web --label com.docker.compose.container-number=1 \
    --label com.docker.compose.oneoff=False "$@" dockhand-test/busybox:latest sleep 600
  cap "$out" "$prefix-ps" both "$tool" ps
  cap "$out" "$prefix-up" both "$tool" up -d
  cap "$out" "$prefix-engine-ps-after-up" text "$engine" ps -a --filter label=com.docker.compose.project=dhc-handmade --format '{{.Names}} {{.Status}}'
  cap "$out" "$prefix-down" both "$tool" down
  leftovers "$out" "$engine" "$prefix-after-down" dhc-handmade
  "$engine" rm -f dhc-handmade-web-1 >/dev/null 2>&1
  (cd "$CWD" && timeout 120 "$tool" down -v >/dev/null 2>&1)
}

rm -rf "$WORK"
mkdir -p "$WORK"
for f in webstack anchors override tenservices interp-edge bad; do
  cp -a "$FIXTURES/$f" "$WORK/dhc-$f"
done
for d in docker-compose podman-compose podman-compose-1.0.3; do
  rm -rf "${HERE:?}/$d"
done
for engine in docker podman; do
  "$engine" volume rm "$EXTERNAL_VOLUME" >/dev/null 2>&1
  "$engine" volume create --label dockhand.test=vendor-docs "$EXTERNAL_VOLUME" >/dev/null
done

for pair in "docker-compose docker-compose docker" "podman-compose podman-compose podman"; do
  read -r dir tool engine <<<"$pair"
  out=$HERE/$dir
  mkdir -p "$out"
  CWD=$WORK
  cap "$out" version both "$tool" version

  CWD=$WORK/dhc-webstack
  cycle "$dir" "$tool" "$engine" webstack dhc-webstack plain -p dhc-webstack
  CWD=$WORK/dhc-anchors
  cycle "$dir" "$tool" "$engine" anchors dhc-anchors v -p dhc-anchors
  # No -p and no -f: project name from the directory, compose.yaml +
  # compose.override.yaml found by their default names.
  CWD=$WORK/dhc-override
  cycle "$dir" "$tool" "$engine" override dhc-override plain
  cap "$out" override-profile-debug-config both "$tool" --profile debug config --services
  cycle "$dir" "$tool" "$engine" override-prod dhc-override-prod v -p dhc-override-prod -f compose.yaml -f compose.prod.yaml
  # down -v never removes an external volume.
  cap "$out" override-prod-after-down-v-external-volume json "$engine" volume inspect "$EXTERNAL_VOLUME"
  CWD=$WORK/dhc-tenservices
  cycle "$dir" "$tool" "$engine" tenservices dhc-tenservices v -p dhc-tenservices
  CWD=$WORK/dhc-interp-edge
  cap "$out" interp-edge-config both "$tool" -p dhc-interp-edge config

  CWD=$WORK/dhc-bad
  for f in "$WORK"/dhc-bad/*.yaml; do
    b=$(basename "$f" .yaml)
    cap "$out" "bad-$b-config" both "$tool" -p dhc-bad -f "$b.yaml" config
    cap "$out" "bad-$b-up-no-start" both "$tool" -p dhc-bad -f "$b.yaml" up --no-start
    (cd "$CWD" && timeout 120 "$tool" -p dhc-bad -f "$b.yaml" down -v >/dev/null 2>&1)
  done

  CWD=$WORK/dhc-handmade
  handmade "$out" "$tool" "$engine" handmade
  if [ "$engine" = docker ]; then
    handmade "$out" "$tool" "$engine" handmade-versioned \
      --label com.docker.compose.version=0.1.0 --label com.docker.compose.config-hash=0000
  else
    PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT=1 handmade "$out" "$tool" "$engine" handmade-compat
  fi

  # Refused (or not) from stdin: forms the fixtures leave out.
  CWD=$WORK
  # shellcheck disable=SC2016 # the $ forms are the compose text itself
  for probe in 'alt-value|services: {s: {image: dockhand-test/busybox:latest, environment: {A: "${HOME:+set}"}}}' \
    'lone-dollar|services: {s: {image: dockhand-test/busybox:latest, environment: {A: "cost: $ 5, $1"}}}' \
    'top-level-name|name: dhc-named
services: {s: {image: dockhand-test/busybox:latest}}'; do
    cap "$out" "stdin-${probe%%|*}-config" both sh -c "printf '%s\n' \"\$1\" | $tool -p dhc-stdin -f - config" sh "${probe#*|}"
  done
done

# podman-compose's docker-compose compatibility mode: names with '-', no pod.
out=$HERE/podman-compose
CWD=$WORK/dhc-tenservices
export PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT=1
cycle podman-compose podman-compose podman tenservices-compat dhc-tenservices-compat v -p dhc-tenservices-compat
unset PODMAN_COMPOSE_DOCKER_COMPOSE_COMPAT

# Debian's podman-compose 1.0.3, for comparison only.
debian_pc_version=$(/usr/bin/podman-compose version 2>/dev/null || true)
if [[ $debian_pc_version == *"version  1.0.3"* ]]; then
  dir=podman-compose-1.0.3
  out=$HERE/$dir
  CWD=$WORK
  cap "$out" version both /usr/bin/podman-compose version
  CWD=$WORK/dhc-webstack
  cap "$out" webstack-config both /usr/bin/podman-compose -p dhc-webstack103 config
  cap "$out" webstack-up both /usr/bin/podman-compose -p dhc-webstack103 up -d
  CWD=$WORK/dhc-tenservices
  cycle "$dir" /usr/bin/podman-compose podman tenservices dhc-tenservices103 v -p dhc-tenservices103
  # 1.0.3's down leaves the project's network behind (the capture shows it).
  podman network rm dhc-tenservices103_default >/dev/null 2>&1
fi

for engine in docker podman; do
  "$engine" volume rm "$EXTERNAL_VOLUME" >/dev/null
done
rm -rf "$WORK"
log "done"

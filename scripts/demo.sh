#!/usr/bin/env bash
# The main job, end to end, with the dockhand binary on the real engine:
# run a service container (port, env incl. a secret, volume, labels, limits,
# network), ask for its status, PID, IPs and ports, wait until it serves,
# exec inside, read its logs, plumb a host veth into its network namespace,
# clean up stale containers; deploy an app from a compose file, update it
# (same host port), watch a failed update roll back, remove it; and show the
# exit codes scripts rely on.
# Usage: scripts/demo.sh [docker|podman]   (default: docker)
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${1:-docker}
IMAGE=dockhand-test/busybox:latest
P=dh-demo-$$
scripts/setup-engine.sh
cargo build --release --quiet
dh() { target/release/dockhand --engine "$ENGINE" "$@"; }
say() { printf '\n\033[1m$ dockhand %s\033[0m\n' "$*"; }
show() { say "$@"; dh "$@"; }
# The app: tests/fixtures/apps/routerapp (a web portal on a loopback port, an
# API on two networks, a store; limits, an API token, anchors).
APP=(app -f tests/fixtures/apps/routerapp/compose.yaml -p "$P-app")
TMP=$(mktemp -d)

cleanup() {
  dh "${APP[@]}" down -v >/dev/null 2>&1 || true
  rm -rf "$TMP"
  dh link del "$P-web" --if lan0 >/dev/null 2>&1 || true
  dh reset -l "demo=$P" --yes >/dev/null 2>&1 || true
  dh network rm "$P-net" >/dev/null 2>&1 || true
  dh volume rm "$P-data" >/dev/null 2>&1 || true
}
trap cleanup EXIT

show check

# A network and a volume for the service.
show --json network create "$P-net" --subnet 10.77.0.0/24 -l "demo=$P"
show volume create "$P-data" -l "demo=$P"

# The service: busybox httpd on a random host port. The API token comes from
# dockhand's own environment (-e KEY): it never appears in any argv.
export API_TOKEN="s3cret-$$"
show run -d --name "$P-web" --network "$P-net" --network-alias web -p 80 \
  -e GREETING=hello -e API_TOKEN --volume "$P-data:/data" -l "demo=$P" \
  --memory 64m --cpus 0.5 --restart on-failure:3 --cap-add NET_ADMIN \
  "$IMAGE" httpd -f -v -p 80 -h /var/www

show wait-for "$P-web" --port 80 --timeout 20s
show status "$P-web" "$P-never-created"
show pid "$P-web"
show ip "$P-web"
show ports "$P-web"
show gateway "$P-web"
show --json inspect "$P-web" | head -c 400; echo " …"

# The IPv4 binding (docker may give IPv6 another host port).
port=$(dh ports "$P-web" 80/tcp | sed -n 's/^0\.0\.0\.0://p' | head -1)
say "(host) busybox wget http://127.0.0.1:$port/"
busybox wget -qO- "http://127.0.0.1:$port/"

show exec "$P-web" -- sh -c 'echo "GREETING=$GREETING token-length=${#API_TOKEN}"; touch /data/hello; ls /data'
show logs "$P-web" --tail 3
show --json logs "$P-web" --tail 1

# Host plumbing: a veth pair with one end inside the container's namespace.
show link add veth "$P-web" --if lan0 --ip 192.168.77.2/24
show link add veth "$P-web" --if lan0 --ip 192.168.77.2/24   # again: unchanged
show link ls "$P-web"
show netns exec "$P-web" -- ip -br addr show lan0
show link del "$P-web" --if lan0

# Stale containers: three that ran and exited, with a prefix; keep the newest one.
for i in 1 2 3; do
  dh run -d --name "$P-old-$i" -l "demo=$P" "$IMAGE" true >/dev/null
  dh wait "$P-old-$i" >/dev/null
done
show cleanup --prefix "$P-old-" --keep 1
show ps -a -l "demo=$P"

# An app: one `up` creates networks, volume and three containers in
# dependency order; the published port is pinned to the host port the engine
# chose, so updates keep it.
show "${APP[@]}" up
show "${APP[@]}" ps
app_port() { dh "${APP[@]}" ps | sed -n 's/.*127\.0\.0\.1:\([0-9]*\)->8080.*/\1/p'; }
port=$(app_port)
say "(host) busybox wget http://127.0.0.1:$port/"
busybox wget -qO- "http://127.0.0.1:$port/"

# An update: a rotated API token changes web and api. Each old container is
# set aside until its replacement runs; the host port stays.
export API_TOKEN="rotated-$$"
show "${APP[@]}" plan
show "${APP[@]}" up
echo "host port before the update: $port, after: $(app_port)"

# A failed update: the token again, and web's new image does not exist. The
# steps already done (api recreated) are undone; the app runs on as it was.
export API_TOKEN="again-$$"
printf 'services:\n  web:\n    image: dockhand-test/missing-%s:x\n' "$$" >"$TMP/broken.yaml"
say "${APP[*]} -f $TMP/broken.yaml up --pull never   (image missing → rolled back, 3)"
dh "${APP[@]}" -f "$TMP/broken.yaml" up --pull never 2>"$TMP/err" || echo "exit code: $?"
head -1 "$TMP/err"
export API_TOKEN="rotated-$$"
show --json "${APP[@]}" plan
show "${APP[@]}" ps
show "${APP[@]}" down -v

# What scripts see: exit codes, and JSON errors on stderr.
say "inspect $P-missing   (not found → 3)"
dh --json inspect "$P-missing" || echo "exit code: $?"
say "run --name 'web;reboot' … (invalid input → 2, refused before any engine call)"
dh run --name 'web;reboot' "$IMAGE" true || echo "exit code: $?"
say "check with DOCKER_HOST=unix:///nonexistent.sock (unreachable → 4)"
DOCKER_HOST=unix:///nonexistent.sock target/release/dockhand --engine docker --retries 1 check >/dev/null || echo "exit code: $?"

show rm -f "$P-web" "$P-old-3" "$P-never-created"
echo
echo "demo finished"

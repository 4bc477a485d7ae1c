#!/usr/bin/env bash
# Re-capture what the docker CLIs (28.2 /usr/local/bin/docker, 20.10
# /usr/bin/docker) and podman print over ssh, against real test hosts made by
# tests/fixtures/testhosts (see vendor-docs/ssh.md for the findings).
#   vendor-docs/capture-ssh.sh            (as root; ~3 minutes, mostly timeouts)
# Writes captures/{docker,podman}/{err-,}ssh-* and their exit-codes.tsv rows
# (old ssh rows are replaced), and vendor-docs/ssh-timings.tsv (slug, exit, ms).
# Every client runs inside the test set's client netns (no default route).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TESTHOSTS=$HERE/../tests/fixtures/testhosts
CAPS=$HERE/captures
# A fixed state dir: the paths in the texts stay the same from run to run.
DIR=/tmp/dhh-cap
D28=/usr/local/bin/docker
D20=/usr/bin/docker
TIMINGS=$HERE/ssh-timings.tsv

if [ -e "$DIR/state.env" ]; then "$TESTHOSTS" down "$DIR"; fi
mkdir -p "$DIR"
"$TESTHOSTS" up "$DIR" 2 --podman
"$TESTHOSTS" podman-service "$DIR"
SCRATCH=$(mktemp -d /tmp/dhh-capscratch.XXXXXX)
trap '"$TESTHOSTS" down "$DIR"; rmdir "$DIR"; rm -rf "$SCRATCH"' EXIT
# shellcheck source=/dev/null
. "$DIR/hosts.env"
export PATH="$SSH_BIN_DIR:$PATH" TESTHOSTS_SSH_CONFIG="$SSH_CONFIG_DIRECT"
IN_CLIENT=(nsenter "--net=/run/netns/$CLIENT_NETNS" --)

for engine in docker podman; do
  sed -i -E '/^(err-)?ssh-/d' "$CAPS/$engine/exit-codes.tsv"
  rm -f "$CAPS/$engine"/ssh-* "$CAPS/$engine"/err-ssh-*
done
printf 'slug\texit\tms\n' >"$TIMINGS"

# A command line as one would paste it: words quoted only where needed.
shell_line() {
  local w words=()
  for w in "$@"; do
    if [[ $w =~ ^[][A-Za-z0-9_./:=@%+,-]+$ ]]; then words+=("$w"); else words+=("'${w//\'/\'\\\'\'}'"); fi
  done
  echo "${words[*]}"
}

# cap ENGINE SLUG CMD...: run CMD in the client netns; keep stdout (if any),
# stderr (always), the exit code and the time taken.
cap() {
  local engine=$1 slug=$2 start rc=0 ms out=$CAPS/$1/$2
  shift 2
  start=$(date +%s%N)
  env SHLVL=1 "${IN_CLIENT[@]}" "$@" </dev/null >"$out.stdout.txt" 2>"$out.stderr.txt" || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  [ -s "$out.stdout.txt" ] || rm -f "$out.stdout.txt"
  printf '%s\t%s\t%s\n' "$slug" "$rc" "$(shell_line "${IN_CLIENT[@]}" "$@")" >>"$CAPS/$engine/exit-codes.tsv"
  printf '%s/%s\t%s\t%s\n' "$engine" "$slug" "$rc" "$ms" >>"$TIMINGS"
  printf '%-55s exit %-3s %6s ms  %s\n' "$engine/$slug" "$rc" "$ms" "$(head -c 100 "$out.stderr.txt" | head -1)" >&2
}

# cap_docker SLUG ARGS...: both clients; the 20.10 files only where they differ.
cap_docker() {
  local slug=$1 f same=1
  shift
  cap docker "$slug" "$D28" "$@"
  cap docker "$slug-client20" "$D20" "$@"
  for f in stdout stderr; do
    if [ -e "$CAPS/docker/$slug.$f.txt" ] || [ -e "$CAPS/docker/$slug-client20.$f.txt" ]; then
      cmp -s "$CAPS/docker/$slug.$f.txt" "$CAPS/docker/$slug-client20.$f.txt" || same=0
    fi
  done
  [ "$(awk -F'\t' -v s="$slug" '$1 == s {print $2}' "$CAPS/docker/exit-codes.tsv")" = \
    "$(awk -F'\t' -v s="$slug-client20" '$1 == s {print $2}' "$CAPS/docker/exit-codes.tsv")" ] || same=0
  [ "$same" = 0 ] || rm -f "$CAPS/docker/$slug-client20".*
}

H1=ssh://root@host1
docker -H "$HOST_1_DOCKER_HOST" create --name dhh-cap-c --label dockhand.test=vendor-docs "$IMAGE" true >/dev/null
podman --url "unix://$HOST_1_PODMAN_SOCK" create --name dhh-cap-c --label dockhand.test=vendor-docs "$IMAGE" true >/dev/null

# ---- docker: all good ----------------------------------------------------------
cap_docker ssh-ok-version -H "$H1" version --format '{{.Server.Version}}'
cap_docker ssh-ok-ps -H "$H1" ps -a --format '{{.Names}} {{.Status}}'
cap_docker ssh-ok-inspect -H "$H1" inspect --format '{{.Name}} {{.State.Status}}' dhh-cap-c
cap_docker ssh-ok-info-name -H "$H1" info --format '{{.Name}}'
cap_docker err-ssh-inspect-missing -H "$H1" inspect dhh-cap-nosuch
# The socket path in the URL: 28.2 runs `docker --host unix://PATH system dial-stdio`.
cap_docker ssh-url-socket-path -H "ssh://root@host1$HOST_2_SOCK" info --format '{{.Name}}'
# DOCKER_HOST instead of -H.
cap docker ssh-ok-env-docker-host env DOCKER_HOST="$H1" "$D28" ps -a --format '{{.Names}}'

# ---- docker: host keys and auth ------------------------------------------------------
# A user's config, not BatchMode: no tty, so ssh cannot ask.
: >"$SCRATCH/known_hosts.empty"
grep -v -e BatchMode -e StrictHostKeyChecking -e UserKnownHostsFile "$SSH_CONFIG_DIRECT" >"$SCRATCH/config.newkey"
echo "  UserKnownHostsFile $SCRATCH/known_hosts.empty" >>"$SCRATCH/config.newkey"
TESTHOSTS_SSH_CONFIG=$SCRATCH/config.newkey cap_docker err-ssh-hostkey-new -H "$H1" version --format '{{.Server.Version}}'
sed "s#UserKnownHostsFile .*#UserKnownHostsFile $SCRATCH/known_hosts.empty#" "$SSH_CONFIG_DIRECT" >"$SCRATCH/config.newkey-batch"
TESTHOSTS_SSH_CONFIG=$SCRATCH/config.newkey-batch cap_docker err-ssh-hostkey-new-batchmode -H "$H1" version --format '{{.Server.Version}}'
# StrictHostKeyChecking accept-new: first contact succeeds; ssh's warning is not shown.
sed "s#StrictHostKeyChecking yes#StrictHostKeyChecking accept-new#; s#UserKnownHostsFile .*#UserKnownHostsFile $SCRATCH/known_hosts.accept#" \
  "$SSH_CONFIG_DIRECT" >"$SCRATCH/config.accept-new"
TESTHOSTS_SSH_CONFIG=$SCRATCH/config.accept-new cap docker ssh-ok-hostkey-accept-new "$D28" -H "$H1" version --format '{{.Server.Version}}'
"$TESTHOSTS" bad-hostkey "$DIR" 1
cap_docker err-ssh-hostkey-changed -H "$H1" version --format '{{.Server.Version}}'
"$TESTHOSTS" restore "$DIR" 1
sed "s#IdentityFile .*#IdentityFile $SSH_WRONG_KEY#" "$SSH_CONFIG_DIRECT" >"$SCRATCH/config.wrongkey"
TESTHOSTS_SSH_CONFIG=$SCRATCH/config.wrongkey cap_docker err-ssh-auth-refused -H "$H1" version --format '{{.Server.Version}}'

# ---- docker: network ---------------------------------------------------------------
"$TESTHOSTS" stop-ssh "$DIR" 1
cap_docker err-ssh-conn-refused -H "$H1" version --format '{{.Server.Version}}'
"$TESTHOSTS" restore "$DIR" 1
TESTHOSTS_SSH_CONNECT_TIMEOUT=3 cap_docker err-ssh-conn-timeout -H ssh://root@blackhole version --format '{{.Server.Version}}'
# An unused LAN address: ARP fails after ~3 s per attempt.
cap_docker err-ssh-no-route -H "ssh://root@$UNUSED_ADDR" version --format '{{.Server.Version}}'
# Through a ProxyCommand (nc; bastions and ProxyJump look alike): other texts.
"$TESTHOSTS" stop-ssh "$DIR" 1
TESTHOSTS_SSH_CONFIG=$SSH_CONFIG cap docker err-ssh-proxy-conn-refused "$D28" -H "$H1" version --format '{{.Server.Version}}'
"$TESTHOSTS" restore "$DIR" 1
TESTHOSTS_SSH_CONFIG=$SSH_CONFIG TESTHOSTS_SSH_CONNECT_TIMEOUT=3 cap docker err-ssh-proxy-conn-timeout "$D28" -H ssh://root@blackhole version --format '{{.Server.Version}}'
cap_docker err-ssh-name-unresolved -H ssh://root@nosuchhost.invalid version --format '{{.Server.Version}}'

# ---- docker: the remote side -------------------------------------------------------------
"$TESTHOSTS" stop-daemon "$DIR" 1
cap_docker err-ssh-remote-daemon-down -H "$H1" version --format '{{.Server.Version}}'
cap_docker err-ssh-remote-daemon-down-ps -H "$H1" ps
# --debug shows what the remote `docker system dial-stdio` said.
cap_docker err-ssh-remote-daemon-down-debug --debug -H "$H1" ps
"$TESTHOSTS" restore "$DIR" 1
"$TESTHOSTS" hide-cli "$DIR" 1
cap_docker err-ssh-remote-cli-absent -H "$H1" version --format '{{.Server.Version}}'
for shell in dash busybox; do
  "$TESTHOSTS" hide-cli "$DIR" 1 "$shell"
  cap docker "err-ssh-remote-cli-absent-$shell" "$D28" -H "$H1" version --format '{{.Server.Version}}'
done
"$TESTHOSTS" restore "$DIR" 1
"$TESTHOSTS" deny-socket "$DIR" 1
cap_docker err-ssh-remote-socket-eacces -H "$H1" version --format '{{.Server.Version}}'
cap_docker err-ssh-remote-socket-eacces-debug --debug -H "$H1" ps
"$TESTHOSTS" restore "$DIR" 1

# ---- docker contexts ---------------------------------------------------------------------
export DOCKER_CONFIG=$SCRATCH/docker-config
cap docker ssh-context-create "$D28" context create dhh-host1 --docker "host=$H1"
cap docker ssh-context-create-client20 "$D20" context create dhh-host1-20 --docker "host=$H1"
cap docker ssh-context-ok-ps "$D28" --context dhh-host1 ps -a --format '{{.Names}}'
cap docker ssh-context-ok-ps-client20 "$D20" --context dhh-host1-20 ps -a --format '{{.Names}}'
cap docker ssh-context-ok-inspect-endpoint "$D28" context inspect --format '{{.Endpoints.docker.Host}}' dhh-host1
"$TESTHOSTS" bad-hostkey "$DIR" 1
cap docker err-ssh-context-hostkey-changed "$D28" --context dhh-host1 ps
cap docker err-ssh-context-hostkey-changed-client20 "$D20" --context dhh-host1-20 ps
"$TESTHOSTS" restore "$DIR" 1
"$TESTHOSTS" stop-ssh "$DIR" 1
cap docker err-ssh-context-conn-refused "$D28" --context dhh-host1 ps
cap docker err-ssh-context-conn-refused-client20 "$D20" --context dhh-host1-20 ps
"$TESTHOSTS" restore "$DIR" 1
"$TESTHOSTS" stop-daemon "$DIR" 1
cap docker err-ssh-context-remote-daemon-down "$D28" --context dhh-host1 ps
cap docker err-ssh-context-remote-daemon-down-client20 "$D20" --context dhh-host1-20 ps
"$TESTHOSTS" restore "$DIR" 1
unset DOCKER_CONFIG

# ---- podman --url ssh:// -----------------------------------------------------------------
# podman's ssh is built in: no ssh config, no PATH wrapper; it reads
# $HOME/.ssh/known_hosts (HOME is honoured), so HOME selects the case.
mkdir -p "$SCRATCH/home-known/.ssh" "$SCRATCH/home-none" "$SCRATCH/home-empty/.ssh"
cp "$KNOWN_HOSTS" "$SCRATCH/home-known/.ssh/known_hosts"
: >"$SCRATCH/home-empty/.ssh/known_hosts"
P1="ssh://root@$HOST_1_ADDR:22$HOST_1_PODMAN_SOCK"
# pod HOME SLUG [VAR=VALUE...] PODMAN-ARGS...
pod() {
  local home=$1 slug=$2 vars=()
  shift 2
  while [ $# -gt 0 ] && [[ $1 == [A-Z]*=* ]]; do vars+=("$1"); shift; done
  cap podman "$slug" env HOME="$SCRATCH/$home" "${vars[@]}" podman "$@"
}
pod home-known ssh-ok-version --url "$P1" --identity "$SSH_KEY" version --format '{{.Server.Version}}'
pod home-known ssh-ok-ps --url "$P1" --identity "$SSH_KEY" ps -a --format '{{.Names}} {{.Status}}'
pod home-known ssh-ok-inspect --url "$P1" --identity "$SSH_KEY" inspect --format '{{.Name}} {{.State.Status}}' dhh-cap-c
pod home-known ssh-ok-sshkey-env CONTAINER_SSHKEY="$SSH_KEY" --url "$P1" ps -a --format '{{.Names}}'
pod home-known ssh-ok-root-netns-service --url "ssh://root@$HOST_1_ADDR:22$PODMAN_SOCK" --identity "$SSH_KEY" info --format '{{.Host.Hostname}}'
pod home-none ssh-ok-no-known-hosts --url "$P1" --identity "$SSH_KEY" version --format '{{.Server.Version}}'
pod home-empty ssh-ok-hostkey-new-added --url "$P1" --identity "$SSH_KEY" version --format '{{.Server.Version}}'
cp "$SCRATCH/home-empty/.ssh/known_hosts" "$CAPS/podman/ssh-ok-hostkey-new-added.known_hosts.txt"
pod home-known err-ssh-inspect-missing --url "$P1" --identity "$SSH_KEY" inspect dhh-cap-nosuch
# Connections by name from a containers.conf named by CONTAINERS_CONF.
pod home-known ssh-ok-connection CONTAINERS_CONF="$DIR/containers.conf" --connection host1-own ps -a --format '{{.Names}}'
pod home-known err-ssh-connection-nosuch CONTAINERS_CONF="$DIR/containers.conf" --connection nosuch ps
"$TESTHOSTS" bad-hostkey "$DIR" 1
pod home-known err-ssh-hostkey-changed --url "$P1" --identity "$SSH_KEY" version
pod home-none ssh-hostkey-changed-unchecked --url "$P1" --identity "$SSH_KEY" version --format '{{.Server.Version}}'
"$TESTHOSTS" restore "$DIR" 1
pod home-known err-ssh-auth-refused --url "$P1" --identity "$SSH_WRONG_KEY" version
pod home-none err-ssh-auth-refused-no-known-hosts --url "$P1" --identity "$SSH_WRONG_KEY" version
pod home-known err-ssh-auth-no-identity --url "$P1" version
"$TESTHOSTS" stop-ssh "$DIR" 1
pod home-known err-ssh-conn-refused --url "$P1" --identity "$SSH_KEY" version
"$TESTHOSTS" restore "$DIR" 1
pod home-known err-ssh-conn-timeout --url "ssh://root@$BLACKHOLE_ADDR:22$HOST_1_PODMAN_SOCK" --identity "$SSH_KEY" version
pod home-known err-ssh-no-route --url "ssh://root@$UNUSED_ADDR:22$HOST_1_PODMAN_SOCK" --identity "$SSH_KEY" version
"$TESTHOSTS" stop-daemon "$DIR" 1
pod home-known err-ssh-remote-service-down --url "$P1" --identity "$SSH_KEY" version
"$TESTHOSTS" restore "$DIR" 1
pod home-known err-ssh-remote-socket-absent --url "ssh://root@$HOST_1_ADDR:22/run/dhh-nosuch/podman.sock" --identity "$SSH_KEY" version
"$TESTHOSTS" hide-cli "$DIR" 1
pod home-known ssh-ok-remote-cli-absent --url "$P1" --identity "$SSH_KEY" version --format '{{.Server.Version}}'
"$TESTHOSTS" restore "$DIR" 1

# Paths of this run that are not part of the finding.
sed -i "s#$SCRATCH#/tmp/dhh-capscratch#g" "$CAPS"/docker/*ssh-* "$CAPS"/podman/*ssh-* "$CAPS"/*/exit-codes.tsv
echo "captured; timings in $TIMINGS" >&2

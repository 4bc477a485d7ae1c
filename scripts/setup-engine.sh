#!/usr/bin/env bash
# Make this machine ready for dockhand's tests and demo. Idempotent: safe to
# run any number of times.
#  - installs docker.io, podman, busybox-static, iproute2 when missing, and
#    qemu-user-static (runs the aarch64 static binary in scripts/test.sh)
#  - starts dockerd in the background when `docker info` fails, and waits
#  - sets podman's default ulimits (the VM's rlimits make podman's defaults fail)
#  - creates the test image dockhand-test/busybox:latest in docker AND podman
#    by importing a rootfs made from busybox-static (nothing can be pulled)
#  - sources scripts/setup-engine.d/*.sh: one idempotent part per concern
set -euo pipefail

IMAGE=dockhand-test/busybox:latest
# Bump when the rootfs below changes: images of an older revision are re-imported.
IMAGE_REV=2
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockhand-dockerd.log}
log() { printf 'setup-engine: %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || need_pkgs+=(busybox-static)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v nsenter >/dev/null 2>&1 || need_pkgs+=(util-linux)
command -v qemu-aarch64-static >/dev/null 2>&1 || need_pkgs+=(qemu-user-static)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# dockerd: start it when the CLI cannot reach it.
if ! timeout 20 docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  # A stale pid file from a killed daemon blocks a new one.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    timeout 5 docker info >/dev/null 2>&1 && break
    sleep 1
  done
  timeout 20 docker info >/dev/null 2>&1 || { log "dockerd did not come up; see $DOCKERD_LOG"; tail -20 "$DOCKERD_LOG" >&2; exit 1; }
fi

# podman: default rlimits above what this VM allows fail container start.
CONF=/etc/containers/containers.conf
mkdir -p /etc/containers
if ! grep -q 'nofile=1024:1024' "$CONF" 2>/dev/null; then
  log "setting podman default_ulimits in $CONF"
  if grep -q '^\[containers\]' "$CONF" 2>/dev/null; then
    sed -i '/^\[containers\]/a default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]' "$CONF"
  else
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >>"$CONF"
  fi
fi

# The test image: a busybox-static rootfs, imported (nothing can be pulled).
make_rootfs_tar() {
  local dir tar
  dir=$(mktemp -d)
  tar=$(mktemp --suffix=.tar)
  mkdir -p "$dir"/{bin,etc,tmp,proc,sys,dev,root,var/www}
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  echo 'dockhand test page' >"$dir/var/www/index.html"
  chmod 1777 "$dir/tmp"
  tar -C "$dir" -cf "$tar" .
  rm -rf "$dir"
  echo "$tar"
}
ROOTFS=""
for engine in docker podman; do
  have=$("$engine" image inspect --format '{{index .Config.Labels "dockhand.test.image"}}' "$IMAGE" 2>/dev/null || true)
  if [ "$have" != "$IMAGE_REV" ]; then
    [ -n "$ROOTFS" ] || ROOTFS=$(make_rootfs_tar)
    log "importing $IMAGE (rev $IMAGE_REV) into $engine"
    "$engine" import -c 'CMD ["/bin/sh"]' -c "LABEL dockhand.test.image=$IMAGE_REV" "$ROOTFS" "$IMAGE" >/dev/null
  fi
done
[ -z "$ROOTFS" ] || rm -f "$ROOTFS"

# Further parts (registry, ssh test hosts, compose reference tools …), one
# file per concern so they stay independent: each is sourced in name order
# and must be idempotent too.
for part in "$(dirname "$0")"/setup-engine.d/*.sh; do
  [ -e "$part" ] || continue
  # shellcheck source=/dev/null
  . "$part"
done

# Prove both engines can start a container from it.
docker run --rm "$IMAGE" true
podman run --rm "$IMAGE" true
log "ready: docker $(docker version --format '{{.Server.Version}}'), podman $(podman version --format '{{.Client.Version}}')"

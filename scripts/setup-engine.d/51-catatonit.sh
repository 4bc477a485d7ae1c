# catatonit: the init process `podman run --init` starts (podman 4.3 looks for
# /usr/libexec/podman/catatonit and fails without it; Debian's podman only
# recommends the package). docker's --init uses docker-init (tini-static), which
# docker.io already depends on. See vendor-docs/run-flags.md, "--init".
if command -v podman >/dev/null 2>&1 && [ ! -x /usr/libexec/podman/catatonit ]; then
  log "installing catatonit"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends catatonit >/dev/null
fi

# shellcheck shell=bash
# Registry and remote-context test tools (issue 16), sourced by
# scripts/setup-engine.sh (which defines `log`). Idempotent: installs only
# what is missing.
#  - docker-registry (distribution 2.8): the REAL registry the tests push to
#    and pull from, started per test by tests/fixtures/registry on 127.0.0.1
#  - apache2-utils: htpasswd with bcrypt (-B), the only hash distribution's
#    htpasswd auth accepts
#  - git (git daemon, git http-backend) for the git-context fixture
#  - curl and wget: the download tools dockhand may drive for tarball contexts
#  - python3: tests/fixtures/fault-registry and the http.server fixture
registry_pkgs=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || registry_pkgs+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || registry_pkgs+=(apache2-utils)
# `git daemon` must exist, not only a git binary (some builds ship it apart).
[ -x "$(git --exec-path 2>/dev/null)/git-daemon" ] || registry_pkgs+=(git)
command -v curl >/dev/null 2>&1 || registry_pkgs+=(curl)
command -v wget >/dev/null 2>&1 || registry_pkgs+=(wget)
command -v python3 >/dev/null 2>&1 || registry_pkgs+=(python3)
if [ ${#registry_pkgs[@]} -gt 0 ]; then
  log "installing ${registry_pkgs[*]}"
  # Wait for another apt run (parallel setups) instead of failing at once.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${registry_pkgs[@]}" >/dev/null
fi
# The Debian package starts a system registry on :5000 where an init system
# runs it; tests never use that one (each starts its own on a free port).
unset registry_pkgs

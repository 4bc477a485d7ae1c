# Reference implementations for apps (issue 14): the same compose files are run
# through these and through `dockhand app` and the results compared.
#  - docker-compose v1 1.29.2: Debian's package. It talks to dockerd's socket
#    (docker-py), works with dockerd 20.10 here.
#  - podman-compose 1.6.0 from PyPI, in its own venv (Debian's 1.0.3 is not
#    used: it has no `config` command, labels every container with the fixed
#    config hash "123", and leaves the project's networks behind on `down`;
#    see vendor-docs/compose.md). Linked as /usr/local/bin/podman-compose,
#    which comes before /usr/bin on PATH.
# Sourced by setup-engine.sh (uses its `log`); idempotent.

PODMAN_COMPOSE_VERSION=1.6.0
PODMAN_COMPOSE_VENV=/opt/dockhand/podman-compose-$PODMAN_COMPOSE_VERSION

compose_pkgs=()
command -v docker-compose >/dev/null 2>&1 || compose_pkgs+=(docker-compose)
# The venv is made with Debian's python3 (not a pyenv or other one first on PATH).
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || compose_pkgs+=(python3-venv)
if [ ${#compose_pkgs[@]} -gt 0 ]; then
  log "installing ${compose_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${compose_pkgs[@]}" >/dev/null
fi

# Pinned with its dependencies. PyYAML 6.0.4 (what pip picks today) resolves
# `<<: [*a, *b]` with the LATER map winning for keys longer than one character
# (it de-duplicates keys by object identity); 6.0.2 keeps YAML's rule, earlier
# wins, like docker-compose. See vendor-docs/compose.md.
PODMAN_COMPOSE_REQS="podman-compose==$PODMAN_COMPOSE_VERSION python-dotenv==1.2.4 PyYAML==6.0.2"
if [ "$(cat "$PODMAN_COMPOSE_VENV/requirements.installed" 2>/dev/null)" != "$PODMAN_COMPOSE_REQS" ] \
  || ! "$PODMAN_COMPOSE_VENV/bin/podman-compose" version >/dev/null 2>&1; then
  log "installing $PODMAN_COMPOSE_REQS into $PODMAN_COMPOSE_VENV"
  rm -rf "$PODMAN_COMPOSE_VENV"
  mkdir -p "$(dirname "$PODMAN_COMPOSE_VENV")"
  /usr/bin/python3 -m venv "$PODMAN_COMPOSE_VENV"
  # shellcheck disable=SC2086 # one word per requirement
  "$PODMAN_COMPOSE_VENV/bin/pip" install -q --disable-pip-version-check $PODMAN_COMPOSE_REQS
  printf '%s\n' "$PODMAN_COMPOSE_REQS" >"$PODMAN_COMPOSE_VENV/requirements.installed"
fi
if [ "$(readlink /usr/local/bin/podman-compose 2>/dev/null)" != "$PODMAN_COMPOSE_VENV/bin/podman-compose" ]; then
  log "linking /usr/local/bin/podman-compose -> $PODMAN_COMPOSE_VENV/bin/podman-compose"
  ln -sfn "$PODMAN_COMPOSE_VENV/bin/podman-compose" /usr/local/bin/podman-compose
fi

# Both must answer; a broken install fails setup here, not in a test.
docker-compose version --short >/dev/null
podman-compose version >/dev/null

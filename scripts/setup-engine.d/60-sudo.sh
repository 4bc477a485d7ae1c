# sudo: engines given as `sudo -n docker` (sudo closes the descriptors it did
# not open, so dockhand's env-file falls back to a 0600 file for them; tests in
# tests/it/reliability.rs). Root may use it without a password by default.
# Sourced by setup-engine.sh.
if ! command -v sudo >/dev/null 2>&1; then
  log "installing sudo"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends sudo >/dev/null
fi

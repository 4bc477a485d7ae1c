# tmux: a real terminal for tests of attach / exec -it / run -it and their detach keys
# (vendor-docs/run-flags.md, "Detach keys"). Sourced by setup-engine.sh.
if ! command -v tmux >/dev/null 2>&1; then
  log "installing tmux"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends tmux >/dev/null
fi

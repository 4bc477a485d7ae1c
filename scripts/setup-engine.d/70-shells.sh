# shellcheck shell=bash
# Shells the completion tests (issue 17, tests/it/cli.rs) run the generated
# scripts in: bash (always there), zsh and fish. Sourced by
# scripts/setup-engine.sh (which defines `log`); installs only what is missing.
shell_pkgs=()
command -v zsh >/dev/null 2>&1 || shell_pkgs+=(zsh)
command -v fish >/dev/null 2>&1 || shell_pkgs+=(fish)
if [ ${#shell_pkgs[@]} -gt 0 ]; then
  log "installing ${shell_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${shell_pkgs[@]}" >/dev/null
fi
unset shell_pkgs
